//! Runs `chanx-gen inspect DOC --format json` on every AsyncAPI document of the shared corpus and
//! of `specs/`, and checks the outcome: valid documents exit 0; invalid ones exit 1 with at least
//! one error that points at a file, line and column; a spec whose first line is `# expect: <code>`
//! reports that code at a line and column (and exits 1 when the code is an error); the exit code
//! always agrees with the diagnostics' severities; nothing ever panics or exits with another code.
//!
//! Files that are not AsyncAPI documents (fragments that documents reference, such as
//! `social-media/common/*.yaml`) are skipped; Apicurio's `.expected` lists are not YAML or JSON.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use chanx_gen::diagnostics::{Code, Severity};
use common::CorpusKind;
use serde_json::Value;

/// What a document should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Exit 0: no error diagnostics.
    Valid,
    /// Exit 0, with at least one located warning.
    Warned,
    /// Exit 1: at least one located error diagnostic.
    Invalid,
    /// A located diagnostic of this code; exit 1 when the code is an error.
    Reports(Code),
}

#[test]
fn corpus_documents_inspect_as_expected() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let cases = common::corpus_documents(&corpus)
        .into_iter()
        .map(|document| {
            let expect = match document.kind {
                CorpusKind::Valid => Expect::Valid,
                CorpusKind::Warned => Expect::Warned,
                CorpusKind::Invalid => Expect::Invalid,
            };
            (document.path, document.name, expect)
        })
        .collect();
    check_all(cases);
}

/// Specs that name a code on their first line (`specs/invalid/*`, `specs/collision.yaml`) must
/// report it; the others must be valid.
#[test]
fn project_specs_inspect_as_expected() {
    let specs = common::specs_dir();
    let cases: Vec<_> = common::asyncapi_documents(&specs)
        .into_iter()
        .map(|path| {
            let name = common::relative_name(&path, &specs);
            let expect = match common::expected_code(&path) {
                Some(id) => Expect::Reports(
                    Code::ALL
                        .iter()
                        .copied()
                        .find(|code| code.as_str() == id)
                        .unwrap_or_else(|| panic!("{name}: `{id}` is not a diagnostic code")),
                ),
                None => Expect::Valid,
            };
            (path, name, expect)
        })
        .collect();
    for required in ["chat.yaml", "collision.yaml"] {
        assert!(
            cases.iter().any(|(_, name, _)| name == required),
            "specs/{required} was not found under {}",
            specs.display()
        );
    }
    check_all(cases);
}

/// Checks every case and fails once, listing every document that did not behave.
fn check_all(cases: Vec<(PathBuf, String, Expect)>) {
    let total = cases.len();
    let failures: Vec<String> = cases
        .into_iter()
        .filter_map(|(path, name, expect)| {
            check_document(&path, expect)
                .err()
                .map(|why| format!("{name} ({expect:?}): {why}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {total} documents misbehaved:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

/// Runs `chanx-gen inspect PATH --format json` and checks its outcome against `expect`.
fn check_document(path: &Path, expect: Expect) -> Result<(), String> {
    let output = Command::new(env!("CARGO_BIN_EXE_chanx-gen"))
        .arg("inspect")
        .arg(path)
        .args(["--format", "json"])
        .output()
        .map_err(|error| format!("cannot run chanx-gen: {error}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("panicked") {
        return Err(format!("chanx-gen panicked:\n{stderr}"));
    }
    let code = match output.status.code() {
        Some(code @ (0 | 1)) => code,
        _ => return Err(format!("exit status {}; stderr:\n{stderr}", output.status)),
    };
    let report: Value = serde_json::from_slice(&output.stdout)
        .map_err(|error| format!("stdout is not JSON ({error})"))?;
    let diagnostics = report["diagnostics"]
        .as_array()
        .ok_or("the JSON output has no `diagnostics` array")?;
    let has_errors = diagnostics.iter().any(|d| d["severity"] == "error");
    if (code == 1) != has_errors {
        return Err(format!(
            "exit code {code} disagrees with the diagnostics: {}",
            summary(diagnostics)
        ));
    }
    let located = |field: &str, value: &str| {
        diagnostics
            .iter()
            .any(|d| d[field] == value && is_located(d))
    };
    let (exit, must_locate) = match expect {
        Expect::Valid => (0, None),
        Expect::Warned => (0, Some(("severity", "warning"))),
        Expect::Invalid => (1, Some(("severity", "error"))),
        Expect::Reports(wanted) => (
            i32::from(wanted.default_severity() == Severity::Error),
            Some(("code", wanted.as_str())),
        ),
    };
    if code != exit {
        return Err(format!(
            "expected exit {exit}, got {code}: {}",
            summary(diagnostics)
        ));
    }
    match must_locate {
        Some((field, value)) if !located(field, value) => Err(format!(
            "no diagnostic with {field} `{value}` has a file, line and column: {}",
            summary(diagnostics)
        )),
        _ => Ok(()),
    }
}

/// Whether a diagnostic's `location` names a file and a 1-based line and column.
fn is_located(diagnostic: &Value) -> bool {
    let location = &diagnostic["location"];
    let at_least_one = |key: &str| location[key].as_u64().is_some_and(|n| n >= 1);
    location["file"].as_str().is_some_and(|f| !f.is_empty())
        && at_least_one("line")
        && at_least_one("column")
}

/// The diagnostics as `[code] at line:column: message`, for failure messages.
fn summary(diagnostics: &[Value]) -> String {
    if diagnostics.is_empty() {
        return "(no diagnostics)".to_owned();
    }
    diagnostics
        .iter()
        .map(|d| {
            let location = &d["location"];
            format!(
                "[{}] at {}:{}: {}",
                d["code"].as_str().unwrap_or("?"),
                location["line"],
                location["column"],
                d["message"].as_str().unwrap_or("?")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

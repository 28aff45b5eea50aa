//! Every document in `specs/invalid/` shows one mistake. Each must fail with an error, must report
//! the code its first line names (`# expect: <code>`), and every diagnostic must point at a line.
//! Documents in `specs/warnings/` show a problem that does not stop generation: the same, but with no
//! error.

use std::path::{Path, PathBuf};

use chanx_gen::diagnostics::Code;

fn specs_in(folder: &str) -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let mut specs: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", folder.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    specs.sort();
    specs
}

/// The code named by the spec's `# expect: <code>` first line.
fn expected_code(path: &Path) -> Code {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let first = text.lines().next().unwrap_or_default();
    let id = first
        .strip_prefix("# expect:")
        .unwrap_or_else(|| {
            panic!(
                "{}: the first line must be `# expect: <code>`",
                path.display()
            )
        })
        .trim();
    Code::ALL
        .iter()
        .copied()
        .find(|code| code.as_str() == id)
        .unwrap_or_else(|| panic!("{}: `{id}` is not a diagnostic code", path.display()))
}

/// Checks every spec of `folder`: its expected code is reported, every diagnostic has a position, and
/// the document has errors exactly when `fails`.
fn check_folder(folder: &str, fails: bool) {
    let specs = specs_in(folder);
    assert!(!specs.is_empty(), "{folder} is empty");
    let mut failures = Vec::new();
    for path in &specs {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let expected = expected_code(path);
        let analysis = chanx_gen::analyze(path)
            .unwrap_or_else(|e| panic!("cannot analyze {}: {e}", path.display()));
        let found: Vec<Code> = analysis.diagnostics.iter().map(|d| d.code).collect();
        if analysis.has_errors() != fails {
            failures.push(format!(
                "{name}: has_errors() is not {fails} (found {found:?})"
            ));
        }
        if !found.contains(&expected) {
            failures.push(format!("{name}: no `{expected}` (found {found:?})"));
        }
        for diagnostic in analysis.diagnostics.iter() {
            if let Some(loc) = &diagnostic.loc {
                if analysis.sources.locate(loc).is_none() {
                    failures.push(format!("{name}: no position for {diagnostic:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_invalid_spec_fails_with_its_code() {
    check_folder("specs/invalid", true);
}

#[test]
fn every_warning_spec_warns_without_failing() {
    check_folder("specs/warnings", false);
}

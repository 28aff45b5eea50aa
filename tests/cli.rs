//! End-to-end tests of the `chanx-gen` binary: `--help` texts (golden files under
//! `tests/golden/help/`, rewritten with `UPDATE_GOLDEN=1`), exit codes (0 success, 1 the document
//! has errors or the output is stale, 2 usage or I/O error), and `generate`'s file handling: it
//! writes only what changed (a second run writes nothing and leaves modification times alone),
//! never overwrites the behaviour-test scaffold, and `--check` tells fresh from stale output.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use common::golden::{self, check_file};

/// Runs `chanx-gen ARGS` without colours, in the package's folder (so `specs/...` paths work).
fn chanx_gen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chanx-gen"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CLICOLOR_FORCE")
        .env("NO_COLOR", "1")
        .output()
        .expect("run chanx-gen")
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[track_caller]
fn assert_exit(output: &Output, code: i32, what: &str) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{what}: expected exit {code}; {}",
        describe(output)
    );
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("panicked"),
        "{what}: panicked; {}",
        describe(output)
    );
}

/// A fresh, empty folder for one test, under cargo's scratch folder for integration tests.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch folder");
    dir
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

#[test]
fn help_texts_match_their_golden_files() {
    let cases: [(&[&str], &str); 6] = [
        (&["--help"], "chanx-gen.txt"),
        (&["inspect", "--help"], "inspect.txt"),
        (&["generate", "--help"], "generate.txt"),
        (&["check", "--help"], "check.txt"),
        (&["export", "--help"], "export.txt"),
        (&["diff", "--help"], "diff.txt"),
    ];
    let mut problems = Vec::new();
    for (args, file) in cases {
        let output = chanx_gen(args);
        assert_exit(&output, 0, &format!("chanx-gen {}", args.join(" ")));
        assert!(
            output.stderr.is_empty(),
            "chanx-gen {} wrote to stderr; {}",
            args.join(" "),
            describe(&output)
        );
        let text = String::from_utf8(output.stdout).expect("the help is UTF-8");
        if let Err(why) = check_file(&golden::golden_dir().join("help").join(file), &text) {
            problems.push(format!("chanx-gen {}: {why}", args.join(" ")));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n\nrefresh with `UPDATE_GOLDEN=1 cargo test --test cli`, then review `git diff \
         tests/golden/help`",
        problems.join("\n\n")
    );
}

#[test]
fn inspect_exit_codes() {
    assert_exit(
        &chanx_gen(&["inspect", "specs/chat.yaml"]),
        0,
        "a valid spec",
    );
    let invalid: Vec<_> = common::project_specs()
        .into_iter()
        .filter(|spec| spec.name.starts_with("invalid/"))
        .collect();
    assert!(!invalid.is_empty(), "no spec under specs/invalid/");
    for spec in invalid {
        let output = chanx_gen(&["inspect", path_arg(&spec.path)]);
        assert_exit(&output, 1, &format!("specs/{}", spec.name));
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("error"),
            "specs/{}: no diagnostic on stderr; {}",
            spec.name,
            describe(&output)
        );
    }
    let missing = chanx_gen(&["inspect", "specs/does-not-exist.yaml"]);
    assert_exit(&missing, 2, "a missing file");
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("does-not-exist.yaml"),
        "the error does not name the missing file; {}",
        describe(&missing)
    );
    assert_exit(
        &chanx_gen(&["inspect", "--no-such-flag", "specs/chat.yaml"]),
        2,
        "an unknown flag",
    );
    assert_exit(
        &chanx_gen(&["inspect", "specs/chat.yaml", "--format", "yaml"]),
        2,
        "a bad --format value",
    );
    assert_exit(&chanx_gen(&["no-such-command"]), 2, "an unknown command");
    assert_exit(&chanx_gen(&[]), 2, "no command");
}

#[test]
fn generate_writes_only_what_changed_and_check_detects_drift() {
    let out = scratch_dir("generate");
    let out_arg = path_arg(&out);
    let first = chanx_gen(&["generate", "specs/chat.yaml", "-o", out_arg]);
    assert_exit(&first, 0, "the first generate");
    let files = list_files(&out);
    for expected in [
        "mod.rs",
        "types.rs",
        "chat.rs",
        "contract_tests.rs",
        "behaviour_tests.rs",
    ] {
        assert!(
            files.iter().any(|f| f.ends_with(expected)),
            "{expected} was not written: {files:?}"
        );
    }
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        stderr.contains(&format!("{} file(s) written", files.len())),
        "the first run should report {} files written; {}",
        files.len(),
        describe(&first)
    );

    // Backdate every file, so that a rewrite (even within the clock's resolution) shows.
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    for file in &files {
        std::fs::File::options()
            .write(true)
            .open(file)
            .and_then(|f| f.set_modified(old))
            .expect("backdate a generated file");
    }
    let second = chanx_gen(&["generate", "specs/chat.yaml", "-o", out_arg]);
    assert_exit(&second, 0, "the second generate");
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("0 file(s) written"),
        "the second run should write nothing; {}",
        describe(&second)
    );
    for file in &files {
        let modified = std::fs::metadata(file).and_then(|m| m.modified()).unwrap();
        assert_eq!(modified, old, "{} was rewritten", file.display());
    }

    let check = |what: &str, code: i32| {
        let output = chanx_gen(&["generate", "specs/chat.yaml", "-o", out_arg, "--check"]);
        assert_exit(&output, code, what);
        output
    };
    check("--check on fresh output", 0);

    // The behaviour-test scaffold is the user's: edits to it are neither stale nor overwritten.
    let scaffold = out.join("behaviour_tests.rs");
    let mut edited = std::fs::read_to_string(&scaffold).unwrap();
    edited.push_str("\n// my own test\n");
    std::fs::write(&scaffold, &edited).unwrap();
    check("--check with an edited scaffold", 0);

    let types = out.join("types.rs");
    let original = std::fs::read_to_string(&types).unwrap();
    std::fs::write(&types, original.replace("pub struct", "pub  struct")).unwrap();
    let stale = check("--check after an edit", 1);
    assert!(
        String::from_utf8_lossy(&stale.stderr).contains("types.rs"),
        "--check does not name the stale file; {}",
        describe(&stale)
    );
    assert_ne!(
        std::fs::read_to_string(&types).unwrap(),
        original,
        "--check wrote the file"
    );

    let third = chanx_gen(&["generate", "specs/chat.yaml", "-o", out_arg]);
    assert_exit(&third, 0, "generate after an edit");
    assert!(
        String::from_utf8_lossy(&third.stderr).contains("1 file(s) written"),
        "only the edited file should be rewritten; {}",
        describe(&third)
    );
    assert_eq!(std::fs::read_to_string(&types).unwrap(), original);
    assert_eq!(
        std::fs::read_to_string(&scaffold).unwrap(),
        edited,
        "the scaffold was overwritten"
    );
    check("--check after regenerating", 0);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn generate_rejects_an_invalid_spec() {
    let out = scratch_dir("invalid");
    let target = out.join("api");
    for check in [false, true] {
        let mut args = vec![
            "generate",
            "specs/invalid/ref-dangling.yaml",
            "-o",
            path_arg(&target),
        ];
        if check {
            args.push("--check");
        }
        let output = chanx_gen(&args);
        let what = format!(
            "generate{} of an invalid spec",
            if check { " --check" } else { "" }
        );
        assert_exit(&output, 1, &what);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("error[ref-unresolved]") && stderr.contains("ref-dangling.yaml:"),
            "{what}: the diagnostic (code and location) is not on stderr; {}",
            describe(&output)
        );
        assert!(!target.exists(), "{what}: wrote {}", target.display());
    }
    assert_exit(
        &chanx_gen(&[
            "generate",
            "specs/does-not-exist.yaml",
            "-o",
            path_arg(&target),
        ]),
        2,
        "generate of a missing file",
    );
    assert_exit(
        &chanx_gen(&["generate", "specs/chat.yaml"]),
        2,
        "generate without --output",
    );
    let _ = std::fs::remove_dir_all(&out);
}

fn list_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list the output")
        .map(|entry| entry.expect("list the output").path())
        .collect();
    files.sort();
    files
}

#[test]
fn check_exit_codes() {
    let clean = chanx_gen(&[
        "check",
        "specs/chat.yaml",
        "--generated",
        "generated-examples/chat/src/api",
        "--src",
        "generated-examples/chat/src",
    ]);
    assert_exit(&clean, 0, "check of the chat example");
    assert!(String::from_utf8_lossy(&clean.stdout).contains("0 error(s), 0 warning(s)"));
    let json = chanx_gen(&[
        "check",
        "specs/chat.yaml",
        "--generated",
        "generated-examples/chat/src/api",
        "--format",
        "json",
    ]);
    assert_exit(&json, 0, "check --format json");
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON on stdout");
    assert_eq!(value["findings"], serde_json::json!([]));
    // The notifications module is not what chat.yaml generates: findings, exit 1.
    let wrong = chanx_gen(&[
        "check",
        "specs/chat.yaml",
        "--generated",
        "generated-examples/notifications/src/api",
    ]);
    assert_exit(&wrong, 1, "check against another spec's module");
    assert!(String::from_utf8_lossy(&wrong.stdout).contains("error[stale-file]"));
    // Only errors deny: still 1 (stale files are errors).
    let deny = chanx_gen(&[
        "check",
        "specs/chat.yaml",
        "--generated",
        "generated-examples/notifications/src/api",
        "--deny",
        "error",
    ]);
    assert_exit(&deny, 1, "check --deny error");
    let missing = chanx_gen(&["check", "specs/chat.yaml", "--generated", "no/such/dir"]);
    assert_exit(&missing, 2, "check of a missing folder");
}

#[test]
fn diff_exit_codes() {
    let same = chanx_gen(&[
        "diff",
        "specs/diff/base.yaml",
        "specs/diff/reordered-renamed.yaml",
    ]);
    assert_exit(&same, 0, "diff without change");
    let compatible = chanx_gen(&[
        "diff",
        "specs/diff/base.yaml",
        "specs/diff/add-optional-client-field.yaml",
    ]);
    assert_exit(&compatible, 0, "diff with a compatible change");
    let breaking = chanx_gen(&[
        "diff",
        "specs/diff/base.yaml",
        "specs/diff/remove-action.yaml",
        "--format",
        "json",
    ]);
    assert_exit(&breaking, 1, "diff with a breaking change");
    let value: serde_json::Value = serde_json::from_slice(&breaking.stdout).expect("JSON");
    assert!(value["changes"].as_array().is_some_and(|c| !c.is_empty()));
    let bad = chanx_gen(&["diff", "specs/diff/base.yaml", "no/such.yaml"]);
    assert_exit(&bad, 2, "diff of a missing file");
}

#[test]
fn export_writes_a_document_that_generates_again() {
    let dir = scratch_dir("export");
    let out = dir.join("chat.json");
    let export = chanx_gen(&[
        "export",
        "generated-examples/chat/src/api",
        "-o",
        path_arg(&out),
    ]);
    assert_exit(&export, 0, "export of the chat example");
    let check = chanx_gen(&[
        "diff",
        "specs/chat.yaml",
        path_arg(&out),
        "--format",
        "json",
    ]);
    let value: serde_json::Value = serde_json::from_slice(&check.stdout).expect("JSON");
    // `format: uri` has no Rust type, so the code does not keep it (README: lossy constructs);
    // nothing else may change.
    for change in value["changes"].as_array().expect("changes") {
        let message = change["message"].as_str().unwrap_or_default();
        assert!(
            change["kind"] == "constraint-changed" && message.starts_with("`format`"),
            "export changed the wire: {}",
            describe(&check)
        );
    }
    let bad = chanx_gen(&["export", "no/such/dir", "-o", path_arg(&out)]);
    assert_exit(&bad, 2, "export of a missing folder");
}

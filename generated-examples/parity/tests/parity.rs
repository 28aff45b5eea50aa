//! Parity with Chanx 2.13, over real sockets: the Chanx app `tests/parity/app.py` (under uvicorn)
//! and this crate's server (`chanx-example-parity`, generated from the document that app exports)
//! are driven by the same Python script and must answer the same, frame for frame.
//!
//! * `spec_is_what_the_app_exports`: `specs/parity.json` is what Chanx exports for the app today.
//! * `rust_server_is_indistinguishable_from_chanx`: `tests/parity/driver.py` (plain `websockets`)
//!   plays its script against both servers; every frame (parsed, and as exact text) and every
//!   close code must be equal.
//! * `single_steps_fixture_is_what_chanx_answers`: `tests/parity/single-steps.json`, the fixture
//!   `chanx-gen`'s mock test replays, is still what Chanx answers.
//! * `chanx_generated_client_talks_to_the_rust_server`: the client `chanx generate-client` makes
//!   from the document sends typed requests to both servers and gets the same typed replies.
//!
//! They need the Python environment of `scripts/python-env.sh` in `$CHANX_PYTHON`. Without it (or
//! when a process cannot be started) a test prints why and returns, unless `CI` is set: then it
//! fails. Every child process is killed when its guard is dropped, and every wait is bounded.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use common::{
    Running, one_server_test_at_a_time, parity_dir, python, repo_root, run, start_chanx,
    start_rust, unavailable,
};

/// Runs a script of `tests/parity/` with `args`, returning its stdout as JSON.
fn python_json(python: &Path, script: &str, args: &[&str]) -> Value {
    let mut command = Command::new(python);
    command.arg(parity_dir().join(script)).args(args);
    let finished = run(command, Duration::from_secs(120)).unwrap_or_else(|error| panic!("{error}"));
    assert!(
        finished.success,
        "{script} {args:?} failed:\n{}",
        finished.stderr
    );
    serde_json::from_str(&finished.stdout).unwrap_or_else(|error| {
        panic!(
            "{script} printed no JSON ({error}):\n{}\n{}",
            finished.stdout, finished.stderr
        )
    })
}

/// Both servers, or `None` (reported through [`unavailable`]) if one cannot start.
fn start_both(python: &Path) -> Option<(Running, Running)> {
    let started = start_chanx(python).and_then(|chanx| Ok((chanx, start_rust()?)));
    match started {
        Ok(both) => Some(both),
        Err(reason) => {
            unavailable(&reason);
            None
        }
    }
}

#[test]
fn spec_is_what_the_app_exports() {
    let Some(python) = python() else { return };
    let mut command = Command::new(&python);
    command.arg(parity_dir().join("export.py"));
    let exported = match run(command, Duration::from_secs(60)) {
        Ok(finished) if finished.success => finished.stdout,
        Ok(finished) => panic!("export.py failed:\n{}", finished.stderr),
        Err(reason) => return unavailable(&reason),
    };
    let committed = std::fs::read_to_string(repo_root().join("specs/parity.json"))
        .expect("read specs/parity.json");
    assert!(
        exported.trim_end() == committed.trim_end(),
        "specs/parity.json is not what Chanx exports for tests/parity/app.py; refresh it with\n  \
         $CHANX_PYTHON tests/parity/export.py > specs/parity.json\nand regenerate the example \
         (UPDATE_GENERATED=1 cargo test --test generated_examples)"
    );
}

/// `tests/parity/single-steps.json` is what Chanx answers today to each one-frame step of the
/// script (`driver.py --single`); `tests/mock.rs` of `chanx-gen` replays those requests against
/// `chanx-gen mock` and expects the same error frames.
#[test]
fn single_steps_fixture_is_what_chanx_answers() {
    let _alone = one_server_test_at_a_time();
    let Some(python) = python() else { return };
    let chanx = match start_chanx(&python) {
        Ok(chanx) => chanx,
        Err(reason) => return unavailable(&reason),
    };
    let live = python_json(&python, "driver.py", &[&chanx.url, "--single"]);
    let path = parity_dir().join("single-steps.json");
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).expect("read tests/parity/single-steps.json"),
    )
    .expect("tests/parity/single-steps.json is JSON");
    assert!(
        live == committed,
        "tests/parity/single-steps.json is not what Chanx answers now; refresh it with\n  \
         $CHANX_PYTHON tests/parity/driver.py ws://127.0.0.1:PORT --single > tests/parity/single-steps.json\n\
         against the app under uvicorn"
    );
}

/// The steps of one recording, by name.
fn steps(recording: &Value) -> Vec<(&str, &Value)> {
    recording["steps"]
        .as_array()
        .expect("a recording has steps")
        .iter()
        .map(|step| (step["name"].as_str().expect("a step has a name"), step))
        .collect()
}

/// The steps where the two recordings differ: parsed frames, close codes or exact text.
fn differing<'a>(chanx: &'a Value, rust: &'a Value) -> Vec<(&'a str, &'a Value, &'a Value)> {
    let (chanx, rust) = (steps(chanx), steps(rust));
    assert_eq!(
        chanx.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        rust.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        "both runs play the same script"
    );
    chanx
        .into_iter()
        .zip(rust)
        .filter(|((_, ours), (_, theirs))| {
            ours["frames"] != theirs["frames"]
                || ours["close"] != theirs["close"]
                || ours["raw"] != theirs["raw"]
        })
        .map(|((name, ours), (_, theirs))| (name, ours, theirs))
        .collect()
}

/// Plays the driver against both servers: (Chanx's recording, the Rust server's recording).
fn record_both() -> Option<(Value, Value)> {
    let python = python()?;
    let (chanx, rust) = start_both(&python)?;
    let chanx_run = python_json(&python, "driver.py", &[&chanx.url]);
    let rust_run = python_json(&python, "driver.py", &[&rust.url]);
    Some((chanx_run, rust_run))
}

fn show(step: &Value) -> String {
    format!("frames {} close {}", step["raw"], step["close"])
}

#[test]
fn rust_server_is_indistinguishable_from_chanx() {
    let _alone = one_server_test_at_a_time();
    let Some((chanx, rust)) = record_both() else {
        return;
    };
    let total = steps(&chanx).len();
    assert!(total > 70, "the script has {total} steps");
    // The script itself is checked against what Chanx does, so that a broken script cannot
    // make the two servers agree on nothing.
    let chanx_steps = steps(&chanx);
    let first = |name: &str| {
        chanx_steps
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, step)| *step)
            .unwrap_or_else(|| panic!("no step {name:?}"))
    };
    assert_eq!(first("connect: no token")["close"]["code"], 4401);
    assert_eq!(first("connect: unknown token")["close"]["code"], 4403);
    assert_eq!(
        first("ping with ref")["raw"]["a"][0],
        r#"{"action": "pong", "payload": null, "version": 1, "ref": "p-1"}"#
    );
    assert_eq!(first("say to the room")["frames"]["b"][0]["action"], "said");
    assert_eq!(
        first("announce through the layer")["frames"]["b"][0]["action"],
        "announcement"
    );

    let different: Vec<String> = differing(&chanx, &rust)
        .into_iter()
        .map(|(name, ours, theirs)| {
            format!(
                "{name:?}\n  chanx: {}\n  rust:  {}",
                show(ours),
                show(theirs)
            )
        })
        .collect();
    assert!(
        different.is_empty(),
        "the Rust server answers differently from Chanx:\n{}",
        different.join("\n")
    );
    eprintln!("{total} of {total} steps identical (frames, exact text, close codes)");
}

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn chanx_generated_client_talks_to_the_rust_server() {
    let _alone = one_server_test_at_a_time();
    let Some(python) = python() else { return };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = TempDir(std::env::temp_dir().join(format!(
        "chanx-parity-client-{}-{nanos}",
        std::process::id()
    )));
    let mut generate = Command::new(&python);
    generate
        .args([
            "-c",
            "import sys; from chanx.cli.main import cli; sys.exit(cli())",
        ])
        .args(["generate-client", "--no-format", "--schema"])
        .arg(repo_root().join("specs/parity.json"))
        .arg("--output")
        .arg(dir.0.join("parity_client"));
    match run(generate, Duration::from_secs(60)) {
        Ok(finished) => assert!(
            finished.success,
            "chanx generate-client failed:\n{}{}",
            finished.stdout, finished.stderr
        ),
        Err(reason) => return unavailable(&reason),
    }
    assert!(dir.0.join("parity_client/parity/client.py").is_file());

    let Some((chanx, rust)) = start_both(&python) else {
        return;
    };
    let client_dir = dir.0.to_str().expect("a UTF-8 temporary path");
    let from_rust = python_json(&python, "client_check.py", &[client_dir, &rust.url]);
    let from_chanx = python_json(&python, "client_check.py", &[client_dir, &chanx.url]);

    // The typed replies, as the generated client validated them.
    let typed = |seen: &Value| -> Vec<String> {
        let mut frames: Vec<String> = seen
            .as_array()
            .expect("client_check prints a list")
            .iter()
            .map(|item| item.to_string())
            .collect();
        // Requests are pipelined and each is handled in its own task (by Chanx too), so the
        // order of their replies is not part of the protocol.
        frames.sort();
        frames
    };
    assert_eq!(typed(&from_rust), typed(&from_chanx));
    let names: Vec<&str> = from_rust
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|item| item[0].as_str())
        .collect();
    for expected in ["Welcome", "PongMessage", "EchoReply", "Registered"] {
        assert!(
            names.contains(&expected),
            "the generated client got no {expected} from the Rust server: {from_rust}"
        );
    }
    let echo = from_rust
        .as_array()
        .expect("a list")
        .iter()
        .find(|item| item[0] == "EchoReply")
        .expect("an EchoReply");
    assert_eq!(echo[1]["payload"]["text"], "typed typed");
}

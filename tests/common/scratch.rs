//! Scratch Cargo workspaces under the target directory, for the tests that compile generated code
//! (`generate_corpus.rs`, `compile_fail.rs`): write the crates, run one `cargo check` over all of
//! them, and read its JSON messages back per crate.
//!
//! The nested `cargo check` uses the main workspace's target directory, so the runtime's
//! dependencies are checked once and shared with `cargo check`/`clippy` of the workspace. Running it
//! from inside `cargo test` does not deadlock: cargo releases the build-directory lock when
//! compilation ends, before it runs the test binaries (tried with cargo 1.95: the nested check
//! starts at once). When another cargo holds the lock, the nested one waits for it, as any build
//! does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The main workspace's target directory: the directory above the running test binary that holds
/// cargo's `CACHEDIR.TAG` (so `CARGO_TARGET_DIR`, `--target-dir` and `--target` are all honoured),
/// else `$CARGO_TARGET_DIR`, else `<manifest dir>/target`.
pub fn target_dir() -> PathBuf {
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors()
            .find(|dir| dir.join("CACHEDIR.TAG").is_file())
            .map(Path::to_owned)
    });
    from_exe
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// The `runtime/` crate, absolute.
pub fn runtime_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime")
}

/// One crate of a scratch workspace.
#[derive(Debug, Clone)]
pub struct ScratchCrate {
    /// Its package name (also its folder under `crates/`); unique in the workspace.
    pub package: String,
    /// What it was made from, for messages (`specs/chat.yaml`).
    pub label: String,
    /// Its files other than `Cargo.toml`, by path relative to the crate (`src/lib.rs`).
    pub files: Vec<(PathBuf, String)>,
    /// Its Rust edition (`2021`, `2024`).
    pub edition: &'static str,
}

impl ScratchCrate {
    /// The crate's library name, as rustc knows it.
    pub fn crate_name(&self) -> String {
        self.package.replace('-', "_")
    }

    fn manifest(&self) -> String {
        format!(
            "# Written by the chanx-gen tests for {label}; rewritten on every run.\n\
             [package]\n\
             name = \"{package}\"\n\
             version = \"0.0.0\"\n\
             edition = \"{edition}\"\n\
             publish = false\n\
             \n\
             [dependencies]\n\
             chanx-runtime = {{ path = {runtime:?} }}\n",
            label = self.label.replace('\n', " "),
            package = self.package,
            edition = self.edition,
            runtime = runtime_dir().display().to_string(),
        )
    }
}

/// A package name made of `[a-z0-9-]` from `text`.
pub fn package_name(text: &str) -> String {
    let mut name = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    name.trim_matches('-').to_owned()
}

/// Writes the workspace at `root`: a `Cargo.toml` whose members are `crates/*`, the main
/// workspace's `Cargo.lock` (so the same versions are used, and their artifacts shared), and one
/// folder per crate. Only files whose contents changed are written, so that an unchanged crate stays
/// fresh for cargo; files and crates that are no longer wanted are removed.
pub fn write_workspace(root: &Path, crates: &[ScratchCrate]) {
    let mut packages = BTreeSet::new();
    for krate in crates {
        assert!(
            packages.insert(krate.crate_name()),
            "two scratch crates are named `{}`",
            krate.package
        );
    }
    write_if_changed(
        &root.join("Cargo.toml"),
        "# Scratch workspace of the chanx-gen tests; rewritten on every run.\n\
         [workspace]\n\
         resolver = \"3\"\n\
         members = [\"crates/*\"]\n",
    );
    let lock = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"))
        .expect("read the workspace's Cargo.lock");
    write_if_changed(&root.join("Cargo.lock"), &lock);
    let crates_dir = root.join("crates");
    std::fs::create_dir_all(&crates_dir).expect("create the scratch crates folder");
    for entry in std::fs::read_dir(&crates_dir).expect("list the scratch crates") {
        let path = entry.expect("list the scratch crates").path();
        let keep = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|name| crates.iter().any(|c| c.package == name));
        if !keep {
            remove(&path);
        }
    }
    for krate in crates {
        let dir = crates_dir.join(&krate.package);
        let mut wanted: BTreeSet<PathBuf> = BTreeSet::new();
        write_if_changed(&dir.join("Cargo.toml"), &krate.manifest());
        wanted.insert(dir.join("Cargo.toml"));
        for (path, contents) in &krate.files {
            write_if_changed(&dir.join(path), contents);
            wanted.insert(dir.join(path));
        }
        for existing in files_under(&dir) {
            if !wanted.contains(&existing) {
                remove(&existing);
            }
        }
    }
}

fn write_if_changed(path: &Path, contents: &str) {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return;
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|error| panic!("cannot create {}: {error}", parent.display()));
    }
    std::fs::write(path, contents)
        .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
}

fn remove(path: &Path) {
    let result = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    result.unwrap_or_else(|error| panic!("cannot remove {}: {error}", path.display()));
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// One diagnostic of rustc, from cargo's JSON messages.
#[derive(Debug, Clone)]
pub struct CompilerMessage {
    /// `error`, `warning`, ...
    pub level: String,
    /// The error code (`E0046`), when there is one.
    pub code: Option<String>,
    /// The main message.
    pub message: String,
    /// The text rustc would print.
    pub rendered: String,
}

/// What the nested `cargo check` said about one crate.
#[derive(Debug, Clone, Default)]
pub struct CrateOutcome {
    /// The units that were checked (or found fresh): `lib`, `lib test`.
    pub units: BTreeSet<String>,
    /// Its errors and warnings, each once (the summaries "aborting due to" and "N warnings
    /// emitted" left out).
    pub messages: Vec<CompilerMessage>,
}

impl CrateOutcome {
    /// The messages of `level`.
    pub fn of_level<'a>(&'a self, level: &'a str) -> impl Iterator<Item = &'a CompilerMessage> {
        self.messages.iter().filter(move |m| m.level == level)
    }

    /// Whether `units` were all checked, with no error and no warning.
    pub fn is_clean(&self, units: &[&str]) -> bool {
        units.iter().all(|unit| self.units.contains(*unit)) && self.messages.is_empty()
    }
}

/// The outcome of a nested `cargo check` or `cargo doc`.
#[derive(Debug)]
pub struct CheckReport {
    /// Whether cargo exited successfully.
    pub success: bool,
    /// Per crate name (`ScratchCrate::crate_name`), what rustc said.
    pub crates: BTreeMap<String, CrateOutcome>,
    /// cargo's own output (progress, its errors).
    pub stderr: String,
    /// How long it took.
    pub elapsed: Duration,
}

/// Runs `cargo check --workspace --lib --tests --offline --keep-going` on the workspace at `root`,
/// with the main workspace's target directory.
pub fn cargo_check(root: &Path) -> CheckReport {
    cargo_report(root, &["check", "--workspace", "--lib", "--tests"])
}

/// Runs `cargo doc --workspace --no-deps --offline --keep-going` on the workspace at `root` (after
/// [`cargo_check`], which built what it needs): rustdoc's warnings about the generated docs (bare
/// URLs, HTML tags, broken or ambiguous links) are in the report.
pub fn cargo_doc(root: &Path) -> CheckReport {
    cargo_report(root, &["doc", "--workspace", "--no-deps"])
}

/// Runs cargo with `command` (offline, `--keep-going`, JSON messages) on the workspace at `root`
/// and collects what the compiler said, per crate.
fn cargo_report(root: &Path, command: &[&str]) -> CheckReport {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = Instant::now();
    let output = Command::new(cargo)
        .args(command)
        .args([
            "--offline",
            "--keep-going",
            "--message-format=json",
            "--manifest-path",
        ])
        .arg(root.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_TERM_COLOR", "never")
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .expect("run cargo");
    let elapsed = started.elapsed();
    let mut crates: BTreeMap<String, CrateOutcome> = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(name) = message["target"]["name"].as_str() else {
            continue;
        };
        match message["reason"].as_str() {
            Some("compiler-artifact") => {
                let unit = if message["profile"]["test"] == true {
                    "lib test"
                } else {
                    "lib"
                };
                let kinds = message["target"]["kind"].as_array();
                if kinds.is_some_and(|k| k.iter().any(|k| k == "lib")) {
                    crates
                        .entry(name.to_owned())
                        .or_default()
                        .units
                        .insert(unit.to_owned());
                }
            }
            Some("compiler-message") => {
                let diagnostic = &message["message"];
                let text = diagnostic["message"].as_str().unwrap_or_default();
                let summary = diagnostic["spans"].as_array().is_some_and(Vec::is_empty)
                    && (text.starts_with("aborting due to")
                        || text.ends_with("warning emitted")
                        || text.ends_with("warnings emitted")
                        || text.starts_with("Some errors have detailed explanations")
                        || text.starts_with("For more information about"));
                if summary {
                    continue;
                }
                let message = CompilerMessage {
                    level: diagnostic["level"].as_str().unwrap_or("?").to_owned(),
                    code: diagnostic["code"]["code"].as_str().map(str::to_owned),
                    message: text.to_owned(),
                    rendered: diagnostic["rendered"]
                        .as_str()
                        .unwrap_or(text)
                        .trim_end()
                        .to_owned(),
                };
                // The `lib` and `lib test` units report the same problem in shared code once each.
                let messages = &mut crates.entry(name.to_owned()).or_default().messages;
                if !messages
                    .iter()
                    .any(|m| m.level == message.level && m.rendered == message.rendered)
                {
                    messages.push(message);
                }
            }
            _ => {}
        }
    }
    CheckReport {
        success: output.status.success(),
        crates,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed,
    }
}

impl CheckReport {
    /// What cargo said about the crate named `crate_name`.
    pub fn outcome(&self, crate_name: &str) -> CrateOutcome {
        self.crates.get(crate_name).cloned().unwrap_or_default()
    }

    /// The diagnostics of every crate not in `ours` (the runtime, say), rendered.
    pub fn foreign_messages(&self, ours: &BTreeSet<String>) -> Vec<String> {
        self.crates
            .iter()
            .filter(|(name, _)| !ours.contains(*name))
            .flat_map(|(name, outcome)| {
                outcome
                    .messages
                    .iter()
                    .map(move |m| format!("[{name}] {}", m.rendered))
            })
            .collect()
    }

    /// The last lines of cargo's stderr, for failure messages.
    pub fn stderr_tail(&self, lines: usize) -> String {
        let all: Vec<&str> = self.stderr.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

//! Helpers shared by the integration tests: where the shared corpus and the project's specs are,
//! and which files in them are AsyncAPI documents.
//!
//! Each test crate compiles this module on its own (`mod common;`) and uses a part of it, so unused
//! items are expected, and `pub` items are reachable from that crate only.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

/// The variable that points the tests at the shared corpus of real AsyncAPI documents.
pub const CORPUS_VAR: &str = "CHANX_CORPUS";

/// The shared corpus named by `$CHANX_CORPUS`, for a test that needs it.
///
/// When the variable is unset, the test cannot run: under CI (`CI` set) this panics, so a broken CI
/// setup fails loudly; elsewhere it prints why the test is skipped to stderr and returns `None`,
/// and the test returns. A variable that names no directory always panics.
pub fn corpus_dir() -> Option<PathBuf> {
    if let Some(dir) = configured_corpus() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{CORPUS_VAR} must be set under CI (scripts/test.sh sets it to ../shared/corpus when that \
         exists)"
    );
    eprintln!(
        "skipped: {CORPUS_VAR} is not set; point it at the shared corpus (scripts/test.sh does) to \
         run this test"
    );
    None
}

/// The shared corpus when `$CHANX_CORPUS` is set, for a test that only uses it when it is there.
/// Panics when the variable names no directory.
pub fn configured_corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os(CORPUS_VAR)?);
    assert!(
        dir.is_dir(),
        "{CORPUS_VAR}={} is not a directory",
        dir.display()
    );
    Some(dir)
}

/// The project's `specs/` folder.
pub fn specs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs")
}

/// Every `.yml`, `.yaml` and `.json` file under `dir`, recursively, in sorted order.
pub fn document_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yml" | "yaml" | "json")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Whether `path` is an AsyncAPI document (it has a top-level `asyncapi` key) rather than a
/// fragment that documents reference (`common/schemas.yaml`).
///
/// Decided from the text, independently of the code under test: a JSON file's top-level object has
/// the key; a YAML file has a line that starts (at column 0) with the key. A file that cannot be
/// read as text counts as a document, so that the test that runs it reports it.
pub fn is_asyncapi_document(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return true;
    };
    if path.extension().is_some_and(|e| e == "json") {
        return match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(value) => value.get("asyncapi").is_some(),
            Err(_) => true,
        };
    }
    text.lines().any(|line| {
        ["asyncapi", "\"asyncapi\"", "'asyncapi'"]
            .iter()
            .any(|key| {
                line.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
            })
    })
}

/// `path` relative to `base`, with `/` separators, for messages and for matching lists of files.
pub fn relative_name(path: &Path, base: &Path) -> String {
    let relative = path.strip_prefix(base).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The diagnostic code a spec names on its first line, `# expect: <code>`: the code it exists to
/// trigger.
pub fn expected_code(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let first = text.lines().next()?;
    Some(first.strip_prefix("# expect:")?.trim().to_owned())
}

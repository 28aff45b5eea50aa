//! What unit tests share.

use std::path::PathBuf;

/// Every file under `specs/` and, when `$CHANX_CORPUS` is set, under the shared corpus (which CI
/// must set), in no particular order.
pub(crate) fn spec_and_corpus_files() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("specs")];
    match std::env::var_os("CHANX_CORPUS") {
        Some(corpus) => dirs.push(corpus.into()),
        None => assert!(
            std::env::var_os("CI").is_none(),
            "CHANX_CORPUS must be set under CI"
        ),
    }
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("list a folder") {
            let path = entry.expect("list a folder").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

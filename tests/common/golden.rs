//! Golden files under `tests/golden/`: compare text with a checked-in file byte for byte, show the
//! first differing lines, and rewrite the file instead when `UPDATE_GOLDEN=1`.

use std::path::{Path, PathBuf};

/// The variable that makes the golden tests rewrite their files instead of comparing.
pub const UPDATE_VAR: &str = "UPDATE_GOLDEN";

/// `tests/golden/`.
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Whether `UPDATE_GOLDEN` is set (to anything but `0` or nothing).
pub fn updating() -> bool {
    std::env::var_os(UPDATE_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Compares `actual` with the golden file at `path`. When updating, writes `actual` there if it
/// differs (and says so on stderr) and returns `Ok`; otherwise returns a description of the
/// difference.
pub fn check_file(path: &Path, actual: &str) -> Result<(), String> {
    let expected = std::fs::read_to_string(path).ok();
    if expected.as_deref() == Some(actual) {
        return Ok(());
    }
    if updating() {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|error| panic!("cannot create {}: {error}", parent.display()));
        }
        std::fs::write(path, actual)
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
        eprintln!("updated {}", path.display());
        return Ok(());
    }
    Err(match expected {
        None => format!(
            "{}: missing (the new text has {} lines)",
            path.display(),
            actual.lines().count()
        ),
        Some(expected) => format!("{}: differs\n{}", path.display(), diff(&expected, actual)),
    })
}

/// A unified-style hunk of the lines between the first and the last difference of `expected`
/// (`-`) and `actual` (`+`), with 3 lines of context, each side cut after 25 lines.
pub fn diff(expected: &str, actual: &str) -> String {
    const CONTEXT: usize = 3;
    const MAX: usize = 25;
    let old: Vec<&str> = expected.lines().collect();
    let new: Vec<&str> = actual.lines().collect();
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    if prefix == old.len() && prefix == new.len() {
        return "  (the lines are equal; the line endings or the final newline differ)".to_owned();
    }
    let start = prefix.saturating_sub(CONTEXT);
    let trailing = suffix.min(CONTEXT);
    let mut out = format!(
        "@@ -{},{} +{},{} @@ (golden `-`, generated `+`)\n",
        start + 1,
        old.len() - suffix + trailing - start,
        start + 1,
        new.len() - suffix + trailing - start
    );
    for line in &old[start..prefix] {
        out.push_str(&format!(" {line}\n"));
    }
    for (sign, lines) in [
        ('-', &old[prefix..old.len() - suffix]),
        ('+', &new[prefix..new.len() - suffix]),
    ] {
        for line in lines.iter().take(MAX) {
            out.push_str(&format!("{sign}{line}\n"));
        }
        if lines.len() > MAX {
            out.push_str(&format!("{sign}... ({} more lines)\n", lines.len() - MAX));
        }
    }
    for line in &new[new.len() - suffix..new.len() - suffix + trailing] {
        out.push_str(&format!(" {line}\n"));
    }
    out
}

//! Golden files: the module `chanx-gen generate` writes for every spec of `specs/` that generates is
//! checked in under `tests/golden/<spec>/` (`<spec>` is the path under `specs/` without its
//! extension, `/` replaced by `-`), and this test regenerates each spec in memory and compares it
//! with them byte for byte: same files, same bytes, no extra files, no stale spec folders. The
//! crate's `src/lib.rs` (which includes every golden module) is golden too.
//!
//! `tests/golden/` is the workspace member `chanx-gen-golden`, so `cargo build/clippy/test
//! --workspace` compiles the golden modules against `chanx-runtime` and runs their generated
//! contract tests.
//!
//! Refresh after an intended change of the output: `UPDATE_GOLDEN=1 cargo test --test golden`, then
//! review `git diff tests/golden`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::ProjectSpec;
use common::golden::{self, check_file, updating};

/// Folders and files of `tests/golden/` that are not the output of a spec.
const NOT_SPECS: &[&str] = &["Cargo.toml", "src", "help"];

const REFRESH: &str = "refresh with `UPDATE_GOLDEN=1 cargo test --test golden`, then review \
                       `git diff tests/golden`";

#[test]
fn golden_files_match_the_generator() {
    // `specs/diff/` holds small variations of one document for `chanx-gen diff`; their generated
    // code is the base's with one change, so they get no goldens (they still compile in
    // tests/generate_corpus.rs).
    let specs: Vec<ProjectSpec> = common::project_specs()
        .into_iter()
        .filter(ProjectSpec::generates)
        .filter(|s| !s.name.starts_with("diff/"))
        .collect();
    for required in ["chat.yaml", "hostile.yaml"] {
        assert!(
            specs.iter().any(|s| s.name == required),
            "specs/{required} does not generate"
        );
    }
    let root = golden::golden_dir();
    let mut problems = Vec::new();
    let mut spec_dirs = BTreeSet::new();
    for spec in &specs {
        let generated = match chanx_gen::generate(&spec.path, &chanx_gen::render::Settings::new()) {
            Ok(generated) => generated,
            Err(error) => {
                problems.push(format!("specs/{}: cannot generate: {error:?}", spec.name));
                continue;
            }
        };
        let dir = root.join(spec.stem());
        spec_dirs.insert(spec.stem());
        let mut wanted = BTreeSet::new();
        for file in &generated.files {
            let path = dir.join(&file.path);
            if let Err(why) = check_file(&path, &file.contents) {
                problems.push(format!("specs/{}: {why}", spec.name));
            }
            wanted.insert(path);
        }
        for extra in files_under(&dir) {
            if !wanted.contains(&extra) {
                extra_file(&extra, &format!("specs/{}", spec.name), &mut problems);
            }
        }
    }
    if let Err(why) = check_file(&root.join("src/lib.rs"), &lib_rs(&specs)) {
        problems.push(why);
    }
    let entries = std::fs::read_dir(&root).expect("list tests/golden");
    for entry in entries {
        let path = entry.expect("list tests/golden").path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        if NOT_SPECS.contains(&name.as_str()) || spec_dirs.contains(&name) {
            continue;
        }
        if path.join("mod.rs").is_file() && updating() {
            std::fs::remove_dir_all(&path)
                .unwrap_or_else(|error| panic!("cannot remove {}: {error}", path.display()));
            eprintln!("removed {}", path.display());
        } else {
            problems.push(format!(
                "{}: no spec of specs/ generates this (a spec was removed or renamed?)",
                path.display()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} golden file problem(s):\n\n{}\n\n{REFRESH}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// The golden crate's `src/lib.rs`: one module per spec, kept out of `cargo fmt`.
fn lib_rs(specs: &[ProjectSpec]) -> String {
    let mut text = String::from(
        "//! Golden files of chanx-gen: the module `chanx-gen generate` writes for every spec of\n\
         //! `specs/` that generates, compiled against `chanx-runtime` with the workspace's lints;\n\
         //! `cargo test --workspace` runs their generated contract tests.\n\
         //!\n\
         //! Written by `tests/golden.rs`, which checks every file here byte for byte; refresh with\n\
         //! `UPDATE_GOLDEN=1 cargo test --test golden`. Never reformatted (`rustfmt::skip`).\n",
    );
    for spec in specs {
        text.push_str(&format!(
            "\n// specs/{}\n#[rustfmt::skip]\n#[path = \"../{}/mod.rs\"]\npub mod {};\n",
            spec.name,
            spec.stem(),
            spec.module_name()
        ));
    }
    text
}

fn extra_file(path: &Path, spec: &str, problems: &mut Vec<String>) {
    if updating() {
        std::fs::remove_file(path)
            .unwrap_or_else(|error| panic!("cannot remove {}: {error}", path.display()));
        eprintln!("removed {}", path.display());
    } else {
        problems.push(format!(
            "{spec}: {}: extra file, not generated any more",
            path.display()
        ));
    }
}

/// The files under `dir`, recursively, sorted; none when it does not exist.
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
    files.sort();
    files
}

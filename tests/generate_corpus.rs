//! Acceptance test of the generator (DESIGN §8): every valid AsyncAPI document of the shared corpus
//! (`$CHANX_CORPUS`) and of `specs/` generates code that compiles with no warnings.
//!
//! Each document is generated in process with [`chanx_gen::generate`]; each output becomes one crate
//! (`src/lib.rs` is `#![deny(warnings)] pub mod api;`, plus the workspace's rust lints, against
//! `chanx-runtime` by path; the crates of `specs/` are edition 2021, the corpus ones 2024) of ONE
//! scratch workspace under `target/generate-corpus/`; then one
//! `cargo check --workspace --lib --tests --offline` checks them all (contract tests included),
//! with the main workspace's target directory so the runtime's dependencies are shared (see
//! `common/scratch.rs`). Unchanged crates are not rewritten, so a second run is quick.
//!
//! Expectations:
//! - corpus documents that are valid (`common::corpus_documents`) generate, unless listed in
//!   [`UNSUPPORTED`], where they must fail with an error diagnostic;
//! - invalid corpus documents (`invalid/`, `common::KNOWN_INVALID`) fail in analysis, with an
//!   error diagnostic;
//! - specs of `specs/` generate, unless their first line names an error code (`# expect: <code>`,
//!   e.g. `collision.yaml` → `name-collision`, `invalid/*`): then generation fails with that code;
//!   a spec that names a warning code generates and reports it;
//! - every generated crate is checked as `lib` and `lib test` with no error and no warning;
//! - then `cargo doc --workspace --no-deps` documents them all, and rustdoc says nothing about the
//!   generated docs (bare URLs, HTML tags, broken or ambiguous intra-doc links in spec text).

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chanx_gen::GenerateError;
use chanx_gen::diagnostics::{Code, Severity};
use common::scratch::{self, ScratchCrate};

/// Valid corpus documents that chanx-gen cannot generate code for, with the construct it rejects.
/// Each must fail with an error diagnostic (and not generate: the list cannot go stale).
const UNSUPPORTED: &[(&str, &str)] = &[];

/// The `lib.rs` of every generated crate: warnings are errors, under the rust lints this project
/// uses for its own crates (a demanding user's crate).
const LIB_RS: &str = "//! Generated code, compiled by the chanx-gen tests.\n\
#![deny(warnings)]\n\
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]\n\
pub mod api;\n";

#[test]
fn every_valid_document_generates_code_that_compiles_without_warnings() {
    let started = Instant::now();
    let mut crates = Vec::new();
    let mut problems = Vec::new();
    let mut rejected = 0;

    let specs = common::project_specs();
    assert!(
        specs.iter().any(|s| s.name == "collision.yaml"
            && s.expected.is_some_and(|c| c.as_str() == "name-collision")),
        "specs/collision.yaml must exist and expect `name-collision`"
    );
    for spec in &specs {
        let label = format!("specs/{}", spec.name);
        let outcome = generate(&spec.path);
        match (spec.generates(), spec.expected, outcome) {
            (true, expected, Ok((files, codes))) => {
                if let Some(code) = expected.filter(|code| !codes.contains(code)) {
                    problems.push(format!(
                        "{label}: generated, but did not report `{}`",
                        code.as_str()
                    ));
                }
                // Our specs compile as edition 2021 crates, the corpus as 2024 ones: users have both.
                crates.push(scratch_crate(
                    &format!("spec-{}", spec.stem()),
                    label,
                    files,
                    "2021",
                ));
            }
            (true, _, Err(why)) => problems.push(format!("{label}: {why}")),
            (false, Some(code), Ok(_)) => problems.push(format!(
                "{label}: generated, but it must fail with `{}`",
                code.as_str()
            )),
            (false, Some(code), Err(why)) => {
                rejected += 1;
                if !why.contains(&format!("[{}]", code.as_str())) {
                    problems.push(format!(
                        "{label}: failed, but without `{}`: {why}",
                        code.as_str()
                    ));
                }
            }
            (false, None, _) => unreachable!("a spec that names no code generates"),
        }
    }

    let corpus = common::corpus_dir();
    let mut corpus_crates = 0;
    if let Some(corpus) = &corpus {
        let documents = common::corpus_documents(corpus);
        for (name, _) in UNSUPPORTED {
            assert!(
                documents
                    .iter()
                    .any(|d| d.name == *name && d.kind.is_valid()),
                "`{name}` is listed as unsupported, but it is not a valid document of the corpus"
            );
        }
        for document in documents {
            let label = document.name.clone();
            let unsupported = UNSUPPORTED.iter().any(|(n, _)| *n == document.name);
            match (
                document.kind.is_valid() && !unsupported,
                generate(&document.path),
            ) {
                (true, Ok((files, _))) => {
                    corpus_crates += 1;
                    let package = format!("corpus-{}", document.name);
                    crates.push(scratch_crate(&package, label, files, "2024"));
                }
                (true, Err(why)) => problems.push(format!("{label}: {why}")),
                (false, Ok(_)) => problems.push(format!(
                    "{label}: generated, but it is {}",
                    if unsupported {
                        "listed as unsupported (remove it from UNSUPPORTED)"
                    } else {
                        "invalid"
                    }
                )),
                (false, Err(why)) if why.starts_with("rejected") => rejected += 1,
                (false, Err(why)) => problems.push(format!("{label}: {why}")),
            }
        }
    }
    let generated_in = started.elapsed();
    assert!(
        problems.is_empty(),
        "{} document(s) did not generate as expected:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );

    let root = scratch::target_dir().join("generate-corpus");
    scratch::write_workspace(&root, &crates);
    let report = scratch::cargo_check(&root);

    let ours: BTreeSet<String> = crates.iter().map(ScratchCrate::crate_name).collect();
    let mut failed = String::new();
    let mut clean = 0;
    for krate in &crates {
        let outcome = report.outcome(&krate.crate_name());
        if outcome.is_clean(&["lib", "lib test"]) {
            clean += 1;
            continue;
        }
        let _ = writeln!(
            failed,
            "\n==== {} (crate {}, {} error(s), {} warning(s), checked: {:?})",
            krate.label,
            krate.package,
            outcome.of_level("error").count(),
            outcome.of_level("warning").count(),
            outcome.units
        );
        for message in &outcome.messages {
            let _ = writeln!(failed, "{}", message.rendered);
        }
    }
    let foreign = report.foreign_messages(&ours);
    println!(
        "{clean}/{} compile with no warnings ({} from specs/, {corpus_crates} from the corpus; \
         {rejected} invalid document(s) rejected); generation {:.1} s, cargo check {:.1} s, \
         total {:.1} s; workspace {}",
        crates.len(),
        crates.len() - corpus_crates,
        generated_in.as_secs_f64(),
        report.elapsed.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        root.display()
    );
    assert!(
        failed.is_empty() && foreign.is_empty() && report.success,
        "{clean}/{} generated crates compile with no warnings; the others, by document:{failed}\n\
         other crates' diagnostics:\n{}\ncargo succeeded: {}; the end of its stderr:\n{}\n\
         (the scratch workspace is {}; `cargo check --workspace --tests --offline` there to see \
         for yourself)",
        crates.len(),
        foreign.join("\n"),
        report.success,
        report.stderr_tail(20),
        root.display()
    );

    // The generated docs hold the spec's descriptions: rustdoc must find nothing to say about them
    // (the scratch crates deny warnings, so any of its lints fails the crate).
    let docs = scratch::cargo_doc(&root);
    let mut undocumented = String::new();
    for krate in &crates {
        let outcome = docs.outcome(&krate.crate_name());
        for message in &outcome.messages {
            let _ = writeln!(undocumented, "\n==== {}\n{}", krate.label, message.rendered);
        }
    }
    println!("cargo doc {:.1} s", docs.elapsed.as_secs_f64());
    assert!(
        undocumented.is_empty() && docs.success,
        "rustdoc refused generated docs:{undocumented}\ncargo succeeded: {}; the end of its \
         stderr:\n{}\n(`cargo doc --workspace --no-deps --offline` in {} to see for yourself)",
        docs.success,
        docs.stderr_tail(20),
        root.display()
    );
}

/// Generated files (paths relative to the crate) and the codes of the diagnostics.
type Output = (Vec<(PathBuf, String)>, Vec<Code>);

/// Generates the document at `path`: its files and the codes of its diagnostics, or why not (a
/// string that starts with `rejected` when it was rejected with an error diagnostic, and lists the
/// diagnostics as `[code] message`).
fn generate(path: &Path) -> Result<Output, String> {
    let settings = chanx_gen::render::Settings::new();
    let outcome =
        std::panic::catch_unwind(AssertUnwindSafe(|| chanx_gen::generate(path, &settings)));
    match outcome {
        Ok(Ok(generated)) => Ok((
            generated
                .files
                .into_iter()
                .map(|file| (Path::new("src/api").join(file.path), file.contents))
                .collect(),
            generated
                .analysis
                .diagnostics
                .iter()
                .map(|d| d.code)
                .collect(),
        )),
        Ok(Err(GenerateError::Document(analysis))) => {
            let errors: Vec<String> = analysis
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| format!("[{}] {}", d.code.as_str(), d.message))
                .collect();
            if errors.is_empty() {
                Err("failed in analysis, but without an error diagnostic".to_owned())
            } else {
                Err(format!("rejected: {}", errors.join("; ")))
            }
        }
        Ok(Err(error)) => Err(format!("cannot generate: {error}")),
        Err(panic) => Err(format!(
            "PANICKED: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        )),
    }
}

fn scratch_crate(
    name: &str,
    label: String,
    mut files: Vec<(PathBuf, String)>,
    edition: &'static str,
) -> ScratchCrate {
    files.push((PathBuf::from("src/lib.rs"), LIB_RS.to_owned()));
    ScratchCrate {
        package: scratch::package_name(name),
        label,
        files,
        edition,
    }
}

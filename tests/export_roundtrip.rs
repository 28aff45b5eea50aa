//! `export(generate(doc))` equals `doc`: for every document of `specs/` and of the shared corpus
//! (`$CHANX_CORPUS`) that generates, the generated module is written to a scratch folder, exported
//! back to AsyncAPI, read again, and its wire model compared with the original's
//! (`wire::compare` at code level: what generated code keeps; the README lists what it does not).

mod common;

use std::path::{Path, PathBuf};

use chanx_gen::wire::{self, CompareOptions};

fn scratch(name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("export-roundtrip")
        .join(safe);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// `Ok(None)`: the document does not generate (nothing to compare); `Ok(Some(n))`: equal, `n`
/// channels; `Err`: the differences.
fn round_trip(path: &Path, name: &str) -> Result<Option<usize>, String> {
    let settings = chanx_gen::render::Settings::new();
    let Ok(generated) = chanx_gen::generate(path, &settings) else {
        return Ok(None);
    };
    let Some(api) = generated.analysis.api.as_ref() else {
        return Ok(None);
    };
    let original = chanx_gen::diff::model_of(api, &generated.analysis.sources);
    let dir = scratch(name);
    chanx_gen::render::write_files(&dir, &generated.files).map_err(|e| e.to_string())?;
    let document = chanx_gen::export::export_dir(&dir).map_err(|e| e.to_string())?;
    let exported = dir.join("exported.json");
    std::fs::write(
        &exported,
        serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let back = chanx_gen::analyze(&exported).map_err(|e| e.to_string())?;
    let Some(back_api) = back.api.as_ref().filter(|_| !back.has_errors()) else {
        return Err(format!(
            "the exported document has errors:\n{}",
            back.render_diagnostics()
        ));
    };
    let model = chanx_gen::diff::model_of(back_api, &back.sources);
    let options = CompareOptions {
        code_level: true,
        rust_names: false,
    };
    let changes = wire::compare(&original, &model, options);
    if changes.is_empty() {
        Ok(Some(original.channels.len()))
    } else {
        Err(changes
            .iter()
            .map(|c| format!("  {}: {}", c.kind.as_str(), c.message))
            .collect::<Vec<_>>()
            .join("\n"))
    }
}

fn run(documents: &[(PathBuf, String)]) -> (usize, Vec<String>) {
    let mut equal = 0;
    let mut failures = Vec::new();
    for (path, name) in documents {
        match round_trip(path, name) {
            Ok(Some(_)) => equal += 1,
            Ok(None) => {}
            Err(why) => failures.push(format!("{name}:\n{why}")),
        }
    }
    (equal, failures)
}

#[test]
fn project_specs_round_trip() {
    let dir = common::specs_dir();
    let documents: Vec<(PathBuf, String)> = common::asyncapi_documents(&dir)
        .into_iter()
        .filter(|p| !p.starts_with(dir.join("diff")))
        .map(|p| {
            let name = common::relative_name(&p, &dir);
            (p, name)
        })
        .collect();
    let (equal, failures) = run(&documents);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(equal >= 8, "only {equal} specs generated");
    eprintln!("specs/: {equal} documents round-trip");
}

#[test]
fn corpus_round_trips() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let documents: Vec<(PathBuf, String)> = common::corpus_documents(&corpus)
        .into_iter()
        .filter(|d| d.kind.is_valid())
        .map(|d| (d.path, d.name))
        .collect();
    let (equal, failures) = run(&documents);
    eprintln!(
        "corpus: {equal} documents round-trip, {} do not",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(equal >= 70, "only {equal} corpus documents generated");
}

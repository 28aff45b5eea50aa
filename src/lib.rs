//! chanx-gen: an AsyncAPI-first code generator for typed WebSocket APIs in Rust, speaking the
//! conventions of Chanx (Django Channels / FastAPI).
//!
//! The pipeline, one module per stage (nothing imports a stage above it):
//!
//! ```text
//! load (files, spans, $ref) -> spec (AsyncAPI 3 model) -> validate -> ir (the API model)
//!     -> render (view, templates, syn + prettyplease) -> write
//! ```
//!
//! [`analyze`] runs the front end on a file; [`generate`] runs everything and returns the files. A
//! `build.rs` can call [`generate`] with the same [`render::Settings`] the CLI uses:
//!
//! ```no_run
//! // build.rs of a crate that depends on `chanx-runtime` and has `chanx-gen` as a build-dependency.
//! use std::path::Path;
//!
//! fn main() {
//!     let spec = Path::new("api/chat.yaml");
//!     println!("cargo::rerun-if-changed={}", spec.display());
//!     let settings = chanx_gen::render::Settings::new().runtime_path("::chanx_runtime");
//!     let generated = chanx_gen::generate(spec, &settings).unwrap_or_else(|e| panic!("{e}"));
//!     // Only changed files are written, so this does not retrigger builds.
//!     chanx_gen::render::write_files(Path::new("src/api"), &generated.files)
//!         .expect("src/api is writable");
//! }
//! ```
//!
//! and `src/lib.rs` declares `#[rustfmt::skip] pub mod api;`.

pub mod check;
pub mod cli;
pub mod diagnostics;
pub mod diff;
pub mod export;
pub mod inspect;
pub mod ir;
pub mod load;
pub mod mock;
pub mod render;
pub mod spec;
#[cfg(test)]
mod test_support;
pub mod validate;
pub mod wire;

use std::path::Path;

use diagnostics::Diagnostics;
use load::{LoadError, Sources};

/// The result of reading a document: its files, its model and every diagnostic found.
#[derive(Debug)]
pub struct Analysis {
    /// The loaded files (the entry file first).
    pub sources: Sources,
    /// The AsyncAPI model (what could be read of it).
    pub document: spec::Document,
    /// The API model, when the document had no errors before lowering.
    pub api: Option<ir::Api>,
    /// Every problem found, sorted by place.
    pub diagnostics: Diagnostics,
}

impl Analysis {
    /// Whether the document has errors (and so no code can be generated from it).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.has_errors()
    }

    /// Every diagnostic rendered like rustc's, one after another.
    pub fn render_diagnostics(&self) -> String {
        self.diagnostics
            .iter()
            .map(|d| d.render(&self.sources))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Loads, resolves, reads, validates and lowers the document at `path`.
pub fn analyze(path: &Path) -> Result<Analysis, LoadError> {
    let (sources, diagnostics) = Sources::load(path)?;
    Ok(analyze_sources(sources, diagnostics))
}

/// Like [`analyze`], for a document already in memory; `path` names it and is the base for its
/// relative `$ref`s.
pub fn analyze_text(path: &Path, text: String) -> Analysis {
    let (sources, diagnostics) = Sources::load_text(path, text);
    analyze_sources(sources, diagnostics)
}

fn analyze_sources(sources: Sources, mut diagnostics: Diagnostics) -> Analysis {
    let (document, api) = analyze_loaded(&sources, &mut diagnostics);
    Analysis {
        sources,
        document,
        api,
        diagnostics,
    }
}

/// Reads, validates and lowers loaded `sources`, adding to `diagnostics` (sorted at the end).
///
/// Generation's front end on two cores: a second thread reads the spec model and validates it
/// while this one lowers the component schemas, which need only the loaded files
/// ([`ir::Components`]); the rest of lowering needs the model, and runs when it is read and valid.
/// Component lowering copes with any document, and its result is dropped when the document has
/// errors; the diagnostics are those of doing one step after the other.
fn analyze_loaded(
    sources: &Sources,
    diagnostics: &mut Diagnostics,
) -> (spec::Document, Option<ir::Api>) {
    // Reading and validating add to what loading found: reading says less about a document that
    // did not load, and validation does not report again a `$ref` that an error is about.
    let read_and_validate = |mut found: Diagnostics| {
        let document = spec::read_document(sources, &mut found);
        let readable = !found.has_errors();
        validate::validate(sources, &document, &mut found);
        (document, found, readable)
    };
    let loaded = diagnostics.clone();
    let ((document, found, readable), components) = std::thread::scope(|scope| {
        let beside = std::thread::Builder::new()
            .stack_size(BESIDE_STACK)
            .spawn_scoped(scope, move || read_and_validate(loaded));
        match beside {
            Ok(thread) => {
                let components = ir::Components::lower(sources);
                let model = thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (model, Some(components))
            }
            // No thread to be had: one step after the other.
            Err(_) => (read_and_validate(diagnostics.clone()), None),
        }
    });
    *diagnostics = found;
    let api = (readable && !diagnostics.has_errors()).then(|| {
        let components = components.unwrap_or_else(|| ir::Components::lower(sources));
        components.finish(&document, diagnostics)
    });
    diagnostics.sort(sources);
    (document, api)
}

/// The stack of the thread that reads and validates the model: as large as a main thread's, since
/// validation recurses as deep as the document nests.
const BESIDE_STACK: usize = 8 << 20;

/// Why [`generate`] produced nothing.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The spec file could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The document has errors; the analysis holds them (and `Display` prints them).
    #[error("the document has errors:\n{}", .0.render_diagnostics())]
    Document(Box<Analysis>),
    /// A template failed.
    #[error(transparent)]
    Render(#[from] render::RenderError),
}

/// The output of [`generate`].
#[derive(Debug)]
pub struct Generated {
    /// The analysis (warnings included).
    pub analysis: Analysis,
    /// The files to write.
    pub files: Vec<render::GeneratedFile>,
}

/// Specs this large or larger are hashed for the `@generated` header on a thread of their own
/// (below, starting a thread costs more than hashing).
const HASHED_BESIDE_BYTES: usize = 256 << 10;

/// Analyzes the spec at `path` and renders its Rust module.
pub fn generate(path: &Path, settings: &render::Settings) -> Result<Generated, GenerateError> {
    let (sources, mut diagnostics) = Sources::load(path)?;
    // The header's hash of the spec's text takes a millisecond a megabyte: for a large spec it is
    // computed on a thread of its own while the document is read (which uses one core).
    let spec_hash = || {
        let texts: Vec<&str> = sources.files().map(|(_, f)| f.text()).collect();
        render::fnv1a(&texts)
    };
    let spec_bytes: usize = sources.files().map(|(_, f)| f.text().len()).sum();
    let (hash, (document, api)) = std::thread::scope(|scope| {
        let beside = (spec_bytes >= HASHED_BESIDE_BYTES)
            .then(|| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, spec_hash)
                    .ok()
            })
            .flatten();
        let parts = analyze_loaded(&sources, &mut diagnostics);
        let hash = match beside {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // Small, or no thread to be had: hash here.
            None => spec_hash(),
        };
        (hash, parts)
    });
    let analysis = Analysis {
        sources,
        document,
        api,
        diagnostics,
    };
    let Some(api) = analysis.api.as_ref().filter(|_| !analysis.has_errors()) else {
        return Err(GenerateError::Document(Box::new(analysis)));
    };
    let spec_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let header = format!(
        "@generated by chanx-gen {} from {spec_name} (spec hash {hash:016x}). Do not edit; run `chanx-gen generate` again.",
        env!("CARGO_PKG_VERSION"),
    );
    let files = render::render(api, &header, settings)?;
    Ok(Generated { analysis, files })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What [`analyze_loaded`] does on two threads, one step after the other.
    fn one_step_after_the_other(
        sources: &Sources,
        diagnostics: &mut Diagnostics,
    ) -> Option<ir::Api> {
        let document = spec::read_document(sources, diagnostics);
        let readable = !diagnostics.has_errors();
        validate::validate(sources, &document, diagnostics);
        let api = (readable && !diagnostics.has_errors())
            .then(|| ir::lower(sources, &document, diagnostics));
        diagnostics.sort(sources);
        api
    }

    #[test]
    fn the_front_end_on_two_threads_finds_what_one_step_after_the_other_finds() {
        let (mut lowered, mut refused) = (0, 0);
        for path in test_support::spec_and_corpus_files() {
            let Ok((sources, loaded)) = Sources::load(&path) else {
                continue;
            };
            let mut threaded = loaded.clone();
            let (_, api) = analyze_loaded(&sources, &mut threaded);
            let mut serial = loaded;
            let reference = one_step_after_the_other(&sources, &mut serial);
            let rendered = |found: &Diagnostics| -> Vec<String> {
                found.iter().map(|d| d.render(&sources)).collect()
            };
            let name = path.display();
            assert_eq!(rendered(&threaded), rendered(&serial), "{name}");
            assert_eq!(format!("{api:?}"), format!("{reference:?}"), "{name}");
            match reference {
                Some(_) => lowered += 1,
                None => refused += 1,
            }
        }
        // Both ways through: documents that lower, and documents whose errors stop lowering.
        assert!(
            lowered > 5 && refused > 5,
            "{lowered} lowered, {refused} refused"
        );
    }
}

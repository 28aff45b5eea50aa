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
fn analyze_loaded(
    sources: &Sources,
    diagnostics: &mut Diagnostics,
) -> (spec::Document, Option<ir::Api>) {
    let document = spec::read_document(sources, diagnostics);
    let api = if diagnostics.has_errors() {
        validate::validate(sources, &document, diagnostics);
        None
    } else {
        validate_and_lower(sources, &document, diagnostics)
    };
    diagnostics.sort(sources);
    (document, api)
}

/// The stack of the thread that validates beside lowering: as large as a main thread's, since
/// validation recurses as deep as the document nests.
const VALIDATION_STACK: usize = 8 << 20;

/// Validates `document` and, when validation finds no error, lowers it. Lowering runs on this thread
/// while validation runs on another (both only read the model; lowering copes with an invalid
/// document, and its result is dropped then), so that generation's front end uses two cores; the
/// diagnostics are the same as doing one after the other.
fn validate_and_lower(
    sources: &Sources,
    document: &spec::Document,
    diagnostics: &mut Diagnostics,
) -> Option<ir::Api> {
    let validate = || {
        let mut found = Diagnostics::new();
        validate::validate(sources, document, &mut found);
        found
    };
    let (validation, lowering, api) = std::thread::scope(|scope| {
        let beside = std::thread::Builder::new()
            .stack_size(VALIDATION_STACK)
            .spawn_scoped(scope, validate);
        let mut lowering = Diagnostics::new();
        let api = ir::lower(sources, document, &mut lowering);
        let validation = match beside {
            Ok(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to be had: validate here.
            Err(_) => validate(),
        };
        (validation, lowering, api)
    });
    diagnostics.extend(validation);
    if diagnostics.has_errors() {
        return None;
    }
    diagnostics.extend(lowering);
    Some(api)
}

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

//! chanx-gen: an AsyncAPI-first code generator for typed WebSocket APIs in Rust, speaking the
//! conventions of Chanx (Django Channels / FastAPI).
//!
//! The pipeline, one module per stage (nothing imports a stage above it):
//!
//! ```text
//! load (files, spans, $ref) -> spec (AsyncAPI 3 model) -> validate -> ir (the API model) -> cli
//! ```
//!
//! [`analyze`] runs the front end on a file; the CLI and benchmarks call it.

pub mod cli;
pub mod diagnostics;
pub mod inspect;
pub mod ir;
pub mod load;
pub mod spec;
pub mod validate;

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
    let document = spec::read_document(&sources, &mut diagnostics);
    validate::validate(&sources, &document, &mut diagnostics);
    let api = (!diagnostics.has_errors()).then(|| ir::lower(&sources, &document, &mut diagnostics));
    diagnostics.sort(&sources);
    Analysis {
        sources,
        document,
        api,
        diagnostics,
    }
}

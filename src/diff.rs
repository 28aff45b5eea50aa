//! `chanx-gen diff OLD NEW`: every change between two specs, classified as breaking or not for
//! clients and for servers.
//!
//! The two documents are lowered to the IR and compared as [`wire::Model`]s, so key order and
//! synthetic names make no change. Each [`wire::Change`] says which way its data travels and whether
//! the new side accepts more or fewer frames; from that:
//!
//! - data a client sends: accepting fewer frames breaks existing clients (a new required field, a
//!   narrower constraint, a removed action); accepting more breaks existing servers (a new action, a
//!   new enum value, a field that became optional: new clients send what old servers refuse);
//! - data a server sends: sending more breaks existing clients (a new server message breaks strict
//!   clients, a new enum value, a field that may now be null); sending fewer breaks servers (new
//!   clients expect what old servers do not send).
//! - the connection (address, parameters): a change breaks both.

use std::path::Path;

use serde::Serialize;

use crate::load::{Sources, TextPos};
use crate::wire::{self, Change, Direction, Effect, Model, Site};

/// A classified change.
#[derive(Debug, Clone, Serialize)]
pub struct Classified {
    /// The change.
    #[serde(flatten)]
    pub change: Change,
    /// Existing clients stop working against a server built from the new spec.
    pub breaks_clients: bool,
    /// Existing servers stop working with clients built from the new spec.
    pub breaks_servers: bool,
}

/// The result of [`diff_files`].
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// Every change, in model order.
    pub changes: Vec<Classified>,
}

impl DiffReport {
    /// Whether any change breaks clients or servers.
    pub fn is_breaking(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.breaks_clients || c.breaks_servers)
    }

    /// A table for people: one line per change.
    pub fn render(&self) -> String {
        if self.changes.is_empty() {
            return "no changes\n".to_owned();
        }
        let mut out = String::new();
        for c in &self.changes {
            let verdict = match (c.breaks_clients, c.breaks_servers) {
                (true, true) => "BREAKING for clients and servers",
                (true, false) => "BREAKING for clients",
                (false, true) => "BREAKING for servers",
                (false, false) => "compatible",
            };
            out.push_str(&format!(
                "{verdict}[{}]: {}\n",
                c.change.kind.as_str(),
                c.change.message
            ));
            if let Some(site) = &c.change.old_site {
                out.push_str(&format!("  --> old {site}\n"));
            }
            if let Some(site) = &c.change.new_site {
                out.push_str(&format!("  --> new {site}\n"));
            }
        }
        let count = |f: fn(&Classified) -> bool| self.changes.iter().filter(|c| f(c)).count();
        out.push_str(&format!(
            "{} change(s): {} breaking for clients, {} breaking for servers\n",
            self.changes.len(),
            count(|c| c.breaks_clients),
            count(|c| c.breaks_servers)
        ));
        out
    }
}

/// Whether `change` breaks (clients, servers).
pub fn classify(change: &Change) -> (bool, bool) {
    let (widened, narrowed) = match change.effect {
        Effect::Widened => (true, false),
        Effect::Narrowed => (false, true),
        Effect::Incompatible => (true, true),
        Effect::Neutral => (false, false),
    };
    match change.direction {
        Direction::ClientToServer => (narrowed, widened),
        Direction::ServerToClient => (widened, narrowed),
        // A channel that was removed breaks its clients only; an address or parameter change both.
        Direction::Connection => match change.effect {
            Effect::Neutral => (false, false),
            Effect::Narrowed => (true, false),
            _ => (true, true),
        },
    }
}

/// Why [`diff_files`] could not compare.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// A spec could not be read or has errors.
    #[error(transparent)]
    Generate(#[from] crate::GenerateError),
}

/// The wire model of a spec file, with places into it.
pub fn spec_model(path: &Path) -> Result<Model, crate::GenerateError> {
    let analysis = crate::analyze(path)?;
    let Some(api) = analysis.api.as_ref().filter(|_| !analysis.has_errors()) else {
        return Err(crate::GenerateError::Document(Box::new(analysis)));
    };
    Ok(model_of(api, &analysis.sources))
}

/// The wire model of an analyzed spec, with places into its sources.
pub fn model_of(api: &crate::ir::Api, sources: &Sources) -> Model {
    let locate = |origin: &str| locate(sources, origin);
    Model::from_api(api, &locate)
}

/// The place of `file#pointer` in `sources`.
pub fn locate(sources: &Sources, origin: &str) -> Option<Site> {
    let (file, pointer) = origin.split_once('#')?;
    let (id, source) = sources.files().find(|(_, f)| f.display_name() == file)?;
    let loc = crate::diagnostics::Loc {
        file: id,
        pointer: pointer.to_owned(),
        on_key: false,
    };
    let TextPos { line, column } = sources.locate(&loc)?.start;
    Some(Site {
        file: source.display_name().to_owned(),
        line,
        column,
    })
}

/// Compares two models and classifies every change.
pub fn diff_models(old: &Model, new: &Model) -> DiffReport {
    let changes = wire::compare(old, new, wire::CompareOptions::default())
        .into_iter()
        .map(|change| {
            let (breaks_clients, breaks_servers) = classify(&change);
            Classified {
                change,
                breaks_clients,
                breaks_servers,
            }
        })
        .collect();
    DiffReport { changes }
}

/// Reads both specs and compares them.
pub fn diff_files(old: &Path, new: &Path) -> Result<DiffReport, DiffError> {
    let old = spec_model(old)?;
    let new = spec_model(new)?;
    Ok(diff_models(&old, &new))
}

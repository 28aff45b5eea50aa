//! Broken `$ref`s anywhere in any loaded file, including those the model reader never follows (info
//! tags, external docs, unused components), each reported once.

use std::collections::HashSet;

use serde_json::Value;

use crate::diagnostics::{Code, Diagnostic, Diagnostics, Loc, Severity};
use crate::load::Sources;

/// Resolves every reference object of every file and reports the chains that break (dangling,
/// looping, unreadable). A `$ref` that an earlier stage already blamed is not reported again, and a
/// loop is reported once, not once per member.
pub(super) fn report_broken_refs(sources: &Sources, diagnostics: &mut Diagnostics) {
    let mut blamed = HashSet::new();
    for diagnostic in diagnostics.iter() {
        blame(sources, diagnostic, &mut blamed);
    }
    for (file, source) in sources.files() {
        for reference in reference_objects(Loc::root(file), source.root()) {
            if blamed.contains(&reference.child("$ref")) {
                continue;
            }
            let Err(diagnostic) = sources.resolve(&reference) else {
                continue;
            };
            if diagnostic
                .loc
                .as_ref()
                .is_some_and(|loc| blamed.contains(loc))
            {
                continue;
            }
            blame(sources, &diagnostic, &mut blamed);
            diagnostics.push(diagnostic);
        }
    }
}

/// Records the `$ref`s an error diagnostic is about: its place and, for a loop, every `$ref` of the
/// loop.
fn blame(sources: &Sources, diagnostic: &Diagnostic, blamed: &mut HashSet<Loc>) {
    let Some(loc) = diagnostic
        .loc
        .as_ref()
        .filter(|_| diagnostic.severity == Severity::Error)
    else {
        return;
    };
    blamed.insert(loc.clone());
    if diagnostic.code == Code::RefCycle {
        if let Some(pointer) = loc.pointer.strip_suffix("/$ref") {
            let start = Loc {
                pointer: pointer.to_owned(),
                ..loc.clone()
            };
            blamed.extend(ref_chain(sources, &start));
        }
    }
}

/// The `$ref` places a resolution from `start` goes through, until a value, a break or a repeat.
fn ref_chain(sources: &Sources, start: &Loc) -> Vec<Loc> {
    let mut chain: Vec<Loc> = Vec::new();
    let mut current = start.clone();
    while let Some(Value::String(reference)) = sources.get(&current).and_then(|v| v.get("$ref")) {
        let ref_loc = current.child("$ref");
        if chain.contains(&ref_loc) {
            break;
        }
        chain.push(ref_loc);
        match sources.ref_target(&current, reference) {
            Ok(target) => current = target,
            Err(_) => break,
        }
    }
    chain
}

/// The places of every object in `root` that has a `$ref` key, in document order.
fn reference_objects(root_loc: Loc, root: &Value) -> Vec<Loc> {
    let is_container = |value: &&Value| matches!(value, Value::Object(_) | Value::Array(_));
    let mut found = Vec::new();
    let mut stack = vec![(root_loc, root)];
    while let Some((loc, value)) = stack.pop() {
        let children: Vec<(Loc, &Value)> = match value {
            Value::Object(map) => {
                if map.contains_key("$ref") {
                    found.push(loc.clone());
                }
                map.iter()
                    .filter(|(_, child)| is_container(child))
                    .map(|(key, child)| (loc.child(key), child))
                    .collect()
            }
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter(|(_, child)| is_container(child))
                .map(|(i, child)| (loc.index(i), child))
                .collect(),
            _ => Vec::new(),
        };
        // Reversed, so that the stack pops them in document order.
        stack.extend(children.into_iter().rev());
    }
    found
}

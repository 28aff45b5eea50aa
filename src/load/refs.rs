//! `$ref` resolution: local JSON pointers (with `~0`, `~1` and percent escapes), relative files
//! (resolved against the file that holds the `$ref`), and a clear error for remote URLs.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{FileId, Member, Sources};
use crate::diagnostics::{Code, Diagnostic, Diagnostics, Loc};

/// How many `$ref` hops one resolution may take before it is called a loop.
const MAX_HOPS: usize = 64;

/// Where a `$ref` points: a file and a pointer into it.
pub type RefTarget = Loc;

/// The end of a chain of `$ref`s.
#[derive(Debug, Clone)]
pub struct Resolved<'a> {
    /// Where the value is.
    pub loc: Loc,
    /// The value (never itself a `$ref` object).
    pub value: &'a Value,
    /// The `$ref` objects followed on the way, first to last (empty when `loc` was no reference). Their
    /// sibling keys (Chanx puts `default` beside `$ref`) are for the caller to honour.
    pub via: Vec<Loc>,
}

/// The `$ref` string of a reference object, if `value` is one.
pub(crate) fn ref_string(value: &Value) -> Option<&Value> {
    value.member("$ref")
}

/// Splits a pointer (`/a/b~1c`) into its unescaped segments.
pub fn parse_pointer(pointer: &str) -> impl Iterator<Item = String> + '_ {
    segments(pointer).map(Cow::into_owned)
}

/// Like [`parse_pointer`], without allocating for segments that have no escape.
fn segments(pointer: &str) -> impl Iterator<Item = Cow<'_, str>> + '_ {
    pointer.split('/').skip(1).map(|segment| {
        if segment.contains('~') {
            Cow::Owned(segment.replace("~1", "/").replace("~0", "~"))
        } else {
            Cow::Borrowed(segment)
        }
    })
}

/// The node that `pointer` names in `root`, following no `$ref`.
pub(crate) fn lookup<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        return Some(root);
    }
    if !pointer.starts_with('/') {
        return None;
    }
    let mut node = root;
    for segment in segments(pointer) {
        node = match node {
            Value::Object(map) => map.member(segment.as_ref())?,
            Value::Array(items) => {
                if segment.len() > 1 && segment.starts_with('0') {
                    return None;
                }
                items.get(segment.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(node)
}

fn has_child(node: &Value, segment: &str) -> bool {
    match node {
        Value::Object(map) => map.member(segment).is_some(),
        Value::Array(items) => segment.parse::<usize>().is_ok_and(|i| i < items.len()),
        _ => false,
    }
}

/// Decodes `%XX` escapes; `None` if an escape is malformed or the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A `$ref` string taken apart.
enum RefKind<'a> {
    /// `#/pointer` in the same file.
    Local(String),
    /// `path#/pointer` or `path` (whole file).
    File { path: &'a str, pointer: String },
    /// `scheme://...`
    Remote,
}

fn classify(reference: &str) -> Result<RefKind<'_>, String> {
    let (path, fragment) = match reference.split_once('#') {
        Some((path, fragment)) => (path, fragment),
        None => (reference, ""),
    };
    if let Some(colon) = path.find(':') {
        let scheme = &path[..colon];
        if scheme.len() > 1
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return Ok(RefKind::Remote);
        }
    }
    let pointer = percent_decode(fragment).ok_or("it has a malformed %-escape")?;
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err(format!(
            "the fragment `#{fragment}` is not a JSON pointer (plain-name anchors are not supported)"
        ));
    }
    if path.is_empty() {
        Ok(RefKind::Local(pointer))
    } else {
        Ok(RefKind::File { path, pointer })
    }
}

fn relative_to(base: &Path, path: &str) -> PathBuf {
    let path = percent_decode(path).unwrap_or_else(|| path.to_owned());
    base.parent().unwrap_or(Path::new("")).join(path)
}

/// Every `$ref` in `file` that names another file, with the path it names. Remote and malformed
/// references are reported here, once.
pub(crate) fn external_refs(
    sources: &Sources,
    file: FileId,
    diagnostics: &mut Diagnostics,
) -> Vec<(Loc, PathBuf)> {
    let source = sources.file(file);
    let mut found = Vec::new();
    // Depth-first, with the path from the root kept as segments: a node's `Loc` is only built
    // when it holds a `$ref` to report or follow (most nodes hold none, most `$ref`s are local).
    let mut path: Vec<Segment<'_>> = Vec::new();
    let mut stack = vec![(0, None, source.root())];
    while let Some((depth, segment, value)) = stack.pop() {
        path.truncate(depth);
        path.extend(segment);
        let loc_of_ref = |path: &[Segment<'_>]| {
            path.iter()
                .fold(Loc::root(file), |loc, segment| match segment {
                    Segment::Key(key) => loc.child(key),
                    Segment::Index(i) => loc.index(*i),
                })
                .child("$ref")
        };
        match value {
            Value::Object(map) => {
                if let Some(reference) = map.get("$ref") {
                    match reference.as_str().map(classify) {
                        None => diagnostics.push(
                            Diagnostic::new(
                                Code::RefInvalid,
                                Some(loc_of_ref(&path)),
                                "`$ref` must be a string",
                            )
                            .with_help("write the reference as `$ref: '#/components/...'`"),
                        ),
                        Some(Err(why)) => diagnostics.report(
                            Code::RefInvalid,
                            loc_of_ref(&path),
                            format!("invalid `$ref`: {why}"),
                        ),
                        Some(Ok(RefKind::Remote)) => diagnostics.push(remote_diagnostic(
                            loc_of_ref(&path),
                            reference.as_str().unwrap_or_default(),
                        )),
                        Some(Ok(RefKind::File { path: target, .. })) => {
                            found.push((loc_of_ref(&path), relative_to(source.path(), target)))
                        }
                        Some(Ok(RefKind::Local(_))) => {}
                    }
                }
                // Reverse so that files are discovered in document order.
                for (key, child) in map.iter().rev() {
                    if matches!(child, Value::Object(_) | Value::Array(_)) {
                        stack.push((path.len(), Some(Segment::Key(key)), child));
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate().rev() {
                    if matches!(child, Value::Object(_) | Value::Array(_)) {
                        stack.push((path.len(), Some(Segment::Index(i)), child));
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// A step from a node to one of its children.
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn remote_diagnostic(loc: Loc, reference: &str) -> Diagnostic {
    Diagnostic::new(
        Code::RefRemote,
        Some(loc),
        format!("`{reference}` is a remote reference; chanx-gen never fetches over the network"),
    )
    .with_help(
        "download the file and reference it by a relative path, or bundle the document first \
         (for example with `asyncapi bundle`)",
    )
}

impl Sources {
    /// Where the reference string `reference`, written in `from`, points. One hop; the target may
    /// itself be a reference. A pointer that passes through a `$ref` on its way (`#/channels/x/messages/y`
    /// where channel `x` is a reference) is followed through it, so the result is always the place
    /// where the node really is.
    pub fn ref_target(&self, from: &Loc, reference: &str) -> Result<RefTarget, Diagnostic> {
        self.ref_target_at(from, reference, 0)
    }

    fn ref_target_at(
        &self,
        from: &Loc,
        reference: &str,
        depth: usize,
    ) -> Result<RefTarget, Diagnostic> {
        let ref_loc = from.child("$ref");
        let kind = classify(reference).map_err(|why| {
            Diagnostic::new(
                Code::RefInvalid,
                Some(ref_loc.clone()),
                format!("invalid `$ref`: {why}"),
            )
        })?;
        let (file, pointer) = match kind {
            RefKind::Remote => return Err(remote_diagnostic(ref_loc, reference)),
            RefKind::Local(pointer) => (from.file, pointer),
            RefKind::File { path, pointer } => {
                let target = relative_to(self.file(from.file).path(), path);
                let file = self.file_id(&target).ok_or_else(|| {
                    Diagnostic::new(
                        Code::RefFileUnreadable,
                        Some(ref_loc.clone()),
                        format!("`{}` could not be loaded", target.display()),
                    )
                })?;
                (file, pointer)
            }
        };
        let target = Loc {
            file,
            pointer,
            on_key: false,
        };
        if lookup(self.file(file).root(), &target.pointer).is_some() {
            return Ok(target);
        }
        match self.canonical(&target, depth + 1) {
            Some(found) => Ok(found),
            None => Err(Diagnostic::new(
                Code::RefUnresolved,
                Some(ref_loc),
                format!("`{reference}` points at nothing"),
            )
            .with_help(unresolved_help(self, &target))),
        }
    }

    /// The real place of `loc` when its pointer passes through `$ref`s: each intermediate reference
    /// object that lacks the next key is replaced by its target.
    pub(crate) fn canonical(&self, loc: &Loc, depth: usize) -> Option<Loc> {
        if depth > MAX_HOPS || !loc.pointer.starts_with('/') {
            return None;
        }
        let mut current = Loc::root(loc.file);
        let mut node = self.file(loc.file).root();
        for segment in parse_pointer(&loc.pointer) {
            let mut hops = 0;
            while !has_child(node, &segment) {
                let reference = ref_string(node)?.as_str()?;
                current = self.ref_target_at(&current, reference, depth).ok()?;
                node = lookup(self.file(current.file).root(), &current.pointer)?;
                hops += 1;
                if hops > MAX_HOPS {
                    return None;
                }
            }
            current = current.child(&segment);
            node = lookup(self.file(current.file).root(), &current.pointer)?;
        }
        Some(current)
    }

    /// Follows `$ref`s from the node at `loc` until a value that is not a reference.
    pub fn resolve(&self, loc: &Loc) -> Result<Resolved<'_>, Diagnostic> {
        let mut current = loc.clone();
        let mut via: Vec<Loc> = Vec::new();
        loop {
            let value = self.get(&current).ok_or_else(|| {
                Diagnostic::new(
                    Code::RefUnresolved,
                    Some(current.clone()),
                    format!("nothing at `{}`", current.pointer),
                )
            })?;
            let Some(reference) = ref_string(value) else {
                return Ok(Resolved {
                    loc: current,
                    value,
                    via,
                });
            };
            let Some(reference) = reference.as_str() else {
                return Err(Diagnostic::new(
                    Code::RefInvalid,
                    Some(current.child("$ref")),
                    "`$ref` must be a string",
                ));
            };
            if via.contains(&current) || via.len() >= MAX_HOPS {
                let mut diagnostic = Diagnostic::new(
                    Code::RefCycle,
                    Some(loc.child("$ref")),
                    "this chain of `$ref`s loops and never reaches a value",
                )
                .with_help("make one of the references point at an actual object");
                for hop in via.iter().skip(1).take(4) {
                    diagnostic = diagnostic.with_related(hop.child("$ref"), "which refers on");
                }
                return Err(diagnostic);
            }
            let target = self.ref_target(&current, reference)?;
            via.push(current);
            current = target;
        }
    }
}

/// Suggests the nearest existing prefix of a dangling pointer.
fn unresolved_help(sources: &Sources, target: &Loc) -> String {
    let mut pointer = target.pointer.as_str();
    while let Some(i) = pointer.rfind('/') {
        let missing = &pointer[i + 1..];
        pointer = &pointer[..i];
        if pointer.is_empty() {
            return format!("the document has no top-level `{missing}`");
        }
        let parent = Loc {
            file: target.file,
            pointer: pointer.to_owned(),
            on_key: false,
        };
        if let Some(Value::Object(map)) = sources.get(&parent) {
            let keys: Vec<&str> = map.keys().map(String::as_str).take(12).collect();
            if keys.is_empty() {
                return format!("`#{pointer}` is empty");
            }
            return format!("`#{pointer}` has: {}", keys.join(", "));
        }
    }
    "check the spelling of the pointer".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Sources {
        let (sources, diagnostics) = Sources::load_text(Path::new("mem.yaml"), text.to_owned());
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        sources
    }

    #[test]
    fn pointer_escapes() {
        let sources = load("a:\n  'x/y': {v: 1}\n  'm~n': {v: 2}\n  'sp ace': {v: 3}\n");
        let root = Loc::root(Sources::ENTRY);
        let target = sources.ref_target(&root, "#/a/x~1y").unwrap();
        assert_eq!(sources.get(&target).unwrap()["v"], 1);
        let target = sources.ref_target(&root, "#/a/m~0n").unwrap();
        assert_eq!(sources.get(&target).unwrap()["v"], 2);
        let target = sources.ref_target(&root, "#/a/sp%20ace").unwrap();
        assert_eq!(sources.get(&target).unwrap()["v"], 3);
    }

    #[test]
    fn chains_resolve_and_loops_fail() {
        let sources = load(
            "a: {$ref: '#/b'}\nb: {$ref: '#/c'}\nc: {v: 1}\nx: {$ref: '#/y'}\ny: {$ref: '#/x'}\n",
        );
        let resolved = sources
            .resolve(&Loc::root(Sources::ENTRY).child("a"))
            .unwrap();
        assert_eq!(resolved.loc.pointer, "/c");
        assert_eq!(resolved.via.len(), 2);
        let err = sources
            .resolve(&Loc::root(Sources::ENTRY).child("x"))
            .unwrap_err();
        assert_eq!(err.code, Code::RefCycle);
    }

    #[test]
    fn pointers_pass_through_refs() {
        let sources = load(
            "channels:\n  c: {$ref: '#/components/channels/c'}\ncomponents:\n  channels:\n    c:\n      messages:\n        m: {v: 1}\nloop: {$ref: '#/loop/x'}\n",
        );
        let root = Loc::root(Sources::ENTRY);
        let target = sources
            .ref_target(&root, "#/channels/c/messages/m")
            .unwrap();
        assert_eq!(target.pointer, "/components/channels/c/messages/m");
        assert_eq!(sources.get(&target).unwrap()["v"], 1);
        let err = sources.ref_target(&root, "#/loop/x/y").unwrap_err();
        assert_eq!(err.code, Code::RefUnresolved);
    }

    #[test]
    fn remote_refs_are_refused() {
        let (_, diagnostics) = Sources::load_text(
            Path::new("mem.yaml"),
            "a: {$ref: 'https://example.com/x.yaml#/a'}\n".to_owned(),
        );
        let codes: Vec<Code> = diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::RefRemote]);
    }

    #[test]
    fn refs_found_while_loading_are_placed_in_objects_and_arrays() {
        let (_, diagnostics) = Sources::load_text(
            Path::new("mem.yaml"),
            "a:\n  - {x: 1}\n  - b: {$ref: 'https://example.com/x.yaml'}\nc/d: {$ref: 7}\ne: [[{$ref: '#/a'}], {$ref: 'missing.yaml'}]\n"
                .to_owned(),
        );
        let found: Vec<(Code, &str)> = diagnostics
            .iter()
            .map(|d| (d.code, d.loc.as_ref().map_or("", |l| l.pointer.as_str())))
            .collect();
        assert_eq!(
            found,
            [
                (Code::RefRemote, "/a/1/b/$ref"),
                (Code::RefInvalid, "/c~1d/$ref"),
                (Code::RefFileUnreadable, "/e/1/$ref"),
            ]
        );
    }

    #[test]
    fn dangling_refs_name_what_exists() {
        let sources = load("components:\n  schemas:\n    A: {type: string}\n");
        let err = sources
            .ref_target(&Loc::root(Sources::ENTRY), "#/components/schemas/B")
            .unwrap_err();
        assert_eq!(err.code, Code::RefUnresolved);
        assert!(err.help.unwrap().contains('A'));
    }
}

//! Stage 1: read a document and every file its `$ref`s name, keeping the source span of each node.
//!
//! The result is a [`Sources`]: the files, each with its [`Value`] tree and a table from JSON
//! pointer to span (built the first time it is asked for). Later stages address nodes by [`Loc`]
//! (file + pointer) and never see text positions; the diagnostics renderer asks
//! [`Sources::locate`] for them.

mod json;
mod refs;
mod yaml;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::diagnostics::{Code, Diagnostic, Diagnostics, Loc};

pub use refs::{RefTarget, Resolved, parse_pointer};
pub use yaml::{MAX_ALIAS_NODES, MAX_DEPTH, MAX_NODES};

/// Member lookup by key on a document's objects, faster than [`serde_json::Map::get`] on the
/// small objects most of a spec is made of: serde_json hashes every key it looks up with SipHash,
/// where comparing a few keys in order is cheaper. Larger objects are looked up by hash.
pub(crate) trait Member {
    /// The value of member `key`, when this is an object that has it.
    fn member(&self, key: &str) -> Option<&Value>;
}

/// Objects of at most this many members are searched in order.
const SCANNED_MEMBERS: usize = 8;

impl Member for serde_json::Map<String, Value> {
    fn member(&self, key: &str) -> Option<&Value> {
        if self.len() <= SCANNED_MEMBERS {
            self.iter()
                .find_map(|(name, value)| (name == key).then_some(value))
        } else {
            self.get(key)
        }
    }
}

impl Member for Value {
    fn member(&self, key: &str) -> Option<&Value> {
        self.as_object()?.member(key)
    }
}

/// The largest file chanx-gen reads (64 MiB).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The most files one document may pull in through `$ref`s.
pub const MAX_FILES: usize = 512;

/// Identifies a loaded file within its [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct TextPos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// A range of text, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextSpan {
    /// First character.
    pub start: TextPos,
    /// One past the last character.
    pub end: TextPos,
}

/// The spans of one node: its key in the parent mapping (if any) and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpan {
    /// The key, when the node is a mapping value.
    pub key: Option<TextSpan>,
    /// The value.
    pub value: TextSpan,
}

/// The spans of a file's nodes, by JSON pointer.
pub(crate) type SpanTable = HashMap<String, NodeSpan, BuildFastHasher>;

/// A fast non-cryptographic hash for the span table (FxHash's multiply-rotate). Spec files are local
/// input to a command-line tool, so resistance to crafted collisions is not needed; speed is.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BuildFastHasher;

impl std::hash::BuildHasher for BuildFastHasher {
    type Hasher = FastHasher;

    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

/// The hasher of [`BuildFastHasher`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
        }
        for &byte in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(SEED);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// One loaded file.
#[derive(Debug)]
pub struct SourceFile {
    path: PathBuf,
    display_name: String,
    text: String,
    /// Where each line starts; built on first use, as only diagnostics need it.
    line_starts: OnceLock<Vec<usize>>,
    root: Value,
    /// Built on first use: only diagnostics need it, and most runs have none.
    spans: OnceLock<SpanTable>,
}

impl SourceFile {
    /// The path it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The name diagnostics show.
    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    /// The text as read.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed document.
    pub fn root(&self) -> &Value {
        &self.root
    }

    /// The span of each node, by JSON pointer; the first call parses the text again to find them.
    fn spans(&self) -> &SpanTable {
        self.spans.get_or_init(|| {
            // The text parsed once already, so it parses again (the table stays empty
            // otherwise, which only costs diagnostics their place).
            json::parse(&self.text, true)
                .map_or_else(|| yaml::parse(&self.text, true).ok(), Some)
                .map(|parsed| parsed.spans)
                .unwrap_or_default()
        })
    }

    /// The text of 1-based line `line`, without its line break.
    pub fn line_text(&self, line: usize) -> Option<&str> {
        let line_starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let start = *line_starts.get(line.checked_sub(1)?)?;
        let end = line_starts.get(line).copied().unwrap_or(self.text.len());
        Some(self.text[start..end].trim_end_matches(['\n', '\r']))
    }
}

/// Every file of one document, the entry file first.
#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
    by_path: HashMap<PathBuf, FileId>,
}

impl Sources {
    /// The entry file.
    pub const ENTRY: FileId = FileId(0);

    /// A loaded file.
    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Every loaded file.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// The node at `loc`, if the pointer names one; `$ref`s on the way are followed, the node itself is
    /// returned as is (it may be a reference).
    pub fn get(&self, loc: &Loc) -> Option<&Value> {
        let file = self.files.get(loc.file.0 as usize)?;
        refs::lookup(file.root(), &loc.pointer).or_else(|| {
            let real = self.canonical(loc, 0)?;
            refs::lookup(self.file(real.file).root(), &real.pointer)
        })
    }

    /// The text span of `loc`: of its key when `loc.on_key` or when the node is a mapping or sequence,
    /// else of its value; when the pointer names no node (say, a missing field), the key of its nearest
    /// existing ancestor.
    pub fn locate(&self, loc: &Loc) -> Option<TextSpan> {
        let file = self.files.get(loc.file.0 as usize)?;
        let mut pointer = loc.pointer.as_str();
        let mut exact = true;
        loop {
            if let Some(span) = file.spans().get(pointer) {
                // A mapping or sequence is shown by its key: its own span starts at its first
                // entry, which would point at the wrong line.
                let container = matches!(
                    refs::lookup(file.root(), pointer),
                    Some(Value::Object(_) | Value::Array(_))
                );
                return Some(if exact && !loc.on_key && !container {
                    span.value
                } else {
                    span.key.unwrap_or(span.value)
                });
            }
            exact = false;
            match pointer.rfind('/') {
                Some(i) => pointer = &pointer[..i],
                None if pointer.is_empty() => return None,
                None => pointer = "",
            }
        }
    }

    /// Reads the file at `path` (relative to the working directory) and every file reachable from it
    /// through relative `$ref`s.
    ///
    /// An unreadable entry file is an [`Err`] (a usage error); every problem inside the document,
    /// including unreadable referenced files, goes to the returned diagnostics.
    pub fn load(path: &Path) -> Result<(Sources, Diagnostics), LoadError> {
        let text = read_text(path).map_err(|source| LoadError {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self::load_text(path, text))
    }

    /// Like [`Sources::load`], with the entry file's text given; `path` names it and is the base of
    /// its relative `$ref`s.
    pub fn load_text(path: &Path, text: String) -> (Sources, Diagnostics) {
        let mut sources = Sources::default();
        let mut diagnostics = Diagnostics::new();
        let entry = sources.add_file(path, path.display().to_string(), text, &mut diagnostics);
        let mut queue = vec![entry];
        while let Some(file) = queue.pop() {
            for (ref_loc, target) in refs::external_refs(&sources, file, &mut diagnostics) {
                if sources.by_path.contains_key(&normalize(&target)) {
                    continue;
                }
                if sources.files.len() >= MAX_FILES {
                    diagnostics.report(
                        Code::TooLarge,
                        ref_loc,
                        format!("the document pulls in more than {MAX_FILES} files"),
                    );
                    return (sources, diagnostics);
                }
                match read_text(&target) {
                    Ok(text) => {
                        let display = display_path(&target);
                        let id = sources.add_file(&target, display, text, &mut diagnostics);
                        queue.push(id);
                    }
                    Err(error) => diagnostics.push(
                        Diagnostic::new(
                            Code::RefFileUnreadable,
                            Some(ref_loc),
                            format!("cannot read `{}`: {error}", target.display()),
                        )
                        .with_help(
                            "relative `$ref`s are resolved against the file that contains them",
                        ),
                    ),
                }
            }
        }
        (sources, diagnostics)
    }

    fn add_file(
        &mut self,
        path: &Path,
        display_name: String,
        text: String,
        diagnostics: &mut Diagnostics,
    ) -> FileId {
        let id = FileId(self.files.len() as u32);
        let text = text
            .strip_prefix('\u{feff}')
            .map(str::to_owned)
            .unwrap_or(text);
        // Plain JSON takes the fast path; everything else (and every error) YAML's parser. Spans
        // wait until a diagnostic needs them, except for a file that does not parse: its problem
        // is found again with spans, which place a duplicate key's first occurrence.
        let parse = |with_spans| {
            json::parse(&text, with_spans).map_or_else(|| yaml::parse(&text, with_spans), Ok)
        };
        let (root, spans) = match parse(false).or_else(|_| parse(true)) {
            Ok(parsed) => (parsed.value, OnceLock::new()),
            Err(problem) => {
                let mut spans = SpanTable::default();
                let diagnostic = problem_diagnostic(id, problem, &mut spans);
                diagnostics.push(diagnostic);
                (Value::Null, OnceLock::from(spans))
            }
        };
        self.by_path.insert(normalize(path), id);
        self.files.push(SourceFile {
            path: path.to_owned(),
            display_name,
            text,
            line_starts: OnceLock::new(),
            root,
            spans,
        });
        id
    }

    /// The file already loaded from `path`, if any.
    pub fn file_id(&self, path: &Path) -> Option<FileId> {
        self.by_path.get(&normalize(path)).copied()
    }
}

/// Turns a parse problem into a diagnostic. Since the file has no tree, synthetic pointers
/// (`#syntax`, `#first`) carry the positions.
fn problem_diagnostic(
    file: FileId,
    problem: yaml::ParseProblem,
    spans: &mut SpanTable,
) -> Diagnostic {
    let mut at_span = |name: &str, span: TextSpan| {
        spans.insert(
            name.to_owned(),
            NodeSpan {
                key: None,
                value: span,
            },
        );
        Loc {
            file,
            pointer: name.to_owned(),
            on_key: false,
        }
    };
    match problem {
        yaml::ParseProblem::Syntax { at, message } => Diagnostic::new(
            Code::Syntax,
            Some(at_span("#syntax", at)),
            format!("invalid YAML or JSON: {message}"),
        ),
        yaml::ParseProblem::DuplicateKey { at, first, key } => {
            let first = at_span("#first", first);
            Diagnostic::new(
                Code::DuplicateKey,
                Some(at_span("#syntax", at)),
                format!("the key `{key}` appears twice in one mapping"),
            )
            .with_related(first, "first defined here")
            .with_help("keys of a mapping must be unique; remove or rename one of them")
        }
        yaml::ParseProblem::ComplexKey { at } => Diagnostic::new(
            Code::UnsupportedYaml,
            Some(at_span("#syntax", at)),
            "a mapping or sequence used as a key cannot be represented in JSON",
        ),
        yaml::ParseProblem::TooLarge { at, message } => {
            Diagnostic::new(Code::TooLarge, Some(at_span("#syntax", at)), message)
        }
        yaml::ParseProblem::UnknownAnchor { at } => Diagnostic::new(
            Code::UnsupportedYaml,
            Some(at_span("#syntax", at)),
            "an alias names an anchor that is not defined before it",
        ),
    }
}

fn read_text(path: &Path) -> std::io::Result<String> {
    let metadata = std::fs::metadata(path)?;
    if metadata.is_dir() {
        return Err(std::io::Error::other("it is a directory"));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "the file is larger than {} MiB",
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    let bytes = std::fs::read(path)?;
    String::from_utf8(bytes).map_err(|_| std::io::Error::other("the file is not valid UTF-8"))
}

/// A path with `.` and `..` folded, used to recognise a file already loaded.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn display_path(path: &Path) -> String {
    normalize(path).display().to_string()
}

/// The entry file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read `{}`: {source}", path.display())]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str = "asyncapi: 3.0.0\ninfo:\n  title: T\n  version: '1'\nchannels:\n  room:\n    address: /ws\n";

    #[test]
    fn members_are_found_as_by_hash_in_small_and_large_objects() {
        for size in [0, 1, SCANNED_MEMBERS, SCANNED_MEMBERS + 1, 40] {
            let object: serde_json::Map<String, Value> = (0..size)
                .map(|i| (format!("key{i}"), Value::from(i)))
                .collect();
            let value = Value::Object(object.clone());
            for i in 0..size + 2 {
                let key = format!("key{i}");
                assert_eq!(object.member(&key), object.get(&key), "{key} of {size}");
                assert_eq!(value.member(&key), value.get(&key), "{key} of {size}");
            }
            assert_eq!(object.member("key"), None);
        }
        assert_eq!(Value::from("not an object").member("key0"), None);
    }

    #[test]
    fn spans_are_found_only_when_asked_for_and_match_an_eager_parse() {
        let (sources, diagnostics) = Sources::load_text(Path::new("doc.yaml"), DOCUMENT.into());
        assert!(!diagnostics.has_errors());
        let file = sources.file(Sources::ENTRY);
        assert!(file.spans.get().is_none(), "spans built before use");

        let loc = Loc::root(Sources::ENTRY)
            .child("channels")
            .child("room")
            .child("address");
        let span = sources.locate(&loc).expect("the address has a span");
        assert_eq!(
            span.start,
            TextPos {
                line: 7,
                column: 14
            }
        );
        let eager = yaml::parse(DOCUMENT, true).expect("parses").spans;
        assert_eq!(file.spans.get(), Some(&eager));
    }

    #[test]
    fn a_file_that_does_not_parse_keeps_its_problem_located() {
        let text = "a: 1\nb: 2\na: 3\n";
        let (sources, diagnostics) = Sources::load_text(Path::new("dup.yaml"), text.into());
        let rendered: Vec<_> = diagnostics
            .iter()
            .map(|d| (d.code, sources.locate(d.loc.as_ref().expect("located"))))
            .collect();
        let at = |line, column| TextPos { line, column };
        assert_eq!(rendered.len(), 1);
        assert_eq!(rendered[0].0, Code::DuplicateKey);
        assert_eq!(rendered[0].1.map(|span| span.start), Some(at(3, 1)));
        let first = diagnostics.iter().next().and_then(|d| d.related.first());
        let first = first.map(|related| sources.locate(&related.loc).map(|span| span.start));
        assert_eq!(first, Some(Some(at(1, 1))));
    }
}

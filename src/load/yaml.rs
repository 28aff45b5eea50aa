//! YAML and JSON text to a [`serde_json::Value`] plus the source span of every node.
//!
//! Both formats go through one parser (saphyr's, YAML 1.2; JSON is YAML 1.2's flow subset), so JSON and
//! YAML documents get the same spans and the same errors. Plain scalars are typed with the YAML 1.2 core
//! schema (`yes`/`no` stay strings). The tree is built with an explicit stack: depth is bounded, and no
//! input can overflow the call stack.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};
use serde_json::{Map, Number, Value};

use super::{Member, NodeSpan, SCANNED_MEMBERS, SpanTable, TextPos, TextSpan};

/// How deeply mappings and sequences may nest.
pub const MAX_DEPTH: usize = 256;

/// How many nodes a document may hold once aliases are expanded (guards against alias bombs).
pub const MAX_NODES: usize = 4_000_000;

/// How many nodes aliases may add in all, counted as if every alias were written out.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// A problem that stops a file from being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParseProblem {
    /// Not valid YAML or JSON.
    Syntax { at: TextSpan, message: String },
    /// The same key twice in one mapping.
    DuplicateKey {
        at: TextSpan,
        first: TextSpan,
        key: String,
    },
    /// A key that is a mapping or sequence.
    ComplexKey { at: TextSpan },
    /// Nesting or size past the limits.
    TooLarge { at: TextSpan, message: String },
    /// An alias that names an unknown anchor.
    UnknownAnchor { at: TextSpan },
}

/// A parsed file: its value and the span of each node, keyed by JSON pointer (empty when the
/// parse was asked for the value only).
pub(crate) struct Parsed {
    pub(crate) value: Value,
    pub(crate) spans: SpanTable,
}

/// The members of a mapping being built: while few, on the builder's stack of few members (from
/// `from` on), then in a map of their own. Most mappings of a document are small, and a map grown
/// member by member holds room for several times as many members as it has (and is copied as it
/// grows): a small mapping's map is made once, of its size, when it closes.
enum Members {
    Few { from: usize },
    Many(Map<String, Value>),
}

impl Members {
    /// Whether `key` is a member (`few` is the builder's stack of few members).
    fn contains(&self, key: &str, few: &[(String, Value)]) -> bool {
        match self {
            Members::Few { from } => few[*from..].iter().any(|(member, _)| member == key),
            Members::Many(map) => map.member(key).is_some(),
        }
    }

    /// Adds a member whose key is new.
    fn insert(&mut self, key: String, value: Value, few: &mut Vec<(String, Value)>) {
        match self {
            Members::Many(map) => {
                map.insert(key, value);
            }
            Members::Few { from } if few.len() - *from < SCANNED_MEMBERS => few.push((key, value)),
            Members::Few { from } => {
                let mut map = Map::with_capacity(2 * SCANNED_MEMBERS);
                map.extend(few.drain(*from..));
                map.insert(key, value);
                *self = Members::Many(map);
            }
        }
    }

    /// The mapping's map.
    fn into_map(self, few: &mut Vec<(String, Value)>) -> Map<String, Value> {
        match self {
            Members::Many(map) => map,
            Members::Few { from } => {
                let mut map = Map::with_capacity(few.len() - from);
                map.extend(few.drain(from..));
                map
            }
        }
    }
}

enum Frame {
    Mapping {
        members: Members,
        pending_key: Option<(String, TextSpan)>,
        start: TextPos,
        /// The length of the parent's pointer, to restore on close.
        parent_len: usize,
        key_span: Option<TextSpan>,
        anchor: usize,
    },
    Sequence {
        /// Where its items start on the builder's stack of items (see `Builder::items`).
        items_from: usize,
        start: TextPos,
        parent_len: usize,
        key_span: Option<TextSpan>,
        anchor: usize,
    },
}

fn pos(marker: saphyr_parser::Marker) -> TextPos {
    TextPos {
        line: marker.line(),
        column: marker.col() + 1,
    }
}

fn span(s: saphyr_parser::Span) -> TextSpan {
    TextSpan {
        start: pos(s.start),
        end: pos(s.end),
    }
}

fn push_pointer_segment(pointer: &mut String, key: &str) {
    pointer.push('/');
    for c in key.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// Parses `text` (YAML or JSON) into a value, with spans when `with_spans`, or the first problem
/// that stops it (the same problem either way, but only a parse with spans places a duplicate
/// key's first occurrence).
pub(crate) fn parse(text: &str, with_spans: bool) -> Result<Parsed, ParseProblem> {
    // A node per line, about, in block style.
    let mut builder = Builder::new(with_spans.then(|| text.lines().count()));
    let mut parser = Parser::new_from_str(text);
    let mut documents = 0usize;
    while let Some(event) = parser.next_event() {
        let (event, event_span) = event.map_err(syntax)?;
        let at = span(event_span);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => {}
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(ParseProblem::Syntax {
                        at,
                        message: "the file holds more than one YAML document".into(),
                    });
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let value = scalar_value(&value, style, tag.as_deref());
                builder.value(value, at, anchor)?;
            }
            Event::Alias(anchor) => {
                let Some(value) = builder.anchors.get(&anchor) else {
                    return Err(ParseProblem::UnknownAnchor { at });
                };
                builder.alias_nodes += count_nodes(value);
                if builder.alias_nodes > MAX_ALIAS_NODES {
                    return Err(ParseProblem::TooLarge {
                        at,
                        message: format!(
                            "aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?)"
                        ),
                    });
                }
                let value = value.clone();
                builder.value(value, at, 0)?;
            }
            Event::SequenceStart(anchor, _) => builder.open(at, anchor, false)?,
            Event::MappingStart(anchor, _) => builder.open(at, anchor, true)?,
            Event::SequenceEnd | Event::MappingEnd => builder.close(at)?,
        }
    }
    Ok(builder.finish())
}

fn syntax(error: ScanError) -> ParseProblem {
    let at = pos(*error.marker());
    let at = TextSpan { start: at, end: at };
    if error.info().contains("recursion limit") {
        return ParseProblem::TooLarge {
            at,
            message: "the document nests too deeply".to_owned(),
        };
    }
    ParseProblem::Syntax {
        at,
        message: error.info().to_owned(),
    }
}

fn count_nodes(value: &Value) -> usize {
    let mut count = 0;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        count += 1;
        match v {
            Value::Array(items) => stack.extend(items.iter()),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    count
}

/// Builds the tree from parser events (saphyr's, or the JSON fast path's). When it records spans,
/// `pointer` is always the pointer of the innermost open collection (else it stays empty).
pub(super) struct Builder {
    stack: Vec<Frame>,
    /// The members of the open mappings that have few, innermost last (see [`Members`]).
    few_members: Vec<(String, Value)>,
    /// The items of the open sequences, innermost last: a sequence's vector is made once, of
    /// its length, when it closes.
    items: Vec<Value>,
    pointer: String,
    record_spans: bool,
    spans: SpanTable,
    anchors: HashMap<usize, Value>,
    nodes: usize,
    alias_nodes: usize,
    root: Option<Value>,
    /// How many of the bottom frames are collections another builder opened (see
    /// [`Builder::continued`]).
    continued: usize,
    /// What was read of those collections once each closed, innermost first.
    tails: Vec<Value>,
}

impl Builder {
    /// A builder that records spans for about `nodes` nodes when given `Some(nodes)` (the span
    /// table is sized for them up front: growing it rehashes every pointer), or only the values.
    pub(super) fn new(nodes: Option<usize>) -> Self {
        Builder {
            stack: Vec::new(),
            few_members: Vec::new(),
            items: Vec::new(),
            pointer: String::new(),
            record_spans: nodes.is_some(),
            spans: SpanTable::with_capacity_and_hasher(nodes.unwrap_or(0), Default::default()),
            anchors: HashMap::new(),
            nodes: 0,
            alias_nodes: 0,
            root: None,
            continued: 0,
            tails: Vec::new(),
        }
    }

    /// A builder for the text after a separator in the middle of a document, inside collections
    /// of these kinds (outermost first; `true` for a mapping) that another builder opened and
    /// read up to the separator: closing one of them keeps what was read of it (for the other
    /// builder's [`Builder::close_with`]) instead of adding it to its parent. Records no spans.
    pub(super) fn continued(mappings: &[bool]) -> Self {
        let mut builder = Builder::new(None);
        let nowhere = TextPos { line: 0, column: 0 };
        builder.stack = mappings
            .iter()
            .map(|&mapping| builder.empty_frame(mapping, nowhere, 0, None, 0))
            .collect();
        builder.continued = mappings.len();
        builder
    }

    /// What a [`Builder::continued`] read of the collections it started inside, innermost first
    /// (of a mapping, its members; of a sequence, its items), and how many nodes it read.
    pub(super) fn into_tails(self) -> (Vec<Value>, usize) {
        (self.tails, self.nodes)
    }

    /// How many nodes were read.
    pub(super) fn nodes(&self) -> usize {
        self.nodes
    }

    /// Ends the innermost collection after appending `tail`, what a [`Builder::continued`] read
    /// of it (a key already in the mapping is a duplicate).
    pub(super) fn close_with(&mut self, tail: Value, at: TextSpan) -> Result<(), ParseProblem> {
        match (self.stack.last_mut(), tail) {
            (Some(Frame::Mapping { members, .. }), Value::Object(tail)) => {
                for (key, value) in tail {
                    if members.contains(&key, &self.few_members) {
                        return Err(ParseProblem::DuplicateKey { at, first: at, key });
                    }
                    members.insert(key, value, &mut self.few_members);
                }
            }
            (Some(Frame::Sequence { .. }), Value::Array(more)) => self.items.extend(more),
            _ => {
                return Err(ParseProblem::Syntax {
                    at,
                    message: "the two parts of the document do not meet".to_owned(),
                });
            }
        }
        self.close(at)
    }

    /// The tree and its spans, once every event was given.
    pub(super) fn finish(self) -> Parsed {
        let value = self.root.unwrap_or(Value::Null);
        let mut spans = self.spans;
        if self.record_spans {
            // An empty (or comment-only) file has no root event: place it at the start.
            let start = TextPos { line: 1, column: 1 };
            spans.entry(String::new()).or_insert(NodeSpan {
                key: None,
                value: TextSpan { start, end: start },
            });
        }
        Parsed { value, spans }
    }

    /// Appends to `pointer` the segment of the next value of the innermost collection and returns
    /// the span of its key. A collection in key position is an error.
    fn enter_slot(&mut self, at: TextSpan) -> Result<Option<TextSpan>, ParseProblem> {
        let Builder {
            stack,
            pointer,
            record_spans,
            items,
            ..
        } = self;
        match stack.last() {
            None => Ok(None),
            Some(Frame::Sequence { items_from, .. }) => {
                if *record_spans {
                    pointer.push('/');
                    pointer.push_str(&(items.len() - items_from).to_string());
                }
                Ok(None)
            }
            Some(Frame::Mapping {
                pending_key: Some((key, key_span)),
                ..
            }) => {
                if *record_spans {
                    push_pointer_segment(pointer, key);
                }
                Ok(Some(*key_span))
            }
            Some(Frame::Mapping {
                pending_key: None, ..
            }) => Err(ParseProblem::ComplexKey { at }),
        }
    }

    /// A mapping (or sequence) starts at `at`.
    pub(super) fn open(
        &mut self,
        at: TextSpan,
        anchor: usize,
        mapping: bool,
    ) -> Result<(), ParseProblem> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(ParseProblem::TooLarge {
                at,
                message: format!("the document nests deeper than {MAX_DEPTH} levels"),
            });
        }
        let parent_len = self.pointer.len();
        let key_span = self.enter_slot(at)?;
        let frame = self.empty_frame(mapping, at.start, parent_len, key_span, anchor);
        self.stack.push(frame);
        Ok(())
    }

    /// The frame of a collection opened at `start`, with nothing read into it yet.
    fn empty_frame(
        &self,
        mapping: bool,
        start: TextPos,
        parent_len: usize,
        key_span: Option<TextSpan>,
        anchor: usize,
    ) -> Frame {
        if mapping {
            Frame::Mapping {
                members: Members::Few {
                    from: self.few_members.len(),
                },
                pending_key: None,
                start,
                parent_len,
                key_span,
                anchor,
            }
        } else {
            Frame::Sequence {
                items_from: self.items.len(),
                start,
                parent_len,
                key_span,
                anchor,
            }
        }
    }

    /// The innermost collection ends at `at`.
    pub(super) fn close(&mut self, at: TextSpan) -> Result<(), ParseProblem> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let (value, start, parent_len, key_span, anchor) = match frame {
            Frame::Mapping {
                members,
                start,
                parent_len,
                key_span,
                anchor,
                ..
            } => (
                Value::Object(members.into_map(&mut self.few_members)),
                start,
                parent_len,
                key_span,
                anchor,
            ),
            Frame::Sequence {
                items_from,
                start,
                parent_len,
                key_span,
                anchor,
            } => (
                Value::Array(self.items.drain(items_from..).collect()),
                start,
                parent_len,
                key_span,
                anchor,
            ),
        };
        if self.stack.len() < self.continued {
            // Opened by another builder, which adds what was read of it (`close_with`).
            self.continued -= 1;
            self.tails.push(value);
            return Ok(());
        }
        let whole = TextSpan { start, end: at.end };
        self.record(key_span, whole);
        self.pointer.truncate(parent_len);
        self.attach(value, at, anchor)
    }

    /// A scalar (or an alias's value) at `at`: a key when a mapping waits for one.
    pub(super) fn value(
        &mut self,
        value: Value,
        at: TextSpan,
        anchor: usize,
    ) -> Result<(), ParseProblem> {
        // A scalar in key position becomes the pending key of its mapping.
        if let Some(Frame::Mapping {
            pending_key: pending_key @ None,
            members,
            ..
        }) = self.stack.last_mut()
        {
            let key = match value {
                Value::String(s) => s,
                Value::Null => "null".to_owned(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                Value::Array(_) | Value::Object(_) => return Err(ParseProblem::ComplexKey { at }),
            };
            if members.contains(&key, &self.few_members) {
                let mut first = self.pointer.clone();
                push_pointer_segment(&mut first, &key);
                let first = self.spans.get(&first).and_then(|s| s.key).unwrap_or(at);
                return Err(ParseProblem::DuplicateKey { at, first, key });
            }
            *pending_key = Some((key, at));
            return Ok(());
        }
        let parent_len = self.pointer.len();
        let key_span = self.enter_slot(at)?;
        if let (true, Value::Array(_) | Value::Object(_)) = (self.record_spans, &value) {
            // An alias to a collection: give every node inside it the alias's span.
            record_alias_spans(&mut self.spans, &self.pointer, &value, at);
        }
        self.record(key_span, at);
        self.pointer.truncate(parent_len);
        self.attach(value, at, anchor)
    }

    /// Records the span of the node at `pointer`.
    fn record(&mut self, key: Option<TextSpan>, value: TextSpan) {
        if !self.record_spans {
            return;
        }
        self.spans
            .entry(self.pointer.clone())
            .or_insert(NodeSpan { key, value });
    }

    /// Puts a finished value into its parent (or makes it the root).
    fn attach(&mut self, value: Value, at: TextSpan, anchor: usize) -> Result<(), ParseProblem> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(ParseProblem::TooLarge {
                at,
                message: format!("the document holds more than {MAX_NODES} nodes"),
            });
        }
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Sequence { .. }) => self.items.push(value),
            Some(Frame::Mapping {
                members,
                pending_key,
                ..
            }) => {
                if let Some((key, _)) = pending_key.take() {
                    members.insert(key, value, &mut self.few_members);
                }
            }
        }
        Ok(())
    }
}

fn record_alias_spans(spans: &mut SpanTable, pointer: &str, value: &Value, at: TextSpan) {
    let mut stack = vec![(pointer.to_owned(), value)];
    while let Some((pointer, value)) = stack.pop() {
        match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let mut child = pointer.clone();
                    push_pointer_segment(&mut child, &i.to_string());
                    stack.push((child, item));
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    let mut child = pointer.clone();
                    push_pointer_segment(&mut child, key);
                    stack.push((child, item));
                }
            }
            _ => {}
        }
        spans.entry(pointer).or_insert(NodeSpan {
            key: None,
            value: at,
        });
    }
}

/// Types a scalar with the YAML 1.2 core schema (plain scalars only; quoted ones are strings).
fn scalar_value(text: &str, style: ScalarStyle, tag: Option<&saphyr_parser::Tag>) -> Value {
    if let Some(tag) = tag {
        if tag.is_yaml_core_schema() {
            return match tag.suffix.as_str() {
                "str" => Value::String(text.to_owned()),
                "null" => Value::Null,
                "bool" => text
                    .parse::<bool>()
                    .map(Value::Bool)
                    .unwrap_or_else(|_| Value::String(text.to_owned())),
                "int" | "float" => number(text).unwrap_or_else(|| Value::String(text.to_owned())),
                _ => Value::String(text.to_owned()),
            };
        }
    }
    if style != ScalarStyle::Plain {
        return Value::String(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ => number(text).unwrap_or_else(|| Value::String(text.to_owned())),
    }
}

/// A plain scalar typed as a YAML 1.2 core-schema number, if it is one.
pub(super) fn number(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    let first = *bytes.first()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(Value::from);
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok().map(Value::from);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return Some(Value::from(i));
        }
        if let Ok(u) = text.trim_start_matches('+').parse::<u64>() {
            return Some(Value::from(u));
        }
    }
    if is_core_float(digits) {
        let f: f64 = text.parse().ok()?;
        return Number::from_f64(f).map(Value::Number);
    }
    None
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` (the sign already stripped).
fn is_core_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (!int.is_empty() || !frac.is_empty())
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
                && !(int.is_empty() && frac.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span_of(parsed: &Parsed, pointer: &str) -> (usize, usize) {
        let s = parsed.spans[pointer].value.start;
        (s.line, s.column)
    }

    #[test]
    fn yaml_values_and_spans() {
        let text = "a: 1\nb:\n  - x\n  - 'yes'\n  - yes\nc: {d: 2.5, e: null}\n";
        let parsed = parse(text, true).unwrap();
        assert_eq!(
            parsed.value,
            serde_json::json!({"a": 1, "b": ["x", "yes", "yes"], "c": {"d": 2.5, "e": null}})
        );
        assert_eq!(span_of(&parsed, "/a"), (1, 4));
        assert_eq!(span_of(&parsed, "/b/1"), (4, 5));
        assert_eq!(span_of(&parsed, "/c/e"), (6, 16));
        assert_eq!(
            parsed.spans["/c"].key.unwrap().start,
            TextPos { line: 6, column: 1 }
        );
    }

    #[test]
    fn values_are_the_same_without_spans() {
        for text in [
            "a: 1\nb:\n  - x\n  - 'yes'\n  - yes\nc: {d: 2.5, e: null}\n",
            "a: &x {k: [1, {m: n}]}\nb: *x\nc: *x\n",
            "k/~: {\"q\": [1, 2, {r: s}]}\n",
        ] {
            let bare = parse(text, false).unwrap();
            assert!(bare.spans.is_empty(), "{text:?}");
            assert_eq!(bare.value, parse(text, true).unwrap().value, "{text:?}");
        }
        let duplicate = "a:\n  b: 1\n  b: 2\n";
        assert_eq!(
            parse(duplicate, false)
                .err()
                .map(|e| std::mem::discriminant(&e)),
            parse(duplicate, true)
                .err()
                .map(|e| std::mem::discriminant(&e))
        );
    }

    #[test]
    fn json_is_read_with_spans() {
        let text = "{\n  \"x\": [1, {\"a/b\": true}]\n}";
        let parsed = parse(text, true).unwrap();
        assert_eq!(parsed.value, serde_json::json!({"x": [1, {"a/b": true}]}));
        assert_eq!(span_of(&parsed, "/x/1/a~1b"), (2, 20));
    }

    #[test]
    fn core_schema_numbers() {
        for (text, expected) in [
            ("1", serde_json::json!(1)),
            ("-7", serde_json::json!(-7)),
            ("0x1F", serde_json::json!(31)),
            ("1e3", serde_json::json!(1000.0)),
            (".5", serde_json::json!(0.5)),
            ("1.2.3", serde_json::json!("1.2.3")),
            ("'8000'", serde_json::json!("8000")),
            ("3.0.0", serde_json::json!("3.0.0")),
            (
                "18446744073709551615",
                serde_json::json!(18446744073709551615u64),
            ),
        ] {
            let parsed = parse(&format!("v: {text}"), true).unwrap();
            assert_eq!(parsed.value["v"], expected, "{text}");
        }
    }

    #[test]
    fn duplicate_keys_are_reported() {
        let err = parse("a: 1\nb: 2\na: 3\n", true).err().unwrap();
        match err {
            ParseProblem::DuplicateKey { at, first, key } => {
                assert_eq!(key, "a");
                assert_eq!(at.start.line, 3);
                assert_eq!(first.start.line, 1);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn anchors_and_aliases_expand() {
        let parsed = parse("a: &x {k: 1}\nb: *x\n", true).unwrap();
        assert_eq!(parsed.value["b"], serde_json::json!({"k": 1}));
        assert_eq!(span_of(&parsed, "/b/k"), (2, 4));
    }

    #[test]
    fn alias_bombs_are_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        assert!(matches!(
            parse(&text, true),
            Err(ParseProblem::TooLarge { .. })
        ));
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let text = "[".repeat(100_000);
        let problem = parse(&text, true).err().unwrap();
        assert!(
            matches!(problem, ParseProblem::TooLarge { .. }),
            "{problem:?}"
        );
        let block: String = (0..400).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        let problem = parse(&block, true).err().unwrap();
        assert!(
            matches!(problem, ParseProblem::TooLarge { .. }),
            "{problem:?}"
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        match parse("a: [1, 2\nb: 3\n", true).err().unwrap() {
            ParseProblem::Syntax { at, .. } => assert!(at.start.line >= 1),
            other => panic!("unexpected {other:?}"),
        }
    }
}

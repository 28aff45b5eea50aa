//! A fast path for documents written in plain JSON.
//!
//! saphyr's YAML parser reads JSON too (YAML 1.2's flow subset), but spends most of a large
//! document's load time on YAML's generality. This scanner reads strict JSON (RFC 8259) and feeds
//! the same [`Builder`] the YAML events would, with the spans saphyr would give (token start to
//! token end, columns in characters), so the tree, the spans and every later diagnostic are the
//! same. Anything it does not read, it leaves to the YAML parser: text that is not strict JSON
//! (comments, a lone `\r`, a raw tab in a string, unpaired surrogates, ...) and every error, whose
//! diagnostic saphyr's path writes.
//!
//! A large document read without spans (generation's path) is read in two parts at once, which
//! meet at a separator past the middle ([`parse_in_two`]); the tree is the one a single pass builds.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use super::TextPos;
use super::TextSpan;
use super::yaml::{Builder, MAX_DEPTH, MAX_NODES, Parsed, number};

/// Documents this long or longer are read in two halves at once when no spans are asked for
/// (generation's path): see [`parse_in_two`].
const TWO_PARTS_BYTES: usize = 256 << 10;

/// The tree of `text`, with its spans when `with_spans`, when it is a valid strict-JSON object or
/// array; `None` when the YAML parser should read it instead.
pub(crate) fn parse(text: &str, with_spans: bool) -> Option<Parsed> {
    let first = text.bytes().find(|b| !b.is_ascii_whitespace())?;
    if first != b'{' && first != b'[' {
        return None;
    }
    if !with_spans && text.len() >= TWO_PARTS_BYTES {
        return parse_in_two(text);
    }
    let mut run = Run::new(text, with_spans);
    run.run(Stop::Never)?;
    Some(run.builder.finish())
}

/// Reads `text` in two parts on two threads: this one reads from the start while a helper finds
/// the first separator (a `,` outside strings) past the middle, publishes its position, and reads
/// the rest, the tails of the collections open there; this thread stops at that separator and
/// appends the tails. The tree is the one a single pass builds; when the helper finds no
/// separator, fails, or publishes too late, this thread reads on alone.
fn parse_in_two(text: &str) -> Option<Parsed> {
    let split = AtomicUsize::new(NO_SPLIT);
    std::thread::scope(|scope| {
        let helper = std::thread::Builder::new().spawn_scoped(scope, || {
            let (comma, mappings) = separator_after(text.as_bytes(), text.len() / 2)?;
            split
                .compare_exchange(NO_SPLIT, comma, Ordering::AcqRel, Ordering::Acquire)
                .ok()?;
            parse_rest(text, comma, mappings, &split)
        });
        let mut run = Run::new(text, false);
        let Ok(helper) = helper else {
            // No thread to be had: read alone.
            run.run(Stop::Never)?;
            return Some(run.builder.finish());
        };
        let ended = run.run(Stop::AtSplit(&split));
        if !matches!(ended, Some(Ended::AtSplit)) {
            // Read to the end (or declined) before meeting the helper: it need not go on.
            split.store(ABANDONED, Ordering::Release);
        }
        match ended? {
            Ended::Done => Some(run.builder.finish()),
            Ended::AtSplit => {
                let rest = helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                run.join(rest)
            }
        }
    })
}

/// No separator chosen (yet): no byte offset is this large.
const NO_SPLIT: usize = usize::MAX;

/// The helper's part is not wanted (any more).
const ABANDONED: usize = usize::MAX - 1;

/// Where a [`Run`] stops before the end of the text.
#[derive(Clone, Copy)]
enum Stop<'a> {
    /// Nowhere.
    Never,
    /// At the separator whose byte offset is set here (read when each separator comes: another
    /// thread may set it meanwhile).
    AtSplit(&'a AtomicUsize),
    /// At the first separator after [`ABANDONED`] is set here, declining.
    IfAbandoned(&'a AtomicUsize),
}

/// What the helper of [`parse_in_two`] read after the separator.
struct Rest {
    /// The kinds of the collections open at the separator, outermost first (`true` for a mapping).
    mappings: Vec<bool>,
    /// What it read of each, innermost first.
    tails: Vec<Value>,
    /// How many nodes it read.
    nodes: usize,
}

/// The first `,` at or after byte `from` that is outside strings, and the kinds of the
/// collections open there, outermost first (`true` for a mapping); `None` when there is none or
/// the text nests deeper than a document may. Reads only brackets, quotes and escapes: the parse
/// checks the rest.
fn separator_after(bytes: &[u8], from: usize) -> Option<(usize, Vec<bool>)> {
    let mut open = Vec::new();
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'"' => loop {
                at += 1;
                match bytes.get(at)? {
                    b'\\' => at += 1,
                    b'"' => break,
                    _ => {}
                }
            },
            b'{' | b'[' if open.len() < MAX_DEPTH => open.push(byte == b'{'),
            b'{' | b'[' => return None,
            b'}' | b']' => {
                open.pop()?;
            }
            b',' if at >= from => return Some((at, open)),
            _ => {}
        }
        at += 1;
    }
    None
}

/// Reads `text` after the separator at byte `comma`, inside collections of these kinds
/// (outermost first; `true` for a mapping), to the end of the text, unless `split` is
/// [`ABANDONED`] meanwhile.
fn parse_rest(text: &str, comma: usize, mappings: Vec<bool>, split: &AtomicUsize) -> Option<Rest> {
    let after = comma + 1;
    let mut run = Run {
        // Lines and columns only place spans, which this part records none of.
        scanner: Scanner::new(text, after),
        builder: Builder::continued(&mappings),
        open: mappings
            .iter()
            .map(|&mapping| {
                if mapping {
                    Collection::Mapping
                } else {
                    Collection::Sequence
                }
            })
            .collect(),
        want_value: true,
    };
    if mappings.last() == Some(&true) {
        // A member follows the separator: its key first.
        run.scanner.skip_whitespace()?;
        run.scanner.key(&mut run.builder)?;
    }
    run.run(Stop::IfAbandoned(split))?;
    let (tails, nodes) = run.builder.into_tails();
    Some(Rest {
        mappings,
        tails,
        nodes,
    })
}

/// Where a [`Run`] stopped.
enum Ended {
    /// The root is complete and only whitespace follows.
    Done,
    /// At the separator it was asked to stop at (not yet read).
    AtSplit,
}

/// A parse under way: the scanner, the tree so far and the collections open.
struct Run<'t> {
    scanner: Scanner<'t>,
    builder: Builder,
    open: Vec<Collection>,
    /// Whether the next token starts a value (else a key, a separator or an end).
    want_value: bool,
}

impl<'t> Run<'t> {
    /// A parse of `text` from its start.
    fn new(text: &'t str, with_spans: bool) -> Self {
        // Every node but the root follows a `:` or a `,` (or opens a collection), about.
        let nodes =
            with_spans.then(|| text.bytes().filter(|b| matches!(b, b':' | b',')).count() + 1);
        Run {
            scanner: Scanner::new(text, 0),
            builder: Builder::new(nodes),
            open: Vec::new(),
            want_value: true,
        }
    }

    /// Reads on to the end of the text or to where `stop` says; `None` when the text is not
    /// strict JSON.
    fn run(&mut self, stop: Stop<'_>) -> Option<Ended> {
        let Run {
            scanner,
            builder,
            open,
            want_value,
        } = self;
        loop {
            scanner.skip_whitespace()?;
            if *want_value {
                let start = scanner.at;
                match scanner.peek()? {
                    b'{' | b'[' => {
                        let mapping = scanner.peek()? == b'{';
                        scanner.at += 1;
                        let at = scanner.blank_span(start);
                        builder.open(at, 0, mapping).ok()?;
                        open.push(if mapping {
                            Collection::Mapping
                        } else {
                            Collection::Sequence
                        });
                        scanner.skip_whitespace()?;
                        match (mapping, scanner.peek()?) {
                            (true, b'}') | (false, b']') => {
                                let end = scanner.at;
                                scanner.at += 1;
                                builder.close(scanner.blank_span(end)).ok()?;
                                open.pop();
                                *want_value = false;
                            }
                            (true, _) => {
                                scanner.key(builder)?;
                            }
                            (false, _) => {}
                        }
                        continue;
                    }
                    b'"' => {
                        let value = scanner.string()?;
                        builder
                            .value(Value::String(value), scanner.blank_span(start), 0)
                            .ok()?;
                    }
                    _ => {
                        let value = scanner.literal()?;
                        builder.value(value, scanner.span(start), 0).ok()?;
                    }
                }
                *want_value = false;
                continue;
            }
            let Some(collection) = open.last() else {
                // The root is complete: only whitespace may follow.
                return (scanner.at == scanner.text.len()).then_some(Ended::Done);
            };
            let start = scanner.at;
            match (collection, scanner.peek()?) {
                (_, b',') => {
                    match stop {
                        Stop::AtSplit(split) if split.load(Ordering::Acquire) == start => {
                            return Some(Ended::AtSplit);
                        }
                        Stop::IfAbandoned(split) if split.load(Ordering::Acquire) == ABANDONED => {
                            return None;
                        }
                        _ => {}
                    }
                    scanner.at += 1;
                    if let Collection::Mapping = collection {
                        scanner.skip_whitespace()?;
                        scanner.key(builder)?;
                    }
                    *want_value = true;
                }
                (Collection::Mapping, b'}') | (Collection::Sequence, b']') => {
                    scanner.at += 1;
                    builder.close(scanner.blank_span(start)).ok()?;
                    open.pop();
                }
                _ => return None,
            }
        }
    }

    /// Completes a run stopped at the separator with what was read after it (`None` when that
    /// part failed: this run then reads on alone); `None` when the document is not strict JSON.
    fn join(mut self, rest: Option<Rest>) -> Option<Parsed> {
        let rest = rest.filter(|rest| {
            self.open.len() == rest.mappings.len()
                && self
                    .open
                    .iter()
                    .zip(&rest.mappings)
                    .all(|(open, &mapping)| matches!(open, Collection::Mapping) == mapping)
        });
        let Some(rest) = rest else {
            self.run(Stop::Never)?;
            return Some(self.builder.finish());
        };
        if self.builder.nodes() + rest.nodes > MAX_NODES {
            return None;
        }
        let at = self.scanner.span(self.scanner.at);
        for tail in rest.tails {
            self.builder.close_with(tail, at).ok()?;
            self.open.pop();
        }
        Some(self.builder.finish())
    }
}

/// An open object or array.
enum Collection {
    Mapping,
    Sequence,
}

/// A position in the text, with its line and a column mark that only moves forward (so columns,
/// counted in characters, cost the text's length in all, even on a single line).
struct Scanner<'t> {
    text: &'t str,
    /// The byte offset of the next token.
    at: usize,
    /// The 1-based line of `at`.
    line: usize,
    /// A byte offset on the current line whose column is known.
    mark: usize,
    /// The 0-based column of `mark`.
    mark_column: usize,
}

impl<'t> Scanner<'t> {
    /// A scanner at byte `at` of `text` (a character boundary), counted as line 1, column 1.
    fn new(text: &'t str, at: usize) -> Self {
        Scanner {
            text,
            at,
            line: 1,
            mark: at,
            mark_column: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// Skips spaces, tabs and line breaks (`\n` or `\r\n`; a lone `\r` is left to YAML).
    fn skip_whitespace(&mut self) -> Option<()> {
        let bytes = self.text.as_bytes();
        while let Some(&byte) = bytes.get(self.at) {
            match byte {
                b' ' | b'\t' => self.at += 1,
                b'\n' => self.new_line(self.at + 1),
                b'\r' if bytes.get(self.at + 1) == Some(&b'\n') => self.new_line(self.at + 2),
                b'\r' => return None,
                _ => break,
            }
        }
        Some(())
    }

    fn new_line(&mut self, next: usize) {
        self.at = next;
        self.line += 1;
        self.mark = next;
        self.mark_column = 0;
    }

    /// The position of byte `offset` of the current line, not before the last one asked for.
    fn position(&mut self, offset: usize) -> TextPos {
        let skipped = &self.text[self.mark..offset];
        self.mark_column += if skipped.is_ascii() {
            skipped.len()
        } else {
            skipped.chars().count()
        };
        self.mark = offset;
        TextPos {
            line: self.line,
            column: self.mark_column + 1,
        }
    }

    /// The span from byte `start` to the scanner's position.
    fn span(&mut self, start: usize) -> TextSpan {
        TextSpan {
            start: self.position(start),
            end: self.position(self.at),
        }
    }

    /// The span from byte `start` over the token just read and the spaces and tabs after it on
    /// its line, which saphyr counts in the span of quoted scalars and of brackets (not of plain
    /// scalars).
    fn blank_span(&mut self, start: usize) -> TextSpan {
        let bytes = self.text.as_bytes();
        while matches!(bytes.get(self.at), Some(b' ' | b'\t')) {
            self.at += 1;
        }
        self.span(start)
    }

    /// A mapping key and its colon: the key goes to `builder` as YAML's key scalar would.
    fn key(&mut self, builder: &mut Builder) -> Option<()> {
        let start = self.at;
        if self.peek()? != b'"' {
            return None;
        }
        let key = self.string()?;
        builder
            .value(Value::String(key), self.blank_span(start), 0)
            .ok()?;
        self.skip_whitespace()?;
        if self.peek()? != b':' {
            return None;
        }
        self.at += 1;
        Some(())
    }

    /// A string token, unescaped; `None` for what strict JSON forbids (raw control characters,
    /// bad escapes) and for surrogate escapes (left to YAML's reading).
    fn string(&mut self) -> Option<String> {
        let bytes = self.text.as_bytes();
        let body = self.at + 1;
        let mut end = body;
        while let Some(&byte) = bytes.get(end) {
            match byte {
                b'"' => {
                    let value = self.text[body..end].to_owned();
                    self.at = end + 1;
                    return Some(value);
                }
                b'\\' => break,
                0..=0x1f => return None,
                _ => end += 1,
            }
        }
        let mut value = self.text[body..end].to_owned();
        let mut chars = self.text[end..].char_indices();
        while let Some((offset, c)) = chars.next() {
            match c {
                '"' => {
                    self.at = end + offset + 1;
                    return Some(value);
                }
                '\\' => {
                    let escaped = match chars.next()?.1 {
                        '"' => '"',
                        '\\' => '\\',
                        '/' => '/',
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        'u' => {
                            let mut code = 0u32;
                            for _ in 0..4 {
                                code = code * 16 + chars.next()?.1.to_digit(16)?;
                            }
                            char::from_u32(code)?
                        }
                        _ => return None,
                    };
                    value.push(escaped);
                }
                '\u{0}'..='\u{1f}' => return None,
                c => value.push(c),
            }
        }
        None
    }

    /// A number, `true`, `false` or `null`, typed as YAML types the same plain scalar.
    fn literal(&mut self) -> Option<Value> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        let mut end = start;
        while bytes
            .get(end)
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
        {
            end += 1;
        }
        let token = &self.text[start..end];
        let value = match token {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            _ if is_json_number(token) => number(token)?,
            _ => return None,
        };
        self.at = end;
        Some(value)
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`
fn is_json_number(token: &str) -> bool {
    fn digits(s: &str) -> (&str, &str) {
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        s.split_at(end)
    }
    let unsigned = token.strip_prefix('-').unwrap_or(token);
    let (int, rest) = digits(unsigned);
    if int.is_empty() || (int.len() > 1 && int.starts_with('0')) {
        return false;
    }
    let rest = match rest.strip_prefix('.') {
        Some(fraction) => {
            let (fraction, rest) = digits(fraction);
            if fraction.is_empty() {
                return false;
            }
            rest
        }
        None => rest,
    };
    match rest.strip_prefix(['e', 'E']) {
        Some(exponent) => {
            let exponent = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
            let (exponent, rest) = digits(exponent);
            !exponent.is_empty() && rest.is_empty()
        }
        None => rest.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::yaml;

    /// Asserts that the fast path reads `text` exactly as the YAML parser does, with spans or
    /// without.
    fn same_as_yaml(text: &str) {
        let fast = parse(text, true).unwrap_or_else(|| panic!("the fast path declined {text:?}"));
        let slow =
            yaml::parse(text, true).unwrap_or_else(|e| panic!("YAML refused {text:?}: {e:?}"));
        assert_eq!(fast.value, slow.value, "{text:?}");
        let bare = parse(text, false).unwrap_or_else(|| panic!("declined without spans {text:?}"));
        assert_eq!(bare.value, slow.value, "{text:?}");
        assert!(bare.spans.is_empty(), "{text:?}");
        let mut fast_spans: Vec<_> = fast.spans.into_iter().collect();
        let mut slow_spans: Vec<_> = slow.spans.into_iter().collect();
        fast_spans.sort_by(|a, b| a.0.cmp(&b.0));
        slow_spans.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(fast_spans, slow_spans, "{text:?}");
    }

    #[test]
    fn reads_json_as_yaml_does() {
        for text in [
            "{}",
            "[]",
            " \n{ }\n",
            r#"{"a": "xé", "b" : [1, -2.5e3, true, null, {}], "c":{"d":"\u00e9\n"}}"#,
            "{\r\n  \"x\": [1, {\"a/b~\": true}],\r\n  \"y\": \"\\\"q\\\" \\\\ \\/ \\t\"\r\n}\r\n",
            "[0, -0, 10, 1.5, 1E3, 2e-2, 18446744073709551615, 123456789012345678901234567890]",
            "{\"日本\": {\"語\": [\"ü\", \"€\", {\"k\": \"v\"}]}, \"n\": 1}",
            "[[[[]]], [[], {}], {\"\": \"\"}]",
            "{\"a\"   : \"x\"  , \"b\":[1 , true  ,\"s\"  ] , \"c\": {}  }",
            "{  \"a\":  [ ] , \"b\" :\t\"t\"\t}",
            "[ \"x\"  \n, {}  \n ]  \n",
            "{\"a\"\n  : 1,\n \"b\": \"x\"\n}",
        ] {
            same_as_yaml(text);
        }
    }

    #[test]
    fn declines_what_is_not_strict_json() {
        for text in [
            "a: 1",
            "",
            "   ",
            "{a: 1}",
            "{\"a\": 1,}",
            "[1, 2,]",
            "{\"a\": 01}",
            "{\"a\": .5}",
            "{\"a\": 1.}",
            "{\"a\": +1}",
            "{\"a\": True}",
            "{\"a\": \"tab\there\"}",
            "{\"a\": \"\\ud83d\\ude00\"}",
            "{\"a\": \"\\x\"}",
            "{\"a\": 1} # comment",
            "{\"a\": 1}\r{}",
            "{\"a\": 1} {}",
            "{\"a\" 1}",
            "{\"a\": [1 2]}",
            "{\"a\": \"unterminated",
            "[1, {\"a\": 2]",
            "{\"a\": 1, \"a\": 2}",
            &"[".repeat(10_000),
        ] {
            assert!(parse(text, true).is_none(), "{text:?}");
            assert!(parse(text, false).is_none(), "{text:?}");
        }
    }

    /// The two-part read with the separator at or after byte `from`, on this thread (the steps
    /// of [`parse_in_two`]), and whether the parts met at a separator.
    fn parse_split_at(text: &str, from: usize) -> (Option<Parsed>, bool) {
        let mut run = Run::new(text, false);
        let Some((comma, mappings)) = separator_after(text.as_bytes(), from) else {
            let whole = run.run(Stop::Never).map(|_| run.builder.finish());
            return (whole, false);
        };
        let split = AtomicUsize::new(comma);
        match run.run(Stop::AtSplit(&split)) {
            None => (None, false),
            Some(Ended::Done) => (Some(run.builder.finish()), false),
            Some(Ended::AtSplit) => {
                let rest = parse_rest(text, comma, mappings, &split);
                (run.join(rest), true)
            }
        }
    }

    /// Texts whose separators sit at every depth, in mappings and sequences.
    const NESTED: &[&str] = &[
        r#"{"a": {"b": [1, {"c": [true, null, "x,y"], "d": {}}, [2, [3, 4]]], "e": "\",\""}, "f": [[], {}], "g": 1}"#,
        "[{\"k\": [1, 2], \"l\": {\"m\": \"]\", \"n\": [\"}\", 3]}}, [[[5, 6], 7], 8], 9]",
        "{\n  \"x\" : [ 1 ,\n 2 ] ,\r\n  \"y\" :{ \"z\" : \"é,ü\" } \n}\n",
    ];

    #[test]
    fn two_parts_read_as_one_does_wherever_they_meet() {
        for text in NESTED.iter().copied().chain([
            r#"{"a": "xé", "b" : [1, -2.5e3, true, null, {}], "c":{"d":"\u00e9\n"}}"#,
            "[[[[]]], [[], {}], {\"\": \"\"}]",
            "{\"a\"   : \"x\"  , \"b\":[1 , true  ,\"s\"  ] , \"c\": {}  }",
        ]) {
            let whole = parse(text, false).expect("valid JSON").value;
            for from in 0..=text.len() {
                let (parts, met) = parse_split_at(text, from);
                let parts = parts.map(|parsed| parsed.value);
                assert_eq!(parts.as_ref(), Some(&whole), "{text:?} split from {from}");
                // Wherever a separator follows, the parts meet there.
                let separator = separator_after(text.as_bytes(), from).is_some();
                assert_eq!(met, separator, "{text:?} split from {from}");
            }
        }
    }

    #[test]
    fn two_parts_decline_what_one_declines() {
        for text in [
            "{\"a\": 1, \"b\": 2, \"a\": 3}",
            "{\"a\": {\"x\": 1, \"y\": 2}, \"b\": 2, \"b\": 3}",
            "[1, 2]]",
            "[1, 2], [3]",
            "{\"a\": [1, 2}, \"b\": 3}",
            "{\"a\": 1, \"b\" 2}",
            "{\"a\": 1, }",
            "[1, 2,]",
            "[1, 2",
            "{\"a\": [1, 2], \"b\": \"unterminated, \"c\": 3}",
        ] {
            assert!(parse(text, false).is_none(), "{text:?}");
            for from in 0..=text.len() {
                assert!(
                    parse_split_at(text, from).0.is_none(),
                    "{text:?} split from {from}"
                );
            }
        }
    }

    #[test]
    fn an_abandoned_helper_stops_at_its_next_separator() {
        let text = NESTED[1];
        let (comma, mappings) = separator_after(text.as_bytes(), 0).expect("a separator");
        let split = AtomicUsize::new(comma);
        assert!(parse_rest(text, comma, mappings.clone(), &split).is_some());
        split.store(ABANDONED, Ordering::Release);
        assert!(parse_rest(text, comma, mappings, &split).is_none());
    }

    #[test]
    fn large_documents_read_in_two_parts_as_in_one() {
        let mut text = String::from("{\"items\": [");
        let mut i = 0;
        while text.len() < 2 * TWO_PARTS_BYTES {
            if i > 0 {
                text.push_str(",\n");
            }
            text.push_str(&format!(
                "{{\"k{i}\": \"v,\\\"{i}\", \"n\": [1, 2.5, null, {{\"d\": [[{i}]]}}], \"é\": {{}}}}"
            ));
            i += 1;
        }
        text.push_str("], \"tail\": {\"a\": [1, 2, 3], \"b\": \"x\"}}");
        let parts = parse(&text, false).expect("read in two parts").value;
        let one = parse(&text, true).expect("read in one").value;
        assert_eq!(parts, one);
        // A duplicate key past the middle is found across the parts too.
        let duplicated = text.replacen("\"tail\"", "\"items\"", 1);
        assert!(parse(&duplicated, false).is_none());
    }

    #[test]
    fn corpus_json_reads_in_two_parts_as_in_one() {
        let mut compared = 0;
        for path in crate::test_support::spec_and_corpus_files() {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Some(whole) = parse(&text, true) else {
                continue;
            };
            for step in 1..20 {
                let from = text.len() * step / 20;
                let parts = parse_split_at(&text, from).0.map(|parsed| parsed.value);
                assert_eq!(
                    parts.as_ref(),
                    Some(&whole.value),
                    "{} from {from}",
                    path.display()
                );
            }
            compared += 1;
        }
        assert!(compared > 0, "no JSON document found");
    }

    #[test]
    fn long_single_line_columns_count_characters() {
        let mut text = String::from("[");
        for i in 0..2_000 {
            text.push_str(&format!("\"é{i}\", "));
        }
        text.push_str("{\"last\": true}]");
        same_as_yaml(&text);
    }

    /// Every JSON document of the shared corpus (when `$CHANX_CORPUS` is set) and of `specs/` is
    /// read exactly as the YAML parser reads it.
    #[test]
    fn corpus_json_reads_as_yaml_does() {
        let mut compared = 0;
        for path in crate::test_support::spec_and_corpus_files() {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if parse(&text, true).is_some() {
                same_as_yaml(&text);
                compared += 1;
            }
        }
        assert!(compared > 0, "no JSON document found");
    }
}

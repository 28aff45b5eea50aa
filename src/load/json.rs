//! A fast path for documents written in plain JSON.
//!
//! saphyr's YAML parser reads JSON too (YAML 1.2's flow subset), but spends most of a large
//! document's load time on YAML's generality. This scanner reads strict JSON (RFC 8259) and feeds
//! the same [`Builder`] the YAML events would, with the spans saphyr would give (token start to
//! token end, columns in characters), so the tree, the spans and every later diagnostic are the
//! same. Anything it does not read, it leaves to the YAML parser: text that is not strict JSON
//! (comments, a lone `\r`, a raw tab in a string, unpaired surrogates, ...) and every error, whose
//! diagnostic saphyr's path writes.

use serde_json::Value;

use super::TextPos;
use super::TextSpan;
use super::yaml::{Builder, Parsed, number};

/// The tree of `text`, with its spans when `with_spans`, when it is a valid strict-JSON object or
/// array; `None` when the YAML parser should read it instead.
pub(crate) fn parse(text: &str, with_spans: bool) -> Option<Parsed> {
    let first = text.bytes().find(|b| !b.is_ascii_whitespace())?;
    if first != b'{' && first != b'[' {
        return None;
    }
    let mut scanner = Scanner {
        text,
        at: 0,
        line: 1,
        mark: 0,
        mark_column: 0,
    };
    // Every node but the root follows a `:` or a `,` (or opens a collection), about.
    let nodes = with_spans.then(|| text.bytes().filter(|b| matches!(b, b':' | b',')).count() + 1);
    let mut builder = Builder::new(nodes);
    let mut open: Vec<Collection> = Vec::new();
    // Whether the next token starts a value (else a key, a separator or an end).
    let mut want_value = true;
    loop {
        scanner.skip_whitespace()?;
        if want_value {
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
                            want_value = false;
                        }
                        (true, _) => {
                            scanner.key(&mut builder)?;
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
            want_value = false;
            continue;
        }
        let Some(collection) = open.last() else {
            // The root is complete: only whitespace may follow.
            return (scanner.at == text.len()).then(|| builder.finish());
        };
        let start = scanner.at;
        match (collection, scanner.peek()?) {
            (_, b',') => {
                scanner.at += 1;
                if let Collection::Mapping = collection {
                    scanner.skip_whitespace()?;
                    scanner.key(&mut builder)?;
                }
                want_value = true;
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

impl Scanner<'_> {
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

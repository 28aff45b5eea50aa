//! Reading a client frame the way Chanx does.
//!
//! Chanx runs `json.loads` on the text, validates the envelope keys with pydantic
//! (`Envelope(version: int = 1, topic: str | None, ref: str | None, seq: int | None)`), strips them, and
//! validates the rest with a discriminated union on `action`. [`read_frame`] does the first two steps in
//! one pass over the text: a scanner that accepts exactly what CPython's `json` module accepts (and
//! words its errors the same way, positions in characters), and that keeps the raw text of the top-level
//! values it needs (the envelope keys and the tag), so nothing is decoded twice. [`decode_message`] then
//! decodes the chosen message type with serde, falling back to [`check_value`] for pydantic-style
//! errors when serde refuses the frame.
//!
//! Known differences from Chanx, all on inputs no real client sends: a frame whose decoded value
//! `json.loads` accepts but `serde_json` does not (`NaN`, `Infinity`, lone surrogate escapes, numbers
//! beyond `f64`, nesting deeper than 128, duplicate keys that serde refuses) is rejected with one
//! `value_error` instead of being accepted.

use std::borrow::Cow;

use serde::de::DeserializeOwned;

use crate::protocol::{ErrorItem, ErrorPayload, error_frame};
use crate::pyfmt;
use crate::validate::{Errors, Schema, Validate, check_value, coerce, lax_int_from_str};

/// The envelope keys of a client frame, after pydantic-compatible validation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    /// `version`: `None` when absent (Chanx defaults it to `1`) or when it does not fit an `i64`.
    pub version: Option<i64>,
    /// `topic`: `None` when absent or `null`.
    pub topic: Option<String>,
    /// `ref`: `None` when absent or `null`.
    pub reference: Option<String>,
    /// `seq`: `None` when absent, `null`, or when it does not fit an `i64`.
    pub seq: Option<i64>,
}

/// Keys that Chanx treats as envelope, not message.
pub const ENVELOPE_KEYS: [&str; 4] = ["version", "topic", "ref", "seq"];

/// A frame that is valid JSON, a JSON object, and carries a valid envelope.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    /// The whole frame.
    pub text: &'a str,
    /// Its envelope.
    pub envelope: Envelope,
    tag: Option<&'a str>,
}

/// The tag (discriminator) value found in a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagLookup<'a> {
    /// The frame has no such key.
    Missing,
    /// A JSON string (escapes decoded).
    Str(Cow<'a, str>),
    /// Any other JSON value, as its raw text.
    Other(&'a str),
}

impl TagLookup<'_> {
    /// The tag when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            TagLookup::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// A frame rejected before any message was decoded, or a message that failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The errors, in pydantic's order.
    pub errors: Vec<ErrorItem>,
    /// The `ref` to echo in the error frame: set only when the envelope itself was valid and carried a
    /// string `ref` (so never for the errors [`read_frame`] reports; see [`Incoming::reject`]).
    pub reply_ref: Option<String>,
}

impl Rejected {
    /// The error frame Chanx sends for this rejection.
    pub fn frame(&self) -> String {
        error_frame(
            &ErrorPayload::Items(self.errors.clone()),
            self.reply_ref.as_deref(),
        )
    }

    /// What Chanx answers to a binary WebSocket frame.
    pub fn binary_frame() -> Self {
        Rejected {
            errors: vec![ErrorItem::new(
                "json_invalid",
                Vec::new(),
                "Invalid JSON: binary frames are not supported",
            )],
            reply_ref: None,
        }
    }
}

impl<'a> Incoming<'a> {
    /// The tag value (`action` in Chanx) of the frame.
    pub fn tag(&self) -> TagLookup<'a> {
        match self.tag {
            None => TagLookup::Missing,
            Some(raw) if raw.starts_with('"') => TagLookup::Str(unescape(&raw[1..raw.len() - 1])),
            Some(raw) => TagLookup::Other(raw),
        }
    }

    /// The raw JSON text of the tag value, if present.
    pub fn tag_raw(&self) -> Option<&'a str> {
        self.tag
    }

    /// A rejection of this frame with `errors`, echoing its `ref` as Chanx does.
    pub fn reject(&self, errors: Vec<ErrorItem>) -> Rejected {
        Rejected {
            errors,
            reply_ref: self.envelope.reference.clone(),
        }
    }
}

/// Scans a text frame, validates its envelope and finds the value of `tag_property`.
///
/// # Errors
/// Invalid JSON (`json_invalid`, with CPython's message), JSON that is not an object (`model_type`), and
/// envelope errors (`int_parsing`, `string_type`, ... at `["version"]`, `["ref"]`, ...).
pub fn read_frame<'a>(text: &'a str, tag_property: &str) -> Result<Incoming<'a>, Rejected> {
    let mut raw = RawEnvelope::default();
    let mut tag = None;
    let top_is_object = scan(text, |key, value| {
        let key = if key.contains('\\') {
            unescape(key)
        } else {
            Cow::Borrowed(key)
        };
        if key == tag_property {
            tag = Some(value);
        }
        match &*key {
            "version" => raw.version = Some(value),
            "topic" => raw.topic = Some(value),
            "ref" => raw.reference = Some(value),
            "seq" => raw.seq = Some(value),
            _ => {}
        }
    })
    .map_err(|error| Rejected {
        errors: vec![ErrorItem::new(
            "json_invalid",
            Vec::new(),
            format!("Invalid JSON: {}", error.message(text)),
        )],
        reply_ref: None,
    })?;
    if !top_is_object {
        return Err(Rejected {
            errors: vec![ErrorItem::new(
                "model_type",
                Vec::new(),
                "Input should be a valid dictionary or instance of Envelope",
            )],
            reply_ref: None,
        });
    }
    let mut errors = Errors::new();
    let envelope = Envelope {
        version: raw
            .version
            .and_then(|v| envelope_int(&mut errors, "version", v, false)),
        topic: raw
            .topic
            .and_then(|v| envelope_str(&mut errors, "topic", v)),
        reference: raw
            .reference
            .and_then(|v| envelope_str(&mut errors, "ref", v)),
        seq: raw
            .seq
            .and_then(|v| envelope_int(&mut errors, "seq", v, true)),
    };
    if !errors.is_empty() {
        return Err(Rejected {
            errors: errors.into_items(),
            reply_ref: None,
        });
    }
    Ok(Incoming {
        text,
        envelope,
        tag,
    })
}

#[derive(Default)]
struct RawEnvelope<'a> {
    version: Option<&'a str>,
    topic: Option<&'a str>,
    reference: Option<&'a str>,
    seq: Option<&'a str>,
}

fn envelope_str(errors: &mut Errors, key: &str, raw: &str) -> Option<String> {
    if raw == "null" {
        return None;
    }
    if raw.starts_with('"') {
        return Some(unescape(&raw[1..raw.len() - 1]).into_owned());
    }
    errors.at_key(key, |e| {
        e.report("string_type", "Input should be a valid string".to_owned())
    });
    None
}

/// pydantic's lax `int` (with `None` allowed for `Optional[int]` fields).
fn envelope_int(errors: &mut Errors, key: &str, raw: &str, nullable: bool) -> Option<i64> {
    let result: Result<Option<i64>, (&str, &str)> = match raw.as_bytes()[0] {
        b'n' if nullable => Ok(None),
        b't' => Ok(Some(1)),
        b'f' => Ok(Some(0)),
        b'"' => {
            let s = unescape(&raw[1..raw.len() - 1]);
            lax_int_from_str(&s).map(|i| i64::try_from(i).ok())
        }
        b'-' | b'0'..=b'9' | b'N' | b'I'
            if !raw.contains(['.', 'e', 'E']) && raw != "NaN" && !raw.ends_with("Infinity") =>
        {
            Ok(raw.parse::<i64>().ok())
        }
        b'-' | b'0'..=b'9' | b'N' | b'I' => {
            let value = match raw {
                "NaN" => f64::NAN,
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                _ => raw.parse::<f64>().unwrap_or(f64::NAN),
            };
            crate::validate::lax_int_from_f64(value).map(Some)
        }
        _ => Err(("int_type", "Input should be a valid integer")),
    };
    match result {
        Ok(value) => value,
        Err((kind, msg)) => {
            errors.at_key(key, |e| e.report(kind, msg.to_owned()));
            None
        }
    }
}

/// The `union_tag_not_found` / `union_tag_invalid` error for a frame whose tag selects no message.
///
/// `expected` is sorted (Chanx builds its union sorted by action) and printed quoted, joined by `", "`;
/// the found value is printed as Python's `str()` would (`None`, `True`, `1.0`, `{'a': 1}`).
pub fn tag_error(found: &TagLookup<'_>, property: &str, expected: &[&str]) -> ErrorItem {
    let mut sorted: Vec<&str> = expected.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let found = match found {
        TagLookup::Missing => None,
        TagLookup::Str(s) => Some(s.clone().into_owned()),
        TagLookup::Other(raw) => Some(pyfmt::python_str_of_json(raw)),
    };
    tag_error_item(found.as_deref(), property, &sorted)
}

/// The tag error for a found value already printed as Python's `str()` (or `None` when missing), with
/// `expected` in the order given.
pub(crate) fn tag_error_item(found: Option<&str>, property: &str, expected: &[&str]) -> ErrorItem {
    match found {
        None => ErrorItem::new(
            "union_tag_not_found",
            Vec::new(),
            format!(
                "Unable to extract tag using discriminator {}",
                pyfmt::str_repr(property)
            ),
        ),
        Some(found) => {
            let tags: Vec<String> = expected.iter().map(|t| format!("'{t}'")).collect();
            ErrorItem::new(
                "union_tag_invalid",
                Vec::new(),
                format!(
                    "Input tag '{found}' found using {} does not match any of the expected tags: {}",
                    pyfmt::str_repr(property),
                    tags.join(", ")
                ),
            )
        }
    }
}

/// Decodes the message selected by `tag` from a frame.
///
/// Fast path: `serde_json` decodes `T` from the whole frame (its struct ignores the envelope keys), then
/// [`Validate`] checks the constraints serde does not, errors rooted at `[tag]`. When serde refuses the
/// frame, the slow path checks the frame (envelope keys removed) against `schema` to produce pydantic's
/// errors; if that finds nothing (pydantic accepts the input in lax mode, but `T` is stricter), the
/// frame is converted as pydantic converts it ([`coerce`]) and decoded again; what still fails gets
/// one `value_error` carrying serde's message.
///
/// # Errors
/// The validation errors, in pydantic's order, with `loc` starting with `tag`.
pub fn decode_message<T: DeserializeOwned + Validate>(
    incoming: &Incoming<'_>,
    tag: &str,
    schema: &Schema,
) -> Result<T, Vec<ErrorItem>> {
    let serde_error = match serde_json::from_str::<T>(incoming.text) {
        Ok(value) => return validated(value, tag),
        Err(error) => error,
    };
    let value_error = || {
        let mut error = Errors::rooted(tag);
        error.report("value_error", format!("Value error, {serde_error}"));
        Err(error.into_items())
    };
    // A frame nested deeper than `serde_json::Value` reads gets the `value_error`.
    let Some(mut value) = message_value(incoming) else {
        return value_error();
    };
    let errors = check_value_rooted(schema, &value, tag);
    if !errors.is_empty() {
        return Err(errors);
    }
    // pydantic's lax mode accepts what serde's strict decoding refused (`"2"` for an integer,
    // `"yes"` for a boolean): convert those values as pydantic does and decode again.
    coerce(schema, &mut value);
    match serde_json::from_value::<T>(value) {
        Ok(value) => validated(value, tag),
        Err(_) => value_error(),
    }
}

/// `value` when it passes its [`Validate`] checks, else their errors rooted at `tag`.
fn validated<T: Validate>(value: T, tag: &str) -> Result<T, Vec<ErrorItem>> {
    let mut errors = Errors::rooted(tag);
    value.validate(&mut errors);
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(errors.into_items())
    }
}

/// The message a frame carries: the frame's JSON without its envelope keys; `None` when
/// `serde_json::Value` cannot hold it (nesting beyond its recursion limit).
fn message_value(incoming: &Incoming<'_>) -> Option<serde_json::Value> {
    let mut value = serde_json::from_str::<serde_json::Value>(incoming.text).ok()?;
    if let Some(map) = value.as_object_mut() {
        for key in ENVELOPE_KEYS {
            map.shift_remove(key);
        }
    }
    Some(value)
}

fn check_value_rooted(schema: &Schema, value: &serde_json::Value, tag: &str) -> Vec<ErrorItem> {
    let mut errors = Errors::rooted(tag);
    check_value(schema, value, &mut errors);
    errors.into_items()
}

/// Checks the message a frame carries (the frame without its envelope keys) against `schema`
/// alone, as pydantic would: the errors, with `loc` starting with `tag`; empty when it is valid.
/// This is how [`decode_message`] explains a frame that does not decode, and how a server without
/// generated types (`chanx-gen mock`) validates frames.
pub fn check_message(incoming: &Incoming<'_>, tag: &str, schema: &Schema) -> Vec<ErrorItem> {
    match message_value(incoming) {
        Some(value) => check_value_rooted(schema, &value, tag),
        None => Vec::new(),
    }
}

/// Decodes the body of a JSON string (between the quotes): escapes resolved, surrogate pairs joined,
/// lone surrogates replaced by U+FFFD. Borrows when there is no escape.
pub(crate) fn unescape(inner: &str) -> Cow<'_, str> {
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    let hex4 = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| -> Option<u32> {
        let mut value = 0;
        for _ in 0..4 {
            value = value * 16 + chars.next()?.to_digit(16)?;
        }
        Some(value)
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let Some(high) = hex4(&mut chars) else {
                    out.push('\u{fffd}');
                    continue;
                };
                if (0xd800..0xdc00).contains(&high) {
                    let mut lookahead = chars.clone();
                    if lookahead.next() == Some('\\') && lookahead.next() == Some('u') {
                        if let Some(low) = hex4(&mut lookahead) {
                            if (0xdc00..0xe000).contains(&low) {
                                chars = lookahead;
                                let code = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
                                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                                continue;
                            }
                        }
                    }
                }
                out.push(char::from_u32(high).unwrap_or('\u{fffd}'));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Cow::Owned(out)
}

// ---------------------------------------------------------------------------------------------------
// The CPython-compatible scanner.

/// A `json.JSONDecodeError`: the message and the position (a byte offset into the text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScanError {
    msg: &'static str,
    pos: usize,
}

impl ScanError {
    /// `str(JSONDecodeError)`: `"<msg>: line L column C (char P)"`, counted in characters.
    pub(crate) fn message(&self, text: &str) -> String {
        let before = &text[..self.pos.min(text.len())];
        let pos = before.chars().count();
        let line = before.matches('\n').count() + 1;
        let column = match before.rfind('\n') {
            Some(newline) => before[newline + 1..].chars().count() + 1,
            None => pos + 1,
        };
        format!("{}: line {line} column {column} (char {pos})", self.msg)
    }
}

const EXPECTING_VALUE: &str = "Expecting value";

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Validates `text` as `json.loads` would. Calls `member(raw_key, raw_value)` for every member of the
/// top-level object (the key without its quotes, escapes not decoded; the value's exact text), in
/// order. Returns whether the top-level value is an object.
pub(crate) fn scan<'a>(
    text: &'a str,
    mut member: impl FnMut(&'a str, &'a str),
) -> Result<bool, ScanError> {
    let b = text.as_bytes();
    if text.starts_with('\u{feff}') {
        return Err(ScanError {
            msg: "Unexpected UTF-8 BOM (decode using utf-8-sig)",
            pos: 0,
        });
    }
    let skip = |mut i: usize| {
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        i
    };
    let start = skip(0);
    let top_is_object = b.get(start) == Some(&b'{');
    // The open containers (`[` or `{`); depth 1 with `{` is the top-level object.
    let mut stack: Vec<u8> = Vec::new();
    // The current top-level member: (key, value start).
    let mut pending: Option<(&'a str, usize)> = None;
    let mut idx = start;

    // Reads `"key" ws : ws` at `idx` inside an object, returning the position of the value.
    let key_colon = |idx: usize,
                     stack_len: usize,
                     pending: &mut Option<(&'a str, usize)>|
     -> Result<usize, ScanError> {
        if b.get(idx) != Some(&b'"') {
            return Err(ScanError {
                msg: "Expecting property name enclosed in double quotes",
                pos: idx,
            });
        }
        let after = scan_string(b, idx + 1)?;
        let mut i = skip(after);
        if b.get(i) != Some(&b':') {
            return Err(ScanError {
                msg: "Expecting ':' delimiter",
                pos: i,
            });
        }
        i = skip(i + 1);
        if stack_len == 1 {
            *pending = Some((&text[idx + 1..after - 1], i));
        }
        Ok(i)
    };

    'value: loop {
        // Parse one value at `idx`.
        let Some(&c) = b.get(idx) else {
            return Err(ScanError {
                msg: EXPECTING_VALUE,
                pos: idx,
            });
        };
        match c {
            b'"' => idx = scan_string(b, idx + 1)?,
            b'{' => {
                let i = skip(idx + 1);
                if b.get(i) == Some(&b'}') {
                    idx = i + 1;
                } else {
                    stack.push(b'{');
                    idx = key_colon(i, stack.len(), &mut pending)?;
                    continue 'value;
                }
            }
            b'[' => {
                let i = skip(idx + 1);
                if b.get(i) == Some(&b']') {
                    idx = i + 1;
                } else {
                    stack.push(b'[');
                    idx = i;
                    continue 'value;
                }
            }
            _ => {
                let rest = &b[idx..];
                let constant = [
                    &b"null"[..],
                    b"true",
                    b"false",
                    b"NaN",
                    b"Infinity",
                    b"-Infinity",
                ]
                .into_iter()
                .find(|token| token[0] == c && rest.starts_with(token));
                idx = match constant {
                    Some(token) => idx + token.len(),
                    None => scan_number(b, idx).ok_or(ScanError {
                        msg: EXPECTING_VALUE,
                        pos: idx,
                    })?,
                };
            }
        }
        // A value ended at `idx`: close containers until one wants another value.
        loop {
            let Some(&open) = stack.last() else {
                let end = skip(idx);
                if end != b.len() {
                    return Err(ScanError {
                        msg: "Extra data",
                        pos: end,
                    });
                }
                return Ok(top_is_object);
            };
            if stack.len() == 1 {
                if let Some((key, value_start)) = pending.take() {
                    member(key, &text[value_start..idx]);
                }
            }
            idx = skip(idx);
            let close = if open == b'{' { b'}' } else { b']' };
            if b.get(idx) == Some(&close) {
                stack.pop();
                idx += 1;
                continue;
            }
            if b.get(idx) != Some(&b',') {
                return Err(ScanError {
                    msg: "Expecting ',' delimiter",
                    pos: idx,
                });
            }
            idx = skip(idx + 1);
            if open == b'{' {
                idx = key_colon(idx, stack.len(), &mut pending)?;
            }
            continue 'value;
        }
    }
}

/// Scans a string whose opening quote is at `start - 1`; returns the position after the closing quote.
/// Mirrors CPython's `scanstring` (strict mode), including where it reports each error.
fn scan_string(b: &[u8], start: usize) -> Result<usize, ScanError> {
    let begin = start - 1;
    let unterminated = ScanError {
        msg: "Unterminated string starting at",
        pos: begin,
    };
    let bad_u = |pos| ScanError {
        msg: "Invalid \\uXXXX escape",
        pos,
    };
    let hex = |i: usize| -> u32 {
        match b.get(i) {
            Some(c @ b'0'..=b'9') => u32::from(c - b'0'),
            Some(c @ b'a'..=b'f') => u32::from(c - b'a' + 10),
            Some(c @ b'A'..=b'F') => u32::from(c - b'A' + 10),
            _ => u32::MAX,
        }
    };
    let hex4 = |first: usize| -> Option<u32> {
        let mut value = 0;
        for i in first..first + 4 {
            let digit = hex(i);
            if digit == u32::MAX {
                return None;
            }
            value = value * 16 + digit;
        }
        Some(value)
    };
    let mut end = start;
    loop {
        let mut next = end;
        while next < b.len() {
            let d = b[next];
            if d == b'"' || d == b'\\' {
                break;
            }
            if d <= 0x1f {
                return Err(ScanError {
                    msg: "Invalid control character at",
                    pos: next,
                });
            }
            next += 1;
        }
        if next == b.len() {
            return Err(unterminated);
        }
        let c = b[next];
        next += 1;
        if c == b'"' {
            return Ok(next);
        }
        if next == b.len() {
            return Err(unterminated);
        }
        let escape = b[next];
        if escape != b'u' {
            end = next + 1;
            if !matches!(
                escape,
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't'
            ) {
                return Err(ScanError {
                    msg: "Invalid \\escape",
                    pos: end - 2,
                });
            }
            continue;
        }
        // `\uXXXX`: `next` is at the `u`.
        let u_pos = next;
        let first = next + 1;
        end = first + 4;
        if end >= b.len() {
            return Err(bad_u(u_pos));
        }
        let unit = hex4(first).ok_or(bad_u(u_pos))?;
        if (0xd800..0xdc00).contains(&unit)
            && end + 6 < b.len()
            && b[end] == b'\\'
            && b[end + 1] == b'u'
        {
            let low = hex4(end + 2).ok_or(bad_u(end + 1))?;
            if (0xdc00..0xe000).contains(&low) {
                end += 6;
            }
        }
    }
}

/// Matches CPython's number pattern at `start`; returns the end, or `None` when no number starts there.
fn scan_number(b: &[u8], start: usize) -> Option<usize> {
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let mut idx = start;
    if b.get(idx) == Some(&b'-') {
        idx += 1;
    }
    match b.get(idx) {
        Some(b'1'..=b'9') => {
            idx += 1;
            while digit(idx) {
                idx += 1;
            }
        }
        Some(b'0') => idx += 1,
        _ => return None,
    }
    if b.get(idx) == Some(&b'.') && digit(idx + 1) {
        idx += 2;
        while digit(idx) {
            idx += 1;
        }
    }
    if matches!(b.get(idx), Some(b'e' | b'E')) && idx + 1 < b.len() {
        let e_start = idx;
        idx += 1;
        if matches!(b.get(idx), Some(b'-' | b'+')) && idx + 1 < b.len() {
            idx += 1;
        }
        while digit(idx) {
            idx += 1;
        }
        if !digit(idx - 1) {
            idx = e_start;
        }
    }
    Some(idx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::LocItem;
    use crate::validate::{
        FieldSchema, NumberConstraints, ObjectSchema, StrConstraints, check_str,
    };
    use serde::Deserialize;

    fn rejected(text: &str) -> Rejected {
        read_frame(text, "action").expect_err(text)
    }

    fn frame_of(text: &str) -> String {
        rejected(text).frame()
    }

    fn key(k: &str) -> LocItem {
        LocItem::Key(k.to_owned())
    }

    #[test]
    fn invalid_json_frame() {
        assert_eq!(
            frame_of("{not json"),
            r#"{"action": "error", "payload": [{"type": "json_invalid", "loc": [], "msg": "Invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"}]}"#
        );
        assert_eq!(
            Rejected::binary_frame().frame(),
            r#"{"action": "error", "payload": [{"type": "json_invalid", "loc": [], "msg": "Invalid JSON: binary frames are not supported"}]}"#
        );
    }

    #[test]
    fn cpython_error_messages() {
        // Expected messages are str(json.JSONDecodeError) from CPython 3.11's json.loads.
        let table: &[(&str, &str)] = &[
            ("", "Expecting value: line 1 column 1 (char 0)"),
            ("   ", "Expecting value: line 1 column 4 (char 3)"),
            (
                "{",
                "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
            ),
            ("[", "Expecting value: line 1 column 2 (char 1)"),
            (
                "{\"a\"",
                "Expecting ':' delimiter: line 1 column 5 (char 4)",
            ),
            (
                "{\"a\" 1}",
                "Expecting ':' delimiter: line 1 column 6 (char 5)",
            ),
            (
                "{\"a\": 1 \"b\": 2}",
                "Expecting ',' delimiter: line 1 column 9 (char 8)",
            ),
            (
                "{\"a\": 1,}",
                "Expecting property name enclosed in double quotes: line 1 column 9 (char 8)",
            ),
            ("[1,]", "Expecting value: line 1 column 4 (char 3)"),
            ("[1 2]", "Expecting ',' delimiter: line 1 column 4 (char 3)"),
            (
                "\"abc",
                "Unterminated string starting at: line 1 column 1 (char 0)",
            ),
            (
                "{\"a\": \"x\ny\"}",
                "Invalid control character at: line 1 column 9 (char 8)",
            ),
            (
                "{\"a\": \"\\x\"}",
                "Invalid \\escape: line 1 column 8 (char 7)",
            ),
            (
                "{\"a\": \"\\u12g4\"}",
                "Invalid \\uXXXX escape: line 1 column 9 (char 8)",
            ),
            (
                "\"\\ud800\\udc0\"",
                "Invalid \\uXXXX escape: line 1 column 9 (char 8)",
            ),
            ("{} x", "Extra data: line 1 column 4 (char 3)"),
            (
                "\n\n{\"a\": \n  x}",
                "Expecting value: line 4 column 3 (char 11)",
            ),
            (
                "{\"\u{e9}\": ?}",
                "Expecting value: line 1 column 7 (char 6)",
            ),
            (
                "\u{feff}{}",
                "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)",
            ),
            ("nul", "Expecting value: line 1 column 1 (char 0)"),
            ("01", "Extra data: line 1 column 2 (char 1)"),
            ("-", "Expecting value: line 1 column 1 (char 0)"),
            ("1.", "Extra data: line 1 column 2 (char 1)"),
            (
                "{\"a\":\"\\",
                "Unterminated string starting at: line 1 column 6 (char 5)",
            ),
            ("\"\u{1f600}\" 1", "Extra data: line 1 column 5 (char 4)"),
        ];
        for (input, message) in table {
            let error = rejected(input);
            assert_eq!(error.errors.len(), 1, "{input:?}");
            assert_eq!(error.errors[0].kind, "json_invalid", "{input:?}");
            assert_eq!(
                error.errors[0].msg,
                format!("Invalid JSON: {message}"),
                "{input:?}"
            );
            assert!(error.errors[0].loc.is_empty());
        }
    }

    #[test]
    fn python_accepts_what_it_accepts() {
        for ok in [
            "{}",
            " {\"a\": NaN, \"b\": -Infinity, \"c\": [Infinity]} ",
            "{\"a\": \"\\ud800\"}",
            "{\"a\": 1e999}",
            "{\"a\": \"\u{7f}\"}",
        ] {
            assert!(read_frame(ok, "action").is_ok(), "{ok}");
        }
    }

    #[test]
    fn non_object_frames() {
        for text in ["[1, 2, 3]", "123", "\"x\"", "null"] {
            assert_eq!(
                frame_of(text),
                r#"{"action": "error", "payload": [{"type": "model_type", "loc": [], "msg": "Input should be a valid dictionary or instance of Envelope"}]}"#,
                "{text}"
            );
        }
    }

    #[test]
    fn envelope_errors() {
        assert_eq!(
            frame_of(r#"{"action": "ping", "version": "x", "ref": "r-1"}"#),
            r#"{"action": "error", "payload": [{"type": "int_parsing", "loc": ["version"], "msg": "Input should be a valid integer, unable to parse string as an integer"}]}"#
        );
        assert_eq!(
            frame_of(r#"{"action": "ping", "ref": 5}"#),
            r#"{"action": "error", "payload": [{"type": "string_type", "loc": ["ref"], "msg": "Input should be a valid string"}]}"#
        );
        let error = rejected(r#"{"topic": 1, "ref": true, "seq": "a", "version": 2.5}"#);
        let kinds: Vec<(&str, &LocItem)> = error
            .errors
            .iter()
            .map(|e| (e.kind.as_str(), &e.loc[0]))
            .collect();
        assert_eq!(
            kinds,
            [
                ("int_from_float", &key("version")),
                ("string_type", &key("topic")),
                ("string_type", &key("ref")),
                ("int_parsing", &key("seq"))
            ]
        );
        assert_eq!(
            error.errors[0].msg,
            "Input should be a valid integer, got a number with a fractional part"
        );
        assert_eq!(
            rejected(r#"{"version": null}"#).errors[0].msg,
            "Input should be a valid integer"
        );
        assert_eq!(
            rejected(r#"{"version": 1e400}"#).errors[0].kind,
            "finite_number"
        );
        assert_eq!(
            rejected(r#"{"version": 1e20}"#).errors[0].kind,
            "int_parsing_size"
        );
        assert_eq!(
            rejected(r#"{"version": "1.5"}"#).errors[0].kind,
            "int_parsing"
        );
        assert!(rejected(r#"{"ref": "ok", "ref": 1}"#).reply_ref.is_none());
    }

    #[test]
    fn envelope_lax_values() {
        let incoming = read_frame(
            r#"{"version": " 1 ", "topic": null, "ref": "r\u00e9", "seq": "1_000.0", "action": "ping"}"#,
            "action",
        )
        .unwrap();
        assert_eq!(
            incoming.envelope,
            Envelope {
                version: Some(1),
                topic: None,
                reference: Some("r\u{e9}".into()),
                seq: Some(1000)
            }
        );
        let incoming = read_frame(r#"{"version": true, "seq": 3.0}"#, "action").unwrap();
        assert_eq!(incoming.envelope.version, Some(1));
        assert_eq!(incoming.envelope.seq, Some(3));
        assert_eq!(incoming.tag(), TagLookup::Missing);
        // The last duplicate wins, as in a Python dict.
        let incoming = read_frame(
            r#"{"ref": 1, "ref": "ok", "act\u0069on": "a", "action": "chat"}"#,
            "action",
        )
        .unwrap();
        assert_eq!(incoming.envelope.reference.as_deref(), Some("ok"));
        assert_eq!(incoming.tag().as_str(), Some("chat"));
        assert_eq!(incoming.tag_raw(), Some("\"chat\""));
    }

    #[test]
    fn tag_errors() {
        let expected = ["ping", "chat"];
        let error_for = |text: &str| {
            let incoming = read_frame(text, "action").unwrap();
            let tag = incoming.tag();
            incoming
                .reject(vec![tag_error(&tag, "action", &expected)])
                .frame()
        };
        assert_eq!(
            error_for(r#"{"action": "dance"}"#),
            r#"{"action": "error", "payload": [{"type": "union_tag_invalid", "loc": [], "msg": "Input tag 'dance' found using 'action' does not match any of the expected tags: 'chat', 'ping'"}]}"#
        );
        assert_eq!(
            error_for(r#"{"payload": {}}"#),
            r#"{"action": "error", "payload": [{"type": "union_tag_not_found", "loc": [], "msg": "Unable to extract tag using discriminator 'action'"}]}"#
        );
        assert_eq!(
            error_for(r#"{"action": null, "ref": "r-3"}"#),
            r#"{"action": "error", "payload": [{"type": "union_tag_invalid", "loc": [], "msg": "Input tag 'None' found using 'action' does not match any of the expected tags: 'chat', 'ping'"}], "version": 1, "ref": "r-3"}"#
        );
        let msg_for = |text: &str| {
            let incoming = read_frame(text, "action").unwrap();
            tag_error(&incoming.tag(), "action", &expected).msg
        };
        assert!(msg_for(r#"{"action": true}"#).starts_with("Input tag 'True' found"));
        assert!(msg_for(r#"{"action": 1.0}"#).starts_with("Input tag '1.0' found"));
        assert!(msg_for(r#"{"action": 10}"#).starts_with("Input tag '10' found"));
        assert!(
            msg_for(r#"{"action": {"a": [1, 2.5, null]}}"#)
                .starts_with("Input tag '{'a': [1, 2.5, None]}' found")
        );
        assert!(msg_for(r#"{"action": "d\u00e9"}"#).starts_with("Input tag 'd\u{e9}' found"));
    }

    // A message as chanx-gen would generate it: `{"action": "chat", "payload": {"text": str(min 1), "n": int}}`.
    #[derive(Debug, Deserialize, PartialEq)]
    struct ChatPayload {
        text: String,
        #[serde(default)]
        n: i64,
    }
    #[derive(Debug, Deserialize, PartialEq)]
    struct Chat {
        payload: ChatPayload,
    }
    static TEXT_C: StrConstraints = StrConstraints {
        min_length: Some(1),
        max_length: None,
        pattern: None,
    };
    impl Validate for ChatPayload {
        fn validate(&self, errors: &mut Errors) {
            errors.at_key("text", |e| check_str(e, &self.text, &TEXT_C));
        }
    }
    impl Validate for Chat {
        fn validate(&self, errors: &mut Errors) {
            errors.at_key("payload", |e| self.payload.validate(e));
        }
    }
    static TEXT: Schema = Schema::Str(TEXT_C);
    static N: Schema = Schema::Int(NumberConstraints::NONE);
    static PAYLOAD_OBJECT: ObjectSchema = ObjectSchema {
        name: "ChatPayload",
        fields: &[
            FieldSchema {
                name: "text",
                required: true,
                schema: &TEXT,
            },
            FieldSchema {
                name: "n",
                required: false,
                schema: &N,
            },
        ],
        deny_unknown: false,
        additional: None,
    };
    static PAYLOAD: Schema = Schema::Object(&PAYLOAD_OBJECT);
    static ACTION: Schema = Schema::Const("\"chat\"");
    static CHAT_OBJECT: ObjectSchema = ObjectSchema {
        name: "ChatMessage",
        fields: &[
            FieldSchema {
                name: "action",
                required: false,
                schema: &ACTION,
            },
            FieldSchema {
                name: "payload",
                required: true,
                schema: &PAYLOAD,
            },
        ],
        deny_unknown: true,
        additional: None,
    };
    static CHAT: Schema = Schema::Object(&CHAT_OBJECT);

    fn decode(text: &str) -> Result<Chat, Rejected> {
        let incoming = read_frame(text, "action")?;
        decode_message::<Chat>(&incoming, "chat", &CHAT).map_err(|errors| incoming.reject(errors))
    }

    #[test]
    fn decodes_messages() {
        let chat = decode(
            r#"{"action": "chat", "payload": {"text": "hello"}, "ref": "r-1", "version": 1}"#,
        )
        .unwrap();
        assert_eq!(
            chat,
            Chat {
                payload: ChatPayload {
                    text: "hello".into(),
                    n: 0
                }
            }
        );
    }

    #[test]
    fn payload_errors() {
        assert_eq!(
            decode(r#"{"action": "chat", "payload": {}}"#)
                .unwrap_err()
                .frame(),
            r#"{"action": "error", "payload": [{"type": "missing", "loc": ["chat", "payload", "text"], "msg": "Field required"}]}"#
        );
        assert_eq!(
            decode(r#"{"action": "chat", "ref": "r-3"}"#)
                .unwrap_err()
                .frame(),
            r#"{"action": "error", "payload": [{"type": "missing", "loc": ["chat", "payload"], "msg": "Field required"}], "version": 1, "ref": "r-3"}"#
        );
        // Fast path: serde accepts, the constraint fails.
        assert_eq!(
            decode(r#"{"action": "chat", "payload": {"text": ""}, "ref": "q"}"#)
                .unwrap_err()
                .frame(),
            r#"{"action": "error", "payload": [{"type": "string_too_short", "loc": ["chat", "payload", "text"], "msg": "String should have at least 1 character"}], "version": 1, "ref": "q"}"#
        );
        // Slow path: several errors, in field order; envelope keys are not extra even though the message
        // forbids extra keys.
        let errors =
            decode(r#"{"action": "chat", "payload": {"text": 5, "n": "x"}, "seq": 1, "extra": 1}"#)
                .unwrap_err()
                .errors;
        let summary: Vec<(&str, &[LocItem])> = errors
            .iter()
            .map(|e| (e.kind.as_str(), e.loc.as_slice()))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "string_type",
                    &[key("chat"), key("payload"), key("text")][..]
                ),
                ("int_parsing", &[key("chat"), key("payload"), key("n")][..]),
                ("extra_forbidden", &[key("chat"), key("extra")][..]),
            ]
        );
        // pydantic accepts "7" for an int in lax mode; serde does not, so the value is converted
        // as pydantic converts it and decoded again.
        let incoming = read_frame(
            r#"{"action": "chat", "payload": {"text": "a", "n": "7"}}"#,
            "action",
        )
        .unwrap();
        let chat = decode_message::<Chat>(&incoming, "chat", &CHAT).unwrap();
        assert_eq!(chat.payload.n, 7);
    }

    #[test]
    fn unescapes() {
        assert_eq!(unescape("plain"), "plain");
        assert_eq!(
            unescape(r#"a\"b\\c\/d\n\t\r\b\f"#),
            "a\"b\\c/d\n\t\r\u{8}\u{c}"
        );
        assert_eq!(unescape(r"\u00e9\ud83d\ude00"), "\u{e9}\u{1f600}");
        assert_eq!(unescape(r"\ud800x"), "\u{fffd}x");
        assert_eq!(unescape(r"\udc00"), "\u{fffd}");
    }

    /// xorshift64*: a small deterministic generator for the no-panic test.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn never_panics_on_mutated_frames() {
        let seeds = [
            r#"{"action": "chat", "payload": {"text": "hi", "n": [1, 2.5, -3e10, true, false, null]}, "ref": "r-1", "version": 1}"#,
            r#"{"version": 1, "topic": "ticker:ACME", "ref": "1", "action": "subscribe", "seq": "2"}"#,
            r#"{"a": "\u00e9\ud83d\ude00\n\"", "action": {"x": [1, {"y": NaN}]}}"#,
            r#"[1, {"a": [[[]]]}, "x"]"#,
        ];
        let alphabet: Vec<char> =
            "{}[]\":,\\ \t\n\rabefnlrstuNI0123456789.-+eE\u{e9}\u{1}\u{7f}\u{1f600}"
                .chars()
                .collect();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut checked = 0;
        for _ in 0..4000 {
            let mut chars: Vec<char> = seeds[rng.below(seeds.len())].chars().collect();
            for _ in 0..1 + rng.below(6) {
                let pos = rng.below(chars.len() + 1);
                match rng.below(4) {
                    0 if pos < chars.len() => {
                        chars.remove(pos);
                    }
                    1 => chars.insert(pos, alphabet[rng.below(alphabet.len())]),
                    2 if pos < chars.len() => chars[pos] = alphabet[rng.below(alphabet.len())],
                    _ => chars.truncate(pos),
                }
            }
            let text: String = chars.into_iter().collect();
            match read_frame(&text, "action") {
                Ok(incoming) => {
                    let tag = incoming.tag();
                    let _ = tag_error(&tag, "action", &["chat", "ping"]);
                    let _ = decode_message::<Chat>(&incoming, "chat", &CHAT);
                    checked += 1;
                }
                Err(rejected) => {
                    assert!(!rejected.errors.is_empty());
                    let _ = rejected.frame();
                }
            }
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
                let mut errors = Errors::new();
                check_value(&CHAT, &value, &mut errors);
            }
        }
        assert!(
            checked > 100,
            "too few frames were valid JSON objects: {checked}"
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(200_000), "]".repeat(200_000));
        assert!(read_frame(&deep, "action").is_ok());
        let unclosed = "[".repeat(200_000);
        assert_eq!(rejected(&unclosed).errors[0].kind, "json_invalid");
        let incoming = read_frame(&deep, "action").unwrap();
        assert_eq!(
            decode_message::<Chat>(&incoming, "chat", &CHAT).unwrap_err()[0].kind,
            "value_error"
        );
    }
}

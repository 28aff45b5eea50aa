//! What the server writes: frames byte-identical to Chanx's.
//!
//! Chanx sends `json.dumps(message.model_dump(mode="json"))` with Python's defaults, so every frame uses
//! the separators `", "` and `": "`, escapes every non-ASCII character as `\uXXXX` (`ensure_ascii`),
//! and prints floats as Python's `repr` does. [`encode_frame`] reproduces that byte for byte from any
//! `serde::Serialize` message, and appends the envelope keys (`version`, `topic`, `ref`, `seq`) after the
//! message's own keys, as Chanx does.

use std::io;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::ser::{CharEscape, Formatter};

use crate::pyfmt;

/// One element of an error's location: an object key or a list index.
///
/// Serialized untagged: a key is a JSON string, an index a JSON number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LocItem {
    /// An object key (a field name, a map key, a union tag or a union arm's label).
    Key(String),
    /// A list or tuple index.
    Index(usize),
}

impl From<&str> for LocItem {
    fn from(key: &str) -> Self {
        LocItem::Key(key.to_owned())
    }
}

impl From<usize> for LocItem {
    fn from(index: usize) -> Self {
        LocItem::Index(index)
    }
}

/// One validation error, as pydantic's `errors(include_url=False, include_context=False,
/// include_input=False)` reports it: serialized as `{"type": ..., "loc": [...], "msg": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorItem {
    /// The error type (`missing`, `string_type`, `union_tag_invalid`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Where in the frame the error is; the first element is the message's tag for message errors.
    pub loc: Vec<LocItem>,
    /// The human-readable message, exactly as pydantic words it.
    pub msg: String,
}

impl ErrorItem {
    /// An error with the given type, location and message.
    pub fn new(kind: impl Into<String>, loc: Vec<LocItem>, msg: impl Into<String>) -> Self {
        ErrorItem {
            kind: kind.into(),
            loc,
            msg: msg.into(),
        }
    }
}

/// The `payload` of an `error` frame, which Chanx makes polymorphic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorPayload {
    /// Validation errors: a JSON list of [`ErrorItem`]s.
    Items(Vec<ErrorItem>),
    /// A handler failure: `{"detail": "..."}`.
    Detail(String),
    /// A topic error: `{"reason": "...", "detail": "..."}` (`unknown_topic`, `unauthorized`,
    /// `not_subscribed`).
    Reason {
        /// The machine-readable reason.
        reason: String,
        /// The human-readable detail.
        detail: String,
    },
}

impl Serialize for ErrorPayload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ErrorPayload::Items(items) => items.serialize(serializer),
            ErrorPayload::Detail(detail) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("detail", detail)?;
                map.end()
            }
            ErrorPayload::Reason { reason, detail } => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("reason", reason)?;
                map.serialize_entry("detail", detail)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for ErrorPayload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Items(Vec<ErrorItem>),
            Object {
                reason: Option<String>,
                detail: String,
            },
        }
        match Wire::deserialize(deserializer) {
            Ok(Wire::Items(items)) => Ok(ErrorPayload::Items(items)),
            Ok(Wire::Object {
                reason: Some(reason),
                detail,
            }) => Ok(ErrorPayload::Reason { reason, detail }),
            Ok(Wire::Object {
                reason: None,
                detail,
            }) => Ok(ErrorPayload::Detail(detail)),
            Err(_) => Err(de::Error::custom(
                "expected a list of errors, {\"detail\": ...} or {\"reason\": ..., \"detail\": ...}",
            )),
        }
    }
}

/// The envelope keys a server frame carries after the message's own keys.
///
/// `version` (always `1`) is written first whenever any other key is present, then `topic`, `ref` and
/// `seq`, each only when set (Chanx dumps its `Envelope` model with `exclude_none`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameEnvelope<'a> {
    /// The topic the frame belongs to.
    pub topic: Option<&'a str>,
    /// The `ref` of the client frame being answered.
    pub reference: Option<&'a str>,
    /// The sequence number of a topic push.
    pub seq: Option<i64>,
}

impl<'a> FrameEnvelope<'a> {
    /// An envelope carrying only a reply `ref`.
    pub fn reply(reference: Option<&'a str>) -> Self {
        FrameEnvelope {
            topic: None,
            reference,
            seq: None,
        }
    }

    /// Whether no key would be written.
    pub fn is_empty(&self) -> bool {
        self.topic.is_none() && self.reference.is_none() && self.seq.is_none()
    }
}

/// Serializes `message` (which must serialize to a JSON object) exactly as Python's `json.dumps` would
/// print it, and appends `, "version": 1, "ref": "<r>"` when `reply_ref` is set.
///
/// # Errors
/// When `message` fails to serialize, or does not serialize to a JSON object.
pub fn encode_frame<T: Serialize + ?Sized>(
    message: &T,
    reply_ref: Option<&str>,
) -> Result<String, serde_json::Error> {
    encode_frame_with(message, &FrameEnvelope::reply(reply_ref))
}

/// As [`encode_frame`], with any envelope keys.
///
/// # Errors
/// When `message` fails to serialize, or does not serialize to a JSON object.
pub fn encode_frame_with<T: Serialize + ?Sized>(
    message: &T,
    envelope: &FrameEnvelope<'_>,
) -> Result<String, serde_json::Error> {
    let mut out = to_python_json(message)?;
    if !out.starts_with('{') {
        return Err(serde::ser::Error::custom("a frame must be a JSON object"));
    }
    if !envelope.is_empty() {
        out.pop(); // the closing brace
        if out.len() > 1 {
            out.push_str(", ");
        }
        out.push_str("\"version\": 1");
        if let Some(topic) = envelope.topic {
            out.push_str(", \"topic\": ");
            push_python_str(&mut out, topic);
        }
        if let Some(reference) = envelope.reference {
            out.push_str(", \"ref\": ");
            push_python_str(&mut out, reference);
        }
        if let Some(seq) = envelope.seq {
            out.push_str(", \"seq\": ");
            out.push_str(&seq.to_string());
        }
        out.push('}');
    }
    Ok(out)
}

/// `{"action": "error", "payload": ...}`, plus `"version": 1, "ref": ...` when `reply_ref` is set.
pub fn error_frame(payload: &ErrorPayload, reply_ref: Option<&str>) -> String {
    error_frame_with(payload, &FrameEnvelope::reply(reply_ref))
}

/// As [`error_frame`], with any envelope keys.
pub fn error_frame_with(payload: &ErrorPayload, envelope: &FrameEnvelope<'_>) -> String {
    #[derive(Serialize)]
    struct Frame<'a> {
        action: &'static str,
        payload: &'a ErrorPayload,
    }
    encode_frame_with(
        &Frame {
            action: "error",
            payload,
        },
        envelope,
    )
    .unwrap_or_else(|_| String::from("{\"action\": \"error\", \"payload\": null}"))
}

/// A frame with no payload: `{"action": "<action>", "payload": null}` (`complete`, `group_complete`,
/// `event_complete`, `pong`, `subscribed`, ...), plus the reply envelope when `reply_ref` is set.
pub fn signal_frame(action: &str, reply_ref: Option<&str>) -> String {
    signal_frame_with(action, &FrameEnvelope::reply(reply_ref))
}

/// As [`signal_frame`], with any envelope keys.
pub fn signal_frame_with(action: &str, envelope: &FrameEnvelope<'_>) -> String {
    #[derive(Serialize)]
    struct Frame<'a> {
        action: &'a str,
        payload: (),
    }
    encode_frame_with(
        &Frame {
            action,
            payload: (),
        },
        envelope,
    )
    .unwrap_or_else(|_| String::from("{\"action\": \"error\", \"payload\": null}"))
}

/// Any value as `json.dumps` prints it (not only objects).
///
/// # Errors
/// When `value` fails to serialize.
pub fn to_python_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut buffer = Vec::with_capacity(128);
    let mut serializer = serde_json::Serializer::with_formatter(&mut buffer, PythonFormatter);
    value.serialize(&mut serializer)?;
    // The formatter writes ASCII only.
    String::from_utf8(buffer).map_err(|_| serde::ser::Error::custom("non-ASCII output"))
}

fn push_python_str(out: &mut String, value: &str) {
    match to_python_json(value) {
        Ok(text) => out.push_str(&text),
        Err(_) => out.push_str("\"\""),
    }
}

/// A `serde_json` formatter that writes what CPython's `json.dumps` writes with its default arguments.
#[derive(Debug, Clone, Copy, Default)]
pub struct PythonFormatter;

const HEX: &[u8; 16] = b"0123456789abcdef";

fn write_u_escape<W: ?Sized + io::Write>(writer: &mut W, unit: u16) -> io::Result<()> {
    let bytes = [
        b'\\',
        b'u',
        HEX[usize::from(unit >> 12)],
        HEX[usize::from((unit >> 8) & 0xf)],
        HEX[usize::from((unit >> 4) & 0xf)],
        HEX[usize::from(unit & 0xf)],
    ];
    writer.write_all(&bytes)
}

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(pyfmt::float_repr(value).as_bytes())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        writer.write_all(pyfmt::float_repr_f32(value).as_bytes())
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        let mut start = 0;
        for (index, c) in fragment.char_indices() {
            if (' '..='~').contains(&c) {
                continue;
            }
            if start < index {
                writer.write_all(&bytes[start..index])?;
            }
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write_u_escape(writer, *unit)?;
            }
            start = index + c.len_utf8();
        }
        if start < bytes.len() {
            writer.write_all(&bytes[start..])?;
        }
        Ok(())
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        match char_escape {
            CharEscape::Quote => writer.write_all(b"\\\""),
            CharEscape::ReverseSolidus => writer.write_all(b"\\\\"),
            CharEscape::Solidus => writer.write_all(b"/"),
            CharEscape::Backspace => writer.write_all(b"\\b"),
            CharEscape::FormFeed => writer.write_all(b"\\f"),
            CharEscape::LineFeed => writer.write_all(b"\\n"),
            CharEscape::CarriageReturn => writer.write_all(b"\\r"),
            CharEscape::Tab => writer.write_all(b"\\t"),
            CharEscape::AsciiControl(byte) => write_u_escape(writer, u16::from(byte)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn loc(items: &[&str]) -> Vec<LocItem> {
        items.iter().map(|s| LocItem::from(*s)).collect()
    }

    #[test]
    fn pong_with_ref() {
        let frame = signal_frame("pong", Some("r-1"));
        assert_eq!(
            frame,
            r#"{"action": "pong", "payload": null, "version": 1, "ref": "r-1"}"#
        );
        assert_eq!(
            signal_frame("complete", None),
            r#"{"action": "complete", "payload": null}"#
        );
    }

    #[test]
    fn error_frames() {
        let payload = ErrorPayload::Items(vec![ErrorItem::new(
            "missing",
            loc(&["chat", "payload", "text"]),
            "Field required",
        )]);
        assert_eq!(
            error_frame(&payload, None),
            r#"{"action": "error", "payload": [{"type": "missing", "loc": ["chat", "payload", "text"], "msg": "Field required"}]}"#
        );
        assert_eq!(
            error_frame(&payload, Some("r-3")),
            r#"{"action": "error", "payload": [{"type": "missing", "loc": ["chat", "payload", "text"], "msg": "Field required"}], "version": 1, "ref": "r-3"}"#
        );
        let payload = ErrorPayload::Items(vec![ErrorItem::new(
            "json_invalid",
            vec![],
            "Invalid JSON: x",
        )]);
        assert_eq!(
            error_frame(&payload, None),
            r#"{"action": "error", "payload": [{"type": "json_invalid", "loc": [], "msg": "Invalid JSON: x"}]}"#
        );
        let payload = ErrorPayload::Detail("Failed to process message for archive".into());
        assert_eq!(
            error_frame(&payload, None),
            r#"{"action": "error", "payload": {"detail": "Failed to process message for archive"}}"#
        );
        let payload = ErrorPayload::Reason {
            reason: "unauthorized".into(),
            detail: "Not allowed to subscribe to 'ticker:acme'".into(),
        };
        let envelope = FrameEnvelope {
            topic: Some("ticker:acme"),
            reference: Some("2"),
            seq: None,
        };
        assert_eq!(
            error_frame_with(&payload, &envelope),
            r#"{"action": "error", "payload": {"reason": "unauthorized", "detail": "Not allowed to subscribe to 'ticker:acme'"}, "version": 1, "topic": "ticker:acme", "ref": "2"}"#
        );
        let mixed = vec![ErrorItem::new(
            "missing",
            vec![LocItem::from("t"), LocItem::Index(1)],
            "Field required",
        )];
        assert_eq!(
            to_python_json(&mixed).unwrap(),
            r#"[{"type": "missing", "loc": ["t", 1], "msg": "Field required"}]"#
        );
    }

    #[test]
    fn error_payload_round_trips() {
        for text in [
            r#"[{"type": "missing", "loc": ["chat", 0], "msg": "Field required"}]"#,
            r#"{"detail": "x"}"#,
            r#"{"reason": "unknown_topic", "detail": "Unknown topic 'weather:HN'"}"#,
        ] {
            let payload: ErrorPayload = serde_json::from_str(text).unwrap();
            assert_eq!(to_python_json(&payload).unwrap(), text);
        }
        assert!(serde_json::from_str::<ErrorPayload>("5").is_err());
    }

    #[test]
    fn matches_python_json_dumps() {
        // Expected strings are CPython 3.11's json.dumps(json.loads(...)) of the same data.
        let value = json!({
            "action": "price_update",
            "payload": {"symbol": "ACME", "price": 12.5, "tiny": 1e-7, "big": 1e16, "whole": 1.0, "n": 3,
                        "neg": -0.0, "list": [1, 2.25, null, true, false], "empty": {}, "none": []},
        });
        assert_eq!(
            encode_frame(&value, None).unwrap(),
            r#"{"action": "price_update", "payload": {"symbol": "ACME", "price": 12.5, "tiny": 1e-07, "big": 1e+16, "whole": 1.0, "n": 3, "neg": -0.0, "list": [1, 2.25, null, true, false], "empty": {}, "none": []}}"#
        );
        let value = json!({"text": "héllo ✓ 😀 \u{7f} / \\ \" \n\r\t\u{8}\u{c}\u{1}\u{1f}"});
        assert_eq!(
            encode_frame(&value, Some("é")).unwrap(),
            r#"{"text": "h\u00e9llo \u2713 \ud83d\ude00 \u007f / \\ \" \n\r\t\b\f\u0001\u001f", "version": 1, "ref": "\u00e9"}"#
        );
        assert_eq!(
            encode_frame(&json!({}), Some("r")).unwrap(),
            r#"{"version": 1, "ref": "r"}"#
        );
        assert_eq!(
            encode_frame_with(
                &json!({"action": "x", "payload": null}),
                &FrameEnvelope {
                    topic: Some("t"),
                    reference: None,
                    seq: Some(1)
                }
            )
            .unwrap(),
            r#"{"action": "x", "payload": null, "version": 1, "topic": "t", "seq": 1}"#
        );
        assert!(encode_frame(&json!([1, 2]), None).is_err());
        assert!(encode_frame(&5, None).is_err());
        // Non-string map keys are quoted, as Python does.
        let mut map = std::collections::BTreeMap::new();
        map.insert(1, "a");
        assert_eq!(encode_frame(&map, None).unwrap(), r#"{"1": "a"}"#);
    }

    #[test]
    fn structs_keep_field_order() {
        #[derive(Serialize)]
        struct Payload {
            room: &'static str,
            sender: &'static str,
            text: &'static str,
        }
        #[derive(Serialize)]
        struct Msg {
            action: &'static str,
            payload: Payload,
        }
        let msg = Msg {
            action: "chat_notification",
            payload: Payload {
                room: "lobby",
                sender: "alice",
                text: "hello room",
            },
        };
        assert_eq!(
            encode_frame(&msg, None).unwrap(),
            r#"{"action": "chat_notification", "payload": {"room": "lobby", "sender": "alice", "text": "hello room"}}"#
        );
    }
}

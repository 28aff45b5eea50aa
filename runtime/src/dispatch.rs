//! What generated dispatchers call after routing a frame: sending rejections, errors and replies the
//! way Chanx does, and the serde helpers generated types name in attributes.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::context::{Context, HandlerError};
use crate::decode::{Incoming, Rejected, decode_message};
use crate::protocol::{ErrorItem, ErrorPayload, error_frame};
use crate::validate::{Errors, Schema, Validate};

/// Sends the error frame for a frame [`crate::decode::read_frame`] rejected. A closed connection is
/// not an error here: there is nobody left to tell.
pub fn send_rejection(cx: &Context, rejected: Rejected) {
    let _ = cx.send_text(rejected.frame());
}

/// Sends `errors` as one error frame, stamped with the context's `ref`.
pub fn send_errors(cx: &Context, errors: Vec<ErrorItem>) {
    let _ = cx.send_text(error_frame(&ErrorPayload::Items(errors), cx.reply_ref()));
}

/// Decodes and validates the message `tag` of `incoming` as [`decode_message`] does; when it is
/// refused, answers with its error frame (stamped with the context's `ref`) and returns `None`.
pub fn decode_or_answer<T: DeserializeOwned + Validate>(
    cx: &Context,
    incoming: &Incoming<'_>,
    tag: &str,
    schema: &Schema,
) -> Option<T> {
    match decode_message(incoming, tag, schema) {
        Ok(message) => Some(message),
        Err(errors) => {
            send_errors(cx, errors);
            None
        }
    }
}

/// Finishes handling a client action: sends the handler's reply, nothing, or (when the handler
/// failed) Chanx's `{"detail": "Failed to process message for <tag>"}` error frame.
pub fn finish<M: Serialize>(cx: &Context, tag: &str, outcome: Result<Option<M>, HandlerError>) {
    match outcome {
        Ok(Some(reply)) => {
            let _ = cx.send(&reply);
        }
        Ok(None) => {}
        Err(_) => {
            let detail = if tag.is_empty() {
                "Failed to process message".to_owned()
            } else {
                format!("Failed to process message for {tag}")
            };
            let _ = cx.send_text(error_frame(&ErrorPayload::Detail(detail), cx.reply_ref()));
        }
    }
}

/// Answers a frame on a channel whose clients send nothing, as a Chanx consumer without
/// `@ws_handler`s does: `{"detail": "Failed to process message"}`.
pub fn no_handler(cx: &Context) {
    let detail = ErrorPayload::Detail("Failed to process message".to_owned());
    let _ = cx.send_text(error_frame(&detail, cx.reply_ref()));
}

/// The error for a frame that matches none of a channel's messages when the channel has no tag to
/// dispatch on.
pub fn no_match(_incoming: &Incoming<'_>) -> Vec<ErrorItem> {
    vec![ErrorItem::new(
        "union_error",
        Vec::new(),
        "Input does not match any message this channel accepts",
    )]
}

/// Decodes and validates the `event_data` of a channel-layer event as `T`; `None` when it does not
/// decode or breaks a constraint (Chanx logs such events and drops them).
pub fn decode_event<T: DeserializeOwned + Validate>(event_data: &Value) -> Option<T> {
    let event = T::deserialize(event_data).ok()?;
    let mut errors = Errors::new();
    event.validate(&mut errors);
    errors.is_empty().then_some(event)
}

/// Whether a channel-layer event carries `tag` in `property` (always, when `property` is empty).
pub fn event_matches(event_data: &Value, property: &str, tag: &str) -> bool {
    property.is_empty()
        || tag.is_empty()
        || event_data.get(property).and_then(Value::as_str) == Some(tag)
}

/// `deserialize_with` for an optional field whose schema does not allow `null` (with
/// `#[serde(default)]`): a missing key is `None`, but an explicit `null` is an error, as in JSON
/// Schema and pydantic.
pub fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// `deserialize_with` for a field that is required but may be `null`: unlike a plain `Option`, a
/// missing key is an error.
pub fn required_nullable<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{Outbound, channel};
    use crate::memory::InMemoryLayer;
    use std::sync::Arc;

    fn context() -> (Context, tokio::sync::mpsc::UnboundedReceiver<Outbound>) {
        let (tx, rx) = channel();
        (
            Context::new("test!x".to_owned(), Arc::new(InMemoryLayer::new()), tx),
            rx,
        )
    }

    fn next_text(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Outbound>) -> String {
        match rx.try_recv() {
            Ok(Outbound::Text(text)) => text,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    #[test]
    fn handler_failure_is_chanx_detail_frame_with_ref() {
        let (cx, mut rx) = context();
        let cx = cx.with_reply_ref(Some("r-3".to_owned()));
        finish::<Value>(&cx, "archive", Err(HandlerError::msg("boom")));
        assert_eq!(
            next_text(&mut rx),
            r#"{"action": "error", "payload": {"detail": "Failed to process message for archive"}, "version": 1, "ref": "r-3"}"#
        );
    }

    #[test]
    fn replies_and_nothing() {
        let (cx, mut rx) = context();
        finish(
            &cx,
            "ping",
            Ok(Some(serde_json::json!({"action": "pong", "payload": null}))),
        );
        assert_eq!(next_text(&mut rx), r#"{"action": "pong", "payload": null}"#);
        finish::<Value>(&cx, "ping", Ok(None));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn required_nullable_needs_the_key() {
        #[derive(Deserialize)]
        struct Holder {
            #[serde(deserialize_with = "required_nullable")]
            value: Option<i64>,
        }
        assert_eq!(
            serde_json::from_str::<Holder>(r#"{"value": null}"#)
                .unwrap()
                .value,
            None
        );
        assert_eq!(
            serde_json::from_str::<Holder>(r#"{"value": 3}"#)
                .unwrap()
                .value,
            Some(3)
        );
        assert!(serde_json::from_str::<Holder>("{}").is_err());
    }

    #[test]
    fn events_match_on_their_tag() {
        let event = serde_json::json!({"action": "user_joined"});
        assert!(event_matches(&event, "action", "user_joined"));
        assert!(!event_matches(&event, "action", "user_left"));
        assert!(event_matches(&event, "", ""));
    }
}

//! Server frames as a client reads them: the channel's own messages, and the frames Chanx sends
//! outside any spec (errors, `authentication`, completion signals).

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::protocol::ErrorPayload;

/// One frame from a Chanx (or chanx-gen) server, decoded against the channel's server message
/// type `S`.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerFrame<S> {
    /// One of the channel's messages, with the `ref` it answers, if any.
    Message {
        /// The message.
        message: S,
        /// The `ref` of the client frame it answers.
        reference: Option<String>,
    },
    /// An `error` frame.
    Error {
        /// The errors (a list for validation problems, `{"detail": ..}` for a handler failure).
        payload: ErrorPayload,
        /// The `ref` of the client frame it answers.
        reference: Option<String>,
    },
    /// The `authentication` frame some authenticators send.
    Authentication {
        /// The HTTP-like status (200 on success).
        status_code: u16,
        /// Its reason phrase.
        status_text: String,
        /// What the authenticator added.
        data: Value,
    },
    /// `complete`: the client frame with this `ref` (if any) is fully handled.
    Complete {
        /// The `ref` of that frame.
        reference: Option<String>,
    },
    /// `group_complete`: a group message was relayed.
    GroupComplete,
    /// `event_complete`: a channel event was handled.
    EventComplete,
    /// JSON that is none of the above (for example a message `S` does not describe).
    Unknown(Value),
}

impl<S: DeserializeOwned> ServerFrame<S> {
    /// Decodes a text frame; text that is not JSON comes back as `Unknown(Value::String(..))`.
    pub fn parse(text: &str) -> Self {
        match serde_json::from_str::<Value>(text) {
            Ok(value) => Self::from_value(value),
            Err(_) => ServerFrame::Unknown(Value::String(text.to_owned())),
        }
    }

    /// Decodes a frame already parsed as JSON.
    pub fn from_value(value: Value) -> Self {
        let reference = value.get("ref").and_then(Value::as_str).map(str::to_owned);
        let action = value.get("action").and_then(Value::as_str).unwrap_or("");
        let payload = value.get("payload");
        match action {
            "error" => {
                if let Some(Ok(payload)) = payload.map(ErrorPayload::deserialize_value) {
                    return ServerFrame::Error { payload, reference };
                }
            }
            "authentication" => {
                // Keys are camelized on camelCase servers.
                let field = |snake: &str, camel: &str| {
                    payload.and_then(|p| p.get(snake).or_else(|| p.get(camel)))
                };
                if let Some(status_code) = field("status_code", "statusCode")
                    .and_then(Value::as_u64)
                    .and_then(|code| u16::try_from(code).ok())
                {
                    return ServerFrame::Authentication {
                        status_code,
                        status_text: field("status_text", "statusText")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        data: field("data", "data").cloned().unwrap_or(Value::Null),
                    };
                }
            }
            "complete" => return ServerFrame::Complete { reference },
            "group_complete" => return ServerFrame::GroupComplete,
            "event_complete" => return ServerFrame::EventComplete,
            _ => {}
        }
        match S::deserialize(&value) {
            Ok(message) => ServerFrame::Message { message, reference },
            Err(_) => ServerFrame::Unknown(value),
        }
    }

    /// The message, if this frame is one of the channel's.
    pub fn into_message(self) -> Option<S> {
        match self {
            ServerFrame::Message { message, .. } => Some(message),
            _ => None,
        }
    }

    /// Whether this is a completion signal.
    pub fn is_completion(&self) -> bool {
        matches!(
            self,
            ServerFrame::Complete { .. } | ServerFrame::GroupComplete | ServerFrame::EventComplete
        )
    }
}

impl ErrorPayload {
    fn deserialize_value(value: &Value) -> Result<Self, serde_json::Error> {
        serde::Deserialize::deserialize(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ErrorItem;
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Deserialize)]
    #[serde(tag = "action")]
    enum Server {
        #[serde(rename = "pong")]
        Pong { payload: () },
    }

    #[test]
    fn frames_are_sorted() {
        assert_eq!(
            ServerFrame::<Server>::parse(
                r#"{"action": "pong", "payload": null, "version": 1, "ref": "r"}"#
            ),
            ServerFrame::Message {
                message: Server::Pong { payload: () },
                reference: Some("r".to_owned())
            }
        );
        assert_eq!(
            ServerFrame::<Server>::parse(
                r#"{"action": "error", "payload": [{"type": "missing", "loc": [], "msg": "m"}]}"#
            ),
            ServerFrame::Error {
                payload: ErrorPayload::Items(vec![ErrorItem::new("missing", vec![], "m")]),
                reference: None
            }
        );
        assert_eq!(
            ServerFrame::<Server>::parse(
                r#"{"action": "authentication", "payload": {"status_code": 403, "status_text": "Forbidden", "data": null}}"#
            ),
            ServerFrame::Authentication {
                status_code: 403,
                status_text: "Forbidden".to_owned(),
                data: Value::Null
            }
        );
        assert_eq!(
            ServerFrame::<Server>::parse(
                r#"{"action": "authentication", "payload": {"statusCode": 200, "statusText": "OK", "data": {"user": "a"}}}"#
            ),
            ServerFrame::Authentication {
                status_code: 200,
                status_text: "OK".to_owned(),
                data: serde_json::json!({"user": "a"})
            }
        );
        let complete = ServerFrame::<Server>::parse(r#"{"action": "complete", "payload": null}"#);
        assert!(complete.is_completion());
        assert_eq!(complete.into_message(), None);
        assert_eq!(
            ServerFrame::<Server>::parse(r#"{"action": "group_complete"}"#),
            ServerFrame::GroupComplete
        );
        assert_eq!(
            ServerFrame::<Server>::parse(r#"{"action": "event_complete"}"#),
            ServerFrame::EventComplete
        );
        assert_eq!(
            ServerFrame::<Server>::parse(r#"{"action": "dance"}"#),
            ServerFrame::Unknown(serde_json::json!({"action": "dance"}))
        );
        assert_eq!(
            ServerFrame::<Server>::parse("nope"),
            ServerFrame::Unknown(Value::String("nope".to_owned()))
        );
        assert_eq!(
            ServerFrame::<Server>::parse(r#"{"action": "pong", "payload": null}"#).into_message(),
            Some(Server::Pong { payload: () })
        );
    }
}

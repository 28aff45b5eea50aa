//! Checks the generated contract tests call (each panics with a clear message when the contract does
//! not hold; they run inside `#[test]` functions), and [`CapturingLayer`], which records broadcasts.
//! The in-process communicator is [`crate::server::Communicator`].

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::context::{Context, Outbound, channel};
use crate::decode::{decode_message, read_frame};
use crate::endpoint::Endpoint;
use crate::layer::{BoxFuture, ChannelLayer, LayerError, LayerMessage, SharedMessage};
use crate::memory::InMemoryLayer;
use crate::protocol::LocItem;
use crate::validate::{Errors, Schema, Validate, check_value};

/// A spec example: it decodes as `T`, passes validation and the schema, and encodes back to the same
/// JSON (keys the example leaves out may come back, as `null` or their default; `tag_property` may be dropped, since the
/// enum around `T` carries it).
pub fn example<T: DeserializeOwned + Serialize + Validate>(
    json: &str,
    tag_property: &str,
    schema: &Schema,
) {
    let input: Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("example is not JSON: {e}"));
    let decoded: T = serde_json::from_value(input.clone())
        .unwrap_or_else(|e| panic!("example does not decode: {e}\n{json}"));
    let mut errors = Errors::new();
    decoded.validate(&mut errors);
    assert!(
        errors.is_empty(),
        "example fails validation: {:?}\n{json}",
        errors.items()
    );
    let mut schema_errors = Errors::new();
    check_value(schema, &input, &mut schema_errors);
    assert!(
        schema_errors.is_empty(),
        "example fails the schema: {:?}\n{json}",
        schema_errors.items()
    );
    let output =
        serde_json::to_value(&decoded).unwrap_or_else(|e| panic!("example does not encode: {e}"));
    if let Err(path) = same_json(&input, &output, tag_property) {
        panic!("example does not round-trip at {path}\n in: {input}\nout: {output}");
    }
}

/// A generated valid frame: it decodes as the message `tag` selects and passes validation.
pub fn valid_sample<T: DeserializeOwned + Validate>(json: &str, tag: &str, schema: &Schema) {
    let incoming =
        read_frame(json, "").unwrap_or_else(|r| panic!("sample rejected: {:?}", r.errors));
    if let Err(errors) = decode_message::<T>(&incoming, tag, schema) {
        panic!("valid sample rejected: {errors:?}\n{json}");
    }
}

/// A generated invalid frame: it is rejected with an error of `kind` at `loc`.
pub fn invalid_sample<T: DeserializeOwned + Validate>(
    json: &str,
    tag: &str,
    schema: &Schema,
    kind: &str,
    loc: &[&str],
) {
    let incoming =
        read_frame(json, "").unwrap_or_else(|r| panic!("sample rejected early: {:?}", r.errors));
    let errors = match decode_message::<T>(&incoming, tag, schema) {
        Ok(_) => panic!("invalid sample accepted\n{json}"),
        Err(errors) => errors,
    };
    let expected: Vec<LocItem> = loc.iter().map(|k| LocItem::Key((*k).to_owned())).collect();
    assert!(
        errors.iter().any(|e| e.kind == kind && e.loc == expected),
        "expected `{kind}` at {loc:?}, got {errors:?}"
    );
}

/// Runs `handle` with a fresh connection [`Context`] on an in-memory layer and returns every text frame
/// it sent.
pub async fn exchange<F, Fut>(handle: F) -> Vec<String>
where
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = ()>,
{
    let (outbound, mut frames) = channel();
    let cx = Context::new(
        "behaviour.check!1".to_owned(),
        Arc::new(InMemoryLayer::new()),
        outbound,
    );
    handle(cx).await;
    let mut texts = Vec::new();
    while let Ok(frame) = frames.try_recv() {
        if let Outbound::Text(text) = frame {
            texts.push(text);
        }
    }
    texts
}

/// Sends the text frame `request` through `endpoint` on a fresh connection (see [`exchange`]) and
/// records in `problems` every answer that [`check_replies`] refuses.
pub async fn check_action<E: Endpoint + ?Sized>(
    problems: &mut Vec<String>,
    endpoint: &E,
    request: &str,
    tag_property: &str,
    allowed: &[&str],
) {
    let frames = exchange(|cx| async move { endpoint.handle_text(&cx, request).await }).await;
    check_replies(problems, request, &frames, tag_property, allowed);
}

/// Records in `problems` every frame of `frames` (sent in answer to `request`) that is an error or
/// whose `tag_property` is not one of `allowed` (when `tag_property` is empty, only errors count).
pub fn check_replies(
    problems: &mut Vec<String>,
    request: &str,
    frames: &[String],
    tag_property: &str,
    allowed: &[&str],
) {
    for frame in frames {
        let value: Value = match serde_json::from_str(frame) {
            Ok(value) => value,
            Err(e) => {
                problems.push(format!(
                    "{request}: answered with a frame that is not JSON ({e}): {frame}"
                ));
                continue;
            }
        };
        let tag = value.get(if tag_property.is_empty() {
            "action"
        } else {
            tag_property
        });
        if tag.and_then(Value::as_str) == Some("error") {
            problems.push(format!("{request}: answered with an error: {frame}"));
        } else if !tag_property.is_empty()
            && !tag
                .and_then(Value::as_str)
                .is_some_and(|t| allowed.contains(&t))
        {
            problems.push(format!(
                "{request}: answered with {frame}, which is not among the declared replies {allowed:?}"
            ));
        }
    }
}

/// Compares `input` with what came back: equal, except that keys missing from `input` may be `null`
/// in `output`, and `skip` may be missing from `output`. On a difference, the path to it.
fn same_json(input: &Value, output: &Value, skip: &str) -> Result<(), String> {
    match (input, output) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                match b.get(key) {
                    Some(other) => same_json(value, other, "").map_err(|p| format!("/{key}{p}"))?,
                    None if key == skip => {}
                    None => return Err(format!("/{key}")),
                }
            }
            // Keys the input leaves out come back as `null` or as their default, as pydantic's
            // `model_dump` writes every field.
            Ok(())
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .try_for_each(|(i, (x, y))| same_json(x, y, "").map_err(|p| format!("/{i}{p}"))),
        (Value::Number(a), Value::Number(b)) => {
            if a.as_f64() == b.as_f64() {
                Ok(())
            } else {
                Err(String::new())
            }
        }
        (a, b) if a == b => Ok(()),
        // The same instant, written with another precision (`.05Z` and `.050Z`).
        (Value::String(a), Value::String(b)) if same_instant(a, b) => Ok(()),
        _ => Err(String::new()),
    }
}

fn same_instant(a: &str, b: &str) -> bool {
    match (
        chrono::DateTime::parse_from_rfc3339(a),
        chrono::DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Where a [`CapturingLayer`] saw a message go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `send` to this channel (Chanx's `send_event`).
    Channel(String),
    /// `group_send` to this group (`broadcast_event`, `broadcast_message`).
    Group(String),
}

/// One message a [`CapturingLayer`] saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Captured {
    /// Where it went.
    pub target: Target,
    /// The layer message (`{"type": "handle_channel_event", "event_data": ..}`, ...).
    pub message: LayerMessage,
}

/// A channel layer that records every `send` and `group_send` before passing it on (or not, with
/// [`suppress`](CapturingLayer::suppress)): Chanx's `capture_broadcast_events`, for any layer.
#[derive(Clone)]
pub struct CapturingLayer {
    inner: Arc<dyn ChannelLayer>,
    captured: Arc<Mutex<Vec<Captured>>>,
    suppress: bool,
}

impl CapturingLayer {
    /// Records what goes through `inner`.
    pub fn new(inner: Arc<dyn ChannelLayer>) -> Self {
        Self {
            inner,
            captured: Arc::new(Mutex::new(Vec::new())),
            suppress: false,
        }
    }

    /// With `true`, sends and group sends are only recorded, not delivered.
    pub fn suppress(mut self, suppress: bool) -> Self {
        self.suppress = suppress;
        self
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Vec<Captured>> {
        self.captured
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Everything recorded so far, in order.
    pub fn captured(&self) -> Vec<Captured> {
        self.log().clone()
    }

    /// What the recorded Chanx messages carry, decoded as `T`: the `event_data` of channel
    /// events, the `message` of group messages (others, and what does not decode, are skipped).
    pub fn messages<T: DeserializeOwned>(&self) -> Vec<(Target, T)> {
        self.log()
            .iter()
            .filter_map(|captured| {
                let body = match captured.message.get("type").and_then(Value::as_str) {
                    Some("handle_channel_event") => captured.message.get("event_data"),
                    Some("handle_group_message") => captured.message.get("message"),
                    _ => None,
                }?;
                let decoded = T::deserialize(body).ok()?;
                Some((captured.target.clone(), decoded))
            })
            .collect()
    }

    /// Forgets everything recorded.
    pub fn clear(&self) {
        self.log().clear();
    }

    fn record(&self, target: Target, message: &LayerMessage) {
        self.log().push(Captured {
            target,
            message: message.clone(),
        });
    }
}

impl std::fmt::Debug for CapturingLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CapturingLayer")
            .field("captured", &self.log().len())
            .field("suppress", &self.suppress)
            .finish_non_exhaustive()
    }
}

impl ChannelLayer for CapturingLayer {
    fn new_channel<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<String, LayerError>> {
        self.inner.new_channel(prefix)
    }

    fn send<'a>(
        &'a self,
        channel: &'a str,
        message: LayerMessage,
    ) -> BoxFuture<'a, Result<(), LayerError>> {
        self.record(Target::Channel(channel.to_owned()), &message);
        if self.suppress {
            Box::pin(async { Ok(()) })
        } else {
            self.inner.send(channel, message)
        }
    }

    fn receive<'a>(&'a self, channel: &'a str) -> BoxFuture<'a, Result<LayerMessage, LayerError>> {
        self.inner.receive(channel)
    }

    fn receive_shared<'a>(
        &'a self,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<SharedMessage, LayerError>> {
        self.inner.receive_shared(channel)
    }

    fn group_add<'a>(
        &'a self,
        group: &'a str,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<(), LayerError>> {
        self.inner.group_add(group, channel)
    }

    fn group_discard<'a>(
        &'a self,
        group: &'a str,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<(), LayerError>> {
        self.inner.group_discard(group, channel)
    }

    fn group_send<'a>(
        &'a self,
        group: &'a str,
        message: LayerMessage,
    ) -> BoxFuture<'a, Result<(), LayerError>> {
        self.record(Target::Group(group.to_owned()), &message);
        if self.suppress {
            Box::pin(async { Ok(()) })
        } else {
            self.inner.group_send(group, message)
        }
    }

    fn flush<'a>(&'a self) -> BoxFuture<'a, Result<(), LayerError>> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_comparison_allows_added_nulls_only() {
        let input = serde_json::json!({"a": 1, "b": [1.0, {"c": "x"}]});
        assert!(
            same_json(
                &input,
                &serde_json::json!({"a": 1, "b": [1, {"c": "x", "d": null}]}),
                ""
            )
            .is_ok()
        );
        assert_eq!(
            same_json(
                &input,
                &serde_json::json!({"a": 2, "b": [1, {"c": "x"}]}),
                ""
            ),
            Err("/a".to_owned())
        );
        assert!(same_json(&serde_json::json!({"t": "x"}), &serde_json::json!({}), "t").is_ok());
    }
}

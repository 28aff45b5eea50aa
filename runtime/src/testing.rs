//! Checks the generated contract tests call. Each panics with a clear message when the contract does
//! not hold (they run inside `#[test]` functions).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use std::future::Future;
use std::sync::Arc;

use crate::context::{Context, Outbound, channel};
use crate::decode::{decode_message, read_frame};
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

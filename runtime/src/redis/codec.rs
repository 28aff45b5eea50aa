//! Serializing layer messages as channels_redis does: a random prefix, then msgpack (or JSON),
//! optionally a Fernet token of that.

use serde_json::Value;

#[cfg(feature = "redis-encryption")]
use super::crypto::MultiFernet;
use super::msgpack;
use crate::layer::LayerMessage;

/// The key channels_redis adds to route a message to in-process channels.
pub(crate) const ASGI_CHANNEL: &str = "__asgi_channel__";

/// How messages are turned into bytes (channels_redis' `serializer_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Serializer {
    /// `"msgpack"` (the default): msgpack-python's encoding of the dict.
    #[default]
    Msgpack,
    /// `"json"`: `json.dumps(message)` as UTF-8.
    Json,
}

/// Where a message goes inside the receiving process.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Route<'a> {
    /// A direct `send` to a process-specific channel: a string.
    One(&'a str),
    /// A `group_send`: a list of every member sharing the key, even if there is one.
    Many(&'a [String]),
}

/// A group message without its member list (see [`Codec::group_template`]).
#[derive(Debug, Clone)]
pub(crate) struct GroupTemplate {
    pub(crate) head: Vec<u8>,
    pub(crate) tail: Vec<u8>,
    pub(crate) serializer: Serializer,
}

impl GroupTemplate {
    /// What a script appends for `members` (its Rust twin, used by the tests).
    #[cfg(test)]
    fn list(&self, members: &[String]) -> Vec<u8> {
        let mut out = Vec::new();
        match self.serializer {
            Serializer::Msgpack => {
                msgpack::encode_array_header(members.len(), &mut out);
                for member in members {
                    msgpack::encode_str(member, &mut out);
                }
            }
            Serializer::Json => {
                let quoted: Vec<String> = members.iter().map(|m| format!("\"{m}\"")).collect();
                out.extend_from_slice(format!("[{}]", quoted.join(", ")).as_bytes());
            }
        }
        out
    }
}

/// Turns messages into stored values and back.
#[derive(Debug, Clone)]
pub(crate) struct Codec {
    pub(crate) serializer: Serializer,
    pub(crate) random_prefix_length: usize,
    /// Message lifetime in seconds (encrypted tokens are accepted for this plus 10 s).
    #[cfg_attr(not(feature = "redis-encryption"), allow(dead_code))]
    pub(crate) expiry: u64,
    #[cfg(feature = "redis-encryption")]
    pub(crate) fernet: Option<MultiFernet>,
}

#[cfg(feature = "redis-encryption")]
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Codec {
    /// The stored bytes for `message`, with the route added last as `__asgi_channel__`.
    pub(crate) fn encode(
        &self,
        message: &LayerMessage,
        route: Option<Route<'_>>,
    ) -> Result<Vec<u8>, String> {
        let mut out = vec![0u8; self.random_prefix_length];
        getrandom::fill(&mut out).map_err(|e| format!("no randomness for the prefix: {e}"))?;
        let body_at = out.len();
        match self.serializer {
            Serializer::Msgpack => {
                msgpack::encode_map_header(message.len() + usize::from(route.is_some()), &mut out);
                for (key, value) in message {
                    msgpack::encode_str(key, &mut out);
                    msgpack::encode_value(value, &mut out);
                }
                match route {
                    None => {}
                    Some(Route::One(channel)) => {
                        msgpack::encode_str(ASGI_CHANNEL, &mut out);
                        msgpack::encode_str(channel, &mut out);
                    }
                    Some(Route::Many(channels)) => {
                        msgpack::encode_str(ASGI_CHANNEL, &mut out);
                        msgpack::encode_array_header(channels.len(), &mut out);
                        for channel in channels {
                            msgpack::encode_str(channel, &mut out);
                        }
                    }
                }
            }
            Serializer::Json => {
                let text = match route {
                    None => crate::protocol::to_python_json(message),
                    Some(route) => {
                        let mut routed = message.clone();
                        let value = match route {
                            Route::One(channel) => Value::from(channel),
                            Route::Many(channels) => Value::from(channels.to_vec()),
                        };
                        routed.insert(ASGI_CHANNEL.to_owned(), value);
                        crate::protocol::to_python_json(&routed)
                    }
                }
                .map_err(|e| e.to_string())?;
                out.extend_from_slice(text.as_bytes());
            }
        }
        #[cfg(feature = "redis-encryption")]
        if let Some(fernet) = &self.fernet {
            let token = fernet.encrypt(&out[body_at..], unix_now())?;
            out.truncate(body_at);
            out.extend_from_slice(&token);
        }
        #[cfg(not(feature = "redis-encryption"))]
        let _ = body_at;
        Ok(out)
    }

    /// The parts of a group message around its member list, for a script that lists the members
    /// itself: `head` (the serialized message with `__asgi_channel__` opened last) and `tail`
    /// (what closes it after the list). `random prefix ‖ head ‖ list ‖ tail` is exactly what
    /// [`Codec::encode`] makes with [`Route::Many`]. `None` when encrypted: only this process
    /// can encrypt, so the script cannot assemble the value.
    pub(crate) fn group_template(
        &self,
        message: &LayerMessage,
    ) -> Result<Option<GroupTemplate>, String> {
        #[cfg(feature = "redis-encryption")]
        if self.fernet.is_some() {
            return Ok(None);
        }
        let mut head = Vec::with_capacity(128);
        let tail = match self.serializer {
            Serializer::Msgpack => {
                msgpack::encode_map_header(message.len() + 1, &mut head);
                for (key, value) in message {
                    msgpack::encode_str(key, &mut head);
                    msgpack::encode_value(value, &mut head);
                }
                msgpack::encode_str(ASGI_CHANNEL, &mut head);
                Vec::new()
            }
            Serializer::Json => {
                let text = crate::protocol::to_python_json(message).map_err(|e| e.to_string())?;
                // `{...}` → `{..., "__asgi_channel__": ` + list + `}`, as json.dumps writes it.
                let open = text
                    .strip_suffix('}')
                    .ok_or_else(|| "a message must serialize to a JSON object".to_owned())?;
                head.extend_from_slice(open.as_bytes());
                if !message.is_empty() {
                    head.extend_from_slice(b", ");
                }
                head.extend_from_slice(format!("\"{ASGI_CHANNEL}\": ").as_bytes());
                b"}".to_vec()
            }
        };
        Ok(Some(GroupTemplate {
            head,
            tail,
            serializer: self.serializer,
        }))
    }

    /// The message stored as `bytes`, and its route (`__asgi_channel__` removed from it).
    pub(crate) fn decode(&self, bytes: &[u8]) -> Result<(LayerMessage, Option<Value>), String> {
        let body = bytes
            .get(self.random_prefix_length..)
            .ok_or_else(|| "message shorter than its random prefix".to_owned())?;
        #[cfg(feature = "redis-encryption")]
        let decrypted;
        #[cfg(feature = "redis-encryption")]
        let body = match &self.fernet {
            Some(fernet) => {
                decrypted = fernet.decrypt(body, Some(self.expiry + 10), unix_now())?;
                &decrypted[..]
            }
            None => body,
        };
        let value = match self.serializer {
            Serializer::Msgpack => msgpack::decode(body)?,
            Serializer::Json => serde_json::from_slice(body).map_err(|e| e.to_string())?,
        };
        match value {
            Value::Object(mut message) => {
                let route = message.remove(ASGI_CHANNEL);
                Ok((message, route))
            }
            _ => Err("message is not a map".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codec(serializer: Serializer) -> Codec {
        Codec {
            serializer,
            random_prefix_length: 12,
            expiry: 60,
            #[cfg(feature = "redis-encryption")]
            fernet: None,
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn group_send_bytes_match_channels_redis() {
        // channels-redis-wire-transcript.md section 1: the message stored for `worker.tasks`.
        let message = json!({"type": "chat.message", "text": "hi", "n": 1});
        let members = vec!["worker.tasks".to_owned()];
        let bytes = codec(Serializer::Msgpack)
            .encode(message.as_object().unwrap(), Some(Route::Many(&members)))
            .unwrap();
        assert_eq!(bytes.len(), 73);
        assert_eq!(
            hex(&bytes[12..]),
            "84a474797065ac636861742e6d657373616765a474657874a26869a16e01b05f5f617367695f6368616e6e656c5f5f91ac776f726b65722e7461736b73"
        );
        let (back, route) = codec(Serializer::Msgpack).decode(&bytes).unwrap();
        assert_eq!(Value::Object(back), message);
        assert_eq!(route, Some(json!(["worker.tasks"])));
    }

    #[test]
    fn direct_send_routes_with_a_string() {
        let channel = "specific.7df6144bb3444a41b788afb18dcdceb5!823b0925d4af40afb61c10de965c64c3";
        let message = json!({"type": "chat.direct", "payload": {"f": 1.5, "neg": -1, "big": 1_099_511_627_776_u64, "none": null, "b": true, "list": [1, "x"]}});
        let bytes = codec(Serializer::Msgpack)
            .encode(message.as_object().unwrap(), Some(Route::One(channel)))
            .unwrap();
        // The transcript's message also had a `bin` entry; this one has three keys plus the route.
        assert!(
            hex(&bytes[12..])
                .starts_with("83a474797065ab636861742e646972656374a77061796c6f616486a166cb3ff8")
        );
        assert!(hex(&bytes[12..]).ends_with(
            "b05f5f617367695f6368616e6e656c5f5fd94a73706563696669632e3764663631343462623334343461343162373838616662313864636463656235213832336230393235643461663430616662363163313064653936356336346333"
        ));
    }

    #[test]
    fn json_serializer_writes_python_json() {
        let message = json!({"type": "task", "id": 7});
        let bytes = codec(Serializer::Json)
            .encode(message.as_object().unwrap(), None)
            .unwrap();
        assert_eq!(&bytes[12..], br#"{"type": "task", "id": 7}"#);
        let (back, route) = codec(Serializer::Json).decode(&bytes).unwrap();
        assert_eq!(Value::Object(back), message);
        assert_eq!(route, None);
    }

    #[test]
    fn group_templates_assemble_to_the_encoded_bytes() {
        let wide: serde_json::Map<String, Value> = (0..20)
            .map(|i| (format!("k{i}"), json!(i)))
            .chain([("type".to_owned(), json!("wide"))])
            .collect();
        let messages = [
            json!({"type": "chat.message", "text": "hi", "n": 1}),
            Value::Object(wide),
        ];
        let lists = [
            vec!["worker.tasks".to_owned()],
            (0..20)
                .map(|i| format!("specific.abc!{i:032}"))
                .collect::<Vec<_>>(),
        ];
        for serializer in [Serializer::Msgpack, Serializer::Json] {
            let c = codec(serializer);
            for message in &messages {
                let message = message.as_object().unwrap();
                for members in &lists {
                    let encoded = c.encode(message, Some(Route::Many(members))).unwrap();
                    let template = c.group_template(message).unwrap().unwrap();
                    let assembled =
                        [&template.head[..], &template.list(members), &template.tail].concat();
                    assert_eq!(assembled, encoded[12..], "{serializer:?}");
                }
            }
        }
    }

    #[test]
    fn undecodable_values_are_errors() {
        let c = codec(Serializer::Msgpack);
        assert!(c.decode(b"short").is_err());
        assert!(c.decode(&[0u8; 13]).is_err());
        let mut not_a_map = vec![0u8; 12];
        not_a_map.push(0x01);
        assert!(c.decode(&not_a_map).is_err());
    }

    #[cfg(feature = "redis-encryption")]
    #[test]
    fn encrypted_messages_round_trip() {
        let mut c = codec(Serializer::Msgpack);
        c.fernet = MultiFernet::new(&["secret".to_owned()]);
        let message = json!({"type": "chat.message", "text": "hi"});
        let bytes = c.encode(message.as_object().unwrap(), None).unwrap();
        assert!(bytes[12..].starts_with(b"gAAAAA"));
        assert_eq!(Value::Object(c.decode(&bytes).unwrap().0), message);
        assert!(codec(Serializer::Msgpack).decode(&bytes).is_err());
        assert!(
            c.group_template(message.as_object().unwrap())
                .unwrap()
                .is_none()
        );
    }
}

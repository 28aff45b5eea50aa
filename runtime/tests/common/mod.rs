//! A small hand-written endpoint for the server tests, playing the part of a generated dispatcher.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chanx_runtime::context::{Context, HandlerError};
use chanx_runtime::decode::{read_frame, tag_error};
use chanx_runtime::dispatch::{finish, send_errors, send_rejection};
use chanx_runtime::endpoint::{ChannelInfo, CredentialSource, Endpoint, SecurityScheme};
use chanx_runtime::layer::BoxFuture;
use chanx_runtime::server::{AuthRequest, Denied, Identity};
use serde_json::{Value, json};

pub(crate) static INFO: ChannelInfo = ChannelInfo {
    key: "test",
    address: Some("/ws/test/{room}"),
    security: &[
        SecurityScheme {
            key: "token",
            source: CredentialSource::Query("token"),
        },
        SecurityScheme {
            key: "bearer",
            source: CredentialSource::Bearer,
        },
    ],
};

const TAGS: &[&str] = &[
    "broadcast",
    "close",
    "echo",
    "fail",
    "join",
    "leave",
    "panic",
    "ping",
    "slow",
    "whoami",
];

/// Counts handlers running at once.
#[derive(Default)]
pub(crate) struct Gauge {
    pub(crate) running: AtomicUsize,
    pub(crate) peak: AtomicUsize,
}

#[derive(Clone, Default)]
pub(crate) struct TestEndpoint {
    pub(crate) gauge: Arc<Gauge>,
}

impl TestEndpoint {
    async fn handle(&self, cx: &Context, text: &str) {
        let incoming = match read_frame(text, "action") {
            Ok(incoming) => incoming,
            Err(rejected) => return send_rejection(cx, rejected),
        };
        let cx = cx.with_reply_ref(incoming.envelope.reference.clone());
        let frame: Value = serde_json::from_str(text).unwrap_or_default();
        let payload = frame.get("payload").cloned().unwrap_or(Value::Null);
        let tag = incoming.tag();
        match tag.as_str() {
            Some("ping") => finish(
                &cx,
                "ping",
                Ok(Some(json!({"action": "pong", "payload": null}))),
            ),
            Some("echo") => finish(
                &cx,
                "echo",
                Ok(Some(json!({"action": "echo", "payload": {
                    "seen": payload,
                    "seen_keys": payload.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
                    "reply_to": 1,
                }}))),
            ),
            Some("panic") => panic!("the handler panics"),
            Some("fail") => finish::<Value>(&cx, "fail", Err(HandlerError::msg("no"))),
            Some("slow") => {
                let now = self.gauge.running.fetch_add(1, Ordering::SeqCst) + 1;
                self.gauge.peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(payload["ms"].as_u64().unwrap_or(50)))
                    .await;
                self.gauge.running.fetch_sub(1, Ordering::SeqCst);
                finish(
                    &cx,
                    "slow",
                    Ok(Some(json!({"action": "done", "payload": payload["id"]}))),
                );
            }
            Some("join") => {
                let group = payload["group"].as_str().unwrap_or_default();
                let outcome = cx.join_group(group).await.map_err(HandlerError::from);
                finish(
                    &cx,
                    "join",
                    outcome.map(|()| Some(json!({"action": "joined", "payload": group}))),
                );
            }
            Some("leave") => {
                let group = payload["group"].as_str().unwrap_or_default();
                let outcome = cx.leave_group(group).await.map_err(HandlerError::from);
                finish(
                    &cx,
                    "leave",
                    outcome.map(|()| Some(json!({"action": "left", "payload": group}))),
                );
            }
            Some("broadcast") => {
                let note = json!({"action": "said", "payload": {"text": payload["text"]}});
                let exclude = payload["exclude"].as_bool().unwrap_or(false);
                let outcome = cx.broadcast_message(&note, None, exclude).await;
                finish::<Value>(
                    &cx,
                    "broadcast",
                    outcome.map(|()| None).map_err(HandlerError::from),
                );
            }
            Some("close") => cx.close(4321),
            Some("whoami") => finish(
                &cx,
                "whoami",
                Ok(Some(
                    json!({"action": "me", "payload": {"user": cx.user(), "room": cx.path_param("room")}}),
                )),
            ),
            _ => send_errors(&cx, vec![tag_error(&tag, "action", TAGS)]),
        }
    }
}

impl Endpoint for TestEndpoint {
    fn info(&self) -> &'static ChannelInfo {
        &INFO
    }

    fn handle_text<'a>(&'a self, cx: &'a Context, text: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(self.handle(cx, text))
    }

    fn handle_event<'a>(&'a self, cx: &'a Context, event_data: Value) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            match event_data.get("action").and_then(Value::as_str) {
                Some("boom") => panic!("the event handler panics"),
                Some("notify") => {
                    let _ = cx.send(&event_data);
                    true
                }
                _ => false,
            }
        })
    }
}

/// Chanx-style token authentication: `token` in the query or `Authorization: Bearer`.
pub(crate) async fn authenticate(request: AuthRequest) -> Result<Identity, Denied> {
    match request.credential() {
        Some((_, "alice-token")) => {
            Ok(Identity::user(json!({"username": "alice"})).with_data(json!({"user": "alice"})))
        }
        Some((_, "panic")) => panic!("the authenticator panics"),
        Some((_, "nobody")) => Err(Denied::unauthenticated()),
        Some(_) => Err(Denied::status(403).with_detail("bad token")),
        None => Err(Denied::status(401).with_detail("missing token")),
    }
}

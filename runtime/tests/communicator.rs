//! The connection loop through the in-process communicator: close codes, limits, binary frames,
//! panics, completion signals, camelCase, authentication, groups, shutdown, the handler bound.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chanx_runtime::layer::{
    ChannelLayer, LayerError, LayerMessage, broadcast_event, broadcast_message,
};
use chanx_runtime::memory::InMemoryLayer;
use chanx_runtime::server::{Frame, Route, Server, ServerOptions};
use chanx_runtime::testing::{Captured, CapturingLayer, Target};
use common::{TestEndpoint, authenticate};
use serde_json::{Value, json};

const QUIET: Duration = Duration::from_millis(60);

fn server(memory: &InMemoryLayer, options: ServerOptions) -> Server {
    let layer: Arc<dyn ChannelLayer> = Arc::new(memory.clone());
    Server::new(layer)
        .options(options)
        .endpoint(Route::new(TestEndpoint::default()).groups(|cx| {
            vec![format!(
                "room.{}",
                cx.path_param("room").unwrap_or_default()
            )]
        }))
}

fn plain() -> (InMemoryLayer, Server) {
    let memory = InMemoryLayer::new();
    let server = server(&memory, ServerOptions::default());
    (memory, server)
}

#[tokio::test]
async fn replies_echo_the_ref_byte_for_byte() {
    let (_, server) = plain();
    let mut ws = server.communicator("/ws/test/lobby").connect().unwrap();
    ws.send_text(r#"{"action": "ping", "ref": "r-1"}"#);
    assert_eq!(
        ws.receive_text().await,
        r#"{"action": "pong", "payload": null, "version": 1, "ref": "r-1"}"#
    );
    ws.send(&json!({"action": "whoami"}));
    assert_eq!(
        ws.receive_json().await,
        json!({"action": "me", "payload": {"user": null, "room": "lobby"}})
    );
    ws.send_text("{not json");
    assert_eq!(
        ws.receive_text().await,
        r#"{"action": "error", "payload": [{"type": "json_invalid", "loc": [], "msg": "Invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"}]}"#
    );
    assert!(ws.receive_nothing(QUIET).await);
    ws.disconnect().await;
}

#[tokio::test]
async fn binary_frames_get_chanx_error_and_the_connection_stays() {
    let (_, server) = plain();
    let mut ws = server.communicator("/ws/test/lobby").connect().unwrap();
    ws.send_binary(b"\x00\x01");
    assert_eq!(
        ws.receive_text().await,
        r#"{"action": "error", "payload": [{"type": "json_invalid", "loc": [], "msg": "Invalid JSON: binary frames are not supported"}]}"#
    );
    ws.send_with_ref(&json!({"action": "ping"}), "after");
    assert_eq!(ws.receive_json().await["ref"], "after");
}

#[tokio::test]
async fn frames_over_the_limit_close_with_1009() {
    let memory = InMemoryLayer::new();
    let server = server(&memory, ServerOptions::default().max_frame_size(64));
    let mut ws = server.communicator("/ws/test/lobby").connect().unwrap();
    let exact = format!(r#"{{"action": "ping", "ref": "{}"}}"#, "x".repeat(64 - 29));
    assert_eq!(exact.len(), 64);
    ws.send_text(exact);
    assert_eq!(ws.receive_json().await["action"], "pong");
    ws.send_text(format!(
        r#"{{"action": "ping", "ref": "{}"}}"#,
        "x".repeat(64 - 28)
    ));
    ws.assert_closed(1009).await;
    assert!(memory.group_members("room.lobby").is_empty());
    let mut ws = server.communicator("/ws/test/lobby").connect().unwrap();
    ws.send_binary(&[0; 65]);
    ws.assert_closed(1009).await;
}

#[tokio::test]
async fn a_panicking_handler_is_answered_as_a_failing_one_and_the_connection_stays() {
    let (memory, server) = plain();
    let mut ws = server.communicator("/ws/test/lobby").connect().unwrap();
    let mut other = server.communicator("/ws/test/lobby").connect().unwrap();
    ws.send_text(r#"{"action": "panic", "ref": "p"}"#);
    assert_eq!(
        ws.receive_text().await,
        r#"{"action": "error", "payload": {"detail": "Failed to process message for panic"}, "version": 1, "ref": "p"}"#
    );
    ws.send_text(r#"{"action": "fail"}"#);
    assert_eq!(
        ws.receive_text().await,
        r#"{"action": "error", "payload": {"detail": "Failed to process message for fail"}}"#
    );
    // Still connected, still in its group; the other connection saw nothing.
    assert_eq!(memory.group_members("room.lobby").len(), 2);
    ws.send(&json!({"action": "ping"}));
    assert_eq!(ws.receive_json().await["action"], "pong");
    assert!(other.receive_nothing(QUIET).await);
    // A panicking event handler is only swallowed, as Chanx logs a failing one.
    broadcast_event(&memory, &["room.lobby"], &json!({"action": "boom"}))
        .await
        .unwrap();
    broadcast_event(
        &memory,
        &["room.lobby"],
        &json!({"action": "notify", "payload": 1}),
    )
    .await
    .unwrap();
    assert_eq!(
        ws.receive_json().await,
        json!({"action": "notify", "payload": 1})
    );
    assert_eq!(
        other.receive_json().await,
        json!({"action": "notify", "payload": 1})
    );
}

#[tokio::test]
async fn events_reach_one_connection_by_its_channel_name() {
    let (memory, server) = plain();
    let mut alice = server.communicator("/ws/test/lobby").connect().unwrap();
    let mut bob = server.communicator("/ws/test/lobby").connect().unwrap();
    let name = alice.channel_name().await.unwrap().to_owned();
    assert!(name.starts_with("specific."), "{name}");
    assert_ne!(bob.channel_name().await, Some(name.as_str()));
    chanx_runtime::layer::send_event(&memory, &name, &json!({"action": "notify", "payload": 3}))
        .await
        .unwrap();
    assert_eq!(
        alice.receive_json().await,
        json!({"action": "notify", "payload": 3})
    );
    assert!(bob.receive_nothing(QUIET).await);
    // A connection refused before it had a channel has none.
    server.shutdown_handle().shutdown().await;
    let mut late = server.communicator("/ws/test/lobby").connect().unwrap();
    assert_eq!(late.channel_name().await, None);
}

#[tokio::test]
async fn handlers_may_close_the_connection() {
    let (memory, server) = plain();
    let mut ws = server.communicator("/ws/test/lobby").connect().unwrap();
    ws.send(&json!({"action": "close"}));
    ws.assert_closed(4321).await;
    assert_eq!(ws.receive().await, Some(Frame::Closed(Some(4321))));
    tokio::time::sleep(QUIET).await;
    assert!(memory.group_members("room.lobby").is_empty());
    assert_eq!(server.live_connections(), 0);
}

#[tokio::test]
async fn completion_signals_follow_chanx() {
    let memory = InMemoryLayer::new();
    let server = server(&memory, ServerOptions::default().send_completion(true));
    let mut ws = server.communicator("/ws/test/lobby").connect().unwrap();
    ws.send_text(r#"{"action": "ping", "ref": "q"}"#);
    assert_eq!(
        ws.receive_all(QUIET).await,
        [
            json!({"action": "pong", "payload": null, "version": 1, "ref": "q"}),
            json!({"action": "complete", "payload": null, "version": 1, "ref": "q"}),
        ]
    );
    // Errors after a valid envelope are followed by `complete`, too.
    ws.send_text(r#"{"action": "dance", "ref": "q2"}"#);
    let frames = ws.receive_all(QUIET).await;
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0]["action"], "error");
    assert_eq!(
        frames[1],
        json!({"action": "complete", "payload": null, "version": 1, "ref": "q2"})
    );
    // Frames rejected before the envelope (Chanx never reaches handle_json) are not.
    ws.send_text("[1]");
    ws.send_text(r#"{"action": "ping", "ref": 5}"#);
    ws.send_binary(b"x");
    let frames = ws.receive_all(QUIET).await;
    assert_eq!(frames.len(), 3);
    assert!(frames.iter().all(|frame| frame["action"] == "error"));
    // A panicking handler: the detail error, then complete.
    ws.send_text(r#"{"action": "panic", "ref": "z"}"#);
    let frames = ws.receive_all(QUIET).await;
    assert_eq!(
        frames[0]["payload"]["detail"],
        "Failed to process message for panic"
    );
    assert_eq!(frames[1]["action"], "complete");
    // Group relays and channel events.
    broadcast_message(
        &memory,
        &["room.lobby"],
        &json!({"action": "said", "payload": 1}),
        false,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        ws.receive_all(QUIET).await,
        [
            json!({"action": "said", "payload": 1}),
            json!({"action": "group_complete", "payload": null}),
        ]
    );
    broadcast_event(
        &memory,
        &["room.lobby"],
        &json!({"action": "notify", "payload": 2}),
    )
    .await
    .unwrap();
    assert_eq!(
        ws.receive_all(QUIET).await,
        [
            json!({"action": "notify", "payload": 2}),
            json!({"action": "event_complete", "payload": null}),
        ]
    );
    // An event that is none of the channel's is dropped without `event_complete`, as in Chanx.
    broadcast_event(
        &memory,
        &["room.lobby"],
        &json!({"action": "unknown", "payload": 3}),
    )
    .await
    .unwrap();
    assert_eq!(ws.receive_all(QUIET).await, Vec::<serde_json::Value>::new());
    // receive_until drops the completion frames and stops at `complete`.
    ws.send_with_ref(&json!({"action": "ping"}), "u");
    assert_eq!(
        ws.receive_until("complete").await,
        [json!({"action": "pong", "payload": null, "version": 1, "ref": "u"})]
    );
}

#[tokio::test]
async fn camelcase_keys_on_the_wire() {
    let memory = InMemoryLayer::new();
    let server = server(&memory, ServerOptions::default().camelize(true));
    let mut ws = server.communicator("/ws/test/lobby").connect().unwrap();
    ws.send_text(
        r#"{"action": "echo", "payload": {"userName": "ann_b", "sentAt": null}, "ref": "c"}"#,
    );
    // The handler saw snake_case keys; the client sees camelCase ones; values never change.
    assert_eq!(
        ws.receive_text().await,
        r#"{"action": "echo", "payload": {"seen": {"userName": "ann_b", "sentAt": null}, "seenKeys": ["user_name", "sent_at"], "replyTo": 1}, "version": 1, "ref": "c"}"#
    );
    broadcast_message(
        &memory,
        &["room.lobby"],
        &json!({"action": "x_y", "payload": {"a_b": 1}}),
        false,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        ws.receive_text().await,
        r#"{"action": "x_y", "payload": {"aB": 1}}"#
    );
}

#[tokio::test]
async fn authentication_accepts_then_authenticates() {
    let memory = InMemoryLayer::new();
    let server = server(
        &memory,
        ServerOptions::default().send_authentication_message(true),
    )
    .authenticator(authenticate);
    let mut ws = server
        .communicator("/ws/test/lobby?token=alice-token")
        .connect()
        .unwrap();
    assert_eq!(
        ws.receive_text().await,
        r#"{"action": "authentication", "payload": {"status_code": 200, "status_text": "OK", "data": {"user": "alice"}}}"#
    );
    ws.send(&json!({"action": "whoami"}));
    assert_eq!(
        ws.receive_json().await["payload"]["user"],
        json!({"username": "alice"})
    );
    assert_eq!(memory.group_members("room.lobby").len(), 1);

    let mut bearer = server
        .communicator("/ws/test/lobby")
        .header("Authorization", "Bearer alice-token")
        .connect()
        .unwrap();
    assert_eq!(bearer.receive_json().await["payload"]["status_code"], 200);

    let mut missing = server.communicator("/ws/test/lobby").connect().unwrap();
    assert_eq!(
        missing.receive_text().await,
        r#"{"action": "authentication", "payload": {"status_code": 401, "status_text": "Unauthorized", "data": {"detail": "missing token"}}}"#
    );
    missing.assert_closed(4401).await;

    let mut wrong = server
        .communicator("/ws/test/lobby")
        .query("token", "nope")
        .connect()
        .unwrap();
    assert_eq!(
        wrong.receive_text().await,
        r#"{"action": "authentication", "payload": {"status_code": 403, "status_text": "Forbidden", "data": {"detail": "bad token"}}}"#
    );
    wrong.assert_closed(4403).await;

    // A panicking authenticator is a 500: close 4500, no frame.
    let mut broken = server
        .communicator("/ws/test/lobby?token=panic")
        .connect()
        .unwrap();
    assert_eq!(broken.receive().await, Some(Frame::Closed(Some(4500))));
    // Refused connections never joined a group.
    tokio::time::sleep(QUIET).await;
    assert_eq!(memory.group_members("room.lobby").len(), 2);
}

#[tokio::test]
async fn without_the_authentication_message_only_the_close_code_tells() {
    let memory = InMemoryLayer::new();
    let server = server(&memory, ServerOptions::default()).authenticator(authenticate);
    let mut nobody = server
        .communicator("/ws/test/a?token=nobody")
        .connect()
        .unwrap();
    assert_eq!(nobody.receive().await, Some(Frame::Closed(Some(4401))));
    let mut wrong = server.communicator("/ws/test/a?token=x").connect().unwrap();
    assert_eq!(wrong.receive().await, Some(Frame::Closed(Some(4403))));
    let mut fine = server
        .communicator("/ws/test/a?token=alice-token")
        .connect()
        .unwrap();
    fine.send(&json!({"action": "ping"}));
    assert_eq!(fine.receive_json().await["action"], "pong");
    // A route's own authenticator wins over the server's.
    let open = Server::new(Arc::new(memory.clone()))
        .authenticator(authenticate)
        .endpoint(
            Route::new(TestEndpoint::default())
                .authenticator(|_| async { Ok(chanx_runtime::server::Identity::anonymous()) }),
        );
    let mut ws = open.communicator("/ws/test/b").connect().unwrap();
    ws.send(&json!({"action": "ping"}));
    assert_eq!(ws.receive_json().await["action"], "pong");
}

#[tokio::test]
async fn groups_are_joined_on_connect_and_left_on_disconnect() {
    let (memory, server) = plain();
    let alice = server.communicator("/ws/test/lobby").connect().unwrap();
    let mut bob = server.communicator("/ws/test/lobby").connect().unwrap();
    bob.send(&json!({"action": "ping"}));
    bob.receive_json().await;
    assert_eq!(memory.group_members("room.lobby").len(), 2);
    bob.send(&json!({"action": "join", "payload": {"group": "extra"}}));
    assert_eq!(bob.receive_json().await["action"], "joined");
    assert_eq!(memory.group_members("extra").len(), 1);
    alice.disconnect().await;
    assert_eq!(memory.group_members("room.lobby").len(), 1);
    bob.send(&json!({"action": "leave", "payload": {"group": "extra"}}));
    assert_eq!(bob.receive_json().await["action"], "left");
    assert!(memory.group_members("extra").is_empty());
    bob.send(&json!({"action": "join", "payload": {"group": "extra"}}));
    bob.receive_json().await;
    bob.disconnect().await;
    assert!(memory.group_members("room.lobby").is_empty());
    assert!(memory.group_members("extra").is_empty());
}

#[tokio::test]
async fn groups_are_left_when_the_task_is_cancelled_or_the_hook_panics() {
    let (memory, server) = plain();
    let mut ws = server.communicator("/ws/test/lobby").connect().unwrap();
    ws.send(&json!({"action": "join", "payload": {"group": "extra"}}));
    ws.receive_json().await;
    assert_eq!(memory.group_members("room.lobby").len(), 1);
    ws.abort().await;
    tokio::time::sleep(QUIET).await;
    assert!(memory.group_members("room.lobby").is_empty());
    assert!(memory.group_members("extra").is_empty());
    assert_eq!(server.live_connections(), 0);

    let hooked = Server::new(Arc::new(memory.clone())).endpoint(
        Route::new(TestEndpoint::default())
            .groups(|_| vec!["hooked".to_owned()])
            .on_connect(|_| async { panic!("the connect hook panics") }),
    );
    let mut ws = hooked.communicator("/ws/test/x").connect().unwrap();
    ws.assert_closed(1011).await;
    tokio::time::sleep(QUIET).await;
    assert!(memory.group_members("hooked").is_empty());
}

#[tokio::test]
async fn exclude_current_skips_the_sender_only() {
    let (_, server) = plain();
    let mut alice = server.communicator("/ws/test/lobby").connect().unwrap();
    let mut bob = server.communicator("/ws/test/lobby").connect().unwrap();
    let mut carol = server.communicator("/ws/test/elsewhere").connect().unwrap();
    for ws in [&mut alice, &mut bob, &mut carol] {
        ws.send(&json!({"action": "ping"}));
        assert_eq!(ws.receive_json().await["action"], "pong");
    }
    alice.send(&json!({"action": "broadcast", "payload": {"text": "hi", "exclude": true}}));
    assert_eq!(
        bob.receive_text().await,
        r#"{"action": "said", "payload": {"text": "hi"}}"#
    );
    assert!(alice.receive_nothing(QUIET).await);
    alice.send(&json!({"action": "broadcast", "payload": {"text": "all", "exclude": false}}));
    assert_eq!(alice.receive_json().await["payload"]["text"], "all");
    assert_eq!(bob.receive_json().await["payload"]["text"], "all");
    assert!(carol.receive_nothing(QUIET).await);
}

#[tokio::test]
async fn shutdown_closes_with_1001_and_leaves_groups() {
    let (memory, server) = plain();
    let mut a = server.communicator("/ws/test/lobby").connect().unwrap();
    let mut b = server.communicator("/ws/test/other").connect().unwrap();
    a.send(&json!({"action": "ping"}));
    a.receive_json().await;
    b.send(&json!({"action": "ping"}));
    b.receive_json().await;
    assert_eq!(server.live_connections(), 2);
    let handle = server.shutdown_handle();
    assert!(handle.shutdown().await);
    assert!(handle.is_shutting_down());
    a.assert_closed(1001).await;
    b.assert_closed(1001).await;
    assert_eq!(server.live_connections(), 0);
    assert!(memory.group_members("room.lobby").is_empty());
    assert!(memory.group_members("room.other").is_empty());
    let mut late = server.communicator("/ws/test/lobby").connect().unwrap();
    late.assert_closed(1001).await;
}

#[tokio::test]
async fn handlers_run_concurrently_up_to_the_bound() {
    for (bound, expected_peak) in [(2, 2), (32, 6)] {
        let memory = InMemoryLayer::new();
        let endpoint = TestEndpoint::default();
        let gauge = Arc::clone(&endpoint.gauge);
        let server = Server::new(Arc::new(memory))
            .options(ServerOptions::default().max_concurrent_handlers(bound))
            .endpoint(endpoint);
        let mut ws = server.communicator("/ws/test/lobby").connect().unwrap();
        for id in 0..6 {
            ws.send(&json!({"action": "slow", "payload": {"id": id, "ms": 80}}));
        }
        let mut done: Vec<i64> = Vec::new();
        for _ in 0..6 {
            done.push(ws.receive_json().await["payload"].as_i64().unwrap());
        }
        done.sort_unstable();
        assert_eq!(done, [0, 1, 2, 3, 4, 5]);
        assert_eq!(
            gauge.peak.load(Ordering::SeqCst),
            expected_peak,
            "bound {bound}"
        );
    }
}

#[tokio::test]
async fn unknown_paths_have_no_route() {
    let (_, server) = plain();
    let error = server.communicator("/ws/nope").connect().unwrap_err();
    assert_eq!(error.to_string(), "no route matches \"/ws/nope\"");
    assert_eq!(server.routes()[0].path(), "/ws/test/{room}");
}

#[tokio::test]
async fn broadcasts_are_captured() {
    let memory = InMemoryLayer::new();
    let capturing = CapturingLayer::new(Arc::new(memory.clone()));
    let server = Server::new(Arc::new(capturing.clone()))
        .endpoint(Route::new(TestEndpoint::default()).groups(|_| vec!["room".to_owned()]));
    let mut ws = server.communicator("/ws/test/lobby").connect().unwrap();
    ws.send(&json!({"action": "broadcast", "payload": {"text": "hi", "exclude": true}}));
    tokio::time::sleep(QUIET).await;
    let captured: Vec<Captured> = capturing.captured();
    assert_eq!(captured.len(), 1);
    assert_eq!(captured[0].target, Target::Group("room".to_owned()));
    assert_eq!(
        captured[0].message.get("message"),
        Some(&json!({"action": "said", "payload": {"text": "hi"}}))
    );
    assert!(ws.receive_nothing(QUIET).await);
    capturing.clear();
    assert!(capturing.captured().is_empty());
    // Suppressing: recorded, not delivered (Chanx's `capture_broadcast_events(suppress=True)`).
    let quiet = CapturingLayer::new(Arc::new(memory.clone())).suppress(true);
    let server = Server::new(Arc::new(quiet.clone()))
        .endpoint(Route::new(TestEndpoint::default()).groups(|_| vec!["room".to_owned()]));
    let mut ws = server.communicator("/ws/test/lobby").connect().unwrap();
    ws.send(&json!({"action": "broadcast", "payload": {"text": "x", "exclude": false}}));
    assert!(ws.receive_nothing(QUIET).await);
    let events: Vec<(Target, Value)> = quiet.messages();
    assert_eq!(
        events,
        [(
            Target::Group("room".to_owned()),
            json!({"action": "said", "payload": {"text": "x"}})
        )]
    );
}

/// A layer whose `receive` fails the first `failures` times with a backend error, then works.
struct FlakyLayer {
    inner: InMemoryLayer,
    failures: std::sync::atomic::AtomicUsize,
    closed: bool,
}

impl ChannelLayer for FlakyLayer {
    fn new_channel<'a>(
        &'a self,
        prefix: &'a str,
    ) -> chanx_runtime::layer::BoxFuture<'a, Result<String, LayerError>> {
        self.inner.new_channel(prefix)
    }
    fn send<'a>(
        &'a self,
        channel: &'a str,
        message: LayerMessage,
    ) -> chanx_runtime::layer::BoxFuture<'a, Result<(), LayerError>> {
        self.inner.send(channel, message)
    }
    fn receive<'a>(
        &'a self,
        channel: &'a str,
    ) -> chanx_runtime::layer::BoxFuture<'a, Result<LayerMessage, LayerError>> {
        if self.closed {
            return Box::pin(async { Err(LayerError::Closed) });
        }
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            return Box::pin(async { Err(LayerError::Backend("down".to_owned())) });
        }
        self.inner.receive(channel)
    }
    fn group_add<'a>(
        &'a self,
        group: &'a str,
        channel: &'a str,
    ) -> chanx_runtime::layer::BoxFuture<'a, Result<(), LayerError>> {
        self.inner.group_add(group, channel)
    }
    fn group_discard<'a>(
        &'a self,
        group: &'a str,
        channel: &'a str,
    ) -> chanx_runtime::layer::BoxFuture<'a, Result<(), LayerError>> {
        self.inner.group_discard(group, channel)
    }
    fn group_send<'a>(
        &'a self,
        group: &'a str,
        message: LayerMessage,
    ) -> chanx_runtime::layer::BoxFuture<'a, Result<(), LayerError>> {
        self.inner.group_send(group, message)
    }
    fn flush<'a>(&'a self) -> chanx_runtime::layer::BoxFuture<'a, Result<(), LayerError>> {
        self.inner.flush()
    }
}

#[tokio::test]
async fn layer_failures_do_not_end_the_connection() {
    for closed in [false, true] {
        let memory = InMemoryLayer::new();
        let flaky = FlakyLayer {
            inner: memory.clone(),
            failures: std::sync::atomic::AtomicUsize::new(3),
            closed,
        };
        let server = Server::new(Arc::new(flaky))
            .endpoint(Route::new(TestEndpoint::default()).groups(|_| vec!["g".to_owned()]));
        let mut ws = server.communicator("/ws/test/lobby").connect().unwrap();
        ws.set_timeout(Duration::from_secs(3));
        // Connected and in its group once it answers.
        ws.send(&json!({"action": "ping"}));
        assert_eq!(ws.receive_json().await["action"], "pong");
        broadcast_event(&memory, &["g"], &json!({"action": "notify", "payload": 1}))
            .await
            .unwrap();
        if closed {
            // A closed layer is not read again; the client is still served.
            assert!(ws.receive_nothing(Duration::from_millis(300)).await);
        } else {
            // Read again after a pause: the event arrives.
            assert_eq!(
                ws.receive_json().await,
                json!({"action": "notify", "payload": 1})
            );
        }
        ws.send(&json!({"action": "ping"}));
        assert_eq!(ws.receive_json().await["action"], "pong");
        ws.disconnect().await;
        assert!(memory.group_members("g").is_empty());
    }
}

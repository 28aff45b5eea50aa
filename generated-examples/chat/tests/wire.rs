//! The chat server on the wire: real text frames through the generated dispatcher, in process, with
//! a `Context` per connection on one `InMemoryLayer`, and the frames it sends compared byte for byte
//! with what Chanx 2.13 sends for the same input (`reference/chanx-protocol.md` §1.3, §3.1, §5).

use std::collections::BTreeMap;
use std::sync::Arc;

use chanx_example_chat::ChatServer;
use chanx_example_chat::api::chat::{ChatDispatcher, ChatLayer, ServerMessage};
use chanx_example_chat::api::types::{
    Announcement, AnnouncementPayload, PresencePayload, Priority, UserJoined,
};
use chanx_runtime::context::{Context, Outbound, channel};
use chanx_runtime::layer::{ChannelLayer, Inbound, classify};
use chanx_runtime::memory::InMemoryLayer;
use chanx_runtime::protocol::encode_frame;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

fn fixed_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
}

/// One WebSocket connection, without the socket: its context, and the frames its loop would write.
struct Connection {
    cx: Context,
    outbound: UnboundedReceiver<Outbound>,
}

impl Connection {
    /// A connection of `username` to `/ws/chat/{room}` (no path parameter for `None`).
    async fn open(layer: &Arc<dyn ChannelLayer>, room: Option<&str>, username: &str) -> Self {
        let (sender, outbound) = channel();
        let name = layer.new_channel("specific.").await.unwrap();
        let params: BTreeMap<String, String> = room
            .map(|room| ("room_name".to_owned(), room.to_owned()))
            .into_iter()
            .collect();
        let cx = Context::new(name, Arc::clone(layer), sender).with_path_params(params);
        cx.set_user(json!({"username": username}));
        Self { cx, outbound }
    }

    /// Sends `text` as a client frame and returns every frame written back.
    async fn exchange(
        &mut self,
        dispatcher: &ChatDispatcher<ChatServer>,
        text: &str,
    ) -> Vec<String> {
        dispatcher.handle_text(&self.cx, text).await;
        self.written()
    }

    /// The frames written so far (and not yet read).
    fn written(&mut self) -> Vec<String> {
        let mut frames = Vec::new();
        while let Ok(item) = self.outbound.try_recv() {
            match item {
                Outbound::Text(text) => frames.push(text),
                Outbound::Close(code) => panic!("unexpected close {code}"),
            }
        }
        frames
    }

    /// The next message on this connection's layer channel.
    async fn layer_message(&self) -> Inbound {
        let message = self
            .cx
            .layer()
            .receive(self.cx.channel_name())
            .await
            .unwrap();
        classify(message)
    }
}

fn setup() -> (Arc<dyn ChannelLayer>, ChatDispatcher<ChatServer>) {
    let layer: Arc<dyn ChannelLayer> = Arc::new(InMemoryLayer::new());
    (
        layer,
        ChatDispatcher::new(ChatServer::with_clock(fixed_time)),
    )
}

/// `(input, exact output)` pairs Chanx was observed to produce.
async fn assert_exchanges(pairs: &[(&str, &str)]) {
    let (layer, dispatcher) = setup();
    let mut alice = Connection::open(&layer, Some("lobby"), "alice").await;
    for (input, output) in pairs {
        assert_eq!(
            alice.exchange(&dispatcher, input).await,
            [*output],
            "for {input}"
        );
    }
}

#[tokio::test]
async fn ping_pong_and_the_ref_echo() {
    assert_exchanges(&[
        (
            r#"{"action": "ping"}"#,
            r#"{"action": "pong", "payload": null}"#,
        ),
        (
            r#"{"action": "ping", "payload": null, "ref": "r-1", "version": 1}"#,
            r#"{"action": "pong", "payload": null, "version": 1, "ref": "r-1"}"#,
        ),
        // Unknown keys are ignored, as pydantic does.
        (
            r#"{"action": "ping", "extra": 1}"#,
            r#"{"action": "pong", "payload": null}"#,
        ),
    ])
    .await;
}

#[tokio::test]
async fn frames_that_are_not_messages() {
    assert_exchanges(&[
        (
            "{not json",
            r#"{"action": "error", "payload": [{"type": "json_invalid", "loc": [], "msg": "Invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"}]}"#,
        ),
        (
            "[1, 2]",
            r#"{"action": "error", "payload": [{"type": "model_type", "loc": [], "msg": "Input should be a valid dictionary or instance of Envelope"}]}"#,
        ),
        (
            r#"{"payload": {"text": "hi"}}"#,
            r#"{"action": "error", "payload": [{"type": "union_tag_not_found", "loc": [], "msg": "Unable to extract tag using discriminator 'action'"}]}"#,
        ),
        (
            r#"{"action": "dance"}"#,
            r#"{"action": "error", "payload": [{"type": "union_tag_invalid", "loc": [], "msg": "Input tag 'dance' found using 'action' does not match any of the expected tags: 'attach', 'chat', 'history', 'move_cursor', 'ping', 'react', 'set_metadata', 'set_slow_mode'"}]}"#,
        ),
        (
            r#"{"action": "dance", "ref": "r-2"}"#,
            r#"{"action": "error", "payload": [{"type": "union_tag_invalid", "loc": [], "msg": "Input tag 'dance' found using 'action' does not match any of the expected tags: 'attach', 'chat', 'history', 'move_cursor', 'ping', 'react', 'set_metadata', 'set_slow_mode'"}], "version": 1, "ref": "r-2"}"#,
        ),
        // A bad envelope: no ref is echoed.
        (
            r#"{"action": "ping", "ref": 5}"#,
            r#"{"action": "error", "payload": [{"type": "string_type", "loc": ["ref"], "msg": "Input should be a valid string"}]}"#,
        ),
    ])
    .await;
}

#[tokio::test]
async fn payload_validation_errors() {
    assert_exchanges(&[
        (
            r#"{"action": "chat", "payload": {"text": ""}, "ref": "r-3"}"#,
            r#"{"action": "error", "payload": [{"type": "string_too_short", "loc": ["chat", "payload", "text"], "msg": "String should have at least 1 character"}], "version": 1, "ref": "r-3"}"#,
        ),
        (
            r#"{"action": "chat", "payload": {}}"#,
            r#"{"action": "error", "payload": [{"type": "missing", "loc": ["chat", "payload", "text"], "msg": "Field required"}]}"#,
        ),
        (
            r#"{"action": "chat"}"#,
            r#"{"action": "error", "payload": [{"type": "missing", "loc": ["chat", "payload"], "msg": "Field required"}]}"#,
        ),
        (
            r#"{"action": "chat", "payload": {"text": "hi", "priority": "urgent"}}"#,
            r#"{"action": "error", "payload": [{"type": "enum", "loc": ["chat", "payload", "priority"], "msg": "Input should be 'low', 'normal' or 'high'"}]}"#,
        ),
        (
            r#"{"action": "chat", "payload": {"text": "hi", "mentions": ["ab"]}}"#,
            r#"{"action": "error", "payload": [{"type": "string_pattern_mismatch", "loc": ["chat", "payload", "mentions", 0], "msg": "String should match pattern '^[a-z0-9_]{3,32}$'"}]}"#,
        ),
        (
            r#"{"action": "ping", "payload": 1}"#,
            r#"{"action": "error", "payload": [{"type": "none_required", "loc": ["ping", "payload"], "msg": "Input should be None"}]}"#,
        ),
        (
            r#"{"action": "move_cursor", "payload": {"position": [1]}}"#,
            r#"{"action": "error", "payload": [{"type": "missing", "loc": ["move_cursor", "payload", "position", 1], "msg": "Field required"}]}"#,
        ),
        // The `oneOf` with a `discriminator`: pydantic puts the arm's tag in the location.
        (
            r#"{"action": "attach", "payload": {"attachment": {"kind": "video", "url": "u"}}}"#,
            r#"{"action": "error", "payload": [{"type": "union_tag_invalid", "loc": ["attach", "payload", "attachment"], "msg": "Input tag 'video' found using 'kind' does not match any of the expected tags: 'image', 'link'"}]}"#,
        ),
        (
            r#"{"action": "attach", "payload": {"attachment": {"kind": "image", "url": "u", "height": 1}}}"#,
            r#"{"action": "error", "payload": [{"type": "missing", "loc": ["attach", "payload", "attachment", "image", "width"], "msg": "Field required"}]}"#,
        ),
        // `null` is not a default: a field with a non-null default rejects it.
        (
            r#"{"action": "chat", "payload": {"text": "hi", "priority": null}}"#,
            r#"{"action": "error", "payload": [{"type": "enum", "loc": ["chat", "payload", "priority"], "msg": "Input should be 'low', 'normal' or 'high'"}]}"#,
        ),
        (
            r#"{"action": "history", "payload": {"limit": null}}"#,
            r#"{"action": "error", "payload": [{"type": "int_type", "loc": ["history", "payload", "limit"], "msg": "Input should be a valid integer"}]}"#,
        ),
        (
            r#"{"action": "set_slow_mode", "payload": {"seconds": 3601}}"#,
            r#"{"action": "error", "payload": [{"type": "less_than_equal", "loc": ["set_slow_mode", "payload", "seconds"], "msg": "Input should be less than or equal to 3600"}]}"#,
        ),
    ])
    .await;
}

#[tokio::test]
async fn a_failing_handler_answers_with_chanx_detail_frame() {
    let (layer, dispatcher) = setup();
    // No `room_name` path parameter: `handle_chat` fails.
    let mut roomless = Connection::open(&layer, None, "alice").await;
    assert_eq!(
        roomless
            .exchange(
                &dispatcher,
                r#"{"action": "chat", "payload": {"text": "hi"}}"#
            )
            .await,
        [r#"{"action": "error", "payload": {"detail": "Failed to process message for chat"}}"#]
    );
    assert_eq!(
        roomless
            .exchange(&dispatcher, r#"{"action": "history", "ref": "r-4"}"#)
            .await,
        [
            r#"{"action": "error", "payload": {"detail": "Failed to process message for history"}, "version": 1, "ref": "r-4"}"#
        ]
    );
    // The connection stays usable.
    assert_eq!(
        roomless
            .exchange(&dispatcher, r#"{"action": "ping"}"#)
            .await,
        [r#"{"action": "pong", "payload": null}"#]
    );
}

#[tokio::test]
async fn chat_lines_are_broadcast_to_the_room() {
    let (layer, dispatcher) = setup();
    let mut alice = Connection::open(&layer, Some("lobby"), "alice").await;
    let bob = Connection::open(&layer, Some("lobby"), "bob").await;
    let carol = Connection::open(&layer, Some("kitchen"), "carol").await;
    for connection in [&alice, &bob, &carol] {
        dispatcher
            .consumer()
            .join_room(&connection.cx)
            .await
            .unwrap();
    }
    assert_eq!(alice.cx.groups(), ["chat.lobby"]);

    // Nothing comes back directly: the line reaches everyone through the group.
    let sent = alice
        .exchange(
            &dispatcher,
            r#"{"action": "chat", "payload": {"text": "hello room"}, "ref": "r-5"}"#,
        )
        .await;
    assert!(sent.is_empty(), "{sent:?}");

    let expected = json!({
        "action": "chat_notification",
        "payload": {
            "message_id": "00000000-0000-0000-0000-000000000001",
            "room": "lobby",
            "sender": "alice",
            "text": "hello room",
            "sent_at": "2026-01-02T03:04:05Z",
            "reply_to": null,
            "priority": "normal",
        },
    });
    for member in [&bob, &alice] {
        match member.layer_message().await {
            Inbound::GroupMessage {
                message,
                exclude_current,
                from_channel,
            } => {
                assert_eq!(message, expected);
                assert!(!exclude_current);
                assert_eq!(from_channel.as_deref(), Some(alice.cx.channel_name()));
                // What the connection loop relays: the message as is, no `ref`.
                assert_eq!(
                    encode_frame(&message, None).unwrap(),
                    r#"{"action": "chat_notification", "payload": {"message_id": "00000000-0000-0000-0000-000000000001", "room": "lobby", "sender": "alice", "text": "hello room", "sent_at": "2026-01-02T03:04:05Z", "reply_to": null, "priority": "normal"}}"#
                );
            }
            other => panic!("expected a group message, got {other:?}"),
        }
    }
    // Another room hears nothing.
    let nothing =
        tokio::time::timeout(std::time::Duration::from_millis(20), carol.layer_message()).await;
    assert!(nothing.is_err());
}

#[tokio::test]
async fn cursor_moves_skip_the_sender() {
    let (layer, dispatcher) = setup();
    let mut alice = Connection::open(&layer, Some("lobby"), "alice").await;
    let bob = Connection::open(&layer, Some("lobby"), "bob").await;
    for connection in [&alice, &bob] {
        dispatcher
            .consumer()
            .join_room(&connection.cx)
            .await
            .unwrap();
    }
    let sent = alice
        .exchange(
            &dispatcher,
            r#"{"action": "move_cursor", "payload": {"position": [3, 4]}}"#,
        )
        .await;
    assert!(sent.is_empty());
    for member in [&bob, &alice] {
        let Inbound::GroupMessage {
            message,
            exclude_current,
            from_channel,
        } = member.layer_message().await
        else {
            panic!("expected a group message");
        };
        assert_eq!(
            message,
            json!({"action": "cursor_moved", "payload": {"user": "alice", "position": [3, 4]}})
        );
        assert!(exclude_current);
        // The loop of the sender's own connection drops its copy.
        let relayed =
            !(exclude_current && from_channel.as_deref() == Some(member.cx.channel_name()));
        assert_eq!(relayed, member.cx.channel_name() == bob.cx.channel_name());
    }
}

#[tokio::test]
async fn replies_to_the_sender() {
    assert_exchanges(&[
        (
            r#"{"action": "react", "payload": {"message_id": "00000000-0000-0000-0000-000000000007", "emoji": "+1"}, "ref": "a"}"#,
            r#"{"action": "reaction_added", "payload": {"message_id": "00000000-0000-0000-0000-000000000007", "emoji": "+1", "count": 1}, "version": 1, "ref": "a"}"#,
        ),
        (
            r#"{"action": "react", "payload": {"message_id": "00000000-0000-0000-0000-000000000007", "emoji": "+1"}}"#,
            r#"{"action": "reaction_added", "payload": {"message_id": "00000000-0000-0000-0000-000000000007", "emoji": "+1", "count": 2}}"#,
        ),
        (
            // Keys already in sorted order: see `free_form_objects_keep_their_key_order`.
            r#"{"action": "set_metadata", "payload": {"pinned": [1, 2], "topic": "Caf\u00e9"}}"#,
            r#"{"action": "room_metadata", "payload": {"pinned": [1, 2], "topic": "Caf\u00e9"}}"#,
        ),
        (
            r#"{"action": "set_metadata", "payload": {"topic": null}}"#,
            r#"{"action": "room_metadata", "payload": {"pinned": [1, 2], "topic": null}}"#,
        ),
        // The spec's default ratio (1.0) is filled in by the handler.
        (
            r#"{"action": "set_slow_mode", "payload": {"seconds": 30}}"#,
            r#"{"action": "slow_mode_changed", "payload": {"seconds": 30, "ratio": 1.0}}"#,
        ),
        (
            r#"{"action": "attach", "payload": {"attachment": {"kind": "link", "href": "https://example.com"}}}"#,
            r#"{"action": "attachment_posted", "payload": {"attachment_id": "00000000-0000-0000-0000-000000000001", "sender": "alice", "attachment": {"kind": "link", "href": "https://example.com", "title": null}}}"#,
        ),
    ])
    .await;
}

#[tokio::test]
async fn history_pages_backwards() {
    let (layer, dispatcher) = setup();
    let mut alice = Connection::open(&layer, Some("lobby"), "alice").await;
    for text in ["one", "two", "three"] {
        let frame = json!({"action": "chat", "payload": {"text": text}}).to_string();
        assert!(alice.exchange(&dispatcher, &frame).await.is_empty());
    }
    let page = alice
        .exchange(
            &dispatcher,
            r#"{"action": "history", "payload": {"limit": 2}}"#,
        )
        .await;
    let page: Value = serde_json::from_str(&page[0]).unwrap();
    let texts: Vec<&str> = page["payload"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["two", "three"]);
    assert_eq!(page["payload"]["has_more"], json!(true));
    // No payload: the spec's default query (limit 50).
    let page = alice
        .exchange(&dispatcher, r#"{"action": "history"}"#)
        .await;
    let page: Value = serde_json::from_str(&page[0]).unwrap();
    assert_eq!(page["action"], "history_page");
    assert_eq!(page["payload"]["messages"].as_array().unwrap().len(), 3);
    assert_eq!(page["payload"]["has_more"], json!(false));
}

#[tokio::test]
async fn server_events_are_forwarded_by_the_default_event_methods() {
    let (layer, dispatcher) = setup();
    let bob = Connection::open(&layer, Some("lobby"), "bob").await;
    let mut bob = bob;
    dispatcher.consumer().join_room(&bob.cx).await.unwrap();

    // Any process (a worker, an HTTP handler) broadcasts through the typed layer client.
    let chat = ChatLayer::new(Arc::clone(&layer));
    let announcement = ServerMessage::Announcement(Announcement {
        payload: AnnouncementPayload {
            text: "Maintenance at noon".to_owned(),
            priority: Priority::High,
            expires_at: Some(fixed_time()),
        },
    });
    chat.broadcast_event(&[&ChatServer::room_group("lobby")], &announcement)
        .await
        .unwrap();
    let Inbound::ChannelEvent { event_data } = bob.layer_message().await else {
        panic!("expected a channel event");
    };
    dispatcher.handle_event(&bob.cx, event_data).await;
    assert_eq!(
        bob.written(),
        [
            r#"{"action": "announcement", "payload": {"text": "Maintenance at noon", "priority": "high", "expires_at": "2026-01-02T03:04:05Z"}}"#
        ]
    );

    // A passthrough event, sent to one connection, as a Python Chanx process would.
    let joined = ServerMessage::UserJoined(UserJoined {
        payload: PresencePayload {
            user: "carol".to_owned(),
            online: 3,
            at: fixed_time(),
        },
    });
    chat.send_event(bob.cx.channel_name(), &joined)
        .await
        .unwrap();
    let Inbound::ChannelEvent { event_data } = bob.layer_message().await else {
        panic!("expected a channel event");
    };
    assert_eq!(
        event_data,
        json!({"action": "user_joined", "payload": {"user": "carol", "online": 3, "at": "2026-01-02T03:04:05Z"}})
    );
    dispatcher.handle_event(&bob.cx, event_data).await;
    assert_eq!(
        bob.written(),
        [
            r#"{"action": "user_joined", "payload": {"user": "carol", "online": 3, "at": "2026-01-02T03:04:05Z"}}"#
        ]
    );

    // Events that match no event method are dropped (Chanx only logs them).
    dispatcher
        .handle_event(&bob.cx, json!({"action": "user_joined", "payload": {}}))
        .await;
    dispatcher
        .handle_event(&bob.cx, json!({"action": "nope"}))
        .await;
    assert!(bob.written().is_empty());
}

// Behaviours where the generator once differed from Chanx (see generated-examples/README.md).

#[tokio::test]
async fn null_is_not_an_empty_list() {
    assert_exchanges(&[
        (
            r#"{"action": "chat", "payload": {"text": "hi", "mentions": null}}"#,
            r#"{"action": "error", "payload": [{"type": "list_type", "loc": ["chat", "payload", "mentions"], "msg": "Input should be a valid list"}]}"#,
        ),
    ])
    .await;
}

#[tokio::test]
async fn constraint_errors_in_a_tagged_union_arm_carry_the_tag() {
    assert_exchanges(&[(
        r#"{"action": "attach", "payload": {"attachment": {"kind": "image", "url": "u", "width": 0, "height": 1}}}"#,
        r#"{"action": "error", "payload": [{"type": "greater_than", "loc": ["attach", "payload", "attachment", "image", "width"], "msg": "Input should be greater than 0"}]}"#,
    )])
    .await;
}

#[tokio::test]
async fn free_form_objects_keep_their_key_order() {
    assert_exchanges(&[(
        r#"{"action": "set_metadata", "payload": {"topic": "x", "pinned": []}}"#,
        r#"{"action": "room_metadata", "payload": {"topic": "x", "pinned": []}}"#,
    )])
    .await;
}

#[tokio::test]
async fn undeclared_events_are_dropped() {
    let (layer, dispatcher) = setup();
    let mut bob = Connection::open(&layer, Some("lobby"), "bob").await;
    for event in [
        json!({"action": "pong", "payload": null}),
        json!({"action": "history_page", "payload": {"messages": [], "has_more": false}}),
    ] {
        dispatcher.handle_event(&bob.cx, event).await;
    }
    assert_eq!(bob.written(), Vec::<String>::new());
}

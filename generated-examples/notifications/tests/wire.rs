//! The notification server on the wire: authentication at connect, pushes through the channel
//! layer, and `mark_read`, driven in process through the generated dispatchers with a `Context` per
//! connection on one `InMemoryLayer`; frames compared byte for byte with Chanx 2.13's
//! (`reference/chanx-protocol.md` §1.3, §3.1, §4, §5).

use std::collections::BTreeMap;
use std::sync::Arc;

use chanx_example_notifications::api::inbox::{self, InboxDispatcher, InboxLayer};
use chanx_example_notifications::api::notifications::{
    NotificationsDispatcher, NotificationsLayer, ServerMessage,
};
use chanx_example_notifications::api::types::{
    InboxItem, InboxItemPayload, NotificationPayload, Severity, UnreadCount, UnreadCountPayload,
};
use chanx_example_notifications::{Inbox, NotificationServer, Refused};
use chanx_runtime::context::{Context, Outbound, channel};
use chanx_runtime::layer::{ChannelLayer, Inbound, classify};
use chanx_runtime::memory::InMemoryLayer;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;
use uuid::Uuid;

const ALICE: i64 = 7;
const BOB: i64 = 8;

fn server() -> NotificationServer {
    NotificationServer::new([
        ("alice-token-0123456789", ALICE, "alice"),
        ("bob-token-0123456789", BOB, "bob"),
    ])
}

fn fixed_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
}

/// One WebSocket connection, without the socket: its context, and what its loop would write.
struct Connection {
    cx: Context,
    outbound: UnboundedReceiver<Outbound>,
}

impl Connection {
    /// A connection to `/ws/notifications/{user_id}`.
    async fn open(layer: &Arc<dyn ChannelLayer>, user_id: i64) -> Self {
        let (sender, outbound) = channel();
        let name = layer.new_channel("specific.").await.unwrap();
        let params = BTreeMap::from([("user_id".to_owned(), user_id.to_string())]);
        let cx = Context::new(name, Arc::clone(layer), sender).with_path_params(params);
        Self { cx, outbound }
    }

    /// Everything written so far (and not yet read).
    fn written(&mut self) -> Vec<Outbound> {
        let mut items = Vec::new();
        while let Ok(item) = self.outbound.try_recv() {
            items.push(item);
        }
        items
    }

    /// Sends `text` as a client frame and returns every frame written back.
    async fn exchange(
        &mut self,
        dispatcher: &NotificationsDispatcher<NotificationServer>,
        text: &str,
    ) -> Vec<Outbound> {
        dispatcher.handle_text(&self.cx, text).await;
        self.written()
    }

    /// Feeds every channel event waiting on this connection's layer channel to `dispatcher`, as
    /// the connection loop does, and returns what was written.
    async fn deliver_events(
        &mut self,
        dispatcher: &NotificationsDispatcher<NotificationServer>,
        count: usize,
    ) -> Vec<Outbound> {
        for _ in 0..count {
            let message = self
                .cx
                .layer()
                .receive(self.cx.channel_name())
                .await
                .unwrap();
            let Inbound::ChannelEvent { event_data } = classify(message) else {
                panic!("expected a channel event");
            };
            dispatcher.handle_event(&self.cx, event_data).await;
        }
        self.written()
    }
}

fn text(frame: &str) -> Outbound {
    Outbound::Text(frame.to_owned())
}

fn setup() -> (
    Arc<dyn ChannelLayer>,
    NotificationsDispatcher<NotificationServer>,
) {
    let layer: Arc<dyn ChannelLayer> = Arc::new(InMemoryLayer::new());
    (layer, NotificationsDispatcher::new(server()))
}

/// An authenticated connection of `user_id`, its greeting already read.
async fn signed_in(
    layer: &Arc<dyn ChannelLayer>,
    dispatcher: &NotificationsDispatcher<NotificationServer>,
    user_id: i64,
    token: &str,
) -> Connection {
    let mut connection = Connection::open(layer, user_id).await;
    dispatcher
        .consumer()
        .connect(&connection.cx, Some(token), None)
        .await
        .unwrap();
    assert_eq!(connection.written().len(), 2);
    connection
}

#[tokio::test]
async fn authentication_at_connect() {
    let (layer, dispatcher) = setup();
    let server = dispatcher.consumer();

    let mut anonymous = Connection::open(&layer, ALICE).await;
    assert_eq!(
        server.connect(&anonymous.cx, None, None).await,
        Err(Refused { status: 401 })
    );
    assert_eq!(
        anonymous.written(),
        [
            text(
                r#"{"action": "authentication", "payload": {"status_code": 401, "status_text": "Unauthorized", "data": {"detail": "missing token"}}}"#
            ),
            Outbound::Close(4401),
        ]
    );

    let mut wrong = Connection::open(&layer, ALICE).await;
    assert_eq!(
        server.connect(&wrong.cx, Some("wrong"), None).await,
        Err(Refused { status: 403 })
    );
    assert_eq!(
        wrong.written(),
        [
            text(
                r#"{"action": "authentication", "payload": {"status_code": 403, "status_text": "Forbidden", "data": {"detail": "bad token"}}}"#
            ),
            Outbound::Close(4403),
        ]
    );

    // Bob's token on Alice's stream.
    let mut other = Connection::open(&layer, ALICE).await;
    assert_eq!(
        server
            .connect(&other.cx, None, Some("Bearer bob-token-0123456789"))
            .await,
        Err(Refused { status: 403 })
    );
    assert_eq!(other.written()[1], Outbound::Close(4403));
    assert!(other.cx.groups().is_empty());

    let mut alice = Connection::open(&layer, ALICE).await;
    server
        .connect(&alice.cx, None, Some("Bearer alice-token-0123456789"))
        .await
        .unwrap();
    assert_eq!(
        alice.written(),
        [
            text(
                r#"{"action": "authentication", "payload": {"status_code": 200, "status_text": "OK", "data": {"user": "alice"}}}"#
            ),
            // The spec's `emits`.
            text(r#"{"action": "welcome", "payload": null}"#),
        ]
    );
    assert_eq!(alice.cx.groups(), ["notify.user.7"]);
    assert_eq!(alice.cx.user(), Some(json!({"id": 7, "username": "alice"})));
}

#[tokio::test]
async fn pushes_reach_every_connection_of_the_user() {
    let (layer, dispatcher) = setup();
    let mut tab_1 = signed_in(&layer, &dispatcher, ALICE, "alice-token-0123456789").await;
    let mut tab_2 = signed_in(&layer, &dispatcher, ALICE, "alice-token-0123456789").await;
    let bob = signed_in(&layer, &dispatcher, BOB, "bob-token-0123456789").await;

    // From anywhere that shares the layer (a worker, an HTTP handler).
    let notifications = NotificationsLayer::new(Arc::clone(&layer));
    dispatcher
        .consumer()
        .notify(
            &notifications,
            ALICE,
            NotificationPayload {
                id: Uuid::from_u128(0x42),
                title: "Build failed".to_owned(),
                body: None,
                severity: Severity::V10,
                created_at: fixed_time(),
            },
        )
        .await
        .unwrap();

    for tab in [&mut tab_1, &mut tab_2] {
        assert_eq!(
            tab.deliver_events(&dispatcher, 2).await,
            [
                text(
                    r#"{"action": "notification", "payload": {"id": "00000000-0000-0000-0000-000000000042", "title": "Build failed", "body": null, "severity": 10, "created_at": "2026-01-02T03:04:05Z"}}"#
                ),
                text(r#"{"action": "unread_count", "payload": {"unread": 1}}"#),
            ]
        );
    }
    let nothing = tokio::time::timeout(
        std::time::Duration::from_millis(20),
        bob.cx.layer().receive(bob.cx.channel_name()),
    )
    .await;
    assert!(nothing.is_err());

    // The same event, as a Python Chanx process puts it on the layer.
    notifications
        .send_event(
            tab_1.cx.channel_name(),
            &ServerMessage::UnreadCount(UnreadCount {
                payload: UnreadCountPayload { unread: 5 },
            }),
        )
        .await
        .unwrap();
    let message = layer.receive(tab_1.cx.channel_name()).await.unwrap();
    assert_eq!(
        serde_json::Value::Object(message.clone()),
        json!({"type": "handle_channel_event", "event_data": {"action": "unread_count", "payload": {"unread": 5}}})
    );
}

#[tokio::test]
async fn mark_read_answers_the_sender_with_its_ref() {
    let (layer, dispatcher) = setup();
    let mut alice = signed_in(&layer, &dispatcher, ALICE, "alice-token-0123456789").await;
    let notifications = NotificationsLayer::new(Arc::clone(&layer));
    for id in [1, 2] {
        let payload = NotificationPayload {
            id: Uuid::from_u128(id),
            title: format!("#{id}"),
            body: Some("details".to_owned()),
            severity: Severity::V1,
            created_at: fixed_time(),
        };
        dispatcher
            .consumer()
            .notify(&notifications, ALICE, payload)
            .await
            .unwrap();
    }
    assert_eq!(alice.deliver_events(&dispatcher, 4).await.len(), 4);

    assert_eq!(
        alice
            .exchange(
                &dispatcher,
                r#"{"action": "mark_read", "payload": {"ids": ["00000000-0000-0000-0000-000000000001"]}, "ref": "r-1"}"#,
            )
            .await,
        [text(
            r#"{"action": "read_ack", "payload": {"unread": 1}, "version": 1, "ref": "r-1"}"#
        )]
    );
    assert_eq!(
        alice
            .exchange(
                &dispatcher,
                r#"{"action": "mark_read", "payload": {"ids": ["00000000-0000-0000-0000-000000000002", "00000000-0000-0000-0000-000000000009"]}}"#,
            )
            .await,
        [text(r#"{"action": "read_ack", "payload": {"unread": 0}}"#)]
    );
}

#[tokio::test]
async fn frames_that_are_not_messages() {
    let (layer, dispatcher) = setup();
    let mut alice = signed_in(&layer, &dispatcher, ALICE, "alice-token-0123456789").await;
    assert_eq!(
        alice.exchange(&dispatcher, "{not json").await,
        [text(
            r#"{"action": "error", "payload": [{"type": "json_invalid", "loc": [], "msg": "Invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"}]}"#
        )]
    );
    assert_eq!(
        alice.exchange(&dispatcher, "[1, 2]").await,
        [text(
            r#"{"action": "error", "payload": [{"type": "model_type", "loc": [], "msg": "Input should be a valid dictionary or instance of Envelope"}]}"#
        )]
    );
}

/// What Chanx sends for a consumer with one `@ws_handler` (its adapter is still a discriminated
/// union on `action`).
#[tokio::test]
async fn one_action_is_still_a_tagged_union() {
    let (layer, dispatcher) = setup();
    let mut alice = signed_in(&layer, &dispatcher, ALICE, "alice-token-0123456789").await;
    let mut anonymous = Connection::open(&layer, ALICE).await;
    let cases = [
        (
            r#"{"payload": {"ids": []}}"#,
            r#"{"action": "error", "payload": [{"type": "union_tag_not_found", "loc": [], "msg": "Unable to extract tag using discriminator 'action'"}]}"#,
        ),
        (
            r#"{"action": "dance"}"#,
            r#"{"action": "error", "payload": [{"type": "union_tag_invalid", "loc": [], "msg": "Input tag 'dance' found using 'action' does not match any of the expected tags: 'mark_read'"}]}"#,
        ),
        (
            r#"{"action": "mark_read", "payload": {"ids": []}, "ref": "r-2"}"#,
            r#"{"action": "error", "payload": [{"type": "too_short", "loc": ["mark_read", "payload", "ids"], "msg": "List should have at least 1 item after validation, not 0"}], "version": 1, "ref": "r-2"}"#,
        ),
        (
            r#"{"action": "mark_read"}"#,
            r#"{"action": "error", "payload": [{"type": "missing", "loc": ["mark_read", "payload"], "msg": "Field required"}]}"#,
        ),
    ];
    for (input, output) in cases {
        assert_eq!(
            alice.exchange(&dispatcher, input).await,
            [text(output)],
            "{input}"
        );
    }
    // A handler failure (nobody signed in on this connection).
    assert_eq!(
        anonymous
            .exchange(
                &dispatcher,
                r#"{"action": "mark_read", "payload": {"ids": ["00000000-0000-0000-0000-000000000001"]}}"#,
            )
            .await,
        [text(
            r#"{"action": "error", "payload": {"detail": "Failed to process message for mark_read"}}"#
        )]
    );
}

#[tokio::test]
async fn a_failing_handler_keeps_the_connection_open() {
    let (layer, dispatcher) = setup();
    // Nobody signed in on this connection: `mark_read` fails. The frame says which message failed
    // only as `for mark_read` in Chanx (see `one_action_is_still_a_tagged_union`).
    let mut anonymous = Connection::open(&layer, ALICE).await;
    let frames = anonymous
        .exchange(
            &dispatcher,
            r#"{"action": "mark_read", "payload": {"ids": ["00000000-0000-0000-0000-000000000001"]}}"#,
        )
        .await;
    let [Outbound::Text(frame)] = frames.as_slice() else {
        panic!("expected one frame, got {frames:?}");
    };
    assert!(
        frame
            .starts_with(r#"{"action": "error", "payload": {"detail": "Failed to process message"#),
        "{frame}"
    );
}

#[tokio::test]
async fn inbox_items_are_forwarded() {
    let layer: Arc<dyn ChannelLayer> = Arc::new(InMemoryLayer::new());
    let dispatcher = InboxDispatcher::new(Inbox);
    let (sender, mut outbound) = channel();
    let name = layer.new_channel("specific.").await.unwrap();
    let cx = Context::new(name, Arc::clone(&layer), sender);
    cx.join_group("inbox.0badcafe").await.unwrap();

    let item = inbox::ServerMessage::InboxItem(InboxItem {
        payload: InboxItemPayload {
            item_id: 12,
            subject: "Invoice".to_owned(),
            received_at: fixed_time(),
        },
    });
    InboxLayer::new(Arc::clone(&layer))
        .broadcast_event(&["inbox.0badcafe"], &item)
        .await
        .unwrap();
    let Inbound::ChannelEvent { event_data } =
        classify(layer.receive(cx.channel_name()).await.unwrap())
    else {
        panic!("expected a channel event");
    };
    dispatcher.handle_event(&cx, event_data).await;
    assert_eq!(
        outbound.try_recv(),
        Ok(text(
            r#"{"action": "inbox_item", "payload": {"item_id": 12, "subject": "Invoice", "received_at": "2026-01-02T03:04:05Z"}}"#
        ))
    );
}

/// What Chanx does on a channel with a single server message and no client message.
#[tokio::test]
async fn inbox_is_chanx_on_the_wire() {
    let layer: Arc<dyn ChannelLayer> = Arc::new(InMemoryLayer::new());
    let dispatcher = InboxDispatcher::new(Inbox);
    let (sender, mut outbound) = channel();
    let cx = Context::new("specific..inmemory!x".to_owned(), layer, sender);
    // A consumer without `@ws_handler`s answers every frame so.
    dispatcher.handle_text(&cx, r#"{"action": "ping"}"#).await;
    assert_eq!(
        outbound.try_recv(),
        Ok(text(
            r#"{"action": "error", "payload": {"detail": "Failed to process message"}}"#
        ))
    );
    // Events that are not an `inbox_item` are dropped.
    dispatcher
        .handle_event(
            &cx,
            json!({"action": "other", "payload": {"item_id": 1, "subject": "s", "received_at": "2026-01-02T03:04:05Z"}}),
        )
        .await;
    assert!(outbound.try_recv().is_err());
}

#[tokio::test]
async fn invalid_events_are_dropped() {
    let (layer, dispatcher) = setup();
    let mut alice = signed_in(&layer, &dispatcher, ALICE, "alice-token-0123456789").await;
    // `unread` has `minimum: 0`; Chanx's event adapter rejects the event and only logs it.
    dispatcher
        .handle_event(
            &alice.cx,
            json!({"action": "unread_count", "payload": {"unread": -1}}),
        )
        .await;
    assert_eq!(alice.written(), []);
}

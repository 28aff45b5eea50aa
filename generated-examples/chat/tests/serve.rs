//! The chat server as it is served: through the connection loop, in process (communicator) and
//! on a real socket (typed client).

use std::sync::Arc;

use chanx_example_chat::api::chat::{ClientMessage, ServerMessage};
use chanx_example_chat::api::types::{
    ChatMessage, ChatNotification, ChatPayload, CursorMoved, CursorPosition, MoveCursor,
    MoveCursorPayload, PingMessage, PongMessage, Priority,
};
use chanx_example_chat::{ChatServer, server_with};
use chanx_runtime::client::Client;
use chanx_runtime::frame::ServerFrame;
use chanx_runtime::memory::InMemoryLayer;
use chanx_runtime::server::ServerOptions;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

fn fixed_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
}

fn chat(text: &str) -> ClientMessage {
    ClientMessage::ChatMessage(ChatMessage {
        payload: ChatPayload {
            text: text.to_owned(),
            reply_to: None,
            mentions: Vec::new(),
            priority: Priority::Normal,
        },
    })
}

#[tokio::test]
async fn chat_through_the_communicator() {
    let memory = InMemoryLayer::new();
    let server = server_with(Arc::new(memory.clone()), ChatServer::with_clock(fixed_time))
        .options(ServerOptions::default().send_completion(true));
    let mut alice = server.communicator("/ws/chat/lobby").connect().unwrap();
    let mut bob = server.communicator("/ws/chat/lobby").connect().unwrap();
    alice.send_with_ref(
        &ClientMessage::PingMessage(PingMessage { payload: () }),
        "r-1",
    );
    assert_eq!(
        alice.receive_text().await,
        r#"{"action": "pong", "payload": null, "version": 1, "ref": "r-1"}"#
    );
    assert_eq!(alice.receive_json().await["action"], "complete");
    assert_eq!(
        memory.group_members(&ChatServer::room_group("lobby")).len(),
        2
    );
    alice.send(&chat("hello room"));
    let expected = r#"{"action": "chat_notification", "payload": {"message_id": "00000000-0000-0000-0000-000000000001", "room": "lobby", "sender": "anonymous", "text": "hello room", "sent_at": "2026-01-02T03:04:05Z", "reply_to": null, "priority": "normal"}}"#;
    for ws in [&mut alice, &mut bob] {
        let frames = ws.receive_all(std::time::Duration::from_millis(80)).await;
        let texts: Vec<String> = frames.iter().map(|f| f["action"].to_string()).collect();
        assert!(
            texts.contains(&"\"chat_notification\"".to_owned()),
            "{texts:?}"
        );
        assert!(
            texts.contains(&"\"group_complete\"".to_owned()),
            "{texts:?}"
        );
        let note = frames
            .iter()
            .find(|f| f["action"] == "chat_notification")
            .unwrap();
        assert_eq!(
            note,
            &serde_json::from_str::<serde_json::Value>(expected).unwrap()
        );
    }
    // Cursor moves reach the others only (exclude_current).
    alice.send(&ClientMessage::MoveCursor(MoveCursor {
        payload: MoveCursorPayload { position: (3, 4) },
    }));
    assert_eq!(
        bob.receive_message::<ServerMessage>().await,
        ServerMessage::CursorMoved(CursorMoved {
            payload: CursorPosition {
                user: "anonymous".to_owned(),
                position: (3, 4)
            }
        })
    );
    assert_eq!(
        alice.receive_until("complete").await,
        Vec::<serde_json::Value>::new()
    );
    alice.disconnect().await;
    bob.disconnect().await;
    assert!(
        memory
            .group_members(&ChatServer::room_group("lobby"))
            .is_empty()
    );
}

#[tokio::test]
async fn chat_over_a_real_socket_with_the_typed_client() {
    let memory = InMemoryLayer::new();
    let server = server_with(Arc::new(memory.clone()), ChatServer::with_clock(fixed_time));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws/chat/lobby", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        server
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await
    });
    type ChatClient = Client<ClientMessage, ServerMessage>;
    let mut alice = ChatClient::connect(&url).await.unwrap();
    let mut bob = ChatClient::connect(&url).await.unwrap();
    alice
        .send_with_ref(
            &ClientMessage::PingMessage(PingMessage { payload: () }),
            "p",
        )
        .await
        .unwrap();
    assert_eq!(
        alice.recv().await.unwrap(),
        Some(ServerFrame::Message {
            message: ServerMessage::PongMessage(PongMessage { payload: () }),
            reference: Some("p".to_owned()),
        })
    );
    while memory.group_members(&ChatServer::room_group("lobby")).len() < 2 {
        tokio::task::yield_now().await;
    }
    alice.send(&chat("hi")).await.unwrap();
    for client in [&mut alice, &mut bob] {
        match client.recv_message().await.unwrap() {
            ServerMessage::ChatNotification(ChatNotification { payload }) => {
                assert_eq!(payload.text, "hi");
                assert_eq!(payload.sent_at, fixed_time());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // A payload that fails validation: Chanx's error frame, typed.
    alice
        .send_text(&json!({"action": "chat", "payload": {}}).to_string())
        .await
        .unwrap();
    match alice.recv().await.unwrap() {
        Some(ServerFrame::Error { payload, .. }) => assert_eq!(
            serde_json::to_value(&payload).unwrap(),
            json!([{"type": "missing", "loc": ["chat", "payload", "text"], "msg": "Field required"}])
        ),
        other => panic!("unexpected {other:?}"),
    }
    let _ = stop.send(());
    serving.await.unwrap().unwrap();
    assert_eq!(alice.recv().await.unwrap(), None);
    assert_eq!(alice.close_code(), Some(1001));
    assert_eq!(bob.recv().await.unwrap(), None);
    assert_eq!(bob.close_code(), Some(1001));
    assert!(
        memory
            .group_members(&ChatServer::room_group("lobby"))
            .is_empty()
    );
}

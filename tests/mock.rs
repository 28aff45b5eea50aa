//! `chanx-gen mock` answers frames as generated code does: the same rejections and validation
//! errors as the chat example's generated dispatcher (which the wire tests compare with Chanx), and
//! a declared reply to every valid action.

use std::path::Path;
use std::sync::Arc;

use chanx_example_chat::ChatServer;
use chanx_example_chat::api::chat::ChatDispatcher;
use chanx_gen::mock::{MockApi, MockChannel};
use chanx_runtime::endpoint::Endpoint;
use chanx_runtime::testing::exchange;
use serde_json::Value;

fn chat_mock() -> Arc<MockChannel> {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/chat.yaml");
    let analysis = chanx_gen::analyze(&spec).expect("specs/chat.yaml loads");
    let api = analysis.api.expect("specs/chat.yaml has no errors");
    let mock = MockApi::new(&api);
    let chat = mock
        .channels
        .iter()
        .find(|c| c.info().key == "chat")
        .expect("a `chat` channel");
    Arc::clone(chat)
}

async fn frames_of(endpoint: &dyn Endpoint, text: &str) -> Vec<String> {
    exchange(|cx| async move { endpoint.handle_text(&cx, text).await }).await
}

#[tokio::test]
async fn bad_frames_get_the_generated_code_s_error_frames() {
    let mock = chat_mock();
    let generated = ChatDispatcher::new(ChatServer::new());
    let frames = [
        r#"{"action": "#,
        "[1, 2]",
        r#""text""#,
        r#"{"payload": {}}"#,
        r#"{"action": "dance"}"#,
        r#"{"action": 3}"#,
        r#"{"action": "chat", "payload": {"text": ""}, "ref": "r-3"}"#,
        r#"{"action": "chat", "payload": {}}"#,
        r#"{"action": "chat", "payload": {"text": "hi", "mentions": null}}"#,
        r#"{"action": "attach", "payload": {"attachment": {"kind": "image", "url": "u", "width": 0, "height": 1}}}"#,
        r#"{"action": "attach", "payload": {"attachment": {"kind": "video"}}}"#,
        r#"{"action": "react", "payload": {"message_id": "not-a-uuid", "emoji": "+1"}}"#,
        r#"{"action": "ping", "ref": 5}"#,
    ];
    for text in frames {
        let from_mock = frames_of(&*mock, text).await;
        let from_generated = frames_of(&generated, text).await;
        assert!(!from_mock.is_empty(), "the mock answered nothing to {text}");
        assert_eq!(from_mock, from_generated, "frame {text}");
    }
}

#[tokio::test]
async fn valid_actions_get_a_declared_reply_with_the_ref() {
    let mock = chat_mock();
    let replies = frames_of(
        &*mock,
        r#"{"action": "react", "payload": {"message_id": "00000000-0000-0000-0000-000000000007", "emoji": "+1"}, "ref": "a"}"#,
    )
    .await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    let reply: Value = serde_json::from_str(&replies[0]).expect("JSON");
    assert_eq!(reply["action"], "reaction_added");
    assert_eq!(reply["ref"], "a");
    assert!(reply["payload"].is_object(), "{reply}");

    // A sample leaves out what is optional (Chanx's client fills in the defaults).
    let pong = frames_of(&*mock, r#"{"action": "ping"}"#).await;
    assert_eq!(pong, [r#"{"action": "pong"}"#]);
}

#[tokio::test]
async fn every_server_message_can_be_pushed() {
    let mock = chat_mock();
    let keys: Vec<&str> = mock.pushes().iter().map(|(key, _)| key.as_str()).collect();
    assert!(keys.contains(&"announcement"), "{keys:?}");
    for (key, frame) in mock.pushes() {
        assert!(frame.get("action").is_some(), "{key}: {frame}");
    }
}

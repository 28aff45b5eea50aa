//! `chanx-gen mock` answers frames as generated code does: the same rejections and validation
//! errors as the chat example's generated dispatcher (which the wire tests compare with Chanx), and
//! a declared reply to every valid action.

use std::path::Path;

use chanx_example_chat::ChatServer;
use chanx_example_chat::api::chat::ChatDispatcher;
use chanx_gen::mock::{MockApi, MockChannel};
use chanx_runtime::endpoint::Endpoint;
use chanx_runtime::testing::exchange;
use serde_json::Value;

fn chat_mock() -> MockChannel {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/chat.yaml");
    let analysis = chanx_gen::analyze(&spec).expect("specs/chat.yaml loads");
    let api = analysis.api.expect("specs/chat.yaml has no errors");
    MockApi::new(&api)
        .channels
        .into_iter()
        .find(|c| c.info().key == "chat")
        .expect("a `chat` channel")
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
        let from_mock = frames_of(&mock, text).await;
        let from_generated = frames_of(&generated, text).await;
        assert!(!from_mock.is_empty(), "the mock answered nothing to {text}");
        assert_eq!(from_mock, from_generated, "frame {text}");
    }
}

#[tokio::test]
async fn valid_actions_get_a_declared_reply_with_the_ref() {
    let mock = chat_mock();
    let replies = frames_of(
        &mock,
        r#"{"action": "react", "payload": {"message_id": "00000000-0000-0000-0000-000000000007", "emoji": "+1"}, "ref": "a"}"#,
    )
    .await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    let reply: Value = serde_json::from_str(&replies[0]).expect("JSON");
    assert_eq!(reply["action"], "reaction_added");
    assert_eq!(reply["ref"], "a");
    assert!(reply["payload"].is_object(), "{reply}");

    // A sample leaves out what is optional (Chanx's client fills in the defaults).
    let pong = frames_of(&mock, r#"{"action": "ping"}"#).await;
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

/// The `chanx-gen mock` process, killed when dropped.
struct MockProcess(std::process::Child);

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mock_process_serves_authenticates_and_pushes() {
    use std::io::{BufRead as _, Write as _};
    use std::process::{Command, Stdio};

    use chanx_runtime::client::Client;

    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/notifications.yaml");
    let mut child = MockProcess(
        Command::new(env!("CARGO_BIN_EXE_chanx-gen"))
            .args(["mock", "--port", "0"])
            .arg(&spec)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chanx-gen runs"),
    );
    let stderr = child.0.stderr.take().expect("stderr");
    let mut base = None;
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.expect("stderr is text");
        if let Some(rest) = line.strip_prefix("mock: channel `notifications` at ") {
            base = rest.split("/ws/").next().map(str::to_owned);
        }
        if line.contains("push notifications welcome") {
            break;
        }
    }
    let base = base.expect("the mock printed the notifications address");
    let url = format!("{base}/ws/notifications/7");

    // No credential: Chanx's close 4401.
    let mut anonymous = Client::<Value, Value>::connect(&url)
        .await
        .expect("connects");
    while anonymous.recv_text().await.expect("reads").is_some() {}
    assert_eq!(anonymous.close_code(), Some(4401));

    // Any non-empty credential where the spec says it travels.
    let mut client = Client::<Value, Value>::builder(&url)
        .query("token", "anything")
        .connect()
        .await
        .expect("connects");
    client
        .send_text(r#"{"action": "mark_read", "payload": {"ids": []}}"#)
        .await
        .expect("sends");
    let error = client.recv_text().await.expect("reads").expect("a frame");
    assert!(error.contains("too_short"), "{error}");

    let mut stdin = child.0.stdin.take().expect("stdin");
    writeln!(stdin, "push notifications unread_count").expect("writes");
    stdin.flush().expect("flushes");
    let pushed = client.recv_text().await.expect("reads").expect("a frame");
    let pushed: Value = serde_json::from_str(&pushed).expect("JSON");
    assert_eq!(pushed["action"], "unread_count", "{pushed}");
}

/// Reads the next text frame, or `None` when none comes within `wait`.
async fn next_text(
    client: &mut chanx_runtime::client::Client<Value, Value>,
    wait: std::time::Duration,
) -> Option<String> {
    tokio::time::timeout(wait, client.recv_text())
        .await
        .ok()?
        .ok()?
}

/// The parity script's one-frame steps (`tests/parity/single-steps.json`, recorded from the Chanx
/// app that exported `specs/parity.json`) replayed against `chanx-gen mock specs/parity.json`:
/// every step Chanx answers with a validation or rejection error gets the same frame, byte for
/// byte, from the mock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mock_answers_the_parity_script_with_chanx_s_error_frames() {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    use chanx_runtime::client::Client;

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/parity/single-steps.json")).expect("fixture"),
    )
    .expect("fixture is JSON");
    let mut child = MockProcess(
        Command::new(env!("CARGO_BIN_EXE_chanx-gen"))
            .args(["mock", "--port", "0"])
            .arg(root.join("specs/parity.json"))
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chanx-gen runs"),
    );
    let stderr = child.0.stderr.take().expect("stderr");
    let mut url = None;
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.expect("stderr is text");
        if let Some((_, rest)) = line.split_once(" at ws://") {
            url = Some(format!("ws://{}", rest.replace("{room}", "lobby")));
            break;
        }
    }
    let url = url.expect("the mock printed its address");
    let mut client = Client::<Value, Value>::builder(&url)
        .query("token", "alice-token")
        .connect()
        .await
        .expect("connects");
    let mut compared = 0;
    for step in fixture["steps"].as_array().expect("steps") {
        let name = step["name"].as_str().expect("name");
        let request = &step["request"];
        match (request["text"].as_str(), request["binary"].as_str()) {
            (Some(text), _) => client.send_text(text).await.expect("sends"),
            (None, Some(hex)) => {
                let bytes = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                    .collect();
                client.send_binary(bytes).await.expect("sends");
            }
            _ => panic!("step {name}: no request"),
        }
        let chanx: Vec<&str> = step["raw"]["a"]
            .as_array()
            .expect("raw frames")
            .iter()
            .map(|f| f.as_str().expect("text"))
            .collect();
        let is_error = |frame: &Value| frame["action"] == "error" && frame["payload"].is_array();
        let expects_error = chanx.len() == 1
            && serde_json::from_str::<Value>(chanx[0]).is_ok_and(|frame| is_error(&frame));
        if expects_error {
            let got = next_text(&mut client, Duration::from_secs(3)).await;
            assert_eq!(got.as_deref(), Some(chanx[0]), "step {name}");
            compared += 1;
        }
        // Whatever else the mock answers (its example replies) is not compared.
        while next_text(&mut client, Duration::from_millis(50))
            .await
            .is_some()
        {}
    }
    assert!(compared >= 40, "only {compared} error steps compared");
}

//! The chat server on a [`RedisLayer`], next to Python processes using channels_redis 4.3 and to
//! a second Rust server: everything through a throw-away `redis-server` and real sockets.
//!
//! * a Python `group_send` of Chanx's `handle_group_message` / `handle_channel_event` reaches
//!   a WebSocket client of the Rust server;
//! * a client's chat line, broadcast by the Rust server, reaches a Python channels_redis
//!   consumer of the room's group as Chanx would have sent it;
//! * two servers, each with its own `RedisLayer` (and connection pool), share one Redis: a
//!   broadcast from a client of one reaches a client of the other.
//!
//! Needs `redis-server` and `$CHANX_PYTHON` (for the Python parts); without them a test prints
//! why it is skipped, and fails when `CI` is set. The helpers are the runtime's
//! (`runtime/tests/redis_support`), the Python peer `runtime/tests/python/redis_peer.py`.

#[path = "../../../runtime/tests/redis_support/mod.rs"]
mod redis_support;

use std::sync::Arc;
use std::time::Duration;

use chanx_example_chat::api::chat::{ClientMessage, ServerMessage};
use chanx_example_chat::api::types::{ChatMessage, ChatPayload, Priority};
use chanx_example_chat::{ChatServer, server_with};
use chanx_runtime::client::Client;
use chanx_runtime::redis::RedisLayer;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use redis_support::{Peer, RedisServer, host_args, python, run_peer};

/// The bound on every wait: a frame, a Python line, a group membership, a shutdown.
const WAIT: Duration = Duration::from_secs(20);

/// The key prefix of these tests' layers (Rust and Python), instead of channels_redis' `asgi`.
const PREFIX: &str = "chanx-chat-test";

/// The room every test talks in, and its group (`chat.lobby`).
const ROOM: &str = "lobby";

type ChatClient = Client<ClientMessage, ServerMessage>;

fn fixed_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
}

fn group() -> String {
    ChatServer::room_group(ROOM)
}

/// A layer on `redis` with the tests' prefix: each call opens its own connection pool.
fn layer(redis: &RedisServer) -> RedisLayer {
    RedisLayer::builder()
        .url(redis.url())
        .prefix(PREFIX)
        .build()
        .expect("redis layer")
}

/// `--host URL --prefix PREFIX`: the Python peer's layer, equal to [`layer`]'s.
fn python_layer_args(redis: &RedisServer) -> Vec<String> {
    let mut args = host_args(&[redis.url()]);
    args.extend(["--prefix".to_owned(), PREFIX.to_owned()]);
    args
}

/// The chat example served on a real `127.0.0.1:0` socket until [`Served::stop`].
struct Served {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Served {
    /// Serves `server_with(layer, ChatServer::with_clock(fixed_time))`.
    async fn start(layer: &RedisLayer) -> Self {
        let server = server_with(Arc::new(layer.clone()), ChatServer::with_clock(fixed_time));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!(
            "ws://{}/ws/chat/{ROOM}",
            listener.local_addr().expect("local address")
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await
        });
        Self {
            url,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A typed client connected to the room.
    async fn connect(&self) -> ChatClient {
        tokio::time::timeout(WAIT, ChatClient::connect(&self.url))
            .await
            .expect("connected in time")
            .expect("connect")
    }

    /// Shuts the server down gracefully (its connections leave their groups).
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(WAIT, task)
                .await
                .expect("server stopped in time")
                .expect("server task")
                .expect("serve");
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// The next text frame, within [`WAIT`].
async fn next_text(client: &mut ChatClient) -> String {
    tokio::time::timeout(WAIT, client.recv_text())
        .await
        .expect("a frame arrived in time")
        .expect("receive")
        .expect("the connection is open")
}

/// Waits until `group` has `count` members (connections join it just after the handshake).
async fn members(layer: &RedisLayer, group: &str, count: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let members = layer.group_members(group).await.expect("group members");
        if members.len() == count {
            return members;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{group} has members {members:?}, expected {count}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Checks that nothing of the tests' prefix is left in Redis.
fn assert_no_keys_left(redis: &RedisServer) {
    let pattern = format!("{PREFIX}*");
    let reply = redis.command(&[b"KEYS", pattern.as_bytes()]).expect("KEYS");
    assert_eq!(
        String::from_utf8_lossy(&reply),
        "*0\r\n",
        "keys left in Redis"
    );
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

/// The `chat_notification` frame a [`ChatServer::with_clock`]`(fixed_time)` sends for the
/// `n`th line, as Chanx writes it (Python's `json.dumps`).
fn notification(n: u8, text: &str) -> String {
    format!(
        r#"{{"action": "chat_notification", "payload": {{"message_id": "00000000-0000-0000-0000-{n:012}", "room": "{ROOM}", "sender": "anonymous", "text": "{text}", "sent_at": "2026-01-02T03:04:05Z", "reply_to": null, "priority": "normal"}}}}"#
    )
}

/// Runs `redis_peer.py group-send GROUP MESSAGE`: a real channels_redis `group_send`.
async fn python_group_send(py: &std::path::PathBuf, redis: &RedisServer, message: &Value) {
    let args = [
        python_layer_args(redis),
        vec!["group-send".to_owned(), group(), message.to_string()],
    ]
    .concat();
    let lines = run_peer(py, "redis_peer.py", &args).await;
    assert_eq!(lines, vec![json!({"event": "sent"})]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_broadcasts_reach_a_client_of_the_rust_server() {
    let Some(py) = python() else { return };
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let layer = layer(&redis);
    let served = Served::start(&layer).await;
    let mut client = served.connect().await;
    let connection = members(&layer, &group(), 1).await.remove(0);

    // (a) Chanx's `broadcast_message` from a Python consumer: relayed verbatim.
    let relayed = notification(7, "from python");
    let from_python = json!({
        "type": "handle_group_message",
        "message": serde_json::from_str::<Value>(&relayed).unwrap(),
        "exclude_current": false,
        "from_channel": "specific.0123456789abcdef0123456789abcdef!python",
    });
    python_group_send(&py, &redis, &from_python).await;
    assert_eq!(next_text(&mut client).await, relayed);

    // `exclude_current` from the connection's own channel: not relayed to it, so the next
    // frame is the event below.
    let excluded = json!({
        "type": "handle_group_message",
        "message": serde_json::from_str::<Value>(&notification(8, "excluded")).unwrap(),
        "exclude_current": true,
        "from_channel": connection,
    });
    python_group_send(&py, &redis, &excluded).await;

    // (b) Chanx's `broadcast_event` of a server event: the generated handler forwards it.
    let announcement = r#"{"action": "announcement", "payload": {"text": "maintenance at noon", "priority": "high", "expires_at": "2026-01-02T12:00:00Z"}}"#;
    let event = json!({
        "type": "handle_channel_event",
        "event_data": serde_json::from_str::<Value>(announcement).unwrap(),
    });
    python_group_send(&py, &redis, &event).await;
    assert_eq!(next_text(&mut client).await, announcement);
    match serde_json::from_str::<ServerMessage>(announcement).expect("a chat server message") {
        ServerMessage::Announcement(a) => assert_eq!(a.payload.priority, Priority::High),
        other => panic!("unexpected {other:?}"),
    }

    client.close().await.expect("close");
    members(&layer, &group(), 0).await;
    served.stop().await;
    assert_eq!(layer.stats().decode_errors, 0);
    assert_no_keys_left(&redis);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rust_broadcast_reaches_a_python_consumer() {
    let Some(py) = python() else { return };
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let layer = layer(&redis);
    let served = Served::start(&layer).await;
    let mut client = served.connect().await;
    let connection = members(&layer, &group(), 1).await.remove(0);

    let args = [
        python_layer_args(&redis),
        vec![
            "listen".to_owned(),
            "--group".to_owned(),
            group(),
            "--count".to_owned(),
            "1".to_owned(),
        ],
    ]
    .concat();
    let mut listener = Peer::spawn(&py, "redis_peer.py", &args);
    let ready = listener.next(WAIT).await;
    assert_eq!(ready["event"], "ready", "{ready}");
    members(&layer, &group(), 2).await;

    client.send(&chat("hello python")).await.expect("send");
    // The sender gets its copy through the group, as in Chanx.
    let line = notification(1, "hello python");
    assert_eq!(next_text(&mut client).await, line);

    let received = listener.next(WAIT).await;
    assert_eq!(received["event"], "message", "{received}");
    // Chanx's `broadcast_message` envelope, keys in Chanx's order, the frame as Chanx dumps it.
    let expected = format!(
        r#"{{"type":"handle_group_message","message":{},"exclude_current":false,"from_channel":"{connection}"}}"#,
        serde_json::to_string(&serde_json::from_str::<Value>(&line).unwrap()).unwrap()
    );
    assert_eq!(
        serde_json::to_string(&received["message"]).unwrap(),
        expected
    );
    assert_eq!(listener.next(WAIT).await["event"], "done");
    listener.finish(WAIT).await;

    client.close().await.expect("close");
    members(&layer, &group(), 0).await;
    served.stop().await;
    assert_eq!(layer.stats().decode_errors, 0);
    assert_no_keys_left(&redis);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_one_redis() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    // Two layers: two connection pools, as two processes would have.
    let (first_layer, second_layer) = (layer(&redis), layer(&redis));
    let first = Served::start(&first_layer).await;
    let second = Served::start(&second_layer).await;
    let mut alice = first.connect().await;
    let mut bob = second.connect().await;
    members(&first_layer, &group(), 2).await;

    alice.send(&chat("hi from one")).await.expect("send");
    let line = notification(1, "hi from one");
    assert_eq!(next_text(&mut bob).await, line);
    assert_eq!(next_text(&mut alice).await, line);

    // And back: the second server numbers its own lines.
    bob.send(&chat("hi from two")).await.expect("send");
    let line = notification(1, "hi from two");
    assert_eq!(next_text(&mut alice).await, line);
    assert_eq!(next_text(&mut bob).await, line);

    alice.close().await.expect("close");
    bob.close().await.expect("close");
    members(&second_layer, &group(), 0).await;
    first.stop().await;
    second.stop().await;
    for layer in [&first_layer, &second_layer] {
        assert_eq!(layer.stats().decode_errors, 0);
    }
    assert_no_keys_left(&redis);
}

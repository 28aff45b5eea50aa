//! The same connection loop behind axum, on a real socket on 127.0.0.1, driven by the typed
//! client: frames, 1009, binary frames, authentication, groups, graceful shutdown with 1001, and
//! hostile connections that must not disturb anyone else.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chanx_runtime::client::{Client, ClientError};
use chanx_runtime::frame::ServerFrame;
use chanx_runtime::memory::InMemoryLayer;
use chanx_runtime::protocol::{ErrorItem, ErrorPayload};
use chanx_runtime::server::{Route, Server, ServerOptions};
use common::{TestEndpoint, authenticate};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

type TestClient = Client<Value, Value>;

struct Running {
    addr: SocketAddr,
    completion: bool,
    memory: InMemoryLayer,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.unwrap().unwrap();
    }
}

async fn start(options: ServerOptions) -> Running {
    let memory = InMemoryLayer::new();
    let completion = options.send_completion;
    let server = Server::new(Arc::new(memory.clone()))
        .options(options.send_authentication_message(true))
        .endpoint(
            Route::new(TestEndpoint::default())
                .authenticator(authenticate)
                .groups(|cx| {
                    vec![format!(
                        "room.{}",
                        cx.path_param("room").unwrap_or_default()
                    )]
                }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        server
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await
    });
    Running {
        addr,
        completion,
        memory,
        stop: Some(stop),
        task,
    }
}

async fn connect(running: &Running, room: &str) -> TestClient {
    let mut client = TestClient::builder(&running.url(&format!("/ws/test/{room}")))
        .query("token", "alice-token")
        .connect()
        .await
        .unwrap();
    match client.recv().await.unwrap() {
        Some(ServerFrame::Authentication { status_code, .. }) => assert_eq!(status_code, 200),
        other => panic!("expected the authentication frame, got {other:?}"),
    }
    // The loop answers only once the connection is in its groups.
    client
        .send_with_ref(&json!({"action": "ping"}), "ready")
        .await
        .unwrap();
    match client.recv().await.unwrap() {
        Some(ServerFrame::Message { reference, .. }) => {
            assert_eq!(reference.as_deref(), Some("ready"))
        }
        other => panic!("expected the pong, got {other:?}"),
    }
    if running.completion {
        assert_eq!(
            client.recv().await.unwrap(),
            Some(ServerFrame::Complete {
                reference: Some("ready".to_owned())
            })
        );
    }
    client
}

#[tokio::test]
async fn frames_over_a_real_socket() {
    let running = start(ServerOptions::default()).await;
    let mut client = connect(&running, "lobby").await;
    client
        .send_with_ref(&json!({"action": "ping"}), "r-1")
        .await
        .unwrap();
    assert_eq!(
        client.recv_text().await.unwrap().unwrap(),
        r#"{"action": "pong", "payload": null, "version": 1, "ref": "r-1"}"#
    );
    client.send(&json!({"action": "whoami"})).await.unwrap();
    assert_eq!(
        client.recv_message().await.unwrap(),
        json!({"action": "me", "payload": {"user": {"username": "alice"}, "room": "lobby"}})
    );
    client.send_binary(vec![1, 2, 3]).await.unwrap();
    assert_eq!(
        client.recv().await.unwrap(),
        Some(ServerFrame::Error {
            payload: ErrorPayload::Items(vec![ErrorItem::new(
                "json_invalid",
                vec![],
                "Invalid JSON: binary frames are not supported"
            )]),
            reference: None,
        })
    );
    client
        .send_text(r#"{"action": "panic", "ref": "p"}"#)
        .await
        .unwrap();
    assert_eq!(
        client.recv().await.unwrap(),
        Some(ServerFrame::Error {
            payload: ErrorPayload::Detail("Failed to process message for panic".to_owned()),
            reference: Some("p".to_owned()),
        })
    );
    client.send(&json!({"action": "ping"})).await.unwrap();
    assert_eq!(client.recv_message().await.unwrap()["action"], "pong");
    assert_eq!(running.memory.group_members("room.lobby").len(), 1);
    client.close().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(running.memory.group_members("room.lobby").is_empty());
    running.stop().await;
}

#[tokio::test]
async fn oversized_frames_close_with_1009() {
    let running = start(ServerOptions::default().max_frame_size(1024)).await;
    let mut client = connect(&running, "lobby").await;
    let fits = format!(
        r#"{{"action": "ping", "ref": "{}"}}"#,
        "x".repeat(1024 - 29)
    );
    client.send_text(&fits).await.unwrap();
    assert_eq!(client.recv_message().await.unwrap()["action"], "pong");
    let big = format!(r#"{{"action": "ping", "ref": "{}"}}"#, "x".repeat(4096));
    client.send_text(&big).await.unwrap();
    assert_eq!(client.recv().await.unwrap(), None);
    assert_eq!(client.close_code(), Some(1009));
    let mut client = connect(&running, "lobby").await;
    client.send_binary(vec![0; 2048]).await.unwrap();
    assert_eq!(client.recv().await.unwrap(), None);
    assert_eq!(client.close_code(), Some(1009));
    running.stop().await;
}

#[tokio::test]
async fn authentication_failures_close_with_4000_plus_status() {
    let running = start(ServerOptions::default()).await;
    let mut client = TestClient::builder(&running.url("/ws/test/lobby"))
        .header("Authorization", "Bearer wrong")
        .connect()
        .await
        .unwrap();
    assert_eq!(
        client.recv().await.unwrap(),
        Some(ServerFrame::Authentication {
            status_code: 403,
            status_text: "Forbidden".to_owned(),
            data: json!({"detail": "bad token"}),
        })
    );
    assert_eq!(client.recv().await.unwrap(), None);
    assert_eq!(client.close_code(), Some(4403));
    let mut client: TestClient = Client::connect(&running.url("/ws/test/lobby"))
        .await
        .unwrap();
    assert_eq!(
        client.recv_text().await.unwrap().unwrap(),
        r#"{"action": "authentication", "payload": {"status_code": 401, "status_text": "Unauthorized", "data": {"detail": "missing token"}}}"#
    );
    assert_eq!(client.recv_text().await.unwrap(), None);
    assert_eq!(client.close_code(), Some(4401));
    // A path no route serves is refused before the upgrade.
    let refused = TestClient::connect(&running.url("/ws/none"))
        .await
        .unwrap_err();
    assert!(matches!(refused, ClientError::Connect(_)), "{refused}");
    running.stop().await;
}

#[tokio::test]
async fn group_broadcasts_with_exclude_current() {
    let running = start(ServerOptions::default().send_completion(true)).await;
    let mut alice = connect(&running, "lobby").await;
    let mut bob = connect(&running, "lobby").await;
    alice
        .send(&json!({"action": "broadcast", "payload": {"text": "hi", "exclude": true}}))
        .await
        .unwrap();
    assert_eq!(
        alice.recv().await.unwrap(),
        Some(ServerFrame::Complete { reference: None })
    );
    assert_eq!(
        bob.recv_text().await.unwrap().unwrap(),
        r#"{"action": "said", "payload": {"text": "hi"}}"#
    );
    assert_eq!(bob.recv().await.unwrap(), Some(ServerFrame::GroupComplete));
    running.stop().await;
}

#[tokio::test]
async fn graceful_shutdown_closes_with_1001() {
    let running = start(ServerOptions::default()).await;
    let mut a = connect(&running, "one").await;
    let mut b = connect(&running, "two").await;
    assert_eq!(running.memory.group_members("room.one").len(), 1);
    let memory = running.memory.clone();
    running.stop().await;
    assert_eq!(a.recv().await.unwrap(), None);
    assert_eq!(a.close_code(), Some(1001));
    assert_eq!(b.recv().await.unwrap(), None);
    assert_eq!(b.close_code(), Some(1001));
    assert!(memory.group_members("room.one").is_empty());
    assert!(memory.group_members("room.two").is_empty());
}

#[tokio::test]
async fn camelcase_and_completion_over_a_real_socket() {
    let running = start(
        ServerOptions::default()
            .camelize(true)
            .send_completion(true),
    )
    .await;
    let mut client = connect(&running, "lobby").await;
    client
        .send_text(r#"{"action": "echo", "payload": {"userName": "a_b"}, "ref": "c"}"#)
        .await
        .unwrap();
    assert_eq!(
        client.recv_text().await.unwrap().unwrap(),
        r#"{"action": "echo", "payload": {"seen": {"userName": "a_b"}, "seenKeys": ["user_name"], "replyTo": 1}, "version": 1, "ref": "c"}"#
    );
    assert_eq!(
        client.recv().await.unwrap(),
        Some(ServerFrame::Complete {
            reference: Some("c".to_owned())
        })
    );
    running.stop().await;
}

#[tokio::test]
async fn the_handler_bound_holds_over_a_real_socket() {
    let memory = InMemoryLayer::new();
    let endpoint = TestEndpoint::default();
    let gauge = Arc::clone(&endpoint.gauge);
    let server = Server::new(Arc::new(memory))
        .options(ServerOptions::default().max_concurrent_handlers(3))
        .endpoint(endpoint);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws/test/lobby", listener.local_addr().unwrap());
    // Mounted as a plain router: the integration is an ordinary `axum::Router`.
    let router: axum::Router = server.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let mut client = TestClient::connect(&url).await.unwrap();
    for id in 0..9 {
        client
            .send(&json!({"action": "slow", "payload": {"id": id, "ms": 60}}))
            .await
            .unwrap();
    }
    let mut done = Vec::new();
    for _ in 0..9 {
        done.push(
            client.recv_message().await.unwrap()["payload"]
                .as_i64()
                .unwrap(),
        );
    }
    done.sort_unstable();
    assert_eq!(done, (0..9).collect::<Vec<i64>>());
    assert_eq!(gauge.peak.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_dropped_tcp_connection_leaves_its_groups() {
    let running = start(ServerOptions::default()).await;
    let client = connect(&running, "gone").await;
    assert_eq!(running.memory.group_members("room.gone").len(), 1);
    // No closing handshake: the socket just goes away.
    drop(client);
    for _ in 0..200 {
        if running.memory.group_members("room.gone").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(running.memory.group_members("room.gone").is_empty());
    running.stop().await;
}

/// Sends `request` on a new TCP connection; the response's head, and the connection.
async fn raw_handshake(running: &Running, request: &str) -> (String, tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        if socket.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    (String::from_utf8(head).unwrap(), socket)
}

/// A handshake request for `/ws/test/lobby` with `headers` (each ending in CRLF).
fn handshake_request(method: &str, headers: &str) -> String {
    format!(
        "{method} /ws/test/lobby?token=alice-token HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n"
    )
}

#[tokio::test]
async fn opening_handshakes_are_checked() {
    let running = start(ServerOptions::default()).await;
    let good = "Connection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\n\
                Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let refused = [
        ("POST", good.to_owned(), "405"),
        (
            "GET",
            good.replace("keep-alive, Upgrade", "keep-alive"),
            "400",
        ),
        ("GET", good.replace("WebSocket", "h2c"), "400"),
        ("GET", good.replace("Version: 13", "Version: 8"), "400"),
        ("GET", good.replace("Sec-WebSocket-Key", "X-Key"), "400"),
    ];
    for (method, headers, status) in refused {
        let (head, _) = raw_handshake(&running, &handshake_request(method, &headers)).await;
        assert!(head.starts_with(&format!("HTTP/1.1 {status}")), "{head}");
    }
    // The RFC 6455 example key; no subprotocol is chosen even when offered.
    let offered = format!("{good}Sec-WebSocket-Protocol: chat\r\n");
    let (head, mut socket) = raw_handshake(&running, &handshake_request("GET", &offered)).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let head = head.to_ascii_lowercase();
    assert!(head.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n"));
    assert!(!head.contains("sec-websocket-protocol"));
    // An unmasked frame: the server closes with 1002.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    socket.write_all(b"\x81\x02hi").await.unwrap();
    let mut frames = Vec::new();
    socket.read_to_end(&mut frames).await.unwrap();
    assert!(frames.ends_with(&[0x88, 2, 0x03, 0xEA]), "{frames:?}");
    running.stop().await;
}

/// A masked client frame: FIN, `opcode`, the key `[1, 2, 3, 4]`, `payload`.
fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [1u8, 2, 3, 4];
    let mut frame = vec![0x80 | opcode];
    match payload.len() {
        len @ 0..=125 => frame.push(0x80 | len as u8),
        len @ 126..=0xFFFF => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}

/// What each hostile connection of [`hostile_clients_disturb_no_one`] sends after a good opening
/// handshake (`None`: bytes instead of a handshake).
fn hostile_inputs() -> Vec<(&'static str, Option<Vec<u8>>)> {
    let text = |payload: &[u8]| masked_frame(0x1, payload);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut echoes_never_read = Vec::new();
    let big_echo = format!(
        r#"{{"action": "echo", "payload": "{}"}}"#,
        "x".repeat(60_000)
    );
    for _ in 0..100 {
        echoes_never_read.extend(text(big_echo.as_bytes()));
    }
    vec![
        ("garbage instead of a handshake", None),
        (
            "random bytes",
            Some((0..=255u8).cycle().take(4096).collect()),
        ),
        (
            "invalid UTF-8 in a text frame",
            Some(text(b"{\"action\": \"\xff\xfe\"}")),
        ),
        ("deeply nested JSON", Some(text(deep.as_bytes()))),
        (
            "a number out of range",
            Some(text(br#"{"action": "ping", "ref": 1e999999}"#)),
        ),
        ("JSON that is not an object", Some(text(b"[1, 2, 3]"))),
        ("a null action", Some(text(br#"{"action": null}"#))),
        (
            "an unknown action",
            Some(text(br#"{"action": "format_disk"}"#)),
        ),
        ("a panicking handler", Some(text(br#"{"action": "panic"}"#))),
        (
            "a length of 2^63",
            Some([0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0].to_vec()),
        ),
        (
            "half a frame, then silence",
            Some(text(b"{\"action\": \"ping\"}")[..9].to_vec()),
        ),
        ("a reserved opcode", Some(masked_frame(0x3, b"?"))),
        (
            "a fragmented ping",
            Some(vec![0x09, 0x81, 1, 2, 3, 4, b'x' ^ 1]),
        ),
        (
            "100 big echoes, replies never read",
            Some(echoes_never_read),
        ),
    ]
}

/// Hostile connections (bad handshakes, protocol violations, invalid UTF-8, JSON bombs, a
/// panicking handler, a client that never reads its replies) at the same time as a room's
/// broadcasts: every member still receives every broadcast in order, and the server keeps
/// accepting connections.
#[tokio::test]
async fn hostile_clients_disturb_no_one() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Fewer than the layer's default capacity (100 messages per channel), which Channels drops
    // beyond.
    const BROADCASTS: usize = 80;
    let running = start(ServerOptions::default()).await;
    let mut alice = connect(&running, "lobby").await;
    let mut bob = connect(&running, "lobby").await;
    let good = "Connection: Upgrade\r\nUpgrade: websocket\r\n\
                Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let mut hostile = tokio::task::JoinSet::new();
    for (what, input) in hostile_inputs() {
        let addr = running.addr;
        let request = handshake_request("GET", good);
        hostile.spawn(async move {
            let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
            let bytes = match input {
                Some(frames) => {
                    socket.write_all(request.as_bytes()).await.unwrap();
                    frames
                }
                None => b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n".to_vec(),
            };
            // The server may close before everything is written, or stop reading while its replies
            // wait for a reader: both are answers too.
            let _ = tokio::time::timeout(Duration::from_secs(3), socket.write_all(&bytes)).await;
            if what.ends_with("never read") || what.ends_with("silence") {
                // Hold the connection open, reading nothing, while the room talks.
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            what
        });
    }
    let said = |n: usize| format!(r#"{{"action": "said", "payload": {{"text": "line {n}"}}}}"#);
    for n in 0..BROADCASTS {
        alice
            .send(&json!({"action": "broadcast", "payload": {"text": format!("line {n}")}}))
            .await
            .unwrap();
    }
    for member in [&mut alice, &mut bob] {
        for n in 0..BROADCASTS {
            let frame = tokio::time::timeout(Duration::from_secs(10), member.recv_text())
                .await
                .unwrap_or_else(|_| panic!("broadcast {n} not received within 10 s"))
                .unwrap();
            assert_eq!(frame.as_deref(), Some(said(n).as_str()));
        }
    }
    while let Some(done) = hostile.join_next().await {
        done.expect("a hostile client's task");
    }
    assert!(!running.task.is_finished(), "the server stopped");
    let mut carol = connect(&running, "lobby").await;
    carol.send(&json!({"action": "ping"})).await.unwrap();
    assert_eq!(carol.recv_message().await.unwrap()["action"], "pong");
    // A raw connection still gets a proper upgrade.
    let (head, mut socket) = raw_handshake(&running, &handshake_request("GET", good)).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    socket.shutdown().await.unwrap();
    let mut rest = Vec::new();
    let _ = socket.read_to_end(&mut rest).await;
    running.stop().await;
}

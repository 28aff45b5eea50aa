//! A bounded load test on loopback: `CLIENTS` typed clients in one room each broadcast
//! `MESSAGES` chat lines; every client must receive every line (no frame lost; the layer's
//! channel capacity is raised to hold a whole round, see below). After each round every client
//! disconnects, and the server must be back to no connection and an empty group.
//!
//! Memory: the process RSS is read from /proc/self/status at the start, once all clients are
//! connected, at the end of the traffic (peak) and after the disconnect. glibc's allocator keeps
//! the heap pages it has handed out (`free` only returns the top of the heap, and the chat
//! history the example keeps sits there), so after a disconnect the RSS stays at the round's
//! high-water mark instead of returning to the start; what a leak would show is growth from one
//! round to the next. So the test runs a warm-up round and a measured round, and asserts that
//! the measured round's peak and final RSS stay within `RSS_TOLERANCE_KIB` of the warm-up
//! round's peak: the second round reuses the first round's memory, nothing accumulates.
//!
//! Figures are printed (`cargo test -p chanx-example-chat --test load -- --nocapture`).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chanx_example_chat::api::chat::{ClientMessage, ServerMessage};
use chanx_example_chat::api::types::{ChatMessage, ChatPayload, Priority};
use chanx_example_chat::{ChatServer, server};
use chanx_runtime::client::Client;
use chanx_runtime::memory::InMemoryLayer;
use chanx_runtime::server::Server;

const CLIENTS: usize = 200;
const MESSAGES: usize = 3;
/// How far above the warm-up round's peak the measured round may go: allocator noise and the
/// chat history the example keeps in memory (`CLIENTS * MESSAGES` lines per round, under 1 MiB).
const RSS_TOLERANCE_KIB: u64 = 16 * 1024;
const DEADLINE: Duration = Duration::from_secs(120);

type ChatClient = Client<ClientMessage, ServerMessage>;

/// The process's resident set size in KiB (`VmRSS` of /proc/self/status).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

struct Round {
    connected_rss_kib: u64,
    frames: usize,
    elapsed: Duration,
    peak_rss_kib: u64,
}

/// Connects `CLIENTS` clients to one room, has each send `MESSAGES` lines, checks that every
/// client got every line, then disconnects them all and waits until the server has let go.
async fn round(server: &Server, memory: &InMemoryLayer, url: &str, room: &str) -> Round {
    let started = Instant::now();
    let mut clients = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        clients.push(ChatClient::connect(url).await.expect("connect"));
    }
    let group = ChatServer::room_group(room);
    while memory.group_members(&group).len() < CLIENTS {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let connected_rss_kib = rss_kib();
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(id, mut client)| {
            tokio::spawn(async move {
                for n in 0..MESSAGES {
                    let line = ClientMessage::ChatMessage(ChatMessage {
                        payload: ChatPayload {
                            text: format!("{id}-{n}"),
                            reply_to: None,
                            mentions: Vec::new(),
                            priority: Priority::Normal,
                        },
                    });
                    client.send(&line).await.expect("send");
                }
                let mut seen = BTreeSet::new();
                while seen.len() < CLIENTS * MESSAGES {
                    match client.recv_message().await.expect("receive") {
                        ServerMessage::ChatNotification(note) => {
                            assert!(seen.insert(note.payload.text), "a line came twice");
                        }
                        other => panic!("unexpected {other:?}"),
                    }
                }
                (client, seen)
            })
        })
        .collect();
    let mut everything = BTreeSet::new();
    for id in 0..CLIENTS {
        for n in 0..MESSAGES {
            everything.insert(format!("{id}-{n}"));
        }
    }
    let mut clients = Vec::with_capacity(CLIENTS);
    let mut frames = 0;
    for task in tasks {
        let (client, seen) = tokio::time::timeout(DEADLINE, task)
            .await
            .expect("every line arrives in time")
            .expect("client task");
        assert_eq!(seen, everything, "a client missed lines");
        frames += seen.len();
        clients.push(client);
    }
    let peak_rss_kib = rss_kib();
    for client in clients {
        client.close().await.expect("close");
    }
    while server.live_connections() > 0 || !memory.group_members(&group).is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Round {
        connected_rss_kib,
        frames,
        elapsed: started.elapsed(),
        peak_rss_kib,
    }
}

#[tokio::test]
async fn two_hundred_clients_broadcasting_in_one_room() {
    let start_rss = rss_kib();
    // Channels' default capacity (100 messages per channel) drops what a burst of
    // CLIENTS * MESSAGES broadcasts puts in a channel before its connection drains it, silently
    // (group_send skips full channels), in Chanx as here: give each channel room for a round.
    let memory = InMemoryLayer::builder()
        .capacity(CLIENTS * MESSAGES)
        .build();
    let server = server(Arc::new(memory.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws/chat/load", listener.local_addr().unwrap());
    let serving = {
        let server = server.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await
        });
        (stop, task)
    };
    let warm_up = round(&server, &memory, &url, "load").await;
    let warm_rss = rss_kib();
    let measured = round(&server, &memory, &url, "load").await;
    let end_rss = rss_kib();
    eprintln!(
        "load: {CLIENTS} clients x {MESSAGES} lines; round 1: {} frames in {:?}, round 2: {} frames in {:?}",
        warm_up.frames, warm_up.elapsed, measured.frames, measured.elapsed
    );
    eprintln!(
        "load: RSS start {start_rss} KiB, connected {} / {} KiB, peak {} / {} KiB, after round 1 {warm_rss} KiB, after round 2 {end_rss} KiB",
        warm_up.connected_rss_kib,
        measured.connected_rss_kib,
        warm_up.peak_rss_kib,
        measured.peak_rss_kib
    );
    assert_eq!(measured.frames, CLIENTS * CLIENTS * MESSAGES);
    let ceiling = warm_up.peak_rss_kib + RSS_TOLERANCE_KIB;
    assert!(
        measured.peak_rss_kib <= ceiling && end_rss <= ceiling,
        "RSS grew across rounds: warm-up peak {} KiB, then peak {} KiB and {end_rss} KiB after",
        warm_up.peak_rss_kib,
        measured.peak_rss_kib
    );
    let (stop, task) = serving;
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    assert_eq!(server.live_connections(), 0);
}

//! A bounded load test on loopback: `CLIENTS` typed clients in one room each broadcast
//! `MESSAGES` chat lines; every client must receive every line (no frame lost; the layer's
//! channel capacity is raised to hold a whole round, see below). After each round every client
//! disconnects, and the server must be back to no connection and an empty group.
//!
//! Memory: the process RSS (clients and server together) is read from /proc/self/status at the
//! start, once all clients are connected, at the end of the traffic (peak) and after the
//! disconnect, for two rounds. The test asserts that after each disconnect the RSS is back
//! within `RSS_TOLERANCE_KIB` of the start, and that the second round peaks no higher than the
//! first (plus the same tolerance): nothing accumulates.
//!
//! glibc's allocator keeps freed heap pages (only the top of the heap is returned, and whatever
//! long-lived allocation sits above the freed ones pins them), so under it the RSS after a
//! disconnect says more about heap layout than about the server. This binary therefore uses
//! jemalloc as its global allocator, with every arena's decay times set to 0 so that freed
//! pages go back to the OS at once (what `malloc_trim` would do; the workspace forbids the
//! `unsafe` FFI call, jemalloc's control interface is safe): the RSS then follows the memory
//! the process really holds. See docs/decisions.md (18) and docs/server.md.
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

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Makes jemalloc return freed pages to the OS at once: decay times 0 for the arenas that
/// exist (writing 0 also purges what they hold) and for those created later. Arenas that do not
/// exist yet refuse the per-arena setting and take the default.
fn return_freed_pages_at_once() {
    use tikv_jemalloc_ctl::{Access, AsName};
    for knob in ["dirty_decay_ms", "muzzy_decay_ms"] {
        let default = format!("arenas.{knob}\0");
        default
            .as_bytes()
            .name()
            .write(0isize)
            .expect("arenas decay setting");
    }
    let arenas = tikv_jemalloc_ctl::arenas::narenas::read().expect("arenas.narenas");
    for arena in 0..arenas {
        for knob in ["dirty_decay_ms", "muzzy_decay_ms"] {
            let name = format!("arena.{arena}.{knob}\0");
            let _ = name.as_bytes().name().write(0isize);
        }
    }
}

const CLIENTS: usize = 200;
const MESSAGES: usize = 3;
/// How far above the start the RSS may be after a disconnect (and the second round's peak above
/// the first's): the chat history the example keeps (`CLIENTS * MESSAGES` lines per round,
/// under 1 MiB), allocator metadata and caches, the runtime's grown structures. About a fifth
/// of the connected-idle level (~43 MiB) and an eighth of the ~70 MiB peak, so a leak of the
/// connections' or the broadcasts' memory fails it.
const RSS_TOLERANCE_KIB: u64 = 8 * 1024;
/// How long the RSS may take to come down after the server let go of the last connection.
const SETTLE: Duration = Duration::from_secs(5);
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
    after_rss_kib: u64,
}

/// Connects `CLIENTS` clients to one room, has each send `MESSAGES` lines, checks that every
/// client got every line, then disconnects them all, waits until the server has let go and
/// reads the RSS once it is back under `settled_kib` (or after `SETTLE`).
async fn round(
    server: &Server,
    memory: &InMemoryLayer,
    url: &str,
    room: &str,
    settled_kib: u64,
) -> Round {
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
    let elapsed = started.elapsed();
    drop(everything);
    // Connection tasks end just after the server counts them out; give them a moment.
    let settling = Instant::now();
    let mut after_rss_kib = rss_kib();
    while after_rss_kib > settled_kib && settling.elapsed() < SETTLE {
        tokio::time::sleep(Duration::from_millis(50)).await;
        after_rss_kib = rss_kib();
    }
    Round {
        connected_rss_kib,
        frames,
        elapsed,
        peak_rss_kib,
        after_rss_kib,
    }
}

#[tokio::test]
async fn two_hundred_clients_broadcasting_in_one_room() {
    return_freed_pages_at_once();
    let start_rss = rss_kib();
    let settled = start_rss + RSS_TOLERANCE_KIB;
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
    let rounds = [
        round(&server, &memory, &url, "load", settled).await,
        round(&server, &memory, &url, "load", settled).await,
    ];
    eprintln!(
        "load: {CLIENTS} clients x {MESSAGES} lines a round, RSS tolerance {RSS_TOLERANCE_KIB} KiB; RSS start {start_rss} KiB"
    );
    for (n, round) in rounds.iter().enumerate() {
        eprintln!(
            "load: round {}: {} frames in {:.2?}; RSS connected {} KiB, peak {} KiB, after disconnect {} KiB",
            n + 1,
            round.frames,
            round.elapsed,
            round.connected_rss_kib,
            round.peak_rss_kib,
            round.after_rss_kib
        );
    }
    for (n, round) in rounds.iter().enumerate() {
        assert_eq!(round.frames, CLIENTS * CLIENTS * MESSAGES);
        assert!(
            round.after_rss_kib <= settled,
            "round {}: RSS {} KiB after the disconnect, more than {RSS_TOLERANCE_KIB} KiB above the start ({start_rss} KiB)",
            n + 1,
            round.after_rss_kib
        );
    }
    assert!(
        rounds[1].peak_rss_kib <= rounds[0].peak_rss_kib + RSS_TOLERANCE_KIB,
        "RSS grew across rounds: peak {} KiB, then {} KiB",
        rounds[0].peak_rss_kib,
        rounds[1].peak_rss_kib
    );
    let (stop, task) = serving;
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    assert_eq!(server.live_connections(), 0);
}

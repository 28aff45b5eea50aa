//! The Chanx app (`tests/parity/app.py` under uvicorn) and its Rust twin (`chanx-example-parity`,
//! release build), measured in the same run on 127.0.0.1 with the same Rust load generator:
//!
//! ```text
//! CHANX_PYTHON=... cargo bench -p chanx-example-parity --bench servers
//! ```
//!
//! 1. **Round trips**: `ROUND_TRIP_CLIENTS` authenticated connections each send `ping` and wait for
//!    `pong`, in a loop, for `ROUND_TRIP_TIME`; round trips per second over all of them. The
//!    connections are the lean client of [`lean`], which costs less CPU per round trip than a full
//!    client and so leaves more of the machine to the server.
//! 2. **Memory per idle connection**: the server's resident set (`VmRSS`) before and after opening
//!    `IDLE_CONNECTIONS` more authenticated connections (each got its `welcome`), divided by their
//!    number.
//! 3. **Broadcast fan-out**: one of those connections says `BROADCASTS` lines to the room; the time
//!    until every connection received every line (`said` through the channel layer's group), as
//!    deliveries per second.
//!
//! 4. **The machine's floor**: the round trips of 1. against [`floor`], a WebSocket server on the
//!    same tokio runtime that does nothing but answer each frame with a canned `pong` (no JSON, no
//!    dispatch, no channel layer): what the kernel's loopback TCP and the runtime leave to any
//!    server on this machine under this load.
//!
//! Without `$CHANX_PYTHON` only the Rust column is measured. Every phase has a time limit; servers
//! are killed when the run ends. The figures depend on the machine, and the load generator (this
//! process, on a multi-threaded tokio runtime: the lean client for round trips, chanx-runtime's
//! client on tokio-tungstenite for the rest) shares it with the server: on a 2-core machine the
//! Rust server's round trips per second are bounded by the two processes' CPU together, which is
//! why the CPU time of each (server: `/proc/<pid>/stat`; load generator: its own) is reported per
//! round trip as well.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chanx_runtime::client::Client;
use tokio::task::JoinSet;

use chanx_example_parity::api::parity::{ClientMessage, ServerMessage};
use common::{Running, python, start_chanx, start_listening, start_rust};

type ParityClient = Client<ClientMessage, ServerMessage>;

const ROUND_TRIP_CLIENTS: usize = 32;
const ROUND_TRIP_TIME: Duration = Duration::from_secs(4);
const IDLE_CONNECTIONS: usize = 1_000;
const BROADCASTS: usize = 10;
/// Limit of each phase.
const PHASE_LIMIT: Duration = Duration::from_secs(120);

/// What one server measured.
#[derive(Debug, Default, Clone, Copy)]
struct Figures {
    round_trips: RoundTrips,
    rss_base_kib: u64,
    rss_per_connection_kib: f64,
    fan_out_s: f64,
    deliveries_per_s: f64,
}

/// The resident set of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// What the round trips of one server measured.
#[derive(Debug, Default, Clone, Copy)]
struct RoundTrips {
    per_s: f64,
    /// Round trips per second of CPU time the server process used (user + system).
    per_server_cpu_s: f64,
    /// Round trips per second of CPU time the load generator (this process) used.
    per_client_cpu_s: f64,
    /// The part of the server's CPU time spent in the kernel (system time), from 0 to 1.
    server_kernel_share: f64,
}

/// CPU time process `pid` used so far, in seconds: user and system (`/proc/<pid>/stat`, at
/// Linux's usual 100 clock ticks per second).
fn cpu_seconds(pid: u32) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) / 100.0, ticks(12) / 100.0)
}

/// User plus system CPU time of process `pid` so far, in seconds.
fn total_cpu_seconds(pid: u32) -> f64 {
    let (user, system) = cpu_seconds(pid);
    user + system
}

/// An authenticated connection to room `room` that has received its `authentication` and
/// `welcome` frames.
async fn connect(url: &str, room: &str) -> ParityClient {
    let mut client = ParityClient::builder(&format!("{url}/ws/parity/{room}"))
        .query("token", "alice-token")
        .connect()
        .await
        .expect("connect");
    for _ in 0..2 {
        client.recv_text().await.expect("read").expect("greeting");
    }
    client
}

/// Opens `count` connections to `room`, at most 50 handshakes at a time.
async fn connect_many(url: &str, room: &str, count: usize) -> Vec<ParityClient> {
    let mut clients = Vec::with_capacity(count);
    let mut pending = JoinSet::new();
    for _ in 0..count {
        if pending.len() >= 50 {
            clients.push(pending.join_next().await.expect("a task").expect("connect"));
        }
        let (url, room) = (url.to_owned(), room.to_owned());
        pending.spawn(async move { connect(&url, &room).await });
    }
    while let Some(client) = pending.join_next().await {
        clients.push(client.expect("connect"));
    }
    clients
}

/// The round trips against the server at `url`, process `pid`.
async fn round_trips(url: &str, pid: u32) -> RoundTrips {
    let address = url.strip_prefix("ws://").expect("a ws:// URL").to_owned();
    let mut opening = JoinSet::new();
    for _ in 0..ROUND_TRIP_CLIENTS {
        let address = address.clone();
        opening.spawn(async move {
            lean::Connection::open(&address, "/ws/parity/bench-rtt?token=alice-token").await
        });
    }
    let mut connections = Vec::with_capacity(ROUND_TRIP_CLIENTS);
    while let Some(opened) = opening.join_next().await {
        connections.push(opened.expect("a task").expect("connect"));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let cpu_start = cpu_seconds(pid);
    let own_cpu_start = total_cpu_seconds(std::process::id());
    let mut tasks = JoinSet::new();
    for mut connection in connections {
        let stop = Arc::clone(&stop);
        tasks.spawn(async move {
            let mut count = 0u64;
            while !stop.load(Ordering::Relaxed) {
                connection.send_text(PING).await.expect("send");
                let pong = connection.recv_text().await.expect("read");
                assert!(
                    pong.windows(PONG.len()).any(|window| window == PONG),
                    "not a pong: {:?}",
                    String::from_utf8_lossy(pong)
                );
                count += 1;
            }
            connection.close().await;
            count
        });
    }
    tokio::time::sleep(ROUND_TRIP_TIME).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    while let Some(count) = tasks.join_next().await {
        total += count.expect("round-trip task");
    }
    let cpu_end = cpu_seconds(pid);
    let (user, system) = (cpu_end.0 - cpu_start.0, cpu_end.1 - cpu_start.1);
    let own_cpu = total_cpu_seconds(std::process::id()) - own_cpu_start;
    RoundTrips {
        per_s: total as f64 / start.elapsed().as_secs_f64(),
        per_server_cpu_s: total as f64 / (user + system).max(0.01),
        per_client_cpu_s: total as f64 / own_cpu.max(0.01),
        server_kernel_share: system / (user + system).max(0.01),
    }
}

/// The request of a round trip, and what its reply must contain.
const PING: &[u8] = br#"{"action": "ping"}"#;
const PONG: &[u8] = br#""pong""#;

/// The round trips' load generator: a WebSocket client cut down to what `ping`/`pong` needs (the
/// RFC 6455 opening handshake, masked text frames out, unmasked frames in, one buffer per
/// connection), so that less of the machine goes to the load generator and more to the server
/// (about 9% less CPU per round trip than chanx-runtime's client on tokio-tungstenite; most of
/// either is the kernel's TCP work). Anything it does not expect (a refused upgrade, a close, a
/// fragmented or masked frame from the server) is an error.
mod lean {
    use std::io::{Error, ErrorKind, Result};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// Largest frame sent: its length fits the header's 7 bits.
    const MAX_SENT: usize = 125;

    /// An open WebSocket connection.
    pub(crate) struct Connection {
        stream: TcpStream,
        /// Bytes read and not yet consumed are `buffer[start..end]`.
        buffer: Vec<u8>,
        start: usize,
        end: usize,
        /// Xorshift state for the masking keys.
        mask_state: u32,
    }

    fn invalid(message: &str) -> Error {
        Error::new(ErrorKind::InvalidData, message.to_owned())
    }

    impl Connection {
        /// Connects to `address` (`host:port`), upgrades `path` (with its query) to a WebSocket
        /// and reads the two greeting frames (`authentication`, `welcome`).
        pub(crate) async fn open(address: &str, path: &str) -> Result<Self> {
            let stream = TcpStream::connect(address).await?;
            stream.set_nodelay(true)?;
            let mut connection = Self {
                stream,
                buffer: vec![0; 4096],
                start: 0,
                end: 0,
                mask_state: 0x9e37_79b9,
            };
            let request = format!(
                "GET {path} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                 Sec-WebSocket-Version: 13\r\n\r\n"
            );
            connection.stream.write_all(request.as_bytes()).await?;
            let head_end = loop {
                let read = &connection.buffer[..connection.end];
                if let Some(at) = read.windows(4).position(|window| window == b"\r\n\r\n") {
                    break at + 4;
                }
                connection.fill().await?;
            };
            if !connection.buffer.starts_with(b"HTTP/1.1 101") {
                return Err(invalid("the server refused the WebSocket upgrade"));
            }
            connection.start = head_end;
            for _ in 0..2 {
                connection.recv_text().await?;
            }
            Ok(connection)
        }

        /// The next masking key.
        fn next_mask(&mut self) -> [u8; 4] {
            let mut x = self.mask_state;
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            self.mask_state = x;
            x.to_ne_bytes()
        }

        /// Sends `text` (at most 125 bytes) as one masked text frame.
        pub(crate) async fn send_text(&mut self, text: &[u8]) -> Result<()> {
            self.send_frame(0x1, text).await
        }

        /// Sends one masked frame; `payload` is at most 125 bytes.
        async fn send_frame(&mut self, opcode: u8, payload: &[u8]) -> Result<()> {
            assert!(
                payload.len() <= MAX_SENT,
                "frames this client sends are short"
            );
            let mask = self.next_mask();
            let mut frame = [0u8; 6 + MAX_SENT];
            frame[0] = 0x80 | opcode;
            frame[1] = 0x80 | payload.len() as u8;
            frame[2..6].copy_from_slice(&mask);
            for (i, byte) in payload.iter().enumerate() {
                frame[6 + i] = byte ^ mask[i % 4];
            }
            self.stream.write_all(&frame[..6 + payload.len()]).await
        }

        /// Reads more bytes into the buffer (moving what is left to its front first, and growing
        /// it when full).
        async fn fill(&mut self) -> Result<()> {
            if self.start > 0 {
                self.buffer.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buffer.len() {
                self.buffer.resize(self.buffer.len() * 2, 0);
            }
            let read = self.stream.read(&mut self.buffer[self.end..]).await?;
            if read == 0 {
                return Err(Error::new(ErrorKind::UnexpectedEof, "the server closed"));
            }
            self.end += read;
            Ok(())
        }

        /// The payload of the next text frame; a ping is answered on the way.
        pub(crate) async fn recv_text(&mut self) -> Result<&[u8]> {
            loop {
                let available = &self.buffer[self.start..self.end];
                let Some((opcode, header, length)) = parse_header(available)? else {
                    self.fill().await?;
                    continue;
                };
                if available.len() < header + length {
                    self.fill().await?;
                    continue;
                }
                let payload = self.start + header..self.start + header + length;
                self.start = payload.end;
                match opcode {
                    0x1 => return Ok(&self.buffer[payload]),
                    0x9 if length <= MAX_SENT => {
                        let ping = self.buffer[payload].to_vec();
                        self.send_frame(0xA, &ping).await?;
                    }
                    0xA => {}
                    0x8 => return Err(invalid("the server closed the WebSocket")),
                    _ => return Err(invalid("unexpected frame")),
                }
            }
        }

        /// Sends a normal close frame (code 1000); the server's answer is not awaited.
        pub(crate) async fn close(mut self) {
            let _ = self.send_frame(0x8, &1000u16.to_be_bytes()).await;
        }
    }

    /// Opcode, header length and payload length of the frame at the start of `bytes`; `None` until
    /// its header is complete.
    fn parse_header(bytes: &[u8]) -> Result<Option<(u8, usize, usize)>> {
        let [first, second, rest @ ..] = bytes else {
            return Ok(None);
        };
        if first & 0x80 == 0 {
            return Err(invalid("fragmented frame"));
        }
        if second & 0x80 != 0 {
            return Err(invalid("masked frame from the server"));
        }
        let (header, length) = match second & 0x7f {
            126 => match rest {
                [a, b, ..] => (4, usize::from(u16::from_be_bytes([*a, *b]))),
                _ => return Ok(None),
            },
            127 => match rest.get(..8) {
                Some(extended) => {
                    let length = u64::from_be_bytes(extended.try_into().expect("8 bytes"));
                    let length = usize::try_from(length).map_err(|_| invalid("frame too long"))?;
                    (10, length)
                }
                None => return Ok(None),
            },
            short => (2, usize::from(short)),
        };
        Ok(Some((first & 0x0f, header, length)))
    }
}

/// The floor of the round trips: a WebSocket server that answers every frame with the same
/// `pong` frame, run as this executable with `--echo-floor` (see [`main`]) so that, like the real
/// servers, it is a process of its own. It speaks only as much of RFC 6455 as the lean client
/// needs: any upgrade request is accepted (no `Sec-WebSocket-Accept`), the two greeting frames
/// are canned, client frames are not unmasked, and a close frame ends the connection.
mod floor {
    use std::io::{Result, Write};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// The upgrade's answer and the two greeting frames (`authentication`, `welcome`).
    const OPENING: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\n\r\n\x81\x02{}\x81\x02{}";
    /// The reply to every frame: the text Chanx sends for `ping`, unmasked.
    const PONG: &[u8] = b"\x81\x23{\"action\": \"pong\", \"payload\": null}";
    /// The opcode of a close frame.
    const OP_CLOSE: u8 = 0x8;

    /// Listens on 127.0.0.1 (a port the system picks), prints `listening on <address>` and
    /// serves until killed, on a multi-threaded runtime like the parity server's.
    pub(crate) fn serve() -> Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let mut stdout = std::io::stdout();
            writeln!(stdout, "listening on {}", listener.local_addr()?)?;
            stdout.flush()?;
            loop {
                let (stream, _) = listener.accept().await?;
                stream.set_nodelay(true)?;
                tokio::spawn(async move {
                    let _ = connection(stream).await;
                });
            }
        })
    }

    /// One connection: the upgrade, then a `pong` for every whole frame read.
    async fn connection(mut stream: TcpStream) -> Result<()> {
        let mut buffer = vec![0u8; 8 * 1024];
        let mut end = 0;
        let head_end = loop {
            let read = stream.read(&mut buffer[end..]).await?;
            if read == 0 {
                return Ok(());
            }
            end += read;
            if let Some(at) = buffer[..end].windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            if end == buffer.len() {
                return Ok(());
            }
        };
        stream.write_all(OPENING).await?;
        buffer.copy_within(head_end..end, 0);
        end -= head_end;
        let mut replies = Vec::new();
        loop {
            // Whole frames at the front of the buffer: short, masked (2 + 4 header bytes).
            let mut start = 0;
            while let [first, second, ..] = buffer[start..end] {
                let frame = 6 + usize::from(second & 0x7f);
                if second & 0x7f > 125 || end - start < frame {
                    break;
                }
                if first & 0x0f == OP_CLOSE {
                    return Ok(());
                }
                replies.extend_from_slice(PONG);
                start += frame;
            }
            if !replies.is_empty() {
                stream.write_all(&replies).await?;
                replies.clear();
            }
            buffer.copy_within(start..end, 0);
            end -= start;
            let read = stream.read(&mut buffer[end..]).await?;
            if read == 0 {
                return Ok(());
            }
            end += read;
        }
    }
}

/// Sends `BROADCASTS` `say` frames from the first client; returns the seconds until every client
/// received every `said`.
async fn fan_out(clients: Vec<ParityClient>) -> f64 {
    let mut clients = clients.into_iter();
    let mut sender = clients.next().expect("a sender");
    let mut tasks = JoinSet::new();
    let receive = |mut client: ParityClient| async move {
        let mut said = 0;
        while said < BROADCASTS {
            let frame = client.recv_text().await.expect("read").expect("said");
            if frame.contains(r#""said""#) {
                said += 1;
            }
        }
        client
    };
    for client in clients {
        tasks.spawn(receive(client));
    }
    let start = Instant::now();
    for n in 0..BROADCASTS {
        let frame = format!(r#"{{"action": "say", "payload": {{"text": "line {n}"}}}}"#);
        sender.send_text(&frame).await.expect("send");
    }
    let sender = receive(sender).await;
    let mut done = vec![sender];
    while let Some(client) = tasks.join_next().await {
        done.push(client.expect("receiver"));
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut closing = JoinSet::new();
    for client in done {
        closing.spawn(async move {
            let _ = client.close().await;
        });
    }
    while closing.join_next().await.is_some() {}
    elapsed
}

/// `future`, or a panic naming `phase` once it took longer than `PHASE_LIMIT`.
async fn bounded<T>(phase: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PHASE_LIMIT, future)
        .await
        .unwrap_or_else(|_| panic!("{phase} took longer than {PHASE_LIMIT:?}"))
}

async fn measure(server: &Running) -> Figures {
    let url = server.url.as_str();
    let pid = server.guard.child.id();
    // Warm up: a few connections and pings.
    bounded("warm-up", async {
        for mut client in connect_many(url, "warm-up", 10).await {
            client
                .send_text(r#"{"action": "ping"}"#)
                .await
                .expect("send");
            client.recv_text().await.expect("read");
            let _ = client.close().await;
        }
    })
    .await;

    let round_trips = bounded("round trips", round_trips(url, pid)).await;

    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_base_kib = rss_kib(pid);
    let clients = bounded(
        "opening connections",
        connect_many(url, "fan", IDLE_CONNECTIONS),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_loaded = rss_kib(pid);
    let rss_per_connection_kib =
        rss_loaded.saturating_sub(rss_base_kib) as f64 / IDLE_CONNECTIONS as f64;

    let fan_out_s = bounded("fan-out", fan_out(clients)).await;
    Figures {
        round_trips,
        rss_base_kib,
        rss_per_connection_kib,
        fan_out_s,
        deliveries_per_s: (IDLE_CONNECTIONS * BROADCASTS) as f64 / fan_out_s,
    }
}

/// The table's rows for the round trips of one server (`ours`, with `label` before each measure),
/// beside Chanx's.
fn print_round_trips(label: &str, ours: &RoundTrips, chanx: Option<&RoundTrips>) {
    let cell = |value: Option<f64>| value.map_or("-".to_owned(), |v| format!("{v:.0}"));
    println!(
        "| {label}round trips/s ({ROUND_TRIP_CLIENTS} clients, ping/pong) | {} | {:.0} | {} |",
        cell(chanx.map(|t| t.per_s)),
        ours.per_s,
        ratio(ours.per_s, chanx.map(|t| t.per_s)),
    );
    println!(
        "| {label}round trips per server CPU-second | {} | {:.0} | {} |",
        cell(chanx.map(|t| t.per_server_cpu_s)),
        ours.per_server_cpu_s,
        ratio(ours.per_server_cpu_s, chanx.map(|t| t.per_server_cpu_s)),
    );
    println!(
        "| {label}server CPU spent in the kernel | {} | {:.0}% | |",
        chanx.map_or("-".to_owned(), |t| format!(
            "{:.0}%",
            100.0 * t.server_kernel_share
        )),
        100.0 * ours.server_kernel_share,
    );
}

fn ratio(rust: f64, chanx: Option<f64>) -> String {
    match chanx {
        Some(chanx) if chanx > 0.0 && rust > 0.0 => format!("{:.1}x", rust / chanx),
        _ => "-".to_owned(),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too, with nothing to do.
    if std::env::args().any(|arg| arg == "--echo-floor") {
        floor::serve().expect("the floor server");
        return;
    }
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let chanx = python().and_then(|python| match start_chanx(&python) {
        Ok(server) => Some(server),
        Err(reason) => {
            eprintln!("Chanx column skipped: {reason}");
            None
        }
    });
    let chanx = chanx.map(|server| {
        eprintln!("measuring Chanx (uvicorn) at {}", server.url);
        let figures = runtime.block_on(measure(&server));
        drop(server);
        figures
    });
    let rust = start_rust().expect("start chanx-example-parity");
    eprintln!("measuring Rust at {}", rust.url);
    let ours = runtime.block_on(measure(&rust));
    drop(rust);
    let mut command = std::process::Command::new(std::env::current_exe().expect("this executable"));
    command.arg("--echo-floor");
    let floor_server =
        start_listening(command, "the floor server").expect("start the floor server");
    eprintln!("measuring the floor at {}", floor_server.url);
    let floor = runtime.block_on(bounded(
        "floor round trips",
        round_trips(&floor_server.url, floor_server.guard.child.id()),
    ));
    drop(floor_server);

    let column = |f: fn(&Figures) -> String| chanx.as_ref().map_or("-".to_owned(), f);
    println!("| measure | Chanx 2.13 (uvicorn) | chanx-runtime | Rust vs Chanx |");
    println!("| --- | ---: | ---: | ---: |");
    let chanx_trips = chanx.as_ref().map(|f| f.round_trips);
    print_round_trips("", &ours.round_trips, chanx_trips.as_ref());
    println!(
        "| round trips per load-generator CPU-second | {} | {:.0} | |",
        column(|f| format!("{:.0}", f.round_trips.per_client_cpu_s)),
        ours.round_trips.per_client_cpu_s,
    );
    print_round_trips("floor (canned-pong server): ", &floor, chanx_trips.as_ref());
    println!(
        "| fan-out: {BROADCASTS} broadcasts to {IDLE_CONNECTIONS} connections | {} | {:.3} s | {} |",
        column(|f| format!("{:.3} s", f.fan_out_s)),
        ours.fan_out_s,
        ratio(ours.deliveries_per_s, chanx.map(|f| f.deliveries_per_s)),
    );
    println!(
        "| fan-out deliveries/s | {} | {:.0} | {} |",
        column(|f| format!("{:.0}", f.deliveries_per_s)),
        ours.deliveries_per_s,
        ratio(ours.deliveries_per_s, chanx.map(|f| f.deliveries_per_s)),
    );
    println!(
        "| RSS per idle connection ({IDLE_CONNECTIONS}) | {} | {:.1} KiB | {} |",
        column(|f| format!("{:.1} KiB", f.rss_per_connection_kib)),
        ours.rss_per_connection_kib,
        ratio(
            chanx.map_or(0.0, |f| f.rss_per_connection_kib),
            Some(ours.rss_per_connection_kib)
        )
        .replace('x', "x less"),
    );
    println!(
        "| RSS before the idle connections | {} | {} KiB | |",
        column(|f| format!("{} KiB", f.rss_base_kib)),
        ours.rss_base_kib,
    );
}

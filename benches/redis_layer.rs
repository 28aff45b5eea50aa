//! RedisLayer against channels_redis 4.3.0, side by side, in one run:
//!
//! ```text
//! CHANX_PYTHON=target/py-venv/bin/python cargo bench -p chanx-runtime --bench redis_layer
//! ```
//!
//! Starts its own `redis-server` on a free port, runs the same three measurements in this
//! process (Rust) and in one Python process (`benches/python/redis_layer.py`), then prints a
//! table: `group_send`s per second (a flood from one process, 32 concurrent senders, one-member
//! group), receives per second (draining messages already waiting in Redis), and the p50 / p99
//! latency of a serial `group_send` → `receive` round trip on an idle layer.
//! Without `$CHANX_PYTHON` only the Rust column is printed.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chanx_runtime::layer::{ChannelLayer, LayerMessage};
use chanx_runtime::redis::RedisLayer;
use serde_json::{Value, json};

const SENDS: usize = 20_000;
const RECEIVES: usize = 20_000;
const LATENCY: usize = 2_000;
const CONCURRENCY: usize = 32;

#[derive(Debug, Clone, Copy)]
struct Figures {
    group_sends_per_s: f64,
    receives_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
}

struct Server(std::process::Child, std::path::PathBuf);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn start_redis() -> (Server, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let dir = std::env::temp_dir().join(format!("chanx-bench-redis-{port}"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server on PATH");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    (Server(child, dir), format!("redis://127.0.0.1:{port}"))
}

fn message() -> LayerMessage {
    match json!({"type": "bench.message", "text": "hello", "n": 1}) {
        Value::Object(map) => map,
        _ => LayerMessage::new(),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

async fn rust_figures(url: &str) -> Figures {
    let build = || {
        RedisLayer::builder()
            .url(url)
            .prefix("rsbench")
            .capacity(1_000_000)
            .build()
            .expect("layer")
    };
    let sender = build();
    let receiver = build();

    // group_send/s.
    let sink = receiver.new_channel("specific").await.unwrap();
    sender.group_add("flood", &sink).await.unwrap();
    let per_task = SENDS / CONCURRENCY;
    let start = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let sender = sender.clone();
            tokio::spawn(async move {
                for _ in 0..per_task {
                    sender.group_send("flood", message()).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let group_sends_per_s = (per_task * CONCURRENCY) as f64 / start.elapsed().as_secs_f64();
    sender.flush().await.unwrap();

    // receives/s.
    let sink = receiver.new_channel("specific").await.unwrap();
    sender.group_add("drain", &sink).await.unwrap();
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let sender = sender.clone();
            tokio::spawn(async move {
                for _ in 0..RECEIVES / CONCURRENCY {
                    sender.group_send("drain", message()).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let total = RECEIVES / CONCURRENCY * CONCURRENCY;
    let start = Instant::now();
    for _ in 0..total {
        receiver.receive(&sink).await.unwrap();
    }
    let receives_per_s = total as f64 / start.elapsed().as_secs_f64();
    sender.flush().await.unwrap();

    // Latency.
    let me = receiver.new_channel("specific").await.unwrap();
    receiver.group_add("ping", &me).await.unwrap();
    receiver.group_send("ping", message()).await.unwrap();
    receiver.receive(&me).await.unwrap();
    let mut samples = Vec::with_capacity(LATENCY);
    for _ in 0..LATENCY {
        let start = Instant::now();
        receiver.group_send("ping", message()).await.unwrap();
        receiver.receive(&me).await.unwrap();
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    sender.flush().await.unwrap();
    Figures {
        group_sends_per_s,
        receives_per_s,
        p50_ms: percentile(&samples, 0.5),
        p99_ms: percentile(&samples, 0.99),
    }
}

fn python_figures(url: &str) -> Option<Figures> {
    let python = std::env::var_os("CHANX_PYTHON")?;
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/python/redis_layer.py");
    let output = Command::new(python)
        .arg(script)
        .arg(url)
        .args(["--sends", "3000", "--receives", "3000", "--latency", "500"])
        .args(["--concurrency", &CONCURRENCY.to_string()])
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!(
            "python bench failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    let v: Value = serde_json::from_slice(&output.stdout).ok()?;
    Some(Figures {
        group_sends_per_s: v["group_sends_per_s"].as_f64()?,
        receives_per_s: v["receives_per_s"].as_f64()?,
        p50_ms: v["p50_ms"].as_f64()?,
        p99_ms: v["p99_ms"].as_f64()?,
    })
}

fn main() {
    let (_server, url) = start_redis();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    // The measuring task runs on the runtime's one worker thread, next to the layer's tasks (as
    // a server's handlers do, and as Python's single event loop does), not on the main thread.
    let rust = runtime
        .block_on(runtime.spawn({
            let url = url.clone();
            async move { rust_figures(&url).await }
        }))
        .expect("benchmark task");
    let python = python_figures(&url);
    println!("RedisLayer vs channels_redis 4.3.0, one process each, redis-server on loopback");
    println!("| measure | chanx-runtime RedisLayer | channels_redis | ratio |");
    println!("|---|---:|---:|---:|");
    let row = |name: &str, r: f64, p: Option<f64>, higher_better: bool, unit: &str| {
        let (py, ratio) = match p {
            Some(p) => {
                let ratio = if higher_better { r / p } else { p / r };
                (format!("{p:.3}{unit}"), format!("{ratio:.1}x"))
            }
            None => ("-".to_owned(), "-".to_owned()),
        };
        println!("| {name} | {r:.3}{unit} | {py} | {ratio} |");
    };
    row(
        "group_send/s",
        rust.group_sends_per_s,
        python.map(|p| p.group_sends_per_s),
        true,
        "",
    );
    row(
        "receives/s",
        rust.receives_per_s,
        python.map(|p| p.receives_per_s),
        true,
        "",
    );
    row(
        "latency p50",
        rust.p50_ms,
        python.map(|p| p.p50_ms),
        false,
        " ms",
    );
    row(
        "latency p99",
        rust.p99_ms,
        python.map(|p| p.p99_ms),
        false,
        " ms",
    );
}

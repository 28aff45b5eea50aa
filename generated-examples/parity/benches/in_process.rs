//! Frames handled per second in process, no sockets: the generated `ParityDispatcher` and Chanx
//! 2.13's own code path (`tests/parity/bench_in_process.py`, run as a child process in the same
//! run), on the same frames of the parity spec, each on one thread:
//!
//! ```text
//! CHANX_PYTHON=... cargo bench -p chanx-example-parity --bench in_process
//! ```
//!
//! The frames are the mix in `tests/parity/in-process-frames.json`: a valid `ping`, an `echo` with
//! a payload and a `ref`, a `register` with the full profile, and a `register` that fails
//! validation with five errors. Each is measured alone, then the mix (each frame once per round).
//!
//! * Rust: `ParityDispatcher::handle_text` on a connection [`Context`] (in-memory layer, room
//!   `bench`) whose outbound queue is drained after every frame, as the connection loop does
//!   before writing to the socket; every frame is read, decoded, validated, dispatched to the
//!   [`ParityServer`] handler and its reply encoded, on a current-thread tokio runtime.
//! * Python: one `ParityConsumer` of `tests/parity/app.py` gets each frame through `dispatch`, the
//!   call fast-channels' consumer loop makes per incoming frame (`json.loads`, `Envelope`, the
//!   discriminated adapter's `validate_python`, the handler, `model_dump` and `json.dumps` into the
//!   ASGI `send`); the script waits for the handler task before the next frame.
//!
//! Before timing, each frame is handled once on both sides and the reply frames must be equal byte
//! for byte. Then the two sides alternate, row by row (the script runs with `--serve` and measures
//! the row asked for), `IN_PROCESS_REPEATS` (default 5) times, each run about
//! `IN_PROCESS_SECONDS` (default 0.5) long, so that both see the same load of a shared machine.
//! Figures are medians; the ratio is the median of the ratios of paired runs. `$CHANX_PYTHON` must
//! name the interpreter with chanx 2.13 (`scripts/python-env.sh` prints one); without it the
//! benchmark fails.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use chanx_runtime::context::{Context, Outbound, channel};
use chanx_runtime::memory::InMemoryLayer;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedReceiver;

use chanx_example_parity::ParityServer;
use chanx_example_parity::api::parity::ParityDispatcher;
use common::{Guard, parity_dir};

/// Name of the whole-mix row (the Python script's name for it as well).
const MIX: &str = "mix";

/// One frame of the mix.
struct Frame {
    name: String,
    text: String,
}

/// The mix of `tests/parity/in-process-frames.json`.
fn frames() -> Vec<Frame> {
    let path = parity_dir().join("in-process-frames.json");
    let document: Value = serde_json::from_str(
        &std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display())),
    )
    .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    document["frames"]
        .as_array()
        .expect("a `frames` list")
        .iter()
        .map(|frame| Frame {
            name: frame["name"].as_str().expect("a frame name").to_owned(),
            text: frame["text"].as_str().expect("a frame text").to_owned(),
        })
        .collect()
}

/// An environment variable as a number, or `default`.
fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// The Rust side: one dispatcher and one connection context whose outbound queue it drains.
struct Connection {
    dispatcher: ParityDispatcher<ParityServer>,
    cx: Context,
    frames: UnboundedReceiver<Outbound>,
}

impl Connection {
    fn new() -> Self {
        let (outbound, frames) = channel();
        let cx = Context::new(
            "in-process.bench!1".to_owned(),
            Arc::new(InMemoryLayer::new()),
            outbound,
        )
        .with_path_params(BTreeMap::from([("room".to_owned(), "bench".to_owned())]));
        Self {
            dispatcher: ParityDispatcher::new(ParityServer::new()),
            cx,
            frames,
        }
    }

    /// Handles `text` and returns the text frames sent in answer.
    async fn replies(&mut self, text: &str) -> Vec<String> {
        self.dispatcher.handle_text(&self.cx, text).await;
        let mut texts = Vec::new();
        while let Ok(frame) = self.frames.try_recv() {
            if let Outbound::Text(text) = frame {
                texts.push(text);
            }
        }
        texts
    }

    /// Handles `text`, drains what it sent and returns how many bytes that was.
    async fn handle(&mut self, text: &str) -> usize {
        self.dispatcher.handle_text(&self.cx, text).await;
        let mut bytes = 0;
        while let Ok(frame) = self.frames.try_recv() {
            if let Outbound::Text(text) = frame {
                bytes += black_box(text).len();
            }
        }
        bytes
    }

    /// Frames per second over rounds of `texts` for about `seconds`.
    async fn rate(&mut self, texts: &[&str], seconds: f64) -> f64 {
        let mut rounds = 1usize;
        let elapsed = loop {
            let elapsed = self.rounds(texts, rounds).await;
            if elapsed > seconds / 10.0 {
                break elapsed;
            }
            rounds *= 2;
        };
        let rounds = ((rounds as f64 * seconds / elapsed) as usize).max(1);
        let elapsed = self.rounds(texts, rounds).await;
        (rounds * texts.len()) as f64 / elapsed
    }

    /// Seconds taken by `rounds` rounds of `texts`.
    async fn rounds(&mut self, texts: &[&str], rounds: usize) -> f64 {
        let start = Instant::now();
        for _ in 0..rounds {
            for text in texts {
                black_box(self.handle(black_box(text)).await);
            }
        }
        start.elapsed().as_secs_f64()
    }
}

/// The median of `values` (at least one).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

/// Prints `message` and ends the benchmark with exit code 2.
fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2);
}

/// The Python side: `bench_in_process.py --serve`, which measures the row asked for on every line
/// written to it. Killed when dropped.
struct Chanx {
    process: Guard,
    reports: BufReader<ChildStdout>,
    /// The first report: versions, row names, reply frames.
    hello: Value,
}

impl Chanx {
    /// Starts the script with `$CHANX_PYTHON`, or ends the benchmark with the reason.
    fn start() -> Self {
        let Some(python) = std::env::var_os("CHANX_PYTHON").filter(|value| !value.is_empty())
        else {
            fail(
                "CHANX_PYTHON is not set. The in-process benchmark measures Chanx in the same run \
                 and needs the interpreter with chanx 2.13 (scripts/python-env.sh prints its \
                 path):\n  CHANX_PYTHON=... cargo bench -p chanx-example-parity --bench in_process",
            )
        };
        let mut child = Command::new(&python)
            .arg(parity_dir().join("bench_in_process.py"))
            .arg("--serve")
            .current_dir(parity_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                fail(&format!(
                    "cannot start {} (CHANX_PYTHON): {e}",
                    python.to_string_lossy()
                ))
            });
        let reports = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut chanx = Self {
            process: Guard {
                child,
                name: "bench_in_process.py",
            },
            reports,
            hello: Value::Null,
        };
        chanx.hello = chanx.report();
        chanx
    }

    /// The next report line.
    fn report(&mut self) -> Value {
        let mut line = String::new();
        match self.reports.read_line(&mut line) {
            Ok(0) | Err(_) => fail(&format!(
                "{} ended without a report (its error output is above)",
                self.process.name
            )),
            Ok(_) => serde_json::from_str(&line)
                .unwrap_or_else(|e| fail(&format!("not a JSON report ({e}): {line}"))),
        }
    }

    /// Frames per second of row `row` over about `seconds`.
    fn rate(&mut self, row: usize, seconds: f64) -> f64 {
        let stdin = self.process.child.stdin.as_mut().expect("piped stdin");
        writeln!(stdin, "{row} {seconds}")
            .and_then(|()| stdin.flush())
            .unwrap_or_else(|e| fail(&format!("cannot write to {}: {e}", self.process.name)));
        self.report()["rate"]
            .as_f64()
            .unwrap_or_else(|| fail("a report without `rate`"))
    }
}

/// Thousands separators: `12345.6` → `12,346`.
fn grouped(value: f64) -> String {
    let digits = format!("{value:.0}");
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too, with nothing to do.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let seconds: f64 = setting("IN_PROCESS_SECONDS", 0.5);
    let repeats: usize = setting("IN_PROCESS_REPEATS", 5).max(1);
    let frames = frames();
    let mut cases: Vec<(&str, Vec<&str>)> = frames
        .iter()
        .map(|frame| (frame.name.as_str(), vec![frame.text.as_str()]))
        .collect();
    cases.push((
        MIX,
        frames.iter().map(|frame| frame.text.as_str()).collect(),
    ));

    let mut chanx = Chanx::start();
    let rows: Vec<&str> = chanx.hello["rows"]
        .as_array()
        .expect("`rows`")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let names: Vec<&str> = cases.iter().map(|(name, _)| *name).collect();
    assert_eq!(rows, names, "Python has other rows");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut connection = Connection::new();

    // The same replies, byte for byte, before anything is timed.
    let python_replies = chanx.hello["replies"].as_array().expect("`replies`");
    assert_eq!(
        python_replies.len(),
        frames.len(),
        "Python answered another number of frames"
    );
    for (frame, theirs) in frames.iter().zip(python_replies) {
        let ours = runtime.block_on(connection.replies(&frame.text));
        let theirs: Vec<String> =
            serde_json::from_value(theirs.clone()).expect("reply frames as strings");
        assert_eq!(
            ours, theirs,
            "{}: the Rust replies (left) differ from Chanx's (right)",
            frame.name
        );
    }
    eprintln!("replies identical for all {} frames", frames.len());

    // Python and Rust alternate, row by row, so that both see the same load.
    eprintln!("measuring ({repeats} × {seconds} s per row and side, alternating)");
    let mut figures = vec![(Vec::new(), Vec::new(), Vec::new()); cases.len()];
    for _ in 0..repeats {
        for (row, (_, texts)) in cases.iter().enumerate() {
            let theirs = chanx.rate(row, seconds);
            let ours = runtime.block_on(connection.rate(texts, seconds));
            let (chanx_rates, rust_rates, ratios) = &mut figures[row];
            chanx_rates.push(theirs);
            rust_rates.push(ours);
            ratios.push(ours / theirs);
        }
    }
    let versions = chanx.hello["versions"].clone();
    drop(chanx);

    println!(
        "In process, one thread, median of {repeats} × {seconds} s per row and side (Python {}, \
         chanx {}, pydantic {}):\n",
        versions["python"].as_str().unwrap_or("?"),
        versions["chanx"].as_str().unwrap_or("?"),
        versions["pydantic"].as_str().unwrap_or("?"),
    );
    println!(
        "| frames | Chanx 2.13 frames/s | µs/frame | chanx-runtime frames/s | µs/frame | ratio |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for ((name, _), (chanx_rates, rust_rates, ratios)) in cases.iter().zip(&mut figures) {
        let (theirs, ours) = (median(chanx_rates), median(rust_rates));
        println!(
            "| {name} | {} | {:.1} | {} | {:.2} | {:.0}× |",
            grouped(theirs),
            1e6 / theirs,
            grouped(ours),
            1e6 / ours,
            median(ratios),
        );
    }
}

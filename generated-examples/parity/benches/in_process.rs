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
//! for byte. Each figure is the median of `IN_PROCESS_REPEATS` (default 5) runs of about
//! `IN_PROCESS_SECONDS` (default 0.5) each. `$CHANX_PYTHON` must name the interpreter with chanx
//! 2.13 (`scripts/python-env.sh` prints one); without it the benchmark fails.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chanx_runtime::context::{Context, Outbound, channel};
use chanx_runtime::memory::InMemoryLayer;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedReceiver;

use chanx_example_parity::ParityServer;
use chanx_example_parity::api::parity::ParityDispatcher;
use common::{parity_dir, run};

/// Limit of the Python child process.
const PYTHON_LIMIT: Duration = Duration::from_secs(600);
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

/// Runs the Python script and returns its JSON report, or exits with the reason.
fn run_python(seconds: f64, repeats: usize) -> Value {
    let Some(python) = std::env::var_os("CHANX_PYTHON").filter(|value| !value.is_empty()) else {
        eprintln!(
            "error: CHANX_PYTHON is not set. The in-process benchmark measures Chanx in the same run \
             and needs the interpreter with chanx 2.13 (scripts/python-env.sh prints its path):\n  \
             CHANX_PYTHON=... cargo bench -p chanx-example-parity --bench in_process"
        );
        std::process::exit(2);
    };
    let mut command = Command::new(&python);
    command
        .arg(parity_dir().join("bench_in_process.py"))
        .args(["--seconds", &seconds.to_string()])
        .args(["--repeats", &repeats.to_string()])
        .current_dir(parity_dir());
    let finished = run(command, PYTHON_LIMIT).unwrap_or_else(|reason| {
        eprintln!("error: the Python side did not run: {reason}");
        std::process::exit(2);
    });
    if !finished.success {
        eprintln!(
            "error: tests/parity/bench_in_process.py failed with {}:\n{}",
            python.to_string_lossy(),
            finished.stderr
        );
        std::process::exit(2);
    }
    serde_json::from_str(finished.stdout.trim()).unwrap_or_else(|e| {
        eprintln!(
            "error: the Python side printed no JSON report ({e}):\n{}",
            finished.stdout
        );
        std::process::exit(2);
    })
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

    eprintln!("measuring Chanx in process ({repeats} × {seconds} s per row)");
    let python = run_python(seconds, repeats);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut connection = Connection::new();

    // The same replies, byte for byte, before anything is timed.
    let python_replies = python["replies"].as_array().expect("`replies`");
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

    eprintln!("measuring the Rust dispatcher in process");
    let rust: Vec<f64> = cases
        .iter()
        .map(|(_, texts)| {
            let mut rates: Vec<f64> = (0..repeats)
                .map(|_| runtime.block_on(connection.rate(texts, seconds)))
                .collect();
            median(&mut rates)
        })
        .collect();

    let versions = &python["versions"];
    println!(
        "In process, one thread, median of {repeats} × {seconds} s (Python {}, chanx {}, pydantic {}):\n",
        versions["python"].as_str().unwrap_or("?"),
        versions["chanx"].as_str().unwrap_or("?"),
        versions["pydantic"].as_str().unwrap_or("?"),
    );
    println!(
        "| frames | Chanx 2.13 frames/s | µs/frame | chanx-runtime frames/s | µs/frame | ratio |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let results = python["results"].as_array().expect("`results`");
    for (((name, _), ours), theirs) in cases.iter().zip(&rust).zip(results) {
        assert_eq!(
            theirs["name"].as_str(),
            Some(*name),
            "Python measured the rows in another order"
        );
        let mut rates: Vec<f64> = theirs["rates"]
            .as_array()
            .expect("`rates`")
            .iter()
            .filter_map(Value::as_f64)
            .collect();
        let chanx = median(&mut rates);
        println!(
            "| {name} | {} | {:.1} | {} | {:.2} | {:.0}× |",
            grouped(chanx),
            1e6 / chanx,
            grouped(*ours),
            1e6 / ours,
            ours / chanx,
        );
    }
}

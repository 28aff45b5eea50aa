//! Process plumbing shared by the parity tests and the benchmark (`benches/servers.rs` includes
//! this file): where the Python side lives, starting the Chanx app under uvicorn and this crate's
//! server on free ports of 127.0.0.1, running a script with a time limit, and guards that kill
//! every child process when dropped.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `tests/parity/`: the Chanx app and the Python scripts.
pub fn parity_dir() -> PathBuf {
    repo_root().join("tests/parity")
}

/// The test cannot run (no Python, a process that does not start): fails under CI, else prints
/// the reason and lets the test return.
pub fn unavailable(reason: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "parity test cannot run under CI: {reason}"
    );
    eprintln!("skipped: {reason}");
}

/// `$CHANX_PYTHON`, the interpreter with chanx 2.13 (`scripts/python-env.sh`).
pub fn python() -> Option<PathBuf> {
    match std::env::var_os("CHANX_PYTHON") {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => {
            unavailable("CHANX_PYTHON is not set (scripts/python-env.sh prints a value for it)");
            None
        }
    }
}

/// A child process, killed (and reaped) when dropped.
pub struct Guard {
    /// The process.
    pub child: Child,
    /// What it is, for messages.
    pub name: &'static str,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Held for its whole run by each test that starts servers, so that those tests run one at a time:
/// in parallel, on a loaded machine, their servers, probes and drivers got in each other's way
/// (a server picked a port another test's connection was using).
pub fn one_server_test_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static SERVER_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERVER_TESTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// What a process printed, and how it ended.
pub struct Finished {
    /// Whether it exited with 0.
    pub success: bool,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// Runs `command` to the end, killing it after `limit`.
pub fn run(mut command: Command, limit: Duration) -> Result<Finished, String> {
    let shown = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot start {shown}: {error}"))?;
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());
    let mut guard = Guard {
        child,
        name: "command",
    };
    let deadline = Instant::now() + limit;
    let status = loop {
        match guard.child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => return Err(format!("{shown} ran longer than {limit:?}; killed")),
            Err(error) => return Err(format!("cannot wait for {shown}: {error}")),
        }
    };
    drop(guard);
    let (stdout, stderr) = (collect(stdout), collect(stderr));
    Ok(Finished {
        success: status.success(),
        stdout,
        stderr,
    })
}

/// Reads a pipe to the end on a thread.
pub fn reader(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            let _ = sender.send(text);
        });
    }
    receiver
}

pub fn collect(receiver: mpsc::Receiver<String>) -> String {
    receiver
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_default()
}

/// A server under test: its process and its `ws://` base URL.
pub struct Running {
    /// The server process.
    pub guard: Guard,
    /// `ws://127.0.0.1:<port>`.
    pub url: String,
}

/// Starts the Chanx app under uvicorn and waits until it accepts connections (at most 30 s).
pub fn start_chanx(python: &Path) -> Result<Running, String> {
    let port = free_port();
    let child = Command::new(python)
        .args([
            "-m",
            "uvicorn",
            "app:app",
            "--host",
            "127.0.0.1",
            "--log-level",
            "error",
        ])
        .args(["--port", &port.to_string()])
        .current_dir(parity_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| format!("cannot start uvicorn with {}: {error}", python.display()))?;
    let mut guard = Guard {
        child,
        name: "uvicorn",
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = guard.child.try_wait() {
            return Err(format!("uvicorn exited before listening: {status}"));
        }
        if Instant::now() > deadline {
            return Err("uvicorn did not listen within 30 s".to_owned());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Running {
        guard,
        url: format!("ws://127.0.0.1:{port}"),
    })
}

/// Starts this crate's server on a port it picks and waits for its `listening on` line (10 s).
pub fn start_rust() -> Result<Running, String> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chanx-example-parity"));
    command.args(["--port", "0"]);
    start_listening(command, "chanx-example-parity")
}

/// Starts `command`, a server that prints `listening on <host:port>` as its first line once it
/// listens, and waits for that line (10 s). `name` names it in messages.
pub fn start_listening(mut command: Command, name: &'static str) -> Result<Running, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| format!("cannot start {name}: {error}"))?;
    let stdout = child.stdout.take();
    let guard = Guard { child, name };
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        if let Some(stdout) = stdout {
            let _ = BufReader::new(stdout).read_line(&mut line);
        }
        let _ = sender.send(line);
    });
    let line = receiver
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| format!("{} printed nothing within 10 s", guard.name))?;
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("unexpected first line from the server: {line:?}"))?;
    Ok(Running {
        url: format!("ws://{address}"),
        guard,
    })
}

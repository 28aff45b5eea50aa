//! Shared by the Redis integration tests: a throw-away `redis-server` on a free port, the Python
//! peers (found through `$CHANX_PYTHON`), and line-oriented JSON child processes.
//!
//! A missing `redis-server` or `$CHANX_PYTHON` skips a test with a message, except under CI (the
//! `CI` environment variable set), where it fails.

#![allow(dead_code, unreachable_pub)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// Reports a missing service: fails under CI, else prints why the test is skipped.
pub fn missing(what: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is required under CI");
    }
    eprintln!("skipped: {what} is not available");
}

/// The Python interpreter with channels_redis, or `None` (after [`missing`]).
pub fn python() -> Option<PathBuf> {
    match std::env::var_os("CHANX_PYTHON") {
        Some(path) if PathBuf::from(&path).exists() => Some(PathBuf::from(path)),
        _ => {
            missing("$CHANX_PYTHON (a Python with channels-redis 4.3.0)");
            None
        }
    }
}

/// A script in `runtime/tests/python/`.
///
/// Other crates' tests include this module too (`#[path]`, e.g. the chat example's), so the
/// directory is looked up from the tested crate's manifest directory upwards: its own
/// `tests/python/`, else the workspace's `runtime/tests/python/`.
pub fn script(name: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .flat_map(|dir| [dir.join("tests/python"), dir.join("runtime/tests/python")])
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("no Python script {name} above {}", manifest.display()))
}

fn redis_server_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("redis-server"))
        .chain([PathBuf::from("/usr/bin/redis-server")])
        .find(|candidate| candidate.is_file())
}

/// A `redis-server` child on 127.0.0.1, killed (and its directory removed) on drop.
pub struct RedisServer {
    child: Option<std::process::Child>,
    pub port: u16,
    dir: PathBuf,
    binary: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl RedisServer {
    /// Starts a server on a free port, or returns `None` (after [`missing`]).
    pub fn start() -> Option<Self> {
        let Some(binary) = redis_server_binary() else {
            missing("redis-server");
            return None;
        };
        // Tests run in parallel: from picking a free port until the server answers on it, no
        // other test may pick one, or two servers could be handed the same port.
        static PICKING_A_PORT: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _picking = PICKING_A_PORT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("chanx-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut server = Self {
            child: None,
            port,
            dir,
            binary,
        };
        server.restart();
        Some(server)
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (all data is lost: no persistence).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and waits until it answers.
    pub fn restart(&mut self) {
        self.stop();
        let child = std::process::Command::new(&self.binary)
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if matches!(self.command(&[b"PING"]), Ok(reply) if reply.starts_with(b"+PONG")) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {} did not start", self.port);
    }

    /// Sends one command with a plain blocking socket and returns the raw reply bytes.
    pub fn command(&self, args: &[&[u8]]) -> std::io::Result<Vec<u8>> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            out.extend_from_slice(arg);
            out.extend_from_slice(b"\r\n");
        }
        stream.write_all(&out)?;
        let mut buf = vec![0; 64 * 1024];
        let n = stream.read(&mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// `INFO clients` → `connected_clients`.
    pub fn connected_clients(&self) -> usize {
        let reply = self.command(&[b"INFO", b"clients"]).expect("INFO");
        let text = String::from_utf8_lossy(&reply);
        text.lines()
            .find_map(|l| l.strip_prefix("connected_clients:"))
            .and_then(|n| n.trim().parse().ok())
            .expect("connected_clients")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Python child printing one JSON object per line.
pub struct Peer {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Peer {
    /// Runs `runtime/tests/python/<script> args...`.
    pub fn spawn(python: &PathBuf, script_name: &str, args: &[String]) -> Self {
        let mut child = Command::new(python)
            .arg(script(script_name))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn python");
        let stdout = child.stdout.take().expect("stdout");
        Self {
            child,
            lines: BufReader::new(stdout).lines(),
        }
    }

    /// The next line as JSON, within `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Value {
        let line = tokio::time::timeout(timeout, self.lines.next_line())
            .await
            .expect("python peer answered in time")
            .expect("read python output")
            .expect("python peer produced a line");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad JSON line {line:?}: {e}"))
    }

    /// Writes a line to the child's stdin.
    pub async fn say(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(line.as_bytes()).await.expect("write");
        stdin.write_all(b"\n").await.expect("write");
        stdin.flush().await.expect("flush");
    }

    /// Waits for the child to exit successfully.
    pub async fn finish(mut self, timeout: Duration) {
        let status = tokio::time::timeout(timeout, self.child.wait())
            .await
            .expect("python peer exited in time")
            .expect("wait");
        assert!(status.success(), "python peer failed: {status}");
    }
}

/// Runs a Python peer to completion and returns its JSON lines.
pub async fn run_peer(python: &PathBuf, script_name: &str, args: &[String]) -> Vec<Value> {
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new(python)
            .arg(script(script_name))
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("python peer finished in time")
    .expect("run python");
    assert!(
        output.status.success(),
        "python peer failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// `--host URL` for each URL.
pub fn host_args(urls: &[String]) -> Vec<String> {
    urls.iter()
        .flat_map(|u| ["--host".to_owned(), u.clone()])
        .collect()
}

/// A JSON object literal as a layer message.
pub fn msg(value: Value) -> chanx_runtime::layer::LayerMessage {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

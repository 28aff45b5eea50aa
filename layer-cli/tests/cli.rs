//! `chanx-layer` against a throw-away redis-server.

#[path = "../../runtime/tests/redis_support/mod.rs"]
mod redis_support;

use std::process::Command;
use std::time::Duration;

use redis_support::RedisServer;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_chanx-layer");

fn run(url: &str, args: &[&str]) -> (bool, Vec<Value>, String) {
    let output = Command::new(BIN)
        .args(["--url", url, "--prefix", "cli"])
        .args(args)
        .output()
        .expect("run chanx-layer");
    let lines = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    (
        output.status.success(),
        lines,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_send_members_stats() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let url = server.url();
    let mut listener = tokio::process::Command::new(BIN)
        .args([
            "--url",
            &url,
            "--prefix",
            "cli",
            "listen",
            "room",
            "--count",
            "2",
            "--timeout",
            "10",
        ])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn listen");
    let mut lines = BufReader::new(listener.stdout.take().unwrap()).lines();
    let mut next = async || -> Value {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("in time")
            .expect("read")
            .expect("a line");
        serde_json::from_str(&line).expect("JSON")
    };
    let ready = next().await;
    assert_eq!(ready["event"], "ready");
    let channel = ready["channel"].as_str().unwrap().to_owned();

    let (ok, out, _) = run(&url, &["members", "room"]);
    assert!(ok);
    assert_eq!(
        out,
        vec![json!({"group": "room", "shard": 0, "members": [channel]})]
    );

    let (ok, _, _) = run(&url, &["group-send", "room", r#"{"type": "chat", "n": 1}"#]);
    assert!(ok);
    let (ok, _, _) = run(&url, &["send", &channel, r#"{"type": "direct"}"#]);
    assert!(ok);
    assert_eq!(next().await["message"], json!({"type": "chat", "n": 1}));
    assert_eq!(next().await["message"], json!({"type": "direct"}));
    assert_eq!(next().await["event"], "done");
    assert!(listener.wait().await.unwrap().success());

    let (ok, out, _) = run(&url, &["stats"]);
    assert!(ok);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["shard"], 0);
    assert_eq!(out[0]["groups"], 0, "the listener left its group: {out:?}");

    let (ok, out, err) = run(&url, &["send", "bad name", r#"{"type": "x"}"#]);
    assert!(!ok && out.is_empty());
    assert!(err.contains("invalid channel name"), "{err}");
    let (ok, _, err) = run(&url, &["send", "c", "[1]"]);
    assert!(!ok);
    assert!(err.contains("JSON object"), "{err}");
}

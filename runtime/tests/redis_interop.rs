//! Interop between `RedisLayer` and real channels_redis 4.3.0 / Django Channels 4.3 peers.

mod redis_support;

use std::time::Duration;

use chanx_runtime::layer::{ChannelLayer, Inbound, broadcast_event, classify};
use chanx_runtime::redis::{RedisLayer, Serializer, consistent_hash};
use serde_json::{Value, json};

use redis_support::{Peer, RedisServer, host_args, msg, python, run_peer};

const WAIT: Duration = Duration::from_secs(20);

async fn receive(layer: &RedisLayer, channel: &str) -> Value {
    let message = tokio::time::timeout(WAIT, layer.receive(channel))
        .await
        .expect("message arrived in time")
        .expect("receive");
    Value::Object(message)
}

async fn ready(peer: &mut Peer) -> String {
    let line = peer.next(WAIT).await;
    assert_eq!(line["event"], "ready", "{line}");
    line["channel"].as_str().expect("channel").to_owned()
}

async fn message(peer: &mut Peer) -> Value {
    let line = peer.next(WAIT).await;
    assert_eq!(line["event"], "message", "{line}");
    line["message"].clone()
}

fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_send_both_ways_in_a_mixed_group() {
    let Some(py) = python() else { return };
    let Some(server) = RedisServer::start() else {
        return;
    };
    let hosts = host_args(&[server.url()]);
    let layer = RedisLayer::from_urls(&[server.url()]).unwrap();
    let mine = layer.new_channel("specific").await.unwrap();
    layer.group_add("mixed", &mine).await.unwrap();

    let mut listener = Peer::spawn(
        &py,
        "redis_peer.py",
        &[
            hosts.clone(),
            args(&["listen", "--group", "mixed", "--count", "2"]),
        ]
        .concat(),
    );
    let theirs = ready(&mut listener).await;
    let members = layer.group_members("mixed").await.unwrap();
    assert_eq!(members, vec![mine.clone(), theirs.clone()]);

    // Rust -> both.
    let from_rust = json!({"type": "chat.message", "text": "from rust", "n": 1, "f": 2.5, "none": null, "list": [1, "x", {"k": true}]});
    layer
        .group_send("mixed", msg(from_rust.clone()))
        .await
        .unwrap();
    assert_eq!(receive(&layer, &mine).await, from_rust);
    assert_eq!(message(&mut listener).await, from_rust);

    // Python -> both.
    let from_python = json!({"type": "chat.message", "text": "from python", "big": 1_099_511_627_776_u64, "neg": -7});
    run_peer(
        &py,
        "redis_peer.py",
        &[
            hosts.clone(),
            args(&["group-send", "mixed"]),
            vec![from_python.to_string()],
        ]
        .concat(),
    )
    .await;
    assert_eq!(receive(&layer, &mine).await, from_python);
    assert_eq!(message(&mut listener).await, from_python);
    assert_eq!(listener.next(WAIT).await["event"], "done");
    listener.finish(WAIT).await;
    // The Python peer left the group; the Rust channel stays.
    assert_eq!(layer.group_members("mixed").await.unwrap(), vec![mine]);
    assert_eq!(layer.stats().decode_errors, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_send_both_ways() {
    let Some(py) = python() else { return };
    let Some(server) = RedisServer::start() else {
        return;
    };
    let hosts = host_args(&[server.url()]);
    let layer = RedisLayer::from_urls(&[server.url()]).unwrap();

    // Rust -> a Python channel.
    let mut listener = Peer::spawn(
        &py,
        "redis_peer.py",
        &[hosts.clone(), args(&["listen", "--count", "1"])].concat(),
    );
    let theirs = ready(&mut listener).await;
    let direct = json!({"type": "chat.direct", "payload": {"f": 1.5, "neg": -1, "big": 1_099_511_627_776_u64, "none": null, "b": true, "list": [1, "x"]}});
    layer.send(&theirs, msg(direct.clone())).await.unwrap();
    assert_eq!(message(&mut listener).await, direct);
    listener.finish(WAIT).await;

    // Python -> a Rust channel, with a `bytes` value (msgpack bin).
    let mine = layer.new_channel("specific").await.unwrap();
    let pending = {
        let layer = layer.clone();
        let mine = mine.clone();
        tokio::spawn(async move { receive(&layer, &mine).await })
    };
    run_peer(
        &py,
        "redis_peer.py",
        &[
            hosts.clone(),
            vec!["send".to_owned(), mine.clone()],
            args(&[
                r#"{"type": "chat.direct", "text": "hi"}"#,
                "--bin-field",
                "bin=0001ff",
            ]),
        ]
        .concat(),
    )
    .await;
    let got = pending.await.unwrap();
    assert_eq!(
        got,
        json!({"type": "chat.direct", "text": "hi", "bin": [0, 1, 255]})
    );

    // A normal (non-`!`) channel, both ways.
    let mut worker = Peer::spawn(
        &py,
        "redis_peer.py",
        &[
            hosts.clone(),
            args(&["recv", "worker.tasks", "--count", "1"]),
        ]
        .concat(),
    );
    ready(&mut worker).await;
    layer
        .send("worker.tasks", msg(json!({"type": "task", "id": 1})))
        .await
        .unwrap();
    assert_eq!(message(&mut worker).await, json!({"type": "task", "id": 1}));
    worker.finish(WAIT).await;
    run_peer(
        &py,
        "redis_peer.py",
        &[
            hosts,
            args(&["send", "rust.tasks", r#"{"type": "task", "id": 2}"#]),
        ]
        .concat(),
    )
    .await;
    assert_eq!(
        receive(&layer, "rust.tasks").await,
        json!({"type": "task", "id": 2})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn django_consumer_forwards_a_rust_broadcast_event() {
    let Some(py) = python() else { return };
    let Some(server) = RedisServer::start() else {
        return;
    };
    let layer = RedisLayer::from_urls(&[server.url()]).unwrap();
    let mut consumer = Peer::spawn(
        &py,
        "django_consumer.py",
        &[
            host_args(&[server.url()]),
            args(&["--group", "notifications"]),
        ]
        .concat(),
    );
    let channel = ready(&mut consumer).await;
    assert_eq!(
        layer.group_members("notifications").await.unwrap(),
        vec![channel]
    );
    let event =
        json!({"action": "notification", "payload": {"text": "deploy finished", "level": 2}});
    broadcast_event(&layer, &["notifications"], &event)
        .await
        .unwrap();
    let line = consumer.next(WAIT).await;
    assert_eq!(line, json!({"event": "frame", "frame": event}));
    consumer.finish(WAIT).await;
}

/// A Python `group_send` of Chanx's `handle_channel_event` reaches a Rust connection's channel.
/// (Through the axum server this becomes a frame for the Rust server's client; that wiring is
/// the server's, this checks the layer half.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_chanx_event_reaches_a_rust_channel() {
    let Some(py) = python() else { return };
    let Some(server) = RedisServer::start() else {
        return;
    };
    let layer = RedisLayer::from_urls(&[server.url()]).unwrap();
    let mine = layer.new_channel("specific").await.unwrap();
    layer.group_add("chanx_room", &mine).await.unwrap();
    let event =
        json!({"action": "chat_notification", "payload": {"room": "lobby", "text": "hello"}});
    let envelope = json!({"type": "handle_channel_event", "event_data": event});
    run_peer(
        &py,
        "redis_peer.py",
        &[
            host_args(&[server.url()]),
            args(&["group-send", "chanx_room"]),
            vec![envelope.to_string()],
        ]
        .concat(),
    )
    .await;
    let got = tokio::time::timeout(WAIT, layer.receive(&mine))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(classify(got), Inbound::ChannelEvent { event_data: event });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_bytes_and_shards_equal_pythons() {
    let Some(py) = python() else { return };
    let Some(server) = RedisServer::start() else {
        return;
    };
    let hosts = host_args(&[server.url()]);
    let layer = RedisLayer::builder()
        .url(server.url())
        .prefix("vec")
        .build()
        .unwrap();

    // msgpack bodies: what Rust stored, after the 12-byte prefix, equals msgpack.packb of the dict
    // (with __asgi_channel__ appended as channels_redis appends it).
    let messages = [
        json!({"type": "chat.message", "text": "hi", "n": 1}),
        json!({"type": "x", "ints": [0, 127, 128, 255, 256, 65535, 65536, 4_294_967_295_u64, 4_294_967_296_u64, -1, -32, -33, -128, -129, -32768, -32769, -2_147_483_648_i64, -2_147_483_649_i64], "f": [0.1, -2.5, 1e300], "s": ["", "é", "x".repeat(31), "y".repeat(32), "z".repeat(256), "w".repeat(65536)], "nested": {"a": [null, true, false, {}, []]}}),
        json!({"type": "wide", "k0": 0, "k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "k7": 7, "k8": 8, "k9": 9, "k10": 10, "k11": 11, "k12": 12, "k13": 13, "k14": 14, "list": (0..20).collect::<Vec<_>>()}),
    ];
    for m in &messages {
        layer.send("vectors.normal", msg(m.clone())).await.unwrap();
    }
    let specific = layer.new_channel("specific").await.unwrap();
    layer
        .send(&specific, msg(messages[0].clone()))
        .await
        .unwrap();
    layer.group_add("vectors", &specific).await.unwrap();
    layer.group_add("vectors", "vectors.normal2").await.unwrap();
    layer
        .group_send("vectors", msg(messages[0].clone()))
        .await
        .unwrap();

    // Two members sharing a key (another process), a message of more than 15 entries.
    let other = RedisLayer::builder()
        .url(server.url())
        .prefix("vec")
        .build()
        .unwrap();
    for _ in 0..2 {
        let channel = other.new_channel("specific").await.unwrap();
        layer.group_add("wide", &channel).await.unwrap();
    }
    let wide_members = layer.group_members("wide").await.unwrap();
    layer
        .group_send("wide", msg(messages[2].clone()))
        .await
        .unwrap();

    let mut expected: Vec<Value> = messages.to_vec();
    let mut direct = messages[0].clone();
    direct["__asgi_channel__"] = json!(specific);
    let mut grouped = messages[0].clone();
    grouped["__asgi_channel__"] = json!([specific]);
    let mut grouped_normal = messages[0].clone();
    grouped_normal["__asgi_channel__"] = json!(["vectors.normal2"]);
    let mut grouped_wide = messages[2].clone();
    grouped_wide["__asgi_channel__"] = json!(wide_members);
    expected.extend([direct, grouped, grouped_normal, grouped_wide]);
    let packed = run_peer(
        &py,
        "redis_peer.py",
        &["packb".to_owned(), Value::from(expected).to_string()],
    )
    .await;
    let packed: Vec<&str> = packed.iter().map(|l| l["hex"].as_str().unwrap()).collect();

    let raw = |key: String| {
        let py = py.clone();
        let hosts = hosts.clone();
        async move {
            run_peer(
                &py,
                "redis_peer.py",
                &[hosts, vec!["raw".to_owned(), key]].concat(),
            )
            .await
            .iter()
            .map(|l| l["body"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        raw("vecvectors.normal".to_owned()).await,
        packed[..3].to_vec()
    );
    let key = format!("vec{}", chanx_runtime::layer::non_local_name(&specific));
    let mut stored = raw(key).await;
    stored.sort();
    let mut want = vec![packed[3].to_owned(), packed[4].to_owned()];
    want.sort();
    assert_eq!(stored, want);
    assert_eq!(
        raw("vecvectors.normal2".to_owned()).await,
        vec![packed[5].to_owned()]
    );
    assert_eq!(
        raw(format!(
            "vec{}",
            chanx_runtime::layer::non_local_name(&wide_members[0])
        ))
        .await,
        vec![packed[6].to_owned()]
    );

    // Shard indexes for rings of 2, 3, 5 and 7 hosts.
    let mut names: Vec<String> = [
        "chat_room",
        "lobby",
        "room_1",
        "worker.tasks",
        "asgi__group__chat_room",
        "notify.user.7",
        "é-unicode",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for _ in 0..20 {
        let channel = layer.new_channel("specific").await.unwrap();
        names.push(chanx_runtime::layer::non_local_name(&channel).to_owned());
        names.push(channel);
    }
    let hashed = run_peer(
        &py,
        "redis_peer.py",
        &[
            args(&[
                "hash", "--ring", "2", "--ring", "3", "--ring", "5", "--ring", "7",
            ]),
            names.clone(),
        ]
        .concat(),
    )
    .await;
    assert_eq!(hashed.len(), names.len());
    for (line, name) in hashed.iter().zip(&names) {
        assert_eq!(line["name"], json!(name));
        for ring in [2usize, 3, 5, 7] {
            assert_eq!(
                line["rings"][ring.to_string()],
                json!(consistent_hash(name, ring)),
                "{name} ring {ring}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sharded_servers_both_ways() {
    let Some(py) = python() else { return };
    let Some(a) = RedisServer::start() else {
        return;
    };
    let Some(b) = RedisServer::start() else {
        return;
    };
    let urls = [a.url(), b.url()];
    let hosts = host_args(&urls);
    let layer = RedisLayer::from_urls(&urls).unwrap();

    // Groups on both shards ("chat_room" hashes to 1, "lobby" to 0 with two hosts).
    assert_eq!(layer.group_shard("chat_room"), 1);
    assert_eq!(layer.group_shard("lobby"), 0);
    let mine = layer.new_channel("specific").await.unwrap();
    for group in ["chat_room", "lobby"] {
        layer.group_add(group, &mine).await.unwrap();
    }
    let mut listener = Peer::spawn(
        &py,
        "redis_peer.py",
        &[
            hosts.clone(),
            args(&[
                "listen",
                "--group",
                "chat_room",
                "--group",
                "lobby",
                "--count",
                "5",
            ]),
        ]
        .concat(),
    );
    let theirs = ready(&mut listener).await;
    for group in ["chat_room", "lobby"] {
        let m = json!({"type": "g", "group": group, "from": "rust"});
        layer.group_send(group, msg(m.clone())).await.unwrap();
        assert_eq!(receive(&layer, &mine).await, m);
        assert_eq!(message(&mut listener).await, m);
        let m = json!({"type": "g", "group": group, "from": "python"});
        run_peer(
            &py,
            "redis_peer.py",
            &[
                hosts.clone(),
                args(&["group-send", group]),
                vec![m.to_string()],
            ]
            .concat(),
        )
        .await;
        assert_eq!(receive(&layer, &mine).await, m);
        assert_eq!(message(&mut listener).await, m);
    }
    // Rust -> Python direct: Rust writes to the shard of the non-local name, which Python polls.
    let m = json!({"type": "d", "from": "rust"});
    layer.send(&theirs, msg(m.clone())).await.unwrap();
    assert_eq!(message(&mut listener).await, m);
    listener.finish(WAIT).await;

    // Python -> Rust direct, to a channel whose full name hashes to the other shard: Python's
    // send() puts it there (django/channels#1492) and the Rust receive still finds it.
    let stray = loop {
        let channel = layer.new_channel("specific").await.unwrap();
        if consistent_hash(&channel, 2)
            != consistent_hash(chanx_runtime::layer::non_local_name(&channel), 2)
        {
            break channel;
        }
    };
    let m = json!({"type": "d", "from": "python", "stray": true});
    run_peer(
        &py,
        "redis_peer.py",
        &[
            hosts.clone(),
            vec!["send".to_owned(), stray.clone(), m.to_string()],
        ]
        .concat(),
    )
    .await;
    assert_eq!(receive(&layer, &stray).await, m);
    // ...and one whose hashes agree.
    let straight = loop {
        let channel = layer.new_channel("specific").await.unwrap();
        if consistent_hash(&channel, 2)
            == consistent_hash(chanx_runtime::layer::non_local_name(&channel), 2)
        {
            break channel;
        }
    };
    run_peer(
        &py,
        "redis_peer.py",
        &[
            hosts,
            vec!["send".to_owned(), straight.clone(), m.to_string()],
        ]
        .concat(),
    )
    .await;
    assert_eq!(receive(&layer, &straight).await, m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_and_json_both_ways() {
    let Some(py) = python() else { return };
    let Some(server) = RedisServer::start() else {
        return;
    };
    for (serializer, name) in [(Serializer::Msgpack, "msgpack"), (Serializer::Json, "json")] {
        let hosts = host_args(&[server.url()]);
        let layer_args = [
            hosts.clone(),
            args(&[
                "--serializer",
                name,
                "--key",
                "new-secret",
                "--key",
                "secret",
            ]),
        ]
        .concat();
        // Rust encrypts with "secret" only; Python decrypts with its second key (rotation).
        let layer = RedisLayer::builder()
            .url(server.url())
            .serializer(serializer)
            .symmetric_encryption_key("secret")
            .build()
            .unwrap();
        let group = format!("enc_{name}");
        let mine = layer.new_channel("specific").await.unwrap();
        layer.group_add(&group, &mine).await.unwrap();
        let mut listener = Peer::spawn(
            &py,
            "redis_peer.py",
            &[
                layer_args.clone(),
                vec![
                    "listen".to_owned(),
                    "--group".to_owned(),
                    group.clone(),
                    "--count".to_owned(),
                    "2".to_owned(),
                ],
            ]
            .concat(),
        );
        ready(&mut listener).await;
        let m = json!({"type": "secret.message", "text": "from rust", "serializer": name});
        layer.group_send(&group, msg(m.clone())).await.unwrap();
        assert_eq!(receive(&layer, &mine).await, m);
        assert_eq!(message(&mut listener).await, m);
        // Python encrypts with "new-secret" first... which this layer cannot read: it logs, drops
        // and keeps receiving.
        let m = json!({"type": "secret.message", "text": "from python"});
        run_peer(
            &py,
            "redis_peer.py",
            &[
                layer_args.clone(),
                vec!["group-send".to_owned(), group.clone(), m.to_string()],
            ]
            .concat(),
        )
        .await;
        assert_eq!(message(&mut listener).await, m);
        listener.finish(WAIT).await;
        let deadline = tokio::time::Instant::now() + WAIT;
        while layer.stats().decode_errors == 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "undecodable message not seen"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Python with "secret" first: readable.
        let python_args = [hosts, args(&["--serializer", name, "--key", "secret"])].concat();
        run_peer(
            &py,
            "redis_peer.py",
            &[
                python_args,
                vec!["group-send".to_owned(), group.clone(), m.to_string()],
            ]
            .concat(),
        )
        .await;
        assert_eq!(receive(&layer, &mine).await, m);
        assert_eq!(layer.stats().decode_errors, 1);
    }
}

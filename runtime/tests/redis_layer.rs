//! `RedisLayer` on its own: semantics, several processes, faults (Redis restart, garbage
//! messages, dead group members), and shutdown.

mod redis_support;

use std::time::Duration;

use chanx_runtime::layer::{ChannelLayer, LayerError, non_local_name};
use chanx_runtime::redis::RedisLayer;
use serde_json::{Value, json};

use redis_support::{RedisServer, msg};

const WAIT: Duration = Duration::from_secs(10);

async fn receive(layer: &RedisLayer, channel: &str) -> Value {
    Value::Object(
        tokio::time::timeout(WAIT, layer.receive(channel))
            .await
            .expect("message arrived in time")
            .expect("receive"),
    )
}

async fn nothing(layer: &RedisLayer, channel: &str) -> bool {
    tokio::time::timeout(Duration::from_millis(300), layer.receive(channel))
        .await
        .is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_share_groups_and_channels() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    // Two layers = two processes.
    let a = RedisLayer::from_urls(&[server.url()]).unwrap();
    let b = RedisLayer::from_urls(&[server.url()]).unwrap();
    assert_ne!(a.client_prefix(), b.client_prefix());
    let a1 = a.new_channel("specific").await.unwrap();
    let a2 = a.new_channel("specific").await.unwrap();
    let b1 = b.new_channel("specific").await.unwrap();
    assert_eq!(a1.len(), 74);
    for channel in [&a1, &a2] {
        a.group_add("room", channel).await.unwrap();
    }
    b.group_add("room", &b1).await.unwrap();
    b.group_send("room", msg(json!({"type": "hello", "n": 1})))
        .await
        .unwrap();
    for (layer, channel) in [(&a, &a1), (&a, &a2), (&b, &b1)] {
        assert_eq!(
            receive(layer, channel).await,
            json!({"type": "hello", "n": 1})
        );
    }
    // Direct sends across processes, in order.
    for i in 0..50 {
        a.send(&b1, msg(json!({"type": "seq", "i": i})))
            .await
            .unwrap();
    }
    for i in 0..50 {
        assert_eq!(receive(&b, &b1).await["i"], i);
    }
    a.group_discard("room", &a2).await.unwrap();
    assert_eq!(
        b.group_members("room").await.unwrap(),
        vec![a1.clone(), b1.clone()]
    );
    a.group_send("room", msg(json!({"type": "again"})))
        .await
        .unwrap();
    assert_eq!(receive(&a, &a1).await["type"], "again");
    assert_eq!(receive(&b, &b1).await["type"], "again");
    assert!(nothing(&a, &a2).await);
    // A normal channel is a work queue: each message goes to one receiver.
    for i in 0..10 {
        a.send("jobs", msg(json!({"type": "job", "i": i})))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    for _ in 0..10 {
        let m = tokio::select! {
            m = a.receive("jobs") => m.unwrap(),
            m = b.receive("jobs") => m.unwrap(),
        };
        seen.push(m["i"].as_i64().unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..10).collect::<Vec<_>>());
    a.flush().await.unwrap();
    assert!(a.group_members("room").await.unwrap().is_empty());
    let report = a.inspect(100).await.unwrap();
    assert!(report[0].keys.is_empty(), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_and_validation() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let layer = RedisLayer::builder()
        .url(server.url())
        .capacity(3)
        .channel_capacity("big.*", 5)
        .build()
        .unwrap();
    for i in 0..3 {
        layer
            .send("small", msg(json!({"type": "t", "i": i})))
            .await
            .unwrap();
    }
    assert_eq!(
        layer.send("small", msg(json!({"type": "t"}))).await,
        Err(LayerError::ChannelFull {
            channel: "small".to_owned()
        })
    );
    for _ in 0..5 {
        layer
            .send("big.one", msg(json!({"type": "t"})))
            .await
            .unwrap();
    }
    assert!(
        layer
            .send("big.one", msg(json!({"type": "t"})))
            .await
            .is_err()
    );
    // group_send skips the full member, counts and logs it.
    layer.group_add("g", "small").await.unwrap();
    layer.group_add("g", "other").await.unwrap();
    layer
        .group_send("g", msg(json!({"type": "g"})))
        .await
        .unwrap();
    assert_eq!(layer.stats().over_capacity, 1);
    assert_eq!(receive(&layer, "other").await, json!({"type": "g"}));
    assert!(matches!(
        layer.send("bad name", msg(json!({"type": "t"}))).await,
        Err(LayerError::InvalidChannelName(_))
    ));
    assert!(matches!(
        layer.group_add("bad group", "c").await,
        Err(LayerError::InvalidGroupName(_))
    ));
    assert!(matches!(
        layer.send("c", msg(json!({"no": "type"}))).await,
        Err(LayerError::InvalidMessage(_))
    ));
    assert!(matches!(
        layer.receive("a!b!c").await,
        Err(LayerError::InvalidChannelName(_))
    ));
    assert!(RedisLayer::from_urls(&["http://x"]).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_receives_lose_nothing_and_queues_are_bounded() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let layer = RedisLayer::builder()
        .url(server.url())
        .capacity(4)
        .build()
        .unwrap();
    let channel = layer.new_channel("specific").await.unwrap();
    assert!(nothing(&layer, &channel).await);
    layer
        .send(&channel, msg(json!({"type": "kept"})))
        .await
        .unwrap();
    assert_eq!(receive(&layer, &channel).await["type"], "kept");
    // Nobody reads `idle`: its local queue keeps the newest 4.
    let idle = layer.new_channel("specific").await.unwrap();
    let sender = RedisLayer::builder()
        .url(server.url())
        .capacity(100)
        .build()
        .unwrap();
    for i in 0..10 {
        sender
            .send(&idle, msg(json!({"type": "n", "i": i})))
            .await
            .unwrap();
    }
    sender
        .send(&channel, msg(json!({"type": "marker"})))
        .await
        .unwrap();
    assert_eq!(receive(&layer, &channel).await["type"], "marker");
    let got: Vec<Value> = {
        let mut got = Vec::new();
        for _ in 0..4 {
            got.push(receive(&layer, &idle).await["i"].clone());
        }
        got
    };
    assert_eq!(got, vec![json!(6), json!(7), json!(8), json!(9)]);
    assert_eq!(layer.stats().queue_drops, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_after_a_redis_restart() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let layer = RedisLayer::builder()
        .url(server.url())
        .command_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let channel = layer.new_channel("specific").await.unwrap();
    layer.group_add("live", &channel).await.unwrap();
    // Traffic before the restart.
    let sender = {
        let layer = layer.clone();
        tokio::spawn(async move {
            let mut ok = 0u32;
            let mut failed = 0u32;
            for i in 0..400 {
                match layer
                    .send(&format!("traffic.{}", i % 3), msg(json!({"type": "t"})))
                    .await
                {
                    Ok(()) => ok += 1,
                    Err(LayerError::Backend(_)) => failed += 1,
                    Err(other) => panic!("unexpected error {other}"),
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (ok, failed)
        })
    };
    layer
        .send(&channel, msg(json!({"type": "before"})))
        .await
        .unwrap();
    assert_eq!(receive(&layer, &channel).await["type"], "before");
    tokio::time::sleep(Duration::from_millis(200)).await;

    server.stop();
    assert!(matches!(
        layer.send(&channel, msg(json!({"type": "lost"}))).await,
        Err(LayerError::Backend(_))
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.restart();
    let restarted = tokio::time::Instant::now();
    // Data is gone with the restart: join again, then messages flow within the bound.
    let bound = Duration::from_secs(5);
    loop {
        let attempt = async {
            layer.group_add("live", &channel).await?;
            layer
                .group_send("live", msg(json!({"type": "after"})))
                .await?;
            Ok::<_, LayerError>(())
        };
        if attempt.await.is_ok() {
            if let Ok(Ok(m)) =
                tokio::time::timeout(Duration::from_millis(500), layer.receive(&channel)).await
            {
                assert_eq!(m["type"], "after");
                break;
            }
        }
        assert!(
            restarted.elapsed() < bound,
            "not recovered within {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("recovered {:?} after the restart", restarted.elapsed());
    for i in 0..20 {
        layer
            .send(&channel, msg(json!({"type": "later", "i": i})))
            .await
            .unwrap();
    }
    for i in 0..20 {
        assert_eq!(receive(&layer, &channel).await["i"], i);
    }
    let (ok, failed) = sender.await.unwrap();
    assert!(ok > 0 && failed > 0, "ok {ok}, failed {failed}");
    assert!(layer.stats().reconnects >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_messages_are_dropped_and_the_loop_goes_on() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let layer = RedisLayer::from_urls(&[server.url()]).unwrap();
    let channel = layer.new_channel("specific").await.unwrap();
    let key = format!("asgi{}", non_local_name(&channel));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    for garbage in [
        &b"short"[..],
        b"0123456789ab\xc1",
        b"0123456789ab\x81\x01\x02",
        b"0123456789ab\x93\x01",
    ] {
        server
            .command(&[b"ZADD", key.as_bytes(), now.as_bytes(), garbage])
            .unwrap();
    }
    layer
        .send(&channel, msg(json!({"type": "fine"})))
        .await
        .unwrap();
    assert_eq!(receive(&layer, &channel).await, json!({"type": "fine"}));
    assert_eq!(layer.stats().decode_errors, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_of_dead_processes_are_pruned() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let layer = RedisLayer::builder()
        .url(server.url())
        .expiry(Duration::from_secs(1))
        .build()
        .unwrap();
    let alive = layer.new_channel("specific").await.unwrap();
    let dead_process = RedisLayer::from_urls(&[server.url()]).unwrap();
    let dead = dead_process.new_channel("specific").await.unwrap();
    drop(dead_process);
    layer.group_add("room", &alive).await.unwrap();
    layer.group_add("room", &dead).await.unwrap();
    layer.group_add("room", "worker.tasks").await.unwrap();
    // A busy group: a message every 250 ms keeps the dead process' key alive (each write
    // refreshes its TTL) until its oldest message is older than `expiry` and is trimmed.
    for i in 0..10 {
        layer
            .group_send("room", msg(json!({"type": "tick", "i": i})))
            .await
            .unwrap();
        assert_eq!(receive(&layer, &alive).await["i"], i);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // The dead process' channel left the group; a normal channel never is removed.
    assert_eq!(
        layer.group_members("room").await.unwrap(),
        vec![alive, "worker.tasks".to_owned()]
    );
    assert_eq!(layer.stats().pruned_members, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_layer_stops_its_tasks_and_connections() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let before = server.connected_clients();
    let layer = RedisLayer::from_urls(&[server.url()]).unwrap();
    let channel = layer.new_channel("specific").await.unwrap();
    layer
        .send(&channel, msg(json!({"type": "x"})))
        .await
        .unwrap();
    assert_eq!(receive(&layer, &channel).await["type"], "x");
    assert!(server.connected_clients() >= before + 2);
    drop(layer);
    let deadline = std::time::Instant::now() + WAIT;
    while server.connected_clients() > before {
        assert!(
            std::time::Instant::now() < deadline,
            "connections left open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_send_writes_each_key_on_its_own_shard() {
    let Some(a) = RedisServer::start() else {
        return;
    };
    let Some(b) = RedisServer::start() else {
        return;
    };
    let servers = [&a, &b];
    let urls = [a.url(), b.url()];
    let layer = RedisLayer::from_urls(&urls).unwrap();
    // Processes until each shard holds the keys of at least two of them.
    let mut processes = Vec::new();
    let mut per_shard = [0, 0];
    while per_shard.iter().any(|&n| n < 2) {
        let process = RedisLayer::from_urls(&urls).unwrap();
        let channel = process.new_channel("specific").await.unwrap();
        per_shard[process.channel_shard(&channel).unwrap()] += 1;
        processes.push((process, channel));
    }
    // Groups on both shards ("chat_room" hashes to 1, "lobby" to 0), with a normal member
    // ("worker.tasks" hashes to 1) and two members sharing one key.
    let second = processes[0].0.new_channel("specific").await.unwrap();
    let groups = ["chat_room", "lobby"];
    for (sent, group) in groups.iter().enumerate() {
        for (_, channel) in &processes {
            layer.group_add(group, channel).await.unwrap();
        }
        layer.group_add(group, &second).await.unwrap();
        layer.group_add(group, "worker.tasks").await.unwrap();
        let m = json!({"type": "g", "group": group});
        layer.group_send(group, msg(m)).await.unwrap();
        // Every key is written on the shard channels_redis' hash names, and nowhere else
        // (nobody receives yet).
        let count = format!(":{}\r\n", sent + 1).into_bytes();
        for (process, channel) in &processes {
            let key = format!("asgi{}", non_local_name(channel));
            let shard = process.channel_shard(channel).unwrap();
            for (index, server) in servers.iter().enumerate() {
                let stored = server.command(&[b"ZCARD", key.as_bytes()]).unwrap();
                let want: &[u8] = if index == shard { &count } else { b":0\r\n" };
                assert_eq!(stored, want, "{key} on shard {index}");
            }
        }
        assert_eq!(b.command(&[b"ZCARD", b"asgiworker.tasks"]).unwrap(), count);
    }
    for group in groups {
        let m = json!({"type": "g", "group": group});
        for (process, channel) in &processes {
            assert_eq!(receive(process, channel).await, m);
        }
        assert_eq!(receive(&processes[0].0, &second).await, m);
        assert_eq!(layer.receive("worker.tasks").await.unwrap(), msg(m));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_send_handles_odd_member_names_and_flushed_scripts() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let layer = RedisLayer::from_urls(&[server.url()]).unwrap();
    let me = layer.new_channel("specific").await.unwrap();
    layer.group_add("room", &me).await.unwrap();
    // A member no valid channel name looks like, written by some other client: channels_redis
    // would still write to its key, and so does this layer.
    server
        .command(&[b"ZADD", b"asgi:group:room", b"1e12", "odd:näme".as_bytes()])
        .unwrap();
    let m = json!({"type": "odd"});
    layer.group_send("room", msg(m.clone())).await.unwrap();
    assert_eq!(receive(&layer, &me).await, m);
    assert_eq!(
        server
            .command(&[b"ZCARD", "asgiodd:näme".as_bytes()])
            .unwrap(),
        b":1\r\n"
    );
    // Scripts run by digest; a server that forgot them (SCRIPT FLUSH, restart) gets them again.
    server
        .command(&[b"ZREM", b"asgi:group:room", "odd:näme".as_bytes()])
        .unwrap();
    for i in 0..3 {
        assert_eq!(server.command(&[b"SCRIPT", b"FLUSH"]).unwrap(), b"+OK\r\n");
        let m = json!({"type": "again", "i": i});
        layer.group_send("room", msg(m.clone())).await.unwrap();
        assert_eq!(receive(&layer, &me).await, m);
        layer.send(&me, msg(m.clone())).await.unwrap();
        assert_eq!(receive(&layer, &me).await, m);
    }
}

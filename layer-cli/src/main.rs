//! `chanx-layer`: look at and talk to a channels_redis-compatible channel layer from a shell.
//!
//! ```text
//! chanx-layer --url redis://localhost:6379 listen chat_room
//! chanx-layer send specific.abc!def '{"type": "chat.message", "text": "hi"}'
//! chanx-layer group-send chat_room '{"type": "handle_channel_event", "event_data": {...}}'
//! chanx-layer members chat_room
//! chanx-layer stats
//! ```
//!
//! Every command prints JSON lines on stdout; errors are a JSON line on stderr and exit code 1.
//! The layer options are channels_redis' and must match the deployment's `CHANNEL_LAYERS`.

use std::process::ExitCode;
use std::time::Duration;

use chanx_runtime::layer::{ChannelLayer, LayerError, LayerMessage};
use chanx_runtime::redis::{KeyKind, RedisLayer, Serializer};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};

/// Talk to a channel layer shared with Django Channels (channels_redis 4.x wire format).
#[derive(Debug, Parser)]
#[command(name = "chanx-layer", version)]
struct Cli {
    /// A Redis host, `redis://[[user]:password@]host[:port][/db]`; repeat for several shards,
    /// in the same order as the deployment's `hosts`.
    #[arg(
        long = "url",
        value_name = "URL",
        default_value = "redis://localhost:6379"
    )]
    urls: Vec<String>,
    /// Key prefix (channels_redis `prefix`).
    #[arg(long, default_value = "asgi")]
    prefix: String,
    /// Messages a channel holds (channels_redis `capacity`).
    #[arg(long, default_value_t = 100)]
    capacity: usize,
    /// `PATTERN=N`: capacity of channels matching the glob (channels_redis `channel_capacity`).
    #[arg(long = "channel-capacity", value_name = "PATTERN=N", value_parser = parse_capacity)]
    channel_capacity: Vec<(String, usize)>,
    /// Message lifetime in seconds (channels_redis `expiry`).
    #[arg(long, default_value_t = 60)]
    expiry: u64,
    /// Group membership lifetime in seconds (channels_redis `group_expiry`).
    #[arg(long, default_value_t = 86_400)]
    group_expiry: u64,
    /// Message format (channels_redis `serializer_format`).
    #[arg(long, value_enum, default_value_t = Format::Msgpack)]
    serializer: Format,
    /// An encryption key (channels_redis `symmetric_encryption_keys`); repeat for rotation,
    /// the first one encrypts.
    #[arg(long = "symmetric-encryption-key", value_name = "KEY")]
    keys: Vec<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Msgpack,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Join GROUPs with a new channel and print every message it receives.
    Listen {
        /// Groups to join (none: only direct sends to the printed channel).
        groups: Vec<String>,
        /// Stop after this many messages.
        #[arg(long)]
        count: Option<u64>,
        /// Stop after this many seconds without a message.
        #[arg(long)]
        timeout: Option<f64>,
    },
    /// Send a JSON message (an object with a string "type") to a channel.
    Send {
        /// The channel.
        channel: String,
        /// The message, as JSON.
        message: String,
    },
    /// Send a JSON message to every member of a group.
    GroupSend {
        /// The group.
        group: String,
        /// The message, as JSON.
        message: String,
    },
    /// Print a group's current members.
    Members {
        /// The group.
        group: String,
    },
    /// Print what is stored under the prefix on each host.
    Stats {
        /// Report at most this many keys per host.
        #[arg(long, default_value_t = 10_000)]
        limit: usize,
    },
}

fn parse_capacity(text: &str) -> Result<(String, usize), String> {
    let (pattern, n) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("expected PATTERN=N, got {text:?}"))?;
    let n = n.parse().map_err(|_| format!("bad capacity in {text:?}"))?;
    Ok((pattern.to_owned(), n))
}

fn print(value: &Value) {
    println!("{value}");
}

fn parse_message(text: &str) -> Result<LayerMessage, LayerError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(LayerError::InvalidMessage(
            "the message must be a JSON object".to_owned(),
        )),
        Err(e) => Err(LayerError::InvalidMessage(format!("not JSON: {e}"))),
    }
}

fn build(cli: &Cli) -> Result<RedisLayer, LayerError> {
    let mut builder = RedisLayer::builder()
        .prefix(cli.prefix.clone())
        .capacity(cli.capacity)
        .expiry(Duration::from_secs(cli.expiry))
        .group_expiry(Duration::from_secs(cli.group_expiry))
        .serializer(match cli.serializer {
            Format::Msgpack => Serializer::Msgpack,
            Format::Json => Serializer::Json,
        });
    for url in &cli.urls {
        builder = builder.url(url.clone());
    }
    for (pattern, capacity) in &cli.channel_capacity {
        builder = builder.channel_capacity(pattern.clone(), *capacity);
    }
    for key in &cli.keys {
        builder = builder.symmetric_encryption_key(key.clone());
    }
    builder.build()
}

async fn run(cli: Cli) -> Result<(), LayerError> {
    let layer = build(&cli)?;
    match cli.command {
        Command::Listen {
            groups,
            count,
            timeout,
        } => {
            let channel = layer.new_channel("specific").await?;
            for group in &groups {
                layer.group_add(group, &channel).await?;
            }
            print(&json!({"event": "ready", "channel": channel, "groups": groups}));
            let mut received = 0u64;
            let outcome = loop {
                if count.is_some_and(|count| received >= count) {
                    break Ok("count");
                }
                let next = layer.receive(&channel);
                let message = match timeout {
                    Some(seconds) => {
                        match tokio::time::timeout(Duration::from_secs_f64(seconds.max(0.0)), next)
                            .await
                        {
                            Ok(message) => message,
                            Err(_) => break Ok("timeout"),
                        }
                    }
                    None => next.await,
                };
                match message {
                    Ok(message) => {
                        received += 1;
                        print(&json!({"event": "message", "channel": channel, "message": message}));
                    }
                    Err(e) => break Err(e),
                }
            };
            for group in &groups {
                layer.group_discard(group, &channel).await?;
            }
            let reason = outcome?;
            print(&json!({"event": "done", "received": received, "reason": reason}));
            Ok(())
        }
        Command::Send { channel, message } => {
            layer.send(&channel, parse_message(&message)?).await?;
            print(&json!({"event": "sent", "channel": channel}));
            Ok(())
        }
        Command::GroupSend { group, message } => {
            layer.group_send(&group, parse_message(&message)?).await?;
            print(&json!({"event": "sent", "group": group}));
            Ok(())
        }
        Command::Members { group } => {
            let members = layer.group_members(&group).await?;
            print(&json!({"group": group, "shard": layer.group_shard(&group), "members": members}));
            Ok(())
        }
        Command::Stats { limit } => {
            for (index, shard) in layer.inspect(limit).await?.into_iter().enumerate() {
                let count = |kind| shard.keys.iter().filter(|k| k.kind == kind).count();
                let keys: Vec<Value> = shard
                    .keys
                    .iter()
                    .map(|k| {
                        json!({
                            "key": k.key,
                            "kind": match k.kind {
                                KeyKind::Group => "group",
                                KeyKind::Channel => "channel",
                                KeyKind::Inflight => "inflight",
                            },
                            "entries": k.entries,
                            "ttl": k.ttl,
                        })
                    })
                    .collect();
                print(&json!({
                    "shard": index,
                    "address": shard.address,
                    "groups": count(KeyKind::Group),
                    "channels": count(KeyKind::Channel),
                    "inflight": count(KeyKind::Inflight),
                    "keys": keys,
                }));
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!(
                "{}",
                json!({"error": format!("cannot start the runtime: {e}")})
            );
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", json!({"error": e.to_string()}));
            ExitCode::FAILURE
        }
    }
}

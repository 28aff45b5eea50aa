//! [`RedisLayer`]: a channel layer on Redis that is wire-compatible with `channels_redis` 4.x's
//! `RedisChannelLayer`, so Rust and Python (Django Channels, Chanx) processes share groups and
//! channels.
//!
//! What is on the wire (see `docs/redis-layer.md` for the full story):
//!
//! * a channel's messages live in the sorted set `{prefix}{non-local name}` (no separator), scored
//!   by send time in float seconds, with a TTL of `expiry`; a group is the sorted set
//!   `{prefix}:group:{name}` of member channel names scored by join time, TTL `group_expiry`;
//! * a stored message is `random_prefix_length` (12) random bytes then the msgpack (or JSON)
//!   dict, optionally a Fernet token of it; `__asgi_channel__` is appended last: the channel name
//!   for a direct send to a `!` channel, the list of members sharing the key for a group send;
//! * with several hosts, a key lives on host `crc32(name) & 0xFFF` scaled to the ring, hosts
//!   numbered in configuration order.
//!
//! Every process-specific channel of one layer shares one key (`specific.<client prefix>!`), so
//! one receive loop per process (per host) pops from it with `BZPOPMIN`, backs each message up in
//! `<key>$inflight` until it is handed over, and demultiplexes into bounded per-channel queues.
//!
//! Delivery is **at most once**: a message popped from Redis whose reply is lost with the
//! connection, a message that expires, or one dropped by a full queue is not delivered.

mod codec;
#[cfg(feature = "redis-encryption")]
mod crypto;
mod msgpack;
mod resp;
mod script;
mod shard;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use codec::Serializer;
pub use shard::consistent_hash;

use crate::layer::{
    BoxFuture, ChannelLayer, LayerError, LayerMessage, glob_match, non_local_name,
    valid_channel_name, valid_group_name, valid_message,
};
use crate::pyfmt::float_repr;
use codec::{Codec, GroupTemplate, Route};
use resp::{Address, Cmd, Connection, Reply, RespError};
use script::{Script, is_noscript};

/// channels_redis' default host when none is configured.
pub const DEFAULT_URL: &str = "redis://localhost:6379";
/// channels_redis' default key prefix.
pub const DEFAULT_PREFIX: &str = "asgi";
const DEFAULT_CAPACITY: usize = 100;
const DEFAULT_EXPIRY: Duration = Duration::from_secs(60);
const DEFAULT_GROUP_EXPIRY: Duration = Duration::from_secs(86_400);
const DEFAULT_RANDOM_PREFIX_LENGTH: usize = 12;
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// channels_redis' `brpop_timeout`: how long one `BZPOPMIN` blocks.
const BLOCK_SECONDS: u64 = 5;
/// How long a normal-channel poll blocks (short, so it stops soon after its last receiver).
const NORMAL_BLOCK_SECONDS: u64 = 1;
/// The most extra messages one receive step takes after a `BZPOPMIN`.
const RECEIVE_BATCH: usize = 256;
/// First and longest pause between reconnection attempts of a receive loop.
const BACKOFF_MIN: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// How often local queues are swept for expired messages.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
/// The most keys a one-round-trip `group_send` provides random prefixes for (beyond it, the
/// members are read first, as channels_redis does).
const MAX_GROUP_KEYS_HINT: usize = 65_536;
/// A capacity standing for "unbounded" in Lua (an exact integer in a double).
const UNBOUNDED: u64 = 1 << 52;

/// Puts the contents of `<key>$inflight` back on `<key>` (what a receive loop popped but did not
/// hand over before it stopped). Same effect as channels_redis' cleanup script.
const RESTORE_LUA: &str = "\
local backed_up = redis.call('ZRANGE', ARGV[2], 0, -1, 'WITHSCORES')
for i = #backed_up, 1, -2 do
  redis.call('ZADD', ARGV[1], backed_up[i], backed_up[i - 1])
end
redis.call('DEL', ARGV[2])";

/// Pops up to ARGV[1] more messages from KEYS[1], backing each up in KEYS[2].
const DRAIN_LUA: &str = "\
local popped = redis.call('ZPOPMIN', KEYS[1], ARGV[1])
for i = 1, #popped, 2 do
  redis.call('ZADD', KEYS[2], popped[i + 1], popped[i])
end
return popped";

/// `send`: channels_redis' trim, capacity check, ZADD and EXPIRE, atomically.
/// ARGV: message, score, trim cutoff, capacity, expiry.
const SEND_LUA: &str = "\
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[3])
if redis.call('ZCOUNT', KEYS[1], '-inf', '+inf') >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1";

/// `group_send` on one host: channels_redis' script (capacity per key, count of keys over
/// capacity) with the expiry trim done in the same call, on the right host. Also reports which
/// keys had messages expire unread (their process has stopped reading).
/// ARGV: n messages, n capacities, score, expiry, trim cutoff.
/// Returns {over_capacity, stale key index...}.
const GROUP_SEND_LUA: &str = "\
local n = #KEYS
local now = ARGV[2 * n + 1]
local expiry = ARGV[2 * n + 2]
local cutoff = ARGV[2 * n + 3]
local result = {0}
for i = 1, n do
  if redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, cutoff) > 0 then
    result[#result + 1] = i
  end
  if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[n + i]) then
    redis.call('ZADD', KEYS[i], now, ARGV[i])
    redis.call('EXPIRE', KEYS[i], expiry)
  else
    result[1] = result[1] + 1
  end
end
return result";

/// `group_send` in one round trip to the group's host: channels_redis' group expiry trim and
/// member read, then, for every member key on this host, its message expiry trim, capacity
/// check, `ZADD` and `EXPIRE`, with the stored value assembled here exactly as channels_redis
/// serializes it: per key, random bytes ‖ the message with `__asgi_channel__` = the list of the
/// members sharing the key (in group order) ‖ the rest. Keys on other hosts are left to the
/// caller (their members are returned). Also prunes the `!` members of keys that had a message
/// expire unread, as [`GROUP_SEND_LUA`] reports them.
///
/// KEYS: the group. ARGV: group cutoff, message cutoff, score, expiry, capacity, head, tail,
/// serializer (`msgpack` or `json`), random prefix length, random bytes, key prefix, number of
/// hosts, this host's index, prune (`1` or `0`).
///
/// Returns `{0}` (nothing written: a member name outside `[A-Za-z0-9_.-]` around one `!`; the
/// caller falls back to reading the members itself), `{2, keys}` (nothing written: random
/// bytes for `keys` keys are needed) or `{1, over capacity, pruned, members, remote member...}`.
const GROUP_SEND_ALL_LUA: &str = r#"
local group = KEYS[1]
local capacity = tonumber(ARGV[5])
local head, tail, json = ARGV[6], ARGV[7], ARGV[8] == 'json'
local plen = tonumber(ARGV[9])
local pool = ARGV[10]
local prefix = ARGV[11]
local ring = tonumber(ARGV[12])
local here = tonumber(ARGV[13])
local prune = ARGV[14] == '1'

-- zlib's CRC-32 (channels_redis' consistent hash).
local function crc32(s)
  local crc = -1
  for i = 1, #s do
    crc = bit.bxor(crc, string.byte(s, i))
    for _ = 1, 8 do
      crc = bit.bxor(bit.rshift(crc, 1), bit.band(0xEDB88320, -bit.band(crc, 1)))
    end
  end
  return bit.bnot(crc)
end

local function be(n, width)
  local out = {}
  for i = width - 1, 0, -1 do
    out[#out + 1] = string.char(math.floor(n / 2 ^ (8 * i)) % 256)
  end
  return table.concat(out)
end

-- The __asgi_channel__ list, as msgpack-python or json.dumps writes it.
local function list(members)
  if json then
    return '["' .. table.concat(members, '", "') .. '"]'
  end
  local n = #members
  local parts = {}
  if n < 16 then
    parts[1] = string.char(0x90 + n)
  elseif n < 65536 then
    parts[1] = string.char(0xdc) .. be(n, 2)
  else
    parts[1] = string.char(0xdd) .. be(n, 4)
  end
  for _, m in ipairs(members) do
    local l = #m
    if l < 32 then
      parts[#parts + 1] = string.char(0xa0 + l)
    elseif l < 256 then
      parts[#parts + 1] = string.char(0xd9, l)
    elseif l < 65536 then
      parts[#parts + 1] = string.char(0xda) .. be(l, 2)
    else
      parts[#parts + 1] = string.char(0xdb) .. be(l, 4)
    end
    parts[#parts + 1] = m
  end
  return table.concat(parts)
end

redis.call('ZREMRANGEBYSCORE', group, 0, ARGV[1])
local members = redis.call('ZRANGE', group, 0, -1)
local buckets, by_key, remote = {}, {}, {}
local keys_here = 0
for _, m in ipairs(members) do
  if not string.find(m, '^[%w_%.%-]+!?[%w_%.%-]*$') then
    return {0}
  end
  local bang = string.find(m, '!', 1, true)
  local name = m
  if bang then
    name = string.sub(m, 1, bang)
  end
  local key = prefix .. name
  local b = by_key[key]
  if not b then
    local shard = 0
    if ring > 1 then
      shard = math.floor(bit.band(crc32(name), 4095) / (4096 / ring))
    end
    b = {key = key, shard = shard, specific = bang ~= nil, members = {}}
    by_key[key] = b
    buckets[#buckets + 1] = b
    if shard == here then
      keys_here = keys_here + 1
    end
  end
  if b.shard == here then
    b.members[#b.members + 1] = m
  else
    remote[#remote + 1] = m
  end
end
if keys_here * plen > #pool then
  return {2, keys_here}
end

local over, pruned, i = 0, 0, 0
for _, b in ipairs(buckets) do
  if b.shard == here then
    i = i + 1
    local trimmed = redis.call('ZREMRANGEBYSCORE', b.key, 0, ARGV[2])
    if redis.call('ZCOUNT', b.key, '-inf', '+inf') < capacity then
      local random = string.sub(pool, (i - 1) * plen + 1, i * plen)
      redis.call('ZADD', b.key, ARGV[3], random .. head .. list(b.members) .. tail)
      redis.call('EXPIRE', b.key, ARGV[4])
    else
      over = over + 1
    end
    if prune and b.specific and trimmed > 0 then
      for _, m in ipairs(b.members) do
        pruned = pruned + redis.call('ZREM', group, m)
      end
    end
  end
end
local result = {1, over, pruned, #members}
for _, m in ipairs(remote) do
  result[#result + 1] = m
end
return result
"#;

/// The scripts, each with its digest for `EVALSHA`.
static RESTORE: LazyLock<Script> = LazyLock::new(|| Script::new(RESTORE_LUA));
static DRAIN: LazyLock<Script> = LazyLock::new(|| Script::new(DRAIN_LUA));
static SEND: LazyLock<Script> = LazyLock::new(|| Script::new(SEND_LUA));
static GROUP_SEND: LazyLock<Script> = LazyLock::new(|| Script::new(GROUP_SEND_LUA));
static GROUP_SEND_ALL: LazyLock<Script> = LazyLock::new(|| Script::new(GROUP_SEND_ALL_LUA));

/// A channel layer on one or more Redis servers, wire-compatible with channels_redis 4.x.
///
/// Build it with [`RedisLayer::builder`] (or [`RedisLayer::from_urls`]); every option mirrors a
/// `RedisChannelLayer` argument and must match the Python peers' `CHANNEL_LAYERS` settings:
/// host list and order, `prefix`, `expiry`, `group_expiry`, `capacity` / `channel_capacity`,
/// `serializer_format`, `symmetric_encryption_keys`.
///
/// * Connections are made lazily and re-made after a failure; a receive loop reconnects with
///   backoff (50 ms doubling to 2 s) and carries on, so after a Redis restart receiving resumes
///   within about 2 s of the server accepting connections again.
/// * Receive loops start on the first [`receive`](ChannelLayer::receive) and stop when the last
///   clone of the layer is dropped; no task outlives the layer.
/// * A message that does not decode (wrong serializer, wrong key, garbage) is logged, counted in
///   [`RedisLayerStats::decode_errors`] and dropped; the loop goes on.
/// * `group_send` removes from the group the process-specific members whose key had a message
///   expire unread (their process stopped receiving), so dead processes cost at most `expiry`
///   of writes instead of `group_expiry`; see [`RedisLayerBuilder::prune_stale_members`].
///
/// Delivery is at most once. Cloning is cheap and shares connections and loops.
///
/// ```no_run
/// # async fn demo() -> Result<(), chanx_runtime::layer::LayerError> {
/// use chanx_runtime::layer::ChannelLayer;
/// use chanx_runtime::redis::RedisLayer;
///
/// let layer = RedisLayer::builder()
///     .url("redis://10.0.0.1:6379")
///     .url("redis://10.0.0.2:6379")
///     .capacity(1000)
///     .build()?;
/// let me = layer.new_channel("specific").await?;
/// layer.group_add("chat_room", &me).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisLayer {
    inner: Arc<Inner>,
}

/// Owned by the user-facing handles: aborts the background tasks when the last one goes.
struct Inner {
    shared: Arc<Shared>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in self
            .tasks
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            task.abort();
        }
    }
}

#[derive(Debug, Clone)]
struct Config {
    prefix: String,
    capacity: usize,
    channel_capacity: Vec<(String, usize)>,
    expiry: u64,
    group_expiry: u64,
    command_timeout: Duration,
    prune_stale_members: bool,
}

impl Config {
    /// The capacity of `channel`: the first matching `channel_capacity` pattern, else the default.
    fn capacity_of(&self, channel: &str) -> usize {
        self.channel_capacity
            .iter()
            .find(|(pattern, _)| glob_match(pattern, channel))
            .map_or(self.capacity, |&(_, capacity)| capacity)
    }

    /// The capacity as sent to Redis (0 means unbounded).
    fn redis_capacity(&self, channel: &str) -> u64 {
        match self.capacity_of(channel) {
            0 => UNBOUNDED,
            n => n as u64,
        }
    }

    fn channel_key(&self, channel: &str) -> String {
        format!("{}{}", self.prefix, non_local_name(channel))
    }

    fn group_key(&self, group: &str) -> String {
        format!("{}:group:{group}", self.prefix)
    }
}

struct Shard {
    address: Address,
    connection: tokio::sync::Mutex<Option<Connection>>,
}

impl Shard {
    async fn connection(&self) -> Result<Connection, RespError> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(connection.clone());
        }
        let connection = Connection::connect(&self.address).await?;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    async fn forget(&self) {
        *self.connection.lock().await = None;
    }
}

/// Counters a [`RedisLayer`] keeps about itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedisLayerStats {
    /// Messages put on Redis by `send`.
    pub sent: u64,
    /// `group_send` calls that reached Redis.
    pub group_sends: u64,
    /// Group messages not written because the member's key was at capacity (as channels_redis,
    /// they are dropped and logged at INFO).
    pub over_capacity: u64,
    /// Messages popped from Redis and handed to local queues (one per Redis message).
    pub received: u64,
    /// Messages dropped because a local channel queue was full (the oldest goes).
    pub queue_drops: u64,
    /// Messages dropped because they expired in a local queue nobody read.
    pub expired: u64,
    /// Stored messages that did not decode and were dropped.
    pub decode_errors: u64,
    /// Times a receive loop lost its connection and reconnected.
    pub reconnects: u64,
    /// Group members removed because their process stopped reading.
    pub pruned_members: u64,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    group_sends: AtomicU64,
    over_capacity: AtomicU64,
    received: AtomicU64,
    queue_drops: AtomicU64,
    expired: AtomicU64,
    decode_errors: AtomicU64,
    reconnects: AtomicU64,
    pruned_members: AtomicU64,
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

/// One local channel's queue.
struct Queue {
    messages: VecDeque<(Instant, LayerMessage)>,
    notify: Arc<Notify>,
    waiters: usize,
}

impl Queue {
    fn new() -> Self {
        Self {
            messages: VecDeque::new(),
            notify: Arc::new(Notify::new()),
            waiters: 0,
        }
    }
}

struct Local {
    queues: HashMap<String, Queue>,
    /// Non-local names whose receive loops run.
    loops: HashSet<String>,
    /// Normal channels whose poller runs.
    pollers: HashSet<String>,
    next_sweep: Instant,
}

/// What the background tasks share with the handles.
struct Shared {
    config: Config,
    codec: Codec,
    shards: Vec<Shard>,
    client_prefix: String,
    local: Mutex<Local>,
    counters: Counters,
    round_robin: AtomicUsize,
    /// How many keys' worth of random prefixes a `group_send` script gets (the most it needed).
    group_keys_hint: AtomicUsize,
}

fn backend(shard: &Shard, error: &RespError) -> LayerError {
    LayerError::Backend(format!("{}: {error}", shard.address))
}

/// `time.time()`.
fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Shared {
    fn local(&self) -> MutexGuard<'_, Local> {
        self.local.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs commands on a shard's shared connection, with the command timeout.
    async fn run(&self, index: usize, commands: &[Cmd]) -> Result<Vec<Reply>, LayerError> {
        let shard = &self.shards[index];
        let connection = shard.connection().await.map_err(|e| backend(shard, &e))?;
        match tokio::time::timeout(self.config.command_timeout, connection.pipeline(commands)).await
        {
            Ok(Ok(replies)) => Ok(replies),
            Ok(Err(e)) => Err(backend(shard, &e)),
            Err(_) => {
                // A server that stopped answering: start afresh next time.
                shard.forget().await;
                Err(backend(shard, &RespError::Timeout))
            }
        }
    }

    /// Runs a script on a shard's shared connection (`EVALSHA`, then `EVAL` if the server
    /// lacks it), with the command timeout.
    async fn eval(&self, index: usize, script: &Script, command: Cmd) -> Result<Reply, LayerError> {
        let missing = || {
            backend(
                &self.shards[index],
                &RespError::Protocol("missing reply".into()),
            )
        };
        let reply = self
            .run(index, std::slice::from_ref(&command))
            .await?
            .pop()
            .ok_or_else(missing)?;
        if !is_noscript(&reply) {
            return Ok(reply);
        }
        self.run(index, &[script.as_eval(command)])
            .await?
            .pop()
            .ok_or_else(missing)
    }

    fn trim_cutoff(now: f64, lifetime: u64) -> String {
        // channels_redis: int(time.time()) - int(expiry).
        (now as i64 - lifetime as i64).to_string()
    }

    /// Hands a popped message to its local channels.
    fn dispatch(&self, raw: &[u8], normal_channel: Option<&str>) {
        bump(&self.counters.received, 1);
        let (message, route) = match self.codec.decode(raw) {
            Ok(decoded) => decoded,
            Err(e) => {
                bump(&self.counters.decode_errors, 1);
                log::warn!(
                    "dropping a message that does not decode ({e}); check that every peer uses \
                     the same serializer_format and symmetric_encryption_keys"
                );
                return;
            }
        };
        let targets: Vec<String> = match route {
            Some(Value::String(channel)) => vec![channel],
            Some(Value::Array(channels)) => channels
                .into_iter()
                .filter_map(|c| match c {
                    Value::String(c) => Some(c),
                    _ => None,
                })
                .collect(),
            None => match normal_channel {
                Some(channel) => vec![channel.to_owned()],
                None => Vec::new(),
            },
            Some(_) => Vec::new(),
        };
        if targets.is_empty() {
            bump(&self.counters.decode_errors, 1);
            log::warn!("dropping a message without a usable __asgi_channel__");
            return;
        }
        let now = Instant::now();
        let mut local = self.local();
        self.sweep_if_due(&mut local, now);
        let last = targets.len() - 1;
        let mut message = Some(message);
        for (i, target) in targets.into_iter().enumerate() {
            let copy = if i == last {
                message.take()
            } else {
                message.clone()
            };
            let Some(copy) = copy else { continue };
            let queue = local.queues.entry(target).or_insert_with(Queue::new);
            if self.config.capacity > 0 && queue.messages.len() >= self.config.capacity {
                queue.messages.pop_front();
                bump(&self.counters.queue_drops, 1);
            }
            queue.messages.push_back((now, copy));
            queue.notify.notify_waiters();
        }
    }

    /// Drops expired messages from every local queue and queues nobody uses, once a second.
    fn sweep_if_due(&self, local: &mut Local, now: Instant) {
        if now < local.next_sweep {
            return;
        }
        local.next_sweep = now + SWEEP_INTERVAL;
        let expiry = Duration::from_secs(self.config.expiry);
        let mut expired = 0;
        local.queues.retain(|_, queue| {
            let before = queue.messages.len();
            queue
                .messages
                .retain(|(at, _)| now.saturating_duration_since(*at) <= expiry);
            expired += before - queue.messages.len();
            queue.waiters > 0 || !queue.messages.is_empty()
        });
        bump(&self.counters.expired, expired as u64);
    }
}

/// One pop step: acknowledges (removes from `$inflight`) the previous batch, blocks on
/// `BZPOPMIN`, and on a hit hands the message over at once, then drains up to `batch` more with
/// a script, sent in the same write as the `BZPOPMIN`, that backs each up in `$inflight` (they
/// are acknowledged by the next step).
///
/// The message `BZPOPMIN` returns is handed to `deliver` in the same poll that reads the reply,
/// with no suspension point in between, so no cancellation or abort can lose it there and it
/// needs no backup; channels_redis backs it up because its hand-over spans awaits.
async fn pop(
    connection: &Connection,
    (key, inflight): (&str, &str),
    block_seconds: u64,
    batch: usize,
    acks: &mut Vec<Vec<u8>>,
    command_timeout: Duration,
    deliver: &mut (dyn FnMut(&[u8]) + Send),
) -> Result<(), RespError> {
    let mut commands = Vec::with_capacity(2);
    if !acks.is_empty() {
        let mut zrem = Cmd::new("ZREM").arg(inflight);
        for member in acks.drain(..) {
            zrem = zrem.arg_vec(member);
        }
        commands.push(zrem);
    }
    commands.push(Cmd::new("BZPOPMIN").arg(key).arg(block_seconds.to_string()));
    let popped = connection.pipeline(&commands);
    // The drain goes out in the same write: Redis runs it right after BZPOPMIN returns, so
    // a burst costs no extra round trip (after a timeout it finds nothing, or what just came).
    let drain = (batch > 0).then(|| DRAIN.cmd(2).arg(key).arg(inflight).arg(batch.to_string()));
    let drained = drain
        .as_ref()
        .map(|drain| connection.pipeline(std::slice::from_ref(drain)));
    let wait = Duration::from_secs(block_seconds) + command_timeout;
    let mut replies = tokio::time::timeout(wait, popped)
        .await
        .map_err(|_| RespError::Timeout)??;
    for reply in &replies {
        if let Reply::Error(e) = reply {
            return Err(RespError::Server(e.clone()));
        }
    }
    let popped = replies
        .pop()
        .ok_or_else(|| RespError::Protocol("missing reply".to_owned()))?;
    if !popped.is_nil() {
        let mut items = popped.array()?.into_iter();
        let (Some(_), Some(member), Some(_score)) = (items.next(), items.next(), items.next())
        else {
            return Err(RespError::Protocol("short BZPOPMIN reply".to_owned()));
        };
        deliver(&member.bytes()?);
    }
    let (Some(drained), Some(drain)) = (drained, drain) else {
        return Ok(());
    };
    let mut drained = tokio::time::timeout(command_timeout, drained)
        .await
        .map_err(|_| RespError::Timeout)??
        .pop()
        .ok_or_else(|| RespError::Protocol("missing reply".to_owned()))?;
    if is_noscript(&drained) {
        drained = eval_on(connection, &DRAIN, drain, command_timeout).await?;
    }
    let mut drained = drained.array()?.into_iter();
    while let (Some(member), Some(_score)) = (drained.next(), drained.next()) {
        let member = member.bytes()?;
        deliver(&member);
        acks.push(member);
    }
    Ok(())
}

/// Runs a script on `connection` (`EVALSHA`, then `EVAL` if the server lacks it).
async fn eval_on(
    connection: &Connection,
    script: &Script,
    command: Cmd,
    command_timeout: Duration,
) -> Result<Reply, RespError> {
    async fn run(
        connection: &Connection,
        command: &Cmd,
        command_timeout: Duration,
    ) -> Result<Reply, RespError> {
        tokio::time::timeout(
            command_timeout,
            connection.pipeline(std::slice::from_ref(command)),
        )
        .await
        .map_err(|_| RespError::Timeout)??
        .pop()
        .ok_or_else(|| RespError::Protocol("missing reply".to_owned()))
    }
    let reply = run(connection, &command, command_timeout).await?;
    if is_noscript(&reply) {
        return run(connection, &script.as_eval(command), command_timeout).await;
    }
    Ok(reply)
}

async fn restore_inflight(
    connection: &Connection,
    key: &str,
    inflight: &str,
    command_timeout: Duration,
) -> Result<(), RespError> {
    let command = RESTORE.cmd(0).arg(key).arg(inflight);
    eval_on(connection, &RESTORE, command, command_timeout)
        .await?
        .ok()?;
    Ok(())
}

/// The receive loop of one process-specific key on one host: runs until aborted.
async fn specific_loop(shared: Arc<Shared>, index: usize, key: String) {
    let inflight = format!("{key}$inflight");
    let mut backoff = BACKOFF_MIN;
    let mut failed = false;
    loop {
        let address = &shared.shards[index].address;
        let connection = match Connection::connect(address).await {
            Ok(connection) => connection,
            Err(e) => {
                log::warn!(
                    "receive loop on {address}: cannot connect ({e}); retrying in {backoff:?}"
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        if failed {
            bump(&shared.counters.reconnects, 1);
            log::info!("receive loop on {address}: reconnected");
        }
        let Err(error) = receive_session(&shared, &connection, &key, &inflight, &mut backoff).await;
        failed = true;
        log::warn!("receive loop on {address}: {error}; reconnecting in {backoff:?}");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// Receives on one connection until it fails.
async fn receive_session(
    shared: &Shared,
    connection: &Connection,
    key: &str,
    inflight: &str,
    backoff: &mut Duration,
) -> Result<std::convert::Infallible, RespError> {
    let timeout = shared.config.command_timeout;
    restore_inflight(connection, key, inflight, timeout).await?;
    let mut acks = Vec::new();
    let mut deliver = |member: &[u8]| shared.dispatch(member, None);
    loop {
        pop(
            connection,
            (key, inflight),
            BLOCK_SECONDS,
            RECEIVE_BATCH,
            &mut acks,
            timeout,
            &mut deliver,
        )
        .await?;
        *backoff = BACKOFF_MIN;
    }
}

/// Polls a normal (non-`!`) channel on every host in turn while someone waits on it.
async fn normal_loop(shared: Arc<Shared>, channel: String) {
    let key = shared.config.channel_key(&channel);
    let inflight = format!("{key}$inflight");
    let timeout = shared.config.command_timeout;
    let mut connections: Vec<Option<Connection>> = vec![None; shared.shards.len()];
    let mut restored = vec![false; shared.shards.len()];
    let mut backoff = BACKOFF_MIN;
    let mut index = 0;
    loop {
        {
            let mut local = shared.local();
            if local.queues.get(&channel).is_none_or(|q| q.waiters == 0) {
                local.pollers.remove(&channel);
                return;
            }
        }
        index = (index + 1) % shared.shards.len();
        let address = &shared.shards[index].address;
        let connection = match &connections[index] {
            Some(c) if !c.is_closed() => c.clone(),
            _ => match Connection::connect(address).await {
                Ok(c) => {
                    connections[index] = Some(c.clone());
                    c
                }
                Err(e) => {
                    log::warn!("receive on {channel} via {address}: {e}; retrying in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    continue;
                }
            },
        };
        let step = async {
            if !restored[index] {
                restore_inflight(&connection, &key, &inflight, timeout).await?;
                restored[index] = true;
            }
            // Normal channels take one message per step (no drain): other processes may
            // be working on the same queue.
            let mut acks = Vec::new();
            let mut deliver = |member: &[u8]| shared.dispatch(member, Some(&channel));
            pop(
                &connection,
                (&key, &inflight),
                NORMAL_BLOCK_SECONDS,
                0,
                &mut acks,
                timeout,
                &mut deliver,
            )
            .await?;
            Ok::<(), RespError>(())
        }
        .await;
        match step {
            Ok(()) => backoff = BACKOFF_MIN,
            Err(e) => {
                connections[index] = None;
                restored[index] = false;
                bump(&shared.counters.reconnects, 1);
                log::warn!("receive on {channel} via {address}: {e}; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// Decrements a queue's waiter count when a `receive` ends (or is cancelled).
struct Waiting<'a> {
    shared: &'a Shared,
    channel: &'a str,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut local = self.shared.local();
        if let Some(queue) = local.queues.get_mut(self.channel) {
            queue.waiters = queue.waiters.saturating_sub(1);
            if queue.waiters == 0 && queue.messages.is_empty() {
                local.queues.remove(self.channel);
            }
        }
    }
}

impl RedisLayer {
    /// A builder with channels_redis' defaults (host `redis://localhost:6379`, prefix `asgi`,
    /// capacity 100, expiry 60 s, group expiry 86 400 s, msgpack, no encryption).
    pub fn builder() -> RedisLayerBuilder {
        RedisLayerBuilder {
            urls: Vec::new(),
            config: Config {
                prefix: DEFAULT_PREFIX.to_owned(),
                capacity: DEFAULT_CAPACITY,
                channel_capacity: Vec::new(),
                expiry: DEFAULT_EXPIRY.as_secs(),
                group_expiry: DEFAULT_GROUP_EXPIRY.as_secs(),
                command_timeout: DEFAULT_COMMAND_TIMEOUT,
                prune_stale_members: true,
            },
            serializer: Serializer::Msgpack,
            random_prefix_length: DEFAULT_RANDOM_PREFIX_LENGTH,
            keys: Vec::new(),
        }
    }

    /// A layer on these hosts (in shard order) with channels_redis' defaults otherwise.
    pub fn from_urls<S: AsRef<str>>(urls: &[S]) -> Result<Self, LayerError> {
        urls.iter()
            .fold(Self::builder(), |b, url| b.url(url.as_ref()))
            .build()
    }

    /// This layer's client prefix: the 32 hex digits in every channel it makes.
    pub fn client_prefix(&self) -> &str {
        &self.inner.shared.client_prefix
    }

    /// The number of hosts (shards).
    pub fn shard_count(&self) -> usize {
        self.inner.shared.shards.len()
    }

    /// The host index (position in the configured list) holding `group`'s key.
    pub fn group_shard(&self, group: &str) -> usize {
        consistent_hash(group, self.shard_count())
    }

    /// The host index holding `channel`'s messages when this layer sends to it: the hash of the
    /// non-local name for a `!` channel (channels_redis' `send()` hashes the full name, a bug
    /// this layer does not copy), else `None` (normal channels go round-robin).
    pub fn channel_shard(&self, channel: &str) -> Option<usize> {
        channel
            .contains('!')
            .then(|| consistent_hash(non_local_name(channel), self.shard_count()))
    }

    /// What the layer counted so far.
    pub fn stats(&self) -> RedisLayerStats {
        let c = &self.inner.shared.counters;
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        RedisLayerStats {
            sent: get(&c.sent),
            group_sends: get(&c.group_sends),
            over_capacity: get(&c.over_capacity),
            received: get(&c.received),
            queue_drops: get(&c.queue_drops),
            expired: get(&c.expired),
            decode_errors: get(&c.decode_errors),
            reconnects: get(&c.reconnects),
            pruned_members: get(&c.pruned_members),
        }
    }

    /// The current (unexpired) members of `group`, in join order.
    pub async fn group_members(&self, group: &str) -> Result<Vec<String>, LayerError> {
        valid_group_name(group)?;
        let shared = &self.inner.shared;
        let since = Shared::trim_cutoff(now_seconds(), shared.config.group_expiry);
        let command = Cmd::new("ZRANGEBYSCORE")
            .arg(shared.config.group_key(group))
            .arg(format!("({since}"))
            .arg("+inf");
        let index = self.group_shard(group);
        let reply = shared.run(index, &[command]).await?;
        members_of(reply)
    }

    /// What is stored under this layer's prefix on each host: groups with their member counts,
    /// channel keys with their message counts, and TTLs. Uses `SCAN`, so it does not block
    /// Redis; at most `limit` keys per host are reported.
    pub async fn inspect(&self, limit: usize) -> Result<Vec<ShardReport>, LayerError> {
        let shared = &self.inner.shared;
        let mut reports = Vec::new();
        for (index, shard) in shared.shards.iter().enumerate() {
            let keys = scan_keys(shared, index, limit).await?;
            let mut commands = Vec::new();
            for key in &keys {
                commands.push(Cmd::new("ZCARD").arg(key));
                commands.push(Cmd::new("TTL").arg(key));
            }
            let replies = shared.run(index, &commands).await?;
            let mut replies = replies.into_iter();
            let mut entries = Vec::new();
            for key in keys {
                let count = replies.next().and_then(|r| r.int().ok());
                let ttl = replies.next().and_then(|r| r.int().ok()).unwrap_or(-2);
                let group_prefix = format!("{}:group:", shared.config.prefix);
                let kind = if key.starts_with(&group_prefix) {
                    KeyKind::Group
                } else if key.ends_with("$inflight") {
                    KeyKind::Inflight
                } else {
                    KeyKind::Channel
                };
                entries.push(KeyReport {
                    key,
                    kind,
                    entries: count,
                    ttl,
                });
            }
            reports.push(ShardReport {
                address: shard.address.to_string(),
                keys: entries,
            });
        }
        Ok(reports)
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        tasks.retain(|t| !t.is_finished());
        tasks.push(tokio::spawn(task));
    }

    /// Starts the receive loops of a process-specific key (one per host) if not yet running.
    fn ensure_loops(&self, non_local: &str) {
        let shared = &self.inner.shared;
        if !shared.local().loops.insert(non_local.to_owned()) {
            return;
        }
        let key = format!("{}{non_local}", shared.config.prefix);
        // The key's own shard, plus every other host: Python's send() hashes the full channel
        // name and may have put the message on any of them.
        for index in 0..shared.shards.len() {
            self.spawn(specific_loop(Arc::clone(shared), index, key.clone()));
        }
    }

    async fn do_receive(&self, channel: &str) -> Result<LayerMessage, LayerError> {
        valid_channel_name(channel)?;
        let shared = &self.inner.shared;
        let specific = channel.contains('!');
        if specific {
            self.ensure_loops(non_local_name(channel));
        }
        let start_poller = {
            let mut local = shared.local();
            local
                .queues
                .entry(channel.to_owned())
                .or_insert_with(Queue::new)
                .waiters += 1;
            !specific && local.pollers.insert(channel.to_owned())
        };
        let _waiting = Waiting { shared, channel };
        if start_poller {
            self.spawn(normal_loop(Arc::clone(shared), channel.to_owned()));
        }
        let expiry = Duration::from_secs(shared.config.expiry);
        loop {
            let notify = {
                let mut local = shared.local();
                let queue = local
                    .queues
                    .entry(channel.to_owned())
                    .or_insert_with(Queue::new);
                Arc::clone(&queue.notify)
            };
            let mut notified = std::pin::pin!(notify.notified());
            notified.as_mut().enable();
            {
                let now = Instant::now();
                let mut local = shared.local();
                if let Some(queue) = local.queues.get_mut(channel) {
                    while let Some((at, message)) = queue.messages.pop_front() {
                        if now.saturating_duration_since(at) <= expiry {
                            return Ok(message);
                        }
                        bump(&shared.counters.expired, 1);
                    }
                }
            }
            notified.await;
        }
    }

    async fn do_send(&self, channel: &str, message: LayerMessage) -> Result<(), LayerError> {
        valid_channel_name(channel)?;
        valid_message(&message)?;
        let shared = &self.inner.shared;
        let config = &shared.config;
        let specific = channel.contains('!');
        let index = match self.channel_shard(channel) {
            Some(index) => index,
            None => shared.round_robin.fetch_add(1, Ordering::Relaxed) % shared.shards.len(),
        };
        let payload = shared
            .codec
            .encode(&message, specific.then_some(Route::One(channel)))
            .map_err(LayerError::InvalidMessage)?;
        let now = now_seconds();
        let command = SEND
            .cmd(1)
            .arg(config.channel_key(channel))
            .arg_vec(payload)
            .arg(float_repr(now))
            .arg(Shared::trim_cutoff(now, config.expiry))
            .arg(config.redis_capacity(channel).to_string())
            .arg(config.expiry.to_string());
        let reply = shared.eval(index, &SEND, command).await?;
        let shard = &shared.shards[index];
        let stored = reply.int().map_err(|e| backend(shard, &e))?;
        if stored == 1 {
            bump(&shared.counters.sent, 1);
            Ok(())
        } else {
            Err(LayerError::ChannelFull {
                channel: channel.to_owned(),
            })
        }
    }

    async fn do_group_send(&self, group: &str, message: LayerMessage) -> Result<(), LayerError> {
        valid_group_name(group)?;
        valid_message(&message)?;
        let shared = &self.inner.shared;
        let config = &shared.config;
        let group_index = self.group_shard(group);
        let now = now_seconds();
        // One round trip when the group's host can build the stored values itself: no
        // encryption, and one capacity for every channel (no glob patterns to match in Lua).
        let template = if config.channel_capacity.is_empty() {
            shared
                .codec
                .group_template(&message)
                .map_err(LayerError::InvalidMessage)?
        } else {
            None
        };
        let in_script = match &template {
            Some(template) => self.group_send_script(group, template, now).await?,
            None => None,
        };
        let (members, total, mut over) = match in_script {
            Some(done) => {
                if done.pruned > 0 {
                    bump(&shared.counters.pruned_members, done.pruned as u64);
                    log::info!(
                        "removed {} members from group {group}: their process stopped \
                         receiving (a message expired unread)",
                        done.pruned
                    );
                }
                (done.remote, done.total, done.over)
            }
            None => {
                let replies = shared
                    .run(
                        group_index,
                        &[
                            Cmd::new("ZREMRANGEBYSCORE")
                                .arg(config.group_key(group))
                                .arg("0")
                                .arg(Shared::trim_cutoff(now, config.group_expiry)),
                            Cmd::new("ZRANGE")
                                .arg(config.group_key(group))
                                .arg("0")
                                .arg("-1"),
                        ],
                    )
                    .await?;
                let members = members_of(replies)?;
                let total = members.len();
                (members, total, 0)
            }
        };
        bump(&shared.counters.group_sends, 1);
        let mut failure = None;
        if !members.is_empty() {
            let (more_over, stale, failed) = self.fan_out(&members, &message, now).await?;
            over += more_over;
            failure = failed;
            if config.prune_stale_members && !stale.is_empty() {
                let mut zrem = Cmd::new("ZREM").arg(config.group_key(group));
                for member in &stale {
                    zrem = zrem.arg(member);
                }
                match shared.run(group_index, &[zrem]).await {
                    Ok(replies) => {
                        let removed = replies.first().and_then(|r| r.int().ok()).unwrap_or(0);
                        bump(&shared.counters.pruned_members, removed as u64);
                        log::info!(
                            "removed {removed} members from group {group}: their process \
                             stopped receiving (a message expired unread)"
                        );
                    }
                    Err(e) => log::warn!("could not prune stale members of group {group}: {e}"),
                }
            }
        }
        if over > 0 {
            bump(&shared.counters.over_capacity, over as u64);
            log::info!("{over} of {total} channels over capacity in group {group}");
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// [`GROUP_SEND_ALL_LUA`] on the group's host: everything in one round trip except the
    /// member keys on other hosts. `None` when the script declined (a member name it does not
    /// handle); the caller then reads the members and writes every key itself.
    async fn group_send_script(
        &self,
        group: &str,
        template: &GroupTemplate,
        now: f64,
    ) -> Result<Option<InScript>, LayerError> {
        let shared = &self.inner.shared;
        let config = &shared.config;
        let index = self.group_shard(group);
        let prefix_length = shared.codec.random_prefix_length;
        let serializer = match template.serializer {
            Serializer::Msgpack => "msgpack",
            Serializer::Json => "json",
        };
        let bad = |what: &str| {
            LayerError::Backend(format!(
                "{}: unexpected group_send reply ({what})",
                shared.shards[index].address
            ))
        };
        // Random prefixes for as many keys as the largest group needed so far; if this group
        // needs more, the script says so without writing anything and runs again.
        for _ in 0..2 {
            let keys = shared.group_keys_hint.load(Ordering::Relaxed);
            let mut random = vec![0u8; prefix_length * keys];
            getrandom::fill(&mut random).map_err(|e| {
                LayerError::Backend(format!("no randomness for the message prefix: {e}"))
            })?;
            let command = GROUP_SEND_ALL
                .cmd(1)
                .arg(config.group_key(group))
                .arg(Shared::trim_cutoff(now, config.group_expiry))
                .arg(Shared::trim_cutoff(now, config.expiry))
                .arg(float_repr(now))
                .arg(config.expiry.to_string())
                .arg(config.redis_capacity("").to_string())
                .arg(&template.head)
                .arg(&template.tail)
                .arg(serializer)
                .arg(prefix_length.to_string())
                .arg_vec(random)
                .arg(&config.prefix)
                .arg(shared.shards.len().to_string())
                .arg(index.to_string())
                .arg(if config.prune_stale_members { "1" } else { "0" });
            let reply = shared.eval(index, &GROUP_SEND_ALL, command).await?;
            let mut items = reply.array().map_err(|e| bad(&e.to_string()))?.into_iter();
            let mut int = || {
                items
                    .next()
                    .and_then(|r| r.int().ok())
                    .ok_or_else(|| bad("not an integer"))
            };
            match int()? {
                1 => {
                    let over = int()?;
                    let pruned = int()?;
                    let total = usize::try_from(int()?).map_err(|_| bad("member count"))?;
                    let remote = members_of(vec![Reply::Array(Some(items.collect()))])?;
                    return Ok(Some(InScript {
                        remote,
                        total,
                        over,
                        pruned,
                    }));
                }
                2 => {
                    let needed = usize::try_from(int()?).map_err(|_| bad("key count"))?;
                    if needed > MAX_GROUP_KEYS_HINT {
                        return Ok(None);
                    }
                    shared.group_keys_hint.fetch_max(needed, Ordering::Relaxed);
                }
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Writes `message` to the keys of `members` (read from the group), one script per host,
    /// all hosts at once. Returns how many keys were over capacity, the `!` members whose key
    /// had a message expire unread, and the first failure (the other hosts are still written).
    async fn fan_out(
        &self,
        members: &[String],
        message: &LayerMessage,
        now: f64,
    ) -> Result<(i64, Vec<String>, Option<LayerError>), LayerError> {
        let shared = &self.inner.shared;
        let config = &shared.config;

        // Bucket members by key, in first-seen order, as channels_redis does.
        struct Bucket {
            key: String,
            members: Vec<String>,
            capacity: u64,
        }
        let mut buckets: Vec<Bucket> = Vec::new();
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for member in members {
            let key = config.channel_key(member);
            match by_key.get(&key) {
                Some(&at) => buckets[at].members.push(member.clone()),
                None => {
                    by_key.insert(key.clone(), buckets.len());
                    buckets.push(Bucket {
                        key,
                        members: vec![member.clone()],
                        capacity: config.redis_capacity(member),
                    });
                }
            }
        }
        let mut per_shard: Vec<Vec<usize>> = vec![Vec::new(); shared.shards.len()];
        for (at, bucket) in buckets.iter().enumerate() {
            let index = consistent_hash(non_local_name(&bucket.members[0]), shared.shards.len());
            per_shard[index].push(at);
        }

        let score = float_repr(now);
        let cutoff = Shared::trim_cutoff(now, config.expiry);
        let mut calls = Vec::new();
        for (index, buckets_here) in per_shard.iter().enumerate() {
            if buckets_here.is_empty() {
                continue;
            }
            let mut command = GROUP_SEND.cmd(buckets_here.len());
            for &at in buckets_here {
                command = command.arg(&buckets[at].key);
            }
            for &at in buckets_here {
                let payload = shared
                    .codec
                    .encode(message, Some(Route::Many(&buckets[at].members)))
                    .map_err(LayerError::InvalidMessage)?;
                command = command.arg_vec(payload);
            }
            for &at in buckets_here {
                command = command.arg(buckets[at].capacity.to_string());
            }
            command = command
                .arg(&score)
                .arg(config.expiry.to_string())
                .arg(&cutoff);
            // Queue on every host before waiting on any.
            let shard = &shared.shards[index];
            let connection = shard.connection().await.map_err(|e| backend(shard, &e))?;
            let reply = connection.pipeline(std::slice::from_ref(&command));
            calls.push((index, buckets_here, command, reply));
        }

        let mut over = 0;
        let mut stale: Vec<String> = Vec::new();
        let mut failure = None;
        for (index, buckets_here, command, reply) in calls {
            let shard = &shared.shards[index];
            let result = match tokio::time::timeout(config.command_timeout, reply).await {
                Ok(Ok(mut replies)) => match replies.pop() {
                    Some(reply) if is_noscript(&reply) => shared
                        .eval(index, &GROUP_SEND, command)
                        .await
                        .and_then(|r| r.array().map_err(|e| backend(shard, &e))),
                    Some(reply) => reply.array().map_err(|e| backend(shard, &e)),
                    None => Err(backend(
                        shard,
                        &RespError::Protocol("missing reply".to_owned()),
                    )),
                },
                Ok(Err(e)) => Err(backend(shard, &e)),
                Err(_) => {
                    shard.forget().await;
                    Err(backend(shard, &RespError::Timeout))
                }
            };
            let items = match result {
                Ok(items) => items,
                Err(e) => {
                    failure.get_or_insert(e);
                    continue;
                }
            };
            let mut items = items.into_iter();
            over += items.next().and_then(|r| r.int().ok()).unwrap_or(0);
            for item in items {
                let Some(at) = item
                    .int()
                    .ok()
                    .and_then(|i| usize::try_from(i - 1).ok())
                    .and_then(|i| buckets_here.get(i))
                else {
                    continue;
                };
                stale.extend(
                    buckets[*at]
                        .members
                        .iter()
                        .filter(|m| m.contains('!'))
                        .cloned(),
                );
            }
        }
        Ok((over, stale, failure))
    }
}

/// What [`GROUP_SEND_ALL_LUA`] did on the group's host.
struct InScript {
    /// Members whose key lives on another host, in group order: still to be written.
    remote: Vec<String>,
    /// How many members the group had.
    total: usize,
    /// Keys on the group's host that were at capacity.
    over: i64,
    /// Members removed because their key had a message expire unread.
    pruned: i64,
}

fn members_of(replies: Vec<Reply>) -> Result<Vec<String>, LayerError> {
    let reply = replies
        .into_iter()
        .last()
        .ok_or_else(|| LayerError::Backend("missing reply".to_owned()))?;
    let items = reply
        .array()
        .map_err(|e| LayerError::Backend(e.to_string()))?;
    let mut members = Vec::with_capacity(items.len());
    for item in items {
        match item.bytes().map(String::from_utf8) {
            Ok(Ok(member)) => members.push(member),
            _ => log::warn!("skipping a group member that is not a UTF-8 string"),
        }
    }
    Ok(members)
}

/// Escapes glob characters for `SCAN MATCH`.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

async fn scan_keys(shared: &Shared, index: usize, limit: usize) -> Result<Vec<String>, LayerError> {
    let pattern = format!("{}*", glob_escape(&shared.config.prefix));
    let mut cursor = "0".to_owned();
    let mut keys = Vec::new();
    loop {
        let command = Cmd::new("SCAN")
            .arg(&cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg("1000");
        let reply = shared.run(index, &[command]).await?;
        let bad = || LayerError::Backend("unexpected SCAN reply".to_owned());
        let mut parts = reply
            .into_iter()
            .next()
            .ok_or_else(bad)?
            .array()
            .map_err(|_| bad())?
            .into_iter();
        let (Some(next), Some(found)) = (parts.next(), parts.next()) else {
            return Err(bad());
        };
        cursor = String::from_utf8(next.bytes().map_err(|_| bad())?).map_err(|_| bad())?;
        for key in found.array().map_err(|_| bad())? {
            if keys.len() >= limit {
                return Ok(keys);
            }
            if let Ok(Ok(key)) = key.bytes().map(String::from_utf8) {
                keys.push(key);
            }
        }
        if cursor == "0" {
            return Ok(keys);
        }
    }
}

/// What [`RedisLayer::inspect`] found on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardReport {
    /// The host, as `redis://host:port/db` (never with the password).
    pub address: String,
    /// The keys under the layer's prefix.
    pub keys: Vec<KeyReport>,
}

/// One key under the layer's prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyReport {
    /// The Redis key.
    pub key: String,
    /// What the key holds.
    pub kind: KeyKind,
    /// Members of the sorted set (`None` if the key vanished or is not a sorted set).
    pub entries: Option<i64>,
    /// Seconds to live; `-1` for none, `-2` if the key is gone.
    pub ttl: i64,
}

/// What a key under the layer's prefix is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `{prefix}:group:{name}`: a group's members.
    Group,
    /// `{prefix}{channel}`: a channel's (or process') messages.
    Channel,
    /// `{prefix}{channel}$inflight`: messages being handed over by a receive loop.
    Inflight,
}

impl fmt::Debug for RedisLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &self.inner.shared;
        f.debug_struct("RedisLayer")
            .field(
                "hosts",
                &shared
                    .shards
                    .iter()
                    .map(|s| s.address.to_string())
                    .collect::<Vec<_>>(),
            )
            .field("config", &shared.config)
            .field("serializer", &shared.codec.serializer)
            .finish_non_exhaustive()
    }
}

impl ChannelLayer for RedisLayer {
    /// `"{prefix}.{client prefix}!{32 hex digits}"`, as channels_redis (whose default prefix is
    /// `"specific"`).
    fn new_channel<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<String, LayerError>> {
        Box::pin(async move {
            let name = format!(
                "{prefix}.{}!{}",
                self.inner.shared.client_prefix,
                uuid::Uuid::new_v4().simple()
            );
            valid_channel_name(&name)?;
            Ok(name)
        })
    }

    fn send<'a>(
        &'a self,
        channel: &'a str,
        message: LayerMessage,
    ) -> BoxFuture<'a, Result<(), LayerError>> {
        Box::pin(self.do_send(channel, message))
    }

    fn receive<'a>(&'a self, channel: &'a str) -> BoxFuture<'a, Result<LayerMessage, LayerError>> {
        Box::pin(self.do_receive(channel))
    }

    fn group_add<'a>(
        &'a self,
        group: &'a str,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<(), LayerError>> {
        Box::pin(async move {
            valid_group_name(group)?;
            valid_channel_name(channel)?;
            let shared = &self.inner.shared;
            let key = shared.config.group_key(group);
            let replies = shared
                .run(
                    self.group_shard(group),
                    &[
                        Cmd::new("ZADD")
                            .arg(&key)
                            .arg(float_repr(now_seconds()))
                            .arg(channel),
                        Cmd::new("EXPIRE")
                            .arg(&key)
                            .arg(shared.config.group_expiry.to_string()),
                    ],
                )
                .await?;
            for reply in replies {
                reply.ok().map_err(|e| LayerError::Backend(e.to_string()))?;
            }
            Ok(())
        })
    }

    fn group_discard<'a>(
        &'a self,
        group: &'a str,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<(), LayerError>> {
        Box::pin(async move {
            valid_group_name(group)?;
            valid_channel_name(channel)?;
            let shared = &self.inner.shared;
            let command = Cmd::new("ZREM")
                .arg(shared.config.group_key(group))
                .arg(channel);
            for reply in shared.run(self.group_shard(group), &[command]).await? {
                reply.ok().map_err(|e| LayerError::Backend(e.to_string()))?;
            }
            Ok(())
        })
    }

    fn group_send<'a>(
        &'a self,
        group: &'a str,
        message: LayerMessage,
    ) -> BoxFuture<'a, Result<(), LayerError>> {
        Box::pin(self.do_group_send(group, message))
    }

    /// Deletes every key under the prefix on every host (with `SCAN` and `DEL`, not the
    /// blocking `KEYS` channels_redis uses) and empties the local queues.
    fn flush<'a>(&'a self) -> BoxFuture<'a, Result<(), LayerError>> {
        Box::pin(async move {
            let shared = &self.inner.shared;
            for index in 0..shared.shards.len() {
                let keys = scan_keys(shared, index, usize::MAX).await?;
                for chunk in keys.chunks(1000) {
                    let mut del = Cmd::new("DEL");
                    for key in chunk {
                        del = del.arg(key);
                    }
                    shared.run(index, &[del]).await?;
                }
            }
            let mut local = shared.local();
            for queue in local.queues.values_mut() {
                queue.messages.clear();
            }
            Ok(())
        })
    }
}

/// Builds a [`RedisLayer`]; start with [`RedisLayer::builder`].
#[derive(Clone)]
pub struct RedisLayerBuilder {
    urls: Vec<String>,
    config: Config,
    serializer: Serializer,
    random_prefix_length: usize,
    keys: Vec<String>,
}

impl fmt::Debug for RedisLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLayerBuilder")
            .field("hosts", &self.urls.len())
            .field("config", &self.config)
            .field("serializer", &self.serializer)
            .field("encryption_keys", &self.keys.len())
            .finish()
    }
}

impl RedisLayerBuilder {
    /// Adds a host, `redis://[[user]:password@]host[:port][/db]`. Hosts are shards, numbered in
    /// the order added: list them in the same order as every other peer. With no host,
    /// `redis://localhost:6379` is used.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.urls.push(url.into());
        self
    }

    /// The key prefix (default `"asgi"`).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.prefix = prefix.into();
        self
    }

    /// How many messages a channel key holds before `send` fails with
    /// [`LayerError::ChannelFull`] and `group_send` skips it (default 100). Also bounds each
    /// local channel queue (the oldest message is dropped). `0` means unbounded (channels_redis
    /// would refuse every message).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.config.capacity = capacity;
        self
    }

    /// The capacity of channels whose name matches the glob `pattern` (channels_redis'
    /// `channel_capacity`; first match wins, in the order added). Regex patterns are not
    /// supported.
    pub fn channel_capacity(mut self, pattern: impl Into<String>, capacity: usize) -> Self {
        self.config
            .channel_capacity
            .push((pattern.into(), capacity));
        self
    }

    /// How long a message waits to be received (default 60 s; whole seconds, as Redis TTLs).
    pub fn expiry(mut self, expiry: Duration) -> Self {
        self.config.expiry = expiry.as_secs();
        self
    }

    /// How long a group membership lasts after `group_add` (default 86 400 s).
    pub fn group_expiry(mut self, group_expiry: Duration) -> Self {
        self.config.group_expiry = group_expiry.as_secs();
        self
    }

    /// The serializer (`serializer_format`; default msgpack).
    pub fn serializer(mut self, serializer: Serializer) -> Self {
        self.serializer = serializer;
        self
    }

    /// How many random bytes precede each stored message (default 12, as channels_redis).
    pub fn random_prefix_length(mut self, length: usize) -> Self {
        self.random_prefix_length = length;
        self
    }

    /// Adds a `symmetric_encryption_keys` entry. The first key added encrypts; all decrypt.
    #[cfg(feature = "redis-encryption")]
    pub fn symmetric_encryption_key(mut self, key: impl Into<String>) -> Self {
        self.keys.push(key.into());
        self
    }

    /// How long a non-blocking command may take before it fails (default 5 s).
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.config.command_timeout = timeout;
        self
    }

    /// Whether `group_send` removes process-specific members whose key had a message expire
    /// unread (default `true`). Such a process has stopped receiving (it died, or lags by more
    /// than `expiry`, in which case its messages are lost anyway); without this its members
    /// would receive writes until `group_expiry` (a day by default).
    pub fn prune_stale_members(mut self, prune: bool) -> Self {
        self.config.prune_stale_members = prune;
        self
    }

    /// The layer. Fails on an unparsable URL; connects lazily, so an unreachable host is only
    /// reported by the first operation that needs it.
    pub fn build(self) -> Result<RedisLayer, LayerError> {
        let urls = if self.urls.is_empty() {
            vec![DEFAULT_URL.to_owned()]
        } else {
            self.urls
        };
        let shards = urls
            .iter()
            .map(|url| {
                Ok(Shard {
                    address: Address::parse(url).map_err(LayerError::Backend)?,
                    connection: tokio::sync::Mutex::new(None),
                })
            })
            .collect::<Result<Vec<_>, LayerError>>()?;
        #[cfg(not(feature = "redis-encryption"))]
        let _ = &self.keys;
        let codec = Codec {
            serializer: self.serializer,
            random_prefix_length: self.random_prefix_length,
            expiry: self.config.expiry,
            #[cfg(feature = "redis-encryption")]
            fernet: crypto::MultiFernet::new(&self.keys),
        };
        Ok(RedisLayer {
            inner: Arc::new(Inner {
                shared: Arc::new(Shared {
                    config: self.config,
                    codec,
                    shards,
                    client_prefix: uuid::Uuid::new_v4().simple().to_string(),
                    local: Mutex::new(Local {
                        queues: HashMap::new(),
                        loops: HashSet::new(),
                        pollers: HashSet::new(),
                        next_sweep: Instant::now() + SWEEP_INTERVAL,
                    }),
                    counters: Counters::default(),
                    round_robin: AtomicUsize::new(0),
                    group_keys_hint: AtomicUsize::new(1),
                }),
                tasks: Mutex::new(Vec::new()),
            }),
        })
    }
}

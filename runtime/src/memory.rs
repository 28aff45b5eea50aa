//! [`InMemoryLayer`]: the embedded channel layer, with Django Channels' `InMemoryChannelLayer`
//! semantics.
//!
//! It serves every connection of one process (clones share state) and needs no server; use a
//! Redis layer to share groups between processes.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::layer::{
    BoxFuture, ChannelLayer, LayerError, LayerMessage, SharedMessage, glob_match,
    valid_channel_name, valid_group_name, valid_message,
};

/// Channels' default channel capacity.
const DEFAULT_CAPACITY: usize = 100;
/// Channels' default message lifetime.
const DEFAULT_EXPIRY: Duration = Duration::from_secs(60);
/// Channels' default group membership lifetime.
const DEFAULT_GROUP_EXPIRY: Duration = Duration::from_secs(86_400);
/// Upper bound on the pause between two full expiry sweeps.
const MAX_SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// An in-process channel layer with the semantics of Django Channels' `InMemoryChannelLayer`.
///
/// * Each channel is a FIFO queue holding at most `capacity` messages (default 100; `0` means
///   unbounded, like `asyncio.Queue(maxsize=0)`); [`send`](ChannelLayer::send) to a full channel
///   fails with [`LayerError::ChannelFull`], [`group_send`](ChannelLayer::group_send) skips it.
/// * A message expires `expiry` after it was sent (default 60 s) and is then never delivered;
///   as in Channels, a channel that had a message expire is removed from all its groups (it is
///   taken to be dead).
/// * A group membership expires `group_expiry` after the channel was (last) added (default
///   86 400 s).
/// * [`new_channel`](ChannelLayer::new_channel) returns `"{prefix}.inmemory!"` followed by 12
///   random ASCII letters (so Channels' default prefix `"specific."` gives the double dot that
///   Channels gives).
/// * [`receive`](ChannelLayer::receive) waits without polling until a message arrives; several
///   receivers on one channel each get distinct messages.
/// * Messages are moved, never serialized; a [`group_send`](ChannelLayer::group_send) puts one
///   [`SharedMessage`] (a reference-counted handle) on every member's queue instead of a copy
///   per member. [`receive_shared`](ChannelLayer::receive_shared) hands that handle out (the
///   connection loop relays from it without copying), [`receive`](ChannelLayer::receive) moves
///   the message out for the last member to take it and copies it for the others.
///
/// Cloning is cheap and shares the layer. No method panics; a poisoned internal lock is
/// recovered.
///
/// ```
/// # use chanx_runtime::layer::ChannelLayer;
/// # use chanx_runtime::memory::InMemoryLayer;
/// # use std::time::Duration;
/// let layer = InMemoryLayer::builder()
///     .capacity(1000)
///     .expiry(Duration::from_secs(10))
///     .build();
/// # let _ = layer;
/// ```
#[derive(Clone)]
pub struct InMemoryLayer {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    state: Mutex<State>,
}

#[derive(Debug, Clone)]
struct Config {
    capacity: usize,
    channel_capacity: Vec<(String, usize)>,
    expiry: Duration,
    group_expiry: Duration,
}

impl Config {
    /// The capacity of `channel`: the first matching `channel_capacity` pattern, else the
    /// default; `None` for unbounded.
    fn capacity_of(&self, channel: &str) -> Option<usize> {
        let capacity = self
            .channel_capacity
            .iter()
            .find(|(pattern, _)| glob_match(pattern, channel))
            .map_or(self.capacity, |&(_, capacity)| capacity);
        (capacity > 0).then_some(capacity)
    }

    fn sweep_interval(&self) -> Duration {
        (self.expiry.min(self.group_expiry) / 2).min(MAX_SWEEP_INTERVAL)
    }
}

/// One channel's queue.
struct Queue {
    /// Messages with the time they were sent, oldest first.
    messages: VecDeque<(Instant, SharedMessage)>,
    /// Woken (all waiters) on every message put on the queue and on flush. Receivers hold a
    /// clone while they wait, which keeps an empty queue from being removed under them.
    notify: Arc<Notify>,
}

impl Queue {
    fn new() -> Self {
        Self {
            messages: VecDeque::new(),
            notify: Arc::new(Notify::new()),
        }
    }

    /// Whether nothing refers to this queue besides the map (plus `extra` known holders).
    fn unused(&self, extra: usize) -> bool {
        self.messages.is_empty() && Arc::strong_count(&self.notify) <= 1 + extra
    }
}

#[derive(Default)]
struct State {
    channels: HashMap<String, Queue>,
    /// group → channel → when it was (last) added.
    groups: HashMap<String, HashMap<String, Instant>>,
    /// When the next full expiry sweep is due.
    next_sweep: Option<Instant>,
}

impl State {
    /// Drops `channel`'s expired messages (deleting the queue if nothing uses it any more);
    /// if any were dropped, removes the channel from every group, as Channels does.
    fn expire_channel(&mut self, channel: &str, now: Instant, expiry: Duration) {
        let Some(queue) = self.channels.get_mut(channel) else {
            return;
        };
        let mut dropped = false;
        while queue
            .messages
            .front()
            .is_some_and(|(sent, _)| now.saturating_duration_since(*sent) > expiry)
        {
            queue.messages.pop_front();
            dropped = true;
        }
        if queue.unused(0) {
            self.channels.remove(channel);
        }
        if dropped {
            self.remove_from_groups(channel);
        }
    }

    fn remove_from_groups(&mut self, channel: &str) {
        for members in self.groups.values_mut() {
            members.remove(channel);
        }
        self.groups.retain(|_, members| !members.is_empty());
    }

    /// Channels' `_clean_expired`, run at most once per sweep interval: expired messages (and
    /// the channels they were on, from their groups), expired memberships, unused queues.
    fn sweep_if_due(&mut self, now: Instant, config: &Config) {
        if self.next_sweep.is_some_and(|due| now < due) {
            return;
        }
        self.next_sweep = now.checked_add(config.sweep_interval());
        let mut expired = Vec::new();
        self.channels.retain(|channel, queue| {
            let before = queue.messages.len();
            queue
                .messages
                .retain(|(sent, _)| now.saturating_duration_since(*sent) <= config.expiry);
            if queue.messages.len() < before {
                expired.push(channel.clone());
            }
            !queue.unused(0)
        });
        for channel in expired {
            self.remove_from_groups(&channel);
        }
        for members in self.groups.values_mut() {
            members
                .retain(|_, joined| now.saturating_duration_since(*joined) <= config.group_expiry);
        }
        self.groups.retain(|_, members| !members.is_empty());
    }

    /// Puts `message` on `channel` unless it is full; wakes its receivers.
    fn push(
        &mut self,
        channel: &str,
        message: SharedMessage,
        now: Instant,
        config: &Config,
    ) -> Result<(), LayerError> {
        let capacity = config.capacity_of(channel);
        let queue = match self.channels.get_mut(channel) {
            Some(queue) => queue,
            None => self
                .channels
                .entry(channel.to_owned())
                .or_insert_with(Queue::new),
        };
        if capacity.is_some_and(|capacity| queue.messages.len() >= capacity) {
            return Err(LayerError::ChannelFull {
                channel: channel.to_owned(),
            });
        }
        queue.messages.push_back((now, message));
        queue.notify.notify_waiters();
        Ok(())
    }
}

/// What one attempt of `receive` found.
enum Take {
    Message(SharedMessage),
    /// Nothing yet: wait on the notifier.
    Empty,
    /// The queue this receiver registered with is gone (flushed): start over.
    Stale,
}

impl InMemoryLayer {
    /// A layer with Channels' defaults: capacity 100, expiry 60 s, group expiry 86 400 s.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder to set capacity and expiries.
    pub fn builder() -> InMemoryLayerBuilder {
        InMemoryLayerBuilder {
            config: Config {
                capacity: DEFAULT_CAPACITY,
                channel_capacity: Vec::new(),
                expiry: DEFAULT_EXPIRY,
                group_expiry: DEFAULT_GROUP_EXPIRY,
            },
        }
    }

    /// The current (unexpired) members of `group`, sorted; empty for an unknown group.
    pub fn group_members(&self, group: &str) -> Vec<String> {
        let now = Instant::now();
        let expiry = self.inner.config.group_expiry;
        let state = self.state();
        let mut members: Vec<String> = state
            .groups
            .get(group)
            .into_iter()
            .flatten()
            .filter(|(_, joined)| now.saturating_duration_since(**joined) <= expiry)
            .map(|(channel, _)| channel.clone())
            .collect();
        members.sort();
        members
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn do_send(&self, channel: &str, message: LayerMessage) -> Result<(), LayerError> {
        valid_channel_name(channel)?;
        valid_message(&message)?;
        let config = &self.inner.config;
        let now = Instant::now();
        let mut state = self.state();
        state.sweep_if_due(now, config);
        state.expire_channel(channel, now, config.expiry);
        state.push(channel, SharedMessage::new(message), now, config)
    }

    fn do_group_send(&self, group: &str, message: LayerMessage) -> Result<(), LayerError> {
        valid_group_name(group)?;
        valid_message(&message)?;
        let config = &self.inner.config;
        let now = Instant::now();
        let mut state = self.state();
        state.sweep_if_due(now, config);
        let members: Vec<String> = match state.groups.get_mut(group) {
            Some(members) => {
                members.retain(|_, joined| {
                    now.saturating_duration_since(*joined) <= config.group_expiry
                });
                members.keys().cloned().collect()
            }
            None => return Ok(()),
        };
        // Expired messages first (a channel with one leaves its groups), as Channels cleans
        // before sending.
        for channel in &members {
            state.expire_channel(channel, now, config.expiry);
        }
        let Some(members) = state.groups.get(group) else {
            return Ok(());
        };
        let targets: Vec<String> = members.keys().cloned().collect();
        // One message for all members: each queue holds a handle to it.
        let message = SharedMessage::new(message);
        for channel in &targets {
            // Full members are skipped silently, as in Channels.
            let _ = state.push(channel, message.clone(), now, config);
        }
        Ok(())
    }

    fn try_take(&self, channel: &str, notify: &Arc<Notify>) -> Take {
        let config = &self.inner.config;
        let now = Instant::now();
        let mut state = self.state();
        state.sweep_if_due(now, config);
        state.expire_channel(channel, now, config.expiry);
        let Some(queue) = state.channels.get_mut(channel) else {
            return Take::Stale;
        };
        if !Arc::ptr_eq(&queue.notify, notify) {
            return Take::Stale;
        }
        match queue.messages.pop_front() {
            Some((_, message)) => {
                // The map and this receiver hold the notifier; nobody else waits.
                if queue.unused(1) {
                    state.channels.remove(channel);
                }
                Take::Message(message)
            }
            None => Take::Empty,
        }
    }

    async fn do_receive(&self, channel: &str) -> Result<SharedMessage, LayerError> {
        valid_channel_name(channel)?;
        loop {
            let notify = {
                let mut state = self.state();
                let queue = match state.channels.get_mut(channel) {
                    Some(queue) => queue,
                    None => state
                        .channels
                        .entry(channel.to_owned())
                        .or_insert_with(Queue::new),
                };
                Arc::clone(&queue.notify)
            };
            // Register as a waiter before looking at the queue, so a message sent after the
            // look wakes this receiver.
            let mut notified = std::pin::pin!(notify.notified());
            notified.as_mut().enable();
            match self.try_take(channel, &notify) {
                Take::Message(message) => return Ok(message),
                Take::Stale => continue,
                Take::Empty => notified.await,
            }
        }
    }
}

impl Default for InMemoryLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for InMemoryLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.inner.config;
        f.debug_struct("InMemoryLayer")
            .field("capacity", &config.capacity)
            .field("channel_capacity", &config.channel_capacity)
            .field("expiry", &config.expiry)
            .field("group_expiry", &config.group_expiry)
            .finish_non_exhaustive()
    }
}

impl ChannelLayer for InMemoryLayer {
    fn new_channel<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<String, LayerError>> {
        Box::pin(async move {
            let name = format!("{prefix}.inmemory!{}", random_letters());
            valid_channel_name(&name)?;
            Ok(name)
        })
    }

    fn send<'a>(
        &'a self,
        channel: &'a str,
        message: LayerMessage,
    ) -> BoxFuture<'a, Result<(), LayerError>> {
        Box::pin(async move { self.do_send(channel, message) })
    }

    fn receive<'a>(&'a self, channel: &'a str) -> BoxFuture<'a, Result<LayerMessage, LayerError>> {
        Box::pin(async move {
            self.do_receive(channel)
                .await
                .map(SharedMessage::into_message)
        })
    }

    fn receive_shared<'a>(
        &'a self,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<SharedMessage, LayerError>> {
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
            let now = Instant::now();
            self.state()
                .groups
                .entry(group.to_owned())
                .or_default()
                .insert(channel.to_owned(), now);
            Ok(())
        })
    }

    fn group_discard<'a>(
        &'a self,
        group: &'a str,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<(), LayerError>> {
        Box::pin(async move {
            valid_channel_name(channel)?;
            valid_group_name(group)?;
            let mut state = self.state();
            if let Some(members) = state.groups.get_mut(group) {
                members.remove(channel);
                if members.is_empty() {
                    state.groups.remove(group);
                }
            }
            Ok(())
        })
    }

    fn group_send<'a>(
        &'a self,
        group: &'a str,
        message: LayerMessage,
    ) -> BoxFuture<'a, Result<(), LayerError>> {
        Box::pin(async move { self.do_group_send(group, message) })
    }

    fn flush<'a>(&'a self) -> BoxFuture<'a, Result<(), LayerError>> {
        Box::pin(async move {
            let mut state = self.state();
            // Waiting receivers start over on fresh queues.
            for queue in state.channels.values() {
                queue.notify.notify_waiters();
            }
            *state = State::default();
            Ok(())
        })
    }
}

/// Builds an [`InMemoryLayer`]; start with [`InMemoryLayer::builder`].
#[derive(Debug, Clone)]
pub struct InMemoryLayerBuilder {
    config: Config,
}

impl InMemoryLayerBuilder {
    /// The most messages a channel holds (default 100); `0` means unbounded.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.config.capacity = capacity;
        self
    }

    /// The capacity of channels whose name matches the glob `pattern` (Channels'
    /// `channel_capacity`, see [`glob_match`]); the first matching pattern added wins.
    pub fn channel_capacity(mut self, pattern: impl Into<String>, capacity: usize) -> Self {
        self.config
            .channel_capacity
            .push((pattern.into(), capacity));
        self
    }

    /// How long a message waits to be received before it is dropped (default 60 s).
    pub fn expiry(mut self, expiry: Duration) -> Self {
        self.config.expiry = expiry;
        self
    }

    /// How long a group membership lasts after `group_add` (default 86 400 s).
    pub fn group_expiry(mut self, group_expiry: Duration) -> Self {
        self.config.group_expiry = group_expiry;
        self
    }

    /// The layer.
    pub fn build(self) -> InMemoryLayer {
        InMemoryLayer {
            inner: Arc::new(Inner {
                config: self.config,
                state: Mutex::new(State::default()),
            }),
        }
    }
}

/// 12 random ASCII letters (Channels' `random.choice(string.ascii_letters)`), from an xorshift
/// generator seeded with the clock, the process id and a counter.
fn random_letters() -> String {
    const LETTERS: &[u8; 52] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static COUNTER: AtomicU64 = AtomicU64::new(0);

    fn splitmix64(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut state = splitmix64(nanos ^ splitmix64(count ^ (u64::from(std::process::id()) << 32)));
    if state == 0 {
        state = 0x9E37_79B9_7F4A_7C15;
    }
    (0..12)
        .map(|_| {
            // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let r = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32;
            char::from(LETTERS[(r % 52) as usize])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashSet;

    fn msg(value: serde_json::Value) -> LayerMessage {
        match value {
            serde_json::Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    async fn receive_soon(layer: &InMemoryLayer, channel: &str) -> Option<LayerMessage> {
        tokio::time::timeout(Duration::from_millis(50), layer.receive(channel))
            .await
            .ok()
            .map(|received| received.expect("receive"))
    }

    #[tokio::test]
    async fn send_and_receive_in_order() {
        let layer = InMemoryLayer::new();
        for i in 0..5 {
            layer
                .send("test.fifo", msg(json!({"type": "m", "i": i})))
                .await
                .unwrap();
        }
        for i in 0..5 {
            assert_eq!(
                layer.receive("test.fifo").await.unwrap(),
                msg(json!({"type": "m", "i": i}))
            );
        }
        assert_eq!(receive_soon(&layer, "test.fifo").await, None);
    }

    #[tokio::test]
    async fn new_channel_names_look_like_channels() {
        let layer = InMemoryLayer::new();
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            let name = layer.new_channel("specific.").await.unwrap();
            let suffix = name.strip_prefix("specific..inmemory!").expect("prefix");
            assert_eq!(suffix.len(), 12);
            assert!(suffix.bytes().all(|b| b.is_ascii_alphabetic()), "{name}");
            assert!(valid_channel_name(&name).is_ok());
            assert!(seen.insert(name));
        }
        assert!(matches!(
            layer.new_channel("bad!prefix").await,
            Err(LayerError::InvalidChannelName(_))
        ));
    }

    #[tokio::test]
    async fn full_channel_rejects_send() {
        let layer = InMemoryLayer::builder().capacity(2).build();
        layer.send("c", msg(json!({"type": "a"}))).await.unwrap();
        layer.send("c", msg(json!({"type": "b"}))).await.unwrap();
        assert_eq!(
            layer.send("c", msg(json!({"type": "c"}))).await,
            Err(LayerError::ChannelFull {
                channel: "c".to_owned()
            })
        );
        assert_eq!(layer.receive("c").await.unwrap()["type"], "a");
        layer.send("c", msg(json!({"type": "d"}))).await.unwrap();
        assert_eq!(layer.receive("c").await.unwrap()["type"], "b");
        assert_eq!(layer.receive("c").await.unwrap()["type"], "d");
    }

    #[tokio::test]
    async fn default_capacity_is_one_hundred_and_zero_is_unbounded() {
        let layer = InMemoryLayer::new();
        for _ in 0..100 {
            layer.send("c", msg(json!({"type": "x"}))).await.unwrap();
        }
        assert!(matches!(
            layer.send("c", msg(json!({"type": "x"}))).await,
            Err(LayerError::ChannelFull { .. })
        ));
        let unbounded = InMemoryLayer::builder().capacity(0).build();
        for _ in 0..1000 {
            unbounded
                .send("c", msg(json!({"type": "x"})))
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn channel_capacity_patterns() {
        let layer = InMemoryLayer::builder()
            .capacity(5)
            .channel_capacity("small.*", 1)
            .channel_capacity("small.big*", 10)
            .build();
        layer
            .send("small.big", msg(json!({"type": "x"})))
            .await
            .unwrap();
        // The first matching pattern wins.
        assert!(
            layer
                .send("small.big", msg(json!({"type": "x"})))
                .await
                .is_err()
        );
        for _ in 0..5 {
            layer
                .send("other", msg(json!({"type": "x"})))
                .await
                .unwrap();
        }
        assert!(
            layer
                .send("other", msg(json!({"type": "x"})))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn expired_messages_are_dropped() {
        let layer = InMemoryLayer::builder()
            .expiry(Duration::from_millis(100))
            .build();
        layer.send("c", msg(json!({"type": "old"}))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        layer.send("c", msg(json!({"type": "new"}))).await.unwrap();
        assert_eq!(layer.receive("c").await.unwrap()["type"], "new");
        layer.send("c", msg(json!({"type": "gone"}))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(receive_soon(&layer, "c").await, None);
    }

    #[tokio::test]
    async fn expired_messages_free_capacity() {
        let layer = InMemoryLayer::builder()
            .capacity(1)
            .expiry(Duration::from_millis(100))
            .build();
        layer.send("c", msg(json!({"type": "a"}))).await.unwrap();
        assert!(layer.send("c", msg(json!({"type": "b"}))).await.is_err());
        tokio::time::sleep(Duration::from_millis(150)).await;
        layer.send("c", msg(json!({"type": "c"}))).await.unwrap();
        assert_eq!(layer.receive("c").await.unwrap()["type"], "c");
    }

    #[tokio::test]
    async fn a_channel_with_an_expired_message_leaves_its_groups() {
        let layer = InMemoryLayer::builder()
            .expiry(Duration::from_millis(100))
            .build();
        layer.group_add("g", "dead").await.unwrap();
        layer.group_add("g", "alive").await.unwrap();
        layer
            .send("dead", msg(json!({"type": "never.read"})))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        layer
            .group_send("g", msg(json!({"type": "hello"})))
            .await
            .unwrap();
        assert_eq!(layer.group_members("g"), vec!["alive".to_owned()]);
        assert_eq!(layer.receive("alive").await.unwrap()["type"], "hello");
        assert_eq!(receive_soon(&layer, "dead").await, None);
    }

    #[tokio::test]
    async fn group_send_reaches_members_and_skips_full_ones() {
        let layer = InMemoryLayer::builder().capacity(1).build();
        for channel in ["a", "b", "c"] {
            layer.group_add("room", channel).await.unwrap();
        }
        layer.group_add("other", "d").await.unwrap();
        layer
            .send("b", msg(json!({"type": "filler"})))
            .await
            .unwrap();
        layer
            .group_send("room", msg(json!({"type": "hi", "n": 1})))
            .await
            .unwrap();
        assert_eq!(
            layer.receive("a").await.unwrap(),
            msg(json!({"type": "hi", "n": 1}))
        );
        assert_eq!(
            layer.receive("c").await.unwrap(),
            msg(json!({"type": "hi", "n": 1}))
        );
        assert_eq!(layer.receive("b").await.unwrap()["type"], "filler");
        assert_eq!(receive_soon(&layer, "b").await, None);
        assert_eq!(receive_soon(&layer, "d").await, None);
        // An unknown group is fine.
        layer
            .group_send("nobody", msg(json!({"type": "hi"})))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn group_send_shares_one_message_among_members() {
        let layer = InMemoryLayer::new();
        for channel in ["a", "b", "c"] {
            layer.group_add("room", channel).await.unwrap();
        }
        let sent = msg(json!({"type": "hi", "body": {"text": "x".repeat(1000)}}));
        layer.group_send("room", sent.clone()).await.unwrap();
        let a = layer.receive_shared("a").await.unwrap();
        let b = layer.receive_shared("b").await.unwrap();
        // The same map behind both handles: nothing was copied per member.
        assert!(std::ptr::eq(a.message(), b.message()));
        assert_eq!(a.message(), &sent);
        // `receive` copies for a member while others still hold the message...
        assert_eq!(layer.receive("c").await.unwrap(), sent);
        drop(b);
        // ...and moves it out for the last holder.
        let text = |m: &LayerMessage| m["body"]["text"].as_str().unwrap().as_ptr();
        let before = text(a.message());
        let owned = a.into_message();
        assert_eq!(owned, sent);
        assert_eq!(text(&owned), before);
        // A plain send is not shared with anyone.
        layer.send("a", sent.clone()).await.unwrap();
        assert_eq!(layer.receive("a").await.unwrap(), sent);
    }

    #[tokio::test]
    async fn a_shared_message_counts_against_each_members_capacity() {
        let layer = InMemoryLayer::builder().capacity(2).build();
        layer.group_add("g", "a").await.unwrap();
        layer.group_add("g", "b").await.unwrap();
        layer
            .send("a", msg(json!({"type": "filler"})))
            .await
            .unwrap();
        for n in 0..3 {
            layer
                .group_send("g", msg(json!({"type": "m", "n": n})))
                .await
                .unwrap();
        }
        // "a" had room for one, "b" for two; the rest was skipped.
        assert_eq!(layer.receive("a").await.unwrap()["type"], "filler");
        assert_eq!(layer.receive("a").await.unwrap()["n"], 0);
        assert_eq!(receive_soon(&layer, "a").await, None);
        assert_eq!(layer.receive_shared("b").await.unwrap().message()["n"], 0);
        assert_eq!(layer.receive_shared("b").await.unwrap().message()["n"], 1);
        assert_eq!(receive_soon(&layer, "b").await, None);
    }

    #[tokio::test]
    async fn group_discard_removes_a_member() {
        let layer = InMemoryLayer::new();
        layer.group_add("g", "a").await.unwrap();
        layer.group_add("g", "b").await.unwrap();
        layer.group_discard("g", "a").await.unwrap();
        layer.group_discard("g", "not-a-member").await.unwrap();
        layer.group_discard("no-such-group", "a").await.unwrap();
        assert_eq!(layer.group_members("g"), vec!["b".to_owned()]);
        layer
            .group_send("g", msg(json!({"type": "x"})))
            .await
            .unwrap();
        assert_eq!(receive_soon(&layer, "a").await, None);
        assert_eq!(layer.receive("b").await.unwrap()["type"], "x");
        layer.group_discard("g", "b").await.unwrap();
        assert!(layer.group_members("g").is_empty());
    }

    #[tokio::test]
    async fn group_memberships_expire() {
        let layer = InMemoryLayer::builder()
            .group_expiry(Duration::from_millis(100))
            .build();
        layer.group_add("g", "old").await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        layer.group_add("g", "new").await.unwrap();
        layer
            .group_send("g", msg(json!({"type": "x"})))
            .await
            .unwrap();
        assert_eq!(layer.group_members("g"), vec!["new".to_owned()]);
        assert_eq!(layer.receive("new").await.unwrap()["type"], "x");
        assert_eq!(receive_soon(&layer, "old").await, None);
    }

    #[tokio::test]
    async fn group_add_again_refreshes_the_membership() {
        let layer = InMemoryLayer::builder()
            .group_expiry(Duration::from_millis(200))
            .build();
        layer.group_add("g", "a").await.unwrap();
        layer.group_add("g", "b").await.unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
        layer.group_add("g", "a").await.unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
        // "b" joined 240 ms ago, "a" rejoined 120 ms ago.
        assert_eq!(layer.group_members("g"), vec!["a".to_owned()]);
    }

    #[tokio::test]
    async fn flush_clears_everything() {
        let layer = InMemoryLayer::new();
        layer.send("c", msg(json!({"type": "x"}))).await.unwrap();
        layer.group_add("g", "c").await.unwrap();
        layer.flush().await.unwrap();
        assert!(layer.group_members("g").is_empty());
        assert_eq!(receive_soon(&layer, "c").await, None);
        layer
            .group_send("g", msg(json!({"type": "x"})))
            .await
            .unwrap();
        assert_eq!(receive_soon(&layer, "c").await, None);
    }

    #[tokio::test]
    async fn a_receiver_waiting_across_a_flush_still_gets_later_messages() {
        let layer = InMemoryLayer::new();
        let waiting = tokio::spawn({
            let layer = layer.clone();
            async move { layer.receive("c").await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        layer.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        layer
            .send("c", msg(json!({"type": "after"})))
            .await
            .unwrap();
        let received = tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("woken")
            .unwrap()
            .unwrap();
        assert_eq!(received["type"], "after");
    }

    #[tokio::test]
    async fn receive_waits_then_wakes() {
        let layer = InMemoryLayer::new();
        let receiver = tokio::spawn({
            let layer = layer.clone();
            async move { layer.receive("wait.here").await }
        });
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!receiver.is_finished());
        layer
            .send("wait.here", msg(json!({"type": "wake"})))
            .await
            .unwrap();
        let received = tokio::time::timeout(Duration::from_secs(1), receiver)
            .await
            .expect("woken")
            .unwrap()
            .unwrap();
        assert_eq!(received["type"], "wake");
    }

    #[tokio::test]
    async fn cancelled_receive_loses_nothing() {
        let layer = InMemoryLayer::new();
        assert_eq!(receive_soon(&layer, "c").await, None);
        layer.send("c", msg(json!({"type": "kept"}))).await.unwrap();
        assert_eq!(layer.receive("c").await.unwrap()["type"], "kept");
    }

    #[tokio::test]
    async fn several_receivers_get_distinct_messages() {
        let layer = InMemoryLayer::builder().capacity(0).build();
        let receivers: Vec<_> = (0..4)
            .map(|_| {
                let layer = layer.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    for _ in 0..25 {
                        let m = layer.receive("shared").await.unwrap();
                        got.push(m["i"].as_i64().unwrap());
                    }
                    got
                })
            })
            .collect();
        tokio::task::yield_now().await;
        for i in 0..100 {
            layer
                .send("shared", msg(json!({"type": "m", "i": i})))
                .await
                .unwrap();
            if i % 7 == 0 {
                tokio::task::yield_now().await;
            }
        }
        let mut all = Vec::new();
        for receiver in receivers {
            let got = tokio::time::timeout(Duration::from_secs(2), receiver)
                .await
                .expect("done")
                .unwrap();
            // Each receiver sees its messages in order.
            assert!(got.windows(2).all(|w| w[0] < w[1]));
            all.extend(got);
        }
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn concurrent_senders_lose_nothing() {
        let layer = InMemoryLayer::builder().capacity(1000).build();
        let senders: Vec<_> = (0..10)
            .map(|task| {
                let layer = layer.clone();
                tokio::spawn(async move {
                    for i in 0..100 {
                        layer
                            .send("sink", msg(json!({"type": "m", "task": task, "i": i})))
                            .await
                            .unwrap();
                        if i % 10 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        let receiver = tokio::spawn({
            let layer = layer.clone();
            async move {
                let mut last = [-1i64; 10];
                for _ in 0..1000 {
                    let m = layer.receive("sink").await.unwrap();
                    let task = m["task"].as_u64().unwrap() as usize;
                    let i = m["i"].as_i64().unwrap();
                    // FIFO per sender.
                    assert_eq!(i, last[task] + 1);
                    last[task] = i;
                }
                last
            }
        });
        for sender in senders {
            sender.await.unwrap();
        }
        let last = tokio::time::timeout(Duration::from_secs(5), receiver)
            .await
            .expect("all received")
            .unwrap();
        assert_eq!(last, [99; 10]);
        assert_eq!(receive_soon(&layer, "sink").await, None);
    }

    #[tokio::test]
    async fn names_and_messages_are_validated() {
        let layer = InMemoryLayer::new();
        assert!(matches!(
            layer.send("bad name", msg(json!({"type": "x"}))).await,
            Err(LayerError::InvalidChannelName(_))
        ));
        assert!(matches!(
            layer.receive("a!b!c").await,
            Err(LayerError::InvalidChannelName(_))
        ));
        assert!(matches!(
            layer.send("c", msg(json!({"text": "no type"}))).await,
            Err(LayerError::InvalidMessage(_))
        ));
        assert!(matches!(
            layer
                .send("c", msg(json!({"type": "x", "__asgi_channel__": "c"})))
                .await,
            Err(LayerError::InvalidMessage(_))
        ));
        assert!(matches!(
            layer.group_add("bad!group", "c").await,
            Err(LayerError::InvalidGroupName(_))
        ));
        assert!(matches!(
            layer.group_add("g", "").await,
            Err(LayerError::InvalidChannelName(_))
        ));
        assert!(matches!(
            layer.group_discard("g", "bad channel").await,
            Err(LayerError::InvalidChannelName(_))
        ));
        assert!(matches!(
            layer.group_send("", msg(json!({"type": "x"}))).await,
            Err(LayerError::InvalidGroupName(_))
        ));
        assert!(matches!(
            layer.group_send("g", msg(json!({"type": null}))).await,
            Err(LayerError::InvalidMessage(_))
        ));
    }

    #[tokio::test]
    async fn huge_durations_do_not_panic() {
        let layer = InMemoryLayer::builder()
            .expiry(Duration::MAX)
            .group_expiry(Duration::MAX)
            .build();
        layer.group_add("g", "c").await.unwrap();
        layer
            .group_send("g", msg(json!({"type": "x"})))
            .await
            .unwrap();
        assert_eq!(layer.receive("c").await.unwrap()["type"], "x");
        let zero = InMemoryLayer::builder()
            .expiry(Duration::ZERO)
            .group_expiry(Duration::ZERO)
            .build();
        zero.group_add("g", "c").await.unwrap();
        zero.group_send("g", msg(json!({"type": "x"})))
            .await
            .unwrap();
        zero.send("c", msg(json!({"type": "x"}))).await.unwrap();
    }

    #[tokio::test]
    async fn usable_as_a_trait_object() {
        let layer: Arc<dyn ChannelLayer> = Arc::new(InMemoryLayer::new());
        let channel = layer.new_channel("specific.").await.unwrap();
        layer
            .send(&channel, msg(json!({"type": "x"})))
            .await
            .unwrap();
        assert_eq!(layer.receive(&channel).await.unwrap()["type"], "x");
    }
}

//! [`Context`]: the per-connection handle that generated consumer traits receive.
//!
//! A context knows the connection's channel name, its path parameters, the channel layer and
//! the groups it joined, and sends frames to the client through the connection loop's
//! [`Outbound`] queue. Inside a handler for a frame that carried a `ref`, it stamps every frame
//! it sends with `"version": 1, "ref": ..`, as Chanx does.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Poll, Waker};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use crate::layer::{self, ChannelLayer, LayerError};

/// What the connection loop writes to the WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// A text frame (one JSON object).
    Text(String),
    /// Close the connection with this close code.
    Close(u16),
}

/// The queue between contexts and their connection loop: a fresh unbounded
/// `(sender, receiver)` pair for [`Outbound`] items.
pub fn channel() -> (UnboundedSender<Outbound>, UnboundedReceiver<Outbound>) {
    tokio::sync::mpsc::unbounded_channel()
}

/// The error a handler returns; the connection loop logs it and answers as Chanx does.
///
/// Any `std::error::Error + Send + Sync + 'static` converts into it with `?`, and
/// [`HandlerError::msg`] makes one from a message. Like `anyhow::Error`, it deliberately does
/// **not** implement `std::error::Error` itself: that is what lets the blanket `From` impl exist
/// (it would otherwise overlap with `impl<T> From<T> for T`).
pub struct HandlerError {
    message: String,
}

impl HandlerError {
    /// A handler error with this message.
    pub fn msg(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The error's message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for HandlerError {
    fn from(error: E) -> Self {
        Self {
            message: error.to_string(),
        }
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerError")
            .field("message", &self.message)
            .finish()
    }
}

/// A frame could not be sent: the connection is closed, or the message did not encode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    kind: SendErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SendErrorKind {
    Closed,
    Encode(String),
}

impl SendError {
    fn closed() -> Self {
        Self {
            kind: SendErrorKind::Closed,
        }
    }

    /// Whether the connection was closed (rather than the message failing to encode).
    pub fn is_closed(&self) -> bool {
        self.kind == SendErrorKind::Closed
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SendErrorKind::Closed => f.write_str("the connection is closed"),
            SendErrorKind::Encode(reason) => write!(f, "the frame could not be encoded: {reason}"),
        }
    }
}

impl std::error::Error for SendError {}

/// The per-connection handle passed to handlers.
///
/// Cheap to clone; clones share the connection's groups and user. Build one per connection with
/// [`Context::new`]; the connection loop hands each frame's handler a
/// [`with_reply_ref`](Context::with_reply_ref) copy.
#[derive(Clone)]
pub struct Context {
    shared: Arc<Shared>,
    /// Name → raw value; a route has few, so a slice is smaller than a map and as fast.
    path_params: Arc<[(String, String)]>,
    reply_ref: Option<Arc<str>>,
}

struct Shared {
    channel_name: String,
    layer: Arc<dyn ChannelLayer>,
    outbound: Target,
    /// Groups joined, in joining order, without duplicates.
    groups: Mutex<Vec<String>>,
    user: Mutex<Option<Value>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Context {
    /// The context of a connection whose layer channel is `channel_name`, sending its frames to
    /// `outbound` (see [`channel`]).
    pub fn new(
        channel_name: String,
        layer: Arc<dyn ChannelLayer>,
        outbound: UnboundedSender<Outbound>,
    ) -> Self {
        Self::with_target(channel_name, layer, Target::Channel(outbound))
    }

    /// The context of a connection served by the connection loop, and the loop's end of its
    /// queue (lighter than a channel, which allocates room for 32 frames up front).
    pub(crate) fn connection(
        channel_name: String,
        layer: Arc<dyn ChannelLayer>,
    ) -> (Self, QueueReceiver) {
        let queue = Arc::new(Queue::default());
        let receiver = QueueReceiver {
            queue: Arc::clone(&queue),
        };
        (
            Self::with_target(channel_name, layer, Target::Queue(queue)),
            receiver,
        )
    }

    fn with_target(channel_name: String, layer: Arc<dyn ChannelLayer>, outbound: Target) -> Self {
        Self {
            shared: Arc::new(Shared {
                channel_name,
                layer,
                outbound,
                groups: Mutex::new(Vec::new()),
                user: Mutex::new(None),
            }),
            path_params: Arc::new([]),
            reply_ref: None,
        }
    }

    /// This context with the route's path parameters (name → raw value).
    pub fn with_path_params(mut self, params: BTreeMap<String, String>) -> Self {
        self.path_params = params.into_iter().collect();
        self
    }

    /// The connection's channel name on the layer (Chanx's `self.channel_name`).
    pub fn channel_name(&self) -> &str {
        &self.shared.channel_name
    }

    /// The raw value of the path parameter `name`, if the route has it.
    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The channel layer.
    pub fn layer(&self) -> &Arc<dyn ChannelLayer> {
        &self.shared.layer
    }

    /// The `ref` of the frame being handled, which every frame sent through this context
    /// carries.
    pub fn reply_ref(&self) -> Option<&str> {
        self.reply_ref.as_deref()
    }

    /// A copy of this context whose frames carry `"version": 1, "ref": reference` (or no
    /// envelope, for `None`): Chanx echoes a request's `ref` on every frame sent while handling
    /// it. The copy shares everything else.
    pub fn with_reply_ref(&self, reference: Option<String>) -> Context {
        Context {
            shared: Arc::clone(&self.shared),
            path_params: Arc::clone(&self.path_params),
            reply_ref: reference.map(Arc::from),
        }
    }

    /// Sends `message` to the client as one JSON text frame, stamped with the reply `ref` if
    /// this context has one.
    pub fn send<M: Serialize + ?Sized>(&self, message: &M) -> Result<(), SendError> {
        let frame =
            crate::protocol::encode_frame(message, self.reply_ref()).map_err(|e| SendError {
                kind: SendErrorKind::Encode(e.to_string()),
            })?;
        self.send_text(frame)
    }

    /// Sends an already-encoded text frame as is (no `ref` stamping).
    pub fn send_text(&self, frame: String) -> Result<(), SendError> {
        self.shared
            .outbound
            .send(Outbound::Text(frame))
            .map_err(|()| SendError::closed())
    }

    /// Asks the connection loop to close the connection with `code`; does nothing if it is
    /// already gone.
    pub fn close(&self, code: u16) {
        let _ = self.shared.outbound.send(Outbound::Close(code));
    }

    /// Adds this connection to `group` on the layer, and remembers it so that it is left on
    /// disconnect (Chanx's `join_group`).
    pub async fn join_group(&self, group: &str) -> Result<(), LayerError> {
        self.shared
            .layer
            .group_add(group, &self.shared.channel_name)
            .await?;
        let mut groups = lock(&self.shared.groups);
        if !groups.iter().any(|joined| joined == group) {
            // Room for this group only: a connection is in few groups, and keeps the list
            // while it lives (a push would make room for four).
            groups.reserve_exact(1);
            groups.push(group.to_owned());
        }
        Ok(())
    }

    /// Removes this connection from `group` on the layer and forgets it (Chanx's
    /// `leave_group`).
    pub async fn leave_group(&self, group: &str) -> Result<(), LayerError> {
        self.shared
            .layer
            .group_discard(group, &self.shared.channel_name)
            .await?;
        lock(&self.shared.groups).retain(|joined| joined != group);
        Ok(())
    }

    /// The groups this connection joined through this context (or any clone), in joining order.
    pub fn groups(&self) -> Vec<String> {
        lock(&self.shared.groups).clone()
    }

    /// Leaves every joined group (for the connection loop, on disconnect). Tries them all and
    /// returns the first error.
    pub async fn leave_all_groups(&self) -> Result<(), LayerError> {
        let mut first_error = None;
        for group in self.groups() {
            if let Err(error) = self.leave_group(&group).await {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Broadcasts `message` to `groups` (the joined groups for `None`), for every member to
    /// relay to its client as is, exactly as Chanx's `broadcast_message(message, groups,
    /// exclude_current=..)`; `from_channel` is this connection's channel, so with
    /// `exclude_current` this connection does not receive it. Broadcasts never carry a `ref`.
    pub async fn broadcast_message<M: Serialize + ?Sized>(
        &self,
        message: &M,
        groups: Option<&[&str]>,
        exclude_current: bool,
    ) -> Result<(), LayerError> {
        let layer = &*self.shared.layer;
        let from = Some(self.shared.channel_name.as_str());
        match groups {
            Some(groups) => {
                layer::broadcast_message(layer, groups, message, exclude_current, from).await
            }
            None => {
                let joined = self.groups();
                let joined: Vec<&str> = joined.iter().map(String::as_str).collect();
                layer::broadcast_message(layer, &joined, message, exclude_current, from).await
            }
        }
    }

    /// Records what the authenticator found about the user (shared by all clones).
    pub fn set_user(&self, user: Value) {
        *lock(&self.shared.user) = Some(user);
    }

    /// What the authenticator recorded about the user, if anything.
    pub fn user(&self) -> Option<Value> {
        lock(&self.shared.user).clone()
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("channel_name", &self.shared.channel_name)
            .field(
                "path_params",
                &self
                    .path_params
                    .iter()
                    .map(|(key, value)| (key, value))
                    .collect::<BTreeMap<_, _>>(),
            )
            .field("reply_ref", &self.reply_ref)
            .field("groups", &self.groups())
            .finish_non_exhaustive()
    }
}

/// Where a context's frames go.
enum Target {
    /// A channel made with [`channel`] ([`Context::new`]).
    Channel(UnboundedSender<Outbound>),
    /// The connection loop's queue ([`Context::connection`]).
    Queue(Arc<Queue>),
}

impl Target {
    /// Queues `item`; `Err` once the receiving end is gone.
    fn send(&self, item: Outbound) -> Result<(), ()> {
        match self {
            Target::Channel(sender) => sender.send(item).map_err(|_| ()),
            Target::Queue(queue) => queue.push(item),
        }
    }
}

/// An unbounded queue of [`Outbound`] items with one receiver, which allocates nothing until
/// frames are queued.
#[derive(Default)]
pub(crate) struct Queue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    items: VecDeque<Outbound>,
    /// The receiver waiting for an item.
    waker: Option<Waker>,
    /// The receiver is gone.
    closed: bool,
}

impl Queue {
    /// Queues `item` and wakes the receiver; `Err` once the receiver is gone.
    pub(crate) fn push(&self, item: Outbound) -> Result<(), ()> {
        let waker = {
            let mut state = lock(&self.state);
            if state.closed {
                return Err(());
            }
            state.items.push_back(item);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }
}

/// The connection loop's end of a [`Queue`]; dropping it makes sending fail.
pub(crate) struct QueueReceiver {
    queue: Arc<Queue>,
}

impl QueueReceiver {
    /// The next item, waiting for one; cancel-safe.
    pub(crate) fn recv(&mut self) -> impl Future<Output = Outbound> + '_ {
        std::future::poll_fn(|task| {
            let mut state = lock(&self.queue.state);
            match state.items.pop_front() {
                Some(item) => Poll::Ready(item),
                None => {
                    // Waiting for frames: the queue's room is freed, not kept by an idle
                    // connection.
                    if state.items.capacity() > 0 {
                        state.items = VecDeque::new();
                    }
                    if !state
                        .waker
                        .as_ref()
                        .is_some_and(|waker| waker.will_wake(task.waker()))
                    {
                        state.waker = Some(task.waker().clone());
                    }
                    Poll::Pending
                }
            }
        })
    }

    /// The queue, for a sender outside the connection (the server's shutdown) that must not
    /// keep it alive.
    pub(crate) fn queue(&self) -> Weak<Queue> {
        Arc::downgrade(&self.queue)
    }

    /// Forgets the waker of the last wait, so that items queued from the receiving task itself
    /// (a handler polled in place) do not wake it again: it looks at the queue next anyway.
    pub(crate) fn forget_waker(&mut self) {
        lock(&self.queue.state).waker = None;
    }

    /// The next item if one is queued.
    pub(crate) fn try_recv(&mut self) -> Option<Outbound> {
        lock(&self.queue.state).items.pop_front()
    }
}

impl Drop for QueueReceiver {
    fn drop(&mut self) {
        let items = {
            let mut state = lock(&self.queue.state);
            state.closed = true;
            state.waker = None;
            std::mem::take(&mut state.items)
        };
        drop(items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{Inbound, classify};
    use crate::memory::InMemoryLayer;
    use serde_json::json;
    use std::time::Duration;

    async fn context(layer: &Arc<dyn ChannelLayer>) -> (Context, UnboundedReceiver<Outbound>) {
        let (tx, rx) = channel();
        let name = layer.new_channel("specific.").await.unwrap();
        (Context::new(name, Arc::clone(layer), tx), rx)
    }

    fn text(item: Option<Outbound>) -> Value {
        match item {
            Some(Outbound::Text(frame)) => serde_json::from_str(&frame).unwrap(),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    fn keys(value: &Value) -> Vec<&str> {
        value
            .as_object()
            .map(|object| object.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    #[derive(Serialize)]
    struct Pong {
        action: &'static str,
        payload: Option<()>,
    }

    #[tokio::test]
    async fn send_encodes_frames_and_stamps_the_ref() {
        let layer: Arc<dyn ChannelLayer> = Arc::new(InMemoryLayer::new());
        let (ctx, mut rx) = context(&layer).await;
        let pong = Pong {
            action: "pong",
            payload: None,
        };
        ctx.send(&pong).unwrap();
        let plain = text(rx.recv().await);
        assert_eq!(plain, json!({"action": "pong", "payload": null}));
        assert_eq!(keys(&plain), ["action", "payload"]);
        let replying = ctx.with_reply_ref(Some("r-1".to_owned()));
        assert_eq!(replying.reply_ref(), Some("r-1"));
        assert_eq!(ctx.reply_ref(), None);
        replying.send(&pong).unwrap();
        let stamped = text(rx.recv().await);
        assert_eq!(
            stamped,
            json!({"action": "pong", "payload": null, "version": 1, "ref": "r-1"})
        );
        // Chanx appends the envelope after the message keys.
        assert_eq!(keys(&stamped), ["action", "payload", "version", "ref"]);
        // Byte for byte as Chanx (json.dumps separators).
        replying.send(&pong).unwrap();
        assert_eq!(
            rx.recv().await,
            Some(Outbound::Text(
                r#"{"action": "pong", "payload": null, "version": 1, "ref": "r-1"}"#.to_owned()
            ))
        );
        // Clones of the replying context stamp too.
        replying.clone().send(&pong).unwrap();
        assert_eq!(text(rx.recv().await)["ref"], "r-1");
        // Pre-encoded frames go out as they are.
        replying.send_text("{}".to_owned()).unwrap();
        assert_eq!(rx.recv().await, Some(Outbound::Text("{}".to_owned())));
        replying.with_reply_ref(None).send(&pong).unwrap();
        assert_eq!(
            text(rx.recv().await),
            json!({"action": "pong", "payload": null})
        );
    }

    #[tokio::test]
    async fn send_after_close_fails_and_close_is_queued() {
        let layer: Arc<dyn ChannelLayer> = Arc::new(InMemoryLayer::new());
        let (ctx, mut rx) = context(&layer).await;
        ctx.close(4401);
        assert_eq!(rx.recv().await, Some(Outbound::Close(4401)));
        drop(rx);
        let error = ctx.send(&json!({"action": "x"})).unwrap_err();
        assert!(error.is_closed());
        assert_eq!(error.to_string(), "the connection is closed");
        assert!(ctx.send_text(String::new()).is_err());
        ctx.close(1000);
    }

    #[tokio::test]
    async fn encode_failures_are_reported() {
        let layer: Arc<dyn ChannelLayer> = Arc::new(InMemoryLayer::new());
        let (ctx, _rx) = context(&layer).await;
        let mut bad = std::collections::HashMap::new();
        bad.insert((1, 2), 3);
        let error = ctx.send(&bad).unwrap_err();
        assert!(!error.is_closed());
    }

    #[tokio::test]
    async fn path_params_user_and_accessors() {
        let layer: Arc<dyn ChannelLayer> = Arc::new(InMemoryLayer::new());
        let (tx, _rx) = channel();
        let mut params = BTreeMap::new();
        params.insert("room".to_owned(), "lobby".to_owned());
        let ctx = Context::new("specific..inmemory!abc".to_owned(), Arc::clone(&layer), tx)
            .with_path_params(params);
        assert_eq!(ctx.channel_name(), "specific..inmemory!abc");
        assert_eq!(ctx.path_param("room"), Some("lobby"));
        assert_eq!(ctx.path_param("nope"), None);
        assert!(Arc::ptr_eq(ctx.layer(), &layer));
        assert_eq!(ctx.user(), None);
        let copy = ctx.with_reply_ref(Some("q".to_owned()));
        copy.set_user(json!({"id": 7}));
        assert_eq!(ctx.user(), Some(json!({"id": 7})));
        assert_eq!(copy.path_param("room"), Some("lobby"));
        assert!(format!("{ctx:?}").contains("specific..inmemory!abc"));
    }

    #[tokio::test]
    async fn join_and_leave_are_tracked() {
        let memory = InMemoryLayer::new();
        let layer: Arc<dyn ChannelLayer> = Arc::new(memory.clone());
        let (ctx, _rx) = context(&layer).await;
        ctx.join_group("room.a").await.unwrap();
        ctx.with_reply_ref(Some("r".to_owned()))
            .join_group("room.b")
            .await
            .unwrap();
        ctx.join_group("room.a").await.unwrap();
        assert_eq!(ctx.groups(), vec!["room.a".to_owned(), "room.b".to_owned()]);
        assert_eq!(
            memory.group_members("room.a"),
            vec![ctx.channel_name().to_owned()]
        );
        ctx.leave_group("room.a").await.unwrap();
        assert_eq!(ctx.groups(), vec!["room.b".to_owned()]);
        assert!(memory.group_members("room.a").is_empty());
        assert!(ctx.join_group("bad group").await.is_err());
        assert_eq!(ctx.groups(), vec!["room.b".to_owned()]);
        ctx.leave_all_groups().await.unwrap();
        assert!(ctx.groups().is_empty());
        assert!(memory.group_members("room.b").is_empty());
    }

    #[tokio::test]
    async fn broadcast_message_reaches_other_members_with_from_channel() {
        let layer: Arc<dyn ChannelLayer> = Arc::new(InMemoryLayer::new());
        let (alice, _alice_rx) = context(&layer).await;
        let (bob, _bob_rx) = context(&layer).await;
        alice.join_group("room.lobby").await.unwrap();
        bob.join_group("room.lobby").await.unwrap();
        let note = json!({"action": "chat_notification", "payload": {"text": "hi"}});
        alice
            .with_reply_ref(Some("r-9".to_owned()))
            .broadcast_message(&note, None, true)
            .await
            .unwrap();
        let expected = json!({
            "type": "handle_group_message",
            "message": note,
            "exclude_current": true,
            "from_channel": alice.channel_name(),
        });
        for ctx in [&alice, &bob] {
            let received = layer.receive(ctx.channel_name()).await.unwrap();
            assert_eq!(Value::Object(received.clone()), expected);
            // The sender's own copy is the one its loop must skip.
            match classify(received) {
                Inbound::GroupMessage {
                    message,
                    exclude_current,
                    from_channel,
                } => {
                    assert_eq!(message, note);
                    assert!(exclude_current);
                    let skip =
                        exclude_current && from_channel.as_deref() == Some(ctx.channel_name());
                    assert_eq!(skip, ctx.channel_name() == alice.channel_name());
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        // Explicit groups, even ones not joined.
        let (carol, _carol_rx) = context(&layer).await;
        carol.join_group("room.side").await.unwrap();
        bob.broadcast_message(&note, Some(&["room.side"]), false)
            .await
            .unwrap();
        let received = layer.receive(carol.channel_name()).await.unwrap();
        assert_eq!(received["from_channel"], json!(bob.channel_name()));
        assert_eq!(received["exclude_current"], json!(false));
        let nothing =
            tokio::time::timeout(Duration::from_millis(30), layer.receive(bob.channel_name()))
                .await;
        assert!(nothing.is_err());
    }

    #[test]
    fn handles_and_their_futures_are_send() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: T) {}
        let layer: Arc<dyn ChannelLayer> = Arc::new(InMemoryLayer::new());
        let (tx, _rx) = channel();
        let ctx = Context::new("c".to_owned(), layer, tx);
        send_sync(&ctx);
        send_sync(&InMemoryLayer::new());
        let note = json!({"action": "x"});
        send(ctx.broadcast_message(&note, None, false));
        send(ctx.join_group("g"));
        send(ctx.leave_all_groups());
    }

    #[test]
    fn handler_error_converts_from_errors() {
        fn parse(s: &str) -> Result<i32, HandlerError> {
            Ok(s.parse::<i32>()?)
        }
        let error = parse("x").unwrap_err();
        assert_eq!(error.to_string(), "invalid digit found in string");
        assert_eq!(error.message(), "invalid digit found in string");
        let layer_error: HandlerError = LayerError::Closed.into();
        assert_eq!(layer_error.to_string(), "channel layer closed");
        let custom = HandlerError::msg("room is full");
        assert_eq!(format!("{custom}"), "room is full");
        assert!(format!("{custom:?}").contains("room is full"));
    }
}

//! The connection loop every transport (the WebSocket upgraded from axum, the in-process
//! communicator) runs.

use std::future::{Future, poll_fn};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinSet;

use crate::camel::{camelize_keys, decamelize_keys};
use crate::context::{Context, HandlerError, Outbound, QueueReceiver};
use crate::decode::{Rejected, read_frame};
use crate::dispatch::finish;
use crate::endpoint::Endpoint;
use crate::layer::{BoxFuture, Inbound, LayerError, SharedMessage, classify, group_message_fields};
use crate::protocol::{signal_frame, to_python_json};

use super::auth::{AuthRequest, Denied, authentication_frame};
use super::handshake::Handshake;
use super::{CLOSE_GOING_AWAY, CLOSE_INTERNAL_ERROR, CLOSE_TOO_BIG, Route, Shared};

/// What a transport read from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ClientEvent {
    /// A text frame.
    Text(String),
    /// A binary frame of this many bytes.
    Binary(usize),
    /// The client broke the protocol, or sent a message over the transport's size limit:
    /// close with this code (only the WebSocket transport reports these).
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    Violation(u16),
    /// The client closed the connection, or it broke.
    Closed,
}

/// A WebSocket as the loop sees it, already accepted.
pub(crate) trait Transport: Send + 'static {
    /// The next client event; must be cancel-safe.
    fn recv(&mut self) -> impl Future<Output = ClientEvent> + Send + '_;
    /// Queues a text frame for [`Transport::flush`] to write out; `false` when the connection
    /// is gone. (Not async: a connection waiting here would hold the frame in its task.)
    fn send_text(&mut self, text: String) -> bool;
    /// Writes out what [`Transport::send_text`] buffered; `false` when the connection is gone.
    fn flush(&mut self) -> impl Future<Output = bool> + Send + '_;
    /// Sends a close frame with `code`.
    fn close(&mut self, code: u16) -> impl Future<Output = ()> + Send + '_;
    /// Told the connection's layer channel once it exists (the communicator reports it).
    fn opened(&mut self, channel_name: &str) {
        let _ = channel_name;
    }
}

/// Polls a future, turning a panic into `Err(())`.
pub(crate) struct CatchUnwind<F>(pub(crate) F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    }
}

/// The connection's context, which leaves its groups when dropped without
/// [`GroupGuard::leave`] (a panicking or cancelled connection task), from a task of its own.
struct GroupGuard {
    cx: Context,
    /// The groups were left (or are being left) already.
    left: bool,
}

impl GroupGuard {
    async fn leave(mut self) {
        self.left = true;
        let _ = self.cx.leave_all_groups().await;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.left {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let cx = self.cx.clone();
            runtime.spawn(async move {
                let _ = cx.leave_all_groups().await;
            });
        }
    }
}

/// How long the loop stops reading the layer after a backend error.
const LAYER_RETRY: Duration = Duration::from_millis(200);

/// Runs one accepted connection to its end.
///
/// The task's future is what an idle connection costs, so it is kept small: the route and the
/// handshake arrive boxed, rarely taken paths (connecting, closing, relaying layer messages) are
/// boxed futures, and the server's shutdown arrives as a close queued like a handler's. (Not an
/// `async fn`, whose parameters are moved into locals of its future: the task would hold the
/// transport twice.)
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn's future holds its parameters twice"
)]
pub(crate) fn run<T: Transport>(
    mut transport: T,
    shared: Arc<Shared>,
    route: Arc<Route>,
    handshake: Box<Handshake>,
) -> impl Future<Output = ()> + Send {
    async move {
        let _live = shared.lifecycle.enter();
        if shared.lifecycle.is_shutting_down() {
            transport.close(CLOSE_GOING_AWAY).await;
            return;
        }
        // Fields of `shared` and `guard` are named where used rather than bound to locals:
        // each reference kept across an await would take room in the task.
        //
        // In a block of its own: the name moves into the context, and a local of the function
        // would keep its room in the task.
        let (cx, mut outbound) = {
            let Ok(channel_name) = shared.layer.new_channel("specific.").await else {
                transport.close(CLOSE_INTERNAL_ERROR).await;
                return;
            };
            transport.opened(&channel_name);
            Context::connection(channel_name, Arc::clone(&shared.layer))
        };
        shared.lifecycle.register(outbound.queue());
        let guard = GroupGuard {
            cx: cx.with_path_params(handshake.path_params().clone()),
            left: false,
        };
        let camelize = shared.options.camelize;
        if let Err(code) = Box::pin(connect(&shared, &route, handshake, &guard.cx)).await {
            Box::pin(async {
                Writer::new(&mut transport, camelize)
                    .flush(&mut outbound)
                    .await;
                transport.close(code).await;
                guard.leave().await;
            })
            .await;
            return;
        }

        let mut handlers = Handlers::default();
        let mut layer_live = true;
        let mut layer_paused: Option<Pin<Box<tokio::time::Sleep>>> = None;
        // A long-lived future, polled again on every turn of the loop rather than made anew: it
        // registers with the layer once, not on every frame.
        let mut layer_message = shared.layer.receive_shared(guard.cx.channel_name());
        let close = loop {
            tokio::select! {
                biased;
                item = outbound.recv() => match item {
                    Outbound::Text(text) => match Writer::new(&mut transport, camelize).queue(text, &mut outbound) {
                        Queued::Broken => break None,
                        queued => {
                            if !transport.flush().await {
                                break None;
                            }
                            if let Queued::Close(code) = queued {
                                break Some(code);
                            }
                        }
                    },
                    Outbound::Close(code) => break Some(code),
                },
                () = handlers.join_next(), if handlers.len() > 0 => {}
                event = transport.recv(), if handlers.len() < shared.options.max_concurrent_handlers => {
                    let options = &shared.options;
                    match event {
                        ClientEvent::Text(text) if text.len() > options.max_frame_size => {
                            break Some(CLOSE_TOO_BIG);
                        }
                        ClientEvent::Binary(len) if len > options.max_frame_size => {
                            break Some(CLOSE_TOO_BIG);
                        }
                        ClientEvent::Violation(code) => break Some(code),
                        ClientEvent::Closed => break None,
                        ClientEvent::Binary(_) => {
                            let _ = guard.cx.send_text(Rejected::binary_frame().frame());
                        }
                        ClientEvent::Text(text) => {
                            let text = if camelize { decamelize_frame(text) } else { text };
                            let handling = handle_frame(Arc::clone(&route.endpoint), guard.cx.clone(), text, options.send_completion);
                            // The loop looks at its queue right after: frames the handler queues
                            // need not wake the task (a wasted turn of the loop per frame).
                            outbound.forget_waker();
                            start(&mut handlers, Box::pin(handling)).await;
                        }
                    }
                }
                () = poll_fn(|task| layer_paused.as_mut().map_or(Poll::Pending, |pause| pause.as_mut().poll(task))), if layer_paused.is_some() => {
                    layer_paused = None;
                }
                message = &mut layer_message, if layer_live && layer_paused.is_none() => {
                    layer_message = shared.layer.receive_shared(guard.cx.channel_name());
                    match message {
                        Ok(message) => {
                            outbound.forget_waker();
                            Box::pin(relay(&route, &guard.cx, message, shared.options.send_completion)).await;
                        }
                        Err(LayerError::Closed) => layer_live = false,
                        Err(_) => layer_paused = Some(Box::pin(tokio::time::sleep(LAYER_RETRY))),
                    }
                }
            }
        };
        drop(layer_message);
        Box::pin(async {
            handlers.shutdown().await;
            if let Some(code) = close {
                Writer::new(&mut transport, camelize)
                    .flush(&mut outbound)
                    .await;
                transport.close(code).await;
            }
            guard.leave().await;
        })
        .await;
    }
}

/// Runs a frame's handling: polled once here, in the connection's task, which is all most
/// handlers need (no task is spawned for them); one that has to wait continues in a task of
/// its own in `handlers`, so that the connection goes on reading (each frame is handled
/// concurrently, as by Chanx's task per frame, and the `handlers` bound still applies).
/// (A poll function rather than an `async fn`, whose future would hold its parameters twice.)
fn start<'h>(
    handlers: &'h mut Handlers,
    handling: BoxFuture<'static, ()>,
) -> impl Future<Output = ()> + 'h {
    let mut handling = Some(handling);
    poll_fn(move |task| {
        if let Some(mut pending) = handling.take() {
            if pending.as_mut().poll(task).is_pending() {
                handlers.spawn(pending);
            }
        }
        Poll::Ready(())
    })
}

/// The frame handlers that had to wait, each in a task of its own. The set is made when first
/// needed and dropped when empty again: even an empty `JoinSet` holds an allocation, which most
/// connections would keep without ever using it.
#[derive(Default)]
struct Handlers(Option<JoinSet<()>>);

impl Handlers {
    fn len(&self) -> usize {
        self.0.as_ref().map_or(0, JoinSet::len)
    }

    fn spawn(&mut self, handling: BoxFuture<'static, ()>) {
        self.0.get_or_insert_with(JoinSet::new).spawn(handling);
    }

    /// Waits until one of the handlers finishes (forever when there are none).
    fn join_next(&mut self) -> impl Future<Output = ()> + '_ {
        poll_fn(|task| {
            let Some(set) = self.0.as_mut() else {
                return Poll::Pending;
            };
            if set.poll_join_next(task).is_pending() {
                return Poll::Pending;
            }
            if set.is_empty() {
                self.0 = None;
            }
            Poll::Ready(())
        })
    }

    /// Aborts the handlers still running and waits for them.
    async fn shutdown(&mut self) {
        if let Some(set) = self.0.as_mut() {
            set.shutdown().await;
        }
    }
}

/// Authenticates, joins the groups and runs the connect hook; `Err(close code)` when the
/// connection must close.
async fn connect(
    shared: &Shared,
    route: &Route,
    handshake: Box<Handshake>,
    cx: &Context,
) -> Result<(), u16> {
    let authenticator = route
        .authenticator
        .as_ref()
        .or(shared.authenticator.as_ref());
    if let Some(authenticator) = authenticator {
        let request = AuthRequest {
            handshake: Arc::from(handshake),
            info: route.endpoint.info(),
            cx: cx.clone(),
        };
        let verdict = CatchUnwind(authenticator.authenticate(request))
            .await
            .unwrap_or_else(|()| Err(Denied::status(500)));
        let report = shared.options.send_authentication_message;
        match verdict {
            Ok(identity) => {
                if let Some(user) = identity.user {
                    cx.set_user(user);
                }
                if report {
                    let _ = cx.send(&authentication_frame(200, &identity.data));
                }
            }
            Err(denied) => {
                // Chanx sends no frame when authentication itself failed (status 500).
                if report && denied.status != Some(500) {
                    let status = denied.status.unwrap_or(401);
                    let _ = cx.send(&authentication_frame(status, &denied.data));
                }
                return Err(denied.close_code());
            }
        }
    }
    if let Some(groups) = &route.groups {
        for group in groups(cx) {
            cx.join_group(&group)
                .await
                .map_err(|_| CLOSE_INTERNAL_ERROR)?;
        }
    }
    if let Some(hook) = &route.on_connect {
        CatchUnwind(hook(cx.clone()))
            .await
            .map_err(|()| CLOSE_INTERNAL_ERROR)?;
    }
    Ok(())
}

/// Handles one client frame in its own task, as Chanx's `handle_json` task: the dispatcher
/// answers; a panicking handler is answered as a failing one; `complete` follows when enabled
/// (for frames whose envelope was valid, which is when Chanx reaches `handle_json`).
async fn handle_frame(endpoint: Arc<dyn Endpoint>, cx: Context, text: String, completion: bool) {
    let outcome = CatchUnwind(endpoint.handle_text(&cx, &text)).await;
    if outcome.is_ok() && !completion {
        return;
    }
    let Ok(incoming) = read_frame(&text, "action") else {
        return;
    };
    let reply = cx.with_reply_ref(incoming.envelope.reference.clone());
    if outcome.is_err() {
        let tag = incoming.tag();
        finish::<Value>(
            &reply,
            tag.as_str().unwrap_or_default(),
            Err(HandlerError::msg("the handler panicked")),
        );
    }
    if completion {
        let _ = reply.send_text(signal_frame("complete", reply.reply_ref()));
    }
}

/// Does what Chanx does with a layer message addressed to the connection.
///
/// A `handle_group_message` is relayed from the shared message without copying it, and its
/// frame is encoded once for all the connections the broadcast reached (each sends its own copy
/// of the text); other messages are taken apart with [`classify`].
async fn relay(route: &Route, cx: &Context, message: SharedMessage, completion: bool) {
    if let Some(group) = group_message_fields(message.message()) {
        if group.exclude_current && group.from_channel == Some(cx.channel_name()) {
            return;
        }
        let frame = message.frame_with(|message| {
            group_message_fields(message).and_then(|group| to_python_json(group.message).ok())
        });
        if let Some(frame) = frame {
            let _ = cx.send_text(frame.to_owned());
        }
        if completion {
            let _ = cx.send_text(signal_frame("group_complete", None));
        }
        return;
    }
    match classify(message.into_message()) {
        Inbound::ChannelEvent { event_data } => {
            // Chanx only logs a failing event handler; a panic is treated alike (the event
            // was valid, so it still completes). An event that is none of the channel's gets no
            // `event_complete`, as in Chanx.
            let handled = CatchUnwind(route.endpoint.handle_event(cx, event_data))
                .await
                .unwrap_or(true);
            if completion && handled {
                let _ = cx.send_text(signal_frame("event_complete", None));
            }
        }
        // Group messages were relayed above (`classify` agrees with `group_message_fields`).
        // Topics are not served yet; other types have no handler (Channels would fail the
        // connection, this loop ignores them).
        Inbound::GroupMessage { .. } | Inbound::TopicEvent { .. } | Inbound::Other(_) => {}
    }
}

/// Decamelizes the keys of a client frame that is a JSON object; anything else stays as sent,
/// so that its error frame is the one Chanx sends.
fn decamelize_frame(text: String) -> String {
    match serde_json::from_str::<Value>(&text) {
        Ok(mut value @ Value::Object(_)) => {
            decamelize_keys(&mut value);
            serde_json::to_string(&value).unwrap_or(text)
        }
        _ => text,
    }
}

/// Queues frames on the transport, camelizing their keys when asked.
struct Writer<'t, T> {
    transport: &'t mut T,
    camelize: bool,
}

/// What queuing frames on the transport found.
enum Queued {
    /// Every frame queued for the connection was queued on the transport.
    All,
    /// The frames before a queued close were queued; close with this code (after a flush).
    Close(u16),
    /// The connection is gone.
    Broken,
}

/// At most this many queued frames are written before one flush, so that a busy connection
/// still reads its client between batches.
const WRITE_BATCH: usize = 64;

impl<'t, T: Transport> Writer<'t, T> {
    fn new(transport: &'t mut T, camelize: bool) -> Self {
        Self {
            transport,
            camelize,
        }
    }

    fn send(&mut self, text: String) -> bool {
        let text = if self.camelize {
            camelize_frame(text)
        } else {
            text
        };
        self.transport.send_text(text)
    }

    /// Queues `text` and the frames queued after it (up to [`WRITE_BATCH`], or a close) on the
    /// transport, for one flush to write them at once. (Not async: the loop awaits only the
    /// flush, so that its task keeps no room for the frames.)
    fn queue(&mut self, text: String, outbound: &mut QueueReceiver) -> Queued {
        if !self.send(text) {
            return Queued::Broken;
        }
        for _ in 1..WRITE_BATCH {
            match outbound.try_recv() {
                Some(Outbound::Text(text)) => {
                    if !self.send(text) {
                        return Queued::Broken;
                    }
                }
                Some(Outbound::Close(code)) => return Queued::Close(code),
                None => break,
            }
        }
        Queued::All
    }

    /// Writes the frames already queued, up to a queued close.
    async fn flush(&mut self, outbound: &mut QueueReceiver) {
        while let Some(Outbound::Text(text)) = outbound.try_recv() {
            if !self.send(text) {
                return;
            }
        }
        self.transport.flush().await;
    }
}

fn camelize_frame(text: String) -> String {
    match serde_json::from_str::<Value>(&text) {
        Ok(mut value) => {
            camelize_keys(&mut value);
            to_python_json(&value).unwrap_or(text)
        }
        Err(_) => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_frames() {
        assert_eq!(
            camelize_frame(
                r#"{"action": "set_name", "payload": {"user_name": "x"}, "version": 1, "ref": "r"}"#
                    .to_owned()
            ),
            r#"{"action": "set_name", "payload": {"userName": "x"}, "version": 1, "ref": "r"}"#
        );
        assert_eq!(
            decamelize_frame(r#"{"action":"set_name","payload":{"userName":"x"}}"#.to_owned()),
            r#"{"action":"set_name","payload":{"user_name":"x"}}"#
        );
        assert_eq!(decamelize_frame("{bad".to_owned()), "{bad");
        assert_eq!(decamelize_frame("[1]".to_owned()), "[1]");
    }

    #[tokio::test]
    async fn catch_unwind_reports_panics() {
        let ok: crate::layer::BoxFuture<'static, u8> = Box::pin(async { 3 });
        assert_eq!(CatchUnwind(ok).await, Ok(3));
        let bad: crate::layer::BoxFuture<'static, u8> = Box::pin(async { panic!("boom") });
        assert_eq!(CatchUnwind(bad).await, Err(()));
    }
}

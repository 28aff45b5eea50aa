//! The connection loop every transport (the WebSocket upgraded from axum, the in-process
//! communicator) runs.

use std::future::Future;
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
    /// Writes a text frame, possibly only into a buffer that [`Transport::flush`] writes out;
    /// `false` when the connection is gone.
    fn send_text(&mut self, text: String) -> impl Future<Output = bool> + Send + '_;
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

/// Leaves the connection's groups when dropped without [`GroupGuard::leave`] (a panicking or
/// cancelled connection task), from a task of its own.
struct GroupGuard(Option<Context>);

impl GroupGuard {
    async fn leave(mut self) {
        if let Some(cx) = self.0.take() {
            let _ = cx.leave_all_groups().await;
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(cx) = self.0.take() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let _ = cx.leave_all_groups().await;
                });
            }
        }
    }
}

/// How long the loop stops reading the layer after a backend error.
const LAYER_RETRY: Duration = Duration::from_millis(200);

/// Runs one accepted connection to its end.
pub(crate) async fn run<T: Transport>(
    mut transport: T,
    shared: Arc<Shared>,
    route: Route,
    handshake: Handshake,
) {
    let _live = shared.lifecycle.enter();
    let mut shutdown = shared.lifecycle.shutdown.subscribe();
    if *shutdown.borrow_and_update() {
        transport.close(CLOSE_GOING_AWAY).await;
        return;
    }
    let layer = Arc::clone(&shared.layer);
    let Ok(channel_name) = layer.new_channel("specific.").await else {
        transport.close(CLOSE_INTERNAL_ERROR).await;
        return;
    };
    transport.opened(&channel_name);
    let (cx, mut outbound) = Context::connection(channel_name.clone(), Arc::clone(&layer));
    let cx = cx.with_path_params(handshake.path_params().clone());
    let guard = GroupGuard(Some(cx.clone()));
    let mut writer = Writer {
        transport: &mut transport,
        camelize: shared.options.camelize,
    };
    // Boxed, as the closing below: an idle connection's task keeps only the loop's state.
    if let Err(code) = Box::pin(connect(&shared, &route, handshake, &cx)).await {
        writer.flush(&mut outbound).await;
        writer.transport.close(code).await;
        guard.leave().await;
        return;
    }

    let options = &shared.options;
    let mut handlers: JoinSet<()> = JoinSet::new();
    let mut layer_live = true;
    let mut layer_paused: Option<Pin<Box<tokio::time::Sleep>>> = None;
    // Long-lived futures, polled again on every turn of the loop rather than made anew: the
    // layer's receive (which registers with the layer once, not on every frame) and the
    // shutdown signal.
    let mut layer_message = layer.receive_shared(&channel_name);
    let shutting_down = async move {
        while shutdown.changed().await.is_ok() {
            if *shutdown.borrow_and_update() {
                return;
            }
        }
    };
    let mut shutting_down = std::pin::pin!(shutting_down);
    let close = loop {
        tokio::select! {
            biased;
            () = &mut shutting_down => break Some(CLOSE_GOING_AWAY),
            item = outbound.recv() => match item {
                Outbound::Text(text) => match writer.send_queued(text, &mut outbound).await {
                    Written::All => {}
                    Written::Close(code) => break Some(code),
                    Written::Broken => break None,
                },
                Outbound::Close(code) => break Some(code),
            },
            Some(_) = handlers.join_next(), if !handlers.is_empty() => {}
            event = writer.transport.recv(), if handlers.len() < options.max_concurrent_handlers => {
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
                        let _ = cx.send_text(Rejected::binary_frame().frame());
                    }
                    ClientEvent::Text(text) => {
                        let text = if options.camelize { decamelize_frame(text) } else { text };
                        let handling = handle_frame(Arc::clone(&route.endpoint), cx.clone(), text, options.send_completion);
                        start(&mut handlers, Box::pin(handling)).await;
                    }
                }
            }
            () = async { if let Some(pause) = layer_paused.as_mut() { pause.await } }, if layer_paused.is_some() => {
                layer_paused = None;
            }
            message = &mut layer_message, if layer_live && layer_paused.is_none() => {
                layer_message = layer.receive_shared(&channel_name);
                match message {
                    Ok(message) => Box::pin(relay(&route, &cx, message, options.send_completion)).await,
                    Err(LayerError::Closed) => layer_live = false,
                    Err(_) => layer_paused = Some(Box::pin(tokio::time::sleep(LAYER_RETRY))),
                }
            }
        }
    };
    drop(layer_message);
    handlers.shutdown().await;
    if let Some(code) = close {
        Box::pin(async {
            writer.flush(&mut outbound).await;
            writer.transport.close(code).await;
        })
        .await;
    }
    Box::pin(guard.leave()).await;
}

/// Runs a frame's handling: polled once here, in the connection's task, which is all most
/// handlers need (no task is spawned for them); one that has to wait continues in a task of
/// its own in `handlers`, so that the connection goes on reading (each frame is handled
/// concurrently, as by Chanx's task per frame, and the `handlers` bound still applies).
async fn start(handlers: &mut JoinSet<()>, mut handling: BoxFuture<'static, ()>) {
    let pending =
        std::future::poll_fn(|task| Poll::Ready(handling.as_mut().poll(task).is_pending())).await;
    if pending {
        handlers.spawn(handling);
    }
}

/// Authenticates, joins the groups and runs the connect hook; `Err(close code)` when the
/// connection must close.
async fn connect(
    shared: &Shared,
    route: &Route,
    handshake: Handshake,
    cx: &Context,
) -> Result<(), u16> {
    let authenticator = route
        .authenticator
        .as_ref()
        .or(shared.authenticator.as_ref());
    if let Some(authenticator) = authenticator {
        let request = AuthRequest {
            handshake: Arc::new(handshake),
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

/// Writes frames to the transport, camelizing their keys when asked.
struct Writer<'t, T> {
    transport: &'t mut T,
    camelize: bool,
}

/// How writing the queued frames ended.
enum Written {
    /// Every frame queued was written.
    All,
    /// The frames before a queued close were written; close with this code.
    Close(u16),
    /// The connection is gone.
    Broken,
}

/// At most this many queued frames are written before one flush, so that a busy connection
/// still reads its client between batches.
const WRITE_BATCH: usize = 64;

impl<T: Transport> Writer<'_, T> {
    async fn send(&mut self, text: String) -> bool {
        let text = if self.camelize {
            camelize_frame(text)
        } else {
            text
        };
        self.transport.send_text(text).await
    }

    /// Writes `text` and the frames queued after it (up to [`WRITE_BATCH`], or a close), then
    /// flushes them to the socket at once.
    async fn send_queued(&mut self, text: String, outbound: &mut QueueReceiver) -> Written {
        if !self.send(text).await {
            return Written::Broken;
        }
        let mut written = Written::All;
        for _ in 1..WRITE_BATCH {
            match outbound.try_recv() {
                Some(Outbound::Text(text)) => {
                    if !self.send(text).await {
                        return Written::Broken;
                    }
                }
                Some(Outbound::Close(code)) => {
                    written = Written::Close(code);
                    break;
                }
                None => break,
            }
        }
        if self.transport.flush().await {
            written
        } else {
            Written::Broken
        }
    }

    /// Writes the frames already queued, up to a queued close.
    async fn flush(&mut self, outbound: &mut QueueReceiver) {
        while let Some(Outbound::Text(text)) = outbound.try_recv() {
            if !self.send(text).await {
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

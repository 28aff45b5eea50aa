//! [`Communicator`]: a connection to a [`Server`](super::Server) in process, without a network,
//! running the same connection loop as the axum integration (Chanx's `WebsocketCommunicator`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::connection::{ClientEvent, Transport, run};
use super::handshake::{Handshake, encode};
use super::{Route, Shared};

/// What the server sent a [`Communicator`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame.
    Text(String),
    /// The server closed the connection with this code (`None`: without a close frame, or the
    /// connection task ended).
    Closed(Option<u16>),
}

/// No route of the server matches the path a communicator asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoRoute {
    /// The path.
    pub path: String,
}

impl fmt::Display for NoRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no route matches {:?}", self.path)
    }
}

impl std::error::Error for NoRoute {}

/// The communicator's end of the in-process transport.
struct MemoryTransport {
    from_client: UnboundedReceiver<ClientEvent>,
    to_client: UnboundedSender<Frame>,
    channel_name: Option<oneshot::Sender<String>>,
}

impl Transport for MemoryTransport {
    async fn recv(&mut self) -> ClientEvent {
        self.from_client.recv().await.unwrap_or(ClientEvent::Closed)
    }

    fn send_text(&mut self, text: String) -> bool {
        self.to_client.send(Frame::Text(text)).is_ok()
    }

    async fn flush(&mut self) -> bool {
        !self.to_client.is_closed()
    }

    async fn close(&mut self, code: u16) {
        let _ = self.to_client.send(Frame::Closed(Some(code)));
    }

    fn opened(&mut self, channel_name: &str) {
        if let Some(sender) = self.channel_name.take() {
            let _ = sender.send(channel_name.to_owned());
        }
    }
}

/// Options of a [`Communicator`] before it connects.
#[derive(Debug)]
pub struct CommunicatorBuilder {
    shared: Arc<Shared>,
    routes: Vec<Route>,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl CommunicatorBuilder {
    pub(super) fn new(shared: Arc<Shared>, routes: Vec<Route>, path: &str) -> Self {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        Self {
            shared,
            routes,
            path: path.to_owned(),
            query: query.to_owned(),
            headers: Vec::new(),
        }
    }

    /// Adds a request header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a query parameter (encoded here).
    pub fn query(mut self, name: &str, value: &str) -> Self {
        if !self.query.is_empty() {
            self.query.push('&');
        }
        self.query.push_str(&encode(name));
        self.query.push('=');
        self.query.push_str(&encode(value));
        self
    }

    /// Connects: the connection loop starts on a task of its own (so this must run inside a
    /// Tokio runtime). Frames are then read with the [`Communicator`]'s methods.
    ///
    /// # Errors
    /// [`NoRoute`] when no route matches the path.
    pub fn connect(self) -> Result<Communicator, NoRoute> {
        let Some((route, params)) = self
            .routes
            .iter()
            .find_map(|route| Some((route.clone(), route.template.matches(&self.path)?)))
        else {
            return Err(NoRoute { path: self.path });
        };
        let handshake =
            Handshake::new(&self.path, &self.query, self.headers).with_path_params(params);
        let (to_server, from_client) = unbounded_channel();
        let (to_client, from_server) = unbounded_channel();
        let (named, channel_name) = oneshot::channel();
        let transport = MemoryTransport {
            from_client,
            to_client,
            channel_name: Some(named),
        };
        let task = tokio::spawn(run(
            transport,
            self.shared,
            Arc::new(route),
            Box::new(handshake),
        ));
        Ok(Communicator {
            to_server,
            from_server,
            task,
            channel_name: ChannelName::Pending(channel_name),
            closed: None,
            timeout: Duration::from_secs(1),
        })
    }
}

/// The connection's layer channel, as far as the communicator knows it.
#[derive(Debug)]
enum ChannelName {
    Pending(oneshot::Receiver<String>),
    Known(String),
    Never,
}

/// A connection to a server in process: send frames, receive what the server sends, assert how
/// it closes. Methods that wait give up after [`Communicator::timeout`] (1 s by default).
///
/// Dropping it disconnects the client.
#[derive(Debug)]
pub struct Communicator {
    to_server: UnboundedSender<ClientEvent>,
    from_server: UnboundedReceiver<Frame>,
    task: JoinHandle<()>,
    channel_name: ChannelName,
    closed: Option<Frame>,
    timeout: Duration,
}

impl Communicator {
    /// Sets how long receiving waits.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// How long receiving waits.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The connection's channel name on the layer (to address it with `send_event`), once the
    /// server made it; `None` if it never did (the layer failed, or the server was shutting down).
    pub async fn channel_name(&mut self) -> Option<&str> {
        if let ChannelName::Pending(receiver) = &mut self.channel_name {
            self.channel_name = match receiver.await {
                Ok(name) => ChannelName::Known(name),
                Err(_) => ChannelName::Never,
            };
        }
        match &self.channel_name {
            ChannelName::Known(name) => Some(name),
            _ => None,
        }
    }

    /// Sends a text frame as is.
    pub fn send_text(&self, text: impl Into<String>) {
        let _ = self.to_server.send(ClientEvent::Text(text.into()));
    }

    /// Sends a binary frame (Chanx answers it with an error frame).
    pub fn send_binary(&self, bytes: &[u8]) {
        let _ = self.to_server.send(ClientEvent::Binary(bytes.len()));
    }

    /// Sends `message` as a JSON text frame.
    ///
    /// # Panics
    /// When `message` does not serialize.
    pub fn send<M: Serialize + ?Sized>(&self, message: &M) {
        let text = serde_json::to_string(message).expect("the message serializes to JSON");
        self.send_text(text);
    }

    /// Sends `message` with the envelope key `"ref": reference` added.
    ///
    /// # Panics
    /// When `message` does not serialize to a JSON object.
    pub fn send_with_ref<M: Serialize + ?Sized>(&self, message: &M, reference: &str) {
        let mut value = serde_json::to_value(message).expect("the message serializes to JSON");
        value
            .as_object_mut()
            .expect("the message is a JSON object")
            .insert("ref".to_owned(), Value::from(reference));
        self.send(&value);
    }

    /// The next frame, or `None` if nothing came within the timeout. After the close, every
    /// call returns the close again.
    pub async fn receive(&mut self) -> Option<Frame> {
        self.receive_within(self.timeout).await
    }

    /// As [`receive`](Self::receive), waiting at most `wait`.
    pub async fn receive_within(&mut self, wait: Duration) -> Option<Frame> {
        if let Some(closed) = &self.closed {
            return Some(closed.clone());
        }
        let frame = match tokio::time::timeout(wait, self.from_server.recv()).await {
            Err(_) => return None,
            Ok(Some(frame)) => frame,
            Ok(None) => Frame::Closed(None),
        };
        if let Frame::Closed(_) = frame {
            self.closed = Some(frame.clone());
        }
        Some(frame)
    }

    /// The next text frame.
    ///
    /// # Panics
    /// On a timeout or a close.
    pub async fn receive_text(&mut self) -> String {
        match self.receive().await {
            Some(Frame::Text(text)) => text,
            Some(Frame::Closed(code)) => {
                panic!("expected a frame, the connection closed ({code:?})")
            }
            None => panic!("expected a frame, none came within {:?}", self.timeout),
        }
    }

    /// The next text frame as JSON.
    ///
    /// # Panics
    /// On a timeout, a close, or a frame that is not JSON.
    pub async fn receive_json(&mut self) -> Value {
        let text = self.receive_text().await;
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    /// The next text frame decoded as `T` (for example the channel's `ServerMessage`).
    ///
    /// # Panics
    /// On a timeout, a close, or a frame that does not decode.
    pub async fn receive_message<T: DeserializeOwned>(&mut self) -> T {
        let text = self.receive_text().await;
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("not the expected type ({e}): {text}"))
    }

    /// Every frame, as JSON, until one whose `action` is `stop_action` (Chanx's
    /// `receive_all_messages`): completion frames (`complete`, `group_complete`,
    /// `event_complete`) are left out. Stops early at a close or a timeout.
    pub async fn receive_until(&mut self, stop_action: &str) -> Vec<Value> {
        let mut frames = Vec::new();
        while let Some(Frame::Text(text)) = self.receive().await {
            let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            let action = value.get("action").and_then(Value::as_str).unwrap_or("");
            if action == stop_action {
                break;
            }
            if !matches!(action, "complete" | "group_complete" | "event_complete") {
                frames.push(value);
            }
        }
        frames
    }

    /// Every text frame, as JSON, that arrives until `quiet` passes without one (Chanx's
    /// `receive_all_json`).
    pub async fn receive_all(&mut self, quiet: Duration) -> Vec<Value> {
        let mut frames = Vec::new();
        while let Some(Frame::Text(text)) = self.receive_within(quiet).await {
            frames.push(serde_json::from_str(&text).unwrap_or(Value::String(text)));
        }
        frames
    }

    /// Whether nothing arrives within `quiet`.
    pub async fn receive_nothing(&mut self, quiet: Duration) -> bool {
        self.receive_within(quiet).await.is_none()
    }

    /// Waits for the close and returns its code, skipping text frames.
    ///
    /// # Panics
    /// When the connection does not close within the timeout.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            match self.receive().await {
                Some(Frame::Closed(code)) => return code,
                Some(Frame::Text(_)) => {}
                None => panic!("the connection did not close within {:?}", self.timeout),
            }
        }
    }

    /// Asserts that the connection closes (skipping text frames) with `code`.
    ///
    /// # Panics
    /// When it does not close, or closes with another code.
    pub async fn assert_closed(&mut self, code: u16) {
        assert_eq!(self.closed().await, Some(code), "close code");
    }

    /// Disconnects as a client does, and waits for the connection loop to finish (it leaves its
    /// groups on the way out).
    pub async fn disconnect(self) {
        let _ = self.to_server.send(ClientEvent::Closed);
        let _ = self.task.await;
    }

    /// Cancels the connection task abruptly (as a runtime shutting down would); its groups are
    /// still left, from a task of their own.
    pub async fn abort(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

//! A typed WebSocket client for one channel (feature `client`): send the channel's client
//! messages, receive its server messages (and Chanx's error, authentication and completion
//! frames) as [`ServerFrame`]s.
//!
//! ```no_run
//! # async fn run() -> Result<(), chanx_runtime::client::ClientError> {
//! use chanx_runtime::client::Client;
//! # #[derive(serde::Serialize)] struct ClientMessage;
//! # #[derive(serde::Deserialize, Debug)] struct ServerMessage;
//! let mut client: Client<ClientMessage, ServerMessage> =
//!     Client::builder("ws://127.0.0.1:8000/ws/chat/lobby").query("token", "t").connect().await?;
//! client.send(&ClientMessage).await?;
//! while let Some(frame) = client.recv().await? {
//!     println!("{frame:?}");
//! }
//! # Ok(()) }
//! ```
//!
//! Only `ws://` URLs: TLS would need a TLS feature of `tokio-tungstenite`, left out to keep the
//! dependency tree small.

use std::fmt;
use std::marker::PhantomData;

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::frame::ServerFrame;
use crate::server::handshake::encode;

/// The bytes the client reads from its socket at a time (the buffer grows for larger frames).
const READ_BUFFER: usize = 8 * 1024;

/// What can go wrong with a [`Client`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL, a header, or the opening handshake was refused; holds the reason.
    Connect(String),
    /// Reading or writing the socket failed; holds the reason.
    Transport(String),
    /// A message did not serialize; holds the reason.
    Encode(String),
    /// A frame other than the one asked for arrived; holds its text.
    UnexpectedFrame(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect(reason) => write!(f, "could not connect: {reason}"),
            Self::Transport(reason) => write!(f, "websocket error: {reason}"),
            Self::Encode(reason) => write!(f, "message did not encode: {reason}"),
            Self::UnexpectedFrame(text) => write!(f, "unexpected frame: {text}"),
        }
    }
}

impl std::error::Error for ClientError {}

fn transport(error: tungstenite::Error) -> ClientError {
    ClientError::Transport(error.to_string())
}

/// How to connect a [`Client`] (from [`Client::builder`]).
pub struct ClientBuilder<C, S> {
    url: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    max_frame_size: usize,
    types: PhantomData<fn(C) -> S>,
}

impl<C, S> fmt::Debug for ClientBuilder<C, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("url", &self.url)
            .field("query", &self.query)
            .field("headers", &self.headers)
            .field("max_frame_size", &self.max_frame_size)
            .finish()
    }
}

impl<C, S> ClientBuilder<C, S> {
    /// Adds a query parameter (encoded here).
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a request header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The largest server frame accepted (default 16 MiB).
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Opens the connection.
    ///
    /// # Errors
    /// [`ClientError::Connect`] for a bad URL or header, or a refused handshake.
    pub async fn connect(self) -> Result<Client<C, S>, ClientError> {
        let mut url = self.url;
        for (i, (name, value)) in self.query.iter().enumerate() {
            let separator = if i == 0 && !url.contains('?') {
                '?'
            } else {
                '&'
            };
            url.push(separator);
            url.push_str(&encode(name));
            url.push('=');
            url.push_str(&encode(value));
        }
        let mut request = url
            .into_client_request()
            .map_err(|e| ClientError::Connect(e.to_string()))?;
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| ClientError::Connect(e.to_string()))?;
            let value =
                HeaderValue::from_str(value).map_err(|e| ClientError::Connect(e.to_string()))?;
            request.headers_mut().append(name, value);
        }
        // Tungstenite's default read buffer (128 KiB) is zero-filled before every socket read.
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .max_message_size(Some(self.max_frame_size))
            .max_frame_size(Some(self.max_frame_size));
        let (stream, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
            .await
            .map_err(|e| ClientError::Connect(e.to_string()))?;
        Ok(Client {
            stream,
            close: None,
            types: PhantomData,
        })
    }
}

/// A WebSocket connection to one channel: sends `C` (the channel's `ClientMessage`), receives
/// `S` (its `ServerMessage`).
pub struct Client<C, S> {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    close: Option<Option<u16>>,
    types: PhantomData<fn(C) -> S>,
}

impl<C, S> fmt::Debug for Client<C, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("closed", &self.close)
            .finish_non_exhaustive()
    }
}

impl<C: Serialize, S: DeserializeOwned> Client<C, S> {
    /// How to connect to `url` (`ws://host:port/path`).
    pub fn builder(url: &str) -> ClientBuilder<C, S> {
        ClientBuilder {
            url: url.to_owned(),
            query: Vec::new(),
            headers: Vec::new(),
            max_frame_size: 16 << 20,
            types: PhantomData,
        }
    }

    /// Connects to `url` with no extra query or headers.
    ///
    /// # Errors
    /// As [`ClientBuilder::connect`].
    pub async fn connect(url: &str) -> Result<Self, ClientError> {
        Self::builder(url).connect().await
    }

    /// Sends `message` as a JSON text frame.
    ///
    /// # Errors
    /// When it does not serialize, or the socket fails.
    pub async fn send(&mut self, message: &C) -> Result<(), ClientError> {
        let text =
            serde_json::to_string(message).map_err(|e| ClientError::Encode(e.to_string()))?;
        self.send_text(&text).await
    }

    /// Sends `message` with the envelope key `"ref": reference`, which every answer echoes.
    ///
    /// # Errors
    /// When it does not serialize to a JSON object, or the socket fails.
    pub async fn send_with_ref(&mut self, message: &C, reference: &str) -> Result<(), ClientError> {
        let mut value =
            serde_json::to_value(message).map_err(|e| ClientError::Encode(e.to_string()))?;
        let Some(object) = value.as_object_mut() else {
            return Err(ClientError::Encode(
                "the message is not a JSON object".to_owned(),
            ));
        };
        object.insert("ref".to_owned(), Value::from(reference));
        self.send_text(&value.to_string()).await
    }

    /// Sends a text frame as is.
    ///
    /// # Errors
    /// When the socket fails.
    pub async fn send_text(&mut self, text: &str) -> Result<(), ClientError> {
        self.stream
            .send(Message::text(text))
            .await
            .map_err(transport)
    }

    /// Sends a binary frame.
    ///
    /// # Errors
    /// When the socket fails.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) -> Result<(), ClientError> {
        self.stream
            .send(Message::binary(bytes))
            .await
            .map_err(transport)
    }

    /// The next text frame, or `None` once the connection is closed (see
    /// [`close_code`](Self::close_code)).
    ///
    /// # Errors
    /// When the socket fails.
    pub async fn recv_text(&mut self) -> Result<Option<String>, ClientError> {
        if self.close.is_some() {
            return Ok(None);
        }
        loop {
            match self.stream.next().await {
                Some(Ok(Message::Text(text))) => return Ok(Some(text.as_str().to_owned())),
                Some(Ok(Message::Close(frame))) => {
                    self.close = Some(frame.map(|frame| u16::from(frame.code)));
                    return Ok(None);
                }
                None => {
                    self.close = Some(None);
                    return Ok(None);
                }
                Some(Ok(_)) => {}
                Some(Err(
                    tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed,
                )) => {
                    self.close.get_or_insert(None);
                    return Ok(None);
                }
                Some(Err(error)) => return Err(transport(error)),
            }
        }
    }

    /// The next frame, decoded; `None` once the connection is closed.
    ///
    /// # Errors
    /// When the socket fails.
    pub async fn recv(&mut self) -> Result<Option<ServerFrame<S>>, ClientError> {
        Ok(self
            .recv_text()
            .await?
            .map(|text| ServerFrame::parse(&text)))
    }

    /// The next channel message, skipping completion signals.
    ///
    /// # Errors
    /// [`ClientError::UnexpectedFrame`] for any other frame or the close; socket failures.
    pub async fn recv_message(&mut self) -> Result<S, ClientError> {
        loop {
            let Some(text) = self.recv_text().await? else {
                return Err(ClientError::UnexpectedFrame(format!(
                    "the connection closed ({:?})",
                    self.close_code()
                )));
            };
            match ServerFrame::<S>::parse(&text) {
                ServerFrame::Message { message, .. } => return Ok(message),
                frame if frame.is_completion() => {}
                _ => return Err(ClientError::UnexpectedFrame(text)),
            }
        }
    }

    /// The close code the server sent, once closed (`None` while open or without a code).
    pub fn close_code(&self) -> Option<u16> {
        self.close.flatten()
    }

    /// Closes the connection normally (1000) and waits for the server's close.
    ///
    /// # Errors
    /// When the socket fails.
    pub async fn close(mut self) -> Result<(), ClientError> {
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        match self.stream.close(Some(frame)).await {
            Ok(()) | Err(tungstenite::Error::ConnectionClosed) => {}
            Err(error) => return Err(transport(error)),
        }
        while self.recv_text().await?.is_some() {}
        Ok(())
    }
}

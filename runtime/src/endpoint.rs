//! [`Endpoint`]: one channel of a spec as a server sees it.
//!
//! `chanx-gen generate` implements this trait for every channel's `…Dispatcher`, so a server (the
//! axum integration, the in-process test communicator, `chanx-gen mock`) can serve any generated
//! consumer through `Arc<dyn Endpoint>` without knowing its types. [`ChannelInfo`] carries what the
//! spec says about the channel that matters at connect time: its address and how clients
//! authenticate.

use serde_json::Value;

use crate::context::Context;
use crate::layer::BoxFuture;

/// Where a security scheme's credential travels in the WebSocket handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    /// A query parameter with this name (`httpApiKey`/`apiKey` with `in: query`).
    Query(&'static str),
    /// A request header with this name (`httpApiKey` with `in: header`).
    Header(&'static str),
    /// A cookie with this name (`httpApiKey` with `in: cookie`).
    Cookie(&'static str),
    /// `Authorization: Bearer <token>` (`http` with scheme `bearer`).
    Bearer,
    /// `Authorization: Basic <credentials>` (`http` with scheme `basic`).
    Basic,
    /// A scheme the handshake cannot carry directly (oauth2, X509, ...), by its AsyncAPI `type`.
    Other(&'static str),
}

/// A security scheme a client may satisfy to connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityScheme {
    /// Its key in the spec's `components.securitySchemes`.
    pub key: &'static str,
    /// Where its credential travels.
    pub source: CredentialSource,
}

/// What the spec says about a channel, for serving it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelInfo {
    /// The channel's key in the spec.
    pub key: &'static str,
    /// The address template (`/ws/chat/{room_name}`), if the spec gives one.
    pub address: Option<&'static str>,
    /// The security schemes a client may satisfy to connect; empty when the channel is open.
    pub security: &'static [SecurityScheme],
}

/// A channel's frame and event handling, as generated `…Dispatcher` types implement it.
///
/// The methods never fail: every problem becomes a frame to the client (or, for events that do
/// not decode, is dropped as Chanx does).
pub trait Endpoint: Send + Sync + 'static {
    /// What the spec says about the channel.
    fn info(&self) -> &'static ChannelInfo;

    /// Handles one text frame from the client: decode, validate, call the handler, reply.
    fn handle_text<'a>(&'a self, cx: &'a Context, text: &'a str) -> BoxFuture<'a, ()>;

    /// Handles the `event_data` of a `handle_channel_event` layer message sent to the connection;
    /// resolves to whether it was one of the channel's events (decoded and valid), after which
    /// Chanx sends `event_complete` when completion signals are on.
    fn handle_event<'a>(&'a self, cx: &'a Context, event_data: Value) -> BoxFuture<'a, bool>;
}

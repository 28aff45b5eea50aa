//! Serving generated endpoints: the connection loop, authentication, groups, graceful shutdown,
//! the axum 0.8 integration and an in-process [`Communicator`] for tests.
//!
//! ```no_run
//! # #[cfg(feature = "server")]
//! # async fn run(dispatcher: impl chanx_runtime::endpoint::Endpoint) -> std::io::Result<()> {
//! use std::sync::Arc;
//! use chanx_runtime::memory::InMemoryLayer;
//! use chanx_runtime::server::Server;
//!
//! let server = Server::new(Arc::new(InMemoryLayer::new())).endpoint(dispatcher);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! server.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```
//!
//! Every connection, whether it arrived through axum or through a [`Communicator`], runs the same
//! loop: accept; authenticate; join the route's groups; run the `on_connect` hook; then, until
//! either side closes, handle client frames (each in its own task, at most
//! [`ServerOptions::max_concurrent_handlers`] at a time), layer messages (channel events, group
//! relays) and the frames handlers queue; finally leave every group.

mod auth;
#[cfg(feature = "server")]
mod axum;
mod communicator;
mod connection;
pub(crate) mod handshake;
#[cfg(feature = "server")]
mod websocket;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::Notify;

use crate::context::{Context, Outbound, Queue};
use crate::endpoint::Endpoint;
use crate::layer::{BoxFuture, ChannelLayer};

pub use auth::{AuthRequest, Authenticator, CLOSE_UNAUTHENTICATED, Denied, Identity};
pub use communicator::{Communicator, CommunicatorBuilder, Frame, NoRoute};
pub use handshake::Handshake;

use handshake::Template;

/// Close code of a connection closed because the server is going away.
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code of a connection whose server failed (layer or hook failure).
pub const CLOSE_INTERNAL_ERROR: u16 = 1011;
/// Close code of a connection that sent a frame over [`ServerOptions::max_frame_size`].
pub const CLOSE_TOO_BIG: u16 = 1009;

/// How connections behave; the defaults are Chanx's (no completion signals, snake_case keys).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerOptions {
    /// The largest client frame (bytes of text or binary) accepted; a larger one closes the
    /// connection with 1009. Default 1 MiB.
    pub max_frame_size: usize,
    /// How many client frames of one connection are handled at the same time (Chanx starts a
    /// task per frame, without a bound); reading pauses while the bound is reached. Default 32.
    pub max_concurrent_handlers: usize,
    /// Send `complete` after each client frame, `group_complete` after each relayed group
    /// message and `event_complete` after each channel event (Chanx's `send_completion`).
    pub send_completion: bool,
    /// camelCase keys on the wire: incoming frames are decamelized, outgoing ones camelized
    /// (keys only, as Chanx's `camelize`).
    pub camelize: bool,
    /// Send the `authentication` frame after authenticating, on success and on failure (as
    /// Chanx's Django authenticator with `SEND_AUTHENTICATION_MESSAGE`). Default off, as Chanx's
    /// base authenticator.
    pub send_authentication_message: bool,
    /// How long [`ShutdownHandle::shutdown`] waits for connections to finish closing.
    pub shutdown_timeout: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            max_frame_size: 1 << 20,
            max_concurrent_handlers: 32,
            send_completion: false,
            camelize: false,
            send_authentication_message: false,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

impl ServerOptions {
    /// These options with [`max_frame_size`](Self::max_frame_size) set.
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// These options with [`max_concurrent_handlers`](Self::max_concurrent_handlers) set (at
    /// least 1).
    pub fn max_concurrent_handlers(mut self, handlers: usize) -> Self {
        self.max_concurrent_handlers = handlers.max(1);
        self
    }

    /// These options with [`send_completion`](Self::send_completion) set.
    pub fn send_completion(mut self, on: bool) -> Self {
        self.send_completion = on;
        self
    }

    /// These options with [`camelize`](Self::camelize) set.
    pub fn camelize(mut self, on: bool) -> Self {
        self.camelize = on;
        self
    }

    /// These options with [`send_authentication_message`](Self::send_authentication_message)
    /// set.
    pub fn send_authentication_message(mut self, on: bool) -> Self {
        self.send_authentication_message = on;
        self
    }

    /// These options with [`shutdown_timeout`](Self::shutdown_timeout) set.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }
}

type GroupsFn = dyn Fn(&Context) -> Vec<String> + Send + Sync;
type HookFn = dyn Fn(Context) -> BoxFuture<'static, ()> + Send + Sync;

/// One endpoint served at one address, with its authenticator, groups and connect hook.
#[derive(Clone)]
pub struct Route {
    endpoint: Arc<dyn Endpoint>,
    template: Template,
    authenticator: Option<Arc<dyn Authenticator>>,
    groups: Option<Arc<GroupsFn>>,
    on_connect: Option<Arc<HookFn>>,
}

impl Route {
    /// Serves `endpoint` at the address of its channel (`/` + the channel key when the spec
    /// gives no address).
    pub fn new(endpoint: impl Endpoint) -> Self {
        let info = endpoint.info();
        let address = info
            .address
            .map_or_else(|| format!("/{}", info.key), str::to_owned);
        Self {
            endpoint: Arc::new(endpoint),
            template: Template::parse(&address),
            authenticator: None,
            groups: None,
            on_connect: None,
        }
    }

    /// Serves the endpoint at `address` instead (a template such as `/chat/{room_name}`).
    pub fn at(mut self, address: &str) -> Self {
        self.template = Template::parse(address);
        self
    }

    /// Authenticates connections with `authenticator` (instead of the server's).
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticator = Some(Arc::new(authenticator));
        self
    }

    /// The groups a connection joins once authenticated (Chanx's `groups` / `build_groups`),
    /// computed from its context (path parameters, user). They are left on disconnect.
    pub fn groups<F>(mut self, groups: F) -> Self
    where
        F: Fn(&Context) -> Vec<String> + Send + Sync + 'static,
    {
        self.groups = Some(Arc::new(groups));
        self
    }

    /// Runs `hook` once the connection is authenticated and in its groups (Chanx's
    /// `post_authentication`), before any client frame is handled.
    pub fn on_connect<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_connect = Some(Arc::new(move |cx| Box::pin(hook(cx))));
        self
    }

    /// The path this route is served at, in axum's syntax.
    pub fn path(&self) -> &str {
        self.template.route()
    }
}

impl<E: Endpoint> From<E> for Route {
    fn from(endpoint: E) -> Self {
        Route::new(endpoint)
    }
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("path", &self.path())
            .field("channel", &self.endpoint.info().key)
            .finish_non_exhaustive()
    }
}

/// Live connections and the shutdown signal, shared by the server and its connections.
struct Lifecycle {
    /// The connections to tell when shutting down.
    connections: Mutex<Connections>,
    live: AtomicUsize,
    idle: Notify,
}

/// The shutdown signal and the queues of the connections it must reach: one lock, so that a
/// connection registering while the server shuts down is either told by the shutdown or told
/// at once.
#[derive(Default)]
struct Connections {
    shutting_down: bool,
    /// The frame queues of open connections (and of closed ones not pruned yet). A connection
    /// is told to close through its queue, which costs it nothing while idle (a subscription to
    /// a signal would keep a waiting future in every connection's task).
    queues: Vec<Weak<Queue>>,
}

/// Counts a connection as live until dropped.
struct LiveGuard(Arc<Lifecycle>);

impl Lifecycle {
    fn enter(self: &Arc<Self>) -> LiveGuard {
        self.live.fetch_add(1, Ordering::SeqCst);
        LiveGuard(Arc::clone(self))
    }

    fn connections(&self) -> MutexGuard<'_, Connections> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn is_shutting_down(&self) -> bool {
        self.connections().shutting_down
    }

    /// Registers a connection's queue, to be sent a close with 1001 at shutdown (at once if
    /// the server is already shutting down).
    fn register(&self, queue: Weak<Queue>) {
        let mut connections = self.connections();
        if connections.shutting_down {
            drop(connections);
            if let Some(queue) = queue.upgrade() {
                let _ = queue.push(Outbound::Close(CLOSE_GOING_AWAY));
            }
            return;
        }
        let queues = &mut connections.queues;
        if queues.len() == queues.capacity() {
            // Pruned when full, before growing: amortized, and at most as many entries of
            // closed connections as of open ones.
            queues.retain(|queue| queue.strong_count() > 0);
        }
        queues.push(queue);
    }

    /// Signals shutdown: every registered connection is sent a close with 1001.
    fn signal_shutdown(&self) {
        let queues = {
            let mut connections = self.connections();
            connections.shutting_down = true;
            std::mem::take(&mut connections.queues)
        };
        for queue in queues.iter().filter_map(Weak::upgrade) {
            let _ = queue.push(Outbound::Close(CLOSE_GOING_AWAY));
        }
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        if self.0.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// What every connection of a server shares.
struct Shared {
    layer: Arc<dyn ChannelLayer>,
    options: ServerOptions,
    authenticator: Option<Arc<dyn Authenticator>>,
    lifecycle: Arc<Lifecycle>,
}

/// Serves endpoints: build it with [`Server::new`] and [`Server::endpoint`], then mount
/// [`Server::router`] (or call [`Server::serve`]), or connect a [`Communicator`] in tests.
#[derive(Clone)]
pub struct Server {
    layer: Arc<dyn ChannelLayer>,
    options: ServerOptions,
    authenticator: Option<Arc<dyn Authenticator>>,
    routes: Vec<Route>,
    lifecycle: Arc<Lifecycle>,
}

impl Server {
    /// A server whose connections use `layer`.
    pub fn new(layer: Arc<dyn ChannelLayer>) -> Self {
        Self {
            layer,
            options: ServerOptions::default(),
            authenticator: None,
            routes: Vec::new(),
            lifecycle: Arc::new(Lifecycle {
                connections: Mutex::default(),
                live: AtomicUsize::new(0),
                idle: Notify::new(),
            }),
        }
    }

    /// Serves an endpoint (a generated `…Dispatcher`, or a [`Route`] around one).
    pub fn endpoint(mut self, route: impl Into<Route>) -> Self {
        self.routes.push(route.into());
        self
    }

    /// Authenticates the connections of every route that has no authenticator of its own.
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticator = Some(Arc::new(authenticator));
        self
    }

    /// Sets the connection options.
    pub fn options(mut self, options: ServerOptions) -> Self {
        self.options = options;
        self
    }

    /// The routes served, in the order added.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The channel layer.
    pub fn layer(&self) -> &Arc<dyn ChannelLayer> {
        &self.layer
    }

    /// A handle that shuts the server's connections down.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            lifecycle: Arc::clone(&self.lifecycle),
            timeout: self.options.shutdown_timeout,
        }
    }

    /// How many connections are open.
    pub fn live_connections(&self) -> usize {
        self.lifecycle.live.load(Ordering::SeqCst)
    }

    fn shared(&self) -> Arc<Shared> {
        Arc::new(Shared {
            layer: Arc::clone(&self.layer),
            options: self.options.clone(),
            authenticator: self.authenticator.clone(),
            lifecycle: Arc::clone(&self.lifecycle),
        })
    }

    /// A connection in process, without a network (see [`Communicator`]).
    pub fn communicator(&self, path: &str) -> CommunicatorBuilder {
        CommunicatorBuilder::new(self.shared(), self.routes.clone(), path)
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("routes", &self.routes)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Shuts a server's connections down: each is closed with 1001 and leaves its groups.
#[derive(Clone)]
pub struct ShutdownHandle {
    lifecycle: Arc<Lifecycle>,
    timeout: Duration,
}

impl ShutdownHandle {
    /// Signals every connection (and every later one) to close with 1001, then waits until all
    /// have finished closing (at most [`ServerOptions::shutdown_timeout`]). Returns whether
    /// they all did.
    pub async fn shutdown(&self) -> bool {
        self.lifecycle.signal_shutdown();
        let all_closed = async {
            loop {
                let idle = self.lifecycle.idle.notified();
                if self.lifecycle.live.load(Ordering::SeqCst) == 0 {
                    return;
                }
                idle.await;
            }
        };
        tokio::time::timeout(self.timeout, all_closed).await.is_ok()
    }

    /// Whether shutdown has been signalled.
    pub fn is_shutting_down(&self) -> bool {
        self.lifecycle.is_shutting_down()
    }
}

impl std::fmt::Debug for ShutdownHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShutdownHandle")
            .field("shutting_down", &self.is_shutting_down())
            .field("live", &self.lifecycle.live.load(Ordering::SeqCst))
            .finish()
    }
}

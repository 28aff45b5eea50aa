//! The axum 0.8 integration: one WebSocket route per endpoint.

use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite;

use super::connection::{ClientEvent, Transport, run};
use super::handshake::Handshake;
use super::{Route, Server, Shared};

/// How long a closing connection waits for the client's side of the closing handshake.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// Frames are written to the socket once this many bytes are buffered, and at every flush: the
/// loop flushes after the frames queued at the time, so that several go out in one write.
const WRITE_BUFFER: usize = 16 * 1024;

/// An upgraded axum WebSocket.
struct AxumTransport {
    socket: WebSocket,
    /// Whether reading failed (then the stream has ended, unread bytes may remain).
    broken: bool,
}

impl Transport for AxumTransport {
    async fn recv(&mut self) -> ClientEvent {
        loop {
            return match self.socket.recv().await {
                Some(Ok(Message::Text(text))) => ClientEvent::Text(text.as_str().to_owned()),
                Some(Ok(Message::Binary(bytes))) => ClientEvent::Binary(bytes.len()),
                // tungstenite answers pings itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_))) => {
                    // Reading again writes tungstenite's queued close reply. (Boxed: the timer
                    // would otherwise enlarge every connection's task by its size.)
                    let _ = Box::pin(tokio::time::timeout(CLOSE_WAIT, self.socket.recv())).await;
                    ClientEvent::Closed
                }
                None => ClientEvent::Closed,
                Some(Err(error)) => {
                    // The stream ends after an error: nothing more can be read.
                    self.broken = true;
                    match error.into_inner().downcast::<tungstenite::Error>() {
                        Ok(error) if matches!(*error, tungstenite::Error::Capacity(_)) => {
                            ClientEvent::TooLarge
                        }
                        _ => ClientEvent::Closed,
                    }
                }
            };
        }
    }

    async fn send_text(&mut self, text: String) -> bool {
        // Buffered (up to `WRITE_BUFFER`) until `flush`.
        self.socket.feed(Message::Text(text.into())).await.is_ok()
    }

    async fn flush(&mut self) -> bool {
        SinkExt::flush(&mut self.socket).await.is_ok()
    }

    async fn close(&mut self, code: u16) {
        let frame = CloseFrame {
            code,
            reason: "".into(),
        };
        if self.socket.send(Message::Close(Some(frame))).await.is_err() {
            return;
        }
        if self.broken {
            // Unread bytes would make closing the socket reset it, and the client could lose
            // the close frame: give it time to read it.
            tokio::time::sleep(CLOSE_WAIT / 2).await;
            return;
        }
        // The closing handshake: wait for the client's close (reading what it still sends), so
        // that the socket is not reset under the close frame.
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            while let Some(Ok(message)) = self.socket.recv().await {
                if let Message::Close(_) = message {
                    break;
                }
            }
        })
        .await;
    }
}

async fn upgrade(
    shared: Arc<Shared>,
    route: Route,
    upgrade: WebSocketUpgrade,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Some(params) = route.template.matches(uri.path()) else {
        // axum routed it here, so the template matches; keep the loop total anyway.
        return StatusCode::NOT_FOUND.into_response();
    };
    let headers = headers.iter().filter_map(|(name, value)| {
        Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
    });
    let handshake = Handshake::new(
        uri.path(),
        uri.query().unwrap_or(""),
        headers.collect::<Vec<_>>(),
    )
    .with_path_params(params);
    // Tungstenite refuses larger frames itself (so they are never buffered); one byte of slack
    // lets the loop see frames of exactly the limit.
    let limit = shared.options.max_frame_size.saturating_add(1);
    upgrade
        .max_message_size(limit)
        .max_frame_size(limit)
        // Tungstenite's default read buffer is 128 KiB, zero-filled up to its capacity before
        // every socket read and kept by an idle connection: `read_buffer_size` (1 KiB) instead.
        .read_buffer_size(shared.options.read_buffer_size)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| {
            run(
                AxumTransport {
                    socket,
                    broken: false,
                },
                shared,
                route,
                handshake,
            )
        })
}

impl Server {
    /// An axum [`Router`] with one WebSocket route per endpoint, at its address.
    pub fn router(&self) -> Router {
        let shared = self.shared();
        let mut router = Router::new();
        for route in &self.routes {
            let shared = Arc::clone(&shared);
            let route = route.clone();
            let path = route.template.route().to_owned();
            router = router.route(
                &path,
                get(move |ws: WebSocketUpgrade, uri: Uri, headers: HeaderMap| {
                    upgrade(Arc::clone(&shared), route.clone(), ws, uri, headers)
                }),
            );
        }
        router
    }

    /// Serves [`Server::router`] on `listener` until `signal` completes, then shuts down
    /// gracefully: no new connections, every open one closed with 1001 (leaving its groups),
    /// waiting at most [`ServerOptions::shutdown_timeout`](super::ServerOptions::shutdown_timeout).
    ///
    /// # Errors
    /// When accepting connections fails.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let handle = self.shutdown_handle();
        let (stopped, stop) = tokio::sync::oneshot::channel::<()>();
        let graceful = async move {
            signal.await;
            let _ = stopped.send(());
        };
        // Frames are small and written whole: no Nagle delay behind an unacknowledged one.
        let listener = listener.tap_io(|socket| {
            let _ = socket.set_nodelay(true);
        });
        let serving = axum::serve(listener, self.router()).with_graceful_shutdown(graceful);
        let sockets = async move {
            // Upgraded sockets are not the HTTP server's any more: close them here.
            if stop.await.is_ok() {
                handle.shutdown().await;
            }
        };
        let (served, ()) = tokio::join!(serving.into_future(), sockets);
        served
    }
}

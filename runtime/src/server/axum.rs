//! The axum 0.8 integration: one WebSocket route per endpoint.

use std::future::{Future, IntoFuture};
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::connection::run;
use super::handshake::Handshake;
use super::websocket::WebSocket;
use super::{Route, Server, Shared};

/// Whether `name`'s value is `expected`, in any case.
fn header_is(headers: &HeaderMap, name: HeaderName, expected: &str) -> bool {
    headers
        .get(name)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(expected.as_bytes()))
}

/// A refused opening handshake: its status and the reason.
type Refusal = (StatusCode, &'static str);

/// Checks the opening handshake as axum's `WebSocketUpgrade` does (with the same statuses);
/// the `Sec-WebSocket-Accept` value and the upgrade to wait for.
fn accept(request: &mut Request) -> Result<(HeaderValue, OnUpgrade), Refusal> {
    let headers = request.headers();
    if request.method() != Method::GET {
        return Err((
            StatusCode::METHOD_NOT_ALLOWED,
            "a WebSocket handshake is a GET",
        ));
    }
    // `Connection` may list other options besides `upgrade` (`keep-alive, Upgrade`).
    let connection_upgrade = headers
        .get(header::CONNECTION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().contains("upgrade"));
    if !connection_upgrade {
        return Err((
            StatusCode::BAD_REQUEST,
            "`Connection` must include `upgrade`",
        ));
    }
    if !header_is(headers, header::UPGRADE, "websocket") {
        return Err((StatusCode::BAD_REQUEST, "`Upgrade` must be `websocket`"));
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return Err((StatusCode::BAD_REQUEST, "`Sec-WebSocket-Key` is missing"));
    };
    if !header_is(headers, header::SEC_WEBSOCKET_VERSION, "13") {
        return Err((
            StatusCode::BAD_REQUEST,
            "`Sec-WebSocket-Version` must be 13",
        ));
    }
    // Base64, always a valid header value.
    let accept_key = HeaderValue::try_from(derive_accept_key(key.as_bytes()))
        .map_err(|_| (StatusCode::BAD_REQUEST, "bad `Sec-WebSocket-Key`"))?;
    let on_upgrade = request.extensions_mut().remove::<OnUpgrade>().ok_or((
        StatusCode::UPGRADE_REQUIRED,
        "this connection cannot be upgraded",
    ))?;
    Ok((accept_key, on_upgrade))
}

/// Answers an opening handshake: the 101 response (no subprotocol chosen, as in Chanx), and the
/// connection's task, started once hyper hands the connection over.
async fn upgrade(shared: Arc<Shared>, route: Arc<Route>, mut request: Request) -> Response {
    let (accept_key, on_upgrade) = match accept(&mut request) {
        Ok(accepted) => accepted,
        Err(refusal) => return refusal.into_response(),
    };
    let uri = request.uri();
    let Some(params) = route.template.matches(uri.path()) else {
        // axum routed it here, so the template matches; keep the loop total anyway.
        return StatusCode::NOT_FOUND.into_response();
    };
    let headers = request.headers().iter().filter_map(|(name, value)| {
        Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
    });
    let handshake = Box::new(
        Handshake::new(
            uri.path(),
            uri.query().unwrap_or(""),
            headers.collect::<Vec<_>>(),
        )
        .with_path_params(params),
    );
    tokio::spawn(async move {
        // In a block, so that the task keeps no room for the upgrade's result while the
        // connection runs.
        let connection = {
            // Fails when the client went away before the response reached it.
            let Ok(upgraded) = on_upgrade.await else {
                return;
            };
            let limit = shared.options.max_frame_size;
            run(
                WebSocket::new(TokioIo::new(upgraded), limit),
                shared,
                route,
                handshake,
            )
        };
        connection.await;
    });
    let headers = [
        (header::CONNECTION, HeaderValue::from_static("upgrade")),
        (header::UPGRADE, HeaderValue::from_static("websocket")),
        (header::SEC_WEBSOCKET_ACCEPT, accept_key),
    ];
    (StatusCode::SWITCHING_PROTOCOLS, headers).into_response()
}

impl Server {
    /// An axum [`Router`] with one WebSocket route per endpoint, at its address.
    pub fn router(&self) -> Router {
        let shared = self.shared();
        let mut router = Router::new();
        for route in &self.routes {
            let shared = Arc::clone(&shared);
            // Shared by the route's connections: each holds a pointer, not a copy.
            let route = Arc::new(route.clone());
            let path = route.template.route().to_owned();
            router = router.route(
                &path,
                get(move |request: Request| {
                    upgrade(Arc::clone(&shared), Arc::clone(&route), request)
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

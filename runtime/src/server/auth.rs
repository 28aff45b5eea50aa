//! Authentication at connect, as Chanx does it: the socket is accepted first, then the
//! [`Authenticator`] runs; on failure the connection is closed with `4000 + status` (4401 when
//! the status is not an HTTP error status).

use std::future::Future;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::context::Context;
use crate::endpoint::{ChannelInfo, SecurityScheme};
use crate::layer::BoxFuture;

use super::handshake::Handshake;

/// Chanx's `CLOSE_UNAUTHENTICATED`: the close code when authentication fails without an HTTP
/// error status.
pub const CLOSE_UNAUTHENTICATED: u16 = 4401;

/// What an [`Authenticator`] is given for one connection.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    /// The handshake: path, path parameters, query, headers, cookies.
    pub handshake: Arc<Handshake>,
    /// The channel being connected to (its security schemes say where credentials travel).
    pub info: &'static ChannelInfo,
    /// The connection's context: frames sent through it reach the client before the close.
    pub cx: Context,
}

impl AuthRequest {
    /// The first credential presented for one of the channel's security schemes (Chanx:
    /// "any one suffices"), with its scheme.
    pub fn credential(&self) -> Option<(&'static SecurityScheme, &str)> {
        self.info
            .security
            .iter()
            .find_map(|scheme| Some((scheme, self.handshake.credential(scheme)?)))
    }

    /// The credential presented for the security scheme with key `key`, if any.
    pub fn credential_for(&self, key: &str) -> Option<&str> {
        let scheme = self.info.security.iter().find(|s| s.key == key)?;
        self.handshake.credential(scheme)
    }
}

/// A successful authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// What to record as the connection's user ([`Context::user`]), if anything.
    pub user: Option<Value>,
    /// The `data` of the `authentication` frame, when the server sends one
    /// (`{"detail": "OK"}` by default, as Chanx's Django authenticator).
    pub data: Value,
}

impl Identity {
    /// Accepts the connection without recording a user.
    pub fn anonymous() -> Self {
        Self {
            user: None,
            data: json!({"detail": "OK"}),
        }
    }

    /// Accepts the connection as `user`.
    pub fn user(user: Value) -> Self {
        Self {
            user: Some(user),
            ..Self::anonymous()
        }
    }

    /// This identity with the `authentication` frame's `data` set to `data`.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }
}

/// A refused authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The HTTP-like status (`401`, `403`, ...); `None` closes with 4401, as Chanx's
    /// `status_code = None`.
    pub status: Option<u16>,
    /// The `data` of the `authentication` frame, when the server sends one.
    pub data: Value,
}

impl Denied {
    /// Refuses with no status: close code 4401.
    pub fn unauthenticated() -> Self {
        Self {
            status: None,
            data: Value::Null,
        }
    }

    /// Refuses with `status`: close code `4000 + status` for 400..=599, else 4401.
    pub fn status(status: u16) -> Self {
        Self {
            status: Some(status),
            data: Value::Null,
        }
    }

    /// This refusal with the `authentication` frame's `data` set to `{"detail": detail}`.
    pub fn with_detail(self, detail: impl Into<String>) -> Self {
        self.with_data(json!({"detail": detail.into()}))
    }

    /// This refusal with the `authentication` frame's `data` set to `data`.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }

    /// The close code, as Chanx's `BaseAuthenticator.close_code`.
    pub fn close_code(&self) -> u16 {
        match self.status {
            Some(status @ 400..=599) => 4000 + status,
            _ => CLOSE_UNAUTHENTICATED,
        }
    }
}

/// Decides whether a connection may stay open, after it was accepted.
///
/// Implemented for any `Fn(AuthRequest) -> impl Future<Output = Result<Identity, Denied>>`, so
/// a closure does:
///
/// ```
/// use chanx_runtime::server::{AuthRequest, Authenticator, Denied, Identity};
/// let authenticator = |request: AuthRequest| async move {
///     match request.credential() {
///         Some((_, "secret")) => Ok(Identity::user(serde_json::json!({"username": "alice"}))),
///         Some(_) => Err(Denied::status(403).with_detail("bad token")),
///         None => Err(Denied::status(401).with_detail("missing token")),
///     }
/// };
/// fn check(_: impl Authenticator) {}
/// check(authenticator);
/// ```
///
/// A panic while authenticating counts as status 500 (close 4500, no frame), as an exception
/// does in Chanx.
pub trait Authenticator: Send + Sync + 'static {
    /// Authenticates one connection. Frames sent through `request.cx` reach the client before
    /// the close.
    fn authenticate(&self, request: AuthRequest) -> BoxFuture<'static, Result<Identity, Denied>>;
}

impl<F, Fut> Authenticator for F
where
    F: Fn(AuthRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Identity, Denied>> + Send + 'static,
{
    fn authenticate(&self, request: AuthRequest) -> BoxFuture<'static, Result<Identity, Denied>> {
        Box::pin(self(request))
    }
}

/// The reason phrase of an HTTP status, for the `status_text` of `authentication` frames.
pub(crate) fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        423 => "Locked",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// The `authentication` frame: `{"action": "authentication", "payload": {"status_code": ..,
/// "status_text": .., "data": ..}}`.
pub(crate) fn authentication_frame(status: u16, data: &Value) -> Value {
    json!({
        "action": "authentication",
        "payload": {"status_code": status, "status_text": status_text(status), "data": data},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes_follow_chanx() {
        assert_eq!(Denied::unauthenticated().close_code(), 4401);
        assert_eq!(Denied::status(401).close_code(), 4401);
        assert_eq!(Denied::status(403).close_code(), 4403);
        assert_eq!(Denied::status(500).close_code(), 4500);
        assert_eq!(Denied::status(599).close_code(), 4599);
        assert_eq!(Denied::status(302).close_code(), 4401);
        assert_eq!(Denied::status(600).close_code(), 4401);
    }

    #[test]
    fn frames_and_builders() {
        let denied = Denied::status(403).with_detail("bad token");
        assert_eq!(denied.data, json!({"detail": "bad token"}));
        assert_eq!(
            authentication_frame(403, &denied.data),
            json!({"action": "authentication", "payload": {"status_code": 403, "status_text": "Forbidden", "data": {"detail": "bad token"}}})
        );
        let identity = Identity::user(json!({"id": 1})).with_data(json!({"user": "a"}));
        assert_eq!(identity.user, Some(json!({"id": 1})));
        assert_eq!(identity.data, json!({"user": "a"}));
        assert_eq!(Identity::anonymous().data, json!({"detail": "OK"}));
        assert_eq!(status_text(418), "");
    }
}

//! What a client presented when it connected: the path, its parameters, the query and the
//! headers; and address templates (`/ws/chat/{room_name}`) matched against paths.

use std::collections::BTreeMap;

use crate::endpoint::{CredentialSource, SecurityScheme};

/// The opening handshake of a connection, as the authenticator and hooks see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Handshake {
    path: String,
    path_params: BTreeMap<String, String>,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
}

impl Handshake {
    /// A handshake for `path` (percent-encoded, without the query), with `query` (the raw query
    /// string, without `?`) and `headers` (names in any case).
    pub fn new(
        path: &str,
        query: &str,
        headers: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        Self {
            path: path.to_owned(),
            path_params: BTreeMap::new(),
            query: parse_query(query),
            headers: headers
                .into_iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value))
                .collect(),
        }
    }

    pub(crate) fn with_path_params(mut self, params: BTreeMap<String, String>) -> Self {
        self.path_params = params;
        self
    }

    /// The requested path, as sent (percent-encoded).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The route's path parameters (decoded), by name.
    pub fn path_params(&self) -> &BTreeMap<String, String> {
        &self.path_params
    }

    /// The first value of the query parameter `name` (decoded), if any.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every query parameter (decoded), in order.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    /// The first value of the header `name` (any case), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The value of the cookie `name` from the `Cookie` headers, if any.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .filter(|(key, _)| key == "cookie")
            .flat_map(|(_, value)| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| key.trim() == name)
            .map(|(_, value)| value.trim().trim_matches('"'))
    }

    /// The credential the client presented for `scheme`, read where the scheme says: a query
    /// parameter, a header, a cookie, or the `Authorization` header's `Bearer`/`Basic` value
    /// (the part after the scheme word, which is matched in any case).
    pub fn credential(&self, scheme: &SecurityScheme) -> Option<&str> {
        let authorization = |word: &str| {
            let value = self.header("authorization")?.trim();
            let (kind, rest) = value.split_once(' ')?;
            kind.eq_ignore_ascii_case(word).then(|| rest.trim())
        };
        match scheme.source {
            CredentialSource::Query(name) => self.query(name),
            CredentialSource::Header(name) => self.header(name),
            CredentialSource::Cookie(name) => self.cookie(name),
            CredentialSource::Bearer => authorization("bearer"),
            CredentialSource::Basic => authorization("basic"),
            CredentialSource::Other(_) => None,
        }
        .filter(|value| !value.is_empty())
    }
}

/// Splits a query string into decoded pairs (`application/x-www-form-urlencoded`: `+` is a
/// space, `%XX` a byte; invalid UTF-8 is replaced).
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key, true), decode(value, true))
        })
        .collect()
}

/// Percent-encodes `text` for a query string (everything but `A-Za-z0-9-_.~`).
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(byte >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(byte & 0xf)]));
        }
    }
    out
}

/// Percent-decodes `text` (and `+` as a space when `plus` is set).
fn decode(text: &str, plus: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| char::from(*b).to_digit(16));
        match bytes[i] {
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(high), Some(low)) => {
                    out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One piece of an address template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// An address template such as `/ws/chat/{room_name}`: `{name}` (or Starlette's `{name:int}`)
/// stands for one whole path segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    /// The normalized route path, for axum 0.8 (`/ws/chat/{room_name}`).
    route: String,
    segments: Vec<Segment>,
}

impl Template {
    /// Parses `address`; a missing leading `/` (Django addresses) is added.
    pub(crate) fn parse(address: &str) -> Self {
        let trimmed = address.strip_prefix('/').unwrap_or(address);
        let segments: Vec<Segment> = trimmed
            .split('/')
            .map(
                |piece| match piece.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Some(inner) => {
                        let name = inner.split_once(':').map_or(inner, |(name, _)| name);
                        Segment::Param(name.to_owned())
                    }
                    None => Segment::Literal(piece.to_owned()),
                },
            )
            .collect();
        let route = segments
            .iter()
            .map(|segment| match segment {
                Segment::Literal(text) => text.clone(),
                Segment::Param(name) => format!("{{{name}}}"),
            })
            .collect::<Vec<_>>()
            .join("/");
        Self {
            route: format!("/{route}"),
            segments,
        }
    }

    /// The path to give axum's router.
    pub(crate) fn route(&self) -> &str {
        &self.route
    }

    /// The path parameters if `path` (percent-encoded, no query) matches, decoded.
    pub(crate) fn matches(&self, path: &str) -> Option<BTreeMap<String, String>> {
        let pieces: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        if pieces.len() != self.segments.len() {
            return None;
        }
        let mut params = BTreeMap::new();
        for (segment, piece) in self.segments.iter().zip(pieces) {
            match segment {
                Segment::Literal(text) if decode(piece, false) == *text => {}
                Segment::Param(name) if !piece.is_empty() => {
                    params.insert(name.clone(), decode(piece, false));
                }
                _ => return None,
            }
        }
        Some(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_paths() {
        let template = Template::parse("/ws/chat/{room_name}");
        assert_eq!(template.route(), "/ws/chat/{room_name}");
        let params = template.matches("/ws/chat/Weekly%20Sync").unwrap();
        assert_eq!(params["room_name"], "Weekly Sync");
        assert!(template.matches("/ws/chat/").is_none());
        assert!(template.matches("/ws/chat/a/b").is_none());
        assert!(template.matches("/ws/other/a").is_none());
        let django = Template::parse("ws/inbox/{inbox_id:int}/");
        assert_eq!(django.route(), "/ws/inbox/{inbox_id}/");
        assert_eq!(django.matches("/ws/inbox/7/").unwrap()["inbox_id"], "7");
        assert!(django.matches("/ws/inbox/7").is_none());
        assert!(Template::parse("/ws").matches("/ws").unwrap().is_empty());
    }

    #[test]
    fn credentials_come_from_where_the_scheme_says() {
        let handshake = Handshake::new(
            "/ws",
            "token=a%2Bb&x=1+2&token=second&flag",
            [
                ("Authorization".to_owned(), "bearer  xyz ".to_owned()),
                ("X-Api-Key".to_owned(), "k".to_owned()),
                ("Cookie".to_owned(), "a=1; session=\"s\"".to_owned()),
            ],
        );
        let scheme = |source| SecurityScheme { key: "k", source };
        assert_eq!(
            handshake.credential(&scheme(CredentialSource::Query("token"))),
            Some("a+b")
        );
        assert_eq!(handshake.query("x"), Some("1 2"));
        assert_eq!(handshake.query("flag"), Some(""));
        assert_eq!(
            handshake.credential(&scheme(CredentialSource::Query("flag"))),
            None
        );
        assert_eq!(
            handshake.credential(&scheme(CredentialSource::Bearer)),
            Some("xyz")
        );
        assert_eq!(handshake.credential(&scheme(CredentialSource::Basic)), None);
        assert_eq!(
            handshake.credential(&scheme(CredentialSource::Header("x-api-key"))),
            Some("k")
        );
        assert_eq!(
            handshake.credential(&scheme(CredentialSource::Cookie("session"))),
            Some("s")
        );
        assert_eq!(
            handshake.credential(&scheme(CredentialSource::Other("oauth2"))),
            None
        );
        assert_eq!(handshake.query_pairs().len(), 4);
        assert_eq!(decode("%zz%4", false), "%zz%4");
        assert_eq!(encode("a b+é"), "a%20b%2B%C3%A9");
        assert_eq!(
            parse_query(&format!("k={}", encode("a b+é"))),
            [("k".to_owned(), "a b+é".to_owned())]
        );
    }
}

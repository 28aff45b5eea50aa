//! A small RESP2 client over a `TcpStream`: commands, a bounded reply parser, and a multiplexed
//! connection that pipelines every request queued while the previous write was in flight.
//!
//! One task owns the socket. Callers queue a request (one or more commands) and wait for its
//! replies; the task writes everything queued in one go and matches replies to requests in
//! order, which is what Redis guarantees on one connection. When the socket fails, every
//! waiting request gets the error and the connection reports itself closed; the layer then
//! makes a new one.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

/// The largest bulk string accepted from a server (Redis' own limit is 512 MB).
const MAX_BULK: usize = 512 * 1024 * 1024;
/// The deepest nesting of arrays accepted from a server.
const MAX_DEPTH: usize = 16;
/// How long connecting (TCP, AUTH, SELECT) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A reply from Redis.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    /// `+OK`.
    Status(String),
    /// `-ERR ...`: a command failed; the connection is fine.
    Error(String),
    /// `:42`.
    Int(i64),
    /// `$n` bulk string; `None` for the nil bulk `$-1`.
    Bulk(Option<Vec<u8>>),
    /// `*n` array; `None` for the nil array `*-1`.
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// Whether this is a nil bulk or nil array.
    pub(crate) fn is_nil(&self) -> bool {
        matches!(self, Self::Bulk(None) | Self::Array(None))
    }

    /// An integer reply.
    pub(crate) fn int(&self) -> Result<i64, RespError> {
        match self {
            Self::Int(n) => Ok(*n),
            Self::Error(e) => Err(RespError::Server(e.clone())),
            other => Err(RespError::unexpected("an integer", other)),
        }
    }

    /// A bulk string's bytes.
    pub(crate) fn bytes(self) -> Result<Vec<u8>, RespError> {
        match self {
            Self::Bulk(Some(bytes)) => Ok(bytes),
            Self::Status(s) => Ok(s.into_bytes()),
            Self::Error(e) => Err(RespError::Server(e)),
            other => Err(RespError::unexpected("a bulk string", &other)),
        }
    }

    /// An array's elements (a nil array is empty).
    pub(crate) fn array(self) -> Result<Vec<Reply>, RespError> {
        match self {
            Self::Array(items) => Ok(items.unwrap_or_default()),
            Self::Error(e) => Err(RespError::Server(e)),
            other => Err(RespError::unexpected("an array", &other)),
        }
    }

    /// Fails if this is an error reply.
    pub(crate) fn ok(self) -> Result<Self, RespError> {
        match self {
            Self::Error(e) => Err(RespError::Server(e)),
            other => Ok(other),
        }
    }
}

/// What talking to Redis can fail with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RespError {
    /// The socket failed or closed; the connection is unusable.
    Io(String),
    /// The server sent bytes that are not RESP2, or a reply of an unexpected shape.
    Protocol(String),
    /// The server answered with an error reply.
    Server(String),
    /// No reply in time.
    Timeout,
}

impl RespError {
    fn unexpected(wanted: &str, got: &Reply) -> Self {
        let kind = match got {
            Reply::Status(_) => "a status",
            Reply::Error(_) => "an error",
            Reply::Int(_) => "an integer",
            Reply::Bulk(_) => "a bulk string",
            Reply::Array(_) => "an array",
        };
        Self::Protocol(format!("expected {wanted}, got {kind}"))
    }
}

impl fmt::Display for RespError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "connection error: {e}"),
            Self::Protocol(e) => write!(f, "protocol error: {e}"),
            Self::Server(e) => write!(f, "server error: {e}"),
            Self::Timeout => f.write_str("timed out waiting for Redis"),
        }
    }
}

/// One command, encoded as a RESP array of bulk strings.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cmd {
    args: Vec<Vec<u8>>,
}

impl Cmd {
    /// A command named `name` with no arguments yet.
    pub(crate) fn new(name: &str) -> Self {
        Self {
            args: vec![name.as_bytes().to_vec()],
        }
    }

    /// Appends an argument.
    pub(crate) fn arg(mut self, arg: impl AsRef<[u8]>) -> Self {
        self.args.push(arg.as_ref().to_vec());
        self
    }

    /// Appends an argument given as an owned buffer (no copy).
    pub(crate) fn arg_vec(mut self, arg: Vec<u8>) -> Self {
        self.args.push(arg);
        self
    }

    /// Replaces argument `index` (0 is the command name).
    pub(crate) fn set_arg(&mut self, index: usize, arg: impl AsRef<[u8]>) {
        if let Some(slot) = self.args.get_mut(index) {
            *slot = arg.as_ref().to_vec();
        }
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        use std::io::Write as _;
        // Writing to a Vec cannot fail.
        let _ = write!(out, "*{}\r\n", self.args.len());
        for arg in &self.args {
            let _ = write!(out, "${}\r\n", arg.len());
            out.extend_from_slice(arg);
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// Parses one reply from the start of `buf`: `Ok(None)` if more bytes are needed, else the reply
/// and how many bytes it used.
pub(crate) fn parse(buf: &[u8]) -> Result<Option<(Reply, usize)>, RespError> {
    parse_at(buf, 0, 0)
}

fn line(buf: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(at..)?;
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    Some((&rest[..end], at + end + 2))
}

fn number(text: &[u8]) -> Result<i64, RespError> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| RespError::Protocol("bad number in reply".to_owned()))
}

fn parse_at(buf: &[u8], at: usize, depth: usize) -> Result<Option<(Reply, usize)>, RespError> {
    if depth > MAX_DEPTH {
        return Err(RespError::Protocol("reply nested too deeply".to_owned()));
    }
    let Some(&kind) = buf.get(at) else {
        return Ok(None);
    };
    let Some((text, next)) = line(buf, at + 1) else {
        return Ok(None);
    };
    let reply = match kind {
        b'+' => (
            Reply::Status(String::from_utf8_lossy(text).into_owned()),
            next,
        ),
        b'-' => (
            Reply::Error(String::from_utf8_lossy(text).into_owned()),
            next,
        ),
        b':' => (Reply::Int(number(text)?), next),
        b'$' => {
            let len = number(text)?;
            if len < 0 {
                (Reply::Bulk(None), next)
            } else {
                let len = usize::try_from(len)
                    .ok()
                    .filter(|&len| len <= MAX_BULK)
                    .ok_or_else(|| RespError::Protocol("bulk string too long".to_owned()))?;
                let end = next + len;
                if buf.len() < end + 2 {
                    return Ok(None);
                }
                if &buf[end..end + 2] != b"\r\n" {
                    return Err(RespError::Protocol(
                        "bulk string not followed by CRLF".to_owned(),
                    ));
                }
                (Reply::Bulk(Some(buf[next..end].to_vec())), end + 2)
            }
        }
        b'*' => {
            let len = number(text)?;
            if len < 0 {
                (Reply::Array(None), next)
            } else {
                let len = usize::try_from(len)
                    .map_err(|_| RespError::Protocol("array too long".to_owned()))?;
                // Each element takes at least 3 bytes, so a huge count cannot be satisfied by the
                // bytes at hand: do not reserve for it up front.
                let mut items = Vec::with_capacity(len.min(1024));
                let mut pos = next;
                for _ in 0..len {
                    match parse_at(buf, pos, depth + 1)? {
                        Some((item, after)) => {
                            items.push(item);
                            pos = after;
                        }
                        None => return Ok(None),
                    }
                }
                (Reply::Array(Some(items)), pos)
            }
        }
        other => {
            return Err(RespError::Protocol(format!(
                "unknown reply type byte 0x{other:02x}"
            )));
        }
    };
    Ok(Some(reply))
}

/// Where and how to connect: what a `redis://` URL says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Address {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) db: u32,
}

impl Address {
    /// Parses `redis://[[user][:password]@]host[:port][/db]` (defaults: port 6379, db 0).
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("redis://")
            .ok_or_else(|| format!("{url:?}: only redis:// URLs are supported"))?;
        let rest = rest.split(['?', '#']).next().unwrap_or("");
        let (authority, path) = match rest.find('/') {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(info) => match info.find(':') {
                Some(at) => (
                    Some(percent_decode(&info[..at])).filter(|u| !u.is_empty()),
                    Some(percent_decode(&info[at + 1..])),
                ),
                None => (Some(percent_decode(info)).filter(|u| !u.is_empty()), None),
            },
        };
        let (host, port) = if let Some(bracketed) = hostport.strip_prefix('[') {
            let end = bracketed
                .find(']')
                .ok_or_else(|| format!("{url:?}: unclosed [ in host"))?;
            let port = bracketed[end + 1..].strip_prefix(':');
            (bracketed[..end].to_owned(), port)
        } else {
            match hostport.rfind(':') {
                Some(at) => (hostport[..at].to_owned(), Some(&hostport[at + 1..])),
                None => (hostport.to_owned(), None),
            }
        };
        let host = if host.is_empty() {
            "localhost".to_owned()
        } else {
            host
        };
        let port = match port {
            None | Some("") => 6379,
            Some(p) => p.parse().map_err(|_| format!("{url:?}: bad port {p:?}"))?,
        };
        let db = match path {
            "" => 0,
            p => p
                .parse()
                .map_err(|_| format!("{url:?}: bad database {p:?}"))?,
        };
        Ok(Self {
            host,
            port,
            username,
            password,
            db,
        })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the password.
        if self.host.contains(':') {
            write!(f, "redis://[{}]:{}/{}", self.host, self.port, self.db)
        } else {
            write!(f, "redis://{}:{}/{}", self.host, self.port, self.db)
        }
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(b) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Request {
    bytes: Vec<u8>,
    replies: usize,
    reply: oneshot::Sender<Result<Vec<Reply>, RespError>>,
}

struct Pending {
    remaining: usize,
    got: Vec<Reply>,
    reply: oneshot::Sender<Result<Vec<Reply>, RespError>>,
}

/// A multiplexed connection; clones share the socket. Dropping every clone closes it.
#[derive(Clone)]
pub(crate) struct Connection {
    requests: mpsc::UnboundedSender<Request>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Connection {
    /// Connects, authenticates and selects the database, then starts the socket task.
    pub(crate) async fn connect(address: &Address) -> Result<Self, RespError> {
        let stream = tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect((address.host.as_str(), address.port)),
        )
        .await
        .map_err(|_| RespError::Timeout)?
        .map_err(|e| RespError::Io(e.to_string()))?;
        // Latency matters more than packet count: replies are small and awaited.
        stream
            .set_nodelay(true)
            .map_err(|e| RespError::Io(e.to_string()))?;
        let (requests, queue) = mpsc::unbounded_channel();
        tokio::spawn(drive(stream, queue));
        let connection = Self { requests };
        let mut setup = Vec::new();
        if let Some(password) = &address.password {
            let mut auth = Cmd::new("AUTH");
            if let Some(username) = &address.username {
                auth = auth.arg(username);
            }
            setup.push(auth.arg(password));
        }
        if address.db != 0 {
            setup.push(Cmd::new("SELECT").arg(address.db.to_string()));
        }
        if !setup.is_empty() {
            let replies = tokio::time::timeout(CONNECT_TIMEOUT, connection.pipeline(&setup))
                .await
                .map_err(|_| RespError::Timeout)??;
            for reply in replies {
                reply.ok()?;
            }
        }
        Ok(connection)
    }

    /// Whether the socket task has stopped (the connection failed or closed).
    pub(crate) fn is_closed(&self) -> bool {
        self.requests.is_closed()
    }

    /// Sends the commands back to back and returns their replies, in order. Error replies are
    /// returned as [`Reply::Error`], not as `Err`.
    ///
    /// The request is queued when this is called (before the future is first polled), so a
    /// caller can queue several requests and then await them.
    pub(crate) fn pipeline(
        &self,
        commands: &[Cmd],
    ) -> impl Future<Output = Result<Vec<Reply>, RespError>> + Send + 'static {
        let mut bytes = Vec::new();
        for command in commands {
            command.encode_into(&mut bytes);
        }
        let (reply, response) = oneshot::channel();
        let queued = if commands.is_empty() {
            let _ = reply.send(Ok(Vec::new()));
            Ok(())
        } else {
            self.requests
                .send(Request {
                    bytes,
                    replies: commands.len(),
                    reply,
                })
                .map_err(|_| RespError::Io("connection closed".to_owned()))
        };
        async move {
            queued?;
            response
                .await
                .map_err(|_| RespError::Io("connection closed".to_owned()))?
        }
    }
}

/// The socket task: writes queued requests, parses replies and hands them out in order.
async fn drive(stream: TcpStream, mut queue: mpsc::UnboundedReceiver<Request>) {
    let (mut reader, mut writer) = stream.into_split();
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let mut input: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut output: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut open = true;
    let failure = 'run: loop {
        if !open && pending.is_empty() {
            return;
        }
        tokio::select! {
            read = reader.read_buf(&mut input) => {
                match read {
                    Ok(0) => break 'run RespError::Io("connection closed by server".to_owned()),
                    Ok(_) => {}
                    Err(e) => break 'run RespError::Io(e.to_string()),
                }
                let mut used = 0;
                loop {
                    match parse(&input[used..]) {
                        Ok(Some((reply, len))) => {
                            used += len;
                            let Some(front) = pending.front_mut() else {
                                break 'run RespError::Protocol("reply without a request".to_owned());
                            };
                            front.got.push(reply);
                            front.remaining -= 1;
                            if front.remaining == 0 {
                                if let Some(done) = pending.pop_front() {
                                    let _ = done.reply.send(Ok(done.got));
                                }
                            }
                        }
                        Ok(None) => break,
                        Err(e) => break 'run e,
                    }
                }
                input.drain(..used);
            }
            request = queue.recv(), if open => {
                let Some(request) = request else {
                    open = false;
                    continue;
                };
                output.extend_from_slice(&request.bytes);
                pending.push_back(Pending {
                    remaining: request.replies,
                    got: Vec::with_capacity(request.replies),
                    reply: request.reply,
                });
                // Everything else already queued goes out in the same write.
                while let Ok(request) = queue.try_recv() {
                    output.extend_from_slice(&request.bytes);
                    pending.push_back(Pending {
                        remaining: request.replies,
                        got: Vec::with_capacity(request.replies),
                        reply: request.reply,
                    });
                }
                if let Err(e) = writer.write_all(&output).await {
                    break 'run RespError::Io(e.to_string());
                }
                output.clear();
            }
        }
    };
    queue.close();
    for waiting in pending {
        let _ = waiting.reply.send(Err(failure.clone()));
    }
    while let Ok(request) = queue.try_recv() {
        let _ = request.reply.send(Err(failure.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_reply_type() {
        let buf = b"+OK\r\n-ERR bad\r\n:42\r\n$3\r\nabc\r\n$-1\r\n*2\r\n:1\r\n$0\r\n\r\n*-1\r\n";
        let mut at = 0;
        let mut got = Vec::new();
        while let Some((reply, used)) = parse(&buf[at..]).unwrap() {
            got.push(reply);
            at += used;
        }
        assert_eq!(at, buf.len());
        assert_eq!(
            got,
            vec![
                Reply::Status("OK".to_owned()),
                Reply::Error("ERR bad".to_owned()),
                Reply::Int(42),
                Reply::Bulk(Some(b"abc".to_vec())),
                Reply::Bulk(None),
                Reply::Array(Some(vec![Reply::Int(1), Reply::Bulk(Some(Vec::new()))])),
                Reply::Array(None),
            ]
        );
    }

    #[test]
    fn incomplete_replies_wait_for_more() {
        for partial in [
            &b""[..],
            b"+OK",
            b"$3\r\nab",
            b"$3\r\nabc\r",
            b"*2\r\n:1\r\n",
        ] {
            assert_eq!(parse(partial).unwrap(), None, "{partial:?}");
        }
    }

    #[test]
    fn malformed_replies_are_errors_not_panics() {
        for bad in [
            &b"?x\r\n"[..],
            b":12a\r\n",
            b"$abc\r\n",
            b"$3\r\nabcXY",
            b"$99999999999\r\n",
            b"*99999999999999999999\r\n",
        ] {
            assert!(matches!(parse(bad), Err(RespError::Protocol(_))), "{bad:?}");
        }
        let deep = "*1\r\n".repeat(40) + ":1\r\n";
        assert!(parse(deep.as_bytes()).is_err());
        // A huge array count with few bytes just waits, without reserving memory for it.
        assert_eq!(parse(b"*4000000000\r\n:1\r\n").unwrap(), None);
    }

    #[test]
    fn commands_encode_as_bulk_arrays() {
        let mut out = Vec::new();
        Cmd::new("ZADD")
            .arg("k")
            .arg("1.5")
            .arg_vec(vec![0, 1])
            .encode_into(&mut out);
        assert_eq!(
            out,
            b"*4\r\n$4\r\nZADD\r\n$1\r\nk\r\n$3\r\n1.5\r\n$2\r\n\x00\x01\r\n"
        );
    }

    #[test]
    fn urls_parse_with_defaults() {
        let a = Address::parse("redis://localhost").unwrap();
        assert_eq!((a.host.as_str(), a.port, a.db), ("localhost", 6379, 0));
        let b = Address::parse("redis://user:p%40ss@10.0.0.1:6380/2").unwrap();
        assert_eq!(
            b,
            Address {
                host: "10.0.0.1".to_owned(),
                port: 6380,
                username: Some("user".to_owned()),
                password: Some("p@ss".to_owned()),
                db: 2
            }
        );
        let c = Address::parse("redis://:secret@[::1]:7000").unwrap();
        assert_eq!(c.host, "::1");
        assert_eq!(c.port, 7000);
        assert_eq!(c.username, None);
        assert_eq!(c.password.as_deref(), Some("secret"));
        assert_eq!(c.to_string(), "redis://[::1]:7000/0");
        assert!(Address::parse("rediss://x").is_err());
        assert!(Address::parse("redis://x:port").is_err());
        assert!(Address::parse("redis://x/db").is_err());
    }
}

//! The channel layer: Django Channels' layer API, and the messages Chanx puts on it.
//!
//! A channel layer carries dict messages between processes. Every WebSocket connection owns
//! one *channel* (a name it receives on, made by [`ChannelLayer::new_channel`]), and channels
//! join *groups* so that one [`ChannelLayer::group_send`] reaches all of them. The trait below
//! mirrors Django Channels (`channels/layers.py`) method for method, so that a Redis
//! implementation can share a layer with Python processes running Chanx.
//!
//! On top of the raw API sit the three layer messages Chanx itself sends, as free functions that
//! any process may call (a worker, an HTTP handler, a test):
//!
//! | function | layer call | message |
//! |---|---|---|
//! | [`send_event`] | `send(channel, ..)` | `{"type": "handle_channel_event", "event_data": ..}` |
//! | [`broadcast_event`] | `group_send(group, ..)` | the same |
//! | [`broadcast_message`] | `group_send(group, ..)` | `{"type": "handle_group_message", "message": .., "exclude_current": .., "from_channel": ..}` |
//!
//! and [`classify`] turns what a connection receives back into an [`Inbound`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde_json::{Map, Value};

/// A Channels message: a JSON object that must hold a string `"type"`.
///
/// The `"type"` names the consumer method that handles the message (Channels replaces `.` with
/// `_`); Chanx uses `handle_channel_event`, `handle_group_message` and `handle_topic_event`.
pub type LayerMessage = Map<String, Value>;

/// A received layer message that may be shared with the other receivers of the same
/// [`ChannelLayer::group_send`], as [`ChannelLayer::receive_shared`] returns it.
///
/// A `group_send` to a group of N members logically delivers N copies; an in-process layer
/// keeps one message behind an [`Arc`] instead, and a receiver that only reads it (the
/// connection loop relaying a `handle_group_message`) never copies it. Cloning is cheap (a
/// reference count). [`SharedMessage::into_message`] gives an owned [`LayerMessage`], moving it
/// out when this is the last handle and copying it otherwise.
#[derive(Clone)]
pub struct SharedMessage(Arc<SharedInner>);

struct SharedInner {
    message: LayerMessage,
    /// The frame the connection loop relays for this message, encoded by the first receiver
    /// that needs it (`None` inside when the message has no frame to relay).
    frame: OnceLock<Option<String>>,
}

impl SharedMessage {
    /// Wraps a message (one allocation; no copy of the message).
    pub fn new(message: LayerMessage) -> Self {
        Self(Arc::new(SharedInner {
            message,
            frame: OnceLock::new(),
        }))
    }

    /// The message, borrowed.
    pub fn message(&self) -> &LayerMessage {
        &self.0.message
    }

    /// The message, owned: moved out if no other handle to it is alive, else copied.
    pub fn into_message(self) -> LayerMessage {
        match Arc::try_unwrap(self.0) {
            Ok(inner) => inner.message,
            Err(shared) => shared.message.clone(),
        }
    }

    /// The frame encoded from this message by `encode`, computed once for all its handles: the
    /// first caller encodes, later callers (the other members of the group) get the same text.
    ///
    /// Every caller must pass the same encoding; the connection loop is the only one.
    pub(crate) fn frame_with(
        &self,
        encode: impl FnOnce(&LayerMessage) -> Option<String>,
    ) -> Option<&str> {
        self.0
            .frame
            .get_or_init(|| encode(&self.0.message))
            .as_deref()
    }
}

impl fmt::Debug for SharedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedMessage")
            .field(&self.0.message)
            .finish()
    }
}

impl From<LayerMessage> for SharedMessage {
    fn from(message: LayerMessage) -> Self {
        Self::new(message)
    }
}

/// A boxed, `Send` future, as returned by the dyn-compatible [`ChannelLayer`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Channels' `BaseChannelLayer.MAX_NAME_LENGTH`: channel and group names must be *shorter* than
/// this, so at most 99 characters.
pub const MAX_NAME_LENGTH: usize = 100;

/// Chanx's `MAX_GROUP_NAME_LENGTH`: the longest name [`safe_group_name`] produces.
pub const MAX_GROUP_NAME_LENGTH: usize = 99;

/// Channels' explanation of a rejected name (`BaseChannelLayer.invalid_name_error`).
const NAME_RULE: &str = "name must be a valid unicode string with length < 100 containing only \
                         ASCII alphanumerics, hyphens, underscores, or periods";

/// What a channel layer operation can fail with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerError {
    /// The channel already holds as many messages as its capacity allows
    /// (Channels' `ChannelFull`). Only [`ChannelLayer::send`] reports it;
    /// [`ChannelLayer::group_send`] skips full members silently.
    ChannelFull {
        /// The channel that is full.
        channel: String,
    },
    /// The string is not a valid channel name (see [`valid_channel_name`]); holds the name.
    InvalidChannelName(String),
    /// The string is not a valid group name (see [`valid_group_name`]); holds the name.
    InvalidGroupName(String),
    /// The message cannot go on the layer (no string `"type"`, a reserved key, or a value that
    /// does not serialize to JSON); holds the reason.
    InvalidMessage(String),
    /// The layer has been shut down.
    Closed,
    /// The backend failed (for a Redis layer: connection, protocol or decoding errors); holds a
    /// description.
    Backend(String),
}

impl fmt::Display for LayerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ChannelFull { channel } => write!(f, "channel full: {channel}"),
            Self::InvalidChannelName(name) => {
                write!(f, "invalid channel name {name:?}: channel {NAME_RULE}")
            }
            Self::InvalidGroupName(name) => {
                write!(f, "invalid group name {name:?}: group {NAME_RULE}")
            }
            Self::InvalidMessage(reason) => write!(f, "invalid layer message: {reason}"),
            Self::Closed => f.write_str("channel layer closed"),
            Self::Backend(reason) => write!(f, "channel layer backend error: {reason}"),
        }
    }
}

impl std::error::Error for LayerError {}

/// A channel layer, mirroring Django Channels' layer API with the `groups` and `flush`
/// extensions.
///
/// The trait is dyn-compatible: connections hold an `Arc<dyn ChannelLayer>`. Every method
/// returns a [`BoxFuture`], so an implementation writes `Box::pin(async move { .. })`.
///
/// Semantics every implementation follows (Channels' contract):
/// * channel names match [`valid_channel_name`], group names [`valid_group_name`];
///   anything else is rejected with [`LayerError::InvalidChannelName`] /
///   [`LayerError::InvalidGroupName`];
/// * a message holds a string `"type"` and no `"__asgi_channel__"` key (reserved by the Redis
///   layer);
/// * each channel holds at most `capacity` messages ([`LayerError::ChannelFull`] on `send`),
///   each message lives `expiry` (60 s by default), a group membership `group_expiry` after it
///   was (last) added (86 400 s by default).
pub trait ChannelLayer: Send + Sync + 'static {
    /// Returns a new, unique channel name that this process can receive on:
    /// `"{prefix}.{backend}!{random}"` (Channels' default prefix is `"specific."`).
    fn new_channel<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<String, LayerError>>;

    /// Puts `message` on `channel`; fails with [`LayerError::ChannelFull`] if the channel is at
    /// capacity.
    fn send<'a>(
        &'a self,
        channel: &'a str,
        message: LayerMessage,
    ) -> BoxFuture<'a, Result<(), LayerError>>;

    /// Waits for, removes and returns the oldest unexpired message on `channel`.
    ///
    /// Cancel-safe: dropping the future before it completes loses no message.
    fn receive<'a>(&'a self, channel: &'a str) -> BoxFuture<'a, Result<LayerMessage, LayerError>>;

    /// As [`receive`](Self::receive), but the message may be shared with the other members
    /// that the same [`group_send`](Self::group_send) reached, so that nothing is copied per
    /// member; the connection loop receives with this.
    ///
    /// The default wraps [`receive`](Self::receive); a layer that keeps one message for all
    /// members of a group (as [`InMemoryLayer`](crate::memory::InMemoryLayer) does) hands out
    /// that message. Same semantics otherwise (FIFO, expiry, cancel-safety).
    fn receive_shared<'a>(
        &'a self,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<SharedMessage, LayerError>> {
        Box::pin(async move { self.receive(channel).await.map(SharedMessage::new) })
    }

    /// Adds `channel` to `group` (or refreshes its join time if it is already a member).
    fn group_add<'a>(
        &'a self,
        group: &'a str,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<(), LayerError>>;

    /// Removes `channel` from `group`; a no-op if it is not a member.
    fn group_discard<'a>(
        &'a self,
        group: &'a str,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<(), LayerError>>;

    /// Sends a copy of `message` to every current member of `group`, silently skipping members
    /// that are full.
    fn group_send<'a>(
        &'a self,
        group: &'a str,
        message: LayerMessage,
    ) -> BoxFuture<'a, Result<(), LayerError>>;

    /// Drops every message and every group of this layer.
    fn flush<'a>(&'a self) -> BoxFuture<'a, Result<(), LayerError>>;
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
}

/// Checks a channel name the way Channels does: `^[a-zA-Z\d\-_.]+(\![\d\w\-_.]*)?$` and fewer
/// than [`MAX_NAME_LENGTH`] characters.
///
/// So: one or more ASCII letters, digits, `-`, `_` or `.`, optionally followed by one `!` and
/// the process-local part (zero or more of the same characters).
///
/// Python's `re` also lets non-ASCII decimal digits (and, after the `!`, non-ASCII word
/// characters) through `\d` / `\w`, and its `$` accepts one trailing `"\n"`; this function
/// deliberately rejects those, since no Chanx or Channels code produces such names.
pub fn valid_channel_name(name: &str) -> Result<(), LayerError> {
    let (general, local) = match name.find('!') {
        Some(at) => (&name[..at], Some(&name[at + 1..])),
        None => (name, None),
    };
    let ok = name.len() < MAX_NAME_LENGTH
        && !general.is_empty()
        && general.bytes().all(is_name_byte)
        && local.is_none_or(|local| local.bytes().all(is_name_byte));
    if ok {
        Ok(())
    } else {
        Err(LayerError::InvalidChannelName(name.to_owned()))
    }
}

/// Checks a group name the way Channels does: `^[a-zA-Z\d\-_.]+$` and fewer than
/// [`MAX_NAME_LENGTH`] characters (ASCII interpretation, as [`valid_channel_name`]).
pub fn valid_group_name(name: &str) -> Result<(), LayerError> {
    if !name.is_empty() && name.len() < MAX_NAME_LENGTH && name.bytes().all(is_name_byte) {
        Ok(())
    } else {
        Err(LayerError::InvalidGroupName(name.to_owned()))
    }
}

/// The "non-local" part of a channel name, as Channels' `non_local_name`: up to and including
/// the first `!` for a process-specific channel, else the whole name.
pub fn non_local_name(name: &str) -> &str {
    match name.find('!') {
        Some(at) => &name[..=at],
        None => name,
    }
}

/// Checks that a message can go on a layer: a string `"type"` and no reserved
/// `"__asgi_channel__"` key.
pub fn valid_message(message: &LayerMessage) -> Result<(), LayerError> {
    match message.get("type") {
        Some(Value::String(_)) => {}
        Some(_) => {
            return Err(LayerError::InvalidMessage(
                "\"type\" must be a string".to_owned(),
            ));
        }
        None => {
            return Err(LayerError::InvalidMessage(
                "message has no \"type\"".to_owned(),
            ));
        }
    }
    if message.contains_key("__asgi_channel__") {
        return Err(LayerError::InvalidMessage(
            "\"__asgi_channel__\" is reserved for the layer".to_owned(),
        ));
    }
    Ok(())
}

/// Whether `name` matches the shell-style `pattern`, with Python's `fnmatch.fnmatchcase`
/// semantics (case-sensitive; `*`, `?`, `[seq]`, `[!seq]`, ranges `a-z`; an unclosed `[` is a
/// literal).
///
/// Channels' `channel_capacity` setting maps such patterns to per-channel capacities.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let tokens = glob::parse(pattern);
    glob::matches(&tokens, &name.chars().collect::<Vec<_>>())
}

mod glob {
    /// One element of a parsed glob pattern.
    pub(super) enum Token {
        /// `*`: any run of characters.
        Star,
        /// `?`: any one character.
        Any,
        /// A literal character.
        Char(char),
        /// `[..]` / `[!..]`: one character in (or not in) the inclusive ranges.
        Set {
            negated: bool,
            ranges: Vec<(char, char)>,
        },
    }

    pub(super) fn parse(pattern: &str) -> Vec<Token> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            match c {
                '*' => {
                    if !matches!(tokens.last(), Some(Token::Star)) {
                        tokens.push(Token::Star);
                    }
                }
                '?' => tokens.push(Token::Any),
                '[' => {
                    // As fnmatch.translate: a leading `!` negates, a `]` right after the opening
                    // (or after the `!`) is a member, and without a closing `]` the `[` is a
                    // literal.
                    let mut j = i;
                    if chars.get(j) == Some(&'!') {
                        j += 1;
                    }
                    if chars.get(j) == Some(&']') {
                        j += 1;
                    }
                    while j < chars.len() && chars[j] != ']' {
                        j += 1;
                    }
                    if j >= chars.len() {
                        tokens.push(Token::Char('['));
                        continue;
                    }
                    let mut body = &chars[i..j];
                    i = j + 1;
                    let negated = body.first() == Some(&'!');
                    if negated {
                        body = &body[1..];
                    }
                    let mut ranges = Vec::new();
                    let mut k = 0;
                    while k < body.len() {
                        if k + 2 < body.len() && body[k + 1] == '-' {
                            // A range whose start is after its end matches nothing.
                            if body[k] <= body[k + 2] {
                                ranges.push((body[k], body[k + 2]));
                            }
                            k += 3;
                        } else {
                            ranges.push((body[k], body[k]));
                            k += 1;
                        }
                    }
                    tokens.push(Token::Set { negated, ranges });
                }
                other => tokens.push(Token::Char(other)),
            }
        }
        tokens
    }

    fn matches_one(token: &Token, c: char) -> bool {
        match token {
            Token::Star | Token::Any => true,
            Token::Char(expected) => *expected == c,
            Token::Set { negated, ranges } => {
                ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
            }
        }
    }

    /// Iterative wildcard matching with single-star backtracking (linear in practice).
    pub(super) fn matches(tokens: &[Token], name: &[char]) -> bool {
        let (mut t, mut n) = (0, 0);
        let mut backtrack: Option<(usize, usize)> = None;
        while n < name.len() {
            match tokens.get(t) {
                Some(Token::Star) => {
                    backtrack = Some((t, n));
                    t += 1;
                }
                Some(token) if matches_one(token, name[n]) => {
                    t += 1;
                    n += 1;
                }
                _ => match backtrack {
                    Some((star, from)) => {
                        t = star + 1;
                        n = from + 1;
                        backtrack = Some((star, from + 1));
                    }
                    None => return false,
                },
            }
        }
        tokens[t..].iter().all(|token| matches!(token, Token::Star))
    }
}

fn to_json<M: Serialize + ?Sized>(value: &M) -> Result<Value, LayerError> {
    serde_json::to_value(value).map_err(|e| LayerError::InvalidMessage(e.to_string()))
}

fn channel_event(event: &(impl Serialize + ?Sized)) -> Result<LayerMessage, LayerError> {
    let mut message = LayerMessage::new();
    message.insert("type".to_owned(), Value::from("handle_channel_event"));
    message.insert("event_data".to_owned(), to_json(event)?);
    Ok(message)
}

/// Sends a Chanx channel event to one connection's channel, as Chanx's
/// `Consumer.send_event(event, channel_name)`:
/// `send(channel, {"type": "handle_channel_event", "event_data": <event as JSON>})`.
///
/// The receiving connection validates `event_data` against its event handlers.
pub async fn send_event<M: Serialize + ?Sized>(
    layer: &dyn ChannelLayer,
    channel: &str,
    event: &M,
) -> Result<(), LayerError> {
    layer.send(channel, channel_event(event)?).await
}

/// Broadcasts a Chanx channel event to every member of each group, as Chanx's
/// `Consumer.broadcast_event(event, groups)`: `group_send(group, {"type":
/// "handle_channel_event", "event_data": <event as JSON>})` for each group, in order, stopping
/// at the first error.
pub async fn broadcast_event<M: Serialize + ?Sized>(
    layer: &dyn ChannelLayer,
    groups: &[&str],
    event: &M,
) -> Result<(), LayerError> {
    let message = channel_event(event)?;
    for group in groups {
        layer.group_send(group, message.clone()).await?;
    }
    Ok(())
}

/// Broadcasts a message that receivers relay verbatim to their WebSocket clients, as Chanx's
/// `broadcast_message(message, groups, exclude_current=..)`: for each group, in order,
/// `group_send(group, {"type": "handle_group_message", "message": <message as JSON>,
/// "exclude_current": exclude_current, "from_channel": from_channel or null})`.
///
/// With `exclude_current`, the connection whose channel is `from_channel` does not relay it.
pub async fn broadcast_message<M: Serialize + ?Sized>(
    layer: &dyn ChannelLayer,
    groups: &[&str],
    message: &M,
    exclude_current: bool,
    from_channel: Option<&str>,
) -> Result<(), LayerError> {
    let mut envelope = LayerMessage::new();
    envelope.insert("type".to_owned(), Value::from("handle_group_message"));
    envelope.insert("message".to_owned(), to_json(message)?);
    envelope.insert("exclude_current".to_owned(), Value::Bool(exclude_current));
    envelope.insert(
        "from_channel".to_owned(),
        from_channel.map_or(Value::Null, Value::from),
    );
    for group in groups {
        layer.group_send(group, envelope.clone()).await?;
    }
    Ok(())
}

/// A layer message received by a connection, sorted by what Chanx does with it.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// `handle_channel_event`: validate `event_data` against the event handlers and run one.
    ChannelEvent {
        /// The event, as JSON (`{"action": .., "payload": ..}`).
        event_data: Value,
    },
    /// `handle_group_message`: send `message` to the client as is, unless `exclude_current`
    /// and `from_channel` is the receiving connection's own channel.
    GroupMessage {
        /// The frame to relay.
        message: Value,
        /// Whether the sending connection should skip it.
        exclude_current: bool,
        /// The channel of the connection that broadcast it, if any.
        from_channel: Option<String>,
    },
    /// `handle_topic_event`: a `Topic.broadcast` push for the subscribers of `topic`.
    TopicEvent {
        /// The topic name (for example `"ticker:ACME"`).
        topic: String,
        /// The sequence number given to the broadcast, if any.
        seq: Option<i64>,
        /// The event, as JSON.
        event_data: Value,
    },
    /// Any other message, or one of the above whose fields are missing or of the wrong type.
    Other(LayerMessage),
}

/// Whether a message `"type"` dispatches to `handler`, with Channels' rule that `.` in the type
/// stands for `_` in the handler name.
fn dispatches_to(kind: &str, handler: &str) -> bool {
    kind.len() == handler.len()
        && kind
            .bytes()
            .zip(handler.bytes())
            .all(|(k, h)| k == h || (k == b'.' && h == b'_'))
}

/// Sorts a received layer message by its `"type"` (`.` counting as `_`, as in Channels'
/// dispatch).
///
/// Field rules follow Chanx's handlers: `handle_channel_event` takes `event_data`, defaulting to
/// `{}` when absent (Chanx reads it with `.get("event_data", {})`, and such an event then fails
/// validation); `handle_group_message` requires `message`, a boolean `exclude_current` and a
/// string-or-null `from_channel`; `handle_topic_event` requires a string `topic` and
/// `event_data`, and takes an integer-or-null `seq`. A message that breaks these rules comes
/// back unchanged as [`Inbound::Other`].
pub fn classify(mut message: LayerMessage) -> Inbound {
    let kind = match message.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        _ => return Inbound::Other(message),
    };
    if dispatches_to(kind, "handle_channel_event") {
        let event_data = message
            .remove("event_data")
            .unwrap_or_else(|| Value::Object(Map::new()));
        return Inbound::ChannelEvent { event_data };
    }
    if dispatches_to(kind, "handle_group_message") {
        let Some(parts) = group_message_fields(&message) else {
            return Inbound::Other(message);
        };
        let exclude_current = parts.exclude_current;
        let from_channel = parts.from_channel.map(str::to_owned);
        return match message.remove("message") {
            Some(body) => Inbound::GroupMessage {
                message: body,
                exclude_current,
                from_channel,
            },
            None => Inbound::Other(message),
        };
    }
    if dispatches_to(kind, "handle_topic_event") {
        let topic = match message.get("topic") {
            Some(Value::String(topic)) => topic.clone(),
            _ => return Inbound::Other(message),
        };
        let seq = match message.get("seq") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_i64() {
                Some(seq) => Some(seq),
                None => return Inbound::Other(message),
            },
            Some(_) => return Inbound::Other(message),
        };
        return match message.remove("event_data") {
            Some(event_data) => Inbound::TopicEvent {
                topic,
                seq,
                event_data,
            },
            None => Inbound::Other(message),
        };
    }
    Inbound::Other(message)
}

/// The fields of a well-formed `handle_group_message`, borrowed (what [`classify`] turns into
/// [`Inbound::GroupMessage`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GroupMessageFields<'a> {
    /// The frame to relay.
    pub(crate) message: &'a Value,
    /// Whether the sending connection should skip it.
    pub(crate) exclude_current: bool,
    /// The channel of the connection that broadcast it, if any.
    pub(crate) from_channel: Option<&'a str>,
}

/// The fields of `message` if it is a `handle_group_message` that [`classify`] would turn into
/// [`Inbound::GroupMessage`], without taking it apart (for a [`SharedMessage`]).
pub(crate) fn group_message_fields(message: &LayerMessage) -> Option<GroupMessageFields<'_>> {
    match message.get("type") {
        Some(Value::String(kind)) if dispatches_to(kind, "handle_group_message") => {}
        _ => return None,
    }
    let exclude_current = match message.get("exclude_current") {
        Some(Value::Bool(b)) => *b,
        _ => return None,
    };
    let from_channel = match message.get("from_channel") {
        Some(Value::String(channel)) => Some(channel.as_str()),
        Some(Value::Null) => None,
        _ => return None,
    };
    Some(GroupMessageFields {
        message: message.get("message")?,
        exclude_current,
        from_channel,
    })
}

/// Replaces each run of characters outside `[A-Za-z0-9._-]` with `-`, then trims `-` from both
/// ends (Chanx's `_slug`).
fn slug(value: &str, out: &mut String) {
    let start = out.len();
    let mut in_run = false;
    for c in value.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('-');
            in_run = true;
        }
    }
    let trimmed_end = out.trim_end_matches('-').len();
    out.truncate(trimmed_end.max(start));
    let leading = out[start..].len() - out[start..].trim_start_matches('-').len();
    out.drain(start..start + leading);
}

/// Builds a group name every layer accepts from arbitrary parts, exactly as Chanx's
/// `chanx.utils.groups.safe_group_name(*parts, namespace=None)`.
///
/// Each segment (the namespace first, if given, then the parts) has every run of characters
/// outside `[A-Za-z0-9._-]` replaced by `-` and leading/trailing `-` trimmed; empty segments are
/// dropped and the rest joined with `.`. A name longer than [`MAX_GROUP_NAME_LENGTH`] (99) is cut
/// to 86 characters followed by `.` and the 12 hex digits of BLAKE2s (`digest_size=6`) of the
/// whole uncut name, so it stays deterministic and distinct.
///
/// ```
/// # use chanx_runtime::layer::safe_group_name;
/// assert_eq!(safe_group_name(&["user", "7"], Some("notify")), "notify.user.7");
/// assert_eq!(safe_group_name(&["room", "Weekly Sync!"], None), "room.Weekly-Sync");
/// ```
///
/// Where Chanx raises `ValueError` because nothing is left (all parts empty after slugging),
/// this returns an empty string, which every layer rejects as a group name.
pub fn safe_group_name(parts: &[&str], namespace: Option<&str>) -> String {
    let mut name = String::new();
    for segment in namespace.iter().chain(parts) {
        let before = name.len();
        if before > 0 {
            name.push('.');
        }
        let start = name.len();
        slug(segment, &mut name);
        if name.len() == start {
            // Empty segments are dropped, with their separator.
            name.truncate(before);
        }
    }
    if name.len() > MAX_GROUP_NAME_LENGTH {
        const DIGEST_HEX: usize = 12;
        let digest = blake2s::hash(name.as_bytes(), DIGEST_HEX / 2);
        // The name is ASCII after slugging, so byte and character lengths agree.
        name.truncate(MAX_GROUP_NAME_LENGTH - DIGEST_HEX - 1);
        name.push('.');
        for byte in digest {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            name.push(char::from(HEX[usize::from(byte >> 4)]));
            name.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    name
}

/// BLAKE2s (RFC 7693), unkeyed, with a chosen digest length; only what `safe_group_name` needs.
mod blake2s {
    const IV: [u32; 8] = [
        0x6A09_E667,
        0xBB67_AE85,
        0x3C6E_F372,
        0xA54F_F53A,
        0x510E_527F,
        0x9B05_688C,
        0x1F83_D9AB,
        0x5BE0_CD19,
    ];

    const SIGMA: [[usize; 16]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
        [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
        [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
        [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
        [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
        [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
        [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
        [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
        [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    ];

    const BLOCK: usize = 64;

    #[allow(clippy::many_single_char_names)]
    fn g(v: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize, x: u32, y: u32) {
        v[a] = v[a].wrapping_add(v[b]).wrapping_add(x);
        v[d] = (v[d] ^ v[a]).rotate_right(16);
        v[c] = v[c].wrapping_add(v[d]);
        v[b] = (v[b] ^ v[c]).rotate_right(12);
        v[a] = v[a].wrapping_add(v[b]).wrapping_add(y);
        v[d] = (v[d] ^ v[a]).rotate_right(8);
        v[c] = v[c].wrapping_add(v[d]);
        v[b] = (v[b] ^ v[c]).rotate_right(7);
    }

    fn compress(h: &mut [u32; 8], block: &[u8; BLOCK], counter: u64, last: bool) {
        let mut m = [0u32; 16];
        for (word, bytes) in m.iter_mut().zip(block.chunks_exact(4)) {
            *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        let mut v = [0u32; 16];
        v[..8].copy_from_slice(h);
        v[8..].copy_from_slice(&IV);
        // The counter is split into its low and high 32-bit words.
        v[12] ^= counter as u32;
        v[13] ^= (counter >> 32) as u32;
        if last {
            v[14] = !v[14];
        }
        for s in &SIGMA {
            g(&mut v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
            g(&mut v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
            g(&mut v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
            g(&mut v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
            g(&mut v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
            g(&mut v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
            g(&mut v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
            g(&mut v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
        }
        for i in 0..8 {
            h[i] ^= v[i] ^ v[i + 8];
        }
    }

    /// The BLAKE2s digest of `data`, `out_len` bytes long (clamped to 1..=32).
    pub(super) fn hash(data: &[u8], out_len: usize) -> Vec<u8> {
        let out_len = out_len.clamp(1, 32);
        let mut h = IV;
        // Parameter block word 0: digest length, key length 0, fanout 1, depth 1.
        h[0] ^= 0x0101_0000 ^ out_len as u32;
        let mut counter: u64 = 0;
        let mut rest = data;
        while rest.len() > BLOCK {
            let (block, tail) = rest.split_at(BLOCK);
            counter += BLOCK as u64;
            let mut buf = [0u8; BLOCK];
            buf.copy_from_slice(block);
            compress(&mut h, &buf, counter, false);
            rest = tail;
        }
        let mut buf = [0u8; BLOCK];
        buf[..rest.len()].copy_from_slice(rest);
        counter += rest.len() as u64;
        compress(&mut h, &buf, counter, true);
        h.iter()
            .flat_map(|word| word.to_le_bytes())
            .take(out_len)
            .collect()
    }

    #[cfg(test)]
    mod tests {
        fn hex(bytes: &[u8]) -> String {
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }

        #[test]
        fn rfc7693_abc_vector() {
            // RFC 7693, Appendix B.
            assert_eq!(
                hex(&super::hash(b"abc", 32)),
                "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"
            );
        }

        #[test]
        fn empty_input_and_short_digests_match_python_hashlib() {
            // hashlib.blake2s(b"").hexdigest()
            assert_eq!(
                hex(&super::hash(b"", 32)),
                "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9"
            );
            // hashlib.blake2s(b"abc", digest_size=6).hexdigest(): the digest size is part of
            // the parameter block, so this is not a prefix of the 32-byte digest.
            assert_eq!(hex(&super::hash(b"abc", 6)), "1874778958c5");
            // Several blocks: hashlib.blake2s(b"a" * 200, digest_size=6).hexdigest()
            assert_eq!(hex(&super::hash(&[b'a'; 200], 6)), "d2797b5f5021");
        }

        #[test]
        fn exact_block_multiples() {
            // hashlib.blake2s(b"a" * 64).hexdigest() and b"a" * 128
            assert_eq!(super::hash(&[b'a'; 64], 32).len(), 32);
            assert_ne!(super::hash(&[b'a'; 64], 32), super::hash(&[b'a'; 128], 32));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_message_encodes_its_frame_once() {
        let mut message = LayerMessage::new();
        message.insert("type".to_owned(), Value::from("x"));
        let shared = SharedMessage::new(message.clone());
        let other = shared.clone();
        let calls = std::cell::Cell::new(0);
        let encode = |m: &LayerMessage| {
            calls.set(calls.get() + 1);
            Some(m["type"].to_string())
        };
        assert_eq!(shared.frame_with(encode), Some("\"x\""));
        assert_eq!(other.frame_with(encode), Some("\"x\""));
        assert_eq!(calls.get(), 1);
        assert_eq!(other.into_message(), message);
        assert_eq!(shared.into_message(), message);
        let nothing = SharedMessage::from(LayerMessage::new());
        assert_eq!(nothing.frame_with(|_| None), None);
        assert_eq!(nothing.frame_with(|_| Some(String::new())), None);
    }

    #[test]
    fn group_message_fields_agree_with_classify() {
        let cases = [
            serde_json::json!({"type": "handle_group_message", "message": {"a": 1}, "exclude_current": true, "from_channel": "c"}),
            serde_json::json!({"type": "handle.group.message", "message": 1, "exclude_current": false, "from_channel": null}),
            serde_json::json!({"type": "handle_group_message", "exclude_current": false, "from_channel": null}),
            serde_json::json!({"type": "handle_group_message", "message": 1, "exclude_current": 0, "from_channel": null}),
            serde_json::json!({"type": "handle_group_message", "message": 1, "exclude_current": true, "from_channel": 3}),
            serde_json::json!({"type": "handle_group_message", "message": 1, "exclude_current": true}),
            serde_json::json!({"type": "handle_channel_event", "message": 1, "exclude_current": true, "from_channel": null}),
            serde_json::json!({"message": 1, "exclude_current": true, "from_channel": null}),
        ];
        for case in cases {
            let map = case.as_object().unwrap().clone();
            let fields = group_message_fields(&map).map(|f| {
                (
                    f.message.clone(),
                    f.exclude_current,
                    f.from_channel.map(str::to_owned),
                )
            });
            let classified = match classify(map.clone()) {
                Inbound::GroupMessage {
                    message,
                    exclude_current,
                    from_channel,
                } => Some((message, exclude_current, from_channel)),
                _ => None,
            };
            assert_eq!(fields, classified, "{case}");
        }
    }

    #[test]
    fn channel_names_follow_channels_rules() {
        for ok in [
            "chat",
            "specific..inmemory!MTsLeSTaRtym",
            "a-b_c.d",
            "specific.abc!",
            "x!y.z-1_2",
            "0",
            &"a".repeat(99),
        ] {
            assert_eq!(valid_channel_name(ok), Ok(()), "{ok:?} should be valid");
        }
        for bad in [
            "",
            "!abc",
            "a b",
            "a!b!c",
            "caf\u{e9}",
            "a:b",
            "a/b",
            "chat\n",
            &"a".repeat(100),
        ] {
            assert_eq!(
                valid_channel_name(bad),
                Err(LayerError::InvalidChannelName(bad.to_owned())),
                "{bad:?} should be invalid"
            );
        }
    }

    #[test]
    fn group_names_follow_channels_rules() {
        for ok in [
            "room.lobby",
            "notify.user.7",
            "TickerTopic.ticker-ACME",
            "_",
        ] {
            assert_eq!(valid_group_name(ok), Ok(()), "{ok:?} should be valid");
        }
        for bad in ["", "a!b", "room lobby", "ticker:ACME", &"g".repeat(100)] {
            assert_eq!(
                valid_group_name(bad),
                Err(LayerError::InvalidGroupName(bad.to_owned())),
                "{bad:?} should be invalid"
            );
        }
        assert!(valid_group_name(&"g".repeat(99)).is_ok());
    }

    #[test]
    fn non_local_name_cuts_after_the_bang() {
        assert_eq!(non_local_name("specific.abc!def"), "specific.abc!");
        assert_eq!(non_local_name("specific.abc!"), "specific.abc!");
        assert_eq!(non_local_name("chat"), "chat");
    }

    #[test]
    fn messages_need_a_string_type_and_no_reserved_key() {
        let ok = serde_json::json!({"type": "x"});
        assert!(valid_message(ok.as_object().unwrap()).is_ok());
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"type": 1}),
            serde_json::json!({"type": "x", "__asgi_channel__": "c"}),
        ] {
            assert!(matches!(
                valid_message(bad.as_object().unwrap()),
                Err(LayerError::InvalidMessage(_))
            ));
        }
    }

    #[test]
    fn glob_match_follows_fnmatch() {
        assert!(glob_match("*", ""));
        assert!(glob_match("http.request", "http.request"));
        assert!(!glob_match("http.request", "http.requests"));
        assert!(glob_match("http.response!*", "http.response!abc"));
        assert!(!glob_match("http.response!*", "http.response"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("[a-c]x", "bx"));
        assert!(!glob_match("[a-c]x", "dx"));
        assert!(glob_match("[!a-c]x", "dx"));
        assert!(!glob_match("[!a-c]x", "ax"));
        assert!(glob_match("[]]", "]"));
        assert!(glob_match("[!]]", "a"));
        assert!(glob_match("[-a]", "-"));
        assert!(glob_match("[a-]", "-"));
        assert!(!glob_match("[z-a]x", "ax") && !glob_match("[z-a]x", "zx"));
        // An unclosed bracket is a literal.
        assert!(glob_match("a[b", "a[b"));
        assert!(!glob_match("A*", "a"));
    }

    #[test]
    fn safe_group_name_matches_chanx() {
        // Expected values computed with chanx.utils.groups.safe_group_name's algorithm.
        assert_eq!(
            safe_group_name(&["user", "7"], Some("notify")),
            "notify.user.7"
        );
        assert_eq!(
            safe_group_name(&["room", "Weekly Sync!"], None),
            "room.Weekly-Sync"
        );
        assert_eq!(
            safe_group_name(&["ticker:ACME"], Some("TickerTopic")),
            "TickerTopic.ticker-ACME"
        );
        assert_eq!(safe_group_name(&["discussion_5"], None), "discussion_5");
        assert_eq!(safe_group_name(&["", "--", "a"], None), "a");
        assert_eq!(safe_group_name(&["-a b-"], Some("  ")), "a-b");
        assert_eq!(
            safe_group_name(
                &["room", &"\u{e9}".repeat(60), &"ab c".repeat(20)],
                Some("ns")
            ),
            "ns.room.ab-cab-cab-cab-cab-cab-cab-cab-cab-cab-cab-cab-cab-cab-cab-cab-cab-cab-cab-cab-c"
        );
        assert_eq!(safe_group_name(&[], None), "");
        assert_eq!(safe_group_name(&["!!"], Some("")), "");
    }

    #[test]
    fn safe_group_name_truncates_with_a_blake2s_suffix() {
        let exact = "a".repeat(99);
        assert_eq!(safe_group_name(&[&exact], None), exact);
        let long = safe_group_name(&[&"a".repeat(100)], None);
        assert_eq!(long, format!("{}.aa3918874ba9", "a".repeat(86)));
        assert_eq!(long.len(), MAX_GROUP_NAME_LENGTH);
        let x = safe_group_name(&[&"x".repeat(120)], None);
        assert_eq!(x, format!("{}.8d7dc2472c3f", "x".repeat(86)));
        assert!(valid_group_name(&x).is_ok());
    }

    #[test]
    fn classify_sorts_by_type() {
        let event =
            serde_json::json!({"type": "handle_channel_event", "event_data": {"action": "a"}});
        assert_eq!(
            classify(event.as_object().unwrap().clone()),
            Inbound::ChannelEvent {
                event_data: serde_json::json!({"action": "a"})
            }
        );
        // Channels dispatches "a.b" to the handler "a_b".
        let dotted = serde_json::json!({"type": "handle.channel.event", "event_data": 1});
        assert_eq!(
            classify(dotted.as_object().unwrap().clone()),
            Inbound::ChannelEvent {
                event_data: serde_json::json!(1)
            }
        );
        let missing = serde_json::json!({"type": "handle_channel_event"});
        assert_eq!(
            classify(missing.as_object().unwrap().clone()),
            Inbound::ChannelEvent {
                event_data: serde_json::json!({})
            }
        );
        let topic = serde_json::json!({
            "type": "handle_topic_event", "topic": "ticker:ACME", "seq": 3, "event_data": {"x": 1}
        });
        assert_eq!(
            classify(topic.as_object().unwrap().clone()),
            Inbound::TopicEvent {
                topic: "ticker:ACME".to_owned(),
                seq: Some(3),
                event_data: serde_json::json!({"x": 1})
            }
        );
        let topic_null_seq = serde_json::json!({
            "type": "handle_topic_event", "topic": "t", "seq": null, "event_data": null
        });
        assert!(matches!(
            classify(topic_null_seq.as_object().unwrap().clone()),
            Inbound::TopicEvent { seq: None, .. }
        ));
    }

    #[test]
    fn classify_leaves_malformed_messages_alone() {
        for bad in [
            serde_json::json!({"event_data": {}}),
            serde_json::json!({"type": 5}),
            serde_json::json!({"type": "chat.message", "text": "hi"}),
            serde_json::json!({"type": "handle_group_message", "message": {}, "from_channel": null}),
            serde_json::json!({"type": "handle_group_message", "message": {}, "exclude_current": "yes", "from_channel": null}),
            serde_json::json!({"type": "handle_group_message", "message": {}, "exclude_current": false}),
            serde_json::json!({"type": "handle_group_message", "message": {}, "exclude_current": false, "from_channel": 1}),
            serde_json::json!({"type": "handle_group_message", "exclude_current": false, "from_channel": null}),
            serde_json::json!({"type": "handle_topic_event", "event_data": {}}),
            serde_json::json!({"type": "handle_topic_event", "topic": "t", "seq": "1", "event_data": {}}),
            serde_json::json!({"type": "handle_topic_event", "topic": "t", "seq": 1.5, "event_data": {}}),
            serde_json::json!({"type": "handle_topic_event", "topic": "t"}),
            serde_json::json!({"type": "handle_channel_events", "event_data": {}}),
        ] {
            let map = bad.as_object().unwrap().clone();
            assert_eq!(classify(map.clone()), Inbound::Other(map));
        }
    }

    #[test]
    fn errors_display() {
        assert_eq!(
            LayerError::ChannelFull {
                channel: "c".to_owned()
            }
            .to_string(),
            "channel full: c"
        );
        assert!(
            LayerError::InvalidGroupName("a b".to_owned())
                .to_string()
                .starts_with("invalid group name \"a b\": group name must be")
        );
        assert_eq!(LayerError::Closed.to_string(), "channel layer closed");
    }

    mod chanx_messages {
        use super::super::*;
        use crate::memory::InMemoryLayer;
        use serde_json::json;

        #[derive(Serialize)]
        struct Notification {
            action: &'static str,
            payload: NotificationPayload,
        }

        #[derive(Serialize)]
        struct NotificationPayload {
            text: String,
            sender: Option<String>,
        }

        fn notification() -> Notification {
            Notification {
                action: "notification",
                payload: NotificationPayload {
                    text: "hi".to_owned(),
                    sender: None,
                },
            }
        }

        #[tokio::test]
        async fn send_event_puts_chanx_channel_event() {
            let layer = InMemoryLayer::new();
            let channel = layer.new_channel("specific.").await.unwrap();
            send_event(&layer, &channel, &notification()).await.unwrap();
            let received = layer.receive(&channel).await.unwrap();
            assert_eq!(
                Value::Object(received.clone()),
                json!({
                    "type": "handle_channel_event",
                    "event_data": {"action": "notification", "payload": {"text": "hi", "sender": null}}
                })
            );
            assert_eq!(
                serde_json::to_string(&received).unwrap(),
                r#"{"type":"handle_channel_event","event_data":{"action":"notification","payload":{"text":"hi","sender":null}}}"#
            );
            assert_eq!(
                classify(received),
                Inbound::ChannelEvent {
                    event_data: serde_json::to_value(notification()).unwrap()
                }
            );
        }

        #[tokio::test]
        async fn broadcast_event_reaches_every_group() {
            let layer = InMemoryLayer::new();
            layer.group_add("g1", "c1").await.unwrap();
            layer.group_add("g2", "c2").await.unwrap();
            layer.group_add("g2", "c1").await.unwrap();
            broadcast_event(&layer, &["g1", "g2"], &notification())
                .await
                .unwrap();
            let expected = r#"{"type":"handle_channel_event","event_data":{"action":"notification","payload":{"text":"hi","sender":null}}}"#;
            for channel in ["c1", "c1", "c2"] {
                let received = layer.receive(channel).await.unwrap();
                assert_eq!(serde_json::to_string(&received).unwrap(), expected);
            }
            assert!(matches!(
                broadcast_event(&layer, &["bad group"], &notification()).await,
                Err(LayerError::InvalidGroupName(_))
            ));
        }

        #[tokio::test]
        async fn broadcast_message_puts_chanx_group_message() {
            let layer = InMemoryLayer::new();
            layer.group_add("room", "c1").await.unwrap();
            let frame = json!({"action": "chat_notification", "payload": {"room": "lobby", "text": "hello"}});
            broadcast_message(
                &layer,
                &["room"],
                &frame,
                true,
                Some("specific..inmemory!abc"),
            )
            .await
            .unwrap();
            let received = layer.receive("c1").await.unwrap();
            assert_eq!(
                serde_json::to_string(&received).unwrap(),
                r#"{"type":"handle_group_message","message":{"action":"chat_notification","payload":{"room":"lobby","text":"hello"}},"exclude_current":true,"from_channel":"specific..inmemory!abc"}"#
            );
            assert_eq!(
                classify(received),
                Inbound::GroupMessage {
                    message: frame.clone(),
                    exclude_current: true,
                    from_channel: Some("specific..inmemory!abc".to_owned()),
                }
            );
            broadcast_message(&layer, &["room"], &frame, false, None)
                .await
                .unwrap();
            let received = layer.receive("c1").await.unwrap();
            assert_eq!(
                Value::Object(received.clone()),
                json!({"type": "handle_group_message", "message": frame, "exclude_current": false, "from_channel": null})
            );
            assert_eq!(
                received.keys().collect::<Vec<_>>(),
                ["type", "message", "exclude_current", "from_channel"]
            );
            assert_eq!(
                classify(received),
                Inbound::GroupMessage {
                    message: frame,
                    exclude_current: false,
                    from_channel: None,
                }
            );
        }

        #[tokio::test]
        async fn unserializable_values_are_invalid_messages() {
            let layer = InMemoryLayer::new();
            let mut bad = std::collections::HashMap::new();
            bad.insert((1, 2), 3);
            assert!(matches!(
                send_event(&layer, "c", &bad).await,
                Err(LayerError::InvalidMessage(_))
            ));
        }
    }
}

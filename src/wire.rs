//! The wire model: what a client and a server exchange, keyed by wire identity, and a comparison of
//! two such models.
//!
//! `check`, `diff` and `export` all meet here. A [`Model`] is built either from the IR of a spec
//! ([`Model::from_api`]) or from generated Rust code (`check::extract`). Channels are known by their
//! key, messages by their tag (else their Rust variant name when a direction is not tagged), actions by
//! the message they take, events by their operation, fields by their wire name. Rust names are kept
//! only to report renames, so reordered keys and renamed synthetic types are never a change.
//!
//! [`compare`] walks two models and lists every [`Change`], each with the direction of the data it
//! touches and whether the set of valid frames grew or shrank ([`Effect`]); `diff` turns that into
//! "breaking for clients / for servers", `check` into rule findings.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;
use serde_json::Value;

use crate::ir::tags::{self, client_indexes, is_tagged_struct};
use crate::ir::{
    Api, Constraints, Dispatch, ParameterKind, StringFormat, Ty, TyKind, TypeId, TypeKind,
};

/// A place in a file (1-based line and column), where a part of a model came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Site {
    /// The file, as displayed.
    pub file: String,
    /// The line.
    pub line: usize,
    /// The column.
    pub column: usize,
}

impl std::fmt::Display for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// The API as it appears on the wire.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// The channels, in order.
    pub channels: Vec<WChannel>,
    /// The named types; [`TyKind::Named`] indexes this list.
    pub types: Vec<WType>,
    /// Where the title and version are.
    pub site: Option<Site>,
}

/// A channel.
#[derive(Debug, Clone, Default)]
pub struct WChannel {
    /// Its key (the wire id).
    pub key: String,
    /// The Rust name of its consumer trait.
    pub consumer: String,
    /// The Rust module that holds it.
    pub module: String,
    /// The address as written (with converters), when it has one.
    pub address: Option<String>,
    /// The address parameters, in order.
    pub parameters: Vec<WParam>,
    /// The property that tells client messages apart, when that direction is tagged.
    pub client_tag: Option<String>,
    /// The property that tells server messages apart, when that direction is tagged.
    pub server_tag: Option<String>,
    /// What the client may send.
    pub client_messages: Vec<WMessage>,
    /// What the server may send.
    pub server_messages: Vec<WMessage>,
    /// The client actions (one per handler).
    pub actions: Vec<WAction>,
    /// The server events (one per `send` operation).
    pub events: Vec<WEvent>,
    /// Where it is defined.
    pub site: Option<Site>,
}

/// An address parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct WParam {
    /// The placeholder name.
    pub name: String,
    /// Its type.
    pub kind: ParameterKind,
    /// Where it is defined.
    pub site: Option<Site>,
}

/// A message in one direction.
#[derive(Debug, Clone)]
pub struct WMessage {
    /// Its identity: the tag value when the direction is tagged, else the Rust variant name.
    pub id: String,
    /// The tag value, when the direction is tagged.
    pub tag: Option<String>,
    /// The Rust variant name.
    pub rust_name: String,
    /// The payload (`None`: any JSON).
    pub payload: Option<Ty>,
    /// Where it is defined.
    pub site: Option<Site>,
}

/// A client action: a handler of the consumer trait.
#[derive(Debug, Clone)]
pub struct WAction {
    /// The trait method.
    pub method: String,
    /// The id of the client message it takes.
    pub message: String,
    /// The ids of the server messages it may reply with.
    pub replies: BTreeSet<String>,
    /// Where it is defined.
    pub site: Option<Site>,
}

/// A server event: a `send` operation, one forwarding method of the consumer trait.
#[derive(Debug, Clone)]
pub struct WEvent {
    /// The trait method (from the operation id).
    pub method: String,
    /// The ids of the server messages it sends.
    pub messages: BTreeSet<String>,
    /// Where it is defined.
    pub site: Option<Site>,
}

/// A named type.
#[derive(Debug, Clone)]
pub struct WType {
    /// The Rust name.
    pub rust_name: String,
    /// What it is.
    pub kind: WTypeKind,
    /// Where it is defined.
    pub site: Option<Site>,
}

/// The shape of a named type.
#[derive(Debug, Clone)]
pub enum WTypeKind {
    /// An object.
    Struct {
        /// Its properties (the tag property of a tagged enum's variants excluded).
        fields: Vec<WField>,
        /// Unknown properties are rejected.
        deny_unknown: bool,
        /// The type of other properties, when they are kept.
        additional: Option<Ty>,
    },
    /// A string enum.
    StringEnum(Vec<String>),
    /// An integer enum.
    IntegerEnum(Vec<i64>),
    /// A union.
    Union {
        /// The tag property, for internally tagged unions.
        tag: Option<String>,
        /// The arms.
        arms: Vec<WArm>,
    },
    /// A named use of another type.
    Alias(Ty),
}

/// A property of an object.
#[derive(Debug, Clone)]
pub struct WField {
    /// The wire name.
    pub wire_name: String,
    /// The Rust name.
    pub rust_name: String,
    /// Its type.
    pub ty: Ty,
    /// Must be present.
    pub required: bool,
    /// Where it is defined.
    pub site: Option<Site>,
}

/// An arm of a union.
#[derive(Debug, Clone)]
pub struct WArm {
    /// The tag value (tagged unions).
    pub tag: Option<String>,
    /// Its type.
    pub ty: Ty,
    /// Where it is defined.
    pub site: Option<Site>,
}

impl Model {
    /// The wire model of a spec's IR. `locate` turns `(file, pointer)` into a place, when the caller
    /// has the sources.
    pub fn from_api(api: &Api, locate: &dyn Fn(&str) -> Option<Site>) -> Model {
        let tag_owned: HashSet<(usize, String)> = tags::tag_owned_fields(api)
            .into_iter()
            .map(|(id, property)| (id.0, property))
            .collect();
        let message_types = message_types(api);
        let types = api
            .types
            .iter()
            .enumerate()
            .map(|(index, def)| {
                let site = locate(&def.origin);
                let kind = match &def.kind {
                    TypeKind::Struct { fields, additional } => WTypeKind::Struct {
                        fields: fields
                            .iter()
                            .filter(|f| !tag_owned.contains(&(index, f.wire_name.clone())))
                            .map(|f| WField {
                                wire_name: f.wire_name.clone(),
                                rust_name: f.rust_name.clone(),
                                ty: f.ty.clone(),
                                required: f.required,
                                site: locate(&format!(
                                    "{}/properties/{}",
                                    def.origin,
                                    escape(&f.wire_name)
                                )),
                            })
                            .collect(),
                        deny_unknown: matches!(additional, crate::ir::Additional::Deny)
                            && !message_types.contains(&index),
                        additional: match additional {
                            crate::ir::Additional::Typed(ty) => Some((**ty).clone()),
                            _ => None,
                        },
                    },
                    TypeKind::StringEnum { variants } => {
                        WTypeKind::StringEnum(variants.iter().map(|v| v.value.clone()).collect())
                    }
                    TypeKind::IntegerEnum { variants } => {
                        WTypeKind::IntegerEnum(variants.iter().map(|v| v.value).collect())
                    }
                    TypeKind::Union { variants, tagging } => WTypeKind::Union {
                        tag: tags::union_tag(api, variants, tagging).map(str::to_owned),
                        arms: variants
                            .iter()
                            .map(|v| WArm {
                                tag: tags::union_tag(api, variants, tagging).and(v.tag.clone()),
                                ty: v.ty.clone(),
                                site: site.clone(),
                            })
                            .collect(),
                    },
                    TypeKind::Alias { target } => WTypeKind::Alias((**target).clone()),
                };
                WType {
                    rust_name: def.rust_name.clone(),
                    kind,
                    site,
                }
            })
            .collect();
        let entry = api_entry_file(api);
        let channels = api
            .channels
            .iter()
            .map(|channel| {
                let at = |pointer: String| locate(&format!("{entry}#{pointer}"));
                let channel_pointer = format!("/channels/{}", escape(&channel.key));
                let client_indexes = client_indexes(channel);
                let client_tagged = matches!(channel.client_dispatch, Dispatch::Tag { .. })
                    && client_indexes
                        .iter()
                        .all(|&i| is_tagged_struct(api, channel, i));
                let server_tagged = matches!(channel.server_dispatch, Dispatch::Tag { .. })
                    && channel
                        .server_messages
                        .iter()
                        .all(|&i| is_tagged_struct(api, channel, i));
                let messages = |indexes: &[usize], tagged: bool| {
                    let mut seen = HashSet::new();
                    indexes
                        .iter()
                        .map(|&i| {
                            let m = &channel.messages[i];
                            let tag = if tagged { m.tag.clone() } else { None };
                            let id = match &tag {
                                Some(tag) if seen.insert(tag.clone()) => tag.clone(),
                                Some(tag) => format!("{tag}#{}", m.rust_name),
                                None => m.rust_name.clone(),
                            };
                            WMessage {
                                id,
                                tag,
                                rust_name: m.rust_name.clone(),
                                // No payload schema is any JSON (`serde_json::Value` in code).
                                payload: Some(
                                    m.payload.clone().unwrap_or_else(|| Ty::plain(TyKind::Any)),
                                ),
                                site: at(format!("{channel_pointer}/messages/{}", escape(&m.key))),
                            }
                        })
                        .collect::<Vec<_>>()
                };
                let client_messages = messages(&client_indexes, client_tagged);
                let server_messages = messages(&channel.server_messages, server_tagged);
                let client_id = |i: usize| {
                    let pos = client_indexes.iter().position(|&c| c == i).unwrap_or(0);
                    client_messages[pos].id.clone()
                };
                let server_id = |i: usize| {
                    channel
                        .server_messages
                        .iter()
                        .position(|&s| s == i)
                        .map(|pos| server_messages[pos].id.clone())
                        .unwrap_or_else(|| channel.messages[i].rust_name.clone())
                };
                let tag_property = |d: &Dispatch, tagged: bool| match (d, tagged) {
                    (Dispatch::Tag { property }, true) => Some(property.clone()),
                    _ => None,
                };
                WChannel {
                    key: channel.key.clone(),
                    consumer: format!("{}Consumer", channel.rust_name),
                    module: channel.module_name.clone(),
                    address: channel.address.as_ref().map(|a| a.raw.clone()),
                    parameters: channel
                        .address
                        .iter()
                        .flat_map(|a| &a.parameters)
                        .map(|p| WParam {
                            name: p.name.clone(),
                            kind: p.kind,
                            site: at(format!("{channel_pointer}/parameters/{}", escape(&p.name))),
                        })
                        .collect(),
                    client_tag: tag_property(&channel.client_dispatch, client_tagged),
                    server_tag: tag_property(&channel.server_dispatch, server_tagged),
                    actions: channel
                        .client_actions
                        .iter()
                        .map(|a| WAction {
                            method: unraw(&a.method),
                            message: client_id(a.message),
                            replies: a.replies.iter().map(|&r| server_id(r)).collect(),
                            site: at(format!("/operations/{}", escape(&a.operation))),
                        })
                        .collect(),
                    events: channel
                        .server_events
                        .iter()
                        .map(|e| WEvent {
                            method: unraw(&e.method),
                            messages: e.messages.iter().map(|&m| server_id(m)).collect(),
                            site: at(format!("/operations/{}", escape(&e.operation))),
                        })
                        .collect(),
                    client_messages,
                    server_messages,
                    site: at(channel_pointer),
                }
            })
            .collect();
        Model {
            title: api.title.clone(),
            version: api.version.clone(),
            channels,
            types,
            site: locate(&format!("{entry}#/info")),
        }
    }

    /// The type with this id.
    pub fn type_def(&self, id: TypeId) -> Option<&WType> {
        self.types.get(id.0)
    }
}

/// The display name of the entry file, read from any type's origin (they all name a file).
fn api_entry_file(api: &Api) -> String {
    api.types
        .iter()
        .find_map(|t| t.origin.split_once('#').map(|(f, _)| f.to_owned()))
        .unwrap_or_default()
}

fn unraw(name: &str) -> String {
    name.trim_start_matches("r#").to_owned()
}

/// RFC 6901 escaping of one pointer segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Types that are a message payload (never `deny_unknown_fields`: the envelope shares their object).
fn message_types(api: &Api) -> HashSet<usize> {
    let mut set = HashSet::new();
    for channel in &api.channels {
        let client = client_indexes(channel);
        for &index in client.iter().chain(&channel.server_messages) {
            if let Some(Ty {
                kind: TyKind::Named(id),
                nullable: false,
                ..
            }) = &channel.messages[index].payload
            {
                set.insert(id.0);
            }
        }
    }
    set
}

// ---------------------------------------------------------------------------------------------------
// Comparison

/// Which way the data of a change travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Client to server: what a client sends (actions).
    ClientToServer,
    /// Server to client: what a server sends (replies and events).
    ServerToClient,
    /// Both, or neither (addresses, parameters, Rust names).
    Connection,
}

/// What a change does to the set of frames (or connections) a reader accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The new side accepts more.
    Widened,
    /// The new side accepts less.
    Narrowed,
    /// Neither contains the other.
    Incompatible,
    /// The wire does not change (Rust names, documentation-like facts).
    Neutral,
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// `info.title` or `info.version`.
    Info,
    /// A channel is only in the old model.
    ChannelRemoved,
    /// A channel is only in the new model.
    ChannelAdded,
    /// The address changed.
    AddressChanged,
    /// A parameter was added, removed or retyped.
    ParameterChanged,
    /// The property that tells messages apart changed.
    DispatchChanged,
    /// A message is only in the old model.
    MessageRemoved,
    /// A message is only in the new model.
    MessageAdded,
    /// An action is only in the old model.
    ActionRemoved,
    /// An action is only in the new model.
    ActionAdded,
    /// An action's handler has another name.
    MethodRenamed,
    /// An action may reply with a message it could not before.
    ReplyAdded,
    /// An action no longer replies with a message.
    ReplyRemoved,
    /// An event is only in the old model.
    EventRemoved,
    /// An event is only in the new model.
    EventAdded,
    /// An event sends other messages.
    EventMessagesChanged,
    /// A field is only in the old model.
    FieldRemoved,
    /// A field is only in the new model.
    FieldAdded,
    /// A field became required or optional.
    RequiredChanged,
    /// `null` became allowed or not.
    NullableChanged,
    /// The type changed.
    TypeChanged,
    /// A validation constraint changed.
    ConstraintChanged,
    /// An enum value was removed.
    EnumValueRemoved,
    /// An enum value was added.
    EnumValueAdded,
    /// A union arm was removed.
    ArmRemoved,
    /// A union arm was added.
    ArmAdded,
    /// Unknown properties became rejected or accepted.
    UnknownFieldsChanged,
    /// The type of additional properties changed.
    AdditionalChanged,
}

impl ChangeKind {
    /// The stable kebab-case id.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Info => "info",
            ChangeKind::ChannelRemoved => "channel-removed",
            ChangeKind::ChannelAdded => "channel-added",
            ChangeKind::AddressChanged => "address-changed",
            ChangeKind::ParameterChanged => "parameter-changed",
            ChangeKind::DispatchChanged => "dispatch-changed",
            ChangeKind::MessageRemoved => "message-removed",
            ChangeKind::MessageAdded => "message-added",
            ChangeKind::ActionRemoved => "action-removed",
            ChangeKind::ActionAdded => "action-added",
            ChangeKind::MethodRenamed => "method-renamed",
            ChangeKind::ReplyAdded => "reply-added",
            ChangeKind::ReplyRemoved => "reply-removed",
            ChangeKind::EventRemoved => "event-removed",
            ChangeKind::EventAdded => "event-added",
            ChangeKind::EventMessagesChanged => "event-messages-changed",
            ChangeKind::FieldRemoved => "field-removed",
            ChangeKind::FieldAdded => "field-added",
            ChangeKind::RequiredChanged => "required-changed",
            ChangeKind::NullableChanged => "nullable-changed",
            ChangeKind::TypeChanged => "type-changed",
            ChangeKind::ConstraintChanged => "constraint-changed",
            ChangeKind::EnumValueRemoved => "enum-value-removed",
            ChangeKind::EnumValueAdded => "enum-value-added",
            ChangeKind::ArmRemoved => "arm-removed",
            ChangeKind::ArmAdded => "arm-added",
            ChangeKind::UnknownFieldsChanged => "unknown-fields-changed",
            ChangeKind::AdditionalChanged => "additional-changed",
        }
    }
}

/// One difference between two models.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// What changed.
    pub kind: ChangeKind,
    /// Which way the touched data travels.
    pub direction: Direction,
    /// What it does to the accepted set.
    pub effect: Effect,
    /// Where, in wire terms (`chat/client/chat.payload.text`).
    pub path: String,
    /// A sentence for people.
    pub message: String,
    /// The place in the old model.
    pub old_site: Option<Site>,
    /// The place in the new model.
    pub new_site: Option<Site>,
}

/// What [`compare`] looks at.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompareOptions {
    /// Ignore facts that generated code does not keep (formats without a Rust type, `minProperties`,
    /// `maxProperties`, mixed `enum`s, byte strings).
    pub code_level: bool,
    /// Report Rust-only differences (handler names).
    pub rust_names: bool,
}

/// Every difference from `old` to `new`.
pub fn compare(old: &Model, new: &Model, options: CompareOptions) -> Vec<Change> {
    let mut cx = Cmp {
        old,
        new,
        options,
        out: Vec::new(),
        seen: HashSet::new(),
    };
    cx.models();
    cx.out
}

struct Cmp<'a> {
    old: &'a Model,
    new: &'a Model,
    options: CompareOptions,
    out: Vec<Change>,
    seen: HashSet<(usize, usize, u8)>,
}

fn dir_code(d: Direction) -> u8 {
    match d {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
        Direction::Connection => 2,
    }
}

impl Cmp<'_> {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        kind: ChangeKind,
        direction: Direction,
        effect: Effect,
        path: &str,
        message: String,
        old_site: Option<&Site>,
        new_site: Option<&Site>,
    ) {
        self.out.push(Change {
            kind,
            direction,
            effect,
            path: path.to_owned(),
            message,
            old_site: old_site.cloned(),
            new_site: new_site.cloned(),
        });
    }

    fn models(&mut self) {
        let (old, new) = (self.old, self.new);
        if old.title != new.title || old.version != new.version {
            self.push(
                ChangeKind::Info,
                Direction::Connection,
                Effect::Neutral,
                "info",
                format!(
                    "title/version `{} {}` is now `{} {}`",
                    old.title, old.version, new.title, new.version
                ),
                old.site.as_ref(),
                new.site.as_ref(),
            );
        }
        for a in &old.channels {
            match new.channels.iter().find(|b| b.key == a.key) {
                Some(b) => self.channel(a, b),
                None => self.push(
                    ChangeKind::ChannelRemoved,
                    Direction::Connection,
                    Effect::Narrowed,
                    &a.key,
                    format!("channel `{}` was removed", a.key),
                    a.site.as_ref(),
                    None,
                ),
            }
        }
        for b in &new.channels {
            if !old.channels.iter().any(|a| a.key == b.key) {
                self.push(
                    ChangeKind::ChannelAdded,
                    Direction::Connection,
                    Effect::Neutral,
                    &b.key,
                    format!("channel `{}` was added", b.key),
                    None,
                    b.site.as_ref(),
                );
            }
        }
    }

    fn channel(&mut self, a: &WChannel, b: &WChannel) {
        let key = &a.key;
        if a.address != b.address {
            let template = |s: &Option<String>| s.as_deref().map(strip_converters);
            let effect = if template(&a.address) == template(&b.address) {
                Effect::Narrowed
            } else {
                Effect::Incompatible
            };
            self.push(
                ChangeKind::AddressChanged,
                Direction::Connection,
                effect,
                &format!("{key}/address"),
                format!(
                    "address `{}` is now `{}`",
                    a.address.as_deref().unwrap_or("(none)"),
                    b.address.as_deref().unwrap_or("(none)")
                ),
                a.site.as_ref(),
                b.site.as_ref(),
            );
        }
        let kinds = |ps: &[WParam]| {
            ps.iter()
                .map(|p| (p.name.clone(), p.kind))
                .collect::<Vec<_>>()
        };
        if kinds(&a.parameters) != kinds(&b.parameters) {
            let site_a = a
                .parameters
                .first()
                .and_then(|p| p.site.as_ref())
                .or(a.site.as_ref());
            let site_b = b
                .parameters
                .first()
                .and_then(|p| p.site.as_ref())
                .or(b.site.as_ref());
            let show = |ps: &[WParam]| {
                ps.iter()
                    .map(|p| format!("{}: {:?}", p.name, p.kind).to_lowercase())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            self.push(
                ChangeKind::ParameterChanged,
                Direction::Connection,
                Effect::Incompatible,
                &format!("{key}/parameters"),
                format!(
                    "parameters ({}) are now ({})",
                    show(&a.parameters),
                    show(&b.parameters)
                ),
                site_a.cloned().as_ref(),
                site_b.cloned().as_ref(),
            );
        }
        for (dir, ta, tb, side) in [
            (
                Direction::ClientToServer,
                &a.client_tag,
                &b.client_tag,
                "client",
            ),
            (
                Direction::ServerToClient,
                &a.server_tag,
                &b.server_tag,
                "server",
            ),
        ] {
            let empty = |c: &WChannel| match dir {
                Direction::ClientToServer => c.client_messages.is_empty(),
                _ => c.server_messages.is_empty(),
            };
            // A direction that lost (or gained) all its messages is reported by message.
            if ta != tb && !empty(a) && !empty(b) {
                self.push(
                    ChangeKind::DispatchChanged,
                    dir,
                    Effect::Incompatible,
                    &format!("{key}/{side}"),
                    format!(
                        "{side} messages are told apart by {} instead of {}",
                        tb.as_deref()
                            .map_or("shape".to_owned(), |t| format!("`{t}`")),
                        ta.as_deref()
                            .map_or("shape".to_owned(), |t| format!("`{t}`")),
                    ),
                    a.site.as_ref(),
                    b.site.as_ref(),
                );
            }
        }
        self.messages((a, b), Direction::ClientToServer);
        self.messages((a, b), Direction::ServerToClient);
        for x in &a.actions {
            // Several operations may take one message: pair them by handler first.
            let same = b
                .actions
                .iter()
                .find(|y| y.message == x.message && y.method == x.method);
            match same.or_else(|| b.actions.iter().find(|y| y.message == x.message)) {
                Some(y) => self.action(key, x, y),
                None => self.push(
                    ChangeKind::ActionRemoved,
                    Direction::ClientToServer,
                    Effect::Narrowed,
                    &format!("{key}/actions/{}", x.message),
                    format!(
                        "action `{}` (handler `{}`) was removed",
                        x.message, x.method
                    ),
                    x.site.as_ref(),
                    b.site.as_ref(),
                ),
            }
        }
        for y in &b.actions {
            if !a.actions.iter().any(|x| x.message == y.message) {
                self.push(
                    ChangeKind::ActionAdded,
                    Direction::ClientToServer,
                    Effect::Widened,
                    &format!("{key}/actions/{}", y.message),
                    format!("action `{}` (handler `{}`) was added", y.message, y.method),
                    a.site.as_ref(),
                    y.site.as_ref(),
                );
            }
        }
        for x in &a.events {
            match b.events.iter().find(|y| y.method == x.method) {
                Some(y) if y.messages != x.messages => self.push(
                    ChangeKind::EventMessagesChanged,
                    Direction::ServerToClient,
                    set_effect(&x.messages, &y.messages),
                    &format!("{key}/events/{}", x.method),
                    format!(
                        "event `{}` sends [{}] instead of [{}]",
                        x.method,
                        join(&y.messages),
                        join(&x.messages)
                    ),
                    x.site.as_ref(),
                    y.site.as_ref(),
                ),
                Some(_) => {}
                None => self.push(
                    ChangeKind::EventRemoved,
                    Direction::ServerToClient,
                    Effect::Neutral,
                    &format!("{key}/events/{}", x.method),
                    format!("event `{}` was removed", x.method),
                    x.site.as_ref(),
                    b.site.as_ref(),
                ),
            }
        }
        for y in &b.events {
            if !a.events.iter().any(|x| x.method == y.method) {
                self.push(
                    ChangeKind::EventAdded,
                    Direction::ServerToClient,
                    Effect::Neutral,
                    &format!("{key}/events/{}", y.method),
                    format!("event `{}` was added", y.method),
                    a.site.as_ref(),
                    y.site.as_ref(),
                );
            }
        }
    }

    fn action(&mut self, key: &str, x: &WAction, y: &WAction) {
        let path = format!("{key}/actions/{}", x.message);
        if self.options.rust_names && x.method != y.method {
            self.push(
                ChangeKind::MethodRenamed,
                Direction::Connection,
                Effect::Neutral,
                &path,
                format!(
                    "the handler of `{}` is `{}`, not `{}`",
                    x.message, y.method, x.method
                ),
                x.site.as_ref(),
                y.site.as_ref(),
            );
        }
        for r in y.replies.difference(&x.replies) {
            self.push(
                ChangeKind::ReplyAdded,
                Direction::ServerToClient,
                Effect::Widened,
                &path,
                format!("action `{}` may now reply with `{r}`", x.message),
                x.site.as_ref(),
                y.site.as_ref(),
            );
        }
        for r in x.replies.difference(&y.replies) {
            self.push(
                ChangeKind::ReplyRemoved,
                Direction::ServerToClient,
                Effect::Narrowed,
                &path,
                format!("action `{}` no longer replies with `{r}`", x.message),
                x.site.as_ref(),
                y.site.as_ref(),
            );
        }
    }

    fn messages(&mut self, channels: (&WChannel, &WChannel), dir: Direction) {
        let (old_channel, new_channel) = (channels.0.site.as_ref(), channels.1.site.as_ref());
        let key = &channels.0.key;
        let (a, b) = match dir {
            Direction::ClientToServer => (&channels.0.client_messages, &channels.1.client_messages),
            _ => (&channels.0.server_messages, &channels.1.server_messages),
        };
        let side = side_name(dir);
        for x in a {
            match b.iter().find(|y| y.id == x.id) {
                Some(y) => {
                    let path = format!("{key}/{side}/{}", x.id);
                    match (&x.payload, &y.payload) {
                        (Some(p), Some(q)) => {
                            self.ty(p, q, dir, &path, x.site.as_ref(), y.site.as_ref())
                        }
                        (None, None) => {}
                        _ => self.push(
                            ChangeKind::TypeChanged,
                            dir,
                            Effect::Incompatible,
                            &path,
                            format!(
                                "the payload of `{}` changed between any JSON and a schema",
                                x.id
                            ),
                            x.site.as_ref(),
                            y.site.as_ref(),
                        ),
                    }
                }
                None => self.push(
                    ChangeKind::MessageRemoved,
                    dir,
                    Effect::Narrowed,
                    &format!("{key}/{side}/{}", x.id),
                    format!("{side} message `{}` was removed", x.id),
                    x.site.as_ref(),
                    new_channel,
                ),
            }
        }
        for y in b {
            if !a.iter().any(|x| x.id == y.id) {
                self.push(
                    ChangeKind::MessageAdded,
                    dir,
                    Effect::Widened,
                    &format!("{key}/{side}/{}", y.id),
                    format!("{side} message `{}` was added", y.id),
                    old_channel,
                    y.site.as_ref(),
                );
            }
        }
    }

    /// Follows aliases of other named types (the generated code points their uses at the target).
    fn resolve<'m>(model: &'m Model, ty: &'m Ty) -> &'m Ty {
        let mut ty = ty;
        for _ in 0..model.types.len() {
            match &ty.kind {
                TyKind::Named(id) => match model.type_def(*id).map(|t| &t.kind) {
                    Some(WTypeKind::Alias(target))
                        if !ty.nullable
                            && ty.constraints.is_empty()
                            && matches!(target.kind, TyKind::Named(_)) =>
                    {
                        ty = target;
                    }
                    _ => break,
                },
                _ => break,
            }
        }
        ty
    }

    fn ty(
        &mut self,
        a: &Ty,
        b: &Ty,
        dir: Direction,
        path: &str,
        sa: Option<&Site>,
        sb: Option<&Site>,
    ) {
        let a = Self::resolve(self.old, a);
        let b = Self::resolve(self.new, b);
        if a.nullable != b.nullable && a.kind != TyKind::Null && b.kind != TyKind::Null {
            self.push(
                ChangeKind::NullableChanged,
                dir,
                if b.nullable {
                    Effect::Widened
                } else {
                    Effect::Narrowed
                },
                path,
                format!(
                    "`{path}` {} null",
                    if b.nullable {
                        "now accepts"
                    } else {
                        "no longer accepts"
                    }
                ),
                sa,
                sb,
            );
        }
        let numeric = |k: &TyKind| matches!(k, TyKind::Integer(_) | TyKind::Number);
        let comparable = std::mem::discriminant(&a.kind) == std::mem::discriminant(&b.kind)
            || (numeric(&a.kind) && numeric(&b.kind));
        if !comparable {
            // Another type: its constraints say nothing more.
        } else if self.options.code_level && matches!(a.kind, TyKind::Tuple(_)) {
            // A tuple's length is its type in Rust; `minItems`/`maxItems` are not kept.
            let strip = |c: &Constraints| Constraints {
                min_items: None,
                max_items: None,
                ..c.clone()
            };
            self.constraints(
                &strip(&a.constraints),
                &strip(&b.constraints),
                dir,
                path,
                sa,
                sb,
            );
        } else {
            self.constraints(&a.constraints, &b.constraints, dir, path, sa, sb);
        }
        match (&a.kind, &b.kind) {
            (TyKind::Named(x), TyKind::Named(y)) => self.named(*x, *y, dir, path),
            (TyKind::Array(x), TyKind::Array(y)) | (TyKind::Map(x), TyKind::Map(y)) => {
                self.ty(x, y, dir, &format!("{path}[]"), sa, sb)
            }
            (TyKind::Tuple(x), TyKind::Tuple(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    self.ty(p, q, dir, &format!("{path}[{i}]"), sa, sb);
                }
            }
            (TyKind::String(x), TyKind::String(y)) if self.same_format(x, y) => {}
            (x, y) if x == y => {}
            (TyKind::Integer(_), TyKind::Number) => self.push(
                ChangeKind::TypeChanged,
                dir,
                Effect::Widened,
                path,
                format!("`{path}` is a number, not an integer"),
                sa,
                sb,
            ),
            (TyKind::Number, TyKind::Integer(_)) => self.push(
                ChangeKind::TypeChanged,
                dir,
                Effect::Narrowed,
                path,
                format!("`{path}` is an integer, not a number"),
                sa,
                sb,
            ),
            (_, TyKind::Any) => self.push(
                ChangeKind::TypeChanged,
                dir,
                Effect::Widened,
                path,
                format!("`{path}` is any JSON, not {}", self.describe(self.old, a)),
                sa,
                sb,
            ),
            (TyKind::Any, _) => self.push(
                ChangeKind::TypeChanged,
                dir,
                Effect::Narrowed,
                path,
                format!("`{path}` is {}, not any JSON", self.describe(self.new, b)),
                sa,
                sb,
            ),
            _ => self.push(
                ChangeKind::TypeChanged,
                dir,
                Effect::Incompatible,
                path,
                format!(
                    "`{path}` is {}, not {}",
                    self.describe(self.new, b),
                    self.describe(self.old, a)
                ),
                sa,
                sb,
            ),
        }
    }

    fn same_format(&self, x: &StringFormat, y: &StringFormat) -> bool {
        let level = |f: &StringFormat| match f {
            StringFormat::Bytes if self.options.code_level => StringFormat::Plain,
            other => other.clone(),
        };
        level(x) == level(y)
    }

    fn describe(&self, model: &Model, ty: &Ty) -> String {
        match &ty.kind {
            TyKind::Named(id) => match model.type_def(*id).map(|t| &t.kind) {
                Some(WTypeKind::Struct { .. }) => "an object".to_owned(),
                Some(WTypeKind::StringEnum(_)) => "a string enum".to_owned(),
                Some(WTypeKind::IntegerEnum(_)) => "an integer enum".to_owned(),
                Some(WTypeKind::Union { .. }) => "a union".to_owned(),
                Some(WTypeKind::Alias(t)) => self.describe(model, t),
                None => "an unknown type".to_owned(),
            },
            TyKind::String(StringFormat::Plain) => "a string".to_owned(),
            TyKind::String(f) => format!("a {f:?} string").to_lowercase(),
            TyKind::Integer(_) => "an integer".to_owned(),
            TyKind::Number => "a number".to_owned(),
            TyKind::Boolean => "a boolean".to_owned(),
            TyKind::Null => "null".to_owned(),
            TyKind::Any => "any JSON".to_owned(),
            TyKind::Array(_) => "an array".to_owned(),
            TyKind::Tuple(items) => format!("a tuple of {}", items.len()),
            TyKind::Map(_) => "a map".to_owned(),
            TyKind::Const(v) => format!("the constant {v}"),
        }
    }

    fn constraints(
        &mut self,
        a: &Constraints,
        b: &Constraints,
        dir: Direction,
        path: &str,
        sa: Option<&Site>,
        sb: Option<&Site>,
    ) {
        use std::cmp::Ordering;
        let mut report = |name: &str, old: String, new: String, effect: Effect| {
            self.out.push(Change {
                kind: ChangeKind::ConstraintChanged,
                direction: dir,
                effect,
                path: path.to_owned(),
                message: format!("`{name}` of `{path}` is {new}, not {old}"),
                old_site: sa.cloned(),
                new_site: sb.cloned(),
            });
        };
        let show = |v: Option<String>| v.unwrap_or_else(|| "unset".to_owned());
        // A lower bound: raising it (or setting it) narrows.
        let lower = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (None, None) => None,
            (None, Some(_)) => Some(Effect::Narrowed),
            (Some(_), None) => Some(Effect::Widened),
            (Some(p), Some(q)) => match q.partial_cmp(&p) {
                Some(Ordering::Greater) => Some(Effect::Narrowed),
                Some(Ordering::Less) => Some(Effect::Widened),
                _ => None,
            },
        };
        let upper = |x: Option<f64>, y: Option<f64>| lower(x.map(|v| -v), y.map(|v| -v));
        let u = |v: Option<u64>| v.map(|v| v as f64);
        let num = |v: Option<f64>| v.map(|v| v.to_string());
        let int = |v: Option<u64>| v.map(|v| v.to_string());
        let bounds: [(&str, Option<Effect>, String, String); 10] = [
            (
                "minLength",
                lower(u(a.min_length), u(b.min_length)),
                show(int(a.min_length)),
                show(int(b.min_length)),
            ),
            (
                "maxLength",
                upper(u(a.max_length), u(b.max_length)),
                show(int(a.max_length)),
                show(int(b.max_length)),
            ),
            (
                "minimum",
                lower(a.minimum, b.minimum),
                show(num(a.minimum)),
                show(num(b.minimum)),
            ),
            (
                "maximum",
                upper(a.maximum, b.maximum),
                show(num(a.maximum)),
                show(num(b.maximum)),
            ),
            (
                "exclusiveMinimum",
                lower(a.exclusive_minimum, b.exclusive_minimum),
                show(num(a.exclusive_minimum)),
                show(num(b.exclusive_minimum)),
            ),
            (
                "exclusiveMaximum",
                upper(a.exclusive_maximum, b.exclusive_maximum),
                show(num(a.exclusive_maximum)),
                show(num(b.exclusive_maximum)),
            ),
            (
                "minItems",
                lower(u(a.min_items), u(b.min_items)),
                show(int(a.min_items)),
                show(int(b.min_items)),
            ),
            (
                "maxItems",
                upper(u(a.max_items), u(b.max_items)),
                show(int(a.max_items)),
                show(int(b.max_items)),
            ),
            (
                "minProperties",
                if self.options.code_level {
                    None
                } else {
                    lower(u(a.min_properties), u(b.min_properties))
                },
                show(int(a.min_properties)),
                show(int(b.min_properties)),
            ),
            (
                "maxProperties",
                if self.options.code_level {
                    None
                } else {
                    upper(u(a.max_properties), u(b.max_properties))
                },
                show(int(a.max_properties)),
                show(int(b.max_properties)),
            ),
        ];
        for (name, effect, old, new) in bounds {
            if let Some(effect) = effect {
                report(name, old, new, effect);
            }
        }
        let mut exact = |name: &str, old: Option<String>, new: Option<String>| {
            if old != new {
                let effect = match (&old, &new) {
                    (None, Some(_)) => Effect::Narrowed,
                    (Some(_), None) => Effect::Widened,
                    _ => Effect::Incompatible,
                };
                report(name, show(old), show(new), effect);
            }
        };
        exact("pattern", a.pattern.clone(), b.pattern.clone());
        exact("multipleOf", num(a.multiple_of), num(b.multiple_of));
        if a.unique_items != b.unique_items {
            exact(
                "uniqueItems",
                a.unique_items.then(|| "true".to_owned()),
                b.unique_items.then(|| "true".to_owned()),
            );
        }
        if !self.options.code_level {
            exact("format", a.format.clone(), b.format.clone());
            exact(
                "enum",
                a.allowed
                    .as_ref()
                    .map(|v| Value::Array(v.clone()).to_string()),
                b.allowed
                    .as_ref()
                    .map(|v| Value::Array(v.clone()).to_string()),
            );
        }
    }

    fn named(&mut self, x: TypeId, y: TypeId, dir: Direction, path: &str) {
        if !self.seen.insert((x.0, y.0, dir_code(dir))) {
            return;
        }
        let (Some(a), Some(b)) = (self.old.type_def(x), self.new.type_def(y)) else {
            return;
        };
        let (sa, sb) = (a.site.as_ref(), b.site.as_ref());
        match (&a.kind, &b.kind) {
            (
                WTypeKind::Struct {
                    fields: fa,
                    deny_unknown: da,
                    additional: aa,
                },
                WTypeKind::Struct {
                    fields: fb,
                    deny_unknown: db,
                    additional: ab,
                },
            ) => {
                for f in fa {
                    let fpath = format!("{path}.{}", f.wire_name);
                    match fb.iter().find(|g| g.wire_name == f.wire_name) {
                        Some(g) => {
                            if f.required != g.required {
                                self.push(
                                    ChangeKind::RequiredChanged,
                                    dir,
                                    if g.required {
                                        Effect::Narrowed
                                    } else {
                                        Effect::Widened
                                    },
                                    &fpath,
                                    format!(
                                        "`{fpath}` is {}",
                                        if g.required {
                                            "now required"
                                        } else {
                                            "now optional"
                                        }
                                    ),
                                    f.site.as_ref(),
                                    g.site.as_ref(),
                                );
                            }
                            self.ty(&f.ty, &g.ty, dir, &fpath, f.site.as_ref(), g.site.as_ref());
                        }
                        None => self.push(
                            ChangeKind::FieldRemoved,
                            dir,
                            match (f.required, *db) {
                                (_, true) => Effect::Narrowed,
                                (true, false) => Effect::Widened,
                                (false, false) => Effect::Neutral,
                            },
                            &fpath,
                            format!(
                                "{} field `{fpath}` was removed",
                                if f.required { "required" } else { "optional" }
                            ),
                            f.site.as_ref(),
                            sb,
                        ),
                    }
                }
                for g in fb {
                    if !fa.iter().any(|f| f.wire_name == g.wire_name) {
                        let fpath = format!("{path}.{}", g.wire_name);
                        self.push(
                            ChangeKind::FieldAdded,
                            dir,
                            match (g.required, *da) {
                                (true, _) => Effect::Narrowed,
                                (false, true) => Effect::Widened,
                                (false, false) => Effect::Neutral,
                            },
                            &fpath,
                            format!(
                                "{} field `{fpath}` was added",
                                if g.required { "required" } else { "optional" }
                            ),
                            sa,
                            g.site.as_ref(),
                        );
                    }
                }
                if da != db {
                    self.push(
                        ChangeKind::UnknownFieldsChanged,
                        dir,
                        if *db {
                            Effect::Narrowed
                        } else {
                            Effect::Widened
                        },
                        path,
                        format!(
                            "`{path}` {} unknown properties",
                            if *db { "now rejects" } else { "now accepts" }
                        ),
                        sa,
                        sb,
                    );
                }
                match (aa, ab) {
                    (Some(p), Some(q)) => self.ty(p, q, dir, &format!("{path}.*"), sa, sb),
                    (None, None) => {}
                    _ => self.push(
                        ChangeKind::AdditionalChanged,
                        dir,
                        Effect::Incompatible,
                        path,
                        format!(
                            "`{path}` {} additional properties",
                            if ab.is_some() {
                                "now keeps"
                            } else {
                                "no longer keeps"
                            }
                        ),
                        sa,
                        sb,
                    ),
                }
            }
            (WTypeKind::StringEnum(va), WTypeKind::StringEnum(vb)) => {
                let show = |v: &String| format!("\"{v}\"");
                self.values(va, vb, dir, path, sa, sb, show);
            }
            (WTypeKind::IntegerEnum(va), WTypeKind::IntegerEnum(vb)) => {
                self.values(va, vb, dir, path, sa, sb, |v| v.to_string());
            }
            (WTypeKind::Union { tag: ta, arms: xa }, WTypeKind::Union { tag: tb, arms: xb }) => {
                if ta != tb {
                    self.push(
                        ChangeKind::DispatchChanged,
                        dir,
                        Effect::Incompatible,
                        path,
                        format!(
                            "the union `{path}` is tagged by {:?}, not {:?}",
                            tb.as_deref().unwrap_or("nothing"),
                            ta.as_deref().unwrap_or("nothing")
                        ),
                        sa,
                        sb,
                    );
                }
                if ta.is_some() && ta == tb {
                    for arm in xa {
                        match xb.iter().find(|b| b.tag == arm.tag) {
                            Some(other) => self.ty(
                                &arm.ty,
                                &other.ty,
                                dir,
                                &format!("{path}<{}>", arm.tag.as_deref().unwrap_or("")),
                                arm.site.as_ref(),
                                other.site.as_ref(),
                            ),
                            None => self.push(
                                ChangeKind::ArmRemoved,
                                dir,
                                Effect::Narrowed,
                                path,
                                format!(
                                    "arm `{}` of `{path}` was removed",
                                    arm.tag.as_deref().unwrap_or("")
                                ),
                                arm.site.as_ref(),
                                sb,
                            ),
                        }
                    }
                    for arm in xb {
                        if !xa.iter().any(|a| a.tag == arm.tag) {
                            self.push(
                                ChangeKind::ArmAdded,
                                dir,
                                Effect::Widened,
                                path,
                                format!(
                                    "arm `{}` of `{path}` was added",
                                    arm.tag.as_deref().unwrap_or("")
                                ),
                                sa,
                                arm.site.as_ref(),
                            );
                        }
                    }
                } else {
                    for (i, (p, q)) in xa.iter().zip(xb).enumerate() {
                        self.ty(
                            &p.ty,
                            &q.ty,
                            dir,
                            &format!("{path}<{i}>"),
                            p.site.as_ref(),
                            q.site.as_ref(),
                        );
                    }
                    if xa.len() > xb.len() {
                        self.push(
                            ChangeKind::ArmRemoved,
                            dir,
                            Effect::Narrowed,
                            path,
                            format!("`{path}` has {} arms, not {}", xb.len(), xa.len()),
                            sa,
                            sb,
                        );
                    } else if xa.len() < xb.len() {
                        self.push(
                            ChangeKind::ArmAdded,
                            dir,
                            Effect::Widened,
                            path,
                            format!("`{path}` has {} arms, not {}", xb.len(), xa.len()),
                            sa,
                            sb,
                        );
                    }
                }
            }
            (WTypeKind::Alias(p), WTypeKind::Alias(q)) => self.ty(p, q, dir, path, sa, sb),
            (WTypeKind::Alias(p), _) => {
                let q = Ty::plain(TyKind::Named(y));
                self.ty(p, &q, dir, path, sa, sb)
            }
            (_, WTypeKind::Alias(q)) => {
                let p = Ty::plain(TyKind::Named(x));
                self.ty(&p, q, dir, path, sa, sb)
            }
            _ => self.push(
                ChangeKind::TypeChanged,
                dir,
                Effect::Incompatible,
                path,
                format!(
                    "`{path}` is {}, not {}",
                    self.describe(self.new, &Ty::plain(TyKind::Named(y))),
                    self.describe(self.old, &Ty::plain(TyKind::Named(x)))
                ),
                sa,
                sb,
            ),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn values<T: PartialEq>(
        &mut self,
        va: &[T],
        vb: &[T],
        dir: Direction,
        path: &str,
        sa: Option<&Site>,
        sb: Option<&Site>,
        show: impl Fn(&T) -> String,
    ) {
        for v in va {
            if !vb.contains(v) {
                self.push(
                    ChangeKind::EnumValueRemoved,
                    dir,
                    Effect::Narrowed,
                    path,
                    format!("value {} of `{path}` was removed", show(v)),
                    sa,
                    sb,
                );
            }
        }
        for v in vb {
            if !va.contains(v) {
                self.push(
                    ChangeKind::EnumValueAdded,
                    dir,
                    Effect::Widened,
                    path,
                    format!("value {} of `{path}` was added", show(v)),
                    sa,
                    sb,
                );
            }
        }
    }
}

fn side_name(dir: Direction) -> &'static str {
    match dir {
        Direction::ClientToServer => "client",
        Direction::ServerToClient => "server",
        Direction::Connection => "connection",
    }
}

fn set_effect(a: &BTreeSet<String>, b: &BTreeSet<String>) -> Effect {
    match (a.is_subset(b), b.is_subset(a)) {
        (true, true) => Effect::Neutral,
        (true, false) => Effect::Widened,
        (false, true) => Effect::Narrowed,
        (false, false) => Effect::Incompatible,
    }
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// An address with converters removed (`{id:int}` gives `{id}`).
pub fn strip_converters(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        out.push_str(&rest[..=open]);
        let inner = &rest[open + 1..close];
        out.push_str(inner.split_once(':').map_or(inner, |(name, _)| name));
        out.push('}');
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converters_are_stripped() {
        assert_eq!(
            strip_converters("/ws/{id:int}/x/{p:path}"),
            "/ws/{id}/x/{p}"
        );
        assert_eq!(strip_converters("plain"), "plain");
        assert_eq!(strip_converters("/open/{brace"), "/open/{brace");
    }

    #[test]
    fn set_effects() {
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(set_effect(&set(&["a"]), &set(&["a", "b"])), Effect::Widened);
        assert_eq!(
            set_effect(&set(&["a", "b"]), &set(&["a"])),
            Effect::Narrowed
        );
        assert_eq!(set_effect(&set(&["a"]), &set(&["b"])), Effect::Incompatible);
        assert_eq!(set_effect(&set(&["a"]), &set(&["a"])), Effect::Neutral);
    }

    #[test]
    fn constraints_say_which_way_they_move() {
        let ty = |c: Constraints| Ty {
            kind: TyKind::String(StringFormat::Plain),
            nullable: false,
            constraints: c,
        };
        let model = |t: Ty| Model {
            channels: vec![WChannel {
                key: "c".into(),
                client_messages: vec![WMessage {
                    id: "m".into(),
                    tag: None,
                    rust_name: "M".into(),
                    payload: Some(t),
                    site: None,
                }],
                ..WChannel::default()
            }],
            ..Model::default()
        };
        let old = model(ty(Constraints {
            max_length: Some(10),
            ..Constraints::default()
        }));
        let new = model(ty(Constraints {
            max_length: Some(5),
            min_length: Some(1),
            ..Constraints::default()
        }));
        let changes = compare(&old, &new, CompareOptions::default());
        let effects: Vec<Effect> = changes.iter().map(|c| c.effect).collect();
        assert_eq!(effects, [Effect::Narrowed, Effect::Narrowed]);
        assert!(
            changes
                .iter()
                .all(|c| c.direction == Direction::ClientToServer)
        );
        assert!(compare(&old, &old, CompareOptions::default()).is_empty());
    }
}

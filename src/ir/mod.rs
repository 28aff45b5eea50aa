//! Stage 4: the API model (the IR) from which code is generated.
//!
//! Plain data: channels with their address and parameters, what the client may send (actions, each with
//! its reply set), what the server may send (replies and pushes), and a graph of payload types. Every
//! name is final: Rust identifiers sit beside the wire names they came from, so the renderer decides
//! nothing. Everything is in document order (or sorted), never hash order.
//!
//! [`lower`] builds it from a validated [`spec::Document`](crate::spec::Document).

mod lower;
pub mod naming;
mod schema;
pub mod tags;

use serde::Serialize;
use serde_json::Value;

pub use lower::{Components, lower};

/// A hash map for the generator's own keys (places, names, type ids), hashed with foldhash:
/// SipHash, the standard library's default, was a fifth of lowering's time on large specs.
/// Never iterated where order shows in the output.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A hash set hashed like [`FastMap`].
pub(crate) type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

/// The whole API of one document.
#[derive(Debug, Clone, Serialize)]
pub struct Api {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// `info.description`.
    pub description: Option<String>,
    /// The AsyncAPI version the document declares.
    pub asyncapi: String,
    /// The servers.
    pub servers: Vec<Server>,
    /// The security schemes that channels use.
    pub security_schemes: Vec<SecurityScheme>,
    /// The channels, in document order.
    pub channels: Vec<Channel>,
    /// Every named type, in the order they were first met; [`TypeId`] indexes this list.
    pub types: Vec<TypeDef>,
}

impl Api {
    /// The type with this id.
    pub fn type_def(&self, id: TypeId) -> &TypeDef {
        &self.types[id.0]
    }
}

/// A server of the API.
#[derive(Debug, Clone, Serialize)]
pub struct Server {
    /// Its key in `servers`.
    pub key: String,
    /// `host`.
    pub host: String,
    /// `protocol`.
    pub protocol: String,
    /// `pathname`.
    pub pathname: Option<String>,
    /// `description`.
    pub description: Option<String>,
}

/// A security scheme, as a WebSocket server reads credentials at connect time.
#[derive(Debug, Clone, Serialize)]
pub struct SecurityScheme {
    /// Its key in `components.securitySchemes`.
    pub key: String,
    /// Where the credential travels.
    pub credential: Credential,
    /// `description`.
    pub description: Option<String>,
}

/// Where a credential is read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "in", rename_all = "snake_case")]
pub enum Credential {
    /// A query parameter.
    Query {
        /// Its name.
        name: String,
    },
    /// A request header.
    Header {
        /// Its name.
        name: String,
    },
    /// A cookie.
    Cookie {
        /// Its name.
        name: String,
    },
    /// `Authorization: Bearer ...`.
    Bearer,
    /// `Authorization: Basic ...`.
    Basic,
    /// A scheme a WebSocket handshake cannot carry directly (oauth2, X509, ...), by its `type`.
    Other {
        /// The scheme's `type`.
        kind: String,
    },
}

/// A channel: one WebSocket endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct Channel {
    /// Its key in `channels` (the wire id).
    pub key: String,
    /// The Rust name for its types (`Chat` gives `ChatConsumer`).
    pub rust_name: String,
    /// The Rust module name.
    pub module_name: String,
    /// Where it is mounted, or `None` when the spec leaves the address open.
    pub address: Option<Address>,
    /// The connect-time query schema (ws binding `query`).
    pub query: Option<Ty>,
    /// The connect-time headers schema (ws binding `headers`).
    pub headers: Option<Ty>,
    /// Keys of the security schemes a client must satisfy to connect (from its operations and servers).
    pub security: Vec<String>,
    /// Every message of the channel, in document order; actions and events index this list.
    pub messages: Vec<Message>,
    /// What the client sends: one per message of each `receive` operation.
    pub client_actions: Vec<ClientAction>,
    /// What the server pushes on its own: one per `send` operation.
    pub server_events: Vec<ServerEvent>,
    /// Indexes (into `messages`) of everything the server may send: replies and pushes, in order,
    /// without repeats.
    pub server_messages: Vec<usize>,
    /// How a frame from the client is matched to one of its actions.
    pub client_dispatch: Dispatch,
    /// How a frame from the server is matched to one of its messages.
    pub server_dispatch: Dispatch,
    /// Documentation.
    pub docs: Docs,
}

/// A channel address, split into literal text and parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Address {
    /// The address as written (`/ws/notifications/{user_id:int}`).
    pub raw: String,
    /// The address with converters removed (`/ws/notifications/{user_id}`).
    pub template: String,
    /// The pieces, in order.
    pub segments: Vec<AddressSegment>,
    /// The parameters, in the order they appear in the address.
    pub parameters: Vec<Parameter>,
}

/// A piece of an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum AddressSegment {
    /// Literal text.
    Literal(String),
    /// The parameter at this index of [`Address::parameters`].
    Parameter(usize),
}

/// A parameter of an address.
#[derive(Debug, Clone, Serialize)]
pub struct Parameter {
    /// The placeholder name.
    pub name: String,
    /// The Rust field name.
    pub rust_name: String,
    /// Its type.
    pub kind: ParameterKind,
    /// The allowed values (`enum`).
    pub allowed: Option<Vec<String>>,
    /// `default`.
    pub default: Option<String>,
    /// `description`.
    pub description: Option<String>,
}

/// The type of an address parameter (from a Starlette converter, else a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParameterKind {
    /// Any text without `/` (also Starlette's `str` and Django's `slug`).
    String,
    /// `{x:int}`.
    Integer,
    /// `{x:float}`.
    Float,
    /// `{x:uuid}`.
    Uuid,
    /// `{x:path}`: text that may hold `/`.
    Path,
}

/// A message of a channel.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// Its key in the channel's `messages`.
    pub key: String,
    /// The Rust name of its enum variant.
    pub rust_name: String,
    /// The value of its tag property, when it has one: for Chanx, the `const` of `action`.
    pub tag: Option<String>,
    /// The payload type (`None`: no payload schema, any JSON).
    pub payload: Option<Ty>,
    /// The headers type.
    pub headers: Option<Ty>,
    /// `contentType`, else the document's `defaultContentType`, else `application/json`.
    pub content_type: String,
    /// Examples from the spec.
    pub examples: Vec<Example>,
    /// Documentation.
    pub docs: Docs,
    /// `deprecated`.
    pub deprecated: bool,
}

/// A message example.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    /// `name`.
    pub name: Option<String>,
    /// `summary`.
    pub summary: Option<String>,
    /// `payload`.
    pub payload: Option<Value>,
    /// `headers`.
    pub headers: Option<Value>,
}

/// Something the client sends, handled by one method of the consumer trait.
#[derive(Debug, Clone, Serialize)]
pub struct ClientAction {
    /// The operation it comes from.
    pub operation: String,
    /// The trait method's name.
    pub method: String,
    /// The message (index into [`Channel::messages`]).
    pub message: usize,
    /// What the method may answer with (indexes into [`Channel::messages`]); empty: no reply.
    pub replies: Vec<usize>,
    /// Documentation (of the operation).
    pub docs: Docs,
}

/// Something the server sends on its own (a push or a forwarded event), one trait method each.
#[derive(Debug, Clone, Serialize)]
pub struct ServerEvent {
    /// The operation it comes from.
    pub operation: String,
    /// The trait method's name.
    pub method: String,
    /// The messages it sends (indexes into [`Channel::messages`]).
    pub messages: Vec<usize>,
    /// Documentation (of the operation).
    pub docs: Docs,
}

/// How a frame is matched to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "strategy", rename_all = "snake_case")]
pub enum Dispatch {
    /// No messages in this direction.
    None,
    /// Exactly one message: no matching needed.
    Single,
    /// A string property whose constant value names the message (Chanx: `action`).
    Tag {
        /// The property.
        property: String,
    },
    /// No tag: try each message's schema in order; the first that matches wins.
    Shape,
}

/// Prose from the spec, unescaped (the renderer escapes it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Docs {
    /// `title`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `summary`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// `description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Docs {
    /// Whether there is nothing to say.
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.summary.is_none() && self.description.is_none()
    }
}

/// Index of a [`TypeDef`] in [`Api::types`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TypeId(pub usize);

/// A named type.
#[derive(Debug, Clone, Serialize)]
pub struct TypeDef {
    /// The Rust name.
    pub rust_name: String,
    /// Where its schema is (`file#pointer`), for messages and `check`.
    pub origin: String,
    /// What it is.
    pub kind: TypeKind,
    /// Documentation.
    pub docs: Docs,
}

/// The shape of a named type.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeKind {
    /// An object with known properties.
    Struct {
        /// The properties, in document order.
        fields: Vec<Field>,
        /// What other properties may be present.
        additional: Additional,
    },
    /// A string `enum`.
    StringEnum {
        /// The values.
        variants: Vec<EnumVariant>,
    },
    /// An integer `enum`.
    IntegerEnum {
        /// The values.
        variants: Vec<IntegerVariant>,
    },
    /// `oneOf` / `anyOf` with more than one non-null arm.
    Union {
        /// The arms.
        variants: Vec<UnionVariant>,
        /// How the arms are told apart.
        tagging: Tagging,
    },
    /// A named non-object schema (a constrained string, an array...).
    Alias {
        /// The type it stands for.
        target: Box<Ty>,
    },
}

/// What an object does with properties it does not declare.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "policy", content = "type", rename_all = "snake_case")]
pub enum Additional {
    /// Ignore them (`additionalProperties` absent or `true`).
    Ignore,
    /// Reject them (`additionalProperties: false`).
    Deny,
    /// Keep them, typed (`additionalProperties: {schema}`).
    Typed(Box<Ty>),
}

/// A property of a struct.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// The property name on the wire.
    pub wire_name: String,
    /// The Rust field name.
    pub rust_name: String,
    /// Its type.
    pub ty: Ty,
    /// Listed in `required`.
    pub required: bool,
    /// `default`.
    pub default: Option<Value>,
    /// Documentation.
    pub docs: Docs,
}

/// A value of a string enum.
#[derive(Debug, Clone, Serialize)]
pub struct EnumVariant {
    /// The value on the wire.
    pub value: String,
    /// The Rust variant name.
    pub rust_name: String,
}

/// A value of an integer enum.
#[derive(Debug, Clone, Serialize)]
pub struct IntegerVariant {
    /// The value on the wire.
    pub value: i64,
    /// The Rust variant name.
    pub rust_name: String,
}

/// An arm of a union.
#[derive(Debug, Clone, Serialize)]
pub struct UnionVariant {
    /// The Rust variant name.
    pub rust_name: String,
    /// The arm's type.
    pub ty: Ty,
    /// The tag value that selects it, for tagged unions.
    pub tag: Option<String>,
}

/// How the arms of a union are told apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "tagging", rename_all = "snake_case")]
pub enum Tagging {
    /// A property of the arms holds a constant per arm (`discriminator`, or a `const` property).
    Internal {
        /// The property.
        property: String,
    },
    /// No tag: the first arm that matches wins.
    Untagged,
}

/// A type use: what a field, payload or arm holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ty {
    /// The type.
    #[serde(flatten)]
    pub kind: TyKind,
    /// `null` is allowed as well (required-but-nullable when the field is required).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub nullable: bool,
    /// Validation constraints to check on decode.
    #[serde(skip_serializing_if = "Constraints::is_empty")]
    pub constraints: Constraints,
}

impl Ty {
    /// A type with no constraints, not nullable.
    pub fn plain(kind: TyKind) -> Self {
        Ty {
            kind,
            nullable: false,
            constraints: Constraints::default(),
        }
    }
}

/// The kinds of type use.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "of", rename_all = "snake_case")]
pub enum TyKind {
    /// A named type.
    Named(TypeId),
    /// A string.
    String(StringFormat),
    /// An integer.
    Integer(IntegerFormat),
    /// A floating-point number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// Only `null`.
    Null,
    /// Any JSON value.
    Any,
    /// A list.
    Array(Box<Ty>),
    /// A fixed-length list (`prefixItems`).
    Tuple(Vec<Ty>),
    /// An object with string keys and values of one type.
    Map(Box<Ty>),
    /// A single allowed value (`const`).
    Const(Value),
}

/// String formats that map to real types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StringFormat {
    /// No format, or one without a dedicated type.
    Plain,
    /// `date-time` (RFC 3339).
    DateTime,
    /// `date`.
    Date,
    /// `time`.
    Time,
    /// `uuid`.
    Uuid,
    /// `binary` / `byte` (bytes, base64 on the wire for `byte`).
    Bytes,
}

/// Integer widths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegerFormat {
    /// `int32`.
    Int32,
    /// `int64`, or no format.
    Int64,
}

/// JSON Schema validation keywords kept for decode-time validation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Constraints {
    /// `minLength`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// `maxLength`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// `pattern` (ECMA-262 regular expression).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// `format` as written (also those without a dedicated type, e.g. `email`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// `minimum`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    /// `maximum`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    /// `exclusiveMinimum`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclusive_minimum: Option<f64>,
    /// `exclusiveMaximum`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclusive_maximum: Option<f64>,
    /// `multipleOf`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multiple_of: Option<f64>,
    /// `minItems`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// `maxItems`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// `uniqueItems`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unique_items: bool,
    /// `minProperties`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_properties: Option<u64>,
    /// `maxProperties`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_properties: Option<u64>,
    /// `enum` values on a type that is not itself an enum (mixed or non-string values).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<Value>>,
}

impl Constraints {
    /// Whether nothing is constrained.
    pub fn is_empty(&self) -> bool {
        *self == Constraints::default()
    }
}

//! Stage 2: the AsyncAPI 3.0 model, plain structs read from the loaded [`Sources`](crate::load::Sources).
//!
//! Every `$ref` to a non-schema object (channel, message, operation, parameter, server, reply, trait)
//! is followed here, traits are merged (JSON Merge Patch, in order, the object's own fields last), and
//! each object keeps the [`Loc`] it was read from. Schemas are *not* read here: a message keeps the
//! [`Loc`] of its payload schema, and the IR's schema lowering walks it, so recursive schemas stay
//! references. Structural problems (wrong types, missing fields, dangling references) become
//! diagnostics; reading goes on past them.

mod read;

use serde::Serialize;
use serde_json::Value;

use crate::diagnostics::Loc;

pub use read::read_document;

/// An AsyncAPI 3.x document.
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// The `asyncapi` version string (`3.0.0`, `3.1.0`).
    pub asyncapi: String,
    /// `info`.
    pub info: Info,
    /// `defaultContentType`.
    pub default_content_type: Option<String>,
    /// Root `servers`, in document order.
    pub servers: Vec<Server>,
    /// Root `channels`, in document order.
    pub channels: Vec<Channel>,
    /// Root `operations`, in document order.
    pub operations: Vec<Operation>,
    /// `components.securitySchemes` in document order, then the schemes written inline in `security`
    /// lists.
    pub security_schemes: Vec<SecurityScheme>,
}

impl Document {
    /// The root channel with this key.
    pub fn channel(&self, key: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.key == key)
    }
}

/// `info`.
#[derive(Debug, Clone, Default)]
pub struct Info {
    /// `title`.
    pub title: String,
    /// `version`.
    pub version: String,
    /// `description`.
    pub description: Option<String>,
}

/// A root server.
#[derive(Debug, Clone)]
pub struct Server {
    /// Its key in `servers`.
    pub key: String,
    /// Where the (resolved) server object is.
    pub loc: Loc,
    /// `host` (may hold a port and `{variables}`).
    pub host: String,
    /// `protocol` (`ws`, `wss`, ...; free text in the wild).
    pub protocol: String,
    /// `pathname`.
    pub pathname: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `security`.
    pub security: Vec<SecurityRef>,
}

/// A root channel.
#[derive(Debug, Clone)]
pub struct Channel {
    /// Its key in `channels` (the channel id, not the address).
    pub key: String,
    /// Where the (resolved) channel object is.
    pub loc: Loc,
    /// `address`; `None` when null or absent (a dynamic address).
    pub address: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `summary`.
    pub summary: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `parameters`, in document order.
    pub parameters: Vec<Parameter>,
    /// `messages`, in document order.
    pub messages: Vec<Message>,
    /// Keys of the root servers it names (empty: all servers).
    pub servers: Vec<String>,
    /// The `ws` channel binding.
    pub ws_binding: Option<WsBinding>,
}

impl Channel {
    /// The channel's message with this key.
    pub fn message(&self, key: &str) -> Option<&Message> {
        self.messages.iter().find(|m| m.key == key)
    }
}

/// A channel parameter (3.0: not a schema; `enum`, `default`, `examples`, `location` only).
#[derive(Debug, Clone)]
pub struct Parameter {
    /// The placeholder name.
    pub name: String,
    /// Where the (resolved) parameter object is.
    pub loc: Loc,
    /// `enum`.
    pub allowed: Option<Vec<String>>,
    /// `default`.
    pub default: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `examples`.
    pub examples: Vec<String>,
    /// `location` (a runtime expression).
    pub location: Option<String>,
}

/// The `ws` channel binding: what a client sends when it connects.
#[derive(Debug, Clone)]
pub struct WsBinding {
    /// `method` (`GET` or `POST`).
    pub method: Option<String>,
    /// The `query` object schema.
    pub query: Option<Loc>,
    /// The `headers` object schema.
    pub headers: Option<Loc>,
}

/// A message of a channel, traits merged.
#[derive(Debug, Clone)]
pub struct Message {
    /// Its key in the channel's `messages`.
    pub key: String,
    /// Where the resolved message object is; two channel entries that reference the same message share
    /// it.
    pub loc: Loc,
    /// Its key in `components.messages`, when it is a component.
    pub component: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `summary`.
    pub summary: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `contentType`.
    pub content_type: Option<String>,
    /// `payload`.
    pub payload: Option<SchemaSource>,
    /// `headers`.
    pub headers: Option<SchemaSource>,
    /// `correlationId.location`.
    pub correlation_location: Option<String>,
    /// `examples`.
    pub examples: Vec<MessageExample>,
    /// `deprecated`.
    pub deprecated: bool,
}

/// A schema in a message: where it is and in which format.
#[derive(Debug, Clone)]
pub struct SchemaSource {
    /// Where the schema is (it may be a `$ref`).
    pub loc: Loc,
    /// Its `schemaFormat`.
    pub format: SchemaFormat,
}

/// The `schemaFormat` of a schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum SchemaFormat {
    /// The AsyncAPI schema (the default), a superset of JSON Schema draft 07.
    AsyncApi,
    /// JSON Schema (draft 07 or later).
    JsonSchema,
    /// Anything else (Avro, OpenAPI, RAML, Protobuf...), by its media type.
    Other(String),
}

impl SchemaFormat {
    /// Classifies a `schemaFormat` media type.
    pub fn parse(media_type: &str) -> Self {
        let base = media_type.split(';').next().unwrap_or("").trim();
        match base {
            "application/vnd.aai.asyncapi"
            | "application/vnd.aai.asyncapi+json"
            | "application/vnd.aai.asyncapi+yaml" => SchemaFormat::AsyncApi,
            "application/schema+json" | "application/schema+yaml" => SchemaFormat::JsonSchema,
            _ => SchemaFormat::Other(media_type.to_owned()),
        }
    }
}

/// One message example.
#[derive(Debug, Clone)]
pub struct MessageExample {
    /// `name`.
    pub name: Option<String>,
    /// `summary`.
    pub summary: Option<String>,
    /// `payload`.
    pub payload: Option<Value>,
    /// `headers`.
    pub headers: Option<Value>,
    /// Where it is.
    pub loc: Loc,
}

/// `send` or `receive`, from the point of view of the application the document describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationAction {
    /// The application sends (for a server: server to client).
    Send,
    /// The application receives (for a server: client to server).
    Receive,
}

/// A root operation, traits merged.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Its key in `operations` (the operation id).
    pub key: String,
    /// Where the resolved operation object is.
    pub loc: Loc,
    /// `action`.
    pub action: OperationAction,
    /// The key of the root channel it references.
    pub channel: String,
    /// The keys (in its channel) of the messages it lists; `None` when it lists none, which means
    /// every message of the channel.
    pub messages: Option<Vec<String>>,
    /// `reply`.
    pub reply: Option<Reply>,
    /// `title`.
    pub title: Option<String>,
    /// `summary`.
    pub summary: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `security`.
    pub security: Vec<SecurityRef>,
}

/// An operation's `reply`.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Where the resolved reply object is.
    pub loc: Loc,
    /// The key of the root channel replies go on, if it names one.
    pub channel: Option<String>,
    /// The keys (in the reply channel) of the reply messages; `None` when it lists none.
    pub messages: Option<Vec<String>>,
    /// `address.location`, a runtime expression.
    pub address_location: Option<String>,
}

/// A use of a security scheme, by its key in [`Document::security_schemes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityRef {
    /// The scheme's key: its key in `components.securitySchemes`, or for an inline scheme its pointer.
    pub scheme: String,
    /// Where the reference is.
    pub loc: Loc,
}

/// A security scheme.
#[derive(Debug, Clone)]
pub struct SecurityScheme {
    /// Its key in `components.securitySchemes`.
    pub key: String,
    /// Where it is.
    pub loc: Loc,
    /// `type` (`httpApiKey`, `http`, `apiKey`, `oauth2`, ...).
    pub kind: String,
    /// `name` (for `httpApiKey`).
    pub name: Option<String>,
    /// `in` (`query`, `header`, `cookie`, `user`, `password`).
    pub location: Option<String>,
    /// `scheme` (for `http`, e.g. `bearer`).
    pub scheme: Option<String>,
    /// `bearerFormat`.
    pub bearer_format: Option<String>,
    /// `description`.
    pub description: Option<String>,
}

//! `chanx-gen mock`: a spec served without writing code.
//!
//! [`MockApi::new`] turns each channel of the IR into a [`MockChannel`], an [`Endpoint`] that reads
//! frames with the runtime's envelope and tag rules, validates them against the same schemas the
//! generator prints (the view's `SchemaNode` trees, built here as runtime `Schema` values), and
//! answers each action with a frame of its first declared reply (the spec's example, else a
//! schema-valid sample). Error frames are therefore the ones generated code sends.
//!
//! [`serve`] puts the mock on 127.0.0.1 with the runtime's server and in-memory layer: every
//! connection joins its channel's group, a channel with security schemes accepts any non-empty
//! credential where the spec says it travels, and `push CHANNEL MESSAGE` lines on standard input
//! send a frame of that server message to every connection of the channel.
//!
//! Schemas are built once and leaked, for the life of the process. A recursive type is checked to
//! the depth where it first refers to itself; deeper levels accept anything.

use std::collections::HashMap;
use std::sync::Arc;

use chanx_runtime::context::Context;
use chanx_runtime::decode::{check_message, read_frame, tag_error};
use chanx_runtime::dispatch::{no_handler, no_match, send_errors, send_rejection};
use chanx_runtime::endpoint::{ChannelInfo, CredentialSource, Endpoint, SecurityScheme};
use chanx_runtime::layer::{BoxFuture, ChannelLayer, broadcast_message, safe_group_name};
use chanx_runtime::memory::InMemoryLayer;
use chanx_runtime::server::{AuthRequest, Denied, Identity, Route, Server};
use chanx_runtime::validate::{
    Bound, FieldSchema, ItemsConstraints, NumberConstraints, ObjectSchema, Pattern, Schema,
    StrConstraints,
};
use serde_json::Value;

use crate::ir::{Api, Constraints, Credential, TypeId};
use crate::render::schema::SchemaNode;
use crate::render::view::{self, python_number};

/// Every channel of a spec, ready to serve.
pub struct MockApi {
    /// The channels, in the spec's order.
    pub channels: Vec<MockChannel>,
}

/// One channel served from its spec: an [`Endpoint`].
pub struct MockChannel {
    info: &'static ChannelInfo,
    tag_property: &'static str,
    tags: &'static [&'static str],
    actions: Vec<MockAction>,
    pushes: Vec<(String, Value)>,
}

/// A client action: the tag that selects it, its schema and the frames to answer with.
struct MockAction {
    tag: &'static str,
    schema: &'static Schema,
    reply: Option<Value>,
}

impl MockApi {
    /// Builds the mock of `api` (a document without errors).
    pub fn new(api: &Api) -> Self {
        let module = view::build(
            api,
            &view::ViewOptions {
                runtime: "::chanx_runtime",
            },
        );
        let mut schemas = SchemaBuilder {
            types: &module.schemas,
            built: HashMap::new(),
            in_progress: Vec::new(),
        };
        let channels = api
            .channels
            .iter()
            .zip(&module.channels)
            .map(|(channel, channel_view)| {
                let security: Vec<SecurityScheme> = channel
                    .security
                    .iter()
                    .map(|key| SecurityScheme {
                        key: leak_str(key),
                        source: credential_source(api, key),
                    })
                    .collect();
                let info = Box::leak(Box::new(ChannelInfo {
                    key: leak_str(&channel.key),
                    address: channel.address.as_ref().map(|a| leak_str(&a.template)),
                    security: Box::leak(security.into_boxed_slice()),
                }));
                let actions: Vec<MockAction> = channel_view
                    .actions
                    .iter()
                    .map(|action| MockAction {
                        tag: leak_str(action.tag_value.as_deref().unwrap_or_default()),
                        schema: schemas.leak(&action.schema_node),
                        reply: action.reply_frames.first().cloned(),
                    })
                    .collect();
                let mut tags: Vec<&'static str> = actions
                    .iter()
                    .map(|a| a.tag)
                    .filter(|t| !t.is_empty())
                    .collect();
                tags.sort_unstable();
                tags.dedup();
                MockChannel {
                    info,
                    tag_property: leak_str(&channel_view.client_tag_property),
                    tags: Box::leak(tags.into_boxed_slice()),
                    actions,
                    pushes: channel_view.server_frames.clone(),
                }
            })
            .collect();
        MockApi { channels }
    }
}

impl MockChannel {
    /// The server messages this channel can push, by message key, with the frame pushed for each.
    pub fn pushes(&self) -> &[(String, Value)] {
        &self.pushes
    }

    /// Answers one frame: the runtime's rejections for bad frames, the schema's errors for a bad
    /// message, else the first declared reply (or nothing).
    fn answer(&self, cx: &Context, text: &str) {
        let incoming = match read_frame(text, self.tag_property) {
            Ok(incoming) => incoming,
            Err(rejected) => {
                send_rejection(cx, rejected);
                return;
            }
        };
        let cx = cx.with_reply_ref(incoming.envelope.reference.clone());
        if self.actions.is_empty() {
            no_handler(&cx);
            return;
        }
        let action = if self.tag_property.is_empty() {
            // Matched by shape: the first action whose schema accepts the frame.
            match self
                .actions
                .iter()
                .find(|a| check_message(&incoming, "", a.schema).is_empty())
            {
                Some(action) => action,
                None => {
                    send_errors(&cx, no_match(&incoming));
                    return;
                }
            }
        } else {
            let found = incoming.tag();
            let Some(action) = self.actions.iter().find(|a| Some(a.tag) == found.as_str()) else {
                send_errors(&cx, vec![tag_error(&found, self.tag_property, self.tags)]);
                return;
            };
            let errors = check_message(&incoming, action.tag, action.schema);
            if !errors.is_empty() {
                send_errors(&cx, errors);
                return;
            }
            action
        };
        if let Some(reply) = &action.reply {
            let _ = cx.send(reply);
        }
    }
}

impl Endpoint for MockChannel {
    fn info(&self) -> &'static ChannelInfo {
        self.info
    }

    fn handle_text<'a>(&'a self, cx: &'a Context, text: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move { self.answer(cx, text) })
    }

    /// Forwards the event to the client, as Chanx's passthrough event handlers do.
    fn handle_event<'a>(&'a self, cx: &'a Context, event_data: Value) -> BoxFuture<'a, bool> {
        Box::pin(async move { cx.send(&event_data).is_ok() })
    }
}

/// Serves the mock of `api` on 127.0.0.1:`port` (0 picks a free port) until Ctrl-C; prints where
/// each channel is and what can be pushed.
///
/// # Errors
/// When the runtime cannot start or the port cannot be bound.
pub fn serve(api: &Api, port: u16) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve_async(MockApi::new(api), port))
}

async fn serve_async(mock: MockApi, port: u16) -> std::io::Result<()> {
    let layer: Arc<dyn ChannelLayer> = Arc::new(InMemoryLayer::new());
    let mut server = Server::new(Arc::clone(&layer));
    let mut pushes: HashMap<(String, String), (String, Value)> = HashMap::new();
    let mut addresses = Vec::new();
    for channel in mock.channels {
        let info = channel.info;
        let group = safe_group_name(&[info.key], Some("mock"));
        for (message, frame) in &channel.pushes {
            pushes.insert(
                (info.key.to_owned(), message.clone()),
                (group.clone(), frame.clone()),
            );
        }
        let mut route = Route::new(channel).groups(move |_| vec![group.clone()]);
        if !info.security.is_empty() {
            route = route.authenticator(any_credential);
        }
        addresses.push((info.key, route.path().to_owned()));
        server = server.endpoint(route);
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let local = listener.local_addr()?;
    for (key, path) in &addresses {
        report(format_args!("mock: channel `{key}` at ws://{local}{path}"));
    }
    let mut keys: Vec<&(String, String)> = pushes.keys().collect();
    keys.sort();
    for (channel, message) in keys {
        report(format_args!(
            "mock: `push {channel} {message}` on standard input pushes `{message}`"
        ));
    }
    let commands = tokio::spawn(read_commands(layer, pushes));
    let signal = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let served = server.serve(listener, signal).await;
    commands.abort();
    served
}

/// Writes a line of the mock's report to standard error. A closed standard error (a caller that
/// stopped reading it) must not stop the mock, as `eprintln!` would by panicking.
fn report(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Reads `push CHANNEL MESSAGE` lines until standard input ends (serving goes on).
async fn read_commands(
    layer: Arc<dyn ChannelLayer>,
    pushes: HashMap<(String, String), (String, Value)>,
) {
    use tokio::io::AsyncBufReadExt as _;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            ["push", channel, message] => {
                match pushes.get(&((*channel).to_owned(), (*message).to_owned())) {
                    Some((group, frame)) => {
                        match broadcast_message(&*layer, &[group], frame, false, None).await {
                            Ok(()) => {
                                report(format_args!("mock: pushed `{message}` on `{channel}`"))
                            }
                            Err(error) => report(format_args!("mock: push failed: {error}")),
                        }
                    }
                    None => report(format_args!(
                        "mock: channel `{channel}` has no server message `{message}`"
                    )),
                }
            }
            _ => report(format_args!(
                "mock: unknown command {line:?} (use `push CHANNEL MESSAGE`)"
            )),
        }
    }
}

/// Accepts any non-empty credential in a place the channel's security schemes name.
async fn any_credential(request: AuthRequest) -> Result<Identity, Denied> {
    match request.credential() {
        Some((_, credential)) if !credential.is_empty() => Ok(Identity::anonymous()),
        _ => Err(Denied::unauthenticated()),
    }
}

/// Where the credential of the security scheme `key` travels.
fn credential_source(api: &Api, key: &str) -> CredentialSource {
    match api.security_schemes.iter().find(|s| s.key == key) {
        Some(scheme) => match &scheme.credential {
            Credential::Query { name } => CredentialSource::Query(leak_str(name)),
            Credential::Header { name } => CredentialSource::Header(leak_str(name)),
            Credential::Cookie { name } => CredentialSource::Cookie(leak_str(name)),
            Credential::Bearer => CredentialSource::Bearer,
            Credential::Basic => CredentialSource::Basic,
            Credential::Other { kind } => CredentialSource::Other(leak_str(kind)),
        },
        None => CredentialSource::Other("unknown"),
    }
}

fn leak_str(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// Builds runtime schemas from the view's trees, each named type once.
struct SchemaBuilder<'a> {
    types: &'a [SchemaNode],
    built: HashMap<TypeId, &'static Schema>,
    in_progress: Vec<TypeId>,
}

impl SchemaBuilder<'_> {
    fn leak(&mut self, node: &SchemaNode) -> &'static Schema {
        match node {
            SchemaNode::Named(id) => self.named(*id),
            _ => leak(self.value(node)),
        }
    }

    fn named(&mut self, id: TypeId) -> &'static Schema {
        if let Some(schema) = self.built.get(&id) {
            return schema;
        }
        if self.in_progress.contains(&id) {
            return &Schema::Any;
        }
        let Some(node) = self.types.get(id.0) else {
            return &Schema::Any;
        };
        self.in_progress.push(id);
        let schema = leak(self.value(node));
        self.in_progress.pop();
        self.built.insert(id, schema);
        schema
    }

    fn value(&mut self, node: &SchemaNode) -> Schema {
        match node {
            SchemaNode::Any => Schema::Any,
            SchemaNode::Null => Schema::Null,
            SchemaNode::Bool => Schema::Bool,
            SchemaNode::Int(c) => Schema::Int(number_constraints(c)),
            SchemaNode::Number(c) => Schema::Number(number_constraints(c)),
            SchemaNode::Str(c) => Schema::Str(StrConstraints {
                min_length: c.min_length,
                max_length: c.max_length,
                pattern: c
                    .pattern
                    .as_deref()
                    .map(|source| leak(Pattern::new(leak_str(source)))),
            }),
            SchemaNode::Uuid => Schema::Uuid,
            SchemaNode::DateTime => Schema::DateTime,
            SchemaNode::Date => Schema::Date,
            SchemaNode::Time => Schema::Time,
            SchemaNode::Const(json) => Schema::Const(leak_str(json)),
            SchemaNode::Literal(values) => Schema::Literal(leak_strs(values)),
            SchemaNode::StrEnum { name, values } => Schema::StrEnum {
                name: leak_str(name),
                values: leak_strs(values),
            },
            SchemaNode::IntEnum { name, values } => Schema::IntEnum {
                name: leak_str(name),
                values: Box::leak(values.clone().into_boxed_slice()),
            },
            SchemaNode::Array(item, c) => Schema::Array(
                self.leak(item),
                ItemsConstraints {
                    min_items: c.min_items,
                    max_items: c.max_items,
                    unique: c.unique_items,
                },
            ),
            SchemaNode::Tuple(items) => Schema::Tuple(self.leak_all(items)),
            SchemaNode::Map(value) => Schema::Map(self.leak(value)),
            SchemaNode::Object(object) => {
                let fields: Vec<FieldSchema> = object
                    .fields
                    .iter()
                    .map(|(name, required, schema)| FieldSchema {
                        name: leak_str(name),
                        required: *required,
                        schema: self.leak(schema),
                    })
                    .collect();
                let additional = object.additional.as_deref().map(|a| self.leak(a));
                Schema::Object(leak(ObjectSchema {
                    name: leak_str(&object.name),
                    fields: Box::leak(fields.into_boxed_slice()),
                    deny_unknown: object.deny_unknown,
                    additional,
                }))
            }
            SchemaNode::TaggedUnion { property, arms } => {
                let arms: Vec<(&'static str, &'static Schema)> = arms
                    .iter()
                    .map(|(tag, arm)| (leak_str(tag), self.leak(arm)))
                    .collect();
                Schema::TaggedUnion {
                    property: leak_str(property),
                    arms: Box::leak(arms.into_boxed_slice()),
                }
            }
            SchemaNode::Untagged(arms) => Schema::Untagged(self.leak_all(arms)),
            SchemaNode::Nullable(inner) => Schema::Nullable(self.leak(inner)),
            SchemaNode::Named(id) => Schema::Untagged(leak([self.named(*id)])),
        }
    }

    fn leak_all(&mut self, nodes: &[SchemaNode]) -> &'static [&'static Schema] {
        let schemas: Vec<&'static Schema> = nodes.iter().map(|n| self.leak(n)).collect();
        Box::leak(schemas.into_boxed_slice())
    }
}

fn leak_strs(values: &[String]) -> &'static [&'static str] {
    let values: Vec<&'static str> = values.iter().map(|v| leak_str(v)).collect();
    Box::leak(values.into_boxed_slice())
}

fn number_constraints(c: &Constraints) -> NumberConstraints {
    let bound = |value: Option<f64>| {
        value.map(|value| Bound {
            value,
            text: leak_str(&python_number(value)),
        })
    };
    NumberConstraints {
        minimum: bound(c.minimum),
        maximum: bound(c.maximum),
        exclusive_minimum: bound(c.exclusive_minimum),
        exclusive_maximum: bound(c.exclusive_maximum),
        multiple_of: bound(c.multiple_of),
    }
}

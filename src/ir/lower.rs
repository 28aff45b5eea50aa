//! Spec model to IR: channels, their messages in both directions, dispatch, names and types.

use serde_json::Value;

use super::naming::{self, Namespace};
use super::schema::TypeBuilder;
use super::{
    Address, AddressSegment, Api, Channel, ClientAction, Credential, Dispatch, Docs, Example,
    Message, Parameter, ParameterKind, SecurityScheme, Server, ServerEvent,
};
use crate::diagnostics::{Code, Diagnostic, Diagnostics, Loc};
use crate::load::Sources;
use crate::spec::{self, Document, OperationAction, SchemaFormat};

/// Module names the generated code uses beside the channel modules.
const MODULE_ITEMS: &[&str] = &["types", "contract_tests", "behaviour_tests"];

/// Names the generated code puts into every channel module; spec names must not take them.
const CHANNEL_ITEMS: &[&str] = &["ClientMessage", "ServerMessage"];

/// Builds the IR of a document that passed validation. Problems found on the way (name collisions,
/// duplicate tags, unsupported schemas) go to `diagnostics`.
pub fn lower(sources: &Sources, document: &Document, diagnostics: &mut Diagnostics) -> Api {
    Components::lower(sources).finish(document, diagnostics)
}

/// The first part of [`lower`], which needs only the loaded files (not the spec model): the types
/// of the entry file's `components.schemas`, named and numbered in document order, so that it can
/// run while the model is read and validated. It copes with any document; [`Components::finish`]
/// lowers the rest of one that passed validation.
pub struct Components<'s> {
    types: TypeBuilder<'s>,
}

impl<'s> Components<'s> {
    /// Lowers the component schemas of `sources`.
    pub fn lower(sources: &'s Sources) -> Self {
        let mut types = TypeBuilder::new(sources);
        let components = component_schemas(sources);
        types.claim_component_names(&components);
        for (_, loc) in &components {
            types.lower_component(loc);
        }
        Components { types }
    }

    /// Lowers the rest of `document` (the model of the same files): what [`lower`] returns.
    pub fn finish(self, document: &'s Document, diagnostics: &mut Diagnostics) -> Api {
        let mut lowering = Lowering {
            document,
            types: self.types,
            diagnostics: Diagnostics::new(),
        };
        let api = lowering.api();
        diagnostics.extend(lowering.types.diagnostics);
        diagnostics.extend(lowering.diagnostics);
        api
    }
}

/// `components.schemas` of the entry file, in document order.
fn component_schemas(sources: &Sources) -> Vec<(String, Loc)> {
    let at = Loc::root(Sources::ENTRY)
        .child("components")
        .child("schemas");
    match sources.get(&at) {
        Some(Value::Object(schemas)) => schemas
            .keys()
            .map(|key| (key.clone(), at.child(key)))
            .collect(),
        _ => Vec::new(),
    }
}

struct Lowering<'s> {
    document: &'s Document,
    types: TypeBuilder<'s>,
    diagnostics: Diagnostics,
}

impl<'s> Lowering<'s> {
    /// The API, once [`Components::lower`] has lowered the component schemas.
    fn api(&mut self) -> Api {
        let mut channel_names = Namespace::with_reserved(MODULE_ITEMS);
        let channels = self
            .document
            .channels
            .iter()
            .filter_map(|channel| self.channel(channel, &mut channel_names))
            .collect();
        Api {
            title: self.document.info.title.clone(),
            version: self.document.info.version.clone(),
            description: self.document.info.description.clone(),
            asyncapi: self.document.asyncapi.clone(),
            servers: self.servers(),
            security_schemes: self.security_schemes(),
            channels,
            types: std::mem::take(&mut self.types.types),
        }
    }

    fn servers(&self) -> Vec<Server> {
        self.document
            .servers
            .iter()
            .map(|server| Server {
                key: server.key.clone(),
                host: server.host.clone(),
                protocol: server.protocol.clone(),
                pathname: server.pathname.clone(),
                description: server.description.clone(),
            })
            .collect()
    }

    fn security_schemes(&self) -> Vec<SecurityScheme> {
        self.document
            .security_schemes
            .iter()
            .map(|scheme| SecurityScheme {
                key: scheme.key.clone(),
                credential: credential(scheme),
                description: scheme.description.clone(),
            })
            .collect()
    }

    fn collision(&mut self, loc: &Loc, what: &str, wire: &str, clash: naming::Clash) {
        let (first_wire, first_loc) = clash.first;
        let mut diagnostic = Diagnostic::new(
            Code::NameCollision,
            Some(loc.clone().key()),
            format!(
                "{what} `{wire}` and `{first_wire}` both become the Rust name `{}`",
                clash.name
            ),
        )
        .with_help("rename one of them so their names differ by more than case or punctuation");
        if let Some(first_loc) = first_loc {
            diagnostic =
                diagnostic.with_related(first_loc.key(), format!("`{first_wire}` is here"));
        }
        self.diagnostics.push(diagnostic);
    }

    fn channel(&mut self, channel: &'s spec::Channel, names: &mut Namespace) -> Option<Channel> {
        let rust_name = naming::type_name(&channel.key, "Channel");
        let mut module_name = naming::snake_name(&channel.key, "channel");
        match names.claim(&module_name, &channel.key, Some(&channel.loc)) {
            Ok(()) => {}
            // A name the generated code uses itself: the channel's module gets a suffix.
            Err(clash) if clash.first.1.is_none() => {
                module_name = names.suggest(&module_name, &channel.key);
            }
            Err(clash) => {
                self.collision(&channel.loc, "channels", &channel.key, clash);
                return None;
            }
        }
        let operations: Vec<&spec::Operation> = self
            .document
            .operations
            .iter()
            .filter(|op| op.channel == channel.key)
            .collect();

        // Messages: the channel's own, then replies that live on other channels. A message is known
        // by its channel and key (several keys may reference one message object).
        let mut sources: Vec<(&'s str, &'s spec::Message)> = channel
            .messages
            .iter()
            .map(|m| (channel.key.as_str(), m))
            .collect();
        for operation in &operations {
            for (owner, message) in self.reply_messages(operation) {
                if !sources
                    .iter()
                    .any(|(o, m)| *o == owner && m.key == message.key)
                {
                    sources.push((owner, message));
                }
            }
        }
        let mut variant_names = Namespace::with_reserved(CHANNEL_ITEMS);
        let mut messages = Vec::new();
        for &(owner, message) in &sources {
            let wanted = naming::type_name(&message.key, "Message");
            let rust_name = if owner == channel.key {
                if let Err(clash) = variant_names.claim(&wanted, &message.key, Some(&message.loc)) {
                    self.collision(&message.loc, "messages", &message.key, clash);
                }
                wanted
            } else {
                // A reply imported from another channel: its name is ours to choose.
                variant_names.suggest(&wanted, &message.key)
            };
            messages.push(self.message(message, rust_name));
        }
        let index_of = |owner: &str, key: &str| {
            sources
                .iter()
                .position(|(o, m)| *o == owner && m.key == key)
        };

        let mut methods = Namespace::new();
        let mut client_actions = Vec::new();
        let mut server_events = Vec::new();
        for operation in &operations {
            let own = self.operation_messages(channel, operation);
            match operation.action {
                OperationAction::Receive => {
                    let replies: Vec<usize> = self
                        .reply_messages(operation)
                        .iter()
                        .filter_map(|(owner, m)| index_of(owner, &m.key))
                        .collect();
                    for message in &own {
                        let Some(index) = index_of(&channel.key, &message.key) else {
                            continue;
                        };
                        let raw = if own.len() == 1 {
                            operation.key.clone()
                        } else {
                            format!("{}_{}", operation.key, message.key)
                        };
                        let Some(method) = self.method_name(&mut methods, &raw, operation) else {
                            continue;
                        };
                        client_actions.push(ClientAction {
                            operation: operation.key.clone(),
                            method,
                            message: index,
                            replies: replies.clone(),
                            docs: operation_docs(operation),
                        });
                    }
                }
                OperationAction::Send => {
                    let Some(method) = self.method_name(&mut methods, &operation.key, operation)
                    else {
                        continue;
                    };
                    server_events.push(ServerEvent {
                        operation: operation.key.clone(),
                        method,
                        messages: own
                            .iter()
                            .filter_map(|m| index_of(&channel.key, &m.key))
                            .collect(),
                        docs: operation_docs(operation),
                    });
                }
            }
        }
        let mut server_messages: Vec<usize> = Vec::new();
        let pushed = server_events.iter().flat_map(|e| e.messages.iter());
        for index in client_actions
            .iter()
            .flat_map(|a| a.replies.iter())
            .chain(pushed)
        {
            if !server_messages.contains(index) {
                server_messages.push(*index);
            }
        }
        let mut client_messages: Vec<usize> = client_actions.iter().map(|a| a.message).collect();
        client_messages.dedup();

        let client_dispatch = self.dispatch(channel, &sources, &client_messages, "client");
        let server_dispatch = self.dispatch(channel, &sources, &server_messages, "server");
        for (direction, dispatch) in [
            (&client_messages, &client_dispatch),
            (&server_messages, &server_dispatch),
        ] {
            if let Dispatch::Tag { property } = dispatch {
                for &index in direction {
                    if messages[index].tag.is_none() {
                        messages[index].tag = self.tag_of(sources[index].1, property);
                    }
                }
            }
        }

        let (query, headers) = match &channel.ws_binding {
            Some(binding) => (
                binding
                    .query
                    .as_ref()
                    .map(|loc| self.types.lower(loc, &format!("{rust_name}Query"))),
                binding
                    .headers
                    .as_ref()
                    .map(|loc| self.types.lower(loc, &format!("{rust_name}Headers"))),
            ),
            None => (None, None),
        };
        Some(Channel {
            key: channel.key.clone(),
            address: channel.address.as_deref().map(|raw| address(raw, channel)),
            query,
            headers,
            security: self.channel_security(channel, &operations),
            messages,
            client_actions,
            server_events,
            server_messages,
            client_dispatch,
            server_dispatch,
            docs: Docs {
                title: channel.title.clone(),
                summary: channel.summary.clone(),
                description: channel.description.clone(),
            },
            rust_name,
            module_name,
        })
    }

    fn method_name(
        &mut self,
        methods: &mut Namespace,
        raw: &str,
        operation: &spec::Operation,
    ) -> Option<String> {
        let method = naming::snake_name(raw, "handle");
        match methods.claim(&method, raw, Some(&operation.loc)) {
            Ok(()) => Some(method),
            Err(clash) => {
                self.collision(&operation.loc, "operations", raw, clash);
                None
            }
        }
    }

    /// The messages an operation lists on its channel (all of the channel's when it lists none).
    fn operation_messages(
        &self,
        channel: &'s spec::Channel,
        operation: &spec::Operation,
    ) -> Vec<&'s spec::Message> {
        match &operation.messages {
            Some(keys) => keys.iter().filter_map(|k| channel.message(k)).collect(),
            None => channel.messages.iter().collect(),
        }
    }

    /// The messages an operation may reply with.
    /// The messages an operation may reply with, each with the key of the channel that holds it.
    fn reply_messages(&self, operation: &spec::Operation) -> Vec<(&'s str, &'s spec::Message)> {
        let Some(reply) = &operation.reply else {
            return Vec::new();
        };
        let channel_key = reply.channel.as_deref().unwrap_or(&operation.channel);
        let Some(channel) = self.document.channel(channel_key) else {
            return Vec::new();
        };
        let owner = channel.key.as_str();
        match &reply.messages {
            Some(keys) => keys
                .iter()
                .filter_map(|k| channel.message(k))
                .map(|m| (owner, m))
                .collect(),
            None => channel.messages.iter().map(|m| (owner, m)).collect(),
        }
    }

    fn message(&mut self, message: &spec::Message, rust_name: String) -> Message {
        let lowerable = |source: &Option<spec::SchemaSource>| {
            source
                .as_ref()
                .filter(|s| !matches!(s.format, SchemaFormat::Other(_)))
                .map(|s| s.loc.clone())
        };
        let payload_loc = lowerable(&message.payload);
        let headers_loc = lowerable(&message.headers);
        let payload = payload_loc.map(|loc| self.types.lower(&loc, &rust_name));
        let headers = headers_loc.map(|loc| self.types.lower(&loc, &format!("{rust_name}Headers")));
        let content_type = message
            .content_type
            .clone()
            .or_else(|| self.document.default_content_type.clone())
            .unwrap_or_else(|| "application/json".to_owned());
        Message {
            key: message.key.clone(),
            tag: self.tag_of(message, "action"),
            payload,
            headers,
            content_type,
            examples: message
                .examples
                .iter()
                .map(|e| Example {
                    name: e.name.clone(),
                    summary: e.summary.clone(),
                    payload: e.payload.clone(),
                    headers: e.headers.clone(),
                })
                .collect(),
            docs: Docs {
                title: message.title.clone(),
                summary: message.summary.clone(),
                description: message.description.clone(),
            },
            deprecated: message.deprecated,
            rust_name,
        }
    }

    /// The constant of `property` in the message's payload object.
    fn tag_of(&self, message: &spec::Message, property: &str) -> Option<String> {
        let payload = message.payload.as_ref()?;
        self.types.const_property(&payload.loc, property)
    }

    /// Picks how frames in one direction are told apart: Chanx's `action` when every message has a
    /// distinct one, else another constant property that every message fixes to a distinct value,
    /// else by shape (reported).
    fn dispatch(
        &mut self,
        channel: &spec::Channel,
        sources: &[(&str, &spec::Message)],
        indexes: &[usize],
        direction: &str,
    ) -> Dispatch {
        if indexes.is_empty() {
            return Dispatch::None;
        }
        // Binary frames are told apart from text frames by the frame itself: with at most one binary
        // message, only the text ones need a tag.
        let (binary, text): (Vec<&spec::Message>, Vec<&spec::Message>) = indexes
            .iter()
            .map(|&i| sources[i].1)
            .partition(|m| is_binary(m));
        let messages = match (binary.len(), text.len()) {
            (1, 0) => return Dispatch::Single,
            (0 | 1, _) => text,
            _ => indexes.iter().map(|&i| sources[i].1).collect(),
        };
        // A lone message keeps its tag when it has one: Chanx validates even a single handler's
        // frames as a union discriminated on `action`, so a wrong or missing tag is an error.
        let mut candidates = vec!["action".to_owned()];
        if let Some(payload) = messages[0].payload.as_ref() {
            candidates.extend(self.types.const_properties(&payload.loc));
        }
        for property in candidates {
            let tags: Vec<Option<String>> =
                messages.iter().map(|m| self.tag_of(m, &property)).collect();
            if tags.iter().all(Option::is_some) {
                if let Some((a, b)) = first_duplicate(&tags) {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::DuplicateAction,
                            Some(messages[b].loc.clone()),
                            format!(
                                "messages `{}` and `{}` of channel `{}` both have {property} `{}`",
                                messages[a].key,
                                messages[b].key,
                                channel.key,
                                tags[b].as_deref().unwrap_or_default()
                            ),
                        )
                        .with_related(messages[a].loc.clone(), "the first is here")
                        .with_help(
                            "each message a side sends needs its own tag value; until then, frames \
                             with this tag go to the first message",
                        ),
                    );
                }
                return Dispatch::Tag { property };
            }
        }
        if messages.len() == 1 {
            return Dispatch::Single;
        }
        self.diagnostics.push(
            Diagnostic::new(
                Code::WeakDispatch,
                Some(channel.loc.clone()),
                format!(
                    "the {direction}'s messages on channel `{}` share no tag property; frames will \
                     be matched by shape, first match wins",
                    channel.key
                ),
            )
            .with_help(
                "give each message payload a property with a distinct `const` value \
                 (Chanx uses `action`)",
            ),
        );
        Dispatch::Shape
    }

    /// Security schemes of the channel: its operations', then its servers'.
    fn channel_security(
        &self,
        channel: &spec::Channel,
        operations: &[&spec::Operation],
    ) -> Vec<String> {
        let servers = self
            .document
            .servers
            .iter()
            .filter(|s| channel.servers.is_empty() || channel.servers.contains(&s.key));
        let refs = operations
            .iter()
            .flat_map(|op| op.security.iter())
            .chain(servers.flat_map(|s| s.security.iter()));
        let mut keys: Vec<String> = Vec::new();
        for reference in refs {
            if !keys.contains(&reference.scheme) {
                keys.push(reference.scheme.clone());
            }
        }
        keys
    }
}

/// Whether a message travels as binary frames (a non-JSON content type).
fn is_binary(message: &spec::Message) -> bool {
    message.content_type.as_deref().is_some_and(|t| {
        t.starts_with("application/octet-stream")
            || t.starts_with("audio/")
            || t.starts_with("image/")
            || t.starts_with("video/")
    })
}

fn first_duplicate(tags: &[Option<String>]) -> Option<(usize, usize)> {
    for (b, tag) in tags.iter().enumerate() {
        if let Some(a) = tags[..b].iter().position(|t| t == tag) {
            return Some((a, b));
        }
    }
    None
}

fn operation_docs(operation: &spec::Operation) -> Docs {
    Docs {
        title: operation.title.clone(),
        summary: operation.summary.clone().filter(|s| !s.is_empty()),
        description: operation.description.clone().filter(|s| !s.is_empty()),
    }
}

fn credential(scheme: &spec::SecurityScheme) -> Credential {
    let name = || scheme.name.clone().unwrap_or_default();
    match (scheme.kind.as_str(), scheme.location.as_deref()) {
        ("httpApiKey", Some("query")) => Credential::Query { name: name() },
        ("httpApiKey", Some("header")) => Credential::Header { name: name() },
        ("httpApiKey", Some("cookie")) => Credential::Cookie { name: name() },
        ("http", _)
            if scheme
                .scheme
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("basic")) =>
        {
            Credential::Basic
        }
        ("http", _) => Credential::Bearer,
        (kind, _) => Credential::Other {
            kind: kind.to_owned(),
        },
    }
}

/// Splits an address into literals and parameters. `{name:conv}` (Starlette/Django converters, as
/// Chanx emits) types the parameter; parameters come in address order, described from the channel's
/// `parameters`.
fn address(raw: &str, channel: &spec::Channel) -> Address {
    let mut segments = Vec::new();
    let mut parameters: Vec<Parameter> = Vec::new();
    let mut template = String::new();
    let mut rest = raw;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        if open > 0 {
            segments.push(AddressSegment::Literal(rest[..open].to_owned()));
            template.push_str(&rest[..open]);
        }
        let inner = &rest[open + 1..close];
        let (name, converter) = match inner.split_once(':') {
            Some((name, converter)) => (name, Some(converter)),
            None => (inner, None),
        };
        template.push_str(&format!("{{{name}}}"));
        let index = match parameters.iter().position(|p| p.name == name) {
            Some(index) => index,
            None => {
                parameters.push(parameter(name, converter, channel));
                parameters.len() - 1
            }
        };
        segments.push(AddressSegment::Parameter(index));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        segments.push(AddressSegment::Literal(rest.to_owned()));
        template.push_str(rest);
    }
    Address {
        raw: raw.to_owned(),
        template,
        segments,
        parameters,
    }
}

fn parameter(name: &str, converter: Option<&str>, channel: &spec::Channel) -> Parameter {
    let declared = channel.parameters.iter().find(|p| p.name == name);
    let kind = match converter {
        Some("int") => ParameterKind::Integer,
        Some("float") => ParameterKind::Float,
        Some("uuid") => ParameterKind::Uuid,
        Some("path") => ParameterKind::Path,
        _ => ParameterKind::String,
    };
    Parameter {
        name: name.to_owned(),
        rust_name: naming::snake_name(name, "param"),
        kind,
        allowed: declared.and_then(|p| p.allowed.clone()),
        default: declared.and_then(|p| p.default.clone()),
        description: declared.and_then(|p| p.description.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Channel as SpecChannel;

    fn channel() -> SpecChannel {
        SpecChannel {
            key: "c".into(),
            loc: Loc::root(Sources::ENTRY),
            address: None,
            title: None,
            summary: None,
            description: None,
            parameters: Vec::new(),
            messages: Vec::new(),
            servers: Vec::new(),
            ws_binding: None,
        }
    }

    #[test]
    fn addresses_with_converters() {
        let a = address("/ws/notifications/{user_id:int}/x", &channel());
        assert_eq!(a.template, "/ws/notifications/{user_id}/x");
        assert_eq!(a.parameters[0].kind, ParameterKind::Integer);
        assert_eq!(
            a.segments,
            [
                AddressSegment::Literal("/ws/notifications/".into()),
                AddressSegment::Parameter(0),
                AddressSegment::Literal("/x".into()),
            ]
        );
        let django = address("ws/chat/{room_name}/", &channel());
        assert_eq!(django.parameters[0].name, "room_name");
        assert_eq!(django.parameters[0].kind, ParameterKind::String);
    }
}

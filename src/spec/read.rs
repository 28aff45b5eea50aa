//! Reads a [`Document`] out of [`Sources`], reporting structural problems as it goes.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::*;
use crate::diagnostics::{Code, Diagnostic, Diagnostics, Loc};
use crate::load::{Member, Sources};

/// Reads the entry file of `sources` as an AsyncAPI 3 document. Problems go to `diagnostics`; what
/// could not be read is left out of the model.
pub fn read_document(sources: &Sources, diagnostics: &mut Diagnostics) -> Document {
    let mut reader = Reader {
        sources,
        diagnostics,
        inline_schemes: Vec::new(),
    };
    reader.document()
}

/// An object read from the document: its fields (traits already merged, when it has traits) and the
/// place of each field.
struct Object<'s> {
    loc: Loc,
    fields: Cow<'s, Map<String, Value>>,
    /// For merged objects: the place each top-level field came from.
    origins: Vec<(String, Loc)>,
}

impl Object<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.fields.member(key)
    }

    /// Where field `key` is (in a trait, when a trait gave it).
    fn at(&self, key: &str) -> Loc {
        self.origins
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, loc)| loc.child(key))
            .unwrap_or_else(|| self.loc.child(key))
    }
}

struct Reader<'s, 'd> {
    sources: &'s Sources,
    diagnostics: &'d mut Diagnostics,
    /// Security schemes written inline in a `security` list.
    inline_schemes: Vec<SecurityScheme>,
}

impl<'s> Reader<'s, '_> {
    fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Resolves `$ref`s at `loc` and expects an object there.
    fn object(&mut self, loc: &Loc, what: &str) -> Option<Object<'s>> {
        let resolved = match self.sources.resolve(loc) {
            Ok(resolved) => resolved,
            Err(diagnostic) => {
                self.error(diagnostic);
                return None;
            }
        };
        match resolved.value {
            Value::Object(map) => Some(Object {
                loc: resolved.loc,
                fields: Cow::Borrowed(map),
                origins: Vec::new(),
            }),
            other => {
                self.wrong_type(&resolved.loc, what, "an object", other);
                None
            }
        }
    }

    /// Like [`Reader::object`], then merges the object's `traits` (each resolved) under it.
    fn object_with_traits(&mut self, loc: &Loc, what: &str) -> Option<Object<'s>> {
        let object = self.object(loc, what)?;
        let Some(traits) = object.get("traits") else {
            return Some(object);
        };
        let traits_loc = object.at("traits");
        let Value::Array(items) = traits else {
            self.wrong_type(&traits_loc, "`traits`", "an array", traits);
            return Some(object);
        };
        let mut merged = Value::Object(Map::new());
        let mut origins = Vec::new();
        for i in 0..items.len() {
            let Some(trait_object) = self.object(&traits_loc.index(i), "a trait") else {
                continue;
            };
            for key in trait_object.fields.keys() {
                origins.push((key.clone(), trait_object.loc.clone()));
            }
            merge_patch(
                &mut merged,
                &Value::Object(trait_object.fields.into_owned()),
            );
        }
        let mut own = object.fields.into_owned();
        own.remove("traits");
        for key in own.keys() {
            origins.push((key.clone(), object.loc.clone()));
        }
        merge_patch(&mut merged, &Value::Object(own));
        let Value::Object(fields) = merged else {
            return None;
        };
        Some(Object {
            loc: object.loc,
            fields: Cow::Owned(fields),
            origins,
        })
    }

    fn wrong_type(&mut self, loc: &Loc, what: &str, expected: &str, found: &Value) {
        self.error(Diagnostic::new(
            Code::WrongType,
            Some(loc.clone()),
            format!("{what} must be {expected}, found {}", describe(found)),
        ));
    }

    /// A string field; reports a wrong type, or a missing field when `required`.
    fn string(&mut self, object: &Object<'_>, key: &str, required: bool) -> Option<String> {
        match object.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            None | Some(Value::Null) if !required => None,
            None => {
                self.error(
                    Diagnostic::new(
                        Code::MissingField,
                        Some(object.loc.clone()),
                        format!("missing required field `{key}`"),
                    )
                    .with_help(format!("add `{key}:` to this object")),
                );
                None
            }
            Some(other) => {
                self.wrong_type(&object.at(key), &format!("`{key}`"), "a string", other);
                None
            }
        }
    }

    /// An optional map field: each entry's key and location, in document order.
    fn entries(&mut self, object: &Object<'_>, key: &str) -> Vec<(String, Loc)> {
        match object.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(map)) => {
                let at = object.at(key);
                map.keys().map(|k| (k.clone(), at.child(k))).collect()
            }
            Some(other) => {
                self.wrong_type(&object.at(key), &format!("`{key}`"), "an object", other);
                Vec::new()
            }
        }
    }

    fn document(&mut self) -> Document {
        let root_loc = Loc::root(Sources::ENTRY);
        if self.diagnostics.has_errors() && self.sources.locate(&root_loc).is_none() {
            // The entry file did not parse, so it has no tree; the loader has said why.
            return Document::default();
        }
        let Some(root) = self.object(&root_loc, "the document") else {
            return Document::default();
        };
        let asyncapi = match root.get("asyncapi") {
            Some(Value::String(version)) => version.clone(),
            Some(other) => {
                self.wrong_type(
                    &root.at("asyncapi"),
                    "`asyncapi`",
                    "a version string",
                    other,
                );
                String::new()
            }
            None => {
                self.error(
                    Diagnostic::new(
                        Code::UnsupportedVersion,
                        Some(root_loc.clone()),
                        "this is not an AsyncAPI document: it has no `asyncapi` field",
                    )
                    .with_help("chanx-gen reads AsyncAPI 3.0 documents (`asyncapi: 3.0.0`)"),
                );
                return Document::default();
            }
        };
        if !(asyncapi.starts_with("3.0.") || asyncapi.starts_with("3.1.")) {
            let mut diagnostic = Diagnostic::new(
                Code::UnsupportedVersion,
                Some(root.at("asyncapi")),
                format!("AsyncAPI {asyncapi} is not supported"),
            );
            if asyncapi.starts_with("3.") {
                diagnostic = Diagnostic::new(
                    Code::NewerVersion,
                    Some(root.at("asyncapi")),
                    format!("AsyncAPI {asyncapi} is newer than this chanx-gen; reading it as 3.0"),
                );
            } else {
                diagnostic = diagnostic.with_help(
                    "chanx-gen reads AsyncAPI 3.0 and 3.1; convert 2.x documents first \
                     (for example with `asyncapi convert`)",
                );
            }
            let fatal = diagnostic.severity == crate::diagnostics::Severity::Error;
            self.error(diagnostic);
            if fatal {
                return Document::default();
            }
        }
        let info = match root.get("info") {
            Some(_) => self.info(&root.at("info")),
            None => {
                self.string(&root, "info", true);
                Info::default()
            }
        };
        let default_content_type = self.string(&root, "defaultContentType", false);
        let servers = self
            .entries(&root, "servers")
            .into_iter()
            .filter_map(|(key, loc)| self.server(key, &loc))
            .collect();
        let mut security_schemes = match root.get("components") {
            Some(_) => self.security_schemes(&root.at("components")),
            None => Vec::new(),
        };
        let channels: Vec<Channel> = self
            .entries(&root, "channels")
            .into_iter()
            .filter_map(|(key, loc)| self.channel(key, &loc))
            .collect();
        let operations = self
            .entries(&root, "operations")
            .into_iter()
            .filter_map(|(key, loc)| self.operation(key, &loc, &channels))
            .collect();
        security_schemes.append(&mut self.inline_schemes);
        Document {
            asyncapi,
            info,
            default_content_type,
            servers,
            channels,
            operations,
            security_schemes,
        }
    }

    fn info(&mut self, loc: &Loc) -> Info {
        let Some(info) = self.object(loc, "`info`") else {
            return Info::default();
        };
        Info {
            title: self.string(&info, "title", true).unwrap_or_default(),
            version: self.string(&info, "version", true).unwrap_or_default(),
            description: self.string(&info, "description", false),
        }
    }

    fn server(&mut self, key: String, loc: &Loc) -> Option<Server> {
        let server = self.object(loc, "a server")?;
        Some(Server {
            key,
            host: self.string(&server, "host", false).unwrap_or_default(),
            protocol: self.string(&server, "protocol", false).unwrap_or_default(),
            pathname: self.string(&server, "pathname", false),
            description: self.string(&server, "description", false),
            security: self.security_refs(&server),
            loc: server.loc,
        })
    }

    fn security_schemes(&mut self, components_loc: &Loc) -> Vec<SecurityScheme> {
        let Some(components) = self.object(components_loc, "`components`") else {
            return Vec::new();
        };
        self.entries(&components, "securitySchemes")
            .into_iter()
            .filter_map(|(key, loc)| self.security_scheme(key, &loc))
            .collect()
    }

    fn security_scheme(&mut self, key: String, loc: &Loc) -> Option<SecurityScheme> {
        let scheme = self.object(loc, "a security scheme")?;
        Some(SecurityScheme {
            key,
            kind: self.string(&scheme, "type", true).unwrap_or_default(),
            name: self.string(&scheme, "name", false),
            location: self.string(&scheme, "in", false),
            scheme: self.string(&scheme, "scheme", false),
            bearer_format: self.string(&scheme, "bearerFormat", false),
            description: self.string(&scheme, "description", false),
            loc: scheme.loc,
        })
    }

    /// `security`: security schemes, each a `$ref` to `components.securitySchemes` or written inline
    /// (an inline scheme is keyed by its place, e.g. `servers/production/security/1`).
    fn security_refs(&mut self, object: &Object<'_>) -> Vec<SecurityRef> {
        let Some(list) = object.get("security") else {
            return Vec::new();
        };
        let at = object.at("security");
        let Value::Array(items) = list else {
            self.wrong_type(&at, "`security`", "an array", list);
            return Vec::new();
        };
        let mut refs = Vec::new();
        for i in 0..items.len() {
            let item_loc = at.index(i);
            let resolved = match self.sources.resolve(&item_loc) {
                Ok(resolved) => resolved,
                Err(diagnostic) => {
                    self.error(diagnostic);
                    continue;
                }
            };
            if let Some(scheme) = component_key(&resolved.loc, "securitySchemes") {
                refs.push(SecurityRef {
                    scheme,
                    loc: item_loc,
                });
                continue;
            }
            let is_scheme = resolved.value.get("type").is_some_and(Value::is_string);
            if !is_scheme {
                self.error(
                    Diagnostic::new(
                        Code::InvalidSecurity,
                        Some(item_loc),
                        "a security requirement must be a security scheme or a `$ref` to one",
                    )
                    .with_help(
                        "AsyncAPI 3 writes `security: [$ref: '#/components/securitySchemes/x']`; \
                         the 2.x `{name: [scopes]}` form is not valid",
                    ),
                );
                continue;
            }
            let key = resolved.loc.pointer.trim_start_matches('/').to_owned();
            if !self.inline_schemes.iter().any(|s| s.key == key) {
                if let Some(scheme) = self.security_scheme(key.clone(), &resolved.loc) {
                    self.inline_schemes.push(scheme);
                }
            }
            refs.push(SecurityRef {
                scheme: key,
                loc: item_loc,
            });
        }
        refs
    }

    fn channel(&mut self, key: String, loc: &Loc) -> Option<Channel> {
        let channel = self.object_with_traits(loc, "a channel")?;
        let address = match channel.get("address") {
            Some(Value::String(address)) => Some(address.clone()),
            None | Some(Value::Null) => None,
            Some(other) => {
                self.wrong_type(
                    &channel.at("address"),
                    "`address`",
                    "a string or null",
                    other,
                );
                None
            }
        };
        let parameters = self
            .entries(&channel, "parameters")
            .into_iter()
            .filter_map(|(name, loc)| self.parameter(name, &loc))
            .collect();
        let messages = self
            .entries(&channel, "messages")
            .into_iter()
            .filter_map(|(key, loc)| self.message(key, &loc))
            .collect();
        let servers = self.channel_servers(&channel);
        let ws_binding = self.ws_binding(&channel);
        Some(Channel {
            key,
            address,
            title: self.string(&channel, "title", false),
            summary: self.string(&channel, "summary", false),
            description: self.string(&channel, "description", false),
            parameters,
            messages,
            servers,
            ws_binding,
            loc: channel.loc,
        })
    }

    fn channel_servers(&mut self, channel: &Object<'_>) -> Vec<String> {
        let Some(list) = channel.get("servers") else {
            return Vec::new();
        };
        let at = channel.at("servers");
        let Value::Array(items) = list else {
            self.wrong_type(&at, "`servers`", "an array of server references", list);
            return Vec::new();
        };
        let mut keys = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_loc = at.index(i);
            let reference = item.as_object().and_then(|m| m.get("$ref"));
            let Some(reference) = reference.and_then(Value::as_str) else {
                self.error(Diagnostic::new(
                    Code::WrongType,
                    Some(item_loc),
                    "a channel's `servers` entries must be `$ref`s to root servers",
                ));
                continue;
            };
            match self.sources.ref_target(&item_loc, reference) {
                Ok(target) => match root_key(&target, "servers") {
                    Some(key) => keys.push(key),
                    None => self.error(
                        Diagnostic::new(
                            Code::UnknownServer,
                            Some(item_loc.child("$ref")),
                            format!("`{reference}` is not a root server"),
                        )
                        .with_help("a channel may only name servers under the root `servers`"),
                    ),
                },
                Err(mut diagnostic) => {
                    diagnostic.code = Code::UnknownServer;
                    diagnostic.message = format!(
                        "server reference `{reference}` must point to a server in `servers`"
                    );
                    self.error(diagnostic);
                }
            }
        }
        keys
    }

    fn ws_binding(&mut self, channel: &Object<'_>) -> Option<WsBinding> {
        let bindings = channel.get("bindings")?;
        let bindings_loc = channel.at("bindings");
        let bindings = match bindings {
            Value::Object(_) => self.object(&bindings_loc, "`bindings`")?,
            other => {
                self.wrong_type(&bindings_loc, "`bindings`", "an object", other);
                return None;
            }
        };
        bindings.get("ws")?;
        let ws = self.object(&bindings.at("ws"), "the `ws` binding")?;
        Some(WsBinding {
            method: self.string(&ws, "method", false),
            query: ws.get("query").map(|_| ws.at("query")),
            headers: ws.get("headers").map(|_| ws.at("headers")),
        })
    }

    fn parameter(&mut self, name: String, loc: &Loc) -> Option<Parameter> {
        let parameter = self.object(loc, "a parameter")?;
        let allowed = match parameter.get("enum") {
            None => None,
            Some(Value::Array(items)) => Some(items.iter().map(scalar_text).collect()),
            Some(other) => {
                self.wrong_type(&parameter.at("enum"), "`enum`", "an array", other);
                None
            }
        };
        let examples = match parameter.get("examples") {
            Some(Value::Array(items)) => items.iter().map(scalar_text).collect(),
            _ => Vec::new(),
        };
        Some(Parameter {
            name,
            allowed,
            default: parameter.get("default").map(scalar_text),
            description: self.string(&parameter, "description", false),
            examples,
            location: self.string(&parameter, "location", false),
            loc: parameter.loc,
        })
    }

    fn message(&mut self, key: String, loc: &Loc) -> Option<Message> {
        let message = self.object_with_traits(loc, "a message")?;
        let component = component_key(&message.loc, "messages");
        let payload = self.schema_source(&message, "payload");
        let headers = self.schema_source(&message, "headers");
        let correlation_location = match message.get("correlationId") {
            Some(_) => self
                .object(&message.at("correlationId"), "`correlationId`")
                .and_then(|c| self.string(&c, "location", true)),
            None => None,
        };
        let examples = self.examples(&message);
        Some(Message {
            key,
            component,
            name: self.string(&message, "name", false),
            title: self.string(&message, "title", false),
            summary: self.string(&message, "summary", false),
            description: self.string(&message, "description", false),
            content_type: self.string(&message, "contentType", false),
            payload,
            headers,
            correlation_location,
            examples,
            deprecated: message.get("deprecated") == Some(&Value::Bool(true)),
            loc: message.loc,
        })
    }

    /// A message's `payload` or `headers`: a schema, or a multi-format schema object.
    fn schema_source(&mut self, message: &Object<'_>, key: &str) -> Option<SchemaSource> {
        message.get(key)?;
        let loc = message.at(key);
        let resolved = match self.sources.resolve(&loc) {
            Ok(resolved) => resolved,
            Err(diagnostic) => {
                self.error(diagnostic);
                return None;
            }
        };
        let Value::Object(map) = resolved.value else {
            if resolved.value.is_boolean() {
                return Some(SchemaSource {
                    loc,
                    format: SchemaFormat::AsyncApi,
                });
            }
            self.wrong_type(&loc, &format!("`{key}`"), "a schema object", resolved.value);
            return None;
        };
        let Some(format) = map.get("schemaFormat") else {
            return Some(SchemaSource {
                loc,
                format: SchemaFormat::AsyncApi,
            });
        };
        let format = match format {
            Value::String(format) => SchemaFormat::parse(format),
            other => {
                self.wrong_type(
                    &resolved.loc.child("schemaFormat"),
                    "`schemaFormat`",
                    "a media type string",
                    other,
                );
                return None;
            }
        };
        if !map.contains_key("schema") {
            self.error(
                Diagnostic::new(
                    Code::MissingField,
                    Some(resolved.loc.child("schema")),
                    "a multi-format schema object must have a `schema`",
                )
                .with_help("put the schema under `schema:` beside `schemaFormat:`"),
            );
            return None;
        }
        let schema_loc = resolved.loc.child("schema");
        if let Err(diagnostic) = self.sources.resolve(&schema_loc) {
            self.error(diagnostic);
            return None;
        }
        Some(SchemaSource {
            loc: schema_loc,
            format,
        })
    }

    fn examples(&mut self, message: &Object<'_>) -> Vec<MessageExample> {
        let Some(Value::Array(items)) = message.get("examples") else {
            return Vec::new();
        };
        let at = message.at("examples");
        let mut examples = Vec::new();
        for i in 0..items.len() {
            let Some(example) = self.object(&at.index(i), "a message example") else {
                continue;
            };
            examples.push(MessageExample {
                name: self.string(&example, "name", false),
                summary: self.string(&example, "summary", false),
                payload: example.get("payload").cloned(),
                headers: example.get("headers").cloned(),
                loc: example.loc,
            });
        }
        examples
    }

    fn operation(&mut self, key: String, loc: &Loc, channels: &[Channel]) -> Option<Operation> {
        let operation = self.object_with_traits(loc, "an operation")?;
        let action = match operation.get("action") {
            Some(Value::String(action)) if action == "send" => OperationAction::Send,
            Some(Value::String(action)) if action == "receive" => OperationAction::Receive,
            Some(Value::String(action)) => {
                let help = match action.as_str() {
                    "publish" | "subscribe" => {
                        "AsyncAPI 3 uses `send` and `receive`; `publish`/`subscribe` are 2.x and their \
                         meaning is reversed: 2.x `publish` is 3.0 `receive`"
                    }
                    _ => "use `send` or `receive`",
                };
                self.error(
                    Diagnostic::new(
                        Code::InvalidAction,
                        Some(operation.at("action")),
                        format!(
                            "operation action `{action}` is invalid; it must be `send` or `receive`"
                        ),
                    )
                    .with_help(help),
                );
                return None;
            }
            Some(other) => {
                self.wrong_type(&operation.at("action"), "`action`", "a string", other);
                return None;
            }
            None => {
                self.error(
                    Diagnostic::new(
                        Code::MissingField,
                        Some(operation.loc.clone()),
                        "operation is missing its required `action`",
                    )
                    .with_help("add `action: send` or `action: receive`"),
                );
                return None;
            }
        };
        let Some(channel_value) = operation.get("channel") else {
            self.error(
                Diagnostic::new(
                    Code::MissingField,
                    Some(operation.loc.clone()),
                    "operation is missing its required `channel` reference",
                )
                .with_help("add `channel: {$ref: '#/channels/<id>'}`"),
            );
            return None;
        };
        let channel_loc = operation.at("channel");
        let channel = self.channel_reference(&channel_loc, channel_value, channels)?;
        let messages = self.message_references(
            &operation,
            "messages",
            channels.iter().find(|c| c.key == channel),
            Code::OperationMessageNotInChannel,
        );
        let reply = match operation.get("reply") {
            Some(_) => self.reply(&operation.at("reply"), channels),
            None => None,
        };
        Some(Operation {
            key,
            action,
            channel,
            messages,
            reply,
            title: self.string(&operation, "title", false),
            summary: self.string(&operation, "summary", false),
            description: self.string(&operation, "description", false),
            security: self.security_refs(&operation),
            loc: operation.loc,
        })
    }

    /// Resolves a `channel: {$ref}` to the key of the root channel it names.
    fn channel_reference(
        &mut self,
        loc: &Loc,
        value: &Value,
        channels: &[Channel],
    ) -> Option<String> {
        let Some(reference) = value.as_object().and_then(|m| m.get("$ref")) else {
            self.error(
                Diagnostic::new(
                    Code::WrongType,
                    Some(loc.clone()),
                    "`channel` must be a `$ref` to a channel",
                )
                .with_help(
                    "write `channel: {$ref: '#/channels/<id>'}`; inline channels are not allowed",
                ),
            );
            return None;
        };
        let Some(reference) = reference.as_str() else {
            self.wrong_type(&loc.child("$ref"), "`$ref`", "a string", reference);
            return None;
        };
        let target = match self.sources.ref_target(loc, reference) {
            Ok(target) => target,
            Err(mut diagnostic) => {
                if diagnostic.code == Code::RefUnresolved {
                    diagnostic.message =
                        format!("channel reference `{reference}` must point to a valid channel");
                }
                self.error(diagnostic);
                return None;
            }
        };
        let resolved = self.sources.resolve(&target).ok().map(|r| r.loc);
        let key = root_key(&target, "channels");
        let found = channels
            .iter()
            .find(|c| key.as_deref() == Some(c.key.as_str()) || resolved.as_ref() == Some(&c.loc));
        match found {
            Some(channel) => Some(channel.key.clone()),
            None => {
                self.error(
                    Diagnostic::new(
                        Code::WrongRefTarget,
                        Some(loc.child("$ref")),
                        format!("`{reference}` is not one of the root `channels`"),
                    )
                    .with_help("root operations must reference channels under the root `channels`"),
                );
                None
            }
        }
    }

    /// Reads a list of message references (`messages` of an operation or reply) and maps each to the
    /// key of the message in `channel`.
    fn message_references(
        &mut self,
        object: &Object<'_>,
        key: &str,
        channel: Option<&Channel>,
        not_in_channel: Code,
    ) -> Option<Vec<String>> {
        let list = object.get(key)?;
        let at = object.at(key);
        let Value::Array(items) = list else {
            self.wrong_type(
                &at,
                &format!("`{key}`"),
                "an array of message references",
                list,
            );
            return None;
        };
        let mut keys = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_loc = at.index(i);
            let Some(reference) = item
                .as_object()
                .and_then(|m| m.get("$ref"))
                .and_then(Value::as_str)
            else {
                self.error(
                    Diagnostic::new(
                        Code::WrongType,
                        Some(item_loc),
                        "message list entries must be `$ref`s to messages of the channel",
                    )
                    .with_help("write `- $ref: '#/channels/<channel>/messages/<message>'`"),
                );
                continue;
            };
            let target = match self.sources.ref_target(&item_loc, reference) {
                Ok(target) => target,
                Err(mut diagnostic) => {
                    if diagnostic.code == Code::RefUnresolved {
                        diagnostic.message = format!(
                            "message reference `{reference}` must point to a valid message"
                        );
                    }
                    self.error(diagnostic);
                    continue;
                }
            };
            let Some(channel) = channel else { continue };
            let resolved = self.sources.resolve(&target).ok().map(|r| r.loc);
            let channel_prefix = format!("{}/messages/", channel.loc.pointer);
            let by_pointer = target
                .pointer
                .strip_prefix(&channel_prefix)
                .filter(|_| target.file == channel.loc.file)
                .and_then(|rest| {
                    let rest = crate::load::parse_pointer(&format!("/{rest}")).next()?;
                    channel.message(&rest).map(|m| m.key.clone())
                });
            let by_identity = || {
                channel
                    .messages
                    .iter()
                    .find(|m| resolved.as_ref() == Some(&m.loc))
                    .map(|m| m.key.clone())
            };
            match by_pointer.or_else(by_identity) {
                Some(message_key) => keys.push(message_key),
                None => self.error(
                    Diagnostic::new(
                        not_in_channel,
                        Some(item_loc.child("$ref")),
                        format!(
                            "`{reference}` is not one of the messages of channel `{}`",
                            channel.key
                        ),
                    )
                    .with_related(channel.loc.clone(), "the channel is defined here")
                    .with_help(format!(
                        "reference a message of the channel, e.g. `#/channels/{}/messages/<key>`",
                        channel.key
                    )),
                ),
            }
        }
        Some(keys)
    }

    fn reply(&mut self, loc: &Loc, channels: &[Channel]) -> Option<Reply> {
        let reply = self.object(loc, "`reply`")?;
        let channel = match reply.get("channel") {
            Some(value) => self.channel_reference(&reply.at("channel"), value, channels),
            None => None,
        };
        let reply_channel = channel
            .as_deref()
            .and_then(|key| channels.iter().find(|c| c.key == key));
        let messages = self.message_references(
            &reply,
            "messages",
            reply_channel,
            Code::ReplyMessageNotInChannel,
        );
        let address_location = match reply.get("address") {
            Some(_) => self
                .object(&reply.at("address"), "a reply address")
                .and_then(|address| self.string(&address, "location", true)),
            None => None,
        };
        Some(Reply {
            loc: reply.loc,
            channel,
            messages,
            address_location,
        })
    }
}

/// The key of `loc` when it is `#/components/<section>/<key>` exactly.
fn component_key(loc: &Loc, section: &str) -> Option<String> {
    let prefix = format!("/components/{section}/");
    let rest = loc.pointer.strip_prefix(&prefix)?;
    (!rest.contains('/')).then(|| crate::load::parse_pointer(&format!("/{rest}")).next())?
}

/// The key of `loc` when it is `#/<section>/<key>` exactly, in the entry file.
fn root_key(loc: &Loc, section: &str) -> Option<String> {
    if loc.file != Sources::ENTRY {
        return None;
    }
    let prefix = format!("/{section}/");
    let rest = loc.pointer.strip_prefix(&prefix)?;
    (!rest.contains('/')).then(|| crate::load::parse_pointer(&format!("/{rest}")).next())?
}

/// A scalar as text (parameters' `enum` and `default` may be written as numbers).
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// "a string", "an array", ... for messages.
pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// JSON Merge Patch (RFC 7386): objects merge recursively, anything else replaces, `null` deletes.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(target) = target else {
        return;
    };
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut target = json!({"a": {"b": 1, "c": 2}, "d": [1, 2], "e": 1});
        merge_patch(
            &mut target,
            &json!({"a": {"b": 9, "c": null}, "d": [3], "f": 4}),
        );
        assert_eq!(target, json!({"a": {"b": 9}, "d": [3], "e": 1, "f": 4}));
    }

    fn read(text: &str) -> (Document, Diagnostics) {
        let (sources, mut diagnostics) =
            Sources::load_text(std::path::Path::new("t.yaml"), text.to_owned());
        let document = read_document(&sources, &mut diagnostics);
        (document, diagnostics)
    }

    #[test]
    fn traits_merge_under_the_object() {
        let (document, diagnostics) = read(
            r#"
asyncapi: 3.0.0
info: {title: T, version: '1'}
channels:
  c:
    address: /c
    messages:
      m:
        $ref: '#/components/messages/m'
components:
  messages:
    m:
      summary: own
      traits:
        - {summary: from trait, contentType: application/json}
        - {$ref: '#/components/messageTraits/t'}
  messageTraits:
    t: {title: Trait title, contentType: text/plain}
"#,
        );
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let message = &document.channels[0].messages[0];
        assert_eq!(message.summary.as_deref(), Some("own"));
        assert_eq!(message.content_type.as_deref(), Some("text/plain"));
        assert_eq!(message.title.as_deref(), Some("Trait title"));
        assert_eq!(message.component.as_deref(), Some("m"));
    }

    #[test]
    fn operations_map_message_refs_to_channel_keys() {
        let (document, diagnostics) = read(
            r#"
asyncapi: 3.0.0
info: {title: T, version: '1'}
channels:
  c:
    address: /c
    messages:
      ping: {$ref: '#/components/messages/Ping'}
      pong: {payload: {type: string}}
operations:
  recv:
    action: receive
    channel: {$ref: '#/channels/c'}
    messages: [{$ref: '#/channels/c/messages/ping'}]
    reply:
      channel: {$ref: '#/channels/c'}
      messages: [{$ref: '#/channels/c/messages/pong'}]
  bad:
    action: send
    channel: {$ref: '#/channels/c'}
    messages: [{$ref: '#/components/messages/Other'}]
components:
  messages:
    Ping: {payload: {type: object}}
    Other: {payload: {type: object}}
"#,
        );
        let recv = &document.operations[0];
        assert_eq!(recv.messages.as_deref(), Some(&["ping".to_owned()][..]));
        let reply = recv.reply.as_ref().unwrap();
        assert_eq!(reply.messages.as_deref(), Some(&["pong".to_owned()][..]));
        let codes: Vec<Code> = diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::OperationMessageNotInChannel]);
    }
}

//! Channels and what they hold: addresses and their parameters, messages (and message traits), their
//! schema formats and correlation ids.

use serde_json::Value;

use super::{Checker, Kind, Object, distinct, entries, items, keys, syntax};
use crate::diagnostics::{Code, Loc};
use crate::spec::SchemaFormat;

/// AsyncAPI 2.x fields of a channel, with what 3.0 has instead.
const CHANNEL_2X_FIELDS: &[(&str, &str)] = &[
    (
        "subscribe",
        "AsyncAPI 3.0 declares operations under the root `operations`: a 2.x `subscribe` becomes an \
         operation with `action: send` and `channel: {$ref: '#/channels/<id>'}`",
    ),
    (
        "publish",
        "AsyncAPI 3.0 declares operations under the root `operations`: a 2.x `publish` becomes an \
         operation with `action: receive` and `channel: {$ref: '#/channels/<id>'}`",
    ),
];

/// AsyncAPI 2.x fields of a message or message trait.
const MESSAGE_2X_FIELDS: &[(&str, &str)] = &[(
    "messageId",
    "in AsyncAPI 3.0 a message's key under `messages` is its id; `name` gives it a machine-friendly \
     name",
)];

/// AsyncAPI 2.x fields of a channel parameter.
const PARAMETER_2X_FIELDS: &[(&str, &str)] = &[(
    "schema",
    "AsyncAPI 3.0 parameters are not schemas: write `enum`, `default`, `description`, `examples` \
     and `location` directly in the parameter",
)];

/// The help for a schema in another format.
const SUPPORTED_SCHEMA_FORMATS: &str = "chanx-gen generates from AsyncAPI schemas (the default, \
     `application/vnd.aai.asyncapi+json;version=3.0.0`) and JSON Schema \
     (`application/schema+json;version=draft-07`); convert the schema to one of them";

impl Checker<'_, '_> {
    /// A root or component channel.
    pub(super) fn channel(&mut self, loc: &Loc) {
        let Some((at, channel)) = self.visit(Kind::Channel, loc) else {
            return;
        };
        self.asyncapi2_fields(&at, channel, CHANNEL_2X_FIELDS);
        self.tags_and_external_docs(&at, channel);
        match channel.get("address") {
            // Channel traits (not 3.0, but read like parser-js does) may give the address.
            None if self.trait_has_field(&at, channel, "address") => {}
            None => self.report(
                Code::ChannelAddressMissing,
                at.clone(),
                "the channel has no `address`".to_owned(),
                "write `address: /path/{param}`; when the address is only known at runtime (a reply \
                 channel, say), write `address: null` to say so",
            ),
            Some(Value::String(address)) => self.channel_address(&at, channel, address),
            Some(_) => {}
        }
        for parameter in entries(&at, channel, "parameters") {
            self.parameter(&parameter);
        }
        for message in entries(&at, channel, "messages") {
            self.message(&message);
        }
    }

    /// Whether one of the object's `traits` sets `field`.
    fn trait_has_field(&self, at: &Loc, object: &Object, field: &str) -> bool {
        let Some(Value::Array(traits)) = object.get("traits") else {
            return false;
        };
        (0..traits.len()).any(|i| {
            self.sources
                .resolve(&at.child("traits").index(i))
                .is_ok_and(|t| t.value.get(field).is_some())
        })
    }

    /// No query or fragment, balanced placeholders, and placeholders that match the parameters both
    /// ways.
    fn channel_address(&mut self, at: &Loc, channel: &Object, address: &str) {
        let address_at = at.child("address");
        if let Some(c) = address.chars().find(|c| matches!(c, '?' | '#')) {
            self.report(
                Code::AddressQueryOrFragment,
                address_at.clone(),
                format!("the address `{address}` contains `{c}`"),
                "an address has no query string or fragment; describe a WebSocket handshake's query \
                 parameters in the channel's `bindings.ws.query`",
            );
        }
        let Some(names) = self.address_placeholders(&address_at, address) else {
            return;
        };
        let declared = keys(channel, "parameters");
        for name in names.iter().filter(|name| !declared.contains(name)) {
            self.report(
                Code::AddressParameterUndeclared,
                address_at.clone(),
                format!("the address uses `{{{name}}}`, but the channel has no parameter `{name}`"),
                format!(
                    "declare it under the channel's `parameters`: `{name}: {{description: ...}}`"
                ),
            );
        }
        for name in declared.iter().filter(|name| !names.contains(name)) {
            self.report(
                Code::ParameterUnused,
                at.child("parameters").child(name).key(),
                format!("the parameter `{name}` does not appear in the address `{address}`"),
                format!("use it in the address as `{{{name}}}`, or remove it"),
            );
        }
    }

    /// The parameter names an address uses, once each; `None` (reported) if its braces do not parse.
    /// Starlette converters (`{user_id:int}`, as Chanx writes them) are accepted, with a note.
    fn address_placeholders<'a>(&mut self, at: &Loc, address: &'a str) -> Option<Vec<&'a str>> {
        let placeholders = match syntax::placeholders(address) {
            Ok(placeholders) => placeholders,
            Err(error) => {
                self.report(
                    Code::InvalidAddress,
                    at.clone(),
                    format!("the address `{address}` {}", error.describe()),
                    "a parameter is written `{name}` in the address",
                );
                return None;
            }
        };
        let mut names = Vec::new();
        let mut converted = None;
        for placeholder in &placeholders {
            let (name, converter) = placeholder.name_and_converter();
            if name.is_empty() || converter == Some("") {
                self.report(
                    Code::InvalidAddress,
                    at.clone(),
                    format!(
                        "the placeholder `{{{}}}` of the address `{address}` is incomplete",
                        placeholder.inner
                    ),
                    "write a parameter as `{name}`, or with a Starlette converter as `{name:int}`",
                );
                return None;
            }
            converted = converted.or(converter.map(|_| (placeholder.inner, name)));
            names.push(name);
        }
        if let Some((placeholder, name)) = converted {
            self.report(
                Code::AddressConverter,
                at.clone(),
                format!(
                    "the address uses a Starlette converter, `{{{placeholder}}}`; its parameter is \
                     `{name}`"
                ),
                "Chanx writes route converters into addresses; chanx-gen takes the part before `:` \
                 as the parameter name",
            );
        }
        Some(distinct(names))
    }

    /// A channel parameter (of a channel or in `components.parameters`).
    pub(super) fn parameter(&mut self, loc: &Loc) {
        let Some((at, parameter)) = self.visit(Kind::Parameter, loc) else {
            return;
        };
        self.asyncapi2_fields(&at, parameter, PARAMETER_2X_FIELDS);
        self.default_in_enum(&at, parameter);
        self.runtime_expression(&at, parameter);
    }

    /// A message or a message trait.
    pub(super) fn message(&mut self, loc: &Loc) {
        let Some((at, message)) = self.visit(Kind::Message, loc) else {
            return;
        };
        self.asyncapi2_fields(&at, message, MESSAGE_2X_FIELDS);
        self.tags_and_external_docs(&at, message);
        for field in ["payload", "headers"] {
            if message.contains_key(field) {
                self.schema_format(&at.child(field));
            }
        }
        if message.contains_key("correlationId") {
            self.correlation_id(&at.child("correlationId"));
        }
        for message_trait in items(&at, message, "traits") {
            self.message(&message_trait);
        }
    }

    /// A payload or headers schema must be in a format chanx-gen generates from.
    fn schema_format(&mut self, loc: &Loc) {
        let Some((at, schema)) = self.visit(Kind::Schema, loc) else {
            return;
        };
        let Some(Value::String(format)) = schema.get("schemaFormat") else {
            return;
        };
        if let SchemaFormat::Other(_) = SchemaFormat::parse(format) {
            self.report(
                Code::UnsupportedSchemaFormat,
                at.child("schemaFormat"),
                format!("chanx-gen cannot generate code from a schema in the format `{format}`"),
                SUPPORTED_SCHEMA_FORMATS,
            );
        }
    }

    /// A correlation id: its `location` is a runtime expression.
    pub(super) fn correlation_id(&mut self, loc: &Loc) {
        if let Some((at, correlation_id)) = self.visit(Kind::CorrelationId, loc) {
            self.runtime_expression(&at, correlation_id);
        }
    }
}

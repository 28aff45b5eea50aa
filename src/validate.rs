//! Stage 3: semantic checks of an AsyncAPI 3 document, beyond its structure.
//!
//! Each check reports with a stable [`Code`]; all of them run, so one pass reports every problem.
//!
//! The checks read the raw tree through [`Sources`] rather than the model, because they need what the
//! model leaves out: AsyncAPI 2.x fields, components that nothing references, and whether a field is
//! absent or null. They walk the root objects and every `components` section; an object reached by
//! several paths (a component message referenced from two channels) is checked once. Structural
//! problems (wrong types, missing required fields, references the reader follows) are the reader's;
//! broken references elsewhere are reported by a last pass over every `$ref` of every file.

mod channels;
mod operations;
mod references;
mod security;
mod servers;
mod syntax;

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::diagnostics::{Code, Diagnostic, Diagnostics, Loc};
use crate::load::Sources;
use crate::spec::Document;

/// Runs every semantic check on `document`. Documents that are not AsyncAPI 3 (already reported by
/// the reader) are left alone.
pub fn validate(sources: &Sources, document: &Document, diagnostics: &mut Diagnostics) {
    if !document.asyncapi.starts_with("3.") {
        return;
    }
    Checker {
        sources,
        diagnostics,
        visited: HashSet::new(),
    }
    .document();
    references::report_broken_refs(sources, diagnostics);
}

/// A JSON object of the raw tree.
type Object = Map<String, Value>;

/// How to write a runtime expression.
const RUNTIME_EXPRESSION_HELP: &str = "write `$message.header#/<pointer>` or \
     `$message.payload#/<pointer>`, as in `$message.header#/replyTo`";

/// The kinds of object the checks visit (an object is checked once per kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Server,
    ServerVariable,
    Channel,
    Parameter,
    Message,
    Schema,
    CorrelationId,
    Operation,
    Reply,
    ReplyAddress,
    SecurityScheme,
}

/// The state of one validation run.
struct Checker<'s, 'd> {
    sources: &'s Sources,
    diagnostics: &'d mut Diagnostics,
    /// The objects already checked, by kind and resolved place.
    visited: HashSet<(Kind, Loc)>,
}

impl<'s> Checker<'s, '_> {
    /// Records a diagnostic of `code` with a hint.
    fn report(&mut self, code: Code, loc: Loc, message: String, help: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::new(code, Some(loc), message).with_help(help));
    }

    /// Resolves the object at `loc`; `None` if it is broken (reported elsewhere), not an object (the
    /// reader's concern) or already checked as a `kind`.
    fn visit(&mut self, kind: Kind, loc: &Loc) -> Option<(Loc, &'s Object)> {
        let sources = self.sources;
        let resolved = sources.resolve(loc).ok()?;
        let Value::Object(object) = resolved.value else {
            return None;
        };
        self.visited
            .insert((kind, resolved.loc.clone()))
            .then_some((resolved.loc, object))
    }

    /// Checks the root objects of the entry file, then its components.
    fn document(&mut self) {
        let root = Loc::root(Sources::ENTRY);
        let sources = self.sources;
        let Some(Value::Object(document)) = sources.get(&root) else {
            return;
        };
        if let Some(Value::Object(info)) = document.get("info") {
            self.tags_and_external_docs(&root.child("info"), info);
        }
        for server in entries(&root, document, "servers") {
            self.expect_component_ref(&server, "servers");
            self.server(&server);
        }
        for channel in entries(&root, document, "channels") {
            self.channel(&channel);
        }
        for operation in entries(&root, document, "operations") {
            self.operation(&operation);
        }
        if let Some(Value::Object(components)) = document.get("components") {
            self.components(&root.child("components"), components);
        }
    }

    /// Checks every key of every `components` section, and every entry of the sections that have a
    /// check.
    fn components(&mut self, at: &Loc, components: &'s Object) {
        for (section, entries) in components {
            let Value::Object(entries) = entries else {
                continue;
            };
            if section.starts_with("x-") {
                continue;
            }
            let section_at = at.child(section);
            self.component_keys(&section_at, entries);
            let Some(check) = Self::component_check(section) else {
                continue;
            };
            for key in entries.keys() {
                check(self, &section_at.child(key));
            }
        }
    }

    /// The check for the entries of a `components` section, for the sections that have one.
    fn component_check(section: &str) -> Option<fn(&mut Self, &Loc)> {
        Some(match section {
            "servers" => Self::server,
            "serverVariables" => Self::server_variable,
            "channels" => Self::channel,
            "parameters" => Self::parameter,
            "messages" | "messageTraits" => Self::message,
            "correlationIds" => Self::correlation_id,
            "operations" | "operationTraits" => Self::operation,
            "replies" => Self::reply,
            "replyAddresses" => Self::reply_address,
            "securitySchemes" => Self::security_scheme,
            _ => return None,
        })
    }

    /// Component keys must match `^[a-zA-Z0-9.\-_]+$`.
    fn component_keys(&mut self, section_at: &Loc, entries: &Object) {
        for key in entries.keys().filter(|key| !syntax::is_component_key(key)) {
            let why = match key.chars().find(|&c| !syntax::is_component_key_char(c)) {
                Some(c) => format!("it contains {c:?}"),
                None => "it is empty".to_owned(),
            };
            self.report(
                Code::InvalidComponentKey,
                section_at.child(key).key(),
                format!("the component key `{key}` is invalid: {why}"),
                "component keys may only contain ASCII letters, digits, `.`, `-` and `_` \
                 (pattern `^[a-zA-Z0-9.\\-_]+$`)",
            );
        }
    }

    /// Reports each field of `fields` (AsyncAPI 2.x fields) that `object` has.
    fn asyncapi2_fields(&mut self, at: &Loc, object: &Object, fields: &[(&str, &str)]) {
        for &(field, instead) in fields {
            if object.contains_key(field) {
                self.report(
                    Code::Asyncapi2Field,
                    at.child(field).key(),
                    format!(
                        "`{field}` is an AsyncAPI 2.x field; AsyncAPI 3.0 has no such field here"
                    ),
                    instead,
                );
            }
        }
    }

    /// When the object at `loc` is a `$ref` within its own file, it must point at an entry of
    /// `components.<section>`. (References into other files may follow that file's layout.)
    fn expect_component_ref(&mut self, loc: &Loc, section: &str) {
        let sources = self.sources;
        let Some(Value::String(reference)) = sources.get(loc).and_then(|v| v.get("$ref")) else {
            return;
        };
        let Ok(target) = sources.ref_target(loc, reference) else {
            return; // A broken reference: reported by the reader or by `references`.
        };
        if target.file != loc.file || is_component(&target.pointer, section) {
            return;
        }
        self.report(
            Code::WrongRefTarget,
            loc.child("$ref"),
            format!("`{reference}` must point to an entry of `components.{section}`"),
            format!(
                "define the object under `components.{section}` and reference it as \
                 `#/components/{section}/<key>`"
            ),
        );
    }

    /// `tags` and `externalDocs` references must point into `components.tags` and
    /// `components.externalDocs`.
    fn tags_and_external_docs(&mut self, at: &Loc, object: &Object) {
        if object.contains_key("externalDocs") {
            self.expect_component_ref(&at.child("externalDocs"), "externalDocs");
        }
        for tag in items(at, object, "tags") {
            self.expect_component_ref(&tag, "tags");
        }
    }

    /// A `default` beside an `enum` must be one of its values.
    fn default_in_enum(&mut self, at: &Loc, object: &Object) {
        let (Some(Value::Array(allowed)), Some(default)) =
            (object.get("enum"), object.get("default"))
        else {
            return;
        };
        let default = scalar_text(default);
        let allowed: Vec<String> = allowed.iter().map(scalar_text).collect();
        if allowed.contains(&default) {
            return;
        }
        let listed: Vec<String> = allowed.iter().take(8).map(|v| format!("`{v}`")).collect();
        let more = if allowed.len() > 8 { ", ..." } else { "" };
        self.report(
            Code::DefaultNotInEnum,
            at.child("default"),
            format!(
                "the default `{default}` is not one of the `enum` values ({}{more})",
                listed.join(", ")
            ),
            "make `default` one of the `enum` values, or add it to `enum`",
        );
    }

    /// An object's `location` must be a runtime expression.
    fn runtime_expression(&mut self, at: &Loc, object: &Object) {
        let Some(Value::String(location)) = object.get("location") else {
            return;
        };
        if !syntax::is_runtime_expression(location) {
            self.report(
                Code::InvalidRuntimeExpression,
                at.child("location"),
                format!("`{location}` is not a runtime expression"),
                RUNTIME_EXPRESSION_HELP,
            );
        }
    }
}

/// Whether `pointer` is `/components/<section>/<key>`.
fn is_component(pointer: &str, section: &str) -> bool {
    pointer
        .strip_prefix("/components/")
        .and_then(|rest| rest.strip_prefix(section))
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|key| !key.is_empty() && !key.contains('/'))
}

/// The places of the entries of `object`'s map field `key` (none when it is not a map).
fn entries(at: &Loc, object: &Object, key: &str) -> Vec<Loc> {
    let at = at.child(key);
    match object.get(key) {
        Some(Value::Object(map)) => map.keys().map(|k| at.child(k)).collect(),
        _ => Vec::new(),
    }
}

/// The places of the items of `object`'s array field `key` (none when it is not an array).
fn items(at: &Loc, object: &Object, key: &str) -> Vec<Loc> {
    let at = at.child(key);
    match object.get(key) {
        Some(Value::Array(items)) => (0..items.len()).map(|i| at.index(i)).collect(),
        _ => Vec::new(),
    }
}

/// The keys of `object`'s map field `key`.
fn keys<'o>(object: &'o Object, key: &str) -> Vec<&'o str> {
    match object.get(key) {
        Some(Value::Object(map)) => map.keys().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}

/// `names` without repeats, in first-seen order.
fn distinct<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = Vec::new();
    for name in names {
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    seen
}

/// A scalar as text (`enum`, `default` and addresses may be written as numbers).
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::diagnostics::Severity;

    const HEAD: &str = "asyncapi: 3.0.0\ninfo: {title: T, version: '1'}\n";

    /// Loads, reads and validates `text` (the stages up to this one, not the lowering after it).
    fn check(text: &str) -> (Sources, Diagnostics) {
        let (sources, mut diagnostics) = Sources::load_text(Path::new("t.yaml"), text.to_owned());
        let document = crate::spec::read_document(&sources, &mut diagnostics);
        validate(&sources, &document, &mut diagnostics);
        diagnostics.sort(&sources);
        (sources, diagnostics)
    }

    /// The (code, pointer, on_key) of every diagnostic of a document (`HEAD` is prepended).
    fn findings(body: &str) -> Vec<(Code, String, bool)> {
        let (sources, diagnostics) = check(&format!("{HEAD}{body}"));
        diagnostics
            .iter()
            .map(|d| {
                let loc = d.loc.clone().expect("every diagnostic has a place");
                assert!(sources.locate(&loc).is_some(), "{d:?}");
                (d.code, loc.pointer, loc.on_key)
            })
            .collect()
    }

    fn codes(body: &str) -> Vec<Code> {
        findings(body).into_iter().map(|(code, ..)| code).collect()
    }

    #[test]
    fn a_clean_document_has_no_findings() {
        let body = r#"
servers:
  prod: {host: 'api.example.com:{port}', protocol: wss, pathname: /v1,
         variables: {port: {enum: ['443', '8443'], default: '443'}}}
channels:
  room:
    address: /ws/{room}
    parameters: {room: {enum: [a, b], default: a, location: '$message.payload#/room'}}
    messages: {m: {$ref: '#/components/messages/m'}}
  replies: {address: null, messages: {r: {payload: {type: string}}}}
operations:
  send:
    action: send
    channel: {$ref: '#/channels/room'}
    reply:
      address: {location: '$message.header#/replyTo'}
      channel: {$ref: '#/channels/replies'}
components:
  messages:
    m: {payload: {type: object}, correlationId: {location: '$message.header#/id'}}
  securitySchemes:
    key: {type: httpApiKey, name: token, in: query}
"#;
        assert_eq!(findings(body), []);
    }

    #[test]
    fn placeholders_and_parameters_must_match_both_ways() {
        let found = findings(
            "channels:\n  c:\n    address: /a/{room}/{room}\n    parameters: {user: {}}\n",
        );
        assert_eq!(
            found,
            [
                (
                    Code::AddressParameterUndeclared,
                    "/channels/c/address".to_owned(),
                    false
                ),
                (
                    Code::ParameterUnused,
                    "/channels/c/parameters/user".to_owned(),
                    true
                ),
            ]
        );
    }

    #[test]
    fn starlette_converters_name_the_parameter_and_are_noted_once() {
        let found = codes(
            "channels:\n  c:\n    address: /n/{user_id:int}/{day:int}\n    \
             parameters: {user_id: {}, day: {}}\n",
        );
        assert_eq!(found, [Code::AddressConverter]);
    }

    #[test]
    fn malformed_addresses() {
        for address in ["/a/{room", "/a/room}", "/a/{}", "/a/{:int}", "/a/{id:}"] {
            let body = format!("channels:\n  c: {{address: '{address}'}}\n");
            assert_eq!(codes(&body), [Code::InvalidAddress], "{address}");
        }
        let body = "channels:\n  c: {address: '/a?x=1'}\n";
        assert_eq!(codes(body), [Code::AddressQueryOrFragment]);
    }

    #[test]
    fn a_missing_address_warns_and_a_null_one_is_fine() {
        let (_, diagnostics) = check(&format!(
            "{HEAD}channels:\n  a: {{description: x}}\n  b: {{address: null}}\n"
        ));
        let found: Vec<(Code, Severity)> =
            diagnostics.iter().map(|d| (d.code, d.severity)).collect();
        assert_eq!(found, [(Code::ChannelAddressMissing, Severity::Warning)]);
    }

    #[test]
    fn runtime_expressions_are_checked_wherever_they_appear() {
        let body = r#"
channels:
  c:
    address: /c
    messages:
      m: {correlationId: {location: 'header.id'}}
operations:
  o:
    action: send
    channel: {$ref: '#/channels/c'}
    reply: {address: {location: 'replyTo'}}
components:
  parameters: {p: {location: '$message.body#/x'}}
"#;
        let pointers: Vec<String> = findings(body)
            .into_iter()
            .filter(|(code, ..)| *code == Code::InvalidRuntimeExpression)
            .map(|(_, pointer, _)| pointer)
            .collect();
        assert_eq!(
            pointers,
            [
                "/channels/c/messages/m/correlationId/location",
                "/operations/o/reply/address/location",
                "/components/parameters/p/location",
            ]
        );
    }

    #[test]
    fn component_keys_are_reported_on_the_key() {
        let found = findings("components:\n  schemas:\n    'bad key': {}\n    good.Key_1-2: {}\n");
        assert_eq!(
            found,
            [(
                Code::InvalidComponentKey,
                "/components/schemas/bad key".to_owned(),
                true
            )]
        );
    }

    #[test]
    fn server_hosts() {
        let server = |host: &str| {
            codes(&format!(
                "servers:\n  s: {{host: '{host}', protocol: ws}}\n"
            ))
        };
        assert_eq!(server("ws://example.com"), [Code::InvalidServer]);
        assert_eq!(server("example.com/ws"), [Code::InvalidServer]);
        assert_eq!(server("{region}.example.com"), [Code::InvalidServer]);
        assert_eq!(server("[::1]:8080"), []);
        assert_eq!(
            codes("servers:\n  s: {protocol: ws}\n"),
            [Code::InvalidServer]
        );
        let url = codes("servers:\n  s: {url: 'ws://example.com', protocol: ws}\n");
        assert_eq!(url, [Code::InvalidServer, Code::Asyncapi2Field]);
    }

    #[test]
    fn asyncapi2_fields_in_components_are_found() {
        let body = r#"
components:
  messageTraits: {t: {messageId: x}}
  operationTraits: {t: {operationId: x}}
  securitySchemes:
    o: {type: oauth2, flows: {implicit: {authorizationUrl: 'https://a', scopes: {}}}}
"#;
        let pointers: Vec<String> = findings(body).into_iter().map(|(_, p, _)| p).collect();
        assert_eq!(
            pointers,
            [
                "/components/messageTraits/t/messageId",
                "/components/operationTraits/t/operationId",
                "/components/securitySchemes/o/flows/implicit/scopes",
            ]
        );
    }

    #[test]
    fn reply_address_needs_a_channel_without_address() {
        let body = r#"
channels:
  c: {address: /c}
operations:
  o:
    action: send
    channel: {$ref: '#/channels/c'}
    reply: {address: {location: '$message.header#/to'}, channel: {$ref: '#/channels/c'}}
"#;
        assert_eq!(
            findings(body),
            [(
                Code::ReplyAddressConflict,
                "/operations/o/reply/address".to_owned(),
                true
            )]
        );
    }

    #[test]
    fn security_schemes() {
        let body = r#"
components:
  securitySchemes:
    a: {type: apikey, in: user}
    b: {type: httpApiKey, in: body}
    c: {type: apiKey, in: user}
"#;
        let found: Vec<(String, bool)> = findings(body)
            .into_iter()
            .map(|(code, pointer, _)| (pointer, code == Code::InvalidSecurityScheme))
            .collect();
        assert_eq!(
            found,
            [
                ("/components/securitySchemes/a/type".to_owned(), true),
                ("/components/securitySchemes/b".to_owned(), true),
                ("/components/securitySchemes/b/in".to_owned(), true),
            ]
        );
    }

    #[test]
    fn refs_must_point_into_the_right_components() {
        let body = "info:\n  title: T\n  version: '1'\n  tags: [{$ref: '#/components/schemas/x'}]\n\
                    components:\n  schemas: {x: {}}\n";
        let (_, diagnostics) = check(&format!("asyncapi: 3.0.0\n{body}"));
        let found: Vec<(Code, &str)> = diagnostics
            .iter()
            .map(|d| (d.code, d.loc.as_ref().map_or("", |l| l.pointer.as_str())))
            .collect();
        assert_eq!(found, [(Code::WrongRefTarget, "/info/tags/0/$ref")]);
    }

    #[test]
    fn broken_refs_are_reported_once_each() {
        let body = r#"
channels:
  c:
    address: /c
    messages:
      m: {$ref: '#/components/messages/gone'}
      looping: {$ref: '#/components/messages/x'}
components:
  messages:
    x: {$ref: '#/components/messages/y'}
    y: {$ref: '#/components/messages/x'}
  schemas:
    dangling: {$ref: '#/components/schemas/nowhere'}
    a: {$ref: '#/components/schemas/b'}
    b: {$ref: '#/components/schemas/a'}
    via: {$ref: '#/components/schemas/dangling'}
"#;
        let found: Vec<(Code, String)> = findings(body)
            .into_iter()
            .map(|(code, pointer, _)| (code, pointer))
            .collect();
        assert_eq!(
            found,
            [
                (
                    Code::RefUnresolved,
                    "/channels/c/messages/m/$ref".to_owned()
                ),
                (
                    Code::RefCycle,
                    "/channels/c/messages/looping/$ref".to_owned()
                ),
                (
                    Code::RefUnresolved,
                    "/components/schemas/dangling/$ref".to_owned()
                ),
                (Code::RefCycle, "/components/schemas/a/$ref".to_owned()),
            ]
        );
    }

    #[test]
    fn unsupported_schema_formats() {
        let body = r#"
components:
  messages:
    m:
      payload: {schemaFormat: 'application/vnd.apache.avro;version=1.9.0', schema: {type: record}}
      headers: {schemaFormat: 'application/schema+json;version=draft-07', schema: {type: object}}
"#;
        assert_eq!(
            findings(body),
            [(
                Code::UnsupportedSchemaFormat,
                "/components/messages/m/payload/schemaFormat".to_owned(),
                false
            )]
        );
    }

    #[test]
    fn odd_value_types_never_panic() {
        for body in [
            "servers: 3\nchannels: [1]\noperations: null\ncomponents: true\n",
            "servers: {s: 1}\nchannels: {c: {address: 5, parameters: [x]}}\n",
            "channels: {c: {address: /x, messages: {m: {payload: 1, traits: {a: 1}}}}}\n",
            "components: {securitySchemes: {s: {type: 4}}, messages: {m: [1]}, parameters: 2}\n",
            "operations: {o: {action: send, channel: 1, reply: {address: 1, channel: 'x'}}}\n",
        ] {
            let _ = findings(body);
        }
    }
}

//! `chanx-gen export DIR -o SPEC`: an AsyncAPI 3.0 document from Rust code in the generated shape
//! (the code-first direction Chanx itself takes).
//!
//! The code is read with [`check::extract`](crate::check::extract) into a [`wire::Model`](Model),
//! which is written the way Chanx writes documents: one `components.messages` entry per message, its
//! payload a `$ref` to `components.schemas`, the tag property as `const` + `default` (not required),
//! optionals as `anyOf [X, {type: null}]`, `receive` operations with a `reply`, `send` operations for
//! events. Lowering the result gives back the same wire model: `export(generate(spec))` equals `spec`
//! under [`wire::compare`](crate::wire::compare). What the code does not keep (descriptions, examples,
//! servers, security, bindings, defaults, formats without a Rust type) is not exported; the README
//! lists it.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::ir::{Constraints, IntegerFormat, StringFormat, Ty, TyKind};
use crate::wire::{Model, WMessage, WTypeKind};

/// Why [`export_dir`] produced nothing.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The folder holds no readable generated module.
    #[error("{}", .0.join("\n"))]
    Unreadable(Vec<String>),
}

/// Reads the generated module in `dir` and writes its API as an AsyncAPI 3.0 document.
pub fn export_dir(dir: &Path) -> Result<Value, ExportError> {
    let extracted = crate::check::extract::extract_dir(dir);
    let fatal: Vec<String> = extracted
        .problems
        .iter()
        .filter(|p| p.unparsable)
        .map(|p| format!("{}: {}", p.site, p.message))
        .collect();
    if !fatal.is_empty() {
        return Err(ExportError::Unreadable(fatal));
    }
    Ok(export(&extracted.model))
}

/// The AsyncAPI 3.0 document of a model.
pub fn export(model: &Model) -> Value {
    let tags = tag_properties(model);
    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    let mut used_ops = HashSet::new();
    for channel in &model.channels {
        let key = &channel.key;
        let chan_ref = json!({"$ref": format!("#/channels/{}", crate::wire::escape(key))});
        // Message keys: the Rust variant name (the lowering derives the same name back from it).
        let mut keys: HashMap<(bool, String), String> = HashMap::new();
        let mut channel_messages = Map::new();
        for (server, list) in [
            (false, &channel.client_messages),
            (true, &channel.server_messages),
        ] {
            for m in list {
                let mut msg_key = m.rust_name.clone();
                if channel_messages.contains_key(&msg_key) {
                    let same = channel_messages.get(&msg_key).is_some_and(|_| {
                        let other = if server {
                            &channel.client_messages
                        } else {
                            &channel.server_messages
                        };
                        other
                            .iter()
                            .any(|o| o.rust_name == m.rust_name && same_message(o, m))
                    });
                    if !same {
                        msg_key = format!("{}{}", m.rust_name, if server { "Out" } else { "In" });
                    }
                }
                keys.insert((server, m.id.clone()), msg_key.clone());
                let component = format!("{key}.{msg_key}");
                channel_messages.insert(
                    msg_key.clone(),
                    json!({"$ref": format!("#/components/messages/{}", crate::wire::escape(&component))}),
                );
                messages.insert(component, json!({"payload": payload_schema(model, m)}));
            }
        }
        let msg_ref = |server: bool, id: &str| -> Value {
            let k = keys
                .get(&(server, id.to_owned()))
                .cloned()
                .unwrap_or_default();
            json!({"$ref": format!(
                "#/channels/{}/messages/{}",
                crate::wire::escape(key),
                crate::wire::escape(&k)
            )})
        };
        let mut entry = Map::new();
        if let Some(address) = &channel.address {
            entry.insert("address".into(), json!(address));
        }
        if !channel.parameters.is_empty() {
            let params: Map<String, Value> = channel
                .parameters
                .iter()
                .map(|p| (p.name.clone(), json!({})))
                .collect();
            entry.insert("parameters".into(), Value::Object(params));
        }
        entry.insert("messages".into(), Value::Object(channel_messages));
        channels.insert(key.clone(), Value::Object(entry));
        let mut op_key = |method: &str| {
            let mut name = method.to_owned();
            if !used_ops.insert(name.clone()) {
                name = format!("{key}_{method}");
                used_ops.insert(name.clone());
            }
            name
        };
        for action in &channel.actions {
            let mut op = json!({
                "action": "receive",
                "channel": chan_ref,
                "messages": [msg_ref(false, &action.message)],
            });
            if !action.replies.is_empty() {
                op["reply"] = json!({
                    "channel": chan_ref,
                    "messages": action.replies.iter().map(|r| msg_ref(true, r)).collect::<Vec<_>>(),
                });
            }
            operations.insert(op_key(&action.method), op);
        }
        for event in &channel.events {
            operations.insert(
                op_key(&event.method),
                json!({
                    "action": "send",
                    "channel": chan_ref,
                    "messages": event.messages.iter().map(|r| msg_ref(true, r)).collect::<Vec<_>>(),
                }),
            );
        }
    }
    let payloads: HashSet<usize> = model
        .channels
        .iter()
        .flat_map(|c| c.client_messages.iter().chain(&c.server_messages))
        .filter_map(|m| match &m.payload {
            Some(Ty {
                kind: TyKind::Named(id),
                nullable: false,
                ..
            }) => Some(id.0),
            _ => None,
        })
        .collect();
    let mut schemas = Map::new();
    for (index, def) in model.types.iter().enumerate() {
        schemas.insert(
            def.rust_name.clone(),
            type_schema(model, index, &tags, &payloads),
        );
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {"title": model.title, "version": model.version},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    })
}

fn same_message(a: &WMessage, b: &WMessage) -> bool {
    a.payload == b.payload && a.tag == b.tag
}

/// (property, value) of the tag each struct carries for an enum: message payloads of tagged
/// directions and arms of tagged unions.
fn tag_properties(model: &Model) -> HashMap<usize, (String, String)> {
    let mut out = HashMap::new();
    for channel in &model.channels {
        for (property, list) in [
            (&channel.client_tag, &channel.client_messages),
            (&channel.server_tag, &channel.server_messages),
        ] {
            let Some(property) = property else { continue };
            for m in list {
                if let (
                    Some(tag),
                    Some(Ty {
                        kind: TyKind::Named(id),
                        ..
                    }),
                ) = (&m.tag, &m.payload)
                {
                    out.entry(id.0).or_insert((property.clone(), tag.clone()));
                }
            }
        }
    }
    for def in &model.types {
        if let WTypeKind::Union {
            tag: Some(property),
            arms,
        } = &def.kind
        {
            for arm in arms {
                if let (Some(tag), TyKind::Named(id)) = (&arm.tag, &arm.ty.kind) {
                    out.entry(id.0).or_insert((property.clone(), tag.clone()));
                }
            }
        }
    }
    out
}

fn payload_schema(model: &Model, m: &WMessage) -> Value {
    match &m.payload {
        Some(ty) => ty_schema(model, ty),
        None => json!({}),
    }
}

fn type_schema(
    model: &Model,
    index: usize,
    tags: &HashMap<usize, (String, String)>,
    payloads: &HashSet<usize>,
) -> Value {
    let def = &model.types[index];
    match &def.kind {
        WTypeKind::Struct {
            fields,
            deny_unknown,
            additional,
        } => {
            let mut properties = Map::new();
            if let Some((property, value)) = tags.get(&index) {
                properties.insert(
                    property.clone(),
                    json!({"const": value, "default": value, "type": "string"}),
                );
            }
            let mut required = Vec::new();
            for f in fields {
                properties.insert(f.wire_name.clone(), ty_schema(model, &f.ty));
                if f.required {
                    required.push(json!(f.wire_name));
                }
            }
            let properties_empty = properties.is_empty();
            let mut schema = json!({"type": "object", "properties": properties});
            if !required.is_empty() {
                schema["required"] = Value::Array(required);
            }
            // An object without properties reads back as a map; a message payload keeps no
            // `additionalProperties: false` anyway (the envelope shares its object), so say it.
            let empty = properties_empty && additional.is_none() && payloads.contains(&index);
            if *deny_unknown || empty {
                schema["additionalProperties"] = json!(false);
            }
            if let Some(ty) = additional {
                schema["additionalProperties"] = ty_schema(model, ty);
            }
            schema["title"] = json!(def.rust_name);
            schema
        }
        WTypeKind::StringEnum(values) => json!({"type": "string", "enum": values}),
        WTypeKind::IntegerEnum(values) => json!({"type": "integer", "enum": values}),
        WTypeKind::Union { tag, arms } => {
            let arms: Vec<Value> = arms.iter().map(|a| ty_schema(model, &a.ty)).collect();
            match tag {
                Some(property) => json!({"oneOf": arms, "discriminator": property}),
                None => json!({"anyOf": arms}),
            }
        }
        WTypeKind::Alias(ty) => ty_schema(model, ty),
    }
}

/// The schema of a type use.
fn ty_schema(model: &Model, ty: &Ty) -> Value {
    let mut schema = match &ty.kind {
        TyKind::Named(id) => {
            let name = model.types.get(id.0).map_or("", |t| t.rust_name.as_str());
            json!({"$ref": format!("#/components/schemas/{}", crate::wire::escape(name))})
        }
        TyKind::String(format) => match format {
            StringFormat::Plain => json!({"type": "string"}),
            StringFormat::DateTime => json!({"type": "string", "format": "date-time"}),
            StringFormat::Date => json!({"type": "string", "format": "date"}),
            StringFormat::Time => json!({"type": "string", "format": "time"}),
            StringFormat::Uuid => json!({"type": "string", "format": "uuid"}),
            StringFormat::Bytes => json!({"type": "string", "format": "byte"}),
        },
        TyKind::Integer(IntegerFormat::Int32) => json!({"type": "integer", "format": "int32"}),
        TyKind::Integer(IntegerFormat::Int64) => json!({"type": "integer"}),
        TyKind::Number => json!({"type": "number"}),
        TyKind::Boolean => json!({"type": "boolean"}),
        TyKind::Null => json!({"type": "null"}),
        TyKind::Any => json!({}),
        TyKind::Array(item) => json!({"type": "array", "items": ty_schema(model, item)}),
        TyKind::Tuple(items) => json!({
            "type": "array",
            "prefixItems": items.iter().map(|t| ty_schema(model, t)).collect::<Vec<_>>(),
            "minItems": items.len(),
            "maxItems": items.len(),
        }),
        TyKind::Map(value) => {
            json!({"type": "object", "additionalProperties": ty_schema(model, value)})
        }
        TyKind::Const(value) => json!({"const": value}),
    };
    constraints(&mut schema, &ty.constraints);
    if ty.nullable && ty.kind != TyKind::Null {
        schema = json!({"anyOf": [schema, {"type": "null"}]});
    }
    schema
}

fn constraints(schema: &mut Value, c: &Constraints) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let mut set = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            object.insert(key.to_owned(), value);
        }
    };
    set("minLength", c.min_length.map(Value::from));
    set("maxLength", c.max_length.map(Value::from));
    set("pattern", c.pattern.clone().map(Value::from));
    set("format", c.format.clone().map(Value::from));
    set("minimum", c.minimum.map(number));
    set("maximum", c.maximum.map(number));
    set("exclusiveMinimum", c.exclusive_minimum.map(number));
    set("exclusiveMaximum", c.exclusive_maximum.map(number));
    set("multipleOf", c.multiple_of.map(number));
    set("minItems", c.min_items.map(Value::from));
    set("maxItems", c.max_items.map(Value::from));
    set("uniqueItems", c.unique_items.then_some(Value::Bool(true)));
    set("minProperties", c.min_properties.map(Value::from));
    set("maxProperties", c.max_properties.map(Value::from));
    set("enum", c.allowed.clone().map(Value::Array));
}

/// A JSON number, integral when the value is.
fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}

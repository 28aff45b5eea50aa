//! `chanx-gen inspect`: the API model as a person reads it.

use std::fmt::Write as _;

use crate::ir::{
    Additional, Api, Channel, Credential, Dispatch, IntegerFormat, StringFormat, Ty, TyKind,
    TypeKind,
};

/// Renders `api` as an indented outline: channels with address and parameters, each client action
/// with its payload type and reply set, each server message, the dispatch strategies, then the types.
pub fn render(api: &Api) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} (AsyncAPI {})",
        api.title, api.version, api.asyncapi
    );
    for server in &api.servers {
        let _ = writeln!(
            out,
            "server {}: {}://{}{}",
            server.key,
            server.protocol,
            server.host,
            server.pathname.as_deref().unwrap_or("")
        );
    }
    for channel in &api.channels {
        out.push('\n');
        render_channel(&mut out, api, channel);
    }
    if !api.types.is_empty() {
        let _ = writeln!(out, "\ntypes:");
        for def in &api.types {
            let _ = writeln!(out, "  {}", type_summary(api, def));
        }
    }
    out
}

fn render_channel(out: &mut String, api: &Api, channel: &Channel) {
    let address = channel
        .address
        .as_ref()
        .map_or("(dynamic)".to_owned(), |a| a.raw.clone());
    let _ = writeln!(
        out,
        "channel {} ({}, module {}) at {address}",
        channel.key, channel.rust_name, channel.module_name
    );
    if let Some(address) = &channel.address {
        for parameter in &address.parameters {
            let _ = writeln!(
                out,
                "  parameter {}: {:?}{}",
                parameter.name,
                parameter.kind,
                parameter
                    .description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            );
        }
    }
    for key in &channel.security {
        let credential = api
            .security_schemes
            .iter()
            .find(|s| &s.key == key)
            .map(|s| describe_credential(&s.credential))
            .unwrap_or_default();
        let _ = writeln!(out, "  security {key}: {credential}");
    }
    if let Some(query) = &channel.query {
        let _ = writeln!(out, "  connect query: {}", ty_name(api, query));
    }
    if let Some(headers) = &channel.headers {
        let _ = writeln!(out, "  connect headers: {}", ty_name(api, headers));
    }
    let _ = writeln!(
        out,
        "  client -> server (dispatch: {}):",
        describe_dispatch(&channel.client_dispatch)
    );
    for action in &channel.client_actions {
        let message = &channel.messages[action.message];
        let replies: Vec<&str> = action
            .replies
            .iter()
            .map(|&i| channel.messages[i].rust_name.as_str())
            .collect();
        let _ = writeln!(
            out,
            "    {}{} -> fn {}({}){}",
            message.rust_name,
            tag_suffix(message.tag.as_deref()),
            action.method,
            message
                .payload
                .as_ref()
                .map_or("any".to_owned(), |t| ty_name(api, t)),
            if replies.is_empty() {
                String::new()
            } else {
                format!(" replies {}", replies.join(" | "))
            }
        );
    }
    let _ = writeln!(
        out,
        "  server -> client (dispatch: {}):",
        describe_dispatch(&channel.server_dispatch)
    );
    for &index in &channel.server_messages {
        let message = &channel.messages[index];
        let senders: Vec<String> = channel
            .server_events
            .iter()
            .filter(|e| e.messages.contains(&index))
            .map(|e| format!("fn {}", e.method))
            .chain(
                channel
                    .client_actions
                    .iter()
                    .filter(|a| a.replies.contains(&index))
                    .map(|a| format!("reply of {}", a.method)),
            )
            .collect();
        let _ = writeln!(
            out,
            "    {}{}: {} ({})",
            message.rust_name,
            tag_suffix(message.tag.as_deref()),
            message
                .payload
                .as_ref()
                .map_or("any".to_owned(), |t| ty_name(api, t)),
            senders.join(", ")
        );
    }
    let unused: Vec<&str> = (0..channel.messages.len())
        .filter(|i| {
            !channel.server_messages.contains(i)
                && !channel.client_actions.iter().any(|a| a.message == *i)
        })
        .map(|i| channel.messages[i].rust_name.as_str())
        .collect();
    if !unused.is_empty() {
        let _ = writeln!(out, "  messages in no operation: {}", unused.join(", "));
    }
}

fn tag_suffix(tag: Option<&str>) -> String {
    tag.map(|t| format!(" [{t}]")).unwrap_or_default()
}

fn describe_dispatch(dispatch: &Dispatch) -> String {
    match dispatch {
        Dispatch::None => "none".to_owned(),
        Dispatch::Single => "single message".to_owned(),
        Dispatch::Tag { property } => format!("tag `{property}`"),
        Dispatch::Shape => "by shape, first match".to_owned(),
    }
}

fn describe_credential(credential: &Credential) -> String {
    match credential {
        Credential::Query { name } => format!("query parameter `{name}`"),
        Credential::Header { name } => format!("header `{name}`"),
        Credential::Cookie { name } => format!("cookie `{name}`"),
        Credential::Bearer => "Authorization: Bearer".to_owned(),
        Credential::Basic => "Authorization: Basic".to_owned(),
        Credential::Other { kind } => format!("{kind} (not read at connect)"),
    }
}

fn type_summary(api: &Api, def: &crate::ir::TypeDef) -> String {
    let body = match &def.kind {
        TypeKind::Struct { fields, additional } => {
            let mut parts: Vec<String> = fields
                .iter()
                .map(|f| {
                    format!(
                        "{}{}: {}",
                        f.rust_name,
                        if f.required { "" } else { "?" },
                        ty_name(api, &f.ty)
                    )
                })
                .collect();
            match additional {
                Additional::Ignore => {}
                Additional::Deny => parts.push("(no other keys)".to_owned()),
                Additional::Typed(ty) => parts.push(format!("..: {}", ty_name(api, ty))),
            }
            format!("struct {{ {} }}", parts.join(", "))
        }
        TypeKind::StringEnum { variants } => format!(
            "enum {{ {} }}",
            variants
                .iter()
                .map(|v| format!("{} = {:?}", v.rust_name, v.value))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        TypeKind::IntegerEnum { variants } => format!(
            "enum {{ {} }}",
            variants
                .iter()
                .map(|v| format!("{} = {}", v.rust_name, v.value))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        TypeKind::Union { variants, tagging } => format!(
            "union {} {{ {} }}",
            match tagging {
                crate::ir::Tagging::Internal { property } => format!("tagged `{property}`"),
                crate::ir::Tagging::Untagged => "untagged".to_owned(),
            },
            variants
                .iter()
                .map(|v| format!("{}({})", v.rust_name, ty_name(api, &v.ty)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        TypeKind::Alias { target } => format!("= {}", ty_name(api, target)),
    };
    format!("{} {body}", def.rust_name)
}

/// A short, Rust-like name for a type use.
fn ty_name(api: &Api, ty: &Ty) -> String {
    let base = match &ty.kind {
        TyKind::Named(id) => api.type_def(*id).rust_name.clone(),
        TyKind::String(StringFormat::Plain) => "string".to_owned(),
        TyKind::String(format) => format!("string({format:?})").to_lowercase(),
        TyKind::Integer(IntegerFormat::Int32) => "i32".to_owned(),
        TyKind::Integer(IntegerFormat::Int64) => "i64".to_owned(),
        TyKind::Number => "f64".to_owned(),
        TyKind::Boolean => "bool".to_owned(),
        TyKind::Null => "null".to_owned(),
        TyKind::Any => "any".to_owned(),
        TyKind::Array(item) => format!("[{}]", ty_name(api, item)),
        TyKind::Tuple(items) => format!(
            "({})",
            items
                .iter()
                .map(|t| ty_name(api, t))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        TyKind::Map(value) => format!("{{string: {}}}", ty_name(api, value)),
        TyKind::Const(value) => format!("const {value}"),
    };
    if ty.nullable {
        format!("{base} | null")
    } else {
        base
    }
}

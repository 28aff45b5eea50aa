//! Which tags the generated code carries in serde attributes rather than in struct fields.
//!
//! The renderer (`render::view`) and the wire model of `check`/`export`/`diff` (`wire`) must agree
//! on this, so both ask here.

use std::collections::HashSet;

use super::{Api, Channel, Dispatch, Tagging, Ty, TyKind, TypeId, TypeKind, UnionVariant};

/// The messages a channel's clients send, each once, in the order of the actions.
pub fn client_indexes(channel: &Channel) -> Vec<usize> {
    let mut indexes = Vec::new();
    for action in &channel.client_actions {
        if !indexes.contains(&action.message) {
            indexes.push(action.message);
        }
    }
    indexes
}

/// Whether message `index` of `channel` has a tag and a named struct payload (so it can be a
/// variant of a serde internally tagged enum).
pub fn is_tagged_struct(api: &Api, channel: &Channel, index: usize) -> bool {
    let message = &channel.messages[index];
    message.tag.is_some()
        && matches!(&message.payload, Some(Ty { kind: TyKind::Named(id), nullable: false, .. })
            if matches!(api.type_def(*id).kind, TypeKind::Struct { .. }))
}

/// The property a direction's enum is serde-tagged on: the dispatch property, when every message
/// of the direction is a tagged struct; `None` when the enum is untagged.
pub fn serde_tag<'a>(
    api: &Api,
    channel: &Channel,
    dispatch: &'a Dispatch,
    indexes: &[usize],
) -> Option<&'a str> {
    match dispatch {
        Dispatch::Tag { property }
            if indexes.iter().all(|&i| is_tagged_struct(api, channel, i)) =>
        {
            Some(property)
        }
        _ => None,
    }
}

/// Whether every arm of a union is a non-nullable named struct (so the union can be a serde
/// internally tagged enum).
pub fn arms_are_structs(api: &Api, variants: &[UnionVariant]) -> bool {
    variants.iter().all(|v| {
        matches!(v.ty.kind, TyKind::Named(id)
            if matches!(api.type_def(id).kind, TypeKind::Struct { .. }))
            && !v.ty.nullable
    })
}

/// The property a union is serde-tagged on, if it is.
pub fn union_tag<'a>(
    api: &Api,
    variants: &[UnionVariant],
    tagging: &'a Tagging,
) -> Option<&'a str> {
    match tagging {
        Tagging::Internal { property } if arms_are_structs(api, variants) => Some(property),
        _ => None,
    }
}

/// (struct, wire name) of the fields that a serde-tagged enum carries as its tag, so the struct
/// leaves them out. A field is the enum's only where every use of its struct as a message or a
/// union arm is serde-tagged on it: a struct also used untagged keeps the field, or that use could
/// not tell its messages apart.
pub fn tag_owned_fields(api: &Api) -> HashSet<(TypeId, String)> {
    let mut owned: HashSet<(TypeId, String)> = HashSet::new();
    let mut kept: HashSet<TypeId> = HashSet::new();
    for channel in &api.channels {
        let client = client_indexes(channel);
        for (dispatch, indexes) in [
            (&channel.client_dispatch, &client),
            (&channel.server_dispatch, &channel.server_messages),
        ] {
            let tag = serde_tag(api, channel, dispatch, indexes);
            for &index in indexes {
                let message = &channel.messages[index];
                let Some(Ty {
                    kind: TyKind::Named(id),
                    nullable: false,
                    ..
                }) = &message.payload
                else {
                    continue;
                };
                match (tag, &message.tag) {
                    (Some(property), Some(_)) => {
                        owned.insert((*id, property.to_owned()));
                    }
                    _ => {
                        kept.insert(*id);
                    }
                }
            }
        }
    }
    for def in &api.types {
        if let TypeKind::Union { variants, tagging } = &def.kind {
            let tag = union_tag(api, variants, tagging);
            for variant in variants {
                if let TyKind::Named(id) = variant.ty.kind {
                    match tag {
                        Some(property) => {
                            owned.insert((id, property.to_owned()));
                        }
                        None => {
                            kept.insert(id);
                        }
                    }
                }
            }
        }
    }
    owned.retain(|(id, _)| !kept.contains(id));
    owned
}

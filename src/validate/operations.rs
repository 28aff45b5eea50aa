//! Operations (and operation traits) and their replies.

use super::{Checker, Kind, Object, items, scalar_text};
use crate::diagnostics::{Code, Diagnostic, Loc};

/// AsyncAPI 2.x fields of an operation or operation trait, with what 3.0 has instead.
const OPERATION_2X_FIELDS: &[(&str, &str)] = &[
    (
        "message",
        "AsyncAPI 3.0 uses `messages`, a list of `$ref`s to messages of the operation's channel: \
         `messages: [{$ref: '#/channels/<id>/messages/<key>'}]`",
    ),
    (
        "operationId",
        "in AsyncAPI 3.0 an operation's key under `operations` is its id",
    ),
];

impl Checker<'_, '_> {
    /// An operation or an operation trait.
    pub(super) fn operation(&mut self, loc: &Loc) {
        let Some((at, operation)) = self.visit(Kind::Operation, loc) else {
            return;
        };
        self.asyncapi2_fields(&at, operation, OPERATION_2X_FIELDS);
        self.tags_and_external_docs(&at, operation);
        if operation.contains_key("reply") {
            let reply = at.child("reply");
            self.expect_component_ref(&reply, "replies");
            self.reply(&reply);
        }
        for scheme in items(&at, operation, "security") {
            self.security_scheme(&scheme);
        }
        for operation_trait in items(&at, operation, "traits") {
            self.operation(&operation_trait);
        }
    }

    /// An operation's reply (or a component reply).
    pub(super) fn reply(&mut self, loc: &Loc) {
        let Some((at, reply)) = self.visit(Kind::Reply, loc) else {
            return;
        };
        if !reply.contains_key("address") {
            return;
        }
        let address = at.child("address");
        self.expect_component_ref(&address, "replyAddresses");
        self.reply_address(&address);
        self.reply_address_conflict(&at, reply);
    }

    /// A reply address: its `location` is a runtime expression.
    pub(super) fn reply_address(&mut self, loc: &Loc) {
        if let Some((at, address)) = self.visit(Kind::ReplyAddress, loc) {
            self.runtime_expression(&at, address);
        }
    }

    /// A reply with an `address` must go on a channel whose address is null or unknown.
    fn reply_address_conflict(&mut self, at: &Loc, reply: &Object) {
        if !reply.contains_key("channel") {
            return;
        }
        let Ok(channel) = self.sources.resolve(&at.child("channel")) else {
            return;
        };
        let Some(channel_address) = channel.value.get("address").filter(|a| !a.is_null()) else {
            return;
        };
        let diagnostic = Diagnostic::new(
            Code::ReplyAddressConflict,
            Some(at.child("address").key()),
            format!(
                "the reply has an `address`, yet its channel has the fixed address `{}`",
                scalar_text(channel_address)
            ),
        )
        .with_related(channel.loc.child("address"), "the reply channel's address")
        .with_help(
            "a reply goes either to an address found at runtime (`address`, with a channel whose \
             `address` is null) or to its channel's fixed address; remove one of the two",
        );
        self.diagnostics.push(diagnostic);
    }
}

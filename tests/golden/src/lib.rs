//! Golden files of chanx-gen: the module `chanx-gen generate` writes for every spec of
//! `specs/` that generates, compiled against `chanx-runtime` with the workspace's lints;
//! `cargo test --workspace` runs their generated contract tests.
//!
//! Written by `tests/golden.rs`, which checks every file here byte for byte; refresh with
//! `UPDATE_GOLDEN=1 cargo test --test golden`. Never reformatted (`rustfmt::skip`).

// specs/channel-traits.yaml
#[rustfmt::skip]
#[path = "../channel-traits/mod.rs"]
pub mod channel_traits;

// specs/chat.yaml
#[rustfmt::skip]
#[path = "../chat/mod.rs"]
pub mod chat;

// specs/constructs.yaml
#[rustfmt::skip]
#[path = "../constructs/mod.rs"]
pub mod constructs;

// specs/hostile.yaml
#[rustfmt::skip]
#[path = "../hostile/mod.rs"]
pub mod hostile;

// specs/minimal-3.1.yaml
#[rustfmt::skip]
#[path = "../minimal-3.1/mod.rs"]
pub mod minimal_3_1;

// specs/notifications.yaml
#[rustfmt::skip]
#[path = "../notifications/mod.rs"]
pub mod notifications;

// specs/parity.json
#[rustfmt::skip]
#[path = "../parity/mod.rs"]
pub mod parity;

// specs/warnings/reply-address-conflict.yaml
#[rustfmt::skip]
#[path = "../warnings-reply-address-conflict/mod.rs"]
pub mod warnings_reply_address_conflict;

// specs/warnings/schema-format-avro.yaml
#[rustfmt::skip]
#[path = "../warnings-schema-format-avro/mod.rs"]
pub mod warnings_schema_format_avro;

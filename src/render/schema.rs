//! The validation schema of a type, as data.
//!
//! [`view`](super::view) decides each type's schema once, as a [`SchemaNode`] tree, and prints it as
//! the `Schema` statics of generated code; `chanx-gen mock` builds the runtime's `Schema` values from
//! the same trees, so a generated server and the mock reject a frame with the same errors.

use crate::ir::{Constraints, TypeId};

/// One node of a type's validation schema (the runtime's `chanx_runtime::validate::Schema`, with
/// named types by id).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SchemaNode {
    /// Any value.
    Any,
    /// Only `null`.
    Null,
    /// A boolean.
    Bool,
    /// An integer with its constraints.
    Int(Constraints),
    /// A number with its constraints.
    Number(Constraints),
    /// A string with its constraints.
    Str(Constraints),
    /// A UUID string.
    Uuid,
    /// A `date-time` string.
    DateTime,
    /// A `date` string.
    Date,
    /// A `time` string.
    Time,
    /// One allowed value, as JSON text.
    Const(String),
    /// The allowed values of an inline `enum`, as JSON texts.
    Literal(Vec<String>),
    /// A string enum component.
    StrEnum {
        /// The type's name.
        name: String,
        /// The values.
        values: Vec<String>,
    },
    /// An integer enum.
    IntEnum {
        /// The type's name.
        name: String,
        /// The values.
        values: Vec<i64>,
    },
    /// A list with item constraints.
    Array(Box<SchemaNode>, Constraints),
    /// A fixed-length list.
    Tuple(Vec<SchemaNode>),
    /// A map from string keys to one value type.
    Map(Box<SchemaNode>),
    /// An object with known properties.
    Object(ObjectNode),
    /// A union discriminated by the string value of `property`.
    TaggedUnion {
        /// The discriminator property.
        property: String,
        /// (tag, arm), in the spec's order.
        arms: Vec<(String, SchemaNode)>,
    },
    /// A union without a discriminator.
    Untagged(Vec<SchemaNode>),
    /// `null` or the inner schema.
    Nullable(Box<SchemaNode>),
    /// The schema of a named type (aliases of named types already followed).
    Named(TypeId),
}

/// An object's properties and what it does with other keys.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ObjectNode {
    /// The model's name.
    pub(crate) name: String,
    /// The properties, in order: wire name, whether required, schema.
    pub(crate) fields: Vec<(String, bool, SchemaNode)>,
    /// Whether other keys are errors.
    pub(crate) deny_unknown: bool,
    /// The schema of other keys' values, if they are checked.
    pub(crate) additional: Option<Box<SchemaNode>>,
}

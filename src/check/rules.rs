//! The rules of `check`: a closed set, each with a stable kebab-case id, a default severity, a
//! category and the fix it suggests. `docs/check-rules.md` documents every one; a test keeps the two
//! in step.

use crate::diagnostics::Severity;
use crate::wire::ChangeKind;

macro_rules! rules {
    ($($(#[$doc:meta])* $name:ident = $id:literal, $severity:ident, $category:ident;)*) => {
        /// A rule of `check`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule {
            $($(#[$doc])* $name,)*
        }

        impl Rule {
            /// Every rule, in documentation order.
            pub const ALL: &'static [Rule] = &[$(Rule::$name,)*];

            /// The stable id.
            pub fn as_str(self) -> &'static str {
                match self { $(Rule::$name => $id,)* }
            }

            /// The default severity.
            pub fn severity(self) -> Severity {
                match self { $(Rule::$name => Severity::$severity,)* }
            }

            /// The category: `freshness`, `round-trip` or `coverage`.
            pub fn category(self) -> &'static str {
                match self { $(Rule::$name => Category::$category.as_str(),)* }
            }
        }
    };
}

enum Category {
    Freshness,
    RoundTrip,
    Coverage,
}

impl Category {
    fn as_str(&self) -> &'static str {
        match self {
            Category::Freshness => "freshness",
            Category::RoundTrip => "round-trip",
            Category::Coverage => "coverage",
        }
    }
}

rules! {
    /// A generated file differs from what `generate` writes now.
    StaleFile = "stale-file", Error, Freshness;
    /// A file `generate` writes is missing.
    MissingFile = "missing-file", Error, Freshness;
    /// A Rust file does not parse.
    UnparsableRust = "unparsable-rust", Error, Freshness;
    /// The title or version differs.
    InfoMismatch = "info-mismatch", Warning, RoundTrip;
    /// A channel of the spec has no module.
    ChannelMissing = "channel-missing", Error, RoundTrip;
    /// A channel module the spec does not have.
    ChannelExtra = "channel-extra", Warning, RoundTrip;
    /// The address differs.
    AddressMismatch = "address-mismatch", Error, RoundTrip;
    /// The address parameters differ (names, order or types).
    ParameterMismatch = "parameter-mismatch", Error, RoundTrip;
    /// Messages are told apart by another property (or none).
    DispatchMismatch = "dispatch-mismatch", Error, RoundTrip;
    /// A message of the spec is not in the message enum.
    MessageMissing = "message-missing", Error, RoundTrip;
    /// The message enum has a message the spec does not.
    MessageExtra = "message-extra", Warning, RoundTrip;
    /// A client action of the spec has no handler.
    ActionMissing = "action-missing", Error, RoundTrip;
    /// The consumer trait handles an action the spec does not have.
    ActionExtra = "action-extra", Warning, RoundTrip;
    /// An action's handler has another name than the spec's operation gives.
    HandlerNameMismatch = "handler-name-mismatch", Warning, RoundTrip;
    /// An action replies with other messages than the spec's reply.
    ReplySetMismatch = "reply-set-mismatch", Error, RoundTrip;
    /// A server event of the spec has no method.
    EventMissing = "event-missing", Error, RoundTrip;
    /// The consumer trait has an event the spec does not.
    EventExtra = "event-extra", Warning, RoundTrip;
    /// An event sends other messages than the spec's operation.
    EventMessagesMismatch = "event-messages-mismatch", Error, RoundTrip;
    /// A property of the spec is not a field.
    FieldMissing = "field-missing", Error, RoundTrip;
    /// A field the spec does not have.
    FieldExtra = "field-extra", Warning, RoundTrip;
    /// A field is required in one and optional in the other.
    RequiredMismatch = "required-mismatch", Error, RoundTrip;
    /// `null` is allowed in one and not in the other.
    NullableMismatch = "nullable-mismatch", Error, RoundTrip;
    /// The type differs.
    TypeMismatch = "type-mismatch", Error, RoundTrip;
    /// A validation constraint differs.
    ConstraintMismatch = "constraint-mismatch", Error, RoundTrip;
    /// An enum value of the spec is not a variant.
    EnumValueMissing = "enum-value-missing", Error, RoundTrip;
    /// A variant the spec's enum does not have.
    EnumValueExtra = "enum-value-extra", Warning, RoundTrip;
    /// A union arm of the spec is not a variant.
    ArmMissing = "arm-missing", Error, RoundTrip;
    /// A union variant the spec does not have.
    ArmExtra = "arm-extra", Warning, RoundTrip;
    /// Unknown properties are rejected in one and accepted in the other.
    UnknownFieldsMismatch = "unknown-fields-mismatch", Error, RoundTrip;
    /// Additional properties are kept in one and not in the other.
    AdditionalMismatch = "additional-mismatch", Error, RoundTrip;
    /// A field's serde name and its schema static disagree, or a type is not the generated module's.
    CodeInconsistent = "code-inconsistent", Warning, RoundTrip;
    /// A consumer trait is implemented nowhere in `--src`.
    ConsumerNotImplemented = "consumer-not-implemented", Error, Coverage;
    /// An action handler is not implemented.
    HandlerMissing = "handler-missing", Error, Coverage;
}

impl Rule {
    /// The rule a round-trip change from the spec (old) to the code (new) breaks.
    pub fn from_change(kind: ChangeKind) -> Rule {
        match kind {
            ChangeKind::Info => Rule::InfoMismatch,
            ChangeKind::ChannelRemoved => Rule::ChannelMissing,
            ChangeKind::ChannelAdded => Rule::ChannelExtra,
            ChangeKind::AddressChanged => Rule::AddressMismatch,
            ChangeKind::ParameterChanged => Rule::ParameterMismatch,
            ChangeKind::DispatchChanged => Rule::DispatchMismatch,
            ChangeKind::MessageRemoved => Rule::MessageMissing,
            ChangeKind::MessageAdded => Rule::MessageExtra,
            ChangeKind::ActionRemoved => Rule::ActionMissing,
            ChangeKind::ActionAdded => Rule::ActionExtra,
            ChangeKind::MethodRenamed => Rule::HandlerNameMismatch,
            ChangeKind::ReplyAdded | ChangeKind::ReplyRemoved => Rule::ReplySetMismatch,
            ChangeKind::EventRemoved => Rule::EventMissing,
            ChangeKind::EventAdded => Rule::EventExtra,
            ChangeKind::EventMessagesChanged => Rule::EventMessagesMismatch,
            ChangeKind::FieldRemoved => Rule::FieldMissing,
            ChangeKind::FieldAdded => Rule::FieldExtra,
            ChangeKind::RequiredChanged => Rule::RequiredMismatch,
            ChangeKind::NullableChanged => Rule::NullableMismatch,
            ChangeKind::TypeChanged => Rule::TypeMismatch,
            ChangeKind::ConstraintChanged => Rule::ConstraintMismatch,
            ChangeKind::EnumValueRemoved => Rule::EnumValueMissing,
            ChangeKind::EnumValueAdded => Rule::EnumValueExtra,
            ChangeKind::ArmRemoved => Rule::ArmMissing,
            ChangeKind::ArmAdded => Rule::ArmExtra,
            ChangeKind::UnknownFieldsChanged => Rule::UnknownFieldsMismatch,
            ChangeKind::AdditionalChanged => Rule::AdditionalMismatch,
        }
    }

    /// What to do about a finding of this rule.
    pub fn fix(self, spec: &str, generated: &str) -> String {
        match self {
            Rule::ConsumerNotImplemented | Rule::HandlerMissing => {
                "implement the handler in your `impl` of the consumer trait".to_owned()
            }
            Rule::UnparsableRust => {
                format!("fix the syntax error, or run `chanx-gen generate {spec} -o {generated}`")
            }
            _ => format!(
                "run `chanx-gen generate {spec} -o {generated}` (the code must not be edited by hand), or change the spec if the code is right"
            ),
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

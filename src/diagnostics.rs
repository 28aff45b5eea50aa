//! Diagnostics: every problem found in a document, with a stable code, a severity, the place in the
//! user's file and a hint on how to fix it.
//!
//! Stages never print. They push [`Diagnostic`]s into a [`Diagnostics`] sink and go on, so one run reports
//! every problem at once. A diagnostic points at a [`Loc`] (a file and a JSON pointer into it); the
//! renderers turn that into `file:line:col` with a source snippet (human) or an object (JSON).

use std::fmt::Write as _;

use serde::Serialize;

use crate::load::{FileId, Sources, TextPos};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never changes the exit code.
    Info,
    /// Probably a mistake, but code can still be generated.
    Warning,
    /// The document cannot be used as it is.
    Error,
}

impl Severity {
    fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A place in a loaded document: a file and a JSON pointer (RFC 6901) into it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Loc {
    /// The file.
    pub file: FileId,
    /// The JSON pointer of the node, `""` for the root.
    pub pointer: String,
    /// Point at the node's key (in its parent mapping) rather than at its value.
    pub on_key: bool,
}

impl Loc {
    /// The root of `file`.
    pub fn root(file: FileId) -> Self {
        Loc {
            file,
            pointer: String::new(),
            on_key: false,
        }
    }

    /// The child of this node under `key` (an object key or an array index).
    pub fn child(&self, key: &str) -> Self {
        let mut pointer = String::with_capacity(self.pointer.len() + key.len() + 1);
        pointer.push_str(&self.pointer);
        pointer.push('/');
        if key.contains(['~', '/']) {
            pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
        } else {
            pointer.push_str(key);
        }
        Loc {
            file: self.file,
            pointer,
            on_key: false,
        }
    }

    /// The child of this node at array index `index`.
    pub fn index(&self, index: usize) -> Self {
        self.child(&index.to_string())
    }

    /// The same node, pointing at its key.
    pub fn key(mut self) -> Self {
        self.on_key = true;
        self
    }
}

/// A secondary place that explains a diagnostic ("first defined here").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    /// Where.
    pub loc: Loc,
    /// What is there.
    pub message: String,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What kind of problem this is.
    pub code: Code,
    /// How bad it is.
    pub severity: Severity,
    /// One sentence saying what is wrong.
    pub message: String,
    /// Where it is, when it has a place.
    pub loc: Option<Loc>,
    /// Other places that explain it.
    pub related: Vec<Related>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic of `code` at its default severity.
    pub fn new(code: Code, loc: Option<Loc>, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            loc,
            related: Vec::new(),
            help: None,
        }
    }

    /// Adds a hint on how to fix it.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a related place.
    pub fn with_related(mut self, loc: Loc, message: impl Into<String>) -> Self {
        self.related.push(Related {
            loc,
            message: message.into(),
        });
        self
    }

    /// Overrides the severity.
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $id:literal, $severity:ident; )*) => {
        /// The stable identifier of a kind of diagnostic. The string form (`Code::as_str`) is what tools
        /// match on; it never changes once released.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable string identifier.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $id, )* }
            }

            /// The severity a diagnostic of this code has unless a stage says otherwise.
            pub fn default_severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$severity, )* }
            }
        }
    };
}

codes! {
    /// The file is not valid YAML or JSON.
    Syntax = "syntax", Error;
    /// A mapping has the same key twice.
    DuplicateKey = "duplicate-key", Error;
    /// The document is too large or too deeply nested to process safely.
    TooLarge = "too-large", Error;
    /// A construct that YAML allows but JSON cannot represent (complex keys, anchors that loop).
    UnsupportedYaml = "unsupported-yaml", Error;
    /// A file named by a `$ref` cannot be read.
    RefFileUnreadable = "ref-file-unreadable", Error;
    /// A `$ref` names a remote URL; chanx-gen never fetches.
    RefRemote = "ref-remote", Error;
    /// A `$ref` points at nothing.
    RefUnresolved = "ref-unresolved", Error;
    /// A chain of `$ref`s never reaches a value.
    RefCycle = "ref-cycle", Error;
    /// A `$ref` value is not a string or not a valid URI reference.
    RefInvalid = "ref-invalid", Error;
    /// The `asyncapi` field is missing or names a version chanx-gen does not read.
    UnsupportedVersion = "unsupported-version", Error;
    /// A field has the wrong JSON type.
    WrongType = "wrong-type", Error;
    /// A required field is missing.
    MissingField = "missing-field", Error;
    /// A field that only exists in AsyncAPI 2.x.
    Asyncapi2Field = "asyncapi2-field", Error;
    /// An operation's `action` is not `send` or `receive`.
    InvalidAction = "invalid-action", Error;
    /// A component key does not match `^[a-zA-Z0-9.\-_]+$`.
    InvalidComponentKey = "invalid-component-key", Error;
    /// A channel address contains a placeholder without a parameter.
    AddressParameterUndeclared = "address-parameter-undeclared", Error;
    /// A channel parameter does not appear in the address.
    ParameterUnused = "parameter-unused", Error;
    /// A channel address contains `?` or `#`.
    AddressQueryOrFragment = "address-query-or-fragment", Error;
    /// A channel has no `address` field (null is allowed and means dynamic).
    ChannelAddressMissing = "channel-address-missing", Warning;
    /// A reference that must point at a particular kind of object points elsewhere.
    WrongRefTarget = "wrong-ref-target", Error;
    /// An operation lists a message that is not one of its channel's messages.
    OperationMessageNotInChannel = "operation-message-not-in-channel", Error;
    /// A reply lists a message that is not one of its reply channel's messages.
    ReplyMessageNotInChannel = "reply-message-not-in-channel", Error;
    /// A reply sets both `address` and a channel whose address is not null (a MUST of the spec, but
    /// harmless for a WebSocket reply, which goes back on the same socket).
    ReplyAddressConflict = "reply-address-conflict", Warning;
    /// A runtime expression (`$message.payload#/...`) is malformed.
    InvalidRuntimeExpression = "invalid-runtime-expression", Error;
    /// A server has no host, or a malformed host or pathname.
    InvalidServer = "invalid-server", Error;
    /// A default value is not among the allowed `enum` values.
    DefaultNotInEnum = "default-not-in-enum", Error;
    /// A payload or header schema in a format chanx-gen cannot generate from (Avro, ...); the message
    /// is carried as untyped JSON.
    UnsupportedSchemaFormat = "unsupported-schema-format", Warning;
    /// A channel references a server that does not exist or is not a root server.
    UnknownServer = "unknown-server", Error;
    /// A security requirement does not reference a security scheme.
    InvalidSecurity = "invalid-security", Error;
    /// Two things get the same Rust name after case conversion.
    NameCollision = "name-collision", Error;
    /// Two messages sent the same way on one channel carry the same tag value; the first wins.
    DuplicateAction = "duplicate-action", Warning;
    /// A schema construct that the type lowering does not support.
    UnsupportedSchema = "unsupported-schema", Error;
    /// A channel address uses a Starlette converter (`{id:int}`), as Chanx emits; accepted.
    AddressConverter = "address-converter", Info;
    /// Messages on one channel cannot be told apart by a tag; dispatch falls back on shape.
    WeakDispatch = "weak-dispatch", Warning;
    /// An AsyncAPI minor version newer than this tool knows; read as 3.0.
    NewerVersion = "newer-version", Warning;
    /// A channel address whose `{placeholder}` braces do not parse (unbalanced, empty, no name).
    InvalidAddress = "invalid-address", Error;
    /// A security scheme of an unknown type, or without the fields its type needs.
    InvalidSecurityScheme = "invalid-security-scheme", Error;
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The collected diagnostics of a run.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Records a diagnostic of `code` at `loc`.
    pub fn report(&mut self, code: Code, loc: Loc, message: impl Into<String>) {
        self.push(Diagnostic::new(code, Some(loc), message));
    }

    /// Whether any error was recorded.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// The diagnostics in the order they were found.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// How many were recorded.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether none were recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Moves every diagnostic of `other` into this sink.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// Sorts by file, then position, then code, so output does not depend on stage order, and drops
    /// exact duplicates.
    pub fn sort(&mut self, sources: &Sources) {
        self.items.sort_by_cached_key(|d| {
            let pos = d.loc.as_ref().map(|loc| {
                let span = sources.locate(loc);
                (loc.file, span.map(|s| (s.start.line, s.start.column)))
            });
            (pos, d.code, d.message.clone())
        });
        self.items.dedup();
    }
}

/// A diagnostic resolved to file positions, the shape `--format json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct DiagnosticJson<'a> {
    /// The stable code.
    pub code: &'static str,
    /// `error`, `warning` or `info`.
    pub severity: Severity,
    /// What is wrong.
    pub message: &'a str,
    /// Where, when it has a place.
    pub location: Option<LocationJson>,
    /// Other places that explain it.
    pub related: Vec<RelatedJson<'a>>,
    /// What to do.
    pub help: Option<&'a str>,
}

/// A resolved place.
#[derive(Debug, Clone, Serialize)]
pub struct LocationJson {
    /// The file as the user named it (or as a `$ref` named it, joined to its base).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// 1-based end line.
    pub end_line: usize,
    /// 1-based end column (exclusive).
    pub end_column: usize,
    /// The JSON pointer into the file.
    pub pointer: String,
}

/// A resolved related place.
#[derive(Debug, Clone, Serialize)]
pub struct RelatedJson<'a> {
    /// Where.
    pub location: Option<LocationJson>,
    /// What is there.
    pub message: &'a str,
}

fn location_json(sources: &Sources, loc: &Loc) -> Option<LocationJson> {
    let file = sources.file(loc.file);
    let span = sources.locate(loc).unwrap_or_default();
    Some(LocationJson {
        file: file.display_name().to_owned(),
        line: span.start.line,
        column: span.start.column,
        end_line: span.end.line,
        end_column: span.end.column,
        pointer: loc.pointer.clone(),
    })
}

impl Diagnostic {
    /// The JSON shape of this diagnostic.
    pub fn to_json<'a>(&'a self, sources: &Sources) -> DiagnosticJson<'a> {
        DiagnosticJson {
            code: self.code.as_str(),
            severity: self.severity,
            message: &self.message,
            location: self.loc.as_ref().and_then(|l| location_json(sources, l)),
            related: self
                .related
                .iter()
                .map(|r| RelatedJson {
                    location: location_json(sources, &r.loc),
                    message: &r.message,
                })
                .collect(),
            help: self.help.as_deref(),
        }
    }

    /// Renders this diagnostic like rustc: a header, `--> file:line:col`, the source line with a caret
    /// under the offending text, related places, then the help.
    pub fn render(&self, sources: &Sources) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}[{}]: {}",
            self.severity.label(),
            self.code,
            self.message
        );
        if let Some(loc) = &self.loc {
            render_snippet(&mut out, sources, loc, None);
        }
        for related in &self.related {
            render_snippet(&mut out, sources, &related.loc, Some(&related.message));
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "  = help: {help}");
        }
        out
    }
}

fn render_snippet(out: &mut String, sources: &Sources, loc: &Loc, note: Option<&str>) {
    let file = sources.file(loc.file);
    let Some(span) = sources.locate(loc) else {
        let _ = writeln!(out, "  --> {} (at {})", file.display_name(), loc.pointer);
        return;
    };
    let TextPos { line, column } = span.start;
    let _ = writeln!(out, "  --> {}:{line}:{column}", file.display_name());
    let Some(text) = file.line_text(line) else {
        return;
    };
    let gutter = line.to_string().len();
    let shown: String = text.chars().take(200).collect();
    let width = if span.end.line == line {
        span.end.column.saturating_sub(column).max(1)
    } else {
        shown.chars().count().saturating_sub(column - 1).max(1)
    };
    let width = width.min(shown.chars().count().saturating_sub(column - 1).max(1));
    let _ = writeln!(out, "{:gutter$} |", "");
    let _ = writeln!(out, "{line:>gutter$} | {}", shown.replace('\t', " "));
    let _ = write!(
        out,
        "{:gutter$} | {}{}",
        "",
        " ".repeat(column - 1),
        "^".repeat(width)
    );
    match note {
        Some(note) => {
            let _ = writeln!(out, " {note}");
        }
        None => out.push('\n'),
    }
}

//! The render view: the IR turned into exactly what the templates print.
//!
//! Every Rust decision is made here: type strings, serde attributes, which fields are boxed, which
//! tag fields belong to an enum, validation statements and the static schemas. Templates only loop and
//! print these strings.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;

use super::rust::{doc_lines, f64_lit, screaming, str_lit};
use super::schema::{ObjectNode, SchemaNode};
use crate::ir::naming::{self, Namespace};
use crate::ir::tags::{self, client_indexes};
use crate::ir::{
    Additional, Api, Channel, Constraints, Credential, Dispatch, Docs, FastMap, FastSet,
    IntegerFormat, StringFormat, Tagging, Ty, TyKind, TypeDef, TypeId, TypeKind,
};

/// What the mock server needs of the views: the schemas of the types and the channels' views.
#[derive(Debug)]
pub(crate) struct ModuleView {
    /// The schema of each named type, by [`TypeId`] (printed in its view as `schema`).
    pub(crate) schemas: Vec<SchemaNode>,
    /// Channels.
    pub(crate) channels: Vec<ChannelView>,
}

/// A `pattern` constraint, as a static.
#[derive(Debug, Serialize)]
pub(crate) struct PatternView {
    /// The static's name.
    pub(crate) name: String,
    /// The pattern as a string literal.
    pub(crate) source: String,
}

/// One named type.
#[derive(Debug, Serialize)]
pub(crate) struct TypeView {
    /// The Rust name.
    pub(crate) name: String,
    /// `struct`, `enum`, `int_enum`, `union` or `alias`.
    pub(crate) kind: &'static str,
    /// Doc literals.
    pub(crate) docs: Vec<String>,
    /// The derive list.
    pub(crate) derives: String,
    /// Outer attributes after the derive (full text).
    pub(crate) attrs: Vec<String>,
    /// Struct fields.
    pub(crate) fields: Vec<FieldView>,
    /// Enum and union variants.
    pub(crate) variants: Vec<VariantView>,
    /// For aliases: the target type.
    pub(crate) target: String,
    /// The body of `Validate::validate`, one statement per entry.
    pub(crate) validate: Vec<String>,
    /// Functions that give fields their schema `default`.
    pub(crate) defaults: Vec<DefaultFn>,
    /// The static schema's name.
    pub(crate) schema_name: String,
    /// The static schema's value.
    pub(crate) schema: String,
}

/// A function giving a field its default (`#[serde(default = "...")]`).
#[derive(Debug, Serialize)]
pub(crate) struct DefaultFn {
    /// The function's name.
    pub(crate) name: String,
    /// Its return type.
    pub(crate) ty: String,
    /// The expression it returns.
    pub(crate) expr: String,
}

/// A struct field.
#[derive(Debug, Serialize)]
pub(crate) struct FieldView {
    /// The Rust name.
    pub(crate) name: String,
    /// The Rust type.
    pub(crate) ty: String,
    /// Attributes (full text).
    pub(crate) attrs: Vec<String>,
    /// Doc literals.
    pub(crate) docs: Vec<String>,
}

/// An enum or union variant.
#[derive(Debug, Serialize)]
pub(crate) struct VariantView {
    /// The Rust name.
    pub(crate) name: String,
    /// Attributes (full text).
    pub(crate) attrs: Vec<String>,
    /// The payload type of a newtype variant (empty for unit variants).
    pub(crate) ty: String,
    /// For integer enums: the value.
    pub(crate) value: String,
    /// Doc literals.
    pub(crate) docs: Vec<String>,
}

/// One channel module.
#[derive(Debug, Serialize)]
pub(crate) struct ChannelView {
    /// The module name.
    pub(crate) module: String,
    /// The module name without a raw prefix, for derived identifiers.
    pub(crate) module_bare: String,
    /// The channel key as a literal.
    pub(crate) key: String,
    /// Doc lines.
    pub(crate) docs: Vec<String>,
    /// The address template literal (empty when the address is dynamic).
    pub(crate) address: String,
    /// The raw address literal.
    pub(crate) raw_address: String,
    /// Parameter fields of `Params`.
    pub(crate) params: Vec<ParamView>,
    /// The `format!` string literal that builds a path from `Params`.
    pub(crate) path_format: String,
    /// Its arguments, in order.
    pub(crate) path_args: Vec<String>,
    /// The consumer trait's name.
    pub(crate) consumer: String,
    /// The dispatcher's name.
    pub(crate) dispatcher: String,
    /// The layer client's name.
    pub(crate) layer_client: String,
    /// The client-to-server enum.
    pub(crate) client_enum: EnumView,
    /// The server-to-client enum.
    pub(crate) server_enum: EnumView,
    /// The tag property literal for client frames (empty when not tag-dispatched).
    pub(crate) client_tag: String,
    /// The sorted client tag literals, for error messages.
    pub(crate) client_tags: Vec<String>,
    /// The tag property literal for server frames (empty when not tag-dispatched).
    pub(crate) server_tag: String,
    /// Trait methods for client actions.
    pub(crate) actions: Vec<ActionView>,
    /// Trait methods for server events.
    pub(crate) events: Vec<EventView>,
    /// Enums of the replies of an action with several, and of the events of a method that handles
    /// several; each converts into `ServerMessage`.
    pub(crate) wrapper_enums: Vec<EnumView>,
    /// Keys of the security schemes, as literals.
    pub(crate) security: Vec<String>,
    /// The security schemes as `SecurityScheme` expressions.
    pub(crate) security_schemes: Vec<String>,
    /// Generated contract tests.
    pub(crate) contract_tests: Vec<ContractTest>,
    /// Whether some action has a sample frame (for `check_replies`).
    pub(crate) has_samples: bool,
    /// Each server message that a frame can be built for: its key and the frame.
    #[serde(skip)]
    pub(crate) server_frames: Vec<(String, Value)>,
    /// The property client frames are dispatched on (empty when they are matched by shape).
    #[serde(skip)]
    pub(crate) client_tag_property: String,
}

/// One generated contract test.
#[derive(Debug, Serialize)]
pub(crate) struct ContractTest {
    /// The test function's name.
    pub(crate) name: String,
    /// The runtime check: `example`, `valid_sample` or `invalid_sample`.
    pub(crate) check: &'static str,
    /// The message type (from a sibling module of `types`).
    pub(crate) ty: String,
    /// The JSON text, as a literal.
    pub(crate) json: String,
    /// The tag literal (`""` when not tag-dispatched).
    pub(crate) tag: String,
    /// The schema static reference.
    pub(crate) schema: String,
    /// Extra arguments (`, "missing", &["chat", "payload"]`), with their leading comma.
    pub(crate) error: String,
}

/// An address parameter.
#[derive(Debug, Serialize)]
pub(crate) struct ParamView {
    /// The field name.
    pub(crate) name: String,
    /// The wire name literal.
    pub(crate) wire: String,
    /// The Rust type.
    pub(crate) ty: String,
    /// Doc literals.
    pub(crate) docs: Vec<String>,
}

/// A message enum of a channel (or a reply set).
#[derive(Debug, Serialize)]
pub(crate) struct EnumView {
    /// The enum's name.
    pub(crate) name: String,
    /// Doc literals.
    pub(crate) docs: Vec<String>,
    /// Outer attributes (full text).
    pub(crate) attrs: Vec<String>,
    /// Variants.
    pub(crate) variants: Vec<VariantView>,
}

/// A trait method for a client action.
#[derive(Debug, Serialize)]
pub(crate) struct ActionView {
    /// The method name.
    pub(crate) method: String,
    /// Doc literals.
    pub(crate) docs: Vec<String>,
    /// The message type.
    pub(crate) message_ty: String,
    /// The tag literal that selects it (empty when dispatch is not by tag).
    pub(crate) tag: String,
    /// The static schema of the message (path).
    pub(crate) schema: String,
    /// The handler's success type (`()`, `Option<T>`).
    pub(crate) output: String,
    /// How the dispatcher sends the reply: `none`, `single` or `enum`.
    pub(crate) reply: &'static str,
    /// For `single`: the `ServerMessage` variant that wraps the reply.
    pub(crate) reply_variant: String,
    /// The `ServerMessage` variant of the message itself (for shape dispatch).
    pub(crate) variant: String,
    /// False for a second action with the same tag: frames go to the first.
    pub(crate) dispatchable: bool,
    /// A frame that exercises it (the spec's first example, else a generated sample), as a literal;
    /// empty when none can be built.
    pub(crate) sample: String,
    /// The tags (literals) of its declared replies.
    pub(crate) reply_tags: Vec<String>,
    /// A frame of each declared reply that one can be built for (its example, else a sample).
    #[serde(skip)]
    pub(crate) reply_frames: Vec<Value>,
    /// The schema its frames are checked against.
    #[serde(skip)]
    pub(crate) schema_node: SchemaNode,
    /// The tag value that selects it, when the channel dispatches on a tag.
    #[serde(skip)]
    pub(crate) tag_value: Option<String>,
}

/// A trait method for a server event.
#[derive(Debug, Serialize)]
pub(crate) struct EventView {
    /// The method name.
    pub(crate) method: String,
    /// Doc literals.
    pub(crate) docs: Vec<String>,
    /// The event type (a message type, or an enum of several).
    pub(crate) event_ty: String,
    /// The messages it handles, tried in order.
    pub(crate) arms: Vec<EventArmView>,
    /// How the method's output becomes a `ServerMessage` (`ServerMessage::V(out)` or
    /// `ServerMessage::from(out)`).
    pub(crate) forward: String,
}

/// One message an event method handles.
#[derive(Debug, Serialize)]
pub(crate) struct EventArmView {
    /// The tag literal that selects it (empty when the server side is not tagged).
    pub(crate) tag: String,
    /// The message type decoded from the event.
    pub(crate) ty: String,
    /// The method's argument built from the decoded `event` (`event` or `Enum::V(event)`).
    pub(crate) argument: String,
}

/// How types are named from where they are used.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Inside `types.rs`.
    Types,
    /// Inside a channel module (types are `super::types::X`).
    Channel,
}

/// What generated files call the runtime's code-generation module (`use ::chanx_runtime::__codegen as
/// cg;`): short paths read better and parse faster than the full one at every use. Generated code has
/// no other snake_case name in the type namespace of the files that import it (`mod.rs`, which
/// declares the channels' modules, uses the full path instead).
pub(crate) const CODEGEN_ALIAS: &str = "cg";

/// Options of the view.
pub(crate) struct ViewOptions<'a> {
    /// The runtime crate path (`::chanx_runtime`).
    pub(crate) runtime: &'a str,
}

/// The views of `api` that the mock server needs.
pub(crate) fn build(api: &Api, options: &ViewOptions<'_>) -> ModuleView {
    let mut builder = Builder::new(api, options);
    let channels = api
        .channels
        .iter()
        .map(|channel| builder.channel_view(channel))
        .collect();
    let schemas = (0..api.types.len())
        .map(|i| builder.type_view(TypeId(i)).1)
        .collect();
    ModuleView { schemas, channels }
}

/// Builds the views one piece at a time, for a caller that renders each as it comes: every
/// channel's ([`Builder::channel_view`]), then the types' a few at a time
/// ([`Builder::type_views`]), then the patterns that all of them use ([`Builder::into_patterns`]).
pub(crate) struct Builder<'a> {
    api: &'a Api,
    /// [`CODEGEN_ALIAS`].
    cg: &'static str,
    /// The code-generation module's full path.
    codegen: String,
    /// Struct fields dropped because an enum carries them as its tag: (type, wire name).
    tag_owned: HashSet<(TypeId, String)>,
    /// Fields that must be boxed to break a cycle: (type, wire name).
    boxed: FastSet<(TypeId, String)>,
    /// Types whose validation does something.
    validating: FastMap<TypeId, bool>,
    /// Types used as message payloads (never `deny_unknown_fields`: frames carry envelope keys).
    message_types: FastSet<TypeId>,
    patterns: Vec<PatternView>,
    pattern_names: FastMap<String, String>,
    /// Where the code being built lives (for paths to schema and pattern statics).
    scope: Scope,
    /// The name of each type's schema static, by type id.
    schema_names: Vec<String>,
    /// Names of the default functions.
    default_fns: Namespace,
}

impl<'a> Builder<'a> {
    /// A builder for `api`.
    pub(crate) fn new(api: &'a Api, options: &ViewOptions<'_>) -> Self {
        let mut builder = Builder {
            api,
            cg: CODEGEN_ALIAS,
            codegen: format!("{}::__codegen", options.runtime),
            tag_owned: HashSet::new(),
            boxed: FastSet::default(),
            validating: FastMap::default(),
            message_types: FastSet::default(),
            patterns: Vec::new(),
            pattern_names: FastMap::default(),
            scope: Scope::Types,
            schema_names: Vec::new(),
            default_fns: Namespace::new(),
        };
        let mut statics = Namespace::new();
        builder.schema_names = api
            .types
            .iter()
            .map(|def| {
                let name = format!("{}_SCHEMA", screaming(&def.rust_name));
                statics.suggest(&name, &def.rust_name)
            })
            .collect();
        builder.find_tag_owned_fields();
        builder.find_boxed_fields();
        builder
    }

    /// The code-generation module's full path.
    pub(crate) fn codegen(&self) -> &str {
        &self.codegen
    }

    /// The path serde derives use, as a string literal.
    pub(crate) fn serde_crate(&self) -> String {
        str_lit(&format!("{}::serde", self.cg))
    }

    /// The views of the named types `ids` (see [`TypeId`]), in order: for a caller that renders
    /// the types a few at a time as their views come, then [`Builder::into_patterns`].
    pub(crate) fn type_views(&mut self, ids: std::ops::Range<usize>) -> Vec<TypeView> {
        ids.map(|i| self.type_view(TypeId(i)).0).collect()
    }

    /// The patterns of every view built, to be compiled once each.
    pub(crate) fn into_patterns(self) -> Vec<PatternView> {
        self.patterns
    }

    /// The module's doc lines, and `info.title` and `info.version` as literals (which need no
    /// type's view).
    pub(crate) fn module_header(&self) -> (Vec<String>, String, String) {
        let mut docs = doc_lines(&format!("{} {}", self.api.title, self.api.version));
        if let Some(description) = &self.api.description {
            docs.push(str_lit(""));
            docs.extend(doc_lines(description));
        }
        (docs, str_lit(&self.api.title), str_lit(&self.api.version))
    }

    /// Struct fields that a tagged enum carries as its tag: the tag property of message payloads in
    /// tag-dispatched directions, and of the arms of internally tagged unions.
    ///
    /// A field is the enum's only where every use of its struct is serde-tagged on it: a struct
    /// that is also a message of a direction matched by shape (or an arm of an untagged union)
    /// keeps the field, or that use could not tell its messages apart.
    fn find_tag_owned_fields(&mut self) {
        let api = self.api;
        for channel in &api.channels {
            for &index in client_indexes(channel)
                .iter()
                .chain(&channel.server_messages)
            {
                if let Some(Ty {
                    kind: TyKind::Named(id),
                    nullable: false,
                    ..
                }) = &channel.messages[index].payload
                {
                    self.message_types.insert(*id);
                }
            }
        }
        self.tag_owned = tags::tag_owned_fields(api);
    }

    /// Fields through which a struct contains itself without a `Vec` or map in between.
    fn find_boxed_fields(&mut self) {
        for (index, def) in self.api.types.iter().enumerate() {
            let TypeKind::Struct { fields, .. } = &def.kind else {
                continue;
            };
            let id = TypeId(index);
            for field in fields {
                let mut seen = FastSet::default();
                if self.contains_inline(&field.ty, id, &mut seen) {
                    self.boxed.insert((id, field.wire_name.clone()));
                }
            }
        }
    }

    /// Whether a value of `ty` holds a `target` inline (so `target` holding `ty` has infinite size).
    fn contains_inline(&self, ty: &Ty, target: TypeId, seen: &mut FastSet<TypeId>) -> bool {
        match &ty.kind {
            TyKind::Named(id) if *id == target => true,
            TyKind::Named(id) => {
                if !seen.insert(*id) {
                    return false;
                }
                match &self.api.type_def(*id).kind {
                    TypeKind::Struct { fields, .. } => fields.iter().any(|f| {
                        !self.boxed.contains(&(*id, f.wire_name.clone()))
                            && self.contains_inline(&f.ty, target, seen)
                    }),
                    TypeKind::Union { variants, .. } => variants
                        .iter()
                        .any(|v| self.contains_inline(&v.ty, target, seen)),
                    TypeKind::Alias { target: inner } => self.contains_inline(inner, target, seen),
                    TypeKind::StringEnum { .. } | TypeKind::IntegerEnum { .. } => false,
                }
            }
            TyKind::Tuple(items) => items.iter().any(|t| self.contains_inline(t, target, seen)),
            _ => false,
        }
    }

    fn type_name(&self, id: TypeId, scope: Scope) -> String {
        let name = &self.api.type_def(id).rust_name;
        match scope {
            Scope::Types => name.clone(),
            Scope::Channel => format!("super::types::{name}"),
        }
    }

    /// The Rust type of a type use.
    fn rust_type(&self, ty: &Ty, scope: Scope) -> String {
        let base = match &ty.kind {
            TyKind::Named(id) => self.type_name(*id, scope),
            TyKind::String(StringFormat::DateTime) => {
                format!("{cg}::chrono::DateTime<{cg}::chrono::Utc>", cg = self.cg)
            }
            TyKind::String(StringFormat::Date) => format!("{}::chrono::NaiveDate", self.cg),
            TyKind::String(StringFormat::Time) => format!("{}::chrono::NaiveTime", self.cg),
            TyKind::String(StringFormat::Uuid) => format!("{}::uuid::Uuid", self.cg),
            TyKind::String(_) => "::std::string::String".to_owned(),
            TyKind::Integer(IntegerFormat::Int32) => "i32".to_owned(),
            TyKind::Integer(IntegerFormat::Int64) => "i64".to_owned(),
            TyKind::Number => "f64".to_owned(),
            TyKind::Boolean => "bool".to_owned(),
            TyKind::Null => "()".to_owned(),
            TyKind::Any => format!("{}::serde_json::Value", self.cg),
            TyKind::Array(item) => format!("::std::vec::Vec<{}>", self.rust_type(item, scope)),
            TyKind::Tuple(items) => {
                let items: Vec<String> = items.iter().map(|t| self.rust_type(t, scope)).collect();
                format!("({},)", items.join(", "))
            }
            // An ordered map: Chanx (a Python dict) keeps the keys in the order they came in.
            TyKind::Map(value) => format!(
                "{}::indexmap::IndexMap<::std::string::String, {}>",
                self.cg,
                self.rust_type(value, scope)
            ),
            TyKind::Const(value) => const_base_type(value).to_owned(),
        };
        if ty.nullable && ty.kind != TyKind::Null {
            format!("::core::option::Option<{base}>")
        } else {
            base
        }
    }

    fn docs(docs: &Docs) -> Vec<String> {
        let mut lines = Vec::new();
        for text in [&docs.title, &docs.summary, &docs.description]
            .into_iter()
            .flatten()
        {
            if text.trim().is_empty() || text.trim() == "None" {
                continue;
            }
            if !lines.is_empty() {
                lines.push(str_lit(""));
            }
            lines.extend(doc_lines(text));
        }
        lines
    }

    fn serde_attr(&self) -> String {
        format!("#[serde(crate = {})]", self.serde_crate())
    }

    /// The view of a named type, and its schema.
    fn type_view(&mut self, id: TypeId) -> (TypeView, SchemaNode) {
        let def = self.api.type_def(id);
        let mut view = TypeView {
            name: def.rust_name.clone(),
            kind: "struct",
            docs: Self::docs(&Docs {
                // A title that only repeats the type's name says nothing.
                title: def
                    .docs
                    .title
                    .clone()
                    .filter(|t| naming::type_name(t, "") != def.rust_name),
                ..def.docs.clone()
            }),
            derives: format!(
                "Debug, Clone, PartialEq, {cg}::serde::Serialize, {cg}::serde::Deserialize",
                cg = self.cg
            ),
            attrs: vec![self.serde_attr()],
            fields: Vec::new(),
            variants: Vec::new(),
            target: String::new(),
            validate: Vec::new(),
            defaults: Vec::new(),
            schema_name: self.schema_names[id.0].clone(),
            schema: String::new(),
        };
        if view.docs.is_empty() {
            view.docs = doc_lines(&format!("`{}` from the spec.", origin_name(def)));
        }
        let node: SchemaNode;
        match &def.kind {
            TypeKind::Struct { fields, additional } => {
                node = self.struct_view(id, def, fields, additional, &mut view);
            }
            TypeKind::StringEnum { variants } => {
                view.kind = "enum";
                view.derives.push_str(", Copy, Eq, Hash");
                for variant in variants {
                    view.variants.push(VariantView {
                        name: variant.rust_name.clone(),
                        attrs: vec![format!("#[serde(rename = {})]", str_lit(&variant.value))],
                        ty: String::new(),
                        value: str_lit(&variant.value),
                        docs: Vec::new(),
                    });
                }
                // An enum component is a Python Enum class to Chanx (`enum` errors); an inline one
                // is a `Literal[...]` (`literal_error`).
                node = if is_component_schema(&def.origin) {
                    SchemaNode::StrEnum {
                        name: def.rust_name.clone(),
                        values: variants.iter().map(|v| v.value.clone()).collect(),
                    }
                } else {
                    SchemaNode::Literal(
                        variants
                            .iter()
                            .map(|v| Value::String(v.value.clone()).to_string())
                            .collect(),
                    )
                };
            }
            TypeKind::IntegerEnum { variants } => {
                view.kind = "int_enum";
                view.derives = format!(
                    "Debug, Clone, Copy, PartialEq, Eq, Hash, {cg}::serde::Serialize, {cg}::serde::Deserialize",
                    cg = self.cg
                );
                view.attrs
                    .push("#[serde(try_from = \"i64\", into = \"i64\")]".to_owned());
                for variant in variants {
                    view.variants.push(VariantView {
                        name: variant.rust_name.clone(),
                        attrs: Vec::new(),
                        ty: String::new(),
                        value: variant.value.to_string(),
                        docs: Vec::new(),
                    });
                }
                node = SchemaNode::IntEnum {
                    name: def.rust_name.clone(),
                    values: variants.iter().map(|v| v.value).collect(),
                };
            }
            TypeKind::Union { variants, tagging } => {
                view.kind = "union";
                match tagging {
                    Tagging::Internal { property }
                        if tags::arms_are_structs(self.api, variants) =>
                    {
                        view.attrs
                            .push(format!("#[serde(tag = {})]", str_lit(property)));
                        node = SchemaNode::TaggedUnion {
                            property: property.clone(),
                            arms: variants
                                .iter()
                                .map(|v| (v.tag.clone().unwrap_or_default(), self.node_ref(&v.ty)))
                                .collect(),
                        };
                    }
                    _ => {
                        view.attrs.push("#[serde(untagged)]".to_owned());
                        node = SchemaNode::Untagged(
                            variants.iter().map(|v| self.node_ref(&v.ty)).collect(),
                        );
                    }
                }
                let tagged = view.attrs.iter().any(|a| a.starts_with("#[serde(tag"));
                for variant in variants {
                    let mut attrs = Vec::new();
                    if let (true, Some(tag)) = (tagged, &variant.tag) {
                        attrs.push(format!("#[serde(rename = {})]", str_lit(tag)));
                    }
                    let ty = self.boxed_if_recursive(id, &variant.ty, Scope::Types);
                    view.variants.push(VariantView {
                        name: variant.rust_name.clone(),
                        attrs,
                        ty,
                        value: String::new(),
                        docs: Vec::new(),
                    });
                }
                for (i, variant) in variants.iter().enumerate() {
                    let access = format!("v{i}");
                    let stmts = self.validate_stmts(&variant.ty, &access, 1);
                    if stmts.is_empty() {
                        continue;
                    }
                    // pydantic reports errors inside a discriminated union's arm under its tag.
                    let (enter, leave) = match (tagged, &variant.tag) {
                        (true, Some(tag)) => (
                            format!("errors.push_key({});", str_lit(tag)),
                            "errors.pop();",
                        ),
                        _ => (String::new(), ""),
                    };
                    view.validate.push(format!(
                        "if let Self::{}({access}) = self {{ {enter} {} {leave} }}",
                        view.variants[i].name,
                        stmts.join(" ")
                    ));
                }
            }
            TypeKind::Alias { target } => {
                view.kind = "alias";
                view.target = self.rust_type(target, Scope::Types);
                view.attrs.push("#[serde(transparent)]".to_owned());
                view.validate = self.validate_stmts(target, "&self.0", 0);
                node = self.node_expr(target);
            }
        }
        view.schema = self.print_expr(&node);
        (view, node)
    }

    /// The type of a union arm, boxed when the arm contains the union itself.
    fn boxed_if_recursive(&self, owner: TypeId, ty: &Ty, scope: Scope) -> String {
        let rust = self.rust_type(ty, scope);
        if self.contains_inline(ty, owner, &mut FastSet::default()) {
            format!("::std::boxed::Box<{rust}>")
        } else {
            rust
        }
    }

    fn struct_view(
        &mut self,
        id: TypeId,
        def: &TypeDef,
        fields: &[crate::ir::Field],
        additional: &Additional,
        view: &mut TypeView,
    ) -> SchemaNode {
        let mut names = Namespace::new();
        let mut schema_fields = Vec::new();
        for field in fields {
            if self.tag_owned.contains(&(id, field.wire_name.clone())) {
                continue;
            }
            let _ = names.claim(&field.rust_name, &field.wire_name, None);
            let mut ty_use = field.ty.clone();
            let required_nullable = field.required && ty_use.nullable;
            // An optional field with a simple default holds the value; other optional fields read a
            // missing key as null (Chanx sends nulls for them too).
            let default = match (field.required, ty_use.nullable, &field.default) {
                (false, false, Some(value)) => self.default_expr(&ty_use, value),
                _ => None,
            };
            if !field.required && default.is_none() {
                ty_use.nullable = true;
            }
            let mut rust = self.rust_type(&ty_use, Scope::Types);
            if self.boxed.contains(&(id, field.wire_name.clone())) {
                rust = match rust.strip_prefix("::core::option::Option<") {
                    Some(inner) => format!(
                        "::core::option::Option<::std::boxed::Box<{}>>",
                        &inner[..inner.len() - 1]
                    ),
                    None => format!("::std::boxed::Box<{rust}>"),
                };
            }
            let mut attrs = Vec::new();
            if naming_bare(&field.rust_name) != field.wire_name {
                attrs.push(format!("#[serde(rename = {})]", str_lit(&field.wire_name)));
            }
            if let Some(expr) = default {
                let function = self.default_fns.suggest(
                    &format!(
                        "default_{}_{}",
                        naming::snake_name(&def.rust_name, "type").trim_start_matches("r#"),
                        naming_bare(&field.rust_name)
                    ),
                    &field.wire_name,
                );
                attrs.push(format!("#[serde(default = {})]", str_lit(&function)));
                view.defaults.push(DefaultFn {
                    name: function,
                    ty: rust.clone(),
                    expr,
                });
            } else if !field.required
                && !field.ty.nullable
                && !matches!(field.ty.kind, TyKind::Any | TyKind::Null)
            {
                // Optional but not nullable: a missing key is `None`, an explicit `null` is an
                // error (as in JSON Schema and pydantic), and `None` is left out when encoding.
                attrs.push(format!(
                    "#[serde(default, deserialize_with = {}, skip_serializing_if = \"::core::option::Option::is_none\")]",
                    str_lit(&format!("{}::not_null", self.cg))
                ));
            } else if !field.required {
                attrs.push("#[serde(default)]".to_owned());
            } else if required_nullable {
                attrs.push(format!(
                    "#[serde(deserialize_with = {})]",
                    str_lit(&format!("{}::required_nullable", self.cg))
                ));
            }
            let access = format!("&self.{}", field.rust_name);
            if only_named_checks(&ty_use) {
                // The runtime's impls for `Option`, `Vec` and `Box` descend as the statements of
                // `validate_stmts` would.
                if self.needs_validation(&ty_use) {
                    view.validate.push(format!(
                        "errors.field({}, {access});",
                        str_lit(&field.wire_name)
                    ));
                }
            } else {
                let stmts = self.validate_stmts(&ty_use, &access, 0);
                if !stmts.is_empty() {
                    view.validate.push(format!(
                        "errors.push_key({}); {} errors.pop();",
                        str_lit(&field.wire_name),
                        stmts.join(" ")
                    ));
                }
            }
            schema_fields.push((
                field.wire_name.clone(),
                field.required,
                self.node_ref(&field.ty),
            ));
            view.fields.push(FieldView {
                name: field.rust_name.clone(),
                ty: rust,
                attrs,
                docs: Self::docs(&field.docs),
            });
        }
        let mut deny_unknown = false;
        let mut additional_schema = None;
        match additional {
            Additional::Ignore => {}
            Additional::Deny if !self.message_types.contains(&id) => {
                deny_unknown = true;
                view.attrs.push("#[serde(deny_unknown_fields)]".to_owned());
            }
            Additional::Deny => {}
            Additional::Typed(ty) => {
                let name = names.suggest("additional_properties", "additionalProperties");
                view.fields.push(FieldView {
                    name,
                    ty: format!(
                        "{}::indexmap::IndexMap<::std::string::String, {}>",
                        self.cg,
                        self.rust_type(ty, Scope::Types)
                    ),
                    attrs: vec!["#[serde(flatten)]".to_owned()],
                    docs: doc_lines("Properties the schema does not name."),
                });
                additional_schema = Some(Box::new(self.node_ref(ty)));
            }
        }
        SchemaNode::Object(ObjectNode {
            name: def.rust_name.clone(),
            fields: schema_fields,
            deny_unknown,
            additional: additional_schema,
        })
    }

    /// A Rust expression for the schema `default` `value` of a field of type `ty`, when the type is
    /// simple enough to build it without a fallible conversion.
    fn default_expr(&self, ty: &Ty, value: &Value) -> Option<String> {
        match (&ty.kind, value) {
            (TyKind::String(StringFormat::Plain), Value::String(text))
            | (TyKind::Const(Value::String(_)), Value::String(text)) => {
                Some(format!("::std::string::String::from({})", str_lit(text)))
            }
            (TyKind::Integer(_), Value::Number(n)) => n.as_i64().map(|n| n.to_string()),
            (TyKind::Number, Value::Number(n)) => n.as_f64().map(f64_lit),
            (TyKind::Boolean, Value::Bool(b)) => Some(b.to_string()),
            (TyKind::Array(_), Value::Array(items)) if items.is_empty() => {
                Some("::std::vec::Vec::new()".to_owned())
            }
            (TyKind::Map(_), Value::Object(entries)) if entries.is_empty() => {
                Some(format!("{}::indexmap::IndexMap::new()", self.cg))
            }
            (TyKind::Named(id), _) => {
                let name = &self.api.type_def(*id).rust_name;
                match &self.api.type_def(*id).kind {
                    TypeKind::StringEnum { variants } => variants
                        .iter()
                        .find(|v| value.as_str() == Some(v.value.as_str()))
                        .map(|v| format!("{name}::{}", v.rust_name)),
                    TypeKind::IntegerEnum { variants } => variants
                        .iter()
                        .find(|v| value.as_i64() == Some(v.value))
                        .map(|v| format!("{name}::{}", v.rust_name)),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Whether validating a value of `ty` can report anything.
    fn needs_validation(&mut self, ty: &Ty) -> bool {
        let c = &ty.constraints;
        let checked = match ty.kind {
            TyKind::String(StringFormat::Plain | StringFormat::Bytes) => has_str_constraints(c),
            TyKind::Integer(_) | TyKind::Number => has_number_constraints(c),
            TyKind::Array(_) => has_items_constraints(c),
            _ => false,
        };
        if checked {
            return true;
        }
        match &ty.kind {
            TyKind::Named(id) => self.type_validates(*id),
            TyKind::Const(_) => true,
            TyKind::Array(item) | TyKind::Map(item) => self.needs_validation(item),
            TyKind::Tuple(items) => items.iter().any(|t| self.needs_validation(t)),
            _ => false,
        }
    }

    fn type_validates(&mut self, id: TypeId) -> bool {
        if let Some(known) = self.validating.get(&id) {
            return *known;
        }
        // Assume yes while looking (a cycle validates if anything on it does).
        self.validating.insert(id, true);
        let def = self.api.type_def(id);
        let answer = match &def.kind {
            TypeKind::Struct { fields, additional } => {
                let fields: Vec<Ty> = fields
                    .iter()
                    .filter(|f| !self.tag_owned.contains(&(id, f.wire_name.clone())))
                    .map(|f| f.ty.clone())
                    .collect();
                let extra = match additional {
                    Additional::Typed(ty) => Some((**ty).clone()),
                    _ => None,
                };
                fields
                    .iter()
                    .chain(extra.iter())
                    .any(|ty| self.needs_validation(ty))
            }
            TypeKind::Union { variants, .. } => {
                let arms: Vec<Ty> = variants.iter().map(|v| v.ty.clone()).collect();
                arms.iter().any(|ty| self.needs_validation(ty))
            }
            TypeKind::Alias { target } => {
                let target = target.clone();
                self.needs_validation(&target)
            }
            TypeKind::StringEnum { .. } | TypeKind::IntegerEnum { .. } => false,
        };
        self.validating.insert(id, answer);
        answer
    }

    /// Statements that validate the value `access` (an expression of type `&T`) of type `ty`.
    fn validate_stmts(&mut self, ty: &Ty, access: &str, depth: usize) -> Vec<String> {
        if !self.needs_validation(ty) {
            return Vec::new();
        }
        if ty.nullable && ty.kind != TyKind::Null {
            let inner_ty = Ty {
                nullable: false,
                ..ty.clone()
            };
            let binding = format!("n{depth}");
            let inner = self.validate_stmts(&inner_ty, &binding, depth + 1);
            if inner.is_empty() {
                return Vec::new();
            }
            return vec![format!(
                "if let ::core::option::Option::Some({binding}) = {access} {{ {} }}",
                inner.join(" ")
            )];
        }
        let cg = self.cg;
        let c = &ty.constraints;
        let mut out = Vec::new();
        match &ty.kind {
            TyKind::String(StringFormat::Plain | StringFormat::Bytes) if has_str_constraints(c) => {
                let constraints = self.str_constraints(c);
                out.push(format!(
                    "{cg}::check_str(errors, {access}, &{constraints});"
                ));
            }
            TyKind::Integer(_) | TyKind::Number if has_number_constraints(c) => {
                out.push(format!(
                    "{cg}::check_number(errors, *{access} as f64, &{});",
                    self.number_constraints(c)
                ));
            }
            TyKind::Array(item) => {
                if has_items_constraints(c) {
                    let unique = if c.unique_items {
                        format!(
                            "{{ let items = {access}; (0..items.len()).all(|i| !items[..i].contains(&items[i])) }}"
                        )
                    } else {
                        "true".to_owned()
                    };
                    out.push(format!(
                        "{cg}::check_items(errors, ({access}).len(), &{}, {unique});",
                        self.items_constraints(c)
                    ));
                }
                let binding = format!("item{depth}");
                let inner = self.validate_stmts(item, &binding, depth + 1);
                if !inner.is_empty() {
                    out.push(format!(
                        "for (i{depth}, {binding}) in ({access}).iter().enumerate() {{ errors.push_index(i{depth}); {} errors.pop(); }}",
                        inner.join(" ")
                    ));
                }
            }
            TyKind::Map(value) => {
                let binding = format!("value{depth}");
                let inner = self.validate_stmts(value, &binding, depth + 1);
                if !inner.is_empty() {
                    out.push(format!(
                        "for (key{depth}, {binding}) in {access} {{ errors.push_key(key{depth}); {} errors.pop(); }}",
                        inner.join(" ")
                    ));
                }
            }
            TyKind::Tuple(items) => {
                for (i, item) in items.iter().enumerate() {
                    let inner = self.validate_stmts(item, &format!("&({access}).{i}"), depth + 1);
                    if !inner.is_empty() {
                        out.push(format!(
                            "errors.push_index({i}); {} errors.pop();",
                            inner.join(" ")
                        ));
                    }
                }
            }
            TyKind::Named(_) => {
                out.push(format!("{cg}::Validate::validate({access}, errors);"));
            }
            TyKind::Const(value) => {
                let (literal, message) = const_check(value);
                out.push(format!(
                    "if *{access} != {literal} {{ errors.report(\"literal_error\", ::std::string::String::from({})); }}",
                    str_lit(&message)
                ));
            }
            _ => {}
        }
        out
    }

    fn pattern_ref(&mut self, source: &str) -> String {
        let name = match self.pattern_names.get(source) {
            Some(name) => name.clone(),
            None => {
                let name = format!("PATTERN_{}", self.patterns.len());
                self.patterns.push(PatternView {
                    name: name.clone(),
                    source: str_lit(source),
                });
                self.pattern_names.insert(source.to_owned(), name.clone());
                name
            }
        };
        match self.scope {
            Scope::Types => format!("&{name}"),
            Scope::Channel => format!("&super::types::{name}"),
        }
    }

    fn str_constraints(&mut self, c: &Constraints) -> String {
        let mut set = Vec::new();
        if let Some(min) = c.min_length {
            set.push(format!("min_length({min})"));
        }
        if let Some(max) = c.max_length {
            set.push(format!("max_length({max})"));
        }
        let constraints = constraints_expr(self.cg, "StrConstraints", &set);
        match &c.pattern {
            // A field, not a builder call: a `const fn` call taking a static's address would not
            // be promoted to a `'static` value inside the schema statics.
            Some(pattern) => {
                let pattern = self.pattern_ref(pattern);
                format!(
                    "{}::StrConstraints {{ pattern: ::core::option::Option::Some({pattern}), ..{constraints} }}",
                    self.cg
                )
            }
            None => constraints,
        }
    }

    fn number_constraints(&self, c: &Constraints) -> String {
        let set: Vec<String> = [
            ("minimum", c.minimum),
            ("maximum", c.maximum),
            ("exclusive_minimum", c.exclusive_minimum),
            ("exclusive_maximum", c.exclusive_maximum),
            ("multiple_of", c.multiple_of),
        ]
        .into_iter()
        .filter_map(|(method, bound)| {
            let value = bound?;
            Some(format!(
                "{method}({}, {})",
                f64_lit(value),
                str_lit(&python_number(value))
            ))
        })
        .collect();
        constraints_expr(self.cg, "NumberConstraints", &set)
    }

    fn items_constraints(&self, c: &Constraints) -> String {
        let mut set = Vec::new();
        if let Some(min) = c.min_items {
            set.push(format!("min_items({min})"));
        }
        if let Some(max) = c.max_items {
            set.push(format!("max_items({max})"));
        }
        if c.unique_items {
            set.push("unique()".to_owned());
        }
        constraints_expr(self.cg, "ItemsConstraints", &set)
    }

    /// The schema of a use of `ty`: its named type's, or its own.
    fn node_ref(&self, ty: &Ty) -> SchemaNode {
        match (&ty.kind, ty.nullable) {
            (TyKind::Named(id), false) => SchemaNode::Named(self.resolve_alias(*id)),
            _ => self.node_expr(ty),
        }
    }

    /// The schema of `ty` itself.
    fn node_expr(&self, ty: &Ty) -> SchemaNode {
        if ty.nullable && ty.kind != TyKind::Null {
            let inner = Ty {
                nullable: false,
                ..ty.clone()
            };
            return SchemaNode::Nullable(Box::new(self.node_ref(&inner)));
        }
        let c = &ty.constraints;
        match &ty.kind {
            // Only an alias of a named type gets here; its uses point at the target's schema.
            TyKind::Named(id) => {
                SchemaNode::Untagged(vec![SchemaNode::Named(self.resolve_alias(*id))])
            }
            TyKind::String(StringFormat::DateTime) => SchemaNode::DateTime,
            TyKind::String(StringFormat::Date) => SchemaNode::Date,
            TyKind::String(StringFormat::Time) => SchemaNode::Time,
            TyKind::String(StringFormat::Uuid) => SchemaNode::Uuid,
            TyKind::String(_) => SchemaNode::Str(c.clone()),
            TyKind::Integer(_) => SchemaNode::Int(c.clone()),
            TyKind::Number => SchemaNode::Number(c.clone()),
            TyKind::Boolean => SchemaNode::Bool,
            TyKind::Null => SchemaNode::Null,
            TyKind::Any => SchemaNode::Any,
            TyKind::Array(item) => SchemaNode::Array(Box::new(self.node_ref(item)), c.clone()),
            TyKind::Tuple(items) => {
                SchemaNode::Tuple(items.iter().map(|t| self.node_ref(t)).collect())
            }
            TyKind::Map(value) => SchemaNode::Map(Box::new(self.node_ref(value))),
            TyKind::Const(value) => SchemaNode::Const(value.to_string()),
        }
    }

    /// A named type, with aliases of other named types followed (they check exactly as their
    /// target does).
    fn resolve_alias(&self, id: TypeId) -> TypeId {
        let mut id = id;
        for _ in 0..self.api.types.len() {
            match &self.api.type_def(id).kind {
                TypeKind::Alias { target }
                    if !target.nullable && matches!(target.kind, TyKind::Named(_)) =>
                {
                    if let TyKind::Named(next) = target.kind {
                        id = next;
                    }
                }
                _ => break,
            }
        }
        id
    }

    /// The path of a named type's schema static, from the current scope.
    fn schema_static(&self, id: TypeId) -> String {
        let name = self.schema_names[self.resolve_alias(id).0].clone();
        match self.scope {
            Scope::Types => name,
            Scope::Channel => format!("super::types::{name}"),
        }
    }

    /// A `&'static Schema` expression for `node`.
    fn print_ref(&mut self, node: &SchemaNode) -> String {
        match node {
            SchemaNode::Named(id) => format!("&{}", self.schema_static(*id)),
            _ => format!("&{}", self.print_expr(node)),
        }
    }

    /// A `Schema` value expression for `node`.
    fn print_expr(&mut self, node: &SchemaNode) -> String {
        let cg = self.cg;
        let refs = |builder: &mut Self, nodes: &[SchemaNode]| {
            nodes
                .iter()
                .map(|n| builder.print_ref(n))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match node {
            SchemaNode::Any => format!("{cg}::Schema::Any"),
            SchemaNode::Null => format!("{cg}::Schema::Null"),
            SchemaNode::Bool => format!("{cg}::Schema::Bool"),
            SchemaNode::Int(c) if !has_number_constraints(c) => format!("{cg}::Schema::INT"),
            SchemaNode::Int(c) => format!("{cg}::Schema::Int({})", self.number_constraints(c)),
            SchemaNode::Number(c) if !has_number_constraints(c) => {
                format!("{cg}::Schema::NUMBER")
            }
            SchemaNode::Number(c) => {
                format!("{cg}::Schema::Number({})", self.number_constraints(c))
            }
            SchemaNode::Str(c) if !has_str_constraints(c) => format!("{cg}::Schema::STR"),
            SchemaNode::Str(c) => format!("{cg}::Schema::Str({})", self.str_constraints(c)),
            SchemaNode::Uuid => format!("{cg}::Schema::Uuid"),
            SchemaNode::DateTime => format!("{cg}::Schema::DateTime"),
            SchemaNode::Date => format!("{cg}::Schema::Date"),
            SchemaNode::Time => format!("{cg}::Schema::Time"),
            SchemaNode::Const(json) => format!("{cg}::Schema::Const({})", str_lit(json)),
            SchemaNode::Literal(values) => {
                let values: Vec<String> = values.iter().map(|v| str_lit(v)).collect();
                format!("{cg}::Schema::Literal(&[{}])", values.join(", "))
            }
            SchemaNode::StrEnum { name, values } => {
                let values: Vec<String> = values.iter().map(|v| str_lit(v)).collect();
                format!(
                    "{cg}::Schema::StrEnum {{ name: {}, values: &[{}] }}",
                    str_lit(name),
                    values.join(", ")
                )
            }
            SchemaNode::IntEnum { name, values } => {
                let values: Vec<String> = values.iter().map(i64::to_string).collect();
                format!(
                    "{cg}::Schema::IntEnum {{ name: {}, values: &[{}] }}",
                    str_lit(name),
                    values.join(", ")
                )
            }
            SchemaNode::Array(item, c) => format!(
                "{cg}::Schema::Array({}, {})",
                self.print_ref(item),
                self.items_constraints(c)
            ),
            SchemaNode::Tuple(items) => format!("{cg}::Schema::Tuple(&[{}])", refs(self, items)),
            SchemaNode::Map(value) => format!("{cg}::Schema::Map({})", self.print_ref(value)),
            SchemaNode::Object(object) => {
                let fields: Vec<String> = object
                    .fields
                    .iter()
                    .map(|(name, required, schema)| {
                        let presence = if *required { "required" } else { "optional" };
                        format!(
                            "{cg}::FieldSchema::{presence}({}, {})",
                            str_lit(name),
                            self.print_ref(schema)
                        )
                    })
                    .collect();
                let kind = if object.deny_unknown {
                    "closed"
                } else {
                    "open"
                };
                let additional = match &object.additional {
                    Some(schema) => format!(".with_additional({})", self.print_ref(schema)),
                    None => String::new(),
                };
                format!(
                    "{cg}::Schema::Object(&{cg}::ObjectSchema::{kind}({}, &[{}]){additional})",
                    str_lit(&object.name),
                    fields.join(", "),
                )
            }
            SchemaNode::TaggedUnion { property, arms } => {
                let arms: Vec<String> = arms
                    .iter()
                    .map(|(tag, arm)| format!("({}, {})", str_lit(tag), self.print_ref(arm)))
                    .collect();
                format!(
                    "{cg}::Schema::TaggedUnion {{ property: {}, arms: &[{}] }}",
                    str_lit(property),
                    arms.join(", ")
                )
            }
            SchemaNode::Untagged(arms) => {
                format!("{cg}::Schema::Untagged(&[{}])", refs(self, arms))
            }
            SchemaNode::Nullable(inner) => {
                format!("{cg}::Schema::Nullable({})", self.print_ref(inner))
            }
            // A named type's schema as a value: a one-arm union that checks exactly as it does.
            SchemaNode::Named(id) => {
                format!("{cg}::Schema::Untagged(&[&{}])", self.schema_static(*id))
            }
        }
    }

    /// The view of one channel of the API.
    pub(crate) fn channel_view(&mut self, channel: &Channel) -> ChannelView {
        let base = &channel.rust_name;
        let mut items = Namespace::with_reserved(&[
            "ClientMessage",
            "ServerMessage",
            "Params",
            "ADDRESS",
            "RAW_ADDRESS",
            "CLIENT_TAGS",
        ]);
        let consumer = items.suggest(&format!("{base}Consumer"), "consumer");
        let dispatcher = items.suggest(&format!("{base}Dispatcher"), "dispatcher");
        let layer_client = items.suggest(&format!("{base}Layer"), "layer");

        let mut path_args = Vec::new();
        let (params, path_format) = match &channel.address {
            Some(address) => {
                let params = address
                    .parameters
                    .iter()
                    .map(|p| ParamView {
                        name: p.rust_name.clone(),
                        wire: str_lit(&p.name),
                        ty: match p.kind {
                            crate::ir::ParameterKind::Integer => "i64".to_owned(),
                            crate::ir::ParameterKind::Float => "f64".to_owned(),
                            crate::ir::ParameterKind::Uuid => format!("{}::uuid::Uuid", self.cg),
                            _ => "::std::string::String".to_owned(),
                        },
                        docs: p
                            .description
                            .as_deref()
                            .map(doc_lines)
                            .unwrap_or_else(|| doc_lines(&format!("`{}`.", p.name))),
                    })
                    .collect();
                let mut format = String::new();
                for segment in &address.segments {
                    match segment {
                        crate::ir::AddressSegment::Literal(text) => {
                            format.push_str(&text.replace('{', "{{").replace('}', "}}"))
                        }
                        crate::ir::AddressSegment::Parameter(i) => {
                            format.push_str("{}");
                            path_args.push(format!("self.{}", address.parameters[*i].rust_name));
                        }
                    }
                }
                (params, str_lit(&format))
            }
            None => (Vec::new(), String::new()),
        };

        let client = client_indexes(channel);
        let client_tagged = matches!(channel.client_dispatch, Dispatch::Tag { .. })
            && client
                .iter()
                .all(|&i| tags::is_tagged_struct(self.api, channel, i));
        let server_tagged = matches!(channel.server_dispatch, Dispatch::Tag { .. })
            && channel
                .server_messages
                .iter()
                .all(|&i| tags::is_tagged_struct(self.api, channel, i));
        let client_enum = self.message_enum(
            channel,
            "ClientMessage",
            "What a client sends on this channel.",
            &client,
            client_tagged.then_some(&channel.client_dispatch),
        );
        let server_enum = self.message_enum(
            channel,
            "ServerMessage",
            "What the server sends on this channel: replies and pushes.",
            &channel.server_messages,
            server_tagged.then_some(&channel.server_dispatch),
        );
        let tag_of = |dispatch: &Dispatch, tagged: bool| match (dispatch, tagged) {
            (Dispatch::Tag { property }, true) => str_lit(property),
            _ => String::new(),
        };
        let mut client_tags: Vec<String> = client
            .iter()
            .filter_map(|&i| channel.messages[i].tag.clone())
            .collect();
        client_tags.sort();
        client_tags.dedup();

        let mut wrapper_enums = Vec::new();
        let mut dispatched_tags = HashSet::new();
        let actions: Vec<ActionView> = channel
            .client_actions
            .iter()
            .map(|action| {
                let message = &channel.messages[action.message];
                let message_ty = self.message_type(channel, action.message);
                let (output, reply, reply_variant) = match action.replies.as_slice() {
                    [] => ("()".to_owned(), "none", String::new()),
                    [only] => (
                        // Channel files name no item like a prelude item (see `channel.rs.j2`).
                        format!("Option<{}>", self.message_type(channel, *only)),
                        "single",
                        channel.messages[*only].rust_name.clone(),
                    ),
                    several => {
                        let name = items.suggest(
                            &format!("{}Reply", naming::type_name(&action.method, "Action")),
                            &action.method,
                        );
                        let variants = several
                            .iter()
                            .map(|&i| VariantView {
                                name: channel.messages[i].rust_name.clone(),
                                attrs: Vec::new(),
                                ty: self.message_type(channel, i),
                                value: String::new(),
                                docs: doc_lines("A reply."),
                            })
                            .collect();
                        wrapper_enums.push(EnumView {
                            name: name.clone(),
                            docs: doc_lines(&format!(
                                "What `{}` may answer with.",
                                naming_bare(&action.method)
                            )),
                            attrs: Vec::new(),
                            variants,
                        });
                        (format!("Option<{name}>"), "enum", name)
                    }
                };
                let mut docs = Self::docs(&action.docs);
                if docs.is_empty() {
                    docs = doc_lines(&format!(
                        "Handles `{}` (operation `{}`).",
                        message.tag.as_deref().unwrap_or(&message.key),
                        action.operation
                    ));
                }
                let dispatchable = match &message.tag {
                    Some(tag) => dispatched_tags.insert(tag.clone()),
                    None => true,
                };
                let tag = client_tagged.then_some(message.tag.as_deref()).flatten();
                let property = match &channel.client_dispatch {
                    Dispatch::Tag { property } => property.as_str(),
                    _ => "",
                };
                let sample = self
                    .frame_sample(channel, action.message, tag, property)
                    .map(|frame| str_lit(&frame.to_string()))
                    .unwrap_or_default();
                let reply_tags = action
                    .replies
                    .iter()
                    .filter_map(|&i| channel.messages[i].tag.as_deref())
                    .map(str_lit)
                    .collect();
                let reply_frames = action
                    .replies
                    .iter()
                    .filter_map(|&i| self.server_frame(channel, i, server_tagged))
                    .collect();
                ActionView {
                    sample,
                    reply_tags,
                    reply_frames,
                    schema_node: self.message_node(channel, action.message),
                    tag_value: tag.map(str::to_owned),
                    dispatchable,
                    method: action.method.clone(),
                    docs,
                    message_ty,
                    tag: message.tag.as_deref().map(str_lit).unwrap_or_default(),
                    schema: self.message_schema(channel, action.message),
                    output,
                    reply,
                    reply_variant,
                    variant: message.rust_name.clone(),
                }
            })
            .collect();
        let has_samples = actions.iter().any(|a| !a.sample.is_empty());
        let events = channel
            .server_events
            .iter()
            .map(|event| {
                let single = event.messages.len() == 1;
                let event_ty = if single {
                    self.message_type(channel, event.messages[0])
                } else {
                    items.suggest(
                        &format!("{}Event", naming::type_name(&event.method, "Event")),
                        &event.method,
                    )
                };
                let arms: Vec<EventArmView> = event
                    .messages
                    .iter()
                    .map(|&i| {
                        let message = &channel.messages[i];
                        EventArmView {
                            tag: message.tag.as_deref().map(str_lit).unwrap_or_default(),
                            ty: self.message_type(channel, i),
                            argument: if single {
                                "event".to_owned()
                            } else {
                                format!("{event_ty}::{}(event)", message.rust_name)
                            },
                        }
                    })
                    .collect();
                let forward = if single {
                    format!(
                        "ServerMessage::{}(out)",
                        channel.messages[event.messages[0]].rust_name
                    )
                } else {
                    wrapper_enums.push(EnumView {
                        name: event_ty.clone(),
                        docs: doc_lines(&format!(
                            "The events `{}` handles.",
                            naming_bare(&event.method)
                        )),
                        attrs: Vec::new(),
                        variants: event
                            .messages
                            .iter()
                            .map(|&i| VariantView {
                                name: channel.messages[i].rust_name.clone(),
                                attrs: Vec::new(),
                                ty: self.message_type(channel, i),
                                value: String::new(),
                                docs: doc_lines("An event."),
                            })
                            .collect(),
                    });
                    "ServerMessage::from(out)".to_owned()
                };
                let mut docs = Self::docs(&event.docs);
                if docs.is_empty() {
                    docs = doc_lines(&format!(
                        "Forwards `{}` events to the client (operation `{}`); override to change it.",
                        event.method.trim_start_matches("r#"),
                        event.operation
                    ));
                }
                EventView {
                    method: event.method.clone(),
                    docs,
                    event_ty,
                    arms,
                    forward,
                }
            })
            .collect();
        ChannelView {
            module: channel.module_name.clone(),
            module_bare: naming_bare(&channel.module_name).to_owned(),
            key: str_lit(&channel.key),
            docs: {
                let mut docs = doc_lines(&format!("Channel `{}`.", channel.key));
                let more = Self::docs(&channel.docs);
                if !more.is_empty() {
                    docs.push(str_lit(""));
                    docs.extend(more);
                }
                docs
            },
            address: channel
                .address
                .as_ref()
                .map(|a| str_lit(&a.template))
                .unwrap_or_default(),
            raw_address: channel
                .address
                .as_ref()
                .map(|a| str_lit(&a.raw))
                .unwrap_or_default(),
            params,
            path_format,
            path_args,
            consumer,
            dispatcher,
            layer_client,
            client_tag: tag_of(&channel.client_dispatch, client_tagged),
            client_tags: client_tags.iter().map(|t| str_lit(t)).collect(),
            server_tag: tag_of(&channel.server_dispatch, server_tagged),
            client_enum,
            server_enum,
            actions,
            events,
            wrapper_enums,
            security: channel.security.iter().map(|s| str_lit(s)).collect(),
            security_schemes: channel
                .security
                .iter()
                .map(|key| self.security_scheme(key))
                .collect(),
            contract_tests: self.contract_tests(channel, client_tagged, server_tagged),
            has_samples,
            client_tag_property: match (&channel.client_dispatch, client_tagged) {
                (Dispatch::Tag { property }, true) => property.clone(),
                _ => String::new(),
            },
            server_frames: channel
                .server_messages
                .iter()
                .filter_map(|&i| {
                    let frame = self.server_frame(channel, i, server_tagged)?;
                    Some((channel.messages[i].key.clone(), frame))
                })
                .collect(),
        }
    }

    /// The `SecurityScheme` expression for the scheme with `key` (a scheme the spec does not define,
    /// which validation reports, reads as an unknown kind).
    fn security_scheme(&self, key: &str) -> String {
        let cg = &self.cg;
        let source = match self.api.security_schemes.iter().find(|s| s.key == key) {
            Some(scheme) => match &scheme.credential {
                Credential::Query { name } => format!("Query({})", str_lit(name)),
                Credential::Header { name } => format!("Header({})", str_lit(name)),
                Credential::Cookie { name } => format!("Cookie({})", str_lit(name)),
                Credential::Bearer => "Bearer".to_owned(),
                Credential::Basic => "Basic".to_owned(),
                Credential::Other { kind } => format!("Other({})", str_lit(kind)),
            },
            None => format!("Other({})", str_lit("unknown")),
        };
        format!(
            "{cg}::SecurityScheme {{ key: {}, source: {cg}::CredentialSource::{source} }}",
            str_lit(key)
        )
    }

    /// Contract tests for every message of the channel: its examples, a valid sample, and an invalid
    /// sample (a required field removed) where one can be built.
    fn contract_tests(
        &mut self,
        channel: &Channel,
        client_tagged: bool,
        server_tagged: bool,
    ) -> Vec<ContractTest> {
        let client = client_indexes(channel);
        let mut names = Namespace::new();
        let mut tests = Vec::new();
        for (index, message) in channel.messages.iter().enumerate() {
            let Some(payload) = &message.payload else {
                continue;
            };
            let tagged = (client.contains(&index) && client_tagged)
                || (channel.server_messages.contains(&index) && server_tagged);
            let tag = match (tagged, &message.tag) {
                (true, Some(tag)) => Some(tag.clone()),
                _ => None,
            };
            let property = match (&channel.client_dispatch, &channel.server_dispatch) {
                (Dispatch::Tag { property }, _) if client.contains(&index) => property.clone(),
                (_, Dispatch::Tag { property }) => property.clone(),
                _ => String::new(),
            };
            let ty = self.message_type(channel, index);
            let schema = self.message_schema(channel, index);
            let tag_lit = str_lit(tag.as_deref().unwrap_or_default());
            let base = format!("{} {}", channel.key, message.key);
            let mut push = |tests: &mut Vec<ContractTest>,
                            suffix: &str,
                            check,
                            json: &Value,
                            error: String| {
                let name = naming::snake_name(&format!("{base} {suffix}"), "contract");
                let name = names.suggest(naming_bare(&name), suffix);
                tests.push(ContractTest {
                    name,
                    check,
                    ty: ty.clone(),
                    json: str_lit(&json.to_string()),
                    tag: tag_lit.clone(),
                    schema: schema.clone(),
                    error,
                });
            };
            for (i, example) in message.examples.iter().enumerate() {
                if let Some(json) = &example.payload {
                    let before = tests.len();
                    push(
                        &mut tests,
                        &format!("example_{i}"),
                        "example",
                        json,
                        String::new(),
                    );
                    // An example is the payload alone: what may be missing is the tag property.
                    tests[before].tag = str_lit(if tag.is_some() { &property } else { "" });
                }
            }
            // Frames are JSON objects; other payloads have no frame sample.
            let Some(mut sample) = self.sample(payload, 0).filter(Value::is_object) else {
                continue;
            };
            if let (Some(tag), Value::Object(map)) = (&tag, &mut sample) {
                map.insert(property.clone(), Value::String(tag.clone()));
            }
            let sample = sample;
            push(
                &mut tests,
                "valid_sample",
                "valid_sample",
                &sample,
                String::new(),
            );
            if let Some((field, broken)) = self.without_required_field(payload, &sample, &property)
            {
                let mut loc: Vec<String> = tag.iter().map(|t| str_lit(t)).collect();
                loc.push(str_lit(&field));
                let error = format!(", \"missing\", &[{}]", loc.join(", "));
                push(
                    &mut tests,
                    "missing_field",
                    "invalid_sample",
                    &broken,
                    error,
                );
            }
        }
        tests
    }

    /// A frame for message `index`: its first example that is an object, else a generated sample, with
    /// `tag` set in `property`.
    fn frame_sample(
        &self,
        channel: &Channel,
        index: usize,
        tag: Option<&str>,
        property: &str,
    ) -> Option<Value> {
        let message = &channel.messages[index];
        let example = message
            .examples
            .iter()
            .find_map(|e| e.payload.clone().filter(Value::is_object));
        let mut frame = match example {
            Some(example) => example,
            None => self.sample(message.payload.as_ref()?, 0)?,
        };
        if let (Some(tag), Value::Object(map)) = (tag, &mut frame) {
            map.insert(property.to_owned(), Value::String(tag.to_owned()));
        }
        frame.is_object().then_some(frame)
    }

    /// A JSON value that `ty` accepts and that passes its constraints, or `None` when none can be
    /// built safely (a `pattern`, a required cycle).
    fn sample(&self, ty: &Ty, depth: usize) -> Option<Value> {
        if depth > 24 {
            return None;
        }
        let c = &ty.constraints;
        Some(match &ty.kind {
            TyKind::Named(id) => match &self.api.type_def(*id).kind {
                TypeKind::Struct { fields, .. } => {
                    let mut map = serde_json::Map::new();
                    for field in fields.iter().filter(|f| f.required) {
                        map.insert(field.wire_name.clone(), self.sample(&field.ty, depth + 1)?);
                    }
                    Value::Object(map)
                }
                TypeKind::StringEnum { variants } => Value::String(variants.first()?.value.clone()),
                TypeKind::IntegerEnum { variants } => Value::from(variants.first()?.value),
                TypeKind::Union { variants, tagging } => {
                    let first = variants.first()?;
                    let mut value = self.sample(&first.ty, depth + 1)?;
                    if let (Tagging::Internal { property }, Some(tag), Value::Object(map)) =
                        (tagging, &first.tag, &mut value)
                    {
                        map.insert(property.clone(), Value::String(tag.clone()));
                    }
                    value
                }
                TypeKind::Alias { target } => self.sample(target, depth + 1)?,
            },
            TyKind::String(_) if c.pattern.is_some() => return None,
            TyKind::String(StringFormat::DateTime) => Value::from("2026-01-02T03:04:05Z"),
            TyKind::String(StringFormat::Date) => Value::from("2026-01-02"),
            TyKind::String(StringFormat::Time) => Value::from("03:04:05"),
            TyKind::String(StringFormat::Uuid) => {
                Value::from("00000000-0000-4000-8000-000000000000")
            }
            TyKind::String(_) => {
                let length = c
                    .min_length
                    .unwrap_or(1)
                    .max(1)
                    .min(c.max_length.unwrap_or(1).max(1));
                Value::from("a".repeat(length as usize))
            }
            TyKind::Integer(_) | TyKind::Number => {
                let low = c.minimum.or(c.exclusive_minimum.map(|v| v.floor() + 1.0));
                let high = c.maximum.or(c.exclusive_maximum.map(|v| v.ceil() - 1.0));
                let mut value = low.unwrap_or(0.0_f64.min(high.unwrap_or(0.0))).ceil();
                if let Some(step) = c.multiple_of.filter(|s| *s > 0.0) {
                    value = (value / step).ceil() * step;
                }
                if high.is_some_and(|h| value > h) {
                    return None;
                }
                if matches!(ty.kind, TyKind::Integer(_)) {
                    Value::from(value as i64)
                } else {
                    serde_json::Number::from_f64(value).map(Value::Number)?
                }
            }
            TyKind::Boolean => Value::Bool(false),
            TyKind::Null | TyKind::Any => Value::Null,
            TyKind::Array(item) => {
                let count = c.min_items.unwrap_or(0);
                if count > 16 {
                    return None;
                }
                let item = if count > 0 {
                    Some(self.sample(item, depth + 1)?)
                } else {
                    None
                };
                Value::Array(item.into_iter().cycle().take(count as usize).collect())
            }
            TyKind::Tuple(items) => Value::Array(
                items
                    .iter()
                    .map(|t| self.sample(t, depth + 1))
                    .collect::<Option<Vec<_>>>()?,
            ),
            TyKind::Map(_) => Value::Object(serde_json::Map::new()),
            TyKind::Const(value) => value.clone(),
        })
    }

    /// The sample with one required field (not the tag) removed, and that field's name.
    fn without_required_field(
        &self,
        ty: &Ty,
        sample: &Value,
        tag_property: &str,
    ) -> Option<(String, Value)> {
        let TyKind::Named(id) = ty.kind else {
            return None;
        };
        let TypeKind::Struct { fields, .. } = &self.api.type_def(id).kind else {
            return None;
        };
        let field = fields
            .iter()
            .find(|f| f.required && f.wire_name != tag_property && !f.ty.nullable)?;
        let mut broken = sample.clone();
        broken.as_object_mut()?.remove(&field.wire_name);
        Some((field.wire_name.clone(), broken))
    }

    /// The Rust type of a message's payload, seen from a channel module.
    fn message_type(&self, channel: &Channel, index: usize) -> String {
        match &channel.messages[index].payload {
            Some(ty) => self.rust_type(ty, Scope::Channel),
            None => format!("{}::serde_json::Value", self.cg),
        }
    }

    fn message_schema(&mut self, channel: &Channel, index: usize) -> String {
        self.scope = Scope::Channel;
        let node = self.message_node(channel, index);
        let schema = self.print_ref(&node);
        self.scope = Scope::Types;
        schema
    }

    /// The schema of a message's frames (its payload's; anything when it has none).
    fn message_node(&self, channel: &Channel, index: usize) -> SchemaNode {
        match &channel.messages[index].payload {
            Some(ty) => self.node_ref(ty),
            None => SchemaNode::Any,
        }
    }

    /// A frame of the server message `index` (its example, else a sample), tagged when the
    /// server side is.
    fn server_frame(&self, channel: &Channel, index: usize, server_tagged: bool) -> Option<Value> {
        let property = match &channel.server_dispatch {
            Dispatch::Tag { property } => property.as_str(),
            _ => "",
        };
        let tag = server_tagged
            .then_some(channel.messages[index].tag.as_deref())
            .flatten();
        self.frame_sample(channel, index, tag, property)
    }

    fn message_enum(
        &self,
        channel: &Channel,
        name: &str,
        doc: &str,
        indexes: &[usize],
        tagged: Option<&Dispatch>,
    ) -> EnumView {
        let mut attrs = Vec::new();
        match tagged {
            Some(Dispatch::Tag { property }) => {
                attrs.push(format!("#[serde(tag = {})]", str_lit(property)));
            }
            _ => attrs.push("#[serde(untagged)]".to_owned()),
        }
        let mut seen = HashSet::new();
        let variants = indexes
            .iter()
            .map(|&i| {
                let message = &channel.messages[i];
                let mut attrs = Vec::new();
                if let (Some(_), Some(tag)) = (tagged, &message.tag) {
                    if seen.insert(tag.clone()) {
                        attrs.push(format!("#[serde(rename = {})]", str_lit(tag)));
                    } else {
                        // A second message with the same tag (a `duplicate-action` warning): it
                        // encodes with the tag, but frames with the tag decode as the first one.
                        attrs.push(format!(
                            "#[serde(rename(serialize = {}, deserialize = {}))]",
                            str_lit(tag),
                            str_lit(&format!("{tag}#{}", message.rust_name))
                        ));
                    }
                }
                VariantView {
                    name: message.rust_name.clone(),
                    attrs,
                    ty: self.message_type(channel, i),
                    value: String::new(),
                    docs: Self::docs(&message.docs),
                }
            })
            .collect();
        EnumView {
            name: name.to_owned(),
            docs: doc_lines(doc),
            attrs,
            variants,
        }
    }
}

fn naming_bare(name: &str) -> &str {
    name.strip_prefix("r#").unwrap_or(name)
}

fn origin_name(def: &TypeDef) -> String {
    def.origin
        .rsplit('/')
        .next()
        .unwrap_or(&def.rust_name)
        .replace("~1", "/")
        .replace("~0", "~")
}

fn const_base_type(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "::std::string::String",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "i64",
        Value::Number(_) => "f64",
        _ => "::chanx_runtime::__codegen::serde_json::Value",
    }
}

/// The literal a const compares against, and pydantic's message when it differs.
fn const_check(value: &Value) -> (String, String) {
    match value {
        Value::String(s) => (str_lit(s), format!("Input should be '{s}'")),
        Value::Bool(b) => (
            b.to_string(),
            format!("Input should be {}", if *b { "True" } else { "False" }),
        ),
        Value::Number(n) if n.is_i64() => (format!("{n}i64"), format!("Input should be {n}")),
        Value::Number(n) => (
            f64_lit(n.as_f64().unwrap_or_default()),
            format!("Input should be {n}"),
        ),
        other => (
            "::chanx_runtime::__codegen::serde_json::Value::Null".to_owned(),
            format!("Input should be {other}"),
        ),
    }
}

/// Whether `origin` (`file#pointer`) is a component schema itself (`#/components/schemas/X`), not
/// a schema nested in one: Chanx writes Python `Enum` classes as components and `Literal[...]`
/// fields inline.
fn is_component_schema(origin: &str) -> bool {
    origin
        .split_once("#/components/schemas/")
        .is_some_and(|(_, name)| !name.is_empty() && !name.contains('/'))
}

/// A bound as pydantic prints it in messages (`1`, `1.5`, `0.0000001`), which is Rust's `{}`.
pub(crate) fn python_number(value: f64) -> String {
    format!("{value}")
}

/// `kind::NONE` (`StrConstraints`, ...) followed by the const builder calls in `set`
/// (`.minimum(0.0, "0")`, ...).
fn constraints_expr(cg: &str, kind: &str, set: &[String]) -> String {
    let mut expr = format!("{cg}::{kind}::NONE");
    for call in set {
        expr.push('.');
        expr.push_str(call);
    }
    expr
}

/// Whether a value of type `ty` is checked only by the `Validate` impls of the named types in it:
/// a named type, possibly nullable, or a list of such without list constraints.
fn only_named_checks(ty: &Ty) -> bool {
    match &ty.kind {
        TyKind::Named(_) => true,
        TyKind::Array(item) => !has_items_constraints(&ty.constraints) && only_named_checks(item),
        _ => false,
    }
}

fn has_str_constraints(c: &Constraints) -> bool {
    c.min_length.is_some() || c.max_length.is_some() || c.pattern.is_some()
}

fn has_number_constraints(c: &Constraints) -> bool {
    c.minimum.is_some()
        || c.maximum.is_some()
        || c.exclusive_minimum.is_some()
        || c.exclusive_maximum.is_some()
        || c.multiple_of.is_some()
}

fn has_items_constraints(c: &Constraints) -> bool {
    c.min_items.is_some() || c.max_items.is_some() || c.unique_items
}

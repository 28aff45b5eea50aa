//! Reading the API back from Rust code in the generated shape, with syn.
//!
//! The code is read as serde reads it: a struct's fields with their `rename`, `rename_all`,
//! `default`, `skip`, `flatten` and `deserialize_with` attributes give the wire names and which keys
//! are required; container attributes (`tag`, `untagged`, `deny_unknown_fields`, `transparent`,
//! `try_from`) give the kind of type. The Rust type of a field gives its type. What Rust types cannot
//! say (constraints, `null` as opposed to a missing key, `const` values) is read from the type's
//! static `Schema` (the one the decoder validates with); each struct's `Validate` impl is compared
//! with that static, field by field. Channel modules give the key, the address,
//! the parameters (`Params`), the message enums and the consumer trait (handlers, their message
//! types and reply types); the dispatcher's bodies tell apart messages that share a payload type.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use syn::spanned::Spanned;

use crate::ir::{Constraints, IntegerFormat, ParameterKind, StringFormat, Ty, TyKind, TypeId};
use crate::wire::{
    Model, Site, WAction, WArm, WChannel, WEvent, WField, WMessage, WParam, WType, WTypeKind,
};

/// Something in the code that could not be read as the generated shape.
#[derive(Debug, Clone)]
pub struct Problem {
    /// What.
    pub message: String,
    /// Where.
    pub site: Site,
    /// A file that does not parse (as opposed to an item that is not understood).
    pub unparsable: bool,
}

/// The model read from a folder, with what could not be read.
#[derive(Debug, Default)]
pub struct Extracted {
    /// The model.
    pub model: Model,
    /// Problems met on the way.
    pub problems: Vec<Problem>,
}

/// A parsed Rust file and its display name.
struct Parsed {
    name: String,
    text: String,
    file: syn::File,
}

fn site_of(name: &str, span: proc_macro2::Span) -> Site {
    let start = span.start();
    Site {
        file: name.to_owned(),
        line: start.line,
        column: start.column + 1,
    }
}

fn parse(dir: &Path, file: &str, problems: &mut Vec<Problem>) -> Option<Parsed> {
    let path: PathBuf = dir.join(file);
    let name = path.display().to_string();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => {
            problems.push(Problem {
                message: format!("cannot read {name}: {error}"),
                site: Site {
                    file: name,
                    line: 1,
                    column: 1,
                },
                unparsable: true,
            });
            return None;
        }
    };
    match syn::parse_file(&text) {
        Ok(file) => Some(Parsed { name, text, file }),
        Err(error) => {
            problems.push(Problem {
                message: format!("{name} is not valid Rust: {error}"),
                site: site_of(&name, error.span()),
                unparsable: true,
            });
            None
        }
    }
}

/// Reads the generated module in `dir` (`mod.rs`, `types.rs`, and the channel files `mod.rs` names).
pub fn extract_dir(dir: &Path) -> Extracted {
    let mut problems = Vec::new();
    let mut model = Model::default();
    let Some(root) = parse(dir, "mod.rs", &mut problems) else {
        return Extracted { model, problems };
    };
    let mut modules = Vec::new();
    for item in &root.file.items {
        match item {
            syn::Item::Const(c) if c.ident == "TITLE" => {
                model.title = str_value(&c.expr).unwrap_or_default();
                model.site = Some(site_of(&root.name, c.ident.span()));
            }
            syn::Item::Const(c) if c.ident == "VERSION" => {
                model.version = str_value(&c.expr).unwrap_or_default();
            }
            syn::Item::Mod(m) if m.content.is_none() && is_pub(&m.vis) => {
                let name = unraw(&m.ident.to_string());
                if name != "types" {
                    modules.push(name);
                }
            }
            _ => {}
        }
    }
    let mut reader = Reader {
        problems,
        names: HashMap::new(),
        statics: HashMap::new(),
        patterns: HashMap::new(),
        types: Vec::new(),
    };
    if let Some(types) = parse(dir, "types.rs", &mut reader.problems) {
        reader.types_file(&types);
    }
    for module in modules {
        let file = format!("{module}.rs");
        if !dir.join(&file).exists() {
            continue;
        }
        if let Some(parsed) = parse(dir, &file, &mut reader.problems) {
            if let Some(channel) = reader.channel_file(&parsed, &module) {
                model.channels.push(channel);
            }
        }
    }
    model.types = reader.types;
    Extracted {
        model,
        problems: reader.problems,
    }
}

struct Reader {
    problems: Vec<Problem>,
    /// Type name to id.
    names: HashMap<String, TypeId>,
    /// Type name to its schema static's value.
    statics: HashMap<String, syn::Expr>,
    /// Pattern static name to its source.
    patterns: HashMap<String, String>,
    types: Vec<WType>,
}

/// The serde attributes of an item, flattened: (`name`, value) pairs; flags have an empty value.
fn serde_attrs(attrs: &[syn::Attribute]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("serde") {
            continue;
        }
        let _ = attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            if meta.input.peek(syn::Token![=]) {
                let lit: syn::LitStr = meta.value()?.parse()?;
                out.push((key, lit.value()));
            } else if meta.input.peek(syn::token::Paren) {
                // rename(serialize = "..", deserialize = "..")): what is read counts.
                meta.parse_nested_meta(|inner| {
                    let lit: syn::LitStr = inner.value()?.parse()?;
                    if inner.path.is_ident("deserialize") {
                        out.push((key.clone(), lit.value()));
                    }
                    Ok(())
                })?;
            } else {
                out.push((key, String::new()));
            }
            Ok(())
        });
    }
    out
}

fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn doc_text(attrs: &[syn::Attribute]) -> String {
    let mut text = String::new();
    for attr in attrs {
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if nv.path.is_ident("doc") {
                if let Some(s) = str_value(&nv.value) {
                    text.push_str(&s);
                }
            }
        }
    }
    text
}

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

fn unraw(name: &str) -> String {
    name.trim_start_matches("r#").to_owned()
}

fn str_value(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        syn::Expr::Reference(r) => str_value(&r.expr),
        syn::Expr::Group(g) => str_value(&g.expr),
        _ => None,
    }
}

/// serde's `rename_all` conversions for the cases serde supports.
fn rename_all(rule: &str, name: &str) -> String {
    use heck::{
        ToKebabCase, ToLowerCamelCase, ToPascalCase, ToShoutyKebabCase, ToShoutySnakeCase,
        ToSnakeCase,
    };
    match rule {
        "lowercase" => name.to_lowercase(),
        "UPPERCASE" => name.to_uppercase(),
        "PascalCase" => name.to_pascal_case(),
        "camelCase" => name.to_lower_camel_case(),
        "snake_case" => name.to_snake_case(),
        "SCREAMING_SNAKE_CASE" => name.to_shouty_snake_case(),
        "kebab-case" => name.to_kebab_case(),
        "SCREAMING-KEBAB-CASE" => name.to_shouty_kebab_case(),
        _ => name.to_owned(),
    }
}

/// The last segment of a path type, with its generic arguments.
fn last_segment(ty: &syn::Type) -> Option<(&syn::PathSegment, bool)> {
    match ty {
        syn::Type::Path(p) => {
            let local = p.path.segments.len() == 1
                || p.path
                    .segments
                    .iter()
                    .any(|s| s.ident == "super" || s.ident == "types");
            p.path.segments.last().map(|s| (s, local))
        }
        syn::Type::Group(g) => last_segment(&g.elem),
        syn::Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

fn generic_args(segment: &syn::PathSegment) -> Vec<&syn::Type> {
    match &segment.arguments {
        syn::PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `Option<T>` gives `T`.
fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    let (segment, _) = last_segment(ty)?;
    if segment.ident == "Option" {
        generic_args(segment).first().copied()
    } else {
        None
    }
}

/// The path a schema expression names, last segment first: `Schema::Str(..)` gives `Str`.
fn call_name(expr: &syn::Expr) -> Option<(String, Vec<&syn::Expr>)> {
    match expr {
        syn::Expr::Reference(r) => call_name(&r.expr),
        syn::Expr::Group(g) => call_name(&g.expr),
        syn::Expr::Paren(p) => call_name(&p.expr),
        syn::Expr::Call(c) => {
            let syn::Expr::Path(p) = &*c.func else {
                return None;
            };
            let name = p.path.segments.last()?.ident.to_string();
            Some((name, c.args.iter().collect()))
        }
        syn::Expr::Path(p) => Some((p.path.segments.last()?.ident.to_string(), Vec::new())),
        syn::Expr::Struct(s) => Some((
            s.path.segments.last()?.ident.to_string(),
            s.fields.iter().map(|f| &f.expr).collect(),
        )),
        _ => None,
    }
}

/// The `ObjectSchema` expression of an object's schema (`Schema::Object(&..)`).
fn object_schema(schema: &syn::Expr) -> Option<&syn::Expr> {
    match call_name(schema)? {
        (name, args) if name == "Object" => args.first().copied(),
        _ => None,
    }
}

/// The fields array and the additional-properties schema of an `ObjectSchema` expression:
/// `ObjectSchema::open(name, &[..])` (or `closed`), possibly `.with_additional(&schema)`, or the
/// struct literal of earlier versions.
fn object_parts(object: &syn::Expr) -> (Option<&syn::Expr>, Option<&syn::Expr>) {
    match object {
        syn::Expr::Reference(r) => object_parts(&r.expr),
        syn::Expr::Paren(p) => object_parts(&p.expr),
        syn::Expr::MethodCall(call) if call.method == "with_additional" => {
            (object_parts(&call.receiver).0, call.args.first())
        }
        syn::Expr::Struct(_) => {
            let parts = struct_fields(object);
            let get = |k: &str| parts.iter().find(|(n, _)| n == k).map(|(_, e)| *e);
            (get("fields"), get("additional").and_then(some))
        }
        _ => match call_name(object) {
            Some((_, args)) => (args.get(1).copied(), None),
            None => (None, None),
        },
    }
}

/// The properties of an object's schema: (wire name, required, schema) each, from
/// `FieldSchema::required(name, &schema)` / `optional(..)` calls or earlier versions' literals.
fn object_fields(schema: &syn::Expr) -> Vec<(String, bool, syn::Expr)> {
    let Some(fields) = object_schema(schema).and_then(|object| object_parts(object).0) else {
        return Vec::new();
    };
    array_items(fields)
        .into_iter()
        .filter_map(|field| {
            if let syn::Expr::Struct(_) = field {
                let parts = struct_fields(field);
                let get = |k: &str| parts.iter().find(|(n, _)| n == k).map(|(_, e)| *e);
                return Some((
                    get("name").and_then(str_value)?,
                    get("required").and_then(bool_value).unwrap_or(false),
                    get("schema")?.clone(),
                ));
            }
            let (presence, args) = call_name(field)?;
            Some((
                args.first().copied().and_then(str_value)?,
                presence == "required",
                (*args.get(1)?).clone(),
            ))
        })
        .collect()
}

fn struct_fields(expr: &syn::Expr) -> Vec<(String, &syn::Expr)> {
    match expr {
        syn::Expr::Reference(r) => struct_fields(&r.expr),
        syn::Expr::Struct(s) => s
            .fields
            .iter()
            .filter_map(|f| match &f.member {
                syn::Member::Named(i) => Some((i.to_string(), &f.expr)),
                syn::Member::Unnamed(_) => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn array_items(expr: &syn::Expr) -> Vec<&syn::Expr> {
    match expr {
        syn::Expr::Reference(r) => array_items(&r.expr),
        syn::Expr::Array(a) => a.elems.iter().collect(),
        _ => Vec::new(),
    }
}

/// `Option::Some(x)` gives `Some(x)`, `Option::None` gives `None`.
fn some(expr: &syn::Expr) -> Option<&syn::Expr> {
    match call_name(expr) {
        Some((name, args)) if name == "Some" => args.first().copied(),
        _ => None,
    }
}

fn u64_value(expr: &syn::Expr) -> Option<u64> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse().ok(),
        _ => None,
    }
}

fn i64_value(expr: &syn::Expr) -> Option<i64> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse().ok(),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => i64_value(&u.expr).map(|v| -v),
        syn::Expr::Group(g) => i64_value(&g.expr),
        _ => None,
    }
}

fn f64_value(expr: &syn::Expr) -> Option<f64> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(f),
            ..
        }) => f.base10_parse().ok(),
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse().ok(),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => f64_value(&u.expr).map(|v| -v),
        syn::Expr::Group(g) => f64_value(&g.expr),
        _ => None,
    }
}

fn bool_value(expr: &syn::Expr) -> Option<bool> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Bool(b),
            ..
        }) => Some(b.value),
        _ => None,
    }
}

impl Reader {
    fn types_file(&mut self, parsed: &Parsed) {
        // First the names (types refer to each other in any order), the statics and the patterns.
        for item in &parsed.file.items {
            match item {
                syn::Item::Struct(s) if is_pub(&s.vis) => {
                    self.declare(&s.ident, &parsed.name);
                }
                syn::Item::Enum(e) if is_pub(&e.vis) => {
                    self.declare(&e.ident, &parsed.name);
                }
                syn::Item::Static(s) => {
                    let name = s.ident.to_string();
                    if name.starts_with("PATTERN_") {
                        if let Some((_, args)) = call_name(&s.expr) {
                            if let Some(source) = args.first().and_then(|a| str_value(a)) {
                                self.patterns.insert(name, source);
                            }
                        }
                    } else if name.ends_with("_SCHEMA") {
                        let doc = doc_text(&s.attrs);
                        if let Some(type_name) = doc
                            .split("[`")
                            .nth(1)
                            .and_then(|rest| rest.split('`').next())
                        {
                            self.statics.insert(type_name.to_owned(), (*s.expr).clone());
                        }
                    }
                }
                _ => {}
            }
        }
        let int_values = int_enum_values(&parsed.file);
        for item in &parsed.file.items {
            match item {
                syn::Item::Struct(s) if is_pub(&s.vis) => {
                    let kind = self.struct_kind(s, &parsed.name);
                    self.define(&s.ident, kind);
                }
                syn::Item::Enum(e) if is_pub(&e.vis) => {
                    let kind = self.enum_kind(e, &parsed.name, &int_values);
                    self.define(&e.ident, kind);
                }
                syn::Item::Impl(imp) => self.validate_impl(imp, &parsed.name),
                _ => {}
            }
        }
    }

    /// Compares the constraints a struct's `Validate` impl checks (the fast path) with those of its
    /// schema static (the slow path), field by field; a difference is a problem (someone edited one).
    fn validate_impl(&mut self, imp: &syn::ItemImpl, file: &str) {
        let is_validate = imp
            .trait_
            .as_ref()
            .and_then(|(path, _)| path.segments.last())
            .is_some_and(|s| s.ident == "Validate");
        let Some((target, _)) = last_segment(&imp.self_ty).filter(|_| is_validate) else {
            return;
        };
        let name = target.ident.to_string();
        let Some(id) = self.names.get(&name).copied() else {
            return;
        };
        let Some(schema) = self.statics.get(&name).cloned() else {
            return;
        };
        let static_fields: Vec<(String, syn::Expr)> = object_fields(&schema)
            .into_iter()
            .map(|(name, _, schema)| (name, schema))
            .collect();
        // The checks of each key: the statements between `errors.push_key("k")` and `errors.pop()`.
        let mut checked: HashMap<String, Vec<String>> = HashMap::new();
        for item in &imp.items {
            let syn::ImplItem::Fn(f) = item else { continue };
            let mut key: Option<String> = None;
            let mut depth = 0usize;
            for stmt in &f.block.stmts {
                let call = match stmt {
                    syn::Stmt::Expr(syn::Expr::MethodCall(call), _) => Some(call),
                    _ => None,
                };
                match call.map(|c| c.method.to_string()).as_deref() {
                    Some("push_key" | "push_index") => {
                        if depth == 0 {
                            key = call.and_then(|c| c.args.first()).and_then(str_value);
                        }
                        depth += 1;
                        continue;
                    }
                    Some("pop") => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            key = None;
                        }
                        continue;
                    }
                    _ => {}
                }
                if let Some(key) = &key {
                    let mut found = ConstraintLiterals::default();
                    syn::visit::Visit::visit_stmt(&mut found, stmt);
                    checked
                        .entry(key.clone())
                        .or_default()
                        .extend(self.describe_all(&found.0));
                }
            }
        }
        for (wire, schema) in static_fields {
            let mut found = ConstraintLiterals::default();
            syn::visit::Visit::visit_expr(&mut found, &schema);
            let mut expected = self.describe_all(&found.0);
            let mut actual = checked.remove(&wire).unwrap_or_default();
            expected.sort();
            actual.sort();
            if expected != actual {
                let site = match &self.types[id.0].kind {
                    WTypeKind::Struct { fields, .. } => fields
                        .iter()
                        .find(|f| f.wire_name == wire)
                        .and_then(|f| f.site.clone()),
                    _ => None,
                };
                self.problems.push(Problem {
                    message: format!(
                        "the `Validate` impl of `{name}` checks `{wire}` with [{}], its schema static with [{}]",
                        actual.join("; "),
                        expected.join("; ")
                    ),
                    site: site.unwrap_or_else(|| site_of(file, imp.impl_token.span)),
                    unparsable: false,
                });
            }
        }
    }

    /// Each constraint literal as text (`maxLength 2000`, ...), in a stable form.
    fn describe_all(&self, literals: &[(String, syn::Expr)]) -> Vec<String> {
        literals
            .iter()
            .map(|(kind, expr)| {
                let mut c = Constraints::default();
                match kind.as_str() {
                    "StrConstraints" => self.str_constraints(Some(expr), &mut c),
                    "NumberConstraints" => number_constraints(Some(expr), &mut c),
                    _ => items_constraints(Some(expr), &mut c),
                }
                serde_json::to_string(&c).unwrap_or_default()
            })
            .collect()
    }

    fn declare(&mut self, ident: &syn::Ident, file: &str) {
        let name = ident.to_string();
        let id = TypeId(self.types.len());
        self.names.insert(name.clone(), id);
        self.types.push(WType {
            rust_name: name,
            kind: WTypeKind::Alias(Ty::plain(TyKind::Any)),
            site: Some(site_of(file, ident.span())),
        });
    }

    fn define(&mut self, ident: &syn::Ident, kind: WTypeKind) {
        if let Some(id) = self.names.get(&ident.to_string()) {
            self.types[id.0].kind = kind;
        }
    }

    fn struct_kind(&mut self, s: &syn::ItemStruct, file: &str) -> WTypeKind {
        let container = serde_attrs(&s.attrs);
        let schema = self.statics.get(&s.ident.to_string()).cloned();
        if let syn::Fields::Unnamed(fields) = &s.fields {
            // `#[serde(transparent)] pub struct X(pub T);`: a named use of T.
            let Some(field) = fields.unnamed.first() else {
                return WTypeKind::Alias(Ty::plain(TyKind::Null));
            };
            return WTypeKind::Alias(self.ty_of(&field.ty, schema.as_ref(), file, field.ty.span()));
        }
        let schema_fields: Vec<(String, bool, syn::Expr)> =
            schema.as_ref().map(object_fields).unwrap_or_default();
        let mut fields = Vec::new();
        let mut additional = None;
        let mut position = 0;
        for field in &s.fields {
            let Some(ident) = &field.ident else {
                continue;
            };
            let rust_name = unraw(&ident.to_string());
            let attrs = serde_attrs(&field.attrs);
            let span = ident.span();
            if attr(&attrs, "skip").is_some() || attr(&attrs, "skip_deserializing").is_some() {
                continue;
            }
            if attr(&attrs, "flatten").is_some() {
                let value = last_segment(&field.ty)
                    .filter(|(s, _)| {
                        s.ident == "IndexMap" || s.ident == "HashMap" || s.ident == "BTreeMap"
                    })
                    .and_then(|(s, _)| generic_args(s).get(1).copied().cloned());
                let additional_schema = schema
                    .as_ref()
                    .and_then(object_schema)
                    .and_then(|object| object_parts(object).1)
                    .cloned();
                additional = Some(match value {
                    Some(value) => self.ty_of(&value, additional_schema.as_ref(), file, span),
                    None => Ty::plain(TyKind::Any),
                });
                continue;
            }
            let wire_name = match (attr(&attrs, "rename"), attr(&container, "rename_all")) {
                (Some(name), _) => name.to_owned(),
                (None, Some(rule)) => rename_all(rule, &rust_name),
                (None, None) => rust_name.clone(),
            };
            let is_option = option_inner(&field.ty).is_some();
            let has_default =
                attr(&attrs, "default").is_some() || attr(&container, "default").is_some();
            let custom =
                attr(&attrs, "deserialize_with").is_some() || attr(&attrs, "with").is_some();
            // serde reads a missing `Option` as `None` unless a `deserialize_with` takes over.
            let required = !has_default && (!is_option || custom);
            let static_field = schema_fields.get(position);
            position += 1;
            if let Some((name, _, _)) = static_field {
                if *name != wire_name {
                    self.problems.push(Problem {
                        message: format!(
                            "field `{rust_name}` of `{}` is `{wire_name}` on the wire, but its schema static says `{name}`",
                            s.ident
                        ),
                        site: site_of(file, span),
                        unparsable: false,
                    });
                }
            }
            // An optional field's `Option` only says the key may be missing: the static says
            // whether `null` is allowed.
            let mut ty = match (is_option, static_field) {
                (true, Some((_, _, expr))) if !required && !is_nullable_schema(expr) => {
                    let inner = option_inner(&field.ty)
                        .cloned()
                        .unwrap_or_else(|| field.ty.clone());
                    self.ty_of(&inner, Some(expr), file, span)
                }
                (_, Some((_, _, expr))) => self.ty_of(&field.ty, Some(expr), file, span),
                (true, None) if !required => {
                    let inner = option_inner(&field.ty)
                        .cloned()
                        .unwrap_or_else(|| field.ty.clone());
                    self.ty_of(&inner, None, file, span)
                }
                (_, None) => self.ty_of(&field.ty, None, file, span),
            };
            if required && is_option {
                ty.nullable = true;
            }
            fields.push(WField {
                wire_name,
                rust_name,
                ty,
                required,
                site: Some(site_of(file, span)),
            });
        }
        WTypeKind::Struct {
            fields,
            deny_unknown: attr(&container, "deny_unknown_fields").is_some(),
            additional,
        }
    }

    fn enum_kind(
        &mut self,
        e: &syn::ItemEnum,
        file: &str,
        int_values: &HashMap<String, Vec<(String, i64)>>,
    ) -> WTypeKind {
        let container = serde_attrs(&e.attrs);
        let name = e.ident.to_string();
        if attr(&container, "try_from").is_some() {
            let values = int_values.get(&name).cloned().unwrap_or_default();
            return WTypeKind::IntegerEnum(
                e.variants
                    .iter()
                    .filter_map(|v| {
                        values
                            .iter()
                            .find(|(n, _)| v.ident == n)
                            .map(|(_, value)| *value)
                    })
                    .collect(),
            );
        }
        let wire = |v: &syn::Variant| {
            let attrs = serde_attrs(&v.attrs);
            match (attr(&attrs, "rename"), attr(&container, "rename_all")) {
                (Some(n), _) => n.to_owned(),
                (None, Some(rule)) => rename_all(rule, &v.ident.to_string()),
                (None, None) => v.ident.to_string(),
            }
        };
        if e.variants
            .iter()
            .all(|v| matches!(v.fields, syn::Fields::Unit))
        {
            return WTypeKind::StringEnum(e.variants.iter().map(wire).collect());
        }
        let tag = attr(&container, "tag").map(str::to_owned);
        let schema = self.statics.get(&name).cloned();
        let arm_schemas: Vec<syn::Expr> = match schema.as_ref().and_then(call_name) {
            Some((n, args)) if n == "Untagged" => args
                .first()
                .map(|a| array_items(a).into_iter().cloned().collect())
                .unwrap_or_default(),
            Some((n, _)) if n == "TaggedUnion" => {
                let parts = schema
                    .as_ref()
                    .map(|s| struct_fields(s))
                    .unwrap_or_default();
                parts
                    .iter()
                    .find(|(k, _)| k == "arms")
                    .map(|(_, arms)| {
                        array_items(arms)
                            .into_iter()
                            .filter_map(|arm| match arm {
                                syn::Expr::Tuple(t) => t.elems.iter().nth(1).cloned(),
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            }
            _ => Vec::new(),
        };
        let arms = e
            .variants
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let ty = match &v.fields {
                    syn::Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                        let field = &f.unnamed[0];
                        self.ty_of(&field.ty, arm_schemas.get(i), file, v.ident.span())
                    }
                    _ => Ty::plain(TyKind::Null),
                };
                WArm {
                    tag: tag.as_ref().map(|_| wire(v)),
                    ty,
                    site: Some(site_of(file, v.ident.span())),
                }
            })
            .collect();
        WTypeKind::Union { tag, arms }
    }

    /// The type of a Rust type, with what its schema expression adds (constraints, nullability,
    /// constants).
    fn ty_of(
        &mut self,
        ty: &syn::Type,
        schema: Option<&syn::Expr>,
        file: &str,
        span: proc_macro2::Span,
    ) -> Ty {
        let (schema_name, schema_args) = schema
            .and_then(call_name)
            .map(|(n, a)| (n, a.into_iter().cloned().collect::<Vec<_>>()))
            .unwrap_or_default();
        // `Option<T>`: nullable (the caller unwrapped optional fields already).
        if let Some(inner) = option_inner(ty) {
            let inner_schema = if schema_name == "Nullable" {
                schema_args.first().cloned()
            } else {
                schema.cloned()
            };
            let mut t = self.ty_of(inner, inner_schema.as_ref(), file, span);
            t.nullable = true;
            return t;
        }
        if let syn::Type::Tuple(t) = ty {
            if t.elems.is_empty() {
                return Ty::plain(TyKind::Null);
            }
            let items: Vec<syn::Expr> = if schema_name == "Tuple" {
                schema_args
                    .first()
                    .map(|a| array_items(a).into_iter().cloned().collect())
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            let elems: Vec<Ty> = t
                .elems
                .iter()
                .enumerate()
                .map(|(i, e)| self.ty_of(e, items.get(i), file, span))
                .collect();
            return Ty::plain(TyKind::Tuple(elems));
        }
        let Some((segment, local)) = last_segment(ty) else {
            self.unknown(ty, file, span);
            return Ty::plain(TyKind::Any);
        };
        let ident = segment.ident.to_string();
        let args = generic_args(segment);
        let mut constraints = Constraints::default();
        if local {
            // A spec type may be called `Box`, `String` or `Vec`: generated code names std types by
            // their full path, so a local name is the module's own type.
            if let Some(id) = self.names.get(&ident) {
                return Ty::plain(TyKind::Named(*id));
            }
        }
        let kind = match ident.as_str() {
            "Box" | "Arc" | "Rc" => {
                return match args.first() {
                    Some(inner) => self.ty_of(inner, schema, file, span),
                    None => Ty::plain(TyKind::Any),
                };
            }
            "String" | "str" => {
                if schema_name == "Str" {
                    self.str_constraints(schema_args.first(), &mut constraints);
                }
                TyKind::String(StringFormat::Plain)
            }
            "i8" | "i16" | "i32" | "u8" | "u16" | "u32" => {
                if schema_name == "Int" {
                    number_constraints(schema_args.first(), &mut constraints);
                }
                TyKind::Integer(IntegerFormat::Int32)
            }
            "i64" | "u64" | "isize" | "usize" | "i128" | "u128" => {
                if schema_name == "Int" {
                    number_constraints(schema_args.first(), &mut constraints);
                }
                TyKind::Integer(IntegerFormat::Int64)
            }
            "f64" | "f32" => {
                if schema_name == "Number" {
                    number_constraints(schema_args.first(), &mut constraints);
                }
                TyKind::Number
            }
            "bool" => TyKind::Boolean,
            "Value" => TyKind::Any,
            "Uuid" => TyKind::String(StringFormat::Uuid),
            "DateTime" => TyKind::String(StringFormat::DateTime),
            "NaiveDate" => TyKind::String(StringFormat::Date),
            "NaiveTime" => TyKind::String(StringFormat::Time),
            "Vec" => {
                let item_schema = (schema_name == "Array")
                    .then(|| schema_args.first().cloned())
                    .flatten();
                if schema_name == "Array" {
                    items_constraints(schema_args.get(1), &mut constraints);
                }
                let item = match args.first() {
                    Some(item) => self.ty_of(item, item_schema.as_ref(), file, span),
                    None => Ty::plain(TyKind::Any),
                };
                TyKind::Array(Box::new(item))
            }
            "IndexMap" | "HashMap" | "BTreeMap" => {
                let value_schema = (schema_name == "Map")
                    .then(|| schema_args.first().cloned())
                    .flatten();
                let value = match args.get(1) {
                    Some(value) => self.ty_of(value, value_schema.as_ref(), file, span),
                    None => Ty::plain(TyKind::Any),
                };
                TyKind::Map(Box::new(value))
            }
            _ => match self.names.get(&ident) {
                Some(id) if local => TyKind::Named(*id),
                _ => {
                    self.unknown(ty, file, span);
                    TyKind::Any
                }
            },
        };
        let kind = if schema_name == "Const" {
            match schema_args.first().and_then(str_value) {
                Some(json) => serde_json::from_str::<Value>(&json)
                    .map(TyKind::Const)
                    .unwrap_or(kind),
                None => kind,
            }
        } else {
            kind
        };
        Ty {
            kind,
            nullable: false,
            constraints,
        }
    }

    fn unknown(&mut self, ty: &syn::Type, file: &str, span: proc_macro2::Span) {
        let shown = match last_segment(ty) {
            Some((s, _)) => s.ident.to_string(),
            None => "this type".to_owned(),
        };
        self.problems.push(Problem {
            message: format!("`{shown}` is not a type of the generated module"),
            site: site_of(file, span),
            unparsable: false,
        });
    }

    fn str_constraints(&self, expr: Option<&syn::Expr>, c: &mut Constraints) {
        for (name, args) in expr.map(builder_calls).unwrap_or_default() {
            let arg = args.first().copied();
            match name.as_str() {
                "min_length" => c.min_length = arg.and_then(u64_value),
                "max_length" => c.max_length = arg.and_then(u64_value),
                "pattern" => {
                    c.pattern = arg
                        .and_then(|p| match p {
                            syn::Expr::Reference(r) => match &*r.expr {
                                syn::Expr::Path(path) => {
                                    path.path.segments.last().map(|s| s.ident.to_string())
                                }
                                _ => None,
                            },
                            _ => None,
                        })
                        .and_then(|name| self.patterns.get(&name).cloned())
                }
                _ => {}
            }
        }
    }

    fn channel_file(&mut self, parsed: &Parsed, module: &str) -> Option<WChannel> {
        let file = &parsed.name;
        let mut channel = WChannel {
            module: module.to_owned(),
            ..WChannel::default()
        };
        let mut key_found = false;
        let mut params_struct = None;
        let mut enums: HashMap<String, &syn::ItemEnum> = HashMap::new();
        let mut consumer = None;
        for item in &parsed.file.items {
            match item {
                syn::Item::Const(c) if c.ident == "KEY" => {
                    channel.key = str_value(&c.expr).unwrap_or_default();
                    channel.site = Some(site_of(file, c.ident.span()));
                    key_found = true;
                }
                syn::Item::Const(c) if c.ident == "RAW_ADDRESS" => {
                    channel.address = str_value(&c.expr);
                }
                syn::Item::Struct(s) if s.ident == "Params" => params_struct = Some(s),
                syn::Item::Enum(e) => {
                    enums.insert(e.ident.to_string(), e);
                }
                syn::Item::Trait(t) if t.ident.to_string().ends_with("Consumer") => {
                    consumer = Some(t)
                }
                _ => {}
            }
        }
        if !key_found {
            return None;
        }
        // Parameters: names from the address, types from `Params`.
        let names = channel
            .address
            .as_deref()
            .map(address_parameters)
            .unwrap_or_default();
        let param_fields: Vec<&syn::Field> = params_struct
            .map(|s| s.fields.iter().collect())
            .unwrap_or_default();
        channel.parameters = names
            .iter()
            .enumerate()
            .map(|(i, (name, converter))| {
                let field = param_fields.get(i);
                let rust = field
                    .and_then(|f| last_segment(&f.ty))
                    .map(|(s, _)| s.ident.to_string());
                let kind = match rust.as_deref() {
                    Some("i64" | "i32" | "u64" | "u32") => ParameterKind::Integer,
                    Some("f64" | "f32") => ParameterKind::Float,
                    Some("Uuid") => ParameterKind::Uuid,
                    _ if converter.as_deref() == Some("path") => ParameterKind::Path,
                    _ => ParameterKind::String,
                };
                WParam {
                    name: name.clone(),
                    kind,
                    site: field
                        .and_then(|f| f.ident.as_ref())
                        .map(|i| site_of(file, i.span()))
                        .or_else(|| channel.site.clone()),
                }
            })
            .collect();
        let (client_tag, client) = self.message_enum(enums.get("ClientMessage").copied(), file);
        let (server_tag, server) = self.message_enum(enums.get("ServerMessage").copied(), file);
        channel.client_tag = client_tag;
        channel.server_tag = server_tag;
        channel.client_messages = client;
        channel.server_messages = server;
        if let Some(consumer) = consumer {
            channel.consumer = consumer.ident.to_string();
            let routes = dispatcher_routes(&parsed.text, &channel.consumer);
            let by_variant = |messages: &[WMessage], variants: &[String]| -> Vec<String> {
                variants
                    .iter()
                    .filter_map(|v| messages.iter().find(|m| m.rust_name == *v))
                    .map(|m| m.id.clone())
                    .collect()
            };
            for item in &consumer.items {
                let syn::TraitItem::Fn(method) = item else {
                    continue;
                };
                let name = unraw(&method.sig.ident.to_string());
                let site = Some(site_of(file, method.sig.ident.span()));
                let input = method.sig.inputs.iter().nth(2).and_then(|a| match a {
                    syn::FnArg::Typed(t) => Some((*t.ty).clone()),
                    syn::FnArg::Receiver(_) => None,
                });
                let output = reply_type(&method.sig.output);
                // The dispatcher names the exact variants (several messages may share a payload
                // type); the signature is the fallback.
                let route = routes.get(&name);
                let routed = route.map(|r| by_variant(&channel.server_messages, &r.variants));
                if method.default.is_some() {
                    let signature = self.message_ids(
                        input.as_ref(),
                        &channel.server_messages,
                        &enums,
                        file,
                        &name,
                    );
                    let messages = agree(&channel.server_messages, signature, routed);
                    channel.events.push(WEvent {
                        method: name,
                        messages: messages.into_iter().collect(),
                        site,
                    });
                } else {
                    let tagged = route
                        .and_then(|r| r.tag.as_ref())
                        .and_then(|tag| {
                            channel
                                .client_messages
                                .iter()
                                .find(|m| m.tag.as_ref() == Some(tag))
                        })
                        .map(|m| m.id.clone());
                    let by_signature = self
                        .message_ids(
                            input.as_ref(),
                            &channel.client_messages,
                            &enums,
                            file,
                            &name,
                        )
                        .into_iter()
                        .next()
                        .unwrap_or_default();
                    let message = agree(
                        &channel.client_messages,
                        vec![by_signature],
                        tagged.map(|t| vec![t]),
                    )
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                    let signature = self.message_ids(
                        output.as_ref(),
                        &channel.server_messages,
                        &enums,
                        file,
                        &name,
                    );
                    let replies = agree(&channel.server_messages, signature, routed);
                    channel.actions.push(WAction {
                        method: name,
                        message,
                        replies: replies.into_iter().collect(),
                        site,
                    });
                }
            }
        }
        Some(channel)
    }

    /// The ids of the messages whose payload is `ty`, or whose payloads are the variants of the
    /// enum `ty` names.
    fn message_ids(
        &mut self,
        ty: Option<&syn::Type>,
        messages: &[WMessage],
        enums: &HashMap<String, &syn::ItemEnum>,
        file: &str,
        method: &str,
    ) -> Vec<String> {
        let Some(ty) = ty else {
            return Vec::new();
        };
        if matches!(ty, syn::Type::Tuple(t) if t.elems.is_empty()) {
            return Vec::new();
        }
        if let Some(id) = self.message_by_type(ty, messages, file, method) {
            return vec![id];
        }
        let enum_name = last_segment(ty).map(|(s, _)| s.ident.to_string());
        if let Some(e) = enum_name.and_then(|n| enums.get(&n)) {
            return e
                .variants
                .iter()
                .filter_map(|v| match &v.fields {
                    syn::Fields::Unnamed(f) => f
                        .unnamed
                        .first()
                        .and_then(|f| self.message_by_type(&f.ty, messages, file, method)),
                    _ => None,
                })
                .collect();
        }
        Vec::new()
    }

    /// The id of the message whose payload has the Rust type `ty`: when several have it, the one
    /// named like the handler `method`, else the first.
    fn message_by_type(
        &mut self,
        ty: &syn::Type,
        messages: &[WMessage],
        file: &str,
        method: &str,
    ) -> Option<String> {
        use heck::ToSnakeCase;
        let before = self.problems.len();
        let wanted = self.ty_of(ty, None, file, ty.span());
        self.problems.truncate(before);
        let same = |m: &&WMessage| {
            m.payload
                .as_ref()
                .is_some_and(|p| p.kind == wanted.kind && p.nullable == wanted.nullable)
        };
        messages
            .iter()
            .filter(same)
            .find(|m| method.ends_with(&m.rust_name.to_snake_case()))
            .or_else(|| messages.iter().find(same))
            .or_else(|| {
                messages
                    .iter()
                    .find(|m| m.payload.as_ref().is_some_and(|p| p.kind == wanted.kind))
            })
            .map(|m| m.id.clone())
    }

    fn message_enum(
        &mut self,
        e: Option<&syn::ItemEnum>,
        file: &str,
    ) -> (Option<String>, Vec<WMessage>) {
        let Some(e) = e else {
            return (None, Vec::new());
        };
        let container = serde_attrs(&e.attrs);
        let tag = attr(&container, "tag").map(str::to_owned);
        let messages = e
            .variants
            .iter()
            .map(|v| {
                let attrs = serde_attrs(&v.attrs);
                let rust_name = v.ident.to_string();
                let wire_tag = tag.as_ref().map(|_| match attr(&attrs, "rename") {
                    Some(n) => n.to_owned(),
                    None => rust_name.clone(),
                });
                let payload = match &v.fields {
                    syn::Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                        let ty = &f.unnamed[0].ty;
                        self.ty_of(ty, None, file, v.ident.span())
                    }
                    _ => Ty::plain(TyKind::Null),
                };
                WMessage {
                    id: wire_tag.clone().unwrap_or_else(|| rust_name.clone()),
                    tag: wire_tag.map(|t| t.split('#').next().unwrap_or_default().to_owned()),
                    rust_name,
                    payload: Some(payload),
                    site: Some(site_of(file, v.ident.span())),
                }
            })
            .collect();
        (tag, messages)
    }
}

fn is_nullable_schema(expr: &syn::Expr) -> bool {
    matches!(call_name(expr), Some((n, _)) if n == "Nullable")
}

fn number_constraints(expr: Option<&syn::Expr>, c: &mut Constraints) {
    for (name, args) in expr.map(builder_calls).unwrap_or_default() {
        // `minimum(0.0, "0")`, or earlier versions' `minimum: Some(Bound { value: 0.0, .. })`.
        let bound = args.first().copied().and_then(|arg| {
            f64_value(arg).or_else(|| {
                struct_fields(arg)
                    .into_iter()
                    .find(|(n, _)| n == "value")
                    .and_then(|(_, value)| f64_value(value))
            })
        });
        match name.as_str() {
            "minimum" => c.minimum = bound,
            "maximum" => c.maximum = bound,
            "exclusive_minimum" => c.exclusive_minimum = bound,
            "exclusive_maximum" => c.exclusive_maximum = bound,
            "multiple_of" => c.multiple_of = bound,
            _ => {}
        }
    }
}

fn items_constraints(expr: Option<&syn::Expr>, c: &mut Constraints) {
    for (name, args) in expr.map(builder_calls).unwrap_or_default() {
        match name.as_str() {
            "min_items" => c.min_items = args.first().copied().and_then(u64_value),
            "max_items" => c.max_items = args.first().copied().and_then(u64_value),
            "unique" => {
                c.unique_items = args.first().is_none_or(|arg| bool_value(arg) == Some(true))
            }
            _ => {}
        }
    }
}

/// The dispatcher's messages when they have the payload types the signature says (it tells apart
/// messages that share a type), else the signature's (a hand-edited signature wins).
fn agree(
    messages: &[WMessage],
    signature: Vec<String>,
    routed: Option<Vec<String>>,
) -> Vec<String> {
    let types = |ids: &[String]| {
        let mut tys: Vec<String> = ids
            .iter()
            .filter_map(|id| messages.iter().find(|m| m.id == *id))
            .map(|m| format!("{:?}", m.payload))
            .collect();
        tys.sort();
        tys.dedup();
        tys
    };
    match routed {
        Some(routed) if !routed.is_empty() && types(&routed) == types(&signature) => routed,
        _ => signature,
    }
}

/// The `StrConstraints { .. }`, `NumberConstraints { .. }` and `ItemsConstraints { .. }` literals of
/// a piece of code, in order.
#[derive(Default)]
struct ConstraintLiterals(Vec<(String, syn::Expr)>);

impl<'ast> syn::visit::Visit<'ast> for ConstraintLiterals {
    fn visit_expr_struct(&mut self, node: &'ast syn::ExprStruct) {
        if let Some(kind) = node.rest.as_deref().and_then(constraints_kind) {
            self.0.push((kind, syn::Expr::Struct(node.clone())));
            return;
        }
        syn::visit::visit_expr_struct(self, node);
    }

    fn visit_expr_method_call(&mut self, node: &'ast syn::ExprMethodCall) {
        if let Some(kind) = constraints_kind(&node.receiver) {
            self.0.push((kind, syn::Expr::MethodCall(node.clone())));
            return;
        }
        syn::visit::visit_expr_method_call(self, node);
    }
}

/// The constraints type (`StrConstraints`, ...) of a builder chain that starts at its `NONE`.
fn constraints_kind(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::MethodCall(call) => constraints_kind(&call.receiver),
        syn::Expr::Path(path) => {
            let mut segments = path.path.segments.iter().rev();
            let (none, kind) = (segments.next()?, segments.next()?);
            let kind = kind.ident.to_string();
            let known = matches!(
                kind.as_str(),
                "StrConstraints" | "NumberConstraints" | "ItemsConstraints"
            );
            (none.ident == "NONE" && known).then_some(kind)
        }
        _ => None,
    }
}

/// The calls of a constraints builder chain (`X::NONE.min_length(1).max_length(8)`), in order: each
/// method's name and arguments.
fn builder_calls(expr: &syn::Expr) -> Vec<(String, Vec<&syn::Expr>)> {
    match expr {
        syn::Expr::Reference(r) => builder_calls(&r.expr),
        syn::Expr::MethodCall(call) => {
            let mut calls = builder_calls(&call.receiver);
            calls.push((call.method.to_string(), call.args.iter().collect()));
            calls
        }
        // `X { pattern: Some(&P), ..X::NONE.max_length(8) }`: the base's calls, then the fields.
        syn::Expr::Struct(literal) => {
            let mut calls = literal
                .rest
                .as_deref()
                .map(builder_calls)
                .unwrap_or_default();
            // Earlier versions wrote every constraint as a field (`min_length: Some(3)`).
            calls.extend(
                struct_fields(expr)
                    .into_iter()
                    .map(|(name, value)| (name, vec![some(value).unwrap_or(value)])),
            );
            calls
        }
        _ => Vec::new(),
    }
}

/// What the dispatcher does for one handler: the client tag it routes from (`Some("tag") =>`) and
/// the `ServerMessage` variants it sends the handler's result as.
#[derive(Debug, Default)]
struct Route {
    tag: Option<String>,
    variants: Vec<String>,
}

/// The routes of the dispatcher's `handle_text` and `handle_event` bodies, by handler, read from
/// their tokens: each `<C as Consumer>::method` call, the last `Some("tag")` before it, and the
/// `ServerMessage::Variant`s after it (up to the next call).
fn dispatcher_routes(text: &str, consumer: &str) -> HashMap<String, Route> {
    let mut routes: HashMap<String, Route> = HashMap::new();
    let Ok(stream) = text.parse::<proc_macro2::TokenStream>() else {
        return routes;
    };
    let mut bodies = Vec::new();
    find_bodies(stream, &mut bodies);
    for body in bodies {
        let mut tokens = Vec::new();
        flatten_tokens(body, &mut tokens);
        let mut current: Option<String> = None;
        let mut last_tag: Option<String> = None;
        let mut i = 0;
        while i < tokens.len() {
            let at = |k: usize| tokens.get(i + k).map(String::as_str);
            if at(0) == Some("<")
                && at(1) == Some("C")
                && at(2) == Some("as")
                && at(3) == Some(consumer)
                && at(4) == Some(">")
                && at(5) == Some(":")
                && at(6) == Some(":")
            {
                if let Some(method) = at(7) {
                    let method = unraw(method);
                    let route = routes.entry(method.clone()).or_default();
                    if route.tag.is_none() {
                        route.tag = last_tag.take();
                    }
                    current = Some(method);
                    i += 8;
                    continue;
                }
            }
            if at(0) == Some("Some") && at(1) == Some("(") {
                if let Some(lit) = at(2).filter(|t| t.starts_with('"')) {
                    last_tag = syn::parse_str::<syn::LitStr>(lit).ok().map(|l| l.value());
                }
            }
            if at(0) == Some("ServerMessage") && at(1) == Some(":") && at(2) == Some(":") {
                if let (Some(method), Some(variant)) = (&current, at(3)) {
                    let route = routes.entry(method.clone()).or_default();
                    if !route.variants.iter().any(|v| v == variant) {
                        route.variants.push(variant.to_owned());
                    }
                }
            }
            i += 1;
        }
    }
    routes
}

/// The bodies of `fn handle_text` and `fn handle_event`, wherever they are.
fn find_bodies(stream: proc_macro2::TokenStream, out: &mut Vec<proc_macro2::TokenStream>) {
    use proc_macro2::{Delimiter, TokenTree};
    let trees: Vec<TokenTree> = stream.into_iter().collect();
    let mut i = 0;
    while i < trees.len() {
        match &trees[i] {
            TokenTree::Ident(ident) if ident == "fn" => {
                let named = matches!(trees.get(i + 1), Some(TokenTree::Ident(n)) if n == "handle_text" || n == "handle_event");
                if named {
                    if let Some(TokenTree::Group(body)) = trees[i + 1..].iter().find(
                        |t| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace),
                    ) {
                        out.push(body.stream());
                    }
                }
            }
            TokenTree::Group(group) => find_bodies(group.stream(), out),
            _ => {}
        }
        i += 1;
    }
}

fn flatten_tokens(stream: proc_macro2::TokenStream, out: &mut Vec<String>) {
    use proc_macro2::TokenTree;
    for tree in stream {
        match tree {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    proc_macro2::Delimiter::Parenthesis => ("(", ")"),
                    proc_macro2::Delimiter::Brace => ("{", "}"),
                    proc_macro2::Delimiter::Bracket => ("[", "]"),
                    proc_macro2::Delimiter::None => ("", ""),
                };
                out.push(open.to_owned());
                flatten_tokens(group.stream(), out);
                out.push(close.to_owned());
            }
            TokenTree::Punct(p) => out.push(p.as_char().to_string()),
            other => out.push(other.to_string()),
        }
    }
}

/// `T` of `-> impl Future<Output = Result<Option<T>, _>>`.
fn reply_type(output: &syn::ReturnType) -> Option<syn::Type> {
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    let syn::Type::ImplTrait(imp) = &**ty else {
        return None;
    };
    for bound in &imp.bounds {
        let syn::TypeParamBound::Trait(t) = bound else {
            continue;
        };
        let Some(segment) = t.path.segments.last() else {
            continue;
        };
        if segment.ident != "Future" {
            continue;
        }
        let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
            continue;
        };
        for arg in &args.args {
            if let syn::GenericArgument::AssocType(assoc) = arg {
                let result = last_segment(&assoc.ty)?;
                let ok = generic_args(result.0).first().copied()?;
                return option_inner(ok).cloned().or_else(|| Some(ok.clone()));
            }
        }
    }
    None
}

/// `(name, converter)` of each `{name:converter}` of an address, first occurrence only.
pub(crate) fn address_parameters(raw: &str) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let mut rest = raw;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        let inner = &rest[open + 1..close];
        let (name, converter) = match inner.split_once(':') {
            Some((n, c)) => (n.to_owned(), Some(c.to_owned())),
            None => (inner.to_owned(), None),
        };
        if !out.iter().any(|(n, _)| *n == name) {
            out.push((name, converter));
        }
        rest = &rest[close + 1..];
    }
    out
}

/// Values of integer enums, from `impl From<E> for i64 { match value { E::V => 1, .. } }`.
fn int_enum_values(file: &syn::File) -> HashMap<String, Vec<(String, i64)>> {
    let mut out = HashMap::new();
    for item in &file.items {
        let syn::Item::Impl(imp) = item else {
            continue;
        };
        let Some((trait_path, _)) = &imp.trait_ else {
            continue;
        };
        let Some(segment) = trait_path.segments.last() else {
            continue;
        };
        if segment.ident != "From" {
            continue;
        }
        let Some(source) = generic_args(segment).first().and_then(|t| last_segment(t)) else {
            continue;
        };
        let Some((target, _)) = last_segment(&imp.self_ty) else {
            continue;
        };
        if target.ident != "i64" {
            continue;
        }
        let mut values = Vec::new();
        for item in &imp.items {
            let syn::ImplItem::Fn(f) = item else {
                continue;
            };
            for stmt in &f.block.stmts {
                let syn::Stmt::Expr(syn::Expr::Match(m), _) = stmt else {
                    continue;
                };
                for arm in &m.arms {
                    let name = match &arm.pat {
                        syn::Pat::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                        _ => None,
                    };
                    if let (Some(name), Some(value)) = (name, i64_value(&arm.body)) {
                        values.push((name, value));
                    }
                }
            }
        }
        out.insert(source.0.ident.to_string(), values);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one constraints expression in `text`, read as `check` reads it.
    fn constraints(kind: &str, text: &str) -> Constraints {
        let expr: syn::Expr = syn::parse_str(text).expect("an expression");
        let mut found = ConstraintLiterals::default();
        syn::visit::Visit::visit_expr(&mut found, &expr);
        assert_eq!(found.0.len(), 1, "one constraints expression in {text}");
        assert_eq!(found.0[0].0, kind);
        let mut c = Constraints::default();
        match kind {
            "NumberConstraints" => number_constraints(Some(&found.0[0].1), &mut c),
            _ => items_constraints(Some(&found.0[0].1), &mut c),
        }
        c
    }

    #[test]
    fn number_constraints_read_from_builder_calls_and_earlier_literals() {
        let built = constraints(
            "NumberConstraints",
            r#"cg::check_number(errors, v, &cg::NumberConstraints::NONE.minimum(0.5, "0.5").exclusive_maximum(10.0, "10"))"#,
        );
        let literal = constraints(
            "NumberConstraints",
            r#"cg::check_number(errors, v, &cg::NumberConstraints {
                minimum: Some(cg::Bound { value: 0.5, text: "0.5" }),
                exclusive_maximum: Some(cg::Bound { value: 10.0, text: "10" }),
                ..cg::NumberConstraints::NONE
            })"#,
        );
        assert_eq!(built.minimum, Some(0.5));
        assert_eq!(built.exclusive_maximum, Some(10.0));
        assert_eq!(built.maximum, None);
        assert_eq!(
            serde_json::to_string(&built).unwrap(),
            serde_json::to_string(&literal).unwrap()
        );
    }

    #[test]
    fn items_constraints_read_from_builder_calls_and_earlier_literals() {
        let built = constraints(
            "ItemsConstraints",
            "cg::Schema::List(&cg::Schema::STR, cg::ItemsConstraints::NONE.max_items(20).unique())",
        );
        let literal = constraints(
            "ItemsConstraints",
            "cg::Schema::List(&cg::Schema::STR, cg::ItemsConstraints { max_items: Some(20), unique: true, ..cg::ItemsConstraints::NONE })",
        );
        assert_eq!(built.max_items, Some(20));
        assert!(built.unique_items);
        assert_eq!(built.min_items, None);
        assert_eq!(
            serde_json::to_string(&built).unwrap(),
            serde_json::to_string(&literal).unwrap()
        );
        let not_unique = constraints(
            "ItemsConstraints",
            "cg::ItemsConstraints { unique: false, ..cg::ItemsConstraints::NONE.min_items(1) }",
        );
        assert_eq!(not_unique.min_items, Some(1));
        assert!(!not_unique.unique_items);
    }
}

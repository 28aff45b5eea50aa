//! JSON Schema (the AsyncAPI schema dialect) to the IR's type graph.
//!
//! The ladder, for one schema:
//! 1. `$ref`: the target's type (named once per target, so recursion stays a reference);
//! 2. `const`, then `enum` (string or integer enums become named enums);
//! 3. `oneOf` / `anyOf`: null arms make the type nullable; one arm left is that arm; more become a
//!    union, internally tagged when a `discriminator` or a `const` property tells the arms apart,
//!    untagged otherwise;
//! 4. `allOf`: object parts are merged into one struct; a lone part stands for itself;
//! 5. `type` (or the keywords present): objects with properties become structs, other objects maps,
//!    arrays lists or tuples (`prefixItems`), and the primitives.
//!
//! Nullability comes from `type: [T, "null"]`, `nullable: true` (OpenAPI), `anyOf`/`oneOf` null arms
//! and null in `enum`. Constraints are kept on the [`Ty`] for decode-time validation.

use serde_json::{Map, Value};

use super::naming::{self, Namespace};
use super::{
    Additional, Constraints, Docs, EnumVariant, FastMap, FastSet, Field, IntegerFormat,
    IntegerVariant, StringFormat, Tagging, Ty, TyKind, TypeDef, TypeId, TypeKind, UnionVariant,
};
use crate::diagnostics::{Code, Diagnostic, Diagnostics, Loc};
use crate::load::{Member, Sources, parse_pointer};

/// Builds the type graph, one schema at a time, naming types as it meets them.
pub(super) struct TypeBuilder<'s> {
    sources: &'s Sources,
    pub(super) diagnostics: Diagnostics,
    pub(super) types: Vec<TypeDef>,
    /// Named types by the place of their schema.
    named: FastMap<Loc, TypeId>,
    /// Unnamed `$ref` targets being lowered (a loop through them cannot be expressed).
    in_progress: FastSet<Loc>,
    /// Type names.
    names: Namespace,
}

/// Object keywords of one schema, gathered across `allOf` parts.
#[derive(Default)]
struct ObjectParts<'s> {
    /// (wire name, where the property schema is, the property schema).
    properties: Vec<(String, Loc, &'s Value)>,
    required: FastSet<String>,
    additional: Option<Loc>,
}

impl<'s> TypeBuilder<'s> {
    pub(super) fn new(sources: &'s Sources) -> Self {
        TypeBuilder {
            sources,
            diagnostics: Diagnostics::new(),
            types: Vec::new(),
            named: FastMap::default(),
            in_progress: FastSet::default(),
            names: Namespace::new(),
        }
    }

    /// Claims the names of `components.schemas` up front, so a component always gets its own name and
    /// an invented name never takes it.
    pub(super) fn claim_component_names(&mut self, components: &[(String, Loc)]) {
        for (key, loc) in components {
            let name = naming::type_name(key, "Schema");
            if let Err(clash) = self.names.claim(&name, key, Some(loc)) {
                self.report_clash(&name, key, loc, clash);
            }
        }
    }

    fn report_clash(&mut self, name: &str, wire: &str, loc: &Loc, clash: naming::Clash) {
        let (first_wire, first_loc) = clash.first;
        let mut diagnostic = Diagnostic::new(
            Code::NameCollision,
            Some(loc.clone().key()),
            format!("`{wire}` and `{first_wire}` both become the Rust name `{name}`"),
        )
        .with_help("rename one of them so their names differ by more than case or punctuation");
        if let Some(first_loc) = first_loc {
            diagnostic =
                diagnostic.with_related(first_loc.key(), format!("`{first_wire}` is here"));
        }
        self.diagnostics.push(diagnostic);
    }

    /// Lowers the schema at `loc` (which may be a `$ref`); `hint` names it if it needs a name and has
    /// none of its own.
    pub(super) fn lower(&mut self, loc: &Loc, hint: &str) -> Ty {
        match self.named.get(loc) {
            Some(id) => Ty::plain(TyKind::Named(*id)),
            None => self.lower_uncached(loc, hint),
        }
    }

    /// [`TypeBuilder::lower`] without looking up a type already named for `loc` (for the body of
    /// that very type).
    fn lower_uncached(&mut self, loc: &Loc, hint: &str) -> Ty {
        match self.sources.get(loc) {
            Some(value) => self.lower_found(loc, value, hint),
            None => Ty::plain(TyKind::Any),
        }
    }

    /// [`TypeBuilder::lower`] of `value`, the schema at `loc`, when the caller holds it already.
    fn lower_value(&mut self, loc: &Loc, value: &'s Value, hint: &str) -> Ty {
        match self.named.get(loc) {
            Some(id) => Ty::plain(TyKind::Named(*id)),
            None => self.lower_found(loc, value, hint),
        }
    }

    /// [`TypeBuilder::lower_uncached`] of `value`, the schema at `loc`.
    fn lower_found(&mut self, loc: &Loc, value: &'s Value, hint: &str) -> Ty {
        match value {
            Value::Bool(true) => Ty::plain(TyKind::Any),
            Value::Bool(false) => {
                self.unsupported(
                    loc,
                    "the schema `false` accepts no value; it is read as any value",
                );
                Ty::plain(TyKind::Any)
            }
            Value::Object(schema) => self.lower_object(loc, schema, hint),
            _ => {
                self.diagnostics.push(Diagnostic::new(
                    Code::WrongType,
                    Some(loc.clone()),
                    "a schema must be an object or a boolean",
                ));
                Ty::plain(TyKind::Any)
            }
        }
    }

    fn unsupported(&mut self, loc: &Loc, message: &str) {
        self.diagnostics.push(
            Diagnostic::new(Code::UnsupportedSchema, Some(loc.clone()), message)
                .with_severity(crate::diagnostics::Severity::Warning),
        );
    }

    fn lower_object(&mut self, loc: &Loc, schema: &'s Map<String, Value>, hint: &str) -> Ty {
        let nullable = is_nullable(schema);
        let mut ty = if let Some(reference) = schema.member("$ref") {
            self.lower_ref(loc, reference)
        } else if let Some(value) = schema.member("const") {
            const_ty(value)
        } else if let Some(Value::Array(values)) = schema.member("enum") {
            self.lower_enum(loc, schema, values, hint)
        } else if let Some(arms) = union_arms(schema) {
            self.lower_union(loc, schema, arms, hint)
        } else if let Some(Value::Array(parts)) = schema.member("allOf") {
            self.lower_all_of(loc, schema, parts.len(), hint)
        } else {
            self.lower_typed(loc, schema, hint)
        };
        ty.nullable |= nullable;
        if !matches!(ty.kind, TyKind::Named(_)) || schema.member("$ref").is_some() {
            merge_constraints(&mut ty.constraints, constraints(schema));
        }
        ty
    }

    /// `$ref`: the target's type. Siblings (Chanx's `default`, a `description`) belong to the use site
    /// and are read there; `nullable` is honoured by the caller.
    fn lower_ref(&mut self, loc: &Loc, reference: &Value) -> Ty {
        let Some(reference) = reference.as_str() else {
            return Ty::plain(TyKind::Any);
        };
        let target = match self.sources.ref_target(loc, reference) {
            Ok(target) => target,
            Err(diagnostic) => {
                self.diagnostics.push(diagnostic);
                return Ty::plain(TyKind::Any);
            }
        };
        let resolved = match self.sources.resolve(&target) {
            Ok(resolved) => resolved.loc,
            Err(diagnostic) => {
                self.diagnostics.push(diagnostic);
                return Ty::plain(TyKind::Any);
            }
        };
        if let Some(id) = self.named.get(&resolved) {
            return Ty::plain(TyKind::Named(*id));
        }
        if component_schema_key(&resolved).is_some() {
            return self.lower_component(&resolved);
        }
        if !self.in_progress.insert(resolved.clone()) {
            self.unsupported(
                loc,
                "this schema contains itself without an object in between; it is read as any value",
            );
            return Ty::plain(TyKind::Any);
        }
        let hint = pointer_name(&resolved);
        let ty = self.lower(&resolved, &hint);
        self.in_progress.remove(&resolved);
        ty
    }

    /// A schema of `components.schemas`: always a named type, even when it is a plain string.
    pub(super) fn lower_component(&mut self, loc: &Loc) -> Ty {
        if let Some(id) = self.named.get(loc) {
            return Ty::plain(TyKind::Named(*id));
        }
        let key = component_schema_key(loc).unwrap_or_default();
        let hint = naming::type_name(&key, "Schema");
        let schema = self.sources.get(loc).and_then(Value::as_object);
        if schema.is_some_and(needs_name) {
            // Structs, enums and unions name themselves from the hint.
            return self.lower(loc, &hint);
        }
        let id = self.reserve(loc, &hint, schema);
        let target = self.lower_uncached(loc, &format!("{hint}Value"));
        self.types[id.0].kind = TypeKind::Alias {
            target: Box::new(target),
        };
        Ty::plain(TyKind::Named(id))
    }

    /// Allocates a named type for the schema at `loc` before its body is lowered, so that references
    /// back to it (recursion) resolve to it.
    fn reserve(&mut self, loc: &Loc, hint: &str, schema: Option<&Map<String, Value>>) -> TypeId {
        let name = match component_schema_key(loc) {
            Some(key) => {
                let name = naming::type_name(&key, "Schema");
                match self.names.claim(&name, &key, Some(loc)) {
                    Ok(()) => name,
                    Err(_) => self.names.suggest(&name, &key),
                }
            }
            None => {
                let title = schema
                    .and_then(|s| s.member("title"))
                    .and_then(Value::as_str)
                    .map(|t| naming::type_name(t, ""))
                    .filter(|t| !t.is_empty() && !self.names.contains(t));
                let name = title.unwrap_or_else(|| naming::type_name(hint, "Anonymous"));
                self.names.suggest(&name, hint)
            }
        };
        let id = TypeId(self.types.len());
        self.types.push(TypeDef {
            rust_name: name,
            origin: self.origin(loc),
            kind: TypeKind::Alias {
                target: Box::new(Ty::plain(TyKind::Any)),
            },
            docs: schema.map(docs).unwrap_or_default(),
        });
        self.named.insert(loc.clone(), id);
        id
    }

    fn origin(&self, loc: &Loc) -> String {
        format!(
            "{}#{}",
            self.sources.file(loc.file).display_name(),
            loc.pointer
        )
    }

    fn lower_enum(
        &mut self,
        loc: &Loc,
        schema: &'s Map<String, Value>,
        values: &[Value],
        hint: &str,
    ) -> Ty {
        let non_null: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
        let has_null = non_null.len() < values.len();
        let kind = if !non_null.is_empty() && non_null.iter().all(|v| v.is_string()) {
            let id = self.reserve(loc, hint, Some(schema));
            let mut variants_ns = Namespace::new();
            let mut variants = Vec::new();
            for (i, value) in non_null.iter().enumerate() {
                let value = value.as_str().unwrap_or_default();
                let rust_name = naming::type_name(value, &format!("Value{i}"));
                if let Err(clash) = variants_ns.claim(&rust_name, value, None) {
                    self.enum_clash(loc, value, &rust_name, &clash);
                    continue;
                }
                variants.push(EnumVariant {
                    value: value.to_owned(),
                    rust_name,
                });
            }
            self.types[id.0].kind = TypeKind::StringEnum { variants };
            TyKind::Named(id)
        } else if !non_null.is_empty() && non_null.iter().all(|v| v.is_i64()) {
            let id = self.reserve(loc, hint, Some(schema));
            let variants = non_null
                .iter()
                .filter_map(|v| v.as_i64())
                .map(|value| IntegerVariant {
                    value,
                    rust_name: if value < 0 {
                        format!("Minus{}", value.unsigned_abs())
                    } else {
                        format!("V{value}")
                    },
                })
                .collect();
            self.types[id.0].kind = TypeKind::IntegerEnum { variants };
            TyKind::Named(id)
        } else {
            // Mixed or non-string values: the base type, with the values as a constraint.
            let mut ty = self.lower_typed(loc, schema, hint);
            ty.constraints.allowed = Some(values.to_vec());
            return Ty {
                nullable: has_null,
                ..ty
            };
        };
        Ty {
            kind,
            nullable: has_null,
            constraints: Constraints::default(),
        }
    }

    fn enum_clash(&mut self, loc: &Loc, value: &str, rust_name: &str, clash: &naming::Clash) {
        self.diagnostics.push(
            Diagnostic::new(
                Code::NameCollision,
                Some(loc.child("enum")),
                format!(
                    "enum values `{value}` and `{}` both become the variant `{rust_name}`",
                    clash.first.0
                ),
            )
            .with_help("add `x-enum-varnames` is not supported yet; change one of the values"),
        );
    }

    fn lower_union(
        &mut self,
        loc: &Loc,
        schema: &'s Map<String, Value>,
        (keyword, arms): (&str, &'s [Value]),
        hint: &str,
    ) -> Ty {
        let arms_loc = loc.child(keyword);
        let mut nullable = false;
        let mut kept: Vec<Loc> = Vec::new();
        for (i, arm) in arms.iter().enumerate() {
            let arm_loc = arms_loc.index(i);
            if self.is_null_schema(&arm_loc, arm) {
                nullable = true;
            } else {
                kept.push(arm_loc);
            }
        }
        let mut ty = match kept.as_slice() {
            [] => Ty::plain(TyKind::Null),
            [only] => self.lower(only, hint),
            _ => {
                let id = self.reserve(loc, hint, Some(schema));
                let type_name = self.types[id.0].rust_name.clone();
                let tagging = self.union_tagging(schema, &kept);
                let mut variant_names = Namespace::new();
                let mut variants = Vec::new();
                for (i, arm_loc) in kept.iter().enumerate() {
                    let tag = match &tagging {
                        // With a `discriminator` and no `const` in the arm, the value is the arm's
                        // schema name (the OpenAPI convention AsyncAPI follows).
                        Tagging::Internal { property } => self
                            .const_property(arm_loc, property)
                            .or_else(|| self.ref_component_name(arm_loc)),
                        Tagging::Untagged => None,
                    };
                    let arm_ty = self.lower(arm_loc, &format!("{type_name}Variant{i}"));
                    let base = self.variant_base_name(&arm_ty, tag.as_deref(), arm_loc, i);
                    let rust_name = variant_names.suggest(&base, &base);
                    variants.push(UnionVariant {
                        rust_name,
                        ty: arm_ty,
                        tag,
                    });
                }
                self.types[id.0].kind = TypeKind::Union { variants, tagging };
                Ty::plain(TyKind::Named(id))
            }
        };
        ty.nullable |= nullable;
        ty
    }

    fn variant_base_name(&self, ty: &Ty, tag: Option<&str>, arm_loc: &Loc, index: usize) -> String {
        let fallback = format!("Variant{index}");
        if let TyKind::Named(id) = ty.kind {
            return self.types[id.0].rust_name.clone();
        }
        if let Some(tag) = tag {
            return naming::type_name(tag, &fallback);
        }
        let title = self
            .sources
            .get(arm_loc)
            .and_then(|s| s.member("title"))
            .and_then(Value::as_str);
        match (title, &ty.kind) {
            (Some(title), _) => naming::type_name(title, &fallback),
            (None, TyKind::String(_)) => "String".to_owned(),
            (None, TyKind::Integer(_)) => "Integer".to_owned(),
            (None, TyKind::Number) => "Number".to_owned(),
            (None, TyKind::Boolean) => "Boolean".to_owned(),
            (None, TyKind::Array(_)) => "Array".to_owned(),
            (None, TyKind::Map(_)) => "Object".to_owned(),
            _ => fallback,
        }
    }

    fn is_null_schema(&self, loc: &Loc, arm: &Value) -> bool {
        let arm = match arm.member("$ref") {
            Some(_) => match self.sources.resolve(loc) {
                Ok(resolved) => resolved.value,
                Err(_) => return false,
            },
            None => arm,
        };
        arm.member("type").and_then(Value::as_str) == Some("null")
            || arm.member("const") == Some(&Value::Null)
    }

    /// How the arms of a union are told apart: an AsyncAPI `discriminator`, else the first property
    /// that every arm fixes to a distinct constant string.
    fn union_tagging(&self, schema: &Map<String, Value>, arms: &[Loc]) -> Tagging {
        if let Some(Value::String(property)) = schema.member("discriminator") {
            return Tagging::Internal {
                property: property.clone(),
            };
        }
        let Some(first) = arms.first() else {
            return Tagging::Untagged;
        };
        for property in self.const_properties(first) {
            let values: Option<Vec<String>> = arms
                .iter()
                .map(|arm| self.const_property(arm, &property))
                .collect();
            if let Some(values) = values {
                let distinct: FastSet<&String> = values.iter().collect();
                if distinct.len() == values.len() {
                    return Tagging::Internal { property };
                }
            }
        }
        Tagging::Untagged
    }

    /// The `components.schemas` key a schema `$ref`s, if it is one.
    fn ref_component_name(&self, loc: &Loc) -> Option<String> {
        let reference = self.sources.get(loc)?.member("$ref")?.as_str()?;
        let target = self.sources.ref_target(loc, reference).ok()?;
        component_schema_key(&target)
    }

    /// The properties of the object schema at `loc` whose value is a constant string, in order.
    pub(super) fn const_properties(&self, loc: &Loc) -> Vec<String> {
        let mut out = Vec::new();
        for (name, property_loc, _) in self.object_parts(loc).properties {
            if self.const_of(&property_loc).is_some() && !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }

    /// The constant string of `property` in the object schema at `loc` (`const`, or a one-value
    /// `enum`); for Chanx, `action` carries `const` and `default` and is not required.
    pub(super) fn const_property(&self, loc: &Loc, property: &str) -> Option<String> {
        let parts = self.object_parts(loc);
        let (_, property_loc, _) = parts
            .properties
            .iter()
            .find(|(name, _, _)| name == property)?;
        self.const_of(property_loc)
    }

    fn const_of(&self, loc: &Loc) -> Option<String> {
        let schema = self.sources.resolve(loc).ok()?.value;
        match schema.member("const") {
            Some(Value::String(value)) => Some(value.clone()),
            _ => match schema.member("enum") {
                Some(Value::Array(values)) if values.len() == 1 => {
                    values[0].as_str().map(str::to_owned)
                }
                _ => None,
            },
        }
    }

    /// The properties, `required` and `additionalProperties` of the object schema at `loc`, following
    /// `$ref`s and merging `allOf` parts (depth-first, in order).
    fn object_parts(&self, loc: &Loc) -> ObjectParts<'s> {
        let mut parts = ObjectParts::default();
        let mut stack = vec![loc.clone()];
        let mut seen = FastSet::default();
        while let Some(loc) = stack.pop() {
            let Ok(resolved) = self.sources.resolve(&loc) else {
                continue;
            };
            if !seen.insert(resolved.loc.clone()) {
                continue;
            }
            let Some(schema) = resolved.value.as_object() else {
                continue;
            };
            if let Some(Value::Object(properties)) = schema.member("properties") {
                let at = resolved.loc.child("properties");
                for (name, property) in properties {
                    if !parts.properties.iter().any(|(n, _, _)| n == name) {
                        parts
                            .properties
                            .push((name.clone(), at.child(name), property));
                    }
                }
            }
            if let Some(Value::Array(required)) = schema.member("required") {
                parts
                    .required
                    .extend(required.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            if schema.member("additionalProperties").is_some() {
                parts.additional = Some(resolved.loc.child("additionalProperties"));
            }
            if let Some(Value::Array(all_of)) = schema.member("allOf") {
                let at = resolved.loc.child("allOf");
                for i in (0..all_of.len()).rev() {
                    stack.push(at.index(i));
                }
            }
        }
        parts
    }

    fn lower_all_of(
        &mut self,
        loc: &Loc,
        schema: &'s Map<String, Value>,
        part_count: usize,
        hint: &str,
    ) -> Ty {
        let parts_loc = loc.child("allOf");
        // Parts that only annotate (`- description: ...` beside a `$ref`) add no shape.
        let shaping: Vec<Loc> = (0..part_count)
            .map(|i| parts_loc.index(i))
            .filter(|part| {
                !self
                    .sources
                    .get(part)
                    .and_then(Value::as_object)
                    .is_some_and(is_annotation_only)
            })
            .collect();
        let own_shape = ["properties", "required", "additionalProperties"]
            .iter()
            .any(|k| schema.member(k).is_some());
        if let ([only], false) = (shaping.as_slice(), own_shape) {
            return self.lower(only, hint);
        }
        let all_objects = shaping.iter().all(|part| {
            self.sources
                .resolve(part)
                .ok()
                .and_then(|r| r.value.as_object())
                .is_some_and(is_object_like)
        });
        if !all_objects {
            self.unsupported(
                loc,
                "`allOf` of schemas that are not all objects cannot be merged; it is read as any value",
            );
            return Ty::plain(TyKind::Any);
        }
        self.lower_struct(loc, schema, hint)
    }

    fn lower_typed(&mut self, loc: &Loc, schema: &'s Map<String, Value>, hint: &str) -> Ty {
        let types = declared_types(schema);
        match types.as_slice() {
            [] => self.lower_inferred(loc, schema, hint),
            [only] => self.lower_type(loc, schema, only, hint),
            several => {
                // `type: [string, integer]`: an untagged union of the primitives.
                let id = self.reserve(loc, hint, Some(schema));
                let mut variants = Vec::new();
                for name in several {
                    let ty = self.lower_type(loc, schema, name, hint);
                    variants.push(UnionVariant {
                        rust_name: naming::type_name(name, "Value"),
                        ty,
                        tag: None,
                    });
                }
                self.types[id.0].kind = TypeKind::Union {
                    variants,
                    tagging: Tagging::Untagged,
                };
                Ty::plain(TyKind::Named(id))
            }
        }
    }

    fn lower_inferred(&mut self, loc: &Loc, schema: &'s Map<String, Value>, hint: &str) -> Ty {
        let has = |keys: &[&str]| keys.iter().any(|k| schema.member(k).is_some());
        let inferred = if has(&[
            "properties",
            "additionalProperties",
            "required",
            "patternProperties",
        ]) {
            "object"
        } else if has(&["items", "prefixItems", "minItems", "maxItems"]) {
            "array"
        } else if has(&["minLength", "maxLength", "pattern", "format"]) {
            "string"
        } else if has(&[
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "multipleOf",
        ]) {
            "number"
        } else {
            return Ty::plain(TyKind::Any);
        };
        self.lower_type(loc, schema, inferred, hint)
    }

    fn lower_type(
        &mut self,
        loc: &Loc,
        schema: &'s Map<String, Value>,
        name: &str,
        hint: &str,
    ) -> Ty {
        let kind = match name {
            "string" => TyKind::String(string_format(schema)),
            "integer" => TyKind::Integer(match schema.member("format").and_then(Value::as_str) {
                Some("int32") => IntegerFormat::Int32,
                _ => IntegerFormat::Int64,
            }),
            "number" => TyKind::Number,
            "boolean" => TyKind::Boolean,
            "null" => TyKind::Null,
            "array" => return self.lower_array(loc, schema, hint),
            "object" => {
                let has_properties = schema
                    .member("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|p| !p.is_empty());
                let closed = schema.member("additionalProperties") == Some(&Value::Bool(false));
                if has_properties || closed {
                    return self.lower_struct(loc, schema, hint);
                }
                let values = match schema.member("additionalProperties") {
                    Some(Value::Object(_)) => {
                        self.lower(&loc.child("additionalProperties"), &format!("{hint}Value"))
                    }
                    _ => Ty::plain(TyKind::Any),
                };
                TyKind::Map(Box::new(values))
            }
            other => {
                self.diagnostics.push(Diagnostic::new(
                    Code::UnsupportedSchema,
                    Some(loc.child("type")),
                    format!("unknown schema type `{other}`"),
                ));
                TyKind::Any
            }
        };
        Ty::plain(kind)
    }

    fn lower_array(&mut self, loc: &Loc, schema: &'s Map<String, Value>, hint: &str) -> Ty {
        // `prefixItems` (2020-12) or the draft-07 array form of `items`: a tuple.
        let tuple_key = match (schema.member("prefixItems"), schema.member("items")) {
            (Some(Value::Array(_)), _) => Some("prefixItems"),
            (_, Some(Value::Array(_))) => Some("items"),
            _ => None,
        };
        if let Some(key) = tuple_key {
            let count = schema
                .member(key)
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let at = loc.child(key);
            let items = (0..count)
                .map(|i| self.lower(&at.index(i), &format!("{hint}Item{i}")))
                .collect();
            return Ty::plain(TyKind::Tuple(items));
        }
        let item = match schema.member("items") {
            Some(Value::Object(_)) => self.lower(&loc.child("items"), &format!("{hint}Item")),
            _ => Ty::plain(TyKind::Any),
        };
        Ty::plain(TyKind::Array(Box::new(item)))
    }

    fn lower_struct(&mut self, loc: &Loc, schema: &'s Map<String, Value>, hint: &str) -> Ty {
        if let Some(id) = self.named.get(loc) {
            return Ty::plain(TyKind::Named(*id));
        }
        let id = self.reserve(loc, hint, Some(schema));
        let struct_name = self.types[id.0].rust_name.clone();
        let parts = self.object_parts(loc);
        let mut field_names = Namespace::new();
        let mut fields = Vec::new();
        for (wire_name, property_loc, property) in &parts.properties {
            let rust_name = naming::snake_name(wire_name, "field");
            if let Err(clash) = field_names.claim(&rust_name, wire_name, Some(property_loc)) {
                self.report_clash(&rust_name, wire_name, property_loc, clash);
                continue;
            }
            let property_hint = format!("{struct_name}{}", naming::type_name(wire_name, "Field"));
            let ty = self.lower_value(property_loc, property, &property_hint);
            let property = property.as_object();
            fields.push(Field {
                wire_name: wire_name.clone(),
                rust_name,
                ty,
                required: parts.required.contains(wire_name),
                default: property.and_then(|p| p.member("default")).cloned(),
                docs: Docs {
                    title: None,
                    summary: None,
                    description: property
                        .and_then(|p| p.member("description"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                },
            });
        }
        let additional = match &parts.additional {
            None => Additional::Ignore,
            Some(at) => match self.sources.get(at) {
                Some(Value::Bool(false)) => Additional::Deny,
                Some(Value::Object(_)) => {
                    Additional::Typed(Box::new(self.lower(at, &format!("{struct_name}Extra"))))
                }
                _ => Additional::Ignore,
            },
        };
        self.types[id.0].kind = TypeKind::Struct { fields, additional };
        Ty::plain(TyKind::Named(id))
    }
}

/// The keyword and arms of a `oneOf` or `anyOf`, if the schema has one.
fn union_arms(schema: &Map<String, Value>) -> Option<(&'static str, &[Value])> {
    for keyword in ["oneOf", "anyOf"] {
        if let Some(Value::Array(arms)) = schema.member(keyword) {
            return Some((keyword, arms));
        }
    }
    None
}

/// Whether lowering this schema creates a named type by itself (so a component must not add an alias).
fn needs_name(schema: &Map<String, Value>) -> bool {
    if schema.member("$ref").is_some() || schema.member("const").is_some() {
        return false;
    }
    if let Some(Value::Array(values)) = schema.member("enum") {
        let non_null: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
        return !non_null.is_empty()
            && (non_null.iter().all(|v| v.is_string()) || non_null.iter().all(|v| v.is_i64()));
    }
    if let Some((_, arms)) = union_arms(schema) {
        return arms
            .iter()
            .filter(|a| a.member("type") != Some(&"null".into()))
            .count()
            > 1;
    }
    if schema.member("allOf").is_some() {
        return true;
    }
    let types = declared_types(schema);
    if types.len() > 1 {
        return true;
    }
    let is_object = types.first().is_some_and(|t| t == "object")
        || (types.is_empty() && is_object_like(schema));
    is_object
        && (schema
            .member("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty())
            || schema.member("additionalProperties") == Some(&Value::Bool(false)))
}

/// Whether a schema only carries documentation (and so constrains nothing).
fn is_annotation_only(schema: &Map<String, Value>) -> bool {
    schema.keys().all(|k| {
        matches!(
            k.as_str(),
            "description"
                | "title"
                | "examples"
                | "example"
                | "default"
                | "deprecated"
                | "$comment"
                | "readOnly"
                | "writeOnly"
        ) || k.starts_with("x-")
    })
}

fn is_object_like(schema: &Map<String, Value>) -> bool {
    schema.member("type").and_then(Value::as_str) == Some("object")
        || ["properties", "required", "additionalProperties", "allOf"]
            .iter()
            .any(|k| schema.member(k).is_some())
}

/// The non-null names in `type` (a string or an array).
fn declared_types(schema: &Map<String, Value>) -> Vec<String> {
    match schema.member("type") {
        Some(Value::String(t)) if t != "null" => vec![t.clone()],
        Some(Value::String(_)) => vec!["null".to_owned()],
        Some(Value::Array(types)) => {
            let names: Vec<String> = types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .map(str::to_owned)
                .collect();
            if names.is_empty() && !types.is_empty() {
                vec!["null".to_owned()]
            } else {
                names
            }
        }
        _ => Vec::new(),
    }
}

fn is_nullable(schema: &Map<String, Value>) -> bool {
    schema.member("nullable") == Some(&Value::Bool(true))
        || matches!(schema.member("type"), Some(Value::Array(types))
            if types.len() > 1 && types.iter().any(|t| t == "null"))
}

fn const_ty(value: &Value) -> Ty {
    match value {
        Value::Null => Ty::plain(TyKind::Null),
        other => Ty::plain(TyKind::Const(other.clone())),
    }
}

fn string_format(schema: &Map<String, Value>) -> StringFormat {
    match schema.member("format").and_then(Value::as_str) {
        Some("date-time") => StringFormat::DateTime,
        Some("date") => StringFormat::Date,
        Some("time") => StringFormat::Time,
        Some("uuid") => StringFormat::Uuid,
        Some("binary" | "byte") => StringFormat::Bytes,
        _ => StringFormat::Plain,
    }
}

fn docs(schema: &Map<String, Value>) -> Docs {
    let text = |key: &str| {
        schema
            .member(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Docs {
        title: text("title"),
        summary: None,
        description: text("description"),
    }
}

fn number(schema: &Map<String, Value>, key: &str) -> Option<f64> {
    schema.member(key).and_then(Value::as_f64)
}

fn count(schema: &Map<String, Value>, key: &str) -> Option<u64> {
    schema.member(key).and_then(Value::as_u64)
}

/// The validation keywords of one schema.
fn constraints(schema: &Map<String, Value>) -> Constraints {
    // Draft 4 wrote `exclusiveMinimum: true` beside `minimum`.
    let exclusive = |key: &str, bound: &str| match schema.member(key) {
        Some(Value::Bool(true)) => number(schema, bound),
        _ => number(schema, key),
    };
    let draft4_min = schema.member("exclusiveMinimum") == Some(&Value::Bool(true));
    let draft4_max = schema.member("exclusiveMaximum") == Some(&Value::Bool(true));
    Constraints {
        min_length: count(schema, "minLength"),
        max_length: count(schema, "maxLength"),
        pattern: schema
            .member("pattern")
            .and_then(Value::as_str)
            .map(str::to_owned),
        format: schema
            .member("format")
            .and_then(Value::as_str)
            .map(str::to_owned),
        minimum: number(schema, "minimum").filter(|_| !draft4_min),
        maximum: number(schema, "maximum").filter(|_| !draft4_max),
        exclusive_minimum: exclusive("exclusiveMinimum", "minimum"),
        exclusive_maximum: exclusive("exclusiveMaximum", "maximum"),
        multiple_of: number(schema, "multipleOf"),
        min_items: count(schema, "minItems"),
        max_items: count(schema, "maxItems"),
        unique_items: schema.member("uniqueItems") == Some(&Value::Bool(true)),
        min_properties: count(schema, "minProperties"),
        max_properties: count(schema, "maxProperties"),
        allowed: None,
    }
}

/// Adds the constraints of `extra` that `into` does not set.
fn merge_constraints(into: &mut Constraints, extra: Constraints) {
    fn take<T>(slot: &mut Option<T>, value: Option<T>) {
        if slot.is_none() {
            *slot = value;
        }
    }
    take(&mut into.min_length, extra.min_length);
    take(&mut into.max_length, extra.max_length);
    take(&mut into.pattern, extra.pattern);
    take(&mut into.format, extra.format);
    take(&mut into.minimum, extra.minimum);
    take(&mut into.maximum, extra.maximum);
    take(&mut into.exclusive_minimum, extra.exclusive_minimum);
    take(&mut into.exclusive_maximum, extra.exclusive_maximum);
    take(&mut into.multiple_of, extra.multiple_of);
    take(&mut into.min_items, extra.min_items);
    take(&mut into.max_items, extra.max_items);
    into.unique_items |= extra.unique_items;
    take(&mut into.min_properties, extra.min_properties);
    take(&mut into.max_properties, extra.max_properties);
    take(&mut into.allowed, extra.allowed);
}

/// The key of `loc` when it is `#/components/schemas/<key>` (in any file).
pub(super) fn component_schema_key(loc: &Loc) -> Option<String> {
    let rest = loc.pointer.strip_prefix("/components/schemas/")?;
    if rest.contains('/') {
        return None;
    }
    parse_pointer(&format!("/{rest}")).next()
}

/// A type name from a pointer, for schemas reached by `$ref` outside `components.schemas`: the last
/// segment that is not a schema keyword (`/channels/chat/messages/ping/payload` gives `PingPayload`).
fn pointer_name(loc: &Loc) -> String {
    const KEYWORDS: &[&str] = &[
        "properties",
        "items",
        "allOf",
        "anyOf",
        "oneOf",
        "components",
        "schemas",
        "channels",
        "messages",
        "definitions",
        "$defs",
        "additionalProperties",
        "prefixItems",
    ];
    let segments: Vec<String> = parse_pointer(&loc.pointer)
        .filter(|s| !KEYWORDS.contains(&s.as_str()) && s.parse::<usize>().is_err())
        .collect();
    // A generic last word (`payload`) takes its owner's name in front (`ping` + `payload`).
    let generic = |s: &String| matches!(s.as_str(), "payload" | "headers" | "schema" | "query");
    let take = match segments.last() {
        Some(last) if generic(last) => 2,
        _ => 1,
    };
    let tail = segments.len().saturating_sub(take);
    naming::type_name(&segments[tail..].join(" "), "Schema")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn lower_all(text: &str) -> (TypeBuilder<'static>, Vec<Ty>) {
        let (sources, diagnostics) = Sources::load_text(Path::new("t.yaml"), text.to_owned());
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let sources: &'static Sources = Box::leak(Box::new(sources));
        let mut builder = TypeBuilder::new(sources);
        let root = Loc::root(Sources::ENTRY).child("s");
        let count = sources
            .get(&root)
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let tys = (0..count)
            .map(|i| builder.lower(&root.index(i), &format!("T{i}")))
            .collect();
        (builder, tys)
    }

    fn named<'a>(builder: &'a TypeBuilder<'_>, ty: &Ty) -> &'a TypeDef {
        match ty.kind {
            TyKind::Named(id) => &builder.types[id.0],
            ref other => panic!("not named: {other:?}"),
        }
    }

    #[test]
    fn chanx_optional_and_action_tag() {
        let (builder, tys) = lower_all(
            r#"
s:
  - anyOf: [{$ref: '#/defs/A'}, {type: 'null'}]
    default: null
  - oneOf: [{$ref: '#/defs/A'}, {$ref: '#/defs/B'}]
defs:
  A:
    type: object
    title: AMsg
    properties:
      action: {const: a, default: a, type: string}
      payload: {type: string, minLength: 2}
  B:
    type: object
    properties:
      action: {const: b, default: b, type: string}
"#,
        );
        assert!(tys[0].nullable);
        assert_eq!(named(&builder, &tys[0]).rust_name, "AMsg");
        let union = named(&builder, &tys[1]);
        let TypeKind::Union { variants, tagging } = &union.kind else {
            panic!("{union:?}")
        };
        assert_eq!(
            tagging,
            &Tagging::Internal {
                property: "action".into()
            }
        );
        assert_eq!(variants[0].tag.as_deref(), Some("a"));
        assert_eq!(variants[1].rust_name, "B");
        let TypeKind::Struct { fields, .. } = &named(&builder, &tys[0]).kind else {
            panic!()
        };
        assert_eq!(fields[1].ty.constraints.min_length, Some(2));
        assert!(!fields[0].required);
    }

    #[test]
    fn recursion_stays_a_reference() {
        let (builder, tys) = lower_all(
            r#"
s: [{$ref: '#/components/schemas/Node'}]
components:
  schemas:
    Node:
      type: object
      properties:
        children: {type: array, items: {$ref: '#/components/schemas/Node'}}
"#,
        );
        let node = named(&builder, &tys[0]);
        assert_eq!(node.rust_name, "Node");
        let TypeKind::Struct { fields, .. } = &node.kind else {
            panic!()
        };
        assert_eq!(
            fields[0].ty.kind,
            TyKind::Array(Box::new(Ty::plain(TyKind::Named(TypeId(0)))))
        );
    }

    #[test]
    fn nullable_forms_and_primitives() {
        let (builder, tys) = lower_all(
            r#"
s:
  - {type: [string, 'null'], format: uuid}
  - {type: integer, nullable: true, minimum: 1}
  - {type: object, additionalProperties: {type: integer}}
  - {type: array, prefixItems: [{type: integer}, {type: string}]}
  - {enum: [low, high, null]}
  - {enum: [400, 401]}
  - {type: object, properties: {a: {type: string}}, additionalProperties: false}
  - {allOf: [{properties: {a: {type: string}}, required: [a]}, {properties: {b: {type: number}}}]}
"#,
        );
        assert_eq!(tys[0].kind, TyKind::String(StringFormat::Uuid));
        assert!(tys[0].nullable);
        assert!(tys[1].nullable);
        assert_eq!(tys[1].constraints.minimum, Some(1.0));
        assert!(matches!(tys[2].kind, TyKind::Map(_)));
        assert!(matches!(&tys[3].kind, TyKind::Tuple(items) if items.len() == 2));
        assert!(tys[4].nullable);
        assert!(matches!(
            named(&builder, &tys[4]).kind,
            TypeKind::StringEnum { .. }
        ));
        assert!(matches!(
            named(&builder, &tys[5]).kind,
            TypeKind::IntegerEnum { .. }
        ));
        assert!(matches!(
            named(&builder, &tys[6]).kind,
            TypeKind::Struct {
                additional: Additional::Deny,
                ..
            }
        ));
        let TypeKind::Struct { fields, .. } = &named(&builder, &tys[7]).kind else {
            panic!()
        };
        let names: Vec<(&str, bool)> = fields
            .iter()
            .map(|f| (f.wire_name.as_str(), f.required))
            .collect();
        assert_eq!(names, [("a", true), ("b", false)]);
    }

    #[test]
    fn primitive_components_become_aliases() {
        let (builder, tys) = lower_all(
            "s: [{$ref: '#/components/schemas/Id'}]\ncomponents:\n  schemas:\n    Id: {type: string, maxLength: 8}\n",
        );
        let TypeKind::Alias { target } = &named(&builder, &tys[0]).kind else {
            panic!()
        };
        assert_eq!(target.kind, TyKind::String(StringFormat::Plain));
        assert_eq!(target.constraints.max_length, Some(8));
    }

    #[test]
    fn field_collisions_are_errors() {
        let (builder, _) = lower_all(
            "s:\n  - type: object\n    properties:\n      userName: {type: string}\n      user_name: {type: string}\n",
        );
        let codes: Vec<Code> = builder.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::NameCollision]);
    }
}

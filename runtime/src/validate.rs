//! Validation with pydantic's error types and messages.
//!
//! Two paths share these messages:
//!
//! * the **fast path**: serde has decoded a generated type; its [`Validate`] impl checks the JSON Schema
//!   constraints serde cannot express ([`check_str`], [`check_number`], [`check_list`]), reporting at
//!   the current location of an [`Errors`];
//! * the **slow path**: serde refused the frame; [`check_value`] walks the JSON value against a static
//!   [`Schema`] (emitted by the generator next to each type) and reports every error pydantic would, in
//!   pydantic's order.
//!
//! `check_value` follows pydantic's **lax** mode, as Chanx validates `json.loads` output with
//! `validate_python`: numeric strings are integers and numbers, `1.0` is an integer, `"yes"`/`0`/`1` are
//! booleans, unix timestamps are datetimes, and so on. The fast path (serde) is **stricter**: such an
//! input fails to decode, the slow path then finds nothing wrong, and
//! [`decode_message`](crate::decode::decode_message) converts the frame with [`coerce`] as pydantic
//! does and decodes it again; only conversions `coerce` does not know (a unix timestamp for a
//! datetime) end in one `value_error` carrying serde's message.
//!
//! Statics: everything here is `const`-constructible so that generated code can write
//! `pub static CHAT: Schema = Schema::Object(&CHAT_OBJECT);` and refer to other statics (recursive types
//! go through `&'static`). Use `static`, not `const`, for anything that holds a [`Pattern`] (it caches
//! its compiled regex).

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde_json::Value;

use crate::decode::tag_error_item;
use crate::protocol::{ErrorItem, LocItem};
use crate::{pyfmt, temporal};

// ---------------------------------------------------------------------------------------------------
// Errors

/// Collected validation errors and the location currently being validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Errors {
    path: Vec<LocItem>,
    items: Vec<ErrorItem>,
}

impl Errors {
    /// No errors, at the root (`loc: []`).
    pub fn new() -> Self {
        Errors::default()
    }

    /// No errors, at `[tag]`: where Chanx roots a message's errors.
    pub fn rooted(tag: &str) -> Self {
        Errors {
            // Messages without a tag (a channel dispatched by shape) report from the frame's root.
            path: if tag.is_empty() {
                Vec::new()
            } else {
                vec![LocItem::Key(tag.to_owned())]
            },
            items: Vec::new(),
        }
    }

    /// Descends into an object key.
    pub fn push_key(&mut self, key: &str) {
        self.path.push(LocItem::Key(key.to_owned()));
    }

    /// Descends into a list index.
    pub fn push_index(&mut self, index: usize) {
        self.path.push(LocItem::Index(index));
    }

    /// Goes back up one level.
    pub fn pop(&mut self) {
        self.path.pop();
    }

    /// Validates `value` one key deeper: what a generated `Validate` impl says for a field whose
    /// checks are all in the types it contains.
    pub fn field<T: Validate + ?Sized>(&mut self, key: &str, value: &T) {
        self.push_key(key);
        value.validate(self);
        self.pop();
    }

    /// Runs `f` one key deeper.
    pub fn at_key(&mut self, key: &str, f: impl FnOnce(&mut Errors)) {
        self.push_key(key);
        f(self);
        self.pop();
    }

    /// Runs `f` one index deeper.
    pub fn at_index(&mut self, index: usize, f: impl FnOnce(&mut Errors)) {
        self.push_index(index);
        f(self);
        self.pop();
    }

    /// Records an error at the current location.
    pub fn report(&mut self, kind: &str, msg: String) {
        self.items.push(ErrorItem {
            kind: kind.to_owned(),
            loc: self.path.clone(),
            msg,
        });
    }

    /// Records an error whose `loc` is relative to the current location.
    pub fn report_item(&mut self, item: ErrorItem) {
        let mut loc = self.path.clone();
        loc.extend(item.loc);
        self.items.push(ErrorItem {
            kind: item.kind,
            loc,
            msg: item.msg,
        });
    }

    /// Whether no error was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many errors were recorded.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The errors recorded so far.
    pub fn items(&self) -> &[ErrorItem] {
        &self.items
    }

    /// The errors, in the order recorded.
    pub fn into_items(self) -> Vec<ErrorItem> {
        self.items
    }
}

// ---------------------------------------------------------------------------------------------------
// The Validate trait

/// Checks the constraints of a decoded value (the fast path), reporting into `errors` at its current
/// location. Generated types implement it field by field, in field order; a type without
/// constraints anywhere inside it keeps the default, which reports nothing.
pub trait Validate {
    /// Reports every constraint violation of `self`.
    fn validate(&self, errors: &mut Errors) {
        let _ = errors;
    }
}

macro_rules! no_op_validate {
    ($($t:ty),* $(,)?) => {
        $(impl Validate for $t {
            #[inline]
            fn validate(&self, _errors: &mut Errors) {}
        })*
    };
}

no_op_validate!(
    String, str, bool, char, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, (),
    Value, serde_json::Map<String, Value>, uuid::Uuid, chrono::NaiveDate, chrono::NaiveTime,
    chrono::NaiveDateTime, chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::FixedOffset>,
);

impl<T: Validate + ?Sized> Validate for &T {
    fn validate(&self, errors: &mut Errors) {
        (**self).validate(errors);
    }
}

impl<T: Validate + ?Sized> Validate for Box<T> {
    fn validate(&self, errors: &mut Errors) {
        (**self).validate(errors);
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate(&self, errors: &mut Errors) {
        if let Some(value) = self {
            value.validate(errors);
        }
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate(&self, errors: &mut Errors) {
        self.as_slice().validate(errors);
    }
}

impl<T: Validate> Validate for [T] {
    fn validate(&self, errors: &mut Errors) {
        for (index, item) in self.iter().enumerate() {
            errors.at_index(index, |e| item.validate(e));
        }
    }
}

impl<T: Validate> Validate for BTreeMap<String, T> {
    fn validate(&self, errors: &mut Errors) {
        for (key, value) in self {
            errors.at_key(key, |e| value.validate(e));
        }
    }
}

impl<T: Validate, S> Validate for indexmap::IndexMap<String, T, S> {
    fn validate(&self, errors: &mut Errors) {
        for (key, value) in self {
            errors.at_key(key, |e| value.validate(e));
        }
    }
}

impl<T: Validate, S> Validate for HashMap<String, T, S> {
    fn validate(&self, errors: &mut Errors) {
        let mut entries: Vec<(&String, &T)> = self.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        for (key, value) in entries {
            errors.at_key(key, |e| value.validate(e));
        }
    }
}

macro_rules! tuple_validate {
    ($($name:ident : $index:tt),+) => {
        impl<$($name: Validate),+> Validate for ($($name,)+) {
            fn validate(&self, errors: &mut Errors) {
                $(errors.at_index($index, |e| self.$index.validate(e));)+
            }
        }
    };
}

tuple_validate!(A: 0);
tuple_validate!(A: 0, B: 1);
tuple_validate!(A: 0, B: 1, C: 2);
tuple_validate!(A: 0, B: 1, C: 2, D: 3);
tuple_validate!(A: 0, B: 1, C: 2, D: 3, E: 4);
tuple_validate!(A: 0, B: 1, C: 2, D: 3, E: 4, F: 5);
tuple_validate!(A: 0, B: 1, C: 2, D: 3, E: 4, F: 5, G: 6);
tuple_validate!(A: 0, B: 1, C: 2, D: 3, E: 4, F: 5, G: 6, H: 7);

// ---------------------------------------------------------------------------------------------------
// Constraints

/// A JSON Schema `pattern`: an ECMA-262 regular expression, searched (not anchored), compiled on first
/// use. A pattern that does not compile matches every string (the generator validates patterns, so this
/// only guards against a panic).
#[derive(Debug)]
pub struct Pattern {
    source: &'static str,
    compiled: OnceLock<Option<regress::Regex>>,
}

impl Pattern {
    /// A pattern, not yet compiled.
    pub const fn new(source: &'static str) -> Self {
        Pattern {
            source,
            compiled: OnceLock::new(),
        }
    }

    /// The pattern as the spec wrote it.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// Whether the pattern matches somewhere in `text` (or does not compile).
    pub fn is_match(&self, text: &str) -> bool {
        match self
            .compiled
            .get_or_init(|| regress::Regex::new(self.source).ok())
        {
            Some(regex) => regex.find(text).is_some(),
            None => true,
        }
    }
}

/// String constraints: `minLength`, `maxLength` (in Unicode code points, as Python counts), `pattern`.
#[derive(Debug, Clone, Copy)]
pub struct StrConstraints {
    /// `minLength`.
    pub min_length: Option<u64>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `pattern`.
    pub pattern: Option<&'static Pattern>,
}

impl StrConstraints {
    /// No constraint.
    pub const NONE: Self = StrConstraints {
        min_length: None,
        max_length: None,
        pattern: None,
    };

    /// These constraints and `minLength`.
    pub const fn min_length(self, min_length: u64) -> Self {
        StrConstraints {
            min_length: Some(min_length),
            ..self
        }
    }

    /// These constraints and `maxLength`.
    pub const fn max_length(self, max_length: u64) -> Self {
        StrConstraints {
            max_length: Some(max_length),
            ..self
        }
    }

    fn is_none(&self) -> bool {
        self.min_length.is_none() && self.max_length.is_none() && self.pattern.is_none()
    }
}

/// A numeric bound: its value, and its text as pydantic prints it in messages.
///
/// pydantic-core prints a float bound with Rust's `{}` (`2.0` → `2`, `1e-7` → `0.0000001`,
/// `1e20` → `100000000000000000000`) and an integer bound as the integer; so `text` is
/// `format!("{}", value)` unless the bound is an integer too large for an `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    /// The value.
    pub value: f64,
    /// How messages print it.
    pub text: &'static str,
}

impl Bound {
    /// A bound.
    pub const fn new(value: f64, text: &'static str) -> Self {
        Bound { value, text }
    }
}

/// Number constraints (JSON Schema draft 2019+ semantics: exclusive bounds are numbers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumberConstraints {
    /// `minimum` (pydantic `ge`).
    pub minimum: Option<Bound>,
    /// `maximum` (pydantic `le`).
    pub maximum: Option<Bound>,
    /// `exclusiveMinimum` (pydantic `gt`).
    pub exclusive_minimum: Option<Bound>,
    /// `exclusiveMaximum` (pydantic `lt`).
    pub exclusive_maximum: Option<Bound>,
    /// `multipleOf`.
    pub multiple_of: Option<Bound>,
}

impl NumberConstraints {
    /// No constraint.
    pub const NONE: Self = NumberConstraints {
        minimum: None,
        maximum: None,
        exclusive_minimum: None,
        exclusive_maximum: None,
        multiple_of: None,
    };

    /// These constraints and `minimum` (`value`, printed as `text`).
    pub const fn minimum(self, value: f64, text: &'static str) -> Self {
        NumberConstraints {
            minimum: Some(Bound::new(value, text)),
            ..self
        }
    }

    /// These constraints and `maximum`.
    pub const fn maximum(self, value: f64, text: &'static str) -> Self {
        NumberConstraints {
            maximum: Some(Bound::new(value, text)),
            ..self
        }
    }

    /// These constraints and `exclusiveMinimum`.
    pub const fn exclusive_minimum(self, value: f64, text: &'static str) -> Self {
        NumberConstraints {
            exclusive_minimum: Some(Bound::new(value, text)),
            ..self
        }
    }

    /// These constraints and `exclusiveMaximum`.
    pub const fn exclusive_maximum(self, value: f64, text: &'static str) -> Self {
        NumberConstraints {
            exclusive_maximum: Some(Bound::new(value, text)),
            ..self
        }
    }

    /// These constraints and `multipleOf`.
    pub const fn multiple_of(self, value: f64, text: &'static str) -> Self {
        NumberConstraints {
            multiple_of: Some(Bound::new(value, text)),
            ..self
        }
    }

    fn is_none(&self) -> bool {
        *self == Self::NONE
    }
}

/// List constraints: `minItems`, `maxItems`, `uniqueItems`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemsConstraints {
    /// `minItems`.
    pub min_items: Option<u64>,
    /// `maxItems`.
    pub max_items: Option<u64>,
    /// `uniqueItems`.
    pub unique: bool,
}

impl ItemsConstraints {
    /// No constraint.
    pub const NONE: Self = ItemsConstraints {
        min_items: None,
        max_items: None,
        unique: false,
    };

    /// These constraints and `minItems`.
    pub const fn min_items(self, min_items: u64) -> Self {
        ItemsConstraints {
            min_items: Some(min_items),
            ..self
        }
    }

    /// These constraints and `maxItems`.
    pub const fn max_items(self, max_items: u64) -> Self {
        ItemsConstraints {
            max_items: Some(max_items),
            ..self
        }
    }

    /// These constraints and `uniqueItems: true`.
    pub const fn unique(self) -> Self {
        ItemsConstraints {
            unique: true,
            ..self
        }
    }

    fn is_none(&self) -> bool {
        *self == Self::NONE
    }
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Checks a string; reports at most one error, the first of `string_too_short`, `string_too_long`,
/// `string_pattern_mismatch` (pydantic's order).
pub fn check_str(errors: &mut Errors, value: &str, c: &StrConstraints) {
    if c.min_length.is_some() || c.max_length.is_some() {
        let length = value.chars().count() as u64;
        if let Some(min) = c.min_length {
            if length < min {
                errors.report(
                    "string_too_short",
                    format!("String should have at least {}", plural(min, "character")),
                );
                return;
            }
        }
        if let Some(max) = c.max_length {
            if length > max {
                errors.report(
                    "string_too_long",
                    format!("String should have at most {}", plural(max, "character")),
                );
                return;
            }
        }
    }
    if let Some(pattern) = c.pattern {
        if !pattern.is_match(value) {
            errors.report(
                "string_pattern_mismatch",
                format!("String should match pattern '{}'", pattern.source()),
            );
        }
    }
}

/// Checks a number; reports at most one error, the first of `multiple_of`, `less_than_equal`,
/// `less_than`, `greater_than_equal`, `greater_than` (pydantic's order). Integers are passed as `f64`.
pub fn check_number(errors: &mut Errors, value: f64, c: &NumberConstraints) {
    use std::cmp::Ordering::{Equal, Greater, Less};
    if let Some(m) = c.multiple_of {
        let bad = if value.fract() == 0.0
            && m.value.fract() == 0.0
            && value.abs() < 9.0e15
            && m.value != 0.0
        {
            (value as i64) % (m.value as i64) != 0
        } else {
            let rem = value % m.value;
            let threshold = value.abs() / 1e9;
            rem.abs() > threshold && (rem - m.value).abs() > threshold
        };
        if bad {
            errors.report(
                "multiple_of",
                format!("Input should be a multiple of {}", m.text),
            );
            return;
        }
    }
    let checks: [(Option<Bound>, &[std::cmp::Ordering], &str, &str); 4] = [
        (
            c.maximum,
            &[Less, Equal],
            "less_than_equal",
            "less than or equal to",
        ),
        (c.exclusive_maximum, &[Less], "less_than", "less than"),
        (
            c.minimum,
            &[Greater, Equal],
            "greater_than_equal",
            "greater than or equal to",
        ),
        (
            c.exclusive_minimum,
            &[Greater],
            "greater_than",
            "greater than",
        ),
    ];
    for (bound, allowed, kind, words) in checks {
        if let Some(bound) = bound {
            let ok = value
                .partial_cmp(&bound.value)
                .is_some_and(|o| allowed.contains(&o));
            if !ok {
                errors.report(kind, format!("Input should be {words} {}", bound.text));
                return;
            }
        }
    }
}

/// Checks a list's length and uniqueness (after its items were found valid); reports at most one
/// error: `too_long`, `too_short`, or (for `uniqueItems`, when `unique_ok` is false) `value_error`.
///
/// pydantic has no uniqueness check (a `set[T]` field deduplicates silently); a duplicate is reported
/// as the `value_error` a pydantic `AfterValidator` raising `ValueError` would give.
pub fn check_items(errors: &mut Errors, len: usize, c: &ItemsConstraints, unique_ok: bool) {
    if check_length(errors, "List", len, c.min_items, c.max_items) && c.unique && !unique_ok {
        errors.report(
            "value_error",
            "Value error, List should have unique items".to_owned(),
        );
    }
}

fn check_length(
    errors: &mut Errors,
    what: &str,
    len: usize,
    min: Option<u64>,
    max: Option<u64>,
) -> bool {
    let len64 = len as u64;
    if let Some(max) = max {
        if len64 > max {
            errors.report(
                "too_long",
                format!(
                    "{what} should have at most {} after validation, not {len}",
                    plural(max, "item")
                ),
            );
            return false;
        }
    }
    if let Some(min) = min {
        if len64 < min {
            errors.report(
                "too_short",
                format!(
                    "{what} should have at least {} after validation, not {len}",
                    plural(min, "item")
                ),
            );
            return false;
        }
    }
    true
}

/// Validates a list the way pydantic does: too long ⇒ only `too_long`; otherwise each item (at its
/// index), then, if no item failed, `too_short` and uniqueness (`unique_ok`, see [`check_items`]).
pub fn check_list<T: Validate>(
    errors: &mut Errors,
    items: &[T],
    c: &ItemsConstraints,
    unique_ok: bool,
) {
    if let Some(max) = c.max_items {
        if items.len() as u64 > max {
            check_length(errors, "List", items.len(), None, Some(max));
            return;
        }
    }
    let before = errors.len();
    items.validate(errors);
    if errors.len() == before {
        check_items(errors, items.len(), c, unique_ok);
    }
}

/// Whether no two items are equal (for `uniqueItems`).
pub fn all_unique<T: PartialEq>(items: &[T]) -> bool {
    items
        .iter()
        .enumerate()
        .all(|(i, a)| items[..i].iter().all(|b| a != b))
}

// ---------------------------------------------------------------------------------------------------
// The slow-path schema

/// A type, as the slow path checks it. `const`-constructible; see the module docs.
#[derive(Debug)]
pub enum Schema {
    /// Any value.
    Any,
    /// Only `null` (`none_required`).
    Null,
    /// A boolean (lax: `0`, `1`, `"yes"`, `"off"`, ...).
    Bool,
    /// An integer (lax: numeric strings, integral floats, booleans), with constraints.
    Int(NumberConstraints),
    /// A number (lax: numeric strings, booleans), with constraints.
    Number(NumberConstraints),
    /// A string, with constraints.
    Str(StrConstraints),
    /// A UUID string.
    Uuid,
    /// A `date-time` (lax: also dates and unix timestamps).
    DateTime,
    /// A `date`.
    Date,
    /// A `time`.
    Time,
    /// A single allowed value (`const`), as JSON text: `literal_error`.
    Const(&'static str),
    /// Allowed values of an inline `enum` (a Python `Literal[...]`), as JSON texts: `literal_error`.
    Literal(&'static [&'static str]),
    /// A string enum class (a named schema with `enum`): `enum` errors.
    StrEnum {
        /// The class name (used in union labels).
        name: &'static str,
        /// The values.
        values: &'static [&'static str],
    },
    /// An integer enum class: `enum` errors.
    IntEnum {
        /// The class name (used in union labels).
        name: &'static str,
        /// The values.
        values: &'static [i64],
    },
    /// A list of one item type.
    Array(&'static Schema, ItemsConstraints),
    /// A fixed-length list (`prefixItems`).
    Tuple(&'static [&'static Schema]),
    /// An object used as a map from string keys to one value type.
    Map(&'static Schema),
    /// An object with known properties (a pydantic model).
    Object(&'static ObjectSchema),
    /// A discriminated union: the arm is chosen by the string value of `property`.
    TaggedUnion {
        /// The discriminator property.
        property: &'static str,
        /// (tag, arm), in the spec's order (pydantic lists expected tags in this order).
        arms: &'static [(&'static str, &'static Schema)],
    },
    /// A union without a discriminator: valid when any arm is.
    Untagged(&'static [&'static Schema]),
    /// `null`, or the inner type.
    Nullable(&'static Schema),
}

impl Schema {
    /// A string without constraints.
    pub const STR: Schema = Schema::Str(StrConstraints::NONE);
    /// An integer without constraints.
    pub const INT: Schema = Schema::Int(NumberConstraints::NONE);
    /// A number without constraints.
    pub const NUMBER: Schema = Schema::Number(NumberConstraints::NONE);
}

/// An object's properties and what it does with others.
#[derive(Debug)]
pub struct ObjectSchema {
    /// The model name (used in `model_type` messages and union labels).
    pub name: &'static str,
    /// The properties, in order.
    pub fields: &'static [FieldSchema],
    /// `additionalProperties: false` (pydantic `extra="forbid"`): other keys are `extra_forbidden`.
    pub deny_unknown: bool,
    /// `additionalProperties: {schema}`: other keys' values are checked against it.
    pub additional: Option<&'static Schema>,
}

/// One property of an object.
#[derive(Debug)]
pub struct FieldSchema {
    /// The property name on the wire.
    pub name: &'static str,
    /// Whether a missing property is an error (`missing`).
    pub required: bool,
    /// Its type.
    pub schema: &'static Schema,
}

impl FieldSchema {
    /// A property that must be present.
    pub const fn required(name: &'static str, schema: &'static Schema) -> Self {
        FieldSchema {
            name,
            required: true,
            schema,
        }
    }

    /// A property that may be left out.
    pub const fn optional(name: &'static str, schema: &'static Schema) -> Self {
        FieldSchema {
            name,
            required: false,
            schema,
        }
    }
}

impl ObjectSchema {
    /// A model that ignores keys other than its properties (pydantic's default).
    pub const fn open(name: &'static str, fields: &'static [FieldSchema]) -> Self {
        ObjectSchema {
            name,
            fields,
            deny_unknown: false,
            additional: None,
        }
    }

    /// A model that rejects other keys (`additionalProperties: false`).
    pub const fn closed(name: &'static str, fields: &'static [FieldSchema]) -> Self {
        ObjectSchema {
            deny_unknown: true,
            ..Self::open(name, fields)
        }
    }

    /// The same model, checking other keys' values against `schema`.
    pub const fn with_additional(self, schema: &'static Schema) -> Self {
        ObjectSchema {
            additional: Some(schema),
            ..self
        }
    }
}

const INT_TYPE: &str = "Input should be a valid integer";
const INT_PARSING: &str = "Input should be a valid integer, unable to parse string as an integer";
const INT_FROM_FLOAT: &str = "Input should be a valid integer, got a number with a fractional part";
const FINITE_NUMBER: &str = "Input should be a finite number";
const INT_PARSING_SIZE: &str = "Unable to parse input string as an integer, exceeded maximum size";

/// An error as (type, message).
type Failure = (&'static str, &'static str);

/// pydantic's lax integer from a string: surrounding whitespace ignored, an optional sign, digits,
/// optionally `_` between digits or a `.0+` suffix. Integers beyond `i128` saturate.
pub(crate) fn lax_int_from_str(s: &str) -> Result<i128, Failure> {
    let s = s.trim();
    if s.len() > 4300 {
        return Err(("int_parsing_size", INT_PARSING_SIZE));
    }
    let parse = |t: &str| -> Option<i128> {
        let (negative, digits) = match t.as_bytes().first()? {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let magnitude = digits.parse::<i128>().unwrap_or(i128::MAX);
        Some(if negative { -magnitude } else { magnitude })
    };
    if let Some(value) = parse(s) {
        return Ok(value);
    }
    // A `.0+` suffix is dropped first, then `_` between digits.
    let mut t = s;
    if let Some(point) = s.find('.') {
        let zeros = &s[point + 1..];
        if !zeros.is_empty() && zeros.bytes().all(|b| b == b'0') {
            t = &s[..point];
        }
    }
    if let Some(value) = parse(t) {
        return Ok(value);
    }
    if t.contains('_') && !t.starts_with('_') && !t.ends_with('_') && !t.contains("__") {
        if let Some(value) = parse(&t.replace('_', "")) {
            return Ok(value);
        }
    }
    Err(("int_parsing", INT_PARSING))
}

/// pydantic's integer from a float.
pub(crate) fn lax_int_from_f64(value: f64) -> Result<i64, Failure> {
    if !value.is_finite() {
        Err(("finite_number", FINITE_NUMBER))
    } else if value % 1.0 != 0.0 {
        Err(("int_from_float", INT_FROM_FLOAT))
    } else if (i64::MIN as f64) < value && value < (i64::MAX as f64) {
        Ok(value as i64)
    } else {
        Err(("int_parsing_size", INT_PARSING_SIZE))
    }
}

/// pydantic's lax integer from any JSON value, as an `f64` for constraint checks.
fn lax_int(value: &Value) -> Result<f64, Failure> {
    match value {
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Ok(i as f64),
            (None, Some(u), _) => Ok(u as f64),
            (None, None, Some(f)) => lax_int_from_f64(f).map(|i| i as f64),
            _ => Err(("int_type", INT_TYPE)),
        },
        Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        Value::String(s) => lax_int_from_str(s).map(|i| i as f64),
        _ => Err(("int_type", INT_TYPE)),
    }
}

/// pydantic's lax float from any JSON value.
fn lax_float(value: &Value) -> Result<f64, Failure> {
    const PARSING: Failure = (
        "float_parsing",
        "Input should be a valid number, unable to parse string as a number",
    );
    match value {
        Value::Number(n) => n
            .as_f64()
            .ok_or(("float_type", "Input should be a valid number")),
        Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(f) = s.parse::<f64>() {
                return Ok(f);
            }
            if s.contains('_') && !s.starts_with('_') && !s.ends_with('_') && !s.contains("__") {
                if let Ok(f) = s.replace('_', "").parse::<f64>() {
                    return Ok(f);
                }
            }
            Err(PARSING)
        }
        _ => Err(("float_type", "Input should be a valid number")),
    }
}

/// pydantic's lax boolean.
fn lax_bool(value: &Value) -> Result<bool, Failure> {
    const PARSING: Failure = (
        "bool_parsing",
        "Input should be a valid boolean, unable to interpret input",
    );
    const TYPE: Failure = ("bool_type", "Input should be a valid boolean");
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i @ (0 | 1)), _) => Ok(i == 1),
            (Some(_), _) => Err(PARSING),
            (None, Some(f)) if f == 0.0 || f == 1.0 => Ok(f == 1.0),
            (None, Some(f)) if lax_int_from_f64(f).is_ok() => Err(PARSING),
            _ => Err(TYPE),
        },
        Value::String(s) => {
            const FALSE: [&str; 6] = ["0", "off", "f", "false", "n", "no"];
            const TRUE: [&str; 6] = ["1", "on", "t", "true", "y", "yes"];
            if FALSE.iter().any(|w| s.eq_ignore_ascii_case(w)) {
                Ok(false)
            } else if TRUE.iter().any(|w| s.eq_ignore_ascii_case(w)) {
                Ok(true)
            } else {
                Err(PARSING)
            }
        }
        _ => Err(TYPE),
    }
}

/// The `invalid character` / `invalid length` / `invalid group ...` text of a UUID parse failure,
/// worded as pydantic-core reports it.
fn uuid_error(s: &str) -> String {
    let (body, offset, simple) =
        if let Some(inner) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
            (inner, 1, false)
        } else if let Some(inner) = s.strip_prefix("urn:uuid:") {
            (inner, 9, false)
        } else {
            (s, 0, true)
        };
    let mut hyphens = 0;
    let mut bounds = [0usize; 4];
    for (index, c) in body.char_indices() {
        if c == '-' {
            if hyphens < 4 {
                bounds[hyphens] = index;
            }
            hyphens += 1;
        } else if !c.is_ascii_hexdigit() {
            return format!("invalid character: found `{c}` at {}", index + offset + 1);
        }
    }
    if hyphens == 0 && simple {
        return format!(
            "invalid length: expected length 32 for simple format, found {}",
            s.len()
        );
    }
    if hyphens != 4 {
        return format!("invalid group count: expected 5, found {}", hyphens + 1);
    }
    const STARTS: [usize; 5] = [0, 9, 14, 19, 24];
    const EXPECTED: [usize; 5] = [8, 4, 4, 4, 12];
    for group in 0..4 {
        if bounds[group] != STARTS[group + 1] - 1 {
            return format!(
                "invalid group length in group {group}: expected {}, found {}",
                EXPECTED[group],
                bounds[group].saturating_sub(STARTS[group])
            );
        }
    }
    format!(
        "invalid group length in group 4: expected 12, found {}",
        body.len().saturating_sub(STARTS[4])
    )
}

/// The label pydantic gives a union arm in error locations (`int`, `str`, `constrained-str`,
/// `list[int]`, `dict[str,int]`, `tuple[int, str]`, the model or enum class name, ...).
fn label(schema: &Schema) -> String {
    match schema {
        Schema::Any => "any".into(),
        Schema::Null => "none".into(),
        Schema::Bool => "bool".into(),
        Schema::Int(c) => if c.is_none() {
            "int"
        } else {
            "constrained-int"
        }
        .into(),
        Schema::Number(c) => if c.is_none() {
            "float"
        } else {
            "constrained-float"
        }
        .into(),
        Schema::Str(c) => if c.is_none() {
            "str"
        } else {
            "constrained-str"
        }
        .into(),
        Schema::Uuid => "uuid".into(),
        Schema::DateTime => "datetime".into(),
        Schema::Date => "date".into(),
        Schema::Time => "time".into(),
        Schema::Const(value) => format!("literal[{}]", literal_repr(value)),
        Schema::Literal(values) => {
            let parts: Vec<String> = values.iter().map(|v| literal_repr(v)).collect();
            format!("literal[{}]", parts.join(","))
        }
        Schema::StrEnum { name, .. } => format!("str-enum[{name}]"),
        Schema::IntEnum { name, .. } => format!("int-enum[{name}]"),
        Schema::Array(item, c) => {
            let inner = label(item);
            if c.is_none() {
                format!("list[{inner}]")
            } else {
                format!("constrained-list[{inner}]")
            }
        }
        Schema::Tuple(items) => {
            let parts: Vec<String> = items.iter().map(|s| label(s)).collect();
            format!("tuple[{}]", parts.join(", "))
        }
        Schema::Map(value) => format!("dict[str,{}]", label(value)),
        Schema::Object(object) => object.name.into(),
        Schema::TaggedUnion { arms, .. } => {
            let parts: Vec<String> = arms.iter().map(|(_, s)| label(s)).collect();
            format!("tagged-union[{}]", parts.join(","))
        }
        Schema::Untagged(arms) => {
            let parts: Vec<String> = arms.iter().map(|s| label(s)).collect();
            format!("union[{}]", parts.join(","))
        }
        Schema::Nullable(inner) => format!("nullable[{}]", label(inner)),
    }
}

fn literal_repr(json_text: &str) -> String {
    match serde_json::from_str::<Value>(json_text) {
        Ok(value) => pyfmt::value_repr(&value),
        Err(_) => json_text.to_owned(),
    }
}

fn literal_values(texts: &[&str]) -> Vec<Value> {
    texts
        .iter()
        .filter_map(|t| serde_json::from_str::<Value>(t).ok())
        .collect()
}

/// Checks `value` against `schema`, reporting every error pydantic's lax `validate_python` would, at the
/// current location of `errors`, in pydantic's order.
pub fn check_value(schema: &Schema, value: &Value, errors: &mut Errors) {
    match schema {
        Schema::Any => {}
        Schema::Null => {
            if !value.is_null() {
                errors.report("none_required", "Input should be None".into());
            }
        }
        Schema::Bool => {
            if let Err((kind, msg)) = lax_bool(value) {
                errors.report(kind, msg.into());
            }
        }
        Schema::Int(c) => match lax_int(value) {
            Ok(number) => check_number(errors, number, c),
            Err((kind, msg)) => errors.report(kind, msg.into()),
        },
        Schema::Number(c) => match lax_float(value) {
            Ok(number) => check_number(errors, number, c),
            Err((kind, msg)) => errors.report(kind, msg.into()),
        },
        Schema::Str(c) => match value {
            Value::String(s) => check_str(errors, s, c),
            _ => errors.report("string_type", "Input should be a valid string".into()),
        },
        Schema::Uuid => match value {
            Value::String(s) => {
                if uuid::Uuid::try_parse(s).is_err() {
                    errors.report(
                        "uuid_parsing",
                        format!("Input should be a valid UUID, {}", uuid_error(s)),
                    );
                }
            }
            _ => errors.report(
                "uuid_type",
                "UUID input should be a string, bytes or UUID object".into(),
            ),
        },
        Schema::DateTime => report_failure(errors, temporal::check_datetime(value)),
        Schema::Date => report_failure(errors, temporal::check_date(value)),
        Schema::Time => report_failure(errors, temporal::check_time(value)),
        Schema::Const(text) => check_literal(errors, value, &[text]),
        Schema::Literal(texts) => check_literal(errors, value, texts),
        Schema::StrEnum { values, .. } => {
            let ok = value.as_str().is_some_and(|s| values.contains(&s));
            if !ok {
                let expected: Vec<String> = values.iter().map(|v| pyfmt::str_repr(v)).collect();
                errors.report(
                    "enum",
                    format!("Input should be {}", pyfmt::or_list(&expected)),
                );
            }
        }
        Schema::IntEnum { values, .. } => {
            // pydantic reads the input as an `i64` first; only a size overflow escapes as its own error.
            let number = match value {
                Value::String(s) => match lax_int_from_str(s).map(i64::try_from) {
                    Ok(Ok(i)) => Ok(i as f64),
                    Ok(Err(_)) | Err(("int_parsing_size", _)) => {
                        errors.report("int_parsing_size", INT_PARSING_SIZE.into());
                        return;
                    }
                    Err(failure) => Err(failure),
                },
                other => lax_int(other),
            };
            let ok = number.is_ok_and(|n| values.iter().any(|v| *v as f64 == n));
            if !ok {
                let expected: Vec<String> = values.iter().map(i64::to_string).collect();
                errors.report(
                    "enum",
                    format!("Input should be {}", pyfmt::or_list(&expected)),
                );
            }
        }
        Schema::Array(item, c) => match value {
            Value::Array(items) => {
                if let Some(max) = c.max_items {
                    if items.len() as u64 > max {
                        check_length(errors, "List", items.len(), None, Some(max));
                        return;
                    }
                }
                let before = errors.len();
                for (index, element) in items.iter().enumerate() {
                    errors.at_index(index, |e| check_value(item, element, e));
                }
                if errors.len() == before {
                    check_items(errors, items.len(), c, !c.unique || all_unique(items));
                }
            }
            _ => errors.report("list_type", "Input should be a valid list".into()),
        },
        Schema::Tuple(schemas) => match value {
            Value::Array(items) => {
                if items.len() > schemas.len() {
                    check_length(
                        errors,
                        "Tuple",
                        items.len(),
                        None,
                        Some(schemas.len() as u64),
                    );
                    return;
                }
                for (index, schema) in schemas.iter().enumerate() {
                    errors.at_index(index, |e| match items.get(index) {
                        Some(element) => check_value(schema, element, e),
                        None => e.report("missing", "Field required".into()),
                    });
                }
            }
            _ => errors.report("tuple_type", "Input should be a valid tuple".into()),
        },
        Schema::Map(inner) => match value {
            Value::Object(map) => {
                for (key, element) in map {
                    errors.at_key(key, |e| check_value(inner, element, e));
                }
            }
            _ => errors.report("dict_type", "Input should be a valid dictionary".into()),
        },
        Schema::Object(object) => check_object(object, value, errors),
        Schema::TaggedUnion { property, arms } => {
            let Value::Object(map) = value else {
                errors.report(
                    "model_attributes_type",
                    "Input should be a valid dictionary or object to extract fields from".into(),
                );
                return;
            };
            let expected: Vec<&str> = arms.iter().map(|(tag, _)| *tag).collect();
            match map.get(*property) {
                None => errors.report_item(tag_error_item(None, property, &expected)),
                Some(tag_value) => {
                    let arm = tag_value
                        .as_str()
                        .and_then(|t| arms.iter().find(|(tag, _)| *tag == t));
                    match arm {
                        Some((tag, arm)) => errors.at_key(tag, |e| check_value(arm, value, e)),
                        None => {
                            let found = match tag_value {
                                Value::String(s) => s.clone(),
                                other => python_str(other),
                            };
                            errors.report_item(tag_error_item(Some(&found), property, &expected));
                        }
                    }
                }
            }
        }
        Schema::Untagged(arms) => {
            let mut collected = Errors {
                path: errors.path.clone(),
                items: Vec::new(),
            };
            for arm in arms.iter() {
                let before = collected.len();
                collected.at_key(&label(arm), |e| check_value(arm, value, e));
                if collected.len() == before {
                    return;
                }
            }
            errors.items.extend(collected.items);
        }
        Schema::Nullable(inner) => {
            if !value.is_null() {
                check_value(inner, value, errors);
            }
        }
    }
}

/// Rewrites `value`, which [`check_value`] accepts under `schema`, into the strict JSON that the
/// generated types decode: what pydantic's lax mode converts (numeric strings and integral floats
/// to integers, numeric strings to numbers, `"yes"`/`0`/... to booleans) is converted here the same
/// way. Parts that do not check are left as they are.
pub fn coerce(schema: &Schema, value: &mut Value) {
    match schema {
        Schema::Bool => {
            if let Ok(b) = lax_bool(value) {
                *value = Value::Bool(b);
            }
        }
        Schema::Int(_) | Schema::IntEnum { .. } => {
            let integer = match value {
                Value::Number(n) if n.is_i64() || n.is_u64() => None,
                Value::Number(n) => n.as_f64().and_then(|f| lax_int_from_f64(f).ok()),
                Value::Bool(b) => Some(i64::from(*b)),
                Value::String(s) => lax_int_from_str(s).ok().and_then(|i| i64::try_from(i).ok()),
                _ => None,
            };
            if let Some(integer) = integer {
                *value = Value::from(integer);
            }
        }
        Schema::Number(_) => {
            if matches!(value, Value::String(_) | Value::Bool(_)) {
                if let Some(number) = lax_float(value).ok().and_then(serde_json::Number::from_f64) {
                    *value = Value::Number(number);
                }
            }
        }
        Schema::Array(item, _) => {
            if let Value::Array(items) = value {
                items.iter_mut().for_each(|element| coerce(item, element));
            }
        }
        Schema::Tuple(schemas) => {
            if let Value::Array(items) = value {
                for (schema, element) in schemas.iter().zip(items.iter_mut()) {
                    coerce(schema, element);
                }
            }
        }
        Schema::Map(inner) => {
            if let Value::Object(map) = value {
                map.values_mut().for_each(|element| coerce(inner, element));
            }
        }
        Schema::Object(object) => {
            if let Value::Object(map) = value {
                for (key, element) in map.iter_mut() {
                    match object.fields.iter().find(|f| f.name == key) {
                        Some(field) => coerce(field.schema, element),
                        None => {
                            if let Some(additional) = object.additional {
                                coerce(additional, element);
                            }
                        }
                    }
                }
            }
        }
        Schema::TaggedUnion { property, arms } => {
            let arm = value
                .get(*property)
                .and_then(Value::as_str)
                .and_then(|tag| arms.iter().find(|(t, _)| *t == tag))
                .map(|(_, arm)| *arm);
            if let Some(arm) = arm {
                coerce(arm, value);
            }
        }
        Schema::Untagged(arms) => {
            let accepting = arms.iter().find(|arm| {
                let mut errors = Errors::new();
                check_value(arm, value, &mut errors);
                errors.is_empty()
            });
            if let Some(arm) = accepting {
                coerce(arm, value);
            }
        }
        Schema::Nullable(inner) => {
            if !value.is_null() {
                coerce(inner, value);
            }
        }
        Schema::Any
        | Schema::Null
        | Schema::Str(_)
        | Schema::Uuid
        | Schema::DateTime
        | Schema::Date
        | Schema::Time
        | Schema::Const(_)
        | Schema::Literal(_)
        | Schema::StrEnum { .. } => {}
    }
}

/// Python's `str()` of a decoded JSON value (top-level strings raw).
fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => pyfmt::value_repr(other),
    }
}

fn report_failure(errors: &mut Errors, failure: Option<temporal::Failure>) {
    if let Some((kind, msg)) = failure {
        errors.report(kind, msg);
    }
}

fn check_literal(errors: &mut Errors, value: &Value, texts: &[&str]) {
    let allowed = literal_values(texts);
    if !allowed.iter().any(|a| a == value) {
        let expected: Vec<String> = allowed.iter().map(pyfmt::value_repr).collect();
        errors.report(
            "literal_error",
            format!("Input should be {}", pyfmt::or_list(&expected)),
        );
    }
}

fn check_object(object: &ObjectSchema, value: &Value, errors: &mut Errors) {
    let Value::Object(map) = value else {
        errors.report(
            "model_type",
            format!(
                "Input should be a valid dictionary or instance of {}",
                object.name
            ),
        );
        return;
    };
    for field in object.fields {
        match map.get(field.name) {
            Some(element) => errors.at_key(field.name, |e| check_value(field.schema, element, e)),
            None if field.required => {
                errors.at_key(field.name, |e| e.report("missing", "Field required".into()))
            }
            None => {}
        }
    }
    if object.deny_unknown || object.additional.is_some() {
        for (key, element) in map {
            if object.fields.iter().any(|f| f.name == key) {
                continue;
            }
            if object.deny_unknown {
                errors.at_key(key, |e| {
                    e.report("extra_forbidden", "Extra inputs are not permitted".into())
                });
            } else if let Some(additional) = object.additional {
                errors.at_key(key, |e| check_value(additional, element, e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(schema: &Schema, value: Value) -> Vec<(String, Vec<LocItem>, String)> {
        let mut errors = Errors::new();
        check_value(schema, &value, &mut errors);
        errors
            .into_items()
            .into_iter()
            .map(|e| (e.kind, e.loc, e.msg))
            .collect()
    }

    /// The single error of a check, as `type: msg`.
    fn one(schema: &Schema, value: Value) -> String {
        let errors = run(schema, value.clone());
        assert_eq!(errors.len(), 1, "{value}: {errors:?}");
        format!("{}: {}", errors[0].0, errors[0].2)
    }

    fn k(key: &str) -> LocItem {
        LocItem::Key(key.to_owned())
    }

    static INT: Schema = Schema::Int(NumberConstraints::NONE);
    static FLOAT: Schema = Schema::Number(NumberConstraints::NONE);
    static STR: Schema = Schema::Str(StrConstraints::NONE);
    static BOOL: Schema = Schema::Bool;

    // Expected messages below were produced by pydantic 2.13 (`TypeAdapter(T).validate_python(json.loads(...))`).

    #[test]
    fn scalars_in_lax_mode() {
        for ok in [
            json!(1),
            json!("1"),
            json!(" 2 "),
            json!(1.0),
            json!(true),
            json!("1_000"),
            json!("3.00"),
        ] {
            assert!(run(&INT, ok.clone()).is_empty(), "{ok}");
        }
        assert_eq!(
            one(&INT, json!(1.5)),
            "int_from_float: Input should be a valid integer, got a number with a fractional part"
        );
        assert_eq!(
            one(&INT, json!("a")),
            "int_parsing: Input should be a valid integer, unable to parse string as an integer"
        );
        assert_eq!(
            one(&INT, json!(null)),
            "int_type: Input should be a valid integer"
        );
        assert_eq!(
            one(&INT, json!(1e19)),
            "int_parsing_size: Unable to parse input string as an integer, exceeded maximum size"
        );
        for ok in [
            json!("1.5"),
            json!(true),
            json!(1),
            json!("inf"),
            json!("1_0.5"),
            json!(".5"),
            json!("5."),
        ] {
            assert!(run(&FLOAT, ok.clone()).is_empty(), "{ok}");
        }
        assert_eq!(
            one(&FLOAT, json!("x")),
            "float_parsing: Input should be a valid number, unable to parse string as a number"
        );
        assert_eq!(
            one(&FLOAT, json!([])),
            "float_type: Input should be a valid number"
        );
        for ok in [
            json!("true"),
            json!("YES"),
            json!(0),
            json!(1),
            json!(1.0),
            json!("off"),
        ] {
            assert!(run(&BOOL, ok.clone()).is_empty(), "{ok}");
        }
        assert_eq!(
            one(&BOOL, json!(2)),
            "bool_parsing: Input should be a valid boolean, unable to interpret input"
        );
        assert_eq!(
            one(&BOOL, json!("  true")),
            "bool_parsing: Input should be a valid boolean, unable to interpret input"
        );
        assert_eq!(
            one(&BOOL, json!(0.5)),
            "bool_type: Input should be a valid boolean"
        );
        assert_eq!(
            one(&STR, json!(1)),
            "string_type: Input should be a valid string"
        );
        assert_eq!(
            one(&Schema::Null, json!(1)),
            "none_required: Input should be None"
        );
        assert!(run(&Schema::Any, json!({"x": [1]})).is_empty());
    }

    #[test]
    fn string_constraints() {
        static P: Pattern = Pattern::new("^a+$");
        static C: Schema = Schema::Str(StrConstraints {
            min_length: Some(3),
            max_length: Some(4),
            pattern: Some(&P),
        });
        assert_eq!(
            one(&C, json!("ab")),
            "string_too_short: String should have at least 3 characters"
        );
        assert_eq!(
            one(&C, json!("b")),
            "string_too_short: String should have at least 3 characters"
        );
        assert_eq!(
            one(&C, json!("aaaaa")),
            "string_too_long: String should have at most 4 characters"
        );
        assert_eq!(
            one(&C, json!("bbb")),
            "string_pattern_mismatch: String should match pattern '^a+$'"
        );
        assert!(run(&C, json!("aaa")).is_empty());
        let mut errors = Errors::new();
        check_str(
            &mut errors,
            "",
            &StrConstraints {
                min_length: Some(1),
                ..StrConstraints::NONE
            },
        );
        check_str(
            &mut errors,
            "\u{1f600}\u{1f600}",
            &StrConstraints {
                max_length: Some(1),
                ..StrConstraints::NONE
            },
        );
        check_str(
            &mut errors,
            "\u{e9}\u{e9}",
            &StrConstraints {
                min_length: Some(2),
                ..StrConstraints::NONE
            },
        );
        let messages: Vec<&str> = errors.items().iter().map(|e| e.msg.as_str()).collect();
        assert_eq!(
            messages,
            [
                "String should have at least 1 character",
                "String should have at most 1 character"
            ]
        );
        // Unanchored search, like pydantic.
        static DIGITS: Pattern = Pattern::new(r"\d+");
        assert!(DIGITS.is_match("x1"));
        assert!(!DIGITS.is_match("x"));
        static BROKEN: Pattern = Pattern::new("(unclosed");
        assert!(BROKEN.is_match("anything"));
        assert_eq!(BROKEN.source(), "(unclosed");
    }

    #[test]
    fn number_constraints() {
        static C: Schema = Schema::Int(NumberConstraints {
            minimum: Some(Bound::new(1.0, "1")),
            maximum: Some(Bound::new(5.0, "5")),
            multiple_of: Some(Bound::new(2.0, "2")),
            ..NumberConstraints::NONE
        });
        assert_eq!(
            one(&C, json!(0)),
            "greater_than_equal: Input should be greater than or equal to 1"
        );
        assert_eq!(
            one(&C, json!(7)),
            "multiple_of: Input should be a multiple of 2"
        );
        assert_eq!(
            one(&C, json!(6)),
            "less_than_equal: Input should be less than or equal to 5"
        );
        assert_eq!(
            one(&C, json!("0")),
            "greater_than_equal: Input should be greater than or equal to 1"
        );
        assert!(run(&C, json!(4)).is_empty());
        static F: Schema = Schema::Number(NumberConstraints {
            exclusive_minimum: Some(Bound::new(1.0, "1")),
            exclusive_maximum: Some(Bound::new(2.0, "2")),
            ..NumberConstraints::NONE
        });
        assert_eq!(
            one(&F, json!(1)),
            "greater_than: Input should be greater than 1"
        );
        assert_eq!(one(&F, json!(3)), "less_than: Input should be less than 2");
        static M: Schema = Schema::Number(NumberConstraints {
            multiple_of: Some(Bound::new(0.5, "0.5")),
            ..NumberConstraints::NONE
        });
        assert_eq!(
            one(&M, json!(0.3)),
            "multiple_of: Input should be a multiple of 0.5"
        );
        assert!(run(&M, json!(1.5)).is_empty());
        let mut errors = Errors::new();
        check_number(
            &mut errors,
            f64::NAN,
            &NumberConstraints {
                maximum: Some(Bound::new(1.0, "1")),
                ..NumberConstraints::NONE
            },
        );
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn enums_and_literals() {
        static PRI: Schema = Schema::StrEnum {
            name: "Priority",
            values: &["low", "normal", "high"],
        };
        static W: Schema = Schema::IntEnum {
            name: "Weight",
            values: &[1, 5],
        };
        static LIT: Schema = Schema::Literal(&["\"a\"", "\"b\""]);
        static ONE: Schema = Schema::Const("\"chat\"");
        static QUOTE: Schema = Schema::Const("\"it's\"");
        static INTS: Schema = Schema::Literal(&["1", "2"]);
        assert_eq!(
            one(&PRI, json!("x")),
            "enum: Input should be 'low', 'normal' or 'high'"
        );
        assert_eq!(
            one(&PRI, json!(null)),
            "enum: Input should be 'low', 'normal' or 'high'"
        );
        assert!(run(&PRI, json!("low")).is_empty());
        assert_eq!(one(&W, json!(2)), "enum: Input should be 1 or 5");
        assert!(run(&W, json!("1")).is_empty());
        assert!(run(&W, json!(5.0)).is_empty());
        assert_eq!(
            one(&LIT, json!("c")),
            "literal_error: Input should be 'a' or 'b'"
        );
        assert_eq!(
            one(&ONE, json!("x")),
            "literal_error: Input should be 'chat'"
        );
        assert_eq!(
            one(&QUOTE, json!("x")),
            "literal_error: Input should be \"it's\""
        );
        assert_eq!(
            one(&INTS, json!("1")),
            "literal_error: Input should be 1 or 2"
        );
    }

    #[test]
    fn formats() {
        assert_eq!(
            one(&Schema::Uuid, json!("x")),
            "uuid_parsing: Input should be a valid UUID, invalid character: found `x` at 1"
        );
        assert_eq!(
            one(&Schema::Uuid, json!("1234567812341234123412345678901g")),
            "uuid_parsing: Input should be a valid UUID, invalid character: found `g` at 32"
        );
        assert_eq!(
            one(&Schema::Uuid, json!("12345678-1234-1234-1234-1234567890")),
            "uuid_parsing: Input should be a valid UUID, invalid group length in group 4: expected 12, found 10"
        );
        assert_eq!(
            one(&Schema::Uuid, json!("")),
            "uuid_parsing: Input should be a valid UUID, invalid length: expected length 32 for simple format, found 0"
        );
        assert_eq!(
            one(&Schema::Uuid, json!(1)),
            "uuid_type: UUID input should be a string, bytes or UUID object"
        );
        for ok in [
            "12345678-1234-1234-1234-1234567890ab",
            "{12345678-1234-1234-1234-1234567890ab}",
            "urn:uuid:12345678-1234-1234-1234-1234567890ab",
        ] {
            assert!(run(&Schema::Uuid, json!(ok)).is_empty(), "{ok}");
        }
        assert_eq!(
            one(&Schema::DateTime, json!("tomorrow")),
            "datetime_from_date_parsing: Input should be a valid datetime or date, input is too short"
        );
        assert_eq!(
            one(&Schema::Date, json!("2024-02-30")),
            "date_from_datetime_parsing: Input should be a valid date or datetime, day value is outside expected range"
        );
        assert_eq!(
            one(&Schema::Time, json!(null)),
            "time_type: Input should be a valid time"
        );
    }

    #[test]
    fn containers() {
        static LIST: Schema = Schema::Array(
            &INT,
            ItemsConstraints {
                min_items: Some(1),
                max_items: Some(3),
                unique: false,
            },
        );
        assert_eq!(
            one(&LIST, json!([])),
            "too_short: List should have at least 1 item after validation, not 0"
        );
        assert_eq!(
            one(&LIST, json!([1, 2, 3, 4, 5])),
            "too_long: List should have at most 3 items after validation, not 5"
        );
        assert_eq!(
            one(&LIST, json!(["a", 1, 2, 3, 4])),
            "too_long: List should have at most 3 items after validation, not 5"
        );
        assert_eq!(
            one(&LIST, json!("x")),
            "list_type: Input should be a valid list"
        );
        assert_eq!(run(&LIST, json!(["a"]))[0].1, [LocItem::Index(0)]);
        static TWO: Schema = Schema::Array(
            &INT,
            ItemsConstraints {
                min_items: Some(2),
                max_items: None,
                unique: false,
            },
        );
        assert_eq!(
            run(&TWO, json!(["a"])).len(),
            1,
            "item errors hide too_short"
        );
        static UNIQUE: Schema = Schema::Array(
            &INT,
            ItemsConstraints {
                min_items: None,
                max_items: None,
                unique: true,
            },
        );
        assert_eq!(
            one(&UNIQUE, json!([1, 1])),
            "value_error: Value error, List should have unique items"
        );
        assert!(run(&UNIQUE, json!([1, 2])).is_empty());
        static PAIR: Schema = Schema::Tuple(&[&INT, &STR]);
        assert_eq!(
            run(&PAIR, json!([])),
            [
                (
                    "missing".into(),
                    vec![LocItem::Index(0)],
                    "Field required".into()
                ),
                (
                    "missing".into(),
                    vec![LocItem::Index(1)],
                    "Field required".into()
                )
            ]
        );
        assert_eq!(
            one(&PAIR, json!([1, "a", 3])),
            "too_long: Tuple should have at most 2 items after validation, not 3"
        );
        assert_eq!(
            one(&PAIR, json!("x")),
            "tuple_type: Input should be a valid tuple"
        );
        static MAP: Schema = Schema::Map(&INT);
        assert_eq!(
            one(&MAP, json!([])),
            "dict_type: Input should be a valid dictionary"
        );
        assert_eq!(run(&MAP, json!({"a": "x"}))[0].1, [k("a")]);
    }

    static A_KIND: Schema = Schema::Const("\"a\"");
    static B_KIND: Schema = Schema::Const("\"b\"");
    static A_OBJECT: ObjectSchema = ObjectSchema {
        name: "A",
        fields: &[
            FieldSchema {
                name: "kind",
                required: false,
                schema: &A_KIND,
            },
            FieldSchema {
                name: "v",
                required: true,
                schema: &INT,
            },
        ],
        deny_unknown: false,
        additional: None,
    };
    static B_OBJECT: ObjectSchema = ObjectSchema {
        name: "B",
        fields: &[
            FieldSchema {
                name: "kind",
                required: false,
                schema: &B_KIND,
            },
            FieldSchema {
                name: "s",
                required: true,
                schema: &STR,
            },
        ],
        deny_unknown: false,
        additional: None,
    };
    static A: Schema = Schema::Object(&A_OBJECT);
    static B: Schema = Schema::Object(&B_OBJECT);

    #[test]
    fn objects() {
        assert_eq!(
            one(&A, json!("x")),
            "model_type: Input should be a valid dictionary or instance of A"
        );
        assert_eq!(
            run(&A, json!({})),
            [("missing".into(), vec![k("v")], "Field required".into())]
        );
        static FORBID: ObjectSchema = ObjectSchema {
            name: "F",
            fields: &[FieldSchema {
                name: "x",
                required: false,
                schema: &INT,
            }],
            deny_unknown: true,
            additional: None,
        };
        let errors = run(&Schema::Object(&FORBID), json!({"y": 1, "x": "a", "z": 2}));
        let summary: Vec<(&str, &[LocItem])> = errors
            .iter()
            .map(|e| (e.0.as_str(), e.1.as_slice()))
            .collect();
        assert_eq!(
            summary,
            [
                ("int_parsing", &[k("x")][..]),
                ("extra_forbidden", &[k("y")][..]),
                ("extra_forbidden", &[k("z")][..])
            ]
        );
        assert_eq!(errors[1].2, "Extra inputs are not permitted");
        static TYPED: ObjectSchema = ObjectSchema {
            name: "T",
            fields: &[],
            deny_unknown: false,
            additional: Some(&INT),
        };
        assert_eq!(
            run(&Schema::Object(&TYPED), json!({"q": "x"}))[0].1,
            [k("q")]
        );
    }

    #[test]
    fn unions() {
        static TAGGED: Schema = Schema::TaggedUnion {
            property: "kind",
            arms: &[("b", &B), ("a", &A)],
        };
        assert_eq!(
            one(&TAGGED, json!("x")),
            "model_attributes_type: Input should be a valid dictionary or object to extract fields from"
        );
        assert_eq!(
            one(&TAGGED, json!({})),
            "union_tag_not_found: Unable to extract tag using discriminator 'kind'"
        );
        // Nested unions keep the spec's order of tags; only the top level (Chanx's own union) is sorted.
        assert_eq!(
            one(&TAGGED, json!({"kind": {"a": [1, 2.5, null, true, "x"]}})),
            "union_tag_invalid: Input tag '{'a': [1, 2.5, None, True, 'x']}' found using 'kind' does not match any of the expected tags: 'b', 'a'"
        );
        assert_eq!(
            run(&TAGGED, json!({"kind": "a"})),
            [(
                "missing".into(),
                vec![k("a"), k("v")],
                "Field required".into()
            )]
        );
        static EITHER: Schema = Schema::Untagged(&[&INT, &STR]);
        assert_eq!(
            run(&EITHER, json!([])),
            [
                (
                    "int_type".into(),
                    vec![k("int")],
                    "Input should be a valid integer".into()
                ),
                (
                    "string_type".into(),
                    vec![k("str")],
                    "Input should be a valid string".into()
                )
            ]
        );
        assert!(run(&EITHER, json!("x")).is_empty());
        static MODELS: Schema = Schema::Untagged(&[&A, &B]);
        let errors = run(&MODELS, json!({"kind": "x"}));
        let locs: Vec<&[LocItem]> = errors.iter().map(|e| e.1.as_slice()).collect();
        assert_eq!(
            locs,
            [
                &[k("A"), k("kind")][..],
                &[k("A"), k("v")],
                &[k("B"), k("kind")],
                &[k("B"), k("s")]
            ]
        );
        static OPTIONAL: Schema = Schema::Nullable(&INT);
        assert!(run(&OPTIONAL, json!(null)).is_empty());
        assert_eq!(run(&OPTIONAL, json!("x"))[0].1, Vec::<LocItem>::new());
        static LABELS: Schema =
            Schema::Untagged(&[&LIST_OF_INT, &MAP_OF_INT, &PAIR, &C_STR, &ENUM, &LIT]);
        static LIST_OF_INT: Schema = Schema::Array(&INT, ItemsConstraints::NONE);
        static MAP_OF_INT: Schema = Schema::Map(&INT);
        static PAIR: Schema = Schema::Tuple(&[&INT, &STR]);
        static C_STR: Schema = Schema::Str(StrConstraints {
            min_length: Some(2),
            ..StrConstraints::NONE
        });
        static ENUM: Schema = Schema::StrEnum {
            name: "Pri",
            values: &["low"],
        };
        static LIT: Schema = Schema::Literal(&["\"q\"", "\"r\""]);
        let labels: Vec<LocItem> = run(&LABELS, json!(5))
            .into_iter()
            .map(|e| e.1[0].clone())
            .collect();
        assert_eq!(
            labels,
            [
                k("list[int]"),
                k("dict[str,int]"),
                k("tuple[int, str]"),
                k("constrained-str"),
                k("str-enum[Pri]"),
                k("literal['q','r']")
            ]
        );
    }

    #[test]
    fn fast_path_helpers() {
        let mut errors = Errors::rooted("chat");
        errors.at_key("payload", |e| {
            e.at_key("tags", |e| {
                check_list(
                    e,
                    &["a".to_owned()],
                    &ItemsConstraints {
                        min_items: Some(2),
                        ..ItemsConstraints::NONE
                    },
                    true,
                )
            });
            e.at_key("ids", |e| {
                check_list(
                    e,
                    &[1, 2, 3, 4],
                    &ItemsConstraints {
                        max_items: Some(3),
                        ..ItemsConstraints::NONE
                    },
                    true,
                )
            });
            e.at_key("n", |e| {
                check_number(
                    e,
                    11.0,
                    &NumberConstraints {
                        maximum: Some(Bound::new(10.0, "10")),
                        ..NumberConstraints::NONE
                    },
                )
            });
        });
        let items = errors.into_items();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].loc, [k("chat"), k("payload"), k("tags")]);
        assert_eq!(
            items[0].msg,
            "List should have at least 2 items after validation, not 1"
        );
        assert_eq!(
            items[1].msg,
            "List should have at most 3 items after validation, not 4"
        );
        assert_eq!(items[2].kind, "less_than_equal");
        assert!(all_unique(&[1, 2, 3]));
        assert!(!all_unique(&["a", "b", "a"]));
        let mut errors = Errors::new();
        check_items(
            &mut errors,
            2,
            &ItemsConstraints {
                unique: true,
                ..ItemsConstraints::NONE
            },
            false,
        );
        assert_eq!(errors.items()[0].kind, "value_error");
    }

    struct Tagged(&'static str);
    impl Validate for Tagged {
        fn validate(&self, errors: &mut Errors) {
            errors.report("x", self.0.to_owned());
        }
    }

    #[test]
    fn container_impls_extend_the_path() {
        let mut errors = Errors::new();
        let mut map = BTreeMap::new();
        map.insert("k".to_owned(), vec![Tagged("in map")]);
        map.validate(&mut errors);
        (1u8, Some(Box::new(Tagged("in tuple")))).validate(&mut errors);
        None::<Tagged>.validate(&mut errors);
        let locs: Vec<Vec<LocItem>> = errors.into_items().into_iter().map(|e| e.loc).collect();
        assert_eq!(
            locs,
            [vec![k("k"), LocItem::Index(0)], vec![LocItem::Index(1)]]
        );
        let mut errors = Errors::new();
        errors.push_key("a");
        errors.push_index(2);
        errors.pop();
        errors.report_item(ErrorItem::new("t", vec![k("b")], "m"));
        assert_eq!(errors.items()[0].loc, [k("a"), k("b")]);
        assert!(!errors.is_empty());
    }

    #[test]
    fn lax_integer_strings() {
        assert_eq!(lax_int_from_str(" 7 "), Ok(7));
        assert_eq!(lax_int_from_str("+1"), Ok(1));
        assert_eq!(lax_int_from_str("1_000.0"), Ok(1000));
        assert!(lax_int_from_str("1.").is_err());
        assert!(lax_int_from_str(".0").is_err());
        assert!(lax_int_from_str("1__0").is_err());
        assert!(lax_int_from_str("1.0_0").is_err());
        assert_eq!(
            lax_int_from_str(&"9".repeat(4301)).unwrap_err().0,
            "int_parsing_size"
        );
    }

    #[test]
    fn coerce_converts_as_pydantic_lax_mode() {
        static FIELDS: [FieldSchema; 4] = [
            FieldSchema {
                name: "n",
                required: true,
                schema: &Schema::Int(NumberConstraints::NONE),
            },
            FieldSchema {
                name: "x",
                required: true,
                schema: &Schema::Number(NumberConstraints::NONE),
            },
            FieldSchema {
                name: "b",
                required: true,
                schema: &Schema::Bool,
            },
            FieldSchema {
                name: "list",
                required: true,
                schema: &Schema::Array(
                    &Schema::Int(NumberConstraints::NONE),
                    ItemsConstraints::NONE,
                ),
            },
        ];
        static OBJECT: ObjectSchema = ObjectSchema {
            name: "M",
            fields: &FIELDS,
            deny_unknown: false,
            additional: None,
        };
        let schema = Schema::Object(&OBJECT);
        let mut value = serde_json::json!({"n": "2", "x": "7.5", "b": "yes", "list": [2.0, true, " 3 "], "s": "7"});
        let mut errors = Errors::new();
        check_value(&schema, &value, &mut errors);
        assert!(errors.is_empty(), "{:?}", errors.items());
        coerce(&schema, &mut value);
        assert_eq!(
            value,
            serde_json::json!({"n": 2, "x": 7.5, "b": true, "list": [2, 1, 3], "s": "7"})
        );
    }
}

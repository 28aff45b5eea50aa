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
//! [`decode_message`](crate::decode::decode_message) rejects the frame with one `value_error` carrying
//! serde's message. Frames from well-typed clients never meet this difference.
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
            path: vec![LocItem::Key(tag.to_owned())],
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
/// location. Generated types implement it field by field, in field order.
pub trait Validate {
    /// Reports every constraint violation of `self`.
    fn validate(&self, errors: &mut Errors);
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
        errors.report("value_error", "Value error, List should have unique items".to_owned());
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
    if let Some(point) = s.find('.') {
        let zeros = &s[point + 1..];
        if !zeros.is_empty() && zeros.bytes().all(|b| b == b'0') {
            return parse(&s[..point]).ok_or(("int_parsing", INT_PARSING));
        }
    }
    if s.contains('_') && !s.starts_with('_') && !s.ends_with('_') && !s.contains("__") {
        return parse(&s.replace('_', "")).ok_or(("int_parsing", INT_PARSING));
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
fn lax_bool(value: &Value) -> Result<(), Failure> {
    const PARSING: Failure = (
        "bool_parsing",
        "Input should be a valid boolean, unable to interpret input",
    );
    const TYPE: Failure = ("bool_type", "Input should be a valid boolean");
    match value {
        Value::Bool(_) => Ok(()),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(0 | 1), _) => Ok(()),
            (Some(_), _) => Err(PARSING),
            (None, Some(f)) if f == 0.0 || f == 1.0 => Ok(()),
            _ => Err(TYPE),
        },
        Value::String(s) => {
            const WORDS: [&str; 12] = [
                "0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes",
            ];
            if WORDS.iter().any(|w| s.eq_ignore_ascii_case(w)) {
                Ok(())
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
            let ok = lax_int(value).is_ok_and(|n| values.iter().any(|v| *v as f64 == n));
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
mod tests {}

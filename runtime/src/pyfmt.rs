//! How Python prints things: `repr(float)`, `repr(str)`, and `str()` of a value decoded by `json.loads`.
//!
//! Error messages that pydantic builds embed Python's rendering of the input (`Input tag 'None' ...`,
//! `Input should be 'low', 'normal' or 'high'`), and the encoder must print floats like `json.dumps`.

use std::fmt::Write as _;

/// `repr(x)` for a Python float: the shortest round-trip digits, in fixed notation when the decimal
/// exponent is in `-4 < e <= 16`, otherwise in exponent notation with a signed, two-digit-minimum
/// exponent (`1e-05`, `1e+16`, `1.5e+300`). `json.dumps` prints floats the same way.
pub(crate) fn float_repr(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // `{:e}` gives the shortest digits that round-trip, as `d.ddde-7`; when two such strings are
    // equally close (an exact tie), Python picks the even last digit, which the correctly rounded
    // (ties-to-even) formatting at the same precision gives.
    let shortest = format!("{value:e}");
    let digits = shortest
        .split('e')
        .next()
        .unwrap_or("")
        .bytes()
        .filter(u8::is_ascii_digit)
        .count();
    let rounded = format!("{value:.prec$e}", prec = digits.saturating_sub(1));
    if rounded != shortest && rounded.parse::<f64>().ok() == Some(value) {
        return shortest_to_python(&rounded);
    }
    shortest_to_python(&shortest)
}

/// `float_repr` for a value that was an `f32` in Rust: the shortest digits of the `f32`, so that
/// `0.1f32` prints as `0.1` (what the user wrote) rather than `0.10000000149011612`.
pub(crate) fn float_repr_f32(value: f32) -> String {
    if !value.is_finite() {
        return float_repr(f64::from(value));
    }
    let shortest = format!("{value:e}");
    let digits = shortest
        .split('e')
        .next()
        .unwrap_or("")
        .bytes()
        .filter(u8::is_ascii_digit)
        .count();
    let rounded = format!("{value:.prec$e}", prec = digits.saturating_sub(1));
    if rounded != shortest && rounded.parse::<f32>().ok() == Some(value) {
        return shortest_to_python(&rounded);
    }
    shortest_to_python(&shortest)
}

/// Turns Rust's `{:e}` output (`-1.25e-7`, `1e16`, `0e0`) into Python's `repr`.
fn shortest_to_python(exp_form: &str) -> String {
    let (negative, body) = match exp_form.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, exp_form),
    };
    let (mantissa, exponent) = body.split_once('e').unwrap_or((body, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    if digits.bytes().all(|b| b == b'0') {
        out.push_str("0.0");
        return out;
    }
    // Position of the decimal point relative to the start of `digits`.
    let point = exponent + 1;
    if point > -4 && point <= 16 {
        let len = digits.len() as i32;
        if point <= 0 {
            out.push_str("0.");
            for _ in 0..-point {
                out.push('0');
            }
            out.push_str(&digits);
        } else if point >= len {
            out.push_str(&digits);
            for _ in 0..point - len {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            let (int_part, frac_part) = digits.split_at(point as usize);
            out.push_str(int_part);
            out.push('.');
            out.push_str(frac_part);
        }
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let e = point - 1;
        let _ = write!(
            out,
            "e{}{:02}",
            if e < 0 { '-' } else { '+' },
            e.unsigned_abs()
        );
    }
    out
}

/// `repr(s)` for a Python `str`.
///
/// Python keeps printable non-ASCII characters as they are and escapes the rest; "printable" is
/// approximated without Unicode tables: controls, the separators and format characters listed in
/// [`is_printable`], and private-use characters are escaped.
pub(crate) fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let code = u32::from(c);
                let _ = if code <= 0xff {
                    write!(out, "\\x{code:02x}")
                } else if code <= 0xffff {
                    write!(out, "\\u{code:04x}")
                } else {
                    write!(out, "\\U{code:08x}")
                };
            }
        }
    }
    out.push(quote);
    out
}

/// An approximation of Python's `str.isprintable` for one character.
fn is_printable(c: char) -> bool {
    let code = u32::from(c);
    !matches!(code,
        0x00..=0x1f | 0x7f..=0xa0 | 0xad
        | 0x1680 | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064 | 0x2066..=0x206f
        | 0x3000 | 0xd800..=0xf8ff | 0xfeff | 0xfff9..=0xfffb
        | 0xe0000..=0xe0fff | 0xf0000..)
}

/// Python's `str()` of the value `json.loads` would build from `raw` (a JSON text that the
/// CPython-compatible scanner accepted): `None`, `True`, `1`, `2.5`, `inf`, `{'a': [1, None]}`;
/// strings print raw at the top level and with `repr` inside containers.
pub(crate) fn python_str_of_json(raw: &str) -> String {
    let raw = raw.trim_matches([' ', '\t', '\n', '\r']);
    if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        return crate::decode::unescape(inner).into_owned();
    }
    let mut printer = ReprPrinter {
        bytes: raw.as_bytes(),
        text: raw,
        pos: 0,
        out: String::new(),
    };
    match printer.value(0) {
        Some(()) => printer.out,
        None => raw.to_owned(),
    }
}

/// Prints a (valid) JSON text as Python's `repr` of its `json.loads` value.
struct ReprPrinter<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
    out: String,
}

impl ReprPrinter<'_> {
    fn skip_ws(&mut self) {
        while matches!(self.bytes.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.text[self.pos..].starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > 64 {
            return None;
        }
        self.skip_ws();
        match *self.bytes.get(self.pos)? {
            b'"' => {
                let s = self.string()?;
                self.out.push_str(&str_repr(&s));
            }
            b'{' => {
                self.pos += 1;
                self.out.push('{');
                self.skip_ws();
                if self.eat("}") {
                    self.out.push('}');
                    return Some(());
                }
                loop {
                    self.skip_ws();
                    let key = self.string()?;
                    self.out.push_str(&str_repr(&key));
                    self.skip_ws();
                    if !self.eat(":") {
                        return None;
                    }
                    self.out.push_str(": ");
                    self.value(depth + 1)?;
                    self.skip_ws();
                    if self.eat("}") {
                        self.out.push('}');
                        return Some(());
                    }
                    if !self.eat(",") {
                        return None;
                    }
                    self.out.push_str(", ");
                }
            }
            b'[' => {
                self.pos += 1;
                self.out.push('[');
                self.skip_ws();
                if self.eat("]") {
                    self.out.push(']');
                    return Some(());
                }
                loop {
                    self.value(depth + 1)?;
                    self.skip_ws();
                    if self.eat("]") {
                        self.out.push(']');
                        return Some(());
                    }
                    if !self.eat(",") {
                        return None;
                    }
                    self.out.push_str(", ");
                }
            }
            _ => {
                for (token, repr) in [
                    ("null", "None"),
                    ("true", "True"),
                    ("false", "False"),
                    ("NaN", "nan"),
                    ("Infinity", "inf"),
                    ("-Infinity", "-inf"),
                ] {
                    if self.eat(token) {
                        self.out.push_str(repr);
                        return Some(());
                    }
                }
                let start = self.pos;
                while matches!(
                    self.bytes.get(self.pos),
                    Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                ) {
                    self.pos += 1;
                }
                let number = &self.text[start..self.pos];
                self.out.push_str(&number_repr(number)?);
            }
        }
        Some(())
    }

    fn string(&mut self) -> Option<String> {
        if self.bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        let mut i = start;
        loop {
            match *self.bytes.get(i)? {
                b'"' => break,
                b'\\' => i += 2,
                _ => i += 1,
            }
        }
        self.pos = i + 1;
        Some(crate::decode::unescape(self.text.get(start..i)?).into_owned())
    }
}

/// Python's `repr` of the number `json.loads` makes of a JSON number token.
pub(crate) fn number_repr(token: &str) -> Option<String> {
    if token.is_empty() {
        return None;
    }
    if token.contains(['.', 'e', 'E']) {
        let value: f64 = token.parse().ok()?;
        Some(float_repr(value))
    } else {
        let digits = token.strip_prefix('-').unwrap_or(token);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if digits.bytes().all(|b| b == b'0') {
            Some("0".to_owned())
        } else {
            Some(token.to_owned())
        }
    }
}

/// Python's `repr` of a JSON value (as pydantic prints expected literals: `'a'`, `1`, `None`, `True`).
pub(crate) fn value_repr(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => float_repr(f),
            _ => n.to_string(),
        },
        Value::String(s) => str_repr(s),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(value_repr).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", str_repr(k), value_repr(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// pydantic's "expected" list: `'a'`, `'a' or 'b'`, `'a', 'b' or 'c'`.
pub(crate) fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_python_repr() {
        // Expected values are CPython 3.11's repr().
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (12.5, "12.5"),
            (0.1, "0.1"),
            (1e-7, "1e-07"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (-2.5e-10, "-2.5e-10"),
            (1.5e300, "1.5e+300"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (100.0, "100.0"),
            (0.3333333333333333, "0.3333333333333333"),
            // An exact tie between two shortest strings: Python keeps the even digit.
            (1497614200663787.2, "1497614200663787.2"),
            (2083353740316651.2, "2083353740316651.2"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "nan"),
        ];
        for (value, expected) in cases {
            assert_eq!(float_repr(*value), *expected, "{value:?}");
        }
        assert_eq!(float_repr_f32(0.1), "0.1");
        assert_eq!(float_repr_f32(1e20), "1e+20");
    }

    #[test]
    fn strings_repr_like_python() {
        assert_eq!(str_repr("chat"), "'chat'");
        assert_eq!(str_repr("it's"), "\"it's\"");
        assert_eq!(str_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(str_repr("tab\there\n\\"), "'tab\\there\\n\\\\'");
        assert_eq!(str_repr("\u{1}\u{7f}\u{a0}é😀"), "'\\x01\\x7f\\xa0é😀'");
        assert_eq!(str_repr("\u{2028}"), "'\\u2028'");
    }

    #[test]
    fn json_values_print_like_python_str() {
        assert_eq!(python_str_of_json("null"), "None");
        assert_eq!(python_str_of_json("true"), "True");
        assert_eq!(python_str_of_json("1"), "1");
        assert_eq!(python_str_of_json("-0"), "0");
        assert_eq!(python_str_of_json("1.0"), "1.0");
        assert_eq!(python_str_of_json("1e400"), "inf");
        assert_eq!(python_str_of_json("1E5"), "100000.0");
        assert_eq!(
            python_str_of_json("123456789012345678901234567890"),
            "123456789012345678901234567890"
        );
        assert_eq!(python_str_of_json("\"da\\u006ece\""), "dance");
        assert_eq!(
            python_str_of_json("{\"a\": [1, 2.5, null, true, \"x\"]}"),
            "{'a': [1, 2.5, None, True, 'x']}"
        );
        assert_eq!(python_str_of_json("[ ]"), "[]");
        assert_eq!(python_str_of_json("NaN"), "nan");
    }

    #[test]
    fn or_lists() {
        let items: Vec<String> = ["'a'", "'b'", "'c'"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(or_list(&items[..1]), "'a'");
        assert_eq!(or_list(&items[..2]), "'a' or 'b'");
        assert_eq!(or_list(&items), "'a', 'b' or 'c'");
    }
}

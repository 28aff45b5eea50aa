//! Chanx's camelCase wire option: the key conversions of the Python `humps` package
//! (`humps.camelize` on every frame sent, `humps.decamelize` on every frame received), keys only,
//! recursively through objects and lists; values (so the `action` value) are never touched.

use serde_json::{Map, Value};

/// Converts every object key in `value` with `convert`, recursively (`humps._process_keys`).
fn process_keys(value: &mut Value, convert: fn(&str) -> String) {
    match value {
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| process_keys(item, convert)),
        Value::Object(object) => {
            let old = std::mem::take(object);
            let mut renamed = Map::with_capacity(old.len());
            for (key, mut item) in old {
                process_keys(&mut item, convert);
                renamed.insert(convert(&key), item);
            }
            *object = renamed;
        }
        _ => {}
    }
}

/// `humps.camelize` applied to every key of `value`.
pub(crate) fn camelize_keys(value: &mut Value) {
    process_keys(value, camelize);
}

/// `humps.decamelize` applied to every key of `value`.
pub(crate) fn decamelize_keys(value: &mut Value) {
    process_keys(value, decamelize);
}

/// Python's `str.isupper`: some cased character, and no lowercase one.
fn is_upper(chars: &[char]) -> bool {
    chars.iter().any(|c| c.is_uppercase()) && !chars.iter().any(|c| c.is_lowercase())
}

/// Python's `str.isnumeric`: not empty, and every character numeric.
fn is_numeric(chars: &[char]) -> bool {
    !chars.is_empty() && chars.iter().all(|c| c.is_numeric())
}

fn is_separator(c: char) -> bool {
    c == '-' || c == '_'
}

/// The key without whitespace (`humps._is_none`), or `None` when humps returns it unchanged.
fn prepared(key: &str) -> Option<Vec<char>> {
    let chars: Vec<char> = key.chars().filter(|c| !c.is_whitespace()).collect();
    if is_upper(&chars) || is_numeric(&chars) {
        None
    } else {
        Some(chars)
    }
}

/// `humps.camelize` of one string.
fn camelize(key: &str) -> String {
    let Some(mut chars) = prepared(key) else {
        return key.to_owned();
    };
    if !chars.is_empty() && !is_upper(&chars[..chars.len().min(2)]) {
        let first: Vec<char> = chars[0].to_lowercase().collect();
        chars.splice(0..1, first);
    }
    // UNDERSCORE_RE = (?<=[^\-_])[\-_]+[^\-_]: a separator run after a non-separator, and the
    // character after it, become that character in upper case.
    let mut out = String::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_separator(c) && i > 0 && !is_separator(chars[i - 1]) {
            let mut end = i;
            while end < chars.len() && is_separator(chars[end]) {
                end += 1;
            }
            if end < chars.len() {
                out.extend(chars[end].to_uppercase());
                i = end + 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

fn is_acronym_char(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

/// Python's `str.title` of one run of upper-case letters and digits.
fn title(run: &[char], out: &mut Vec<char>) {
    let mut previous_cased = false;
    for &c in run {
        if previous_cased {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        previous_cased = c.is_uppercase() || c.is_lowercase();
    }
}

/// `humps._fix_abbreviations`: ACRONYM_RE = ([A-Z\d]+)(?=[A-Z\d]|$), each match title-cased.
fn fix_abbreviations(chars: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        if !is_acronym_char(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut end = i;
        while end < chars.len() && is_acronym_char(chars[end]) {
            end += 1;
        }
        // The greedy match backs off one character so that the look-ahead sees the next one,
        // unless the run reaches the end of the string.
        let matched = if end == chars.len() { end } else { end - 1 };
        if matched > i {
            title(&chars[i..matched], &mut out);
        }
        out.extend_from_slice(&chars[matched..end]);
        i = end;
    }
    out
}

/// `humps.decamelize` of one string.
fn decamelize(key: &str) -> String {
    let Some(chars) = prepared(key) else {
        return key.to_owned();
    };
    let chars = fix_abbreviations(&chars);
    // SPLIT_RE = ([\-_]*[A-Z][^A-Z]*[\-_]*): re.split keeps the matches; the non-empty pieces are
    // joined with `_`.
    let mut pieces: Vec<&[char]> = Vec::new();
    let mut pos = 0;
    let mut p = 0;
    while p < chars.len() {
        let mut upper = p;
        while upper < chars.len() && is_separator(chars[upper]) {
            upper += 1;
        }
        if upper < chars.len() && chars[upper].is_ascii_uppercase() {
            let mut end = upper + 1;
            while end < chars.len() && !chars[end].is_ascii_uppercase() {
                end += 1;
            }
            pieces.push(&chars[pos..p]);
            pieces.push(&chars[p..end]);
            pos = end;
            p = end;
        } else {
            p = upper.max(p + 1);
        }
    }
    pieces.push(&chars[pos..]);
    let mut out = String::with_capacity(chars.len() + 4);
    for piece in pieces.into_iter().filter(|piece| !piece.is_empty()) {
        if !out.is_empty() {
            out.push('_');
        }
        for c in piece {
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `(key, humps.camelize(key), humps.decamelize(key))`, printed by humps 3.8 under CPython.
    const HUMPS: &[(&str, &str, &str)] = &[
        ("userId", "userId", "user_id"),
        ("user_id", "userId", "user_id"),
        ("replyTo", "replyTo", "reply_to"),
        ("APIResponse", "APIResponse", "api_response"),
        ("A1B", "A1B", "A1B"),
        ("ID", "ID", "ID"),
        ("hello_world", "helloWorld", "hello_world"),
        ("_private", "_private", "_private"),
        ("a__b", "aB", "a__b"),
        ("HTTPServerError", "HTTPServerError", "http_server_error"),
        ("sentAt", "sentAt", "sent_at"),
        ("has_more", "hasMore", "has_more"),
        ("x", "x", "x"),
        ("", "", ""),
        ("Abc", "abc", "abc"),
        ("abc_Def", "abcDef", "abc__def"),
        ("a b_c", "abC", "ab_c"),
        ("1_a", "1A", "1_a"),
        ("snake_case_2x", "snakeCase2x", "snake_case_2x"),
        ("userID2", "userID2", "user_id2"),
    ];

    #[test]
    fn keys_convert_as_humps_does() {
        for (key, camel, snake) in HUMPS {
            assert_eq!(camelize(key), *camel, "camelize({key:?})");
            assert_eq!(decamelize(key), *snake, "decamelize({key:?})");
        }
    }

    #[test]
    fn only_keys_change_recursively() {
        let mut value = json!({
            "action": "set_user_name",
            "payload": {"user_name": "a_b", "items": [{"reply_to": 1}], "sent_at": null},
            "ref": "r_1",
        });
        camelize_keys(&mut value);
        assert_eq!(
            value,
            json!({
                "action": "set_user_name",
                "payload": {"userName": "a_b", "items": [{"replyTo": 1}], "sentAt": null},
                "ref": "r_1",
            })
        );
        let keys: Vec<&String> = value["payload"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["userName", "items", "sentAt"]);
        decamelize_keys(&mut value);
        assert_eq!(value["payload"]["items"][0], json!({"reply_to": 1}));
        assert_eq!(value["action"], "set_user_name");
    }
}

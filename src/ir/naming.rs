//! The naming pass: Rust identifiers from wire names.
//!
//! Rules (documented in `docs/decisions.md`):
//! - words are split with heck after every character that cannot be in an identifier becomes a
//!   separator (`chat.message`, `new-room`, `user name` all split into words); non-ASCII letters are
//!   separators too, so output is plain ASCII;
//! - types and variants are `PascalCase`, fields, methods and modules `snake_case`;
//! - a leading digit gets a `_` prefix (`2fa_code` gives `_2fa_code` and `_2faCode`);
//! - keywords become raw identifiers (`r#type`), except those that cannot be raw (`self`, `Self`,
//!   `super`, `crate`, `extern`), which get a `_` suffix;
//! - a name that sanitizes to nothing gets the caller's fallback.
//!
//! A [`Namespace`] holds the names of one scope. Names taken from the spec are *claimed*: a second
//! claim of the same identifier is a collision that names both sources. Names the generator invents
//! (`ChatPayload`) are *suggested*: on a clash they get the smallest free numeric suffix, in
//! document order, so output is deterministic.

use heck::{ToPascalCase, ToSnakeCase};

use super::FastMap;
use crate::diagnostics::Loc;

/// Whether `word` is a strict or reserved keyword of Rust 2024 (or `gen`), so not a plain
/// identifier. A `match`, which compiles to a few byte comparisons: the formatter's quick parse
/// asks for every identifier it reads, and a scan of the list compared a word with each keyword
/// of its length.
pub(crate) fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "as" | "async"
            | "await"
            | "break"
            | "const"
            | "continue"
            | "crate"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "gen"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "self"
            | "Self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "try"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
    )
}

/// Keywords that `r#` cannot escape.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "extern"];

/// Replaces every character that is not an ASCII letter or digit by a space, so heck sees words.
fn words(raw: &str) -> String {
    raw.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect()
}

fn finish(mut name: String, fallback: &str) -> String {
    if name.is_empty() {
        return fallback.to_owned();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    if NOT_RAW.contains(&name.as_str()) {
        name.push('_');
    } else if is_keyword(&name) {
        name.insert_str(0, "r#");
    }
    name
}

/// A `PascalCase` identifier for a type or variant.
pub fn type_name(raw: &str, fallback: &str) -> String {
    finish(words(raw).to_pascal_case(), fallback)
}

/// A `snake_case` identifier for a field, method, parameter or module.
pub fn snake_name(raw: &str, fallback: &str) -> String {
    finish(words(raw).to_snake_case(), fallback)
}

/// The identifier without a raw prefix, for comparing names.
fn bare(name: &str) -> &str {
    name.strip_prefix("r#").unwrap_or(name)
}

/// Two spec names that give the same identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    /// The identifier.
    pub name: String,
    /// The wire name that claimed it first, and where.
    pub first: (String, Option<Loc>),
}

/// The names of one scope (a module's types, a struct's fields, an enum's variants...).
#[derive(Debug, Default, Clone)]
pub struct Namespace {
    taken: FastMap<String, (String, Option<Loc>)>,
}

impl Namespace {
    /// An empty scope.
    pub fn new() -> Self {
        Self::default()
    }

    /// A scope in which `names` are already taken (say, names the templates emit).
    pub fn with_reserved(names: &[&str]) -> Self {
        let mut namespace = Self::new();
        for name in names {
            namespace
                .taken
                .insert((*name).to_owned(), ((*name).to_owned(), None));
        }
        namespace
    }

    /// Takes `name` for the spec name `wire` found at `loc`; a clash if something else has it.
    pub fn claim(&mut self, name: &str, wire: &str, loc: Option<&Loc>) -> Result<(), Clash> {
        match self.taken.get(bare(name)) {
            Some(first) if first.0 != wire || first.1.as_ref() != loc => Err(Clash {
                name: name.to_owned(),
                first: first.clone(),
            }),
            Some(_) => Ok(()),
            None => {
                self.taken
                    .insert(bare(name).to_owned(), (wire.to_owned(), loc.cloned()));
                Ok(())
            }
        }
    }

    /// Takes `name` if free, else `name2`, `name3`, ...; returns what it took.
    pub fn suggest(&mut self, name: &str, wire: &str) -> String {
        let mut candidate = name.to_owned();
        let mut n = 2;
        while self.taken.contains_key(bare(&candidate)) {
            candidate = format!("{}{n}", bare(name));
            n += 1;
        }
        self.taken
            .insert(bare(&candidate).to_owned(), (wire.to_owned(), None));
        candidate
    }

    /// Whether `name` is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.taken.contains_key(bare(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_hostile_names() {
        assert_eq!(type_name("chat.message", "X"), "ChatMessage");
        assert_eq!(type_name("new-room", "X"), "NewRoom");
        assert_eq!(type_name("2fa_code", "X"), "_2faCode");
        assert_eq!(type_name("self", "X"), "Self_");
        assert_eq!(type_name("Result", "X"), "Result");
        assert_eq!(type_name("", "Fallback"), "Fallback");
        assert_eq!(type_name("名前", "Fallback"), "Fallback");
        assert_eq!(snake_name("type", "x"), "r#type");
        assert_eq!(snake_name("self", "x"), "self_");
        assert_eq!(snake_name("crate", "x"), "crate_");
        assert_eq!(snake_name("userName", "x"), "user_name");
        assert_eq!(snake_name("2fa_code", "x"), "_2fa_code");
        assert_eq!(snake_name("gen", "x"), "r#gen");
        assert_eq!(snake_name("HTTPServer", "x"), "http_server");
    }

    #[test]
    fn keywords_are_recognised_and_nothing_else() {
        // The Reference's strict and reserved keywords of the 2024 edition, and `gen`.
        const KEYWORDS: &[&str] = &[
            "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
            "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match",
            "mod", "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct",
            "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract",
            "become", "box", "do", "final", "macro", "override", "priv", "try", "typeof",
            "unsized", "virtual", "yield",
        ];
        for keyword in KEYWORDS {
            assert!(is_keyword(keyword), "{keyword}");
            assert!(!is_keyword(&keyword.to_uppercase()), "{keyword}");
        }
        for name in [
            "",
            "x",
            "Type",
            "types",
            "r#type",
            "selfish",
            "continues",
            "SELF",
        ] {
            assert!(!is_keyword(name), "{name}");
        }
    }

    #[test]
    fn claims_clash_and_suggestions_number() {
        let mut ns = Namespace::new();
        ns.claim("user_name", "userName", None).unwrap();
        let clash = ns.claim("user_name", "user_name", None).unwrap_err();
        assert_eq!(clash.first.0, "userName");
        assert_eq!(ns.suggest("user_name", "x"), "user_name2");
        assert_eq!(ns.suggest("user_name", "y"), "user_name3");
        ns.claim("r#type", "type", None).unwrap();
        assert!(ns.contains("type"));
    }
}

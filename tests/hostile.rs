//! Spec text can never inject code (DESIGN §3): `specs/hostile.yaml` holds descriptions with `*/`,
//! `"`, `#[`, code fences and control characters, and keyword, prelude-like and punctuated names.
//! Its output is parsed with syn and checked:
//!
//! - every attribute is `doc`, `derive`, `serde`, `allow`, `cfg`, `test` or `rustfmt`; `cfg` is only
//!   `cfg(test)`, and no `allow` silences `warnings` wholesale;
//! - every item is of a kind the generator emits by design, named by its convention (types and
//!   traits in UpperCamelCase, constants and statics in SCREAMING_SNAKE_CASE, functions, modules and
//!   fields in snake_case, trait impls only of the traits the generator implements), and every
//!   identifier is ASCII `[A-Za-z0-9_]` (raw `r#` allowed), so no name carries a character of the
//!   hostile strings; macros are only the fully qualified std ones the templates call; the one
//!   import is the runtime's code-generation module as `cg`;
//! - every code fence in a doc comment opens as ```` ```text ```` and is closed (no doctest can come
//!   from the spec), and no doc has an indented code block;
//! - no raw control character, line separator or bidirectional override is in the text;
//! - the hostile payloads (`*/`, `#[allow(warnings)]`, `fn main() {}`, `compile_error!`, ...) are
//!   present in the output, but only inside doc attributes and string literals: they never appear
//!   as tokens of code.
//!
//! The structural checks (all but the last) run on the output of every spec of `specs/` that
//! generates. The hostile module is also compiled, and its contract tests run, as part of the
//! golden crate (`tests/golden/`, a workspace member; see `tests/golden.rs`).

mod common;

use std::fmt::Write as _;

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::visit::{self, Visit};

const ATTRIBUTES: &[&str] = &["doc", "derive", "serde", "allow", "cfg", "test", "rustfmt"];

/// The traits the generator implements, by last path segment.
const IMPLEMENTED_TRAITS: &[&str] = &[
    "Validate", "Endpoint", "Clone", "From", "TryFrom", "Default", "Display", "FromStr",
];

/// The macros the templates call, always fully qualified (`::core::assert!`).
const MACROS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "format",
    "vec",
    "panic",
    "unreachable",
    "write",
    "writeln",
    "matches",
];

/// Hostile text of `specs/hostile.yaml` that must reach the output only as text: `(payload as it
/// must appear in docs or literals, token sequence that must never appear as code)`.
const PAYLOADS: &[(&str, &str)] = &[
    ("*/", "* /"),
    ("/*", "/ *"),
    ("fn main() {}", "fn main ( ) { }"),
    ("#[doc = \"injected\"] fn f() {}", "fn f ( ) { }"),
    ("compile_error!(\"injected\")", "compile_error !"),
    ("std::process::exit(1);", "process : : exit"),
    ("#[allow(warnings)]", "allow ( warnings )"),
    ("#[cfg(any())]", "cfg ( any ( ) )"),
    ("<script>alert(1)</script>", "alert ( 1 )"),
    ("{} {0} {name}", "{ 0 }"),
];

/// Token sequences of hostile text that the output may leave out (a default of a required field,
/// `"); panic!("`), but must never hold as code.
const NEVER_CODE: &[&str] = &["; panic ! ("];

#[test]
fn hostile_text_never_becomes_code() {
    let spec = common::specs_dir().join("hostile.yaml");
    let generated = chanx_gen::generate(&spec, &chanx_gen::render::Settings::new())
        .unwrap_or_else(|error| panic!("specs/hostile.yaml does not generate: {error:?}"));
    let mut problems = Vec::new();
    let mut text = String::new();
    for file in &generated.files {
        let name = format!("hostile/{}", file.path.display());
        problems.extend(structural_problems(&name, &file.contents));
        let tokens: TokenStream = file
            .contents
            .parse()
            .unwrap_or_else(|error| panic!("{name} does not lex: {error}"));
        let mut code = Vec::new();
        flatten(tokens, &mut code, &mut text);
        let code = format!(" {} ", code.join(" "));
        let sequences = PAYLOADS
            .iter()
            .map(|(_, sequence)| sequence)
            .chain(NEVER_CODE);
        for sequence in sequences {
            if code.contains(&format!(" {sequence} ")) {
                problems.push(format!("{name}: `{sequence}` appears as code"));
            }
        }
    }
    let text = unescape_markdown(&text);
    for (payload, _) in PAYLOADS {
        if !text.contains(payload) {
            problems.push(format!(
                "`{payload}` is in no doc or string literal of the output: the spec changed, or \
                 the generator drops it (then this test checks nothing)"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_spec_output_follows_the_structural_rules() {
    let mut problems = Vec::new();
    let mut files = 0;
    for spec in common::project_specs()
        .into_iter()
        .filter(|s| s.generates())
    {
        let generated = chanx_gen::generate(&spec.path, &chanx_gen::render::Settings::new())
            .unwrap_or_else(|error| panic!("specs/{} does not generate: {error:?}", spec.name));
        for file in &generated.files {
            files += 1;
            let name = format!("{}/{}", spec.stem(), file.path.display());
            problems.extend(structural_problems(&name, &file.contents));
        }
    }
    assert!(files > 0);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The checks are not vacuous: injected code of every kind is reported.
#[test]
fn the_checks_report_injected_code() {
    let injected = "//! ```\n//! compile_error!(\"x\");\n//! ```\n\
                    #![allow(warnings)]\n\
                    #[cfg(any())]\n\
                    #[inline]\n\
                    fn main() { compile_error!(\"x\"); }\n\
                    /// Text.\n///\n///     indented(code);\npub struct Caf\u{e9};\n\
                    pub struct Ok;\npub const X: &str = \"\u{202e}\";\n\
                    macro_rules! m { () => {} }\n\
                    use ::std::process as cg;\n\
                    impl ::core::ops::Drop for Ok { fn drop(&mut self) {} }\n";
    let problems = structural_problems("injected.rs", injected).join("\n");
    for expected in [
        "opens as `````",
        "`allow(warnings)`",
        "`cfg` other than `cfg(test)`",
        "attribute `#[inline]`",
        "macro `compile_error!`",
        "indented code block",
        "identifier `Caf\u{e9}`",
        "U+202E",
        "a kind the generator does not emit",
        "impl of trait `::core::ops::Drop`",
        "an import other than the runtime's: std::process as cg",
    ] {
        assert!(
            problems.contains(expected),
            "`{expected}` was not reported; the report:\n{problems}"
        );
    }
}

/// Everything wrong with one generated file, by the rules of the module docs.
fn structural_problems(name: &str, contents: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (line, text) in contents.lines().enumerate() {
        if let Some(c) = text.chars().find(|&c| forbidden_char(c)) {
            problems.push(format!(
                "{name}:{}: raw character U+{:04X} in the text",
                line + 1,
                u32::from(c)
            ));
        }
    }
    let file = match syn::parse_file(contents) {
        Ok(file) => file,
        Err(error) => {
            problems.push(format!("{name}: does not parse: {error}"));
            return problems;
        }
    };
    let mut checker = Checker {
        name,
        problems: Vec::new(),
        docs: Vec::new(),
    };
    checker.visit_file(&file);
    problems.append(&mut checker.problems);
    problems.extend(doc_problems(name, &checker.docs));
    problems
}

fn forbidden_char(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{FEFF}'
                | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// One doc attribute: its style (inner or outer), its line, its text.
struct Doc {
    inner: bool,
    line: usize,
    text: String,
}

struct Checker<'a> {
    name: &'a str,
    problems: Vec<String>,
    docs: Vec<Doc>,
}

impl Checker<'_> {
    fn problem(&mut self, span: proc_macro2::Span, message: String) {
        self.problems
            .push(format!("{}:{}: {message}", self.name, span.start().line));
    }

    fn check_name(&mut self, kind: &str, ident: &syn::Ident, rule: fn(&str) -> bool) {
        let name = ident.to_string();
        let bare = name.strip_prefix("r#").unwrap_or(&name);
        if !rule(bare) {
            self.problem(
                ident.span(),
                format!("{kind} `{name}` breaks its naming convention"),
            );
        }
    }
}

fn upper_camel(name: &str) -> bool {
    let core = name.trim_matches('_');
    core.chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && core.chars().all(|c| c.is_ascii_alphanumeric())
}

fn screaming_snake(name: &str) -> bool {
    name == "_"
        || name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn snake(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// An import as text (`a::b as c`), with `{..}` for groups and `*` for globs.
fn use_tree_text(tree: &syn::UseTree) -> String {
    match tree {
        syn::UseTree::Path(path) => format!("{}::{}", path.ident, use_tree_text(&path.tree)),
        syn::UseTree::Name(name) => name.ident.to_string(),
        syn::UseTree::Rename(rename) => format!("{} as {}", rename.ident, rename.rename),
        syn::UseTree::Glob(_) => "*".to_owned(),
        syn::UseTree::Group(_) => "{..}".to_owned(),
    }
}

fn path_text(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    format!(
        "{}{}",
        if path.leading_colon.is_some() {
            "::"
        } else {
            ""
        },
        segments.join("::")
    )
}

impl<'ast> Visit<'ast> for Checker<'_> {
    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        let path = path_text(attr.path());
        let first = path.split("::").next().unwrap_or_default();
        if !ATTRIBUTES.contains(&first) {
            self.problem(attr.span(), format!("attribute `#[{path}]` is not allowed"));
        }
        match (first, &attr.meta) {
            ("doc", syn::Meta::NameValue(meta)) => match &meta.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) => self.docs.push(Doc {
                    inner: matches!(attr.style, syn::AttrStyle::Inner(_)),
                    line: attr.span().start().line,
                    text: text.value(),
                }),
                _ => self.problem(attr.span(), "a doc attribute that is not a string".into()),
            },
            ("doc", _) => self.problem(
                attr.span(),
                "a doc attribute that is not `doc = \"..\"`".into(),
            ),
            ("cfg", meta) => {
                let ok = matches!(meta, syn::Meta::List(list) if list.tokens.to_string() == "test");
                if !ok {
                    self.problem(attr.span(), "`cfg` other than `cfg(test)`".into());
                }
            }
            ("allow", syn::Meta::List(list)) => {
                let lints = list.tokens.to_string();
                if lints.split(',').any(|lint| lint.trim() == "warnings") {
                    self.problem(attr.span(), "`allow(warnings)`".into());
                }
            }
            _ => {}
        }
        visit::visit_attribute(self, attr);
    }

    fn visit_ident(&mut self, ident: &'ast proc_macro2::Ident) {
        let name = ident.to_string();
        let bare = name.strip_prefix("r#").unwrap_or(&name);
        let valid = bare
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            self.problem(
                ident.span(),
                format!("identifier `{name}` is not [A-Za-z_][A-Za-z0-9_]*"),
            );
        }
    }

    fn visit_item(&mut self, item: &'ast syn::Item) {
        match item {
            syn::Item::Struct(s) => self.check_name("struct", &s.ident, upper_camel),
            syn::Item::Enum(e) => self.check_name("enum", &e.ident, upper_camel),
            syn::Item::Type(t) => self.check_name("type alias", &t.ident, upper_camel),
            syn::Item::Trait(t) => {
                self.check_name("trait", &t.ident, upper_camel);
                if !t.ident.to_string().ends_with("Consumer") {
                    self.problem(
                        t.ident.span(),
                        format!("trait `{}` is not a consumer trait", t.ident),
                    );
                }
            }
            syn::Item::Const(c) => self.check_name("const", &c.ident, screaming_snake),
            syn::Item::Static(s) => self.check_name("static", &s.ident, screaming_snake),
            syn::Item::Fn(f) => self.check_name("fn", &f.sig.ident, snake),
            syn::Item::Mod(m) => self.check_name("mod", &m.ident, snake),
            syn::Item::Impl(i) => {
                if let Some((_, path, _)) = i.trait_.as_ref().map(|(p, f)| ((), p, f)) {
                    let last = path
                        .segments
                        .last()
                        .map(|s| s.ident.to_string())
                        .unwrap_or_default();
                    if !IMPLEMENTED_TRAITS.contains(&last.as_str()) {
                        self.problem(i.span(), format!("impl of trait `{}`", path_text(path)));
                    }
                }
            }
            // The one import: the runtime's code-generation module as `cg`.
            syn::Item::Use(u) => {
                let text = use_tree_text(&u.tree);
                if u.leading_colon.is_none() || text != "chanx_runtime::__codegen as cg" {
                    self.problem(
                        u.span(),
                        format!("an import other than the runtime's: {text}"),
                    );
                }
            }
            other => self.problem(
                other.span(),
                "an item of a kind the generator does not emit (macro, use, extern, union, ...)"
                    .into(),
            ),
        }
        visit::visit_item(self, item);
    }

    fn visit_field(&mut self, field: &'ast syn::Field) {
        if let Some(ident) = &field.ident {
            self.check_name("field", ident, snake);
        }
        visit::visit_field(self, field);
    }

    fn visit_variant(&mut self, variant: &'ast syn::Variant) {
        self.check_name("variant", &variant.ident, upper_camel);
        visit::visit_variant(self, variant);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let path = &mac.path;
        let root = path
            .segments
            .first()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let last = path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let qualified =
            path.leading_colon.is_some() && matches!(root.as_str(), "core" | "std" | "alloc");
        if !qualified || !MACROS.contains(&last.as_str()) {
            self.problem(mac.span(), format!("macro `{}!`", path_text(path)));
        }
        visit::visit_macro(self, mac);
    }
}

/// Problems of the doc comments: blocks are runs of doc attributes of one style on consecutive
/// lines; in each, a fence opens only as ```` ```text ```` and closes, and no indented code block
/// starts outside a fence.
fn doc_problems(name: &str, docs: &[Doc]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut blocks: Vec<Vec<&Doc>> = Vec::new();
    for doc in docs {
        match blocks.last_mut() {
            Some(block)
                if block.last().is_some_and(|last| {
                    last.inner == doc.inner
                        && last.line + 1 + last.text.matches('\n').count() >= doc.line
                }) =>
            {
                block.push(doc)
            }
            _ => blocks.push(vec![doc]),
        }
    }
    for block in blocks {
        let first_line = block[0].line;
        let text: String = block.iter().fold(String::new(), |mut all, doc| {
            let _ = writeln!(all, "{}", doc.text);
            all
        });
        let mut fence: Option<&str> = None;
        let mut previous_blank = true;
        for line in text.lines() {
            let line = line.strip_prefix(' ').unwrap_or(line);
            let indent = line.len() - line.trim_start().len();
            let trimmed = line.trim_start();
            let marker = ["```", "~~~"]
                .into_iter()
                .find(|m| indent < 4 && trimmed.starts_with(m));
            match (fence, marker) {
                (None, Some(marker)) => {
                    let info = trimmed
                        .trim_start_matches(marker.chars().next().unwrap())
                        .trim();
                    if info != "text" {
                        problems.push(format!(
                            "{name}:{first_line}: a doc code fence opens as `{trimmed}`, not ```text"
                        ));
                    }
                    fence = Some(marker);
                }
                (Some(open), Some(marker)) if marker == open => fence = None,
                (None, None) if indent >= 4 && previous_blank && !trimmed.is_empty() => {
                    problems.push(format!(
                        "{name}:{first_line}: an indented code block in a doc (a doctest): `{trimmed}`"
                    ));
                }
                _ => {}
            }
            previous_blank = trimmed.is_empty();
        }
        if fence.is_some() {
            problems.push(format!(
                "{name}:{first_line}: a doc code fence is never closed"
            ));
        }
    }
    problems
}

/// Appends the code tokens of `tokens` to `code` (delimiters as tokens, each string literal as
/// `"…"`), and the text of its string literals (doc comments included) to `text`.
fn flatten(tokens: TokenStream, code: &mut Vec<String>, text: &mut String) {
    for token in tokens {
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                code.push(open.to_owned());
                flatten(group.stream(), code, text);
                code.push(close.to_owned());
            }
            TokenTree::Literal(literal) => {
                match syn::parse_str::<syn::LitStr>(&literal.to_string()) {
                    Ok(string) => {
                        text.push_str(&string.value());
                        text.push('\n');
                        code.push("\"…\"".to_owned());
                    }
                    Err(_) => code.push(literal.to_string()),
                }
            }
            other => code.push(other.to_string()),
        }
    }
}

/// `text` without the backslashes of Markdown escapes (`\[` → `[`), as docs escape them.
fn unescape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(char::is_ascii_punctuation) {
            continue;
        }
        out.push(c);
    }
    out
}

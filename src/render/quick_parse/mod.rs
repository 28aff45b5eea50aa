//! A quick parse for the Rust that the templates write. syn would lex each chunk into a token
//! stream and run its general parser over it, the costliest step of generation; this parser reads
//! only the grammar the templates use and builds the same syn tree directly:
//!
//! - items: `use`, `const`, `static`, `struct`, `enum`, `fn`, `impl` and `trait`, with `///` docs,
//!   attributes (their arguments lexed by proc-macro2, as syn's parse does) and inner `#![...]`
//!   attributes at the top of a file ([`items`]);
//! - types: paths with generic arguments, references, slices, tuples, `impl` and `dyn` bounds, and
//!   generic parameters ([`types`]);
//! - statements, patterns and expressions: `let`, `if`, `if let`, `match`, `for`, `return`,
//!   closures, `async` blocks, calls, method calls, fields, `.await`, `?`, casts, one comparison,
//!   references, unary operators, macros, struct literals and literals ([`exprs`]).
//!
//! On anything else it gives `None` and the caller parses the chunk with syn; the tests (every
//! chunk the specs and the corpus generate, against syn's parse) and the golden files hold both to
//! the same output.

mod exprs;
mod items;
mod types;

use std::str::FromStr;

use proc_macro2::{Ident, Span};
use syn::punctuated::Punctuated;
use syn::{Expr, Path};

use crate::ir::naming;

/// The syn file of `text` when it is only items this parser reads, maybe after inner attributes;
/// `None` otherwise.
pub(super) fn parse_items(text: &str) -> Option<syn::File> {
    let mut parser = Parser {
        text,
        pos: 0,
        no_struct: false,
    };
    let attrs = parser.inner_attributes()?;
    let mut items = Vec::new();
    loop {
        let outer = parser.outer_attributes()?;
        parser.skip_whitespace();
        if parser.pos == text.len() {
            if !outer.is_empty() {
                return None;
            }
            break;
        }
        items.push(parser.item(outer)?);
    }
    if items.is_empty() {
        return None;
    }
    Some(syn::File {
        shebang: None,
        frontmatter: None,
        attrs,
        items,
    })
}

/// An attribute of `style`.
fn attribute(style: syn::AttrStyle, meta: syn::Meta) -> syn::Attribute {
    syn::Attribute {
        pound_token: Default::default(),
        style,
        bracket_token: Default::default(),
        meta,
    }
}

/// `#[doc = "..."]`, as the lexer turns a `///` comment into one.
fn doc_attribute(comment: &str) -> syn::Attribute {
    attribute(
        syn::AttrStyle::Outer,
        syn::Meta::NameValue(syn::MetaNameValue {
            path: Path::from(Ident::new("doc", Span::call_site())),
            eq_token: Default::default(),
            value: Expr::Lit(syn::ExprLit {
                attrs: Vec::new(),
                lit: syn::Lit::Str(syn::LitStr::new(comment, Span::call_site())),
            }),
        }),
    )
}

/// Where a path is: generic arguments follow `::` in an expression (`f::<T>`), directly in a
/// type (`Vec<T>`), and not at all in an attribute.
#[derive(Clone, Copy, PartialEq)]
enum PathStyle {
    Expr,
    Type,
    Mod,
}

/// A cursor over the chunk's text. Every method skips the whitespace before what it reads and
/// gives `None` (leaving the position unspecified) when the text is not what it reads.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
    /// In the condition of an `if`, the scrutinee of a `match` or the iterator of a `for`, where
    /// `path {` starts the block rather than a struct literal.
    no_struct: bool,
}

impl<'a> Parser<'a> {
    /// Outer `///` docs and attributes: `#[path]`, `#[path = EXPR]` and `#[path(TOKENS)]`.
    fn outer_attributes(&mut self) -> Option<Vec<syn::Attribute>> {
        let mut attrs = Vec::new();
        loop {
            if let Some(comment) = self.doc_comment() {
                attrs.push(doc_attribute(comment));
                continue;
            }
            if self.punct("#").is_none() {
                return Some(attrs);
            }
            self.punct("[")?;
            attrs.push(attribute(syn::AttrStyle::Outer, self.meta()?));
        }
    }

    /// Inner `#![...]` attributes (`#!` then `[` with nothing between, which syn would otherwise
    /// take for a shebang).
    fn inner_attributes(&mut self) -> Option<Vec<syn::Attribute>> {
        let mut attrs = Vec::new();
        while self.rest_after_whitespace().starts_with("#![") {
            self.pos += 3;
            attrs.push(attribute(
                syn::AttrStyle::Inner(Default::default()),
                self.meta()?,
            ));
        }
        Some(attrs)
    }

    /// An attribute's content after its `[`, and the `]`.
    fn meta(&mut self) -> Option<syn::Meta> {
        let path = self.path(PathStyle::Mod)?;
        let meta = if self.punct("=").is_some() {
            let value = match self.expr()? {
                Expr::Lit(syn::ExprLit {
                    attrs,
                    lit: syn::Lit::Verbatim(token),
                }) => Expr::Lit(syn::ExprLit {
                    attrs,
                    lit: syn::Lit::new(token),
                }),
                value => value,
            };
            syn::Meta::NameValue(syn::MetaNameValue {
                path,
                eq_token: Default::default(),
                value,
            })
        } else if self.peek_punct("(") {
            syn::Meta::List(syn::MetaList {
                path,
                delimiter: syn::MacroDelimiter::Paren(Default::default()),
                tokens: self.delimited_tokens('(', ')')?,
            })
        } else {
            syn::Meta::Path(path)
        };
        self.punct("]")?;
        Some(meta)
    }

    /// The tokens between `open` and its `close`, lexed by proc-macro2 as syn's parse would.
    fn delimited_tokens(&mut self, open: char, close: char) -> Option<proc_macro2::TokenStream> {
        self.skip_whitespace();
        self.pos += self.rest().strip_prefix(open).map(|_| open.len_utf8())?;
        let start = self.pos;
        let text = self.rest();
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        for (offset, c) in text.char_indices() {
            if in_string {
                in_string = c != '"' || escaped;
                escaped = c == '\\' && !escaped;
                continue;
            }
            let before = text[..offset].chars().next_back();
            let after = text[offset + c.len_utf8()..].chars().next();
            match c {
                // A string with a prefix (`r"..."`, `b"..."`) is left to syn.
                '"' if before.is_some_and(|b| b.is_alphanumeric() || b == '_') => return None,
                '"' => in_string = true,
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' if depth > 0 => depth -= 1,
                c if c == close => {
                    let inner = &text[..offset];
                    self.pos = start + offset + 1;
                    return proc_macro2::TokenStream::from_str(inner).ok();
                }
                // Unbalanced brackets, comments, characters, lifetimes and raw strings (`r#"`)
                // are left to syn; raw identifiers (`r#type`) are read.
                ')' | ']' | '}' | '/' | '\'' => return None,
                '#' if matches!(after, Some('"' | '#')) => return None,
                _ => {}
            }
        }
        None
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn skip_whitespace(&mut self) {
        let spaces = self.text.as_bytes()[self.pos..]
            .iter()
            .take_while(|&&byte| matches!(byte, b' ' | b'\n' | b'\t'))
            .count();
        self.pos += spaces;
    }

    /// The text from the next token on.
    fn rest_after_whitespace(&mut self) -> &'a str {
        self.skip_whitespace();
        self.rest()
    }

    /// The text of a `///` comment (not `////`), without the slashes.
    fn doc_comment(&mut self) -> Option<&'a str> {
        let body = self.rest_after_whitespace().strip_prefix("///")?;
        if body.starts_with('/') {
            return None;
        }
        let comment = &body[..body.find('\n').unwrap_or(body.len())];
        if comment.contains('\r') {
            return None;
        }
        self.pos += 3 + comment.len();
        Some(comment)
    }

    /// Punctuation `symbol`, when it is not the start of a longer one (`:` of `::`, `.` of `..`,
    /// `&` of `&&`, `=` of `==` or `=>`, `-` of `->`, `|` of `||`, `!` of `!=`, ...).
    fn punct(&mut self, symbol: &str) -> Option<()> {
        let rest = self.rest_after_whitespace();
        // Most tries fail at the first byte: skip the comparison of the rest.
        if rest.as_bytes().first() != symbol.as_bytes().first() {
            return None;
        }
        let after = rest.strip_prefix(symbol)?;
        let longer = match symbol {
            ":" => after.starts_with(':'),
            "." => after.starts_with('.'),
            ".." => after.starts_with(['.', '=']),
            "&" => after.starts_with(['&', '=']),
            "=" | "!=" | "==" => after.starts_with(['=', '>']),
            "<" => after.starts_with(['<', '=']),
            ">" => after.starts_with('='),
            "-" => after.starts_with(['>', '=']),
            "|" => after.starts_with(['|', '=']),
            "!" | "*" | "+" => after.starts_with('='),
            _ => false,
        };
        if longer {
            return None;
        }
        self.pos += symbol.len();
        Some(())
    }

    fn peek_punct(&mut self, symbol: &str) -> bool {
        let pos = self.pos;
        let found = self.punct(symbol).is_some();
        self.pos = pos;
        found
    }

    /// The next word (identifier or keyword), not consumed.
    fn peek_word(&mut self) -> &'a str {
        let rest = self.rest_after_whitespace();
        if rest.starts_with(|c: char| c.is_ascii_digit()) {
            return "";
        }
        let end = rest
            .bytes()
            .position(|byte| !(byte.is_ascii_alphanumeric() || byte == b'_'))
            .unwrap_or(rest.len());
        &rest[..end]
    }

    /// Keyword `word`.
    fn word(&mut self, word: &str) -> Option<()> {
        (self.peek_word() == word).then(|| self.pos += word.len())
    }

    /// An identifier that is not a keyword, or a raw one (`r#type`); not `_`.
    fn ident(&mut self) -> Option<Ident> {
        let word = self.peek_word();
        if word == "r" && self.rest()[1..].starts_with('#') {
            self.pos += 2;
            let word = self.peek_word();
            if word.is_empty() || matches!(word, "_" | "self" | "Self" | "super" | "crate") {
                return None;
            }
            self.pos += word.len();
            return Some(Ident::new_raw(word, Span::call_site()));
        }
        if word.is_empty() || word == "_" || naming::is_keyword(word) {
            return None;
        }
        self.pos += word.len();
        Some(Ident::new(word, Span::call_site()))
    }

    /// A lifetime (`'a`, `'static`), when one comes next (not a character literal).
    fn lifetime(&mut self) -> Option<syn::Lifetime> {
        let name = self.rest_after_whitespace().strip_prefix('\'')?;
        let end = name
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(name.len());
        let word = &name[..end];
        if word.is_empty()
            || word.starts_with(|c: char| c.is_ascii_digit())
            || name[end..].starts_with('\'')
            || (word != "_" && word != "static" && naming::is_keyword(word))
        {
            return None;
        }
        self.pos += 1 + end;
        Some(syn::Lifetime::new(
            &self.text[self.pos - 1 - end..self.pos],
            Span::call_site(),
        ))
    }

    /// What `item` reads, separated by commas (a trailing one allowed), up to and with `close`.
    fn separated<T>(
        &mut self,
        close: &str,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Punctuated<T, syn::Token![,]>> {
        let mut items = Punctuated::new();
        loop {
            if self.punct(close).is_some() {
                return Some(items);
            }
            items.push_value(item(self)?);
            if self.punct(",").is_some() {
                items.push_punct(Default::default());
            } else {
                self.punct(close)?;
                return Some(items);
            }
        }
    }

    /// What `read` reads with struct literals allowed again (inside brackets), or not.
    fn with_structs<T>(
        &mut self,
        allowed: bool,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<T> {
        let outer = self.no_struct;
        self.no_struct = !allowed;
        let result = read(self);
        self.no_struct = outer;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// prettyplease's text for the quick parse of `text`, and for syn's.
    fn both(text: &str) -> (Option<String>, String) {
        let quick = parse_items(text).map(|file| prettyplease::unparse(&file));
        let syn = prettyplease::unparse(&syn::parse_file(text).expect("valid Rust"));
        (quick, syn)
    }

    #[test]
    fn same_tree_as_syn() {
        for item in TRICKY_ITEMS {
            let (quick, syn) = both(item);
            assert_eq!(quick.as_deref(), Some(syn.as_str()), "{item}");
        }
    }

    /// Every prefix of the tricky items (cut at any character) is declined or parsed to syn's tree,
    /// never a panic.
    #[test]
    fn cut_items_are_declined_or_parsed_as_syn_does() {
        for item in TRICKY_ITEMS {
            for (end, _) in item.char_indices() {
                let cut = &item[..end];
                if let Some(file) = parse_items(cut) {
                    let syn = syn::parse_file(cut).expect("what parses quickly parses with syn");
                    assert_eq!(
                        prettyplease::unparse(&file),
                        prettyplease::unparse(&syn),
                        "{cut}"
                    );
                }
            }
        }
    }

    /// Items whose quick parse must give syn's tree.
    const TRICKY_ITEMS: &[&str] = &[
        "/// The schema.\n///\n///  Indented `code` and \"quotes\".\npub static A_SCHEMA: cg::Schema = cg::Schema::Object(&cg::ObjectSchema::open(\"A\", &[cg::FieldSchema::required(\"text\", &cg::Schema::Str(cg::StrConstraints::NONE.min_length(1).max_length(2000))), cg::FieldSchema::optional(\"n\", &B_SCHEMA)]).with_additional(&cg::Schema::Any));",
        "pub static B: cg::Schema = cg::Schema::Str(cg::StrConstraints { pattern: ::core::option::Option::Some(&PATTERN_0), ..cg::StrConstraints::NONE });",
        "pub static C: cg::Schema = cg::Schema::IntEnum { name: \"C\", values: &[0, 1, -1, 9223372036854775807] };",
        "pub static D: cg::Schema = cg::Schema::Number(cg::NumberConstraints::NONE.minimum(-0.5, \"-0.5\").maximum(1e-7, \"1e-07\").exclusive_maximum(2E5, \"2E5\").multiple_of(2.5e+20, \"x\"));",
        "pub static E: cg::Schema = cg::Schema::TaggedUnion { property: \"kind\", arms: &[(\"a\\\"b\\\\\", &A), (\"caf\\u{e9}\", &B)], };",
        "pub(crate) static PATTERN_0: cg::Pattern = cg::Pattern::new(\"^[a-z0-9_]{3,32}$\");",
        "pub static F: ::x::Y = ::x::Y::Z(&[], (), f(a, b,), S {}, S { a: 1, });",
        "pub static G: ::std::vec::Vec<::std::vec::Vec<super::X>> = ::std::vec::Vec::new();",
        "pub static H: a::B<C, D,> = crate::x::y::<T>(self::Z);",
        "/// Docs.\n#[test]\n#[ignore]\nfn chat_sample() {\n    cg::testing::valid_sample::<super::types::Chat>(\"{\\\"a\\\":1}\", \"chat\", &super::types::CHAT_SCHEMA, \"missing\", &[\"chat\", \"payload\"]);\n}",
        "fn f() { a(); b::<::std::string::String>() }",
        "fn f() {}",
        "#[cfg(test)]\n#[allow(dead_code, clippy::all)]\nfn f() {}",
        "fn default_x() -> ::std::vec::Vec<(u8, ::std::string::String,)> { ::std::vec::Vec::new() }",
        "/// A type.\n#[derive(Debug, Clone, PartialEq, cg::serde::Serialize)]\n#[serde(crate = \"cg::serde\")]\n#[serde(deny_unknown_fields)]\npub struct A {\n    #[doc = \" A (field) [\\\")\"]\n    #[serde(rename = \"a)\", default, skip_serializing_if = \"Option::is_none\")]\n    pub a: ::core::option::Option<::std::boxed::Box<A>>,\n    pub r#type: (),\n}\nfn default_a() -> u8 { 1 }",
        "pub struct B(pub cg::indexmap::IndexMap<::std::string::String, B>);",
        "pub struct B(\n    pub u8,\n);\npub enum E {\n    V(\n        u8,\n    ),\n}",
        "pub struct C {}",
        "pub struct A(pub u8, pub (u8, u16));\npub enum E { B(u8, u8,) }",
        "#[serde(tag = \"kind\")]\npub enum D {\n    #[serde(rename = \"x\")]\n    X(super::X),\n    Y,\n    #[serde(other)]\n    Z\n}",
        "pub const A: u8 = 1;",
        "static A: u8 = 1;",
        "pub struct U;",
        "#![test]\nfn f() {}",
        "#![doc = \"a\"]\n#![allow(x, y)]\nuse ::a::b as c;\nuse self::d;\npub use e;",
        "pub static A: &str = \"x\";",
        "pub static A: u8 = (1);",
        "pub static A: u8 = x.y;",
        "pub static A: u8 = &mut X;",
        "pub static A: bool = true;",
        "pub static A: u8 = { 1 };",
        "pub static A: u8 = S { a };",
        "pub static A: Vec<'static, u8> = x;",
        "pub static A: &'static [&str] = &[\"a\", \"b\"];",
        "fn f(x: u8) {}",
        "pub fn f() {}",
        "async fn f() {}",
        "fn f() { let x = 1; }",
        "pub struct A<T> { pub a: T }",
        "pub struct A { a: u8 }",
        "pub struct A(u8);",
        "pub trait ChatConsumer: Send + Sync + 'static {\n    #[doc = \" Docs.\"]\n    fn handle(&self, cx: &cg::Context, message: super::types::M) -> impl ::core::future::Future<Output = Result<Option<super::types::R>, cg::HandlerError>> + Send;\n\n    fn event(&self, _cx: &cg::Context, event: E) -> impl ::core::future::Future<Output = Result<Option<E>, cg::HandlerError>> + Send {\n        async move { Ok(Some(event)) }\n    }\n}",
        "impl<C: ChatConsumer> ChatDispatcher<C> {\n    pub fn new(consumer: C) -> Self { Self { consumer: ::std::sync::Arc::new(consumer) } }\n    pub fn from_arc(consumer: ::std::sync::Arc<C>) -> Self { Self { consumer } }\n    pub async fn handle_text(&self, cx: &cg::Context, text: &str) {\n        let incoming = match cg::read_frame(text, \"action\") { Ok(incoming) => incoming, Err(rejected) => { cg::send_rejection(cx, rejected); return; } };\n        let cx = cx.with_reply_ref(incoming.envelope.reference.clone());\n        match incoming.tag().as_str() {\n            Some(\"a\") => { if let Some(message) = cg::decode_or_answer::<super::types::A>(&cx, &incoming, \"a\", &super::types::A_SCHEMA) { let outcome = <C as ChatConsumer>::handle(&self.consumer, &cx, message).await; cg::finish(&cx, \"a\", outcome.map(|()| Option::<ServerMessage>::None)); } }\n            Some(\"b\") => { let outcome = <C as ChatConsumer>::b(&self.consumer, &cx).await; cg::finish(&cx, \"b\", outcome.map(|reply| reply.map(ServerMessage::from))); }\n            _ => cg::send_errors(&cx, ::std::vec![cg::tag_error(&incoming.tag(), \"action\", CLIENT_TAGS)]),\n        }\n    }\n    pub async fn check(&self) -> ::std::vec::Vec<::std::string::String> { let mut problems = ::std::vec::Vec::new(); cg::testing::check_action(&mut problems, self, \"{}\", \"action\", &[\"a\", ]).await; problems }\n}",
        "impl<C: ChatConsumer> cg::Endpoint for ChatDispatcher<C> {\n    fn info(&self) -> &'static cg::ChannelInfo { &INFO }\n    fn handle_text<'a>(&'a self, cx: &'a cg::Context, text: &'a str) -> cg::BoxFuture<'a, ()> { ::std::boxed::Box::pin(self.handle_text(cx, text)) }\n}",
        "impl<C> ::core::clone::Clone for D<C> { fn clone(&self) -> Self { Self { consumer: ::std::sync::Arc::clone(&self.consumer) } } }",
        "impl Params { pub fn from_context(cx: &cg::Context) -> Option<Self> { let _ = cx; Some(Self { id: cx.path_param(\"id\")?.parse().ok()?, }) } pub fn path(&self) -> ::std::string::String { ::std::format!(\"/a/{}\", self.id) } }",
        "impl cg::Validate for A { fn validate(&self, errors: &mut cg::Errors) { errors.push_key(\"a\"); if let ::core::option::Option::Some(n0) = &self.a { cg::check_number(errors, *n0 as f64, &cg::NumberConstraints::NONE.minimum(0.0, \"0\")); } errors.pop(); for (i0, item0) in (&self.b).iter().enumerate() { errors.push_index(i0); cg::Validate::validate(item0, errors); errors.pop(); } for (key1, value1) in value0 { errors.push_key(key1); } if *&self.kind != \"x\" { errors.report(\"literal_error\", ::std::string::String::from(\"y\")); } cg::check_number(errors, *&(&self.position).1 as f64, &X); if let Self::B(v0) = self { cg::Validate::validate(v0, errors); } } }",
        "impl cg::Validate for B {}",
        "pub struct L { layer: ::std::sync::Arc<dyn cg::ChannelLayer>, }",
        "impl L { pub async fn send(&self, groups: &[&str], from: Option<&str>) -> Result<(), cg::LayerError> { cg::send(&*self.layer, groups, from).await } }",
        "impl ::core::convert::From<E> for ServerMessage { fn from(message: E) -> Self { match message { E::A(message) => { ServerMessage::A(message) } E::B(message) => ServerMessage::B(message), } } }",
        "#[allow(dead_code)]\npub(crate) async fn check_chat<C: super::chat::ChatConsumer>(consumer: C) { let problems = super::chat::ChatDispatcher::new(consumer).check_replies().await; ::core::assert!(problems.is_empty(), \"{}\", problems.join(\"\\n\")); }",
        "fn f(&mut self, mut x: u8) { if a { b } else if c { d } else { e } if x == -1 { return; } x.await?; x.0; -x as i64 as u8; !y; match x { _ => {} } { f() }; m![a]; m!(b) }",
        "fn f() -> S { ::std::format!(\"{}{}\", self.r#type, \"#\") }",
        "pub static A: u8 = f(1u8, 2.5f64, 1e3f32, -7i64, 0usize);",
    ];

    /// Every top-level item that generation writes for the specs of `specs/` and of the shared
    /// corpus (when `$CHANX_CORPUS` is set), as prettyplease printed it, parses quickly to syn's
    /// tree, but for the few kinds left to syn.
    #[test]
    fn every_generated_item_parses_quickly_as_syn_does() {
        let settings = crate::render::Settings::new();
        let (mut quick_items, mut quick_bytes, mut syn_bytes) = (0, 0, 0);
        for path in crate::test_support::spec_and_corpus_files() {
            let Ok(generated) = crate::generate(&path, &settings) else {
                continue;
            };
            for file in &generated.files {
                for item in top_level_items(&file.contents) {
                    // The header, and the file's `//!` docs and inner attributes.
                    if item.starts_with("//") || item.starts_with("#![") {
                        continue;
                    }
                    let (quick, syn) = both(item);
                    let place = format!("{}: {}", path.display(), file.path.display());
                    match quick {
                        Some(quick) => {
                            assert_eq!(quick, syn, "{place}");
                            quick_items += 1;
                            quick_bytes += item.len();
                        }
                        None => {
                            assert!(left_to_syn(item), "{place}: not parsed quickly:\n{item}");
                            syn_bytes += item.len();
                        }
                    }
                }
            }
        }
        assert!(quick_items > 500, "only {quick_items} items parsed quickly");
        assert!(
            syn_bytes * 20 < quick_bytes,
            "{syn_bytes} bytes left to syn, {quick_bytes} parsed quickly"
        );
    }

    /// The top-level items of a printed file: prettyplease starts them at column 0 after a blank
    /// line (nested items are indented).
    fn top_level_items(text: &str) -> Vec<&str> {
        let mut items = Vec::new();
        let mut start = 0;
        for (at, _) in text.match_indices("\n\n") {
            let next = &text[at + 2..];
            if !next.starts_with([' ', '\n', '}', ')', ']']) && at > start {
                items.push(&text[start..at]);
                start = at + 2;
            }
        }
        items.push(&text[start..]);
        items
    }

    /// The items the quick parse leaves to syn: module declarations, the compile-time API check,
    /// conversions of integer enums (an associated type, negative patterns) and validation of
    /// unique items (ranges and indexing).
    fn left_to_syn(item: &str) -> bool {
        item.starts_with("pub mod ")
            || item.starts_with("mod ")
            || item.starts_with("#[cfg(test)]\nmod ")
            || item.starts_with("const _")
            || item.contains("type Error = ")
            || item.contains("(0..items.len())")
    }

    #[test]
    fn anything_else_is_left_to_syn() {
        for text in [
            "pub static mut A: u8 = 1;",
            "//! Inner docs.\npub static A: u8 = 1;",
            "//// Not a doc comment.\npub static A: u8 = 1;",
            "/** Block docs. */\npub static A: u8 = 1;",
            "#! [a]\nfn f() {}",
            "pub static A: u8 = 1u7;",
            "pub static A: u8 = 1u8.x;",
            "pub static A: u8 = 1.;",
            "pub static A: u8 = &&X;",
            "pub static A: u8 = a + b;",
            "pub static A: u8 = r#self;",
            "pub static A: u8 = r #type;",
            "pub static A: &str = r\"raw\";",
            "pub static A: &[u8] = b\"bytes\";",
            "pub static A: [u8; 1] = [1];",
            "pub static A: u8 = 1",
            "pub static A: &str = \"unterminated;",
            "pub static A: Vec<u8>= 1;",
            "pub static A: Vec<u8 u16> = 1;",
            "pub static A: u8 = f::<>();",
            "pub static A: u8 = a < b;",
            "pub static A: u8 = 'a';",
            "fn f() { a() b() }",
            "fn f() { let x: u8 = 1; }",
            "fn f() { let x = 1 }",
            "fn f() { let x; }",
            "fn f() { match x { A | B => 1, } }",
            "fn f() { match x { a if a => 1, } }",
            "fn f() { match x { a => 1 b => 2 } }",
            "fn f() { if a {} .b(); }",
            "fn f() { match a {}?; }",
            "fn f() { x[0]; }",
            "fn f() { a..b; }",
            "fn f() { a = 1; }",
            "fn f() { a && b; }",
            "fn f() { a != b != c; }",
            "fn f() { if let A = a != b {} }",
            "fn f() { || 1; }",
            "fn f() { move |x| x; }",
            "fn f() { |x: u8| x; }",
            "fn f() { |x| -> u8 { x }; }",
            "fn f() { m! { a }; }",
            "fn f() { m! x; }",
            "fn f() { m!(r\"a\\\"); }",
            "fn f() { m!(r#\"a\"#); }",
            "fn f() { m!(b'a'); }",
            "fn f() { m::<T>!(x); }",
            "fn f() { x.0.1; }",
            "fn f() { x.01; }",
            "fn f() { loop {} }",
            "fn f() { unsafe {} }",
            "fn f() { 'a: loop {} }",
            "fn f() { S { 0: 1 }; }",
            "fn f() { match x { S { a } => 1, } }",
            "fn f() { match x { -1 => 1, } }",
            "fn f() { #[a] x; }",
            "fn f() { ; }",
            "fn f() { fn g() {} }",
            "fn f<T>() where T: Copy {}",
            "fn f(self: Box<Self>) {}",
            "fn f() -> &dyn A + B {}",
            "const _: () = ();",
            "impl A { type B = C; }",
            "impl A { const B: u8 = 1; }",
            "pub impl A {}",
            "impl !A for B {}",
            "trait A { const B: u8; }",
            "trait A<T> {}",
            "struct A<T: ?Sized>(T);",
            "use a::{b, c};",
            "use a::*;",
            "pub mod a;",
            "pub(super) fn f() {}",
            "pub enum A { B { c: u8 } }",
            "pub enum A { B = 1 }",
            "#[doc = 'x']\npub struct A;",
            "#[a(/* comment */)]\npub struct A {}",
            "#[a(b\npub struct A {}",
            "#[a(b])]\npub struct A {}",
            "/// Docs of nothing.",
        ] {
            assert!(parse_items(text).is_none(), "{text}");
        }
    }
}

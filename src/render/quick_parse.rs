//! A quick parse for the chunks made of simple items: schema statics (a third of the generated
//! text), struct and enum definitions with their default functions, and contract tests (one call
//! each). syn would lex each chunk into a token stream and run its general parser over it, the
//! costliest step of generation. This parser reads only the grammar of those items (`///` docs and
//! attributes, `pub static NAME: TYPE = EXPR;`, `pub struct`, `pub enum`, `fn NAME() -> TYPE { EXPR;
//! }`, types that are paths with generic arguments or tuples, and expressions built of paths,
//! calls, method calls, references, negation, arrays, tuples, struct literals and literals) and
//! builds the same syn tree directly; an attribute's arguments are lexed by proc-macro2, as syn's
//! parse does. On anything else it gives `None` and the caller parses the chunk with syn; the tests
//! and the golden files hold both to the same output.

use std::str::FromStr;

use proc_macro2::{Ident, Literal, Span};
use syn::punctuated::Punctuated;
use syn::{Expr, Path, PathArguments, PathSegment};

use crate::ir::naming;

/// The syn file of `text` when it is only items this parser reads: `pub` or `pub(crate)`
/// statics, `pub` structs and enums, and functions without parameters whose body is statements of
/// expressions, each with outer `///` docs and attributes; `None` otherwise.
pub(super) fn parse_items(text: &str) -> Option<syn::File> {
    let mut parser = Parser { text, pos: 0 };
    let mut items = Vec::new();
    loop {
        let attrs = parser.outer_attributes()?;
        parser.skip_whitespace();
        if parser.pos == text.len() {
            if !attrs.is_empty() {
                return None;
            }
            break;
        }
        let item = if parser.peek_word() == "fn" {
            parser.function(attrs)?
        } else {
            parser.word("pub")?;
            match parser.peek_word() {
                "struct" => parser.structure(attrs)?,
                "enum" => parser.enumeration(attrs)?,
                _ => parser.static_item(attrs)?,
            }
        };
        items.push(item);
    }
    if items.is_empty() {
        return None;
    }
    Some(syn::File {
        shebang: None,
        frontmatter: None,
        attrs: Vec::new(),
        items,
    })
}

/// An outer attribute.
fn attribute(meta: syn::Meta) -> syn::Attribute {
    syn::Attribute {
        pound_token: Default::default(),
        style: syn::AttrStyle::Outer,
        bracket_token: Default::default(),
        meta,
    }
}

/// `#[doc = "..."]`, as the lexer turns a `///` comment into one.
fn doc_attribute(comment: &str) -> syn::Attribute {
    attribute(syn::Meta::NameValue(syn::MetaNameValue {
        path: Path::from(Ident::new("doc", Span::call_site())),
        eq_token: Default::default(),
        value: Expr::Lit(syn::ExprLit {
            attrs: Vec::new(),
            lit: syn::Lit::Str(syn::LitStr::new(comment, Span::call_site())),
        }),
    }))
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
}

impl<'a> Parser<'a> {
    /// `static NAME: TYPE = EXPR;` after `pub` (or `pub(crate)`, whose parenthesis comes next).
    fn static_item(&mut self, attrs: Vec<syn::Attribute>) -> Option<syn::Item> {
        let vis = if self.punct("(").is_some() {
            self.word("crate")?;
            self.punct(")")?;
            syn::Visibility::Restricted(syn::VisRestricted {
                pub_token: Default::default(),
                paren_token: Default::default(),
                in_token: None,
                path: Box::new(Path::from(Ident::new("crate", Span::call_site()))),
            })
        } else {
            syn::Visibility::Public(Default::default())
        };
        self.word("static")?;
        let ident = self.ident()?;
        self.punct(":")?;
        let ty = self.ty()?;
        self.punct("=")?;
        let expr = self.expr()?;
        self.punct(";")?;
        Some(syn::Item::Static(syn::ItemStatic {
            attrs,
            vis,
            static_token: Default::default(),
            mutability: syn::StaticMutability::None,
            ident,
            colon_token: Default::default(),
            ty: Box::new(ty),
            eq_token: Default::default(),
            expr: Box::new(expr),
            semi_token: Default::default(),
        }))
    }

    /// `fn NAME() -> TYPE { EXPR; ... }`, without the result maybe, the last expression maybe
    /// without `;`.
    fn function(&mut self, attrs: Vec<syn::Attribute>) -> Option<syn::Item> {
        self.word("fn")?;
        let ident = self.ident()?;
        self.punct("(")?;
        self.punct(")")?;
        let output = match self.punct("->") {
            Some(()) => syn::ReturnType::Type(Default::default(), Box::new(self.ty()?)),
            None => syn::ReturnType::Default,
        };
        self.punct("{")?;
        let mut stmts = Vec::new();
        while self.punct("}").is_none() {
            let expr = self.expr()?;
            if self.punct(";").is_some() {
                stmts.push(syn::Stmt::Expr(expr, Some(Default::default())));
            } else {
                self.punct("}")?;
                stmts.push(syn::Stmt::Expr(expr, None));
                break;
            }
        }
        Some(syn::Item::Fn(syn::ItemFn {
            attrs,
            vis: syn::Visibility::Inherited,
            modifiers: Default::default(),
            sig: syn::Signature {
                constness: None,
                asyncness: None,
                safety: syn::Safety::Default,
                abi: None,
                fn_token: Default::default(),
                ident,
                generics: Default::default(),
                paren_token: Default::default(),
                inputs: Punctuated::new(),
                variadic: None,
                output,
            },
            block: Box::new(syn::Block {
                brace_token: Default::default(),
                stmts,
            }),
        }))
    }

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
            let path = self.path(PathStyle::Mod)?;
            let meta = if self.punct("=").is_some() {
                syn::Meta::NameValue(syn::MetaNameValue {
                    path,
                    eq_token: Default::default(),
                    value: self.expr()?,
                })
            } else if self.peek_punct("(") {
                syn::Meta::List(syn::MetaList {
                    path,
                    delimiter: syn::MacroDelimiter::Paren(Default::default()),
                    tokens: self.delimited_tokens()?,
                })
            } else {
                syn::Meta::Path(path)
            };
            self.punct("]")?;
            attrs.push(attribute(meta));
        }
    }

    /// The tokens between `(` and its `)`, lexed by proc-macro2 as syn's parse would.
    fn delimited_tokens(&mut self) -> Option<proc_macro2::TokenStream> {
        self.punct("(")?;
        let start = self.pos;
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        for (offset, c) in self.rest().char_indices() {
            if in_string {
                in_string = c != '"' || escaped;
                escaped = c == '\\' && !escaped;
                continue;
            }
            match c {
                '"' => in_string = true,
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' if depth > 0 => depth -= 1,
                ')' => {
                    let inner = &self.text[start..start + offset];
                    self.pos = start + offset + 1;
                    return proc_macro2::TokenStream::from_str(inner).ok();
                }
                // Comments, characters and raw strings are left to syn.
                '/' | '\'' | '#' => return None,
                _ => {}
            }
        }
        None
    }

    /// `struct NAME { FIELDS }` or `struct NAME(pub TYPE);` after `pub`.
    fn structure(&mut self, attrs: Vec<syn::Attribute>) -> Option<syn::Item> {
        self.word("struct")?;
        let ident = self.ident()?;
        let (fields, semi_token) = if self.peek_punct("(") {
            self.punct("(")?;
            let unnamed = self.separated(")", |parser| parser.field(false))?;
            self.punct(";")?;
            (
                syn::Fields::Unnamed(syn::FieldsUnnamed {
                    paren_token: Default::default(),
                    unnamed,
                }),
                Some(Default::default()),
            )
        } else {
            self.punct("{")?;
            let named = self.separated("}", |parser| parser.field(true))?;
            (
                syn::Fields::Named(syn::FieldsNamed {
                    brace_token: Default::default(),
                    named,
                }),
                None,
            )
        };
        Some(syn::Item::Struct(syn::ItemStruct {
            attrs,
            vis: syn::Visibility::Public(Default::default()),
            struct_token: Default::default(),
            ident,
            generics: Default::default(),
            fields,
            semi_token,
        }))
    }

    /// A `pub` field: `pub NAME: TYPE` when `named`, else `pub TYPE`; with attributes.
    fn field(&mut self, named: bool) -> Option<syn::Field> {
        let attrs = self.outer_attributes()?;
        self.word("pub")?;
        let ident = if named {
            let ident = self.ident()?;
            self.punct(":")?;
            Some(ident)
        } else {
            None
        };
        Some(syn::Field {
            attrs,
            vis: syn::Visibility::Public(Default::default()),
            modifiers: Default::default(),
            colon_token: ident.as_ref().map(|_| Default::default()),
            ident,
            ty: self.ty()?,
            default: None,
        })
    }

    /// `enum NAME { VARIANTS }` after `pub`: unit variants and variants of one type.
    fn enumeration(&mut self, attrs: Vec<syn::Attribute>) -> Option<syn::Item> {
        self.word("enum")?;
        let ident = self.ident()?;
        self.punct("{")?;
        let variants = self.separated("}", Self::variant)?;
        Some(syn::Item::Enum(syn::ItemEnum {
            attrs,
            vis: syn::Visibility::Public(Default::default()),
            enum_token: Default::default(),
            ident,
            generics: Default::default(),
            brace_token: Default::default(),
            variants,
        }))
    }

    /// A unit variant, or one of unnamed fields; with attributes.
    fn variant(&mut self) -> Option<syn::Variant> {
        let attrs = self.outer_attributes()?;
        let ident = self.ident()?;
        let fields = if self.punct("(").is_some() {
            let unnamed = self.separated(")", |parser| {
                Some(syn::Field {
                    attrs: Vec::new(),
                    vis: syn::Visibility::Inherited,
                    modifiers: Default::default(),
                    ident: None,
                    colon_token: None,
                    ty: parser.ty()?,
                    default: None,
                })
            })?;
            syn::Fields::Unnamed(syn::FieldsUnnamed {
                paren_token: Default::default(),
                unnamed,
            })
        } else {
            syn::Fields::Unit
        };
        Some(syn::Variant {
            attrs,
            ident,
            fields,
            discriminant: None,
        })
    }

    /// A type: a path, maybe with generic arguments, or a tuple of types.
    fn ty(&mut self) -> Option<syn::Type> {
        if self.punct("(").is_some() {
            let elems = self.separated(")", Self::ty)?;
            // `(T)` is a parenthesized type, not a tuple.
            if elems.len() == 1 && !elems.trailing_punct() {
                return None;
            }
            return Some(syn::Type::Tuple(syn::TypeTuple {
                attrs: Vec::new(),
                paren_token: Default::default(),
                elems,
            }));
        }
        Some(syn::Type::Path(syn::TypePath {
            attrs: Vec::new(),
            qself: None,
            path: self.path(PathStyle::Type)?,
        }))
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn skip_whitespace(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start_matches([' ', '\n', '\t']).len();
    }

    /// The text of a `///` comment (not `////`), without the slashes.
    fn doc_comment(&mut self) -> Option<&'a str> {
        self.skip_whitespace();
        let body = self.rest().strip_prefix("///")?;
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
    /// `&` of `&&`, `=` of `==` or `=>`, `>` of `>=`).
    fn punct(&mut self, symbol: &str) -> Option<()> {
        self.skip_whitespace();
        let after = self.rest().strip_prefix(symbol)?;
        let longer = match symbol {
            ":" => after.starts_with(':'),
            "." => after.starts_with('.'),
            "&" => after.starts_with('&'),
            "=" => after.starts_with(['=', '>']),
            ">" => after.starts_with('='),
            "-" => after.starts_with(['>', '=']),
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
        self.skip_whitespace();
        let rest = self.rest();
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if rest.starts_with(|c: char| c.is_ascii_digit()) {
            ""
        } else {
            &rest[..end]
        }
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

    /// A path of identifiers (`self`, `super` and `crate` among them), maybe starting with `::`,
    /// its segments maybe with generic arguments that are types, as `style` writes them.
    fn path(&mut self, style: PathStyle) -> Option<Path> {
        let leading_colon = self.punct("::").map(|()| Default::default());
        let mut segments = Punctuated::new();
        loop {
            let ident = self.path_ident()?;
            let turbofish =
                style == PathStyle::Expr && self.rest_after_whitespace().starts_with("::<");
            let arguments = if turbofish || (style == PathStyle::Type && self.peek_punct("<")) {
                let colon2_token = turbofish.then(|| {
                    self.pos += 2;
                    Default::default()
                });
                self.punct("<")?;
                let args =
                    self.separated(">", |parser| Some(syn::GenericArgument::Type(parser.ty()?)))?;
                if args.is_empty() {
                    return None;
                }
                PathArguments::AngleBracketed(syn::AngleBracketedGenericArguments {
                    colon2_token,
                    lt_token: Default::default(),
                    args,
                    gt_token: Default::default(),
                })
            } else {
                PathArguments::None
            };
            segments.push_value(PathSegment { ident, arguments });
            if !self.peek_punct("::") || self.rest_after_whitespace().starts_with("::<") {
                break;
            }
            self.punct("::")?;
            segments.push_punct(Default::default());
        }
        Some(Path {
            leading_colon,
            segments,
        })
    }

    /// A path segment's identifier: a plain one, or `self`, `super` or `crate`.
    fn path_ident(&mut self) -> Option<Ident> {
        let word = self.peek_word();
        if matches!(word, "self" | "super" | "crate") {
            self.pos += word.len();
            return Some(Ident::new(word, Span::call_site()));
        }
        self.ident()
    }

    /// The text from the next token on.
    fn rest_after_whitespace(&mut self) -> &'a str {
        self.skip_whitespace();
        self.rest()
    }

    /// An expression: a reference or negation of one, or a primary expression followed by calls
    /// and method calls.
    fn expr(&mut self) -> Option<Expr> {
        if self.punct("&").is_some() {
            if self.peek_word() == "mut" {
                return None;
            }
            return Some(Expr::Reference(syn::ExprReference {
                attrs: Vec::new(),
                and_token: Default::default(),
                mutability: None,
                expr: Box::new(self.expr()?),
            }));
        }
        if self.punct("-").is_some() {
            return Some(Expr::Unary(syn::ExprUnary {
                attrs: Vec::new(),
                op: syn::UnOp::Neg(Default::default()),
                expr: Box::new(self.expr()?),
            }));
        }
        let mut expr = self.primary()?;
        loop {
            if self.peek_punct("(") {
                expr = Expr::Call(syn::ExprCall {
                    attrs: Vec::new(),
                    func: Box::new(expr),
                    paren_token: Default::default(),
                    args: self.list("(", ")")?,
                });
            } else if self.punct(".").is_some() {
                let method = self.ident()?;
                expr = Expr::MethodCall(syn::ExprMethodCall {
                    attrs: Vec::new(),
                    receiver: Box::new(expr),
                    dot_token: Default::default(),
                    method,
                    turbofish: None,
                    paren_token: Default::default(),
                    args: self.list("(", ")")?,
                });
            } else {
                return Some(expr);
            }
        }
    }

    /// A literal, an array, a tuple, a path or a struct literal.
    fn primary(&mut self) -> Option<Expr> {
        self.skip_whitespace();
        let rest = self.rest();
        if rest.starts_with('"') || rest.starts_with(|c: char| c.is_ascii_digit()) {
            return self.literal();
        }
        if self.peek_punct("[") {
            return Some(Expr::Array(syn::ExprArray {
                attrs: Vec::new(),
                bracket_token: Default::default(),
                elems: self.list("[", "]")?,
            }));
        }
        if self.peek_punct("(") {
            let elems = self.list("(", ")")?;
            // `(x)` is a parenthesized expression, not a tuple.
            if elems.len() == 1 && !elems.trailing_punct() {
                return None;
            }
            return Some(Expr::Tuple(syn::ExprTuple {
                attrs: Vec::new(),
                paren_token: Default::default(),
                elems,
            }));
        }
        let path = self.path(PathStyle::Expr)?;
        if self.punct("{").is_none() {
            return Some(Expr::Path(syn::ExprPath {
                attrs: Vec::new(),
                qself: None,
                path,
            }));
        }
        let mut fields = Punctuated::new();
        let mut rest = None;
        loop {
            if self.punct("}").is_some() {
                break;
            }
            if self.punct("..").is_some() {
                rest = Some(Box::new(self.expr()?));
                self.punct("}")?;
                break;
            }
            let member = self.ident()?;
            self.punct(":")?;
            fields.push_value(syn::FieldValue {
                attrs: Vec::new(),
                member: syn::Member::Named(member),
                colon_token: Some(Default::default()),
                expr: self.expr()?,
            });
            if self.punct(",").is_some() {
                fields.push_punct(Default::default());
            } else {
                self.punct("}")?;
                break;
            }
        }
        Some(Expr::Struct(syn::ExprStruct {
            attrs: Vec::new(),
            qself: None,
            path,
            brace_token: Default::default(),
            fields,
            dot2_token: rest.as_ref().map(|_| Default::default()),
            rest,
        }))
    }

    /// Comma-separated expressions between `open` and `close`, a trailing comma allowed.
    fn list(&mut self, open: &str, close: &str) -> Option<Punctuated<Expr, syn::Token![,]>> {
        self.punct(open)?;
        self.separated(close, Self::expr)
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

    /// A string literal without prefix, or a number without suffix (an integer, or a float with
    /// a fraction, an exponent or both).
    fn literal(&mut self) -> Option<Expr> {
        let rest = self.rest();
        let len = if let Some(body) = rest.strip_prefix('"') {
            let mut escaped = false;
            let end = body.find(|c: char| {
                let closes = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                closes
            })?;
            end + 2
        } else {
            let digits = |text: &str| {
                text.find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(text.len())
            };
            let mut len = digits(rest);
            let after = &rest[len..];
            if after.starts_with('.') && after[1..].starts_with(|c: char| c.is_ascii_digit()) {
                len += 1 + digits(&after[1..]);
            }
            if let Some(exponent) = rest[len..].strip_prefix(['e', 'E']) {
                let signed = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
                let exponent_digits = digits(signed);
                if exponent_digits == 0 {
                    return None;
                }
                len += 1 + (exponent.len() - signed.len()) + exponent_digits;
            }
            if rest[len..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            {
                return None;
            }
            len
        };
        let literal = Literal::from_str(&rest[..len]).ok()?;
        self.pos += len;
        Some(Expr::Lit(syn::ExprLit {
            attrs: Vec::new(),
            lit: syn::Lit::new(literal),
        }))
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
    ];

    /// Every static item, contract test, struct and enum that generation writes for the specs of
    /// `specs/` and of the shared corpus (when `$CHANX_CORPUS` is set), as prettyplease printed it,
    /// parses quickly to syn's tree.
    #[test]
    fn every_generated_static_test_and_type_parses_quickly() {
        let settings = crate::render::Settings::new();
        let (mut statics, mut tests, mut types) = (0, 0, 0);
        for path in crate::test_support::spec_and_corpus_files() {
            let Ok(generated) = crate::generate(&path, &settings) else {
                continue;
            };
            for file in &generated.files {
                // prettyplease's items start at column 0, after a blank line.
                for item in file.contents.split("\n\n") {
                    let code = item.lines().find(|line| !line.starts_with("///"));
                    let count = match code {
                        Some(line)
                            if line.starts_with("pub static ")
                                || line.starts_with("pub(crate) static ") =>
                        {
                            &mut statics
                        }
                        Some("#[test]") => &mut tests,
                        Some(line)
                            if line.starts_with("#[derive(")
                                || line.starts_with("pub struct ")
                                || line.starts_with("pub enum ") =>
                        {
                            &mut types
                        }
                        _ => continue,
                    };
                    let (quick, syn) = both(item);
                    // Generic types (the dispatcher) are syn's.
                    if quick.is_none() && item.contains("pub struct") && item.contains('<') {
                        continue;
                    }
                    assert_eq!(
                        quick.as_deref(),
                        Some(syn.as_str()),
                        "{}: {}",
                        path.display(),
                        file.path.display()
                    );
                    *count += 1;
                }
            }
        }
        assert!(statics > 100, "only {statics} statics found");
        assert!(tests > 100, "only {tests} contract tests found");
        assert!(types > 100, "only {types} structs and enums found");
    }

    #[test]
    fn anything_else_is_left_to_syn() {
        for text in [
            "pub const A: u8 = 1;",
            "static A: u8 = 1;",
            "pub static mut A: u8 = 1;",
            "//! Inner docs.\npub static A: u8 = 1;",
            "//// Not a doc comment.\npub static A: u8 = 1;",
            "/** Block docs. */\npub static A: u8 = 1;",
            "pub static A: &str = \"x\";",
            "pub static A: Vec<'static, u8> = x;",
            "pub static A: u8 = (1);",
            "pub static A: u8 = 1u8;",
            "pub static A: u8 = 1.;",
            "pub static A: u8 = x.y;",
            "pub static A: u8 = &mut X;",
            "pub static A: u8 = &&X;",
            "pub static A: u8 = a + b;",
            "pub static A: u8 = S { a };",
            "pub static A: u8 = r#self;",
            "pub static A: u8 = r #type;",
            "pub static A: &str = r\"raw\";",
            "pub static A: &[u8] = b\"bytes\";",
            "pub static A: bool = true;",
            "pub static A: u8 = { 1 };",
            "pub static A: u8 = 1",
            "pub static A: &str = \"unterminated;",
            "pub static A: Vec<u8>= 1;",
            "pub static A: Vec<u8 u16> = 1;",
            "pub static A: u8 = f::<>();",
            "pub static A: u8 = a < b;",
            "#![test]\nfn f() {}",
            "fn f(x: u8) {}",
            "pub fn f() {}",
            "async fn f() {}",
            "fn f() { let x = 1; }",
            "fn f() { a() b() }",
            "pub struct A<T> { pub a: T }",
            "pub struct A { a: u8 }",
            "pub struct A(u8);",
            "pub enum A { B { c: u8 } }",
            "pub enum A { B = 1 }",
            "#[doc = 'x']\npub struct A;",
            "#[a(/* comment */)]\npub struct A {}",
            "#[a(b\npub struct A {}",
            "/// Docs of nothing.",
        ] {
            assert!(parse_items(text).is_none(), "{text}");
        }
    }
}

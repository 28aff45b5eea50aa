//! Blocks, statements, patterns and expressions.

use std::str::FromStr;

use proc_macro2::{Literal, Span};
use syn::punctuated::Punctuated;
use syn::{Expr, Pat, Stmt};

use super::{Parser, PathStyle};

/// The type suffixes a number literal may have (`42i64`).
const NUMBER_SUFFIXES: &[&str] = &[
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32",
    "f64",
];

impl Parser<'_> {
    /// `{ STATEMENTS }`.
    pub(super) fn block(&mut self) -> Option<syn::Block> {
        self.punct("{")?;
        self.with_structs(true, |parser| {
            let mut stmts = Vec::new();
            while parser.punct("}").is_none() {
                stmts.push(parser.statement()?);
            }
            Some(syn::Block {
                brace_token: Default::default(),
                stmts,
            })
        })
    }

    /// A statement: `let`, an expression with `;`, the block's last expression, or an `if`,
    /// `match`, `for` or block, which needs no `;`.
    fn statement(&mut self) -> Option<Stmt> {
        if self.word("let").is_some() {
            let pat = self.pattern()?;
            self.punct("=")?;
            let expr = self.expr()?;
            self.punct(";")?;
            return Some(Stmt::Local(syn::Local {
                attrs: Vec::new(),
                let_token: Default::default(),
                modifiers: Default::default(),
                pat,
                init: Some(syn::LocalInit {
                    eq_token: Default::default(),
                    expr: Box::new(expr),
                    diverge: None,
                }),
                semi_token: Default::default(),
            }));
        }
        let block_like = matches!(self.peek_word(), "if" | "match" | "for") || self.peek_punct("{");
        let expr = if block_like {
            self.ended_at_block()?
        } else {
            self.expr()?
        };
        let semi = self.punct(";").map(|()| Default::default());
        match expr {
            Expr::Macro(syn::ExprMacro { attrs, mac }) if semi.is_some() => {
                Some(Stmt::Macro(syn::StmtMacro {
                    attrs,
                    mac,
                    semi_token: semi,
                }))
            }
            expr if semi.is_some() || block_like || self.peek_punct("}") => {
                Some(Stmt::Expr(expr, semi))
            }
            _ => None,
        }
    }

    /// A block, `if`, `match` or `for` where a statement or a match arm starts: syn ends the
    /// expression at its block, unless a method call or `?` follows (left to syn).
    fn ended_at_block(&mut self) -> Option<Expr> {
        let expr = self.primary()?;
        let rest = self.rest_after_whitespace();
        if rest.starts_with('?') || (rest.starts_with('.') && !rest.starts_with("..")) {
            return None;
        }
        Some(expr)
    }

    /// A pattern: `_`, a literal, a tuple, `mut NAME`, a name, a path, or `PATH(PATTERNS)`.
    pub(super) fn pattern(&mut self) -> Option<Pat> {
        let rest = self.rest_after_whitespace();
        if rest.starts_with('"') || rest.starts_with(|c: char| c.is_ascii_digit()) {
            let Expr::Lit(lit) = self.literal()? else {
                return None;
            };
            return Some(Pat::Lit(lit));
        }
        if self.word("_").is_some() {
            return Some(Pat::Wild(syn::PatWild {
                attrs: Vec::new(),
                underscore_token: Default::default(),
            }));
        }
        if self.punct("(").is_some() {
            let elems = self.separated(")", Self::pattern)?;
            // `(p)` is a parenthesized pattern, not a tuple.
            if elems.len() == 1 && !elems.trailing_punct() {
                return None;
            }
            return Some(Pat::Tuple(syn::PatTuple {
                attrs: Vec::new(),
                paren_token: Default::default(),
                elems,
            }));
        }
        if self.word("mut").is_some() {
            return Some(Pat::Ident(syn::PatIdent {
                attrs: Vec::new(),
                by_ref: None,
                mutability: Some(Default::default()),
                ident: self.ident()?,
                subpat: None,
            }));
        }
        let path = self.path(PathStyle::Expr)?;
        if self.punct("(").is_some() {
            return Some(Pat::TupleStruct(syn::PatTupleStruct {
                attrs: Vec::new(),
                qself: None,
                path,
                paren_token: Default::default(),
                elems: self.separated(")", Self::pattern)?,
            }));
        }
        if self.peek_punct("{") {
            return None;
        }
        match path.get_ident() {
            Some(ident) if path.leading_colon.is_none() && ident != "self" => {
                Some(Pat::Ident(syn::PatIdent {
                    attrs: Vec::new(),
                    by_ref: None,
                    mutability: None,
                    ident: ident.clone(),
                    subpat: None,
                }))
            }
            _ => Some(Pat::Path(syn::ExprPath {
                attrs: Vec::new(),
                qself: None,
                path,
            })),
        }
    }

    /// An expression, which must end where an expression can end here: before `,`, `;` or a
    /// closing bracket. (A binary operator other than one comparison, a range or an index ends
    /// nothing here, and is left to syn.)
    pub(super) fn expr(&mut self) -> Option<Expr> {
        let expr = self.expr_unchecked()?;
        self.rest_after_whitespace()
            .starts_with([',', ';', ')', ']', '}'])
            .then_some(expr)
    }

    /// An expression, however it ends: a closure, `return`, or a comparison of casts.
    fn expr_unchecked(&mut self) -> Option<Expr> {
        if self.punct("|").is_some() {
            let inputs = self.separated("|", Self::pattern)?;
            if self.peek_punct("->") {
                return None;
            }
            return Some(Expr::Closure(syn::ExprClosure {
                attrs: Vec::new(),
                lifetimes: None,
                modifiers: Default::default(),
                constness: None,
                asyncness: None,
                capture: None,
                inputs_begin: Default::default(),
                inputs,
                inputs_end: Default::default(),
                output: syn::ReturnType::Default,
                body: Box::new(self.expr_unchecked()?),
            }));
        }
        if self.word("return").is_some() {
            let rest = self.rest_after_whitespace();
            let value = if rest.starts_with([',', ';', ')', ']', '}']) {
                None
            } else {
                Some(Box::new(self.expr_unchecked()?))
            };
            return Some(Expr::Return(syn::ExprReturn {
                attrs: Vec::new(),
                return_token: Default::default(),
                expr: value,
            }));
        }
        let left = self.cast()?;
        let op = if self.punct("!=").is_some() {
            syn::BinOp::Ne(Default::default())
        } else if self.punct("==").is_some() {
            syn::BinOp::Eq(Default::default())
        } else {
            return Some(left);
        };
        Some(Expr::Binary(syn::ExprBinary {
            attrs: Vec::new(),
            left: Box::new(left),
            op,
            right: Box::new(self.cast()?),
        }))
    }

    /// A unary expression, maybe cast `as` path types.
    fn cast(&mut self) -> Option<Expr> {
        let mut expr = self.unary()?;
        while self.word("as").is_some() {
            expr = Expr::Cast(syn::ExprCast {
                attrs: Vec::new(),
                expr: Box::new(expr),
                as_token: Default::default(),
                ty: Box::new(syn::Type::Path(syn::TypePath {
                    attrs: Vec::new(),
                    qself: None,
                    path: self.path(PathStyle::Type)?,
                })),
            });
        }
        Some(expr)
    }

    /// `&`, `&mut`, `*`, `!` or `-` before a unary expression, or a postfix expression.
    fn unary(&mut self) -> Option<Expr> {
        if self.punct("&").is_some() {
            let mutability = self.word("mut").map(|()| Default::default());
            return Some(Expr::Reference(syn::ExprReference {
                attrs: Vec::new(),
                and_token: Default::default(),
                mutability,
                expr: Box::new(self.unary()?),
            }));
        }
        let op = if self.punct("*").is_some() {
            syn::UnOp::Deref(Default::default())
        } else if self.punct("!").is_some() {
            syn::UnOp::Not(Default::default())
        } else if self.punct("-").is_some() {
            syn::UnOp::Neg(Default::default())
        } else {
            return self.postfix();
        };
        Some(Expr::Unary(syn::ExprUnary {
            attrs: Vec::new(),
            op,
            expr: Box::new(self.unary()?),
        }))
    }

    /// A primary expression followed by calls, method calls, fields, `.await` and `?`.
    fn postfix(&mut self) -> Option<Expr> {
        let mut expr = self.primary()?;
        loop {
            if self.peek_punct("(") {
                expr = Expr::Call(syn::ExprCall {
                    attrs: Vec::new(),
                    func: Box::new(expr),
                    paren_token: Default::default(),
                    args: self.arguments("(", ")")?,
                });
            } else if self.punct("?").is_some() {
                expr = Expr::Try(syn::ExprTry {
                    attrs: Vec::new(),
                    expr: Box::new(expr),
                    question_token: Default::default(),
                });
            } else if self.punct(".").is_some() {
                expr = self.after_dot(expr)?;
            } else {
                return Some(expr);
            }
        }
    }

    /// What follows `.`: `await`, a tuple index, a field, or a method call (maybe with a
    /// turbofish).
    fn after_dot(&mut self, base: Expr) -> Option<Expr> {
        let base = Box::new(base);
        if self.word("await").is_some() {
            return Some(Expr::Await(syn::ExprAwait {
                attrs: Vec::new(),
                base,
                dot_token: Default::default(),
                await_token: Default::default(),
            }));
        }
        let rest = self.rest_after_whitespace();
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits > 0 {
            // `x.0.1` lexes as a float, `x.01` is no index: both left to syn.
            let after = &rest[digits..];
            if after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                || (digits > 1 && rest.starts_with('0'))
            {
                return None;
            }
            let index = rest[..digits].parse().ok()?;
            self.pos += digits;
            return Some(Expr::Field(syn::ExprField {
                attrs: Vec::new(),
                base,
                dot_token: Default::default(),
                member: syn::Member::Unnamed(syn::Index {
                    index,
                    span: Span::call_site(),
                }),
            }));
        }
        let name = self.ident()?;
        let turbofish = if self.rest_after_whitespace().starts_with("::<") {
            self.pos += 2;
            Some(self.generic_arguments(true)?)
        } else {
            None
        };
        if turbofish.is_some() || self.peek_punct("(") {
            return Some(Expr::MethodCall(syn::ExprMethodCall {
                attrs: Vec::new(),
                receiver: base,
                dot_token: Default::default(),
                method: name,
                turbofish,
                paren_token: Default::default(),
                args: self.arguments("(", ")")?,
            }));
        }
        Some(Expr::Field(syn::ExprField {
            attrs: Vec::new(),
            base,
            dot_token: Default::default(),
            member: syn::Member::Named(name),
        }))
    }

    /// A literal, `true` or `false`, a parenthesized expression or a tuple, an array, a block,
    /// an `async` block, `if`, `match`, `for`, a qualified path, a path, a macro call or a struct
    /// literal.
    pub(super) fn primary(&mut self) -> Option<Expr> {
        let rest = self.rest_after_whitespace();
        if rest.starts_with('"') || rest.starts_with(|c: char| c.is_ascii_digit()) {
            return self.literal();
        }
        if self.punct("(").is_some() {
            return self.with_structs(true, Self::parenthesized);
        }
        if self.peek_punct("[") {
            return Some(Expr::Array(syn::ExprArray {
                attrs: Vec::new(),
                bracket_token: Default::default(),
                elems: self.arguments("[", "]")?,
            }));
        }
        if self.peek_punct("{") {
            return Some(Expr::Block(syn::ExprBlock {
                attrs: Vec::new(),
                label: None,
                block: self.block()?,
            }));
        }
        if self.peek_punct("<") {
            let (qself, path) = self.qualified_path()?;
            return Some(Expr::Path(syn::ExprPath {
                attrs: Vec::new(),
                qself: Some(qself),
                path,
            }));
        }
        match self.peek_word() {
            word @ ("true" | "false") => {
                self.pos += word.len();
                return Some(Expr::Lit(syn::ExprLit {
                    attrs: Vec::new(),
                    lit: syn::Lit::Bool(syn::LitBool::new(word == "true", Span::call_site())),
                }));
            }
            "async" => {
                self.pos += "async".len();
                let capture = self.word("move").map(|()| Default::default());
                return Some(Expr::Async(syn::ExprAsync {
                    attrs: Vec::new(),
                    async_token: Default::default(),
                    capture,
                    modifiers: Default::default(),
                    block: self.block()?,
                }));
            }
            "if" => return self.if_expr(),
            "match" => return self.match_expr(),
            "for" => return self.for_loop(),
            _ => {}
        }
        let path = self.path(PathStyle::Expr)?;
        if self.punct("!").is_some() {
            return self.macro_call(path);
        }
        if self.no_struct || !self.peek_punct("{") {
            return Some(Expr::Path(syn::ExprPath {
                attrs: Vec::new(),
                qself: None,
                path,
            }));
        }
        self.punct("{")?;
        self.with_structs(true, |parser| parser.struct_literal(path))
    }

    /// After `(`: `()`, `(EXPR)` or a tuple.
    fn parenthesized(&mut self) -> Option<Expr> {
        let elems = self.separated(")", Self::expr)?;
        if elems.len() == 1 && !elems.trailing_punct() {
            return Some(Expr::Paren(syn::ExprParen {
                attrs: Vec::new(),
                paren_token: Default::default(),
                expr: Box::new(elems.into_iter().next()?),
            }));
        }
        Some(Expr::Tuple(syn::ExprTuple {
            attrs: Vec::new(),
            paren_token: Default::default(),
            elems,
        }))
    }

    /// After `PATH {`: fields (`name: EXPR` or `name`), maybe `..REST`, and `}`.
    fn struct_literal(&mut self, path: syn::Path) -> Option<Expr> {
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
            let (colon_token, expr) = if self.punct(":").is_some() {
                (Some(Default::default()), self.expr()?)
            } else {
                let shorthand = syn::Path::from(member.clone());
                let expr = Expr::Path(syn::ExprPath {
                    attrs: Vec::new(),
                    qself: None,
                    path: shorthand,
                });
                (None, expr)
            };
            fields.push_value(syn::FieldValue {
                attrs: Vec::new(),
                member: syn::Member::Named(member),
                colon_token,
                expr,
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

    /// After `PATH!`: the macro's `(...)` or `[...]` tokens.
    fn macro_call(&mut self, path: syn::Path) -> Option<Expr> {
        if path.segments.iter().any(|s| !s.arguments.is_none()) {
            return None;
        }
        let (delimiter, tokens) = if self.peek_punct("(") {
            (
                syn::MacroDelimiter::Paren(Default::default()),
                self.delimited_tokens('(', ')')?,
            )
        } else {
            (
                syn::MacroDelimiter::Bracket(Default::default()),
                self.delimited_tokens('[', ']')?,
            )
        };
        Some(Expr::Macro(syn::ExprMacro {
            attrs: Vec::new(),
            mac: syn::Macro {
                path,
                bang_token: Default::default(),
                delimiter,
                tokens,
            },
        }))
    }

    /// The condition of an `if`, the scrutinee of a `match` or the iterator of a `for`, up to the
    /// `{` of its block.
    fn head(&mut self) -> Option<Expr> {
        let expr = self.with_structs(false, Self::expr_unchecked)?;
        self.peek_punct("{").then_some(expr)
    }

    /// `if COND { ... }` or `if let PATTERN = EXPR { ... }`, maybe with `else`.
    fn if_expr(&mut self) -> Option<Expr> {
        self.word("if")?;
        let cond = if self.word("let").is_some() {
            let pat = self.pattern()?;
            self.punct("=")?;
            // The scrutinee without comparisons, which bind differently there.
            let expr = self.with_structs(false, Self::cast)?;
            if !self.peek_punct("{") {
                return None;
            }
            Expr::Let(syn::ExprLet {
                attrs: Vec::new(),
                let_token: Default::default(),
                pat: Box::new(pat),
                eq_token: Default::default(),
                expr: Box::new(expr),
            })
        } else {
            self.head()?
        };
        let then_branch = self.block()?;
        let else_branch = match self.word("else") {
            Some(()) if self.peek_word() == "if" => Some(self.if_expr()?),
            Some(()) => Some(Expr::Block(syn::ExprBlock {
                attrs: Vec::new(),
                label: None,
                block: self.block()?,
            })),
            None => None,
        };
        Some(Expr::If(syn::ExprIf {
            attrs: Vec::new(),
            if_token: Default::default(),
            cond: Box::new(cond),
            then_branch,
            else_branch: else_branch.map(|e| (Default::default(), Box::new(e))),
        }))
    }

    /// `match EXPR { PATTERN => EXPR, ... }`.
    fn match_expr(&mut self) -> Option<Expr> {
        self.word("match")?;
        let expr = self.head()?;
        self.punct("{")?;
        let arms = self.with_structs(true, |parser| {
            let mut arms = Vec::new();
            while parser.punct("}").is_none() {
                let pat = parser.pattern()?;
                parser.punct("=>")?;
                let block_body = parser.peek_punct("{");
                let body = if block_body {
                    parser.ended_at_block()?
                } else {
                    parser.expr()?
                };
                let comma = parser.punct(",").map(|()| Default::default());
                if comma.is_none() && !block_body && !parser.peek_punct("}") {
                    return None;
                }
                arms.push(syn::Arm {
                    attrs: Vec::new(),
                    pat,
                    fat_arrow_token: Default::default(),
                    body: Box::new(body),
                    comma,
                });
            }
            Some(arms)
        })?;
        Some(Expr::Match(syn::ExprMatch {
            attrs: Vec::new(),
            match_token: Default::default(),
            expr: Box::new(expr),
            brace_token: Default::default(),
            arms,
        }))
    }

    /// `for PATTERN in EXPR { ... }`.
    fn for_loop(&mut self) -> Option<Expr> {
        self.word("for")?;
        let pat = self.pattern()?;
        self.word("in")?;
        let expr = self.head()?;
        Some(Expr::ForLoop(syn::ExprForLoop {
            attrs: Vec::new(),
            label: None,
            for_token: Default::default(),
            pat: Box::new(pat),
            in_token: Default::default(),
            expr: Box::new(expr),
            body: self.block()?,
        }))
    }

    /// Comma-separated expressions between `open` and `close`, a trailing comma allowed.
    fn arguments(&mut self, open: &str, close: &str) -> Option<Punctuated<Expr, syn::Token![,]>> {
        self.punct(open)?;
        self.with_structs(true, |parser| parser.separated(close, Self::expr))
    }

    /// A string literal without prefix (verbatim), or a number (an integer, or a float with a
    /// fraction, an exponent or both), maybe with a type suffix.
    pub(super) fn literal(&mut self) -> Option<Expr> {
        let rest = self.rest_after_whitespace();
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
            let after = &rest[len..];
            let suffix = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if !(suffix == 0 || NUMBER_SUFFIXES.contains(&&after[..suffix]))
                || after[suffix..].starts_with('.')
            {
                return None;
            }
            len + suffix
        };
        let literal = Literal::from_str(&rest[..len]).ok()?;
        self.pos += len;
        // prettyplease prints a string literal by its token, as it does a verbatim one; taking it
        // as verbatim spares syn's unescaping of its value (an attribute's value is made a typed
        // literal again by `meta`: `doc` strings are printed by their value).
        let lit = if rest.starts_with('"') {
            syn::Lit::Verbatim(literal)
        } else {
            syn::Lit::new(literal)
        };
        Some(Expr::Lit(syn::ExprLit {
            attrs: Vec::new(),
            lit,
        }))
    }
}

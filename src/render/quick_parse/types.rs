//! Types, paths, generic arguments and generic parameters.

use proc_macro2::{Ident, Span};
use syn::punctuated::Punctuated;
use syn::{Path, PathArguments, PathSegment, Type};

use super::{Parser, PathStyle};

impl Parser<'_> {
    /// A type: a path (maybe with generic arguments), a reference, a slice, a tuple, or `impl`
    /// or `dyn` bounds.
    pub(super) fn ty(&mut self) -> Option<Type> {
        if self.punct("(").is_some() {
            let elems = self.separated(")", Self::ty)?;
            // `(T)` is a parenthesized type, not a tuple.
            if elems.len() == 1 && !elems.trailing_punct() {
                return None;
            }
            return Some(Type::Tuple(syn::TypeTuple {
                attrs: Vec::new(),
                paren_token: Default::default(),
                elems,
            }));
        }
        if self.punct("&").is_some() {
            let lifetime = self.lifetime();
            let mutability = self.word("mut").map(|()| Default::default());
            let elem = self.ty()?;
            // `&dyn A + B` is ambiguous, an error to syn.
            if matches!(&elem, Type::TraitObject(o) if o.bounds.len() > 1)
                || matches!(elem, Type::ImplTrait(_))
            {
                return None;
            }
            return Some(Type::Reference(syn::TypeReference {
                attrs: Vec::new(),
                and_token: Default::default(),
                lifetime,
                mutability,
                elem: Box::new(elem),
            }));
        }
        if self.punct("[").is_some() {
            let elem = self.ty()?;
            self.punct("]")?;
            return Some(Type::Slice(syn::TypeSlice {
                attrs: Vec::new(),
                bracket_token: Default::default(),
                elem: Box::new(elem),
            }));
        }
        if self.word("impl").is_some() {
            return Some(Type::ImplTrait(syn::TypeImplTrait {
                attrs: Vec::new(),
                impl_token: Default::default(),
                bounds: self.bounds()?,
            }));
        }
        if self.word("dyn").is_some() {
            return Some(Type::TraitObject(syn::TypeTraitObject {
                attrs: Vec::new(),
                dyn_token: Some(Default::default()),
                bounds: self.bounds()?,
            }));
        }
        Some(Type::Path(syn::TypePath {
            attrs: Vec::new(),
            qself: None,
            path: self.path(PathStyle::Type)?,
        }))
    }

    /// Bounds joined by `+`: trait paths and lifetimes.
    pub(super) fn bounds(&mut self) -> Option<Punctuated<syn::TypeParamBound, syn::Token![+]>> {
        let mut bounds = Punctuated::new();
        loop {
            let bound = match self.lifetime() {
                Some(lifetime) => syn::TypeParamBound::Lifetime(lifetime),
                None => syn::TypeParamBound::Trait(syn::TraitBound {
                    paren_token: None,
                    lifetimes: None,
                    modifiers: Default::default(),
                    maybe: None,
                    path: self.path(PathStyle::Type)?,
                }),
            };
            bounds.push_value(bound);
            if self.punct("+").is_none() {
                return Some(bounds);
            }
            bounds.push_punct(Default::default());
        }
    }

    /// Generic parameters (`<'a, C: Bound>`), or none when no `<` comes next.
    pub(super) fn generics(&mut self) -> Option<syn::Generics> {
        if self.punct("<").is_none() {
            return Some(syn::Generics::default());
        }
        let params = self.separated(">", |parser| {
            if let Some(lifetime) = parser.lifetime() {
                return Some(syn::GenericParam::Lifetime(syn::LifetimeParam {
                    attrs: Vec::new(),
                    lifetime,
                    colon_token: None,
                    bounds: Punctuated::new(),
                }));
            }
            let ident = parser.ident()?;
            let (colon_token, bounds) = match parser.punct(":") {
                Some(()) => (Some(Default::default()), parser.bounds()?),
                None => (None, Punctuated::new()),
            };
            Some(syn::GenericParam::Type(syn::TypeParam {
                attrs: Vec::new(),
                ident,
                colon_token,
                bounds,
                default: None,
            }))
        })?;
        if params.is_empty() || self.peek_word() == "where" {
            return None;
        }
        Some(syn::Generics {
            lt_token: Some(Default::default()),
            params,
            gt_token: Some(Default::default()),
            where_clause: None,
        })
    }

    /// A path of identifiers (`self`, `super`, `crate` and `Self` among them), maybe starting with
    /// `::`, its segments maybe with generic arguments, as `style` writes them.
    pub(super) fn path(&mut self, style: PathStyle) -> Option<Path> {
        let leading_colon = self.punct("::").map(|()| Default::default());
        let mut segments = Punctuated::new();
        self.path_segments(style, &mut segments)?;
        Some(Path {
            leading_colon,
            segments,
        })
    }

    /// Segments separated by `::`, appended to `segments`.
    fn path_segments(
        &mut self,
        style: PathStyle,
        segments: &mut Punctuated<PathSegment, syn::Token![::]>,
    ) -> Option<()> {
        loop {
            let ident = self.path_ident()?;
            let turbofish =
                style == PathStyle::Expr && self.rest_after_whitespace().starts_with("::<");
            let arguments = if turbofish || (style == PathStyle::Type && self.peek_punct("<")) {
                if turbofish {
                    self.pos += 2;
                }
                PathArguments::AngleBracketed(self.generic_arguments(turbofish)?)
            } else {
                PathArguments::None
            };
            segments.push_value(PathSegment { ident, arguments });
            if !self.peek_punct("::") || self.rest_after_whitespace().starts_with("::<") {
                return Some(());
            }
            self.punct("::")?;
            segments.push_punct(Default::default());
        }
    }

    /// `<ARGS>` (after the `::` of a turbofish when `turbofish`): types, lifetimes and
    /// associated types (`Output = T`).
    pub(super) fn generic_arguments(
        &mut self,
        turbofish: bool,
    ) -> Option<syn::AngleBracketedGenericArguments> {
        self.punct("<")?;
        let args = self.separated(">", |parser| {
            if let Some(lifetime) = parser.lifetime() {
                return Some(syn::GenericArgument::Lifetime(lifetime));
            }
            let start = parser.pos;
            if let Some(ident) = parser.ident() {
                if parser.punct("=").is_some() {
                    return Some(syn::GenericArgument::AssocType(syn::AssocType {
                        ident,
                        generics: None,
                        eq_token: Default::default(),
                        ty: parser.ty()?,
                    }));
                }
            }
            parser.pos = start;
            Some(syn::GenericArgument::Type(parser.ty()?))
        })?;
        if args.is_empty() {
            return None;
        }
        Some(syn::AngleBracketedGenericArguments {
            colon2_token: turbofish.then(Default::default),
            lt_token: Default::default(),
            args,
            gt_token: Default::default(),
        })
    }

    /// `<TYPE as TRAIT>::NAME...`: the qualified self and the path (the trait's segments, then
    /// the rest), as syn gives them.
    pub(super) fn qualified_path(&mut self) -> Option<(syn::QSelf, Path)> {
        self.punct("<")?;
        let ty = self.ty()?;
        self.word("as")?;
        let mut path = self.path(PathStyle::Type)?;
        self.punct(">")?;
        self.punct("::")?;
        let position = path.segments.len();
        path.segments.push_punct(Default::default());
        self.path_segments(PathStyle::Expr, &mut path.segments)?;
        let qself = syn::QSelf {
            lt_token: Default::default(),
            ty: Box::new(ty),
            position,
            as_token: Some(Default::default()),
            gt_token: Default::default(),
        };
        Some((qself, path))
    }

    /// A path segment's identifier: a plain one, or `self`, `super`, `crate` or `Self`.
    fn path_ident(&mut self) -> Option<Ident> {
        let word = self.peek_word();
        if matches!(word, "self" | "super" | "crate" | "Self") {
            self.pos += word.len();
            return Some(Ident::new(word, Span::call_site()));
        }
        self.ident()
    }
}

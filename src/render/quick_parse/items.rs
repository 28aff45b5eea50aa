//! Items: `use`, `const`, `static`, `struct`, `enum`, `fn`, `impl` and `trait`.

use proc_macro2::{Ident, Span};
use syn::punctuated::Punctuated;
use syn::{Item, Path, Visibility};

use super::Parser;

impl Parser<'_> {
    /// An item after its outer attributes.
    pub(super) fn item(&mut self, attrs: Vec<syn::Attribute>) -> Option<Item> {
        let vis = self.visibility()?;
        match self.peek_word() {
            "use" => self.use_item(attrs, vis),
            "const" | "static" => self.const_or_static(attrs, vis),
            "struct" => self.structure(attrs, vis),
            "enum" => self.enumeration(attrs, vis),
            "fn" | "async" => Some(Item::Fn(syn::ItemFn {
                attrs,
                vis,
                modifiers: Default::default(),
                sig: self.signature()?,
                block: Box::new(self.block()?),
            })),
            "impl" if matches!(vis, Visibility::Inherited) => self.impl_item(attrs),
            "trait" => self.trait_item(attrs, vis),
            _ => None,
        }
    }

    /// `pub`, `pub(crate)` or nothing. `pub (T)` in a tuple struct is `pub` and a tuple type.
    fn visibility(&mut self) -> Option<Visibility> {
        if self.word("pub").is_none() {
            return Some(Visibility::Inherited);
        }
        let after_pub = self.pos;
        if self.punct("(").is_some() && self.word("crate").is_some() && self.punct(")").is_some() {
            return Some(Visibility::Restricted(syn::VisRestricted {
                pub_token: Default::default(),
                paren_token: Default::default(),
                in_token: None,
                path: Box::new(Path::from(Ident::new("crate", Span::call_site()))),
            }));
        }
        self.pos = after_pub;
        Some(Visibility::Public(Default::default()))
    }

    /// `use PATH;` or `use PATH as NAME;`.
    fn use_item(&mut self, attrs: Vec<syn::Attribute>, vis: Visibility) -> Option<Item> {
        self.word("use")?;
        let leading_colon = self.punct("::").map(|()| Default::default());
        let mut names = vec![self.use_ident()?];
        while self.punct("::").is_some() {
            names.push(self.use_ident()?);
        }
        let last = names.pop()?;
        let mut tree = match self.word("as") {
            Some(()) => syn::UseTree::Rename(syn::UseRename {
                ident: last,
                as_token: Default::default(),
                rename: self.ident()?,
            }),
            None => syn::UseTree::Name(syn::UseName { ident: last }),
        };
        self.punct(";")?;
        for ident in names.into_iter().rev() {
            tree = syn::UseTree::Path(syn::UsePath {
                ident,
                colon2_token: Default::default(),
                tree: Box::new(tree),
            });
        }
        Some(Item::Use(syn::ItemUse {
            attrs,
            vis,
            use_token: Default::default(),
            leading_colon,
            tree,
            semi_token: Default::default(),
        }))
    }

    /// A segment of a `use` path: an identifier, `self`, `super` or `crate`.
    fn use_ident(&mut self) -> Option<Ident> {
        let word = self.peek_word();
        if matches!(word, "self" | "super" | "crate") {
            self.pos += word.len();
            return Some(Ident::new(word, Span::call_site()));
        }
        self.ident()
    }

    /// `const NAME: TYPE = EXPR;` or `static NAME: TYPE = EXPR;`.
    fn const_or_static(&mut self, attrs: Vec<syn::Attribute>, vis: Visibility) -> Option<Item> {
        let is_static = self.word("static").is_some();
        if !is_static {
            self.word("const")?;
        }
        let ident = self.ident()?;
        self.punct(":")?;
        let ty = Box::new(self.ty()?);
        self.punct("=")?;
        let expr = Box::new(self.expr()?);
        self.punct(";")?;
        Some(if is_static {
            Item::Static(syn::ItemStatic {
                attrs,
                vis,
                static_token: Default::default(),
                mutability: syn::StaticMutability::None,
                ident,
                colon_token: Default::default(),
                ty,
                eq_token: Default::default(),
                expr,
                semi_token: Default::default(),
            })
        } else {
            Item::Const(syn::ItemConst {
                attrs,
                vis,
                modifiers: Default::default(),
                const_token: Default::default(),
                ident,
                generics: Default::default(),
                colon_token: Default::default(),
                ty,
                eq_token: Default::default(),
                expr,
                semi_token: Default::default(),
            })
        })
    }

    /// `struct NAME<PARAMS> { FIELDS }`, `struct NAME(FIELDS);` or `struct NAME;`.
    fn structure(&mut self, attrs: Vec<syn::Attribute>, vis: Visibility) -> Option<Item> {
        self.word("struct")?;
        let ident = self.ident()?;
        let generics = self.generics()?;
        let (fields, semi_token) = if self.punct("(").is_some() {
            let unnamed = self.separated(")", |parser| parser.field(false))?;
            self.punct(";")?;
            (
                syn::Fields::Unnamed(syn::FieldsUnnamed {
                    paren_token: Default::default(),
                    unnamed,
                }),
                Some(Default::default()),
            )
        } else if self.punct(";").is_some() {
            (syn::Fields::Unit, Some(Default::default()))
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
        Some(Item::Struct(syn::ItemStruct {
            attrs,
            vis,
            struct_token: Default::default(),
            ident,
            generics,
            fields,
            semi_token,
        }))
    }

    /// A field: `NAME: TYPE` when `named`, else `TYPE`; with attributes and visibility.
    fn field(&mut self, named: bool) -> Option<syn::Field> {
        let attrs = self.outer_attributes()?;
        let vis = self.visibility()?;
        let ident = if named {
            let ident = self.ident()?;
            self.punct(":")?;
            Some(ident)
        } else {
            None
        };
        Some(syn::Field {
            attrs,
            vis,
            modifiers: Default::default(),
            colon_token: ident.as_ref().map(|_| Default::default()),
            ident,
            ty: self.ty()?,
            default: None,
        })
    }

    /// `enum NAME { VARIANTS }`: unit variants and variants of unnamed fields.
    fn enumeration(&mut self, attrs: Vec<syn::Attribute>, vis: Visibility) -> Option<Item> {
        self.word("enum")?;
        let ident = self.ident()?;
        self.punct("{")?;
        let variants = self.separated("}", Self::variant)?;
        Some(Item::Enum(syn::ItemEnum {
            attrs,
            vis,
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
                    vis: Visibility::Inherited,
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

    /// `impl<PARAMS> [TRAIT for] TYPE { FUNCTIONS }`.
    fn impl_item(&mut self, attrs: Vec<syn::Attribute>) -> Option<Item> {
        self.word("impl")?;
        let generics = self.generics()?;
        let first = self.ty()?;
        let (trait_, self_ty) = match self.word("for") {
            Some(()) => match first {
                syn::Type::Path(syn::TypePath {
                    qself: None, path, ..
                }) => (Some((path, Default::default())), self.ty()?),
                _ => return None,
            },
            None => (None, first),
        };
        self.punct("{")?;
        let mut items = Vec::new();
        while self.punct("}").is_none() {
            let attrs = self.outer_attributes()?;
            let vis = self.visibility()?;
            items.push(syn::ImplItem::Fn(syn::ImplItemFn {
                attrs,
                vis,
                modifiers: Default::default(),
                sig: self.signature()?,
                block: self.block()?,
            }));
        }
        Some(Item::Impl(syn::ItemImpl {
            attrs,
            modifiers: Default::default(),
            unsafety: None,
            impl_token: Default::default(),
            generics,
            trait_,
            self_ty: Box::new(self_ty),
            brace_token: Default::default(),
            items,
        }))
    }

    /// `trait NAME: BOUNDS { FUNCTIONS }`, each function with a body or `;`.
    fn trait_item(&mut self, attrs: Vec<syn::Attribute>, vis: Visibility) -> Option<Item> {
        self.word("trait")?;
        let ident = self.ident()?;
        let (colon_token, supertraits) = match self.punct(":") {
            Some(()) => (Some(Default::default()), self.bounds()?),
            None => (None, Punctuated::new()),
        };
        self.punct("{")?;
        let mut items = Vec::new();
        while self.punct("}").is_none() {
            let attrs = self.outer_attributes()?;
            let sig = self.signature()?;
            let (default, semi_token) = match self.punct(";") {
                Some(()) => (None, Some(Default::default())),
                None => (Some(self.block()?), None),
            };
            items.push(syn::TraitItem::Fn(syn::TraitItemFn {
                attrs,
                modifiers: Default::default(),
                sig,
                default,
                semi_token,
            }));
        }
        Some(Item::Trait(syn::ItemTrait {
            attrs,
            vis,
            modifiers: Default::default(),
            unsafety: None,
            trait_token: Default::default(),
            ident,
            generics: Default::default(),
            colon_token,
            supertraits,
            brace_token: Default::default(),
            items,
        }))
    }

    /// `[async] fn NAME<PARAMS>(ARGS) [-> TYPE]`.
    fn signature(&mut self) -> Option<syn::Signature> {
        let asyncness = self.word("async").map(|()| Default::default());
        self.word("fn")?;
        let ident = self.ident()?;
        let generics = self.generics()?;
        self.punct("(")?;
        let inputs = self.separated(")", Self::fn_arg)?;
        let output = match self.punct("->") {
            Some(()) => syn::ReturnType::Type(Default::default(), Box::new(self.ty()?)),
            None => syn::ReturnType::Default,
        };
        if self.peek_word() == "where" {
            return None;
        }
        Some(syn::Signature {
            constness: None,
            asyncness,
            safety: syn::Safety::Default,
            abi: None,
            fn_token: Default::default(),
            ident,
            generics,
            paren_token: Default::default(),
            inputs,
            variadic: None,
            output,
        })
    }

    /// A parameter: `self`, `&self`, `&'a self`, `&mut self`, or `PATTERN: TYPE`.
    fn fn_arg(&mut self) -> Option<syn::FnArg> {
        let start = self.pos;
        let reference = self.punct("&").map(|()| self.lifetime());
        let mutability: Option<syn::Token![mut]> = self.word("mut").map(|()| Default::default());
        if self.word("self").is_some() {
            if self.peek_punct(":") || self.peek_punct("::") {
                return None;
            }
            let (mutability, kind) = match reference {
                Some(lifetime) => (
                    None,
                    syn::ReceiverKind::Reference(Default::default(), lifetime, mutability),
                ),
                None => (mutability, syn::ReceiverKind::Value),
            };
            return Some(syn::FnArg::Receiver(syn::Receiver {
                attrs: Vec::new(),
                mutability,
                self_token: Default::default(),
                kind,
            }));
        }
        self.pos = start;
        let pat = self.pattern()?;
        self.punct(":")?;
        Some(syn::FnArg::Typed(syn::PatType {
            attrs: Vec::new(),
            pat: Box::new(pat),
            colon_token: Default::default(),
            ty: Box::new(self.ty()?),
        }))
    }
}

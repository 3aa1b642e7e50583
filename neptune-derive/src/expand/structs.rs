//! A struct becomes a namespace: a `{Name}Handle` struct holding a handle per field, and the
//! `Loggable` impl that binds, writes and reads it field by field.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;

use super::bounds;
use crate::internals::ast::{Container, Field, Role, Style};

/// A field that takes part in the namespace, with what generated code needs of it.
struct Part<'f, 'a> {
    field: &'f Field<'a>,
    /// Where generated code about the field points: its type.
    span: Span,
    /// The member of the handle struct.
    handle_member: syn::Member,
    /// `<Ty as Loggable>`.
    as_trait: TokenStream,
    /// The path of the field: `&__at.child("seg")`, or `__at` when flattened.
    at: TokenStream,
}

pub fn expand(
    cont: &Container,
    style: Style,
    fields: &[Field],
    krate: &TokenStream,
) -> TokenStream {
    let ident = &cont.ident;
    let vis = cont.vis;
    let handle = format_ident!("{}Handle", ident, span = ident.span());
    let generics = cont.generics;
    let (impl_generics, ty_generics, _) = generics.split_for_impl();

    let parts: Vec<Part> = fields
        .iter()
        .filter(|f| f.role != Role::Skip)
        .enumerate()
        .map(|(i, f)| part(f, i, style, krate))
        .collect();
    debug_assert!(parts.iter().all(|p| p.field.role != Role::Skip));

    // Bounds: a field type naming a type parameter needs its trait stated; concrete types
    // are checked where they are used (pointing at the field).
    let mut handle_preds = Vec::new();
    for p in &parts {
        if bounds::mentions_param(p.field.ty, generics) {
            let tr = match p.field.role {
                Role::Flatten => quote!(#krate::Namespace),
                _ => quote!(#krate::Loggable),
            };
            // (Namespace implies Loggable.)
            handle_preds.push(bounds::predicate(p.field.ty, tr));
        }
    }
    let mut impl_preds = handle_preds.clone();
    for f in fields.iter().filter(|f| f.role == Role::Skip) {
        if bounds::mentions_param(f.ty, generics) {
            impl_preds.push(bounds::predicate(f.ty, quote!(::core::default::Default)));
        }
    }
    let handle_where = bounds::where_clause(generics, handle_preds);
    let impl_where = bounds::where_clause(generics, impl_preds);

    // The handle struct.
    let handle_doc = format!(
        "Typed handle of [`{ident}`], made by `#[derive(Loggable)]`: a handle per field. \
         Get it with `object.bind::<{ident}>(path)`."
    );
    let decl_fields = parts.iter().map(|p| {
        let fvis = p.field.vis;
        let as_trait = &p.as_trait;
        let doc = match &p.field.role {
            Role::Field { segment } => format!("Handle of the field `{segment}` of the namespace."),
            _ => "Handles of a nested struct whose fields are flattened into the namespace."
                .to_owned(),
        };
        let ty = p.spanned(quote!(#as_trait::Handle));
        match style {
            Style::Tuple => quote!(#[doc = #doc] #fvis #ty),
            _ => {
                let m = &p.handle_member;
                quote!(#[doc = #doc] #fvis #m: #ty)
            }
        }
    });
    // The last field is always the marker: the handle's size then never depends on a field
    // type, so an unsupported field type is reported once, not again at every use of the
    // handle. It also keeps every generic parameter used.
    let marker_member = marker_member(style, parts.len());
    let marker_ty =
        bounds::phantom(generics).unwrap_or_else(|| quote!(::core::marker::PhantomData<()>));
    let marker_decl = match style {
        Style::Tuple => quote!(#marker_ty),
        _ => quote!(#marker_member: #marker_ty),
    };
    let handle_struct = match style {
        Style::Tuple => quote! {
            #[doc = #handle_doc]
            #vis struct #handle #generics (#(#decl_fields,)* #marker_decl) #handle_where;
        },
        _ => quote! {
            #[doc = #handle_doc]
            #vis struct #handle #generics #handle_where {
                #(#decl_fields,)*
                #marker_decl
            }
        },
    };

    let marker_init = quote!(#marker_member: ::core::marker::PhantomData);
    let clones = parts.iter().map(|p| {
        let m = &p.handle_member;
        p.spanned(quote!(#m: ::core::clone::Clone::clone(&self.#m)))
    });
    let clone_impl = quote! {
        impl #impl_generics ::core::clone::Clone for #handle #ty_generics #handle_where {
            fn clone(&self) -> Self {
                #handle { #(#clones,)* #marker_member: self.#marker_member }
            }
        }
    };

    let describe = parts.iter().map(|p| {
        let (as_trait, at) = (&p.as_trait, &p.at);
        let ty = p.field.ty;
        let assert = match p.field.role {
            Role::Flatten => quote!(<#ty as #krate::Namespace>::__namespace();),
            _ => TokenStream::new(),
        };
        p.spanned(quote!(#assert #as_trait::__fields(#at, __out);))
    });
    let binds = parts.iter().map(|p| {
        let (m, as_trait, at) = (&p.handle_member, &p.as_trait, &p.at);
        p.spanned(quote! {
            #m: match #as_trait::__bind(#at, __binder) {
                ::core::result::Result::Ok(__handle) => __handle,
                ::core::result::Result::Err(__error) => return ::core::result::Result::Err(__error),
            }
        })
    });
    let writes = parts.iter().map(|p| {
        let (m, as_trait, at) = (&p.field.member, &p.as_trait, &p.at);
        p.spanned(quote!(#as_trait::__write(&__value.#m, #at, __writer);))
    });
    let reads = parts.iter().enumerate().map(|(i, p)| {
        let (local, as_trait, at) = (local(i), &p.as_trait, &p.at);
        p.spanned(quote!(let #local = #as_trait::__read(#at, __reader);))
    });
    let mut next = 0;
    let inits = fields.iter().map(|f| {
        let m = &f.member;
        let ty = f.ty;
        if f.role == Role::Skip {
            bounds::respan(
                quote!(#m: <#ty as ::core::default::Default>::default()),
                ty.span(),
            )
        } else {
            let local = local(next);
            next += 1;
            bounds::respan(quote!(#m: #local?), ty.span())
        }
    });
    let inits: Vec<TokenStream> = inits.collect();

    quote! {
        #handle_struct

        #clone_impl

        // Per-field code carries the field type's span (one diagnostic for an unsupported
        // type), which makes lints see it as the user's code.
        #[automatically_derived]
        #[allow(clippy::question_mark, clippy::needless_question_mark)]
        impl #impl_generics #krate::Loggable for #ident #ty_generics #impl_where {
            type Handle = #handle #ty_generics;

            fn __fields(__at: &#krate::At, __out: &mut #krate::Fields) {
                #(#describe)*
            }

            fn __bind(
                __at: &#krate::At,
                __binder: &#krate::Binder,
            ) -> #krate::Result<Self::Handle> {
                ::core::result::Result::Ok(#handle { #(#binds,)* #marker_init })
            }

            fn __write(__value: &Self, __at: &#krate::At, __writer: &mut #krate::Writer<'_>) {
                #(#writes)*
            }

            fn __read(
                __at: &#krate::At,
                __reader: &mut #krate::Reader,
            ) -> ::core::option::Option<Self> {
                #(#reads)*
                ::core::option::Option::Some(Self { #(#inits,)* })
            }
        }

        #[automatically_derived]
        impl #impl_generics #krate::Namespace for #ident #ty_generics #impl_where {}
    }
}

impl Part<'_, '_> {
    /// `tokens`, spanned at the field's type.
    fn spanned(&self, tokens: TokenStream) -> TokenStream {
        bounds::respan(tokens, self.span)
    }
}

fn part<'f, 'a>(
    field: &'f Field<'a>,
    index: usize,
    style: Style,
    krate: &TokenStream,
) -> Part<'f, 'a> {
    let ty = field.ty;
    let span = ty.span();
    let handle_member = match (style, &field.member) {
        (Style::Tuple, _) => syn::Member::Unnamed(syn::Index {
            index: index as u32,
            span: Span::call_site(),
        }),
        (_, m) => m.clone(),
    };
    let as_trait = quote!(<#ty as #krate::Loggable>);
    let at = match &field.role {
        Role::Field { segment } => quote!(&__at.child(#segment)),
        // Flattened: the nested struct's fields sit in this namespace. Skipped fields are
        // filtered out by the caller.
        Role::Flatten | Role::Skip => quote!(__at),
    };
    Part {
        field,
        span,
        handle_member,
        as_trait,
        at,
    }
}

fn local(i: usize) -> syn::Ident {
    format_ident!("__field{}", i)
}

fn marker_member(style: Style, n: usize) -> syn::Member {
    match style {
        Style::Tuple => syn::Member::Unnamed(syn::Index {
            index: n as u32,
            span: Span::call_site(),
        }),
        _ => syn::Member::Named(format_ident!("__loggable_marker")),
    }
}

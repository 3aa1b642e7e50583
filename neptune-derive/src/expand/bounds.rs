//! Generic parameters: the bounds generated items need, and the marker that keeps every
//! parameter of the container used by its handle.

use std::collections::HashSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

/// Whether `ty` names one of the container's type parameters (then its bound is generic and
/// must be stated; a concrete type is checked where it is used instead).
pub fn mentions_param(ty: &syn::Type, generics: &syn::Generics) -> bool {
    let params: HashSet<String> = generics
        .type_params()
        .map(|p| p.ident.to_string())
        .collect();
    if params.is_empty() {
        return false;
    }
    fn walk(ts: TokenStream, params: &HashSet<String>) -> bool {
        ts.into_iter().any(|tt| match tt {
            TokenTree::Ident(i) => params.contains(&i.to_string()),
            TokenTree::Group(g) => walk(g.stream(), params),
            _ => false,
        })
    }
    walk(ty.to_token_stream(), &params)
}

/// The container's where clause with `extra` predicates added.
pub fn where_clause(generics: &syn::Generics, extra: Vec<TokenStream>) -> TokenStream {
    let existing = generics
        .where_clause
        .as_ref()
        .map(|w| {
            w.predicates
                .iter()
                .map(|p| p.to_token_stream())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if existing.is_empty() && extra.is_empty() {
        return TokenStream::new();
    }
    quote!(where #(#existing,)* #(#extra,)*)
}

/// `bound` on `ty`, spanned at the type so an unmet bound points at the user's field.
pub fn predicate(ty: &syn::Type, bound: TokenStream) -> TokenStream {
    quote_spanned!(ty.span()=> #ty: #bound)
}

/// A `PhantomData` type using every type and lifetime parameter, when there is one.
pub fn phantom(generics: &syn::Generics) -> Option<TokenStream> {
    let types: Vec<&syn::Ident> = generics.type_params().map(|p| &p.ident).collect();
    let lifetimes: Vec<&syn::Lifetime> = generics.lifetimes().map(|l| &l.lifetime).collect();
    if types.is_empty() && lifetimes.is_empty() {
        return None;
    }
    Some(quote!(::core::marker::PhantomData<fn() -> (#(#types,)* #(&#lifetimes (),)*)>))
}

/// `tokens` with every span set to `span`. Generated code about one field is spanned at the
/// field's type, so that an unsupported type gives identical diagnostics everywhere, which
/// rustc reports once.
pub fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => {
                let mut out = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                out.set_span(span);
                TokenTree::Group(out)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}

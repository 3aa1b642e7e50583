//! Code generation from the IR only (no attribute is read here).
//!
//! When the input had mistakes, the errors are emitted next to the code generated from the
//! best-effort IR (stand-ins), so that code using the type and its handle adds no further
//! errors: one mistake, one diagnostic.

mod bounds;
mod enums;
mod structs;

use proc_macro2::TokenStream;
use quote::quote;

use crate::internals::ast::{Container, Data};
use crate::internals::Ctxt;

/// The path generated code names by default (before `crate = "..."`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DefaultCrate {
    /// `::neptune_core`: the derive as `neptune_core` re-exports it.
    Core,
    /// `::neptune`: the derive as the `neptune` facade re-exports it.
    Facade,
}

/// The whole expansion of `#[derive(Loggable)]` on `input`.
pub fn derive(input: &syn::DeriveInput, default: DefaultCrate) -> TokenStream {
    let cx = Ctxt::new();
    let cont = Container::from_ast(&cx, input);
    let krate = private_path(&cont, default);
    let code = match &cont.data {
        Data::Struct(style, fields) => structs::expand(&cont, *style, fields, &krate),
        Data::Enum(variants) => enums::expand(&cont, variants, &krate),
        Data::Union => enums::stand_in_union(&cont, &krate),
    };
    let code = hygienic_locals(code);
    match cx.check() {
        Ok(()) => code,
        Err(e) => {
            let errors = e.to_compile_error();
            quote! {
                #errors
                #code
            }
        }
    }
}

/// The local variables and parameters of generated code.
const LOCALS: [&str; 10] = [
    "__at", "__out", "__binder", "__value", "__writer", "__reader", "__handle", "__error",
    "__stored", "__marker",
];

/// Gives generated locals mixed-site hygiene: a user's item of the same name (a unit struct
/// `__at`, a const `__field0`) can neither capture nor break them.
fn hygienic_locals(tokens: TokenStream) -> TokenStream {
    use proc_macro2::{Group, Span, TokenTree};
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => {
                let mut out = Group::new(g.delimiter(), hygienic_locals(g.stream()));
                out.set_span(g.span());
                TokenTree::Group(out)
            }
            TokenTree::Ident(mut i) => {
                let name = i.to_string();
                let numbered = name
                    .strip_prefix("__field")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
                if numbered || LOCALS.contains(&name.as_str()) {
                    i.set_span(Span::mixed_site().located_at(i.span()));
                }
                TokenTree::Ident(i)
            }
            other => other,
        })
        .collect()
}

/// `<crate>::__private`, the only module generated code names besides `::core` and `::std`.
fn private_path(cont: &Container, default: DefaultCrate) -> TokenStream {
    match (&cont.attrs.krate, default) {
        (Some(path), _) => quote!(#path::__private),
        (None, DefaultCrate::Core) => quote!(::neptune_core::__private),
        (None, DefaultCrate::Facade) => quote!(::neptune::__private),
    }
}

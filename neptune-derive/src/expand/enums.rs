//! A unit-only enum becomes a String field holding the variant's name; a union gets a
//! stand-in impl next to its error.

use proc_macro2::TokenStream;
use quote::quote;

use crate::internals::ast::{Container, Variant};

pub fn expand(cont: &Container, variants: &[Variant], krate: &TokenStream) -> TokenStream {
    let ident = &cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.generics.split_for_impl();
    let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
    // `{ .. }` matches unit, tuple and struct variants alike: a variant with data (an
    // error, already reported) still gets a stand-in arm.
    let to_arms = variants.iter().map(|v| {
        let (var, name) = (v.ident, &v.name);
        quote!(#ident::#var { .. } => #name)
    });
    let from_arms = variants.iter().filter(|v| !v.has_data).map(|v| {
        let (var, name) = (v.ident, &v.name);
        quote!(#name => ::core::result::Result::Ok(#ident::#var))
    });
    let string = quote!(::std::string::String);
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::Loggable for #ident #ty_generics #where_clause {
            type Handle = #krate::ValueHandle<Self>;

            fn __fields(__at: &#krate::At, __out: &mut #krate::Fields) {
                #krate::single_fields::<Self>(__at, __out)
            }

            fn __bind(
                __at: &#krate::At,
                __binder: &#krate::Binder,
            ) -> #krate::Result<Self::Handle> {
                #krate::single_bind::<Self>(__at, __binder)
            }

            fn __write(__value: &Self, __at: &#krate::At, __writer: &mut #krate::Writer<'_>) {
                #krate::single_write(__value, __at, __writer)
            }

            fn __read(
                __at: &#krate::At,
                __reader: &mut #krate::Reader,
            ) -> ::core::option::Option<Self> {
                #krate::single_read(__at, __reader)
            }
        }

        #[automatically_derived]
        impl #impl_generics #krate::SingleValue for #ident #ty_generics #where_clause {
            type Stored = #string;

            fn to_stored(&self) -> ::core::result::Result<#string, #string> {
                ::core::result::Result::Ok(#string::from(match *self {
                    #(#to_arms,)*
                }))
            }

            fn from_stored(__stored: #string) -> ::core::result::Result<Self, #string> {
                match __stored.as_str() {
                    #(#from_arms,)*
                    _ => ::core::result::Result::Err(#krate::unknown_variant(
                        &__stored,
                        &[#(#names),*],
                    )),
                }
            }
        }
    }
}

/// A union cannot be logged (the error is already recorded); the stand-in impl keeps code
/// that names it as `Loggable` free of further errors.
pub fn stand_in_union(cont: &Container, krate: &TokenStream) -> TokenStream {
    let ident = &cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::Loggable for #ident #ty_generics #where_clause {
            type Handle = ();
            fn __fields(_: &#krate::At, _: &mut #krate::Fields) {}
            fn __bind(_: &#krate::At, _: &#krate::Binder) -> #krate::Result<()> {
                ::core::result::Result::Ok(())
            }
            fn __write(_: &Self, _: &#krate::At, _: &mut #krate::Writer<'_>) {}
            fn __read(_: &#krate::At, _: &mut #krate::Reader) -> ::core::option::Option<Self> {
                ::core::option::Option::None
            }
        }
    }
}

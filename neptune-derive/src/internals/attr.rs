//! `#[loggable(...)]` attributes of the container, its fields and its variants.
//!
//! Every problem is recorded in the [`Ctxt`] and parsing goes on, so one pass reports all of
//! them: unknown names, duplicates, values of the wrong form.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;

use super::case::RenameRule;
use super::Ctxt;

/// The attribute's name: `#[loggable(...)]`.
pub const LOGGABLE: &str = "loggable";

/// A value given at most once; the tokens of the first occurrence are kept for error spans.
struct Attr<'c, T> {
    cx: &'c Ctxt,
    name: &'static str,
    value: Option<(TokenStream, T)>,
}

impl<'c, T> Attr<'c, T> {
    fn none(cx: &'c Ctxt, name: &'static str) -> Self {
        Attr {
            cx,
            name,
            value: None,
        }
    }

    fn set<A: ToTokens>(&mut self, obj: A, value: T) {
        let tokens = obj.into_token_stream();
        if self.value.is_some() {
            self.cx.error_spanned_by(
                tokens,
                format!("duplicate loggable attribute `{}`", self.name),
            );
        } else {
            self.value = Some((tokens, value));
        }
    }

    fn get(self) -> Option<(TokenStream, T)> {
        self.value
    }
}

/// Skips what follows an unknown or malformed name (`= value` or `(...)`), so parsing can go
/// on with the next name.
fn skip_rest(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _content;
        syn::parenthesized!(_content in meta.input);
    }
    Ok(())
}

/// A string literal after `name =`; `None` (after recording the error) otherwise.
fn get_lit_str(cx: &Ctxt, name: &str, meta: &ParseNestedMeta) -> syn::Result<Option<syn::LitStr>> {
    let value = meta.value()?;
    let expr: syn::Expr = value.parse()?;
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Ok(Some(s)),
        other => {
            cx.error_spanned_by(
                other,
                format!("expected a string literal: `{name} = \"...\"`"),
            );
            Ok(None)
        }
    }
}

/// Parses every `#[loggable(...)]` of `attrs`, calling `each` for every name.
fn for_each_meta(
    cx: &Ctxt,
    attrs: &[syn::Attribute],
    mut each: impl FnMut(&ParseNestedMeta, &str) -> syn::Result<()>,
) {
    for attr in attrs {
        if !attr.path().is_ident(LOGGABLE) {
            continue;
        }
        if let syn::Meta::Path(_) = attr.meta {
            cx.error_spanned_by(attr, "expected attributes in parentheses: #[loggable(...)]");
            continue;
        }
        let res = attr.parse_nested_meta(|meta| {
            let name = meta
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_else(|| meta.path.to_token_stream().to_string().replace(' ', ""));
            each(&meta, &name)
        });
        if let Err(e) = res {
            cx.syn_error(e);
        }
    }
}

fn unknown(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    name: &str,
    on: &str,
    known: &str,
) -> syn::Result<()> {
    cx.error_spanned_by(
        &meta.path,
        format!("unknown loggable attribute `{name}`; {on} takes {known}"),
    );
    skip_rest(meta)
}

/// A path segment or stored name checked for the path rules.
fn check_segment(cx: &Ctxt, lit: &syn::LitStr) -> Option<String> {
    let s = lit.value();
    let problem = if s.is_empty() {
        Some("a path segment cannot be empty")
    } else if s.contains('/') {
        Some("a path segment cannot contain '/'; nest a struct to make a namespace")
    } else if s.chars().any(char::is_control) {
        Some("a path segment cannot contain control characters")
    } else {
        None
    };
    match problem {
        Some(p) => {
            cx.error_spanned_by(lit, p);
            None
        }
        None => Some(s),
    }
}

/// Attributes of the struct or enum.
pub struct Container {
    pub rename_all: Option<RenameRule>,
    /// The `crate = "..."` path, when given and valid.
    pub krate: Option<syn::Path>,
}

impl Container {
    pub fn from_ast(cx: &Ctxt, item: &syn::DeriveInput) -> Self {
        let mut rename_all = Attr::none(cx, "rename_all");
        let mut krate = Attr::none(cx, "crate");
        for_each_meta(cx, &item.attrs, |meta, name| match name {
            "rename_all" => {
                if let Some(s) = get_lit_str(cx, name, meta)? {
                    match RenameRule::from_str(&s.value()) {
                        Ok(rule) => rename_all.set(&meta.path, Some(rule)),
                        Err(msg) => {
                            cx.error_spanned_by(&s, msg);
                            rename_all.set(&meta.path, None);
                        }
                    }
                }
                Ok(())
            }
            "crate" => {
                if let Some(s) = get_lit_str(cx, name, meta)? {
                    krate.set(&meta.path, parse_crate_path(cx, &s));
                }
                Ok(())
            }
            _ => unknown(
                cx,
                meta,
                name,
                "a struct or enum",
                "rename_all = \"...\" or crate = \"...\"",
            ),
        });
        Container {
            rename_all: rename_all.get().and_then(|(_, v)| v),
            krate: krate.get().and_then(|(_, v)| v),
        }
    }
}

/// `crate = "::path"`: an absolute path (leading `::`, or starting at `crate`).
fn parse_crate_path(cx: &Ctxt, lit: &syn::LitStr) -> Option<syn::Path> {
    let path = match lit.parse_with(syn::Path::parse_mod_style) {
        Ok(p) => p,
        Err(_) => {
            cx.error_spanned_by(
                lit,
                format!(
                    "crate = {:?} is not a path; give an absolute path such as \"::neptune\"",
                    lit.value()
                ),
            );
            return None;
        }
    };
    let absolute =
        path.leading_colon.is_some() || path.segments.first().is_some_and(|s| s.ident == "crate");
    if absolute {
        let mut path = path;
        // Keep the spans of the user's literal, so errors in generated paths point at it.
        set_span(&mut path, lit.span());
        Some(path)
    } else {
        cx.error_spanned_by(
            lit,
            format!(
                "crate = {:?} is not an absolute path; write \"::{}\" (generated code names it from any module)",
                lit.value(),
                lit.value()
            ),
        );
        None
    }
}

fn set_span(path: &mut syn::Path, span: Span) {
    if let Some(c) = &mut path.leading_colon {
        c.spans = [span, span];
    }
    for seg in path.segments.iter_mut() {
        seg.ident.set_span(span);
    }
}

/// Attributes of a field.
pub struct Field {
    /// `rename = "..."`: the literal, checked.
    pub rename: Option<(syn::LitStr, String)>,
    /// `skip`: the span of the word.
    pub skip: Option<Span>,
    /// `flatten`: the span of the word.
    pub flatten: Option<Span>,
}

impl Field {
    pub fn from_ast(cx: &Ctxt, field: &syn::Field) -> Self {
        let mut rename = Attr::none(cx, "rename");
        let mut skip = Attr::none(cx, "skip");
        let mut flatten = Attr::none(cx, "flatten");
        for_each_meta(cx, &field.attrs, |meta, name| match name {
            "rename" => {
                if let Some(s) = get_lit_str(cx, name, meta)? {
                    let checked = check_segment(cx, &s).map(|v| (s, v));
                    rename.set(&meta.path, checked);
                }
                Ok(())
            }
            "skip" => {
                skip.set(&meta.path, meta.path.span());
                skip_rest(meta)
            }
            "flatten" => {
                flatten.set(&meta.path, meta.path.span());
                skip_rest(meta)
            }
            _ => unknown(
                cx,
                meta,
                name,
                "a field",
                "rename = \"...\", skip or flatten",
            ),
        });
        let rename = rename.get();
        let skip = skip.get().map(|(_, s)| s);
        let flatten = flatten.get().map(|(_, s)| s);
        if let (Some((tokens, _)), Some(_)) = (&rename, skip) {
            cx.error_spanned_by(tokens, "a skipped field has no path to rename");
        }
        if let (Some((tokens, _)), Some(_)) = (&rename, flatten) {
            cx.error_spanned_by(
                tokens,
                "a flattened field has no path segment of its own to rename",
            );
        }
        if let (Some(s), Some(_)) = (skip, flatten) {
            cx.syn_error(syn::Error::new(s, "skip and flatten exclude each other"));
        }
        Field {
            rename: rename.and_then(|(_, v)| v),
            skip,
            flatten,
        }
    }
}

/// Attributes of an enum variant.
pub struct Variant {
    /// `rename = "..."`: the literal and the name stored.
    pub rename: Option<(syn::LitStr, String)>,
}

impl Variant {
    pub fn from_ast(cx: &Ctxt, variant: &syn::Variant) -> Self {
        let mut rename = Attr::none(cx, "rename");
        for_each_meta(cx, &variant.attrs, |meta, name| match name {
            "rename" => {
                if let Some(s) = get_lit_str(cx, name, meta)? {
                    let v = s.value();
                    if v.is_empty() {
                        cx.error_spanned_by(&s, "a variant's stored name cannot be empty");
                        rename.set(&meta.path, None);
                    } else {
                        rename.set(&meta.path, Some((s, v)));
                    }
                }
                Ok(())
            }
            _ => unknown(cx, meta, name, "an enum variant", "rename = \"...\""),
        });
        Variant {
            rename: rename.get().and_then(|(_, v)| v),
        }
    }
}

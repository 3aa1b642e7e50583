//! The IR: the derive input with every attribute resolved into paths and names.

use syn::ext::IdentExt;
use syn::spanned::Spanned;

use super::{attr, check, Ctxt};

/// The struct or enum being derived.
pub struct Container<'a> {
    pub ident: syn::Ident,
    pub vis: &'a syn::Visibility,
    pub generics: &'a syn::Generics,
    pub attrs: attr::Container,
    pub data: Data<'a>,
}

/// What the container holds.
pub enum Data<'a> {
    /// A struct: a namespace with a field per (non-skipped) struct field.
    Struct(Style, Vec<Field<'a>>),
    /// An enum: a String field holding a variant's name.
    Enum(Vec<Variant<'a>>),
    /// A union: nothing can be generated (an error has been recorded).
    Union,
}

/// How a struct's fields are written.
#[derive(Copy, Clone, PartialEq, Eq)]
pub enum Style {
    Named,
    /// A tuple struct: an error, but handles are still generated (fields named 0, 1, …)
    /// so that code using them adds no further errors.
    Tuple,
    Unit,
}

/// How a field takes part in the namespace.
#[derive(Clone, PartialEq, Eq)]
pub enum Role {
    /// A field at `namespace/segment`.
    Field { segment: String },
    /// The fields of a nested struct, at the namespace itself.
    Flatten,
    /// Not logged; `fetch_as` fills it with `Default::default()`.
    Skip,
}

/// A struct field.
pub struct Field<'a> {
    pub member: syn::Member,
    pub vis: &'a syn::Visibility,
    pub ty: &'a syn::Type,
    pub role: Role,
    /// The tokens to point at for this field's name (the rename literal, or the ident).
    pub name_span: proc_macro2::Span,
}

/// An enum variant.
pub struct Variant<'a> {
    pub ident: &'a syn::Ident,
    /// The String stored for the variant.
    pub name: String,
    pub name_span: proc_macro2::Span,
    /// Whether the variant carries data (an error; the variant is still matched).
    pub has_data: bool,
}

impl<'a> Container<'a> {
    /// The IR of `item`; every problem is recorded in `cx`. Always returns an IR, so the
    /// expansion can emit stand-ins next to the errors.
    pub fn from_ast(cx: &Ctxt, item: &'a syn::DeriveInput) -> Container<'a> {
        let attrs = attr::Container::from_ast(cx, item);
        let data = match &item.data {
            syn::Data::Struct(s) => {
                let (style, fields) = match &s.fields {
                    syn::Fields::Named(f) => (Style::Named, Some(&f.named)),
                    syn::Fields::Unnamed(f) => {
                        cx.error_spanned_by(
                            &s.fields,
                            "#[derive(Loggable)] needs named fields, which name the field paths; a tuple struct has none. Use a struct with named fields",
                        );
                        (Style::Tuple, Some(&f.unnamed))
                    }
                    syn::Fields::Unit => (Style::Unit, None),
                };
                let fields = fields
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, f)| Field::from_ast(cx, i, f, &attrs))
                    .collect();
                Data::Struct(style, fields)
            }
            syn::Data::Enum(e) => Data::Enum(
                e.variants
                    .iter()
                    .map(|v| Variant::from_ast(cx, v, &attrs))
                    .collect(),
            ),
            syn::Data::Union(u) => {
                cx.error_spanned_by(
                    u.union_token,
                    "#[derive(Loggable)] does not support unions; use a struct with named fields (a namespace) or a unit-only enum (a String field)",
                );
                Data::Union
            }
        };
        let cont = Container {
            ident: item.ident.clone(),
            vis: &item.vis,
            generics: &item.generics,
            attrs,
            data,
        };
        check::check(cx, &cont);
        cont
    }
}

impl<'a> Field<'a> {
    fn from_ast(cx: &Ctxt, index: usize, field: &'a syn::Field, cont: &attr::Container) -> Self {
        let attrs = attr::Field::from_ast(cx, field);
        let (member, default_name, ident_span) = match &field.ident {
            Some(ident) => (
                syn::Member::Named(ident.clone()),
                ident.unraw().to_string(),
                ident.span(),
            ),
            None => (
                syn::Member::Unnamed(syn::Index {
                    index: index as u32,
                    span: field.ty.span(),
                }),
                index.to_string(),
                field.ty.span(),
            ),
        };
        let (role, name_span) = if attrs.skip.is_some() {
            (Role::Skip, ident_span)
        } else if attrs.flatten.is_some() {
            (Role::Flatten, ident_span)
        } else {
            match attrs.rename {
                Some((lit, segment)) => (Role::Field { segment }, lit.span()),
                None => {
                    let segment = match cont.rename_all {
                        Some(rule) => rule.apply_to_field(&default_name),
                        None => default_name,
                    };
                    (Role::Field { segment }, ident_span)
                }
            }
        };
        Field {
            member,
            vis: &field.vis,
            ty: &field.ty,
            role,
            name_span,
        }
    }
}

impl<'a> Variant<'a> {
    fn from_ast(cx: &Ctxt, variant: &'a syn::Variant, cont: &attr::Container) -> Self {
        let attrs = attr::Variant::from_ast(cx, variant);
        let has_data = !matches!(variant.fields, syn::Fields::Unit);
        if has_data {
            cx.error_spanned_by(
                &variant.fields,
                format!(
                    "#[derive(Loggable)] on an enum needs unit variants (the field stores the variant's name as a String); `{}` carries data. Use a struct for data",
                    variant.ident
                ),
            );
        }
        let (name, name_span) = match attrs.rename {
            Some((lit, name)) => (name, lit.span()),
            None => {
                let ident = variant.ident.unraw().to_string();
                let name = match cont.rename_all {
                    Some(rule) => rule.apply_to_variant(&ident),
                    None => ident,
                };
                (name, variant.ident.span())
            }
        };
        Variant {
            ident: &variant.ident,
            name,
            name_span,
            has_data,
        }
    }
}

//! Checks across fields and variants, after attributes are parsed.

use std::collections::HashMap;

use super::ast::{Container, Data, Role};
use super::Ctxt;

/// Records every path segment (or stored variant name) used twice.
pub fn check(cx: &Ctxt, cont: &Container) {
    match &cont.data {
        Data::Struct(_, fields) => {
            let mut seen: HashMap<&str, String> = HashMap::new();
            for f in fields {
                let Role::Field { segment } = &f.role else {
                    continue;
                };
                let this = member_name(&f.member);
                if let Some(first) = seen.get(segment.as_str()) {
                    cx.syn_error(syn::Error::new(
                        f.name_span,
                        format!(
                            "fields `{first}` and `{this}` both have the path segment \"{segment}\"; each field needs its own path (change a rename or rename_all)"
                        ),
                    ));
                } else {
                    seen.insert(segment, this);
                }
            }
        }
        Data::Enum(variants) => {
            let mut seen: HashMap<&str, String> = HashMap::new();
            for v in variants {
                let this = v.ident.to_string();
                if let Some(first) = seen.get(v.name.as_str()) {
                    cx.syn_error(syn::Error::new(
                        v.name_span,
                        format!(
                            "variants `{first}` and `{this}` are both stored as \"{}\"; each variant needs its own name (change a rename or rename_all)",
                            v.name
                        ),
                    ));
                } else {
                    seen.insert(&v.name, this);
                }
            }
        }
        Data::Union => {}
    }
}

fn member_name(m: &syn::Member) -> String {
    match m {
        syn::Member::Named(i) => i.to_string(),
        syn::Member::Unnamed(i) => i.index.to_string(),
    }
}

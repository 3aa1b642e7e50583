//! Where a field of a given type may go: the type, field-as-namespace and namespace-as-field
//! rule, over whatever lookup of existing fields the caller has (the client's schema in memory,
//! the store's SQLite rows).

use crate::error::Error;
use crate::model::path::FieldPath;
use crate::model::types::FieldType;

/// A field found by a [`FieldLookup`]: its type, and whatever else the lookup keeps (the store's
/// row id).
pub(crate) trait FoundField {
    fn field_type(&self) -> FieldType;
}

impl FoundField for FieldType {
    fn field_type(&self) -> FieldType {
        *self
    }
}

/// The existing fields of one object, as the rule needs them.
pub(crate) trait FieldLookup {
    type Found: FoundField;
    /// What a lookup may fail with (the client's is infallible, the store's is SQL).
    type Fail;
    /// The field at exactly `path`, if any.
    fn field(&self, path: &str) -> Result<Option<Self::Found>, Self::Fail>;
    /// Whether some field lies strictly below the namespace `ns`.
    fn has_fields_below(&self, ns: &str) -> Result<bool, Self::Fail>;
}

/// Where a `wanted` field at a path goes: the field already there, or a new one.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Place<F> {
    Existing(F),
    New,
}

/// Checks that `path` may hold a `wanted` field: the field there has that type, or there is
/// none and no ancestor is a field and nothing lies below it. `attempted` names the call for the
/// message. `Ok(Err(_))` is the refusal; `Err(_)` a failed lookup.
pub(crate) fn place<L: FieldLookup>(
    fields: &L,
    path: &FieldPath,
    wanted: FieldType,
    attempted: &'static str,
) -> Result<Result<Place<L::Found>, Error>, L::Fail> {
    if let Some(f) = fields.field(path.as_str())? {
        let existing = f.field_type();
        if existing != wanted {
            return Ok(Err(Error::TypeMismatch {
                path: path.to_string(),
                existing,
                wanted,
                attempted,
            }));
        }
        return Ok(Ok(Place::Existing(f)));
    }
    for anc in path.ancestors() {
        if let Some(f) = fields.field(anc)? {
            return Ok(Err(Error::FieldAsNamespace {
                path: path.to_string(),
                field: anc.to_owned(),
                field_type: f.field_type(),
            }));
        }
    }
    if fields.has_fields_below(path.as_str())? {
        return Ok(Err(Error::NamespaceAsField {
            path: path.to_string(),
        }));
    }
    Ok(Ok(Place::New))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::convert::Infallible;

    use super::*;

    struct Map(BTreeMap<&'static str, FieldType>);

    impl FieldLookup for Map {
        type Found = FieldType;
        type Fail = Infallible;
        fn field(&self, path: &str) -> Result<Option<FieldType>, Infallible> {
            Ok(self.0.get(path).copied())
        }
        fn has_fields_below(&self, ns: &str) -> Result<bool, Infallible> {
            Ok(self
                .0
                .keys()
                .any(|k| k.strip_prefix(ns).is_some_and(|r| r.starts_with('/'))))
        }
    }

    #[test]
    fn each_outcome_of_the_rule() {
        use FieldType::{Float, FloatSeries, String as Str};
        let fields = Map(BTreeMap::from([("a/b", Float), ("s", Str)]));
        // (path, wanted, expected: "new" | "existing" | the error's variant)
        let table = [
            ("a/b", Float, "existing"),
            ("a/b", FloatSeries, "TypeMismatch"),
            ("a/b/c", Float, "FieldAsNamespace"),
            ("s/x/y", Float, "FieldAsNamespace"),
            ("a", Float, "NamespaceAsField"),
            ("ab", Float, "new"),
            ("a/c", Str, "new"),
            ("z", FloatSeries, "new"),
        ];
        for (path, wanted, expected) in table {
            let p = FieldPath::parse(path).unwrap();
            let got = match place(&fields, &p, wanted, "assign()").unwrap() {
                Ok(Place::New) => "new",
                Ok(Place::Existing(t)) => {
                    assert_eq!(t, wanted);
                    "existing"
                }
                Err(Error::TypeMismatch { .. }) => "TypeMismatch",
                Err(Error::FieldAsNamespace { field, .. }) => {
                    assert!(p.as_str().starts_with(&format!("{field}/")), "{field}");
                    "FieldAsNamespace"
                }
                Err(Error::NamespaceAsField { .. }) => "NamespaceAsField",
                Err(e) => panic!("{path}: unexpected {e}"),
            };
            assert_eq!(got, expected, "{path} as {wanted}");
        }
    }

    #[test]
    fn a_failed_lookup_is_passed_on() {
        struct Broken;
        impl FieldLookup for Broken {
            type Found = FieldType;
            type Fail = &'static str;
            fn field(&self, _: &str) -> Result<Option<FieldType>, &'static str> {
                Err("disk gone")
            }
            fn has_fields_below(&self, _: &str) -> Result<bool, &'static str> {
                Err("disk gone")
            }
        }
        let p = FieldPath::parse("x").unwrap();
        assert_eq!(
            place(&Broken, &p, FieldType::Float, "assign()").err(),
            Some("disk gone")
        );
    }
}

//! The client's view of an object's fields: which path holds which type.
//!
//! Every write is checked here at the call, so a type conflict or a field used as a namespace is
//! an `Err` at once rather than a dropped write in the background.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::error::Result;
use crate::model::path::FieldPath;
use crate::model::rules::fields;
use crate::model::types::FieldType;

/// Paths and types of an object's fields.
#[derive(Debug, Default, Clone)]
pub(crate) struct Schema {
    fields: BTreeMap<String, FieldType>,
}

impl Schema {
    pub(crate) fn from_fields(fields: impl IntoIterator<Item = (FieldPath, FieldType)>) -> Self {
        Schema {
            fields: fields
                .into_iter()
                .map(|(p, t)| (String::from(p), t))
                .collect(),
        }
    }

    pub(crate) fn type_of(&self, path: &str) -> Option<FieldType> {
        self.fields.get(path).copied()
    }

    /// Fields strictly below `ns` (all fields for `None`).
    pub(crate) fn below<'a>(
        &'a self,
        ns: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a str, FieldType)> + 'a {
        let start = ns.map_or(String::new(), |n| format!("{n}/"));
        self.fields
            .range(start.clone()..)
            .take_while(move |(k, _)| k.starts_with(&start))
            .map(|(k, t)| (k.as_str(), *t))
    }

    pub(crate) fn is_namespace(&self, path: &str) -> bool {
        self.below(Some(path)).next().is_some()
    }

    /// Checks that `path` may hold a `wanted` field (see [`fields::place`]); `attempted` names
    /// the call for messages.
    pub(crate) fn check(
        &self,
        path: &FieldPath,
        wanted: FieldType,
        attempted: &'static str,
    ) -> Result<()> {
        match fields::place(self, path, wanted, attempted) {
            Ok(placed) => placed.map(|_| ()),
            Err(never) => match never {},
        }
    }

    /// Checks and records the field; returns whether it is new.
    pub(crate) fn register(
        &mut self,
        path: &FieldPath,
        t: FieldType,
        attempted: &'static str,
    ) -> Result<bool> {
        self.check(path, t, attempted)?;
        Ok(self.fields.insert(path.to_string(), t).is_none())
    }

    /// Registers several fields at once: all or none.
    pub(crate) fn register_all<'a>(
        &mut self,
        items: impl IntoIterator<Item = (&'a FieldPath, FieldType)>,
        attempted: &'static str,
    ) -> Result<()> {
        let mut added: Vec<&FieldPath> = Vec::new();
        for (path, t) in items {
            match self.register(path, t, attempted) {
                Ok(true) => added.push(path),
                Ok(false) => {}
                Err(e) => {
                    for p in added {
                        self.fields.remove(p.as_str());
                    }
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Forgets the field at `path` and every field below it; returns the removed paths.
    pub(crate) fn remove(&mut self, path: &str) -> Vec<String> {
        let mut gone: Vec<String> = self.below(Some(path)).map(|(k, _)| k.to_owned()).collect();
        if self.fields.contains_key(path) {
            gone.push(path.to_owned());
        }
        for k in &gone {
            self.fields.remove(k);
        }
        gone
    }

    /// The nested structure below `ns`, as a tree of namespaces and typed leaves.
    pub(crate) fn structure(&self, ns: Option<&str>) -> Structure {
        let mut root = Structure::Namespace(BTreeMap::new());
        for (path, t) in self
            .below(ns)
            .chain(ns.and_then(|n| self.type_of(n).map(|t| (n, t))))
        {
            let rel = match ns {
                Some(n) if path == n => continue,
                Some(n) => &path[n.len() + 1..],
                None => path,
            };
            root.insert(rel, t);
        }
        root
    }
}

impl fields::FieldLookup for Schema {
    type Found = FieldType;
    type Fail = std::convert::Infallible;

    fn field(&self, path: &str) -> std::result::Result<Option<FieldType>, Self::Fail> {
        Ok(self.type_of(path))
    }

    fn has_fields_below(&self, ns: &str) -> std::result::Result<bool, Self::Fail> {
        Ok(self.is_namespace(ns))
    }
}

/// The shape of an object's fields, as `get_structure()` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Structure {
    /// A field, with its type.
    Field(FieldType),
    /// A namespace, with its children by name.
    Namespace(BTreeMap<String, Structure>),
}

impl Structure {
    fn insert(&mut self, rel: &str, t: FieldType) {
        let Structure::Namespace(map) = self else {
            return;
        };
        match rel.split_once('/') {
            None => {
                map.insert(rel.to_owned(), Structure::Field(t));
            }
            Some((head, rest)) => map
                .entry(head.to_owned())
                .or_insert_with(|| Structure::Namespace(BTreeMap::new()))
                .insert(rest, t),
        }
    }

    /// The entries of a namespace (empty for a field).
    pub fn children(&self) -> impl Iterator<Item = (&str, &Structure)> {
        let map = match self {
            Structure::Namespace(m) => Some(m),
            Structure::Field(_) => None,
        };
        map.into_iter().flatten().map(|(k, v)| (k.as_str(), v))
    }

    /// The entry at the relative path `rel`.
    pub fn get(&self, rel: &str) -> Option<&Structure> {
        rel.split('/').try_fold(self, |s, seg| match s {
            Structure::Namespace(m) => m.get(seg),
            Structure::Field(_) => None,
        })
    }

    /// An indented tree, namespaces first, as `print_structure()` prints it.
    pub fn render(&self) -> String {
        fn walk(s: &Structure, depth: usize, out: &mut String) {
            let mut entries: Vec<_> = s.children().collect();
            entries.sort_by_key(|(name, st)| (matches!(st, Structure::Field(_)), *name));
            for (name, st) in entries {
                let pad = "    ".repeat(depth);
                match st {
                    Structure::Namespace(_) => {
                        let _ = writeln!(out, "{pad}'{name}':");
                        walk(st, depth + 1, out);
                    }
                    Structure::Field(t) => {
                        let _ = writeln!(out, "{pad}'{name}': {t}");
                    }
                }
            }
        }
        let mut out = String::new();
        walk(self, 0, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn p(s: &str) -> FieldPath {
        FieldPath::parse(s).unwrap()
    }

    #[test]
    fn conflicts_are_named() {
        let mut s = Schema::default();
        s.register(&p("a/b"), FieldType::Float, "assign").unwrap();
        assert!(matches!(
            s.check(&p("a/b"), FieldType::FloatSeries, "append"),
            Err(Error::TypeMismatch { .. })
        ));
        assert!(matches!(
            s.check(&p("a/b/c"), FieldType::Float, "assign"),
            Err(Error::FieldAsNamespace { .. })
        ));
        assert!(matches!(
            s.check(&p("a"), FieldType::Float, "assign"),
            Err(Error::NamespaceAsField { .. })
        ));
        assert!(s.check(&p("ab"), FieldType::Float, "assign").is_ok());
        assert!(!s.register(&p("a/b"), FieldType::Float, "assign").unwrap());
    }

    #[test]
    fn register_all_is_all_or_nothing() {
        let mut s = Schema::default();
        s.register(&p("x"), FieldType::String, "assign").unwrap();
        let items = [(p("n/a"), FieldType::Float), (p("x"), FieldType::Float)];
        assert!(s
            .register_all(items.iter().map(|(p, t)| (p, *t)), "assign")
            .is_err());
        assert_eq!(s.type_of("n/a"), None);
    }

    #[test]
    fn structure_and_removal() {
        let mut s = Schema::default();
        for (path, t) in [
            ("p/lr", FieldType::Float),
            ("p/opt/name", FieldType::String),
            ("loss", FieldType::FloatSeries),
        ] {
            s.register(&p(path), t, "assign").unwrap();
        }
        let st = s.structure(None);
        assert_eq!(
            st.get("p/opt/name"),
            Some(&Structure::Field(FieldType::String))
        );
        assert_eq!(
            s.structure(Some("p")).get("lr"),
            Some(&Structure::Field(FieldType::Float))
        );
        assert!(
            st.render().starts_with(
                "'p':\n    'opt':\n        'name': String\n    'lr': Float\n'loss': FloatSeries\n"
            ),
            "{}",
            st.render()
        );
        assert_eq!(s.remove("p").len(), 2);
        assert!(!s.is_namespace("p"));
    }
}

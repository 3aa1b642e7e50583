//! `assign_serde` with `stringify_unsupported`: a serde serializer into a small tree, then
//! fields from the tree, where what no field type holds (lists, nulls, maps whose keys are not
//! text or integers, integers beyond `i64`) becomes a String holding its JSON text.

use std::collections::BTreeMap;
use std::fmt;

use serde::ser::{self, Serialize};

use crate::model::types::Value;

/// A serialized value, before it becomes fields.
#[derive(Clone, Debug, PartialEq)]
enum Tree {
    /// `None`, `()` and unit structs other than the field markers.
    Null,
    /// A unit struct (the `FloatSeries`, `FileSet` … markers of Loggable structs): skipped.
    Marker,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    List(Vec<Tree>),
    Map(Vec<(Tree, Tree)>),
}

impl Tree {
    /// The JSON text of a value a field cannot hold.
    fn json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Tree::Null | Tree::Marker => J::Null,
            Tree::Bool(b) => J::Bool(*b),
            Tree::Int(i) => i64::try_from(*i)
                .map(J::from)
                .or_else(|_| u64::try_from(*i).map(J::from))
                .unwrap_or_else(|_| J::String(i.to_string())),
            Tree::Float(f) => J::from(*f),
            Tree::Str(s) => J::String(s.clone()),
            Tree::List(items) => J::Array(items.iter().map(Tree::json).collect()),
            Tree::Map(entries) => match entries
                .iter()
                .map(|(k, v)| key(k).map(|k| (k, v.json())))
                .collect::<Option<serde_json::Map<_, _>>>()
            {
                Some(m) => J::Object(m),
                // Keys JSON cannot hold: a list of [key, value] pairs.
                None => J::Array(
                    entries
                        .iter()
                        .map(|(k, v)| J::Array(vec![k.json(), v.json()]))
                        .collect(),
                ),
            },
        }
    }
}

/// A map key as text: strings, integers and booleans (as serde_json writes them).
fn key(k: &Tree) -> Option<String> {
    match k {
        Tree::Str(s) => Some(s.clone()),
        Tree::Int(i) => Some(i.to_string()),
        Tree::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A serialization error (a `Serialize` impl that fails on its own).
#[derive(Debug)]
pub(crate) struct TreeError(String);

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TreeError {}

impl ser::Error for TreeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        TreeError(msg.to_string())
    }
}

/// The value as fields below `path` (`None` when nothing is left), and the paths whose
/// values were stored as their JSON text.
pub(crate) fn stringified<T: Serialize + ?Sized>(
    path: &str,
    value: &T,
) -> Result<(Option<Value>, Vec<String>), TreeError> {
    let tree = value.serialize(TreeSerializer)?;
    let mut strung = Vec::new();
    let v = to_value(path, tree, &mut strung);
    strung.sort();
    Ok((v, strung))
}

fn to_value(path: &str, t: Tree, strung: &mut Vec<String>) -> Option<Value> {
    let as_text = |t: &Tree, strung: &mut Vec<String>| {
        strung.push(if path.is_empty() {
            "(root)".into()
        } else {
            path.to_owned()
        });
        Some(Value::String(t.json().to_string()))
    };
    match t {
        Tree::Marker => None,
        Tree::Bool(b) => Some(Value::Boolean(b)),
        Tree::Float(f) => Some(Value::Float(f)),
        Tree::Str(s) => Some(Value::String(s)),
        Tree::Int(i) => match i64::try_from(i) {
            Ok(i) => Some(Value::Integer(i)),
            Err(_) => as_text(&t, strung),
        },
        Tree::Map(ref entries) if entries.iter().all(|(k, _)| key(k).is_some()) => {
            let Tree::Map(entries) = t else { return None };
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let k = key(&k).unwrap_or_default();
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}/{k}")
                };
                if let Some(v) = to_value(&sub, v, strung) {
                    out.insert(k, v);
                }
            }
            Some(Value::Namespace(out))
        }
        Tree::Null | Tree::List(_) | Tree::Map(_) => as_text(&t, strung),
    }
}

struct TreeSerializer;

/// Collects a sequence, tuple or tuple variant; `variant` wraps it as `{variant: [..]}`.
struct SeqBuilder {
    items: Vec<Tree>,
    variant: Option<&'static str>,
}

/// Collects a map, struct or struct variant; `variant` wraps it as `{variant: {..}}`.
struct MapBuilder {
    entries: Vec<(Tree, Tree)>,
    key: Option<Tree>,
    variant: Option<&'static str>,
}

fn wrap(variant: Option<&'static str>, t: Tree) -> Tree {
    match variant {
        Some(v) => Tree::Map(vec![(Tree::Str(v.to_owned()), t)]),
        None => t,
    }
}

type R = Result<Tree, TreeError>;

impl ser::Serializer for TreeSerializer {
    type Ok = Tree;
    type Error = TreeError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = SeqBuilder;
    type SerializeMap = MapBuilder;
    type SerializeStruct = MapBuilder;
    type SerializeStructVariant = MapBuilder;

    fn serialize_bool(self, v: bool) -> R {
        Ok(Tree::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> R {
        Ok(Tree::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> R {
        Ok(Tree::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> R {
        Ok(Tree::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> R {
        Ok(Tree::Int(v.into()))
    }
    fn serialize_i128(self, v: i128) -> R {
        Ok(Tree::Int(v))
    }
    fn serialize_u8(self, v: u8) -> R {
        Ok(Tree::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> R {
        Ok(Tree::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> R {
        Ok(Tree::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> R {
        Ok(Tree::Int(v.into()))
    }
    fn serialize_u128(self, v: u128) -> R {
        Ok(i128::try_from(v).map_or_else(|_| Tree::Str(v.to_string()), Tree::Int))
    }
    fn serialize_f32(self, v: f32) -> R {
        Ok(Tree::Float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> R {
        Ok(Tree::Float(v))
    }
    fn serialize_char(self, v: char) -> R {
        Ok(Tree::Str(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> R {
        Ok(Tree::Str(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        Ok(Tree::List(
            v.iter().map(|b| Tree::Int((*b).into())).collect(),
        ))
    }
    fn serialize_none(self) -> R {
        Ok(Tree::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(Tree::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Ok(Tree::Marker)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> R {
        Ok(Tree::Str(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> R {
        Ok(wrap(Some(variant), value.serialize(self)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, TreeError> {
        Ok(SeqBuilder {
            items: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, TreeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqBuilder, TreeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqBuilder, TreeError> {
        let mut s = self.serialize_seq(Some(len))?;
        s.variant = Some(variant);
        Ok(s)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapBuilder, TreeError> {
        Ok(MapBuilder {
            entries: Vec::new(),
            key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<MapBuilder, TreeError> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<MapBuilder, TreeError> {
        let mut m = self.serialize_map(None)?;
        m.variant = Some(variant);
        Ok(m)
    }
}

impl SeqBuilder {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TreeError> {
        self.items.push(value.serialize(TreeSerializer)?);
        Ok(())
    }
    fn done(self) -> R {
        Ok(wrap(self.variant, Tree::List(self.items)))
    }
}

macro_rules! seq_impl {
    ($($tr:ident :: $m:ident),*) => {$(
        impl ser::$tr for SeqBuilder {
            type Ok = Tree;
            type Error = TreeError;
            fn $m<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TreeError> {
                self.push(value)
            }
            fn end(self) -> R {
                self.done()
            }
        }
    )*};
}
seq_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl MapBuilder {
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), TreeError> {
        let v = value.serialize(TreeSerializer)?;
        self.entries.push((Tree::Str(key.to_owned()), v));
        Ok(())
    }
    fn done(self) -> R {
        Ok(wrap(self.variant, Tree::Map(self.entries)))
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Tree;
    type Error = TreeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), TreeError> {
        self.key = Some(key.serialize(TreeSerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TreeError> {
        let k = self
            .key
            .take()
            .ok_or_else(|| TreeError("a map value came before its key".into()))?;
        self.entries.push((k, value.serialize(TreeSerializer)?));
        Ok(())
    }
    fn end(self) -> R {
        self.done()
    }
}

impl ser::SerializeStruct for MapBuilder {
    type Ok = Tree;
    type Error = TreeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), TreeError> {
        self.field(key, value)
    }
    fn end(self) -> R {
        self.done()
    }
}

impl ser::SerializeStructVariant for MapBuilder {
    type Ok = Tree;
    type Error = TreeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), TreeError> {
        self.field(key, value)
    }
    fn end(self) -> R {
        self.done()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[derive(serde::Serialize)]
    struct Config {
        lr: f64,
        layers: Vec<u32>,
        seed: Option<u64>,
        big: u64,
        name: String,
        marker: crate::FloatSeries,
        by_pair: HashMap<(u8, u8), f64>,
        by_id: BTreeMap<u32, String>,
        nested: Nested,
    }

    #[derive(serde::Serialize)]
    struct Nested {
        tags: Vec<String>,
        ok: bool,
        nan: f64,
    }

    #[test]
    fn unsupported_values_become_their_json_text() {
        let c = Config {
            lr: 0.1,
            layers: vec![64, 32],
            seed: None,
            big: u64::MAX,
            name: "x".into(),
            marker: crate::FloatSeries,
            by_pair: HashMap::from([((1, 2), 0.5)]),
            by_id: BTreeMap::from([(7, "seven".to_owned())]),
            nested: Nested {
                tags: vec!["a".into(), "b\"c".into()],
                ok: true,
                nan: f64::NAN,
            },
        };
        let (v, strung) = stringified("params", &c).unwrap();
        let Some(Value::Namespace(m)) = v else {
            panic!("{v:?}")
        };
        let s = |k: &str| m.get(k).cloned();
        assert_eq!(s("lr"), Some(Value::Float(0.1)));
        assert_eq!(s("layers"), Some(Value::String("[64,32]".into())));
        assert_eq!(s("seed"), Some(Value::String("null".into())));
        assert_eq!(s("big"), Some(Value::String("18446744073709551615".into())));
        assert_eq!(s("marker"), None);
        assert_eq!(s("by_pair"), Some(Value::String("[[[1,2],0.5]]".into())));
        let Some(Value::Namespace(ids)) = s("by_id") else {
            panic!()
        };
        assert_eq!(ids.get("7"), Some(&Value::String("seven".into())));
        let Some(Value::Namespace(n)) = s("nested") else {
            panic!()
        };
        assert_eq!(
            n.get("tags"),
            Some(&Value::String(r#"["a","b\"c"]"#.into()))
        );
        assert!(matches!(n.get("nan"), Some(Value::Float(f)) if f.is_nan()));
        assert_eq!(
            strung,
            [
                "params/big",
                "params/by_pair",
                "params/layers",
                "params/nested/tags",
                "params/seed"
            ]
        );
    }

    #[test]
    fn a_list_at_the_root_is_one_string() {
        let (v, strung) = stringified("xs", &vec![1, 2]).unwrap();
        assert_eq!(v, Some(Value::String("[1,2]".into())));
        assert_eq!(strung, ["xs"]);
    }
}

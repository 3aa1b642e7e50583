//! The handler's writes: single values, series appends, string sets.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Appendable, Handler};
use crate::error::{Error, Result};
use crate::handles::typed::{missing, IntoStrings, Scalar};
use crate::model::inputs::IntoValue;
use crate::model::operation::Operation;
use crate::model::path::FieldPath;
use crate::model::types::{FieldType, Value};
use crate::objects::inner::ObjectInner;
use crate::options::{ExtendOptions, LogOptions, SerdeOptions, WriteOptions};

/// Converts a serde value into field values (objects become namespaces; `null` is skipped).
fn json_to_value(path: &str, v: serde_json::Value) -> Result<Option<Value>> {
    use serde_json::Value as J;
    Ok(Some(match v {
        J::Null => return Ok(None),
        J::Bool(b) => Value::Boolean(b),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::Integer(i),
            (None, Some(f)) if n.is_f64() => Value::Float(f),
            _ => return Err(Error::Serialization {
                path: path.to_owned(),
                reason: format!("{n} does not fit an Integer (i64)"),
            }),
        },
        J::String(s) => Value::String(s),
        J::Array(_) => {
            return Err(Error::Serialization {
                path: path.to_owned(),
                reason: "a list cannot be assigned to a field; log it as a series with extend(), or as a String".into(),
            })
        }
        J::Object(m) => {
            let mut out = BTreeMap::new();
            for (k, v) in m {
                let sub = if path.is_empty() { k.clone() } else { format!("{path}/{k}") };
                if let Some(v) = json_to_value(&sub, v)? {
                    out.insert(k, v);
                }
            }
            Value::Namespace(out)
        }
    }))
}

impl Handler {
    // ---- single values -------------------------------------------------------------------

    /// Assigns a value: a number, bool, text or datetime sets one field; a map assigns each
    /// of its entries below this path (keys not in the map are kept).
    ///
    /// Integers wider than `i64` (`u64`, `usize`, `u128`, …) are stored when they fit the
    /// Integer range, and are an `Err` naming the path and the value when they do not.
    pub fn assign(&self, value: impl IntoValue) -> Result<()> {
        self.assign_with(value, WriteOptions::default())
    }

    /// [`assign`](Self::assign) with the reference's `wait`.
    pub fn assign_with(&self, value: impl IntoValue, opts: WriteOptions) -> Result<()> {
        let base = self.base()?;
        let value = value.into_value().map_err(|reason| {
            Error::invalid(base.map_or(String::new(), |p| p.to_string()), reason)
        })?;
        let mut ops = Vec::new();
        self.collect_assign(base, value, &mut ops)?;
        self.obj.write(ops, "assign", opts.wait)
    }

    /// Assigns every field of a serde-serializable value (a config struct, a map) below this
    /// path: structs and maps become namespaces, `None`s are skipped. Values go through JSON,
    /// where a NaN or infinite float becomes `null` and is skipped too; lists are refused
    /// (log them with `extend`, or store them as text with
    /// [`assign_serde_with`](Self::assign_serde_with) and
    /// [`SerdeOptions::stringify_unsupported`]). `#[derive(Loggable)]` with `assign_value`
    /// keeps every float.
    ///
    /// ```
    /// # fn main() -> neptune_core::Result<()> {
    /// #[derive(serde::Serialize)]
    /// struct Params { lr: f64, epochs: i64, optimizer: String }
    /// let run = neptune_core::Run::builder().mode(neptune_core::Mode::Debug).open()?;
    /// run.field("params").assign_serde(&Params { lr: 0.1, epochs: 3, optimizer: "sgd".into() })?;
    /// assert_eq!(run.field("params/epochs").fetch()?.as_i64(), Some(3));
    /// # Ok(()) }
    /// ```
    pub fn assign_serde<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        self.assign_serde_with(value, SerdeOptions::new())
    }

    /// [`assign_serde`](Self::assign_serde) with options: with
    /// [`SerdeOptions::stringify_unsupported`], what no field type holds (lists, nulls, maps
    /// with keys that are not text or integers, integers beyond `i64`) is stored as a String
    /// of its JSON text instead of failing the whole value, and one `tracing` warning names
    /// those paths; floats are kept as they are (NaN too), and unit structs (the `FloatSeries`
    /// … markers) are skipped.
    pub fn assign_serde_with<T: Serialize + ?Sized>(
        &self,
        value: &T,
        opts: SerdeOptions,
    ) -> Result<()> {
        let where_ = self.base()?.map_or(String::new(), |p| p.to_string());
        if !opts.stringify_unsupported {
            let json = serde_json::to_value(value).map_err(|e| Error::Serialization {
                path: where_.clone(),
                reason: e.to_string(),
            })?;
            return match json_to_value(&where_, json)? {
                Some(v) => self.assign_with(v, WriteOptions::new().wait(opts.wait)),
                None => Ok(()),
            };
        }
        let (v, strung) = crate::model::serde_tree::stringified(&where_, value).map_err(|e| {
            Error::Serialization {
                path: where_.clone(),
                reason: e.to_string(),
            }
        })?;
        let Some(v) = v else { return Ok(()) };
        self.assign_with(v, WriteOptions::new().wait(opts.wait))?;
        if !strung.is_empty() {
            tracing::warn!(
                object = %self.obj.id,
                "{} value(s) that no field type holds were stored as Strings of their JSON \
                 text (stringify_unsupported): {}",
                strung.len(),
                strung.join(", ")
            );
        }
        Ok(())
    }

    fn collect_assign(
        &self,
        at: Option<&FieldPath>,
        value: Value,
        ops: &mut Vec<Operation>,
    ) -> Result<()> {
        let leaf = |ops: &mut Vec<Operation>,
                    op: fn(&ObjectInner, FieldPath, Value) -> Operation|
         -> Result<()> {
            let path = at.ok_or_else(|| Error::NamespaceAsField {
                path: String::new(),
            })?;
            ops.push(op(&self.obj, path.clone(), value.clone()));
            Ok(())
        };
        match &value {
            Value::Float(_)
            | Value::Integer(_)
            | Value::Boolean(_)
            | Value::String(_)
            | Value::Datetime(_) => leaf(ops, scalar_op),
            Value::Namespace(map) => {
                for (k, v) in map {
                    let sub = FieldPath::under(at, k)?;
                    self.collect_assign(Some(&sub), v.clone(), ops)?;
                }
                Ok(())
            }
            other => Err(Error::invalid(
                at.map_or(String::new(), |p| p.to_string()),
                format!(
                    "a {} cannot be assigned; {}",
                    other.field_type().map_or("value", FieldType::name),
                    match other {
                        Value::StringSet(_) => "use add() on a StringSet",
                        Value::RunState(_) => "sys/state is kept by the store",
                        _ => "log it with its own method",
                    }
                ),
            )),
        }
    }

    // ---- series ---------------------------------------------------------------------------

    /// Appends to a series: a number to a FloatSeries, a text to a StringSeries; a map
    /// appends each value to the series of its key below this namespace.
    pub fn append(&self, value: impl Into<Appendable>) -> Result<()> {
        self.append_with(value, LogOptions::default())
    }

    /// [`append`](Self::append) with the reference's `step`, `timestamp` and `wait`.
    pub fn append_with(&self, value: impl Into<Appendable>, opts: LogOptions) -> Result<()> {
        match value.into() {
            Appendable::Float(v) => self.float_series()?.append_with(v, opts),
            Appendable::String(v) => self.string_series()?.append_with(v, opts),
            Appendable::File(f) => self.file_series()?.append_with(f, opts.into()),
            Appendable::Map(entries) => {
                let wait = opts.wait;
                let opts = opts.wait(false);
                for (k, v) in entries {
                    self.field(&k).append_with(v, opts)?;
                }
                self.obj.after_write(wait)
            }
        }
    }

    /// Appends several values of one kind (numbers or texts).
    pub fn extend<I: IntoIterator<Item = T>, T: Into<Appendable>>(&self, values: I) -> Result<()> {
        self.extend_with(values, ExtendOptions::default())
    }

    /// [`extend`](Self::extend) with the reference's `steps`, `timestamps` and `wait`.
    pub fn extend_with<I: IntoIterator<Item = T>, T: Into<Appendable>>(
        &self,
        values: I,
        opts: ExtendOptions,
    ) -> Result<()> {
        let values: Vec<Appendable> = values.into_iter().map(Into::into).collect();
        let path = self.leaf()?;
        if !values.is_empty() && values.iter().all(|v| matches!(v, Appendable::File(_))) {
            let files = values.into_iter().filter_map(|v| match v {
                Appendable::File(f) => Some(f),
                _ => None,
            });
            return self.file_series()?.extend_with(files, opts.into());
        }
        let floats: Option<Vec<f64>> = values
            .iter()
            .map(|v| match v {
                Appendable::Float(f) => Some(*f),
                _ => None,
            })
            .collect();
        if let Some(f) = floats {
            if !f.is_empty() || self.field_type() != Some(FieldType::StringSeries) {
                return self.float_series()?.extend_with(f, opts);
            }
        }
        let strings: Option<Vec<String>> = values
            .into_iter()
            .map(|v| match v {
                Appendable::String(s) => Some(s),
                _ => None,
            })
            .collect();
        match strings {
            Some(s) => self.string_series()?.extend_with(s, opts),
            None => Err(Error::invalid(
                path,
                "extend takes values of one kind: all numbers or all texts",
            )),
        }
    }

    // ---- string sets ----------------------------------------------------------------------

    /// Adds strings to a StringSet (only `sys/tags` is a StringSet).
    pub fn add(&self, values: impl IntoStrings) -> Result<()> {
        self.string_set()?.add(values)
    }

    /// Removes strings from a StringSet.
    pub fn remove(&self, values: impl IntoStrings) -> Result<()> {
        self.string_set()?.remove(values)
    }

    /// Empties a StringSet or a series.
    pub fn clear(&self) -> Result<()> {
        let path = self.leaf()?;
        match self.field_type() {
            Some(FieldType::StringSet) => self.string_set()?.clear(),
            Some(FieldType::FloatSeries) => self.float_series()?.clear(),
            Some(FieldType::StringSeries) => self.string_series()?.clear(),
            Some(t) => Err(Error::NoSuchMethod {
                path: path.to_string(),
                field_type: t,
                method: "clear",
                hint: "use pop() to delete the field",
            }),
            None => Err(missing(&self.obj, path)),
        }
    }
}

fn scalar_op(obj: &ObjectInner, path: FieldPath, v: Value) -> Operation {
    match v {
        Value::Float(f) => f.into_op(obj, path),
        Value::Integer(i) => i.into_op(obj, path),
        Value::Boolean(b) => b.into_op(obj, path),
        Value::Datetime(d) => d.into_op(obj, path),
        Value::String(s) => s.into_op(obj, path),
        // collect_assign only passes the five scalar kinds.
        other => Operation::AssignString {
            path,
            value: other.to_string(),
        },
    }
}

//! The untyped [`Handler`]: a path whose first write decides its type, and the namespace handler.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::handles::typed::{
    fetch_series, missing, FloatSeriesHandle, IntoStrings, Scalar, ScalarHandle,
    StringSeriesHandle, StringSetHandle,
};
use crate::model::inputs::IntoValue;
use crate::model::operation::Operation;
use crate::model::path::FieldPath;
use crate::model::structure::Structure;
use crate::model::types::{FieldType, Value};
use crate::model::values::SeriesValues;
use crate::objects::inner::ObjectInner;
use crate::objects::Object;
use crate::options::{ExtendOptions, FetchOptions, LogOptions, SerdeOptions, WriteOptions};

#[derive(Clone, Debug)]
enum Target {
    Root,
    Path(FieldPath),
    Invalid { path: String, reason: String },
}

/// A field path of an object: a field, a namespace, or nothing yet.
///
/// Its first write decides what it becomes (`assign(0.5)` a Float, `append(0.5)` a
/// FloatSeries, …); below it, [`field`](Handler::field) reaches relative paths, as the
/// reference's namespace handler. Invalid paths are reported by the first call.
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use neptune_core::{Mode, Run, Value};
/// let run = Run::builder().mode(Mode::Debug).open()?;
/// let params = run.field("params");
/// params.field("lr").assign(0.3)?;
/// params.field("optimizer").assign("Adam")?;
/// assert_eq!(run.field("params/lr").fetch()?, Value::Float(0.3));
/// assert!(run.exists("params/optimizer"));
/// assert!(run.field("params/lr").append(1.0).is_err()); // a Float has no append
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Handler {
    obj: Arc<ObjectInner>,
    target: Target,
}

/// A value for `append`: a number (FloatSeries), a text (StringSeries), a file (FileSeries),
/// or a map appended key by key to the series below a namespace.
#[derive(Clone, Debug, PartialEq)]
pub enum Appendable {
    /// A point of a FloatSeries.
    Float(f64),
    /// An entry of a StringSeries.
    String(String),
    /// An entry of a FileSeries.
    File(crate::files::File),
    /// One value per key, each appended to the series at `path/key`.
    Map(Vec<(String, Appendable)>),
}

impl From<crate::files::File> for Appendable {
    fn from(v: crate::files::File) -> Self {
        Appendable::File(v)
    }
}

macro_rules! appendable_float {
    ($($t:ty),*) => {$(
        impl From<$t> for Appendable {
            fn from(v: $t) -> Self {
                Appendable::Float(v as f64)
            }
        }
    )*};
}
appendable_float!(f64, f32, i8, i16, i32, i64, u8, u16, u32, u64, usize);

impl From<&str> for Appendable {
    fn from(v: &str) -> Self {
        Appendable::String(v.to_owned())
    }
}

impl From<String> for Appendable {
    fn from(v: String) -> Self {
        Appendable::String(v)
    }
}

impl<K: Into<String>, V: Into<Appendable>> From<BTreeMap<K, V>> for Appendable {
    fn from(m: BTreeMap<K, V>) -> Self {
        Appendable::Map(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl<K: Into<String>, V: Into<Appendable>> From<HashMap<K, V>> for Appendable {
    fn from(m: HashMap<K, V>) -> Self {
        Appendable::Map(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl<K: Into<String>, V: Into<Appendable>, const N: usize> From<[(K, V); N]> for Appendable {
    fn from(m: [(K, V); N]) -> Self {
        Appendable::Map(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident as $conv:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$variant(<$conv>::from(v))
            }
        }
    )*};
}
value_from!(f64 => Float as f64, f32 => Float as f64, i8 => Integer as i64, i16 => Integer as i64,
    i32 => Integer as i64, i64 => Integer as i64, u8 => Integer as i64, u16 => Integer as i64,
    u32 => Integer as i64, bool => Boolean as bool, String => String as String,
    &str => String as String, DateTime<Utc> => Datetime as DateTime<Utc>);

impl<K: Into<String>, V: Into<Value>> From<BTreeMap<K, V>> for Value {
    fn from(m: BTreeMap<K, V>) -> Self {
        Value::Namespace(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl<K: Into<String>, V: Into<Value>> From<HashMap<K, V>> for Value {
    fn from(m: HashMap<K, V>) -> Self {
        Value::Namespace(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

/// Fetched series values of either kind (an untyped handler does not know which in advance).
#[derive(Clone, Debug, PartialEq)]
pub enum FetchedSeries {
    /// The points of a FloatSeries.
    Float(SeriesValues<f64>),
    /// The entries of a StringSeries.
    String(SeriesValues<String>),
}

impl FetchedSeries {
    /// Number of points.
    pub fn len(&self) -> usize {
        match self {
            FetchedSeries::Float(v) => v.len(),
            FetchedSeries::String(v) => v.len(),
        }
    }

    /// Whether there is no point.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values of a FloatSeries.
    pub fn floats(&self) -> Option<&SeriesValues<f64>> {
        match self {
            FetchedSeries::Float(v) => Some(v),
            FetchedSeries::String(_) => None,
        }
    }

    /// The values of a StringSeries.
    pub fn strings(&self) -> Option<&SeriesValues<String>> {
        match self {
            FetchedSeries::String(v) => Some(v),
            FetchedSeries::Float(_) => None,
        }
    }

    /// `step,value[,timestamp]` CSV text.
    pub fn to_csv(&self) -> String {
        match self {
            FetchedSeries::Float(v) => v.to_csv(),
            FetchedSeries::String(v) => v.to_csv(),
        }
    }
}

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
    pub(crate) fn new(obj: Arc<ObjectInner>, path: &str) -> Handler {
        let target = match FieldPath::parse(path) {
            Ok(p) => Target::Path(p),
            Err(Error::InvalidPath { path, reason }) => Target::Invalid { path, reason },
            Err(e) => Target::Invalid {
                path: path.to_owned(),
                reason: e.to_string(),
            },
        };
        Handler { obj, target }
    }

    pub(crate) fn root(obj: Arc<ObjectInner>) -> Handler {
        Handler {
            obj,
            target: Target::Root,
        }
    }

    /// The path, or `None` at the object's root.
    pub fn path(&self) -> Option<&FieldPath> {
        match &self.target {
            Target::Path(p) => Some(p),
            _ => None,
        }
    }

    fn base(&self) -> Result<Option<&FieldPath>> {
        match &self.target {
            Target::Root => Ok(None),
            Target::Path(p) => Ok(Some(p)),
            Target::Invalid { path, reason } => Err(Error::InvalidPath {
                path: path.clone(),
                reason: reason.clone(),
            }),
        }
    }

    /// The object, for handle types defined in other modules.
    pub(crate) fn object(&self) -> &Arc<ObjectInner> {
        &self.obj
    }

    /// The path of a field (an error at the root or for an invalid path).
    pub(crate) fn leaf(&self) -> Result<&FieldPath> {
        self.base()?.ok_or_else(|| Error::NamespaceAsField {
            path: String::new(),
        })
    }

    /// The handler of `rel` below this one (the namespace handler's `ns["rel"]`).
    pub fn field(&self, rel: &str) -> Handler {
        match &self.target {
            Target::Root => Handler::new(self.obj.clone(), rel),
            Target::Path(p) => Handler::new(self.obj.clone(), &format!("{p}/{rel}")),
            Target::Invalid { path, .. } => {
                Handler::new(self.obj.clone(), &format!("{path}/{rel}"))
            }
        }
    }

    /// The type of the field here, `None` for a namespace or nothing.
    pub fn field_type(&self) -> Option<FieldType> {
        let p = self.path()?;
        self.obj.schema().type_of(p.as_str())
    }

    /// The object this handler belongs to (the reference's `get_root_object`).
    pub fn get_root_object(&self) -> Object {
        Object::from_inner(self.obj.clone())
    }

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

    /// Reads the value: a single value, or for a namespace a nested map of the single values
    /// below it.
    pub fn fetch(&self) -> Result<Value> {
        let base = self.base()?;
        let (t, is_ns) = match base {
            None => return self.obj.fetch_namespace(None),
            Some(p) => {
                let s = self.obj.schema();
                (s.type_of(p.as_str()), s.is_namespace(p.as_str()))
            }
        };
        let path = self.leaf()?;
        match t {
            Some(t) if !t.is_single_value() => Err(Error::NoSuchMethod {
                path: path.to_string(),
                field_type: t,
                method: "fetch",
                hint: if t.is_series() {
                    "use fetch_last() or fetch_values()"
                } else {
                    "use download()"
                },
            }),
            Some(_) => {
                self.obj.flush_for_read()?;
                self.obj
                    .backend()
                    .fetch_value(&self.obj.id, path)?
                    .ok_or_else(|| missing(&self.obj, path))
            }
            None if is_ns => self.obj.fetch_namespace(Some(path)),
            None => {
                // Another process may have written it: ask the store.
                self.obj.flush_for_read()?;
                match self.obj.backend().fetch_value(&self.obj.id, path)? {
                    Some(v) => Ok(v),
                    None => Err(missing(&self.obj, path)),
                }
            }
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

    /// The last value of a FloatSeries or StringSeries.
    pub fn fetch_last(&self) -> Result<Value> {
        match self.series_type("fetch_last")? {
            FieldType::StringSeries => self.string_series()?.fetch_last().map(Value::String),
            _ => self.float_series()?.fetch_last().map(Value::Float),
        }
    }

    /// Every point of a FloatSeries or StringSeries.
    pub fn fetch_values(&self) -> Result<FetchedSeries> {
        self.fetch_values_with(FetchOptions::default())
    }

    /// [`fetch_values`](Self::fetch_values) with `include_timestamp` and `progress_bar`.
    pub fn fetch_values_with(&self, opts: FetchOptions) -> Result<FetchedSeries> {
        let t = self.series_type("fetch_values")?;
        let path = self.leaf()?;
        self.obj.flush_for_read()?;
        Ok(match t {
            FieldType::StringSeries => FetchedSeries::String(fetch_series(&self.obj, path, &opts)?),
            _ => FetchedSeries::Float(fetch_series(&self.obj, path, &opts)?),
        })
    }

    fn series_type(&self, method: &'static str) -> Result<FieldType> {
        let path = self.leaf()?;
        let t = match self.field_type() {
            Some(t) => t,
            None => {
                self.obj.sync()?;
                self.field_type().ok_or_else(|| missing(&self.obj, path))?
            }
        };
        match t {
            FieldType::FloatSeries | FieldType::StringSeries => Ok(t),
            t => Err(Error::NoSuchMethod {
                path: path.to_string(),
                field_type: t,
                method,
                hint: if t.is_single_value() {
                    "use fetch()"
                } else {
                    "use download()"
                },
            }),
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

    // ---- namespace ------------------------------------------------------------------------

    /// Whether a field or namespace exists at `rel` below this path, as this object knows it
    /// (fields another process wrote appear after [`Object::sync`]).
    pub fn exists(&self, rel: &str) -> bool {
        let Ok(Some(p)) = self.field(rel).base().map(|b| b.cloned()) else {
            return false;
        };
        let s = self.obj.schema();
        s.type_of(p.as_str()).is_some() || s.is_namespace(p.as_str())
    }

    /// The fields below this path, as a tree.
    pub fn get_structure(&self) -> Structure {
        self.obj.structure(self.path())
    }

    /// Prints [`get_structure`](Self::get_structure) as an indented tree.
    pub fn print_structure(&self) {
        print!("{}", self.get_structure().render());
    }

    /// Deletes the field or namespace at `rel` below this path.
    pub fn pop(&self, rel: &str) -> Result<()> {
        let h = self.field(rel);
        self.obj.pop(h.leaf()?, false)
    }

    /// Deletes this field or namespace.
    pub fn delete(&self) -> Result<()> {
        self.obj.pop(self.leaf()?, false)
    }

    // ---- typed views ------------------------------------------------------------------------

    fn scalar<T: Scalar>(&self) -> Result<ScalarHandle<T>> {
        ScalarHandle::bind(self.obj.clone(), self.leaf()?.clone())
    }

    /// This path as a Float field: the handle that
    /// [`object.bind::<f64>(path)`](crate::Object::bind) gives, the documented way to get
    /// it; this view is for code that holds a `Handler` already.
    pub fn float(&self) -> Result<ScalarHandle<f64>> {
        self.scalar()
    }

    /// This path as an Integer field: the handle that
    /// [`object.bind::<i64>(path)`](crate::Object::bind) gives, the documented way to get
    /// it; this view is for code that holds a `Handler` already.
    pub fn integer(&self) -> Result<ScalarHandle<i64>> {
        self.scalar()
    }

    /// This path as a Boolean field: the handle that
    /// [`object.bind::<bool>(path)`](crate::Object::bind) gives, the documented way to get
    /// it; this view is for code that holds a `Handler` already.
    pub fn boolean(&self) -> Result<ScalarHandle<bool>> {
        self.scalar()
    }

    /// This path as a String field: the handle that
    /// [`object.bind::<String>(path)`](crate::Object::bind) gives, the documented way to get
    /// it; this view is for code that holds a `Handler` already.
    pub fn string(&self) -> Result<ScalarHandle<String>> {
        self.scalar()
    }

    /// This path as a Datetime field: the handle that
    /// [`object.bind::<DateTime<Utc>>(path)`](crate::Object::bind) gives, the documented way to get
    /// it; this view is for code that holds a `Handler` already.
    pub fn datetime(&self) -> Result<ScalarHandle<DateTime<Utc>>> {
        self.scalar()
    }

    /// This path as a FloatSeries: the handle that
    /// [`object.bind::<FloatSeries>(path)`](crate::Object::bind) gives, the documented way to get
    /// it; this view is for code that holds a `Handler` already.
    pub fn float_series(&self) -> Result<FloatSeriesHandle> {
        FloatSeriesHandle::bind(self.obj.clone(), self.leaf()?)
    }

    /// This path as a StringSeries: the handle that
    /// [`object.bind::<StringSeries>(path)`](crate::Object::bind) gives, the documented way to get
    /// it; this view is for code that holds a `Handler` already.
    pub fn string_series(&self) -> Result<StringSeriesHandle> {
        StringSeriesHandle::bind(self.obj.clone(), self.leaf()?)
    }

    /// This path as a StringSet (only `sys/tags` is one: [`Object::tags`](crate::Object::tags)
    /// is the documented way to get it).
    pub fn string_set(&self) -> Result<StringSetHandle> {
        StringSetHandle::bind(self.obj.clone(), self.leaf()?.clone())
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

//! [`Loggable`]: a Rust type that a field or a namespace of an object holds, with its typed
//! handle. `#[derive(Loggable)]` implements it for config and metrics structs (namespaces) and
//! unit-only enums (String fields); this module implements it for every leaf type.
//!
//! File fields hold a [`File`](crate::File) value (stored whole, read back whole);
//! FileSeries, FileSet and Artifact fields are markers like the series, their files going
//! through their handles.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::handles::handler::Handler;
use crate::handles::typed::Scalar;
use crate::model::operation::Operation;
use crate::model::path::FieldPath;
use crate::model::rules::sys;
use crate::model::types::{FieldType, Value};
use crate::objects::inner::ObjectInner;
use crate::objects::Object;
use crate::options::WriteOptions;

mod leaves;

pub use leaves::{
    single_bind, Artifact, FileSeries, FileSet, FloatSeries, OptionalHandle, StringSeries,
    StringSet, ValueHandle,
};

/// A Rust type that a field or a namespace of an object holds: bound to a path, it gives a
/// typed [`Handle`](Loggable::Handle) whose methods are exactly those of the field types.
///
/// Implemented for every leaf type and, by `#[derive(Loggable)]`, for structs with named
/// fields (namespaces) and unit-only enums (String fields holding the variant's name):
///
/// | Rust type | field type | handle |
/// |---|---|---|
/// | `f64` | Float | [`FloatHandle`](crate::FloatHandle) |
/// | `f32` | Float | [`ValueHandle<f32>`](ValueHandle) |
/// | `i64` | Integer | [`IntegerHandle`](crate::IntegerHandle) |
/// | `i8`…`i128`, `u8`…`u128`, `isize`, `usize` | Integer (range-checked into `i64`) | [`ValueHandle<T>`](ValueHandle) |
/// | `bool` | Boolean | [`BooleanHandle`](crate::BooleanHandle) |
/// | `String` | String | [`StringHandle`](crate::StringHandle) |
/// | `chrono::DateTime<Utc>` | Datetime | [`DatetimeHandle`](crate::DatetimeHandle) |
/// | `Option<T>` of the above or of a unit-only enum | T's type, absent until set | [`OptionalHandle<T>`](OptionalHandle) |
/// | [`FloatSeries`], [`StringSeries`] | FloatSeries, StringSeries | [`FloatSeriesHandle`](crate::FloatSeriesHandle), [`StringSeriesHandle`](crate::StringSeriesHandle) |
/// | [`StringSet`] | StringSet (only `sys/tags`) | [`StringSetHandle`](crate::StringSetHandle) |
/// | unit-only enum, `#[derive(Loggable)]` | String (the variant's name) | [`ValueHandle<E>`](ValueHandle) |
/// | struct, `#[derive(Loggable)]` | a namespace | the generated `{Name}Handle` |
///
/// Series and sets are markers: as values they hold nothing (their data goes through their
/// handle); a whole-value assign writes nothing for them and `fetch_as` checks their type.
///
/// Values go in and out whole with [`Handler::assign_value`] and [`Handler::fetch_as`];
/// handles come from [`Object::bind`], [`Handler::bind`] or [`Loggable::handle`].
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use neptune_core::{FloatSeries, Loggable, Mode, Run};
/// let run = Run::builder().mode(Mode::Debug).open()?;
/// let lr = run.bind::<f64>("params/lr")?;          // a FloatHandle
/// lr.assign(0.001)?;
/// let loss = FloatSeries::handle(&run, "train/loss")?; // a FloatSeriesHandle
/// loss.append(0.5)?;
/// assert_eq!(lr.fetch()?, 0.001);
/// assert_eq!(run.field("params/lr").fetch_as::<f64>()?, 0.001);
/// assert!(run.field("params/lr").fetch_as::<u8>().is_err()); // a Float, not an Integer
/// # Ok(()) }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a neptune field type, so it cannot be a field of a Loggable struct",
    label = "not a neptune field type",
    note = "field types: f64, f32 (Float); i8…i128, u8…u128, isize, usize (Integer, range-checked into i64); bool (Boolean); String; chrono::DateTime<Utc>, DateTime<Local> and DateTime<FixedOffset> (Datetime); neptune's File, FloatSeries, StringSeries, FileSeries, FileSet, StringSet and Artifact; Option<T> of a single value; unit-only enums and structs with #[derive(Loggable)]",
    note = "to keep this field out of the run, mark it #[loggable(skip)]"
)]
pub trait Loggable: Sized {
    /// The typed handle: a leaf handle for a field, the generated `{Name}Handle` (a struct of
    /// handles) for a namespace.
    type Handle: Clone;

    /// Appends the `(path, type)` of every field the type occupies at `at` (the resume check).
    #[doc(hidden)]
    fn __fields(at: &At, out: &mut Fields);

    /// Makes the handle; [`__fields`](Loggable::__fields) has been checked already.
    #[doc(hidden)]
    fn __bind(at: &At, binder: &Binder) -> Result<Self::Handle>;

    /// Turns a value into assign operations (problems are collected in the writer).
    #[doc(hidden)]
    fn __write(value: &Self, at: &At, writer: &mut Writer<'_>);

    /// Reads a value back; `None` after recording a problem in the reader.
    #[doc(hidden)]
    fn __read(at: &At, reader: &mut Reader) -> Option<Self>;

    /// The handle of this type at `path` of an object (`""` for the root): another spelling
    /// of [`object.bind::<Self>(path)`](Object::bind), which is the documented way.
    fn handle(object: &Object, path: &str) -> Result<Self::Handle> {
        object.bind::<Self>(path)
    }
}

/// A type that holds one value of a single-value field: what `Option<T>` takes.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a single value, so `Option<{Self}>` is not a neptune field type",
    label = "`Option<{Self}>` is not a neptune field type",
    note = "Option<T> takes a single value: f64, f32, an integer type, bool, String, chrono::DateTime<Utc>, or a unit-only enum with #[derive(Loggable)]"
)]
pub trait SingleValue: Loggable {
    /// The Rust type the field stores (f64, i64, bool, String or DateTime<Utc>).
    type Stored: Scalar;
    /// The stored value, or why it cannot be stored (e.g. out of the i64 range).
    fn to_stored(&self) -> std::result::Result<Self::Stored, String>;
    /// The value back, or why the stored value does not fit.
    fn from_stored(stored: Self::Stored) -> std::result::Result<Self, String>;
}

/// A struct with `#[derive(Loggable)]`: what `#[loggable(flatten)]` takes.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be flattened: #[loggable(flatten)] takes a struct with #[derive(Loggable)]",
    label = "not a Loggable struct"
)]
pub trait Namespace: Loggable {
    /// Called by generated code for a flattened field: the bound is checked there.
    #[doc(hidden)]
    fn __namespace() {}
}

// ---- the plumbing generated code calls ------------------------------------------------------

/// A path inside an object during bind, write or read (`""` is the root).
#[doc(hidden)]
#[derive(Clone, Debug, Default)]
pub struct At {
    path: String,
}

impl At {
    pub(crate) fn new(base: Option<&FieldPath>) -> At {
        At {
            path: base.map_or_else(String::new, |p| p.as_str().to_owned()),
        }
    }

    /// The path of the field `segment` below this one.
    pub fn child(&self, segment: &str) -> At {
        let path = if self.path.is_empty() {
            segment.to_owned()
        } else {
            format!("{}/{segment}", self.path)
        };
        At { path }
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.path
    }

    pub(crate) fn field_path(&self) -> Result<FieldPath> {
        FieldPath::parse(&self.path)
    }
}

/// The fields a type occupies, in declaration order.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Fields {
    items: Vec<(String, FieldType)>,
}

impl Fields {
    pub(crate) fn push(&mut self, at: &At, t: FieldType) {
        self.items.push((at.path.clone(), t));
    }
}

/// The object a handle is bound to.
#[doc(hidden)]
pub struct Binder {
    pub(crate) obj: Arc<ObjectInner>,
}

/// Collects the operations of a whole-value assign, and every problem found.
#[doc(hidden)]
pub struct Writer<'a> {
    pub(crate) obj: &'a ObjectInner,
    pub(crate) ops: Vec<Operation>,
    pub(crate) problems: Vec<Error>,
}

impl Writer<'_> {
    pub(crate) fn single<T: SingleValue>(&mut self, value: &T, at: &At) {
        match (at.field_path(), value.to_stored()) {
            (Ok(path), Ok(v)) => self.ops.push(v.into_op(self.obj, path)),
            (Ok(path), Err(reason)) => self.problems.push(Error::invalid(path, reason)),
            (Err(e), _) => self.problems.push(e),
        }
    }
}

/// The stored values and types below a namespace, for `fetch_as`, and every problem found.
#[doc(hidden)]
pub struct Reader {
    obj: Arc<ObjectInner>,
    object: String,
    values: HashMap<String, Value>,
    types: HashMap<String, FieldType>,
    problems: Vec<Error>,
}

impl Reader {
    fn problem<T>(&mut self, e: Error) -> Option<T> {
        self.problems.push(e);
        None
    }

    /// The value at `at`, `Some(None)` if there is no field there.
    fn value<T: SingleValue>(&mut self, at: &At) -> Option<Option<T>> {
        let wanted = <T::Stored as Scalar>::TYPE;
        let Some(v) = self.values.get(&at.path).cloned() else {
            return match self.types.get(&at.path).copied() {
                Some(found) => self.problem(wrong_type::<T>(at, found, wanted)),
                None => Some(None),
            };
        };
        let found = v.field_type().unwrap_or(wanted);
        match <T::Stored as Scalar>::from_value(v) {
            None => self.problem(wrong_type::<T>(at, found, wanted)),
            Some(s) => match T::from_stored(s) {
                Ok(v) => Some(Some(v)),
                Err(reason) => self.problem(Error::invalid(&at.path, reason)),
            },
        }
    }

    pub(crate) fn single<T: SingleValue>(&mut self, at: &At) -> Option<T> {
        match self.value::<T>(at)? {
            Some(v) => Some(v),
            None => {
                let object = self.object.clone();
                self.problem(Error::MissingField {
                    object,
                    path: at.path.clone(),
                })
            }
        }
    }

    pub(crate) fn optional<T: SingleValue>(&mut self, at: &At) -> Option<Option<T>> {
        self.value::<T>(at)
    }

    /// The content of a File field, read from the backend's file area.
    pub(crate) fn file(&mut self, at: &At) -> Option<crate::files::File> {
        let found = self.types.get(&at.path).copied();
        let read = || -> Result<crate::files::File> {
            let path = at.field_path()?;
            let missing = || Error::MissingField {
                object: self.object.clone(),
                path: at.path.clone(),
            };
            match found {
                Some(FieldType::File) => {}
                Some(t) => {
                    return Err(Error::invalid(
                        &at.path,
                        format!("is a {t} field, not a File"),
                    ))
                }
                None => return Err(missing()),
            }
            let file = self
                .obj
                .backend()
                .read()?
                .file_ref(&self.object, &path)?
                .ok_or_else(missing)?;
            let content = self.obj.backend().open_file(&file.digest)?;
            crate::files::File::from_reader(content, Some(&file.extension))
        };
        match read() {
            Ok(f) => Some(f),
            Err(e) => self.problem(e),
        }
    }

    /// Checks the type of a field whose data is read through its handle (series, sets).
    pub(crate) fn marker(&mut self, at: &At, wanted: FieldType) -> Option<()> {
        match self.types.get(&at.path).copied() {
            Some(found) if found != wanted => self.problem(Error::invalid(
                &at.path,
                format!("is a {found} field, not a {wanted}"),
            )),
            _ => Some(()),
        }
    }
}

fn wrong_type<T>(at: &At, found: FieldType, wanted: FieldType) -> Error {
    Error::invalid(
        &at.path,
        format!(
            "is a {found} field; {} reads a {wanted}",
            std::any::type_name::<T>()
        ),
    )
}

/// `__fields` of a single-value type.
#[doc(hidden)]
pub fn single_fields<T: SingleValue>(at: &At, out: &mut Fields) {
    out.push(at, <T::Stored as Scalar>::TYPE);
}

/// `__write` of a single-value type.
#[doc(hidden)]
pub fn single_write<T: SingleValue>(value: &T, at: &At, writer: &mut Writer<'_>) {
    writer.single(value, at);
}

/// `__read` of a single-value type.
#[doc(hidden)]
pub fn single_read<T: SingleValue>(at: &At, reader: &mut Reader) -> Option<T> {
    reader.single(at)
}

/// The reason a stored String names no variant of an enum.
#[doc(hidden)]
pub fn unknown_variant(found: &str, expected: &[&str]) -> String {
    format!("{found:?} is not a variant name; expected one of {expected:?}")
}

// ---- the public entry points -------------------------------------------------------------------

/// The base path of a handler: `None` at the root, or the invalid path's error.
fn base_of(h: &Handler) -> Result<Option<FieldPath>> {
    match h.path() {
        Some(p) => Ok(Some(p.clone())),
        None => match h.leaf() {
            Err(e @ Error::InvalidPath { .. }) => Err(e),
            _ => Ok(None),
        },
    }
}

fn mismatch<T>(obj: &ObjectInner, at: &At, action: &'static str, problems: Vec<Error>) -> Error {
    Error::LoggableMismatch {
        object: obj.id.clone(),
        namespace: at.path.clone(),
        type_name: std::any::type_name::<T>(),
        action,
        problems,
    }
}

/// The resume check: every field of `T` at `at` against the object's fields and against each
/// other; every problem is reported.
fn check<T: Loggable>(obj: &ObjectInner, at: &At, action: &'static str) -> Result<()> {
    let mut fields = Fields::default();
    T::__fields(at, &mut fields);
    let attempted = if action == "bind" {
        "binding"
    } else {
        "assign"
    };
    let mut scratch = obj.schema().clone();
    let mut seen = HashSet::new();
    let mut problems = Vec::new();
    for (path, t) in fields.items {
        let path = match FieldPath::parse(&path) {
            Ok(p) => p,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        if !seen.insert(path.clone()) {
            problems.push(Error::invalid(
                &path,
                "two fields of the type have this path (check #[loggable(flatten)] and rename)",
            ));
        } else if t == FieldType::StringSet && path.as_str() != sys::TAGS {
            problems.push(Error::invalid(
                &path,
                "only sys/tags is a StringSet: bind the struct holding `tags: StringSet` at \"sys\"",
            ));
        } else if let Err(e) = scratch.register(&path, t, attempted) {
            problems.push(e);
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(mismatch::<T>(obj, at, action, problems))
    }
}

impl Object {
    /// The typed handle of `T` at `path` (`""` for the root): for a `#[derive(Loggable)]`
    /// struct a struct of handles, for a leaf type its handle.
    ///
    /// Binding is the resume check: when the object already has fields there whose types
    /// differ from `T`'s, the `Err` ([`Error::LoggableMismatch`]) lists every one of them,
    /// and nothing is written. Binding itself writes nothing.
    ///
    /// ```
    /// # fn main() -> neptune_core::Result<()> {
    /// use neptune_core::{FloatSeries, Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).open()?;
    /// run.field("train/loss").assign(1.0)?; // a Float
    /// let err = run.bind::<FloatSeries>("train/loss").err().unwrap();
    /// assert!(err.to_string().contains("\"train/loss\" is a Float"));
    /// # Ok(()) }
    /// ```
    pub fn bind<T: Loggable>(&self, path: &str) -> Result<T::Handle> {
        if path.is_empty() {
            self.root().bind::<T>()
        } else {
            self.field(path).bind::<T>()
        }
    }
}

impl Handler {
    /// The typed handle of `T` at this path: the same as [`Object::bind`] at this path (the
    /// documented way), for code that holds a `Handler` already.
    pub fn bind<T: Loggable>(&self) -> Result<T::Handle> {
        let base = base_of(self)?;
        let obj = self.object();
        let at = At::new(base.as_ref());
        check::<T>(obj, &at, "bind")?;
        T::__bind(&at, &Binder { obj: obj.clone() })
    }

    /// Assigns a whole `Loggable` value here: each single-value field of a struct at its
    /// path, in one all-or-nothing write. `None`s and series markers write nothing. Every
    /// problem (a type conflict, an integer beyond `i64`) is listed in one `Err`, and then
    /// nothing is written.
    pub fn assign_value<T: Loggable>(&self, value: &T) -> Result<()> {
        self.assign_value_with(value, WriteOptions::default())
    }

    /// [`assign_value`](Self::assign_value) with the reference's `wait`.
    pub fn assign_value_with<T: Loggable>(&self, value: &T, opts: WriteOptions) -> Result<()> {
        let base = base_of(self)?;
        let obj = self.object();
        let at = At::new(base.as_ref());
        check::<T>(obj, &at, "assign")?;
        let mut writer = Writer {
            obj,
            ops: Vec::new(),
            problems: Vec::new(),
        };
        T::__write(value, &at, &mut writer);
        if !writer.problems.is_empty() {
            return Err(mismatch::<T>(obj, &at, "assign", writer.problems));
        }
        obj.write(writer.ops, "assign", opts.wait)
    }

    /// Reads a whole `Loggable` value back from this path. Every missing or mistyped field
    /// is named in one `Err` ([`Error::LoggableMismatch`]); stored fields that `T` does not
    /// have are ignored; an `Option` field that is absent reads as `None`.
    pub fn fetch_as<T: Loggable>(&self) -> Result<T> {
        let base = base_of(self)?;
        let obj = self.object();
        let at = At::new(base.as_ref());
        obj.flush_for_read()?;
        let inside = |p: &FieldPath| match &base {
            None => true,
            Some(b) => p == b || p.is_below(b.as_str()),
        };
        let values = obj
            .backend()
            .read()?
            .fetch_values_below(&obj.id, base.as_ref())?
            .into_iter()
            .map(|(p, v)| (String::from(p), v))
            .collect();
        let types = obj
            .backend()
            .read()?
            .fetch_structure(&obj.id)?
            .into_iter()
            .filter(|(p, _)| inside(p))
            .map(|(p, t)| (String::from(p), t))
            .collect();
        let mut reader = Reader {
            obj: obj.clone(),
            object: obj.id.clone(),
            values,
            types,
            problems: Vec::new(),
        };
        match T::__read(&at, &mut reader) {
            Some(v) if reader.problems.is_empty() => Ok(v),
            _ => Err(mismatch::<T>(obj, &at, "read", reader.problems)),
        }
    }
}

/// What `#[derive(Loggable)]` expands to names; not public API, may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use super::{
        single_bind, single_fields, single_read, single_write, unknown_variant, At, Binder, Fields,
        Loggable, Namespace, Reader, SingleValue, ValueHandle, Writer,
    };
    pub use crate::error::Result;
}

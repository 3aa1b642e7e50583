//! The untyped [`Handler`]: a path whose first write decides its type, and the namespace handler.

mod read;
mod values;
mod write;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::handles::typed::{
    FloatSeriesHandle, Scalar, ScalarHandle, StringSeriesHandle, StringSetHandle,
};
use crate::model::path::FieldPath;
use crate::model::structure::Structure;
use crate::model::types::FieldType;
use crate::objects::inner::ObjectInner;
use crate::objects::Object;

pub use values::{Appendable, FetchedSeries};

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

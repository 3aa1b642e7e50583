//! The StringSet handle (`sys/tags`) and the text values its methods take.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::model::operation::Operation;
use crate::model::path::FieldPath;
use crate::model::rules::sys;
use crate::model::types::{FieldType, Value};
use crate::objects::inner::ObjectInner;
use crate::options::WriteOptions;

use super::missing;

/// Text values accepted by StringSet methods: one string or a collection.
pub trait IntoStrings {
    /// The strings, in order.
    fn into_strings(self) -> Vec<String>;
}

impl IntoStrings for &str {
    fn into_strings(self) -> Vec<String> {
        vec![self.to_owned()]
    }
}

impl IntoStrings for String {
    fn into_strings(self) -> Vec<String> {
        vec![self]
    }
}

impl<T: Into<String>> IntoStrings for Vec<T> {
    fn into_strings(self) -> Vec<String> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<T: Into<String>, const N: usize> IntoStrings for [T; N] {
    fn into_strings(self) -> Vec<String> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<T: Into<String> + Clone> IntoStrings for &[T] {
    fn into_strings(self) -> Vec<String> {
        self.iter().cloned().map(Into::into).collect()
    }
}

/// Handle of a StringSet (`sys/tags`): `add`, `remove`, `clear`, `fetch`.
#[derive(Clone)]
pub struct StringSetHandle {
    obj: Arc<ObjectInner>,
    path: FieldPath,
}

impl StringSetHandle {
    pub(crate) fn bind(obj: Arc<ObjectInner>, path: FieldPath) -> Result<Self> {
        obj.schema().check(&path, FieldType::StringSet, "binding")?;
        if path.as_str() != sys::TAGS {
            return Err(Error::invalid(
                &path,
                "only sys/tags is a StringSet; use run.tags() to add tags",
            ));
        }
        Ok(StringSetHandle { obj, path })
    }

    /// `sys/tags`; its writes are checked like any other.
    pub(crate) fn tags(obj: Arc<ObjectInner>) -> Self {
        StringSetHandle {
            obj,
            path: sys::path(sys::TAGS),
        }
    }

    /// The field's path.
    pub fn path(&self) -> &FieldPath {
        &self.path
    }

    /// Adds one or more strings.
    pub fn add(&self, values: impl IntoStrings) -> Result<()> {
        self.add_with(values, WriteOptions::default())
    }

    /// Adds one or more strings, with the reference's `wait`.
    pub fn add_with(&self, values: impl IntoStrings, opts: WriteOptions) -> Result<()> {
        let op = Operation::AddStrings {
            path: self.path.clone(),
            values: values.into_strings(),
        };
        self.obj.write(vec![op], "add", opts.wait)
    }

    /// Removes one or more strings.
    pub fn remove(&self, values: impl IntoStrings) -> Result<()> {
        self.remove_with(values, WriteOptions::default())
    }

    /// Removes one or more strings, with the reference's `wait`.
    pub fn remove_with(&self, values: impl IntoStrings, opts: WriteOptions) -> Result<()> {
        let op = Operation::RemoveStrings {
            path: self.path.clone(),
            values: values.into_strings(),
        };
        self.obj.write(vec![op], "remove", opts.wait)
    }

    /// Removes every string.
    pub fn clear(&self) -> Result<()> {
        self.clear_with(WriteOptions::default())
    }

    /// Removes every string, with the reference's `wait`.
    pub fn clear_with(&self, opts: WriteOptions) -> Result<()> {
        let op = Operation::ClearStringSet {
            path: self.path.clone(),
        };
        self.obj.write(vec![op], "clear", opts.wait)
    }

    /// The strings of the set.
    pub fn fetch(&self) -> Result<BTreeSet<String>> {
        self.obj.flush_for_read()?;
        match self
            .obj
            .backend()
            .read()?
            .fetch_value(&self.obj.id, &self.path)?
        {
            Some(Value::StringSet(s)) => Ok(s),
            Some(other) => Err(Error::TypeMismatch {
                path: self.path.to_string(),
                existing: other.field_type().unwrap_or(FieldType::StringSet),
                wanted: FieldType::StringSet,
                attempted: "fetch",
            }),
            None => Err(missing(&self.obj, &self.path)),
        }
    }
}

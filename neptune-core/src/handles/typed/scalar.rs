//! Single-value handles: Float, Integer, Boolean, String and Datetime fields.

use std::marker::PhantomData;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Local, Utc};

use crate::error::{Error, Result};
use crate::model::operation::Operation;
use crate::model::path::FieldPath;
use crate::model::rules::MAX_STRING_LEN;
use crate::model::types::{FieldType, Value};
use crate::objects::inner::ObjectInner;
use crate::options::WriteOptions;

use super::missing;

/// A Rust type that a single-value field holds.
pub trait Scalar: Sized + Send + 'static {
    /// The field type.
    const TYPE: FieldType;
    #[doc(hidden)]
    fn into_op(self, obj: &ObjectInner, path: FieldPath) -> Operation;
    #[doc(hidden)]
    fn from_value(v: Value) -> Option<Self>;
}

impl Scalar for f64 {
    const TYPE: FieldType = FieldType::Float;
    fn into_op(self, _: &ObjectInner, path: FieldPath) -> Operation {
        Operation::AssignFloat { path, value: self }
    }
    fn from_value(v: Value) -> Option<Self> {
        v.as_f64()
    }
}

impl Scalar for i64 {
    const TYPE: FieldType = FieldType::Integer;
    fn into_op(self, _: &ObjectInner, path: FieldPath) -> Operation {
        Operation::AssignInt { path, value: self }
    }
    fn from_value(v: Value) -> Option<Self> {
        v.as_i64()
    }
}

impl Scalar for bool {
    const TYPE: FieldType = FieldType::Boolean;
    fn into_op(self, _: &ObjectInner, path: FieldPath) -> Operation {
        Operation::AssignBool { path, value: self }
    }
    fn from_value(v: Value) -> Option<Self> {
        v.as_bool()
    }
}

impl Scalar for String {
    const TYPE: FieldType = FieldType::String;
    fn into_op(self, obj: &ObjectInner, path: FieldPath) -> Operation {
        let value = obj.truncate(&path, self, MAX_STRING_LEN, "String values");
        Operation::AssignString { path, value }
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

/// Datetimes in any of chrono's time zones are stored as the same instant (millisecond
/// precision); they read back in their zone (`FixedOffset`: as UTC, +00:00).
macro_rules! datetime_scalar {
    ($($tz:ty => $back:expr),*) => {$(
        impl Scalar for DateTime<$tz> {
            const TYPE: FieldType = FieldType::Datetime;
            fn into_op(self, _: &ObjectInner, path: FieldPath) -> Operation {
                Operation::AssignDatetime {
                    path,
                    value_ms: self.timestamp_millis(),
                }
            }
            fn from_value(v: Value) -> Option<Self> {
                v.as_datetime().map($back)
            }
        }
    )*};
}
datetime_scalar!(
    Utc => |t| t,
    Local => |t: DateTime<Utc>| t.with_timezone(&Local),
    FixedOffset => |t: DateTime<Utc>| t.fixed_offset()
);

/// Handle of a single-value field: Float, Integer, Boolean, String or Datetime.
pub struct ScalarHandle<T> {
    obj: Arc<ObjectInner>,
    path: FieldPath,
    _t: PhantomData<fn() -> T>,
}

/// Handle of a Float field.
pub type FloatHandle = ScalarHandle<f64>;
/// Handle of an Integer field.
pub type IntegerHandle = ScalarHandle<i64>;
/// Handle of a Boolean field.
pub type BooleanHandle = ScalarHandle<bool>;
/// Handle of a String field.
pub type StringHandle = ScalarHandle<String>;
/// Handle of a Datetime field (millisecond precision).
pub type DatetimeHandle = ScalarHandle<DateTime<Utc>>;

impl<T> Clone for ScalarHandle<T> {
    fn clone(&self) -> Self {
        ScalarHandle {
            obj: self.obj.clone(),
            path: self.path.clone(),
            _t: PhantomData,
        }
    }
}

impl<T: Scalar> ScalarHandle<T> {
    pub(crate) fn bind(obj: Arc<ObjectInner>, path: FieldPath) -> Result<Self> {
        obj.schema().check(&path, T::TYPE, "binding")?;
        Ok(ScalarHandle {
            obj,
            path,
            _t: PhantomData,
        })
    }

    /// The field's path.
    pub fn path(&self) -> &FieldPath {
        &self.path
    }

    /// Sets the value.
    pub fn assign(&self, value: impl Into<T>) -> Result<()> {
        self.assign_with(value, WriteOptions::default())
    }

    /// Sets the value, with the reference's `wait`.
    pub fn assign_with(&self, value: impl Into<T>, opts: WriteOptions) -> Result<()> {
        let op = value.into().into_op(&self.obj, self.path.clone());
        self.obj.write(vec![op], "assign", opts.wait)
    }

    /// Reads the stored value.
    pub fn fetch(&self) -> Result<T> {
        self.obj.flush_for_read()?;
        let v = self
            .obj
            .backend()
            .read()?
            .fetch_value(&self.obj.id, &self.path)?
            .ok_or_else(|| missing(&self.obj, &self.path))?;
        let got = v.field_type();
        T::from_value(v).ok_or_else(|| Error::TypeMismatch {
            path: self.path.to_string(),
            existing: got.unwrap_or(T::TYPE),
            wanted: T::TYPE,
            attempted: "fetch",
        })
    }
}

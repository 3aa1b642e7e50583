//! Typed field handles: each has exactly the methods of its type in the reference.
//!
//! A typed handle is bound to one path once; its calls do no path parsing and no lookup.
//! Get one from an untyped [`Handler`](crate::Handler) (`run.field("x").float_series()?`) or
//! from `#[derive(Loggable)]`.

mod scalar;
mod series;
mod string_set;

pub use scalar::{
    BooleanHandle, DatetimeHandle, FloatHandle, IntegerHandle, Scalar, ScalarHandle, StringHandle,
};
pub(crate) use series::{fetch_series, next_step, timestamp_ms};
pub use series::{FloatSeriesHandle, SeriesHandle, SeriesValue, StringSeriesHandle};
pub use string_set::{IntoStrings, StringSetHandle};

use crate::error::Error;
use crate::model::path::FieldPath;
use crate::objects::inner::ObjectInner;

pub(crate) fn missing(obj: &ObjectInner, path: &FieldPath) -> Error {
    Error::MissingField {
        object: obj.id.clone(),
        path: path.to_string(),
    }
}

//! What the writing calls take: [`IntoSeriesValue`] for `append`/`extend` on a typed series
//! handle, and [`IntoValue`] for the untyped [`Handler::assign`](crate::Handler::assign).
//! Both say, when a value does not fit, what the field takes, in the field types' words.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, Local, Utc};

use crate::handles::loggable::{FloatSeries, StringSeries};
use crate::model::types::Value;

/// The value type of a series marker ([`FloatSeries`]: `f64`, [`StringSeries`]: `String`).
#[doc(hidden)]
pub trait SeriesMarker {
    type Value;
}

impl SeriesMarker for FloatSeries {
    type Value = f64;
}

impl SeriesMarker for StringSeries {
    type Value = String;
}

/// A value that `append` and `extend` take for a series of type `S`: numbers for a
/// [`FloatSeries`] (`f64`, `f32` and the integer types), text for a [`StringSeries`]
/// (`&str`, `String`, `char`, …).
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// let run = neptune_core::Run::builder().mode(neptune_core::Mode::Debug).open()?;
/// let loss = run.field("train/loss").float_series()?;
/// loss.append(0.5)?;
/// loss.append(1_u64)?;
/// run.field("train/log").string_series()?.append("epoch 1")?;
/// # Ok(()) }
/// ```
///
/// ```compile_fail
/// # fn main() -> neptune_core::Result<()> {
/// let run = neptune_core::Run::builder().mode(neptune_core::Mode::Debug).open()?;
/// run.field("train/loss").float_series()?.append("text")?; // a FloatSeries holds numbers
/// # Ok(()) }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be appended to a {S}",
    label = "not a value of a {S}",
    note = "a FloatSeries takes numbers (f64, f32 or an integer type) and a StringSeries takes \
            text (&str, String, char); convert the value, or log it in a field of its own type"
)]
pub trait IntoSeriesValue<S: SeriesMarker> {
    /// The value as the series stores it.
    fn into_series_value(self) -> S::Value;
}

macro_rules! float_input {
    ($($t:ty),*) => {$(
        impl IntoSeriesValue<FloatSeries> for $t {
            #[inline]
            fn into_series_value(self) -> f64 {
                self as f64
            }
        }
    )*};
}
float_input!(f64, f32, i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

macro_rules! string_input {
    ($($t:ty),*) => {$(
        impl IntoSeriesValue<StringSeries> for $t {
            fn into_series_value(self) -> String {
                String::from(self)
            }
        }
    )*};
}
string_input!(
    String,
    &str,
    &String,
    &mut str,
    Box<str>,
    Cow<'_, str>,
    char
);

/// A value that [`Handler::assign`](crate::Handler::assign) takes: whatever converts into a
/// [`Value`] (numbers, `bool`, text, datetimes, maps of them), and the integers beyond `i64`
/// (`u64`, `usize`, `u128`, `i128`, `isize`), which are stored as an Integer when they fit
/// and are an `Err` naming the path and the value when they do not.
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// let run = neptune_core::Run::builder().mode(neptune_core::Mode::Debug).open()?;
/// let batch_size: usize = 64;
/// run.field("params/batch_size").assign(batch_size)?;
/// assert_eq!(run.field("params/batch_size").fetch()?.as_i64(), Some(64));
/// assert!(run.field("params/seed").assign(u64::MAX).is_err()); // beyond i64
/// # Ok(()) }
/// ```
pub trait IntoValue {
    /// The value, or why it cannot be stored.
    fn into_value(self) -> std::result::Result<Value, String>;
}

impl<T: Into<Value>> IntoValue for T {
    fn into_value(self) -> std::result::Result<Value, String> {
        Ok(self.into())
    }
}

macro_rules! wide_integer {
    ($($t:ty),*) => {$(
        impl IntoValue for $t {
            #[allow(clippy::unnecessary_fallible_conversions)]
            fn into_value(self) -> std::result::Result<Value, String> {
                i64::try_from(self).map(Value::Integer).map_err(|_| {
                    format!(
                        "{self} ({}) is outside the Integer range ({} to {}); nothing was \
                         written. Assign it as a String (value.to_string()) or a Float",
                        stringify!($t),
                        i64::MIN,
                        i64::MAX
                    )
                })
            }
        }
    )*};
}
wide_integer!(u64, usize, u128, i128, isize);

impl From<DateTime<Local>> for Value {
    fn from(t: DateTime<Local>) -> Self {
        Value::Datetime(t.with_timezone(&Utc))
    }
}

impl From<DateTime<FixedOffset>> for Value {
    fn from(t: DateTime<FixedOffset>) -> Self {
        Value::Datetime(t.with_timezone(&Utc))
    }
}

//! What `append` and `assign` take ([`Appendable`], conversions into [`Value`]), and what
//! `fetch_values` returns ([`FetchedSeries`]).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::model::types::Value;
use crate::model::values::SeriesValues;

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

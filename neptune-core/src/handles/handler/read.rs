//! The handler's reads: a value (or a namespace's values), a series' last value and points.

use super::{FetchedSeries, Handler};
use crate::error::{Error, Result};
use crate::handles::typed::{fetch_series, missing};
use crate::model::types::{FieldType, Value};
use crate::options::FetchOptions;

impl Handler {
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
                    .read()?
                    .fetch_value(&self.obj.id, path)?
                    .ok_or_else(|| missing(&self.obj, path))
            }
            None if is_ns => self.obj.fetch_namespace(Some(path)),
            None => {
                // Another process may have written it: ask the store.
                self.obj.flush_for_read()?;
                match self.obj.backend().read()?.fetch_value(&self.obj.id, path)? {
                    Some(v) => Ok(v),
                    None => Err(missing(&self.obj, path)),
                }
            }
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
}

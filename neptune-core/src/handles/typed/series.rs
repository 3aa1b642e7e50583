//! FloatSeries and StringSeries handles, and the step and timestamp checks of their points.

use std::sync::Arc;

use crate::engine::queue::SeriesBuffer;
use crate::error::{Error, Result};
use crate::model::inputs::{IntoSeriesValue, SeriesMarker};
use crate::model::operation::{FloatPoint, Operation, StringPoint};
use crate::model::path::FieldPath;
use crate::model::rules::clock::now_ms_fast;
use crate::model::rules::{self, steps, MAX_SERIES_STRING_LEN, SERIES_PAGE};
use crate::model::types::{FieldType, Value};
use crate::model::values::SeriesValues;
use crate::objects::inner::{ObjectInner, SeriesKind};
use crate::options::{ExtendOptions, FetchOptions, LogOptions, Progress};

use super::missing;

/// A Rust type that a series holds: `f64` (FloatSeries) or `String` (StringSeries).
pub trait SeriesValue: Sized + Send + 'static {
    /// The series type.
    const TYPE: FieldType;
    /// The marker type of the series ([`FloatSeries`](crate::FloatSeries) for `f64`), which
    /// names it in [`IntoSeriesValue`]'s messages.
    #[doc(hidden)]
    type Kind: SeriesMarker<Value = Self>;
    #[doc(hidden)]
    type Point: SeriesKind;
    #[doc(hidden)]
    fn point(
        obj: &ObjectInner,
        path: &FieldPath,
        step: Option<f64>,
        value: Self,
        timestamp_ms: i64,
    ) -> Self::Point;
    #[doc(hidden)]
    fn fetch_page(
        obj: &ObjectInner,
        path: &FieldPath,
        after: Option<f64>,
        limit: usize,
    ) -> Result<crate::backend::SeriesPage<Self>>;
    #[doc(hidden)]
    fn from_value(v: Value) -> Option<Self>;
}

impl SeriesValue for f64 {
    const TYPE: FieldType = FieldType::FloatSeries;
    type Kind = crate::handles::loggable::FloatSeries;
    type Point = FloatPoint;
    #[inline]
    fn point(
        _: &ObjectInner,
        _: &FieldPath,
        step: Option<f64>,
        value: f64,
        timestamp_ms: i64,
    ) -> FloatPoint {
        FloatPoint {
            step,
            value,
            timestamp_ms,
        }
    }
    fn fetch_page(
        obj: &ObjectInner,
        path: &FieldPath,
        after: Option<f64>,
        limit: usize,
    ) -> Result<crate::backend::SeriesPage<f64>> {
        obj.backend()
            .read()?
            .fetch_float_points(&obj.id, path, after, limit)
    }
    fn from_value(v: Value) -> Option<Self> {
        v.as_f64()
    }
}

impl SeriesValue for String {
    const TYPE: FieldType = FieldType::StringSeries;
    type Kind = crate::handles::loggable::StringSeries;
    type Point = StringPoint;
    fn point(
        obj: &ObjectInner,
        path: &FieldPath,
        step: Option<f64>,
        value: String,
        timestamp_ms: i64,
    ) -> StringPoint {
        let value = obj.truncate(path, value, MAX_SERIES_STRING_LEN, "StringSeries entries");
        StringPoint {
            step,
            value,
            timestamp_ms,
        }
    }
    fn fetch_page(
        obj: &ObjectInner,
        path: &FieldPath,
        after: Option<f64>,
        limit: usize,
    ) -> Result<crate::backend::SeriesPage<String>> {
        obj.backend()
            .read()?
            .fetch_string_points(&obj.id, path, after, limit)
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

/// Handle of a FloatSeries or StringSeries.
pub struct SeriesHandle<V: SeriesValue> {
    obj: Arc<ObjectInner>,
    buf: Arc<SeriesBuffer<V::Point>>,
}

/// Handle of a FloatSeries: `append`, `extend`, `fetch_last`, `fetch_values`.
pub type FloatSeriesHandle = SeriesHandle<f64>;
/// Handle of a StringSeries: `append`, `extend`, `fetch_last`, `fetch_values`.
pub type StringSeriesHandle = SeriesHandle<String>;

impl<V: SeriesValue> Clone for SeriesHandle<V> {
    fn clone(&self) -> Self {
        SeriesHandle {
            obj: self.obj.clone(),
            buf: self.buf.clone(),
        }
    }
}

/// Checks a step the caller gave against the writer's last step; returns the writer's new last
/// step (for a step not given: the last one + 1, or 0, which the store may raise when other
/// writers append to the series too).
pub(crate) fn next_step(path: &FieldPath, last: Option<f64>, given: Option<f64>) -> Result<f64> {
    steps::next_step(last, given).map_err(|bad| bad.into_error(path))
}

/// A timestamp given in Unix seconds as Unix milliseconds; `Err` naming the path when it is
/// not finite or is outside the dates a Datetime holds (years -262143 to 262142), which would
/// otherwise read back as another time.
pub(crate) fn timestamp_ms(path: &FieldPath, unix_seconds: f64) -> Result<i64> {
    if let Some(ms) = rules::timestamp_ms(unix_seconds) {
        Ok(ms)
    } else {
        Err(Error::invalid(
            path,
            format!(
                "timestamp {unix_seconds} is not a Unix time in seconds between the years \
                 -262143 and 262142 (e.g. 1717171717.5); nothing was written"
            ),
        ))
    }
}

impl<V: SeriesValue> SeriesHandle<V> {
    pub(crate) fn bind(obj: Arc<ObjectInner>, path: &FieldPath) -> Result<Self> {
        let buf = obj.series::<V::Point>(path, "append")?;
        Ok(SeriesHandle { obj, buf })
    }

    /// The field's path.
    pub fn path(&self) -> &FieldPath {
        &self.buf.path
    }

    /// Appends a value at the next step (the series' last step + 1, or 0), timestamped now.
    /// The store assigns that step when it writes the point, so points that several writers
    /// (threads, objects, processes) append to one series are all kept.
    #[inline]
    pub fn append(&self, value: impl IntoSeriesValue<V::Kind>) -> Result<()> {
        self.push(value.into_series_value(), None, None, false)
    }

    /// Appends a value with the reference's `step`, `timestamp` and `wait`.
    pub fn append_with(
        &self,
        value: impl IntoSeriesValue<V::Kind>,
        opts: LogOptions,
    ) -> Result<()> {
        self.push(
            value.into_series_value(),
            opts.step,
            opts.timestamp,
            opts.wait,
        )
    }

    #[inline]
    fn push(&self, value: V, step: Option<f64>, ts: Option<f64>, wait: bool) -> Result<()> {
        let obj = &*self.obj;
        let path = &self.buf.path;
        if obj.is_closed() {
            obj.check_writable(path)?;
        }
        let ts = match ts {
            None => now_ms_fast(),
            Some(t) => timestamp_ms(path, t)?,
        };
        let mut g = self.buf.lock();
        if !g.registered {
            drop(g);
            obj.register_series(path, V::TYPE, "append")?;
            g = self.buf.lock();
            g.registered = true;
        }
        g.last_step = Some(next_step(path, g.last_step, step)?);
        g.points.push(V::point(obj, path, step, value, ts));
        drop(self.buf.after_push(g, &obj.shared.queue));
        obj.after_write(wait)
    }

    /// Appends several values; all share the time of the call.
    pub fn extend<I: IntoIterator<Item = T>, T: IntoSeriesValue<V::Kind>>(
        &self,
        values: I,
    ) -> Result<()> {
        self.extend_with(values, ExtendOptions::default())
    }

    /// Appends several values with the reference's `steps`, `timestamps` and `wait`.
    /// Checked whole before anything is written: on `Err` nothing was appended.
    pub fn extend_with<I: IntoIterator<Item = T>, T: IntoSeriesValue<V::Kind>>(
        &self,
        values: I,
        opts: ExtendOptions,
    ) -> Result<()> {
        let obj = &*self.obj;
        let path = &self.buf.path;
        obj.check_writable(path)?;
        let values: Vec<V> = values
            .into_iter()
            .map(IntoSeriesValue::into_series_value)
            .collect();
        let check_len = |what, got: Option<usize>| match got {
            Some(got) if got != values.len() => Err(Error::LengthMismatch {
                path: path.to_string(),
                what,
                got,
                values: values.len(),
            }),
            _ => Ok(()),
        };
        check_len("steps", opts.steps.as_ref().map(Vec::len))?;
        check_len("timestamps", opts.timestamps.as_ref().map(Vec::len))?;
        let now = now_ms_fast();
        let stamps: Vec<i64> = match &opts.timestamps {
            Some(ts) => ts
                .iter()
                .map(|t| timestamp_ms(path, *t))
                .collect::<Result<_>>()?,
            None => vec![now; values.len()],
        };
        let mut g = self.buf.lock();
        if !g.registered {
            drop(g);
            obj.register_series(path, V::TYPE, "extend")?;
            g = self.buf.lock();
            g.registered = true;
        }
        let given = |i: usize| opts.steps.as_ref().map(|s| s[i]);
        let mut last = g.last_step;
        for i in 0..values.len() {
            last = Some(next_step(path, last, given(i))?);
        }
        g.last_step = last;
        for (i, (v, t)) in values.into_iter().zip(stamps).enumerate() {
            g.points.push(V::point(obj, path, given(i), v, t));
        }
        drop(self.buf.after_push(g, &obj.shared.queue));
        obj.after_write(opts.wait)
    }

    /// The last value of the series.
    pub fn fetch_last(&self) -> Result<V> {
        self.obj.flush_for_read()?;
        let info = self
            .obj
            .backend()
            .read()?
            .fetch_series_info(&self.obj.id, self.path())?
            .ok_or_else(|| missing(&self.obj, self.path()))?;
        info.last
            .and_then(V::from_value)
            .ok_or_else(|| Error::invalid(self.path(), "the series has no values yet"))
    }

    /// Every point, with timestamps, in step order.
    pub fn fetch_values(&self) -> Result<SeriesValues<V>> {
        self.fetch_values_with(FetchOptions::default())
    }

    /// Every point, with the reference's `include_timestamp` and `progress_bar`.
    pub fn fetch_values_with(&self, opts: FetchOptions) -> Result<SeriesValues<V>> {
        self.obj.flush_for_read()?;
        fetch_series::<V>(&self.obj, self.path(), &opts)
    }

    /// Empties the series (the field stays; steps may start again).
    pub fn clear(&self) -> Result<()> {
        let op = match V::TYPE {
            FieldType::StringSeries => Operation::ClearStringLog {
                path: self.path().clone(),
            },
            _ => Operation::ClearFloatLog {
                path: self.path().clone(),
            },
        };
        self.obj.write(vec![op], "clear", false)?;
        self.buf.lock().last_step = None;
        Ok(())
    }
}

pub(crate) fn fetch_series<V: SeriesValue>(
    obj: &ObjectInner,
    path: &FieldPath,
    opts: &FetchOptions,
) -> Result<SeriesValues<V>> {
    let info = obj
        .backend()
        .read()?
        .fetch_series_info(&obj.id, path)?
        .ok_or_else(|| missing(obj, path))?;
    if info.field_type != V::TYPE {
        return Err(Error::TypeMismatch {
            path: path.to_string(),
            existing: info.field_type,
            wanted: V::TYPE,
            attempted: "fetch_values",
        });
    }
    let progress = Progress::start(&opts.progress, info.count, 1_000_000, path.as_str());
    let mut all = crate::backend::SeriesPage {
        steps: Vec::new(),
        values: Vec::new(),
        timestamps: Vec::new(),
    };
    let mut after = None;
    loop {
        let page = V::fetch_page(obj, path, after, SERIES_PAGE)?;
        let n = page.len();
        after = page.steps.last().copied().or(after);
        all.append(page);
        progress.set(all.len() as u64);
        if n < SERIES_PAGE {
            break;
        }
    }
    progress.finish();
    Ok(SeriesValues::from_page(all, opts.include_timestamp))
}

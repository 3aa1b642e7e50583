//! Fetched series as columns (step, value, timestamp), iterable and writable as CSV.

use std::io::{self, Write};

use chrono::{DateTime, Utc};

use crate::backend::SeriesPage;

/// The points of a series, in step order, as columns.
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// let run = neptune_core::Run::builder().mode(neptune_core::Mode::Debug).open()?;
/// let loss = run.field("train/loss").float_series()?;
/// loss.extend([0.9, 0.5, 0.25])?;
/// let values = loss.fetch_values()?;
/// assert_eq!(values.values(), &[0.9, 0.5, 0.25]);
/// assert_eq!(values.steps(), &[0.0, 1.0, 2.0]);
/// let csv = values.to_csv();
/// assert!(csv.starts_with("step,value,timestamp\n0,0.9,"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesValues<T> {
    steps: Vec<f64>,
    values: Vec<T>,
    timestamps: Option<Vec<i64>>,
}

/// One point of fetched series values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entry<'a, T> {
    /// The entry's step.
    pub step: f64,
    /// The entry's value.
    pub value: &'a T,
    /// `None` when fetched without timestamps.
    pub timestamp: Option<DateTime<Utc>>,
}

pub(crate) fn datetime_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl<T> SeriesValues<T> {
    pub(crate) fn from_page(page: SeriesPage<T>, include_timestamp: bool) -> Self {
        SeriesValues {
            steps: page.steps,
            values: page.values,
            timestamps: include_timestamp.then_some(page.timestamps),
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether there is no point.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The step column.
    pub fn steps(&self) -> &[f64] {
        &self.steps
    }

    /// The value column.
    pub fn values(&self) -> &[T] {
        &self.values
    }

    /// The timestamp column in Unix milliseconds, when fetched with timestamps.
    pub fn timestamps_ms(&self) -> Option<&[i64]> {
        self.timestamps.as_deref()
    }

    /// The timestamp column, when fetched with timestamps.
    pub fn timestamps(&self) -> Option<Vec<DateTime<Utc>>> {
        self.timestamps
            .as_ref()
            .map(|t| t.iter().copied().map(datetime_ms).collect())
    }

    /// The points, in step order.
    pub fn iter(&self) -> impl Iterator<Item = Entry<'_, T>> {
        self.steps
            .iter()
            .zip(&self.values)
            .enumerate()
            .map(|(i, (s, v))| Entry {
                step: *s,
                value: v,
                timestamp: self.timestamps.as_ref().map(|t| datetime_ms(t[i])),
            })
    }

    /// The last point.
    pub fn last(&self) -> Option<Entry<'_, T>> {
        self.iter().last()
    }

    /// Splits into (steps, values, timestamps in Unix ms).
    pub fn into_columns(self) -> (Vec<f64>, Vec<T>, Option<Vec<i64>>) {
        (self.steps, self.values, self.timestamps)
    }
}

/// How a value is written in a CSV cell.
pub trait CsvCell {
    /// Writes the value as one CSV cell.
    fn write_cell(&self, w: &mut dyn Write) -> io::Result<()>;
}

impl CsvCell for f64 {
    fn write_cell(&self, w: &mut dyn Write) -> io::Result<()> {
        write!(w, "{self}")
    }
}

impl CsvCell for String {
    fn write_cell(&self, w: &mut dyn Write) -> io::Result<()> {
        if self.contains([',', '"', '\n', '\r']) {
            write!(w, "\"{}\"", self.replace('"', "\"\""))
        } else {
            w.write_all(self.as_bytes())
        }
    }
}

impl<T: CsvCell> SeriesValues<T> {
    /// Writes `step,value[,timestamp]` rows with a header; timestamps in RFC 3339 (ms).
    pub fn write_csv<W: Write>(&self, mut w: W) -> io::Result<()> {
        let with_ts = self.timestamps.is_some();
        w.write_all(if with_ts {
            b"step,value,timestamp\n"
        } else {
            b"step,value\n"
        })?;
        for e in self.iter() {
            write!(w, "{},", e.step)?;
            e.value.write_cell(&mut w)?;
            if let Some(ts) = e.timestamp {
                write!(
                    w,
                    ",{}",
                    ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                )?;
            }
            w.write_all(b"\n")?;
        }
        w.flush()
    }

    /// The CSV text of [`write_csv`](Self::write_csv).
    pub fn to_csv(&self) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_csv(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(feature = "polars")]
mod frame {
    use super::SeriesValues;
    use polars::prelude::*;

    impl SeriesValues<f64> {
        /// A DataFrame with columns step, value and (when fetched) timestamp (ms).
        pub fn to_dataframe(&self) -> PolarsResult<DataFrame> {
            let mut cols = vec![
                Column::new("step".into(), self.steps.clone()),
                Column::new("value".into(), self.values.clone()),
            ];
            if let Some(ts) = &self.timestamps {
                cols.push(Column::new("timestamp".into(), ts.clone()));
            }
            DataFrame::new(self.steps.len(), cols)
        }
    }

    impl SeriesValues<String> {
        /// A DataFrame with columns step, value and (when fetched) timestamp (ms).
        pub fn to_dataframe(&self) -> PolarsResult<DataFrame> {
            let mut cols = vec![
                Column::new("step".into(), self.steps.clone()),
                Column::new("value".into(), self.values.clone()),
            ];
            if let Some(ts) = &self.timestamps {
                cols.push(Column::new("timestamp".into(), ts.clone()));
            }
            DataFrame::new(self.steps.len(), cols)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::SeriesValues;

        #[test]
        fn series_as_dataframes() {
            let floats = SeriesValues {
                steps: vec![0.0, 1.5],
                values: vec![0.25, -1.0],
                timestamps: Some(vec![10, 20]),
            };
            let df = floats.to_dataframe().unwrap();
            assert_eq!(df.shape(), (2, 3));
            let v = df.column("value").unwrap().f64().unwrap();
            assert_eq!((v.get(0), v.get(1)), (Some(0.25), Some(-1.0)));
            let step = df.column("step").unwrap().f64().unwrap();
            assert_eq!(step.get(1), Some(1.5));
            assert_eq!(
                df.column("timestamp").unwrap().i64().unwrap().get(1),
                Some(20)
            );
            let strings = SeriesValues {
                steps: vec![3.0],
                values: vec!["epoch 3".to_owned()],
                timestamps: None,
            };
            let df = strings.to_dataframe().unwrap();
            assert_eq!(df.get_column_names(), ["step", "value"]);
            assert_eq!(
                df.column("value").unwrap().str().unwrap().get(0),
                Some("epoch 3")
            );
        }
    }
}

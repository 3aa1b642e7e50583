//! Downsampled reads of FloatSeries, for charts.
//!
//! A chart `width` pixels wide cannot show more than a few points per pixel, so a series is cut
//! into `width` buckets of equal x range and each bucket sends at most four points: its first,
//! its lowest, its highest and its last (M4). The line drawn through them looks the same as the
//! line through every point: no peak or dip is lost, and a million points travel as a few
//! thousand. When the range holds at most [`EXACT_FACTOR`] × `width` points they are sent as
//! they are (a zoomed-in chart shows every point).
//!
//! With x = step, only the chunks whose step range meets the requested range are read and
//! decoded (the index on `(field_id, last_step)`). With x = wall time every chunk is listed (wall
//! times are not indexed), but a wide range reads the chunks' cached block summaries by wall
//! time as the step axis does, when the series' wall times never go backwards; otherwise every
//! chunk is decoded and its points sorted by time.

use super::sql::{params, Tx, Val};
use serde::{Deserialize, Serialize};

use std::sync::Arc;

use super::codec;
use super::fields::{self, find_field};
use super::m4;
use super::{corrupt, Store, R};
use crate::error::{Error, Result};
use crate::model::path::FieldPath;
use crate::model::types::FieldType;

/// Up to this many points per pixel are sent exactly rather than bucketed.
pub const EXACT_FACTOR: usize = 2;

/// Widest chart a request may ask for, in buckets.
pub const MAX_WIDTH: usize = 8192;

/// What the x of a chart is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum XAxis {
    /// The step of each point.
    #[default]
    Step,
    /// The wall time of each point, in Unix milliseconds.
    Time,
}

/// A downsampling request: the x axis, an optional x range (inclusive) and the number of
/// buckets (the chart's width in pixels).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DownsampleQuery {
    /// Step (default) or wall time.
    #[serde(default)]
    pub x: XAxis,
    /// The lowest x to include (none: from the first point).
    #[serde(default)]
    pub from: Option<f64>,
    /// The highest x to include (none: to the last point).
    #[serde(default)]
    pub to: Option<f64>,
    /// Buckets: the chart's width in pixels, 1 to [`MAX_WIDTH`].
    pub width: usize,
}

/// One downsampled series: x (step or Unix ms) and value columns, in x order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Downsampled {
    /// The x of each point returned (step, or Unix ms).
    pub x: Vec<f64>,
    /// The values; NaN and ±Inf are sent as they are stored (JSON `null` for NaN).
    pub y: Vec<f64>,
    /// Points of the series inside the range (before downsampling).
    pub points: u64,
    /// Whether `x`/`y` are every point of the range.
    pub exact: bool,
    /// Whether the series exists (an object without this field gives an empty series).
    pub found: bool,
}

impl Store {
    /// Downsamples many FloatSeries at once (e.g. the runs × metrics of a compare view), in
    /// one consistent read. `series` holds (object id, path) pairs; a missing object is an
    /// error, a missing field an empty series with `found: false`.
    ///
    /// ```
    /// # fn main() -> neptune_core::Result<()> {
    /// use neptune_core::store::{DownsampleQuery, Store, XAxis};
    /// let dir = tempfile::tempdir().unwrap();
    /// let run = neptune_core::Run::builder().home(dir.path()).project("team/nli").open()?;
    /// let loss = run.field("loss");
    /// for i in 0..10_000 {
    ///     loss.append(((i % 100) as f64).sin())?;
    /// }
    /// let id = run.id().to_owned();
    /// run.stop()?;
    /// let store = Store::open(dir.path())?;
    /// let q = DownsampleQuery { x: XAxis::Step, from: None, to: None, width: 100 };
    /// let got = store.downsample(&[(id, neptune_core::FieldPath::parse("loss")?)], &q)?;
    /// assert!(got[0].x.len() <= 400 && got[0].points == 10_000);
    /// # Ok(()) }
    /// ```
    pub fn downsample(
        &self,
        series: &[(String, FieldPath)],
        q: &DownsampleQuery,
    ) -> Result<Vec<Downsampled>> {
        check(q)?;
        self.read(|tx| {
            let mut buf = Buffers::default();
            series
                .iter()
                .map(|(object, path)| one(tx, &self.summaries, object, path, q, &mut buf))
                .collect()
        })
    }
}

fn check(q: &DownsampleQuery) -> Result<()> {
    if q.width == 0 || q.width > MAX_WIDTH {
        return Err(Error::Config(format!(
            "a downsampling width of {} buckets: use 1 to {MAX_WIDTH}",
            q.width
        )));
    }
    for (name, v) in [("from", q.from), ("to", q.to)] {
        if v.is_some_and(|v| !v.is_finite()) {
            return Err(Error::Config(format!(
                "the downsampling bound `{name}` must be a finite number"
            )));
        }
    }
    Ok(())
}

#[derive(Default)]
struct Buffers {
    steps: Vec<f64>,
    values: Vec<f64>,
    stamps: Vec<i64>,
    x: Vec<f64>,
    y: Vec<f64>,
}

fn one(
    c: &Tx<'_>,
    summaries: &m4::Summaries,
    object: &str,
    path: &FieldPath,
    q: &DownsampleQuery,
    b: &mut Buffers,
) -> R<Downsampled> {
    let obj = fields::object(c, object)?;
    let Some(f) = find_field(c, obj.id, path.as_str())? else {
        return Ok(Downsampled::default());
    };
    if f.ftype != FieldType::FloatSeries {
        return Err(super::Fail::Core(Error::invalid(
            path,
            format!(
                "the field is a {}, not a FloatSeries: only FloatSeries can be charted",
                f.ftype
            ),
        )));
    }
    let lo = q.from.unwrap_or(f64::NEG_INFINITY);
    let hi = q.to.unwrap_or(f64::INFINITY);
    b.x.clear();
    b.y.clear();
    if lo > hi {
        return Ok(Downsampled {
            found: true,
            exact: true,
            ..Downsampled::default()
        });
    }
    // Chunks are listed in step order; with x = time, all of them (timestamps are not indexed).
    let (slo, shi) = match q.x {
        XAxis::Step => (lo, hi),
        XAxis::Time => (f64::NEG_INFINITY, f64::INFINITY),
    };
    let chunks: Vec<(i64, i64, f64, f64)> = c
        .prepare_cached(
            "SELECT id, n, first_step, last_step FROM float_chunks WHERE field_id = ?1 \
             AND last_step >= ?2 AND first_step <= ?3 ORDER BY last_step",
        )?
        .query_map(params![f.id, slo, shi], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let estimate: i64 = chunks.iter().map(|c| c.1).sum();
    let per_bucket = estimate as f64 / q.width as f64;
    if q.x == XAxis::Step && per_bucket >= (4 * m4::BLOCK) as f64 {
        return by_blocks(c, summaries, &chunks, lo, hi, q.width, b);
    }
    if q.x == XAxis::Time && per_bucket >= (4 * m4::BLOCK) as f64 {
        if let Some(d) = by_time(c, summaries, &chunks, lo, hi, q.width, b)? {
            return Ok(d);
        }
    }
    for &(id, n, _, _) in &chunks {
        decode_chunk(c, id, n, b)?;
        match q.x {
            XAxis::Step => {
                let start = b.steps.partition_point(|s| *s < lo);
                let end = b.steps.partition_point(|s| *s <= hi);
                b.x.extend_from_slice(&b.steps[start..end]);
                b.y.extend_from_slice(&b.values[start..end]);
            }
            XAxis::Time => {
                for (t, v) in b.stamps.iter().zip(&b.values) {
                    let t = *t as f64;
                    if t >= lo && t <= hi {
                        b.x.push(t);
                        b.y.push(*v);
                    }
                }
            }
        }
    }
    if q.x == XAxis::Time {
        sort_by_x(&mut b.x, &mut b.y);
    }
    let points = b.x.len() as u64;
    if b.x.len() <= q.width * EXACT_FACTOR {
        return Ok(Downsampled {
            x: b.x.clone(),
            y: b.y.clone(),
            points,
            exact: true,
            found: true,
        });
    }
    let (x, y) = m4_of(&b.x, &b.y, q.width);
    Ok(Downsampled {
        x,
        y,
        points,
        exact: false,
        found: true,
    })
}

/// Decodes chunk `id` (of `n` points) into `b.steps`, `b.values` and `b.stamps`.
fn decode_chunk(c: &Tx<'_>, id: i64, n: i64, b: &mut Buffers) -> R<()> {
    let count = usize::try_from(n)
        .ok()
        .filter(|n| *n <= super::chunk::CHUNK_POINTS * 16)
        .ok_or_else(|| corrupt(format!("float chunk with {n} points")))?;
    let mut stmt = c.prepare_cached("SELECT data FROM float_chunks WHERE id = ?1")?;
    let mut rows = stmt.query([id])?;
    let row = rows
        .next()?
        .ok_or_else(|| corrupt("a float chunk vanished during a read"))?;
    let data = match row.get_ref(0)? {
        Val::Blob(d) => d,
        _ => return Err(corrupt("float chunk is not a blob")),
    };
    let data = &data[..];
    b.steps.clear();
    b.values.clear();
    b.stamps.clear();
    codec::decode(data, count, &mut b.steps, &mut b.values, &mut b.stamps).ok_or_else(|| {
        corrupt(format!(
            "float chunk of {} bytes does not hold {count} points",
            data.len()
        ))
    })
}

/// M4 by step over many points a bucket: chunks wholly inside the range through their cached
/// block summaries, the (at most two) chunks at its ends point by point.
fn by_blocks(
    c: &Tx<'_>,
    summaries: &m4::Summaries,
    chunks: &[(i64, i64, f64, f64)],
    lo: f64,
    hi: f64,
    width: usize,
    b: &mut Buffers,
) -> R<Downsampled> {
    let (Some(first), Some(last)) = (chunks.first(), chunks.last()) else {
        return Ok(Downsampled::default());
    };
    let mut acc = m4::M4::new(first.2.max(lo), last.3.min(hi), width);
    let mut points = 0u64;
    for &(id, n, f, l) in chunks {
        if f >= lo && l <= hi {
            let summary = summary_of(c, summaries, id, n, b)?;
            m4::feed(&mut acc, &summary.by_step);
            points += n as u64;
        } else {
            decode_chunk(c, id, n, b)?;
            for (s, v) in b.steps.iter().zip(&b.values) {
                if *s >= lo && *s <= hi {
                    acc.push(*s, *v);
                    points += 1;
                }
            }
        }
    }
    let (x, y) = acc.finish();
    Ok(Downsampled {
        x,
        y,
        points,
        exact: false,
        found: true,
    })
}

/// The cached summary of chunk `id` (of `n` points), made when missing.
fn summary_of(
    c: &Tx<'_>,
    summaries: &m4::Summaries,
    id: i64,
    n: i64,
    b: &mut Buffers,
) -> R<Arc<m4::ChunkSummary>> {
    if let Some(s) = summaries.get(id, n) {
        return Ok(s);
    }
    decode_chunk(c, id, n, b)?;
    let s = Arc::new(m4::ChunkSummary::new(&b.steps, &b.values, &b.stamps));
    summaries.put(id, n, s.clone());
    Ok(s)
}

/// Downsampling by wall time from the chunks' cached summaries, for a series with many points:
/// chunks outside the range are skipped, chunks inside it feed their block points by wall time
/// (as [`by_blocks`] by step), and a narrow range is answered from its few chunks' points.
/// `None` when some wall time goes backwards (inside a chunk or from one chunk to the next),
/// where only a sort of every point gives the order.
fn by_time(
    c: &Tx<'_>,
    summaries: &m4::Summaries,
    chunks: &[(i64, i64, f64, f64)],
    lo: f64,
    hi: f64,
    width: usize,
    b: &mut Buffers,
) -> R<Option<Downsampled>> {
    let mut meet = Vec::with_capacity(chunks.len());
    let mut prev_last = f64::NEG_INFINITY;
    for &(id, n, _, _) in chunks {
        let s = summary_of(c, summaries, id, n, b)?;
        if s.by_time.is_none() || s.time_range.0 < prev_last {
            return Ok(None);
        }
        prev_last = s.time_range.1;
        if s.time_range.1 >= lo && s.time_range.0 <= hi {
            meet.push((id, n, s));
        }
    }
    let (Some(first), Some(last)) = (meet.first(), meet.last()) else {
        return Ok(Some(Downsampled {
            found: true,
            exact: true,
            ..Downsampled::default()
        }));
    };
    let estimate: i64 = meet.iter().map(|m| m.1).sum();
    let blocks = estimate as f64 / width as f64 >= (4 * m4::BLOCK) as f64;
    let mut acc = m4::M4::new(
        first.2.time_range.0.max(lo),
        last.2.time_range.1.min(hi),
        width,
    );
    let mut points = 0u64;
    b.x.clear();
    b.y.clear();
    for (id, n, s) in &meet {
        match &s.by_time {
            Some(summary) if blocks && s.time_range.0 >= lo && s.time_range.1 <= hi => {
                m4::feed(&mut acc, summary);
                points += *n as u64;
            }
            _ => {
                decode_chunk(c, *id, *n, b)?;
                for (t, v) in b.stamps.iter().zip(&b.values) {
                    let t = *t as f64;
                    if t >= lo && t <= hi {
                        if blocks {
                            acc.push(t, *v);
                        } else {
                            b.x.push(t);
                            b.y.push(*v);
                        }
                        points += 1;
                    }
                }
            }
        }
    }
    if !blocks {
        // A narrow range: its points, in wall-time order already.
        let exact = b.x.len() <= width * EXACT_FACTOR;
        let (x, y) = if exact {
            (b.x.clone(), b.y.clone())
        } else {
            m4_of(&b.x, &b.y, width)
        };
        return Ok(Some(Downsampled {
            x,
            y,
            points,
            exact,
            found: true,
        }));
    }
    let (x, y) = acc.finish();
    Ok(Some(Downsampled {
        x,
        y,
        points,
        exact: false,
        found: true,
    }))
}

/// Orders points by x when wall times went backwards (a clock change, several writers);
/// a stable sort keeps the step order among equal times.
fn sort_by_x(x: &mut Vec<f64>, y: &mut Vec<f64>) {
    if x.windows(2).all(|w| w[0] <= w[1]) {
        return;
    }
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|a, b| x[*a].total_cmp(&x[*b]));
    *x = idx.iter().map(|i| x[*i]).collect();
    *y = idx.iter().map(|i| y[*i]).collect();
}

/// M4 over `width` equal x buckets of points sorted by x (see [`m4::M4`]).
pub(crate) fn m4_of(x: &[f64], y: &[f64], width: usize) -> (Vec<f64>, Vec<f64>) {
    let (Some(&x0), Some(&x1)) = (x.first(), x.last()) else {
        return (Vec::new(), Vec::new());
    };
    let mut acc = m4::M4::new(x0, x1, width);
    for (x, y) in x.iter().zip(y) {
        acc.push(*x, *y);
    }
    acc.finish()
}

#[cfg(test)]
#[path = "tests_downsample.rs"]
mod tests;

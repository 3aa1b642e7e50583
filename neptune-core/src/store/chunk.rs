//! FloatSeries points in chunks.
//!
//! A chunk is one row of `float_chunks` holding up to [`CHUNK_POINTS`] consecutive points of one
//! series, encoded by [`codec`] (about 10 bytes a point for typical data, bit-exact, so NaN and
//! ±Inf survive). The row also keeps its first and last
//! step, so a page after a given step starts at the right chunk through the index on
//! `(field_id, last_step)`. Appends fill the last chunk of the series before starting a new one.

use super::sql::{params, Optional, Tx, Val};

use super::codec::Stored;
use super::{codec, corrupt, R};
use crate::backend::SeriesPage;

/// Points per chunk at most.
pub(crate) const CHUNK_POINTS: usize = 4096;

fn blob(v: Val<'_>) -> R<std::borrow::Cow<'_, [u8]>> {
    match v {
        Val::Blob(b) => Ok(b),
        other => Err(corrupt(format!(
            "float chunk is {}, not a blob",
            other.kind()
        ))),
    }
}

fn count(n: i64) -> R<usize> {
    usize::try_from(n)
        .ok()
        .filter(|n| *n <= CHUNK_POINTS * 16)
        .ok_or_else(|| corrupt(format!("float chunk with {n} points")))
}

fn decode_chunk(data: &[u8], n: usize) -> R<Vec<Stored>> {
    codec::decode_points(data, n).ok_or_else(|| {
        corrupt(format!(
            "float chunk of {} bytes does not hold {n} points",
            data.len()
        ))
    })
}

/// Appends points (already checked: finite, strictly increasing, after the series' last step).
pub(crate) fn append(c: &Tx<'_>, field: i64, points: &[Stored]) -> R<()> {
    let mut rest = points;
    if rest.is_empty() {
        return Ok(());
    }
    // Fill the last chunk first.
    let last = c
        .prepare_cached(
            "SELECT id, n, data FROM float_chunks WHERE field_id = ?1 \
             ORDER BY last_step DESC LIMIT 1",
        )?
        .query_row([field], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })
        .optional()?;
    if let Some((id, n, data)) = last {
        let n = count(n)?;
        if n < CHUNK_POINTS {
            let take = (CHUNK_POINTS - n).min(rest.len());
            let (head, tail) = rest.split_at(take);
            let mut points = decode_chunk(&data, n)?;
            points.extend_from_slice(head);
            let mut buf = Vec::new();
            codec::encode(&points, &mut buf);
            let last_step = head[head.len() - 1].step;
            c.prepare_cached(
                "UPDATE float_chunks SET data = ?2, n = ?3, last_step = ?4 WHERE id = ?1",
            )?
            .execute(params![id, buf, points.len() as i64, last_step])?;
            rest = tail;
        }
    }
    let mut stmt = c.prepare_cached(
        "INSERT INTO float_chunks (field_id, first_step, last_step, n, data) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut buf = Vec::with_capacity(CHUNK_POINTS * 12);
    for part in rest.chunks(CHUNK_POINTS) {
        buf.clear();
        codec::encode(part, &mut buf);
        stmt.execute(params![
            field,
            part[0].step,
            part[part.len() - 1].step,
            part.len() as i64,
            buf
        ])?;
    }
    Ok(())
}

/// Up to `limit` points with step greater than `after`, in step order.
pub(crate) fn read(c: &Tx<'_>, field: i64, after: Option<f64>, limit: usize) -> R<SeriesPage<f64>> {
    let mut page = SeriesPage::default();
    if limit == 0 {
        return Ok(page);
    }
    let after = match after {
        Some(a) if a.is_nan() => return Ok(page),
        Some(a) => a,
        None => f64::NEG_INFINITY,
    };
    let mut stmt = c.prepare_cached(
        "SELECT n, data FROM float_chunks WHERE field_id = ?1 AND last_step > ?2 \
         ORDER BY last_step",
    )?;
    let mut rows = stmt.query(params![field, after])?;
    let cap = limit.min(1 << 20);
    page.steps.reserve(cap);
    page.values.reserve(cap);
    page.timestamps.reserve(cap);
    let (mut steps, mut values, mut stamps) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(row) = rows.next()? {
        let n = count(row.get(0)?)?;
        let data = blob(row.get_ref(1)?)?;
        let data = &data[..];
        steps.clear();
        values.clear();
        stamps.clear();
        codec::decode(data, n, &mut steps, &mut values, &mut stamps).ok_or_else(|| {
            corrupt(format!(
                "float chunk of {} bytes does not hold {n} points",
                data.len()
            ))
        })?;
        // First point after `after`: steps increase within a chunk.
        let lo = steps.partition_point(|s| *s <= after);
        let room = limit - page.steps.len();
        let end = n.min(lo + room);
        page.steps.extend_from_slice(&steps[lo..end]);
        page.values.extend_from_slice(&values[lo..end]);
        page.timestamps.extend_from_slice(&stamps[lo..end]);
        if page.steps.len() >= limit {
            break;
        }
    }
    Ok(page)
}

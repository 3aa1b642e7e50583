//! FloatSeries points in chunks.
//!
//! A chunk is one row of `float_chunks` holding up to [`CHUNK_POINTS`] consecutive points of one
//! series: `n` records of 24 bytes, each the step (f64 LE), the value (f64 LE, bit-exact, so NaN
//! and ±Inf survive) and the timestamp (i64 LE, Unix ms). The row also keeps its first and last
//! step, so a page after a given step starts at the right chunk through the index on
//! `(field_id, last_step)`. Appends fill the last chunk of the series before starting a new one.

use rusqlite::{params, Connection, OptionalExtension};

use super::{corrupt, R};
use crate::backend::SeriesPage;
use crate::operation::FloatPoint;

/// Points per chunk at most (24 bytes each: 96 KiB per full chunk).
pub(crate) const CHUNK_POINTS: usize = 4096;

/// Bytes of one point in a chunk.
const POINT_BYTES: usize = 24;

fn encode_into(out: &mut Vec<u8>, points: &[FloatPoint]) {
    out.reserve(points.len() * POINT_BYTES);
    for p in points {
        out.extend_from_slice(&p.step.to_le_bytes());
        out.extend_from_slice(&p.value.to_le_bytes());
        out.extend_from_slice(&p.timestamp_ms.to_le_bytes());
    }
}

fn f64_at(b: &[u8], at: usize) -> f64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    f64::from_le_bytes(a)
}

fn i64_at(b: &[u8], at: usize) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    i64::from_le_bytes(a)
}

/// Checks that a chunk blob holds `n` points.
fn check_len(data: &[u8], n: i64) -> R<usize> {
    let n = usize::try_from(n).map_err(|_| corrupt(format!("chunk with {n} points")))?;
    if data.len() != n * POINT_BYTES || n > CHUNK_POINTS * 16 {
        return Err(corrupt(format!(
            "float chunk of {} bytes for {n} points",
            data.len()
        )));
    }
    Ok(n)
}

/// Appends points (already checked: finite, strictly increasing, after the series' last step).
pub(crate) fn append(c: &Connection, field: i64, points: &[FloatPoint]) -> R<()> {
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
    if let Some((id, n, mut data)) = last {
        let n = check_len(&data, n)?;
        if n < CHUNK_POINTS {
            let take = (CHUNK_POINTS - n).min(rest.len());
            let (head, tail) = rest.split_at(take);
            encode_into(&mut data, head);
            let last_step = head[head.len() - 1].step;
            c.prepare_cached(
                "UPDATE float_chunks SET data = ?2, n = ?3, last_step = ?4 WHERE id = ?1",
            )?
            .execute(params![id, data, (n + take) as i64, last_step])?;
            rest = tail;
        }
    }
    let mut stmt = c.prepare_cached(
        "INSERT INTO float_chunks (field_id, first_step, last_step, n, data) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut buf = Vec::with_capacity(CHUNK_POINTS * POINT_BYTES);
    for part in rest.chunks(CHUNK_POINTS) {
        buf.clear();
        encode_into(&mut buf, part);
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
pub(crate) fn read(
    c: &Connection,
    field: i64,
    after: Option<f64>,
    limit: usize,
) -> R<SeriesPage<f64>> {
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
    while let Some(row) = rows.next()? {
        let n: i64 = row.get(0)?;
        let data = match row.get_ref(1)? {
            rusqlite::types::ValueRef::Blob(b) => b,
            other => {
                return Err(corrupt(format!(
                    "float chunk is a {:?}, not a blob",
                    other.data_type()
                )))
            }
        };
        let n = check_len(data, n)?;
        // First point after `after`: steps increase within a chunk.
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if f64_at(data, mid * POINT_BYTES) > after {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        let room = limit - page.steps.len();
        let end = n.min(lo + room);
        for rec in data[lo * POINT_BYTES..end * POINT_BYTES].chunks_exact(POINT_BYTES) {
            page.steps.push(f64_at(rec, 0));
            page.values.push(f64_at(rec, 8));
            page.timestamps.push(i64_at(rec, 16));
        }
        if page.steps.len() >= limit {
            break;
        }
    }
    Ok(page)
}

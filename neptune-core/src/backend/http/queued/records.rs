//! A batch as the queue's records: bounded JSON bodies of operations.

use crate::error::{Error, Result};
use crate::model::operation::Operation;

/// Largest record the queue writes: bigger batches are split (a log's points in pieces). Under
/// the 1 MiB body limit of common reverse proxies, and small enough for a small disk.
pub(super) const MAX_RECORD_BYTES: usize = 960 << 10;

/// The distinct paths of `ops` past their first `kept` values (for the report of what was
/// not kept; record bodies hold the operations' values in order).
pub(super) fn paths_after(ops: &[Operation], kept: u64) -> String {
    let mut seen = 0u64;
    let mut paths: Vec<String> = Vec::new();
    for op in ops {
        seen += op.weight() as u64;
        let p = op.path().to_string();
        if seen > kept && !paths.contains(&p) {
            paths.push(p);
        }
    }
    paths.join(", ")
}

/// Splits a batch into record bodies of at most about [`MAX_RECORD_BYTES`] of JSON each (a
/// log whose points alone are larger goes in pieces); each body is a JSON array of operations.
/// Operations are serialized once, straight into the bodies.
pub(super) fn record_bodies(ops: &[Operation]) -> Result<Vec<(Vec<u8>, u64)>> {
    fn ser(out: &mut Vec<u8>, op: &Operation) -> Result<()> {
        serde_json::to_writer(out, op).map_err(|e| Error::Serialization {
            path: op.path().to_string(),
            reason: e.to_string(),
        })
    }
    let mut out: Vec<(Vec<u8>, u64)> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut values = 0u64;
    let close = |cur: &mut Vec<u8>, values: &mut u64, out: &mut Vec<(Vec<u8>, u64)>| {
        if !cur.is_empty() {
            cur.push(b']');
            out.push((std::mem::take(cur), std::mem::take(values)));
        }
    };
    for op in ops {
        let mark = cur.len();
        cur.push(if mark == 0 { b'[' } else { b',' });
        ser(&mut cur, op)?;
        let size = cur.len() - mark;
        if size > MAX_RECORD_BYTES && op.weight() >= 2 {
            // Too big alone: in pieces, each a record of its own.
            cur.truncate(mark);
            close(&mut cur, &mut values, &mut out);
            let per = op.weight().div_ceil(size.div_ceil(MAX_RECORD_BYTES) + 1);
            for part in split_log(op, per) {
                let mut body = vec![b'['];
                ser(&mut body, &part)?;
                body.push(b']');
                out.push((body, part.weight() as u64));
            }
            continue;
        }
        if mark > 0 && cur.len() > MAX_RECORD_BYTES {
            // The record is full: this operation starts the next one.
            let tail = cur.split_off(mark + 1);
            cur.truncate(mark);
            close(&mut cur, &mut values, &mut out);
            cur.reserve(tail.len() + 1);
            cur.push(b'[');
            cur.extend_from_slice(&tail);
        }
        values += op.weight() as u64;
    }
    close(&mut cur, &mut values, &mut out);
    Ok(out)
}

/// A log operation as several of at most `per` points each (other operations unchanged).
fn split_log(op: &Operation, per: usize) -> Vec<Operation> {
    let per = per.max(1);
    match op {
        Operation::LogFloats { path, points } => points
            .chunks(per)
            .map(|c| Operation::LogFloats {
                path: path.clone(),
                points: c.to_vec(),
            })
            .collect(),
        Operation::LogStrings { path, points } => points
            .chunks(per)
            .map(|c| Operation::LogStrings {
                path: path.clone(),
                points: c.to_vec(),
            })
            .collect(),
        Operation::LogImages { path, points } => points
            .chunks(per)
            .map(|c| Operation::LogImages {
                path: path.clone(),
                points: c.to_vec(),
            })
            .collect(),
        other => vec![other.clone()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::operation::{FloatPoint, StringPoint};
    use crate::model::path::FieldPath;

    #[test]
    fn big_batches_are_split_into_bounded_records() {
        let p = FieldPath::parse("s").unwrap();
        let long = "x".repeat(1000);
        let ops = vec![
            Operation::AssignInt {
                path: p.clone(),
                value: 1,
            },
            Operation::LogStrings {
                path: p.clone(),
                points: (0..20_000)
                    .map(|i| StringPoint {
                        step: Some(i as f64),
                        value: long.clone(),
                        timestamp_ms: 0,
                    })
                    .collect(),
            },
            Operation::LogFloats {
                path: p.clone(),
                points: vec![
                    FloatPoint {
                        step: Some(0.0),
                        value: 0.0,
                        timestamp_ms: 0
                    };
                    10
                ],
            },
        ];
        let bodies = record_bodies(&ops).unwrap();
        assert!(bodies.len() >= 3, "{}", bodies.len());
        let mut back: Vec<Operation> = Vec::new();
        for (b, _) in &bodies {
            assert!(b.len() <= MAX_RECORD_BYTES + 2_000_000, "{}", b.len());
            back.extend(serde_json::from_slice::<Vec<Operation>>(b).unwrap());
        }
        let merged = crate::engine::queue::merge(back);
        assert_eq!(merged, ops);
        assert_eq!(bodies.iter().map(|b| b.1).sum::<u64>(), 20_011);
    }
}

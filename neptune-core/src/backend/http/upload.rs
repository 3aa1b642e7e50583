//! Sending the head of an upload queue to the server, for the uploader thread and for
//! `neptune sync` alike.
//!
//! A request carries as many leading batches as fit the size the server takes. Nothing is
//! acknowledged in the queue unless the server applied it, or it was kept aside
//! ([`crate::backend::http::queue_disk::aside`]) and reported:
//! - 413 (a reverse proxy's body limit, or the server's): the request is halved and sent
//!   again; a single batch too large is split into parts (below); a single operation or point
//!   too large alone is kept aside.
//! - any other 4xx but 401/403 on a request of several batches: they go one by one, to find
//!   the one refused; a batch refused alone is kept aside with the server's reason. A 404 or
//!   410 (the object is gone) stops the upload with everything left in the queue.
//! - operations the server refused one by one (its reply lists them per batch) are kept aside.
//!
//! A batch in parts: its operations are cut at positions (a point of a log is one position,
//! any other operation one) into 2, 4, 8… equal ranges, the first level whose parts the server
//! takes. Part `[a, b)` goes to the queue `<queue>-<seq>` as batch number `b`: the server
//! applies each part once however often it is sent, the levels nest (a boundary of one level
//! is one of the next), so going finer after a 413 never sends a position twice. Then the
//! batch itself goes as an empty batch, so that the whole batch is never applied after its
//! parts.

use std::io::Read;

use super::client::{Fail, HttpBackend};
use crate::backend::http::queue_disk::{AsideEntry, AsideKind, DiskQueue, Record};
use crate::backend::Rejected;
use crate::model::operation::Operation;
use crate::model::wire;

/// Largest request body the uploader builds (a single bigger record goes alone).
pub(crate) const MAX_REQUEST_BYTES: usize = 16 << 20;
/// Finest level of a split (2^40 parts).
const MAX_LEVEL: u32 = 40;

/// The outcome of one attempt to send the records at the head of the queue.
pub(crate) enum Sent {
    /// The first `n` records are done: applied by the server or kept aside.
    Acked(usize),
    /// Nothing changed; worth trying again (a transient failure or the token).
    Failed(Fail),
    /// The upload cannot go on (the queue cannot be written, the object is gone); the
    /// records stay in the queue.
    Fatal(String),
}

/// A batch being sent in parts.
struct Split {
    seq: u64,
    values: u64,
    ops: Vec<Operation>,
    /// Positions in all, and sent so far (a boundary of every level from `level` on).
    total: u64,
    done: u64,
    level: u32,
}

/// Sends a queue's records in order to one object.
pub(crate) struct Uploader<'a> {
    http: &'a HttpBackend,
    q: &'a DiskQueue,
    object: String,
    queue_id: String,
    /// Request size the server is known to refuse (less than that is tried).
    budget: usize,
    /// Batches up to this number go one per request (one of them was refused).
    isolate_until: u64,
    split: Option<Split>,
}

fn positions(op: &Operation) -> u64 {
    op.weight().max(1) as u64
}

/// The positions `[a, b)` of `ops` (see the module's documentation).
pub(crate) fn slice_ops(ops: &[Operation], a: u64, b: u64) -> Vec<Operation> {
    let mut out = Vec::new();
    let mut c = 0u64;
    for op in ops {
        if c >= b {
            break;
        }
        let w = positions(op);
        let (lo, hi) = (a.max(c), b.min(c + w));
        if lo < hi {
            let (lo, hi) = ((lo - c) as usize, (hi - c) as usize);
            out.push(match op {
                Operation::LogFloats { path, points } if w > 1 => Operation::LogFloats {
                    path: path.clone(),
                    points: points[lo..hi].to_vec(),
                },
                Operation::LogStrings { path, points } if w > 1 => Operation::LogStrings {
                    path: path.clone(),
                    points: points[lo..hi].to_vec(),
                },
                Operation::LogImages { path, points } if w > 1 => Operation::LogImages {
                    path: path.clone(),
                    points: points[lo..hi].to_vec(),
                },
                other => other.clone(),
            });
        }
        c += w;
    }
    out
}

/// Boundary `i` of `level` over `total` positions.
pub(crate) fn boundary(total: u64, level: u32, i: u64) -> u64 {
    ((i as u128 * total as u128) >> level) as u64
}

/// The operations of a batch line, as JSON values (for what is kept aside).
fn ops_json(raw: &str) -> Vec<serde_json::Value> {
    wire::batch::ops_values(raw.as_bytes())
}

fn is_object_gone(status: u16) -> bool {
    matches!(status, 404 | 410)
}

impl<'a> Uploader<'a> {
    pub(crate) fn new(http: &'a HttpBackend, q: &'a DiskQueue, object: &str) -> Uploader<'a> {
        Uploader {
            http,
            q,
            object: object.to_owned(),
            queue_id: q.meta().queue_id,
            budget: MAX_REQUEST_BYTES,
            isolate_until: 0,
            split: None,
        }
    }

    /// Sends the first records of `recs` (leading batches, or one file). What the server
    /// refused and was kept aside goes to `reported` before the queue acknowledges it, so that
    /// whoever waits for the acknowledgement (`wait()`) finds the report.
    pub(crate) fn send_head(
        &mut self,
        recs: &[Record],
        reported: &mut dyn FnMut(Rejected),
    ) -> Sent {
        match recs.first() {
            None => Sent::Acked(0),
            Some(Record::File { seq, file }) => self.send_file(*seq, file, reported),
            Some(Record::Ops { .. }) => self.send_ops(recs, reported),
        }
    }

    fn fatal_queue(&self, e: crate::error::Error) -> Sent {
        Sent::Fatal(format!(
            "the upload queue {} cannot be written: {e}",
            self.q.dir().display()
        ))
    }

    fn object_gone(&self, status: u16, message: &str) -> Sent {
        Sent::Fatal(format!(
            "the server refuses the uploads to {} ({status}): {message}; nothing was \
             acknowledged, the data waits in {}",
            self.object,
            self.q.dir().display()
        ))
    }

    /// Keeps entries aside, reports them, and acknowledges the records up to `seq`.
    fn keep_aside(
        &self,
        entries: Vec<AsideEntry>,
        ack: Option<(u64, u64)>,
        reported: &mut dyn FnMut(Rejected),
    ) -> Result<(), Sent> {
        self.q
            .set_aside(&entries)
            .map_err(|e| self.fatal_queue(e))?;
        for e in &entries {
            let r = e.to_rejected(self.q.dir());
            tracing::warn!(
                "the server at {} refused \"{}\" of {}: {}",
                self.http.url(),
                r.path,
                self.object,
                r.reason
            );
            reported(r);
        }
        if let Some((seq, values)) = ack {
            self.q
                .ack(seq, values, &[])
                .map_err(|e| self.fatal_queue(e))?;
        }
        Ok(())
    }

    /// The entries for the operations a reply refused (`ops`: the batch's operations).
    fn refused_ops(seq: u64, rejected: &[Rejected], ops: &[serde_json::Value]) -> Vec<AsideEntry> {
        rejected
            .iter()
            .map(|r| AsideEntry {
                kind: AsideKind::Refused,
                seq: Some(seq),
                path: r.path.clone(),
                reason: r.reason.clone(),
                op: ops.get(r.index).cloned(),
                batch: None,
                damaged_at: None,
            })
            .collect()
    }

    fn refused_batch(
        seq: u64,
        path: String,
        reason: String,
        batch: serde_json::Value,
    ) -> AsideEntry {
        AsideEntry {
            kind: AsideKind::RefusedBatch,
            seq: Some(seq),
            path,
            reason,
            op: None,
            batch: Some(batch),
            damaged_at: None,
        }
    }

    fn send_ops(&mut self, recs: &[Record], reported: &mut dyn FnMut(Rejected)) -> Sent {
        if let Some(sp) = &self.split {
            if sp.seq == recs[0].seq() {
                return self.continue_split(reported);
            }
            self.split = None;
        }
        loop {
            let mut lines: Vec<(u64, &str)> = Vec::new();
            let (mut bytes, mut values, mut last) = (0usize, 0u64, 0u64);
            for r in recs {
                let Record::Ops {
                    seq,
                    values: v,
                    raw,
                } = r
                else {
                    break;
                };
                if let Some(&(first, _)) = lines.first() {
                    if first <= self.isolate_until || bytes + raw.len() + 1 > self.budget {
                        break;
                    }
                }
                lines.push((*seq, raw.as_str()));
                bytes += raw.len() + 1;
                values += v;
                last = *seq;
            }
            if lines.len() == 1 && bytes > self.budget {
                // Known to be too large: in parts at once.
                return self.start_split(&recs[0], "larger than the server takes", reported);
            }
            let raws: Vec<&str> = lines.iter().map(|l| l.1).collect();
            match self.http.send_batches(&self.object, &self.queue_id, &raws) {
                Ok(reply) => {
                    let mut entries = Vec::new();
                    for r in reply.results.iter().filter(|r| !r.rejected.is_empty()) {
                        let ops = lines
                            .iter()
                            .find(|l| l.0 == r.seq)
                            .map(|l| ops_json(l.1))
                            .unwrap_or_default();
                        entries.extend(Self::refused_ops(r.seq, &r.rejected, &ops));
                    }
                    if let Err(s) = self.keep_aside(entries, Some((last, values)), reported) {
                        return s;
                    }
                    return Sent::Acked(lines.len());
                }
                Err(Fail::TooLarge { .. }) if lines.len() > 1 => {
                    self.budget = (bytes / 2).max(1);
                }
                Err(Fail::TooLarge { message }) => {
                    self.budget = self.budget.min(bytes.saturating_sub(1)).max(1);
                    return self.start_split(&recs[0], &message, reported);
                }
                Err(Fail::Refused {
                    status, message, ..
                }) if is_object_gone(status) => {
                    return self.object_gone(status, &message);
                }
                Err(Fail::Refused { .. }) if lines.len() > 1 => {
                    self.isolate_until = last;
                }
                Err(Fail::Refused {
                    status, message, ..
                }) => {
                    let (seq, raw) = lines[0];
                    let entry = Self::refused_batch(
                        seq,
                        format!("batch #{seq}"),
                        format!("refused by the server ({status}): {message}"),
                        serde_json::Value::Array(ops_json(raw)),
                    );
                    if let Err(s) = self.keep_aside(vec![entry], Some((seq, values)), reported) {
                        return s;
                    }
                    return Sent::Acked(1);
                }
                Err(f) => return Sent::Failed(f),
            }
        }
    }

    fn start_split(
        &mut self,
        rec: &Record,
        message: &str,
        reported: &mut dyn FnMut(Rejected),
    ) -> Sent {
        let Record::Ops { seq, values, raw } = rec else {
            return Sent::Acked(0);
        };
        match wire::batch::decode(raw.as_bytes()) {
            Ok(b) => {
                let total = b.ops.iter().map(positions).sum();
                tracing::info!(
                    "batch #{seq} of {} is too large for the server at {} ({message}); \
                     sending it in parts",
                    self.object,
                    self.http.url()
                );
                self.split = Some(Split {
                    seq: *seq,
                    values: *values,
                    ops: b.ops,
                    total,
                    done: 0,
                    level: 1,
                });
                self.continue_split(reported)
            }
            Err(e) => {
                let entry = Self::refused_batch(
                    *seq,
                    format!("batch #{seq}"),
                    format!("too large for the server ({message}) and unreadable to split: {e}"),
                    serde_json::Value::Array(ops_json(raw)),
                );
                match self.keep_aside(vec![entry], Some((*seq, *values)), reported) {
                    Ok(()) => Sent::Acked(1),
                    Err(s) => s,
                }
            }
        }
    }

    fn continue_split(&mut self, reported: &mut dyn FnMut(Rejected)) -> Sent {
        let Some(mut sp) = self.split.take() else {
            return Sent::Acked(0);
        };
        let sent = self.send_parts(&mut sp, reported);
        if !matches!(sent, Sent::Acked(_)) {
            self.split = Some(sp);
        }
        sent
    }

    fn send_parts(&mut self, sp: &mut Split, reported: &mut dyn FnMut(Rejected)) -> Sent {
        let sub = format!("{}-{}", self.queue_id, sp.seq);
        while sp.done < sp.total {
            // The part from `done` (a boundary of this level) to the next boundary.
            let next = ((sp.done as u128 + 1) << sp.level).div_ceil(sp.total as u128) as u64;
            let (a, b) = (sp.done, boundary(sp.total, sp.level, next).max(sp.done + 1));
            let ops = slice_ops(&sp.ops, a, b);
            let line = match wire::batch::encode(b, &ops) {
                Ok(l) => l,
                Err(e) => return Sent::Fatal(format!("cannot serialize a part of a batch: {e}")),
            };
            let alone = b - a == 1 || sp.level >= MAX_LEVEL;
            if line.len() >= self.budget && !alone {
                sp.level += 1;
                continue;
            }
            match self.http.send_batches(&self.object, &sub, &[&line]) {
                Ok(reply) => {
                    let mut entries = Vec::new();
                    let ops_v: Vec<serde_json::Value> = ops
                        .iter()
                        .map(|o| serde_json::to_value(o).unwrap_or_default())
                        .collect();
                    for r in &reply.results {
                        entries.extend(Self::refused_ops(sp.seq, &r.rejected, &ops_v));
                    }
                    if let Err(s) = self.keep_aside(entries, None, reported) {
                        return s;
                    }
                    sp.done = b;
                }
                Err(Fail::TooLarge { .. }) if !alone => {
                    self.budget = self.budget.min(line.len()).max(1);
                    sp.level += 1;
                }
                Err(Fail::Refused {
                    status, message, ..
                }) if is_object_gone(status) => {
                    return self.object_gone(status, &message);
                }
                Err(Fail::TooLarge { message }) | Err(Fail::Refused { message, .. }) => {
                    let path = ops
                        .first()
                        .map_or_else(|| format!("batch #{}", sp.seq), |o| o.path().to_string());
                    let entry = Self::refused_batch(
                        sp.seq,
                        path,
                        format!("refused by the server even alone: {message}"),
                        serde_json::to_value(&ops).unwrap_or_default(),
                    );
                    if let Err(s) = self.keep_aside(vec![entry], None, reported) {
                        return s;
                    }
                    sp.done = b;
                }
                Err(f) => return Sent::Failed(f),
            }
        }
        // The batch itself, empty: it is never applied whole after its parts.
        let stub = wire::batch::line(sp.seq, 0, "[]");
        match self
            .http
            .send_batches(&self.object, &self.queue_id, &[&stub])
        {
            Ok(_) | Err(Fail::TooLarge { .. }) => {}
            Err(Fail::Refused {
                status, message, ..
            }) if is_object_gone(status) => {
                return self.object_gone(status, &message);
            }
            Err(Fail::Refused { .. }) => {}
            Err(f) => return Sent::Failed(f),
        }
        match self.q.ack(sp.seq, sp.values, &[]) {
            Ok(()) => Sent::Acked(1),
            Err(e) => self.fatal_queue(e),
        }
    }

    fn send_file(
        &mut self,
        seq: u64,
        file: &crate::model::operation::FileRef,
        reported: &mut dyn FnMut(Rejected),
    ) -> Sent {
        let path = self.q.file_path(&file.digest);
        let r = (|| -> Result<Option<String>, Fail> {
            if self.http.has(&file.digest)? {
                return Ok(None);
            }
            let mut f = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) => {
                    return Ok(Some(format!(
                        "the local copy {} is gone: {e}",
                        path.display()
                    )))
                }
            };
            let got = self.http.upload(&mut f as &mut dyn Read, &file.extension)?;
            if got.digest != file.digest {
                return Ok(Some(format!("the server stored digest {}", got.digest)));
            }
            Ok(None)
        })();
        let problem = match r {
            Ok(p) => p,
            Err(Fail::Refused {
                status, message, ..
            }) if is_object_gone(status) => return self.object_gone(status, &message),
            Err(Fail::TooLarge { message }) | Err(Fail::Refused { message, .. }) => {
                // Refused for good: the copy stays in the queue's folder, beside the entry.
                let kept = self.q.keep_file_aside(&file.digest);
                Some(format!(
                    "refused by the server: {message}; the content is kept in {}",
                    kept.display()
                ))
            }
            Err(f) => return Sent::Failed(f),
        };
        if let Some(reason) = problem {
            let entry = AsideEntry {
                kind: AsideKind::RefusedBatch,
                seq: Some(seq),
                path: format!("file {}", file.digest),
                reason,
                op: serde_json::to_value(file).ok(),
                batch: None,
                damaged_at: None,
            };
            if let Err(s) = self.keep_aside(vec![entry], None, reported) {
                return s;
            }
        }
        match self.q.ack(seq, 0, std::slice::from_ref(&file.digest)) {
            Ok(()) => Sent::Acked(1),
            Err(e) => self.fatal_queue(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::operation::FloatPoint;
    use crate::model::path::FieldPath;

    fn log(n: usize) -> Operation {
        Operation::LogFloats {
            path: FieldPath::parse("a").unwrap(),
            points: (0..n)
                .map(|i| FloatPoint {
                    step: Some(i as f64),
                    value: 0.0,
                    timestamp_ms: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn levels_nest_and_parts_cover_every_position_once() {
        let ops = vec![
            Operation::AssignInt {
                path: FieldPath::parse("x").unwrap(),
                value: 1,
            },
            log(10),
            log(0),
            log(3),
        ];
        let total: u64 = ops.iter().map(positions).sum();
        assert_eq!(total, 15);
        for level in 0..6 {
            let parts = 1u64 << level;
            let mut back = Vec::new();
            for i in 0..parts {
                let (a, b) = (boundary(total, level, i), boundary(total, level, i + 1));
                assert_eq!(boundary(total, level + 1, 2 * i), a);
                back.extend(slice_ops(&ops, a, b));
            }
            assert_eq!(
                crate::engine::queue::merge(back),
                crate::engine::queue::merge(ops.clone())
            );
        }
    }
}

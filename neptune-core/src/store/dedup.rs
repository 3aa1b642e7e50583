//! Applying a client's batches at most once (the server's side of the upload queue).
//!
//! Each client upload queue has an id; its batches carry increasing sequence numbers and are
//! sent in order, one request at a time. The table `upload_queues` keeps, per queue, the last
//! sequence number applied and what the server answered for it. A batch is applied only when its
//! number is above the last one, and the new number is written in the same `BEGIN IMMEDIATE`
//! transaction as the batch's operations: the two commit together or not at all, so a crash
//! between them cannot happen, and a batch resent after a lost response (or after a server
//! restart) is answered again without being applied again.
//!
//! The same table maps a queue to the object it registered (`neptune sync` of an offline
//! run), so registering twice finds the first object.

use rusqlite::{params, Connection, OptionalExtension};

use super::{fields, ids, Store, R};
use crate::backend::{ObjectInfo, ObjectKind, OpenRequest, Rejected};
use crate::error::{Error, Result};
use crate::operation::Operation;

/// Created on first use (the store's migrations belong to the store's own schema; this table
/// is only used by servers).
const TABLE: &str = "CREATE TABLE IF NOT EXISTS upload_queues (
    queue_id    TEXT PRIMARY KEY,
    object_id   TEXT,
    last_seq    INTEGER NOT NULL DEFAULT 0,
    last_reply  TEXT
)";

/// One batch of a queue.
#[derive(Clone, Debug, Default)]
pub struct QueuedBatch {
    pub seq: u64,
    /// The operations to apply.
    pub ops: Vec<Operation>,
    /// The index of each operation in the batch as sent (empty: the same as in `ops`), for
    /// a caller that refused some operations itself.
    pub index: Vec<usize>,
    /// Operations the caller refused itself (indices as sent); reported with the store's.
    pub refused: Vec<Rejected>,
}

/// What became of a batch.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchOutcome {
    pub seq: u64,
    /// Applied before; not applied again.
    pub duplicate: bool,
    pub rejected: Vec<Rejected>,
}

fn ensure_table(c: &Connection) -> R<()> {
    c.execute_batch(TABLE)?;
    Ok(())
}

fn last_of(c: &Connection, queue: &str) -> R<Option<(i64, Option<String>)>> {
    Ok(
        c.prepare_cached("SELECT last_seq, last_reply FROM upload_queues WHERE queue_id = ?1")?
            .query_row([queue], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?,
    )
}

impl Store {
    /// Applies the batches of `queue` to `object` in one transaction, each at most once, and
    /// makes them durable ([`Store::sync_to_disk`]) before returning.
    pub fn execute_queued(
        &self,
        object: &str,
        queue: &str,
        batches: &[QueuedBatch],
    ) -> Result<Vec<BatchOutcome>> {
        let outcomes = self.write(|tx| {
            ensure_table(tx)?;
            let (mut last, mut last_reply) = match last_of(tx, queue)? {
                Some((s, r)) => (s.max(0) as u64, r),
                None => (0, None),
            };
            let mut out = Vec::with_capacity(batches.len());
            let mut applied_any = false;
            for b in batches {
                if b.seq <= last {
                    // A resend: the answer of the last batch is kept, older ones are history.
                    let rejected = match (&last_reply, b.seq == last) {
                        (Some(r), true) => serde_json::from_str(r).unwrap_or_default(),
                        _ => Vec::new(),
                    };
                    out.push(BatchOutcome {
                        seq: b.seq,
                        duplicate: true,
                        rejected,
                    });
                    continue;
                }
                let mut rejected = super::apply::execute(tx, object, &b.ops)?;
                for r in &mut rejected {
                    if let Some(&i) = b.index.get(r.index) {
                        r.index = i;
                    }
                }
                rejected.extend(b.refused.iter().cloned());
                rejected.sort_by_key(|r| r.index);
                last = b.seq;
                last_reply = Some(serde_json::to_string(&rejected).unwrap_or_default());
                applied_any = true;
                out.push(BatchOutcome {
                    seq: b.seq,
                    duplicate: false,
                    rejected,
                });
            }
            if applied_any {
                let seq = i64::try_from(last).map_err(|_| {
                    Error::invalid("seq", format!("sequence number {last} is too large"))
                })?;
                tx.prepare_cached(
                    "INSERT INTO upload_queues (queue_id, last_seq, last_reply) VALUES (?1, ?2, ?3)
                     ON CONFLICT(queue_id) DO UPDATE SET last_seq = ?2, last_reply = ?3",
                )?
                .execute(params![queue, seq, last_reply])?;
            }
            Ok(out)
        })?;
        // The caller acknowledges these batches (a server's answer): make them durable first.
        self.sync_to_disk()?;
        Ok(outcomes)
    }

    /// Opens an object for `queue`: the object this queue registered before if any (a
    /// registration resent after a lost answer), else as `req` asks, remembering it.
    pub fn open_for_queue(&self, req: &OpenRequest, queue: &str) -> Result<ObjectInfo> {
        let info = self.write(|tx| {
            ensure_table(tx)?;
            let known: Option<String> = tx
                .prepare_cached("SELECT object_id FROM upload_queues WHERE queue_id = ?1")?
                .query_row([queue], |r| r.get(0))
                .optional()?
                .flatten();
            if let Some(id) = known {
                let mut again = req.clone();
                again.with_id = Some(id);
                again.custom_run_id = None;
                again.model = None;
                return ids::open_object(tx, &again);
            }
            let info = ids::open_object(tx, req)?;
            tx.prepare_cached(
                "INSERT INTO upload_queues (queue_id, object_id) VALUES (?1, ?2)
                 ON CONFLICT(queue_id) DO UPDATE SET object_id = ?2",
            )?
            .execute(params![queue, info.id])?;
            Ok(info)
        })?;
        self.sync_to_disk()?;
        Ok(info)
    }

    /// The kind and project name of the object with this `sys/id`, if it exists.
    pub fn object_project(&self, id: &str) -> Result<Option<(ObjectKind, String)>> {
        self.read(|tx| {
            let Some(obj) = fields::find_object(tx, id)? else {
                return Ok(None);
            };
            let name: String = tx
                .prepare_cached("SELECT name FROM projects WHERE id = ?1")?
                .query_row(params![obj.project_id], |r| r.get(0))?;
            Ok(Some((obj.kind, name)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Backend;
    use crate::path::FieldPath;
    use crate::types::Value;

    fn req() -> OpenRequest {
        OpenRequest {
            kind: ObjectKind::Run,
            project: "team/dedup".into(),
            with_id: None,
            custom_run_id: None,
            model: None,
            owner: "me".into(),
            read_only: false,
        }
    }

    #[test]
    fn a_resent_batch_is_applied_once() {
        let store = Store::in_memory().unwrap();
        let run = store.open_object(&req()).unwrap();
        let p = FieldPath::parse("n").unwrap();
        let add = |seq, value| QueuedBatch {
            seq,
            ops: vec![Operation::AddStrings {
                path: p.clone(),
                values: vec![value],
            }],
            ..QueuedBatch::default()
        };
        let bad = QueuedBatch {
            seq: 2,
            ops: vec![Operation::AssignInt {
                path: p.clone(),
                value: 1,
            }],
            ..QueuedBatch::default()
        };
        let first = store
            .execute_queued(&run.id, "q1", &[add(1, "a".into()), bad.clone()])
            .unwrap();
        assert!(!first[0].duplicate && first[1].rejected.len() == 1);
        // The same two again (a lost answer), then a new one.
        let again = store
            .execute_queued(
                &run.id,
                "q1",
                &[add(1, "x".into()), bad, add(3, "c".into())],
            )
            .unwrap();
        assert!(again[0].duplicate && again[1].duplicate && !again[2].duplicate);
        assert_eq!(again[1].rejected, first[1].rejected);
        // Another queue has its own numbers.
        store
            .execute_queued(&run.id, "q2", &[add(1, "d".into())])
            .unwrap();
        let Some(Value::StringSet(s)) = store.fetch_value(&run.id, &p).unwrap() else {
            panic!()
        };
        assert_eq!(s.into_iter().collect::<Vec<_>>(), ["a", "c", "d"]);
    }

    #[test]
    fn registering_twice_finds_the_same_object() {
        let store = Store::in_memory().unwrap();
        let a = store.open_for_queue(&req(), "q9").unwrap();
        let b = store.open_for_queue(&req(), "q9").unwrap();
        assert_eq!(a.id, b.id);
        assert!(a.created && !b.created);
        let c = store.open_for_queue(&req(), "q10").unwrap();
        assert_ne!(a.id, c.id);
        assert_eq!(
            store.object_project(&a.id).unwrap(),
            Some((ObjectKind::Run, "team/dedup".into()))
        );
        assert_eq!(store.object_project("NOPE-1").unwrap(), None);
    }
}

//! Applying a client's batches at most once (the server's side of the upload queue).
//!
//! Each client upload queue has an id; its batches carry increasing sequence numbers and are
//! sent in order, one request at a time. The table `queue_batches` keeps, per project, object
//! and queue, the last sequence number applied and what the server answered for it. A batch is
//! applied only when its number is above the last one, and the new number is written in the
//! same `BEGIN IMMEDIATE` transaction as the batch's operations: the two commit together or not
//! at all, so a crash between them cannot happen, and a batch resent after a lost response (or
//! after a server restart) is answered again without being applied again.
//!
//! The table `queue_objects` maps a queue to the object it registered in a project (`neptune
//! sync` of an offline run), so registering twice finds the first object.
//!
//! Queue ids are chosen by clients, so they are never trusted alone: every row is keyed by the
//! project (and the object) the caller's token may write, and a queue id known in one project
//! is unknown in every other. A client of another project using the same queue id gets state
//! of its own and cannot touch these rows.

use super::sql::{params, Optional, Tx};

use super::{ids, Fail, Store, R};
use crate::backend::{ObjectInfo, ObjectKind, OpenRequest, Rejected};
use crate::error::{Error, Result};
use crate::model::operation::Operation;

/// One batch of a queue.
#[derive(Clone, Debug, Default)]
pub struct QueuedBatch {
    /// The batch's sequence number in its queue.
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
    /// The sequence number of the batch.
    pub seq: u64,
    /// Applied before; not applied again.
    pub duplicate: bool,
    /// The operations refused, with the reason for each.
    pub rejected: Vec<Rejected>,
}

/// Row ids of an object and of its project, when the object `sys_id` is in `project`.
fn object_in(c: &Tx<'_>, project: &str, sys_id: &str) -> R<Option<(i64, i64)>> {
    c.prepare_cached(
        "SELECT o.id, o.project_id FROM objects o JOIN projects p ON p.id = o.project_id \
             WHERE o.sys_id = ?1 AND p.name = ?2",
    )?
    .query_row([sys_id, project], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()
}

fn not_in_project(project: &str, sys_id: &str) -> Fail {
    Fail::Core(Error::ObjectNotFound {
        kind: "object",
        id: sys_id.to_owned(),
        location: format!("project \"{project}\""),
    })
}

type Last = (i64, Option<String>);

/// The last batch of `queue` applied to object `obj` of project `pid`; for a queue without a
/// row of its own, its row from before version 2 of the schema, if any.
fn last_of(c: &Tx<'_>, pid: i64, obj: i64, queue: &str) -> R<Option<Last>> {
    let own = c
        .prepare_cached(
            "SELECT last_seq, last_reply FROM queue_batches \
             WHERE project_id = ?1 AND object_id = ?2 AND queue_id = ?3",
        )?
        .query_row(params![pid, obj, queue], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if own.is_some() {
        return Ok(own);
    }
    c.prepare_cached("SELECT last_seq, last_reply FROM legacy_queue_batches WHERE queue_id = ?1")?
        .query_row([queue], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

impl Store {
    /// Applies the batches of `queue` to `object` of `project` in one transaction, each at
    /// most once. `project` is the project the caller may write (a server passes its token's):
    /// an object of another project is not found, and the queue's state is kept apart from
    /// the same queue id's in any other project or object.
    /// The batches are durable ([`Store::sync_to_disk`]) when this returns.
    pub fn execute_queued(
        &self,
        project: &str,
        object: &str,
        queue: &str,
        batches: &[QueuedBatch],
    ) -> Result<Vec<BatchOutcome>> {
        let outcomes = self.write(|tx| {
            let (obj, pid) =
                object_in(tx, project, object)?.ok_or_else(|| not_in_project(project, object))?;
            // Before the queue's last number is read: a batch resent to another replica
            // waits here, then finds itself applied.
            super::fields::lock_object(tx, obj)?;
            let (mut last, mut last_reply) = match last_of(tx, pid, obj, queue)? {
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
                    "INSERT INTO queue_batches (project_id, object_id, queue_id, last_seq, last_reply)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(project_id, object_id, queue_id)
                     DO UPDATE SET last_seq = ?4, last_reply = ?5",
                )?
                .execute(params![pid, obj, queue, seq, last_reply])?;
            }
            Ok(out)
        })?;
        // The caller acknowledges these batches (a server's answer): make them durable first.
        self.sync_to_disk()?;
        Ok(outcomes)
    }

    /// Opens an object of `project` for `queue`: the object this queue registered in `project`
    /// before if any (a registration resent after a lost answer), else as `req` asks,
    /// remembering it. `project` is the project the caller may write (a server passes its
    /// token's); an object `req` names in another project is refused and nothing is kept.
    pub fn open_for_queue(
        &self,
        project: &str,
        req: &OpenRequest,
        queue: &str,
    ) -> Result<ObjectInfo> {
        let info = self.write(|tx| {
            // Two replicas registering one queue at once: the second finds the first's object.
            super::fields::lock_name(tx, &format!("queue\u{1f}{project}\u{1f}{queue}"))?;
            let known: Option<String> = tx
                .prepare_cached(
                    "SELECT o.sys_id FROM queue_objects q \
                     JOIN projects p ON p.id = q.project_id \
                     JOIN objects o ON o.id = q.object_id AND o.project_id = q.project_id \
                     WHERE p.name = ?1 AND q.queue_id = ?2",
                )?
                .query_row([project, queue], |r| r.get(0))
                .optional()?;
            let info = match known {
                Some(id) => {
                    let mut again = req.clone();
                    again.project = project.to_owned();
                    again.with_id = Some(id);
                    again.custom_run_id = None;
                    again.model = None;
                    ids::open_object(tx, &again)?
                }
                None => ids::open_object(tx, req)?,
            };
            // Returning an error rolls back whatever `open_object` created.
            let (obj, pid) = object_in(tx, project, &info.id)?
                .ok_or_else(|| not_in_project(project, &info.id))?;
            tx.prepare_cached(
                "INSERT INTO queue_objects (project_id, queue_id, object_id) VALUES (?1, ?2, ?3)
                 ON CONFLICT(project_id, queue_id) DO UPDATE SET object_id = ?3",
            )?
            .execute(params![pid, queue, obj])?;
            Ok(info)
        })?;
        self.sync_to_disk()?;
        Ok(info)
    }

    /// The kind and project name of the object with this `sys/id`, if it exists.
    pub fn object_project(&self, id: &str) -> Result<Option<(ObjectKind, String)>> {
        self.read(|tx| {
            let Some(obj) = super::fields::find_object(tx, id)? else {
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
    use crate::backend::{Reader, Writer};
    use crate::model::path::FieldPath;
    use crate::model::types::Value;
    use rusqlite::Connection;

    const P: &str = "team/dedup";

    fn req_in(project: &str) -> OpenRequest {
        OpenRequest {
            kind: ObjectKind::Run,
            project: project.into(),
            with_id: None,
            custom_run_id: None,
            model: None,
            owner: "me".into(),
            read_only: false,
        }
    }

    fn req() -> OpenRequest {
        req_in(P)
    }

    fn add(seq: u64, value: &str) -> QueuedBatch {
        QueuedBatch {
            seq,
            ops: vec![Operation::AddStrings {
                path: FieldPath::parse("n").unwrap(),
                values: vec![value.into()],
            }],
            ..QueuedBatch::default()
        }
    }

    fn members(store: &Store, id: &str) -> Vec<String> {
        match store
            .fetch_value(id, &FieldPath::parse("n").unwrap())
            .unwrap()
        {
            Some(Value::StringSet(s)) => s.into_iter().collect(),
            None => Vec::new(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_resent_batch_is_applied_once() {
        let store = crate::store::testdb::store();
        let run = store.open_object(&req()).unwrap();
        let bad = QueuedBatch {
            seq: 2,
            ops: vec![Operation::AssignInt {
                path: FieldPath::parse("n").unwrap(),
                value: 1,
            }],
            ..QueuedBatch::default()
        };
        let first = store
            .execute_queued(P, &run.id, "q1", &[add(1, "a"), bad.clone()])
            .unwrap();
        assert!(!first[0].duplicate && first[1].rejected.len() == 1);
        // The same two again (a lost answer), then a new one.
        let again = store
            .execute_queued(P, &run.id, "q1", &[add(1, "x"), bad, add(3, "c")])
            .unwrap();
        assert!(again[0].duplicate && again[1].duplicate && !again[2].duplicate);
        assert_eq!(again[1].rejected, first[1].rejected);
        // Another queue has its own numbers.
        store
            .execute_queued(P, &run.id, "q2", &[add(1, "d")])
            .unwrap();
        assert_eq!(members(&store, &run.id), ["a", "c", "d"]);
    }

    #[test]
    fn a_queue_id_is_scoped_to_its_project_and_object() {
        let store = crate::store::testdb::store();
        let victim = store.open_object(&req_in("team/a")).unwrap();
        let other = store.open_object(&req_in("team/a")).unwrap();
        let mallory = store.open_object(&req_in("team/b")).unwrap();
        store
            .execute_queued("team/a", &victim.id, "q", &[add(1, "a1")])
            .unwrap();
        // Another project posts the victim's queue id with a huge number to its own run...
        let hostile = store
            .execute_queued("team/b", &mallory.id, "q", &[add(1_000_000_000_000, "m")])
            .unwrap();
        assert!(!hostile[0].duplicate);
        // ... or to the victim's run: not found in its project, and nothing is kept.
        let e = store
            .execute_queued("team/b", &victim.id, "q", &[add(2_000_000_000_000, "m")])
            .unwrap_err();
        assert!(
            matches!(e, Error::ObjectNotFound { ref location, .. } if location.contains("team/b")),
            "{e}"
        );
        // Another object of the same project with the same queue id has its own numbers too.
        store
            .execute_queued("team/a", &other.id, "q", &[add(5, "o5")])
            .unwrap();
        let next = store
            .execute_queued("team/a", &victim.id, "q", &[add(1, "x"), add(2, "a2")])
            .unwrap();
        assert!(next[0].duplicate && !next[1].duplicate);
        assert_eq!(members(&store, &victim.id), ["a1", "a2"]);
        assert_eq!(members(&store, &mallory.id), ["m"]);
        assert_eq!(members(&store, &other.id), ["o5"]);
    }

    #[test]
    fn registering_twice_finds_the_same_object() {
        let store = crate::store::testdb::store();
        let a = store.open_for_queue(P, &req(), "q9").unwrap();
        let b = store.open_for_queue(P, &req(), "q9").unwrap();
        assert_eq!(a.id, b.id);
        assert!(a.created && !b.created);
        let c = store.open_for_queue(P, &req(), "q10").unwrap();
        assert_ne!(a.id, c.id);
        assert_eq!(
            store.object_project(&a.id).unwrap(),
            Some((ObjectKind::Run, P.into()))
        );
        assert_eq!(store.object_project("NOPE-1").unwrap(), None);
    }

    #[test]
    fn a_registration_is_unknown_in_another_project() {
        let store = crate::store::testdb::store();
        let a = store
            .open_for_queue("team/a", &req_in("team/a"), "q")
            .unwrap();
        // The same queue id from team/b: a new object of team/b, nothing of team/a's.
        let b = store
            .open_for_queue("team/b", &req_in("team/b"), "q")
            .unwrap();
        assert!(b.created && b.id != a.id && b.project == "team/b");
        // Naming team/a in the request, or team/a's object by id, does not help.
        let e = store
            .open_for_queue("team/b", &req_in("team/a"), "q2")
            .unwrap_err();
        assert!(matches!(e, Error::ObjectNotFound { .. }), "{e}");
        let mut by_id = req_in("team/b");
        by_id.with_id = Some(a.id.clone());
        assert!(store.open_for_queue("team/b", &by_id, "q3").is_err());
        // None of the refused calls created or registered anything.
        assert_eq!(
            store.list_objects("team/a", ObjectKind::Run).unwrap(),
            std::slice::from_ref(&a.id)
        );
        let again = store
            .open_for_queue("team/b", &req_in("team/b"), "q")
            .unwrap();
        assert_eq!(again.id, b.id);
        let again = store
            .open_for_queue("team/a", &req_in("team/a"), "q")
            .unwrap();
        assert_eq!(again.id, a.id);
    }

    #[test]
    fn a_version_1_store_keeps_its_queues_after_the_migration() {
        let dir = tempfile::tempdir().unwrap();
        // A store as version 1 left it: a run, and two queues (one registered by `neptune
        // sync`, one of an online run, whose object version 1 did not record).
        let (registered, online) = {
            let s = Store::open(dir.path()).unwrap();
            let registered = s.open_object(&req()).unwrap().id;
            let online = s.open_object(&req()).unwrap().id;
            let file = s.put_file(&mut &b"logged before"[..], "txt").unwrap();
            let op = Operation::UploadFile {
                path: FieldPath::parse("f").unwrap(),
                file,
            };
            assert!(s.execute(&registered, &[op]).unwrap().is_empty());
            (registered, online)
        };
        {
            let c = Connection::open(dir.path().join("store.db")).unwrap();
            c.execute_batch(
                "DROP TABLE queue_objects; DROP TABLE queue_batches; DROP TABLE legacy_queue_batches;
                 DROP TABLE project_files; DROP INDEX file_points_by_digest;
                 DROP INDEX fileset_entries_by_digest; DROP INDEX file_fields_by_digest;
                 DROP INDEX fields_by_path; DROP INDEX string_set_members_by_value;
                 UPDATE schema_version SET version = 1;
                 CREATE TABLE upload_queues (queue_id TEXT PRIMARY KEY, object_id TEXT,
                     last_seq INTEGER NOT NULL DEFAULT 0, last_reply TEXT);",
            )
            .unwrap();
            c.execute(
                "INSERT INTO upload_queues VALUES ('reg', ?1, 5, '[]'), ('live', NULL, 7, '[]')",
                [&registered],
            )
            .unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(
            super::super::schema::stored_version(&s.sqlite_writer()).unwrap(),
            super::super::schema::SCHEMA_VERSION
        );
        // Content its fields refer to stays reachable through its project only.
        let f = s
            .file_ref(&registered, &FieldPath::parse("f").unwrap())
            .unwrap()
            .expect("the file field");
        assert!(s.project_has_file(P, &f.digest).unwrap());
        assert!(!s.project_has_file("team/other", &f.digest).unwrap());
        // The registration resolves to the same run; resent batches stay duplicates.
        assert_eq!(s.open_for_queue(P, &req(), "reg").unwrap().id, registered);
        let out = s
            .execute_queued(P, &registered, "reg", &[add(5, "no"), add(6, "r6")])
            .unwrap();
        assert!(out[0].duplicate && !out[1].duplicate);
        let out = s
            .execute_queued(P, &online, "live", &[add(7, "no"), add(8, "l8")])
            .unwrap();
        assert!(out[0].duplicate && !out[1].duplicate);
        let out = s
            .execute_queued(P, &online, "live", &[add(8, "no")])
            .unwrap();
        assert!(out[0].duplicate);
        assert_eq!(members(&s, &registered), ["r6"]);
        assert_eq!(members(&s, &online), ["l8"]);
        // A version 1 store that never served (no `upload_queues` table) migrates too.
        let fresh = tempfile::tempdir().unwrap();
        {
            let c = Connection::open(fresh.path().join("store.db")).unwrap();
            c.execute_batch(super::super::schema::V1).unwrap();
            c.execute_batch(
                "CREATE TABLE schema_version (version INTEGER NOT NULL);
                 INSERT INTO schema_version VALUES (1);",
            )
            .unwrap();
        }
        let s = Store::open(fresh.path()).unwrap();
        let run = s.open_object(&req()).unwrap().id;
        let out = s.execute_queued(P, &run, "q", &[add(1, "f")]).unwrap();
        assert!(!out[0].duplicate);
        assert_eq!(members(&s, &run), ["f"]);
    }
}

//! Which file content a project may reach.
//!
//! The file area is shared and content-addressed: the same bytes uploaded through two projects
//! are stored once. Reaching content is not shared: a project may read, or refer to in an
//! operation, only content it holds, that is content uploaded through it (table
//! `project_files`) or referred to by a field of one of its objects (a File field, a point of
//! a FileSeries, an entry of a FileSet). Knowing a digest is not enough.

use super::sql::{params, Engine, Tx};

use super::{files, Store, R};
use crate::error::Result;

/// The lookups of [`holds`], in order: the upload record, then the references of the
/// three kinds of file fields.
const LOOKUPS: [&str; 3] = [
    "SELECT EXISTS (SELECT 1 FROM project_files WHERE project = ?1 AND digest = ?2)",
    "SELECT EXISTS (SELECT 1 FROM file_points fp
         JOIN fields f ON f.id = fp.field_id
         JOIN objects o ON o.id = f.object_id
         JOIN projects p ON p.id = o.project_id
         WHERE fp.digest = ?2 AND p.name = ?1)",
    "SELECT EXISTS (SELECT 1 FROM fileset_entries fe
         JOIN fields f ON f.id = fe.field_id
         JOIN objects o ON o.id = f.object_id
         JOIN projects p ON p.id = o.project_id
         WHERE fe.digest = ?2 AND p.name = ?1)",
];

/// The File fields of the project referring to the content: the digest inside the field's
/// JSON, by the index on that expression (one per engine).
const FILE_FIELDS_SQLITE: &str = "SELECT EXISTS (SELECT 1 FROM fields f
         JOIN objects o ON o.id = f.object_id
         JOIN projects p ON p.id = o.project_id
         WHERE f.type = 'File'
           AND (CASE WHEN json_valid(f.value) THEN json_extract(f.value, '$.digest') END) = ?2
           AND p.name = ?1)";
#[cfg(feature = "postgres")]
const FILE_FIELDS_POSTGRES: &str = "SELECT EXISTS (SELECT 1 FROM fields f
         JOIN objects o ON o.id = f.object_id
         JOIN projects p ON p.id = o.project_id
         WHERE f.type = 'File'
           AND ((f.value #>> '{}')::jsonb ->> 'digest') = ?2
           AND p.name = ?1)";

/// Whether `project` uploaded `digest` or one of its fields refers to it. Every lookup is by
/// index (see schema version 2); the upload record, the common case, is looked up first.
fn holds(c: &Tx<'_>, project: &str, digest: &str) -> R<bool> {
    let file_fields = match c.engine() {
        Engine::Sqlite => FILE_FIELDS_SQLITE,
        #[cfg(feature = "postgres")]
        Engine::Postgres => FILE_FIELDS_POSTGRES,
    };
    for sql in LOOKUPS.iter().chain([&file_fields]) {
        let found: bool = c
            .prepare_cached(sql)?
            .query_row(params![project, digest], |r| r.get(0))?;
        if found {
            return Ok(true);
        }
    }
    Ok(false)
}

impl Store {
    /// Records that `digest` was uploaded through `project`, which may then read it and refer
    /// to it (see [`Store::project_has_file`]), and when: `gc` keeps content whose upload was
    /// recorded within its grace period.
    pub fn record_upload(&self, project: &str, digest: &str) -> Result<()> {
        let now = crate::model::rules::clock::now_ms();
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO project_files (project, digest, uploaded_ms) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (project, digest) DO UPDATE SET uploaded_ms = excluded.uploaded_ms",
            )?
            .execute(params![project, digest, now])?;
            Ok(())
        })
    }

    /// Whether `project` may reach the content `digest`: it is in the file area, and it was
    /// uploaded through `project` or a field of an object of `project` refers to it. `false`
    /// for anything that is not a digest.
    pub fn project_has_file(&self, project: &str, digest: &str) -> Result<bool> {
        Ok(self.project_has_files(project, &[digest])?[0])
    }

    /// [`Store::project_has_file`] for each of `digests`, in one read transaction.
    pub fn project_has_files(&self, project: &str, digests: &[&str]) -> Result<Vec<bool>> {
        let mut out = Vec::with_capacity(digests.len());
        for d in digests {
            out.push(files::is_digest(d) && self.files.has(d)?);
        }
        if !out.contains(&true) {
            return Ok(out);
        }
        self.read(|tx| {
            for (d, present) in digests.iter().zip(out.iter_mut()) {
                if *present {
                    *present = holds(tx, project, d)?;
                }
            }
            Ok(())
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{ObjectKind, OpenRequest, Writer};
    use crate::model::operation::{FilePoint, FileRef, FileSetEntry, Operation};
    use crate::model::path::FieldPath;

    fn open(store: &Store, project: &str) -> String {
        store
            .open_object(&OpenRequest {
                kind: ObjectKind::Run,
                project: project.into(),
                with_id: None,
                custom_run_id: None,
                model: None,
                owner: "me".into(),
                read_only: false,
            })
            .unwrap()
            .id
    }

    fn put(store: &Store, bytes: &[u8]) -> FileRef {
        store.put_file(&mut &bytes[..], "txt").unwrap()
    }

    #[test]
    fn a_project_holds_what_it_uploaded_or_refers_to() {
        let store = crate::store::testdb::store();
        let a = open(&store, "team/a");
        open(&store, "team/b");
        let p = |s: &str| FieldPath::parse(s).unwrap();
        let [single, series, set, uploaded] = [b"1", b"2", b"3", b"4"].map(|b| put(&store, b));
        let ops = [
            Operation::UploadFile {
                path: p("f"),
                file: single.clone(),
            },
            Operation::LogImages {
                path: p("s"),
                points: vec![FilePoint {
                    step: Some(0.0),
                    timestamp_ms: 1,
                    file: series.clone(),
                    name: None,
                    description: None,
                }],
            },
            Operation::UploadFileSet {
                path: p("set"),
                files: vec![FileSetEntry {
                    path: "x.txt".into(),
                    file: set.clone(),
                    mtime_ms: 0,
                }],
                reset: false,
            },
        ];
        assert!(store.execute(&a, &ops).unwrap().is_empty());
        store.record_upload("team/a", &uploaded.digest).unwrap();
        for f in [&single, &series, &set, &uploaded] {
            assert!(store.project_has_file("team/a", &f.digest).unwrap());
            assert!(!store.project_has_file("team/b", &f.digest).unwrap());
        }
        // Recorded, but the content is not in the area; and no digest at all.
        let absent = "0".repeat(64);
        store.record_upload("team/a", &absent).unwrap();
        assert!(!store.project_has_file("team/a", &absent).unwrap());
        assert!(!store.project_has_file("team/a", "../store.db").unwrap());
        // The same bytes through the other project: its own record, one copy of the content.
        store
            .record_upload("team/b", &put(&store, b"1").digest)
            .unwrap();
        assert!(store.project_has_file("team/b", &single.digest).unwrap());
    }

    #[test]
    fn every_lookup_uses_an_index() {
        // SQLite's query plans (PostgreSQL's planner may prefer a scan of a tiny table).
        let store = Store::in_memory().unwrap();
        let expected = [
            "PRIMARY KEY",
            "file_points_by_digest",
            "fileset_entries_by_digest",
            "file_fields_by_digest",
        ];
        for (sql, index) in LOOKUPS.iter().chain([&FILE_FIELDS_SQLITE]).zip(expected) {
            let plan = store
                .read(|tx| {
                    let rows = tx
                        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?
                        .query_map(params!["p", "d"], |r| r.get::<_, String>(3))?
                        .collect::<std::result::Result<Vec<_>, _>>()?;
                    Ok(rows.join("\n"))
                })
                .unwrap();
            assert!(plan.contains(index), "{index} unused:\n{plan}");
            assert!(
                !plan.contains("SCAN f") && !plan.contains("SCAN o"),
                "{plan}"
            );
        }
    }
}

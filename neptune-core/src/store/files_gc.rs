//! Uploads recorded per project, readiness, and collecting content nothing refers to.
//!
//! # Why `gc` is safe while uploads run
//!
//! Content is removed only when, inside one write transaction of the database, nothing refers
//! to it: no File field, FileSeries point or FileSet entry, and no upload record younger than
//! the grace period. An upload through a server ([`Store::put_file_for`]) goes in this order:
//!
//! 1. the content streams into a temporary file or object, invisible under its digest
//!    ([`FileArea::stage`]), while its SHA-256 is computed;
//! 2. the upload is **recorded** (project, digest, now) in a write transaction;
//! 3. the content is **put** under its digest, unless it is already there ([`FileArea::place`]);
//! 4. the client is answered, and later refers to the digest in a field.
//!
//! Write transactions are serialized (SQLite's write lock, across processes), so a collection
//! batch runs wholly before or wholly after step 2. After it, the batch sees the fresh record
//! and keeps the content. Before it, the batch may remove the content, but step 3 comes later
//! and finds it missing, so puts it back from the staged copy. Either way the content is there
//! when the client is answered. The grace period covers step 4 (a client that got a digest and
//! refers to it within the grace period keeps its content) and content that writers without a
//! record put (the embedded store's own `put_file`): content changed within the grace period is
//! never removed. Temporary files and objects older than the grace period are leftovers of
//! killed uploads and are removed too.

use std::time::Duration;

use super::sql::{params, Engine, Tx};

use super::files::{is_digest, FileArea, Staged};
use super::{Fail, Store, R};
use crate::error::{Error, Result};
use crate::model::operation::FileRef;

/// Candidates checked and removed in one write transaction: small, so that writers wait on a
/// collection at most a few hundred removals.
const BATCH: usize = 64;

/// What [`Store::collect_garbage`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Content items removed (nothing referred to them).
    pub removed: u64,
    /// Bytes they held.
    pub freed_bytes: u64,
    /// Content items kept (referred to, or changed within the grace period).
    pub kept: u64,
    /// Temporary leftovers of interrupted uploads removed.
    pub leftovers_removed: u64,
    /// Bytes the leftovers held.
    pub leftovers_bytes: u64,
}

/// The digest a key of the area names (`ab/cdef…`), if it names one.
fn digest_of(rel: &str) -> Option<String> {
    let (head, tail) = rel.split_once('/')?;
    let d = format!("{head}{tail}");
    (head.len() == 2 && is_digest(&d)).then_some(d)
}

impl FileArea {
    /// Calls `f` with every entry of the area: its key (`ab/cdef…` for content, `tmp/…` for
    /// temporaries), size and Unix milliseconds of its last change (0 in memory).
    pub(crate) fn visit(&self, f: &mut dyn FnMut(&str, u64, i64) -> Result<()>) -> Result<()> {
        match self {
            FileArea::Disk { dir } => {
                let read = |p: &std::path::Path| {
                    std::fs::read_dir(p)
                        .map_err(|e| Error::io(format!("cannot list {}", p.display()), e))
                };
                for top in read(dir)? {
                    let top = top.map_err(|e| Error::io("cannot list the file area", e))?;
                    let Ok(name) = top.file_name().into_string() else {
                        continue;
                    };
                    if !top.path().is_dir() {
                        continue;
                    }
                    for e in read(&top.path())? {
                        let e = e.map_err(|e| Error::io("cannot list the file area", e))?;
                        let Ok(file) = e.file_name().into_string() else {
                            continue;
                        };
                        let Ok(meta) = e.metadata() else { continue };
                        let ms = meta
                            .modified()
                            .ok()
                            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                            .map_or(0, |d| d.as_millis() as i64);
                        f(&format!("{name}/{file}"), meta.len(), ms)?;
                    }
                }
                Ok(())
            }
            FileArea::Memory(map) => {
                let entries: Vec<(String, u64)> = map
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .map(|(d, b)| (format!("{}/{}", &d[..2], &d[2..]), b.len() as u64))
                    .collect();
                for (k, n) in entries {
                    f(&k, n, 0)?;
                }
                Ok(())
            }
            #[cfg(feature = "object-store")]
            FileArea::Object(area) => area.visit(f),
        }
    }

    /// Removes the entry at `rel` (a key [`FileArea::visit`] gave).
    pub(crate) fn remove(&self, rel: &str) -> Result<()> {
        if rel.contains("..") || rel.starts_with('/') {
            return Err(Error::Corrupt(format!(
                "{rel:?} is not a key of the file area"
            )));
        }
        match self {
            FileArea::Disk { dir } => {
                let p = dir.join(rel);
                match std::fs::remove_file(&p) {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(Error::io(format!("cannot remove {}", p.display()), e)),
                }
            }
            FileArea::Memory(map) => {
                if let Some(d) = digest_of(rel) {
                    map.lock().unwrap_or_else(|e| e.into_inner()).remove(&d);
                }
                Ok(())
            }
            #[cfg(feature = "object-store")]
            FileArea::Object(area) => area.remove(rel),
        }
    }

    /// Whether the area can be reached.
    pub(crate) fn check(&self) -> Result<()> {
        match self {
            FileArea::Disk { dir } => std::fs::metadata(dir.join("tmp"))
                .map(drop)
                .map_err(|e| Error::io(format!("the file area {} is gone", dir.display()), e)),
            FileArea::Memory(_) => Ok(()),
            #[cfg(feature = "object-store")]
            FileArea::Object(area) => area.check(),
        }
    }
}

/// Whether anything keeps `digest`: a field refers to it, or an upload of it was recorded at
/// or after `since_ms`.
fn referenced(tx: &Tx<'_>, digest: &str, since_ms: i64) -> R<bool> {
    let sql: [&str; 4] = [
        "SELECT EXISTS (SELECT 1 FROM project_files WHERE digest = ?1 AND uploaded_ms >= ?2)",
        "SELECT EXISTS (SELECT 1 FROM file_points WHERE digest = ?1)",
        "SELECT EXISTS (SELECT 1 FROM fileset_entries WHERE digest = ?1)",
        match tx.engine() {
            Engine::Sqlite => {
                "SELECT EXISTS (SELECT 1 FROM fields WHERE type = 'File'
                 AND (CASE WHEN json_valid(value) THEN json_extract(value, '$.digest') END) = ?1)"
            }
            #[cfg(feature = "postgres")]
            Engine::Postgres => {
                "SELECT EXISTS (SELECT 1 FROM fields WHERE type = 'File'
                 AND ((value #>> '{}')::jsonb ->> 'digest') = ?1)"
            }
        },
    ];
    for (i, sql) in sql.iter().enumerate() {
        let mut st = tx.prepare_cached(sql)?;
        let found: bool = if i == 0 {
            st.query_row(params![digest, since_ms], |r| r.get(0))?
        } else {
            st.query_row(params![digest], |r| r.get(0))?
        };
        if found {
            return Ok(true);
        }
    }
    Ok(false)
}

impl Store {
    /// Opens the store in `home` with its file content at `files`: `s3://bucket/prefix`
    /// (S3-compatible storage; credentials from the AWS chain, endpoint from
    /// `AWS_ENDPOINT_URL`) or `file:///absolute/folder`. Calls on such a store block, and must
    /// not be made from inside an async task.
    #[cfg(feature = "object-store")]
    pub fn open_with_files(home: &std::path::Path, files: &str) -> Result<Store> {
        let area = super::files_object::ObjectArea::open(files)?;
        Store::open_area(home, Some(FileArea::Object(area)))
    }

    /// Whether the store can serve: its database answers a query and its file area can be
    /// reached. The error names what is wrong.
    pub fn check_ready(&self) -> Result<()> {
        self.read(|tx| tx.query_row("SELECT 1", params![], |r| r.get::<_, i64>(0)))?;
        self.files.check()
    }

    /// Stores file content uploaded through `project`: streams it in, records the upload,
    /// then makes the content visible under its digest (the order `gc` relies on; see the
    /// module documentation). `project` may then read the content and refer to it.
    pub fn put_file_for(
        &self,
        project: &str,
        content: &mut dyn std::io::Read,
        extension: &str,
    ) -> Result<FileRef> {
        let staged: Staged = self.files.stage(content)?;
        if let Err(e) = self.record_upload(project, &staged.digest) {
            self.files.discard(staged);
            return Err(e);
        }
        let file = FileRef {
            digest: staged.digest.clone(),
            size: staged.size,
            extension: extension.to_owned(),
        };
        self.files.place(staged)?;
        Ok(file)
    }

    /// Removes file content nothing refers to (no field, no upload recorded within `grace`,
    /// not changed within `grace`) and temporary leftovers older than `grace`. Safe while
    /// uploads run: see the module documentation.
    pub fn collect_garbage(&self, grace: Duration) -> Result<GcReport> {
        let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        let cutoff = crate::model::rules::clock::now_ms().saturating_sub(grace_ms);
        let mut report = GcReport::default();
        let mut batch: Vec<(String, String, u64)> = Vec::with_capacity(BATCH);
        let mut leftovers: Vec<(String, u64)> = Vec::new();
        let flush = |batch: &mut Vec<(String, String, u64)>, report: &mut GcReport| {
            let removed = self.write(|tx| {
                let mut removed = Vec::new();
                for (rel, digest, size) in batch.iter() {
                    if referenced(tx, digest, cutoff)? {
                        continue;
                    }
                    self.files.remove(rel).map_err(Fail::Core)?;
                    tx.prepare_cached("DELETE FROM project_files WHERE digest = ?1")?
                        .execute(params![digest])?;
                    removed.push(*size);
                }
                Ok(removed)
            })?;
            report.kept += (batch.len() - removed.len()) as u64;
            report.removed += removed.len() as u64;
            report.freed_bytes += removed.iter().sum::<u64>();
            batch.clear();
            Ok::<(), Error>(())
        };
        self.files.visit(&mut |rel, size, modified_ms| {
            if rel.starts_with("tmp/") {
                if modified_ms < cutoff && leftovers.len() < 100_000 {
                    leftovers.push((rel.to_owned(), size));
                }
                return Ok(());
            }
            let Some(digest) = digest_of(rel) else {
                return Ok(());
            };
            if modified_ms >= cutoff {
                report.kept += 1;
                return Ok(());
            }
            batch.push((rel.to_owned(), digest, size));
            if batch.len() >= BATCH {
                flush(&mut batch, &mut report)?;
            }
            Ok(())
        })?;
        flush(&mut batch, &mut report)?;
        for (rel, size) in leftovers {
            self.files.remove(&rel)?;
            report.leftovers_removed += 1;
            report.leftovers_bytes += size;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{ObjectKind, OpenRequest, Reader, Writer};
    use crate::model::operation::Operation;
    use crate::model::path::FieldPath;

    fn run(store: &Store, project: &str) -> String {
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

    #[test]
    fn gc_removes_what_nothing_refers_to_and_keeps_the_rest() {
        let home = tempfile::tempdir().unwrap();
        let store = Store::open(home.path()).unwrap();
        let id = run(&store, "team/a");
        let used = store
            .put_file_for("team/a", &mut &b"used"[..], "txt")
            .unwrap();
        let unused = store
            .put_file_for("team/a", &mut &b"unused!"[..], "txt")
            .unwrap();
        let op = Operation::UploadFile {
            path: FieldPath::parse("f").unwrap(),
            file: used.clone(),
        };
        assert!(store.execute(&id, &[op]).unwrap().is_empty());
        std::fs::create_dir_all(home.path().join("files/tmp")).unwrap();
        std::fs::write(home.path().join("files/tmp/left.part"), b"xyz").unwrap();

        // Within the grace period: everything stays.
        let r = store.collect_garbage(Duration::from_secs(3600)).unwrap();
        assert_eq!((r.removed, r.kept, r.leftovers_removed), (0, 2, 0));
        assert!(store.has_file(&unused.digest).unwrap());

        std::thread::sleep(Duration::from_millis(5));
        let r = store.collect_garbage(Duration::ZERO).unwrap();
        assert_eq!(
            r,
            GcReport {
                removed: 1,
                freed_bytes: 7,
                kept: 1,
                leftovers_removed: 1,
                leftovers_bytes: 3,
            }
        );
        assert!(!store.has_file(&unused.digest).unwrap());
        assert!(!store.project_has_file("team/a", &unused.digest).unwrap());
        assert!(store.has_file(&used.digest).unwrap());
        assert!(store.project_has_file("team/a", &used.digest).unwrap());
        assert!(!home.path().join("files/tmp/left.part").exists());
        store.check_ready().unwrap();
    }

    #[test]
    fn content_removed_between_staging_and_placing_is_put_back() {
        let home = tempfile::tempdir().unwrap();
        let store = Store::open(home.path()).unwrap();
        // Old content nothing refers to, uploaded again: staged, then a collection runs before
        // the upload is recorded (and removes it), then record and place.
        let old = store.put_file(&mut &b"again"[..], "txt").unwrap();
        let path = home
            .path()
            .join("files")
            .join(&old.digest[..2])
            .join(&old.digest[2..]);
        let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
        let staged = store.files.stage(&mut &b"again"[..]).unwrap();
        // The staged copy is fresh (an upload in flight): kept; the old content goes.
        let r = store.collect_garbage(Duration::from_secs(60)).unwrap();
        assert_eq!((r.removed, r.leftovers_removed), (1, 0));
        assert!(!store.files.has(&staged.digest).unwrap());
        let digest = staged.digest.clone();
        store.record_upload("team/a", &digest).unwrap();
        store.files.place(staged).unwrap();
        assert!(store.project_has_file("team/a", &digest).unwrap());
        // Recorded now: a collection keeps it.
        assert_eq!(
            store
                .collect_garbage(Duration::from_secs(60))
                .unwrap()
                .removed,
            0
        );
    }
}

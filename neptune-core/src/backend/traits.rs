//! The storage contract: a [`Writer`] and a [`Reader`].
//!
//! Both are implemented by the embedded store and by a server's store alike; methods that only
//! a client-side writer needs (a durable queue's) have defaults that fit any store.

use crate::backend::{ObjectInfo, ObjectKind, OpenRequest, Rejected, SeriesInfo, SeriesPage};
use crate::error::Result;
use crate::model::operation::{ArtifactFile, FilePoint, FileRef, FileSetEntry, Operation};
use crate::model::path::FieldPath;
use crate::model::types::{FieldType, Value};

/// The write side of storage. Implementations validate every operation again (types, paths,
/// steps): a batch's invalid operations are rejected one by one and reported, the rest applied.
pub trait Writer: Send + Sync + 'static {
    /// Where the data lives, for messages (`"/home/me/.neptune"`, `"memory"`).
    fn location(&self) -> String;

    /// Creates or resumes an object. Fails with `ObjectNotFound` for an unknown `with_id`.
    fn open_object(&self, req: &OpenRequest) -> Result<ObjectInfo>;

    /// Applies a batch of operations to an object in one transaction, in order.
    /// `Err` means nothing of the batch was applied (the caller may retry it).
    fn execute(&self, object: &str, ops: &[Operation]) -> Result<Vec<Rejected>>;

    /// Streams `content` into the content-addressed file area and returns its reference
    /// (SHA-256 digest, size, and the given `extension`). Content is stored once however many
    /// fields or objects log it; it never sits whole in memory on the way (except in memory
    /// backends), and no partial content is ever visible under a digest. Operations that
    /// refer to the content ([`Operation::UploadFile`], `UploadFileSet`, `LogImages`) are sent
    /// after it.
    fn put_file(&self, content: &mut dyn std::io::Read, extension: &str) -> Result<FileRef>;

    /// Waits until every batch `execute` accepted has reached where this backend forwards it
    /// (the server, for the HTTP backend's queue on disk) and returns the operations refused
    /// there since the last call. Backends that store during `execute` return at once.
    fn wait_acknowledged(&self) -> Result<Vec<Rejected>> {
        Ok(Vec::new())
    }

    /// Called when the object begins to stop, before its last `execute`: a backend whose writes
    /// may wait (for room on a full disk) stops waiting at `deadline` and reports what it did
    /// not keep, so that `stop()` keeps to its timeout.
    fn stopping(&self, deadline: std::time::Instant) {
        let _ = deadline;
    }

    /// Called once when the object stops, after its last `execute`: waits at most until
    /// `deadline` for the forwarding to finish, then releases what the backend holds for the
    /// object. `Err` says what is left and how to send it (`neptune sync`).
    fn close(&self, deadline: std::time::Instant) -> Result<Vec<Rejected>> {
        let _ = deadline;
        Ok(Vec::new())
    }

    /// Waits (bounded) until the writes accepted so far can be read from the reader that goes
    /// with this writer. Stores that apply writes in `execute` return at once.
    fn settle(&self) -> Result<()> {
        Ok(())
    }

    /// Whether the reader that goes with this writer can be asked at all (`Err` says why not
    /// and what to do, e.g. for a queue kept offline). Stores return `Ok`.
    fn reachable(&self) -> Result<()> {
        Ok(())
    }

    /// The content with this digest if this writer still holds it itself (put, but not yet
    /// forwarded to where the reader reads); `None` otherwise, and for stores.
    fn pending_file(&self, digest: &str) -> Option<Box<dyn std::io::Read + Send>> {
        let _ = digest;
        None
    }
}

/// The read side of storage: fields, series pages, tables and files of stored objects.
pub trait Reader: Send + Sync + 'static {
    /// Every field of the object with its type.
    fn fetch_structure(&self, object: &str) -> Result<Vec<(FieldPath, FieldType)>>;

    /// The value of a single-value field (Float … RunState, GitRef, Artifact hash);
    /// `None` when the path holds no field.
    fn fetch_value(&self, object: &str, path: &FieldPath) -> Result<Option<Value>>;

    /// Every single-value field at or below `prefix` (the whole object for `None`).
    fn fetch_values_below(
        &self,
        object: &str,
        prefix: Option<&FieldPath>,
    ) -> Result<Vec<(FieldPath, Value)>>;

    /// Summary of a series field; `None` when the path holds no field.
    fn fetch_series_info(&self, object: &str, path: &FieldPath) -> Result<Option<SeriesInfo>>;

    /// Points of a FloatSeries with step greater than `after_step`, at most `limit`, in step order.
    fn fetch_float_points(
        &self,
        object: &str,
        path: &FieldPath,
        after_step: Option<f64>,
        limit: usize,
    ) -> Result<SeriesPage<f64>>;

    /// Entries of a StringSeries with step greater than `after_step`, at most `limit`.
    fn fetch_string_points(
        &self,
        object: &str,
        path: &FieldPath,
        after_step: Option<f64>,
        limit: usize,
    ) -> Result<SeriesPage<String>>;

    /// Ids of the objects of a kind in a project, oldest first.
    fn list_objects(&self, project: &str, kind: ObjectKind) -> Result<Vec<String>>;

    /// The table of the objects in `scope` that `query` selects (filters, sort, limit,
    /// columns and cells as the reference's `fetch_runs_table(...).to_pandas()`).
    fn fetch_table(
        &self,
        scope: &crate::TableScope,
        query: &crate::TableQuery,
    ) -> Result<crate::Table>;

    /// Whether the file area holds the content with this digest.
    fn has_file(&self, digest: &str) -> Result<bool>;

    /// Opens the content with this digest for reading (streamed).
    fn open_file(&self, digest: &str) -> Result<Box<dyn std::io::Read + Send>>;

    /// The file of a File field; `None` when the path holds no File.
    fn file_ref(&self, object: &str, path: &FieldPath) -> Result<Option<FileRef>>;

    /// The entries of a FileSet field, sorted by path (empty when the field is missing).
    fn fileset_entries(&self, object: &str, path: &FieldPath) -> Result<Vec<FileSetEntry>>;

    /// The entries of a FileSeries field, in step order (empty when the field is missing).
    fn file_points(&self, object: &str, path: &FieldPath) -> Result<Vec<FilePoint>>;

    /// The files of an Artifact field, sorted by path (empty when the field is missing).
    fn artifact_files(&self, object: &str, path: &FieldPath) -> Result<Vec<ArtifactFile>>;
}

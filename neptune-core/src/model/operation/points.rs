//! The values an [`Operation`](super::Operation) carries: points of series, file references,
//! FileSet entries and artifact files.

use serde::{Deserialize, Serialize};

use super::float;

/// One point of a FloatSeries.
///
/// `step: None` asks for the next step (the series' last step + 1, or 0), assigned where the
/// writes meet (the store, or the server's store) inside the transaction that applies the point,
/// so that several writers appending to one series keep every point. On the wire the step is
/// then left out; batches written by older clients, with a step on every point, read the same.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FloatPoint {
    /// The step; `None` asks the store for the next one.
    #[serde(
        default,
        with = "float::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub step: Option<f64>,
    /// The value.
    #[serde(with = "float")]
    pub value: f64,
    /// Unix time in milliseconds.
    pub timestamp_ms: i64,
}

/// One entry of a StringSeries; `step: None` as in [`FloatPoint`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StringPoint {
    /// The step; `None` asks the store for the next one.
    #[serde(
        default,
        with = "float::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub step: Option<f64>,
    /// The entry.
    pub value: String,
    /// Unix time in milliseconds.
    pub timestamp_ms: i64,
}

/// File content held in the content-addressed file area.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// SHA-256 of the content, lowercase hex.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// Extension without the dot (`"png"`), possibly empty.
    pub extension: String,
}

/// One entry of a FileSeries; `step: None` as in [`FloatPoint`]. Entries read back from a
/// store always carry their step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FilePoint {
    /// The step; `None` asks the store for the next one.
    #[serde(
        default,
        with = "float::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub step: Option<f64>,
    /// Unix time in milliseconds.
    pub timestamp_ms: i64,
    /// The file content.
    pub file: FileRef,
    /// An optional name of the entry.
    pub name: Option<String>,
    /// An optional description of the entry.
    pub description: Option<String>,
}

/// One file of a FileSet, at its path inside the set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSetEntry {
    /// Path inside the set, `/`-separated, relative.
    pub path: String,
    /// The file content.
    pub file: FileRef,
    /// Modification time of the source, Unix milliseconds.
    pub mtime_ms: i64,
}

/// One file referenced by an Artifact (hashed at the call, never uploaded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactFile {
    /// Path inside the artifact.
    pub file_path: String,
    /// SHA-256 of the file (or its ETag for S3), hex.
    pub file_hash: String,
    /// Size in bytes.
    pub size: u64,
    /// "Local" or "S3".
    pub storage_type: String,
    /// `file://…` or `s3://…`.
    pub location: String,
    /// Last modification, Unix milliseconds.
    pub last_modified_ms: i64,
}

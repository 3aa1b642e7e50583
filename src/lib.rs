#![doc = include_str!("../README.md")]
//!
//! ## Typed handles: one way to get each
//!
//! `object.bind::<T>(path)` gives the handle of any field type `T` (on a [`Run`], [`Model`],
//! [`ModelVersion`] or [`Project`]). It checks what the object already holds at `path`
//! and writes nothing:
//!
//! | The field                          | `T` in `run.bind::<T>(path)`       | The handle                 |
//! |------------------------------------|------------------------------------|----------------------------|
//! | a namespace of your struct         | `#[derive(Loggable)] struct Train` | `TrainHandle` (generated)  |
//! | Float / Integer / Boolean / String | `f64` / `i64` / `bool` / `String`  | [`FloatHandle`], [`IntegerHandle`], [`BooleanHandle`], [`StringHandle`] |
//! | Datetime                           | `chrono::DateTime<Utc>`            | [`DatetimeHandle`]         |
//! | FloatSeries / StringSeries         | [`FloatSeries`] / [`StringSeries`] | [`FloatSeriesHandle`] / [`StringSeriesHandle`] |
//! | StringSet (only `sys/tags`)        | — : [`run.tags()`](Object::tags)   | [`StringSetHandle`]        |
//! | File / FileSeries / FileSet        | [`File`] / [`FileSeries`] / [`FileSet`] | [`FileHandle`] / [`FileSeriesHandle`] / [`FileSetHandle`] |
//! | Artifact                           | [`Artifact`]                       | [`ArtifactHandle`]         |
//! | a field whose first write decides its type | —                          | [`Handler`], from `run.field(path)` |
//!
//! The other ways reach the same handles and exist for code that already holds what they
//! start from: [`Handler::bind`] (from a `Handler`), [`Loggable::handle`] (from the type), and
//! the typed views of a `Handler` (`run.field(path).float_series()`, `.file_set()`, …).
//!
//! ```
//! # fn main() -> neptune::Result<()> {
//! use neptune::{FloatHandle, FloatSeries, FloatSeriesHandle, Mode, Run, StringSetHandle};
//! let run = Run::builder().mode(Mode::Debug).open()?;
//! let lr: FloatHandle = run.bind::<f64>("params/lr")?;
//! let loss: FloatSeriesHandle = run.bind::<FloatSeries>("train/loss")?;
//! let tags: StringSetHandle = run.tags();
//! lr.assign(0.01)?;
//! loss.append(0.5)?;
//! tags.add(["baseline"])?;
//! assert_eq!(run.field("train/loss").float_series()?.fetch_last()?, 0.5);
//! run.stop()?;
//! # Ok(()) }
//! ```
//!
//! ## What is not the logging API
//!
//! The write format, the back ends and the embedded store are under [`plumbing`], for tools
//! built on the same contract (the `neptune` command, `neptune-server`, tests).

pub use neptune_core::{
    home_from_env, init_project, init_run, Appendable, Artifact, ArtifactFileData, ArtifactHandle,
    ArtifactValue, BooleanHandle, Builder, Cell, Column, Content, CsvCell, DatetimeHandle,
    DownloadOptions, Entry, Error, ExtendOptions, FetchOptions, FetchedSeries, FieldPath,
    FieldType, File, FileEntry, FileExtendOptions, FileHandle, FileLogOptions, FileSeries,
    FileSeriesHandle, FileSet, FileSetHandle, FileType, FloatHandle, FloatSeries,
    FloatSeriesHandle, GitInfo, GitRef, Handler, ImagePixel, IntegerHandle, IntoSeriesValue,
    IntoStrings, IntoValue, LineChart, LogOptions, Mode, Model, ModelVersion, Object, ObjectKind,
    ObjectType, OptionalHandle, ProgressBar, Project, Result, Row, Run, RunState, Scalar,
    ScalarHandle, SerdeOptions, SeriesHandle, SeriesMarker, SeriesValue, SeriesValues, StoreError,
    StringHandle, StringSeries, StringSeriesHandle, StringSet, StringSetHandle, Structure, Table,
    TableQuery, ToHtml, Unblock, UploadOptions, Uploadable, Value, ValueHandle, WriteOptions,
};

/// Waiting in async code: a blocking call on a thread of its own, as a future.
pub use neptune_core::unblock;

/// `RunLayer`: what a program logs with `tracing`, written to a run.
#[cfg(feature = "tracing")]
pub use neptune_core::tracing;

/// The `Loggable` trait (the derive of the same name is below, with the `derive` feature).
pub use neptune_core::__private::Loggable;

/// The derive as this facade re-exports it: generated code names `::neptune::__private`.
#[cfg(feature = "derive")]
pub use neptune_derive::LoggableFacade as Loggable;

#[doc(hidden)]
pub use neptune_core::__private;

/// Artifacts tracked from S3-compatible storage (`s3://bucket/prefix`).
#[cfg(feature = "s3")]
pub use neptune_core::s3;

/// The limits the library enforces at the call (sizes, lengths, counts).
pub mod limits {
    pub use neptune_core::{
        MAX_FILESET_PATH, MAX_PATH_LEN, MAX_PROJECT_NAME, MAX_QUERY_CONDITIONS, MAX_QUERY_DEPTH,
        MAX_QUERY_LEN, MAX_SERIES_STRING_LEN, MAX_STRING_LEN, MAX_TABLE_COLUMNS, MAX_TABLE_IDS,
        MAX_TABLE_VALUES, MAX_WORKSPACE_NAME,
    };
}

/// The defaults of settings a builder or a query can change.
pub mod defaults {
    pub use neptune_core::{
        DEFAULT_FLUSH_INTERVAL, DEFAULT_PROJECT, DEFAULT_SORT_BY, DEFAULT_STOP_TIMEOUT,
    };
}

/// What the logging API is built on, for tools that share its contract: the write format
/// ([`Operation`](plumbing::Operation)), the back end's [`Writer`](plumbing::Writer) and
/// [`Reader`](plumbing::Reader) traits, the [`Backend`](plumbing::Backend) that pairs them
/// (what [`Builder::backend`] takes) and the recording in-memory back end, the embedded store, and with the `http` feature the disk
/// queue and `neptune sync`. Not needed to log or read runs; expect it to change more often
/// than the rest.
pub mod plumbing {
    pub use neptune_core::backend::{
        self, Backend, MemoryBackend, ObjectInfo, OpenRequest, Reader, Writer,
    };
    pub use neptune_core::operation::{self, Operation};
    pub use neptune_core::store;
    pub use neptune_core::TableScope;
    #[cfg(feature = "http")]
    pub use neptune_core::{queue_disk, sync};
}

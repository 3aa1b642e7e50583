//! Core of the neptune experiment tracker: field model, operations, typed handles, background
//! worker and the embedded store.
//!
//! ```
//! # fn main() -> neptune_core::Result<()> {
//! use neptune_core::{Mode, Run};
//! let run = Run::builder().mode(Mode::Debug).tags(["quickstart"]).open()?;
//! run.field("params/lr").assign(0.001)?;
//! let loss = run.field("train/loss").float_series()?;
//! for i in 0..10 {
//!     loss.append(1.0 / (i as f64 + 1.0))?;
//! }
//! assert_eq!(loss.fetch_last()?, 0.1);
//! assert!(run.tags().fetch()?.contains("quickstart"));
//! run.stop()?;
//! # Ok(()) }
//! ```

pub mod backend;
mod config;
mod engine;
mod error;
mod files;
mod handles;
mod integrations;
mod model;
mod monitoring;
mod objects;
mod options;
pub mod store;
mod table;

#[cfg(feature = "http")]
pub use backend::http::{queue_disk, sync};
#[cfg(feature = "tracing")]
pub use integrations::tracing;
pub use model::rules;
pub use model::{operation, wire};

pub use backend::{Backend, MemoryBackend, ObjectInfo, ObjectKind, OpenRequest, Reader, Writer};
pub use config::{
    home_from_env, Mode, DEFAULT_FLUSH_INTERVAL, DEFAULT_PROJECT, DEFAULT_STOP_TIMEOUT,
    MAX_PROJECT_NAME, MAX_WORKSPACE_NAME,
};
pub use error::{Error, Result, StoreError};
#[cfg(feature = "s3")]
pub use files::s3;
pub use files::write_fileset_zip;
pub use files::{
    ArtifactFileData, ArtifactHandle, ArtifactValue, Content, DownloadOptions, File, FileEntry,
    FileExtendOptions, FileHandle, FileLogOptions, FileSeriesHandle, FileSetHandle, FileType,
    GitRef, ImagePixel, LineChart, ToHtml, UploadOptions, Uploadable, MAX_FILESET_PATH,
};
pub use handles::handler::{Appendable, FetchedSeries, Handler};
#[doc(hidden)]
pub use handles::loggable::__private;
pub use handles::loggable::{
    Artifact, FileSeries, FileSet, FloatSeries, Loggable, OptionalHandle, StringSeries, StringSet,
    ValueHandle,
};
pub use handles::typed::{
    BooleanHandle, DatetimeHandle, FloatHandle, FloatSeriesHandle, IntegerHandle, IntoStrings,
    Scalar, ScalarHandle, SeriesHandle, SeriesValue, StringHandle, StringSeriesHandle,
    StringSetHandle,
};
pub use model::inputs::{IntoSeriesValue, IntoValue, SeriesMarker};
pub use model::operation::Operation;
pub use model::path::{FieldPath, MAX_PATH_LEN};
pub use model::rules::{MAX_SERIES_STRING_LEN, MAX_STRING_LEN};
pub use model::structure::Structure;
pub use model::types::{FieldType, GitInfo, RunState, Value};
pub use model::values::{CsvCell, Entry, SeriesValues};
#[cfg(feature = "derive")]
pub use neptune_derive::Loggable;
#[doc(hidden)]
pub use objects::unblock::unblock_for_doc;
pub use objects::unblock::{unblock, Unblock};
pub use objects::{
    init_project, init_run, Builder, Model, ModelVersion, Object, ObjectType, Project, Run,
};
pub use options::{
    ExtendOptions, FetchOptions, LogOptions, ProgressBar, SerdeOptions, WriteOptions,
};
pub use table::{
    Cell, Column, Row, Table, TableQuery, TableScope, DEFAULT_SORT_BY, MAX_QUERY_CONDITIONS,
    MAX_QUERY_DEPTH, MAX_QUERY_LEN, MAX_TABLE_COLUMNS, MAX_TABLE_IDS, MAX_TABLE_VALUES,
};

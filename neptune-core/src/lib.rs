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
mod error;
mod files;
mod handler;
mod handles;
mod inputs;
mod loggable;
mod object;
mod objects;
pub mod operation;
mod options;
mod path;
mod queue;
#[cfg(feature = "http")]
pub mod queue_disk;
mod schema;
mod serde_tree;
pub mod store;
#[cfg(feature = "http")]
pub mod sync;
mod table;
mod types;
mod values;
mod worker;

pub use backend::{Backend, MemoryBackend, ObjectInfo, ObjectKind, OpenRequest};
pub use config::{
    home_from_env, Mode, DEFAULT_FLUSH_INTERVAL, DEFAULT_PROJECT, DEFAULT_STOP_TIMEOUT,
    MAX_PROJECT_NAME, MAX_WORKSPACE_NAME,
};
pub use error::{Error, Result};
#[cfg(feature = "s3")]
pub use files::s3;
pub use files::{
    ArtifactFileData, ArtifactHandle, ArtifactValue, Content, DownloadOptions, File, FileEntry,
    FileExtendOptions, FileHandle, FileLogOptions, FileSeriesHandle, FileSetHandle, FileType,
    GitRef, ImagePixel, LineChart, ToHtml, UploadOptions, Uploadable, MAX_FILESET_PATH,
};
pub use handler::{Appendable, FetchedSeries, Handler};
pub use handles::{
    BooleanHandle, DatetimeHandle, FloatHandle, FloatSeriesHandle, IntegerHandle, IntoStrings,
    Scalar, ScalarHandle, SeriesHandle, SeriesValue, StringHandle, StringSeriesHandle,
    StringSetHandle, MAX_SERIES_STRING_LEN, MAX_STRING_LEN,
};
pub use inputs::{IntoSeriesValue, IntoValue, SeriesMarker};
#[doc(hidden)]
pub use loggable::__private;
pub use loggable::{
    Artifact, FileSeries, FileSet, FloatSeries, Loggable, OptionalHandle, StringSeries, StringSet,
    ValueHandle,
};
#[cfg(feature = "derive")]
pub use neptune_derive::Loggable;
pub use objects::{
    init_project, init_run, Builder, Model, ModelVersion, Object, ObjectType, Project, Run,
};
pub use operation::Operation;
pub use options::{
    ExtendOptions, FetchOptions, LogOptions, ProgressBar, SerdeOptions, WriteOptions,
};
pub use path::{FieldPath, MAX_PATH_LEN};
pub use schema::Structure;
pub use table::{
    Cell, Column, Row, Table, TableQuery, TableScope, DEFAULT_SORT_BY, MAX_QUERY_CONDITIONS,
    MAX_QUERY_DEPTH, MAX_QUERY_LEN, MAX_TABLE_COLUMNS, MAX_TABLE_IDS, MAX_TABLE_VALUES,
};
pub use types::{FieldType, GitInfo, RunState, Value};
pub use values::{CsvCell, Entry, SeriesValues};

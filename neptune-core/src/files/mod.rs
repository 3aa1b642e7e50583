//! Every file-holding field type: File, FileSeries, FileSet, Artifact, and the GitRef captured
//! at run creation.
//!
//! Content goes into the backend's content-addressed file area ([`Writer::put_file`]) at the
//! call, streamed, before the operation that refers to it is queued: what is logged is what the
//! file held at the call, and a later change or deletion of the source changes nothing.
//!
//! ```
//! # fn main() -> neptune_core::Result<()> {
//! use neptune_core::{File, Mode, Run};
//! let run = Run::builder().mode(Mode::Debug).open()?;
//! run.field("notes").upload(File::from_content("hello"))?;
//! assert_eq!(run.field("notes").fetch_extension()?, "txt");
//! let dir = tempfile::tempdir().unwrap();
//! let saved = run.field("notes").file()?.download_to(dir.path())?;
//! assert_eq!(std::fs::read_to_string(saved).unwrap(), "hello");
//! # Ok(()) }
//! ```
//!
//! [`Writer::put_file`]: crate::Writer::put_file

mod artifact;
mod file;
mod fileset;
mod git;
mod handler;
mod html;
mod image;
#[cfg(feature = "s3")]
pub mod s3;
mod series;
mod transfer;
mod value;
mod zip;

pub use self::zip::write_fileset_zip;
pub use artifact::{ArtifactFileData, ArtifactHandle, ArtifactValue};
pub use file::FileHandle;
pub use fileset::{FileEntry, FileSetHandle, FileType, MAX_FILESET_PATH};
pub(crate) use git::capture as capture_git;
pub use git::GitRef;
pub use html::{LineChart, ToHtml};
pub use image::ImagePixel;
pub use series::{FileExtendOptions, FileLogOptions, FileSeriesHandle};
pub use transfer::{DownloadOptions, UploadOptions};
pub use value::{Content, File, Uploadable};

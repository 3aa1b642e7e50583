//! The untyped [`Handler`]'s file methods and typed file views.

use std::path::{Path, PathBuf};

use super::artifact::{ArtifactFileData, ArtifactHandle};
use super::file::FileHandle;
use super::fileset::{FileEntry, FileSetHandle};
use super::series::FileSeriesHandle;
use super::transfer::DownloadOptions;
use super::value::Uploadable;
use crate::error::{Error, Result};
use crate::handles::handler::Handler;
use crate::handles::typed::{missing, IntoStrings};
use crate::model::types::FieldType;

impl Handler {
    /// This path as a File field: the handle that
    /// [`object.bind::<File>(path)`](crate::Object::bind) gives, the documented way to get
    /// it; this view is for code that holds a `Handler` already.
    pub fn file(&self) -> Result<FileHandle> {
        FileHandle::bind(self.object().clone(), self.leaf()?.clone())
    }

    /// This path as a FileSeries: the handle that
    /// [`object.bind::<FileSeries>(path)`](crate::Object::bind) gives, the documented way to get
    /// it; this view is for code that holds a `Handler` already.
    pub fn file_series(&self) -> Result<FileSeriesHandle> {
        FileSeriesHandle::bind(self.object().clone(), self.leaf()?)
    }

    /// This path as a FileSet: the handle that
    /// [`object.bind::<FileSet>(path)`](crate::Object::bind) gives, the documented way to get
    /// it; this view is for code that holds a `Handler` already.
    pub fn file_set(&self) -> Result<FileSetHandle> {
        FileSetHandle::bind(self.object().clone(), self.leaf()?.clone())
    }

    /// This path as an Artifact: the handle that
    /// [`object.bind::<Artifact>(path)`](crate::Object::bind) gives, the documented way to get
    /// it; this view is for code that holds a `Handler` already.
    pub fn artifact(&self) -> Result<ArtifactHandle> {
        ArtifactHandle::bind(self.object().clone(), self.leaf()?.clone())
    }

    /// The type of the stored field (other processes' fields included).
    fn stored_type(&self) -> Result<FieldType> {
        let path = self.leaf()?;
        if let Some(t) = self.field_type() {
            return Ok(t);
        }
        self.object().sync()?;
        self.field_type()
            .ok_or_else(|| missing(self.object(), path))
    }

    fn no_method(&self, t: FieldType, method: &'static str, hint: &'static str) -> Result<Error> {
        Ok(Error::NoSuchMethod {
            path: self.leaf()?.to_string(),
            field_type: t,
            method,
            hint,
        })
    }

    /// Uploads a file (a path, read now, or a [`File`](crate::File)): the field becomes a File.
    ///
    /// ```
    /// # fn main() -> neptune_core::Result<()> {
    /// let run = neptune_core::Run::builder().mode(neptune_core::Mode::Debug).open()?;
    /// let err = run.field("x").upload("no/such/file.csv").unwrap_err();
    /// assert!(err.to_string().contains("no/such/file.csv"));
    /// # Ok(()) }
    /// ```
    pub fn upload(&self, value: impl Uploadable) -> Result<()> {
        self.file()?.upload(value)
    }

    /// Uploads the files matching globs into a FileSet.
    pub fn upload_files(&self, globs: impl IntoStrings) -> Result<()> {
        self.file_set()?.upload_files(globs)
    }

    /// Deletes files or folders from a FileSet.
    pub fn delete_files(&self, paths: impl IntoStrings) -> Result<()> {
        self.file_set()?.delete_files(paths)
    }

    /// Lists one level of a FileSet.
    pub fn list_fileset_files(&self, path: Option<&str>) -> Result<Vec<FileEntry>> {
        self.file_set()?.list_fileset_files(path)
    }

    /// Tracks files into an Artifact.
    pub fn track_files(&self, path: &str, destination: Option<&str>) -> Result<()> {
        self.artifact()?.track_files(path, destination)
    }

    /// The hash of an Artifact.
    pub fn fetch_hash(&self) -> Result<String> {
        self.artifact()?.fetch_hash()
    }

    /// The files of an Artifact.
    pub fn fetch_files_list(&self) -> Result<Vec<ArtifactFileData>> {
        self.artifact()?.fetch_files_list()
    }

    /// The extension of a File.
    pub fn fetch_extension(&self) -> Result<String> {
        match self.stored_type()? {
            FieldType::File => self.file()?.fetch_extension(),
            t => Err(self.no_method(t, "fetch_extension", "only a File has an extension")?),
        }
    }

    /// Downloads whatever the field holds to the working directory: a File, every file of a
    /// FileSeries, a FileSet as a zip, an Artifact's files. Returns the paths written.
    pub fn download(&self) -> Result<Vec<PathBuf>> {
        self.download_with(DownloadOptions::default())
    }

    /// [`download`](Self::download) to `destination` (see [`DownloadOptions`] for the rules).
    pub fn download_to(&self, destination: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        self.download_with(DownloadOptions::default().destination(destination.as_ref()))
    }

    /// [`download`](Self::download) with `destination` and `progress_bar`.
    pub fn download_with(&self, opts: DownloadOptions) -> Result<Vec<PathBuf>> {
        match self.stored_type()? {
            FieldType::File => Ok(vec![self.file()?.download_with(opts)?]),
            FieldType::FileSeries => self.file_series()?.download_with(opts),
            FieldType::FileSet => Ok(vec![self.file_set()?.download_with(opts)?]),
            FieldType::Artifact => self.artifact()?.download_with(opts),
            t => Err(self.no_method(
                t,
                "download",
                if t.is_series() {
                    "use fetch_values()"
                } else {
                    "use fetch()"
                },
            )?),
        }
    }

    /// Downloads the last file of a FileSeries.
    pub fn download_last(&self) -> Result<PathBuf> {
        self.download_last_with(DownloadOptions::default())
    }

    /// [`download_last`](Self::download_last) with `destination` and `progress_bar`.
    pub fn download_last_with(&self, opts: DownloadOptions) -> Result<PathBuf> {
        match self.stored_type()? {
            FieldType::FileSeries => self.file_series()?.download_last_with(opts),
            t => Err(self.no_method(t, "download_last", "use download()")?),
        }
    }
}

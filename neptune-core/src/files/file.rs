//! Handle of a File field: `upload`, `assign`, `download`, `fetch_extension`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::transfer::{self, Bytes, DownloadOptions, UploadOptions};
use super::value::{File, Uploadable};
use crate::error::{Error, Result};
use crate::handles::typed::missing;
use crate::model::operation::{FileRef, Operation};
use crate::model::path::FieldPath;
use crate::model::types::FieldType;
use crate::objects::inner::ObjectInner;
use crate::options::WriteOptions;

/// Handle of a File field.
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use neptune_core::{Mode, Run};
/// let dir = tempfile::tempdir().unwrap();
/// let src = dir.path().join("model.pt");
/// std::fs::write(&src, b"weights").unwrap();
/// let run = Run::builder().mode(Mode::Debug).open()?;
/// let model = run.field("model/last").file()?;
/// model.upload(&src)?;
/// std::fs::remove_file(&src).unwrap(); // the logged content does not depend on the source
/// assert_eq!(model.fetch_extension()?, "pt");
/// let saved = model.download_to(dir.path())?; // an existing directory: <field name>.<ext> inside
/// assert_eq!(saved, dir.path().join("last.pt"));
/// assert_eq!(std::fs::read(saved).unwrap(), b"weights");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FileHandle {
    obj: Arc<ObjectInner>,
    path: FieldPath,
}

impl FileHandle {
    pub(crate) fn bind(obj: Arc<ObjectInner>, path: FieldPath) -> Result<Self> {
        obj.schema().check(&path, FieldType::File, "binding")?;
        Ok(FileHandle { obj, path })
    }

    /// The field's path.
    pub fn path(&self) -> &FieldPath {
        &self.path
    }

    /// Uploads a file: a path (read now) or a [`File`] value.
    pub fn upload(&self, value: impl Uploadable) -> Result<()> {
        self.upload_with(value, UploadOptions::default())
    }

    /// [`upload`](Self::upload) with the reference's `wait` and a progress bar.
    pub fn upload_with(&self, value: impl Uploadable, opts: UploadOptions) -> Result<()> {
        let file = value.into_file();
        self.obj.check_writable(&self.path)?;
        self.obj
            .schema()
            .check(&self.path, FieldType::File, "upload")?;
        let stored = file.store(self.obj.backend(), &self.path, &opts.progress)?;
        let op = Operation::UploadFile {
            path: self.path.clone(),
            file: stored,
        };
        self.obj.write(vec![op], "upload", opts.wait)
    }

    /// Sets the field to a [`File`] value (the reference's `run["x"] = File(...)`).
    pub fn assign(&self, file: File) -> Result<()> {
        self.assign_with(file, WriteOptions::default())
    }

    /// [`assign`](Self::assign) with the reference's `wait`.
    pub fn assign_with(&self, file: File, opts: WriteOptions) -> Result<()> {
        self.upload_with(file, UploadOptions::default().wait(opts.wait))
    }

    fn stored(&self) -> Result<FileRef> {
        self.obj.flush_for_read()?;
        match self
            .obj
            .backend()
            .read()?
            .file_ref(&self.obj.id, &self.path)?
        {
            Some(f) => Ok(f),
            None => Err(self.not_a_file()?),
        }
    }

    /// The error for a path that holds no File: a missing field or another type.
    fn not_a_file(&self) -> Result<Error> {
        let t = self.obj.schema().type_of(self.path.as_str());
        Ok(match t {
            Some(t) if t != FieldType::File => Error::TypeMismatch {
                path: self.path.to_string(),
                existing: t,
                wanted: FieldType::File,
                attempted: "download",
            },
            _ => missing(&self.obj, &self.path),
        })
    }

    /// The extension of the stored file (without the dot).
    pub fn fetch_extension(&self) -> Result<String> {
        Ok(self.stored()?.extension)
    }

    /// The size of the stored file in bytes.
    pub fn fetch_size(&self) -> Result<u64> {
        Ok(self.stored()?.size)
    }

    /// Downloads to the working directory as `<field name>.<extension>`.
    pub fn download(&self) -> Result<PathBuf> {
        self.download_with(DownloadOptions::default())
    }

    /// Downloads to `destination`: an existing directory receives `<field name>.<extension>`,
    /// any other path is the file written.
    pub fn download_to(&self, destination: impl AsRef<Path>) -> Result<PathBuf> {
        self.download_with(DownloadOptions::default().destination(destination.as_ref()))
    }

    /// Downloads with the reference's `destination` and `progress_bar`; returns the path
    /// written. The file is written under a temporary name and renamed: an interrupted
    /// download leaves no partial file at the destination.
    pub fn download_with(&self, opts: DownloadOptions) -> Result<PathBuf> {
        let file = self.stored()?;
        let dest =
            transfer::single_destination(&self.path, &file.extension, opts.destination.as_deref())?;
        let bar = Bytes::bytes(
            &opts.progress,
            file.size,
            &format!("downloading {}", self.path),
        );
        let done = transfer::download_one(self.obj.backend(), &file, &dest, &bar);
        bar.finish();
        done.map_err(|e| self.context(e))?;
        Ok(dest)
    }

    fn context(&self, e: Error) -> Error {
        match e {
            Error::Io { context, source } => Error::Io {
                context: format!("\"{}\": {context}", self.path),
                source,
            },
            e => e,
        }
    }

    /// Opens the stored content for reading.
    pub fn open(&self) -> Result<Box<dyn Read + Send>> {
        let file = self.stored()?;
        self.obj.backend().open_file(&file.digest)
    }

    /// The stored content, read in full.
    pub fn fetch_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.open()?
            .read_to_end(&mut out)
            .map_err(|e| Error::io(format!("\"{}\": cannot read the content", self.path), e))?;
        Ok(out)
    }

    /// Reads a file made by [`File::as_serialized`] back into its type.
    pub fn fetch_serialized<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_reader(std::io::BufReader::new(self.open()?)).map_err(|e| {
            Error::Serialization {
                path: self.path.to_string(),
                reason: format!("the file does not hold this type: {e}"),
            }
        })
    }
}

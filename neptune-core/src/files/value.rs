//! The `File` value: what `upload`, `assign` and a FileSeries' `append` take.

use std::fmt;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::transfer::{check_extension, Bytes, Counting};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::model::operation::FileRef;
use crate::model::path::FieldPath;

/// Streams read by [`File::from_stream`] are kept in memory up to this size, in an anonymous
/// temporary file above it.
const SPOOL_IN_MEMORY: usize = 8 << 20;

#[derive(Clone)]
enum Source {
    /// Read when the file is logged.
    Path(PathBuf),
    Bytes(Arc<[u8]>),
    /// A stream read at `from_stream`, spooled to a temporary file (deleted with the last clone).
    Spooled(Arc<tempfile::TempPath>),
}

/// A file value, as the reference's `neptune.types.File`: content from a path, from memory,
/// from a stream, or converted from an image, a chart, a table or any serde value, with its
/// extension.
///
/// A path is read when the file is logged (`upload`, `assign`, `append`): from then on the
/// logged content is independent of the source.
///
/// ```
/// use neptune_core::File;
/// assert_eq!(File::from_content("some text").extension(), "txt");
/// assert_eq!(File::from_content(vec![0u8, 1, 2]).extension(), "bin");
/// assert_eq!(File::from_path("model.pt", None).extension(), "pt");
/// assert_eq!(File::from_path("data/sample", Some("csv")).extension(), "csv");
/// let html = File::from_content("<b>hi</b>").with_extension("html");
/// assert_eq!(html.extension(), "html");
/// ```
#[derive(Clone)]
pub struct File {
    source: Source,
    extension: String,
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("File");
        match &self.source {
            Source::Path(p) => d.field("path", p),
            Source::Bytes(b) => d.field("bytes", &b.len()),
            Source::Spooled(p) => d.field("spooled", &p.to_path_buf()),
        };
        d.field("extension", &self.extension).finish()
    }
}

impl PartialEq for File {
    fn eq(&self, other: &Self) -> bool {
        self.extension == other.extension
            && match (&self.source, &other.source) {
                (Source::Path(a), Source::Path(b)) => a == b,
                (Source::Bytes(a), Source::Bytes(b)) => a == b,
                (Source::Spooled(a), Source::Spooled(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
    }
}

/// Content for [`File::from_content`]: text (extension `txt`) or bytes (extension `bin`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// Text content (stored UTF-8).
    Text(String),
    /// Binary content.
    Bytes(Vec<u8>),
}

impl From<&str> for Content {
    fn from(s: &str) -> Self {
        Content::Text(s.to_owned())
    }
}

impl From<String> for Content {
    fn from(s: String) -> Self {
        Content::Text(s)
    }
}

impl From<&String> for Content {
    fn from(s: &String) -> Self {
        Content::Text(s.clone())
    }
}

impl From<Vec<u8>> for Content {
    fn from(b: Vec<u8>) -> Self {
        Content::Bytes(b)
    }
}

impl From<&[u8]> for Content {
    fn from(b: &[u8]) -> Self {
        Content::Bytes(b.to_vec())
    }
}

impl<const N: usize> From<&[u8; N]> for Content {
    fn from(b: &[u8; N]) -> Self {
        Content::Bytes(b.to_vec())
    }
}

fn extension_of(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl File {
    /// The file at `path` (read when logged); the extension is `extension`, else the name's.
    /// The reference's `File(path)` and `File.from_path(path, extension)`.
    pub fn from_path(path: impl AsRef<Path>, extension: Option<&str>) -> File {
        let path = path.as_ref().to_path_buf();
        let extension = match extension {
            Some(e) => e.trim_start_matches('.').to_owned(),
            None => extension_of(&path),
        };
        File {
            source: Source::Path(path),
            extension,
        }
    }

    /// The file at `path`, extension from its name (the reference's `File(path)`).
    pub fn new(path: impl AsRef<Path>) -> File {
        File::from_path(path, None)
    }

    /// Text (UTF-8, extension `txt`) or bytes (extension `bin`); change the extension with
    /// [`with_extension`](Self::with_extension).
    pub fn from_content(content: impl Into<Content>) -> File {
        let (bytes, ext) = match content.into() {
            Content::Text(s) => (s.into_bytes(), "txt"),
            Content::Bytes(b) => (b, "bin"),
        };
        File::from_bytes(bytes, ext)
    }

    pub(crate) fn from_bytes(bytes: Vec<u8>, extension: &str) -> File {
        File {
            source: Source::Bytes(bytes.into()),
            extension: extension.to_owned(),
        }
    }

    /// Reads `reader` from byte offset `seek` to its end, now (the reference's `from_stream`;
    /// the stream is read once). Extension `extension`, else `bin`. Large streams are kept in
    /// an anonymous temporary file, not in memory.
    ///
    /// ```
    /// # fn main() -> neptune_core::Result<()> {
    /// let f = neptune_core::File::from_stream(std::io::Cursor::new(b"xxhello"), 2, Some("txt"))?;
    /// assert_eq!(f.extension(), "txt");
    /// # Ok(()) }
    /// ```
    pub fn from_stream<R: Read + Seek>(
        mut reader: R,
        seek: u64,
        extension: Option<&str>,
    ) -> Result<File> {
        reader
            .seek(SeekFrom::Start(seek))
            .map_err(|e| Error::io(format!("cannot seek the stream to byte {seek}"), e))?;
        File::from_reader(reader, extension)
    }

    /// Reads a stream that cannot seek (a pipe, a socket) to its end, now; see
    /// [`from_stream`](Self::from_stream).
    pub fn from_reader<R: Read>(mut reader: R, extension: Option<&str>) -> Result<File> {
        let extension = extension
            .unwrap_or("bin")
            .trim_start_matches('.')
            .to_owned();
        let mut head = Vec::new();
        (&mut reader)
            .take(SPOOL_IN_MEMORY as u64 + 1)
            .read_to_end(&mut head)
            .map_err(|e| Error::io("cannot read the stream", e))?;
        if head.len() <= SPOOL_IN_MEMORY {
            return Ok(File {
                source: Source::Bytes(head.into()),
                extension,
            });
        }
        let spool = (|| -> io::Result<tempfile::TempPath> {
            let mut tmp = tempfile::NamedTempFile::new()?;
            tmp.write_all(&head)?;
            io::copy(&mut reader, &mut tmp)?;
            tmp.flush()?;
            Ok(tmp.into_temp_path())
        })()
        .map_err(|e| Error::io("cannot keep the stream in a temporary file", e))?;
        Ok(File {
            source: Source::Spooled(Arc::new(spool)),
            extension,
        })
    }

    /// Any serde value as a JSON file (extension `json`), readable back into its type with
    /// [`FileHandle::fetch_serialized`](crate::FileHandle::fetch_serialized): the counterpart
    /// of the reference's `as_pickle`.
    ///
    /// ```
    /// # fn main() -> neptune_core::Result<()> {
    /// use neptune_core::{File, Mode, Run};
    /// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    /// struct Model { weights: Vec<f32>, name: String }
    /// let run = Run::builder().mode(Mode::Debug).open()?;
    /// let model = Model { weights: vec![0.5, -1.0], name: "linear".into() };
    /// run.field("model").upload(File::as_serialized(&model)?)?;
    /// let back: Model = run.field("model").file()?.fetch_serialized()?;
    /// assert_eq!(back, model);
    /// # Ok(()) }
    /// ```
    pub fn as_serialized<T: Serialize + ?Sized>(value: &T) -> Result<File> {
        let bytes = serde_json::to_vec(value).map_err(|e| Error::Serialization {
            path: String::new(),
            reason: format!("cannot serialize the value into a file: {e}"),
        })?;
        Ok(File::from_bytes(bytes, "json"))
    }

    /// The same content with another extension (without the dot).
    pub fn with_extension(mut self, extension: &str) -> File {
        self.extension = extension.trim_start_matches('.').to_owned();
        self
    }

    /// The extension, without the dot (possibly empty).
    pub fn extension(&self) -> &str {
        &self.extension
    }

    /// The source path, for a file made from a path.
    pub fn path(&self) -> Option<&Path> {
        match &self.source {
            Source::Path(p) => Some(p),
            _ => None,
        }
    }

    /// The content, read in full (for small files: images, serialized values).
    pub fn read_all(&self) -> Result<Vec<u8>> {
        let (mut r, _) = self.open(None)?;
        let mut out = Vec::new();
        r.read_to_end(&mut out)
            .map_err(|e| Error::io(format!("cannot read {}", self.describe()), e))?;
        Ok(out)
    }

    fn describe(&self) -> String {
        match &self.source {
            Source::Path(p) => p.display().to_string(),
            _ => "the file content".into(),
        }
    }

    /// Opens the content; its size. `field` names the field in errors.
    pub(crate) fn open(&self, field: Option<&FieldPath>) -> Result<(Box<dyn Read + Send>, u64)> {
        let at = field.map_or(String::new(), |f| format!("\"{f}\": "));
        match &self.source {
            Source::Path(p) => {
                let meta = fs::metadata(p)
                    .map_err(|e| Error::io(format!("{at}cannot read {}", p.display()), e))?;
                if meta.is_dir() {
                    return Err(Error::InvalidValue {
                        path: field.map_or(String::new(), |f| f.to_string()),
                        reason: format!(
                            "{} is a directory; upload() takes one file, use upload_files() for a directory",
                            p.display()
                        ),
                    });
                }
                let f = fs::File::open(&**p)
                    .map_err(|e| Error::io(format!("{at}cannot read {}", p.display()), e))?;
                Ok((Box::new(f), meta.len()))
            }
            Source::Bytes(b) => Ok((Box::new(io::Cursor::new(b.clone())), b.len() as u64)),
            Source::Spooled(p) => {
                let f = fs::File::open(&**p)
                    .map_err(|e| Error::io(format!("{at}cannot read the spooled stream"), e))?;
                let n = f.metadata().map(|m| m.len()).unwrap_or(0);
                Ok((Box::new(f), n))
            }
        }
    }

    /// Stores the content in the backend's file area now; its reference.
    pub(crate) fn store(
        &self,
        backend: &Backend,
        field: &FieldPath,
        progress: &crate::options::ProgressBar,
    ) -> Result<FileRef> {
        check_extension(field, &self.extension)?;
        let (reader, size) = self.open(Some(field))?;
        let bar = Bytes::bytes(progress, size, &format!("uploading {field}"));
        let mut counting = Counting {
            inner: reader,
            progress: &bar,
        };
        let stored = backend.writer().put_file(&mut counting, &self.extension);
        bar.finish();
        stored.map_err(|e| match (e, &self.source) {
            (Error::Io { context, source }, Source::Path(p)) => Error::Io {
                context: format!("\"{field}\": uploading {}: {context}", p.display()),
                source,
            },
            (e, _) => e,
        })
    }
}

/// What `upload` takes: a path (`&str`, `String`, `&Path`, `PathBuf`) or a [`File`].
/// Strings are paths, as in the reference; use [`File::from_content`] for text content.
pub trait Uploadable {
    /// The file this value uploads as.
    fn into_file(self) -> File;
}

impl Uploadable for File {
    fn into_file(self) -> File {
        self
    }
}

impl Uploadable for &File {
    fn into_file(self) -> File {
        self.clone()
    }
}

impl Uploadable for &str {
    fn into_file(self) -> File {
        File::new(self)
    }
}

impl Uploadable for String {
    fn into_file(self) -> File {
        File::new(self)
    }
}

impl Uploadable for &String {
    fn into_file(self) -> File {
        File::new(self)
    }
}

impl Uploadable for &Path {
    fn into_file(self) -> File {
        File::new(self)
    }
}

impl Uploadable for PathBuf {
    fn into_file(self) -> File {
        File::new(self)
    }
}

impl Uploadable for &PathBuf {
    fn into_file(self) -> File {
        File::new(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_streams_are_spooled_not_kept_in_memory() {
        let data = vec![7u8; SPOOL_IN_MEMORY + 100];
        let f = File::from_stream(io::Cursor::new(data.clone()), 10, None).unwrap();
        assert!(matches!(f.source, Source::Spooled(_)));
        assert_eq!(f.extension(), "bin");
        assert_eq!(f.read_all().unwrap(), &data[10..]);
        let small = File::from_stream(io::Cursor::new(b"abc".to_vec()), 1, Some(".txt")).unwrap();
        assert_eq!(small.read_all().unwrap(), b"bc");
        assert_eq!(small.extension(), "txt");
        assert_eq!(small.clone(), small);
    }

    #[test]
    fn a_directory_points_to_upload_files() {
        let dir = tempfile::tempdir().unwrap();
        let err = File::new(dir.path()).open(None).err().unwrap().to_string();
        assert!(err.contains("upload_files"), "{err}");
        let err = File::new(dir.path().join("missing.txt"))
            .open(None)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("missing.txt"), "{err}");
    }
}

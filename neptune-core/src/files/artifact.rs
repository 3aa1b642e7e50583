//! Handle of an Artifact: `track_files` (local files and folders, `s3://bucket/prefix`),
//! `fetch_hash`, `fetch_files_list`, `fetch`/`assign` to copy, `download`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha1::{Digest, Sha1};

use super::fileset::user_set_path;
use super::transfer::{self, Bytes, DownloadOptions};
use crate::error::{Error, Result};
use crate::handles::typed::missing;
use crate::model::operation::{ArtifactFile, Operation};
use crate::model::path::FieldPath;
use crate::model::types::{FieldType, Value};
use crate::model::values::datetime_ms;
use crate::objects::inner::ObjectInner;
use crate::options::{ProgressBar, WriteOptions};
use crate::store::files::{hex, BUF};

pub(crate) const LOCAL: &str = "Local";
pub(crate) const S3: &str = "S3";

/// An artifact's value: its hash and files. Get it with [`ArtifactHandle::fetch`]; assign it
/// to another field or another run's field to copy the artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactValue {
    /// The artifact's hash over its files' paths, sizes, digests and metadata.
    pub hash: String,
    /// The files it tracks, ordered by path.
    pub files: Vec<ArtifactFile>,
}

/// One file of an artifact, as the reference's `ArtifactFileData`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactFileData {
    /// SHA-1 of the content (local files) or the ETag (S3 objects).
    pub file_hash: String,
    /// Path inside the artifact.
    pub file_path: String,
    /// Size in bytes.
    pub size: u64,
    /// "Local" or "S3".
    pub storage_type: String,
    /// `"file_path"`: the original location (`file://…` or `s3://…`);
    /// `"last_modified"`: `"YYYY-MM-DD HH:MM:SS"` (UTC).
    pub metadata: BTreeMap<String, String>,
    last_modified_ms: i64,
}

impl ArtifactFileData {
    fn from_file(f: ArtifactFile) -> Self {
        let when = datetime_ms(f.last_modified_ms);
        let metadata = BTreeMap::from([
            ("file_path".to_owned(), f.location),
            (
                "last_modified".to_owned(),
                when.format("%Y-%m-%d %H:%M:%S").to_string(),
            ),
        ]);
        ArtifactFileData {
            file_hash: f.file_hash,
            file_path: f.file_path,
            size: f.size,
            storage_type: f.storage_type,
            metadata,
            last_modified_ms: f.last_modified_ms,
        }
    }

    /// The original location (`file://…` or `s3://…`).
    pub fn location(&self) -> &str {
        self.metadata.get("file_path").map_or("", String::as_str)
    }

    /// The last modification time, to the millisecond.
    pub fn last_modified(&self) -> DateTime<Utc> {
        datetime_ms(self.last_modified_ms)
    }
}

/// SHA-1 (hex) and size of everything `r` yields, copying it into `out`.
pub(crate) fn sha1_copy(
    r: &mut dyn Read,
    out: &mut dyn Write,
    progress: &Bytes,
) -> io::Result<(String, u64)> {
    let mut h = Sha1::new();
    let mut buf = vec![0u8; BUF];
    let mut size = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
        out.write_all(&buf[..n])?;
        size += n as u64;
        progress.add(n as u64);
    }
    Ok((hex(&h.finalize()), size))
}

/// The artifact entries of a local file or folder (`destination` prefixes their paths).
pub(crate) fn local_files(
    field: &FieldPath,
    source: &str,
    destination: Option<&str>,
    progress: &ProgressBar,
) -> Result<Vec<ArtifactFile>> {
    let source = source.strip_prefix("file://").unwrap_or(source);
    if source.contains('*') {
        return Err(Error::invalid(
            field,
            format!("{source:?}: track_files takes a file or a folder, not a glob"),
        ));
    }
    let root = Path::new(source);
    let meta = fs::metadata(root)
        .map_err(|e| Error::io(format!("\"{field}\": cannot track {}", root.display()), e))?;
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    if meta.is_dir() {
        for e in walkdir::WalkDir::new(root).sort_by_file_name() {
            let e = e.map_err(|e| {
                let at = e
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                Error::io(format!("\"{field}\": cannot read {at}"), e.into())
            })?;
            if !e.path().is_file() {
                continue;
            }
            let rel = e.path().strip_prefix(root).unwrap_or(e.path());
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_str())
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    Error::invalid(
                        field,
                        format!("{} has a name that is not UTF-8", e.path().display()),
                    )
                })?
                .join("/");
            found.push((rel, e.path().to_path_buf()));
        }
        if found.is_empty() {
            return Err(Error::invalid(
                field,
                format!("{} holds no file to track", root.display()),
            ));
        }
    } else {
        let name = root.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
            Error::invalid(field, format!("{} has no UTF-8 file name", root.display()))
        })?;
        found.push((name.to_owned(), root.to_path_buf()));
    }
    let prefix = match destination {
        Some(d) => user_set_path(field, d)?,
        None => String::new(),
    };
    let total = found
        .iter()
        .filter_map(|(_, p)| fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = Bytes::bytes(progress, total, &format!("hashing {field}"));
    let mut files = Vec::with_capacity(found.len());
    for (rel, p) in found {
        let ctx = |e| Error::io(format!("\"{field}\": cannot read {}", p.display()), e);
        let mut f = fs::File::open(&p).map_err(ctx)?;
        let meta = f.metadata().map_err(ctx)?;
        let (hash, size) = sha1_copy(&mut f, &mut io::sink(), &bar).map_err(ctx)?;
        let abs = fs::canonicalize(&p).map_err(ctx)?;
        files.push(ArtifactFile {
            file_path: if prefix.is_empty() {
                rel
            } else {
                format!("{prefix}/{rel}")
            },
            file_hash: hash,
            size,
            storage_type: LOCAL.to_owned(),
            location: format!("file://{}", abs.display()),
            last_modified_ms: transfer::mtime_ms(&meta),
        });
    }
    bar.finish();
    Ok(files)
}

/// Handle of an Artifact field: versions of datasets, models and other files, tracked by hash
/// and location without uploading their content.
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use neptune_core::{Mode, Run};
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("train.csv"), "x,y\n1,2\n").unwrap();
/// let run = Run::builder().mode(Mode::Debug).open()?;
/// let data = run.field("datasets/train").artifact()?;
/// data.track_files(dir.path().to_str().unwrap(), None)?;
/// let files = data.fetch_files_list()?;
/// assert_eq!(files[0].file_path, "train.csv");
/// assert_eq!(files[0].file_hash.len(), 40); // SHA-1 of the content
/// let hash = data.fetch_hash()?;
/// // Copy to another field.
/// run.field("datasets/copy").artifact()?.assign(data.fetch()?)?;
/// assert_eq!(run.field("datasets/copy").fetch_hash()?, hash);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ArtifactHandle {
    obj: Arc<ObjectInner>,
    path: FieldPath,
}

impl ArtifactHandle {
    pub(crate) fn bind(obj: Arc<ObjectInner>, path: FieldPath) -> Result<Self> {
        obj.schema().check(&path, FieldType::Artifact, "binding")?;
        Ok(ArtifactHandle { obj, path })
    }

    /// The field's path.
    pub fn path(&self) -> &FieldPath {
        &self.path
    }

    /// Tracks a file, a folder (every file below it) or S3 objects (`s3://bucket/prefix`):
    /// their hash, size, modification time and location, under `destination` inside the
    /// artifact. Files are hashed now; tracking more files makes a new version.
    pub fn track_files(&self, path: &str, destination: Option<&str>) -> Result<()> {
        self.track_files_with(path, destination, WriteOptions::default())
    }

    /// [`track_files`](Self::track_files) with the reference's `wait`.
    pub fn track_files_with(
        &self,
        path: &str,
        destination: Option<&str>,
        opts: WriteOptions,
    ) -> Result<()> {
        self.obj.check_writable(&self.path)?;
        self.obj
            .schema()
            .check(&self.path, FieldType::Artifact, "track_files")?;
        let files = if let Some(rest) = path.strip_prefix("s3://") {
            self.s3_files(rest, destination)?
        } else {
            local_files(&self.path, path, destination, &ProgressBar::Auto)?
        };
        let op = Operation::TrackFilesToArtifact {
            path: self.path.clone(),
            files,
        };
        self.obj.write(vec![op], "track_files", opts.wait)
    }

    #[cfg(feature = "s3")]
    fn s3_files(&self, rest: &str, destination: Option<&str>) -> Result<Vec<ArtifactFile>> {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix_dest = match destination {
            Some(d) => user_set_path(&self.path, d)?,
            None => String::new(),
        };
        let client = super::s3::S3Client::from_env().map_err(|e| self.context(e))?;
        super::s3::artifact_files(&client, &self.path, bucket, prefix, &prefix_dest)
    }

    #[cfg(not(feature = "s3"))]
    fn s3_files(&self, _: &str, _: Option<&str>) -> Result<Vec<ArtifactFile>> {
        Err(Error::invalid(
            &self.path,
            "this build has no S3 support; enable the `s3` feature of neptune-core",
        ))
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

    /// The artifact's hash (SHA-256 over its entries).
    pub fn fetch_hash(&self) -> Result<String> {
        self.obj.flush_for_read()?;
        match self
            .obj
            .backend()
            .read()?
            .fetch_value(&self.obj.id, &self.path)?
        {
            Some(Value::Artifact(h)) => Ok(h),
            Some(other) => Err(Error::TypeMismatch {
                path: self.path.to_string(),
                existing: other.field_type().unwrap_or(FieldType::Artifact),
                wanted: FieldType::Artifact,
                attempted: "fetch_hash",
            }),
            None => Err(missing(&self.obj, &self.path)),
        }
    }

    /// The artifact's files, sorted by path.
    pub fn fetch_files_list(&self) -> Result<Vec<ArtifactFileData>> {
        Ok(self
            .fetch()?
            .files
            .into_iter()
            .map(ArtifactFileData::from_file)
            .collect())
    }

    /// The artifact's value (hash and files), to assign elsewhere.
    pub fn fetch(&self) -> Result<ArtifactValue> {
        let hash = self.fetch_hash()?;
        let files = self
            .obj
            .backend()
            .read()?
            .artifact_files(&self.obj.id, &self.path)?;
        Ok(ArtifactValue { hash, files })
    }

    /// Sets the field to a fetched artifact (of this or another run).
    pub fn assign(&self, value: ArtifactValue) -> Result<()> {
        self.assign_with(value, WriteOptions::default())
    }

    /// [`assign`](Self::assign) with the reference's `wait`.
    pub fn assign_with(&self, value: ArtifactValue, opts: WriteOptions) -> Result<()> {
        let op = Operation::AssignArtifact {
            path: self.path.clone(),
            hash: value.hash,
            files: value.files,
        };
        self.obj.write(vec![op], "assign", opts.wait)
    }

    /// Downloads every file into the working directory, at its path inside the artifact.
    pub fn download(&self) -> Result<Vec<PathBuf>> {
        self.download_with(DownloadOptions::default())
    }

    /// Downloads every file into the directory `destination`.
    pub fn download_to(&self, destination: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        self.download_with(DownloadOptions::default().destination(destination.as_ref()))
    }

    /// Downloads with `destination` (a directory) and `progress_bar`. Local files are copied
    /// from their original location, S3 objects fetched from their bucket; each is checked
    /// against its tracked hash and size. If any file is gone or changed since it was
    /// tracked, the download fails and writes nothing.
    pub fn download_with(&self, opts: DownloadOptions) -> Result<Vec<PathBuf>> {
        let files = self.fetch()?.files;
        let dir = match opts.destination {
            Some(d) => d,
            None => transfer::cwd()?,
        };
        let targets = files
            .iter()
            .map(|f| transfer::safe_join(&dir, &f.file_path, self.path.as_str()))
            .collect::<Result<Vec<_>>>()?;
        let total = files.iter().map(|f| f.size).sum();
        let bar = Bytes::bytes(&opts.progress, total, &format!("downloading {}", self.path));
        let mut staged: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(files.len());
        let result = (|| -> Result<()> {
            for (f, target) in files.iter().zip(&targets) {
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent)
                        .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
                }
                let tmp = transfer::temp_beside(target);
                staged.push((tmp.clone(), target.clone()));
                let mut out = fs::File::create(&tmp)
                    .map_err(|e| Error::io(format!("cannot create {}", tmp.display()), e))?;
                self.fetch_one(f, &mut out, &bar)?;
            }
            for (tmp, target) in &staged {
                fs::rename(tmp, target)
                    .map_err(|e| Error::io(format!("cannot write {}", target.display()), e))?;
            }
            Ok(())
        })();
        bar.finish();
        if let Err(e) = result {
            for (tmp, _) in &staged {
                let _ = fs::remove_file(tmp);
            }
            return Err(self.context(e));
        }
        Ok(targets)
    }

    /// Copies one tracked file into `out`, checking it is what was tracked.
    fn fetch_one(&self, f: &ArtifactFile, out: &mut fs::File, bar: &Bytes) -> Result<()> {
        match f.storage_type.as_str() {
            LOCAL => {
                let p = f.location.strip_prefix("file://").unwrap_or(&f.location);
                let mut src = fs::File::open(p).map_err(|e| {
                    Error::io(
                        format!(
                            "{} ({}) is gone; track it again or restore it",
                            f.file_path, f.location
                        ),
                        e,
                    )
                })?;
                let (hash, size) = sha1_copy(&mut src, out, bar)
                    .map_err(|e| Error::io(format!("cannot copy {}", f.location), e))?;
                if hash != f.file_hash || size != f.size {
                    return Err(Error::invalid(
                        &self.path,
                        format!(
                            "{} ({}) changed since it was tracked (SHA-1 {hash}, {size} bytes; tracked {}, {} bytes); track it again",
                            f.file_path, f.location, f.file_hash, f.size
                        ),
                    ));
                }
                Ok(())
            }
            S3 => self.fetch_s3(f, out, bar),
            other => Err(Error::invalid(
                &self.path,
                format!("{}: unknown storage type {other:?}", f.file_path),
            )),
        }
    }

    #[cfg(feature = "s3")]
    fn fetch_s3(&self, f: &ArtifactFile, out: &mut fs::File, bar: &Bytes) -> Result<()> {
        let client = super::s3::S3Client::from_env()?;
        super::s3::download_checked(&client, &self.path, f, out, bar)
    }

    #[cfg(not(feature = "s3"))]
    fn fetch_s3(&self, f: &ArtifactFile, _: &mut fs::File, _: &Bytes) -> Result<()> {
        Err(Error::invalid(
            &self.path,
            format!(
                "{} is in S3 and this build has no S3 support; enable the `s3` feature",
                f.location
            ),
        ))
    }
}

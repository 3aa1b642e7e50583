//! Handle of a FileSet: `upload_files`, `assign`, `delete_files`, `download` (a zip),
//! `list_fileset_files`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::transfer::{self, Bytes, Counting, DownloadOptions, UploadOptions};
use crate::error::{Error, Result};
use crate::handles::typed::{missing, IntoStrings};
use crate::model::operation::{FileRef, FileSetEntry, Operation};
use crate::model::path::FieldPath;
use crate::model::types::FieldType;
use crate::model::values::datetime_ms;
use crate::objects::inner::ObjectInner;
use crate::options::WriteOptions;

/// Threads that store the files of one `upload_files` call.
const UPLOAD_THREADS: usize = 4;

/// Longest path of a file inside a set, in characters: a longer one could not be written
/// into the zip that `download` makes (nor on most file systems).
pub const MAX_FILESET_PATH: usize = 1024;

/// Whether a [`FileEntry`] is a file or a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileType {
    /// A file.
    File,
    /// A folder (its files are listed as entries of their own).
    Directory,
}

impl FileType {
    /// "file" or "directory", as the reference prints them.
    pub fn as_str(self) -> &'static str {
        match self {
            FileType::File => "file",
            FileType::Directory => "directory",
        }
    }
}

/// One item of [`FileSetHandle::list_fileset_files`]: a file, or a directory (no size; its
/// mtime is the latest of the files below it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    /// Name of the file or folder, without its parent path.
    pub name: String,
    /// Size in bytes; `None` for a directory.
    pub size: Option<u64>,
    /// Last modification time of the source file when it was uploaded.
    pub mtime: DateTime<Utc>,
    /// File or folder.
    pub file_type: FileType,
}

/// Handle of a FileSet: many files under one field, kept with their folder structure.
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use neptune_core::{FileType, Mode, Run};
/// let dir = tempfile::tempdir().unwrap();
/// let data = dir.path().join("data");
/// std::fs::create_dir_all(data.join("datasets")).unwrap();
/// std::fs::write(data.join("sample.csv"), "a,b\n").unwrap();
/// std::fs::write(data.join("datasets/v2.csv"), "a,b\n1,2\n").unwrap();
/// let run = Run::builder().mode(Mode::Debug).open()?;
/// let set = run.field("data").file_set()?;
/// set.upload_files(data.to_str().unwrap())?; // paths relative to the folder's own root
/// let top = set.list_fileset_files(None)?;
/// assert_eq!(top.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["datasets", "sample.csv"]);
/// assert_eq!(top[0].file_type, FileType::Directory);
/// assert_eq!(set.list_fileset_files(Some("datasets"))?[0].size, Some(8));
/// set.delete_files("datasets")?;
/// assert_eq!(set.list_fileset_files(None)?.len(), 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FileSetHandle {
    obj: Arc<ObjectInner>,
    path: FieldPath,
}

/// The root that paths inside a file set are relative to: the common path of every match
/// (its directory when it is a file), or the working directory when that root lies inside it.
pub(crate) fn common_root(matches: &[PathBuf], cwd: &Path) -> Option<PathBuf> {
    let first = matches.first()?;
    let mut root: Vec<_> = first.components().collect();
    for m in &matches[1..] {
        let n = root
            .iter()
            .zip(m.components())
            .take_while(|(a, b)| **a == *b)
            .count();
        root.truncate(n);
    }
    let mut root: PathBuf = root.iter().collect();
    if root.is_file() {
        root.pop();
    }
    if root != cwd && root.starts_with(cwd) {
        root = cwd.to_path_buf();
    }
    Some(root)
}

/// A set path for `file` under `root`: `/`-separated, UTF-8.
fn set_path(field: &FieldPath, root: &Path, file: &Path) -> Result<String> {
    let rel = file.strip_prefix(root).map_err(|_| {
        Error::invalid(
            field,
            format!("{} is not below {}", file.display(), root.display()),
        )
    })?;
    let mut parts = Vec::new();
    for c in rel.components() {
        let s = c.as_os_str().to_str().ok_or_else(|| {
            Error::invalid(
                field,
                format!(
                    "{} has a name that is not UTF-8; rename it to upload it",
                    file.display()
                ),
            )
        })?;
        parts.push(s);
    }
    let joined = parts.join("/");
    let n = joined.chars().count();
    if n > MAX_FILESET_PATH {
        // The start and the end of the name: enough to find the file, not a page of text.
        let start: String = joined.chars().take(80).collect();
        let end: String = joined.chars().skip(n - 60).collect();
        let shown = format!("{start}…{end}");
        return Err(Error::invalid(
            field,
            format!(
                "the file {shown:?} would have a path of {n} characters inside the file set, \
                 more than {MAX_FILESET_PATH}; upload it from a folder nearer to it (nothing \
                 was uploaded)"
            ),
        ));
    }
    Ok(joined)
}

/// Expands globs into (path inside the set, file on disk), sorted by set path.
pub(crate) fn expand_globs(field: &FieldPath, globs: &[String]) -> Result<Vec<(String, PathBuf)>> {
    if globs.is_empty() {
        return Err(Error::invalid(
            field,
            "upload_files needs at least one path or glob",
        ));
    }
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let mut matched = Vec::new();
    for g in globs {
        let paths = glob::glob_with(g, opts)
            .map_err(|e| Error::invalid(field, format!("{g:?} is not a valid glob: {e}")))?;
        let before = matched.len();
        for p in paths {
            let p = p.map_err(|e| {
                Error::io(
                    format!("\"{field}\": cannot read {}", e.path().display()),
                    e.into(),
                )
            })?;
            matched.push(transfer::absolute(&p)?);
        }
        if matched.len() == before {
            return Err(Error::invalid(
                field,
                format!("{g:?} matches no file or directory (relative globs start at the working directory)"),
            ));
        }
    }
    let cwd = transfer::cwd()?;
    let root = common_root(&matched, &cwd).unwrap_or(cwd);
    let mut files = BTreeMap::new();
    for m in &matched {
        if m.is_dir() {
            for e in walkdir::WalkDir::new(m).sort_by_file_name() {
                let e = e.map_err(|e| {
                    let at = e
                        .path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    Error::io(format!("\"{field}\": cannot read {at}"), e.into())
                })?;
                if e.path().is_file() {
                    files.insert(set_path(field, &root, e.path())?, e.path().to_path_buf());
                }
            }
        } else if m.is_file() {
            files.insert(set_path(field, &root, m)?, m.clone());
        }
    }
    if files.is_empty() {
        return Err(Error::invalid(
            field,
            format!("{globs:?} match only empty directories; nothing to upload"),
        ));
    }
    Ok(files.into_iter().collect())
}

/// Normalizes a path inside a set given by a user: `./a/b/` → `a/b`; refuses absolute
/// paths and `..`.
pub(crate) fn user_set_path(field: &FieldPath, p: &str) -> Result<String> {
    let mut s = p.trim_end_matches('/');
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    if s == "." {
        return Ok(String::new());
    }
    let bad = p.is_empty()
        || p.starts_with('/')
        || p.contains('\\')
        || s.split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..");
    if bad {
        return Err(Error::invalid(
            field,
            format!("{p:?} is not a path inside the file set: give a relative path without '..' (e.g. \"data/sample.csv\")"),
        ));
    }
    Ok(s.to_owned())
}

impl FileSetHandle {
    pub(crate) fn bind(obj: Arc<ObjectInner>, path: FieldPath) -> Result<Self> {
        obj.schema().check(&path, FieldType::FileSet, "binding")?;
        Ok(FileSetHandle { obj, path })
    }

    /// The field's path.
    pub fn path(&self) -> &FieldPath {
        &self.path
    }

    /// Uploads the files matching one or more globs (`"*.py"`, `"data/**/*.csv"`, a file or
    /// a directory, which keeps its tree), adding them to the set. Paths inside the set are
    /// relative to the common root of all matches, or to the working directory when that
    /// root lies inside it. A glob that matches nothing is an error, and nothing is uploaded.
    pub fn upload_files(&self, globs: impl IntoStrings) -> Result<()> {
        self.upload_files_with(globs, UploadOptions::default())
    }

    /// [`upload_files`](Self::upload_files) with `wait` and a progress bar.
    pub fn upload_files_with(&self, globs: impl IntoStrings, opts: UploadOptions) -> Result<()> {
        self.upload(globs.into_strings(), false, opts)
    }

    /// Replaces the whole set by the files matching the globs.
    pub fn assign(&self, globs: impl IntoStrings) -> Result<()> {
        self.assign_with(globs, WriteOptions::default())
    }

    /// [`assign`](Self::assign) with the reference's `wait`.
    pub fn assign_with(&self, globs: impl IntoStrings, opts: WriteOptions) -> Result<()> {
        self.upload(
            globs.into_strings(),
            true,
            UploadOptions::new().wait(opts.wait),
        )
    }

    fn upload(&self, globs: Vec<String>, reset: bool, opts: UploadOptions) -> Result<()> {
        let attempted = if reset { "assign" } else { "upload_files" };
        self.obj.check_writable(&self.path)?;
        self.obj
            .schema()
            .check(&self.path, FieldType::FileSet, attempted)?;
        let files = expand_globs(&self.path, &globs)?;
        let mut metas = Vec::with_capacity(files.len());
        let mut total = 0u64;
        for (_, p) in &files {
            let m = std::fs::metadata(p).map_err(|e| {
                Error::io(format!("\"{}\": cannot read {}", self.path, p.display()), e)
            })?;
            total += m.len();
            metas.push(m);
        }
        let bar = Bytes::bytes(&opts.progress, total, &format!("uploading {}", self.path));
        let backend = self.obj.backend();
        let field = &self.path;
        let store_one = |(set_path, disk): &(String, PathBuf), meta: &std::fs::Metadata| {
            let ext = disk
                .extension()
                .and_then(|e| e.to_str())
                .filter(|e| transfer::check_extension(field, e).is_ok())
                .unwrap_or("");
            let f = std::fs::File::open(disk).map_err(|e| {
                Error::io(format!("\"{field}\": cannot read {}", disk.display()), e)
            })?;
            let mut r = Counting {
                inner: f,
                progress: &bar,
            };
            let file: FileRef = backend.writer().put_file(&mut r, ext)?;
            Ok(FileSetEntry {
                path: set_path.clone(),
                file,
                mtime_ms: transfer::mtime_ms(meta),
            })
        };
        // Many small files are bound by file-system calls, not by one core: store them from a
        // few threads, keeping their order.
        let threads = if files.len() < 64 { 1 } else { UPLOAD_THREADS };
        let chunk = files.len().div_ceil(threads).max(1);
        let results: Vec<Result<Vec<FileSetEntry>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = files
                .chunks(chunk)
                .zip(metas.chunks(chunk))
                .map(|(fs, ms)| {
                    scope.spawn(move || {
                        fs.iter()
                            .zip(ms)
                            .map(|(f, m)| store_one(f, m))
                            .collect::<Result<Vec<_>>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(Error::Worker("an upload thread panicked".into())))
                })
                .collect()
        });
        let mut entries = Vec::with_capacity(files.len());
        for r in results {
            entries.extend(r?);
        }
        bar.finish();
        let op = Operation::UploadFileSet {
            path: self.path.clone(),
            files: entries,
            reset,
        };
        self.obj.write(vec![op], attempted, opts.wait)
    }

    /// Deletes files or whole folders (paths inside the set, e.g. `"ner"` or
    /// `"ner/notes.txt"`; `"."` deletes everything).
    pub fn delete_files(&self, paths: impl IntoStrings) -> Result<()> {
        self.delete_files_with(paths, WriteOptions::default())
    }

    /// [`delete_files`](Self::delete_files) with the reference's `wait`.
    pub fn delete_files_with(&self, paths: impl IntoStrings, opts: WriteOptions) -> Result<()> {
        let paths = paths
            .into_strings()
            .iter()
            .map(|p| user_set_path(&self.path, p))
            .collect::<Result<Vec<_>>>()?;
        let op = Operation::DeleteFiles {
            path: self.path.clone(),
            paths: paths
                .into_iter()
                .map(|p| if p.is_empty() { ".".into() } else { p })
                .collect(),
        };
        self.obj.write(vec![op], "delete_files", opts.wait)
    }

    fn entries(&self) -> Result<Vec<FileSetEntry>> {
        self.obj.flush_for_read()?;
        let entries = self
            .obj
            .backend()
            .read()?
            .fileset_entries(&self.obj.id, &self.path)?;
        if entries.is_empty() {
            let t = self.obj.schema().type_of(self.path.as_str());
            match t {
                None => {
                    let stored = self.obj.backend().read()?.fetch_structure(&self.obj.id)?;
                    if !stored.iter().any(|(p, _)| *p == self.path) {
                        return Err(missing(&self.obj, &self.path));
                    }
                }
                Some(FieldType::FileSet) => {}
                Some(other) => {
                    return Err(Error::TypeMismatch {
                        path: self.path.to_string(),
                        existing: other,
                        wanted: FieldType::FileSet,
                        attempted: "download",
                    })
                }
            }
        }
        Ok(entries)
    }

    /// Lists one level of the set: the top level for `None`, else the folder `path` (or the
    /// single file at `path`). Names, sizes, mtimes and types, sorted by name.
    pub fn list_fileset_files(&self, path: Option<&str>) -> Result<Vec<FileEntry>> {
        let prefix = match path {
            Some(p) => user_set_path(&self.path, p)?,
            None => String::new(),
        };
        let entries = self.entries()?;
        let mut out: BTreeMap<String, FileEntry> = BTreeMap::new();
        for e in &entries {
            if e.path == prefix {
                let name = e.path.rsplit('/').next().unwrap_or(&e.path).to_owned();
                return Ok(vec![FileEntry {
                    name,
                    size: Some(e.file.size),
                    mtime: datetime_ms(e.mtime_ms),
                    file_type: FileType::File,
                }]);
            }
            let rest = if prefix.is_empty() {
                e.path.as_str()
            } else {
                match e
                    .path
                    .strip_prefix(&prefix)
                    .and_then(|r| r.strip_prefix('/'))
                {
                    Some(r) => r,
                    None => continue,
                }
            };
            let mtime = datetime_ms(e.mtime_ms);
            match rest.split_once('/') {
                None => {
                    out.insert(
                        rest.to_owned(),
                        FileEntry {
                            name: rest.to_owned(),
                            size: Some(e.file.size),
                            mtime,
                            file_type: FileType::File,
                        },
                    );
                }
                Some((dir, _)) => {
                    let d = out.entry(dir.to_owned()).or_insert_with(|| FileEntry {
                        name: dir.to_owned(),
                        size: None,
                        mtime,
                        file_type: FileType::Directory,
                    });
                    d.mtime = d.mtime.max(mtime);
                }
            }
        }
        if out.is_empty() && !prefix.is_empty() {
            return Err(Error::invalid(
                &self.path,
                format!("the file set has no file or folder {prefix:?}"),
            ));
        }
        Ok(out.into_values().collect())
    }

    /// Downloads the set as a zip archive to the working directory (`<field name>.zip`).
    pub fn download(&self) -> Result<PathBuf> {
        self.download_with(DownloadOptions::default())
    }

    /// Downloads the zip to `destination`: an existing directory receives
    /// `<field name>.zip`, any other path is the archive written.
    pub fn download_to(&self, destination: impl AsRef<Path>) -> Result<PathBuf> {
        self.download_with(DownloadOptions::default().destination(destination.as_ref()))
    }

    /// [`download`](Self::download) with the reference's `destination` and `progress_bar`.
    /// Entry paths that could leave the extraction directory are refused; the archive is
    /// written under a temporary name and renamed when complete.
    pub fn download_with(&self, opts: DownloadOptions) -> Result<PathBuf> {
        let entries = self.entries()?;
        for e in &entries {
            transfer::safe_join(Path::new("."), &e.path, self.path.as_str())?;
        }
        let dest = transfer::single_destination(&self.path, "zip", opts.destination.as_deref())?;
        let total = entries.iter().map(|e| e.file.size).sum();
        let bar = Bytes::bytes(&opts.progress, total, &format!("downloading {}", self.path));
        let done = transfer::write_atomically(&dest, |out| {
            super::zip::write_zip(self.obj.backend(), &entries, out, &bar)
        });
        bar.finish();
        done?;
        Ok(dest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_root_rules() {
        let cwd = Path::new("/work/proj");
        let p = |s: &str| PathBuf::from(s);
        // Inside the working directory: relative to it.
        assert_eq!(common_root(&[p("/work/proj/data")], cwd).unwrap(), cwd);
        assert_eq!(
            common_root(&[p("/work/proj/a.py"), p("/work/proj/b.py")], cwd).unwrap(),
            cwd
        );
        // Outside: the common path.
        assert_eq!(
            common_root(&[p("/data/x/a"), p("/data/x/b/c")], cwd).unwrap(),
            p("/data/x")
        );
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("model.pt");
        std::fs::write(&file, b"x").unwrap();
        // One file: its directory; one directory: itself.
        assert_eq!(common_root(&[file], cwd).unwrap(), tmp.path());
        assert_eq!(
            common_root(&[tmp.path().to_path_buf()], cwd).unwrap(),
            tmp.path()
        );
    }

    #[test]
    fn user_paths() {
        let f = FieldPath::parse("set").unwrap();
        assert_eq!(user_set_path(&f, "./a/b/").unwrap(), "a/b");
        assert_eq!(user_set_path(&f, ".").unwrap(), "");
        for bad in ["", "/etc", "../a", "a/../../b", "a//b", "a\\b"] {
            assert!(user_set_path(&f, bad).is_err(), "{bad}");
        }
    }
}

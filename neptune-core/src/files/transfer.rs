//! Moving bytes: into the file area with progress, out of it into files named by the
//! reference's rules, written under a temporary name and renamed (never a half-written file
//! under the destination's name), and checks that keep downloads inside their directory.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::model::operation::FileRef;
use crate::model::path::FieldPath;
use crate::options::ProgressBar;
use crate::store::files::{hex, BUF};

/// The byte-counting progress report of transfers.
pub(crate) use crate::options::Progress as Bytes;

/// Options of an upload: the reference's `wait`, and a `progress_bar`.
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use neptune_core::{File, Mode, ProgressBar, Run, UploadOptions};
/// let run = Run::builder().mode(Mode::Debug).open()?;
/// let opts = UploadOptions::new().wait(true).progress_bar(ProgressBar::Off);
/// run.field("data").file()?.upload_with(File::from_content(vec![1u8, 2, 3]), opts)?;
/// assert_eq!(run.field("data").fetch_extension()?, "bin");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct UploadOptions {
    pub(crate) wait: bool,
    pub(crate) progress: ProgressBar,
}

impl UploadOptions {
    /// The default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Return only once the operation is stored (the content is stored at the call anyway).
    pub fn wait(mut self, wait: bool) -> Self {
        self.wait = wait;
        self
    }

    /// Progress reporting (default: a bar on a terminal for uploads above 8 MiB).
    pub fn progress_bar(mut self, p: impl Into<ProgressBar>) -> Self {
        self.progress = p.into();
        self
    }
}

/// Options of a download: the reference's `destination` and `progress_bar`.
///
/// Destination rules (File, FileSeries' `download_last`, FileSet): none → the working
/// directory, named after the field plus extension; an existing directory → that name inside
/// it; otherwise the exact path. FileSeries' `download` and Artifact's `download` take the
/// destination as a directory.
#[derive(Clone, Debug, Default)]
pub struct DownloadOptions {
    pub(crate) destination: Option<PathBuf>,
    pub(crate) progress: ProgressBar,
}

impl DownloadOptions {
    /// The default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where to write (see the type's rules).
    pub fn destination(mut self, dest: impl Into<PathBuf>) -> Self {
        self.destination = Some(dest.into());
        self
    }

    /// Progress reporting (default: a bar on a terminal for downloads above 8 MiB).
    pub fn progress_bar(mut self, p: impl Into<ProgressBar>) -> Self {
        self.progress = p.into();
        self
    }
}

/// A reader that reports what passes through it.
pub(crate) struct Counting<'a, R> {
    pub inner: R,
    pub progress: &'a Bytes,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.add(n as u64);
        Ok(n)
    }
}

/// Checks an extension (without the dot) as the store does.
pub(crate) fn check_extension(field: &FieldPath, ext: &str) -> Result<()> {
    let ok = ext.len() <= 32
        && !ext.starts_with('.')
        && !ext.contains("..")
        && ext
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{ext:?} is not a plain file extension (letters, digits, '.', '_', '-'; at most 32)"),
        ))
    }
}

/// The file name of a field's download: its last path segment plus the extension.
pub(crate) fn field_file_name(field: &FieldPath, ext: &str) -> Result<String> {
    let name = field.name();
    if name == "." || name == ".." || name.contains('\\') {
        return Err(Error::invalid(
            field,
            format!(
                "the field name {name:?} cannot be a file name; give download a destination file"
            ),
        ));
    }
    Ok(if ext.is_empty() {
        name.to_owned()
    } else {
        format!("{name}.{ext}")
    })
}

/// The reference's naming rule for one downloaded file.
pub(crate) fn single_destination(
    field: &FieldPath,
    ext: &str,
    dest: Option<&Path>,
) -> Result<PathBuf> {
    Ok(match dest {
        None => cwd()?.join(field_file_name(field, ext)?),
        Some(d) if d.is_dir() => d.join(field_file_name(field, ext)?),
        Some(d) => d.to_path_buf(),
    })
}

pub(crate) fn cwd() -> Result<PathBuf> {
    std::env::current_dir().map_err(|e| Error::io("cannot read the working directory", e))
}

/// Checks a `/`-separated relative path coming from a file set or artifact and joins it to
/// `root`; a path that could leave `root` (absolute, `..`, `.`, empty segments, backslashes)
/// is refused.
pub(crate) fn safe_join(root: &Path, rel: &str, what: &str) -> Result<PathBuf> {
    let bad = rel.is_empty()
        || rel.starts_with('/')
        || rel.contains('\\')
        || rel.chars().any(char::is_control)
        || rel
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..");
    if bad {
        return Err(Error::invalid(
            what,
            format!(
                "{rel:?} would be written outside {}; refusing it",
                root.display()
            ),
        ));
    }
    let joined = root.join(rel);
    let escapes = Path::new(rel)
        .components()
        .any(|c| !matches!(c, Component::Normal(_)));
    if escapes {
        return Err(Error::invalid(
            what,
            format!(
                "{rel:?} would be written outside {}; refusing it",
                root.display()
            ),
        ));
    }
    Ok(joined)
}

/// A temporary path beside `dest`, in the same directory (so the final rename is atomic).
pub(crate) fn temp_beside(dest: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = dest
        .file_name()
        .map_or_else(|| "download".into(), |n| n.to_string_lossy().into_owned());
    dest.with_file_name(format!(".{name}.{}-{n}.neptune-part", std::process::id()))
}

/// Writes `dest` through `fill` into a temporary file that is renamed into place on success
/// and removed on failure. Creates the parent directories.
pub(crate) fn write_atomically(
    dest: &Path,
    fill: impl FnOnce(&mut fs::File) -> Result<()>,
) -> Result<()> {
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
    }
    if dest.is_dir() {
        return Err(Error::io(
            format!("cannot write {}", dest.display()),
            io::Error::new(io::ErrorKind::IsADirectory, "it is a directory"),
        ));
    }
    let tmp = temp_beside(dest);
    let result = (|| {
        let mut f = fs::File::create(&tmp)
            .map_err(|e| Error::io(format!("cannot create {}", tmp.display()), e))?;
        fill(&mut f)?;
        f.flush()
            .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
        drop(f);
        fs::rename(&tmp, dest).map_err(|e| Error::io(format!("cannot write {}", dest.display()), e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Copies stored content into `out`, checking its digest and size on the way.
pub(crate) fn copy_content(
    backend: &Backend,
    file: &FileRef,
    out: &mut dyn Write,
    progress: &Bytes,
) -> Result<()> {
    let mut src = backend.open_file(&file.digest)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; BUF.min(file.size.max(1) as usize)];
    let mut size = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(format!("cannot read content {}", file.digest), e)),
        };
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(|e| Error::io("cannot write the download", e))?;
        size += n as u64;
        progress.add(n as u64);
    }
    let digest = hex(&hasher.finalize());
    if digest != file.digest || size != file.size {
        return Err(Error::Corrupt(format!(
            "stored content {} does not match its digest (got {digest}, {size} bytes)",
            file.digest
        )));
    }
    Ok(())
}

/// Downloads one stored file to `dest` (atomically, verified).
pub(crate) fn download_one(
    backend: &Backend,
    file: &FileRef,
    dest: &Path,
    progress: &Bytes,
) -> Result<()> {
    write_atomically(dest, |out| copy_content(backend, file, out, progress))
}

/// Makes `p` absolute against the working directory and removes `.` and `..` lexically
/// (as Python's `os.path.abspath`), without resolving symbolic links.
pub(crate) fn absolute(p: &Path) -> Result<PathBuf> {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd()?.join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    Ok(out)
}

/// Milliseconds since the epoch of a file's modification time (0 when unknown).
pub(crate) fn mtime_ms(meta: &fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_join_refuses_escapes() {
        let root = Path::new("/tmp/x");
        assert_eq!(
            safe_join(root, "a/b.txt", "t").unwrap(),
            Path::new("/tmp/x/a/b.txt")
        );
        for bad in [
            "../a",
            "a/../../b",
            "/etc/passwd",
            "a//b",
            "./a",
            "",
            "a\\..\\b",
        ] {
            assert!(safe_join(root, bad, "t").is_err(), "{bad}");
        }
    }

    #[test]
    fn field_names_that_are_not_file_names() {
        let p = FieldPath::stored("a/..").unwrap(); // a field stored before paths refused ".."
        assert!(field_file_name(&p, "").is_err());
        let p = FieldPath::parse("model/last").unwrap();
        assert_eq!(field_file_name(&p, "pt").unwrap(), "last.pt");
        assert_eq!(field_file_name(&p, "").unwrap(), "last");
    }

    #[test]
    fn absolute_is_lexical() {
        let p = absolute(Path::new("/a/b/../c/./d")).unwrap();
        assert_eq!(p, Path::new("/a/c/d"));
    }
}

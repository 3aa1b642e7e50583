//! The zip archive of a FileSet download: entries stored (not compressed: the content is read
//! once, at disk speed), ZIP64 for entries of 4 GiB and more.

use std::fs;
use std::io::Write;

use chrono::{Datelike, Timelike};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::transfer::{copy_content, Bytes};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::model::operation::FileSetEntry;
use crate::model::values::datetime_ms;

fn zip_err(e: zip::result::ZipError) -> Error {
    match e {
        zip::result::ZipError::Io(e) => Error::io("cannot write the zip archive", e),
        other => Error::io(
            "cannot write the zip archive",
            std::io::Error::other(other.to_string()),
        ),
    }
}

fn zip_time(ms: i64) -> Option<zip::DateTime> {
    let t = datetime_ms(ms);
    zip::DateTime::from_date_and_time(
        u16::try_from(t.year()).ok()?,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .ok()
}

/// Writes every entry (paths already checked) into `out` as a zip archive.
pub(crate) fn write_zip(
    backend: &Backend,
    entries: &[FileSetEntry],
    out: &mut fs::File,
    progress: &Bytes,
) -> Result<()> {
    let mut zip = ZipWriter::new(out);
    add_entries(&mut zip, backend, entries, progress)?;
    zip.finish().map_err(zip_err)?;
    Ok(())
}

/// Writes the entries of a FileSet into `out` as a zip archive, front to back (sizes and
/// checksums follow each entry), so it can be sent as it is made: a server streams a FileSet
/// download without holding it. Each entry's content is checked against its digest; on a
/// mismatch or a read error the archive stops short (it has no central directory, so no zip
/// reader takes it for whole) and the error says which content.
pub fn write_fileset_zip(
    backend: &Backend,
    entries: &[FileSetEntry],
    out: impl Write,
) -> Result<()> {
    let mut zip = ZipWriter::new_stream(out);
    let progress = Bytes::start(&crate::options::ProgressBar::Off, 0, u64::MAX, "zip");
    add_entries(&mut zip, backend, entries, &progress)?;
    zip.finish().map_err(zip_err)?;
    Ok(())
}

fn add_entries<W: Write + std::io::Seek>(
    zip: &mut ZipWriter<W>,
    backend: &Backend,
    entries: &[FileSetEntry],
    progress: &Bytes,
) -> Result<()> {
    for e in entries {
        let mut opts = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .large_file(e.file.size >= u32::MAX as u64)
            .unix_permissions(0o644);
        if let Some(t) = zip_time(e.mtime_ms) {
            opts = opts.last_modified_time(t);
        }
        zip.start_file(e.path.as_str(), opts).map_err(zip_err)?;
        copy_content(backend, &e.file, zip, progress)?;
    }
    Ok(())
}

//! `neptune download`: the files of a File, FileSeries, FileSet (a zip) or Artifact field.

use std::io::Write;
use std::path::Path;

use neptune_core::FieldType;

use crate::format;
use crate::source::{self, Source};
use crate::{exit, CliResult};

pub(crate) fn run(src: &Source, id: &str, path: &str, dest: Option<&Path>) -> CliResult {
    let p = source::path(path)?;
    let t = src.field_type(id, &p)?;
    if !matches!(
        t,
        FieldType::File | FieldType::FileSet | FieldType::FileSeries | FieldType::Artifact
    ) {
        return Err(exit::invalid(format!(
            "\"{path}\" of {id} is a {t}, which holds no files; read it with `neptune fetch {id} {path}`"
        )));
    }
    let object = src.object(id)?;
    let handler = object.field(p.as_str());
    let written = match dest {
        Some(d) => handler.download_to(d)?,
        None => handler.download()?,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for w in written {
        writeln!(out, "{}", format::escape(&w.display().to_string()))?;
    }
    out.flush()?;
    Ok(())
}

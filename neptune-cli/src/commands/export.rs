//! `neptune export`: every field of an object into a folder.
//!
//! ```text
//! DIR/fields.csv | fields.json   every field: single values with their value, the others with
//!                                 the file that holds them
//! DIR/series/<path>.csv           each FloatSeries and StringSeries (step, value, timestamp)
//! DIR/files/<path>.<ext>          each File; FileSets as <path>.zip; FileSeries as <path>/…
//! DIR/artifacts/<path>.json       each Artifact's file list (the files stay where they were
//!                                 tracked)
//! ```

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use neptune_core::{CsvCell, FieldPath, FieldType, Value};

use super::fetch::{insert, write_series};
use crate::format;
use crate::source::Source;
use crate::{CliResult, ExportFormat, Output};

/// A field path as a relative file path: segments become folders; `.` and `..` are escaped so
/// that nothing is written outside the folder.
fn rel_path(p: &FieldPath) -> PathBuf {
    p.segments()
        .map(|s| {
            if s == "." || s == ".." {
                s.replace('.', "%2E")
            } else {
                s.to_owned()
            }
        })
        .collect()
}

fn create_parent(p: &Path) -> CliResult {
    if let Some(d) = p.parent() {
        fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    Ok(())
}

fn with_ext(base: &Path, rel: &Path, ext: &str) -> PathBuf {
    let mut s = base.join(rel).into_os_string();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

pub(crate) fn run(src: &Source, id: &str, format: ExportFormat, dir: &Path) -> CliResult {
    let fields = src.structure(id)?;
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let b = src.backend.reader();
    let values: std::collections::HashMap<FieldPath, Value> =
        b.fetch_values_below(id, None)?.into_iter().collect();
    let mut object = None;
    // (path, type, value or the file written, relative to DIR)
    let mut rows: Vec<(FieldPath, FieldType, serde_json::Value)> = Vec::new();
    for (path, t) in &fields {
        let rel = rel_path(path);
        let entry = match t {
            FieldType::FloatSeries | FieldType::StringSeries => {
                let file = with_ext(Path::new("series"), &rel, "csv");
                let target = dir.join(&file);
                create_parent(&target)?;
                let mut w = BufWriter::new(
                    fs::File::create(&target)
                        .map_err(|e| format!("cannot write {}: {e}", target.display()))?,
                );
                if *t == FieldType::FloatSeries {
                    write_series(&mut w, &src.float_points(id, path)?, Output::Csv)?;
                } else {
                    write_series(&mut w, &src.string_points(id, path)?, Output::Csv)?;
                }
                w.flush()?;
                file_json(&file)
            }
            FieldType::File | FieldType::FileSet | FieldType::FileSeries => {
                let file = match t {
                    FieldType::File => {
                        let ext = b
                            .file_ref(id, path)?
                            .map(|f| f.extension)
                            .unwrap_or_else(|| "bin".to_owned());
                        with_ext(Path::new("files"), &rel, &ext)
                    }
                    FieldType::FileSet => with_ext(Path::new("files"), &rel, "zip"),
                    _ => Path::new("files").join(&rel),
                };
                let target = dir.join(&file);
                if *t == FieldType::FileSeries {
                    fs::create_dir_all(&target)
                        .map_err(|e| format!("cannot create {}: {e}", target.display()))?;
                } else {
                    create_parent(&target)?;
                }
                if object.is_none() {
                    object = Some(src.object(id)?);
                }
                if let Some(o) = &object {
                    o.field(path.as_str()).download_to(&target)?;
                }
                file_json(&file)
            }
            FieldType::Artifact => {
                let file = with_ext(Path::new("artifacts"), &rel, "json");
                let target = dir.join(&file);
                create_parent(&target)?;
                let list = serde_json::to_string_pretty(&b.artifact_files(id, path)?)?;
                let list = format::json_text(&list).into_owned();
                fs::write(&target, list + "\n")
                    .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
                serde_json::json!({
                    "hash": values.get(path).map(|v| v.to_json()),
                    "files": file.to_string_lossy(),
                })
            }
            _ => match values.get(path) {
                Some(v) => v.to_json(),
                None => continue,
            },
        };
        rows.push((path.clone(), *t, entry));
    }
    match format {
        ExportFormat::Json => {
            let mut root = serde_json::Map::new();
            for (p, _, v) in &rows {
                insert(&mut root, p.as_str(), v.clone());
            }
            let text = serde_json::to_string_pretty(&serde_json::Value::Object(root))?;
            let text = format::json_text(&text).into_owned();
            fs::write(dir.join("fields.json"), text + "\n")?;
        }
        ExportFormat::Csv => {
            let mut w = BufWriter::new(fs::File::create(dir.join("fields.csv"))?);
            w.write_all(b"path,type,value\n")?;
            for (p, t, v) in &rows {
                p.to_string().write_cell(&mut w)?;
                write!(w, ",{t},")?;
                // Series and files: the file that holds them; artifacts: their hash.
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Object(m) => match (m.get("file"), m.get("hash")) {
                        (Some(serde_json::Value::String(f)), _) => f.clone(),
                        (_, Some(serde_json::Value::String(h))) => h.clone(),
                        _ => v.to_string(),
                    },
                    other => other.to_string(),
                };
                text.write_cell(&mut w)?;
                w.write_all(b"\n")?;
            }
            w.flush()?;
        }
    }
    println!(
        "exported {} fields of {} to {}",
        rows.len(),
        crate::format::escape(id),
        crate::format::escape(&dir.display().to_string())
    );
    Ok(())
}

fn file_json(file: &Path) -> serde_json::Value {
    serde_json::json!({ "file": file.to_string_lossy() })
}

//! `neptune fetch`: a field's value, a series' points, or a namespace's values.

use std::io::{self, BufWriter, Write};

use neptune_core::backend::SeriesPage;
use neptune_core::{CsvCell, FieldPath, FieldType, Value};

use crate::format;
use crate::source::{self, Source};
use crate::{exit, CliResult, Output};

pub(crate) fn run(src: &Source, id: &str, path: &str, output: Output) -> CliResult {
    let p = source::path(path)?;
    let fields = src.structure(id)?;
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    match fields.iter().find(|(q, _)| *q == p).map(|(_, t)| *t) {
        Some(FieldType::FloatSeries) => {
            let page = src.float_points(id, &p)?;
            write_series(&mut out, &page, output)?;
        }
        Some(FieldType::StringSeries) => {
            let page = src.string_points(id, &p)?;
            write_series(&mut out, &page, output)?;
        }
        Some(t @ (FieldType::File | FieldType::FileSet | FieldType::FileSeries)) => {
            return Err(exit::invalid(format!(
                "\"{path}\" of {id} is a {t}; get its files with `neptune download {id} {path}`"
            )));
        }
        Some(_) => {
            let v = src
                .backend
                .reader()
                .fetch_value(id, &p)?
                .ok_or_else(|| source::missing(id, path, &fields))?;
            match output {
                Output::Json => format::write_json(&mut out, &v.to_json())?,
                Output::Csv => {
                    out.write_all(b"value\n")?;
                    v.to_string().write_cell(&mut out)?;
                    out.write_all(b"\n")?;
                }
                Output::Text => writeln!(out, "{}", format::escape(&v.to_string()))?,
            }
        }
        None => {
            let below = format!("{}/", p.as_str());
            if !fields.iter().any(|(q, _)| q.as_str().starts_with(&below)) {
                return Err(source::missing(id, path, &fields));
            }
            let values = src.backend.reader().fetch_values_below(id, Some(&p))?;
            write_namespace(&mut out, &p, &values, output)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Unix milliseconds as RFC 3339; a value outside chrono's range as the number of
/// milliseconds (never a made-up 1970).
fn ts(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        None => format!("{ms} ms"),
    }
}

/// A series as CSV (`step,value,timestamp`; the text form is the same with its cells escaped
/// for a terminal) or a JSON array of points.
pub(crate) fn write_series<T: CsvCell + ToJson>(
    out: &mut dyn Write,
    page: &SeriesPage<T>,
    output: Output,
) -> io::Result<()> {
    match output {
        Output::Json => {
            out.write_all(b"[")?;
            for i in 0..page.len() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                let point = serde_json::json!({
                    "step": page.steps[i],
                    "value": page.values[i].to_json(),
                    "timestamp": ts(page.timestamps[i]),
                });
                write!(out, "\n{}", format::json_text(&point.to_string()))?;
            }
            out.write_all(b"\n]\n")
        }
        Output::Csv | Output::Text => {
            out.write_all(b"step,value,timestamp\n")?;
            let mut cell = Vec::new();
            for i in 0..page.len() {
                write!(out, "{},", page.steps[i])?;
                if output == Output::Text {
                    cell.clear();
                    page.values[i].write_cell(&mut cell)?;
                    let text = String::from_utf8_lossy(&cell);
                    out.write_all(format::escape(&text).as_bytes())?;
                } else {
                    page.values[i].write_cell(out)?;
                }
                writeln!(out, ",{}", ts(page.timestamps[i]))?;
            }
            Ok(())
        }
    }
}

/// A series value as JSON.
pub(crate) trait ToJson {
    fn to_json(&self) -> serde_json::Value;
}

impl ToJson for f64 {
    fn to_json(&self) -> serde_json::Value {
        Value::Float(*self).to_json()
    }
}

impl ToJson for String {
    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::from(self.as_str())
    }
}

/// The single values below a namespace: `path = value` lines, `path,value` CSV, or nested JSON.
fn write_namespace(
    out: &mut dyn Write,
    ns: &FieldPath,
    values: &[(FieldPath, Value)],
    output: Output,
) -> io::Result<()> {
    let rel = |p: &FieldPath| -> String {
        p.as_str()
            .strip_prefix(ns.as_str())
            .map(|s| s.trim_start_matches('/').to_owned())
            .unwrap_or_else(|| p.to_string())
    };
    match output {
        Output::Json => {
            let mut root = serde_json::Map::new();
            for (p, v) in values {
                insert(&mut root, &rel(p), v.to_json());
            }
            format::write_json(out, &serde_json::Value::Object(root))
        }
        Output::Csv => {
            out.write_all(b"path,value\n")?;
            for (p, v) in values {
                p.to_string().write_cell(out)?;
                out.write_all(b",")?;
                v.to_string().write_cell(out)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        }
        Output::Text => {
            for (p, v) in values {
                writeln!(out, "{} = {}", format::escape(p.as_str()), format::value(v))?;
            }
            Ok(())
        }
    }
}

/// Puts `v` at the relative path `rel` of a nested JSON object.
pub(crate) fn insert(
    root: &mut serde_json::Map<String, serde_json::Value>,
    rel: &str,
    v: serde_json::Value,
) {
    match rel.split_once('/') {
        None => {
            root.insert(rel.to_owned(), v);
        }
        Some((head, rest)) => {
            let child = root
                .entry(head.to_owned())
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            if let serde_json::Value::Object(m) = child {
                insert(m, rest, v);
            }
        }
    }
}

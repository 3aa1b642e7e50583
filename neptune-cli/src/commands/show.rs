//! `neptune show`: an object's field tree with values, as `print_structure` lays it out.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use neptune_core::{FieldPath, FieldType, Value};

use crate::source::{self, Source};
use crate::CliResult;
use crate::{format, paint};

mod json;

/// Characters of a series' sparkline.
const SPARK_WIDTH: usize = 24;
/// Longest text shown for a value.
const MAX_TEXT: usize = 60;

#[derive(Default)]
struct Node {
    children: BTreeMap<String, Node>,
    field: Option<(FieldPath, FieldType)>,
}

impl Node {
    fn insert(&mut self, rel: &str, field: (FieldPath, FieldType)) {
        match rel.split_once('/') {
            None => self.children.entry(rel.to_owned()).or_default().field = Some(field),
            Some((head, rest)) => self
                .children
                .entry(head.to_owned())
                .or_default()
                .insert(rest, field),
        }
    }
}

pub(crate) fn run(src: &Source, id: &str, under: Option<&str>, json: bool) -> CliResult {
    let all = src.structure(id)?;
    let prefix = under.map(source::path).transpose()?;
    let fields: Vec<(FieldPath, FieldType)> = match &prefix {
        None => all.clone(),
        Some(p) => {
            let below = format!("{}/", p.as_str());
            let f: Vec<_> = all
                .iter()
                .filter(|(q, _)| q == p || q.as_str().starts_with(&below))
                .cloned()
                .collect();
            if f.is_empty() {
                return Err(source::missing(id, p.as_str(), &all));
            }
            f
        }
    };
    let values: HashMap<FieldPath, Value> = src
        .backend
        .reader()
        .fetch_values_below(id, None)?
        .into_iter()
        .collect();
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    if json {
        let doc = json::document(src, id, prefix.as_ref(), &fields, &values)?;
        format::write_json(&mut lock, &doc)?;
        return Ok(lock.flush()?);
    }
    let mut root = Node::default();
    for f in fields {
        let rel = f.0.as_str().to_owned();
        root.insert(&rel, f);
    }
    let mut out = String::new();
    out.push_str(&paint::heading(&format::escape(id)));
    out.push_str(&format!(
        "  ({} fields, store {})\n",
        all.len(),
        format::escape(&src.location)
    ));
    render(src, id, &root, 0, &values, &mut out)?;
    lock.write_all(out.as_bytes())?;
    lock.flush()?;
    Ok(())
}

fn render(
    src: &Source,
    id: &str,
    node: &Node,
    depth: usize,
    values: &HashMap<FieldPath, Value>,
    out: &mut String,
) -> CliResult {
    let pad = "    ".repeat(depth);
    // Namespaces first, then fields, each alphabetical (as print_structure).
    for (name, child) in node.children.iter().filter(|(_, c)| c.field.is_none()) {
        let name = format!("{}/", format::escape(name));
        out.push_str(&format!("{pad}{}\n", paint::namespace(&name)));
        render(src, id, child, depth + 1, values, out)?;
    }
    for (name, child) in node.children.iter() {
        if let Some((path, t)) = &child.field {
            let desc = describe(src, id, path, *t, values)?;
            let name = format::escape(name);
            let t = paint::kind(&t.to_string());
            out.push_str(&format!("{pad}{name}: {t}  {desc}\n"));
        }
    }
    Ok(())
}

/// The value part of a field's line, escaped for a terminal.
fn describe(
    src: &Source,
    id: &str,
    path: &FieldPath,
    t: FieldType,
    values: &HashMap<FieldPath, Value>,
) -> CliResult<String> {
    let b = src.backend.reader();
    let text = match t {
        FieldType::FloatSeries => {
            let page = src.float_points(id, path)?;
            // Only numbers and bars: nothing to escape.
            return Ok(series_summary(&page.values));
        }
        FieldType::StringSeries => {
            let info = b.fetch_series_info(id, path)?;
            match info {
                Some(i) if i.count > 0 => {
                    let last = i.last.map(|v| v.to_string()).unwrap_or_default();
                    format!(
                        "{} entries, last {}",
                        i.count,
                        format::quoted(&format::clip(&last, MAX_TEXT))
                    )
                }
                _ => "empty".to_owned(),
            }
        }
        FieldType::FileSeries => {
            let points = b.file_points(id, path)?;
            let size: u64 = points.iter().map(|p| p.file.size).sum();
            format!("{} files, {}", points.len(), bytes(size))
        }
        FieldType::File => match b.file_ref(id, path)? {
            Some(f) => format!(".{} file, {}", format::escape(&f.extension), bytes(f.size)),
            None => "empty".to_owned(),
        },
        FieldType::FileSet => {
            let entries = b.fileset_entries(id, path)?;
            let size: u64 = entries.iter().map(|e| e.file.size).sum();
            format!("{} files, {}", entries.len(), bytes(size))
        }
        FieldType::Artifact => {
            let files = b.artifact_files(id, path)?;
            let hash = values.get(path).map(|v| v.to_string()).unwrap_or_default();
            let hash = format::escape(&hash);
            format!("{} files, hash {}", files.len(), format::clip(&hash, 16))
        }
        _ => match values.get(path) {
            Some(v) => format::clip(&format::value(v), MAX_TEXT),
            None => String::new(),
        },
    };
    Ok(format::escape(&text).into_owned())
}

/// Count, last, min, max and a sparkline of a FloatSeries.
pub(crate) fn series_summary(values: &[f64]) -> String {
    let Some(last) = values.last() else {
        return "empty".to_owned();
    };
    let (min, max) = min_max(values);
    format!(
        "{} points, last {}, min {}, max {}  {}",
        values.len(),
        format::float(*last),
        format::float(min),
        format::float(max),
        paint::spark(&format::sparkline(values, SPARK_WIDTH))
    )
}

/// The least and greatest value that is not NaN; NaN when every point is NaN (not the folds'
/// starting infinities).
pub(crate) fn min_max(values: &[f64]) -> (f64, f64) {
    let (mut min, mut max) = (f64::NAN, f64::NAN);
    for v in values.iter().copied().filter(|v| !v.is_nan()) {
        min = if min.is_nan() { v } else { min.min(v) };
        max = if max.is_nan() { v } else { max.max(v) };
    }
    (min, max)
}

/// A size for a person.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

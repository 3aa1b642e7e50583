//! `neptune diff`: the fields whose values differ between two objects, side by side.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use neptune_core::{FieldPath, FieldType};

use crate::source::Source;
use crate::CliResult;
use crate::{format, paint};

/// Fields that differ between any two objects; compared only with `--all`.
const ALWAYS_DIFFER: [&str; 7] = [
    "sys/id",
    "sys/creation_time",
    "sys/modification_time",
    "sys/ping_time",
    "sys/running_time",
    "sys/hostname",
    "sys/custom_run_id",
];

/// Widest value in the text table.
const MAX_CELL: usize = 48;

/// What is compared (`key`) and what is shown (`text`, `json`) for one field.
struct Summary {
    key: String,
    text: String,
    json: serde_json::Value,
}

fn summaries(src: &Source, id: &str, all: bool) -> CliResult<BTreeMap<String, Summary>> {
    let b = src.backend.reader();
    let fields = src.structure(id)?;
    let values: BTreeMap<FieldPath, neptune_core::Value> =
        b.fetch_values_below(id, None)?.into_iter().collect();
    let mut out = BTreeMap::new();
    for (path, t) in fields {
        if !all && ALWAYS_DIFFER.contains(&path.as_str()) {
            continue;
        }
        let s = match t {
            FieldType::FloatSeries | FieldType::StringSeries => {
                let info = b.fetch_series_info(id, &path)?;
                let (count, last) = info.map_or((0, None), |i| (i.count, i.last));
                let last_text = match &last {
                    Some(neptune_core::Value::Float(v)) => format::float(*v),
                    Some(v) => format::quoted(&v.to_string()),
                    None => "-".to_owned(),
                };
                Summary {
                    key: format!("{count}:{:?}", last.as_ref().map(|v| v.to_json())),
                    text: format!("last {last_text} ({count} points)"),
                    json: serde_json::json!({
                        "count": count,
                        "last": last.map(|v| v.to_json()),
                    }),
                }
            }
            FieldType::File => {
                let f = b.file_ref(id, &path)?;
                let digest = f.as_ref().map(|f| f.digest.clone()).unwrap_or_default();
                Summary {
                    text: f.as_ref().map_or("empty".to_owned(), |f| {
                        format!(
                            ".{} {} {}",
                            f.extension,
                            super::show::bytes(f.size),
                            &f.digest[..12.min(f.digest.len())]
                        )
                    }),
                    json: serde_json::json!({ "digest": digest }),
                    key: digest,
                }
            }
            FieldType::FileSet => {
                let entries = b.fileset_entries(id, &path)?;
                let key: Vec<String> = entries
                    .iter()
                    .map(|e| format!("{}={}", e.path, e.file.digest))
                    .collect();
                Summary {
                    text: format!("{} files", entries.len()),
                    json: serde_json::json!({ "files": entries.len() }),
                    key: key.join(";"),
                }
            }
            FieldType::FileSeries => {
                let points = b.file_points(id, &path)?;
                let key: Vec<String> = points
                    .iter()
                    .map(|p| format!("{}={}", p.step.unwrap_or(f64::NAN), p.file.digest))
                    .collect();
                Summary {
                    text: format!("{} files", points.len()),
                    json: serde_json::json!({ "files": points.len() }),
                    key: key.join(";"),
                }
            }
            _ => match values.get(&path) {
                Some(v) => Summary {
                    key: v.to_json().to_string(),
                    text: format::value(v),
                    json: v.to_json(),
                },
                None => continue,
            },
        };
        // A field of another type differs too.
        let key = format!("{t}:{}", s.key);
        out.insert(path.to_string(), Summary { key, ..s });
    }
    Ok(out)
}

pub(crate) fn run(src: &Source, a: &str, b: &str, all: bool, json: bool) -> CliResult {
    let sa = summaries(src, a, all)?;
    let sb = summaries(src, b, all)?;
    let paths: BTreeSet<&String> = sa.keys().chain(sb.keys()).collect();
    let mut rows = Vec::new();
    for p in paths {
        let (x, y) = (sa.get(p), sb.get(p));
        let same = matches!((x, y), (Some(x), Some(y)) if x.key == y.key);
        if !same {
            rows.push((p.clone(), x, y));
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        let obj: serde_json::Map<String, serde_json::Value> = rows
            .iter()
            .map(|(p, x, y)| {
                let j =
                    |s: &Option<&Summary>| s.map_or(serde_json::Value::Null, |s| s.json.clone());
                (p.clone(), serde_json::json!([j(x), j(y)]))
            })
            .collect();
        format::write_json(&mut out, &serde_json::Value::Object(obj))?;
    } else if rows.is_empty() {
        writeln!(
            out,
            "{} and {} have the same fields and values",
            format::escape(a),
            format::escape(b)
        )?;
    } else {
        let cell =
            |s: &Option<&Summary>| s.map_or("—".to_owned(), |s| format::clip(&s.text, MAX_CELL));
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|(p, x, y)| vec![p.clone(), cell(x), cell(y)])
            .collect();
        let header = ["field".to_owned(), a.to_owned(), b.to_owned()];
        let painters: [Option<format::Painter>; 3] = [None, Some(paint::left), Some(paint::right)];
        let text = format::aligned_painted(&header, &table, &[false; 3], &painters);
        out.write_all(text.as_bytes())?;
        let count = format!(
            "{} field{} differ",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" }
        );
        writeln!(out, "{}", paint::muted(&count))?;
    }
    out.flush()?;
    Ok(())
}

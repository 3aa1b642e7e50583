//! `neptune show --json`: the object's fields as one JSON document, for scripts.
//!
//! The shape is stable (its `version` changes when a key changes meaning or goes):
//!
//! ```text
//! {
//!   "version": 1,
//!   "id": "NLI-3",
//!   "store": "/home/me/.neptune",
//!   "path": null,                     // or the namespace given: "params"
//!   "fields": {                       // every field at or below `path`, by full path
//!     "params/lr":   {"type": "Float", "value": 0.001},
//!     "sys/tags":    {"type": "StringSet", "value": ["bert"]},
//!     "train/loss":  {"type": "FloatSeries", "count": 100, "last_step": 99, "last": 0.3,
//!                     "min": 0.29, "max": 2.4},
//!     "train/notes": {"type": "StringSeries", "count": 2, "last_step": 1, "last": "done"},
//!     "model":       {"type": "File", "extension": "pt", "size": 1024, "digest": "ab12…"},
//!     "samples":     {"type": "FileSeries", "count": 3, "size": 3072},
//!     "data":        {"type": "FileSet", "count": 12, "size": 40960},
//!     "dataset":     {"type": "Artifact", "count": 2, "hash": "9f…"}
//!   }
//! }
//! ```
//!
//! Values are as `neptune fetch --json` writes them: Datetimes as RFC 3339 in UTC, GitRef as
//! an object, NaN and the infinities as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`. An
//! empty series has `count` 0 and `null` for the rest; `min` and `max` leave NaN points out
//! (`null` when every point is NaN). An empty File has `null` for its three keys. A field
//! without a value yet has `"value": null`.

use std::collections::HashMap;

use neptune_core::operation::float::to_json as float_json;
use neptune_core::{FieldPath, FieldType, Value};
use serde_json::{json, Map, Value as J};

use crate::source::Source;
use crate::CliResult;

/// The version of the document's shape.
const VERSION: u64 = 1;

/// The document for `fields` of `id` (those at or below `under`, when given).
pub(super) fn document(
    src: &Source,
    id: &str,
    under: Option<&FieldPath>,
    fields: &[(FieldPath, FieldType)],
    values: &HashMap<FieldPath, Value>,
) -> CliResult<J> {
    let mut out = Map::new();
    for (path, t) in fields {
        let mut entry = Map::new();
        entry.insert("type".into(), J::from(t.to_string()));
        entry.extend(summary(src, id, path, *t, values)?);
        out.insert(path.to_string(), J::Object(entry));
    }
    Ok(json!({
        "version": VERSION,
        "id": id,
        "store": src.location,
        "path": under.map(|p| p.to_string()),
        "fields": out,
    }))
}

/// A float, or `null` for the NaN that stands for "none".
fn float_or_null(v: f64) -> J {
    if v.is_nan() {
        J::Null
    } else {
        float_json(v)
    }
}

/// The keys after `type` of one field.
fn summary(
    src: &Source,
    id: &str,
    path: &FieldPath,
    t: FieldType,
    values: &HashMap<FieldPath, Value>,
) -> CliResult<Map<String, J>> {
    let b = src.backend.reader();
    let doc = match t {
        FieldType::FloatSeries => {
            let page = src.float_points(id, path)?;
            let (min, max) = super::min_max(&page.values);
            json!({
                "count": page.len(),
                "last_step": page.steps.last().map(|s| float_json(*s)),
                "last": page.values.last().map(|v| float_json(*v)),
                "min": float_or_null(min),
                "max": float_or_null(max),
            })
        }
        FieldType::StringSeries => {
            let info = b.fetch_series_info(id, path)?;
            let (count, last_step, last) = match info {
                Some(i) => (i.count, i.last_step, i.last),
                None => (0, None, None),
            };
            json!({
                "count": count,
                "last_step": last_step.map(float_json),
                "last": last.map(|v| v.to_json()),
            })
        }
        FieldType::FileSeries => {
            let points = b.file_points(id, path)?;
            let size: u64 = points.iter().map(|p| p.file.size).sum();
            json!({ "count": points.len(), "size": size })
        }
        FieldType::FileSet => {
            let entries = b.fileset_entries(id, path)?;
            let size: u64 = entries.iter().map(|e| e.file.size).sum();
            json!({ "count": entries.len(), "size": size })
        }
        FieldType::File => match b.file_ref(id, path)? {
            Some(f) => json!({ "extension": f.extension, "size": f.size, "digest": f.digest }),
            None => json!({ "extension": null, "size": null, "digest": null }),
        },
        FieldType::Artifact => {
            let files = b.artifact_files(id, path)?;
            json!({
                "count": files.len(),
                "hash": values.get(path).map(|v| v.to_json()),
            })
        }
        _ => json!({ "value": values.get(path).map(|v| v.to_json()) }),
    };
    match doc {
        J::Object(m) => Ok(m),
        _ => Ok(Map::new()),
    }
}

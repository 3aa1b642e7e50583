//! Reading the Python client's local folder (`.neptune/`): its run folders and the operation
//! queue each holds, as the client (`neptune` 1.x) writes them.
//!
//! A run folder is `{async|sync|offline}/run__<container id>__<pid>__<random>/` with
//! `metadata.json` (`containerId`, `containerType`, `mode`, `createdAt`), the queue in
//! `data-<first version>.log` (one JSON object a line: `{"obj": <op>, "version": N, "at": <unix
//! s>}`, the op as `{"type": "LogFloats", "path": ["train", "loss"], "values": [{"value", "step",
//! "ts"}]}`), `last_put_version`, `last_ack_version`, and `upload_path/` (in-memory files the
//! client copied for an `UploadFile`). Folders of older clients (`async/<id>/exec-…/`) are found
//! too: any folder with a `data-<N>.log` is a run folder.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value as J;

use crate::CliResult;

/// How deep below the given path run folders are looked for (`.neptune/offline/run__…/` is 2;
/// the older `async/<id>/exec-…/` 3).
const MAX_DEPTH: usize = 4;

/// The folders the client keeps its run folders in, one per mode.
const MODES: [&str; 3] = ["async", "offline", "sync"];

/// Longest queue line read: a batch of the client is at most 100 MiB (its
/// `NEPTUNE_MAX_BATCH_SIZE_BYTES` default), an image at most 15 MB before base64.
const MAX_LINE: u64 = 128 << 20;

/// One run folder of the client's.
#[derive(Debug)]
pub(crate) struct RunFolder {
    pub dir: PathBuf,
    /// The client's id of the object (a UUID): our run's custom run id.
    pub container_id: String,
    /// `run`, `model`, `model_version` or `project`.
    pub container_type: String,
    /// When the client created the folder (`metadata.json`'s `createdAt`).
    pub created_at: Option<DateTime<Utc>>,
    /// The queue's files, in version order.
    pub logs: Vec<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    container_id: Option<String>,
    container_type: Option<String>,
    created_at: Option<String>,
}

/// The run folders below `path` (or `path` itself), grouped by the object they write: the
/// folders of processes that shared one run (one container id) are imported into one run, in
/// the order they were created.
pub(crate) fn discover(path: &Path) -> CliResult<Vec<Vec<RunFolder>>> {
    let meta = fs::metadata(path).map_err(|e| {
        format!(
            "cannot read {}: {e} (give the Python client's .neptune folder)",
            path.display()
        )
    })?;
    if !meta.is_dir() {
        return Err(format!(
            "{} is not a folder (give the Python client's .neptune folder, or one run folder \
             in it)",
            path.display()
        )
        .into());
    }
    let mut found = Vec::new();
    walk(path, 0, &mut found)?;
    let mut groups: BTreeMap<(String, String), Vec<RunFolder>> = BTreeMap::new();
    for f in found {
        groups
            .entry((f.container_type.clone(), f.container_id.clone()))
            .or_default()
            .push(f);
    }
    let mut out: Vec<Vec<RunFolder>> = groups.into_values().collect();
    for g in &mut out {
        g.sort_by(|a, b| (a.created_at, &a.dir).cmp(&(b.created_at, &b.dir)));
    }
    Ok(out)
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<RunFolder>) -> CliResult {
    if let Some(f) = run_folder(dir)? {
        found.push(f);
        return Ok(());
    }
    if depth >= MAX_DEPTH {
        return Ok(());
    }
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) && entry.file_name() != "upload_path" {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    // The client's mode folders, when there: our store may share `.neptune` with them.
    let modes: Vec<PathBuf> = dirs
        .iter()
        .filter(|d| d.file_name().is_some_and(|n| MODES.iter().any(|m| n == *m)))
        .cloned()
        .collect();
    if !modes.is_empty() {
        dirs = modes;
    }
    for d in dirs {
        walk(&d, depth + 1, found)?;
    }
    Ok(())
}

/// The version a queue file starts at: `data-<N>.log`.
fn log_version(name: &str) -> Option<u64> {
    name.strip_prefix("data-")?
        .strip_suffix(".log")?
        .parse()
        .ok()
}

/// `dir` as a run folder, when it holds a queue.
fn run_folder(dir: &Path) -> CliResult<Option<RunFolder>> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut logs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(v) = log_version(&name) {
            logs.push((v, entry.path()));
        }
    }
    if logs.is_empty() {
        return Ok(None);
    }
    logs.sort();
    let meta: Metadata = match fs::read(dir.join("metadata.json")) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(_) => Metadata::default(),
    };
    // `run__<id>__<pid>__<random>`, `run__<id>`, or `<id>` (then the folder may be an
    // `exec-…` folder below the id's).
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parts: Vec<&str> = name.split("__").collect();
    let (from_name_type, from_name_id) = match parts.as_slice() {
        [t, id, ..] => (Some(t.to_string()), Some(id.to_string())),
        _ if name.starts_with("exec-") => (
            None,
            dir.parent().and_then(Path::file_name).map(|n| {
                n.to_string_lossy()
                    .rsplit("__")
                    .next()
                    .unwrap_or("")
                    .to_owned()
            }),
        ),
        _ => (None, Some(name.clone())),
    };
    let container_id = meta
        .container_id
        .or(from_name_id)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| format!("{}: no container id in metadata.json", dir.display()))?;
    Ok(Some(RunFolder {
        dir: dir.to_path_buf(),
        container_id,
        container_type: meta
            .container_type
            .or(from_name_type)
            .unwrap_or_else(|| "run".to_owned()),
        created_at: meta
            .created_at
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)),
        logs: logs.into_iter().map(|(_, p)| p).collect(),
    }))
}

/// The bytes of a folder's queue files (for the progress bar).
pub(crate) fn queue_bytes(f: &RunFolder) -> u64 {
    f.logs
        .iter()
        .filter_map(|p| fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// One line of a queue: the operation, or why it cannot be read.
pub(crate) struct Line {
    /// The line's bytes (with its newline), for the progress bar.
    pub bytes: u64,
    pub op: Result<J, String>,
    /// Where the line is, for the report: `data-1.log:12`.
    pub at: String,
}

/// The lines of a folder's queue, file after file, streamed.
pub(crate) fn lines(f: &RunFolder) -> impl Iterator<Item = CliResult<Line>> + '_ {
    f.logs.iter().flat_map(|p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let reader = fs::File::open(p)
            .map(BufReader::new)
            .map_err(|e| format!("cannot open {}: {e}", p.display()));
        let mut state = Some((reader, 0usize));
        std::iter::from_fn(move || {
            let (reader, n) = state.as_mut()?;
            let r = match reader {
                Ok(r) => r,
                Err(e) => {
                    let e = e.clone();
                    state = None;
                    return Some(Err(e.into()));
                }
            };
            let mut buf = Vec::new();
            match r.by_ref().take(MAX_LINE + 1).read_until(b'\n', &mut buf) {
                Ok(0) => {
                    state = None;
                    None
                }
                Ok(len) => {
                    *n += 1;
                    let at = format!("{name}:{n}");
                    if len as u64 > MAX_LINE {
                        state = None;
                        return Some(Ok(Line {
                            bytes: len as u64,
                            op: Err(format!("a line longer than {MAX_LINE} bytes")),
                            at,
                        }));
                    }
                    Some(Ok(Line {
                        bytes: len as u64,
                        op: parse(&buf),
                        at,
                    }))
                }
                Err(e) => {
                    state = None;
                    Some(Err(format!("cannot read {name}: {e}").into()))
                }
            }
        })
    })
}

fn parse(line: &[u8]) -> Result<J, String> {
    let trimmed = line.trim_ascii();
    if trimmed.is_empty() {
        return Ok(J::Null);
    }
    let mut v: J = serde_json::from_slice(trimmed).map_err(|e| {
        if line.last() == Some(&b'\n') {
            format!("not JSON: {e}")
        } else {
            format!("an unfinished last line (the client stopped while writing it): {e}")
        }
    })?;
    match v.get_mut("obj").map(J::take) {
        Some(op @ J::Object(_)) => Ok(op),
        _ => Err("a queue line without an \"obj\" operation".into()),
    }
}

/// A path as the client writes it (a list of segments), as `a/b`.
pub(crate) fn op_path(op: &J) -> Option<String> {
    let segments = op.get("path")?.as_array()?;
    let mut out = Vec::with_capacity(segments.len());
    for s in segments {
        out.push(s.as_str()?);
    }
    (!out.is_empty()).then(|| out.join("/"))
}

/// A series entry as the client writes it (`ts` in Unix seconds; `step` null for "next").
#[derive(Deserialize)]
pub(crate) struct Entry<T> {
    pub value: T,
    pub step: Option<f64>,
    pub ts: Option<f64>,
}

/// An image entry's value: base64 data, or the older bare string (`ImageValue.deserializer`).
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum Image {
    Full {
        data: Option<String>,
        name: Option<String>,
        description: Option<String>,
    },
    Bare(String),
}

/// `UploadFileSet.reset`: the client writes `str(bool)` ("True"/"False").
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum Flag {
    Bool(bool),
    Text(String),
}

impl Flag {
    pub(crate) fn get(&self) -> bool {
        match self {
            Flag::Bool(b) => *b,
            Flag::Text(t) => t != "False",
        }
    }
}

/// Every operation the client (1.14) writes to its queue (`neptune/internal/operation.py`,
/// `to_dict`), by its `type`.
#[derive(Deserialize)]
#[serde(tag = "type")]
pub(crate) enum ClientOp {
    AssignFloat {
        value: f64,
    },
    AssignInt {
        value: i64,
    },
    AssignBool {
        value: bool,
    },
    AssignString {
        value: String,
    },
    /// Unix milliseconds.
    AssignDatetime {
        value: i64,
    },
    AssignArtifact {
        hash: String,
    },
    UploadFile {
        ext: String,
        file_path: Option<String>,
        tmp_file_name: Option<String>,
    },
    /// Older clients: the content, base64.
    UploadFileContent {
        ext: String,
        file_content: String,
    },
    UploadFileSet {
        file_globs: Vec<String>,
        reset: Flag,
    },
    LogFloats {
        values: Vec<Entry<f64>>,
    },
    LogStrings {
        values: Vec<Entry<String>>,
    },
    LogImages {
        values: Vec<Entry<Option<Image>>>,
    },
    ClearFloatLog {},
    ClearStringLog {},
    ClearImageLog {},
    ConfigFloatSeries {
        min: Option<f64>,
        max: Option<f64>,
        unit: Option<String>,
    },
    AddStrings {
        values: Vec<String>,
    },
    RemoveStrings {
        values: Vec<String>,
    },
    ClearStringSet {},
    DeleteFiles {
        file_paths: Vec<String>,
    },
    DeleteAttribute {},
    TrackFilesToArtifact {
        entries: Vec<(String, Option<String>)>,
    },
    ClearArtifact {},
    CopyAttribute {
        container_id: String,
        source_path: Vec<String>,
    },
}

/// The `type`s of [`ClientOp`].
pub(crate) const KNOWN: [&str; 24] = [
    "AssignFloat",
    "AssignInt",
    "AssignBool",
    "AssignString",
    "AssignDatetime",
    "AssignArtifact",
    "UploadFile",
    "UploadFileContent",
    "UploadFileSet",
    "LogFloats",
    "LogStrings",
    "LogImages",
    "ClearFloatLog",
    "ClearStringLog",
    "ClearImageLog",
    "ConfigFloatSeries",
    "AddStrings",
    "RemoveStrings",
    "ClearStringSet",
    "DeleteFiles",
    "DeleteAttribute",
    "TrackFilesToArtifact",
    "ClearArtifact",
    "CopyAttribute",
];

/// The operation of a queue line, or why it is not one: `Err((reason, detail))`.
pub(crate) fn decode(op: J) -> Result<(String, ClientOp), (String, String)> {
    let ty = op.get("type").and_then(J::as_str).unwrap_or("").to_owned();
    let Some(path) = op_path(&op) else {
        return Err((
            "an operation without a path".into(),
            format!("{ty} operation"),
        ));
    };
    if !KNOWN.contains(&ty.as_str()) {
        return Err((format!("unknown operation type {ty:?}"), path));
    }
    serde_json::from_value(op)
        .map(|o| (path.clone(), o))
        .map_err(|e| (format!("malformed {ty} operation"), format!("{path}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_of_the_client_decodes() {
        let lines = [
            r#"{"type": "AssignDatetime", "path": ["p", "t"], "value": 1704164645678}"#,
            r#"{"type": "UploadFileSet", "path": ["d"], "file_globs": ["/x/*.txt"], "reset": "False"}"#,
            r#"{"type": "LogImages", "path": ["i"], "values": [{"value": {"data": "iVBO", "name": null, "description": null}, "step": 5, "ts": 1.5}]}"#,
            r#"{"type": "TrackFilesToArtifact", "path": ["a"], "entries": [["/tmp/art", null]], "project_id": "x"}"#,
            r#"{"type": "ClearFloatLog", "path": ["c"]}"#,
        ];
        for l in lines {
            let v: J = serde_json::from_str(l).unwrap();
            assert!(decode(v).is_ok(), "{l}");
        }
        let v: J = serde_json::from_str(r#"{"type": "Mystery", "path": ["m"]}"#).unwrap();
        let Err((reason, _)) = decode(v) else {
            panic!("an unknown type decoded")
        };
        assert_eq!(reason, "unknown operation type \"Mystery\"");
        let v: J = serde_json::from_str(
            r#"{"type": "UploadFileSet", "path": ["d"], "file_globs": [], "reset": "True"}"#,
        )
        .unwrap();
        let Ok((_, ClientOp::UploadFileSet { reset, .. })) = decode(v) else {
            panic!("no file set")
        };
        assert!(reset.get());
    }

    #[test]
    fn queue_files_sort_by_their_first_version() {
        assert_eq!(log_version("data-1.log"), Some(1));
        assert_eq!(log_version("data-1001.log"), Some(1001));
        assert_eq!(log_version("data-x.log"), None);
        assert_eq!(log_version("metadata.json"), None);
    }
}

//! `neptune status`: the runs whose data is not (all) on a server yet, read from the upload
//! queues under the home folder. Every stored text (project, ids, URL) is escaped for the
//! terminal.

use std::io::Write;
use std::path::Path;

use neptune_core::sync::status;

use crate::format::escape;
use crate::CliResult;

fn ago(ms: i64) -> String {
    let s = (chrono::Utc::now().timestamp_millis() - ms).max(0) / 1000;
    match s {
        0..=59 => format!("{s}s ago"),
        60..=3599 => format!("{}m ago", s / 60),
        3600..=86_399 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86_400),
    }
}

pub(crate) fn run(home: &Path, json: bool) -> CliResult {
    let runs = status(home);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        let rows: Vec<_> = runs
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.meta.object_id,
                    "server_id": r.meta.server_id,
                    "project": r.meta.request.project,
                    "kind": r.meta.request.kind.name(),
                    "mode": r.meta.mode,
                    "url": r.meta.url,
                    "pending_values": r.pending_values,
                    "live": r.live,
                    "dir": r.dir,
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::Value::Array(rows))?;
        return Ok(out.flush()?);
    }
    if runs.is_empty() {
        writeln!(
            out,
            "nothing to sync in {}",
            escape(&home.display().to_string())
        )?;
        return Ok(out.flush()?);
    }
    writeln!(
        out,
        "{:<16} {:<20} {:<8} {:>14}  {:<10} SINCE",
        "ID", "PROJECT", "MODE", "UNSYNCED", "STATE"
    )?;
    for r in &runs {
        let state = if r.live {
            format!("writing (pid {})", r.meta.pid)
        } else {
            "stopped".to_owned()
        };
        writeln!(
            out,
            "{:<16} {:<20} {:<8} {:>14}  {:<10} {}",
            escape(r.meta.server_id.as_deref().unwrap_or(&r.meta.object_id)),
            escape(&r.meta.request.project),
            escape(&r.meta.mode),
            format!("{} values", r.pending_values),
            state,
            ago(r.meta.created_ms)
        )?;
    }
    let stopped = runs.iter().filter(|r| !r.live).count();
    if stopped > 0 {
        writeln!(
            out,
            "\n{stopped} run(s) can be uploaded with `neptune sync`"
        )?;
    }
    Ok(out.flush()?)
}

//! `neptune status`: the runs whose data is not (all) on a server yet, read from the upload
//! queues under the home folder. Every stored text (project, ids, URL) is escaped for the
//! terminal.

use std::io::Write;
use std::path::Path;

use neptune_core::sync::status;

use crate::format::{self, escape, quoted};
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
                    "damaged": r.damaged,
                    "set_aside": r.set_aside,
                })
            })
            .collect();
        format::write_json(&mut out, &serde_json::Value::Array(rows))?;
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
    let header = format!(
        "{:<16} {:<20} {:<8} {:>14}  {:<10} SINCE",
        "ID", "PROJECT", "MODE", "UNSYNCED", "STATE"
    );
    writeln!(out, "{}", crate::paint::heading(&header))?;
    for r in &runs {
        let state = if r.live {
            format!("writing (pid {})", r.meta.pid)
        } else if r.put <= r.acked && !r.set_aside.is_empty() {
            "kept aside".to_owned()
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
        if r.damaged > 0 {
            writeln!(
                out,
                "  {} damaged record(s) among the records: `neptune sync` keeps them aside \
                 and uploads the rest",
                r.damaged
            )?;
        }
        for e in &r.set_aside {
            writeln!(
                out,
                "  kept aside: {}: {}",
                quoted(&e.path),
                escape(&e.reason)
            )?;
        }
        if !r.set_aside.is_empty() {
            writeln!(
                out,
                "  ({} entr{} in {}; delete the folder once they are dealt with)",
                r.set_aside.len(),
                if r.set_aside.len() == 1 { "y" } else { "ies" },
                escape(
                    &r.dir
                        .join(neptune_core::queue_disk::aside::REJECTED_FILE)
                        .display()
                        .to_string()
                )
            )?;
        }
    }
    let stopped = runs.iter().filter(|r| !r.live && r.put > r.acked).count();
    if stopped > 0 {
        writeln!(
            out,
            "\n{stopped} run(s) can be uploaded with `neptune sync`"
        )?;
    }
    Ok(out.flush()?)
}

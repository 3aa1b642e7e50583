//! The `neptune status`, `neptune sync` and `neptune serve` commands, as functions the
//! `neptune` command line calls (they print; `Err` is the message for a failing exit).

use std::path::Path;

use neptune_core::sync::{status, sync_all, SyncOptions};

use crate::{Limits, ServerConfig};

fn ago(ms: i64) -> String {
    let s = (chrono::Utc::now().timestamp_millis() - ms).max(0) / 1000;
    match s {
        0..=59 => format!("{s}s ago"),
        60..=3599 => format!("{}m ago", s / 60),
        3600..=86_399 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86_400),
    }
}

/// `neptune status`: the runs under `home` whose data is not (all) on a server yet, and what
/// the uploads kept aside (operations and batches the server refused, damaged records).
pub fn status_command(home: &Path, json: bool) -> Result<(), String> {
    let runs = status(home);
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
        println!("{}", serde_json::Value::Array(rows));
        return Ok(());
    }
    if runs.is_empty() {
        println!("nothing to sync in {}", home.display());
        return Ok(());
    }
    println!(
        "{:<16} {:<20} {:<8} {:>14}  {:<10} SINCE",
        "ID", "PROJECT", "MODE", "UNSYNCED", "STATE"
    );
    for r in &runs {
        let state = if r.live {
            format!("writing (pid {})", r.meta.pid)
        } else if r.put <= r.acked && !r.set_aside.is_empty() {
            "kept aside".to_owned()
        } else {
            "stopped".to_owned()
        };
        println!(
            "{:<16} {:<20} {:<8} {:>14}  {:<10} {}",
            r.meta.server_id.as_deref().unwrap_or(&r.meta.object_id),
            r.meta.request.project,
            r.meta.mode,
            format!("{} values", r.pending_values),
            state,
            ago(r.meta.created_ms)
        );
        if r.damaged > 0 {
            println!(
                "  {} damaged record(s) among the records: `neptune sync` keeps them aside \
                 and uploads the rest",
                r.damaged
            );
        }
        for e in &r.set_aside {
            println!("  kept aside: \"{}\": {}", e.path, e.reason);
        }
        if !r.set_aside.is_empty() {
            println!(
                "  ({} entr{} in {}; delete the folder once they are dealt with)",
                r.set_aside.len(),
                if r.set_aside.len() == 1 { "y" } else { "ies" },
                r.dir
                    .join(neptune_core::queue_disk::aside::REJECTED_FILE)
                    .display()
            );
        }
    }
    let stopped = runs.iter().filter(|r| !r.live && r.put > r.acked).count();
    if stopped > 0 {
        println!("\n{stopped} run(s) can be uploaded with `neptune sync`");
    }
    Ok(())
}

/// `neptune sync`: uploads every stopped run's queue under `home`. Fails (exits non-zero) when
/// anything was not uploaded, or was refused, or is kept aside.
pub fn sync_command(home: &Path, url: Option<String>, token: Option<String>) -> Result<(), String> {
    let mut opts = SyncOptions::from_env();
    if url.is_some() {
        opts.url = url;
    }
    if let Some(t) = token {
        opts.token = t;
    }
    if opts.token.is_empty() {
        return Err(
            "no API token: set NEPTUNE_API_TOKEN or pass --api-token (create one with \
             `neptune-server token create --project P --scope write`)"
                .into(),
        );
    }
    let report = sync_all(home, &opts);
    for s in &report.synced {
        let same = s.local_id == s.server_id;
        println!(
            "synced {}{} ({} values)",
            s.server_id,
            if same {
                String::new()
            } else {
                format!(" (offline {})", s.local_id)
            },
            s.values
        );
        for r in &s.rejected {
            eprintln!("  kept aside: \"{}\": {}", r.path, r.reason);
        }
        if s.set_aside > 0 {
            eprintln!(
                "  {} entr{} kept aside in {} (`neptune status` lists them)",
                s.set_aside,
                if s.set_aside == 1 { "y" } else { "ies" },
                s.dir.display()
            );
        }
    }
    for (dir, e) in &report.failed {
        eprintln!("not synced: {}: {e}", dir.display());
    }
    if report.synced.is_empty() && report.failed.is_empty() {
        println!("nothing to sync in {}", home.display());
    }
    if report.is_complete() {
        return Ok(());
    }
    let aside = report.synced.iter().filter(|s| s.set_aside > 0).count();
    let mut problems = Vec::new();
    if !report.failed.is_empty() {
        problems.push(format!(
            "{} run(s) not synced (their data stays on disk; run `neptune sync` again)",
            report.failed.len()
        ));
    }
    if aside > 0 {
        problems.push(format!(
            "{aside} run(s) keep refused operations or damaged records aside (`neptune status` \
             lists them)"
        ));
    }
    Err(problems.join("; "))
}

/// `neptune serve`: runs a server (as `neptune-server` does).
pub fn serve_command(
    data: &Path,
    listen: std::net::SocketAddr,
    max_body_mib: usize,
    max_upload_mib: u64,
) -> Result<(), String> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .try_init();
    crate::run(ServerConfig {
        data: data.to_path_buf(),
        listen,
        limits: Limits {
            max_body: max_body_mib.saturating_mul(1 << 20),
            max_upload: max_upload_mib.saturating_mul(1 << 20),
            ..Limits::default()
        },
    })
}

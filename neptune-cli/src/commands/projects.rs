//! `neptune projects`: the projects of the embedded store.

use std::io::Write;

use neptune_core::{CsvCell, DEFAULT_PROJECT};

use crate::format;
use crate::source::Source;
use crate::{exit, CliResult, Output};

pub(crate) fn run(src: &Source, output: Output) -> CliResult {
    let Some(store) = &src.store else {
        return Err(exit::invalid(format!(
            "listing projects needs the embedded store; {} is read through NEPTUNE_URL \
             (unset it to read a local store, or give `neptune runs --project NAME`)",
            src.location
        )));
    };
    let projects = store.projects()?;
    let stamp =
        |t: &chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match output {
        Output::Json => {
            let rows: Vec<serde_json::Value> = projects
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "name": p.name,
                        "key": p.key,
                        "runs": p.runs,
                        "created": stamp(&p.created),
                        "last_activity": stamp(&p.last_activity),
                    })
                })
                .collect();
            format::write_json(&mut out, &serde_json::Value::Array(rows))?;
        }
        Output::Csv => {
            out.write_all(b"name,key,runs,last_activity\n")?;
            for p in &projects {
                p.name.clone().write_cell(&mut out)?;
                out.write_all(b",")?;
                p.key.clone().write_cell(&mut out)?;
                writeln!(out, ",{},{}", p.runs, stamp(&p.last_activity))?;
            }
        }
        Output::Text if projects.is_empty() => {
            writeln!(
                out,
                "no projects in the store at {} (log a run first)",
                format::escape(&src.location)
            )?;
        }
        Output::Text => {
            let header = ["project", "key", "runs", "last activity"].map(str::to_owned);
            let rows: Vec<Vec<String>> = projects
                .iter()
                .map(|p| {
                    vec![
                        p.name.clone(),
                        p.key.clone(),
                        p.runs.to_string(),
                        format::time(&p.last_activity),
                    ]
                })
                .collect();
            out.write_all(
                format::aligned(&header, &rows, &[false, false, true, false]).as_bytes(),
            )?;
            let default = match projects.as_slice() {
                [only] => format!("`neptune runs` reads {}", format::escape(&only.name)),
                _ => format!(
                    "`neptune runs` reads {DEFAULT_PROJECT} unless given --project NAME or NEPTUNE_PROJECT"
                ),
            };
            let count = format!(
                "{} project{}; {default}",
                projects.len(),
                if projects.len() == 1 { "" } else { "s" }
            );
            writeln!(out, "{}", crate::paint::muted(&count))?;
        }
    }
    out.flush()?;
    Ok(())
}

//! `neptune runs`: the runs table of a project.

use std::io::Write;

use neptune_core::{Cell, RunState, Table, TableQuery, TableScope};

use crate::source::Source;
use crate::{format, paint};
use crate::{CliResult, Output, StateArg};

/// The arguments of `neptune runs`.
pub(crate) struct RunsArgs {
    /// `None`: the store's only project, else local/sandbox.
    pub project: Option<String>,
    pub tags: Vec<String>,
    pub states: Vec<StateArg>,
    pub owners: Vec<String>,
    pub ids: Vec<String>,
    pub columns: Vec<String>,
    pub query: Option<String>,
    pub sort: String,
    pub asc: bool,
    pub limit: Option<usize>,
    pub trashed: bool,
    pub all: bool,
}

/// The sys/ columns a terminal shows by default.
const TERMINAL_SYS: [&str; 6] = [
    "sys/id",
    "sys/name",
    "sys/state",
    "sys/owner",
    "sys/creation_time",
    "sys/tags",
];

/// Widest cell on a terminal.
const MAX_CELL: usize = 40;

pub(crate) fn run(src: &Source, a: RunsArgs, output: Output) -> CliResult {
    let project = src.project(a.project)?;
    let mut q = TableQuery::new()
        .tags(a.tags)
        .ids(a.ids)
        .sort_by(a.sort)
        .ascending(a.asc)
        .trashed(Some(a.trashed));
    for s in a.states {
        q = q.state(match s {
            StateArg::Active => RunState::Active,
            StateArg::Inactive => RunState::Inactive,
        });
    }
    for o in a.owners {
        q = q.owner(o);
    }
    if !a.columns.is_empty() {
        q = q.columns(a.columns.iter().map(|c| c.trim()).filter(|c| !c.is_empty()));
    }
    if let Some(text) = a.query {
        q = q.query(text);
    }
    if let Some(n) = a.limit {
        q = q.limit(n);
    }
    let table = src
        .backend
        .reader()
        .fetch_table(&TableScope::runs(&project), &q)
        .map_err(|e| match e {
            neptune_core::Error::ObjectNotFound { .. } => src.no_project(&project),
            other => Box::<dyn std::error::Error>::from(other),
        })?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match output {
        Output::Json => {
            let mut json = Vec::new();
            table.write_json(&mut json)?;
            out.write_all(format::json_text(&String::from_utf8_lossy(&json)).as_bytes())?;
        }
        Output::Csv => table.write_csv(&mut out)?,
        Output::Text => {
            if table.is_empty() {
                writeln!(out, "no runs in {} match", format::escape(&project))?;
            } else {
                let terminal_columns = a.columns.is_empty() && !a.all;
                out.write_all(text(&table, terminal_columns).as_bytes())?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// The table for a terminal; `default_columns` keeps the main sys/ fields and the user's.
fn text(table: &Table, default_columns: bool) -> String {
    let mut cols: Vec<usize> = (0..table.columns().len()).collect();
    if default_columns {
        let mut picked: Vec<usize> = TERMINAL_SYS
            .iter()
            .filter_map(|p| table.column_index(p))
            .collect();
        picked.extend(cols.iter().copied().filter(|&i| {
            let p = table.columns()[i].path();
            !p.starts_with("sys/")
                && !p.starts_with("monitoring/")
                && !p.starts_with("source_code/")
        }));
        cols = picked;
    }
    let header: Vec<String> = cols
        .iter()
        .map(|&i| table.columns()[i].path().to_owned())
        .collect();
    let rows: Vec<Vec<String>> = table
        .rows()
        .iter()
        .map(|r| {
            cols.iter()
                .map(|&i| {
                    r.cells()[i]
                        .as_ref()
                        .map_or_else(String::new, |c| format::clip(&format::cell(c), MAX_CELL))
                })
                .collect()
        })
        .collect();
    let numeric: Vec<bool> = cols
        .iter()
        .map(|&i| {
            table
                .rows()
                .iter()
                .filter_map(|r| r.cells()[i].as_ref())
                .all(|c| matches!(c, Cell::Float(_) | Cell::Integer(_)))
        })
        .collect();
    let mut s = format::aligned(&header, &rows, &numeric);
    let count = format!(
        "{} run{}",
        table.len(),
        if table.len() == 1 { "" } else { "s" }
    );
    s.push_str(&paint::muted(&count));
    s.push('\n');
    s
}

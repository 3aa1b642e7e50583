//! A table as CSV and as JSON.

use std::io::{self, Write};

use super::{Cell, Table};
use crate::model::values::CsvCell;

fn write_text(w: &mut dyn Write, s: &str) -> io::Result<()> {
    // The same quoting as series CSV.
    if s.contains([',', '"', '\n', '\r']) {
        write!(w, "\"{}\"", s.replace('"', "\"\""))
    } else {
        w.write_all(s.as_bytes())
    }
}

impl CsvCell for Cell {
    fn write_cell(&self, w: &mut dyn Write) -> io::Result<()> {
        match self {
            Cell::String(s) => write_text(w, s),
            other => write!(w, "{other}"),
        }
    }
}

impl Table {
    /// Writes a header of the column paths, then a line per row; a missing field is an empty
    /// cell, times are RFC 3339 with milliseconds.
    ///
    /// ```
    /// # fn main() -> neptune_core::Result<()> {
    /// use neptune_core::{Project, Run, TableQuery};
    /// let dir = tempfile::tempdir().unwrap();
    /// let run = Run::builder().home(dir.path()).project("team/nli").name("x, y").open()?;
    /// run.stop()?;
    /// let project = Project::builder().home(dir.path()).project("team/nli").open()?;
    /// let t = project.fetch_runs_table(TableQuery::new().columns(["sys/name"]))?;
    /// assert_eq!(t.to_csv(), "sys/creation_time,sys/id,sys/name\n".to_owned()
    ///     + &t.cell(0, "sys/creation_time").unwrap().to_string() + ",NLI-1,\"x, y\"\n");
    /// # Ok(()) }
    /// ```
    pub fn write_csv<W: Write>(&self, mut w: W) -> io::Result<()> {
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            write_text(&mut w, c.path())?;
        }
        w.write_all(b"\n")?;
        for row in &self.rows {
            for (i, cell) in row.cells.iter().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                if let Some(cell) = cell {
                    cell.write_cell(&mut w)?;
                }
            }
            w.write_all(b"\n")?;
        }
        w.flush()
    }

    /// The CSV text of [`write_csv`](Self::write_csv).
    pub fn to_csv(&self) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_csv(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The rows as a JSON array of objects keyed by column path; a missing field is `null`.
    pub fn to_json(&self) -> serde_json::Value {
        let rows = self
            .rows
            .iter()
            .map(|row| {
                let obj: serde_json::Map<String, serde_json::Value> = self
                    .columns
                    .iter()
                    .zip(&row.cells)
                    .map(|(c, cell)| {
                        (
                            c.path().to_owned(),
                            cell.as_ref().map_or(serde_json::Value::Null, Cell::to_json),
                        )
                    })
                    .collect();
                serde_json::Value::Object(obj)
            })
            .collect();
        serde_json::Value::Array(rows)
    }

    /// Writes [`to_json`](Self::to_json) with the keys of each row in column order, one row
    /// per line.
    pub fn write_json<W: Write>(&self, mut w: W) -> io::Result<()> {
        w.write_all(b"[")?;
        for (i, row) in self.rows.iter().enumerate() {
            w.write_all(if i == 0 { b"\n{" } else { b",\n{" })?;
            for (j, (c, cell)) in self.columns.iter().zip(&row.cells).enumerate() {
                if j > 0 {
                    w.write_all(b",")?;
                }
                serde_json::to_writer(&mut w, c.path())?;
                w.write_all(b":")?;
                match cell {
                    Some(cell) => serde_json::to_writer(&mut w, &cell.to_json())?,
                    None => w.write_all(b"null")?,
                }
            }
            w.write_all(b"}")?;
        }
        w.write_all(b"\n]\n")?;
        w.flush()
    }
}

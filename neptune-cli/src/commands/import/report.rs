//! What an import did: counts, and everything skipped with its reason.

use std::collections::BTreeMap;
use std::fmt;

/// Counts of one import, and the rows skipped, grouped by reason.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Run folders of the Python client rather than Parquet files were read.
    pub from_folders: bool,
    pub files: u64,
    pub rows: u64,
    pub runs_created: u64,
    pub runs_resumed: u64,
    /// Single-value fields written (new or changed).
    pub fields: u64,
    /// Single-value fields that already held the exported value.
    pub fields_unchanged: u64,
    /// Series points written.
    pub points: u64,
    /// Series points already stored by an earlier import.
    pub points_present: u64,
    /// Files (File, FileSeries entries, FileSets) uploaded.
    pub uploads: u64,
    /// Files already stored by an earlier import.
    pub uploads_present: u64,
    /// Reason → (rows, the first example).
    pub skipped: BTreeMap<String, (u64, String)>,
    /// Values imported as another type than they had, by conversion → (rows, first example).
    pub converted: BTreeMap<String, (u64, String)>,
}

impl Report {
    /// The report of an import of the Python client's folders: `files` counts run folders,
    /// `rows` queue operations.
    pub(crate) fn folders() -> Report {
        Report {
            from_folders: true,
            ..Report::default()
        }
    }

    /// Records a skipped row: `reason` groups rows (no paths in it), `example` names one.
    pub(crate) fn skip(&mut self, reason: impl Into<String>, example: impl FnOnce() -> String) {
        self.skip_n(reason, 1, example);
    }

    /// Records `n` rows skipped for one reason.
    pub(crate) fn skip_n(
        &mut self,
        reason: impl Into<String>,
        n: u64,
        example: impl FnOnce() -> String,
    ) {
        let e = self
            .skipped
            .entry(reason.into())
            .or_insert_with(|| (0, example()));
        e.0 += n;
    }

    /// Records a value imported as another type: `how` groups rows, `example` names one.
    pub(crate) fn convert(&mut self, how: &str, example: impl FnOnce() -> String) {
        let e = self
            .converted
            .entry(how.to_owned())
            .or_insert_with(|| (0, example()));
        e.0 += 1;
    }

    /// Adds the counts of another thread's report.
    pub(crate) fn merge(&mut self, o: Report) {
        self.files += o.files;
        self.rows += o.rows;
        self.runs_created += o.runs_created;
        self.runs_resumed += o.runs_resumed;
        self.fields += o.fields;
        self.fields_unchanged += o.fields_unchanged;
        self.points += o.points;
        self.points_present += o.points_present;
        self.uploads += o.uploads;
        self.uploads_present += o.uploads_present;
        for (mine, theirs) in [
            (&mut self.skipped, o.skipped),
            (&mut self.converted, o.converted),
        ] {
            for (k, (n, example)) in theirs {
                mine.entry(k).or_insert((0, example)).0 += n;
            }
        }
    }

    /// Rows skipped in all.
    pub(crate) fn skipped_rows(&self) -> u64 {
        self.skipped.values().map(|(n, _)| n).sum()
    }

    /// The report as JSON (for scripts and tests).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let skipped: Vec<serde_json::Value> = self
            .skipped
            .iter()
            .map(|(reason, (n, example))| {
                serde_json::json!({"reason": reason, "rows": n, "example": example})
            })
            .collect();
        let converted: Vec<serde_json::Value> = self
            .converted
            .iter()
            .map(|(how, (n, example))| {
                serde_json::json!({"conversion": how, "rows": n, "example": example})
            })
            .collect();
        serde_json::json!({
            "converted": converted,
            "files": self.files,
            "rows": self.rows,
            "runs_created": self.runs_created,
            "runs_resumed": self.runs_resumed,
            "fields": self.fields,
            "fields_unchanged": self.fields_unchanged,
            "points": self.points,
            "points_present": self.points_present,
            "uploads": self.uploads,
            "uploads_present": self.uploads_present,
            "skipped_rows": self.skipped_rows(),
            "skipped": skipped,
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from_folders {
            writeln!(
                f,
                "read {} operations from {} run folders",
                self.rows, self.files
            )?;
        } else {
            writeln!(
                f,
                "read {} rows from {} Parquet files",
                self.rows, self.files
            )?;
        }
        writeln!(
            f,
            "runs:   {} created, {} already there (resumed)",
            self.runs_created, self.runs_resumed
        )?;
        writeln!(
            f,
            "fields: {} written, {} already held the value",
            self.fields, self.fields_unchanged
        )?;
        writeln!(
            f,
            "points: {} imported, {} already stored",
            self.points, self.points_present
        )?;
        writeln!(
            f,
            "files:  {} uploaded, {} already stored",
            self.uploads, self.uploads_present
        )?;
        for (how, (n, example)) in &self.converted {
            writeln!(f, "converted: {n} × {how} (e.g. {example})")?;
        }
        if self.skipped.is_empty() {
            return writeln!(f, "skipped: nothing");
        }
        writeln!(f, "skipped: {} rows", self.skipped_rows())?;
        for (reason, (n, example)) in &self.skipped {
            writeln!(f, "  {n} × {reason} (e.g. {example})")?;
        }
        Ok(())
    }
}

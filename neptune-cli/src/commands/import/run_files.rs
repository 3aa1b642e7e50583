//! The files of a run being imported: File uploads (compared by content), FileSets and
//! Artifacts (left as they are when the run already has them), FileSeries entries (past the
//! last stored step), as [`RunImport`] methods.

use neptune_core::{FieldPath, FieldType, File, FileLogOptions};
use sha2::{Digest, Sha256};

use super::report::Report;
use super::run::{hex, sha256_hex, target_path, RunImport};
use crate::CliResult;

impl RunImport {
    /// Uploads `file` to the File at `exported`, unless the stored file has the same content.
    pub(crate) fn upload(&mut self, exported: &str, file: File, report: &mut Report) -> CliResult {
        let path = target_path(exported);
        if self.types.get(&path) == Some(&FieldType::File) {
            let stored = self
                .backend
                .reader()
                .file_ref(self.run.id(), &FieldPath::parse(&path)?)?;
            let digest = match file.path() {
                Some(p) => {
                    sha256_hex(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?
                }
                None => hex(&Sha256::digest(file.read_all()?)),
            };
            if stored.is_some_and(|f| f.digest == digest) {
                report.uploads_present += 1;
                return Ok(());
            }
        }
        let r = self.run.field(&path).file().and_then(|h| h.upload(file));
        self.uploaded(r, "file", report);
        Ok(())
    }

    /// Uploads the files matching `globs` to the FileSet at `exported` (added to it unless
    /// `reset`), unless the run already has that FileSet.
    pub(crate) fn upload_set(
        &mut self,
        exported: &str,
        globs: &[String],
        report: &mut Report,
    ) -> CliResult {
        self.upload_set_with(exported, globs, true, report)
    }

    /// [`upload_set`](Self::upload_set); `reset: false` adds to what the set has from this
    /// import (a FileSet stored before it is still left as it is).
    pub(crate) fn upload_set_with(
        &mut self,
        exported: &str,
        globs: &[String],
        reset: bool,
        report: &mut Report,
    ) -> CliResult {
        let path = target_path(exported);
        if self.types.get(&path) == Some(&FieldType::FileSet) {
            report.uploads_present += 1;
            return Ok(());
        }
        let r = self.run.field(&path).file_set().and_then(|h| {
            if reset {
                h.assign(globs.to_vec())
            } else {
                h.upload_files(globs.to_vec())
            }
        });
        self.uploaded(r, "file_set", report);
        Ok(())
    }

    /// Appends `file` to the FileSeries at `exported` (a target path), unless the store already
    /// holds its step; entries must come in increasing step order.
    pub(crate) fn file_point(
        &mut self,
        path: &str,
        file: File,
        opts: FileLogOptions,
        step: f64,
        report: &mut Report,
    ) -> CliResult {
        if !self.file_series.contains_key(path) {
            let stored = if self.types.contains_key(path) {
                self.backend
                    .reader()
                    .file_points(self.run.id(), &FieldPath::parse(path)?)?
                    .last()
                    .and_then(|p| p.step)
            } else {
                None
            };
            let handle = self
                .run
                .field(path)
                .file_series()
                .map_err(|e| e.to_string());
            self.file_series
                .insert(path.to_owned(), (handle, stored, None));
        }
        let Some((handle, stored, last)) = self.file_series.get_mut(path) else {
            return Ok(());
        };
        let handle = match handle {
            Ok(h) => h,
            Err(e) => {
                let e = e.clone();
                report.skip("file_series: the field cannot be written", || e);
                return Ok(());
            }
        };
        if stored.is_some_and(|s| step <= s) {
            report.uploads_present += 1;
            return Ok(());
        }
        if last.is_some_and(|l| step <= l) {
            report.skip("file_series entries with the same step", || {
                format!("{path} at step {step}")
            });
            return Ok(());
        }
        match handle.append_with(file, opts.step(step)) {
            Ok(()) => {
                report.uploads += 1;
                *last = Some(step);
            }
            Err(err) => report.skip("file_series entry refused", || err.to_string()),
        }
        Ok(())
    }

    /// Deletes `files` from the FileSet at `exported`, unless the set was stored before this
    /// import (then it is left as it is).
    pub(crate) fn delete_set_files(
        &mut self,
        exported: &str,
        files: &[String],
        report: &mut Report,
    ) -> CliResult {
        let path = target_path(exported);
        if self.types.get(&path) == Some(&FieldType::FileSet) {
            return Ok(());
        }
        if let Err(e) = self
            .run
            .field(&path)
            .file_set()
            .and_then(|h| h.delete_files(files.to_vec()))
        {
            report.skip("file_set delete refused", || e.to_string());
        }
        Ok(())
    }

    /// Tracks the files of `entries` (source, destination inside the artifact) in the
    /// Artifact at `exported`, unless the run already has that Artifact.
    pub(crate) fn track(
        &mut self,
        exported: &str,
        entries: &[(String, Option<String>)],
        report: &mut Report,
    ) -> CliResult {
        let path = target_path(exported);
        if self.types.get(&path) == Some(&FieldType::Artifact) {
            report.uploads_present += 1;
            return Ok(());
        }
        let field = self.run.field(&path);
        let r = field.artifact().and_then(|h| {
            entries
                .iter()
                .try_for_each(|(src, dest)| h.track_files(src, dest.as_deref()))
        });
        self.uploaded(r, "artifact", report);
        Ok(())
    }

    fn uploaded(&self, r: neptune_core::Result<()>, kind: &str, report: &mut Report) {
        match r {
            Ok(()) => report.uploads += 1,
            Err(e) => report.skip(format!("{kind} upload refused"), || e.to_string()),
        }
    }
}

//! `neptune import`: history from the original hosted service.
//!
//! `neptune import neptune-folder PATH` replays the run folders that the Python client (1.x)
//! left in its `.neptune/` folder (offline runs, and async runs it could not send), see
//! [`replay`].
//!
//! `neptune import parquet DIR…` reads the official exporter's output (`neptune-exporter`:
//! `<data>/<project>/<run>_part_<n>.parquet`, files under `<files>/<project>/…`), streamed one
//! record batch at a time, into the embedded store (`--home`, `NEPTUNE_HOME`) or the server of
//! `NEPTUNE_URL` (with `NEPTUNE_API_TOKEN`). Importing twice changes nothing, and an import
//! killed half-way finishes when run again; see [`run`](mod@run) for how each type is mapped.

mod folder;
mod parquet;
mod replay;
mod report;
mod run;
mod run_files;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use neptune_core::store::Store;
use neptune_core::{Backend, Writer};

use self::parquet::Batch;
use self::report::Report;
use self::run::{RunImport, Stopping, Target};
use crate::CliResult;

/// What to import.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum ImportCommand {
    /// The Parquet files of the official exporter (`neptune-exporter export`): folders are
    /// searched for `*.parquet`; each run becomes a run with custom run id = its exported id.
    Parquet {
        /// Export folders (its data path, or one project's folder) or single .parquet files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The exporter's files path (default: a `files` folder beside the data folder).
        #[arg(long)]
        files: Option<PathBuf>,
        /// Import every run into this project instead of its exported project (runs are
        /// found by their exported id, so give it for one exported project at a time).
        #[arg(long)]
        project: Option<String>,
        /// Print the final report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The Python client's local folder (`.neptune/`, or one run folder in it): every run
    /// folder (offline, async, sync) becomes a run, found again by its custom run id = the
    /// client's run id (the UUID in the folder's name). File-set globs that the client saved
    /// relative paths for are read relative to the working directory, as the client did: run
    /// the import where the script ran.
    NeptuneFolder {
        /// The `.neptune` folder (or `.neptune/offline`, or one `run__…` folder).
        path: PathBuf,
        /// The project the runs go to (the client's folders do not name one).
        #[arg(long, short = 'p', env = "NEPTUNE_PROJECT", default_value = neptune_core::DEFAULT_PROJECT)]
        project: String,
        /// Print the final report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `neptune import …`.
pub(crate) fn run(home: &Path, cmd: ImportCommand) -> CliResult {
    let (report, json) = match cmd {
        ImportCommand::Parquet {
            paths,
            files,
            project,
            json,
        } => (
            import_parquet(home, &paths, files.as_deref(), project)?,
            json,
        ),
        ImportCommand::NeptuneFolder {
            path,
            project,
            json,
        } => (import_folder(home, &path, &project)?, json),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{report}");
    }
    Ok(())
}

/// Imports the run folders below `path`, one run after another.
fn import_folder(home: &Path, path: &Path, project: &str) -> CliResult<Report> {
    let groups = folder::discover(path)?;
    if groups.is_empty() {
        return Err(format!(
            "no run folders (with data-<N>.log) under {}; give the Python client's .neptune \
             folder",
            path.display()
        )
        .into());
    }
    let mut report = Report::folders();
    let total: u64 = groups.iter().flatten().map(folder::queue_bytes).sum();
    // Each queue is read twice.
    let bar = progress(2 * total, "bytes");
    let (backend, _location) = backend(home)?;
    let target = Target {
        backend,
        file_roots: Vec::new(),
        project: None,
    };
    for g in &groups {
        replay::import_object(&target, project, g, &mut report, &bar)?;
    }
    bar.finish_and_clear();
    Ok(report)
}

/// The server of `NEPTUNE_URL` (with `NEPTUNE_API_TOKEN`), else the embedded store in `home`
/// (created when missing).
fn backend(home: &Path) -> CliResult<(Backend, String)> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(url) = env("NEPTUNE_URL") {
        let token = env("NEPTUNE_API_TOKEN").ok_or_else(|| {
            format!(
                "NEPTUNE_URL is set ({url}) but NEPTUNE_API_TOKEN is not; create a token with \
                 `neptune-server token create --project PROJECT --scope write`, or unset \
                 NEPTUNE_URL to import into {}",
                home.display()
            )
        })?;
        let http = neptune_core::backend::http::HttpBackend::new(&url, &token)?;
        return Ok((Backend::of(Arc::new(http)), format!("the server at {url}")));
    }
    let store = Store::open(home)?;
    let location = store.location();
    Ok((Backend::of(Arc::new(store)), location))
}

/// Folders a `file_value.path` of `parquet` may be relative to: the exporter keeps files under
/// `<files>/<project folder>/`, with `<files>` beside the data folder by default.
fn file_roots(parquet: &Path, files: Option<&Path>) -> Vec<PathBuf> {
    let project_dir = parquet.parent().unwrap_or(Path::new("."));
    let mut bases: Vec<PathBuf> = files.map(Path::to_path_buf).into_iter().collect();
    if let Some(data) = project_dir.parent() {
        if let Some(up) = data.parent() {
            bases.push(up.join("files"));
        }
        bases.push(data.join("files"));
    }
    let mut roots = Vec::new();
    for base in bases {
        if let Some(name) = project_dir.file_name() {
            roots.push(base.join(name));
        }
        roots.push(base);
    }
    roots
}

fn progress(total: u64, unit: &str) -> ProgressBar {
    // Hidden when stderr is not a terminal.
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{spinner}} importing {{bar:30}} {{human_pos}}/{{human_len}} {unit} ({{eta}} left)"
    )) {
        bar.set_style(style);
    }
    bar
}

/// Imports the exporter's files under `paths`.
fn import_parquet(
    home: &Path,
    paths: &[PathBuf],
    files: Option<&Path>,
    project: Option<String>,
) -> CliResult<Report> {
    let (parquet_files, unfinished) = parquet::discover(paths)?;
    if parquet_files.is_empty() {
        return Err(format!(
            "no .parquet files under {} (give the exporter's data path, e.g. ./exports/data)",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
        .into());
    }
    let mut report = Report::default();
    for u in &unfinished {
        report.skip(
            "unfinished export file (*.parquet.tmp): run the exporter again",
            || u.display().to_string(),
        );
    }
    let mut total = 0;
    for f in &parquet_files {
        total += parquet::row_count(f)?;
    }
    let (backend, _location) = backend(home)?;
    let groups = parquet::groups(parquet_files);
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 4)
        .min(groups.len());
    let bar = progress(total, "rows");
    let next = AtomicUsize::new(0);
    let results: Vec<Result<Report, String>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let target = Target {
                    backend: backend.clone(),
                    file_roots: Vec::new(),
                    project: project.clone(),
                };
                let (groups, next, bar) = (&groups, &next, &bar);
                s.spawn(move || {
                    Importer::new(target)
                        .groups(groups, next, files, bar)
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err("an import thread panicked".into()))
            })
            .collect()
    });
    for r in results {
        report.merge(r?);
    }
    bar.finish_and_clear();
    Ok(report)
}

/// One thread's imports: whole groups of files (a run's parts, in order) at a time, so that
/// each run is written by one thread.
struct Importer {
    target: Target,
    report: Report,
    current: Option<RunImport>,
    /// The previous run, stopping in the background while the next is read.
    stopping: Option<Stopping>,
    /// A run that could not be opened: its rows are skipped without trying again.
    refused: Option<(String, String, String)>,
}

impl Importer {
    fn new(target: Target) -> Importer {
        Importer {
            target,
            report: Report::default(),
            current: None,
            stopping: None,
            refused: None,
        }
    }

    fn groups(
        mut self,
        groups: &[Vec<PathBuf>],
        next: &AtomicUsize,
        files: Option<&Path>,
        bar: &ProgressBar,
    ) -> CliResult<Report> {
        while let Some(group) = groups.get(next.fetch_add(1, Ordering::Relaxed)) {
            for file in group {
                self.target.file_roots = file_roots(file, files);
                self.file(file, bar)?;
            }
        }
        if let Some(previous) = self.stopping.take() {
            previous.join()?;
        }
        if let Some(r) = self.current.take() {
            r.finish(&mut self.report)?.join()?;
        }
        Ok(self.report)
    }

    fn file(&mut self, file: &Path, bar: &ProgressBar) -> CliResult {
        self.report.files += 1;
        for batch in parquet::batches(file)? {
            let batch = batch?;
            let b = Batch::new(file, &batch)?;
            for i in 0..b.len() {
                let project = Batch::text(b.project, i);
                let run_id = Batch::text(b.run, i);
                if !self.current.as_ref().is_some_and(|r| r.is(project, run_id))
                    && !self.switch(project, run_id)?
                {
                    continue;
                }
                if let Some(r) = self.current.as_mut() {
                    r.row(&b, i, &self.target, &mut self.report)?;
                }
            }
            self.report.rows += b.len() as u64;
            bar.inc(b.len() as u64);
        }
        Ok(())
    }

    /// Ends the current run and opens the run of the row; `false` when it cannot be opened
    /// (the row is reported as skipped).
    fn switch(&mut self, project: &str, run_id: &str) -> CliResult<bool> {
        if let Some((p, r, e)) = &self.refused {
            if p == project && r == run_id {
                let e = e.clone();
                self.report.skip("run cannot be opened", || e);
                return Ok(false);
            }
        }
        if let Some(r) = self.current.take() {
            let next = r.finish(&mut self.report)?;
            if let Some(previous) = self.stopping.replace(next) {
                previous.join()?;
            }
        }
        match RunImport::open(&self.target, project, run_id, &mut self.report) {
            Ok(r) => {
                self.current = Some(r);
                Ok(true)
            }
            Err(e) => {
                let e = e.to_string();
                self.report.skip("run cannot be opened", || e.clone());
                self.refused = Some((project.to_owned(), run_id.to_owned(), e));
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_looked_for_beside_the_data_folder() {
        let roots = file_roots(Path::new("exports/data/ws_p-1a/r_part_0.parquet"), None);
        assert_eq!(
            roots,
            [
                PathBuf::from("exports/files/ws_p-1a"),
                PathBuf::from("exports/files"),
                PathBuf::from("exports/data/files/ws_p-1a"),
                PathBuf::from("exports/data/files"),
            ]
        );
    }

    #[test]
    fn store_owned_sys_fields_go_below_imported() {
        assert_eq!(run::target_path("sys/name"), "sys/name");
        assert_eq!(run::target_path("sys/tags"), "sys/tags");
        assert_eq!(
            run::target_path("sys/creation_time"),
            "imported/sys/creation_time"
        );
        assert_eq!(run::target_path("sys/id"), "imported/sys/id");
        assert_eq!(run::target_path("train/loss"), "train/loss");
        assert_eq!(run::target_path("sysx/a"), "sysx/a");
    }
}

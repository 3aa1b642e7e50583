//! `neptune`: read what runs logged. Tables of runs, a run's fields, values, files, charts, diffs
//! and exports, from the embedded store in `./.neptune` (or `--home`, or `NEPTUNE_HOME`).
//!
//! Every command works on a [`Backend`](neptune_core::Backend) (a writer and a reader) only, so that a server
//! backend can take the store's place (module `source`).

mod commands;
mod exit;
mod format;
mod paint;
mod plot;
mod source;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Read experiment metadata logged with the neptune library.
#[derive(Debug, Parser)]
#[command(name = "neptune", version, about, long_about = None, after_help = exit::HELP)]
struct Cli {
    /// Folder of the embedded store.
    #[arg(long, global = true, env = "NEPTUNE_HOME", default_value = ".neptune")]
    home: PathBuf,

    /// When to colour the output: auto (a terminal without NO_COLOR), always or never.
    #[arg(long, global = true, value_enum, default_value_t = paint::ColorArg::Auto)]
    color: paint::ColorArg,

    #[command(subcommand)]
    command: Command,
}

/// Output of the commands that print data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Output {
    #[default]
    Text,
    Json,
    Csv,
}

#[derive(Debug, Args)]
#[group(multiple = false)]
struct OutputArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Print CSV.
    #[arg(long)]
    csv: bool,
}

impl OutputArgs {
    fn get(&self) -> Output {
        if self.json {
            Output::Json
        } else if self.csv {
            Output::Csv
        } else {
            Output::Text
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum StateArg {
    Active,
    Inactive,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum XAxis {
    /// The step of each point.
    Step,
    /// The wall-clock time of each point.
    Time,
    /// Seconds since each run's first point.
    Relative,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A table of the runs of a project (newest first).
    ///
    /// On a terminal, without --columns, shows the main sys/ fields and every field outside
    /// sys/ and monitoring/; --json and --csv give every column.
    Runs {
        /// The project (default: NEPTUNE_PROJECT, else the store's only project, else
        /// local/sandbox).
        #[arg(long, short = 'p', env = "NEPTUNE_PROJECT")]
        project: Option<String>,
        /// Runs with this tag (repeat: runs with all of them).
        #[arg(long = "tag", short = 't')]
        tags: Vec<String>,
        /// Runs in this state (repeat: any of them).
        #[arg(long = "state", value_enum)]
        states: Vec<StateArg>,
        /// Runs of this owner (repeat: any of them).
        #[arg(long = "owner")]
        owners: Vec<String>,
        /// Runs with this id (repeat: any of them).
        #[arg(long = "id")]
        ids: Vec<String>,
        /// Fields to show, comma-separated; a namespace shows every field below it.
        #[arg(long, short = 'c', value_delimiter = ',')]
        columns: Vec<String>,
        /// Filter, e.g. "params/lr < 0.01 AND sys/tags CONTAINS best".
        #[arg(long, short = 'q')]
        query: Option<String>,
        /// Sort by this field (default sys/creation_time).
        #[arg(long, default_value = neptune_core::DEFAULT_SORT_BY)]
        sort: String,
        /// Sort ascending (default: descending).
        #[arg(long)]
        asc: bool,
        /// At most this many runs.
        #[arg(long, short = 'n')]
        limit: Option<usize>,
        /// Trashed runs instead of the others.
        #[arg(long)]
        trashed: bool,
        /// Every column on a terminal too.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// The projects of the store, each with its number of runs and its last activity.
    Projects {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// The fields of a run (or model, model version, project) with their values; series with
    /// their count, last value, min, max and a sparkline.
    ///
    /// --json prints one document of a stable shape (its "version" changes when a key
    /// changes meaning): {"version": 1, "id", "store", "path" (the namespace given, or null),
    /// "fields": {PATH: {"type", …}}}. Single values have "value" (as `neptune fetch --json`
    /// writes it); FloatSeries "count", "last_step", "last", "min", "max"; StringSeries
    /// "count", "last_step", "last"; File "extension", "size", "digest"; FileSeries and
    /// FileSet "count", "size" (bytes); Artifact "count", "hash".
    Show {
        /// The object's id, e.g. NLI-3.
        id: String,
        /// Only the fields at or below this namespace.
        path: Option<String>,
        /// Print the fields as one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// The value of a field; series as CSV (step, value, timestamp).
    Fetch {
        id: String,
        /// A field or namespace path, e.g. train/loss.
        path: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Downloads a File, FileSeries, FileSet (as a zip) or Artifact.
    Download {
        id: String,
        path: String,
        /// Where to write (a directory, or a file name); default: the working directory.
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
    /// A chart of FloatSeries of one or more runs, overlaid.
    Plot {
        /// Run ids, comma-separated (e.g. NLI-3,NLI-4).
        ids: String,
        /// FloatSeries paths, comma-separated (e.g. train/loss,val/loss).
        paths: String,
        /// The chart to write: .png or .svg.
        #[arg(long, short = 'o')]
        output: PathBuf,
        /// What the x axis shows.
        #[arg(long, value_enum, default_value = "step")]
        x: XAxis,
        /// Width in pixels.
        #[arg(long, default_value_t = 1024)]
        width: u32,
        /// Height in pixels.
        #[arg(long, default_value_t = 640)]
        height: u32,
        /// Chart title (default: the paths).
        #[arg(long)]
        title: Option<String>,
        /// Logarithmic y axis.
        #[arg(long)]
        log_y: bool,
    },
    /// The fields whose values differ between two objects, side by side.
    Diff {
        a: String,
        b: String,
        /// Compare the fields that always differ too (sys/id, times, hostname …).
        #[arg(long)]
        all: bool,
        /// Print JSON: {path: [value in A, value in B]}.
        #[arg(long)]
        json: bool,
    },
    /// Writes every field of an object to a folder: the single values as fields.csv or
    /// fields.json, each series as a CSV file under series/, files under files/.
    Export {
        id: String,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// The folder to write (created).
        #[arg(long, short = 'o')]
        output: PathBuf,
    },
    /// Lists the runs whose data is not (all) on a server yet: offline runs, and runs that
    /// stopped or died before the server acknowledged everything.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Uploads what `neptune status` lists (registering offline runs on the server); one
    /// failing run does not stop the others, and a run still being written is left alone.
    Sync {
        /// The server (default: NEPTUNE_URL, else the URL each run was logged with).
        #[arg(long)]
        url: Option<String>,
        /// API token with write scope (default: NEPTUNE_API_TOKEN).
        #[arg(long)]
        api_token: Option<String>,
    },
    /// Serves the web UI on the store (runs table, run pages, charts, compare) at
    /// http://127.0.0.1:PORT/, read-only, without a token.
    Ui {
        /// Port on 127.0.0.1 (0: any free port; the URL is printed).
        #[arg(long, default_value_t = 8090)]
        port: u16,
    },
    /// Imports history from the original service: its exporter's Parquet files, or the
    /// Python client's `.neptune` folder.
    #[command(subcommand)]
    Import(commands::import::ImportCommand),
    /// Prints a completion script for a shell, e.g. `neptune completions bash >
    /// ~/.local/share/bash-completion/completions/neptune`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Runs a team server (as `neptune-server` does) on the store in --data.
    Serve {
        /// Data directory of the server.
        #[arg(long, default_value = "./neptune-data")]
        data: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Largest JSON request body, in MiB.
        #[arg(long, default_value_t = 64)]
        max_body_mib: usize,
        /// Largest file upload, in MiB.
        #[arg(long, default_value_t = 4096)]
        max_upload_mib: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve { .. } | Command::Ui { .. }) {
        quiet_broken_pipe();
    }
    paint::init(cli.color);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "{} {}",
                paint::error_prefix(),
                format::escape_lines(&e.to_string())
            );
            ExitCode::from(exit::classify(e.as_ref()).code())
        }
    }
}

/// A command whose reader goes away (`neptune runs | head`) ends as other Unix tools do, killed
/// by SIGPIPE, instead of panicking in `println!` on the broken pipe (Rust ignores SIGPIPE by
/// default). Commands that serve pages keep ignoring it: a browser closing its connection must
/// not end the server.
fn quiet_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any thread starts; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// An error for the user: the message says what was not found or what to do; its exit code
/// comes from [`exit::classify`].
pub(crate) type CliResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// The items of a comma-separated list, trimmed, empty ones dropped.
fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

fn run(cli: Cli) -> CliResult {
    // The commands of the upload queue and the server do not read the store.
    let command = match cli.command {
        Command::Status { json } => return commands::status::run(&cli.home, json),
        Command::Ui { port } => return commands::ui::run(&cli.home, port),
        Command::Import(cmd) => return commands::import::run(&cli.home, cmd),
        Command::Completions { shell } => {
            // Into memory first: clap_complete panics when its writer fails (a closed pipe).
            let mut script = Vec::new();
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "neptune", &mut script);
            let mut out = std::io::stdout().lock();
            std::io::Write::write_all(&mut out, &script)?;
            return Ok(std::io::Write::flush(&mut out)?);
        }
        Command::Sync { url, api_token } => {
            return commands::sync::run(&cli.home, url, api_token);
        }
        Command::Serve {
            data,
            listen,
            max_body_mib,
            max_upload_mib,
        } => {
            return Ok(neptune_server::cli::serve_command(
                &data,
                listen,
                max_body_mib,
                max_upload_mib,
            )?);
        }
        other => other,
    };
    let src = source::Source::open(&cli.home)?;
    match command {
        Command::Runs {
            project,
            tags,
            states,
            owners,
            ids,
            columns,
            query,
            sort,
            asc,
            limit,
            trashed,
            all,
            output,
        } => commands::runs::run(
            &src,
            commands::runs::RunsArgs {
                project,
                tags,
                states,
                owners,
                ids,
                columns,
                query,
                sort,
                asc,
                limit,
                trashed,
                all,
            },
            output.get(),
        ),
        Command::Projects { output } => commands::projects::run(&src, output.get()),
        Command::Show { id, path, json } => commands::show::run(&src, &id, path.as_deref(), json),
        Command::Fetch { id, path, output } => commands::fetch::run(&src, &id, &path, output.get()),
        Command::Download { id, path, output } => {
            commands::download::run(&src, &id, &path, output.as_deref())
        }
        Command::Plot {
            ids,
            paths,
            output,
            x,
            width,
            height,
            title,
            log_y,
        } => plot::run(
            &src,
            &plot::PlotArgs {
                ids: split_list(&ids),
                paths: split_list(&paths),
                output,
                x,
                width,
                height,
                title,
                log_y,
            },
        ),
        Command::Diff { a, b, all, json } => commands::diff::run(&src, &a, &b, all, json),
        Command::Export { id, format, output } => commands::export::run(&src, &id, format, &output),
        // Handled before the store is opened.
        Command::Status { .. }
        | Command::Sync { .. }
        | Command::Serve { .. }
        | Command::Ui { .. }
        | Command::Completions { .. }
        | Command::Import(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
        assert_eq!(super::split_list(" A-1, ,A-2,"), ["A-1", "A-2"]);
    }
}

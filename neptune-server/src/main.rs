//! `neptune-server`: serve the API, or manage API tokens.
//!
//! ```text
//! neptune-server --data DIR --listen 127.0.0.1:8080
//! neptune-server --data DIR token create --project ml-team/nli --scope write
//! neptune-server --data DIR token create --project ml-team/nli --python-client --url http://HOST:8080
//! neptune-server --data DIR token list
//! neptune-server --data DIR token revoke ID
//! neptune-server --data DIR --files s3://bucket/prefix gc --grace-hours 24
//! neptune-server --data DIR --database postgres://neptune@db/neptune --files s3://bucket/prefix
//! ```
//!
//! Every setting has a flag and an environment variable (`NEPTUNE_SERVER_DATA`,
//! `NEPTUNE_SERVER_LISTEN`, `NEPTUNE_SERVER_FILES`, `NEPTUNE_DATABASE_URL`, …); logs go to stderr, filtered by
//! `RUST_LOG`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use neptune_server::{Limits, Scope, ServerConfig, Tokens};

#[derive(Parser)]
#[command(name = "neptune-server", version, about = "The neptune team server")]
struct Cli {
    /// Data directory: the store (store.db, files/) and the tokens (server.db).
    #[arg(
        long,
        global = true,
        default_value = "./neptune-data",
        env = "NEPTUNE_SERVER_DATA"
    )]
    data: PathBuf,
    /// Where file content lives instead of DATA/files: s3://bucket/prefix (S3-compatible
    /// storage: credentials from the AWS chain, endpoint from AWS_ENDPOINT_URL) or
    /// file:///absolute/folder.
    #[arg(long, global = true, env = "NEPTUNE_SERVER_FILES")]
    files: Option<String>,
    /// PostgreSQL database of the store and the tokens (postgres://user@host:port/db),
    /// instead of the SQLite files in DATA; several servers may share it. Migrated at start.
    #[arg(long, global = true, env = "NEPTUNE_DATABASE_URL")]
    database: Option<String>,
    /// The most connections to the PostgreSQL database this server opens.
    #[arg(long, global = true, default_value_t = neptune_server::DEFAULT_DATABASE_CONNECTIONS,
          env = "NEPTUNE_DATABASE_CONNECTIONS")]
    database_connections: usize,
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080", env = "NEPTUNE_SERVER_LISTEN")]
    listen: SocketAddr,
    /// Largest JSON request body, in MiB.
    #[arg(long, default_value_t = 64, env = "NEPTUNE_SERVER_MAX_BODY_MIB")]
    max_body_mib: usize,
    /// Largest file upload, in MiB.
    #[arg(long, default_value_t = 4096, env = "NEPTUNE_SERVER_MAX_UPLOAD_MIB")]
    max_upload_mib: u64,
    /// Most connections open at once; past it the oldest idle one is closed.
    #[arg(long, default_value_t = 1024, env = "NEPTUNE_SERVER_MAX_CONNECTIONS",
          value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: u64,
    /// Seconds a client has to send a request's headers (and an idle connection stays open).
    #[arg(long, default_value_t = 30, env = "NEPTUNE_SERVER_HEADER_TIMEOUT_SECS",
          value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout_secs: u64,
    /// Longest pause, in seconds, while a request body arrives.
    #[arg(long, default_value_t = 30, env = "NEPTUNE_SERVER_BODY_TIMEOUT_SECS",
          value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout_secs: u64,
    /// Most MiB of request bodies held in memory at once, across all requests.
    #[arg(long, default_value_t = 256, env = "NEPTUNE_SERVER_BODY_MEMORY_MIB")]
    body_memory_mib: usize,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Removes file content nothing refers to (no field, no upload recorded within the grace
    /// period) and leftovers of interrupted uploads. Safe while servers run.
    Gc {
        /// Hours within which recorded uploads and new content are kept.
        #[arg(long, default_value_t = 24, env = "NEPTUNE_SERVER_GC_GRACE_HOURS")]
        grace_hours: u64,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Creates a token and prints it (it is shown only once).
    Create {
        /// The project the token is for, e.g. ml-team/nli.
        #[arg(long)]
        project: String,
        /// read or write.
        #[arg(long, default_value = "write")]
        scope: String,
        /// Print the token for the original Python client (`neptune` 1.x): base64 JSON with
        /// this server's address (`--url`) and the token.
        #[arg(long, requires = "url")]
        python_client: bool,
        /// This server's address as the Python client reaches it, e.g. http://HOST:8080.
        #[arg(long)]
        url: Option<String>,
    },
    /// Lists tokens (ids, projects, scopes; never the secrets).
    List,
    /// Revokes a token by id.
    Revoke { id: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => {
            neptune_server::ops::init_logging();
            neptune_server::run(ServerConfig {
                data: cli.data,
                files: cli.files,
                database: cli.database,
                database_connections: cli.database_connections,
                listen: cli.listen,
                limits: Limits {
                    max_body: cli.max_body_mib.saturating_mul(1 << 20),
                    max_upload: cli.max_upload_mib.saturating_mul(1 << 20),
                    max_connections: usize::try_from(cli.max_connections).unwrap_or(usize::MAX),
                    header_timeout: Duration::from_secs(cli.header_timeout_secs),
                    body_timeout: Duration::from_secs(cli.body_timeout_secs),
                    body_memory: cli.body_memory_mib.saturating_mul(1 << 20),
                    ..Limits::default()
                },
            })
        }
        Some(Command::Token { action }) => token(&cli.data, cli.database.as_deref(), action),
        Some(Command::Gc { grace_hours }) => {
            let storage = neptune_server::Storage {
                data: &cli.data,
                files: cli.files.as_deref(),
                database: cli.database.as_deref(),
                database_connections: cli.database_connections,
            };
            gc(&storage, grace_hours)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("neptune-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn gc(storage: &neptune_server::Storage<'_>, grace_hours: u64) -> Result<(), String> {
    neptune_server::ops::init_logging();
    let store = neptune_server::open_storage(storage)?;
    let grace = Duration::from_secs(grace_hours.saturating_mul(3600));
    let r = store.collect_garbage(grace).map_err(|e| e.to_string())?;
    println!(
        "removed {} unreferenced file(s), freeing {} bytes; kept {}; removed {} leftover(s) of \
         interrupted uploads ({} bytes)",
        r.removed, r.freed_bytes, r.kept, r.leftovers_removed, r.leftovers_bytes
    );
    Ok(())
}

fn token(
    data: &std::path::Path,
    database: Option<&str>,
    action: TokenAction,
) -> Result<(), String> {
    let tokens = Tokens::open_in(data, database)?;
    match action {
        TokenAction::Create {
            project,
            scope,
            python_client,
            url,
        } => {
            let scope = Scope::parse(&scope)
                .ok_or_else(|| format!("unknown scope {scope:?}; use read or write"))?;
            let (id, token) = tokens.create(&project, scope)?;
            eprintln!(
                "created {} token {id} for project \"{project}\"; it is shown only once:",
                scope.as_str()
            );
            match url.filter(|_| python_client) {
                Some(url) => println!(
                    "{}",
                    neptune_server::compat::python_client_token(&url, &token)
                ),
                None => println!("{token}"),
            }
        }
        TokenAction::List => {
            for t in tokens.list()? {
                let state = match t.revoked_ms {
                    Some(_) => "revoked",
                    None => "active",
                };
                println!(
                    "{}  {:5}  {:7}  {}",
                    t.id,
                    t.scope.as_str(),
                    state,
                    t.project
                );
            }
        }
        TokenAction::Revoke { id } => {
            if !tokens.revoke(&id)? {
                return Err(format!("no active token with id {id}"));
            }
            eprintln!("revoked token {id}");
        }
    }
    Ok(())
}

//! `neptune-server`: the team server of the neptune experiment tracker.
//!
//! A versioned JSON API (`/api/v1`, described at `/api/v1/openapi.json`) over the same
//! embedded store ([`neptune_core::store::Store`], SQLite and a content-addressed file area in
//! the data directory) and the same `Writer` and `Reader` contract that runs use locally. Clients log
//! through `neptune_core`'s HTTP backend (`NEPTUNE_URL`, `NEPTUNE_API_TOKEN`).
//!
//! - Tokens ([`tokens`]): per project, read or write scope, hashed at rest; handlers take
//!   them, and their bodies, queries and URL paths, through the extractors of [`extract`],
//!   which refuse a bad request with the API's JSON error ([`error`]).
//! - Writes: batches of operations from a client's upload queue, each applied at most once
//!   (the store keeps the last applied sequence number per project, object and queue, in the
//!   same transaction).
//! - Scoping: every piece of state a request can reach (objects, upload-queue records, queue
//!   registrations, file content) is the token's project's; another project's ids and digests
//!   read as missing (404).
//! - Everything is validated again ([`screen`] and the store): a client that sends garbage gets
//!   a 4xx JSON error naming the problem, and the run is unchanged.
//!
//! ```no_run
//! # fn main() -> Result<(), String> {
//! use neptune_server::{run, ServerConfig};
//! run(ServerConfig::new("./neptune-data", "127.0.0.1:8080".parse().unwrap()))
//! # }
//! ```

pub mod api;
pub mod body;
pub mod cli;
pub mod compat;
mod conns;
pub mod error;
pub mod extract;
mod files;
pub mod openapi;
pub mod ops;
pub mod screen;
pub mod tokens;
mod tokens_pg;
pub mod ui;
mod zip_body;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use api::{router, AppState, Limits};
use neptune_core::store::Store;
pub use tokens::{Scope, Tokens};

/// How to run a server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The data directory: `store.db`, `files/`, `server.db` (tokens).
    pub data: PathBuf,
    /// Where file content lives instead of `data/files/`: `s3://bucket/prefix` or
    /// `file:///absolute/folder` (see [`Store::open_with_files`]).
    pub files: Option<String>,
    /// The PostgreSQL database of the store and the tokens (`postgres://user@host/db`)
    /// instead of the SQLite files of `data`; several servers may share it.
    pub database: Option<String>,
    /// The most connections to `database` this server opens.
    pub database_connections: usize,
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The limits requests are held to.
    pub limits: Limits,
}

impl ServerConfig {
    /// Default limits (see [`Limits`]): 64 MiB JSON bodies, 4 GiB uploads, 1024 connections,
    /// 30 s to send headers, 256 MiB of bodies in memory.
    pub fn new(data: impl Into<PathBuf>, listen: SocketAddr) -> Self {
        ServerConfig {
            data: data.into(),
            files: None,
            database: None,
            database_connections: DEFAULT_DATABASE_CONNECTIONS,
            listen,
            limits: Limits::default(),
        }
    }
}

/// The default of [`ServerConfig::database_connections`].
pub const DEFAULT_DATABASE_CONNECTIONS: usize = 16;

/// Where a server keeps its data: [`ServerConfig`]'s `data`, `files`, `database`.
#[derive(Clone, Copy, Debug)]
pub struct Storage<'a> {
    /// The data directory (SQLite files; file content when `files` is not given).
    pub data: &'a std::path::Path,
    /// Where file content lives instead of `data/files/`.
    pub files: Option<&'a str>,
    /// The PostgreSQL database, instead of the SQLite files.
    pub database: Option<&'a str>,
    /// The most connections to `database`.
    pub database_connections: usize,
}

/// Opens the store of `storage`: on PostgreSQL when it names a database, else SQLite in its
/// data directory.
pub fn open_storage(storage: &Storage<'_>) -> Result<Store, String> {
    match storage.database {
        Some(url) => Store::open_postgres(
            url,
            storage.database_connections,
            storage.data,
            storage.files,
        )
        .map_err(|e| e.to_string()),
        None => open_store(storage.data, storage.files),
    }
}

/// Opens the store and the tokens of `storage`.
pub fn open_state_in(storage: &Storage<'_>, limits: Limits) -> Result<Arc<AppState>, String> {
    let store = open_storage(storage)?;
    let tokens = Tokens::open_in(storage.data, storage.database)?;
    Ok(Arc::new(AppState {
        store: Arc::new(store),
        tokens: Arc::new(tokens),
        bodies: body::BodyBudget::new(&limits),
        limits,
    }))
}

/// Opens the store and the tokens of a data directory.
pub fn open_state(data: &std::path::Path, limits: Limits) -> Result<Arc<AppState>, String> {
    open_state_with(data, None, limits)
}

/// Opens the store of `data`, with its file content at `files` when given (see
/// [`ServerConfig::files`]).
pub fn open_store(data: &std::path::Path, files: Option<&str>) -> Result<Store, String> {
    match files {
        None => Store::open(data),
        Some(url) => Store::open_with_files(data, url),
    }
    .map_err(|e| e.to_string())
}

/// [`open_state`] with file content at `files` when given.
pub fn open_state_with(
    data: &std::path::Path,
    files: Option<&str>,
    limits: Limits,
) -> Result<Arc<AppState>, String> {
    let store = open_store(data, files)?;
    let tokens = Tokens::open(data)?;
    Ok(Arc::new(AppState {
        store: Arc::new(store),
        tokens: Arc::new(tokens),
        bodies: body::BodyBudget::new(&limits),
        limits,
    }))
}

/// Serves on `listener` until `shutdown` completes, under the connection limits of
/// `state.limits` (header timeout, most connections; see [`Limits`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
    let limits = state.limits;
    compat::liveness::watch_left_active(&state);
    let logged = router(state).layer(
        TraceLayer::new_for_http()
            .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
    );
    conns::serve(listener, logged, limits, shutdown).await
}

/// Raises this process's limit of open files to its hard limit (Unix), and returns the limit
/// in force (`None` when unknown). Each connection holds one.
fn raise_open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return None;
            }
            if lim.rlim_cur < lim.rlim_max {
                let want = libc::rlimit {
                    rlim_cur: lim.rlim_max,
                    rlim_max: lim.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                    lim.rlim_cur = lim.rlim_max;
                }
            }
        }
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
        Some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Keeps `max_connections` within the open-files limit, leaving room for the store's files.
fn fit_connections(mut limits: Limits) -> Limits {
    const RESERVED: u64 = 128;
    if let Some(files) = raise_open_files_limit() {
        let fits = files.saturating_sub(RESERVED).max(16);
        if limits.max_connections as u64 > fits {
            tracing::warn!(
                "at most {fits} connections (not {}): the open-files limit is {files}; \
                 raise it (ulimit -n) for more",
                limits.max_connections
            );
            limits.max_connections = fits as usize;
        }
    }
    limits
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

/// Runs a server until Ctrl-C or SIGTERM (blocking; builds its own runtime). Prints
/// `neptune-server listening on http://ADDR` on stdout once it accepts connections.
pub fn run(config: ServerConfig) -> Result<(), String> {
    let state = open_state_in(
        &Storage {
            data: &config.data,
            files: config.files.as_deref(),
            database: config.database.as_deref(),
            database_connections: config.database_connections,
        },
        fit_connections(config.limits),
    )?;
    // The store and the tokens are closed after the runtime, off its threads: PostgreSQL's
    // sync client closes its connections with a runtime of its own.
    let keep = state.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let served = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the listening address: {e}"))?;
        println!(
            "neptune-server listening on http://{addr} (data in {}, files in {})",
            config.data.display(),
            config.files.as_deref().unwrap_or("the data directory")
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();
        serve(listener, state, shutdown_signal())
            .await
            .map_err(|e| format!("server error: {e}"))
    });
    drop(rt);
    drop(keep);
    served
}

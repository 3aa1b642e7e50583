//! The web UI: server-rendered pages over the store, and the chart data they fetch.
//!
//! Pages are HTML rendered with `maud`, whose `html!` macro escapes every interpolated value
//! (a run named `<script>` shows as text) and is checked at compile time, with no template
//! files to ship; charts are drawn in the browser by the vendored uPlot (a small canvas
//! library that draws a million points in milliseconds) and `assets/ui.js`. Every asset is
//! inside the binary ([`assets`]).
//!
//! Two ways to serve it:
//! - [`UiState::local`]: `neptune ui` on the embedded store, no token, read-only, every project.
//! - [`UiState::team`]: `neptune-server` at `/`; a browser signs in with an API token
//!   ([`auth`]) and sees the token's project; a write token may edit a run's name,
//!   description and tags.

pub mod assets;
pub mod auth;
mod compare;
pub mod data;
mod edit;
mod files;
mod layout;
mod models;
mod projects;
mod run;
mod runs;
mod zip;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use neptune_core::store::Store;

use crate::tokens::Tokens;

/// What the pages share: the store and, on a team server, the tokens and the browser sessions.
pub struct UiState {
    /// The store the pages read.
    pub store: Arc<Store>,
    /// `None` for the local, token-less UI.
    pub tokens: Option<Arc<Tokens>>,
    pub(crate) sessions: auth::Sessions,
}

impl UiState {
    /// The local UI (`neptune ui`): every project, read-only, no sign-in.
    pub fn local(store: Arc<Store>) -> Arc<UiState> {
        Arc::new(UiState {
            store,
            tokens: None,
            sessions: auth::Sessions::default(),
        })
    }

    /// The team UI: a browser signs in with an API token of `tokens`.
    pub fn team(store: Arc<Store>, tokens: Arc<Tokens>) -> Arc<UiState> {
        Arc::new(UiState {
            store,
            tokens: Some(tokens),
            sessions: auth::Sessions::default(),
        })
    }
}

type Ui = axum::extract::State<Arc<UiState>>;

/// The routes of the pages, their data and their assets.
pub fn router(state: Arc<UiState>) -> Router {
    Router::new()
        .route("/", get(projects::page))
        .route("/runs", get(runs::page))
        .route("/run/{id}", get(run::page))
        .route("/run/{id}/edit", post(edit::edit))
        .route("/compare", get(compare::page))
        .route("/models", get(models::list))
        .route("/model/{id}", get(models::page))
        .route("/signin", get(auth::signin_page).post(auth::signin))
        .route("/signout", post(auth::signout))
        .route("/ui/data/downsample", post(data::ui_downsample))
        .route("/ui/data/status", get(data::status))
        .route("/ui/data/rows", get(runs::rows))
        .route("/ui/data/strings/{id}", get(files::strings))
        .route("/ui/file/{id}", get(files::file))
        .route("/ui/zip/{id}", get(zip::fileset))
        .route("/assets/{name}", get(assets::serve))
        .with_state(state)
}

/// Serves the local UI on `listener` until `shutdown` completes.
pub async fn serve_local(
    listener: tokio::net::TcpListener,
    store: Arc<Store>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(UiState::local(store)))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Runs the local UI on the store in `home` until Ctrl-C or SIGTERM (blocking; builds its own
/// runtime). Prints `neptune ui: http://ADDR/` once it accepts connections.
pub fn run_local(home: &std::path::Path, listen: std::net::SocketAddr) -> Result<(), String> {
    if !home.join("store.db").is_file() {
        return Err(format!(
            "no store in {}: log a run first, or point --home (NEPTUNE_HOME) at the folder \
             that holds store.db",
            home.display()
        ));
    }
    let store = Arc::new(Store::open(home).map_err(|e| e.to_string())?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e} (choose another --port)"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the listening address: {e}"))?;
        println!(
            "neptune ui: http://{addr}/ (store {}, read-only; Ctrl-C to stop)",
            home.display()
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();
        serve_local(listener, store, crate::shutdown_signal())
            .await
            .map_err(|e| format!("server error: {e}"))
    })
}

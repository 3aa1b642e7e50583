//! Whether a run of the Python client is still running. The client sends nothing when it
//! stops (`stop()` flushes its queue and ends its ping thread), so, as the original service
//! did, an object is Active while its pings come (every 10 s) and Inactive once none came for
//! the ping timeout: after `stop()`, a crash, or a killed process alike.
//!
//! The objects the client created or pinged since the server started are watched, and, from
//! the start, the runs and models it left Active when the server last stopped
//! ([`watch_left_active`]); a ping of an object marked Inactive marks it Active again (a run
//! resumed by its id).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use neptune_core::operation::Operation;
use neptune_core::rules::sys;
use neptune_core::{FieldPath, Reader, RunState, TableQuery, TableScope, Writer};

use super::AppState;

/// The environment variable that sets the ping timeout, in seconds (decimals allowed).
pub const TIMEOUT_VAR: &str = "NEPTUNE_PY_CLIENT_PING_TIMEOUT";

/// Six missed pings of the client's 10-second period.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The owner of the objects the Python client creates.
pub(super) const OWNER: &str = "python-client";

/// The one watch of this process.
pub(super) fn global() -> &'static Arc<Liveness> {
    static LIVE: OnceLock<Arc<Liveness>> = OnceLock::new();
    LIVE.get_or_init(|| Arc::new(Liveness::from_env()))
}

/// Watches, from now, the runs and models of the Python client that are Active in the store
/// (left so when the server last stopped): they turn Inactive after the ping timeout unless
/// their pings resume. Called once as the server starts serving.
pub fn watch_left_active(s: &Arc<AppState>) {
    let (live, st) = (Arc::clone(global()), Arc::clone(s));
    tokio::spawn(async move {
        let found = {
            let st = Arc::clone(&st);
            tokio::task::spawn_blocking(move || left_active(&st)).await
        };
        match found {
            Ok(Ok(ids)) if !ids.is_empty() => {
                let now = Instant::now();
                let mut last = live.lock();
                for id in ids {
                    last.entry(id).or_insert(now);
                }
                drop(last);
                live.start(&st);
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(
                "the Python client's runs left Active could not be listed: {e}; they stay \
                 Active until they ping again"
            ),
            Err(e) => tracing::warn!("listing the Python client's runs left Active failed: {e}"),
        }
    });
}

/// The ids of the Active runs and models of the Python client, in every project.
fn left_active(s: &AppState) -> neptune_core::Result<Vec<String>> {
    let q = TableQuery::new()
        .trashed(None)
        .progress_bar(false)
        .query(format!("sys/owner = \"{OWNER}\" AND sys/state = Active"))
        .columns([sys::ID]);
    let mut ids = Vec::new();
    for p in s.store.projects()? {
        for scope in [TableScope::runs(&p.name), TableScope::models(&p.name)] {
            let t = s.store.fetch_table(&scope, &q)?;
            ids.extend(t.ids().into_iter().map(str::to_owned));
        }
    }
    Ok(ids)
}

/// The last ping of each watched object (by its short id), and the sweeper.
pub(super) struct Liveness {
    timeout: Duration,
    last: Mutex<HashMap<String, Instant>>,
    sweeper: OnceLock<()>,
}

impl Liveness {
    /// The timeout from [`TIMEOUT_VAR`], else the default (a value that is not a positive
    /// number of seconds is said in the log, and the default used).
    pub(super) fn from_env() -> Self {
        let timeout = match std::env::var(TIMEOUT_VAR) {
            Ok(v) => match v.trim().parse::<f64>() {
                Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Duration::from_secs_f64(s),
                _ => {
                    tracing::warn!(
                        "{TIMEOUT_VAR}={v:?} is not a positive number of seconds; the Python \
                         client's runs turn Inactive {}s after their last ping",
                        DEFAULT_TIMEOUT.as_secs()
                    );
                    DEFAULT_TIMEOUT
                }
            },
            Err(_) => DEFAULT_TIMEOUT,
        };
        Liveness {
            timeout,
            last: Mutex::new(HashMap::new()),
            sweeper: OnceLock::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `id` was just created or resumed (the store made it Active): watch it.
    pub(super) fn created(self: &Arc<Self>, s: &Arc<AppState>, id: &str) {
        self.lock().insert(id.to_owned(), Instant::now());
        self.start(s);
    }

    /// `id` pinged: watched again, and marked Active if it was not watched (marked Inactive,
    /// or resumed by its id, which does not create).
    pub(super) fn pinged(self: &Arc<Self>, s: &Arc<AppState>, id: &str) {
        let was = self.lock().insert(id.to_owned(), Instant::now());
        if was.is_none() {
            set_state(s, id, RunState::Active);
        }
        self.start(s);
    }

    /// Starts the sweeper once, on the first object (inside the server's runtime).
    fn start(self: &Arc<Self>, s: &Arc<AppState>) {
        let (me, s) = (Arc::clone(self), Arc::clone(s));
        self.sweeper.get_or_init(|| {
            tokio::spawn(async move { me.sweep(s).await });
        });
    }

    async fn sweep(self: Arc<Self>, s: Arc<AppState>) {
        let every = (self.timeout / 4).clamp(Duration::from_millis(100), Duration::from_secs(5));
        loop {
            tokio::time::sleep(every).await;
            let now = Instant::now();
            let gone: Vec<String> = {
                let mut last = self.lock();
                let gone: Vec<String> = last
                    .iter()
                    .filter(|(_, t)| now.duration_since(**t) >= self.timeout)
                    .map(|(id, _)| id.clone())
                    .collect();
                for id in &gone {
                    last.remove(id);
                }
                gone
            };
            if gone.is_empty() {
                continue;
            }
            let s = Arc::clone(&s);
            let _ = tokio::task::spawn_blocking(move || {
                for id in gone {
                    set_state(&s, &id, RunState::Inactive);
                }
            })
            .await;
        }
    }
}

/// Writes `sys/state` of `id` as the library itself does; a failure is logged (the next ping
/// or sweep tries again only for Active, so an Inactive that failed is said in the log).
fn set_state(s: &AppState, id: &str, state: RunState) {
    let path = match FieldPath::parse(sys::STATE) {
        Ok(p) => p,
        Err(e) => return tracing::warn!("{e}"),
    };
    let op = Operation::AssignRunState { path, value: state };
    match s.store.execute(id, &[op]) {
        Ok(refused) if refused.is_empty() => {}
        Ok(refused) => tracing::warn!(
            object = id,
            "sys/state {} refused: {}",
            state.as_str(),
            refused
                .iter()
                .map(|r| r.reason.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Err(e) => tracing::warn!(object = id, "sys/state {} not written: {e}", state.as_str()),
    }
}

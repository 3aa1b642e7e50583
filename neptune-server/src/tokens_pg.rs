//! The token table on PostgreSQL (`neptune-server --database postgres://…`).
//!
//! One connection, opened on first use and opened again when PostgreSQL restarts; each call
//! is retried for a bounded time while the database cannot answer. The sync client runs a
//! runtime of its own, so a call made on a task of the server's runtime moves off it first.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};

use crate::tokens::TokenResult;

/// How long a call waits for PostgreSQL to answer again.
const RETRY_FOR: Duration = Duration::from_secs(30);

/// The row of a new token.
pub(crate) struct Row {
    pub id: String,
    pub project: String,
    pub scope: String,
    pub salt: String,
    pub hash: String,
    pub created_ms: i64,
}

/// A found token: project, scope, salt, hash, revoked.
pub(crate) type Found = (String, String, String, String, Option<i64>);

/// A listed token: id, project, scope, created, revoked.
pub(crate) type Listed = (String, String, String, i64, Option<i64>);

/// Tokens in a PostgreSQL database.
pub(crate) struct PgTokens {
    url: String,
    client: Mutex<Option<Client>>,
}

fn message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("token database: {db}"),
        None => format!("token database: {e}"),
    }
}

/// Runs `f` where a blocking call may be made: off the runtime's worker threads.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        Ok(_) => std::thread::scope(|s| s.spawn(f).join()).unwrap_or_else(|p| {
            std::panic::resume_unwind(p);
        }),
        Err(_) => f(),
    }
}

impl PgTokens {
    /// Connects to `url` and creates the table if needed.
    pub(crate) fn open(url: &str) -> TokenResult<PgTokens> {
        let t = PgTokens {
            url: url.to_owned(),
            client: Mutex::new(None),
        };
        t.run(|c| {
            c.batch_execute(
                "CREATE TABLE IF NOT EXISTS tokens (
                     id          TEXT PRIMARY KEY,
                     project     TEXT NOT NULL,
                     scope       TEXT NOT NULL,
                     salt        TEXT NOT NULL,
                     hash        TEXT NOT NULL,
                     created_ms  BIGINT NOT NULL,
                     revoked_ms  BIGINT
                 )",
            )
        })?;
        Ok(t)
    }

    /// Runs `f` on the connection, connecting (again) when needed.
    fn run<T: Send>(
        &self,
        mut f: impl FnMut(&mut Client) -> Result<T, postgres::Error> + Send,
    ) -> TokenResult<T> {
        off_runtime(|| {
            let started = Instant::now();
            let mut guard = self.client.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                let out = match guard.as_mut() {
                    Some(c) if !c.is_closed() => f(c),
                    _ => match Client::connect(&self.url, NoTls) {
                        Ok(c) => f(guard.insert(c)),
                        Err(e) => Err(e),
                    },
                };
                match out {
                    Ok(v) => return Ok(v),
                    // The connection is gone (PostgreSQL restarted, say): try a new one.
                    Err(e)
                        if neptune_core::store::connection_lost(&e)
                            && started.elapsed() < RETRY_FOR =>
                    {
                        tracing::warn!("token database: {e}; retrying");
                        *guard = None;
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    Err(e) => return Err(message(&e)),
                }
            }
        })
    }

    pub(crate) fn create(&self, r: &Row) -> TokenResult<()> {
        self.run(|c| {
            c.execute(
                "INSERT INTO tokens (id, project, scope, salt, hash, created_ms)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&r.id, &r.project, &r.scope, &r.salt, &r.hash, &r.created_ms],
            )
        })?;
        Ok(())
    }

    pub(crate) fn find(&self, id: &str) -> TokenResult<Option<Found>> {
        self.run(|c| {
            let row = c.query_opt(
                "SELECT project, scope, salt, hash, revoked_ms FROM tokens WHERE id = $1",
                &[&id],
            )?;
            Ok(row.map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))))
        })
    }

    pub(crate) fn revoke(&self, id: &str, now_ms: i64) -> TokenResult<bool> {
        let n = self.run(|c| {
            c.execute(
                "UPDATE tokens SET revoked_ms = $2 WHERE id = $1 AND revoked_ms IS NULL",
                &[&id, &now_ms],
            )
        })?;
        Ok(n > 0)
    }

    pub(crate) fn list(&self) -> TokenResult<Vec<Listed>> {
        self.run(|c| {
            let rows = c.query(
                "SELECT id, project, scope, created_ms, revoked_ms FROM tokens \
                 ORDER BY created_ms, id",
                &[],
            )?;
            Ok(rows
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
                .collect())
        })
    }
}

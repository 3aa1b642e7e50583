//! API tokens: per project, read or write scope, stored hashed.
//!
//! A token is `nep_<id>_<secret>`: `id` (16 hex digits) finds its row, `secret` (64 hex
//! digits, 256 random bits) proves it. The server keeps only a per-token random salt and
//! SHA-256(salt ‖ secret), in `<data>/server.db` (or, with `--database postgres://…`, in the
//! table `tokens` of that database, shared by every server replica); a revoked token stays
//! listed with its time of revocation and is refused from then on.

use std::path::Path;
use std::sync::Mutex;

use neptune_core::rules::clock::now_ms;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

/// What a token allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Reads only.
    Read,
    /// Reads and writes.
    Write,
}

impl Scope {
    /// `"read"` or `"write"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }

    /// The scope named `read` or `write`.
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            _ => None,
        }
    }
}

/// A valid token's rights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The id of the token (not its secret).
    pub token_id: String,
    /// The project the token is for.
    pub project: String,
    /// Read, or read and write.
    pub scope: Scope,
}

/// A token as listed (never its secret).
#[derive(Clone, Debug)]
pub struct TokenInfo {
    /// The id of the token (not its secret).
    pub id: String,
    /// The project the token is for.
    pub project: String,
    /// Read, or read and write.
    pub scope: Scope,
    /// When it was created, Unix ms.
    pub created_ms: i64,
    /// When it was revoked, Unix ms, if it was.
    pub revoked_ms: Option<i64>,
}

/// The token table.
pub struct Tokens {
    db: Db,
}

enum Db {
    Sqlite(Mutex<Connection>),
    Postgres(Box<crate::tokens_pg::PgTokens>),
}

/// A token-store failure, as text.
pub type TokenResult<T> = Result<T, String>;

fn sql(e: rusqlite::Error) -> String {
    format!("token database: {e}")
}

fn random_hex(bytes: usize) -> TokenResult<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| format!("no randomness for a token: {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn hash(salt: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b"\0");
    h.update(secret.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal in time independent of where the inputs differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Tokens {
    /// Opens (or creates) `<data>/server.db`.
    pub fn open(data: &Path) -> TokenResult<Tokens> {
        std::fs::create_dir_all(data)
            .map_err(|e| format!("cannot create {}: {e}", data.display()))?;
        let conn = Connection::open(data.join("server.db")).map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sql)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS tokens (
                 id          TEXT PRIMARY KEY,
                 project     TEXT NOT NULL,
                 scope       TEXT NOT NULL,
                 salt        TEXT NOT NULL,
                 hash        TEXT NOT NULL,
                 created_ms  INTEGER NOT NULL,
                 revoked_ms  INTEGER
             );",
        )
        .map_err(sql)?;
        Ok(Tokens {
            db: Db::Sqlite(Mutex::new(conn)),
        })
    }

    /// Opens the tokens of a server: in the PostgreSQL database at `database` when given
    /// (the table is created if needed), else in `<data>/server.db`.
    pub fn open_in(data: &Path, database: Option<&str>) -> TokenResult<Tokens> {
        match database {
            None => Tokens::open(data),
            Some(url) => Ok(Tokens {
                db: Db::Postgres(Box::new(crate::tokens_pg::PgTokens::open(url)?)),
            }),
        }
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        match &self.db {
            Db::Sqlite(c) => c.lock().unwrap_or_else(|e| e.into_inner()),
            Db::Postgres(_) => unreachable!("SQLite calls are made on SQLite tokens only"),
        }
    }

    /// Creates a token; returns its id and the token itself (shown once, never stored).
    pub fn create(&self, project: &str, scope: Scope) -> TokenResult<(String, String)> {
        if project.trim().is_empty() {
            return Err("the project name is empty".into());
        }
        let id = random_hex(8)?;
        let secret = random_hex(32)?;
        let salt = random_hex(16)?;
        if let Db::Postgres(pg) = &self.db {
            let row = crate::tokens_pg::Row {
                id: id.clone(),
                project: project.to_owned(),
                scope: scope.as_str().to_owned(),
                salt: salt.clone(),
                hash: hash(&salt, &secret),
                created_ms: now_ms(),
            };
            pg.create(&row)?;
            return Ok((id.clone(), format!("nep_{id}_{secret}")));
        }
        self.conn()
            .execute(
                "INSERT INTO tokens (id, project, scope, salt, hash, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id,
                    project,
                    scope.as_str(),
                    salt,
                    hash(&salt, &secret),
                    now_ms()
                ],
            )
            .map_err(sql)?;
        Ok((id.clone(), format!("nep_{id}_{secret}")))
    }

    /// The rights of a presented token; `None` when it is unknown, wrong or revoked.
    pub fn verify(&self, token: &str) -> TokenResult<Option<Grant>> {
        let Some(rest) = token.trim().strip_prefix("nep_") else {
            return Ok(None);
        };
        let Some((id, secret)) = rest.split_once('_') else {
            return Ok(None);
        };
        if id.len() != 16 || secret.len() != 64 {
            return Ok(None);
        }
        let row: Option<(String, String, String, String, Option<i64>)> =
            if let Db::Postgres(pg) = &self.db {
                pg.find(id)?
            } else {
                self.conn()
                    .prepare_cached(
                        "SELECT project, scope, salt, hash, revoked_ms FROM tokens WHERE id = ?1",
                    )
                    .map_err(sql)?
                    .query_row([id], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .optional()
                    .map_err(sql)?
            };
        let Some((project, scope, salt, stored, revoked)) = row else {
            return Ok(None);
        };
        if revoked.is_some() || !same(&hash(&salt, secret), &stored) {
            return Ok(None);
        }
        let Some(scope) = Scope::parse(&scope) else {
            return Ok(None);
        };
        Ok(Some(Grant {
            token_id: id.to_owned(),
            project,
            scope,
        }))
    }

    /// Revokes a token by id; `false` when there is no such token.
    pub fn revoke(&self, id: &str) -> TokenResult<bool> {
        if let Db::Postgres(pg) = &self.db {
            return pg.revoke(id, now_ms());
        }
        let n = self
            .conn()
            .execute(
                "UPDATE tokens SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
                params![id, now_ms()],
            )
            .map_err(sql)?;
        Ok(n > 0)
    }

    /// Every token, oldest first.
    pub fn list(&self) -> TokenResult<Vec<TokenInfo>> {
        if let Db::Postgres(pg) = &self.db {
            return Ok(pg
                .list()?
                .into_iter()
                .map(|(id, project, scope, created_ms, revoked_ms)| TokenInfo {
                    id,
                    project,
                    scope: Scope::parse(&scope).unwrap_or(Scope::Read),
                    created_ms,
                    revoked_ms,
                })
                .collect());
        }
        let conn = self.conn();
        let mut st = conn
            .prepare("SELECT id, project, scope, created_ms, revoked_ms FROM tokens ORDER BY created_ms, id")
            .map_err(sql)?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            })
            .map_err(sql)?;
        let mut out = Vec::new();
        for r in rows {
            let (id, project, scope, created_ms, revoked_ms) = r.map_err(sql)?;
            out.push(TokenInfo {
                id,
                project,
                scope: Scope::parse(&scope).unwrap_or(Scope::Read),
                created_ms,
                revoked_ms,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_until_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let t = Tokens::open(dir.path()).unwrap();
        let (id, token) = t.create("team/a", Scope::Write).unwrap();
        let g = t.verify(&token).unwrap().unwrap();
        assert_eq!((g.project.as_str(), g.scope), ("team/a", Scope::Write));
        // The secret is not stored.
        let raw = std::fs::read(dir.path().join("server.db")).unwrap();
        let secret = token.rsplit('_').next().unwrap();
        assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()));
        // A changed secret, garbage and an unknown id are refused.
        let mut wrong = token.clone();
        wrong.pop();
        wrong.push(if token.ends_with('0') { '1' } else { '0' });
        assert_eq!(t.verify(&wrong).unwrap(), None);
        assert_eq!(t.verify("nep_x_y").unwrap(), None);
        assert_eq!(t.verify("Bearer").unwrap(), None);
        assert!(t.revoke(&id).unwrap());
        assert!(!t.revoke(&id).unwrap());
        assert_eq!(t.verify(&token).unwrap(), None);
        assert!(t.list().unwrap()[0].revoked_ms.is_some());
    }
}

//! The database engine the server tests run on: SQLite in the data directory (the default),
//! or with `NEPTUNE_TEST_ENGINE=postgres` a PostgreSQL database of its own per data directory,
//! made on the server `NEPTUNE_TEST_POSTGRES` names (`scripts/test` starts one).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Whether the tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("NEPTUNE_TEST_ENGINE").is_ok_and(|e| e == "postgres")
}

/// The URL of a fresh PostgreSQL database (text ordered bytewise, as SQLite orders it).
pub fn fresh_database() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let admin = std::env::var("NEPTUNE_TEST_POSTGRES")
        .expect("NEPTUNE_TEST_ENGINE=postgres needs NEPTUNE_TEST_POSTGRES (scripts/test sets it)");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!(
        "st_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    // A test that restarts PostgreSQL may run at the same time: try for a while.
    let create = || -> Result<(), postgres::Error> {
        postgres::Client::connect(&admin, postgres::NoTls)?.batch_execute(&format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' \
             LC_COLLATE 'C' LC_CTYPE 'C'"
        ))
    };
    let started = std::time::Instant::now();
    while let Err(e) = create() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "cannot create a test database on NEPTUNE_TEST_POSTGRES: {e}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let base = admin.split('?').next().unwrap_or(&admin);
    let server = base.rsplit_once('/').map_or(base, |(s, _)| s);
    format!("{server}/{name}")
}

/// The arguments that put the store of the data directory `data` on the tests' engine: none
/// for SQLite, `--database URL` (one database per data directory) for PostgreSQL.
pub fn database_args(data: &Path) -> Vec<String> {
    static DATABASES: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);
    if !on_postgres() {
        return Vec::new();
    }
    let mut map = DATABASES.lock().unwrap_or_else(|e| e.into_inner());
    let url = map
        .get_or_insert_with(HashMap::new)
        .entry(data.to_path_buf())
        .or_insert_with(fresh_database)
        .clone();
    vec!["--database".into(), url]
}

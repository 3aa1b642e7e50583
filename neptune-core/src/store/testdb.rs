//! The store the unit tests run on: SQLite in memory, or with `NEPTUNE_TEST_ENGINE=postgres`
//! a fresh PostgreSQL database (on the server `NEPTUNE_TEST_POSTGRES` names, as `scripts/test`
//! starts it), dropped when the test ends.

use super::Store;

/// A store for one test; derefs to [`Store`].
pub(crate) struct TestStore {
    store: Option<Store>,
    /// PostgreSQL: the server's URL and the database to drop, and the file area.
    #[cfg(feature = "postgres")]
    pg: Option<(String, String, tempfile::TempDir)>,
}

impl std::ops::Deref for TestStore {
    type Target = Store;

    fn deref(&self) -> &Store {
        self.store
            .as_ref()
            .expect("the store lives until the test ends")
    }
}

/// Whether the tests run on PostgreSQL.
pub(crate) fn on_postgres() -> bool {
    std::env::var("NEPTUNE_TEST_ENGINE").is_ok_and(|e| e == "postgres")
}

/// A new empty store of the engine the tests run on.
pub(crate) fn store() -> TestStore {
    if on_postgres() {
        #[cfg(feature = "postgres")]
        return postgres_store();
        #[cfg(not(feature = "postgres"))]
        panic!("NEPTUNE_TEST_ENGINE=postgres needs the feature `postgres`");
    }
    TestStore {
        store: Some(Store::in_memory().expect("a store in memory")),
        #[cfg(feature = "postgres")]
        pg: None,
    }
}

/// The URL of database `name` on the server of `admin_url`.
#[cfg(feature = "postgres")]
pub(crate) fn database_url(admin_url: &str, name: &str) -> String {
    let base = admin_url.split('?').next().unwrap_or(admin_url);
    match base.rsplit_once('/') {
        Some((server, _)) if server.contains("//") && !server.ends_with('/') => {
            format!("{server}/{name}")
        }
        _ => format!("{}/{name}", base.trim_end_matches('/')),
    }
}

/// Creates a database of its own (text ordered bytewise, as in SQLite); its name.
#[cfg(feature = "postgres")]
pub(crate) fn create_database(admin_url: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!(
        "nt_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = postgres::Client::connect(admin_url, postgres::NoTls)
        .expect("NEPTUNE_TEST_POSTGRES answers");
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' \
             LC_COLLATE 'C' LC_CTYPE 'C'"
        ))
        .expect("a test database");
    name
}

/// Drops a database made by [`create_database`].
#[cfg(feature = "postgres")]
pub(crate) fn drop_database(admin_url: &str, name: &str) {
    if let Ok(mut admin) = postgres::Client::connect(admin_url, postgres::NoTls) {
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}

#[cfg(feature = "postgres")]
fn postgres_store() -> TestStore {
    let admin = std::env::var("NEPTUNE_TEST_POSTGRES")
        .expect("NEPTUNE_TEST_ENGINE=postgres needs NEPTUNE_TEST_POSTGRES (scripts/test sets it)");
    let name = create_database(&admin);
    let files = tempfile::tempdir().expect("a folder for the file area");
    let store = Store::open_postgres(&database_url(&admin, &name), 4, files.path(), None)
        .expect("a store on PostgreSQL");
    TestStore {
        store: Some(store),
        pg: Some((admin, name, files)),
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        // Close the store's connections first.
        self.store.take();
        #[cfg(feature = "postgres")]
        if let Some((admin, name, _files)) = self.pg.take() {
            drop_database(&admin, &name);
        }
    }
}

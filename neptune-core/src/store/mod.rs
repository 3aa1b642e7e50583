//! Embedded store (SQLite).

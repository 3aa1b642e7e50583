//! The web UI: server-rendered pages over the store, and the chart data they fetch.

pub mod data;

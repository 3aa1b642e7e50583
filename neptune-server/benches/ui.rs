//! Figures of the web UI's reads, served by the real router (in process, no network):
//!
//! 1. the runs table page of a project of 10,000 runs × 50 fields (50 rows, 10 user columns,
//!    sorted by a metric), against a target of 150 ms;
//! 2. the compare data of 10 runs × 1,000,000 points (one downsampling request, 1,000
//!    pixels wide, x = step), against a target of 100 ms; and zoomed to 1 % of the range.
//!
//! `cargo bench -p neptune-server --bench ui` (release). `NEPTUNE_BENCH_RUNS` and
//! `NEPTUNE_BENCH_POINTS` scale the two stores (`NEPTUNE_BENCH_POINTS=0`: the table only). Each figure is the median of 15 requests
//! after 3 warm-ups.

mod seed;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use neptune_core::store::Store;
use neptune_core::{FieldPath, Reader};
use seed::{env_or, path, PROJECT};
use tower::ServiceExt;

fn table_store(home: &std::path::Path, runs: usize) -> Store {
    let store = Store::open(home).expect("store");
    seed::table(&store, runs);
    store
}

fn series_store(home: &std::path::Path, runs: usize, points: usize) -> (Store, Vec<String>) {
    let store = Store::open(home).expect("store");
    let ids = seed::series(&store, runs, points);
    (store, ids)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(
    rt: &tokio::runtime::Runtime,
    app: &axum::Router,
    req: impl Fn() -> Request<Body>,
) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut size = 0;
    for i in 0..18 {
        let t = Instant::now();
        let resp = rt.block_on(app.clone().oneshot(req())).expect("answer");
        assert_eq!(resp.status(), StatusCode::OK);
        let body = rt
            .block_on(axum::body::to_bytes(resp.into_body(), usize::MAX))
            .expect("body");
        if i >= 3 {
            times.push(t.elapsed());
        }
        size = body.len();
    }
    (median(times), size)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let runs = env_or("NEPTUNE_BENCH_RUNS", 10_000);
    let points = env_or("NEPTUNE_BENCH_POINTS", 1_000_000);

    let dir = tempfile::tempdir().expect("temp dir");
    let t = Instant::now();
    let store = table_store(dir.path(), runs);
    eprintln!("({runs} runs × 50 fields written in {:.1?})", t.elapsed());
    let mut times = Vec::new();
    for _ in 0..8 {
        let t = Instant::now();
        let q = neptune_core::TableQuery::new()
            .progress_bar(neptune_core::ProgressBar::Off)
            .columns([
                "sys/id",
                "sys/name",
                "sys/state",
                "sys/owner",
                "sys/tags",
                "sys/creation_time",
                "params/p00",
                "params/p01",
                "params/p02",
                "params/p03",
                "params/p04",
                "params/p05",
                "params/p06",
                "params/p07",
                "metrics/m0",
                "metrics/m1",
            ]);
        let t2 = store
            .fetch_table(&neptune_core::TableScope::runs(PROJECT), &q)
            .expect("table");
        assert_eq!(t2.len(), runs);
        times.push(t.elapsed());
    }
    println!(
        "store.fetch_table, {runs} runs, 16 columns, every row: {:.1} ms",
        median(times).as_secs_f64() * 1e3
    );
    let app = neptune_server::ui::router(neptune_server::ui::UiState::local(Arc::new(store)));
    let cols = (0..8)
        .map(|p| format!("params%2Fp{p:02}"))
        .chain(["metrics%2Fm0".into(), "metrics%2Fm1".into()])
        .collect::<Vec<_>>()
        .join("%2C");
    for (label, extra) in [
        ("sorted by creation time", String::new()),
        ("sorted by a metric", "&sort=metrics%2Fm3".into()),
        ("filtered by a query", "&q=params%2Fp03+%3E+5".into()),
        ("page 100", "&page=99".into()),
        (
            "100 rows, last page",
            format!("&size=100&page={}", runs.div_ceil(100) - 1),
        ),
        ("a tag chip (1 run in 10)", "&tags=t3".into()),
        (
            "a tag, state and owner, by a metric",
            "&tags=t3&state=Active&owner=bench&sort=metrics%2Fm3".into(),
        ),
        ("a selective query", "&q=params%2Fp00+%3C+0.5".into()),
    ] {
        let uri = format!("/runs?project=bench%2Fui&cols={cols}{extra}");
        let (d, size) = time(&rt, &app, || {
            Request::get(&uri).body(Body::empty()).unwrap()
        });
        println!(
            "runs table, {runs} runs × 50 fields, 50 rows, {label}: {:.1} ms ({} KB of HTML)",
            d.as_secs_f64() * 1e3,
            size / 1024
        );
    }

    if points == 0 {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let t = Instant::now();
    let (store, ids) = series_store(dir.path(), 10, points);
    eprintln!("(10 runs × {points} points written in {:.1?})", t.elapsed());
    let pairs: Vec<(String, FieldPath)> = ids
        .iter()
        .map(|id| (id.clone(), path("train/loss")))
        .collect();
    let q = neptune_core::store::DownsampleQuery {
        x: neptune_core::store::XAxis::Step,
        from: None,
        to: None,
        width: 1000,
    };
    let mut times = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let got = store.downsample(&pairs, &q).expect("downsample");
        times.push(t.elapsed());
        let t2 = Instant::now();
        let json = serde_json::to_vec(&got).expect("json");
        if times.len() == 10 {
            println!(
                "store.downsample, 10 runs × {points} points: {:.1} ms; to JSON: {:.1} ms ({} KB)",
                median(times.clone()).as_secs_f64() * 1e3,
                t2.elapsed().as_secs_f64() * 1e3,
                json.len() / 1024
            );
        }
    }
    let app = neptune_server::ui::router(neptune_server::ui::UiState::local(Arc::new(store)));
    let series: Vec<_> = ids
        .iter()
        .map(|id| serde_json::json!({"id": id, "path": "train/loss"}))
        .collect();
    for (label, body) in [
        (
            "whole range",
            serde_json::json!({"series": series, "x": "step", "width": 1000}),
        ),
        (
            "zoomed to 1 %",
            serde_json::json!({"series": series, "x": "step", "width": 1000,
                "from": points as f64 * 0.5, "to": points as f64 * 0.51}),
        ),
        (
            "by wall time",
            serde_json::json!({"series": series, "x": "time", "width": 1000}),
        ),
    ] {
        let body = body.to_string();
        let (d, size) = time(&rt, &app, || {
            Request::post("/ui/data/downsample")
                .header("content-type", "application/json")
                .body(Body::from(body.clone()))
                .unwrap()
        });
        println!(
            "compare data, 10 runs × {points} points, {label}: {:.1} ms ({} KB of JSON)",
            d.as_secs_f64() * 1e3,
            size / 1024
        );
    }
    let total: usize = neptune_server::ui::assets::sizes()
        .iter()
        .map(|(_, s)| s)
        .sum();
    println!(
        "assets: {} KB uncompressed ({:?})",
        total / 1024,
        neptune_server::ui::assets::sizes()
    );
}

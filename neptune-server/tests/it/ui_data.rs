//! `POST /api/v1/series/downsample` on the real server binary: many runs × paths in one
//! request, peaks kept, exact points when zoomed, scoped to the token's project, limits.

use crate::common;

use common::{raw, Server};
use serde_json::json;

fn create_run(addr: &str, token: &str, project: &str) -> String {
    let body = serde_json::to_vec(&json!({"request": {
        "kind": "Run", "project": project, "with_id": null, "custom_run_id": null,
        "model": null, "owner": "tester", "read_only": false}}))
    .unwrap();
    let a = raw(addr, "POST", "/api/v1/objects", Some(token), &body);
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()["id"].as_str().unwrap().to_owned()
}

/// Logs `n` points to `path`: value sin(i/100), with a peak of 1000 + k at step `peak`.
fn log_series(addr: &str, token: &str, run: &str, path: &str, n: usize, peak: usize, k: f64) {
    let mut seq = 0;
    for start in (0..n).step_by(50_000) {
        let points: Vec<_> = (start..(start + 50_000).min(n))
            .map(|i| {
                let v = if i == peak {
                    1000.0 + k
                } else {
                    (i as f64 / 100.0).sin()
                };
                json!({"step": i, "value": v, "timestamp_ms": 1_700_000_000_000i64 + i as i64})
            })
            .collect();
        seq += 1;
        let body = serde_json::to_vec(&json!({"queue": format!("q-{path}").replace('/', "-"),
            "batches": [{"seq": seq, "ops": [{"type": "LogFloats", "path": path, "points": points}]}]}))
        .unwrap();
        let r = raw(
            addr,
            "POST",
            &format!("/api/v1/objects/{run}/batches"),
            Some(token),
            &body,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["results"][0]["rejected"], json!([]), "{}", r.body);
    }
}

#[test]
fn downsampled_series_of_many_runs_in_one_request() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let a = server.addr.as_str();
    let write = common::token(data.path(), "team/a", "write");
    let read = common::token(data.path(), "team/a", "read");
    let other = common::token(data.path(), "team/b", "read");
    let runs: Vec<String> = (0..3).map(|_| create_run(a, &write, "team/a")).collect();
    for (k, run) in runs.iter().enumerate() {
        log_series(
            a,
            &write,
            run,
            "train/loss",
            200_000,
            10_007 * (k + 1),
            k as f64,
        );
        log_series(a, &write, run, "train/acc", 1_000, 500, k as f64);
    }
    let mut series = Vec::new();
    for run in &runs {
        for path in ["train/loss", "train/acc", "no/such"] {
            series.push(json!({"id": run, "path": path}));
        }
    }
    let body = serde_json::to_vec(&json!({"series": series, "x": "step", "width": 500})).unwrap();
    let r = raw(a, "POST", "/api/v1/series/downsample", Some(&read), &body);
    assert_eq!(r.status, 200, "{}", r.body);
    let got = r.json()["series"].as_array().unwrap().clone();
    assert_eq!(got.len(), 9);
    for (k, _) in runs.iter().enumerate() {
        let loss = &got[k * 3];
        assert_eq!(loss["points"], 200_000);
        assert_eq!(loss["exact"], false);
        let xs = loss["x"].as_array().unwrap();
        assert!(xs.len() <= 2000, "{} points sent", xs.len());
        let peak = 10_007 * (k + 1);
        let i = xs.iter().position(|x| x.as_f64() == Some(peak as f64));
        let i = i.unwrap_or_else(|| panic!("run {k}: the peak at step {peak} was lost"));
        assert_eq!(loss["y"][i].as_f64(), Some(1000.0 + k as f64));
        // 1000 points on 500 pixels: every point, exactly.
        let acc = &got[k * 3 + 1];
        assert_eq!(
            (acc["exact"].clone(), acc["x"].as_array().unwrap().len()),
            (json!(true), 1000)
        );
        assert_eq!(got[k * 3 + 2]["found"], false);
    }

    // Zoomed in: the exact points of the range.
    let zoom = serde_json::to_vec(&json!({"series": [{"id": runs[1], "path": "train/loss"}],
        "x": "step", "from": 20_000, "to": 20_900, "width": 800}))
    .unwrap();
    let r = raw(a, "POST", "/api/v1/series/downsample", Some(&read), &zoom);
    assert_eq!(r.status, 200, "{}", r.body);
    let s = &r.json()["series"][0];
    assert_eq!(s["exact"], true);
    let xs: Vec<f64> = s["x"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(xs, (20_000..=20_900).map(|i| i as f64).collect::<Vec<_>>());
    assert_eq!(
        s["y"][14].as_f64(),
        Some(1000.0 + 1.0),
        "the peak at 20014 in its place"
    );

    // Another project's token sees no such object; no token is 401; limits are 400s.
    let r = raw(a, "POST", "/api/v1/series/downsample", Some(&other), &zoom);
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(
        raw(a, "POST", "/api/v1/series/downsample", None, &zoom).status,
        401
    );
    let wide = serde_json::to_vec(&json!({"series": [{"id": runs[0], "path": "train/loss"}],
        "width": 1_000_000}))
    .unwrap();
    let r = raw(a, "POST", "/api/v1/series/downsample", Some(&read), &wide);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.message().contains("width"), "{}", r.body);
    let many: Vec<_> = (0..401)
        .map(|_| json!({"id": runs[0], "path": "train/loss"}))
        .collect();
    let body = serde_json::to_vec(&json!({"series": many, "width": 100})).unwrap();
    assert_eq!(
        raw(a, "POST", "/api/v1/series/downsample", Some(&read), &body).status,
        400
    );
    let wrong = serde_json::to_vec(&json!({"series": [{"id": runs[0], "path": "train/loss"}],
        "width": 100, "x": "epoch"}))
    .unwrap();
    let r = raw(a, "POST", "/api/v1/series/downsample", Some(&read), &wrong);
    assert_eq!(r.status, 400, "{}", r.body);
}

//! Tables fetched by the Python client, and its files uploaded in parts.

use super::*;
use crate::common::{self, raw, raw_with};

#[test]
fn python_client_fetches_run_model_and_version_tables_with_filters_columns_and_sorting() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Runs stay Active for the whole test: the state filter is checked without waiting.
    let server = start_with_ping_timeout(&dir.path().join("data"), "3600");
    let (token, nep) = python_token(&server, "team/tab");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let out = run_py(&py, &token, &work, &["table", "team/tab"]);
    let all = out["all"].as_array().expect("all rows");
    assert_eq!(all.len(), 3, "{out}");
    // Newest first, with the cells to_pandas() shows.
    assert_eq!(all[0]["sys/name"], "r2");
    assert_eq!(all[0]["params/lr"], 0.001);
    assert_eq!(all[0]["params/layers"], 3);
    assert_eq!(all[0]["train/loss"], 0.5 / 3.0);
    assert_eq!(all[0]["train/note"], "note 2");
    assert_eq!(all[0]["sys/tags"], "z");
    assert_eq!(all[0]["sys/state"], "Active");
    assert!(all[0]["sys/creation_time"]
        .as_str()
        .unwrap()
        .starts_with("20"));
    let names = |k: &str| -> Vec<String> {
        out[k]
            .as_array()
            .unwrap_or_else(|| panic!("{k}: {out}"))
            .iter()
            .map(|r| r["sys/name"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(names("tag_x"), ["r1", "r0"]);
    assert_eq!(names("tags_x_y"), ["r0"]);
    assert_eq!(out["active"], 3);
    assert_eq!(out["inactive"], 0);
    // The query, the columns asked for (with sys/id and the sort column), ascending.
    let q = out["query"].as_array().unwrap();
    let lrs: Vec<f64> = q.iter().map(|r| r["params/lr"].as_f64().unwrap()).collect();
    assert_eq!(lrs, [0.01, 0.1]);
    let mut cols: Vec<&String> = q[0].as_object().unwrap().keys().collect();
    cols.sort();
    assert_eq!(cols, ["params/lr", "sys/id"]);
    assert_eq!(names("limit"), ["r2", "r1"]);
    assert_eq!(out["models"], 1);
    // A model's versions (the model named in the query the client writes), sorted by a field.
    let versions = out["versions"].as_array().expect("versions");
    let accs: Vec<f64> = versions
        .iter()
        .map(|r| r["acc"].as_f64().unwrap())
        .collect();
    assert_eq!(accs, [0.6, 0.5]);
    assert!(
        versions[0]["sys/id"].as_str().unwrap().contains("-MOD-"),
        "{versions:?}"
    );
    let bad = out["bad_query"].as_str().unwrap();
    assert_ne!(bad, "accepted");

    // The same table through our Rust API: the same rows, in the same order, same cells.
    let project = neptune_core::Project::builder()
        .home(dir.path().join("home"))
        .url(&server.url)
        .api_token(&nep)
        .project("team/tab")
        .open()
        .unwrap();
    let ours = project
        .fetch_runs_table(neptune_core::TableQuery::new().tag("x"))
        .unwrap();
    let ids: Vec<&str> = out["tag_x"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["sys/id"].as_str().unwrap())
        .collect();
    assert_eq!(ours.ids(), ids);
    assert_eq!(
        ours.cell(0, "params/lr"),
        Some(&neptune_core::Cell::Float(0.01))
    );
    assert_eq!(
        ours.cell(0, "train/loss").and_then(|c| c.as_f64()),
        out["tag_x"][0]["train/loss"].as_f64()
    );
}

#[test]
fn python_client_uploads_files_in_parts_above_the_servers_part_size() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Files above 1 MiB go in parts of 1 MiB: the 3.5 MiB file in four.
    let server = start_with_env(
        &dir.path().join("data"),
        &[("NEPTUNE_PY_CLIENT_UPLOAD_PART", "1048576")],
    );
    let (token, nep) = python_token(&server, "team/parts");
    let config = raw_with(
        &server.addr,
        "GET",
        "/api/backend/v1/clients/config",
        None,
        b"",
        &[("X-Neptune-Api-Token", &token)],
    )
    .json();
    assert_eq!(config["multiPartUpload"]["maxSinglePartSize"], 1 << 20);
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let out = run_py(
        &py,
        &token,
        &work,
        &["parts", "team/parts", work.to_str().unwrap()],
    );
    assert_eq!(out["same"], true, "{out}");
    let id = out["id"].as_str().unwrap().to_owned();
    let want: Vec<u8> = (0..=255u8).collect::<Vec<_>>().repeat(14 * 1024);
    let r = common::reader(&server, &nep, &id, &dir.path().join("home"));
    let got = r.field("model/big").file().unwrap().fetch_bytes().unwrap();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "the parts joined in order");
    drop(r);
    let set = raw(
        &server.addr,
        "GET",
        &format!("/api/v1/objects/{id}/fileset?path=data/set"),
        Some(&nep),
        b"",
    )
    .json();
    assert_eq!(set.as_array().unwrap().len(), 1, "{set}");
    assert_eq!(set[0]["file"]["size"], want.len());
    assert!(
        set[0]["path"].as_str().unwrap().ends_with("big.bin"),
        "{set}"
    );
}

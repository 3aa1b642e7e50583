//! A run with every field type the Python client logs, read back by the client and by our
//! Rust API; `neptune sync` of an offline run.

use std::process::Command;

use neptune_core::FetchOptions;

use super::*;
use crate::common::{self, raw, Server};

#[test]
fn python_client_logs_every_field_type_and_reads_it_back() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let (token, nep) = python_token(&server, "team/py");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let out = run_py(
        &py,
        &token,
        &work,
        &["online", "team/py", work.to_str().unwrap()],
    );

    // What the client fetched back.
    let id = out["id"].as_str().unwrap().to_owned();
    assert_eq!(out["lr"], 0.125);
    assert_eq!(out["epochs"], 10);
    assert_eq!(out["nesterov"], true);
    assert_eq!(out["optimizer"], "adam");
    assert_eq!(out["started"], "2024-01-02T03:04:05+00:00");
    assert_eq!(out["loss_last"], 0.2);
    assert_eq!(out["loss"].as_array().unwrap().len(), 5);
    assert_eq!(out["acc_steps"], serde_json::json!([10.0, 11.0, 12.0]));
    assert_eq!(out["log"][4], "epoch 4");
    assert_eq!(out["tags"], serde_json::json!(["b", "c", "d"]));
    assert_eq!(out["name"], "py-run");
    assert_eq!(out["weights_ok"], true);
    // FileSet and FileSeries downloads, and the FileSet's listing.
    assert_eq!(
        out["zip"],
        serde_json::json!({"a.txt": "content of a.txt\n", "b.txt": "content of b.txt\n"}),
        "{out}"
    );
    assert_eq!(out["zip_one"], serde_json::json!(["a.txt"]));
    assert_eq!(
        out["ls"],
        serde_json::json!([["a.txt", 17, "file"], ["b.txt", 17, "file"]])
    );
    assert_eq!(out["images"], serde_json::json!(["0.png", "1.png"]));
    assert_eq!(out["image_ok"], true);
    // The artifact: its files, a new version with a new hash, downloaded from the originals.
    assert_eq!(
        out["art_files"],
        serde_json::json!([["sub/y.txt", 3, "Local"], ["x.txt", 2, "Local"]])
    );
    assert_ne!(out["art_hash"], out["art_hash2"]);
    assert_eq!(
        out["art_files2"],
        serde_json::json!(["more/extra.txt", "sub/y.txt", "x.txt"])
    );
    assert_eq!(
        out["art_download"],
        serde_json::json!({"x.txt": "xx", "sub/y.txt": "yyy", "more/extra.txt": "extra!"})
    );
    assert_eq!(
        out["resumed_id"],
        id.as_str(),
        "the custom run id resumes the run"
    );

    // The same run through our Rust API.
    let home = dir.path().join("home");
    let r = common::reader(&server, &nep, &id, &home);
    assert_eq!(r.field("params/lr").fetch().unwrap().as_f64(), Some(0.125));
    assert_eq!(r.field("params/epochs").fetch().unwrap().as_i64(), Some(10));
    assert_eq!(
        r.field("params/nesterov").fetch().unwrap().as_bool(),
        Some(true)
    );
    assert_eq!(
        r.field("params/resumed").fetch().unwrap().as_bool(),
        Some(true)
    );
    assert_eq!(
        r.field("params/started")
            .fetch()
            .unwrap()
            .as_datetime()
            .unwrap()
            .timestamp(),
        1_704_164_645
    );
    assert_eq!(
        r.field("sys/custom_run_id").fetch().unwrap().as_str(),
        Some("py-custom-1")
    );
    let tags = r.tags().fetch().unwrap();
    assert_eq!(tags.into_iter().collect::<Vec<_>>(), ["b", "c", "d"]);
    let loss = r
        .field("train/loss")
        .fetch_values_with(FetchOptions::new())
        .unwrap();
    assert_eq!(
        loss.floats().unwrap().values(),
        [1.0, 0.5, 1.0 / 3.0, 0.25, 0.2]
    );
    let log = r
        .field("train/log")
        .fetch_values_with(FetchOptions::new())
        .unwrap();
    assert_eq!(log.strings().unwrap().values()[0], "epoch 0");
    assert_eq!(
        r.field("model/weights")
            .file()
            .unwrap()
            .fetch_bytes()
            .unwrap(),
        b"\x00\x01weights".repeat(100)
    );
    let art = r.field("artifacts/data").artifact().unwrap();
    assert_eq!(
        art.fetch_hash().unwrap(),
        out["art_hash2"].as_str().unwrap()
    );
    let listed = art.fetch_files_list().unwrap();
    let paths: Vec<&str> = listed.iter().map(|f| f.file_path.as_str()).collect();
    assert_eq!(paths, ["more/extra.txt", "sub/y.txt", "x.txt"]);
    assert!(
        listed[2].location().starts_with("file://") && listed[2].location().ends_with("/art/x.txt"),
        "{}",
        listed[2].location()
    );
    let big = r.field("model/big").file().unwrap().fetch_bytes().unwrap();
    assert_eq!(big.len(), 6 << 20);
    assert_eq!(&big[..256], (0..=255u8).collect::<Vec<_>>().as_slice());
    // The refused write was refused, and reported to the client's user (not silently).
    assert_eq!(
        r.field("sys/owner").fetch().unwrap().as_str(),
        Some("python-client")
    );
    drop(r);

    // File sets (two files as a tar.gz, one file alone) and the images, by the HTTP API.
    let get = |p: &str| {
        raw(
            &server.addr,
            "GET",
            &format!("/api/v1/objects/{id}/{p}"),
            Some(&nep),
            b"",
        )
    };
    let files = get("fileset?path=data/files").json();
    let names: Vec<&str> = files
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{files}");
    assert!(
        names[0].ends_with("a.txt") && names[1].ends_with("b.txt"),
        "{names:?}"
    );
    assert_eq!(files[0]["file"]["size"], 17);
    assert_eq!(
        get("fileset?path=data/one")
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let images = get("file-series?path=images").json();
    assert_eq!(images.as_array().unwrap().len(), 2);
    assert_eq!(images[0]["name"], "first");
    assert_eq!(images[0]["description"], "one pixel");
    assert_eq!(images[0]["file"]["extension"], "png");
}

#[test]
fn python_client_offline_run_is_synced() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let (token, nep) = python_token(&server, "team/off");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    run_py(&py, &token, &work, &["offline", work.to_str().unwrap()]);
    assert!(work.join(".neptune/offline").is_dir());
    // `neptune sync`, the client's own command, from the folder of the run.
    // Its entry point run by the venv's python: the `neptune` script's first line names the
    // python the venv was made with, which a moved venv no longer has.
    let out = Command::new(&py)
        .args([
            "-c",
            "import sys; from neptune.cli.__main__ import main; sys.argv[0] = 'neptune'; main()",
            "sync",
            "--project",
            "team/off",
        ])
        .current_dir(&work)
        .env("NEPTUNE_API_TOKEN", &token)
        .env("OAUTHLIB_INSECURE_TRANSPORT", "1")
        .output()
        .expect("neptune sync");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(said.contains("completed"), "{said}");
    let ids = raw(
        &server.addr,
        "GET",
        "/api/v1/objects?project=team/off&kind=run",
        Some(&nep),
        b"",
    )
    .json();
    let id = ids["ids"][0].as_str().expect("one run").to_owned();
    let r = common::reader(&server, &nep, &id, &dir.path().join("home"));
    assert_eq!(r.field("params/lr").fetch().unwrap().as_f64(), Some(0.5));
    assert_eq!(
        r.field("sys/name").fetch().unwrap().as_str(),
        Some("offline-run")
    );
    assert_eq!(common::steps_of(&r, "train/loss"), [0.0, 1.0, 2.0]);
}

//! The original Python client (`neptune` 1.x from PyPI, in the virtual environment that
//! `scripts/test` makes and names in `NEPTUNE_PY_CLIENT_PYTHON`) against the real server
//! binary: a run with every field type it logs, read back by the client and by our Rust API;
//! `neptune sync` of an offline run; and, without Python, the answers of the original API to
//! a bad token, another project, and a request it does not serve.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use neptune_core::FetchOptions;

use crate::common::{self, raw, raw_with, Server, BIN};

/// The Python with `neptune<2`, or `None` (the test is skipped, saying why).
fn python() -> Option<String> {
    match std::env::var("NEPTUNE_PY_CLIENT_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            eprintln!(
                "skipped: NEPTUNE_PY_CLIENT_PYTHON is not set (scripts/test sets it to a \
                 virtual environment with neptune<2)"
            );
            None
        }
    }
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/py_client_run.py")
}

/// A write token for the Python client, made by the binary as an admin would, and the
/// `nep_` token inside it.
fn python_token(server: &Server, project: &str) -> (String, String) {
    let out = Command::new(BIN)
        .arg("--data")
        .arg(&server.data)
        .args(common::engine::database_args(&server.data))
        .args([
            "token",
            "create",
            "--project",
            project,
            "--python-client",
            "--url",
        ])
        .arg(&server.url)
        .output()
        .expect("token create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&token)
        .expect("the Python client's token is base64");
    let v: serde_json::Value = serde_json::from_slice(&decoded).unwrap();
    assert_eq!(v["api_address"], server.url.as_str());
    (token, v["api_key"].as_str().unwrap().to_owned())
}

/// Runs the fixture with `args` in `cwd`; its last line of output, as JSON when it is.
fn run_py(py: &str, token: &str, cwd: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(py)
        .arg(fixture())
        .args(args)
        .current_dir(cwd)
        .env("NEPTUNE_API_TOKEN", token)
        // The client's OAuth library refuses plain http unless told; the test server is on
        // loopback (see the README's "Coming from the original client").
        .env("OAUTHLIB_INSECURE_TRANSPORT", "1")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python failed:\n{stdout}\n{stderr}");
    let last = stdout.lines().last().unwrap_or("null");
    serde_json::from_str(last).unwrap_or(serde_json::Value::Null)
}

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
    let neptune = Path::new(&py).with_file_name("neptune");
    let out = Command::new(&neptune)
        .args(["sync", "--project", "team/off"])
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

fn exchange(server: &Server, api_token: &str) -> common::Answer {
    raw_with(
        &server.addr,
        "GET",
        "/api/backend/v1/authorization/oauth-token",
        None,
        b"",
        &[("X-Neptune-Api-Token", api_token)],
    )
}

#[test]
fn original_api_refuses_bad_tokens_other_projects_and_what_it_does_not_serve() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let (token_a, nep_a) = python_token(&server, "team/a");
    let (token_b, _) = python_token(&server, "team/b");
    let access = |t: &str| {
        exchange(&server, t).json()["accessToken"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let a = access(&token_a);
    let b = access(&token_b);

    // Garbage and unknown tokens: 401 in the client's error shape.
    let bad = exchange(&server, "bm90IGEgdG9rZW4=");
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["errorType"], "UNAUTHORIZED");
    let forged = format!("{}x", a);
    let r = raw(
        &server.addr,
        "GET",
        "/api/backend/v1/projects/get?projectIdentifier=team/a",
        Some(&forged),
        b"",
    );
    assert_eq!(r.status, 401, "{}", r.body);

    // A run of project a, created through the original API.
    let created = raw(
        &server.addr,
        "POST",
        "/api/leaderboard/v1/experiments",
        Some(&a),
        br#"{"projectIdentifier":"team/a","parentId":"team/a","type":"run"}"#,
    );
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    // Project b's token can neither see it nor write to it, nor create in project a.
    let seen = raw(
        &server.addr,
        "GET",
        &format!("/api/leaderboard/v1/experiments/get?experimentId={id}"),
        Some(&b),
        b"",
    );
    assert_eq!(seen.status, 404, "{}", seen.body);
    let ops = br#"[{"path":"x","assignFloat":{"value":1.0}}]"#;
    let w = raw(
        &server.addr,
        "POST",
        &format!("/api/leaderboard/v1/attributes/operations?experimentId={id}"),
        Some(&b),
        ops,
    );
    assert_eq!(w.status, 404, "{}", w.body);
    let c = raw(
        &server.addr,
        "POST",
        "/api/leaderboard/v1/experiments",
        Some(&b),
        br#"{"projectIdentifier":"team/a","parentId":"team/a","type":"run"}"#,
    );
    assert_eq!(c.status, 404, "{}", c.body);

    // A batch with a good, a malformed and a refused operation: the good one applied, the
    // others each reported with their path.
    let ops = br#"[{"path":"x","assignFloat":{"value":1.5}},
                   {"path":"y","assignInt":{"value":"seven"}},
                   {"path":"sys/id","assignString":{"value":"HACK"}},
                   {"path":"z","trackFilesToArtifact":{}}]"#;
    let w = raw(
        &server.addr,
        "POST",
        &format!("/api/leaderboard/v1/attributes/operations?experimentId={id}"),
        Some(&a),
        ops,
    );
    assert_eq!(w.status, 200, "{}", w.body);
    let errors: Vec<String> = w
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["errorDescription"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].starts_with("y: "), "{errors:?}");
    assert!(
        errors.iter().any(|e| e.starts_with("sys/id: ")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("z: ") && e.contains("not served")),
        "{errors:?}"
    );
    let v = raw(
        &server.addr,
        "GET",
        &format!("/api/v1/objects/{id}/value?path=x"),
        Some(&nep_a),
        b"",
    );
    assert_eq!(v.json()["value"], serde_json::json!({"Float": 1.5}));
    let v = raw(
        &server.addr,
        "GET",
        &format!("/api/v1/objects/{id}/value?path=sys/id"),
        Some(&nep_a),
        b"",
    );
    assert_eq!(v.json()["value"], serde_json::json!({"String": id}));

    // What is not served says so, in the shape the client prints.
    let n = raw(
        &server.addr,
        "POST",
        "/api/leaderboard/v1/attributes/storage/fileset/zip?experimentId=x&attribute=y",
        Some(&a),
        b"",
    );
    assert_eq!(n.status, 501);
    assert_eq!(n.json()["errorType"], "NOT_SERVED");
    assert!(n.json()["title"].as_str().unwrap().contains("not serve"));

    // A revoked API token ends its access tokens at once.
    common::revoke(&server.data, &nep_a);
    let r = raw(
        &server.addr,
        "GET",
        &format!("/api/leaderboard/v1/experiments/get?experimentId={id}"),
        Some(&a),
        b"",
    );
    assert_eq!(r.status, 401, "{}", r.body);
}

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
        "/api/leaderboard/v1/notebooks/checkpoints?notebookId=x",
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

/// A server whose Python-client runs turn Inactive `timeout` seconds after their last ping.
fn start_with_ping_timeout(data: &Path, timeout: &str) -> Server {
    start_with_env(data, &[("NEPTUNE_PY_CLIENT_PING_TIMEOUT", timeout)])
}

/// A server started with `env`.
fn start_with_env(data: &Path, env: &[(&str, &str)]) -> Server {
    use std::io::BufRead;
    let mut child = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(common::engine::database_args(data))
        .args(["--listen", "127.0.0.1:0"])
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start neptune-server");
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).expect("server's first line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    Server {
        child,
        addr: url.trim_start_matches("http://").to_owned(),
        url,
        data: data.to_path_buf(),
    }
}

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_DATE", "2024-03-04T05:06:07+00:00")
        .env("GIT_COMMITTER_DATE", "2024-03-04T05:06:07+00:00")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn python_client_run_is_active_while_it_pings_inactive_after_stop_and_keeps_its_git() {
    use std::io::{BufRead, Write};
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_ping_timeout(&dir.path().join("data"), "5");
    let (token, nep) = python_token(&server, "team/live");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Ada"]);
    git(&repo, &["config", "user.email", "ada@example.com"]);
    std::fs::write(repo.join("train.py"), "print(1)\n").unwrap();
    git(&repo, &["add", "train.py"]);
    git(&repo, &["commit", "-q", "-m", "first model"]);
    git(
        &repo,
        &["remote", "add", "origin", "https://example.com/ada/m.git"],
    );
    std::fs::write(repo.join("untracked.txt"), "x").unwrap();
    let commit = git(&repo, &["rev-parse", "HEAD"]);

    // The run pings every 0.2 s and lives 8 s, past the server's 5 s ping timeout (a margin
    // for a loaded machine: pings 25 times as often as the timeout).
    let mut child = Command::new(&py)
        .arg(fixture())
        .args(["alive", "team/live", repo.to_str().unwrap(), "8"])
        .current_dir(&repo)
        .env("NEPTUNE_API_TOKEN", &token)
        .env("OAUTHLIB_INSECURE_TRANSPORT", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run python");
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    // The client's own log lines come first.
    let mut line = String::new();
    while !line.starts_with('{') {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "python ended early");
    }
    let first: serde_json::Value =
        serde_json::from_str(line.trim()).unwrap_or_else(|_| panic!("not JSON: {line:?}"));
    let id = first["id"].as_str().expect("the run's id").to_owned();
    let state = || {
        raw(
            &server.addr,
            "GET",
            &format!("/api/v1/objects/{id}/value?path=sys/state"),
            Some(&nep),
            b"",
        )
        .json()["value"]
            .clone()
    };
    assert_eq!(
        state(),
        serde_json::json!({"RunState": "Active"}),
        "kept Active by its pings past the timeout"
    );

    // stop(): no more pings, and the run turns Inactive once the timeout has passed.
    child.stdin.take().unwrap().write_all(b"stop\n").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    assert!(rest.contains("\"stopped\": true"), "{rest}");
    let mut seen = state();
    for _ in 0..600 {
        if seen == serde_json::json!({"RunState": "Inactive"}) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        seen = state();
    }
    assert_eq!(seen, serde_json::json!({"RunState": "Inactive"}));

    // The git info the client sent at creation, as our GitRef.
    let r = common::reader(&server, &nep, &id, &dir.path().join("home"));
    let git_ref = r.field("source_code/git").fetch().unwrap();
    let neptune_core::Value::GitRef(g) = git_ref else {
        panic!("not a GitRef: {git_ref:?}")
    };
    assert_eq!(g.commit_id, commit);
    assert_eq!(g.message.trim(), "first model");
    assert_eq!(g.author_name, "Ada");
    assert_eq!(g.author_email, "ada@example.com");
    assert_eq!(g.commit_date.timestamp(), 1_709_528_767);
    assert_eq!(g.branch.as_deref(), Some("main"));
    assert!(g.dirty, "an untracked file makes the tree dirty");
    assert_eq!(g.remotes, ["https://example.com/ada/m.git"]);
}

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

#[test]
fn original_api_takes_parts_only_in_order_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_env(
        &dir.path().join("data"),
        &[("NEPTUNE_PY_CLIENT_UPLOAD_PART", "4")],
    );
    let (token, _) = python_token(&server, "team/p");
    let access = exchange(&server, &token).json()["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = raw(
        &server.addr,
        "POST",
        "/api/leaderboard/v1/experiments",
        Some(&access),
        br#"{"projectIdentifier":"team/p","parentId":"team/p","type":"run"}"#,
    );
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let base = "/api/leaderboard/v1/attributes/storage/file/upload";
    let q = format!("experimentIdentifier={id}&attribute=f");
    let start = raw(
        &server.addr,
        "POST",
        &format!("{base}/start?{q}&ext=bin&totalLength=8"),
        Some(&access),
        b"",
    )
    .json();
    let upload = start["uploadId"].as_str().unwrap().to_owned();
    let part = |idx: usize, range: &str, body: &[u8]| {
        raw_with(
            &server.addr,
            "POST",
            &format!("{base}/part?{q}&uploadId={upload}&uploadPartIdx={idx}"),
            Some(&access),
            body,
            &[("X-Range", range)],
        )
    };
    let finish = || {
        raw(
            &server.addr,
            "POST",
            &format!("{base}/finish?{q}&uploadId={upload}"),
            Some(&access),
            b"",
        )
    };
    // Out of order, or a range that does not match the body: refused.
    assert_eq!(part(1, "bytes=4-7/8", b"5678").status, 400);
    assert_eq!(part(0, "bytes=0-3/8", b"12").status, 400);
    assert_eq!(part(0, "bytes=0-3/8", b"1234").status, 200);
    // Not whole yet: the finish says so and writes nothing.
    let early = finish().json();
    assert!(
        early["errors"][0]["errorDescription"]
            .as_str()
            .unwrap()
            .contains("4 of its 8 bytes"),
        "{early}"
    );
    assert_eq!(part(1, "bytes=4-7/8", b"5678").status, 200);
    assert_eq!(finish().json()["errors"], serde_json::json!([]));
    let d = raw(
        &server.addr,
        "GET",
        &format!(
            "/api/leaderboard/v1/attributes/storage/file/download?experimentId={id}&attribute=f"
        ),
        Some(&access),
        b"",
    );
    assert_eq!(d.body, "12345678");
    // Finished: the upload is gone; a file above the upload limit never starts.
    assert_eq!(finish().status, 404);
    let too_big = raw(
        &server.addr,
        "POST",
        &format!("{base}/start?{q}&ext=bin&totalLength=999999999999"),
        Some(&access),
        b"",
    )
    .json();
    assert!(
        too_big["errors"][0]["errorDescription"]
            .as_str()
            .unwrap()
            .contains("upload limit"),
        "{too_big}"
    );
}

#[test]
fn a_python_client_run_left_active_by_a_stopped_server_turns_inactive_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The first server never times out; the run is Active when it stops.
    let server = start_with_ping_timeout(&data, "3600");
    let (token, nep) = python_token(&server, "team/restart");
    let access = exchange(&server, &token).json()["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = raw(
        &server.addr,
        "POST",
        "/api/leaderboard/v1/experiments",
        Some(&access),
        br#"{"projectIdentifier":"team/restart","parentId":"team/restart","type":"run"}"#,
    );
    let id = created.json()["id"].as_str().unwrap().to_owned();
    // A run of our own client, Active too: not the Python client's, so left alone.
    let ours_id = common::create_run(&server.addr, &nep, "team/restart");
    let state = |server: &Server, id: &str| {
        raw(
            &server.addr,
            "GET",
            &format!("/api/v1/objects/{id}/value?path=sys/state"),
            Some(&nep),
            b"",
        )
        .json()["value"]
            .clone()
    };
    assert_eq!(
        state(&server, &id),
        serde_json::json!({"RunState": "Active"})
    );
    drop(server);

    // Restarted with a short timeout: no ping comes, so the run turns Inactive.
    let server = start_with_ping_timeout(&data, "0.5");
    let mut seen = state(&server, &id);
    for _ in 0..600 {
        if seen == serde_json::json!({"RunState": "Inactive"}) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        seen = state(&server, &id);
    }
    assert_eq!(seen, serde_json::json!({"RunState": "Inactive"}));
    assert_eq!(
        state(&server, &ours_id),
        serde_json::json!({"RunState": "Active"})
    );
}

//! The pages added for models, FileSet archives and a run's source code, in a real browser.

use std::path::Path;
use std::process::Command;

use neptune_core::{GitRef, Model, ModelVersion, Run};
use serde_json::json;

use super::{setup, webdriver_async};
use crate::ui_seed::PROJECT;

/// A model with three versions: one in production, one in staging, one left new.
fn models(home: &Path) -> (String, Vec<String>) {
    let model = Model::builder()
        .home(home)
        .project(PROJECT)
        .key("FOREST")
        .open()
        .unwrap();
    model.field("sys/name").assign("forest").unwrap();
    let id = model.id().to_owned();
    model.stop().unwrap();
    let mut versions = Vec::new();
    for stage in ["production", "staging", ""] {
        let v = ModelVersion::builder()
            .home(home)
            .project(PROJECT)
            .model(&id)
            .open()
            .unwrap();
        if !stage.is_empty() {
            v.change_stage(stage).unwrap();
        }
        versions.push(v.id().to_owned());
        v.stop().unwrap();
    }
    (id, versions)
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=Tester", "-c", "user.email=t@example.com"])
        .args(args)
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

/// A run created in a repository with an uncommitted change, and with a FileSet of 3 files.
fn run_with_source_and_files(home: &Path, work: &Path) -> String {
    let repo = work.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("train.py"), "lr = 0.1\nepochs = 3\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "First <b>model</b>"]);
    std::fs::write(repo.join("train.py"), "lr = 0.01\nepochs = 3\n").unwrap();
    let data = work.join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::write(data.join("a.txt"), "alpha alpha").unwrap();
    std::fs::write(data.join("b.csv"), "x,y\n1,2\n").unwrap();
    std::fs::write(data.join("sub/c.json"), "{\"gamma\": 3}").unwrap();
    let run = Run::builder()
        .home(home)
        .project(PROJECT)
        .name("with source")
        .git_ref(GitRef::new(&repo))
        .open()
        .unwrap();
    run.field("inputs")
        .file_set()
        .unwrap()
        .upload_files(data.to_str().unwrap())
        .unwrap();
    let id = run.id().to_owned();
    run.stop().unwrap();
    id
}

/// The number of entries a zip archive's end record counts, and whether it is where it must be.
fn zip_entries(bytes: &[u8]) -> Option<u16> {
    let end = bytes.len().checked_sub(22)?;
    let eocd = &bytes[end..];
    (eocd[..4] == [0x50, 0x4b, 0x05, 0x06]).then(|| u16::from_le_bytes([eocd[10], eocd[11]]))
}

#[test]
fn models_zip_downloads_and_the_diff_view() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let (id, versions) = models(data.path());
    let run = run_with_source_and_files(data.path(), work.path());
    let (server, b, _) = setup(data.path(), 1, "read");

    // Models: reached from the runs table; each with its versions and those in production.
    b.go(&format!(
        "{}/runs?project={}",
        server.url,
        PROJECT.replace('/', "%2F")
    ));
    b.click("#models-link");
    b.wait_for(
        "the models page",
        "document.querySelector('#models') !== null",
    );
    let row = b.js(
        "const r = document.querySelector('#models tbody tr'); return [r.dataset.id, r.children[1].textContent, r.children[2].textContent, r.children[3].textContent.trim()]",
        json!([]),
    );
    assert_eq!(row, json!([id, "forest", "3", versions[0]]));
    b.screenshot("models");
    b.click(&format!("#models a[href='/model/{id}']"));
    b.wait_for(
        "the model page",
        "document.querySelector('#versions') !== null",
    );
    let stages = b.js(
        "return Array.from(document.querySelectorAll('#versions tbody tr')).map(r => [r.dataset.id, r.querySelector('[data-stage]').dataset.stage])",
        json!([]),
    );
    assert_eq!(
        stages,
        json!([
            [versions[2], "none"],
            [versions[1], "staging"],
            [versions[0], "production"]
        ]),
        "newest first, each with its stage"
    );
    b.screenshot("model");

    // The run page: git information, and the diff with its added and removed lines.
    b.go(&format!("{}/run/{run}", server.url));
    b.wait_for(
        "the source section",
        "document.querySelector('#source-code') !== null",
    );
    let git = b.js(
        "return ['#git-branch', '#git-dirty', '#git-message'].map(s => document.querySelector(s).textContent.trim()).concat([document.querySelector('#git-commit').textContent.length, document.querySelectorAll('#git-message b').length])",
        json!([]),
    );
    assert_eq!(git, json!(["main", "yes", "First <b>model</b>", 40, 0]));
    let diff = b.js(
        "return [Array.from(document.querySelectorAll('#git-diff .del')).map(e => e.textContent), Array.from(document.querySelectorAll('#git-diff .add')).map(e => e.textContent)]",
        json!([]),
    );
    assert_eq!(diff, json!([["-lr = 0.1"], ["+lr = 0.01"]]));
    b.screenshot("run-source");

    // The FileSet as one zip archive, as the browser downloads it.
    let link = b.js(
        "return document.querySelector('section.fileset a.zip').href",
        json!([]),
    );
    let got = webdriver_async(
        &b,
        &format!(
            "fetch({link}, {{credentials: 'same-origin'}}).then(async r => [r.status, r.headers.get('content-type'), r.headers.get('content-disposition'), Array.from(new Uint8Array(await r.arrayBuffer()))])"
        ),
    );
    assert_eq!(got[0], 200);
    assert_eq!(got[1], "application/zip");
    assert_eq!(got[2], "attachment; filename=\"inputs.zip\"");
    let bytes: Vec<u8> = serde_json::from_value(got[3].clone()).unwrap();
    assert_eq!(&bytes[..4], b"PK\x03\x04", "not a zip archive");
    assert_eq!(
        zip_entries(&bytes),
        Some(3),
        "the end record does not count 3 entries"
    );
    let text = String::from_utf8_lossy(&bytes);
    for part in [
        "a.txt",
        "b.csv",
        "sub/c.json",
        "alpha alpha",
        "x,y\n1,2\n",
        "{\"gamma\": 3}",
    ] {
        assert!(text.contains(part), "{part:?} is not in the archive");
    }
    // Another path, or a field that is not a FileSet: not found, no archive.
    let missing = webdriver_async(
        &b,
        &format!("fetch('/ui/zip/{run}?path=source_code/diff').then(r => r.status)"),
    );
    assert_eq!(missing, 404);
}

//! What a new user met with the `neptune` command (issue 9), end to end with the real binary on
//! real stores: stored text cannot drive the terminal, the store's only project is read
//! without --project, `neptune projects`, `sys/owner` without USER, NaN-only series.

use crate::common::{fails, ok, open_run};
use std::path::Path;
use std::process::Command;

use neptune_core::{GitRef, Run};
use serde_json::Value as J;

/// Characters no text output may carry as themselves (newlines end the output's own lines).
fn raw_control(s: &str) -> Option<char> {
    s.chars().find(|&c| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}'..='\u{200f}' | '\u{feff}')
    })
}

const EVIL_NAME: &str = "ok\u{1b}]0;pwned\u{7}\nEVL-9  fake row\r";

#[test]
fn stored_control_characters_never_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path();
    let a = Run::builder()
        .home(h)
        .project("team/evl")
        .name(EVIL_NAME)
        .tags(["t\u{1b}[31mred"])
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    a.field("params/note")
        .assign("abc\u{202e}fed\u{200b}\u{85}\u{7f}")
        .unwrap();
    a.field("params/csv").assign("a, \"b\"\nc").unwrap();
    a.field("log")
        .string_series()
        .unwrap()
        .extend(["\u{1b}[2J cleared", "plain"])
        .unwrap();
    a.stop().unwrap();
    let b = open_run(h, "team/evl");
    b.field("params/note").assign("calm").unwrap();
    b.stop().unwrap();

    let texts = [
        ok(h, &["runs"]),
        ok(h, &["runs", "--all"]),
        ok(h, &["projects"]),
        ok(h, &["show", "EVL-1"]),
        ok(h, &["fetch", "EVL-1", "sys/name"]),
        ok(h, &["fetch", "EVL-1", "params"]),
        ok(h, &["fetch", "EVL-1", "log"]),
        ok(h, &["fetch", "EVL-1", "sys/tags"]),
        ok(h, &["diff", "EVL-1", "EVL-2"]),
        ok(
            h,
            &["export", "EVL-1", "-o", &h.join("out").to_string_lossy()],
        ),
        ok(h, &["status"]),
    ];
    for t in &texts {
        assert_eq!(raw_control(t), None, "a raw control character in:\n{t}");
    }
    let runs = &texts[0];
    assert!(
        runs.contains(r"ok\e]0;pwned\u{7}\nEVL-9  fake row\r"),
        "{runs}"
    );
    assert_eq!(
        runs.lines().filter(|l| l.starts_with("EVL-")).count(),
        2,
        "no faked row: {runs}"
    );
    let show = &texts[3];
    assert!(
        show.contains(r"abc\u{202e}fed\u{200b}\u{85}\u{7f}"),
        "{show}"
    );
    assert!(texts[6].contains(r"\e[2J cleared"), "{}", texts[6]);
    assert!(texts[7].contains(r"t\e[31mred"), "{}", texts[7]);

    // JSON carries the text exactly, and no raw control, bidi or zero-width character: C1, DEL
    // and bidi characters, valid raw in JSON strings, are written as \uXXXX too.
    let jsons = [
        ok(h, &["runs", "--json"]),
        ok(h, &["runs", "--all", "--json"]),
        ok(h, &["projects", "--json"]),
        ok(h, &["fetch", "EVL-1", "sys/name", "--json"]),
        ok(h, &["fetch", "EVL-1", "params", "--json"]),
        ok(h, &["fetch", "EVL-1", "log", "--json"]),
        ok(h, &["diff", "EVL-1", "EVL-2", "--json"]),
        ok(h, &["status", "--json"]),
    ];
    for j in &jsons {
        assert_eq!(raw_control(j), None, "a raw control character in:\n{j}");
        serde_json::from_str::<J>(j).unwrap_or_else(|e| panic!("not JSON ({e}): {j}"));
    }
    ok(
        h,
        &[
            "export",
            "EVL-1",
            "-o",
            &h.join("json").to_string_lossy(),
            "--format",
            "json",
        ],
    );
    let fields = std::fs::read_to_string(h.join("json/fields.json")).unwrap();
    assert_eq!(raw_control(&fields.replace('\n', "")), None, "{fields}");
    let fields: J = serde_json::from_str(&fields).unwrap();
    assert_eq!(
        fields["params"]["note"],
        "abc\u{202e}fed\u{200b}\u{85}\u{7f}"
    );
    let params: J = serde_json::from_str(&jsons[4]).unwrap();
    assert_eq!(params["note"], "abc\u{202e}fed\u{200b}\u{85}\u{7f}");
    assert!(
        jsons[4].contains(r"abc\u202efed\u200b\u0085\u007f"),
        "{}",
        jsons[4]
    );
    let json = &jsons[0];
    let rows: J = serde_json::from_str(json).unwrap();
    let evil = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["sys/id"] == "EVL-1")
        .unwrap();
    assert_eq!(evil["sys/name"], EVIL_NAME);

    // CSV quotes what needs quoting (RFC 4180): the value reads back whole.
    let csv = ok(h, &["runs", "--csv", "-c", "params/csv", "--id", "EVL-1"]);
    assert!(csv.contains("\"a, \"\"b\"\"\nc\""), "{csv}");
    let fields = std::fs::read_to_string(h.join("out/fields.csv")).unwrap();
    assert!(
        fields.contains("params/csv,String,\"a, \"\"b\"\"\nc\""),
        "{fields}"
    );

    // Error messages are escaped too.
    let e = fails(h, &["fetch", "EVL-1", "nope"]);
    assert_eq!(raw_control(&e), None, "{e}");
}

#[test]
fn runs_reads_the_only_project_and_projects_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path();
    // As after `cargo run --example quickstart`: one project, not local/sandbox.
    let r = open_run(h, "examples/quickstart");
    r.field("train/loss").append(0.5).unwrap();
    r.stop().unwrap();
    let runs = ok(h, &["runs"]);
    assert!(
        runs.contains("QUI-1") && runs.ends_with("1 run\n"),
        "{runs}"
    );
    let projects = ok(h, &["projects"]);
    let lines: Vec<&str> = projects.lines().collect();
    assert!(lines[0].starts_with("project") && lines[0].contains("last activity"));
    assert!(
        lines[2].starts_with("examples/quickstart") && lines[2].contains(" 1 "),
        "{projects}"
    );
    assert!(
        projects.contains("`neptune runs` reads examples/quickstart"),
        "{projects}"
    );

    for _ in 0..2 {
        open_run(h, "team/other").stop().unwrap();
    }
    let e = fails(h, &["runs"]);
    assert!(
        e.contains("local/sandbox")
            && e.contains("examples/quickstart, team/other")
            && e.contains("neptune projects"),
        "{e}"
    );
    assert!(ok(h, &["runs", "-p", "team/other"]).ends_with("2 runs\n"));
    let j: J = serde_json::from_str(&ok(h, &["projects", "--json"])).unwrap();
    let counts: Vec<(&str, u64)> = j
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["runs"].as_u64().unwrap()))
        .collect();
    assert_eq!(counts, [("examples/quickstart", 1), ("team/other", 2)]);
    let csv = ok(h, &["projects", "--csv"]);
    assert!(csv.starts_with("name,key,runs,last_activity\nexamples/quickstart,QUI,1,"));
}

/// Not a test on its own: creates one run in NEPTUNE_HOME for the test below, in a process
/// whose environment that test chose.
#[test]
#[ignore]
fn helper_creates_a_run() {
    let Ok(home) = std::env::var("NEPTUNE_HOME") else {
        return;
    };
    open_run(Path::new(&home), "team/owner").stop().unwrap();
}

#[test]
fn owner_comes_from_the_os_user_when_no_variable_names_one() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "newcomer::helper_creates_a_run",
            "--ignored",
            "--nocapture",
        ])
        .env("NEPTUNE_HOME", h)
        .env_remove("USER")
        .env_remove("USERNAME")
        .env_remove("LOGNAME")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let expected = Command::new("id").arg("-un").output().unwrap();
    let expected = String::from_utf8(expected.stdout).unwrap();
    let rows: J = serde_json::from_str(&ok(h, &["runs", "--json"])).unwrap();
    assert_eq!(rows[0]["sys/owner"], expected.trim());
    assert_ne!(rows[0]["sys/owner"], "unknown");
}

#[test]
fn a_series_of_nans_shows_nan_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path();
    let r = open_run(h, "team/nan");
    r.field("loss")
        .float_series()
        .unwrap()
        .extend([f64::NAN, f64::NAN])
        .unwrap();
    r.field("mixed")
        .float_series()
        .unwrap()
        .extend([f64::NAN, 2.0, 1.0])
        .unwrap();
    r.stop().unwrap();
    let show = ok(h, &["show", "NAN-1"]);
    assert!(
        show.contains("2 points, last NaN, min NaN, max NaN"),
        "{show}"
    );
    assert!(show.contains("3 points, last 1, min 1, max 2"), "{show}");
    assert!(!show.contains("inf"), "{show}");
}

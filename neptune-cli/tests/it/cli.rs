//! Every `neptune` command end to end, as a subprocess, against a store filled by real runs made
//! with the library.

use crate::common::{fails, ok};
use std::path::Path;
use std::process::Command;

use neptune_core::store::Store;
use neptune_core::{FieldPath, File, GitRef, ObjectKind, OpenRequest, Operation, Run, Writer};
use serde_json::Value as J;

const PROJECT: &str = "team/cli";

/// Three runs: CLI-1 (baseline, bert; lr 0.1; 100 loss points with a spike; a File),
/// CLI-2 (bert; lr 0.01; 50 loss points), CLI-3 (owner carol, still Active, made through the
/// backend).
fn populate(home: &Path) {
    let open = |tags: &[&str]| {
        Run::builder()
            .home(home)
            .project(PROJECT)
            .git_ref(GitRef::Disabled)
            .tags(tags.iter().copied())
            .open()
            .unwrap()
    };
    let a = open(&["baseline", "bert"]);
    a.field("params/lr").assign(0.1).unwrap();
    a.field("params/optimizer").assign("Adam").unwrap();
    a.field("params/epochs").assign(10).unwrap();
    let loss = a.field("train/loss").float_series().unwrap();
    for i in 0..100 {
        loss.append(if i == 40 { 9.0 } else { 1.0 / (i as f64 + 1.0) })
            .unwrap();
    }
    a.field("train/notes")
        .string_series()
        .unwrap()
        .extend(["start", "end, done"])
        .unwrap();
    a.field("model")
        .upload(File::from_content("weights v1"))
        .unwrap();
    a.stop().unwrap();

    let b = open(&["bert"]);
    b.field("params/lr").assign(0.01).unwrap();
    b.field("params/optimizer").assign("SGD").unwrap();
    b.field("params/epochs").assign(10).unwrap();
    let loss = b.field("train/loss").float_series().unwrap();
    loss.extend((0..50).map(|i| 2.0 / (i as f64 + 1.0)))
        .unwrap();
    b.stop().unwrap();

    let store = Store::open(home).unwrap();
    let c = store
        .open_object(&OpenRequest {
            kind: ObjectKind::Run,
            project: PROJECT.into(),
            with_id: None,
            custom_run_id: None,
            model: None,
            owner: "carol".into(),
            read_only: false,
        })
        .unwrap();
    assert_eq!(c.id, "CLI-3");
    store
        .execute(
            "CLI-3",
            &[Operation::AssignFloat {
                path: FieldPath::parse("params/lr").unwrap(),
                value: 0.5,
            }],
        )
        .unwrap();
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    populate(&dir.path().join("store"));
    dir
}

fn json(home: &Path, args: &[&str]) -> J {
    let text = ok(home, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}\n{text}"))
}

fn ids(v: &J) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["sys/id"].as_str().unwrap())
        .collect()
}

#[test]
fn runs_prints_tables_json_and_csv() {
    let dir = setup();
    let home = dir.path().join("store");
    let h = home.as_path();
    let all = json(h, &["runs", "--project", PROJECT, "--json"]);
    assert_eq!(ids(&all), ["CLI-3", "CLI-2", "CLI-1"]);
    assert_eq!(all[2]["params/lr"], 0.1);
    assert_eq!(all[2]["sys/tags"], "baseline,bert");
    assert_eq!(all[2]["train/loss"], 0.01);
    assert_eq!(all[2]["sys/state"], "Inactive");
    assert!(all[2].get("model").is_none(), "files are not columns");

    let p = ["runs", "-p", PROJECT, "--json"];
    let with = |extra: &[&str]| json(h, &[&p[..], extra].concat());
    assert_eq!(
        ids(&with(&["--tag", "bert", "--tag", "baseline"])),
        ["CLI-1"]
    );
    assert_eq!(ids(&with(&["--tag", "bert"])), ["CLI-2", "CLI-1"]);
    assert_eq!(ids(&with(&["--state", "active"])), ["CLI-3"]);
    assert_eq!(ids(&with(&["--owner", "carol"])), ["CLI-3"]);
    assert_eq!(
        ids(&with(&["--id", "CLI-1", "--id", "CLI-3"])),
        ["CLI-3", "CLI-1"]
    );
    assert_eq!(
        ids(&with(&[
            "--query",
            "params/lr < 0.2 AND params/optimizer = SGD"
        ])),
        ["CLI-2"]
    );
    assert_eq!(ids(&with(&["--limit", "1"])), ["CLI-3"]);
    let sorted = with(&["--columns", "params/lr", "--sort", "params/lr", "--asc"]);
    assert_eq!(ids(&sorted), ["CLI-2", "CLI-1", "CLI-3"]);
    let keys: Vec<&String> = sorted[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["params/lr", "sys/id"]);

    let csv = ok(
        h,
        &[
            "runs",
            "-p",
            PROJECT,
            "--csv",
            "-c",
            "params/optimizer,train",
            "--asc",
        ],
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "sys/creation_time,sys/id,params/optimizer,train/loss,train/notes"
    );
    assert!(
        lines[1].ends_with(",CLI-1,Adam,0.01,\"end, done\""),
        "{}",
        lines[1]
    );
    assert_eq!(lines.len(), 4);

    // The text table: aligned columns, one line per run, the user's fields shown.
    let text = ok(h, &["runs", "-p", PROJECT]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("sys/id") && lines[0].contains("params/lr"),
        "{text}"
    );
    assert!(lines[1].starts_with("──"), "{text}");
    assert!(
        lines[2].starts_with("CLI-3") && lines[4].starts_with("CLI-1"),
        "{text}"
    );
    let col = lines[0].find("sys/name").unwrap();
    assert!(
        lines[2..5].iter().all(|l| l.chars().count() > col),
        "{text}"
    );
    assert_eq!(lines.last(), Some(&"3 runs"));
    assert!(!lines[0].contains("sys/modification_time"), "{text}");
    let wide = ok(h, &["runs", "-p", PROJECT, "--all"]);
    assert!(wide.contains("sys/modification_time"), "{wide}");

    // NEPTUNE_HOME and NEPTUNE_PROJECT instead of the options.
    let out = Command::new(env!("CARGO_BIN_EXE_neptune"))
        .args(["runs", "--json"])
        .env("NEPTUNE_HOME", h)
        .env("NEPTUNE_PROJECT", PROJECT)
        .env_remove("NEPTUNE_URL")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(ids(&serde_json::from_slice(&out.stdout).unwrap()).len(), 3);
}

#[test]
fn errors_name_what_is_missing_and_exit_non_zero() {
    let dir = setup();
    let h = dir.path().join("store");
    let h = h.as_path();
    let e = fails(h, &["runs", "-p", "team/nope"]);
    assert!(e.contains("team/nope"), "{e}");
    let e = fails(&dir.path().join("nowhere"), &["runs"]);
    assert!(e.contains("no store at") && e.contains("nowhere"), "{e}");
    assert!(
        !dir.path().join("nowhere").exists(),
        "reading creates no store"
    );
    let e = fails(h, &["show", "CLI-99"]);
    assert!(e.contains("CLI-99"), "{e}");
    let e = fails(h, &["fetch", "CLI-1", "params/nope"]);
    assert!(e.contains("CLI-1") && e.contains("params/nope"), "{e}");
    assert!(e.contains("params/lr"), "similar fields are named: {e}");
    let e = fails(h, &["fetch", "CLI-1", "model"]);
    assert!(e.contains("neptune download"), "{e}");
    let e = fails(h, &["plot", "CLI-1", "params/lr", "-o", "x.png"]);
    assert!(e.contains("params/lr") && e.contains("FloatSeries"), "{e}");
    let e = fails(h, &["plot", "CLI-1", "train/loss", "-o", "x.jpg"]);
    assert!(e.contains(".png or .svg"), "{e}");
    let e = fails(h, &["plot", "CLI-1,CLI-9", "train/loss", "-o", "x.png"]);
    assert!(e.contains("CLI-9"), "{e}");
    let e = fails(h, &["runs", "-p", PROJECT, "--query", "params/lr <"]);
    assert!(e.contains("expected a value"), "{e}");
    let e = fails(h, &["diff", "CLI-1", "CLI-7"]);
    assert!(e.contains("CLI-7"), "{e}");
    let e = fails(h, &["download", "CLI-1", "params/lr"]);
    assert!(e.contains("neptune fetch"), "{e}");
}

#[test]
fn show_prints_the_tree_with_values_and_series_summaries() {
    let dir = setup();
    let h = dir.path().join("store");
    let text = ok(&h, &["show", "CLI-1"]);
    let line = |start: &str| -> String {
        text.lines()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no {start:?} in\n{text}"))
            .to_owned()
    };
    assert!(text.starts_with("CLI-1"), "{text}");
    assert!(text.contains("\nparams/\n"), "{text}");
    assert_eq!(line("lr:"), "    lr: Float  0.1");
    assert_eq!(line("optimizer:"), "    optimizer: String  \"Adam\"");
    assert_eq!(line("epochs:"), "    epochs: Integer  10");
    let loss = line("loss:");
    assert!(
        loss.starts_with("    loss: FloatSeries  100 points, last 0.01, min 0.01, max 9  "),
        "{loss}"
    );
    let spark: String = loss.chars().filter(|c| ('▁'..='█').contains(c)).collect();
    assert_eq!(spark.chars().count(), 24, "{loss}");
    assert!(spark.contains('█'), "the spike shows: {loss}");
    assert!(
        line("notes:").contains("2 entries, last \"end, done\""),
        "{text}"
    );
    assert!(line("model:").contains("File  .txt file, 10 B"), "{text}");
    assert!(line("tags:").contains("{\"baseline\", \"bert\"}"), "{text}");
    assert!(line("state:").contains("Inactive"), "{text}");
    // Namespaces come before fields at each level, as print_structure.
    assert!(
        text.find("train/").unwrap() < text.find("model:").unwrap(),
        "{text}"
    );
    let only = ok(&h, &["show", "CLI-1", "params"]);
    assert!(
        only.contains("lr: Float") && !only.contains("loss"),
        "{only}"
    );
}

#[test]
fn fetch_gives_values_series_and_namespaces() {
    let dir = setup();
    let h = dir.path().join("store");
    let h = h.as_path();
    assert_eq!(ok(h, &["fetch", "CLI-1", "params/lr"]), "0.1\n");
    assert_eq!(
        ok(h, &["fetch", "CLI-1", "params/optimizer", "--json"]),
        "\"Adam\"\n"
    );
    assert_eq!(
        json(h, &["fetch", "CLI-1", "sys/tags", "--json"]),
        serde_json::json!(["baseline", "bert"])
    );
    let params = json(h, &["fetch", "CLI-1", "params", "--json"]);
    assert_eq!(
        params,
        serde_json::json!({"epochs": 10, "lr": 0.1, "optimizer": "Adam"})
    );
    let csv = ok(h, &["fetch", "CLI-2", "train/loss", "--csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 51);
    assert_eq!(lines[0], "step,value,timestamp");
    assert!(
        lines[1].starts_with("0,2,") && lines[2].starts_with("1,1,"),
        "{csv}"
    );
    let points = json(h, &["fetch", "CLI-1", "train/loss", "--json"]);
    let points = points.as_array().unwrap();
    assert_eq!(points.len(), 100);
    assert_eq!(points[40]["value"], 9.0);
    assert_eq!(points[40]["step"], 40.0);
    assert!(points[0]["timestamp"].as_str().unwrap().ends_with('Z'));
    let notes = json(h, &["fetch", "CLI-1", "train/notes", "--json"]);
    assert_eq!(notes[1]["value"], "end, done");
    let text = ok(h, &["fetch", "CLI-1", "params"]);
    assert!(text.contains("params/optimizer = \"Adam\""), "{text}");
}

#[test]
fn download_writes_the_files_of_a_field() {
    let dir = setup();
    let h = dir.path().join("store");
    let dest = dir.path().join("out");
    std::fs::create_dir(&dest).unwrap();
    let printed = ok(
        &h,
        &["download", "CLI-1", "model", "-o", dest.to_str().unwrap()],
    );
    let written = dest.join("model.txt");
    assert_eq!(printed.trim(), written.display().to_string());
    assert_eq!(std::fs::read_to_string(&written).unwrap(), "weights v1");
    // Without -o: the working directory.
    let cwd = dir.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_neptune"))
        .args(["--home", h.to_str().unwrap(), "download", "CLI-1", "model"])
        .current_dir(&cwd)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(cwd.join("model.txt")).unwrap(),
        "weights v1"
    );
}

/// Pixels of an RGB PNG, with its size.
fn decode_png(path: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let px = buf[..info.buffer_size()]
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    (info.width, info.height, px)
}

#[test]
fn plot_draws_png_and_svg_charts() {
    let dir = setup();
    let h = dir.path().join("store");
    let png_path = dir.path().join("chart.png");
    let printed = ok(
        &h,
        &[
            "plot",
            "CLI-1,CLI-2",
            "train/loss",
            "-o",
            png_path.to_str().unwrap(),
            "--width",
            "800",
            "--height",
            "500",
        ],
    );
    assert_eq!(printed.trim(), png_path.display().to_string());
    let (w, hgt, px) = decode_png(&png_path);
    assert_eq!((w, hgt), (800, 500));
    let count = |rgb: [u8; 3]| px.iter().filter(|p| **p == rgb).count();
    let white = count([255, 255, 255]);
    assert!(white > px.len() / 2, "a white background");
    assert!(white < px.len() - 5_000, "something was drawn");
    // Each run has its own colour (first two of the palette), lines and legend.
    assert!(count([31, 119, 180]) > 300, "first series drawn");
    assert!(count([255, 127, 14]) > 300, "second series drawn");
    // Text was rendered with the shipped font: dark anti-aliased pixels in the title band.
    let title_band = px[..(800 * 40)].iter().filter(|p| p[0] < 128).count();
    assert!(title_band > 50, "title drawn ({title_band} dark pixels)");

    for x in ["time", "relative"] {
        let p = dir.path().join(format!("chart-{x}.png"));
        ok(
            &h,
            &[
                "plot",
                "CLI-1",
                "train/loss",
                "-o",
                p.to_str().unwrap(),
                "--x",
                x,
                "--log-y",
            ],
        );
        let (w, _, px) = decode_png(&p);
        assert_eq!(w, 1024);
        assert!(px.iter().filter(|p| **p == [31, 119, 180]).count() > 300);
    }

    let svg_path = dir.path().join("chart.svg");
    ok(
        &h,
        &[
            "plot",
            "CLI-1,CLI-2",
            "train/loss",
            "-o",
            svg_path.to_str().unwrap(),
            "--title",
            "Loss",
        ],
    );
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..100]);
    for text in ["Loss", "CLI-1", "CLI-2"] {
        assert!(
            svg.contains(&format!(">\n{text}\n</text>")),
            "{text} in the SVG"
        );
    }
    assert!(svg.contains("polyline"), "lines drawn");
}

#[test]
fn diff_shows_the_fields_that_differ() {
    let dir = setup();
    let h = dir.path().join("store");
    let d = json(&h, &["diff", "CLI-1", "CLI-2", "--json"]);
    let d = d.as_object().unwrap();
    assert_eq!(d["params/lr"], serde_json::json!([0.1, 0.01]));
    assert_eq!(d["params/optimizer"], serde_json::json!(["Adam", "SGD"]));
    assert_eq!(
        d["sys/tags"],
        serde_json::json!([["baseline", "bert"], ["bert"]])
    );
    assert_eq!(d["train/loss"][0]["count"], 100);
    assert_eq!(d["train/loss"][1]["count"], 50);
    assert_eq!(d["train/notes"][1], J::Null, "only in CLI-1");
    assert!(d["model"][0].is_object() && d["model"][1].is_null());
    for same in ["params/epochs", "sys/state", "sys/id", "sys/creation_time"] {
        assert!(!d.contains_key(same), "{same}");
    }
    let all = json(&h, &["diff", "CLI-1", "CLI-2", "--json", "--all"]);
    assert!(all.get("sys/id").is_some());
    let text = ok(&h, &["diff", "CLI-1", "CLI-2"]);
    let lr = text.lines().find(|l| l.starts_with("params/lr")).unwrap();
    assert!(lr.contains("0.1") && lr.contains("0.01"), "{text}");
    assert!(
        text.lines().next().unwrap().contains("CLI-1") && text.contains("—"),
        "{text}"
    );
    let same = ok(&h, &["diff", "CLI-2", "CLI-2"]);
    assert!(same.contains("same fields"), "{same}");
}

#[test]
fn export_writes_every_field() {
    let dir = setup();
    let h = dir.path().join("store");
    let out = dir.path().join("export");
    ok(
        &h,
        &[
            "export",
            "CLI-1",
            "--format",
            "csv",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let fields = std::fs::read_to_string(out.join("fields.csv")).unwrap();
    assert!(fields.starts_with("path,type,value\n"), "{fields}");
    assert!(fields.contains("\nparams/lr,Float,0.1\n"), "{fields}");
    assert!(
        fields.contains("\ntrain/loss,FloatSeries,series/train/loss.csv\n"),
        "{fields}"
    );
    assert!(
        fields.contains("\nmodel,File,files/model.txt\n"),
        "{fields}"
    );
    let loss = std::fs::read_to_string(out.join("series/train/loss.csv")).unwrap();
    assert_eq!(loss.lines().count(), 101);
    assert!(loss.lines().nth(41).unwrap().starts_with("40,9,"));
    let notes = std::fs::read_to_string(out.join("series/train/notes.csv")).unwrap();
    assert!(notes.contains(",\"end, done\","), "{notes}");
    assert_eq!(
        std::fs::read_to_string(out.join("files/model.txt")).unwrap(),
        "weights v1"
    );

    let out = dir.path().join("export-json");
    ok(
        &h,
        &[
            "export",
            "CLI-1",
            "--format",
            "json",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let fields: J =
        serde_json::from_str(&std::fs::read_to_string(out.join("fields.json")).unwrap()).unwrap();
    assert_eq!(fields["params"]["lr"], 0.1);
    assert_eq!(
        fields["sys"]["tags"],
        serde_json::json!(["baseline", "bert"])
    );
    assert_eq!(fields["train"]["loss"]["file"], "series/train/loss.csv");
    assert!(out.join("series/train/loss.csv").is_file());
    assert!(out.join("files/model.txt").is_file());
}

/// Kills the child server when the test ends, whatever happens.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn commands_read_from_a_server_through_neptune_url() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    std::fs::create_dir_all(&data).unwrap();
    let (_, token) = neptune_server::Tokens::open(&data)
        .unwrap()
        .create("team/remote", neptune_server::Scope::Write)
        .unwrap();
    let mut server = Child(
        Command::new(env!("CARGO_BIN_EXE_neptune"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(&data)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    std::io::BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();

    let run = Run::builder()
        .home(dir.path().join("client"))
        .url(&url)
        .api_token(&token)
        .project("team/remote")
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    run.field("params/lr").assign(0.5).unwrap();
    run.field("train/loss").extend([3.0, 2.0, 1.0]).unwrap();
    let id = run.id().to_owned();
    run.stop().unwrap();

    // No store in --home: everything comes from the server.
    let empty = dir.path().join("nothing-here");
    let remote = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_neptune"))
            .arg("--home")
            .arg(&empty)
            .args(args)
            .env("NEPTUNE_URL", &url)
            .env("NEPTUNE_API_TOKEN", &token)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "neptune {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let runs: J =
        serde_json::from_str(&remote(&["runs", "--project", "team/remote", "--json"])).unwrap();
    assert_eq!(ids(&runs), [id.as_str()]);
    let loss = remote(&["fetch", &id, "train/loss", "--csv"]);
    assert!(loss.contains("2,1,"), "{loss}");
    let lr = remote(&["fetch", &id, "params/lr"]);
    assert!(lr.contains("0.5"), "{lr}");

    // Without a token: a clear error that names the fix.
    let out = Command::new(env!("CARGO_BIN_EXE_neptune"))
        .args(["runs", "--project", "team/remote"])
        .env("NEPTUNE_URL", &url)
        .env_remove("NEPTUNE_API_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NEPTUNE_API_TOKEN"));
}

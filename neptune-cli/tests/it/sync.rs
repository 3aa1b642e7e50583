//! `neptune sync` and `neptune status` as subprocesses, against `neptune serve`: one flipped
//! byte in a queue file costs only its record, which is kept aside and listed, and the sync
//! says so with a failing exit.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use neptune_core::{FetchOptions, GitRef, LogOptions, Mode, Run};
use serde_json::Value as J;

/// Kills the child server when the test ends, whatever happens.
pub struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn serve(data: &Path) -> (Child, String) {
    let mut server = Child(
        Command::new(env!("CARGO_BIN_EXE_neptune"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
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
    (server, url)
}

fn neptune(home: &Path, url: &str, token: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neptune"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env("NEPTUNE_URL", url)
        .env("NEPTUNE_API_TOKEN", token)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The steps of the points of a queue line (a batch of LogFloats).
fn steps_of_line(line: &[u8]) -> Vec<f64> {
    let v: J = serde_json::from_slice(line).unwrap();
    v["ops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|op| op["type"] == "LogFloats")
        .flat_map(|op| op["points"].as_array().unwrap().clone())
        .map(|p| p["step"].as_f64().unwrap())
        .collect()
}

fn segment(home: &Path) -> (PathBuf, PathBuf) {
    let queues = neptune_core::queue_disk::list(&home.join("queue"));
    assert_eq!(queues.len(), 1);
    let seg = std::fs::read_dir(&queues[0])
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "log") && p.starts_with(&queues[0]))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("data-"))
        })
        .unwrap();
    (queues[0].clone(), seg)
}

#[test]
fn a_flipped_byte_costs_only_its_record_and_sync_fails_and_status_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("client");
    let run = Run::builder()
        .home(&home)
        .url("http://127.0.0.1:9")
        .project("team/flip")
        .mode(Mode::Offline)
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    let s = run.field("m").float_series().unwrap();
    let (batches, per) = (10u32, 1000u32);
    for b in 0..batches {
        for i in 0..per {
            let step = f64::from(b * per + i);
            s.append_with(step, LogOptions::new().step(step)).unwrap();
        }
        run.wait().unwrap(); // one record per batch
    }
    run.stop().unwrap();

    // One byte of the fifth batch of points, flipped.
    let (qdir, seg) = segment(&home);
    let mut bytes = std::fs::read(&seg).unwrap();
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .filter(|&i| i < bytes.len())
        .collect();
    let logs: Vec<usize> = starts
        .iter()
        .copied()
        .filter(|&i| {
            let end = i + bytes[i..].iter().position(|b| *b == b'\n').unwrap();
            bytes[i..end].windows(9).any(|w| w == b"LogFloats")
        })
        .collect();
    assert_eq!(logs.len(), batches as usize, "one record per batch");
    let at = logs[4];
    let end = at + bytes[at..].iter().position(|b| *b == b'\n').unwrap();
    let lost = steps_of_line(&bytes[at..end]);
    assert_eq!(lost.len(), per as usize);
    let original = bytes[at..end].to_vec();
    let flip = at + (end - at) / 2;
    bytes[flip] ^= 0x04;
    let damaged = bytes[at..end].to_vec();
    std::fs::write(&seg, &bytes).unwrap();

    let data = dir.path().join("server");
    std::fs::create_dir_all(&data).unwrap();
    let (_, token) = neptune_server::Tokens::open(&data)
        .unwrap()
        .create("team/flip", neptune_server::Scope::Write)
        .unwrap();
    let (_server, url) = serve(&data);

    let out = neptune(&home, &url, &token, &["sync"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("damaged record"), "{stderr}");
    assert!(stderr.contains("neptune status"), "{stderr}");
    let id = stdout
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no id in {stdout:?}"))
        .to_owned();

    // Every other batch is on the server; the damaged one is not, and nothing else is missing.
    let r = Run::builder()
        .home(dir.path().join("reader"))
        .url(&url)
        .api_token(&token)
        .with_id(&id)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    let got = r.field("m").fetch_values_with(FetchOptions::new()).unwrap();
    let got = got.floats().unwrap().steps().to_vec();
    let expected: Vec<f64> = (0..batches * per)
        .map(f64::from)
        .filter(|s| !lost.contains(s))
        .collect();
    println!(
        "flipped byte: logged {} points, stored {}, kept aside {}",
        batches * per,
        got.len(),
        lost.len()
    );
    assert_eq!(got, expected);

    // The damaged bytes are kept as they were, and listed.
    let kept = std::fs::read(qdir.join("damaged.log")).unwrap();
    assert_eq!(&kept[..kept.len() - 1], &damaged[..]);
    assert_ne!(damaged, original);
    let out = neptune(&home, &url, &token, &["status"]);
    let listing = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(listing.contains("kept aside"), "{listing}");
    assert!(listing.contains("damaged record"), "{listing}");
    assert!(listing.contains("rejected.jsonl"), "{listing}");
    let out = neptune(&home, &url, &token, &["status", "--json"]);
    let v: J = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["set_aside"][0]["kind"], "damaged");
    assert_eq!(v[0]["pending_values"], 0);

    // Syncing again uploads nothing more and still says something was left behind.
    let out = neptune(&home, &url, &token, &["sync"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("kept aside"),
        "{}",
        text(&out.stderr)
    );
    let again = r.field("m").fetch_values_with(FetchOptions::new()).unwrap();
    assert_eq!(again.floats().unwrap().steps().len(), expected.len());
}

//! Eight client processes logging to one server at once, into one shared run (custom run id)
//! and into runs of their own; one series of the shared run gets points from all eight, without
//! steps.

use crate::common;

use std::io::BufReader;
use std::time::Duration;

use common::Server;
use neptune_core::{FetchOptions, GitRef, LogOptions, Mode, Run};

const POINTS: u32 = 20_000;

#[test]
fn eight_processes_log_to_one_server() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let token = common::token(data.path(), "team/eight", "write");
    let home = tempfile::tempdir().unwrap();
    let home_s = home.path().display().to_string();
    let children: Vec<_> = (0..8)
        .map(|i| {
            let tag = format!("w{i}");
            common::spawn_child(
                "parallel-writer",
                &[
                    ("NEPTUNE_URL", &server.url),
                    ("NEPTUNE_API_TOKEN", &token),
                    ("NEPTUNE_HOME", &home_s),
                    ("NEPTUNE_PROJECT", "team/eight"),
                    ("CHILD_TAG", &tag),
                ],
            )
        })
        .collect();
    let mut shared_ids = Vec::new();
    let mut own_ids = Vec::new();
    for mut c in children {
        let mut out = BufReader::new(c.stdout.take().unwrap());
        shared_ids.push(common::read_marker(&mut out, "shared"));
        own_ids.push(common::read_marker(&mut out, "own"));
        assert!(c.wait().unwrap().success());
    }
    shared_ids.dedup();
    assert_eq!(shared_ids.len(), 1, "the custom run id made several runs");
    own_ids.sort();
    own_ids.dedup();
    assert_eq!(own_ids.len(), 8);

    let read = |id: &str| {
        Run::builder()
            .home(home.path())
            .url(&server.url)
            .api_token(&token)
            .with_id(id)
            .mode(Mode::ReadOnly)
            .open()
            .unwrap()
    };
    let shared = read(&shared_ids[0]);
    for i in 0..8 {
        let f = shared
            .field(&format!("by/w{i}"))
            .fetch_values_with(FetchOptions::new())
            .unwrap();
        let v = f.floats().unwrap();
        assert_eq!(v.len(), POINTS as usize, "w{i}");
        assert!(v.steps().iter().enumerate().all(|(k, s)| *s == k as f64));
        assert_eq!(
            shared
                .field(&format!("done/w{i}"))
                .fetch()
                .unwrap()
                .to_json(),
            serde_json::json!(true)
        );
    }
    // Appended by all eight without steps: the server assigned them, keeping every point.
    let together = shared
        .field("together")
        .fetch_values_with(FetchOptions::new())
        .unwrap();
    let together = together.floats().unwrap();
    assert_eq!(together.len(), 8 * POINTS as usize);
    assert!(together.steps().windows(2).all(|w| w[0] < w[1]));
    for i in 0..8 {
        let base = f64::from(i) * 1e6;
        let own: Vec<f64> = together
            .values()
            .iter()
            .copied()
            .filter(|v| (base..base + 1e6).contains(v))
            .collect();
        let expected: Vec<f64> = (0..POINTS).map(|k| base + f64::from(k)).collect();
        assert_eq!(own, expected, "the points of w{i}, in order");
    }
    for id in &own_ids {
        let r = read(id);
        let v = r.field("loss").fetch_values().unwrap();
        assert_eq!(v.len(), POINTS as usize);
    }
    // Every queue was uploaded and removed.
    assert!(neptune_core::sync::status(home.path()).is_empty());
}

/// The work of a child process with role `parallel-writer`; false for any other role.
pub fn child(role: &str) -> bool {
    if role != "parallel-writer" {
        return false;
    }
    let tag = std::env::var("CHILD_TAG").unwrap();
    let shared = Run::builder()
        .custom_run_id("eight-shared")
        .flush_interval(Duration::from_millis(50))
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    let own = Run::builder()
        .flush_interval(Duration::from_millis(50))
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    let a = shared.field(&format!("by/{tag}")).float_series().unwrap();
    let b = own.field("loss").float_series().unwrap();
    let c = shared.field("together").float_series().unwrap();
    let base = tag[1..].parse::<f64>().unwrap() * 1e6;
    for i in 0..POINTS {
        let x = f64::from(i);
        a.append_with(x.sin(), LogOptions::new().step(x)).unwrap();
        b.append(x.cos()).unwrap();
        c.append(base + x).unwrap();
    }
    shared.field(&format!("done/{tag}")).assign(true).unwrap();
    shared.stop().unwrap();
    own.stop().unwrap();
    println!("\n@@shared {}", shared.id());
    println!("\n@@own {}", own.id());
    true
}

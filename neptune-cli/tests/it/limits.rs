//! Issue 9: `neptune runs` with a query nested thousands of levels deep, or with too many
//! columns or ids, fails with a message naming the limit instead of crashing.

use std::process::Command;

use neptune_core::{GitRef, Run};

#[test]
fn deep_and_huge_queries_fail_with_the_limit() {
    let home = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .home(home.path())
        .project("team/limits")
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    run.field("x").assign(1).unwrap();
    run.stop().unwrap();
    let neptune = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_neptune"))
            .arg("--home")
            .arg(home.path())
            .args(["runs", "-p", "team/limits"])
            .args(args)
            .output()
            .unwrap()
    };
    let deep = format!("{}x = 1", "NOT ".repeat(10_000));
    let parens = format!("{}x = 1{}", "(".repeat(10_000), ")".repeat(10_000));
    let columns = (0..20_000)
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(",");
    for (args, want) in [
        (["-q", deep.as_str()], "deeper than 64 levels"),
        (["-q", parens.as_str()], "deeper than 64 levels"),
        (["-c", columns.as_str()], "20000 columns"),
    ] {
        let out = neptune(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(err.contains(want), "{want}: {err}");
    }
    let out = neptune(&["-q", "NOT NOT x = 1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

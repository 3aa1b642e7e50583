//! What scripts and shells rely on, through the real binary: `show --json`'s documented shape,
//! completion scripts, no colour codes unless asked for (a pipe, NO_COLOR), and an exit code
//! for each kind of failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use neptune_core::File;
use serde_json::Value as J;

use crate::common::{neptune, ok, open_run};

/// A store with one run of every kind of field `show` summarises; the run's id.
fn store() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("store");
    let run = open_run(&home, "team/script");
    run.field("params/lr").assign(0.25).unwrap();
    run.field("params/epochs").assign(7).unwrap();
    run.field("params/name").assign("bert\u{1b}[31m").unwrap();
    run.field("params/warm").assign(true).unwrap();
    run.field("sys/tags").add(["b", "a"]).unwrap();
    let loss = run.field("train/loss").float_series().unwrap();
    loss.extend([3.0, f64::NAN, 1.0, 2.0]).unwrap();
    run.field("train/notes")
        .string_series()
        .unwrap()
        .extend(["start", "done"])
        .unwrap();
    run.field("model")
        .upload(File::from_content("weights"))
        .unwrap();
    let samples = run.field("samples").file_series().unwrap();
    samples.append(File::from_content("one")).unwrap();
    samples.append(File::from_content("three")).unwrap();
    let id = run.id().to_owned();
    run.stop().unwrap();
    (dir, home, id)
}

fn json(home: &Path, args: &[&str]) -> J {
    let text = ok(home, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}\n{text}"))
}

#[test]
fn show_json_has_the_documented_shape() {
    let (_dir, home, id) = store();
    let doc = json(&home, &["show", &id, "--json"]);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["id"], id.as_str());
    assert!(doc["store"].as_str().unwrap().contains("store"), "{doc}");
    assert_eq!(doc["path"], J::Null);
    let f = &doc["fields"];
    assert_eq!(
        f["params/lr"],
        serde_json::json!({"type": "Float", "value": 0.25})
    );
    assert_eq!(
        f["params/epochs"],
        serde_json::json!({"type": "Integer", "value": 7})
    );
    assert_eq!(
        f["params/warm"],
        serde_json::json!({"type": "Boolean", "value": true})
    );
    assert_eq!(
        f["params/name"]["value"], "bert\u{1b}[31m",
        "the value itself, escaped only as JSON escapes it"
    );
    assert_eq!(f["sys/tags"]["type"], "StringSet");
    assert_eq!(f["sys/tags"]["value"], serde_json::json!(["a", "b"]));
    assert_eq!(f["sys/state"]["value"], "Inactive");
    assert!(f["sys/creation_time"]["value"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(
        f["train/loss"],
        serde_json::json!({
            "type": "FloatSeries", "count": 4, "last_step": 3.0, "last": 2.0,
            "min": 1.0, "max": 3.0
        }),
        "min and max leave the NaN point out"
    );
    assert_eq!(
        f["train/notes"],
        serde_json::json!({"type": "StringSeries", "count": 2, "last_step": 1.0, "last": "done"})
    );
    assert_eq!(f["model"]["type"], "File");
    assert_eq!(f["model"]["size"], 7);
    assert_eq!(f["model"]["extension"], "txt");
    assert_eq!(f["model"]["digest"].as_str().unwrap().len(), 64);
    assert_eq!(
        f["samples"],
        serde_json::json!({"type": "FileSeries", "count": 2, "size": 8})
    );
    // Every field of the run is there, each with its type.
    let text = ok(&home, &["show", &id]);
    let count: usize = text
        .lines()
        .next()
        .and_then(|l| l.split('(').nth(1))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a field count in {text}"));
    let fields = f.as_object().unwrap();
    assert_eq!(fields.len(), count, "{doc}");
    assert!(fields.values().all(|v| v["type"].is_string()));

    let only = json(&home, &["show", &id, "train", "--json"]);
    assert_eq!(only["path"], "train");
    let paths: Vec<&String> = only["fields"].as_object().unwrap().keys().collect();
    assert_eq!(paths, ["train/loss", "train/notes"]);
}

#[test]
fn completions_name_the_commands_for_each_shell() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = ok(dir.path(), &["completions", shell]);
        for command in ["runs", "show", "fetch", "plot", "diff", "completions"] {
            assert!(script.contains(command), "{shell}: no {command}");
        }
        // Options too (fish writes `-l json`, the others `--json`).
        assert!(
            script.contains("json") && script.contains("columns"),
            "{shell}: no options"
        );
    }
    let bash = ok(dir.path(), &["completions", "bash"]);
    assert!(bash.contains("complete -F _neptune"), "{bash}");
    let e = neptune(dir.path(), &["completions", "tcsh-9"]);
    assert_eq!(e.status.code(), Some(2));
}

/// `neptune` with stdout and stderr piped and the colour variables of the caller removed, plus
/// `env`.
fn piped(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_neptune"));
    c.arg("--home").arg(home).args(args);
    for v in [
        "NEPTUNE_PROJECT",
        "NEPTUNE_URL",
        "NO_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
    ] {
        c.env_remove(v);
    }
    c.envs(env.iter().copied()).output().unwrap()
}

fn has_escape(b: &[u8]) -> bool {
    b.contains(&0x1b)
}

#[test]
fn colour_only_when_asked_and_never_with_no_color() {
    let (_dir, home, id) = store();
    let other = {
        let run = open_run(&home, "team/script");
        run.field("params/lr").assign(0.5).unwrap();
        let id = run.id().to_owned();
        run.stop().unwrap();
        id
    };
    // Every command that colours: tables (runs, projects), the tree (show), diff, and errors.
    let commands: Vec<Vec<&str>> = vec![
        vec!["runs", "-p", "team/script"],
        vec!["projects"],
        vec!["show", &id],
        vec!["diff", &id, &other],
    ];
    for args in &commands {
        let plain = piped(&home, args, &[]);
        assert!(plain.status.success(), "{args:?}");
        assert!(!has_escape(&plain.stdout), "{args:?} through a pipe");

        let forced = piped(&home, args, &[("CLICOLOR_FORCE", "1")]);
        assert!(has_escape(&forced.stdout), "{args:?} with CLICOLOR_FORCE");
        let always = piped(
            &home,
            &[&["--color", "always"][..], &args[..]].concat(),
            &[],
        );
        assert!(has_escape(&always.stdout), "{args:?} with --color always");

        let no_color = piped(&home, args, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
        assert!(!has_escape(&no_color.stdout), "{args:?}: NO_COLOR wins");
        assert_eq!(
            no_color.stdout, plain.stdout,
            "{args:?}: colour changes nothing else"
        );
        let never = piped(
            &home,
            &[&["--color", "never"][..], &args[..]].concat(),
            &[("CLICOLOR_FORCE", "1")],
        );
        assert_eq!(never.stdout, plain.stdout, "{args:?} with --color never");
    }
    // The stored escape sequence in params/name stays escaped, coloured or not.
    let forced = piped(&home, &["show", &id], &[("CLICOLOR_FORCE", "1")]);
    let text = String::from_utf8(forced.stdout).unwrap();
    assert!(text.contains(r#""bert\e[31m""#), "{text}");

    let e = piped(&home, &["show", "NOPE-1"], &[]);
    assert!(!has_escape(&e.stderr), "an error through a pipe");
    let e = piped(&home, &["show", "NOPE-1"], &[("CLICOLOR_FORCE", "1")]);
    assert!(has_escape(&e.stderr), "a forced colour error");
    let e = piped(
        &home,
        &["show", "NOPE-1"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert!(!has_escape(&e.stderr), "NO_COLOR on stderr too");
}

/// `neptune` with a pseudo-terminal as its stdout (a terminal, to the program), TERM=xterm and
/// the caller's colour variables removed, plus `env`; what it wrote there.
#[cfg(unix)]
fn on_terminal(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::process::Stdio;

    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two descriptors it opened; null name, termios and size are allowed.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are open and owned by nothing else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut c = Command::new(env!("CARGO_BIN_EXE_neptune"));
    c.arg("--home").arg(home).args(args);
    for v in [
        "NEPTUNE_URL",
        "NO_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "CI",
    ] {
        c.env_remove(v);
    }
    c.env("TERM", "xterm")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave))
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    // The terminal's other end must close here too, so that reading ends when the child exits.
    drop(c);
    let mut master = std::fs::File::from(master);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match master.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // Linux: EIO once no process holds the terminal any more.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
            Err(e) => panic!("reading the terminal: {e}"),
        }
    }
    assert!(child.wait().unwrap().success(), "neptune {args:?}");
    out
}

#[cfg(unix)]
#[test]
fn on_a_terminal_colour_unless_no_color_or_a_dumb_terminal() {
    let (_dir, home, id) = store();
    let show = ["show", id.as_str()];
    let coloured = on_terminal(&home, &show, &[]);
    assert!(
        has_escape(&coloured),
        "{}",
        String::from_utf8_lossy(&coloured)
    );
    let no_color = on_terminal(&home, &show, &[("NO_COLOR", "1")]);
    assert!(!has_escape(&no_color), "NO_COLOR on a terminal");
    let dumb = on_terminal(&home, &show, &[("TERM", "dumb")]);
    assert!(!has_escape(&dumb), "TERM=dumb");
    let never = on_terminal(&home, &["--color", "never", "show", &id], &[]);
    assert!(!has_escape(&never), "--color never");
    // The same text, colour aside (a terminal ends lines with \r\n).
    let text = String::from_utf8(no_color).unwrap().replace("\r\n", "\n");
    assert_eq!(text, ok(&home, &show));
}

#[test]
fn exit_codes_tell_not_found_from_invalid_input() {
    let (dir, home, id) = store();
    let code = |home: &Path, args: &[&str]| {
        let out = neptune(home, args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let nowhere = dir.path().join("nowhere");
    let not_found: Vec<(&Path, Vec<&str>)> = vec![
        (&nowhere, vec!["runs"]),
        (&home, vec!["runs", "-p", "team/none"]),
        (&home, vec!["show", "SCRIPT-99"]),
        (&home, vec!["show", &id, "nothing/here"]),
        (&home, vec!["fetch", &id, "params/nope"]),
        (&home, vec!["fetch", "SCRIPT-99", "params/lr"]),
        (&home, vec!["download", &id, "nope"]),
        (&home, vec!["diff", &id, "SCRIPT-77"]),
        (&home, vec!["plot", &id, "train/nope", "-o", "x.png"]),
    ];
    for (h, args) in &not_found {
        let (c, e) = code(h, args);
        assert_eq!(c, Some(3), "{args:?}: {e}");
    }
    let invalid: Vec<Vec<&str>> = vec![
        vec!["runs", "-p", "team/script", "--query", "params/lr <"],
        vec!["runs", "-p", "team/script", "--query", "(((("],
        vec!["fetch", &id, "bad//path"],
        vec!["fetch", &id, "model"],
        vec!["download", &id, "params/lr"],
        vec!["plot", &id, "params/lr", "-o", "x.png"],
        vec!["plot", &id, "train/loss", "-o", "x.jpg"],
        vec!["plot", &id, "train/loss", "-o", "x.png", "--width", "3"],
        // clap's own: an unknown command, a bad value, a missing argument.
        vec!["frobnicate"],
        vec!["runs", "--limit", "many"],
        vec!["show"],
    ];
    for args in &invalid {
        let (c, e) = code(&home, args);
        assert_eq!(c, Some(2), "{args:?}: {e}");
    }
    // A server that is not there.
    let out = Command::new(env!("CARGO_BIN_EXE_neptune"))
        .arg("--home")
        .arg(&home)
        .args(["runs", "-p", "team/script"])
        .env("NEPTUNE_URL", "http://127.0.0.1:9")
        .env("NEPTUNE_API_TOKEN", "token")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // NEPTUNE_URL without a token is a setting to fix.
    let out = Command::new(env!("CARGO_BIN_EXE_neptune"))
        .arg("--home")
        .arg(&home)
        .args(["runs"])
        .env("NEPTUNE_URL", "http://127.0.0.1:9")
        .env_remove("NEPTUNE_API_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A failure of the disk: the export folder cannot be created under a file.
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "x").unwrap();
    let target = blocker.join("export");
    let (c, e) = code(&home, &["export", &id, "-o", target.to_str().unwrap()]);
    assert_eq!(c, Some(1), "{e}");
    // Success, and the codes are listed where users look.
    assert_eq!(code(&home, &["show", &id]).0, Some(0));
    let help = ok(&home, &["--help"]);
    for line in [
        "0  success",
        "1  failure",
        "2  invalid input",
        "3  not found",
        "4  server",
    ] {
        assert!(help.contains(line), "{line:?} in\n{help}");
    }
}

/// `neptune … | head`: a reader that goes away ends the command as it ends other Unix tools
/// (SIGPIPE), with no panic message on stderr.
#[cfg(unix)]
#[test]
fn a_closed_stdout_pipe_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;

    let (_dir, home, id) = store();
    for args in [
        vec!["show", id.as_str()],
        vec!["runs", "--project", "team/script"],
        vec!["completions", "bash"],
    ] {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe() writes.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: both descriptors were just made by pipe() and are owned here alone.
        let (read, write) = unsafe {
            use std::os::fd::FromRawFd;
            (
                std::fs::File::from_raw_fd(fds[0]),
                std::fs::File::from_raw_fd(fds[1]),
            )
        };
        // The reader is gone before the command writes a byte.
        drop(read);
        let out = Command::new(env!("CARGO_BIN_EXE_neptune"))
            .arg("--home")
            .arg(&home)
            .args(&args)
            .stdout(Stdio::from(write))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGPIPE),
            "{args:?}: {:?}",
            out.status
        );
    }
}

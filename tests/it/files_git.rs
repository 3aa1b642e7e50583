//! GitRef on real temporary repositories made with the `git` command: committed (clean),
//! dirty (with the .patch diff), detached HEAD, no repository, no commit, disabled; and the
//! repository is found from a subdirectory.

use std::path::Path;
use std::process::Command;

use neptune::{GitRef, Mode, Run, Value};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Ada Lovelace")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada Lovelace")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_DATE", "2024-03-01T12:00:00Z")
        .env("GIT_AUTHOR_DATE", "2024-03-01T12:00:00Z")
        .output()
        .expect("the git command is needed by these tests");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A repository with one commit on branch `main` and a remote.
fn repo(dir: &Path) -> String {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
    std::fs::write(dir.join("train.py"), "print('hello')\n").unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "First commit\n\nWith a body."]);
    git(
        dir,
        &[
            "remote",
            "add",
            "origin",
            "https://example.com/team/project.git",
        ],
    );
    git(dir, &["rev-parse", "HEAD"]).trim().to_owned()
}

fn open(home: &Path, git_ref: GitRef) -> Run {
    Run::builder()
        .home(home)
        .project("team/git")
        .git_ref(git_ref)
        .open()
        .unwrap()
}

fn git_info(run: &Run) -> Option<neptune::GitInfo> {
    run.wait().unwrap();
    match run.field("source_code/git").fetch() {
        Ok(Value::GitRef(g)) => Some(*g),
        Ok(other) => panic!("{other:?}"),
        Err(_) => None,
    }
}

#[test]
fn committed_repository() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("repo");
    let head = repo(&r);
    // Found from a subdirectory.
    let run = open(&dir.path().join("home"), GitRef::new(r.join("src")));
    let g = git_info(&run).expect("git info");
    assert_eq!(g.commit_id, head);
    assert_eq!(g.message, "First commit\n\nWith a body.");
    assert_eq!(g.author_name, "Ada Lovelace");
    assert_eq!(g.author_email, "ada@example.com");
    assert_eq!(g.commit_date.to_rfc3339(), "2024-03-01T12:00:00+00:00");
    assert_eq!(g.branch.as_deref(), Some("main"));
    assert!(!g.dirty);
    assert_eq!(g.remotes, ["https://example.com/team/project.git"]);
    assert!(!run.exists("source_code/diff"), "a clean tree has no diff");
    assert_eq!(
        run.field("source_code/git").fetch().unwrap().to_string(),
        head
    );
    run.stop().unwrap();
}

#[test]
fn dirty_repository_records_the_diff() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("repo");
    repo(&r);
    std::fs::write(r.join("train.py"), "print('hello, world')\n").unwrap();
    let run = open(&dir.path().join("home"), GitRef::new(&r));
    let g = git_info(&run).unwrap();
    assert!(g.dirty);
    let diff = run.field("source_code/diff").file().unwrap();
    assert_eq!(diff.fetch_extension().unwrap(), "patch");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let p = diff.download_to(&out).unwrap();
    assert_eq!(p, out.join("diff.patch"));
    let patch = std::fs::read_to_string(&p).unwrap();
    assert!(
        patch.contains("-print('hello')") && patch.contains("+print('hello, world')"),
        "{patch}"
    );
    // The patch applies to the committed tree.
    git(&r, &["checkout", "-q", "--", "train.py"]);
    git(&r, &["apply", p.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(r.join("train.py")).unwrap(),
        "print('hello, world')\n"
    );
    run.stop().unwrap();

    // An untracked file alone makes the tree dirty (and there is no tracked change to diff).
    let r2 = dir.path().join("repo2");
    repo(&r2);
    std::fs::write(r2.join("new.txt"), "new").unwrap();
    let run = open(&dir.path().join("home"), GitRef::new(&r2));
    assert!(git_info(&run).unwrap().dirty);
    assert!(!run.exists("source_code/diff"));
    run.stop().unwrap();
}

#[test]
fn detached_head() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("repo");
    let first = repo(&r);
    std::fs::write(r.join("b.txt"), "b").unwrap();
    git(&r, &["add", "."]);
    git(&r, &["commit", "-q", "-m", "Second"]);
    git(&r, &["checkout", "-q", "--detach", &first]);
    let run = open(&dir.path().join("home"), GitRef::new(&r));
    let g = git_info(&run).unwrap();
    assert_eq!(g.branch, None);
    assert_eq!(g.commit_id, first);
    assert!(!g.dirty);
    run.stop().unwrap();
}

#[test]
fn no_repository_disabled_and_broken() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    // No repository: the run works, without git fields.
    let plain = dir.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let run = open(&home, GitRef::new(&plain));
    assert!(git_info(&run).is_none());
    run.field("x").assign(1).unwrap();
    run.stop().unwrap();
    // A path that does not exist.
    let run = open(&home, GitRef::new(dir.path().join("nowhere")));
    assert!(git_info(&run).is_none());
    run.stop().unwrap();
    // A repository without commits.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    git(&empty, &["init", "-q"]);
    let run = open(&home, GitRef::new(&empty));
    assert!(git_info(&run).is_none());
    run.stop().unwrap();
    // A broken repository (.git is garbage).
    let broken = dir.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join(".git"), "gitdir: /nonexistent/place\n").unwrap();
    let run = open(&home, GitRef::new(&broken));
    assert!(git_info(&run).is_none());
    run.stop().unwrap();
    // Disabled, on a real repository.
    let r = dir.path().join("repo");
    repo(&r);
    let run = open(&home, GitRef::Disabled);
    assert!(git_info(&run).is_none());
    run.stop().unwrap();
    // Only new runs record it; debug mode too; a resumed run keeps what it had.
    let run = open(&home, GitRef::new(&r));
    assert!(git_info(&run).is_some());
    let id = run.id().to_owned();
    run.stop().unwrap();
    let resumed = Run::builder()
        .home(&home)
        .with_id(&id)
        .git_ref(GitRef::new(&plain))
        .open()
        .unwrap();
    assert!(git_info(&resumed).is_some());
    resumed.stop().unwrap();
    let debug = Run::builder()
        .mode(Mode::Debug)
        .git_ref(GitRef::new(&r))
        .open()
        .unwrap();
    assert!(git_info(&debug).is_some());
}

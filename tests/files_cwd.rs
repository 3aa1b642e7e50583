//! The rules that involve the working directory: downloads without a destination, relative
//! globs whose root lies inside the working directory, and the default GitRef. This binary has
//! one test because it changes the process's working directory.

use std::path::Path;

use neptune::{File, Run, Value};

fn write(p: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

#[test]
fn working_directory_rules() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().join("work");
    write(&cwd.join("data/sample.csv"), b"s");
    write(&cwd.join("data/datasets/v2.csv"), b"v2");
    write(&cwd.join("a.py"), b"a");
    write(&cwd.join("b.py"), b"b");
    std::fs::create_dir_all(cwd.join("out")).unwrap();
    std::env::set_current_dir(&cwd).unwrap();
    // Not a repository: the default GitRef finds nothing, and the run works.
    let run = Run::builder()
        .home(dir.path().join("home"))
        .project("team/cwd")
        .open()
        .unwrap();
    run.wait().unwrap();
    assert!(!run.exists("source_code/git"));

    // Relative globs; the root lies inside the working directory, so paths start there.
    run.field("data").upload_files("data").unwrap();
    let top = run.field("data").list_fileset_files(None).unwrap();
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].name, "data");
    assert_eq!(
        run.field("data")
            .list_fileset_files(Some("data"))
            .unwrap()
            .len(),
        2
    );
    run.field("scripts").upload_files("*.py").unwrap();
    let names: Vec<String> = run
        .field("scripts")
        .list_fileset_files(None)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["a.py", "b.py"]);
    run.field("one")
        .upload_files("data/datasets/v2.csv")
        .unwrap();
    assert_eq!(
        run.field("one")
            .list_fileset_files(Some("data/datasets"))
            .unwrap()[0]
            .name,
        "v2.csv"
    );

    // Downloads without a destination go to the working directory.
    run.field("model").upload("a.py").unwrap();
    let p = run.field("model").file().unwrap().download().unwrap();
    assert_eq!(p, cwd.join("model.py"));
    assert_eq!(std::fs::read(&p).unwrap(), b"a");
    let z = run.field("scripts").file_set().unwrap().download().unwrap();
    assert_eq!(z, cwd.join("scripts.zip"));
    run.field("imgs").append(File::from_content("1")).unwrap();
    run.field("imgs").append(File::from_content("2")).unwrap();
    let all = run.field("imgs").file_series().unwrap().download().unwrap();
    assert_eq!(all[1], cwd.join("neptune/imgs/000001.txt"));
    let last = run.field("imgs").download_last().unwrap();
    assert_eq!(last, cwd.join("imgs.txt"));
    run.field("art").track_files("data", Some("d")).unwrap();
    std::env::set_current_dir(cwd.join("out")).unwrap();
    let files = run.field("art").artifact().unwrap().download().unwrap();
    assert_eq!(files[0], cwd.join("out/d/datasets/v2.csv"));
    assert_eq!(std::fs::read(&files[1]).unwrap(), b"s");
    assert!(matches!(
        run.field("art").fetch().unwrap(),
        Value::Artifact(_)
    ));
    run.stop().unwrap();
}

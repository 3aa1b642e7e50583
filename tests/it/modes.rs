//! Connection modes, resume, custom run ids, ids per project, models and projects.

use std::sync::Arc;
use std::time::Duration;

use neptune::plumbing::{MemoryBackend, Operation};
use neptune::{Error, Mode, Model, ModelVersion, Project, Run, Value};

#[test]
fn debug_mode_writes_nothing_to_disk() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .home(dir.path())
        .mode(Mode::Debug)
        .open()
        .unwrap();
    run.field("a").assign(1).unwrap();
    run.field("s").append(1.0).unwrap();
    assert_eq!(run.field("a").fetch().unwrap(), Value::Integer(1));
    run.stop().unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn sync_mode_is_durable_when_the_call_returns() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .home(dir.path())
        .mode(Mode::Sync)
        .flush_interval(Duration::from_secs(3600))
        .open()
        .unwrap();
    run.field("p").assign(2.5).unwrap();
    run.field("loss").append(0.5).unwrap();
    run.tags().add("synced").unwrap();
    // Another reader (as another process would) sees each write at once.
    let ro = Run::builder()
        .home(dir.path())
        .with_id(run.id())
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    assert_eq!(ro.field("p").fetch().unwrap(), Value::Float(2.5));
    assert_eq!(ro.field("loss").fetch_last().unwrap(), Value::Float(0.5));
    assert!(ro.tags().fetch().unwrap().contains("synced"));
}

#[test]
fn async_mode_writes_within_the_flush_interval() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .home(dir.path())
        .flush_interval(Duration::from_millis(50))
        .open()
        .unwrap();
    run.field("p").assign(1).unwrap();
    let ro = Run::builder()
        .home(dir.path())
        .with_id(run.id())
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match ro.field("p").fetch() {
            Ok(v) => break assert_eq!(v, Value::Integer(1)),
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("not written by the worker: {e}"),
        }
    }
}

#[test]
fn offline_mode_stores_locally() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .home(dir.path())
        .mode(Mode::Offline)
        .open()
        .unwrap();
    run.field("p").assign(1).unwrap();
    run.stop().unwrap();
    let ro = Run::builder()
        .home(dir.path())
        .with_id(run.id())
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    assert_eq!(ro.field("p").fetch().unwrap(), Value::Integer(1));
}

#[test]
fn mode_from_the_environment_is_parsed() {
    // The variable is read by open(); a bad value is a clear error.
    assert_eq!("read-only".parse::<Mode>().unwrap(), Mode::ReadOnly);
    assert!(matches!("fast".parse::<Mode>(), Err(Error::Config(_))));
}

#[test]
fn ids_are_sequential_per_project_and_resume_works() {
    let dir = tempfile::tempdir().unwrap();
    let open = |p: &str| Run::builder().home(dir.path()).project(p).open().unwrap();
    let a1 = open("team/alpha");
    let a2 = open("team/alpha");
    let b1 = open("team/beta-test");
    assert_eq!(a1.id(), "ALP-1");
    assert_eq!(a2.id(), "ALP-2");
    assert_eq!(b1.id(), "BT-1");
    a1.field("loss").extend([3.0, 2.0]).unwrap();
    a1.stop().unwrap();

    let resumed = Run::builder()
        .home(dir.path())
        .project("team/alpha")
        .with_id("ALP-1")
        .open()
        .unwrap();
    assert_eq!(
        resumed.field("sys/state").fetch().unwrap(),
        Value::RunState(neptune::RunState::Active)
    );
    // The step counter continues from the stored series.
    resumed.field("loss").append(1.0).unwrap();
    let steps = resumed
        .field("loss")
        .float_series()
        .unwrap()
        .fetch_values()
        .unwrap();
    assert_eq!(steps.steps(), &[0.0, 1.0, 2.0]);
    // Resume does not reset what creation wrote.
    assert_eq!(
        resumed.field("sys/name").fetch().unwrap().as_str(),
        Some("Untitled")
    );

    let e = Run::builder()
        .home(dir.path())
        .project("team/alpha")
        .with_id("ALP-99")
        .open()
        .unwrap_err();
    assert!(matches!(e, Error::ObjectNotFound { .. }), "{e}");
    assert!(e.to_string().contains("ALP-99"));
    let e = Run::builder()
        .home(dir.path())
        .with_id("ALP-1")
        .custom_run_id("x")
        .open()
        .unwrap_err();
    assert!(matches!(e, Error::Config(_)));
    let e = Run::builder()
        .home(dir.path())
        .custom_run_id("x".repeat(37))
        .open()
        .unwrap_err();
    assert!(matches!(e, Error::Config(_)));
}

#[test]
fn custom_run_id_joins_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        Run::builder()
            .home(dir.path())
            .custom_run_id("shared-42")
            .open()
            .unwrap()
    };
    let a = open();
    let b = open();
    assert_eq!(a.id(), b.id());
    a.field("from_a").assign(1).unwrap();
    b.field("from_b").assign(2).unwrap();
    a.wait().unwrap();
    b.wait().unwrap();
    b.sync().unwrap();
    assert_eq!(b.field("from_a").fetch().unwrap(), Value::Integer(1));
    assert!(b.exists("from_a"));
}

#[test]
fn models_versions_and_projects() {
    let dir = tempfile::tempdir().unwrap();
    let model = Model::builder()
        .home(dir.path())
        .project("ml/cls")
        .key("FOREST")
        .open()
        .unwrap();
    assert_eq!(model.id(), "CLS-FOREST");
    model.field("signature").assign("x -> y").unwrap();
    let v1 = ModelVersion::builder()
        .home(dir.path())
        .project("ml/cls")
        .model("CLS-FOREST")
        .open()
        .unwrap();
    let v2 = ModelVersion::builder()
        .home(dir.path())
        .project("ml/cls")
        .model("CLS-FOREST")
        .open()
        .unwrap();
    assert_eq!(v1.id(), "CLS-FOREST-1");
    assert_eq!(v2.id(), "CLS-FOREST-2");
    v2.field("val/acc").assign(0.98).unwrap();
    v2.change_stage("production").unwrap();
    assert!(v2.change_stage("moon").is_err());
    v2.wait().unwrap();
    assert_eq!(
        v2.field("sys/stage").fetch().unwrap().as_str(),
        Some("production")
    );
    assert!(matches!(
        v2.field("sys/stage").assign("staging"),
        Err(Error::ReadOnlyField { .. })
    ));
    let e = ModelVersion::builder()
        .home(dir.path())
        .project("ml/cls")
        .model("CLS-NOPE")
        .open()
        .unwrap_err();
    assert!(matches!(e, Error::ObjectNotFound { .. }), "{e}");

    let project = Project::builder()
        .home(dir.path())
        .project("ml/cls")
        .open()
        .unwrap();
    assert_eq!(project.id(), "CLS");
    project.field("about").assign("classifiers").unwrap();
    project.stop().unwrap();
    let again = Project::builder()
        .home(dir.path())
        .project("ml/cls")
        .open()
        .unwrap();
    assert_eq!(
        again.field("about").fetch().unwrap().as_str(),
        Some("classifiers")
    );
}

#[test]
fn memory_backend_sees_the_exact_operation_stream() {
    let mem = Arc::new(MemoryBackend::new());
    let run = Run::builder()
        .backend(mem.clone())
        .mode(Mode::Debug)
        .capture_hardware_metrics(false)
        .open()
        .unwrap();
    run.wait().unwrap();
    let created: Vec<String> = mem
        .operations(run.id())
        .iter()
        .map(|op| op.path().to_string())
        .collect();
    assert_eq!(
        created,
        [
            "sys/name",
            "sys/description",
            "sys/tags",
            "sys/failed",
            "sys/hostname"
        ]
    );
    mem.clear_operations();
    run.field("params/lr").assign(0.5).unwrap();
    let loss = run.field("loss").float_series().unwrap();
    loss.append(1.0).unwrap();
    loss.append(2.0).unwrap();
    run.tags().add("t").unwrap();
    loss.append(3.0).unwrap();
    run.wait().unwrap();
    let ops = mem.operations(run.id());
    let names: Vec<String> = ops
        .iter()
        .map(|op| {
            let j = serde_json::to_value(op).unwrap();
            format!(
                "{} {} {}",
                j["type"].as_str().unwrap(),
                j["path"].as_str().unwrap(),
                op.weight()
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            "AssignFloat params/lr 1",
            "LogFloats loss 2",
            "AddStrings sys/tags 1",
            "LogFloats loss 1",
        ]
    );
    let Operation::LogFloats { points, .. } = &ops[1] else {
        panic!()
    };
    assert_eq!(
        points.iter().map(|p| (p.step, p.value)).collect::<Vec<_>>(),
        [(None, 1.0), (None, 2.0)]
    );
}

#[test]
fn failed_is_set_when_a_run_is_dropped_by_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_owned();
    let id = std::thread::spawn(move || {
        let run = Run::builder().home(&home).open().unwrap();
        let id = run.id().to_owned();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _run = run;
            panic!("training crashed");
        }));
        assert!(r.is_err());
        id
    })
    .join()
    .unwrap();
    let ro = Run::builder()
        .home(dir.path())
        .with_id(&id)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    assert_eq!(
        ro.field("sys/failed").fetch().unwrap(),
        Value::Boolean(true)
    );
    assert_eq!(
        ro.field("sys/state").fetch().unwrap(),
        Value::RunState(neptune::RunState::Inactive)
    );
}

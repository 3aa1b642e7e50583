//! The resume check: binding a typed namespace to an existing run whose stored types differ
//! reports every mismatch at bind time, before any write.

use neptune::{Error, FloatSeries, Loggable, Mode, Run, StringSeries};

#[derive(Loggable)]
struct Params {
    lr: f64,
    epochs: i64,
    optimizer: String,
}

#[derive(Loggable)]
struct Train {
    loss: FloatSeries,
    notes: StringSeries,
}

#[derive(Loggable)]
struct Experiment {
    params: Params,
    train: Train,
}

#[test]
fn every_mismatch_is_reported_before_any_write() {
    let dir = tempfile::tempdir().unwrap();
    let open = |with_id: Option<&str>| {
        let b = Run::builder().home(dir.path()).project("t/resume");
        match with_id {
            Some(id) => b.with_id(id).open().unwrap(),
            None => b.open().unwrap(),
        }
    };
    // A first process logs with other types.
    let run = open(None);
    let id = run.id().to_owned();
    run.field("params/lr").assign("0.1").unwrap(); // a String, not a Float
    run.field("params/epochs").assign(10).unwrap(); // fine
    run.field("train/loss").assign(0.5).unwrap(); // a Float, not a FloatSeries
    run.field("train/notes/first").assign(true).unwrap(); // a namespace, not a StringSeries
    run.stop().unwrap();

    // A second process resumes it with the typed namespace.
    let run = open(Some(&id));
    let before = run.get_structure();
    let err = run.bind::<Experiment>("").err().unwrap();
    let Error::LoggableMismatch {
        action,
        problems,
        object,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((*action, object.as_str()), ("bind", id.as_str()));
    assert_eq!(problems.len(), 3, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("(nothing was written): 3 problem(s)"),
        "{text}"
    );
    assert!(
        text.contains("field \"params/lr\" is a String; binding would make it a Float"),
        "{text}"
    );
    assert!(
        text.contains("field \"train/loss\" is a Float; binding would make it a FloatSeries"),
        "{text}"
    );
    assert!(
        text.contains("\"train/notes\" is a namespace holding other fields"),
        "{text}"
    );
    run.wait().unwrap();
    assert_eq!(run.get_structure(), before, "nothing was written");

    // Fields of the right types bind, and resume where they were.
    run.pop("params/lr").unwrap();
    run.pop("train").unwrap();
    let h = run.bind::<Experiment>("").unwrap();
    assert_eq!(h.params.epochs.fetch().unwrap(), 10);
    h.train.loss.append(0.25).unwrap();
    run.stop().unwrap();

    let run = open(Some(&id));
    let h = run.bind::<Experiment>("").unwrap();
    h.train.loss.append(0.125).unwrap(); // the step goes on from the stored last step
    let values = h.train.loss.fetch_values().unwrap();
    assert_eq!(values.len(), 2);
    run.stop().unwrap();
}

#[test]
fn read_only_runs_bind_for_reading() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder().home(dir.path()).open().unwrap();
    let id = run.id().to_owned();
    let h = run.bind::<Params>("params").unwrap();
    h.lr.assign(0.5).unwrap();
    run.stop().unwrap();
    let run = Run::builder()
        .home(dir.path())
        .with_id(&id)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    let h = run.bind::<Params>("params").unwrap();
    assert_eq!(h.lr.fetch().unwrap(), 0.5);
    assert!(h.lr.assign(1.0).is_err());
}

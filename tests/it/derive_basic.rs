//! `#[derive(Loggable)]`: binding typed handles, whole values in and out, every leaf type,
//! unit-only enums, and the clear errors of `fetch_as` and `assign_value`.

use crate::common::debug_run;
use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use neptune::{Error, FloatSeries, Loggable, Mode, Run, StringSeries, Value};

#[derive(Loggable, Debug, Clone, PartialEq)]
struct Params {
    lr: f64,
    max_epochs: i64,
    optimizer: String,
    use_preprocessing: bool,
}

#[derive(Loggable, Debug, Clone, PartialEq)]
struct Train {
    loss: FloatSeries,
    acc: FloatSeries,
    tokens: StringSeries,
    end: DateTime<Utc>,
}

#[derive(Loggable, Debug, Clone, PartialEq)]
struct Experiment {
    params: Params,
    train: Train,
}

fn params() -> Params {
    Params {
        lr: 0.01,
        max_epochs: 10,
        optimizer: "Adam".into(),
        use_preprocessing: true,
    }
}

#[test]
fn the_issue_example() {
    let run = debug_run();
    let h = run.bind::<Experiment>("").unwrap();
    h.train.loss.append(0.5).unwrap();
    h.train.loss.append(0.25).unwrap();
    h.train.acc.extend([0.5, 0.75]).unwrap();
    h.params.lr.assign(1e-3).unwrap();
    let lr: f64 = h.params.lr.fetch().unwrap();
    assert_eq!(lr, 1e-3);
    let loss = h.train.loss.fetch_values().unwrap();
    assert_eq!(loss.len(), 2);
    assert_eq!(h.train.loss.fetch_last().unwrap(), 0.25);
    assert_eq!(h.train.acc.fetch_last().unwrap(), 0.75);
    h.train.tokens.append("a").unwrap();
    assert_eq!(h.train.tokens.fetch_last().unwrap(), "a");
    h.params.max_epochs.assign(3).unwrap();
    h.params.optimizer.assign("SGD").unwrap();
    h.params.use_preprocessing.assign(false).unwrap();
    let end = Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap();
    h.train.end.assign(end).unwrap();
    assert_eq!(run.field("params/lr").fetch().unwrap(), Value::Float(1e-3));
    assert_eq!(
        run.field("params/max_epochs").fetch().unwrap(),
        Value::Integer(3)
    );
    assert_eq!(
        run.field("train/end").fetch().unwrap(),
        Value::Datetime(end)
    );

    // The other spelling, and binding below a namespace.
    let h2 = Experiment::handle(&run, "").unwrap();
    assert_eq!(h2.params.lr.path().as_str(), "params/lr");
    let p = run.field("params").bind::<Params>().unwrap();
    assert_eq!(p.optimizer.fetch().unwrap(), "SGD");
    // Handles clone cheaply and stay bound to the same fields.
    let h3 = h.clone();
    h3.train.loss.append(0.125).unwrap();
    assert_eq!(h.train.loss.fetch_last().unwrap(), 0.125);
}

#[test]
fn whole_values_round_trip() {
    let run = debug_run();
    run.field("params").assign_value(&params()).unwrap();
    assert_eq!(
        run.field("params/optimizer").fetch().unwrap(),
        Value::String("Adam".into())
    );
    assert_eq!(run.field("params").fetch_as::<Params>().unwrap(), params());

    let end = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
    let exp = Experiment {
        params: params(),
        train: Train {
            loss: FloatSeries,
            acc: FloatSeries,
            tokens: StringSeries,
            end,
        },
    };
    run.root().assign_value(&exp).unwrap();
    assert_eq!(run.root().fetch_as::<Experiment>().unwrap(), exp);
    // A leaf reads back on its own too.
    assert_eq!(run.field("params/lr").fetch_as::<f64>().unwrap(), 0.01);
    assert_eq!(run.field("params/max_epochs").fetch_as::<u8>().unwrap(), 10);
}

#[test]
fn fetch_as_names_every_missing_and_mistyped_field() {
    let run = debug_run();
    run.field("params/lr").assign("fast").unwrap();
    run.field("params/max_epochs").assign(3).unwrap();
    let err = run.field("params").fetch_as::<Params>().unwrap_err();
    let Error::LoggableMismatch {
        action, problems, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(*action, "read");
    assert_eq!(problems.len(), 3, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("\"params/lr\": is a String field; f64 reads a Float"),
        "{text}"
    );
    assert!(text.contains("has no field \"params/optimizer\""), "{text}");
    assert!(
        text.contains("has no field \"params/use_preprocessing\""),
        "{text}"
    );
    assert!(
        text.starts_with("cannot read it::derive_basic::Params at \"params\""),
        "{text}"
    );

    // A series where a value is expected, and a value where a series is expected.
    run.field("t/loss").assign(1.0).unwrap();
    run.field("t/end").append(1.0).unwrap();
    let text = run.field("t").fetch_as::<Train>().unwrap_err().to_string();
    assert!(
        text.contains("\"t/loss\": is a Float field, not a FloatSeries"),
        "{text}"
    );
    assert!(text.contains("\"t/end\": is a FloatSeries field"), "{text}");
}

#[derive(Loggable, Debug, Clone, Copy, PartialEq)]
enum Optimizer {
    Adam,
    #[loggable(rename = "sgd")]
    Sgd,
    AdamW,
}

#[derive(Loggable, Debug, Clone, Copy, PartialEq)]
#[loggable(rename_all = "kebab-case")]
enum Schedule {
    LinearDecay,
    Cosine,
}

#[derive(Loggable, Debug, Clone, PartialEq)]
struct Leaves {
    a: f32,
    b: i8,
    c: i16,
    d: i32,
    e: i128,
    f: isize,
    g: u8,
    h: u16,
    i: u32,
    j: u64,
    k: u128,
    l: usize,
    opt: Optimizer,
    schedule: Schedule,
    maybe: Option<f64>,
    absent: Option<String>,
    maybe_opt: Option<Optimizer>,
}

fn leaves() -> Leaves {
    Leaves {
        a: 0.5,
        b: -8,
        c: -16,
        d: -32,
        e: -128,
        f: -1,
        g: 8,
        h: 16,
        i: 32,
        j: 64,
        k: 128,
        l: 1,
        opt: Optimizer::Sgd,
        schedule: Schedule::LinearDecay,
        maybe: Some(2.5),
        absent: None,
        maybe_opt: Some(Optimizer::AdamW),
    }
}

#[test]
fn every_leaf_type_round_trips() {
    let run = debug_run();
    run.field("l").assign_value(&leaves()).unwrap();
    assert_eq!(run.field("l").fetch_as::<Leaves>().unwrap(), leaves());
    // Enums are Strings holding the variant's (renamed) name; numbers are Floats or Integers.
    let v = run.field("l").fetch().unwrap();
    assert_eq!(v.get("opt"), Some(&Value::String("sgd".into())));
    assert_eq!(
        v.get("schedule"),
        Some(&Value::String("linear-decay".into()))
    );
    assert_eq!(v.get("maybe_opt"), Some(&Value::String("AdamW".into())));
    assert_eq!(v.get("a"), Some(&Value::Float(0.5)));
    assert_eq!(v.get("k"), Some(&Value::Integer(128)));
    assert_eq!(v.get("absent"), None); // None writes nothing

    let h = run.bind::<Leaves>("l").unwrap();
    assert_eq!(h.opt.fetch().unwrap(), Optimizer::Sgd);
    h.opt.assign(Optimizer::Adam).unwrap();
    assert_eq!(
        run.field("l/opt").fetch().unwrap(),
        Value::String("Adam".into())
    );
    assert_eq!(h.absent.fetch().unwrap(), None);
    h.absent.assign("now".to_owned()).unwrap();
    assert_eq!(h.absent.fetch().unwrap(), Some("now".to_owned()));
    h.g.assign(200).unwrap();
    assert_eq!(h.g.fetch().unwrap(), 200u8);
    h.a.assign(1.5).unwrap();
    assert_eq!(h.a.fetch().unwrap(), 1.5f32);
}

#[test]
fn integers_are_range_checked_on_assign_and_on_read() {
    let run = debug_run();
    let big = run.bind::<u64>("big").unwrap();
    let err = big.assign(u64::MAX).unwrap_err();
    assert!(
        err.to_string()
            .contains("18446744073709551615 is outside the Integer range (i64)"),
        "{err}"
    );
    assert!(!run.exists("big"), "nothing was written");
    run.field("small").assign(300).unwrap();
    let err = run.bind::<u8>("small").unwrap().fetch().unwrap_err();
    assert!(
        err.to_string()
            .contains("the stored Integer 300 does not fit a u8"),
        "{err}"
    );
    run.field("neg").assign(-1).unwrap();
    assert!(run.field("neg").fetch_as::<u32>().is_err());

    // A whole value with an out-of-range integer writes nothing at all.
    #[derive(Loggable)]
    struct Counters {
        ok: i64,
        huge: u128,
    }
    let err = run
        .field("c")
        .assign_value(&Counters {
            ok: 1,
            huge: u128::MAX,
        })
        .unwrap_err();
    assert!(err.to_string().contains("\"c/huge\""), "{err}");
    assert!(!run.exists("c/ok"));

    // An enum name that is no variant.
    run.field("o").assign("Adagrad").unwrap();
    let err = run.field("o").fetch_as::<Optimizer>().unwrap_err();
    assert!(
        err.to_string().contains(
            "\"Adagrad\" is not a variant name; expected one of [\"Adam\", \"sgd\", \"AdamW\"]"
        ),
        "{err}"
    );
}

/// Configs in Rust ML code are serde structs: the derive sits next to serde's.
#[derive(Loggable, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
struct ServeConfig {
    #[serde(default)]
    batch_size: u32,
    #[loggable(rename = "lr")]
    #[serde(rename = "learningRate")]
    learning_rate: f64,
    history: FloatSeries,
    #[loggable(skip)]
    #[serde(skip)]
    cache: BTreeMap<String, Vec<u8>>,
}

#[test]
fn works_next_to_serde() {
    let cfg = ServeConfig {
        batch_size: 32,
        learning_rate: 0.1,
        history: FloatSeries,
        cache: BTreeMap::from([("x".to_owned(), vec![1])]),
    };
    let json = serde_json::to_string(&cfg).unwrap();
    assert_eq!(
        json,
        r#"{"batchSize":32,"learningRate":0.1,"history":null}"#
    );
    let back: ServeConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back.learning_rate, 0.1);

    let run = debug_run();
    run.field("cfg").assign_value(&cfg).unwrap();
    let read = run.field("cfg").fetch_as::<ServeConfig>().unwrap();
    assert_eq!(read.batch_size, 32);
    assert_eq!(read.learning_rate, 0.1);
    assert!(read.cache.is_empty(), "skipped fields read back as Default");
    assert!(run.exists("cfg/lr") && !run.exists("cfg/cache"));
    // serde's view and the derive's view may differ; both work.
    run.field("serde").assign_serde(&cfg).unwrap();
    assert!(run.exists("serde/learningRate") && !run.exists("serde/history"));
}

#[test]
fn string_set_is_sys_tags() {
    #[derive(Loggable)]
    struct Sys {
        tags: neptune::StringSet,
        name: String,
    }
    let run = Run::builder().mode(Mode::Debug).tags(["a"]).open().unwrap();
    let sys = run.bind::<Sys>("sys").unwrap();
    sys.tags.add("b").unwrap();
    assert!(sys.tags.fetch().unwrap().contains("b"));
    assert_eq!(sys.name.fetch().unwrap(), "Untitled");
    let err = run.bind::<Sys>("other").err().unwrap().to_string();
    assert!(err.contains("only sys/tags is a StringSet"), "{err}");
}

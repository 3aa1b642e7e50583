//! `#[loggable(...)]` attributes: rename, skip, flatten, rename_all and crate.

use crate::common::debug_run;
use neptune::{FloatSeries, Loggable, Run, Structure};

fn paths(run: &Run, ns: &str) -> Vec<String> {
    fn walk(s: &Structure, prefix: &str, out: &mut Vec<String>) {
        for (name, child) in s.children() {
            let p = if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}/{name}")
            };
            match child {
                Structure::Field(_) => out.push(p),
                Structure::Namespace(_) => walk(child, &p, out),
            }
        }
    }
    let mut out = Vec::new();
    if let Some(s) = run.get_structure().get(ns) {
        walk(s, "", &mut out);
    }
    out.sort();
    out
}

#[derive(Loggable, Debug, Clone, PartialEq, Default)]
struct Optim {
    beta1: f64,
    beta2: f64,
}

#[derive(Loggable, Debug, Clone, PartialEq)]
#[loggable(rename_all = "camelCase")]
struct Params {
    learning_rate: f64,
    #[loggable(rename = "epochs")]
    max_epochs: i64,
    #[loggable(skip)]
    scratch: Vec<String>,
    #[loggable(flatten)]
    optim: Optim,
    batch_size: u32,
    loss_curve: FloatSeries,
}

fn params() -> Params {
    Params {
        learning_rate: 0.1,
        max_epochs: 3,
        scratch: vec!["not logged".into()],
        optim: Optim {
            beta1: 0.9,
            beta2: 0.999,
        },
        batch_size: 64,
        loss_curve: FloatSeries,
    }
}

#[test]
fn rename_skip_flatten_rename_all() {
    let run = debug_run();
    run.field("p").assign_value(&params()).unwrap();
    assert_eq!(
        paths(&run, "p"),
        ["batchSize", "beta1", "beta2", "epochs", "learningRate"]
    );
    let back = run.field("p").fetch_as::<Params>().unwrap();
    assert_eq!(back.scratch, Vec::<String>::new(), "skipped: Default");
    assert_eq!(
        Params {
            scratch: vec!["not logged".into()],
            ..back
        },
        params()
    );

    let h = run.bind::<Params>("p").unwrap();
    assert_eq!(h.learning_rate.path().as_str(), "p/learningRate");
    assert_eq!(h.max_epochs.path().as_str(), "p/epochs");
    // A flattened struct keeps its own handle, with its fields' paths in the parent.
    assert_eq!(h.optim.beta1.path().as_str(), "p/beta1");
    h.loss_curve.append(1.0).unwrap();
    assert_eq!(paths(&run, "p").len(), 6);
    assert!(run.exists("p/lossCurve"));
}

#[test]
fn flatten_collisions_are_found_at_bind_time() {
    #[derive(Loggable)]
    struct Clash {
        beta1: f64,
        #[loggable(flatten)]
        optim: Optim,
    }
    let run = debug_run();
    let err = run.bind::<Clash>("x").err().unwrap().to_string();
    assert!(
        err.contains("\"x/beta1\": two fields of the type have this path"),
        "{err}"
    );
    assert!(run
        .field("x")
        .assign_value(&Clash {
            beta1: 1.0,
            optim: Optim::default()
        })
        .is_err());
    assert!(!run.exists("x"));
}

#[derive(Loggable, Debug, PartialEq)]
#[loggable(crate = "::nep")]
struct ViaRenamedCrate {
    r#type: String,
}

#[test]
fn crate_path_for_a_renamed_dependency() {
    let run = debug_run();
    let v = ViaRenamedCrate {
        r#type: "resnet".into(),
    };
    run.field("model").assign_value(&v).unwrap();
    assert!(run.exists("model/type"), "raw identifiers lose their r#");
    assert_eq!(run.field("model").fetch_as::<ViaRenamedCrate>().unwrap(), v);
    let h = run.bind::<ViaRenamedCrate>("model").unwrap();
    assert_eq!(h.r#type.fetch().unwrap(), "resnet");
}

#[test]
fn unit_and_empty_structs_are_empty_namespaces() {
    #[derive(Loggable, Debug, PartialEq)]
    struct Nothing;
    #[derive(Loggable, Debug, PartialEq)]
    struct Empty {}
    let run = debug_run();
    run.bind::<Nothing>("n").unwrap();
    run.field("e").assign_value(&Empty {}).unwrap();
    assert_eq!(run.field("e").fetch_as::<Empty>().unwrap(), Empty {});
    assert_eq!(run.root().fetch_as::<Nothing>().unwrap(), Nothing);
}

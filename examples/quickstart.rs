//! Quickstart: log a run's parameters, metrics and tags to the embedded store in `./.neptune`,
//! then read them back.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use chrono::{DateTime, Utc};
use neptune::{FloatSeries, Loggable, Mode, Run, StringSeries};

/// The run's configuration: each field becomes a field under `params/`.
#[derive(Loggable, Debug)]
struct Params {
    lr: f64,
    max_epochs: i64,
    optimizer: String,
    use_preprocessing: bool,
}

/// The metrics: `train/loss` can only be appended floats; a typo or a wrong type does not
/// compile.
#[derive(Loggable)]
struct Train {
    loss: FloatSeries,
    acc: FloatSeries,
    notes: StringSeries,
    end: Option<DateTime<Utc>>,
}

#[derive(Loggable)]
struct Experiment {
    params: Params,
    train: Train,
}

fn main() -> neptune::Result<()> {
    // Settings come from the builder, else NEPTUNE_PROJECT / NEPTUNE_MODE / NEPTUNE_HOME.
    let run = Run::builder()
        .project("examples/quickstart")
        .name("quickstart")
        .tags(["quickstart", "linear-decay"])
        .open()?;

    // Typed handles for the whole run, checked against what the run already holds.
    let exp = run.bind::<Experiment>("")?;
    let params = Params {
        lr: 0.001,
        max_epochs: 10,
        optimizer: "Adam".into(),
        use_preprocessing: true,
    };
    run.field("params").assign_value(&params)?;

    for epoch in 0..params.max_epochs {
        let loss = 1.0 / (epoch as f64 + 1.0);
        exp.train.loss.append(loss)?; // a cheap, checked call: no path lookup
        exp.train.acc.append(1.0 - loss / 2.0)?;
        exp.train.notes.append(format!("epoch {epoch} done"))?;
    }
    exp.train.end.assign(Utc::now())?;
    // Untyped fields work too: the first write decides the type.
    run.field("eval/best_epoch").assign(params.max_epochs - 1)?;
    run.tags().add("finished")?;

    let id = run.id().to_owned();
    run.stop()?;

    // Read it back, as another program (or `neptune show`) would.
    let run = Run::builder()
        .project("examples/quickstart")
        .with_id(&id)
        .mode(Mode::ReadOnly)
        .open()?;
    let params: Params = run.field("params").fetch_as()?;
    println!("Logged run {id} to {}", neptune::home_from_env().display());
    println!("params: {params:?}");
    println!("last loss: {}", run.field("train/loss").fetch_last()?);
    println!("tags: {}", run.field("sys/tags").fetch()?);
    run.print_structure();
    println!("Read it back in Rust with:");
    println!(
        "  Run::builder().with_id(\"{id}\").mode(Mode::ReadOnly).open()?.field(\"params\").fetch_as::<Params>()?"
    );
    Ok(())
}

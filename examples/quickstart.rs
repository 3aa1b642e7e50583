//! Quickstart: log a run's parameters, metrics and tags to the embedded store in `./.neptune`,
//! then read them back.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use neptune::{Mode, Run};

fn main() -> neptune::Result<()> {
    // Settings come from the builder, else NEPTUNE_PROJECT / NEPTUNE_MODE / NEPTUNE_HOME.
    let run = Run::builder()
        .project("examples/quickstart")
        .name("quickstart")
        .tags(["quickstart", "linear-decay"])
        .open()?;

    // Single values: Float, Integer, Boolean, String.
    let params = run.field("params");
    params.field("lr").assign(0.001)?;
    params.field("max_epochs").assign(10)?;
    params.field("use_preprocessing").assign(true)?;
    params.field("optimizer").assign("Adam")?;

    // Series: a typed handle is bound once; each append is a cheap, checked call.
    let loss = run.field("train/loss").float_series()?;
    let acc = run.field("train/acc").float_series()?;
    let notes = run.field("train/notes").string_series()?;
    for epoch in 0..10 {
        let l = 1.0 / (epoch as f64 + 1.0);
        loss.append(l)?;
        acc.append(1.0 - l / 2.0)?;
        notes.append(format!("epoch {epoch} done"))?;
    }
    run.field("train/end").assign(chrono::Utc::now())?;
    run.tags().add("finished")?;

    let id = run.id().to_owned();
    run.stop()?;

    // Read it back, as another program (or `neptune show`) would.
    let run = Run::builder()
        .project("examples/quickstart")
        .with_id(&id)
        .mode(Mode::ReadOnly)
        .open()?;
    println!("Logged run {id} to {}", neptune::home_from_env().display());
    println!("params: {}", run.field("params").fetch()?);
    println!("last loss: {}", run.field("train/loss").fetch_last()?);
    println!("tags: {}", run.field("sys/tags").fetch()?);
    run.print_structure();
    println!("Read it back in Rust with:");
    println!("  Run::builder().project(\"examples/quickstart\").with_id(\"{id}\").mode(Mode::ReadOnly).open()?");
    Ok(())
}

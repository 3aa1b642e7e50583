// One mistake in the struct (an unknown attribute) gives one diagnostic: the handle is still
// generated, so the code using it adds no errors.
use neptune::{FloatSeries, Loggable, Mode, Run};

#[derive(Loggable)]
struct Train {
    #[loggable(rename = "loss", hidden)]
    loss: FloatSeries,
    lr: f64,
}

fn main() -> neptune::Result<()> {
    let run = Run::builder().mode(Mode::Debug).open()?;
    let h = run.bind::<Train>("train")?;
    h.loss.append(0.5)?;
    h.lr.assign(0.1)?;
    let _: f64 = h.lr.fetch()?;
    run.field("train").assign_value(&Train { loss: FloatSeries, lr: 0.1 })?;
    Ok(())
}

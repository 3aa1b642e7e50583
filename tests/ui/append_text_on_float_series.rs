use neptune::{FloatSeries, Loggable, Mode, Run};

#[derive(Loggable)]
struct Train {
    loss: FloatSeries,
}

fn main() -> neptune::Result<()> {
    let run = Run::builder().mode(Mode::Debug).open()?;
    let h = run.bind::<Train>("train")?;
    h.loss.append("text")?;
    Ok(())
}

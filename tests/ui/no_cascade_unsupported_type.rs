// An unsupported field type gives one diagnostic, at the field, even where the struct is
// assigned and read back whole.
use neptune::{FloatSeries, Loggable, Mode, Run};

#[derive(Loggable)]
struct Train {
    loss: FloatSeries,
    layers: Vec<u32>,
}

fn main() -> neptune::Result<()> {
    let run = Run::builder().mode(Mode::Debug).open()?;
    let t = run.field("train").fetch_as::<Train>()?;
    run.field("train").assign_value(&t)?;
    Ok(())
}

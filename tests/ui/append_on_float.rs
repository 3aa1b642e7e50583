use neptune::{Loggable, Mode, Run};

#[derive(Loggable)]
struct Params {
    lr: f64,
}

fn main() -> neptune::Result<()> {
    let run = Run::builder().mode(Mode::Debug).open()?;
    let h = run.bind::<Params>("params")?;
    h.lr.append(0.1)?;
    Ok(())
}

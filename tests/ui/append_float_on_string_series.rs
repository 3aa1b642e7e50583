use neptune::{Loggable, Mode, Run, StringSeries};

#[derive(Loggable)]
struct Train {
    tokens: StringSeries,
}

fn main() -> neptune::Result<()> {
    let run = Run::builder().mode(Mode::Debug).open()?;
    let h = run.bind::<Train>("train")?;
    h.tokens.append(1.0)?;
    Ok(())
}

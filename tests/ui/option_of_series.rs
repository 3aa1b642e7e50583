use neptune::{FloatSeries, Loggable};

#[derive(Loggable)]
struct Train {
    loss: Option<FloatSeries>,
}

fn main() {}

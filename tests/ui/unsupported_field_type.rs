use neptune::Loggable;

#[derive(Loggable)]
struct Params {
    lr: f64,
    layers: Vec<u32>,
}

fn main() {}

use neptune::Loggable;

#[derive(Loggable)]
#[loggable(crate = "neptune")]
struct Params {
    lr: f64,
}

fn main() {}

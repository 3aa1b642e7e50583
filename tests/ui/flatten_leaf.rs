use neptune::Loggable;

#[derive(Loggable)]
struct Params {
    #[loggable(flatten)]
    lr: f64,
}

fn main() {}

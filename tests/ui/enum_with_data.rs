use neptune::Loggable;

#[derive(Loggable)]
enum Optimizer {
    Sgd,
    Adam { beta1: f64 },
}

fn main() {}

use neptune::Loggable;

#[derive(Loggable)]
struct Params {
    #[loggable(renamed = "learning_rate")]
    lr: f64,
}

fn main() {}

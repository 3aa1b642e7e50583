use neptune::Loggable;

#[derive(Loggable)]
struct Params {
    #[loggable(rename = "learning_rate", rename = "lr")]
    lr: f64,
}

fn main() {}

use neptune::Loggable;

#[derive(Loggable)]
struct Params {
    #[loggable(rename = "rate")]
    lr: f64,
    #[loggable(rename = "rate")]
    decay: f64,
}

fn main() {}

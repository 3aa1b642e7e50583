use neptune::Loggable;

#[derive(Loggable)]
struct Params(f64, i64);

fn main() {}

use neptune::Loggable;

#[derive(Loggable)]
union Bits {
    f: f64,
    i: i64,
}

fn main() {}

use neptune::Loggable;

#[derive(Loggable)]
#[loggable(rename_all = "Title Case")]
struct Params {
    #[loggable(skip, skip)]
    note: String,
    #[loggable(rename = "a/b")]
    lr: f64,
    #[loggable(default)]
    epochs: i64,
}

fn main() {}

// Mistakes: compile errors first, then the stand-in impls generated from the best-effort IR.
#[derive(Loggable)]
struct Tuple(f64, #[loggable(skip)] String);

#[derive(Loggable)]
struct Attrs {
    #[loggable(rename = "lr", unknown)]
    lr: f64,
    #[loggable(rename = "lr")]
    other: f64,
}

#[derive(Loggable)]
enum WithData {
    A,
    B(u8),
}

#[derive(Loggable)]
union U {
    a: u32,
}

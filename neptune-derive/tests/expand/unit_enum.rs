#[derive(Loggable)]
#[loggable(rename_all = "kebab-case")]
enum Schedule {
    LinearDecay,
    #[loggable(rename = "cos")]
    Cosine,
}

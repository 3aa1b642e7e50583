#[derive(Loggable)]
#[loggable(crate = "::nep")]
struct Metrics<'a, T: Clone, const N: usize>
where
    T: Default,
{
    r#type: T,
    best: Option<f64>,
    #[loggable(skip)]
    name: &'a str,
}

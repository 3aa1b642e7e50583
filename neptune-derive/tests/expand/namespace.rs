#[derive(Loggable)]
#[loggable(rename_all = "camelCase")]
pub struct Params {
    learning_rate: f64,
    #[loggable(rename = "epochs")]
    pub max_epochs: u32,
    #[loggable(skip)]
    cache: Vec<String>,
    #[loggable(flatten)]
    adam: Adam,
    loss: FloatSeries,
}

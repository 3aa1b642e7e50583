//! [`assign_config`]: a burn `Config` as fields of a namespace.

use burn::config::Config;
use neptune_core::{Error, Handler, SerdeOptions};

/// Assigns every field of a burn [`Config`] below a namespace, through the config's serde
/// form (what `config.save(..)` writes): numbers, booleans and strings become Float, Integer,
/// Boolean and String fields, nested configs (an optimizer's, a model's) namespaces, `None`s
/// are skipped, and lists (layer sizes, say) become Strings of their JSON text (`"[64,32]"`).
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use burn::config::Config;
///
/// #[derive(Config, Debug)]
/// struct MlpConfig {
///     #[config(default = 0.01)]
///     lr: f64,
///     hidden: Vec<usize>,
///     dropout: Option<f64>,
/// }
///
/// let run = neptune_core::Run::builder().mode(neptune_core::Mode::Debug).open()?;
/// let config = MlpConfig::new(vec![64, 32]);
/// neptune_burn::assign_config(&run.field("config"), &config)?;
/// assert_eq!(run.field("config/lr").fetch()?.as_f64(), Some(0.01));
/// assert_eq!(run.field("config/hidden").fetch()?.as_str(), Some("[64,32]"));
/// assert!(!run.exists("config/dropout"));
/// # Ok(()) }
/// ```
pub fn assign_config<C: Config>(namespace: &Handler, config: &C) -> neptune_core::Result<()> {
    let at = || namespace.path().map_or(String::new(), |p| p.to_string());
    let mut json = serde_json::to_value(config).map_err(|e| Error::Serialization {
        path: at(),
        reason: format!("the burn config could not be serialized: {e}"),
    })?;
    drop_nulls(&mut json);
    namespace.assign_serde_with(&json, SerdeOptions::stringify_unsupported())
}

/// Removes the `null` members of every object (a config's `None`s), so they are skipped
/// rather than stored as the text `null`; nulls inside lists stay (the list is one String).
/// Walks with a stack of its own: no recursion, whatever the depth.
fn drop_nulls(value: &mut serde_json::Value) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        if let serde_json::Value::Object(map) = v {
            map.retain(|_, m| !m.is_null());
            stack.extend(map.values_mut());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_are_dropped_from_objects_at_any_depth_but_not_from_lists() {
        let mut v = serde_json::json!({
            "a": null,
            "b": {"c": null, "d": 1, "e": {"f": null}},
            "g": [null, 1],
        });
        drop_nulls(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"b": {"d": 1, "e": {}}, "g": [null, 1]})
        );
    }
}

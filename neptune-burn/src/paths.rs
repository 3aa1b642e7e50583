//! Where a burn metric goes in a run: the field paths of the [crate-level layout](crate).

use burn::train::metric::store::Split;

/// The namespace of a split's epoch values, below the split's own namespace.
pub(crate) const EPOCH: &str = "epoch";

/// A burn metric name as one path segment: lowercase, every run of characters that are not
/// letters or digits as one `_`, none at either end (`"Learning Rate"` → `learning_rate`,
/// `"Top-5 Accuracy"` → `top_5_accuracy`). A name with no letter or digit is `metric`, and a
/// metric named like the epoch namespace is `epoch_value`, so it cannot collide with it.
///
/// ```
/// assert_eq!(neptune_burn::metric_segment("Learning Rate"), "learning_rate");
/// assert_eq!(neptune_burn::metric_segment("CPU Memory (GB)"), "cpu_memory_gb");
/// ```
pub fn metric_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut gap = false;
    for c in name.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    match out.as_str() {
        "" => "metric".to_owned(),
        EPOCH => "epoch_value".to_owned(),
        _ => out,
    }
}

/// The namespace of a split: `train`, `valid`, `test`, or `test/<tag>` for a tagged test
/// split (the tag as [`metric_segment`] writes names).
pub(crate) fn split_namespace(split: &Split) -> String {
    match split {
        Split::Train => "train".to_owned(),
        Split::Valid => "valid".to_owned(),
        Split::Test(None) => "test".to_owned(),
        Split::Test(Some(tag)) => format!("test/{}", metric_segment(tag)),
    }
}

/// `split/metric`: the series of a metric's value at each iteration.
pub(crate) fn iteration_path(split: &str, metric: &str) -> String {
    format!("{split}/{metric}")
}

/// `split/epoch/metric`: the series of a metric's value for each whole epoch.
pub(crate) fn epoch_path(split: &str, metric: &str) -> String {
    format!("{split}/{EPOCH}/{metric}")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn segments_are_lowercase_words_joined_by_underscores() {
        assert_eq!(metric_segment("Loss"), "loss");
        assert_eq!(metric_segment("Learning Rate"), "learning_rate");
        assert_eq!(metric_segment("  Top-5  Accuracy "), "top_5_accuracy");
        assert_eq!(metric_segment("a/b"), "a_b");
        assert_eq!(metric_segment("Précision"), "précision");
        assert_eq!(metric_segment("../.."), "metric");
        assert_eq!(metric_segment("Epoch"), "epoch_value");
        // No control or invisible character survives into a path.
        assert_eq!(metric_segment("lo\u{200b}ss\n"), "lo_ss");
    }

    #[test]
    fn splits_and_paths() {
        assert_eq!(split_namespace(&Split::Train), "train");
        assert_eq!(split_namespace(&Split::Valid), "valid");
        assert_eq!(split_namespace(&Split::Test(None)), "test");
        let tag = Split::Test(Some(Arc::new("Hold Out".to_owned())));
        assert_eq!(split_namespace(&tag), "test/hold_out");
        assert_eq!(iteration_path("train", "loss"), "train/loss");
        assert_eq!(
            epoch_path("test/hold_out", "loss"),
            "test/hold_out/epoch/loss"
        );
    }
}

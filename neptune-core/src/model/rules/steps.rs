//! The step rule of series: steps are finite and strictly increasing; a point without a step
//! gets the last step + 1 (or 0 for the first point).

use crate::error::Error;
use crate::model::path::FieldPath;

/// Why a step was refused.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum BadStep {
    NonFinite(f64),
    NotIncreasing { step: f64, last: f64 },
}

impl BadStep {
    /// The error the client reports at the call.
    pub(crate) fn into_error(self, path: &FieldPath) -> Error {
        match self {
            BadStep::NonFinite(step) => Error::InvalidStep {
                path: path.to_string(),
                step,
            },
            BadStep::NotIncreasing { step, last } => Error::NonIncreasingStep {
                path: path.to_string(),
                step,
                last,
            },
        }
    }
}

/// The step of the next point after `last`: `given`, or `last + 1` (0 for the first point).
pub(crate) fn next_step(last: Option<f64>, given: Option<f64>) -> Result<f64, BadStep> {
    let step = given.unwrap_or_else(|| last.map_or(0.0, |l| l + 1.0));
    if !step.is_finite() {
        return Err(BadStep::NonFinite(step));
    }
    match last {
        Some(last) if step <= last => Err(BadStep::NotIncreasing { step, last }),
        _ => Ok(step),
    }
}

/// The step a series point gets after `last`: `given`, or `last + 1` (0 for the first point);
/// `None` when the rule refuses it (not finite, or not after `last`). For importers that must
/// give every point the step the store would, so that a second import finds them.
///
/// ```
/// use neptune_core::rules::assigned_step;
/// assert_eq!(assigned_step(None, None), Some(0.0));
/// assert_eq!(assigned_step(Some(4.0), None), Some(5.0));
/// assert_eq!(assigned_step(Some(4.0), Some(4.5)), Some(4.5));
/// assert_eq!(assigned_step(Some(4.0), Some(4.0)), None);
/// ```
pub fn assigned_step(last: Option<f64>, given: Option<f64>) -> Option<f64> {
    next_step(last, given).ok()
}

/// Which points of a log were kept, for the store: refused points are counted, not reported one
/// by one, and the rest of the log is written.
#[derive(Debug, Default)]
pub(crate) struct StepFilter {
    total: usize,
    /// Points written.
    pub(crate) kept: usize,
    non_finite: usize,
    not_increasing: usize,
    first_bad: Option<(f64, f64)>,
}

impl StepFilter {
    /// Goes through the points' steps once, in order, and hands each point that passes, with
    /// its step, to `keep`, which may still refuse it (`Ok(false)`).
    pub(crate) fn run<E>(
        steps: impl Iterator<Item = Option<f64>>,
        mut last: Option<f64>,
        mut keep: impl FnMut(usize, f64) -> Result<bool, E>,
    ) -> Result<Self, E> {
        let mut f = StepFilter::default();
        for (i, given) in steps.enumerate() {
            f.total += 1;
            match next_step(last, given) {
                Err(BadStep::NonFinite(_)) => f.non_finite += 1,
                Err(BadStep::NotIncreasing { step, last }) => {
                    f.not_increasing += 1;
                    f.first_bad.get_or_insert((step, last));
                }
                Ok(s) => {
                    if keep(i, s)? {
                        last = Some(s);
                        f.kept += 1;
                    }
                }
            }
        }
        Ok(f)
    }

    /// The rejection text for the dropped points (`None` when all were kept); `invalid_files`
    /// counts the points `keep` refused for their file reference.
    pub(crate) fn reason(&self, path: &FieldPath, invalid_files: usize) -> Option<String> {
        let dropped = self.total - self.kept;
        if dropped == 0 {
            return None;
        }
        let mut parts = Vec::new();
        if self.not_increasing > 0 {
            let first = self
                .first_bad
                .map(|(s, l)| format!(" (first: step {s} after step {l})"))
                .unwrap_or_default();
            parts.push(format!(
                "{} with a step not greater than the previous one{first}",
                self.not_increasing
            ));
        }
        if self.non_finite > 0 {
            parts.push(format!("{} with a non-finite step", self.non_finite));
        }
        if invalid_files > 0 {
            parts.push(format!("{invalid_files} with an invalid file reference"));
        }
        Some(format!(
            "series \"{path}\": {dropped} of {} point(s) dropped: {}; steps must be finite \
             and strictly increasing ({} point(s) written)",
            self.total,
            parts.join(", "),
            self.kept
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_step_table() {
        let inf = f64::INFINITY;
        type Case = (Option<f64>, Option<f64>, Result<f64, BadStep>);
        let table: [Case; 10] = [
            (None, None, Ok(0.0)),
            (Some(4.0), None, Ok(5.0)),
            (None, Some(-3.5), Ok(-3.5)),
            (Some(1.0), Some(1.5), Ok(1.5)),
            (
                Some(1.0),
                Some(1.0),
                Err(BadStep::NotIncreasing {
                    step: 1.0,
                    last: 1.0,
                }),
            ),
            (
                Some(2.0),
                Some(1.0),
                Err(BadStep::NotIncreasing {
                    step: 1.0,
                    last: 2.0,
                }),
            ),
            (None, Some(inf), Err(BadStep::NonFinite(inf))),
            (Some(1.0), Some(-inf), Err(BadStep::NonFinite(-inf))),
            // Past 2^53, last + 1 == last: the derived step would not increase.
            (
                Some(1e17),
                None,
                Err(BadStep::NotIncreasing {
                    step: 1e17,
                    last: 1e17,
                }),
            ),
            (Some(-1.0), None, Ok(0.0)),
        ];
        for (last, given, expected) in table {
            assert_eq!(next_step(last, given), expected, "{last:?} then {given:?}");
        }
        assert!(
            matches!(next_step(None, Some(f64::NAN)), Err(BadStep::NonFinite(s)) if s.is_nan())
        );
    }

    #[test]
    fn errors_name_the_path() {
        let p = FieldPath::parse("train/loss").unwrap();
        let e = BadStep::NotIncreasing {
            step: 1.0,
            last: 2.0,
        }
        .into_error(&p);
        assert!(matches!(e, Error::NonIncreasingStep { ref path, .. } if path == "train/loss"));
        let e = BadStep::NonFinite(f64::NAN).into_error(&p);
        assert!(matches!(e, Error::InvalidStep { ref path, .. } if path == "train/loss"));
    }

    #[test]
    fn the_filter_keeps_what_the_rule_allows() {
        let p = FieldPath::parse("s").unwrap();
        let steps = [
            Some(1.0),
            None,
            Some(2.0),
            Some(f64::NAN),
            Some(7.0),
            None,
            Some(0.5),
        ];
        let mut written = Vec::new();
        // The point at index 4 is refused by `keep` (as a bad file reference would be).
        let f = StepFilter::run(steps.into_iter(), Some(0.0), |i, s| {
            if i == 4 {
                return Ok::<_, ()>(false);
            }
            written.push(s);
            Ok(true)
        })
        .unwrap();
        assert_eq!(written, [1.0, 2.0, 3.0]);
        assert_eq!(f.kept, 3);
        let reason = f.reason(&p, 1).unwrap();
        assert_eq!(
            reason,
            "series \"s\": 4 of 7 point(s) dropped: 2 with a step not greater than the previous \
             one (first: step 2 after step 2), 1 with a non-finite step, 1 with an invalid file \
             reference; steps must be finite and strictly increasing (3 point(s) written)"
        );
        let all = StepFilter::run([None, None].into_iter(), None, |_, _| Ok::<_, ()>(true));
        assert_eq!(all.unwrap().reason(&p, 0), None);
    }

    #[test]
    fn the_filter_passes_on_a_failure() {
        let r = StepFilter::run([None].into_iter(), None, |_, _| Err("sql"));
        assert_eq!(r.err(), Some("sql"));
    }
}

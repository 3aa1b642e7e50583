//! The rules of the field model, each written once and used by the client (at the call), the
//! embedded store and the server (on every batch) alike: pure functions over a small lookup of
//! existing fields.
//!
//! - `fields`: which path may hold which type (type, field-as-namespace, namespace-as-field);
//! - `steps`: series steps are finite and strictly increasing;
//! - [`sys`]: the system paths, and which of them users and batches may write;
//! - string limits, series page size, the Datetime range and the object kinds' names (here and
//!   in `kinds`); the clock in [`clock`].

pub mod clock;
pub(crate) mod fields;
mod kinds;
pub(crate) mod steps;
pub mod sys;

pub use steps::assigned_step;
pub use sys::MODEL_STAGES;

/// Longest String field value, in characters; longer values are truncated.
pub const MAX_STRING_LEN: usize = 16384;
/// Longest StringSeries entry, in characters; longer entries are truncated.
pub const MAX_SERIES_STRING_LEN: usize = 1000;

/// Most series points one fetch returns (the client pages by it, the server caps a page at it).
pub const SERIES_PAGE: usize = 100_000;

/// `s` cut to at most `max` characters (never inside a character).
pub fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Whether Unix milliseconds `ms` is a time a Datetime holds (years -262143 to 262142).
pub fn datetime_in_range(ms: i64) -> bool {
    chrono::DateTime::from_timestamp_millis(ms).is_some()
}

/// Unix seconds as Unix milliseconds, when finite and within [`datetime_in_range`].
pub fn timestamp_ms(unix_seconds: f64) -> Option<i64> {
    let ms = (unix_seconds * 1000.0).round();
    // `as` saturates; the range check refuses the saturated values.
    (unix_seconds.is_finite() && ms.abs() < 9.0e15 && datetime_in_range(ms as i64))
        .then_some(ms as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters() {
        let table = [
            ("", 3, ""),
            ("abc", 3, "abc"),
            ("abcd", 3, "abc"),
            ("éé€€", 3, "éé€"),
            ("日本語", 0, ""),
            ("日本語", 10, "日本語"),
        ];
        for (s, max, expected) in table {
            assert_eq!(truncate_chars(s, max), expected, "{s:?} to {max}");
        }
        let long = "€".repeat(MAX_STRING_LEN + 1);
        assert_eq!(
            truncate_chars(&long, MAX_STRING_LEN).chars().count(),
            MAX_STRING_LEN
        );
        assert_eq!((MAX_STRING_LEN, MAX_SERIES_STRING_LEN), (16384, 1000));
    }

    #[test]
    fn timestamps_and_their_range() {
        let table = [
            (0.0, Some(0)),
            (1717171717.5, Some(1717171717500)),
            (-1.25, Some(-1250)),
            (8.0e12, Some(8_000_000_000_000_000)),
            (9.0e12, None),
            (-9.0e12, None),
            (f64::NAN, None),
            (f64::INFINITY, None),
            (f64::MAX, None),
        ];
        for (secs, expected) in table {
            assert_eq!(timestamp_ms(secs), expected, "{secs}");
        }
        assert!(datetime_in_range(0) && datetime_in_range(-8_200_000_000_000_000));
        assert!(!datetime_in_range(i64::MAX) && !datetime_in_range(i64::MIN));
    }
}

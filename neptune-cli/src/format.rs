//! Text for a terminal: numbers, times, aligned tables and sparklines, and the one escape
//! that every stored text goes through before it reaches a terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use neptune_core::{Cell, Value};

use crate::paint;

/// Whether `c` must not reach a terminal as itself: C0 and C1 controls, DEL, the
/// bidirectional overrides and isolates, line and paragraph separators and the zero-width
/// characters. Any of them in a stored value could move the cursor, retitle the terminal,
/// fake a table row or reorder what a reader sees.
fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{feff}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{1b}' => out.push_str("\\e"),
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// A stored text made safe for a terminal: the characters of [`is_unsafe`] are written as
/// escapes (`\e`, `\n`, `\u{202e}`); everything else is left as it is.
pub(crate) fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A message of several lines (an error naming stored paths and values): each line escaped as
/// [`escape`] does, the line breaks kept.
pub(crate) fn escape_lines(s: &str) -> String {
    s.split('\n').map(escape).collect::<Vec<_>>().join("\n")
}

/// A stored text in double quotes, escaped as [`escape`] does, with `\` and `"` escaped too.
pub(crate) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_unsafe(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// JSON text made safe for a terminal, still the same JSON: the characters of [`is_unsafe`]
/// that JSON allows raw in strings (DEL, C1, bidirectional and zero-width characters, line
/// and paragraph separators) are written as `\uXXXX`. JSON escapes the C0 controls itself, so
/// a raw newline in `json` is the document's own layout and stays. Every JSON the CLI prints
/// or writes goes through here.
pub(crate) fn json_text(json: &str) -> Cow<'_, str> {
    let raw = |c: char| is_unsafe(c) && c > '\u{1f}';
    if !json.chars().any(raw) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if raw(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Writes a JSON value as one line of [`json_text`].
pub(crate) fn write_json(
    out: &mut dyn std::io::Write,
    v: &serde_json::Value,
) -> std::io::Result<()> {
    writeln!(out, "{}", json_text(&v.to_string()))
}

/// A float for a person: up to 6 significant digits, exponent form when very large or small.
pub(crate) fn float(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if (1e-4..1e9).contains(&a) {
        let digits = (5 - a.log10().floor() as i32).clamp(0, 10) as usize;
        let s = format!("{v:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    } else {
        let s = format!("{v:.5e}");
        match s.split_once('e') {
            Some((m, e)) => {
                let m = if m.contains('.') {
                    m.trim_end_matches('0').trim_end_matches('.')
                } else {
                    m
                };
                format!("{m}e{e}")
            }
            None => s,
        }
    }
}

/// A time for a person: `2024-05-06 07:08:09` (UTC).
pub(crate) fn time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A table cell for a terminal.
pub(crate) fn cell(c: &Cell) -> String {
    match c {
        Cell::Float(v) => float(*v),
        Cell::Datetime(t) => time(t),
        other => escape(&other.to_string()).into_owned(),
    }
}

/// A field value for a terminal.
pub(crate) fn value(v: &Value) -> String {
    match v {
        Value::Float(x) => float(*x),
        Value::Datetime(t) => time(t),
        Value::String(s) => quoted(s),
        Value::StringSet(s) => {
            let items: Vec<String> = s.iter().map(|m| quoted(m)).collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::GitRef(g) => {
            let branch = g.branch.as_deref().unwrap_or("detached HEAD");
            let dirty = if g.dirty { ", dirty" } else { "" };
            let short: String = g.commit_id.chars().take(12).collect();
            format!(
                "{} on {}{dirty}: {}",
                escape(&short),
                escape(branch),
                quoted(g.message.lines().next().unwrap_or(""))
            )
        }
        other => escape(&other.to_string()).into_owned(),
    }
}

/// Cuts text to `max` characters, ending with `…` when cut.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Lines of a table whose columns are aligned; numbers right-aligned. Every cell is escaped
/// (escaping twice changes nothing). On a colour terminal the header is bold and the rule dim.
pub(crate) fn aligned(header: &[String], rows: &[Vec<String>], numeric: &[bool]) -> String {
    aligned_painted(header, rows, numeric, &[])
}

/// A colour for the cells of one column ([`crate::paint`]).
pub(crate) type Painter = fn(&str) -> String;

/// [`aligned`], with the data cells of column `i` painted by `painters[i]` when given.
pub(crate) fn aligned_painted(
    header: &[String],
    rows: &[Vec<String>],
    numeric: &[bool],
    painters: &[Option<Painter>],
) -> String {
    let safe = |r: &[String]| -> Vec<String> { r.iter().map(|c| escape(c).into_owned()).collect() };
    let header = safe(header);
    let rows: Vec<Vec<String>> = rows.iter().map(|r| safe(r)).collect();
    let (header, rows) = (&header[..], &rows[..]);
    let width = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(width(c));
        }
    }
    let line = |cells: &[String], painters: &[Option<Painter>]| -> String {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i] - width(c);
            if i > 0 {
                l.push_str("  ");
            }
            let c = match painters.get(i).copied().flatten() {
                Some(paint) => paint(c),
                None => c.clone(),
            };
            if numeric.get(i).copied().unwrap_or(false) {
                l.extend(std::iter::repeat_n(' ', pad));
                l.push_str(&c);
            } else {
                l.push_str(&c);
                l.extend(std::iter::repeat_n(' ', pad));
            }
        }
        l.trim_end().to_owned()
    };
    let mut out = String::new();
    out.push_str(&paint::heading(&line(header, &[])));
    out.push('\n');
    let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
    out.push_str(&paint::muted(&line(&rule, &[])));
    out.push('\n');
    for r in rows {
        out.push_str(&line(r, painters));
        out.push('\n');
    }
    out
}

/// A sparkline of `values` in at most `width` characters (each the mean of its slice).
pub(crate) fn sparkline(values: &[f64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() || width == 0 {
        return String::new();
    }
    let n = finite.len();
    let cols = n.min(width);
    let means: Vec<f64> = (0..cols)
        .map(|c| {
            let (a, b) = (c * n / cols, ((c + 1) * n / cols).max(c * n / cols + 1));
            finite[a..b].iter().sum::<f64>() / (b - a) as f64
        })
        .collect();
    let lo = means.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    means
        .iter()
        .map(|m| {
            if hi > lo {
                let i = ((m - lo) / (hi - lo) * 7.0).round() as usize;
                BARS[i.min(7)]
            } else {
                BARS[3]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_well() {
        assert_eq!(float(0.001), "0.001");
        assert_eq!(float(0.1), "0.1");
        assert_eq!(float(1.0), "1");
        assert_eq!(float(123456.789), "123457");
        assert_eq!(float(0.123456789), "0.123457");
        assert_eq!(float(1e-7), "1e-7");
        assert_eq!(float(-2.5e12), "-2.5e12");
        assert_eq!(float(f64::NAN), "NaN");
    }

    #[test]
    fn escapes_what_could_drive_a_terminal() {
        assert_eq!(escape("plain ünïcode ✓"), "plain ünïcode ✓");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(escape("a\u{1b}]0;t\u{7}\nb\r\tc"), r"a\e]0;t\u{7}\nb\r\tc");
        assert_eq!(
            escape("x\u{202e}y\u{2066}\u{200b}\u{feff}\u{7f}\u{9b}"),
            r"x\u{202e}y\u{2066}\u{200b}\u{feff}\u{7f}\u{9b}"
        );
        assert_eq!(
            escape(&escape("\u{1b}")),
            r"\e",
            "escaping twice changes nothing"
        );
        assert_eq!(quoted("say \"hi\"\\\n"), r#""say \"hi\"\\\n""#);
        assert_eq!(escape_lines("a\u{1b}\nb"), "a\\e\nb");
    }

    #[test]
    fn json_keeps_its_meaning_and_loses_its_raw_controls() {
        let text = "a\u{1b}]0;t\u{7}\n\u{7f}\u{85}\u{202e}\u{200b}\u{2028}\u{feff} ✓";
        let v = serde_json::json!({"k\u{202e}": [text], "n": 1});
        let out = json_text(&v.to_string()).into_owned();
        assert!(!out.chars().any(is_unsafe), "{out}");
        assert!(out.contains(r"\u202e") && out.contains(r"\u0085"), "{out}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap(), v);
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        assert_eq!(json_text(&pretty).lines().count(), pretty.lines().count());
        assert!(matches!(json_text("[1, \"plain ✓\"]"), Cow::Borrowed(_)));
    }

    #[test]
    fn sparklines_span_the_range() {
        assert_eq!(
            sparkline(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], 8),
            "▁▂▃▄▅▆▇█"
        );
        assert_eq!(sparkline(&[1.0; 100], 10).chars().count(), 10);
        assert_eq!(sparkline(&[], 10), "");
    }

    #[test]
    fn tables_align() {
        let t = aligned(
            &["id".into(), "lr".into()],
            &[
                vec!["A-1".into(), "0.1".into()],
                vec!["A-10".into(), "10".into()],
            ],
            &[false, true],
        );
        assert_eq!(t, "id     lr\n────  ───\nA-1   0.1\nA-10   10\n");
    }
}

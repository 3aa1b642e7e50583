//! `File::as_html`: fetched series as HTML tables, and line charts as inline SVG.

use std::fmt::Write as _;

use super::value::File;
use crate::handles::handler::FetchedSeries;
use crate::model::values::SeriesValues;

/// Something that renders as a standalone HTML document: fetched series (a table of step,
/// value and timestamp), a [`LineChart`], or your own type.
pub trait ToHtml {
    /// A complete HTML document.
    fn to_html(&self) -> String;
}

/// Escapes text for HTML content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\
         body{{font-family:sans-serif}}table{{border-collapse:collapse}}\
         th,td{{border:1px solid #ccc;padding:2px 8px;text-align:right}}</style></head>\n\
         <body>\n{body}</body></html>\n",
        escape(title)
    )
}

/// An HTML table of a header row and rows of cells (escaped).
pub(crate) fn table<S: AsRef<str>>(headers: &[&str], rows: impl Iterator<Item = Vec<S>>) -> String {
    let mut out = String::from("<table>\n<thead><tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell.as_ref()));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

fn series_table<T: ToString>(v: &SeriesValues<T>) -> String {
    let with_ts = v.timestamps_ms().is_some();
    let headers: &[&str] = if with_ts {
        &["step", "value", "timestamp"]
    } else {
        &["step", "value"]
    };
    let rows = v.iter().map(|e| {
        let mut row = vec![e.step.to_string(), e.value.to_string()];
        if let Some(t) = e.timestamp {
            row.push(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        }
        row
    });
    document("series", &table(headers, rows))
}

impl ToHtml for SeriesValues<f64> {
    fn to_html(&self) -> String {
        series_table(self)
    }
}

impl ToHtml for SeriesValues<String> {
    fn to_html(&self) -> String {
        series_table(self)
    }
}

impl ToHtml for crate::Table {
    /// A row per object, a column per field (empty cells where an object lacks the field).
    fn to_html(&self) -> String {
        let headers: Vec<&str> = self.columns().iter().map(|c| c.path()).collect();
        let rows = self.rows().iter().map(|r| {
            r.cells()
                .iter()
                .map(|c| c.as_ref().map(ToString::to_string).unwrap_or_default())
                .collect::<Vec<String>>()
        });
        document("table", &table(&headers, rows))
    }
}

impl ToHtml for FetchedSeries {
    fn to_html(&self) -> String {
        match self {
            FetchedSeries::Float(v) => v.to_html(),
            FetchedSeries::String(v) => v.to_html(),
        }
    }
}

/// A line chart of one or more float series, rendered as inline SVG (no script, no network).
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use neptune_core::{File, LineChart, Mode, Run};
/// let run = Run::builder().mode(Mode::Debug).open()?;
/// let loss = run.field("train/loss").float_series()?;
/// loss.extend([1.0, 0.5, 0.3, 0.2])?;
/// let chart = LineChart::new("loss").series("train", &loss.fetch_values()?);
/// run.field("charts/loss").upload(File::as_html(&chart))?;
/// assert_eq!(run.field("charts/loss").fetch_extension()?, "html");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineChart {
    title: String,
    lines: Vec<(String, Vec<(f64, f64)>)>,
}

const COLORS: [&str; 6] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
];

impl LineChart {
    /// An empty chart with a title.
    pub fn new(title: impl Into<String>) -> Self {
        LineChart {
            title: title.into(),
            lines: Vec::new(),
        }
    }

    /// Adds a line: the values by step (non-finite values are left out).
    pub fn series(mut self, name: impl Into<String>, values: &SeriesValues<f64>) -> Self {
        let points = values
            .steps()
            .iter()
            .zip(values.values())
            .filter(|(s, v)| s.is_finite() && v.is_finite())
            .map(|(s, v)| (*s, *v))
            .collect();
        self.lines.push((name.into(), points));
        self
    }

    /// Adds a line from (x, y) points.
    pub fn points(
        mut self,
        name: impl Into<String>,
        points: impl IntoIterator<Item = (f64, f64)>,
    ) -> Self {
        let points = points
            .into_iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        self.lines.push((name.into(), points));
        self
    }

    fn svg(&self) -> String {
        let (w, h, m) = (640.0, 360.0, 48.0);
        let all = self.lines.iter().flat_map(|(_, p)| p.iter());
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for &(x, y) in all {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        if !x0.is_finite() {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
        }
        if x1 <= x0 {
            x1 = x0 + 1.0;
        }
        if y1 <= y0 {
            y1 = y0 + 1.0;
        }
        let sx = |x: f64| m + (x - x0) / (x1 - x0) * (w - 2.0 * m);
        let sy = |y: f64| h - m - (y - y0) / (y1 - y0) * (h - 2.0 * m);
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
             <text x=\"{}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">{}</text>\n\
             <line x1=\"{m}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n\
             <line x1=\"{m}\" y1=\"{m}\" x2=\"{m}\" y2=\"{}\" stroke=\"black\"/>\n",
            w / 2.0,
            escape(&self.title),
            h - m,
            w - m,
            h - m,
            h - m
        );
        let _ = write!(
            s,
            "<text x=\"{m}\" y=\"{}\" font-size=\"10\">{}</text>\
             <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>\n\
             <text x=\"4\" y=\"{}\" font-size=\"10\">{}</text>\
             <text x=\"4\" y=\"{}\" font-size=\"10\">{}</text>\n",
            h - m + 14.0,
            fmt_num(x0),
            w - m,
            h - m + 14.0,
            fmt_num(x1),
            h - m,
            fmt_num(y0),
            m + 4.0,
            fmt_num(y1)
        );
        for (i, (name, points)) in self.lines.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let mut d = String::new();
            for (x, y) in points {
                let _ = write!(d, "{:.2},{:.2} ", sx(*x), sy(*y));
            }
            let _ = writeln!(
                s,
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{}\"><title>{}</title></polyline>",
                d.trim_end(),
                escape(name)
            );
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{color}\" text-anchor=\"end\">{}</text>",
                w - m,
                m + 14.0 * i as f64,
                escape(name)
            );
        }
        s.push_str("</svg>\n");
        s
    }
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 1e5 || (v != 0.0 && v.abs() < 1e-3) {
        format!("{v:.3e}")
    } else {
        format!("{}", (v * 1000.0).round() / 1000.0)
    }
}

impl ToHtml for LineChart {
    fn to_html(&self) -> String {
        document(&self.title, &self.svg())
    }
}

impl File {
    /// An HTML file (extension `html`) of a table (a fetched [`Table`](crate::Table) or
    /// series) or a chart ([`LineChart`]).
    ///
    /// ```
    /// # fn main() -> neptune_core::Result<()> {
    /// use neptune_core::{File, Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).open()?;
    /// run.field("acc").extend([0.5, 0.75])?;
    /// let table = File::as_html(&run.field("acc").fetch_values()?);
    /// let html = String::from_utf8(table.read_all()?).unwrap();
    /// assert!(html.contains("<td>0.75</td>"));
    /// # Ok(()) }
    /// ```
    pub fn as_html(value: &(impl ToHtml + ?Sized)) -> File {
        File::from_bytes(value.to_html().into_bytes(), "html")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_is_svg_with_escaped_names() {
        let c = LineChart::new("a<b").points("x&y", [(0.0, 1.0), (1.0, f64::NAN), (2.0, 3.0)]);
        let html = c.to_html();
        assert!(html.contains("<svg"));
        assert!(html.contains("a&lt;b"));
        assert!(html.contains("x&amp;y"));
        assert_eq!(html.matches("<polyline").count(), 1);
        // two finite points
        let poly = html.split("points=\"").nth(1).unwrap();
        assert_eq!(poly.split('"').next().unwrap().split(' ').count(), 2);
        assert!(LineChart::new("empty").to_html().contains("<svg"));
    }
}

//! `neptune plot`: FloatSeries of one or more runs overlaid in a PNG or SVG chart.
//!
//! Every point is fetched; for drawing, each series is cut to at most four points per pixel
//! column of the plot area (the first, lowest, highest and last of the column, in their order,
//! the "M4" reduction), which draws the same line as every point would, spikes included.

use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::format;
use crate::source::{self, Source};
use crate::{exit, CliResult, XAxis};

/// The font shipped with the command (DejaVu Sans, ASCII subset; licence beside it).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans-subset.ttf");

/// Colours of the series, in order (the "tab10" palette).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

const Y_LABEL_AREA: u32 = 72;
const X_LABEL_AREA: u32 = 48;
const MARGIN: u32 = 16;

/// The arguments of `neptune plot`.
pub(crate) struct PlotArgs {
    pub ids: Vec<String>,
    pub paths: Vec<String>,
    pub output: PathBuf,
    pub x: XAxis,
    pub width: u32,
    pub height: u32,
    pub title: Option<String>,
    pub log_y: bool,
}

/// One series to draw: its legend and its (x, y) points after the reduction.
struct Line {
    label: String,
    points: Vec<(f64, f64)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Png,
    Svg,
}

fn kind(p: &Path) -> CliResult<Kind> {
    match p
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => Ok(Kind::Png),
        Some("svg") => Ok(Kind::Svg),
        _ => Err(exit::invalid(format!(
            "cannot tell the chart format of {}: name it .png or .svg",
            p.display()
        ))),
    }
}

/// Reduces points (in drawing order) to at most four per pixel column: first, min, max, last.
pub(crate) fn m4(xs: &[f64], ys: &[f64], x0: f64, x1: f64, columns: usize) -> Vec<(f64, f64)> {
    let columns = columns.max(1);
    let span = if x1 > x0 { x1 - x0 } else { 1.0 };
    let col_of =
        |x: f64| (((x - x0) / span) * columns as f64).clamp(0.0, (columns - 1) as f64) as usize;
    let mut out = Vec::with_capacity((4 * columns).min(xs.len()));
    let mut i = 0;
    while i < xs.len() {
        let col = col_of(xs[i]);
        let start = i;
        let (mut lo, mut hi) = (i, i);
        i += 1;
        while i < xs.len() && col_of(xs[i]) == col {
            if ys[i] < ys[lo] {
                lo = i;
            }
            if ys[i] > ys[hi] {
                hi = i;
            }
            i += 1;
        }
        let end = i - 1;
        let mut keep = [start, lo, hi, end];
        keep.sort_unstable();
        let mut last = usize::MAX;
        for k in keep {
            if k != last {
                out.push((xs[k], ys[k]));
                last = k;
            }
        }
    }
    out
}

pub(crate) fn run(src: &Source, a: &PlotArgs) -> CliResult {
    let out_kind = kind(&a.output)?;
    if a.ids.is_empty() || a.paths.is_empty() {
        return Err(exit::invalid(
            "give at least one run id and one FloatSeries path",
        ));
    }
    if a.width < 200 || a.height < 150 || a.width > 16_384 || a.height > 16_384 {
        return Err(exit::invalid(
            "the chart must be 200×150 to 16384×16384 pixels",
        ));
    }
    // Fetch every series in full.
    let mut raw = Vec::new();
    for id in &a.ids {
        for path in &a.paths {
            let p = source::path(path)?;
            let t = src.field_type(id, &p)?;
            if t != neptune_core::FieldType::FloatSeries {
                return Err(exit::invalid(format!(
                    "\"{path}\" of {id} is a {t}; only FloatSeries can be plotted"
                )));
            }
            let neptune_core::backend::SeriesPage {
                steps,
                values,
                timestamps,
            } = src.float_points(id, &p)?;
            // The steps' memory becomes the x column (times reuse it too).
            let xs: Vec<f64> = match a.x {
                XAxis::Step => steps,
                XAxis::Time => {
                    let mut xs = steps;
                    for (x, t) in xs.iter_mut().zip(&timestamps) {
                        *x = *t as f64 / 1000.0;
                    }
                    xs
                }
                XAxis::Relative => {
                    let t0 = timestamps.iter().copied().min().unwrap_or(0);
                    let mut xs = steps;
                    for (x, t) in xs.iter_mut().zip(&timestamps) {
                        *x = (t - t0) as f64 / 1000.0;
                    }
                    xs
                }
            };
            drop(timestamps);
            let mut ys = values;
            if a.log_y {
                for y in &mut ys {
                    *y = if *y > 0.0 { y.log10() } else { f64::NAN };
                }
            }
            // Non-finite values are not drawn.
            let finite = |(x, y): (&f64, &f64)| x.is_finite() && y.is_finite();
            let (xs, ys) = if xs.iter().zip(&ys).all(finite) {
                (xs, ys)
            } else {
                xs.iter()
                    .zip(&ys)
                    .filter(|p| finite(*p))
                    .map(|(x, y)| (*x, *y))
                    .unzip()
            };
            let label = match (a.ids.len(), a.paths.len()) {
                (_, 1) => id.clone(),
                _ => format!("{id} {path}"),
            };
            raw.push((label, xs, ys));
        }
    }
    let bounds = |it: &mut dyn Iterator<Item = f64>| {
        it.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
    };
    let (mut x0, mut x1) = bounds(&mut raw.iter().flat_map(|r| r.1.iter().copied()));
    let (mut y0, mut y1) = bounds(&mut raw.iter().flat_map(|r| r.2.iter().copied()));
    if !x0.is_finite() {
        return Err("the series have no point to plot".into());
    }
    let columns = a.width.saturating_sub(Y_LABEL_AREA + 2 * MARGIN).max(1) as usize;
    let lines: Vec<Line> = raw
        .into_iter()
        .map(|(label, xs, ys)| Line {
            label,
            points: m4(&xs, &ys, x0, x1, columns),
        })
        .collect();
    if x1 <= x0 {
        (x0, x1) = (x0 - 1.0, x1 + 1.0);
    }
    if y1 <= y0 {
        (y0, y1) = (y0 - 1.0, y1 + 1.0);
    }
    let pad = (y1 - y0) * 0.05;
    let (y0, y1) = (y0 - pad, y1 + pad);
    let title = a.title.clone().unwrap_or_else(|| a.paths.join(", "));
    let chart = Chart {
        title,
        x_axis: a.x,
        log_y: a.log_y,
        x: (x0, x1),
        y: (y0, y1),
        lines,
    };
    register_font();
    let size = (a.width, a.height);
    match out_kind {
        Kind::Svg => {
            let root = SVGBackend::new(&a.output, size).into_drawing_area();
            chart.draw(&root)?;
            root.present().map_err(|e| write_error(&a.output, e))?;
        }
        Kind::Png => {
            let mut buf = vec![0u8; a.width as usize * a.height as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
                chart.draw(&root)?;
                root.present().map_err(|e| write_error(&a.output, e))?;
            }
            write_png(&a.output, a.width, a.height, &buf)?;
        }
    }
    println!("{}", crate::format::escape(&a.output.display().to_string()));
    Ok(())
}

fn write_error(p: &Path, e: impl std::fmt::Display) -> Box<dyn std::error::Error> {
    format!("cannot write the chart {}: {e}", p.display()).into()
}

fn write_png(p: &Path, w: u32, h: u32, rgb: &[u8]) -> CliResult {
    let file = std::fs::File::create(p).map_err(|e| write_error(p, e))?;
    let mut enc = png::Encoder::new(BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| write_error(p, e))?;
    writer
        .write_image_data(rgb)
        .map_err(|e| write_error(p, e))?;
    writer.finish().map_err(|e| write_error(p, e))?;
    Ok(())
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is checked by the tests; a failure only loses the text.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// What is drawn.
struct Chart {
    title: String,
    x_axis: XAxis,
    log_y: bool,
    x: (f64, f64),
    y: (f64, f64),
    lines: Vec<Line>,
}

fn x_label(axis: XAxis, span: f64, v: f64) -> String {
    match axis {
        XAxis::Step => format::float(v),
        XAxis::Time => {
            let t =
                chrono::DateTime::from_timestamp_millis((v * 1000.0) as i64).unwrap_or_default();
            if span > 2.0 * 86_400.0 {
                t.format("%m-%d %H:%M").to_string()
            } else if span > 120.0 {
                t.format("%H:%M").to_string()
            } else {
                t.format("%H:%M:%S").to_string()
            }
        }
        XAxis::Relative => {
            let s = v.max(0.0);
            if span > 7200.0 {
                format!("{}h", format::float(s / 3600.0))
            } else if span > 120.0 {
                format!("{}m", format::float(s / 60.0))
            } else {
                format!("{}s", format::float(s))
            }
        }
    }
}

impl Chart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> CliResult
    where
        DB::ErrorType: 'static,
    {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| -> Box<dyn std::error::Error> {
            format!("drawing the chart failed: {e}").into()
        };
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(MARGIN)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(self.x.0..self.x.1, self.y.0..self.y.1)
            .map_err(err)?;
        let span = self.x.1 - self.x.0;
        let axis = self.x_axis;
        let log = self.log_y;
        let x_fmt = move |v: &f64| x_label(axis, span, *v);
        let y_fmt = move |v: &f64| {
            if log {
                format::float(10f64.powf(*v))
            } else {
                format::float(*v)
            }
        };
        let x_desc = match self.x_axis {
            XAxis::Step => "step",
            XAxis::Time => "time (UTC)",
            XAxis::Relative => "time since the first point",
        };
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .bold_line_style(RGBColor(205, 205, 205))
            .light_line_style(RGBColor(240, 240, 240))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(err)?;
        for (i, line) in self.lines.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            // Consecutive points on the same pixel draw nothing: keep one.
            let mut last = None;
            let points: Vec<(f64, f64)> = line
                .points
                .iter()
                .copied()
                .filter(|p| {
                    let px = chart.backend_coord(p);
                    let keep = last != Some(px);
                    last = Some(px);
                    keep
                })
                .collect();
            // Segment by segment: plotters joins a thick polyline's segments with mitres that
            // shoot across the image at the sharp turns of a spike.
            let style = color.stroke_width(2);
            let segments = points
                .windows(2)
                .map(move |w| PathElement::new(vec![w[0], w[1]], style));
            // A lone point: a short dash.
            let dx = (self.x.1 - self.x.0) / 300.0;
            let dot = (points.len() == 1).then(|| {
                let (x, y) = points[0];
                PathElement::new(vec![(x - dx, y), (x + dx, y)], style)
            });
            chart
                .draw_series(segments.chain(dot))
                .map_err(err)?
                .label(line.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn m4_keeps_spikes_and_order() {
        let xs: Vec<f64> = (0..1000).map(f64::from).collect();
        let mut ys = vec![0.0; 1000];
        ys[500] = 100.0;
        ys[501] = -50.0;
        let out = m4(&xs, &ys, 0.0, 999.0, 10);
        assert!(out.len() <= 40);
        assert!(out.contains(&(500.0, 100.0)) && out.contains(&(501.0, -50.0)));
        assert!(out.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(out.first(), Some(&(0.0, 0.0)));
        assert_eq!(out.last(), Some(&(999.0, 0.0)));
        // Fewer points than columns: all kept.
        assert_eq!(m4(&[1.0, 2.0], &[3.0, 4.0], 1.0, 2.0, 100).len(), 2);
    }

    #[test]
    fn the_shipped_font_loads() {
        assert!(plotters::style::register_font("test-font", FontStyle::Normal, FONT).is_ok());
    }
}

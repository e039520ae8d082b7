//! Drawing: a figure is a main panel and an optional inset, each a set of curves on linear or
//! logarithmic axes, written as SVG and PNG with plotters.
//!
//! Logarithmic axes are drawn in `log10` space with labels `1e<k>`. Text needs a TrueType font
//! (plotters lays text out with it, for SVG too): `EPM_FONT`, else the usual system paths
//! (DejaVu, Liberation, Arial).

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::series::DashedLineSeries;

use crate::error::CliError;

/// How a curve is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    /// A solid line.
    Line,
    /// A dashed line (fits, guides).
    Dashed,
    /// Markers only.
    Points,
    /// A line with markers.
    LinePoints,
}

/// One curve.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text (none: not in the legend).
    pub label: Option<String>,
    /// The points, in data units.
    pub points: Vec<(f64, f64)>,
    /// Colour.
    pub color: RGBColor,
    /// Style.
    pub style: Style,
}

/// One set of axes.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Title.
    pub title: String,
    /// Axis labels.
    pub x_label: String,
    /// Axis labels.
    pub y_label: String,
    /// Logarithmic x axis.
    pub x_log: bool,
    /// Logarithmic y axis.
    pub y_log: bool,
    /// The curves.
    pub series: Vec<Series>,
    /// Vertical lines with a label (regime boundaries).
    pub marks: Vec<(f64, String)>,
    /// Fixed y range (data units), else from the data.
    pub y_range: Option<(f64, f64)>,
    /// As an inset: where it goes, `(left, top, right, bottom)` as fractions of the figure's
    /// width and height; `None`: top right, `(0.56, 0.09, 0.97, 0.51)`.
    pub place: Option<(f64, f64, f64, f64)>,
}

impl Panel {
    /// An empty panel.
    pub fn new(title: &str, x_label: &str, y_label: &str, x_log: bool, y_log: bool) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x_log,
            y_log,
            series: vec![],
            marks: vec![],
            y_range: None,
            place: None,
        }
    }
}

/// A figure: a main panel and perhaps an inset (top right unless the inset says otherwise).
#[derive(Debug, Clone)]
pub struct Figure {
    /// The main panel.
    pub main: Panel,
    /// The inset.
    pub inset: Option<Panel>,
}

/// A palette for curves at several temperatures.
pub fn palette(i: usize) -> RGBColor {
    const COLORS: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
        RGBColor(255, 127, 14),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(23, 190, 207),
    ];
    COLORS[i % COLORS.len()]
}

/// Grey, for the random model.
pub const GREY: RGBColor = RGBColor(150, 150, 150);

fn to_plot(v: f64, log: bool) -> Option<f64> {
    match log {
        true if v > 0.0 && v.is_finite() => Some(v.log10()),
        true => None,
        false if v.is_finite() => Some(v),
        false => None,
    }
}

/// A tick label: on a log axis spanning two decades or more only the decades are labelled.
fn axis_label(v: f64, log: bool, span: f64) -> String {
    if log {
        if (v - v.round()).abs() < 1e-9 {
            format!("1e{}", v.round() as i64)
        } else if span >= 2.0 {
            String::new()
        } else {
            format!("{:.2e}", 10f64.powf(v))
        }
    } else {
        let a = v.abs();
        if a != 0.0 && !(1e-3..1e4).contains(&a) {
            format!("{v:.1e}")
        } else {
            format!("{}", (v * 1e4).round() / 1e4)
        }
    }
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.04).max(1e-9);
    (lo - pad, hi + pad)
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    small: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let points: Vec<Vec<(f64, f64)>> = p
        .series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .filter_map(|&(x, y)| Some((to_plot(x, p.x_log)?, to_plot(y, p.y_log)?)))
                .collect()
        })
        .collect();
    let x = range(points.iter().flatten().map(|p| p.0));
    let y = match p.y_range {
        Some((a, b)) => (
            to_plot(a, p.y_log).unwrap_or(-1.0),
            to_plot(b, p.y_log).unwrap_or(1.0),
        ),
        None => range(points.iter().flatten().map(|p| p.1)),
    };
    let (title_size, label_size) = if small { (14, 12) } else { (22, 16) };
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", title_size))
        .margin(if small { 6 } else { 12 })
        .x_label_area_size(if small { 28 } else { 42 })
        .y_label_area_size(if small { 44 } else { 64 })
        .build_cartesian_2d(x.0..x.1, y.0..y.1)?;
    let (xl, yl) = (p.x_log, p.y_log);
    let (xs, ys) = (x.1 - x.0, y.1 - y.0);
    chart
        .configure_mesh()
        .x_desc(p.x_label.as_str())
        .y_desc(p.y_label.as_str())
        .label_style(("sans-serif", label_size))
        .x_labels(10)
        .y_labels(8)
        .x_label_formatter(&|v| axis_label(*v, xl, xs))
        .y_label_formatter(&|v| axis_label(*v, yl, ys))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (s, pts) in p.series.iter().zip(&points) {
        let color = s.color;
        let drawn = match s.style {
            Style::Line | Style::LinePoints => {
                chart.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
            }
            Style::Dashed => chart.draw_series(DashedLineSeries::new(
                pts.clone(),
                8,
                5,
                color.stroke_width(2),
            ))?,
            Style::Points => chart.draw_series(
                pts.iter()
                    .map(|&(a, b)| Circle::new((a, b), 2, color.filled())),
            )?,
        };
        if let Some(label) = &s.label {
            drawn.label(label.as_str()).legend(move |(a, b)| {
                PathElement::new(vec![(a, b), (a + 16, b)], color.stroke_width(2))
            });
        }
        if s.style == Style::LinePoints {
            chart.draw_series(
                pts.iter()
                    .map(|&(a, b)| Circle::new((a, b), 2, color.filled())),
            )?;
        }
    }
    for (mark, label) in &p.marks {
        if let Some(m) = to_plot(*mark, p.x_log) {
            chart.draw_series(DashedLineSeries::new(
                vec![(m, y.0), (m, y.1)],
                4,
                4,
                BLACK.mix(0.5).stroke_width(1),
            ))?;
            chart.draw_series(std::iter::once(Text::new(
                label.clone(),
                (m, y.1 - 0.06 * (y.1 - y.0)),
                ("sans-serif", label_size),
            )))?;
        }
    }
    if p.series.iter().any(|s| s.label.is_some()) {
        chart
            .configure_series_labels()
            .label_font(("sans-serif", label_size - 2))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::LowerLeft)
            .draw()?;
    }
    Ok(())
}

fn draw_figure<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, f: &Figure) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    draw_panel(&root, &f.main, false)?;
    if let Some(inset) = &f.inset {
        let (w, h) = root.dim_in_pixel();
        let (left, top, right, bottom) = inset.place.unwrap_or((0.56, 0.09, 0.97, 0.51));
        let area = root.clone().shrink(
            ((w as f64 * left) as u32, (h as f64 * top) as u32),
            (
                (w as f64 * (right - left)) as u32,
                (h as f64 * (bottom - top)) as u32,
            ),
        );
        area.fill(&WHITE)?;
        draw_panel(&area, inset, true)?;
    }
    root.present()?;
    Ok(())
}

/// Registers a TrueType font (as `sans-serif`) for plotters' text, once; false when none is
/// found (see the module documentation).
pub fn font_ready() -> bool {
    static READY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *READY.get_or_init(|| {
        let candidates = std::env::var("EPM_FONT").into_iter().chain(
            [
                "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/TTF/DejaVuSans.ttf",
                "/usr/share/fonts/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
                "/System/Library/Fonts/Supplemental/Arial.ttf",
                "/Library/Fonts/Arial.ttf",
                "C:\\Windows\\Fonts\\arial.ttf",
            ]
            .map(String::from),
        );
        for path in candidates {
            if let Ok(bytes) = std::fs::read(&path) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return true;
                }
            }
        }
        false
    })
}

/// Writes `base.svg` and `base.png`. Returns the files written.
pub fn save(f: &Figure, base: &Path) -> Result<Vec<PathBuf>, CliError> {
    if !font_ready() {
        return Err(CliError::Usage(
            "no TrueType font found to draw figures: install one (Debian: fonts-dejavu-core) or \
             set EPM_FONT=/path/to/font.ttf"
                .into(),
        ));
    }
    let fail =
        |e: Box<dyn std::error::Error>| CliError::Usage(format!("drawing {}: {e}", base.display()));
    let svg = base.with_extension("svg");
    let mut text = String::new();
    draw_figure(
        SVGBackend::with_string(&mut text, (900, 640)).into_drawing_area(),
        f,
    )
    .map_err(fail)?;
    epm::output::write_atomic(&svg, text.as_bytes())?;
    let png = base.with_extension("png");
    // The encoder goes by the extension: the temporary file ends in .png too.
    let tmp = base.with_extension("tmp.png");
    draw_figure(BitMapBackend::new(&tmp, (900, 640)).into_drawing_area(), f).map_err(fail)?;
    std::fs::rename(&tmp, &png).map_err(|e| CliError::Io {
        path: png.clone(),
        source: e,
    })?;
    Ok(vec![svg, png])
}

//! The paper's figures (Ferrero, Martens & Barrat, PRL 2014, Figs. 2 and 3) drawn from run
//! directories ([`values`]: the paper's numbers; [`report`]: each measured number beside them).

use std::path::{Path, PathBuf};

use epm::fit::master_curve::{CollapseOptions, master_curve};
use epm::observables::Table;
use epm::output::{Manifest, RunDirectory};

use crate::collect::finished_runs;
use crate::error::CliError;
use crate::figures::{Figure, GREY, Panel, Series, Style, palette, save};

pub mod report;
pub mod values;

pub use report::report;

/// A figure of the paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PaperFigure {
    /// D(t), thermal and random.
    Fig2a,
    /// S(q,t) ballistic collapse, T = 0.2.
    Fig2b,
    /// S(q,t) crossover collapse, T = 0.07.
    Fig2c,
    /// S(q,t) diffusive collapse, T = 0.2.
    Fig2d,
    /// P(u) rescaled by sqrt(a).
    Fig3a,
    /// Psi(a tau) / a.
    Fig3b,
    /// C_u(t) with the CTRW inset.
    Fig3c,
    /// C_sigma vs a t.
    Fig3d,
}

impl PaperFigure {
    /// Every figure.
    pub const ALL: [PaperFigure; 8] = [
        PaperFigure::Fig2a,
        PaperFigure::Fig2b,
        PaperFigure::Fig2c,
        PaperFigure::Fig2d,
        PaperFigure::Fig3a,
        PaperFigure::Fig3b,
        PaperFigure::Fig3c,
        PaperFigure::Fig3d,
    ];

    /// `fig2a`, ...
    pub fn name(self) -> &'static str {
        match self {
            PaperFigure::Fig2a => "fig2a",
            PaperFigure::Fig2b => "fig2b",
            PaperFigure::Fig2c => "fig2c",
            PaperFigure::Fig2d => "fig2d",
            PaperFigure::Fig3a => "fig3a",
            PaperFigure::Fig3b => "fig3b",
            PaperFigure::Fig3c => "fig3c",
            PaperFigure::Fig3d => "fig3d",
        }
    }

    /// The figure called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The thermal temperatures it needs, and those whose random twin it needs.
    pub fn temperatures(self) -> (Vec<f64>, Vec<f64>) {
        const FIG3: [f64; 6] = [0.04, 0.05, 0.07, 0.1, 0.15, 0.2];
        match self {
            PaperFigure::Fig2a => (vec![0.05, 0.07, 0.1, 0.2], vec![0.05, 0.07, 0.1, 0.2]),
            PaperFigure::Fig2b | PaperFigure::Fig2d => (vec![0.2], vec![]),
            PaperFigure::Fig2c => (vec![0.07], vec![]),
            // The paper's random model at a ~ 0.0034 is the twin of T = 0.07.
            _ => (FIG3.to_vec(), vec![0.07]),
        }
    }
}

/// A finished run's manifest and tables.
#[derive(Clone)]
pub struct RunData {
    /// Its directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Thermal model (else random).
    pub thermal: bool,
    /// Temperature (a random run: its twin's).
    pub temperature: f64,
}

impl RunData {
    /// The table `name`.
    pub fn table(&self, name: &str) -> Option<Table> {
        RunDirectory::create(&self.dir)
            .and_then(|d| d.table(name))
            .ok()
    }

    /// A fitted or measured number.
    pub fn quantity(&self, name: &str) -> Option<f64> {
        self.manifest.quantity(name).map(|q| q.value)
    }

    /// Mean activity.
    pub fn activity(&self) -> f64 {
        self.quantity("mean_activity").unwrap_or(f64::NAN)
    }

    fn window(&self, regime: &str) -> Option<(f64, f64)> {
        Some((
            self.quantity(&format!("regime_{regime}_start"))?,
            self.quantity(&format!("regime_{regime}_end"))?,
        ))
    }
}

/// The finished runs of a directory (its `runs/` subdirectory if there is one).
pub fn load_runs(dir: &Path) -> Result<Vec<RunData>, CliError> {
    let runs_dir = if dir.join("runs").is_dir() {
        dir.join("runs")
    } else {
        dir.to_path_buf()
    };
    Ok(finished_runs(&runs_dir)?
        .into_iter()
        .filter_map(|r| {
            Some(RunData {
                thermal: r.model == "thermal",
                temperature: r.temperature?,
                dir: r.dir,
                manifest: r.manifest,
            })
        })
        .collect())
}

fn find(runs: &[RunData], thermal: bool, t: f64) -> Option<&RunData> {
    runs.iter()
        .find(|r| r.thermal == thermal && (r.temperature - t).abs() < 1e-9)
}

fn column_pairs(t: &Table, x: &str, y: &str) -> Vec<(f64, f64)> {
    match (t.column(x), t.column(y)) {
        (Some(xs), Some(ys)) => xs.into_iter().zip(ys).collect(),
        _ => vec![],
    }
}

fn thermal_sorted(runs: &[RunData]) -> Vec<&RunData> {
    let mut v: Vec<&RunData> = runs.iter().filter(|r| r.thermal).collect();
    v.sort_by(|a, b| a.temperature.total_cmp(&b.temperature));
    v
}

/// `(q, t, S)` rows of a run.
fn structure_rows(run: &RunData) -> Vec<(f64, f64, f64)> {
    run.table("structure_factor")
        .map(|t| epm::analysis::structure_rows(&t))
        .unwrap_or_default()
}

/// A line `c x^s` through the point `(x0, y0)`, over `[x0, x1]`.
fn guide(x0: f64, y0: f64, x1: f64, s: f64, label: &str) -> Series {
    let n = 20;
    Series {
        label: Some(label.into()),
        points: (0..=n)
            .map(|i| {
                let x = x0 * (x1 / x0).powf(i as f64 / n as f64);
                (x, y0 * (x / x0).powf(s))
            })
            .collect(),
        color: plotters::style::BLACK,
        style: Style::Dashed,
    }
}

fn fig2a(runs: &[RunData]) -> Figure {
    let mut main = Panel::new(
        "Fig. 2a: D(t) = <dr^2> / 4t",
        "t [tau]",
        "D [lattice^2 / tau]",
        true,
        true,
    );
    for (i, r) in thermal_sorted(runs).iter().enumerate() {
        if let Some(t) = r.table("msd") {
            main.series.push(Series {
                label: Some(format!("T = {}", r.temperature)),
                points: column_pairs(&t, "t", "D"),
                color: palette(i),
                style: Style::LinePoints,
            });
        }
        if let Some(twin) = find(runs, false, r.temperature)
            && let Some(t) = twin.table("msd")
        {
            main.series.push(Series {
                label: (i == 0).then(|| "random model (same a)".to_string()),
                points: column_pairs(&t, "t", "D"),
                color: GREY,
                style: Style::Line,
            });
        }
    }
    // The regimes of the coldest run that shows a crossover.
    if let Some(r) = thermal_sorted(runs)
        .into_iter()
        .find(|r| r.window("subdiffusive").is_some())
    {
        if let Some((_, end)) = r.window("ballistic") {
            main.marks.push((end, "I | II".into()));
        }
        if let Some((_, end)) = r.window("subdiffusive") {
            main.marks.push((end, "II | III".into()));
        }
    }
    Figure { main, inset: None }
}

/// A collapse figure: `S` against `q^n t` in a window, the fitted curve, the raw data inset.
fn collapse_figure(
    title: &str,
    run: Option<&RunData>,
    regime: &str,
    n_fixed: Option<f64>,
    gamma_fixed: Option<f64>,
) -> (Figure, Option<epm::fit::master_curve::MasterCurve>) {
    let mut main = Panel::new(title, "q^n t", "S(q, t)", true, false);
    main.y_range = Some((0.0, 1.02));
    let mut inset = Panel::new("raw data", "t [tau]", "S", true, false);
    inset.y_range = Some((0.0, 1.02));
    // The collapsed curves run along the top and fall on the right: the inset goes below,
    // between the legend (lower left) and the fall.
    inset.place = Some((0.40, 0.45, 0.65, 0.82));
    let Some(run) = run else {
        main.title = format!("{title} (no run)");
        return (Figure { main, inset: None }, None);
    };
    let rows = structure_rows(run);
    let mut qs: Vec<f64> = rows.iter().map(|r| r.0).collect();
    qs.sort_by(f64::total_cmp);
    qs.dedup();
    for (i, &q) in qs.iter().enumerate() {
        inset.series.push(Series {
            label: None,
            points: rows
                .iter()
                .filter(|r| r.0 == q)
                .map(|r| (r.1, r.2))
                .collect(),
            color: palette(i),
            style: Style::Line,
        });
    }
    let Some((a, b)) = run.window(regime) else {
        main.title = format!("{title} (no {regime} regime in this run)");
        return (
            Figure {
                main,
                inset: Some(inset),
            },
            None,
        );
    };
    let mut options = CollapseOptions::window(a, b);
    options.n = n_fixed;
    options.gamma = gamma_fixed;
    let fit = master_curve(&rows, options).ok();
    let n = fit.map_or(n_fixed.unwrap_or(1.0), |f| f.n.0);
    main.x_label = format!("q^{n:.3} t");
    for (i, &q) in qs.iter().enumerate() {
        main.series.push(Series {
            label: Some(format!("q = {q:.3}")),
            points: rows
                .iter()
                .filter(|r| r.0 == q && r.1 >= a && r.1 <= b)
                .map(|r| (q.powf(n) * r.1, r.2))
                .collect(),
            color: palette(i),
            style: Style::Points,
        });
    }
    if let Some(f) = fit {
        let xs: Vec<f64> = main
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .collect();
        let (lo, hi) = xs
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(l, h), &x| (l.min(x), h.max(x)));
        if lo.is_finite() && hi > lo {
            main.series.push(Series {
                label: Some(format!(
                    "exp(-{:.3e} x^{:.3}), n = {:.3}",
                    f.alpha.0, f.gamma.0, f.n.0
                )),
                points: (0..=60)
                    .map(|i| {
                        let x = lo * (hi / lo).powf(i as f64 / 60.0);
                        (x, (-f.alpha.0 * x.powf(f.gamma.0)).exp())
                    })
                    .collect(),
                color: plotters::style::BLACK,
                style: Style::Dashed,
            });
        }
    }
    (
        Figure {
            main,
            inset: Some(inset),
        },
        fit,
    )
}

fn fig3a(runs: &[RunData]) -> Figure {
    let mut main = Panel::new(
        "Fig. 3a: P(u), rescaled by sqrt(a)",
        "u / sqrt(a)",
        "sqrt(a) P(u)",
        true,
        true,
    );
    let mut inset = Panel::new("raw", "u", "P(u)", true, true);
    let all = rescaled_curves(
        runs,
        ("displacement_distribution", "u", "P(u)"),
        |a, (u, p)| (u / a.sqrt(), p * a.sqrt()),
        &mut main,
        &mut inset,
    );
    add_guides(&mut main, &all, &[(1.0, "u^1", 0.1), (-3.0, "u^-3", 0.9)]);
    Figure {
        main,
        inset: Some(inset),
    }
}

/// The curves `(x, y)` of `table` of every run, thermal ones coloured by temperature and
/// random ones grey: raw in `inset`, rescaled by the run's activity (`scale(a, point)`) in
/// `main`. Returns every rescaled point (for the guides).
fn rescaled_curves(
    runs: &[RunData],
    (table, x, y): (&str, &str, &str),
    scale: impl Fn(f64, (f64, f64)) -> (f64, f64),
    main: &mut Panel,
    inset: &mut Panel,
) -> Vec<(f64, f64)> {
    let mut all = vec![];
    let thermal = thermal_sorted(runs);
    let curves = thermal
        .iter()
        .enumerate()
        .map(|(i, r)| (Some(i), *r))
        .chain(runs.iter().filter(|r| !r.thermal).map(|r| (None, r)));
    for (i, r) in curves {
        let Some(t) = r.table(table) else {
            continue;
        };
        let a = r.activity();
        let raw: Vec<(f64, f64)> = column_pairs(&t, x, y)
            .into_iter()
            .filter(|p| p.1 > 0.0)
            .collect();
        let (color, label) = match i {
            Some(i) => (palette(i), format!("T = {}", r.temperature)),
            None => (GREY, format!("random, a = {a:.2e}")),
        };
        let scaled: Vec<(f64, f64)> = raw.iter().map(|&p| scale(a, p)).collect();
        all.extend(scaled.iter().copied());
        main.series.push(Series {
            label: Some(label),
            points: scaled,
            color,
            style: Style::LinePoints,
        });
        inset.series.push(Series {
            label: None,
            points: raw,
            color,
            style: Style::Line,
        });
    }
    all
}

/// Power-law guides through the data's cloud: `(slope, label, where along x in log)`.
fn add_guides(panel: &mut Panel, points: &[(f64, f64)], guides: &[(f64, &str, f64)]) {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|p| p.0 > 0.0 && p.1 > 0.0)
        .collect();
    if pts.len() < 2 {
        return;
    }
    let (lo, hi) = pts.iter().fold((f64::INFINITY, 0.0f64), |(l, h), p| {
        (l.min(p.0), h.max(p.0))
    });
    for &(slope, label, at) in guides {
        let x0 = lo * (hi / lo).powf((at - 0.15).max(0.0));
        let x1 = lo * (hi / lo).powf((at + 0.15).min(1.0));
        // Anchor at the data's largest y near x0.
        let y0 = pts
            .iter()
            .filter(|p| (p.0 / x0).ln().abs() < 0.5)
            .map(|p| p.1)
            .fold(0.0f64, f64::max);
        if y0 > 0.0 {
            panel.series.push(guide(x0, y0 * 2.0, x1, slope, label));
        }
    }
}

fn fig3b(runs: &[RunData]) -> Figure {
    let mut main = Panel::new("Fig. 3b: Psi(a tau) / a", "a tau_ev", "Psi / a", true, true);
    let mut inset = Panel::new("raw", "tau_ev [tau]", "Psi", true, true);
    let all = rescaled_curves(
        runs,
        ("waiting_times", "tau_ev", "P(tau_ev)"),
        |a, (t, p)| (a * t, p / a),
        &mut main,
        &mut inset,
    );
    add_guides(&mut main, &all, &[(-2.0 / 3.0, "(a tau)^-2/3", 0.35)]);
    Figure {
        main,
        inset: Some(inset),
    }
}

fn fig3c(runs: &[RunData]) -> Figure {
    let mut main = Panel::new("Fig. 3c: C_u(t)", "t [tau]", "C_u", true, false);
    for (i, r) in thermal_sorted(runs).iter().enumerate() {
        if let Some(t) = r.table("velocity_correlation") {
            main.series.push(Series {
                label: Some(format!("T = {}", r.temperature)),
                points: column_pairs(&t, "t", "C_u")
                    .into_iter()
                    .filter(|p| p.0 > 0.0)
                    .collect(),
                color: palette(i),
                style: Style::LinePoints,
            });
        }
    }
    for r in runs.iter().filter(|r| !r.thermal) {
        if let Some(t) = r.table("velocity_correlation") {
            main.series.push(Series {
                label: Some(format!("random, a = {:.2e}", r.activity())),
                points: column_pairs(&t, "t", "C_u")
                    .into_iter()
                    .filter(|p| p.0 > 0.0)
                    .collect(),
                color: GREY,
                style: Style::Line,
            });
        }
    }
    main.series.push(Series {
        label: None,
        points: vec![(1e-3, 0.0), (1e9, 0.0)],
        color: GREY,
        style: Style::Dashed,
    });
    // Keep the zero line from stretching the axis: clip it to the data's range.
    let xs: Vec<f64> = main
        .series
        .iter()
        .take(main.series.len() - 1)
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    if let (Some(lo), Some(hi)) = (
        xs.iter().cloned().reduce(f64::min),
        xs.iter().cloned().reduce(f64::max),
    ) {
        main.series.last_mut().expect("pushed").points = vec![(lo, 0.0), (hi, 0.0)];
    }
    let mut inset = Panel::new("CTRW: N(s)", "s [1/tau]", "N(s)", true, true);
    // The coldest run whose CTRW has points (a short cold run may have seen no event).
    let ctrw = thermal_sorted(runs).into_iter().find_map(|r| {
        let t = r.table("ctrw")?;
        (!t.rows.is_empty()).then_some((r, t))
    });
    if let Some((r, t)) = ctrw {
        let pts: Vec<(f64, f64)> = column_pairs(&t, "s", "N")
            .into_iter()
            .filter(|p| p.1 > 0.0)
            .collect();
        inset.title = format!("CTRW from Psi, T = {}", r.temperature);
        inset.series.push(Series {
            label: None,
            points: pts.clone(),
            color: palette(0),
            style: Style::Line,
        });
        add_guides(
            &mut inset,
            &pts,
            &[(-2.0, "s^-2", 0.15), (-5.0 / 3.0, "s^-5/3", 0.7)],
        );
    }
    Figure {
        main,
        inset: Some(inset),
    }
}

fn fig3d(runs: &[RunData]) -> Figure {
    let mut main = Panel::new(
        "Fig. 3d: C_sigma against a t",
        "a t",
        "C_sigma",
        true,
        false,
    );
    let mut inset = Panel::new("raw", "t [tau]", "C_sigma", true, false);
    for (i, r) in thermal_sorted(runs).iter().enumerate() {
        if let Some(t) = r.table("stress_correlation") {
            let raw: Vec<(f64, f64)> = column_pairs(&t, "t", "C_sigma")
                .into_iter()
                .filter(|p| p.0 > 0.0)
                .collect();
            let a = r.activity();
            main.series.push(Series {
                label: Some(format!("T = {}", r.temperature)),
                points: raw.iter().map(|&(t, c)| (a * t, c)).collect(),
                color: palette(i),
                style: Style::LinePoints,
            });
            inset.series.push(Series {
                label: None,
                points: raw,
                color: palette(i),
                style: Style::Line,
            });
        }
    }
    Figure {
        main,
        inset: Some(inset),
    }
}

/// Draws `figures` from `runs` into `out` (PNG and SVG). With `as_in_paper`, each figure
/// takes only the runs the paper shows in it (its temperatures, and the random twin of
/// T = 0.07 in Fig. 3); without, every run given. Returns the files.
pub fn draw(
    figures: &[PaperFigure],
    all_runs: &[RunData],
    out: &Path,
    as_in_paper: bool,
) -> Result<Vec<PathBuf>, CliError> {
    std::fs::create_dir_all(out).map_err(|e| CliError::Io {
        path: out.to_path_buf(),
        source: e,
    })?;
    let mut files = vec![];
    for &f in figures {
        let (thermal, random) = f.temperatures();
        let wanted = |r: &&RunData| {
            let list = if r.thermal { &thermal } else { &random };
            list.iter().any(|t| (t - r.temperature).abs() < 1e-9)
        };
        let selected: Vec<RunData> = all_runs
            .iter()
            .filter(|r| !as_in_paper || wanted(r))
            .cloned()
            .collect();
        let runs = &selected[..];
        let figure = match f {
            PaperFigure::Fig2a => fig2a(runs),
            PaperFigure::Fig2b => {
                collapse_figure(
                    "Fig. 2b: S(q,t), ballistic regime, T = 0.2",
                    find(runs, true, 0.2),
                    "ballistic",
                    None,
                    None,
                )
                .0
            }
            PaperFigure::Fig2c => {
                collapse_figure(
                    "Fig. 2c: S(q,t), crossover regime, T = 0.07",
                    find(runs, true, 0.07),
                    "subdiffusive",
                    None,
                    None,
                )
                .0
            }
            PaperFigure::Fig2d => {
                collapse_figure(
                    "Fig. 2d: S(q,t), diffusive regime, T = 0.2",
                    find(runs, true, 0.2),
                    "diffusive",
                    Some(2.0),
                    Some(1.0),
                )
                .0
            }
            PaperFigure::Fig3a => fig3a(runs),
            PaperFigure::Fig3b => fig3b(runs),
            PaperFigure::Fig3c => fig3c(runs),
            PaperFigure::Fig3d => fig3d(runs),
        };
        files.extend(save(&figure, &out.join(f.name()))?);
    }
    Ok(files)
}

/// The collapse of a run's `S(q, t)` in one of its regimes, `n` and `gamma` free.
pub fn collapse(
    title: &str,
    run: Option<&RunData>,
    regime: &str,
) -> (Figure, Option<epm::fit::master_curve::MasterCurve>) {
    collapse_figure(title, run, regime, None, None)
}

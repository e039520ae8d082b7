//! The paper's figures (Ferrero, Martens & Barrat, PRL 2014, Figs. 2 and 3) drawn from run
//! directories: the runs and which figure needs which (here), Fig. 2 (`fig2.rs`), Fig. 3
//! (`fig3.rs`), the paper's numbers ([`values`]) and each measured number beside them
//! ([`report()`]).

use std::path::{Path, PathBuf};

use epm::observables::Table;
use epm::output::{Manifest, RunDirectory};

use crate::collect::finished_runs;
use crate::error::CliError;
use crate::figures::{Series, Style, save};
use crate::model::Model;

mod fig1;
mod fig2;
mod fig3;
pub mod report;
pub mod values;

use fig1::fig1b;
pub use fig2::collapse;
use fig2::{collapse_figure, fig2a};
use fig3::{fig3a, fig3b, fig3c, fig3d};
pub use report::report;

/// A figure of the paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PaperFigure {
    /// Tracer trajectories at T = 0.1 (Fig. 1, right).
    Fig1b,
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
    pub const ALL: [PaperFigure; 9] = [
        PaperFigure::Fig1b,
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
            PaperFigure::Fig1b => "fig1b",
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

    /// The thermal temperatures it needs, and those whose random twin it needs.
    pub fn temperatures(self) -> (Vec<f64>, Vec<f64>) {
        const FIG3: [f64; 6] = [0.04, 0.05, 0.07, 0.1, 0.15, 0.2];
        match self {
            PaperFigure::Fig1b => (vec![0.1], vec![]),
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
    /// Its model.
    pub model: Model,
    /// Temperature (a random run: its twin's).
    pub temperature: f64,
}

impl RunData {
    /// The table `name`.
    pub fn table(&self, name: &str) -> Option<Table> {
        RunDirectory::open(&self.dir)
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
                model: r.model,
                temperature: r.temperature?,
                dir: r.dir,
                manifest: r.manifest,
            })
        })
        .collect())
}

fn find(runs: &[RunData], model: Model, t: f64) -> Option<&RunData> {
    runs.iter()
        .find(|r| r.model == model && (r.temperature - t).abs() < 1e-9)
}

fn column_pairs(t: &Table, x: &str, y: &str) -> Vec<(f64, f64)> {
    match (t.column(x), t.column(y)) {
        (Some(xs), Some(ys)) => xs.into_iter().zip(ys).collect(),
        _ => vec![],
    }
}

fn thermal_sorted(runs: &[RunData]) -> Vec<&RunData> {
    let mut v: Vec<&RunData> = runs.iter().filter(|r| r.model == Model::Thermal).collect();
    v.sort_by(|a, b| a.temperature.total_cmp(&b.temperature));
    v
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
            let list = if r.model == Model::Thermal {
                &thermal
            } else {
                &random
            };
            list.iter().any(|t| (t - r.temperature).abs() < 1e-9)
        };
        let selected: Vec<RunData> = all_runs
            .iter()
            .filter(|r| !as_in_paper || wanted(r))
            .cloned()
            .collect();
        let runs = &selected[..];
        let figure = match f {
            PaperFigure::Fig1b => fig1b(runs),
            PaperFigure::Fig2a => fig2a(runs),
            PaperFigure::Fig2b => {
                collapse_figure(
                    "Fig. 2b: S(q,t), ballistic regime, T = 0.2",
                    find(runs, Model::Thermal, 0.2),
                    "ballistic",
                    None,
                    None,
                )
                .0
            }
            PaperFigure::Fig2c => {
                collapse_figure(
                    "Fig. 2c: S(q,t), crossover regime, T = 0.07",
                    find(runs, Model::Thermal, 0.07),
                    "subdiffusive",
                    None,
                    None,
                )
                .0
            }
            PaperFigure::Fig2d => {
                collapse_figure(
                    "Fig. 2d: S(q,t), diffusive regime, T = 0.2",
                    find(runs, Model::Thermal, 0.2),
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

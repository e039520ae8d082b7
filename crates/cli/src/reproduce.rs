//! `epm reproduce FIGURE --scale quick|paper --out DIR`: the runs a figure of the paper needs,
//! then the figure and the report.
//!
//! Runs go to `DIR/runs/<name>` (shared between figures; finished ones are skipped, a killed
//! reproduction resumes), figures to `DIR/figures/`, the report to `DIR/report.md`.
//!
//! Scales (L, steps per temperature, warm-up):
//! - `quick`: L = 64, 20 000 to 150 000 steps (colder: longer): `reproduce all` in about 20
//!   minutes on a 2-core machine without a GPU; the regimes show qualitatively.
//! - `paper`: L = 256, 10^6 to 10^7 steps: for a GPU; the estimated time is printed first.
//! - `demo`: the T = 0.1 run and its random twin at L = 64, about 3 minutes on that machine.
//! - `test`: L = 16, a few hundred steps: what CI draws its figures from.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use epm::observables::measurements::Measurements;
use epm::{ActivationConfig, Config, Simulation};

use crate::drive::DriveOptions;
use crate::error::CliError;
use crate::figures::save;
use crate::paper::{PaperFigure, draw, load_runs, report};
use crate::sweep::{Model, RunResult, RunSpec, paper_activity, run_name, run_one};

/// How big the runs are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// About 20 minutes for everything on a 2-core CPU.
    Quick,
    /// The paper's sizes, for a GPU.
    Paper,
    /// The main job's demo.
    Demo,
    /// Tiny, for tests.
    Test,
}

impl Scale {
    /// `quick`, `paper`, `demo` or `test`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "quick" => Some(Scale::Quick),
            "paper" => Some(Scale::Paper),
            "demo" => Some(Scale::Demo),
            "test" => Some(Scale::Test),
            _ => None,
        }
    }

    /// `(L, steps, warm-up steps)` of the runs at temperature `t`.
    pub fn size(self, t: f64) -> (i64, i64, i64) {
        // Colder runs are slower: they get more steps.
        let cold = |hot: i64, mid: i64, cool: i64, cold: i64| match t {
            t if t >= 0.15 => hot,
            t if t >= 0.1 => mid,
            t if t >= 0.07 => cool,
            _ => cold,
        };
        match self {
            Scale::Quick => (
                64,
                cold(20_000, 40_000, 80_000, 150_000),
                cold(2_000, 3_000, 5_000, 10_000),
            ),
            Scale::Paper => (
                256,
                cold(1_000_000, 2_000_000, 5_000_000, 10_000_000),
                cold(50_000, 100_000, 200_000, 500_000),
            ),
            Scale::Demo => (64, 40_000, 3_000),
            Scale::Test => (16, 800, 100),
        }
    }

    /// The configuration of a run at temperature `t` (the random model's activity is settled
    /// from its twin when it runs).
    pub fn config(self, t: f64, model: Model) -> Config {
        let (l, steps, warm_up) = self.size(t);
        let mut c = Config {
            l,
            steps,
            seed: 1,
            activation: match model {
                Model::Thermal => ActivationConfig::Thermal { temperature: t },
                Model::Random => ActivationConfig::Random {
                    activity: paper_activity(t).min(0.5),
                },
            },
            ..Config::default()
        };
        c.observables.warm_up = warm_up;
        if self == Scale::Test {
            c.observables.points_per_level = 8;
            c.observables.shells = 4;
        }
        c
    }
}

/// The runs `figures` need at `scale`: thermal runs first, then the random twins.
pub fn plan(figures: &[PaperFigure], scale: Scale) -> Vec<RunSpec> {
    let mut thermal: Vec<f64> = vec![];
    let mut random: Vec<f64> = vec![];
    for f in figures {
        let (t, r) = f.temperatures();
        thermal.extend(t);
        random.extend(r);
    }
    demo_plan(&mut thermal, &mut random, scale);
    let sort = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.dedup();
    };
    sort(&mut thermal);
    sort(&mut random);
    let mut runs = vec![];
    for &t in &thermal {
        runs.push(RunSpec {
            name: run_name(t, Model::Thermal, 1),
            temperature: t,
            seed: 1,
            model: Model::Thermal,
            config: scale.config(t, Model::Thermal),
            twin: None,
        });
    }
    for &t in &random {
        runs.push(RunSpec {
            name: run_name(t, Model::Random, 1),
            temperature: t,
            seed: 1,
            model: Model::Random,
            config: scale.config(t, Model::Random),
            twin: Some(run_name(t, Model::Thermal, 1)),
        });
    }
    runs
}

/// The demo is the T = 0.1 run and its random twin.
fn demo_plan(thermal: &mut Vec<f64>, random: &mut Vec<f64>, scale: Scale) {
    if scale == Scale::Demo {
        thermal.clear();
        random.clear();
        thermal.push(0.1);
        random.push(0.1);
    }
}

/// Seconds per step with every observer, measured on this device at each lattice size of
/// `runs` (a short run at T = 0.1), and the estimated total.
pub fn estimate(
    runs: &[RunSpec],
    device: &epm::cubecl::Device,
) -> Result<(Duration, Vec<(i64, f64)>), CliError> {
    let mut per_l: Vec<(i64, f64)> = vec![];
    let mut total = 0.0;
    for r in runs {
        let l = r.config.l;
        let seconds = match per_l.iter().find(|p| p.0 == l) {
            Some(p) => p.1,
            None => {
                let mut config = r.config.clone();
                config.activation = ActivationConfig::Thermal { temperature: 0.1 };
                config.observables.warm_up = 0;
                let mut sim = Simulation::new(config, device)?;
                sim.advance(200, &mut [])?;
                let mut m = Measurements::new(&sim)?;
                // First steps with the observers compile their kernels: not timed.
                sim.advance(100, &mut m.observers())?;
                let steps = 300;
                let start = Instant::now();
                sim.advance(steps, &mut m.observers())?;
                let s = start.elapsed().as_secs_f64() / steps as f64;
                per_l.push((l, s));
                s
            }
        };
        total += seconds * r.config.steps as f64;
    }
    Ok((Duration::from_secs_f64(total), per_l))
}

/// Runs what `figures` need and draws them. Returns the report's path, or `None` when a
/// signal stopped the runs (their checkpoints written: run the same command again).
pub fn reproduce(
    figures: &[PaperFigure],
    scale: Scale,
    out: &Path,
    device: &epm::cubecl::Device,
    interrupt: &AtomicBool,
    progress: bool,
) -> Result<Option<PathBuf>, CliError> {
    let runs = plan(figures, scale);
    let runs_dir = out.join("runs");
    std::fs::create_dir_all(&runs_dir).map_err(|e| CliError::Io {
        path: runs_dir.clone(),
        source: e,
    })?;
    let todo: Vec<&RunSpec> = runs
        .iter()
        .filter(|r| !epm::run::Run::is_complete(&runs_dir.join(&r.name)))
        .collect();
    if !todo.is_empty() {
        let todo_owned: Vec<RunSpec> = todo.iter().map(|r| (*r).clone()).collect();
        let (eta, per_l) = estimate(&todo_owned, device)?;
        let rates: Vec<String> = per_l
            .iter()
            .map(|(l, s)| format!("{:.2} ms per step at L = {l}", s * 1e3))
            .collect();
        eprintln!(
            "epm: {} runs to do ({} finished); estimated run time {} ({} on {})",
            todo.len(),
            runs.len() - todo.len(),
            human(eta),
            rates.join(", "),
            epm::device::describe(&device.client())
        );
    }
    for (i, spec) in runs.iter().enumerate() {
        let options = DriveOptions {
            checkpoint_every: Duration::from_secs(300),
            progress,
            label: format!("[{}/{}] {}", i + 1, runs.len(), spec.name),
        };
        if run_one(&runs_dir, spec, device, interrupt, &options, Duration::ZERO)?
            == RunResult::Interrupted
        {
            eprintln!(
                "epm: interrupted; the checkpoints are written: run the same command again to resume"
            );
            return Ok(None);
        }
    }
    let data = load_runs(out)?;
    let figures_dir = out.join("figures");
    let mut files = if scale == Scale::Demo {
        draw(
            &[PaperFigure::Fig2a, PaperFigure::Fig3c],
            &data,
            &figures_dir,
            false,
        )?
    } else {
        draw(figures, &data, &figures_dir, true)?
    };
    if scale == Scale::Demo {
        // The demo's S(q, t): the T = 0.1 run collapsed in its ballistic and crossover regimes.
        files.extend(demo_collapses(&data, &figures_dir)?);
    }
    let header = format!(
        "Scale `{}`; device: {}; runs in `{}`; figures in `{}`.",
        match scale {
            Scale::Quick => "quick",
            Scale::Paper => "paper",
            Scale::Demo => "demo",
            Scale::Test => "test",
        },
        epm::device::describe(&device.client()),
        runs_dir.display(),
        figures_dir.display()
    );
    let report_path = out.join("report.md");
    epm::write_atomic(&report_path, report(&data, &header).as_bytes())?;
    for f in files {
        eprintln!("epm: wrote {}", f.display());
    }
    Ok(Some(report_path))
}

fn demo_collapses(data: &[crate::paper::RunData], dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let run = data.iter().find(|r| r.thermal);
    let mut files = vec![];
    for (regime, name) in [
        ("ballistic", "sq_ballistic"),
        ("subdiffusive", "sq_crossover"),
    ] {
        let title = format!(
            "S(q,t), {regime} regime, T = {}",
            run.map_or(f64::NAN, |r| r.temperature)
        );
        let (figure, _) = crate::paper::collapse(&title, run, regime);
        files.extend(save(&figure, &dir.join(name))?);
    }
    Ok(files)
}

/// `1 h 20 min`, `3 min 10 s`, `12 s`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s >= 86_400 => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
        s if s >= 3600 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_share_runs_and_put_thermal_twins_first() {
        let runs = plan(&PaperFigure::ALL, Scale::Quick);
        let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(runs.iter().filter(|r| r.model == Model::Thermal).count(), 6);
        assert_eq!(runs.iter().filter(|r| r.model == Model::Random).count(), 4);
        for r in runs.iter().filter(|r| r.model == Model::Random) {
            let twin = r.twin.as_deref().unwrap();
            let at = names.iter().position(|n| *n == twin).unwrap();
            assert!(at < names.iter().position(|n| *n == r.name).unwrap());
        }
        for r in &runs {
            r.config.validate().unwrap();
        }
        let total: i64 = runs.iter().map(|r| r.config.steps).sum();
        assert!(total <= 800_000, "quick is about 20 minutes: {total} steps");
        assert_eq!(plan(&[PaperFigure::Fig2b], Scale::Demo).len(), 2);
    }
}

//! `epm reproduce FIGURE --scale quick|paper --out DIR`: the runs a figure of the paper needs,
//! then the figure and the report.
//!
//! Runs go to `DIR/runs/<name>` (shared between figures; finished ones are skipped, a killed
//! reproduction resumes), figures to `DIR/figures/`, the report to `DIR/report.md`.
//!
//! Scales (L, steps per temperature, warm-up):
//! - `quick`: L = 64, 10 000 to 60 000 steps (colder: longer), 8 lags per level, `C_sigma` on
//!   1024 sites: `reproduce all` in 5 to 11 minutes on a 2-core machine without a GPU; the
//!   regimes show qualitatively.
//! - `paper`: L = 256, 10^6 to 10^7 steps: for a GPU; the estimated time is printed first.
//! - `demo`: the T = 0.1 run and its random twin at L = 64, about 3 minutes on that machine.
//! - `test`: L = 16, a few hundred steps: what CI draws its figures from.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use epm::propagator::PropagatorSpec;
use epm::{ActivationConfig, Config};

use crate::drive::DriveOptions;
use crate::error::CliError;
use crate::figures::save;
use crate::model::Model;
use crate::paper::values;
use crate::paper::{PaperFigure, draw, load_runs, report};
use crate::schedule::estimate;
use crate::sweep::{RunResult, RunSpec, run_group, run_name};

/// What `epm reproduce` makes: one figure of the paper, all of them, or the demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// One figure.
    Figure(PaperFigure),
    /// Every figure.
    All,
    /// The main job's demo (D(t), S(q,t) and C_u at T = 0.1 and its random twin).
    Demo,
}

impl Target {
    const VARIANTS: [Target; PaperFigure::ALL.len() + 2] = {
        let mut v = [Target::All; PaperFigure::ALL.len() + 2];
        let mut i = 0;
        while i < PaperFigure::ALL.len() {
            v[i] = Target::Figure(PaperFigure::ALL[i]);
            i += 1;
        }
        v[PaperFigure::ALL.len() + 1] = Target::Demo;
        v
    };
}

/// The figures' names, `all` and `demo`, from [`PaperFigure::ALL`].
impl clap::ValueEnum for Target {
    fn value_variants<'a>() -> &'a [Self] {
        &Self::VARIANTS
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(match self {
            Target::Figure(f) => f.name(),
            Target::All => "all",
            Target::Demo => "demo",
        }))
    }
}

/// How big the runs are (`--scale`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// 5 to 11 minutes for everything on a 2-core CPU.
    Quick,
    /// The paper's sizes, for a GPU.
    Paper,
    /// The main job's demo.
    Demo,
    /// Tiny, for tests.
    Test,
}

impl Scale {
    /// `(L, steps, warm-up steps)` of the runs at temperature `t`.
    pub fn size(self, t: f64) -> (usize, u64, u64) {
        // Colder runs are slower: they get more steps.
        let cold = |hot: u64, mid: u64, cool: u64, cold: u64| match t {
            t if t >= 0.15 => hot,
            t if t >= 0.1 => mid,
            t if t >= 0.07 => cool,
            _ => cold,
        };
        match self {
            Scale::Quick => (
                64,
                cold(10_000, 20_000, 30_000, 60_000),
                cold(1_000, 2_000, 3_000, 6_000),
            ),
            Scale::Paper => (
                256,
                cold(1_000_000, 2_000_000, 5_000_000, 10_000_000),
                cold(50_000, 100_000, 200_000, 500_000),
            ),
            Scale::Demo => (64, 20_000, 2_000),
            Scale::Test => (16, 800, 100),
        }
    }

    /// The configuration of a run at temperature `t` with the propagator conventions
    /// `propagator` (the random model's activity is settled from its twin when it runs).
    pub fn config(self, t: f64, model: Model, propagator: PropagatorSpec) -> Config {
        let (l, steps, warm_up) = self.size(t);
        let mut c = Config {
            l,
            steps,
            seed: 1,
            activation: match model {
                Model::Thermal => ActivationConfig::Thermal { temperature: t },
                Model::Random => ActivationConfig::Random {
                    activity: values::activity(t).min(0.5),
                },
            },
            propagator,
            ..Config::default()
        };
        c.observables.warm_up = warm_up;
        // Fig. 1 (right): the tracers' paths at T = 0.1, about 2000 records over the run.
        if model == Model::Thermal && (t - 0.1).abs() < 1e-9 {
            c.output.trajectory_every = (steps / 2000).max(1);
        }
        match self {
            // The correlators cost per step whether or not anything moved: on a CPU, fewer
            // lags per level (4 per octave) and C_sigma on a quarter of the sites.
            Scale::Quick | Scale::Demo => {
                c.observables.points_per_level = 8;
                c.observables.stress_correlation_sites = 1024;
            }
            Scale::Test => {
                c.observables.points_per_level = 8;
                c.observables.shells = 4;
            }
            Scale::Paper => {}
        }
        c
    }
}

/// The runs `figures` need at `scale`: thermal runs first, then the random twins.
pub fn plan(figures: &[PaperFigure], scale: Scale, propagator: PropagatorSpec) -> Vec<RunSpec> {
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
            config: scale.config(t, Model::Thermal, propagator),
            twin: None,
        });
    }
    for &t in &random {
        runs.push(RunSpec {
            name: run_name(t, Model::Random, 1),
            temperature: t,
            seed: 1,
            model: Model::Random,
            config: scale.config(t, Model::Random, propagator),
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

/// How [`reproduce`] and `epm sweep` run their runs.
#[derive(Debug, Clone, Copy)]
pub struct Running {
    /// Replicas of an ensemble at most (1: one run at a time).
    pub ensemble: usize,
    /// Runs that may go together do, whatever the timing says (`--together`).
    pub together: bool,
    /// Progress bars on stderr.
    pub progress: bool,
    /// The run options of every run (`--profile`, `--sparse-max-active`).
    pub run: epm::RunOptions,
}

/// Runs what `figures` need and draws them. Returns the report's path, or `None` when a
/// signal stopped the runs (their checkpoints written: run the same command again).
pub fn reproduce(
    figures: &[PaperFigure],
    scale: Scale,
    propagator: PropagatorSpec,
    out: &Path,
    device: &epm::cubecl::Device,
    interrupt: &AtomicBool,
    running: Running,
) -> Result<Option<PathBuf>, CliError> {
    let Running {
        ensemble,
        together,
        progress,
        run,
    } = running;
    let runs = plan(figures, scale, propagator);
    let runs_dir = out.join("runs");
    std::fs::create_dir_all(&runs_dir).map_err(|e| CliError::Io {
        path: runs_dir.clone(),
        source: e,
    })?;
    // Finished runs are reused: never those made with other conventions.
    if let Some(other) = load_runs(out)?
        .into_iter()
        .find(|r| r.manifest.config.propagator != propagator)
    {
        return Err(CliError::Usage(format!(
            "{} was made with the propagator {:?}, not {:?}: give another --out",
            other.dir.display(),
            other.manifest.config.propagator,
            propagator
        )));
    }
    let todo = runs
        .iter()
        .any(|r| !epm::run::Run::is_complete(&runs_dir.join(&r.name)));
    let groups = if todo {
        let eta = estimate(&runs, &runs_dir, ensemble, together, device)?;
        eprintln!("{}", eta.line(runs.len(), device));
        eta.groups
    } else {
        vec![]
    };
    for group in groups {
        let i = group[0];
        let group: Vec<&RunSpec> = group.iter().map(|&k| &runs[k]).collect();
        let options = DriveOptions {
            checkpoint_every: Duration::from_secs(300),
            progress,
            label: format!("[{}/{}] {}", i + 1, runs.len(), group[0].name),
            run,
        };
        if run_group(
            &runs_dir,
            &group,
            device,
            interrupt,
            &options,
            Duration::ZERO,
        )? == RunResult::Interrupted
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
    let header = format!("{header}\n\nPropagator: {propagator:?}.");
    let (markdown, json) = report(&data, &header);
    let report_path = out.join("report.md");
    epm::output::write_atomic(&report_path, markdown.as_bytes())?;
    epm::output::write_atomic(&out.join("report.json"), json.as_bytes())?;
    for f in files {
        eprintln!("epm: wrote {}", f.display());
    }
    Ok(Some(report_path))
}

fn demo_collapses(data: &[crate::paper::RunData], dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let run = data.iter().find(|r| r.model == Model::Thermal);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::eventful_fraction;

    #[test]
    fn eventful_fraction_follows_the_expected_activity() {
        let spec = PropagatorSpec::default();
        let at = |t: f64| eventful_fraction(&Scale::Quick.config(t, Model::Thermal, spec));
        // L = 64: a(0.04) L^2 = 4096 * 3.1 exp(-12) = 0.078 active sites on average,
        // a(0.1) L^2 = 104.
        assert!((at(0.04) - 0.0751).abs() < 0.001, "{}", at(0.04));
        assert!(at(0.1) > 0.999_999);
        let mut quiet = Scale::Quick.config(0.1, Model::Random, spec);
        quiet.activation = ActivationConfig::Random { activity: 1e-12 };
        assert!(eventful_fraction(&quiet) < 1e-8);
    }

    #[test]
    fn plans_share_runs_and_put_thermal_twins_first() {
        let runs = plan(&PaperFigure::ALL, Scale::Quick, PropagatorSpec::default());
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
        let total: u64 = runs.iter().map(|r| r.config.steps).sum();
        assert!(total <= 800_000, "quick is about 20 minutes: {total} steps");
        assert_eq!(
            plan(&[PaperFigure::Fig2b], Scale::Demo, PropagatorSpec::LITERAL).len(),
            2
        );
    }
}

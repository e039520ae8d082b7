//! `epm reproduce FIGURE --scale quick|paper --out DIR`: the runs a figure of the paper needs,
//! then the figure and the report.
//!
//! Runs go to `DIR/runs/<name>` (shared between figures; finished ones are skipped, a killed
//! reproduction resumes), figures to `DIR/figures/`, the report to `DIR/report.md`.
//!
//! Scales (L, steps per temperature, warm-up):
//! - `quick`: L = 64, 10 000 to 60 000 steps (colder: longer), 8 lags per level, `C_sigma` on
//!   1024 sites: `reproduce all` within 20 minutes on a 2-core machine without a GPU; the
//!   regimes show qualitatively.
//! - `paper`: L = 256, 10^6 to 10^7 steps: for a GPU; the estimated time is printed first.
//! - `demo`: the T = 0.1 run and its random twin at L = 64, about 3 minutes on that machine.
//! - `test`: L = 16, a few hundred steps: what CI draws its figures from.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use epm::observables::measurements::Measurements;
use epm::propagator::PropagatorSpec;
use epm::{ActivationConfig, Config, Simulation};

use crate::drive::DriveOptions;
use crate::error::CliError;
use crate::figures::save;
use crate::model::Model;
use crate::paper::values;
use crate::paper::{PaperFigure, draw, load_runs, report};
use crate::sweep::{RunResult, RunSpec, ensemble_groups, run_group, run_name};

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

/// The cost of a step with every observer on this device at one lattice size: `eventful`
/// when some site is active (the transforms run), `quiet` when none is (most steps at low T).
#[derive(Debug, Clone, Copy)]
pub struct StepCost {
    /// Lattice size.
    pub l: usize,
    /// Seconds per step with events.
    pub eventful: f64,
    /// Seconds per step without.
    pub quiet: f64,
}

/// Seconds per step of a short run of `config` with every observer, after 100 untimed steps
/// (the observers' kernels compile then).
fn time_steps(config: Config, device: &epm::cubecl::Device) -> Result<f64, CliError> {
    let mut sim = Simulation::new(config, device)?;
    sim.advance(200, &mut [])?;
    let mut m = Measurements::new(&sim.view())?;
    sim.advance(100, &mut m.observers())?;
    let steps = 300;
    let start = Instant::now();
    sim.advance(steps, &mut m.observers())?;
    Ok(start.elapsed().as_secs_f64() / steps as f64)
}

/// The expected fraction of steps with at least one active site: the number of active sites
/// is about Poisson with mean `a L^2`, `a` the run's activity (thermal: the paper's law, which
/// the default conventions follow within 15 % at low T; book, "The model").
pub fn eventful_fraction(config: &Config) -> f64 {
    let a = match config.activation {
        ActivationConfig::Thermal { temperature } => values::activity(temperature),
        ActivationConfig::Random { activity } => activity,
    };
    1.0 - (-a * config.sites() as f64).exp()
}

/// The cost of a step of an ensemble on this device (every replica's observers on): `one`
/// replica, and all `replicas` of the ensemble. An ensemble runs the transforms at every step
/// where some replica has an event.
#[derive(Debug, Clone, Copy)]
pub struct EnsembleCost {
    /// Lattice size.
    pub l: usize,
    /// Replicas.
    pub replicas: usize,
    /// Seconds per step of one replica alone.
    pub one: f64,
    /// Seconds per step of all the replicas.
    pub all: f64,
}

impl EnsembleCost {
    /// Seconds per step with `b` replicas left (those that finish first leave): between the
    /// costs of one and of all, linear in `b` (flat on a GPU, nearly proportional on a CPU).
    pub fn step(&self, b: usize) -> f64 {
        if self.replicas <= 1 {
            return self.all;
        }
        let slope = (self.all - self.one) / (self.replicas - 1) as f64;
        self.one + slope * (b.max(1) - 1) as f64
    }

    /// Seconds for the ensemble whose replicas run `steps` steps each: every step until the
    /// longest ends, each at the cost of the replicas not yet finished.
    pub fn time(&self, steps: &[u64]) -> f64 {
        let mut sorted = steps.to_vec();
        sorted.sort_unstable();
        let mut done = 0;
        let mut seconds = 0.0;
        for (k, &s) in sorted.iter().enumerate() {
            seconds += self.step(sorted.len() - k) * (s - done) as f64;
            done = s;
        }
        seconds
    }
}

/// Seconds per step of an ensemble of `configs` with every replica's observers, after 100
/// untimed steps.
fn time_ensemble_steps(
    mut configs: Vec<Config>,
    device: &epm::cubecl::Device,
) -> Result<f64, CliError> {
    for c in &mut configs {
        c.observables.warm_up = 0;
    }
    let mut ensemble = epm::Ensemble::new(configs, device)?;
    let replicas = ensemble.replicas();
    ensemble.advance(50, &mut (0..replicas).map(|_| vec![]).collect::<Vec<_>>())?;
    let mut measurements = (0..replicas)
        .map(|r| Measurements::new(&ensemble.view(r)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut observers: Vec<Vec<&mut dyn epm::Observer>> =
        measurements.iter_mut().map(|m| m.observers()).collect();
    ensemble.advance(50, &mut observers)?;
    let steps = 100;
    let start = Instant::now();
    ensemble.advance(steps, &mut observers)?;
    Ok(start.elapsed().as_secs_f64() / steps as f64)
}

/// How long [`reproduce`] will take, and the step costs measured for it.
#[derive(Debug, Clone)]
pub struct Estimate {
    /// The runs' estimated time.
    pub total: Duration,
    /// Runs alone: per lattice size.
    pub single: Vec<StepCost>,
    /// Runs in ensembles: per lattice size and number of replicas.
    pub ensembles: Vec<EnsembleCost>,
    /// The unfinished runs (indices into the plan) in the order they go: each an ensemble,
    /// or one run alone.
    pub groups: Vec<Vec<usize>>,
}

impl Estimate {
    /// The measured costs in words, for the line printed before the runs.
    pub fn costs(&self) -> String {
        let single = self.single.iter().map(|c| {
            format!(
                "alone at L = {}: {:.2} ms per step with events, {:.2} ms without",
                c.l,
                c.eventful * 1e3,
                c.quiet * 1e3
            )
        });
        let ensembles = self.ensembles.iter().map(|c| {
            format!(
                "{} replicas of L = {}: {:.2} ms per step ({:.2} ms for one)",
                c.replicas,
                c.l,
                c.all * 1e3,
                c.one * 1e3
            )
        });
        single.chain(ensembles).collect::<Vec<_>>().join(", ")
    }
}

/// Seconds a run alone takes at `cost`: its expected fraction of eventful steps at the
/// eventful cost, the rest at the quiet one.
fn single_time(cost: &StepCost, config: &Config) -> f64 {
    let f = eventful_fraction(config);
    (f * cost.eventful + (1.0 - f) * cost.quiet) * config.steps as f64
}

/// Which runs of a group that could go as one ensemble do, and the estimated seconds: the
/// `k` with the largest expected fraction of eventful steps together (an ensemble runs the
/// transforms whenever one of its replicas has an event), the others alone (their steps without events cost only the
/// observers), `k` the fastest by the measured costs; `k = 1`: all alone. On a GPU an
/// ensemble costs about one run and every run joins; on a CPU, where it costs about the sum of
/// its replicas, runs that are mostly quiet stay alone. Returns the indices of the ensemble's
/// runs (none, or at least two), most eventful first.
pub fn split(single: &StepCost, ensemble: &EnsembleCost, configs: &[Config]) -> (Vec<usize>, f64) {
    let mut order: Vec<usize> = (0..configs.len()).collect();
    order.sort_by(|&a, &b| {
        eventful_fraction(&configs[b]).total_cmp(&eventful_fraction(&configs[a]))
    });
    let alone: Vec<f64> = order
        .iter()
        .map(|&i| single_time(single, &configs[i]))
        .collect();
    let mut best = (1, alone.iter().sum::<f64>());
    for k in 2..=order.len() {
        let steps: Vec<u64> = order[..k].iter().map(|&i| configs[i].steps).collect();
        let t = ensemble.time(&steps) + alone[k..].iter().sum::<f64>();
        if t < best.1 {
            best = (k, t);
        }
    }
    let together = if best.0 >= 2 {
        order[..best.0].to_vec()
    } else {
        vec![]
    };
    (together, best.1)
}

/// The estimated run time of the unfinished runs among `runs` (in `runs_dir`) and how they
/// go: the groups [`ensemble_groups`] forms (at most `ensemble` replicas), each split by
/// [`split`] into one ensemble and runs alone, whichever the costs measured on this device
/// say is faster. A run alone: the step costs at its lattice size (eventful: T = 0.1; quiet:
/// the random rule at a vanishing activity), weighed by its expected fraction of eventful
/// steps. An ensemble: its step timed with its own replicas, and with one alone, at every
/// step until its longest replica ends ([`EnsembleCost::time`]).
pub fn estimate(
    runs: &[RunSpec],
    runs_dir: &Path,
    ensemble: usize,
    device: &epm::cubecl::Device,
) -> Result<Estimate, CliError> {
    let mut estimate = Estimate {
        total: Duration::ZERO,
        single: vec![],
        ensembles: vec![],
        groups: vec![],
    };
    let mut total = 0.0;
    let all: Vec<&RunSpec> = runs.iter().collect();
    for group in ensemble_groups(&all, ensemble) {
        let pending: Vec<usize> = group
            .iter()
            .filter(|r| !epm::run::Run::is_complete(&runs_dir.join(&r.name)))
            .map(|r| {
                runs.iter()
                    .position(|s| s.name == r.name)
                    .expect("the group's runs are the plan's")
            })
            .collect();
        let Some(&first) = pending.first() else {
            continue;
        };
        let l = runs[first].config.l;
        let single = match estimate.single.iter().find(|c| c.l == l) {
            Some(c) => *c,
            None => {
                let mut config = runs[first].config.clone();
                config.observables.warm_up = 0;
                config.activation = ActivationConfig::Thermal { temperature: 0.1 };
                let eventful = time_steps(config.clone(), device)?;
                config.activation = ActivationConfig::Random { activity: 1e-12 };
                let quiet = time_steps(config, device)?;
                let c = StepCost { l, eventful, quiet };
                estimate.single.push(c);
                c
            }
        };
        let configs: Vec<Config> = pending.iter().map(|&i| runs[i].config.clone()).collect();
        if pending.len() == 1 {
            total += single_time(&single, &configs[0]);
            estimate.groups.push(pending);
            continue;
        }
        let b = pending.len();
        let known = estimate
            .ensembles
            .iter()
            .find(|c| c.l == l && c.replicas == b);
        let cost = match known {
            Some(c) => *c,
            None => {
                let c = EnsembleCost {
                    l,
                    replicas: b,
                    one: time_ensemble_steps(configs[..1].to_vec(), device)?,
                    all: time_ensemble_steps(configs.clone(), device)?,
                };
                estimate.ensembles.push(c);
                c
            }
        };
        let (together, seconds) = split(&single, &cost, &configs);
        total += seconds;
        if !together.is_empty() {
            estimate
                .groups
                .push(together.iter().map(|&k| pending[k]).collect());
        }
        for (k, &i) in pending.iter().enumerate() {
            if !together.contains(&k) {
                estimate.groups.push(vec![i]);
            }
        }
    }
    estimate.total = Duration::from_secs_f64(total);
    Ok(estimate)
}

/// How [`reproduce`] runs its runs.
#[derive(Debug, Clone, Copy)]
pub struct Running {
    /// Replicas of an ensemble at most (1: one run at a time).
    pub ensemble: usize,
    /// Progress bars on stderr.
    pub progress: bool,
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
    let Running { ensemble, progress } = running;
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
        .filter(|r| !epm::run::Run::is_complete(&runs_dir.join(&r.name)))
        .count();
    let groups = if todo > 0 {
        let eta = estimate(&runs, &runs_dir, ensemble, device)?;
        let together: Vec<String> = eta
            .groups
            .iter()
            .filter(|g| g.len() > 1)
            .map(|g| g.len().to_string())
            .collect();
        let how = match together.len() {
            0 => "each alone".to_string(),
            _ => format!(
                "ensembles of {} replicas, the rest alone",
                together.join(" and ")
            ),
        };
        eprintln!(
            "epm: {todo} runs to do ({} finished), {how}; estimated run time {} ({} on {})",
            runs.len() - todo,
            indicatif::HumanDuration(eta.total),
            eta.costs(),
            epm::device::describe(&device.client())
        );
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

    #[test]
    fn quiet_runs_stay_alone_on_a_cpu_and_join_on_a_gpu() {
        let run = |temperature: f64, steps: u64| Config {
            l: 64,
            steps,
            activation: ActivationConfig::Thermal { temperature },
            ..Config::default()
        };
        // T = 0.2: nearly every step has events at L = 64; T = 0.04: few do.
        let configs = [run(0.04, 60_000), run(0.2, 10_000), run(0.15, 10_000)];
        assert!(eventful_fraction(&configs[0]) < 0.1);
        assert!(eventful_fraction(&configs[1]) > 0.99);
        let single = StepCost {
            l: 64,
            eventful: 3.0,
            quiet: 0.3,
        };
        // A CPU: an ensemble step costs about its replicas' dense steps.
        let cpu = EnsembleCost {
            l: 64,
            replicas: 3,
            one: 3.0,
            all: 8.0,
        };
        let (together, seconds) = split(&single, &cpu, &configs);
        assert_eq!(together, vec![1, 2], "the two eventful runs together");
        let alone_cold = single_time(&single, &configs[0]);
        assert!((seconds - (cpu.time(&[10_000, 10_000]) + alone_cold)).abs() < 1e-6);
        // A GPU: an ensemble step costs about one run's. Eventful runs all join; the long
        // quiet one still stays alone (in an ensemble its quiet steps would run the transforms).
        let gpu = EnsembleCost {
            one: 0.2,
            all: 0.25,
            ..cpu
        };
        let single_gpu = StepCost {
            eventful: 0.2,
            quiet: 0.05,
            ..single
        };
        let eventful = [run(0.1, 20_000), run(0.2, 20_000), run(0.15, 20_000)];
        let (together, seconds) = split(&single_gpu, &gpu, &eventful);
        assert_eq!(together.len(), 3, "every eventful run joins");
        assert!((seconds - 0.25 * 20_000.0).abs() < 1e-6);
        let (together, _) = split(&single_gpu, &gpu, &configs);
        assert_eq!(together, vec![1, 2]);
        // Never slower than each alone.
        let slow = EnsembleCost {
            one: 3.0,
            all: 30.0,
            ..cpu
        };
        let (together, seconds) = split(&single, &slow, &configs);
        assert!(together.is_empty());
        let alone: f64 = configs.iter().map(|c| single_time(&single, c)).sum();
        assert!((seconds - alone).abs() < 1e-6);
    }

    #[test]
    fn an_ensemble_costs_less_as_its_replicas_finish() {
        // One replica 1 s per step, four 4 s: b replicas cost b s.
        let cost = EnsembleCost {
            l: 64,
            replicas: 4,
            one: 1.0,
            all: 4.0,
        };
        assert_eq!(cost.step(3), 3.0);
        // 10 steps with four, 10 with two, 20 with one.
        assert_eq!(cost.time(&[40, 10, 20, 10]), 40.0 + 20.0 + 20.0);
        // Flat, as on a GPU.
        let flat = EnsembleCost {
            one: 2.0,
            all: 2.0,
            ..cost
        };
        assert_eq!(flat.time(&[5, 30]), 60.0);
    }

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

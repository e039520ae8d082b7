//! Which runs go together as ensembles, and how long they take: `epm sweep` and
//! `epm reproduce` time the step on this device (each run alone; each
//! ensemble they could form, and one of its replicas), then group the runs that are faster
//! together and estimate the total before they start.

use std::path::Path;
use std::time::{Duration, Instant};

use epm::observables::measurements::Measurements;
use epm::{ActivationConfig, Config, Simulation};

use crate::error::CliError;
use crate::paper::values;
use crate::sweep::{RunSpec, ensemble_groups};

/// The cost of a run's step alone with every observer on this device, timed on the run itself:
/// its steps with and without events as it makes them, each through the update it takes (the
/// transforms, or at low activity the sparse update of its few sites).
#[derive(Debug, Clone, Copy)]
pub struct AloneCost {
    /// Lattice size.
    pub l: usize,
    /// The run's expected activity ([`expected_activity`]).
    pub activity: f64,
    /// Its step.
    pub time: StepTime,
}

/// The steps timed for a run: about 50 with events by its [`eventful_fraction`], at least 300
/// and at most 3000 (at T = 0.04 and L = 64 the law expects an event in one step of 13).
fn timed_steps(config: &Config) -> u64 {
    (50.0 / eventful_fraction(config).max(1e-9)).clamp(300.0, 3000.0) as u64
}

/// Steps before the observers record, the last 200 of them timed. A run's activity at L = 64
/// is near its steady state by then, even at T = 0.04; its steps with events are fewer than
/// the Poisson law of [`eventful_fraction`] says (at T = 0.05 36 % against 58 %: the activity
/// is about half the paper's there, and thermal events come in bursts).
const SETTLE: u64 = 500;

/// `config` as it is timed: its observers' warm-up [`SETTLE`] steps.
fn timed(config: &Config) -> Config {
    let mut config = config.clone();
    config.observables.warm_up = SETTLE;
    config
}

/// Seconds per step of a run or an ensemble, measured on this device.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepTime {
    /// In the warm-up (the observers look but do not record).
    pub bare: f64,
    /// With every observer.
    pub observed: f64,
}

impl StepTime {
    /// Seconds for `steps` steps of which the first `warm_up` are the warm-up.
    pub fn time(&self, steps: u64, warm_up: u64) -> f64 {
        let warm = warm_up.min(steps);
        self.bare * warm as f64 + self.observed * (steps - warm) as f64
    }
}

/// The step of a run or an ensemble made with [`timed`], which `advance(n)` advances `n` steps
/// with every observer: in the warm-up the last 200 of [`SETTLE`] steps, then `steps` after 100
/// more (the observers' kernels compile then).
fn time_step(
    steps: u64,
    mut advance: impl FnMut(u64) -> Result<(), epm::SimError>,
) -> Result<StepTime, CliError> {
    let mut per_step = |n: u64| -> Result<f64, CliError> {
        let start = Instant::now();
        advance(n)?;
        Ok(start.elapsed().as_secs_f64() / n as f64)
    };
    per_step(SETTLE - 200)?;
    let bare = per_step(200)?;
    per_step(100)?;
    let observed = per_step(steps)?;
    Ok(StepTime { bare, observed })
}

/// The step of `config` alone on this device ([`time_step`] over [`timed_steps`]).
fn time_alone(config: &Config, device: &epm::cubecl::Device) -> Result<StepTime, CliError> {
    let mut sim = Simulation::new(timed(config), device)?;
    let mut m = Measurements::new(&sim.view())?;
    time_step(timed_steps(config), |n| sim.advance(n, &mut m.observers()))
}

/// A run's expected activity: the random rule's own, the thermal rule's from the paper's
/// Arrhenius law (which the default conventions follow within 15 % at low T; book, "The
/// model"), at most 0.5.
pub fn expected_activity(config: &Config) -> f64 {
    match config.activation {
        ActivationConfig::Thermal { temperature } => values::activity(temperature).min(0.5),
        ActivationConfig::Random { activity } => activity,
    }
}

/// The expected fraction of steps with at least one active site: the number of active sites
/// is about Poisson with mean `a L^2`, `a` the run's [`expected_activity`].
pub fn eventful_fraction(config: &Config) -> f64 {
    1.0 - (-expected_activity(config) * config.sites() as f64).exp()
}

/// The cost of a step of an ensemble on this device (every replica's observers on): `one`
/// replica, and all `replicas` of the ensemble; `bare`, all of them in the warm-up.
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
    /// Seconds per step of all the replicas in the warm-up.
    pub bare: f64,
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

    /// Seconds for the ensemble whose replicas run `steps` steps each, the first `warm_up`
    /// the warm-up: every step until the longest ends, each at the
    /// cost of the replicas not yet finished.
    pub fn time(&self, steps: &[u64], warm_up: u64) -> f64 {
        let mut sorted = steps.to_vec();
        sorted.sort_unstable();
        let warm = warm_up.min(sorted.first().copied().unwrap_or(0));
        let mut done = 0;
        let mut seconds = (self.bare - self.all) * warm as f64;
        for (k, &s) in sorted.iter().enumerate() {
            seconds += self.step(sorted.len() - k) * (s - done) as f64;
            done = s;
        }
        seconds
    }
}

/// The step of an ensemble of `configs` on this device ([`time_step`] over as many steps as
/// its most eventful replica alone).
fn time_ensemble(configs: &[Config], device: &epm::cubecl::Device) -> Result<StepTime, CliError> {
    let steps = configs.iter().map(timed_steps).min().unwrap_or(300);
    let mut ensemble = epm::Ensemble::new(configs.iter().map(timed).collect(), device)?;
    let mut measurements = (0..ensemble.replicas())
        .map(|r| Measurements::new(&ensemble.view(r)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut observers: Vec<Vec<&mut dyn epm::Observer>> =
        measurements.iter_mut().map(|m| m.observers()).collect();
    time_step(steps, |n| ensemble.advance(n, &mut observers))
}

/// How long the runs will take, how they go, and the step costs measured for it.
#[derive(Debug, Clone)]
pub struct Estimate {
    /// The runs' estimated time.
    pub total: Duration,
    /// Runs alone: per lattice size and expected activity.
    pub single: Vec<AloneCost>,
    /// Runs in ensembles: per lattice size and number of replicas.
    pub ensembles: Vec<EnsembleCost>,
    /// The unfinished runs (indices into the plan) in the order they go: each an ensemble,
    /// or one run alone.
    pub groups: Vec<Vec<usize>>,
}

impl Estimate {
    /// The line printed before the runs: what is left of `runs` runs, how they go, the
    /// estimated time and the costs it comes from.
    pub fn line(&self, runs: usize, device: &epm::cubecl::Device) -> String {
        let todo: usize = self.groups.iter().map(Vec::len).sum();
        let together: Vec<String> = self
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
        format!(
            "epm: {todo} runs to do ({} finished), {how}; estimated run time {} ({} on {})",
            runs - todo,
            indicatif::HumanDuration(self.total),
            self.costs(),
            epm::device::describe(&device.client())
        )
    }

    /// The measured costs in words, for the line printed before the runs.
    pub fn costs(&self) -> String {
        let mut sizes: Vec<usize> = self.single.iter().map(|c| c.l).collect();
        sizes.sort_unstable();
        sizes.dedup();
        let single = sizes.into_iter().map(|l| {
            let ms = || {
                self.single
                    .iter()
                    .filter(|c| c.l == l)
                    .map(|c| c.time.observed * 1e3)
            };
            let (low, high) = (ms().fold(f64::MAX, f64::min), ms().fold(0.0, f64::max));
            if high - low < 0.005 {
                format!("alone at L = {l}: {low:.2} ms per step")
            } else {
                format!("alone at L = {l}: {low:.2} to {high:.2} ms per step, by activity")
            }
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

/// Which runs of a group that could go as one ensemble do, and the estimated seconds: the
/// `k` with the largest expected fraction of eventful steps together (with separate launches
/// an ensemble runs the transforms whenever one of its replicas has an event), the others
/// alone (their steps without events cost only the observers), `k` the fastest by the
/// measured costs; `k = 1`: all alone. `alone[i]`: the step of run `i` alone. On a GPU an ensemble costs about
/// one run and the eventful runs all join; on a CPU, where it costs about the sum of its
/// replicas, few do. Long, mostly quiet runs stay alone on both. Returns the indices of the
/// ensemble's runs (none, or at least two), most eventful first.
pub fn split(alone: &[StepTime], ensemble: &EnsembleCost, configs: &[Config]) -> (Vec<usize>, f64) {
    let mut order: Vec<usize> = (0..configs.len()).collect();
    order.sort_by(|&a, &b| {
        eventful_fraction(&configs[b]).total_cmp(&eventful_fraction(&configs[a]))
    });
    let alone: Vec<f64> = order
        .iter()
        .map(|&i| alone[i].time(configs[i].steps, configs[i].observables.warm_up))
        .collect();
    let mut best = (1, alone.iter().sum::<f64>());
    for k in 2..=order.len() {
        let steps: Vec<u64> = order[..k].iter().map(|&i| configs[i].steps).collect();
        let warm_up = order[..k].iter().map(|&i| configs[i].observables.warm_up);
        let t = ensemble.time(&steps, warm_up.min().unwrap_or(0)) + alone[k..].iter().sum::<f64>();
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
/// say is faster. A run alone: its own step timed in its warm-up and with every observer
/// recording, once per lattice size and expected activity, its warm-up at the first.
/// An ensemble: its step timed with its own replicas, and with one alone, at every step until
/// its longest replica ends ([`EnsembleCost::time`]). `together`: every group's
/// unfinished runs go as one ensemble whatever the timing says (`--together`), the estimate
/// that of that ensemble.
pub fn estimate(
    runs: &[RunSpec],
    runs_dir: &Path,
    ensemble: usize,
    together: bool,
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
        let configs: Vec<Config> = pending.iter().map(|&i| runs[i].config.clone()).collect();
        let mut alone = Vec::with_capacity(configs.len());
        for config in &configs {
            let activity = expected_activity(config);
            let known = estimate
                .single
                .iter()
                .find(|c| c.l == l && c.activity == activity);
            alone.push(match known {
                Some(c) => c.time,
                None => {
                    let time = time_alone(config, device)?;
                    estimate.single.push(AloneCost { l, activity, time });
                    time
                }
            });
        }
        if pending.len() == 1 {
            total += alone[0].time(configs[0].steps, configs[0].observables.warm_up);
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
                let all = time_ensemble(&configs, device)?;
                let c = EnsembleCost {
                    l,
                    replicas: b,
                    one: time_ensemble(&configs[..1], device)?.observed,
                    all: all.observed,
                    bare: all.bare,
                };
                estimate.ensembles.push(c);
                c
            }
        };
        if together {
            let steps: Vec<u64> = configs.iter().map(|c| c.steps).collect();
            let warm_up = configs.iter().map(|c| c.observables.warm_up).min();
            total += cost.time(&steps, warm_up.unwrap_or(0));
            estimate.groups.push(pending);
            continue;
        }
        let (joined, seconds) = split(&alone, &cost, &configs);
        total += seconds;
        if !joined.is_empty() {
            estimate
                .groups
                .push(joined.iter().map(|&k| pending[k]).collect());
        }
        for (k, &i) in pending.iter().enumerate() {
            if !joined.contains(&k) {
                estimate.groups.push(vec![i]);
            }
        }
    }
    estimate.total = Duration::from_secs_f64(total);
    Ok(estimate)
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
        // Seconds per step alone: the cold run's steps are mostly without events.
        let at = |observed: f64| StepTime {
            bare: observed,
            observed,
        };
        let alone = [at(0.5), at(3.0), at(3.0)];
        // A CPU: an ensemble step costs about its replicas' dense steps.
        let cpu = EnsembleCost {
            l: 64,
            replicas: 3,
            one: 3.0,
            all: 8.0,
            bare: 8.0,
        };
        let (together, seconds) = split(&alone, &cpu, &configs);
        assert_eq!(together, vec![1, 2], "the two eventful runs together");
        let alone_cold = 0.5 * 60_000.0;
        assert!((seconds - (cpu.time(&[10_000, 10_000], 0) + alone_cold)).abs() < 1e-6);
        // A GPU: an ensemble step costs about one run's. Eventful runs all join; the long
        // quiet one still stays alone (in an ensemble its quiet steps would run the transforms).
        let gpu = EnsembleCost {
            one: 0.2,
            all: 0.25,
            bare: 0.25,
            ..cpu
        };
        let eventful = [run(0.1, 20_000), run(0.2, 20_000), run(0.15, 20_000)];
        let (together, seconds) = split(&[at(0.2); 3], &gpu, &eventful);
        assert_eq!(together.len(), 3, "every eventful run joins");
        assert!((seconds - 0.25 * 20_000.0).abs() < 1e-6);
        let (together, _) = split(&[at(0.06), at(0.2), at(0.2)], &gpu, &configs);
        assert_eq!(together, vec![1, 2]);
        // Never slower than each alone.
        let slow = EnsembleCost {
            one: 3.0,
            all: 30.0,
            ..cpu
        };
        let (together, seconds) = split(&alone, &slow, &configs);
        assert!(together.is_empty());
        let each: f64 = configs
            .iter()
            .zip(alone)
            .map(|(c, a)| a.observed * c.steps as f64)
            .sum();
        assert!((seconds - each).abs() < 1e-6);
    }

    #[test]
    fn runs_faster_alone_stay_alone() {
        // Four runs at T = 0.05, L = 64, 6000 steps each. Measured with observers on the
        // 2-core machine (book, "Ensembles"; the runs' wall times): four together 29.2 s, one
        // after another 27.4 s.
        let cold = Config {
            l: 64,
            steps: 6000,
            activation: ActivationConfig::Thermal { temperature: 0.05 },
            ..Config::default()
        };
        let configs = vec![cold; 4];
        let ensemble = EnsembleCost {
            l: 64,
            replicas: 4,
            one: 1.6e-3,
            all: 29.2 / 6000.0,
            bare: 29.2 / 6000.0,
        };
        let alone = StepTime {
            bare: 27.4 / 4.0 / 6000.0,
            observed: 27.4 / 4.0 / 6000.0,
        };
        let (together, seconds) = split(&[alone; 4], &ensemble, &configs);
        assert!(together.is_empty(), "{together:?}");
        assert!((seconds - 27.4).abs() < 1e-9);
    }

    #[test]
    fn a_run_alone_is_timed_over_about_fifty_steps_with_events() {
        let at = |temperature: f64| {
            timed_steps(&Config {
                l: 64,
                activation: ActivationConfig::Thermal { temperature },
                ..Config::default()
            })
        };
        assert_eq!(at(0.2), 300);
        // T = 0.04: an event in about one step of 13.
        assert!((600..800).contains(&at(0.04)), "{}", at(0.04));
        assert_eq!(at(0.01), 3000);
    }

    #[test]
    fn an_ensemble_costs_less_as_its_replicas_finish() {
        // One replica 1 s per step, four 4 s: b replicas cost b s.
        let cost = EnsembleCost {
            l: 64,
            replicas: 4,
            one: 1.0,
            all: 4.0,
            bare: 2.0,
        };
        assert_eq!(cost.step(3), 3.0);
        // 10 steps with four, 10 with two, 20 with one.
        assert_eq!(cost.time(&[40, 10, 20, 10], 0), 40.0 + 20.0 + 20.0);
        // The first 5 steps the warm-up: 2 s each instead of 4.
        assert_eq!(cost.time(&[40, 10, 20, 10], 5), 10.0 + 20.0 + 20.0 + 20.0);
        // Flat, as on a GPU.
        let flat = EnsembleCost {
            one: 2.0,
            all: 2.0,
            ..cost
        };
        assert_eq!(flat.time(&[5, 30], 0), 60.0);
    }

    #[test]
    fn a_run_costs_its_warm_up_at_the_warm_up_cost() {
        let t = StepTime {
            bare: 0.5,
            observed: 2.0,
        };
        assert_eq!(t.time(100, 10), 5.0 + 180.0);
        assert_eq!(t.time(100, 0), 200.0);
        assert_eq!(t.time(10, 100), 5.0);
    }
}

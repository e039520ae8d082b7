//! Which runs go together as ensembles, and how long they take: `epm sweep` and
//! `epm reproduce` time the step on this device (a run alone, with and without events; each
//! ensemble they could form, and one of its replicas), then group the runs that are faster
//! together and estimate the total before they start.

use std::path::Path;
use std::time::{Duration, Instant};

use epm::observables::measurements::Measurements;
use epm::{ActivationConfig, Config, Simulation};

use crate::error::CliError;
use crate::paper::values;
use crate::sweep::{RunSpec, ensemble_groups};

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

/// How long the runs will take, how they go, and the step costs measured for it.
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
/// transforms whenever one of its replicas has an event), the others alone (their steps
/// without events cost only the observers), `k` the fastest by the measured costs; `k = 1`:
/// all alone. On a GPU an ensemble costs about one run and the eventful runs all join; on a
/// CPU, where it costs about the sum of its replicas, few do. Long, mostly quiet runs stay
/// alone on both. Returns the indices of the ensemble's runs (none, or at least two), most
/// eventful first.
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
/// step until its longest replica ends ([`EnsembleCost::time`]). `together`: every group's
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
        if together {
            let steps: Vec<u64> = configs.iter().map(|c| c.steps).collect();
            total += cost.time(&steps);
            estimate.groups.push(pending);
            continue;
        }
        let (joined, seconds) = split(&single, &cost, &configs);
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
}

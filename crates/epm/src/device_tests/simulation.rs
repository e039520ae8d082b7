//! The whole device pipeline against the CPU reference, and its statistics against the model.

use std::sync::Arc;

use epm::backend::DynActivation;
use epm::reference::CpuSimulation;
use epm::{ActivationConfig, Config, Observer, SimError, Simulation, State};

use super::{Counts, dense_whole, device, simulation, sparse};

/// The transforms at every step, as the reference (the sparse update: `sparse.rs`).
fn dense(config: &Config) -> Simulation {
    simulation(config, sparse(0))
}

fn config(l: usize, activation: ActivationConfig, seed: u64) -> Config {
    Config {
        l,
        seed,
        activation,
        resync_every: 100,
        ..Config::default()
    }
}

fn rule_of(config: &Config) -> Arc<dyn DynActivation> {
    match config.activation {
        ActivationConfig::Thermal { temperature } => Arc::new(epm::Thermal {
            temperature: temperature as f32,
            gamma0: config.gamma0 as f32,
            sigma_y: config.sigma_y as f32,
        }),
        ActivationConfig::Random { activity } => {
            Arc::new(epm::Random::with_activity(activity, config.tau_res))
        }
    }
}

fn compare_with_reference(config: Config, steps: u64) {
    let mut sim = dense(&config);
    let mut cpu =
        CpuSimulation::new(config.clone(), rule_of(&config), State::initial(&config)).unwrap();
    let mut counts = Counts::default();
    let mut cpu_counts = vec![];
    let (mut worst_stress, mut worst_tracer) = (0.0f64, 0.0f64);
    let chunk = 25;
    for done in (0..steps).step_by(chunk) {
        sim.advance(chunk as u64, &mut [&mut counts]).unwrap();
        for _ in 0..chunk {
            cpu_counts.push(cpu.step() as u32);
        }
        let (dev, refr) = (sim.state().unwrap(), cpu.state());
        let step = done + chunk as u64;
        assert_eq!(dev.active, refr.active, "activity differs by step {step}");
        assert_eq!(dev.sign, refr.sign, "signs differ by step {step}");
        assert_eq!(
            dev.plastic, refr.plastic,
            "plastic strain differs by step {step}"
        );
        for (a, b) in dev.stress.iter().zip(&refr.stress) {
            worst_stress = worst_stress.max((a - b).abs() as f64);
        }
        for i in 0..dev.tracers.len() {
            let (a, b) = (dev.tracers.position(i), refr.tracers.position(i));
            worst_tracer = worst_tracer.max((a.0 - b.0).abs()).max((a.1 - b.1).abs());
        }
        assert!(
            worst_stress <= 1e-4,
            "stress differs by {worst_stress} at step {step}"
        );
        assert!(
            worst_tracer <= 1e-5,
            "tracers differ by {worst_tracer} at step {step}"
        );
    }
    assert_eq!(counts.counts, cpu_counts, "per-step active-site counts");
    let total: u64 = cpu_counts.iter().map(|&c| c as u64).sum();
    let quiet = cpu_counts.iter().filter(|&&c| c == 0).count();
    eprintln!(
        "{:?}: {steps} steps, {total} site-steps active, {quiet} steps without events; \
         worst stress difference {worst_stress:e}, worst tracer difference {worst_tracer:e}",
        config.activation
    );
    assert!(total > 1000, "too few events for a meaningful comparison");
}

#[test]
fn thermal_run_equals_the_cpu_reference() {
    // From zero stress at T = 0.1 the first steps have few events (the sparse path, which
    // skips empty steps), later ones many (the dense path).
    compare_with_reference(
        config(32, ActivationConfig::Thermal { temperature: 0.1 }, 11),
        500,
    );
}

#[test]
fn random_run_equals_the_cpu_reference() {
    compare_with_reference(
        config(32, ActivationConfig::Random { activity: 0.05 }, 12),
        500,
    );
}

/// Time average of the activity (active sites / sites), with a standard error from blocks of
/// `block` steps (longer than the correlation time).
struct Activity {
    warm_up: u64,
    block: usize,
    current: Vec<f64>,
    blocks: Vec<f64>,
}

impl Activity {
    fn new(warm_up: u64, block: usize) -> Self {
        Self {
            warm_up,
            block,
            current: vec![],
            blocks: vec![],
        }
    }

    fn mean_and_error(&self) -> (f64, f64) {
        let n = self.blocks.len() as f64;
        let mean = self.blocks.iter().sum::<f64>() / n;
        let var = self.blocks.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, (var / n).sqrt())
    }
}

impl Observer for Activity {
    fn name(&self) -> &str {
        "activity"
    }
    fn on_activity(&mut self, first: u64, active: &[u32], sites: usize) -> Result<(), SimError> {
        for (i, &a) in active.iter().enumerate() {
            if first + i as u64 >= self.warm_up {
                self.current.push(a as f64 / sites as f64);
                if self.current.len() == self.block {
                    self.blocks
                        .push(self.current.iter().sum::<f64>() / self.block as f64);
                    self.current.clear();
                }
            }
        }
        Ok(())
    }
}

fn measure_activity(config: Config, warm_up: u64, steps: u64) -> (f64, f64) {
    let mut sim = dense(&config);
    let mut activity = Activity::new(warm_up, 200);
    sim.advance(warm_up + steps, &mut [&mut activity]).unwrap();
    activity.mean_and_error()
}

#[test]
fn random_model_activity_is_the_requested_one() {
    let a = 0.02;
    let (mean, err) = measure_activity(
        Config {
            tracers: Some(0),
            ..config(32, ActivationConfig::Random { activity: a }, 3)
        },
        200,
        8000,
    );
    eprintln!("random model: requested a = {a}, measured {mean:.5} +- {err:.5}");
    assert!(
        (mean - a).abs() < 3.0 * err,
        "requested {a}, measured {mean} +- {err}"
    );
}

#[test]
fn thermal_activity_rises_with_temperature() {
    // L = 64, dt = 0.1 as in the README's table (which comes from longer runs).
    let run = |t: f64| {
        let c = Config {
            tracers: Some(0),
            ..config(64, ActivationConfig::Thermal { temperature: t }, 4)
        };
        measure_activity(c, 2000, 4000)
    };
    let (a1, e1) = run(0.1);
    let (a2, e2) = run(0.2);
    let slope = (a2 / a1).ln() / (1.0 / 0.1 - 1.0 / 0.2);
    eprintln!(
        "thermal L = 64: a(0.1) = {a1:.5} +- {e1:.5}, a(0.2) = {a2:.5} +- {e2:.5}, \
         Arrhenius E = {slope:.3} (paper: 3.1 exp(-0.48 / T): {:.5}, {:.5})",
        3.1 * (-4.8f64).exp(),
        3.1 * (-2.4f64).exp()
    );
    assert!(
        a2 - a1 > 3.0 * (e1 * e1 + e2 * e2).sqrt(),
        "a(0.2) = {a2} +- {e2} is not above a(0.1) = {a1} +- {e1}"
    );
}

/// The mean of the stress, in f64 from the host copy.
fn mean_stress(sim: &Simulation) -> f64 {
    let s = sim.state().unwrap().stress;
    s.iter().map(|&v| v as f64).sum::<f64>() / s.len() as f64
}

#[test]
fn mean_stress_is_conserved_between_resynchronisations() {
    // The default resynchronisation period; the mean is read one step before each
    // resynchronisation, where the transforms' rounding has had the longest to accumulate.
    let config = Config {
        tracers: Some(0),
        resync_every: Config::default().resync_every,
        ..config(16, ActivationConfig::Thermal { temperature: 0.15 }, 5)
    };
    let period = config.resync_every;
    let mut sim = dense(&config);
    let mut worst = 0.0f64;
    sim.advance(period - 1, &mut []).unwrap();
    for _ in 0..20 {
        worst = worst.max(mean_stress(&sim).abs());
        sim.advance(period, &mut []).unwrap();
    }
    let spread = sim
        .state()
        .unwrap()
        .stress
        .iter()
        .fold(0.0f32, |m, s| m.max(s.abs()));
    eprintln!(
        "20 periods of {period} steps: |mean stress| <= {worst:e} before each resync, max |sigma| {spread}"
    );
    assert!(spread > 0.1, "the stress never moved");
    assert!(worst < 1e-5, "mean stress drifted to {worst}");
}

#[test]
fn a_non_finite_stress_stops_the_run_naming_the_step() {
    // Through the transforms, and through the sparse update.
    for limit in [0, u32::MAX] {
        let config = Config {
            tracers: Some(0),
            ..config(16, ActivationConfig::Random { activity: 0.3 }, 6)
        };
        let mut sim = simulation(&config, sparse(limit));
        sim.advance(10, &mut []).unwrap();
        // Poison one site: the first stress update after it (step 10, there are events in
        // every step at this activity) keeps it NaN.
        sim.set_stress(37, f32::NAN).unwrap();
        match sim.advance(100, &mut []) {
            Err(SimError::NonFiniteStress { step, site, x, y }) => {
                assert_eq!((step, site, x, y), (10, 37, 5, 2));
            }
            other => panic!("expected a non-finite stress error, got {other:?}"),
        }
        // It does not go on.
        assert!(matches!(
            sim.advance(1, &mut []),
            Err(SimError::NonFiniteStress { step: 10, .. })
        ));
    }
}

#[test]
fn invalid_configurations_are_refused_before_device_work() {
    let cases = [
        (
            Config {
                l: 48,
                ..Config::default()
            },
            "l",
        ),
        (
            Config {
                dt: 2.0,
                ..Config::default()
            },
            "dt",
        ),
        (
            // (A negative tracer count cannot even be written: counts are unsigned.)
            Config {
                resync_every: 0,
                ..Config::default()
            },
            "resync_every",
        ),
        (
            Config {
                activation: ActivationConfig::Thermal {
                    temperature: f64::NAN,
                },
                ..Config::default()
            },
            "activation.temperature",
        ),
        (
            Config {
                activation: ActivationConfig::Random { activity: 1.5 },
                ..Config::default()
            },
            "activation.activity",
        ),
    ];
    for (config, field) in cases {
        match Simulation::new(config, &device()) {
            Err(SimError::Config(epm::ConfigError::Invalid { field: f, .. })) => {
                assert_eq!(f, field)
            }
            Err(other) => panic!("{field}: wrong error {other}"),
            Ok(_) => panic!("{field}: accepted"),
        }
    }
}

/// The counted cost of a step with events, against a count by hand for L = 64: the propagator
/// multiply and the stress update add no launch of their own (fused into the inverse), and the
/// whole-step kernel makes it one launch.
#[test]
fn step_traffic_counts_the_fused_launches_and_bytes() {
    let cfg = config(64, ActivationConfig::Thermal { temperature: 0.1 }, 1);
    let sim = simulation(&cfg, dense_whole(false));
    let traffic = sim.step_traffic();
    let (n, tracers) = (64u64 * 64, sim.tracer_count() as u64);
    assert_eq!(tracers, n / 16);
    // Half-size fields of 32 x 64 (row pairs): rows of 64 in two radix-8 passes through global
    // memory in the CPU profile, columns of 32 in one radix-32 pass; one shared-lines launch
    // per axis in the GPU profile.
    let radix = sim.profile().fft_lines == epm::profile::FftLines::Radix;
    let passes: u64 = if radix { 3 } else { 2 };
    assert_eq!(traffic.launches as u64, 1 + passes + passes + 1);
    // Forward: each launch moves two planes of n / 2 f32 in and two out (the first reads the
    // n real values of the strain rate as its two planes).
    let forward = passes * 8 * n;
    // Inverse, a batch of three half fields: each launch moves 4 planes of 3 n / 2 f32; the
    // first reads the half spectrum (4 n bytes) and the U, V tables (24 n) instead of its
    // batch (12 n), the last also reads and writes the stress (8 n).
    let inverse = passes * 24 * n - 12 * n + 4 * n + 24 * n + 8 * n;
    assert_eq!(traffic.bytes, 8 * n + forward + inverse + 80 * tracers);
    assert_eq!(traffic.minimum_bytes, 42 * n + 80 * tracers);
    // The whole-step kernel (radix plans only: the CPU profile's) moves the same bytes in one
    // launch.
    let whole = simulation(&cfg, dense_whole(true)).step_traffic();
    assert_eq!(whole.launches, if radix { 1 } else { traffic.launches });
    assert_eq!(whole.bytes, traffic.bytes);
}

/// A step observer that reads nothing: with it a run advances one step per launch.
struct EveryStep;

impl Observer for EveryStep {
    fn name(&self) -> &str {
        "every-step"
    }
    fn on_step(&mut self, _: &epm::View<'_>, _: &epm::StepInfo) -> Result<(), SimError> {
        Ok(())
    }
}

/// An observer that looks every `every` steps and keeps the state it saw.
struct Looking {
    every: u64,
    seen: Vec<(u64, epm::State)>,
}

impl Observer for Looking {
    fn name(&self) -> &str {
        "looking"
    }
    fn every(&self) -> u64 {
        self.every
    }
    fn on_step(&mut self, sim: &epm::View<'_>, info: &epm::StepInfo) -> Result<(), SimError> {
        self.seen.push((info.step, sim.state()?));
        Ok(())
    }
}

/// An observer that looks every 5 steps is called after exactly those steps, and sees the
/// states one that looks at every step sees there, although whole steps now run up to the
/// next multiple of 5 in one launch. An ensemble's replica likewise.
#[test]
fn an_observer_is_called_at_the_multiples_of_its_period_and_sees_the_same_state() {
    let config = Config {
        resync_every: 50,
        ..config(32, ActivationConfig::Thermal { temperature: 0.1 }, 41)
    };
    let run = |every: u64| {
        let mut sim = simulation(&config, dense_whole(true));
        let mut looking = Looking {
            every,
            seen: vec![],
        };
        for piece in [23, 40, 17] {
            sim.advance(piece, &mut [&mut looking]).unwrap();
        }
        looking.seen
    };
    let (fives, ones) = (run(5), run(1));
    assert_eq!(
        fives.iter().map(|s| s.0).collect::<Vec<_>>(),
        (1..=16).map(|k| 5 * k).collect::<Vec<_>>(),
        "called after steps 5, 10, ..., 80"
    );
    assert_eq!(ones.len(), 80);
    for (step, state) in &fives {
        assert!(
            ones[*step as usize - 1].1 == *state,
            "the state after step {step}"
        );
    }
    let mut ensemble = super::ensemble(&[config.clone(), config.clone()], dense_whole(true));
    let (mut a, mut b) = (
        Looking {
            every: 5,
            seen: vec![],
        },
        Looking {
            every: u64::MAX,
            seen: vec![],
        },
    );
    ensemble
        .advance(80, &mut [vec![&mut a], vec![&mut b]])
        .unwrap();
    assert!(b.seen.is_empty(), "u64::MAX: never");
    assert_eq!(a.seen.len(), 16);
    for ((step, state), (s, single)) in a.seen.iter().zip(&fives) {
        assert_eq!(step, s);
        assert!(state == single, "replica 0 after step {step}");
    }
}

/// The whole-step kernel (one launch for one or many dense steps) makes the fields of the
/// separate launches bit for bit: both rules, with and without observers (one step, or up to
/// the next boundary, per launch), across resynchronisations and count rings, and an ensemble
/// of whole steps is its replicas' single runs made of separate launches.
#[test]
fn whole_steps_are_the_separate_launches_bit_for_bit() {
    let rules = [
        ActivationConfig::Thermal { temperature: 0.1 },
        ActivationConfig::Random { activity: 0.05 },
    ];
    for (i, activation) in rules.into_iter().enumerate() {
        let base = Config {
            resync_every: 50,
            ..config(32, activation, 30 + i as u64)
        };
        let run = |whole: bool, observed: bool| {
            let mut sim = simulation(&base, dense_whole(whole));
            let mut counts = Counts::default();
            let mut every = EveryStep;
            for piece in [37, 100, 63] {
                if observed {
                    sim.advance(piece, &mut [&mut counts, &mut every]).unwrap();
                } else {
                    sim.advance(piece, &mut []).unwrap();
                }
            }
            let whole_ran = sim.step_traffic().launches == 1;
            (sim.state().unwrap(), counts.counts, whole_ran)
        };
        let (launches, counts, whole_ran) = run(false, true);
        assert!(!whole_ran);
        let busy = counts.iter().filter(|&&c| c >= 3).count();
        assert!(busy > 100, "{activation:?}: {busy} dense steps");
        let radix = super::profile().fft_lines == epm::profile::FftLines::Radix;
        for observed in [true, false] {
            let (whole, whole_counts, whole_ran) = run(true, observed);
            assert_eq!(
                whole_ran, radix,
                "whole steps run where the plans are radix passes"
            );
            assert_eq!(whole, launches, "{activation:?}, observed {observed}");
            if observed {
                assert_eq!(whole_counts, counts, "{activation:?}: counts");
            }
        }
    }
    // A sparse limit near the activity: windows switch between the updates, and a launch of
    // whole steps stops at a window start whose count chooses the sparse update.
    let switching = |whole: bool| {
        let config = config(32, ActivationConfig::Thermal { temperature: 0.1 }, 34);
        let options = epm::RunOptions {
            whole_steps: Some(whole),
            ..sparse(14)
        };
        let mut sim = simulation(&config, options);
        let mut counts = Counts::default();
        sim.advance(100, &mut [&mut counts]).unwrap();
        sim.advance(300, &mut []).unwrap();
        sim.state().unwrap()
    };
    assert_eq!(switching(true), switching(false), "switching updates");
    // At L = 64 every pass of both transforms takes four lanes: the whole step's buffers are
    // vectors of four (at L = 32 and 16, of one), across a resynchronisation.
    let at_64 = |whole: bool| {
        let config = Config {
            resync_every: 40,
            ..config(64, ActivationConfig::Thermal { temperature: 0.1 }, 33)
        };
        let mut sim = simulation(&config, dense_whole(whole));
        sim.advance(60, &mut []).unwrap();
        let whole_ran = sim.step_traffic().launches == 1;
        (sim.state().unwrap(), whole_ran)
    };
    let (launches, _) = at_64(false);
    let (whole, whole_ran) = at_64(true);
    assert_eq!(
        whole_ran,
        super::profile().fft_lines == epm::profile::FftLines::Radix
    );
    assert!(launches.active.iter().filter(|&&a| a == 1).count() > 3);
    assert_eq!(whole, launches, "L = 64");
    // An ensemble of whole steps against single runs of separate launches.
    let configs: Vec<Config> = [(0.1, 41), (0.3, 42)]
        .into_iter()
        .map(|(temperature, seed)| Config {
            resync_every: 50,
            ..config(16, ActivationConfig::Thermal { temperature }, seed)
        })
        .collect();
    let mut ensemble = super::ensemble(&configs, dense_whole(true));
    ensemble.advance(120, &mut [vec![], vec![]]).unwrap();
    for (r, c) in configs.iter().enumerate() {
        let mut sim = simulation(c, dense_whole(false));
        sim.advance(120, &mut []).unwrap();
        let state = sim.state().unwrap();
        assert_eq!(ensemble.view(r).state().unwrap(), state, "replica {r}");
    }
}

//! Ensembles against single runs: each replica makes, bit for bit, its own single run (steps
//! with and without events, resynchronisations, the counts), resumes exactly from a
//! checkpoint, names its replica in a fault, and refuses replicas that differ in more than
//! their seed and rule parameter.

use epm::{ActivationConfig, Config, Ensemble, Observer, SimError, Simulation, State};

use super::{Counts, device};

/// Thermal replicas of 16 x 16, one per `(temperature, seed)`, resynchronised every 40 steps.
fn thermal(replicas: &[(f64, u64)]) -> Vec<Config> {
    replicas
        .iter()
        .map(|&(temperature, seed)| Config {
            l: 16,
            seed,
            activation: ActivationConfig::Thermal { temperature },
            resync_every: 40,
            ..Config::default()
        })
        .collect()
}

/// Thermal replicas at three temperatures (the coldest has many steps without events).
fn replicas() -> Vec<Config> {
    thermal(&[(0.04, 11), (0.1, 12), (0.3, 13)])
}

/// The single run of `config` with the dense update, and its counts.
fn single(config: &Config, steps: u64) -> (State, Vec<u32>) {
    let mut sim = super::simulation(config, super::sparse(0));
    let mut counts = Counts::default();
    sim.advance(steps, &mut [&mut counts]).unwrap();
    (sim.state().unwrap(), counts.counts)
}

fn advance_counting(ensemble: &mut Ensemble, steps: u64, counts: &mut [Counts]) {
    let mut observers: Vec<Vec<&mut dyn Observer>> = counts
        .iter_mut()
        .map(|c| vec![c as &mut dyn Observer])
        .collect();
    ensemble.advance(steps, &mut observers).unwrap();
}

#[test]
fn each_replica_is_its_single_run_bit_for_bit() {
    let configs = replicas();
    let steps = 150;
    let mut ensemble = Ensemble::new(configs.clone(), &device()).unwrap();
    let mut counts: Vec<Counts> = configs.iter().map(|_| Counts::default()).collect();
    // In pieces that do not line up with the count ring (64) or the resynchronisation (40).
    for piece in [1, 70, 79] {
        advance_counting(&mut ensemble, piece, &mut counts);
    }
    assert_eq!(ensemble.step(), steps);
    for (r, config) in configs.iter().enumerate() {
        let (state, single_counts) = single(config, steps);
        let replica = ensemble.view(r).state().unwrap();
        assert_eq!(replica, state, "replica {r}");
        assert_eq!(counts[r].counts, single_counts, "replica {r}: counts");
        assert_eq!(ensemble.active_sites()[r], *single_counts.last().unwrap());
    }
    // The comparison covered steps with and without events in one ensemble.
    let empty = counts[0].counts.iter().filter(|&&c| c == 0).count();
    let busy = counts[2].counts.iter().filter(|&&c| c > 0).count();
    assert!(empty > 10 && busy > 100, "empty {empty}, busy {busy}");
    let moved = counts
        .iter()
        .map(|c| c.counts.iter().sum::<u32>())
        .collect::<Vec<_>>();
    assert!(moved[2] > moved[1] && moved[1] > moved[0], "{moved:?}");
}

/// Counts the steps an observer is told nothing moved in.
#[derive(Default)]
struct Unmoved(u64);

impl Observer for Unmoved {
    fn name(&self) -> &str {
        "unmoved"
    }
    fn on_step(&mut self, _: &epm::View<'_>, info: &epm::StepInfo) -> Result<(), SimError> {
        self.0 += u64::from(!info.moved);
        Ok(())
    }
}

/// Cold replicas skip their steps without events and stay their single runs: with separate
/// launches the steps empty in every replica (their counts read first, observers told nothing
/// moved), in whole steps each replica's own inside the launch.
#[test]
fn cold_replicas_skip_their_empty_steps_and_stay_their_single_runs() {
    let steps = 500;
    for whole_steps in [Some(false), None] {
        let configs: Vec<Config> = thermal(&[(0.07, 21), (0.08, 22)]);
        let options = epm::RunOptions {
            whole_steps,
            ..Default::default()
        };
        let mut ensemble = super::ensemble(&configs, options);
        let mut counts: Vec<Counts> = configs.iter().map(|_| Counts::default()).collect();
        let mut unmoved = Unmoved::default();
        {
            let (first, second) = counts.split_at_mut(1);
            let mut observers: Vec<Vec<&mut dyn Observer>> =
                vec![vec![&mut first[0], &mut unmoved], vec![&mut second[0]]];
            for piece in [37, 463] {
                ensemble.advance(piece, &mut observers).unwrap();
            }
        }
        for (r, config) in configs.iter().enumerate() {
            let (state, single_counts) = single(config, steps);
            let at = format!("replica {r}, whole steps {whole_steps:?}");
            assert_eq!(ensemble.view(r).state().unwrap(), state, "{at}");
            assert_eq!(counts[r].counts, single_counts, "{at}: counts");
        }
        let common_empty = (0..steps as usize)
            .filter(|&s| counts[0].counts[s] == 0 && counts[1].counts[s] == 0)
            .count() as u64;
        let eventful = steps as usize - common_empty as usize;
        eprintln!(
            "whole steps {whole_steps:?}: {} of {common_empty} steps empty in both replicas \
             skipped, {eventful} with events",
            unmoved.0
        );
        assert!(eventful > 100 && common_empty > 50, "eventful {eventful}");
        if ensemble.step_traffic().launches == 1 {
            // Whole steps: the kernel skips inside the launch, unseen by the host.
            assert_eq!(unmoved.0, 0);
        } else {
            // Only those: a step right after a count of three or more is not read, and runs.
            assert!(
                unmoved.0 <= common_empty && 2 * unmoved.0 > common_empty,
                "skipped {} of {common_empty} empty steps",
                unmoved.0
            );
        }
    }
}

#[test]
fn random_replicas_are_their_single_runs() {
    let configs: Vec<Config> = [(0.01, 3), (0.05, 4)]
        .map(|(activity, seed)| Config {
            l: 16,
            seed,
            activation: ActivationConfig::Random { activity },
            ..Config::default()
        })
        .into();
    let mut ensemble = Ensemble::new(configs.clone(), &device()).unwrap();
    ensemble.advance(90, &mut [vec![], vec![]]).unwrap();
    for (r, config) in configs.iter().enumerate() {
        assert_eq!(ensemble.view(r).state().unwrap(), single(config, 90).0);
    }
}

#[test]
fn an_ensemble_resumes_exactly_and_a_replica_resumes_as_a_single_run() {
    let configs = replicas();
    let dir = std::env::temp_dir().join(format!("epm-ensemble-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ensemble.epm");
    let mut whole = Ensemble::new(configs.clone(), &device()).unwrap();
    let observers = || configs.iter().map(|_| vec![]).collect::<Vec<_>>();
    whole.advance(100, &mut observers()).unwrap();
    let mut first = Ensemble::new(configs.clone(), &device()).unwrap();
    first.advance(45, &mut observers()).unwrap();
    first.checkpoint(&path).unwrap();
    let replica_bytes = first.replica_checkpoint_bytes(1).unwrap();
    drop(first);
    let mut resumed = Ensemble::restore(&path, &device()).unwrap();
    assert_eq!(resumed.step(), 45);
    resumed.advance(55, &mut observers()).unwrap();
    for r in 0..configs.len() {
        assert_eq!(
            resumed.view(r).state().unwrap(),
            whole.view(r).state().unwrap(),
            "replica {r}"
        );
    }
    // Replica 1's checkpoint is a single run's, and goes on as the replica did.
    let checkpoint = Simulation::decode_checkpoint(&replica_bytes).unwrap();
    assert!(
        checkpoint.dense_only(),
        "a replica's checkpoint takes the dense update"
    );
    let mut alone = Simulation::from_checkpoint(checkpoint, None, &device()).unwrap();
    alone.advance(55, &mut []).unwrap();
    assert_eq!(alone.state().unwrap(), whole.view(1).state().unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_non_finite_stress_names_replica_step_and_site() {
    let configs: Vec<Config> = [1, 2, 3]
        .map(|seed| Config {
            l: 16,
            seed,
            tracers: Some(0),
            activation: ActivationConfig::Random { activity: 0.3 },
            ..Config::default()
        })
        .into();
    let mut ensemble = Ensemble::new(configs, &device()).unwrap();
    ensemble.advance(10, &mut [vec![], vec![], vec![]]).unwrap();
    ensemble.set_stress(2, 37, f32::NAN).unwrap();
    let expected = |e: &SimError| match e {
        SimError::InReplica { replica, source } => match source.as_ref() {
            SimError::NonFiniteStress { step, site, x, y } => {
                (*replica, *step, *site, *x, *y) == (2, 10, 37, 5, 2)
            }
            _ => false,
        },
        _ => false,
    };
    let err = ensemble
        .advance(100, &mut [vec![], vec![], vec![]])
        .unwrap_err();
    assert!(expected(&err), "{err}");
    let again = ensemble
        .advance(1, &mut [vec![], vec![], vec![]])
        .unwrap_err();
    assert!(expected(&again), "{again}");
}

#[test]
fn replicas_differing_in_more_than_seed_and_parameter_are_refused() {
    let base = Config {
        l: 16,
        ..Config::default()
    };
    let named = |configs: Vec<Config>| match Ensemble::new(configs, &device()) {
        Err(SimError::InvalidArgument {
            argument, value, ..
        }) => format!("{argument}: {value}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("accepted"),
    };
    let other_l = Config {
        l: 32,
        ..base.clone()
    };
    assert_eq!(named(vec![base.clone(), other_l]), "configs: replica 1: l");
    let random = Config {
        activation: ActivationConfig::Random { activity: 0.1 },
        ..base.clone()
    };
    assert!(named(vec![base.clone(), random]).starts_with("configs: replica 1: activation."));
    assert_eq!(named(vec![]), "configs: []");
    // A profile with a sparse limit: an ensemble takes the dense update only.
    let states = vec![epm::State::initial(&base)];
    let sparse = Some(super::profile().with_sparse_max_active(5));
    match Ensemble::from_states_with_profile(vec![base.clone()], None, states, &device(), sparse) {
        Err(SimError::InvalidArgument {
            argument, reason, ..
        }) => assert!(
            argument == "profile" && reason.contains("dense update"),
            "{reason}"
        ),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a sparse limit accepted"),
    }
    // Seeds and temperatures may differ.
    let warm = Config {
        seed: 9,
        activation: ActivationConfig::Thermal { temperature: 0.5 },
        ..base.clone()
    };
    assert!(Ensemble::new(vec![base, warm], &device()).is_ok());
}

/// The tables of an ensemble's runs (which differ in `steps` and warm-up: the shorter replica
/// finishes first and the other goes on alone) equal those of the single runs, file for file.
#[test]
fn ensemble_runs_write_the_tables_of_their_single_runs() {
    use epm::run::{EnsembleRun, Run};
    let root = std::env::temp_dir().join(format!("epm-ensemble-runs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let configs: Vec<Config> = [(0.1, 1, 120u64), (0.2, 2, 200)]
        .map(|(temperature, seed, steps)| {
            let mut c = Config {
                l: 16,
                seed,
                steps,
                activation: ActivationConfig::Thermal { temperature },
                ..Config::default()
            };
            c.observables.warm_up = steps / 10;
            c
        })
        .into();
    let dirs: Vec<std::path::PathBuf> = (0..2).map(|r| root.join(format!("replica{r}"))).collect();
    let dir_refs: Vec<&std::path::Path> = dirs.iter().map(|d| d.as_path()).collect();
    let mut ensemble = EnsembleRun::start(configs.clone(), &dir_refs, &device()).unwrap();
    // Chunks that cross the first replica's end.
    while ensemble.remaining() > 0 {
        ensemble.advance(50).unwrap();
    }
    ensemble.checkpoint().unwrap();
    ensemble.write_outputs().unwrap();
    for (r, config) in configs.iter().enumerate() {
        assert!(Run::is_complete(&dirs[r]), "replica {r} finished");
        let alone = root.join(format!("single{r}"));
        let dense = super::sparse(0);
        let mut run = Run::start_with(config.clone(), &alone, &device(), &dense).unwrap();
        run.advance(config.steps).unwrap();
        run.write_outputs().unwrap();
        let mut tables = 0;
        for entry in std::fs::read_dir(&alone).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.ends_with(".csv") {
                let ours = std::fs::read_to_string(dirs[r].join(&name)).unwrap();
                let theirs = std::fs::read_to_string(entry.path()).unwrap();
                assert!(ours == theirs, "replica {r}: {name} differs");
                tables += 1;
            }
        }
        assert!(tables >= 5, "replica {r}: only {tables} tables compared");
        // Each replica's checkpoint resumes as a single run.
        let resumed = Run::resume(&dirs[r], None, &device()).unwrap();
        assert_eq!(resumed.simulation().step(), config.steps);
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// Every ensemble size of a lattice runs the same compiled kernels (on lavapipe a new shape
/// compiles for seconds): the separate launches' transforms of 1 to 64 replicas are the same
/// kernels, and so are the whole-step kernel's shapes of 1 to 16 replicas; they differ where
/// the lattice or the tracers do.
#[test]
fn every_ensemble_size_runs_the_same_compiled_kernels() {
    use crate::backend::Propagation;
    use crate::propagator::StepTables;
    let client = device().client();
    let config = Config::default();
    let propagation = |l: usize, replicas: usize| {
        let tables = StepTables::new(l, &config.propagator, config.mu, config.dt);
        let profile = super::profile().with_whole_steps(true);
        Propagation::new(&client, l, replicas, &tables, profile, false).unwrap()
    };
    // The separate launches' transforms (GPUs; CPU adapters past the whole step's size).
    let kernels = |l, replicas| propagation(l, replicas).step_kernels();
    let separate = kernels(64, 1);
    for replicas in [2, 3, 6, 16, 64] {
        assert_eq!(kernels(64, replicas), separate, "{replicas} replicas");
    }
    assert_ne!(kernels(32, 4), separate, "another lattice");
    // The whole-step kernel.
    let shape = |l, replicas, tracers| propagation(l, replicas).whole_step(tracers);
    let one = shape(64, 1, 32);
    assert_eq!(
        one.is_some(),
        super::profile().fft_lines == epm::profile::FftLines::Radix,
        "whole steps where the plans are radix passes"
    );
    for replicas in [2, 3, 6, 16] {
        assert_eq!(shape(64, replicas, 32), one, "{replicas} replicas");
    }
    if one.is_some() {
        assert_ne!(shape(32, 4, 32), one, "another lattice");
        assert_ne!(shape(64, 4, 16), one, "other tracers");
    }
}

//! Criterion group `ensemble`, ids `thermal/L/B`: one step of an ensemble of `B` replicas of
//! the thermal model at T = 0.1 (default tracers, no observers) through `Ensemble::advance`,
//! for L = 64 with B = 1, 4, 16, 64 and L = 256 with B = 1, 4, 16. One iteration is one step
//! of every replica; the throughput is in replica-steps. The replicas start from one
//! steady state (a single run warmed up from zero stress) with seeds 1..=B, so they part
//! at once.
//!
//! Where the whole-step kernel can run (`epm::whole_step`: CPU adapters, L <= 128), the other
//! way beside the adapter's choice: ids `thermal-launches/L/B` time the same steps as separate
//! launches where the choice is whole steps, `thermal-whole/L/B` whole steps where it is not.
//!
//! `cargo xtask bench` also runs the JAX anchor with the same `B` (`jax_epm.py L STEPS 0.1 B`,
//! `jax.vmap` over replicas) and puts both, per replica-step, in one table.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use cubecl::prelude::*;
use epm::{ActivationConfig, Config, Ensemble, Simulation};

/// `(L, replicas)` of the group.
const RUNS: [(usize, &[usize]); 2] = [(64, &[1, 4, 16, 64]), (256, &[1, 4, 16])];
const TEMPERATURE: f64 = 0.1;
/// Steps from zero stress to the steady state at T = 0.1.
const WARM_UP: u64 = 1500;

fn config(l: usize, seed: u64) -> Config {
    Config {
        l,
        seed,
        activation: ActivationConfig::Thermal {
            temperature: TEMPERATURE,
        },
        ..Config::default()
    }
}

fn sync(client: &Client) {
    cubecl::future::block_on(client.sync()).unwrap();
}

fn ensemble(c: &mut Criterion) {
    let device = epm::device::default_device().expect("no compute device (see README)");
    let client = device.client();
    eprintln!("ensemble: {}", epm::device::describe(&client));
    let mut group = c.benchmark_group("ensemble");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    for (l, replicas) in RUNS {
        let mut warm: Option<epm::State> = None;
        // The profile's choice, and the other of whole steps (`epm::whole_step`) and separate
        // launches beside it where whole steps can run (the CPU profile, L <= 128).
        let profile = epm::Profile::default_for(&client).unwrap();
        let can_whole = profile.whole_steps_for(l, 1);
        for &b in replicas {
            let whole = profile.whole_steps_for(l, b);
            let other = if whole {
                ("thermal-launches", Some(false))
            } else {
                ("thermal-whole", Some(true))
            };
            let variants = [("thermal", None), other];
            let variants = if can_whole {
                &variants[..]
            } else {
                &variants[..1]
            };
            for &(name, whole_steps) in variants {
                group.throughput(Throughput::Elements(b as u64));
                let id = BenchmarkId::new(format!("{name}/{l}"), b);
                group.bench_function(id, |bench| {
                    let state = warm
                        .get_or_insert_with(|| {
                            let mut sim = Simulation::new(config(l, 1), &device).unwrap();
                            sim.advance(WARM_UP, &mut []).unwrap();
                            sim.state().unwrap()
                        })
                        .clone();
                    let configs: Vec<Config> = (1..=b as u64).map(|seed| config(l, seed)).collect();
                    let states = vec![state; b];
                    let options = epm::RunOptions {
                        whole_steps,
                        ..epm::RunOptions::sparse_max_active(0)
                    };
                    let profile = Some(options.resolve(&client, None).unwrap());
                    let mut ensemble =
                        Ensemble::from_states_with_profile(configs, None, states, &device, profile)
                            .unwrap();
                    let mut observers: Vec<Vec<&mut dyn epm::Observer>> =
                        (0..b).map(|_| vec![]).collect();
                    // Untimed, to one step past the next resynchronisation: every kernel of
                    // this `B` is compiled before criterion times anything (lavapipe's JIT of
                    // a new shape takes seconds; a first iteration that long made criterion
                    // time single steps, each with its read-back).
                    let resync = config(l, 1).resync_every;
                    ensemble
                        .advance(resync - ensemble.step() % resync + 1, &mut observers)
                        .unwrap();
                    bench.iter_custom(|iters| {
                        sync(&client);
                        let start = Instant::now();
                        ensemble.advance(iters, &mut observers).unwrap();
                        sync(&client);
                        start.elapsed()
                    })
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, ensemble);
criterion_main!(benches);

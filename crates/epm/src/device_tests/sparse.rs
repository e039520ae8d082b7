//! The sparse update ([`epm::sparse`]): its kernels against their CPU twins, and a run that
//! takes it against the same run through the transforms and against the CPU reference.

use std::sync::Arc;

use cubecl::prelude::*;
use epm::backend::DynActivation;
use epm::fft::ComplexBuffers;
use epm::launch::sparse::{self as sparse_launch, SparseBuffers};
use epm::propagator::{StepTables, increment_index_cpu};
use epm::reference::CpuSimulation;
use epm::sparse::{
    RealSpaceTables, compact_active_cpu, compaction_units, sparse_advect_cpu, sparse_stress_cpu,
};
use epm::tracers::TracerPositions;
use epm::{ActivationConfig, Config, Simulation, State};
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::client;

fn read_f32(client: &Client, h: &cubecl::server::Handle) -> Vec<f32> {
    f32::from_bytes(&client.read_one(h.clone()).unwrap()).to_vec()
}

fn read_u32(client: &Client, h: &cubecl::server::Handle) -> Vec<u32> {
    u32::from_bytes(&client.read_one(h.clone()).unwrap()).to_vec()
}

#[test]
fn sparse_kernels_equal_their_cpu_twins() {
    let client = client();
    let mut rng = StdRng::seed_from_u64(8);
    // L = 8: fewer sites than the compaction's units; L = 64: several sites per unit.
    for l in [8usize, 64] {
        let n = l * l;
        let tables = RealSpaceTables::new(l, &StepTables::new(l, &Default::default(), 1.0, 0.1));
        let f32s = |v: &[f32]| client.create_from_slice(f32::as_bytes(v));
        let u32s = |v: &[u32]| client.create_from_slice(u32::as_bytes(v));
        let (table_stress, table_x, table_y) = (
            f32s(&tables.stress),
            f32s(&tables.displacement_x),
            f32s(&tables.displacement_y),
        );
        let (list_site, list_rate, list_count) =
            (u32s(&vec![0; n]), f32s(&vec![0.0; n]), u32s(&[0]));
        let b = SparseBuffers {
            list_site: &list_site,
            list_rate: &list_rate,
            list_count: &list_count,
            table_stress: &table_stress,
            table_x: &table_x,
            table_y: &table_y,
        };
        // Activity from none to a quarter of the sites, the first and last site included.
        for fraction in [0.0, 0.003, 0.05, 0.25] {
            let mut active: Vec<u32> = (0..n).map(|_| rng.random_bool(fraction) as u32).collect();
            if fraction > 0.1 {
                (active[0], active[n - 1]) = (1, 1);
            }
            let rate: Vec<f32> = active
                .iter()
                .map(|&a| a as f32 * if rng.random_bool(0.5) { 0.5 } else { -0.5 })
                .collect();
            let (sites, rates) = compact_active_cpu(&active, &rate, compaction_units(n));
            sparse_launch::compaction(&client, n, &u32s(&active), &f32s(&rate), &b);
            let count = read_u32(&client, &list_count)[0] as usize;
            assert_eq!(count, sites.len(), "L = {l}: listed sites");
            assert_eq!(read_u32(&client, &list_site)[..count], sites[..], "L = {l}");
            assert_eq!(read_f32(&client, &list_rate)[..count], rates[..], "L = {l}");

            let mut stress: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let (stress_dev, status) = (f32s(&stress), u32s(&[u32::MAX, 0]));
            let per_unit = super::profile().sites_per_unit(n);
            sparse_launch::stress(&client, (n, per_unit), &b, &stress_dev, &status, 3);
            sparse_stress_cpu((&sites, &rates), &tables.stress, &mut stress, l);
            for (a, c) in read_f32(&client, &stress_dev).iter().zip(&stress) {
                assert!(
                    (a - c).abs() <= 1e-6 * c.abs().max(1.0),
                    "L = {l}: {a} vs {c}"
                );
            }
            assert_eq!(read_u32(&client, &status)[0], u32::MAX, "no fault recorded");

            let mut tracers = TracerPositions::uniform(4, 500, l);
            tracers.cells[0] -= 3 * l as i32; // unwrapped, outside the box
            let cells = client.create_from_slice(i32::as_bytes(&tracers.cells));
            let words = u32s(&tracers.fraction_words());
            sparse_launch::advection(&client, n, 500, &cells, &words, &b);
            sparse_advect_cpu(&mut tracers, (&sites, &rates), &tables, l);
            let moved = TracerPositions::from_words(
                i32::from_bytes(&client.read_one(cells).unwrap()).to_vec(),
                &read_u32(&client, &words),
            );
            for i in 0..500 {
                let (p, q) = (moved.position(i), tracers.position(i));
                assert!(
                    (p.0 - q.0).abs() < 1e-6 && (p.1 - q.1).abs() < 1e-6,
                    "L = {l}"
                );
            }

            // The increments of the listed sites, as the dense path lays them out.
            let increments =
                ComplexBuffers::empty::<f32>(&client, epm::launch::increments_len(n, 1));
            sparse_launch::increments(&client, n, &b, &increments);
            let (re, im) = (
                read_f32(&client, &increments.re),
                read_f32(&client, &increments.im),
            );
            let mut d_sigma = vec![0.0f32; n];
            sparse_stress_cpu((&sites, &rates), &tables.stress, &mut d_sigma, l);
            let mut du_x = vec![0.0f32; n];
            sparse_stress_cpu((&sites, &rates), &tables.displacement_x, &mut du_x, l);
            let mut du_y = vec![0.0f32; n];
            sparse_stress_cpu((&sites, &rates), &tables.displacement_y, &mut du_y, l);
            let close = |a: &[f32], c: &[f32]| {
                a.iter()
                    .zip(c)
                    .all(|(a, c)| (a - c).abs() <= 1e-6 * c.abs().max(1.0))
            };
            for (field, want) in [&d_sigma, &du_x, &du_y].into_iter().enumerate() {
                let got: Vec<f32> = (0..n)
                    .map(|s| {
                        let (plane, index) = increment_index_cpu(field, s % l, s / l, l);
                        [&re, &im][plane][index]
                    })
                    .collect();
                assert!(close(&got, want), "L = {l}, field {field}");
            }
        }
    }
}

fn thermal(l: usize, temperature: f64) -> Config {
    Config {
        l,
        seed: 21,
        resync_every: 100,
        activation: ActivationConfig::Thermal { temperature },
        ..Config::default()
    }
}

/// A run of `config` with the sparse limit `limit` (0: the transforms only).
fn run(config: &Config, limit: u32) -> Simulation {
    super::simulation(config, super::sparse(limit))
}

fn run_from(config: &Config, state: &State, limit: u32) -> Simulation {
    super::from_state(config, state, super::sparse(limit))
}

#[test]
fn sparse_and_dense_runs_agree_at_low_temperature() {
    // A state with stress built up at T = 0.1, then 1000 steps at T = 0.05 both ways: with
    // the transforms only, and with the sparse update only.
    let l = 64;
    let mut warm = run(&thermal(l, 0.1), 0);
    warm.advance(1500, &mut []).unwrap();
    let state = warm.state().unwrap();
    let mut dense = run_from(&thermal(l, 0.05), &state, 0);
    let mut sparse = run_from(&thermal(l, 0.05), &state, u32::MAX);
    let (mut worst_stress, mut worst_tracer) = (0.0f64, 0.0f64);
    let mut active_steps = 0u64;
    // Both runs `steps` further; the same activation decisions.
    let mut advance_both = |steps: u64| {
        dense.advance(steps, &mut []).unwrap();
        sparse.advance(steps, &mut []).unwrap();
        let (d, s) = (dense.state().unwrap(), sparse.state().unwrap());
        assert_eq!(
            d.active, s.active,
            "activation decisions by step {}",
            d.step
        );
        (d, s)
    };
    for _ in 0..10 {
        // Between resynchronisations the increments differ by rounding only.
        let (d, s) = advance_both(99);
        for (a, b) in d.stress.iter().zip(&s.stress) {
            worst_stress = worst_stress.max(((a - b).abs() / a.abs().max(1.0)) as f64);
        }
        active_steps += s.active.iter().map(|&a| a as u64).sum::<u64>();
        // Then a resynchronisation: both are sigma_0 + 2 mu G * eps_p, exactly.
        let (d, s) = advance_both(1);
        assert_eq!(d.sign, s.sign);
        assert_eq!(d.plastic, s.plastic);
        assert_eq!(
            d.stress, s.stress,
            "resynchronised stress at step {}",
            d.step
        );
        for i in 0..d.tracers.len() {
            let (p, q) = (d.tracers.position(i), s.tracers.position(i));
            worst_tracer = worst_tracer.max((p.0 - q.0).abs()).max((p.1 - q.1).abs());
        }
    }
    eprintln!(
        "worst relative stress difference {worst_stress:e}, tracer {worst_tracer:e}, \
         {active_steps} active sites at the checks"
    );
    assert!(worst_stress <= 1e-5, "stress differs by {worst_stress}");
    assert!(worst_tracer <= 1e-5, "tracers differ by {worst_tracer}");
    assert!(active_steps > 0, "no activity to compare");
}

fn rule_of(config: &Config) -> Arc<dyn DynActivation> {
    let ActivationConfig::Thermal { temperature } = config.activation else {
        unreachable!("thermal configurations only")
    };
    Arc::new(epm::Thermal {
        temperature: temperature as f32,
        gamma0: config.gamma0 as f32,
        sigma_y: config.sigma_y as f32,
    })
}

#[test]
fn a_run_switching_between_updates_equals_the_cpu_reference() {
    // From zero stress at T = 0.1 the window counts climb from 0 through 9-15 (sparse windows)
    // to 20-28 (dense ones).
    let config = Config {
        resync_every: 64,
        ..thermal(32, 0.1)
    };
    let mut sim = run(&config, 15);
    let mut cpu = CpuSimulation::new(config.clone(), rule_of(&config), State::initial(&config))
        .unwrap()
        .with_sparse_limit(15);
    let (mut sparse_windows, mut dense_windows) = (0, 0);
    let mut worst = 0.0f32;
    for _ in 0..40 {
        let window = cpu.state().window_active;
        if window <= 15 {
            sparse_windows += 1
        } else {
            dense_windows += 1
        }
        sim.advance(16, &mut []).unwrap();
        for _ in 0..16 {
            cpu.step();
        }
        let (d, c) = (sim.state().unwrap(), cpu.state());
        assert_eq!(d.active, c.active, "activity by step {}", d.step);
        assert_eq!(
            d.window_active, c.window_active,
            "window count at step {}",
            d.step
        );
        for (a, b) in d.stress.iter().zip(&c.stress) {
            worst = worst.max((a - b).abs());
        }
        for i in 0..d.tracers.len() {
            let (p, q) = (d.tracers.position(i), c.tracers.position(i));
            assert!((p.0 - q.0).abs() < 1e-5 && (p.1 - q.1).abs() < 1e-5);
        }
    }
    eprintln!("{sparse_windows} sparse and {dense_windows} dense windows, worst stress {worst:e}");
    assert!(worst <= 1e-4, "stress differs by {worst}");
    assert!(sparse_windows > 2 && dense_windows > 2, "both updates ran");
}

#[test]
fn the_update_chosen_does_not_depend_on_how_a_run_is_cut() {
    // The windows from step 16 on start with 9, 11, 20, 19, ... active sites: sparse until
    // step 48, dense after (the configuration of the checkpoint test).
    let config = Config {
        seed: 77,
        resync_every: 60,
        ..thermal(32, 0.12)
    };
    let mut whole = run(&config, 12);
    whole.advance(300, &mut []).unwrap();
    let mut cut = run(&config, 12);
    for length in [7, 1, 16, 33, 5].into_iter().cycle().take(30) {
        cut.advance(length.min(300 - cut.step()), &mut []).unwrap();
    }
    assert_eq!(cut.step(), 300);
    let (a, b) = (whole.state().unwrap(), cut.state().unwrap());
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.stress), bits(&b.stress));
    assert_eq!(a, b);
    assert!(a.window_active > 12, "the run went on to dense windows");
}

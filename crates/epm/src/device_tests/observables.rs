//! The observables on synthetic data with known answers, and on the real model.

use cubecl::prelude::*;
use epm::observables::structure_factor::{Shell, shell_average, shells_near};
use epm::observables::tracer_dynamics::{
    TracerDynamics, TracerDynamicsOptions, tracer_dynamics_cpu,
};
use epm::tracers::{TracerPositions, advance_axis_cpu};
use rand::{Rng, SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, Normal};

use super::client;

/// Moves every tracer by `(dx, dy)`, exactly as the model's tracers move.
fn shift(t: &mut TracerPositions, moves: &[(f32, f32)]) {
    for (i, &(dx, dy)) in moves.iter().enumerate() {
        (t.cells[2 * i], t.fractions[2 * i]) =
            advance_axis_cpu(t.cells[2 * i], t.fractions[2 * i], dx);
        (t.cells[2 * i + 1], t.fractions[2 * i + 1]) =
            advance_axis_cpu(t.cells[2 * i + 1], t.fractions[2 * i + 1], dy);
    }
}

/// Feeds a trajectory to the device correlator, one step at a time.
fn run(
    l: usize,
    p: usize,
    shells: &[Shell],
    trajectory: &[TracerPositions],
) -> Vec<epm::observables::Table> {
    let client = client();
    let m = trajectory[0].len();
    let mut dynamics = TracerDynamics::new(
        &client,
        l,
        0.1,
        m,
        TracerDynamicsOptions {
            points_per_level: p,
            shells: shells.to_vec(),
            warm_up: 0,
        },
    )
    .unwrap();
    for (step, t) in trajectory.iter().enumerate() {
        let cells = client.create_from_slice(i32::as_bytes(&t.cells));
        let fractions = client.create_from_slice(u32::as_bytes(&t.fraction_words()));
        dynamics.record(&cells, &fractions, step as u64).unwrap();
    }
    dynamics.tables().unwrap()
}

/// The per-block MSD adds up to the whole run's, lag by lag (sums and origins); returns the
/// number of blocks.
fn check_blocks(tables: &[epm::observables::Table]) -> usize {
    let msd = tables.iter().find(|t| t.name == "msd").unwrap();
    let blocks = tables.iter().find(|t| t.name == "msd_blocks").unwrap();
    let (lag, value, origins) = (
        msd.column("lag").unwrap(),
        msd.column("msd").unwrap(),
        msd.column("origins").unwrap(),
    );
    let (b_block, b_lag, b_msd, b_origins) = (
        blocks.column("block").unwrap(),
        blocks.column("lag").unwrap(),
        blocks.column("msd").unwrap(),
        blocks.column("origins").unwrap(),
    );
    for i in 0..lag.len() {
        let rows: Vec<usize> = (0..b_lag.len()).filter(|&r| b_lag[r] == lag[i]).collect();
        let n: f64 = rows.iter().map(|&r| b_origins[r]).sum();
        let sum: f64 = rows.iter().map(|&r| b_msd[r] * b_origins[r]).sum();
        assert_eq!(n, origins[i], "origins over blocks at lag {}", lag[i]);
        assert!(
            (sum / n - value[i]).abs() <= 1e-9 * value[i].max(1e-30),
            "msd over blocks at lag {}: {} vs {}",
            lag[i],
            sum / n,
            value[i]
        );
    }
    b_block.iter().fold(0.0f64, |a, &b| a.max(b)) as usize + 1
}

#[test]
fn blocks_merge_and_add_up_to_the_whole_run() {
    let (l, p, m) = (16usize, 8usize, 8usize);
    let shells = shells_near(l, &[0.5]);
    let mut rng = StdRng::seed_from_u64(3);
    let mut t = TracerPositions::uniform(2, m, l);
    let mut trajectory = vec![t.clone()];
    // 64 updates per block at first: 2300 updates merge twice (16 blocks of 64, then of 128).
    for _ in 0..2300 {
        let moves: Vec<(f32, f32)> = (0..m)
            .map(|_| (rng.random_range(-0.3..0.3), rng.random_range(-0.3..0.3)))
            .collect();
        shift(&mut t, &moves);
        trajectory.push(t.clone());
    }
    let tables = run(l, p, &shells, &trajectory);
    let blocks = check_blocks(&tables);
    // 2301 updates in blocks of 256 after two merges: 8 complete and one partial.
    assert_eq!(blocks, 9, "blocks");
}

#[test]
fn multiple_tau_equals_its_cpu_reference() {
    let (l, p, m, steps) = (32usize, 8usize, 200usize, 300usize);
    // Shells inside the zone and beyond it (|q| > pi: k up to 1.5 L).
    let shells = shells_near(l, &[0.2, 0.7, 2.0, 5.0, 9.0, 4.0 * std::f64::consts::PI]);
    assert!(shells.iter().filter(|s| s.q > std::f64::consts::PI).count() >= 3);
    let mut rng = StdRng::seed_from_u64(8);
    let mut t = TracerPositions::uniform(1, m, l);
    let mut trajectory = vec![t.clone()];
    for _ in 0..steps {
        // Rough moves: many cells at once, tiny ones, both signs: carries and borrows.
        let moves: Vec<(f32, f32)> = (0..m)
            .map(|_| {
                let scale = 10f32.powf(rng.random_range(-6.0..0.7));
                (
                    scale * rng.random_range(-1.0..1.0),
                    scale * rng.random_range(-1.0..1.0),
                )
            })
            .collect();
        shift(&mut t, &moves);
        trajectory.push(t.clone());
    }
    let tables = run(l, p, &shells, &trajectory);
    assert_eq!(
        check_blocks(&tables),
        5,
        "301 updates: four blocks of 64 and a partial one"
    );
    let reference = tracer_dynamics_cpu(&trajectory, p, &shells, l);
    let msd = &tables[0];
    let lags = msd.column("lag").unwrap();
    assert_eq!(
        lags,
        reference.iter().map(|r| r.0 as f64).collect::<Vec<_>>(),
        "the lag grid"
    );
    let values = msd.column("msd").unwrap();
    let origins = msd.column("origins").unwrap();
    for (i, r) in reference.iter().enumerate() {
        assert_eq!(origins[i], r.4 as f64, "origins at lag {}", r.0);
        assert!(
            (values[i] - r.1).abs() <= 2e-5 * r.1,
            "msd at lag {}: {} vs {}",
            r.0,
            values[i],
            r.1
        );
    }
    let sq = &tables[1];
    let s_values = sq.column("S").unwrap();
    let k2 = sq.column("k2").unwrap();
    let s_lags = sq.column("lag").unwrap();
    for (s, shell) in shells.iter().enumerate() {
        for r in &reference {
            let row = (0..sq.rows.len())
                .find(|&row| k2[row] == shell.norm2 as f64 && s_lags[row] == r.0 as f64)
                .unwrap();
            assert!(
                (s_values[row] - r.2[s]).abs() < 2e-5,
                "S(k2 = {}, lag {}) = {} vs {}",
                shell.norm2,
                r.0,
                s_values[row],
                r.2[s]
            );
        }
    }
    // C_u: the numerators relative to the one-step mean-square displacement.
    let cu = &tables[2];
    let one_step = reference[0].1;
    let cu_lags = cu.column("lag").unwrap();
    let cu_values = cu.column("C_u").unwrap();
    assert_eq!(cu_values[0], 1.0);
    for r in reference.iter().filter(|r| r.5 > 0) {
        let i = cu_lags.iter().position(|&x| x == r.0 as f64).unwrap();
        // The level of a lag: spacing 1 below p, else the power of two that divides it into
        // p/2 .. p - 1.
        let spacing = if r.0 < p as u64 {
            1.0
        } else {
            (r.0 as f64 / (p as f64 - 1.0)).log2().ceil().exp2()
        };
        let expected = r.3 / (r.5 as f64 * m as f64) / (spacing * spacing) / one_step;
        assert!(
            (cu_values[i] - expected).abs() < 1e-4,
            "C_u at lag {}: {} vs {expected}",
            r.0,
            cu_values[i]
        );
    }
}

#[test]
fn ballistic_tracers_have_msd_v2_t2_and_their_closed_form_s() {
    let (l, p, m, steps) = (64usize, 16usize, 2000usize, 1024usize);
    let shells = shells_near(l, &[0.1, 0.4, 1.0]);
    let sigma = 0.02f32;
    let normal = Normal::new(0.0f32, sigma).unwrap();
    let mut rng = StdRng::seed_from_u64(9);
    // Velocities exact in fixed point: multiples of 2^-24 lattice spacings per step.
    let quantise = |v: f32| (v * 16_777_216.0).round() / 16_777_216.0;
    let velocities: Vec<(f32, f32)> = (0..m)
        .map(|_| {
            (
                quantise(normal.sample(&mut rng)),
                quantise(normal.sample(&mut rng)),
            )
        })
        .collect();
    let mut t = TracerPositions::uniform(2, m, l);
    let mut trajectory = vec![t.clone()];
    for _ in 0..steps {
        shift(&mut t, &velocities);
        trajectory.push(t.clone());
    }
    let tables = run(l, p, &shells, &trajectory);
    let v2: f64 = velocities
        .iter()
        .map(|&(x, y)| x as f64 * x as f64 + y as f64 * y as f64)
        .sum::<f64>()
        / m as f64;
    let msd = &tables[0];
    for row in &msd.rows {
        let lag = row[0];
        let expected = v2 * lag * lag;
        assert!(
            (row[2] - expected).abs() <= 2e-5 * expected,
            "msd at lag {lag}: {} vs <v^2> t^2 = {expected}",
            row[2]
        );
        // D(t) = msd / 4t grows linearly: ballistic.
        assert!((row[3] - expected / (4.0 * row[1])).abs() <= 1e-4 * row[3]);
    }
    let sq = &tables[1];
    for row in &sq.rows {
        let (k2, lag, s) = (row[1] as u32, row[3], row[5]);
        let shell = shells.iter().find(|sh| sh.norm2 == k2).unwrap();
        let dr: Vec<(f64, f64)> = velocities
            .iter()
            .map(|&(x, y)| (x as f64 * lag, y as f64 * lag))
            .collect();
        let exact = shell_average(l, shell, &dr);
        assert!(
            (s - exact).abs() < 1e-4,
            "S(k2 = {k2}, lag {lag}) = {s}, closed form {exact}"
        );
        // And the ensemble's Gaussian form, within the sample's error.
        let q = shell.q;
        let gaussian = (-(q * q) * (sigma as f64).powi(2) * lag * lag / 2.0).exp();
        assert!(
            (s - gaussian).abs() < 4.0 / (m as f64).sqrt(),
            "S(q = {q}, lag {lag}) = {s}, exp(-q^2 sigma^2 t^2 / 2) = {gaussian}"
        );
    }
    // Constant velocities: C_u = 1 at every lag.
    for row in &tables[2].rows {
        assert!(
            (row[2] - 1.0).abs() < 1e-4,
            "C_u at lag {} = {}",
            row[0],
            row[2]
        );
    }
}

#[test]
fn brownian_tracers_have_msd_4dt_and_s_exp_minus_dq2t() {
    let (l, p, m, steps) = (64usize, 16usize, 2000usize, 1024usize);
    let dt = 0.1f64;
    let diffusion = 0.05f64; // lattice^2 / tau
    let shells = shells_near(l, &[0.2, 0.5, 1.0]);
    let normal = Normal::new(0.0f64, (2.0 * diffusion * dt).sqrt()).unwrap();
    let mut rng = StdRng::seed_from_u64(10);
    let mut t = TracerPositions::uniform(3, m, l);
    let mut trajectory = vec![t.clone()];
    for _ in 0..steps {
        let moves: Vec<(f32, f32)> = (0..m)
            .map(|_| {
                (
                    normal.sample(&mut rng) as f32,
                    normal.sample(&mut rng) as f32,
                )
            })
            .collect();
        shift(&mut t, &moves);
        trajectory.push(t.clone());
    }
    let tables = run(l, p, &shells, &trajectory);
    for row in &tables[0].rows {
        let time = row[1];
        let expected = 4.0 * diffusion * time;
        // Independent tracers: the spread of |dr|^2 is the mean itself; origins help more.
        let error = expected / (m as f64).sqrt();
        assert!(
            (row[2] - expected).abs() < 4.0 * error,
            "msd at t = {time}: {} vs 4 D t = {expected} (+- {error})",
            row[2]
        );
        assert!((row[3] - diffusion).abs() < 4.0 * error / (4.0 * time));
    }
    for row in &tables[1].rows {
        let (q, time, s) = (row[0], row[4], row[5]);
        let expected = (-diffusion * q * q * time).exp();
        assert!(
            (s - expected).abs() < 4.0 / (m as f64).sqrt(),
            "S(q = {q}, t = {time}) = {s}, exp(-D q^2 t) = {expected}"
        );
    }
    // Independent increments: C_u = 0 beyond lag 0, within the error.
    for row in tables[2].rows.iter().skip(1) {
        assert!(
            row[2].abs() < 4.0 / (m as f64).sqrt(),
            "C_u at lag {} = {}",
            row[0],
            row[2]
        );
    }
}

/// Runs `config` for `steps` steps with the given observers.
fn run_model(config: epm::Config, steps: u64, observers: &mut [&mut dyn epm::Observer]) {
    let mut sim = epm::Simulation::new(config, &super::device()).unwrap();
    sim.advance(steps, observers).unwrap();
}

#[test]
fn random_model_waiting_times_follow_their_exact_law() {
    use epm::observables::Measurement;
    use epm::observables::waiting_times::{WaitingTimeOptions, WaitingTimes};
    let (a, warm_up, steps) = (0.05, 500u64, 10_000u64);
    let config = epm::Config {
        l: 64,
        tracers: Some(0),
        activation: epm::ActivationConfig::Random { activity: a },
        ..epm::Config::default()
    };
    let (dt, p_off) = (config.dt, config.dt / config.tau_res);
    let p_on = a / (1.0 - a) * dt;
    let mut psi = WaitingTimes::new(
        WaitingTimeOptions {
            warm_up,
            ..Default::default()
        },
        dt,
    );
    run_model(config, warm_up + steps, &mut [&mut psi]);
    let table = &psi.tables().unwrap()[0];
    let counts = table.column("count").unwrap();
    let total: f64 = counts.iter().sum();
    assert!(total > 1e5, "{total} waiting times");
    // A waiting time is an active period (geometric, p_off) then an inactive one
    // (geometric, p_on): P(n) = p_off p_on ((1 - p_on)^(n-1) - (1 - p_off)^(n-1)) / (p_off - p_on).
    // A time n steps long is seen only if it fits in the run: weight (1 - n / steps).
    let law = |n: f64| {
        p_off * p_on * ((1.0 - p_on).powf(n - 1.0) - (1.0 - p_off).powf(n - 1.0)) / (p_off - p_on)
            * (1.0 - n / steps as f64).max(0.0)
    };
    let (lower, upper) = (
        table.column("lower").unwrap(),
        table.column("upper").unwrap(),
    );
    let expected: Vec<f64> = lower
        .iter()
        .zip(&upper)
        .map(|(&lo, &hi)| {
            let first = (lo / dt - 1e-9).ceil().max(2.0) as u64;
            let last = (hi / dt - 1e-9).ceil() as u64;
            (first..last).map(|n| law(n as f64)).sum()
        })
        .collect();
    let norm: f64 = expected.iter().sum();
    let mut checked = 0;
    for (i, (&c, &e)) in counts.iter().zip(&expected).enumerate() {
        let e = e / norm * total;
        if e < 20.0 {
            continue;
        }
        checked += 1;
        assert!(
            (c - e).abs() < 5.0 * e.sqrt() + 0.02 * e,
            "bin {i} ([{}, {}) tau): {c} waiting times, the law gives {e:.0}",
            lower[i],
            upper[i]
        );
    }
    assert!(checked > 15, "only {checked} bins compared");
}

#[test]
fn activity_observer_measures_the_random_models_activity() {
    use epm::observables::Measurement;
    use epm::observables::activity::{Activity, ActivityOptions};
    let a = 0.03;
    let config = epm::Config {
        l: 32,
        tracers: Some(0),
        seed: 5,
        activation: epm::ActivationConfig::Random { activity: a },
        ..epm::Config::default()
    };
    let mut activity = Activity::new(
        ActivityOptions {
            warm_up: 200,
            stress_every: 7,
            ..Default::default()
        },
        config.dt,
    );
    let mut sim = epm::Simulation::new(config, &super::device()).unwrap();
    sim.advance(10_200, &mut [&mut activity]).unwrap();
    let (mean, err) = activity.mean_activity();
    eprintln!("random model a = {a}: measured {mean:.5} +- {err:.5}");
    assert!((mean - a).abs() < 3.0 * err, "{mean} +- {err}");
    // The stress moments against the field itself at the end (one more sample of it).
    let stress = sim.state().unwrap().stress;
    let n = stress.len() as f64;
    let m = stress.iter().map(|&s| s as f64).sum::<f64>() / n;
    let sd = (stress.iter().map(|&s| (s as f64 - m).powi(2)).sum::<f64>() / n).sqrt();
    let (mean_stress, std) = activity.stress_moments().unwrap();
    assert!(mean_stress.abs() < 1e-4, "mean stress {mean_stress}");
    assert!(
        (std - sd).abs() < 0.25 * sd,
        "stress std {std} vs one snapshot's {sd}"
    );
    let tables = activity.tables().unwrap();
    let hist = tables
        .iter()
        .find(|t| t.name == "stress_histogram")
        .unwrap();
    let width = hist.rows[1][0] - hist.rows[0][0];
    let integral: f64 = hist
        .column("P(sigma)")
        .unwrap()
        .iter()
        .map(|p| p * width)
        .sum();
    assert!((integral - 1.0).abs() < 1e-9, "{integral}");
    let series = tables.iter().find(|t| t.name == "activity").unwrap();
    assert!(series.rows.len() <= 4096 && series.rows.len() > 1000);
}

#[test]
fn stress_correlation_of_an_ar1_signal() {
    use epm::observables::Measurement;
    use epm::observables::stress_correlation::{StressCorrelation, StressCorrelationOptions};
    // sigma(t + 1) = rho sigma(t) + sqrt(1 - rho^2) xi: C(t) = rho^t.
    let (sites, steps, rho) = (4096usize, 4000usize, 0.9f64);
    let client = client();
    let mut rng = StdRng::seed_from_u64(12);
    let normal = Normal::new(0.0f64, 1.0).unwrap();
    let mut sigma: Vec<f64> = (0..sites).map(|_| normal.sample(&mut rng)).collect();
    let mut c = StressCorrelation::new(
        StressCorrelationOptions {
            points_per_level: 16,
            site_stride: 1,
            ..Default::default()
        },
        0.1,
    )
    .unwrap();
    for step in 0..steps {
        let f: Vec<f32> = sigma.iter().map(|&s| s as f32).collect();
        let h = client.create_from_slice(f32::as_bytes(&f));
        c.record(
            &client,
            super::profile().correlator_chunk,
            &h,
            sites,
            step as u64,
        )
        .unwrap();
        for s in &mut sigma {
            *s = rho * *s + (1.0 - rho * rho).sqrt() * normal.sample(&mut rng);
        }
    }
    let table = &c.tables().unwrap()[0];
    let error = 4.0 / ((sites * steps) as f64).sqrt() * 10.0;
    for row in &table.rows {
        let (lag, value) = (row[0], row[2]);
        if lag < 16.0 {
            // Level 0: no averaging, the exact law.
            let expected = rho.powf(lag);
            assert!(
                (value - expected).abs() < error,
                "C({lag}) = {value}, rho^t = {expected}"
            );
        } else {
            // Block averages decay like rho^t too, times a factor near 1.
            assert!(value < rho.powf(lag * 0.8) + error, "C({lag}) = {value}");
        }
    }
    assert!(table.rows.len() > 40, "{} lags", table.rows.len());
}

#[test]
fn stress_correlation_equals_its_cpu_reference() {
    // 700 updates: levels up to 9, past the buffers' first 8 (they grow); every third site of
    // 600 and of 602 (200 and 201 sampled: the ring in vectors of four and of one), every site
    // of 600; a save and restore half way, into a fresh observer.
    for (sites, stride, lanes) in [(600, 3, 4), (602, 3, 1), (600, 1, 4)] {
        let samples = usize::div_ceil(sites, stride);
        assert_eq!(epm::observables::stress_correlation::lanes(samples), lanes);
        stress_correlation_against_cpu(sites, stride);
    }
}

fn stress_correlation_against_cpu(sites: usize, stride: usize) {
    use epm::observables::stress_correlation::{
        StressCorrelation, StressCorrelationOptions, stress_correlation_cpu,
    };
    use epm::observables::{Measurement, Persist};
    let (steps, p) = (700usize, 8usize);
    let client = client();
    let mut rng = StdRng::seed_from_u64(21);
    let normal = Normal::new(0.0f64, 1.0).unwrap();
    let mut sigma: Vec<f64> = (0..sites).map(|_| normal.sample(&mut rng)).collect();
    let options = StressCorrelationOptions {
        points_per_level: p,
        site_stride: stride,
        warm_up: 5,
    };
    let mut c = StressCorrelation::new(options, 0.1).unwrap();
    let mut sampled = vec![];
    for step in 0..steps + 5 {
        let f: Vec<f32> = sigma.iter().map(|&s| 0.3 + s as f32).collect();
        if step >= 5 {
            sampled.push(f.iter().step_by(stride).copied().collect::<Vec<_>>());
        }
        let h = client.create_from_slice(f32::as_bytes(&f));
        c.record(
            &client,
            super::profile().correlator_chunk,
            &h,
            sites,
            step as u64,
        )
        .unwrap();
        if step == 400 {
            let saved = c.save().unwrap();
            c = StressCorrelation::new(options, 0.1).unwrap();
            c.load(&saved, &client).unwrap();
        }
        for s in &mut sigma {
            *s = 0.8 * *s + 0.6 * normal.sample(&mut rng);
        }
    }
    let table = &c.tables().unwrap()[0];
    let reference = stress_correlation_cpu(&sampled, p);
    let (lags, values, origins) = (
        table.column("lag").unwrap(),
        table.column("C_sigma").unwrap(),
        table.column("origins").unwrap(),
    );
    assert_eq!(
        lags,
        reference.iter().map(|r| r.0 as f64).collect::<Vec<_>>(),
        "the lag grid"
    );
    assert!(lags.last().unwrap() >= &256.0, "level 8 and above reached");
    for (i, &(lag, expected, pairs)) in reference.iter().enumerate() {
        assert_eq!(origins[i], pairs as f64, "origins at lag {lag}");
        assert!(
            (values[i] - expected).abs() < 2e-5,
            "{sites} sites, stride {stride}: C_sigma({lag}) = {} vs {expected}",
            values[i]
        );
    }
}

#[test]
fn thermal_model_displacements_are_anticorrelated_at_low_temperature() {
    use epm::observables::Measurement;
    use epm::observables::displacements::{DisplacementOptions, Displacements};
    use epm::observables::structure_factor::log_spaced_moduli;
    // L = 32 rather than 64: C_u reaches about -0.08 (seeds 21 and 22), far below the bound,
    // in a fifth of the time.
    let l = 32;
    let warm_up = 3000;
    let config = epm::Config {
        l,
        seed: 21,
        activation: epm::ActivationConfig::Thermal { temperature: 0.1 },
        ..epm::Config::default()
    };
    let client = client();
    let mut dynamics = TracerDynamics::new(
        &client,
        l,
        config.dt,
        config.tracer_count(),
        TracerDynamicsOptions {
            points_per_level: 16,
            shells: shells_near(l, &log_spaced_moduli(l, 6, std::f64::consts::PI)),
            warm_up,
        },
    )
    .unwrap();
    let mut displacements = Displacements::new(
        DisplacementOptions {
            warm_up,
            ..Default::default()
        },
        config.dt,
    );
    run_model(
        config,
        warm_up + 20_000,
        &mut [&mut dynamics, &mut displacements],
    );
    let tables = dynamics.tables().unwrap();
    let cu = &tables[2];
    let (t, c) = (cu.column("t").unwrap(), cu.column("C_u").unwrap());
    let most_negative = c.iter().cloned().fold(f64::INFINITY, f64::min);
    let at = t[c.iter().position(|&v| v == most_negative).unwrap()];
    eprintln!("T = 0.1, L = {l}: C_u reaches {most_negative:.4} at t = {at}");
    assert!(
        most_negative < -0.02,
        "C_u never goes clearly negative: min {most_negative}"
    );
    // P(u) integrates to one over its bins.
    let p = &displacements.tables().unwrap()[0];
    let integral: f64 = p.rows.iter().map(|r| r[4] * (r[2] - r[1])).sum();
    assert!((integral - 1.0).abs() < 1e-9, "{integral}");
}

#[test]
fn a_run_directory_holds_the_manifest_and_every_table() {
    use epm::observables::measurements::Measurements;
    use epm::output::{Manifest, RunDirectory};
    let mut config = epm::Config {
        l: 32,
        seed: 4,
        activation: epm::ActivationConfig::Thermal { temperature: 0.15 },
        ..epm::Config::default()
    };
    config.observables.warm_up = 500;
    let mut sim = epm::Simulation::new(config.clone(), &super::device()).unwrap();
    let mut m = Measurements::new(&sim.view()).unwrap();
    let start = std::time::Instant::now();
    sim.advance(3000, &mut m.observers()).unwrap();
    let (tables, quantities) = m.results().unwrap();
    let dir = std::env::temp_dir().join(format!("epm-run-{}", std::process::id()));
    let run = RunDirectory::create(&dir).unwrap();
    let manifest = Manifest {
        epm_version: env!("CARGO_PKG_VERSION").into(),
        backend: epm::device::BACKEND.into(),
        adapter: epm::device::describe(sim.client()),
        rule: sim.rule_name().into(),
        config: config.clone(),
        profile: Some(*sim.profile()),
        sparse_max_active: sim.sparse_max_active(),
        twin_temperature: None,
        steps: sim.step(),
        time: sim.time(),
        wall_time_seconds: start.elapsed().as_secs_f64(),
        completed: true,
        quantities: vec![],
        tables: vec![],
        notes: vec![],
    };
    let written = run.write(manifest, tables, quantities).unwrap();
    let back = run.manifest().unwrap();
    assert_eq!(back, written);
    assert_eq!(back.config, config);
    let names: Vec<&str> = back.tables.iter().map(|t| t.file.as_str()).collect();
    for file in [
        "activity.csv",
        "stress_histogram.csv",
        "msd.csv",
        "structure_factor.csv",
        "velocity_correlation.csv",
        "displacement_distribution.csv",
        "waiting_times.csv",
        "stress_correlation.csv",
        "ctrw.csv",
    ] {
        assert!(names.contains(&file), "{file} missing from {names:?}");
        assert!(run.file(file).exists());
    }
    let a = back.quantity("mean_activity").unwrap();
    assert!(a.value > 0.0 && a.error.unwrap() > 0.0, "{a:?}");
    let msd = run.table("msd").unwrap();
    assert!(msd.columns.iter().any(|c| c.name == "slope"));
    assert!(msd.rows.len() > 30);
    // Analysed again from its files, the run gives the same numbers and tables (the CSV's
    // shortest round-trip floats are exact).
    // (Compared as text: a NaN, say an error bar longer than a block, is not equal to itself.)
    let again = run.reanalyse().unwrap();
    let json = |m: &epm::output::Manifest| serde_json::to_string(m).unwrap();
    assert_eq!(json(&again), json(&back));
    assert_eq!(run.table("msd").unwrap().to_csv(), msd.to_csv());
    // Python's csv module reads it as pandas would: a header, then numbers.
    let script = format!(
        "import csv; rows = list(csv.reader(open(r'{}'))); \
         assert rows[0][:3] == ['lag [steps]', 't [tau]', 'msd [lattice^2]'], rows[0]; \
         [float(v) for r in rows[1:] for v in r]; print(len(rows) - 1)",
        run.file("msd.csv").display()
    );
    if let Ok(out) = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
    {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            msd.rows.len().to_string()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An observer as another sees it, but called from the first step (`from_start`) or from its
/// own [`epm::Observer::first_look`]; it notes the first step it was called at.
struct Forward<'a> {
    inner: &'a mut dyn epm::Observer,
    from_start: bool,
    first_call: Option<u64>,
}

impl epm::Observer for Forward<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn on_step(&mut self, sim: &epm::View<'_>, info: &epm::StepInfo) -> Result<(), epm::SimError> {
        self.first_call.get_or_insert(info.step);
        self.inner.on_step(sim, info)
    }
    fn every(&self) -> u64 {
        self.inner.every()
    }
    fn first_look(&self) -> u64 {
        if self.from_start {
            0
        } else {
            self.inner.first_look()
        }
    }
    fn on_activity(
        &mut self,
        first: u64,
        active: &[u32],
        sites: usize,
    ) -> Result<(), epm::SimError> {
        self.inner.on_activity(first, active, sites)
    }
}

/// The observers of a run record nothing in its warm-up, so they are not called in it (and a
/// run goes through it in whole steps, many to a launch): every observer's state after the run
/// is the same, byte for byte, as when they are called from the first step.
#[test]
fn observers_are_not_called_in_their_warm_up_and_measure_the_same() {
    let config = epm::Config {
        l: 16,
        seed: 5,
        observables: epm::config::ObservablesConfig {
            warm_up: 150,
            ..Default::default()
        },
        ..Default::default()
    };
    let run = |from_start: bool| {
        let mut sim = epm::Simulation::new(config.clone(), &super::device()).unwrap();
        let mut m = epm::observables::measurements::Measurements::new(&sim.view()).unwrap();
        let mut firsts = vec![];
        {
            let mut wrapped: Vec<Forward> = m
                .observers()
                .into_iter()
                .map(|inner| Forward {
                    inner,
                    from_start,
                    first_call: None,
                })
                .collect();
            let mut list: Vec<&mut dyn epm::Observer> = wrapped
                .iter_mut()
                .map(|o| o as &mut dyn epm::Observer)
                .collect();
            for piece in [70, 330] {
                sim.advance(piece, &mut list).unwrap();
            }
            drop(list);
            firsts.extend(
                wrapped
                    .iter()
                    .map(|o| (o.inner.name().to_string(), o.first_call)),
            );
        }
        (m.save().unwrap(), firsts)
    };
    let (from_start, called) = run(true);
    let (skipped, firsts) = run(false);
    // From the start: after step 1 (the activity observer, which samples the stress every 10
    // steps, after step 10); otherwise after step 150, the end of the warm-up, a multiple of 10.
    assert!(
        called.iter().all(|(_, first)| first.unwrap() <= 10),
        "{called:?}"
    );
    for (name, first) in &firsts {
        assert_eq!(*first, Some(150), "{name}");
    }
    assert!(firsts.len() >= 4, "{firsts:?}");
    assert!(from_start == skipped, "the observers' states differ");
}

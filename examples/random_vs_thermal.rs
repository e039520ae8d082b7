//! The thermal model and the random model at the same activity (the paper's Fig. 2a): the
//! thermal model's D(t) dips below the random model's between the ballistic and diffusive
//! regimes (statistical caging).
//!
//! `cargo run --release --example random_vs_thermal -- [L] [steps] [T]` (default 64, 20000, 0.07).

use epm::observables::activity::{Activity, ActivityOptions};
use epm::observables::structure_factor::{log_spaced_moduli, shells_near};
use epm::observables::tracer_dynamics::{TracerDynamics, TracerDynamicsOptions};
use epm::{ActivationConfig, Config, Simulation};

/// What one run gives: `(t, D(t))` and the mean activity.
struct Outcome {
    d: Vec<(f64, f64)>,
    activity: f64,
}

fn run(config: Config, warm_up: u64) -> Result<Outcome, Box<dyn std::error::Error>> {
    let device = epm::device::default_device()?;
    let mut sim = Simulation::new(config.clone(), &device)?;
    let l = config.l;
    let mut dynamics = TracerDynamics::new(
        sim.client(),
        l,
        config.dt,
        sim.tracer_count(),
        TracerDynamicsOptions {
            points_per_level: 8,
            shells: shells_near(l, &log_spaced_moduli(l, 4, std::f64::consts::PI)),
            warm_up,
        },
    )?;
    let mut activity = Activity::new(
        ActivityOptions {
            warm_up,
            stress_every: 0,
            ..Default::default()
        },
        config.dt,
    );
    sim.advance(config.steps, &mut [&mut dynamics, &mut activity])?;
    let msd = &dynamics.tables()?[0];
    let d = msd
        .column("t")
        .unwrap()
        .into_iter()
        .zip(msd.column("D").unwrap())
        .collect();
    Ok(Outcome {
        d,
        activity: activity.mean_activity().0,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let l: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(64);
    let steps: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(20_000);
    let temperature: f64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(0.07);
    let warm_up = (steps / 5) as u64;
    let thermal = Config {
        l,
        steps,
        activation: ActivationConfig::Thermal { temperature },
        ..Config::default()
    };
    let Outcome {
        d: d_thermal,
        activity: a,
    } = run(thermal.clone(), warm_up)?;
    println!("thermal model, T = {temperature}: mean activity a = {a:.3e}");
    let random = Config {
        activation: ActivationConfig::Random { activity: a },
        ..thermal
    };
    let Outcome {
        d: d_random,
        activity: a_random,
    } = run(random, warm_up)?;
    println!("random model at that activity: measured a = {a_random:.3e}\n");
    println!(
        "{:>10} {:>14} {:>14} {:>8}",
        "t [tau]", "D thermal", "D random", "ratio"
    );
    for ((t, dt), (_, dr)) in d_thermal.iter().zip(&d_random).step_by(3) {
        println!("{t:>10.1} {dt:>14.4e} {dr:>14.4e} {:>8.3}", dt / dr);
    }
    Ok(())
}

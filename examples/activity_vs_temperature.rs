//! Mean activity of the thermal model against temperature, with blocking error bars, and the
//! Arrhenius slope between the temperatures, beside the paper's `a = 3.1 exp(-0.48 / T)`.
//!
//! `cargo run --release --example activity_vs_temperature -- [BASE.toml] [L] [steps] [T ...]`
//! (default: the paper's parameters, L = 64, 40000 steps, T = 0.1 0.2). `BASE.toml` sets any
//! other key (the propagator's form, say). The first quarter of the steps is warm-up.

use epm::observables::activity::{Activity, ActivityOptions};
use epm::{ActivationConfig, Config, Simulation};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).peekable();
    let base = match args.next_if(|a| a.ends_with(".toml")) {
        Some(path) => Config::load(path.as_ref())?,
        None => Config::default(),
    };
    let l: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(64);
    let steps: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(40_000);
    let mut temperatures: Vec<f64> = args.map(|a| a.parse()).collect::<Result<_, _>>()?;
    if temperatures.is_empty() {
        temperatures = vec![0.1, 0.2];
    }
    let device = epm::device::default_device()?;
    println!("{}", epm::device::describe(&device.client()));
    println!(
        "L = {l}, dt = {}, propagator {:?}, {steps} steps per temperature (first quarter discarded)\n",
        base.dt, base.propagator
    );
    println!("| T | a (measured) | standard error | paper 3.1 exp(-0.48/T) |");
    println!("|---|---|---|---|");
    let mut measured = vec![];
    for &t in &temperatures {
        let config = Config {
            l,
            tracers: Some(0),
            activation: ActivationConfig::Thermal { temperature: t },
            ..base.clone()
        };
        let dt = config.dt;
        let mut sim = Simulation::new(config, &device)?;
        if steps - steps / 4 < 2 {
            return Err(format!("steps = {steps}: too few to measure (at least 3)").into());
        }
        // The library's activity observer: its error bar is the blocking analysis's
        // (Flyvbjerg-Petersen) plateau, as in `epm run`'s manifest. No stress histograms.
        let mut activity = Activity::new(
            ActivityOptions {
                warm_up: steps / 4,
                stress_every: 0,
                ..Default::default()
            },
            dt,
        );
        sim.advance(steps, &mut [&mut activity])?;
        let (mean, err) = activity.mean_activity();
        println!(
            "| {t} | {mean:.4e} | {err:.1e} | {:.4e} |",
            3.1 * (-0.48 / t).exp()
        );
        measured.push((t, mean, err));
    }
    for pair in measured.windows(2) {
        let ((t1, a1, e1), (t2, a2, e2)) = (pair[0], pair[1]);
        // a = A exp(-E/T): E = ln(a2/a1) / (1/T1 - 1/T2), error propagated from both.
        let slope = (a2 / a1).ln() / (1.0 / t1 - 1.0 / t2);
        let err = ((e1 / a1).powi(2) + (e2 / a2).powi(2)).sqrt() / (1.0 / t1 - 1.0 / t2);
        let prefactor = a1 * (slope / t1).exp();
        println!(
            "\nArrhenius slope between T = {t1} and {t2}: E = {slope:.3} +- {err:.3}, A = {prefactor:.2} \
             (paper: E ~ 0.48, A ~ 3.1)"
        );
    }
    Ok(())
}

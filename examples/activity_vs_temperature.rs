//! Mean activity of the thermal model against temperature, with block error bars, and the
//! Arrhenius slope between the temperatures, beside the paper's `a = 3.1 exp(-0.48 / T)`.
//!
//! `cargo run --release --example activity_vs_temperature -- [BASE.toml] [L] [steps] [T ...]`
//! (default: the paper's parameters, L = 64, 40000 steps, T = 0.1 0.2). `BASE.toml` sets any
//! other key (the propagator's form, say). The first quarter of the steps is warm-up.

use epm::{ActivationConfig, Config, Observer, SimError, Simulation};

/// Block averages of the fraction of active sites, after a warm-up.
struct Blocks {
    warm_up: u64,
    block: usize,
    current: Vec<f64>,
    means: Vec<f64>,
}

impl Observer for Blocks {
    fn name(&self) -> &str {
        "activity blocks"
    }
    fn on_activity(&mut self, first: u64, active: &[u32], sites: usize) -> Result<(), SimError> {
        for (i, &a) in active.iter().enumerate() {
            if first + i as u64 >= self.warm_up {
                self.current.push(a as f64 / sites as f64);
                if self.current.len() == self.block {
                    self.means
                        .push(self.current.iter().sum::<f64>() / self.block as f64);
                    self.current.clear();
                }
            }
        }
        Ok(())
    }
}

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
        let mut sim = Simulation::new(config, &device)?;
        // Blocks of 100 time units, longer than the activity's correlation time; shorter runs
        // get 16 blocks, whose error bars then understate the correlated noise.
        let measured_steps = steps - steps / 4;
        let block = (measured_steps / 16).clamp(1, 1000) as usize;
        if measured_steps < 2 {
            return Err(format!("steps = {steps}: too few to measure (at least 3)").into());
        }
        let mut blocks = Blocks {
            warm_up: steps / 4,
            block,
            current: vec![],
            means: vec![],
        };
        sim.advance(steps, &mut [&mut blocks])?;
        let n = blocks.means.len() as f64;
        let mean = blocks.means.iter().sum::<f64>() / n;
        let var = blocks.means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let err = (var / n).sqrt();
        if block < 1000 {
            eprintln!("T = {t}: blocks of {block} steps, shorter than the 1000 meant");
        }
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

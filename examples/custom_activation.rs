//! A user-defined activation rule through the `Activation` trait, without touching the
//! kernels: GooseEPM's barrier form `Gamma0 exp(-(sigma_Y - |sigma|)^(3/2) / T)`.
//!
//! `cargo run --release --example custom_activation -- [L] [steps]` (default 64, 3000).
//! It runs the paper's thermal rule and the barrier rule side by side at the same
//! temperature and prints their mean activities.

use epm::activation::{Activation, ActivationRule};
use epm::cubecl::prelude::*;
use epm::{ActivationConfig, Config, Observer, SimError, Simulation};

// ANCHOR: rule
/// `Gamma0 exp(-(sigma_Y - |sigma|)^(3/2) / T)`, and `Gamma0` past the threshold.
/// The fields are the rule's parameters; the struct is the kernel argument.
#[derive(CubeLaunch, CubeType, Clone, Copy, Debug)]
pub struct Barrier {
    /// Temperature, in units of the barrier (`sigma_Y^(3/2)`).
    pub temperature: f32,
    /// Attempt frequency `Gamma0`.
    pub gamma0: f32,
    /// Yield stress `sigma_Y`.
    pub sigma_y: f32,
}

/// The rate on the device: compiled into the activation kernel.
#[cube]
impl ActivationRule for Barrier {
    fn rate(rule: &Barrier, temperature: f32, sigma: f32) -> f32 {
        let barrier = f32::max(rule.sigma_y - f32::abs(sigma), 0.0f32);
        rule.gamma0 * f32::exp(-(barrier * f32::sqrt(barrier)) / temperature)
    }
}

/// The host side: the kernel argument and the same rate on the CPU (for the reference).
impl Activation for Barrier {
    fn launch_arg(&self) -> BarrierLaunch {
        BarrierLaunch::new(self.temperature, self.gamma0, self.sigma_y)
    }
    fn parameter(&self) -> f32 {
        self.temperature
    }
    fn with_parameter(&self, temperature: f32) -> Self {
        Self {
            temperature,
            ..*self
        }
    }
    fn rate_cpu(&self, sigma: f32) -> f32 {
        let barrier = (self.sigma_y - sigma.abs()).max(0.0);
        self.gamma0 * (-(barrier * barrier.sqrt()) / self.temperature).exp()
    }
}
// ANCHOR_END: rule

/// Mean fraction of active sites after `warm_up` steps.
struct MeanActivity {
    warm_up: u64,
    sum: f64,
    steps: u64,
}

impl Observer for MeanActivity {
    fn name(&self) -> &str {
        "mean activity"
    }
    fn on_activity(&mut self, first: u64, active: &[u32], sites: usize) -> Result<(), SimError> {
        for (i, &a) in active.iter().enumerate() {
            if first + i as u64 >= self.warm_up {
                self.sum += a as f64 / sites as f64;
                self.steps += 1;
            }
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let l: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(64);
    let steps: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(3000);
    let temperature = 0.1;
    let device = epm::device::default_device()?;
    let config = Config {
        l,
        tracers: Some(0),
        activation: ActivationConfig::Thermal { temperature },
        ..Config::default()
    };

    // ANCHOR: run
    let barrier = Barrier {
        temperature: temperature as f32,
        gamma0: 1.0,
        sigma_y: 1.0,
    };
    let mut custom = Simulation::with_rule(config.clone(), barrier, &device)?;
    // ANCHOR_END: run
    let mut thermal = Simulation::new(config, &device)?;

    let warm_up = steps / 3;
    for (name, sim) in [
        ("thermal (paper Eq. 2)", &mut thermal),
        ("barrier (GooseEPM)", &mut custom),
    ] {
        let mut mean = MeanActivity {
            warm_up,
            sum: 0.0,
            steps: 0,
        };
        sim.advance(steps, &mut [&mut mean])?;
        println!(
            "{name:22} T = {temperature}: mean activity {:.5} over {} steps after {warm_up}",
            mean.sum / mean.steps as f64,
            mean.steps
        );
    }
    Ok(())
}

//! An observer of your own: after every step, the fraction of sites loaded beyond
//! `|sigma| > 0.8 sigma_Y` (close to yielding), computed on the device with Burn tensor ops and
//! sampled into a time series; and from the per-step counts, the longest stretch without any
//! active site.
//!
//! `cargo run --release --example custom_observer -- [L] [steps]` (default 64, 3000).

use epm::{ActivationConfig, Config, Observer, SimError, Simulation, StepInfo, View};

// ANCHOR: observer
/// The fraction of highly loaded sites every `every` steps, and the longest quiet stretch.
struct Loaded {
    every: u64,
    series: Vec<(f64, f32)>,
    quiet: u64,
    longest_quiet: u64,
}

impl Observer for Loaded {
    fn name(&self) -> &str {
        "highly loaded sites"
    }

    /// Called after steps `every`, `2 every`, ... only: in between the simulation may run
    /// several steps in one launch.
    fn every(&self) -> u64 {
        self.every
    }

    /// The fields are Burn tensors on the device: reduce there, read back one number.
    fn on_step(&mut self, sim: &View<'_>, info: &StepInfo) -> Result<(), SimError> {
        let loaded = sim.stress().abs().greater_elem(0.8).float().mean();
        self.series.push((info.time, loaded.into_scalar::<f32>()));
        Ok(())
    }

    /// Every step's active-site count, in order.
    fn on_activity(&mut self, _first: u64, active: &[u32], _sites: usize) -> Result<(), SimError> {
        for &a in active {
            self.quiet = if a == 0 { self.quiet + 1 } else { 0 };
            self.longest_quiet = self.longest_quiet.max(self.quiet);
        }
        Ok(())
    }
}
// ANCHOR_END: observer

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let l: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(64);
    let steps: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(3000);
    let config = Config {
        l,
        tracers: Some(0),
        activation: ActivationConfig::Thermal { temperature: 0.07 },
        ..Config::default()
    };
    let mut sim = Simulation::new(config, &epm::device::default_device()?)?;
    // ANCHOR: plug
    let mut loaded = Loaded {
        every: 100,
        series: vec![],
        quiet: 0,
        longest_quiet: 0,
    };
    sim.advance(steps, &mut [&mut loaded])?;
    // ANCHOR_END: plug
    for (t, f) in loaded
        .series
        .iter()
        .step_by((loaded.series.len() / 8).max(1))
    {
        println!("t = {t:7.1}: {:.4} of the sites have |sigma| > 0.8", f);
    }
    println!(
        "longest stretch without an active site: {} steps ({} tau)",
        loaded.longest_quiet,
        loaded.longest_quiet as f64 * sim.config().dt
    );
    Ok(())
}

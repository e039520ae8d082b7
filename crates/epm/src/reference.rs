//! The whole step on the CPU: the reference the device pipeline is tested against.
//!
//! Same state, same Philox draws, same order as [`crate::simulation`]; the activation and the
//! tracer arithmetic are the kernels' CPU twins (the same `f32` operations), the transforms are
//! rustfft in `f64`, the sparse update ([`crate::sparse`]) its CPU twins, chosen per window as
//! the simulation chooses (the limit is [`CpuSimulation::with_sparse_limit`]'s, 0 unless set:
//! the reference has no profile). Plain and slow (one thread): meant for tests and small lattices.

use std::sync::Arc;

use epm_fft::reference::RustFft2d;
use rustfft::num_complex::Complex;

use crate::activation::activation_step_cpu;
use crate::backend::DynActivation;
use crate::config::Config;
use crate::error::SimError;
use crate::propagator::{StepTables, propagate_cpu, stress_of_strain_cpu};
use crate::simulation::State;
use crate::sparse::{
    RealSpaceTables, WINDOW, compact_active_cpu, compaction_units, sparse_advect_cpu,
    sparse_stress_cpu,
};
use crate::tracers::advect_tracers_cpu;

/// The transforms of the step in `f64`, on [`RustFft2d`]: a real field forward, a spectrum
/// back (divided by `l^2`).
struct Fft2dCpu(RustFft2d<f64>);

impl Fft2dCpu {
    fn new(l: usize) -> Self {
        Self(RustFft2d::new(l, l))
    }

    fn forward_real(&mut self, field: &[f32]) -> Vec<(f64, f64)> {
        let mut data: Vec<Complex<f64>> =
            field.iter().map(|&v| Complex::new(v as f64, 0.0)).collect();
        self.0.forward(&mut data);
        data.into_iter().map(|c| (c.re, c.im)).collect()
    }

    fn inverse(&mut self, spectrum: &[(f64, f64)]) -> Vec<Complex<f64>> {
        let mut data: Vec<Complex<f64>> =
            spectrum.iter().map(|&(r, i)| Complex::new(r, i)).collect();
        self.0.inverse(&mut data);
        data
    }
}

/// The model on the CPU, step for step the same as [`crate::Simulation`].
pub struct CpuSimulation {
    config: Config,
    rule: Arc<dyn DynActivation>,
    tables: StepTables,
    real: RealSpaceTables,
    sparse_limit: u32,
    fft: Fft2dCpu,
    state: State,
    strain_rate: Vec<f32>,
    displacement: Vec<f32>,
    last_count: usize,
}

impl CpuSimulation {
    /// A run from `state` with `rule` (see [`crate::Simulation::from_state`]).
    pub fn new(
        config: Config,
        rule: Arc<dyn DynActivation>,
        state: State,
    ) -> Result<Self, SimError> {
        config.validate()?;
        let l = config.l;
        let n = l * l;
        let tables = StepTables::new(l, &config.propagator, config.mu, config.dt);
        Ok(Self {
            real: RealSpaceTables::new(l, &tables),
            sparse_limit: 0,
            tables,
            fft: Fft2dCpu::new(l),
            rule,
            state,
            strain_rate: vec![0.0; n],
            displacement: vec![0.0; 2 * n],
            last_count: 0,
            config,
        })
    }

    /// This reference with the sparse update taken for windows that start with at most
    /// `limit` active sites, as a simulation whose profile has that limit set by hand.
    pub fn with_sparse_limit(self, limit: u32) -> Self {
        Self {
            sparse_limit: limit,
            ..self
        }
    }

    /// One step, in the order of [`crate::simulation`]. Returns the active sites of the step.
    pub fn step(&mut self) -> usize {
        let c = &self.config;
        let l = c.l;
        let n = l * l;
        let params = c.step_params(self.state.step);
        let s = &mut self.state;
        let rule = &self.rule;
        let count = activation_step_cpu(
            &|sigma| rule.rate_cpu(sigma),
            &params,
            &s.stress,
            &mut s.active,
            &mut s.sign,
            &mut s.plastic,
            &mut self.strain_rate,
        );
        let sparse = self.sparse_limit > 0 && s.window_active <= self.sparse_limit;
        if count > 0 && sparse {
            let units = compaction_units(n);
            let (sites, rates) = compact_active_cpu(&s.active, &self.strain_rate, units);
            sparse_stress_cpu((&sites, &rates), &self.real.stress, &mut s.stress, l);
            sparse_advect_cpu(&mut s.tracers, (&sites, &rates), &self.real, l);
        } else if count > 0 {
            let e = self.fft.forward_real(&self.strain_rate);
            let [d_sigma, x, y] = propagate_cpu(&e, &self.tables).map(|h| self.fft.inverse(&h));
            for site in 0..n {
                s.stress[site] += d_sigma[site].re as f32;
                self.displacement[site] = x[site].re as f32;
                self.displacement[n + site] = y[site].re as f32;
            }
            let (du_x, du_y) = self.displacement.split_at(n);
            advect_tracers_cpu(&mut s.tracers, du_x, du_y, l);
        }
        s.step += 1;
        if self.sparse_limit > 0 && s.step.is_multiple_of(WINDOW) {
            s.window_active = count as u32;
        }
        if s.step.is_multiple_of(c.resync_every) {
            let unit = c.plastic_strain_unit() as f32;
            let strain: Vec<f32> = s.plastic.iter().map(|&k| k as f32 * unit).collect();
            let e = self.fft.forward_real(&strain);
            let sigma = self.fft.inverse(&stress_of_strain_cpu(&e, &self.tables));
            for ((stress, initial), sigma) in s.stress.iter_mut().zip(&s.initial_stress).zip(&sigma)
            {
                *stress = initial + sigma.re as f32;
            }
        }
        self.last_count = count;
        count
    }

    /// The state after the last step.
    pub fn state(&self) -> &State {
        &self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Random;
    use crate::config::ActivationConfig;

    #[test]
    fn reference_conserves_mean_stress_and_resynchronises_exactly() {
        let config = Config {
            l: 16,
            seed: 3,
            resync_every: 50,
            activation: ActivationConfig::Random { activity: 0.1 },
            ..Config::default()
        };
        let rule = Arc::new(Random::with_activity(0.1, 1.0));
        let mut sim = CpuSimulation::new(config.clone(), rule, State::initial(&config)).unwrap();
        let mut active_steps = 0;
        for _ in 0..200 {
            active_steps += sim.step();
        }
        assert!(active_steps > 1000, "{active_steps} site-steps active");
        let s = sim.state();
        let mean = s.stress.iter().map(|&v| v as f64).sum::<f64>() / s.stress.len() as f64;
        assert!(mean.abs() < 1e-6, "mean stress {mean}");
        // At step 200 (a multiple of 50) the stress is exactly 2 mu G * eps_p.
        let tables = StepTables::new(16, &config.propagator, config.mu, config.dt);
        let mut fft = Fft2dCpu::new(16);
        let strain: Vec<f32> = s.plastic.iter().map(|&k| k as f32 * 0.05).collect();
        let spectrum = fft.forward_real(&strain);
        let sigma = fft.inverse(&stress_of_strain_cpu(&spectrum, &tables));
        for (a, b) in s.stress.iter().zip(&sigma) {
            assert_eq!(*a, b.re as f32);
        }
        assert!(
            s.stress.iter().any(|&v| v.abs() > 0.1),
            "the stress never moved"
        );
    }

    #[test]
    fn sparse_and_dense_references_agree() {
        // A few active sites per step: the sparse sums against the f64 transforms.
        let c = Config {
            l: 16,
            seed: 5,
            resync_every: 100,
            activation: ActivationConfig::Random { activity: 0.02 },
            ..Config::default()
        };
        let run = |sparse| {
            let rule = Arc::new(Random::with_activity(0.02, 1.0));
            let sim = CpuSimulation::new(c.clone(), rule, State::initial(&c)).unwrap();
            sim.with_sparse_limit(sparse)
        };
        let (mut dense, mut sparse) = (run(0), run(u32::MAX));
        let mut active_steps = 0;
        for step in 1..=300u64 {
            let count = dense.step();
            assert_eq!(sparse.step(), count, "active sites at step {step}");
            active_steps += count;
            let (d, s) = (dense.state(), sparse.state());
            assert_eq!(d.active, s.active, "activity at step {step}");
            for (a, b) in d.stress.iter().zip(&s.stress) {
                assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "{a} vs {b}");
            }
            if step % 100 == 0 {
                assert_eq!(d.stress, s.stress, "resynchronised at step {step}");
            }
            for i in 0..d.tracers.len() {
                let (p, q) = (d.tracers.position(i), s.tracers.position(i));
                assert!((p.0 - q.0).abs() < 1e-5 && (p.1 - q.1).abs() < 1e-5);
            }
        }
        assert!(active_steps > 300, "{active_steps} site-steps active");
    }
}

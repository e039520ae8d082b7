//! Observers: what a run measures, called by [`crate::Simulation::advance`] as it goes.
//!
//! Data flows one way: the simulation hands each observer read access to its fields after
//! every step, and the per-step active-site counts in chunks (they are counted on the device
//! and read back every few dozen steps, not every step).

use crate::error::SimError;
use crate::simulation::Simulation;

/// What happened in the step just finished.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepInfo {
    /// Steps completed so far (the step just finished was `step - 1`).
    pub step: u64,
    /// Time `step * dt`.
    pub time: f64,
    /// Whether any site was active in that step: when none was, the stress, the displacement
    /// field and the tracers did not change, and the displacement field was not recomputed.
    pub moved: bool,
}

/// A measurement plugged into [`Simulation::advance`]. Both methods default to doing nothing.
pub trait Observer {
    /// A short name for error messages and manifests.
    fn name(&self) -> &str;

    /// Called after every step with the simulation in its state at the end of that step.
    fn on_step(&mut self, sim: &Simulation, info: &StepInfo) -> Result<(), SimError> {
        let _ = (sim, info);
        Ok(())
    }

    /// The number of active sites in steps `first_step, first_step + 1, ...`, every step
    /// exactly once and in order, out of `sites` sites.
    fn on_activity(
        &mut self,
        first_step: u64,
        active_sites: &[u32],
        sites: usize,
    ) -> Result<(), SimError> {
        let _ = (first_step, active_sites, sites);
        Ok(())
    }
}

//! Observers: what a run measures, called by [`crate::Simulation::advance`] as it goes.
//!
//! Data flows one way: the simulation (or the ensemble, one replica at a time) hands each
//! observer read access to its fields after every step ([`View`]), and the per-step active-site counts in chunks (they are counted on the device
//! and read back every few dozen steps, not every step).

use crate::error::SimError;
use crate::view::View;

/// What happened in the step just finished.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepInfo {
    /// Steps completed so far (the step just finished was `step - 1`).
    pub step: u64,
    /// Time `step * dt`.
    pub time: f64,
    /// Whether the step went through the update (model notes steps 4 to 6). False only for
    /// steps in which no site was active: the stress, the displacement field and the tracers
    /// did not change, and the displacement field was not recomputed. An ensemble updates
    /// every step (a replica's step without events adds zeros), so it is always true there.
    pub moved: bool,
}

/// A measurement plugged into [`crate::Simulation::advance`]. Both methods default to doing nothing.
pub trait Observer {
    /// A short name for error messages and manifests.
    fn name(&self) -> &str;

    /// Called after every step with the lattice (a run, or one replica of an ensemble) in its
    /// state at the end of that step.
    fn on_step(&mut self, sim: &View<'_>, info: &StepInfo) -> Result<(), SimError> {
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

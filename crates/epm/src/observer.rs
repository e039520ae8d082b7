//! Observers: what a run measures, called by [`crate::Simulation::advance`] as it goes.
//!
//! Data flows one way: the simulation (or the ensemble, one replica at a time) hands each
//! observer read access to its fields after every step it looks at ([`View`],
//! [`Observer::every`]), and the per-step active-site counts of every step in chunks (they are
//! counted on the device and read back every few dozen steps, not every step).

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

/// A measurement plugged into [`crate::Simulation::advance`]. `on_step` and `on_activity`
/// default to doing nothing, `every` to every step.
pub trait Observer {
    /// A short name for error messages and manifests.
    fn name(&self) -> &str;

    /// Called after every step whose number (`info.step`) is a multiple of
    /// [`Observer::every`] with the lattice (a run, or one replica of an ensemble) in its state
    /// at the end of that step.
    fn on_step(&mut self, sim: &View<'_>, info: &StepInfo) -> Result<(), SimError> {
        let _ = (sim, info);
        Ok(())
    }

    /// `on_step` is called after the steps that are multiples of this, and only those (1, the
    /// default: every step; `u64::MAX`: never). Between two calls a run may advance several
    /// steps in one launch (the whole-step kernel), which an observer looking at every step
    /// prevents; 0 is taken as 1.
    fn every(&self) -> u64 {
        1
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

/// Whether `observer` looks at the state after step `step` ([`Observer::every`]).
pub(crate) fn looks_at(observer: &dyn Observer, step: u64) -> bool {
    step.is_multiple_of(observer.every().max(1))
}

/// Steps to advance from `step` (at most `limit`, at least 1) before an observer whose
/// [`Observer::every`] is one of `everies` looks.
pub(crate) fn steps_to_next_look(
    step: u64,
    limit: u64,
    everies: impl IntoIterator<Item = u64>,
) -> u64 {
    everies
        .into_iter()
        .map(|every| {
            let every = every.max(1);
            every - step % every
        })
        .fold(limit, u64::min)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_look_is_the_nearest_multiple_within_the_limit() {
        assert_eq!(steps_to_next_look(0, 64, []), 64, "no observer: the limit");
        assert_eq!(steps_to_next_look(0, 64, [10]), 10);
        assert_eq!(steps_to_next_look(7, 64, [10, 4]), 1, "step 8 for every 4");
        assert_eq!(steps_to_next_look(13, 64, [10, 1]), 1);
        assert_eq!(
            steps_to_next_look(13, 5, [10, u64::MAX]),
            5,
            "the limit first"
        );
        assert_eq!(steps_to_next_look(13, 64, [0]), 1, "0 is 1");
        assert_eq!(
            steps_to_next_look(20, 64, [10]),
            10,
            "from a multiple, the next one"
        );
    }
}

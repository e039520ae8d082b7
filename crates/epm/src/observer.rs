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
    /// Whether the step may have gone through the update (model notes steps 4 to 6). False
    /// only for steps in which no site was active: the stress, the displacement field and the
    /// tracers did not change, and the displacement field was not recomputed. True may still
    /// be such a step where the host does not read the counts first: whole steps, whose
    /// launch skips a replica's steps without events on the device.
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

    /// `on_step` is not called before this step: an observer whose warm-up records nothing
    /// says so, and a run goes through the warm-up in whole steps, many to a launch (0, the
    /// default: from the start).
    fn first_look(&self) -> u64 {
        0
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

/// Whether `observer` looks at the state after step `step` ([`Observer::every`],
/// [`Observer::first_look`]).
pub(crate) fn looks_at(observer: &dyn Observer, step: u64) -> bool {
    step >= observer.first_look() && step.is_multiple_of(observer.every().max(1))
}

/// Steps to advance from `step` (at most `limit`, at least 1) before an observer looks whose
/// [`Observer::every`] and [`Observer::first_look`] are one of `looks`.
pub(crate) fn steps_to_next_look(
    step: u64,
    limit: u64,
    looks: impl IntoIterator<Item = (u64, u64)>,
) -> u64 {
    looks
        .into_iter()
        .map(|(every, first)| next_look(step, every, first) - step)
        .fold(limit, u64::min)
        .max(1)
}

/// The first step after `step` that is a multiple of `every` (0 taken as 1) and at least
/// `first`.
fn next_look(step: u64, every: u64, first: u64) -> u64 {
    let every = every.max(1);
    (step + 1).max(first).div_ceil(every).saturating_mul(every)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Looks(u64, u64);

    impl Observer for Looks {
        fn name(&self) -> &str {
            "looks"
        }
        fn every(&self) -> u64 {
            self.0
        }
        fn first_look(&self) -> u64 {
            self.1
        }
    }

    fn next(step: u64, limit: u64, looks: &[(u64, u64)]) -> u64 {
        let mut observers: Vec<Looks> = looks.iter().map(|&(e, f)| Looks(e, f)).collect();
        let list: Vec<&mut dyn Observer> = observers
            .iter_mut()
            .map(|o| o as &mut dyn Observer)
            .collect();
        let steps = steps_to_next_look(step, limit, looks.iter().copied());
        // The step it stops before is one an observer looks at, unless the limit came first.
        let looked = list.iter().any(|o| looks_at(&**o, step + steps));
        assert!(looked || steps == limit, "{step} + {steps}: {looks:?}");
        steps
    }

    #[test]
    fn the_next_look_is_the_nearest_multiple_within_the_limit() {
        assert_eq!(next(0, 64, &[]), 64, "no observer: the limit");
        assert_eq!(next(0, 64, &[(10, 0)]), 10);
        assert_eq!(next(7, 64, &[(10, 0), (4, 0)]), 1, "step 8 for every 4");
        assert_eq!(next(13, 64, &[(10, 0), (1, 0)]), 1);
        assert_eq!(next(13, 5, &[(10, 0), (u64::MAX, 0)]), 5, "the limit first");
        assert_eq!(next(13, 64, &[(0, 0)]), 1, "0 is 1");
        assert_eq!(
            next(20, 64, &[(10, 0)]),
            10,
            "from a multiple, the next one"
        );
    }

    #[test]
    fn an_observer_in_its_warm_up_looks_first_at_its_first_step() {
        // Every step from step 100: nothing before.
        assert_eq!(next(0, 64, &[(1, 100)]), 64);
        assert_eq!(next(70, 64, &[(1, 100)]), 30);
        assert_eq!(next(99, 64, &[(1, 100)]), 1);
        assert_eq!(next(100, 64, &[(1, 100)]), 1);
        // Every 10 steps from step 95: step 100 first.
        assert_eq!(next(80, 64, &[(10, 95)]), 20);
        // The earliest of two.
        assert_eq!(next(0, 64, &[(1, 100), (16, 0)]), 16);
        let never = Looks(1, 100);
        assert!(!looks_at(&never, 99) && looks_at(&never, 100));
    }
}

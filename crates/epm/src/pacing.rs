//! Pacing the host on CPU adapters: sleep in a device wait instead of spinning.
//!
//! cubecl hands launches to its device thread through a channel of two buffers of 32 tasks
//! (one running, one filling). A host that runs further ahead busy-waits until a buffer frees
//! (`spin_loop` for about half a million turns, then `yield_now`). On a GPU that costs a host
//! core and nothing else. On a CPU adapter (lavapipe) the kernels run on the same cores, and
//! the spinning thread takes one of them from the kernels: at L = 256 (ten launches a step)
//! the host spins through most of every step. Waiting for the device (a blocking `sync`, which
//! parks the thread) once 56 launches are queued keeps the host inside the
//! channel. Measured on the 2-core machine, `Simulation::advance` at T = 0.1 with a wait every
//! `k` steps, alternated: L = 256, 3.6 to 4.3 ms per step without waits, 2.9 to 3.0 with a
//! wait every 4 steps (40 launches), 2.8 to 2.9 every 6 or 8, 3.2 to 3.4 every 12 (the queue
//! fills again); L = 512, 10.5 against 9.1 ms (every 4). Waiting costs the device the time the
//! host takes to queue the next launch, so GPUs never wait here, and the whole-step kernel
//! (one launch for many steps) rarely reaches the limit. The limit is the profile's
//! ([`crate::profile::Profile::launches_ahead`]).

use std::sync::atomic::{AtomicUsize, Ordering};

use cubecl::prelude::*;

use crate::SimError;

/// Counts the launches queued since the host last waited for the device, and waits when they
/// reach the profile's limit (none in the GPU profile). The step's launches count themselves
/// where they are made ([`crate::backend`]), through a shared reference.
#[derive(Debug)]
pub(crate) struct Pacer {
    limit: Option<usize>,
    queued: AtomicUsize,
}

impl Pacer {
    /// Waits once `limit` launches are queued; never with `None`.
    pub fn with_limit(limit: Option<usize>) -> Self {
        Self {
            limit,
            queued: AtomicUsize::new(0),
        }
    }

    /// Counts `launches` more queued.
    pub fn count(&self, launches: usize) {
        self.queued.fetch_add(launches, Ordering::Relaxed);
    }

    /// Whether the queued launches reached the limit; the count starts again when they did.
    fn due(&self) -> bool {
        let due = self
            .limit
            .is_some_and(|limit| self.queued.load(Ordering::Relaxed) >= limit);
        if due {
            self.waited();
        }
        due
    }

    /// Waits for the device when the queued launches reached the limit.
    pub fn wait_if_due(&self, client: &Client) -> Result<(), SimError> {
        if self.due() {
            settle(client)?;
        }
        Ok(())
    }

    /// The host has just waited for the device (a read-back): nothing is queued.
    pub fn waited(&self) {
        self.queued.store(0, Ordering::Relaxed);
    }
}

/// Waits until `client`'s device has done every launch queued so far.
pub(crate) fn settle(client: &Client) -> Result<(), SimError> {
    cubecl::future::block_on(client.sync())
        .map_err(|e| SimError::Device(format!("waiting for the device: {e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_waits_each_time_the_queued_launches_reach_the_limit() {
        let p = Pacer::with_limit(Some(56));
        let waits: Vec<bool> = (0..12)
            .map(|_| {
                p.count(10);
                p.due()
            })
            .collect();
        // 10 launches a step: waits after steps 6 and 12 (60 >= 56, then 60 again).
        let expected: Vec<bool> = (1..=12).map(|s| s % 6 == 0).collect();
        assert_eq!(waits, expected);
        p.count(50);
        p.waited();
        p.count(50);
        assert!(!p.due(), "a read-back is a wait: the count starts again");
        p.count(6);
        assert!(p.due());
    }

    #[test]
    fn a_gpu_never_waits() {
        let p = Pacer::with_limit(None);
        assert!((0..100).all(|_| {
            p.count(1000);
            !p.due()
        }));
    }
}

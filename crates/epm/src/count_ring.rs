//! The ring of per-step active-site counts on the device, and the fault status beside it: what
//! a run and an ensemble read back, in one place.
//!
//! The activation kernel adds each step's active sites into ring slot `step % RING`, spread
//! over [`COUNT_LANES`] sub-counters; an ensemble's replicas have one ring each, one after
//! another. The host reads the ring at least once per [`RING`] steps and clears it when every
//! slot has been read. The kernel that meets a non-finite stress first writes the low 32 bits
//! of its step and the site into the status (`-1` while none).

use burn::backend::DispatchTensor;
use burn::tensor::{DType, Device as BurnDevice, Int, Tensor, TensorData};

use crate::activation::{COUNT_LANES, count_index};

/// Steps whose active-site counts the device ring holds before they must be read back.
pub(crate) const RING: usize = 64;
/// With at least this many active sites at the last count, the next step almost surely has
/// events (all of them end together with probability `(dt / tau_res)^count`): the counts are
/// read back only every [`RING`] steps. Below it every step's count is read back, so that
/// the first step without events is seen at once. Running the transforms on an empty step is
/// correct, only wasted.
pub(crate) const DENSE: u32 = 3;

/// Words of one replica's ring; the kernels find replica `r`'s at `r * RING_WORDS`, whatever
/// the number of replicas (one compilation for every ensemble size).
pub(crate) const RING_WORDS: usize = count_index(RING, 0);

/// Words of the count buffer of `replicas` rings.
pub(crate) fn words(replicas: usize) -> usize {
    RING_WORDS * replicas
}

/// The first non-finite stress the status records, if any: its step and its flat site (over
/// the replicas' sites, one lattice after another). The status keeps the step's low 32 bits;
/// the step is one of those not checked yet, from a ring before `delivered` up to `to`.
pub(crate) fn fault(status: &[i32], delivered: u64, to: u64) -> Option<(u64, usize)> {
    if status[0] == -1 {
        return None;
    }
    let low = status[0] as u32;
    let step = (delivered.saturating_sub(RING as u64)..to)
        .find(|&s| s as u32 == low)
        .unwrap_or(to - 1);
    Some((step, status[1] as u32 as usize))
}

/// The active-site count of each step `from..to` (at most one ring) of replica `replica`:
/// the sum of its slot's sub-counters.
pub(crate) fn step_counts(ring: &[i32], replica: usize, from: u64, to: u64) -> Vec<u32> {
    let base = replica * RING_WORDS;
    (from..to)
        .map(|s| {
            let slot = (s % RING as u64) as usize;
            (0..COUNT_LANES)
                .map(|lane| ring[base + count_index(slot, lane)] as u32)
                .sum()
        })
        .collect()
}

/// Whether the rings are due to be cleared once `upto` steps are complete: `upto` ends a ring,
/// every slot of it has been read (`delivered`), and it was not cleared yet (`cleared`).
pub(crate) fn clear_due(upto: u64, delivered: u64, cleared: u64) -> bool {
    upto.is_multiple_of(RING as u64) && cleared < upto && delivered >= upto
}

/// How many steps from `step` may run before the host has to step in: up to `end`, the end of
/// the current ring (its counts are read there) and the next resynchronisation (every
/// `resync_every` steps). Batches of empty steps and runs of whole steps stop there.
pub(crate) fn steps_to_boundary(step: u64, end: u64, resync_every: u64) -> u64 {
    let ring = RING as u64;
    (end - step)
        .min(ring - step % ring)
        .min(resync_every - step % resync_every)
}

/// A zeroed count buffer of `replicas` rings.
pub(crate) fn zeroed(replicas: usize, device: &BurnDevice) -> DispatchTensor {
    let len = words(replicas);
    Tensor::<1, Int>::from_data(
        TensorData::new(vec![0i32; len], [len]),
        (device, DType::I32),
    )
    .into_dispatch()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sum_the_lanes_of_each_replicas_slot() {
        let mut ring = vec![0i32; words(2)];
        // Replica 1, steps 63 and 64 (slots 63 and 0): lanes add up.
        ring[words(1) + count_index(63, 0)] = 2;
        ring[words(1) + count_index(63, COUNT_LANES - 1)] = 5;
        ring[words(1) + count_index(0, 3)] = 1;
        ring[count_index(63, 0)] = 9;
        assert_eq!(step_counts(&ring, 1, 62, 65), vec![0, 7, 1]);
        assert_eq!(step_counts(&ring, 0, 63, 64), vec![9]);
    }

    #[test]
    fn a_fault_is_placed_at_its_full_step() {
        assert_eq!(fault(&[-1, 0], 0, 10), None);
        // Step 2^32 + 5 recorded as 5; the unchecked steps run from a ring before delivered.
        let step = (1u64 << 32) + 5;
        assert_eq!(fault(&[5, 37], step + 3, step + 70), Some((step, 37)));
        assert_eq!(fault(&[5, 37], step - 2, step + 1), Some((step, 37)));
    }

    #[test]
    fn rings_clear_once_read_at_their_end() {
        assert!(clear_due(128, 128, 64));
        assert!(!clear_due(128, 127, 64));
        assert!(!clear_due(128, 128, 128));
        assert!(!clear_due(100, 128, 64));
    }

    #[test]
    fn batches_stop_at_the_end_the_ring_and_the_resynchronisation() {
        assert_eq!(steps_to_boundary(0, 1000, 1000), 64);
        assert_eq!(steps_to_boundary(70, 100, 1000), 30);
        assert_eq!(steps_to_boundary(70, 1000, 75), 5);
        assert_eq!(steps_to_boundary(127, 1000, 1000), 1);
    }
}

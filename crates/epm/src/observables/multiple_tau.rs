//! The multiple-tau lag schedule of the device correlators ([`super::tracer_dynamics`],
//! [`super::stress_correlation`]): lags `1 .. p-1` steps, then `p/2` per octave, in memory that
//! grows with the logarithm of the run length.
//!
//! Level `k` holds the last `p` values of its time axis, one every `2^k` updates of level 0.
//! When it takes a new value it pairs it with the values `j` slots back, lag `j 2^k`:
//! `j = 1 .. p-1` at level 0 and `j = p/2 .. p-1` above, whose shorter lags level `k - 1`
//! already has. What a level's value is (a sampled position, a block average) is the
//! correlator's business; the schedule is the same, and so is the levels' device storage
//! (`LevelBuffers`: every level's ring and accumulator in one buffer each).

use std::marker::PhantomData;
use std::ops::Range;

use cubecl::prelude::*;
use cubecl::server::Handle;

use crate::config::limits;
use crate::error::SimError;

/// Levels a correlator's buffers hold at first; they double when a run outgrows them.
const INITIAL_LEVELS: usize = 8;

/// Level-0 updates between two readbacks of a correlator's `f32` device accumulators into its
/// `f64` sums: short enough that `f32` sums stay accurate.
pub const READ_EVERY: u64 = 64;

/// The lags of a correlator with `p` values per level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LagSchedule {
    points: usize,
}

impl LagSchedule {
    /// The schedule with `points_per_level` values per level (even, see
    /// [`limits::POINTS_PER_LEVEL`]).
    pub fn new(points_per_level: usize) -> Result<Self, SimError> {
        limits::check_points_per_level(points_per_level).map_err(|reason| {
            SimError::InvalidArgument {
                argument: "points_per_level",
                value: points_per_level.to_string(),
                reason,
            }
        })?;
        Ok(Self {
            points: points_per_level,
        })
    }

    /// Values per level, `p`.
    pub fn points(self) -> usize {
        self.points
    }

    /// The first slot `j` whose lag level `level` measures: 1 at level 0, `p/2` above.
    pub fn first_lag(self, level: usize) -> usize {
        if level == 0 { 1 } else { self.points / 2 }
    }

    /// The highest level that takes a value at position `index` of level 0's time axis
    /// (level `k` takes one at every multiple of `2^k`; position 0 only feeds level 0).
    pub fn top_level(index: u64) -> usize {
        if index == 0 {
            0
        } else {
            index.trailing_zeros() as usize
        }
    }

    /// The slots that gain an origin when level `level`, already holding `count` values, takes
    /// a new one: those with a value `j` slots back.
    pub fn new_pairs(self, level: usize, count: u64) -> Range<usize> {
        let first = self.first_lag(level);
        let end = self.points.min(count as usize + 1);
        first..end.max(first)
    }

    /// `index` (level-0 updates before this one) as the kernels take it: a level's count is
    /// `index >> level` there. Past `u32::MAX` updates (never at 10^7 steps) a typed error.
    pub fn device_index(index: u64) -> Result<u32, SimError> {
        u32::try_from(index).map_err(|_| SimError::InvalidArgument {
            argument: "steps",
            value: index.to_string(),
            reason: format!("a correlator counts at most {} updates", u32::MAX),
        })
    }

    /// Lag of slot `j` of level `level`, in level-0 updates.
    pub fn lag(level: usize, j: usize) -> u64 {
        (j as u64) << level
    }

    /// Every `(level, slot)` of `levels` levels, in increasing lag.
    pub fn slots(self, levels: usize) -> impl Iterator<Item = (usize, usize)> {
        (0..levels).flat_map(move |k| (self.first_lag(k)..self.points).map(move |j| (k, j)))
    }
}

/// Every level's ring (values `R`) and `f32` accumulator of a device correlator, each in one
/// buffer `[level][...]`, so that one launch reaches every level taking a value and one read
/// takes every level's sums. Room for `capacity` levels, doubled (read back and uploaded:
/// rare) when a run outgrows it.
pub(crate) struct LevelBuffers<R: CubeElement> {
    /// `[level][ring_per_level]`.
    pub ring: Handle,
    /// `[level][accum_per_level]`.
    pub accum: Handle,
    ring_per_level: usize,
    accum_per_level: usize,
    capacity: usize,
    values: PhantomData<R>,
}

impl<R: CubeElement> LevelBuffers<R> {
    /// No level yet.
    pub fn new(client: &Client, ring_per_level: usize, accum_per_level: usize) -> Self {
        Self {
            ring: client.empty(4),
            accum: client.empty(4),
            ring_per_level,
            accum_per_level,
            capacity: 0,
            values: PhantomData,
        }
    }

    /// The ring buffer's length in values.
    pub fn ring_len(&self) -> usize {
        self.capacity * self.ring_per_level
    }

    /// The accumulator buffer's length in values.
    pub fn accum_len(&self) -> usize {
        self.capacity * self.accum_per_level
    }

    /// Where level `level`'s ring starts.
    pub fn ring_offset(&self, level: usize) -> usize {
        level * self.ring_per_level
    }

    /// Room for `levels` levels; what the buffers hold stays.
    pub fn reserve(&mut self, client: &Client, levels: usize) -> Result<(), SimError> {
        if levels > self.capacity {
            let (ring, accum) = match self.capacity {
                0 => (vec![], vec![]),
                _ => (
                    super::download::<R>(client, &self.ring)?,
                    super::download::<f32>(client, &self.accum)?,
                ),
            };
            self.upload(client, levels.max(2 * self.capacity), &ring, &accum);
        }
        Ok(())
    }

    /// Buffers for at least `levels` levels holding `ring` and `accum` (shorter: the rest zeros).
    pub fn upload(&mut self, client: &Client, levels: usize, ring: &[R], accum: &[f32]) {
        self.capacity = levels.max(INITIAL_LEVELS);
        let padded = |bytes: &[u8], len: usize| {
            let mut b = bytes.to_vec();
            b.resize(len, 0);
            client.create_from_slice(&b)
        };
        self.ring = padded(R::as_bytes(ring), self.ring_len() * size_of::<R>());
        self.accum = padded(f32::as_bytes(accum), self.accum_len() * size_of::<f32>());
    }

    /// The accumulators of the first `levels` levels, one read.
    pub fn accumulators(&self, client: &Client, levels: usize) -> Result<Vec<Vec<f32>>, SimError> {
        per_level(client, &self.accum, self.accum_per_level, levels)
    }

    /// Zeros in every accumulator (after a readback).
    pub fn clear_accumulators(&mut self, client: &Client) {
        if self.capacity > 0 {
            self.accum = client.create_from_slice(&vec![0u8; self.accum_len() * size_of::<f32>()]);
        }
    }

    /// The rings of the first `levels` levels, one read.
    pub fn rings(&self, client: &Client, levels: usize) -> Result<Vec<Vec<R>>, SimError> {
        per_level(client, &self.ring, self.ring_per_level, levels)
    }
}

/// The first `levels` runs of `len` values of `buffer`, read back once (nothing read for none).
fn per_level<T: CubeElement>(
    client: &Client,
    buffer: &Handle,
    len: usize,
    levels: usize,
) -> Result<Vec<Vec<T>>, SimError> {
    if levels == 0 {
        return Ok(vec![]);
    }
    let values = super::download::<T>(client, buffer)?;
    Ok(values
        .chunks_exact(len)
        .take(levels)
        .map(<[T]>::to_vec)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lags_increase_with_p_over_2_per_octave() {
        let s = LagSchedule::new(8).unwrap();
        let lags: Vec<u64> = s.slots(3).map(|(k, j)| LagSchedule::lag(k, j)).collect();
        assert_eq!(lags, [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28]);
    }

    #[test]
    fn a_level_pairs_only_with_values_it_holds() {
        let s = LagSchedule::new(8).unwrap();
        assert_eq!(s.new_pairs(0, 0), 1..1);
        assert_eq!(s.new_pairs(0, 3), 1..4);
        assert_eq!(s.new_pairs(0, 100), 1..8);
        assert_eq!(s.new_pairs(2, 2), 4..4);
        assert_eq!(s.new_pairs(2, 5), 4..6);
        assert_eq!(LagSchedule::top_level(0), 0);
        assert_eq!(LagSchedule::top_level(12), 2);
    }

    #[test]
    fn a_device_index_past_u32_is_refused_naming_steps() {
        assert_eq!(LagSchedule::device_index(7).unwrap(), 7);
        let e = LagSchedule::device_index(1 << 32).unwrap_err().to_string();
        assert!(e.contains("steps") && e.contains("4294967296"), "{e}");
    }

    #[test]
    fn odd_or_out_of_range_points_are_refused() {
        for p in [0, 2, 7, 66] {
            let e = LagSchedule::new(p).unwrap_err().to_string();
            assert!(
                e.contains("points_per_level") && e.contains(&p.to_string()),
                "{e}"
            );
        }
        assert!(LagSchedule::new(64).is_ok());
    }
}

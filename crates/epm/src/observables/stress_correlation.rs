//! `C_sigma(t)`: the autocorrelation of the local stress (paper, Fig. 3d),
//!
//! ```text
//! C_sigma(t) = (<sigma(r, t0) sigma(r, t0 + t)> - <sigma>^2) / (<sigma^2> - <sigma>^2)
//! ```
//!
//! averaged over sites and origins, by a multiple-tau correlator with block averaging
//! (Ramirez, Sukumaran, Vorselaars & Likhtman 2010) on [`LagSchedule`]'s lags: level 0 holds
//! the last `p` stresses of every sampled site, level `k` the last `p` averages over `2^k`
//! steps; a new value at level `k` is multiplied with the values `j` slots back (and with
//! itself at level 0, lag 0). Every `site_stride`-th site is sampled.

use cubecl::prelude::*;
use cubecl::server::Handle;
use epm_fft::buffer;

use super::multiple_tau::{LagSchedule, READ_EVERY};
use super::{Column, Measurement, Table, float_buffer};
use crate::error::SimError;
use crate::observer::{Observer, StepInfo};
use crate::view::View;

/// Sites per unit of the pair kernel.
pub const CHUNK: usize = 64;

/// Level 0's new values: `value[i] = stress[i stride]`, also added into level 1's block sum.
#[cube(launch)]
pub fn gather_stress(
    stress: &[f32],
    value: &mut [f32],
    block: &mut [f32],
    #[comptime] samples: usize,
    #[comptime] stride: usize,
) {
    let i = ABSOLUTE_POS;
    if i < samples {
        let s = stress[i * stride];
        value[i] = s;
        block[i] += s;
    }
}

/// Level `k >= 1`'s new values from the block sum of two level `k - 1` values, also added
/// into level `k + 1`'s block sum; clears the block sum.
#[cube(launch)]
pub fn average_block(
    block: &mut [f32],
    value: &mut [f32],
    next_block: &mut [f32],
    #[comptime] samples: usize,
) {
    let i = ABSOLUTE_POS;
    if i < samples {
        let v = block[i] * 0.5f32;
        block[i] = 0.0f32;
        value[i] = v;
        next_block[i] += v;
    }
}

/// One level's update: unit `(j, c)` multiplies the new values of chunk `c` (sites
/// `c, c + chunks, ...`) with the ring slot `j` back and adds the sum (and, at `j = 0`, the
/// sum of the values) to its accumulator slot; unit `j = 0` then stores the new values.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub fn correlate_stress(
    value: &[f32],
    ring: &mut [f32],
    accum: &mut [f32],
    count: u32,
    first_lag: u32,
    #[comptime] samples: usize,
    #[comptime] p: usize,
    #[comptime] chunks: usize,
) {
    let unit = ABSOLUTE_POS;
    if unit >= comptime![p * chunks] {
        terminate!();
    }
    let j = (unit / chunks) as u32;
    let c = unit % chunks;
    let per_chunk = comptime![samples.div_ceil(chunks)];
    if j == 0u32 {
        let slot = (count % comptime![p as u32]) as usize;
        let mut product = 0.0f32;
        let mut sum = 0.0f32;
        for i in 0..per_chunk {
            let s = c + i * chunks;
            if s < samples {
                let v = value[s];
                product += v * v;
                sum += v;
                ring[slot * samples + s] = v;
            }
        }
        accum[2 * unit] += product;
        accum[2 * unit + 1] += sum;
        terminate!();
    }
    // Slot `count % p` is being overwritten: lags up to p - 1 never read it.
    if j < first_lag || j > count {
        terminate!();
    }
    let slot = ((count - j) % comptime![p as u32]) as usize;
    let mut product = 0.0f32;
    for i in 0..per_chunk {
        let s = c + i * chunks;
        if s < samples {
            product += value[s] * ring[slot * samples + s];
        }
    }
    accum[2 * unit] += product;
}

/// Options of [`StressCorrelation`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StressCorrelationOptions {
    /// Steps before the first value.
    pub warm_up: u64,
    /// Values per level, `p` (even, 4 to 64).
    pub points_per_level: usize,
    /// Every this many sites is sampled (0: enough for at most 16384 sites).
    pub site_stride: usize,
}

impl Default for StressCorrelationOptions {
    fn default() -> Self {
        Self {
            warm_up: 0,
            points_per_level: 16,
            site_stride: 0,
        }
    }
}

struct Level {
    value: Handle,
    block: Handle,
    ring: Handle,
    accum: Handle,
    count: u64,
}

/// The `C_sigma(t)` observer.
pub struct StressCorrelation {
    options: StressCorrelationOptions,
    schedule: LagSchedule,
    dt: f64,
    client: Option<Client>,
    samples: usize,
    stride: usize,
    chunks: usize,
    levels: Vec<Level>,
    /// Per level, `[lag][product, sum]` in `f64`.
    sums: Vec<Vec<f64>>,
    origins: Vec<Vec<u64>>,
    start: Option<u64>,
    updates: u64,
}

impl StressCorrelation {
    /// A `C_sigma` observer for a run with time step `dt`.
    pub fn new(options: StressCorrelationOptions, dt: f64) -> Result<Self, SimError> {
        let schedule = LagSchedule::new(options.points_per_level)?;
        Ok(Self {
            schedule,
            options,
            dt,
            client: None,
            samples: 0,
            stride: 1,
            chunks: 1,
            levels: vec![],
            sums: vec![],
            origins: vec![],
            start: None,
            updates: 0,
        })
    }

    fn new_level(&mut self) {
        let client = self.client.as_ref().expect("set before");
        let p = self.options.points_per_level;
        let zeros = |n: usize| client.create_from_slice(f32::as_bytes(&vec![0.0; n]));
        self.levels.push(Level {
            value: zeros(self.samples),
            block: zeros(self.samples),
            ring: zeros(p * self.samples),
            accum: zeros(2 * p * self.chunks),
            count: 0,
        });
        self.sums.push(vec![0.0; 2 * p]);
        self.origins.push(vec![0; p]);
    }

    /// Records the stress field `stress` (`sites` values) after `step` steps.
    pub fn record(
        &mut self,
        client: &Client,
        stress: &Handle,
        sites: usize,
        step: u64,
    ) -> Result<(), SimError> {
        if step < self.options.warm_up {
            return Ok(());
        }
        if self.client.is_none() {
            self.client = Some(client.clone());
            self.stride = if self.options.site_stride == 0 {
                sites.div_ceil(16384).max(1)
            } else {
                self.options.site_stride
            };
            self.samples = sites.div_ceil(self.stride);
            self.chunks = self.samples.div_ceil(CHUNK);
        }
        let start = *self.start.get_or_insert(step);
        // Level k takes a new value once 2^k new values of level 0 are in: the averages sit at
        // positions 1, 2, 3, ... of level 0's axis.
        let top = LagSchedule::top_level(step - start + 1);
        let n = self.samples;
        let dim = CubeDim::new_1d(256);
        let grid = |units: usize| cubecl::calculate_cube_count_elemwise(client, units, dim);
        // Every buffer here holds `f32`.
        let arg = |h: &Handle, len: usize| buffer::arg::<f32>(h, len);
        // Level 1 must exist to receive level 0's block sums.
        while self.levels.len() < 2 {
            self.new_level();
        }
        gather_stress::launch(
            client,
            grid(n),
            dim,
            arg(stress, sites),
            arg(&self.levels[0].value, n),
            arg(&self.levels[1].block, n),
            n,
            self.stride,
        );
        for k in 0..=top {
            if k + 2 > self.levels.len() {
                self.new_level();
            }
            if k > 0 {
                average_block::launch(
                    client,
                    grid(n),
                    dim,
                    arg(&self.levels[k].block, n),
                    arg(&self.levels[k].value, n),
                    arg(&self.levels[k + 1].block, n),
                    n,
                );
            }
            let p = self.options.points_per_level;
            let first_lag = self.schedule.first_lag(k);
            let count = self.levels[k].count;
            correlate_stress::launch(
                client,
                grid(p * self.chunks),
                dim,
                arg(&self.levels[k].value, n),
                arg(&self.levels[k].ring, p * n),
                arg(&self.levels[k].accum, 2 * p * self.chunks),
                count as u32,
                first_lag as u32,
                n,
                p,
                self.chunks,
            );
            if k == 0 {
                self.origins[0][0] += 1;
            }
            for j in self.schedule.new_pairs(k, count) {
                self.origins[k][j] += 1;
            }
            self.levels[k].count += 1;
        }
        self.updates += 1;
        if self.updates.is_multiple_of(READ_EVERY) {
            self.read_back()?;
        }
        Ok(())
    }

    /// The device accumulators folded over chunks: `[level][lag][product, sum]`.
    fn device_sums(&self) -> Result<Vec<Vec<f64>>, SimError> {
        let Some(client) = &self.client else {
            return Ok(vec![]);
        };
        let p = self.options.points_per_level;
        self.levels
            .iter()
            .map(|level| {
                let mut out = vec![0.0; 2 * p];
                let accum = super::download_f32(client, &level.accum)?;
                for (unit, pair) in accum.chunks_exact(2).enumerate() {
                    let j = unit / self.chunks;
                    out[2 * j] += pair[0] as f64;
                    out[2 * j + 1] += pair[1] as f64;
                }
                Ok(out)
            })
            .collect()
    }

    /// Moves the device accumulators into the `f64` sums and clears them (every
    /// [`READ_EVERY`] updates).
    fn read_back(&mut self) -> Result<(), SimError> {
        let device = self.device_sums()?;
        for (sums, d) in self.sums.iter_mut().zip(device) {
            sums.iter_mut().zip(d).for_each(|(s, d)| *s += d);
        }
        if let Some(client) = &self.client {
            let p = self.options.points_per_level;
            for level in &mut self.levels {
                level.accum =
                    client.create_from_slice(f32::as_bytes(&vec![0.0; 2 * p * self.chunks]));
            }
        }
        Ok(())
    }
}

/// One level as saved: value, block, ring, accumulator, count.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedLevel(Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>, u64);

/// What [`StressCorrelation`] saves.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedStressCorrelation {
    samples: usize,
    stride: usize,
    chunks: usize,
    levels: Vec<SavedLevel>,
    sums: Vec<Vec<f64>>,
    origins: Vec<Vec<u64>>,
    start: Option<u64>,
    updates: u64,
}

impl super::Persist for StressCorrelation {
    fn save(&self) -> Result<Vec<u8>, SimError> {
        let levels = match &self.client {
            Some(client) => self
                .levels
                .iter()
                .map(|l| {
                    Ok(SavedLevel(
                        super::download_f32(client, &l.value)?,
                        super::download_f32(client, &l.block)?,
                        super::download_f32(client, &l.ring)?,
                        super::download_f32(client, &l.accum)?,
                        l.count,
                    ))
                })
                .collect::<Result<_, SimError>>()?,
            None => vec![],
        };
        super::encode(&SavedStressCorrelation {
            samples: self.samples,
            stride: self.stride,
            chunks: self.chunks,
            levels,
            sums: self.sums.clone(),
            origins: self.origins.clone(),
            start: self.start,
            updates: self.updates,
        })
    }

    fn load(&mut self, bytes: &[u8], client: &Client) -> Result<(), SimError> {
        let s: SavedStressCorrelation = super::decode(bytes)?;
        let up = |v: &[f32]| client.create_from_slice(f32::as_bytes(v));
        self.levels = s
            .levels
            .iter()
            .map(|SavedLevel(value, block, ring, accum, count)| Level {
                value: up(value),
                block: up(block),
                ring: up(ring),
                accum: up(accum),
                count: *count,
            })
            .collect();
        if s.start.is_some() {
            self.client = Some(client.clone());
        }
        self.samples = s.samples;
        self.stride = s.stride;
        self.chunks = s.chunks;
        self.sums = s.sums;
        self.origins = s.origins;
        self.start = s.start;
        self.updates = s.updates;
        Ok(())
    }
}

impl Observer for StressCorrelation {
    fn name(&self) -> &str {
        "stress correlation"
    }

    fn on_step(&mut self, sim: &View<'_>, info: &StepInfo) -> Result<(), SimError> {
        let stress = float_buffer(sim.stress())?;
        self.record(sim.client(), &stress, sim.config().sites(), info.step)
    }
}

impl Measurement for StressCorrelation {
    fn tables(&mut self) -> Result<Vec<Table>, SimError> {
        let mut sums = self.sums.clone();
        for (s, d) in sums.iter_mut().zip(self.device_sums()?) {
            s.iter_mut().zip(d).for_each(|(s, d)| *s += d);
        }
        let mut t = Table::new(
            "stress_correlation",
            "C_sigma(t): autocorrelation of the local stress, mean removed, 1 at t = 0",
            vec![
                Column::new("lag", "steps"),
                Column::new("t", "tau"),
                Column::new("C_sigma", "1"),
                Column::new("origins", "1"),
            ],
        );
        if self.levels.is_empty() || self.origins[0][0] == 0 {
            return Ok(vec![t]);
        }
        let n = self.samples as f64;
        let zero = self.origins[0][0] as f64 * n;
        let mean = sums[0][1] / zero;
        let variance = sums[0][0] / zero - mean * mean;
        t.rows.push(vec![0.0, 0.0, 1.0, self.origins[0][0] as f64]);
        for (k, j) in self.schedule.slots(sums.len()) {
            let o = self.origins[k][j];
            if o == 0 {
                continue;
            }
            let lag = LagSchedule::lag(k, j);
            let c = (sums[k][2 * j] / (o as f64 * n) - mean * mean) / variance;
            t.rows
                .push(vec![lag as f64, lag as f64 * self.dt, c, o as f64]);
        }
        Ok(vec![t])
    }
}

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

use super::multiple_tau::{LagSchedule, LevelBuffers, READ_EVERY};
use super::{Column, Measurement, Table, float_buffer};
use crate::error::SimError;
use crate::observer::{Observer, StepInfo};
use crate::view::View;

/// One update of every level that takes a value, levels `0 ..= top` (`levels = top + 1`), in
/// one launch. Unit `(k, c)` works on chunk `c` (sites `c, c + chunks, ...`) of level `k`: it
/// stores the level's new value in its ring slot `count % p` (adding the sum of squares and of
/// values to the accumulator of lag 0), then multiplies it with the values `j` slots back, lag
/// by lag. Level `k` held `count = index >> k` values before (`index`: level-0 updates before
/// this one). The accumulators are `[level][lag][chunk][product, sum]`, each the sum over the
/// chunk's sites in order.
///
/// Level `k`'s new value is the average of level `k - 1`'s previous value (its ring slot
/// `count - 1`) and its new one, both of this launch or of the ring, so every unit computes it
/// from the stress itself without waiting for another: a level taking a value takes it at
/// every level below too. The new values are written to slots no other unit reads in this
/// launch (pairs read `count - j`, averages `count - 1`). `prev + new` is exactly the block sum
/// `(0 + prev) + new` a buffer accumulating the two would hold.
///
/// The ring in vectors of `N` sampled sites (four where they make whole vectors; on lavapipe a
/// load costs about the same for one value or four), the stress read site by site (sampled
/// every `stride`-th): a unit's sums are then `N` partial sums, added at the end.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub fn correlate_stress<N: Size>(
    stress: &[f32],
    ring: &mut [Vector<f32, N>],
    accum: &mut [f32],
    index: u32,
    levels: u32,
    #[comptime] samples: usize,
    #[comptime] stride: usize,
    #[comptime] p: usize,
    #[comptime] chunks: usize,
    #[comptime] lanes: usize,
) {
    let unit = ABSOLUTE_POS;
    if unit >= levels as usize * chunks {
        terminate!();
    }
    let k = (unit / chunks) as u32;
    let c = unit % chunks;
    let pu = comptime![p as u32];
    let count = index >> k;
    let vectors = comptime![samples / lanes];
    let per_chunk = comptime![(samples / lanes).div_ceil(chunks)];
    let level = k as usize * p;
    // Lag 0: the new value, its square and itself.
    let new = (level + (count % pu) as usize) * vectors;
    let mut product = Vector::<f32, N>::new(0.0f32);
    let mut sum = Vector::<f32, N>::new(0.0f32);
    for i in 0..per_chunk {
        let q = c + i * chunks;
        if q < vectors {
            let mut v = Vector::<f32, N>::new(0.0f32);
            #[unroll]
            for l in 0..lanes {
                v.insert(l, stress[(q * comptime![lanes] + l) * comptime![stride]]);
            }
            for m in 1..k + 1 {
                let below = m - 1;
                let previous = ((index >> below) - 1u32) % pu;
                let half = Vector::<f32, N>::new(0.5f32);
                v = (ring[(below as usize * p + previous as usize) * vectors + q] + v) * half;
            }
            product += v * v;
            sum += v;
            ring[new + q] = v;
        }
    }
    let lag0 = 2 * (level * chunks + c);
    accum[lag0] += add_lanes::<N>(product, lanes);
    accum[lag0 + 1] += add_lanes::<N>(sum, lanes);
    // Lags `first_lag ..= min(count, p - 1)`: the new value (this unit's own stores) times the
    // one `j` back.
    let first_lag = select(k == 0u32, 1u32, comptime![(p / 2) as u32]);
    let last_lag = select(count < pu, count, pu - 1u32);
    for j in first_lag..last_lag + 1 {
        let back = (level + ((count - j) % pu) as usize) * vectors;
        let mut product = Vector::<f32, N>::new(0.0f32);
        for i in 0..per_chunk {
            let q = c + i * chunks;
            if q < vectors {
                product += ring[new + q] * ring[back + q];
            }
        }
        accum[2 * ((level + j as usize) * chunks + c)] += add_lanes::<N>(product, lanes);
    }
}

/// The sum of `v`'s `lanes` values, in lane order.
#[cube]
fn add_lanes<N: Size>(v: Vector<f32, N>, #[comptime] lanes: usize) -> f32 {
    let mut total = v.extract(0usize);
    #[unroll]
    for l in 1..lanes {
        total += v.extract(l);
    }
    total
}

/// Sampled sites per vector of [`correlate_stress()`]'s ring, for `samples` sampled sites.
pub fn lanes(samples: usize) -> usize {
    if samples.is_multiple_of(4) { 4 } else { 1 }
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

/// The `C_sigma(t)` observer.
pub struct StressCorrelation {
    options: StressCorrelationOptions,
    schedule: LagSchedule,
    dt: f64,
    client: Option<Client>,
    samples: usize,
    stride: usize,
    chunks: usize,
    /// Every level's last `p` values, `[level][slot][sample]`, and `f32` sums since the last
    /// readback, `[level][unit][product, sum]`.
    buffers: Option<LevelBuffers<f32>>,
    /// Values each level took.
    counts: Vec<u64>,
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
            buffers: None,
            counts: vec![],
            sums: vec![],
            origins: vec![],
            start: None,
            updates: 0,
        })
    }

    /// Storage for the levels, once the sampled sites are known.
    fn storage(&self, client: &Client) -> LevelBuffers<f32> {
        let p = self.options.points_per_level;
        LevelBuffers::new(client, p * self.samples, 2 * p * self.chunks)
    }

    /// Makes room for `levels` levels.
    fn grow(&mut self, client: &Client, levels: usize) -> Result<(), SimError> {
        let mut buffers = match self.buffers.take() {
            Some(b) => b,
            None => self.storage(client),
        };
        buffers.reserve(client, levels)?;
        self.buffers = Some(buffers);
        let p = self.options.points_per_level;
        while self.counts.len() < levels {
            self.counts.push(0);
            self.sums.push(vec![0.0; 2 * p]);
            self.origins.push(vec![0; p]);
        }
        Ok(())
    }

    /// Records the stress field `stress` (`sites` values) after `step` steps; the kernel's
    /// units take `chunk` sampled sites each
    /// ([`crate::profile::Profile::correlator_chunk`]; the first record's holds).
    pub fn record(
        &mut self,
        client: &Client,
        chunk: usize,
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
            self.chunks = self.samples.div_ceil(chunk.max(1));
        }
        let start = *self.start.get_or_insert(step);
        // Level k takes a new value once 2^k new values of level 0 are in: the averages sit at
        // positions 1, 2, 3, ... of level 0's axis.
        let index = step - start;
        let top = LagSchedule::top_level(index + 1);
        self.grow(client, top + 1)?;
        let index = LagSchedule::device_index(index)?;
        let p = self.options.points_per_level;
        let units = (top + 1) * self.chunks;
        // Small cubes: at L = 64 one level's 64 units are two cubes, one per core of a CPU.
        let dim = CubeDim::new_1d(32);
        let n = self.samples;
        let buffers = self.buffers.as_ref().expect("grown");
        let lanes = lanes(n);
        correlate_stress::launch(
            client,
            cubecl::calculate_cube_count_elemwise(client, units, dim),
            dim,
            lanes,
            buffer::arg::<f32>(stress, sites),
            buffer::vectors::<f32>(&buffers.ring, buffers.ring_len(), lanes),
            buffer::arg::<f32>(&buffers.accum, buffers.accum_len()),
            index,
            (top + 1) as u32,
            n,
            self.stride,
            p,
            self.chunks,
            lanes,
        );
        for k in 0..=top {
            let count = self.counts[k];
            if k == 0 {
                self.origins[0][0] += 1;
            }
            for j in self.schedule.new_pairs(k, count) {
                self.origins[k][j] += 1;
            }
            self.counts[k] += 1;
        }
        self.updates += 1;
        if self.updates.is_multiple_of(READ_EVERY) {
            self.read_back()?;
        }
        Ok(())
    }

    /// The device accumulators folded over chunks: `[level][lag][product, sum]`.
    fn device_sums(&self) -> Result<Vec<Vec<f64>>, SimError> {
        let (Some(client), Some(buffers)) = (&self.client, &self.buffers) else {
            return Ok(vec![]);
        };
        let p = self.options.points_per_level;
        Ok(buffers
            .accumulators(client, self.counts.len())?
            .into_iter()
            .map(|level| {
                let mut out = vec![0.0; 2 * p];
                for (unit, pair) in level.chunks_exact(2).enumerate() {
                    let j = unit / self.chunks;
                    out[2 * j] += pair[0] as f64;
                    out[2 * j + 1] += pair[1] as f64;
                }
                out
            })
            .collect())
    }

    /// Moves the device accumulators into the `f64` sums and clears them (every
    /// [`READ_EVERY`] updates).
    fn read_back(&mut self) -> Result<(), SimError> {
        let device = self.device_sums()?;
        for (sums, d) in self.sums.iter_mut().zip(device) {
            sums.iter_mut().zip(d).for_each(|(s, d)| *s += d);
        }
        if let (Some(client), Some(buffers)) = (&self.client, &mut self.buffers) {
            buffers.clear_accumulators(client);
        }
        Ok(())
    }
}

/// One level as saved: two empty vectors (format 1 kept the level's last value and block sum
/// here; its ring holds both), ring, accumulator, count.
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
        let levels = match (&self.client, &self.buffers) {
            (Some(client), Some(buffers)) => {
                let n = self.counts.len();
                buffers
                    .rings(client, n)?
                    .into_iter()
                    .zip(buffers.accumulators(client, n)?)
                    .zip(&self.counts)
                    .map(|((r, a), &count)| SavedLevel(vec![], vec![], r, a, count))
                    .collect()
            }
            _ => vec![],
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
        self.samples = s.samples;
        self.stride = s.stride;
        self.chunks = s.chunks;
        self.sums = s.sums;
        self.origins = s.origins;
        self.start = s.start;
        self.updates = s.updates;
        let p = self.options.points_per_level;
        let (ring_len, accum_len) = (p * self.samples, 2 * p * self.chunks);
        if let Some(l) = s
            .levels
            .iter()
            .find(|l| l.2.len() != ring_len || l.3.len() != accum_len)
        {
            return Err(SimError::ObserverState {
                action: "restoring",
                what: "stress correlation".into(),
                message: format!(
                    "a level holds {} ring and {} accumulator values, not {ring_len} and {accum_len}",
                    l.2.len(),
                    l.3.len()
                ),
            });
        }
        self.counts = s.levels.iter().map(|l| l.4).collect();
        (self.client, self.buffers) = (None, None);
        if s.start.is_some() {
            self.client = Some(client.clone());
            let ring: Vec<f32> = s.levels.iter().flat_map(|l| l.2.iter().copied()).collect();
            let accum: Vec<f32> = s.levels.iter().flat_map(|l| l.3.iter().copied()).collect();
            let mut buffers = self.storage(client);
            buffers.upload(client, s.levels.len(), &ring, &accum);
            self.buffers = Some(buffers);
        }
        Ok(())
    }
}

impl Observer for StressCorrelation {
    fn name(&self) -> &str {
        "stress correlation"
    }

    /// Nothing is recorded in the warm-up.
    fn first_look(&self) -> u64 {
        self.options.warm_up
    }

    fn on_step(&mut self, sim: &View<'_>, info: &StepInfo) -> Result<(), SimError> {
        let stress = float_buffer(sim.stress())?;
        let chunk = sim.profile().correlator_chunk;
        self.record(
            sim.client(),
            chunk,
            &stress,
            sim.config().sites(),
            info.step,
        )
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
        if self.counts.is_empty() || self.origins[0][0] == 0 {
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

/// `C_sigma` by its definition on the CPU, in `f64`: level `k`'s value `q` is the mean of
/// `values[q 2^k .. (q + 1) 2^k]` at each site, paired with the values `j` back
/// (`j = 1 .. p-1` at level 0, `p/2 .. p-1` above). `values[step][site]`; returns
/// `(lag, C_sigma, origins)` in the table's order, lag 0 first.
#[cfg(test)]
pub fn stress_correlation_cpu(values: &[Vec<f32>], p: usize) -> Vec<(u64, f64, u64)> {
    let (steps, sites) = (values.len(), values[0].len());
    let all = (steps * sites) as f64;
    let flat = values.iter().flatten().map(|&v| v as f64);
    let mean = flat.clone().sum::<f64>() / all;
    let variance = flat.map(|v| v * v).sum::<f64>() / all - mean * mean;
    let mut rows = vec![(0, 1.0, steps as u64)];
    for k in 0.. {
        let width = 1usize << k;
        if width > steps {
            break;
        }
        let level: Vec<Vec<f64>> = (0..steps / width)
            .map(|q| {
                (0..sites)
                    .map(|s| {
                        let block = &values[q * width..(q + 1) * width];
                        block.iter().map(|v| v[s] as f64).sum::<f64>() / width as f64
                    })
                    .collect()
            })
            .collect();
        for j in if k == 0 { 1 } else { p / 2 }..p {
            if j >= level.len() {
                break;
            }
            let pairs = level.len() - j;
            let product: f64 = (j..level.len())
                .map(|q| {
                    (0..sites)
                        .map(|s| level[q][s] * level[q - j][s])
                        .sum::<f64>()
                })
                .sum();
            let c = (product / (pairs * sites) as f64 - mean * mean) / variance;
            rows.push(((j << k) as u64, c, pairs as u64));
        }
    }
    rows
}

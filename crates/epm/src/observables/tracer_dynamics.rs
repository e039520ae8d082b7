//! Tracer dynamics on the device: the mean-square displacement and `D(t) = <dr^2> / (4 t)`
//! (paper, Fig. 2a), the structure factor `S(q, t)` ([`super::structure_factor`], Figs. 2b-d)
//! and the autocorrelation of the displacements per unit time `C_u(t)` (Fig. 3c), at
//! log-spaced lags, averaged over tracers and sliding origins, in memory that grows only with
//! the logarithm of the run length.
//!
//! # Multiple-tau lags
//! The lags are [`LagSchedule`]'s: level `k` keeps the last `p` tracer positions taken every
//! `2^k` steps and pairs the current positions with those `j 2^k` steps back. Origins are every
//! step at level 0 and every `2^k` steps at level `k`. Displacements are exact differences of
//! the tracers' fixed-point positions.
//!
//! Per pair: `|dr|^2`, `|dr|^4`, the shell averages of `cos(q . dr)`, and for `C_u` the product
//! `du(t) . du(t - j 2^k)` of the displacements over the last `2^k` steps at both ends (the
//! multiple-tau estimate: displacement vectors per unit time averaged over `2^k` steps).
//!
//! # Sums
//! One launch per update for every level that takes the positions: unit `(k, j, c)` takes
//! chunk `c` of the tracers (tracers `c, c + chunks, ...`) at level `k` and lag `j` and adds
//! its sums to its own slot of the `f32` accumulator (`j = 0` stores the snapshot). All levels'
//! rings share one buffer, and so do their accumulators. Every [`READ_EVERY`] updates of
//! level 0 the host reads the accumulators (one readback), adds them in `f64` and clears them.
//!
//! # Blocks
//! The mean-square displacement is also kept per block of consecutive updates (a pair belongs
//! to the block of its later end), for error bars: table `msd_blocks`. Blocks start
//! [`READ_EVERY`] updates long; whenever there are `2 BLOCKS` complete ones, neighbours merge
//! and the length doubles, so a run of any length ends with `BLOCKS` to `2 BLOCKS` blocks.

use cubecl::prelude::*;
use cubecl::server::Handle;
use epm_fft::buffer;

use super::multiple_tau::{LagSchedule, LevelBuffers, READ_EVERY};
use super::structure_factor::{Shell, cos_poly};
use super::{Column, Table};
use crate::config::limits::MAX_SHELLS;
use crate::error::SimError;

/// Quantities summed per (lag, chunk), before the shells.
const SQUARED: usize = 0;
const FOURTH: usize = 1;
const VELOCITY: usize = 2;
const FIRST_SHELL: usize = 3;
/// Tracers per unit of the pair kernel (64 before: a quarter gives a 64 x 64 lattice's 256
/// tracers 16 chunks, more cubes to share out; checkpoints of 64 still load).
pub const CHUNK: usize = 16;
/// Fewest complete blocks of the MSD (see the module documentation).
pub const BLOCKS: usize = 8;

/// The difference `a - b` of two fixed-point coordinates (cell, high fraction word), exact
/// but for the rounding of the fraction to `f32`: returns the cell part and the fraction.
#[cube]
fn difference(cell_a: i32, high_a: u32, cell_b: i32, high_b: u32) -> (i32, f32) {
    let borrow = select(high_a < high_b, 1i32, 0i32);
    let fraction = f32::cast_from(high_a - high_b) * comptime![1.0f32 / 4_294_967_296.0];
    (cell_a - cell_b - borrow, fraction)
}

/// Snapshot of tracer `t` in slot `slot` of the ring's level starting at slot `level_slot`:
/// cell x, cell y, high fraction x, high fraction y.
#[cube]
fn snapshot(
    ring: &mut [u32],
    level_slot: usize,
    slot: u32,
    t: usize,
    #[comptime] tracers: usize,
) -> (i32, i32, u32, u32) {
    let base = ((level_slot + slot as usize) * tracers + t) * 4;
    (
        i32::cast_from(ring[base]),
        i32::cast_from(ring[base + 1]),
        ring[base + 2],
        ring[base + 3],
    )
}

/// The update of every level that takes the positions (levels `0 ..= top`, `levels = top + 1`)
/// in one launch: unit `(k, j, c)` does level `k`'s pairs at lag `j >= 1` or its snapshot push
/// (`j = 0`) for chunk `c`. See the module documentation. Level `k` took `index >> k`
/// snapshots before now (`index`: level-0 updates before this one); the levels are
/// independent (each pairs the current positions with its own ring), so one launch holds them
/// all. `vectors` lists the half-shells' `(kx, ky, shell)` at compile time (every shell sum is
/// then a register: a private array indexed at run time was 4 times slower on lavapipe).
/// Shell sums are of `cos`, not yet divided by the half-shell's size.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub fn correlate_levels(
    cells: &[i32],
    fractions: &[u32],
    ring: &mut [u32],
    accum: &mut [f32],
    index: u32,
    levels: u32,
    #[comptime] tracers: usize,
    #[comptime] p: usize,
    #[comptime] chunks: usize,
    #[comptime] shells: usize,
    #[comptime] vectors: Vec<(i32, i32, usize)>,
    #[comptime] log2_l: usize,
) {
    let unit = ABSOLUTE_POS;
    let per_level = comptime![p * chunks];
    if unit >= levels as usize * per_level {
        terminate!();
    }
    let k = (unit / per_level) as u32;
    let j = ((unit % per_level) / chunks) as u32;
    let c = unit % chunks;
    let count = index >> k;
    let first_lag = select(k == 0u32, 1u32, comptime![(p / 2) as u32]);
    let level_slot = k as usize * p;
    let per_chunk = comptime![tracers.div_ceil(chunks)];
    let pu = comptime![p as u32];
    if j == 0u32 {
        // The snapshot: overwrites the oldest slot, which no lag below p reads.
        let slot = count % pu;
        for i in 0..per_chunk {
            let t = c + i * chunks;
            if t < tracers {
                let base = ((level_slot + slot as usize) * tracers + t) * 4;
                ring[base] = u32::cast_from(cells[2 * t]);
                ring[base + 1] = u32::cast_from(cells[2 * t + 1]);
                ring[base + 2] = fractions[4 * t];
                ring[base + 3] = fractions[4 * t + 2];
            }
        }
        terminate!();
    }
    if j < first_lag || j > count {
        terminate!();
    }
    let then = (count - j) % pu;
    // C_u needs the snapshot before `then` too, and must not read the slot being replaced.
    let with_velocity = j < count && j + 1 < pu;
    let previous = (count - 1) % pu;
    let before_then = (count + pu - j - 1) % pu;
    let mask = comptime![(1i32 << log2_l) - 1];
    let phase_scale = comptime![2.0f32 * core::f32::consts::PI / (1usize << log2_l) as f32];
    let mut squared = 0.0f32;
    let mut fourth = 0.0f32;
    let mut velocity = 0.0f32;
    let mut shell_sum = Array::<f32>::new(comptime![shells.max(1)]);
    #[unroll]
    for s in 0..comptime![shells.max(1)] {
        shell_sum[s] = 0.0f32;
    }
    for i in 0..per_chunk {
        let t = c + i * chunks;
        if t < tracers {
            let (cx, cy) = (cells[2 * t], cells[2 * t + 1]);
            let (hx, hy) = (fractions[4 * t], fractions[4 * t + 2]);
            let (tcx, tcy, thx, thy) = snapshot(ring, level_slot, then, t, tracers);
            let (ix, fx) = difference(cx, hx, tcx, thx);
            let (iy, fy) = difference(cy, hy, tcy, thy);
            let dx = f32::cast_from(ix) + fx;
            let dy = f32::cast_from(iy) + fy;
            let r2 = dx * dx + dy * dy;
            squared += r2;
            fourth += r2 * r2;
            #[unroll]
            for v in 0..comptime![vectors.len()] {
                let kx = comptime![vectors[v].0];
                let ky = comptime![vectors[v].1];
                // The integer part of k . dr modulo L is exact; the rest stays below a few L.
                let whole = (ix * kx + iy * ky) & mask;
                let phase = phase_scale
                    * (f32::cast_from(whole)
                        + fx * comptime![kx as f32]
                        + fy * comptime![ky as f32]);
                shell_sum[comptime![vectors[v].2]] += cos_poly(phase);
            }
            if with_velocity {
                let (pcx, pcy, phx, phy) = snapshot(ring, level_slot, previous, t, tracers);
                let (bcx, bcy, bhx, bhy) = snapshot(ring, level_slot, before_then, t, tracers);
                let (nx, nfx) = difference(cx, hx, pcx, phx);
                let (ny, nfy) = difference(cy, hy, pcy, phy);
                let (bx, bfx) = difference(tcx, thx, bcx, bhx);
                let (by, bfy) = difference(tcy, thy, bcy, bhy);
                velocity += (f32::cast_from(nx) + nfx) * (f32::cast_from(bx) + bfx)
                    + (f32::cast_from(ny) + nfy) * (f32::cast_from(by) + bfy);
            }
        }
    }
    let q = comptime![FIRST_SHELL + shells];
    let base = unit * q;
    accum[base + SQUARED] += squared;
    accum[base + FOURTH] += fourth;
    accum[base + VELOCITY] += velocity;
    #[unroll]
    for s in 0..shells {
        accum[base + FIRST_SHELL + s] += shell_sum[s];
    }
}

/// Copies `len` words of `source` into `destination` from word `offset` on: the positions at
/// the first observed step into slot 0 of a new level's ring (and back).
#[cube(launch)]
pub fn copy_words(
    source: &[u32],
    destination: &mut [u32],
    source_offset: usize,
    offset: usize,
    #[comptime] len: usize,
) {
    let i = ABSOLUTE_POS;
    if i < len {
        destination[offset + i] = source[source_offset + i];
    }
}

/// Options of [`TracerDynamics`].
#[derive(Debug, Clone, PartialEq)]
pub struct TracerDynamicsOptions {
    /// Lags per level, `p` (even, 4 to 64): `p/2` lags per octave.
    pub points_per_level: usize,
    /// The shells of `S(q, t)`.
    pub shells: Vec<Shell>,
    /// Steps before the first origin (the steady state is measured).
    pub warm_up: u64,
}

/// The MSD sums of one block: `[level][lag]`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Block {
    squared: Vec<Vec<f64>>,
    origins: Vec<Vec<u64>>,
}

impl Block {
    fn level(&mut self, k: usize, p: usize) -> (&mut Vec<f64>, &mut Vec<u64>) {
        while self.squared.len() <= k {
            self.squared.push(vec![0.0; p]);
            self.origins.push(vec![0; p]);
        }
        (&mut self.squared[k], &mut self.origins[k])
    }

    /// Adds the squared displacements of device sums `[level][lag * q + i]`.
    fn add_squared(&mut self, device: &[Vec<f64>], p: usize, q: usize) {
        for (k, d) in device.iter().enumerate() {
            let (squared, _) = self.level(k, p);
            for (j, s) in squared.iter_mut().enumerate() {
                *s += d[j * q + SQUARED];
            }
        }
    }

    fn absorb(&mut self, other: &Block, p: usize) {
        for k in 0..other.squared.len() {
            let (sq, or) = self.level(k, p);
            sq.iter_mut()
                .zip(&other.squared[k])
                .for_each(|(a, b)| *a += b);
            or.iter_mut()
                .zip(&other.origins[k])
                .for_each(|(a, b)| *a += b);
        }
    }
}

/// One level's accumulator `[lag][chunk][quantity]` summed over chunks in `f64`:
/// `[lag * q + quantity]`.
fn fold(level: &[f32], p: usize, q: usize) -> Vec<f64> {
    let chunks = level.len() / (p * q);
    let mut out = vec![0.0; p * q];
    for j in 0..p {
        for c in 0..chunks {
            for i in 0..q {
                out[j * q + i] += level[(j * chunks + c) * q + i] as f64;
            }
        }
    }
    out
}

/// Multiple-tau accumulation of the tracers' MSD, `S(q, t)` and `C_u(t)` on the device (see
/// the module documentation). Feed it positions with [`TracerDynamics::record`] (or plug it
/// into [`crate::Simulation::advance`]); read the results with [`TracerDynamics::tables`].
pub struct TracerDynamics {
    options: TracerDynamicsOptions,
    schedule: LagSchedule,
    client: Client,
    l: usize,
    dt: f64,
    tracers: usize,
    chunks: usize,
    quantities: usize,
    /// The half-shells' `(kx, ky, shell)`.
    vectors: Vec<(i32, i32, usize)>,
    /// Vectors per half-shell.
    half_sizes: Vec<usize>,
    origin: Handle,
    /// Every level's last `p` snapshots, `[level][slot][tracer][4]` words, and `f32` sums
    /// since the last readback, `[level][lag][chunk][quantity]`.
    buffers: LevelBuffers<u32>,
    /// Snapshots each level took.
    counts: Vec<u64>,
    /// `f64` sums per level, `[lag][quantity]`.
    sums: Vec<Vec<f64>>,
    /// Pairs (origins) per level and lag, for the displacements and for `C_u`.
    origins: Vec<Vec<u64>>,
    velocity_origins: Vec<Vec<u64>>,
    start: Option<u64>,
    updates: u64,
    /// The MSD per block, the last one being filled.
    blocks: Vec<Block>,
    /// Updates per block.
    block_length: u64,
}

impl TracerDynamics {
    /// A correlator for `tracers` tracers on an `l x l` lattice with time step `dt`.
    pub fn new(
        client: &Client,
        l: usize,
        dt: f64,
        tracers: usize,
        options: TracerDynamicsOptions,
    ) -> Result<Self, SimError> {
        let schedule = LagSchedule::new(options.points_per_level)?;
        if options.shells.len() > MAX_SHELLS {
            return Err(SimError::InvalidArgument {
                argument: "shells",
                value: options.shells.len().to_string(),
                reason: format!("at most {MAX_SHELLS}"),
            });
        }
        if tracers == 0 {
            return Err(SimError::InvalidArgument {
                argument: "tracers",
                value: "0".into(),
                reason: "tracer dynamics needs tracers".into(),
            });
        }
        let mut vectors = vec![];
        let mut half_sizes = vec![];
        for (s, shell) in options.shells.iter().enumerate() {
            let half = shell.half();
            half_sizes.push(half.len());
            vectors.extend(half.into_iter().map(|(kx, ky)| (kx, ky, s)));
        }
        let chunks = tracers.div_ceil(CHUNK);
        Ok(Self {
            schedule,
            client: client.clone(),
            l,
            dt,
            tracers,
            chunks,
            quantities: FIRST_SHELL + options.shells.len(),
            vectors,
            half_sizes,
            origin: client.empty(tracers * 16),
            buffers: LevelBuffers::new(
                client,
                options.points_per_level * tracers * 4,
                options.points_per_level * chunks * (FIRST_SHELL + options.shells.len()),
            ),
            counts: vec![],
            sums: vec![],
            origins: vec![],
            velocity_origins: vec![],
            start: None,
            updates: 0,
            blocks: vec![Block::default()],
            block_length: READ_EVERY,
            options,
        })
    }

    /// The options.
    pub fn options(&self) -> &TracerDynamicsOptions {
        &self.options
    }

    /// A new level.
    fn new_level(&mut self) -> Result<(), SimError> {
        self.buffers.reserve(&self.client, self.counts.len() + 1)?;
        let p = self.options.points_per_level;
        self.counts.push(0);
        self.sums.push(vec![0.0; p * self.quantities]);
        self.origins.push(vec![0; p]);
        self.velocity_origins.push(vec![0; p]);
        Ok(())
    }

    /// Records the tracer positions after `step` steps: `cells` (`[M, 2]` `i32`) and
    /// `fractions` (`[M, 4]` `u32` words), as [`crate::Simulation::tracer_tensors`] holds them.
    pub fn record(
        &mut self,
        cells: &Handle,
        fractions: &Handle,
        step: u64,
    ) -> Result<(), SimError> {
        if step < self.options.warm_up {
            return Ok(());
        }
        let start = *self.start.get_or_insert(step);
        let s = step - start;
        let index = LagSchedule::device_index(s)?;
        let p = self.options.points_per_level;
        let top = LagSchedule::top_level(s);
        let len = self.tracers * 4;
        let dim = CubeDim::new_1d(256);
        while self.counts.len() <= top {
            let k = self.counts.len();
            self.new_level()?;
            if k > 0 {
                // The new level's first snapshot is the first observed position.
                copy_words::launch(
                    &self.client,
                    cubecl::calculate_cube_count_elemwise(&self.client, len, dim),
                    dim,
                    buffer::arg::<u32>(&self.origin, len),
                    buffer::arg::<u32>(&self.buffers.ring, self.buffers.ring_len()),
                    0,
                    self.buffers.ring_offset(k),
                    len,
                );
                self.counts[k] = 1;
            }
        }
        self.launch(top + 1, cells, fractions, index);
        for k in 0..=top {
            let count = self.counts[k];
            debug_assert_eq!(count, s >> k, "level {k}'s snapshots");
            let pairs = self.schedule.new_pairs(k, count);
            let block = self.blocks.last_mut().expect("a block is always open");
            let (_, block_origins) = block.level(k, p);
            block_origins[pairs.clone()]
                .iter_mut()
                .for_each(|o| *o += 1);
            for j in pairs {
                self.origins[k][j] += 1;
                if j < count as usize && j + 1 < p {
                    self.velocity_origins[k][j] += 1;
                }
            }
            self.counts[k] += 1;
        }
        if s == 0 {
            // Keep the first snapshot (level 0's slot 0) for the levels still to come.
            copy_words::launch(
                &self.client,
                cubecl::calculate_cube_count_elemwise(&self.client, len, dim),
                dim,
                buffer::arg::<u32>(&self.buffers.ring, self.buffers.ring_len()),
                buffer::arg::<u32>(&self.origin, len),
                0,
                0,
                len,
            );
        }
        self.updates += 1;
        if self.updates.is_multiple_of(READ_EVERY) {
            self.read_back()?;
        }
        Ok(())
    }

    /// One launch for levels `0 .. levels`.
    fn launch(&self, levels: usize, cells: &Handle, fractions: &Handle, index: u32) {
        let p = self.options.points_per_level;
        let units = levels * p * self.chunks;
        let dim = CubeDim::new_1d(64);
        let m = self.tracers;
        correlate_levels::launch(
            &self.client,
            cubecl::calculate_cube_count_elemwise(&self.client, units, dim),
            dim,
            buffer::arg::<i32>(cells, 2 * m),
            buffer::arg::<u32>(fractions, 4 * m),
            buffer::arg::<u32>(&self.buffers.ring, self.buffers.ring_len()),
            buffer::arg::<f32>(&self.buffers.accum, self.buffers.accum_len()),
            index,
            levels as u32,
            m,
            p,
            self.chunks,
            self.options.shells.len(),
            self.vectors.clone(),
            self.l.trailing_zeros() as usize,
        );
    }

    /// The device accumulators of every level, folded over chunks: `[level][lag * q + i]`.
    fn device_sums(&self) -> Result<Vec<Vec<f64>>, SimError> {
        let p = self.options.points_per_level;
        let q = self.quantities;
        Ok(self
            .buffers
            .accumulators(&self.client, self.counts.len())?
            .iter()
            .map(|level| fold(level, p, q))
            .collect())
    }

    /// Adds the device accumulators to the `f64` sums and clears them (every
    /// [`READ_EVERY`] updates, so `f32` sums stay short).
    pub fn read_back(&mut self) -> Result<(), SimError> {
        let device = self.device_sums()?;
        let p = self.options.points_per_level;
        self.add_to_block(&device);
        for (sums, d) in self.sums.iter_mut().zip(device) {
            sums.iter_mut().zip(d).for_each(|(s, d)| *s += d);
        }
        self.buffers.clear_accumulators(&self.client);
        // Read-backs fall on multiples of READ_EVERY, and so do block ends (a second read-back
        // at the same update finds the new block still empty).
        let open_is_empty = self
            .blocks
            .last()
            .is_none_or(|b| b.origins.iter().flatten().all(|&o| o == 0));
        if self.updates.is_multiple_of(self.block_length) && !open_is_empty {
            self.blocks.push(Block::default());
            if self.blocks.len() > 2 * BLOCKS {
                let open = self.blocks.pop().expect("just pushed");
                let complete = std::mem::take(&mut self.blocks);
                for pair in complete.chunks(2) {
                    let mut merged = pair[0].clone();
                    if let Some(second) = pair.get(1) {
                        merged.absorb(second, p);
                    }
                    self.blocks.push(merged);
                }
                self.blocks.push(open);
                self.block_length *= 2;
            }
        }
        Ok(())
    }

    /// Adds the squared displacements of device sums `[level][lag * q + i]` to the open block.
    fn add_to_block(&mut self, device: &[Vec<f64>]) {
        let (p, q) = (self.options.points_per_level, self.quantities);
        let block = self.blocks.last_mut().expect("a block is always open");
        block.add_squared(device, p, q);
    }

    /// The lags measured so far, in steps, ascending, each with its level and index.
    fn lags(&self) -> Vec<(u64, usize, usize)> {
        self.schedule
            .slots(self.counts.len())
            .filter(|&(k, j)| self.origins[k][j] > 0)
            .map(|(k, j)| (LagSchedule::lag(k, j), k, j))
            .collect()
    }

    /// The tables: `msd` (with `D(t)` and the non-Gaussian parameter), `structure_factor`
    /// (long format, one row per shell and lag) and `velocity_correlation` (`C_u`). Reads the
    /// device accumulators without clearing them: the accumulation goes on undisturbed.
    pub fn tables(&self) -> Result<Vec<Table>, SimError> {
        let device = self.device_sums()?;
        let mut blocks = self.blocks.clone();
        blocks
            .last_mut()
            .expect("a block is always open")
            .add_squared(&device, self.options.points_per_level, self.quantities);
        let mut all = self.sums.clone();
        for (sums, d) in all.iter_mut().zip(device) {
            sums.iter_mut().zip(d).for_each(|(s, d)| *s += d);
        }
        let m = self.tracers as f64;
        let q = self.quantities;
        let mut msd = Table::new(
            "msd",
            "mean-square displacement of the tracers, D(t) = msd / (4 t), and the non-Gaussian parameter alpha2 = <dr^4> / (2 <dr^2>^2) - 1",
            vec![
                Column::new("lag", "steps"),
                Column::new("t", "tau"),
                Column::new("msd", "lattice^2"),
                Column::new("D", "lattice^2/tau"),
                Column::new("alpha2", "1"),
                Column::new("origins", "1"),
            ],
        );
        let mut sq = Table::new(
            "structure_factor",
            "S(q, t) = < cos(q . dr) > over tracers, origins and the wave vectors of one shell (any integer k, also beyond the Brillouin zone)",
            vec![
                Column::new("q", "1/lattice"),
                Column::new("k2", "1"),
                Column::new("vectors", "1"),
                Column::new("lag", "steps"),
                Column::new("t", "tau"),
                Column::new("S", "1"),
            ],
        );
        let mut cu = Table::new(
            "velocity_correlation",
            "C_u(t) = <u(t0) . u(t0 + t)> / <|u|^2>, u the displacement per unit time (averaged over the lag's level spacing)",
            vec![
                Column::new("lag", "steps"),
                Column::new("t", "tau"),
                Column::new("C_u", "1"),
                Column::new("origins", "1"),
            ],
        );
        let mut per_block = Table::new(
            "msd_blocks",
            "the mean-square displacement per block of consecutive steps (a pair belongs to the block of its later end), for error bars; the last block may be partial",
            vec![
                Column::new("block", "1"),
                Column::new("lag", "steps"),
                Column::new("t", "tau"),
                Column::new("msd", "lattice^2"),
                Column::new("origins", "1"),
            ],
        );
        let lags = self.lags();
        for (b, block) in blocks.iter().enumerate() {
            for &(lag, k, j) in &lags {
                let origins = block.origins.get(k).map_or(0, |o| o[j]);
                if origins == 0 {
                    continue;
                }
                let squared = block.squared[k][j];
                per_block.rows.push(vec![
                    b as f64,
                    lag as f64,
                    lag as f64 * self.dt,
                    squared / (origins as f64 * m),
                    origins as f64,
                ]);
            }
        }
        // <|u|^2> dt^2: the one-step mean-square displacement.
        let one_step = all.first().map_or(0.0, |s| s[q + SQUARED])
            / (self.origins.first().map_or(0, |o| o[1]).max(1) as f64 * m);
        if one_step > 0.0 {
            cu.rows.push(vec![0.0, 0.0, 1.0, self.origins[0][1] as f64]);
        }
        for &(lag, k, j) in &lags {
            let sums = &all[k][j * q..(j + 1) * q];
            let n = self.origins[k][j] as f64 * m;
            let t = lag as f64 * self.dt;
            let r2 = sums[SQUARED] / n;
            let r4 = sums[FOURTH] / n;
            let alpha2 = if r2 > 0.0 {
                r4 / (2.0 * r2 * r2) - 1.0
            } else {
                0.0
            };
            msd.rows.push(vec![
                lag as f64,
                t,
                r2,
                r2 / (4.0 * t),
                alpha2,
                self.origins[k][j] as f64,
            ]);
            for (s, shell) in self.options.shells.iter().enumerate() {
                sq.rows.push(vec![
                    shell.q,
                    shell.norm2 as f64,
                    shell.vectors.len() as f64,
                    lag as f64,
                    t,
                    sums[FIRST_SHELL + s] / (n * self.half_sizes[s] as f64),
                ]);
            }
            let vo = self.velocity_origins[k][j];
            if vo > 0 && one_step > 0.0 {
                let block = (1u64 << k) as f64;
                let c = sums[VELOCITY] / (vo as f64 * m) / (block * block) / one_step;
                cu.rows.push(vec![lag as f64, t, c, vo as f64]);
            }
        }
        sq.rows
            .sort_by(|a, b| a[1].total_cmp(&b[1]).then(a[3].total_cmp(&b[3])));
        Ok(vec![msd, sq, cu, per_block])
    }
}

/// The CPU reference of [`TracerDynamics`]: the same lags and origins from a trajectory
/// (positions after steps `0, 1, 2, ...`, all observed), in `f64`. Returns, per lag in steps,
/// `(msd, S per shell, C_u numerator before normalisation, origins, velocity origins)`.
#[cfg(test)]
#[allow(clippy::type_complexity)]
pub fn tracer_dynamics_cpu(
    trajectory: &[crate::tracers::TracerPositions],
    points_per_level: usize,
    shells: &[Shell],
    l: usize,
) -> Vec<(u64, f64, Vec<f64>, f64, u64, u64)> {
    let p = points_per_level as u64;
    let positions = |s: usize| -> Vec<(f64, f64)> {
        (0..trajectory[s].len())
            .map(|i| trajectory[s].position(i))
            .collect()
    };
    // Positions as the device holds them: the fraction cut to its high word.
    let cut = |(x, y): (f64, f64)| {
        let c = |v: f64| v.floor() + ((v - v.floor()) * 4_294_967_296.0).floor() / 4_294_967_296.0;
        (c(x), c(y))
    };
    let end = trajectory.len() as u64 - 1;
    let mut rows = vec![];
    for k in 0..64 {
        let spacing = 1u64 << k;
        if spacing > end {
            break;
        }
        let first = if k == 0 { 1 } else { p / 2 };
        for j in first..p {
            let lag = j * spacing;
            let origins: Vec<u64> = (0..=end / spacing)
                .map(|i| i * spacing)
                .filter(|&s| s >= lag)
                .collect();
            if origins.is_empty() {
                continue;
            }
            let (mut r2, mut sq, mut vel, mut vo) = (0.0, vec![0.0; shells.len()], 0.0, 0u64);
            for &s in &origins {
                let now: Vec<_> = positions(s as usize).into_iter().map(cut).collect();
                let then: Vec<_> = positions((s - lag) as usize).into_iter().map(cut).collect();
                let dr: Vec<(f64, f64)> = now
                    .iter()
                    .zip(&then)
                    .map(|(a, b)| (a.0 - b.0, a.1 - b.1))
                    .collect();
                r2 += dr.iter().map(|d| d.0 * d.0 + d.1 * d.1).sum::<f64>();
                for (i, shell) in shells.iter().enumerate() {
                    sq[i] +=
                        super::structure_factor::shell_average(l, shell, &dr) * dr.len() as f64;
                }
                if s >= lag + spacing && j + 1 < p {
                    let before: Vec<_> = positions((s - spacing) as usize)
                        .into_iter()
                        .map(cut)
                        .collect();
                    let then_before: Vec<_> = positions((s - lag - spacing) as usize)
                        .into_iter()
                        .map(cut)
                        .collect();
                    for i in 0..now.len() {
                        let a = (now[i].0 - before[i].0, now[i].1 - before[i].1);
                        let b = (then[i].0 - then_before[i].0, then[i].1 - then_before[i].1);
                        vel += a.0 * b.0 + a.1 * b.1;
                    }
                    vo += 1;
                }
            }
            let n = (origins.len() * trajectory[0].len()) as f64;
            rows.push((
                lag,
                r2 / n,
                sq.iter().map(|v| v / n).collect(),
                vel,
                origins.len() as u64,
                vo,
            ));
        }
    }
    rows.sort_by_key(|r| r.0);
    rows
}

impl crate::Observer for TracerDynamics {
    fn name(&self) -> &str {
        "tracer dynamics"
    }

    /// Nothing is recorded in the warm-up.
    fn first_look(&self) -> u64 {
        self.options.warm_up
    }

    fn on_step(&mut self, sim: &crate::View<'_>, info: &crate::StepInfo) -> Result<(), SimError> {
        let (cells, fractions) = sim.tracer_tensors();
        let cells = super::int_buffer(cells)?;
        let fractions = super::int_buffer(fractions)?;
        self.record(&cells, &fractions, info.step)
    }
}

/// What [`TracerDynamics`] saves: everything but the client and the options.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedTracerDynamics {
    origin: Vec<u32>,
    levels: Vec<(Vec<u32>, Vec<f32>, u64)>,
    sums: Vec<Vec<f64>>,
    origins: Vec<Vec<u64>>,
    velocity_origins: Vec<Vec<u64>>,
    start: Option<u64>,
    updates: u64,
    blocks: Vec<Block>,
    block_length: u64,
}

impl super::Persist for TracerDynamics {
    fn save(&self) -> Result<Vec<u8>, SimError> {
        let n = self.counts.len();
        let levels = self
            .buffers
            .rings(&self.client, n)?
            .into_iter()
            .zip(self.buffers.accumulators(&self.client, n)?)
            .zip(&self.counts)
            .map(|((r, a), &count)| (r, a, count))
            .collect();
        super::encode(&SavedTracerDynamics {
            origin: super::download::<u32>(&self.client, &self.origin)?,
            levels,
            sums: self.sums.clone(),
            origins: self.origins.clone(),
            velocity_origins: self.velocity_origins.clone(),
            start: self.start,
            updates: self.updates,
            blocks: self.blocks.clone(),
            block_length: self.block_length,
        })
    }

    fn load(&mut self, bytes: &[u8], client: &Client) -> Result<(), SimError> {
        let s: SavedTracerDynamics = super::decode(bytes)?;
        self.client = client.clone();
        self.origin = client.create_from_slice(u32::as_bytes(&s.origin));
        let (p, q) = (self.options.points_per_level, self.quantities);
        let (ring_len, accum_len) = (p * self.tracers * 4, p * self.chunks * q);
        if let Some((r, a, _)) = s
            .levels
            .iter()
            .find(|(r, a, _)| r.len() != ring_len || a.is_empty() || a.len() % (p * q) != 0)
        {
            return Err(SimError::ObserverState {
                action: "restoring",
                what: "tracer dynamics".into(),
                message: format!(
                    "a level holds {} ring words and {} accumulator values, not {ring_len} and a multiple of {}",
                    r.len(),
                    a.len(),
                    p * q
                ),
            });
        }
        self.counts = s.levels.iter().map(|l| l.2).collect();
        self.sums = s.sums;
        self.origins = s.origins;
        self.velocity_origins = s.velocity_origins;
        self.start = s.start;
        self.updates = s.updates;
        self.blocks = s.blocks;
        self.block_length = s.block_length;
        let ring: Vec<u32> = s.levels.iter().flat_map(|l| l.0.iter().copied()).collect();
        let levels = s.levels.len();
        if s.levels.iter().all(|l| l.1.len() == accum_len) {
            let accum: Vec<f32> = s.levels.iter().flat_map(|l| l.1.iter().copied()).collect();
            self.buffers.upload(client, levels, &ring, &accum);
        } else {
            // Saved with another chunk size: its sums go to the f64 sums and the open block
            // now, as a readback would, and the device starts from zero.
            let device: Vec<Vec<f64>> = s.levels.iter().map(|l| fold(&l.1, p, q)).collect();
            self.add_to_block(&device);
            for (sums, d) in self.sums.iter_mut().zip(device) {
                sums.iter_mut().zip(d).for_each(|(s, d)| *s += d);
            }
            self.buffers.upload(client, levels, &ring, &[]);
        }
        Ok(())
    }
}

impl super::Measurement for TracerDynamics {
    fn tables(&mut self) -> Result<Vec<Table>, SimError> {
        TracerDynamics::tables(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observables::Persist;
    use crate::tracers::{TracerPositions, advance_axis_cpu};

    /// A checkpoint whose accumulators have four times fewer chunks (the chunk size of 64
    /// before) resumes to the tables of a run that never stopped.
    #[test]
    fn a_checkpoint_of_another_chunk_size_resumes() {
        let client = crate::device_tests::client();
        let (l, m, steps) = (32usize, 64usize, 300u64);
        let options = TracerDynamicsOptions {
            points_per_level: 8,
            shells: super::super::structure_factor::shells_near(l, &[0.3, 2.0]),
            warm_up: 0,
        };
        let new = || TracerDynamics::new(&client, l, 0.1, m, options.clone()).unwrap();
        let mut t = TracerPositions::uniform(3, m, l);
        let (mut whole, mut resumed) = (new(), new());
        for step in 0..steps {
            for i in 0..2 * m {
                let d = 0.37 * ((step as f32 + 1.0) * (i as f32 + 0.5)).sin();
                (t.cells[i], t.fractions[i]) = advance_axis_cpu(t.cells[i], t.fractions[i], d);
            }
            let cells = client.create_from_slice(i32::as_bytes(&t.cells));
            let fractions = client.create_from_slice(u32::as_bytes(&t.fraction_words()));
            whole.record(&cells, &fractions, step).unwrap();
            resumed.record(&cells, &fractions, step).unwrap();
            if step == 150 {
                let mut saved: SavedTracerDynamics =
                    super::super::decode(&resumed.save().unwrap()).unwrap();
                let q = resumed.quantities;
                for (_, accum, _) in &mut saved.levels {
                    let chunks = accum.len() / (8 * q);
                    *accum = (0..8 * (chunks / 4) * q)
                        .map(|x| {
                            let (j, c, i) = (x / ((chunks / 4) * q), x / q % (chunks / 4), x % q);
                            (0..4)
                                .map(|d| accum[(j * chunks + 4 * c + d) * q + i])
                                .sum()
                        })
                        .collect();
                }
                resumed = new();
                resumed
                    .load(&super::super::encode(&saved).unwrap(), &client)
                    .unwrap();
            }
        }
        let (a, b) = (whole.tables().unwrap(), resumed.tables().unwrap());
        assert_eq!(a.len(), b.len());
        for (a, b) in a.iter().zip(&b) {
            assert_eq!(a.rows.len(), b.rows.len(), "{}", a.name);
            for (ra, rb) in a.rows.iter().zip(&b.rows) {
                for (x, y) in ra.iter().zip(rb) {
                    assert!(
                        (x - y).abs() <= 1e-5 * x.abs().max(1e-3),
                        "{}: {ra:?} vs {rb:?}",
                        a.name
                    );
                }
            }
        }
    }
}

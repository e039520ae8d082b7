//! Tracers: passive particles carried by the displacement field (model notes, section 1,
//! step 6; paper, Fig. 1 right).
//!
//! A tracer's position along each axis is an integer cell (`i32`, unwrapped: it leaves the box
//! and keeps counting) plus a 64-bit fraction of a lattice spacing (units of `2^-64`, two `u32`
//! words on the device: no backend needs 64-bit integers). Every `f32` displacement larger than
//! `2^-41` (5e-13) is a whole number of those units, so the position is the exact sum of the
//! increments: 10^7 steps of `1e-6` land exactly where they should, where an `f32` offset in
//! `[0, 1)` would be 1 % off (each `1e-6` rounds to 17 ulps of `6e-8`) and a 32-bit fraction
//! 1e-5 off. The integer arithmetic is the same on every backend.
//!
//! The displacement at a tracer is the bilinear interpolation of the lattice field `du`
//! (periodic), with weights from the fraction's top 24 bits (exact in `f32`).

use cubecl::prelude::*;

use crate::propagator::{INCREMENT_FIELDS, increment_index};
use crate::rng::{self, Purpose};

/// `2^64`: fraction units per lattice spacing.
pub const FRACTION_UNITS: f64 = 18_446_744_073_709_551_616.0;

/// The positions of `count` tracers, `[x0, y0, x1, y1, ...]` per array.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TracerPositions {
    /// Integer cells, unwrapped.
    pub cells: Vec<i32>,
    /// Fractions of a cell, in units of `2^-64`.
    pub fractions: Vec<u64>,
}

impl TracerPositions {
    /// Number of tracers.
    pub fn len(&self) -> usize {
        self.cells.len() / 2
    }

    /// No tracers.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Unwrapped position `(x, y)` of tracer `i`, in lattice spacings.
    pub fn position(&self, i: usize) -> (f64, f64) {
        let axis = |a: usize| self.cells[a] as f64 + self.fractions[a] as f64 / FRACTION_UNITS;
        (axis(2 * i), axis(2 * i + 1))
    }

    /// `count` tracers uniform on the `l x l` box, from Philox (purpose `TracerPlacement`,
    /// counter site = tracer index): a pure function of `(seed, count, l)`.
    pub fn uniform(seed: u64, count: usize, l: usize) -> Self {
        let mut cells = Vec::with_capacity(2 * count);
        let mut fractions = Vec::with_capacity(2 * count);
        for i in 0..count {
            let d = rng::philox4x32_10(
                rng::counter(i as u32, 0, Purpose::TracerPlacement),
                rng::key(seed),
            );
            // Cell: a 32-bit draw scaled to 0..l (l a power of two); fraction: 32 random bits.
            let cell = |r: u32| ((r as u64 * l as u64) >> 32) as i32;
            cells.extend([cell(d[0]), cell(d[2])]);
            fractions.extend([(d[1] as u64) << 32, (d[3] as u64) << 32]);
        }
        Self { cells, fractions }
    }

    /// The device layout of the fractions: per axis the high word then the low word.
    pub fn fraction_words(&self) -> Vec<u32> {
        self.fractions
            .iter()
            .flat_map(|&f| [(f >> 32) as u32, f as u32])
            .collect()
    }

    /// Positions from cells and the device layout of the fractions.
    pub fn from_words(cells: Vec<i32>, words: &[u32]) -> Self {
        let fractions = words
            .chunks_exact(2)
            .map(|w| ((w[0] as u64) << 32) | w[1] as u64)
            .collect();
        Self { cells, fractions }
    }
}

/// The fixed-point step of one axis: `(cell, high, low) + du`, with `|du|` split exactly into
/// whole cells and 64 bits of fraction (rounded only below `2^-64`), added with carries (or
/// subtracted with borrows). [`advance_axis_cpu`] is its CPU twin.
#[cube]
pub(crate) fn advance_axis(cell: i32, high: u32, low: u32, du: f32) -> (i32, u32, u32) {
    let magnitude = f32::abs(du);
    let whole = f32::floor(magnitude);
    // Exact: subtracting the floor of a positive number and scaling by 2^32 drop no bits.
    let scaled = (magnitude - whole) * 4_294_967_296.0f32;
    let scaled_high = f32::floor(scaled);
    let part_high = u32::cast_from(scaled_high);
    let part_low = u32::cast_from(f32::round((scaled - scaled_high) * 4_294_967_296.0f32));
    let whole = i32::cast_from(whole);
    if du >= 0.0f32 {
        let new_low = low + part_low;
        let carry_low = select(new_low < low, 1u32, 0u32);
        let sum = high + part_high;
        let new_high = sum + carry_low;
        let carry = select(sum < high, 1i32, 0i32) + select(new_high < sum, 1i32, 0i32);
        (cell + whole + carry, new_high, new_low)
    } else {
        let new_low = low - part_low;
        let borrow_low = select(new_low > low, 1u32, 0u32);
        let difference = high - part_high;
        let new_high = difference - borrow_low;
        let borrow =
            select(difference > high, 1i32, 0i32) + select(new_high > difference, 1i32, 0i32);
        (cell - whole - borrow, new_high, new_low)
    }
}

/// CPU twin of [`advance_axis`], in `u64` arithmetic.
#[cfg(test)]
pub fn advance_axis_cpu(cell: i32, fraction: u64, du: f32) -> (i32, u64) {
    let magnitude = du.abs();
    let whole = magnitude.floor();
    let scaled = (magnitude - whole) * 4_294_967_296.0f32;
    let scaled_high = scaled.floor();
    let part_low = ((scaled - scaled_high) * 4_294_967_296.0f32).round_ties_even() as u64;
    let part = ((scaled_high as u64) << 32).wrapping_add(part_low);
    let whole = whole as i32;
    if du >= 0.0 {
        let (f, carry) = fraction.overflowing_add(part);
        (cell.wrapping_add(whole).wrapping_add(carry as i32), f)
    } else {
        let (f, borrow) = fraction.overflowing_sub(part);
        (cell.wrapping_sub(whole).wrapping_sub(borrow as i32), f)
    }
}

/// Bilinear, periodic interpolation of the lattice field at `field[base..base + l * l]`
/// (row-major) at the point `(cell_x + fx, cell_y + fy)`, weights `fx`, `fy` in `[0, 1)`.
#[cube]
pub(crate) fn interpolate(
    field: &[f32],
    base: usize,
    cell_x: i32,
    cell_y: i32,
    fx: f32,
    fy: f32,
    #[comptime] log2_l: usize,
) -> f32 {
    let mask = comptime![(1usize << log2_l) - 1];
    // Two's complement: `& mask` is the periodic image of negative cells too.
    let x0 = usize::cast_from(cell_x) & mask;
    let y0 = usize::cast_from(cell_y) & mask;
    let x1 = (x0 + 1) & mask;
    let y1 = (y0 + 1) & mask;
    let r0 = base + (y0 << log2_l);
    let r1 = base + (y1 << log2_l);
    bilinear(
        (field[r0 + x0], field[r0 + x1]),
        (field[r1 + x0], field[r1 + x1]),
        fx,
        fy,
    )
}

/// The bilinear weights of both interpolations: `bottom` the corners of row `y0`, `top` of
/// row `y0 + 1`, each `(x0, x0 + 1)`.
#[cube]
fn bilinear(bottom: (f32, f32), top: (f32, f32), fx: f32, fy: f32) -> f32 {
    let b = bottom.0 * (1.0f32 - fx) + bottom.1 * fx;
    let t = top.0 * (1.0f32 - fx) + top.1 * fx;
    b * (1.0f32 - fy) + t * fy
}

/// CPU twin of [`interpolate`].
#[cfg(test)]
pub fn interpolate_cpu(field: &[f32], l: usize, cell_x: i32, cell_y: i32, fx: f32, fy: f32) -> f32 {
    let mask = l - 1;
    let x0 = (cell_x as usize) & mask;
    let y0 = (cell_y as usize) & mask;
    let (x1, y1) = ((x0 + 1) & mask, (y0 + 1) & mask);
    let bottom = field[y0 * l + x0] * (1.0 - fx) + field[y0 * l + x1] * fx;
    let top = field[y1 * l + x0] * (1.0 - fx) + field[y1 * l + x1] * fx;
    bottom * (1.0 - fy) + top * fy
}

/// The interpolation weight of a fraction from its high word: its top 24 bits, exact in
/// `f32`, in `[0, 1)`.
#[cube]
pub(crate) fn weight(fraction: u32) -> f32 {
    f32::cast_from(fraction >> 8u32) * comptime![1.0f32 / 16_777_216.0]
}

/// CPU twin of [`weight`].
#[cfg(test)]
pub fn weight_cpu(fraction: u32) -> f32 {
    (fraction >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// Tracer advection (model notes, step 6): every tracer moves by the displacement increment
/// interpolated at its position: `du_x` and `du_y` are the increments' fields 1 and 2, in the
/// row pairs the step's inverse leaves them in ([`crate::propagator::increment_index()`]),
/// lattice spacings. One unit per tracer; `cells` are `[x0, y0, x1, y1, ...]`, `fractions`
/// `[x0 high, x0 low, y0 high, y0 low, ...]`.
///
/// Ensembles: the first `per_replica` tracers belong to replica 0, the next to replica 1, ...,
/// and move by their replica's increments.
#[cube(launch)]
pub fn advect_tracers<N: Size>(
    cells: &mut [i32],
    fractions: &mut [u32],
    increments_re: &[Vector<f32, N>],
    increments_im: &[Vector<f32, N>],
    #[comptime] log2_l: usize,
    #[comptime] per_replica: usize,
) {
    let i = ABSOLUTE_POS;
    // Two cells per tracer: the ensemble's size is the launch's, not the kernel's.
    if i >= cells.len() / 2 {
        terminate!();
    }
    advect_tracer::<N>(
        cells,
        fractions,
        increments_re,
        increments_im,
        i,
        log2_l,
        per_replica,
    );
}

/// Tracer `i` of [`advect_tracers`]; also run by the whole-step kernel ([`crate::whole_step`]),
/// whose increments are vectors of four (`N`; one value each here).
#[cube]
pub(crate) fn advect_tracer<N: Size>(
    cells: &mut [i32],
    fractions: &mut [u32],
    increments_re: &[Vector<f32, N>],
    increments_im: &[Vector<f32, N>],
    i: usize,
    #[comptime] log2_l: usize,
    #[comptime] per_replica: usize,
) {
    let field = (i / comptime![per_replica]) * INCREMENT_FIELDS;
    let (x, y) = load_tracer(cells, fractions, i);
    let (wx, wy) = (weight(x.1), weight(y.1));
    let (re, im) = (increments_re, increments_im);
    let ux = interpolate_increment::<N>(re, im, field + 1, x.0, y.0, wx, wy, log2_l);
    let uy = interpolate_increment::<N>(re, im, field + 2, x.0, y.0, wx, wy, log2_l);
    move_tracer(cells, fractions, i, (x, y), (ux, uy));
}

/// [`interpolate`] on increment field `field` in row pairs: the two rows of the cell lie in
/// opposite planes.
#[cube]
#[allow(clippy::too_many_arguments)]
fn interpolate_increment<N: Size>(
    re: &[Vector<f32, N>],
    im: &[Vector<f32, N>],
    field: usize,
    cell_x: i32,
    cell_y: i32,
    fx: f32,
    fy: f32,
    #[comptime] log2_l: usize,
) -> f32 {
    let mask = comptime![(1usize << log2_l) - 1];
    let x0 = usize::cast_from(cell_x) & mask;
    let y0 = usize::cast_from(cell_y) & mask;
    let x1 = (x0 + 1) & mask;
    let y1 = (y0 + 1) & mask;
    let r0 = increment_index(field, 0, y0, log2_l);
    let r1 = increment_index(field, 0, y1, log2_l);
    // `L` is even: the rows `y0` and `y0 + 1` lie in opposite planes. Both planes are read and
    // one kept (`select`): on lavapipe a branch per tracer costs twice the advection.
    let even = y0 & 1 == 0;
    let b0 = select(even, element::<N>(re, r0 + x0), element::<N>(im, r0 + x0));
    let b1 = select(even, element::<N>(re, r0 + x1), element::<N>(im, r0 + x1));
    let t0 = select(even, element::<N>(im, r1 + x0), element::<N>(re, r1 + x0));
    let t1 = select(even, element::<N>(im, r1 + x1), element::<N>(re, r1 + x1));
    bilinear((b0, b1), (t0, t1), fx, fy)
}

/// Element `p` of a buffer in vectors of `N`.
#[cube]
fn element<N: Size>(buffer: &[Vector<f32, N>], p: usize) -> f32 {
    let lanes = N::value();
    buffer[p / lanes].extract_dynamic(p % lanes)
}

/// Tracer `i`'s position, `(cell, high word, low word)` per axis. (`&mut`: the kernels hold
/// the buffers mutably, and a cube function cannot take them as shared.)
#[cube]
pub(crate) fn load_tracer(
    cells: &mut [i32],
    fractions: &mut [u32],
    i: usize,
) -> ((i32, u32, u32), (i32, u32, u32)) {
    (
        (cells[2 * i], fractions[4 * i], fractions[4 * i + 1]),
        (cells[2 * i + 1], fractions[4 * i + 2], fractions[4 * i + 3]),
    )
}

/// Tracer `i`, at `position` ([`load_tracer`]), moves by `du` ([`advance_axis`] per axis) and
/// is written back: the end of both advection kernels, dense and sparse.
#[cube]
pub(crate) fn move_tracer(
    cells: &mut [i32],
    fractions: &mut [u32],
    i: usize,
    position: ((i32, u32, u32), (i32, u32, u32)),
    du: (f32, f32),
) {
    let (x, y) = position;
    let (cx, hx, lx) = advance_axis(x.0, x.1, x.2, du.0);
    let (cy, hy, ly) = advance_axis(y.0, y.1, y.2, du.1);
    cells[2 * i] = cx;
    cells[2 * i + 1] = cy;
    fractions[4 * i] = hx;
    fractions[4 * i + 1] = lx;
    fractions[4 * i + 2] = hy;
    fractions[4 * i + 3] = ly;
}

/// CPU reference of [`advect_tracers`], with the `l x l` fields `du_x` and `du_y`.
#[cfg(test)]
pub fn advect_tracers_cpu(tracers: &mut TracerPositions, du_x: &[f32], du_y: &[f32], l: usize) {
    move_tracers_cpu(tracers, |cx, cy, wx, wy| {
        (
            interpolate_cpu(du_x, l, cx, cy, wx, wy),
            interpolate_cpu(du_y, l, cx, cy, wx, wy),
        )
    });
}

/// Every tracer moves by `displacement(cell_x, cell_y, weight_x, weight_y)`, with the
/// fixed-point step of the kernels: the shared part of the advection twins.
#[cfg(test)]
pub fn move_tracers_cpu(
    tracers: &mut TracerPositions,
    displacement: impl Fn(i32, i32, f32, f32) -> (f32, f32),
) {
    for i in 0..tracers.len() {
        let (cx, cy) = (tracers.cells[2 * i], tracers.cells[2 * i + 1]);
        let (fx, fy) = (tracers.fractions[2 * i], tracers.fractions[2 * i + 1]);
        let (wx, wy) = (weight_cpu((fx >> 32) as u32), weight_cpu((fy >> 32) as u32));
        let (ux, uy) = displacement(cx, cy, wx, wy);
        let (nx, nfx) = advance_axis_cpu(cx, fx, ux);
        let (ny, nfy) = advance_axis_cpu(cy, fy, uy);
        tracers.cells[2 * i] = nx;
        tracers.cells[2 * i + 1] = ny;
        tracers.fractions[2 * i] = nfx;
        tracers.fractions[2 * i + 1] = nfy;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(cell: i32, fraction: u64) -> f64 {
        cell as f64 + fraction as f64 / FRACTION_UNITS
    }

    #[test]
    fn ten_million_tiny_steps_stay_exact() {
        // 10^7 steps of +1e-6 then 10^7 of -1e-6 (as f32), from a point near a cell edge.
        let du = 1e-6f32;
        let (mut c, mut f) = (-3, u64::MAX - 1000);
        let start = (c, f);
        for _ in 0..10_000_000 {
            (c, f) = advance_axis_cpu(c, f, du);
        }
        let moved = axis(c, f) - axis(start.0, start.1);
        let exact = 1e7 * du as f64;
        assert!(
            (moved - exact).abs() < 1e-12,
            "moved {moved}, expected {exact}"
        );
        for _ in 0..10_000_000 {
            (c, f) = advance_axis_cpu(c, f, -du);
        }
        assert_eq!((c, f), start, "the way back is exact");
    }

    #[test]
    fn carries_and_borrows_cross_cells() {
        let unit = (2.0f32).powi(-64);
        assert_eq!(advance_axis_cpu(0, u64::MAX, unit), (1, 0));
        assert_eq!(advance_axis_cpu(0, 0, -unit), (-1, u64::MAX));
        assert_eq!(advance_axis_cpu(5, 1 << 63, 2.5), (8, 0));
        assert_eq!(advance_axis_cpu(5, 1 << 63, -2.5), (3, 0));
        assert_eq!(advance_axis_cpu(5, 1 << 63, -2.75), (2, 3 << 62));
        // Bits below 2^-32 survive.
        assert_eq!(advance_axis_cpu(0, 0, (2.0f32).powi(-40)), (0, 1 << 24));
    }

    #[test]
    fn interpolation_is_bilinear_and_periodic() {
        let l = 4;
        // f(x, y) = x + 10 y on the lattice, which wraps at the box edge.
        let field: Vec<f32> = (0..l * l)
            .map(|i| (i % l) as f32 + 10.0 * (i / l) as f32)
            .collect();
        assert_eq!(interpolate_cpu(&field, l, 1, 2, 0.25, 0.5), 1.25 + 25.0);
        // Cell -1 is cell 3; between x = 3 and x = 0 (wrapped) the field goes 3 -> 0.
        assert_eq!(interpolate_cpu(&field, l, -1, 0, 0.5, 0.0), 1.5);
    }

    #[test]
    fn placement_is_uniform_and_reproducible() {
        let l = 64;
        let t = TracerPositions::uniform(9, 4096, l);
        assert_eq!(t, TracerPositions::uniform(9, 4096, l));
        assert_ne!(t, TracerPositions::uniform(10, 4096, l));
        let mut quadrants = [0usize; 4];
        for i in 0..t.len() {
            let (x, y) = t.position(i);
            assert!((0.0..l as f64).contains(&x) && (0.0..l as f64).contains(&y));
            quadrants[usize::from(x >= 32.0) + 2 * usize::from(y >= 32.0)] += 1;
        }
        // 1024 expected per quadrant, standard deviation ~28: 5 sigma.
        for q in quadrants {
            assert!((q as f64 - 1024.0).abs() < 140.0, "{quadrants:?}");
        }
    }
}

//! The sparse update: with few active sites, model notes steps 4 to 6 in real space, without
//! transforms.
//!
//! The dense step computes `d_sigma + i du_x = IFFT(packed FFT(e))` and `du_y = IFFT(i U_y
//! FFT(e))` ([`crate::propagator::StepTables`]). Both are convolutions of the plastic strain
//! rate `e` with fixed fields, so with the list of active sites `a` they are
//! `d_sigma(r) = sum_a S(r - a) e_a`, `du(r) = sum_a U(r - a) e_a`, where `S`, `U_x`, `U_y` are
//! the inverse transforms of those very Fourier tables ([`RealSpaceTables`]): the two paths
//! compute the same numbers up to `f32` rounding, for every propagator option. The cost is
//! `L^2` times the number of active sites instead of two transforms: far less at the paper's
//! lowest temperatures, where a 256 x 256 lattice holds about ten active sites.
//!
//! One step: [`compact_active()`] lists the active sites and their rates on the device (in an
//! order fixed by the sites alone, so that every sum runs in the same order on every run), [`sparse_stress()`] adds the
//! stress increment, [`sparse_advect()`] moves the tracers by the displacement interpolated
//! from the same sums. Nothing is read back per step: the host picks this path or the dense
//! one for each window of [`WINDOW`] steps from the active-site count at the window's start,
//! which it reads anyway (see [`crate::profile::Profile::sparse_limit`] and the
//! `sparse_max_active` key of [`crate::Config`]). The choice is a function of the run's own
//! history, so a run, its checkpointed continuation and a run cut into other `advance` calls
//! take the same path at every step.

use cubecl::prelude::*;
use epm_fft::kernels::fused::accumulate_checked;
use epm_fft::reference::RustFft2d;
use rustfft::num_complex::Complex;

use crate::propagator::{StepTables, increment_index};
#[cfg(test)]
use crate::tracers::{TracerPositions, interpolate_cpu, move_tracers_cpu};
use crate::tracers::{interpolate, load_tracer, move_tracer, weight};

/// Steps of a window: the update is chosen for steps `[k WINDOW, (k + 1) WINDOW)` from the
/// active sites after step `k WINDOW - 1`. Short enough that a burst of activity in a sparse
/// window costs little; long enough that the count is read back rarely.
pub const WINDOW: u64 = 16;

/// Units of the one cube that lists the active sites (at most lavapipe's 1024 per cube).
pub const COMPACTION_UNITS: usize = 256;

/// The real-space response of one site with unit plastic strain rate at the origin, over one
/// step: the inverse transforms of the dense path's Fourier tables, row-major `[y * L + x]`,
/// computed in `f64` and stored in `f32`.
#[derive(Debug, Clone, PartialEq)]
pub struct RealSpaceTables {
    /// `S(r)`: the stress increment (`Re IFFT(2 mu dt G)`).
    pub stress: Vec<f32>,
    /// `U_x(r)`: the displacement increment along x (`Re IFFT(i dt U_x)`), lattice spacings.
    pub displacement_x: Vec<f32>,
    /// `U_y(r)` (`Re IFFT(i dt U_y)`).
    pub displacement_y: Vec<f32>,
}

impl RealSpaceTables {
    /// The tables of an `l x l` lattice from the dense path's Fourier tables.
    pub fn new(l: usize, tables: &StepTables) -> Self {
        let mut fft = RustFft2d::<f64>::new(l, l);
        let [stress, displacement_x, displacement_y] = tables.complex_filters().map(|h| {
            let mut h: Vec<Complex<f64>> = h.iter().map(|&(r, i)| Complex::new(r, i)).collect();
            fft.inverse(&mut h);
            h.iter().map(|c| c.re as f32).collect()
        });
        Self {
            stress,
            displacement_x,
            displacement_y,
        }
    }
}

/// Lists the active sites: `list_site[0..count]` their indices, `list_rate` their plastic
/// strain rates, `list_count[0] = count`. One cube of `units` units; unit `u` takes the sites
/// `u, u + units, u + 2 units, ...` (neighbouring units read neighbouring sites), counts its
/// active ones, and writes them, in increasing order, after those of the units before it (an
/// exclusive scan of the counts in shared memory). The list is ordered by `(site % units,
/// site / units)` whatever the scheduling, so every sum over it runs in the same order on
/// every run. Units without active sites (nearly all, when this update is chosen) skip the
/// second pass.
///
/// Launched unchecked (no bounds test on each index: measured 0.30 to 0.22 ms at L = 256 on
/// lavapipe): every index is a site below `sites` or a list position below the active count,
/// in buffers of `sites` elements, which [`crate::launch::sparse::compaction`] checks.
#[cube(launch_unchecked)]
pub fn compact_active(
    active: &[u32],
    strain_rate: &[f32],
    list_site: &mut [u32],
    list_rate: &mut [f32],
    list_count: &mut [u32],
    #[comptime] sites: usize,
    #[comptime] units: usize,
) {
    let unit = UNIT_POS as usize;
    let per_unit = comptime![sites / units];
    let mut counts = Shared::<[u32]>::new_slice(comptime![units + 1]);
    let mut mine = 0u32;
    for k in 0..per_unit {
        mine += active[k * units + unit];
    }
    counts[unit] = mine;
    sync_cube();
    if unit == 0 {
        // Exclusive scan; the total goes last. A few hundred additions, once per step.
        let mut total = 0u32;
        for u in 0..units {
            let c = counts[u];
            counts[u] = total;
            total += c;
        }
        counts[units] = total;
        list_count[0] = total;
    }
    sync_cube();
    if mine > 0u32 {
        let mut at = counts[unit] as usize;
        for k in 0..per_unit {
            let s = k * units + unit;
            if active[s] == 1u32 {
                list_site[at] = s as u32;
                list_rate[at] = strain_rate[s];
                at += 1;
            }
        }
    }
    // No unit may leave while others still read shared memory that a runtime could recycle.
    sync_cube();
}

/// CPU twin of [`compact_active`] with `units` units: the active sites in its order and their
/// rates.
#[cfg(test)]
pub fn compact_active_cpu(
    active: &[u32],
    strain_rate: &[f32],
    units: usize,
) -> (Vec<u32>, Vec<f32>) {
    let mut sites: Vec<usize> = (0..active.len()).filter(|&s| active[s] == 1).collect();
    sites.sort_by_key(|&s| (s % units, s / units));
    sites.iter().map(|&s| (s as u32, strain_rate[s])).unzip()
}

/// The units of [`compact_active()`] on a lattice of `sites` sites.
pub fn compaction_units(sites: usize) -> usize {
    COMPACTION_UNITS.min(sites)
}

/// `sigma(r) += sum_a S(r - a) e_a` over the listed sites, in list order; a stress that is not
/// finite afterwards records the step and site in `status` as the dense update does
/// ([`accumulate_checked()`]). Each unit takes `per_unit` sites, `L^2 / per_unit` apart.
#[cube(launch)]
pub fn sparse_stress(
    list_site: &[u32],
    list_rate: &[f32],
    list_count: &[u32],
    table: &[f32],
    stress: &mut [f32],
    status: &[Atomic<u32>],
    step_lo: u32,
    #[comptime] log2_l: usize,
    #[comptime] per_unit: usize,
) {
    let l = comptime![1usize << log2_l];
    let mask = comptime![(1usize << log2_l) - 1];
    let stride = comptime![(1usize << (2 * log2_l)) / per_unit];
    let unit = ABSOLUTE_POS;
    if unit >= stride {
        terminate!();
    }
    let count = list_count[0] as usize;
    // Active sites outside, the unit's sites inside: each listed site is read once per unit.
    let mut sums = Array::<f32>::new(per_unit);
    for i in 0..count {
        let a = list_site[i] as usize;
        let e = list_rate[i];
        let (ax, ay) = (a & mask, a >> log2_l);
        #[unroll]
        for j in 0..per_unit {
            let s = unit + j * stride;
            // `+ l` keeps the unsigned difference positive before the periodic wrap.
            let dx = ((s & mask) + l - ax) & mask;
            let dy = ((s >> log2_l) + l - ay) & mask;
            sums[j] += table[(dy << log2_l) + dx] * e;
        }
    }
    #[unroll]
    for j in 0..per_unit {
        accumulate_checked::<f32>(stress, status, unit + j * stride, sums[j], step_lo);
    }
}

/// CPU twin of [`sparse_stress`] (without the fault record).
#[cfg(test)]
pub fn sparse_stress_cpu(list: (&[u32], &[f32]), table: &[f32], stress: &mut [f32], l: usize) {
    let (sites, rates) = list;
    for (s, sigma) in stress.iter_mut().enumerate() {
        let (x, y) = (s % l, s / l);
        let mut d = 0.0f32;
        for (&a, &e) in sites.iter().zip(rates) {
            let (ax, ay) = (a as usize % l, a as usize / l);
            d += table[((y + l - ay) % l) * l + (x + l - ax) % l] * e;
        }
        *sigma += d;
    }
}

/// Tracer advection from the listed sites: the displacement at a tracer is
/// `sum_a e_a U(p - a)`, each term the bilinear interpolation of the table shifted to the
/// active site; since interpolation is linear this is the dense path's interpolation of the
/// summed field. The fixed-point step is [`crate::tracers::advect_tracers()`]'s. One unit per
/// tracer.
#[cube(launch)]
pub fn sparse_advect(
    cells: &mut [i32],
    fractions: &mut [u32],
    list_site: &[u32],
    list_rate: &[f32],
    list_count: &[u32],
    table_x: &[f32],
    table_y: &[f32],
    #[comptime] log2_l: usize,
    #[comptime] tracers: usize,
) {
    let t = ABSOLUTE_POS;
    if t >= tracers {
        terminate!();
    }
    let mask = comptime![(1usize << log2_l) - 1];
    let (x, y) = load_tracer(cells, fractions, t);
    let (wx, wy) = (weight(x.1), weight(y.1));
    let count = list_count[0] as usize;
    let mut ux = 0.0f32;
    let mut uy = 0.0f32;
    for i in 0..count {
        let a = list_site[i] as usize;
        let e = list_rate[i];
        // Cells relative to the active site; `interpolate` wraps them periodically.
        let rx = x.0 - i32::cast_from(a & mask);
        let ry = y.0 - i32::cast_from(a >> log2_l);
        ux += interpolate(table_x, 0usize, rx, ry, wx, wy, log2_l) * e;
        uy += interpolate(table_y, 0usize, rx, ry, wx, wy, log2_l) * e;
    }
    move_tracer(cells, fractions, t, (x, y), (ux, uy));
}

/// CPU twin of [`sparse_advect`].
#[cfg(test)]
pub fn sparse_advect_cpu(
    tracers: &mut TracerPositions,
    list: (&[u32], &[f32]),
    tables: &RealSpaceTables,
    l: usize,
) {
    let (sites, rates) = list;
    move_tracers_cpu(tracers, |cx, cy, wx, wy| {
        let (mut ux, mut uy) = (0.0f32, 0.0f32);
        for (&a, &e) in sites.iter().zip(rates) {
            let (rx, ry) = (cx - (a as usize % l) as i32, cy - (a as usize / l) as i32);
            ux += interpolate_cpu(&tables.displacement_x, l, rx, ry, wx, wy) * e;
            uy += interpolate_cpu(&tables.displacement_y, l, rx, ry, wx, wy) * e;
        }
        (ux, uy)
    });
}

/// The increments of the last sparse step as the dense path leaves them (for
/// [`crate::Simulation::displacement`]): `d_sigma`, `du_x`, `du_y` in row pairs
/// ([`crate::propagator::increment_index()`]). One unit per site.
#[cube(launch)]
pub fn sparse_increments(
    list_site: &[u32],
    list_rate: &[f32],
    list_count: &[u32],
    table_stress: &[f32],
    table_x: &[f32],
    table_y: &[f32],
    increments_re: &mut [f32],
    increments_im: &mut [f32],
    #[comptime] log2_l: usize,
) {
    let l = comptime![1usize << log2_l];
    let n = comptime![1usize << (2 * log2_l)];
    let mask = comptime![(1usize << log2_l) - 1];
    let s = ABSOLUTE_POS;
    if s >= n {
        terminate!();
    }
    let (x, y) = (s & mask, s >> log2_l);
    let count = list_count[0] as usize;
    let mut d = 0.0f32;
    let mut ux = 0.0f32;
    let mut uy = 0.0f32;
    for i in 0..count {
        let a = list_site[i] as usize;
        let e = list_rate[i];
        let dx = (x + l - (a & mask)) & mask;
        let dy = (y + l - (a >> log2_l)) & mask;
        let r = (dy << log2_l) + dx;
        d += table_stress[r] * e;
        ux += table_x[r] * e;
        uy += table_y[r] * e;
    }
    let at = increment_index(0usize, x, y, log2_l);
    let field = comptime![n / 2];
    if y & 1 == 0 {
        increments_re[at] = d;
        increments_re[at + field] = ux;
        increments_re[at + 2 * field] = uy;
    } else {
        increments_im[at] = d;
        increments_im[at + field] = ux;
        increments_im[at + 2 * field] = uy;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::propagator::{Preset, PropagatorSpec};

    #[test]
    fn tables_are_the_response_of_one_site() {
        // The dense path on the CPU for a unit rate at the origin gives the real-space tables.
        let l = 16;
        for preset in [Preset::Paper, Preset::Literal] {
            let spec: PropagatorSpec = preset.spec();
            let tables = StepTables::new(l, &spec, 1.0, 0.1);
            let real = RealSpaceTables::new(l, &tables);
            // The stress response is even, the displacement odd, both decay: sanity of the
            // transforms' convention (the device comparison is the real test).
            for y in 0..l {
                for x in 0..l {
                    let (mx, my) = ((l - x) % l, (l - y) % l);
                    let (a, b) = (y * l + x, my * l + mx);
                    assert!((real.stress[a] - real.stress[b]).abs() < 1e-6);
                    assert!((real.displacement_x[a] + real.displacement_x[b]).abs() < 1e-6);
                    assert!((real.displacement_y[a] + real.displacement_y[b]).abs() < 1e-6);
                }
            }
            // Paper preset: G(0, 0) = -1, times 2 mu dt.
            if preset == Preset::Paper {
                assert!((real.stress[0] + 0.2).abs() < 1e-6, "{}", real.stress[0]);
            }
        }
    }

    #[test]
    fn compaction_orders_by_unit_then_site() {
        let active = [0, 1, 1, 0, 0, 1, 1, 0];
        let rate = [0.0, 0.5, -0.5, 0.0, 0.0, 0.5, 0.25, 0.0];
        // Two units: unit 0 takes sites 0, 2, 4, 6, unit 1 the odd ones.
        let (sites, rates) = compact_active_cpu(&active, &rate, 2);
        assert_eq!(sites, [2, 6, 1, 5]);
        assert_eq!(rates, [-0.5, 0.25, 0.5, 0.5]);
        assert_eq!(compact_active_cpu(&active, &rate, 8).0, [1, 2, 5, 6]);
    }
}

//! The whole step in one launch: model notes steps 1 to 6 (activation, forward transform of
//! the plastic strain rate, the filtered inverse with the stress update, tracer advection) of
//! several consecutive steps, one cube per replica.
//!
//! A step with events is otherwise ten launches on a CPU adapter (activation, four passes of
//! each transform, advection), and at small L the launches, not the work, bind it (book,
//! "Performance"). Here the cube's units run the same per-unit bodies as those launches (the
//! activation's `activation::activate_unit`, the FFT plans' passes through
//! [`epm_fft::kernels::in_cube`], `tracers::advect_tracer`) on the same addresses,
//! with a storage barrier where a launch ended: the fields after each step are those of the
//! separate launches, bit for bit, and the device tests compare the two.
//!
//! The site buffers are vectors of `N` values ([`WholeStep::lanes`]): four where every pass of
//! both transforms takes four lanes (L = 64 and 128), as the separate launches' passes and
//! activation do, since on lavapipe a pass costs its loads and stores; one otherwise (L = 32
//! and below, whose rows are one radix-32 pass). The tracers read single values out of the
//! vectors.
//!
//! Only the dense update, and only where both plans run radix passes (CPU adapters; on GPUs
//! each axis is one shared-memory launch already): see `backend::Propagation`.

use cubecl::prelude::*;
use epm_fft::kernels::in_cube::{CubeTransform, transform_in_cube};

use crate::activation::{ActivationRule, COUNT_LANES, COUNT_STRIDE, activate_unit};
use crate::sparse::WINDOW;
use crate::tracers::advect_tracer;

/// The active sites of `replica` after the step counted in ring slot `slot`: the sum of its
/// sub-counters ([`crate::activation::count_index`]).
#[cube]
fn slot_count(active_count: &[Atomic<u32>], replica: usize, slot: u32) -> u32 {
    let lanes = comptime![COUNT_LANES];
    let ring = comptime![crate::count_ring::RING_WORDS];
    let first = replica * ring + slot as usize * comptime![COUNT_LANES * COUNT_STRIDE];
    let mut count = 0u32;
    #[unroll]
    for lane in 0..lanes {
        count += active_count[first + lane * comptime![COUNT_STRIDE]].load();
    }
    count
}

/// The comptime shape of one whole-step launch: one replica's, since each cube makes one
/// replica and finds its fields, ring and tracers by its position. The number of replicas is
/// the launch's cube count, so every ensemble size of a lattice runs one compiled kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WholeStep {
    /// Sites per replica, `L^2`.
    pub sites: usize,
    /// Sites per activation unit ([`crate::profile::Profile::sites_per_unit`]).
    pub per_unit: usize,
    /// Tracers per replica.
    pub tracers: usize,
    /// The forward transform of the strain rates in row pairs (one half-size field per
    /// replica).
    pub forward: CubeTransform,
    /// The filtered inverse into the increments, with the stress update (three half-size
    /// fields per replica).
    pub inverse: CubeTransform,
}

impl WholeStep {
    /// Values per vector of every site buffer (`N`): the transforms' lanes
    /// ([`CubeTransform::lanes_log2`], the same for both), which the activation's units of
    /// `per_unit` sites read too.
    pub fn lanes(&self) -> usize {
        1 << self.forward.lanes_log2
    }
}

/// `steps` steps from step `step_lo + 2^32 step_hi` (ring slot `slot` for the first; the
/// caller keeps the steps inside one ring and one `2^32` block), replica `CUBE_POS`. Buffers as
/// for the separate kernels: see [`crate::launch::WholeStepBuffers`].
#[cube(launch_unchecked)]
// The window's count is read in a nested `if`, only past the launch's first step (slot
// `slot - 1` does not exist at `k = 0`); `is_multiple_of` is not a cube operation.
#[allow(
    clippy::too_many_arguments,
    clippy::collapsible_if,
    clippy::manual_is_multiple_of
)]
pub fn whole_steps<R: ActivationRule, N: Size>(
    stress: &mut [Vector<f32, N>],
    active: &mut [Vector<u32, N>],
    sign: &mut [Vector<f32, N>],
    plastic: &mut [Vector<i32, N>],
    strain_rate: &mut [Vector<f32, N>],
    active_count: &[Atomic<u32>],
    keys: &[u32],
    parameters: &[f32],
    rule: R,
    spectrum_re: &mut [Vector<f32, N>],
    spectrum_im: &mut [Vector<f32, N>],
    forward_scratch_re: &mut [Vector<f32, N>],
    forward_scratch_im: &mut [Vector<f32, N>],
    filters_re: &[Vector<f32, N>],
    filters_im: &[Vector<f32, N>],
    inverse_scratch_re: &mut [Vector<f32, N>],
    inverse_scratch_im: &mut [Vector<f32, N>],
    increments_re: &mut [Vector<f32, N>],
    increments_im: &mut [Vector<f32, N>],
    status: &[Atomic<u32>],
    tw_re: &[f32],
    tw_im: &[f32],
    cells: &mut [i32],
    fractions: &mut [u32],
    step_lo: u32,
    step_hi: u32,
    slot: u32,
    steps: u32,
    window_limit: u32,
    p_off: f32,
    dt: f32,
    strain_rate_amplitude: f32,
    #[comptime] plan: WholeStep,
) {
    let replica = CUBE_POS;
    let activation_units = comptime![plan.sites / plan.per_unit];
    let log2_l = comptime![(plan.sites.trailing_zeros() / 2) as usize];
    for k in 0..steps {
        let step = step_lo + k;
        // A window of the sparse update starts here, and the count of the step before chooses
        // it (`Simulation::advance`): every unit reads the same count after the last barrier,
        // so all stop together, and the host, which reads the counts after the launch, resumes
        // from this step.
        if window_limit > 0u32 && k > 0u32 && step % comptime![WINDOW as u32] == 0u32 {
            if slot_count(active_count, replica, slot + k - 1) <= window_limit {
                break;
            }
        }
        // Steps 1 to 3: the activation.
        let mut u = UNIT_POS as usize;
        while u < activation_units {
            activate_unit::<R, N>(
                stress.slice(0, stress.len()),
                active,
                sign,
                plastic,
                strain_rate,
                active_count,
                keys,
                parameters,
                &rule,
                replica,
                u,
                step,
                step_hi,
                p_off,
                dt,
                strain_rate_amplitude,
                slot + k,
                plan.sites,
                plan.per_unit,
                comptime![plan.lanes()],
            );
            u += CUBE_DIM as usize;
        }
        sync_storage();
        // A replica without an active site in this step skips steps 4 to 6, which would add
        // zeros (the same numbers bit for bit, as a single run's skipped steps): the cold
        // replicas of an ensemble have mostly such steps. Every unit reads the same count
        // after the barrier, so the cube's units take the branch together.
        if slot_count(active_count, replica, slot + k) > 0u32 {
            // Steps 4 and 5: the strain rate's spectrum, then the increments and the stress.
            transform_in_cube::<f32, N>(
                replica,
                strain_rate.slice(0, strain_rate.len()),
                strain_rate.slice(0, strain_rate.len()),
                filters_re,
                filters_im,
                forward_scratch_re,
                forward_scratch_im,
                spectrum_re,
                spectrum_im,
                stress,
                status,
                tw_re,
                tw_im,
                step,
                plan.forward,
            );
            transform_in_cube::<f32, N>(
                replica,
                spectrum_re.slice(0, spectrum_re.len()),
                spectrum_im.slice(0, spectrum_im.len()),
                filters_re,
                filters_im,
                inverse_scratch_re,
                inverse_scratch_im,
                increments_re,
                increments_im,
                stress,
                status,
                tw_re,
                tw_im,
                step,
                plan.inverse,
            );
            // Step 6: the tracers, by `du_x` and `du_y` (the increments' fields 1 and 2).
            if comptime![plan.tracers > 0] {
                let mut t = UNIT_POS as usize;
                while t < comptime![plan.tracers] {
                    advect_tracer::<N>(
                        cells,
                        fractions,
                        increments_re.slice(0, increments_re.len()),
                        increments_im.slice(0, increments_im.len()),
                        replica * comptime![plan.tracers] + t,
                        log2_l,
                        comptime![plan.tracers],
                    );
                    t += CUBE_DIM as usize;
                }
            }
        }
        sync_storage();
    }
}

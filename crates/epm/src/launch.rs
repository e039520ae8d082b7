//! The step's kernel launches, each written once, on device buffers: `crate::backend` calls
//! them on the buffers of Burn's tensors, the `step` benchmarks on buffers of their own. The
//! kernels themselves live with their physics: [`crate::activation`], [`crate::propagator`],
//! [`crate::tracers`], [`crate::whole_step`].
//!
//! Lengths: `sites = L^2`; the increments are the step inverse's two planes of `3 L^2 / 2`
//! per replica ([`increments_len`]).

use cubecl::prelude::*;
use cubecl::server::Handle;
use epm_fft::ComplexBuffers;
use epm_fft::buffer::{arg, vectors};

use crate::activation::{Activation, StepParams, activation_step};
use crate::propagator::{INCREMENT_FIELDS, plastic_strain, resynchronise, scale_spectrum};
use crate::tracers::advect_tracers;
use crate::whole_step::{self, WholeStep};

/// Values in each plane of the increments of `replicas` lattices of `sites` sites: three real
/// fields in row pairs ([`crate::propagator::increment_index()`]), half of each per plane.
pub fn increments_len(sites: usize, replicas: usize) -> usize {
    INCREMENT_FIELDS * sites * replicas / 2
}

/// The sparse limit a run takes by default: the profile's ([`crate::profile::Profile::sparse_limit`])
/// less the activations a window of [`crate::sparse::WINDOW`] steps brings even where no site
/// is stressed, `sites * unstressed_rate * dt * WINDOW` (the rule's rate at zero stress, a
/// floor for the thermal and random rules). A window that starts with few active sites but is
/// sure to activate many more cannot be cheaper sparse: the sparse sums cost each step its
/// active sites times the lattice. At `L = 2048` and `T = 0.1` a window from rest activates
/// about 2 800 sites a step, and took minutes a step sparse against seconds dense.
pub fn sparse_limit_for_rate(limit: u32, sites: usize, unstressed_rate: f64, dt: f64) -> u32 {
    let expected = sites as f64 * unstressed_rate.max(0.0) * dt * crate::sparse::WINDOW as f64;
    if expected.is_finite() {
        limit.saturating_sub(expected.ceil().min(f64::from(u32::MAX)) as u32)
    } else {
        0
    }
}

fn grid(client: &Client, units: usize) -> (CubeCount, CubeDim) {
    let dim = CubeDim::new_1d(256);
    (
        cubecl::calculate_cube_count_elemwise(client, units, dim),
        dim,
    )
}

/// Words of the `active_count` buffer of `replicas` replicas ([`ActivationBuffers`]): one
/// ring of per-step sub-counters each ([`crate::activation::count_index`]), of one length for
/// every number of replicas, so the kernels find replica `r`'s ring at `r` rings.
pub fn count_words(replicas: usize) -> usize {
    crate::count_ring::words(replicas)
}

/// What the activation reads and writes: `replicas * sites` elements each, but `active_count`
/// ([`count_words`]`(replicas)` words),
/// `event` (one word), `keys` (two words per replica, [`crate::activation::replica_keys`]) and
/// `parameters` (one per replica, [`Activation::parameter`]).
#[derive(Debug, Clone, Copy)]
pub struct ActivationBuffers<'a> {
    /// `f32`.
    pub stress: &'a Handle,
    /// `u32`, 0 or 1.
    pub active: &'a Handle,
    /// `f32`, +-1.
    pub sign: &'a Handle,
    /// `i32`.
    pub plastic: &'a Handle,
    /// `f32`.
    pub strain_rate: &'a Handle,
    /// `u32`, the whole ring.
    pub active_count: &'a Handle,
    /// `u32`.
    pub event: &'a Handle,
    /// `u32`, each replica's Philox key.
    pub keys: &'a Handle,
    /// `f32`, each replica's rule parameter.
    pub parameters: &'a Handle,
}

/// Model notes steps 1 to 3 ([`activation_step()`]) with `rule`, for `replicas` lattices of
/// `sites` sites, `per_unit` sites per unit
/// ([`crate::profile::Profile::sites_per_unit`]); counts into ring slot `slot`. `batch_start`:
/// the first step of the batch of empty steps this one belongs to, if any.
pub fn activation<A: Activation>(
    client: &Client,
    (sites, per_unit, replicas): (usize, usize, usize),
    b: &ActivationBuffers,
    rule: &A,
    params: &StepParams,
    slot: u32,
    batch_start: Option<u64>,
) {
    let (count, dim) = grid(client, replicas * sites / per_unit);
    let all = replicas * sites;
    let lanes = activation_lanes(per_unit);
    activation_step::launch::<A>(
        client,
        count,
        dim,
        lanes,
        vectors::<f32>(b.stress, all, lanes),
        vectors::<u32>(b.active, all, lanes),
        vectors::<f32>(b.sign, all, lanes),
        vectors::<i32>(b.plastic, all, lanes),
        vectors::<f32>(b.strain_rate, all, lanes),
        arg::<u32>(b.active_count, count_words(replicas)),
        arg::<u32>(b.event, 1),
        arg::<u32>(b.keys, 2 * replicas),
        arg::<f32>(b.parameters, replicas),
        rule.launch_arg(),
        params.step as u32,
        (params.step >> 32) as u32,
        params.p_off,
        params.dt,
        params.strain_rate_amplitude,
        slot,
        u32::from(batch_start.is_some()),
        batch_start.unwrap_or(0) as u32,
        sites,
        per_unit,
        lanes,
    );
}

/// Sites per vector of the activation ([`activation_step`]): four where a unit takes a
/// multiple of four sites (CPU adapters), else one.
fn activation_lanes(per_unit: usize) -> usize {
    if per_unit.is_multiple_of(4) { 4 } else { 1 }
}

/// `tracers` tracers per replica (cells `[B M, 2]` `i32`, fractions `[B M, 4]` `u32`) move by
/// their replica's displacement increment ([`advect_tracers()`]): `du_x` in the imaginary plane,
/// `du_y` in the real one after the stress increment, `2 L^2` per replica.
pub fn advection(
    client: &Client,
    sites: usize,
    replicas: usize,
    tracers: usize,
    cells: &Handle,
    fractions: &Handle,
    increments: &ComplexBuffers,
) {
    if tracers == 0 {
        return;
    }
    let all = replicas * tracers;
    let (count, dim) = grid(client, all);
    advect_tracers::launch(
        client,
        count,
        dim,
        1,
        arg::<i32>(cells, 2 * all),
        arg::<u32>(fractions, 4 * all),
        arg::<f32>(&increments.re, increments_len(sites, replicas)),
        arg::<f32>(&increments.im, increments_len(sites, replicas)),
        (sites.trailing_zeros() / 2) as usize,
        tracers,
    );
}

/// The resynchronisation's three elementwise kernels, around the transforms the caller runs;
/// `sites` counts every replica's sites.
pub mod resync {
    use super::*;

    /// `strain = unit * count` ([`plastic_strain()`]).
    pub fn strain(client: &Client, sites: usize, plastic: &Handle, strain: &Handle, unit: f32) {
        let (count, dim) = grid(client, sites);
        plastic_strain::launch(
            client,
            count,
            dim,
            arg::<i32>(plastic, sites),
            arg::<f32>(strain, sites),
            unit,
        );
    }

    /// Each replica's spectrum times a real table of `table_len` wave vectors, in place
    /// ([`scale_spectrum()`]).
    pub fn scale(
        client: &Client,
        sites: usize,
        spectrum: &ComplexBuffers,
        table: &Handle,
        table_len: usize,
    ) {
        let (count, dim) = grid(client, sites);
        scale_spectrum::launch(
            client,
            count,
            dim,
            arg::<f32>(&spectrum.re, sites),
            arg::<f32>(&spectrum.im, sites),
            arg::<f32>(table, table_len),
            table_len,
        );
    }

    /// `stress = initial + re(z)` ([`resynchronise()`]).
    pub fn stress(client: &Client, sites: usize, initial: &Handle, z_re: &Handle, stress: &Handle) {
        let (count, dim) = grid(client, sites);
        resynchronise::launch(
            client,
            count,
            dim,
            arg::<f32>(initial, sites),
            arg::<f32>(z_re, sites),
            arg::<f32>(stress, sites),
        );
    }
}

/// The sparse update's launches ([`crate::sparse`]), on the list of active sites
/// (`list_site`, `list_rate`: room for `sites` entries; `list_count`: one word) and the
/// real-space tables (`sites` each).
pub mod sparse {
    use super::*;
    use crate::sparse::{
        compact_active, compaction_units, sparse_advect, sparse_increments, sparse_stress,
    };

    /// The list and the tables, as the simulation holds them.
    #[derive(Debug, Clone, Copy)]
    pub struct SparseBuffers<'a> {
        /// `u32` site indices, in the order of [`compact_active()`].
        pub list_site: &'a Handle,
        /// `f32` plastic strain rates of the listed sites.
        pub list_rate: &'a Handle,
        /// `u32`: how many are listed.
        pub list_count: &'a Handle,
        /// `f32` `S(r)`.
        pub table_stress: &'a Handle,
        /// `f32` `U_x(r)`.
        pub table_x: &'a Handle,
        /// `f32` `U_y(r)`.
        pub table_y: &'a Handle,
    }

    fn log2_l(sites: usize) -> usize {
        (sites.trailing_zeros() / 2) as usize
    }

    /// Lists the active sites ([`compact_active()`]): one cube.
    pub fn compaction(
        client: &Client,
        sites: usize,
        active: &Handle,
        strain_rate: &Handle,
        b: &SparseBuffers,
    ) {
        let units = compaction_units(sites);
        // SAFETY: every index the kernel takes is below `sites` (see `compact_active`), and
        // `arg` checks that each buffer holds `sites` elements.
        unsafe {
            compact_active::launch_unchecked(
                client,
                CubeCount::Static(1, 1, 1),
                CubeDim::new_1d(units as u32),
                arg::<u32>(active, sites),
                arg::<f32>(strain_rate, sites),
                arg::<u32>(b.list_site, sites),
                arg::<f32>(b.list_rate, sites),
                arg::<u32>(b.list_count, 1),
                sites,
                units,
            )
        };
    }

    /// `sigma += sum_a S(r - a) e_a` ([`sparse_stress()`]), recording a non-finite stress;
    /// `per_unit` sites per unit.
    pub fn stress(
        client: &Client,
        (sites, per_unit): (usize, usize),
        b: &SparseBuffers,
        stress: &Handle,
        status: &Handle,
        step: u64,
    ) {
        let (count, dim) = grid(client, sites / per_unit);
        sparse_stress::launch(
            client,
            count,
            dim,
            arg::<u32>(b.list_site, sites),
            arg::<f32>(b.list_rate, sites),
            arg::<u32>(b.list_count, 1),
            arg::<f32>(b.table_stress, sites),
            arg::<f32>(stress, sites),
            arg::<u32>(status, 2),
            step as u32,
            log2_l(sites),
            per_unit,
        );
    }

    /// The first `tracers` tracers move by the listed sites' displacement ([`sparse_advect()`]).
    pub fn advection(
        client: &Client,
        sites: usize,
        tracers: usize,
        cells: &Handle,
        fractions: &Handle,
        b: &SparseBuffers,
    ) {
        if tracers == 0 {
            return;
        }
        let (count, dim) = grid(client, tracers);
        sparse_advect::launch(
            client,
            count,
            dim,
            arg::<i32>(cells, 2 * tracers),
            arg::<u32>(fractions, 4 * tracers),
            arg::<u32>(b.list_site, sites),
            arg::<f32>(b.list_rate, sites),
            arg::<u32>(b.list_count, 1),
            arg::<f32>(b.table_x, sites),
            arg::<f32>(b.table_y, sites),
            log2_l(sites),
            tracers,
        );
    }

    /// The increments of the listed sites in the dense path's layout ([`sparse_increments()`]).
    pub fn increments(
        client: &Client,
        sites: usize,
        b: &SparseBuffers,
        increments: &ComplexBuffers,
    ) {
        let (count, dim) = grid(client, sites);
        sparse_increments::launch(
            client,
            count,
            dim,
            arg::<u32>(b.list_site, sites),
            arg::<f32>(b.list_rate, sites),
            arg::<u32>(b.list_count, 1),
            arg::<f32>(b.table_stress, sites),
            arg::<f32>(b.table_x, sites),
            arg::<f32>(b.table_y, sites),
            arg::<f32>(&increments.re, increments_len(sites, 1)),
            arg::<f32>(&increments.im, increments_len(sites, 1)),
            log2_l(sites),
        );
    }
}

/// What [`whole_steps`] reads and writes besides the activation's buffers: the plans' spectra,
/// scratch planes, filters and twiddles (`backend::Propagation`), the increments, the
/// fault status and the tracers.
#[derive(Debug, Clone, Copy)]
pub struct WholeStepBuffers<'a> {
    /// The activation's buffers (`event` unused: whole steps are not batches of empty steps).
    pub activation: ActivationBuffers<'a>,
    /// The strain rates' half-size spectra in row pairs, `B L^2 / 2`.
    pub spectrum: &'a ComplexBuffers,
    /// The forward transform's scratch, `B L^2 / 2`.
    pub forward_scratch: &'a ComplexBuffers,
    /// The inverse's three filters in row pairs, `3 L^2` ([`crate::propagator::StepTables::filters`]).
    pub filters: &'a ComplexBuffers,
    /// The inverse's scratch, `3 B L^2 / 2`.
    pub inverse_scratch: &'a ComplexBuffers,
    /// The increments, `3 B L^2 / 2` ([`increments_len`]).
    pub increments: &'a ComplexBuffers,
    /// Two `u32`: the first non-finite stress.
    pub status: &'a Handle,
    /// The plans' forward twiddles, `L / 2` each ([`epm_fft::Fft2d::twiddles`]).
    pub twiddles: (&'a Handle, &'a Handle),
    /// Tracer cells, `[B M, 2]` `i32`.
    pub cells: &'a Handle,
    /// Tracer fractions, `[B M, 4]` `u32`.
    pub fractions: &'a Handle,
}

/// `steps` dense steps of each of `replicas` replicas from `params.step` (ring slot `slot`), in
/// one launch of [`whole_steps`] with `cube_units` units per replica, stopping before a window
/// start whose count is at most `window_limit` (0: never; `run` is `(slot, steps,
/// window_limit)`). The steps must stay inside one count ring (`slot + steps <= RING`).
#[allow(clippy::too_many_arguments)]
pub fn whole_steps<A: Activation>(
    client: &Client,
    plan: WholeStep,
    replicas: usize,
    cube_units: u32,
    b: &WholeStepBuffers,
    rule: &A,
    params: &StepParams,
    (slot, steps, window_limit): (u32, u32, u32),
) {
    assert!(
        slot as usize + steps as usize <= crate::count_ring::RING,
        "whole steps stay inside one count ring"
    );
    let (n, all) = (plan.sites, plan.sites * replicas);
    let tracers = plan.tracers * replicas;
    let a = &b.activation;
    let l = 1usize << (n.trailing_zeros() / 2);
    let lanes = plan.lanes();
    let v = |h: &Handle, len| vectors::<f32>(h, len, lanes);
    // SAFETY: every buffer holds the lengths named in `WholeStepBuffers` for `plan`; each cube
    // addresses only its own replica's sites, lines and tracers.
    unsafe {
        whole_step::whole_steps::launch_unchecked::<A>(
            client,
            CubeCount::new_1d(replicas as u32),
            CubeDim::new_1d(cube_units),
            lanes,
            vectors::<f32>(a.stress, all, lanes),
            vectors::<u32>(a.active, all, lanes),
            vectors::<f32>(a.sign, all, lanes),
            vectors::<i32>(a.plastic, all, lanes),
            vectors::<f32>(a.strain_rate, all, lanes),
            arg::<u32>(a.active_count, count_words(replicas)),
            arg::<u32>(a.keys, 2 * replicas),
            arg::<f32>(a.parameters, replicas),
            rule.launch_arg(),
            v(&b.spectrum.re, all / 2),
            v(&b.spectrum.im, all / 2),
            v(&b.forward_scratch.re, all / 2),
            v(&b.forward_scratch.im, all / 2),
            v(&b.filters.re, INCREMENT_FIELDS * n),
            v(&b.filters.im, INCREMENT_FIELDS * n),
            v(&b.inverse_scratch.re, increments_len(n, replicas)),
            v(&b.inverse_scratch.im, increments_len(n, replicas)),
            v(&b.increments.re, increments_len(n, replicas)),
            v(&b.increments.im, increments_len(n, replicas)),
            arg::<u32>(b.status, 2),
            arg::<f32>(b.twiddles.0, l / 2),
            arg::<f32>(b.twiddles.1, l / 2),
            arg::<i32>(b.cells, 2 * tracers.max(1)),
            arg::<u32>(b.fractions, 4 * tracers.max(1)),
            params.step as u32,
            (params.step >> 32) as u32,
            slot,
            steps,
            window_limit,
            params.p_off,
            params.dt,
            params.strain_rate_amplitude,
            plan,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_sure_to_activate_many_sites_is_never_sparse() {
        let thermal = |t: f64| (-1.0 / (2.0 * t)).exp();
        // L = 2048 from rest at T = 0.1: about 2 800 activations a step.
        assert_eq!(sparse_limit_for_rate(21, 2048 * 2048, thermal(0.1), 0.1), 0);
        // L = 256 at T = 0.04 (the paper's coldest): 0.04 a window, the limit stays whole
        // but for that one.
        assert_eq!(sparse_limit_for_rate(26, 256 * 256, thermal(0.04), 0.1), 25);
        // Nothing activates by itself (the random model at rate 0): the limit as it is.
        assert_eq!(sparse_limit_for_rate(26, 256 * 256, 0.0, 0.1), 26);
        assert_eq!(sparse_limit_for_rate(26, 64, f64::INFINITY, 0.1), 0);
    }
}

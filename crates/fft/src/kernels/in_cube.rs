//! A whole 2D transform made by one cube, for kernels that do more than transform (the
//! model's whole step, `epm::whole_step`): the radix passes of [`super::radix`], each run by
//! the cube's units in turn over the blocks of its group of fields, separated by storage
//! barriers instead of launches.
//!
//! Every unit computes what units of the separate launches compute (the same pass bodies,
//! addresses and twiddles), so the result is the plan's, bit for bit. The passes are the lanes
//! bodies ([`super::radix::first_pass_lanes_at()`], [`super::radix::inner_pass_lanes_at()`]) with
//! one vector width for the whole transform, `N = 2^lanes_log2` ([`CubeTransform::lanes_log2`]):
//! four where every pass can take four lanes, so the cube's loads and stores are vectors of four
//! as the separate launches' are (on lavapipe, the cost of a pass); else vectors of one. A batch is split
//! into groups of whole fields (an ensemble's replicas), one cube each; cubes never touch each
//! other's fields, and inside a cube [`sync_storage()`] orders the passes. A [`CubeTransform`]
//! describes one group, and group `g`'s units are the first group's moved by `g` groups' lines:
//! the same kernel serves any number of groups (one compilation for every ensemble size).

use cubecl::prelude::*;

use super::radix::{Pass, first_pass_lanes_at, inner_pass_lanes_at};
use super::shared_line::MAX_PASSES;

/// The comptime description of one transform of a cube's group of fields: the passes of its
/// rows, then of its columns, as the plan launches them (fusions included), with the layouts
/// of one group ([`super::LineLayout::first_fields`]). The number of groups is the launch's, not part
/// of the description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CubeTransform {
    /// Row passes; the first `row_passes` are used.
    pub rows: [Pass; MAX_PASSES],
    /// Number of row passes.
    pub row_passes: usize,
    /// Column passes; the first `column_passes` are used.
    pub columns: [Pass; MAX_PASSES],
    /// Number of column passes.
    pub column_passes: usize,
    /// log2 of the vector width `N` of every pass and buffer (each pass's
    /// [`Pass::lanes_log2`]).
    pub lanes_log2: usize,
}

impl CubeTransform {
    /// The same transform with every pass in vectors of `2^lanes_log2` values (0: of one, for a
    /// kernel whose other buffers cannot take this one's lanes): the same numbers, bit for bit,
    /// where each pass can take that many lanes ([`Pass::with_lanes`]).
    pub fn in_lanes(self, lanes_log2: usize) -> Self {
        let set = |mut passes: [Pass; MAX_PASSES]| {
            for pass in &mut passes {
                pass.lanes_log2 = lanes_log2;
            }
            passes
        };
        Self {
            rows: set(self.rows),
            columns: set(self.columns),
            lanes_log2,
            ..self
        }
    }
}

/// Transform group `group` of the batch: rows from `src` into `scratch`, columns from `scratch`
/// into `dst`, as [`crate::Fft2d`] runs them (`h`, `acc`, `status`, `tag`: the fused load and
/// store, see `kernels::fused`). Every unit of the cube must call it. `src` may alias `dst`,
/// neither `scratch`.
#[cube]
#[allow(clippy::too_many_arguments)]
pub fn transform_in_cube<F: Float, N: Size>(
    group: usize,
    src_re: &[Vector<F, N>],
    src_im: &[Vector<F, N>],
    h_re: &[Vector<F, N>],
    h_im: &[Vector<F, N>],
    scratch_re: &mut [Vector<F, N>],
    scratch_im: &mut [Vector<F, N>],
    dst_re: &mut [Vector<F, N>],
    dst_im: &mut [Vector<F, N>],
    acc: &mut [Vector<F, N>],
    status: &[Atomic<u32>],
    tw_re: &[F],
    tw_im: &[F],
    tag: u32,
    #[comptime] plan: CubeTransform,
) {
    first_in_cube::<F, N>(
        group,
        src_re,
        src_im,
        h_re,
        h_im,
        scratch_re,
        scratch_im,
        acc,
        status,
        tw_re,
        tw_im,
        tag,
        plan.rows[0],
    );
    later_in_cube::<F, N>(
        group,
        scratch_re,
        scratch_im,
        acc,
        status,
        tw_re,
        tw_im,
        tag,
        plan.rows,
        plan.row_passes,
    );
    // The columns read the rows' results: the scratch planes, read-only in this pass.
    let rows_re = scratch_re.slice(0, scratch_re.len());
    let rows_im = scratch_im.slice(0, scratch_im.len());
    first_in_cube::<F, N>(
        group,
        rows_re,
        rows_im,
        h_re,
        h_im,
        dst_re,
        dst_im,
        acc,
        status,
        tw_re,
        tw_im,
        tag,
        plan.columns[0],
    );
    later_in_cube::<F, N>(
        group,
        dst_re,
        dst_im,
        acc,
        status,
        tw_re,
        tw_im,
        tag,
        plan.columns,
        plan.column_passes,
    );
}

/// The units of `pass` that belong to `group` (contiguous: a field is the outermost index of a
/// unit's position), taken by the cube's units in turn; then a storage barrier.
#[cube]
#[allow(clippy::too_many_arguments)]
fn first_in_cube<F: Float, N: Size>(
    group: usize,
    src_re: &[Vector<F, N>],
    src_im: &[Vector<F, N>],
    h_re: &[Vector<F, N>],
    h_im: &[Vector<F, N>],
    dst_re: &mut [Vector<F, N>],
    dst_im: &mut [Vector<F, N>],
    acc: &mut [Vector<F, N>],
    status: &[Atomic<u32>],
    tw_re: &[F],
    tw_im: &[F],
    tag: u32,
    #[comptime] pass: Pass,
) {
    let units = comptime![pass.units()];
    let mut u = UNIT_POS as usize;
    while u < units {
        first_pass_lanes_at::<F, N>(
            group * units + u,
            src_re,
            src_im,
            h_re,
            h_im,
            dst_re,
            dst_im,
            acc,
            status,
            tw_re,
            tw_im,
            tag,
            comptime![any_group(pass)],
        );
        u += CUBE_DIM as usize;
    }
    sync_storage();
}

/// The passes after the first of one axis (`passes[1..count]`), in place.
#[cube]
#[allow(clippy::too_many_arguments)]
fn later_in_cube<F: Float, N: Size>(
    group: usize,
    data_re: &mut [Vector<F, N>],
    data_im: &mut [Vector<F, N>],
    acc: &mut [Vector<F, N>],
    status: &[Atomic<u32>],
    tw_re: &[F],
    tw_im: &[F],
    tag: u32,
    #[comptime] passes: [Pass; MAX_PASSES],
    #[comptime] count: usize,
) {
    if comptime![count > 1] {
        inner_in_cube::<F, N>(
            group, data_re, data_im, acc, status, tw_re, tw_im, tag, passes[1],
        );
    }
    if comptime![count > 2] {
        inner_in_cube::<F, N>(
            group, data_re, data_im, acc, status, tw_re, tw_im, tag, passes[2],
        );
    }
}

/// [`first_in_cube`] for a later pass, in place.
#[cube]
#[allow(clippy::too_many_arguments)]
fn inner_in_cube<F: Float, N: Size>(
    group: usize,
    data_re: &mut [Vector<F, N>],
    data_im: &mut [Vector<F, N>],
    acc: &mut [Vector<F, N>],
    status: &[Atomic<u32>],
    tw_re: &[F],
    tw_im: &[F],
    tag: u32,
    #[comptime] pass: Pass,
) {
    let units = comptime![pass.units()];
    let mut u = UNIT_POS as usize;
    while u < units {
        inner_pass_lanes_at::<F, N>(
            group * units + u,
            data_re,
            data_im,
            acc,
            status,
            tw_re,
            tw_im,
            tag,
            comptime![any_group(pass)],
        );
        u += CUBE_DIM as usize;
    }
    sync_storage();
}

/// `pass` (one group's) for the units of any group: group `g`'s units address its lines by
/// the layout's steps, past the first group's `outer_count`.
fn any_group(pass: Pass) -> Pass {
    Pass {
        layout: pass.layout.unbounded(),
        ..pass
    }
}

/// [`transform_in_cube()`] of group `CUBE_POS`: one launch for the whole batch
/// ([`crate::Fft2d::forward_real_in_cubes`], [`crate::Fft2d::inverse_filtered_in_cubes`]).
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn transform_cubes<F: Float, N: Size>(
    src_re: &[Vector<F, N>],
    src_im: &[Vector<F, N>],
    h_re: &[Vector<F, N>],
    h_im: &[Vector<F, N>],
    scratch_re: &mut [Vector<F, N>],
    scratch_im: &mut [Vector<F, N>],
    dst_re: &mut [Vector<F, N>],
    dst_im: &mut [Vector<F, N>],
    acc: &mut [Vector<F, N>],
    status: &[Atomic<u32>],
    tw_re: &[F],
    tw_im: &[F],
    tag: u32,
    #[comptime] plan: CubeTransform,
) {
    transform_in_cube::<F, N>(
        CUBE_POS, src_re, src_im, h_re, h_im, scratch_re, scratch_im, dst_re, dst_im, acc, status,
        tw_re, tw_im, tag, plan,
    );
}

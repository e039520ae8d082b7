//! A whole 2D transform made by one cube, for kernels that do more than transform (the
//! model's whole step, `epm::whole_step`): the radix passes of [`super::radix`], each run by
//! the cube's units in turn over the blocks of its group of fields, separated by storage
//! barriers instead of launches.
//!
//! Every unit computes what the same unit of the separate launches computes (the same pass
//! bodies, addresses and twiddles), so the result is the plan's, bit for bit. A batch is split
//! into `groups` groups of whole fields (an ensemble's replicas), one cube each; cubes never
//! touch each other's fields, and inside a cube [`sync_storage`] orders the passes.

use cubecl::prelude::*;

use super::radix::{Pass, first_pass_at, inner_pass_at};
use super::shared_line::MAX_PASSES;

/// The comptime description of one transform of a cube's group of fields: the passes of its
/// rows, then of its columns, as the plan launches them (fusions included).
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
    /// Cubes the batch is split into, one group of fields each.
    pub groups: usize,
}

/// Transform group `group` of the batch: rows from `src` into `scratch`, columns from `scratch`
/// into `dst`, as [`crate::Fft2d`] runs them (`h`, `acc`, `status`, `tag`: the fused load and
/// store, see [`super::fused`]). Every unit of the cube must call it. `src` may alias `dst`,
/// neither `scratch`.
#[cube]
#[allow(clippy::too_many_arguments)]
pub fn transform_in_cube<F: Float>(
    group: usize,
    src_re: &[F],
    src_im: &[F],
    h_re: &[F],
    h_im: &[F],
    scratch_re: &mut [F],
    scratch_im: &mut [F],
    dst_re: &mut [F],
    dst_im: &mut [F],
    acc: &mut [F],
    status: &[Atomic<u32>],
    tw_re: &[F],
    tw_im: &[F],
    tag: u32,
    #[comptime] plan: CubeTransform,
) {
    first_in_cube::<F>(
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
        plan.groups,
    );
    later_in_cube::<F>(
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
        plan.groups,
    );
    // The columns read the rows' results: the scratch planes, read-only in this pass.
    let rows_re = scratch_re.slice(0, scratch_re.len());
    let rows_im = scratch_im.slice(0, scratch_im.len());
    first_in_cube::<F>(
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
        plan.groups,
    );
    later_in_cube::<F>(
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
        plan.groups,
    );
}

/// The units of `pass` that belong to `group` (contiguous: a field is the outermost index of a
/// unit's position), taken by the cube's units in turn; then a storage barrier.
#[cube]
#[allow(clippy::too_many_arguments)]
fn first_in_cube<F: Float>(
    group: usize,
    src_re: &[F],
    src_im: &[F],
    h_re: &[F],
    h_im: &[F],
    dst_re: &mut [F],
    dst_im: &mut [F],
    acc: &mut [F],
    status: &[Atomic<u32>],
    tw_re: &[F],
    tw_im: &[F],
    tag: u32,
    #[comptime] pass: Pass,
    #[comptime] groups: usize,
) {
    let units = comptime![pass.units() / groups];
    let mut u = UNIT_POS as usize;
    while u < units {
        first_pass_at::<F>(
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
            pass,
        );
        u += CUBE_DIM as usize;
    }
    sync_storage();
}

/// The passes after the first of one axis (`passes[1..count]`), in place.
#[cube]
#[allow(clippy::too_many_arguments)]
fn later_in_cube<F: Float>(
    group: usize,
    data_re: &mut [F],
    data_im: &mut [F],
    acc: &mut [F],
    status: &[Atomic<u32>],
    tw_re: &[F],
    tw_im: &[F],
    tag: u32,
    #[comptime] passes: [Pass; MAX_PASSES],
    #[comptime] count: usize,
    #[comptime] groups: usize,
) {
    if comptime![count > 1] {
        inner_in_cube::<F>(
            group, data_re, data_im, acc, status, tw_re, tw_im, tag, passes[1], groups,
        );
    }
    if comptime![count > 2] {
        inner_in_cube::<F>(
            group, data_re, data_im, acc, status, tw_re, tw_im, tag, passes[2], groups,
        );
    }
}

/// [`first_in_cube`] for a later pass, in place.
#[cube]
#[allow(clippy::too_many_arguments)]
fn inner_in_cube<F: Float>(
    group: usize,
    data_re: &mut [F],
    data_im: &mut [F],
    acc: &mut [F],
    status: &[Atomic<u32>],
    tw_re: &[F],
    tw_im: &[F],
    tag: u32,
    #[comptime] pass: Pass,
    #[comptime] groups: usize,
) {
    let units = comptime![pass.units() / groups];
    let mut u = UNIT_POS as usize;
    while u < units {
        inner_pass_at::<F>(
            group * units + u,
            data_re,
            data_im,
            acc,
            status,
            tw_re,
            tw_im,
            tag,
            pass,
        );
        u += CUBE_DIM as usize;
    }
    sync_storage();
}

/// [`transform_in_cube`] of group `CUBE_POS`: one launch for the whole batch
/// ([`crate::Fft2d::forward_real_in_cubes`], [`crate::Fft2d::inverse_filtered_in_cubes`]).
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn transform_cubes<F: Float>(
    src_re: &[F],
    src_im: &[F],
    h_re: &[F],
    h_im: &[F],
    scratch_re: &mut [F],
    scratch_im: &mut [F],
    dst_re: &mut [F],
    dst_im: &mut [F],
    acc: &mut [F],
    status: &[Atomic<u32>],
    tw_re: &[F],
    tw_im: &[F],
    tag: u32,
    #[comptime] plan: CubeTransform,
) {
    transform_in_cube::<F>(
        CUBE_POS, src_re, src_im, h_re, h_im, scratch_re, scratch_im, dst_re, dst_im, acc, status,
        tw_re, tw_im, tag, plan,
    );
}

//! Pointwise work fused into a transform's first load and last store, so that a convolution
//! step does not pay a pass through memory for each: see [`crate::Fft2d::inverse_filtered`].
//!
//! - Filter (first load of the rows): with `F` complex filters `H_f` and a batch of spectra
//!   `X_r` (one per replica of an ensemble), element `i` of batch field `b = r F + f` is read as
//!   `H_f(i) X_r(i)`. A separate kernel would read `X` and `H` and write the batch; the fused
//!   load reads the same and writes nothing.
//! - Accumulate (last store of the columns): the real part of field `f = 0` of each replica is
//!   also added to that replica's target field, `acc_r[i] += re(i)`, with the same `f32` sum a
//!   separate kernel would make; the first sum that is not finite records `tag` (atomic
//!   minimum) and its target address `r L^2 + i` in `status`.
//!
//! Batch address `p = (r F + f) L^2 + i` maps to `r L^2 + i` in the spectra and the targets,
//! and to `f L^2 + i` in the filters: with one replica these are `i` and `p`.

use cubecl::prelude::*;

/// What a pass fuses (comptime). `field_log2` is log2 of one field's length `ly lx`,
/// `filters` the number of filters `F` (at least 1 where something is fused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Fusion {
    /// The first pass of the rows reads `H_b(i) X(i)` (see the module docs).
    pub filter: bool,
    /// The last pass of the columns adds the real part of field 0 into the target.
    pub accumulate: bool,
    /// log2 of the length of one field.
    pub field_log2: usize,
    /// The number of filters: batch fields per spectrum.
    pub filters: usize,
}

/// The spectrum's (and the target's) address of batch address `p`: `r L^2 + i`.
#[cube]
fn replica_address(p: usize, #[comptime] fusion: Fusion) -> usize {
    let i = p & comptime![(1usize << fusion.field_log2) - 1];
    let r = (p >> comptime![fusion.field_log2]) / comptime![fusion.filters];
    (r << comptime![fusion.field_log2]) | i
}

/// The filter's address of batch address `p`: `f L^2 + i`.
#[cube]
fn filter_address(p: usize, #[comptime] fusion: Fusion) -> usize {
    let f = (p >> comptime![fusion.field_log2]) % comptime![fusion.filters];
    (f << comptime![fusion.field_log2]) | (p & comptime![(1usize << fusion.field_log2) - 1])
}

/// `H_f(i) X_r(i)`: the filtered input at batch address `p = (r F + f) L^2 + i`.
#[cube]
pub fn filtered<F: Float>(
    x_re: &[F],
    x_im: &[F],
    h_re: &[F],
    h_im: &[F],
    p: usize,
    #[comptime] fusion: Fusion,
) -> (F, F) {
    let q = replica_address(p, fusion);
    let h = filter_address(p, fusion);
    let (xr, xi) = (x_re[q], x_im[q]);
    let (hr, hi) = (h_re[h], h_im[h]);
    (hr * xr - hi * xi, hr * xi + hi * xr)
}

/// [`filtered`] at the `2^l` neighbouring batch addresses `p .. p + 2^l` of one field (`p` a
/// multiple of `2^l`), buffers in vectors of `2^l`: the same products lane by lane.
#[cube]
pub fn filtered_lanes<F: Float, N: Size>(
    x_re: &[Vector<F, N>],
    x_im: &[Vector<F, N>],
    h_re: &[Vector<F, N>],
    h_im: &[Vector<F, N>],
    p: usize,
    #[comptime] fusion: Fusion,
    #[comptime] lanes_log2: usize,
) -> (Vector<F, N>, Vector<F, N>) {
    let q = replica_address(p, fusion) >> lanes_log2;
    let h = filter_address(p, fusion) >> lanes_log2;
    let (xr, xi) = (x_re[q], x_im[q]);
    let (hr, hi) = (h_re[h], h_im[h]);
    (hr * xr - hi * xi, hr * xi + hi * xr)
}

/// `acc[r L^2 + i] += v` for batch addresses `p` of filter 0 (`f = 0`); a sum that is not
/// finite records `tag` (atomic minimum) in `status[0]` and `r L^2 + i` in `status[1]`.
#[cube]
pub fn accumulate<F: Float>(
    acc: &mut [F],
    status: &[Atomic<u32>],
    p: usize,
    v: F,
    tag: u32,
    #[comptime] fusion: Fusion,
) {
    let f = (p >> comptime![fusion.field_log2]) % comptime![fusion.filters];
    if f == 0 {
        accumulate_checked::<F>(acc, status, replica_address(p, fusion), v, tag);
    }
}

/// [`accumulate`] for the `2^l` neighbouring batch addresses `p .. p + 2^l` of one field at
/// once (the lanes of [`super::radix::inner_pass_lanes`]); `acc` in vectors of `2^l`. Each
/// lane is the same `f32` sum and check as [`accumulate_checked`].
#[cube]
pub fn accumulate_lanes<F: Float, N: Size>(
    acc: &mut [Vector<F, N>],
    status: &[Atomic<u32>],
    p: usize,
    v: Vector<F, N>,
    tag: u32,
    #[comptime] fusion: Fusion,
    #[comptime] lanes_log2: usize,
) {
    let f = (p >> comptime![fusion.field_log2]) % comptime![fusion.filters];
    if f == 0 {
        let q = replica_address(p, fusion);
        let s = acc[q >> lanes_log2] + v;
        acc[q >> lanes_log2] = s;
        #[unroll]
        for c in 0..comptime![1usize << lanes_log2] {
            record_if_not_finite::<F>(status, q + c, s.extract(c), tag);
        }
    }
}

/// `acc[p] += v`, recording a sum that is not finite as [`accumulate`] does. Every checked
/// accumulation of this workspace (the fused store, the model's sparse stress update) ends here
/// or in [`accumulate_lanes`].
#[cube]
pub fn accumulate_checked<F: Float>(
    acc: &mut [F],
    status: &[Atomic<u32>],
    p: usize,
    v: F,
    tag: u32,
) {
    let s = acc[p] + v;
    acc[p] = s;
    record_if_not_finite::<F>(status, p, s, tag);
}

/// `tag` (atomic minimum) in `status[0]` and `p` in `status[1]` when the sum `s` at `p` is not
/// finite.
#[cube]
fn record_if_not_finite<F: Float>(status: &[Atomic<u32>], p: usize, s: F, tag: u32) {
    // NaN and infinities fail the comparison (for any float width `F`).
    let finite = F::abs(s) <= F::max_value();
    if !finite {
        status[0].fetch_min(tag);
        status[1].store(p as u32);
    }
}

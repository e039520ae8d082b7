//! Pointwise work fused into a transform's first load and last store, so that a convolution
//! step does not pay a pass through memory for each: see [`crate::Fft2d::inverse_filtered`].
//!
//! - Filter (first load of the rows): element `i` of batch field `b` is read as
//!   `H_b(i) X(i)`, with `X` one field and `H` a batch of complex filters. A separate kernel
//!   would read `X` and `H` and write the batch; the fused load reads the same and writes
//!   nothing.
//! - Accumulate (last store of the columns): the real part of field 0 is also added to a
//!   target, `acc[i] += re(i)`, with the same `f32` sum a separate kernel would make; the first
//!   sum that is not finite records `tag` (atomic minimum) and `i` in `status`.

use cubecl::prelude::*;

/// What a pass fuses (comptime). `field_log2` is log2 of one field's length `ly lx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Fusion {
    /// The first pass of the rows reads `H_b(i) X(i)` (see the module docs).
    pub filter: bool,
    /// The last pass of the columns adds the real part of field 0 into the target.
    pub accumulate: bool,
    /// log2 of the length of one field.
    pub field_log2: usize,
}

/// `H(p) X(p mod field)`: the filtered input at batch address `p`.
#[cube]
pub fn filtered<F: Float>(
    x_re: &[F],
    x_im: &[F],
    h_re: &[F],
    h_im: &[F],
    p: usize,
    #[comptime] fusion: Fusion,
) -> (F, F) {
    let q = p & comptime![(1usize << fusion.field_log2) - 1];
    let (xr, xi) = (x_re[q], x_im[q]);
    let (hr, hi) = (h_re[p], h_im[p]);
    (hr * xr - hi * xi, hr * xi + hi * xr)
}

/// `acc[p] += v` for addresses `p` of field 0; a sum that is not finite records `tag` (atomic
/// minimum) in `status[0]` and `p` in `status[1]`.
#[cube]
pub fn accumulate<F: Float>(
    acc: &mut [F],
    status: &[Atomic<u32>],
    p: usize,
    v: F,
    tag: u32,
    #[comptime] fusion: Fusion,
) {
    if p < comptime![1usize << fusion.field_log2] {
        accumulate_checked::<F>(acc, status, p, v, tag);
    }
}

/// `acc[p] += v`, recording a sum that is not finite as [`accumulate`] does. Every checked
/// accumulation of this workspace (the fused store, the model's sparse stress update) ends here.
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
    // NaN and infinities fail the comparison (for any float width `F`).
    let finite = F::abs(s) <= F::max_value();
    if !finite {
        status[0].fetch_min(tag);
        status[1].store(p as u32);
    }
}

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
//!
//! Real fields in row pairs (`pairs`, [`crate::real_rows`]): the spectra are those of real
//! fields of `2 ly x lx` whose even rows were read as real parts and odd rows as imaginary
//! parts, and the filtered load is `U_f(i) Z_r(i) + V_f(i) conj Z_r(-i)` (`V_f` at `F L^2`
//! past `U_f` in the filter planes); the accumulation adds a field's real part into the
//! target's even rows and its imaginary part into the odd rows (`2 L^2` per replica).

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
    /// Real fields in row pairs (see the module docs): the filtered load reads the spectrum at
    /// `i` and `-i`, the accumulation writes two rows.
    pub pairs: bool,
    /// log2 of a field's row length `lx` (the mirror `-i`, the paired rows).
    pub row_log2: usize,
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

/// The spectrum's address of the wave vector opposite to that at spectrum address `q`:
/// `(-ky mod ly, -kx mod lx)` in the same field.
#[cube]
fn mirror_address(q: usize, #[comptime] fusion: Fusion) -> usize {
    let row_mask = comptime![(1usize << fusion.row_log2) - 1];
    let column_mask = comptime![(1usize << (fusion.field_log2 - fusion.row_log2)) - 1];
    // Shifts, not a complement mask: a usize constant beyond u32 does not compile in WGSL.
    let field = (q >> comptime![fusion.field_log2]) << comptime![fusion.field_log2];
    let kx = q & row_mask;
    let ky = (q >> comptime![fusion.row_log2]) & column_mask;
    let mx = (comptime![1usize << fusion.row_log2] - kx) & row_mask;
    let my = (comptime![column_mask + 1] - ky) & column_mask;
    field | (my << comptime![fusion.row_log2]) | mx
}

/// The address of the even row of the row pair that address `q` of a field of `ly x lx`
/// stands for, in fields of `2 ly x lx`: `(2 y) lx + x` in field `r` (the odd row is `lx`
/// further).
#[cube]
pub fn paired_address(q: usize, #[comptime] row_log2: usize) -> usize {
    q + ((q >> row_log2) << row_log2)
}

/// `H_f(i) X_r(i)`: the filtered input at batch address `p = (r F + f) L^2 + i`; with
/// `pairs`, `U_f(i) Z_r(i) + V_f(i) conj Z_r(-i)` (see the module docs).
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
    if comptime![fusion.pairs] {
        let m = mirror_address(q, fusion);
        // conj Z(-i).
        let (mr, mi) = (x_re[m], -x_im[m]);
        let v = h + comptime![fusion.filters << fusion.field_log2];
        let (vr, vi) = (h_re[v], h_im[v]);
        (
            hr * xr - hi * xi + (vr * mr - vi * mi),
            hr * xi + hi * xr + (vr * mi + vi * mr),
        )
    } else {
        (hr * xr - hi * xi, hr * xi + hi * xr)
    }
}

/// [`filtered()`] at the `2^l` neighbouring batch addresses `p .. p + 2^l` of one field (`p` a
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
    let q = replica_address(p, fusion);
    let h = filter_address(p, fusion) >> lanes_log2;
    let (xr, xi) = (x_re[q >> lanes_log2], x_im[q >> lanes_log2]);
    let (hr, hi) = (h_re[h], h_im[h]);
    if comptime![fusion.pairs] {
        let (mr, mi) = mirrored_lanes::<F, N>(x_re, x_im, q, fusion, lanes_log2);
        let v = h + comptime![(fusion.filters << fusion.field_log2) >> lanes_log2];
        let (vr, vi) = (h_re[v], h_im[v]);
        (
            hr * xr - hi * xi + (vr * mr - vi * mi),
            hr * xi + hi * xr + (vr * mi + vi * mr),
        )
    } else {
        (hr * xr - hi * xi, hr * xi + hi * xr)
    }
}

/// `conj Z(-(i + c))` in lane `c`, for the `2^l` neighbouring spectrum addresses `q + c` of one
/// row (`q` a multiple of `2^l`). Their mirrors run backwards from `-i`: lane 0 is lane 0 of
/// the vector at `-i`, lane `c > 0` is lane `2^l - c` of the vector before it in the row.
#[cube]
fn mirrored_lanes<F: Float, N: Size>(
    x_re: &[Vector<F, N>],
    x_im: &[Vector<F, N>],
    q: usize,
    #[comptime] fusion: Fusion,
    #[comptime] lanes_log2: usize,
) -> (Vector<F, N>, Vector<F, N>) {
    let lanes = comptime![1usize << lanes_log2];
    let m = mirror_address(q, fusion);
    // The row's element `lx - kx - lanes` (never below the row: `kx <= lx - lanes`).
    let kx = q & comptime![(1usize << fusion.row_log2) - 1];
    let before = ((m >> comptime![fusion.row_log2]) << comptime![fusion.row_log2])
        + (comptime![1usize << fusion.row_log2] - kx - lanes);
    let (at_re, at_im) = (x_re[m >> lanes_log2], x_im[m >> lanes_log2]);
    let (lo_re, lo_im) = (x_re[before >> lanes_log2], x_im[before >> lanes_log2]);
    let mut re = Vector::<F, N>::new(at_re.extract(0usize));
    let mut im = Vector::<F, N>::new(-at_im.extract(0usize));
    #[unroll]
    for c in 1..lanes {
        re.insert(c, lo_re.extract(lanes - c));
        im.insert(c, -lo_im.extract(lanes - c));
    }
    (re, im)
}

/// `acc[r L^2 + i] += re` for batch addresses `p` of filter 0 (`f = 0`); a sum that is not
/// finite records `tag` (atomic minimum) in `status[0]` and `r L^2 + i` in `status[1]`. With
/// `pairs`, `re` goes to the even row and `im` to the odd row of the pair ([`paired_address()`]).
#[cube]
#[allow(clippy::too_many_arguments)]
pub fn accumulate<F: Float>(
    acc: &mut [F],
    status: &[Atomic<u32>],
    p: usize,
    re: F,
    im: F,
    tag: u32,
    #[comptime] fusion: Fusion,
) {
    let f = (p >> comptime![fusion.field_log2]) % comptime![fusion.filters];
    if f == 0 {
        let q = replica_address(p, fusion);
        if comptime![fusion.pairs] {
            let even = paired_address(q, fusion.row_log2);
            accumulate_checked::<F>(acc, status, even, re, tag);
            let odd = even + comptime![1usize << fusion.row_log2];
            accumulate_checked::<F>(acc, status, odd, im, tag);
        } else {
            accumulate_checked::<F>(acc, status, q, re, tag);
        }
    }
}

/// [`accumulate()`] for the `2^l` neighbouring batch addresses `p .. p + 2^l` of one field at
/// once (the lanes of `radix::inner_pass_lanes`); `acc` in vectors of `2^l`. Each
/// lane is the same `f32` sum and check as [`accumulate_checked()`].
#[cube]
#[allow(clippy::too_many_arguments)]
pub fn accumulate_lanes<F: Float, N: Size>(
    acc: &mut [Vector<F, N>],
    status: &[Atomic<u32>],
    p: usize,
    re: Vector<F, N>,
    im: Vector<F, N>,
    tag: u32,
    #[comptime] fusion: Fusion,
    #[comptime] lanes_log2: usize,
) {
    let f = (p >> comptime![fusion.field_log2]) % comptime![fusion.filters];
    if f == 0 {
        let q = replica_address(p, fusion);
        if comptime![fusion.pairs] {
            let even = paired_address(q, fusion.row_log2);
            accumulate_vector::<F, N>(acc, status, even, re, tag, lanes_log2);
            let odd = even + comptime![1usize << fusion.row_log2];
            accumulate_vector::<F, N>(acc, status, odd, im, tag, lanes_log2);
        } else {
            accumulate_vector::<F, N>(acc, status, q, re, tag, lanes_log2);
        }
    }
}

/// `acc[q .. q + 2^l] += v`, each lane checked as [`accumulate_checked`] checks.
#[cube]
fn accumulate_vector<F: Float, N: Size>(
    acc: &mut [Vector<F, N>],
    status: &[Atomic<u32>],
    q: usize,
    v: Vector<F, N>,
    tag: u32,
    #[comptime] lanes_log2: usize,
) {
    let s = acc[q >> lanes_log2] + v;
    acc[q >> lanes_log2] = s;
    #[unroll]
    for c in 0..comptime![1usize << lanes_log2] {
        record_if_not_finite::<F>(status, q + c, s.extract(c), tag);
    }
}

/// `acc[p] += v`, recording a sum that is not finite as [`accumulate()`] does. Every checked
/// accumulation of this workspace (the fused store, the model's sparse stress update) ends here
/// or in [`accumulate_lanes()`].
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

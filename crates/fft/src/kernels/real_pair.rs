//! Two real fields through one complex transform.
//!
//! Forward: with `z = a + i b` real `a`, `b`, the spectra are
//! `A(k) = (Z(k) + conj Z(-k)) / 2` and `B(k) = (Z(k) - conj Z(-k)) / (2i)`, both Hermitian.
//! Inverse: `Z = A + i B` transforms back to `a + i b`, so the real and imaginary planes of
//! one inverse transform are the two real results.

use cubecl::prelude::*;

/// Split the spectrum `z` of `a + i b` into the spectra of `a` and `b`.
/// `log2_lx`, `log2_ly` give the field shape; one unit per element of the batch (`z`'s length,
/// not compiled in: one kernel for every batch of a shape).
#[cube(launch_unchecked)]
pub fn separate<F: Float>(
    z_re: &[F],
    z_im: &[F],
    a_re: &mut [F],
    a_im: &mut [F],
    b_re: &mut [F],
    b_im: &mut [F],
    #[comptime] log2_ly: usize,
    #[comptime] log2_lx: usize,
) {
    let pos = ABSOLUTE_POS;
    if pos >= z_re.len() {
        terminate!();
    }
    let lx_mask = comptime![(1usize << log2_lx) - 1];
    let ly_mask = comptime![(1usize << log2_ly) - 1];
    let x = pos & lx_mask;
    let y = (pos >> log2_lx) & ly_mask;
    let field = pos >> comptime![log2_lx + log2_ly];
    let mx = (comptime![1usize << log2_lx] - x) & lx_mask;
    let my = (comptime![1usize << log2_ly] - y) & ly_mask;
    let mirror = (field << comptime![log2_lx + log2_ly]) + (my << log2_lx) + mx;
    let half = F::new(0.5f32);
    let (zr, zi) = (z_re[pos], z_im[pos]);
    let (nr, ni) = (z_re[mirror], z_im[mirror]);
    a_re[pos] = (zr + nr) * half;
    a_im[pos] = (zi - ni) * half;
    b_re[pos] = (zi + ni) * half;
    b_im[pos] = (nr - zr) * half;
}

/// `z = a + i b` for spectra `a`, `b`: the input of an inverse transform that returns the two
/// real fields as its real and imaginary planes; one unit per element of `z`.
#[cube(launch_unchecked)]
pub fn combine<F: Float>(
    a_re: &[F],
    a_im: &[F],
    b_re: &[F],
    b_im: &[F],
    z_re: &mut [F],
    z_im: &mut [F],
) {
    let pos = ABSOLUTE_POS;
    if pos >= z_re.len() {
        terminate!();
    }
    z_re[pos] = a_re[pos] - b_im[pos];
    z_im[pos] = a_im[pos] + b_re[pos];
}

//! CPU reference: the naive 2D DFT, the definition every kernel is tested against.
//!
//! `X(ky, kx) = sum_{y,x} x(y, x) exp(sign * 2 pi i (ky y / ly + kx x / lx))`, with
//! `sign = -1` forward and `+1` inverse, the inverse divided by `ly * lx`
//! (the same convention as the device transforms, see the crate docs).

use crate::field::ComplexField;

/// Naive 2D DFT of one field, in f64, as 1D DFTs along the rows then the columns (exact
/// arithmetic of the definition, O(N (lx + ly))). `inverse` flips the sign and divides by
/// `ly * lx`.
pub fn dft2d(field: &ComplexField<f64>, inverse: bool) -> ComplexField<f64> {
    let (ly, lx) = (field.ly, field.lx);
    let mut out = field.clone();
    for y in 0..ly {
        dft_line(&mut out, y * lx, 1, lx, inverse);
    }
    for x in 0..lx {
        dft_line(&mut out, x, lx, ly, inverse);
    }
    if inverse {
        let norm = 1.0 / (lx * ly) as f64;
        out.re
            .iter_mut()
            .chain(out.im.iter_mut())
            .for_each(|v| *v *= norm);
    }
    out
}

/// `X(k) = sum_j x(j) exp(-+ 2 pi i k j / n)` of the `n` elements at `start + j * stride`, in place.
fn dft_line(field: &mut ComplexField<f64>, start: usize, stride: usize, n: usize, inverse: bool) {
    let sign = if inverse { 1.0 } else { -1.0 };
    let input: Vec<(f64, f64)> = (0..n)
        .map(|j| (field.re[start + j * stride], field.im[start + j * stride]))
        .collect();
    for k in 0..n {
        let (mut sr, mut si) = (0.0, 0.0);
        for (j, &(ar, ai)) in input.iter().enumerate() {
            // (k j) mod n keeps the phase argument small and exact.
            let phase = sign * 2.0 * std::f64::consts::PI * ((k * j) % n) as f64 / n as f64;
            let (s, c) = phase.sin_cos();
            sr += ar * c - ai * s;
            si += ar * s + ai * c;
        }
        field.re[start + k * stride] = sr;
        field.im[start + k * stride] = si;
    }
}

/// Relative L2 distance `|a - b| / |b|` over both planes (0 when both are zero).
pub fn relative_l2(a_re: &[f64], a_im: &[f64], b_re: &[f64], b_im: &[f64]) -> f64 {
    let mut num = 0.0;
    let mut den = 0.0;
    for i in 0..b_re.len() {
        num += (a_re[i] - b_re[i]).powi(2) + (a_im[i] - b_im[i]).powi(2);
        den += b_re[i].powi(2) + b_im[i].powi(2);
    }
    if den == 0.0 {
        num.sqrt()
    } else {
        (num / den).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dft_of_impulse_is_flat_and_round_trips() {
        let mut f = ComplexField::zeros(4, 8);
        f.re[0] = 1.0;
        let spec = dft2d(&f, false);
        assert!(spec.re.iter().all(|&v| (v - 1.0).abs() < 1e-12));
        assert!(spec.im.iter().all(|&v| v.abs() < 1e-12));
        let back = dft2d(&spec, true);
        assert!(relative_l2(&back.re, &back.im, &f.re, &f.im) < 1e-12);
    }
}

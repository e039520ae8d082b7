//! CPU reference: the naive 2D DFT, the definition every kernel is tested against.
//!
//! `X(ky, kx) = sum_{y,x} x(y, x) exp(sign * 2 pi i (ky y / ly + kx x / lx))`, with
//! `sign = -1` forward and `+1` inverse, the inverse divided by `ly * lx`
//! (the same convention as the device transforms, see the crate docs).

use crate::field::ComplexField;

/// Naive O(N^2) 2D DFT of one field, in f64. `inverse` flips the sign and divides by `ly * lx`.
pub fn dft2d(field: &ComplexField<f64>, inverse: bool) -> ComplexField<f64> {
    let (ly, lx) = (field.ly, field.lx);
    let sign = if inverse { 1.0 } else { -1.0 };
    let mut out = ComplexField::zeros(ly, lx);
    // Row transforms, then column transforms: separable, still exact O(N (lx + ly)).
    let mut tmp = ComplexField::zeros(ly, lx);
    for y in 0..ly {
        for kx in 0..lx {
            let (mut sr, mut si) = (0.0, 0.0);
            for x in 0..lx {
                let phase = sign * 2.0 * std::f64::consts::PI * ((kx * x) % lx) as f64 / lx as f64;
                let (s, c) = phase.sin_cos();
                let (ar, ai) = (field.re[y * lx + x], field.im[y * lx + x]);
                sr += ar * c - ai * s;
                si += ar * s + ai * c;
            }
            tmp.re[y * lx + kx] = sr;
            tmp.im[y * lx + kx] = si;
        }
    }
    let norm = if inverse { 1.0 / (lx * ly) as f64 } else { 1.0 };
    for x in 0..lx {
        for ky in 0..ly {
            let (mut sr, mut si) = (0.0, 0.0);
            for y in 0..ly {
                let phase = sign * 2.0 * std::f64::consts::PI * ((ky * y) % ly) as f64 / ly as f64;
                let (s, c) = phase.sin_cos();
                let (ar, ai) = (tmp.re[y * lx + x], tmp.im[y * lx + x]);
                sr += ar * c - ai * s;
                si += ar * s + ai * c;
            }
            out.re[ky * lx + x] = sr * norm;
            out.im[ky * lx + x] = si * norm;
        }
    }
    out
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

//! CPU references, in the device transforms' convention (see the crate docs):
//! `X(ky, kx) = sum_{y,x} x(y, x) exp(sign * 2 pi i (ky y / ly + kx x / lx))`, with
//! `sign = -1` forward and `+1` inverse, the inverse divided by `ly * lx`.
//!
//! - [`dft2d`]: the naive 2D DFT, the definition every kernel is tested against;
//! - [`RustFft2d`]: rustfft along rows then columns, the one fast CPU 2D transform of the
//!   project: the `f64` ground truth of the model's tests and the `f32` baseline of the
//!   benchmarks.

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftNum, FftPlanner};

use crate::field::ComplexField;

/// A planned `ly x lx` 2D transform with rustfft on one CPU thread: the rows, a transpose,
/// the columns as rows, a transpose back.
pub struct RustFft2d<T: FftNum> {
    ly: usize,
    lx: usize,
    /// `[forward, inverse]` along a row (`lx`) and along a column (`ly`).
    rows: [Arc<dyn Fft<T>>; 2],
    columns: [Arc<dyn Fft<T>>; 2],
    transposed: Vec<Complex<T>>,
    scratch: Vec<Complex<T>>,
}

impl<T: FftNum> RustFft2d<T> {
    /// Plans an `ly x lx` transform.
    pub fn new(ly: usize, lx: usize) -> Self {
        let mut planner = FftPlanner::<T>::new();
        let rows = [planner.plan_fft_forward(lx), planner.plan_fft_inverse(lx)];
        let columns = [planner.plan_fft_forward(ly), planner.plan_fft_inverse(ly)];
        let scratch = rows
            .iter()
            .chain(&columns)
            .map(|p| p.get_inplace_scratch_len())
            .max()
            .unwrap_or(0);
        Self {
            ly,
            lx,
            rows,
            columns,
            transposed: vec![Complex::new(T::zero(), T::zero()); ly * lx],
            scratch: vec![Complex::new(T::zero(), T::zero()); scratch],
        }
    }

    /// Unnormalised forward transform of row-major `data`, in place.
    pub fn forward(&mut self, data: &mut [Complex<T>]) {
        self.process(data, 0);
    }

    /// Inverse transform divided by `ly * lx`, in place.
    pub fn inverse(&mut self, data: &mut [Complex<T>]) {
        self.process(data, 1);
        let norm = T::from_f64(1.0 / (self.ly * self.lx) as f64).expect("a float type");
        data.iter_mut().for_each(|v| *v = *v * norm);
    }

    fn process(&mut self, data: &mut [Complex<T>], direction: usize) {
        let (ly, lx) = (self.ly, self.lx);
        assert_eq!(data.len(), ly * lx, "a {ly} x {lx} field");
        self.rows[direction].process_with_scratch(data, &mut self.scratch);
        transpose::transpose(data, &mut self.transposed, lx, ly);
        self.columns[direction].process_with_scratch(&mut self.transposed, &mut self.scratch);
        transpose::transpose(&self.transposed, data, ly, lx);
    }
}

/// One field through [`RustFft2d`] in `f64` (`inverse` divides by `ly * lx`).
pub fn rustfft2d(field: &ComplexField<f64>, inverse: bool) -> ComplexField<f64> {
    let (ly, lx) = (field.ly, field.lx);
    let mut data: Vec<Complex<f64>> = (0..ly * lx)
        .map(|i| Complex::new(field.re[i], field.im[i]))
        .collect();
    let mut fft = RustFft2d::new(ly, lx);
    if inverse {
        fft.inverse(&mut data);
    } else {
        fft.forward(&mut data);
    }
    ComplexField {
        ly,
        lx,
        re: data.iter().map(|c| c.re).collect(),
        im: data.iter().map(|c| c.im).collect(),
    }
}

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

    #[test]
    fn rustfft_2d_equals_the_dft_on_a_rectangle_both_ways() {
        let (ly, lx) = (8, 16);
        let field = ComplexField {
            ly,
            lx,
            re: (0..ly * lx).map(|i| ((i * 37) % 11) as f64 - 5.0).collect(),
            im: (0..ly * lx).map(|i| ((i * 13) % 7) as f64 - 3.0).collect(),
        };
        for inverse in [false, true] {
            let (a, b) = (rustfft2d(&field, inverse), dft2d(&field, inverse));
            assert!(
                relative_l2(&a.re, &a.im, &b.re, &b.im) < 1e-12,
                "inverse {inverse}"
            );
        }
    }
}

//! Real fields in row pairs: the forward transform of a real field and filtered inverses back
//! to real fields, each through complex transforms of half the field.
//!
//! A real field `e` of `L x lx` (`L = 2 ly`) is read as the `ly x lx` complex field
//! `z(y, x) = e(2y, x) + i e(2y + 1, x)` ([`crate::Fft2d::forward_real_rows`]). With `Z` its
//! transform and `w = exp(-2 pi i / L)`, the even and odd rows' transforms are
//! `E0 = (Z(k) + conj Z(-k)) / 2`, `E1 = (Z(k) - conj Z(-k)) / (2i)`, and the spectrum of `e` at
//! `ky < ly` and `ky + ly` is `E0 +- w^ky E1` (the last radix-2 stage of the columns).
//!
//! Back: for a filter `H` with `H E` Hermitian, the inverse `a` of `H E` is real, and its even and
//! odd rows are the inverse of `A0 = (A+ + A-) / 2` and `A1 = w^-ky (A+ - A-) / 2` over the half
//! field (`A+-` = `H E` at `ky` and `ky + ly`). So one inverse of `Y = A0 + i A1` over `ly x lx`
//! returns `a`'s even rows as its real part and odd rows as its imaginary part. All of it is
//! linear in `Z(k)` and `conj Z(-k)`:
//!
//! `Y(k) = U(k) Z(k) + V(k) conj Z(-k)`, with `alpha = H+ (1 + i conj w^ky) / 2`,
//! `beta = H- (1 - i conj w^ky) / 2`, `U = (alpha + beta - i w^ky (alpha - beta)) / 2` and
//! `V = (alpha + beta + i w^ky (alpha - beta)) / 2`.
//!
//! [`filter_tables`] makes `U` and `V` once per filter on the host; the inverse's first pass
//! computes `Y` as it loads ([`crate::kernels::fused`]), so a convolution of a real field with
//! `F` real kernels costs a half-size forward and `F` half-size inverses, against a full forward
//! and `F / 2` full inverses when two real results share one complex inverse.

use crate::plan::FftFloat;

/// A complex number `(re, im)` in `f64`.
type C = (f64, f64);

fn mul(a: C, b: C) -> C {
    (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0)
}

fn add(a: C, b: C) -> C {
    (a.0 + b.0, a.1 + b.1)
}

fn sub(a: C, b: C) -> C {
    (a.0 - b.0, a.1 - b.1)
}

fn half(a: C) -> C {
    (0.5 * a.0, 0.5 * a.1)
}

/// `U` and `V` of each filter at bin `(ky, kx)` of the half field (`ky < l / 2`), from the
/// filter `h` of the `l x lx` real fields, row-major.
fn coefficients(h: &[C], l: usize, lx: usize, ky: usize, kx: usize) -> (C, C) {
    let angle = -2.0 * std::f64::consts::PI * ky as f64 / l as f64;
    let w = (angle.cos(), angle.sin());
    let w_bar = (w.0, -w.1);
    let i = (0.0, 1.0);
    let plus = h[ky * lx + kx];
    let minus = h[(ky + l / 2) * lx + kx];
    let alpha = half(mul(plus, add((1.0, 0.0), mul(i, w_bar))));
    let beta = half(mul(minus, sub((1.0, 0.0), mul(i, w_bar))));
    let turned = mul(mul(i, w), sub(alpha, beta));
    (
        half(sub(add(alpha, beta), turned)),
        half(add(add(alpha, beta), turned)),
    )
}

/// The filter planes of [`crate::Fft2d::inverse_filtered_rows`] for filters `h` on real fields
/// of `l x lx` (each `l lx` complex values, row-major `[ky * lx + kx]`, `l` even): the real and
/// imaginary planes, each `U_0 .. U_{F-1}` then `V_0 .. V_{F-1}`, `l / 2 x lx` values apiece.
///
/// # Panics
/// If a filter does not hold `l lx` values or `l` is odd.
pub fn filter_tables<F: FftFloat>(h: &[Vec<(f64, f64)>], l: usize, lx: usize) -> (Vec<F>, Vec<F>) {
    assert!(
        l.is_multiple_of(2),
        "fields of {l} rows cannot be read in row pairs"
    );
    let half_len = l / 2 * lx;
    let filters = h.len();
    let mut re = vec![F::from_f64(0.0); 2 * filters * half_len];
    let mut im = re.clone();
    for (f, h) in h.iter().enumerate() {
        assert_eq!(h.len(), l * lx, "filter {f} holds {} values", h.len());
        for ky in 0..l / 2 {
            for kx in 0..lx {
                let i = ky * lx + kx;
                let (u, v) = coefficients(h, l, lx, ky, kx);
                re[f * half_len + i] = F::from_f64(u.0);
                im[f * half_len + i] = F::from_f64(u.1);
                re[(filters + f) * half_len + i] = F::from_f64(v.0);
                im[(filters + f) * half_len + i] = F::from_f64(v.1);
            }
        }
    }
    (re, im)
}

/// CPU twin of the filtered load of [`crate::Fft2d::inverse_filtered_rows`]: `Y_f = U_f Z +
/// V_f conj Z(-k)` for each filter, from one spectrum `z` of the `ly x lx` half field, with the
/// tables of [`filter_tables`] (in `f64`).
pub fn filtered_cpu(z: &[C], re: &[f64], im: &[f64], ly: usize, lx: usize) -> Vec<Vec<C>> {
    let half_len = ly * lx;
    let filters = re.len() / (2 * half_len);
    (0..filters)
        .map(|f| {
            (0..half_len)
                .map(|i| {
                    let (ky, kx) = (i / lx, i % lx);
                    let m = ((ly - ky) % ly) * lx + (lx - kx) % lx;
                    let u = (re[f * half_len + i], im[f * half_len + i]);
                    let v_at = (filters + f) * half_len + i;
                    let v = (re[v_at], im[v_at]);
                    add(mul(u, z[i]), mul(v, (z[m].0, -z[m].1)))
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::ComplexField;
    use crate::reference::rustfft2d;

    /// The CPU twin of the load, then a half-size inverse, is the full inverse of `H E` in row
    /// pairs (the identity the device kernels rely on), in `f64`.
    #[test]
    fn twin_of_the_load_gives_the_real_inverse_in_row_pairs() {
        let (l, lx) = (8, 16);
        let (ly, n) = (l / 2, l * lx);
        let value =
            |i: usize, salt: usize| (((i * 7919 + salt * 104_729) % 1000) as f64) / 500.0 - 1.0;
        let e: Vec<f64> = (0..n).map(|i| value(i, 1)).collect();
        let kernel: Vec<f64> = (0..n).map(|i| value(i, 2)).collect();
        let full = |re: Vec<f64>| ComplexField {
            ly: l,
            lx,
            im: vec![0.0; n],
            re,
        };
        let h = rustfft2d(&full(kernel), false);
        let h: Vec<C> = h.re.into_iter().zip(h.im).collect();
        let (re, im) = filter_tables::<f64>(std::slice::from_ref(&h), l, lx);
        let z = rustfft2d(
            &ComplexField {
                ly,
                lx,
                re: (0..ly * lx)
                    .map(|i| e[(i / lx) * 2 * lx + i % lx])
                    .collect(),
                im: (0..ly * lx)
                    .map(|i| e[(i / lx) * 2 * lx + lx + i % lx])
                    .collect(),
            },
            false,
        );
        let z: Vec<C> = z.re.into_iter().zip(z.im).collect();
        let y = &filtered_cpu(&z, &re, &im, ly, lx)[0];
        let half = rustfft2d(
            &ComplexField {
                ly,
                lx,
                re: y.iter().map(|v| v.0).collect(),
                im: y.iter().map(|v| v.1).collect(),
            },
            true,
        );
        let spectrum = rustfft2d(&full(e), false);
        let product = ComplexField {
            ly: l,
            lx,
            re: (0..n)
                .map(|i| h[i].0 * spectrum.re[i] - h[i].1 * spectrum.im[i])
                .collect(),
            im: (0..n)
                .map(|i| h[i].0 * spectrum.im[i] + h[i].1 * spectrum.re[i])
                .collect(),
        };
        let a = rustfft2d(&product, true);
        for i in 0..ly * lx {
            let even = (i / lx) * 2 * lx + i % lx;
            assert!((half.re[i] - a.re[even]).abs() < 1e-12, "even row, bin {i}");
            assert!(
                (half.im[i] - a.re[even + lx]).abs() < 1e-12,
                "odd row, bin {i}"
            );
        }
    }
}

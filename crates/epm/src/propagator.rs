//! The Eshelby propagator `G(q)` and the displacement kernel `U(q)` in Fourier space
//! (model notes, sections 2 and 3). Host-side tables in f64; the device multiplies by them.
//!
//! Fourier convention: `f_hat(q) = sum_r f(r) exp(-i q.r)`, `f(r) = (1/N) sum_q f_hat(q) exp(i q.r)`,
//! wave vectors `q = 2 pi (kx, ky) / L` with `k` in `[-L/2, L/2)` (index `k >= L/2` is `k - L`).
//! The stress answers a plastic strain `eps_p` as `sigma = 2 mu G * eps_p` (a convolution);
//! the displacement as `u = U * eps_p`.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

/// Which discrete form of `q^2` enters `G` and `U`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PropagatorForm {
    /// `qx = 2 pi kx / L`: `G(0,0) = -0.5704` at L = 64 (the default).
    #[default]
    Continuum,
    /// `qx^2 -> 2 - 2 cos qx` (and the odd factors `qx -> 2 sin(qx / 2)`): `G(0,0) = -0.636` at L = 64.
    Lattice,
}

/// What the `q = 0` mode does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZeroMode {
    /// `G(0) = 0`: the mean stress is conserved (stress-controlled; the default).
    #[default]
    StressControlled,
    /// `G(0) = -1`: the mean of `G` over the lattice is `-1/N` (strain-controlled).
    StrainControlled,
}

/// The choice of propagator (the `[propagator]` table of a run's configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PropagatorSpec {
    /// Discrete form of the wave vectors.
    pub form: PropagatorForm,
    /// The `q = 0` convention.
    pub zero_mode: ZeroMode,
    /// Rescale `G` so that its real-space self term is `G(0,0) = -1`.
    pub normalise_self: bool,
}

/// Effective wave-vector components `(qx, qy)` of bin `(kx, ky)` on an `L x L` lattice:
/// the odd factor `q` and the even factor `q^2` of each axis.
fn axis_factors(k: usize, l: usize, form: PropagatorForm) -> (f64, f64) {
    let signed = if k >= l / 2 {
        k as f64 - l as f64
    } else {
        k as f64
    };
    let q = 2.0 * PI * signed / l as f64;
    match form {
        PropagatorForm::Continuum => (q, q * q),
        PropagatorForm::Lattice => (2.0 * (q / 2.0).sin(), 2.0 - 2.0 * q.cos()),
    }
}

/// `G(q) = -4 qx^2 qy^2 / (qx^2 + qy^2)^2` on the `L x L` bins, row-major `[ky * L + kx]`,
/// before the self-term normalisation.
fn raw_g(l: usize, spec: &PropagatorSpec) -> Vec<f64> {
    let mut g = vec![0.0; l * l];
    for ky in 0..l {
        let (_, qy2) = axis_factors(ky, l, spec.form);
        for kx in 0..l {
            let (_, qx2) = axis_factors(kx, l, spec.form);
            let q2 = qx2 + qy2;
            g[ky * l + kx] = if q2 == 0.0 {
                match spec.zero_mode {
                    ZeroMode::StressControlled => 0.0,
                    ZeroMode::StrainControlled => -1.0,
                }
            } else {
                -4.0 * qx2 * qy2 / (q2 * q2)
            };
        }
    }
    g
}

/// The propagator `G(q)` on the `L x L` bins, row-major `[ky * L + kx]`. Dimensionless:
/// the stress change is `2 mu` times `G` convolved with the plastic strain.
pub fn propagator(l: usize, spec: &PropagatorSpec) -> Vec<f64> {
    let mut g = raw_g(l, spec);
    if spec.normalise_self {
        // G(r = 0) = (1/N) sum_q G(q): rescale so that it is -1.
        let self_term = g.iter().sum::<f64>() / (l * l) as f64;
        g.iter_mut().for_each(|v| *v /= -self_term);
    }
    g
}

/// The displacement kernel: `(Ux(q), Uy(q))` as the imaginary parts of
/// `u_x = -2i eps_p qy (qy^2 - qx^2) / q^4`, `u_y = -2i eps_p qx (qx^2 - qy^2) / q^4`
/// (both are purely imaginary: `u_hat = i U eps_hat`). Zero at `q = 0` and on the Nyquist row
/// and column, where an odd kernel cannot keep a real field real. Units: displacement per unit
/// plastic strain, in lattice spacings.
pub fn displacement_kernel(l: usize, form: PropagatorForm) -> (Vec<f64>, Vec<f64>) {
    let mut ux = vec![0.0; l * l];
    let mut uy = vec![0.0; l * l];
    for ky in 0..l {
        let (qy, qy2) = axis_factors(ky, l, form);
        for kx in 0..l {
            let (qx, qx2) = axis_factors(kx, l, form);
            let q2 = qx2 + qy2;
            if q2 == 0.0 || kx == l / 2 || ky == l / 2 {
                continue;
            }
            let q4 = q2 * q2;
            ux[ky * l + kx] = -2.0 * qy * (qy2 - qx2) / q4;
            uy[ky * l + kx] = -2.0 * qx * (qx2 - qy2) / q4;
        }
    }
    (ux, uy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustfft::{FftPlanner, num_complex::Complex};

    /// Real-space field of a Fourier table: (1/N) sum_q f(q) exp(i q.r), via rustfft.
    fn real_space(table: &[Complex<f64>], l: usize) -> Vec<Complex<f64>> {
        let mut data = table.to_vec();
        let plan = FftPlanner::<f64>::new().plan_fft_inverse(l);
        for row in data.chunks_mut(l) {
            plan.process(row);
        }
        let mut col = vec![Complex::default(); l];
        for x in 0..l {
            for y in 0..l {
                col[y] = data[y * l + x];
            }
            plan.process(&mut col);
            for y in 0..l {
                data[y * l + x] = col[y] / (l * l) as f64;
            }
        }
        data
    }

    fn g_real(l: usize, spec: &PropagatorSpec) -> Vec<f64> {
        let g: Vec<_> = propagator(l, spec)
            .into_iter()
            .map(|v| Complex::new(v, 0.0))
            .collect();
        let r = real_space(&g, l);
        assert!(r.iter().all(|c| c.im.abs() < 1e-12), "G(r) must be real");
        r.into_iter().map(|c| c.re).collect()
    }

    #[test]
    fn continuum_single_event_values_at_l64() {
        let l = 64;
        let g = g_real(l, &PropagatorSpec::default());
        assert!((g[0] + 0.5704).abs() < 5e-5, "G(0,0) = {}", g[0]);
        assert!((g[1] - 0.0793).abs() < 5e-5, "G(1,0) = {}", g[1]);
        assert!((g[l] - 0.0793).abs() < 5e-5, "G(0,1) = {}", g[l]);
        assert!((g[l + 1] + 0.1051).abs() < 5e-5, "G(1,1) = {}", g[l + 1]);
        assert!(
            g.iter().sum::<f64>().abs() < 1e-12,
            "sum of G over the lattice"
        );
    }

    #[test]
    fn lattice_form_and_normalisations() {
        let lattice = PropagatorSpec {
            form: PropagatorForm::Lattice,
            ..Default::default()
        };
        let g = g_real(64, &lattice);
        assert!((g[0] + 0.636).abs() < 5e-4, "lattice G(0,0) = {}", g[0]);
        let unit = PropagatorSpec {
            normalise_self: true,
            ..Default::default()
        };
        assert!((g_real(64, &unit)[0] + 1.0).abs() < 1e-12);
        let strain = PropagatorSpec {
            zero_mode: ZeroMode::StrainControlled,
            ..Default::default()
        };
        let sum: f64 = g_real(64, &strain).iter().sum();
        assert!(
            (sum + 1.0).abs() < 1e-12,
            "strain-controlled: sum G(r) = G(q=0) = -1, got {sum}"
        );
    }

    #[test]
    fn far_field_is_cos_4theta_over_pi_r2() {
        // r^2 G(r) -> +1/pi on the axes and -1/pi on the diagonals, away from the event and
        // from its periodic images. On the axes the continuum kernel's kink at the zone edge
        // adds a lattice oscillation (-1)^r 0.137/pi of the same 1/r^2 order (measured:
        // pi r^2 G = 1.138 at even r, 0.864 at odd r), so neighbouring r are averaged there.
        let l = 1024;
        let g = g_real(l, &PropagatorSpec::default());
        let axis = |r: usize| PI * (r * r) as f64 * g[r];
        for r in [12usize, 16, 24] {
            let mean = (axis(r) + axis(r + 1)) / 2.0;
            let diag = PI * (2 * r * r) as f64 * g[r * l + r];
            assert!(
                (mean - 1.0).abs() < 0.01,
                "r = {r}: pi r^2 G on the axis = {mean}"
            );
            assert!(
                (diag + 1.0).abs() < 0.01,
                "r = {r}: pi r^2 G on the diagonal = {diag}"
            );
        }
    }

    #[test]
    fn displacement_is_divergence_free_and_its_strain_gives_the_stress() {
        let l = 32;
        for form in [PropagatorForm::Continuum, PropagatorForm::Lattice] {
            let g = propagator(
                l,
                &PropagatorSpec {
                    form,
                    ..Default::default()
                },
            );
            let (ux, uy) = displacement_kernel(l, form);
            for ky in 0..l {
                for kx in 0..l {
                    if kx == l / 2 || ky == l / 2 || (kx, ky) == (0, 0) {
                        continue;
                    }
                    let i = ky * l + kx;
                    let (qx, _) = axis_factors(kx, l, form);
                    let (qy, _) = axis_factors(ky, l, form);
                    // u_hat = i U eps: i q.u_hat = -(qx Ux + qy Uy) eps must vanish.
                    assert!(
                        (qx * ux[i] + qy * uy[i]).abs() < 1e-12,
                        "divergence at ({kx}, {ky})"
                    );
                    // eps_xy = (i qy u_x + i qx u_y) / 2 = -(qy Ux + qx Uy) eps / 2;
                    // sigma = 2 mu (eps_xy - eps_p) must equal 2 mu G eps_p.
                    let eps_xy = -(qy * ux[i] + qx * uy[i]) / 2.0;
                    assert!(
                        (eps_xy - 1.0 - g[i]).abs() < 1e-12,
                        "strain at ({kx}, {ky}) with {form:?}"
                    );
                }
            }
        }
    }
}

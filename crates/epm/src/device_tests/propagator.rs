//! The stress and displacement of plastic events, computed by the whole device pipeline, against
//! the closed forms of the model notes (sections 2 and 3).

use std::f64::consts::PI;
use std::sync::Arc;

use epm::activation::Random;
use epm::fft::reference::RustFft2d;
use epm::propagator::{DisplacementStrain, Normalisation, PropagatorForm, PropagatorSpec};
use epm::{Config, Simulation, State};
use rustfft::num_complex::Complex;

use super::device;

/// A configuration with events that last (practically) forever and no tracers, with the
/// model notes' unnormalised kernels in the given form.
pub fn frozen_config(l: usize, form: PropagatorForm) -> Config {
    frozen_with(
        l,
        PropagatorSpec {
            form,
            ..PropagatorSpec::LITERAL
        },
    )
}

fn frozen_with(l: usize, propagator: PropagatorSpec) -> Config {
    Config {
        l,
        tracers: Some(0),
        tau_res: 1e9,
        propagator,
        ..Config::default()
    }
}

/// One step from zero stress with the sites `events` active (sign +-1): returns the stress and
/// the displacement increment `[du_x; du_y]`.
fn one_step(config: &Config, events: &[(usize, f32)]) -> (Vec<f32>, Vec<f32>) {
    let mut state = State::initial(config);
    for &(site, sign) in events {
        state.active[site] = 1;
        state.sign[site] = sign;
    }
    // Through the transforms: the sparse update is checked against them (`sparse.rs`).
    let profile = super::profile().with_sparse_max_active(0);
    let mut sim = Simulation::from_state_with_profile(
        config.clone(),
        Some(Arc::new(Random { rate: 0.0 })), // only the prepared events
        state,
        &device(),
        Some(profile),
    )
    .unwrap();
    sim.advance(1, &mut []).unwrap();
    let stress = sim.stress().into_data().try_to_vec::<f32>().unwrap();
    let displacement = sim.displacement().into_data().try_to_vec::<f32>().unwrap();
    let state = sim.state().unwrap();
    for &(site, _) in events {
        assert_eq!(state.active[site], 1, "the prepared event at {site} ended");
    }
    (stress, displacement)
}

#[test]
fn single_event_stress_is_the_propagator() {
    let l = 64;
    let config = frozen_config(l, PropagatorForm::Continuum);
    let (stress, _) = one_step(&config, &[(0, 1.0)]);
    // d_sigma = 2 mu dt G * (eps0 / 2 tau) delta = dt G with the paper's units.
    let g: Vec<f64> = stress.iter().map(|&s| s as f64 / config.dt).collect();
    let close = |v: f64, expected: f64, what: &str| {
        assert!(
            (v - expected).abs() < 2e-4,
            "{what} = {v}, expected {expected}"
        );
    };
    close(g[0], -0.5704, "G(0,0)");
    close(g[1], 0.0793, "G(1,0)");
    close(g[l], 0.0793, "G(0,1)");
    close(g[l - 1], 0.0793, "G(-1,0)");
    close(g[l + 1], -0.1051, "G(1,1)");
    let sum: f64 = stress.iter().map(|&s| s as f64).sum();
    assert!(sum.abs() < 1e-5, "sum of the stress change {sum}");

    let lattice = frozen_config(l, PropagatorForm::Lattice);
    let (stress, _) = one_step(&lattice, &[(0, 1.0)]);
    let g00 = stress[0] as f64 / lattice.dt;
    // The notes give three digits: -0.636.
    assert!((g00 + 0.636).abs() < 5e-4, "lattice G(0,0) = {g00}");

    // The default conventions: a site relaxes by one unit of stress per unit plastic strain.
    let paper = frozen_with(l, PropagatorSpec::PAPER);
    let (stress, _) = one_step(&paper, &[(0, 1.0)]);
    let g00 = stress[0] as f64 / paper.dt;
    assert!((g00 + 1.0).abs() < 2e-4, "default G(0,0) = {g00}");
}

#[test]
fn single_event_far_field_is_cos_4theta_over_pi_r2() {
    let l = 1024;
    let config = frozen_config(l, PropagatorForm::Continuum);
    let (stress, _) = one_step(&config, &[(0, 1.0)]);
    let g = |x: usize, y: usize| stress[y * l + x] as f64 / config.dt;
    for r in [12usize, 16, 24] {
        // Even and odd r straddle the axis value (the continuum kernel's zone-edge kink).
        let axis = PI * ((r * r) as f64 * g(r, 0) + ((r + 1) * (r + 1)) as f64 * g(r + 1, 0)) / 2.0;
        let diagonal = PI * (2 * r * r) as f64 * g(r, r);
        assert!(
            (axis - 1.0).abs() < 0.01,
            "r = {r}: pi r^2 G on the axis = {axis}"
        );
        assert!(
            (diagonal + 1.0).abs() < 0.01,
            "r = {r}: pi r^2 G on the diagonal = {diagonal}"
        );
    }
}

fn fft2(field: &[f64], l: usize) -> Vec<Complex<f64>> {
    let mut data: Vec<Complex<f64>> = field.iter().map(|&v| Complex::new(v, 0.0)).collect();
    RustFft2d::new(l, l).forward(&mut data);
    data
}

#[test]
fn displacement_is_divergence_free_and_its_strain_gives_the_stress() {
    let l = 64;
    let specs = [
        PropagatorSpec::LITERAL,
        PropagatorSpec {
            form: PropagatorForm::Lattice,
            ..PropagatorSpec::LITERAL
        },
        PropagatorSpec::PAPER,
        PropagatorSpec {
            normalisation: Normalisation::FarField,
            strain: DisplacementStrain::Engineering,
            ..PropagatorSpec::LITERAL
        },
    ];
    for spec in specs {
        let form = spec.form;
        let (c, k) = (spec.scale(l), spec.strain.factor());
        let config = frozen_with(l, spec);
        let events: Vec<(usize, f32)> = (0..40)
            .map(|i| {
                (
                    (i * 997 + 13) % (l * l),
                    if i % 3 == 0 { -1.0 } else { 1.0 },
                )
            })
            .collect();
        let (stress, du) = one_step(&config, &events);
        let to64 = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
        let ux = fft2(&to64(&du[..l * l]), l);
        let uy = fft2(&to64(&du[l * l..]), l);
        let sigma = fft2(&to64(&stress), l);
        // The plastic strain of the step: dt eps0 / (2 tau) n s.
        let mut eps = vec![0.0; l * l];
        for &(site, sign) in &events {
            eps[site] = config.dt * 0.5 * sign as f64;
        }
        let eps = fft2(&eps, l);
        let q = |k: usize| {
            let signed = if k >= l / 2 {
                k as f64 - l as f64
            } else {
                k as f64
            };
            let q = 2.0 * PI * signed / l as f64;
            match form {
                PropagatorForm::Continuum => q,
                PropagatorForm::Lattice => 2.0 * (q / 2.0).sin(),
            }
        };
        let i = Complex::new(0.0, 1.0);
        let scale = sigma.iter().map(|c| c.norm()).fold(0.0, f64::max);
        let (mut divergence, mut mismatch) = (0.0f64, 0.0f64);
        for ky in 0..l {
            for kx in 0..l {
                // U vanishes on the Nyquist row and column (an odd kernel cannot stay real
                // there): the strain relation holds off them.
                if kx == l / 2 || ky == l / 2 {
                    continue;
                }
                let b = ky * l + kx;
                let (qx, qy) = (q(kx), q(ky));
                divergence = divergence.max((i * (qx * ux[b] + qy * uy[b])).norm());
                let eps_xy = i * (qy * ux[b] + qx * uy[b]) / 2.0;
                // The convention's plastic strain is c eps_p, read by the displacement as k
                // times the tensor strain (crates/epm/src/propagator.rs).
                let expected = 2.0 * config.mu * (eps_xy / k - c * eps[b]);
                // At q = 0 the stress-controlled propagator keeps the mean stress.
                if (kx, ky) != (0, 0) {
                    mismatch = mismatch.max((sigma[b] - expected).norm());
                }
            }
        }
        assert!(
            divergence < 1e-5 * scale,
            "{spec:?}: |q.u| up to {divergence:e} (stress scale {scale})"
        );
        assert!(
            mismatch < 1e-5 * scale,
            "{spec:?}: sigma - 2 mu (eps_xy / k - c eps_p) up to {mismatch:e} (scale {scale})"
        );
    }
}

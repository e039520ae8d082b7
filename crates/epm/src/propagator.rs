//! The Eshelby propagator `G(q)` and the displacement kernel `U(q)` in Fourier space
//! (model notes, sections 2 and 3), and the conventions that fix them. Host-side tables in
//! f64; the device multiplies by them.
//!
//! Fourier convention: `f_hat(q) = sum_r f(r) exp(-i q.r)`, `f(r) = (1/N) sum_q f_hat(q) exp(i q.r)`,
//! wave vectors `q = 2 pi (kx, ky) / L` with `k` in `[-L/2, L/2)` (index `k >= L/2` is `k - L`).
//! The stress answers a plastic strain `eps_p` as `sigma = 2 mu G * eps_p` (a convolution);
//! the displacement as `u = U * eps_p`.
//!
//! # Conventions
//! The paper leaves four choices open; [`PropagatorSpec`] names each. Whatever is chosen, `G`
//! and `U` belong to one plastic strain: a normalisation that multiplies `G` by `c` is a
//! plastic strain `c` times larger per event, so `U` is multiplied by `c` too, and the shear
//! strain of `u` always gives back the stress, `sigma = 2 mu (eps_xy(u) / k - c eps_p)` with
//! `k` the [`DisplacementStrain`] factor (checked by a test for every option). The default,
//! [`PropagatorSpec::PAPER`], is the combination that reproduces the paper's numbers best
//! (book, "The model"); [`PropagatorSpec::LITERAL`] is model notes section 2 as written.

use std::f64::consts::PI;

use cubecl::prelude::*;
use serde::{Deserialize, Serialize};

/// Which discrete form of `q^2` enters `G` and `U`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PropagatorForm {
    /// `qx = 2 pi kx / L`: `G(0,0) = -0.5704` at L = 64 before normalisation.
    Continuum,
    /// `qx^2 -> 2 - 2 cos qx` (and the odd factors `qx -> 2 sin(qx / 2)`): the lattice's own
    /// second difference, `G(0,0) = -0.636` at L = 64 before normalisation.
    Lattice,
}

/// What the `q = 0` mode does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZeroMode {
    /// `G(0) = 0`: the mean stress is conserved (stress-controlled).
    StressControlled,
    /// `G(0) = -1` (before normalisation): the mean of `G` over the lattice is `-1/N`
    /// (strain-controlled).
    StrainControlled,
}

/// The amplitude of a unit plastic strain's stress: `G` and `U` are both multiplied by a
/// constant `c` fixed by one condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Normalisation {
    /// `c = 1`: the closed forms as they are.
    None,
    /// `c` such that the real-space self term is `G(0,0) = -1`: a site relaxes by one unit of
    /// stress per unit of plastic strain (GooseEPM's convention).
    SelfTerm,
    /// `c = 2`: the far field of the paper's text, `G(r) = 2 cos(4 theta) / (pi r^2)` (the closed
    /// form's far field is `cos(4 theta) / (pi r^2)`).
    FarField,
}

/// How the displacement reads the plastic strain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DisplacementStrain {
    /// `eps_p` is the tensor shear strain `eps_xy = (d_y u_x + d_x u_y) / 2`: `k = 1`.
    Tensor,
    /// `eps_p` is the engineering shear strain `gamma = 2 eps_xy` of the tracers' medium: the
    /// displacement is doubled, `k = 2`. The stress is unchanged.
    Engineering,
}

impl DisplacementStrain {
    /// The factor `k` by which the displacement kernel is multiplied.
    pub fn factor(self) -> f64 {
        match self {
            DisplacementStrain::Tensor => 1.0,
            DisplacementStrain::Engineering => 2.0,
        }
    }
}

/// A named set of conventions (`preset` in the `[propagator]` table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// [`PropagatorSpec::PAPER`]: lattice form, stress-controlled, `G(0,0) = -1`, tensor strain.
    Paper,
    /// [`PropagatorSpec::LITERAL`]: model notes section 2 as written: continuum form,
    /// stress-controlled, unnormalised, tensor strain.
    Literal,
}

impl Preset {
    /// The conventions of the preset.
    pub fn spec(self) -> PropagatorSpec {
        match self {
            Preset::Paper => PropagatorSpec::PAPER,
            Preset::Literal => PropagatorSpec::LITERAL,
        }
    }
}

/// The choice of propagator (the `[propagator]` table of a run's configuration). In TOML a
/// `preset` sets all four keys, and keys given beside it override it; the default preset is
/// `"paper"`. A configuration is always written back with its four keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "PropagatorTable")]
pub struct PropagatorSpec {
    /// Discrete form of the wave vectors.
    pub form: PropagatorForm,
    /// The `q = 0` convention.
    pub zero_mode: ZeroMode,
    /// The amplitude of `G` and `U` together.
    pub normalisation: Normalisation,
    /// The displacement's strain convention.
    pub strain: DisplacementStrain,
}

/// The `[propagator]` table as written: a preset and overrides.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PropagatorTable {
    preset: Option<Preset>,
    form: Option<PropagatorForm>,
    zero_mode: Option<ZeroMode>,
    normalisation: Option<Normalisation>,
    strain: Option<DisplacementStrain>,
}

impl From<PropagatorTable> for PropagatorSpec {
    fn from(t: PropagatorTable) -> Self {
        let base = t.preset.unwrap_or(Preset::Paper).spec();
        Self {
            form: t.form.unwrap_or(base.form),
            zero_mode: t.zero_mode.unwrap_or(base.zero_mode),
            normalisation: t.normalisation.unwrap_or(base.normalisation),
            strain: t.strain.unwrap_or(base.strain),
        }
    }
}

impl Default for PropagatorSpec {
    /// [`PropagatorSpec::PAPER`].
    fn default() -> Self {
        Self::PAPER
    }
}

impl PropagatorSpec {
    /// The default: the conventions that reproduce the paper's numbers best (measured in the
    /// book's model chapter): the lattice form, stress-controlled, the whole kernel scaled to
    /// `G(0,0) = -1` with the displacement alike, tensor strain.
    pub const PAPER: Self = Self {
        form: PropagatorForm::Lattice,
        zero_mode: ZeroMode::StressControlled,
        normalisation: Normalisation::SelfTerm,
        strain: DisplacementStrain::Tensor,
    };

    /// Model notes section 2 as written: the continuum closed form, `G(0) = 0`, unnormalised.
    pub const LITERAL: Self = Self {
        form: PropagatorForm::Continuum,
        zero_mode: ZeroMode::StressControlled,
        normalisation: Normalisation::None,
        strain: DisplacementStrain::Tensor,
    };

    /// The factor `c` multiplying the closed forms of `G` and `U` on an `l x l` lattice.
    pub fn scale(&self, l: usize) -> f64 {
        match self.normalisation {
            Normalisation::None => 1.0,
            Normalisation::FarField => 2.0,
            // G(r = 0) = (1/N) sum_q G(q).
            Normalisation::SelfTerm => {
                -((l * l) as f64) / raw_g(l, self.form, self.zero_mode).iter().sum::<f64>()
            }
        }
    }
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
/// before normalisation.
fn raw_g(l: usize, form: PropagatorForm, zero_mode: ZeroMode) -> Vec<f64> {
    let mut g = vec![0.0; l * l];
    for ky in 0..l {
        let (_, qy2) = axis_factors(ky, l, form);
        for kx in 0..l {
            let (_, qx2) = axis_factors(kx, l, form);
            let q2 = qx2 + qy2;
            g[ky * l + kx] = if q2 == 0.0 {
                match zero_mode {
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
    let c = spec.scale(l);
    let mut g = raw_g(l, spec.form, spec.zero_mode);
    g.iter_mut().for_each(|v| *v *= c);
    g
}

/// The displacement kernel: `(Ux(q), Uy(q))` as the imaginary parts of
/// `u_x = -2i eps_p qy (qy^2 - qx^2) / q^4`, `u_y = -2i eps_p qx (qx^2 - qy^2) / q^4`
/// (both are purely imaginary: `u_hat = i U eps_hat`). Zero at `q = 0` and on the Nyquist row
/// and column, where an odd kernel cannot keep a real field real. Multiplied by the
/// convention's `c k` (see the module documentation), so that the displacement belongs to the
/// stress of [`propagator`]. Units: displacement per unit plastic strain, in lattice spacings.
pub fn displacement_kernel(l: usize, spec: &PropagatorSpec) -> (Vec<f64>, Vec<f64>) {
    let form = spec.form;
    let c = spec.scale(l) * spec.strain.factor();
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
            ux[ky * l + kx] = -2.0 * c * qy * (qy2 - qx2) / q4;
            uy[ky * l + kx] = -2.0 * c * qx * (qx2 - qy2) / q4;
        }
    }
    (ux, uy)
}

/// The Fourier tables of one step, in `f32`, row-major `[ky * L + kx]`.
///
/// With `E(q)` the transform of the plastic strain rate, the step needs the three real
/// fields `d_sigma = 2 mu dt G E`, `du_x = i dt U_x E` and `du_y = i dt U_y E`.
///
/// The step never multiplies by these tables in a kernel of its own: they become the
/// [`StepTables::filters`] of one filtered inverse ([`epm_fft::Fft2d::inverse_filtered_rows`])
/// of the half-size transform of the strain rate read in row pairs
/// ([`epm_fft::real_rows`]), whose first pass makes the products as it loads the spectrum and
/// whose last pass adds the stress increment to the stress as it stores it. Each real field
/// costs half a complex transform of the lattice: the forward and three inverses are two
/// transforms' work, against three when the spectrum was a full complex transform and
/// `d_sigma + i du_x` shared one full inverse (measured on lavapipe in the book, Performance).
///
/// Full tables rather than per-axis factors: on lavapipe, reading two tables costs less than
/// computing `G` and `U` per bin (measured 0.41 ms against 0.51 ms at L = 256).
#[derive(Debug, Clone, PartialEq)]
pub struct StepTables {
    /// `2 mu dt G(q)`: the stress increment of a unit strain rate.
    pub stress_increment: Vec<f32>,
    /// `dt U_x(q)`.
    pub displacement_x: Vec<f32>,
    /// `dt U_y(q)`.
    pub displacement_y: Vec<f32>,
    /// `2 mu G(q)`: the stress of a plastic strain, for the exact resynchronisation.
    pub stress: Vec<f32>,
}

/// The step's increments, in the order of [`StepTables::filters`]: `d_sigma`, `du_x`, `du_y`.
pub const INCREMENT_FIELDS: usize = 3;

/// Where the increments keep site `(x, y)` of field `f` (0 `d_sigma`, 1 `du_x`, 2 `du_y`) of
/// replica `r`: as the step's inverse leaves them, in row pairs ([`epm_fft::real_rows`]), at
/// index `(3 r + f) L^2 / 2 + (y / 2) L + x` of the real plane for even `y` and of the imaginary
/// plane for odd `y`. Returns the index; the plane is `y & 1`.
#[cube]
pub fn increment_index(field: usize, x: usize, y: usize, #[comptime] log2_l: usize) -> usize {
    field * comptime![1usize << (2 * log2_l - 1)] + ((y >> 1) << log2_l) + x
}

/// CPU twin of [`increment_index()`]: `(plane, index)`, plane 0 real and 1 imaginary.
pub fn increment_index_cpu(field: usize, x: usize, y: usize, l: usize) -> (usize, usize) {
    (y & 1, field * l * l / 2 + (y >> 1) * l + x)
}

impl StepTables {
    /// The tables of an `l x l` lattice for modulus `mu` and time step `dt`.
    pub fn new(l: usize, spec: &PropagatorSpec, mu: f64, dt: f64) -> Self {
        let g = propagator(l, spec);
        let (ux, uy) = displacement_kernel(l, spec);
        let f32s = |v: &[f64], c: f64| v.iter().map(|v| (c * v) as f32).collect();
        Self {
            stress_increment: f32s(&g, 2.0 * mu * dt),
            displacement_x: f32s(&ux, dt),
            displacement_y: f32s(&uy, dt),
            stress: f32s(&g, 2.0 * mu),
        }
    }

    /// The step's three complex filters `H_f` (`f64`, row-major): `2 mu dt G`, `i dt U_x` and
    /// `i dt U_y`, each Hermitian, so `H_f E` transforms back to a real field.
    pub fn complex_filters(&self) -> [Vec<Complex64>; INCREMENT_FIELDS] {
        let real = |t: &[f32]| t.iter().map(|&v| (v as f64, 0.0)).collect();
        let imaginary = |t: &[f32]| t.iter().map(|&v| (0.0, v as f64)).collect();
        [
            real(&self.stress_increment),
            imaginary(&self.displacement_x),
            imaginary(&self.displacement_y),
        ]
    }

    /// The filter planes of the step's inverse on an `l x l` lattice: the [`Self::complex_filters`]
    /// as [`epm_fft::real_rows::filter_tables`] (`U`, `V` of each, `3 L^2` values per plane).
    pub fn filters(&self, l: usize) -> (Vec<f32>, Vec<f32>) {
        epm_fft::real_rows::filter_tables::<f32>(&self.complex_filters(), l, l)
    }
}

/// A complex number as `(re, im)`, for the CPU twins.
pub type Complex64 = (f64, f64);

/// The products `H_f E` the step transforms back to its increments (`d_sigma`, `du_x`, `du_y`),
/// on full complex `f64` spectra (the reference's precision; the device's load is tested
/// against its own twin, [`epm_fft::real_rows::filtered_cpu`]).
#[cfg(test)]
pub fn propagate_cpu(e: &[Complex64], tables: &StepTables) -> [Vec<Complex64>; INCREMENT_FIELDS] {
    tables.complex_filters().map(|h| {
        e.iter()
            .zip(&h)
            .map(|(&(r, i), &(hr, hi))| (hr * r - hi * i, hr * i + hi * r))
            .collect()
    })
}

/// CPU twin of [`scale_spectrum`] with the table `2 mu G`.
#[cfg(test)]
pub fn stress_of_strain_cpu(e: &[Complex64], tables: &StepTables) -> Vec<Complex64> {
    e.iter()
        .zip(&tables.stress)
        .map(|(&(r, i), &g)| (g as f64 * r, g as f64 * i))
        .collect()
}

/// The plastic strain `eps_p = unit * count` of every site, from the signed count of its
/// active steps (exact integers: the resynchronisation cannot drift).
#[cube(launch)]
pub fn plastic_strain(count: &[i32], strain: &mut [f32], unit: f32) {
    let s = ABSOLUTE_POS;
    if s >= strain.len() {
        terminate!();
    }
    strain[s] = f32::cast_from(count[s]) * unit;
}

/// `E *= table`, in place, one unit per wave vector (the stress of a plastic strain: table
/// `2 mu G`); as many wave vectors as `e_re` holds, the table's `table_len` repeated for each
/// replica.
#[cube(launch)]
pub fn scale_spectrum(
    e_re: &mut [f32],
    e_im: &mut [f32],
    table: &[f32],
    #[comptime] table_len: usize,
) {
    let q = ABSOLUTE_POS;
    if q >= e_re.len() {
        terminate!();
    }
    let k = table[q % table_len];
    e_re[q] *= k;
    e_im[q] *= k;
}

/// The exact resynchronisation: `sigma = sigma_0 + 2 mu G * eps_p` from the inverse
/// transform's real part.
#[cube(launch)]
pub fn resynchronise(initial: &[f32], z_re: &[f32], stress: &mut [f32]) {
    let s = ABSOLUTE_POS;
    if s >= stress.len() {
        terminate!();
    }
    stress[s] = initial[s] + z_re[s];
}

#[cfg(test)]
mod tests {
    use super::*;
    use epm_fft::reference::RustFft2d;
    use rustfft::num_complex::Complex;

    /// Real-space field of a Fourier table: (1/N) sum_q f(q) exp(i q.r), via rustfft.
    fn real_space(table: &[Complex<f64>], l: usize) -> Vec<Complex<f64>> {
        let mut data = table.to_vec();
        RustFft2d::new(l, l).inverse(&mut data);
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

    /// Every combination of the four conventions.
    fn every_spec() -> Vec<PropagatorSpec> {
        let mut all = vec![];
        for form in [PropagatorForm::Continuum, PropagatorForm::Lattice] {
            for zero_mode in [ZeroMode::StressControlled, ZeroMode::StrainControlled] {
                for normalisation in [
                    Normalisation::None,
                    Normalisation::SelfTerm,
                    Normalisation::FarField,
                ] {
                    for strain in [DisplacementStrain::Tensor, DisplacementStrain::Engineering] {
                        all.push(PropagatorSpec {
                            form,
                            zero_mode,
                            normalisation,
                            strain,
                        });
                    }
                }
            }
        }
        all
    }

    fn with_form(form: PropagatorForm) -> PropagatorSpec {
        PropagatorSpec {
            form,
            ..PropagatorSpec::LITERAL
        }
    }

    #[test]
    fn continuum_single_event_values_at_l64() {
        let l = 64;
        let g = g_real(l, &PropagatorSpec::LITERAL);
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
    fn self_term_is_what_each_option_says() {
        let l = 64;
        // Unnormalised self terms at L = 64 (model notes, section 2).
        let raw = |form| match form {
            PropagatorForm::Continuum => -0.5704,
            PropagatorForm::Lattice => -0.636,
        };
        for spec in every_spec() {
            let g = g_real(l, &spec);
            // The strain-controlled q = 0 mode adds -1/N to every site before normalisation.
            let zero = match spec.zero_mode {
                ZeroMode::StressControlled => 0.0,
                ZeroMode::StrainControlled => -1.0 / (l * l) as f64,
            };
            let (expected, tolerance) = match spec.normalisation {
                Normalisation::None => (raw(spec.form) + zero, 5e-4),
                Normalisation::FarField => (2.0 * (raw(spec.form) + zero), 1e-3),
                Normalisation::SelfTerm => (-1.0, 1e-12),
            };
            assert!(
                (g[0] - expected).abs() < tolerance,
                "{spec:?}: G(0,0) = {}, expected {expected}",
                g[0]
            );
            let sum: f64 = g.iter().sum();
            let sum_expected = match spec.zero_mode {
                ZeroMode::StressControlled => 0.0,
                ZeroMode::StrainControlled => -spec.scale(l),
            };
            assert!(
                (sum - sum_expected).abs() < 1e-9,
                "{spec:?}: sum G(r) = G(q = 0) = {sum}"
            );
        }
    }

    #[test]
    fn presets_and_overrides_read_from_toml() {
        let read = |text: &str| -> PropagatorSpec { toml::from_str(text).unwrap() };
        assert_eq!(read(""), PropagatorSpec::PAPER);
        assert_eq!(read("preset = \"literal\""), PropagatorSpec::LITERAL);
        assert_eq!(
            read("preset = \"literal\"\nnormalisation = \"far-field\""),
            PropagatorSpec {
                normalisation: Normalisation::FarField,
                ..PropagatorSpec::LITERAL
            }
        );
        assert_eq!(
            read("strain = \"engineering\""),
            PropagatorSpec {
                strain: DisplacementStrain::Engineering,
                ..PropagatorSpec::PAPER
            }
        );
        for spec in every_spec() {
            assert_eq!(read(&toml::to_string(&spec).unwrap()), spec);
        }
        assert!(toml::from_str::<PropagatorSpec>("normalise_self = true").is_err());
    }

    #[test]
    fn far_field_is_cos_4theta_over_pi_r2() {
        // r^2 G(r) -> +1/pi on the axes and -1/pi on the diagonals, away from the event and
        // from its periodic images (times 2 with the far-field normalisation). On the axes the
        // continuum kernel's kink at the zone edge adds a lattice oscillation (-1)^r 0.137/pi
        // of the same 1/r^2 order (measured: pi r^2 G = 1.138 at even r, 0.864 at odd r), so
        // neighbouring r are averaged there.
        let l = 1024;
        for (spec, c) in [
            (PropagatorSpec::LITERAL, 1.0),
            (
                PropagatorSpec {
                    normalisation: Normalisation::FarField,
                    ..PropagatorSpec::LITERAL
                },
                2.0,
            ),
        ] {
            let g = g_real(l, &spec);
            let axis = |r: usize| PI * (r * r) as f64 * g[r];
            for r in [12usize, 16, 24] {
                let mean = (axis(r) + axis(r + 1)) / 2.0;
                let diag = PI * (2 * r * r) as f64 * g[r * l + r];
                assert!(
                    (mean - c).abs() < 0.01 * c,
                    "r = {r}: pi r^2 G on the axis = {mean}"
                );
                assert!(
                    (diag + c).abs() < 0.01 * c,
                    "r = {r}: pi r^2 G on the diagonal = {diag}"
                );
            }
        }
    }

    #[test]
    fn displacement_is_divergence_free_and_its_strain_gives_the_stress() {
        let l = 32;
        for spec in every_spec() {
            let g = propagator(l, &spec);
            let (ux, uy) = displacement_kernel(l, &spec);
            let c = spec.scale(l);
            let k = spec.strain.factor();
            for ky in 0..l {
                for kx in 0..l {
                    if kx == l / 2 || ky == l / 2 || (kx, ky) == (0, 0) {
                        continue;
                    }
                    let i = ky * l + kx;
                    let (qx, _) = axis_factors(kx, l, spec.form);
                    let (qy, _) = axis_factors(ky, l, spec.form);
                    // u_hat = i U eps: i q.u_hat = -(qx Ux + qy Uy) eps must vanish.
                    assert!(
                        (qx * ux[i] + qy * uy[i]).abs() < 1e-12,
                        "divergence at ({kx}, {ky})"
                    );
                    // eps_xy = (i qy u_x + i qx u_y) / 2 = -(qy Ux + qx Uy) eps / 2;
                    // sigma = 2 mu (eps_xy / k - c eps_p) must equal 2 mu G eps_p.
                    let eps_xy = -(qy * ux[i] + qx * uy[i]) / 2.0;
                    assert!(
                        (eps_xy / k - c - g[i]).abs() < 1e-12,
                        "strain at ({kx}, {ky}) with {spec:?}"
                    );
                }
            }
        }
        // The unnormalised lattice kernel is not the continuum one: the forms differ.
        assert_ne!(
            propagator(l, &with_form(PropagatorForm::Lattice)),
            propagator(l, &with_form(PropagatorForm::Continuum))
        );
    }
}

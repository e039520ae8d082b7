//! Fits that turn measured curves into the paper's numbers (host side, `f64`):
//!
//! - [`least_squares`]: weighted nonlinear least squares (Levenberg-Marquardt, from the
//!   `levenberg-marquardt` crate), with parameter errors from the covariance;
//! - [`arrhenius`]: `a = A exp(-E / T)`;
//! - [`power_law`] and [`local_slopes`]: exponents of `y ~ x^s` over a range, and the local
//!   slope `d ln y / d ln x` along a curve (MSD: 2 ballistic, 1 diffusive; `P(u)`; `Psi`);
//! - [`master_curve`]: the collapse of `S(q, t)` onto `exp(-alpha (q^n t)^gamma)`, and the
//!   relaxation times `S(q, tau_r) = 1/e`;
//! - [`ctrw`]: the continuous-time random walk of the paper, `N(s) = psi(s) / (s (1 - psi(s)))`
//!   from the measured `Psi`.

pub mod ctrw;
pub mod master_curve;

use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt};
use nalgebra::{DMatrix, DVector, Dyn, Owned};

/// Why a fit could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// Fewer points than parameters (plus one), after the selection.
    #[error("{what}: {points} usable points for {parameters} parameters")]
    TooFewPoints {
        /// The fit.
        what: &'static str,
        /// Points left.
        points: usize,
        /// Parameters to fit.
        parameters: usize,
    },
    /// The optimiser did not converge, or the covariance is singular.
    #[error("{what}: {reason}")]
    Failed {
        /// The fit.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// The result of a fit: parameters, their one-standard-error uncertainties, and the
/// goodness of fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// Best parameters.
    pub params: Vec<f64>,
    /// Standard errors: the covariance `(J^T W J)^-1` scaled by the reduced chi-square (as
    /// scipy's `curve_fit` with `absolute_sigma = False`).
    pub errors: Vec<f64>,
    /// Weighted sum of squared residuals.
    pub chi2: f64,
    /// Points minus parameters.
    pub dof: usize,
}

/// One data point: abscissa (any type), value, standard error (1 when unknown).
pub type Point<X> = (X, f64, f64);

struct Problem<'a, X, M> {
    points: &'a [Point<X>],
    model: M,
    params: DVector<f64>,
}

impl<X, M: Fn(&[f64], &X) -> (f64, Vec<f64>)> LeastSquaresProblem<f64, Dyn, Dyn>
    for Problem<'_, X, M>
{
    type ResidualStorage = Owned<f64, Dyn>;
    type JacobianStorage = Owned<f64, Dyn, Dyn>;
    type ParameterStorage = Owned<f64, Dyn>;

    fn set_params(&mut self, x: &DVector<f64>) {
        self.params.copy_from(x);
    }

    fn params(&self) -> DVector<f64> {
        self.params.clone()
    }

    fn residuals(&self) -> Option<DVector<f64>> {
        let p = self.params.as_slice();
        let r: Vec<f64> = self
            .points
            .iter()
            .map(|(x, y, s)| ((self.model)(p, x).0 - y) / s)
            .collect();
        r.iter()
            .all(|v| v.is_finite())
            .then(|| DVector::from_vec(r))
    }

    fn jacobian(&self) -> Option<DMatrix<f64>> {
        let p = self.params.as_slice();
        let (n, k) = (self.points.len(), p.len());
        let mut j = DMatrix::zeros(n, k);
        for (i, (x, _, s)) in self.points.iter().enumerate() {
            let (_, grad) = (self.model)(p, x);
            for (c, g) in grad.iter().enumerate() {
                j[(i, c)] = g / s;
            }
        }
        j.iter().all(|v| v.is_finite()).then_some(j)
    }
}

/// Weighted least squares of `model(params, x) = (value, d value / d params)` to `points`,
/// from `initial`.
pub fn least_squares<X>(
    what: &'static str,
    points: &[Point<X>],
    model: impl Fn(&[f64], &X) -> (f64, Vec<f64>),
    initial: &[f64],
) -> Result<Fit, FitError> {
    let k = initial.len();
    if points.len() <= k {
        return Err(FitError::TooFewPoints {
            what,
            points: points.len(),
            parameters: k,
        });
    }
    let problem = Problem {
        points,
        model,
        params: DVector::from_column_slice(initial),
    };
    let (problem, report) = LevenbergMarquardt::new().minimize(problem);
    if !report.termination.was_successful() {
        return Err(FitError::Failed {
            what,
            reason: format!("Levenberg-Marquardt stopped: {:?}", report.termination),
        });
    }
    let j = problem.jacobian().ok_or_else(|| FitError::Failed {
        what,
        reason: "the Jacobian is not finite at the optimum".into(),
    })?;
    let chi2 = problem
        .residuals()
        .map(|r| r.norm_squared())
        .unwrap_or(f64::NAN);
    let dof = points.len() - k;
    let covariance = (j.transpose() * &j)
        .try_inverse()
        .ok_or_else(|| FitError::Failed {
            what,
            reason: "the parameters are not independent (singular covariance)".into(),
        })?;
    let scale = if dof > 0 { chi2 / dof as f64 } else { 1.0 };
    Ok(Fit {
        params: problem.params.as_slice().to_vec(),
        errors: (0..k)
            .map(|i| (covariance[(i, i)] * scale).max(0.0).sqrt())
            .collect(),
        chi2,
        dof,
    })
}

/// Arrhenius law `a = A exp(-E / T)` through `(T, a, error of a)`: params `[A, E]`.
pub fn arrhenius(points: &[Point<f64>]) -> Result<Fit, FitError> {
    // Start from the straight line through ln a against 1 / T of the extreme points.
    let (lo, hi) = points
        .iter()
        .fold((None::<&Point<f64>>, None::<&Point<f64>>), |(lo, hi), p| {
            (
                Some(lo.map_or(p, |l| if p.0 < l.0 { p } else { l })),
                Some(hi.map_or(p, |h| if p.0 > h.0 { p } else { h })),
            )
        });
    let (lo, hi) = match (lo, hi) {
        (Some(l), Some(h)) if l.0 != h.0 => (l, h),
        _ => {
            return Err(FitError::TooFewPoints {
                what: "Arrhenius",
                points: points.len(),
                parameters: 2,
            });
        }
    };
    let e0 = (hi.1 / lo.1).ln() / (1.0 / lo.0 - 1.0 / hi.0);
    let a0 = hi.1 * (e0 / hi.0).exp();
    least_squares(
        "Arrhenius",
        points,
        |p, &t| {
            let v = p[0] * (-p[1] / t).exp();
            (v, vec![v / p[0], -v / t])
        },
        &[a0, e0],
    )
}

/// `y = c x^s` through the points with `x` in `[x_min, x_max]` and `x, y > 0`, fitted as a
/// line in `ln x, ln y` (errors of `y` become relative): params `[c, s]`.
pub fn power_law(points: &[Point<f64>], x_min: f64, x_max: f64) -> Result<Fit, FitError> {
    let logs: Vec<Point<f64>> = points
        .iter()
        .filter(|(x, y, _)| *x >= x_min && *x <= x_max && *x > 0.0 && *y > 0.0)
        .map(|&(x, y, e)| (x.ln(), y.ln(), if e > 0.0 { e / y } else { 1.0 }))
        .collect();
    let fit = least_squares(
        "power law",
        &logs,
        |p, &lx| (p[0] + p[1] * lx, vec![1.0, lx]),
        &[0.0, 1.0],
    )?;
    let c = fit.params[0].exp();
    Ok(Fit {
        params: vec![c, fit.params[1]],
        errors: vec![c * fit.errors[0], fit.errors[1]],
        ..fit
    })
}

/// The local slope `d ln y / d ln x` of a curve, from the straight line through each point
/// and its neighbours within `half_window` points on either side (positive values only).
pub fn local_slopes(x: &[f64], y: &[f64], half_window: usize) -> Vec<(f64, f64)> {
    let pts: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(x, y)| **x > 0.0 && **y > 0.0)
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    let w = half_window.max(1);
    (0..pts.len())
        .filter_map(|i| {
            let lo = i.saturating_sub(w);
            let hi = (i + w + 1).min(pts.len());
            let window = &pts[lo..hi];
            if window.len() < 2 {
                return None;
            }
            let n = window.len() as f64;
            let mx = window.iter().map(|p| p.0).sum::<f64>() / n;
            let my = window.iter().map(|p| p.1).sum::<f64>() / n;
            let sxy: f64 = window.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
            let sxx: f64 = window.iter().map(|p| (p.0 - mx).powi(2)).sum();
            (sxx > 0.0).then(|| (pts[i].0.exp(), sxy / sxx))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrhenius_recovers_a_and_e_within_one_percent() {
        let (a, e) = (3.1f64, 0.48f64);
        let points: Vec<Point<f64>> = [0.04f64, 0.05, 0.07, 0.1, 0.15]
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let v = a * (-e / t).exp();
                // A 0.5 % deterministic wobble standing in for noise.
                let wobble = 1.0 + 0.005 * if i % 2 == 0 { 1.0 } else { -1.0 };
                (t, v * wobble, 0.005 * v)
            })
            .collect();
        let fit = arrhenius(&points).unwrap();
        assert!((fit.params[0] / a - 1.0).abs() < 0.01, "{fit:?}");
        assert!((fit.params[1] / e - 1.0).abs() < 0.01, "{fit:?}");
        assert!(fit.errors.iter().all(|e| e.is_finite() && *e > 0.0));
    }

    #[test]
    fn power_laws_and_local_slopes() {
        let x: Vec<f64> = (0..70)
            .map(|i| 10f64.powf((i as f64 - 30.0) / 10.0))
            .collect();
        // Ballistic then diffusive: y = x^2 / (1 + x).
        let y: Vec<f64> = x.iter().map(|x| x * x / (1.0 + x)).collect();
        let slopes = local_slopes(&x, &y, 1);
        assert!((slopes[0].1 - 2.0).abs() < 0.05, "{:?}", slopes[0]);
        assert!((slopes.last().unwrap().1 - 1.0).abs() < 0.01);
        let points: Vec<Point<f64>> = x.iter().map(|&x| (x, 2.5 * x.powf(-0.6667), 0.0)).collect();
        let fit = power_law(&points, 1e-2, 1e3).unwrap();
        assert!((fit.params[1] + 0.6667).abs() < 1e-9 && (fit.params[0] - 2.5).abs() < 1e-9);
    }

    #[test]
    fn too_few_points_is_an_error_naming_the_fit() {
        let e = arrhenius(&[(0.1, 0.02, 0.001)]).unwrap_err();
        assert!(e.to_string().contains("Arrhenius"), "{e}");
    }
}

//! The master curves of `S(q, t)` (paper, Figs. 2b-d): in a time window, the curves of all `q`
//! collapse onto
//!
//! ```text
//! S(q, t) = exp(-alpha (q^n t)^gamma)
//! ```
//!
//! with `gamma > 1` compressed (ballistic regime, `n ~ 1.125`, `gamma ~ 1.8`), `gamma < 1`
//! stretched (crossover, `n ~ 2.3`, `gamma ~ 0.86`) or `gamma = 1` (diffusive, `n = 2`). The
//! fit finds `n` (the best collapse), `alpha` and `gamma` together, any of `n` and `gamma`
//! held fixed on request; errors from the covariance. Also: the relaxation time of each `q`,
//! `S(q, tau_r) = 1/e`, whose power law `tau_r ~ q^-n` is the other reading of `n`.

use nalgebra::{DMatrix, DVector};

use super::{Fit, FitError, Point, least_squares, power_law};

/// Which points enter the collapse, and which exponents are held fixed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CollapseOptions {
    /// Time window (units of `tau`).
    pub t_min: f64,
    /// End of the time window.
    pub t_max: f64,
    /// Points with `S` outside `[s_min, s_max]` are left out (noise near 0, nothing near 1).
    pub s_min: f64,
    /// Upper bound of `S`.
    pub s_max: f64,
    /// `n` held fixed (the paper's diffusive regime: 2).
    pub n: Option<f64>,
    /// `gamma` held fixed (the paper's diffusive regime: 1).
    pub gamma: Option<f64>,
}

impl CollapseOptions {
    /// The window `[t_min, t_max]`, `S` in `[0.02, 0.98]`, `n` and `gamma` free.
    pub fn window(t_min: f64, t_max: f64) -> Self {
        Self {
            t_min,
            t_max,
            s_min: 0.02,
            s_max: 0.98,
            n: None,
            gamma: None,
        }
    }
}

/// A fitted master curve: each value with its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MasterCurve {
    /// `n` (error 0 when held fixed).
    pub n: (f64, f64),
    /// `alpha`.
    pub alpha: (f64, f64),
    /// `gamma` (error 0 when held fixed).
    pub gamma: (f64, f64),
    /// Points used.
    pub points: usize,
    /// Root-mean-square residual in `S`.
    pub rms: f64,
}

/// Ordinary least squares `y = X b` by the normal equations (for starting values).
fn linear(rows: &[Vec<f64>], y: &[f64]) -> Option<Vec<f64>> {
    let k = rows.first()?.len();
    let x = DMatrix::from_fn(rows.len(), k, |i, j| rows[i][j]);
    let y = DVector::from_column_slice(y);
    let xt = x.transpose();
    let b = (&xt * &x).try_inverse()? * (xt * y);
    Some(b.as_slice().to_vec())
}

/// Fits `S = exp(-alpha (q^n t)^gamma)` to the rows `(q, t, S)` selected by `options`.
pub fn master_curve(
    rows: &[(f64, f64, f64)],
    options: CollapseOptions,
) -> Result<MasterCurve, FitError> {
    let o = options;
    let data: Vec<(f64, f64, f64)> = rows
        .iter()
        .copied()
        .filter(|&(q, t, s)| {
            q > 0.0 && t >= o.t_min && t <= o.t_max && s >= o.s_min && s <= o.s_max
        })
        .collect();
    let free = 1 + usize::from(o.n.is_none()) + usize::from(o.gamma.is_none());
    if data.len() <= free {
        return Err(FitError::TooFewPoints {
            what: "master curve",
            points: data.len(),
            parameters: free,
        });
    }
    // ln(-ln S) = ln alpha + gamma n ln q + gamma ln t: a linear start.
    let y: Vec<f64> = data.iter().map(|&(_, _, s)| (-s.ln()).ln()).collect();
    let (ln_alpha0, gamma0, n0) = match (o.n, o.gamma) {
        (None, None) => {
            let b = linear(
                &data
                    .iter()
                    .map(|&(q, t, _)| vec![1.0, q.ln(), t.ln()])
                    .collect::<Vec<_>>(),
                &y,
            );
            match b {
                Some(b) if b[2] > 0.0 => (b[0], b[2], (b[1] / b[2]).clamp(0.2, 5.0)),
                _ => (0.0, 1.0, 1.0),
            }
        }
        (Some(n), None) => {
            let b = linear(
                &data
                    .iter()
                    .map(|&(q, t, _)| vec![1.0, n * q.ln() + t.ln()])
                    .collect::<Vec<_>>(),
                &y,
            )
            .unwrap_or(vec![0.0, 1.0]);
            (b[0], b[1].max(0.1), n)
        }
        (None, Some(g)) => {
            let shifted: Vec<f64> = y
                .iter()
                .zip(&data)
                .map(|(y, &(_, t, _))| y - g * t.ln())
                .collect();
            let b = linear(
                &data
                    .iter()
                    .map(|&(q, _, _)| vec![1.0, q.ln()])
                    .collect::<Vec<_>>(),
                &shifted,
            )
            .unwrap_or(vec![0.0, g]);
            (b[0], g, (b[1] / g).clamp(0.2, 5.0))
        }
        (Some(n), Some(g)) => {
            let a = y
                .iter()
                .zip(&data)
                .map(|(y, &(q, t, _))| y - g * (n * q.ln() + t.ln()))
                .sum::<f64>()
                / y.len() as f64;
            (a, g, n)
        }
    };
    // Parameters: [ln alpha, gamma?, n?].
    let mut initial = vec![ln_alpha0];
    if o.gamma.is_none() {
        initial.push(gamma0);
    }
    if o.n.is_none() {
        initial.push(n0);
    }
    let unpack = |p: &[f64]| {
        let mut i = 1;
        let gamma = o.gamma.unwrap_or_else(|| {
            i += 1;
            p[i - 1]
        });
        let n = o.n.unwrap_or_else(|| p[i]);
        (p[0], gamma, n)
    };
    let points: Vec<Point<(f64, f64)>> = data.iter().map(|&(q, t, s)| ((q, t), s, 1.0)).collect();
    let fit: Fit = least_squares(
        "master curve",
        &points,
        |p, &(q, t)| {
            let (ln_alpha, gamma, n) = unpack(p);
            let x = n * q.ln() + t.ln();
            let u = ln_alpha + gamma * x;
            let s = (-u.exp()).exp();
            let ds_du = -u.exp() * s;
            let mut grad = vec![ds_du];
            if o.gamma.is_none() {
                grad.push(ds_du * x);
            }
            if o.n.is_none() {
                grad.push(ds_du * gamma * q.ln());
            }
            (s, grad)
        },
        &initial,
    )?;
    let (ln_alpha, gamma, n) = unpack(&fit.params);
    let mut i = 1;
    let gamma_err = if o.gamma.is_none() {
        i += 1;
        fit.errors[i - 1]
    } else {
        0.0
    };
    let n_err = if o.n.is_none() { fit.errors[i] } else { 0.0 };
    let alpha = ln_alpha.exp();
    Ok(MasterCurve {
        n: (n, n_err),
        alpha: (alpha, alpha * fit.errors[0]),
        gamma: (gamma, gamma_err),
        points: data.len(),
        rms: (fit.chi2 / data.len() as f64).sqrt(),
    })
}

/// `tau_r(q)` with `S(q, tau_r) = 1/e`, from rows `(q, t, S)`: per `q`, the first crossing of
/// `1/e`, interpolated linearly in `ln t`. `q` without a crossing are left out.
pub fn relaxation_times(rows: &[(f64, f64, f64)]) -> Vec<(f64, f64)> {
    let mut qs: Vec<f64> = rows.iter().map(|r| r.0).collect();
    qs.sort_by(f64::total_cmp);
    qs.dedup();
    let target = (-1.0f64).exp();
    qs.into_iter()
        .filter_map(|q| {
            let mut curve: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| r.0 == q && r.1 > 0.0)
                .map(|r| (r.1, r.2))
                .collect();
            curve.sort_by(|a, b| a.0.total_cmp(&b.0));
            curve.windows(2).find_map(|w| {
                let ((t0, s0), (t1, s1)) = (w[0], w[1]);
                (s0 >= target && s1 < target).then(|| {
                    let f = (s0 - target) / (s0 - s1);
                    (q, (t0.ln() + f * (t1.ln() - t0.ln())).exp())
                })
            })
        })
        .collect()
}

/// The power law `tau_r = c q^(-n)` through [`relaxation_times`]: returns `(n, its error)`.
pub fn relaxation_exponent(times: &[(f64, f64)]) -> Result<(f64, f64), FitError> {
    let points: Vec<Point<f64>> = times.iter().map(|&(q, t)| (q, t, 0.0)).collect();
    let fit = power_law(&points, 0.0, f64::INFINITY)?;
    Ok((-fit.params[1], fit.errors[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synthetic(alpha: f64, n: f64, gamma: f64) -> Vec<(f64, f64, f64)> {
        let mut rows = vec![];
        for &q in &[0.1f64, 0.2, 0.4, 0.8, 1.6] {
            for i in 0..60 {
                let t = 10f64.powf(-2.0 + i as f64 / 10.0);
                let s = (-alpha * (q.powf(n) * t).powf(gamma)).exp();
                // A deterministic 0.2 % wobble standing in for noise.
                let wobble = 1.0 + 0.002 * ((i * 7 + (q * 10.0) as usize) % 5) as f64 / 2.0 - 0.002;
                rows.push((q, t, s * wobble));
            }
        }
        rows
    }

    #[test]
    fn recovers_alpha_n_gamma_within_one_percent() {
        for (alpha, n, gamma) in [(0.07, 1.125, 1.8), (0.0015, 2.3, 0.86), (0.1, 2.0, 1.0)] {
            let rows = synthetic(alpha, n, gamma);
            let fit = master_curve(&rows, CollapseOptions::window(1e-3, 1e6)).unwrap();
            let close = |a: f64, b: f64| (a / b - 1.0).abs() < 0.01;
            assert!(
                close(fit.alpha.0, alpha) && close(fit.n.0, n) && close(fit.gamma.0, gamma),
                "{alpha} {n} {gamma}: {fit:?}"
            );
            assert!(fit.n.1 > 0.0 && fit.n.1 < 0.05 && fit.gamma.1 < 0.05);
        }
    }

    #[test]
    fn fixed_exponents_stay_fixed() {
        let rows = synthetic(0.1, 2.0, 1.0);
        let mut o = CollapseOptions::window(1e-3, 1e6);
        o.n = Some(2.0);
        o.gamma = Some(1.0);
        let fit = master_curve(&rows, o).unwrap();
        assert_eq!((fit.n, fit.gamma), ((2.0, 0.0), (1.0, 0.0)));
        assert!((fit.alpha.0 / 0.1 - 1.0).abs() < 0.01, "{fit:?}");
    }

    #[test]
    fn relaxation_times_follow_q_to_the_minus_n() {
        let rows = synthetic(0.07, 1.125, 1.8);
        let times = relaxation_times(&rows);
        assert_eq!(times.len(), 5);
        for &(q, t) in &times {
            // exp(-alpha (q^n t)^gamma) = 1/e: t = alpha^(-1/gamma) q^-n.
            let exact = 0.07f64.powf(-1.0 / 1.8) * q.powf(-1.125);
            assert!((t / exact - 1.0).abs() < 0.02, "q = {q}: {t} vs {exact}");
        }
        let (n, err) = relaxation_exponent(&times).unwrap();
        assert!((n - 1.125).abs() < 0.01, "{n} +- {err}");
    }
}

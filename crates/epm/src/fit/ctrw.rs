//! The continuous-time random walk of the paper (Fig. 3c, inset): tracers move only when an
//! event is near, so the number of jumps `N(t)` in a time `t` follows from the waiting-time
//! distribution `psi`. In Laplace space
//!
//! ```text
//! N(s) = psi(s) / (s (1 - psi(s))),    psi(s) = int_0^inf psi(tau) exp(-s tau) d tau
//! ```
//!
//! `N(s) ~ s^-2` is diffusion, `N(s) ~ s^-5/3` the paper's sub-diffusion (`<dr^2> ~ t^(1/3)`).
//! Here `psi(s)` is computed from a binned density taken constant within each bin:
//! `sum_b P_b (exp(-s lo_b) - exp(-s hi_b)) / s`.

use super::local_slopes;
use crate::observables::{Column, Table};

/// One bin of a density: lower edge, upper edge, density.
pub type Bin = (f64, f64, f64);

/// `psi(s)` of a binned density (normalised to 1 over its bins).
pub fn laplace(bins: &[Bin], s: f64) -> f64 {
    bins.iter()
        .map(|&(lo, hi, p)| {
            if s * (hi - lo) < 1e-8 {
                // exp(-s lo) (1 - exp(-s w)) / s -> w exp(-s lo) as s w -> 0.
                p * (hi - lo) * (-s * lo).exp()
            } else {
                p * ((-s * lo).exp() - (-s * hi).exp()) / s
            }
        })
        .sum()
}

/// `N(s)` at `points` values of `s` log-spaced over the range the bins resolve
/// (`0.1 / tau_max` to `10 / tau_min`), with the local slope `d ln N / d ln s`.
pub fn ctrw_table(bins: &[Bin], points: usize) -> Table {
    let mut t = Table::new(
        "ctrw",
        "the CTRW of the paper from Psi: psi(s), N(s) = psi(s) / (s (1 - psi(s))) and its local slope",
        vec![
            Column::new("s", "1/tau"),
            Column::new("psi", "1"),
            Column::new("N", "tau^2"),
            Column::new("slope", "1"),
        ],
    );
    let used: Vec<Bin> = bins.iter().copied().filter(|b| b.2 > 0.0).collect();
    let (Some(first), Some(last)) = (used.first(), used.last()) else {
        return t;
    };
    let (s_min, s_max) = (0.1 / last.1, 10.0 / first.0.max(1e-12));
    let s: Vec<f64> = (0..points)
        .map(|i| s_min * (s_max / s_min).powf(i as f64 / (points.max(2) - 1) as f64))
        .collect();
    let psi: Vec<f64> = s.iter().map(|&s| laplace(&used, s)).collect();
    let n: Vec<f64> = s
        .iter()
        .zip(&psi)
        .map(|(&s, &p)| p / (s * (1.0 - p)))
        .collect();
    let slopes = local_slopes(&s, &n, 1);
    for i in 0..s.len() {
        let slope = slopes
            .iter()
            .find(|(x, _)| (x / s[i] - 1.0).abs() < 1e-9)
            .map_or(f64::NAN, |v| v.1);
        t.rows.push(vec![s[i], psi[i], n[i], slope]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_waiting_times_give_n_equal_rate_over_s_squared() {
        // psi(tau) = r exp(-r tau) on fine log bins: N(s) = r / s^2, slope -2.
        let r = 0.02;
        let mut bins: Vec<Bin> = (0..2000)
            .map(|i| {
                let lo = 1e-3 * 10f64.powf(i as f64 / 250.0);
                let hi = 1e-3 * 10f64.powf((i + 1) as f64 / 250.0);
                let p = ((-r * lo).exp() - (-r * hi).exp()) / (hi - lo);
                (lo, hi, p)
            })
            .collect();
        // Normalised over the bins, as the histograms are.
        let total: f64 = bins.iter().map(|b| b.2 * (b.1 - b.0)).sum();
        bins.iter_mut().for_each(|b| b.2 /= total);
        for s in [1e-4, 1e-3, 1e-2, 0.1] {
            let psi = laplace(&bins, s);
            assert!((psi - r / (r + s)).abs() < 1e-4, "psi({s}) = {psi}");
        }
        let table = ctrw_table(&bins, 40);
        for row in &table.rows {
            let (s, n) = (row[0], row[2]);
            if s < 1.0 {
                assert!((n * s * s / r - 1.0).abs() < 0.01, "N({s}) = {n}");
                if row[3].is_finite() {
                    assert!((row[3] + 2.0).abs() < 0.02, "slope {} at s = {s}", row[3]);
                }
            }
        }
    }
}

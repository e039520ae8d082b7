//! From the tables of a run to the paper's numbers: local slopes, the regimes of `D(t)`, the
//! master curves of `S(q, t)` in each regime, the CTRW from `Psi`. Works on tables alone, so a
//! finished run can be analysed again from its CSV files.
//!
//! Regimes (paper, Fig. 2a) from the local slope `m(t)` of the MSD: I, ballistic, the first
//! lags with `m >= 1.5`; III, diffusive, the last run of lags with `|m - 1| <= 0.15`; II,
//! sub-diffusive, the lags between with `m < 0.85`. In each, `S(q, t)` is collapsed onto
//! `exp(-alpha (q^n t)^gamma)` ([`crate::fit::master_curve`]): `n` and `gamma` free in I and
//! II, `n = 2` in III (the paper's diffusive collapse, `gamma` left free to be checked).

use crate::fit::ctrw::ctrw_table;
use crate::fit::local_slopes;
use crate::fit::master_curve::{
    CollapseOptions, master_curve, relaxation_exponent, relaxation_times,
};
use crate::observables::{Column, Quantity, Table};

/// What [`analyse`] derives: numbers and extra tables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analysis {
    /// Fitted and derived numbers.
    pub quantities: Vec<Quantity>,
    /// Derived tables (the CTRW).
    pub tables: Vec<Table>,
    /// What could not be derived, and why.
    pub notes: Vec<String>,
}

/// A time window `[start, end]` in units of `tau`.
pub type Window = (f64, f64);

/// The three regimes of `D(t)`, each when found.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Regimes {
    /// I: ballistic.
    pub ballistic: Option<Window>,
    /// II: sub-diffusive crossover.
    pub subdiffusive: Option<Window>,
    /// III: diffusive.
    pub diffusive: Option<Window>,
}

/// Adds a column `slope` (`d ln y / d ln x`) to `table`, from columns `x` and `y`.
pub fn add_slope(table: &mut Table, x: &str, y: &str) {
    let (Some(xs), Some(ys)) = (table.column(x), table.column(y)) else {
        return;
    };
    let slopes = local_slopes(&xs, &ys, 1);
    table.columns.push(Column::new("slope", "1"));
    for (row, &x) in table.rows.iter_mut().zip(&xs) {
        let s = slopes
            .iter()
            .find(|(sx, _)| *sx == x || (sx / x - 1.0).abs() < 1e-12)
            .map_or(f64::NAN, |s| s.1);
        row.push(s);
    }
}

/// The regimes of the MSD from its local slopes `(t, slope)`.
pub fn regimes(slopes: &[(f64, f64)]) -> Regimes {
    let ballistic_end = slopes.iter().take_while(|s| s.1 >= 1.5).last().map(|s| s.0);
    let ballistic = ballistic_end.map(|end| (slopes[0].0, end));
    // The last run of diffusive slopes.
    let mut diffusive: Option<Window> = None;
    for s in slopes.iter().rev() {
        if (s.1 - 1.0).abs() <= 0.15 {
            diffusive = Some((s.0, diffusive.map_or(s.0, |d| d.1)));
        } else {
            break;
        }
    }
    let after = ballistic.map_or(0.0, |b| b.1);
    let before = diffusive.map_or(f64::INFINITY, |d| d.0);
    let sub: Vec<f64> = slopes
        .iter()
        .filter(|s| s.0 > after && s.0 < before && s.1 < 0.85)
        .map(|s| s.0)
        .collect();
    let subdiffusive = (sub.len() >= 2).then(|| (sub[0], *sub.last().expect("two")));
    Regimes {
        ballistic,
        subdiffusive,
        diffusive,
    }
}

fn find<'a>(tables: &'a [Table], name: &str) -> Option<&'a Table> {
    tables.iter().find(|t| t.name == name)
}

/// Analyses a run's tables (adds `slope` columns to `msd`, `displacement_distribution` and
/// `waiting_times` in place) and derives numbers and the CTRW table.
pub fn analyse(tables: &mut [Table]) -> Analysis {
    let mut out = Analysis::default();
    for (name, x, y) in [
        ("msd", "t", "msd"),
        ("displacement_distribution", "u", "P(u)"),
        ("waiting_times", "tau_ev", "P(tau_ev)"),
    ] {
        if let Some(t) = tables.iter_mut().find(|t| t.name == name)
            && !t.columns.iter().any(|c| c.name == "slope")
        {
            add_slope(t, x, y);
        }
    }
    let q = |name: &str, value: f64, error: Option<f64>, unit: &str| {
        Quantity::new(name, value, error, unit)
    };
    if let Some(msd) = find(tables, "msd") {
        let (t, slope, d) = (
            msd.column("t").unwrap_or_default(),
            msd.column("slope").unwrap_or_default(),
            msd.column("D").unwrap_or_default(),
        );
        let slopes: Vec<(f64, f64)> = t
            .iter()
            .zip(&slope)
            .filter(|(_, s)| s.is_finite())
            .map(|(&t, &s)| (t, s))
            .collect();
        let r = regimes(&slopes);
        for (name, w) in [
            ("ballistic", r.ballistic),
            ("subdiffusive", r.subdiffusive),
            ("diffusive", r.diffusive),
        ] {
            match w {
                Some((a, b)) => {
                    out.quantities
                        .push(q(&format!("regime_{name}_start"), a, None, "tau"));
                    out.quantities
                        .push(q(&format!("regime_{name}_end"), b, None, "tau"));
                }
                None => out
                    .notes
                    .push(format!("no {name} regime found in the MSD's local slope")),
            }
        }
        if let Some((a, b)) = r.diffusive {
            let ds: Vec<f64> = t
                .iter()
                .zip(&d)
                .filter(|(t, _)| **t >= a && **t <= b)
                .map(|(_, d)| *d)
                .collect();
            let mean = ds.iter().sum::<f64>() / ds.len() as f64;
            let spread =
                (ds.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / ds.len() as f64).sqrt();
            out.quantities
                .push(q("D_long", mean, Some(spread), "lattice^2/tau"));
        }
        if let Some(sq) = find(tables, "structure_factor") {
            let rows: Vec<(f64, f64, f64)> = sq.rows.iter().map(|r| (r[0], r[4], r[5])).collect();
            for (name, window, n_fixed) in [
                ("ballistic", r.ballistic, None),
                ("subdiffusive", r.subdiffusive, None),
                ("diffusive", r.diffusive, Some(2.0)),
            ] {
                let Some((a, b)) = window else { continue };
                let mut options = CollapseOptions::window(a, b);
                options.n = n_fixed;
                match master_curve(&rows, options) {
                    Ok(fit) => {
                        let p = format!("master_curve_{name}");
                        if n_fixed.is_none() {
                            out.quantities
                                .push(q(&format!("{p}_n"), fit.n.0, Some(fit.n.1), "1"));
                        }
                        out.quantities.push(q(
                            &format!("{p}_alpha"),
                            fit.alpha.0,
                            Some(fit.alpha.1),
                            "1",
                        ));
                        out.quantities.push(q(
                            &format!("{p}_gamma"),
                            fit.gamma.0,
                            Some(fit.gamma.1),
                            "1",
                        ));
                        out.quantities
                            .push(q(&format!("{p}_rms"), fit.rms, None, "1"));
                    }
                    Err(e) => out.notes.push(format!("{name} master curve: {e}")),
                }
            }
            let times = relaxation_times(&rows);
            match relaxation_exponent(&times) {
                Ok((n, err)) => {
                    out.quantities
                        .push(q("relaxation_time_exponent_n", n, Some(err), "1"))
                }
                Err(e) => out.notes.push(format!("tau_r(q): {e}")),
            }
        }
    }
    if let Some(cu) = find(tables, "velocity_correlation") {
        let (t, c) = (
            cu.column("t").unwrap_or_default(),
            cu.column("C_u").unwrap_or_default(),
        );
        if let Some((i, &min)) = c.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)) {
            out.quantities.push(q("C_u_minimum", min, None, "1"));
            out.quantities
                .push(q("C_u_minimum_time", t[i], None, "tau"));
        }
    }
    if let Some(psi) = find(tables, "waiting_times") {
        let bins: Vec<(f64, f64, f64)> = psi.rows.iter().map(|r| (r[1], r[2], r[4])).collect();
        out.tables.push(ctrw_table(&bins, 60));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regimes_of_a_ballistic_subdiffusive_diffusive_curve() {
        // slope 2, then 0.5, then 1.
        let mut slopes = vec![];
        for i in 0..40 {
            let t = 10f64.powf(-1.0 + i as f64 / 8.0);
            let s = if t < 1.0 {
                2.0
            } else if t < 30.0 {
                0.5
            } else {
                1.0
            };
            slopes.push((t, s));
        }
        let r = regimes(&slopes);
        assert!(r.ballistic.unwrap().1 < 1.0);
        let (a, b) = r.subdiffusive.unwrap();
        assert!(a >= 1.0 && b < 30.0, "{a} {b}");
        assert!(r.diffusive.unwrap().0 >= 30.0);
    }
}

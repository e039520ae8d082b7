//! From the tables of a run to the paper's numbers: local slopes, the regimes of `D(t)`, the
//! master curves of `S(q, t)` in each regime, the CTRW from `Psi`. Works on tables alone, so a
//! finished run can be analysed again from its CSV files.
//!
//! Regimes (paper, Fig. 2a) from the local slope `m(t)` of the MSD and its standard error `e(t)`
//! over blocks of the run (table `msd_blocks`): I, ballistic, the first lags with `m >= 1.5`;
//! III, diffusive, the last run of lags with `|m - 1| <= 0.15`; II, sub-diffusive, the lags
//! between with `m < 0.85`. III and II look only at lags with `e <= 0.25`: the longest lags,
//! too noisy or longer than a block (no error bar), are passed over. Regime II is a decision with an error bar ([`Decision`]): *found*
//! when at least two consecutive lags lie below 0.85 by two standard errors, *absent* when
//! every lag between I and III lies above 0.85 by two standard errors, *not resolved*
//! otherwise. In each regime, `S(q, t)` is collapsed onto `exp(-alpha (q^n t)^gamma)`
//! ([`crate::fit::master_curve`]): `n` and `gamma` free in I and II, `n = 2` in III (the
//! paper's diffusive collapse, `gamma` left free to be checked).

use crate::fit::ctrw::ctrw_table;
use crate::fit::local_slopes;
use crate::fit::master_curve::{
    CollapseOptions, master_curve, relaxation_exponent, relaxation_times,
};
use crate::observables::{Column, Quantity, Table};

/// The tables [`analyse`] derives (not measured).
pub const DERIVED_TABLES: [&str; 1] = ["ctrw"];
/// The columns [`analyse`] adds to measured tables.
pub const DERIVED_COLUMNS: [&str; 3] = ["slope", "msd_error", "slope_error"];

/// Whether a quantity of a manifest is one [`analyse`] derives (not measured).
pub fn is_derived(quantity: &str) -> bool {
    quantity.starts_with("regime_")
        || quantity.starts_with("master_curve_")
        || quantity.starts_with("C_u_minimum")
        || [
            "D_long",
            "relaxation_time_exponent_n",
            "smallest_slope_between_I_and_III",
        ]
        .contains(&quantity)
}

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

/// Whether the data show regime II.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Decision {
    /// Two or more consecutive lags below the threshold by two standard errors.
    Found,
    /// Every lag between regimes I and III above the threshold by two standard errors (or III
    /// right after I).
    Absent,
    /// Neither: the error bars are too wide, or there are no error bars.
    #[default]
    NotResolved,
}

impl Decision {
    /// The manifest's number: 1 found, 0 absent, -1 not resolved.
    pub fn code(self) -> f64 {
        match self {
            Decision::Found => 1.0,
            Decision::Absent => 0.0,
            Decision::NotResolved => -1.0,
        }
    }

    /// The inverse of [`Decision::code`].
    pub fn from_code(code: f64) -> Self {
        if code == 1.0 {
            Decision::Found
        } else if code == 0.0 {
            Decision::Absent
        } else {
            Decision::NotResolved
        }
    }

    /// `found`, `not found`, `not resolved`.
    pub fn words(self) -> &'static str {
        match self {
            Decision::Found => "found",
            Decision::Absent => "not found",
            Decision::NotResolved => "not resolved",
        }
    }
}

/// The local slope of the MSD at one lag: `(t, m, e)`, `e` its standard error (`NaN`: none).
pub type Slope = (f64, f64, f64);

/// Local slopes below this are sub-diffusive (regime II).
pub const SUBDIFFUSIVE_BELOW: f64 = 0.85;
/// Lags whose slope error exceeds this take no part in the regimes of III and II.
const RESOLVED_ERROR: f64 = 0.25;

/// The three regimes of `D(t)`, each when found.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Regimes {
    /// I: ballistic.
    pub ballistic: Option<Window>,
    /// II: sub-diffusive crossover: the lags whose slope is below the threshold (a window even
    /// when the decision is not resolved, so that it can be looked at).
    pub subdiffusive: Option<Window>,
    /// Whether II is there.
    pub decision: Decision,
    /// The smallest slope between I and III, with its error.
    pub smallest_slope: Option<(f64, f64)>,
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
        row.push(value_at(&slopes, x));
    }
}

fn value_at(points: &[(f64, f64)], x: f64) -> f64 {
    points
        .iter()
        .find(|(sx, _)| *sx == x || (sx / x - 1.0).abs() < 1e-12)
        .map_or(f64::NAN, |s| s.1)
}

/// Adds columns `msd_error` and `slope_error` to the `msd` table: the standard errors of the
/// MSD and of its local slope over the complete blocks of `msd_blocks` (the spread of the
/// blocks' values over the square root of their number). `NaN` with fewer than 4 blocks, and
/// at lags longer than a block, whose windows overlap several blocks: the blocks' values are
/// then not independent, and their spread says nothing.
pub fn add_block_errors(msd: &mut Table, blocks: &Table) {
    let (Some(t), Some(lag), Some(origins), Some(bb), Some(bt), Some(bm), Some(bo)) = (
        msd.column("t"),
        msd.column("lag"),
        msd.column("origins"),
        blocks.column("block"),
        blocks.column("t"),
        blocks.column("msd"),
        blocks.column("origins"),
    ) else {
        return;
    };
    let count = bb.iter().fold(-1.0f64, |a, &b| a.max(b)) + 1.0;
    // Per block: (t, msd) of the lags where the block has at least half the most origins any
    // block has there (a partial last block is left out).
    let mut most: Vec<f64> = vec![0.0; t.len()];
    for r in 0..bt.len() {
        if let Some(i) = t.iter().position(|&x| x == bt[r]) {
            most[i] = most[i].max(bo[r]);
        }
    }
    // A block's length in steps: the updates (origins of the shortest lag) over the number of
    // complete blocks there.
    let complete = (0..bt.len())
        .filter(|&r| bt[r] == t[0] && bo[r] >= 0.5 * most[0])
        .count()
        .max(1);
    let block_steps = origins.first().copied().unwrap_or(0.0) / complete as f64;
    let mut curves: Vec<Vec<(f64, f64)>> = vec![vec![]; count.max(0.0) as usize];
    for r in 0..bt.len() {
        if let Some(i) = t.iter().position(|&x| x == bt[r])
            && bo[r] >= 0.5 * most[i]
        {
            curves[bb[r] as usize].push((bt[r], bm[r]));
        }
    }
    let slopes: Vec<Vec<(f64, f64)>> = curves
        .iter()
        .map(|c| {
            let (x, y): (Vec<f64>, Vec<f64>) = c.iter().copied().unzip();
            local_slopes(&x, &y, 1)
        })
        .collect();
    let standard_error = |values: Vec<f64>| -> f64 {
        let v: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        if v.len() < 4 {
            return f64::NAN;
        }
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt()
    };
    msd.columns.push(Column::new("msd_error", "lattice^2"));
    msd.columns.push(Column::new("slope_error", "1"));
    for ((row, &x), &lag) in msd.rows.iter_mut().zip(&t).zip(&lag) {
        if lag > block_steps {
            row.extend([f64::NAN, f64::NAN]);
            continue;
        }
        let m = standard_error(curves.iter().map(|c| value_at(c, x)).collect());
        let s = standard_error(slopes.iter().map(|c| value_at(c, x)).collect());
        row.push(m);
        row.push(s);
    }
}

/// The regimes of the MSD from its local slopes with errors (see the module documentation).
pub fn regimes(slopes: &[Slope]) -> Regimes {
    let ballistic_end = slopes.iter().take_while(|s| s.1 >= 1.5).last().map(|s| s.0);
    let ballistic = ballistic_end.map(|end| (slopes[0].0, end));
    let after = ballistic.map_or(0.0, |b| b.1);
    // The lags whose slope is known well enough; all of them when there are no error bars
    // (tables without blocks: nothing is then decided).
    let with_errors = slopes.iter().any(|s| s.2.is_finite());
    let pool: Vec<&Slope> = slopes
        .iter()
        .filter(|s| s.0 > after)
        .filter(|s| !with_errors || (s.2.is_finite() && s.2 <= RESOLVED_ERROR))
        .collect();
    // The last run of diffusive slopes.
    let mut diffusive: Option<Window> = None;
    for s in pool.iter().rev() {
        if (s.1 - 1.0).abs() <= 0.15 {
            diffusive = Some((s.0, diffusive.map_or(s.0, |d| d.1)));
        } else {
            break;
        }
    }
    let before = diffusive.map_or(f64::INFINITY, |d| d.0);
    let between: Vec<&Slope> = pool.iter().copied().filter(|s| s.0 < before).collect();
    let below: Vec<f64> = between
        .iter()
        .filter(|s| s.1 < SUBDIFFUSIVE_BELOW)
        .map(|s| s.0)
        .collect();
    let subdiffusive = (below.len() >= 2).then(|| (below[0], *below.last().expect("two")));
    let significant = |s: &&&Slope| s.2.is_finite() && s.1 + 2.0 * s.2 < SUBDIFFUSIVE_BELOW;
    let two_in_a_row = between
        .windows(2)
        .any(|w| significant(&&w[0]) && significant(&&w[1]));
    // With III right after I there is nothing between: II is absent.
    let all_above = (!between.is_empty() || diffusive.is_some())
        && between
            .iter()
            .all(|s| s.2.is_finite() && s.1 - 2.0 * s.2 >= SUBDIFFUSIVE_BELOW);
    let decision = if two_in_a_row {
        Decision::Found
    } else if all_above {
        Decision::Absent
    } else {
        Decision::NotResolved
    };
    let smallest_slope = between
        .iter()
        .filter(|s| s.2.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|s| (s.1, s.2));
    Regimes {
        ballistic,
        subdiffusive,
        decision,
        smallest_slope,
        diffusive,
    }
}

/// The `(q, t, S)` rows of a `structure_factor` table, read by column name.
pub fn structure_rows(table: &Table) -> Vec<(f64, f64, f64)> {
    match (table.column("q"), table.column("t"), table.column("S")) {
        (Some(q), Some(t), Some(s)) => q
            .into_iter()
            .zip(t)
            .zip(s)
            .map(|((q, t), s)| (q, t, s))
            .collect(),
        _ => vec![],
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
    if let Some(blocks) = find(tables, "msd_blocks").cloned()
        && let Some(msd) = tables.iter_mut().find(|t| t.name == "msd")
        && !msd.columns.iter().any(|c| c.name == "slope_error")
    {
        add_block_errors(msd, &blocks);
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
        let errors = msd
            .column("slope_error")
            .unwrap_or_else(|| vec![f64::NAN; t.len()]);
        let slopes: Vec<Slope> = (0..t.len())
            .filter(|&i| slope[i].is_finite())
            .map(|i| (t[i], slope[i], errors[i]))
            .collect();
        let r = regimes(&slopes);
        out.quantities.push(q(
            "regime_subdiffusive_decision",
            r.decision.code(),
            None,
            "1 found, 0 absent, -1 not resolved",
        ));
        if let Some((m, e)) = r.smallest_slope {
            out.quantities
                .push(q("smallest_slope_between_I_and_III", m, Some(e), "1"));
        }
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
            let rows = structure_rows(sq);
            // The diffusive collapse twice: gamma free (to check it is 1), and gamma = 1 (the
            // paper's alpha_d).
            for (name, window, n_fixed, gamma_fixed) in [
                ("ballistic", r.ballistic, None, None),
                ("subdiffusive", r.subdiffusive, None, None),
                ("diffusive", r.diffusive, Some(2.0), None),
                ("diffusive_exponential", r.diffusive, Some(2.0), Some(1.0)),
            ] {
                let Some((a, b)) = window else { continue };
                let mut options = CollapseOptions::window(a, b);
                options.n = n_fixed;
                options.gamma = gamma_fixed;
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
                        if gamma_fixed.is_none() {
                            out.quantities.push(q(
                                &format!("{p}_gamma"),
                                fit.gamma.0,
                                Some(fit.gamma.1),
                                "1",
                            ));
                        }
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

    /// Slopes 2, then `mid` from t = 1 to 30, then 1, each with error `e`.
    fn curve(mid: f64, e: f64) -> Vec<Slope> {
        (0..40)
            .map(|i| {
                let t = 10f64.powf(-1.0 + i as f64 / 8.0);
                let s = if t < 1.0 {
                    2.0
                } else if t < 30.0 {
                    mid
                } else {
                    1.0
                };
                (t, s, if t < 1.0 { 0.01 } else { e })
            })
            .collect()
    }

    #[test]
    fn regimes_of_a_ballistic_subdiffusive_diffusive_curve() {
        let r = regimes(&curve(0.5, 0.02));
        assert!(r.ballistic.unwrap().1 < 1.0);
        let (a, b) = r.subdiffusive.unwrap();
        assert!(a >= 1.0 && b < 30.0, "{a} {b}");
        assert!(r.diffusive.unwrap().0 >= 30.0);
        assert_eq!(r.decision, Decision::Found);
        assert_eq!(r.smallest_slope, Some((0.5, 0.02)));
    }

    #[test]
    fn regime_ii_is_a_decision_with_error_bars() {
        // A dip to 0.8 with errors 0.1: below the threshold, not by two errors.
        let r = regimes(&curve(0.8, 0.1));
        assert!(
            r.subdiffusive.is_some(),
            "the window is still there to look at"
        );
        assert_eq!(r.decision, Decision::NotResolved);
        // No dip: slopes 1.2 +- 0.05 between I and III (II absent).
        assert_eq!(regimes(&curve(1.2, 0.05)).decision, Decision::Absent);
        // Without error bars nothing is decided.
        assert_eq!(
            regimes(&curve(0.5, f64::NAN)).decision,
            Decision::NotResolved
        );
        for d in [Decision::Found, Decision::Absent, Decision::NotResolved] {
            assert_eq!(Decision::from_code(d.code()), d);
        }
    }

    #[test]
    fn block_errors_are_the_spread_over_blocks() {
        // Lags of 10, 20 and 200 steps (t = 1, 2, 20); four blocks of 100 steps with msd 1, 2,
        // 3, 4 at t = 1 and 4, 8, 12, 16 at t = 2 (slope 2 in every block); a partial fifth
        // block with few origins is left out; the lag of 200 steps is longer than a block.
        let mut msd = Table::new(
            "msd",
            "",
            ["t", "lag", "msd", "origins"]
                .iter()
                .map(|c| Column::new(c, "1"))
                .collect(),
        );
        msd.rows = vec![
            vec![1.0, 10.0, 2.5, 412.0],
            vec![2.0, 20.0, 10.0, 402.0],
            vec![20.0, 200.0, 100.0, 200.0],
        ];
        let mut blocks = Table::new(
            "msd_blocks",
            "",
            ["block", "t", "msd", "origins"]
                .iter()
                .map(|c| Column::new(c, "1"))
                .collect(),
        );
        for b in 0..4 {
            let v = (b + 1) as f64;
            blocks.rows.push(vec![b as f64, 1.0, v, 100.0]);
            blocks.rows.push(vec![b as f64, 2.0, 4.0 * v, 100.0]);
            blocks.rows.push(vec![b as f64, 20.0, 40.0 * v, 50.0]);
        }
        blocks.rows.push(vec![4.0, 1.0, 50.0, 12.0]);
        blocks.rows.push(vec![4.0, 2.0, 1.0, 2.0]);
        add_block_errors(&mut msd, &blocks);
        let err = msd.column("msd_error").unwrap();
        // Values 1..4: sample deviation sqrt(5/3), over sqrt(4).
        assert!(
            (err[0] - (5.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-12,
            "{}",
            err[0]
        );
        let slope_err = msd.column("slope_error").unwrap();
        assert!(slope_err[0].abs() < 1e-12 && slope_err[1].abs() < 1e-12);
        assert!(
            err[2].is_nan() && slope_err[2].is_nan(),
            "a lag longer than a block"
        );
    }
}

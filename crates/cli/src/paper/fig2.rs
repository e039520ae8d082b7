//! The paper's Fig. 2: the tracers' `D(t)` (2a) and the collapses of `S(q, t)` in the
//! ballistic (2b), crossover (2c) and diffusive (2d) regimes, drawn from run directories.

use epm::fit::master_curve::{CollapseOptions, master_curve};

use super::{RunData, column_pairs, find, thermal_sorted};
use crate::figures::{Figure, GREY, Panel, Series, Style, palette};
use crate::model::Model;

/// `(q, t, S)` rows of a run.
fn structure_rows(run: &RunData) -> Vec<(f64, f64, f64)> {
    run.table("structure_factor")
        .map(|t| epm::analysis::structure_rows(&t))
        .unwrap_or_default()
}

pub(super) fn fig2a(runs: &[RunData]) -> Figure {
    let mut main = Panel::new(
        "Fig. 2a: D(t) = <dr^2> / 4t",
        "t [tau]",
        "D [lattice^2 / tau]",
        true,
        true,
    );
    for (i, r) in thermal_sorted(runs).iter().enumerate() {
        if let Some(t) = r.table("msd") {
            main.series.push(Series {
                label: Some(format!("T = {}", r.temperature)),
                points: column_pairs(&t, "t", "D"),
                color: palette(i),
                style: Style::LinePoints,
            });
        }
        if let Some(twin) = find(runs, Model::Random, r.temperature)
            && let Some(t) = twin.table("msd")
        {
            main.series.push(Series {
                label: (i == 0).then(|| "random model (same a)".to_string()),
                points: column_pairs(&t, "t", "D"),
                color: GREY,
                style: Style::Line,
            });
        }
    }
    // The regimes of the coldest run that shows a crossover.
    if let Some(r) = thermal_sorted(runs)
        .into_iter()
        .find(|r| r.window("subdiffusive").is_some())
    {
        if let Some((_, end)) = r.window("ballistic") {
            main.marks.push((end, "I | II".into()));
        }
        if let Some((_, end)) = r.window("subdiffusive") {
            main.marks.push((end, "II | III".into()));
        }
    }
    Figure { main, inset: None }
}

/// A collapse figure: `S` against `q^n t` in a window, the fitted curve, the raw data inset.
pub(super) fn collapse_figure(
    title: &str,
    run: Option<&RunData>,
    regime: &str,
    n_fixed: Option<f64>,
    gamma_fixed: Option<f64>,
) -> (Figure, Option<epm::fit::master_curve::MasterCurve>) {
    let mut main = Panel::new(title, "q^n t", "S(q, t)", true, false);
    main.y_range = Some((0.0, 1.02));
    let mut inset = Panel::new("raw data", "t [tau]", "S", true, false);
    inset.y_range = Some((0.0, 1.02));
    // The collapsed curves run along the top and fall on the right: the inset goes below,
    // between the legend (lower left) and the fall.
    inset.place = Some((0.40, 0.45, 0.65, 0.82));
    let Some(run) = run else {
        main.title = format!("{title} (no run)");
        return (Figure { main, inset: None }, None);
    };
    let rows = structure_rows(run);
    let mut qs: Vec<f64> = rows.iter().map(|r| r.0).collect();
    qs.sort_by(f64::total_cmp);
    qs.dedup();
    for (i, &q) in qs.iter().enumerate() {
        inset.series.push(Series {
            label: None,
            points: rows
                .iter()
                .filter(|r| r.0 == q)
                .map(|r| (r.1, r.2))
                .collect(),
            color: palette(i),
            style: Style::Line,
        });
    }
    let Some((a, b)) = run.window(regime) else {
        main.title = format!("{title} (no {regime} regime in this run)");
        return (
            Figure {
                main,
                inset: Some(inset),
            },
            None,
        );
    };
    let mut options = CollapseOptions::window(a, b);
    options.n = n_fixed;
    options.gamma = gamma_fixed;
    let fit = master_curve(&rows, options).ok();
    let n = fit.map_or(n_fixed.unwrap_or(1.0), |f| f.n.0);
    main.x_label = format!("q^{n:.3} t");
    for (i, &q) in qs.iter().enumerate() {
        main.series.push(Series {
            label: Some(format!("q = {q:.3}")),
            points: rows
                .iter()
                .filter(|r| r.0 == q && r.1 >= a && r.1 <= b)
                .map(|r| (q.powf(n) * r.1, r.2))
                .collect(),
            color: palette(i),
            style: Style::Points,
        });
    }
    if let Some(f) = fit {
        let xs: Vec<f64> = main
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .collect();
        let (lo, hi) = xs
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(l, h), &x| (l.min(x), h.max(x)));
        if lo.is_finite() && hi > lo {
            main.series.push(Series {
                label: Some(format!(
                    "exp(-{:.3e} x^{:.3}), n = {:.3}",
                    f.alpha.0, f.gamma.0, f.n.0
                )),
                points: (0..=60)
                    .map(|i| {
                        let x = lo * (hi / lo).powf(i as f64 / 60.0);
                        (x, (-f.alpha.0 * x.powf(f.gamma.0)).exp())
                    })
                    .collect(),
                color: plotters::style::BLACK,
                style: Style::Dashed,
            });
        }
    }
    (
        Figure {
            main,
            inset: Some(inset),
        },
        fit,
    )
}

/// The collapse of a run's `S(q, t)` in one of its regimes, `n` and `gamma` free.
pub fn collapse(
    title: &str,
    run: Option<&RunData>,
    regime: &str,
) -> (Figure, Option<epm::fit::master_curve::MasterCurve>) {
    collapse_figure(title, run, regime, None, None)
}

//! The paper's Fig. 3: `P(u)` (3a), `Psi(tau_ev)` (3b), `C_u(t)` with the CTRW inset (3c) and
//! `C_sigma(t)` (3d), each rescaled by the activity, drawn from run directories.

use super::{RunData, column_pairs, guide, thermal_sorted};
use crate::figures::{Figure, GREY, Panel, Series, Style, palette};
use crate::model::Model;

pub(super) fn fig3a(runs: &[RunData]) -> Figure {
    let mut main = Panel::new(
        "Fig. 3a: P(u), rescaled by sqrt(a)",
        "u / sqrt(a)",
        "sqrt(a) P(u)",
        true,
        true,
    );
    let mut inset = Panel::new("raw", "u", "P(u)", true, true);
    let all = rescaled_curves(
        runs,
        ("displacement_distribution", "u", "P(u)"),
        |a, (u, p)| (u / a.sqrt(), p * a.sqrt()),
        &mut main,
        &mut inset,
    );
    add_guides(&mut main, &all, &[(1.0, "u^1", 0.1), (-3.0, "u^-3", 0.9)]);
    Figure {
        main,
        inset: Some(inset),
    }
}

/// The curves `(x, y)` of `table` of every run, thermal ones coloured by temperature and
/// random ones grey: raw in `inset`, rescaled by the run's activity (`scale(a, point)`) in
/// `main`. Returns every rescaled point (for the guides).
fn rescaled_curves(
    runs: &[RunData],
    (table, x, y): (&str, &str, &str),
    scale: impl Fn(f64, (f64, f64)) -> (f64, f64),
    main: &mut Panel,
    inset: &mut Panel,
) -> Vec<(f64, f64)> {
    let mut all = vec![];
    let thermal = thermal_sorted(runs);
    let curves = thermal
        .iter()
        .enumerate()
        .map(|(i, r)| (Some(i), *r))
        .chain(
            runs.iter()
                .filter(|r| r.model == Model::Random)
                .map(|r| (None, r)),
        );
    for (i, r) in curves {
        let Some(t) = r.table(table) else {
            continue;
        };
        let a = r.activity();
        let raw: Vec<(f64, f64)> = column_pairs(&t, x, y)
            .into_iter()
            .filter(|p| p.1 > 0.0)
            .collect();
        let (color, label) = match i {
            Some(i) => (palette(i), format!("T = {}", r.temperature)),
            None => (GREY, format!("random, a = {a:.2e}")),
        };
        let scaled: Vec<(f64, f64)> = raw.iter().map(|&p| scale(a, p)).collect();
        all.extend(scaled.iter().copied());
        main.series.push(Series {
            label: Some(label),
            points: scaled,
            color,
            style: Style::LinePoints,
        });
        inset.series.push(Series {
            label: None,
            points: raw,
            color,
            style: Style::Line,
        });
    }
    all
}

/// Power-law guides through the data's cloud: `(slope, label, where along x in log)`.
fn add_guides(panel: &mut Panel, points: &[(f64, f64)], guides: &[(f64, &str, f64)]) {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|p| p.0 > 0.0 && p.1 > 0.0)
        .collect();
    if pts.len() < 2 {
        return;
    }
    let (lo, hi) = pts.iter().fold((f64::INFINITY, 0.0f64), |(l, h), p| {
        (l.min(p.0), h.max(p.0))
    });
    for &(slope, label, at) in guides {
        let x0 = lo * (hi / lo).powf((at - 0.15).max(0.0));
        let x1 = lo * (hi / lo).powf((at + 0.15).min(1.0));
        // Anchor at the data's largest y near x0.
        let y0 = pts
            .iter()
            .filter(|p| (p.0 / x0).ln().abs() < 0.5)
            .map(|p| p.1)
            .fold(0.0f64, f64::max);
        if y0 > 0.0 {
            panel.series.push(guide(x0, y0 * 2.0, x1, slope, label));
        }
    }
}

pub(super) fn fig3b(runs: &[RunData]) -> Figure {
    let mut main = Panel::new("Fig. 3b: Psi(a tau) / a", "a tau_ev", "Psi / a", true, true);
    let mut inset = Panel::new("raw", "tau_ev [tau]", "Psi", true, true);
    let all = rescaled_curves(
        runs,
        ("waiting_times", "tau_ev", "P(tau_ev)"),
        |a, (t, p)| (a * t, p / a),
        &mut main,
        &mut inset,
    );
    add_guides(&mut main, &all, &[(-2.0 / 3.0, "(a tau)^-2/3", 0.35)]);
    Figure {
        main,
        inset: Some(inset),
    }
}

pub(super) fn fig3c(runs: &[RunData]) -> Figure {
    let mut main = Panel::new("Fig. 3c: C_u(t)", "t [tau]", "C_u", true, false);
    for (i, r) in thermal_sorted(runs).iter().enumerate() {
        if let Some(t) = r.table("velocity_correlation") {
            main.series.push(Series {
                label: Some(format!("T = {}", r.temperature)),
                points: column_pairs(&t, "t", "C_u")
                    .into_iter()
                    .filter(|p| p.0 > 0.0)
                    .collect(),
                color: palette(i),
                style: Style::LinePoints,
            });
        }
    }
    for r in runs.iter().filter(|r| r.model == Model::Random) {
        if let Some(t) = r.table("velocity_correlation") {
            main.series.push(Series {
                label: Some(format!("random, a = {:.2e}", r.activity())),
                points: column_pairs(&t, "t", "C_u")
                    .into_iter()
                    .filter(|p| p.0 > 0.0)
                    .collect(),
                color: GREY,
                style: Style::Line,
            });
        }
    }
    main.series.push(Series {
        label: None,
        points: vec![(1e-3, 0.0), (1e9, 0.0)],
        color: GREY,
        style: Style::Dashed,
    });
    // Keep the zero line from stretching the axis: clip it to the data's range.
    let xs: Vec<f64> = main
        .series
        .iter()
        .take(main.series.len() - 1)
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    if let (Some(lo), Some(hi)) = (
        xs.iter().cloned().reduce(f64::min),
        xs.iter().cloned().reduce(f64::max),
    ) {
        main.series.last_mut().expect("pushed").points = vec![(lo, 0.0), (hi, 0.0)];
    }
    let mut inset = Panel::new("CTRW: N(s)", "s [1/tau]", "N(s)", true, true);
    // The coldest run whose CTRW has points (a short cold run may have seen no event).
    let ctrw = thermal_sorted(runs).into_iter().find_map(|r| {
        let t = r.table("ctrw")?;
        (!t.rows.is_empty()).then_some((r, t))
    });
    if let Some((r, t)) = ctrw {
        let pts: Vec<(f64, f64)> = column_pairs(&t, "s", "N")
            .into_iter()
            .filter(|p| p.1 > 0.0)
            .collect();
        inset.title = format!("CTRW from Psi, T = {}", r.temperature);
        inset.series.push(Series {
            label: None,
            points: pts.clone(),
            color: palette(0),
            style: Style::Line,
        });
        add_guides(
            &mut inset,
            &pts,
            &[(-2.0, "s^-2", 0.15), (-5.0 / 3.0, "s^-5/3", 0.7)],
        );
    }
    Figure {
        main,
        inset: Some(inset),
    }
}

pub(super) fn fig3d(runs: &[RunData]) -> Figure {
    let mut main = Panel::new(
        "Fig. 3d: C_sigma against a t",
        "a t",
        "C_sigma",
        true,
        false,
    );
    let mut inset = Panel::new("raw", "t [tau]", "C_sigma", true, false);
    for (i, r) in thermal_sorted(runs).iter().enumerate() {
        if let Some(t) = r.table("stress_correlation") {
            let raw: Vec<(f64, f64)> = column_pairs(&t, "t", "C_sigma")
                .into_iter()
                .filter(|p| p.0 > 0.0)
                .collect();
            let a = r.activity();
            main.series.push(Series {
                label: Some(format!("T = {}", r.temperature)),
                points: raw.iter().map(|&(t, c)| (a * t, c)).collect(),
                color: palette(i),
                style: Style::LinePoints,
            });
            inset.series.push(Series {
                label: None,
                points: raw,
                color: palette(i),
                style: Style::Line,
            });
        }
    }
    Figure {
        main,
        inset: Some(inset),
    }
}

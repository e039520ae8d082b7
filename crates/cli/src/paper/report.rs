//! `report.md` and `report.json`: every number the paper gives ([`super::values`]) beside what
//! the runs measured, and whether it lies within the stated tolerance. Fitted numbers are read
//! from each run's manifest (the run's analysis fitted them); only what spans several runs (the
//! Arrhenius law, the `Psi` collapse) and the `P(u)` slopes are fitted here.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use epm::analysis::Decision;
use epm::fit::{Point, arrhenius, power_law};
use serde::Serialize;

use crate::model::Model;

use super::values::{self, MasterCurveValues, PaperValue, Tolerance};
use super::{RunData, column_pairs, find, thermal_sorted};

/// One entry of `report.json`: a number, where it comes from, and the paper's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// `mean_activity`, `arrhenius_E`, `ballistic_n`, ... (the names).
    pub name: String,
    /// The run's temperature (a random run: its thermal twin's); `None` for fits over runs.
    pub temperature: Option<f64>,
    /// `thermal`, `random`, or `all thermal` for fits over runs.
    pub model: String,
    /// The measured value; `None` when it could not be derived (see `note`).
    pub measured: Option<f64>,
    /// Its standard error, when known.
    pub error: Option<f64>,
    /// The paper's value, when the paper gives one.
    pub paper: Option<f64>,
    /// The tolerance, as text (`+- 0.15`, `x/ 2.5`, ...).
    pub tolerance: Option<String>,
    /// Whether the measured value is within the tolerance of the paper's.
    pub within: Option<bool>,
    /// What else the reader needs (the time window of a fit, why nothing was measured).
    pub note: String,
}

impl Entry {
    fn new(name: &str, temperature: Option<f64>, model: &str) -> Self {
        Self {
            name: name.into(),
            temperature,
            model: model.into(),
            measured: None,
            error: None,
            paper: None,
            tolerance: None,
            within: None,
            note: String::new(),
        }
    }

    fn measured(mut self, value: Option<f64>, error: Option<f64>) -> Self {
        self.measured = value.filter(|v| v.is_finite());
        self.error = error.filter(|e| e.is_finite() && *e > 0.0);
        self
    }

    fn against(mut self, paper: f64, tolerance: Tolerance) -> Self {
        self.paper = Some(paper);
        self.tolerance = Some(tolerance.describe());
        if let Some(m) = self.measured {
            self.within = Some(tolerance.holds(m, paper));
        }
        self
    }

    fn against_value(self, p: PaperValue) -> Self {
        self.against(p.value, p.tolerance)
    }

    fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }
}

fn model(run: &RunData) -> &'static str {
    run.model.name()
}

/// Four significant digits.
fn number(x: f64) -> String {
    if x != 0.0 && (x.abs() < 1e-2 || x.abs() >= 1e4) {
        format!("{x:.3e}")
    } else {
        format!("{x:.4}")
    }
}

/// The entries of the report, in the order of the paper.
pub fn entries(runs: &[RunData]) -> Vec<Entry> {
    let mut out: Vec<Entry> = vec![];
    // Mean activity of each thermal run; the paper's law holds at low T.
    let mut arrhenius_points: Vec<Point<f64>> = vec![];
    for r in thermal_sorted(runs) {
        let q = r.manifest.quantity("mean_activity");
        let (a, e) = (q.map(|q| q.value), q.and_then(|q| q.error));
        let mut entry = Entry::new("mean_activity", Some(r.temperature), "thermal").measured(a, e);
        if r.temperature <= values::ARRHENIUS_MAX_T + 1e-9 {
            entry = entry.against(values::activity(r.temperature), values::ACTIVITY_TOLERANCE);
            if let Some(a) = a.filter(|a| *a > 0.0) {
                arrhenius_points.push((r.temperature, a, e.unwrap_or(a * 0.01).max(1e-12)));
            }
        } else {
            entry = entry.note(format!(
                "3.1 exp(-0.48/T) = {} is the paper's low-T law",
                number(values::activity(r.temperature))
            ));
        }
        out.push(entry);
    }
    let ts: Vec<String> = arrhenius_points.iter().map(|p| p.0.to_string()).collect();
    let fit = arrhenius(&arrhenius_points);
    let note = match &fit {
        Ok(_) => format!("fit over T = {}", ts.join(", ")),
        Err(e) => format!("no fit: {e}"),
    };
    let (e, a) = match &fit {
        Ok(f) => (
            (Some(f.params[1]), Some(f.errors[1])),
            (Some(f.params[0]), Some(f.errors[0])),
        ),
        Err(_) => ((None, None), (None, None)),
    };
    out.push(
        Entry::new("arrhenius_E", None, "all thermal")
            .measured(e.0, e.1)
            .against_value(values::ARRHENIUS_E_VALUE)
            .note(note.clone()),
    );
    out.push(
        Entry::new("arrhenius_A", None, "all thermal")
            .measured(a.0, a.1)
            .against_value(values::ARRHENIUS_A_VALUE)
            .note(note),
    );
    for r in runs.iter().filter(|r| r.model == Model::Random) {
        let q = r.manifest.quantity("mean_activity");
        let mut entry = Entry::new("mean_activity", Some(r.temperature), "random")
            .measured(q.map(|q| q.value), q.and_then(|q| q.error));
        if (r.temperature - 0.07).abs() < 1e-9 {
            entry = entry
                .against(values::RANDOM_CHECK_ACTIVITY, values::ACTIVITY_TOLERANCE)
                .note("the paper's random-model check");
        } else {
            entry = entry.note("the activity of its thermal twin");
        }
        out.push(entry);
    }
    // Master curves, read from the runs' manifests.
    for m in [values::BALLISTIC, values::CROSSOVER, values::DIFFUSIVE] {
        master_curve_entries(runs, m, &mut out);
    }
    // Regime II in every run.
    for r in runs {
        let decision = r
            .quantity("regime_subdiffusive_decision")
            .map(Decision::from_code)
            .unwrap_or_default();
        let smallest = r.manifest.quantity("smallest_slope_between_I_and_III");
        let mut entry = Entry::new("regime_II_found", Some(r.temperature), model(r))
            .measured(
                match decision {
                    Decision::Found => Some(1.0),
                    Decision::Absent => Some(0.0),
                    Decision::NotResolved => None,
                },
                None,
            )
            .note(format!(
                "{}{}",
                decision.words(),
                smallest.map_or(String::new(), |q| format!(
                    "; smallest MSD slope between I and III {:.3} +- {:.3}",
                    q.value,
                    q.error.unwrap_or(f64::NAN)
                ))
            ));
        if r.model == Model::Random {
            entry = entry.against(0.0, Tolerance::Exact);
        } else if r.temperature <= values::REGIME_II_MAX_T + 1e-9 {
            entry = entry.against(1.0, Tolerance::Exact);
        }
        out.push(entry);
    }
    p_u_entries(runs, &mut out);
    out.push(psi_entry(runs));
    out
}

fn master_curve_entries(runs: &[RunData], m: MasterCurveValues, out: &mut Vec<Entry>) {
    let run = find(runs, Model::Thermal, m.temperature);
    let window = run.and_then(|r| r.window(m.regime));
    let note = match (run, window) {
        (None, _) => format!("no thermal run at T = {}", m.temperature),
        (Some(_), None) => format!("no {} regime found in this run", m.regime),
        (Some(_), Some((a, b))) => format!("t in [{a:.3}, {b:.3}]"),
    };
    let quantity = |name: &str| {
        run.and_then(|r| r.manifest.quantity(name))
            .map(|q| (Some(q.value), q.error))
            .unwrap_or((None, None))
    };
    let prefix = format!("master_curve_{}", m.regime);
    let mut add = |what: &str, source: String, paper: Option<PaperValue>| {
        let (v, e) = quantity(&source);
        let mut entry = Entry::new(
            &format!("{}_{what}", m.name),
            Some(m.temperature),
            "thermal",
        )
        .measured(v, e)
        .note(if v.is_some() {
            note.clone()
        } else {
            format!("not fitted: {note}")
        });
        if let Some(p) = paper {
            entry = entry.against_value(p);
        }
        out.push(entry);
    };
    if let Some(n) = m.n {
        add("n", format!("{prefix}_n"), Some(n));
    }
    if m.gamma.is_some() {
        add("gamma", format!("{prefix}_gamma"), m.gamma);
        add("alpha", format!("{prefix}_alpha"), Some(m.alpha));
    } else {
        // The diffusive alpha with n = 2 and gamma = 1 held, as the paper's Fig. 2d; gamma
        // fitted freely as the check that the decay is a pure exponential.
        add(
            "alpha",
            format!("{prefix}_exponential_alpha"),
            Some(m.alpha),
        );
        add(
            "gamma",
            format!("{prefix}_gamma"),
            Some(PaperValue {
                value: 1.0,
                tolerance: Tolerance::Absolute(0.2),
            }),
        );
    }
}

/// `P(u)` slopes of the lowest and highest populated decades of the coldest run.
fn p_u_entries(runs: &[RunData], out: &mut Vec<Entry>) {
    let coldest = thermal_sorted(runs).first().copied();
    let table = coldest.and_then(|r| r.table("displacement_distribution"));
    let pts: Vec<Point<f64>> = table
        .map(|t| {
            column_pairs(&t, "u", "P(u)")
                .into_iter()
                .zip(t.column("count").unwrap_or_default())
                .filter(|(p, c)| p.1 > 0.0 && *c >= 10.0)
                .map(|(p, _)| (p.0, p.1, 0.0))
                .collect()
        })
        .unwrap_or_default();
    let t = coldest.map(|r| r.temperature);
    for (name, paper, range) in [
        (
            "p_u_small_slope",
            values::P_U_SMALL_SLOPE,
            pts.first().map(|p| (p.0, p.0 * 10.0)),
        ),
        (
            "p_u_large_slope",
            values::P_U_LARGE_SLOPE,
            pts.last().map(|p| (p.0 / 10.0, p.0)),
        ),
    ] {
        let entry = Entry::new(name, t, "thermal");
        let entry = match range.map(|(lo, hi)| (lo, hi, power_law(&pts, lo, hi))) {
            Some((lo, hi, Ok(f))) => entry
                .measured(Some(f.params[1]), Some(f.errors[1]))
                .note(format!("u in [{lo:.2e}, {hi:.2e}], coldest run")),
            Some((_, _, Err(e))) => entry.note(format!("no fit: {e}")),
            None => entry.note("no displacement distribution"),
        };
        out.push(entry.against_value(paper));
    }
}

/// The slope of `Psi(a tau) / a` for `a tau` in `[0.01, 0.3]`, all thermal runs together.
fn psi_entry(runs: &[RunData]) -> Entry {
    let mut psi: Vec<Point<f64>> = vec![];
    for r in thermal_sorted(runs) {
        if let Some(t) = r.table("waiting_times") {
            let a = r.activity();
            psi.extend(
                column_pairs(&t, "tau_ev", "P(tau_ev)")
                    .into_iter()
                    .zip(t.column("count").unwrap_or_default())
                    .filter(|(p, c)| p.1 > 0.0 && *c >= 10.0)
                    .map(|(p, _)| (a * p.0, p.1 / a, 0.0)),
            );
        }
    }
    let entry = Entry::new("psi_slope", None, "all thermal");
    match power_law(&psi, 0.01, 0.3) {
        Ok(f) => entry
            .measured(Some(f.params[1]), Some(f.errors[1]))
            .note("a tau in [0.01, 0.3]"),
        Err(e) => entry.note(format!("no fit: {e}")),
    }
    .against_value(values::PSI_SLOPE)
}

/// `(report.md, report.json)`: every number the paper gives beside what the runs measured.
pub fn report(runs: &[RunData], header: &str) -> (String, String) {
    let entries = entries(runs);
    let json = serde_json::to_string_pretty(&entries).expect("entries always serialise");
    let mut out = String::new();
    let _ = writeln!(out, "# epm reproduce: the paper's numbers\n\n{header}\n");
    let _ = writeln!(
        out,
        "| quantity | T | model | measured | paper | tolerance | within | from |\n|---|---|---|---|---|---|---|---|"
    );
    for e in &entries {
        let measured = match (e.measured, e.error) {
            (Some(m), Some(err)) => format!("{} +- {}", number(m), number(err)),
            (Some(m), None) => number(m),
            (None, _) => "-".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            e.name,
            e.temperature.map_or(String::new(), |t| t.to_string()),
            e.model,
            measured,
            e.paper.map_or(String::new(), number),
            e.tolerance.clone().unwrap_or_default(),
            match e.within {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "",
            },
            e.note
        );
    }
    let (within, judged) = entries.iter().fold((0, 0), |(w, j), e| match e.within {
        Some(true) => (w + 1, j + 1),
        Some(false) => (w, j + 1),
        None => (w, j),
    });
    let _ = writeln!(
        out,
        "\n{within} of {judged} numbers within the tolerance of the paper's. Regime II: 1 found, 0 not found, `-` not resolved (the data cannot decide at two standard errors)."
    );
    extra_lines(runs, &mut out);
    let mut per_run: BTreeMap<String, String> = BTreeMap::new();
    for r in runs {
        let c = &r.manifest.config;
        per_run.insert(
            r.dir
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default(),
            format!(
                "L = {}, {} steps, dt = {}, warm-up {} steps, propagator {:?}, {:.0} s",
                c.l,
                r.manifest.steps,
                c.dt,
                c.observables.warm_up,
                c.propagator,
                r.manifest.wall_time_seconds
            ),
        );
    }
    let _ = writeln!(out, "\n## Runs\n");
    for (name, text) in per_run {
        let _ = writeln!(out, "- `{name}`: {text}");
    }
    (out, json)
}

/// What the paper shows without a number: the CTRW's local slopes and the minima of `C_u`.
fn extra_lines(runs: &[RunData], out: &mut String) {
    let _ = writeln!(out, "\n## Shapes\n");
    if let Some(run) = thermal_sorted(runs).first()
        && let Some(t) = run.table("ctrw")
    {
        let s: Vec<f64> = t
            .column("slope")
            .unwrap_or_default()
            .into_iter()
            .filter(|v| v.is_finite())
            .collect();
        if let (Some(lo), Some(hi)) = (
            s.iter().cloned().reduce(f64::min),
            s.iter().cloned().reduce(f64::max),
        ) {
            let _ = writeln!(
                out,
                "- CTRW N(s) local slopes, T = {}: from {lo:.3} to {hi:.3} (paper: -2 and -5/3)",
                run.temperature
            );
        }
    }
    for r in thermal_sorted(runs) {
        if let Some(m) = r.quantity("C_u_minimum") {
            let t = r.quantity("C_u_minimum_time").unwrap_or(f64::NAN);
            let _ = writeln!(
                out,
                "- C_u minimum, T = {}: {m:.4} at t = {t:.2} tau (paper: negative at low T)",
                r.temperature
            );
        }
    }
}

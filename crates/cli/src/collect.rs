//! `epm collect DIR`: the finished runs of a sweep (or of `epm reproduce`) merged into
//! per-temperature tables, `DIR/collected/<model>/<table>.csv` (a `T` column first, each
//! table averaged over seeds row by row), `DIR/collected/activity.csv` (the mean activity of
//! every model and temperature) and `DIR/collected/summary.json` (the Arrhenius fit of the
//! thermal model's activity).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use epm::fit::{Point, arrhenius};
use epm::observables::{Column, Quantity, Table};
use epm::output::{Manifest, RunDirectory};
use serde::{Deserialize, Serialize};

use crate::error::CliError;
use crate::model::Model;

/// A finished run found in a directory.
#[derive(Debug, Clone)]
pub struct FoundRun {
    /// Its directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Its model.
    pub model: Model,
    /// Temperature: the thermal rule's, or for a random twin its thermal twin's (from the
    /// manifest; absent for a random run that is nobody's twin).
    pub temperature: Option<f64>,
}

/// The runs under `dir` (one level down) whose manifest says they are complete.
pub fn finished_runs(dir: &Path) -> Result<Vec<FoundRun>, CliError> {
    let entries = std::fs::read_dir(dir).map_err(|e| CliError::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let mut runs = vec![];
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(manifest) = RunDirectory::open(&path).and_then(|d| d.manifest()) else {
            continue;
        };
        if !manifest.completed {
            continue;
        }
        let model = Model::of(&manifest.config.activation);
        let temperature = match manifest.config.activation {
            epm::ActivationConfig::Thermal { temperature } => Some(temperature),
            epm::ActivationConfig::Random { .. } => manifest.twin_temperature,
        };
        runs.push(FoundRun {
            dir: path,
            manifest,
            model,
            temperature,
        });
    }
    runs.sort_by(|a, b| {
        (a.model.name(), a.temperature.unwrap_or(0.0), &a.dir)
            .partial_cmp(&(b.model.name(), b.temperature.unwrap_or(0.0), &b.dir))
            .expect("no NaN temperatures")
    });
    Ok(runs)
}

/// What `summary.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Runs merged.
    pub runs: usize,
    /// `a = A exp(-E / T)` over the thermal runs (absent with fewer than 3 temperatures).
    pub arrhenius: Option<Vec<Quantity>>,
    /// Why a fit is absent.
    pub notes: Vec<String>,
}

/// The element-wise mean of tables with the same columns (rows matched by index, the
/// shortest length kept).
fn mean_table(tables: &[Table]) -> Table {
    let mut out = tables[0].clone();
    let rows = tables.iter().map(|t| t.rows.len()).min().unwrap_or(0);
    out.rows.truncate(rows);
    for (r, row) in out.rows.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = tables.iter().map(|t| t.rows[r][c]).sum::<f64>() / tables.len() as f64;
        }
    }
    out
}

/// Merges the finished runs under `dir`; returns where the results are.
pub fn collect(dir: &Path) -> Result<PathBuf, CliError> {
    let runs = finished_runs(dir)?;
    if runs.is_empty() {
        return Err(CliError::Usage(format!(
            "{} holds no finished run (directories with a manifest.json whose run completed)",
            dir.display()
        )));
    }
    let out = dir.join("collected");
    let io = |path: &Path, e: std::io::Error| CliError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    // (model, T) -> runs
    let mut groups: BTreeMap<(&str, String), Vec<&FoundRun>> = BTreeMap::new();
    for r in &runs {
        if let Some(t) = r.temperature {
            groups
                .entry((r.model.name(), format!("{t:020.12}")))
                .or_default()
                .push(r);
        }
    }
    let mut activity = Table::new(
        "activity",
        "mean activity of each model and temperature, averaged over seeds",
        vec![
            Column::new("T", "sigma_Y^2"),
            Column::new("random", "1"),
            Column::new("seeds", "1"),
            Column::new("a", "1"),
            Column::new("error", "1"),
        ],
    );
    let mut merged: BTreeMap<(&str, String), Table> = BTreeMap::new();
    let mut arrhenius_points: Vec<Point<f64>> = vec![];
    for ((model, _), group) in &groups {
        let t = group[0].temperature.expect("grouped by temperature");
        let values: Vec<(f64, f64)> = group
            .iter()
            .filter_map(|r| r.manifest.quantity("mean_activity"))
            .map(|q| (q.value, q.error.unwrap_or(0.0)))
            .collect();
        if !values.is_empty() {
            let n = values.len() as f64;
            let a = values.iter().map(|v| v.0).sum::<f64>() / n;
            let err = values.iter().map(|v| v.1 * v.1).sum::<f64>().sqrt() / n;
            activity.rows.push(vec![
                t,
                f64::from(*model == Model::Random.name()),
                n,
                a,
                err,
            ]);
            if *model == Model::Thermal.name() && a > 0.0 && err > 0.0 {
                arrhenius_points.push((t, a, err));
            }
        }
        // Every table of the group's first run, averaged over the group.
        for entry in &group[0].manifest.tables {
            let name = entry.file.trim_end_matches(".csv");
            let tables: Vec<Table> = group
                .iter()
                .filter_map(|r| RunDirectory::open(&r.dir).and_then(|d| d.table(name)).ok())
                .collect();
            if tables.len() != group.len() || tables.iter().any(|t| t.columns != tables[0].columns)
            {
                continue;
            }
            let mean = mean_table(&tables);
            let target = merged.entry((*model, name.to_string())).or_insert_with(|| {
                let mut columns = vec![Column::new("T", "sigma_Y^2")];
                columns.extend(mean.columns.clone());
                Table::new(
                    name,
                    &format!("{} (averaged over seeds)", mean.description),
                    columns,
                )
            });
            for row in mean.rows {
                let mut r = vec![t];
                r.extend(row);
                target.rows.push(r);
            }
        }
    }
    for ((model, name), table) in &merged {
        let model_dir = out.join(model);
        std::fs::create_dir_all(&model_dir).map_err(|e| io(&model_dir, e))?;
        epm::output::write_atomic(
            &model_dir.join(format!("{name}.csv")),
            table.to_csv().as_bytes(),
        )?;
    }
    std::fs::create_dir_all(&out).map_err(|e| io(&out, e))?;
    epm::output::write_atomic(&out.join("activity.csv"), activity.to_csv().as_bytes())?;
    let mut summary = Summary {
        runs: runs.len(),
        arrhenius: None,
        notes: vec![],
    };
    if arrhenius_points.len() >= 3 {
        match arrhenius(&arrhenius_points) {
            Ok(fit) => {
                summary.arrhenius = Some(vec![
                    Quantity::new("A", fit.params[0], Some(fit.errors[0]), "1"),
                    Quantity::new("E", fit.params[1], Some(fit.errors[1]), "sigma_Y^2"),
                ])
            }
            Err(e) => summary.notes.push(e.to_string()),
        }
    } else {
        summary
            .notes
            .push("the Arrhenius fit needs thermal runs at 3 temperatures or more".into());
    }
    let json = serde_json::to_string_pretty(&summary).expect("a summary serialises");
    epm::output::write_atomic(&out.join("summary.json"), json.as_bytes())?;
    Ok(out)
}

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
    /// Why a fit is absent, and which tables were left out of the merge and why (a file
    /// missing or damaged in one run, columns that differ).
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
    // Tables left out of the merge, and why: said in summary.json, never dropped unseen.
    let mut left_out: Vec<String> = vec![];
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
            let mut tables: Vec<Table> = vec![];
            for r in group {
                match RunDirectory::open(&r.dir).and_then(|d| d.table(name)) {
                    Ok(table) => tables.push(table),
                    Err(e) => left_out.push(format!("{name} at T = {t} ({model}) left out: {e}")),
                }
            }
            if tables.len() != group.len() {
                continue;
            }
            if let Some(other) = tables.iter().position(|x| x.columns != tables[0].columns) {
                left_out.push(format!(
                    "{name} at T = {t} ({model}) left out: the columns of {} differ from those of {}",
                    group[other].dir.display(),
                    group[0].dir.display()
                ));
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
        notes: left_out,
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

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use super::*;

    /// The tables and manifest of a short finished run (`crates/epm/tests/corpus/run`).
    fn corpus() -> Vec<(String, Vec<u8>)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../epm/tests/corpus/run");
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    }

    /// Two seeds of one temperature under `dir`, the second with `damage` applied to `file`.
    fn sweep(dir: &Path, file: &str, damage: impl Fn(&[u8]) -> Vec<u8>) {
        let _ = std::fs::remove_dir_all(dir);
        for seed in ["seed1", "seed2"] {
            std::fs::create_dir_all(dir.join(seed)).unwrap();
            for (name, bytes) in corpus() {
                let bytes = if seed == "seed2" && name == file {
                    damage(&bytes)
                } else {
                    bytes
                };
                std::fs::write(dir.join(seed).join(name), bytes).unwrap();
            }
        }
    }

    #[test]
    fn a_damaged_table_is_left_out_and_said_never_dropped_unseen() {
        let dir = std::env::temp_dir().join(format!("epm-collect-damaged-{}", std::process::id()));
        // A row cut short in the second seed's MSD.
        sweep(&dir, "msd.csv", |b| {
            let text = String::from_utf8_lossy(b);
            let mut lines: Vec<String> = text.lines().map(String::from).collect();
            let cut = lines[3].rfind(',').unwrap();
            lines[3].truncate(cut);
            lines.join("\n").into_bytes()
        });
        let out = collect(&dir).unwrap();
        let summary: Summary =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                .unwrap();
        let note = summary
            .notes
            .iter()
            .find(|n| n.starts_with("msd at T = 0.15"));
        let note = note.unwrap_or_else(|| panic!("{:?}", summary.notes));
        assert!(note.contains("seed2") && note.contains("line 4"), "{note}");
        assert!(!out.join("thermal/msd.csv").exists());
        assert!(out.join("thermal/structure_factor.csv").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn collecting_runs_with_a_damaged_file_never_panics() {
        let dir = std::env::temp_dir().join(format!("epm-collect-mutated-{}", std::process::id()));
        let files = corpus();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..80 {
            let (file, _) = &files[next() as usize % files.len()];
            let (at, len, what) = (next() as usize, 1 + next() as usize % 40, next() % 3);
            sweep(&dir, file, |b| {
                let mut v = b.to_vec();
                let at = at % (v.len() + 1);
                match what {
                    0 => v.truncate(at),
                    1 => {
                        v.drain(at..(at + len).min(v.len()));
                    }
                    _ => v
                        .splice(at..at, b"nan,1e308,".iter().copied())
                        .for_each(drop),
                }
                v
            });
            let collected = catch_unwind(AssertUnwindSafe(|| collect(&dir)));
            assert!(collected.is_ok(), "round {round}: {file} damaged: panicked");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! A run's directory: `manifest.json` (configuration, seed, backend and adapter, version,
//! steps, wall time, every fitted number) and one CSV file per table (`msd.csv`,
//! `structure_factor.csv`, ...), each with a header `name [unit]`. Every file is written
//! atomically (a temporary file, then a rename), so a crash never leaves half a file and a
//! finished file is never lost.
//!
//! In Python: `pandas.read_csv("run/msd.csv")`; `json.load(open("run/manifest.json"))`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analysis::analyse;
use crate::config::Config;
use crate::error::SimError;
use crate::observables::{Quantity, Table};

/// One table of the run, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableEntry {
    /// File name in the run directory.
    pub file: String,
    /// What the rows are.
    pub description: String,
    /// Column headers, `name [unit]`.
    pub columns: Vec<String>,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Version of the `epm` crate that made the run.
    pub epm_version: String,
    /// Backend of the build (`wgpu`, `cuda`, ...).
    pub backend: String,
    /// The adapter the run used.
    pub adapter: String,
    /// The activation rule.
    pub rule: String,
    /// The configuration. (Manifests written while it held the run options
    /// `sparse_max_active` and `whole_steps` are read without them: [`Manifest::profile`] and
    /// [`Manifest::sparse_max_active`] say what the run took.)
    #[serde(deserialize_with = "config_without_run_options")]
    pub config: Config,
    /// The execution profile the run used ([`crate::profile`]); absent in manifests written
    /// before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<crate::profile::Profile>,
    /// The sparse update's limit the run used ([`crate::profile::Profile::sparse_limit`]).
    #[serde(default)]
    pub sparse_max_active: u32,
    /// For a random-model run that copies a thermal run's activity (a random twin): that
    /// run's temperature, which this one stands for in tables and figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twin_temperature: Option<f64>,
    /// Steps done.
    pub steps: u64,
    /// Simulated time, `steps dt`.
    pub time: f64,
    /// Wall-clock seconds of the simulation.
    pub wall_time_seconds: f64,
    /// Whether the run reached its planned length.
    pub completed: bool,
    /// Every measured and fitted number.
    pub quantities: Vec<Quantity>,
    /// The tables written beside the manifest.
    pub tables: Vec<TableEntry>,
    /// What could not be derived, and why.
    pub notes: Vec<String>,
}

/// A manifest's configuration, less the keys that became run options.
fn config_without_run_options<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Config, D::Error> {
    let mut value = serde_json::Value::deserialize(d)?;
    if let Some(map) = value.as_object_mut() {
        for key in crate::config::MOVED_KEYS {
            map.remove(key);
        }
    }
    serde_json::from_value(value).map_err(serde::de::Error::custom)
}

impl Manifest {
    /// The number called `name`.
    pub fn quantity(&self, name: &str) -> Option<&Quantity> {
        self.quantities.iter().find(|q| q.name == name)
    }
}

/// A run directory.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDirectory {
    path: PathBuf,
}

impl RunDirectory {
    /// The directory at `path`, created if missing.
    pub fn create(path: &Path) -> Result<Self, SimError> {
        std::fs::create_dir_all(path).map_err(|e| SimError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    /// The existing directory at `path`, for reading: creates nothing.
    pub fn open(path: &Path) -> Result<Self, SimError> {
        if !path.is_dir() {
            let e = std::io::Error::new(std::io::ErrorKind::NotFound, "no such run directory");
            return Err(SimError::io(path, e));
        }
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of `file` inside the directory.
    pub fn file(&self, file: &str) -> PathBuf {
        self.path.join(file)
    }

    /// Analyses `tables` ([`crate::analysis::analyse`]), writes them and the derived ones as
    /// CSV, then the manifest with `quantities` and the derived numbers. Returns the manifest.
    pub fn write(
        &self,
        mut manifest: Manifest,
        mut tables: Vec<Table>,
        quantities: Vec<Quantity>,
    ) -> Result<Manifest, SimError> {
        let analysis = analyse(&mut tables);
        tables.extend(analysis.tables);
        manifest.quantities = quantities;
        manifest.quantities.extend(analysis.quantities);
        manifest.notes.extend(analysis.notes);
        manifest.tables = vec![];
        for t in &tables {
            let file = format!("{}.csv", t.name);
            write_atomic(&self.file(&file), t.to_csv().as_bytes())?;
            manifest.tables.push(TableEntry {
                file,
                description: t.description.clone(),
                columns: t.columns.iter().map(|c| c.header()).collect(),
            });
        }
        let json = serde_json::to_string_pretty(&manifest).map_err(|e| SimError::Manifest {
            path: self.file("manifest.json"),
            message: e.to_string(),
        })?;
        write_atomic(&self.file("manifest.json"), json.as_bytes())?;
        Ok(manifest)
    }

    /// Analyses a finished run again from its measured tables and quantities (with this
    /// version's [`crate::analysis`]), rewriting the derived tables, columns and numbers.
    /// Returns the new manifest.
    pub fn reanalyse(&self) -> Result<Manifest, SimError> {
        use crate::analysis::{DERIVED_COLUMNS, DERIVED_TABLES, is_derived};
        let mut manifest = self.manifest()?;
        let mut tables = vec![];
        for entry in &manifest.tables {
            let name = entry.file.trim_end_matches(".csv");
            if DERIVED_TABLES.contains(&name) {
                continue;
            }
            let mut table = self.table(name)?;
            // The CSV holds no description: the manifest does.
            table.description = entry.description.clone();
            let keep: Vec<bool> = table
                .columns
                .iter()
                .map(|c| !DERIVED_COLUMNS.contains(&c.name.as_str()))
                .collect();
            table.columns = table
                .columns
                .into_iter()
                .zip(&keep)
                .filter_map(|(c, &k)| k.then_some(c))
                .collect();
            for row in &mut table.rows {
                *row = row
                    .iter()
                    .zip(&keep)
                    .filter_map(|(v, &k)| k.then_some(*v))
                    .collect();
            }
            tables.push(table);
        }
        let measured: Vec<Quantity> = manifest
            .quantities
            .drain(..)
            .filter(|q| !is_derived(&q.name))
            .collect();
        // Every note of a manifest is the analysis's: written anew.
        manifest.notes.clear();
        self.write(manifest, tables, measured)
    }

    /// Reads the manifest.
    pub fn manifest(&self) -> Result<Manifest, SimError> {
        let path = self.file("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|e| SimError::io(&path, e))?;
        serde_json::from_str(&text).map_err(|e| SimError::Manifest {
            path,
            message: format!("not a run manifest: {e}"),
        })
    }

    /// Reads the table `name` (`name.csv`).
    pub fn table(&self, name: &str) -> Result<Table, SimError> {
        let path = self.file(&format!("{name}.csv"));
        let text = std::fs::read_to_string(&path).map_err(|e| SimError::io(&path, e))?;
        Table::from_csv(name, &text).map_err(|message| SimError::Table { path, message })
    }
}

/// Writes `bytes` to `path` atomically: to a temporary file beside it, flushed to disk, then
/// renamed over `path`. A crash leaves either the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SimError> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    };
    write().map_err(|e| SimError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| SimError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_whose_configuration_held_the_run_options_is_still_read() {
        let manifest = Manifest {
            epm_version: "0".into(),
            backend: "wgpu".into(),
            adapter: "a".into(),
            rule: "Thermal".into(),
            config: Config::default(),
            profile: None,
            sparse_max_active: 6,
            twin_temperature: None,
            steps: 1,
            time: 0.1,
            wall_time_seconds: 1.0,
            completed: true,
            quantities: vec![],
            tables: vec![],
            notes: vec![],
        };
        let mut json: serde_json::Value = serde_json::to_value(&manifest).unwrap();
        json["config"]["sparse_max_active"] = serde_json::Value::Null;
        json["config"]["whole_steps"] = serde_json::Value::Bool(true);
        let back: Manifest = serde_json::from_value(json).unwrap();
        assert_eq!(back, manifest);
    }

    #[test]
    fn opening_a_missing_run_directory_is_an_error_and_creates_nothing() {
        let path = std::env::temp_dir().join(format!("epm-no-run-{}", std::process::id()));
        let e = RunDirectory::open(&path).unwrap_err().to_string();
        assert!(e.contains(&path.display().to_string()), "{e}");
        assert!(!path.exists());
        let made = RunDirectory::create(&path).unwrap();
        assert_eq!(RunDirectory::open(&path).unwrap(), made);
        std::fs::remove_dir(&path).unwrap();
    }
}

//! A run: one simulation with its measurements, living in a directory, that can stop at any
//! moment and resume exactly where it was.
//!
//! The directory holds `checkpoint.epm` (the simulation and every observer, one file written
//! atomically) and the outputs of [`crate::output`]: `manifest.json` and the CSV tables,
//! rewritten whenever asked ([`Run::write_outputs`]); with `[output]`, also `snapshots.h5`
//! ([`crate::snapshots`]), appended to as the run goes and flushed at every checkpoint. A
//! resumed run ends with the same tables, bit for bit, as one that never stopped (same
//! backend): observers save their device buffers as they are, and writing outputs never
//! disturbs what they accumulate.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::SimError;
use crate::observables::measurements::Measurements;
use crate::output::{Manifest, RunDirectory};
use crate::simulation::Simulation;
use crate::snapshots::{self, Snapshots};

/// The checkpoint's file name in a run directory.
pub const CHECKPOINT: &str = "checkpoint.epm";
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct SavedRun {
    format: u32,
    simulation: Vec<u8>,
    measurements: Vec<u8>,
    wall_time_seconds: f64,
}

/// A simulation, its measurements and its directory.
pub struct Run {
    dir: RunDirectory,
    sim: Simulation,
    measurements: Measurements,
    /// Wall time of the earlier sessions of this run.
    earlier_wall_time: f64,
    session: Instant,
    twin_temperature: Option<f64>,
    snapshots: Option<Snapshots>,
}

impl Run {
    /// A new run of `config` in `dir` (created if missing). Refuses a directory that already
    /// holds a checkpoint: resume it, or choose another.
    pub fn start(config: Config, dir: &Path, device: &cubecl::Device) -> Result<Self, SimError> {
        config.validate()?;
        if dir.join(CHECKPOINT).exists() {
            return Err(SimError::InvalidArgument {
                argument: "out",
                value: dir.display().to_string(),
                reason: "holds a run already: resume it (--resume) or choose another directory"
                    .into(),
            });
        }
        let dir = RunDirectory::create(dir)?;
        let snapshots = Snapshots::wanted(&config)
            .then(|| Snapshots::create(&dir.file(snapshots::FILE), &config))
            .transpose()?;
        let sim = Simulation::new(config, device)?;
        let measurements = Measurements::new(&sim)?;
        Ok(Self {
            snapshots,
            dir,
            sim,
            measurements,
            earlier_wall_time: 0.0,
            session: Instant::now(),
            twin_temperature: None,
        })
    }

    /// The run in `dir`, from its checkpoint. With `config`, checks that it is the run's
    /// configuration; its `steps` may differ (to extend a run), nothing else.
    pub fn resume(
        dir: &Path,
        config: Option<&Config>,
        device: &cubecl::Device,
    ) -> Result<Self, SimError> {
        let path = dir.join(CHECKPOINT);
        let bytes = std::fs::read(&path).map_err(|e| SimError::io(&path, e))?;
        let bad = |message: String| SimError::Checkpoint {
            path: path.clone(),
            message,
        };
        let saved: SavedRun =
            postcard::from_bytes(&bytes).map_err(|e| bad(format!("not a run checkpoint: {e}")))?;
        if saved.format != FORMAT {
            return Err(bad(format!(
                "format {} (this version reads {FORMAT})",
                saved.format
            )));
        }
        let mut checkpoint =
            Simulation::decode_checkpoint(&saved.simulation).map_err(|e| bad(e.to_string()))?;
        let saved_config = &mut checkpoint.config;
        if let Some(config) = config {
            let differences = differing_keys(saved_config, config);
            if !differences.is_empty() {
                return Err(SimError::InvalidArgument {
                    argument: "config",
                    value: differences.join(", "),
                    reason: format!(
                        "differs from the run in {} (only `steps` may change on resume)",
                        dir.display()
                    ),
                });
            }
            saved_config.steps = config.steps;
        }
        let sim = Simulation::from_checkpoint(checkpoint, None, device)
            .map_err(|e| e.in_checkpoint(&path))?;
        let mut measurements = Measurements::new(&sim)?;
        measurements.load(&saved.measurements, sim.client())?;
        let file = dir.join(snapshots::FILE);
        let snapshots = Snapshots::wanted(sim.config())
            .then(|| Snapshots::resume(&file, sim.config(), sim.step()))
            .transpose()?;
        Ok(Self {
            snapshots,
            dir: RunDirectory::open(dir)?,
            sim,
            measurements,
            earlier_wall_time: saved.wall_time_seconds,
            session: Instant::now(),
            twin_temperature: None,
        })
    }

    /// Whether the run in `dir` is finished: its manifest says so. Creates nothing.
    pub fn is_complete(dir: &Path) -> bool {
        std::fs::read_to_string(dir.join("manifest.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<Manifest>(&text).ok())
            .is_some_and(|m| m.completed)
    }

    /// Records, for a random twin, the temperature of the thermal run whose activity it
    /// copies: written into the manifest ([`Manifest::twin_temperature`]). Not kept in the
    /// checkpoint: whoever resumes the run says it again.
    pub fn set_twin_temperature(&mut self, temperature: Option<f64>) {
        self.twin_temperature = temperature;
    }

    /// The simulation.
    pub fn simulation(&self) -> &Simulation {
        &self.sim
    }

    /// The directory.
    pub fn directory(&self) -> &RunDirectory {
        &self.dir
    }

    /// Steps still to do.
    pub fn remaining(&self) -> u64 {
        self.sim.config().steps.saturating_sub(self.sim.step())
    }

    /// Runs `steps` more steps (at most the remaining ones) with the measurements.
    pub fn advance(&mut self, steps: u64) -> Result<(), SimError> {
        let n = steps.min(self.remaining());
        let mut observers = self.measurements.observers();
        if let Some(s) = &mut self.snapshots {
            observers.push(s);
        }
        self.sim.advance(n, &mut observers)
    }

    /// Wall time of the run so far, all sessions.
    pub fn wall_time_seconds(&self) -> f64 {
        self.earlier_wall_time + self.session.elapsed().as_secs_f64()
    }

    /// Writes the checkpoint (atomically), after flushing the snapshot file: what the
    /// checkpoint's state has seen is on disk.
    pub fn checkpoint(&self) -> Result<(), SimError> {
        if let Some(s) = &self.snapshots {
            s.flush()?;
        }
        let saved = SavedRun {
            format: FORMAT,
            simulation: self.sim.checkpoint_bytes()?,
            measurements: self.measurements.save()?,
            wall_time_seconds: self.wall_time_seconds(),
        };
        let bytes = postcard::to_stdvec(&saved).map_err(|e| SimError::Checkpoint {
            path: self.dir.file(CHECKPOINT),
            message: e.to_string(),
        })?;
        crate::output::write_atomic(&self.dir.file(CHECKPOINT), &bytes)
    }

    /// Writes the manifest and every table as they are now; `completed` in the manifest says
    /// whether the run reached its planned length.
    pub fn write_outputs(&mut self) -> Result<Manifest, SimError> {
        let (tables, quantities) = self.measurements.results()?;
        let manifest = Manifest {
            epm_version: env!("CARGO_PKG_VERSION").into(),
            backend: crate::device::BACKEND.into(),
            adapter: crate::device::describe(self.sim.client()),
            rule: self.sim.rule_name().into(),
            config: self.sim.config().clone(),
            sparse_max_active: self.sim.sparse_max_active(),
            twin_temperature: self.twin_temperature,
            steps: self.sim.step(),
            time: self.sim.time(),
            wall_time_seconds: self.wall_time_seconds(),
            completed: self.remaining() == 0,
            quantities: vec![],
            tables: vec![],
            notes: vec![],
        };
        self.dir.write(manifest, tables, quantities)
    }
}

/// The top-level keys (and `observables.*`, `activation.*`, `propagator.*`) whose values differ,
/// `steps` aside.
pub fn differing_keys(a: &Config, b: &Config) -> Vec<String> {
    let (Ok(a), Ok(b)) = (serde_json::to_value(a), serde_json::to_value(b)) else {
        return vec!["<configuration>".into()];
    };
    let mut out = vec![];
    fn walk(prefix: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
        match (a, b) {
            (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let name = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    match (x.get(k), y.get(k)) {
                        (Some(u), Some(v)) => walk(&name, u, v, out),
                        _ => out.push(name),
                    }
                }
            }
            _ if a != b => out.push(prefix.to_string()),
            _ => {}
        }
    }
    walk("", &a, &b, &mut out);
    out.retain(|k| k != "steps");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differing_keys_are_named_with_their_table() {
        let a = Config::default();
        let mut b = a.clone();
        b.steps = 99;
        assert!(differing_keys(&a, &b).is_empty(), "steps may change");
        b.dt = 0.05;
        b.observables.warm_up = 3;
        assert_eq!(differing_keys(&a, &b), vec!["dt", "observables.warm_up"]);
    }
}

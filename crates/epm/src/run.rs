//! A run: one simulation with its measurements, living in a directory, that can stop at any
//! moment and resume exactly where it was; and an ensemble whose replicas are such runs
//! ([`EnsembleRun`]).
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
use crate::ensemble::Ensemble;
use crate::error::SimError;
use crate::observables::measurements::Measurements;
use crate::observer::Observer;
use crate::output::{Manifest, RunDirectory};
use crate::profile::{ProfileSource, RunOptions};
use crate::simulation::{Checkpoint, Simulation};
use crate::snapshots::{self, Snapshots};
use crate::view::View;

/// The checkpoint's file name in a run directory.
pub const CHECKPOINT: &str = "checkpoint.epm";
/// Run checkpoint format: 2 ends with a digest ([`crate::sealed`]); 1 is still read.
const FORMAT: u32 = 2;

#[derive(Serialize, Deserialize)]
struct SavedRun {
    format: u32,
    simulation: Vec<u8>,
    measurements: Vec<u8>,
    wall_time_seconds: f64,
}

/// What a run keeps beside its simulation: its directory, measurements, snapshots and wall
/// time. A single run has one; an ensemble one per replica.
struct Outputs {
    dir: RunDirectory,
    measurements: Measurements,
    /// Wall time of the earlier sessions of this run.
    earlier_wall_time: f64,
    twin_temperature: Option<f64>,
    snapshots: Option<Snapshots>,
}

impl Outputs {
    /// New outputs in `dir` (created if missing), which must not hold a run already.
    fn create(dir: &Path, view: &View<'_>) -> Result<Self, SimError> {
        refuse_existing(dir)?;
        let dir = RunDirectory::create(dir)?;
        let config = view.config();
        let snapshots = Snapshots::wanted(config)
            .then(|| Snapshots::create(&dir.file(snapshots::FILE), config))
            .transpose()?;
        Ok(Self {
            dir,
            measurements: Measurements::new(view)?,
            earlier_wall_time: 0.0,
            twin_temperature: None,
            snapshots,
        })
    }

    /// The outputs of the run in `dir` whose checkpoint held `saved`, for the lattice `view`.
    fn resume(dir: &Path, saved: &SavedRun, view: &View<'_>) -> Result<Self, SimError> {
        let mut measurements = Measurements::new(view)?;
        measurements.load(&saved.measurements, view.client())?;
        let file = dir.join(snapshots::FILE);
        let config = view.config();
        let snapshots = Snapshots::wanted(config)
            .then(|| Snapshots::resume(&file, config, view.step()))
            .transpose()?;
        Ok(Self {
            dir: RunDirectory::open(dir)?,
            measurements,
            earlier_wall_time: saved.wall_time_seconds,
            twin_temperature: None,
            snapshots,
        })
    }

    fn observers(&mut self) -> Vec<&mut dyn Observer> {
        let mut observers = self.measurements.observers();
        if let Some(s) = &mut self.snapshots {
            observers.push(s);
        }
        observers
    }

    /// Writes the checkpoint (atomically) with the simulation's bytes, after flushing the
    /// snapshot file: what the checkpoint's state has seen is on disk.
    fn checkpoint(&self, simulation: Vec<u8>, session: f64) -> Result<(), SimError> {
        if let Some(s) = &self.snapshots {
            s.flush()?;
        }
        let saved = SavedRun {
            format: FORMAT,
            simulation,
            measurements: self.measurements.save()?,
            wall_time_seconds: self.earlier_wall_time + session,
        };
        let bytes = crate::sealed::encode(&saved).map_err(|message| SimError::Checkpoint {
            path: self.dir.file(CHECKPOINT),
            message,
        })?;
        crate::output::write_atomic(&self.dir.file(CHECKPOINT), &bytes)
    }

    /// Writes the manifest and every table; `completed` in the manifest says whether the run
    /// reached its planned length.
    fn write(
        &mut self,
        view: &View<'_>,
        rule: &str,
        sparse_max_active: u32,
        session: f64,
        notes: Vec<String>,
    ) -> Result<Manifest, SimError> {
        let (tables, quantities) = self.measurements.results()?;
        let config = view.config();
        let manifest = Manifest {
            epm_version: env!("CARGO_PKG_VERSION").into(),
            backend: crate::device::BACKEND.into(),
            adapter: crate::device::describe(view.client()),
            rule: rule.into(),
            config: config.clone(),
            profile: Some(*view.profile()),
            sparse_max_active,
            twin_temperature: self.twin_temperature,
            steps: view.step(),
            time: view.time(),
            wall_time_seconds: self.earlier_wall_time + session,
            completed: view.step() >= config.steps,
            quantities: vec![],
            tables: vec![],
            notes,
        };
        self.dir.write(manifest, tables, quantities)
    }
}

/// A new run may not go where a run is already.
fn refuse_existing(dir: &Path) -> Result<(), SimError> {
    if dir.join(CHECKPOINT).exists() {
        return Err(SimError::InvalidArgument {
            argument: "out",
            value: dir.display().to_string(),
            reason: "holds a run already: resume it (--resume) or choose another directory".into(),
        });
    }
    Ok(())
}

/// The saved run in `dir`'s checkpoint, and the simulation's checkpoint it holds. With
/// `config`, checks that it is the run's configuration; its `steps` may differ (to extend a
/// run), nothing else.
fn read_saved(dir: &Path, config: Option<&Config>) -> Result<(SavedRun, Checkpoint), SimError> {
    let path = dir.join(CHECKPOINT);
    let bytes = std::fs::read(&path).map_err(|e| SimError::io(&path, e))?;
    let bad = |message: String| SimError::Checkpoint {
        path: path.clone(),
        message,
    };
    const WHAT: &str = "a run checkpoint";
    let opened = crate::sealed::open(&bytes, FORMAT..=FORMAT, 1..=1, WHAT).map_err(bad)?;
    let saved: SavedRun = crate::sealed::decode(opened.payload, WHAT).map_err(bad)?;
    let mut checkpoint =
        Simulation::decode_checkpoint(&saved.simulation).map_err(|e| bad(e.to_string()))?;
    if let Some(config) = config {
        let saved_config = &mut checkpoint.config;
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
    Ok((saved, checkpoint))
}

/// The simulation's checkpoint in `dir`, if it holds one ([`Checkpoint::dense_only`] says
/// whether it can go on in an ensemble).
pub fn saved_checkpoint(dir: &Path) -> Result<Option<Checkpoint>, SimError> {
    if !dir.join(CHECKPOINT).exists() {
        return Ok(None);
    }
    let (_, checkpoint) = read_saved(dir, None)?;
    Ok(Some(checkpoint))
}

/// A simulation, its measurements and its directory.
pub struct Run {
    sim: Simulation,
    out: Outputs,
    session: Instant,
    /// Where the simulation's profile came from.
    profile_source: ProfileSource,
}

impl Run {
    /// A new run of `config` in `dir` (created if missing). Refuses a directory that already
    /// holds a checkpoint: resume it, or choose another.
    pub fn start(config: Config, dir: &Path, device: &cubecl::Device) -> Result<Self, SimError> {
        Self::start_with(config, dir, device, &RunOptions::default())
    }

    /// [`Run::start`] with run options: the execution profile and the choices set by hand
    /// ([`RunOptions::resolve`]).
    pub fn start_with(
        config: Config,
        dir: &Path,
        device: &cubecl::Device,
        options: &RunOptions,
    ) -> Result<Self, SimError> {
        config.validate()?;
        // Refused before any device work.
        refuse_existing(dir)?;
        crate::resources::ensure(&config, 1, true, device)?;
        let profile = options.resolve(&device.client(), None)?;
        let state = crate::simulation::State::initial(&config);
        let sim = Simulation::from_state_with_profile(config, None, state, device, Some(profile))?;
        let out = Outputs::create(dir, &sim.view())?;
        Ok(Self {
            sim,
            out,
            session: Instant::now(),
            profile_source: options.source(false),
        })
    }

    /// The run in `dir`, from its checkpoint. With `config`, checks that it is the run's
    /// configuration; its `steps` may differ (to extend a run), nothing else.
    pub fn resume(
        dir: &Path,
        config: Option<&Config>,
        device: &cubecl::Device,
    ) -> Result<Self, SimError> {
        Self::resume_with(dir, config, device, &RunOptions::default())
    }

    /// [`Run::resume`] with run options: without any, the profile the checkpoint records
    /// (for a checkpoint older than profiles, [`crate::Profile::default_for`] the device);
    /// what `options` asks replaces it ([`RunOptions::resolve`]). [`Run::simulation`] says which
    /// profile it runs under.
    pub fn resume_with(
        dir: &Path,
        config: Option<&Config>,
        device: &cubecl::Device,
        options: &RunOptions,
    ) -> Result<Self, SimError> {
        let (saved, mut checkpoint) = read_saved(dir, config)?;
        let profile_source = checkpoint.resolve_profile(device, options)?;
        crate::resources::ensure(&checkpoint.config, 1, true, device)?;
        let sim = Simulation::from_checkpoint(checkpoint, None, device)
            .map_err(|e| e.in_checkpoint(&dir.join(CHECKPOINT)))?;
        let out = Outputs::resume(dir, &saved, &sim.view())?;
        Ok(Self {
            sim,
            out,
            session: Instant::now(),
            profile_source,
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
        self.out.twin_temperature = temperature;
    }

    /// Where the simulation's profile came from: asked for, kept from the checkpoint, or the
    /// default.
    pub fn profile_source(&self) -> ProfileSource {
        self.profile_source
    }

    /// The simulation.
    pub fn simulation(&self) -> &Simulation {
        &self.sim
    }

    /// The directory.
    pub fn directory(&self) -> &RunDirectory {
        &self.out.dir
    }

    /// Steps still to do.
    pub fn remaining(&self) -> u64 {
        self.sim.config().steps.saturating_sub(self.sim.step())
    }

    /// Runs `steps` more steps (at most the remaining ones) with the measurements.
    pub fn advance(&mut self, steps: u64) -> Result<(), SimError> {
        let n = steps.min(self.remaining());
        self.sim.advance(n, &mut self.out.observers())
    }

    /// Wall time of the run so far, all sessions.
    pub fn wall_time_seconds(&self) -> f64 {
        self.out.earlier_wall_time + self.session.elapsed().as_secs_f64()
    }

    /// Writes the checkpoint (atomically), after flushing the snapshot file: what the
    /// checkpoint's state has seen is on disk.
    pub fn checkpoint(&self) -> Result<(), SimError> {
        let session = self.session.elapsed().as_secs_f64();
        self.out.checkpoint(self.sim.checkpoint_bytes()?, session)
    }

    /// Writes the manifest and every table as they are now; `completed` in the manifest says
    /// whether the run reached its planned length.
    pub fn write_outputs(&mut self) -> Result<Manifest, SimError> {
        let session = self.session.elapsed().as_secs_f64();
        let (rule, sparse) = (self.sim.rule_name(), self.sim.sparse_max_active());
        self.out
            .write(&self.sim.view(), rule, sparse, session, vec![])
    }
}

/// An ensemble ([`Ensemble`]) whose replicas are runs, each in its own directory with its own
/// measurements, manifest and tables, as [`Run`] writes them. Each replica's checkpoint is a
/// single run's: [`Run::resume`] continues it alone, [`EnsembleRun::resume`] with the others
/// at its step.
pub struct EnsembleRun {
    ensemble: Ensemble,
    /// The outputs of the replicas still running, in the ensemble's order.
    outs: Vec<Outputs>,
    session: Instant,
    replicas_at_start: usize,
}

impl EnsembleRun {
    /// New runs of `configs` (replicas of one ensemble, [`crate::ensemble::REPLICA_KEYS`]),
    /// replica `r` in `dirs[r]`.
    pub fn start(
        configs: Vec<Config>,
        dirs: &[&Path],
        device: &cubecl::Device,
    ) -> Result<Self, SimError> {
        Self::start_with(configs, dirs, device, &RunOptions::default())
    }

    /// [`EnsembleRun::start`] with run options (an ensemble's sparse limit is always 0).
    pub fn start_with(
        configs: Vec<Config>,
        dirs: &[&Path],
        device: &cubecl::Device,
        options: &RunOptions,
    ) -> Result<Self, SimError> {
        let profile = options
            .resolve(&device.client(), None)?
            .with_sparse_max_active(0);
        Self::check_dirs(configs.len(), dirs)?;
        for dir in dirs {
            refuse_existing(dir)?;
        }
        if let Some(first) = configs.first() {
            crate::resources::ensure(first, configs.len(), true, device)?;
        }
        let states = configs
            .iter()
            .map(crate::simulation::State::initial)
            .collect();
        let ensemble =
            Ensemble::from_states_with_profile(configs, None, states, device, Some(profile))?;
        let outs = dirs
            .iter()
            .enumerate()
            .map(|(r, dir)| Outputs::create(dir, &ensemble.view(r)))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            replicas_at_start: ensemble.replicas(),
            ensemble,
            outs,
            session: Instant::now(),
        })
    }

    /// The runs in `dirs` from their checkpoints, which must be at one step; with `configs`,
    /// each is checked against its run's as [`Run::resume`] does.
    pub fn resume(
        dirs: &[&Path],
        configs: Option<&[Config]>,
        device: &cubecl::Device,
    ) -> Result<Self, SimError> {
        Self::resume_with(dirs, configs, device, &RunOptions::default())
    }

    /// [`EnsembleRun::resume`] with run options replacing what the checkpoints record, as
    /// [`Run::resume_with`] does.
    pub fn resume_with(
        dirs: &[&Path],
        configs: Option<&[Config]>,
        device: &cubecl::Device,
        options: &RunOptions,
    ) -> Result<Self, SimError> {
        let saved = dirs
            .iter()
            .enumerate()
            .map(|(r, dir)| read_saved(dir, configs.map(|c| &c[r])))
            .collect::<Result<Vec<_>, _>>()?;
        let (saved, mut checkpoints): (Vec<SavedRun>, Vec<Checkpoint>) = saved.into_iter().unzip();
        for c in &mut checkpoints {
            c.resolve_profile(device, options)?;
        }
        if let Some(first) = checkpoints.first() {
            crate::resources::ensure(&first.config, checkpoints.len(), true, device)?;
        }
        let ensemble = Ensemble::from_checkpoints(checkpoints, None, device)?;
        let outs = dirs
            .iter()
            .zip(&saved)
            .enumerate()
            .map(|(r, (dir, s))| Outputs::resume(dir, s, &ensemble.view(r)))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            replicas_at_start: ensemble.replicas(),
            ensemble,
            outs,
            session: Instant::now(),
        })
    }

    fn check_dirs(replicas: usize, dirs: &[&Path]) -> Result<(), SimError> {
        if dirs.len() != replicas {
            return Err(SimError::InvalidArgument {
                argument: "dirs",
                value: dirs.len().to_string(),
                reason: format!("one directory per replica, and there are {replicas}"),
            });
        }
        Ok(())
    }

    /// Records replica `r`'s twin temperature ([`Run::set_twin_temperature`]).
    pub fn set_twin_temperature(&mut self, r: usize, temperature: Option<f64>) {
        self.outs[r].twin_temperature = temperature;
    }

    /// The ensemble.
    pub fn ensemble(&self) -> &Ensemble {
        &self.ensemble
    }

    /// Steps still to do by the longest replica (replicas may differ in `steps`).
    pub fn remaining(&self) -> u64 {
        let step = self.ensemble.step();
        (0..self.outs.len())
            .map(|r| self.ensemble.config(r).steps.saturating_sub(step))
            .max()
            .unwrap_or(0)
    }

    /// Runs `steps` more steps (at most up to the next replica's end) of every replica with
    /// its measurements. A replica that reaches its `steps` is finished there: its checkpoint
    /// and outputs are written, and the others go on without it ([`Ensemble::retain`]).
    pub fn advance(&mut self, steps: u64) -> Result<(), SimError> {
        if self.outs.is_empty() {
            return Ok(());
        }
        let step = self.ensemble.step();
        let next_end = (0..self.outs.len())
            .map(|r| self.ensemble.config(r).steps.saturating_sub(step))
            .min()
            .unwrap_or(0);
        let n = steps.min(next_end);
        let mut observers: Vec<Vec<&mut dyn Observer>> =
            self.outs.iter_mut().map(Outputs::observers).collect();
        self.ensemble.advance(n, &mut observers)?;
        let step = self.ensemble.step();
        let done: Vec<bool> = (0..self.outs.len())
            .map(|r| self.ensemble.config(r).steps <= step)
            .collect();
        if !done.contains(&true) {
            return Ok(());
        }
        let session = self.session.elapsed().as_secs_f64();
        for (r, out) in self.outs.iter_mut().enumerate().filter(|(r, _)| done[*r]) {
            out.checkpoint(self.ensemble.replica_checkpoint_bytes(r)?, session)?;
            let note = ensemble_note(self.replicas_at_start);
            let rule = self.ensemble.rule_name(r);
            out.write(&self.ensemble.view(r), rule, 0, session, vec![note])?;
        }
        let keep: Vec<usize> = (0..done.len()).filter(|&r| !done[r]).collect();
        if keep.is_empty() {
            self.outs.clear();
            return Ok(());
        }
        self.ensemble.retain(&keep)?;
        let mut outs = std::mem::take(&mut self.outs);
        let mut r = 0;
        outs.retain(|_| {
            r += 1;
            !done[r - 1]
        });
        self.outs = outs;
        Ok(())
    }

    /// Writes the checkpoint of every replica still running (each atomically).
    pub fn checkpoint(&self) -> Result<(), SimError> {
        let session = self.session.elapsed().as_secs_f64();
        for (r, out) in self.outs.iter().enumerate() {
            out.checkpoint(self.ensemble.replica_checkpoint_bytes(r)?, session)?;
        }
        Ok(())
    }

    /// Writes the manifest and tables of every replica still running (those that finished
    /// wrote theirs); each manifest says it ran in an ensemble.
    pub fn write_outputs(&mut self) -> Result<Vec<Manifest>, SimError> {
        let session = self.session.elapsed().as_secs_f64();
        let mut manifests = vec![];
        for (r, out) in self.outs.iter_mut().enumerate() {
            let note = ensemble_note(self.replicas_at_start);
            let view = self.ensemble.view(r);
            let rule = self.ensemble.rule_name(r);
            manifests.push(out.write(&view, rule, 0, session, vec![note])?);
        }
        Ok(manifests)
    }
}

/// What a replica's manifest says of its ensemble.
fn ensemble_note(replicas: usize) -> String {
    format!(
        "ran as a replica of an ensemble of {replicas} (one launch per kernel for all); the \
         wall time is the ensemble's"
    )
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
    fn a_run_checkpoint_with_two_bytes_flipped_is_refused_naming_the_file() {
        let config = Config {
            l: 8,
            ..Config::default()
        };
        let state = crate::State::initial(&config);
        let saved = SavedRun {
            format: FORMAT,
            simulation: crate::checkpoint::encode(
                &config,
                "Thermal",
                &crate::Profile::cpu(),
                state,
            )
            .unwrap(),
            measurements: vec![7; 300],
            wall_time_seconds: 12.5,
        };
        let dir = std::env::temp_dir().join(format!("epm-run-damaged-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(CHECKPOINT);
        let bytes = crate::sealed::encode(&saved).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        let back = saved_checkpoint(&dir).unwrap().unwrap();
        assert_eq!(back.config, config);
        let mut damaged = bytes.clone();
        let middle = damaged.len() / 2;
        damaged[middle] ^= 0x10;
        damaged[middle + 1] ^= 0x01;
        std::fs::write(&path, &damaged).unwrap();
        let err = saved_checkpoint(&dir).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("damaged or truncated"), "{err}");
        std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
        let err = saved_checkpoint(&dir).unwrap_err().to_string();
        assert!(err.contains("damaged or truncated"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

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

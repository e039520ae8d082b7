//! Snapshots of a run in one HDF5 file, `snapshots.h5` in its directory, as `[output]` asks:
//! every `snapshot_every` steps the stress, the activity, the plastic strain and the tracer
//! positions; every `trajectory_every` steps the tracer positions alone. Datasets are chunked
//! and grow along their first axis as the run goes; the file is flushed at every checkpoint, so
//! an interrupted run loses nothing already written, and a resumed run first drops the rows
//! written after its checkpoint (the run writes them again, identically).
//!
//! Layout, with the unit of each dataset in its attribute `units`:
//! - `snapshots/step` `[n]` (u64), `snapshots/time` `[n]` (`tau`);
//! - `snapshots/stress` `[n, L, L]` (f32, `sigma_Y`), `snapshots/activity` `[n, L, L]` (u8,
//!   0 or 1), `snapshots/plastic_strain` `[n, L, L]` (f32), rows `y`, columns `x`;
//! - `snapshots/tracers` `[n, M, 2]` (f64, `x, y` in lattice spacings, unwrapped);
//! - `trajectories/step`, `trajectories/time`, `trajectories/tracers` alike.
//!
//! The root's attributes hold `L`, `dt`, `seed`, `tracers` and `epm_version`. In Python:
//! `h5py.File("run/snapshots.h5")["trajectories/tracers"][:, i]` is tracer `i`'s path.

use std::path::{Path, PathBuf};

use hdf5_metno as hdf5;
use ndarray::{Array2, Array3, s};

use crate::config::Config;
use crate::error::SimError;
use crate::observer::{Observer, StepInfo};
use crate::view::View;

/// The file's name in a run directory.
pub const FILE: &str = "snapshots.h5";

/// One growing group: its datasets and their row count.
struct Series {
    step: hdf5::Dataset,
    time: hdf5::Dataset,
    tracers: hdf5::Dataset,
    /// `stress`, `activity`, `plastic_strain` (snapshots only).
    fields: Option<[hdf5::Dataset; 3]>,
    rows: usize,
}

/// The `[output]` writer: an [`Observer`] that appends to `snapshots.h5`.
pub struct Snapshots {
    path: PathBuf,
    file: hdf5::File,
    snapshot_every: u64,
    trajectory_every: u64,
    snapshots: Option<Series>,
    trajectories: Option<Series>,
}

fn h5(path: &Path) -> impl Fn(hdf5::Error) -> SimError + '_ {
    move |e| SimError::Snapshot {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

impl Snapshots {
    /// Whether `config` asks for a snapshot file.
    pub fn wanted(config: &Config) -> bool {
        config.output.snapshot_every > 0 || config.output.trajectory_every > 0
    }

    /// A new file at `path` for a run of `config` (replacing any file there).
    pub fn create(path: &Path, config: &Config) -> Result<Self, SimError> {
        let err = h5(path);
        let file = hdf5::File::create(path).map_err(&err)?;
        let (l, m) = (config.l, config.tracer_count());
        let attr = |name: &str, v: f64| -> Result<(), SimError> {
            file.new_attr::<f64>()
                .create(name)
                .and_then(|a| a.write_scalar(&v))
                .map_err(&err)
        };
        attr("L", l as f64)?;
        attr("dt", config.dt)?;
        attr("seed", config.seed as f64)?;
        attr("tracers", m as f64)?;
        let version: hdf5::types::VarLenUnicode = env!("CARGO_PKG_VERSION")
            .parse()
            .expect("a version is valid text");
        file.new_attr::<hdf5::types::VarLenUnicode>()
            .create("epm_version")
            .and_then(|a| a.write_scalar(&version))
            .map_err(&err)?;
        let series = |name: &str, fields: bool| -> Result<Series, SimError> {
            let g = file.create_group(name).map_err(&err)?;
            let growing = |what: &str, unit: &str, row: &[usize], ty: Kind| {
                let mut shape = vec![0usize];
                shape.extend_from_slice(row);
                let mut chunk = vec![1usize];
                chunk.extend_from_slice(row);
                let extents = hdf5::SimpleExtents::resizable(shape);
                let builder = g.new_dataset_builder();
                let d = match ty {
                    Kind::F32 => builder.empty::<f32>(),
                    Kind::F64 => builder.empty::<f64>(),
                    Kind::U64 => builder.empty::<u64>(),
                    Kind::U8 => builder.empty::<u8>(),
                }
                .shape(extents)
                .chunk(if row.is_empty() { vec![1024] } else { chunk })
                .create(what)?;
                let unit: hdf5::types::VarLenUnicode = unit.parse().expect("valid text");
                d.new_attr::<hdf5::types::VarLenUnicode>()
                    .create("units")?
                    .write_scalar(&unit)?;
                Ok::<_, hdf5::Error>(d)
            };
            let make = || -> Result<Series, hdf5::Error> {
                Ok(Series {
                    step: growing("step", "steps", &[], Kind::U64)?,
                    time: growing("time", "tau", &[], Kind::F64)?,
                    tracers: growing("tracers", "lattice spacings", &[m, 2], Kind::F64)?,
                    fields: if fields {
                        Some([
                            growing("stress", "sigma_Y", &[l, l], Kind::F32)?,
                            growing("activity", "1", &[l, l], Kind::U8)?,
                            growing("plastic_strain", "1", &[l, l], Kind::F32)?,
                        ])
                    } else {
                        None
                    },
                    rows: 0,
                })
            };
            make().map_err(&err)
        };
        let o = &config.output;
        Ok(Self {
            snapshots: (o.snapshot_every > 0)
                .then(|| series("snapshots", true))
                .transpose()?,
            trajectories: (o.trajectory_every > 0)
                .then(|| series("trajectories", false))
                .transpose()?,
            snapshot_every: o.snapshot_every,
            trajectory_every: o.trajectory_every,
            path: path.to_path_buf(),
            file,
        })
    }

    /// The file of a resumed run at step `step`: rows written after it are dropped (the run
    /// writes them again). A missing file, or one without a series now asked for, is made anew.
    pub fn resume(path: &Path, config: &Config, step: u64) -> Result<Self, SimError> {
        let err = h5(path);
        if !path.exists() {
            return Self::create(path, config);
        }
        let file = hdf5::File::open_rw(path).map_err(&err)?;
        let open = |name: &str, every: u64, fields: bool| -> Result<Option<Series>, SimError> {
            if every == 0 {
                return Ok(None);
            }
            let g = file.group(name).map_err(&err)?;
            let d = |n: &str| g.dataset(n).map_err(&err);
            let mut series = Series {
                step: d("step")?,
                time: d("time")?,
                tracers: d("tracers")?,
                fields: if fields {
                    Some([d("stress")?, d("activity")?, d("plastic_strain")?])
                } else {
                    None
                },
                rows: 0,
            };
            let steps: Vec<u64> = series.step.read_raw().map_err(&err)?;
            let keep = steps.iter().take_while(|&&s| s <= step).count();
            series.rows = keep;
            series.resize_to_rows().map_err(&err)?;
            Ok(Some(series))
        };
        let o = &config.output;
        let snapshots = open("snapshots", o.snapshot_every, true);
        let trajectories = open("trajectories", o.trajectory_every, false);
        match (snapshots, trajectories) {
            (Ok(snapshots), Ok(trajectories)) => Ok(Self {
                snapshots,
                trajectories,
                snapshot_every: o.snapshot_every,
                trajectory_every: o.trajectory_every,
                path: path.to_path_buf(),
                file,
            }),
            // Written by a run with other [output] settings: begin the file anew.
            _ => {
                drop(file);
                Self::create(path, config)
            }
        }
    }

    /// Writes everything appended so far to disk (called at every checkpoint).
    pub fn flush(&self) -> Result<(), SimError> {
        self.file.flush().map_err(h5(&self.path))
    }
}

#[derive(Clone, Copy)]
enum Kind {
    F32,
    F64,
    U64,
    U8,
}

impl Series {
    /// Every dataset cut or grown to `self.rows` rows.
    fn resize_to_rows(&self) -> Result<(), hdf5::Error> {
        let n = self.rows;
        self.step.resize([n])?;
        self.time.resize([n])?;
        let t = self.tracers.shape();
        self.tracers.resize([n, t[1], t[2]])?;
        if let Some(fields) = &self.fields {
            for f in fields {
                let s = f.shape();
                f.resize([n, s[1], s[2]])?;
            }
        }
        Ok(())
    }

    /// One more row: the step, its time, the tracer positions and, for snapshots, the fields.
    fn append(&mut self, sim: &View<'_>, step: u64, path: &Path) -> Result<(), SimError> {
        let n = self.rows;
        self.rows += 1;
        // A snapshot reads the whole state back, tracers included; a trajectory only them.
        let fields = match &self.fields {
            Some(_) => Some(sim.state()?),
            None => None,
        };
        let positions = match &fields {
            Some(state) => state.tracers.clone(),
            None => sim.tracer_positions()?,
        };
        let m = positions.len();
        let mut tracers = Array2::<f64>::zeros((m, 2));
        for i in 0..m {
            let (x, y) = positions.position(i);
            tracers[[i, 0]] = x;
            tracers[[i, 1]] = y;
        }
        let write = || -> Result<(), hdf5::Error> {
            self.resize_to_rows()?;
            self.step.write_slice(&[step], s![n..n + 1])?;
            self.time
                .write_slice(&[step as f64 * sim.config().dt], s![n..n + 1])?;
            self.tracers
                .write_slice(&tracers.insert_axis(ndarray::Axis(0)), s![n..n + 1, .., ..])?;
            if let (Some([stress, activity, plastic]), Some(state)) = (&self.fields, &fields) {
                let l = sim.config().l;
                let grid = |v: Vec<f32>| Array3::from_shape_vec((1, l, l), v).expect("L x L");
                stress.write_slice(&grid(state.stress.clone()), s![n..n + 1, .., ..])?;
                let active: Vec<u8> = state.active.iter().map(|&a| a as u8).collect();
                let active = Array3::from_shape_vec((1, l, l), active).expect("L x L");
                activity.write_slice(&active, s![n..n + 1, .., ..])?;
                let unit = sim.config().plastic_strain_unit();
                let eps: Vec<f32> = state
                    .plastic
                    .iter()
                    .map(|&k| (k as f64 * unit) as f32)
                    .collect();
                plastic.write_slice(&grid(eps), s![n..n + 1, .., ..])?;
            }
            Ok(())
        };
        write().map_err(h5(path))
    }
}

impl Observer for Snapshots {
    fn name(&self) -> &str {
        "snapshots"
    }

    /// The records' steps: the greatest common divisor of the two periods in use.
    fn every(&self) -> u64 {
        let periods = [
            (self.snapshots.is_some(), self.snapshot_every),
            (self.trajectories.is_some(), self.trajectory_every),
        ];
        periods
            .into_iter()
            .filter(|&(on, every)| on && every > 0)
            .map(|(_, every)| every)
            .reduce(|mut a, mut b| {
                while b > 0 {
                    (a, b) = (b, a % b);
                }
                a
            })
            .unwrap_or(u64::MAX)
    }

    fn on_step(&mut self, sim: &View<'_>, info: &StepInfo) -> Result<(), SimError> {
        let step = info.step;
        if let Some(s) = &mut self.snapshots
            && step.is_multiple_of(self.snapshot_every)
        {
            s.append(sim, step, &self.path)?;
        }
        if let Some(t) = &mut self.trajectories
            && step.is_multiple_of(self.trajectory_every)
        {
            t.append(sim, step, &self.path)?;
        }
        Ok(())
    }
}

/// The tracer trajectories of a snapshot file.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectories {
    /// The steps of the records.
    pub steps: Vec<u64>,
    /// Per record, the `M` positions `(x, y)` (lattice spacings, unwrapped).
    pub positions: Vec<Vec<(f64, f64)>>,
}

/// Reads `trajectories/` of a snapshot file.
pub fn read_trajectories(path: &Path) -> Result<Trajectories, SimError> {
    let err = h5(path);
    let file = hdf5::File::open(path).map_err(&err)?;
    let g = file.group("trajectories").map_err(&err)?;
    let steps: Vec<u64> = g.dataset("step").and_then(|d| d.read_raw()).map_err(&err)?;
    let tracers = g.dataset("tracers").map_err(&err)?;
    let m = tracers.shape()[1];
    let flat: Vec<f64> = tracers.read_raw().map_err(&err)?;
    let positions = flat
        .chunks_exact(2 * m.max(1))
        .map(|row| row.chunks_exact(2).map(|p| (p[0], p[1])).collect())
        .collect();
    Ok(Trajectories { steps, positions })
}

//! What an observer sees: one lattice at the end of a step, either a single run
//! ([`crate::Simulation`]) or one replica of an ensemble ([`crate::Ensemble`]). Read-only:
//! every accessor hands out a tensor (or host data) of that lattice alone.

use burn::backend::{Dispatch, DispatchTensor};
use burn::tensor::{Device as BurnDevice, Int, Tensor};
use cubecl::prelude::*;

use crate::backend::ModelFields;
use crate::config::Config;
use crate::error::SimError;
use crate::profile::Profile;
use crate::simulation::State;
use crate::tracers::TracerPositions;

/// One lattice's fields and counters, borrowed from its run or ensemble.
pub struct View<'a> {
    pub(crate) config: &'a Config,
    pub(crate) device: &'a BurnDevice,
    pub(crate) client: &'a Client,
    pub(crate) profile: &'a Profile,
    pub(crate) fields: &'a ModelFields<Dispatch>,
    /// Which replica of the fields (0 for a single run).
    pub(crate) replica: usize,
    /// Tracers of this lattice (the buffers hold at least one per replica).
    pub(crate) tracers: usize,
    pub(crate) step: u64,
    pub(crate) window_active: u32,
}

impl View<'_> {
    /// The configuration of the run (of this replica).
    pub fn config(&self) -> &Config {
        self.config
    }

    /// Which replica of its ensemble this lattice is (0 for a single run).
    pub fn replica(&self) -> usize {
        self.replica
    }

    /// Steps completed.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Time `step * dt`, in units of `tau`.
    pub fn time(&self) -> f64 {
        self.step as f64 * self.config.dt
    }

    /// Number of tracers.
    pub fn tracer_count(&self) -> usize {
        self.tracers
    }

    /// The Burn device the fields live on.
    pub fn device(&self) -> &BurnDevice {
        self.device
    }

    /// The CubeCL client of the fields (for observers' own kernels).
    pub fn client(&self) -> &Client {
        self.client
    }

    /// The run's execution profile (for observers' own kernels: sites per unit and the like).
    pub fn profile(&self) -> &Profile {
        self.profile
    }

    /// This lattice's part of a per-site (or per-tracer, `width` words each) field: the whole
    /// tensor when it holds this lattice alone, else a slice.
    fn part(&self, t: &DispatchTensor, per_replica: usize) -> DispatchTensor {
        let whole = Tensor::<1>::from_dispatch(t.clone());
        if whole.dims()[0] == per_replica {
            return t.clone();
        }
        let start = self.replica * per_replica;
        whole.slice(start..start + per_replica).into_dispatch()
    }

    fn part_int(&self, t: &DispatchTensor, per_replica: usize) -> Tensor<1, Int> {
        let whole = Tensor::<1, Int>::from_dispatch(t.clone());
        if whole.dims()[0] == per_replica {
            return whole;
        }
        let start = self.replica * per_replica;
        whole.slice(start..start + per_replica)
    }

    fn sites(&self) -> usize {
        self.config.sites()
    }

    /// The stress field `sigma`, `[L, L]` (row `y`, column `x`).
    pub fn stress(&self) -> Tensor<2> {
        let (l, n) = (self.config.l, self.sites());
        Tensor::<1>::from_dispatch(self.part(&self.fields.stress, n)).reshape([l, l])
    }

    /// The activity `n` (0 or 1), `[L, L]`.
    pub fn activity(&self) -> Tensor<2, Int> {
        let (l, n) = (self.config.l, self.sites());
        self.part_int(&self.fields.active, n).reshape([l, l])
    }

    /// The signs of the thresholds of the last activations, `[L, L]`.
    pub fn sign(&self) -> Tensor<2> {
        let (l, n) = (self.config.l, self.sites());
        Tensor::<1>::from_dispatch(self.part(&self.fields.sign, n)).reshape([l, l])
    }

    /// The accumulated plastic strain `eps_p`, `[L, L]`.
    pub fn plastic_strain(&self) -> Tensor<2> {
        let (l, n) = (self.config.l, self.sites());
        let count = self.part_int(&self.fields.plastic, n);
        (count.float() * self.config.plastic_strain_unit()).reshape([l, l])
    }

    /// The plastic strain rate of the last step, `[L, L]`.
    pub fn strain_rate(&self) -> Tensor<2> {
        let (l, n) = (self.config.l, self.sites());
        Tensor::<1>::from_dispatch(self.part(&self.fields.strain_rate, n)).reshape([l, l])
    }

    /// Tracer cells `[M, 2]` and fractions `[M, 4]` (`u32` words: x high, x low, y high,
    /// y low) on the device; see [`crate::tracers`] for the fixed-point format.
    pub fn tracer_tensors(&self) -> (Tensor<2, Int>, Tensor<2, Int>) {
        let m = self.tracers.max(1);
        let f = self.fields;
        (
            self.part_int(&f.tracer_cells, 2 * m).reshape([m, 2]),
            self.part_int(&f.tracer_fractions, 4 * m).reshape([m, 4]),
        )
    }

    /// Tracer positions (unwrapped), read back from the device: only the tracers' buffers.
    pub fn tracer_positions(&self) -> Result<TracerPositions, SimError> {
        let m = self.tracers.max(1);
        let f = self.fields;
        let mut cells = read_i32(self.part_int(&f.tracer_cells, 2 * m))?;
        let mut words: Vec<u32> = read_i32(self.part_int(&f.tracer_fractions, 4 * m))?
            .into_iter()
            .map(|x| x as u32)
            .collect();
        cells.truncate(2 * self.tracers);
        words.truncate(4 * self.tracers);
        Ok(TracerPositions::from_words(cells, &words))
    }

    /// The whole state of this lattice, read back from the device.
    pub fn state(&self) -> Result<State, SimError> {
        let f = self.fields;
        let n = self.sites();
        let float = |t: &DispatchTensor| read_f32(Tensor::<1>::from_dispatch(self.part(t, n)));
        let bits = |v: Vec<i32>| v.into_iter().map(|x| x as u32).collect::<Vec<_>>();
        Ok(State {
            step: self.step,
            stress: float(&f.stress)?,
            initial_stress: float(&f.initial_stress)?,
            active: bits(read_i32(self.part_int(&f.active, n))?),
            sign: float(&f.sign)?,
            plastic: read_i32(self.part_int(&f.plastic, n))?,
            tracers: self.tracer_positions()?,
            window_active: self.window_active,
        })
    }
}

pub(crate) fn read_f32(t: Tensor<1>) -> Result<Vec<f32>, SimError> {
    t.try_into_data()
        .map_err(|e| SimError::Device(format!("{e:?}")))?
        .try_into_vec::<f32>()
        .map_err(|e| SimError::Device(format!("{e:?}")))
}

pub(crate) fn read_i32(t: Tensor<1, Int>) -> Result<Vec<i32>, SimError> {
    t.try_into_data()
        .map_err(|e| SimError::Device(format!("{e:?}")))?
        .try_into_vec::<i32>()
        .map_err(|e| SimError::Device(format!("{e:?}")))
}

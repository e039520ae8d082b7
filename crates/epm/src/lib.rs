//! `epm`: thermally activated elastoplastic models of amorphous solids on any GPU
//! (Ferrero, Martens & Barrat, PRL 112, 248301, 2014).
//!
//! Where things are:
//! - [`activation`]: the activation rule (paper Eq. 2) and the [`Activation`] trait;
//! - [`propagator`]: the Eshelby propagator `G(q)`, the displacement kernel `U(q)` and the
//!   stress update;
//! - [`tracers`]: tracer positions and their advection;
//! - [`sparse`]: the same stress update and advection in real space, for steps with few
//!   active sites;
//! - [`Simulation`]: one step, in order (model notes, section 1), and the run of many;
//! - [`State`] and [`Checkpoint`]: what a run needs to go on, and its file;
//! - [`launch`]: the step's kernel launches, written once;
//! - [`profile`]: every choice that changes only speed (GPU or CPU adapter), made once;
//! - [`observables`]: what the paper measures, computed while the simulation runs;
//! - [`config`], [`run`], [`output`], [`analysis`], [`fit`]: a run from its TOML file to its
//!   tables, manifest and fits.
//!
//! The backend is a cargo feature, forwarded to every crate: `wgpu` (default), `vulkan`,
//! `metal`, `cuda`. The 2D FFT every step stands on is [`fft`] (the `epm-fft` crate).

pub use cubecl;
pub use epm_fft as fft;
/// Devices: the backend this build uses and the adapter it finds.
pub use epm_fft::device;

// The device tests are written as a user would (`epm::...`), inside the crate so that the CPU
// twins of the kernels can stay test-only.
#[cfg(test)]
extern crate self as epm;

pub mod activation;
pub mod analysis;
mod backend;
mod checkpoint;
pub mod config;
mod count_ring;
#[cfg(test)]
mod device_tests;
mod driver;
pub mod ensemble;
mod error;
pub mod fit;
pub mod launch;
#[cfg(test)]
mod malformed;
pub mod observables;
mod observer;
pub mod output;
mod pacing;
pub mod profile;
pub mod propagator;
#[cfg(test)]
mod reference;
pub mod resources;
pub mod rng;
pub mod run;
mod sealed;
mod simulation;
pub mod snapshots;
pub mod sparse;
pub mod tracers;
mod view;
pub mod whole_step;

pub use activation::{Activation, ActivationRule, Random, Thermal};
pub use backend::StepTraffic;
pub use checkpoint::{Checkpoint, State};
pub use config::{ActivationConfig, Config, ConfigError};
pub use ensemble::Ensemble;
pub use error::SimError;
pub use observer::{Observer, StepInfo};
pub use profile::{Profile, ProfileChoice, ProfileName, ProfileSource, RunOptions};
pub use simulation::Simulation;
pub use view::View;

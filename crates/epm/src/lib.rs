//! `epm`: thermally activated elastoplastic models of amorphous solids on any GPU
//! (Ferrero, Martens & Barrat, PRL 112, 248301, 2014).
//!
//! Where things are:
//! - [`activation`]: the activation rule (paper Eq. 2) and the [`Activation`] trait;
//! - [`propagator`]: the Eshelby propagator `G(q)`, the displacement kernel `U(q)` and the
//!   stress update;
//! - [`tracers`]: tracer positions and their advection;
//! - [`simulation`]: one step, in order, and the [`Simulation`] that runs them;
//! - [`backend`]: how the kernels reach Burn's tensors;
//! - [`reference`]: the whole step on the CPU, the reference the device is tested against.
//!
//! The backend is a cargo feature, forwarded to every crate: `wgpu` (default), `vulkan`,
//! `metal`, `cuda`. The 2D FFT every step stands on is [`fft`] (the `epm-fft` crate).

pub use cubecl;
pub use epm_fft as fft;

pub mod activation;
pub mod analysis;
pub mod backend;
pub mod config;
pub mod error;
pub mod fit;
pub mod launch;
pub mod observables;
pub mod observer;
pub mod output;
pub mod propagator;
pub mod reference;
pub mod rng;
pub mod run;
pub mod simulation;
pub mod tracers;

pub use activation::{Activation, ActivationRule, Random, Thermal};
pub use config::{ActivationConfig, Config, ConfigError};
pub use error::SimError;
pub use observer::{Observer, StepInfo};
pub use simulation::{Simulation, State};

/// Devices: the backend this build uses and the adapter it finds.
pub mod device {
    pub use epm_fft::device::{BACKEND, default_device, describe, is_cpu_adapter};
}

/// Writes `bytes` to `path` atomically: to a temporary file beside it, flushed to disk, then
/// renamed over `path`. A crash leaves either the old file or the new one, never half of one.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<(), SimError> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    };
    write().map_err(|e| SimError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| SimError::io(path, e))
}

//! `epm`: thermally activated elastoplastic models of amorphous solids on any GPU
//! (Ferrero, Martens & Barrat, PRL 2014).
//!
//! The backend is a cargo feature, forwarded to every crate: `wgpu` (default), `vulkan`,
//! `metal`, `cuda`. The 2D FFT every step stands on is [`fft`] (the `epm-fft` crate).

pub use epm_fft as fft;

pub mod config;
pub mod propagator;
pub mod rng;

/// Devices: the backend this build uses and the adapter it finds.
pub mod device {
    pub use epm_fft::device::{BACKEND, default_device, describe, is_cpu_adapter};
}

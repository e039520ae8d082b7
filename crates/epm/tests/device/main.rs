//! The model's kernels and the whole simulation on the device of the build (lavapipe in CI),
//! against their CPU references, closed forms and statistics. One test binary: one link.

mod activation;
mod checkpoint;
mod observables;
mod propagator;
mod rng;
mod simulation;
mod tracers;

use std::sync::OnceLock;

use cubecl::prelude::*;

/// The device of the build, opened once.
pub fn device() -> cubecl::Device {
    static DEVICE: OnceLock<cubecl::Device> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let device = epm::device::default_device()
                .expect("no device: on Linux install mesa-vulkan-drivers (see README)");
            eprintln!("{}", epm::device::describe(&device.client()));
            device
        })
        .clone()
}

/// Its client.
pub fn client() -> Client {
    device().client()
}

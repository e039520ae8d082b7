//! The model's kernels and the whole simulation on the device of the build (lavapipe in CI),
//! against their CPU twins (compiled for tests only), closed forms and statistics. Written as
//! a user would (`epm::...` paths), but inside the crate so that the twins need not be public.

mod activation;
mod checkpoint;
mod ensemble;
mod observables;
mod propagator;
mod rng;
mod simulation;
mod snapshots;
mod sparse;
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

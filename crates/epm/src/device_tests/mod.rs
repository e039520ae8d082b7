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

/// An observer collecting the per-step active-site counts it is handed, checking that every
/// step arrives once, in order.
#[derive(Default)]
pub struct Counts {
    next: u64,
    pub counts: Vec<u32>,
}

impl epm::Observer for Counts {
    fn name(&self) -> &str {
        "counts"
    }
    fn on_activity(
        &mut self,
        first: u64,
        active: &[u32],
        _sites: usize,
    ) -> Result<(), epm::SimError> {
        assert_eq!(first, self.next, "every step once, in order");
        self.next += active.len() as u64;
        self.counts.extend_from_slice(active);
        Ok(())
    }
}

//! The model's kernels and the whole simulation on the device of the build (lavapipe in CI),
//! against their CPU twins (compiled for tests only), closed forms and statistics. Written as
//! a user would (`epm::...` paths), but inside the crate so that the twins need not be public.

mod activation;
mod checkpoint;
mod ensemble;
mod observables;
mod profile;
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
            let client = device.client();
            eprintln!("{}", epm::device::describe(&client));
            let profile =
                epm::Profile::default_for(&client).expect("EPM_PROFILE is auto, gpu or cpu");
            eprintln!("execution profile {profile}");
            device
        })
        .clone()
}

/// Its client.
pub fn client() -> Client {
    device().client()
}

/// The execution profile these tests run under: `EPM_PROFILE` (CI runs them under `cpu` and
/// under `gpu`), else the adapter's.
pub fn profile() -> epm::Profile {
    epm::Profile::default_for(&client()).expect("EPM_PROFILE is auto, gpu or cpu")
}

/// A run of `config` from its start under the tests' profile with `options` set by hand.
pub fn simulation(config: &epm::Config, options: epm::RunOptions) -> epm::Simulation {
    from_state(config, &epm::State::initial(config), options)
}

/// [`simulation`] from `state`.
pub fn from_state(
    config: &epm::Config,
    state: &epm::State,
    options: epm::RunOptions,
) -> epm::Simulation {
    let profile = Some(options.apply(profile()));
    epm::Simulation::from_state_with_profile(
        config.clone(),
        None,
        state.clone(),
        &device(),
        profile,
    )
    .unwrap()
}

/// An ensemble of `configs` from their starts under the tests' profile with `options` set by
/// hand (an ensemble's sparse limit is 0 whatever they say).
pub fn ensemble(configs: &[epm::Config], options: epm::RunOptions) -> epm::Ensemble {
    let profile = Some(options.apply(profile()).with_sparse_max_active(0));
    let states = configs.iter().map(epm::State::initial).collect();
    epm::Ensemble::from_states_with_profile(configs.to_vec(), None, states, &device(), profile)
        .unwrap()
}

/// Run options that set only the sparse limit (`0`: the transforms at every step).
pub fn sparse(limit: u32) -> epm::RunOptions {
    epm::RunOptions::sparse_max_active(limit)
}

/// Run options with the transforms at every step and whole steps on or off.
pub fn dense_whole(whole: bool) -> epm::RunOptions {
    epm::RunOptions {
        whole_steps: Some(whole),
        ..sparse(0)
    }
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

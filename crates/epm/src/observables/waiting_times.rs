//! `Psi(tau_ev)`: the distribution of the times between two consecutive activations of the
//! same site (paper, Fig. 3b): a power law `(a tau)^(-2/3)` with an exponential cut-off in the
//! thermal model, exponential in the random one. Log-binned (see [`super::log_histogram`]),
//! normalised to 1 over the bins. A site's first activation has no predecessor and is not
//! counted.

use cubecl::prelude::*;
use cubecl::server::Handle;
use epm_fft::buffer;

use super::log_histogram::{EXTRA, LANES, LogBins, fold_lanes, log_slot};
use super::{Measurement, Quantity, Table, int_buffer};
use crate::error::SimError;
use crate::observer::{Observer, StepInfo};
use crate::view::View;

/// Marks a site that has not activated yet.
pub const NEVER: u32 = u32::MAX;

/// Per site: an activation (`active` now, not at the last call) after an earlier one adds
/// the elapsed time to the histogram and remembers the step. `previous` holds the activity
/// at the last call, `last` the step of the last activation.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub fn waiting_times(
    active: &[u32],
    previous: &mut [u32],
    last: &mut [u32],
    counts: &[Atomic<u32>],
    step: u32,
    min: f32,
    scale: f32,
    dt: f32,
    #[comptime] sites: usize,
    #[comptime] per_unit: usize,
    #[comptime] bins: usize,
) {
    let unit = ABSOLUTE_POS;
    let stride = comptime![sites / per_unit];
    if unit >= stride {
        terminate!();
    }
    #[unroll]
    for j in 0..per_unit {
        let s = unit + j * stride;
        let a = active[s];
        if a != previous[s] {
            previous[s] = a;
            if a == 1u32 {
                let before = last[s];
                if before != comptime![NEVER] {
                    let tau = f32::cast_from(step - before) * dt;
                    let slot = log_slot(tau, min, scale, bins);
                    let lane = (s % comptime![LANES]) * comptime![bins + EXTRA];
                    counts[lane + slot as usize].fetch_add(1u32);
                }
                last[s] = step;
            }
        }
    }
}

/// CPU twin of [`waiting_times`] for one site, for tests: the waiting times of a sequence
/// of activities (one per step), in steps.
#[cfg(test)]
pub fn waiting_times_cpu(activity: &[u32]) -> Vec<u64> {
    let (mut previous, mut last, mut out) = (0u32, None::<u64>, vec![]);
    for (step, &a) in activity.iter().enumerate() {
        if a == 1 && previous == 0 {
            if let Some(l) = last {
                out.push(step as u64 - l);
            }
            last = Some(step as u64);
        }
        previous = a;
    }
    out
}

/// Options of [`WaitingTimes`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitingTimeOptions {
    /// Steps before the first recorded activation.
    pub warm_up: u64,
    /// The bins of `tau_ev` (units of `tau`).
    pub bins: LogBins,
}

impl Default for WaitingTimeOptions {
    fn default() -> Self {
        Self {
            warm_up: 0,
            bins: LogBins {
                min: 0.1,
                per_decade: 10,
                decades: 8,
            },
        }
    }
}

/// The `Psi(tau_ev)` observer.
pub struct WaitingTimes {
    options: WaitingTimeOptions,
    dt: f64,
    client: Option<Client>,
    previous: Option<Handle>,
    last: Option<Handle>,
    counts: Option<Handle>,
    sites: usize,
    per_unit: usize,
    /// `previous` is all zeros: a step without events has nothing to add.
    quiet: bool,
}

impl WaitingTimes {
    /// A `Psi(tau_ev)` observer for a run with time step `dt`.
    pub fn new(options: WaitingTimeOptions, dt: f64) -> Self {
        Self {
            options,
            dt,
            client: None,
            previous: None,
            last: None,
            counts: None,
            sites: 0,
            per_unit: 1,
            quiet: false,
        }
    }

    fn counts(&self) -> Result<Vec<u64>, SimError> {
        let slots = self.options.bins.slots();
        match (&self.client, &self.counts) {
            (Some(client), Some(counts)) => {
                let bytes = client
                    .read_one(counts.clone())
                    .map_err(|e| SimError::Device(format!("{e:?}")))?;
                Ok(fold_lanes(u32::from_bytes(&bytes), slots))
            }
            _ => Ok(vec![0; slots]),
        }
    }
}

/// What [`WaitingTimes`] saves.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedWaitingTimes {
    device: Option<(Vec<u32>, Vec<u32>, Vec<u32>)>,
    sites: usize,
    per_unit: usize,
    quiet: bool,
}

impl super::Persist for WaitingTimes {
    fn save(&self) -> Result<Vec<u8>, SimError> {
        let device = match (&self.client, &self.previous, &self.last, &self.counts) {
            (Some(client), Some(previous), Some(last), Some(counts)) => Some((
                super::download::<u32>(client, previous)?,
                super::download::<u32>(client, last)?,
                super::download::<u32>(client, counts)?,
            )),
            _ => None,
        };
        super::encode(&SavedWaitingTimes {
            device,
            sites: self.sites,
            per_unit: self.per_unit,
            quiet: self.quiet,
        })
    }

    fn load(&mut self, bytes: &[u8], client: &Client) -> Result<(), SimError> {
        let s: SavedWaitingTimes = super::decode(bytes)?;
        if let Some((previous, last, counts)) = s.device {
            self.previous = Some(client.create_from_slice(u32::as_bytes(&previous)));
            self.last = Some(client.create_from_slice(u32::as_bytes(&last)));
            self.counts = Some(client.create_from_slice(u32::as_bytes(&counts)));
            self.client = Some(client.clone());
        }
        self.sites = s.sites;
        self.per_unit = s.per_unit;
        self.quiet = s.quiet;
        Ok(())
    }
}

impl Observer for WaitingTimes {
    fn name(&self) -> &str {
        "waiting times"
    }

    /// Nothing is recorded in the warm-up.
    fn first_look(&self) -> u64 {
        self.options.warm_up
    }

    fn on_step(&mut self, sim: &View<'_>, info: &StepInfo) -> Result<(), SimError> {
        if info.step < self.options.warm_up {
            return Ok(());
        }
        if self.client.is_none() {
            let client = sim.client().clone();
            let sites = sim.config().sites();
            self.sites = sites;
            self.per_unit = sim.profile().sites_per_unit(sites);
            self.previous = Some(client.create_from_slice(u32::as_bytes(&vec![0; sites])));
            self.last = Some(client.create_from_slice(u32::as_bytes(&vec![NEVER; sites])));
            self.counts = Some(client.create_from_slice(u32::as_bytes(&vec![
                    0;
                    LANES
                        * self.options.bins.slots()
                ])));
            // Sites already active now are not activations: start from the current activity.
            let active = int_buffer(sim.activity())?;
            let dim = CubeDim::new_1d(256);
            super::tracer_dynamics::copy_words::launch(
                &client,
                cubecl::calculate_cube_count_elemwise(&client, sites, dim),
                dim,
                buffer::arg::<u32>(&active, sites),
                buffer::arg::<u32>(self.previous.as_ref().expect("set"), sites),
                0,
                0,
                sites,
            );
            self.client = Some(client);
            return Ok(());
        }
        if !info.moved && self.quiet {
            return Ok(());
        }
        let client = self.client.as_ref().expect("set above");
        let active = int_buffer(sim.activity())?;
        let b = self.options.bins;
        let units = self.sites / self.per_unit;
        let dim = CubeDim::new_1d(256);
        waiting_times::launch(
            client,
            cubecl::calculate_cube_count_elemwise(client, units, dim),
            dim,
            buffer::arg::<u32>(&active, self.sites),
            buffer::arg::<u32>(self.previous.as_ref().expect("set"), self.sites),
            buffer::arg::<u32>(self.last.as_ref().expect("set"), self.sites),
            buffer::arg::<u32>(self.counts.as_ref().expect("set"), LANES * b.slots()),
            // The activation happened in the step just finished.
            (info.step - 1) as u32,
            b.min as f32,
            (b.per_decade as f64 / std::f64::consts::LN_10) as f32,
            self.dt as f32,
            self.sites,
            self.per_unit,
            b.bins(),
        );
        // After a step without events every site is inactive, and so is `previous` now.
        self.quiet = !info.moved;
        Ok(())
    }
}

impl Measurement for WaitingTimes {
    fn tables(&mut self) -> Result<Vec<Table>, SimError> {
        let counts = self.counts()?;
        Ok(vec![self.options.bins.table(
            "waiting_times",
            "Psi(tau_ev): times between consecutive activations of the same site, log-binned, normalised over the bins",
            ("tau_ev", "tau"),
            &counts,
        )])
    }

    fn summary(&mut self) -> Result<Vec<Quantity>, SimError> {
        let counts = self.counts()?;
        let total: u64 = counts.iter().sum();
        let bins = self.options.bins.bins();
        Ok(vec![
            Quantity::new("waiting_times_counted", total as f64, None, "1"),
            Quantity::new(
                "waiting_times_outside_bins",
                (counts[bins + 1] + counts[bins + 2]) as f64 / total.max(1) as f64,
                None,
                "1",
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn waiting_times_are_between_activations() {
        let a = [0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 1];
        assert_eq!(super::waiting_times_cpu(&a), vec![4, 2, 6]);
    }
}

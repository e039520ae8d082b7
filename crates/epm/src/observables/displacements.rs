//! `P(u)`: the distribution of the tracers' displacements per unit time (paper, Fig. 3a),
//! `u = |r(t + w) - r(t)| / w` over windows of `w = window dt`, log-binned (see
//! [`super::log_histogram`]) and normalised to 1 over the bins. Windows without any motion
//! give `u = 0`; they are counted apart (`zero_fraction`).

use cubecl::prelude::*;
use cubecl::server::Handle;
use epm_fft::buffer;

use super::log_histogram::{EXTRA, LANES, LogBins, fold_lanes, log_slot};
use super::{Measurement, Quantity, Table, int_buffer};
use crate::error::SimError;
use crate::observer::{Observer, StepInfo};
use crate::view::View;

/// Per tracer: `u` since the previous window's end (`previous`: cell x, cell y, high x,
/// high y), into the log histogram; then the current position becomes `previous`.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub fn displacement_histogram(
    cells: &[i32],
    fractions: &[u32],
    previous: &mut [u32],
    counts: &[Atomic<u32>],
    min: f32,
    scale: f32,
    inverse_window: f32,
    #[comptime] tracers: usize,
    #[comptime] bins: usize,
) {
    let t = ABSOLUTE_POS;
    if t >= tracers {
        terminate!();
    }
    let (cx, cy) = (cells[2 * t], cells[2 * t + 1]);
    let (hx, hy) = (fractions[4 * t], fractions[4 * t + 2]);
    let (px, py) = (
        i32::cast_from(previous[4 * t]),
        i32::cast_from(previous[4 * t + 1]),
    );
    let (qx, qy) = (previous[4 * t + 2], previous[4 * t + 3]);
    let unit = comptime![1.0f32 / 4_294_967_296.0];
    let dx = f32::cast_from(cx - px - select(hx < qx, 1i32, 0i32)) + f32::cast_from(hx - qx) * unit;
    let dy = f32::cast_from(cy - py - select(hy < qy, 1i32, 0i32)) + f32::cast_from(hy - qy) * unit;
    let u = f32::sqrt(dx * dx + dy * dy) * inverse_window;
    let slot = log_slot(u, min, scale, bins);
    let lane = (t % comptime![LANES]) * comptime![bins + EXTRA];
    counts[lane + slot as usize].fetch_add(1u32);
    previous[4 * t] = u32::cast_from(cx);
    previous[4 * t + 1] = u32::cast_from(cy);
    previous[4 * t + 2] = hx;
    previous[4 * t + 3] = hy;
}

/// Options of [`Displacements`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DisplacementOptions {
    /// Steps before the first window starts.
    pub warm_up: u64,
    /// Window length in steps.
    pub window: u64,
    /// The bins of `u` (lattice spacings per `tau`).
    pub bins: LogBins,
}

impl Default for DisplacementOptions {
    fn default() -> Self {
        Self {
            warm_up: 0,
            window: 1,
            bins: LogBins {
                min: 1e-7,
                per_decade: 10,
                decades: 10,
            },
        }
    }
}

/// The `P(u)` observer.
pub struct Displacements {
    options: DisplacementOptions,
    dt: f64,
    client: Option<Client>,
    previous: Option<Handle>,
    counts: Option<Handle>,
    tracers: usize,
    histogram: Vec<u64>,
    /// Zeros counted on the host (windows in which nothing moved).
    host_zeros: u64,
    moved_in_window: bool,
}

impl Displacements {
    /// A `P(u)` observer for a run with time step `dt`.
    pub fn new(options: DisplacementOptions, dt: f64) -> Self {
        Self {
            histogram: vec![0; options.bins.slots()],
            options,
            dt,
            client: None,
            previous: None,
            counts: None,
            tracers: 0,
            host_zeros: 0,
            moved_in_window: false,
        }
    }

    /// Records the positions after `step` steps; `moved`: whether anything moved since the
    /// last call.
    pub fn record(
        &mut self,
        client: &Client,
        cells: &Handle,
        fractions: &Handle,
        tracers: usize,
        step: u64,
        moved: bool,
    ) -> Result<(), SimError> {
        let o = self.options;
        if step < o.warm_up || tracers == 0 {
            return Ok(());
        }
        self.moved_in_window |= moved;
        let first = self.previous.is_none();
        if first {
            self.client = Some(client.clone());
            self.tracers = tracers;
            self.previous = Some(client.create_from_slice(u32::as_bytes(&vec![0; 4 * tracers])));
            self.counts =
                Some(client.create_from_slice(u32::as_bytes(&vec![0; LANES * o.bins.slots()])));
        }
        if !first && !(step - o.warm_up).is_multiple_of(o.window) {
            return Ok(());
        }
        if !first && !self.moved_in_window {
            self.host_zeros += tracers as u64;
            return Ok(());
        }
        let dim = CubeDim::new_1d(256);
        displacement_histogram::launch(
            client,
            cubecl::calculate_cube_count_elemwise(client, tracers, dim),
            dim,
            buffer::arg::<i32>(cells, 2 * tracers),
            buffer::arg::<u32>(fractions, 4 * tracers),
            buffer::arg::<u32>(self.previous.as_ref().expect("set"), 4 * tracers),
            buffer::arg::<u32>(self.counts.as_ref().expect("set"), LANES * o.bins.slots()),
            o.bins.min as f32,
            (o.bins.per_decade as f64 / std::f64::consts::LN_10) as f32,
            (1.0 / (o.window as f64 * self.dt)) as f32,
            tracers,
            o.bins.bins(),
        );
        if first {
            // The first call only stored the starting positions: forget what it counted.
            self.counts =
                Some(client.create_from_slice(u32::as_bytes(&vec![0; LANES * o.bins.slots()])));
        }
        self.moved_in_window = false;
        Ok(())
    }

    fn read(&self) -> Result<Vec<u64>, SimError> {
        let mut h = self.histogram.clone();
        if let (Some(client), Some(counts)) = (&self.client, &self.counts) {
            let bytes = client
                .read_one(counts.clone())
                .map_err(|e| SimError::Device(format!("{e:?}")))?;
            for (a, b) in h.iter_mut().zip(fold_lanes(
                u32::from_bytes(&bytes),
                self.options.bins.slots(),
            )) {
                *a += b;
            }
        }
        h[self.options.bins.bins()] += self.host_zeros;
        Ok(h)
    }
}

/// What [`Displacements`] saves.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedDisplacements {
    device: Option<(Vec<u32>, Vec<u32>)>,
    tracers: usize,
    histogram: Vec<u64>,
    host_zeros: u64,
    moved_in_window: bool,
}

impl super::Persist for Displacements {
    fn save(&self) -> Result<Vec<u8>, SimError> {
        let device = match (&self.client, &self.previous, &self.counts) {
            (Some(client), Some(previous), Some(counts)) => Some((
                super::download::<u32>(client, previous)?,
                super::download::<u32>(client, counts)?,
            )),
            _ => None,
        };
        super::encode(&SavedDisplacements {
            device,
            tracers: self.tracers,
            histogram: self.histogram.clone(),
            host_zeros: self.host_zeros,
            moved_in_window: self.moved_in_window,
        })
    }

    fn load(&mut self, bytes: &[u8], client: &Client) -> Result<(), SimError> {
        let s: SavedDisplacements = super::decode(bytes)?;
        if let Some((previous, counts)) = s.device {
            self.previous = Some(client.create_from_slice(u32::as_bytes(&previous)));
            self.counts = Some(client.create_from_slice(u32::as_bytes(&counts)));
            self.client = Some(client.clone());
        }
        self.tracers = s.tracers;
        self.histogram = s.histogram;
        self.host_zeros = s.host_zeros;
        self.moved_in_window = s.moved_in_window;
        Ok(())
    }
}

impl Observer for Displacements {
    fn name(&self) -> &str {
        "displacements"
    }

    /// Nothing is recorded in the warm-up.
    fn first_look(&self) -> u64 {
        self.options.warm_up
    }

    fn on_step(&mut self, sim: &View<'_>, info: &StepInfo) -> Result<(), SimError> {
        let (cells, fractions) = sim.tracer_tensors();
        let (cells, fractions) = (int_buffer(cells)?, int_buffer(fractions)?);
        self.record(
            sim.client(),
            &cells,
            &fractions,
            sim.tracer_count(),
            info.step,
            info.moved,
        )
    }
}

impl Measurement for Displacements {
    fn tables(&mut self) -> Result<Vec<Table>, SimError> {
        let counts = self.read()?;
        Ok(vec![self.options.bins.table(
            "displacement_distribution",
            "P(u): the displacement of a tracer over a window, per unit time, log-binned, normalised over the bins",
            ("u", "lattice/tau"),
            &counts,
        )])
    }

    fn summary(&mut self) -> Result<Vec<Quantity>, SimError> {
        let counts = self.read()?;
        let total: u64 = counts.iter().sum();
        let bins = self.options.bins.bins();
        let frac = |n: u64| n as f64 / total.max(1) as f64;
        Ok(vec![
            Quantity::new("u_zero_fraction", frac(counts[bins]), None, "1"),
            Quantity::new("u_below_bins_fraction", frac(counts[bins + 1]), None, "1"),
            Quantity::new("u_above_bins_fraction", frac(counts[bins + 2]), None, "1"),
        ])
    }
}

//! The activity and the stress (paper: the mean activity `a = <(1/N) sum_i n_i>`, note \[27\];
//! the stationary stress distribution).
//!
//! - `a(t)`, the fraction of active sites at every step, from the counts the simulation
//!   hands over ([`crate::Observer::on_activity`]); kept as a series whose resolution halves
//!   when it is full, so its length stays bounded;
//! - its time average with a standard error from blocking (Flyvbjerg & Petersen 1989):
//!   block averages of 1, 2, 4, ... steps, `O(log n)` memory; the error reported is the
//!   largest over the blocking levels with at least [`MIN_BLOCKS`] blocks (the plateau, or
//!   an upper bound when it is not reached);
//! - the stress histogram `P(sigma)` and the stress mean and standard deviation, on the
//!   device every `stress_every` steps.

use cubecl::prelude::*;
use cubecl::server::Handle;
use epm_fft::buffer;

use super::{Column, Measurement, Quantity, Table, float_buffer, log_histogram::LANES};
use crate::error::SimError;
use crate::observer::{Observer, StepInfo};
use crate::view::View;

/// Blocking levels need at least this many blocks to count for the error.
pub const MIN_BLOCKS: u64 = 16;

/// Online blocking analysis of a series: mean and standard error in `O(log n)` memory.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Blocking {
    levels: Vec<BlockLevel>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct BlockLevel {
    pending: Option<f64>,
    sum: f64,
    sum_sq: f64,
    count: u64,
}

impl Blocking {
    /// Adds one value.
    pub fn push(&mut self, x: f64) {
        let mut value = x;
        let mut level = 0;
        loop {
            if level == self.levels.len() {
                self.levels.push(BlockLevel::default());
            }
            let l = &mut self.levels[level];
            l.sum += value;
            l.sum_sq += value * value;
            l.count += 1;
            match l.pending.take() {
                None => {
                    l.pending = Some(value);
                    return;
                }
                Some(first) => {
                    value = (first + value) / 2.0;
                    level += 1;
                }
            }
        }
    }

    /// Values pushed.
    pub fn count(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.count)
    }

    /// Mean of the values.
    pub fn mean(&self) -> f64 {
        self.levels
            .first()
            .map_or(f64::NAN, |l| l.sum / l.count as f64)
    }

    /// Per level: block length (values), blocks, and the standard error of the mean that
    /// treats the blocks as independent.
    pub fn levels(&self) -> Vec<(u64, u64, f64)> {
        self.levels
            .iter()
            .enumerate()
            .filter(|(_, l)| l.count > 1)
            .map(|(k, l)| {
                let n = l.count as f64;
                let var = (l.sum_sq - l.sum * l.sum / n) / (n - 1.0);
                (1u64 << k, l.count, (var.max(0.0) / n).sqrt())
            })
            .collect()
    }

    /// The standard error of the mean: the largest over levels with at least [`MIN_BLOCKS`]
    /// blocks.
    pub fn error(&self) -> f64 {
        self.levels()
            .iter()
            .filter(|l| l.1 >= MIN_BLOCKS)
            .map(|l| l.2)
            .fold(f64::NAN, f64::max)
    }
}

/// A series of averages over equal spans of steps whose span doubles when it is full.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CoarseSeries {
    capacity: usize,
    span: u64,
    first_step: Option<u64>,
    points: Vec<f64>,
    current_sum: f64,
    current_count: u64,
}

impl CoarseSeries {
    /// At most `capacity` points (even, >= 2).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(2) & !1,
            span: 1,
            first_step: None,
            points: vec![],
            current_sum: 0.0,
            current_count: 0,
        }
    }

    /// Adds the value of `step` (steps come in order).
    pub fn push(&mut self, step: u64, value: f64) {
        self.first_step.get_or_insert(step);
        self.current_sum += value;
        self.current_count += 1;
        if self.current_count == self.span {
            self.points.push(self.current_sum / self.span as f64);
            self.current_sum = 0.0;
            self.current_count = 0;
            if self.points.len() == self.capacity {
                self.points = self
                    .points
                    .chunks_exact(2)
                    .map(|p| (p[0] + p[1]) / 2.0)
                    .collect();
                self.span *= 2;
            }
        }
    }

    /// `(first step of the span, average)` per point.
    pub fn points(&self) -> Vec<(u64, f64)> {
        let first = self.first_step.unwrap_or(0);
        self.points
            .iter()
            .enumerate()
            .map(|(i, &v)| (first + i as u64 * self.span, v))
            .collect()
    }

    /// Steps per point.
    pub fn span(&self) -> u64 {
        self.span
    }
}

/// Histogram of the stress, one unit per `per_unit` sites: counts in `LANES` copies of
/// `bins + 2` slots (regular bins, below, above) and per-unit sums of `sigma`, `sigma^2`.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub fn stress_histogram(
    stress: &[f32],
    counts: &[Atomic<u32>],
    sums: &mut [f32],
    low: f32,
    inverse_width: f32,
    #[comptime] sites: usize,
    #[comptime] per_unit: usize,
    #[comptime] bins: usize,
) {
    let unit = ABSOLUTE_POS;
    let stride = comptime![sites / per_unit];
    if unit >= stride {
        terminate!();
    }
    let mut sum = 0.0f32;
    let mut sum_sq = 0.0f32;
    let lane = (unit % comptime![LANES]) * comptime![bins + 2];
    #[unroll]
    for j in 0..per_unit {
        let sigma = stress[unit + j * stride];
        sum += sigma;
        sum_sq += sigma * sigma;
        let x = (sigma - low) * inverse_width;
        let regular = u32::cast_from(f32::max(x, 0.0f32));
        let above = select(
            x >= comptime![bins as f32],
            comptime![bins as u32 + 1],
            regular,
        );
        let slot = select(x < 0.0f32, comptime![bins as u32], above);
        counts[lane + slot as usize].fetch_add(1u32);
    }
    sums[2 * unit] += sum;
    sums[2 * unit + 1] += sum_sq;
}

/// Options of [`Activity`].
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityOptions {
    /// Steps before the first measurement.
    pub warm_up: u64,
    /// Most points of the `a(t)` series.
    pub series_points: usize,
    /// Steps between two stress histograms (0: none).
    pub stress_every: u64,
    /// The histogram covers `[-stress_range, stress_range]` (units of `sigma_Y`).
    pub stress_range: f64,
    /// Bins of the stress histogram.
    pub stress_bins: usize,
}

impl Default for ActivityOptions {
    fn default() -> Self {
        Self {
            warm_up: 0,
            series_points: 4096,
            stress_every: 10,
            stress_range: 2.0,
            stress_bins: 200,
        }
    }
}

/// The activity observer: see the module documentation.
pub struct Activity {
    options: ActivityOptions,
    dt: f64,
    series: CoarseSeries,
    blocking: Blocking,
    client: Option<Client>,
    counts: Option<Handle>,
    sums: Option<Handle>,
    per_unit: usize,
    units: usize,
    samples: u64,
    pending: u64,
    histogram: Vec<u64>,
    stress_sum: f64,
    stress_sum_sq: f64,
    sites: usize,
}

impl Activity {
    /// An activity observer for a run with time step `dt`.
    pub fn new(options: ActivityOptions, dt: f64) -> Self {
        let bins = options.stress_bins;
        Self {
            series: CoarseSeries::new(options.series_points),
            options,
            dt,
            blocking: Blocking::default(),
            client: None,
            counts: None,
            sums: None,
            per_unit: 1,
            units: 0,
            samples: 0,
            pending: 0,
            histogram: vec![0; bins + 2],
            stress_sum: 0.0,
            stress_sum_sq: 0.0,
            sites: 0,
        }
    }

    /// Mean activity and its standard error.
    pub fn mean_activity(&self) -> (f64, f64) {
        (self.blocking.mean(), self.blocking.error())
    }

    fn sample_stress(&mut self, sim: &View<'_>) -> Result<(), SimError> {
        let bins = self.options.stress_bins;
        let sites = sim.config().sites();
        if self.client.is_none() {
            let client = sim.client().clone();
            self.per_unit = sim.profile().sites_per_unit(sites);
            self.units = sites / self.per_unit;
            self.counts =
                Some(client.create_from_slice(u32::as_bytes(&vec![0; LANES * (bins + 2)])));
            self.sums = Some(client.create_from_slice(f32::as_bytes(&vec![0.0; 2 * self.units])));
            self.client = Some(client);
            self.sites = sites;
        }
        let client = self.client.as_ref().expect("set above");
        let stress = float_buffer(sim.stress())?;
        let dim = CubeDim::new_1d(256);
        let range = self.options.stress_range;
        stress_histogram::launch(
            client,
            cubecl::calculate_cube_count_elemwise(client, self.units, dim),
            dim,
            buffer::arg::<f32>(&stress, sites),
            buffer::arg::<u32>(self.counts.as_ref().expect("set"), LANES * (bins + 2)),
            buffer::arg::<f32>(self.sums.as_ref().expect("set"), 2 * self.units),
            (-range) as f32,
            (bins as f64 / (2.0 * range)) as f32,
            sites,
            self.per_unit,
            bins,
        );
        self.samples += 1;
        self.pending += 1;
        // f32 per-unit sums stay accurate over a few dozen samples.
        if self.pending == 64 {
            self.read_stress()?;
        }
        Ok(())
    }

    /// The device's histogram and sums since the last read, without clearing them.
    fn device_stress(&self) -> Result<(Vec<u64>, f64, f64), SimError> {
        let bins = self.options.stress_bins;
        let mut histogram = vec![0u64; bins + 2];
        let (mut sum, mut sum_sq) = (0.0, 0.0);
        if let (Some(client), Some(counts), Some(sums)) = (&self.client, &self.counts, &self.sums) {
            for lane in super::download::<u32>(client, counts)?.chunks_exact(bins + 2) {
                for (h, &v) in histogram.iter_mut().zip(lane) {
                    *h += v as u64;
                }
            }
            for pair in super::download::<f32>(client, sums)?.chunks_exact(2) {
                sum += pair[0] as f64;
                sum_sq += pair[1] as f64;
            }
        }
        Ok((histogram, sum, sum_sq))
    }

    /// Moves the device's histogram and sums into the host's and clears them (every 64
    /// samples, so the `f32` sums stay short).
    fn read_stress(&mut self) -> Result<(), SimError> {
        let (histogram, sum, sum_sq) = self.device_stress()?;
        self.histogram
            .iter_mut()
            .zip(histogram)
            .for_each(|(h, d)| *h += d);
        self.stress_sum += sum;
        self.stress_sum_sq += sum_sq;
        if let Some(client) = &self.client {
            let bins = self.options.stress_bins;
            self.counts =
                Some(client.create_from_slice(u32::as_bytes(&vec![0; LANES * (bins + 2)])));
            self.sums = Some(client.create_from_slice(f32::as_bytes(&vec![0.0; 2 * self.units])));
        }
        self.pending = 0;
        Ok(())
    }

    /// Histogram and sums so far, host and device together.
    fn stress_so_far(&self) -> Result<(Vec<u64>, f64, f64), SimError> {
        let (mut histogram, sum, sum_sq) = self.device_stress()?;
        histogram
            .iter_mut()
            .zip(&self.histogram)
            .for_each(|(d, h)| *d += h);
        Ok((
            histogram,
            sum + self.stress_sum,
            sum_sq + self.stress_sum_sq,
        ))
    }

    /// Stress mean and standard deviation over the samples so far.
    pub fn stress_moments(&self) -> Result<(f64, f64), SimError> {
        let (_, sum, sum_sq) = self.stress_so_far()?;
        let n = (self.samples as usize * self.sites) as f64;
        let mean = sum / n;
        Ok((mean, (sum_sq / n - mean * mean).max(0.0).sqrt()))
    }
}

/// What [`Activity`] saves.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedActivity {
    series: CoarseSeries,
    blocking: Blocking,
    device: Option<(Vec<u32>, Vec<f32>)>,
    per_unit: usize,
    units: usize,
    samples: u64,
    pending: u64,
    histogram: Vec<u64>,
    stress_sum: f64,
    stress_sum_sq: f64,
    sites: usize,
}

impl super::Persist for Activity {
    fn save(&self) -> Result<Vec<u8>, SimError> {
        let device = match (&self.client, &self.counts, &self.sums) {
            (Some(client), Some(counts), Some(sums)) => Some((
                super::download::<u32>(client, counts)?,
                super::download::<f32>(client, sums)?,
            )),
            _ => None,
        };
        super::encode(&SavedActivity {
            series: self.series.clone(),
            blocking: self.blocking.clone(),
            device,
            per_unit: self.per_unit,
            units: self.units,
            samples: self.samples,
            pending: self.pending,
            histogram: self.histogram.clone(),
            stress_sum: self.stress_sum,
            stress_sum_sq: self.stress_sum_sq,
            sites: self.sites,
        })
    }

    fn load(&mut self, bytes: &[u8], client: &Client) -> Result<(), SimError> {
        let s: SavedActivity = super::decode(bytes)?;
        if let Some((counts, sums)) = s.device {
            self.counts = Some(client.create_from_slice(u32::as_bytes(&counts)));
            self.sums = Some(client.create_from_slice(f32::as_bytes(&sums)));
            self.client = Some(client.clone());
        }
        self.series = s.series;
        self.blocking = s.blocking;
        self.per_unit = s.per_unit;
        self.units = s.units;
        self.samples = s.samples;
        self.pending = s.pending;
        self.histogram = s.histogram;
        self.stress_sum = s.stress_sum;
        self.stress_sum_sq = s.stress_sum_sq;
        self.sites = s.sites;
        Ok(())
    }
}

impl Observer for Activity {
    fn name(&self) -> &str {
        "activity"
    }

    /// Nothing is recorded in the warm-up.
    fn first_look(&self) -> u64 {
        self.options.warm_up
    }

    /// The stress histogram's steps: `a(t)` comes from the counts ([`Observer::on_activity`]).
    fn every(&self) -> u64 {
        match self.options.stress_every {
            0 => u64::MAX,
            every => every,
        }
    }

    fn on_step(&mut self, sim: &View<'_>, info: &StepInfo) -> Result<(), SimError> {
        let every = self.options.stress_every;
        if every > 0 && info.step >= self.options.warm_up && info.step.is_multiple_of(every) {
            self.sample_stress(sim)?;
        }
        Ok(())
    }

    fn on_activity(&mut self, first: u64, active: &[u32], sites: usize) -> Result<(), SimError> {
        for (i, &a) in active.iter().enumerate() {
            let step = first + i as u64;
            if step >= self.options.warm_up {
                let value = a as f64 / sites as f64;
                self.series.push(step, value);
                self.blocking.push(value);
            }
        }
        Ok(())
    }
}

impl Measurement for Activity {
    fn tables(&mut self) -> Result<Vec<Table>, SimError> {
        let (histogram, _, _) = self.stress_so_far()?;
        let mut series = Table::new(
            "activity",
            "a(t): the fraction of active sites, averaged over spans of equal length",
            vec![
                Column::new("step", "steps"),
                Column::new("t", "tau"),
                Column::new("span", "steps"),
                Column::new("a", "1"),
            ],
        );
        let span = self.series.span();
        for (step, a) in self.series.points() {
            series
                .rows
                .push(vec![step as f64, step as f64 * self.dt, span as f64, a]);
        }
        let mut blocking = Table::new(
            "activity_blocking",
            "blocking analysis of the mean activity: the standard error if blocks of this length were independent",
            vec![
                Column::new("block", "steps"),
                Column::new("blocks", "1"),
                Column::new("standard_error", "1"),
            ],
        );
        for (block, count, err) in self.blocking.levels() {
            blocking.rows.push(vec![block as f64, count as f64, err]);
        }
        let mut tables = vec![series, blocking];
        if self.samples > 0 {
            let bins = self.options.stress_bins;
            let range = self.options.stress_range;
            let width = 2.0 * range / bins as f64;
            let inside: u64 = histogram[..bins].iter().sum();
            let mut hist = Table::new(
                "stress_histogram",
                "P(sigma), normalised over [-range, range]; the counts outside are in the summary",
                vec![
                    Column::new("sigma", "sigma_Y"),
                    Column::new("count", "1"),
                    Column::new("P(sigma)", "1/sigma_Y"),
                ],
            );
            for (b, &c) in histogram[..bins].iter().enumerate() {
                let centre = -range + (b as f64 + 0.5) * width;
                hist.rows.push(vec![
                    centre,
                    c as f64,
                    c as f64 / (inside.max(1) as f64 * width),
                ]);
            }
            tables.push(hist);
        }
        Ok(tables)
    }

    fn summary(&mut self) -> Result<Vec<Quantity>, SimError> {
        let (a, err) = self.mean_activity();
        let mut out = vec![Quantity::new("mean_activity", a, Some(err), "1")];
        if self.samples > 0 {
            let (mean, std) = self.stress_moments()?;
            let (histogram, _, _) = self.stress_so_far()?;
            let bins = self.options.stress_bins;
            let total: u64 = histogram.iter().sum();
            let outside = histogram[bins] + histogram[bins + 1];
            out.push(Quantity::new("stress_mean", mean, None, "sigma_Y"));
            out.push(Quantity::new("stress_std", std, None, "sigma_Y"));
            out.push(Quantity::new(
                "stress_outside_histogram",
                outside as f64 / total.max(1) as f64,
                None,
                "1",
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocking_of_independent_values_gives_the_naive_error() {
        let mut b = Blocking::default();
        // A deterministic, uncorrelated-looking sequence: the Philox draws.
        for i in 0..(1u32 << 14) {
            let d = crate::rng::philox4x32_10([i, 0, 0, 9], [1, 2]);
            b.push(crate::rng::to_unit(d[0]) as f64);
        }
        let naive = (1.0f64 / 12.0 / (1u64 << 14) as f64).sqrt();
        assert!((b.mean() - 0.5).abs() < 4.0 * naive);
        let e = b.error();
        assert!(
            (e / naive - 1.0).abs() < 0.5,
            "blocking error {e} vs {naive}"
        );
    }

    #[test]
    fn blocking_sees_correlations() {
        // Runs of 64 equal values: the naive error is 8 times too small, blocking finds it.
        let mut b = Blocking::default();
        for i in 0..(1u32 << 14) {
            let d = crate::rng::philox4x32_10([i / 64, 0, 0, 9], [1, 2]);
            b.push(crate::rng::to_unit(d[0]) as f64);
        }
        let levels = b.levels();
        let naive = levels[0].2;
        assert!(b.error() > 5.0 * naive, "{} vs naive {naive}", b.error());
    }

    #[test]
    fn coarse_series_keeps_its_length_bounded_and_averages_exactly() {
        let mut s = CoarseSeries::new(8);
        for step in 100..100 + 1000 {
            s.push(step, step as f64);
        }
        let points = s.points();
        assert!(points.len() <= 8);
        assert_eq!(s.span(), 128);
        for (first, avg) in points {
            let expected = first as f64 + (s.span() as f64 - 1.0) / 2.0;
            assert_eq!(avg, expected);
        }
    }
}

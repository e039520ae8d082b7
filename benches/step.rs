//! Criterion groups `step` and `step-kernels`.
//!
//! - `step`, ids `thermal/L` (L = 128, 256, 512): whole steps of the thermal model at T = 0.1
//!   with the default tracers (one per 16 sites), in the steady state (after a warm-up from
//!   zero stress), through `Simulation::advance`. One iteration is one step.
//!   `thermal+observers/256`: the same with every observer of the default `[observables]`
//!   (activity and stress histogram, tracer MSD / S(q,t) / C_u, P(u), Psi, C_sigma).
//! - `step-kernels`, ids `<kernel>/L`: each kernel of one step alone, on the same steady
//!   state: `activation`, `forward-fft` (the plastic strain rate), `propagate` (the
//!   propagator and displacement multiply), `inverse-fft` (the batch of two), `update-stress`,
//!   `advect` (tracers).
//!
//! Run with `cargo xtask bench` (adds the markdown table) or `cargo bench --bench step`; pick
//! the backend with a cargo feature, e.g. `--no-default-features --features cuda`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use cubecl::prelude::*;
use cubecl::server::Handle;
use epm::activation::{Activation, Thermal, activation_step, count_index};
use epm::fft::{ComplexBuffers, Fft2d, PlanOptions, Shape2d};
use epm::observables::measurements::Measurements;
use epm::propagator::{StepTables, propagate, update_stress};
use epm::tracers::advect_tracers;
use epm::{ActivationConfig, Config, Simulation};

const SIZES: [usize; 3] = [128, 256, 512];
const TEMPERATURE: f64 = 0.1;
/// Steps from zero stress to the steady state at T = 0.1 (about 10 event durations beyond
/// the first activations).
const WARM_UP: u64 = 1500;

fn config(l: usize) -> Config {
    Config {
        l: l as i64,
        seed: 1,
        activation: ActivationConfig::Thermal {
            temperature: TEMPERATURE,
        },
        ..Config::default()
    }
}

fn sync(client: &Client) {
    cubecl::future::block_on(client.sync()).unwrap();
}

/// Times `iters` calls of `f`, queued back to back and synced once.
fn timed(client: &Client, iters: u64, mut f: impl FnMut()) -> Duration {
    sync(client);
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    sync(client);
    start.elapsed()
}

fn record_adapter(client: &Client) {
    let adapter = epm::device::describe(client);
    eprintln!("step: {adapter}");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("../criterion");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("adapter.txt"), &adapter);
    }
}

/// A simulation of `config(l)` in its steady state (warmed up once, then shared).
fn warmed(
    cache: &RefCell<HashMap<usize, Simulation>>,
    l: usize,
) -> std::cell::RefMut<'_, Simulation> {
    let device = epm::device::default_device().expect("no compute device (see README)");
    std::cell::RefMut::map(cache.borrow_mut(), |c| {
        c.entry(l).or_insert_with(|| {
            let mut sim = Simulation::new(config(l), &device).unwrap();
            sim.advance(WARM_UP, &mut []).unwrap();
            eprintln!(
                "L = {l}: {} of {} sites active after {WARM_UP} steps",
                sim.active_sites(),
                l * l
            );
            sim
        })
    })
}

fn step(c: &mut Criterion) {
    let device = epm::device::default_device().expect("no compute device (see README)");
    let client = device.client();
    record_adapter(&client);
    // Simulations are made when a benchmark that needs them runs: a filter skips their warm-up.
    let cache = RefCell::new(HashMap::new());
    let mut group = c.benchmark_group("step");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    for l in SIZES {
        group.bench_function(BenchmarkId::new("thermal", l), |b| {
            let mut sim = warmed(&cache, l);
            b.iter_custom(|iters| timed(&client, 1, || sim.advance(iters, &mut []).unwrap()))
        });
    }
    // The same steps with every observer of a run's default `[observables]`.
    group.bench_function(BenchmarkId::new("thermal+observers", 256), |b| {
        let mut sim = warmed(&cache, 256);
        let mut measurements = Measurements::new(&sim).unwrap();
        b.iter_custom(|iters| {
            timed(&client, 1, || {
                sim.advance(iters, &mut measurements.observers()).unwrap()
            })
        })
    });
    group.finish();

    let mut group = c.benchmark_group("step-kernels");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for l in SIZES {
        let kernels: RefCell<Option<Kernels>> = RefCell::new(None);
        let get = || {
            std::cell::RefMut::map(kernels.borrow_mut(), |k| {
                k.get_or_insert_with(|| {
                    let state = warmed(&cache, l).state().unwrap();
                    Kernels::new(&client, &config(l), &state)
                })
            })
        };
        let run: [KernelBench; 6] = [
            ("activation", Kernels::activation),
            ("forward-fft", Kernels::forward_fft),
            ("propagate", Kernels::propagate),
            ("inverse-fft", Kernels::inverse_fft),
            ("update-stress", Kernels::update_stress),
            ("advect", Kernels::advect),
        ];
        for (name, f) in run {
            group.bench_function(BenchmarkId::new(name, l), |b| {
                let k = get();
                b.iter_custom(|iters| timed(&client, iters, || f(&k)))
            });
        }
    }
    group.finish();
}

/// A kernel of the step, by name.
type KernelBench = (&'static str, fn(&Kernels));

/// The buffers of one step, as the simulation holds them, for timing its kernels one by one.
struct Kernels {
    client: Client,
    n: usize,
    per_unit: usize,
    tracers: usize,
    rule: Thermal,
    stress: Handle,
    active: Handle,
    sign: Handle,
    plastic: Handle,
    strain_rate: Handle,
    counts: Handle,
    event: Handle,
    status: Handle,
    cells: Handle,
    fractions: Handle,
    spectrum: ComplexBuffers,
    increments: ComplexBuffers,
    table_packed: Handle,
    table_y: Handle,
    forward: Fft2d<f32>,
    inverse: Fft2d<f32>,
}

impl Kernels {
    fn new(client: &Client, config: &Config, state: &epm::State) -> Self {
        let l = config.l as usize;
        let n = l * l;
        let tables = StepTables::new(l, &config.propagator, config.mu, config.dt);
        let f32s = |v: &[f32]| client.create_from_slice(f32::as_bytes(v));
        let u32s = |v: &[u32]| client.create_from_slice(u32::as_bytes(v));
        let i32s = |v: &[i32]| client.create_from_slice(i32::as_bytes(v));
        let strain_rate: Vec<f32> = state
            .active
            .iter()
            .zip(&state.sign)
            .map(|(&a, &s)| a as f32 * s * 0.5)
            .collect();
        let options = PlanOptions::default();
        Self {
            client: client.clone(),
            n,
            per_unit: epm::backend::sites_per_unit(client, n),
            tracers: state.tracers.len(),
            rule: Thermal {
                temperature: TEMPERATURE as f32,
                gamma0: 1.0,
                sigma_y: 1.0,
            },
            stress: f32s(&state.stress),
            active: u32s(&state.active),
            sign: f32s(&state.sign),
            plastic: i32s(&state.plastic),
            strain_rate: f32s(&strain_rate),
            counts: u32s(&vec![0; count_index(1, 0)]),
            event: u32s(&[0]),
            status: u32s(&[u32::MAX, 0]),
            cells: i32s(&state.tracers.cells),
            fractions: u32s(&state.tracers.fraction_words()),
            spectrum: ComplexBuffers::empty::<f32>(client, n),
            increments: ComplexBuffers::empty::<f32>(client, 2 * n),
            table_packed: f32s(&tables.packed),
            table_y: f32s(&tables.displacement_y),
            forward: Fft2d::new(client, Shape2d::new(1, l, l).unwrap(), options).unwrap(),
            inverse: Fft2d::new(client, Shape2d::new(2, l, l).unwrap(), options).unwrap(),
        }
    }

    fn grid(&self, units: usize) -> (CubeCount, CubeDim) {
        let dim = CubeDim::new_1d(256);
        (
            cubecl::calculate_cube_count_elemwise(&self.client, units, dim),
            dim,
        )
    }

    fn arg(&self, h: &Handle, len: usize) -> BufferArg {
        // SAFETY: every buffer was created with `len` elements of the kernel's type.
        unsafe { BufferArg::from_raw_parts(h.clone(), len) }
    }

    fn activation(&self) {
        let (count, dim) = self.grid(self.n / self.per_unit);
        let n = self.n;
        activation_step::launch::<Thermal>(
            &self.client,
            count,
            dim,
            self.arg(&self.stress, n),
            self.arg(&self.active, n),
            self.arg(&self.sign, n),
            self.arg(&self.plastic, n),
            self.arg(&self.strain_rate, n),
            self.arg(&self.counts, count_index(1, 0)),
            self.arg(&self.event, 1),
            self.rule.launch_arg(),
            7,
            0,
            1,
            0,
            0.1,
            0.1,
            0.5,
            0,
            0,
            0,
            n,
            self.per_unit,
        );
    }

    fn forward_fft(&self) {
        self.forward
            .forward_real(&self.strain_rate, &self.spectrum)
            .unwrap();
    }

    fn propagate(&self) {
        let (count, dim) = self.grid(self.n / self.per_unit);
        let n = self.n;
        propagate::launch(
            &self.client,
            count,
            dim,
            self.arg(&self.spectrum.re, n),
            self.arg(&self.spectrum.im, n),
            self.arg(&self.table_packed, n),
            self.arg(&self.table_y, n),
            self.arg(&self.increments.re, 2 * n),
            self.arg(&self.increments.im, 2 * n),
            n,
            self.per_unit,
        );
    }

    fn inverse_fft(&self) {
        self.inverse
            .inverse(&self.increments, &self.increments)
            .unwrap();
    }

    fn update_stress(&self) {
        let (count, dim) = self.grid(self.n / self.per_unit);
        let n = self.n;
        update_stress::launch(
            &self.client,
            count,
            dim,
            self.arg(&self.increments.re, 2 * n),
            self.arg(&self.stress, n),
            self.arg(&self.status, 2),
            7,
            n,
            self.per_unit,
        );
    }

    fn advect(&self) {
        let (count, dim) = self.grid(self.tracers);
        advect_tracers::launch(
            &self.client,
            count,
            dim,
            self.arg(&self.cells, 2 * self.tracers),
            self.arg(&self.fractions, 4 * self.tracers),
            self.arg(&self.increments.im, 2 * self.n),
            self.arg(&self.increments.re, 2 * self.n),
            self.n,
            (self.n.trailing_zeros() / 2) as usize,
            self.tracers,
        );
    }
}

criterion_group!(benches, step);
criterion_main!(benches);

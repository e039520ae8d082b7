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
use epm::activation::{StepParams, Thermal, count_index};
use epm::fft::{ComplexBuffers, Fft2d, PlanOptions, Shape2d};
use epm::launch;
use epm::observables::measurements::Measurements;
use epm::propagator::StepTables;
use epm::{ActivationConfig, Config, Simulation};

const SIZES: [usize; 3] = [128, 256, 512];
const TEMPERATURE: f64 = 0.1;
/// Steps from zero stress to the steady state at T = 0.1 (about 10 event durations beyond
/// the first activations).
const WARM_UP: u64 = 1500;

fn config(l: usize) -> Config {
    Config {
        l,
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
        let l = config.l;
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

    fn activation(&self) {
        let buffers = launch::ActivationBuffers {
            stress: &self.stress,
            active: &self.active,
            sign: &self.sign,
            plastic: &self.plastic,
            strain_rate: &self.strain_rate,
            active_count: &self.counts,
            event: &self.event,
        };
        let params = StepParams {
            step: 7,
            seed: 1,
            p_off: 0.1,
            dt: 0.1,
            strain_rate_amplitude: 0.5,
        };
        launch::activation(&self.client, self.n, &buffers, &self.rule, &params, 0, None);
    }

    fn forward_fft(&self) {
        self.forward
            .forward_real(&self.strain_rate, &self.spectrum)
            .unwrap();
    }

    fn propagate(&self) {
        launch::propagator_multiply(
            &self.client,
            self.n,
            &self.spectrum,
            &self.table_packed,
            &self.table_y,
            &self.increments,
        );
    }

    fn inverse_fft(&self) {
        self.inverse
            .inverse(&self.increments, &self.increments)
            .unwrap();
    }

    fn update_stress(&self) {
        let (re, stress, status) = (&self.increments.re, &self.stress, &self.status);
        launch::stress_update(&self.client, self.n, re, stress, status, 7);
    }

    fn advect(&self) {
        let (cells, fractions) = (&self.cells, &self.fractions);
        launch::advection(
            &self.client,
            self.n,
            self.tracers,
            cells,
            fractions,
            &self.increments,
        );
    }
}

criterion_group!(benches, step);
criterion_main!(benches);

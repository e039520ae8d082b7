//! Criterion groups `step`, `step-kernels` and `sparse-kernels`.
//!
//! - `step`, ids `thermal/L` (L = 64, 128, 256, 512): whole steps of the thermal model at
//!   T = 0.1 with the default tracers (one per 16 sites), in the steady state (after a warm-up
//!   from zero stress), through `Simulation::advance`. One iteration is one step. Beside
//!   criterion's results the bench writes `step-traffic.jsonl`: each size's counted launches
//!   and bytes of a step (`Simulation::step_traffic`).
//!   `thermal+observers/256`: the same with every observer of the default `[observables]`
//!   (activity and stress histogram, tracer MSD / S(q,t) / C_u, P(u), Psi, C_sigma).
//! - `step`, ids `thermal-lowT/L` (L = 256, 512): the same at T = 0.05, where a step has a few
//!   active sites, with the update chosen for the adapter; `thermal-lowT-dense/L` through the
//!   transforms only, `thermal-lowT-sparse/L` with the sparse update only. The choice is also
//!   timed where it matters less at L = 256: `thermal-T0.07{,-dense,-sparse}/256` and
//!   `thermal-dense/256`, `thermal-sparse/256` beside `thermal/256` (T = 0.1).
//! - `step-kernels`, ids `<kernel>/L`: each kernel of one step alone, on the same steady
//!   state: `activation`, `forward-fft` (the plastic strain rate in row pairs, half-size),
//!   `inverse-fft` (the batch of three half-size fields in row pairs, with the propagator
//!   multiply and the stress update fused into it), `advect`
//!   (tracers); and `inverse-plain`, the same inverse without the fused work (not part of the
//!   step: the difference is what the fusion costs).
//! - `sparse-kernels`, ids `<kernel>/L` (L = 256, 512): the sparse update's kernels alone on
//!   the steady state at T = 0.05: `compaction` (the list of active sites), `sparse-stress`,
//!   `sparse-advect`.
//!
//! Run with `cargo xtask bench` (adds the markdown table) or `cargo bench --bench step`; pick
//! the backend with a cargo feature, e.g. `--no-default-features --features cuda`.

#[path = "common/mod.rs"]
mod common;

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use cubecl::prelude::*;
use cubecl::server::Handle;
use epm::activation::{StepParams, Thermal};
use epm::fft::{Accumulate, ComplexBuffers, Fft2d, Shape2d};
use epm::launch;
use epm::observables::measurements::Measurements;
use epm::propagator::StepTables;
use epm::{ActivationConfig, Config, Simulation};

const SIZES: [usize; 4] = [64, 128, 256, 512];
/// Sizes at which the whole-step kernel is timed against the separate launches.
const WHOLE_SIZES: [usize; 3] = [32, 64, 128];

/// A step observer that reads nothing: a run with it advances one step per launch.
struct EveryStep;

impl epm::Observer for EveryStep {
    fn name(&self) -> &str {
        "every-step"
    }
    fn on_step(&mut self, _: &epm::View<'_>, _: &epm::StepInfo) -> Result<(), epm::SimError> {
        Ok(())
    }
}
const TEMPERATURE: f64 = 0.1;
/// Steps from zero stress to the steady state at T = 0.1 (about 10 event durations beyond
/// the first activations).
const WARM_UP: u64 = 1500;
/// The lowest temperatures of the paper, where the sparse update matters.
const LOW_TEMPERATURE: f64 = 0.05;
/// Steps from zero stress at T <= 0.07: the activity, about 1e-4 of the sites, settles within
/// a few hundred time units.
const LOW_WARM_UP: u64 = 3000;

fn config(l: usize) -> Config {
    config_at(l, TEMPERATURE)
}

fn config_at(l: usize, temperature: f64) -> Config {
    Config {
        l,
        seed: 1,
        activation: ActivationConfig::Thermal { temperature },
        ..Config::default()
    }
}

/// The updates a low-temperature id can force: the adapter's choice, dense, sparse.
const UPDATES: [(&str, Option<u32>); 3] =
    [("", None), ("-dense", Some(0)), ("-sparse", Some(u32::MAX))];

/// A warmed-up state of `config_at(l, t)`, once per `(l, t)`.
fn warmed_state(
    cache: &RefCell<HashMap<(usize, u64), epm::State>>,
    l: usize,
    t: f64,
) -> epm::State {
    let device = epm::device::default_device().expect("no compute device (see README)");
    cache
        .borrow_mut()
        .entry((l, t.to_bits()))
        .or_insert_with(|| {
            let warm_up = if t < TEMPERATURE {
                LOW_WARM_UP
            } else {
                WARM_UP
            };
            let mut sim = Simulation::new(config_at(l, t), &device).unwrap();
            sim.advance(warm_up, &mut []).unwrap();
            eprintln!(
                "L = {l}, T = {t}: {} of {} sites active after {warm_up} steps",
                sim.active_sites(),
                l * l
            );
            sim.state().unwrap()
        })
        .clone()
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

/// The adapter, and the counted launches and bytes of a step at each size (`step_traffic`),
/// beside criterion's results for the table.
fn record_adapter(client: &Client, device: &cubecl::Device) {
    let adapter = epm::device::describe(client);
    eprintln!("step: {adapter}");
    let mut traffic = String::new();
    for l in SIZES {
        let t = Simulation::new(config(l), device).unwrap().step_traffic();
        traffic += &format!(
            "{{\"L\": {l}, \"launches\": {}, \"bytes\": {}, \"minimum_bytes\": {}}}\n",
            t.launches, t.bytes, t.minimum_bytes
        );
    }
    let dir = common::criterion_dir();
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("adapter.txt"), &adapter);
        let _ = std::fs::write(dir.join("step-traffic.jsonl"), traffic);
    }
}

/// `sim` after [`READY`] untimed steps: the kernels of its path (whole steps or separate
/// launches, dense or sparse) are compiled before criterion times anything. Lavapipe's JIT of
/// a kernel takes up to seconds; a first iteration that long makes criterion time one step per
/// sample, each with its read-back.
fn ready(sim: Result<Simulation, epm::SimError>) -> Simulation {
    let mut sim = sim.unwrap();
    sim.advance(READY, &mut []).unwrap();
    sim
}

/// See [`ready`]: past a window of the sparse update's choice.
const READY: u64 = 100;

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
    record_adapter(&client, &device);
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
    // Low temperatures: the adapter's choice of update against each update forced.
    let states = RefCell::new(HashMap::new());
    let low: [(&str, f64, &[usize]); 3] = [
        ("thermal-lowT", LOW_TEMPERATURE, &[256, 512]),
        ("thermal-T0.07", 0.07, &[256]),
        ("thermal", TEMPERATURE, &[256]),
    ];
    for (name, t, sizes) in low {
        for &l in sizes {
            for (suffix, sparse_max_active) in UPDATES {
                if name == "thermal" && suffix.is_empty() {
                    continue; // `thermal/256` above
                }
                let id = BenchmarkId::new(format!("{name}{suffix}"), l);
                group.bench_function(id, |b| {
                    let config = config_at(l, t);
                    let options = epm::RunOptions {
                        sparse_max_active,
                        ..Default::default()
                    };
                    let profile = Some(options.resolve(&client, None).unwrap());
                    let state = warmed_state(&states, l, t);
                    let sim =
                        Simulation::from_state_with_profile(config, None, state, &device, profile);
                    let mut sim = ready(sim);
                    b.iter_custom(|iters| {
                        timed(&client, 1, || sim.advance(iters, &mut []).unwrap())
                    })
                });
            }
        }
    }
    // The whole-step kernel against the separate launches, from the same state: without
    // observers (many steps per launch) and with one that reads nothing (one step per launch,
    // as a run with observers goes).
    for l in WHOLE_SIZES {
        for (name, whole, each) in [
            ("thermal-launches", false, false),
            ("thermal-whole", true, false),
            ("thermal-launches-each", false, true),
            ("thermal-whole-each", true, true),
        ] {
            group.bench_function(BenchmarkId::new(name, l), |b| {
                let options = epm::RunOptions {
                    whole_steps: Some(whole),
                    ..Default::default()
                };
                let profile = Some(options.resolve(&client, None).unwrap());
                let state = warmed_state(&states, l, TEMPERATURE);
                let sim =
                    Simulation::from_state_with_profile(config(l), None, state, &device, profile);
                let mut sim = ready(sim);
                b.iter_custom(|iters| {
                    timed(&client, 1, || {
                        if each {
                            sim.advance(iters, &mut [&mut EveryStep]).unwrap()
                        } else {
                            sim.advance(iters, &mut []).unwrap()
                        }
                    })
                })
            });
        }
    }
    // The same steps with every observer of a run's default `[observables]`.
    group.bench_function(BenchmarkId::new("thermal+observers", 256), |b| {
        let mut sim = warmed(&cache, 256);
        let mut measurements = Measurements::new(&sim.view()).unwrap();
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
        let make = || Kernels::new(&client, &config(l), &warmed(&cache, l).state().unwrap());
        // `inverse-plain`: the same inverse without its fused multiply and stress update, for
        // what the fusion costs; not part of the step.
        let kernels: [KernelBench<Kernels>; 5] = [
            ("activation", Kernels::activation),
            ("forward-fft", Kernels::forward_fft),
            ("inverse-fft", Kernels::inverse_fft),
            ("advect", Kernels::advect),
            ("inverse-plain", Kernels::inverse_plain),
        ];
        bench_kernels(&mut group, &client, l, make, &kernels);
    }
    group.finish();

    let mut group = c.benchmark_group("sparse-kernels");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for l in [256, 512] {
        let make = || {
            let state = warmed_state(&states, l, LOW_TEMPERATURE);
            SparseKernels::new(&client, &config(l), &state)
        };
        let kernels: [KernelBench<SparseKernels>; 3] = [
            ("compaction", SparseKernels::compaction),
            ("sparse-stress", SparseKernels::stress),
            ("sparse-advect", SparseKernels::advect),
        ];
        bench_kernels(&mut group, &client, l, make, &kernels);
    }
    group.finish();
}

/// A kernel, by name, on the buffers `K` holds.
type KernelBench<K> = (&'static str, fn(&K));

/// Times each of `kernels` alone at size `l`, on buffers `make` builds when the first of them
/// runs (a filter that skips them all skips their warm-up too).
fn bench_kernels<K>(
    group: &mut BenchmarkGroup<WallTime>,
    client: &Client,
    l: usize,
    make: impl Fn() -> K,
    kernels: &[KernelBench<K>],
) {
    let built: RefCell<Option<K>> = RefCell::new(None);
    for &(name, f) in kernels {
        group.bench_function(BenchmarkId::new(name, l), |b| {
            let mut slot = built.borrow_mut();
            let k = slot.get_or_insert_with(&make);
            b.iter_custom(|iters| timed(client, iters, || f(k)))
        });
    }
}

/// The sparse update's buffers for one state, with its list of active sites made.
struct SparseKernels {
    client: Client,
    n: usize,
    /// Sites per unit of the sparse stress sums ([`epm::Profile::sites_per_unit`]).
    per_unit: usize,
    tracers: usize,
    active: Handle,
    strain_rate: Handle,
    stress: Handle,
    status: Handle,
    cells: Handle,
    fractions: Handle,
    list: [Handle; 3],
    tables: [Handle; 3],
}

impl SparseKernels {
    fn new(client: &Client, config: &Config, state: &epm::State) -> Self {
        let l = config.l;
        let tables = StepTables::new(l, &config.propagator, config.mu, config.dt);
        let real = epm::sparse::RealSpaceTables::new(l, &tables);
        let f32s = |v: &[f32]| client.create_from_slice(f32::as_bytes(v));
        let u32s = |v: &[u32]| client.create_from_slice(u32::as_bytes(v));
        let strain_rate: Vec<f32> = state
            .active
            .iter()
            .zip(&state.sign)
            .map(|(&a, &s)| a as f32 * s * 0.5)
            .collect();
        let n = l * l;
        let profile = epm::Profile::default_for(client).unwrap();
        let k = Self {
            client: client.clone(),
            n,
            per_unit: profile.sites_per_unit(n),
            tracers: state.tracers.len(),
            active: u32s(&state.active),
            strain_rate: f32s(&strain_rate),
            stress: f32s(&state.stress),
            status: u32s(&[u32::MAX, 0]),
            cells: client.create_from_slice(i32::as_bytes(&state.tracers.cells)),
            fractions: u32s(&state.tracers.fraction_words()),
            list: [u32s(&vec![0; n]), f32s(&vec![0.0; n]), u32s(&[0])],
            tables: [
                f32s(&real.stress),
                f32s(&real.displacement_x),
                f32s(&real.displacement_y),
            ],
        };
        k.compaction();
        k
    }

    fn buffers(&self) -> launch::sparse::SparseBuffers<'_> {
        launch::sparse::SparseBuffers {
            list_site: &self.list[0],
            list_rate: &self.list[1],
            list_count: &self.list[2],
            table_stress: &self.tables[0],
            table_x: &self.tables[1],
            table_y: &self.tables[2],
        }
    }

    fn compaction(&self) {
        let b = self.buffers();
        launch::sparse::compaction(&self.client, self.n, &self.active, &self.strain_rate, &b);
    }

    fn stress(&self) {
        let b = self.buffers();
        let shape = (self.n, self.per_unit);
        launch::sparse::stress(&self.client, shape, &b, &self.stress, &self.status, 7);
    }

    fn advect(&self) {
        let (b, cells, fractions) = (self.buffers(), &self.cells, &self.fractions);
        launch::sparse::advection(&self.client, self.n, self.tracers, cells, fractions, &b);
    }
}

/// The buffers of one step, as the simulation holds them, for timing its kernels one by one.
struct Kernels {
    client: Client,
    n: usize,
    /// Sites per unit of the activation ([`epm::Profile::sites_per_unit`]).
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
    keys: Handle,
    parameters: Handle,
    status: Handle,
    cells: Handle,
    fractions: Handle,
    spectrum: ComplexBuffers,
    increments: ComplexBuffers,
    filters: ComplexBuffers,
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
        let profile = epm::Profile::default_for(client).unwrap();
        let options = profile.plan_options();
        Self {
            client: client.clone(),
            n,
            per_unit: profile.sites_per_unit(n),
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
            counts: u32s(&vec![0; launch::count_words(1)]),
            event: u32s(&[0]),
            keys: u32s(&epm::activation::replica_keys(&[1])),
            parameters: f32s(&[TEMPERATURE as f32]),
            status: u32s(&[u32::MAX, 0]),
            cells: i32s(&state.tracers.cells),
            fractions: u32s(&state.tracers.fraction_words()),
            spectrum: ComplexBuffers::empty::<f32>(client, n / 2),
            increments: ComplexBuffers::empty::<f32>(client, launch::increments_len(n, 1)),
            filters: {
                let (re, im) = tables.filters(l);
                ComplexBuffers {
                    re: f32s(&re),
                    im: f32s(&im),
                }
            },
            forward: Fft2d::new(client, Shape2d::new(1, l / 2, l).unwrap(), options).unwrap(),
            inverse: Fft2d::new(client, Shape2d::new(3, l / 2, l).unwrap(), options).unwrap(),
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
            keys: &self.keys,
            parameters: &self.parameters,
        };
        let params = StepParams {
            step: 7,
            seed: 1,
            p_off: 0.1,
            dt: 0.1,
            strain_rate_amplitude: 0.5,
        };
        launch::activation(
            &self.client,
            (self.n, self.per_unit, 1),
            &buffers,
            &self.rule,
            &params,
            0,
            None,
        );
    }

    fn forward_fft(&self) {
        self.forward
            .forward_real_rows(&self.strain_rate, &self.spectrum)
            .unwrap();
    }

    /// The step's inverse: propagator multiply on load, stress update on store.
    fn inverse_fft(&self) {
        let stress = Accumulate {
            target: &self.stress,
            status: &self.status,
            tag: 7,
        };
        self.inverse
            .inverse_filtered_rows(
                &self.spectrum,
                &self.filters,
                &self.increments,
                Some(stress),
            )
            .unwrap();
    }

    fn inverse_plain(&self) {
        self.inverse
            .inverse(&self.increments, &self.increments)
            .unwrap();
    }

    fn advect(&self) {
        let (cells, fractions) = (&self.cells, &self.fractions);
        launch::advection(
            &self.client,
            self.n,
            1,
            self.tracers,
            cells,
            fractions,
            &self.increments,
        );
    }
}

criterion_group!(benches, step);
criterion_main!(benches);

//! Criterion group `observers`: the cost of each observer, as whole steps of the thermal
//! model at T = 0.1, L = 64 and 256 (steady state, default tracers) with that observer alone,
//! beside bare steps (`none/L`) measured in the same run. One iteration is one step. At
//! L = 64 an observer's launches are most of its cost on a CPU adapter, at 256 its arithmetic.
//!
//! Run with `cargo xtask bench` or `cargo bench --bench observers`.

use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use epm::observables::measurements::Measurements;
use epm::{ActivationConfig, Config, Observer, Simulation};

/// The lattice sizes.
const SIZES: [usize; 2] = [64, 256];

fn observers(c: &mut Criterion) {
    let mut group = c.benchmark_group("observers");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(6));
    for l in SIZES {
        size(&mut group, l);
    }
    group.finish();
}

fn size(group: &mut BenchmarkGroup<'_, WallTime>, l: usize) {
    let device = epm::device::default_device().expect("no compute device (see README)");
    let client = device.client();
    let sync = || epm::cubecl::future::block_on(client.sync()).unwrap();
    let config = Config {
        l,
        seed: 1,
        activation: ActivationConfig::Thermal { temperature: 0.1 },
        ..Config::default()
    };
    let mut sim = Simulation::new(config, &device).unwrap();
    sim.advance(1500, &mut []).unwrap();
    group.bench_function(BenchmarkId::new("none", l), |b| {
        b.iter_custom(|iters| {
            sync();
            let start = Instant::now();
            sim.advance(iters, &mut []).unwrap();
            sync();
            start.elapsed()
        })
    });
    let names = [
        "activity",
        "tracer-dynamics",
        "displacements",
        "waiting-times",
        "stress-correlation",
    ];
    for (which, name) in names.iter().enumerate() {
        group.bench_function(BenchmarkId::new(*name, l), |b| {
            let mut m = Measurements::new(&sim.view()).unwrap();
            // Untimed: the observer's kernels compile (seconds on lavapipe), which in
            // criterion's first iteration would make it time one step per sample.
            let mut all = m.observers();
            sim.advance(100, &mut [all.remove(which)]).unwrap();
            drop(all);
            b.iter_custom(|iters| {
                let mut all = m.observers();
                let one: &mut dyn Observer = all.remove(which);
                sync();
                let start = Instant::now();
                sim.advance(iters, &mut [one]).unwrap();
                sync();
                start.elapsed()
            })
        });
    }
}

criterion_group!(benches, observers);
criterion_main!(benches);

//! Criterion group `observers`: the cost of each observer, as whole steps of the thermal
//! model at T = 0.1, L = 256 (steady state, default tracers) with that observer alone, beside
//! bare steps (`none/256`) measured in the same run. One iteration is one step.
//!
//! Run with `cargo xtask bench` or `cargo bench --bench observers`.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use epm::observables::measurements::Measurements;
use epm::{ActivationConfig, Config, Observer, Simulation};

const L: usize = 256;

fn observers(c: &mut Criterion) {
    let device = epm::device::default_device().expect("no compute device (see README)");
    let client = device.client();
    let sync = || epm::cubecl::future::block_on(client.sync()).unwrap();
    let config = Config {
        l: L,
        seed: 1,
        activation: ActivationConfig::Thermal { temperature: 0.1 },
        ..Config::default()
    };
    let mut sim = Simulation::new(config, &device).unwrap();
    sim.advance(1500, &mut []).unwrap();
    let mut group = c.benchmark_group("observers");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(6));
    group.bench_function(BenchmarkId::new("none", L), |b| {
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
        group.bench_function(BenchmarkId::new(*name, L), |b| {
            let mut m = Measurements::new(&sim.view()).unwrap();
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
    group.finish();
}

criterion_group!(benches, observers);
criterion_main!(benches);

//! Criterion group `fft2d`: one forward + inverse complex 2D transform of an L x L field,
//! synced with the device, for our FFT (`ours/L`), burn's own FFT composed into 2D
//! (`burn-signal/L`) and rustfft on this machine's CPU (`rustfft/L`). `copy-pass/L` is the
//! memory floor of one pass: a kernel that reads and writes the two planes once, one value per
//! unit; `copy-pass-lanes/L` the same with `Vector`s of four values per unit, the floor of our
//! passes in lanes (`PlanOptions::lanes_log2`). Our transform pair is 4 to 8 such passes
//! (lengths up to 32: 4; up to 1024: 8), plus the butterflies.
//!
//! Run with `cargo xtask bench` (adds the markdown table) or `cargo bench --bench fft2d`;
//! pick the backend with a cargo feature, e.g. `--no-default-features --features cuda`.

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use burn::tensor::{Device, Tensor, TensorData};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use epm_fft::cubecl::{self, prelude::*};
use epm_fft::reference::RustFft2d;
use epm_fft::{ComplexBuffers, ComplexField, Fft2d, Shape2d};
use rustfft::num_complex::Complex;

const SIZES: [usize; 4] = [128, 256, 512, 1024];

fn field(l: usize) -> ComplexField<f32> {
    // A deterministic, non-trivial field: no RNG needed for timing.
    let re = (0..l * l)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
        .collect();
    let im = (0..l * l)
        .map(|i| ((i * 104_729) % 1000) as f32 / 1000.0 - 0.5)
        .collect();
    ComplexField {
        ly: l,
        lx: l,
        re,
        im,
    }
}

/// One pass through memory: read both planes, write both planes, `N` values per unit.
#[cube(launch_unchecked)]
fn copy_pass<N: Size>(
    src_re: &[Vector<f32, N>],
    src_im: &[Vector<f32, N>],
    dst_re: &mut [Vector<f32, N>],
    dst_im: &mut [Vector<f32, N>],
    #[comptime] len: usize,
) {
    let p = ABSOLUTE_POS;
    if p < len {
        dst_re[p] = src_re[p];
        dst_im[p] = src_im[p];
    }
}

fn ours(c: &mut Criterion) {
    let client = epm_fft::device::default_device()
        .expect("no compute device (see README: mesa-vulkan-drivers)")
        .client();
    let adapter = epm_fft::device::describe(&client);
    eprintln!("fft2d: {adapter}");
    // For `cargo xtask bench`'s table: which device these numbers belong to.
    let dir = common::criterion_dir();
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("adapter.txt"), &adapter);
    }
    let mut group = c.benchmark_group("fft2d");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for l in SIZES {
        let fft = Fft2d::<f32>::new(
            &client,
            Shape2d::new(1, l, l).unwrap(),
            // What a run on this adapter plans: the execution profile's options.
            epm::Profile::default_for(&client).unwrap().plan_options(),
        )
        .unwrap();
        let buffers = fft.upload(&[field(l)]).unwrap();
        group.bench_function(BenchmarkId::new("ours", l), |b| {
            b.iter_custom(|iters| {
                epm_fft::cubecl::future::block_on(client.sync()).unwrap();
                let start = Instant::now();
                for _ in 0..iters {
                    fft.forward(&buffers, &buffers).unwrap();
                    fft.inverse(&buffers, &buffers).unwrap();
                }
                epm_fft::cubecl::future::block_on(client.sync()).unwrap();
                start.elapsed()
            })
        });

        let copy = ComplexBuffers::empty::<f32>(&client, l * l);
        for (id, lanes) in [("copy-pass", 1), ("copy-pass-lanes", 4)] {
            let units = l * l / lanes;
            let dim = CubeDim::new_1d(256);
            let count = cubecl::calculate_cube_count_elemwise(&client, units, dim);
            group.bench_function(BenchmarkId::new(id, l), |b| {
                b.iter_custom(|iters| {
                    epm_fft::cubecl::future::block_on(client.sync()).unwrap();
                    let start = Instant::now();
                    for _ in 0..iters {
                        let arg = |h| epm_fft::buffer::vectors::<f32>(h, l * l, lanes);
                        // SAFETY: all four planes hold l * l elements, `units` vectors of
                        // `lanes`, and the kernel stops there.
                        unsafe {
                            copy_pass::launch_unchecked(
                                &client,
                                count.clone(),
                                dim,
                                lanes,
                                arg(&buffers.re),
                                arg(&buffers.im),
                                arg(&copy.re),
                                arg(&copy.im),
                                units,
                            );
                        }
                    }
                    epm_fft::cubecl::future::block_on(client.sync()).unwrap();
                    start.elapsed()
                })
            });
        }

        // burn 0.22's FFT is 1D and forward only: 2D is cfft along x then y; the inverse is
        // conj(F(conj X)) / N.
        let device = Device::default();
        let f = field(l);
        let re = Tensor::<2>::from_data(TensorData::new(f.re.clone(), [l, l]), &device);
        let im = Tensor::<2>::from_data(TensorData::new(f.im.clone(), [l, l]), &device);
        let scale = 1.0 / (l * l) as f32;
        group.bench_function(BenchmarkId::new("burn-signal", l), |b| {
            b.iter_custom(|iters| {
                device.sync().unwrap();
                let start = Instant::now();
                for _ in 0..iters {
                    let (r, i) = burn::signal::cfft(re.clone(), im.clone(), 1, None);
                    let (r, i) = burn::signal::cfft(r, i, 0, None);
                    let (r, i) = burn::signal::cfft(r, i.neg(), 1, None);
                    let (r, i) = burn::signal::cfft(r, i, 0, None);
                    let _back = (r * scale, i.neg() * scale);
                }
                device.sync().unwrap();
                start.elapsed()
            })
        });

        // rustfft on the CPU, one thread.
        let mut cpu = RustFft2d::new(l, l);
        let mut data: Vec<Complex<f32>> =
            f.re.iter()
                .zip(&f.im)
                .map(|(&r, &i)| Complex::new(r, i))
                .collect();
        group.bench_function(BenchmarkId::new("rustfft", l), |b| {
            b.iter(|| {
                cpu.forward(&mut data);
                cpu.inverse(&mut data);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, ours);
criterion_main!(benches);

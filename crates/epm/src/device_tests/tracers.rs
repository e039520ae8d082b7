//! The tracer advection kernel against its CPU twin.

use cubecl::prelude::*;
use epm::fft::ComplexBuffers;
use epm::launch;
use epm::propagator::increment_index_cpu;
use epm::tracers::{TracerPositions, advect_tracers_cpu};
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::client;

#[test]
fn advection_kernel_equals_the_cpu_reference() {
    let client = client();
    let (l, count) = (32usize, 3000usize);
    let mut rng = StdRng::seed_from_u64(5);
    // Positions all over, cells far outside the box too (unwrapped), and some on cell edges.
    let mut tracers = TracerPositions::uniform(3, count, l);
    for i in 0..count / 3 {
        tracers.cells[2 * i] += rng.random_range(-5000..5000);
        tracers.cells[2 * i + 1] -= rng.random_range(-5000..5000);
    }
    tracers.fractions[0] = 0;
    tracers.fractions[1] = u64::MAX;
    tracers.fractions[2] = u32::MAX as u64;
    let cells = client.create_from_slice(i32::as_bytes(&tracers.cells));
    let fractions = client.create_from_slice(u32::as_bytes(&tracers.fraction_words()));
    for round in 0..5 {
        // Displacements from 1e-9 to 0.3 lattice spacings, both signs.
        let du: Vec<f32> = (0..2 * l * l)
            .map(|_| {
                let magnitude = 10f32.powf(rng.random_range(-9.0..-0.5));
                if rng.random_bool(0.5) {
                    magnitude
                } else {
                    -magnitude
                }
            })
            .collect();
        let (du_x, du_y) = du.split_at(l * l);
        // The increments as the step's inverse leaves them: fields 1 and 2 in row pairs.
        let mut planes = [vec![0.0f32; 3 * l * l / 2], vec![0.0f32; 3 * l * l / 2]];
        for (field, du) in [(1, du_x), (2, du_y)] {
            for (s, &v) in du.iter().enumerate() {
                let (plane, index) = increment_index_cpu(field, s % l, s / l, l);
                planes[plane][index] = v;
            }
        }
        let increments = ComplexBuffers {
            re: client.create_from_slice(f32::as_bytes(&planes[0])),
            im: client.create_from_slice(f32::as_bytes(&planes[1])),
        };
        launch::advection(&client, l * l, 1, count, &cells, &fractions, &increments);
        advect_tracers_cpu(&mut tracers, du_x, du_y, l);
        let device = TracerPositions::from_words(
            i32::from_bytes(&client.read_one(cells.clone()).unwrap()).to_vec(),
            u32::from_bytes(&client.read_one(fractions.clone()).unwrap()),
        );
        let mut worst = 0.0f64;
        for i in 0..count {
            let (a, b) = (device.position(i), tracers.position(i));
            worst = worst.max((a.0 - b.0).abs()).max((a.1 - b.1).abs());
        }
        // The interpolation may fuse multiply-adds differently: a few f32 ulps of du.
        assert!(worst < 1e-6, "round {round}: positions differ by {worst}");
    }
}

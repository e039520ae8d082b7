//! The device Philox against the CPU reference and Random123's known answers.

use cubecl::prelude::*;

use super::client;
use epm::fft::buffer;
use epm::rng::{self, Purpose, philox, philox4x32_10, unit_f32};

/// Unit `i` draws for counter `[c0 + i, c1, c2, c3]` and writes the four words and the first
/// word's unit float.
#[cube(launch)]
fn draw(
    out: &mut [u32],
    units: &mut [f32],
    c0: u32,
    c1: u32,
    c2: u32,
    c3: u32,
    k0: u32,
    k1: u32,
    #[comptime] n: usize,
) {
    let i = ABSOLUTE_POS;
    if i < n {
        let (a, b, c, d) = philox(c0 + i as u32, c1, c2, c3, k0, k1);
        out[4 * i] = a;
        out[4 * i + 1] = b;
        out[4 * i + 2] = c;
        out[4 * i + 3] = d;
        units[i] = unit_f32(a);
    }
}

fn run(client: &Client, counter: [u32; 4], key: [u32; 2], n: usize) -> (Vec<u32>, Vec<f32>) {
    let out = client.empty(4 * n * 4);
    let units = client.empty(n * 4);
    draw::launch(
        client,
        CubeCount::new_1d(n.div_ceil(64) as u32),
        CubeDim::new_1d(64),
        buffer::arg::<u32>(&out, 4 * n),
        buffer::arg::<f32>(&units, n),
        counter[0],
        counter[1],
        counter[2],
        counter[3],
        key[0],
        key[1],
        n,
    );
    let words = u32::from_bytes(&client.read_one(out).unwrap()).to_vec();
    let floats = f32::from_bytes(&client.read_one(units).unwrap()).to_vec();
    (words, floats)
}

#[test]
fn device_philox_gives_the_known_answers() {
    let client = client();
    let kats = [
        (
            [0u32; 4],
            [0u32; 2],
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
        ),
        (
            [u32::MAX; 4],
            [u32::MAX; 2],
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
        ),
        (
            [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
            [0xa4093822, 0x299f31d0],
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
        ),
    ];
    for (counter, key, expected) in kats {
        let (words, _) = run(&client, counter, key, 1);
        assert_eq!(words, expected, "counter {counter:x?} key {key:x?}");
    }
}

#[test]
fn device_streams_equal_the_cpu_reference() {
    let client = client();
    let n = 10_000;
    for (seed, step) in [(0u64, 0u64), (42, 123_456_789_012), (u64::MAX, 1)] {
        let c = rng::counter(0, step, Purpose::Activation);
        let (words, floats) = run(&client, c, rng::key(seed), n);
        for site in 0..n {
            let cpu = philox4x32_10(
                rng::counter(site as u32, step, Purpose::Activation),
                rng::key(seed),
            );
            assert_eq!(
                &words[4 * site..4 * site + 4],
                &cpu,
                "seed {seed} step {step} site {site}"
            );
            assert_eq!(
                floats[site],
                rng::to_unit(cpu[0]),
                "unit float, site {site}"
            );
        }
    }
}

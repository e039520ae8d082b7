//! Philox4x32-10 (Salmon et al., SC'11; Random123): a counter-based generator, so every random
//! number of a run is a pure function of (seed, step, site, purpose) and the device and the CPU
//! reference draw the same numbers without sharing state.
//!
//! Counter words: `[site, step_lo, step_hi, purpose]`; key words: `[seed_lo, seed_hi]`.
//! One call gives four independent `u32`; [`to_unit`] turns one into a uniform in `[0, 1)`
//! with 24 random bits, exactly representable in `f32`, identical on every backend.

use cubecl::prelude::*;

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// What a draw is for: one counter word, so streams for different purposes never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Purpose {
    /// Activation and deactivation decisions of the step.
    Activation = 0,
    /// Initial stress field.
    InitialStress = 1,
    /// Initial tracer positions.
    TracerPlacement = 2,
}

/// Philox4x32-10 of `counter` under `key`, on the CPU.
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (counter, key);
    for round in 0..10 {
        if round > 0 {
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
        }
        let p0 = (M0 as u64) * (c[0] as u64);
        let p1 = (M1 as u64) * (c[2] as u64);
        c = [
            ((p1 >> 32) as u32) ^ c[1] ^ k[0],
            p1 as u32,
            ((p0 >> 32) as u32) ^ c[3] ^ k[1],
            p0 as u32,
        ];
    }
    c
}

/// The counter of a draw: `[site, step_lo, step_hi, purpose]`.
pub fn counter(site: u32, step: u64, purpose: Purpose) -> [u32; 4] {
    [site, step as u32, (step >> 32) as u32, purpose as u32]
}

/// The key of a run: the 64-bit seed split in two words.
pub fn key(seed: u64) -> [u32; 2] {
    [seed as u32, (seed >> 32) as u32]
}

/// A uniform in `[0, 1)`: the top 24 bits of `x` times `2^-24`.
pub fn to_unit(x: u32) -> f32 {
    (x >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// Philox4x32-10 in a kernel: the same function as [`philox4x32_10`], in `u32` arithmetic
/// (`mul_hi` for the high words), so it runs on every backend.
#[cube]
pub fn philox(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32) -> (u32, u32, u32, u32) {
    let mut x0 = c0;
    let mut x1 = c1;
    let mut x2 = c2;
    let mut x3 = c3;
    let mut y0 = k0;
    let mut y1 = k1;
    #[unroll]
    for round in 0..10u32 {
        if round > 0 {
            y0 += W0;
            y1 += W1;
        }
        let hi0 = u32::mul_hi(M0, x0);
        let lo0 = M0 * x0;
        let hi1 = u32::mul_hi(M1, x2);
        let lo1 = M1 * x2;
        let n0 = hi1 ^ x1 ^ y0;
        let n2 = hi0 ^ x3 ^ y1;
        x0 = n0;
        x1 = lo1;
        x2 = n2;
        x3 = lo0;
    }
    (x0, x1, x2, x3)
}

/// [`to_unit`] in a kernel.
#[cube]
pub fn unit_f32(x: u32) -> f32 {
    f32::cast_from(x >> 8u32) * comptime![1.0f32 / 16_777_216.0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random123_known_answers() {
        assert_eq!(
            philox4x32_10([0; 4], [0; 2]),
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
        );
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
        );
        assert_eq!(
            philox4x32_10(
                [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
                [0xa4093822, 0x299f31d0]
            ),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn unit_uniforms_are_in_range_and_flat() {
        let n = 1 << 16;
        let mut bins = [0u32; 16];
        for site in 0..n {
            let u = to_unit(philox4x32_10(counter(site, 7, Purpose::Activation), key(42))[0]);
            assert!((0.0..1.0).contains(&u));
            bins[(u * 16.0) as usize] += 1;
        }
        // Each bin expects n/16 = 4096 with standard deviation ~62: 5 sigma bounds.
        for b in bins {
            assert!((b as f64 - 4096.0).abs() < 5.0 * 62.0, "{bins:?}");
        }
    }
}

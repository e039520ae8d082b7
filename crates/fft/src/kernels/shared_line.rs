//! One cube per line, the whole line in shared memory: the GPU layout.
//!
//! The cube loads its line bit-reversed into shared memory, runs the radix-2 stages with a
//! barrier between stages, and writes the line out (scaled when asked). It needs
//! `2 * n * size_of::<F>()` bytes of shared memory, so it serves lengths within the device's
//! budget (lavapipe: 32 KiB, n <= 4096 in f32); longer lines go through `radix` passes.
//! Source and destination may be the same buffer: each line is read entirely before it is written.

use cubecl::prelude::*;

use super::LineLayout;
use super::radix::bit_reverse;

/// The comptime description of one shared-memory line transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinePlan {
    /// log2 of the line length.
    pub log2_n: usize,
    /// Units per cube.
    pub cube_units: usize,
    /// Inverse transform: conjugate the twiddles.
    pub inverse: bool,
    /// Multiply the outputs by `2^-norm_log2` (exact in floating point); 0 leaves them alone.
    pub norm_log2: usize,
    /// The source imaginary plane is taken as zero (a real input).
    pub zero_imag: bool,
    /// Where the lines are.
    pub layout: LineLayout,
}

/// Shared memory one line needs, in bytes.
pub fn shared_bytes(n: usize, elem_size: usize) -> usize {
    2 * n * elem_size
}

#[cube(launch_unchecked)]
pub fn shared_line<F: Float>(
    src_re: &[F],
    src_im: &[F],
    dst_re: &mut [F],
    dst_im: &mut [F],
    tw_re: &[F],
    tw_im: &[F],
    #[comptime] plan: LinePlan,
) {
    let layout = comptime![plan.layout];
    let n = comptime![1usize << plan.log2_n];
    let units = comptime![plan.cube_units];
    let es = comptime![layout.elem_stride];
    let line = CUBE_POS;
    let inner = line & comptime![(1usize << layout.inner_log2) - 1];
    let outer = line >> comptime![layout.inner_log2];
    let base = outer * comptime![layout.outer_step] + inner * comptime![layout.inner_step];
    let inside = outer < comptime![layout.outer_count];

    let mut sh_re = Shared::<[F]>::new_slice(n);
    let mut sh_im = Shared::<[F]>::new_slice(n);

    if inside {
        let mut i = UNIT_POS as usize;
        while i < n {
            let r = bit_reverse(i, plan.log2_n);
            sh_re[r] = src_re[base + i * es];
            if comptime![plan.zero_imag] {
                sh_im[r] = F::new(0.0f32);
            } else {
                sh_im[r] = src_im[base + i * es];
            }
            i += units;
        }
    }
    sync_cube();

    let half = comptime![n / 2];
    for s in 0..plan.log2_n {
        let h = 1usize << s;
        let shift = comptime![plan.log2_n - 1] - s;
        let mut b = UNIT_POS as usize;
        while b < half {
            let j = b & (h - 1);
            let i0 = ((b >> s) << (s + 1)) + j;
            let i1 = i0 + h;
            let idx = j << shift;
            let wr = tw_re[idx];
            let wi = if comptime![plan.inverse] {
                -tw_im[idx]
            } else {
                tw_im[idx]
            };
            let br = sh_re[i1];
            let bi = sh_im[i1];
            let tr = wr * br - wi * bi;
            let ti = wr * bi + wi * br;
            let ar = sh_re[i0];
            let ai = sh_im[i0];
            sh_re[i0] = ar + tr;
            sh_im[i0] = ai + ti;
            sh_re[i1] = ar - tr;
            sh_im[i1] = ai - ti;
            b += units;
        }
        sync_cube();
    }

    if inside {
        let scale = F::new(comptime![1.0f32 / (1u64 << plan.norm_log2) as f32]);
        let mut i = UNIT_POS as usize;
        while i < n {
            if comptime![plan.norm_log2 > 0] {
                dst_re[base + i * es] = sh_re[i] * scale;
                dst_im[base + i * es] = sh_im[i] * scale;
            } else {
                dst_re[base + i * es] = sh_re[i];
                dst_im[base + i * es] = sh_im[i];
            }
            i += units;
        }
    }
    // No unit may leave while others still read shared memory that a runtime could recycle.
    sync_cube();
}

//! Lines in shared memory: each cube loads a few whole lines once, runs every radix-2^k pass
//! of [`super::radix`] on them there, and writes them out once.
//!
//! So one axis costs one read and one write of global memory, against one of each per pass
//! through global memory. A line of `n` values needs `2 n size_of::<F>()` bytes of shared
//! memory (lavapipe: 32 KiB, n <= 4096 in f32); longer lines go through global passes.
//! Source and destination may be the same buffer: a cube reads its lines entirely before it
//! writes them.
//!
//! Units of a cube: `units_per_line` per line, each taking blocks of `2^k` values in turn.
//! For columns, neighbouring units take neighbouring columns so global loads and stores are
//! contiguous; for rows, neighbouring units take neighbouring elements of one row.

use cubecl::prelude::*;

use super::fused::{self, Fusion};
use super::radix::{Pass, bit_reverse, butterflies};
use super::{LineLayout, outer_lines};

/// Passes one kernel can fuse: 3 passes of up to radix 32 cover lines up to 2^15.
pub const MAX_PASSES: usize = 3;

/// The comptime description of one shared-memory line transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinePlan {
    /// log2 of the line length.
    pub log2_n: usize,
    /// Radix-2 stages fused in each pass, in order; 0 for an absent pass.
    pub stages: [usize; MAX_PASSES],
    /// log2 of the units per line.
    pub units_per_line_log2: usize,
    /// log2 of the lines per cube.
    pub lines_per_cube_log2: usize,
    /// Neighbouring units take neighbouring lines (columns) rather than neighbouring elements.
    pub line_fastest: bool,
    /// Inverse transform: conjugate the twiddles.
    pub inverse: bool,
    /// Multiply the outputs by `2^-norm_log2` (exact in floating point); 0 leaves them alone.
    pub norm_log2: usize,
    /// The source imaginary plane is taken as zero (a real input).
    pub zero_imag: bool,
    /// The source is real fields in row pairs ([`super::radix::Pass::row_pairs`]).
    pub row_pairs: bool,
    /// Where the lines are.
    pub layout: LineLayout,
    /// A filter on the load, an accumulation on the store ([`super::fused`]).
    pub fusion: Fusion,
}

impl LinePlan {
    /// Pass `i` as a [`Pass`] (stage offset and radix), for the shared butterflies.
    pub fn pass(&self, i: usize) -> Pass {
        Pass {
            log2_n: self.log2_n,
            table_log2: self.log2_n,
            stage: self.stages[..i].iter().sum(),
            radix_log2: self.stages[i],
            inverse: self.inverse,
            norm_log2: 0,
            zero_imag: false,
            row_pairs: false,
            layout: self.layout,
            fusion: Fusion::default(),
            lanes_log2: 0,
        }
    }

    /// Units in one cube.
    pub fn cube_units(&self) -> usize {
        1 << (self.units_per_line_log2 + self.lines_per_cube_log2)
    }

    /// Cubes to launch.
    pub fn cubes(&self) -> usize {
        self.layout.lines() >> self.lines_per_cube_log2
    }

    /// This plan as its kernel is compiled for a plan of `batch` fields: one field's layout,
    /// the kernel's cubes stopping at the fields its destination holds (as
    /// [`Pass::for_any_batch`]).
    pub fn for_any_batch(self, batch: usize) -> Self {
        Self {
            layout: self.layout.first_fields(1, batch),
            ..self
        }
    }
}

/// Shared memory `lines` lines of length `n` need, in bytes.
pub fn shared_bytes(n: usize, lines: usize, elem_size: usize) -> usize {
    2 * n * lines * elem_size
}

/// One pass on the lines in shared memory: unit `u` of its line takes blocks `u`,
/// `u + units_per_line`, ... of `2^k` values at `g + j + t h`.
#[cube]
fn shared_pass<F: Float>(
    sh_re: &mut Shared<[F]>,
    sh_im: &mut Shared<[F]>,
    tw_re: &[F],
    tw_im: &[F],
    u: usize,
    line_off: usize,
    #[comptime] units_per_line: usize,
    #[comptime] pass: Pass,
) {
    let radix = comptime![1usize << pass.radix_log2];
    let h = comptime![1usize << pass.stage];
    let blocks = comptime![1usize << (pass.log2_n - pass.radix_log2)];
    let mut re = Array::<F>::new(radix);
    let mut im = Array::<F>::new(radix);
    let mut b = u;
    while b < blocks {
        let j = b & (h - 1);
        let g = (b >> comptime![pass.stage]) << comptime![pass.stage + pass.radix_log2];
        let first = line_off + g + j;
        #[unroll]
        for t in 0..radix {
            re[t] = sh_re[first + t * h];
            im[t] = sh_im[first + t * h];
        }
        butterflies::<F>(&mut re, &mut im, j, tw_re, tw_im, pass);
        #[unroll]
        for t in 0..radix {
            sh_re[first + t * h] = re[t];
            sh_im[first + t * h] = im[t];
        }
        b += units_per_line;
    }
}

#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn shared_lines<F: Float>(
    src_re: &[F],
    src_im: &[F],
    h_re: &[F],
    h_im: &[F],
    dst_re: &mut [F],
    dst_im: &mut [F],
    acc: &mut [F],
    status: &[Atomic<u32>],
    tw_re: &[F],
    tw_im: &[F],
    tag: u32,
    #[comptime] plan: LinePlan,
) {
    let layout = comptime![plan.layout];
    let n = comptime![1usize << plan.log2_n];
    let upl = comptime![1usize << plan.units_per_line_log2];
    let lpc = comptime![1usize << plan.lines_per_cube_log2];
    let es = comptime![layout.elem_stride];
    let unit = UNIT_POS as usize;
    let (u, line_local) = if comptime![plan.line_fastest] {
        (
            unit >> comptime![plan.lines_per_cube_log2],
            unit & (lpc - 1),
        )
    } else {
        (
            unit & (upl - 1),
            unit >> comptime![plan.units_per_line_log2],
        )
    };
    let line = (CUBE_POS << comptime![plan.lines_per_cube_log2]) + line_local;
    let inner = line & comptime![(1usize << layout.inner_log2) - 1];
    let outer = line >> comptime![layout.inner_log2];
    let base = outer * comptime![layout.outer_step] + inner * comptime![layout.inner_step];
    // Compiled for any batch (`LinePlan::for_any_batch`): the fields the destination holds.
    let inside = outer < outer_lines(dst_re.len(), layout);
    let line_off = line_local * n;

    let mut sh_re = Shared::<[F]>::new_slice(comptime![n * lpc]);
    let mut sh_im = Shared::<[F]>::new_slice(comptime![n * lpc]);

    if inside {
        let mut i = u;
        while i < n {
            let r = line_off + bit_reverse(i, plan.log2_n);
            let p = base + i * es;
            if comptime![plan.fusion.filter] {
                let (fr, fi) = fused::filtered::<F>(src_re, src_im, h_re, h_im, p, plan.fusion);
                sh_re[r] = fr;
                sh_im[r] = fi;
            } else if comptime![plan.row_pairs] {
                let even = fused::paired_address(p, plan.fusion.row_log2);
                sh_re[r] = src_re[even];
                sh_im[r] = src_re[even + comptime![1usize << plan.fusion.row_log2]];
            } else {
                sh_re[r] = src_re[p];
                if comptime![plan.zero_imag] {
                    sh_im[r] = F::new(0.0f32);
                } else {
                    sh_im[r] = src_im[p];
                }
            }
            i += upl;
        }
    }
    sync_cube();
    shared_pass::<F>(
        &mut sh_re,
        &mut sh_im,
        tw_re,
        tw_im,
        u,
        line_off,
        upl,
        plan.pass(0),
    );
    sync_cube();
    if comptime![plan.stages[1] > 0] {
        shared_pass::<F>(
            &mut sh_re,
            &mut sh_im,
            tw_re,
            tw_im,
            u,
            line_off,
            upl,
            plan.pass(1),
        );
        sync_cube();
    }
    if comptime![plan.stages[2] > 0] {
        shared_pass::<F>(
            &mut sh_re,
            &mut sh_im,
            tw_re,
            tw_im,
            u,
            line_off,
            upl,
            plan.pass(2),
        );
        sync_cube();
    }

    if inside {
        let scale = F::new(comptime![1.0f32 / (1u64 << plan.norm_log2) as f32]);
        let mut i = u;
        while i < n {
            let p = base + i * es;
            let (vr, vi) = if comptime![plan.norm_log2 > 0] {
                (sh_re[line_off + i] * scale, sh_im[line_off + i] * scale)
            } else {
                (sh_re[line_off + i], sh_im[line_off + i])
            };
            dst_re[p] = vr;
            dst_im[p] = vi;
            if comptime![plan.fusion.accumulate] {
                fused::accumulate::<F>(acc, status, p, vr, vi, tag, plan.fusion);
            }
            i += upl;
        }
    }
    // No unit may leave while others still read shared memory that a runtime could recycle.
    sync_cube();
}

//! Radix-2^k decimation-in-time passes through global memory.
//!
//! A transform of length `n = 2^m` along one axis is `m` radix-2 stages after a bit-reversal
//! permutation. One *pass* fuses `k` consecutive stages (`k <= 5`): each unit loads `2^k`
//! values of one line into registers, runs the `k` stages there and stores them back, so the
//! field crosses memory `ceil(m / k)` times instead of `m`. The first pass reads its input
//! in bit-reversed order from the source buffer and writes the destination (out of place);
//! the others work in place on the destination.
//!
//! Stage `s` (half-size `h = 2^s`) combines `a = x[g + j]` and `b = x[g + j + h]`
//! (`g` a multiple of `2h`, `j < h`) into `a + w b`, `a - w b` with `w = w_{2h}^j`,
//! `w_n = exp(-2 pi i / n)` forward and its conjugate inverse; `w_{2h}^j` is entry
//! `j * n / 2h` of the plan's twiddle table.
//!
//! One unit per (line, block of `2^k` values): enough parallelism for GPUs, and on a CPU
//! adapter neighbouring lanes touch neighbouring addresses.
//!
//! Lanes ([`first_pass_lanes()`], [`inner_pass_lanes()`]): one unit does the work of `2^l`
//! units whose values sit side by side in memory (neighbouring columns, or neighbouring blocks
//! of a row from stage `l` on, or in a row's first pass the blocks whose bit-reversed indices
//! are neighbours), loading and storing `Vector<F, 2^l>` and running the same scalar
//! butterflies lane by lane. The arithmetic is the same; the loads,
//! stores and address arithmetic are `2^l` times fewer, which on lavapipe is what a pass costs
//! (one column pass at L = 256: 0.26 against 0.34 ms; L = 1024: 2.9 against 4.4 ms).

use cubecl::prelude::*;

use super::fused::{self, Fusion};
use super::{LineLayout, outer_lines};

/// The comptime description of one pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pass {
    /// log2 of the transform length along this axis.
    pub log2_n: usize,
    /// log2 of the transform length of the twiddle table the pass reads (`2^(t-1)` entries),
    /// at least `log2_n`: a shorter axis reads every `2^(t - log2_n)`-th entry of a longer
    /// axis's table (the columns of a field with `ly < lx` in [`super::in_cube`]).
    pub table_log2: usize,
    /// First radix-2 stage fused in this pass.
    pub stage: usize,
    /// Number of fused stages, `k`.
    pub radix_log2: usize,
    /// Inverse transform: conjugate the twiddles.
    pub inverse: bool,
    /// Multiply the outputs by `2^-norm_log2` (exact in floating point); 0 leaves them alone.
    pub norm_log2: usize,
    /// First pass only: the source imaginary plane is taken as zero (a real input).
    pub zero_imag: bool,
    /// First pass only: the source is real fields of `2 ly x lx` in the real plane, read in
    /// row pairs, the even row as the real part and the odd row as the imaginary part
    /// ([`crate::real_rows`]).
    pub row_pairs: bool,
    /// Where the lines are.
    pub layout: LineLayout,
    /// A filter on the first pass's load, an accumulation on the last pass's store.
    pub fusion: Fusion,
    /// log2 of the units one unit of the lanes kernels stands for (0: the scalar kernels).
    /// Set per launch by [`Pass::with_lanes`].
    pub lanes_log2: usize,
}

impl Pass {
    /// Radix-2 stages per pass for one axis: `log2_n` stages in as few passes of at most
    /// `max_radix_log2` as possible, as even as possible (9 = 5 + 4, not 5 + 4 + 0 or 8 + 1).
    pub fn balanced(log2_n: usize, max_radix_log2: usize) -> Vec<usize> {
        let passes = log2_n.div_ceil(max_radix_log2).max(1);
        (0..passes)
            .map(|i| log2_n / passes + usize::from(i < log2_n % passes))
            .collect()
    }

    /// The passes of one axis, stages split by [`Pass::balanced`].
    pub fn split(log2_n: usize, max_radix_log2: usize, layout: LineLayout) -> Vec<Pass> {
        let mut stage = 0;
        Self::balanced(log2_n, max_radix_log2)
            .into_iter()
            .map(|radix_log2| {
                let pass = Pass {
                    log2_n,
                    table_log2: log2_n,
                    stage,
                    radix_log2,
                    inverse: false,
                    norm_log2: 0,
                    zero_imag: false,
                    row_pairs: false,
                    layout,
                    fusion: Fusion::default(),
                    lanes_log2: 0,
                };
                stage += radix_log2;
                pass
            })
            .collect()
    }

    /// Units to launch: one per line and block of `2^k` values (per `2^l` of them with lanes).
    pub fn units(&self) -> usize {
        (self.layout.lines() << (self.log2_n - self.radix_log2)) >> self.lanes_log2
    }

    /// This pass as its kernel is compiled for a plan of `batch` fields: with one field's
    /// layout ([`LineLayout::first_fields`]), since the kernel bounds its units by its
    /// destination's length (`locate`), so plans of every batch of a shape (every ensemble size)
    /// run the same compiled kernels.
    pub fn for_any_batch(self, batch: usize) -> Self {
        Self {
            layout: self.layout.first_fields(1, batch),
            ..self
        }
    }

    /// This pass in `2^max_lanes_log2` lanes where its values sit that many side by side, else
    /// scalar: columns when there are that many (neighbouring units are neighbouring columns,
    /// same block); rows from stage `l` on (neighbouring units are neighbouring `j` of one
    /// block group, `h = 2^stage >= 2^l` of them); a row's first pass when it has `2^l`
    /// blocks and `2^k >= 2^l` (lane `c` takes the block whose bit-reversed index is `R + c`,
    /// so the loads sit side by side, and stores its own `2^k` contiguous outputs `2^l` at a
    /// time). That last store has no accumulation: such a pass stays scalar.
    pub fn with_lanes(self, max_lanes_log2: usize) -> Self {
        let first_of_rows = self.layout.inner_log2 == 0 && self.stage == 0;
        let room = if self.layout.inner_log2 > 0 {
            self.layout.inner_log2
        } else if self.stage > 0 {
            self.stage
        } else {
            (self.log2_n - self.radix_log2).min(self.radix_log2)
        };
        let scalar = first_of_rows && self.fusion.accumulate;
        let lanes_log2 = if scalar || room < max_lanes_log2 {
            0
        } else {
            max_lanes_log2
        };
        Self { lanes_log2, ..self }
    }
}

/// Reverse the lowest `bits` bits of `i`.
#[cube]
pub fn bit_reverse(i: usize, #[comptime] bits: usize) -> usize {
    let mut r = 0usize;
    let mut x = i;
    #[unroll]
    for _ in 0..bits {
        r = (r << 1usize) | (x & 1usize);
        x >>= 1usize;
    }
    r
}

/// Address of element 0 of the line of unit `pos`, and the index of its block within the line.
/// The units of one field are contiguous (the field is the outermost index of `pos`). A
/// launched pass is compiled for any batch ([`Pass::for_any_batch`]): its units stop at the
/// fields its destination holds, `values` values of whole fields.
#[cube]
fn locate(pos: usize, values: usize, #[comptime] pass: Pass) -> (usize, usize, bool) {
    let layout = comptime![pass.layout];
    let block_log2 = comptime![pass.log2_n - pass.radix_log2];
    let inner = pos & comptime![(1usize << layout.inner_log2) - 1];
    let rest = pos >> comptime![layout.inner_log2];
    let block = rest & comptime![(1usize << block_log2) - 1];
    let outer = rest >> block_log2;
    let base = outer * comptime![layout.outer_step] + inner * comptime![layout.inner_step];
    let mut inside = true;
    if comptime![layout.outer_count != LineLayout::UNBOUNDED] {
        inside = outer < outer_lines(values, layout);
    }
    (base, block, inside)
}

/// The `k` fused radix-2 stages on the `2^k` values held in `re`, `im`.
/// Value `t` is element `g + j + t h` of the line (`h = 2^stage`).
///
/// The twiddle of stage `s + l` for value index `j + low h` factors as
/// `w_{2^(s+l+1)}^j * w_{2^(l+1)}^low`: the first factor is one table load per stage (none in
/// the first pass, where `j = 0`), the second a load at a constant index, the same for every
/// unit. On CPU adapters this replaces `k 2^(k-1)` gathers by `k`.
#[cube]
pub(crate) fn butterflies<F: Float>(
    re: &mut Array<F>,
    im: &mut Array<F>,
    j: usize,
    tw_re: &[F],
    tw_im: &[F],
    #[comptime] pass: Pass,
) {
    let half_radix = comptime![1usize << (pass.radix_log2 - 1)];
    let shift_j = comptime![pass.table_log2 - pass.stage - 1];
    let shift_c = comptime![pass.table_log2 - 1];
    #[unroll]
    for l in 0..pass.radix_log2 {
        let span = 1usize << l;
        let jdx = j << (shift_j - l);
        let jr = tw_re[jdx];
        let ji = if comptime![pass.inverse] {
            -tw_im[jdx]
        } else {
            tw_im[jdx]
        };
        #[unroll]
        for q in 0..half_radix {
            let low = q & (span - 1);
            let t0 = ((q >> l) << (l + 1)) | low;
            let t1 = t0 + span;
            let cidx = low << (shift_c - l);
            let cr = tw_re[cidx];
            let ci = if comptime![pass.inverse] {
                -tw_im[cidx]
            } else {
                tw_im[cidx]
            };
            let (wr, wi) = if comptime![pass.stage == 0] {
                (cr, ci)
            } else {
                (jr * cr - ji * ci, jr * ci + ji * cr)
            };
            let br = re[t1];
            let bi = im[t1];
            let tr = wr * br - wi * bi;
            let ti = wr * bi + wi * br;
            let ar = re[t0];
            let ai = im[t0];
            re[t0] = ar + tr;
            im[t0] = ai + ti;
            re[t1] = ar - tr;
            im[t1] = ai - ti;
        }
    }
}

/// Write the `2^k` values back to `g + j + t h`, scaled when the pass asks, and accumulated
/// when it fuses that ([`fused::accumulate`]).
#[cube]
#[allow(clippy::too_many_arguments)]
fn store<F: Float>(
    re: &Array<F>,
    im: &Array<F>,
    dst_re: &mut [F],
    dst_im: &mut [F],
    acc: &mut [F],
    status: &[Atomic<u32>],
    tag: u32,
    first: usize,
    #[comptime] pass: Pass,
) {
    let scale = F::new(comptime![1.0f32 / (1u64 << pass.norm_log2) as f32]);
    let radix = comptime![1usize << pass.radix_log2];
    let h = comptime![1usize << pass.stage];
    let es = comptime![pass.layout.elem_stride];
    #[unroll]
    for t in 0..radix {
        let p = first + t * h * es;
        let (vr, vi) = if comptime![pass.norm_log2 > 0] {
            (re[t] * scale, im[t] * scale)
        } else {
            (re[t], im[t])
        };
        dst_re[p] = vr;
        dst_im[p] = vi;
        if comptime![pass.fusion.accumulate] {
            fused::accumulate::<F>(acc, status, p, vr, vi, tag, pass.fusion);
        }
    }
}

/// The first pass of an axis (stage 0): reads `src` in bit-reversed order (through the
/// filter `h` when the pass fuses one: [`fused::filtered()`]), writes `dst`.
/// `src` and `dst` must be different buffers. `acc`, `status`, `tag`: see `store`.
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn first_pass<F: Float>(
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
    #[comptime] pass: Pass,
) {
    let (base, block, inside) = locate(ABSOLUTE_POS, dst_re.len(), pass);
    if inside {
        let radix = comptime![1usize << pass.radix_log2];
        let es = comptime![pass.layout.elem_stride];
        let rest_bits = comptime![pass.log2_n - pass.radix_log2];
        // Element g + t (g = block * 2^k) comes from index
        // rev(g + t) = rev(g) + rev_k(t) << (m - k).
        let g = block << comptime![pass.radix_log2];
        let rev_g = bit_reverse(block, rest_bits);
        let mut re = Array::<F>::new(radix);
        let mut im = Array::<F>::new(radix);
        #[unroll]
        for t in 0..radix {
            let src = base + (rev_g + (bit_reverse(t, pass.radix_log2) << rest_bits)) * es;
            if comptime![pass.fusion.filter] {
                let (fr, fi) = fused::filtered::<F>(src_re, src_im, h_re, h_im, src, pass.fusion);
                re[t] = fr;
                im[t] = fi;
            } else if comptime![pass.row_pairs] {
                let even = fused::paired_address(src, pass.fusion.row_log2);
                re[t] = src_re[even];
                im[t] = src_re[even + comptime![1usize << pass.fusion.row_log2]];
            } else {
                re[t] = src_re[src];
                if comptime![pass.zero_imag] {
                    im[t] = F::new(0.0f32);
                } else {
                    im[t] = src_im[src];
                }
            }
        }
        butterflies::<F>(&mut re, &mut im, 0usize, tw_re, tw_im, pass);
        let first = base + g * es;
        store::<F>(&re, &im, dst_re, dst_im, acc, status, tag, first, pass);
    }
}

/// A later pass of an axis (stage > 0), in place. `acc`, `status`, `tag`: see `store`.
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn inner_pass<F: Float>(
    data_re: &mut [F],
    data_im: &mut [F],
    acc: &mut [F],
    status: &[Atomic<u32>],
    tw_re: &[F],
    tw_im: &[F],
    tag: u32,
    #[comptime] pass: Pass,
) {
    let (base, block, inside) = locate(ABSOLUTE_POS, data_re.len(), pass);
    if inside {
        let radix = comptime![1usize << pass.radix_log2];
        let h = comptime![1usize << pass.stage];
        let es = comptime![pass.layout.elem_stride];
        let j = block & (h - 1);
        let g = (block >> comptime![pass.stage]) << comptime![pass.stage + pass.radix_log2];
        let first = base + (g + j) * es;
        let mut re = Array::<F>::new(radix);
        let mut im = Array::<F>::new(radix);
        #[unroll]
        for t in 0..radix {
            let p = first + t * h * es;
            re[t] = data_re[p];
            im[t] = data_im[p];
        }
        butterflies::<F>(&mut re, &mut im, j, tw_re, tw_im, pass);
        store::<F>(&re, &im, data_re, data_im, acc, status, tag, first, pass);
    }
}

/// The `k` fused stages of `2^l` units at once: value `t` of lane `c` is lane `c` of
/// `re[t]`, `im[t]`. Lane `c` is unit `pos + c`: in rows its `j` is `j + c`, in columns the
/// lanes share `j` ([`Pass::with_lanes`]). Scales the outputs when the pass asks.
#[cube]
fn butterflies_lanes<F: Float, N: Size>(
    re: &mut Array<Vector<F, N>>,
    im: &mut Array<Vector<F, N>>,
    j: usize,
    tw_re: &[F],
    tw_im: &[F],
    #[comptime] pass: Pass,
) {
    let radix = comptime![1usize << pass.radix_log2];
    let scale = F::new(comptime![1.0f32 / (1u64 << pass.norm_log2) as f32]);
    #[unroll]
    for c in 0..comptime![1usize << pass.lanes_log2] {
        let mut lane_re = Array::<F>::new(radix);
        let mut lane_im = Array::<F>::new(radix);
        #[unroll]
        for t in 0..radix {
            lane_re[t] = re[t].extract(c);
            lane_im[t] = im[t].extract(c);
        }
        let lane_j = if comptime![pass.layout.inner_log2 == 0 && pass.stage > 0] {
            j + c
        } else {
            j
        };
        butterflies::<F>(&mut lane_re, &mut lane_im, lane_j, tw_re, tw_im, pass);
        #[unroll]
        for t in 0..radix {
            let (vr, vi) = if comptime![pass.norm_log2 > 0] {
                (lane_re[t] * scale, lane_im[t] * scale)
            } else {
                (lane_re[t], lane_im[t])
            };
            let mut r = re[t];
            r.insert(c, vr);
            re[t] = r;
            let mut i = im[t];
            i.insert(c, vi);
            im[t] = i;
        }
    }
}

/// `store` of `2^l` units: vector `t` goes to `first + t h` (lane 0's address), added to
/// `acc` when the pass fuses that ([`fused::accumulate_lanes`]).
#[cube]
#[allow(clippy::too_many_arguments)]
fn store_lanes<F: Float, N: Size>(
    re: &Array<Vector<F, N>>,
    im: &Array<Vector<F, N>>,
    dst_re: &mut [Vector<F, N>],
    dst_im: &mut [Vector<F, N>],
    acc: &mut [Vector<F, N>],
    status: &[Atomic<u32>],
    tag: u32,
    first: usize,
    #[comptime] pass: Pass,
) {
    let lanes_log2 = comptime![pass.lanes_log2];
    let h = comptime![1usize << pass.stage];
    let es = comptime![pass.layout.elem_stride];
    #[unroll]
    for t in 0..comptime![1usize << pass.radix_log2] {
        let p = first + t * h * es;
        dst_re[p >> lanes_log2] = re[t];
        dst_im[p >> lanes_log2] = im[t];
        if comptime![pass.fusion.accumulate] {
            fused::accumulate_lanes::<F, N>(
                acc,
                status,
                p,
                re[t],
                im[t],
                tag,
                pass.fusion,
                lanes_log2,
            );
        }
    }
}

/// [`first_pass()`] for `2^l` units at once ([`Pass::with_lanes`]). Buffers are in vectors of
/// `2^l` values (`N`); `acc`, `status`, `tag`: see `store`.
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn first_pass_lanes<F: Float, N: Size>(
    src_re: &[Vector<F, N>],
    src_im: &[Vector<F, N>],
    h_re: &[Vector<F, N>],
    h_im: &[Vector<F, N>],
    dst_re: &mut [Vector<F, N>],
    dst_im: &mut [Vector<F, N>],
    acc: &mut [Vector<F, N>],
    status: &[Atomic<u32>],
    tw_re: &[F],
    tw_im: &[F],
    tag: u32,
    #[comptime] pass: Pass,
) {
    first_pass_lanes_at::<F, N>(
        ABSOLUTE_POS,
        src_re,
        src_im,
        h_re,
        h_im,
        dst_re,
        dst_im,
        acc,
        status,
        tw_re,
        tw_im,
        tag,
        pass,
    );
}

/// The work of unit `pos` of [`first_pass_lanes()`] (nothing past the batch). Also run by kernels
/// that make a whole transform in one cube (`kernels::in_cube`); with `2^l = 1` (vectors of
/// one) it computes the values of [`first_pass()`], bit for bit, for the blocks of rows in
/// bit-reversed order.
#[cube]
#[allow(clippy::too_many_arguments)]
pub fn first_pass_lanes_at<F: Float, N: Size>(
    pos: usize,
    src_re: &[Vector<F, N>],
    src_im: &[Vector<F, N>],
    h_re: &[Vector<F, N>],
    h_im: &[Vector<F, N>],
    dst_re: &mut [Vector<F, N>],
    dst_im: &mut [Vector<F, N>],
    acc: &mut [Vector<F, N>],
    status: &[Atomic<u32>],
    tw_re: &[F],
    tw_im: &[F],
    tag: u32,
    #[comptime] pass: Pass,
) {
    let lanes_log2 = comptime![pass.lanes_log2];
    let values = dst_re.len() << lanes_log2;
    let (base, block, inside) = locate(pos << lanes_log2, values, pass);
    if inside {
        let radix = comptime![1usize << pass.radix_log2];
        let es = comptime![pass.layout.elem_stride];
        let rest_bits = comptime![pass.log2_n - pass.radix_log2];
        let rows = comptime![pass.layout.inner_log2 == 0];
        // Columns: the lanes share `block`. Rows: `block` is the first lane's bit-reversed
        // block index `R`, lane `c` takes `R + c`.
        let rev_g = if rows {
            block
        } else {
            bit_reverse(block, rest_bits)
        };
        let mut re = Array::<Vector<F, N>>::new(radix);
        let mut im = Array::<Vector<F, N>>::new(radix);
        #[unroll]
        for t in 0..radix {
            let src = base + (rev_g + (bit_reverse(t, pass.radix_log2) << rest_bits)) * es;
            if comptime![pass.fusion.filter] {
                let (fr, fi) = fused::filtered_lanes::<F, N>(
                    src_re,
                    src_im,
                    h_re,
                    h_im,
                    src,
                    pass.fusion,
                    lanes_log2,
                );
                re[t] = fr;
                im[t] = fi;
            } else if comptime![pass.row_pairs] {
                let even = fused::paired_address(src, pass.fusion.row_log2);
                re[t] = src_re[even >> lanes_log2];
                im[t] = src_re[(even + comptime![1usize << pass.fusion.row_log2]) >> lanes_log2];
            } else {
                re[t] = src_re[src >> lanes_log2];
                if comptime![pass.zero_imag] {
                    im[t] = Vector::new(F::new(0.0f32));
                } else {
                    im[t] = src_im[src >> lanes_log2];
                }
            }
        }
        butterflies_lanes::<F, N>(&mut re, &mut im, 0usize, tw_re, tw_im, pass);
        if rows {
            // Lane `c`'s outputs are the contiguous block `rev(R + c) 2^k`: stored `2^l` at a
            // time, vector `m` holding its values `m 2^l ..`.
            let lanes = comptime![1usize << pass.lanes_log2];
            #[unroll]
            for c in 0..lanes {
                let g = bit_reverse(block + c, rest_bits) << comptime![pass.radix_log2];
                #[unroll]
                for m in 0..comptime![radix >> pass.lanes_log2] {
                    let mut vr = Vector::<F, N>::new(F::new(0.0f32));
                    let mut vi = Vector::<F, N>::new(F::new(0.0f32));
                    #[unroll]
                    for i in 0..lanes {
                        vr.insert(i, re[m * lanes + i].extract(c));
                        vi.insert(i, im[m * lanes + i].extract(c));
                    }
                    let p = (base + g + m * lanes) >> lanes_log2;
                    dst_re[p] = vr;
                    dst_im[p] = vi;
                }
            }
        } else {
            let first = base + (block << comptime![pass.radix_log2]) * es;
            store_lanes::<F, N>(&re, &im, dst_re, dst_im, acc, status, tag, first, pass);
        }
    }
}

/// [`inner_pass()`] for `2^l` units at once ([`Pass::with_lanes`]); `acc`, `status`, `tag`:
/// see `store`.
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn inner_pass_lanes<F: Float, N: Size>(
    data_re: &mut [Vector<F, N>],
    data_im: &mut [Vector<F, N>],
    acc: &mut [Vector<F, N>],
    status: &[Atomic<u32>],
    tw_re: &[F],
    tw_im: &[F],
    tag: u32,
    #[comptime] pass: Pass,
) {
    inner_pass_lanes_at::<F, N>(
        ABSOLUTE_POS,
        data_re,
        data_im,
        acc,
        status,
        tw_re,
        tw_im,
        tag,
        pass,
    );
}

/// The work of unit `pos` of [`inner_pass_lanes()`] (nothing past the batch); also run by
/// `kernels::in_cube`.
#[cube]
#[allow(clippy::too_many_arguments)]
pub fn inner_pass_lanes_at<F: Float, N: Size>(
    pos: usize,
    data_re: &mut [Vector<F, N>],
    data_im: &mut [Vector<F, N>],
    acc: &mut [Vector<F, N>],
    status: &[Atomic<u32>],
    tw_re: &[F],
    tw_im: &[F],
    tag: u32,
    #[comptime] pass: Pass,
) {
    let lanes_log2 = comptime![pass.lanes_log2];
    let values = data_re.len() << lanes_log2;
    let (base, block, inside) = locate(pos << lanes_log2, values, pass);
    if inside {
        let radix = comptime![1usize << pass.radix_log2];
        let h = comptime![1usize << pass.stage];
        let es = comptime![pass.layout.elem_stride];
        let j = block & (h - 1);
        let g = (block >> comptime![pass.stage]) << comptime![pass.stage + pass.radix_log2];
        let first = base + (g + j) * es;
        let mut re = Array::<Vector<F, N>>::new(radix);
        let mut im = Array::<Vector<F, N>>::new(radix);
        #[unroll]
        for t in 0..radix {
            let p = (first + t * h * es) >> lanes_log2;
            re[t] = data_re[p];
            im[t] = data_im[p];
        }
        butterflies_lanes::<F, N>(&mut re, &mut im, j, tw_re, tw_im, pass);
        store_lanes::<F, N>(&re, &im, data_re, data_im, acc, status, tag, first, pass);
    }
}

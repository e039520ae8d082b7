//! The 2D plan: owns twiddles and scratch for one shape, runs the transforms.

use std::marker::PhantomData;
use std::sync::OnceLock;

use cubecl::prelude::*;
use cubecl::server::Handle;

use crate::buffer;
use crate::error::FftError;
use crate::field::ComplexField;
use crate::kernels::LineLayout;
use crate::kernels::fused::Fusion;
use crate::kernels::in_cube::{self, CubeTransform};
use crate::kernels::radix::{self, Pass};
use crate::kernels::real_pair;
use crate::kernels::shared_line::{self, LinePlan, MAX_PASSES};
use crate::shape::Shape2d;
use crate::twiddles::forward_twiddles;

/// Float types the FFT runs in: `f32` everywhere, `f64` where the device has it.
pub trait FftFloat: Float + CubeElement + Default + Send + Sync + 'static {
    /// Rounds an `f64`.
    fn from_f64(v: f64) -> Self;
    /// Widens to `f64`.
    fn into_f64(self) -> f64;
}

impl FftFloat for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn into_f64(self) -> f64 {
        self as f64
    }
}

impl FftFloat for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
    fn into_f64(self) -> f64 {
        self
    }
}

/// How lines are transformed on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// Per axis: `SharedLines` when a line fits in the device's shared memory, else
    /// `RadixPasses`. The choice for GPUs: on CPU adapters (lavapipe) `RadixPasses` is faster,
    /// and the caller asks for it (`epm`'s execution profile does).
    #[default]
    Auto,
    /// Fused radix-2^k passes through global memory, one launch per pass (any length).
    RadixPasses,
    /// Whole lines in shared memory, all passes in one launch per axis (lines within the
    /// shared-memory budget).
    SharedLines,
}

impl Strategy {
    fn name(self) -> &'static str {
        match self {
            Strategy::Auto => "Auto",
            Strategy::RadixPasses => "RadixPasses",
            Strategy::SharedLines => "SharedLines",
        }
    }
}

/// Plan options. `Default` is what the planner uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlanOptions {
    /// Line strategy.
    pub strategy: Strategy,
    /// Radix-2 stages fused per pass of `RadixPasses` (1 to 5: radix 2 to 32), the most a pass
    /// or a shared-memory line's sub-pass holds in registers. Default 5: on lavapipe a pass
    /// costs its memory traffic, so the fewest passes win (L = 512 in 5 + 4, not 3 + 3 + 3:
    /// forward 1.37 x, filtered inverse 1.25 x faster; L = 64 to 256 split alike with 4 or 5);
    /// radix 64 spills (whole step at L = 64 1.5 x slower). GPUs' shared-memory lines split
    /// their stages by it too (L = 32, 512 and 1024 change); not measured on a GPU.
    pub max_radix_log2: usize,
    /// log2 of the neighbouring units of a `RadixPasses` pass one unit does together, loading
    /// `Vector`s of that many values ([`crate::kernels::radix`], lanes): 0 (none) or 2 (four).
    /// Default 2: on lavapipe the loads and stores are what a pass costs, and a pass in four
    /// lanes takes 0.6 to 0.8 of the time (the column passes, and the rows' after their first).
    pub lanes_log2: usize,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            strategy: Strategy::Auto,
            max_radix_log2: 5,
            lanes_log2: 2,
        }
    }
}

/// The two planes of a batch of complex fields on the device, `batch * ly * lx` elements each.
#[derive(Debug, Clone)]
pub struct ComplexBuffers {
    /// Real parts.
    pub re: Handle,
    /// Imaginary parts.
    pub im: Handle,
}

impl ComplexBuffers {
    /// Two uninitialised planes of `len` elements of `F`.
    pub fn empty<F: FftFloat>(client: &Client, len: usize) -> Self {
        Self {
            re: client.empty(len * size_of::<F>()),
            im: client.empty(len * size_of::<F>()),
        }
    }
}

/// What a transform reads, for [`Fft2d::bytes_moved`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A batch of complex fields ([`Fft2d::forward`], [`Fft2d::inverse`]).
    Complex,
    /// Real fields ([`Fft2d::forward_real`]).
    Real,
    /// [`Fft2d::inverse_filtered`], with or without its accumulation.
    Filtered {
        /// Number of filters (batch fields per spectrum).
        filters: usize,
        /// An [`Accumulate`] is given.
        accumulate: bool,
    },
    /// Real fields in row pairs ([`Fft2d::forward_real_rows`]).
    RealRows,
    /// [`Fft2d::inverse_filtered_rows`], with or without its accumulation.
    FilteredRows {
        /// Number of filters (batch fields per spectrum).
        filters: usize,
        /// An [`Accumulate`] is given.
        accumulate: bool,
    },
}

/// A transform of a plan, as [`Fft2d::in_cube`] makes it in one cube per group of fields and
/// [`Fft2d::kernels`] describes its separate launches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// [`Fft2d::forward_real`].
    ForwardReal,
    /// [`Fft2d::inverse_filtered`] with `filters` filters, with or without its accumulation.
    InverseFiltered {
        /// Number of filters (batch fields per spectrum).
        filters: usize,
        /// An [`Accumulate`] is given.
        accumulate: bool,
    },
    /// [`Fft2d::forward_real_rows`].
    ForwardRealRows,
    /// [`Fft2d::inverse_filtered_rows`] with `filters` filters, with or without its
    /// accumulation.
    InverseFilteredRows {
        /// Number of filters (batch fields per spectrum).
        filters: usize,
        /// An [`Accumulate`] is given.
        accumulate: bool,
    },
}

/// One launch of a plan's separate kernels, as it is compiled ([`Fft2d::kernels`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// An axis in shared-memory lines ([`crate::kernels::shared_line`]).
    Lines(LinePlan),
    /// One radix pass ([`crate::kernels::radix`]).
    Pass(Pass),
}

/// The accumulation fused into the last store of [`Fft2d::inverse_filtered`].
#[derive(Debug, Clone, Copy)]
pub struct Accumulate<'a> {
    /// `target_r[i] += re_{r F}[i]`: one field (`ly lx` elements of `F`) per spectrum, the real
    /// part of the first of that spectrum's fields of the batch.
    pub target: &'a Handle,
    /// Two `u32`: `status[0]` is lowered to `tag` (atomic minimum) and `status[1]` set to `i`
    /// when a sum `target[i]` is not finite.
    pub status: &'a Handle,
    /// What a non-finite sum records, for example the caller's step.
    pub tag: u32,
}

/// The buffers the fused loads and stores of one transform use ([`crate::kernels::fused`]).
#[derive(Clone, Copy)]
struct Fused<'a> {
    filter: Option<&'a ComplexBuffers>,
    /// The number of filters (batch fields per spectrum).
    filters: usize,
    accumulate: Option<Accumulate<'a>>,
    /// Real fields in row pairs ([`crate::real_rows`]): the filter holds `U` and `V`, the
    /// target two rows per row of the plan.
    pairs: bool,
}

impl Fused<'_> {
    const NONE: Self = Self {
        filter: None,
        filters: 1,
        accumulate: None,
        pairs: false,
    };
}

/// What the first pass of the rows reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Load {
    /// Both planes of the source.
    Complex,
    /// The real plane; the imaginary parts are zero.
    Real,
    /// Real fields of `2 ly x lx` in the real plane, in row pairs ([`crate::real_rows`]).
    RealRows,
}

enum AxisKind {
    Radix(Vec<Pass>),
    Shared(LinePlan),
}

struct Axis {
    log2_n: usize,
    tw_re: Handle,
    tw_im: Handle,
    kind: AxisKind,
}

/// Direction and input form of one axis transform.
#[derive(Clone, Copy)]
struct AxisRun {
    inverse: bool,
    load: Load,
    /// Divide the outputs by `2^norm_log2` (the inverse's `1 / (ly lx)`); 0 for none.
    norm_log2: usize,
    /// The fused load (rows) or store (columns).
    fusion: Fusion,
}

impl AxisRun {
    /// An axis in shared-memory lines as this run launches it.
    fn lines(&self, plan: &LinePlan) -> LinePlan {
        LinePlan {
            inverse: self.inverse,
            norm_log2: self.norm_log2,
            zero_imag: self.load == Load::Real,
            row_pairs: self.load == Load::RealRows,
            fusion: self.fusion,
            ..*plan
        }
    }

    /// The passes of an axis as this run launches them: the direction everywhere, the real
    /// input and the filter on the first, the normalisation and the accumulation on the last.
    fn passes(&self, passes: &[Pass]) -> Vec<Pass> {
        let last = passes.len() - 1;
        passes
            .iter()
            .enumerate()
            .map(|(i, pass)| Pass {
                inverse: self.inverse,
                norm_log2: if i == last { self.norm_log2 } else { 0 },
                zero_imag: self.load == Load::Real && i == 0,
                row_pairs: self.load == Load::RealRows && i == 0,
                fusion: Fusion {
                    filter: self.fusion.filter && i == 0,
                    accumulate: self.fusion.accumulate && i == last,
                    ..self.fusion
                },
                ..*pass
            })
            .collect()
    }
}

/// A 2D complex FFT of one shape on one device (like rustfft's `Fft`), built by
/// [`Fft2d::new`] or cached by [`crate::Fft2dPlanner`].
///
/// Conventions (the one place they are written down):
/// - forward: `X(ky, kx) = sum_{y,x} x(y, x) exp(-2 pi i (ky y / ly + kx x / lx))`, unnormalised;
/// - inverse: `x(y, x) = (1 / (ly lx)) sum X(ky, kx) exp(+2 pi i (...))`, so inverse(forward(x)) = x;
/// - bins in natural order: bin `k` at index `k`, negative frequencies `k - L` in the upper half.
///
/// The plan owns its twiddle tables and scratch planes: a call allocates nothing on the device
/// (the real-pair forms allocate one extra pair of planes on first use, then reuse it).
pub struct Fft2d<F: FftFloat> {
    client: Client,
    shape: Shape2d,
    rows: Axis,
    columns: Axis,
    scratch: ComplexBuffers,
    packed: OnceLock<ComplexBuffers>,
    /// Bound in place of the fused buffers when a pass fuses nothing; never read or written.
    unused_float: Handle,
    unused_status: Handle,
    /// [`PlanOptions::lanes_log2`].
    lanes_log2: usize,
    _float: PhantomData<F>,
}

const CUBE_UNITS: u32 = 256;

/// Units a shared-lines cube aims for: enough lines side by side that neighbouring units read
/// neighbouring addresses (columns) and a cube fills a GPU warp or a CPU SIMD batch several times.
const SHARED_CUBE_UNITS: usize = 128;

/// The shared-lines plan of one axis, or `None` when a line does not fit in shared memory.
/// `lines_cap_log2` bounds the lines per cube so that they divide the number of lines.
fn shared_plan(
    log2_n: usize,
    layout: LineLayout,
    lines_cap_log2: usize,
    options: PlanOptions,
    budget: usize,
    max_units: usize,
    elem_size: usize,
) -> Option<LinePlan> {
    let n = 1usize << log2_n;
    if shared_line::shared_bytes(n, 1, elem_size) > budget {
        return None;
    }
    // At most MAX_PASSES passes in one kernel: raise the radix when the options ask for more.
    let max_radix = options.max_radix_log2.max(log2_n.div_ceil(MAX_PASSES));
    let split = Pass::balanced(log2_n, max_radix);
    let mut stages = [0; MAX_PASSES];
    stages[..split.len()].copy_from_slice(&split);
    let units_per_line_log2 = log2_n - split.iter().max().copied().unwrap_or(0);
    let mut lines_per_cube_log2 = 0;
    while lines_per_cube_log2 < lines_cap_log2
        && (1usize << (units_per_line_log2 + lines_per_cube_log2 + 1))
            <= SHARED_CUBE_UNITS.min(max_units)
        && shared_line::shared_bytes(n, 2 << lines_per_cube_log2, elem_size) <= budget
    {
        lines_per_cube_log2 += 1;
    }
    Some(LinePlan {
        log2_n,
        stages,
        units_per_line_log2,
        lines_per_cube_log2,
        line_fastest: layout.inner_log2 > 0,
        inverse: false,
        norm_log2: 0,
        zero_imag: false,
        row_pairs: false,
        layout,
        fusion: Fusion::default(),
    })
}

impl<F: FftFloat> Fft2d<F> {
    /// Plans transforms of `shape` on `client`. Fails for a strategy that cannot run the shape.
    pub fn new(client: &Client, shape: Shape2d, options: PlanOptions) -> Result<Self, FftError> {
        let shape = Shape2d::new(shape.batch, shape.ly, shape.lx)?;
        if ![0, 2].contains(&options.lanes_log2) {
            return Err(FftError::StrategyUnsupported {
                strategy: options.strategy.name(),
                shape,
                reason: format!("lanes_log2 = {} is not 0 or 2", options.lanes_log2),
            });
        }
        if !(1..=5).contains(&options.max_radix_log2) {
            return Err(FftError::StrategyUnsupported {
                strategy: options.strategy.name(),
                shape,
                reason: format!(
                    "max_radix_log2 = {} is outside 1..=5",
                    options.max_radix_log2
                ),
            });
        }
        let props = client.properties();
        let budget = props.hardware.max_shared_memory_size;
        let max_units = props.hardware.max_units_per_cube as usize;
        let axis = |n: usize, layout: LineLayout, lines_cap_log2: usize| {
            let log2_n = n.trailing_zeros() as usize;
            let shared = shared_plan(
                log2_n,
                layout,
                lines_cap_log2,
                options,
                budget,
                max_units,
                size_of::<F>(),
            );
            let wants_shared = options.strategy != Strategy::RadixPasses;
            let kind = match shared {
                Some(plan) if wants_shared => AxisKind::Shared(plan),
                None if options.strategy == Strategy::SharedLines => {
                    return Err(FftError::StrategyUnsupported {
                        strategy: options.strategy.name(),
                        shape,
                        reason: format!(
                            "a line of {n} needs {} bytes of shared memory, the device has {budget}",
                            shared_line::shared_bytes(n, 1, size_of::<F>())
                        ),
                    });
                }
                _ => AxisKind::Radix(Pass::split(log2_n, options.max_radix_log2, layout)),
            };
            let (c, s) = forward_twiddles(n);
            let upload = |v: Vec<f64>| {
                let v: Vec<F> = v.into_iter().map(F::from_f64).collect();
                client.create_from_slice(F::as_bytes(&v))
            };
            Ok(Axis {
                log2_n,
                tw_re: upload(c),
                tw_im: upload(s),
                kind,
            })
        };
        let rows = axis(
            shape.lx,
            LineLayout::rows(shape.batch, shape.ly, shape.lx),
            shape.ly.trailing_zeros() as usize,
        )?;
        let columns = axis(
            shape.ly,
            LineLayout::columns(shape.batch, shape.ly, shape.lx),
            shape.lx.trailing_zeros() as usize,
        )?;
        Ok(Self {
            client: client.clone(),
            shape,
            rows,
            columns,
            scratch: ComplexBuffers::empty::<F>(client, shape.len()),
            packed: OnceLock::new(),
            // Four elements: one vector of the lanes kernels.
            unused_float: client.empty(4 * size_of::<F>()),
            unused_status: client.empty(2 * size_of::<u32>()),
            lanes_log2: options.lanes_log2,
            _float: PhantomData,
        })
    }

    /// The shape this plan transforms.
    pub fn shape(&self) -> Shape2d {
        self.shape
    }

    /// The strategy chosen for the rows and for the columns (never `Auto`).
    pub fn strategies(&self) -> (Strategy, Strategy) {
        let of = |axis: &Axis| match axis.kind {
            AxisKind::Radix(_) => Strategy::RadixPasses,
            AxisKind::Shared(_) => Strategy::SharedLines,
        };
        (of(&self.rows), of(&self.columns))
    }

    /// Kernel launches of one transform: one per pass of each axis (one per axis for
    /// [`Strategy::SharedLines`]).
    pub fn launches(&self) -> usize {
        let of = |axis: &Axis| match &axis.kind {
            AxisKind::Radix(passes) => passes.len(),
            AxisKind::Shared(_) => 1,
        };
        of(&self.rows) + of(&self.columns)
    }

    /// Bytes one transform of `input` reads and writes in global memory, launch by launch
    /// (twiddles, read by every unit alike and cached, are left out): each launch reads and
    /// writes both planes of the batch; a real input's first launch reads one plane; a
    /// filtered inverse's first launch reads the spectra and the filters instead of the batch
    /// (in row pairs: the spectra once, though at `i` and `-i`, and two tables per filter);
    /// an accumulation reads and writes its target once more (in row pairs, two rows per row).
    pub fn bytes_moved(&self, input: Input) -> u64 {
        let plane = (self.shape.len() * size_of::<F>()) as u64;
        let field = (self.shape.field_len() * size_of::<F>()) as u64;
        let passes = 4 * plane * self.launches() as u64;
        let filtered = |filters: usize, accumulate: bool, pairs: u64| {
            let spectra = plane / filters as u64;
            let tables = pairs * field * filters as u64;
            passes - 2 * plane
                + 2 * (spectra + tables)
                + if accumulate { 2 * pairs * spectra } else { 0 }
        };
        match input {
            // Row pairs read the plane's length of real values twice over: as much as a
            // complex input.
            Input::Complex | Input::RealRows => passes,
            Input::Real => passes - plane,
            Input::Filtered {
                filters,
                accumulate,
            } => filtered(filters, accumulate, 1),
            Input::FilteredRows {
                filters,
                accumulate,
            } => filtered(filters, accumulate, 2),
        }
    }

    /// The client the plan runs on.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Forward transform of `input` into `output` (which may be the same buffers).
    pub fn forward(&self, input: &ComplexBuffers, output: &ComplexBuffers) -> Result<(), FftError> {
        self.check(input, ["input.re", "input.im"])?;
        self.check(output, ["output.re", "output.im"])?;
        self.run(input, output, false, Load::Complex, Fused::NONE);
        Ok(())
    }

    /// Inverse transform (divided by `ly * lx`) of `input` into `output` (may be the same).
    pub fn inverse(&self, input: &ComplexBuffers, output: &ComplexBuffers) -> Result<(), FftError> {
        self.check(input, ["input.re", "input.im"])?;
        self.check(output, ["output.re", "output.im"])?;
        self.run(input, output, true, Load::Complex, Fused::NONE);
        Ok(())
    }

    /// Forward transform of a real field `input` (its Hermitian spectrum, all bins) into `output`.
    pub fn forward_real(&self, input: &Handle, output: &ComplexBuffers) -> Result<(), FftError> {
        self.forward_real_on(input, output, Load::Real, None)
    }

    /// Forward transforms of real fields of `2 ly x lx` (`input`: `2 batch ly lx` values) at
    /// half the cost of [`Fft2d::forward_real`]: the plan's `ly x lx` complex fields whose real
    /// parts are the even rows and imaginary parts the odd rows ([`crate::real_rows`]). The
    /// output is what [`Fft2d::inverse_filtered_rows`] reads, not the real fields' spectra.
    pub fn forward_real_rows(
        &self,
        input: &Handle,
        output: &ComplexBuffers,
    ) -> Result<(), FftError> {
        self.forward_real_on(input, output, Load::RealRows, None)
    }

    /// [`Fft2d::forward_real_rows`] in cubes, as [`Fft2d::forward_real_in_cubes`].
    pub fn forward_real_rows_in_cubes(
        &self,
        input: &Handle,
        output: &ComplexBuffers,
        groups: usize,
        cube_units: u32,
    ) -> Result<(), FftError> {
        self.forward_real_on(input, output, Load::RealRows, Some((groups, cube_units)))
    }

    /// [`Fft2d::forward_real`] made by one cube of `cube_units` units per group of
    /// `batch / groups` fields, in one launch ([`crate::kernels::in_cube`]); the same numbers,
    /// bit for bit. Fails where [`Fft2d::in_cube`] has no plan.
    pub fn forward_real_in_cubes(
        &self,
        input: &Handle,
        output: &ComplexBuffers,
        groups: usize,
        cube_units: u32,
    ) -> Result<(), FftError> {
        self.forward_real_on(input, output, Load::Real, Some((groups, cube_units)))
    }

    /// [`Fft2d::forward_real`] (`Load::Real`) or [`Fft2d::forward_real_rows`]
    /// (`Load::RealRows`), pass by pass or (`in_cubes`: groups, units per cube) in one launch.
    fn forward_real_on(
        &self,
        input: &Handle,
        output: &ComplexBuffers,
        load: Load,
        in_cubes: Option<(usize, u32)>,
    ) -> Result<(), FftError> {
        let rows = load == Load::RealRows;
        self.check_len(input, "input", self.shape.len() << usize::from(rows))?;
        self.check(output, ["output.re", "output.im"])?;
        let packed = ComplexBuffers {
            re: input.clone(),
            im: input.clone(),
        };
        let fused = Fused {
            pairs: rows,
            ..Fused::NONE
        };
        match in_cubes {
            None => self.run(&packed, output, false, load, fused),
            Some((groups, cube_units)) => {
                let transform = if rows {
                    Transform::ForwardRealRows
                } else {
                    Transform::ForwardReal
                };
                let plan = self.in_cube_or_error(transform, groups)?;
                self.run_in_cubes(&packed, output, fused, plan, (groups, cube_units));
            }
        }
        Ok(())
    }

    /// Spectra of two real fields `a`, `b` from one complex transform of `a + i b`
    /// (see [`crate::kernels::real_pair`]).
    pub fn forward_real_pair(
        &self,
        a: &Handle,
        b: &Handle,
        spectrum_a: &ComplexBuffers,
        spectrum_b: &ComplexBuffers,
    ) -> Result<(), FftError> {
        self.check_plane(a, "a")?;
        self.check_plane(b, "b")?;
        self.check(spectrum_a, ["spectrum_a.re", "spectrum_a.im"])?;
        self.check(spectrum_b, ["spectrum_b.re", "spectrum_b.im"])?;
        let packed = self.packed();
        let input = ComplexBuffers {
            re: a.clone(),
            im: b.clone(),
        };
        self.run(&input, packed, false, Load::Complex, Fused::NONE);
        let len = self.shape.len();
        let (count, dim) = self.elementwise(len);
        // SAFETY: every buffer was checked to hold `len` elements and the kernel stops at `len`.
        unsafe {
            real_pair::separate::launch_unchecked::<F>(
                &self.client,
                count,
                dim,
                buffer::arg::<F>(&packed.re, len),
                buffer::arg::<F>(&packed.im, len),
                buffer::arg::<F>(&spectrum_a.re, len),
                buffer::arg::<F>(&spectrum_a.im, len),
                buffer::arg::<F>(&spectrum_b.re, len),
                buffer::arg::<F>(&spectrum_b.im, len),
                self.shape.ly.trailing_zeros() as usize,
                self.shape.lx.trailing_zeros() as usize,
            );
        }
        Ok(())
    }

    /// Inverse transform of two Hermitian spectra into the real fields `a`, `b`, through one
    /// complex inverse of `A + i B`, whose real and imaginary planes are `a` and `b`.
    pub fn inverse_real_pair(
        &self,
        spectrum_a: &ComplexBuffers,
        spectrum_b: &ComplexBuffers,
        a: &Handle,
        b: &Handle,
    ) -> Result<(), FftError> {
        self.check(spectrum_a, ["spectrum_a.re", "spectrum_a.im"])?;
        self.check(spectrum_b, ["spectrum_b.re", "spectrum_b.im"])?;
        self.check_plane(a, "a")?;
        self.check_plane(b, "b")?;
        let packed = self.packed();
        let len = self.shape.len();
        let (count, dim) = self.elementwise(len);
        // SAFETY: every buffer was checked to hold `len` elements and the kernel stops at `len`.
        unsafe {
            real_pair::combine::launch_unchecked::<F>(
                &self.client,
                count,
                dim,
                buffer::arg::<F>(&spectrum_a.re, len),
                buffer::arg::<F>(&spectrum_a.im, len),
                buffer::arg::<F>(&spectrum_b.re, len),
                buffer::arg::<F>(&spectrum_b.im, len),
                buffer::arg::<F>(&packed.re, len),
                buffer::arg::<F>(&packed.im, len),
            );
        }
        let output = ComplexBuffers {
            re: a.clone(),
            im: b.clone(),
        };
        self.run(packed, &output, true, Load::Complex, Fused::NONE);
        Ok(())
    }

    /// Inverse transforms (divided by `ly * lx`) of the batch `H_f X_r`: `H` a batch of `F`
    /// filters (`F` a power of two dividing the plan's batch), `X` a batch of `batch / F`
    /// spectra (one per replica of an ensemble): field `r F + f` of `output` is the inverse of
    /// `H_f X_r`. The products are made as the first pass loads them, so no pass through
    /// memory is spent on them. With `accumulate`, the real part of field `r F` is also added
    /// into field `r` of its target (`batch / F` fields) as the last pass stores it
    /// ([`Accumulate`]).
    ///
    /// This is a convolution of each spectrum with `F` kernels; `output` may alias `spectrum`
    /// but neither `filters` nor the target.
    pub fn inverse_filtered(
        &self,
        spectrum: &ComplexBuffers,
        filters: &ComplexBuffers,
        output: &ComplexBuffers,
        accumulate: Option<Accumulate<'_>>,
    ) -> Result<(), FftError> {
        self.inverse_filtered_on(spectrum, filters, output, accumulate, false, None)
    }

    /// The inverse transforms of the batch `H_f E_r` back to real fields of `2 ly x lx`, from
    /// `z` = [`Fft2d::forward_real_rows`] of those fields (`batch / F` of them) and the filters
    /// made by [`crate::real_rows::filter_tables`] (`U` and `V`, `2 F ly lx` values per plane):
    /// field `r F + f` of `output` holds the even rows of the inverse of `H_f E_r` in its real
    /// plane and the odd rows in its imaginary plane. With `accumulate`, the inverse of
    /// `H_0 E_r` is added into field `r` of the target (`2 ly lx` values, real fields). Each
    /// `H_f E_r` must be Hermitian (its inverse real). The plan's fields are half the real
    /// ones: the cost is half of [`Fft2d::inverse_filtered`]'s on the real fields.
    pub fn inverse_filtered_rows(
        &self,
        z: &ComplexBuffers,
        filters: &ComplexBuffers,
        output: &ComplexBuffers,
        accumulate: Option<Accumulate<'_>>,
    ) -> Result<(), FftError> {
        self.inverse_filtered_on(z, filters, output, accumulate, true, None)
    }

    /// [`Fft2d::inverse_filtered_rows`] in cubes, as [`Fft2d::inverse_filtered_in_cubes`].
    pub fn inverse_filtered_rows_in_cubes(
        &self,
        z: &ComplexBuffers,
        filters: &ComplexBuffers,
        output: &ComplexBuffers,
        accumulate: Option<Accumulate<'_>>,
        groups: usize,
        cube_units: u32,
    ) -> Result<(), FftError> {
        let in_cubes = Some((groups, cube_units));
        self.inverse_filtered_on(z, filters, output, accumulate, true, in_cubes)
    }

    /// [`Fft2d::inverse_filtered`] or (`pairs`) [`Fft2d::inverse_filtered_rows`], pass by
    /// pass or (`in_cubes`: groups, units per cube) in one launch.
    fn inverse_filtered_on(
        &self,
        spectrum: &ComplexBuffers,
        filters: &ComplexBuffers,
        output: &ComplexBuffers,
        accumulate: Option<Accumulate<'_>>,
        pairs: bool,
        in_cubes: Option<(usize, u32)>,
    ) -> Result<(), FftError> {
        // With `pairs`, each filter is two tables (`U`, `V`) and each target field two rows per
        // row of the plan.
        let per_filter = self.shape.field_len() << usize::from(pairs);
        let filter_fields = filters.re.size_in_used() as usize / size_of::<F>() / per_filter;
        if filter_fields == 0 || !self.shape.batch.is_multiple_of(filter_fields) {
            return Err(FftError::BufferLength {
                buffer: "filters.re",
                expected: self.shape.len() << usize::from(pairs),
                actual: filters.re.size_in_used() as usize / size_of::<F>(),
                shape: self.shape,
            });
        }
        let filter_len = filter_fields * per_filter;
        let spectra_len = self.shape.len() / filter_fields;
        self.check_len(&filters.re, "filters.re", filter_len)?;
        self.check_len(&filters.im, "filters.im", filter_len)?;
        self.check_len(&spectrum.re, "spectrum.re", spectra_len)?;
        self.check_len(&spectrum.im, "spectrum.im", spectra_len)?;
        self.check(output, ["output.re", "output.im"])?;
        if let Some(acc) = accumulate {
            let target_len = spectra_len << usize::from(pairs);
            self.check_len(acc.target, "accumulate.target", target_len)?;
            let actual = acc.status.size_in_used() as usize / size_of::<u32>();
            if actual < 2 {
                return Err(FftError::BufferLength {
                    buffer: "accumulate.status",
                    expected: 2,
                    actual,
                    shape: self.shape,
                });
            }
        }
        let fused = Fused {
            filter: Some(filters),
            filters: filter_fields,
            accumulate,
            pairs,
        };
        match in_cubes {
            None => self.run(spectrum, output, true, Load::Complex, fused),
            Some((groups, cube_units)) => {
                let (filters, accumulate) = (filter_fields, accumulate.is_some());
                let transform = if pairs {
                    Transform::InverseFilteredRows {
                        filters,
                        accumulate,
                    }
                } else {
                    Transform::InverseFiltered {
                        filters,
                        accumulate,
                    }
                };
                let plan = self.in_cube_or_error(transform, groups)?;
                self.run_in_cubes(spectrum, output, fused, plan, (groups, cube_units));
            }
        }
        Ok(())
    }

    /// [`Fft2d::inverse_filtered`] made by one cube of `cube_units` units per group of
    /// `batch / groups` fields, in one launch ([`crate::kernels::in_cube`]); the same numbers,
    /// bit for bit. Fails where [`Fft2d::in_cube`] has no plan.
    pub fn inverse_filtered_in_cubes(
        &self,
        spectrum: &ComplexBuffers,
        filters: &ComplexBuffers,
        output: &ComplexBuffers,
        accumulate: Option<Accumulate<'_>>,
        groups: usize,
        cube_units: u32,
    ) -> Result<(), FftError> {
        let in_cubes = Some((groups, cube_units));
        self.inverse_filtered_on(spectrum, filters, output, accumulate, false, in_cubes)
    }

    /// The passes of `transform` as one cube per group of `batch / groups` fields makes them
    /// ([`crate::kernels::in_cube`]), for kernels that transform as part of their work, in one
    /// vector width ([`CubeTransform::lanes_log2`]: the plan's lanes where every pass can take
    /// them, else vectors of one). The description is one group's: plans of any batch with the
    /// same group size give the same one, and a kernel built on it runs any number of groups.
    /// `None` where the plan cannot: an axis in shared-memory lines, more than
    /// [`crate::kernels::shared_line::MAX_PASSES`] passes on an axis, a field with longer
    /// columns than rows (one twiddle table, the rows' [`Fft2d::twiddles`], serves both axes),
    /// or `groups` not dividing the batch.
    pub fn in_cube(&self, transform: Transform, groups: usize) -> Option<CubeTransform> {
        let (AxisKind::Radix(rows), AxisKind::Radix(columns)) =
            (&self.rows.kind, &self.columns.kind)
        else {
            return None;
        };
        let fits = rows.len() <= MAX_PASSES && columns.len() <= MAX_PASSES;
        if !fits
            || self.shape.ly > self.shape.lx
            || groups == 0
            || !self.shape.batch.is_multiple_of(groups)
        {
            return None;
        }
        let (row_run, column_run) = self.transform_runs(transform);
        let pad = |passes: Vec<Pass>| {
            let mut out = [passes[0]; MAX_PASSES];
            out[..passes.len()].copy_from_slice(&passes);
            (out, passes.len())
        };
        // The columns read the rows' twiddle table (`lx / 2` entries).
        let table_log2 = self.rows.log2_n;
        let columns: Vec<Pass> = column_run
            .passes(columns)
            .into_iter()
            .map(|pass| Pass { table_log2, ..pass })
            .collect();
        let rows = row_run.passes(rows);
        // One vector width for every pass: the plan's lanes where each pass can take them.
        let lanes = |p: &Pass| p.with_lanes(self.lanes_log2).lanes_log2 == self.lanes_log2;
        let lanes_log2 = if rows.iter().chain(&columns).all(lanes) {
            self.lanes_log2
        } else {
            0
        };
        // One group's lines: the kernel moves them group by group.
        let group = |passes: Vec<Pass>| {
            let batch = self.shape.batch;
            let fields = batch / groups;
            passes
                .into_iter()
                .map(|pass| Pass {
                    layout: pass.layout.first_fields(fields, batch),
                    ..pass
                })
                .collect::<Vec<_>>()
        };
        let (rows, row_passes) = pad(group(rows));
        let (columns, column_passes) = pad(group(columns));
        let transform = CubeTransform {
            rows,
            row_passes,
            columns,
            column_passes,
            lanes_log2: 0,
        };
        Some(transform.in_lanes(lanes_log2))
    }

    /// The kernels `transform` launches through the plan's separate launches, in order, as
    /// they are compiled. They describe the shape and the transform, not the batch (each
    /// kernel stops at the fields its destination holds): plans of every batch of a shape, an
    /// ensemble of any size, run the same compiled kernels.
    pub fn kernels(&self, transform: Transform) -> Vec<Kernel> {
        let (rows, columns) = self.transform_runs(transform);
        let mut launches = self.axis_launches(&self.rows, rows);
        launches.extend(self.axis_launches(&self.columns, columns));
        launches.into_iter().map(|(kernel, _)| kernel).collect()
    }

    /// What the rows and the columns do in `transform`.
    fn transform_runs(&self, transform: Transform) -> (AxisRun, AxisRun) {
        match transform {
            Transform::ForwardReal => self.axis_runs(false, Load::Real, None, false, false),
            Transform::ForwardRealRows => self.axis_runs(false, Load::RealRows, None, false, true),
            Transform::InverseFiltered {
                filters,
                accumulate,
            } => self.axis_runs(true, Load::Complex, Some(filters), accumulate, false),
            Transform::InverseFilteredRows {
                filters,
                accumulate,
            } => self.axis_runs(true, Load::Complex, Some(filters), accumulate, true),
        }
    }

    /// The twiddle tables of the rows (`n / 2` forward twiddles each, real and imaginary), which
    /// serve the columns too when they are no longer: what [`Fft2d::in_cube`]'s passes read.
    pub fn twiddles(&self) -> (&Handle, &Handle) {
        (&self.rows.tw_re, &self.rows.tw_im)
    }

    fn in_cube_or_error(
        &self,
        transform: Transform,
        groups: usize,
    ) -> Result<CubeTransform, FftError> {
        self.in_cube(transform, groups)
            .ok_or_else(|| FftError::StrategyUnsupported {
                strategy: "in cubes",
                shape: self.shape,
                reason: format!(
                    "{groups} groups of fields, each transformed by one cube, need radix passes \
                     (at most {MAX_PASSES} per axis), columns no longer than the rows and groups that \
                     divide the batch"
                ),
            })
    }

    /// One launch of [`in_cube::transform_cubes`]: the transform of `plan`, one cube of
    /// `cube_units` units per group.
    fn run_in_cubes(
        &self,
        input: &ComplexBuffers,
        output: &ComplexBuffers,
        fused: Fused<'_>,
        plan: CubeTransform,
        (groups, cube_units): (usize, u32),
    ) {
        let len = self.shape.len();
        let n = self.shape.lx;
        let lanes = 1 << plan.lanes_log2;
        let (h_re, h_im, acc, status, tag, src_len) = self.fused_args(fused, lanes);
        let src_len = src_len << usize::from(plan.rows[0].row_pairs);
        let vectors = |h: &Handle, len| buffer::vectors::<F>(h, len, lanes);
        // SAFETY: buffers were checked to hold `len` elements; each cube's units address only
        // the blocks of its own group's lines, inside the batch.
        unsafe {
            in_cube::transform_cubes::launch_unchecked::<F>(
                &self.client,
                CubeCount::new_1d(groups as u32),
                CubeDim::new_1d(cube_units),
                lanes,
                vectors(&input.re, src_len),
                vectors(&input.im, src_len),
                h_re,
                h_im,
                vectors(&self.scratch.re, len),
                vectors(&self.scratch.im, len),
                vectors(&output.re, len),
                vectors(&output.im, len),
                acc,
                status,
                buffer::arg::<F>(&self.rows.tw_re, n / 2),
                buffer::arg::<F>(&self.rows.tw_im, n / 2),
                tag,
                plan,
            );
        }
    }

    /// Uploads host fields (all of the plan's shape, `batch` of them) as one device batch.
    pub fn upload(&self, fields: &[ComplexField<F>]) -> Result<ComplexBuffers, FftError> {
        let expected = Shape2d {
            batch: 1,
            ly: self.shape.ly,
            lx: self.shape.lx,
        };
        if fields.len() != self.shape.batch {
            return Err(FftError::BufferLength {
                buffer: "fields",
                expected: self.shape.batch,
                actual: fields.len(),
                shape: self.shape,
            });
        }
        let (mut re, mut im) = (
            Vec::with_capacity(self.shape.len()),
            Vec::with_capacity(self.shape.len()),
        );
        for (index, f) in fields.iter().enumerate() {
            let found = Shape2d {
                batch: 1,
                ly: f.ly,
                lx: f.lx,
            };
            if found != expected || f.re.len() != f.ly * f.lx || f.im.len() != f.ly * f.lx {
                return Err(FftError::ShapeMismatch {
                    index,
                    found,
                    expected,
                });
            }
            re.extend_from_slice(&f.re);
            im.extend_from_slice(&f.im);
        }
        Ok(ComplexBuffers {
            re: self.client.create_from_slice(F::as_bytes(&re)),
            im: self.client.create_from_slice(F::as_bytes(&im)),
        })
    }

    /// Reads a device batch back as host fields.
    pub fn download(&self, buffers: &ComplexBuffers) -> Result<Vec<ComplexField<F>>, FftError> {
        self.check(buffers, ["buffers.re", "buffers.im"])?;
        let re = self.read_plane(&buffers.re)?;
        let im = self.read_plane(&buffers.im)?;
        let n = self.shape.field_len();
        Ok((0..self.shape.batch)
            .map(|b| ComplexField {
                ly: self.shape.ly,
                lx: self.shape.lx,
                re: re[b * n..(b + 1) * n].to_vec(),
                im: im[b * n..(b + 1) * n].to_vec(),
            })
            .collect())
    }

    /// Reads one device plane of the plan's length back to the host.
    pub fn read_plane(&self, plane: &Handle) -> Result<Vec<F>, FftError> {
        self.check_plane(plane, "plane")?;
        let bytes = self
            .client
            .read_one(plane.clone())
            .map_err(|e| FftError::Device(format!("{e:?}")))?;
        Ok(F::from_bytes(&bytes)[..self.shape.len()].to_vec())
    }

    /// Forward transform of host fields: upload, transform, read back.
    pub fn forward_host(
        &self,
        fields: &[ComplexField<F>],
    ) -> Result<Vec<ComplexField<F>>, FftError> {
        let buffers = self.upload(fields)?;
        self.forward(&buffers, &buffers)?;
        self.download(&buffers)
    }

    /// Inverse transform of host fields: upload, transform, read back.
    pub fn inverse_host(
        &self,
        fields: &[ComplexField<F>],
    ) -> Result<Vec<ComplexField<F>>, FftError> {
        let buffers = self.upload(fields)?;
        self.inverse(&buffers, &buffers)?;
        self.download(&buffers)
    }

    fn packed(&self) -> &ComplexBuffers {
        self.packed
            .get_or_init(|| ComplexBuffers::empty::<F>(&self.client, self.shape.len()))
    }

    fn elementwise(&self, len: usize) -> (CubeCount, CubeDim) {
        let dim = CubeDim::new_1d(CUBE_UNITS);
        (
            cubecl::calculate_cube_count_elemwise(&self.client, len, dim),
            dim,
        )
    }

    /// Both planes hold the plan's length; `names` name them in the error (`["input.re", ...]`).
    fn check(&self, buffers: &ComplexBuffers, names: [&'static str; 2]) -> Result<(), FftError> {
        self.check_plane(&buffers.re, names[0])?;
        self.check_plane(&buffers.im, names[1])
    }

    fn check_plane(&self, plane: &Handle, name: &'static str) -> Result<(), FftError> {
        self.check_len(plane, name, self.shape.len())
    }

    /// `plane` holds `expected` elements of `F`.
    fn check_len(
        &self,
        plane: &Handle,
        name: &'static str,
        expected: usize,
    ) -> Result<(), FftError> {
        let actual = plane.size_in_used() as usize / size_of::<F>();
        if actual != expected {
            return Err(FftError::BufferLength {
                buffer: name,
                expected,
                actual,
                shape: self.shape,
            });
        }
        Ok(())
    }

    /// Rows of `input` into the scratch planes, then columns of the scratch into `output`.
    /// Two separate launches per axis at least, so `output` may alias `input`.
    /// `fused`: a filter on the rows' first load, an accumulation on the columns' last store.
    fn run(
        &self,
        input: &ComplexBuffers,
        output: &ComplexBuffers,
        inverse: bool,
        load: Load,
        fused: Fused<'_>,
    ) {
        let filters = fused.filter.map(|_| fused.filters);
        let accumulate = fused.accumulate.is_some();
        let (rows, columns) = self.axis_runs(inverse, load, filters, accumulate, fused.pairs);
        let rows_fused = Fused {
            accumulate: None,
            ..fused
        };
        let columns_fused = Fused {
            filter: None,
            ..fused
        };
        self.run_axis(&self.rows, input, &self.scratch, rows, rows_fused);
        self.run_axis(&self.columns, &self.scratch, output, columns, columns_fused);
    }

    /// What the rows and the columns of one transform do: direction, what the first pass
    /// reads, the inverse's normalisation on the columns' last store, the fusions.
    /// `filters`: the number of filters of a filtered load (`None`: no filter); `accumulate`: an
    /// accumulation on the last store; `pairs`: both fusions on real fields in row pairs.
    fn axis_runs(
        &self,
        inverse: bool,
        load: Load,
        filters: Option<usize>,
        accumulate: bool,
        pairs: bool,
    ) -> (AxisRun, AxisRun) {
        let field_log2 = self.shape.field_len().trailing_zeros() as usize;
        let (filter, filters) = (filters.is_some(), filters.unwrap_or(1));
        let fusion = Fusion {
            filter: false,
            accumulate: false,
            field_log2,
            filters,
            pairs,
            row_log2: self.shape.lx.trailing_zeros() as usize,
        };
        let rows = AxisRun {
            inverse,
            load,
            norm_log2: 0,
            fusion: Fusion { filter, ..fusion },
        };
        let columns = AxisRun {
            inverse,
            load: Load::Complex,
            norm_log2: if inverse { field_log2 } else { 0 },
            fusion: Fusion {
                accumulate,
                ..fusion
            },
        };
        (rows, columns)
    }

    /// Kernel arguments of the fused buffers, in vectors of `lanes` (1: scalars): the filter
    /// planes, the target, the status and the tag (unused placeholders where nothing is
    /// fused), and the source's length in elements (of a complex source; real fields in row
    /// pairs are twice that).
    fn fused_args(
        &self,
        fused: Fused<'_>,
        lanes: usize,
    ) -> (BufferArg, BufferArg, BufferArg, BufferArg, u32, usize) {
        let len = self.shape.len();
        // Real fields in row pairs: `U` and `V` per filter, two target rows per row.
        let pairs = 1 + usize::from(fused.pairs);
        let field = self.shape.field_len() * fused.filters * pairs;
        let spectra = len / fused.filters;
        let unused = || buffer::vectors::<F>(&self.unused_float, lanes, lanes);
        let (h_re, h_im, src_len) = match fused.filter {
            Some(h) => (
                buffer::vectors::<F>(&h.re, field, lanes),
                buffer::vectors::<F>(&h.im, field, lanes),
                spectra,
            ),
            None => (unused(), unused(), len),
        };
        let (acc, status, tag) = match fused.accumulate {
            Some(a) => (
                buffer::vectors::<F>(a.target, spectra * pairs, lanes),
                buffer::arg::<u32>(a.status, 2),
                a.tag,
            ),
            None => (unused(), buffer::arg::<u32>(&self.unused_status, 2), 0),
        };
        (h_re, h_im, acc, status, tag, src_len)
    }

    /// The launches of one axis in `run`, in order: each kernel as it is compiled (for any
    /// batch, [`Fft2d::kernels`]) and its units (cubes for lines, units for passes).
    fn axis_launches(&self, axis: &Axis, run: AxisRun) -> Vec<(Kernel, usize)> {
        let batch = self.shape.batch;
        match &axis.kind {
            AxisKind::Shared(plan) => {
                let plan = run.lines(plan);
                vec![(Kernel::Lines(plan.for_any_batch(batch)), plan.cubes())]
            }
            AxisKind::Radix(passes) => run
                .passes(passes)
                .into_iter()
                .map(|pass| {
                    let pass = pass.with_lanes(self.lanes_log2);
                    (Kernel::Pass(pass.for_any_batch(batch)), pass.units())
                })
                .collect(),
        }
    }

    fn run_axis(
        &self,
        axis: &Axis,
        src: &ComplexBuffers,
        dst: &ComplexBuffers,
        run: AxisRun,
        fused: Fused<'_>,
    ) {
        let len = self.shape.len();
        let n = 1usize << axis.log2_n;
        for (i, (kernel, units)) in self.axis_launches(axis, run).into_iter().enumerate() {
            let pass = match kernel {
                Kernel::Pass(pass) => pass,
                Kernel::Lines(plan) => {
                    let (h_re, h_im, acc, status, tag, src_len) = self.fused_args(fused, 1);
                    let src_len = src_len << usize::from(plan.row_pairs);
                    // SAFETY: buffers were checked to hold `len` elements; each cube reads and
                    // writes the `n` elements of its own lines, all inside `len`.
                    unsafe {
                        shared_line::shared_lines::launch_unchecked::<F>(
                            &self.client,
                            CubeCount::new_1d(units as u32),
                            CubeDim::new_1d(plan.cube_units() as u32),
                            buffer::arg::<F>(&src.re, src_len),
                            buffer::arg::<F>(&src.im, src_len),
                            h_re,
                            h_im,
                            buffer::arg::<F>(&dst.re, len),
                            buffer::arg::<F>(&dst.im, len),
                            acc,
                            status,
                            buffer::arg::<F>(&axis.tw_re, n / 2),
                            buffer::arg::<F>(&axis.tw_im, n / 2),
                            tag,
                            plan,
                        );
                    }
                    continue;
                }
            };
            let (count, dim) = self.elementwise(units);
            if pass.lanes_log2 > 0 {
                let lanes = 1 << pass.lanes_log2;
                let vectors = |h: &Handle| buffer::vectors::<F>(h, len, lanes);
                let twiddles = |h: &Handle| buffer::arg::<F>(h, n / 2);
                let (h_re, h_im, acc, status, tag, src_len) = self.fused_args(fused, lanes);
                let src_len = src_len << usize::from(pass.row_pairs);
                // SAFETY: as below; a lanes unit covers `lanes` units' blocks, which
                // sit side by side and start at a multiple of `lanes` (`with_lanes`).
                unsafe {
                    if i == 0 {
                        radix::first_pass_lanes::launch_unchecked::<F>(
                            &self.client,
                            count,
                            dim,
                            lanes,
                            buffer::vectors::<F>(&src.re, src_len, lanes),
                            buffer::vectors::<F>(&src.im, src_len, lanes),
                            h_re,
                            h_im,
                            vectors(&dst.re),
                            vectors(&dst.im),
                            acc,
                            status,
                            twiddles(&axis.tw_re),
                            twiddles(&axis.tw_im),
                            tag,
                            pass,
                        );
                    } else {
                        radix::inner_pass_lanes::launch_unchecked::<F>(
                            &self.client,
                            count,
                            dim,
                            lanes,
                            vectors(&dst.re),
                            vectors(&dst.im),
                            acc,
                            status,
                            twiddles(&axis.tw_re),
                            twiddles(&axis.tw_im),
                            tag,
                            pass,
                        );
                    }
                }
                continue;
            }
            let (h_re, h_im, acc, status, tag, src_len) = self.fused_args(fused, 1);
            let src_len = src_len << usize::from(pass.row_pairs);
            // SAFETY: buffers were checked to hold `len` elements; the units map one to
            // one onto blocks of lines inside the batch, and the kernels stop past it.
            unsafe {
                if i == 0 {
                    radix::first_pass::launch_unchecked::<F>(
                        &self.client,
                        count,
                        dim,
                        buffer::arg::<F>(&src.re, src_len),
                        buffer::arg::<F>(&src.im, src_len),
                        h_re,
                        h_im,
                        buffer::arg::<F>(&dst.re, len),
                        buffer::arg::<F>(&dst.im, len),
                        acc,
                        status,
                        buffer::arg::<F>(&axis.tw_re, n / 2),
                        buffer::arg::<F>(&axis.tw_im, n / 2),
                        tag,
                        pass,
                    );
                } else {
                    radix::inner_pass::launch_unchecked::<F>(
                        &self.client,
                        count,
                        dim,
                        buffer::arg::<F>(&dst.re, len),
                        buffer::arg::<F>(&dst.im, len),
                        acc,
                        status,
                        buffer::arg::<F>(&axis.tw_re, n / 2),
                        buffer::arg::<F>(&axis.tw_im, n / 2),
                        tag,
                        pass,
                    );
                }
            }
        }
    }
}

//! `epm-fft`: batched radix-2 2D FFTs written once in CubeCL, run on CUDA, Vulkan, Metal or
//! WebGPU (wgpu), chosen by cargo feature.
//!
//! ```no_run
//! use epm_fft::{ComplexField, Fft2dPlanner};
//!
//! let client = epm_fft::device::default_device().expect("a device").client();
//! let planner = Fft2dPlanner::<f32>::new(&client);
//! let fft = planner.plan(1, 64, 128)?; // batch, ly, lx
//! let field = ComplexField::from_real(64, 128, vec![1.0; 64 * 128]);
//! let spectrum = fft.forward_host(&[field])?;
//! assert!((spectrum[0].re[0] - 8192.0).abs() < 1e-2);
//! # Ok::<(), epm_fft::FftError>(())
//! ```
//!
//! # Conventions
//! Fields are row-major, real and imaginary parts in separate planes; a batch is `batch`
//! fields back to back. The forward transform is unnormalised,
//! `X(k) = sum_r x(r) exp(-i q.r)` with `q = 2 pi (kx / lx, ky / ly)`; the inverse carries the
//! `1 / (ly lx)`. Bins are in natural order (as rustfft and numpy). See [`Fft2d`].
//!
//! # Algorithms
//! - [`kernels::radix`]: radix-2^k passes through global memory, up to 5 stages per pass.
//! - [`kernels::shared_line`]: whole lines in shared memory, all passes in one launch (GPUs).
//! - [`kernels::in_cube`]: a whole transform of a group of fields by one cube, the radix
//!   passes separated by barriers: for kernels that transform as part of their work.
//! - [`kernels::real_pair`]: two real fields through one complex transform.
//! - [`real_rows`]: a real field through a complex transform of half its size, read in row
//!   pairs, and filtered inverses back to real fields alike.
//! - [`kernels::fused`]: a filter on the first load and an accumulation on the last store
//!   ([`Fft2d::inverse_filtered`]): a convolution without passes of its own.
//!
//! [`Strategy::Auto`] takes `SharedLines` when a line fits the shared-memory budget and
//! `RadixPasses` otherwise: GPUs' choice. On CPU adapters such as lavapipe `RadixPasses` is
//! faster; ask for it there (`epm` chooses per adapter in one place, its execution profile).

pub use cubecl;

pub mod buffer;
pub mod device;
pub mod error;
pub mod field;
pub mod kernels;
pub mod plan;
pub mod planner;
pub mod real_rows;
pub mod reference;
pub mod shape;
pub mod twiddles;

pub use error::FftError;
pub use field::ComplexField;
pub use plan::{
    Accumulate, ComplexBuffers, Fft2d, FftFloat, Input, Kernel, PlanOptions, Strategy, Transform,
};
pub use planner::Fft2dPlanner;
pub use shape::{MAX_LEN, Shape2d};

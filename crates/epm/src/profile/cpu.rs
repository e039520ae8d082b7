//! The CPU profile's numbers, each measured on Mesa's software Vulkan driver (lavapipe) on a
//! 2-core x86 machine (book, "Performance"). A CPU adapter runs a cube on one thread, its units
//! in SIMD groups of 8, and pays for a launch what a small lattice's work costs.

use super::{FftLines, Profile, ProfileName, SparseLimit, WholeSteps};

/// The profile of CPU adapters.
pub(super) const PROFILE: Profile = Profile {
    name: ProfileName::Cpu,
    // Shared memory and barriers cost more on lavapipe than extra passes through memory.
    fft_lines: FftLines::Radix,
    // A pass costs its memory traffic, so the fewest passes win: L = 512 in 5 + 4 stages, not
    // 3 + 3 + 3, ran the forward transform 1.37 x and the filtered inverse 1.25 x faster;
    // radix 64 spills (the whole step at L = 64 ran 1.5 x slower).
    fft_max_radix_log2: 5,
    // A pass in vectors of four took 0.6 to 0.8 of the time of one value per load.
    fft_lanes_log2: 2,
    // Fewer, fuller invocations: the activation at L = 256 took 0.58 ms with one site per
    // unit, 0.47 with 8, 0.40 with 8 read as two vectors of four.
    sites_per_unit: 8,
    whole_steps: WholeSteps::UpTo {
        max_l: WHOLE_STEP_MAX_L,
        max_sites: WHOLE_STEP_MAX_SITES,
    },
    whole_step_units: 32,
    sparse: SparseLimit::Measured,
    launches_ahead: Some(LAUNCHES_AHEAD),
    correlator_chunk: 64,
};

/// The largest side of a lattice whose dense steps run as one launch of the whole-step kernel,
/// and the most sites of all replicas together. Ms per ensemble step, whole against separate
/// launches (the kernel's buffers in vectors of four): L = 64, one replica 0.33 against 0.73,
/// 4 replicas 0.65 against 1.22, 16 2.5 against 3.4, 32 5.1 against 5.3, 64 10.2 against 8.6;
/// L = 128, one replica 1.24 against 1.23, 2 replicas 1.23 against 2.1, 4 2.4 against 3.7;
/// L = 256, one replica 4.7 against 3.9, 4 replicas 9.5 against 9.9 (a replica is one cube,
/// one thread of lavapipe's two). Units per cube: 16 to 64 ran alike at L = 64 (one replica
/// 0.65 to 0.67 ms per step, 16 replicas 4.7 to 4.9 ms), 8, 128 and 256 slower.
pub(super) const WHOLE_STEP_MAX_L: usize = 128;
/// See [`WHOLE_STEP_MAX_L`].
pub(super) const WHOLE_STEP_MAX_SITES: usize = 16 * 64 * 64;

/// `(L, crossing)`: the most active sites at which the sparse update is faster than the dense
/// one. `Simulation::advance` with either update forced over 300 to 4000 steps from a warmed
/// state at temperatures giving 3 to 92 active sites, ms per step (dense; sparse at a few
/// activities, fitted as `a + b active`):
/// L = 64, 0.34 (0.39 in 16-step calls, 0.62 below a few active sites, where each step's count
/// is read); sparse 0.31 + 0.017 per site: crossing about 6.
/// L = 128, 1.23 to 1.30; sparse 0.49 + 0.026 per site: 30.
/// L = 256, 2.82 to 2.98; sparse 1.02 + 0.071 per site: 26.
/// L = 512, 9.8 to 10.1; sparse 2.6 + 0.35 per site: 21.
/// It follows no one formula: at L = 64 the dense step is one launch of the whole-step kernel
/// and barely costs more than the sparse update's fixed part; at L = 128 the whole-step kernel
/// costs more per site than at 64; from L = 256 the sparse sums' cost per site grows as fast
/// as the transforms'.
pub(super) const SPARSE_CROSSING: [(usize, u32); 4] = [(64, 6), (128, 30), (256, 26), (512, 21)];

/// Launches the host may queue before it waits for the device ([`crate::pacing`]): within
/// cubecl's channel of two buffers of 32 tasks. At L = 256 (ten launches a step) a wait every
/// 4 steps gave 2.9 to 3.0 ms per step, every 6 or 8 steps 2.8 to 2.9, every 12 3.2 to 3.4
/// (the queue fills again), none 3.6 to 4.3; at L = 512, 9.1 against 10.5 ms (every 4).
pub(super) const LAUNCHES_AHEAD: usize = 56;

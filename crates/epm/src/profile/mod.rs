//! The execution profile: every choice that changes how fast a run goes and never what it
//! computes beyond `f32` rounding. It is chosen once, when a simulation is made, from the
//! adapter ([`Profile::for_client`]) or by hand ([`Profile::gpu`], [`Profile::cpu`]); nothing
//! else in the crate asks what kind of adapter it runs on. A run records its profile in its
//! manifest and checkpoint, and a resumed run keeps it, so moving a run between a laptop and a
//! GPU cluster never changes its kernel sequence unless asked.
//!
//! The two profiles:
//! - **gpu**: thousands of cores, a launch costs microseconds. FFT lines in shared memory where
//!   a line fits, one site per unit, separate launches at every size, no host pacing, four
//!   sites per correlator unit, a sparse limit of `4 log2(L^2)` active sites (an estimate).
//! - **cpu** ([`cpu`], where every number was measured): a software driver such as lavapipe
//!   running cubes on host threads. Radix passes through memory, eight sites per unit, dense
//!   steps of small lattices in one launch of the whole-step kernel, the host waiting for the
//!   device every 56 launches, 64 sites per correlator unit, the measured sparse crossings.
//!
//! `EPM_PROFILE=gpu|cpu|auto` sets the profile of every simulation made without one (the
//! device tests run once under each).

mod cpu;

use std::fmt;
use std::str::FromStr;

use cubecl::prelude::*;
use epm_fft::{PlanOptions, Strategy};
use serde::{Deserialize, Serialize};

use crate::error::SimError;

/// The environment variable that picks the profile of simulations made without one.
pub const ENV: &str = "EPM_PROFILE";

/// Which profile: named for the hardware it was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileName {
    /// Discrete and integrated GPUs (CUDA, Vulkan, Metal).
    Gpu,
    /// CPU adapters: software drivers such as lavapipe.
    Cpu,
}

/// How the FFT plans run a line ([`epm_fft::Strategy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FftLines {
    /// A whole line in shared memory, every pass in one launch, where a line fits the
    /// device's shared memory; radix passes otherwise.
    Shared,
    /// Radix passes through global memory, one launch each.
    Radix,
}

/// When dense steps run as one launch of the whole-step kernel ([`crate::whole_step`]): the
/// same numbers bit for bit as separate launches; only where the FFT plans run radix passes
/// that one cube per replica can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WholeSteps {
    /// Never: one launch per kernel and transform pass.
    Never,
    /// Lattices up to `max_l` a side and `max_sites` sites over all replicas.
    UpTo {
        /// Largest side.
        max_l: usize,
        /// Most sites of all replicas together.
        max_sites: usize,
    },
    /// Every size the plans allow.
    Always,
}

/// The most active sites at a window's start for which a single run takes the sparse update
/// ([`crate::sparse`]) instead of the transforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SparseLimit {
    /// The crossings measured on a CPU adapter, the nearest measured size's for others.
    Measured,
    /// `per_log2 * log2(L^2)`.
    PerLog2 {
        /// Active sites per power of two of the lattice's sites.
        per_log2: u32,
    },
    /// Exactly this many (`0`: never sparse), set by hand: the zero-stress floor
    /// ([`crate::launch::sparse_limit_for_rate`]) is not taken off.
    Fixed {
        /// The limit.
        active: u32,
    },
}

/// Every speed-only choice of a run. See the [module](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Profile {
    /// The profile these choices started from.
    pub name: ProfileName,
    /// How the FFT plans run a line.
    pub fft_lines: FftLines,
    /// Radix-2 stages fused per pass (1 to 5; [`PlanOptions::max_radix_log2`]).
    pub fft_max_radix_log2: usize,
    /// log2 of the values a unit of a radix pass loads as one vector (0 or 2;
    /// [`PlanOptions::lanes_log2`]).
    pub fft_lanes_log2: usize,
    /// Most sites (or wave vectors) each unit of the elementwise kernels takes (a power of
    /// two; read in vectors of four where it is a multiple of four).
    pub sites_per_unit: usize,
    /// When dense steps run as one launch.
    pub whole_steps: WholeSteps,
    /// Units in one cube of the whole-step kernel (one cube per replica), at most the
    /// device's.
    pub whole_step_units: u32,
    /// The sparse update's limit.
    pub sparse: SparseLimit,
    /// Launches the host queues before it waits for the device ([`crate::pacing`]); `None`:
    /// it never waits.
    pub launches_ahead: Option<usize>,
    /// Sampled sites per unit of the stress correlator
    /// ([`crate::observables::stress_correlation`]).
    pub correlator_chunk: usize,
}

impl Profile {
    /// The profile of GPUs.
    pub const fn gpu() -> Self {
        Self {
            name: ProfileName::Gpu,
            fft_lines: FftLines::Shared,
            fft_max_radix_log2: 5,
            fft_lanes_log2: 2,
            // One per unit keeps every core busy.
            sites_per_unit: 1,
            // A cube per replica would leave all but a few of a GPU's multiprocessors idle.
            whole_steps: WholeSteps::Never,
            whole_step_units: 256,
            // Not measured on a GPU: there the dense step is bound by its launches and the
            // sparse sums are spread over thousands of cores, so the crossing should lie
            // higher than on a CPU adapter; this is a conservative estimate.
            sparse: SparseLimit::PerLog2 { per_log2: 4 },
            // Spinning while the channel is full costs a host core, not the device.
            launches_ahead: None,
            // Four sites through the 17 passes of a level (the new value and 16 lags) are
            // about the 64 sites one unit of one lag took: a GPU keeps its units' depth and
            // their number.
            correlator_chunk: 4,
        }
    }

    /// The profile of CPU adapters (software drivers such as lavapipe).
    pub const fn cpu() -> Self {
        cpu::PROFILE
    }

    /// The profile named `name`.
    pub const fn named(name: ProfileName) -> Self {
        match name {
            ProfileName::Gpu => Self::gpu(),
            ProfileName::Cpu => Self::cpu(),
        }
    }

    /// The profile of the adapter `client` runs on: [`Profile::cpu`] on a software driver
    /// (an adapter with no physical device, llvmpipe or lavapipe), [`Profile::gpu`] otherwise.
    pub fn for_client(client: &Client) -> Self {
        Self::named(adapter_name(client))
    }

    /// The profile a simulation made without one takes: the one [`ENV`] names, else the
    /// adapter's.
    pub fn default_for(client: &Client) -> Result<Self, SimError> {
        Ok(ProfileChoice::from_env()?
            .unwrap_or(ProfileChoice::Auto)
            .resolve(client))
    }

    /// This profile with the sparse limit set by hand (`0`: never sparse).
    pub fn with_sparse_max_active(self, active: u32) -> Self {
        Self {
            sparse: SparseLimit::Fixed { active },
            ..self
        }
    }

    /// This profile with whole steps always (where the plans allow) or never.
    pub fn with_whole_steps(self, whole: bool) -> Self {
        Self {
            whole_steps: if whole {
                WholeSteps::Always
            } else {
                WholeSteps::Never
            },
            ..self
        }
    }

    /// The FFT plans' options.
    pub fn plan_options(&self) -> PlanOptions {
        PlanOptions {
            strategy: match self.fft_lines {
                FftLines::Shared => Strategy::Auto,
                FftLines::Radix => Strategy::RadixPasses,
            },
            max_radix_log2: self.fft_max_radix_log2,
            lanes_log2: self.fft_lanes_log2,
        }
    }

    /// Sites each unit of the elementwise kernels takes on a lattice of `sites` sites.
    pub fn sites_per_unit(&self, sites: usize) -> usize {
        self.sites_per_unit.min(sites).max(1)
    }

    /// Whether dense steps of `replicas` lattices of `l x l` run as one launch.
    pub fn whole_steps_for(&self, l: usize, replicas: usize) -> bool {
        match self.whole_steps {
            WholeSteps::Never => false,
            WholeSteps::UpTo { max_l, max_sites } => l <= max_l && replicas * l * l <= max_sites,
            WholeSteps::Always => true,
        }
    }

    /// Units in one cube of the whole-step kernel on `client`.
    pub fn whole_step_units(&self, client: &Client) -> u32 {
        self.whole_step_units
            .min(client.properties().hardware.max_units_per_cube)
    }

    /// The sparse limit of a single run of `sites` sites whose rule activates a site at zero
    /// stress at `unstressed_rate` per unit time, with time step `dt`: the profile's limit
    /// less the activations a window brings even where no site is stressed
    /// ([`crate::launch::sparse_limit_for_rate`]), unless it was set by hand.
    pub fn sparse_limit(&self, sites: usize, unstressed_rate: f64, dt: f64) -> u32 {
        let limit = match self.sparse {
            SparseLimit::Fixed { active } => return active,
            SparseLimit::Measured => measured_crossing(sites),
            SparseLimit::PerLog2 { per_log2 } => per_log2 * sites.trailing_zeros(),
        };
        crate::launch::sparse_limit_for_rate(limit, sites, unstressed_rate, dt)
    }

    /// Checks the values a profile read from a file or built by hand must have.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |value: String, reason: &str| SimError::InvalidArgument {
            argument: "profile",
            value,
            reason: reason.into(),
        };
        if !(1..=5).contains(&self.fft_max_radix_log2) {
            let v = format!("fft_max_radix_log2 = {}", self.fft_max_radix_log2);
            return Err(bad(v, "must be 1 to 5"));
        }
        if ![0, 2].contains(&self.fft_lanes_log2) {
            let v = format!("fft_lanes_log2 = {}", self.fft_lanes_log2);
            return Err(bad(v, "must be 0 or 2"));
        }
        if !self.sites_per_unit.is_power_of_two() || self.sites_per_unit > 64 {
            let v = format!("sites_per_unit = {}", self.sites_per_unit);
            return Err(bad(v, "must be a power of two up to 64"));
        }
        if self.whole_step_units == 0 {
            return Err(bad("whole_step_units = 0".into(), "must be at least 1"));
        }
        if self.correlator_chunk == 0 {
            return Err(bad("correlator_chunk = 0".into(), "must be at least 1"));
        }
        if self.launches_ahead == Some(0) {
            return Err(bad("launches_ahead = 0".into(), "must be at least 1"));
        }
        Ok(())
    }

    /// The profile as JSON text (manifests, checkpoints).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a profile serialises")
    }

    /// A profile from [`Profile::to_json`]'s text, checked.
    pub fn from_json(text: &str) -> Result<Self, SimError> {
        let p: Self = serde_json::from_str(text).map_err(|e| SimError::InvalidArgument {
            argument: "profile",
            value: text.chars().take(80).collect(),
            reason: e.to_string(),
        })?;
        p.validate()?;
        Ok(p)
    }
}

impl fmt::Display for Profile {
    /// One line: the name, then what differs from the named profile.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        let named = Self::named(self.name);
        if self.sparse != named.sparse {
            match self.sparse {
                SparseLimit::Fixed { active } => write!(f, ", sparse_max_active {active}")?,
                other => write!(f, ", sparse {other:?}")?,
            }
        }
        if self.whole_steps != named.whole_steps {
            write!(f, ", whole steps {:?}", self.whole_steps)?;
        }
        let rest_differs = Self {
            sparse: named.sparse,
            whole_steps: named.whole_steps,
            ..*self
        } != named;
        if rest_differs {
            write!(f, " (modified)")?;
        }
        Ok(())
    }
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProfileName::Gpu => "gpu",
            ProfileName::Cpu => "cpu",
        })
    }
}

/// What a user asks of a run's speed choices: a profile, and the two choices a run may set
/// by hand. Resolved against the device, and against the profile a checkpoint kept
/// ([`RunOptions::resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RunOptions {
    /// The profile; `None`: a checkpoint's, else [`ENV`], else the adapter's.
    pub profile: Option<ProfileChoice>,
    /// The most active sites for the sparse update, exactly ([`Profile::with_sparse_max_active`];
    /// `0`: always the transforms).
    pub sparse_max_active: Option<u32>,
    /// Whole steps always (where the plans allow) or never ([`Profile::with_whole_steps`]).
    pub whole_steps: Option<bool>,
}

/// Where a run's profile came from ([`RunOptions::source`]); its `Display` is what `epm run`
/// says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProfileSource {
    /// Asked for in the run options.
    Asked,
    /// Kept from the checkpoint the run resumed from.
    Checkpoint,
    /// [`ENV`], else the adapter's ([`Profile::default_for`]).
    Default,
}

impl fmt::Display for ProfileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProfileSource::Asked => "asked for",
            ProfileSource::Checkpoint => "the checkpoint's",
            ProfileSource::Default => "EPM_PROFILE or the adapter's",
        })
    }
}

impl RunOptions {
    /// Options that set only the sparse limit.
    pub fn sparse_max_active(active: u32) -> Self {
        Self {
            sparse_max_active: Some(active),
            ..Self::default()
        }
    }

    /// The profile a run on `client` takes: the one asked for, else `kept` (a checkpoint's),
    /// else [`Profile::default_for`] the client; then the choices set by hand.
    pub fn resolve(&self, client: &Client, kept: Option<Profile>) -> Result<Profile, SimError> {
        let base = match (self.profile, kept) {
            (Some(choice), _) => choice.resolve(client),
            (None, Some(profile)) => profile,
            (None, None) => Profile::default_for(client)?,
        };
        Ok(self.apply(base))
    }

    /// Where [`RunOptions::resolve`] takes the profile from, `kept`: whether a profile was
    /// kept (a checkpoint's).
    pub fn source(&self, kept: bool) -> ProfileSource {
        match (self.profile, kept) {
            (Some(_), _) => ProfileSource::Asked,
            (None, true) => ProfileSource::Checkpoint,
            (None, false) => ProfileSource::Default,
        }
    }

    /// `profile` with the choices set by hand.
    pub fn apply(&self, profile: Profile) -> Profile {
        let mut p = profile;
        if let Some(active) = self.sparse_max_active {
            p = p.with_sparse_max_active(active);
        }
        if let Some(whole) = self.whole_steps {
            p = p.with_whole_steps(whole);
        }
        p
    }

    /// Whether anything is asked.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A profile as a user asks for it: `auto` (the adapter's), `gpu` or `cpu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProfileChoice {
    /// The adapter's ([`Profile::for_client`]).
    #[default]
    Auto,
    /// This one, whatever the adapter.
    Named(ProfileName),
}

impl ProfileChoice {
    /// The profile this choice gives on `client`.
    pub fn resolve(self, client: &Client) -> Profile {
        match self {
            ProfileChoice::Auto => Profile::for_client(client),
            ProfileChoice::Named(name) => Profile::named(name),
        }
    }

    /// The choice [`ENV`] holds, if it is set (and not empty).
    pub fn from_env() -> Result<Option<Self>, SimError> {
        match std::env::var(ENV) {
            Ok(v) if !v.trim().is_empty() => {
                v.parse()
                    .map(Some)
                    .map_err(|reason| SimError::InvalidArgument {
                        argument: ENV,
                        value: v,
                        reason,
                    })
            }
            _ => Ok(None),
        }
    }
}

impl FromStr for ProfileChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(ProfileChoice::Auto),
            "gpu" => Ok(ProfileChoice::Named(ProfileName::Gpu)),
            "cpu" => Ok(ProfileChoice::Named(ProfileName::Cpu)),
            _ => Err("must be auto, gpu or cpu".into()),
        }
    }
}

impl fmt::Display for ProfileChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileChoice::Auto => f.write_str("auto"),
            ProfileChoice::Named(name) => name.fmt(f),
        }
    }
}

/// The profile named for the adapter `client` runs on. The one place that asks.
fn adapter_name(client: &Client) -> ProfileName {
    if epm_fft::device::is_cpu_adapter(client) {
        ProfileName::Cpu
    } else {
        ProfileName::Gpu
    }
}

/// Whether the device's memory is the host's (a CPU adapter): what the memory check
/// ([`crate::resources`]) counts together. A fact of the adapter, not a speed choice.
pub(crate) fn memory_is_host(client: &Client) -> bool {
    adapter_name(client) == ProfileName::Cpu
}

/// The measured crossing of the size nearest to `sites` (in `log2`; the smaller on a tie).
fn measured_crossing(sites: usize) -> u32 {
    let log2 = sites.trailing_zeros() as i64;
    cpu::SPARSE_CROSSING
        .iter()
        .min_by_key(|(l, _)| (2 * l.trailing_zeros() as i64 - log2).abs())
        .map(|&(_, limit)| limit)
        .expect("the table is not empty")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_profiles_are_valid_and_differ_in_every_adapter_choice() {
        let (g, c) = (Profile::gpu(), Profile::cpu());
        g.validate().unwrap();
        c.validate().unwrap();
        assert_ne!(g.fft_lines, c.fft_lines);
        assert_ne!(g.sites_per_unit, c.sites_per_unit);
        assert_ne!(g.whole_steps, c.whole_steps);
        assert_ne!(g.sparse, c.sparse);
        assert_ne!(g.launches_ahead, c.launches_ahead);
        assert_ne!(g.correlator_chunk, c.correlator_chunk);
        assert_eq!(g.plan_options().strategy, Strategy::Auto);
        assert_eq!(c.plan_options().strategy, Strategy::RadixPasses);
    }

    #[test]
    fn the_sparse_limit_takes_the_measured_size_nearest_and_a_hand_set_one_as_is() {
        let c = Profile::cpu();
        // Nearest measured size in log2: 32 -> 64, 1024 -> 512, 4096 -> 512; at rate 0 no floor.
        for (l, limit) in [
            (32, 6),
            (64, 6),
            (128, 30),
            (256, 26),
            (512, 21),
            (1024, 21),
        ] {
            assert_eq!(c.sparse_limit(l * l, 0.0, 0.1), limit, "L = {l}");
        }
        assert_eq!(Profile::gpu().sparse_limit(256 * 256, 0.0, 0.1), 64);
        // The floor comes off: 256^2 sites at rate 1e-4, dt 0.1, a window of WINDOW steps.
        let floor = (65536.0 * 1e-4 * 0.1 * crate::sparse::WINDOW as f64).ceil() as u32;
        assert_eq!(c.sparse_limit(65536, 1e-4, 0.1), 26 - floor);
        let fixed = c.with_sparse_max_active(3);
        assert_eq!(fixed.sparse_limit(65536, 1e-4, 0.1), 3);
        assert_eq!(
            fixed.with_sparse_max_active(0).sparse_limit(64, 0.0, 0.1),
            0
        );
    }

    #[test]
    fn whole_steps_follow_the_limits_and_the_hand_set_choice() {
        let c = Profile::cpu();
        assert!(c.whole_steps_for(64, 16));
        assert!(!c.whole_steps_for(64, 17));
        assert!(c.whole_steps_for(128, 4));
        assert!(!c.whole_steps_for(256, 1));
        assert!(!Profile::gpu().whole_steps_for(16, 1));
        assert!(
            Profile::gpu()
                .with_whole_steps(true)
                .whole_steps_for(4096, 64)
        );
        assert!(!c.with_whole_steps(false).whole_steps_for(16, 1));
    }

    #[test]
    fn a_profile_survives_json_and_a_bad_one_is_refused_by_field() {
        for p in [
            Profile::gpu(),
            Profile::cpu().with_sparse_max_active(0),
            Profile::cpu().with_whole_steps(false),
        ] {
            assert_eq!(Profile::from_json(&p.to_json()).unwrap(), p);
        }
        let bad = Profile {
            fft_lanes_log2: 1,
            ..Profile::gpu()
        };
        let err = Profile::from_json(&bad.to_json()).unwrap_err().to_string();
        assert!(err.contains("fft_lanes_log2 = 1"), "{err}");
        assert!(Profile::from_json("{\"name\":\"tpu\"}").is_err());
    }

    #[test]
    fn choices_parse_and_print_back() {
        for s in ["auto", "gpu", "cpu"] {
            assert_eq!(s.parse::<ProfileChoice>().unwrap().to_string(), s);
        }
        assert_eq!(
            "GPU".parse::<ProfileChoice>(),
            Ok(ProfileChoice::Named(ProfileName::Gpu))
        );
        assert!("fast".parse::<ProfileChoice>().is_err());
        let asked = RunOptions {
            profile: Some(ProfileChoice::Auto),
            ..RunOptions::sparse_max_active(0)
        };
        assert_eq!(asked.source(true), ProfileSource::Asked);
        assert_eq!(
            RunOptions::sparse_max_active(0).source(true),
            ProfileSource::Checkpoint
        );
        assert_eq!(RunOptions::default().source(false), ProfileSource::Default);
        assert_eq!(Profile::cpu().to_string(), "cpu");
        assert_eq!(
            Profile::cpu().with_sparse_max_active(0).to_string(),
            "cpu, sparse_max_active 0"
        );
    }
}

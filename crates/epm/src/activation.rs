//! The activation rule (paper Eq. 2, model notes section 1, steps 1 to 3), one kernel for
//! every rule.
//!
//! Per site and step, with one Philox draw `u` in `[0, 1)` keyed by (seed, step, site):
//! - an active site (`n = 1`) deactivates when `u < dt / tau_res`;
//! - an inactive site activates when `u < rate(sigma) dt`, and takes `s = sign(sigma)`
//!   (`+1` at `sigma = 0`);
//! - the plastic strain rate is `n s eps0 / (2 tau)`.
//!
//! One decision per site and step (active sites only deactivate, inactive ones only
//! activate): the two-state chain then has stationary activity `p_on / (p_on + p_off)`
//! exactly, which is what makes the random model's activity equal the requested `a`.
//!
//! A rule supplies only its rate, as a `#[cube]` function and its CPU twin; the plumbing
//! (draws, deactivation, sign, strain rate) is shared. See [`ActivationRule`].
//!
//! One launch serves a whole ensemble ([`crate::Ensemble`]): replica `r` holds sites
//! `r L^2 ..`, draws with its own key (its seed) and reads its own rule parameter
//! ([`Activation::parameter`]: the temperature, the random model's rate), so it makes the same
//! draws and decisions as a single run with that seed and rule.

use cubecl::prelude::*;

use crate::rng::{Purpose, philox, unit_f32};

/// A rule: the activation rate per unit time of an inactive site at stress `sigma`, on the
/// device. The implementing type is the kernel argument (`#[derive(CubeLaunch, CubeType)]`),
/// so its fields are the rule's parameters; one of them, the one an ensemble's replicas may
/// differ in ([`Activation::parameter`]), comes from a per-replica table instead.
#[cube]
pub trait ActivationRule: LaunchArg + CubeType + Send + Sync + 'static {
    /// Activation rate per unit time (probability per step is `rate * dt`), with `parameter`
    /// the replica's [`Activation::parameter`] (use it, not the field it came from).
    fn rate(rule: &Self, parameter: f32, sigma: f32) -> f32;
}

/// The host side of a rule: its kernel argument, its per-replica parameter and its CPU twin.
pub trait Activation: ActivationRule + Clone + core::fmt::Debug {
    /// The rule as a kernel argument.
    fn launch_arg(&self) -> <Self as LaunchArg>::RuntimeArg;
    /// The parameter replicas of an ensemble may differ in (the temperature of the thermal
    /// rule, the rate of the random one), handed to [`ActivationRule::rate`] per replica.
    fn parameter(&self) -> f32;
    /// This rule with `parameter` instead of its own: two rules are replicas of one ensemble
    /// when one is the other with its parameter.
    fn with_parameter(&self, parameter: f32) -> Self;
    /// The same rate as [`ActivationRule::rate`], in the same `f32` operations, for the CPU
    /// reference.
    fn rate_cpu(&self, sigma: f32) -> f32;
}

/// Paper Eq. 2: `Gamma0 min(exp((sigma^2 - sigma_Y^2) / (2 T)), 1)`.
#[derive(CubeLaunch, CubeType, Clone, Copy, Debug, PartialEq)]
pub struct Thermal {
    /// Temperature `T`, in units of `sigma_Y^2`.
    pub temperature: f32,
    /// Attempt frequency `Gamma0`.
    pub gamma0: f32,
    /// Yield stress `sigma_Y`.
    pub sigma_y: f32,
}

/// The parameter is the temperature.
#[cube]
impl ActivationRule for Thermal {
    fn rate(rule: &Thermal, temperature: f32, sigma: f32) -> f32 {
        let x = (sigma * sigma - rule.sigma_y * rule.sigma_y) / (2.0f32 * temperature);
        rule.gamma0 * f32::min(f32::exp(x), 1.0f32)
    }
}

impl Activation for Thermal {
    fn launch_arg(&self) -> ThermalLaunch {
        ThermalLaunch::new(self.temperature, self.gamma0, self.sigma_y)
    }
    fn parameter(&self) -> f32 {
        self.temperature
    }
    fn with_parameter(&self, temperature: f32) -> Self {
        Self {
            temperature,
            ..*self
        }
    }
    fn rate_cpu(&self, sigma: f32) -> f32 {
        let x = (sigma * sigma - self.sigma_y * self.sigma_y) / (2.0f32 * self.temperature);
        self.gamma0 * x.exp().min(1.0)
    }
}

/// The random model: a constant rate `a / (tau_res (1 - a))`, stationary activity `a`.
///
/// With `rate: 0.0` nothing activates: only the events prepared in the [`crate::State`] run,
/// as for the paper's Fig. 1 (`examples/single_event.rs`).
#[derive(CubeLaunch, CubeType, Clone, Copy, Debug, PartialEq)]
pub struct Random {
    /// The activation rate per unit time.
    pub rate: f32,
}

impl Random {
    /// The rule whose stationary activity is `activity`, for events of mean duration `tau_res`.
    pub fn with_activity(activity: f64, tau_res: f64) -> Self {
        Self {
            rate: random_rate(activity, tau_res) as f32,
        }
    }
}

/// The random model's activation rate `r = a / (tau_res (1 - a))`, per unit time: the
/// stationary activity `r / (r + 1/tau_res)` is then `a`.
pub fn random_rate(activity: f64, tau_res: f64) -> f64 {
    activity / (tau_res * (1.0 - activity))
}

/// The parameter is the rate.
#[cube]
impl ActivationRule for Random {
    fn rate(_rule: &Random, rate: f32, _sigma: f32) -> f32 {
        rate
    }
}

impl Activation for Random {
    fn launch_arg(&self) -> RandomLaunch {
        RandomLaunch::new(self.rate)
    }
    fn parameter(&self) -> f32 {
        self.rate
    }
    fn with_parameter(&self, rate: f32) -> Self {
        Self { rate }
    }
    fn rate_cpu(&self, _sigma: f32) -> f32 {
        self.rate
    }
}

/// The constants of one activation step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepParams {
    /// Step number (the Philox counter's step words).
    pub step: u64,
    /// Run seed (the Philox key of the CPU twin; the kernel reads each replica's key from a
    /// table, [`replica_keys`]).
    pub seed: u64,
    /// Deactivation probability per step, `dt / tau_res`.
    pub p_off: f32,
    /// Time step `dt`.
    pub dt: f32,
    /// `eps0 / (2 tau)`: the plastic strain rate of an active site, per sign.
    pub strain_rate_amplitude: f32,
}

/// Sub-counters per step of the active-site count: units add to `unit % COUNT_LANES`, so
/// fewer units contend for one atomic. The host sums them.
pub const COUNT_LANES: usize = 16;
/// Words between two sub-counters (64 bytes: one cache line each on CPU adapters).
pub const COUNT_STRIDE: usize = 16;

/// Index of sub-counter `lane` of ring slot `slot` in the count buffer (of one replica: the
/// replicas' rings follow one another).
pub const fn count_index(slot: usize, lane: usize) -> usize {
    (slot * COUNT_LANES + lane) * COUNT_STRIDE
}

/// The kernel's table of Philox keys: two words per replica, from each replica's seed.
pub fn replica_keys(seeds: &[u64]) -> Vec<u32> {
    seeds.iter().flat_map(|&s| crate::rng::key(s)).collect()
}

/// The activation step on the device (model notes steps 1 to 3).
///
/// `active` holds 0 or 1, `sign` +-1, `plastic` the signed count of each site's active steps
/// (its plastic strain is `dt eps0 / (2 tau)` times that), `strain_rate` the plastic strain
/// rate `n s eps0 / (2 tau)`, which must be consistent with `active` and `sign` on entry (it
/// is only rewritten when the activity changes). Every site active after the step adds one to
/// the sub-counters of ring slot `slot` in `active_count` (see [`count_index`]).
///
/// The site buffers are read in vectors of `lanes` neighbouring sites (`N`, 1 or 4): on
/// lavapipe each load and store costs about the same for a vector as for one value, so four
/// sites a load make the kernel about twice as fast at L = 256 (book, "Performance"). Each lane
/// makes the same draw and decision as a unit of one site would (`decide`). Each unit takes
/// `per_unit` sites (a multiple of `lanes`) in vectors `sites / per_unit` vectors apart
/// (neighbouring units still touch neighbouring sites), and adds its count with one atomic:
/// see [`crate::profile::Profile::sites_per_unit`].
///
/// Batches of steps without events: with `in_batch = 1` the step belongs to a batch that
/// started at step `batch_start` (low 32 bits) from a state without active sites, launched
/// back to back without transforms. The first step of the batch in which a site is active
/// records itself in `event` (as `step + 1`, atomic maximum); the later steps of the batch
/// then do nothing, so the host can resume right after that step.
///
/// Ensembles: the buffers hold `replicas` lattices of `sites` sites one after another, and
/// `active_count` one ring per replica. Replica `r` draws with key `keys[2r], keys[2r + 1]`
/// and rate parameter `parameters[r]`, and numbers its sites from 0 in the Philox counter, as
/// a single run does.
#[cube(launch)]
pub fn activation_step<R: ActivationRule, N: Size>(
    stress: &[Vector<f32, N>],
    active: &mut [Vector<u32, N>],
    sign: &mut [Vector<f32, N>],
    plastic: &mut [Vector<i32, N>],
    strain_rate: &mut [Vector<f32, N>],
    active_count: &[Atomic<u32>],
    event: &[Atomic<u32>],
    keys: &[u32],
    parameters: &[f32],
    rule: R,
    step_lo: u32,
    step_hi: u32,
    p_off: f32,
    dt: f32,
    strain_rate_amplitude: f32,
    slot: u32,
    in_batch: u32,
    batch_start: u32,
    #[comptime] sites: usize,
    #[comptime] per_unit: usize,
    #[comptime] lanes: usize,
) {
    let stride = comptime![sites / per_unit];
    // One rate parameter per replica: the ensemble's size is the launch's, not the kernel's.
    if ABSOLUTE_POS >= stride * parameters.len() {
        terminate!();
    }
    let replica = ABSOLUTE_POS / stride;
    let unit = ABSOLUTE_POS % stride;
    if in_batch == 1u32 {
        // An event earlier in this batch (at step `event - 1`): this step waits for the host.
        let recorded = event[0].load();
        if recorded > batch_start && recorded <= step_lo {
            terminate!();
        }
    }
    let count = activate_unit::<R, N>(
        stress,
        active,
        sign,
        plastic,
        strain_rate,
        active_count,
        keys,
        parameters,
        &rule,
        replica,
        unit,
        step_lo,
        step_hi,
        p_off,
        dt,
        strain_rate_amplitude,
        slot,
        sites,
        per_unit,
        lanes,
    );
    if count > 0u32 && in_batch == 1u32 {
        event[0].fetch_max(step_lo + 1u32);
    }
}

/// One site's decision (model notes steps 1 and 2): the activity and sign after the step of a
/// site of activity `active` and sign `sign` at stress `sigma`, for the draw `u` in `[0, 1)`.
/// An active site deactivates when `u < p_off`; an inactive one activates when
/// `u < rate(sigma) dt` and takes the sign of `sigma` (`+1` at 0). Selects, not branches: on
/// lavapipe a branch per site costs more than the rate it would skip.
#[cube]
#[allow(clippy::too_many_arguments)]
pub(crate) fn decide<R: ActivationRule>(
    rule: &R,
    parameter: f32,
    u: f32,
    sigma: f32,
    active: u32,
    sign: f32,
    p_off: f32,
    dt: f32,
) -> (u32, f32) {
    let on = active == 1u32;
    let activates = !on && u < R::rate(rule, parameter, sigma) * dt;
    let stays = on && u >= p_off;
    (
        select(activates || stays, 1u32, 0u32),
        select(activates, select(sigma >= 0.0f32, 1.0f32, -1.0f32), sign),
    )
}

/// The activation of unit `unit` of replica `replica` (model notes steps 1 to 3): its
/// `per_unit` sites in vectors of `lanes`, `sites / per_unit` sites apart, with the decisions
/// of [`decide`], counted into ring slot `slot`; returns how many of them are active after the
/// step. The body of [`activation_step`], and of the whole-step kernel's activation
/// ([`crate::whole_step`]).
#[cube]
#[allow(clippy::too_many_arguments)]
pub(crate) fn activate_unit<R: ActivationRule, N: Size>(
    stress: &[Vector<f32, N>],
    active: &mut [Vector<u32, N>],
    sign: &mut [Vector<f32, N>],
    plastic: &mut [Vector<i32, N>],
    strain_rate: &mut [Vector<f32, N>],
    active_count: &[Atomic<u32>],
    keys: &[u32],
    parameters: &[f32],
    rule: &R,
    replica: usize,
    unit: usize,
    step_lo: u32,
    step_hi: u32,
    p_off: f32,
    dt: f32,
    strain_rate_amplitude: f32,
    slot: u32,
    #[comptime] sites: usize,
    #[comptime] per_unit: usize,
    #[comptime] lanes: usize,
) -> u32 {
    let stride = comptime![sites / per_unit];
    let purpose = comptime![Purpose::Activation as u32];
    let (key_lo, key_hi) = (keys[2 * replica], keys[2 * replica + 1]);
    let parameter = parameters[replica];
    let base = replica * comptime![sites / lanes];
    let mut count = 0u32;
    #[unroll]
    for j in 0..comptime![per_unit / lanes] {
        let v = unit + j * stride;
        let at = base + v;
        let sigma = stress[at];
        let was = active[at];
        let mut now = was;
        let mut s = sign[at];
        let mut rate = Vector::<f32, N>::new(0.0f32);
        let mut steps = Vector::<i32, N>::new(0i32);
        let mut changed = false;
        let mut any_active = false;
        #[unroll]
        for c in 0..lanes {
            let site = (v * comptime![lanes] + c) as u32;
            let (r0, _r1, _r2, _r3) = philox(site, step_lo, step_hi, purpose, key_lo, key_hi);
            let (a, sc) = decide::<R>(
                rule,
                parameter,
                unit_f32(r0),
                sigma.extract(c),
                was.extract(c),
                s.extract(c),
                p_off,
                dt,
            );
            changed = changed || a != was.extract(c);
            any_active = any_active || a == 1u32;
            now.insert(c, a);
            s.insert(c, sc);
            rate.insert(c, select(a == 1u32, sc * strain_rate_amplitude, 0.0f32));
            steps.insert(c, select(a == 1u32, i32::cast_from(sc), 0i32));
            count += a;
        }
        // Only what changes is written: most sites keep their state from one step to the
        // next, and `strain_rate` keeps its value while the activity does.
        if changed {
            active[at] = now;
            sign[at] = s;
            strain_rate[at] = rate;
        }
        if any_active {
            plastic[at] += steps;
        }
    }
    if count > 0u32 {
        let ring = comptime![crate::count_ring::RING_WORDS];
        count_active(active_count, replica * ring, slot, unit, count);
    }
    count
}

/// `count` more active sites in ring slot `slot` (sub-counter `unit % COUNT_LANES`) of the
/// ring that starts at `ring`.
#[cube]
fn count_active(active_count: &[Atomic<u32>], ring: usize, slot: u32, unit: usize, count: u32) {
    let lanes = comptime![COUNT_LANES];
    let lane = (slot as usize * lanes + (unit & (lanes - 1))) * comptime![COUNT_STRIDE];
    active_count[ring + lane].fetch_add(count);
}

/// The CPU reference of [`activation_step`]: the same draws and the same `f32` operations,
/// `rate` being the rule's [`Activation::rate_cpu`]. Returns the number of active sites after
/// the step.
#[cfg(test)]
pub fn activation_step_cpu(
    rate: &dyn Fn(f32) -> f32,
    params: &StepParams,
    stress: &[f32],
    active: &mut [u32],
    sign: &mut [f32],
    plastic: &mut [i32],
    strain_rate: &mut [f32],
) -> usize {
    use crate::rng;
    let key = rng::key(params.seed);
    let mut count = 0;
    for site in 0..stress.len() {
        let draw = rng::philox4x32_10(
            rng::counter(site as u32, params.step, Purpose::Activation),
            key,
        );
        let u = rng::to_unit(draw[0]);
        let sigma = stress[site];
        if active[site] == 1 {
            if u < params.p_off {
                active[site] = 0;
            }
        } else if u < rate(sigma) * params.dt {
            active[site] = 1;
            sign[site] = if sigma >= 0.0 { 1.0 } else { -1.0 };
        }
        strain_rate[site] = active[site] as f32 * sign[site] * params.strain_rate_amplitude;
        if active[site] == 1 {
            plastic[site] += sign[site] as i32;
            count += 1;
        }
    }
    count
}

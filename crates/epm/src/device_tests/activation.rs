//! The activation kernel against its CPU reference (bit for bit), and the random model's
//! stationary activity against the requested one (within three standard errors).

use cubecl::prelude::*;
use epm::activation::{
    Activation, COUNT_LANES, Random, StepParams, Thermal, activation_step_cpu, count_index,
    replica_keys,
};
use epm::launch;
use epm::rng::{self, Purpose};

use super::client;

struct DeviceState {
    stress: cubecl::server::Handle,
    active: cubecl::server::Handle,
    sign: cubecl::server::Handle,
    plastic: cubecl::server::Handle,
    strain_rate: cubecl::server::Handle,
    counts: cubecl::server::Handle,
    event: cubecl::server::Handle,
}

/// The plastic strain rate consistent with an activity and signs (amplitude 0.5).
fn strain_rate_of(active: &[u32], sign: &[f32]) -> Vec<f32> {
    active
        .iter()
        .zip(sign)
        .map(|(&a, &s)| a as f32 * s * 0.5)
        .collect()
}

/// Slots of the count ring used by these tests.
const SLOTS: usize = 4;
/// Sites of the lattices of these tests.
const SITES: usize = 64 * 64;

impl DeviceState {
    fn new(client: &Client, stress: &[f32], active: &[u32], sign: &[f32]) -> Self {
        let n = stress.len();
        Self {
            stress: client.create_from_slice(f32::as_bytes(stress)),
            active: client.create_from_slice(u32::as_bytes(active)),
            sign: client.create_from_slice(f32::as_bytes(sign)),
            plastic: client.create_from_slice(i32::as_bytes(&vec![0; n])),
            strain_rate: client.create_from_slice(f32::as_bytes(&strain_rate_of(active, sign))),
            // One ring per replica: room for as many replicas as the lattice has `SITES` sites.
            counts: client.create_from_slice(u32::as_bytes(&vec![
                0;
                launch::count_words(
                    n.div_ceil(SITES)
                )
            ])),
            event: client.create_from_slice(u32::as_bytes(&[0])),
        }
    }

    /// The active-site count of ring slot `slot` (of replica 0).
    fn count(&self, client: &Client, slot: usize) -> u32 {
        self.replica_count(client, 0, slot)
    }

    /// The active-site count of ring slot `slot` of replica `r`.
    fn replica_count(&self, client: &Client, r: usize, slot: usize) -> u32 {
        let counts = u32::from_bytes(&client.read_one(self.counts.clone()).unwrap()).to_vec();
        (0..COUNT_LANES)
            .map(|lane| counts[r * launch::count_words(1) + count_index(slot, lane)])
            .sum()
    }
}

fn step_on_device<A: Activation>(
    client: &Client,
    state: &DeviceState,
    rule: &A,
    p: &StepParams,
    sites: usize,
    per_unit: usize,
) {
    step_replicas_on_device(
        client,
        state,
        rule,
        &[(p.seed, rule.parameter())],
        p,
        sites,
        per_unit,
    );
}

/// [`step_on_device`] for replicas `(seed, parameter)` of `sites` sites each, one launch.
fn step_replicas_on_device<A: Activation>(
    client: &Client,
    state: &DeviceState,
    rule: &A,
    replicas: &[(u64, f32)],
    p: &StepParams,
    sites: usize,
    per_unit: usize,
) {
    let seeds: Vec<u64> = replicas.iter().map(|r| r.0).collect();
    let parameters: Vec<f32> = replicas.iter().map(|r| r.1).collect();
    let keys = client.create_from_slice(u32::as_bytes(&replica_keys(&seeds)));
    let parameters = client.create_from_slice(f32::as_bytes(&parameters));
    let buffers = launch::ActivationBuffers {
        stress: &state.stress,
        active: &state.active,
        sign: &state.sign,
        plastic: &state.plastic,
        strain_rate: &state.strain_rate,
        active_count: &state.counts,
        event: &state.event,
        keys: &keys,
        parameters: &parameters,
    };
    let slot = (p.step % SLOTS as u64) as u32;
    let layout = (sites, per_unit, replicas.len());
    launch::activation(client, layout, &buffers, rule, p, slot, None);
}

/// A stress field in [-1.3, 1.3] and a start with about 10 % of sites active, from Philox.
fn initial(sites: usize, seed: u64) -> (Vec<f32>, Vec<u32>, Vec<f32>) {
    let draws: Vec<[u32; 4]> = (0..sites)
        .map(|s| {
            rng::philox4x32_10(
                rng::counter(s as u32, 0, Purpose::InitialStress),
                rng::key(seed),
            )
        })
        .collect();
    let stress = draws
        .iter()
        .map(|d| 2.6 * rng::to_unit(d[0]) - 1.3)
        .collect();
    let active = draws
        .iter()
        .map(|d| u32::from(rng::to_unit(d[1]) < 0.1))
        .collect();
    let sign = draws
        .iter()
        .map(|d| if d[2] & 1 == 0 { 1.0 } else { -1.0 })
        .collect();
    (stress, active, sign)
}

/// Runs `steps` steps on the device and on the CPU, comparing everything after each; the
/// device takes one site per unit on even steps and eight on odd ones (both layouts of
/// `sites_per_unit`).
fn compare_with_cpu<A: Activation>(rule: A, steps: u64) -> usize {
    let client = client();
    let sites = 64 * 64;
    let seed = 2014;
    let (stress, mut active, mut sign) = initial(sites, seed);
    let mut plastic = vec![0i32; sites];
    let mut strain_rate = strain_rate_of(&active, &sign);
    let state = DeviceState::new(&client, &stress, &active, &sign);
    let mut activations = 0;
    for step in 0..steps {
        let p = StepParams {
            step,
            seed,
            p_off: 0.1,
            dt: 0.1,
            strain_rate_amplitude: 0.5,
        };
        let before = active.clone();
        let count = activation_step_cpu(
            &|s| rule.rate_cpu(s),
            &p,
            &stress,
            &mut active,
            &mut sign,
            &mut plastic,
            &mut strain_rate,
        );
        activations += before
            .iter()
            .zip(&active)
            .filter(|&(&b, &a)| b == 0 && a == 1)
            .count();
        step_on_device(
            &client,
            &state,
            &rule,
            &p,
            sites,
            1 + 7 * (step as usize % 2),
        );
        let read_u32 = |h: &cubecl::server::Handle| {
            u32::from_bytes(&client.read_one(h.clone()).unwrap()).to_vec()
        };
        let read_f32 = |h: &cubecl::server::Handle| {
            f32::from_bytes(&client.read_one(h.clone()).unwrap()).to_vec()
        };
        assert_eq!(
            read_u32(&state.active),
            active,
            "activity differs at step {step}"
        );
        assert_eq!(read_f32(&state.sign), sign, "signs differ at step {step}");
        assert_eq!(
            read_f32(&state.strain_rate),
            strain_rate,
            "plastic strain rates differ at step {step}"
        );
        let dev_plastic =
            i32::from_bytes(&client.read_one(state.plastic.clone()).unwrap()).to_vec();
        assert_eq!(dev_plastic, plastic, "plastic counts differ at step {step}");
        if step < SLOTS as u64 {
            assert_eq!(
                state.count(&client, step as usize) as usize,
                count,
                "active-site count of step {step}"
            );
        }
    }
    assert!(plastic.iter().any(|&k| k > 1) && plastic.iter().any(|&k| k < -1));
    activations
}

#[test]
fn thermal_kernel_equals_the_cpu_reference() {
    for temperature in [0.1f32, 0.3] {
        let rule = Thermal {
            temperature,
            gamma0: 1.0,
            sigma_y: 1.0,
        };
        let activations = compare_with_cpu(rule, 40);
        // The comparison means something only if sites did activate.
        assert!(
            activations > 100,
            "T = {temperature}: only {activations} activations"
        );
    }
}

/// One launch for three replicas (their own seeds, temperatures, states) makes what the CPU
/// reference makes for each alone: an ensemble's replica is its single run.
#[test]
fn one_launch_for_replicas_equals_each_on_the_cpu() {
    let client = client();
    let rule = Thermal {
        temperature: 0.1,
        gamma0: 1.0,
        sigma_y: 1.0,
    };
    let replicas = [(2014u64, 0.1f32), (7, 0.3), (99, 0.05)];
    // Per replica: stress, activity, signs, plastic counts, strain rates.
    struct Lattice(Vec<f32>, Vec<u32>, Vec<f32>, Vec<i32>, Vec<f32>);
    let mut cpu: Vec<Lattice> = replicas
        .iter()
        .map(|&(seed, _)| {
            let (stress, active, sign) = initial(SITES, seed);
            let rate = strain_rate_of(&active, &sign);
            Lattice(stress, active, sign, vec![0i32; SITES], rate)
        })
        .collect();
    let stress: Vec<f32> = cpu.iter().flat_map(|c| c.0.clone()).collect();
    let active: Vec<u32> = cpu.iter().flat_map(|c| c.1.clone()).collect();
    let sign: Vec<f32> = cpu.iter().flat_map(|c| c.2.clone()).collect();
    let state = DeviceState::new(&client, &stress, &active, &sign);
    for step in 0..12u64 {
        let per_unit = 1 + 7 * (step as usize % 2);
        let p = |seed| StepParams {
            step,
            seed,
            p_off: 0.1,
            dt: 0.1,
            strain_rate_amplitude: 0.5,
        };
        step_replicas_on_device(&client, &state, &rule, &replicas, &p(0), SITES, per_unit);
        let dev_active = u32::from_bytes(&client.read_one(state.active.clone()).unwrap()).to_vec();
        let dev_plastic =
            i32::from_bytes(&client.read_one(state.plastic.clone()).unwrap()).to_vec();
        let dev_rate =
            f32::from_bytes(&client.read_one(state.strain_rate.clone()).unwrap()).to_vec();
        for (r, c) in cpu.iter_mut().enumerate() {
            let (seed, temperature) = replicas[r];
            let replica_rule = rule.with_parameter(temperature);
            let count = activation_step_cpu(
                &|s| replica_rule.rate_cpu(s),
                &p(seed),
                &c.0,
                &mut c.1,
                &mut c.2,
                &mut c.3,
                &mut c.4,
            );
            let part = r * SITES..(r + 1) * SITES;
            assert_eq!(
                dev_active[part.clone()],
                c.1[..],
                "replica {r} step {step}: activity"
            );
            assert_eq!(
                dev_plastic[part.clone()],
                c.3[..],
                "replica {r} step {step}: plastic"
            );
            assert_eq!(
                dev_rate[part],
                c.4[..],
                "replica {r} step {step}: strain rate"
            );
            if step < SLOTS as u64 {
                let counted = state.replica_count(&client, r, step as usize) as usize;
                assert_eq!(counted, count, "replica {r} step {step}: count");
            }
        }
    }
    // The replicas did differ: their parameters and keys were read per replica.
    let totals: Vec<i32> = cpu
        .iter()
        .map(|c| c.3.iter().map(|k| k.abs()).sum())
        .collect();
    assert!(totals[1] > totals[0] && totals[0] > totals[2], "{totals:?}");
}

#[test]
fn random_kernel_equals_the_cpu_reference() {
    let activations = compare_with_cpu(Random::with_activity(0.05, 1.0), 40);
    assert!(activations > 100, "only {activations} activations");
}

#[test]
fn random_model_activity_is_the_requested_one() {
    let client = client();
    let sites = 64 * 64;
    for activity in [0.05f64, 0.0034] {
        let rule = Random::with_activity(activity, 1.0);
        let (stress, _, sign) = initial(sites, 7);
        let state = DeviceState::new(&client, &stress, &vec![0u32; sites], &sign);
        let (warm_up, steps) = (200u64, 4000u64);
        let mut per_site = vec![0u64; sites];
        for step in 0..warm_up + steps {
            let p = StepParams {
                step,
                seed: 7,
                p_off: 0.1,
                dt: 0.1,
                strain_rate_amplitude: 0.5,
            };
            step_on_device(&client, &state, &rule, &p, sites, 8);
            if step >= warm_up {
                let active = client.read_one(state.active.clone()).unwrap();
                for (count, &n) in per_site.iter_mut().zip(u32::from_bytes(&active)) {
                    *count += n as u64;
                }
            }
        }
        // Sites draw independent streams: their time averages are independent samples.
        let means: Vec<f64> = per_site.iter().map(|&c| c as f64 / steps as f64).collect();
        let mean = means.iter().sum::<f64>() / sites as f64;
        let var = means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (sites - 1) as f64;
        let stderr = (var / sites as f64).sqrt();
        eprintln!("requested a = {activity}, measured {mean:.5} +- {stderr:.5}");
        assert!(
            (mean - activity).abs() < 3.0 * stderr,
            "requested a = {activity}, measured {mean} +- {stderr}"
        );
    }
}

/// A rule written outside the crate, through the trait alone: GooseEPM's barrier form
/// `Gamma0 exp(-(sigma_Y - |sigma|)^1.5 / T)` (rate 1 at and past the threshold).
#[derive(CubeLaunch, CubeType, Clone, Copy, Debug)]
struct Barrier {
    temperature: f32,
    gamma0: f32,
    sigma_y: f32,
}

#[cube]
impl epm::activation::ActivationRule for Barrier {
    fn rate(rule: &Barrier, temperature: f32, sigma: f32) -> f32 {
        let b = f32::max(rule.sigma_y - f32::abs(sigma), 0.0f32);
        rule.gamma0 * f32::exp(-(b * f32::sqrt(b)) / temperature)
    }
}

impl Activation for Barrier {
    fn launch_arg(&self) -> BarrierLaunch {
        BarrierLaunch::new(self.temperature, self.gamma0, self.sigma_y)
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
        let b = (self.sigma_y - sigma.abs()).max(0.0);
        self.gamma0 * (-(b * b.sqrt()) / self.temperature).exp()
    }
}

#[test]
fn a_user_defined_rule_runs_through_the_same_kernel() {
    let rule = Barrier {
        temperature: 0.2,
        gamma0: 1.0,
        sigma_y: 1.0,
    };
    let activations = compare_with_cpu(rule, 40);
    assert!(activations > 100, "only {activations} activations");
}

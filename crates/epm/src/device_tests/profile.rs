//! The two execution profiles on one device: the same seed gives the same run under both,
//! and a run keeps the profile it was made with through its checkpoint.
//!
//! What differs between the profiles decides how equal the runs are:
//! - sites per unit, host pacing, whole steps against separate launches, the correlator's
//!   chunks: the same arithmetic in the same order per site, so the fields agree bit for bit;
//! - the FFT's lines in shared memory against radix passes, and the sparse update against the
//!   transforms: the same sums in another order, so the stress and the tracers agree to `f32`
//!   rounding, and the integer fields (activity, signs, plastic counts) exactly as long as no
//!   draw falls within that rounding of its threshold.

use epm::profile::{FftLines, Profile, WholeSteps};
use epm::{ActivationConfig, Config, Simulation, State};

use super::{Counts, device};

fn config(l: usize, seed: u64) -> Config {
    Config {
        l,
        seed,
        resync_every: 50,
        activation: ActivationConfig::Thermal { temperature: 0.1 },
        ..Config::default()
    }
}

/// `steps` steps of `config` under `profile`: the state and the per-step counts.
fn run(config: &Config, profile: Profile, steps: u64) -> (State, Vec<u32>, Profile) {
    let state = State::initial(config);
    let mut sim =
        Simulation::from_state_with_profile(config.clone(), None, state, &device(), Some(profile))
            .unwrap();
    let mut counts = Counts::default();
    sim.advance(steps, &mut [&mut counts]).unwrap();
    (sim.state().unwrap(), counts.counts, *sim.profile())
}

#[test]
fn the_same_kernels_under_both_profiles_give_the_same_run_bit_for_bit() {
    // Radix FFT plans and no sparse update in both: what is left to differ is sites per unit
    // (1 against 8, in vectors of four), pacing and, at L = 32, whole steps (CPU) against
    // separate launches (GPU).
    let same_plans = |p: Profile| Profile {
        fft_lines: FftLines::Radix,
        ..p.with_sparse_max_active(0)
    };
    for l in [32, 128] {
        let cfg = config(l, 71);
        let (gpu, gpu_counts, gp) = run(&cfg, same_plans(Profile::gpu()), 300);
        let (cpu, cpu_counts, cp) = run(&cfg, same_plans(Profile::cpu()), 300);
        assert_eq!(gp.sites_per_unit, 1);
        assert_eq!(cp.sites_per_unit, 8);
        assert_eq!(gp.whole_steps, WholeSteps::Never);
        let events: u32 = cpu_counts.iter().sum();
        assert!(events > 100, "L = {l}: {events} site-steps active");
        assert_eq!(gpu_counts, cpu_counts, "L = {l}: counts");
        assert_eq!(gpu, cpu, "L = {l}: state");
    }
}

#[test]
fn the_gpu_and_cpu_profiles_agree_to_f32_rounding() {
    // Every choice as the profile makes it: shared-memory FFT lines against radix passes, the
    // GPU's sparse limit against the CPU's, whole steps at L = 64 in the CPU profile only.
    let cfg = config(64, 72);
    let (gpu, gpu_counts, gp) = run(&cfg, Profile::gpu(), 200);
    let (cpu, cpu_counts, cp) = run(&cfg, Profile::cpu(), 200);
    assert_eq!(
        (gp.fft_lines, cp.fft_lines),
        (FftLines::Shared, FftLines::Radix)
    );
    let events: u32 = cpu_counts.iter().sum();
    assert!(events > 100, "{events} site-steps active");
    assert_eq!(gpu_counts, cpu_counts, "counts");
    assert_eq!(gpu.active, cpu.active, "activity");
    assert_eq!(gpu.sign, cpu.sign, "signs");
    assert_eq!(gpu.plastic, cpu.plastic, "plastic strain");
    let worst_stress = gpu
        .stress
        .iter()
        .zip(&cpu.stress)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let worst_tracer = (0..gpu.tracers.len())
        .map(|i| {
            let (a, b) = (gpu.tracers.position(i), cpu.tracers.position(i));
            (a.0 - b.0).abs().max((a.1 - b.1).abs())
        })
        .fold(0.0f64, f64::max);
    eprintln!("worst stress difference {worst_stress:e}, worst tracer {worst_tracer:e}");
    assert!(worst_stress <= 1e-5, "stress differs by {worst_stress}");
    assert!(worst_tracer <= 1e-5, "tracers differ by {worst_tracer}");
}

#[test]
fn a_checkpoint_keeps_its_profile_and_a_resume_may_change_it() {
    let cfg = config(32, 73);
    let other = match super::profile().name {
        epm::ProfileName::Gpu => Profile::cpu(),
        epm::ProfileName::Cpu => Profile::gpu(),
    };
    let state = State::initial(&cfg);
    let mut sim =
        Simulation::from_state_with_profile(cfg.clone(), None, state, &device(), Some(other))
            .unwrap();
    assert_eq!(*sim.profile(), other);
    sim.advance(40, &mut []).unwrap();
    let bytes = sim.checkpoint_bytes().unwrap();
    let checkpoint = Simulation::decode_checkpoint(&bytes).unwrap();
    assert_eq!(checkpoint.profile, Some(other));
    // Restored: the checkpoint's profile, not the one this process would choose.
    let mut restored = Simulation::from_checkpoint(checkpoint.clone(), None, &device()).unwrap();
    assert_eq!(*restored.profile(), other);
    sim.advance(60, &mut []).unwrap();
    restored.advance(60, &mut []).unwrap();
    assert_eq!(
        restored.state().unwrap(),
        sim.state().unwrap(),
        "exact resume"
    );
    // Replaced on resume: the run goes on under the other profile.
    let replaced = epm::Checkpoint {
        profile: Some(super::profile()),
        ..checkpoint
    };
    let moved = Simulation::from_checkpoint(replaced, None, &device()).unwrap();
    assert_eq!(*moved.profile(), super::profile());
}

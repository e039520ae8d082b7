//! A first run: the thermal model at T = 0.1, a checkpoint and a restored run that continues
//! exactly where the first one was, then the tracers' D(t).
//!
//! `cargo run --release --example quickstart -- [L] [steps]` (default 64, 2000).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let l: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(64);
    let steps: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2000);
    let dir = std::env::temp_dir().join(format!("epm-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let checkpoint = dir.join("run.ckpt");

    // ANCHOR: run
    let device = epm::device::default_device()?;
    let mut config = epm::Config::from_toml(
        r#"
        seed = 7
        [activation]
        rule = "thermal"
        temperature = 0.1
        "#,
    )?;
    config.l = l; // every key has the paper's default; see the configuration reference
    let mut sim = epm::Simulation::new(config, &device)?;
    sim.advance(steps, &mut [])?; // observers go in the slice
    sim.checkpoint(&checkpoint)?; // atomic: a temporary file, then a rename
    // ANCHOR_END: run
    println!(
        "{} on {}",
        sim.rule_name(),
        epm::device::describe(&device.client())
    );
    println!(
        "t = {:.1}: {} of {} sites active, stress rms {:.4}, mean {:.1e}",
        sim.time(),
        sim.active_sites(),
        l * l,
        sim.stress()
            .powi_scalar(2)
            .mean()
            .sqrt()
            .into_scalar::<f32>(),
        sim.stress().mean().into_scalar::<f32>(),
    );

    // ANCHOR: restore
    let mut restored = epm::Simulation::restore(&checkpoint, &device)?;
    restored.advance(100, &mut [])?;
    sim.advance(100, &mut [])?;
    assert_eq!(restored.state()?, sim.state()?); // the same run, bit for bit
    // ANCHOR_END: restore
    println!("restored at step {steps}, 100 more steps: identical to the original run");

    // ANCHOR: dt
    use epm::observables::structure_factor::{log_spaced_moduli, shells_near};
    use epm::observables::tracer_dynamics::{TracerDynamics, TracerDynamicsOptions};
    let l = l as usize;
    let mut dynamics = TracerDynamics::new(
        sim.client(),
        l,
        sim.config().dt,
        sim.tracer_count(),
        TracerDynamicsOptions {
            points_per_level: 8,
            shells: shells_near(l, &log_spaced_moduli(l, 4, std::f64::consts::PI)),
            warm_up: 0,
        },
    )?;
    sim.advance(steps, &mut [&mut dynamics])?;
    let msd = &dynamics.tables()?[0]; // also: structure_factor, velocity_correlation
    for (t, d) in msd
        .column("t")
        .unwrap()
        .iter()
        .zip(msd.column("D").unwrap())
        .step_by(4)
    {
        println!("D(t = {t:8.1}) = {d:.4e} lattice^2 / tau");
    }
    // ANCHOR_END: dt
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

//! The memory estimate a run is checked against before it starts ([`epm::resources`]) holds
//! what the run then allocates on the device. Alone in its test binary: the device's memory
//! report counts every buffer of the process, and nothing else may run beside it.

use cubecl::MemoryScope;
use epm::run::Run;
use epm::{ActivationConfig, Config};

#[test]
fn the_estimate_covers_what_a_run_allocates_on_the_device() {
    let device = epm::device::default_device().expect("no device: install mesa-vulkan-drivers");
    let client = device.client();
    let dir = std::env::temp_dir().join(format!("epm-resources-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // Every observer, a correlator grown once (300 updates need 9 levels: room for 16), and
    // more tracers than the default so that their buffers weigh.
    let config = Config {
        l: 128,
        steps: 300,
        tracers: Some(8192),
        activation: ActivationConfig::Thermal { temperature: 0.2 },
        ..Config::default()
    };
    let estimate = epm::resources::estimate(&config, 1, true);
    let before = client
        .memory_report(MemoryScope::Device)
        .usage()
        .bytes_in_use;
    let mut run = Run::start(config, &dir.join("run"), &device).unwrap();
    while run.remaining() > 0 {
        run.advance(50).unwrap();
    }
    run.simulation().settle().unwrap();
    let used = client
        .memory_report(MemoryScope::Device)
        .usage()
        .bytes_in_use
        - before;
    let (estimated, used_f) = (estimate.device() as f64, used as f64);
    eprintln!(
        "estimated {} (parts {:?}), in use {}",
        epm::resources::bytes(estimate.device()),
        estimate.parts,
        epm::resources::bytes(used)
    );
    // Above what is in use (it also counts a correlator's old levels while they move), and
    // not far above it: a run is not refused for room it would never take.
    assert!(
        estimated >= used_f,
        "estimated {estimated}, in use {used_f}"
    );
    assert!(
        estimated <= 1.6 * used_f,
        "estimated {estimated}, in use {used_f}"
    );
    drop(run);
    std::fs::remove_dir_all(&dir).unwrap();
}

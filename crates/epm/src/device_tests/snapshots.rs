//! The snapshot file: read back, it holds the run's state; a run that crashed after its last
//! checkpoint and resumed writes the same file as one that never stopped.

use epm::run::Run;
use epm::snapshots::{FILE, read_trajectories};
use epm::{ActivationConfig, Config};
use hdf5_metno as hdf5;

use super::device;

fn config() -> Config {
    let mut c = Config {
        l: 16,
        seed: 5,
        steps: 200,
        tracers: Some(12),
        activation: ActivationConfig::Thermal { temperature: 0.15 },
        ..Config::default()
    };
    c.output.snapshot_every = 50;
    c.output.trajectory_every = 10;
    c
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("epm-snap-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn read<T: hdf5::H5Type>(file: &hdf5::File, name: &str) -> Vec<T> {
    file.dataset(name).unwrap().read_raw().unwrap()
}

#[test]
fn snapshots_hold_the_state_and_survive_a_crash_and_resume() {
    let straight_dir = scratch("straight");
    let mut straight = Run::start(config(), &straight_dir, &device()).unwrap();
    straight.advance(200).unwrap();
    straight.checkpoint().unwrap();
    let state = straight.simulation().state().unwrap();

    let file = hdf5::File::open(straight_dir.join(FILE)).unwrap();
    assert_eq!(read::<u64>(&file, "snapshots/step"), [50, 100, 150, 200]);
    assert_eq!(
        read::<u64>(&file, "trajectories/step"),
        (1..=20).map(|k| 10 * k).collect::<Vec<u64>>()
    );
    let times: Vec<f64> = read(&file, "snapshots/time");
    assert_eq!(times, [5.0, 10.0, 15.0, 20.0]);
    let n = 16 * 16;
    let stress: Vec<f32> = read(&file, "snapshots/stress");
    assert_eq!(
        &stress[3 * n..],
        &state.stress[..],
        "the last snapshot is the state"
    );
    let activity: Vec<u8> = read(&file, "snapshots/activity");
    let active: Vec<u8> = state.active.iter().map(|&a| a as u8).collect();
    assert_eq!(&activity[3 * n..], &active[..]);
    let plastic: Vec<f32> = read(&file, "snapshots/plastic_strain");
    let unit = config().plastic_strain_unit();
    for (p, &k) in plastic[3 * n..].iter().zip(&state.plastic) {
        assert_eq!(*p, (k as f64 * unit) as f32);
    }
    assert!(state.plastic.iter().any(|&k| k != 0), "nothing happened");
    let tracers: Vec<f64> = read(&file, "snapshots/tracers");
    let last = &tracers[3 * 24..];
    for i in 0..12 {
        let (x, y) = state.tracers.position(i);
        assert_eq!((last[2 * i], last[2 * i + 1]), (x, y), "tracer {i}");
    }
    let units: hdf5::types::VarLenUnicode = file
        .dataset("snapshots/stress")
        .unwrap()
        .attr("units")
        .unwrap()
        .read_scalar()
        .unwrap();
    assert_eq!(units.as_str(), "sigma_Y");
    let trajectories = read_trajectories(&straight_dir.join(FILE)).unwrap();
    assert_eq!(trajectories.positions.len(), 20);
    assert_eq!(trajectories.positions[19][3], state.tracers.position(3));
    drop(file);

    // Checkpoint at 120, 30 more steps written, then a crash; the resumed run rewrites them.
    let crashed_dir = scratch("crashed");
    let mut crashed = Run::start(config(), &crashed_dir, &device()).unwrap();
    crashed.advance(120).unwrap();
    crashed.checkpoint().unwrap();
    crashed.advance(30).unwrap();
    drop(crashed);
    let mut resumed = Run::resume(&crashed_dir, None, &device()).unwrap();
    resumed.advance(80).unwrap();
    resumed.checkpoint().unwrap();
    drop((straight, resumed));
    let (a, b) = (
        hdf5::File::open(straight_dir.join(FILE)).unwrap(),
        hdf5::File::open(crashed_dir.join(FILE)).unwrap(),
    );
    for name in ["snapshots/step", "trajectories/step"] {
        assert_eq!(read::<u64>(&a, name), read::<u64>(&b, name), "{name}");
    }
    for name in [
        "snapshots/tracers",
        "trajectories/tracers",
        "snapshots/time",
    ] {
        assert_eq!(read::<f64>(&a, name), read::<f64>(&b, name), "{name}");
    }
    for name in ["snapshots/stress", "snapshots/plastic_strain"] {
        assert_eq!(read::<f32>(&a, name), read::<f32>(&b, name), "{name}");
    }
    std::fs::remove_dir_all(&straight_dir).unwrap();
    std::fs::remove_dir_all(&crashed_dir).unwrap();
}

//! Checkpoints: a restored run continues bit for bit; bad files are refused by name.

use epm::{ActivationConfig, Config, SimError, Simulation};

use super::device;

fn config() -> Config {
    Config {
        l: 32,
        seed: 77,
        resync_every: 60,
        activation: ActivationConfig::Thermal { temperature: 0.12 },
        ..Config::default()
    }
}

#[test]
fn a_restored_run_continues_bit_for_bit() {
    let dir = std::env::temp_dir().join(format!("epm-checkpoint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.ckpt");

    // Both updates: sparse while few sites are active, dense after.
    let mut original = super::simulation(&config(), super::sparse(12));
    // 40 steps: mid-way through a count ring, a sparse window (the windows from step 16 on
    // start with 9, 11, 20, 19, ... active sites) and before the first resynchronisation.
    original.advance(40, &mut []).unwrap();
    original.checkpoint(&path).unwrap();
    let saved = original.state().unwrap();
    assert!(saved.window_active <= 12, "{} active", saved.window_active);
    original.advance(260, &mut []).unwrap();

    let back = Simulation::read_checkpoint(&path).unwrap();
    assert_eq!(back.config, config());
    assert_eq!(back.state, saved, "the checkpoint holds the state exactly");

    let mut restored = Simulation::restore(&path, &device()).unwrap();
    assert_eq!(restored.step(), 40);
    restored.advance(260, &mut []).unwrap();
    let (a, b) = (original.state().unwrap(), restored.state().unwrap());
    assert!(a.window_active > 12, "the run went on to dense windows");
    assert!(a.plastic.iter().any(|&k| k != 0), "nothing happened");
    // Bit for bit: compare the f32 bit patterns, not just the values.
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.stress), bits(&b.stress));
    assert_eq!(a, b);
    assert!(
        !dir.join("run.ckpt.tmp").exists(),
        "temporary file left behind"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_of_your_own_rule_comes_back_only_with_that_rule() {
    let dir = std::env::temp_dir().join(format!("epm-own-rule-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("own.ckpt");
    // The configuration says thermal; the run uses a random rule of its own.
    let own = epm::Random { rate: 0.02 };
    let mut original = Simulation::with_rule(config(), own, &device()).unwrap();
    original.advance(40, &mut []).unwrap();
    original.checkpoint(&path).unwrap();
    assert_eq!(
        Simulation::read_checkpoint(&path).unwrap().rule,
        original.rule_name()
    );
    match Simulation::restore(&path, &device()) {
        Err(e @ SimError::Checkpoint { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("own.ckpt") && text.contains("Random"),
                "{text}"
            );
        }
        other => panic!("the configured rule was accepted: {:?}", other.err()),
    }
    let other = epm::Random { rate: 0.03 };
    assert!(Simulation::restore_with_rule(&path, other, &device()).is_err());
    let mut restored = Simulation::restore_with_rule(&path, own, &device()).unwrap();
    original.advance(30, &mut []).unwrap();
    restored.advance(30, &mut []).unwrap();
    assert_eq!(original.state().unwrap(), restored.state().unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_checkpoints_are_refused_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("epm-bad-checkpoint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("garbage.ckpt");
    std::fs::write(&path, b"not a checkpoint at all").unwrap();
    match Simulation::restore(&path, &device()) {
        Err(e @ SimError::Checkpoint { .. }) => {
            assert!(e.to_string().contains("garbage.ckpt"), "{e}")
        }
        other => panic!("expected a checkpoint error, got {:?}", other.err()),
    }
    let missing = dir.join("missing.ckpt");
    assert!(matches!(
        Simulation::restore(&missing, &device()),
        Err(SimError::Io { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_resumed_run_ends_with_the_same_tables_bit_for_bit() {
    use epm::run::Run;
    let base = std::env::temp_dir().join(format!("epm-resume-{}", std::process::id()));
    let mut config = Config {
        l: 32,
        seed: 31,
        steps: 1500,
        activation: ActivationConfig::Thermal { temperature: 0.12 },
        ..Config::default()
    };
    config.observables.warm_up = 200;
    // Straight through, in uneven pieces.
    let straight = base.join("straight");
    let mut run = Run::start(config.clone(), &straight, &device()).unwrap();
    for piece in [7, 600, 893] {
        run.advance(piece).unwrap();
    }
    assert_eq!(run.remaining(), 0);
    let a = run.write_outputs().unwrap();
    drop(run);
    // Stopped at step 777 (outputs written there too), then resumed in a new Run.
    let stopped = base.join("stopped");
    let mut run = Run::start(config.clone(), &stopped, &device()).unwrap();
    run.advance(777).unwrap();
    run.write_outputs().unwrap();
    run.checkpoint().unwrap();
    assert!(!Run::is_complete(&stopped));
    drop(run);
    let mut resumed = Run::resume(&stopped, Some(&config), &device()).unwrap();
    assert_eq!(resumed.simulation().step(), 777);
    resumed.advance(10_000).unwrap();
    let b = resumed.write_outputs().unwrap();
    assert!(Run::is_complete(&stopped));
    assert_eq!(a.quantities, b.quantities);
    for t in &a.tables {
        let left = std::fs::read(straight.join(&t.file)).unwrap();
        let right = std::fs::read(stopped.join(&t.file)).unwrap();
        assert!(left == right, "{} differs after resuming", t.file);
    }
    // A different configuration is refused by key; a longer `steps` is accepted.
    let mut other = config.clone();
    other.dt = 0.05;
    match Run::resume(&stopped, Some(&other), &device()) {
        Err(SimError::InvalidArgument { value, .. }) => assert_eq!(value, "dt"),
        other => panic!("{:?}", other.err()),
    }
    other = config.clone();
    other.steps = 2000;
    // The checkpoint on disk is the one of step 777.
    assert_eq!(
        Run::resume(&stopped, Some(&other), &device())
            .unwrap()
            .remaining(),
        1223
    );
    assert!(matches!(
        Run::start(config, &stopped, &device()),
        Err(SimError::InvalidArgument {
            argument: "out",
            ..
        })
    ));
    std::fs::remove_dir_all(&base).unwrap();
}

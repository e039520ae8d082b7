//! What a checkpoint holds, and its file format: the configuration, the activation rule, the
//! execution profile and the [`State`], sealed with a digest ([`crate::sealed`]). Every format
//! this crate wrote is still read.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::SimError;
use crate::profile::{Profile, ProfileSource, RunOptions};
use crate::tracers::TracerPositions;

/// Checkpoint format version: 4 records the execution profile, 3 ends with a digest
/// ([`crate::sealed`]); 1 to 3 are still read (3 and 2 without a profile).
const CHECKPOINT_FORMAT: u32 = 4;

/// Everything a run needs to continue: what a checkpoint holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Steps completed (also the Philox counter of the next step: the generator's position).
    pub step: u64,
    /// Stress, row-major `L x L`.
    pub stress: Vec<f32>,
    /// Stress at step 0 (the resynchronisation's origin).
    pub initial_stress: Vec<f32>,
    /// Activity, 0 or 1.
    pub active: Vec<u32>,
    /// Threshold signs, +-1.
    pub sign: Vec<f32>,
    /// Signed counts of active steps (the plastic strain in units of `dt eps0 / (2 tau)`).
    pub plastic: Vec<i32>,
    /// Tracer positions.
    pub tracers: TracerPositions,
    /// Active sites at the start of the current window of [`crate::sparse::WINDOW`] steps:
    /// what chooses between the sparse and the dense update until the next window.
    pub window_active: u32,
}

/// A checkpoint's state before format 2, which had no `window_active`.
#[derive(Deserialize)]
struct StateV1 {
    step: u64,
    stress: Vec<f32>,
    initial_stress: Vec<f32>,
    active: Vec<u32>,
    sign: Vec<f32>,
    plastic: Vec<i32>,
    tracers: TracerPositions,
}

#[derive(Deserialize)]
struct CheckpointFileV1 {
    config_toml: String,
    rule: String,
    state: StateV1,
}

impl State {
    /// The start of a run: zero stress, every site inactive, tracers uniform at random.
    pub fn initial(config: &Config) -> Self {
        let n = config.sites();
        Self {
            step: 0,
            stress: vec![0.0; n],
            initial_stress: vec![0.0; n],
            active: vec![0; n],
            sign: vec![1.0; n],
            plastic: vec![0; n],
            tracers: TracerPositions::uniform(config.seed, config.tracer_count(), config.l),
            window_active: 0,
        }
    }

    pub(crate) fn check(&self, config: &Config) -> Result<(), String> {
        let n = config.sites();
        let lens = [
            ("stress", self.stress.len()),
            ("initial_stress", self.initial_stress.len()),
            ("active", self.active.len()),
            ("sign", self.sign.len()),
            ("plastic", self.plastic.len()),
        ];
        for (name, len) in lens {
            if len != n {
                return Err(format!("`{name}` holds {len} sites, the lattice has {n}"));
            }
        }
        let t = &self.tracers;
        if t.cells.len() != t.fractions.len() || !t.cells.len().is_multiple_of(2) {
            return Err("tracer cells and fractions differ in length".into());
        }
        if let Some(bad) = self.active.iter().find(|&&a| a > 1) {
            return Err(format!("activity {bad} is not 0 or 1"));
        }
        if let Some(bad) = self.sign.iter().find(|&&s| s != 1.0 && s != -1.0) {
            return Err(format!("sign {bad} is not +1 or -1"));
        }
        if let Some(bad) = self
            .stress
            .iter()
            .chain(&self.initial_stress)
            .find(|s| !s.is_finite())
        {
            return Err(format!("stress {bad} is not finite"));
        }
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct CheckpointFile {
    format: u32,
    config_toml: String,
    rule: String,
    /// [`Profile::to_json`].
    profile_json: String,
    state: State,
}

/// Formats 2 and 3: no profile.
#[derive(Deserialize)]
struct CheckpointFileV3 {
    #[allow(dead_code)]
    format: u32,
    config_toml: String,
    rule: String,
    state: State,
}

/// What a checkpoint holds: the configuration, the activation rule (its `Debug` text), the
/// execution profile and the state.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The run's configuration.
    pub config: Config,
    /// The rule the run was made with, as [`crate::Simulation::rule_name`] gives it.
    pub rule: String,
    /// The execution profile the run was made with (`None` in checkpoints older than the
    /// profile, format 4): a restored run keeps it unless it is replaced here.
    pub profile: Option<Profile>,
    /// Everything the run needs to go on.
    pub state: State,
    /// The run options an older checkpoint's configuration held (`sparse_max_active`,
    /// `whole_steps`), applied where it records no profile.
    pub(crate) legacy: RunOptions,
}

impl Checkpoint {
    /// A checkpoint of `state`, made with `rule` (its `Debug` text) under `profile`.
    pub fn new(config: Config, rule: String, profile: Option<Profile>, state: State) -> Self {
        Self {
            config,
            rule,
            profile,
            state,
            legacy: RunOptions::default(),
        }
    }

    /// Resolves the profile the restored run takes on `device`: this checkpoint's (or, where it
    /// records none, its older configuration's run options over [`Profile::default_for`]),
    /// replaced by what `options` asks ([`RunOptions::resolve`]). Returns where it came from.
    pub fn resolve_profile(
        &mut self,
        device: &cubecl::Device,
        options: &RunOptions,
    ) -> Result<ProfileSource, SimError> {
        let client = device.client();
        let source = options.source(self.profile.is_some());
        let kept = match self.profile {
            Some(p) => p,
            None => self.legacy.resolve(&client, None)?,
        };
        self.profile = Some(options.resolve(&client, Some(kept))?);
        Ok(source)
    }

    /// Whether the run takes the dense update only (a sparse limit of 0 set by hand), as the
    /// replicas of an ensemble do: such a run can go on as one.
    pub fn dense_only(&self) -> bool {
        let fixed_zero = crate::profile::SparseLimit::Fixed { active: 0 };
        match self.profile {
            Some(p) => p.sparse == fixed_zero,
            None => self.legacy.sparse_max_active == Some(0),
        }
    }
}

/// What checkpoint bytes hold ([`crate::Simulation::decode_checkpoint`]). Their digest is
/// checked first: damaged or truncated bytes are refused, never restored.
pub(crate) fn decode(bytes: &[u8]) -> Result<Checkpoint, SimError> {
    let bad = |message: String| SimError::Checkpoint {
        path: "<bytes>".into(),
        message,
    };
    const WHAT: &str = "a checkpoint";
    let opened = crate::sealed::open(bytes, 3..=CHECKPOINT_FORMAT, 1..=2, WHAT).map_err(bad)?;
    let file: CheckpointFile = if opened.format == 1 {
        // Format 1 had no window count: the window restarts from the current activity.
        let (_, old): (u32, CheckpointFileV1) =
            crate::sealed::decode(opened.payload, WHAT).map_err(bad)?;
        let s = old.state;
        CheckpointFile {
            format: CHECKPOINT_FORMAT,
            config_toml: old.config_toml,
            rule: old.rule,
            profile_json: String::new(),
            state: State {
                window_active: s.active.iter().sum(),
                step: s.step,
                stress: s.stress,
                initial_stress: s.initial_stress,
                active: s.active,
                sign: s.sign,
                plastic: s.plastic,
                tracers: s.tracers,
            },
        }
    } else if opened.format < CHECKPOINT_FORMAT {
        let old: CheckpointFileV3 = crate::sealed::decode(opened.payload, WHAT).map_err(bad)?;
        CheckpointFile {
            format: CHECKPOINT_FORMAT,
            config_toml: old.config_toml,
            rule: old.rule,
            profile_json: String::new(),
            state: old.state,
        }
    } else {
        crate::sealed::decode(opened.payload, WHAT).map_err(bad)?
    };
    // Before format 4 the configuration held two run options.
    let (config, legacy) = if opened.format < CHECKPOINT_FORMAT {
        Config::from_toml_with_run_options(&file.config_toml)?
    } else {
        (Config::from_toml(&file.config_toml)?, RunOptions::default())
    };
    file.state.check(&config).map_err(bad)?;
    let profile = if file.profile_json.is_empty() {
        None
    } else {
        let p = Profile::from_json(&file.profile_json).map_err(|e| bad(e.to_string()))?;
        Some(p)
    };
    Ok(Checkpoint {
        config,
        rule: file.rule,
        profile,
        state: file.state,
        legacy,
    })
}

/// A run's checkpoint bytes (format [`CHECKPOINT_FORMAT`]), as [`crate::Simulation::checkpoint_bytes`]
/// and each replica of an ensemble write them.
pub(crate) fn encode(
    config: &Config,
    rule: &str,
    profile: &Profile,
    state: State,
) -> Result<Vec<u8>, SimError> {
    let file = CheckpointFile {
        format: CHECKPOINT_FORMAT,
        config_toml: config.to_toml(),
        rule: rule.to_string(),
        profile_json: profile.to_json(),
        state,
    };
    crate::sealed::encode(&file).map_err(|message| SimError::Checkpoint {
        path: "<bytes>".into(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_format_1_checkpoint_is_still_read() {
        // Format 1: the same file without the window count (postcard writes a struct as the
        // sequence of its fields, as it does a tuple).
        let config = Config {
            l: 4,
            ..Config::default()
        };
        let mut state = State::initial(&config);
        state.active[3] = 1;
        state.active[9] = 1;
        let s = state.clone();
        let v1 = (
            1u32,
            config.to_toml(),
            "Thermal".to_string(),
            (
                s.step,
                s.stress,
                s.initial_stress,
                s.active,
                s.sign,
                s.plastic,
                s.tracers,
            ),
        );
        let bytes = postcard::to_stdvec(&v1).unwrap();
        let back = decode(&bytes).unwrap();
        assert_eq!(back.config, config);
        assert_eq!(
            back.state,
            State {
                window_active: 2,
                ..state
            }
        );
        // A format this version does not know is refused by number.
        let v9 = (9u32, config.to_toml());
        let err = decode(&postcard::to_stdvec(&v9).unwrap()).unwrap_err();
        assert!(err.to_string().contains("format 9"), "{err}");
    }

    fn small_checkpoint() -> (Config, State, Vec<u8>) {
        let config = Config {
            l: 8,
            ..Config::default()
        };
        let mut state = State::initial(&config);
        state.active[5] = 1;
        state.stress[5] = 0.75;
        state.window_active = 1;
        let profile = Profile::gpu().with_sparse_max_active(3);
        let bytes = encode(&config, "Thermal", &profile, state.clone()).unwrap();
        (config, state, bytes)
    }

    #[test]
    fn a_checkpoint_records_its_profile_and_a_format_3_one_is_read_without() {
        let (config, state, bytes) = small_checkpoint();
        let back = decode(&bytes).unwrap();
        assert_eq!(back.profile, Some(Profile::gpu().with_sparse_max_active(3)));
        let v3 = CheckpointFileV3Out {
            format: 3,
            config_toml: config.to_toml(),
            rule: "Thermal".into(),
            state: state.clone(),
        };
        let sealed = crate::sealed::encode(&v3).unwrap();
        let back = decode(&sealed).unwrap();
        assert_eq!(
            (back.config.clone(), back.state.clone(), back.profile),
            (config.clone(), state.clone(), None)
        );
        assert!(!back.dense_only());
        // Its configuration then held the run options: a replica of an ensemble said
        // `sparse_max_active = 0`, which still makes it a dense-only run.
        let replica = CheckpointFileV3Out {
            config_toml: format!("sparse_max_active = 0\n{}", config.to_toml()),
            ..v3
        };
        let sealed = crate::sealed::encode(&replica).unwrap();
        let back = decode(&sealed).unwrap();
        assert_eq!(back.config, config);
        assert!(back.dense_only());
    }

    /// Format 3 as it was written.
    #[derive(serde::Serialize)]
    struct CheckpointFileV3Out {
        format: u32,
        config_toml: String,
        rule: String,
        state: State,
    }

    #[test]
    fn a_format_2_checkpoint_without_a_digest_is_still_read() {
        let (config, state, _) = small_checkpoint();
        let v2 = CheckpointFileV3Out {
            format: 2,
            config_toml: config.to_toml(),
            rule: "Thermal".into(),
            state: state.clone(),
        };
        let back = decode(&postcard::to_stdvec(&v2).unwrap()).unwrap();
        assert_eq!((back.config, back.state), (config, state));
    }

    #[test]
    fn a_damaged_or_truncated_checkpoint_is_refused_by_name() {
        let (config, state, bytes) = small_checkpoint();
        let back = decode(&bytes).unwrap();
        assert_eq!((back.config, back.state), (config, state));
        // Two bytes flipped in the middle: before the digest, postcard decoded this silently.
        let mut flipped = bytes.clone();
        let middle = bytes.len() / 2;
        flipped[middle] ^= 0x01;
        flipped[middle + 1] ^= 0x80;
        let err = decode(&flipped).unwrap_err();
        assert!(matches!(err, SimError::Checkpoint { .. }), "{err}");
        assert!(err.to_string().contains("damaged or truncated"), "{err}");
        let truncated = &bytes[..bytes.len() - 100];
        let err = decode(truncated).unwrap_err();
        assert!(err.to_string().contains("damaged or truncated"), "{err}");
        let dir = std::env::temp_dir().join(format!("epm-damaged-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("damaged.epm");
        std::fs::write(&path, &flipped).unwrap();
        let err = crate::Simulation::read_checkpoint(&path)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

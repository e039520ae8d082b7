//! A run's configuration: every parameter of the model (model notes, section 1) with the
//! paper's defaults, read from TOML and checked before any device work.
//!
//! ```toml
//! l = 256
//! dt = 0.1
//! seed = 7
//!
//! [activation]
//! rule = "thermal"
//! temperature = 0.1
//!
//! [propagator]
//! preset = "paper"     # or "literal"; keys beside it override it
//! form = "lattice"
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::activation::{StepParams, random_rate};
use crate::propagator::PropagatorSpec;

/// The limits of the `[observables]` keys: checked here when a configuration is read, and by
/// the observers' constructors for users who build them by hand.
pub mod limits {
    use std::f64::consts::PI;

    /// Fewest and most lags per multiple-tau level (`points_per_level`, even).
    pub const POINTS_PER_LEVEL: (usize, usize) = (4, 64);
    /// Most shells (or `q` moduli) of `S(q, t)` one run measures.
    pub const MAX_SHELLS: usize = 32;
    /// Largest `|q|` of `S(q, t)`, in inverse lattice spacings. The device's phases `q . dr`
    /// stay below about `2 pi + 2 |q|` (the whole cells of `k . dr` are reduced modulo `L`),
    /// where its polynomial cosine ([`crate::observables::structure_factor`]) is accurate to 1e-6.
    pub const MAX_Q: f64 = 8.0 * PI;

    /// Why `p` cannot be a number of lags per level, if it cannot.
    pub fn check_points_per_level(p: usize) -> Result<(), String> {
        let (lo, hi) = POINTS_PER_LEVEL;
        if (lo..=hi).contains(&p) && p.is_multiple_of(2) {
            Ok(())
        } else {
            Err(format!("must be even, from {lo} to {hi}"))
        }
    }
}

/// How inactive sites become active.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ActivationConfig {
    /// Paper Eq. 2: rate `Gamma0 min(exp((sigma^2 - sigma_Y^2) / 2T), 1)`.
    Thermal {
        /// Temperature `T`, in units of stress squared (`sigma_Y = 1`). Must be > 0.
        temperature: f64,
    },
    /// The random model: constant rate `a / (tau_res (1 - a))`, stationary activity `a`.
    Random {
        /// Stationary mean activity `a`, in (0, 1).
        activity: f64,
    },
}

impl Default for ActivationConfig {
    fn default() -> Self {
        ActivationConfig::Thermal { temperature: 0.1 }
    }
}

/// The parameters of one simulation. Units: `tau = 1 / Gamma0 = tau_res = 1` sets time,
/// `sigma_Y = 1` stress, the lattice spacing length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Linear lattice size `L` (a power of two, 4 to 4096).
    pub l: usize,
    /// Elastic modulus `mu`.
    pub mu: f64,
    /// Plastic strain scale `eps0` of an event.
    pub eps0: f64,
    /// Mechanical relaxation time `tau` (the time unit).
    pub tau: f64,
    /// Attempt frequency `Gamma0`.
    pub gamma0: f64,
    /// Mean event duration `tau_res`.
    pub tau_res: f64,
    /// Local yield stress `sigma_Y` (the same for every site, both signs).
    pub sigma_y: f64,
    /// Time step `dt` (explicit Euler); `Gamma0 dt <= 1` and `dt / tau_res <= 1`.
    pub dt: f64,
    /// Seed of every random number of the run (Philox key).
    pub seed: u64,
    /// Steps of a run (`epm run`): its planned length.
    pub steps: u64,
    /// Number of tracers; absent: one per 16 sites.
    pub tracers: Option<usize>,
    /// Steps between exact resynchronisations of the stress from the plastic strain.
    pub resync_every: u64,
    /// The activation rule.
    pub activation: ActivationConfig,
    /// The propagator.
    pub propagator: PropagatorSpec,
    /// What a run measures (`epm run`; see [`crate::observables`]).
    pub observables: ObservablesConfig,
    /// What a run saves besides its tables (`epm run`; see [`crate::snapshots`]).
    pub output: OutputConfig,
}

/// The `[output]` table: fields and trajectories saved during a run, in `snapshots.h5`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// Steps between two snapshots of the stress, activity, plastic strain and tracer
    /// positions (0: none).
    pub snapshot_every: u64,
    /// Steps between two records of the tracer positions alone (0: none).
    pub trajectory_every: u64,
}

/// The `[observables]` table: which measurements a run makes and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObservablesConfig {
    /// Steps before any measurement (the steady state is measured).
    pub warm_up: u64,
    /// `a(t)`, its mean and error, the stress histogram.
    pub activity: bool,
    /// Steps between two stress histograms.
    pub stress_every: u64,
    /// Tracer MSD, `D(t)`, `S(q, t)` and `C_u(t)`.
    pub tracer_dynamics: bool,
    /// Lags per multiple-tau level (`p/2` per octave) of the tracer and stress correlators.
    pub points_per_level: usize,
    /// The moduli `|q|` of `S(q, t)` (inverse lattice spacings, `2 pi / L` to `8 pi`: tracer
    /// positions are continuous, so `q` may leave the Brillouin zone); the nearest exact shells
    /// are used. Empty: `shells` moduli log-spaced from `2 pi / L` to `q_max`.
    pub q: Vec<f64>,
    /// Number of log-spaced moduli when `q` is empty.
    pub shells: usize,
    /// The largest log-spaced modulus when `q` is empty (inverse lattice spacings, up to
    /// `8 pi`). The default `4 pi` shows the ballistic decay of Fig. 2b within the event duration.
    pub q_max: f64,
    /// `P(u)`.
    pub displacements: bool,
    /// Window of `P(u)`, in steps.
    pub displacement_window: u64,
    /// `Psi(tau_ev)`.
    pub waiting_times: bool,
    /// `C_sigma(t)`.
    pub stress_correlation: bool,
    /// Most sites sampled by `C_sigma(t)`.
    pub stress_correlation_sites: usize,
}

impl Default for ObservablesConfig {
    fn default() -> Self {
        Self {
            warm_up: 0,
            activity: true,
            stress_every: 10,
            tracer_dynamics: true,
            points_per_level: 16,
            q: vec![],
            shells: 16,
            q_max: 4.0 * std::f64::consts::PI,
            displacements: true,
            displacement_window: 1,
            waiting_times: true,
            stress_correlation: true,
            stress_correlation_sites: 16384,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            l: 256,
            mu: 1.0,
            eps0: 1.0,
            tau: 1.0,
            gamma0: 1.0,
            tau_res: 1.0,
            sigma_y: 1.0,
            dt: 0.1,
            seed: 0,
            steps: 10_000,
            tracers: None,
            resync_every: 1000,
            activation: ActivationConfig::default(),
            propagator: PropagatorSpec::default(),
            observables: ObservablesConfig::default(),
            output: OutputConfig::default(),
        }
    }
}

/// The keys of [`MOVED_KEYS`] a configuration held, with their values.
type MovedKeys = Vec<(&'static str, toml::Value)>;

/// Keys a configuration held until they became run options ([`crate::RunOptions`]): speed
/// choices, not parameters of the model.
pub(crate) const MOVED_KEYS: [&str; 2] = ["sparse_max_active", "whole_steps"];

/// Why a configuration was refused. Every variant names what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A parameter has a value the model cannot run with.
    #[error("`{field}` = {value}: {reason}")]
    Invalid {
        /// The TOML key, e.g. `"dt"` or `"activation.temperature"`.
        field: &'static str,
        /// The value as given.
        value: String,
        /// What it must be.
        reason: String,
    },
    /// The text is not valid TOML or does not fit the schema (the parser names the key).
    #[error("{source_name}: {message}")]
    Parse {
        /// The file, or `<string>`.
        source_name: String,
        /// The parser's message, with line and key.
        message: String,
    },
}

fn invalid(field: &'static str, value: impl ToString, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        value: value.to_string(),
        reason: reason.into(),
    }
}

fn positive(field: &'static str, v: f64) -> Result<(), ConfigError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(invalid(field, v, "must be a finite number > 0"))
    }
}

impl Config {
    /// Reads and checks a TOML configuration.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Self::parse(text, "<string>")
    }

    /// Reads and checks the TOML file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Parse {
            source_name: name.clone(),
            message: e.to_string(),
        })?;
        Self::parse(&text, &name)
    }

    fn parse(text: &str, source_name: &str) -> Result<Self, ConfigError> {
        let (config, moved) = Self::parse_keeping_run_options(text, source_name)?;
        if let Some((key, value)) = moved.first() {
            let instead = if *key == "sparse_max_active" {
                "`epm run --sparse-max-active`, or `epm::RunOptions` in code"
            } else {
                "the execution profile chooses it (`epm run --profile`), or `epm::RunOptions` in code"
            };
            return Err(ConfigError::Invalid {
                field: key,
                value: value.to_string(),
                reason: format!(
                    "a speed choice, not a parameter of the model: it is a run option now \
                     ({instead}); remove it here"
                ),
            });
        }
        Ok(config)
    }

    /// [`Config::from_toml`] of a configuration that may still hold the run options it held
    /// before they left it (a checkpoint written then): the configuration, and those options.
    pub(crate) fn from_toml_with_run_options(
        text: &str,
    ) -> Result<(Self, crate::profile::RunOptions), ConfigError> {
        let (config, moved) = Self::parse_keeping_run_options(text, "<string>")?;
        let mut options = crate::profile::RunOptions::default();
        for (key, value) in moved {
            let bad = |reason: &str| ConfigError::Invalid {
                field: key,
                value: value.to_string(),
                reason: reason.into(),
            };
            match key {
                "sparse_max_active" => {
                    let v = value.as_integer().and_then(|v| u32::try_from(v).ok());
                    options.sparse_max_active =
                        Some(v.ok_or_else(|| bad("must be a count of sites"))?);
                }
                _ => {
                    let v = value
                        .as_bool()
                        .ok_or_else(|| bad("must be true or false"))?;
                    options.whole_steps = Some(v);
                }
            }
        }
        Ok((config, options))
    }

    /// The configuration in `text`, and the keys of [`MOVED_KEYS`] it held, with their values.
    fn parse_keeping_run_options(
        text: &str,
        source_name: &str,
    ) -> Result<(Self, MovedKeys), ConfigError> {
        let parse_error = |e: toml::de::Error| ConfigError::Parse {
            source_name: source_name.into(),
            message: e.to_string(),
        };
        let mut table: toml::Table = toml::from_str(text).map_err(parse_error)?;
        let moved: Vec<_> = MOVED_KEYS
            .iter()
            .filter_map(|&key| table.remove(key).map(|v| (key, v)))
            .collect();
        // From the text where it can be: its errors point at the line.
        let config: Config = if moved.is_empty() {
            toml::from_str(text).map_err(parse_error)?
        } else {
            table.try_into().map_err(parse_error)?
        };
        config.validate()?;
        Ok((config, moved))
    }

    /// The configuration as TOML (what a run directory's manifest records).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a Config always serialises")
    }

    /// Checks every parameter; the first problem found is returned, naming its field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.l < 4 || self.l > 4096 || !self.l.is_power_of_two() {
            return Err(invalid(
                "l",
                self.l,
                "must be a power of two from 4 to 4096",
            ));
        }
        positive("mu", self.mu)?;
        positive("eps0", self.eps0)?;
        positive("tau", self.tau)?;
        positive("gamma0", self.gamma0)?;
        positive("tau_res", self.tau_res)?;
        positive("sigma_y", self.sigma_y)?;
        positive("dt", self.dt)?;
        if self.gamma0 * self.dt > 1.0 {
            return Err(invalid(
                "dt",
                self.dt,
                format!(
                    "Gamma0 * dt = {} > 1: activation probabilities would exceed 1",
                    self.gamma0 * self.dt
                ),
            ));
        }
        if self.dt / self.tau_res > 1.0 {
            return Err(invalid(
                "dt",
                self.dt,
                format!(
                    "dt / tau_res = {} > 1: deactivation probabilities would exceed 1",
                    self.dt / self.tau_res
                ),
            ));
        }
        if self.steps == 0 {
            return Err(invalid("steps", self.steps, "must be >= 1"));
        }
        if self.resync_every == 0 {
            return Err(invalid("resync_every", self.resync_every, "must be >= 1"));
        }
        self.observables.validate(self.l)?;
        match self.activation {
            ActivationConfig::Thermal { temperature } => {
                positive("activation.temperature", temperature)?
            }
            ActivationConfig::Random { activity } => {
                if !(activity > 0.0 && activity < 1.0) {
                    return Err(invalid(
                        "activation.activity",
                        activity,
                        "must lie in (0, 1)",
                    ));
                }
                let p = self.random_rate() * self.dt;
                if p > 1.0 {
                    return Err(invalid(
                        "activation.activity",
                        activity,
                        format!(
                            "the activation probability per step a dt / (tau_res (1 - a)) = {p} exceeds 1: lower dt"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Sites, `L^2`.
    pub fn sites(&self) -> usize {
        self.l * self.l
    }

    /// Tracers of the run: as configured, or one per 16 sites.
    pub fn tracer_count(&self) -> usize {
        self.tracers.unwrap_or(self.sites() / 16)
    }

    /// The random model's activation rate ([`crate::activation::random_rate`]), per unit
    /// time. Zero for the thermal rule.
    pub fn random_rate(&self) -> f64 {
        match self.activation {
            ActivationConfig::Random { activity } => random_rate(activity, self.tau_res),
            ActivationConfig::Thermal { .. } => 0.0,
        }
    }

    /// `eps0 / (2 tau)`: the plastic strain rate of an active site, per sign (model notes
    /// step 3).
    pub fn strain_rate_amplitude(&self) -> f64 {
        self.eps0 / (2.0 * self.tau)
    }

    /// `dt eps0 / (2 tau)`: the plastic strain of one active step, the unit of the exact
    /// count of active steps the resynchronisation starts from.
    pub fn plastic_strain_unit(&self) -> f64 {
        self.dt * self.strain_rate_amplitude()
    }

    /// The constants of the activation of step `step`.
    pub fn step_params(&self, step: u64) -> StepParams {
        StepParams {
            step,
            seed: self.seed,
            p_off: (self.dt / self.tau_res) as f32,
            dt: self.dt as f32,
            strain_rate_amplitude: self.strain_rate_amplitude() as f32,
        }
    }
}

impl ObservablesConfig {
    fn validate(&self, l: usize) -> Result<(), ConfigError> {
        let positive = |field: &'static str, v: u64| {
            if v == 0 {
                Err(invalid(field, v, "must be >= 1"))
            } else {
                Ok(())
            }
        };
        positive("observables.stress_every", self.stress_every)?;
        positive("observables.displacement_window", self.displacement_window)?;
        positive(
            "observables.stress_correlation_sites",
            self.stress_correlation_sites as u64,
        )?;
        let p = self.points_per_level;
        if let Err(reason) = limits::check_points_per_level(p) {
            return Err(invalid("observables.points_per_level", p, reason));
        }
        let max = limits::MAX_SHELLS;
        if !(1..=max).contains(&self.shells) {
            return Err(invalid(
                "observables.shells",
                self.shells,
                format!("must be from 1 to {max}"),
            ));
        }
        let (lo, hi) = (2.0 * std::f64::consts::PI / l as f64, limits::MAX_Q);
        if !(self.q_max.is_finite() && self.q_max >= 0.99 * lo && self.q_max <= hi) {
            return Err(invalid(
                "observables.q_max",
                self.q_max,
                format!("must lie in [2 pi / L, 8 pi] = [{lo:.4}, {hi:.4}]"),
            ));
        }
        if self.q.len() > max {
            return Err(invalid(
                "observables.q",
                format!("{} moduli", self.q.len()),
                format!("at most {max}"),
            ));
        }
        if let Some(bad) = self
            .q
            .iter()
            .find(|q| !(q.is_finite() && **q >= 0.99 * lo && **q <= hi))
        {
            return Err(invalid(
                "observables.q",
                bad,
                format!("each |q| must lie in [2 pi / L, 8 pi] = [{lo:.4}, {hi:.4}]"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::propagator::{Normalisation, PropagatorForm, PropagatorSpec, ZeroMode};

    #[test]
    fn the_run_options_that_left_the_file_are_refused_there_and_read_from_old_checkpoints() {
        for (text, key, flag) in [
            (
                "sparse_max_active = 0",
                "sparse_max_active",
                "--sparse-max-active",
            ),
            ("whole_steps = false", "whole_steps", "--profile"),
        ] {
            match Config::from_toml(text) {
                Err(ConfigError::Invalid { field, reason, .. }) => {
                    assert_eq!(field, key);
                    assert!(
                        reason.contains(flag) && reason.contains("RunOptions"),
                        "{reason}"
                    );
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let (config, options) = Config::from_toml_with_run_options(
            "l = 32\nsparse_max_active = 0\nwhole_steps = false",
        )
        .unwrap();
        assert_eq!(config.l, 32);
        assert_eq!(options.sparse_max_active, Some(0));
        assert_eq!(options.whole_steps, Some(false));
        // Other errors still point at their line.
        let err = Config::from_toml("l = 32\ntemprature = 1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("temprature") && err.contains('2'), "{err}");
    }

    #[test]
    fn defaults_are_the_papers() {
        let c = Config::from_toml("").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(
            (c.mu, c.eps0, c.tau, c.gamma0, c.tau_res, c.sigma_y),
            (1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
        );
        assert_eq!(c.dt, 0.1);
        assert_eq!(c.tracer_count(), 256 * 256 / 16);
        assert_eq!(c.propagator, PropagatorSpec::PAPER);
        assert_eq!(c.propagator.form, PropagatorForm::Lattice);
        assert_eq!(c.propagator.zero_mode, ZeroMode::StressControlled);
        assert_eq!(c.propagator.normalisation, Normalisation::SelfTerm);
    }

    #[test]
    fn reads_every_section_and_round_trips() {
        let text = r#"
            l = 64
            dt = 0.05
            seed = 12345678901
            tracers = 100
            resync_every = 50
            [activation]
            rule = "random"
            activity = 0.0034
            [propagator]
            preset = "literal"
            zero_mode = "strain-controlled"
            normalisation = "self-term"
        "#;
        let c = Config::from_toml(text).unwrap();
        assert_eq!(c.l, 64);
        assert_eq!(c.activation, ActivationConfig::Random { activity: 0.0034 });
        assert_eq!(c.propagator.form, PropagatorForm::Continuum);
        assert_eq!(c.propagator.zero_mode, ZeroMode::StrainControlled);
        assert_eq!(c.propagator.normalisation, Normalisation::SelfTerm);
        assert!((c.random_rate() - 0.0034 / 0.9966).abs() < 1e-15);
        assert_eq!(Config::from_toml(&c.to_toml()).unwrap(), c);
    }

    #[test]
    fn every_invalid_field_is_named() {
        let cases: &[(&str, &str)] = &[
            ("l = 100", "l"),
            ("l = 2", "l"),
            ("l = 8192", "l"),
            ("dt = 0", "dt"),
            ("dt = nan", "dt"),
            ("dt = 1.5", "dt"),
            ("tau_res = 0.05", "dt"),
            ("gamma0 = 20.0", "dt"),
            ("mu = -1.0", "mu"),
            ("eps0 = inf", "eps0"),
            ("tau = nan", "tau"),
            ("gamma0 = 0", "gamma0"),
            ("sigma_y = nan", "sigma_y"),
            ("resync_every = 0", "resync_every"),
            ("steps = 0", "steps"),
            (
                "[observables]\npoints_per_level = 7",
                "observables.points_per_level",
            ),
            ("[observables]\nq = [0.001]", "observables.q"),
            ("[observables]\nq = [nan]", "observables.q"),
            ("[observables]\nq = [26.0]", "observables.q"),
            ("[observables]\nq_max = 30.0", "observables.q_max"),
            ("[observables]\nq_max = 0.01", "observables.q_max"),
            ("[observables]\nshells = 0", "observables.shells"),
            (
                "[observables]\nstress_every = 0",
                "observables.stress_every",
            ),
            (
                "[activation]\nrule = \"thermal\"\ntemperature = 0",
                "activation.temperature",
            ),
            (
                "[activation]\nrule = \"thermal\"\ntemperature = -0.1",
                "activation.temperature",
            ),
            (
                "[activation]\nrule = \"thermal\"\ntemperature = nan",
                "activation.temperature",
            ),
            (
                "[activation]\nrule = \"random\"\nactivity = 0",
                "activation.activity",
            ),
            (
                "[activation]\nrule = \"random\"\nactivity = 1",
                "activation.activity",
            ),
            (
                "[activation]\nrule = \"random\"\nactivity = nan",
                "activation.activity",
            ),
            (
                "[activation]\nrule = \"random\"\nactivity = 0.95",
                "activation.activity",
            ),
        ];
        for (text, field) in cases {
            match Config::from_toml(text) {
                Err(ConfigError::Invalid { field: f, .. }) => assert_eq!(f, *field, "{text}"),
                other => panic!("{text}: expected an error on `{field}`, got {other:?}"),
            }
        }
        let msg = Config::from_toml("dt = 1.5").unwrap_err().to_string();
        assert!(msg.contains("`dt` = 1.5"), "{msg}");
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_parse_errors_naming_the_key() {
        // Counts are unsigned: a negative one does not fit the schema.
        for (text, key) in [
            ("temprature = 0.1", "temprature"),
            ("l = \"big\"", "l"),
            ("tracers = -3", "tracers"),
            ("[observables]\nwarm_up = -1", "warm_up"),
        ] {
            match Config::from_toml(text) {
                Err(e @ ConfigError::Parse { .. }) => assert!(e.to_string().contains(key), "{e}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}

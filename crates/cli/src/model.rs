//! Which model a run is: the paper's thermal model (Eq. 2) or its random twin (a constant
//! rate at a given activity). Read from a run's configuration, written in sweep files
//! (`models = ["thermal", "random"]`) and run names (`T0.1_random_seed1`).

use std::fmt;

use epm::ActivationConfig;
use serde::{Deserialize, Serialize};

/// The model of a run.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// Paper Eq. 2: the rate depends on the local stress and the temperature.
    Thermal,
    /// A constant rate at a given activity, whatever the stress.
    Random,
}

impl Model {
    /// The model's name, as in files: `thermal` or `random`.
    pub fn name(self) -> &'static str {
        match self {
            Model::Thermal => "thermal",
            Model::Random => "random",
        }
    }

    /// The model of a run with this activation.
    pub fn of(activation: &ActivationConfig) -> Self {
        match activation {
            ActivationConfig::Thermal { .. } => Model::Thermal,
            ActivationConfig::Random { .. } => Model::Random,
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_clap() {
        use clap::ValueEnum;
        for m in [Model::Thermal, Model::Random] {
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.name()));
            assert_eq!(serde_json::from_str::<Model>(&json).unwrap(), m);
            assert_eq!(Model::from_str(m.name(), false).unwrap(), m);
        }
        assert!(serde_json::from_str::<Model>("\"athermal\"").is_err());
    }
}

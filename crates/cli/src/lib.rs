//! The `epm` command's library: runs with a progress bar and clean stops, sweeps, the
//! paper's figures and report. The binary (`src/main.rs`) only parses arguments.

pub mod collect;
pub mod drive;
pub mod error;
pub mod figures;
pub mod model;
pub mod paper;
pub mod reproduce;
pub mod schedule;
pub mod sweep;

pub use error::CliError;
pub use model::Model;

//! Why a simulation could not start, go on, or be saved. Every variant names what is at fault.

use std::path::PathBuf;

use crate::config::ConfigError;

/// An error of the simulation. Nothing written before it is lost: checkpoints and outputs are
/// replaced atomically.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The configuration was refused (before any device work).
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The FFT could not be planned for this lattice on this device.
    #[error("FFT: {0}")]
    Fft(#[from] epm_fft::FftError),
    /// The device failed, or a field could not be read back.
    #[error("device: {0}")]
    Device(String),
    /// The stress became NaN or infinite: the run stopped there.
    #[error("the stress at site {site} (x = {x}, y = {y}) became non-finite at step {step}")]
    NonFiniteStress {
        /// The step whose stress update produced it (steps count from 0).
        step: u64,
        /// Row-major site index `y L + x`.
        site: usize,
        /// Column of the site.
        x: usize,
        /// Row of the site.
        y: usize,
    },
    /// An error of one replica of an ensemble ([`crate::Ensemble`]).
    #[error("replica {replica}: {source}")]
    InReplica {
        /// Which replica (0-based, in the order the ensemble was made).
        replica: usize,
        /// Its error.
        source: Box<SimError>,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A checkpoint file is not one this version can restore.
    #[error("checkpoint {}: {message}", path.display())]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// An observer's state could not be saved into a checkpoint or restored from one.
    #[error("{action} the state of {what}: {message}")]
    ObserverState {
        /// `saving` or `restoring`.
        action: &'static str,
        /// Whose state.
        what: String,
        /// What went wrong.
        message: String,
    },
    /// A run's manifest could not be written or read.
    #[error("manifest {}: {message}", path.display())]
    Manifest {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The snapshot file (HDF5) could not be written or read.
    #[error("snapshots {}: {message}", path.display())]
    Snapshot {
        /// The file.
        path: PathBuf,
        /// What the HDF5 library said.
        message: String,
    },
    /// A table's CSV file could not be read.
    #[error("table {}: {message}", path.display())]
    Table {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A request the simulation cannot honour, naming the argument.
    #[error("`{argument}` = {value}: {reason}")]
    InvalidArgument {
        /// The argument's name.
        argument: &'static str,
        /// Its value.
        value: String,
        /// What it must be.
        reason: String,
    },
    /// A run does not fit in memory: refused before anything was allocated
    /// ([`crate::resources`]).
    #[error(
        "{memory}: the run needs about {}, and {} is available ({detail})",
        crate::resources::bytes(*needed),
        crate::resources::bytes(*limit)
    )]
    Resources {
        /// `device memory`, `host memory` or `one device buffer`.
        memory: &'static str,
        /// Bytes the run needs, estimated from its configuration.
        needed: u64,
        /// Bytes the device or the host offers.
        limit: u64,
        /// Which limit, and the parts that need most.
        detail: String,
    },
    /// An observer failed; the simulation stopped after the step it was observing.
    #[error("observer `{observer}`: {message}")]
    Observer {
        /// The observer's name.
        observer: String,
        /// Its message.
        message: String,
    },
}

impl SimError {
    /// A checkpoint error of bytes, said of the file `path` they came from.
    pub(crate) fn in_checkpoint(self, path: &std::path::Path) -> Self {
        match self {
            SimError::Checkpoint { message, .. } => SimError::Checkpoint {
                path: path.to_path_buf(),
                message,
            },
            other => other,
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SimError::Io {
            path: path.into(),
            source,
        }
    }
}

//! The command's errors: each says what is wrong and where, and maps to an exit code.

use std::path::PathBuf;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A configuration or sweep file is invalid: the file, then the key and what is wrong.
    #[error("{}: {message}", file.display())]
    Config {
        /// The file.
        file: PathBuf,
        /// The key and the problem.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The simulation failed.
    #[error("{0}")]
    Sim(epm::SimError),
    /// The command was used wrongly.
    #[error("{0}")]
    Usage(String),
}

impl CliError {
    /// The exit code: 2 for bad input (configuration, usage), 1 for failures.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config { .. } | CliError::Usage(_) => 2,
            // A run too large for the machine is refused like a bad value: nothing started.
            CliError::Sim(epm::SimError::Config(_) | epm::SimError::Resources { .. }) => 2,
            _ => 1,
        }
    }

    /// A configuration error of `file`.
    pub fn config(file: &std::path::Path, e: epm::ConfigError) -> Self {
        let message = match e {
            epm::ConfigError::Parse { message, .. } => message,
            other => other.to_string(),
        };
        CliError::Config {
            file: file.to_path_buf(),
            message,
        }
    }
}

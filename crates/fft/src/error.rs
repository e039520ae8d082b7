//! Typed errors of the FFT crate, and the checked constructor of [`Shape2d`] that raises the
//! shape errors. Every error names the shape, axis or buffer at fault.

use crate::shape::{MAX_LEN, Shape2d};

/// Why an FFT could not be planned or run. Nothing is launched on the device when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FftError {
    /// A length is zero, not a power of two, or outside `2..=MAX_LEN`.
    #[error(
        "{axis} = {value} is not a supported FFT length: it must be a power of two from 2 to {max}"
    )]
    InvalidLength {
        /// `"lx"` or `"ly"`.
        axis: &'static str,
        /// The length asked for.
        value: usize,
        /// The largest supported length.
        max: usize,
    },
    /// The batch count is zero.
    #[error("batch = 0 in shape {shape}: at least one field is needed")]
    EmptyBatch {
        /// The shape asked for.
        shape: Shape2d,
    },
    /// A device buffer has the wrong number of elements for the plan's shape.
    #[error("buffer `{buffer}` holds {actual} elements, but shape {shape} needs {expected}")]
    BufferLength {
        /// Which argument, for example `"input.re"`.
        buffer: &'static str,
        /// Elements expected (`batch * ly * lx`).
        expected: usize,
        /// Elements found.
        actual: usize,
        /// The plan's shape.
        shape: Shape2d,
    },
    /// Host fields handed over as one batch do not all have the plan's shape.
    #[error("field {index} of the batch has shape {found}, but the plan was made for {expected}")]
    ShapeMismatch {
        /// Position of the offending field in the batch.
        index: usize,
        /// Shape (`ly x lx`, batch 1) of that field.
        found: Shape2d,
        /// The plan's shape (batch 1).
        expected: Shape2d,
    },
    /// The requested strategy cannot run this shape on this device.
    #[error("strategy {strategy} cannot run shape {shape} on this device: {reason}")]
    StrategyUnsupported {
        /// The strategy asked for.
        strategy: &'static str,
        /// The plan's shape.
        shape: Shape2d,
        /// Why, for example the shared-memory budget.
        reason: String,
    },
    /// The device reported an error while running or reading back.
    #[error("device error: {0}")]
    Device(String),
}

impl Shape2d {
    /// A checked shape: `ly` and `lx` powers of two in `2..=MAX_LEN`, `batch >= 1`.
    pub fn new(batch: usize, ly: usize, lx: usize) -> Result<Self, FftError> {
        let shape = Self { batch, ly, lx };
        check_len("ly", ly)?;
        check_len("lx", lx)?;
        if batch == 0 {
            return Err(FftError::EmptyBatch { shape });
        }
        Ok(shape)
    }
}

fn check_len(axis: &'static str, value: usize) -> Result<(), FftError> {
    if !(2..=MAX_LEN).contains(&value) || !value.is_power_of_two() {
        return Err(FftError::InvalidLength {
            axis,
            value,
            max: MAX_LEN,
        });
    }
    Ok(())
}

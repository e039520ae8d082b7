//! What the paper measures, computed while the simulation runs, in memory that does not grow
//! with the run length (model notes, section 4; paper, Figs. 2 and 3):
//!
//! - [`activity`]: `a(t)`, its time average with a blocking error, the stress histogram;
//! - [`tracer_dynamics`]: tracer MSD and `D(t)`, [`structure_factor`] `S(q, t)`, and `C_u(t)`,
//!   on the device at multiple-tau lags;
//! - [`displacements`]: `P(u)`, the distribution of tracer displacements per unit time;
//! - [`waiting_times`]: `Psi(tau_ev)`, the times between activations of a site;
//! - [`stress_correlation`]: `C_sigma(t)`, the local stress autocorrelation.
//!
//! Each is an [`crate::Observer`] with a warm-up, and gives its results as [`Table`]s: one
//! CSV file each in a run directory ([`crate::output`]).

pub mod activity;
pub mod displacements;
pub mod log_histogram;
pub mod measurements;
pub mod multiple_tau;
pub mod stress_correlation;
pub mod structure_factor;
pub mod tracer_dynamics;
pub mod waiting_times;

use std::fmt::Write as _;

use burn::tensor::{Int, Tensor};
use burn_cubecl::CubeBackend;
use cubecl::prelude::*;
use cubecl::server::Handle;

use crate::error::SimError;

/// One column of a table: a name and its unit (`1` for numbers without one).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Name, as in the paper where it has one (`t`, `msd`, `S`).
    pub name: String,
    /// Unit: `tau`, `lattice`, `sigma_Y`, `1`, ...
    pub unit: String,
}

impl Column {
    /// A column.
    pub fn new(name: &str, unit: &str) -> Self {
        Self {
            name: name.into(),
            unit: unit.into(),
        }
    }

    /// The CSV header: `name [unit]`.
    pub fn header(&self) -> String {
        format!("{} [{}]", self.name, self.unit)
    }
}

/// A table of numbers: what one observable writes (`<name>.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// File stem.
    pub name: String,
    /// One sentence: what the rows are.
    pub description: String,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows, one value per column.
    pub rows: Vec<Vec<f64>>,
}

impl Table {
    /// An empty table.
    pub fn new(name: &str, description: &str, columns: Vec<Column>) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            columns,
            rows: vec![],
        }
    }

    /// The table as CSV: a header `name [unit],...`, then one line per row, numbers in
    /// Rust's shortest round-trip form (`pandas.read_csv` reads it as is).
    pub fn to_csv(&self) -> String {
        let mut out = self
            .columns
            .iter()
            .map(Column::header)
            .collect::<Vec<_>>()
            .join(",");
        out.push('\n');
        for row in &self.rows {
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{v}");
            }
            out.push('\n');
        }
        out
    }

    /// The values of the column called `name`.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let i = self.columns.iter().position(|c| c.name == name)?;
        Some(self.rows.iter().map(|r| r[i]).collect())
    }

    /// Reads a table written by [`Table::to_csv`].
    pub fn from_csv(name: &str, text: &str) -> Result<Self, String> {
        let mut lines = text.lines();
        let header = lines.next().ok_or("empty file")?;
        let columns = header
            .split(',')
            .map(|h| {
                let (name, unit) = h
                    .split_once(" [")
                    .and_then(|(n, u)| Some((n, u.strip_suffix(']')?)))
                    .ok_or_else(|| format!("column header `{h}` is not `name [unit]`"))?;
                Ok(Column::new(name, unit))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let rows = lines
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
            .map(|(i, l)| {
                let row = l
                    .split(',')
                    .map(|v| v.parse::<f64>().map_err(|e| format!("line {}: {e}", i + 2)))
                    .collect::<Result<Vec<f64>, String>>()?;
                // Every reader indexes rows by column: a short or long row is damage.
                if row.len() != columns.len() {
                    return Err(format!(
                        "line {}: {} values, the header has {} columns",
                        i + 2,
                        row.len(),
                        columns.len()
                    ));
                }
                Ok(row)
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            name: name.into(),
            description: String::new(),
            columns,
            rows,
        })
    }
}

/// A named number with its uncertainty and unit: what a manifest records.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Quantity {
    /// Name (`mean_activity`, `gamma`, ...).
    pub name: String,
    /// Value.
    pub value: f64,
    /// One standard error, when known.
    pub error: Option<f64>,
    /// Unit (`1` for none).
    pub unit: String,
}

impl Quantity {
    /// A quantity.
    pub fn new(name: &str, value: f64, error: Option<f64>, unit: &str) -> Self {
        Self {
            name: name.into(),
            value,
            error,
            unit: unit.into(),
        }
    }
}

/// Something that measures: an observer whose results are tables and named numbers.
pub trait Measurement: crate::Observer {
    /// The results so far as tables (reads device accumulators back first).
    fn tables(&mut self) -> Result<Vec<Table>, SimError>;

    /// The results so far as single numbers (none by default).
    fn summary(&mut self) -> Result<Vec<Quantity>, SimError> {
        Ok(vec![])
    }
}

/// An observer whose whole state can be saved and restored, device buffers included (as
/// they are: nothing is flushed, so a restored run accumulates in the same order as one that
/// never stopped).
pub trait Persist {
    /// The state, serialised.
    fn save(&self) -> Result<Vec<u8>, SimError>;
    /// Restores a state from [`Persist::save`], its device buffers on `client`.
    fn load(&mut self, bytes: &[u8], client: &Client) -> Result<(), SimError>;
}

/// A device buffer of 4-byte values (`u32`, `f32`) read back.
pub(crate) fn download<T: CubeElement>(client: &Client, h: &Handle) -> Result<Vec<T>, SimError> {
    let bytes = client
        .read_one(h.clone())
        .map_err(|e| SimError::Device(format!("{e:?}")))?;
    Ok(T::from_bytes(&bytes).to_vec())
}

/// Serialises an observer state.
pub(crate) fn encode<T: serde::Serialize>(state: &T) -> Result<Vec<u8>, SimError> {
    postcard::to_stdvec(state).map_err(|e| SimError::ObserverState {
        action: "saving",
        what: std::any::type_name::<T>().into(),
        message: e.to_string(),
    })
}

/// Reads an observer state back.
pub(crate) fn decode<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, SimError> {
    postcard::from_bytes(bytes).map_err(|e| SimError::ObserverState {
        action: "restoring",
        what: std::any::type_name::<T>().into(),
        message: e.to_string(),
    })
}

/// The CubeCL buffer of an integer field, for an observer's own kernels.
pub fn int_buffer<const D: usize>(tensor: Tensor<D, Int>) -> Result<Handle, SimError> {
    tensor
        .try_into_primitive::<CubeBackend>()
        .map(|t| t.handle)
        .map_err(|e| SimError::Device(format!("the field is not on a CubeCL device: {e:?}")))
}

/// The CubeCL buffer of a float field, for an observer's own kernels.
pub fn float_buffer<const D: usize>(tensor: Tensor<D>) -> Result<Handle, SimError> {
    tensor
        .try_into_primitive::<CubeBackend>()
        .map(|t| t.handle)
        .map_err(|e| SimError::Device(format!("the field is not on a CubeCL device: {e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trips_with_units_in_the_header() {
        let mut t = Table::new(
            "msd",
            "test",
            vec![Column::new("t", "tau"), Column::new("msd", "lattice^2")],
        );
        t.rows.push(vec![0.1, 1e-7]);
        t.rows.push(vec![1.0 / 3.0, 2.5]);
        let csv = t.to_csv();
        assert!(csv.starts_with("t [tau],msd [lattice^2]\n"), "{csv}");
        let back = Table::from_csv("msd", &csv).unwrap();
        assert_eq!(back.rows, t.rows, "shortest round-trip form");
        assert_eq!(back.columns, t.columns);
    }
}

//! Device kernels, one algorithm per module. Each has its CPU twin in `crate::cpu`, and the
//! tests compare the two on the device.

pub mod fused;
pub mod in_cube;
pub mod radix;
pub mod real_pair;
pub mod shared_line;

use cubecl::prelude::*;

/// Where the lines of one axis sit in a batch of row-major fields.
///
/// A line (a row or a column) is addressed by an `outer` and an `inner` index:
/// element `i` of line `(outer, inner)` is at `outer * outer_step + inner * inner_step + i * elem_stride`.
/// Rows: `outer` counts all rows of all fields, no `inner`. Columns: `outer` is the field,
/// `inner` the column; neighbouring units then read neighbouring addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LineLayout {
    /// log2 of the number of `inner` indices (0 for rows).
    pub inner_log2: usize,
    /// Address step between neighbouring `inner` lines.
    pub inner_step: usize,
    /// Number of `outer` indices.
    pub outer_count: usize,
    /// Address step between neighbouring `outer` lines.
    pub outer_step: usize,
    /// Address step between neighbouring elements of one line.
    pub elem_stride: usize,
}

impl LineLayout {
    /// The rows of `batch` fields of `ly x lx`.
    pub fn rows(batch: usize, ly: usize, lx: usize) -> Self {
        Self {
            inner_log2: 0,
            inner_step: 0,
            outer_count: batch * ly,
            outer_step: lx,
            elem_stride: 1,
        }
    }

    /// The columns of `batch` fields of `ly x lx`.
    pub fn columns(batch: usize, ly: usize, lx: usize) -> Self {
        Self {
            inner_log2: lx.trailing_zeros() as usize,
            inner_step: 1,
            outer_count: batch,
            outer_step: ly * lx,
            elem_stride: lx,
        }
    }

    /// Number of lines.
    pub fn lines(&self) -> usize {
        self.outer_count << self.inner_log2
    }

    /// The lines of one group of `fields` of the `of` this layout's batch holds (the first
    /// `outer_count / of * fields` outer indices; a group's lines are contiguous since the field
    /// is the outermost index).
    pub fn first_fields(self, fields: usize, of: usize) -> Self {
        Self {
            outer_count: self.outer_count / of * fields,
            ..self
        }
    }

    /// The same lines with no bound on `outer`: a kernel that addresses groups of fields past
    /// the first by the layout's steps alone, and bounds its units itself
    /// ([`in_cube`], whose launches take any number of groups).
    pub fn unbounded(self) -> Self {
        Self {
            outer_count: Self::UNBOUNDED,
            ..self
        }
    }

    /// `outer_count` of an [`LineLayout::unbounded`] layout (no lines to count).
    pub const UNBOUNDED: usize = usize::MAX;
}

/// The `outer` lines of `layout` that `values` values of whole fields hold: the bound of a
/// kernel compiled for any batch (`radix::Pass::for_any_batch`,
/// `shared_line::LinePlan::for_any_batch`), from its destination's length. A batch of fields
/// holds `outer_count * outer_step` values, and `outer_step` is a power of two.
#[cube]
pub fn outer_lines(values: usize, #[comptime] layout: LineLayout) -> usize {
    values >> comptime![layout.outer_step.trailing_zeros() as usize]
}

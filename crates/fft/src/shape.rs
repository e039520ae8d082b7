//! The shape of a batch of 2D fields. Its checked constructor, [`Shape2d::new`], is written
//! beside the errors it raises ([`crate::error`]), so that neither module imports the other.

/// Largest supported length along either axis.
pub const MAX_LEN: usize = 4096;

/// `batch` fields of `ly` rows by `lx` columns, stored row-major and contiguous:
/// element `(b, y, x)` sits at `b * ly * lx + y * lx + x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape2d {
    /// Number of fields transformed in one call.
    pub batch: usize,
    /// Rows (length along y).
    pub ly: usize,
    /// Columns (length along x).
    pub lx: usize,
}

impl core::fmt::Display for Shape2d {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} x {} x {} (batch x ly x lx)",
            self.batch, self.ly, self.lx
        )
    }
}

impl Shape2d {
    /// Elements in one field, `ly * lx`.
    pub fn field_len(&self) -> usize {
        self.ly * self.lx
    }

    /// Elements in the whole batch, `batch * ly * lx`.
    pub fn len(&self) -> usize {
        self.batch * self.field_len()
    }

    /// Never true for a checked shape; present because `len` is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FftError;

    #[test]
    fn accepts_every_power_of_two_in_range() {
        for log in 1..=12 {
            let n = 1 << log;
            assert!(Shape2d::new(3, n, 2).is_ok());
            assert!(Shape2d::new(1, 2, n).is_ok());
        }
    }

    #[test]
    fn rejects_bad_lengths_naming_the_axis() {
        for bad in [0usize, 1, 3, 6, 100, 8192] {
            match Shape2d::new(1, bad, 8) {
                Err(FftError::InvalidLength { axis, value, .. }) => {
                    assert_eq!((axis, value), ("ly", bad))
                }
                other => panic!("ly = {bad}: {other:?}"),
            }
            match Shape2d::new(1, 8, bad) {
                Err(FftError::InvalidLength { axis, value, .. }) => {
                    assert_eq!((axis, value), ("lx", bad))
                }
                other => panic!("lx = {bad}: {other:?}"),
            }
        }
        assert!(matches!(
            Shape2d::new(0, 8, 8),
            Err(FftError::EmptyBatch { .. })
        ));
        let msg = Shape2d::new(1, 8, 12).unwrap_err().to_string();
        assert!(msg.contains("lx = 12"), "{msg}");
    }
}

//! Host-side complex fields: what users upload and read back.

/// One complex field of `ly x lx` values on the host, real and imaginary parts as separate
/// row-major planes (the device layout).
#[derive(Debug, Clone, PartialEq)]
pub struct ComplexField<F> {
    /// Rows.
    pub ly: usize,
    /// Columns.
    pub lx: usize,
    /// Real parts, `re[y * lx + x]`.
    pub re: Vec<F>,
    /// Imaginary parts, `im[y * lx + x]`.
    pub im: Vec<F>,
}

impl<F: Copy + Default> ComplexField<F> {
    /// A field of zeros.
    pub fn zeros(ly: usize, lx: usize) -> Self {
        Self {
            ly,
            lx,
            re: vec![F::default(); ly * lx],
            im: vec![F::default(); ly * lx],
        }
    }

    /// A complex field whose real part is `re` and imaginary part zero.
    pub fn from_real(ly: usize, lx: usize, re: Vec<F>) -> Self {
        let im = vec![F::default(); re.len()];
        Self { ly, lx, re, im }
    }
}

impl ComplexField<f32> {
    /// Widen to f64 (for comparisons against the reference).
    pub fn to_f64(&self) -> ComplexField<f64> {
        ComplexField {
            ly: self.ly,
            lx: self.lx,
            re: self.re.iter().map(|&v| v as f64).collect(),
            im: self.im.iter().map(|&v| v as f64).collect(),
        }
    }
}

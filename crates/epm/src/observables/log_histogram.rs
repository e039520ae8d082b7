//! Log-binned histograms, for distributions spanning decades (`P(u)`, `Psi(tau_ev)`).
//!
//! Bins: `per_decade` per decade from `min` over `decades` decades; below them one bin for
//! values in `(0, min)`, above one for values `>= min 10^decades`, and zeros counted apart.
//! On the device the counts are `u32` atomics spread over [`LANES`] copies of the histogram
//! (fewer units contending for one address); the host adds the copies up.

use cubecl::prelude::*;

use super::{Column, Table};

/// Copies of a device histogram.
pub const LANES: usize = 16;

/// The bins of a log histogram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogBins {
    /// Lower edge of the first regular bin (> 0).
    pub min: f64,
    /// Bins per decade.
    pub per_decade: usize,
    /// Decades covered.
    pub decades: usize,
}

/// Slots of a histogram beyond the regular bins: zero, below `min`, above the last edge.
pub const EXTRA: usize = 3;

impl LogBins {
    /// Regular bins.
    pub fn bins(&self) -> usize {
        self.per_decade * self.decades
    }

    /// Slots of one histogram copy: the regular bins, then zero, underflow, overflow.
    pub fn slots(&self) -> usize {
        self.bins() + EXTRA
    }

    /// Lower edge of regular bin `b`.
    pub fn edge(&self, b: usize) -> f64 {
        self.min * 10f64.powf(b as f64 / self.per_decade as f64)
    }

    /// The slot of `x >= 0`, as [`log_slot()`] computes it on the device.
    pub fn slot(&self, x: f32) -> usize {
        let bins = self.bins();
        if x <= 0.0 {
            return bins;
        }
        let scaled =
            (x / self.min as f32).ln() * (self.per_decade as f32 / std::f32::consts::LN_10);
        if scaled < 0.0 {
            bins + 1
        } else if scaled >= bins as f32 {
            bins + 2
        } else {
            scaled as usize
        }
    }

    /// The density table of `counts` (one histogram copy, [`LogBins::slots`] long): per bin
    /// its geometric centre, edges, count and the density normalised so that it integrates
    /// to 1 over the regular bins (zeros and values outside are reported apart by the caller).
    pub fn table(
        &self,
        name: &str,
        description: &str,
        variable: (&str, &str),
        counts: &[u64],
    ) -> Table {
        let (var, unit) = variable;
        let density_unit = if unit == "1" {
            "1".to_string()
        } else if unit.contains(['/', '^', '*', ' ']) {
            format!("1/({unit})")
        } else {
            format!("1/{unit}")
        };
        let mut t = Table::new(
            name,
            description,
            vec![
                Column::new(var, unit),
                Column::new("lower", unit),
                Column::new("upper", unit),
                Column::new("count", "1"),
                Column::new(&format!("P({var})"), &density_unit),
            ],
        );
        let inside: u64 = counts[..self.bins()].iter().sum();
        for (b, &count) in counts[..self.bins()].iter().enumerate() {
            let (lo, hi) = (self.edge(b), self.edge(b + 1));
            let density = if inside > 0 {
                count as f64 / (inside as f64 * (hi - lo))
            } else {
                0.0
            };
            t.rows
                .push(vec![(lo * hi).sqrt(), lo, hi, count as f64, density]);
        }
        t
    }
}

/// The slot of `x >= 0` in a log histogram (see [`LogBins::slot`]): `scale` is
/// `per_decade / ln 10`, `bins` the number of regular bins.
#[cube]
pub fn log_slot(x: f32, min: f32, scale: f32, #[comptime] bins: usize) -> u32 {
    let positive = f32::max(x, f32::MIN_POSITIVE);
    let scaled = f32::ln(positive / min) * scale;
    let regular = u32::cast_from(f32::max(scaled, 0.0f32));
    let above = select(
        scaled >= comptime![bins as f32],
        comptime![bins as u32 + 2],
        regular,
    );
    let below = select(scaled < 0.0f32, comptime![bins as u32 + 1], above);
    select(x <= 0.0f32, comptime![bins as u32], below)
}

/// Sums the [`LANES`] copies of a device histogram.
pub fn fold_lanes(device: &[u32], slots: usize) -> Vec<u64> {
    let mut out = vec![0u64; slots];
    for lane in device.chunks_exact(slots) {
        for (o, &c) in out.iter_mut().zip(lane) {
            *o += c as u64;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_and_edges_agree_and_densities_integrate_to_one() {
        let bins = LogBins {
            min: 1e-3,
            per_decade: 5,
            decades: 4,
        };
        assert_eq!(bins.slot(0.0), 20);
        assert_eq!(bins.slot(1e-4), 21);
        assert_eq!(bins.slot(20.0), 22);
        assert_eq!(bins.slot(1.5e-3), 0);
        assert_eq!(bins.slot(1.1e-2), 5);
        for b in 0..20 {
            let centre = (bins.edge(b) * bins.edge(b + 1)).sqrt() as f32;
            assert_eq!(bins.slot(centre), b);
        }
        let mut counts = vec![0u64; bins.slots()];
        for (b, c) in counts.iter_mut().enumerate().take(20) {
            *c = (b as u64 * 7) % 11 + 1;
        }
        counts[20] = 1000; // zeros do not enter the density
        let t = bins.table("p", "", ("u", "lattice/tau"), &counts);
        let integral: f64 = t.rows.iter().map(|r| r[4] * (r[2] - r[1])).sum();
        assert!((integral - 1.0).abs() < 1e-12, "{integral}");
        assert_eq!(t.columns[4].header(), "P(u) [1/(lattice/tau)]");
    }
}

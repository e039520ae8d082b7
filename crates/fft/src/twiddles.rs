//! Twiddle tables, computed once per plan on the host in f64.

/// `w_n^k = exp(-2 pi i k / n)` for `k in 0..n/2`, as separate cos and sin planes.
/// A radix-2 stage of half-size `h` uses `w_{2h}^j = w_n^(j * n / 2h)`, so one table of the
/// full length serves every stage; the inverse transform conjugates on the fly.
pub fn forward_twiddles(n: usize) -> (Vec<f64>, Vec<f64>) {
    let half = (n / 2).max(1);
    (0..half)
        .map(|k| {
            let phase = -2.0 * std::f64::consts::PI * k as f64 / n as f64;
            (phase.cos(), phase.sin())
        })
        .unzip()
}

#[cfg(test)]
mod tests {
    #[test]
    fn quarter_turn_is_minus_i() {
        let (c, s) = super::forward_twiddles(8);
        assert_eq!(c.len(), 4);
        assert!((c[2]).abs() < 1e-15 && (s[2] + 1.0).abs() < 1e-15);
    }
}

//! The dynamical structure factor of the tracers (paper, between Figs. 1 and 2):
//!
//! ```text
//! S(q, t) = (1/M) < sum_n cos(q . (r_n(t0 + t) - r_n(t0))) >_{t0, |q| = q}
//! ```
//!
//! averaged over the `M` tracers, over the origins `t0` (see [`crate::observables::tracer_dynamics`], which
//! accumulates it on the device together with the mean-square displacement) and over every
//! wave vector `q = 2 pi (kx, ky) / L` of the same modulus: a *shell*. Shells here are exact:
//! shell `n` holds every integer `k` with `kx^2 + ky^2 = n`, axes, diagonals and all the
//! vectors in between that share the modulus (`n = 25`: `(5, 0)`, `(3, 4)`, `(4, 3)`, ...).
//!
//! Tracer positions are continuous, so `S(q, t)` exists for every such `q`, not only inside the
//! lattice's Brillouin zone `|q| <= pi`: shells go up to [`MAX_Q`](crate::config::limits::MAX_Q) (the ballistic decay of
//! Fig. 2b happens at `q` of a few `pi` within the event duration).
//!
//! `cos` is even, so a shell is averaged over half its vectors (one of `k`, `-k`).

use std::f64::consts::PI;

use cubecl::prelude::*;

/// `cos(x)` for `|x|` up to a few hundred, to about 1e-6: one reduction to `[-pi, pi]` and an
/// even polynomial (Taylor to `x^18`). The phases of `S(q, t)` are bounded (see
/// [`crate::observables::tracer_dynamics`]), and a polynomial is cheaper than the device's `cos` on CPU
/// adapters and as cheap on GPUs. `cos_poly_cpu` is its twin.
#[cube]
pub fn cos_poly(x: f32) -> f32 {
    let turns = f32::round(x * comptime![0.5f32 / core::f32::consts::PI]);
    // 2 pi = TWO_PI_HIGH + TWO_PI_LOW, the first exact in f32 with few bits (Cody & Waite).
    let r = (x - turns * TWO_PI_HIGH) - turns * TWO_PI_LOW;
    let z = r * r;
    let c = COS_TAYLOR[8]
        + z * (COS_TAYLOR[7]
            + z * (COS_TAYLOR[6]
                + z * (COS_TAYLOR[5]
                    + z * (COS_TAYLOR[4]
                        + z * (COS_TAYLOR[3]
                            + z * (COS_TAYLOR[2] + z * (COS_TAYLOR[1] + z * COS_TAYLOR[0])))))));
    1.0f32 + z * c
}

/// `2 pi` split in two for the range reduction: a short exact part and the rest.
const TWO_PI_HIGH: f32 = 6.28125;
const TWO_PI_LOW: f32 = 0.001_935_307_2;

/// The Taylor coefficients of `(cos x - 1) / x^2` in `z = x^2`, highest first:
/// `-1/18!, 1/16!, -1/14!, ..., 1/4!, -1/2!`.
const COS_TAYLOR: [f32; 9] = [
    -1.0 / 6_402_373_705_728_000.0,
    1.0 / 20_922_789_888_000.0,
    -1.0 / 87_178_291_200.0,
    1.0 / 479_001_600.0,
    -1.0 / 3_628_800.0,
    1.0 / 40_320.0,
    -1.0 / 720.0,
    1.0 / 24.0,
    -0.5,
];

/// CPU twin of [`cos_poly`].
#[cfg(test)]
pub fn cos_poly_cpu(x: f32) -> f32 {
    let turns = (x * (0.5 / std::f32::consts::PI)).round_ties_even();
    let r = (x - turns * TWO_PI_HIGH) - turns * TWO_PI_LOW;
    let z = r * r;
    let c = COS_TAYLOR[1..]
        .iter()
        .fold(COS_TAYLOR[0], |c, &k| k + z * c);
    1.0 + z * c
}

/// All the lattice wave vectors of one modulus.
#[derive(Debug, Clone, PartialEq)]
pub struct Shell {
    /// `n = kx^2 + ky^2`.
    pub norm2: u32,
    /// `|q| = 2 pi sqrt(n) / L`, in inverse lattice spacings.
    pub q: f64,
    /// Every `(kx, ky)` of the shell, `kx, ky` in `(-L/2, L/2)`.
    pub vectors: Vec<(i32, i32)>,
}

impl Shell {
    /// One of each pair `k`, `-k`: the vectors with `kx > 0`, or `kx = 0` and `ky > 0`.
    pub fn half(&self) -> Vec<(i32, i32)> {
        self.vectors
            .iter()
            .copied()
            .filter(|&(x, y)| x > 0 || (x == 0 && y > 0))
            .collect()
    }
}

/// The shell `kx^2 + ky^2 = norm2` on an `L x L` lattice, `None` when no integer vector has that
/// squared norm (or `norm2 = 0`). Vectors in increasing `(ky, kx)` order.
pub fn shell(l: usize, norm2: u32) -> Option<Shell> {
    if norm2 == 0 {
        return None;
    }
    let n = norm2 as i64;
    let r = (n as f64).sqrt().floor() as i64 + 1;
    let mut vectors = vec![];
    for ky in -r..=r {
        let rest = n - ky * ky;
        if rest < 0 {
            continue;
        }
        let kx = (rest as f64).sqrt().round() as i64;
        if kx * kx == rest {
            vectors.push((kx as i32, ky as i32));
            if kx != 0 {
                vectors.push((-kx as i32, ky as i32));
            }
        }
    }
    vectors.sort_by_key(|&(x, y)| (y, x));
    (!vectors.is_empty()).then(|| Shell {
        norm2,
        q: 2.0 * PI * (norm2 as f64).sqrt() / l as f64,
        vectors,
    })
}

/// Every shell with `|q| <= q_max`, by increasing modulus.
pub fn all_shells(l: usize, q_max: f64) -> Vec<Shell> {
    let k_max = q_max * l as f64 / (2.0 * PI);
    let top = (k_max * k_max).floor() as u32;
    (1..=top).filter_map(|n| shell(l, n)).collect()
}

/// The shell nearest (in `|q|`) to the modulus `q`, in inverse lattice spacings.
pub fn shell_near(l: usize, q: f64) -> Shell {
    let k = (q * l as f64 / (2.0 * PI)).max(1.0);
    let centre = (k * k).round() as i64;
    // Sums of two squares are dense enough that one lies within a few steps of any norm; look
    // on both sides until the distance in |q| can no longer improve.
    let mut best: Option<Shell> = None;
    let distance = |n: i64| ((n as f64).sqrt() - k).abs();
    for step in 0i64.. {
        for n in [centre - step, centre + step] {
            if n >= 1
                && best
                    .as_ref()
                    .is_none_or(|b| distance(n) < distance(b.norm2 as i64))
                && let Some(s) = shell(l, n as u32)
            {
                best = Some(s);
            }
        }
        if let Some(b) = &best
            && distance(centre - step).min(distance(centre + step)) > distance(b.norm2 as i64)
        {
            break;
        }
    }
    best.expect("the loop ends on a shell")
}

/// The shells nearest (in `|q|`) to each requested modulus, in increasing order, without
/// repeats. Moduli in inverse lattice spacings, from `2 pi / L` to [`MAX_Q`](crate::config::limits::MAX_Q).
pub fn shells_near(l: usize, moduli: &[f64]) -> Vec<Shell> {
    let mut chosen: Vec<Shell> = vec![];
    for &q in moduli {
        let nearest = shell_near(l, q);
        if !chosen.iter().any(|s| s.norm2 == nearest.norm2) {
            chosen.push(nearest);
        }
    }
    chosen.sort_by_key(|s| s.norm2);
    chosen
}

/// `count` moduli log-spaced from `2 pi / L` to `q_max`.
pub fn log_spaced_moduli(l: usize, count: usize, q_max: f64) -> Vec<f64> {
    let lo = 2.0 * PI / l as f64;
    let hi = q_max.max(lo);
    (0..count)
        .map(|i| lo * (hi / lo).powf(i as f64 / (count.max(2) - 1) as f64))
        .collect()
}

/// `S(q, t)` of one shell from displacements `(dx, dy)` (lattice spacings), on the CPU in
/// `f64`: the definition, for tests and references.
pub fn shell_average(l: usize, shell: &Shell, displacements: &[(f64, f64)]) -> f64 {
    let half = shell.half();
    let scale = 2.0 * PI / l as f64;
    let sum: f64 = displacements
        .iter()
        .map(|&(dx, dy)| {
            half.iter()
                .map(|&(kx, ky)| (scale * (kx as f64 * dx + ky as f64 * dy)).cos())
                .sum::<f64>()
        })
        .sum();
    sum / (half.len() * displacements.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wave_vector_is_in_exactly_one_shell_of_exact_modulus() {
        for (l, q_max) in [(4usize, PI), (16, 3.0 * PI), (64, PI)] {
            let shells = all_shells(l, q_max);
            let k_max = q_max * l as f64 / (2.0 * PI);
            let r = k_max.floor() as i32;
            let mut seen = std::collections::HashSet::new();
            for s in &shells {
                assert!(!s.vectors.is_empty());
                for &(x, y) in &s.vectors {
                    assert_eq!(
                        (x * x + y * y) as u32,
                        s.norm2,
                        "{x}, {y} in shell {}",
                        s.norm2
                    );
                    assert!(seen.insert((x, y)), "{x}, {y} is in two shells");
                }
                let exact = 2.0 * PI * (s.norm2 as f64).sqrt() / l as f64;
                assert_eq!(s.q, exact);
                assert!(s.q <= q_max + 1e-12);
                // Symmetric: -k is there too, and half the shell is one of each pair.
                for &(x, y) in &s.vectors {
                    assert!(s.vectors.contains(&(-x, -y)));
                }
                assert_eq!(2 * s.half().len(), s.vectors.len());
            }
            // Every integer vector in the disc |k| <= k_max is in some shell.
            let disc = (-r..=r)
                .flat_map(|y| (-r..=r).map(move |x| (x, y)))
                .filter(|&(x, y)| (x, y) != (0, 0) && ((x * x + y * y) as f64) <= k_max * k_max)
                .count();
            assert_eq!(seen.len(), disc, "L = {l}");
            assert!(shells.windows(2).all(|w| w[0].norm2 < w[1].norm2));
        }
        let s25 = shell(64, 25).unwrap();
        assert_eq!(
            s25.vectors.len(),
            12,
            "(+-5, 0), (0, +-5), (+-3, +-4), (+-4, +-3)"
        );
        assert_eq!(shell(64, 2).unwrap().vectors.len(), 4, "the diagonals");
        assert!(shell(64, 3).is_none(), "3 is no sum of two squares");
        // Beyond the zone: |k| = 65 on a 64-lattice: (65, 0), (63, 16), (60, 25), ... and their
        // reflections, as many as a brute-force count finds (r2(65^2) = 36).
        let far = shell(64, 65 * 65).unwrap();
        let brute = (-65i32..=65)
            .flat_map(|y| (-65i32..=65).map(move |x| (x, y)))
            .filter(|&(x, y)| x * x + y * y == 65 * 65)
            .count();
        assert_eq!(far.vectors.len(), brute);
        assert_eq!(brute, 36);
        assert!(far.q > PI);
    }

    #[test]
    fn requested_moduli_pick_the_nearest_shells() {
        let l = 64;
        let shells = shells_near(l, &log_spaced_moduli(l, 12, PI));
        assert_eq!(shells[0].norm2, 1, "the smallest is 2 pi / L");
        assert!(shells.last().unwrap().q <= PI + 1e-12);
        assert!(shells.len() >= 10, "{}", shells.len());
        // A modulus on a shell picks that shell.
        let q5 = 2.0 * PI * 5.0 / l as f64;
        assert_eq!(shells_near(l, &[q5])[0].norm2, 25);
        // Beyond pi, the nearest against every shell listed.
        for q in [3.3, 4.0 * PI, 7.9 * PI] {
            let near = shell_near(l, q);
            let best = all_shells(l, q + 0.2)
                .into_iter()
                .min_by(|a, b| (a.q - q).abs().total_cmp(&(b.q - q).abs()))
                .unwrap();
            assert_eq!(near.norm2, best.norm2, "q = {q}");
        }
        let wide = shells_near(l, &log_spaced_moduli(l, 16, 4.0 * PI));
        assert!((wide.last().unwrap().q / (4.0 * PI) - 1.0).abs() < 0.01);
    }

    #[test]
    fn polynomial_cosine_is_accurate_over_the_phases_used() {
        let mut worst = 0.0f64;
        for i in -200_000..200_000 {
            let x = i as f32 * 1e-4 * std::f32::consts::PI;
            worst = worst.max((cos_poly_cpu(x) as f64 - (x as f64).cos()).abs());
        }
        assert!(worst < 1e-6, "worst error {worst}");
    }

    #[test]
    fn no_displacement_gives_one_and_a_half_period_gives_minus_one() {
        let l = 16;
        let axis = shell(l, 4).unwrap();
        assert_eq!(shell_average(l, &axis, &[(0.0, 0.0)]), 1.0);
        // k = (2, 0) and (0, 2): a shift of L/4 along x is half a period of the first and
        // nothing for the second.
        let s = shell_average(l, &axis, &[(4.0, 0.0)]);
        assert!((s - 0.0).abs() < 1e-12, "{s}");
    }
}

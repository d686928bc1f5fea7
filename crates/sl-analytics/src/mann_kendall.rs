//! The Mann–Kendall test for a monotonic trend in one time series (Mann 1945; Kendall
//! 1975), with the tie-corrected variance and continuity-corrected normal score of
//! Gilbert (1987, §16.4), and the Theil–Sen slope (Theil 1950; Sen 1968).
//!
//! Emerging hot spot analysis (see [`crate::emerging`]) applies it to each location's
//! series of Gi\* z-scores, and to its series of counts, as ArcGIS Pro does.
//!
//! References:
//! - Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica* 13(3), 245–259.
//! - Kendall, M. G. (1975). *Rank Correlation Methods*, 4th ed. London: Charles Griffin.
//! - Gilbert, R. O. (1987). *Statistical Methods for Environmental Pollution Monitoring*.
//!   New York: Van Nostrand Reinhold.
//! - Theil, H. (1950). A rank-invariant method of linear and polynomial regression
//!   analysis. *Proc. KNAW* 53, 386–392, 521–525, 1397–1412.
//! - Sen, P. K. (1968). Estimates of the regression coefficient based on Kendall's tau.
//!   *JASA* 63(324), 1379–1389.
//!
//! # Algorithm
//!
//! For the `n` non-missing values `x_1 … x_n` in time order:
//!
//! - `S = Σ_{k<j} sign(x_j − x_k)`
//! - `Var(S) = [n(n−1)(2n+5) − Σ_g t_g(t_g−1)(2t_g+5)] / 18`, where `t_g` is the size of
//!   each group of exactly equal values (ties)
//! - `Z = (S − 1)/√Var(S)` if `S > 0`, `0` if `S = 0`, `(S + 1)/√Var(S)` if `S < 0`
//! - `p = 2·P(N(0,1) > |Z|)` (two-sided), computed with `erfc` so it stays accurate in
//!   the tails
//! - Kendall's `τ = S / (n(n−1)/2)`
//! - Sen's slope: the median of `(x_j − x_k)/(j − k)` over all pairs `k < j`, with `j`,
//!   `k` the positions in the original series (so missing values keep the time scale);
//!   intercept `median(x) − median(positions)·slope` (Conover 1980), as pymannkendall.
//!
//! Missing values (NaN) are skipped, which is what pymannkendall's `original_test` does.
//!
//! # Notes
//!
//! `O(n²)` time and `O(n²)` memory for Sen's slope (the `n(n−1)/2` pairwise slopes);
//! monthly or weekly series of a few hundred steps take well under a millisecond.

/// The result of a Mann–Kendall test on one series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannKendall {
    /// Number of non-missing values used.
    pub n: usize,
    /// The Mann–Kendall score `S`.
    pub s: f64,
    /// The variance of `S` under no trend, corrected for ties.
    pub var_s: f64,
    /// The continuity-corrected normal score (zero when `S = 0`, which includes every
    /// series of fewer than two values).
    pub z: f64,
    /// Two-sided p-value of `z` under the standard normal distribution.
    pub p: f64,
    /// Kendall's tau, `S / (n(n−1)/2)`; NaN when `n < 2`.
    pub tau: f64,
    /// Theil–Sen slope per time step; NaN when `n < 2`.
    pub sen_slope: f64,
    /// Intercept of the Kendall–Theil line at position 0; NaN when `n < 2`.
    pub intercept: f64,
}

/// Direction of a trend judged at a significance level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trend {
    /// `z > 0` and `p ≤ α`.
    Increasing,
    /// `z < 0` and `p ≤ α`.
    Decreasing,
    /// Not significant at `α`.
    NoTrend,
}

impl Trend {
    /// A stable lower-case name for outputs.
    pub fn slug(self) -> &'static str {
        match self {
            Trend::Increasing => "increasing",
            Trend::Decreasing => "decreasing",
            Trend::NoTrend => "no_trend",
        }
    }
}

impl MannKendall {
    /// The trend's direction if it is significant at level `alpha` (`p ≤ alpha`).
    pub fn trend(&self, alpha: f64) -> Trend {
        if self.p <= alpha && self.z > 0.0 {
            Trend::Increasing
        } else if self.p <= alpha && self.z < 0.0 {
            Trend::Decreasing
        } else {
            Trend::NoTrend
        }
    }
}

/// Runs the Mann–Kendall test and Sen's slope on `series` (in time order, one value per
/// equally spaced step; NaN marks a missing value).
pub fn mann_kendall(series: &[f64]) -> MannKendall {
    let present: Vec<(usize, f64)> = series
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, v)| !v.is_nan())
        .collect();
    let n = present.len();
    let mut s: i64 = 0;
    for (k, &(_, xk)) in present.iter().enumerate() {
        for &(_, xj) in &present[k + 1..] {
            if xj > xk {
                s += 1;
            } else if xj < xk {
                s -= 1;
            }
        }
    }
    let s = s as f64;
    let nf = n as f64;
    // Ties: groups of exactly equal values, found by sorting.
    let mut sorted: Vec<f64> = present.iter().map(|&(_, v)| v).collect();
    sorted.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut a = 0;
    while a < sorted.len() {
        let mut b = a + 1;
        while b < sorted.len() && sorted[b] == sorted[a] {
            b += 1;
        }
        let t = (b - a) as f64;
        ties += t * (t - 1.0) * (2.0 * t + 5.0);
        a = b;
    }
    let var_s = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - ties) / 18.0;
    let z = if s > 0.0 {
        (s - 1.0) / var_s.sqrt()
    } else if s < 0.0 {
        (s + 1.0) / var_s.sqrt()
    } else {
        0.0
    };
    let p = 2.0 * crate::normal_upper_tail(z.abs());
    let (tau, sen_slope, intercept) = if n < 2 {
        (f64::NAN, f64::NAN, f64::NAN)
    } else {
        let tau = s / (0.5 * nf * (nf - 1.0));
        let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
        for (k, &(ik, xk)) in present.iter().enumerate() {
            for &(ij, xj) in &present[k + 1..] {
                slopes.push((xj - xk) / (ij - ik) as f64);
            }
        }
        let slope = median(&mut slopes);
        let mut values: Vec<f64> = present.iter().map(|&(_, v)| v).collect();
        let mut positions: Vec<f64> = present.iter().map(|&(i, _)| i as f64).collect();
        let intercept = median(&mut values) - median(&mut positions) * slope;
        (tau, slope, intercept)
    };
    MannKendall {
        n,
        s,
        var_s,
        z,
        p,
        tau,
        sen_slope,
        intercept,
    }
}

/// The median (mean of the two middle values for an even count); NaN when empty.
fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

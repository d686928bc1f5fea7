//! Getis–Ord Gi\* local statistic (Getis & Ord 1992; Ord & Getis 1995), computed the
//! way PySAL esda's `G_Local(star=True)` computes it, so results can be checked against
//! esda to floating-point precision.
//!
//! # Algorithm
//!
//! With weights `w_ij` that include the unit itself (`w_ii > 0`), already transformed
//! (binary or row-standardised), `n` units and values `y`:
//!
//! - `G*_i = Σ_j w_ij y_j / Σ_j y_j`
//! - `E[G*_i] = W_i / n`, with `W_i = Σ_j w_ij`
//! - `Var[G*_i] = W_i (n − W_i) / (n − 1) · 1/n² · s² / ȳ²`, with `ȳ` the mean of `y`
//!   and `s²` its population variance (`Σ y² / n − ȳ²`)
//! - `z_i = (G*_i − E[G*_i]) / √Var[G*_i]`
//!
//! For binary weights this is Ord & Getis's (1995) standardised Gi\*. Note that esda
//! uses the cardinality-free form above for row-standardised weights too (where
//! `W_i = 1`), which is what a caller asking for esda's answer expects.
//!
//! # Notes
//!
//! `O(nnz)` time. When every value is equal (`s² = 0`) or all are zero, z is undefined
//! and reported as NaN.

use crate::weights::Weights;

/// Analytic Gi\* results, one entry per unit.
#[derive(Debug, Clone, PartialEq)]
pub struct GiStarAnalytic {
    /// The statistic G\*_i.
    pub g: Vec<f64>,
    /// Its expectation under randomisation.
    pub expected: Vec<f64>,
    /// Its variance under randomisation.
    pub variance: Vec<f64>,
    /// The standardised score.
    pub z: Vec<f64>,
}

/// Computes Gi\* and its analytic z-score for every unit. `w` must include self-links
/// (see [`Weights::with_self`]) and be transformed as wanted.
pub fn gi_star_analytic(y: &[f64], w: &Weights) -> GiStarAnalytic {
    let n = y.len();
    assert_eq!(n, w.n(), "values and weights must cover the same units");
    let nf = n as f64;
    let sum: f64 = y.iter().sum();
    let sum_sq: f64 = y.iter().map(|v| v * v).sum();
    let mean = sum / nf;
    let var = sum_sq / nf - mean * mean;
    let ratio = var / (mean * mean);
    let mut out = GiStarAnalytic {
        g: Vec::with_capacity(n),
        expected: Vec::with_capacity(n),
        variance: Vec::with_capacity(n),
        z: Vec::with_capacity(n),
    };
    for i in 0..n {
        let (js, ws) = w.row(i);
        let lag: f64 = js.iter().zip(ws).map(|(&j, &wv)| wv * y[j as usize]).sum();
        let card: f64 = ws.iter().sum();
        let g = lag / sum;
        let e = card / nf;
        let v = card * (nf - card) / (nf - 1.0) * (1.0 / (nf * nf)) * ratio;
        out.g.push(g);
        out.expected.push(e);
        out.variance.push(v);
        out.z.push((g - e) / v.sqrt());
    }
    out
}

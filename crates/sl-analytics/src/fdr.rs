//! False discovery rate control for many simultaneous tests (one per map cell).
//!
//! Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate: a
//! practical and powerful approach to multiple testing. *Journal of the Royal
//! Statistical Society B* 57(1), 289–300.
//!
//! # Algorithm
//!
//! With the `m` p-values sorted ascending, `p_(1) ≤ … ≤ p_(m)`, the adjusted value of
//! rank `r` is `min(1, min_{s ≥ r} p_(s) · m / s)` — the step-up adjusted p-values of
//! R's `p.adjust(method = "BH")`, scipy's `false_discovery_control(method="bh")` and
//! statsmodels' `multipletests(method="fdr_bh")`. Rejecting every test whose adjusted
//! value is at most `q` is the Benjamini–Hochberg procedure at FDR level `q`.
//!
//! # Notes
//!
//! `O(m log m)` time (one sort). The adjusted values are monotone in the raw ones.

/// Benjamini–Hochberg adjusted p-values, in the input's order.
///
/// NaN p-values (e.g. units with no neighbours) stay NaN and are not counted among the
/// `m` tests, as R's `p.adjust` does with `NA`. Inputs are expected in `[0, 1]`;
/// outputs are capped at 1.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let m = order.len() as f64;
    let mut out = vec![f64::NAN; p.len()];
    let mut running = f64::INFINITY;
    for (rank0, &i) in order.iter().enumerate().rev() {
        let adjusted = p[i] * (m / (rank0 as f64 + 1.0));
        running = running.min(adjusted);
        out[i] = running.min(1.0);
    }
    out
}

/// The Benjamini–Hochberg cut-off at level `q`: the largest `p_(k)` (sorted ascending,
/// NaNs ignored, `m` the number of finite p-values) with `p_(k) ≤ k·q/m`; 0 when none.
/// A test is a discovery when `p ≤` the cut-off — the same tests whose
/// [`benjamini_hochberg`] adjusted value is at most `q`, decided on the raw p-values.
pub fn cutoff(p: &[f64], q: f64) -> f64 {
    let mut sorted: Vec<f64> = p.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    let m = sorted.len() as f64;
    let mut cut = 0.0;
    for (k, &pk) in sorted.iter().enumerate() {
        if pk <= (k + 1) as f64 * q / m {
            cut = pk;
        }
    }
    cut
}

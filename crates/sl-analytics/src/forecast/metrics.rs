//! The field's measures of a hot-spot forecast.
//!
//! - **Hit rate** at coverage `c`: the share of the period's events `n/N` that fall in
//!   the `k` top-ranked cells, `k` being the cells that make up `c` of the area.
//! - **PAI**, the Predictive Accuracy Index (Chainey, Tompson & Uhlig 2008, *Security
//!   Journal* 21, 4–28): `(n/N) / (a/A)`, hit rate over area share, with `a` the area
//!   of the `k` flagged cells and `A` the study area.
//! - **PEI\*** (Hunt 2016; Drawve 2016, *J. Quantitative Criminology* 32, 369–396, "PEI"
//!   with the best possible hits): `n / n*`, where `n*` is the most events any `k` cells
//!   could have held (the `k` cells with most events in the period).
//! - **Poisson log-likelihood** of the period's counts under forecasts that are expected
//!   counts: `Σ_i (y_i log μ_i − μ_i − log y_i!)`, a proper score (higher is better).
//!
//! # Units of unequal areas
//!
//! [`evaluate_areas`] measures a ranking of units whose areas differ (H3 cells, police
//! districts). Coverage is then a share of the area, not of the units: at coverage `c`
//! the flagged units are the longest run of top-ranked units whose areas add up to at
//! most `c · A` (at least the first unit, even when it alone is larger). PAI uses the
//! flagged units' actual area `a`, and PEI\*'s `n*` is the most events any set of units
//! of total area at most `a` held: a 0/1 knapsack, solved exactly by dynamic
//! programming over event counts ([`least_area_for_counts`]). With equal areas it gives
//! the same `n*` as the grid rule (the `k` busiest cells).
//!
//! # Ties
//!
//! Cells with equal scores are ordered by a random permutation drawn from the seed
//! (the same seed gives the same order), so a model that scores many cells alike is
//! neither rewarded nor punished by the cells' numbering. `k = round(c · cells)`, at
//! least 1.

use crate::rng;

/// Cells ranked from highest to lowest score, ties in a seeded random order. NaN
/// scores rank last.
pub fn rank(scores: &[f64], seed: u64) -> Vec<u32> {
    let mut r = rng::stream(seed, 0x7157);
    let mut order: Vec<u32> = (0..scores.len() as u32).collect();
    rng::shuffle(&mut r, &mut order);
    // A stable sort keeps the shuffled order among equal scores.
    order.sort_by(|&a, &b| {
        let (x, y) = (scores[a as usize], scores[b as usize]);
        match (x.is_nan(), y.is_nan()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            _ => y.total_cmp(&x),
        }
    });
    order
}

/// Number of cells that make up `coverage` (a fraction of the cells), at least one.
pub fn cells_for(coverage: f64, cells: usize) -> usize {
    ((coverage * cells as f64).round() as usize).clamp(1, cells.max(1))
}

/// One coverage level's measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coverage {
    /// Requested share of the area.
    pub coverage: f64,
    /// Cells (or units) flagged.
    pub cells: usize,
    /// Their area, in the units of the study area.
    pub area: f64,
    /// Events in the flagged cells.
    pub hits: f64,
    /// `hits / N` (NaN when the period had no events).
    pub hit_rate: f64,
    /// `hit_rate / (a / A)`.
    pub pai: f64,
    /// `hits / n*` (NaN when the best possible is zero).
    pub pei_star: f64,
}

/// Measures a ranking against the period's counts per cell. `cell_area` and
/// `study_area` (same units) give `a/A`; pass `cells × cell_area` as the study area
/// for the masked grid's area, or the jurisdiction's area (NIJ).
pub fn evaluate(
    order: &[u32],
    actual: &[f64],
    coverages: &[f64],
    cell_area: f64,
    study_area: f64,
) -> Vec<Coverage> {
    let total: f64 = actual.iter().sum();
    let mut best: Vec<f64> = actual.to_vec();
    best.sort_by(|a, b| b.total_cmp(a));
    coverages
        .iter()
        .map(|&c| {
            let k = cells_for(c, order.len());
            let hits: f64 = order[..k].iter().map(|&i| actual[i as usize]).sum();
            let n_star: f64 = best[..k].iter().sum();
            let hit_rate = if total > 0.0 { hits / total } else { f64::NAN };
            let area_share = k as f64 * cell_area / study_area;
            Coverage {
                coverage: c,
                cells: k,
                area: k as f64 * cell_area,
                hits,
                hit_rate,
                pai: hit_rate / area_share,
                pei_star: if n_star > 0.0 {
                    hits / n_star
                } else {
                    f64::NAN
                },
            }
        })
        .collect()
}

/// How many of the top-ranked units fit in `budget`: the longest prefix of `order`
/// whose areas add up to at most `budget` (a relative 1e-12 is allowed for rounding,
/// so a budget given as a share of the total and multiplied back still takes the units
/// that make it up exactly), but at least one unit when there is one.
pub fn units_within(order: &[u32], areas: &[f64], budget: f64) -> usize {
    let limit = budget * (1.0 + 1e-12);
    let mut used = 0.0;
    let mut k = 0;
    for &i in order {
        used += areas[i as usize];
        if used > limit {
            break;
        }
        k += 1;
    }
    k.max(1).min(order.len())
}

/// For each event count `v = 0..=N` (`N` the period's events), the least total area of
/// a set of units that together held at least `v` of the period's events: the 0/1
/// knapsack behind PEI\*'s best possible hits, solved exactly by dynamic programming
/// over counts (`O(units with events × N)`), which needs no rounding of the real-valued
/// areas. Counts must be whole numbers of events.
pub fn least_area_for_counts(actual: &[f64], areas: &[f64]) -> Vec<f64> {
    debug_assert!(actual.iter().all(|y| *y >= 0.0 && y.fract() == 0.0));
    let total = actual.iter().sum::<f64>().round() as usize;
    let mut least = vec![f64::INFINITY; total + 1];
    least[0] = 0.0;
    for (&y, &w) in actual.iter().zip(areas) {
        let y = y.round() as usize;
        if y == 0 {
            continue;
        }
        // Downwards over v, so each unit is taken at most once.
        for v in (0..=total).rev() {
            let from = least[v.saturating_sub(y)];
            if from + w < least[v] {
                least[v] = from + w;
            }
        }
    }
    least
}

/// Measures a ranking of units of unequal areas against the period's counts per unit
/// (whole events). `coverages` are shares of `study_area`; `areas` are the units' areas
/// in the same units. See the module documentation for the rules.
pub fn evaluate_areas(
    order: &[u32],
    actual: &[f64],
    areas: &[f64],
    coverages: &[f64],
    study_area: f64,
) -> Vec<Coverage> {
    let total: f64 = actual.iter().sum();
    let least = least_area_for_counts(actual, areas);
    coverages
        .iter()
        .map(|&c| {
            let k = units_within(order, areas, c * study_area);
            let flagged = &order[..k];
            let hits: f64 = flagged.iter().map(|&i| actual[i as usize]).sum();
            let area: f64 = flagged.iter().map(|&i| areas[i as usize]).sum();
            // The flagged units are one feasible set, so n* ≥ hits; the tolerance covers
            // the same set's area added in another order.
            let limit = area * (1.0 + 1e-12);
            let n_star = (least.iter().rposition(|&w| w <= limit).unwrap_or(0) as f64).max(hits);
            let hit_rate = if total > 0.0 { hits / total } else { f64::NAN };
            Coverage {
                coverage: c,
                cells: k,
                area,
                hits,
                hit_rate,
                pai: hit_rate / (area / study_area),
                pei_star: if n_star > 0.0 {
                    hits / n_star
                } else {
                    f64::NAN
                },
            }
        })
        .collect()
}

/// `log y!` for counts (fractional counts use the gamma function).
fn ln_factorial(y: f64) -> f64 {
    statrs::function::gamma::ln_gamma(y + 1.0)
}

/// Poisson log-likelihood of counts `actual` under expected counts `expected`.
/// Expected counts are floored at `1e-12` so a zero forecast with an event scores a
/// large finite penalty rather than minus infinity.
pub fn poisson_log_likelihood(expected: &[f64], actual: &[f64]) -> f64 {
    expected
        .iter()
        .zip(actual)
        .map(|(&mu, &y)| {
            let mu = mu.max(1e-12);
            y * mu.ln() - mu - ln_factorial(y)
        })
        .sum()
}

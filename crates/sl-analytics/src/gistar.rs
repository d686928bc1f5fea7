//! Getis–Ord Gi\* local statistic (Getis & Ord 1992; Ord & Getis 1995) with analytic
//! z-scores, conditional-permutation pseudo p-values and, through [`crate::fdr`],
//! Benjamini–Hochberg adjustment, computed the way PySAL esda's
//! `G_Local(y, w, transform, permutations, star=True)` computes them, so results can
//! be checked against esda (z to floating-point precision, p within Monte Carlo error).
//!
//! References:
//! - Getis, A. & Ord, J. K. (1992). The analysis of spatial association by use of
//!   distance statistics. *Geographical Analysis* 24(3), 189–206.
//! - Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics:
//!   distributional issues and an application. *Geographical Analysis* 27(4), 286–306.
//! - Anselin, L. (1995). Local indicators of spatial association — LISA.
//!   *Geographical Analysis* 27(2), 93–115 (conditional randomisation).
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
//! [`gi_star`] adds what esda adds around it: the self weight (see [`star_weights`]),
//! the one-sided normal p-value of `|z|`, and the folded pseudo p-value of a
//! conditional permutation test (see [`gi_star`] for the exact rule).
//!
//! # Notes
//!
//! `O(nnz)` time for the analytic part. When every value is equal (`s² = 0`) or all
//! are zero, z is undefined and reported as NaN.

use rayon::prelude::*;

use crate::normal_upper_tail;
use crate::rng;
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

/// How the weights are transformed once the self weight is in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transform {
    /// Every link (the unit itself included) weighs 1: the classic Gi\* of Ord &
    /// Getis (1995), esda `transform='B'`. Streetlight's default.
    #[default]
    Binary,
    /// Every row divided by its sum, esda `transform='R'` (esda's own default).
    RowStandardised,
}

/// Settings of [`gi_star`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GiStarConfig {
    /// The weights transform.
    pub transform: Transform,
    /// Number of conditional permutations; 0 skips the permutation test (`p_sim` is
    /// `None`). 999 by default, which resolves pseudo p-values down to 0.001.
    pub permutations: usize,
    /// Seed of the permutation draws: the same seed gives the same `p_sim` bit for bit,
    /// whatever the number of threads.
    pub seed: u64,
}

impl GiStarConfig {
    /// Binary weights and 999 permutations with the given seed.
    pub fn with_seed(seed: u64) -> Self {
        Self {
            transform: Transform::Binary,
            permutations: 999,
            seed,
        }
    }
}

/// Gi\* results, one entry per unit, in the units' order.
#[derive(Debug, Clone, PartialEq)]
pub struct GiStar {
    /// The statistic G\*_i (esda `Gs`).
    pub g: Vec<f64>,
    /// Its expectation under randomisation (esda `EGs`).
    pub expected: Vec<f64>,
    /// Its variance under randomisation (esda `VGs`).
    pub variance: Vec<f64>,
    /// The standardised score (esda `Zs`): positive for hot spots, negative for cold.
    pub z: Vec<f64>,
    /// One-sided normal p-value of `|z|`, `P(Z > |z|)` (esda `p_norm`); double it for a
    /// two-sided test.
    pub p_norm: Vec<f64>,
    /// Folded conditional-permutation pseudo p-value (esda `p_sim`), `None` when no
    /// permutations were asked for; NaN for units with no neighbours and when `z` is
    /// undefined.
    pub p_sim: Option<Vec<f64>>,
    /// Tie-aware pseudo p-value: `(1 + min(#{sim ≥ obs}, #{sim ≤ obs})) / (P + 1)`.
    /// Ties count against significance in both directions, so a unit whose draws all
    /// equal its observation (a zero cell among zeros) gets 1, not `1/(P + 1)`.
    /// Streetlight labels hot and cold spots with this one; `p_sim` is kept for
    /// comparison with esda. `None` and NaN exactly where `p_sim` is.
    pub p_sim_ties: Option<Vec<f64>>,
}

/// Why Gi\* cannot be computed.
#[derive(Debug, Clone, PartialEq)]
pub enum GiStarError {
    /// The values and the weights cover different numbers of units.
    LengthMismatch { values: usize, units: usize },
    /// A value is NaN or infinite.
    NonFiniteValue { index: usize },
    /// Fewer than two units: there is nothing to compare a unit with.
    TooFewUnits(usize),
}

impl std::fmt::Display for GiStarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GiStarError::LengthMismatch { values, units } => write!(
                f,
                "{values} values for {units} units: the counts and the weights must come from the same units"
            ),
            GiStarError::NonFiniteValue { index } => {
                write!(f, "the value of unit {index} is not a finite number")
            }
            GiStarError::TooFewUnits(n) => {
                write!(f, "Gi* needs at least two units, got {n}")
            }
        }
    }
}

impl std::error::Error for GiStarError {}

/// The Gi\* weights esda builds from weights without self-links: every unit that lacks
/// a self-link gets one, then the transform is applied.
///
/// - [`Transform::Binary`]: self weight 1, then every weight set to 1.
/// - [`Transform::RowStandardised`]: self weight equal to the largest weight in the
///   unit's row (1 for binary input; 0 for a unit with no neighbours, which leaves its
///   row empty of weight), then every row divided by its sum.
///
/// This is what `G_Local(star=True)` does with a W whose diagonal is zero (libpysal
/// `fill_diagonal(w, 1)` for 'B', `fill_diagonal(w, row max)` for 'R'). One deliberate
/// difference: esda keeps the diagonal as given when *any* unit has a self-link, while
/// this adds a self-link to each unit that lacks one; with the grid and distance-band
/// weights built here no unit has one, so the two agree.
pub fn star_weights(w: &Weights, transform: Transform) -> Weights {
    let (offsets, neighbours, values) = w.parts();
    let n = w.n();
    let mut out_off = Vec::with_capacity(n + 1);
    let mut out_nb = Vec::with_capacity(neighbours.len() + n);
    let mut out_val = Vec::with_capacity(neighbours.len() + n);
    out_off.push(0);
    for i in 0..n {
        let (a, b) = (offsets[i], offsets[i + 1]);
        let row_start = out_nb.len();
        let has_self = neighbours[a..b].binary_search(&(i as u32)).is_ok();
        let self_weight = match transform {
            Transform::Binary => 1.0,
            Transform::RowStandardised => values[a..b].iter().copied().fold(0.0, f64::max),
        };
        let mut inserted = has_self;
        for k in a..b {
            let j = neighbours[k];
            if !inserted && j > i as u32 {
                out_nb.push(i as u32);
                out_val.push(self_weight);
                inserted = true;
            }
            out_nb.push(j);
            out_val.push(values[k]);
        }
        if !inserted {
            out_nb.push(i as u32);
            out_val.push(self_weight);
        }
        let row = &mut out_val[row_start..];
        match transform {
            Transform::Binary => row.iter_mut().for_each(|v| *v = 1.0),
            Transform::RowStandardised => {
                let s: f64 = row.iter().sum();
                if s != 0.0 {
                    row.iter_mut().for_each(|v| *v /= s);
                }
            }
        }
        out_off.push(out_nb.len());
    }
    Weights::from_parts(out_off, out_nb, out_val)
}

/// Permutations drawn from one random stream: the draws depend only on the seed and
/// this fixed chunking, never on how chunks are spread over threads.
const PERMUTATIONS_PER_STREAM: usize = 64;

/// Gi\* of `y` over weights `w` **without** self-links (contiguity or distance band;
/// see [`star_weights`] for how the self weight and the transform are applied), with
/// analytic z-scores, one-sided normal p-values and, when `cfg.permutations > 0`,
/// folded conditional-permutation pseudo p-values.
///
/// # Algorithm
///
/// Conditional randomisation (Anselin 1995) holds `y_i` at unit `i` and draws its
/// `k_i` neighbours' values without replacement from the other `n − 1` units. As in
/// esda, one set of `k_max = max_i k_i` distinct ids in `0..n−1` is drawn per
/// permutation and shared by all units: unit `i` uses the first `k_i` ids, where id
/// `r` stands for unit `r` if `r < i` and unit `r + 1` otherwise (the list of units
/// without `i`). Each unit's draws are thus a uniform sample without replacement, and
/// the draws cost `O(permutations · k_max)` instead of `O(permutations · n)`.
/// Draws are made in blocks of 64 permutations, block `b` from
/// [`rng::stream`]`(seed, b)`.
///
/// With `larger_i` the number of permutations whose simulated G\*_i is at least the
/// observed one, esda's "directed" (folded) rule gives
/// `p_sim = (min(larger_i, P − larger_i) + 1) / (P + 1)`, where the minimum takes
/// `P − larger_i` only when it is strictly smaller. It is a one-sided p-value in the
/// direction the observation lies. Ties count as "larger": a unit whose simulated
/// values all equal the observed one (e.g. a zero cell with zero neighbours among
/// many zeros) gets `larger = P`, folds to 0 and reports `1/(P + 1)`, as esda does.
///
/// The simulated and observed G\*_i share the self term and the divisor `Σ y`, so
/// they are compared on the neighbour part alone; when every neighbour of a unit has
/// the same weight (contiguity and binary bands, either transform) the comparison is
/// on plain sums of neighbour values, so ties among integer counts are decided
/// exactly. (esda compares the full floating-point statistics; with row-standardised
/// weights its rounding can split such exact ties either way.)
///
/// Units with no neighbours get `p_sim = NaN`: conditional on `y_i` nothing is
/// random. (esda reports `1/(P + 1)` for them, an artefact of its island handling.)
///
/// # Notes
///
/// `O(nnz + permutations · Σ_i k_i)` time, parallel over units with rayon; memory
/// `O(nnz + permutations · k_max)` for the shared draws.
pub fn gi_star(y: &[f64], w: &Weights, cfg: &GiStarConfig) -> Result<GiStar, GiStarError> {
    let n = y.len();
    if n != w.n() {
        return Err(GiStarError::LengthMismatch {
            values: n,
            units: w.n(),
        });
    }
    if n < 2 {
        return Err(GiStarError::TooFewUnits(n));
    }
    if let Some(index) = y.iter().position(|v| !v.is_finite()) {
        return Err(GiStarError::NonFiniteValue { index });
    }
    let sw = star_weights(w, cfg.transform);
    let a = gi_star_analytic(y, &sw);
    let p_norm = a.z.iter().map(|z| normal_upper_tail(z.abs())).collect();
    let (p_sim, p_sim_ties) = if cfg.permutations > 0 {
        let (folded, ties) = permutation_p(y, &sw, &a.z, cfg);
        (Some(folded), Some(ties))
    } else {
        (None, None)
    };
    Ok(GiStar {
        g: a.g,
        expected: a.expected,
        variance: a.variance,
        z: a.z,
        p_norm,
        p_sim,
        p_sim_ties,
    })
}

/// Each unit's non-self links with nonzero weight (esda drops zero weights before
/// randomising): `(neighbour ids, weights)` in CSR form.
struct Others {
    offsets: Vec<usize>,
    ids: Vec<u32>,
    weights: Vec<f64>,
}

impl Others {
    fn from_star(sw: &Weights) -> Self {
        let n = sw.n();
        let mut offsets = Vec::with_capacity(n + 1);
        let mut ids = Vec::new();
        let mut weights = Vec::new();
        offsets.push(0);
        for i in 0..n {
            let (js, ws) = sw.row(i);
            for (&j, &wv) in js.iter().zip(ws) {
                if j as usize != i && wv != 0.0 {
                    ids.push(j);
                    weights.push(wv);
                }
            }
            offsets.push(ids.len());
        }
        Self {
            offsets,
            ids,
            weights,
        }
    }

    fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.offsets[i], self.offsets[i + 1]);
        (&self.ids[a..b], &self.weights[a..b])
    }
}

/// `permutations × k_max` ids, row `p` holding `k_max` distinct ids in `0..m` in
/// random order (a uniform ordered sample without replacement).
fn draw_ids(m: usize, k_max: usize, permutations: usize, seed: u64) -> Vec<u32> {
    let mut ids = vec![0u32; permutations * k_max];
    if k_max == 0 {
        return ids;
    }
    ids.par_chunks_mut(PERMUTATIONS_PER_STREAM * k_max)
        .enumerate()
        .for_each(|(block, chunk)| {
            let mut rng = rng::stream(seed, block as u64);
            if 2 * k_max <= m {
                // Sequential draws with rejection of repeats: O(k) per permutation.
                let mut taken = vec![false; m];
                for row in chunk.chunks_exact_mut(k_max) {
                    for slot in row.iter_mut() {
                        let r = loop {
                            let r = rng::below(&mut rng, m as u64) as usize;
                            if !taken[r] {
                                break r;
                            }
                        };
                        taken[r] = true;
                        *slot = r as u32;
                    }
                    row.iter().for_each(|&r| taken[r as usize] = false);
                }
            } else {
                // Most ids are needed: a partial Fisher–Yates shuffle of 0..m.
                let mut pool: Vec<u32> = (0..m as u32).collect();
                for row in chunk.chunks_exact_mut(k_max) {
                    for (t, slot) in row.iter_mut().enumerate() {
                        let j = t + rng::below(&mut rng, (m - t) as u64) as usize;
                        pool.swap(t, j);
                        *slot = pool[t];
                    }
                }
            }
        });
    ids
}

/// esda's folded ("directed") pseudo p-value from the number of permutations whose
/// statistic is at least the observed one.
fn folded_p(larger: usize, permutations: usize) -> f64 {
    let low = permutations - larger;
    let extreme = if low < larger { low } else { larger };
    (extreme as f64 + 1.0) / (permutations as f64 + 1.0)
}

/// Units per sweep block (see [`permutation_p`]): a fixed size, so results do not
/// depend on how blocks are spread over threads.
const UNITS_PER_BLOCK: usize = 512;

/// Pseudo p-values of all units.
///
/// Units whose neighbours all have the same positive weight (contiguity and binary
/// bands, either transform) are compared on plain sums of drawn values. Those sums
/// are shared: for permutation `p` and prefix length `k`, unit `i`'s sum is
/// `S_pk(i) = Σ_{m<k} y[r_m + (r_m ≥ i)]`, which changes with `i` only when `i`
/// passes `r_m + 1` (draw `m` then switches from unit `r_m + 1` to unit `r_m`). So
/// the units are swept in order within fixed blocks, each block starting from
/// directly computed sums and applying those switches as it goes; counting the
/// permutations at least as large as the observed sum is then a contiguous scan.
/// Sums of integer counts are exact, so this equals summing the draws of each unit
/// afresh. Other units (e.g. inverse-distance weights) sum their weighted draws
/// directly.
fn permutation_p(y: &[f64], sw: &Weights, z: &[f64], cfg: &GiStarConfig) -> (Vec<f64>, Vec<f64>) {
    let n = y.len();
    let perms = cfg.permutations;
    let others = Others::from_star(sw);
    let k_max = (0..n)
        .map(|i| others.offsets[i + 1] - others.offsets[i])
        .max()
        .unwrap_or(0);
    let ids = draw_ids(n - 1, k_max, perms, cfg.seed);
    // Switch events by the unit at which they happen: draw (p, m) with id r switches
    // at unit r + 1. Counting sort keeps the order deterministic.
    let mut ev_off = vec![0usize; n + 1];
    for &r in &ids {
        ev_off[r as usize + 2] += 1;
    }
    for t in 1..=n {
        ev_off[t] += ev_off[t - 1];
    }
    let mut ev = vec![0usize; ids.len()];
    {
        let mut fill = ev_off.clone();
        for (flat, &r) in ids.iter().enumerate() {
            let t = r as usize + 1;
            ev[fill[t]] = flat;
            fill[t] += 1;
        }
    }
    let equal: Vec<bool> = (0..n)
        .map(|i| {
            let ws = others.row(i).1;
            ws.first()
                .is_some_and(|&w0| w0 > 0.0 && ws.iter().all(|&v| v == w0))
        })
        .collect();
    let blocks = n.div_ceil(UNITS_PER_BLOCK);
    let per_block: Vec<Vec<(f64, f64)>> = (0..blocks)
        .into_par_iter()
        .map(|b| {
            let (a, e) = (b * UNITS_PER_BLOCK, ((b + 1) * UNITS_PER_BLOCK).min(n));
            let mut out = Vec::with_capacity(e - a);
            // sums[m * perms + p] = S_p,(m+1) at the current unit.
            let mut sums = vec![0.0f64; k_max * perms];
            let any_equal = equal[a..e].iter().any(|&q| q);
            if any_equal {
                for p in 0..perms {
                    let mut acc = 0.0;
                    for m in 0..k_max {
                        let r = ids[p * k_max + m] as usize;
                        acc += if r < a { y[r] } else { y[r + 1] };
                        sums[m * perms + p] = acc;
                    }
                }
            }
            for i in a..e {
                if any_equal && i > a {
                    let d = y[i] - y[i - 1];
                    for &flat in &ev[ev_off[i]..ev_off[i + 1]] {
                        let (p, m) = (flat / k_max, flat % k_max);
                        for mm in m..k_max {
                            sums[mm * perms + p] -= d;
                        }
                    }
                }
                let (js, ws) = others.row(i);
                let k = js.len();
                if k == 0 || !z[i].is_finite() {
                    out.push((f64::NAN, f64::NAN));
                    continue;
                }
                let (larger, smaller) = if equal[i] {
                    let observed: f64 = js.iter().map(|&j| y[j as usize]).sum();
                    sums[(k - 1) * perms..k * perms]
                        .iter()
                        .fold((0, 0), |(ge, le), &s| {
                            (
                                ge + usize::from(s >= observed),
                                le + usize::from(s <= observed),
                            )
                        })
                } else {
                    let iu = i as u32;
                    let observed: f64 = js.iter().zip(ws).map(|(&j, &wv)| wv * y[j as usize]).sum();
                    ids.chunks_exact(k_max).fold((0, 0), |(ge, le), row| {
                        let s: f64 = row[..k]
                            .iter()
                            .zip(ws)
                            .map(|(&r, &wv)| wv * y[(r + u32::from(r >= iu)) as usize])
                            .sum();
                        (
                            ge + usize::from(s >= observed),
                            le + usize::from(s <= observed),
                        )
                    })
                };
                let ties = (larger.min(smaller) as f64 + 1.0) / (perms as f64 + 1.0);
                out.push((folded_p(larger, perms), ties));
            }
            out
        })
        .collect();
    per_block.into_iter().flatten().unzip()
}

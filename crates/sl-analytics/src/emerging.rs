//! Emerging hot spot analysis: where clusters of high (or low) counts are new, growing,
//! persistent, fading, sporadic, oscillating or historical, following ArcGIS Pro's
//! *Emerging Hot Spot Analysis* tool (Esri, "How Emerging Hot Spot Analysis works",
//! ArcGIS Pro tool reference, Space Time Pattern Mining toolbox).
//!
//! The method combines the space-time Getis–Ord Gi\* statistic (Getis & Ord 1992; Ord &
//! Getis 1995) with the Mann–Kendall trend test (see [`crate::mann_kendall`]), and
//! controls the false discovery rate of the per-bin tests with the Benjamini–Hochberg
//! procedure (Benjamini & Hochberg 1995), as ArcGIS Pro does.
//!
//! References:
//! - Esri. How Emerging Hot Spot Analysis works; Emerging Hot Spot Analysis (tool);
//!   How Create Space Time Cube works. ArcGIS Pro documentation (pro.arcgis.com,
//!   tool-reference/space-time-pattern-mining/learnmoreemerging.htm and
//!   emerginghotspots.htm).
//! - Getis, A. & Ord, J. K. (1992). The analysis of spatial association by use of
//!   distance statistics. *Geographical Analysis* 24(3), 189–206.
//! - Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics:
//!   distributional issues and an application. *Geographical Analysis* 27(4), 286–306.
//! - Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate: a
//!   practical and powerful approach to multiple testing. *JRSS B* 57(1), 289–300.
//!
//! # Algorithm
//!
//! 1. **Cube.** `n` locations (masked grid cells) × `T` equal time steps; each bin holds
//!    a count. Only *locations with data* (at least one event in at least one step) are
//!    analysed by default, as ArcGIS does without a polygon mask; [`Locations::All`]
//!    analyses every unit, as ArcGIS does within a polygon analysis mask.
//! 2. **Space-time neighbourhood.** Bin `(i, t)`'s neighbours are the bins `(j, s)` with
//!    `j` equal to `i` or a spatial neighbour of `i` (the given [`Weights`], links taken
//!    as binary) and `t − k ≤ s ≤ t`, with `k` the *neighbourhood time step* (ArcGIS's
//!    default 1). Only earlier steps are looked at, never later ones.
//! 3. **Gi\*.** One Gi\* over all `N = n_analysed · T` bins (ArcGIS's default global
//!    window, *Entire cube*), with binary weights including the bin itself:
//!    `z = (Σ_j w_ij y_j / Σ y − W_i/N) / √(W_i (N − W_i)/(N − 1) · s²/(N² ȳ²))`, exactly
//!    as [`crate::gistar::gi_star_analytic`] computes it (a test checks bit equality).
//!    Two-sided p-values from the standard normal distribution.
//! 4. **Significance.** A bin is a hot (cold) spot when `z > 0` (`z < 0`) and its p-value
//!    passes the cut-off: by default the Benjamini–Hochberg cut-off at `q = 1 −
//!    confidence` over all analysed bins (ArcGIS Pro applies an FDR correction to the
//!    bins); with [`Correction::None`], `p ≤ 1 − confidence`.
//! 5. **Trend.** Per location, the Mann–Kendall test on its series of `T` Gi\* z-scores
//!    (and, reported only, on its counts, as the cube's trend in ArcGIS).
//! 6. **Pattern.** [`classify`] assigns one of the 17 labels; each is defined there.
//!
//! # Notes
//!
//! `O(N·(k+1)·d)` for Gi\* with `d` the mean number of spatial neighbours plus one,
//! `O(N log N)` for the FDR cut-off and `O(n·T²)` for the trend tests. The space-time
//! weights are never stored (they would take `N·(k+1)·d` links: 200 MB for 12,000
//! cells × 84 months). No randomness is involved; the work is split over rayon threads
//! by fixed chunks and every value is computed independently, so results are the same
//! bit for bit whatever the number of threads.

use rayon::prelude::*;

use crate::grid::MaskedGrid;
use crate::mann_kendall::{MannKendall, Trend, mann_kendall};
use crate::weights::Weights;
use crate::{Incident, normal_upper_tail};

/// Fewest time steps accepted. Below ten, "90 percent of the time steps" means every
/// step and the Mann–Kendall test has too little power to tell trends apart.
pub const MIN_STEPS: usize = 10;

/// Why an emerging hot spot analysis cannot run.
#[derive(Debug, Clone, PartialEq)]
pub enum EmergingError {
    /// `values` does not hold `n_units × n_steps` numbers.
    Shape {
        n_units: usize,
        n_steps: usize,
        values: usize,
    },
    /// A bin holds a value that is not a finite number.
    BadValue { unit: usize, step: usize },
    /// Fewer than [`MIN_STEPS`] time steps.
    TooFewSteps { steps: usize },
    /// The spatial weights cover another number of units than the cube.
    WeightsMismatch { cube: usize, weights: usize },
    /// A confidence level outside `(0, 1)`.
    BadConfidence(f64),
    /// Step edges that are not strictly increasing, or fewer than two.
    BadStepEdges,
}

impl std::fmt::Display for EmergingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EmergingError::Shape {
                n_units,
                n_steps,
                values,
            } => write!(
                f,
                "a cube of {n_units} units × {n_steps} steps needs {} values, got {values}",
                n_units * n_steps
            ),
            EmergingError::BadValue { unit, step } => write!(
                f,
                "the value of unit {unit} at step {step} is not a finite number"
            ),
            EmergingError::TooFewSteps { steps } => write!(
                f,
                "emerging hot spot analysis needs at least {MIN_STEPS} time steps, got {steps}: choose shorter steps or a longer period"
            ),
            EmergingError::WeightsMismatch { cube, weights } => write!(
                f,
                "the spatial weights cover {weights} units but the cube has {cube}: build both from the same grid"
            ),
            EmergingError::BadConfidence(c) => write!(
                f,
                "confidence {c} is not between 0 and 1: use e.g. 0.90, 0.95 or 0.99"
            ),
            EmergingError::BadStepEdges => write!(
                f,
                "time step edges must be at least two strictly increasing instants"
            ),
        }
    }
}

impl std::error::Error for EmergingError {}

/// A space-time cube: one value (a count) per unit and time step, stored step by step
/// (`values[t * n_units + i]`).
#[derive(Debug, Clone, PartialEq)]
pub struct SpaceTimeCube {
    n_units: usize,
    n_steps: usize,
    values: Vec<f64>,
}

/// What [`SpaceTimeCube::count`] did with each incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CountSummary {
    /// Incidents counted in a bin.
    pub counted: usize,
    /// Incidents whose point is on no kept cell.
    pub off_grid: usize,
    /// Incidents whose window starts before the first or at/after the last step edge.
    pub outside_steps: usize,
}

impl SpaceTimeCube {
    /// A cube from values stored step by step (`values[t * n_units + i]`).
    pub fn new(n_units: usize, n_steps: usize, values: Vec<f64>) -> Result<Self, EmergingError> {
        if values.len() != n_units * n_steps {
            return Err(EmergingError::Shape {
                n_units,
                n_steps,
                values: values.len(),
            });
        }
        if let Some(b) = values.iter().position(|v| !v.is_finite()) {
            return Err(EmergingError::BadValue {
                unit: b % n_units,
                step: b / n_units,
            });
        }
        Ok(Self {
            n_units,
            n_steps,
            values,
        })
    }

    /// Counts incidents per kept cell of `grid` and per time step, step `t` being the
    /// half-open interval `[edges[t], edges[t + 1])` of UTC seconds (so months of
    /// unequal length are fine). An incident belongs to the step holding the start of
    /// its window (`from`): a cube bins instants, as ArcGIS's single time field does.
    pub fn count(
        grid: &MaskedGrid,
        incidents: &[Incident],
        edges: &[i64],
    ) -> Result<(Self, CountSummary), EmergingError> {
        if edges.len() < 2 || edges.windows(2).any(|w| w[0] >= w[1]) {
            return Err(EmergingError::BadStepEdges);
        }
        let n_units = grid.len();
        let n_steps = edges.len() - 1;
        let mut values = vec![0.0; n_units * n_steps];
        let mut summary = CountSummary::default();
        for e in incidents {
            let Some(i) = grid.index_of_point(e.x, e.y) else {
                summary.off_grid += 1;
                continue;
            };
            if e.from < edges[0] || e.from >= edges[n_steps] {
                summary.outside_steps += 1;
                continue;
            }
            // The last edge <= from: partition_point gives the count of edges <= from.
            let t = edges.partition_point(|&x| x <= e.from) - 1;
            values[t * n_units + i] += 1.0;
            summary.counted += 1;
        }
        Ok((
            Self {
                n_units,
                n_steps,
                values,
            },
            summary,
        ))
    }

    /// Number of units (locations).
    pub fn n_units(&self) -> usize {
        self.n_units
    }

    /// Number of time steps.
    pub fn n_steps(&self) -> usize {
        self.n_steps
    }

    /// Value of unit `i` at step `t`.
    pub fn value(&self, i: usize, t: usize) -> f64 {
        self.values[t * self.n_units + i]
    }

    /// All values of step `t`, one per unit.
    pub fn step(&self, t: usize) -> &[f64] {
        &self.values[t * self.n_units..(t + 1) * self.n_units]
    }

    /// Unit `i`'s series over the steps.
    pub fn series(&self, i: usize) -> Vec<f64> {
        (0..self.n_steps).map(|t| self.value(i, t)).collect()
    }

    /// All values, step by step.
    pub fn values(&self) -> &[f64] {
        &self.values
    }
}

/// Which multiple-testing correction decides a bin's significance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    /// Benjamini–Hochberg false discovery rate over all analysed bins (ArcGIS Pro).
    Fdr,
    /// Each bin on its own: `p ≤ 1 − confidence`.
    None,
}

/// Which units take part in the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locations {
    /// Units with at least one event in at least one step (ArcGIS without a polygon
    /// analysis mask). The others are neither neighbours nor part of the global mean,
    /// and get [`Pattern::NoPattern`].
    WithData,
    /// Every unit (ArcGIS with a polygon analysis mask: the mask is the masked grid).
    All,
}

/// Parameters of [`emerging_hot_spots`]. The defaults are ArcGIS Pro's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmergingConfig {
    /// Number of earlier time steps in each bin's neighbourhood (ArcGIS "Neighborhood
    /// Time Step", default 1).
    pub time_neighbourhood: usize,
    /// Confidence for a bin to count as a hot or cold spot (default 0.90: ArcGIS counts
    /// bins at 90 %, 95 % and 99 % confidence alike as significant).
    pub confidence: f64,
    /// Multiple-testing correction of the bin p-values (default FDR, as ArcGIS Pro).
    pub correction: Correction,
    /// Confidence for a Mann–Kendall trend to count as significant (default 0.90, the
    /// lowest confidence ArcGIS reports a trend at).
    pub trend_confidence: f64,
    /// Which units are analysed (default locations with data).
    pub locations: Locations,
}

impl Default for EmergingConfig {
    fn default() -> Self {
        Self {
            time_neighbourhood: 1,
            confidence: 0.90,
            correction: Correction::Fdr,
            trend_confidence: 0.90,
            locations: Locations::WithData,
        }
    }
}

/// A bin's state at the chosen confidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinClass {
    /// Significant with `z > 0`.
    Hot,
    /// Significant with `z < 0`.
    Cold,
    /// Not significant (or not analysed).
    NotSignificant,
}

/// The 17 emerging hot spot patterns. Definitions are on [`classify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pattern {
    NoPattern,
    NewHotSpot,
    ConsecutiveHotSpot,
    IntensifyingHotSpot,
    PersistentHotSpot,
    DiminishingHotSpot,
    SporadicHotSpot,
    OscillatingHotSpot,
    HistoricalHotSpot,
    NewColdSpot,
    ConsecutiveColdSpot,
    IntensifyingColdSpot,
    PersistentColdSpot,
    DiminishingColdSpot,
    SporadicColdSpot,
    OscillatingColdSpot,
    HistoricalColdSpot,
}

impl Pattern {
    /// Every pattern, in the order of ArcGIS's documentation table.
    pub const ALL: [Pattern; 17] = [
        Pattern::NoPattern,
        Pattern::NewHotSpot,
        Pattern::ConsecutiveHotSpot,
        Pattern::IntensifyingHotSpot,
        Pattern::PersistentHotSpot,
        Pattern::DiminishingHotSpot,
        Pattern::SporadicHotSpot,
        Pattern::OscillatingHotSpot,
        Pattern::HistoricalHotSpot,
        Pattern::NewColdSpot,
        Pattern::ConsecutiveColdSpot,
        Pattern::IntensifyingColdSpot,
        Pattern::PersistentColdSpot,
        Pattern::DiminishingColdSpot,
        Pattern::SporadicColdSpot,
        Pattern::OscillatingColdSpot,
        Pattern::HistoricalColdSpot,
    ];

    /// A stable snake-case name for outputs, e.g. `intensifying_hot_spot`.
    pub fn slug(self) -> &'static str {
        match self {
            Pattern::NoPattern => "no_pattern",
            Pattern::NewHotSpot => "new_hot_spot",
            Pattern::ConsecutiveHotSpot => "consecutive_hot_spot",
            Pattern::IntensifyingHotSpot => "intensifying_hot_spot",
            Pattern::PersistentHotSpot => "persistent_hot_spot",
            Pattern::DiminishingHotSpot => "diminishing_hot_spot",
            Pattern::SporadicHotSpot => "sporadic_hot_spot",
            Pattern::OscillatingHotSpot => "oscillating_hot_spot",
            Pattern::HistoricalHotSpot => "historical_hot_spot",
            Pattern::NewColdSpot => "new_cold_spot",
            Pattern::ConsecutiveColdSpot => "consecutive_cold_spot",
            Pattern::IntensifyingColdSpot => "intensifying_cold_spot",
            Pattern::PersistentColdSpot => "persistent_cold_spot",
            Pattern::DiminishingColdSpot => "diminishing_cold_spot",
            Pattern::SporadicColdSpot => "sporadic_cold_spot",
            Pattern::OscillatingColdSpot => "oscillating_cold_spot",
            Pattern::HistoricalColdSpot => "historical_cold_spot",
        }
    }

    /// The label ArcGIS uses, e.g. `Intensifying Hot Spot`.
    pub fn label(self) -> &'static str {
        match self {
            Pattern::NoPattern => "No Pattern Detected",
            Pattern::NewHotSpot => "New Hot Spot",
            Pattern::ConsecutiveHotSpot => "Consecutive Hot Spot",
            Pattern::IntensifyingHotSpot => "Intensifying Hot Spot",
            Pattern::PersistentHotSpot => "Persistent Hot Spot",
            Pattern::DiminishingHotSpot => "Diminishing Hot Spot",
            Pattern::SporadicHotSpot => "Sporadic Hot Spot",
            Pattern::OscillatingHotSpot => "Oscillating Hot Spot",
            Pattern::HistoricalHotSpot => "Historical Hot Spot",
            Pattern::NewColdSpot => "New Cold Spot",
            Pattern::ConsecutiveColdSpot => "Consecutive Cold Spot",
            Pattern::IntensifyingColdSpot => "Intensifying Cold Spot",
            Pattern::PersistentColdSpot => "Persistent Cold Spot",
            Pattern::DiminishingColdSpot => "Diminishing Cold Spot",
            Pattern::SporadicColdSpot => "Sporadic Cold Spot",
            Pattern::OscillatingColdSpot => "Oscillating Cold Spot",
            Pattern::HistoricalColdSpot => "Historical Cold Spot",
        }
    }

    /// True for the eight hot spot patterns.
    pub fn is_hot(self) -> bool {
        matches!(
            self,
            Pattern::NewHotSpot
                | Pattern::ConsecutiveHotSpot
                | Pattern::IntensifyingHotSpot
                | Pattern::PersistentHotSpot
                | Pattern::DiminishingHotSpot
                | Pattern::SporadicHotSpot
                | Pattern::OscillatingHotSpot
                | Pattern::HistoricalHotSpot
        )
    }

    /// True for the eight cold spot patterns.
    pub fn is_cold(self) -> bool {
        self != Pattern::NoPattern && !self.is_hot()
    }
}

/// One location's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitEmerging {
    /// Whether the unit took part (see [`Locations`]).
    pub analysed: bool,
    /// Its pattern.
    pub pattern: Pattern,
    /// Mann–Kendall test on its Gi\* z-scores (the trend the pattern uses; `n = 0` when
    /// not analysed).
    pub z_trend: MannKendall,
    /// Mann–Kendall test on its counts (reported, as ArcGIS's cube trend; not used by
    /// the pattern).
    pub count_trend: MannKendall,
    /// Number of steps in which it is a significant hot spot.
    pub hot_steps: usize,
    /// Number of steps in which it is a significant cold spot.
    pub cold_steps: usize,
}

/// The result of [`emerging_hot_spots`]. Per-bin vectors are stored step by step
/// (`[t * n_units + i]`), like the cube.
#[derive(Debug, Clone, PartialEq)]
pub struct EmergingResult {
    pub n_units: usize,
    pub n_steps: usize,
    /// Gi\* z-score per bin; NaN for units not analysed, and for every bin when all
    /// analysed values are equal (no variation: nothing can be a hot spot).
    pub z: Vec<f64>,
    /// Two-sided p-value per bin (NaN where z is).
    pub p: Vec<f64>,
    /// Hot, cold or neither per bin, at the configured confidence and correction.
    pub bins: Vec<BinClass>,
    /// The p-value cut-off that was applied: a bin is significant when `p ≤
    /// p_threshold` (FDR-adjusted when [`Correction::Fdr`]; 0 when no bin passes).
    pub p_threshold: f64,
    /// Number of units analysed.
    pub n_analysed: usize,
    /// One entry per unit.
    pub units: Vec<UnitEmerging>,
}

/// The space-time neighbourhood of [`emerging_hot_spots`] as explicit binary weights
/// over the `n · n_steps` bins of a cube (bin `t * n + i`), each bin listing itself.
/// Meant for checks and small cubes: the analysis computes the same sums without
/// storing these links.
pub fn space_time_weights(spatial: &Weights, n_steps: usize, time_neighbourhood: usize) -> Weights {
    let n = spatial.n();
    let lists = (0..n_steps)
        .flat_map(|t| (0..n).map(move |i| (t, i)))
        .map(|(t, i)| {
            let nb = with_self_sorted(spatial, i);
            let s0 = t.saturating_sub(time_neighbourhood);
            (s0..=t)
                .flat_map(|s| nb.iter().map(move |&j| ((s * n) as u32 + j, 1.0)))
                .collect()
        })
        .collect();
    Weights::from_lists(lists)
}

/// Unit `i`'s spatial neighbours and itself, sorted.
fn with_self_sorted(spatial: &Weights, i: usize) -> Vec<u32> {
    let mut nb: Vec<u32> = spatial.row(i).0.to_vec();
    if !nb.contains(&(i as u32)) {
        nb.push(i as u32);
    }
    nb.sort_unstable();
    nb
}

/// Bins per parallel work item; fixed, so the split does not depend on the thread count.
const CHUNK: usize = 4096;

/// Runs emerging hot spot analysis on `cube` with the spatial neighbourhood `spatial`
/// (e.g. [`Weights::queen`] of the cube's grid, or a distance band; without self-links;
/// link values are ignored, links count as 1).
///
/// # Returns
///
/// Per-bin z, p and hot/cold classes, and per unit its pattern and trends. See the
/// module documentation for the algorithm and [`classify`] for the patterns.
///
/// # Errors
///
/// A cube with fewer than [`MIN_STEPS`] steps, weights of another size, or a
/// confidence outside `(0, 1)`.
pub fn emerging_hot_spots(
    cube: &SpaceTimeCube,
    spatial: &Weights,
    cfg: &EmergingConfig,
) -> Result<EmergingResult, EmergingError> {
    let (n, t_steps) = (cube.n_units, cube.n_steps);
    if t_steps < MIN_STEPS {
        return Err(EmergingError::TooFewSteps { steps: t_steps });
    }
    if spatial.n() != n {
        return Err(EmergingError::WeightsMismatch {
            cube: n,
            weights: spatial.n(),
        });
    }
    for c in [cfg.confidence, cfg.trend_confidence] {
        if !(c > 0.0 && c < 1.0) {
            return Err(EmergingError::BadConfidence(c));
        }
    }

    // Units analysed, and their neighbour lists renumbered among the analysed units.
    let analysed: Vec<bool> = (0..n)
        .map(|i| match cfg.locations {
            Locations::All => true,
            Locations::WithData => (0..t_steps).any(|t| cube.value(i, t) != 0.0),
        })
        .collect();
    let units: Vec<usize> = (0..n).filter(|&i| analysed[i]).collect();
    let na = units.len();
    let mut pos = vec![u32::MAX; n];
    for (a, &i) in units.iter().enumerate() {
        pos[i] = a as u32;
    }
    let nbs: Vec<Vec<u32>> = units
        .iter()
        .map(|&i| {
            let mut nb: Vec<u32> = with_self_sorted(spatial, i)
                .into_iter()
                .map(|j| pos[j as usize])
                .filter(|&a| a != u32::MAX)
                .collect();
            nb.sort_unstable();
            nb
        })
        .collect();

    // The analysed values, step by step, and the global moments of the whole cube.
    let y: Vec<f64> = (0..t_steps)
        .flat_map(|t| units.iter().map(move |&i| cube.value(i, t)))
        .collect();
    let big_n = y.len();
    let z_analysed = gi_star_space_time(&y, na, &nbs, cfg.time_neighbourhood);
    let p_analysed: Vec<f64> = z_analysed
        .iter()
        .map(|&z| 2.0 * normal_upper_tail(z.abs()))
        .collect();

    let alpha = 1.0 - cfg.confidence;
    let p_threshold = match cfg.correction {
        Correction::Fdr => crate::fdr::cutoff(&p_analysed, alpha),
        Correction::None => alpha,
    };
    let class_of = |z: f64, p: f64| {
        if p <= p_threshold && z > 0.0 {
            BinClass::Hot
        } else if p <= p_threshold && z < 0.0 {
            BinClass::Cold
        } else {
            BinClass::NotSignificant
        }
    };

    let mut z = vec![f64::NAN; n * t_steps];
    let mut p = vec![f64::NAN; n * t_steps];
    let mut bins = vec![BinClass::NotSignificant; n * t_steps];
    for t in 0..t_steps {
        for (a, &i) in units.iter().enumerate() {
            let b = t * na + a;
            z[t * n + i] = z_analysed[b];
            p[t * n + i] = p_analysed[b];
            bins[t * n + i] = class_of(z_analysed[b], p_analysed[b]);
        }
    }
    debug_assert_eq!(big_n, na * t_steps);

    let trend_alpha = 1.0 - cfg.trend_confidence;
    let per_unit: Vec<UnitEmerging> = (0..n)
        .into_par_iter()
        .with_min_len(64)
        .map(|i| {
            let zs: Vec<f64> = (0..t_steps).map(|t| z[t * n + i]).collect();
            let classes: Vec<BinClass> = (0..t_steps).map(|t| bins[t * n + i]).collect();
            let z_trend = mann_kendall(&zs);
            let count_trend = mann_kendall(&cube.series(i));
            let pattern = if analysed[i] {
                classify(&classes, &z_trend, trend_alpha)
            } else {
                Pattern::NoPattern
            };
            UnitEmerging {
                analysed: analysed[i],
                pattern,
                z_trend,
                count_trend,
                hot_steps: classes.iter().filter(|&&c| c == BinClass::Hot).count(),
                cold_steps: classes.iter().filter(|&&c| c == BinClass::Cold).count(),
            }
        })
        .collect();

    Ok(EmergingResult {
        n_units: n,
        n_steps: t_steps,
        z,
        p,
        bins,
        p_threshold,
        n_analysed: na,
        units: per_unit,
    })
}

/// Gi\* z-scores of every bin of an `na`-unit cube stored step by step, with the
/// space-time neighbourhood of [`space_time_weights`] (same summation order, so the
/// results equal [`crate::gistar::gi_star_analytic`] bit for bit).
fn gi_star_space_time(y: &[f64], na: usize, nbs: &[Vec<u32>], k: usize) -> Vec<f64> {
    let nf = y.len() as f64;
    let sum: f64 = y.iter().sum();
    let sum_sq: f64 = y.iter().map(|v| v * v).sum();
    let mean = sum / nf;
    let var = sum_sq / nf - mean * mean;
    let ratio = var / (mean * mean);
    let mut z = vec![0.0; y.len()];
    z.par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
        for (o, zb) in out.iter_mut().enumerate() {
            let b = c * CHUNK + o;
            let (t, a) = (b / na, b % na);
            let nb = &nbs[a];
            let s0 = t.saturating_sub(k);
            let mut lag = 0.0;
            let mut card = 0.0;
            for s in s0..=t {
                let slice = &y[s * na..(s + 1) * na];
                for &j in nb {
                    lag += slice[j as usize];
                    card += 1.0;
                }
            }
            let g = lag / sum;
            let e = card / nf;
            let v = card * (nf - card) / (nf - 1.0) * (1.0 / (nf * nf)) * ratio;
            *zb = (g - e) / v.sqrt();
        }
    });
    z
}

/// Classifies one location from its per-step hot/cold classes (in time order) and the
/// Mann–Kendall test on its Gi\* z-scores, with trends significant when `p ≤
/// trend_alpha`.
///
/// With `T` steps, `H` hot steps and `C` cold steps, "at least 90 percent" means
/// `10·H ≥ 9·T` (integer arithmetic, so exactly 90 % counts), and the *final run* is
/// the longest block of consecutive hot steps ending at the final step. The hot spot
/// patterns (ArcGIS's wording, then the exact rule):
///
/// - **New**: hot in the final step and never hot before. Rule: final step hot, `H = 1`,
///   `C = 0`, fewer than 90 % hot.
/// - **Consecutive**: a single uninterrupted run of at least two hot steps at the end,
///   never hot before that run, fewer than 90 % of steps hot. Rule: final run `= H ≥ 2`,
///   `C = 0`, `10·H < 9·T`.
/// - **Intensifying**: hot in at least 90 % of the steps including the final one, and
///   the clustering intensifies significantly. Rule: final step hot, `10·H ≥ 9·T`,
///   trend `z > 0` with `p ≤ trend_alpha`.
/// - **Persistent**: hot in at least 90 % of the steps with no significant trend. Rule:
///   final step hot, `10·H ≥ 9·T`, trend `p > trend_alpha`.
/// - **Diminishing**: hot in at least 90 % of the steps including the final one, and the
///   clustering weakens significantly. Rule: final step hot, `10·H ≥ 9·T`, trend
///   `z < 0` with `p ≤ trend_alpha`.
/// - **Sporadic**: hot in the final step, on-again off-again before, fewer than 90 % of
///   steps hot and never cold. Rule: final step hot, `10·H < 9·T`, `C = 0`, some hot
///   step before the final run.
/// - **Oscillating**: hot in the final step, cold in some earlier step, fewer than 90 %
///   of steps hot. Rule: final step hot, `10·H < 9·T`, `C ≥ 1`.
/// - **Historical**: not hot in the final step, but hot in at least 90 % of the steps.
///   Rule: final step not cold and not hot, `10·H ≥ 9·T`.
///
/// The cold spot patterns mirror these with hot and cold swapped; "intensifying" then
/// means the z-scores fall (colder), "diminishing" that they rise. Everything else is
/// **No pattern detected**.
///
/// Where ArcGIS's sentences overlap, the final step decides (the patterns describe
/// where a location stands now): a location hot in the final step with an earlier cold
/// step is oscillating rather than new or consecutive (as sfdep rules too), and one
/// cold in the final step after 90 % hot steps is an oscillating cold spot, not a
/// historical hot spot. Persistent does not say "including the final time step", but a
/// location not hot in the final step is historical, so persistent needs it too.
pub fn classify(steps: &[BinClass], z_trend: &MannKendall, trend_alpha: f64) -> Pattern {
    let Some(&last) = steps.last() else {
        return Pattern::NoPattern;
    };
    let trend = z_trend.trend(trend_alpha);
    let hot = classify_side(
        steps,
        BinClass::Hot,
        BinClass::Cold,
        last,
        trend,
        Trend::Increasing,
    );
    if hot != Side::None {
        return hot.pattern(true);
    }
    classify_side(
        steps,
        BinClass::Cold,
        BinClass::Hot,
        last,
        trend,
        Trend::Decreasing,
    )
    .pattern(false)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    None,
    New,
    Consecutive,
    Intensifying,
    Persistent,
    Diminishing,
    Sporadic,
    Oscillating,
    Historical,
}

impl Side {
    fn pattern(self, hot: bool) -> Pattern {
        use Pattern as P;
        match (self, hot) {
            (Side::None, _) => P::NoPattern,
            (Side::New, true) => P::NewHotSpot,
            (Side::Consecutive, true) => P::ConsecutiveHotSpot,
            (Side::Intensifying, true) => P::IntensifyingHotSpot,
            (Side::Persistent, true) => P::PersistentHotSpot,
            (Side::Diminishing, true) => P::DiminishingHotSpot,
            (Side::Sporadic, true) => P::SporadicHotSpot,
            (Side::Oscillating, true) => P::OscillatingHotSpot,
            (Side::Historical, true) => P::HistoricalHotSpot,
            (Side::New, false) => P::NewColdSpot,
            (Side::Consecutive, false) => P::ConsecutiveColdSpot,
            (Side::Intensifying, false) => P::IntensifyingColdSpot,
            (Side::Persistent, false) => P::PersistentColdSpot,
            (Side::Diminishing, false) => P::DiminishingColdSpot,
            (Side::Sporadic, false) => P::SporadicColdSpot,
            (Side::Oscillating, false) => P::OscillatingColdSpot,
            (Side::Historical, false) => P::HistoricalColdSpot,
        }
    }
}

/// One side's rules: `this` is the state being classified (hot or cold), `other` the
/// opposite one, `intensifying` the trend direction that strengthens `this`.
fn classify_side(
    steps: &[BinClass],
    this: BinClass,
    other: BinClass,
    last: BinClass,
    trend: Trend,
    intensifying: Trend,
) -> Side {
    let t = steps.len();
    let n_this = steps.iter().filter(|&&c| c == this).count();
    let n_other = steps.iter().filter(|&&c| c == other).count();
    let at_least_90 = 10 * n_this >= 9 * t;
    if last == this {
        if at_least_90 {
            return if trend == Trend::NoTrend {
                Side::Persistent
            } else if trend == intensifying {
                Side::Intensifying
            } else {
                Side::Diminishing
            };
        }
        if n_other > 0 {
            return Side::Oscillating;
        }
        let final_run = steps.iter().rev().take_while(|&&c| c == this).count();
        if final_run < n_this {
            Side::Sporadic
        } else if final_run == 1 {
            Side::New
        } else {
            Side::Consecutive
        }
    } else if last == BinClass::NotSignificant && at_least_90 {
        Side::Historical
    } else {
        Side::None
    }
}

//! Kernel density estimation of events onto a masked grid, with fixed or adaptive
//! (Abramson square-root law) bandwidths.
//!
//! A kernel density surface spreads each event's weight over the area around it, so
//! that hot spots read as smooth peaks rather than as the accidents of cell boundaries.
//! Analysts expect the quartic (biweight) kernel that CrimeStat and ArcGIS use, with the
//! surface in events per square kilometre; the Gaussian kernel is offered for
//! comparison with statistical software.
//!
//! References:
//! - Silverman, B. W. (1986). *Density Estimation for Statistics and Data Analysis*.
//!   Chapman & Hall, London. §4.2 (quartic / biweight kernel), §5.3 (adaptive kernels).
//! - Abramson, I. S. (1982). On bandwidth variation in kernel estimates — a square root
//!   law. *The Annals of Statistics* 10(4), 1217–1223.
//! - Levine, N. (2015). *CrimeStat IV: A Spatial Statistics Program for the Analysis of
//!   Crime Incident Locations*, ch. 10 (quartic kernel `3/(π h²)·(1 − d²/h²)²`).
//! - Esri. *How Kernel Density works* (ArcGIS Pro 3 documentation): the same quartic
//!   kernel and the default search radius used by [`default_bandwidth`].
//!
//! # Algorithm
//!
//! The density at a cell centre `s` is `f(s) = Σ_i w_i · K_{h_i}(‖s − x_i‖)` with
//!
//! - quartic: `K_h(d) = 3/(π h²) · (1 − d²/h²)²` for `d < h`, else 0;
//! - Gaussian: `K_h(d) = 1/(2π h²) · exp(−d²/(2h²))` for `d ≤ c·h` (`c` = `cutoff`,
//!   default 4), else 0. `h` is the standard deviation of each coordinate.
//!
//! Both kernels integrate to 1 over the plane (the Gaussian to `1 − exp(−c²/2)`, i.e.
//! `1 − 3.4·10⁻⁴` at `c = 4`), so `f` integrates to `Σ w_i` (the number of events when
//! unweighted). The result is reported per square kilometre (`f · 10⁶` for metres).
//!
//! With a fixed bandwidth every `h_i = h`. With Abramson's adaptive bandwidth, a pilot
//! estimate `f̃` with fixed bandwidth `h_p` is evaluated at every event, and
//! `h_i = h · λ_i`, `λ_i = (f̃(x_i) / g)^(−1/2)`, where `g` is the geometric mean of the
//! `f̃(x_i)` (weighted by `w_i` when weights are given). Dense areas get narrower
//! kernels and sparse areas wider ones.
//!
//! The computation is a scatter: each event visits only the cell centres within its
//! kernel's support. Grid rows are processed in bands in parallel (rayon); each band
//! adds its events in input order, so every cell sums its contributions in the same
//! order whatever the number of threads, and the result is identical bit for bit.
//!
//! # Notes
//!
//! Cost is `O(n · (R / cell)²)` kernel evaluations for support radius `R` (`h` for the
//! quartic, `c·h` for the Gaussian), plus `O(n · k)` for the adaptive pilot, where `k`
//! is the mean number of events within the pilot's support.

use rayon::prelude::*;

use crate::grid::MaskedGrid;

/// Square metres per square kilometre: the surface is reported per km².
const M2_PER_KM2: f64 = 1.0e6;

/// Rows per parallel band. Only performance depends on it, never the result.
const BAND_ROWS: u32 = 8;

/// The kernel function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kernel {
    /// The quartic (biweight) kernel `3/(π h²)·(1 − d²/h²)²` for `d < h`: the kernel of
    /// CrimeStat and ArcGIS Kernel Density. `h` is the search radius.
    Quartic,
    /// The Gaussian kernel `1/(2π h²)·exp(−d²/2h²)`, truncated at `cutoff · h` (events
    /// farther away contribute nothing). `h` is the standard deviation per axis.
    Gaussian {
        /// Truncation radius in bandwidths; the mass dropped per event is
        /// `exp(−cutoff²/2)` (3.4·10⁻⁴ at 4).
        cutoff: f64,
    },
}

impl Kernel {
    /// The Gaussian kernel with the default truncation at 4 bandwidths.
    pub const GAUSSIAN: Kernel = Kernel::Gaussian { cutoff: 4.0 };

    /// The radius beyond which the kernel is zero, for bandwidth `h`.
    pub fn support(&self, h: f64) -> f64 {
        match *self {
            Kernel::Quartic => h,
            Kernel::Gaussian { cutoff } => cutoff * h,
        }
    }

    /// The kernel's value per square unit at squared distance `d2` for bandwidth `h`.
    pub fn value(&self, d2: f64, h: f64) -> f64 {
        let h2 = h * h;
        match *self {
            Kernel::Quartic => {
                if d2 < h2 {
                    let u = 1.0 - d2 / h2;
                    3.0 / (std::f64::consts::PI * h2) * u * u
                } else {
                    0.0
                }
            }
            Kernel::Gaussian { cutoff } => {
                if d2 <= cutoff * cutoff * h2 {
                    (-0.5 * d2 / h2).exp() / (2.0 * std::f64::consts::PI * h2)
                } else {
                    0.0
                }
            }
        }
    }
}

/// How the bandwidth is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bandwidth {
    /// One bandwidth in metres for every event.
    Fixed(f64),
    /// Abramson's square-root law: a pilot estimate with fixed bandwidth `pilot`
    /// (metres) gives each event `h_i = global · (f̃(x_i)/g)^(−1/2)`. Use the same value
    /// for both unless there is a reason not to.
    Adaptive { pilot: f64, global: f64 },
}

/// Kernel density settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KdeConfig {
    pub kernel: Kernel,
    pub bandwidth: Bandwidth,
}

/// Why a density cannot be computed.
#[derive(Debug, Clone, PartialEq)]
pub enum KdeError {
    /// A bandwidth is not a positive finite number of metres.
    BadBandwidth(f64),
    /// The Gaussian cutoff is not a positive finite number of bandwidths.
    BadCutoff(f64),
    /// The weights do not match the points one to one.
    WeightCount { points: usize, weights: usize },
    /// A weight is negative or not finite.
    BadWeight { index: usize, weight: f64 },
    /// A point has a coordinate that is not finite.
    BadPoint { index: usize },
}

impl std::fmt::Display for KdeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KdeError::BadBandwidth(h) => write!(
                f,
                "bandwidth {h} is not a positive number of metres: pass e.g. --bandwidth 300"
            ),
            KdeError::BadCutoff(c) => {
                write!(
                    f,
                    "gaussian cutoff {c} is not a positive number of bandwidths"
                )
            }
            KdeError::WeightCount { points, weights } => write!(
                f,
                "{weights} weights were given for {points} points: give one weight per point"
            ),
            KdeError::BadWeight { index, weight } => write!(
                f,
                "weight {weight} of point {index} is negative or not finite: weights must be zero or more"
            ),
            KdeError::BadPoint { index } => {
                write!(f, "point {index} has a coordinate that is not finite")
            }
        }
    }
}

impl std::error::Error for KdeError {}

fn check_bandwidth(h: f64) -> Result<(), KdeError> {
    if h.is_finite() && h > 0.0 {
        Ok(())
    } else {
        Err(KdeError::BadBandwidth(h))
    }
}

fn check_inputs(
    points: &[(f64, f64)],
    weights: Option<&[f64]>,
    kernel: Kernel,
) -> Result<(), KdeError> {
    if let Kernel::Gaussian { cutoff } = kernel
        && !(cutoff.is_finite() && cutoff > 0.0)
    {
        return Err(KdeError::BadCutoff(cutoff));
    }
    if let Some(index) = points
        .iter()
        .position(|&(x, y)| !(x.is_finite() && y.is_finite()))
    {
        return Err(KdeError::BadPoint { index });
    }
    if let Some(w) = weights {
        if w.len() != points.len() {
            return Err(KdeError::WeightCount {
                points: points.len(),
                weights: w.len(),
            });
        }
        if let Some(index) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(KdeError::BadWeight {
                index,
                weight: w[index],
            });
        }
    }
    Ok(())
}

/// The density surface in events (or weight units) per square kilometre at the centre
/// of every masked cell, in the mask's index order.
///
/// # Parameters
///
/// - `points`: event locations in the grid's metric CRS (metres).
/// - `weights`: optional non-negative weight per event (e.g. harm); `None` counts each
///   event once.
/// - `grid`: the cells to evaluate.
/// - `cfg`: kernel and bandwidth.
///
/// # Returns
///
/// One density per masked cell. Summed over all cells of a grid that covers the
/// events' supports, `density · cell area / 10⁶ ≈ Σ w_i`.
///
/// # Examples
///
/// ```
/// use sl_analytics::grid::{Grid, MaskedGrid};
/// use sl_analytics::kde::{kde_grid, Bandwidth, KdeConfig, Kernel};
///
/// let grid = MaskedGrid::all(Grid::covering([0.0, 0.0, 999.0, 999.0], 100.0).unwrap());
/// let cfg = KdeConfig { kernel: Kernel::Quartic, bandwidth: Bandwidth::Fixed(300.0) };
/// let d = kde_grid(&[(450.0, 450.0)], None, &grid, &cfg).unwrap();
/// // At the event itself: 3/(π·0.3²) events per km².
/// let at = grid.index_of(4, 4).unwrap();
/// assert!((d[at] - 3.0 / (std::f64::consts::PI * 0.09)).abs() < 1e-9);
/// ```
pub fn kde_grid(
    points: &[(f64, f64)],
    weights: Option<&[f64]>,
    grid: &MaskedGrid,
    cfg: &KdeConfig,
) -> Result<Vec<f64>, KdeError> {
    check_inputs(points, weights, cfg.kernel)?;
    let bandwidths = match cfg.bandwidth {
        Bandwidth::Fixed(h) => {
            check_bandwidth(h)?;
            PerEvent::Same(h)
        }
        Bandwidth::Adaptive { pilot, global } => PerEvent::Each(adaptive_bandwidths(
            points, weights, cfg.kernel, pilot, global,
        )?),
    };
    Ok(scatter(points, weights, &bandwidths, grid, cfg.kernel))
}

/// Abramson's per-event bandwidths `h_i = global · (f̃(x_i)/g)^(−1/2)`.
///
/// `f̃` is the fixed-bandwidth (`pilot`) estimate with the same kernel and weights,
/// evaluated at each event (the event itself included, so `f̃(x_i) > 0` whenever
/// `w_i > 0`); `g = exp(Σ w_i ln f̃(x_i) / Σ w_i)` over the events with `w_i > 0`.
/// Events whose pilot density is zero (zero weight, no weighted neighbour) keep
/// `global`: they add nothing to the surface anyway.
///
/// # Notes
///
/// `O(n · k)` with `k` the mean number of events within the pilot's support, using a
/// bucket index of side equal to that support; parallel over events, each sum taken in
/// a fixed order.
pub fn adaptive_bandwidths(
    points: &[(f64, f64)],
    weights: Option<&[f64]>,
    kernel: Kernel,
    pilot: f64,
    global: f64,
) -> Result<Vec<f64>, KdeError> {
    check_inputs(points, weights, kernel)?;
    check_bandwidth(pilot)?;
    check_bandwidth(global)?;
    let pilot_density = density_at_points(points, weights, kernel, pilot);
    let weight = |i: usize| weights.map_or(1.0, |w| w[i]);
    let (mut sum_w, mut sum_log) = (0.0, 0.0);
    for (i, &f) in pilot_density.iter().enumerate() {
        let w = weight(i);
        if w > 0.0 && f > 0.0 {
            sum_w += w;
            sum_log += w * f.ln();
        }
    }
    if sum_w == 0.0 {
        return Ok(vec![global; points.len()]);
    }
    let log_g = sum_log / sum_w;
    Ok(pilot_density
        .iter()
        .map(|&f| {
            if f > 0.0 {
                global * (-0.5 * (f.ln() - log_g)).exp()
            } else {
                global
            }
        })
        .collect())
}

/// The fixed-bandwidth density (per square metre) at each event's own location.
fn density_at_points(
    points: &[(f64, f64)],
    weights: Option<&[f64]>,
    kernel: Kernel,
    h: f64,
) -> Vec<f64> {
    let r = kernel.support(h);
    let key = |x: f64, y: f64| ((x / r).floor() as i64, (y / r).floor() as i64);
    // Bucket index: events sorted by bucket, then by input order.
    let mut order: Vec<(i64, i64, usize)> = points
        .iter()
        .enumerate()
        .map(|(i, &(x, y))| {
            let (bx, by) = key(x, y);
            (bx, by, i)
        })
        .collect();
    order.sort_unstable();
    let mut buckets: std::collections::HashMap<(i64, i64), (usize, usize)> =
        std::collections::HashMap::new();
    let mut start = 0;
    while start < order.len() {
        let (bx, by, _) = order[start];
        let mut end = start + 1;
        while end < order.len() && order[end].0 == bx && order[end].1 == by {
            end += 1;
        }
        buckets.insert((bx, by), (start, end));
        start = end;
    }
    points
        .par_iter()
        .map(|&(x, y)| {
            let (bx, by) = key(x, y);
            let mut sum = 0.0;
            for dy in -1..=1 {
                for dx in -1..=1 {
                    if let Some(&(s, e)) = buckets.get(&(bx + dx, by + dy)) {
                        for &(_, _, j) in &order[s..e] {
                            let (xj, yj) = points[j];
                            let d2 = (x - xj) * (x - xj) + (y - yj) * (y - yj);
                            let w = weights.map_or(1.0, |w| w[j]);
                            sum += w * kernel.value(d2, h);
                        }
                    }
                }
            }
            sum
        })
        .collect()
}

enum PerEvent {
    Same(f64),
    Each(Vec<f64>),
}

impl PerEvent {
    fn get(&self, i: usize) -> f64 {
        match self {
            PerEvent::Same(h) => *h,
            PerEvent::Each(v) => v[i],
        }
    }
}

/// Adds every event's kernel to the cell centres within its support.
fn scatter(
    points: &[(f64, f64)],
    weights: Option<&[f64]>,
    bandwidths: &PerEvent,
    grid: &MaskedGrid,
    kernel: Kernel,
) -> Vec<f64> {
    let g = *grid.grid();
    let mut out = vec![0.0; grid.len()];
    if grid.is_empty() || points.is_empty() {
        return out;
    }
    let bands = g.rows.div_ceil(BAND_ROWS) as usize;
    let centre = |v: f64, origin: f64| (v - origin) / g.cell - 0.5;
    // Row range of the cell centres within the support of each event, and the events
    // touching each band in input order.
    let mut lists: Vec<Vec<u32>> = vec![Vec::new(); bands];
    for (i, &(_, y)) in points.iter().enumerate() {
        if weights.is_some_and(|w| w[i] == 0.0) {
            continue;
        }
        let r = kernel.support(bandwidths.get(i));
        let lo = centre(y - r, g.y0).ceil().max(0.0);
        let hi = centre(y + r, g.y0).floor().min(f64::from(g.rows) - 1.0);
        if lo > hi {
            continue;
        }
        for band in (lo as u32 / BAND_ROWS)..=(hi as u32 / BAND_ROWS) {
            lists[band as usize].push(i as u32);
        }
    }
    // The masked cells of a band of rows are a contiguous run of indices.
    let cells = grid.cells();
    let mut slices: Vec<(u32, usize, &mut [f64])> = Vec::with_capacity(bands);
    let mut rest: &mut [f64] = &mut out;
    let mut first = 0usize;
    for band in 0..bands as u32 {
        let end_row = ((band + 1) * BAND_ROWS).min(g.rows);
        let end = cells.partition_point(|&(r, _)| r < end_row);
        let (head, tail) = rest.split_at_mut(end - first);
        slices.push((band, first, head));
        rest = tail;
        first = end;
    }
    slices.into_par_iter().for_each(|(band, offset, slice)| {
        if slice.is_empty() {
            return;
        }
        let row_lo = band * BAND_ROWS;
        let row_hi = ((band + 1) * BAND_ROWS).min(g.rows) - 1;
        for &i in &lists[band as usize] {
            let i = i as usize;
            let (x, y) = points[i];
            let h = bandwidths.get(i);
            let w = weights.map_or(1.0, |w| w[i]);
            let r = kernel.support(h);
            let r2 = r * r;
            let lo = (centre(y - r, g.y0).ceil().max(f64::from(row_lo))) as u32;
            let hi = (centre(y + r, g.y0).floor().min(f64::from(row_hi))) as u32;
            for row in lo..=hi {
                let cy = g.y0 + (f64::from(row) + 0.5) * g.cell;
                let dy2 = (cy - y) * (cy - y);
                if dy2 > r2 {
                    continue;
                }
                let half = (r2 - dy2).sqrt();
                let c_lo = centre(x - half, g.x0).ceil().max(0.0);
                let c_hi = centre(x + half, g.x0).floor().min(f64::from(g.cols) - 1.0);
                if c_lo > c_hi {
                    continue;
                }
                for col in c_lo as u32..=c_hi as u32 {
                    if let Some(k) = grid.index_of(row, col) {
                        let cx = g.x0 + (f64::from(col) + 0.5) * g.cell;
                        let d2 = (cx - x) * (cx - x) + dy2;
                        slice[k - offset] += w * kernel.value(d2, h) * M2_PER_KM2;
                    }
                }
            }
        }
    });
    out
}

/// The default bandwidth (search radius) in metres: the rule ArcGIS Pro's Kernel Density
/// applies when no radius is given, a spatial variant of Silverman's rule of thumb
/// (Silverman 1986, eq. 3.31) that is robust to outliers:
///
/// `h = 0.9 · min(SD, √(1/ln 2) · D_m) · n^(−0.2)`
///
/// where `SD = √(Σ(x−x̄)²/n + Σ(y−ȳ)²/n)` is the standard distance, `D_m` the median
/// distance of the points from their mean centre, and `n` the number of points.
///
/// # Returns
///
/// `None` when there are fewer than two points or they all coincide (no spread).
///
/// # Notes
///
/// `O(n log n)` for the median.
pub fn default_bandwidth(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len();
    if n < 2
        || points
            .iter()
            .any(|&(x, y)| !(x.is_finite() && y.is_finite()))
    {
        return None;
    }
    let nf = n as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / nf;
    let my = points.iter().map(|p| p.1).sum::<f64>() / nf;
    let mut d2: Vec<f64> = points
        .iter()
        .map(|&(x, y)| (x - mx) * (x - mx) + (y - my) * (y - my))
        .collect();
    let sd = (d2.iter().sum::<f64>() / nf).sqrt();
    d2.sort_unstable_by(f64::total_cmp);
    let median = if n % 2 == 1 {
        d2[n / 2].sqrt()
    } else {
        0.5 * (d2[n / 2 - 1].sqrt() + d2[n / 2].sqrt())
    };
    let h = 0.9 * sd.min((1.0 / std::f64::consts::LN_2).sqrt() * median) * nf.powf(-0.2);
    (h > 0.0).then_some(h)
}

//! Classical hot-spot forecasters: the retrospective (kernel density) hot spot, the
//! prospective hot spot of Bowers, Johnson & Pease (2004), and a space-time kernel
//! density estimate with exponential time decay.
//!
//! All three lay a kernel over each past event and sum; they differ in how an event's
//! weight depends on its age. They are the baselines of the predictive-policing
//! literature and the reference implementations are open_cp's `retrohotspot`,
//! `prohotspot` and `kde` modules, which these reproduce (see the tests against
//! open_cp on a Philadelphia extract).
//!
//! References:
//! - Bowers, K. J., Johnson, S. D., & Pease, K. (2004). Prospective hot-spotting: the
//!   future of crime mapping? *British Journal of Criminology* 44(5), 641–658.
//!   doi:10.1093/bjc/azh036
//! - Johnson, S. D., Birks, D. J., McLaughlin, L., Bowers, K. J., & Pease, K. (2007).
//!   *Prospective crime mapping in operational context: final report*. Home Office
//!   Online Report 19/07.
//! - Chainey, S., Tompson, L., & Uhlig, S. (2008). The utility of hotspot mapping for
//!   predicting spatial patterns of crime. *Security Journal* 21(1–2), 4–28 (the
//!   retrospective quartic-kernel hot spot as a forecast, judged by PAI).
//! - Silverman, B. W. (1986). *Density Estimation for Statistics and Data Analysis*.
//!   Chapman & Hall (quartic and Gaussian kernels).
//! - QuantCrimAtLeeds (2018). open_cp (PredictCode), modules `retrohotspot`,
//!   `prohotspot`, `kde`, `predictors` (github.com/QuantCrimAtLeeds/PredictCode).
//!
//! # Algorithm
//!
//! Let `o` be the origin, `h` the space bandwidth (metres), and for a masked cell `c`
//! let `s_1 … s_{k²}` be the points of a regular `k × k` subgrid of the cell, at
//! fractions `(2j + 1)/(2k)`, `j = 0 … k−1`, of the cell side (`k = 1` is the cell
//! centre). This is open_cp's `samples = −k` setting.
//!
//! - [`Retrospective`]: the events with `t ≥ o − W` (window `W`, default all training
//!   events) each carry the quartic weight `q(d) = (1 − d²/h²)²` for `d ≤ h`, else 0;
//!   the raw score is `R(c) = (1/k²) Σ_s Σ_i q(‖s − x_i‖)` (open_cp `RetroHotSpotGrid`
//!   for `k = 1`, `RetroHotSpot` averaged on the subgrid for `k > 1`).
//! - [`Prospective`]: each event gets a whole number of time units
//!   `τ_i = ⌊(o − t_i)/u⌋` (`u` = 7 days: whole weeks) and a cell distance `δ_i(c)`
//!   between the cell holding the event and `c`, in cells (Chebyshev by default, so the
//!   eight neighbours are 1 away). The score is
//!   `P(c) = Σ_i [τ_i < T][δ_i < S] / ((1 + δ_i)(1 + τ_i))` with bandwidths `S` = 8
//!   cells and `T` = 8 units (open_cp `ProspectiveHotSpot` with `ClassicWeight`).
//! - [`SpaceTimeKde`]: events with `t ≥ o − W` get the time weight
//!   `w_i = exp(−(o − t_i)/θ)/θ` (`θ` days) and the density is
//!   `f(s) = Σ_i w_i K_h(‖s − x_i‖) / Σ_i w_i` with a normalised space kernel `K_h`
//!   (quartic or Gaussian, [`crate::kde::Kernel`]); the raw score is the subgrid mean
//!   `(1/k²) Σ_s f(s)` (open_cp `kde.KDE` with `ExponentialTimeKernel(θ)` and
//!   `GaussianFixedBandwidthProvider(h)` for the Gaussian).
//!
//! Expected counts. The retrospective and KDE surfaces are shapes, not rates. Their
//! forecasts scale the raw scores so that they sum, over the masked cells, to the
//! window's count in the mask times `horizon / W` (the historical rate of the window
//! spread by the smoothed surface), so the scores are expected counts over the horizon
//! and `expected_counts` is true; the factor is reported as the parameter `scale`
//! (raw = score / scale). The prospective score is a sum of unit-free weights: it is a
//! ranking, `expected_counts` is false.
//!
//! Computation is a gather: events are bucketed by grid cell (a counting sort that
//! keeps their time order) over the grid extended by the kernel's reach, and each
//! masked cell visits only the buckets within reach. Cells are processed in parallel
//! in fixed chunks (rayon); each cell sums its events in a fixed order, so results are
//! identical bit for bit whatever the number of threads. The prospective weight
//! factorises, `1/((1 + δ)(1 + τ)) = 1/(1 + δ) · 1/(1 + τ)`, so each bucket's time
//! factors are summed once and each cell sums `(2S − 1)²` bucket sums.
//!
//! # Notes
//!
//! With `m = ⌈reach / cell⌉` (reach `h` for the quartic, `cutoff·h` for the Gaussian,
//! `S − 1` cells for the prospective weight), the cost is `O(n)` to bucket plus
//! `O(C · (2m + 1)² + k² · Σ_c n_c)` where `C` is the number of masked cells and `n_c`
//! the number of events within reach of cell `c`; memory is one bucket index over the
//! extended grid. On ≈ 12k cells of 150 m and ≈ 5k events each model takes a few
//! milliseconds on two cores (bench `forecast_hotspot`).
//!
//! Differences from open_cp, all below 10⁻⁹ relative on the test extract: the order of
//! floating-point summation, and the Gaussian kernel, which Streetlight truncates at
//! `cutoff · h` (set a large cutoff to match open_cp's untruncated kernel). open_cp
//! counts events at the origin itself (`t ≤ o`); Streetlight's training never holds
//! them.

use rayon::prelude::*;

use super::{Event, Forecast, ForecastError, Forecaster, Training};
use crate::grid::{Grid, MaskedGrid};
use crate::kde::Kernel;

/// Masked cells per parallel chunk. Only performance depends on it, never the result.
const CHUNK: usize = 256;

/// Largest subgrid side `k` (k² points per cell).
pub const MAX_SUBGRID: u32 = 16;

/// Most buckets the extended grid may hold: a bandwidth this much larger than the grid
/// is a mistake (e.g. feet passed as cells).
const MAX_BUCKETS: u64 = 50_000_000;

/// The retrospective hot spot: a quartic kernel over the events of a trailing window,
/// ignoring their age.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retrospective {
    /// Quartic kernel radius in metres (default 200, open_cp's `Quartic` default).
    pub bandwidth: f64,
    /// Days before the origin that count; `None` (default) uses every training event.
    pub window: Option<f64>,
    /// Side `k` of the regular `k × k` subgrid averaged per cell (default 2; 1 is the
    /// cell centre).
    pub subgrid: u32,
}

impl Default for Retrospective {
    fn default() -> Self {
        Self {
            bandwidth: 200.0,
            window: None,
            subgrid: 2,
        }
    }
}

/// How the prospective weight measures the distance between two cells, in cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellDistance {
    /// `max(|Δrow|, |Δcol|)`: the eight neighbours are 1 away (open_cp's default
    /// `DistanceDiagonalsSame`).
    Chebyshev,
    /// `|Δrow| + |Δcol|`: diagonal neighbours are 2 away (`DistanceDiagonalsDifferent`).
    Manhattan,
    /// `√(Δrow² + Δcol²)` (`DistanceCircle`).
    Euclidean,
}

impl CellDistance {
    /// The distance between cells `(dr, dc)` apart.
    pub fn between(self, dr: i64, dc: i64) -> f64 {
        let (a, b) = (dr.unsigned_abs() as f64, dc.unsigned_abs() as f64);
        match self {
            CellDistance::Chebyshev => a.max(b),
            CellDistance::Manhattan => a + b,
            CellDistance::Euclidean => (a * a + b * b).sqrt(),
        }
    }

    fn code(self) -> f64 {
        match self {
            CellDistance::Chebyshev => 0.0,
            CellDistance::Manhattan => 1.0,
            CellDistance::Euclidean => 2.0,
        }
    }
}

/// The prospective hot spot of Bowers, Johnson & Pease (2004), as open_cp's
/// `ProspectiveHotSpot` with `ClassicWeight`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prospective {
    /// Cell distances at or beyond this get weight 0 (default 8 cells: the paper's
    /// 400 m on its 50 m grid; open_cp's default).
    pub space_bandwidth: u32,
    /// Whole time units at or beyond this get weight 0 (default 8 weeks ≈ the paper's
    /// two months; open_cp's default).
    pub time_bandwidth: u32,
    /// Length of the time unit in days (default 7: weeks).
    pub time_unit: f64,
    /// Cell distance (default Chebyshev).
    pub distance: CellDistance,
}

impl Default for Prospective {
    fn default() -> Self {
        Self {
            space_bandwidth: 8,
            time_bandwidth: 8,
            time_unit: 7.0,
            distance: CellDistance::Chebyshev,
        }
    }
}

/// The classic prospective weight `1/((1 + d)(1 + t))` when `d < space_bandwidth` and
/// `t < time_bandwidth`, else 0 (`d` in cells, `t` in whole time units).
pub fn classic_weight(d: f64, t: f64, space_bandwidth: f64, time_bandwidth: f64) -> f64 {
    if d < space_bandwidth && t < time_bandwidth {
        1.0 / ((1.0 + d) * (1.0 + t))
    } else {
        0.0
    }
}

/// A space-time kernel density: a space kernel weighted by an exponential decay in
/// time, as open_cp's `kde.KDE` with `ExponentialTimeKernel`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpaceTimeKde {
    /// Space kernel (default quartic, as the retrospective hot spot, so that the two
    /// differ only by the time decay).
    pub kernel: Kernel,
    /// Space bandwidth in metres: the quartic radius or the Gaussian standard
    /// deviation (default 200).
    pub bandwidth: f64,
    /// Time scale `θ` of the decay `exp(−Δt/θ)` in days (default 30).
    pub time_scale: f64,
    /// Days before the origin that count; `None` (default) uses every training event.
    pub window: Option<f64>,
    /// Side `k` of the regular `k × k` subgrid averaged per cell (default 2).
    pub subgrid: u32,
}

impl Default for SpaceTimeKde {
    fn default() -> Self {
        Self {
            kernel: Kernel::Quartic,
            bandwidth: 200.0,
            time_scale: 30.0,
            window: None,
            subgrid: 2,
        }
    }
}

fn bad(m: String) -> ForecastError {
    ForecastError::BadParameter(m)
}

fn check_positive(name: &str, v: f64) -> Result<(), ForecastError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(bad(format!("{name} {v} is not a positive number")))
    }
}

fn check_subgrid(k: u32) -> Result<(), ForecastError> {
    if (1..=MAX_SUBGRID).contains(&k) {
        Ok(())
    } else {
        Err(bad(format!(
            "subgrid {k} is not between 1 (cell centre) and {MAX_SUBGRID}"
        )))
    }
}

fn check_events(events: &[Event]) -> Result<(), ForecastError> {
    match events
        .iter()
        .position(|e| !(e.x.is_finite() && e.y.is_finite() && e.t.is_finite()))
    {
        Some(i) => Err(bad(format!(
            "training event {i} has a coordinate or time that is not finite"
        ))),
        None => Ok(()),
    }
}

/// The events of the trailing window `[origin − window, origin)` (all when `None`),
/// and the window's length in days (for `None`, from the first event to the origin).
fn window_events<'a>(t: &Training<'a>, window: Option<f64>) -> (&'a [Event], f64) {
    match window {
        Some(w) => {
            let from = t.events.partition_point(|e| e.t < t.origin - w);
            (&t.events[from..], w)
        }
        None => {
            let span = t.events.first().map_or(0.0, |e| t.origin - e.t);
            (t.events, span)
        }
    }
}

/// Events bucketed by grid cell over the grid extended by `margin` cells on each side,
/// in input order within each bucket (CSR layout).
struct Buckets {
    margin: i64,
    rows: i64,
    cols: i64,
    start: Vec<u32>,
    items: Vec<u32>,
}

impl Buckets {
    fn new(grid: &Grid, margin: i64, events: &[Event]) -> Result<Self, ForecastError> {
        let rows = i64::from(grid.rows) + 2 * margin;
        let cols = i64::from(grid.cols) + 2 * margin;
        let n = (rows as u64).saturating_mul(cols as u64);
        if n > MAX_BUCKETS {
            return Err(bad(format!(
                "the kernel reaches {margin} cells beyond the grid ({n} buckets): use a smaller bandwidth or a larger cell size"
            )));
        }
        let mut b = Buckets {
            margin,
            rows,
            cols,
            start: vec![0; n as usize + 1],
            items: Vec::new(),
        };
        let keys: Vec<Option<usize>> = events
            .iter()
            .map(|e| {
                let c = ((e.x - grid.x0) / grid.cell).floor();
                let r = ((e.y - grid.y0) / grid.cell).floor();
                b.key(r as i64, c as i64)
            })
            .collect();
        for k in keys.iter().flatten() {
            b.start[k + 1] += 1;
        }
        for i in 1..b.start.len() {
            b.start[i] += b.start[i - 1];
        }
        let mut fill = b.start.clone();
        b.items = vec![0; b.start[n as usize] as usize];
        for (i, k) in keys.iter().enumerate() {
            if let Some(k) = *k {
                b.items[fill[k] as usize] = i as u32;
                fill[k] += 1;
            }
        }
        Ok(b)
    }

    /// Bucket index of grid cell (row, col) (which may lie in the margin).
    fn key(&self, r: i64, c: i64) -> Option<usize> {
        let (rr, cc) = (r.saturating_add(self.margin), c.saturating_add(self.margin));
        ((0..self.rows).contains(&rr) && (0..self.cols).contains(&cc))
            .then(|| (rr * self.cols + cc) as usize)
    }

    /// The events of grid cell (row, col), empty outside the extended grid.
    fn get(&self, r: i64, c: i64) -> &[u32] {
        match self.key(r, c) {
            Some(k) => &self.items[self.start[k] as usize..self.start[k + 1] as usize],
            None => &[],
        }
    }
}

/// For every masked cell, the mean over its `k × k` subgrid of
/// `Σ_i w_i · kernel(d²)` over events within `reach` metres.
fn gather_points(
    grid: &MaskedGrid,
    events: &[Event],
    weights: &[f64],
    reach: f64,
    k: u32,
    kernel: impl Fn(f64) -> f64 + Sync,
) -> Result<Vec<f64>, ForecastError> {
    let g = *grid.grid();
    let m = (reach / g.cell).ceil() as i64;
    let buckets = Buckets::new(&g, m, events)?;
    let reach2 = reach * reach;
    let pat: Vec<f64> = (0..k)
        .map(|j| f64::from(2 * j + 1) / f64::from(2 * k))
        .collect();
    let ks = (k * k) as usize;
    let mut out = vec![0.0; grid.len()];
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(chunk, slice)| {
            let mut sx = vec![0.0; ks];
            let mut sy = vec![0.0; ks];
            let mut sums = vec![0.0; ks];
            for (j, v) in slice.iter_mut().enumerate() {
                let (row, col) = grid.cell(chunk * CHUNK + j);
                for (a, py) in pat.iter().enumerate() {
                    for (b, px) in pat.iter().enumerate() {
                        sx[a * k as usize + b] = (px + f64::from(col)) * g.cell + g.x0;
                        sy[a * k as usize + b] = (py + f64::from(row)) * g.cell + g.y0;
                    }
                }
                sums.iter_mut().for_each(|s| *s = 0.0);
                let (r, c) = (i64::from(row), i64::from(col));
                for br in r - m..=r + m {
                    for bc in c - m..=c + m {
                        for &i in buckets.get(br, bc) {
                            let e = &events[i as usize];
                            let w = weights[i as usize];
                            for p in 0..ks {
                                let dx = sx[p] - e.x;
                                let dy = sy[p] - e.y;
                                let d2 = dx * dx + dy * dy;
                                if d2 <= reach2 {
                                    sums[p] += w * kernel(d2);
                                }
                            }
                        }
                    }
                }
                *v = sums.iter().sum::<f64>() / ks as f64;
            }
        });
    Ok(out)
}

/// Scales raw scores to expected counts over the horizon: they sum to the window's
/// count in the mask times `horizon / span`. Returns the scores and the factor.
fn to_expected(
    raw: Vec<f64>,
    grid: &MaskedGrid,
    events: &[Event],
    horizon: f64,
    span: f64,
) -> (Vec<f64>, f64) {
    let inside = events
        .iter()
        .filter(|e| grid.index_of_point(e.x, e.y).is_some())
        .count() as f64;
    let total: f64 = raw.iter().sum();
    let scale = if total > 0.0 && span > 0.0 {
        inside * horizon / span / total
    } else {
        0.0
    };
    (raw.into_iter().map(|v| v * scale).collect(), scale)
}

fn check_horizon(t: &Training<'_>) -> Result<(), ForecastError> {
    check_positive("horizon (days)", t.horizon)?;
    if t.origin.is_finite() {
        Ok(())
    } else {
        Err(bad(format!("origin {} is not finite", t.origin)))
    }
}

impl Retrospective {
    /// The raw retrospective surface (open_cp's scale: sum of quartic weights
    /// `(1 − d²/h²)²`, averaged over the subgrid) for the given events.
    pub fn raw_scores(
        &self,
        grid: &MaskedGrid,
        events: &[Event],
    ) -> Result<Vec<f64>, ForecastError> {
        check_positive("retrospective bandwidth (metres)", self.bandwidth)?;
        check_subgrid(self.subgrid)?;
        check_events(events)?;
        let h2 = self.bandwidth * self.bandwidth;
        let ones = vec![1.0; events.len()];
        gather_points(grid, events, &ones, self.bandwidth, self.subgrid, |d2| {
            let u = 1.0 - d2 / h2;
            u * u
        })
    }
}

impl Forecaster for Retrospective {
    fn name(&self) -> String {
        "retrospective".into()
    }

    fn forecast(&self, t: &Training<'_>) -> Result<Forecast, ForecastError> {
        check_horizon(t)?;
        if let Some(w) = self.window {
            check_positive("retrospective window (days)", w)?;
        }
        let (events, span) = window_events(t, self.window);
        let raw = self.raw_scores(t.grid, events)?;
        let (scores, scale) = to_expected(raw, t.grid, events, t.horizon, span);
        Ok(Forecast {
            scores,
            expected_counts: true,
            parameters: vec![
                ("bandwidth_m".into(), self.bandwidth),
                ("window_days".into(), span),
                ("subgrid".into(), f64::from(self.subgrid)),
                ("events".into(), events.len() as f64),
                ("scale".into(), scale),
            ],
        })
    }
}

impl Prospective {
    /// The prospective scores at `origin` for the given events (all must be before
    /// `origin`).
    pub fn raw_scores(
        &self,
        grid: &MaskedGrid,
        events: &[Event],
        origin: f64,
    ) -> Result<Vec<f64>, ForecastError> {
        if self.space_bandwidth == 0 || self.time_bandwidth == 0 {
            return Err(bad(format!(
                "prospective bandwidths {} cells / {} time units must be at least 1",
                self.space_bandwidth, self.time_bandwidth
            )));
        }
        check_positive("prospective time unit (days)", self.time_unit)?;
        check_events(events)?;
        let sb = f64::from(self.space_bandwidth);
        let tb = f64::from(self.time_bandwidth);
        // Only events younger than T whole units can carry weight.
        let recent: Vec<(usize, f64)> = events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                let units = ((origin - e.t) / self.time_unit).floor();
                (units < tb).then_some((i, units))
            })
            .collect();
        let picked: Vec<Event> = recent.iter().map(|&(i, _)| events[i]).collect();
        let units: Vec<f64> = recent.iter().map(|&(_, u)| u).collect();
        let g = *grid.grid();
        let m = i64::from(self.space_bandwidth) - 1;
        let buckets = Buckets::new(&g, m, &picked)?;
        // The weight factorises, 1/((1 + δ)(1 + τ)) = 1/(1 + δ) · 1/(1 + τ): sum the
        // time factors per bucket (in event order) once, then weigh buckets by distance.
        let time_sums: Vec<f64> = buckets
            .start
            .windows(2)
            .map(|w| {
                buckets.items[w[0] as usize..w[1] as usize]
                    .iter()
                    .map(|&i| 1.0 / (1.0 + units[i as usize]))
                    .sum()
            })
            .collect();
        // Distance factors of the (2m + 1)² offsets, 0 at or beyond the bandwidth.
        let side = (2 * m + 1) as usize;
        let mut factor = vec![0.0; side * side];
        for dr in -m..=m {
            for dc in -m..=m {
                factor[(dr + m) as usize * side + (dc + m) as usize] =
                    classic_weight(self.distance.between(dr, dc), 0.0, sb, tb);
            }
        }
        let mut out = vec![0.0; grid.len()];
        out.par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(chunk, slice)| {
                for (j, v) in slice.iter_mut().enumerate() {
                    let (row, col) = grid.cell(chunk * CHUNK + j);
                    let (r, c) = (i64::from(row), i64::from(col));
                    let mut s = 0.0;
                    for (a, br) in (r - m..=r + m).enumerate() {
                        // Rows of the extended grid are contiguous from c − m to c + m.
                        let Some(k) = buckets.key(br, c - m) else {
                            continue;
                        };
                        let f = &factor[a * side..(a + 1) * side];
                        for (fk, ts) in f.iter().zip(&time_sums[k..k + side]) {
                            s += fk * ts;
                        }
                    }
                    *v = s;
                }
            });
        Ok(out)
    }
}

impl Forecaster for Prospective {
    fn name(&self) -> String {
        "prospective".into()
    }

    fn forecast(&self, t: &Training<'_>) -> Result<Forecast, ForecastError> {
        check_horizon(t)?;
        let scores = self.raw_scores(t.grid, t.events, t.origin)?;
        Ok(Forecast {
            scores,
            expected_counts: false,
            parameters: vec![
                (
                    "space_bandwidth_cells".into(),
                    f64::from(self.space_bandwidth),
                ),
                (
                    "time_bandwidth_units".into(),
                    f64::from(self.time_bandwidth),
                ),
                ("time_unit_days".into(), self.time_unit),
                ("distance".into(), self.distance.code()),
                ("cell_m".into(), t.grid.grid().cell),
            ],
        })
    }
}

impl SpaceTimeKde {
    /// The raw density (open_cp's scale: `Σ w_i K_h / Σ w_i` per square metre,
    /// averaged over the subgrid) at `origin` for the given events.
    pub fn raw_scores(
        &self,
        grid: &MaskedGrid,
        events: &[Event],
        origin: f64,
    ) -> Result<Vec<f64>, ForecastError> {
        check_positive("KDE bandwidth (metres)", self.bandwidth)?;
        check_positive("KDE time scale (days)", self.time_scale)?;
        check_subgrid(self.subgrid)?;
        check_events(events)?;
        if let Kernel::Gaussian { cutoff } = self.kernel {
            check_positive("KDE Gaussian cutoff (bandwidths)", cutoff)?;
        }
        let weights: Vec<f64> = events
            .iter()
            .map(|e| (-(origin - e.t) / self.time_scale).exp() / self.time_scale)
            .collect();
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return Ok(vec![0.0; grid.len()]);
        }
        let (kernel, h) = (self.kernel, self.bandwidth);
        let mut raw = gather_points(
            grid,
            events,
            &weights,
            kernel.support(h),
            self.subgrid,
            |d2| kernel.value(d2, h),
        )?;
        raw.iter_mut().for_each(|v| *v /= total);
        Ok(raw)
    }
}

impl Forecaster for SpaceTimeKde {
    fn name(&self) -> String {
        "stkde".into()
    }

    fn forecast(&self, t: &Training<'_>) -> Result<Forecast, ForecastError> {
        check_horizon(t)?;
        if let Some(w) = self.window {
            check_positive("KDE window (days)", w)?;
        }
        let (events, span) = window_events(t, self.window);
        let raw = self.raw_scores(t.grid, events, t.origin)?;
        let (scores, scale) = to_expected(raw, t.grid, events, t.horizon, span);
        let (kernel_code, cutoff) = match self.kernel {
            Kernel::Quartic => (0.0, 1.0),
            Kernel::Gaussian { cutoff } => (1.0, cutoff),
        };
        Ok(Forecast {
            scores,
            expected_counts: true,
            parameters: vec![
                ("kernel".into(), kernel_code),
                ("cutoff".into(), cutoff),
                ("bandwidth_m".into(), self.bandwidth),
                ("time_scale_days".into(), self.time_scale),
                ("window_days".into(), span),
                ("subgrid".into(), f64::from(self.subgrid)),
                ("events".into(), events.len() as f64),
                ("scale".into(), scale),
            ],
        })
    }
}

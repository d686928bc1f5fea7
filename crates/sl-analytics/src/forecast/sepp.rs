//! A continuous space-time self-exciting point process (SEPP) with a parametric,
//! ETAS-style triggering kernel and a declustered kernel background, fitted by
//! expectation–maximisation (stochastic declustering).
//!
//! The model is the parametric form of Mohler et al. (2011) used by Mohler (2014) and
//! Rosser & Cheng (2019): the conditional intensity (events per day per m²) is
//!
//! ```text
//! λ(x, y, t) = μ(x, y) + Σ_{t_i < t} θ · ω e^{−ω (t − t_i)} · N2(x − x_i, y − y_i; σ²)
//! N2(dx, dy; σ²) = exp(−(dx² + dy²) / (2σ²)) / (2πσ²)
//! ```
//!
//! with `θ` the expected number of direct offspring of an event, `ω` (per day) the
//! rate at which that excitation decays, `σ` (metres) its spatial spread, and the
//! background `μ` a fixed-bandwidth Gaussian kernel density of the events weighted by
//! their probabilities of being background events, as in the stochastic declustering
//! of Zhuang, Ogata & Vere-Jones (2002):
//!
//! ```text
//! μ(x, y) = (1 / T) Σ_k p_kk · N2(x − x_k, y − y_k; σ_b²)
//! ```
//!
//! over the training window `[T0, T1)` of length `T` (`T1` is the forecast origin).
//!
//! # Algorithm
//!
//! Each EM iteration (Mohler et al. 2011; Veen & Schoenberg 2008; Zhuang et al.
//! 2002):
//!
//! - **E-step.** With the current `θ, ω, σ` and background weights `p_kk`, for each
//!   event `j` the background intensity `μ_j = μ(x_j, y_j)` (the sum includes `k = j`,
//!   as the published estimator does), the triggering terms
//!   `g_ij = θ ω e^{−ω(t_j − t_i)} N2(x_j − x_i, y_j − y_i; σ²)` for `t_i < t_j`,
//!   `λ_j = μ_j + Σ_i g_ij`, and the branching probabilities `p_ij = g_ij / λ_j`
//!   (event `i` is `j`'s parent) and `p_jj = μ_j / λ_j` (`j` is a background event).
//! - **M-step** (maximises the expected complete-data log-likelihood
//!   `Σ_j Σ_i p_ij [ln θ + ln ω − ω Δt_ij + ln N2(d_ij; σ²)] − θ Σ_i (1 − e^{−ω τ_i})`,
//!   `τ_i = T1 − t_i`, plus the background terms). With `P = Σ_{i<j} p_ij`,
//!   `D = Σ p_ij (t_j − t_i)`, `S = Σ p_ij d_ij²`:
//!   - `σ² = S / (2P)` (the weighted maximum-likelihood variance of the parent–child
//!     displacements; Mohler 2014; Veen & Schoenberg 2008 for the EM argument);
//!   - with edge correction at the window end (default): `θ = P / Σ_i (1 − e^{−ω τ_i})`
//!     and `ω` solves `P · m(ω) = D`, where
//!     `m(ω) = 1/ω − Σ_i τ_i e^{−ω τ_i} / Σ_i (1 − e^{−ω τ_i})` is the mean delay of an
//!     offspring still inside the window (obtained by setting the two partial
//!     derivatives to zero and eliminating `θ`; the edge-corrected M-step of Veen &
//!     Schoenberg 2008, solved exactly rather than by one fixed-point step). `m`
//!     is solved by Newton's method on `ln ω`, safeguarded by bisection.
//!     When `P · m(0⁺) ≤ D` there is no interior maximum (offspring delays as long as
//!     the window): `ω` is set to its lower bound `10⁻³ / T`;
//!   - without edge correction: the closed forms `θ = P / n`, `ω = P / D` (Mohler
//!     2014; Reinhart 2018);
//!   - the background weights for the next E-step are the new `p_jj`
//!     (`μ` is re-estimated by the weighted KDE above).
//!
//! Iterations stop when `θ`, `ω` and `σ` all change by less than `tolerance`
//! (relative), or after `max_iterations` (the fit is then still returned, with
//! `converged = 0` in its parameters).
//!
//! **Cutoffs.** Pairs farther apart than `space_cutoff · σ` (triggering) or
//! `space_cutoff · σ_b` (background), or with `e^{−ω Δt} < time_tail`
//! (`Δt > −ln(time_tail) / ω`), are ignored: with the defaults (4 standard deviations,
//! `10⁻⁶`) the neglected kernel mass is `e^{−8} ≈ 3.4·10⁻⁴` in space and `10⁻⁶` in time.
//! Neighbours are found through a uniform bucket grid over the events (bucket side =
//! the cutoff radius, events in time order within a bucket, the time window found by
//! binary search), so an E-step costs `O(n · k)` for `k` neighbours per event instead of
//! `O(n²)`.
//!
//! **Forecast.** The expected count in cell `c` over `[T1, T1 + h)` integrates the
//! intensity given the training history:
//!
//! ```text
//! E[N_c] = (h / T) Σ_k p_kk ∫_c N2(· − x_k; σ_b²)
//!        + Σ_i θ (e^{−ω (T1 − t_i)} − e^{−ω (T1 + h − t_i)}) ∫_c N2(· − x_i; σ²)
//! ```
//!
//! The Gaussian's mass in a square cell is exact: it factorises into
//! `[Φ((x₁ − x_i)/σ) − Φ((x₀ − x_i)/σ)] · [Φ((y₁ − y_i)/σ) − Φ((y₀ − y_i)/σ)]`. Events
//! that will happen inside the horizon and their own offspring are not included
//! (the forecast is the history-conditional intensity integrated over the horizon, the
//! usual practice of Mohler et al. 2011 and open_cp); the first generation of
//! offspring of the horizon's own background events alone would add
//! `θ (1 − (1 − e^{−ωh}) / (ωh))` of the background part (≈ `θωh/2` for small `ωh`).
//!
//! # Notes
//!
//! - Time ties: an event can only trigger events strictly later (`t_i < t_j`); events
//!   recorded at the same instant cannot be each other's parents.
//! - No spatial edge correction: kernel mass falling outside the study area is lost
//!   (as in the cited papers), and the fitted `θ` counts offspring anywhere.
//! - Parents before the training window are not modelled; their offspring are absorbed
//!   into the background.
//! - The result is deterministic: the E-step runs in parallel over fixed chunks of
//!   events whose partial sums are added in chunk order, so it does not depend on the
//!   number of threads. No randomness is used.
//! - Complexity: per iteration `O(n (k_b + k_t))` with `k_b`, `k_t` the neighbours
//!   within the background and triggering cutoffs, plus `O(n)` per Newton step for `ω`
//!   (3–6 steps). Memory `O(n)` for the E-step (branching probabilities are summed,
//!   never stored), plus the background pairs' kernel values, which do not change
//!   between iterations and are computed once when there are at most 8 million
//!   (12 bytes each), else recomputed each iteration (same bits either way).
//!   The forecast costs `O(n (c_b + c_t)²)` for `c` cells across a kernel's support.
//!
//! # References
//!
//! - Mohler, G. O., Short, M. B., Brantingham, P. J., Schoenberg, F. P., & Tita, G. E.
//!   (2011). Self-exciting point process modeling of crime. *Journal of the American
//!   Statistical Association*, 106(493), 100–108.
//! - Mohler, G. (2014). Marked point process hotspot maps for homicide and gun crime
//!   prediction in Chicago. *International Journal of Forecasting*, 30(3), 491–497.
//! - Rosser, G., & Cheng, T. (2019). Improving the robustness and accuracy of crime
//!   prediction with the self-exciting point process through isotropic triggering.
//!   *Applied Spatial Analysis and Policy*, 12(1), 5–25.
//! - Zhuang, J., Ogata, Y., & Vere-Jones, D. (2002). Stochastic declustering of
//!   space-time earthquake occurrences. *Journal of the American Statistical
//!   Association*, 97(458), 369–380.
//! - Reinhart, A. (2018). A review of self-exciting spatio-temporal point processes and
//!   their applications. *Statistical Science*, 33(3), 299–318.
//! - Veen, A., & Schoenberg, F. P. (2008). Estimation of space–time branching process
//!   models in seismology using an EM-type algorithm. *Journal of the American
//!   Statistical Association*, 103(482), 614–624.

use rayon::prelude::*;

use super::{Event, Forecast, ForecastError, Forecaster, Training};
use crate::grid::MaskedGrid;

/// Events per parallel chunk of the E-step. Only performance depends on it.
const CHUNK: usize = 256;
/// At most this many safeguarded Newton steps on `ln ω` (bisection alone would need
/// ~60 over the bracket's ~25 orders of magnitude; Newton from the previous ω takes
/// 3–6).
const ROOT_STEPS: usize = 100;
/// Upper bound on ω, per day (a decay within ~10 seconds).
const OMEGA_MAX: f64 = 1e4;

/// Triggering parameters of the model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeppParams {
    /// Expected number of direct offspring per event.
    pub theta: f64,
    /// Decay rate of the excitation, per day (mean delay `1/ω` days).
    pub omega: f64,
    /// Spatial spread (standard deviation per axis) of offspring, metres.
    pub sigma: f64,
}

/// The continuous SEPP forecaster and its settings. [`Sepp::default`] gives the
/// defaults documented on each field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sepp {
    /// Background kernel bandwidth `σ_b`, metres (default 250: the scale of the
    /// long-run hot spots in the Philadelphia probe of PEERS.md, 150–400 m, and well
    /// above typical triggering ranges so that the background does not absorb
    /// near-repeats).
    pub background_bandwidth: f64,
    /// Starting values of the EM (default θ = 0.5, ω = 0.1 per day, σ = 50 m).
    pub initial: SeppParams,
    /// Pairs farther apart than this many kernel standard deviations are ignored
    /// (default 4).
    pub space_cutoff: f64,
    /// Pairs whose temporal kernel `e^{−ωΔt}` is below this are ignored (default 10⁻⁶).
    pub time_tail: f64,
    /// Stop when θ, ω, σ all change by less than this, relative (default 10⁻³: below
    /// the sampling error of the estimates, ≈ 10⁻² relative with thousands of events;
    /// 10⁻⁴ took a third more iterations for the same PAI, see METHODS.md).
    pub tolerance: f64,
    /// At most this many EM iterations (default 200).
    pub max_iterations: usize,
    /// Correct θ and ω for offspring falling after the window end (default true).
    pub edge_correction: bool,
    /// Training span in days (the window is `[origin − span, origin)`); `None` uses
    /// the first event's time as the window start (default `None`).
    pub span: Option<f64>,
    /// Fewer training events than this is an error (default 10).
    pub min_events: usize,
    /// Lower bound of the triggering spread σ, metres (default 50). Events geocoded to
    /// shared points (block or address centroids) make the likelihood unbounded as
    /// σ → 0: pairs at distance 0 get a kernel of `1/(2πσ²)`. The EM then shrinks σ
    /// towards 0 until the space cutoff holds only coincident pairs and the fit
    /// degenerates. The M-step takes the constrained maximiser `max(σ̂, min_sigma)`
    /// (its objective in σ is unimodal). 50 m was chosen on held-out years (St. Louis
    /// 2018, Philadelphia 2023 burglaries) by mean Poisson log-likelihood among 0, 5,
    /// 10, 25, 50, 75, 100 and 150 m; see METHODS.md.
    pub min_sigma: f64,
}

impl Default for Sepp {
    fn default() -> Self {
        Self {
            background_bandwidth: 250.0,
            initial: SeppParams {
                theta: 0.5,
                omega: 0.1,
                sigma: 50.0,
            },
            space_cutoff: 4.0,
            time_tail: 1e-6,
            tolerance: 1e-3,
            max_iterations: 200,
            edge_correction: true,
            span: None,
            min_events: 10,
            min_sigma: 50.0,
        }
    }
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct SeppFit {
    pub params: SeppParams,
    /// Probability that each training event is a background event (`p_jj`), in the
    /// order of the events (the weights of the background KDE).
    pub background_weights: Vec<f64>,
    /// Training window `[start, end)`, days.
    pub start: f64,
    pub end: f64,
    /// Log-likelihood at the parameters of the last E-step.
    pub log_likelihood: f64,
    pub iterations: usize,
    pub converged: bool,
}

/// What one E-step produces: the new background probabilities and the sufficient
/// statistics of the M-step.
#[derive(Debug, Clone, PartialEq)]
pub struct EStep {
    /// `p_jj` per event.
    pub background: Vec<f64>,
    /// `P = Σ_{i<j} p_ij`, expected number of triggered events.
    pub offspring: f64,
    /// `D = Σ p_ij (t_j − t_i)`.
    pub lag_sum: f64,
    /// `S = Σ p_ij d_ij²`.
    pub distance2_sum: f64,
    /// `Σ_j ln λ_j`.
    pub log_intensity_sum: f64,
}

/// At most this many background pairs are precomputed (12 bytes each: ≈ 100 MB);
/// beyond it their kernel values are recomputed at every iteration (same result).
const MAX_BACKGROUND_PAIRS: usize = 8_000_000;

/// Background kernel values `exp(−d²/2σ_b²)` per event `j` (CSR: `offsets[j]..offsets[j+1]`
/// into `k` (the other event) and `val`).
struct BgPairs {
    offsets: Vec<usize>,
    k: Vec<u32>,
    val: Vec<f64>,
}

#[derive(Default, Clone, Copy)]
struct Partial {
    p: f64,
    d: f64,
    s: f64,
    l: f64,
}

/// A uniform bucket grid over the events: bucket side `size`, events of a bucket in
/// index (= time) order.
struct Buckets {
    x0: f64,
    y0: f64,
    size: f64,
    nx: usize,
    ny: usize,
    start: Vec<u32>,
    /// The events in bucket order (copied for memory locality), with their index.
    pts: Vec<Pt>,
}

#[derive(Clone, Copy)]
struct Pt {
    x: f64,
    y: f64,
    t: f64,
    i: u32,
}

impl Buckets {
    fn new(events: &[Event], radius: f64) -> Self {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for e in events {
            x0 = x0.min(e.x);
            y0 = y0.min(e.y);
            x1 = x1.max(e.x);
            y1 = y1.max(e.y);
        }
        // Never more buckets than max(4n, 2^16): a tiny radius on a large area just
        // makes buckets larger than the radius (only the speed changes).
        let limit = (4 * events.len()).max(1 << 16) as f64;
        let mut size = radius.max(1e-9);
        while ((x1 - x0) / size + 1.0) * ((y1 - y0) / size + 1.0) > limit {
            size *= 2.0;
        }
        let nx = ((x1 - x0) / size) as usize + 1;
        let ny = ((y1 - y0) / size) as usize + 1;
        let key = |e: &Event| -> usize {
            let bx = (((e.x - x0) / size) as usize).min(nx - 1);
            let by = (((e.y - y0) / size) as usize).min(ny - 1);
            by * nx + bx
        };
        let mut start = vec![0u32; nx * ny + 1];
        for e in events {
            start[key(e) + 1] += 1;
        }
        for b in 0..nx * ny {
            start[b + 1] += start[b];
        }
        let mut fill: Vec<u32> = start[..nx * ny].to_vec();
        let mut pts = vec![
            Pt {
                x: 0.0,
                y: 0.0,
                t: 0.0,
                i: 0
            };
            events.len()
        ];
        for (i, e) in events.iter().enumerate() {
            let k = key(e);
            pts[fill[k] as usize] = Pt {
                x: e.x,
                y: e.y,
                t: e.t,
                i: i as u32,
            };
            fill[k] += 1;
        }
        Self {
            x0,
            y0,
            size,
            nx,
            ny,
            start,
            pts,
        }
    }

    /// Calls `f(from, to)` for the range of `pts` of each non-empty bucket within
    /// `radius` (a square) of `(x, y)`, in a fixed order.
    fn for_each_near(&self, x: f64, y: f64, radius: f64, mut f: impl FnMut(usize, usize)) {
        let span = |v: f64, v0: f64, n: usize| -> Option<(usize, usize)> {
            let lo = ((v - radius - v0) / self.size).floor();
            let hi = ((v + radius - v0) / self.size).floor();
            if hi < 0.0 || lo > (n - 1) as f64 {
                return None;
            }
            Some((lo.max(0.0) as usize, (hi as usize).min(n - 1)))
        };
        let (Some((bx0, bx1)), Some((by0, by1))) =
            (span(x, self.x0, self.nx), span(y, self.y0, self.ny))
        else {
            return;
        };
        for by in by0..=by1 {
            let row = by * self.nx;
            for bx in bx0..=bx1 {
                let s = self.start[row + bx] as usize;
                let e = self.start[row + bx + 1] as usize;
                if s < e {
                    f(s, e);
                }
            }
        }
    }
}

impl Sepp {
    fn check(&self) -> Result<(), ForecastError> {
        let pos = |v: f64| v.is_finite() && v > 0.0;
        let bad = |m: String| Err(ForecastError::BadParameter(m));
        if !pos(self.background_bandwidth) {
            return bad(format!(
                "SEPP background bandwidth {} is not a positive number of metres",
                self.background_bandwidth
            ));
        }
        let p = self.initial;
        if !(pos(p.theta) && pos(p.omega) && pos(p.sigma)) {
            return bad(format!(
                "SEPP starting values θ = {}, ω = {}, σ = {} must all be positive",
                p.theta, p.omega, p.sigma
            ));
        }
        if !(self.space_cutoff.is_finite() && self.space_cutoff >= 1.0) {
            return bad(format!(
                "SEPP space cutoff {} must be at least 1 standard deviation",
                self.space_cutoff
            ));
        }
        if !(self.time_tail > 0.0 && self.time_tail < 1.0) {
            return bad(format!(
                "SEPP time tail {} must be between 0 and 1",
                self.time_tail
            ));
        }
        if !pos(self.tolerance) || self.max_iterations == 0 {
            return bad("SEPP tolerance must be positive and max_iterations at least 1".into());
        }
        if let Some(s) = self.span
            && !pos(s)
        {
            return bad(format!("SEPP span {s} is not a positive number of days"));
        }
        if !(self.min_sigma.is_finite() && self.min_sigma >= 0.0) {
            return bad(format!(
                "SEPP minimum σ {} must be a non-negative number of metres",
                self.min_sigma
            ));
        }
        Ok(())
    }

    /// One E-step: branching probabilities under `params` and the background weights
    /// `background` (`p_kk` of the previous iteration) on the window of length `span`
    /// days. Events must be in time order.
    pub fn e_step(
        &self,
        events: &[Event],
        background: &[f64],
        span: f64,
        params: &SeppParams,
    ) -> EStep {
        let rb = self.space_cutoff * self.background_bandwidth;
        let bg_index = Buckets::new(events, rb);
        self.e_step_with(events, background, span, params, &bg_index, None)
    }

    /// The background kernel values of every pair within the background cutoff, in
    /// the order the E-step visits them (so both paths give the same bits), when they
    /// fit in [`MAX_BACKGROUND_PAIRS`]; they do not change between iterations.
    fn background_pairs(&self, events: &[Event], bg_index: &Buckets) -> Option<BgPairs> {
        let rb = self.space_cutoff * self.background_bandwidth;
        let bound: usize = events
            .iter()
            .map(|e| {
                let mut c = 0;
                bg_index.for_each_near(e.x, e.y, rb, |a, b| c += b - a);
                c
            })
            .sum();
        if bound > MAX_BACKGROUND_PAIRS {
            return None;
        }
        let inv_2var_b = 0.5 / (self.background_bandwidth * self.background_bandwidth);
        let rb2 = rb * rb;
        let parts: Vec<(Vec<u32>, Vec<u32>, Vec<f64>)> = events
            .par_chunks(CHUNK)
            .map(|chunk| {
                let (mut counts, mut ks, mut vals) = (Vec::new(), Vec::new(), Vec::new());
                for ej in chunk {
                    let before = ks.len();
                    bg_index.for_each_near(ej.x, ej.y, rb, |a, b| {
                        for k in &bg_index.pts[a..b] {
                            let d2 = (ej.x - k.x).powi(2) + (ej.y - k.y).powi(2);
                            if d2 <= rb2 {
                                ks.push(k.i);
                                vals.push((-d2 * inv_2var_b).exp());
                            }
                        }
                    });
                    counts.push((ks.len() - before) as u32);
                }
                (counts, ks, vals)
            })
            .collect();
        let mut offsets = Vec::with_capacity(events.len() + 1);
        offsets.push(0usize);
        let (mut k, mut val) = (Vec::new(), Vec::new());
        for (counts, ks, vals) in parts {
            for c in counts {
                let last = offsets[offsets.len() - 1];
                offsets.push(last + c as usize);
            }
            k.extend(ks);
            val.extend(vals);
        }
        Some(BgPairs { offsets, k, val })
    }

    fn e_step_with(
        &self,
        events: &[Event],
        background: &[f64],
        span: f64,
        params: &SeppParams,
        bg_index: &Buckets,
        pairs: Option<&BgPairs>,
    ) -> EStep {
        let n = events.len();
        let rb = self.space_cutoff * self.background_bandwidth;
        let rt = self.space_cutoff * params.sigma;
        let tcut = -self.time_tail.ln() / params.omega;
        let tr_index = Buckets::new(events, rt);
        let var_b = self.background_bandwidth * self.background_bandwidth;
        let var_t = params.sigma * params.sigma;
        let norm_b = 1.0 / (2.0 * std::f64::consts::PI * var_b * span);
        let norm_t = params.theta * params.omega / (2.0 * std::f64::consts::PI * var_t);
        let (inv_2var_b, inv_2var_t) = (0.5 / var_b, 0.5 / var_t);
        let bg_weight: Vec<f64> = if pairs.is_some() {
            Vec::new()
        } else {
            bg_index
                .pts
                .iter()
                .map(|p| background[p.i as usize])
                .collect()
        };
        let (rb2, rt2) = (rb * rb, rt * rt);
        let mut out = vec![0.0; n];
        let partials: Vec<Partial> = out
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                let mut acc = Partial::default();
                let mut terms: Vec<(f64, f64, f64)> = Vec::new();
                for (o, slot) in chunk.iter_mut().enumerate() {
                    let j = c * CHUNK + o;
                    let ej = events[j];
                    let mut mu = 0.0;
                    if let Some(bp) = pairs {
                        let (a, b) = (bp.offsets[j], bp.offsets[j + 1]);
                        for (&k, &v) in bp.k[a..b].iter().zip(&bp.val[a..b]) {
                            mu += background[k as usize] * v;
                        }
                    } else {
                        bg_index.for_each_near(ej.x, ej.y, rb, |a, b| {
                            for (k, w) in bg_index.pts[a..b].iter().zip(&bg_weight[a..b]) {
                                let d2 = (ej.x - k.x).powi(2) + (ej.y - k.y).powi(2);
                                if d2 <= rb2 {
                                    mu += w * (-d2 * inv_2var_b).exp();
                                }
                            }
                        });
                    }
                    mu *= norm_b;
                    terms.clear();
                    let mut trig = 0.0;
                    tr_index.for_each_near(ej.x, ej.y, rt, |a, b| {
                        let items = &tr_index.pts[a..b];
                        let from = items.partition_point(|p| p.t < ej.t - tcut);
                        for ei in &items[from..] {
                            if ei.t >= ej.t {
                                break;
                            }
                            let d2 = (ej.x - ei.x).powi(2) + (ej.y - ei.y).powi(2);
                            if d2 <= rt2 {
                                let dt = ej.t - ei.t;
                                let g = norm_t * (-params.omega * dt - d2 * inv_2var_t).exp();
                                trig += g;
                                terms.push((g, dt, d2));
                            }
                        }
                    });
                    let lambda = mu + trig;
                    if lambda > 0.0 && lambda.is_finite() {
                        *slot = mu / lambda;
                        acc.l += lambda.ln();
                        for &(g, dt, d2) in &terms {
                            let p = g / lambda;
                            acc.p += p;
                            acc.d += p * dt;
                            acc.s += p * d2;
                        }
                    } else {
                        // No background weight nearby and no parent: the event can only
                        // be (re)started as background.
                        *slot = 1.0;
                    }
                }
                acc
            })
            .collect();
        let mut total = Partial::default();
        for p in partials {
            total.p += p.p;
            total.d += p.d;
            total.s += p.s;
            total.l += p.l;
        }
        EStep {
            background: out,
            offspring: total.p,
            lag_sum: total.d,
            distance2_sum: total.s,
            log_intensity_sum: total.l,
        }
    }

    /// The M-step for θ and ω (see the module documentation): returns `(θ, ω)`.
    fn theta_omega(
        &self,
        e: &EStep,
        events: &[Event],
        end: f64,
        span: f64,
        current: f64,
    ) -> (f64, f64) {
        let (p, d) = (e.offspring, e.lag_sum);
        if !self.edge_correction {
            return (p / events.len() as f64, p / d);
        }
        // τ_i = end − t_i; m(ω) = 1/ω − Σ τ e^{−ωτ} / Σ (1 − e^{−ωτ}); returns
        // f(ω) = P m(ω) − D and f'(ω).
        let f = |w: f64| -> (f64, f64) {
            let (mut num, mut den, mut num2) = (0.0, 0.0, 0.0);
            for ev in events {
                let tau = end - ev.t;
                let ex = (-w * tau).exp();
                num += tau * ex;
                num2 += tau * tau * ex;
                den += -(-w * tau).exp_m1();
            }
            let m = 1.0 / w - num / den;
            let dm = -1.0 / (w * w) + (num2 * den + num * num) / (den * den);
            (p * m - d, p * dm)
        };
        let lo0 = 1e-3 / span;
        let omega = if f(lo0).0 <= 0.0 {
            lo0
        } else if f(OMEGA_MAX).0 >= 0.0 {
            OMEGA_MAX
        } else {
            // Newton's method on u = ln ω, safeguarded by bisection inside the bracket
            // [lo, hi] where f changes sign (f > 0 below the root).
            let (mut lo, mut hi) = (lo0.ln(), OMEGA_MAX.ln());
            let mut u = current.ln().clamp(lo, hi);
            for _ in 0..ROOT_STEPS {
                let w = u.exp();
                let (fv, dfv) = f(w);
                if fv > 0.0 {
                    lo = u;
                } else {
                    hi = u;
                }
                let mut next = u - fv / (dfv * w);
                if !(next > lo && next < hi) {
                    next = 0.5 * (lo + hi);
                }
                let step = (next - u).abs();
                u = next;
                if step < 1e-14 || hi - lo < 1e-14 {
                    break;
                }
            }
            u.exp()
        };
        let den: f64 = events
            .iter()
            .map(|ev| -(-omega * (end - ev.t)).exp_m1())
            .sum();
        (p / den, omega)
    }

    /// Fits the model by EM on `events` (time-ordered, all in `[start, end)`).
    pub fn fit(&self, events: &[Event], start: f64, end: f64) -> Result<SeppFit, ForecastError> {
        self.check()?;
        if events.len() < self.min_events.max(2) {
            return Err(ForecastError::TooFewEvents {
                needed: self.min_events.max(2),
                got: events.len(),
            });
        }
        let span = end - start;
        if !(span.is_finite() && span > 0.0) {
            return Err(ForecastError::BadParameter(format!(
                "SEPP training window [{start}, {end}) is empty"
            )));
        }
        if events.iter().any(|e| !(e.t >= start && e.t < end)) {
            return Err(ForecastError::BadParameter(format!(
                "SEPP training events must lie in the window [{start}, {end})"
            )));
        }
        if events.iter().any(|e| !(e.x.is_finite() && e.y.is_finite())) {
            return Err(ForecastError::BadParameter(
                "SEPP training events must have finite coordinates".into(),
            ));
        }
        let mut params = self.initial;
        let mut background = vec![(1.0 - params.theta).clamp(0.1, 1.0); events.len()];
        let bg_index = Buckets::new(events, self.space_cutoff * self.background_bandwidth);
        let bg_pairs = self.background_pairs(events, &bg_index);
        let mut iterations = 0;
        let mut converged = false;
        let mut log_likelihood = f64::NAN;
        while iterations < self.max_iterations {
            iterations += 1;
            let e = self.e_step_with(
                events,
                &background,
                span,
                &params,
                &bg_index,
                bg_pairs.as_ref(),
            );
            let compensator: f64 = background.iter().sum::<f64>()
                + params.theta
                    * events
                        .iter()
                        .map(|ev| -(-params.omega * (end - ev.t)).exp_m1())
                        .sum::<f64>();
            log_likelihood = e.log_intensity_sum - compensator;
            let next = if e.offspring > 0.0 && e.lag_sum > 0.0 && e.distance2_sum > 0.0 {
                let (theta, omega) = self.theta_omega(&e, events, end, span, params.omega);
                SeppParams {
                    theta,
                    omega,
                    sigma: (e.distance2_sum / (2.0 * e.offspring))
                        .sqrt()
                        .max(self.min_sigma),
                }
            } else {
                // No pair within the cutoffs: nothing is triggered.
                SeppParams {
                    theta: 0.0,
                    ..params
                }
            };
            if !(next.theta.is_finite() && next.omega.is_finite() && next.sigma.is_finite()) {
                return Err(ForecastError::NotConverged(format!(
                    "SEPP parameters became non-finite at iteration {iterations}: try another background bandwidth"
                )));
            }
            let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-300);
            let done = next.theta == 0.0
                || (rel(next.theta, params.theta) < self.tolerance
                    && rel(next.omega, params.omega) < self.tolerance
                    && rel(next.sigma, params.sigma) < self.tolerance);
            background = e.background;
            params = next;
            if done {
                converged = true;
                break;
            }
        }
        Ok(SeppFit {
            params,
            background_weights: background,
            start,
            end,
            log_likelihood,
            iterations,
            converged,
        })
    }

    /// Expected counts per masked cell over `[fit.end, fit.end + horizon)`.
    pub fn expected_counts(
        &self,
        fit: &SeppFit,
        events: &[Event],
        grid: &MaskedGrid,
        horizon: f64,
    ) -> Vec<f64> {
        let mut scores = vec![0.0; grid.len()];
        let span = fit.end - fit.start;
        let p = fit.params;
        for (e, &w) in events.iter().zip(&fit.background_weights) {
            let wb = horizon * w / span;
            if wb > 0.0 {
                scatter(
                    &mut scores,
                    grid,
                    e.x,
                    e.y,
                    self.background_bandwidth,
                    self.space_cutoff,
                    wb,
                );
            }
            let wt = p.theta
                * ((-p.omega * (fit.end - e.t)).exp()
                    - (-p.omega * (fit.end + horizon - e.t)).exp());
            if wt > 0.0 && p.sigma > 0.0 {
                scatter(&mut scores, grid, e.x, e.y, p.sigma, self.space_cutoff, wt);
            }
        }
        scores
    }
}

/// Adds `weight ×` the mass of `N2(· − (x, y); s²)` in each masked cell within
/// `cutoff · s` of the point (exact per cell: a product of normal CDF differences).
fn scatter(
    scores: &mut [f64],
    grid: &MaskedGrid,
    x: f64,
    y: f64,
    s: f64,
    cutoff: f64,
    weight: f64,
) {
    let g = grid.grid();
    let r = cutoff * s;
    let c0 = ((x - r - g.x0) / g.cell).floor().max(0.0);
    let c1 = ((x + r - g.x0) / g.cell)
        .floor()
        .min(f64::from(g.cols) - 1.0);
    let r0 = ((y - r - g.y0) / g.cell).floor().max(0.0);
    let r1 = ((y + r - g.y0) / g.cell)
        .floor()
        .min(f64::from(g.rows) - 1.0);
    if c1 < c0 || r1 < r0 {
        return;
    }
    let (c0, c1, r0, r1) = (c0 as u32, c1 as u32, r0 as u32, r1 as u32);
    let phi = |z: f64| 1.0 - crate::normal_upper_tail(z);
    let masses = |lo_edge: f64, first: u32, last: u32, v: f64| -> Vec<f64> {
        let mut prev = phi((lo_edge + f64::from(first) * g.cell - v) / s);
        (first..=last)
            .map(|k| {
                let next = phi((lo_edge + f64::from(k + 1) * g.cell - v) / s);
                let m = next - prev;
                prev = next;
                m
            })
            .collect()
    };
    let mx = masses(g.x0, c0, c1, x);
    let my = masses(g.y0, r0, r1, y);
    for (ri, row) in (r0..=r1).enumerate() {
        let wy = weight * my[ri];
        if wy == 0.0 {
            continue;
        }
        for (ci, col) in (c0..=c1).enumerate() {
            if let Some(i) = grid.index_of(row, col) {
                scores[i] += wy * mx[ci];
            }
        }
    }
}

impl Forecaster for Sepp {
    fn name(&self) -> String {
        "sepp".into()
    }

    fn forecast(&self, t: &Training<'_>) -> Result<Forecast, ForecastError> {
        if !(t.horizon.is_finite() && t.horizon > 0.0) {
            return Err(ForecastError::BadParameter(format!(
                "horizon {} is not a positive number of days",
                t.horizon
            )));
        }
        let sorted;
        let events: &[Event] = if t.events.windows(2).all(|w| w[0].t <= w[1].t) {
            t.events
        } else {
            let mut v = t.events.to_vec();
            v.sort_by(|a, b| a.t.total_cmp(&b.t));
            sorted = v;
            &sorted
        };
        let start = match self.span {
            Some(s) => t.origin - s,
            None => events.first().map_or(t.origin - 1.0, |e| e.t),
        };
        // A caller may pass a longer history than the span (an ensemble gives every
        // member the longest history any member asks for): the fit sees the window.
        let events = &events[events.partition_point(|e| e.t < start)..];
        let fit = self.fit(events, start, t.origin)?;
        let scores = self.expected_counts(&fit, events, t.grid, t.horizon);
        let p = fit.params;
        Ok(Forecast {
            scores,
            expected_counts: true,
            parameters: vec![
                ("theta".into(), p.theta),
                ("omega_per_day".into(), p.omega),
                ("sigma_m".into(), p.sigma),
                ("background_bandwidth_m".into(), self.background_bandwidth),
                (
                    "background_events".into(),
                    fit.background_weights.iter().sum(),
                ),
                ("span_days".into(), fit.end - fit.start),
                ("log_likelihood".into(), fit.log_likelihood),
                ("iterations".into(), fit.iterations as f64),
                ("converged".into(), if fit.converged { 1.0 } else { 0.0 }),
                ("space_cutoff_sd".into(), self.space_cutoff),
                ("time_tail".into(), self.time_tail),
            ],
        })
    }
}

//! Rolling-origin backtests: fit at each origin on the training window before it,
//! forecast the horizon after it, score against what happened.
//!
//! # Algorithm
//!
//! Origins are `start, start + step, …` (`origins` of them). At origin `o` the model
//! sees the events with `o − train ≤ t < o` (never one at or after `o`: see
//! [`super::Training`]) and scores every cell for `[o, o + horizon)`; the events in that
//! period, counted per cell, are the truth. Each origin is independent, so origins run
//! in parallel; origin `j` gets the seed `rng::stream(seed, j)`'s first draw, so results
//! do not depend on the number of threads.

use rayon::prelude::*;

use super::metrics::{Coverage, evaluate, poisson_log_likelihood, rank};
use super::{Event, Forecaster, Training, cell_counts};
use crate::grid::MaskedGrid;
use crate::rng;
use crate::rng::NextSeed as _;

/// Settings of a backtest. Times are in days on the events' time axis.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestConfig {
    pub start: f64,
    pub origins: usize,
    pub step: f64,
    pub train: f64,
    pub horizon: f64,
    /// Coverage levels as fractions of the study area (0.01 = 1%).
    pub coverages: Vec<f64>,
    pub seed: u64,
    /// Area of one cell and of the study area, same units (PAI's `a/A`).
    pub cell_area: f64,
    pub study_area: f64,
}

/// One origin's result.
#[derive(Debug, Clone, PartialEq)]
pub struct OriginResult {
    pub origin: f64,
    pub train_events: usize,
    pub test_events: usize,
    /// Per coverage level, in the order asked.
    pub coverage: Vec<Coverage>,
    /// Poisson log-likelihood of the period's counts (expected-count models only).
    pub log_likelihood: Option<f64>,
    pub parameters: Vec<(String, f64)>,
    /// The model's error at this origin, if it failed (the origin then has no
    /// measures).
    pub error: Option<String>,
}

/// Mean and standard error over origins of one coverage level's measures (origins
/// where a measure is undefined are left out of it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoverageSummary {
    pub coverage: f64,
    pub cells: usize,
    pub hit_rate: f64,
    pub pai: f64,
    pub pai_se: f64,
    pub pei_star: f64,
}

/// A model's backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelBacktest {
    pub name: String,
    pub origins: Vec<OriginResult>,
    pub summary: Vec<CoverageSummary>,
    /// Mean Poisson log-likelihood per origin (expected-count models only).
    pub mean_log_likelihood: Option<f64>,
}

fn mean_se(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return (m, f64::NAN);
    }
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

/// Backtests one model. `events` must be sorted by time.
pub fn backtest(
    events: &[Event],
    grid: &MaskedGrid,
    model: &dyn Forecaster,
    cfg: &BacktestConfig,
) -> ModelBacktest {
    debug_assert!(events.windows(2).all(|w| w[0].t <= w[1].t));
    let origins: Vec<OriginResult> = (0..cfg.origins)
        .into_par_iter()
        .map(|j| {
            let origin = cfg.start + j as f64 * cfg.step;
            let history = model.history().map_or(cfg.train, |h| h.max(cfg.train));
            let lo = events.partition_point(|e| e.t < origin - history);
            let hi = events.partition_point(|e| e.t < origin);
            let end = events.partition_point(|e| e.t < origin + cfg.horizon);
            let training = Training {
                events: &events[lo..hi],
                grid,
                origin,
                horizon: cfg.horizon,
                seed: rng::stream(cfg.seed, j as u64).next_u64_value(),
            };
            let actual = cell_counts(grid, &events[hi..end]);
            let test_events = actual.iter().sum::<f64>() as usize;
            match model.forecast(&training) {
                Ok(f) => {
                    let order = rank(&f.scores, training.seed);
                    OriginResult {
                        origin,
                        train_events: hi - lo,
                        test_events,
                        coverage: evaluate(
                            &order,
                            &actual,
                            &cfg.coverages,
                            cfg.cell_area,
                            cfg.study_area,
                        ),
                        log_likelihood: f
                            .expected_counts
                            .then(|| poisson_log_likelihood(&f.scores, &actual)),
                        parameters: f.parameters,
                        error: None,
                    }
                }
                Err(e) => OriginResult {
                    origin,
                    train_events: hi - lo,
                    test_events,
                    coverage: Vec::new(),
                    log_likelihood: None,
                    parameters: Vec::new(),
                    error: Some(e.to_string()),
                },
            }
        })
        .collect();
    let ok: Vec<&OriginResult> = origins.iter().filter(|o| o.error.is_none()).collect();
    let summary = cfg
        .coverages
        .iter()
        .enumerate()
        .map(|(k, &c)| {
            let (hit_rate, _) = mean_se(ok.iter().map(|o| o.coverage[k].hit_rate));
            let (pai, pai_se) = mean_se(ok.iter().map(|o| o.coverage[k].pai));
            let (pei_star, _) = mean_se(ok.iter().map(|o| o.coverage[k].pei_star));
            CoverageSummary {
                coverage: c,
                cells: ok.first().map_or(0, |o| o.coverage[k].cells),
                hit_rate,
                pai,
                pai_se,
                pei_star,
            }
        })
        .collect();
    let lls: Vec<f64> = ok.iter().filter_map(|o| o.log_likelihood).collect();
    ModelBacktest {
        name: model.name(),
        summary,
        mean_log_likelihood: (!lls.is_empty()).then(|| lls.iter().sum::<f64>() / lls.len() as f64),
        origins,
    }
}

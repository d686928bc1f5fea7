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
//!
//! [`backtest_units`] scores coarser units instead of the model's cells (H3 cells, a
//! city's districts): the model is fitted on the same events and grid exactly as in
//! [`backtest`], each cell's score is added to the unit its centre lies in, the units
//! are ranked by score per unit area (expected events per square metre for
//! expected-count models) and measured with [`super::metrics::evaluate_areas`] against
//! the events counted in each unit.

use rayon::prelude::*;

use super::metrics::{Coverage, evaluate, evaluate_areas, poisson_log_likelihood, rank};
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
    /// Area of one cell and of the study area, same units (PAI's `a/A`). Unit
    /// backtests use only the study area, and their coverage `c` flags units up to
    /// `c · study_area`.
    pub cell_area: f64,
    pub study_area: f64,
}

/// Scores of cells summed into `units` units, `cell_unit` giving each cell's unit;
/// cells in no unit and non-finite scores are left out. Expected counts stay expected
/// counts.
pub fn sum_into_units(cell_unit: &[Option<u32>], scores: &[f64], units: usize) -> Vec<f64> {
    let mut out = vec![0.0; units];
    for (u, &v) in cell_unit.iter().zip(scores) {
        if let Some(u) = u
            && v.is_finite()
        {
            out[*u as usize] += v;
        }
    }
    out
}

/// The coarser units a backtest scores ([`backtest_units`]).
#[derive(Debug, Clone, PartialEq)]
pub struct UnitScoring {
    /// The unit of each masked cell of the model's grid (`None`: its centre is in no
    /// unit, and its score counts nowhere).
    pub cell_unit: Vec<Option<u32>>,
    /// The unit of each event, parallel to the events given to the backtest (`None`:
    /// in no unit; such events are not part of any period's truth).
    pub event_unit: Vec<Option<u32>>,
    /// The area of each unit, in the units of [`BacktestConfig::study_area`].
    pub area: Vec<f64>,
}

impl UnitScoring {
    /// Number of units.
    pub fn len(&self) -> usize {
        self.area.len()
    }

    /// True when there is no unit.
    pub fn is_empty(&self) -> bool {
        self.area.is_empty()
    }

    /// Cell scores summed into the units ([`sum_into_units`]).
    pub fn sum_cells(&self, scores: &[f64]) -> Vec<f64> {
        sum_into_units(&self.cell_unit, scores, self.len())
    }

    /// Events per unit of `events`, which start at position `first` of the events the
    /// backtest was given.
    fn counts(&self, first: usize, events: usize) -> Vec<f64> {
        let mut c = vec![0.0; self.len()];
        for u in self.event_unit[first..first + events].iter().flatten() {
            c[*u as usize] += 1.0;
        }
        c
    }
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
    /// Cells flagged at the first origin that succeeded (the same at every origin on a
    /// grid; units of unequal areas may differ from origin to origin).
    pub cells: usize,
    /// Mean over origins of the cells (or units) flagged and of their area.
    pub mean_cells: f64,
    pub area: f64,
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
    run(events, grid, None, model, cfg)
}

/// Backtests one model on `units` instead of the grid's cells: fitted on `grid` exactly
/// as [`backtest`] does, its cell scores summed into the units, the units ranked by
/// score per unit area. `events` must be sorted by time, with `units.event_unit`
/// parallel to them.
pub fn backtest_units(
    events: &[Event],
    grid: &MaskedGrid,
    units: &UnitScoring,
    model: &dyn Forecaster,
    cfg: &BacktestConfig,
) -> ModelBacktest {
    assert_eq!(units.event_unit.len(), events.len(), "one unit per event");
    assert_eq!(units.cell_unit.len(), grid.len(), "one unit per cell");
    run(events, grid, Some(units), model, cfg)
}

fn run(
    events: &[Event],
    grid: &MaskedGrid,
    units: Option<&UnitScoring>,
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
            let actual = match units {
                None => cell_counts(grid, &events[hi..end]),
                Some(u) => u.counts(hi, end - hi),
            };
            let test_events = actual.iter().sum::<f64>() as usize;
            match model.forecast(&training) {
                Ok(f) => {
                    let (coverage, log_likelihood) = match units {
                        None => {
                            let order = rank(&f.scores, training.seed);
                            (
                                evaluate(
                                    &order,
                                    &actual,
                                    &cfg.coverages,
                                    cfg.cell_area,
                                    cfg.study_area,
                                ),
                                f.expected_counts
                                    .then(|| poisson_log_likelihood(&f.scores, &actual)),
                            )
                        }
                        Some(u) => {
                            let scores = u.sum_cells(&f.scores);
                            let density: Vec<f64> =
                                scores.iter().zip(&u.area).map(|(s, a)| s / a).collect();
                            let order = rank(&density, training.seed);
                            (
                                evaluate_areas(
                                    &order,
                                    &actual,
                                    &u.area,
                                    &cfg.coverages,
                                    cfg.study_area,
                                ),
                                f.expected_counts
                                    .then(|| poisson_log_likelihood(&scores, &actual)),
                            )
                        }
                    };
                    OriginResult {
                        origin,
                        train_events: hi - lo,
                        test_events,
                        coverage,
                        log_likelihood,
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
            let (mean_cells, _) = mean_se(ok.iter().map(|o| o.coverage[k].cells as f64));
            let (area, _) = mean_se(ok.iter().map(|o| o.coverage[k].area));
            CoverageSummary {
                coverage: c,
                cells: ok.first().map_or(0, |o| o.coverage[k].cells),
                mean_cells,
                area,
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

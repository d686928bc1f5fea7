//! Forecasting where risk is elevated: the [`Forecaster`] abstraction every model
//! implements, and the metrics ([`metrics`]) and rolling-origin backtests
//! ([`backtest`]) that judge them.
//!
//! Architecture invariant: a forecaster sees only [`Training::events`], which the
//! caller guarantees are strictly before [`Training::origin`] (the backtest harness
//! enforces it and a test checks it): no model can peek at the period it forecasts.

pub mod backtest;
pub mod ensemble;
pub mod etas_grid;
pub mod glm;
pub mod hotspot;
pub mod metrics;
pub mod naive;
pub mod sepp;

use crate::grid::MaskedGrid;

/// One past event as forecasters see it: local metres and time in days (fractional
/// days on any fixed origin, e.g. UTC seconds / 86,400).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    pub x: f64,
    pub y: f64,
    pub t: f64,
}

/// What a forecaster is given.
#[derive(Debug, Clone, Copy)]
pub struct Training<'a> {
    /// Events before `origin`, in time order (no event at or after `origin`).
    pub events: &'a [Event],
    /// The cells to score.
    pub grid: &'a MaskedGrid,
    /// Start of the forecast period, days.
    pub origin: f64,
    /// Length of the forecast period, days.
    pub horizon: f64,
    /// Seed for any randomness in fitting.
    pub seed: u64,
}

/// A forecast: one score per masked cell, and how it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// Score per masked cell, higher meaning more risk. When `expected_counts` is true
    /// the score is the expected number of events in the cell over the horizon (so
    /// proper scores such as the Poisson log-likelihood apply).
    pub scores: Vec<f64>,
    pub expected_counts: bool,
    /// Fitted or chosen parameters, name and value, stored with the forecast so it can
    /// be reproduced.
    pub parameters: Vec<(String, f64)>,
}

/// Why a forecast could not be made.
#[derive(Debug, Clone, PartialEq)]
pub enum ForecastError {
    /// Training holds too few events for this model.
    TooFewEvents { needed: usize, got: usize },
    /// A setting is out of range; the message names it.
    BadParameter(String),
    /// An iterative fit did not converge; the message says what to change.
    NotConverged(String),
}

impl std::fmt::Display for ForecastError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ForecastError::TooFewEvents { needed, got } => write!(
                f,
                "the training window holds {got} events, fewer than the {needed} this model needs: use a longer --train-days or another model"
            ),
            ForecastError::BadParameter(m) => write!(f, "{m}"),
            ForecastError::NotConverged(m) => write!(f, "the fit did not converge: {m}"),
        }
    }
}

impl std::error::Error for ForecastError {}

/// A forecasting model.
pub trait Forecaster: Sync {
    /// A short stable name, e.g. `naive`, `prospective`, `etas-grid`.
    fn name(&self) -> String;
    /// Fits on `training.events` and scores every cell of `training.grid` for
    /// `[origin, origin + horizon)`.
    fn forecast(&self, training: &Training<'_>) -> Result<Forecast, ForecastError>;
    /// Days of history the model wants before each origin when it needs more than the
    /// backtest's training window (the GLM's long half-lives); `None` takes the window.
    /// The harness gives the model the longer of the two; nothing after the origin.
    fn history(&self) -> Option<f64> {
        None
    }
}

/// Events per masked cell (events outside the mask are ignored).
pub fn cell_counts(grid: &MaskedGrid, events: &[Event]) -> Vec<f64> {
    let mut c = vec![0.0; grid.len()];
    for e in events {
        if let Some(i) = grid.index_of_point(e.x, e.y) {
            c[i] += 1.0;
        }
    }
    c
}

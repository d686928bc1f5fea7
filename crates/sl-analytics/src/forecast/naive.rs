//! Naive baselines every model must beat: counts in the most recent window, and the
//! long-run average of the whole training window.

use super::{Event, Forecast, ForecastError, Forecaster, Training, cell_counts};

/// Counts per cell in the last `window` days before the origin (the "naive" predictor
/// of the hot-spot literature, e.g. open_cp's `naive.CountingGridKernel`), scaled to
/// expected counts over the horizon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecentCounts {
    /// Days before the origin that count.
    pub window: f64,
}

/// The long-run average: every training event counts, scaled to expected counts over
/// the horizon (`count · horizon / training span`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoricalAverage {
    /// The training span in days the counts are divided by (the backtest's `train`).
    pub span: f64,
}

fn expected(grid_counts: Vec<f64>, horizon: f64, span: f64) -> Vec<f64> {
    grid_counts
        .into_iter()
        .map(|c| c * horizon / span)
        .collect()
}

impl Forecaster for RecentCounts {
    fn name(&self) -> String {
        "naive".into()
    }

    fn forecast(&self, t: &Training<'_>) -> Result<Forecast, ForecastError> {
        if !(self.window.is_finite() && self.window > 0.0) {
            return Err(ForecastError::BadParameter(format!(
                "naive window {} is not a positive number of days",
                self.window
            )));
        }
        let from = t
            .events
            .partition_point(|e: &Event| e.t < t.origin - self.window);
        let counts = cell_counts(t.grid, &t.events[from..]);
        Ok(Forecast {
            scores: expected(counts, t.horizon, self.window),
            expected_counts: true,
            parameters: vec![("window_days".into(), self.window)],
        })
    }
}

impl Forecaster for HistoricalAverage {
    fn name(&self) -> String {
        "historical".into()
    }

    fn forecast(&self, t: &Training<'_>) -> Result<Forecast, ForecastError> {
        if !(self.span.is_finite() && self.span > 0.0) {
            return Err(ForecastError::BadParameter(format!(
                "historical span {} is not a positive number of days",
                self.span
            )));
        }
        let counts = cell_counts(t.grid, t.events);
        Ok(Forecast {
            scores: expected(counts, t.horizon, self.span),
            expected_counts: true,
            parameters: vec![("span_days".into(), self.span)],
        })
    }
}

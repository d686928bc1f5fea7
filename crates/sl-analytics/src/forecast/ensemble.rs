//! An ensemble of forecasters weighted by how well each did on the periods just before
//! the origin.
//!
//! # Algorithm
//!
//! At an origin `o`, each member is backtested on the `V` periods before it: validation
//! origins `o − v·h` (`v = 1..V`, `h` the horizon), each fitted on the training events
//! before its own origin and scored on the events of `[o − v·h, o − (v−1)·h)` — all of
//! which are before `o`, so nothing from the forecast period is used. A member's weight
//! is its mean PAI at the chosen coverage over those periods, normalised over members
//! (members with no validation hits get weight 0; if none has any, the weights are
//! equal). Each member's forecast at `o` is normalised to sum to 1 over the cells and
//! the ensemble score is the weighted sum, rescaled by the members' weighted mean total
//! when every member forecasts expected counts (so the ensemble does too).
//!
//! Inside validation a member sees the training events that precede its validation
//! origin; its training window is therefore shortened by up to `V·h` days.
//!
//! # Notes
//!
//! Cost: `V + 1` fits per member per origin.

use super::metrics::{evaluate, rank};
use super::{Event, Forecast, ForecastError, Forecaster, Training, cell_counts};

/// A performance-weighted ensemble.
pub struct Ensemble {
    pub members: Vec<Box<dyn Forecaster>>,
    /// Validation periods before each origin.
    pub validation_periods: usize,
    /// Coverage (fraction of cells) at which validation PAI is measured.
    pub coverage: f64,
}

impl std::fmt::Debug for Ensemble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ensemble")
            .field(
                "members",
                &self.members.iter().map(|m| m.name()).collect::<Vec<_>>(),
            )
            .field("validation_periods", &self.validation_periods)
            .field("coverage", &self.coverage)
            .finish()
    }
}

impl Ensemble {
    /// Mean validation PAI of each member before `t.origin`.
    fn validation_pai(&self, t: &Training<'_>) -> Vec<f64> {
        self.members
            .iter()
            .map(|m| {
                let mut sum = 0.0;
                let mut n = 0usize;
                for v in 1..=self.validation_periods {
                    let o = t.origin - v as f64 * t.horizon;
                    let cut = t.events.partition_point(|e: &Event| e.t < o);
                    let end = t.events.partition_point(|e: &Event| e.t < o + t.horizon);
                    let actual = cell_counts(t.grid, &t.events[cut..end]);
                    if actual.iter().sum::<f64>() <= 0.0 {
                        continue;
                    }
                    let inner = Training {
                        events: &t.events[..cut],
                        origin: o,
                        ..*t
                    };
                    let Ok(f) = m.forecast(&inner) else { continue };
                    let order = rank(&f.scores, t.seed ^ v as u64);
                    let c = evaluate(&order, &actual, &[self.coverage], 1.0, t.grid.len() as f64);
                    if c[0].pai.is_finite() {
                        sum += c[0].pai;
                        n += 1;
                    }
                }
                if n == 0 { 0.0 } else { sum / n as f64 }
            })
            .collect()
    }
}

impl Forecaster for Ensemble {
    fn name(&self) -> String {
        "ensemble".into()
    }

    fn history(&self) -> Option<f64> {
        self.members
            .iter()
            .filter_map(|m| m.history())
            .reduce(f64::max)
    }

    fn forecast(&self, t: &Training<'_>) -> Result<Forecast, ForecastError> {
        if self.members.is_empty() {
            return Err(ForecastError::BadParameter(
                "an ensemble needs at least one member model".into(),
            ));
        }
        if !(self.coverage > 0.0 && self.coverage <= 1.0) {
            return Err(ForecastError::BadParameter(format!(
                "ensemble coverage {} is not a fraction in (0, 1]",
                self.coverage
            )));
        }
        let pai = self.validation_pai(t);
        let total: f64 = pai.iter().sum();
        let weights: Vec<f64> = if total > 0.0 {
            pai.iter().map(|p| p / total).collect()
        } else {
            vec![1.0 / pai.len() as f64; pai.len()]
        };
        let mut scores = vec![0.0; t.grid.len()];
        let mut all_counts = true;
        let mut mean_total = 0.0;
        let mut parameters = Vec::new();
        for ((m, &w), &p) in self.members.iter().zip(&weights).zip(&pai) {
            parameters.push((format!("weight_{}", m.name()), w));
            parameters.push((format!("validation_pai_{}", m.name()), p));
            if w == 0.0 {
                continue;
            }
            let f = m.forecast(t)?;
            all_counts &= f.expected_counts;
            let sum: f64 = f.scores.iter().filter(|s| s.is_finite()).sum();
            mean_total += w * sum;
            if sum > 0.0 {
                for (s, x) in scores.iter_mut().zip(&f.scores) {
                    if x.is_finite() {
                        *s += w * x / sum;
                    }
                }
            }
        }
        if all_counts {
            for s in &mut scores {
                *s *= mean_total;
            }
        }
        parameters.push(("validation_periods".into(), self.validation_periods as f64));
        parameters.push(("coverage".into(), self.coverage));
        Ok(Forecast {
            scores,
            expected_counts: all_counts,
            parameters,
        })
    }
}

//! Forecasts and backtests over stored events: turns a selection into the time-ordered
//! points forecasters take, runs rolling-origin backtests model by model (timing each),
//! and makes one forecast from a chosen origin. The models live in sl-analytics. Models
//! score the cells of a grid; forecasts and backtests for H3 cells or the boundary's
//! areas run them on a fine base grid and sum its cells into the units.

use std::time::Instant;

use sl_analytics::forecast::backtest::{
    BacktestConfig, ModelBacktest, UnitScoring, backtest, backtest_units, sum_into_units,
};
use sl_analytics::forecast::metrics::rank;
use sl_analytics::forecast::{Event, Forecast, Forecaster, Training};

use super::selection::EventSet;
use super::units::Units;
use crate::{EngineError, Result};

/// Seconds per day: forecasters work in days.
pub const DAY: f64 = 86_400.0;

/// The located events of a set as forecasting points in the grid's frame (time =
/// start of the occurrence window, in days since 1970-01-01 UTC), sorted by time.
pub fn forecast_events(set: &EventSet, units: &Units) -> Vec<Event> {
    let frame = units.frame();
    let mut events: Vec<Event> = set
        .located()
        .map(|e| {
            let (x, y) = frame.to_frame(e.x, e.y);
            Event {
                x,
                y,
                t: e.from as f64 / DAY,
            }
        })
        .collect();
    events.sort_by(|a, b| a.t.total_cmp(&b.t));
    events
}

/// A model's backtest with how long it took.
#[derive(Debug, Clone)]
pub struct TimedBacktest {
    pub result: ModelBacktest,
    /// Wall time of all origins together, seconds.
    pub seconds: f64,
}

fn grid_of(units: &Units) -> Result<&sl_analytics::grid::MaskedGrid> {
    units.grid().ok_or_else(|| {
        EngineError::Invalid(
            "the models run on grid cells: they need a grid (with --hex or --area-units boundary, the base grid of --base-cell-size)"
                .into(),
        )
    })
}

fn timed(run: impl FnOnce() -> ModelBacktest) -> TimedBacktest {
    let started = Instant::now();
    let result = run();
    TimedBacktest {
        result,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Backtests each model in turn on the same events, grid and origins.
pub fn run_backtests(
    set: &EventSet,
    units: &Units,
    models: &[Box<dyn Forecaster>],
    cfg: &BacktestConfig,
) -> Result<Vec<TimedBacktest>> {
    let grid = grid_of(units)?;
    let events = forecast_events(set, units);
    Ok(models
        .iter()
        .map(|m| timed(|| backtest(&events, grid, m.as_ref(), cfg)))
        .collect())
}

/// Backtests each model in turn on `target`'s units (H3 cells or the boundary's
/// features): every model is fitted on `base`'s grid with the same events and origins
/// as [`run_backtests`] would use, its cell scores are summed into the unit holding
/// each cell's centre, and the units are ranked by score per square metre and measured
/// by area (`cfg.study_area` in square metres). The period's events count in the unit
/// holding their own point.
pub fn run_unit_backtests(
    set: &EventSet,
    base: &Units,
    target: &Units,
    models: &[Box<dyn Forecaster>],
    cfg: &BacktestConfig,
) -> Result<Vec<TimedBacktest>> {
    let grid = grid_of(base)?;
    let cell_unit = cell_units(base, target)?;
    let frame = base.frame();
    let mut placed: Vec<(Event, Option<u32>)> = set
        .located()
        .map(|e| {
            let (x, y) = frame.to_frame(e.x, e.y);
            let unit = target.unit_of(set, e).map(|u| u as u32);
            let t = e.from as f64 / DAY;
            (Event { x, y, t }, unit)
        })
        .collect();
    // The same stable sort as `forecast_events`, so models see the same sequence.
    placed.sort_by(|a, b| a.0.t.total_cmp(&b.0.t));
    let (events, event_unit): (Vec<Event>, Vec<Option<u32>>) = placed.into_iter().unzip();
    let scoring = UnitScoring {
        cell_unit,
        event_unit,
        area: target.unit_area_m2(),
    };
    Ok(models
        .iter()
        .map(|m| timed(|| backtest_units(&events, grid, &scoring, m.as_ref(), cfg)))
        .collect())
}

/// One forecast with the cells ranked.
#[derive(Debug, Clone)]
pub struct RankedForecast {
    pub model: String,
    pub forecast: Forecast,
    /// Masked cell indices from most to least risk (ties in seeded random order).
    pub order: Vec<u32>,
    pub origin: f64,
    pub horizon: f64,
    pub train_events: usize,
    pub seconds: f64,
}

/// Fits `model` on the `train` days before `origin` (days) and forecasts `horizon` days.
pub fn forecast_at(
    set: &EventSet,
    units: &Units,
    model: &dyn Forecaster,
    origin: f64,
    train: f64,
    horizon: f64,
    seed: u64,
) -> Result<RankedForecast> {
    let grid = grid_of(units)?;
    let events = forecast_events(set, units);
    let history = model.history().map_or(train, |h| h.max(train));
    let lo = events.partition_point(|e| e.t < origin - history);
    let hi = events.partition_point(|e| e.t < origin);
    let training = Training {
        events: &events[lo..hi],
        grid,
        origin,
        horizon,
        seed,
    };
    let started = Instant::now();
    let forecast = model
        .forecast(&training)
        .map_err(|e| EngineError::Invalid(format!("{}: {e}", model.name())))?;
    let seconds = started.elapsed().as_secs_f64();
    let order = rank(&forecast.scores, seed);
    Ok(RankedForecast {
        model: model.name(),
        forecast,
        order,
        origin,
        horizon,
        train_events: hi - lo,
        seconds,
    })
}

/// What a model needs to know about the backtest it runs in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelContext<'a> {
    /// Training window, days.
    pub train: f64,
    /// Forecast horizon, days.
    pub horizon: f64,
    /// Risk terrain factors (`--risk-layer`), in the frame of the grid the models run
    /// on: features of `glm` and `rtm`; other models ignore them.
    pub risk_factors: &'a [sl_analytics::risk_terrain::RiskFactor],
}

/// Every model name `build_model` knows, in leaderboard order.
pub const MODEL_NAMES: &[&str] = &[
    "naive",
    "historical",
    "retrospective",
    "prospective",
    "stkde",
    "etas-grid",
    "sepp",
    "glm",
    "rtm",
    "ensemble",
];

/// Training periods of the `glm` for a horizon (days): 52, or fewer for long horizons,
/// so the periods span at most half of its 4 years of history and even the earliest
/// has two years of past for its long half-lives (weekly: 52; 28 days: 26; a quarter
/// of 91 days: 8). More periods would reach back before the history it reads, where
/// every cell would look empty.
pub fn glm_periods(horizon: f64) -> usize {
    let half = 0.5 * sl_analytics::forecast::glm::Glm::default().history_days;
    ((half / horizon).floor() as usize).clamp(1, 52)
}

/// Builds a model by name with its published defaults.
pub fn build_model(name: &str, ctx: ModelContext<'_>) -> Result<Box<dyn Forecaster>> {
    use sl_analytics::forecast::ensemble::Ensemble;
    use sl_analytics::forecast::etas_grid::EtasGrid;
    use sl_analytics::forecast::glm::Glm;
    use sl_analytics::forecast::hotspot::{Prospective, Retrospective, SpaceTimeKde};
    use sl_analytics::forecast::naive::{HistoricalAverage, RecentCounts};
    use sl_analytics::forecast::sepp::Sepp;
    Ok(match name {
        // The naive predictor counts the same span as it forecasts (last week for a
        // weekly horizon), as open_cp's naive counting predictor does.
        "naive" => Box::new(RecentCounts {
            window: ctx.horizon,
        }),
        "historical" => Box::new(HistoricalAverage { span: ctx.train }),
        // Quartic 200 m over the whole training window (open_cp's reference setting).
        "retrospective" => Box::new(Retrospective {
            window: Some(ctx.train),
            ..Retrospective::default()
        }),
        // Bowers, Johnson & Pease (2004) with open_cp's ClassicWeight defaults.
        "prospective" => Box::new(Prospective::default()),
        // Quartic 200 m in space, exponential decay with a 30-day scale in time.
        "stkde" => Box::new(SpaceTimeKde {
            window: Some(ctx.train),
            ..SpaceTimeKde::default()
        }),
        // Mohler et al. (2015) grid ETAS by EM over the training window, edge-corrected;
        // events at the same instant do not trigger each other.
        "etas-grid" => Box::new(EtasGrid {
            span: Some(ctx.train),
            ..EtasGrid::default()
        }),
        // Continuous space-time ETAS (Gaussian space, exponential time triggering) with
        // a kernel background, fitted by EM with space and time cutoffs.
        "sepp" => Box::new(Sepp {
            span: Some(ctx.train),
            ..Sepp::default()
        }),
        // Poisson regression on decayed counts, neighbours, kernel, near-repeat and
        // season features over the 52 periods before the origin, with 4 years of history.
        // With --risk-layer, each layer is one more feature, reported with its
        // relative risk value.
        "glm" => Box::new(Glm {
            periods: glm_periods(ctx.horizon),
            risk_factors: ctx.risk_factors.to_vec(),
            ..Glm::default()
        }),
        // Risk Terrain Modeling (Caplan & Kennedy): counts over the 52 periods before
        // the origin regressed on the risk layers alone, no history, no season.
        // Without factors it is an intercept-only (uniform) model: the CLI asks for a
        // --risk-layer first.
        "rtm" => {
            // Its training periods tile the training window.
            Box::new(Glm {
                history: false,
                seasonality: false,
                periods: ((ctx.train / ctx.horizon).floor() as usize).max(1),
                risk_factors: ctx.risk_factors.to_vec(),
                ..Glm::default()
            })
        }
        // The models above (but the last-week naive count), weighted by their PAI at 1%
        // over the 4 periods before each origin.
        "ensemble" => Box::new(Ensemble {
            members: [
                "historical",
                "retrospective",
                "prospective",
                "stkde",
                "etas-grid",
                "sepp",
                "glm",
            ]
            .iter()
            .map(|m| build_model(m, ctx))
            .collect::<Result<Vec<_>>>()?,
            validation_periods: 4,
            coverage: 0.01,
        }),
        other => {
            return Err(EngineError::Invalid(format!(
                "model `{other}` is not one of {}",
                MODEL_NAMES.join(", ")
            )));
        }
    })
}

/// The share of a forecast period's events expected during a shift.
///
/// The training events' hour × weekday profile (aoristic, local time) gives, for each
/// weekday, the share of that day's events in each clock hour; the share of the period
/// is the mean over the period's local days of each day's shift share, weighted by how
/// busy that weekday is. A shift that crosses midnight takes its after-midnight hours
/// from the next weekday. Day-resolution sources spread each event evenly over its day,
/// so their shift share is simply the shift's length over 24 hours.
pub fn shift_share(
    training: &EventSet,
    shift: &sl_analytics::time_patterns::Shift,
    origin: f64,
    horizon: f64,
) -> Result<f64> {
    let incidents: Vec<sl_analytics::Incident> =
        training.events.iter().map(|e| e.incident()).collect();
    let m = sl_analytics::time_patterns::hour_week(
        &incidents,
        None,
        &training.dataset.time_zone,
        &sl_analytics::aoristic::AoristicConfig::default(),
    )
    .map_err(|e| EngineError::Invalid(e.to_string()))?;
    if shift.start_hour > 23 || shift.end_hour > 23 || shift.hours() == 0 {
        return Err(EngineError::Invalid(format!(
            "shift {} needs start and end hours 0-23 that differ",
            shift.name
        )));
    }
    let tz = training.time_zone()?;
    let day_total = |w: usize| m.values[w].iter().sum::<f64>();
    let in_shift = |w: usize| {
        (0..24u8)
            .filter(|&h| shift.contains(h))
            .map(|h| {
                // Hours before the start belong to the night after the start's day.
                if h >= shift.start_hour {
                    m.values[w][h as usize]
                } else {
                    m.values[(w + 1) % 7][h as usize]
                }
            })
            .sum::<f64>()
    };
    let (mut weighted, mut weight) = (0.0, 0.0);
    let first = jiff::Timestamp::from_second((origin * DAY).round() as i64)
        .map_err(|e| EngineError::Invalid(e.to_string()))?
        .to_zoned(tz.clone())
        .date();
    for k in 0..(horizon.round().max(1.0) as i64) {
        let day = first
            .checked_add(jiff::Span::new().days(k))
            .map_err(|e| EngineError::Invalid(e.to_string()))?;
        let w = day.weekday().to_monday_zero_offset() as usize;
        let total = day_total(w);
        if total > 0.0 {
            weighted += in_shift(w);
            weight += total;
        }
    }
    Ok(if weight > 0.0 {
        weighted / weight
    } else {
        f64::from(shift.hours()) / 24.0
    })
}

/// The longest history any of `models` asks for, or `train` (days): how far back to read.
pub fn history_needed(models: &[Box<dyn Forecaster>], train: f64) -> f64 {
    models
        .iter()
        .filter_map(|m| m.history())
        .fold(train, f64::max)
}

/// The unit of `target` (H3 cells or the boundary's features) holding the centre of
/// each masked cell of `grid_units`' grid; `None` where the centre is in no unit.
pub fn cell_units(grid_units: &Units, target: &Units) -> Result<Vec<Option<u32>>> {
    let grid = grid_of(grid_units)?;
    if matches!(target.kind, super::units::UnitKind::Area(_)) {
        return Err(EngineError::Invalid(
            "area codes have no outlines to sum a forecast into: use --area-units boundary or --hex"
                .into(),
        ));
    }
    let frame = grid_units.frame();
    let local: Vec<(f64, f64)> = grid
        .cells()
        .iter()
        .map(|&(r, c)| {
            let (u, v) = grid.grid().centre(r, c);
            frame.from_frame(u, v)
        })
        .collect();
    let mut centres = local.clone();
    sl_ingest::crs::to_wgs84(grid_units.local_crs(), &mut centres)?;
    Ok(local
        .iter()
        .zip(&centres)
        .map(|(&(x, y), &(lon, lat))| target.unit_of_point(x, y, lon, lat).map(|u| u as u32))
        .collect())
}

/// A forecast on a fine grid summed into coarser units (H3 cells or the boundary's
/// features): each grid cell's score goes to the unit holding the cell's centre.
/// Returns the score per target unit. Expected counts stay expected counts.
pub fn aggregate_to_units(grid_units: &Units, scores: &[f64], target: &Units) -> Result<Vec<f64>> {
    Ok(sum_into_units(
        &cell_units(grid_units, target)?,
        scores,
        target.len(),
    ))
}

#[cfg(test)]
mod tests {
    use super::glm_periods;

    #[test]
    fn glm_periods_stay_within_half_its_history() {
        // 4 × 365.25 / 2 = 730.5 days.
        assert_eq!(glm_periods(1.0), 52);
        assert_eq!(glm_periods(7.0), 52);
        assert_eq!(glm_periods(14.0), 52);
        assert_eq!(glm_periods(28.0), 26);
        assert_eq!(glm_periods(91.0), 8);
        assert_eq!(glm_periods(365.0), 2);
        assert_eq!(glm_periods(1000.0), 1);
    }
}

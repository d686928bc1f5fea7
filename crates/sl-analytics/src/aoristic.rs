//! Aoristic aggregation: spreading events whose time is known only as a window
//! `[from, to)` over the local time units (hours, days, ISO weeks, months) the window
//! covers.
//!
//! A burglary discovered on Monday morning happened at some unknown time since Friday
//! evening; counting it at its discovery time puts every such crime in office hours.
//! Aoristic analysis gives each event a total weight of 1, shared among the time units
//! of its window.
//!
//! References:
//! - Ratcliffe, J. H. (2002). Aoristic signatures and the spatio-temporal analysis of
//!   high volume crime patterns. *Journal of Quantitative Criminology* 18(1), 23–43.
//! - Ratcliffe, J. H. (2000). Aoristic analysis: the spatial interpretation of
//!   unspecific temporal events. *International Journal of Geographical Information
//!   Science* 14(7), 669–679.
//! - Ashby, M. P. J., & Bowers, K. J. (2013). A comparison of methods for temporal
//!   analysis of aoristic crime. *Crime Science* 2, 1 (shares proportional to the
//!   time overlap).
//!
//! # Algorithm
//!
//! The window is cut at the boundaries of the chosen unit in the data's LOCAL time
//! zone. With [`Share::EqualPerUnit`] (Ratcliffe's published form, the default) each of
//! the `k` units the window touches receives `1/k`: a window from 22:00 to 06:00 touches
//! the eight hours 22, 23, 0, …, 5 and gives each 0.125; one from 22:30 to 00:10 touches
//! 22, 23 and 0 and gives each 1/3. With [`Share::ProportionalToOverlap`] each unit
//! receives the fraction of the window's duration that falls in it (Ashby & Bowers'
//! comparison method): 30/100, 60/100 and 10/100 in the second example.
//!
//! Edge semantics:
//! - windows are half-open: `[22:00, 06:00)` does not touch the 06:00 hour;
//! - a window of zero length (`to = from`) is the instant `from`, and so is a window
//!   of one second: all its weight goes to the unit holding `from`;
//! - `to < from`, or a time outside the supported calendar, is *invalid*: excluded
//!   and counted in [`Tally::invalid`];
//! - a window longer than [`AoristicConfig::max_span`] (default 7 days) says nothing
//!   about the time of day or week, so it is *unknown time*: excluded from every binned
//!   output and counted in [`Tally::too_long`] (a caller's total of events is
//!   `used + too_long + invalid`).
//!
//! Local time and daylight saving: hour units are the real hours between consecutive
//! local clock-hour boundaries, also cut at offset transitions. On the spring-forward
//! day the missing local hour (02:00 in America/New_York) has no unit, so the day has
//! 23 hour units; on the fall-back day the repeated hour (01:00) is two units, both
//! labelled 01:00, so the day has 25. Day, week and month units run from local
//! midnight to local midnight (a 23- or 25-hour day is still one day unit); a midnight
//! that does not exist (a gap) starts at the first instant after the gap.
//!
//! # Notes
//!
//! `O(k)` time-zone look-ups per event for `k` units touched.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::Incident;

/// Seven days in seconds: the default longest window that still has a usable time.
pub const DEFAULT_MAX_SPAN: i64 = 7 * 86_400;

/// How an event's weight is shared among the units its window touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Share {
    /// `1/k` to each of the `k` units touched (Ratcliffe 2000, 2002).
    #[default]
    EqualPerUnit,
    /// Each unit gets the fraction of the window's duration inside it (Ashby & Bowers
    /// 2013).
    ProportionalToOverlap,
}

/// The time unit to spread over, in the data's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// A local clock hour (cut at offset transitions).
    Hour,
    /// A local calendar day.
    Day,
    /// An ISO 8601 week (Monday to Sunday, local).
    IsoWeek,
    /// A local calendar month.
    Month,
}

/// Aoristic settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AoristicConfig {
    pub share: Share,
    /// Windows longer than this many seconds are unknown time (default 7 days).
    pub max_span: i64,
}

impl Default for AoristicConfig {
    fn default() -> Self {
        Self {
            share: Share::EqualPerUnit,
            max_span: DEFAULT_MAX_SPAN,
        }
    }
}

/// One unit touched by a window and the share of the event it receives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    /// The unit's start and end, UTC seconds (half-open).
    pub start: i64,
    pub end: i64,
    /// The unit's local label: the clock hour (minutes zeroed) for hours, local
    /// midnight of the day, of the ISO week's Monday, or of the month's first day.
    pub label: DateTime,
    /// The share of the event, summing to 1 over the window's pieces.
    pub weight: f64,
}

/// What happened to one event's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowStatus {
    /// Spread over its units.
    Used,
    /// Longer than the configured maximum span: unknown time.
    TooLong,
    /// `to < from` or outside the supported calendar.
    Invalid,
}

/// Why an aggregation cannot be computed.
#[derive(Debug, Clone, PartialEq)]
pub enum AoristicError {
    /// The time zone name is not in the bundled tz database.
    UnknownTimeZone(String),
    /// The weights do not match the incidents one to one.
    WeightCount { incidents: usize, weights: usize },
    /// A weight is negative or not finite.
    BadWeight { index: usize, weight: f64 },
    /// The study period is empty, reversed or outside the calendar.
    BadPeriod { from: i64, to: i64 },
    /// The maximum span is negative.
    BadMaxSpan(i64),
}

impl std::fmt::Display for AoristicError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AoristicError::UnknownTimeZone(name) => write!(
                f,
                "time zone {name:?} is not in the tz database: use an IANA name such as America/Chicago"
            ),
            AoristicError::WeightCount { incidents, weights } => write!(
                f,
                "{weights} weights were given for {incidents} incidents: give one weight per incident"
            ),
            AoristicError::BadWeight { index, weight } => write!(
                f,
                "weight {weight} of incident {index} is negative or not finite: weights must be zero or more"
            ),
            AoristicError::BadPeriod { from, to } => write!(
                f,
                "study period [{from}, {to}) is empty or outside the calendar: give from < to in UTC seconds"
            ),
            AoristicError::BadMaxSpan(s) => {
                write!(f, "maximum window span {s} s is negative")
            }
        }
    }
}

impl std::error::Error for AoristicError {}

/// Looks up an IANA time zone in the bundled tz database.
pub fn time_zone(name: &str) -> Result<TimeZone, AoristicError> {
    TimeZone::get(name).map_err(|_| AoristicError::UnknownTimeZone(name.to_string()))
}

/// Checks optional weights: one per incident, finite and non-negative.
pub fn check_weights(n: usize, weights: Option<&[f64]>) -> Result<(), AoristicError> {
    if let Some(w) = weights {
        if w.len() != n {
            return Err(AoristicError::WeightCount {
                incidents: n,
                weights: w.len(),
            });
        }
        if let Some(index) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(AoristicError::BadWeight {
                index,
                weight: w[index],
            });
        }
    }
    Ok(())
}

fn ts(t: i64) -> Option<Timestamp> {
    Timestamp::from_second(t).ok()
}

fn offset(tz: &TimeZone, t: i64) -> Option<i64> {
    Some(i64::from(tz.to_offset(ts(t)?).seconds()))
}

/// The timestamp of local midnight starting `date` (the first instant after a gap).
fn midnight(tz: &TimeZone, date: Date) -> Option<i64> {
    tz.to_ambiguous_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .compatible()
        .ok()
        .map(Timestamp::as_second)
}

/// The unit holding instant `t`: `(start, end, label)`.
pub fn unit_at(tz: &TimeZone, unit: TimeUnit, t: i64) -> Option<(i64, i64, DateTime)> {
    let local = tz.to_datetime(ts(t)?);
    match unit {
        TimeUnit::Hour => {
            let o = offset(tz, t)?;
            let into = (t + o).rem_euclid(3600);
            let mut start = t - into;
            let mut end = start + 3600;
            if offset(tz, end - 1)? != o {
                // An offset transition inside this clock hour ends the unit early.
                end = tz.following(ts(t)?).next()?.timestamp().as_second();
            }
            if offset(tz, start)? != o {
                start = tz.preceding(ts(t + 1)?).next()?.timestamp().as_second();
            }
            let label = local.date().at(local.hour(), 0, 0, 0);
            Some((start, end, label))
        }
        TimeUnit::Day => {
            let d = local.date();
            let start = midnight(tz, d)?;
            let end = midnight(tz, d.tomorrow().ok()?)?;
            Some((
                start,
                end.max(start + 1),
                d.to_datetime(jiff::civil::Time::midnight()),
            ))
        }
        TimeUnit::IsoWeek => {
            let d = local.date();
            let monday = d
                .checked_sub(i64::from(d.weekday().to_monday_zero_offset()).days())
                .ok()?;
            let start = midnight(tz, monday)?;
            let end = midnight(tz, monday.checked_add(7.days()).ok()?)?;
            Some((
                start,
                end.max(start + 1),
                monday.to_datetime(jiff::civil::Time::midnight()),
            ))
        }
        TimeUnit::Month => {
            let first = local.date().first_of_month();
            let start = midnight(tz, first)?;
            let end = midnight(tz, first.checked_add(1.month()).ok()?)?;
            Some((
                start,
                end.max(start + 1),
                first.to_datetime(jiff::civil::Time::midnight()),
            ))
        }
    }
}

/// Spreads one incident's window over `unit`s, writing its pieces into `out` (cleared
/// first; empty unless the status is [`WindowStatus::Used`]).
pub fn spread(
    incident: &Incident,
    tz: &TimeZone,
    unit: TimeUnit,
    cfg: &AoristicConfig,
    out: &mut Vec<Piece>,
) -> WindowStatus {
    out.clear();
    let (from, to) = (incident.from, incident.to);
    if to < from {
        return WindowStatus::Invalid;
    }
    if to - from > cfg.max_span {
        return WindowStatus::TooLong;
    }
    // A zero-length window is the instant `from`, like a one-second window.
    let to = to.max(from + 1);
    let mut t = from;
    loop {
        let Some((start, end, label)) = unit_at(tz, unit, t) else {
            out.clear();
            return WindowStatus::Invalid;
        };
        out.push(Piece {
            start,
            end,
            label,
            weight: 0.0,
        });
        if end >= to {
            break;
        }
        t = end;
    }
    match cfg.share {
        Share::EqualPerUnit => {
            let w = 1.0 / out.len() as f64;
            for p in out.iter_mut() {
                p.weight = w;
            }
        }
        Share::ProportionalToOverlap => {
            let len = (to - from) as f64;
            for p in out.iter_mut() {
                p.weight = (p.end.min(to) - p.start.max(from)) as f64 / len;
            }
        }
    }
    WindowStatus::Used
}

/// How the incidents of an aggregation were used.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Tally {
    /// All incidents given.
    pub incidents: usize,
    /// Incidents spread over units.
    pub used: usize,
    /// Incidents whose window exceeds the maximum span (unknown time).
    pub too_long: usize,
    /// Incidents with `to < from` or a time outside the calendar.
    pub invalid: usize,
    /// Sum of the weights of the used incidents (= `used` when unweighted).
    pub used_weight: f64,
    /// Weight of used incidents that fell in units outside the study period.
    pub outside_weight: f64,
}

impl Tally {
    pub(crate) fn count(&mut self, status: WindowStatus, w: f64) {
        self.incidents += 1;
        match status {
            WindowStatus::Used => {
                self.used += 1;
                self.used_weight += w;
            }
            WindowStatus::TooLong => self.too_long += 1,
            WindowStatus::Invalid => self.invalid += 1,
        }
    }
}

/// One unit of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bin {
    /// UTC seconds, half-open.
    pub start: i64,
    pub end: i64,
    /// Local label of the unit's start (see [`Piece::label`]).
    pub label: DateTime,
    /// Aoristic sum of (weighted) events.
    pub value: f64,
    /// True when the unit lies wholly inside the study period (always true when no
    /// period is given).
    pub complete: bool,
}

/// An aoristic time series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub unit: TimeUnit,
    /// Consecutive units, zeros included.
    pub bins: Vec<Bin>,
    pub tally: Tally,
}

/// The consecutive units covering `[from, to)`.
pub fn units_covering(
    tz: &TimeZone,
    unit: TimeUnit,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64, DateTime)>, AoristicError> {
    let bad = || AoristicError::BadPeriod { from, to };
    if to <= from {
        return Err(bad());
    }
    let mut units = Vec::new();
    let mut t = from;
    while t < to {
        let u = unit_at(tz, unit, t).ok_or_else(bad)?;
        units.push(u);
        t = u.1;
    }
    Ok(units)
}

/// The aoristic series of `incidents` by `unit` in local time.
///
/// # Parameters
///
/// - `weights`: optional non-negative weight per incident (e.g. harm).
/// - `period`: the study period `[from, to)` in UTC seconds. Its bins are every unit
///   touching it, `complete` when wholly inside; shares falling outside any bin are
///   reported in [`Tally::outside_weight`]. Without a period the bins run from the
///   first to the last unit any used incident touches, all marked complete.
///
/// # Notes
///
/// `O(Σ k_i)` look-ups for `k_i` units per incident, plus one per bin.
pub fn series(
    incidents: &[Incident],
    weights: Option<&[f64]>,
    tz: &TimeZone,
    unit: TimeUnit,
    period: Option<(i64, i64)>,
    cfg: &AoristicConfig,
) -> Result<Series, AoristicError> {
    check_weights(incidents.len(), weights)?;
    if cfg.max_span < 0 {
        return Err(AoristicError::BadMaxSpan(cfg.max_span));
    }
    let mut tally = Tally::default();
    let mut pieces = Vec::new();
    let mut sums: std::collections::BTreeMap<i64, f64> = std::collections::BTreeMap::new();
    let mut last_end: Option<i64> = None;
    for (i, inc) in incidents.iter().enumerate() {
        let w = weights.map_or(1.0, |w| w[i]);
        let status = spread(inc, tz, unit, cfg, &mut pieces);
        tally.count(status, w);
        for p in &pieces {
            *sums.entry(p.start).or_insert(0.0) += w * p.weight;
            last_end = Some(last_end.map_or(p.end, |e: i64| e.max(p.end)));
        }
    }
    let (units, bounds) = match period {
        Some((from, to)) => (units_covering(tz, unit, from, to)?, Some((from, to))),
        None => match (sums.keys().next(), last_end) {
            (Some(&first), Some(end)) => (units_covering(tz, unit, first, end)?, None),
            _ => (Vec::new(), None),
        },
    };
    let mut bins: Vec<Bin> = units
        .into_iter()
        .map(|(start, end, label)| Bin {
            start,
            end,
            label,
            value: sums.remove(&start).unwrap_or(0.0),
            complete: bounds.is_none_or(|(from, to)| start >= from && end <= to),
        })
        .collect();
    bins.shrink_to_fit();
    tally.outside_weight = sums.values().sum();
    Ok(Series { unit, bins, tally })
}

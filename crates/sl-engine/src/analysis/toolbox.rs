//! The analyst's toolbox over an [`EventSet`] and its [`Units`]: each function gathers
//! the inputs an sl-analytics method needs, runs it and returns plain results the
//! edges render. No math lives here.

use sl_analytics::Incident;
use sl_analytics::aoristic::{AoristicConfig, TimeUnit};
use sl_analytics::concentration::{Concentration, Located, Repeats, concentration, repeats};
use sl_analytics::emerging::{EmergingConfig, EmergingResult, SpaceTimeCube, emerging_hot_spots};
use sl_analytics::kde::{KdeConfig, kde_grid};
use sl_analytics::priorities::{PlaceEvent, PlacePriority, PriorityConfig, priorities};
use sl_analytics::time_patterns::{
    HourWeekMatrix, Seasonality, Shift, ShiftComparison, WeeklySeries, hour_week, monthly,
    shift_comparison, weekly,
};
use sl_analytics::weights::Weights;

use super::selection::{AnalysisEvent, AreaLevel, EventSet};
use super::units::Units;
use crate::{EngineError, Result};

fn invalid(e: impl std::fmt::Display) -> EngineError {
    EngineError::Invalid(e.to_string())
}

/// How to split events into groups for the time patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    All,
    Category,
    Area(AreaLevel),
}

/// Time patterns of one group.
#[derive(Debug, Clone)]
pub struct GroupPatterns {
    /// `all`, a category slug or an area code (`(none)` for events without one).
    pub group: String,
    pub events: usize,
    pub hour_week: HourWeekMatrix,
    pub monthly: Seasonality,
    pub weekly: WeeklySeries,
    pub shifts: ShiftComparison,
}

/// Hour × weekday, seasonality, weekly trend and shift comparison per group.
pub fn patterns(
    set: &EventSet,
    group_by: GroupBy,
    shifts: &[Shift],
    cfg: &AoristicConfig,
) -> Result<Vec<GroupPatterns>> {
    let mut groups: std::collections::BTreeMap<String, Vec<Incident>> = Default::default();
    for e in &set.events {
        let key = match group_by {
            GroupBy::All => "all".to_string(),
            GroupBy::Category => set.categories[e.category as usize].clone(),
            GroupBy::Area(level) => set.area_code(e, level).unwrap_or("(none)").to_string(),
        };
        groups.entry(key).or_default().push(e.incident());
    }
    let tz = set.dataset.time_zone.as_str();
    // The study period: the selection's bounds, or the data's extent where a bound is
    // open, so partial first and last weeks or months are marked incomplete and kept
    // out of means and trends.
    let first = set.events.iter().map(|e| e.from).min();
    let last = set.events.iter().map(|e| e.from).max();
    let period = match (
        set.selection.from.or(first),
        set.selection.to.or(last.map(|t| t + 1)),
    ) {
        (Some(a), Some(b)) if a < b => Some((a, b)),
        _ => None,
    };
    groups
        .into_iter()
        .map(|(group, incidents)| {
            Ok(GroupPatterns {
                events: incidents.len(),
                hour_week: hour_week(&incidents, None, tz, cfg).map_err(invalid)?,
                monthly: monthly(&incidents, None, tz, period, cfg).map_err(invalid)?,
                weekly: weekly(&incidents, None, tz, period, cfg).map_err(invalid)?,
                shifts: shift_comparison(&incidents, None, tz, shifts, cfg).map_err(invalid)?,
                group,
            })
        })
        .collect()
}

/// Events per unit, plus those in no unit (no point, or outside the units).
pub fn counts(set: &EventSet, units: &Units) -> (Vec<f64>, usize) {
    units.aggregate(set, |_| 1.0)
}

/// What to weight a density or ranking by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weighting {
    Count,
    Harm,
}

/// A kernel density surface on the grid.
#[derive(Debug, Clone)]
pub struct KdeSurface {
    /// Density per masked cell, events (or harm) per km².
    pub density: Vec<f64>,
    pub counts: Vec<f64>,
    /// Events used (with a point).
    pub used: usize,
}

/// Kernel density of the selected events on grid units.
pub fn kde(
    set: &EventSet,
    units: &Units,
    cfg: &KdeConfig,
    weighting: Weighting,
) -> Result<KdeSurface> {
    let grid = units.grid().ok_or_else(|| {
        invalid("kernel density needs grid units: pass --cell-size, not --hex or --area-units")
    })?;
    let located: Vec<&AnalysisEvent> = set.located().collect();
    let frame = units.frame();
    let points: Vec<(f64, f64)> = located.iter().map(|e| frame.to_frame(e.x, e.y)).collect();
    let weights: Option<Vec<f64>> =
        (weighting == Weighting::Harm).then(|| located.iter().map(|e| e.harm).collect());
    let density = kde_grid(&points, weights.as_deref(), grid, cfg).map_err(invalid)?;
    Ok(KdeSurface {
        density,
        counts: counts(set, units).0,
        used: points.len(),
    })
}

/// Time step of a space-time cube.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Week,
    Month,
}

/// An emerging hot spot analysis with its cube's step edges.
#[derive(Debug, Clone)]
pub struct Emerging {
    pub result: EmergingResult,
    /// Step boundaries, UTC seconds (local week or month starts).
    pub edges: Vec<i64>,
    /// Events per unit over the whole period.
    pub counts: Vec<f64>,
    /// Events counted in the cube, and those left out (no unit, or outside the steps).
    pub counted: usize,
    pub left_out: usize,
}

/// How events are placed in the time steps of a space-time cube.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StepAssignment {
    /// Whole event in the step holding the start of its window (ArcGIS's single time
    /// field).
    Start,
    /// Aoristic: the event's weight is spread over the steps its window covers
    /// (Ratcliffe 2002), as configured; windows longer than the configured span are
    /// "time unknown" and left out.
    Aoristic(AoristicConfig),
}

/// Emerging hot spot analysis over local weeks or months of the selection's period.
pub fn emerging(
    set: &EventSet,
    units: &Units,
    spatial: &Weights,
    step: Step,
    assignment: StepAssignment,
    cfg: &EmergingConfig,
) -> Result<Emerging> {
    let (Some(from), Some(to)) = (set.selection.from, set.selection.to) else {
        return Err(invalid(
            "emerging hot spots need a period: pass --from and --to (e.g. two years of months)",
        ));
    };
    let tz = sl_analytics::aoristic::time_zone(&set.dataset.time_zone).map_err(invalid)?;
    let unit = match step {
        Step::Week => TimeUnit::IsoWeek,
        Step::Month => TimeUnit::Month,
    };
    // Steps are the local weeks/months starting at or after `from` and ending by `to`.
    let mut edges = Vec::new();
    let mut t = from;
    while let Some((start, end, _)) = sl_analytics::aoristic::unit_at(&tz, unit, t) {
        let start = if edges.is_empty() && start < from {
            end
        } else {
            start
        };
        if edges.is_empty() {
            edges.push(start);
        }
        let (_, end, _) = sl_analytics::aoristic::unit_at(&tz, unit, start)
            .ok_or_else(|| invalid("time outside the calendar"))?;
        if end > to {
            break;
        }
        edges.push(end);
        t = end;
    }
    let n = units.len();
    let steps = edges.len().saturating_sub(1);
    let placed = set
        .events
        .iter()
        .map(|e| (units.unit_of(set, e), e.incident()));
    let (values, counted, left_out) = fill_cube(placed, n, &edges, unit, &tz, assignment);
    let cube = SpaceTimeCube::new(n, steps, values).map_err(invalid)?;
    let result = emerging_hot_spots(&cube, spatial, cfg).map_err(invalid)?;
    Ok(Emerging {
        result,
        edges,
        counts: counts(set, units).0,
        counted,
        left_out,
    })
}

/// Adds events to a cube of `n` units × the steps between `edges` (bin `t * n + i`).
/// Returns the values, the events counted, and the events left out (no unit, outside
/// the steps, or time unknown under the aoristic assignment).
fn fill_cube(
    events: impl Iterator<Item = (Option<usize>, Incident)>,
    n: usize,
    edges: &[i64],
    unit: TimeUnit,
    tz: &jiff::tz::TimeZone,
    assignment: StepAssignment,
) -> (Vec<f64>, usize, usize) {
    let steps = edges.len().saturating_sub(1);
    let mut values = vec![0.0; n * steps];
    let (mut counted, mut left_out) = (0, 0);
    let mut pieces = Vec::new();
    let step_of = |t: i64| {
        let k = edges.partition_point(|&b| b <= t);
        (k >= 1 && k <= steps).then(|| k - 1)
    };
    for (unit_index, incident) in events {
        let Some(i) = unit_index else {
            left_out += 1;
            continue;
        };
        let mut inside = false;
        match assignment {
            StepAssignment::Start => {
                if let Some(k) = step_of(incident.from) {
                    values[k * n + i] += 1.0;
                    inside = true;
                }
            }
            StepAssignment::Aoristic(acfg) => {
                let status =
                    sl_analytics::aoristic::spread(&incident, tz, unit, &acfg, &mut pieces);
                if status == sl_analytics::aoristic::WindowStatus::Used {
                    for p in &pieces {
                        if let Some(k) = step_of(p.start) {
                            values[k * n + i] += p.weight;
                            inside = true;
                        }
                    }
                }
            }
        }
        if inside {
            counted += 1;
        } else {
            left_out += 1;
        }
    }
    (values, counted, left_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two local months of America/Chicago; an event from 30 January 20:00 to
    /// 2 February 20:00 touches the months January and February: aoristic gives ½ to
    /// each (Ratcliffe: 1/k per unit touched); by start it is all January. An event
    /// longer than 7 days is time unknown under the aoristic rule.
    #[test]
    fn aoristic_cube_spreads_windows_over_steps() {
        let tz = jiff::tz::TimeZone::get("America/Chicago").expect("tz");
        let at = |m: i8, d: i8, h: i8| {
            jiff::civil::date(2024, m, d)
                .at(h, 0, 0, 0)
                .to_zoned(tz.clone())
                .expect("local time")
                .timestamp()
                .as_second()
        };
        let edges = [at(1, 1, 0), at(2, 1, 0), at(3, 1, 0)];
        let ev = |from: i64, to: i64| Incident {
            x: 0.0,
            y: 0.0,
            from,
            to,
        };
        let events = vec![
            (Some(0), ev(at(1, 30, 20), at(2, 2, 20))),
            (Some(1), ev(at(2, 10, 8), at(2, 10, 9))),
            (Some(1), ev(at(1, 2, 0), at(1, 20, 0))),
            (None, ev(at(1, 5, 0), at(1, 5, 1))),
            (Some(0), ev(at(3, 5, 0), at(3, 5, 1))),
        ];
        let (v, counted, left_out) = fill_cube(
            events.clone().into_iter(),
            2,
            &edges,
            TimeUnit::Month,
            &tz,
            StepAssignment::Aoristic(AoristicConfig::default()),
        );
        // Bins: [January unit 0, January unit 1, February unit 0, February unit 1].
        assert_eq!(v, vec![0.5, 0.0, 0.5, 1.0]);
        assert_eq!((counted, left_out), (2, 3));
        let (v, counted, left_out) = fill_cube(
            events.into_iter(),
            2,
            &edges,
            TimeUnit::Month,
            &tz,
            StepAssignment::Start,
        );
        assert_eq!(v, vec![1.0, 1.0, 0.0, 1.0]);
        assert_eq!((counted, left_out), (3, 2));
    }
}

/// The priority list with the concentration and repeat context it sits in.
#[derive(Debug, Clone)]
pub struct Priorities {
    pub places: Vec<PlacePriority>,
    /// Concentration of current-period harm and events over all units.
    pub harm_concentration: Concentration,
    pub count_concentration: Concentration,
    /// Repeats in the current period (same point, same category, within the window).
    pub repeats: Repeats,
    pub current: (i64, i64),
    pub prior: (i64, i64),
}

/// The period just before a selection's `[from, to)`, in local calendar terms: the
/// same number of whole months when the period is whole months (2016 → 2015, Q4 →
/// Q3, January → December), else the same number of local days; so a DST change or a
/// leap day between them does not shift the prior period off local midnight.
pub fn prior_period(set: &EventSet) -> Result<(i64, i64)> {
    let (Some(from), Some(to)) = (set.selection.from, set.selection.to) else {
        return Err(invalid("priorities need a period: pass --from and --to"));
    };
    let tz = set.time_zone()?;
    let local = |t: i64| {
        jiff::Timestamp::from_second(t)
            .map(|t| t.to_zoned(tz.clone()))
            .map_err(invalid)
    };
    let (a, b) = (local(from)?, local(to)?);
    // Whole calendar months when the period is whole months (a year → the year
    // before, a quarter → the quarter before), else the same number of days.
    let span = a
        .date()
        .until((jiff::Unit::Month, b.date()))
        .map_err(invalid)?;
    let back = if span.get_days() == 0 && span.get_months() > 0 {
        jiff::Span::new().months(span.get_months())
    } else {
        jiff::Span::new().days((b.date() - a.date()).get_days())
    };
    let start = a.date().checked_sub(back).map_err(invalid)?;
    // The prior starts at the same local time of day as `from` (midnight for dates).
    let prior_from = start
        .to_datetime(a.time())
        .to_zoned(tz.clone())
        .map_err(invalid)?
        .timestamp()
        .as_second();
    Ok((prior_from.min(from), from))
}

/// Ranks units by harm in `[from, to)` against `prior` (the events of
/// [`prior_period`], which the caller selects).
pub fn rank_places(
    set: &EventSet,
    prior: &EventSet,
    units: &Units,
    top: usize,
    repeat_window: i64,
) -> Result<Priorities> {
    let (Some(from), Some(to)) = (set.selection.from, set.selection.to) else {
        return Err(invalid("priorities need a period: pass --from and --to"));
    };
    let tz = set.time_zone()?;
    let mut place_events = Vec::new();
    // Categories are interned per set: index both sets by one list of names.
    let names = priority_category_names(set, prior);
    for s in [set, prior] {
        let remap: Vec<u16> = s
            .categories
            .iter()
            .map(|n| names.iter().position(|m| m == n).unwrap_or(0) as u16)
            .collect();
        for e in &s.events {
            let Some(unit) = units.unit_of(s, e) else {
                continue;
            };
            let category = remap[e.category as usize];
            let hour = (e.to - e.from <= 3600)
                .then(|| {
                    jiff::Timestamp::from_second(e.from)
                        .ok()
                        .map(|t| t.to_zoned(tz.clone()).hour() as u8)
                })
                .flatten();
            place_events.push(PlaceEvent {
                unit: unit as u32,
                category,
                harm: e.harm,
                time: e.from,
                local_hour: hour,
                location: e.location_key(),
            });
        }
    }
    // The prior period is the one its events were selected for (see `prior_period`).
    let (Some(p0), Some(p1)) = (prior.selection.from, prior.selection.to) else {
        return Err(invalid(
            "the prior events need a period: select them for prior_period(set)",
        ));
    };
    let prior_bounds = (p0, p1);
    let cfg = PriorityConfig {
        current: (from, to),
        prior: prior_bounds,
        repeat_window,
        top,
    };
    let places = priorities(&place_events, &cfg);
    let mut harm = vec![0.0; units.len()];
    let mut count = vec![0.0; units.len()];
    for e in place_events
        .iter()
        .filter(|e| e.time >= from && e.time < to)
    {
        harm[e.unit as usize] += e.harm;
        count[e.unit as usize] += 1.0;
    }
    let located: Vec<Located> = set
        .events
        .iter()
        .filter_map(|e| {
            Some(Located {
                location: e.location_key()?,
                time: e.from,
                category: e.category,
            })
        })
        .collect();
    Ok(Priorities {
        places,
        harm_concentration: concentration(&harm),
        count_concentration: concentration(&count),
        repeats: repeats(&located, repeat_window),
        current: (from, to),
        prior: prior_bounds,
    })
}

/// Category names for the indices used by [`rank_places`]: the current set's, then
/// those only seen in the prior set, in order of appearance.
pub fn priority_category_names(set: &EventSet, prior: &EventSet) -> Vec<String> {
    let mut names = set.categories.clone();
    for e in &prior.events {
        let name = &prior.categories[e.category as usize];
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

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
    let period = match (set.selection.from, set.selection.to) {
        (Some(a), Some(b)) => Some((a, b)),
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
    let points: Vec<(f64, f64)> = located.iter().map(|e| (e.x, e.y)).collect();
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

/// Emerging hot spot analysis over local weeks or months of the selection's period.
pub fn emerging(
    set: &EventSet,
    units: &Units,
    spatial: &Weights,
    step: Step,
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
    let mut values = vec![0.0; n * steps];
    let (mut counted, mut left_out) = (0, 0);
    for e in &set.events {
        let unit_i = units.unit_of(set, e);
        let step_i = edges.partition_point(|&b| b <= e.from);
        match unit_i {
            Some(i) if step_i >= 1 && step_i <= steps => {
                values[(step_i - 1) * n + i] += 1.0;
                counted += 1;
            }
            _ => left_out += 1,
        }
    }
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

/// Ranks units by harm in `[from, to)` against the prior period of equal length.
/// `prior_events` must hold the events of the prior period (the caller selects them).
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
    let len = to - from;
    let cfg = PriorityConfig {
        current: (from, to),
        prior: (from - len, from),
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
        .located()
        .map(|e| Located {
            location: e.location_key(),
            time: e.from,
            category: e.category,
        })
        .collect();
    Ok(Priorities {
        places,
        harm_concentration: concentration(&harm),
        count_concentration: concentration(&count),
        repeats: repeats(&located, repeat_window),
        current: (from, to),
        prior: (from - len, from),
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

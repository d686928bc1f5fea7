//! Choosing the events an analysis works on: one dataset, some categories, a time
//! range in the dataset's local dates, optionally one area.

use std::collections::HashMap;

use sl_store::{DatasetInfo, EventFilter, Store, StoreError};

use crate::{EngineError, Result};

/// Which area code an area filter or area unit refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AreaLevel {
    District,
    Beat,
    Neighbourhood,
}

impl AreaLevel {
    /// Parses `district`, `beat` or `neighbourhood` (also `neighborhood`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "district" => Some(Self::District),
            "beat" => Some(Self::Beat),
            "neighbourhood" | "neighborhood" => Some(Self::Neighbourhood),
            _ => None,
        }
    }

    /// Stable slug.
    pub fn slug(self) -> &'static str {
        match self {
            Self::District => "district",
            Self::Beat => "beat",
            Self::Neighbourhood => "neighbourhood",
        }
    }

    /// Position of the level in per-level arrays: district, beat, neighbourhood.
    pub fn index(self) -> usize {
        match self {
            Self::District => 0,
            Self::Beat => 1,
            Self::Neighbourhood => 2,
        }
    }
}

/// Keep only events whose area code at `level` equals `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaFilter {
    pub level: AreaLevel,
    pub code: String,
}

/// What to analyse.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    /// Dataset name.
    pub dataset: String,
    /// Category slugs; empty means all.
    pub categories: Vec<String>,
    /// Occurrence start at or after this instant (UTC seconds).
    pub from: Option<i64>,
    /// Occurrence start before this instant (UTC seconds).
    pub to: Option<i64>,
    pub area: Option<AreaFilter>,
}

/// One event as analyses see it. Area codes and categories are interned: they index
/// [`EventSet::area_codes`] and [`EventSet::categories`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalysisEvent {
    /// Local metres; NaN when the event has no point.
    pub x: f64,
    pub y: f64,
    /// WGS84 degrees; NaN when the event has no point.
    pub lon: f64,
    pub lat: f64,
    /// Occurrence window `[from, to)`, UTC seconds.
    pub from: i64,
    pub to: i64,
    pub category: u16,
    pub harm: f64,
    /// Interned district, beat and neighbourhood codes (`u32::MAX` when unknown).
    pub areas: [u32; 3],
}

impl AnalysisEvent {
    /// Whether the event has a point that can be placed in a unit.
    pub fn has_point(&self) -> bool {
        self.x.is_finite() && self.y.is_finite()
    }

    /// The incident as sl-analytics takes it.
    pub fn incident(&self) -> sl_analytics::Incident {
        sl_analytics::Incident {
            x: self.x,
            y: self.y,
            from: self.from,
            to: self.to,
        }
    }

    /// A location key for repeat analysis: the point rounded to the metre; `None`
    /// without a point (such events never repeat one another).
    pub fn location_key(&self) -> Option<u64> {
        if !self.has_point() {
            return None;
        }
        let x = self.x.round() as i64 as u64;
        let y = self.y.round() as i64 as u64;
        Some(x.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ y)
    }
}

/// The selected events with their dataset's registry entry.
#[derive(Debug, Clone)]
pub struct EventSet {
    pub dataset: DatasetInfo,
    pub selection: Selection,
    pub events: Vec<AnalysisEvent>,
    /// Category slugs, indexed by [`AnalysisEvent::category`].
    pub categories: Vec<String>,
    /// Area codes per level (district, beat, neighbourhood).
    pub area_codes: [Vec<String>; 3],
}

impl EventSet {
    /// The code of an event's area at `level`.
    pub fn area_code(&self, e: &AnalysisEvent, level: AreaLevel) -> Option<&str> {
        let i = e.areas[level.index()];
        self.area_codes[level.index()]
            .get(i as usize)
            .map(String::as_str)
    }

    /// Events with a point.
    pub fn located(&self) -> impl Iterator<Item = &AnalysisEvent> {
        self.events.iter().filter(|e| e.has_point())
    }

    /// The dataset's time zone.
    pub fn time_zone(&self) -> Result<jiff::tz::TimeZone> {
        jiff::tz::TimeZone::get(&self.dataset.time_zone).map_err(|e| {
            EngineError::Invalid(format!(
                "dataset {} has time zone `{}` that this build does not know: {e}",
                self.dataset.name, self.dataset.time_zone
            ))
        })
    }
}

/// Looks a dataset up by name with a helpful error.
pub fn dataset_info<S: Store>(store: &S, name: &str) -> Result<DatasetInfo> {
    store
        .datasets()?
        .into_iter()
        .find(|d| d.name == name)
        .ok_or_else(|| EngineError::Store(StoreError::UnknownDataset(name.to_string())))
}

/// Converts a local calendar date of a dataset to the UTC instant of its first
/// moment (midnight, or the first instant after a DST gap).
pub fn local_midnight(time_zone: &str, date: jiff::civil::Date) -> Result<i64> {
    let tz = jiff::tz::TimeZone::get(time_zone)
        .map_err(|e| EngineError::Invalid(format!("time zone `{time_zone}`: {e}")))?;
    let z = date
        .to_zoned(tz)
        .map_err(|e| EngineError::Invalid(format!("date {date} in {time_zone}: {e}")))?;
    Ok(z.timestamp().as_second())
}

/// Reads the selected events from the store.
pub fn select<S: Store>(store: &S, selection: &Selection) -> Result<EventSet> {
    let dataset = dataset_info(store, &selection.dataset)?;
    if let (Some(a), Some(b)) = (selection.from, selection.to)
        && a >= b
    {
        return Err(EngineError::Invalid(
            "--from must be before --to (the range is [from, to): --to is the first day left out)"
                .into(),
        ));
    }
    let filter = EventFilter {
        categories: selection.categories.clone(),
        from: selection.from,
        to: selection.to,
        include_retracted: false,
        with_point_only: false,
    };
    let mut categories: Vec<String> = Vec::new();
    let mut cat_index: HashMap<String, u16> = HashMap::new();
    let mut area_codes: [Vec<String>; 3] = Default::default();
    let mut area_index: [HashMap<String, u32>; 3] = Default::default();
    let mut events = Vec::new();
    let nan = f64::NAN;
    store.scan_events(dataset.id, &filter, &mut |e| {
        let codes = [&e.district, &e.beat, &e.neighbourhood];
        if let Some(f) = &selection.area
            && codes[f.level.index()].as_deref() != Some(f.code.as_str())
        {
            return;
        }
        let category = *cat_index.entry(e.category.clone()).or_insert_with(|| {
            categories.push(e.category.clone());
            (categories.len() - 1) as u16
        });
        let mut areas = [u32::MAX; 3];
        for (level, code) in codes.iter().enumerate() {
            if let Some(code) = code {
                areas[level] = *area_index[level].entry(code.clone()).or_insert_with(|| {
                    area_codes[level].push(code.clone());
                    (area_codes[level].len() - 1) as u32
                });
            }
        }
        let point = e.precision == "exact" || e.precision == "block";
        events.push(AnalysisEvent {
            x: e.x.filter(|_| point).unwrap_or(nan),
            y: e.y.filter(|_| point).unwrap_or(nan),
            lon: e.lon.filter(|_| point).unwrap_or(nan),
            lat: e.lat.filter(|_| point).unwrap_or(nan),
            from: e.t_from,
            to: e.t_to,
            category,
            harm: e.harm,
            areas,
        });
    })?;
    Ok(EventSet {
        dataset,
        selection: selection.clone(),
        events,
        categories,
        area_codes,
    })
}

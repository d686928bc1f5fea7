//! The canonical event: one call for service, incident report or arrest.

use crate::{Category, TimeWindow, Timestamp};

/// What kind of record an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// A 911 / non-emergency call for service (not a confirmed crime).
    CallForService,
    /// A crime incident report.
    IncidentReport,
    /// An arrest, kept as offence + place + time only.
    Arrest,
}

impl SourceKind {
    /// Stable slug.
    pub fn slug(self) -> &'static str {
        match self {
            SourceKind::CallForService => "call_for_service",
            SourceKind::IncidentReport => "incident_report",
            SourceKind::Arrest => "arrest",
        }
    }

    /// Parses a slug.
    pub fn from_slug(s: &str) -> Option<Self> {
        [
            SourceKind::CallForService,
            SourceKind::IncidentReport,
            SourceKind::Arrest,
        ]
        .into_iter()
        .find(|k| k.slug() == s)
    }
}

/// How precise an event's location is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    /// The point is the place of occurrence.
    Exact,
    /// The point is generalised to a block (most open-data portals).
    Block,
    /// No point; only an area code (district, beat or neighbourhood) is known.
    AreaOnly,
    /// No location at all. Such events count in totals and trends, never on maps.
    None,
}

impl Precision {
    /// Stable slug.
    pub fn slug(self) -> &'static str {
        match self {
            Precision::Exact => "exact",
            Precision::Block => "block",
            Precision::AreaOnly => "area_only",
            Precision::None => "none",
        }
    }

    /// Parses a slug.
    pub fn from_slug(s: &str) -> Option<Self> {
        [
            Precision::Exact,
            Precision::Block,
            Precision::AreaOnly,
            Precision::None,
        ]
        .into_iter()
        .find(|p| p.slug() == s)
    }

    /// Whether the event has a point that may be drawn on a map.
    pub fn has_point(self) -> bool {
        matches!(self, Precision::Exact | Precision::Block)
    }
}

/// Where an event happened. Points are present exactly when the precision has one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Location {
    pub precision: Precision,
    /// Projected x/y in metres in the dataset's local metric CRS.
    pub xy: Option<(f64, f64)>,
    /// WGS84 longitude/latitude in degrees.
    pub lonlat: Option<(f64, f64)>,
}

impl Location {
    /// A location without a point.
    pub fn without_point(precision: Precision) -> Self {
        Self {
            precision,
            xy: None,
            lonlat: None,
        }
    }
}

/// Area codes as the source publishes them (trimmed), when known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Areas {
    pub district: Option<String>,
    pub beat: Option<String>,
    pub neighbourhood: Option<String>,
}

impl Areas {
    /// True when no area code is known.
    pub fn is_empty(&self) -> bool {
        self.district.is_none() && self.beat.is_none() && self.neighbourhood.is_none()
    }
}

/// The offence as published plus its normalised group.
#[derive(Debug, Clone, PartialEq)]
pub struct Offence {
    pub code: String,
    pub description: String,
    pub category: Category,
}

/// A stable event identity: the dataset plus the source's own record id (or, for
/// sources that publish none, a hash of the row's content).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventId {
    /// Shared by every event of a dataset, so it is reference-counted, not copied.
    pub dataset: std::sync::Arc<str>,
    pub source_id: String,
}

/// One call for service, incident report or arrest, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub kind: SourceKind,
    pub occurred: TimeWindow,
    /// The source's IANA time zone, e.g. `America/Chicago` (shared per dataset).
    pub time_zone: std::sync::Arc<str>,
    pub reported: Option<Timestamp>,
    pub location: Location,
    pub areas: Areas,
    pub offence: Offence,
    /// Harm weight from the harm table in force at ingest.
    pub harm: f64,
}

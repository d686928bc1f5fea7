//! Plain records exchanged with the store.

use sl_types::{Event, ReasonCode};

/// Row id of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DatasetId(pub i64);

/// Row id of a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceId(pub i64);

/// A dataset's registry entry.
#[derive(Debug, Clone)]
pub struct DatasetSpec {
    pub name: String,
    pub title: String,
    pub kind: String,
    pub time_zone: String,
    pub local_crs: String,
    pub profile_name: String,
    pub profile_sha256: String,
    pub profile_text: String,
    pub provenance: String,
    pub harm_source: String,
}

/// A source file as presented for loading.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub file_name: String,
    pub file_path: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub profile_sha256: String,
}

/// How far an earlier load of the same file (same bytes, same profile) got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceState {
    pub id: SourceId,
    /// Rows of the file already in the store.
    pub rows_committed: u64,
    pub complete: bool,
}

/// A stored record key, for deciding new / revised / duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredKey {
    /// The event's row id.
    pub event_id: i64,
    pub key_hash: u64,
    pub content_hash: u64,
    pub origin_source: SourceId,
    pub origin_row: u64,
}

/// An event to write, with its bookkeeping.
#[derive(Debug, Clone)]
pub struct EventWrite<'a> {
    /// The event's row id, assigned by the caller (see [`crate::Store::next_event_id`]).
    pub event_id: i64,
    pub event: &'a Event,
    pub key_hash: u64,
    pub content_hash: u64,
    pub retract_key: Option<u64>,
    /// The offence's identity hash; it is the offence row's id.
    pub offence_key: u64,
    pub origin_row: u64,
}

/// A quarantined row to write.
#[derive(Debug, Clone)]
pub struct QuarantineWrite<'a> {
    pub row: u64,
    pub line: u64,
    pub column: Option<&'a str>,
    pub reason: ReasonCode,
    pub detail: &'a str,
    pub raw: &'a str,
    /// For `DUPLICATE` rows of sources with retractions: the key a retraction would
    /// carry. A retraction may cancel a duplicate copy (one `Count = -1` per victim).
    pub retract_key: Option<u64>,
}

/// A retraction row to write.
#[derive(Debug, Clone)]
pub struct RetractionWrite<'a> {
    pub row: u64,
    pub line: u64,
    pub key: u64,
    pub raw: &'a str,
}

/// One atomic unit of loading.
#[derive(Debug, Clone)]
pub struct Batch<'a> {
    pub dataset: DatasetId,
    pub source: SourceId,
    pub inserts: Vec<EventWrite<'a>>,
    pub updates: Vec<EventWrite<'a>>,
    pub quarantine: Vec<QuarantineWrite<'a>>,
    pub retractions: Vec<RetractionWrite<'a>>,
    /// Rows whose stored event was already identical and from this very row.
    pub unchanged: u64,
    /// The file's total rows in the store once this batch commits.
    pub rows_committed: u64,
}

/// Outcome counts of one source as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceCounts {
    pub rows_committed: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Retraction rows matched to an original.
    pub retracted: u64,
    /// Retraction rows without an original.
    pub retraction_orphans: u64,
    /// Quarantined rows by reason (includes `DUPLICATE`, excludes unmatched retractions).
    pub reasons: Vec<(String, u64)>,
}

/// A dataset with totals.
#[derive(Debug, Clone)]
pub struct DatasetInfo {
    pub id: DatasetId,
    pub name: String,
    pub title: String,
    pub kind: String,
    pub time_zone: String,
    pub local_crs: String,
    pub profile_name: String,
    pub profile_sha256: String,
    pub provenance: String,
    pub harm_source: String,
    pub created_at: String,
    pub updated_at: String,
    pub events: u64,
    pub retracted_events: u64,
    /// Quarantined rows (unmatched retractions included, duplicates not).
    pub quarantined: u64,
    pub duplicates: u64,
    pub sources: u64,
}

/// A source file's registry entry.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    pub id: SourceId,
    pub file_name: String,
    pub file_path: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub profile_sha256: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub complete: bool,
    pub rows_committed: u64,
}

/// Which events to scan.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Category slugs; empty means all.
    pub categories: Vec<String>,
    /// Occurrence window start at or after this (UTC seconds).
    pub from: Option<i64>,
    /// Occurrence window start before this (UTC seconds).
    pub to: Option<i64>,
    /// Include retracted events.
    pub include_retracted: bool,
    /// Only events with a point.
    pub with_point_only: bool,
}

/// An event as stored.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: i64,
    pub source_key: String,
    pub kind: String,
    pub t_from: i64,
    pub t_to: i64,
    pub time_zone: String,
    pub reported: Option<i64>,
    pub precision: String,
    pub x: Option<f64>,
    pub y: Option<f64>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub district: Option<String>,
    pub beat: Option<String>,
    pub neighbourhood: Option<String>,
    pub code: String,
    pub description: String,
    pub category: String,
    pub harm: f64,
    pub retracted: bool,
}

/// A quarantined row as stored.
#[derive(Debug, Clone)]
pub struct QuarantinedRow {
    pub file_name: String,
    pub row: u64,
    pub line: u64,
    pub column: Option<String>,
    pub reason: String,
    pub detail: String,
    pub raw: String,
}

/// Result of [`crate::Store::check_integrity`].
#[derive(Debug, Clone, Default)]
pub struct IntegrityReport {
    /// `ok` from SQLite's `PRAGMA integrity_check`, or its complaints.
    pub sqlite: Vec<String>,
    /// Violations of the store's own invariants.
    pub problems: Vec<String>,
}

impl IntegrityReport {
    /// True when nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.sqlite == ["ok"] && self.problems.is_empty()
    }
}

/// A saved forecast: the model, the settings that made it, its fitted parameters and
/// its scores per cell, each as JSON text written by the edge that saved it.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastRecord {
    pub model: String,
    pub settings: String,
    pub parameters: String,
    pub scores: String,
}

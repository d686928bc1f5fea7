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

/// A user account as stored. Times are UTC milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    /// Unique; the engine stores names in lower case.
    pub name: String,
    /// The role's stable name (`admin`, `analyst`, `supervisor`, `viewer`).
    pub role: String,
    /// The password hash as a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
    pub password_hash: String,
    /// The password was set by someone other than the user (generated, or reset by an
    /// admin) and should be changed at the next login.
    pub must_change_password: bool,
    pub created_ms: i64,
    /// Locked after repeated failed logins, until an admin unlocks it.
    pub locked: bool,
    /// When it was locked.
    pub locked_ms: Option<i64>,
    /// Disabled accounts cannot log in and keep no session.
    pub disabled: bool,
}

/// A user to create.
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
    pub must_change_password: bool,
    pub created_ms: i64,
}

/// What [`crate::Store::record_login_failure`] found after recording one failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailures {
    /// Failures of this user inside the window, this one included.
    pub recent: u32,
    /// This failure reached the threshold and locked the account (it was not locked before).
    pub locked_now: bool,
}

/// A login session. Only the SHA-256 of the token is stored, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Lower-case hex SHA-256 of the token the client holds.
    pub token_hash: String,
    pub user_id: i64,
    pub created_ms: i64,
    pub last_seen_ms: i64,
    /// Ended by logout, expiry or an admin; a revoked session never authenticates again.
    pub revoked: bool,
}

/// The fields of an audit record that its writer chooses; the store adds the id and
/// the chain (`prev_hash`, `hash`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// UTC milliseconds since the Unix epoch.
    pub ts_ms: i64,
    /// The acting user's name; `None` when nobody is authenticated (a failed login) or
    /// the actor is the local operator of the command line.
    pub actor: Option<String>,
    /// What happened, e.g. `login`, `user.add`, `data.export`.
    pub action: String,
    /// What it happened to, e.g. `user:alice`, `dataset:stlouis-slmpd`.
    pub object: String,
    /// How it ended, e.g. `ok`, `wrong_password`, `denied`.
    pub outcome: String,
    /// Where the request came from: a client address, or `cli`.
    pub source: String,
}

/// An audit record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// 1, 2, 3, … in the order of writing.
    pub id: i64,
    pub ts_ms: i64,
    pub actor: Option<String>,
    pub action: String,
    pub object: String,
    pub outcome: String,
    pub source: String,
    /// The previous record's `hash` (a fixed genesis value for record 1).
    pub prev_hash: String,
    /// This record's hash over `prev_hash` and its own fields.
    pub hash: String,
}

impl AuditRecord {
    /// The fields its writer chose.
    pub fn entry(&self) -> AuditEntry {
        AuditEntry {
            ts_ms: self.ts_ms,
            actor: self.actor.clone(),
            action: self.action.clone(),
            object: self.object.clone(),
            outcome: self.outcome.clone(),
            source: self.source.clone(),
        }
    }
}

/// A context layer's registry entry (what listing needs; no geometry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextLayerInfo {
    pub dataset: DatasetId,
    /// Unique per dataset; putting a layer of the same name replaces it.
    pub name: String,
    /// `points`, `lines` or `polygons`.
    pub kind: String,
    /// The uploaded file's name (or the name given for an uploaded body).
    pub file_name: String,
    /// SHA-256 of the uploaded bytes, lower-case hex.
    pub sha256: String,
    /// UTC milliseconds since the Unix epoch.
    pub uploaded_ms: i64,
    /// Features stored.
    pub features: u64,
    /// The property holding each polygon's population, for rates per 1,000 residents.
    pub population_field: Option<String>,
}

/// A context layer with its features: a GeoJSON FeatureCollection in WGS84 lon/lat,
/// as text written by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextLayerRecord {
    pub info: ContextLayerInfo,
    pub geojson: String,
}

//! Streetlight storage: a [`Store`] trait and its default SQLite backend.
//!
//! Architecture invariant: callers speak only the [`Store`] trait and the plain
//! records in [`model`]; nothing above this crate writes SQL. A PostgreSQL backend
//! implements the same trait without touching callers.
//!
//! Architecture invariant: a [`Batch`] is applied atomically. Events, quarantined rows,
//! retraction rows and the source's progress counter commit in one transaction, so a
//! process killed at any moment leaves whole batches only, and the progress counter
//! always says exactly how many rows of the file are in the store.

mod model;
mod sqlite;

pub use model::*;
pub use sqlite::SqliteStore;

/// A storage failure. `Sqlite` wraps the engine's message; `Corrupt` means the store's
/// own invariants do not hold.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot open database {path}: {message}")]
    Open { path: String, message: String },
    #[error("store is inconsistent: {0}")]
    Corrupt(String),
    #[error("dataset `{0}` is not in this database: run `streetlight datasets` to list what is")]
    UnknownDataset(String),
    /// The request conflicts with what is stored; the message says what to do.
    #[error("{0}")]
    Conflict(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A hasher for keys that already are uniform 64-bit hashes (record keys, offence ids):
/// it passes them through instead of hashing them again.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// What the engine needs from storage.
pub trait Store {
    /// Creates or refreshes a dataset's registry entry; returns its id.
    fn upsert_dataset(&mut self, spec: &DatasetSpec) -> Result<DatasetId>;
    /// Saves a forecast; returns its id.
    fn save_forecast(&mut self, dataset: DatasetId, forecast: &ForecastRecord) -> Result<i64>;
    /// Saved forecasts of a dataset: (id, created at, record), oldest first.
    fn forecasts(&self, dataset: DatasetId) -> Result<Vec<(i64, String, ForecastRecord)>>;
    /// Records the jurisdiction boundary a dataset is validated against: the file's
    /// name and its polygons in the JSON form of `sl_ingest::Boundary::to_json`.
    fn set_boundary(&mut self, dataset: DatasetId, file_name: &str, body: &str) -> Result<()>;
    /// The stored boundary of a dataset: (file name, body).
    fn boundary(&self, dataset: DatasetId) -> Result<Option<(String, String)>>;
    /// Looks up a dataset by name.
    fn dataset_id(&self, name: &str) -> Result<Option<DatasetId>>;
    /// Removes earlier loads of the same file bytes made with another configuration
    /// (profile or harm table): their events, quarantined rows, retraction rows and
    /// registry entries. Returns whether anything was removed.
    fn supersede_file(
        &mut self,
        dataset: DatasetId,
        sha256: &str,
        keep_config: &str,
    ) -> Result<bool>;
    /// Finds (or registers) a source file; tells how far an earlier load got.
    fn open_source(&mut self, dataset: DatasetId, file: &SourceFile) -> Result<SourceState>;
    /// The first free event id. Ingest assigns event ids itself, in file order, so the
    /// store needs no index on record keys while loading (one loader at a time: a second
    /// concurrent loader fails on the id's uniqueness, it cannot corrupt the store).
    fn next_event_id(&self) -> Result<i64>;
    /// Every stored record key of a dataset, for duplicate and revision checks.
    fn load_keys(&self, dataset: DatasetId) -> Result<Vec<StoredKey>>;
    /// Applies one batch atomically.
    fn commit_batch(&mut self, batch: &Batch<'_>) -> Result<()>;
    /// Marks a source complete.
    fn finish_source(&mut self, source: SourceId) -> Result<()>;
    /// Re-matches every retraction of a dataset to its original, deterministically.
    fn reconcile_retractions(&mut self, dataset: DatasetId) -> Result<()>;
    /// Per-source outcome counts.
    fn source_counts(&self, source: SourceId) -> Result<SourceCounts>;
    /// Registered datasets with totals.
    fn datasets(&self) -> Result<Vec<DatasetInfo>>;
    /// Sources of a dataset.
    fn sources(&self, dataset: DatasetId) -> Result<Vec<SourceInfo>>;
    /// Calls `f` for each stored event of a dataset matching `filter`.
    fn scan_events(
        &self,
        dataset: DatasetId,
        filter: &EventFilter,
        f: &mut dyn FnMut(&StoredEvent),
    ) -> Result<()>;
    /// Calls `f` with the local metres and WGS84 degrees `(x, y, lon, lat)` of every
    /// stored, unretracted event of a dataset that has a point (a lean scan for
    /// building grids, hexagons and masks).
    fn scan_points(&self, dataset: DatasetId, f: &mut dyn FnMut(f64, f64, f64, f64)) -> Result<()>;
    /// The distinct area codes of a dataset's unretracted events at a level
    /// (`district`, `beat` or `neighbourhood`), sorted.
    fn area_codes(&self, dataset: DatasetId, level: &str) -> Result<Vec<String>>;
    /// Quarantined rows by reason code (including unmatched retractions).
    fn reason_counts(&self, dataset: DatasetId) -> Result<Vec<(String, u64)>>;
    /// Retraction rows: (matched, unmatched).
    fn retraction_counts(&self, dataset: DatasetId) -> Result<(u64, u64)>;
    /// Quarantined rows, up to `limit`, optionally of one reason.
    fn quarantined(
        &self,
        dataset: DatasetId,
        reason: Option<&str>,
        limit: usize,
    ) -> Result<Vec<QuarantinedRow>>;
    /// Structural checks: SQLite integrity plus the store's own invariants.
    fn check_integrity(&self) -> Result<IntegrityReport>;
}

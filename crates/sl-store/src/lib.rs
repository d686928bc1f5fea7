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

    // --- Context layers (validation lives in `sl_engine::context_layers`) ---

    /// Stores a context layer, replacing one of the same dataset and name; returns
    /// whether one was replaced. The dataset must exist.
    fn put_context_layer(&mut self, layer: &ContextLayerRecord) -> Result<bool>;
    /// A dataset's context layers (without their features), by name.
    fn context_layers(&self, dataset: DatasetId) -> Result<Vec<ContextLayerInfo>>;
    /// One context layer with its features.
    fn context_layer(&self, dataset: DatasetId, name: &str) -> Result<Option<ContextLayerRecord>>;
    /// Removes a context layer; returns whether there was one.
    fn remove_context_layer(&mut self, dataset: DatasetId, name: &str) -> Result<bool>;
    /// Looks up a dataset by name.
    fn dataset_id(&self, name: &str) -> Result<Option<DatasetId>>;
    /// The earliest and latest occurrence start (UTC seconds) of each dataset's live
    /// (not retracted) events, in one pass over the events; datasets without live events
    /// are left out.
    fn occurrence_ranges(&self) -> Result<Vec<(DatasetId, i64, i64)>>;
    /// Every registered dataset's id and name, by name. Unlike [`Store::datasets`] it
    /// counts nothing, so it is cheap enough for every request.
    fn dataset_names(&self) -> Result<Vec<(DatasetId, String)>>;
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
    /// A fingerprint of a dataset's stored data: it changes whenever the dataset's
    /// events do (a load, a revision, a retraction, a superseded file), when its
    /// registry entry is refreshed and when its retractions are matched again, and it is
    /// equal for equal stored data. Unlike the
    /// totals of [`Store::datasets`] it does not count the events: it reads the
    /// registry, the source table and the retracted events only, so it is cheap enough
    /// to check on every request (the server's answer cache keys on it). `None` when
    /// there is no such dataset.
    fn data_generation(&self, dataset: DatasetId) -> Result<Option<String>>;
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

    // --- Accounts (policy lives in `sl_engine::accounts`; these only store) ---

    /// Creates a user; returns its id. A name already taken is a
    /// [`StoreError::Conflict`].
    fn insert_user(&mut self, user: &NewUser<'_>) -> Result<i64>;
    /// A user by exact (stored) name.
    fn user(&self, name: &str) -> Result<Option<UserRecord>>;
    /// A user by id.
    fn user_by_id(&self, id: i64) -> Result<Option<UserRecord>>;
    /// Every user, by name.
    fn users(&self) -> Result<Vec<UserRecord>>;
    /// Changes a user's role.
    fn set_user_role(&mut self, id: i64, role: &str) -> Result<()>;
    /// Replaces a user's password hash and its must-change flag.
    fn set_user_password(
        &mut self,
        id: i64,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<()>;
    /// Disables (or re-enables) a user.
    fn set_user_disabled(&mut self, id: i64, disabled: bool) -> Result<()>;
    /// Clears the lock and every recorded login failure of a user.
    fn unlock_user(&mut self, id: i64) -> Result<()>;
    /// Records a failed login at `now_ms` and, in the same transaction, counts the
    /// user's failures in the window `(now_ms - window_ms, now_ms]`; when that count
    /// reaches `threshold` the account is locked. Atomic, so concurrent failures from
    /// several connections are all counted.
    fn record_login_failure(
        &mut self,
        id: i64,
        now_ms: i64,
        window_ms: i64,
        threshold: u32,
    ) -> Result<LoginFailures>;
    /// Forgets a user's recorded login failures (after a successful login).
    fn clear_login_failures(&mut self, id: i64) -> Result<()>;

    // --- Sessions ---

    /// Stores a new session. A token hash already present is a [`StoreError::Conflict`].
    fn insert_session(&mut self, session: &SessionRecord) -> Result<()>;
    /// A session by token hash, revoked or not.
    fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>>;
    /// Sets a live session's `last_seen_ms` (never moving it backwards).
    fn touch_session(&mut self, token_hash: &str, now_ms: i64) -> Result<()>;
    /// Revokes one session; returns whether it was live before.
    fn revoke_session(&mut self, token_hash: &str) -> Result<bool>;
    /// Revokes every live session of a user; returns how many there were.
    fn revoke_user_sessions(&mut self, user_id: i64) -> Result<u64>;
    /// Deletes sessions created before `created_before_ms` (all of them dead by the
    /// absolute lifetime); returns how many.
    fn purge_sessions(&mut self, created_before_ms: i64) -> Result<u64>;

    // --- Audit log (append-only; the chain's hash lives in `sl_engine::audit`) ---

    /// Appends one record. In one write transaction the store reads the last record,
    /// takes the next id (1 for the first record) and the last record's hash as
    /// `prev_hash` (`genesis` for the first record), calls `seal(id, prev_hash, entry)`
    /// for the record's hash, and inserts it; so concurrent writers never fork the chain.
    fn append_audit(
        &mut self,
        entry: &AuditEntry,
        genesis: &str,
        seal: &dyn Fn(i64, &str, &AuditEntry) -> String,
    ) -> Result<AuditRecord>;
    /// Calls `f` with every audit record in id order.
    fn scan_audit(&self, f: &mut dyn FnMut(&AuditRecord)) -> Result<()>;
    /// The last `limit` audit records, oldest first.
    fn audit_tail(&self, limit: usize) -> Result<Vec<AuditRecord>>;
}

//! The SQLite backend: one file, WAL journal, batches as transactions.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use sl_types::ReasonCode;

use crate::model::*;
use crate::{Result, Store, StoreError};

const SCHEMA_VERSION: i64 = 2;

/// Size of the memory map of the store file, bytes.
const MMAP_BYTES: u64 = 1 << 30;

/// Pages of write-ahead log after which a commit checkpoints (~128 MiB at 8 KiB pages).
const WAL_AUTOCHECKPOINT_PAGES: i64 = 16_384;

/// Size the write-ahead log file is truncated to when it starts again, bytes.
const JOURNAL_SIZE_LIMIT: i64 = 64 << 20;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS datasets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    local_crs TEXT NOT NULL,
    profile_name TEXT NOT NULL,
    profile_sha256 TEXT NOT NULL,
    profile_toml TEXT NOT NULL,
    provenance TEXT NOT NULL,
    harm_source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    file_name TEXT NOT NULL,
    file_path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    profile_sha256 TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    complete INTEGER NOT NULL DEFAULT 0,
    rows_committed INTEGER NOT NULL DEFAULT 0,
    inserted INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    UNIQUE (dataset_id, sha256, profile_sha256)
);
-- Offences are few per dataset (tens to hundreds); events refer to them by id.
CREATE TABLE IF NOT EXISTS offences (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL,
    code TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    harm REAL NOT NULL,
    UNIQUE (dataset_id, code, description, category, harm)
);
-- An offence's id is the hash of its identity (dataset, code, description, category, harm).
-- kind and time zone are the dataset's (every row of a profile shares them).
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL,
    key_hash INTEGER NOT NULL,
    source_key TEXT NOT NULL,
    t_from INTEGER NOT NULL,
    t_to INTEGER NOT NULL,
    reported INTEGER,
    precision TEXT NOT NULL,
    x REAL, y REAL, lon REAL, lat REAL,
    district TEXT, beat TEXT, neighbourhood TEXT,
    offence_id INTEGER NOT NULL REFERENCES offences(id),
    content_hash INTEGER NOT NULL,
    retract_key INTEGER,
    retracted INTEGER NOT NULL DEFAULT 0,
    origin_source INTEGER NOT NULL,
    origin_row INTEGER NOT NULL
);
-- Record keys are unique per dataset; the loader enforces it with its in-memory key map
-- and addresses events by id, so no key index slows bulk loads (`check` verifies).
DROP INDEX IF EXISTS events_key;
CREATE INDEX IF NOT EXISTS events_retract ON events (dataset_id, retract_key) WHERE retract_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_retracted ON events (dataset_id) WHERE retracted = 1;
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL,
    source_id INTEGER NOT NULL,
    row INTEGER NOT NULL,
    line INTEGER NOT NULL,
    col TEXT,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    raw TEXT NOT NULL,
    retract_key INTEGER,
    cancelled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS quarantine_retract ON quarantine (dataset_id, retract_key) WHERE retract_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS quarantine_source ON quarantine (source_id, reason);
CREATE INDEX IF NOT EXISTS quarantine_dataset ON quarantine (dataset_id, reason);
CREATE TABLE IF NOT EXISTS retractions (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL,
    source_id INTEGER NOT NULL,
    row INTEGER NOT NULL,
    line INTEGER NOT NULL,
    retract_key INTEGER NOT NULL,
    raw TEXT NOT NULL,
    matched_event INTEGER,
    matched_duplicate INTEGER
);
CREATE INDEX IF NOT EXISTS retractions_dataset ON retractions (dataset_id, source_id, row);
-- Forecasts saved by `streetlight forecast --save`: the settings and fitted parameters
-- needed to reproduce them, and the scores per cell (JSON).
CREATE TABLE IF NOT EXISTS forecasts (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    model TEXT NOT NULL,
    settings TEXT NOT NULL,
    parameters TEXT NOT NULL,
    scores TEXT NOT NULL
);
-- The jurisdiction boundary a dataset was validated against (lon/lat rings as JSON),
-- so analyses can mask grids to it without finding the file again.
CREATE TABLE IF NOT EXISTS boundaries (
    dataset_id INTEGER PRIMARY KEY,
    file_name TEXT NOT NULL,
    body TEXT NOT NULL
);
-- Context layers an agency uploads (transit stops, schools, bars, census tracts with
-- population): one GeoJSON FeatureCollection in WGS84 per layer, checked by the engine.
CREATE TABLE IF NOT EXISTS context_layers (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_ms INTEGER NOT NULL,
    features INTEGER NOT NULL,
    population_field TEXT,
    geojson TEXT NOT NULL,
    PRIMARY KEY (dataset_id, name)
);
-- Accounts. Passwords are Argon2id PHC strings; times are UTC milliseconds.
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    locked INTEGER NOT NULL DEFAULT 0,
    locked_ms INTEGER,
    disabled INTEGER NOT NULL DEFAULT 0
);
-- Failed logins per user, for the sliding lockout window.
CREATE TABLE IF NOT EXISTS login_failures (
    user_id INTEGER NOT NULL REFERENCES users(id),
    ts_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_user ON login_failures (user_id, ts_ms);
-- Sessions are keyed by the SHA-256 of their token; the token itself is never stored.
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
-- The audit trail: append-only, each record chained to the previous by hash. The
-- triggers stop accidental edits; the chain makes deliberate ones detectable.
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    ts_ms INTEGER NOT NULL,
    actor TEXT,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    outcome TEXT NOT NULL,
    source TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"#;

/// The default store: a single SQLite file in WAL mode.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    /// Offence ids; cleared whenever a transaction fails, since ids it made may have
    /// been rolled back.
    offence_ids: OffenceCache,
}

fn now_text() -> String {
    // RFC 3339 UTC to the millisecond, computed without a time library dependency.
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, dd) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn to_i64(v: u64) -> i64 {
    v as i64
}

impl SqliteStore {
    /// Opens (creating if needed) a store file.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path).map_err(|e| StoreError::Open {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::init(conn, path)
    }

    /// Turns the memory map of the store file on (as [`SqliteStore::open`] leaves it)
    /// or off. Long reads (analyses scanning a whole dataset) run markedly faster with
    /// it. A connection among many in one process, some reading while others write
    /// (the HTTP server's pool), does better without it between long reads: SQLite
    /// unmaps a connection's whole map at its next transaction after any other
    /// connection has committed, and the server writes at every request (session
    /// activity, audit records), so the map would be torn down and faulted in again
    /// all the time.
    pub fn set_memory_map(&self, on: bool) -> Result<()> {
        let bytes = if on { MMAP_BYTES } else { 0 };
        self.conn
            .execute_batch(&format!("PRAGMA mmap_size={bytes};"))?;
        Ok(())
    }

    /// Turns the upkeep of the write-ahead log at commit on (as
    /// [`SqliteStore::open`] leaves it) or off. On, the commit that takes the log past
    /// 16,384 pages copies it into the store file (a checkpoint, with two `fsync`s),
    /// and the first commit after the log starts again from its beginning truncates
    /// the file to 64 MiB. Off, neither happens at commit: for a connection whose
    /// process checkpoints on a thread of its own ([`SqliteStore::checkpoint`]) and
    /// whose every request commits (the HTTP server), where either would stall every
    /// request waiting to write behind the one that does it. The log file then keeps
    /// the largest size it reached until the last connection closes.
    pub fn set_wal_upkeep_at_commit(&self, on: bool) -> Result<()> {
        let (pages, limit) = if on {
            (WAL_AUTOCHECKPOINT_PAGES, JOURNAL_SIZE_LIMIT)
        } else {
            (0, -1)
        };
        self.conn.execute_batch(&format!(
            "PRAGMA wal_autocheckpoint={pages}; PRAGMA journal_size_limit={limit};"
        ))?;
        Ok(())
    }

    /// Copies what it can of the write-ahead log into the store file without waiting
    /// for other connections (a passive checkpoint: writers go on writing meanwhile).
    /// Returns the log's pages and how many of them are now in the store file; once
    /// all are, the next writer starts the log again from its beginning.
    pub fn checkpoint(&self) -> Result<(u64, u64)> {
        let (_busy, log, done): (i64, i64, i64) =
            self.conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
        Ok((log.max(0) as u64, done.max(0) as u64))
    }

    /// An in-memory store (tests).
    pub fn in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?, Path::new(":memory:"))
    }

    fn init(conn: Connection, path: &Path) -> Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        // Larger pages suit a table of fixed-width event rows written in bulk. The page
        // size only takes effect before the first table is created.
        conn.execute_batch("PRAGMA page_size=8192;")?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if path != Path::new(":memory:") && !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Open {
                path: path.display().to_string(),
                message: format!("could not switch to WAL journal mode (got {mode})"),
            });
        }
        // WAL with synchronous=NORMAL: a commit is durable against a process crash (the
        // case the ingest guarantees are about); a power loss may drop the last commits,
        // never corrupt the file. Checkpoints run every 16,384 pages of WAL (128 MiB) rather
        // than 1,000, which halves the writes of a bulk load.
        conn.execute_batch(
            "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;
             PRAGMA cache_size=-131072;",
        )?;
        conn.execute_batch(&format!(
            "PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}; PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT};"
        ))?;
        conn.execute_batch(&format!("PRAGMA mmap_size={MMAP_BYTES};"))?;
        let existing: Option<String> = conn
            .query_row(
                "SELECT value FROM sqlite_master m, meta WHERE m.name='meta' AND meta.key='schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .unwrap_or(None);
        if let Some(v) = existing
            && v.parse::<i64>().ok() != Some(SCHEMA_VERSION)
        {
            return Err(StoreError::Open {
                path: path.display().to_string(),
                message: format!(
                    "schema version {v} is not {SCHEMA_VERSION}: this database was written by another Streetlight version"
                ),
            });
        }
        conn.execute_batch(SCHEMA)?;
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?1)",
            [SCHEMA_VERSION.to_string()],
        )?;
        Ok(Self {
            conn,
            offence_ids: OffenceCache::default(),
        })
    }

    /// Direct access for read-only helpers in this crate's tests.
    #[cfg(test)]
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

fn opt_str(s: &Option<String>) -> Option<&str> {
    s.as_deref()
}

/// Offence ids already written and checked in this session. An offence's id is the
/// hash of its identity (computed during normalisation), so the writer only touches
/// the offences table the first time it meets an id.
#[derive(Debug, Default)]
struct OffenceCache {
    known: std::collections::HashSet<u64, std::hash::BuildHasherDefault<crate::IdHasher>>,
}

impl OffenceCache {
    fn clear(&mut self) {
        self.known.clear();
    }
}

/// Files the offence of an event under its id, once per session; a stored row with the
/// same id but another identity would be a hash collision and is reported, not merged.
fn offence_id(
    tx: &rusqlite::Transaction<'_>,
    cache: &mut OffenceCache,
    dataset: i64,
    w: &EventWrite<'_>,
) -> Result<i64> {
    let id = w.offence_key as i64;
    if cache.known.contains(&w.offence_key) {
        return Ok(id);
    }
    let e = w.event;
    let o = &e.offence;
    tx.execute(
        "INSERT OR IGNORE INTO offences (id, dataset_id, code, description, category, harm) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, dataset, o.code, o.description, o.category.slug(), e.harm],
    )?;
    let same: bool = tx.query_row(
        "SELECT dataset_id=?2 AND code=?3 AND description=?4 AND category=?5 AND harm=?6 FROM offences WHERE id=?1",
        params![id, dataset, o.code, o.description, o.category.slug(), e.harm],
        |r| r.get(0),
    )?;
    if !same {
        return Err(StoreError::Corrupt(format!(
            "offence id {id} is taken by another offence than `{}` ({}): a hash collision; report it",
            o.code, o.description
        )));
    }
    cache.known.insert(w.offence_key);
    Ok(id)
}

/// Binds an event to parameters ?1..?20 of the insert or update statement (both use
/// the same numbering; ?20 is the event id).
fn bind_event(
    stmt: &mut rusqlite::CachedStatement<'_>,
    b: &Batch<'_>,
    w: &EventWrite<'_>,
    offence: i64,
) -> rusqlite::Result<()> {
    let e = w.event;
    stmt.raw_bind_parameter(1, b.dataset.0)?;
    stmt.raw_bind_parameter(2, w.key_hash as i64)?;
    stmt.raw_bind_parameter(3, &*e.id.source_id)?;
    stmt.raw_bind_parameter(4, e.occurred.from.0)?;
    stmt.raw_bind_parameter(5, e.occurred.to.0)?;
    stmt.raw_bind_parameter(6, e.reported.map(|t| t.0))?;
    stmt.raw_bind_parameter(7, e.location.precision.slug())?;
    stmt.raw_bind_parameter(8, e.location.xy.map(|p| p.0))?;
    stmt.raw_bind_parameter(9, e.location.xy.map(|p| p.1))?;
    stmt.raw_bind_parameter(10, e.location.lonlat.map(|p| p.0))?;
    stmt.raw_bind_parameter(11, e.location.lonlat.map(|p| p.1))?;
    stmt.raw_bind_parameter(12, opt_str(&e.areas.district))?;
    stmt.raw_bind_parameter(13, opt_str(&e.areas.beat))?;
    stmt.raw_bind_parameter(14, opt_str(&e.areas.neighbourhood))?;
    stmt.raw_bind_parameter(15, offence)?;
    stmt.raw_bind_parameter(16, w.content_hash as i64)?;
    stmt.raw_bind_parameter(17, w.retract_key.map(|k| k as i64))?;
    stmt.raw_bind_parameter(18, b.source.0)?;
    stmt.raw_bind_parameter(19, to_i64(w.origin_row))?;
    stmt.raw_bind_parameter(20, w.event_id)?;
    Ok(())
}

fn write_batch(conn: &mut Connection, cache: &mut OffenceCache, b: &Batch<'_>) -> Result<()> {
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO events (id, dataset_id, key_hash, source_key, t_from, t_to, reported, precision,
                x, y, lon, lat, district, beat, neighbourhood, offence_id, content_hash, retract_key,
                origin_source, origin_row)
             VALUES (?20, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
        )?;
        // Ids ascend in file order already; sorting is cheap insurance for appends.
        let mut order: Vec<&EventWrite<'_>> = b.inserts.iter().collect();
        order.sort_unstable_by_key(|w| w.event_id);
        for w in order {
            let offence = offence_id(&tx, cache, b.dataset.0, w)?;
            bind_event(&mut insert, b, w, offence)?;
            insert.raw_execute()?;
        }
        let mut update = tx.prepare_cached(
            "UPDATE events SET source_key=?3, t_from=?4, t_to=?5, reported=?6, precision=?7,
                x=?8, y=?9, lon=?10, lat=?11, district=?12, beat=?13, neighbourhood=?14, offence_id=?15,
                content_hash=?16, retract_key=?17, origin_source=?18, origin_row=?19
             WHERE id=?20 AND dataset_id=?1 AND key_hash=?2",
        )?;
        for w in &b.updates {
            let e = w.event;
            let offence = offence_id(&tx, cache, b.dataset.0, w)?;
            bind_event(&mut update, b, w, offence)?;
            let n = update.raw_execute()?;
            if n != 1 {
                return Err(StoreError::Corrupt(format!(
                    "revision of `{}` found no stored event to replace",
                    e.id.source_id
                )));
            }
        }
        let mut quarantine = tx.prepare_cached(
            "INSERT INTO quarantine (dataset_id, source_id, row, line, col, reason, detail, raw, retract_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for q in &b.quarantine {
            quarantine.execute(params![
                b.dataset.0,
                b.source.0,
                to_i64(q.row),
                to_i64(q.line),
                q.column,
                q.reason.as_str(),
                q.detail,
                q.raw,
                q.retract_key.map(|k| k as i64)
            ])?;
        }
        let mut retraction = tx.prepare_cached(
            "INSERT INTO retractions (dataset_id, source_id, row, line, retract_key, raw)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for r in &b.retractions {
            retraction.execute(params![
                b.dataset.0,
                b.source.0,
                to_i64(r.row),
                to_i64(r.line),
                r.key as i64,
                r.raw
            ])?;
        }
        let n = tx.execute(
            "UPDATE sources SET rows_committed=?2, inserted=inserted+?3, updated=updated+?4, unchanged=unchanged+?5
             WHERE id=?1 AND complete=0",
            params![
                b.source.0,
                to_i64(b.rows_committed),
                b.inserts.len() as i64,
                b.updates.len() as i64,
                to_i64(b.unchanged)
            ],
        )?;
        if n != 1 {
            return Err(StoreError::Corrupt(format!(
                "source {} is missing or already complete",
                b.source.0
            )));
        }
    }
    tx.commit()?;
    Ok(())
}

impl Store for SqliteStore {
    fn upsert_dataset(&mut self, s: &DatasetSpec) -> Result<DatasetId> {
        let now = now_text();
        self.conn.execute(
            "INSERT INTO datasets (name, title, kind, time_zone, local_crs, profile_name, profile_sha256, profile_toml, provenance, harm_source, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
             ON CONFLICT(name) DO UPDATE SET title=excluded.title, kind=excluded.kind, time_zone=excluded.time_zone,
               local_crs=excluded.local_crs, profile_name=excluded.profile_name, profile_sha256=excluded.profile_sha256,
               profile_toml=excluded.profile_toml, provenance=excluded.provenance, harm_source=excluded.harm_source,
               updated_at=excluded.updated_at",
            params![s.name, s.title, s.kind, s.time_zone, s.local_crs, s.profile_name, s.profile_sha256, s.profile_text, s.provenance, s.harm_source, now],
        )?;
        let id = self
            .conn
            .query_row("SELECT id FROM datasets WHERE name=?1", [&s.name], |r| {
                r.get(0)
            })?;
        Ok(DatasetId(id))
    }

    fn save_forecast(&mut self, dataset: DatasetId, f: &ForecastRecord) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO forecasts (dataset_id, created_at, model, settings, parameters, scores) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![dataset.0, now_text(), f.model, f.settings, f.parameters, f.scores],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn forecasts(&self, dataset: DatasetId) -> Result<Vec<(i64, String, ForecastRecord)>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, created_at, model, settings, parameters, scores FROM forecasts WHERE dataset_id=?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([dataset.0], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                ForecastRecord {
                    model: r.get(2)?,
                    settings: r.get(3)?,
                    parameters: r.get(4)?,
                    scores: r.get(5)?,
                },
            ))
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn set_boundary(&mut self, dataset: DatasetId, file_name: &str, body: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO boundaries (dataset_id, file_name, body) VALUES (?1, ?2, ?3)
             ON CONFLICT(dataset_id) DO UPDATE SET file_name=excluded.file_name, body=excluded.body",
            params![dataset.0, file_name, body],
        )?;
        Ok(())
    }

    fn boundary(&self, dataset: DatasetId) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT file_name, body FROM boundaries WHERE dataset_id=?1",
                [dataset.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn put_context_layer(&mut self, layer: &ContextLayerRecord) -> Result<bool> {
        let i = &layer.info;
        let tx = self.conn.transaction()?;
        let replaced = tx.execute(
            "DELETE FROM context_layers WHERE dataset_id=?1 AND name=?2",
            params![i.dataset.0, i.name],
        )? > 0;
        tx.execute(
            "INSERT INTO context_layers (dataset_id, name, kind, file_name, sha256, uploaded_ms, features, population_field, geojson)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                i.dataset.0,
                i.name,
                i.kind,
                i.file_name,
                i.sha256,
                i.uploaded_ms,
                to_i64(i.features),
                i.population_field,
                layer.geojson
            ],
        )?;
        tx.commit()?;
        Ok(replaced)
    }

    fn context_layers(&self, dataset: DatasetId) -> Result<Vec<ContextLayerInfo>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {CONTEXT_LAYER_COLUMNS} FROM context_layers WHERE dataset_id=?1 ORDER BY name"
        ))?;
        let rows = stmt.query_map([dataset.0], context_layer_row)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn context_layer(&self, dataset: DatasetId, name: &str) -> Result<Option<ContextLayerRecord>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {CONTEXT_LAYER_COLUMNS}, geojson FROM context_layers WHERE dataset_id=?1 AND name=?2"
                ),
                params![dataset.0, name],
                |r| {
                    Ok(ContextLayerRecord {
                        info: context_layer_row(r)?,
                        geojson: r.get(8)?,
                    })
                },
            )
            .optional()?)
    }

    fn remove_context_layer(&mut self, dataset: DatasetId, name: &str) -> Result<bool> {
        Ok(self.conn.execute(
            "DELETE FROM context_layers WHERE dataset_id=?1 AND name=?2",
            params![dataset.0, name],
        )? > 0)
    }

    fn dataset_id(&self, name: &str) -> Result<Option<DatasetId>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM datasets WHERE name=?1")?
            .query_row([name], |r| r.get(0))
            .optional()?
            .map(DatasetId))
    }

    fn occurrence_ranges(&self) -> Result<Vec<(DatasetId, i64, i64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT dataset_id, MIN(t_from), MAX(t_from) FROM events WHERE retracted=0 GROUP BY dataset_id",
        )?;
        let rows = stmt.query_map([], |r| Ok((DatasetId(r.get(0)?), r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn dataset_names(&self) -> Result<Vec<(DatasetId, String)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name FROM datasets ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((DatasetId(r.get(0)?), r.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn supersede_file(
        &mut self,
        dataset: DatasetId,
        sha256: &str,
        keep_config: &str,
    ) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let old: Vec<i64> = {
            let mut stmt = tx.prepare(
                "SELECT id FROM sources WHERE dataset_id=?1 AND sha256=?2 AND profile_sha256<>?3",
            )?;
            stmt.query_map(params![dataset.0, sha256, keep_config], |r| r.get(0))?
                .collect::<std::result::Result<_, _>>()?
        };
        if !old.is_empty() {
            // Undoing a load is exact only when no record of the dataset was revised by a
            // row of another file: a revision chain across files is not recorded.
            let revised: i64 = tx.query_row(
                "SELECT COALESCE(SUM(updated), 0) FROM sources WHERE dataset_id=?1",
                [dataset.0],
                |r| r.get(0),
            )?;
            if revised > 0 {
                return Err(StoreError::Conflict(format!(
                    "this file was loaded before with another profile or harm table, and the dataset holds {revised} revised records, so the earlier load cannot be undone exactly: load the files into a new database"
                )));
            }
        }
        for id in &old {
            tx.execute("DELETE FROM events WHERE origin_source=?1", [id])?;
            tx.execute("DELETE FROM quarantine WHERE source_id=?1", [id])?;
            tx.execute("DELETE FROM retractions WHERE source_id=?1", [id])?;
            tx.execute("DELETE FROM sources WHERE id=?1", [id])?;
        }
        tx.commit()?;
        Ok(!old.is_empty())
    }

    fn open_source(&mut self, dataset: DatasetId, f: &SourceFile) -> Result<SourceState> {
        let existing = self
            .conn
            .query_row(
                "SELECT id, rows_committed, complete FROM sources WHERE dataset_id=?1 AND sha256=?2 AND profile_sha256=?3",
                params![dataset.0, f.sha256, f.profile_sha256],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, bool>(2)?)),
            )
            .optional()?;
        if let Some((id, rows, complete)) = existing {
            return Ok(SourceState {
                id: SourceId(id),
                rows_committed: rows as u64,
                complete,
            });
        }
        self.conn.execute(
            "INSERT INTO sources (dataset_id, file_name, file_path, sha256, size_bytes, profile_sha256, started_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![dataset.0, f.file_name, f.file_path, f.sha256, to_i64(f.size_bytes), f.profile_sha256, now_text()],
        )?;
        Ok(SourceState {
            id: SourceId(self.conn.last_insert_rowid()),
            rows_committed: 0,
            complete: false,
        })
    }

    fn next_event_id(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM events", [], |r| {
                r.get(0)
            })?)
    }

    fn load_keys(&self, dataset: DatasetId) -> Result<Vec<StoredKey>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, key_hash, content_hash, origin_source, origin_row FROM events WHERE dataset_id=?1",
        )?;
        let rows = stmt.query_map([dataset.0], |r| {
            Ok(StoredKey {
                event_id: r.get(0)?,
                key_hash: r.get::<_, i64>(1)? as u64,
                content_hash: r.get::<_, i64>(2)? as u64,
                origin_source: SourceId(r.get(3)?),
                origin_row: r.get::<_, i64>(4)? as u64,
            })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    fn commit_batch(&mut self, b: &Batch<'_>) -> Result<()> {
        let result = write_batch(&mut self.conn, &mut self.offence_ids, b);
        if result.is_err() {
            self.offence_ids.clear();
        }
        result
    }

    fn finish_source(&mut self, source: SourceId) -> Result<()> {
        self.conn.execute(
            "UPDATE sources SET complete=1, finished_at=?2 WHERE id=?1",
            params![source.0, now_text()],
        )?;
        Ok(())
    }

    fn reconcile_retractions(&mut self, dataset: DatasetId) -> Result<()> {
        let tx = self.conn.transaction()?;
        let any: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM retractions WHERE dataset_id=?1)
                 OR EXISTS (SELECT 1 FROM events WHERE dataset_id=?1 AND retracted=1)",
            [dataset.0],
            |r| r.get(0),
        )?;
        if !any {
            return Ok(());
        }
        tx.execute(
            "UPDATE events SET retracted=0 WHERE dataset_id=?1 AND retracted=1",
            [dataset.0],
        )?;
        tx.execute(
            "UPDATE quarantine SET cancelled=0 WHERE dataset_id=?1 AND retract_key IS NOT NULL AND cancelled=1",
            [dataset.0],
        )?;
        tx.execute(
            "UPDATE retractions SET matched_event=NULL, matched_duplicate=NULL WHERE dataset_id=?1",
            [dataset.0],
        )?;
        let retractions: Vec<(i64, i64)> = {
            let mut stmt = tx.prepare(
                "SELECT id, retract_key FROM retractions WHERE dataset_id=?1 ORDER BY source_id, row",
            )?;
            stmt.query_map([dataset.0], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<std::result::Result<_, _>>()?
        };
        {
            // A retraction cancels one original: a duplicate copy of it first (sources
            // that write one row per victim also write one cancellation per victim), the
            // event itself once no copy is left; earliest first, so the result does not
            // depend on anything but the data.
            let mut find_copy = tx.prepare_cached(
                "SELECT id FROM quarantine WHERE dataset_id=?1 AND retract_key=?2 AND cancelled=0
                 ORDER BY source_id, row LIMIT 1",
            )?;
            let mut cancel_copy =
                tx.prepare_cached("UPDATE quarantine SET cancelled=1 WHERE id=?1")?;
            let mut link_copy =
                tx.prepare_cached("UPDATE retractions SET matched_duplicate=?2 WHERE id=?1")?;
            let mut find = tx.prepare_cached(
                "SELECT id FROM events WHERE dataset_id=?1 AND retract_key=?2 AND retracted=0
                 ORDER BY origin_source, origin_row LIMIT 1",
            )?;
            let mut mark = tx.prepare_cached("UPDATE events SET retracted=1 WHERE id=?1")?;
            let mut link =
                tx.prepare_cached("UPDATE retractions SET matched_event=?2 WHERE id=?1")?;
            for (rid, key) in retractions {
                let copy: Option<i64> = find_copy
                    .query_row(params![dataset.0, key], |r| r.get(0))
                    .optional()?;
                if let Some(qid) = copy {
                    cancel_copy.execute([qid])?;
                    link_copy.execute(params![rid, qid])?;
                    continue;
                }
                let found: Option<i64> = find
                    .query_row(params![dataset.0, key], |r| r.get(0))
                    .optional()?;
                if let Some(eid) = found {
                    mark.execute([eid])?;
                    link.execute(params![rid, eid])?;
                }
            }
        }
        // Matching can change the dataset's totals (unmatched retractions, cancelled
        // duplicates) without changing any event's retracted flag: the registry's time
        // says so to `data_generation`, and so to whatever is kept by it.
        tx.execute(
            "UPDATE datasets SET updated_at=?2 WHERE id=?1",
            params![dataset.0, now_text()],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn source_counts(&self, source: SourceId) -> Result<SourceCounts> {
        let (rows_committed, inserted, updated, unchanged): (i64, i64, i64, i64) =
            self.conn.query_row(
                "SELECT rows_committed, inserted, updated, unchanged FROM sources WHERE id=?1",
                [source.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
        let (retracted, orphans): (i64, i64) = self.conn.query_row(
            "SELECT COALESCE(SUM(matched_event IS NOT NULL OR matched_duplicate IS NOT NULL), 0), COALESCE(SUM(matched_event IS NULL AND matched_duplicate IS NULL), 0)
             FROM retractions WHERE source_id=?1",
            [source.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT reason, COUNT(*) FROM quarantine WHERE source_id=?1 GROUP BY reason ORDER BY reason",
        )?;
        let reasons = stmt
            .query_map([source.0], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(SourceCounts {
            rows_committed: rows_committed as u64,
            inserted: inserted as u64,
            updated: updated as u64,
            unchanged: unchanged as u64,
            retracted: retracted as u64,
            retraction_orphans: orphans as u64,
            reasons,
        })
    }

    fn datasets(&self) -> Result<Vec<DatasetInfo>> {
        let mut stmt = self.conn.prepare(
            "SELECT d.id, d.name, d.title, d.kind, d.time_zone, d.local_crs, d.profile_name, d.profile_sha256,
                    d.provenance, d.harm_source, d.created_at, d.updated_at,
                    (SELECT COUNT(*) FROM events e WHERE e.dataset_id=d.id AND e.retracted=0),
                    (SELECT COUNT(*) FROM events e WHERE e.dataset_id=d.id AND e.retracted=1),
                    (SELECT COUNT(*) FROM quarantine q WHERE q.dataset_id=d.id AND q.reason<>'DUPLICATE')
                      + (SELECT COUNT(*) FROM retractions r WHERE r.dataset_id=d.id AND r.matched_event IS NULL AND r.matched_duplicate IS NULL),
                    (SELECT COUNT(*) FROM sources s WHERE s.dataset_id=d.id),
                    (SELECT COUNT(*) FROM quarantine q WHERE q.dataset_id=d.id AND q.reason='DUPLICATE')
             FROM datasets d ORDER BY d.name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DatasetInfo {
                id: DatasetId(r.get(0)?),
                name: r.get(1)?,
                title: r.get(2)?,
                kind: r.get(3)?,
                time_zone: r.get(4)?,
                local_crs: r.get(5)?,
                profile_name: r.get(6)?,
                profile_sha256: r.get(7)?,
                provenance: r.get(8)?,
                harm_source: r.get(9)?,
                created_at: r.get(10)?,
                updated_at: r.get(11)?,
                events: r.get::<_, i64>(12)? as u64,
                retracted_events: r.get::<_, i64>(13)? as u64,
                quarantined: r.get::<_, i64>(14)? as u64,
                sources: r.get::<_, i64>(15)? as u64,
                duplicates: r.get::<_, i64>(16)? as u64,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn data_generation(&self, dataset: DatasetId) -> Result<Option<String>> {
        // One read transaction: the three reads see the same state.
        let tx = self.conn.unchecked_transaction()?;
        let Some(updated_at) = tx
            .prepare_cached("SELECT updated_at FROM datasets WHERE id=?1")?
            .query_row([dataset.0], |r| r.get::<_, String>(0))
            .optional()?
        else {
            return Ok(None);
        };
        // Events change only in a batch of a load, which updates its source's counters
        // in the same transaction (inserts, revisions), when a superseded file's source
        // row goes with its events, and when retractions are reconciled (the retracted
        // flags, listed by the partial index `events_retracted`).
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        let mut sources = 0u64;
        let mut stmt = tx.prepare_cached(
            "SELECT id, sha256, profile_sha256, rows_committed, inserted, updated, unchanged, complete
             FROM sources WHERE dataset_id=?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([dataset.0])?;
        while let Some(r) = rows.next()? {
            sources += 1;
            for i in [0, 3, 4, 5, 6, 7] {
                h.update(&r.get::<_, i64>(i)?.to_le_bytes());
            }
            for i in [1, 2] {
                h.update(r.get_ref(i)?.as_str().unwrap_or_default().as_bytes());
                h.update(&[0]);
            }
        }
        drop(rows);
        drop(stmt);
        // The id is written into the statement rather than bound: with a bound value,
        // SQLite re-plans the statement at every run, as the planner checks the
        // table's partial indexes against it.
        let mut retracted = 0u64;
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT id FROM events WHERE dataset_id={} AND retracted=1 ORDER BY id",
            dataset.0
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            retracted += 1;
            h.update(&r.get::<_, i64>(0)?.to_le_bytes());
        }
        drop(rows);
        drop(stmt);
        tx.commit()?;
        Ok(Some(format!(
            "{updated_at}/{sources}/{retracted}/{:016x}",
            h.digest()
        )))
    }

    fn sources(&self, dataset: DatasetId) -> Result<Vec<SourceInfo>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, file_name, file_path, sha256, size_bytes, profile_sha256, started_at, finished_at, complete, rows_committed
             FROM sources WHERE dataset_id=?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([dataset.0], |r| {
            Ok(SourceInfo {
                id: SourceId(r.get(0)?),
                file_name: r.get(1)?,
                file_path: r.get(2)?,
                sha256: r.get(3)?,
                size_bytes: r.get::<_, i64>(4)? as u64,
                profile_sha256: r.get(5)?,
                started_at: r.get(6)?,
                finished_at: r.get(7)?,
                complete: r.get(8)?,
                rows_committed: r.get::<_, i64>(9)? as u64,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn scan_points(&self, dataset: DatasetId, f: &mut dyn FnMut(f64, f64, f64, f64)) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT x, y, lon, lat FROM events WHERE dataset_id=?1 AND retracted=0
               AND x IS NOT NULL AND y IS NOT NULL AND lon IS NOT NULL AND lat IS NOT NULL
               AND precision IN ('exact', 'block')",
        )?;
        let mut rows = stmt.query([dataset.0])?;
        while let Some(r) = rows.next()? {
            f(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        }
        Ok(())
    }

    fn area_codes(&self, dataset: DatasetId, level: &str) -> Result<Vec<String>> {
        let column = match level {
            "district" => "district",
            "beat" => "beat",
            "neighbourhood" => "neighbourhood",
            other => {
                return Err(StoreError::Conflict(format!(
                    "area level `{other}` is not district, beat or neighbourhood"
                )));
            }
        };
        let mut stmt = self.conn.prepare(&format!(
            "SELECT DISTINCT {column} FROM events WHERE dataset_id=?1 AND retracted=0 AND {column} IS NOT NULL ORDER BY 1"
        ))?;
        let rows = stmt.query_map([dataset.0], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn scan_events(
        &self,
        dataset: DatasetId,
        filter: &EventFilter,
        f: &mut dyn FnMut(&StoredEvent),
    ) -> Result<()> {
        let mut sql = String::from(
            "SELECT e.id, e.source_key, d.kind, e.t_from, e.t_to, d.time_zone, e.reported, e.precision,
                    e.x, e.y, e.lon, e.lat, e.district, e.beat, e.neighbourhood,
                    o.code, o.description, o.category, o.harm, e.retracted
             FROM events e JOIN offences o ON o.id = e.offence_id JOIN datasets d ON d.id = e.dataset_id
             WHERE e.dataset_id=?1",
        );
        let mut args: Vec<rusqlite::types::Value> = vec![dataset.0.into()];
        if !filter.include_retracted {
            sql.push_str(" AND e.retracted=0");
        }
        if filter.with_point_only {
            sql.push_str(" AND e.lon IS NOT NULL");
        }
        if let Some(from) = filter.from {
            args.push(from.into());
            sql.push_str(&format!(" AND e.t_from >= ?{}", args.len()));
        }
        if let Some(to) = filter.to {
            args.push(to.into());
            sql.push_str(&format!(" AND e.t_from < ?{}", args.len()));
        }
        if !filter.categories.is_empty() {
            let mut marks = Vec::new();
            for c in &filter.categories {
                args.push(c.clone().into());
                marks.push(format!("?{}", args.len()));
            }
            sql.push_str(&format!(" AND o.category IN ({})", marks.join(",")));
        }
        sql.push_str(" ORDER BY e.t_from, e.id");
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        while let Some(r) = rows.next()? {
            let e = StoredEvent {
                id: r.get(0)?,
                source_key: r.get(1)?,
                kind: r.get(2)?,
                t_from: r.get(3)?,
                t_to: r.get(4)?,
                time_zone: r.get(5)?,
                reported: r.get(6)?,
                precision: r.get(7)?,
                x: r.get(8)?,
                y: r.get(9)?,
                lon: r.get(10)?,
                lat: r.get(11)?,
                district: r.get(12)?,
                beat: r.get(13)?,
                neighbourhood: r.get(14)?,
                code: r.get(15)?,
                description: r.get(16)?,
                category: r.get(17)?,
                harm: r.get(18)?,
                retracted: r.get(19)?,
            };
            f(&e);
        }
        Ok(())
    }

    fn reason_counts(&self, dataset: DatasetId) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.conn.prepare(
            "SELECT reason, COUNT(*) FROM quarantine WHERE dataset_id=?1 GROUP BY reason
             UNION ALL
             SELECT ?2, COUNT(*) FROM retractions WHERE dataset_id=?1 AND matched_event IS NULL AND matched_duplicate IS NULL
             HAVING COUNT(*) > 0
             ORDER BY 1",
        )?;
        let rows = stmt.query_map(
            params![dataset.0, ReasonCode::RetractionWithoutOriginal.as_str()],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)),
        )?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn retraction_counts(&self, dataset: DatasetId) -> Result<(u64, u64)> {
        let (a, b): (i64, i64) = self.conn.query_row(
            "SELECT COALESCE(SUM(matched_event IS NOT NULL OR matched_duplicate IS NOT NULL), 0), COALESCE(SUM(matched_event IS NULL AND matched_duplicate IS NULL), 0)
             FROM retractions WHERE dataset_id=?1",
            [dataset.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((a as u64, b as u64))
    }

    fn quarantined(
        &self,
        dataset: DatasetId,
        reason: Option<&str>,
        limit: usize,
    ) -> Result<Vec<QuarantinedRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT s.file_name, q.row, q.line, q.col, q.reason, q.detail, q.raw
               FROM quarantine q JOIN sources s ON s.id=q.source_id
              WHERE q.dataset_id=?1 AND (?2 IS NULL OR q.reason=?2)
             UNION ALL
             SELECT s.file_name, r.row, r.line, NULL, ?4, 'retraction row whose original record is not in the data', r.raw
               FROM retractions r JOIN sources s ON s.id=r.source_id
              WHERE r.dataset_id=?1 AND r.matched_event IS NULL AND r.matched_duplicate IS NULL AND (?2 IS NULL OR ?2=?4)
             ORDER BY 1, 2 LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![
                dataset.0,
                reason,
                limit as i64,
                ReasonCode::RetractionWithoutOriginal.as_str()
            ],
            |r| {
                Ok(QuarantinedRow {
                    file_name: r.get(0)?,
                    row: r.get::<_, i64>(1)? as u64,
                    line: r.get::<_, i64>(2)? as u64,
                    column: r.get(3)?,
                    reason: r.get(4)?,
                    detail: r.get(5)?,
                    raw: r.get(6)?,
                })
            },
        )?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn check_integrity(&self) -> Result<IntegrityReport> {
        let mut report = IntegrityReport::default();
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        report.sqlite = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<std::result::Result<_, _>>()?;
        // Every committed row is accounted for exactly once, per dataset:
        // rows = events + quarantined + retraction rows + revisions + unchanged re-reads.
        let mut stmt = self.conn.prepare(
            "SELECT d.name,
                    (SELECT COALESCE(SUM(rows_committed), 0) FROM sources s WHERE s.dataset_id=d.id),
                    (SELECT COUNT(*) FROM events e WHERE e.dataset_id=d.id),
                    (SELECT COUNT(*) FROM quarantine q WHERE q.dataset_id=d.id),
                    (SELECT COUNT(*) FROM retractions r WHERE r.dataset_id=d.id),
                    (SELECT COALESCE(SUM(updated + unchanged), 0) FROM sources s WHERE s.dataset_id=d.id)
             FROM datasets d",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?;
        for row in rows {
            let (name, committed, events, quarantined, retractions, revisits) = row?;
            let accounted = events + quarantined + retractions + revisits;
            if committed != accounted {
                report.problems.push(format!(
                    "dataset {name}: {committed} rows committed but {accounted} accounted for (events {events}, quarantined {quarantined}, retraction rows {retractions}, revisions and re-reads {revisits})"
                ));
            }
        }
        let repeated_keys: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM (SELECT 1 FROM events GROUP BY dataset_id, key_hash HAVING COUNT(*) > 1)",
            [],
            |r| r.get(0),
        )?;
        if repeated_keys > 0 {
            report.problems.push(format!(
                "{repeated_keys} record keys are stored more than once in a dataset"
            ));
        }
        let dangling: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM retractions r WHERE r.matched_event IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id=r.matched_event AND e.retracted=1)",
            [],
            |r| r.get(0),
        )?;
        let dangling_copies: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM retractions r WHERE r.matched_duplicate IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.id=r.matched_duplicate AND q.cancelled=1)",
            [],
            |r| r.get(0),
        )?;
        let dangling = dangling + dangling_copies;
        if dangling > 0 {
            report.problems.push(format!(
                "{dangling} retraction rows point at originals that are not marked retracted or cancelled"
            ));
        }
        Ok(report)
    }

    fn insert_user(&mut self, user: &NewUser<'_>) -> Result<i64> {
        self.accounts_insert_user(user)
    }

    fn user(&self, name: &str) -> Result<Option<UserRecord>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE name=?1"),
                [name],
                user_row,
            )
            .optional()?)
    }

    fn user_by_id(&self, id: i64) -> Result<Option<UserRecord>> {
        Ok(self
            .conn
            .prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id=?1"))?
            .query_row([id], user_row)
            .optional()?)
    }

    fn users(&self) -> Result<Vec<UserRecord>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))?;
        let rows = stmt.query_map([], user_row)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn set_user_role(&mut self, id: i64, role: &str) -> Result<()> {
        self.update_user(id, "UPDATE users SET role=?2 WHERE id=?1", &role)
    }

    fn set_user_password(
        &mut self,
        id: i64,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE users SET password_hash=?2, must_change_password=?3 WHERE id=?1",
            params![id, password_hash, must_change_password],
        )?;
        if n != 1 {
            return Err(StoreError::Conflict(format!(
                "user {id} is not in this database: list users with `streetlight user list`"
            )));
        }
        Ok(())
    }

    fn set_user_disabled(&mut self, id: i64, disabled: bool) -> Result<()> {
        self.update_user(id, "UPDATE users SET disabled=?2 WHERE id=?1", &disabled)
    }

    fn unlock_user(&mut self, id: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE users SET locked=0, locked_ms=NULL WHERE id=?1",
            [id],
        )?;
        if n != 1 {
            return Err(StoreError::Conflict(format!(
                "user {id} is not in this database: list users with `streetlight user list`"
            )));
        }
        tx.execute("DELETE FROM login_failures WHERE user_id=?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    fn record_login_failure(
        &mut self,
        id: i64,
        now_ms: i64,
        window_ms: i64,
        threshold: u32,
    ) -> Result<LoginFailures> {
        self.accounts_record_login_failure(id, now_ms, window_ms, threshold)
    }

    fn clear_login_failures(&mut self, id: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM login_failures WHERE user_id=?1", [id])?;
        Ok(())
    }

    fn insert_session(&mut self, s: &SessionRecord) -> Result<()> {
        let r = self.conn.execute(
            "INSERT INTO sessions (token_hash, user_id, created_ms, last_seen_ms, revoked) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![s.token_hash, s.user_id, s.created_ms, s.last_seen_ms, s.revoked],
        );
        match r {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(
                "a session with this token already exists: generate a new token".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT token_hash, user_id, created_ms, last_seen_ms, revoked FROM sessions WHERE token_hash=?1",
            )?
            .query_row(
                [token_hash],
                |r| {
                    Ok(SessionRecord {
                        token_hash: r.get(0)?,
                        user_id: r.get(1)?,
                        created_ms: r.get(2)?,
                        last_seen_ms: r.get(3)?,
                        revoked: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    fn touch_session(&mut self, token_hash: &str, now_ms: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE sessions SET last_seen_ms=?2 WHERE token_hash=?1 AND revoked=0 AND last_seen_ms < ?2",
            )?
            .execute(params![token_hash, now_ms])?;
        Ok(())
    }

    fn revoke_session(&mut self, token_hash: &str) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE sessions SET revoked=1 WHERE token_hash=?1 AND revoked=0",
            [token_hash],
        )?;
        Ok(n == 1)
    }

    fn revoke_user_sessions(&mut self, user_id: i64) -> Result<u64> {
        let n = self.conn.execute(
            "UPDATE sessions SET revoked=1 WHERE user_id=?1 AND revoked=0",
            [user_id],
        )?;
        Ok(n as u64)
    }

    fn purge_sessions(&mut self, created_before_ms: i64) -> Result<u64> {
        let n = self.conn.execute(
            "DELETE FROM sessions WHERE created_ms < ?1",
            [created_before_ms],
        )?;
        Ok(n as u64)
    }

    fn append_audit(
        &mut self,
        entry: &AuditEntry,
        genesis: &str,
        seal: &dyn Fn(i64, &str, &AuditEntry) -> String,
    ) -> Result<AuditRecord> {
        self.accounts_append_audit(entry, genesis, seal)
    }

    fn scan_audit(&self, f: &mut dyn FnMut(&AuditRecord)) -> Result<()> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY id"
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            f(&audit_row(r)?);
        }
        Ok(())
    }

    fn audit_tail(&self, limit: usize) -> Result<Vec<AuditRecord>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {AUDIT_COLUMNS} FROM (SELECT * FROM audit_log ORDER BY id DESC LIMIT ?1) ORDER BY id"
        ))?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], audit_row)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}

const USER_COLUMNS: &str =
    "id, name, role, password_hash, must_change_password, created_ms, locked, locked_ms, disabled";

const CONTEXT_LAYER_COLUMNS: &str =
    "dataset_id, name, kind, file_name, sha256, uploaded_ms, features, population_field";

fn context_layer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ContextLayerInfo> {
    Ok(ContextLayerInfo {
        dataset: DatasetId(r.get(0)?),
        name: r.get(1)?,
        kind: r.get(2)?,
        file_name: r.get(3)?,
        sha256: r.get(4)?,
        uploaded_ms: r.get(5)?,
        features: r.get::<_, i64>(6)? as u64,
        population_field: r.get(7)?,
    })
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        role: r.get(2)?,
        password_hash: r.get(3)?,
        must_change_password: r.get(4)?,
        created_ms: r.get(5)?,
        locked: r.get(6)?,
        locked_ms: r.get(7)?,
        disabled: r.get(8)?,
    })
}

const AUDIT_COLUMNS: &str = "id, ts_ms, actor, action, object, outcome, source, prev_hash, hash";

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRecord> {
    Ok(AuditRecord {
        id: r.get(0)?,
        ts_ms: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        object: r.get(4)?,
        outcome: r.get(5)?,
        source: r.get(6)?,
        prev_hash: r.get(7)?,
        hash: r.get(8)?,
    })
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

impl SqliteStore {
    /// Updates one user row; a missing user is a conflict (it was there a moment ago).
    fn update_user(&mut self, id: i64, sql: &str, value: &dyn rusqlite::ToSql) -> Result<()> {
        let n = self.conn.execute(sql, params![id, value])?;
        if n != 1 {
            return Err(StoreError::Conflict(format!(
                "user {id} is not in this database: list users with `streetlight user list`"
            )));
        }
        Ok(())
    }
}

/// Accounts, sessions and the audit log.
impl SqliteStore {
    fn accounts_insert_user(&mut self, u: &NewUser<'_>) -> Result<i64> {
        let r = self.conn.execute(
            "INSERT INTO users (name, role, password_hash, must_change_password, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![u.name, u.role, u.password_hash, u.must_change_password, u.created_ms],
        );
        match r {
            Ok(_) => Ok(self.conn.last_insert_rowid()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
                "user `{}` already exists: choose another name, or change its role with `streetlight user role {} ROLE`",
                u.name, u.name
            ))),
            Err(e) => Err(e.into()),
        }
    }

    fn accounts_record_login_failure(
        &mut self,
        id: i64,
        now_ms: i64,
        window_ms: i64,
        threshold: u32,
    ) -> Result<LoginFailures> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let was_locked: bool = tx
            .query_row("SELECT locked FROM users WHERE id=?1", [id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| {
                StoreError::Conflict(format!(
                    "user {id} is not in this database: list users with `streetlight user list`"
                ))
            })?;
        tx.execute(
            "INSERT INTO login_failures (user_id, ts_ms) VALUES (?1, ?2)",
            params![id, now_ms],
        )?;
        let start = now_ms.saturating_sub(window_ms);
        // Failures that left the window no longer matter to anyone.
        tx.execute(
            "DELETE FROM login_failures WHERE user_id=?1 AND ts_ms <= ?2",
            params![id, start],
        )?;
        let recent: i64 = tx.query_row(
            "SELECT COUNT(*) FROM login_failures WHERE user_id=?1 AND ts_ms > ?2 AND ts_ms <= ?3",
            params![id, start, now_ms],
            |r| r.get(0),
        )?;
        let recent = u32::try_from(recent).unwrap_or(u32::MAX);
        let locked_now = !was_locked && recent >= threshold;
        if locked_now {
            tx.execute(
                "UPDATE users SET locked=1, locked_ms=?2 WHERE id=?1",
                params![id, now_ms],
            )?;
        }
        tx.commit()?;
        Ok(LoginFailures { recent, locked_now })
    }

    fn accounts_append_audit(
        &mut self,
        entry: &AuditEntry,
        genesis: &str,
        seal: &dyn Fn(i64, &str, &AuditEntry) -> String,
    ) -> Result<AuditRecord> {
        // IMMEDIATE takes the write lock before reading the head, so two writers cannot
        // both chain onto the same record.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let last: Option<(i64, String)> = tx
            .prepare_cached("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (id, prev_hash) = match last {
            Some((id, hash)) => (id + 1, hash),
            None => (1, genesis.to_string()),
        };
        let hash = seal(id, &prev_hash, entry);
        tx.prepare_cached(
            "INSERT INTO audit_log (id, ts_ms, actor, action, object, outcome, source, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
                id,
                entry.ts_ms,
                entry.actor,
                entry.action,
                entry.object,
                entry.outcome,
                entry.source,
                prev_hash,
                hash
            ],
        )?;
        tx.commit()?;
        Ok(AuditRecord {
            id,
            ts_ms: entry.ts_ms,
            actor: entry.actor.clone(),
            action: entry.action.clone(),
            object: entry.object.clone(),
            outcome: entry.outcome.clone(),
            source: entry.source.clone(),
            prev_hash,
            hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn schema_is_created_once_and_versioned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("s.db");
        drop(SqliteStore::open(&p).expect("create"));
        let s = SqliteStore::open(&p).expect("reopen");
        assert_eq!(schema_version(&s), SCHEMA_VERSION.to_string());
        let mode: String = s
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
        assert!(s.check_integrity().expect("check").is_ok());
    }

    /// The fingerprint of a dataset's data follows every table the events change
    /// with (the registry entry, the sources' counters, the retracted flags, even
    /// when their number stays), is stable otherwise, and ignores other datasets,
    /// sessions and the audit log.
    #[test]
    fn data_generation_follows_what_changes_the_events() {
        let mut s = SqliteStore::in_memory().expect("store");
        let ds = dataset(&mut s, "a");
        let other = dataset(&mut s, "b");
        assert_eq!(s.data_generation(DatasetId(99)).expect("read"), None);
        let source = s
            .open_source(
                ds,
                &SourceFile {
                    file_name: "f.csv".into(),
                    file_path: "f.csv".into(),
                    sha256: "ab".into(),
                    size_bytes: 1,
                    profile_sha256: "00".into(),
                },
            )
            .expect("source");
        s.conn
            .execute_batch(&format!(
                "INSERT INTO offences (id, dataset_id, code, description, category, harm) VALUES (1, {d}, 'c', '', 'robbery', 1);
                 INSERT INTO events (id, dataset_id, key_hash, source_key, t_from, t_to, precision, offence_id, content_hash, origin_source, origin_row)
                 VALUES (1, {d}, 1, '1', 0, 0, 'exact', 1, 1, {src}, 1), (2, {d}, 2, '2', 0, 0, 'exact', 1, 2, {src}, 2);",
                d = ds.0,
                src = source.id.0
            ))
            .expect("events");
        let g = |s: &SqliteStore| s.data_generation(ds).expect("read").expect("dataset");
        let mut seen = vec![g(&s)];
        let mut changed = |s: &mut SqliteStore, sql: &str| {
            s.conn.execute_batch(sql).expect("change");
            let now = g(s);
            assert!(!seen.contains(&now), "{sql}: {now} seen before");
            seen.push(now);
        };
        changed(&mut s, "UPDATE sources SET rows_committed=2, inserted=2");
        changed(&mut s, "UPDATE sources SET updated=1");
        changed(&mut s, "UPDATE sources SET complete=1");
        changed(&mut s, "UPDATE events SET retracted=1 WHERE id=1");
        changed(
            &mut s,
            "UPDATE events SET retracted=0 WHERE id=1; UPDATE events SET retracted=1 WHERE id=2",
        );
        changed(
            &mut s,
            "UPDATE datasets SET updated_at='later' WHERE name='a'",
        );
        changed(&mut s, "DELETE FROM events; DELETE FROM sources");
        let before = g(&s);
        s.conn
            .execute_batch("UPDATE datasets SET updated_at='x' WHERE name='b'")
            .expect("other dataset");
        let user = s.insert_user(&new_user("carol")).expect("user");
        s.insert_session(&SessionRecord {
            token_hash: "h".into(),
            user_id: user,
            created_ms: 1,
            last_seen_ms: 1,
            revoked: false,
        })
        .expect("session");
        s.touch_session("h", 2).expect("touch");
        assert_eq!(g(&s), before);
        assert_ne!(
            s.data_generation(other).expect("read"),
            Some(before.clone())
        );

        // Matching retractions again changes it, whether or not a flag changes (a
        // retraction without an original changes only the dataset's totals).
        s.conn
            .execute(
                "INSERT INTO retractions (dataset_id, source_id, row, line, retract_key, raw) VALUES (?1, ?2, 9, 10, 12345, '')",
                params![ds.0, source.id.0],
            )
            .expect("retraction");
        std::thread::sleep(std::time::Duration::from_millis(2));
        s.reconcile_retractions(ds).expect("reconcile");
        assert_ne!(g(&s), before);
    }

    fn new_user<'a>(name: &'a str) -> NewUser<'a> {
        NewUser {
            name,
            role: "viewer",
            password_hash: "$argon2id$placeholder",
            must_change_password: false,
            created_ms: 1_000,
        }
    }

    /// A database written before accounts existed (no users, sessions or audit tables)
    /// opens, gains the tables and keeps its schema version and data.
    #[test]
    fn account_tables_are_added_to_an_older_database() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("old.db");
        {
            let mut s = SqliteStore::open(&p).expect("create");
            s.set_boundary(DatasetId(7), "city.geojson", "[]")
                .expect("boundary");
            s.conn
                .execute_batch(
                    "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;
                     DROP TABLE audit_log; DROP TABLE sessions; DROP TABLE login_failures; DROP TABLE users;",
                )
                .expect("make it look old");
        }
        let mut s = SqliteStore::open(&p).expect("reopen the older file");
        assert_eq!(
            s.boundary(DatasetId(7)).expect("read"),
            Some(("city.geojson".to_string(), "[]".to_string()))
        );
        let id = s.insert_user(&new_user("alice")).expect("insert");
        assert_eq!(s.user("alice").expect("read").map(|u| u.id), Some(id));
        let tables: i64 = s
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type IN ('table', 'trigger')
                   AND name IN ('users', 'login_failures', 'sessions', 'audit_log', 'audit_log_no_update', 'audit_log_no_delete')",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(tables, 6);
    }

    #[test]
    fn user_names_are_unique() {
        let mut s = SqliteStore::in_memory().expect("store");
        s.insert_user(&new_user("alice")).expect("first");
        let e = s.insert_user(&new_user("alice")).expect_err("second");
        assert!(
            e.to_string()
                .contains("user `alice` already exists: choose another name"),
            "{e}"
        );
        assert_eq!(s.users().expect("list").len(), 1);
    }

    /// Failures count in the half-open window (now - window, now]; the threshold locks
    /// once, and unlocking forgets the failures.
    #[test]
    fn login_failures_slide_and_lock_once() {
        let mut s = SqliteStore::in_memory().expect("store");
        let id = s.insert_user(&new_user("bob")).expect("insert");
        let w = 100;
        let f = |s: &mut SqliteStore, t| s.record_login_failure(id, t, w, 3).expect("record");
        assert_eq!(
            f(&mut s, 0),
            LoginFailures {
                recent: 1,
                locked_now: false
            }
        );
        assert_eq!(
            f(&mut s, 50),
            LoginFailures {
                recent: 2,
                locked_now: false
            }
        );
        // The failure at 0 is exactly `window` old at 100: out of the window.
        assert_eq!(
            f(&mut s, 100),
            LoginFailures {
                recent: 2,
                locked_now: false
            }
        );
        assert_eq!(
            f(&mut s, 101),
            LoginFailures {
                recent: 3,
                locked_now: true
            }
        );
        let u = s.user("bob").expect("read").expect("bob");
        assert!(u.locked);
        assert_eq!(u.locked_ms, Some(101));
        assert_eq!(
            f(&mut s, 102),
            LoginFailures {
                recent: 4,
                locked_now: false
            }
        );
        s.unlock_user(id).expect("unlock");
        let u = s.user("bob").expect("read").expect("bob");
        assert!(!u.locked);
        assert_eq!(u.locked_ms, None);
        assert_eq!(
            f(&mut s, 103),
            LoginFailures {
                recent: 1,
                locked_now: false
            }
        );
    }

    #[test]
    fn sessions_touch_forward_and_revoke() {
        let mut s = SqliteStore::in_memory().expect("store");
        let uid = s.insert_user(&new_user("carol")).expect("insert");
        let session = |hash: &str| SessionRecord {
            token_hash: hash.into(),
            user_id: uid,
            created_ms: 10,
            last_seen_ms: 10,
            revoked: false,
        };
        s.insert_session(&session("h1")).expect("insert");
        s.insert_session(&session("h2")).expect("insert");
        assert!(s.insert_session(&session("h1")).is_err());
        s.touch_session("h1", 50).expect("touch");
        s.touch_session("h1", 20).expect("touch back");
        assert_eq!(
            s.session("h1").expect("read").map(|x| x.last_seen_ms),
            Some(50)
        );
        assert!(s.revoke_session("h1").expect("revoke"));
        assert!(!s.revoke_session("h1").expect("again"));
        s.touch_session("h1", 60).expect("touch revoked");
        assert_eq!(
            s.session("h1").expect("read").map(|x| x.last_seen_ms),
            Some(50)
        );
        assert_eq!(s.revoke_user_sessions(uid).expect("revoke all"), 1);
        assert!(s.session("h2").expect("read").is_some_and(|x| x.revoked));
        assert_eq!(s.purge_sessions(11).expect("purge"), 2);
        assert_eq!(s.session("h2").expect("read"), None);
    }

    #[test]
    fn audit_log_chains_and_refuses_edits() {
        let mut s = SqliteStore::in_memory().expect("store");
        let entry = |action: &str| AuditEntry {
            ts_ms: 5,
            actor: None,
            action: action.into(),
            object: "user:alice".into(),
            outcome: "ok".into(),
            source: "cli".into(),
        };
        let seal = |id: i64, prev: &str, e: &AuditEntry| format!("{id}|{prev}|{}", e.action);
        let a = s.append_audit(&entry("a"), "G", &seal).expect("first");
        let b = s.append_audit(&entry("b"), "G", &seal).expect("second");
        assert_eq!(
            (a.id, a.prev_hash.as_str(), a.hash.as_str()),
            (1, "G", "1|G|a")
        );
        assert_eq!(
            (b.id, b.prev_hash.as_str(), b.hash.as_str()),
            (2, "1|G|a", "2|1|G|a|b")
        );
        let mut all = Vec::new();
        s.scan_audit(&mut |r| all.push(r.clone())).expect("scan");
        assert_eq!(all, vec![a.clone(), b.clone()]);
        assert_eq!(s.audit_tail(1).expect("tail"), vec![b]);
        assert_eq!(s.audit_tail(5).expect("tail").len(), 2);
        for sql in [
            "UPDATE audit_log SET outcome='denied' WHERE id=1",
            "DELETE FROM audit_log WHERE id=2",
        ] {
            let e = s.conn().execute(sql, []).expect_err(sql);
            assert!(e.to_string().contains("append-only"), "{e}");
        }
    }

    /// The schema version the store file records.
    fn schema_version(s: &SqliteStore) -> String {
        s.conn()
            .query_row(
                "SELECT value FROM meta WHERE key='schema_version'",
                [],
                |r| r.get(0),
            )
            .expect("version")
    }

    fn dataset(s: &mut SqliteStore, name: &str) -> DatasetId {
        s.upsert_dataset(&DatasetSpec {
            name: name.into(),
            title: name.into(),
            kind: "incident_report".into(),
            time_zone: "America/New_York".into(),
            local_crs: "EPSG:26918".into(),
            profile_name: name.into(),
            profile_sha256: "0".repeat(64),
            profile_text: String::new(),
            provenance: "test".into(),
            harm_source: "test".into(),
        })
        .expect("dataset")
    }

    fn layer(dataset: DatasetId, name: &str, kind: &str, features: u64) -> ContextLayerRecord {
        ContextLayerRecord {
            info: ContextLayerInfo {
                dataset,
                name: name.into(),
                kind: kind.into(),
                file_name: format!("{name}.geojson"),
                sha256: "a".repeat(64),
                uploaded_ms: 1_000,
                features,
                population_field: (kind == "polygons").then(|| "total_pop".to_string()),
            },
            geojson: format!("{{\"type\":\"FeatureCollection\",\"features\":[],\"n\":{features}}}"),
        }
    }

    /// Layers are kept per dataset and name: a second put replaces, listing is by name
    /// and carries no geometry, removing reports whether there was one.
    #[test]
    fn context_layers_put_replace_list_get_remove() {
        let mut s = SqliteStore::in_memory().expect("store");
        let (a, b) = (dataset(&mut s, "a"), dataset(&mut s, "b"));
        assert!(
            !s.put_context_layer(&layer(a, "tracts", "polygons", 3))
                .expect("put")
        );
        assert!(
            !s.put_context_layer(&layer(a, "bars", "points", 5))
                .expect("put")
        );
        assert!(
            !s.put_context_layer(&layer(b, "bars", "points", 7))
                .expect("other dataset")
        );
        let replacement = layer(a, "bars", "points", 6);
        assert!(s.put_context_layer(&replacement).expect("replace"));
        let names: Vec<(String, u64)> = s
            .context_layers(a)
            .expect("list")
            .into_iter()
            .map(|l| (l.name, l.features))
            .collect();
        assert_eq!(names, [("bars".to_string(), 6), ("tracts".to_string(), 3)]);
        assert_eq!(s.context_layer(a, "bars").expect("get"), Some(replacement));
        assert_eq!(
            s.context_layer(b, "bars")
                .expect("get")
                .map(|l| l.info.features),
            Some(7)
        );
        assert_eq!(
            s.context_layer(a, "tracts")
                .expect("get")
                .and_then(|l| l.info.population_field),
            Some("total_pop".to_string())
        );
        assert!(s.remove_context_layer(a, "bars").expect("remove"));
        assert!(!s.remove_context_layer(a, "bars").expect("remove again"));
        assert_eq!(s.context_layer(a, "bars").expect("get"), None);
        assert_eq!(s.context_layers(b).expect("list").len(), 1);
    }

    /// A layer must belong to a stored dataset (foreign key).
    #[test]
    fn context_layers_need_their_dataset() {
        let mut s = SqliteStore::in_memory().expect("store");
        let e = s
            .put_context_layer(&layer(DatasetId(42), "bars", "points", 1))
            .expect_err("no dataset 42");
        assert!(e.to_string().contains("FOREIGN KEY"), "{e}");
        assert!(s.context_layers(DatasetId(42)).expect("list").is_empty());
    }

    /// A database written before context layers existed opens, gains the table and keeps
    /// its schema version and data.
    #[test]
    fn context_layers_table_is_added_to_an_older_database() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("old.db");
        let id = {
            let mut s = SqliteStore::open(&p).expect("create");
            let id = dataset(&mut s, "a");
            s.conn
                .execute_batch("DROP TABLE context_layers;")
                .expect("make it look old");
            id
        };
        let mut s = SqliteStore::open(&p).expect("reopen the older file");
        assert_eq!(s.dataset_id("a").expect("read"), Some(id));
        s.put_context_layer(&layer(id, "tracts", "polygons", 2))
            .expect("the table exists again");
        assert_eq!(schema_version(&s), SCHEMA_VERSION.to_string());
    }
}

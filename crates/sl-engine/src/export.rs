//! Exports of stored events: CSV, GeoJSON and GeoPackage (which QGIS and ArcGIS open).
//!
//! CSV text cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`) are
//! prefixed with an apostrophe (OWASP's CSV-injection advice); numbers are not touched.

use std::io::Write;
use std::path::Path;

use sl_store::{EventFilter, Store, StoredEvent};

use crate::{EngineError, Result};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    GeoJson,
    GeoPackage,
}

impl ExportFormat {
    /// Chooses by extension: `.csv`, `.geojson`/`.json`, `.gpkg`.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "geojson" | "json" => Some(Self::GeoJson),
            "gpkg" => Some(Self::GeoPackage),
            _ => None,
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub path: String,
    pub format: ExportFormat,
    pub events: u64,
    /// Events without a point: left out of GeoJSON, written with empty coordinates to
    /// CSV and an empty geometry to GeoPackage.
    pub without_point: u64,
}

const COLUMNS: [&str; 20] = [
    "id",
    "source_id",
    "kind",
    "occurred_from",
    "occurred_to",
    "time_zone",
    "reported",
    "precision",
    "x",
    "y",
    "lon",
    "lat",
    "district",
    "beat",
    "neighbourhood",
    "code",
    "description",
    "category",
    "harm",
    "retracted",
];

fn iso(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Neutralises spreadsheet formulas in text cells.
pub fn csv_safe(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Writes the events of `dataset` matching `filter` to `path`.
pub fn export<S: Store>(
    store: &S,
    dataset: &str,
    filter: &EventFilter,
    path: &Path,
    format: ExportFormat,
) -> Result<ExportSummary> {
    let id = store
        .dataset_id(dataset)?
        .ok_or_else(|| sl_store::StoreError::UnknownDataset(dataset.to_string()))?;
    let io = |source| EngineError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut summary = ExportSummary {
        path: path.display().to_string(),
        format,
        events: 0,
        without_point: 0,
    };
    match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_path(path).map_err(|e| EngineError::Io {
                path: path.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            })?;
            w.write_record(COLUMNS)
                .map_err(|e| io(std::io::Error::other(e.to_string())))?;
            let mut err = None;
            store.scan_events(id, filter, &mut |e| {
                if err.is_some() {
                    return;
                }
                summary.events += 1;
                if e.lon.is_none() {
                    summary.without_point += 1;
                }
                let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
                let txt = |v: &Option<String>| {
                    v.as_deref()
                        .map(|s| csv_safe(s).into_owned())
                        .unwrap_or_default()
                };
                let rec = [
                    e.id.to_string(),
                    csv_safe(&e.source_key).into_owned(),
                    e.kind.clone(),
                    iso(e.t_from),
                    iso(e.t_to),
                    e.time_zone.clone(),
                    e.reported.map(iso).unwrap_or_default(),
                    e.precision.clone(),
                    num(e.x),
                    num(e.y),
                    num(e.lon),
                    num(e.lat),
                    txt(&e.district),
                    txt(&e.beat),
                    txt(&e.neighbourhood),
                    csv_safe(&e.code).into_owned(),
                    csv_safe(&e.description).into_owned(),
                    e.category.clone(),
                    e.harm.to_string(),
                    u8::from(e.retracted).to_string(),
                ];
                if let Err(e) = w.write_record(&rec) {
                    err = Some(e);
                }
            })?;
            if let Some(e) = err {
                return Err(io(std::io::Error::other(e.to_string())));
            }
            w.flush().map_err(io)?;
        }
        ExportFormat::GeoJson => {
            let file = std::fs::File::create(path).map_err(io)?;
            let mut w = std::io::BufWriter::new(file);
            let mut res: std::io::Result<()> =
                w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n");
            let mut first = true;
            store.scan_events(id, filter, &mut |e| {
                if res.is_err() {
                    return;
                }
                let (Some(lon), Some(lat)) = (e.lon, e.lat) else {
                    summary.without_point += 1;
                    return;
                };
                summary.events += 1;
                let feature = serde_json::json!({
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": properties(e),
                });
                if !first {
                    res = w.write_all(b",\n");
                }
                first = false;
                if res.is_ok() {
                    res = serde_json::to_writer(&mut w, &feature).map_err(std::io::Error::other);
                }
            })?;
            res.and_then(|()| w.write_all(b"\n]}\n"))
                .and_then(|()| w.flush())
                .map_err(io)?;
        }
        ExportFormat::GeoPackage => write_geopackage(store, id, filter, path, &mut summary)?,
    }
    Ok(summary)
}

fn properties(e: &StoredEvent) -> serde_json::Value {
    serde_json::json!({
        "id": e.id,
        "source_id": e.source_key,
        "kind": e.kind,
        "occurred_from": iso(e.t_from),
        "occurred_to": iso(e.t_to),
        "time_zone": e.time_zone,
        "reported": e.reported.map(iso),
        "precision": e.precision,
        "x": e.x,
        "y": e.y,
        "district": e.district,
        "beat": e.beat,
        "neighbourhood": e.neighbourhood,
        "code": e.code,
        "description": e.description,
        "category": e.category,
        "harm": e.harm,
        "retracted": e.retracted,
    })
}

/// A GeoPackage 1.2 point: the `GP` header (version 0, little-endian, no envelope,
/// SRS 4326) followed by a WKB point.
fn gpkg_point(lon: f64, lat: f64) -> Vec<u8> {
    let mut b = Vec::with_capacity(29);
    b.extend_from_slice(b"GP");
    b.push(0); // version 1
    b.push(0b0000_0001); // little-endian, no envelope, not empty
    b.extend_from_slice(&4326i32.to_le_bytes());
    b.push(1); // WKB little-endian
    b.extend_from_slice(&1u32.to_le_bytes()); // Point
    b.extend_from_slice(&lon.to_le_bytes());
    b.extend_from_slice(&lat.to_le_bytes());
    b
}

fn write_geopackage<S: Store>(
    store: &S,
    id: sl_store::DatasetId,
    filter: &EventFilter,
    path: &Path,
    summary: &mut ExportSummary,
) -> Result<()> {
    if path.exists() {
        std::fs::remove_file(path).map_err(|source| EngineError::Io {
            path: path.display().to_string(),
            source,
        })?;
    }
    let sql = |e: rusqlite::Error| {
        EngineError::Invalid(format!("writing GeoPackage {}: {e}", path.display()))
    };
    let mut conn = rusqlite::Connection::open(path).map_err(sql)?;
    conn.execute_batch(
        "PRAGMA application_id = 1196444487; PRAGMA user_version = 10200;
         CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
           organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
         INSERT INTO gpkg_spatial_ref_sys VALUES
           ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
           ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
           ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],AUTHORITY[\"EPSG\",\"4326\"]]', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
         CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
           description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
           min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER REFERENCES gpkg_spatial_ref_sys(srs_id));
         CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
           srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
           CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name));
         CREATE TABLE events (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom POINT, source_id TEXT, kind TEXT,
           occurred_from TEXT, occurred_to TEXT, time_zone TEXT, reported TEXT, precision TEXT, x DOUBLE, y DOUBLE,
           district TEXT, beat TEXT, neighbourhood TEXT, code TEXT, description TEXT, category TEXT, harm DOUBLE, retracted INTEGER);
         INSERT INTO gpkg_geometry_columns VALUES ('events', 'geom', 'POINT', 4326, 0, 0);",
    )
    .map_err(sql)?;
    let tx = conn.transaction().map_err(sql)?;
    let mut bbox = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    {
        let mut stmt = tx
            .prepare(
                "INSERT INTO events (geom, source_id, kind, occurred_from, occurred_to, time_zone, reported, precision,
                   x, y, district, beat, neighbourhood, code, description, category, harm, retracted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
            )
            .map_err(sql)?;
        let mut err = None;
        store.scan_events(id, filter, &mut |e| {
            if err.is_some() {
                return;
            }
            let geom = match (e.lon, e.lat) {
                (Some(lon), Some(lat)) => {
                    bbox = [
                        bbox[0].min(lon),
                        bbox[1].min(lat),
                        bbox[2].max(lon),
                        bbox[3].max(lat),
                    ];
                    Some(gpkg_point(lon, lat))
                }
                _ => {
                    summary.without_point += 1;
                    None
                }
            };
            summary.events += 1;
            if let Err(e) = stmt.execute(rusqlite::params![
                geom,
                e.source_key,
                e.kind,
                iso(e.t_from),
                iso(e.t_to),
                e.time_zone,
                e.reported.map(iso),
                e.precision,
                e.x,
                e.y,
                e.district,
                e.beat,
                e.neighbourhood,
                e.code,
                e.description,
                e.category,
                e.harm,
                e.retracted,
            ]) {
                err = Some(e);
            }
        })?;
        if let Some(e) = err {
            return Err(sql(e));
        }
    }
    let finite = bbox.iter().all(|v| v.is_finite());
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id)
         VALUES ('events', 'features', 'events', 'Streetlight events', ?1, ?2, ?3, ?4, 4326)",
        rusqlite::params![
            finite.then_some(bbox[0]),
            finite.then_some(bbox[1]),
            finite.then_some(bbox[2]),
            finite.then_some(bbox[3])
        ],
    )
    .map_err(sql)?;
    tx.commit().map_err(sql)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_safe("THEFT"), "THEFT");
    }

    #[test]
    fn gpkg_point_layout() {
        let b = gpkg_point(-75.0, 40.0);
        assert_eq!(&b[..4], b"GP\x00\x01");
        assert_eq!(
            i32::from_le_bytes(b[4..8].try_into().expect("4 bytes")),
            4326
        );
        assert_eq!(b[8], 1);
        assert_eq!(u32::from_le_bytes(b[9..13].try_into().expect("4 bytes")), 1);
        assert_eq!(
            f64::from_le_bytes(b[13..21].try_into().expect("8 bytes")),
            -75.0
        );
        assert_eq!(b.len(), 29);
    }
}

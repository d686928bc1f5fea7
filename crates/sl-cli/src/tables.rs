//! Writing result tables to files: CSV for spreadsheets and GeoJSON map layers. The
//! tables themselves ([`Table`]) are built by `sl_server::reports`, shared with the API.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::Value;
use sl_engine::analysis::Units;

pub use sl_server::reports::Table;

/// Writes the table as CSV (numbers as written by serde_json, text neutralised
/// against spreadsheet formula injection).
pub fn write_csv(table: &Table, path: &Path) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
    let columns: Vec<String> = table
        .rows
        .first()
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default();
    if !columns.is_empty() {
        w.write_record(&columns)?;
    }
    for r in &table.rows {
        let rec: Vec<String> = columns
            .iter()
            .map(|c| match r.get(c) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => sl_engine::export::csv_safe(s).into_owned(),
                Some(v) => v.to_string(),
            })
            .collect();
        w.write_record(&rec)?;
    }
    w.flush()?;
    Ok(())
}

/// Writes the rows that have a unit as GeoJSON polygons in WGS84.
pub fn write_geojson(table: &Table, units: &Units, path: &Path) -> Result<()> {
    let (features, without_outline) = table.features(units)?;
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    write!(out, "{{\"type\":\"FeatureCollection\",\"features\":[")?;
    for (k, f) in features.iter().enumerate() {
        if k > 0 {
            write!(out, ",")?;
        }
        serde_json::to_writer(&mut out, f)?;
    }
    writeln!(out, "]}}")?;
    out.flush()?;
    if without_outline > 0 {
        eprintln!(
            "warning: {without_outline} of {} rows have no outline and are not on the map (area codes that name no feature of the stored boundary): use --area-units boundary, --hex or grid cells for maps",
            table.rows.len()
        );
    }
    Ok(())
}

/// Writes whichever of CSV and GeoJSON were asked for.
pub fn write_files(
    table: &Table,
    units: Option<&Units>,
    csv_path: Option<&Path>,
    geojson: Option<&Path>,
) -> Result<()> {
    if let Some(p) = csv_path {
        write_csv(table, p)?;
        eprintln!("wrote {} rows to {}", table.rows.len(), p.display());
    }
    if let Some(p) = geojson {
        let units = units.context("this result has no map geometry: leave out --geojson")?;
        write_geojson(table, units, p)?;
        eprintln!("wrote map layer to {}", p.display());
    }
    Ok(())
}

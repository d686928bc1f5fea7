//! Per-unit and per-band result tables, written three ways from one definition: JSON
//! objects (stdout), CSV (spreadsheets) and GeoJSON features (maps), so the three never
//! disagree.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::{Map, Value, json};
use sl_engine::analysis::{UnitKind, Units};

/// Rows of named values. Column order is the order of the first row's keys.
#[derive(Debug, Default)]
pub struct Table {
    pub rows: Vec<Map<String, Value>>,
    /// For map output: the unit index of each row (rows without one have no geometry).
    pub unit: Vec<Option<usize>>,
}

impl Table {
    pub fn push(&mut self, unit: Option<usize>, row: Map<String, Value>) {
        self.rows.push(row);
        self.unit.push(unit);
    }

    pub fn json(&self) -> Value {
        Value::Array(self.rows.iter().cloned().map(Value::Object).collect())
    }

    /// Writes the table as CSV (numbers as written by serde_json, text neutralised
    /// against spreadsheet formula injection).
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
        let columns: Vec<String> = self
            .rows
            .first()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default();
        w.write_record(&columns)?;
        for r in &self.rows {
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
    pub fn write_geojson(&self, units: &Units, path: &Path) -> Result<()> {
        let rings = units.rings_lonlat()?;
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        write!(out, "{{\"type\":\"FeatureCollection\",\"features\":[")?;
        let mut first = true;
        for (row, unit) in self.rows.iter().zip(&self.unit) {
            let Some(i) = unit else { continue };
            let Some(rs) = rings.get(*i).filter(|r| !r.is_empty()) else {
                continue;
            };
            let coords: Vec<Vec<Vec<[f64; 2]>>> = rs
                .iter()
                .map(|r| vec![r.iter().map(|&(x, y)| [round7(x), round7(y)]).collect()])
                .collect();
            let geometry = if coords.len() == 1 {
                json!({"type": "Polygon", "coordinates": coords[0]})
            } else {
                json!({"type": "MultiPolygon", "coordinates": coords})
            };
            let f = json!({"type": "Feature", "geometry": geometry, "properties": row});
            if !first {
                write!(out, ",")?;
            }
            first = false;
            serde_json::to_writer(&mut out, &f)?;
        }
        writeln!(out, "]}}")?;
        out.flush()?;
        Ok(())
    }

    /// Writes whichever of CSV and GeoJSON were asked for.
    pub fn write_files(
        &self,
        units: Option<&Units>,
        csv_path: Option<&Path>,
        geojson: Option<&Path>,
    ) -> Result<()> {
        if let Some(p) = csv_path {
            self.write_csv(p)?;
            eprintln!("wrote {} rows to {}", self.rows.len(), p.display());
        }
        if let Some(p) = geojson {
            let units = units.context("this result has no map geometry: leave out --geojson")?;
            self.write_geojson(units, p)?;
            eprintln!("wrote map layer to {}", p.display());
        }
        Ok(())
    }
}

fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

/// The identifying columns of a unit: `row`/`col` for grid cells, `h3` for hexagons,
/// `area` for areas; always `unit` (the label).
pub fn unit_columns(units: &Units, i: usize) -> Map<String, Value> {
    let mut m = Map::new();
    match &units.kind {
        UnitKind::Grid(g) => {
            let (r, c) = g.cell(i);
            m.insert("row".into(), json!(r));
            m.insert("col".into(), json!(c));
        }
        UnitKind::Hex(_) => {
            m.insert("h3".into(), json!(units.labels[i]));
        }
        UnitKind::Area(level) => {
            m.insert(level.slug().into(), json!(units.labels[i]));
        }
        UnitKind::Boundary(_) => {
            m.insert("area".into(), json!(units.labels[i]));
        }
    }
    m.insert("unit".into(), json!(units.labels[i]));
    m
}

/// A description of the units for JSON output.
pub fn units_json(units: &Units, crs: &str) -> Value {
    match &units.kind {
        UnitKind::Grid(g) => {
            let grid = g.grid();
            json!({
                "kind": "grid",
                "cell_size": grid.cell,
                "crs": crs,
                "origin": [grid.x0, grid.y0],
                "rows": grid.rows,
                "cols": grid.cols,
                "cells": g.len(),
                "mask": match units.mask {
                    Some(sl_engine::analysis::MaskMode::Boundary) => "boundary",
                    Some(sl_engine::analysis::MaskMode::Events) => "events",
                    _ => "extent",
                },
                "boundary_file": units.boundary_file,
                "note": "row 0 is the southernmost row and col 0 the westernmost column; cell (row, col) covers [x0 + col·size, x0 + (col+1)·size) × [y0 + row·size, y0 + (row+1)·size)",
            })
        }
        UnitKind::Hex(cells) => json!({
            "kind": "h3",
            "resolution": units.hex_resolution(),
            "cells": cells.len(),
            "boundary_file": units.boundary_file,
        }),
        UnitKind::Area(level) => json!({
            "kind": "area",
            "level": level.slug(),
            "areas": units.len(),
        }),
        UnitKind::Boundary(_) => json!({
            "kind": "boundary",
            "boundary_file": units.boundary_file,
            "areas": units.len(),
        }),
    }
}

/// A number for JSON: NaN and infinities become null (JSON has no NaN).
pub fn num(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

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
        if !columns.is_empty() {
            w.write_record(&columns)?;
        }
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
        let mut without_outline = 0usize;
        for (row, unit) in self.rows.iter().zip(&self.unit) {
            let Some(i) = unit else { continue };
            let Some(rs) = rings.get(*i).filter(|r| !r.is_empty()) else {
                without_outline += 1;
                continue;
            };
            let coords: Vec<Vec<Vec<[f64; 2]>>> = polygons(rs)
                .into_iter()
                .map(|poly| {
                    poly.into_iter()
                        .map(|r| r.iter().map(|&(x, y)| [round7(x), round7(y)]).collect())
                        .collect()
                })
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
        if without_outline > 0 {
            eprintln!(
                "warning: {without_outline} of {} rows have no outline and are not on the map (area codes that name no feature of the stored boundary): use --area-units boundary, --hex or grid cells for maps",
                self.rows.len()
            );
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

/// Groups flat rings into polygons with holes (`sl_engine::polygons_with_holes`).
fn polygons(rings: &[Vec<(f64, f64)>]) -> Vec<Vec<&Vec<(f64, f64)>>> {
    sl_engine::polygons_with_holes(rings)
        .into_iter()
        .map(|poly| poly.into_iter().map(|i| &rings[i]).collect())
        .collect()
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
                "rotation_deg": units.frame().rotation_deg,
                "offset": [units.frame().offset.0, units.frame().offset.1],
                "note": "in the grid frame (local metres rotated by rotation_deg and shifted by offset; the identity unless set), row 0 is the southernmost row and col 0 the westernmost column; cell (row, col) covers [x0 + col·size, x0 + (col+1)·size) × [y0 + row·size, y0 + (row+1)·size)",
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

/// An instant (UTC seconds) for JSON, as RFC 3339; null if out of range.
pub fn instant(t: i64) -> Value {
    jiff::Timestamp::from_second(t).map_or(Value::Null, |t| json!(t.to_string()))
}

/// A number for JSON: NaN and infinities become null (JSON has no NaN).
pub fn num(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

#[cfg(test)]
mod tests {
    use super::polygons;

    fn square(x0: f64, y0: f64, side: f64) -> Vec<(f64, f64)> {
        vec![
            (x0, y0),
            (x0 + side, y0),
            (x0 + side, y0 + side),
            (x0, y0 + side),
            (x0, y0),
        ]
    }

    /// A square with a hole, an island inside the hole, and a separate square: the
    /// hole joins its outer ring, the island and the separate square are outer rings.
    #[test]
    fn rings_group_into_polygons_with_holes() {
        let rings = vec![
            square(0.0, 0.0, 10.0),
            square(2.0, 2.0, 6.0),
            square(4.0, 4.0, 2.0),
            square(20.0, 0.0, 5.0),
        ];
        let p = polygons(&rings);
        let shape: Vec<Vec<f64>> = p
            .iter()
            .map(|poly| poly.iter().map(|r| r[0].0).collect())
            .collect();
        assert_eq!(shape, vec![vec![0.0, 2.0], vec![4.0], vec![20.0]]);
    }
}

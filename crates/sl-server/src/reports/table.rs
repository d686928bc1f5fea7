//! Per-unit and per-band result tables, one definition written three ways: JSON
//! objects (`--json` and the API), CSV (spreadsheets, written by the command line) and
//! GeoJSON features (map layers), so the three never disagree.

use serde_json::{Map, Value, json};
use sl_engine::analysis::{UnitKind, Units};

/// Rows of named values. Column order is the order of the first row's keys.
#[derive(Debug, Default, Clone)]
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

    /// The rows that have a unit as GeoJSON polygon features in WGS84 (coordinates
    /// rounded to 1e-7 degrees, about 1 cm), and how many rows had no outline (area
    /// codes that name no feature of the stored boundary).
    pub fn features(&self, units: &Units) -> anyhow::Result<(Vec<Value>, usize)> {
        let rings = units.rings_lonlat()?;
        let mut out = Vec::with_capacity(self.rows.len());
        let mut without_outline = 0usize;
        for (row, unit) in self.rows.iter().zip(&self.unit) {
            let Some(i) = unit else { continue };
            let Some(rs) = rings.get(*i).filter(|r| !r.is_empty()) else {
                without_outline += 1;
                continue;
            };
            let geometry = geometry(rs);
            out.push(json!({"type": "Feature", "geometry": geometry, "properties": row}));
        }
        Ok((out, without_outline))
    }
}

/// A Polygon or MultiPolygon from flat lon/lat rings (holes found by containment),
/// coordinates rounded to 1e-7 degrees.
pub fn geometry(rings: &[Vec<(f64, f64)>]) -> Value {
    let coords: Vec<Vec<Vec<[f64; 2]>>> = polygons(rings)
        .into_iter()
        .map(|poly| {
            poly.into_iter()
                .map(|r| r.iter().map(|&(x, y)| [round7(x), round7(y)]).collect())
                .collect()
        })
        .collect();
    if coords.len() == 1 {
        json!({"type": "Polygon", "coordinates": coords[0]})
    } else {
        json!({"type": "MultiPolygon", "coordinates": coords})
    }
}

/// Groups flat rings into polygons with holes (`sl_engine::polygons_with_holes`).
fn polygons(rings: &[Vec<(f64, f64)>]) -> Vec<Vec<&Vec<(f64, f64)>>> {
    sl_engine::polygons_with_holes(rings)
        .into_iter()
        .map(|poly| poly.into_iter().map(|i| &rings[i]).collect())
        .collect()
}

pub fn round7(v: f64) -> f64 {
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

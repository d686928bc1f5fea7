//! Risk terrain layers from files: parses an analyst's layer spec, reads the layer
//! (GeoJSON or shapefile), and projects it into the frame of the grid a model runs on,
//! so `sl_analytics::risk_terrain` can turn it into a factor per cell.

use std::path::PathBuf;
use std::sync::Arc;

use sl_analytics::risk_terrain::{CellCache, Operation, RiskFactor, Shape};
use sl_ingest::crs::Reprojector;
use sl_ingest::layer::{Layer, LayerShape};

use super::units::Units;
use crate::{EngineError, Result};

/// Spatial influence distance when the spec gives none, metres (about two short city
/// blocks; RTM tests influence in block lengths).
pub const DEFAULT_DISTANCE_M: f64 = 200.0;

/// One `--risk-layer` value:
/// `NAME=FILE[,operation=proximity|density][,distance=METRES][,crs=CRS]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskLayerSpec {
    pub name: String,
    pub path: PathBuf,
    pub operation: Operation,
    pub distance: f64,
    /// CRS of the file's coordinates when not WGS84 lon/lat (e.g. `EPSG:2272`).
    pub crs: Option<String>,
}

impl RiskLayerSpec {
    /// Parses a spec such as `bars=bars.geojson,operation=density,distance=300`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |why: String| {
            EngineError::Invalid(format!(
                "--risk-layer `{text}`: {why}; write NAME=FILE[,operation=proximity|density][,distance=METRES][,crs=EPSG:XXXX]"
            ))
        };
        let (name, rest) = text
            .split_once('=')
            .ok_or_else(|| bad("no `=` after the layer's name".into()))?;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(bad(format!(
                "the name `{name}` must be letters, digits, `_` or `-`"
            )));
        }
        let mut parts = rest.split(',');
        let path = parts.next().unwrap_or_default();
        if path.is_empty() {
            return Err(bad("no file".into()));
        }
        let mut spec = RiskLayerSpec {
            name: name.to_string(),
            path: PathBuf::from(path),
            operation: Operation::Proximity,
            distance: DEFAULT_DISTANCE_M,
            crs: None,
        };
        for option in parts {
            let (key, value) = option
                .split_once('=')
                .ok_or_else(|| bad(format!("option `{option}` is not KEY=VALUE")))?;
            match key {
                "operation" | "op" => {
                    spec.operation = Operation::parse(value).ok_or_else(|| {
                        bad(format!("operation `{value}` is not proximity or density"))
                    })?;
                }
                "distance" => {
                    spec.distance = value
                        .parse::<f64>()
                        .ok()
                        .filter(|d| d.is_finite() && *d > 0.0)
                        .ok_or_else(|| {
                            bad(format!(
                                "distance `{value}` is not a positive number of metres"
                            ))
                        })?;
                }
                "crs" => spec.crs = Some(value.to_string()),
                other => {
                    return Err(bad(format!(
                        "unknown option `{other}` (operation, distance or crs)"
                    )));
                }
            }
        }
        Ok(spec)
    }
}

/// What was read from a layer file.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSummary {
    pub name: String,
    pub path: String,
    pub shapes: usize,
    pub without_geometry: usize,
    /// Shapes dropped because a vertex could not be projected.
    pub unprojectable: usize,
}

/// Reads a layer and projects it into `units`' local CRS and grid frame.
pub fn load_risk_factor(spec: &RiskLayerSpec, units: &Units) -> Result<(RiskFactor, LayerSummary)> {
    let layer = Layer::read(&spec.path, spec.crs.as_deref())
        .map_err(|e| EngineError::Invalid(format!("--risk-layer {}: {e}", spec.name)))?;
    let proj = Reprojector::new("EPSG:4326", units.local_crs())?;
    let frame = units.frame();
    let local = |(lon, lat): (f64, f64)| {
        proj.project(lon, lat)
            .ok()
            .map(|(_, (x, y))| frame.to_frame(x, y))
    };
    let path_of = |v: &[(f64, f64)]| v.iter().map(|&p| local(p)).collect::<Option<Vec<_>>>();
    let mut shapes = Vec::with_capacity(layer.shapes.len());
    let mut unprojectable = 0;
    for shape in &layer.shapes {
        let projected = match shape {
            LayerShape::Point(lon, lat) => local((*lon, *lat)).map(|(x, y)| Shape::Point { x, y }),
            LayerShape::Line(v) => path_of(v).map(Shape::Line),
            LayerShape::Polygon(rings) => rings
                .iter()
                .map(|r| path_of(r))
                .collect::<Option<Vec<_>>>()
                .map(Shape::Polygon),
        };
        match projected {
            Some(s) => shapes.push(s),
            None => unprojectable += 1,
        }
    }
    if shapes.is_empty() {
        return Err(EngineError::Invalid(format!(
            "--risk-layer {}: none of the {} shapes of {} could be placed in {}: GeoJSON must be WGS84 lon/lat; give crs=EPSG:XXXX for other files",
            spec.name,
            layer.shapes.len(),
            spec.path.display(),
            units.local_crs()
        )));
    }
    let summary = LayerSummary {
        name: spec.name.clone(),
        path: spec.path.display().to_string(),
        shapes: shapes.len(),
        without_geometry: layer.without_geometry,
        unprojectable,
    };
    let factor = RiskFactor {
        layer: spec.name.clone(),
        shapes: Arc::new(shapes),
        operation: spec.operation,
        distance: spec.distance,
        cache: CellCache::default(),
    };
    factor.check().map_err(EngineError::Invalid)?;
    Ok((factor, summary))
}

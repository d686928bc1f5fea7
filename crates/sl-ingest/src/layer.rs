//! Context layers: the places an agency knows about (transit stops, bars, schools,
//! street lights, vacant lots), read from GeoJSON or ESRI Shapefile as points, lines
//! and polygons in WGS84 degrees. Risk terrain factors and map layers start here.
//!
//! Multi-part geometries become one shape per part (a MultiPoint of 3 stops is 3
//! points), because what counts is each place. Features without a geometry are
//! skipped and counted, so the caller can say so.

use std::io::Read;
use std::path::Path;

use crate::crs;

/// One shape in lon/lat degrees.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerShape {
    Point(f64, f64),
    Line(Vec<(f64, f64)>),
    /// Rings under the even-odd rule (outer rings and holes alike).
    Polygon(Vec<Vec<(f64, f64)>>),
}

/// A layer file's shapes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layer {
    pub shapes: Vec<LayerShape>,
    /// Features that had no geometry (null in GeoJSON, a null shape in a shapefile).
    pub without_geometry: usize,
}

/// A layer file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("cannot read layer file {path}: {message}")]
    Read { path: String, message: String },
    #[error("layer file {path} holds no points, lines or polygons")]
    Empty { path: String },
    #[error("layer file {path}: {source}")]
    Crs { path: String, source: crs::CrsError },
}

impl Layer {
    /// Reads `.geojson`/`.json` (optionally `.gz` or `.zst`), `.shp`, or a `.zip` holding
    /// one `.shp`. GeoJSON is WGS84 lon/lat (RFC 7946); other CRSs need `crs` (e.g.
    /// `EPSG:2272`), which is also how a shapefile in a projected CRS is read.
    pub fn read(path: &Path, crs: Option<&str>) -> Result<Self, LayerError> {
        let shown = path.display().to_string();
        let read_err = |message: String| LayerError::Read {
            path: shown.clone(),
            message,
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let mut layer = if name.ends_with(".zip") || name.ends_with(".shp") {
            let bytes = if name.ends_with(".zip") {
                crate::boundary::shp_in_zip(path).map_err(read_err)?
            } else {
                std::fs::read(path).map_err(|e| read_err(e.to_string()))?
            };
            read_shp(bytes).map_err(read_err)?
        } else {
            let mut text = String::new();
            crate::source::open_decompressed(path)
                .map_err(|e| read_err(e.to_string()))?
                .read_to_string(&mut text)
                .map_err(|e| read_err(e.to_string()))?;
            read_geojson(&text).map_err(read_err)?
        };
        if layer.shapes.is_empty() {
            return Err(LayerError::Empty { path: shown });
        }
        if let Some(crs) = crs {
            let crs_err = |source| LayerError::Crs {
                path: shown.clone(),
                source,
            };
            for shape in &mut layer.shapes {
                match shape {
                    LayerShape::Point(x, y) => {
                        let mut p = [(*x, *y)];
                        crs::to_wgs84(crs, &mut p).map_err(crs_err)?;
                        (*x, *y) = p[0];
                    }
                    LayerShape::Line(v) => crs::to_wgs84(crs, v).map_err(crs_err)?,
                    LayerShape::Polygon(rings) => {
                        for r in rings {
                            crs::to_wgs84(crs, r).map_err(crs_err)?;
                        }
                    }
                }
            }
        }
        Ok(layer)
    }
}

fn read_geojson(text: &str) -> Result<Layer, String> {
    let gj: geojson::GeoJson = text.parse().map_err(|e: geojson::Error| e.to_string())?;
    let mut layer = Layer::default();
    let mut take = |g: Option<&geojson::Geometry>| match g {
        Some(g) => collect(&g.value, &mut layer.shapes),
        None => layer.without_geometry += 1,
    };
    match &gj {
        geojson::GeoJson::FeatureCollection(fc) => {
            fc.features.iter().for_each(|f| take(f.geometry.as_ref()));
        }
        geojson::GeoJson::Feature(f) => take(f.geometry.as_ref()),
        geojson::GeoJson::Geometry(g) => take(Some(g)),
    }
    Ok(layer)
}

fn collect(value: &geojson::GeometryValue, out: &mut Vec<LayerShape>) {
    use geojson::GeometryValue as G;
    let line = |v: &Vec<geojson::Position>| -> Vec<(f64, f64)> {
        v.iter()
            .filter(|p| p.len() >= 2)
            .map(|p| (p[0], p[1]))
            .collect()
    };
    match value {
        G::Point { coordinates: p } if p.len() >= 2 => out.push(LayerShape::Point(p[0], p[1])),
        G::MultiPoint { coordinates } => out.extend(
            coordinates
                .iter()
                .filter(|p| p.len() >= 2)
                .map(|p| LayerShape::Point(p[0], p[1])),
        ),
        G::LineString { coordinates } => out.push(LayerShape::Line(line(coordinates))),
        G::MultiLineString { coordinates } => {
            out.extend(coordinates.iter().map(|l| LayerShape::Line(line(l))));
        }
        G::Polygon { coordinates } => {
            out.push(LayerShape::Polygon(coordinates.iter().map(line).collect()));
        }
        G::MultiPolygon { coordinates } => out.extend(
            coordinates
                .iter()
                .map(|p| LayerShape::Polygon(p.iter().map(line).collect())),
        ),
        G::GeometryCollection { geometries } => {
            geometries.iter().for_each(|g| collect(&g.value, out));
        }
        _ => {}
    }
}

fn read_shp(bytes: Vec<u8>) -> Result<Layer, String> {
    use shapefile::Shape as S;
    let reader =
        shapefile::ShapeReader::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut layer = Layer::default();
    for shape in reader.read().map_err(|e| e.to_string())? {
        match shape {
            S::NullShape => layer.without_geometry += 1,
            S::Point(p) => layer.shapes.push(LayerShape::Point(p.x, p.y)),
            S::PointZ(p) => layer.shapes.push(LayerShape::Point(p.x, p.y)),
            S::PointM(p) => layer.shapes.push(LayerShape::Point(p.x, p.y)),
            S::Multipoint(m) => layer
                .shapes
                .extend(m.points().iter().map(|p| LayerShape::Point(p.x, p.y))),
            S::Polyline(l) => layer.shapes.extend(
                l.parts()
                    .iter()
                    .map(|part| LayerShape::Line(part.iter().map(|p| (p.x, p.y)).collect())),
            ),
            S::Polygon(p) => {
                let rings: Vec<Vec<(f64, f64)>> = p
                    .rings()
                    .iter()
                    .map(|r| r.points().iter().map(|pt| (pt.x, pt.y)).collect())
                    .collect();
                layer.shapes.push(LayerShape::Polygon(rings));
            }
            other => {
                return Err(format!(
                    "shape type {} is not supported: export points, lines or polygons",
                    other.shapetype()
                ));
            }
        }
    }
    Ok(layer)
}

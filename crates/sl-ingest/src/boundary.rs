//! Jurisdiction boundaries: polygons read from GeoJSON or ESRI Shapefile (plain or
//! zipped), held in WGS84 degrees, with a fast point-in-polygon test.
//!
//! # Algorithm
//! Even-odd ray casting over every ring of every polygon (so holes and multipolygons
//! need no special case). Edges are bucketed into horizontal bands, so a test scans
//! only the edges whose y-extent overlaps the point's band: O(edges / bands) per test
//! instead of O(edges). Philadelphia's district file has ~20k vertices; a test touches
//! a few dozen edges.

use std::io::Read;
use std::path::Path;

use crate::crs;

/// A boundary file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BoundaryError {
    #[error("cannot read boundary file {path}: {message}")]
    Read { path: String, message: String },
    #[error(
        "boundary file {path} holds no polygons: give a file of Polygon or MultiPolygon features"
    )]
    Empty { path: String },
    #[error("boundary file {path}: {source}")]
    Crs { path: String, source: crs::CrsError },
}

/// Named polygons (one entry per feature), each a list of rings in lon/lat degrees.
#[derive(Debug, Clone)]
pub struct Boundary {
    pub features: Vec<BoundaryFeature>,
}

/// One feature: its name (first string-like property, if any) and its rings.
#[derive(Debug, Clone)]
pub struct BoundaryFeature {
    pub name: Option<String>,
    pub rings: Vec<Vec<(f64, f64)>>,
}

impl Boundary {
    /// Reads a boundary file: `.geojson`/`.json` (optionally `.gz`), `.shp`, or a `.zip`
    /// holding one `.shp`. Non-WGS84 files need `crs` (e.g. `EPSG:2913`).
    pub fn read(path: &Path, crs: Option<&str>) -> Result<Self, BoundaryError> {
        let shown = path.display().to_string();
        let read_err = |message: String| BoundaryError::Read {
            path: shown.clone(),
            message,
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let mut features = if name.ends_with(".zip") {
            read_zipped_shapefile(path).map_err(read_err)?
        } else if name.ends_with(".shp") {
            let bytes = std::fs::read(path).map_err(|e| read_err(e.to_string()))?;
            read_shp_bytes(bytes).map_err(read_err)?
        } else {
            let mut text = String::new();
            crate::source::open_decompressed(path)
                .map_err(|e| read_err(e.to_string()))?
                .read_to_string(&mut text)
                .map_err(|e| read_err(e.to_string()))?;
            read_geojson(&text).map_err(read_err)?
        };
        if features.iter().all(|f| f.rings.is_empty()) {
            return Err(BoundaryError::Empty { path: shown });
        }
        if let Some(crs) = crs {
            for f in &mut features {
                for ring in &mut f.rings {
                    crs::to_wgs84(crs, ring).map_err(|source| BoundaryError::Crs {
                        path: shown.clone(),
                        source,
                    })?;
                }
            }
        }
        Ok(Self { features })
    }

    /// A point-in-polygon index over all features together.
    pub fn index(&self) -> PolygonIndex {
        PolygonIndex::new(self.features.iter().flat_map(|f| f.rings.iter()))
    }

    /// Bounding box `[min_lon, min_lat, max_lon, max_lat]`.
    pub fn bbox(&self) -> [f64; 4] {
        let mut b = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for (x, y) in self.features.iter().flat_map(|f| f.rings.iter().flatten()) {
            b[0] = b[0].min(*x);
            b[1] = b[1].min(*y);
            b[2] = b[2].max(*x);
            b[3] = b[3].max(*y);
        }
        b
    }

    /// A compact JSON form that keeps exactly what this type holds (names and flat
    /// rings in lon/lat), so a stored boundary reads back identically.
    pub fn to_json(&self) -> String {
        let features: Vec<serde_json::Value> = self
            .features
            .iter()
            .map(|f| {
                let rings: Vec<Vec<[f64; 2]>> = f
                    .rings
                    .iter()
                    .map(|r| r.iter().map(|&(x, y)| [x, y]).collect())
                    .collect();
                serde_json::json!({ "name": f.name, "rings": rings })
            })
            .collect();
        serde_json::json!({ "features": features }).to_string()
    }

    /// Reads the form written by [`Boundary::to_json`].
    pub fn from_json(text: &str) -> Result<Self, String> {
        #[derive(serde::Deserialize)]
        struct Stored {
            features: Vec<StoredFeature>,
        }
        #[derive(serde::Deserialize)]
        struct StoredFeature {
            name: Option<String>,
            rings: Vec<Vec<[f64; 2]>>,
        }
        let stored: Stored = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(Self {
            features: stored
                .features
                .into_iter()
                .map(|f| BoundaryFeature {
                    name: f.name,
                    rings: f
                        .rings
                        .into_iter()
                        .map(|r| r.into_iter().map(|[x, y]| (x, y)).collect())
                        .collect(),
                })
                .collect(),
        })
    }
}

fn read_geojson(text: &str) -> Result<Vec<BoundaryFeature>, String> {
    let gj: geojson::GeoJson = text.parse().map_err(|e: geojson::Error| e.to_string())?;
    let mut out = Vec::new();
    let mut push = |name: Option<String>, geom: Option<&geojson::Geometry>| {
        let mut rings = Vec::new();
        if let Some(g) = geom {
            collect_rings(&g.value, &mut rings);
        }
        out.push(BoundaryFeature { name, rings });
    };
    match &gj {
        geojson::GeoJson::FeatureCollection(fc) => {
            for f in &fc.features {
                push(feature_name(f), f.geometry.as_ref());
            }
        }
        geojson::GeoJson::Feature(f) => push(feature_name(f), f.geometry.as_ref()),
        geojson::GeoJson::Geometry(g) => push(None, Some(g)),
    }
    Ok(out)
}

fn feature_name(f: &geojson::Feature) -> Option<String> {
    let props = f.properties.as_ref()?;
    for key in [
        "name",
        "NAME",
        "dist_numc",
        "DISTRICT",
        "NHD_NAME",
        "NHD_NUM",
    ] {
        if let Some(v) = props.get(key) {
            return Some(match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        }
    }
    None
}

fn collect_rings(value: &geojson::GeometryValue, rings: &mut Vec<Vec<(f64, f64)>>) {
    let ring = |r: &Vec<geojson::Position>| -> Vec<(f64, f64)> {
        r.iter()
            .filter(|p| p.len() >= 2)
            .map(|p| (p[0], p[1]))
            .collect()
    };
    match value {
        geojson::GeometryValue::Polygon { coordinates } => {
            rings.extend(coordinates.iter().map(ring));
        }
        geojson::GeometryValue::MultiPolygon { coordinates } => {
            for poly in coordinates {
                rings.extend(poly.iter().map(ring));
            }
        }
        geojson::GeometryValue::GeometryCollection { geometries } => {
            for g in geometries {
                collect_rings(&g.value, rings);
            }
        }
        _ => {}
    }
}

fn read_zipped_shapefile(path: &Path) -> Result<Vec<BoundaryFeature>, String> {
    read_shp_bytes(shp_in_zip(path)?)
}

/// The bytes of the first `.shp` file in a zip (boundaries and context layers come
/// zipped with their .dbf and .prj, as portals publish them).
pub(crate) fn shp_in_zip(path: &Path) -> Result<Vec<u8>, String> {
    shapefile_in_zip(path).map(|(shp, _)| shp)
}

/// The first `.shp` file in a zip and, when the zip holds it, the `.dbf` of the same
/// name (its attribute table).
pub(crate) fn shapefile_in_zip(path: &Path) -> Result<(Vec<u8>, Option<Vec<u8>>), String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| e.to_string())?;
    let names: Vec<String> = (0..zip.len())
        .filter_map(|i| zip.by_index(i).ok().map(|f| f.name().to_string()))
        .collect();
    let shp_name = names
        .iter()
        .find(|n| n.to_ascii_lowercase().ends_with(".shp"))
        .ok_or_else(|| "the zip holds no .shp file".to_string())?;
    let stem = &shp_name[..shp_name.len() - 4];
    let dbf_name = names.iter().find(|n| {
        n.len() == shp_name.len() && n.starts_with(stem) && n.to_ascii_lowercase().ends_with(".dbf")
    });
    let mut read = |name: &str| -> Result<Vec<u8>, String> {
        let mut bytes = Vec::new();
        zip.by_name(name)
            .map_err(|e| e.to_string())?
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        Ok(bytes)
    };
    let shp = read(shp_name)?;
    let dbf = dbf_name.map(|n| read(n)).transpose()?;
    Ok((shp, dbf))
}

fn read_shp_bytes(bytes: Vec<u8>) -> Result<Vec<BoundaryFeature>, String> {
    let reader =
        shapefile::ShapeReader::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let shapes = reader.read().map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for shape in shapes {
        let rings: Vec<Vec<(f64, f64)>> = match shape {
            shapefile::Shape::Polygon(p) => p
                .rings()
                .iter()
                .map(|r| r.points().iter().map(|pt| (pt.x, pt.y)).collect())
                .collect(),
            shapefile::Shape::PolygonZ(p) => p
                .rings()
                .iter()
                .map(|r| r.points().iter().map(|pt| (pt.x, pt.y)).collect())
                .collect(),
            shapefile::Shape::PolygonM(p) => p
                .rings()
                .iter()
                .map(|r| r.points().iter().map(|pt| (pt.x, pt.y)).collect())
                .collect(),
            _ => Vec::new(),
        };
        out.push(BoundaryFeature { name: None, rings });
    }
    Ok(out)
}

/// For each ring, the indices of the other rings that contain its first vertex (a
/// ray-casting test per ring; rings closed, first vertex repeated last). Under the
/// even-odd rule a ring inside an odd number of others is a hole, and its immediate
/// container is the containing ring one level shallower. Used to compute areas and to
/// write rings back as polygons with holes.
pub fn ring_containers(rings: &[Vec<(f64, f64)>]) -> Vec<Vec<usize>> {
    let inside = |p: (f64, f64), ring: &[(f64, f64)]| {
        let mut c = false;
        for w in ring.windows(2) {
            let ((x1, y1), (x2, y2)) = (w[0], w[1]);
            if (y1 > p.1) != (y2 > p.1) && p.0 < x1 + (p.1 - y1) / (y2 - y1) * (x2 - x1) {
                c = !c;
            }
        }
        c
    };
    rings
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let Some(&p) = r.first() else {
                return Vec::new();
            };
            (0..rings.len())
                .filter(|&j| j != i && inside(p, &rings[j]))
                .collect()
        })
        .collect()
}

/// Groups flat rings into polygons with holes, as ring indices: each polygon's outer
/// ring first, then its holes. A ring inside an odd number of the other rings is a hole
/// of the ring that immediately contains it (even-odd rule, as [`PolygonIndex`] reads
/// rings); every other ring is an outer ring. GeoJSON needs this form, while shapefiles
/// and stored boundaries keep one flat list of rings.
pub fn polygons_with_holes(rings: &[Vec<(f64, f64)>]) -> Vec<Vec<usize>> {
    let containers = ring_containers(rings);
    let depth: Vec<usize> = containers.iter().map(Vec::len).collect();
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut slot = vec![usize::MAX; rings.len()];
    for i in (0..rings.len()).filter(|&i| depth[i].is_multiple_of(2)) {
        slot[i] = out.len();
        out.push(vec![i]);
    }
    for i in (0..rings.len()).filter(|&i| !depth[i].is_multiple_of(2)) {
        let parent = containers[i]
            .iter()
            .copied()
            .find(|&j| depth[j] + 1 == depth[i]);
        match parent.map(|j| slot[j]) {
            Some(k) if k != usize::MAX => out[k].push(i),
            _ => out.push(vec![i]),
        }
    }
    out
}

/// Banded edge index for even-odd point-in-polygon tests.
#[derive(Debug, Clone)]
pub struct PolygonIndex {
    min_y: f64,
    band_height: f64,
    bands: Vec<Vec<[f64; 4]>>,
    bbox: [f64; 4],
}

impl PolygonIndex {
    /// Indexes the edges of the given rings (closed implicitly).
    pub fn new<'a>(rings: impl Iterator<Item = &'a Vec<(f64, f64)>>) -> Self {
        let mut edges = Vec::new();
        let mut bbox = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for ring in rings {
            let n = ring.len();
            for i in 0..n {
                let (x1, y1) = ring[i];
                let (x2, y2) = ring[(i + 1) % n];
                if y1 != y2 {
                    edges.push([x1, y1, x2, y2]);
                }
                bbox = [
                    bbox[0].min(x1),
                    bbox[1].min(y1),
                    bbox[2].max(x1),
                    bbox[3].max(y1),
                ];
            }
        }
        let band_count = (edges.len() / 2).clamp(1, 16_384);
        let height = ((bbox[3] - bbox[1]) / band_count as f64).max(f64::MIN_POSITIVE);
        let mut bands = vec![Vec::new(); band_count];
        for e in edges {
            let lo = ((e[1].min(e[3]) - bbox[1]) / height).floor().max(0.0) as usize;
            let hi = ((e[1].max(e[3]) - bbox[1]) / height).floor().max(0.0) as usize;
            for band in bands.iter_mut().take(hi.min(band_count - 1) + 1).skip(lo) {
                band.push(e);
            }
        }
        Self {
            min_y: bbox[1],
            band_height: height,
            bands,
            bbox,
        }
    }

    /// Whether (x, y) lies inside (even-odd rule). Points exactly on an edge may go
    /// either way, as with any ray-casting test.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        if !(x >= self.bbox[0] && x <= self.bbox[2] && y >= self.bbox[1] && y <= self.bbox[3]) {
            return false;
        }
        let band = (((y - self.min_y) / self.band_height) as usize).min(self.bands.len() - 1);
        let mut inside = false;
        for e in &self.bands[band] {
            let (x1, y1, x2, y2) = (e[0], e[1], e[2], e[3]);
            if (y1 > y) != (y2 > y) {
                let cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1);
                if x < cross {
                    inside = !inside;
                }
            }
        }
        inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A square with a hole, an island inside the hole, and a separate square: the
    /// hole joins its outer ring, the island and the separate square are outer rings.
    #[test]
    fn rings_group_into_polygons_with_holes() {
        let square = |x0: f64, y0: f64, side: f64| {
            vec![
                (x0, y0),
                (x0 + side, y0),
                (x0 + side, y0 + side),
                (x0, y0 + side),
                (x0, y0),
            ]
        };
        let rings = vec![
            square(0.0, 0.0, 10.0),
            square(2.0, 2.0, 6.0),
            square(4.0, 4.0, 2.0),
            square(20.0, 0.0, 5.0),
        ];
        assert_eq!(
            polygons_with_holes(&rings),
            vec![vec![0, 1], vec![2], vec![3]]
        );
    }

    #[test]
    fn square_with_hole() {
        let outer = vec![(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)];
        let hole = vec![(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0)];
        let rings = [outer, hole];
        let idx = PolygonIndex::new(rings.iter());
        assert!(idx.contains(1.0, 1.0));
        assert!(idx.contains(9.5, 5.0));
        assert!(!idx.contains(5.0, 5.0), "inside the hole");
        assert!(!idx.contains(11.0, 5.0));
        assert!(!idx.contains(-0.1, 5.0));
    }

    #[test]
    fn agrees_with_geo_on_a_concave_polygon() {
        use geo::{Contains, LineString, Point, Polygon};
        let ring: Vec<(f64, f64)> = (0..50)
            .map(|i| {
                let a = i as f64 / 50.0 * std::f64::consts::TAU;
                let r = if i % 2 == 0 { 10.0 } else { 4.0 };
                (r * a.cos(), r * a.sin())
            })
            .collect();
        let poly = Polygon::new(LineString::from(ring.clone()), vec![]);
        let rings = [ring];
        let idx = PolygonIndex::new(rings.iter());
        for i in 0..200 {
            for j in 0..200 {
                let (x, y) = (-11.0 + i as f64 * 0.1103, -11.0 + j as f64 * 0.1097);
                assert_eq!(
                    idx.contains(x, y),
                    poly.contains(&Point::new(x, y)),
                    "({x}, {y})"
                );
            }
        }
    }
}

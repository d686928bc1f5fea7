//! Context layers written as GeoJSON (RFC 7946): the stored form, and the geometry the
//! edges put on maps. Shapes of one feature become one geometry: a point or line alone
//! stays itself, several become Multi*; polygon rings read under the even-odd rule (as
//! shapefiles give them) are grouped into polygons with their holes.

use serde_json::{Value, json};
use sl_ingest::boundary::polygons_with_holes;
use sl_ingest::layer::LayerShape;

use super::ContextFeature;

/// Rounds to 1e-7° (about 1 cm), the precision every stored layer keeps.
fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

fn position(&(x, y): &(f64, f64)) -> Value {
    json!([round7(x), round7(y)])
}

fn path(v: &[(f64, f64)]) -> Value {
    Value::Array(v.iter().map(position).collect())
}

/// A ring as GeoJSON wants it: closed (first position repeated last).
fn ring(r: &[(f64, f64)]) -> Value {
    let mut out: Vec<Value> = r.iter().map(position).collect();
    if r.first() != r.last()
        && let Some(first) = r.first()
    {
        out.push(position(first));
    }
    Value::Array(out)
}

/// The GeoJSON geometry of one feature's shapes (all of one kind).
pub(super) fn geometry(shapes: &[LayerShape]) -> Value {
    let mut points = Vec::new();
    let mut lines = Vec::new();
    let mut polygons = Vec::new();
    for s in shapes {
        match s {
            LayerShape::Point(x, y) => points.push(position(&(*x, *y))),
            LayerShape::Line(v) => lines.push(path(v)),
            LayerShape::Polygon(rings) => {
                for poly in polygons_with_holes(rings) {
                    polygons.push(Value::Array(
                        poly.iter().map(|&i| ring(&rings[i])).collect(),
                    ));
                }
            }
        }
    }
    let single_or_multi = |mut parts: Vec<Value>, single: &str, multi: &str| {
        if parts.len() == 1 {
            json!({"type": single, "coordinates": parts.remove(0)})
        } else {
            json!({"type": multi, "coordinates": parts})
        }
    };
    if !polygons.is_empty() {
        single_or_multi(polygons, "Polygon", "MultiPolygon")
    } else if !lines.is_empty() {
        single_or_multi(lines, "LineString", "MultiLineString")
    } else {
        single_or_multi(points, "Point", "MultiPoint")
    }
}

/// The stored text: `{"type": "FeatureCollection", "features": [...]}`, each feature
/// with its geometry and its properties as read.
pub(super) fn feature_collection(features: &[ContextFeature]) -> String {
    let features: Vec<Value> = features
        .iter()
        .map(|f| {
            json!({
                "type": "Feature",
                "geometry": geometry(&f.shapes),
                "properties": f.properties,
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

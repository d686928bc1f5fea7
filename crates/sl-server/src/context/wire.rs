//! The wire forms of context layers, shared by both edges: the API returns them and
//! `streetlight layer list --json` and `streetlight rates --json` print them. Field
//! names are documented in docs/CLI.md and docs/API.md.

use serde::Serialize;
use serde_json::{Map, Value, json};
use sl_engine::context_layers::{Added, LayerSummary, Nearby, Rates};

/// A context layer's registry entry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LayerInfo {
    pub name: String,
    /// `points`, `lines` or `polygons`.
    pub kind: String,
    pub features: usize,
    /// The uploaded file's name.
    pub file_name: String,
    /// SHA-256 of the uploaded bytes.
    pub sha256: String,
    /// RFC 3339, UTC.
    pub uploaded_at: String,
    /// The property holding each polygon's population (for rates per 1,000 residents).
    pub population_field: Option<String>,
}

/// What an upload did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LayerAdded {
    #[serde(flatten)]
    pub layer: LayerInfo,
    /// A layer of the same name was replaced.
    pub replaced: bool,
    /// Features of the upload without a geometry (not stored).
    pub without_geometry: usize,
}

pub fn layer_info(s: &LayerSummary) -> LayerInfo {
    LayerInfo {
        name: s.name.clone(),
        kind: s.kind.as_str().to_string(),
        features: s.features,
        file_name: s.file_name.clone(),
        sha256: s.sha256.clone(),
        uploaded_at: s.uploaded_at(),
        population_field: s.population_field.clone(),
    }
}

pub fn layer_added(a: &Added) -> LayerAdded {
    LayerAdded {
        layer: layer_info(&a.summary),
        replaced: a.replaced,
        without_geometry: a.without_geometry,
    }
}

/// A stored layer as GeoJSON with its entry as the foreign member `meta`
/// (`dataset` plus the fields of [`LayerInfo`]).
pub fn layer_geojson(dataset: &str, s: &LayerSummary, stored: &str) -> Result<Value, String> {
    let mut fc: Value = serde_json::from_str(stored).map_err(|e| e.to_string())?;
    let mut meta = serde_json::to_value(layer_info(s)).map_err(|e| e.to_string())?;
    meta["dataset"] = json!(dataset);
    fc["meta"] = meta;
    Ok(fc)
}

fn num(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

fn instant(t: Option<i64>) -> Value {
    t.and_then(|t| jiff::Timestamp::from_second(t).ok())
        .map_or(Value::Null, |t| json!(t.to_string()))
}

/// One row per polygon: the layer's own properties, then `feature` (its index in the
/// layer), `count`, `population` and `rate_per_1000` (null where nobody lives), which
/// win over properties of the same name.
pub fn rate_rows(r: &Rates) -> Vec<Map<String, Value>> {
    r.polygons
        .iter()
        .map(|p| {
            let mut m = r.layer.features[p.feature].properties.clone();
            m.insert("feature".into(), json!(p.feature));
            m.insert("count".into(), json!(p.count));
            m.insert("population".into(), num(p.population));
            m.insert(
                "rate_per_1000".into(),
                p.rate_per_1000.map_or(Value::Null, num),
            );
            m
        })
        .collect()
}

/// Everything about a rates result except its rows.
pub fn rates_meta(r: &Rates) -> Value {
    json!({
        "dataset": r.dataset,
        "layer": r.layer.summary.name,
        "population_field": r.layer.summary.population_field,
        "categories": r.selection.categories,
        "from": instant(r.selection.from),
        "to": instant(r.selection.to),
        "area": r.selection.area.as_ref().map(|a| format!("{}={}", a.level.slug(), a.code)),
        "features": r.polygons.len(),
        "events": r.events,
        "without_point": r.without_point,
        "in_polygons": r.in_polygons,
        "outside_polygons": r.outside,
        "in_several": r.in_several,
        "population": num(r.population),
        "rate_per_1000": r.rate_per_1000.map_or(Value::Null, num),
        "note": "rate_per_1000 = 1000 x count / population: events in the period per 1,000 residents (not per year); null where the population is 0",
    })
}

/// `rates --json`: [`rates_meta`] with the rows as `polygons`.
pub fn rates_json(r: &Rates) -> Value {
    let mut doc = rates_meta(r);
    doc["polygons"] = Value::Array(rate_rows(r).into_iter().map(Value::Object).collect());
    doc
}

/// The polygons with their rows as properties, and [`rates_meta`] as `meta`.
pub fn rates_geojson(r: &Rates) -> Value {
    let features: Vec<Value> = rate_rows(r)
        .into_iter()
        .zip(&r.polygons)
        .map(|(row, p)| {
            json!({
                "type": "Feature",
                "geometry": r.layer.features[p.feature].geometry_json(),
                "properties": row,
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "meta": rates_meta(r), "features": features})
}

/// Features of each context layer near a point.
pub fn nearby_json(n: &Nearby) -> Value {
    let layers: Vec<Value> = n
        .layers
        .iter()
        .map(|l| {
            json!({
                "layer": l.layer,
                "kind": l.kind.as_str(),
                "features": l.features,
                "within": l.within,
                "nearest": l.nearest.as_ref().map(|f| json!({
                    "feature": f.feature,
                    "distance_m": num(f.distance_m),
                    "label": f.label,
                    "population": f.population.map_or(Value::Null, num),
                    "properties": f.properties,
                })),
            })
        })
        .collect();
    json!({
        "dataset": n.dataset,
        "lon": n.lon,
        "lat": n.lat,
        "radius_m": n.radius_m,
        "layers": layers,
        "note": "within counts features closer than radius_m (polygons containing the point at 0 m); distances are planar about the point (equirectangular), good to about 0.1%",
    })
}

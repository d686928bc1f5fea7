//! Context layers: what an agency knows about places (transit stops, schools, bars,
//! street lights, vacant lots) and demographic polygons (census tracts with their
//! population), uploaded as GeoJSON or shapefiles and stored with a dataset, so counts
//! can be read as rates per 1,000 residents ([`rates`]) and places against what is
//! near them ([`nearby`]).
//!
//! A layer is checked once, when it is added, and stored as a GeoJSON FeatureCollection
//! in WGS84 (coordinates rounded to 1e-7°, about 1 cm): one kind of geometry per layer,
//! coordinates that are longitudes and latitudes, lines of two points or more, rings of
//! three, and, when a population field is named, a non-negative number in it on every
//! polygon. Each refusal names the feature (its index in the file, counting from 0) and
//! says what to do, because the person uploading is the one who can fix the file.
//!
//! Adding and removing a layer are recorded in the audit trail (`layer.upload`,
//! `layer.remove`), refusals included, by the engine itself, so the command line and
//! the server record them the same way.
//!
//! Architecture invariant: context layers describe places, never people. They are not
//! joined to events row by row; analyses count events per polygon or features near a
//! point.

mod geometry;
pub mod nearby;
pub mod rates;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::Path;

use serde_json::{Map, Value};
use sl_ingest::layer::{Layer, LayerShape};
use sl_store::{ContextLayerInfo, ContextLayerRecord, Store, StoreError};

use crate::EngineError;
use crate::accounts::Context;
use crate::analysis::selection::dataset_info;
use crate::audit::{self, Action, Outcome};

pub use nearby::{Nearby, NearbyLayer, NearestFeature, nearby};
pub use rates::{PolygonRate, Rates, rates};

/// Most features a layer may hold: every analysis reads the whole layer.
pub const MAX_FEATURES: usize = 100_000;
/// Largest stored GeoJSON, bytes (also the server's upload limit).
pub const MAX_GEOJSON_BYTES: usize = 20 * 1024 * 1024;
/// Longest layer name.
pub const MAX_NAME_LEN: usize = 64;

/// What a layer's features are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayerKind {
    Points,
    Lines,
    Polygons,
}

impl LayerKind {
    /// The stable name (`points`, `lines`, `polygons`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Points => "points",
            Self::Lines => "lines",
            Self::Polygons => "polygons",
        }
    }

    /// Parses a stable name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "points" => Some(Self::Points),
            "lines" => Some(Self::Lines),
            "polygons" => Some(Self::Polygons),
            _ => None,
        }
    }

    fn of(shape: &LayerShape) -> Self {
        match shape {
            LayerShape::Point(..) => Self::Points,
            LayerShape::Line(_) => Self::Lines,
            LayerShape::Polygon(_) => Self::Polygons,
        }
    }

    /// One feature of this kind, for messages (`a point`).
    fn one(self) -> &'static str {
        match self {
            Self::Points => "a point",
            Self::Lines => "a line",
            Self::Polygons => "a polygon",
        }
    }
}

impl fmt::Display for LayerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A layer's registry entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSummary {
    pub name: String,
    pub kind: LayerKind,
    pub file_name: String,
    pub sha256: String,
    /// UTC milliseconds since the Unix epoch.
    pub uploaded_ms: i64,
    pub features: usize,
    pub population_field: Option<String>,
}

impl LayerSummary {
    /// The upload time as RFC 3339 UTC (`2026-01-02T03:04:05.678Z`).
    pub fn uploaded_at(&self) -> String {
        jiff::Timestamp::from_millisecond(self.uploaded_ms)
            .map_or_else(|_| self.uploaded_ms.to_string(), |t| t.to_string())
    }

    fn from_info(info: ContextLayerInfo) -> Result<Self, LayerError> {
        let kind = LayerKind::parse(&info.kind).ok_or_else(|| LayerError::Corrupt {
            name: info.name.clone(),
            message: format!("unknown kind `{}`", info.kind),
        })?;
        Ok(Self {
            name: info.name,
            kind,
            file_name: info.file_name,
            sha256: info.sha256,
            uploaded_ms: info.uploaded_ms,
            features: info.features as usize,
            population_field: info.population_field,
        })
    }
}

/// One feature: its shapes (all of the layer's kind) in lon/lat, and its properties.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextFeature {
    pub shapes: Vec<LayerShape>,
    pub properties: Map<String, Value>,
}

impl ContextFeature {
    /// The feature's GeoJSON geometry (RFC 7946; polygons with their holes, rings
    /// closed, coordinates rounded to 1e-7°), as stored.
    pub fn geometry_json(&self) -> Value {
        geometry::geometry(&self.shapes)
    }
}

/// A stored layer with its features.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextLayer {
    pub summary: LayerSummary,
    pub features: Vec<ContextFeature>,
}

/// Properties that name a feature, in order of preference (general names, census
/// tracts, then the police-district and neighbourhood fields the boundary reader knows).
const LABEL_KEYS: [&str; 13] = [
    "name",
    "NAME",
    "Name",
    "label",
    "NAMELSAD",
    "GEOID",
    "geoid",
    "NHD_NAME",
    "DISTRICT",
    "dist_numc",
    "dist_num",
    "id",
    "ID",
];

impl ContextLayer {
    /// Feature `i`'s population (when the layer has a population field).
    pub fn population(&self, i: usize) -> Option<f64> {
        let field = self.summary.population_field.as_deref()?;
        population_of(&self.features.get(i)?.properties, field).ok()
    }

    /// A name for feature `i`: its first naming property (`name`, `NAMELSAD`, `GEOID`,
    /// …), else `feature i`.
    pub fn label(&self, i: usize) -> String {
        let props = self.features.get(i).map(|f| &f.properties);
        LABEL_KEYS
            .iter()
            .find_map(|k| match props?.get(*k)? {
                Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .unwrap_or_else(|| format!("feature {i}"))
    }
}

/// Why a layer could not be added or used. Feature numbers are indices in the file's
/// features, counting from 0.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error(
        "layer name `{0}` must be 1 to {MAX_NAME_LEN} letters, digits, `_` or `-` (it becomes part of URLs), e.g. transit_stops"
    )]
    BadName(String),
    #[error(transparent)]
    Read(#[from] sl_ingest::layer::LayerError),
    #[error(
        "{file}: feature {feature} is {found} but feature {first} is {expected}: a context layer holds one kind of geometry; split the file by geometry type and add each as its own layer",
        found = .found.one(), expected = .expected.one()
    )]
    MixedKinds {
        file: String,
        first: usize,
        expected: LayerKind,
        feature: usize,
        found: LayerKind,
    },
    #[error(
        "{file}: feature {feature} has the position ({x}, {y}), which is not a longitude and latitude: the file is in a projected CRS; give its CRS (e.g. --crs EPSG:2272) or reproject it to WGS84"
    )]
    NotLonLat {
        file: String,
        feature: usize,
        x: f64,
        y: f64,
    },
    #[error("{file}: feature {feature} {problem}: repair or drop that feature")]
    BadGeometry {
        file: String,
        feature: usize,
        problem: &'static str,
    },
    #[error(
        "a population field is for polygons (census tracts, blocks), and {file} holds {kind}: leave out the population field"
    )]
    PopulationNeedsPolygons { file: String, kind: LayerKind },
    #[error(
        "{file}: feature {feature} has no property `{field}`: every polygon needs its population (0 where nobody lives); check the field's name{hint}"
    )]
    PopulationMissing {
        file: String,
        field: String,
        feature: usize,
        hint: String,
    },
    #[error(
        "{file}: feature {feature} has `{field}` = {value}, which is not a non-negative number of residents: fix that feature's value"
    )]
    PopulationNotNumeric {
        file: String,
        field: String,
        feature: usize,
        value: String,
    },
    #[error(
        "{file} holds {features} features, more than the limit of {max}: clip it to the jurisdiction or split it into several layers",
        max = MAX_FEATURES
    )]
    TooManyFeatures { file: String, features: usize },
    #[error(
        "{file} is {bytes} bytes as GeoJSON, more than the limit of {max} bytes: simplify its geometries, drop properties you do not need, or split it",
        max = MAX_GEOJSON_BYTES
    )]
    TooLarge { file: String, bytes: usize },
    #[error(
        "dataset `{dataset}` has no context layer `{name}`: `streetlight layer list --dataset {dataset}` lists them"
    )]
    NotFound { dataset: String, name: String },
    #[error(
        "layer `{name}` holds {kind}: rates per 1,000 residents need a polygon layer added with a population field"
    )]
    NotPolygons { name: String, kind: LayerKind },
    #[error(
        "layer `{name}` has no population field: add it again with one (e.g. --population-field total_pop) to get rates per 1,000 residents"
    )]
    NoPopulation { name: String },
    #[error("{0}")]
    BadQuery(String),
    #[error("the stored context layer `{name}` cannot be read ({message}): add it again")]
    Corrupt { name: String, message: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<StoreError> for LayerError {
    fn from(e: StoreError) -> Self {
        Self::Engine(EngineError::Store(e))
    }
}

impl LayerError {
    /// The caller's mistake (fix the input or the request), as opposed to a storage
    /// failure or a stored layer that cannot be read.
    pub fn is_user_error(&self) -> bool {
        match self {
            Self::Engine(
                EngineError::Store(StoreError::UnknownDataset(_))
                | EngineError::Invalid(_)
                | EngineError::Io { .. },
            ) => true,
            Self::Engine(_) | Self::Corrupt { .. } => false,
            _ => true,
        }
    }
}

/// Where a layer comes from.
#[derive(Debug, Clone, Copy)]
pub enum LayerInput<'a> {
    /// A file: `.geojson`/`.json` (optionally `.gz`, `.zst`), `.shp` or a zipped
    /// shapefile, in WGS84 unless `crs` says otherwise (e.g. `EPSG:2272`).
    File {
        path: &'a Path,
        crs: Option<&'a str>,
    },
    /// GeoJSON text (RFC 7946, WGS84), e.g. an uploaded body, named `file_name`.
    GeoJson { text: &'a str, file_name: &'a str },
}

/// What adding a layer did.
#[derive(Debug, Clone, PartialEq)]
pub struct Added {
    pub summary: LayerSummary,
    /// A layer of the same name was replaced.
    pub replaced: bool,
    /// Features of the file without a geometry (not stored).
    pub without_geometry: usize,
}

/// Checks a layer name: it is part of URLs and file names.
pub fn check_name(name: &str) -> Result<(), LayerError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(LayerError::BadName(name.to_string()))
    }
}

/// Adds (or replaces) a context layer of `dataset`, checked as the module documentation
/// says, and records it in the audit trail, refusals included.
pub fn add<S: Store>(
    store: &mut S,
    ctx: &Context<'_>,
    dataset: &str,
    name: &str,
    input: LayerInput<'_>,
    population_field: Option<&str>,
) -> Result<Added, LayerError> {
    let result = add_unaudited(store, ctx.now_ms, dataset, name, input, population_field);
    let outcome = match &result {
        Ok(_) => Outcome::Ok,
        Err(e) if e.is_user_error() => Outcome::Refused,
        Err(_) => Outcome::Error,
    };
    audit::record(
        store,
        ctx,
        Action::LayerUpload,
        &format!("layer:{dataset}/{name}"),
        outcome,
    )?;
    result
}

fn add_unaudited<S: Store>(
    store: &mut S,
    now_ms: i64,
    dataset: &str,
    name: &str,
    input: LayerInput<'_>,
    population_field: Option<&str>,
) -> Result<Added, LayerError> {
    check_name(name)?;
    let info = dataset_info(store, dataset)?;
    let population_field = population_field.map(str::trim).filter(|f| !f.is_empty());
    let (file_name, sha256, layer) = match input {
        LayerInput::File { path, crs } => {
            let sha = sl_ingest::source::sha256_file(path).map_err(|source| EngineError::Io {
                path: path.display().to_string(),
                source,
            })?;
            let file_name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            (file_name, sha, Layer::read(path, crs)?)
        }
        LayerInput::GeoJson { text, file_name } => {
            if text.len() > MAX_GEOJSON_BYTES {
                return Err(LayerError::TooLarge {
                    file: file_name.to_string(),
                    bytes: text.len(),
                });
            }
            let sha = sl_ingest::source::sha256_bytes(text.as_bytes());
            (
                file_name.to_string(),
                sha,
                Layer::from_geojson(text, file_name, None)?,
            )
        }
    };
    let without_geometry = layer.without_geometry;
    let (kind, features) = validate(&file_name, layer, population_field)?;
    let text = geometry::feature_collection(&features);
    if text.len() > MAX_GEOJSON_BYTES {
        return Err(LayerError::TooLarge {
            file: file_name,
            bytes: text.len(),
        });
    }
    let summary = LayerSummary {
        name: name.to_string(),
        kind,
        file_name,
        sha256,
        uploaded_ms: now_ms,
        features: features.len(),
        population_field: population_field.map(str::to_string),
    };
    let replaced = store.put_context_layer(&ContextLayerRecord {
        info: ContextLayerInfo {
            dataset: info.id,
            name: summary.name.clone(),
            kind: kind.as_str().to_string(),
            file_name: summary.file_name.clone(),
            sha256: summary.sha256.clone(),
            uploaded_ms: now_ms,
            features: features.len() as u64,
            population_field: summary.population_field.clone(),
        },
        geojson: text,
    })?;
    Ok(Added {
        summary,
        replaced,
        without_geometry,
    })
}

/// The file's features with geometry, checked; see the module documentation.
fn validate(
    file: &str,
    layer: Layer,
    population_field: Option<&str>,
) -> Result<(LayerKind, Vec<ContextFeature>), LayerError> {
    let Layer {
        shapes,
        feature_of,
        mut properties,
        ..
    } = layer;
    let mut features: Vec<(usize, ContextFeature)> = Vec::new();
    let mut kind: Option<(usize, LayerKind)> = None;
    for (shape, index) in shapes.into_iter().zip(feature_of) {
        let k = LayerKind::of(&shape);
        match kind {
            None => kind = Some((index, k)),
            Some((first, expected)) if expected != k => {
                return Err(LayerError::MixedKinds {
                    file: file.to_string(),
                    first,
                    expected,
                    feature: index,
                    found: k,
                });
            }
            Some(_) => {}
        }
        check_shape(file, index, &shape)?;
        match features.last_mut() {
            Some((i, f)) if *i == index => f.shapes.push(shape),
            _ => features.push((
                index,
                ContextFeature {
                    shapes: vec![shape],
                    properties: std::mem::take(&mut properties[index]),
                },
            )),
        }
    }
    let Some((_, kind)) = kind else {
        return Err(sl_ingest::layer::LayerError::Empty {
            path: file.to_string(),
        }
        .into());
    };
    if features.len() > MAX_FEATURES {
        return Err(LayerError::TooManyFeatures {
            file: file.to_string(),
            features: features.len(),
        });
    }
    if let Some(field) = population_field {
        if kind != LayerKind::Polygons {
            return Err(LayerError::PopulationNeedsPolygons {
                file: file.to_string(),
                kind,
            });
        }
        for (index, f) in &features {
            population_of(&f.properties, field).map_err(|value| match value {
                None => LayerError::PopulationMissing {
                    file: file.to_string(),
                    field: field.to_string(),
                    feature: *index,
                    hint: numeric_fields_hint(&f.properties),
                },
                Some(value) => LayerError::PopulationNotNumeric {
                    file: file.to_string(),
                    field: field.to_string(),
                    feature: *index,
                    value,
                },
            })?;
        }
    }
    Ok((kind, features.into_iter().map(|(_, f)| f).collect()))
}

/// Checks one shape's coordinates and size.
fn check_shape(file: &str, feature: usize, shape: &LayerShape) -> Result<(), LayerError> {
    let lon_lat = |&(x, y): &(f64, f64)| {
        if (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y) {
            Ok(())
        } else {
            Err(LayerError::NotLonLat {
                file: file.to_string(),
                feature,
                x,
                y,
            })
        }
    };
    let bad = |problem| {
        Err(LayerError::BadGeometry {
            file: file.to_string(),
            feature,
            problem,
        })
    };
    match shape {
        LayerShape::Point(x, y) => lon_lat(&(*x, *y)),
        LayerShape::Line(v) => {
            v.iter().try_for_each(lon_lat)?;
            if v.len() < 2 {
                return bad("has a line of fewer than two positions");
            }
            Ok(())
        }
        LayerShape::Polygon(rings) => {
            rings.iter().flatten().try_for_each(lon_lat)?;
            if rings.is_empty() {
                return bad("has a polygon without rings");
            }
            for r in rings {
                let open = if r.len() > 1 && r.first() == r.last() {
                    r.len() - 1
                } else {
                    r.len()
                };
                if open < 3 {
                    return bad("has a polygon ring of fewer than three corners");
                }
            }
            Ok(())
        }
    }
}

/// A feature's population: a JSON number, or a string holding one, finite and not
/// negative. `Err(None)` when the property is missing or null, `Err(Some(value))` when
/// it holds something else.
fn population_of(props: &Map<String, Value>, field: &str) -> Result<f64, Option<String>> {
    let value = match props.get(field) {
        None | Some(Value::Null) => return Err(None),
        Some(v) => v,
    };
    let n = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    n.filter(|n| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| Some(value.to_string()))
}

/// `; numeric properties here: a, b` when a feature lacks the population field.
fn numeric_fields_hint(props: &Map<String, Value>) -> String {
    let numeric: Vec<&str> = props
        .iter()
        .filter(|(_, v)| v.is_number())
        .map(|(k, _)| k.as_str())
        .take(12)
        .collect();
    if numeric.is_empty() {
        String::new()
    } else {
        format!(
            "; numeric properties of this feature: {}",
            numeric.join(", ")
        )
    }
}

/// A dataset's context layers, by name.
pub fn list<S: Store>(store: &S, dataset: &str) -> Result<Vec<LayerSummary>, LayerError> {
    let info = dataset_info(store, dataset)?;
    store
        .context_layers(info.id)?
        .into_iter()
        .map(LayerSummary::from_info)
        .collect()
}

/// A layer's entry and its stored GeoJSON FeatureCollection text (WGS84).
pub fn stored_geojson<S: Store>(
    store: &S,
    dataset: &str,
    name: &str,
) -> Result<(LayerSummary, String), LayerError> {
    let info = dataset_info(store, dataset)?;
    let record = store
        .context_layer(info.id, name)?
        .ok_or_else(|| LayerError::NotFound {
            dataset: dataset.to_string(),
            name: name.to_string(),
        })?;
    Ok((LayerSummary::from_info(record.info)?, record.geojson))
}

/// A layer with its features.
pub fn get<S: Store>(store: &S, dataset: &str, name: &str) -> Result<ContextLayer, LayerError> {
    let (summary, text) = stored_geojson(store, dataset, name)?;
    parse_stored(summary, &text)
}

/// Every layer of a dataset with its features.
pub fn get_all<S: Store>(store: &S, dataset: &str) -> Result<Vec<ContextLayer>, LayerError> {
    list(store, dataset)?
        .into_iter()
        .map(|s| get(store, dataset, &s.name))
        .collect()
}

/// Reads the stored text back into features (each stored feature has a geometry, so the
/// reader's feature indices are the stored ones).
fn parse_stored(summary: LayerSummary, text: &str) -> Result<ContextLayer, LayerError> {
    let corrupt = |message: String| LayerError::Corrupt {
        name: summary.name.clone(),
        message,
    };
    let layer =
        Layer::from_geojson(text, &summary.name, None).map_err(|e| corrupt(e.to_string()))?;
    let mut features: Vec<ContextFeature> = layer
        .properties
        .into_iter()
        .map(|properties| ContextFeature {
            shapes: Vec::new(),
            properties,
        })
        .collect();
    for (shape, i) in layer.shapes.into_iter().zip(layer.feature_of) {
        features[i].shapes.push(shape);
    }
    if features.len() != summary.features || features.iter().any(|f| f.shapes.is_empty()) {
        return Err(corrupt(format!(
            "{} features with geometry, {} recorded",
            features.iter().filter(|f| !f.shapes.is_empty()).count(),
            summary.features
        )));
    }
    Ok(ContextLayer { summary, features })
}

/// Removes a layer and records it in the audit trail.
pub fn remove<S: Store>(
    store: &mut S,
    ctx: &Context<'_>,
    dataset: &str,
    name: &str,
) -> Result<(), LayerError> {
    let result = dataset_info(store, dataset)
        .map_err(LayerError::from)
        .and_then(|info| Ok(store.remove_context_layer(info.id, name)?))
        .and_then(|removed| {
            if removed {
                Ok(())
            } else {
                Err(LayerError::NotFound {
                    dataset: dataset.to_string(),
                    name: name.to_string(),
                })
            }
        });
    let outcome = match &result {
        Ok(()) => Outcome::Ok,
        Err(e) if e.is_user_error() => Outcome::Refused,
        Err(_) => Outcome::Error,
    };
    audit::record(
        store,
        ctx,
        Action::LayerRemove,
        &format!("layer:{dataset}/{name}"),
        outcome,
    )?;
    result
}

//! Context layers over HTTP: list, read and upload an agency's layers (transit stops,
//! schools, census tracts with population), rates per 1,000 residents over a polygon
//! layer, and what is near a clicked place. The checks and the math are
//! `sl_engine::context_layers`; this module maps them to routes, roles and errors.
//!
//! Uploads get their own body limit (the layer limit, 20 MiB) on their route only; the
//! rest of the API keeps [`crate::MAX_BODY_BYTES`]. Reads are audited like every data
//! read (`data.read`); uploads and removals are audited by the engine
//! (`layer.upload`, `layer.remove`, refusals included). Rates and nearby answers are
//! aggregates over places: any logged-in role may read them.

pub mod wire;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;
use sl_engine::EngineError;
use sl_engine::accounts::Context;
use sl_engine::analysis::selection::{dataset_info, local_midnight};
use sl_engine::analysis::{AreaFilter, AreaLevel, Selection};
use sl_engine::context_layers::{self as layers, LayerError, LayerInput, MAX_GEOJSON_BYTES};
use utoipa::OpenApi;

use crate::api::audit_read;
use crate::auth::{Access, SessionUser, now_ms};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::{AppState, blocking};

use self::wire::{LayerAdded, LayerInfo};

/// The context-layer part of the OpenAPI document (merged into `/api/openapi.json`).
#[derive(Debug, OpenApi)]
#[openapi(
    paths(list_layers, read_layer, upload_layer, remove_layer, rates, nearby),
    components(schemas(LayerInfo, LayerAdded))
)]
pub struct ContextDoc;

/// The routes; `api::routes()` merges them.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/datasets/{name}/layers", get(list_layers))
        .route(
            "/api/datasets/{name}/layers/{layer}",
            get(read_layer)
                .post(upload_layer)
                .delete(remove_layer)
                .layer(DefaultBodyLimit::max(MAX_GEOJSON_BYTES)),
        )
        .route("/api/datasets/{name}/rates.geojson", get(rates))
        .route("/api/datasets/{name}/nearby", get(nearby))
}

/// Engine errors as API errors, with the API's way to fix them where the engine's
/// message names a command-line flag.
fn layer_error(e: LayerError) -> ApiError {
    match e {
        LayerError::NotFound { dataset, name } => ApiError::not_found(format!(
            "dataset `{dataset}` has no context layer `{name}`: GET /api/datasets/{dataset}/layers lists them"
        )),
        LayerError::NoPopulation { name } => ApiError::bad_request(format!(
            "layer `{name}` has no population field: upload it again with ?population_field=NAME to get rates per 1,000 residents"
        )),
        LayerError::Engine(EngineError::Store(sl_engine::StoreError::UnknownDataset(name))) => {
            ApiError::not_found(format!("no dataset `{name}`: GET /api/datasets lists them"))
        }
        e @ (LayerError::TooManyFeatures { .. } | LayerError::TooLarge { .. }) => {
            ApiError::new(ErrorCode::LimitExceeded, e.to_string())
        }
        e if e.is_user_error() => ApiError::bad_request(e.to_string()),
        e => ApiError::internal(e),
    }
}

/// A GeoJSON answer (`application/geo+json`).
fn geojson(value: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/geo+json")],
        Json(value),
    )
        .into_response()
}

/// A dataset's context layers, by name (any logged-in role).
#[utoipa::path(
    get,
    path = "/api/datasets/{name}/layers",
    params(("name" = String, Path, description = "dataset name")),
    responses((status = 200, body = [LayerInfo]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn list_layers(
    State(state): State<AppState>,
    session: SessionUser,
    Path(name): Path<String>,
) -> Result<Json<Vec<LayerInfo>>, ApiError> {
    session.require(Access::Read)?;
    blocking(&state, move |store| {
        let list = layers::list(store, &name).map_err(layer_error)?;
        audit_read(store, &session, &format!("layers:{name}"))?;
        Ok(list.iter().map(wire::layer_info).collect())
    })
    .await
    .map(Json)
}

/// A layer as GeoJSON, with its entry as `meta` (any logged-in role). The path ends in
/// `.geojson`: `/api/datasets/{name}/layers/{layer}.geojson`.
#[utoipa::path(
    get,
    path = "/api/datasets/{name}/layers/{layer}.geojson",
    params(("name" = String, Path, description = "dataset name"), ("layer" = String, Path, description = "layer name")),
    responses(
        (status = 200, description = "a GeoJSON FeatureCollection (WGS84) with `meta`", content_type = "application/geo+json"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)
    )
)]
async fn read_layer(
    State(state): State<AppState>,
    session: SessionUser,
    Path((name, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    session.require(Access::Read)?;
    let Some(layer) = file.strip_suffix(".geojson").map(str::to_string) else {
        return Err(ApiError::not_found(format!(
            "GET /api/datasets/{name}/layers/{file}.geojson reads the layer as GeoJSON"
        )));
    };
    blocking(&state, move |store| {
        let (summary, text) = layers::stored_geojson(store, &name, &layer).map_err(layer_error)?;
        let fc = wire::layer_geojson(&name, &summary, &text).map_err(|e| {
            ApiError::internal(format!("the stored layer `{layer}` is not JSON: {e}"))
        })?;
        audit_read(store, &session, &format!("layer:{name}/{layer}"))?;
        Ok(fc)
    })
    .await
    .map(geojson)
}

/// Query of an upload.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// The property holding each polygon's population (e.g. `total_pop`), for rates per
    /// 1,000 residents; only for polygon layers.
    pub population_field: Option<String>,
    /// The name of the uploaded file, kept with the layer (default `{layer}.geojson`).
    pub file_name: Option<String>,
}

/// Longest `file_name` kept.
const MAX_FILE_NAME: usize = 255;

/// Adds or replaces a layer from a GeoJSON body (analysts and admins; at most 20 MiB;
/// audited as `layer.upload`).
#[utoipa::path(
    post,
    path = "/api/datasets/{name}/layers/{layer}",
    params(("name" = String, Path, description = "dataset name"), ("layer" = String, Path, description = "layer name: letters, digits, `_`, `-`"), UploadQuery),
    request_body(content = String, description = "a GeoJSON FeatureCollection, Feature or Geometry in WGS84 (RFC 7946)", content_type = "application/geo+json"),
    responses(
        (status = 200, body = LayerAdded),
        (status = 400, body = ErrorBody, description = "the GeoJSON is refused; the message names the feature"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "more than 100,000 features or 20 MiB")
    )
)]
async fn upload_layer(
    State(state): State<AppState>,
    session: SessionUser,
    Path((name, layer)): Path<(String, String)>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<LayerAdded>, ApiError> {
    session.require(Access::Analyse)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    if !matches!(
        content_type.as_deref(),
        Some("application/geo+json" | "application/json")
    ) {
        return Err(ApiError::bad_request(
            "send the layer as GeoJSON with Content-Type: application/geo+json (or application/json)",
        ));
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::LimitExceeded,
                format!(
                    "the layer is larger than the upload limit of {MAX_GEOJSON_BYTES} bytes: simplify its geometries, drop properties you do not need, or split it"
                ),
            )
        } else {
            ApiError::bad_request(format!("cannot read the request body: {}", e.body_text()))
        }
    })?;
    let text = String::from_utf8(body.to_vec()).map_err(|_| {
        ApiError::bad_request("the body is not UTF-8 text: GeoJSON is UTF-8 (RFC 7946)")
    })?;
    let file_name = q.file_name.unwrap_or_else(|| format!("{layer}.geojson"));
    if file_name.is_empty()
        || file_name.len() > MAX_FILE_NAME
        || file_name.chars().any(char::is_control)
    {
        return Err(ApiError::bad_request(format!(
            "file_name must be 1 to {MAX_FILE_NAME} bytes without control characters"
        )));
    }
    blocking(&state, move |store| {
        let ctx = Context::user(&session.user, &session.source, now_ms());
        let input = LayerInput::GeoJson {
            text: &text,
            file_name: &file_name,
        };
        layers::add(
            store,
            &ctx,
            &name,
            &layer,
            input,
            q.population_field.as_deref(),
        )
        .map(|a| wire::layer_added(&a))
        .map_err(layer_error)
    })
    .await
    .map(Json)
}

/// Removes a layer (analysts and admins; audited as `layer.remove`).
#[utoipa::path(
    delete,
    path = "/api/datasets/{name}/layers/{layer}",
    params(("name" = String, Path, description = "dataset name"), ("layer" = String, Path, description = "layer name")),
    responses((status = 204, description = "removed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn remove_layer(
    State(state): State<AppState>,
    session: SessionUser,
    Path((name, layer)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    session.require(Access::Analyse)?;
    blocking(&state, move |store| {
        let ctx = Context::user(&session.user, &session.source, now_ms());
        layers::remove(store, &ctx, &name, &layer).map_err(layer_error)
    })
    .await
    .map(|()| StatusCode::NO_CONTENT)
}

/// Query of the rates.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RatesQuery {
    /// A polygon layer with a population field, e.g. `tracts`.
    pub layer: Option<String>,
    /// Category slugs, comma-separated; empty means all.
    pub category: Option<String>,
    /// First local day included, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// First local day left out, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// Only events with this area code, `LEVEL=CODE` (e.g. `district=12`).
    pub area: Option<String>,
}

/// Events per polygon of a layer and per 1,000 of its residents, for a selection (any
/// logged-in role: aggregates only).
#[utoipa::path(
    get,
    path = "/api/datasets/{name}/rates.geojson",
    params(("name" = String, Path, description = "dataset name"), RatesQuery),
    responses(
        (status = 200, description = "the layer's polygons with `count`, `population`, `rate_per_1000`; totals in `meta`", content_type = "application/geo+json"),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)
    )
)]
async fn rates(
    State(state): State<AppState>,
    session: SessionUser,
    Path(name): Path<String>,
    Query(q): Query<RatesQuery>,
) -> Result<Response, ApiError> {
    session.require(Access::Read)?;
    let Some(layer) = q.layer.clone().filter(|l| !l.is_empty()) else {
        return Err(ApiError::bad_request(
            "layer is required: a polygon layer with a population field (GET /api/datasets/{name}/layers lists them)",
        ));
    };
    blocking(&state, move |store| {
        let selection = selection(store, &name, &q)?;
        let r = layers::rates(store, &selection, &layer).map_err(layer_error)?;
        audit_read(store, &session, &format!("rates:{name}/{layer}"))?;
        Ok(wire::rates_geojson(&r))
    })
    .await
    .map(geojson)
}

/// The selection a query describes, dates as local days of the dataset.
fn selection(
    store: &sl_engine::SqliteStore,
    dataset: &str,
    q: &RatesQuery,
) -> Result<Selection, ApiError> {
    let info = dataset_info(store, dataset).map_err(|e| layer_error(e.into()))?;
    let day = |text: &Option<String>, what: &str| -> Result<Option<i64>, ApiError> {
        let Some(text) = text.as_deref().filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let date: jiff::civil::Date = text.parse().map_err(|_| {
            ApiError::bad_request(format!(
                "{what}={text} is not a date: give a local day as YYYY-MM-DD"
            ))
        })?;
        local_midnight(&info.time_zone, date)
            .map(Some)
            .map_err(ApiError::from)
    };
    let categories = q
        .category
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            sl_types::Category::from_slug(c)
                .map(|c| c.slug().to_string())
                .map_err(|e| ApiError::bad_request(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let area = match q.area.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(text) => {
            let bad = || {
                ApiError::bad_request(format!(
                    "area={text} must be LEVEL=CODE with LEVEL district, beat or neighbourhood, e.g. district=12"
                ))
            };
            let (level, code) = text.split_once('=').ok_or_else(bad)?;
            Some(AreaFilter {
                level: AreaLevel::parse(level.trim()).ok_or_else(bad)?,
                code: code.trim().to_string(),
            })
        }
    };
    Ok(Selection {
        dataset: dataset.to_string(),
        categories,
        from: day(&q.from, "from")?,
        to: day(&q.to, "to")?,
        area,
    })
}

/// Query of a nearby search.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct NearbyQuery {
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// Radius in metres (default 200, at most 5,000).
    pub radius: Option<f64>,
}

/// Radius when the query gives none, metres (about two short city blocks).
pub const DEFAULT_RADIUS_M: f64 = 200.0;

/// For each context layer: features within the radius of a point and the nearest one
/// (any logged-in role).
#[utoipa::path(
    get,
    path = "/api/datasets/{name}/nearby",
    params(("name" = String, Path, description = "dataset name"), NearbyQuery),
    responses(
        (status = 200, description = "per layer: `within`, `nearest` (`distance_m`, `label`, `properties`)"),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)
    )
)]
async fn nearby(
    State(state): State<AppState>,
    session: SessionUser,
    Path(name): Path<String>,
    q: Result<Query<NearbyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    session.require(Access::Read)?;
    let Query(q) = q.map_err(|e| {
        ApiError::bad_request(format!(
            "{}: give lon and lat in WGS84 degrees and optionally radius in metres, e.g. ?lon=-75.16&lat=39.95&radius=200",
            e.body_text()
        ))
    })?;
    let radius = q.radius.unwrap_or(DEFAULT_RADIUS_M);
    layers::nearby::check_query(q.lon, q.lat, radius).map_err(layer_error)?;
    blocking(&state, move |store| {
        let n = layers::nearby(store, &name, q.lon, q.lat, radius).map_err(layer_error)?;
        audit_read(store, &session, &format!("nearby:{name}"))?;
        Ok(wire::nearby_json(&n))
    })
    .await
    .map(Json)
}

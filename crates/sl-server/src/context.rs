//! Context layers over HTTP: list, read and upload an agency's layers (transit stops,
//! schools, census tracts with population), rates per 1,000 residents over a polygon
//! layer, and what is near a clicked place. The checks and the math are
//! `sl_engine::context_layers`; this module maps them to routes, roles and errors.
//!
//! Uploads get their own body limit (the layer limit, 20 MiB) on their route only; the
//! rest of the API keeps [`crate::MAX_BODY_BYTES`]. Query parameters are parsed as the
//! matching commands' flags ([`crate::query`]: `rates` takes the analyses' selection).
//! Reads are audited like every data read (`data.read`), refusals by role too (outcome
//! `denied`); uploads and removals are audited by the engine (`layer.upload`,
//! `layer.remove`, refusals of the file included). Rates and nearby answers are
//! aggregates over places: any logged-in role may read them. They are not cached:
//! a layer changes without the dataset's generation changing, and they are quick.

pub mod wire;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::Parser;
use serde_json::Value;
use sl_engine::EngineError;
use sl_engine::accounts::Context;
use sl_engine::analysis::selection::dataset_info;
use sl_engine::audit::{Action, Outcome};
use sl_engine::context_layers::{self as layers, LayerError, LayerInput, MAX_GEOJSON_BYTES};
use utoipa::OpenApi;

use crate::analytics::{analysis_error, record, require};
use crate::auth::{Access, SessionUser, now_ms};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::reports::SelectArgs;
use crate::{AppState, blocking, query};

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

/// A read any logged-in role may make: refused (and the refusal audited) for a session
/// that may not read, then `f` on the blocking pool, then the read audited as
/// `data.read` on `object`. `f` parses what the request asks after the role check, as
/// the analyses do.
async fn audited_read<T, F>(
    state: &AppState,
    session: SessionUser,
    object: String,
    f: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut sl_engine::SqliteStore) -> Result<T, ApiError> + Send + 'static,
{
    require(
        state,
        &session,
        Access::Read,
        Action::DataRead,
        object.clone(),
    )
    .await?;
    blocking(state, move |store| {
        let answer = f(store)?;
        record(store, &session, Action::DataRead, &object, Outcome::Ok)?;
        Ok(answer)
    })
    .await
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
    audited_read(&state, session, format!("layers:{name}"), move |store| {
        let list = layers::list(store, &name).map_err(layer_error)?;
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
    let Some(layer) = file.strip_suffix(".geojson").map(str::to_string) else {
        session.require(Access::Read)?;
        return Err(ApiError::not_found(format!(
            "GET /api/datasets/{name}/layers/{file}.geojson reads the layer as GeoJSON"
        )));
    };
    let object = format!("layer:{name}/{layer}");
    audited_read(&state, session, object, move |store| {
        let (summary, text) = layers::stored_geojson(store, &name, &layer).map_err(layer_error)?;
        wire::layer_geojson(&name, &summary, &text)
            .map_err(|e| ApiError::internal(format!("the stored layer `{layer}` is not JSON: {e}")))
    })
    .await
    .map(geojson)
}

/// Query of an upload.
#[derive(Debug, Parser)]
struct UploadQuery {
    /// The property holding each polygon's population (e.g. `total_pop`), for rates per
    /// 1,000 residents; only for polygon layers.
    #[arg(long)]
    population_field: Option<String>,
    /// The name of the uploaded file, kept with the layer (default `{layer}.geojson`).
    #[arg(long)]
    file_name: Option<String>,
}

/// Longest `file_name` kept.
const MAX_FILE_NAME: usize = 255;

/// Adds or replaces a layer from a GeoJSON body (analysts and admins; at most 20 MiB;
/// audited as `layer.upload`).
#[utoipa::path(
    post,
    path = "/api/datasets/{name}/layers/{layer}",
    params(
        ("name" = String, Path, description = "dataset name"),
        ("layer" = String, Path, description = "layer name: letters, digits, `_`, `-`"),
        ("population_field" = Option<String>, Query, description = "the property holding each polygon's population (polygon layers)"),
        ("file_name" = Option<String>, Query, description = "the uploaded file's name, kept with the layer (default `{layer}.geojson`)")
    ),
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
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<LayerAdded>, ApiError> {
    let object = format!("layer:{name}/{layer}");
    require(
        &state,
        &session,
        Access::Analyse,
        Action::LayerUpload,
        object,
    )
    .await?;
    let q: UploadQuery = query::parse(&query::pairs(raw.as_deref())?)?;
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
    let object = format!("layer:{name}/{layer}");
    require(
        &state,
        &session,
        Access::Analyse,
        Action::LayerRemove,
        object,
    )
    .await?;
    blocking(&state, move |store| {
        let ctx = Context::user(&session.user, &session.source, now_ms());
        layers::remove(store, &ctx, &name, &layer).map_err(layer_error)
    })
    .await
    .map(|()| StatusCode::NO_CONTENT)
}

/// Query of the rates: the analyses' selection and the layer.
#[derive(Debug, Parser)]
struct RatesQuery {
    /// A polygon layer with a population field, e.g. `tracts`.
    #[arg(long)]
    layer: String,
    #[command(flatten)]
    select: SelectArgs,
}

/// Events per polygon of a layer and per 1,000 of its residents, for a selection (any
/// logged-in role: aggregates only).
#[utoipa::path(
    get,
    path = "/api/datasets/{name}/rates.geojson",
    params(
        ("name" = String, Path, description = "dataset name"),
        ("layer" = String, Query, description = "a polygon layer with a population field, e.g. `tracts`"),
        ("category" = Option<String>, Query, description = "category slugs, comma-separated"),
        ("from" = Option<String>, Query, description = "first local day included, YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "first local day left out, YYYY-MM-DD"),
        ("area" = Option<String>, Query, description = "LEVEL=CODE, e.g. district=12")
    ),
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
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query::pairs(raw.as_deref())?;
    let layer = pairs
        .iter()
        .find(|(k, _)| k == "layer")
        .map_or_else(String::new, |(_, v)| v.clone());
    let object = format!("rates:{name}/{layer}");
    audited_read(&state, session, object, move |store| {
        let q: RatesQuery = query::parse(&pairs).map_err(|e| {
            if layer.is_empty() {
                ApiError::bad_request(
                    "layer is required: a polygon layer with a population field (GET /api/datasets/{name}/layers lists them)",
                )
            } else {
                e
            }
        })?;
        dataset_info(store, &name).map_err(|e| layer_error(e.into()))?;
        let selection =
            crate::reports::selection(store, &name, &q.select).map_err(analysis_error)?;
        let r = layers::rates(store, &selection, &q.layer).map_err(layer_error)?;
        Ok(wire::rates_geojson(&r))
    })
    .await
    .map(geojson)
}

/// Query of a nearby search.
#[derive(Debug, Parser)]
struct NearbyQuery {
    /// Longitude, WGS84 degrees.
    #[arg(long, allow_negative_numbers = true)]
    lon: f64,
    /// Latitude, WGS84 degrees.
    #[arg(long, allow_negative_numbers = true)]
    lat: f64,
    /// Radius in metres (at most 5,000).
    #[arg(long, default_value_t = DEFAULT_RADIUS_M)]
    radius: f64,
}

/// Radius when the query gives none, metres (about two short city blocks).
pub const DEFAULT_RADIUS_M: f64 = 200.0;

/// For each context layer: features within the radius of a point and the nearest one
/// (any logged-in role).
#[utoipa::path(
    get,
    path = "/api/datasets/{name}/nearby",
    params(
        ("name" = String, Path, description = "dataset name"),
        ("lon" = f64, Query, description = "longitude, WGS84 degrees"),
        ("lat" = f64, Query, description = "latitude, WGS84 degrees"),
        ("radius" = Option<f64>, Query, description = "metres, default 200, at most 5,000")
    ),
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
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    audited_read(&state, session, format!("nearby:{name}"), move |store| {
        let q: NearbyQuery = query::parse(&query::pairs(raw.as_deref())?).map_err(|e| {
            ApiError::bad_request(format!(
                "{}: give lon and lat in WGS84 degrees and optionally radius in metres, e.g. ?lon=-75.16&lat=39.95&radius=200",
                e.message
            ))
        })?;
        layers::nearby::check_query(q.lon, q.lat, q.radius).map_err(layer_error)?;
        let n = layers::nearby(store, &name, q.lon, q.lat, q.radius).map_err(layer_error)?;
        Ok(wire::nearby_json(&n))
    })
    .await
    .map(Json)
}

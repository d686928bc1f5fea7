//! Routes and wire types. Dataset fields mirror `streetlight datasets --json` (docs/CLI.md)
//! so a script can move between the CLI and the API.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use sl_engine::Store as _;
use utoipa::OpenApi;

use sl_engine::accounts::Context;
use sl_engine::audit::{self, Action, Outcome};

use crate::auth::{self, Access, SessionUser};
use crate::error::{ApiError, ERROR_TABLE, ErrorBody, ErrorInfo};
use crate::{AppState, blocking};

/// The OpenAPI 3 document, generated from the handlers' annotations.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Streetlight API",
        description = "Places and times, never people: datasets, quality, patterns, hot spots, forecasts. Errors are `{\"error\": {\"code\", \"message\"}}` with codes from GET /api/errors."
    ),
    paths(
        health,
        errors,
        datasets,
        dataset,
        quality,
        crate::analytics::boundary,
        crate::analytics::events,
        crate::analytics::aggregate,
        crate::analytics::hotspots,
        crate::analytics::forecast,
        crate::analytics::priorities,
        crate::analytics::patterns,
        crate::analytics::near_repeat,
        crate::analytics::backtest,
        auth::login,
        auth::logout,
        auth::me,
        auth::change_password
    ),
    components(schemas(
        Health,
        Dataset,
        Source,
        ErrorBody,
        crate::error::ErrorDetail,
        auth::Login,
        auth::PasswordChange,
        auth::Me
    ))
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/errors", get(errors))
        .route("/api/openapi.json", get(openapi))
        .route("/api/datasets", get(datasets))
        .route("/api/datasets/{name}", get(dataset))
        .route("/api/datasets/{name}/quality", get(quality))
        .route(
            "/api/datasets/{name}/boundary.geojson",
            get(crate::analytics::boundary),
        )
        .route(
            "/api/datasets/{name}/events.geojson",
            get(crate::analytics::events),
        )
        .route(
            "/api/datasets/{name}/aggregate.geojson",
            get(crate::analytics::aggregate),
        )
        .route(
            "/api/datasets/{name}/hotspots.geojson",
            get(crate::analytics::hotspots),
        )
        .route(
            "/api/datasets/{name}/forecast.geojson",
            get(crate::analytics::forecast),
        )
        .route(
            "/api/datasets/{name}/priorities.geojson",
            get(crate::analytics::priorities),
        )
        .route(
            "/api/datasets/{name}/patterns",
            get(crate::analytics::patterns),
        )
        .route(
            "/api/datasets/{name}/near-repeat",
            get(crate::analytics::near_repeat),
        )
        .route(
            "/api/datasets/{name}/backtest",
            get(crate::analytics::backtest),
        )
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/me", get(auth::me))
        .route("/api/auth/password", post(auth::change_password))
        .route(
            "/api/admin/users",
            get(crate::admin::users).post(crate::admin::add_user),
        )
        .route("/api/admin/users/{user}/role", post(crate::admin::set_role))
        .route(
            "/api/admin/users/{user}/password",
            post(crate::admin::reset_password),
        )
        .route("/api/admin/users/{user}/unlock", post(crate::admin::unlock))
        .route(
            "/api/admin/users/{user}/disable",
            post(crate::admin::disable),
        )
        .route("/api/admin/users/{user}/enable", post(crate::admin::enable))
        .route("/api/admin/audit", get(crate::admin::audit_log))
        .route("/api/admin/audit/verify", get(crate::admin::audit_verify))
        .merge(crate::context::routes())
        .route("/api/{*rest}", get(not_found))
        .fallback(crate::ui::serve_asset)
}

/// Liveness.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
}

/// Whether the server is up.
#[utoipa::path(get, path = "/api/health", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// The table of error codes: code, HTTP status, kind (user or internal), meaning.
#[utoipa::path(get, path = "/api/errors", responses((status = 200, description = "the error table")))]
async fn errors() -> Json<Vec<ErrorInfo>> {
    Json(ERROR_TABLE.iter().map(|(_, i)| *i).collect())
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::context::ContextDoc::openapi());
    doc.merge(crate::admin::AdminDoc::openapi());
    Json(doc)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "no endpoint {}: GET /api/openapi.json lists them",
        uri.path()
    ))
}

/// A dataset's registry entry (as `streetlight datasets --json`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Dataset {
    pub name: String,
    pub title: String,
    pub kind: String,
    pub time_zone: String,
    pub local_crs: String,
    pub profile: String,
    pub profile_sha256: String,
    pub provenance: String,
    pub harm_source: String,
    pub created_at: String,
    pub updated_at: String,
    /// The earliest and latest occurrence start, local time (as `quality --json`); the
    /// API adds them so pages can default to the most recent data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_occurrence: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_occurrence: Option<String>,
    pub events: u64,
    pub retracted_events: u64,
    pub quarantined: u64,
    pub duplicates: u64,
    pub sources: Vec<Source>,
}

/// A source file of a dataset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Source {
    pub file_name: String,
    pub path: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub profile_sha256: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub complete: bool,
    pub rows: u64,
}

/// A dataset's registry entry as the API sends it, with its occurrence range (UTC
/// seconds, from [`sl_engine::Store::occurrence_ranges`]) written as the quality report
/// writes it.
fn wire(
    store: &sl_engine::SqliteStore,
    d: sl_engine::DatasetInfo,
    range: Option<(i64, i64)>,
) -> Result<Dataset, ApiError> {
    let sources = store.sources(d.id).map_err(ApiError::internal)?;
    let extent = match range {
        Some((first, last)) => {
            let tz = jiff::tz::TimeZone::get(&d.time_zone).map_err(ApiError::internal)?;
            let local = |t| Some(sl_engine::quality::local_minute(&tz, t));
            (local(first), local(last))
        }
        None => (None, None),
    };
    let mut w = crate::wire::dataset(d, sources);
    (w.first_occurrence, w.last_occurrence) = extent;
    Ok(w)
}

/// Records a data read in the audit log.
pub(crate) fn audit_read(
    store: &mut sl_engine::SqliteStore,
    session: &SessionUser,
    object: &str,
) -> Result<(), ApiError> {
    let ctx = Context::user(&session.user, &session.source, auth::now_ms());
    let _writes = crate::write_lock();
    audit::record(store, &ctx, Action::DataRead, object, Outcome::Ok)
        .map(|_| ())
        .map_err(ApiError::internal)
}

/// The dataset list as JSON (`[Dataset]`), kept in the answer cache by every dataset's
/// generation ([`sl_engine::Store::data_generation`]): building it counts each
/// dataset's events and finds their occurrence range (about 1.5 s on a store of two
/// million events), too slow for a list every page asks for, while the generations
/// are read without counting.
fn dataset_list(state: &AppState, store: &sl_engine::SqliteStore) -> Result<Bytes, ApiError> {
    let mut key = String::from("datasets");
    for (id, name) in store.dataset_names().map_err(ApiError::internal)? {
        let generation = store.data_generation(id).map_err(ApiError::internal)?;
        key.push('\u{1f}');
        key.push_str(&name);
        key.push('=');
        key.push_str(generation.as_deref().unwrap_or("gone"));
    }
    let (list, _) = state.cache.get_or_compute(&key, || {
        let ranges: std::collections::HashMap<_, _> = store
            .occurrence_ranges()
            .map_err(ApiError::internal)?
            .into_iter()
            .map(|(id, first, last)| (id, (first, last)))
            .collect();
        let list = store
            .datasets()
            .map_err(ApiError::internal)?
            .into_iter()
            .map(|d| {
                let range = ranges.get(&d.id).copied();
                wire(store, d, range)
            })
            .collect::<Result<Vec<_>, _>>()?;
        serde_json::to_vec(&list)
            .map(Bytes::from)
            .map_err(ApiError::internal)
    });
    list
}

/// Builds the dataset list into the cache ([`dataset_list`]), as the server starts.
pub(crate) async fn warm_dataset_list(state: &AppState) -> Result<(), ApiError> {
    let state2 = state.clone();
    blocking(state, move |store| dataset_list(&state2, store).map(|_| ())).await
}

fn json_response(body: Bytes) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Every dataset in the store (any logged-in role).
#[utoipa::path(
    get,
    path = "/api/datasets",
    responses((status = 200, body = [Dataset]), (status = 401, body = ErrorBody))
)]
async fn datasets(
    State(state): State<AppState>,
    session: SessionUser,
) -> Result<Response, ApiError> {
    session.require(Access::Read)?;
    let state2 = state.clone();
    blocking(&state, move |store| {
        let list = dataset_list(&state2, store)?;
        audit_read(store, &session, "datasets")?;
        Ok(list)
    })
    .await
    .map(json_response)
}

/// One dataset by name.
#[utoipa::path(
    get,
    path = "/api/datasets/{name}",
    params(("name" = String, Path, description = "dataset name, e.g. stlouis-slmpd")),
    responses((status = 200, body = Dataset), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn dataset(
    State(state): State<AppState>,
    session: SessionUser,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    session.require(Access::Read)?;
    let state2 = state.clone();
    blocking(&state, move |store| {
        let list: Vec<serde_json::Value> =
            serde_json::from_slice(&dataset_list(&state2, store)?).map_err(ApiError::internal)?;
        match list.into_iter().find(|d| d["name"] == name.as_str()) {
            Some(d) => {
                audit_read(store, &session, &format!("dataset:{name}"))?;
                Ok(d)
            }
            None => Err(ApiError::not_found(format!(
                "no dataset `{name}`: GET /api/datasets lists them"
            ))),
        }
    })
    .await
    .map(Json)
}

/// Query of the quality report.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct QualityQuery {
    /// Also return up to this many quarantined rows (analysts and admins; at most 500).
    #[serde(default)]
    pub rows: usize,
    /// Only quarantined rows with this reason code (e.g. BAD_COORD).
    pub reason: Option<String>,
}

/// Largest `rows` a quality request may ask for.
pub const MAX_QUALITY_ROWS: usize = 500;

/// A dataset's data-quality report, as `streetlight quality --json` prints it
/// (docs/CLI.md). Quarantined rows are row-level data: analysts and admins only.
#[utoipa::path(
    get,
    path = "/api/datasets/{name}/quality",
    params(("name" = String, Path, description = "dataset name"), QualityQuery),
    responses(
        (status = 200, description = "the quality report (fields in docs/CLI.md, `quality --json`)"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    )
)]
async fn quality(
    State(state): State<AppState>,
    session: SessionUser,
    Path(name): Path<String>,
    axum::extract::Query(q): axum::extract::Query<QualityQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    session.require(if q.rows > 0 {
        Access::Analyse
    } else {
        Access::Read
    })?;
    if q.rows > MAX_QUALITY_ROWS {
        return Err(ApiError::new(
            crate::error::ErrorCode::LimitExceeded,
            format!(
                "rows={} is more than the limit of {MAX_QUALITY_ROWS}: page through with reason=CODE or export the dataset",
                q.rows
            ),
        ));
    }
    if let Some(r) = &q.reason
        && sl_types::ReasonCode::parse(r).is_none()
    {
        return Err(ApiError::bad_request(format!(
            "reason `{r}` is not a reason code: use one of {}",
            sl_types::ReasonCode::ALL.map(|c| c.as_str()).join(", ")
        )));
    }
    blocking(&state, move |store| {
        let Some(id) = store.dataset_id(&name).map_err(ApiError::internal)? else {
            return Err(ApiError::not_found(format!(
                "no dataset `{name}`: GET /api/datasets lists them"
            )));
        };
        let report = sl_engine::quality::quality_report(store, &name)?;
        let rows = if q.rows > 0 {
            store
                .quarantined(id, q.reason.as_deref(), q.rows)
                .map_err(ApiError::internal)?
        } else {
            Vec::new()
        };
        audit_read(store, &session, &format!("quality:{name}"))?;
        Ok(crate::wire::quality_json(&report, &rows))
    })
    .await
    .map(Json)
}

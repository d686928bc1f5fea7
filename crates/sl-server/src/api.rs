//! Routes and wire types. Dataset fields mirror `streetlight datasets --json` (docs/CLI.md)
//! so a script can move between the CLI and the API.

use axum::extract::{Path, State};
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
    paths(health, errors, datasets, dataset, auth::login, auth::logout, auth::me),
    components(schemas(
        Health,
        Dataset,
        Source,
        ErrorBody,
        crate::error::ErrorDetail,
        auth::Login,
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
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/me", get(auth::me))
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
    Json(ApiDoc::openapi())
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

fn wire(store: &sl_engine::SqliteStore, d: sl_engine::DatasetInfo) -> Result<Dataset, ApiError> {
    let sources = store
        .sources(d.id)
        .map_err(ApiError::internal)?
        .into_iter()
        .map(|s| Source {
            file_name: s.file_name,
            path: s.file_path,
            sha256: s.sha256,
            size_bytes: s.size_bytes,
            profile_sha256: s.profile_sha256,
            started_at: s.started_at,
            finished_at: s.finished_at,
            complete: s.complete,
            rows: s.rows_committed,
        })
        .collect();
    Ok(Dataset {
        name: d.name,
        title: d.title,
        kind: d.kind,
        time_zone: d.time_zone,
        local_crs: d.local_crs,
        profile: d.profile_name,
        profile_sha256: d.profile_sha256,
        provenance: d.provenance,
        harm_source: d.harm_source,
        created_at: d.created_at,
        updated_at: d.updated_at,
        events: d.events,
        retracted_events: d.retracted_events,
        quarantined: d.quarantined,
        duplicates: d.duplicates,
        sources,
    })
}

/// Records a data read in the audit log.
fn audit_read(
    store: &mut sl_engine::SqliteStore,
    session: &SessionUser,
    object: &str,
) -> Result<(), ApiError> {
    let ctx = Context::user(&session.user, &session.source, auth::now_ms());
    audit::record(store, &ctx, Action::DataRead, object, Outcome::Ok)
        .map(|_| ())
        .map_err(ApiError::internal)
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
) -> Result<Json<Vec<Dataset>>, ApiError> {
    session.require(Access::Read)?;
    blocking(&state, move |store| {
        let list = store
            .datasets()
            .map_err(ApiError::internal)?
            .into_iter()
            .map(|d| wire(store, d))
            .collect::<Result<Vec<_>, _>>()?;
        audit_read(store, &session, "datasets")?;
        Ok(list)
    })
    .await
    .map(Json)
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
) -> Result<Json<Dataset>, ApiError> {
    session.require(Access::Read)?;
    blocking(&state, move |store| {
        let found = store
            .datasets()
            .map_err(ApiError::internal)?
            .into_iter()
            .find(|d| d.name == name);
        match found {
            Some(d) => {
                let w = wire(store, d)?;
                audit_read(store, &session, &format!("dataset:{name}"))?;
                Ok(w)
            }
            None => Err(ApiError::not_found(format!(
                "no dataset `{name}`: GET /api/datasets lists them"
            ))),
        }
    })
    .await
    .map(Json)
}

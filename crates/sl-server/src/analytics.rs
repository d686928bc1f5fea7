//! The analysis endpoints: map layers (GeoJSON) and analyses (JSON) of one dataset.
//!
//! Each endpoint answers with what the matching CLI command prints with `--json` (and,
//! for map layers, its `--geojson` features with the JSON minus its row array as the
//! foreign member `meta`): both run [`crate::reports`]. Query parameters are the CLI's
//! flags ([`crate::query`]). Answers are cached by the full request and the dataset's
//! generation ([`crate::cache`]); every answer, cached or not, is audited with who,
//! what and from where.
//!
//! Roles: aggregates and analyses are for every logged-in role ([`Access::Read`]);
//! event-level points need [`Access::Events`]; backtests, which run for seconds to
//! minutes, need [`Access::Analyse`]. The public (no session) gets none of them.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use clap::Parser;
use serde_json::{Value, json};
use sl_engine::accounts::Context;
use sl_engine::audit::{self, Action, Outcome};
use sl_engine::{SqliteStore, Store as _};

use crate::auth::{self, Access, SessionUser};
use crate::cache::Lookup;
use crate::compress::{self, AcceptsGzip};
use crate::error::{ApiError, ErrorCode};
use crate::reports::{self, SelectArgs, UnitArgs};
use crate::{AppState, blocking, blocking_unbounded, query};

/// Most events one `events.geojson` answer may carry.
pub const MAX_EVENTS: usize = 50_000;
/// Longest period, in days, of an `events.geojson` request that gives both ends.
pub const MAX_EVENT_DAYS: i64 = 1_096;
/// Most located events a near-repeat test may pair (its work grows with their square).
pub const MAX_NEAR_REPEAT_EVENTS: usize = 20_000;
/// Most permutations a Gi\* or near-repeat request may ask for.
pub const MAX_PERMUTATIONS: usize = 9_999;
/// Most model fits (origins × models) one backtest request may run.
pub const MAX_BACKTEST_FITS: usize = 520;

/// A GeoJSON or JSON answer.
#[derive(Debug, Clone, Copy)]
enum Kind {
    GeoJson,
    Json,
}

fn limit(message: String) -> ApiError {
    ApiError::new(ErrorCode::LimitExceeded, message)
}

/// An analysis failure as an API error: storage and IO failures are the server's
/// (500); everything else is the request's (400), with the message written for
/// query parameters.
pub(crate) fn analysis_error(e: anyhow::Error) -> ApiError {
    for cause in e.chain() {
        if cause.downcast_ref::<sl_engine::StoreError>().is_some()
            || cause.downcast_ref::<std::io::Error>().is_some()
        {
            return ApiError::internal(format!("{e:#}"));
        }
        if let Some(sl_engine::EngineError::Store(_) | sl_engine::EngineError::Io { .. }) =
            cause.downcast_ref::<sl_engine::EngineError>()
        {
            return ApiError::internal(format!("{e:#}"));
        }
    }
    ApiError::bad_request(query::flags_as_parameters(&format!("{e:#}")))
}

/// Serialises an answer.
fn to_bytes(v: &Value) -> Result<axum::body::Bytes, ApiError> {
    serde_json::to_vec(v)
        .map(axum::body::Bytes::from)
        .map_err(ApiError::internal)
}

/// A map layer: the rows that have a unit as features, the document without its rows
/// as `meta`.
fn layer(
    report: &reports::Report,
    table: &reports::Table,
    units: &sl_engine::analysis::Units,
) -> Result<Value, ApiError> {
    let (features, _) = table.features(units).map_err(analysis_error)?;
    Ok(json!({"type": "FeatureCollection", "meta": report.meta(), "features": features}))
}

/// Everything an analysis request shares: role check, cache, audit, response.
struct Request {
    state: AppState,
    session: SessionUser,
    /// The client accepts gzip: send the compressed answer.
    gzip: bool,
    dataset: String,
    endpoint: &'static str,
    canonical: String,
    action: Action,
    kind: Kind,
}

impl Request {
    #[expect(
        clippy::too_many_arguments,
        reason = "one call per endpoint, each naming every part"
    )]
    fn new(
        state: AppState,
        session: SessionUser,
        gzip: AcceptsGzip,
        dataset: String,
        endpoint: &'static str,
        pairs: &[(String, String)],
        action: Action,
        kind: Kind,
    ) -> Self {
        Self {
            state,
            session,
            gzip: gzip.0,
            dataset,
            endpoint,
            canonical: query::canonical(pairs),
            action,
            kind,
        }
    }

    fn object(&self) -> String {
        if self.canonical.is_empty() {
            format!("{}:{}", self.endpoint, self.dataset)
        } else {
            format!("{}:{}?{}", self.endpoint, self.dataset, self.canonical)
        }
    }

    /// Refuses the request (and records the refusal) unless the role allows `access`.
    async fn require(&self, access: Access) -> Result<(), ApiError> {
        require(
            &self.state,
            &self.session,
            access,
            self.action,
            self.object(),
        )
        .await
    }

    /// Answers from the cache or by running `compute` on the blocking pool.
    async fn answer<F>(self, compute: F) -> Result<Response, ApiError>
    where
        F: FnOnce(&SqliteStore) -> Result<Value, ApiError> + Send + 'static,
    {
        let object = self.object();
        let Request {
            state,
            session,
            gzip,
            dataset,
            endpoint,
            canonical,
            action,
            kind,
        } = self;
        let cache = state.cache.clone();
        let finish = move |store: &mut SqliteStore, key: &str, bytes: Bytes| {
            // The compressed answer is kept too, made from the plain one when first asked.
            let compressed = gzip && bytes.len() >= compress::MIN_BYTES;
            let bytes = if compressed {
                cache
                    .get_or_compute(&format!("{key}\u{1f}gzip"), || compress::gzip(&bytes))
                    .0?
            } else {
                bytes
            };
            record(store, &session, action, &object, Outcome::Ok)?;
            Ok((bytes, compressed))
        };
        // A kept answer is sent at once; otherwise the request computes it, or waits
        // for the request computing it, without holding one of the pool's permits.
        let found = {
            let cache = state.cache.clone();
            blocking(&state, move |store| {
                let generation = generation(store, &dataset)?;
                let key = format!("{endpoint}\u{1f}{dataset}\u{1f}{generation}\u{1f}{canonical}");
                match cache.get(&key) {
                    Some(bytes) => finish(store, &key, bytes).map(Ok),
                    None => Ok(Err((key, finish))),
                }
            })
            .await?
        };
        let ((bytes, compressed), lookup) = match found {
            Ok(done) => (done, Lookup::Hit),
            Err((key, finish)) => {
                let cache = state.cache.clone();
                blocking_unbounded(&state, move |store| {
                    let (bytes, lookup) = cache.get_or_compute(&key, || {
                        store.set_memory_map(true).map_err(ApiError::internal)?;
                        let answer = compute(store);
                        store.set_memory_map(false).map_err(ApiError::internal)?;
                        to_bytes(&answer?)
                    });
                    Ok((finish(store, &key, bytes?)?, lookup))
                })
                .await?
            }
        };
        let mut r = bytes.into_response();
        let content_type = match kind {
            Kind::GeoJson => "application/geo+json",
            Kind::Json => "application/json",
        };
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if compressed {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        h.insert(
            "x-streetlight-cache",
            HeaderValue::from_static(match lookup {
                Lookup::Hit => "hit",
                Lookup::Computed => "miss",
            }),
        );
        Ok(r)
    }
}

/// Refuses a request (and records the refusal as `denied` on `object`) unless the
/// session's role allows `access`. Shared by the analysis and context-layer endpoints.
pub(crate) async fn require(
    state: &AppState,
    session: &SessionUser,
    access: Access,
    action: Action,
    object: String,
) -> Result<(), ApiError> {
    let Err(e) = session.require(access) else {
        return Ok(());
    };
    let session = session.clone();
    blocking(state, move |store| {
        record(store, &session, action, &object, Outcome::Denied)
    })
    .await?;
    Err(e)
}

/// What identifies a dataset's current data ([`sl_engine::Store::data_generation`]): a
/// new load, revision or retraction changes it, so cached answers of the old data are
/// not served. Read on every request, so it must not count the events.
fn generation(store: &SqliteStore, dataset: &str) -> Result<String, ApiError> {
    let not_found = || {
        ApiError::not_found(format!(
            "no dataset `{dataset}`: GET /api/datasets lists them"
        ))
    };
    let id = store
        .dataset_id(dataset)
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)?;
    store
        .data_generation(id)
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)
}

pub(crate) fn record(
    store: &mut SqliteStore,
    session: &SessionUser,
    action: Action,
    object: &str,
    outcome: Outcome,
) -> Result<(), ApiError> {
    let ctx = Context::user(&session.user, &session.source, auth::now_ms());
    let _writes = crate::write_lock();
    audit::record(store, &ctx, action, object, outcome)
        .map(|_| ())
        .map_err(ApiError::internal)
}

fn load(
    store: &SqliteStore,
    dataset: &str,
    select: &SelectArgs,
) -> Result<sl_engine::analysis::EventSet, ApiError> {
    reports::load(store, dataset, select).map_err(analysis_error)
}

// ---------------------------------------------------------------------------------
// Query structs: the CLI's flags for each endpoint (and a few of the API's own).

/// `events.geojson`: the selection and a page size.
#[derive(Debug, Parser)]
struct EventsQuery {
    #[command(flatten)]
    select: SelectArgs,
    /// Most events returned (at most 50,000).
    #[arg(long, default_value_t = 20_000)]
    limit: usize,
}

/// `aggregate.geojson`: the selection, the units, and whether to leave out empty units.
#[derive(Debug, Parser)]
struct AggregateQuery {
    #[command(flatten)]
    select: SelectArgs,
    #[command(flatten)]
    units: UnitArgs,
    /// Leave out units without an event.
    #[arg(long)]
    nonzero: bool,
}

#[derive(Debug, Parser)]
struct HotspotsQuery {
    #[command(flatten)]
    select: SelectArgs,
    #[command(flatten)]
    units: UnitArgs,
    #[command(flatten)]
    params: reports::hotspots::HotspotParams,
}

#[derive(Debug, Parser)]
struct ForecastQuery {
    #[command(flatten)]
    select: SelectArgs,
    #[command(flatten)]
    units: UnitArgs,
    #[command(flatten)]
    params: reports::forecast::ForecastParams,
    /// `all` (every unit with score, rank and flagged) or `flagged` (the top only).
    #[arg(long, default_value = "all")]
    cells: String,
}

#[derive(Debug, Parser)]
struct PrioritiesQuery {
    #[command(flatten)]
    select: SelectArgs,
    #[command(flatten)]
    units: UnitArgs,
    #[command(flatten)]
    params: reports::priorities::PriorityParams,
}

#[derive(Debug, Parser)]
struct PatternsQuery {
    #[command(flatten)]
    select: SelectArgs,
    #[command(flatten)]
    params: reports::patterns::PatternParams,
}

#[derive(Debug, Parser)]
struct NearRepeatQuery {
    #[command(flatten)]
    select: SelectArgs,
    #[command(flatten)]
    params: reports::near_repeat::NearRepeatParams,
}

#[derive(Debug, Parser)]
struct BacktestQuery {
    #[command(flatten)]
    select: SelectArgs,
    #[command(flatten)]
    units: UnitArgs,
    #[command(flatten)]
    params: reports::backtest::BacktestParams,
}

/// The path and query every analysis endpoint takes.
type Args = (
    State<AppState>,
    SessionUser,
    Path<String>,
    RawQuery,
    AcceptsGzip,
);

/// What every analysis endpoint does first: parse the query into `Q` (the command's
/// flags), describe the request for the cache and the audit log, and refuse it (with an
/// audit record) unless the role allows `access`.
async fn open<Q: Parser>(
    (State(state), session, Path(name), RawQuery(raw), gzip): Args,
    endpoint: &'static str,
    action: Action,
    kind: Kind,
    access: Access,
) -> Result<(Q, String, Request), ApiError> {
    let pairs = query::pairs(raw.as_deref())?;
    let q: Q = query::parse(&pairs)?;
    let req = Request::new(
        state,
        session,
        gzip,
        name.clone(),
        endpoint,
        &pairs,
        action,
        kind,
    );
    req.require(access).await?;
    Ok((q, name, req))
}

// ---------------------------------------------------------------------------------
// Handlers.

/// The jurisdiction boundary stored at ingest, one feature per polygon.
#[utoipa::path(
    get,
    path = "/api/datasets/{name}/boundary.geojson",
    params(("name" = String, Path, description = "dataset name")),
    responses(
        (status = 200, description = "GeoJSON FeatureCollection with `meta` {dataset, boundary_file, features}; no features when none is stored"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)
    )
)]
pub async fn boundary(
    (State(state), session, Path(name), RawQuery(raw), gzip): Args,
) -> Result<Response, ApiError> {
    let pairs = query::pairs(raw.as_deref())?;
    if let Some((k, _)) = pairs.iter().find(|(_, v)| !v.is_empty()) {
        return Err(ApiError::bad_request(format!(
            "unknown parameter `{k}`: this endpoint takes none"
        )));
    }
    let req = Request::new(
        state,
        session,
        gzip,
        name.clone(),
        "boundary",
        &pairs,
        Action::DataRead,
        Kind::GeoJson,
    );
    req.require(Access::Read).await?;
    req.answer(move |store| {
        let id = store
            .dataset_id(&name)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::not_found(format!("no dataset `{name}`")))?;
        let Some((file, body)) = store.boundary(id).map_err(ApiError::internal)? else {
            return Ok(json!({
                "type": "FeatureCollection",
                "meta": {"dataset": name, "boundary_file": null, "features": 0},
                "features": [],
            }));
        };
        let b = sl_ingest_boundary(&body)?;
        let features: Vec<Value> = b
            .features
            .iter()
            .map(|f| {
                json!({
                    "type": "Feature",
                    "geometry": reports::table::geometry(&f.rings),
                    "properties": {"name": f.name},
                })
            })
            .collect();
        Ok(json!({
            "type": "FeatureCollection",
            "meta": {"dataset": name, "boundary_file": file, "features": features.len()},
            "features": features,
        }))
    })
    .await
}

fn sl_ingest_boundary(body: &str) -> Result<sl_engine::Boundary, ApiError> {
    sl_engine::Boundary::from_json(body)
        .map_err(|e| ApiError::internal(format!("the stored boundary cannot be read: {e}")))
}

/// Located, non-retracted events as points: category and occurrence window only.
#[utoipa::path(
    get,
    path = "/api/datasets/{name}/events.geojson",
    params(("name" = String, Path, description = "dataset name"),
        ("category" = Option<String>, Query, description = "category slugs, comma-separated"),
        ("from" = Option<String>, Query, description = "first local day (YYYY-MM-DD)"),
        ("to" = Option<String>, Query, description = "first local day left out"),
        ("area" = Option<String>, Query, description = "LEVEL=CODE, e.g. district=12"),
        ("limit" = Option<usize>, Query, description = "most events returned (default 20,000, at most 50,000)")),
    responses(
        (status = 200, description = "GeoJSON points with `meta` {matched, returned, limit, truncated, without_point, …}"),
        (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "viewers and the public never get event-level records"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody, description = "limit or period too large")
    )
)]
pub async fn events(args: Args) -> Result<Response, ApiError> {
    let (q, name, req) = open::<EventsQuery>(
        args,
        "events",
        Action::DataRead,
        Kind::GeoJson,
        Access::Events,
    )
    .await?;
    if q.limit > MAX_EVENTS {
        return Err(limit(format!(
            "limit={} is more than {MAX_EVENTS} events: narrow the period or categories, or export with the command line",
            q.limit
        )));
    }
    req.answer(move |store| {
        let sel = reports::selection(store, &name, &q.select).map_err(analysis_error)?;
        if let (Some(a), Some(b)) = (sel.from, sel.to)
            && (b - a) > MAX_EVENT_DAYS * 86_400
        {
            return Err(limit(format!(
                "the period from {} to {} is longer than {MAX_EVENT_DAYS} days: event points are served a period of at most 3 years at a time",
                q.select.from.as_deref().unwrap_or_default(),
                q.select.to.as_deref().unwrap_or_default()
            )));
        }
        let set = sl_engine::analysis::select(store, &sel).map_err(ApiError::from)?;
        let (mut matched, mut without_point) = (0usize, 0usize);
        let mut features = Vec::new();
        let filter = sl_engine::EventFilter {
            categories: sel.categories.clone(),
            from: sel.from,
            to: sel.to,
            include_retracted: false,
            with_point_only: false,
        };
        store
            .scan_events(set.dataset.id, &filter, &mut |e| {
                if let Some(f) = &sel.area {
                    let codes = [&e.district, &e.beat, &e.neighbourhood];
                    if codes[f.level.index()].as_deref() != Some(f.code.as_str()) {
                        return;
                    }
                }
                let (Some(lon), Some(lat)) = (e.lon, e.lat) else {
                    without_point += 1;
                    return;
                };
                matched += 1;
                if features.len() < q.limit {
                    features.push(json!({
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [
                            reports::table::round7(lon), reports::table::round7(lat)]},
                        "properties": {
                            "id": e.id,
                            "category": e.category,
                            "occurred_from": reports::instant(e.t_from),
                            "occurred_to": reports::instant(e.t_to),
                            "precision": e.precision,
                        },
                    }));
                }
            })
            .map_err(ApiError::internal)?;
        Ok(json!({
            "type": "FeatureCollection",
            "meta": {
                "dataset": name,
                "categories": sel.categories,
                "from": sel.from.map(reports::instant),
                "to": sel.to.map(reports::instant),
                "matched": matched,
                "returned": features.len(),
                "limit": q.limit,
                "truncated": matched > q.limit,
                "without_point": without_point,
            },
            "features": features,
        }))
    })
    .await
}

/// Event counts per unit (grid cells, H3 cells or areas).
#[utoipa::path(
    get,
    path = "/api/datasets/{name}/aggregate.geojson",
    params(("name" = String, Path, description = "dataset name")),
    responses(
        (status = 200, description = "GeoJSON polygons with `count`; `meta` {events, events_outside_units, units, …}"),
        (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)
    )
)]
pub async fn aggregate(args: Args) -> Result<Response, ApiError> {
    let (q, name, req) = open::<AggregateQuery>(
        args,
        "aggregate",
        Action::DataRead,
        Kind::GeoJson,
        Access::Read,
    )
    .await?;
    req.answer(move |store| {
        let set = load(store, &name, &q.select)?;
        let out = reports::hotspots::aggregate(store, &set, &q.units, q.nonzero)
            .map_err(analysis_error)?;
        layer(&out.report, &out.table, &out.units)
    })
    .await
}

/// `streetlight hotspots` as a map layer (kde, gistar or emerging).
#[utoipa::path(
    get,
    path = "/api/datasets/{name}/hotspots.geojson",
    params(("name" = String, Path, description = "dataset name")),
    responses(
        (status = 200, description = "GeoJSON polygons with the method's fields; `meta` is `hotspots --json` without `cells`"),
        (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)
    )
)]
pub async fn hotspots(args: Args) -> Result<Response, ApiError> {
    let (q, name, req) = open::<HotspotsQuery>(
        args,
        "hotspots",
        Action::DataRead,
        Kind::GeoJson,
        Access::Read,
    )
    .await?;
    if q.params.permutations > MAX_PERMUTATIONS {
        return Err(limit(format!(
            "permutations={} is more than {MAX_PERMUTATIONS}",
            q.params.permutations
        )));
    }
    req.answer(move |store| {
        let set = load(store, &name, &q.select)?;
        let out = reports::hotspots::hotspots(store, &set, &q.units, &q.params)
            .map_err(analysis_error)?;
        layer(&out.report, &out.table, &out.units)
    })
    .await
}

/// `streetlight forecast` as a map layer.
#[utoipa::path(
    get,
    path = "/api/datasets/{name}/forecast.geojson",
    params(("name" = String, Path, description = "dataset name")),
    responses(
        (status = 200, description = "GeoJSON polygons with `score`, `rank`, `flagged`; `meta` is `forecast --json` without `top`"),
        (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)
    )
)]
pub async fn forecast(args: Args) -> Result<Response, ApiError> {
    let (q, name, req) = open::<ForecastQuery>(
        args,
        "forecast",
        Action::ForecastRun,
        Kind::GeoJson,
        Access::Read,
    )
    .await?;
    let flagged_only = match q.cells.as_str() {
        "all" => false,
        "flagged" => true,
        other => {
            return Err(ApiError::bad_request(format!(
                "cells `{other}` is not all or flagged"
            )));
        }
    };
    req.answer(move |store| {
        let base = reports::selection(store, &name, &q.select).map_err(analysis_error)?;
        let mut out = reports::forecast::forecast(
            store,
            base,
            &q.units,
            &q.params,
            &reports::forecast::no_risk_layers,
        )
        .map_err(analysis_error)?;
        if flagged_only {
            out.table.rows.truncate(out.flagged);
            out.table.unit.truncate(out.flagged);
        }
        layer(&out.report, &out.table, &out.units)
    })
    .await
}

/// `streetlight priorities` as a map layer.
#[utoipa::path(
    get,
    path = "/api/datasets/{name}/priorities.geojson",
    params(("name" = String, Path, description = "dataset name")),
    responses(
        (status = 200, description = "GeoJSON polygons with the `places` rows; `meta` is `priorities --json` without `places`"),
        (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)
    )
)]
pub async fn priorities(args: Args) -> Result<Response, ApiError> {
    let (q, name, req) = open::<PrioritiesQuery>(
        args,
        "priorities",
        Action::DataRead,
        Kind::GeoJson,
        Access::Read,
    )
    .await?;
    req.answer(move |store| {
        let set = load(store, &name, &q.select)?;
        let out = reports::priorities::priorities(store, &set, &q.units, &q.params)
            .map_err(analysis_error)?;
        layer(&out.report, &out.table, &out.units)
    })
    .await
}

/// `streetlight patterns --json`.
#[utoipa::path(
    get,
    path = "/api/datasets/{name}/patterns",
    params(("name" = String, Path, description = "dataset name")),
    responses(
        (status = 200, description = "`patterns --json` (docs/CLI.md)"),
        (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)
    )
)]
pub async fn patterns(args: Args) -> Result<Response, ApiError> {
    let (q, name, req) =
        open::<PatternsQuery>(args, "patterns", Action::DataRead, Kind::Json, Access::Read).await?;
    req.answer(move |store| {
        let set = load(store, &name, &q.select)?;
        let (report, _) =
            reports::patterns::time_patterns(&set, &q.params).map_err(analysis_error)?;
        Ok(report.doc)
    })
    .await
}

/// `streetlight near-repeat --json`.
#[utoipa::path(
    get,
    path = "/api/datasets/{name}/near-repeat",
    params(("name" = String, Path, description = "dataset name")),
    responses(
        (status = 200, description = "`near-repeat --json` (docs/CLI.md)"),
        (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody, description = "too many events or permutations")
    )
)]
pub async fn near_repeat(args: Args) -> Result<Response, ApiError> {
    let (q, name, req) = open::<NearRepeatQuery>(
        args,
        "near-repeat",
        Action::DataRead,
        Kind::Json,
        Access::Read,
    )
    .await?;
    if q.params.permutations > MAX_PERMUTATIONS {
        return Err(limit(format!(
            "permutations={} is more than {MAX_PERMUTATIONS}",
            q.params.permutations
        )));
    }
    req.answer(move |store| {
        let set = load(store, &name, &q.select)?;
        let located = set.located().count();
        if located > MAX_NEAR_REPEAT_EVENTS {
            return Err(limit(format!(
                "the selection has {located} located events, more than the {MAX_NEAR_REPEAT_EVENTS} a near-repeat test pairs per request: choose categories, a shorter period or an area"
            )));
        }
        let out = reports::near_repeat::near_repeat(&set, &q.params).map_err(analysis_error)?;
        Ok(out.report.doc)
    })
    .await
}

/// `streetlight backtest --json` (analysts and admins: it runs for seconds to minutes).
#[utoipa::path(
    get,
    path = "/api/datasets/{name}/backtest",
    params(("name" = String, Path, description = "dataset name")),
    responses(
        (status = 200, description = "`backtest --json` (docs/CLI.md)"),
        (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody, description = "more than 520 fits (origins × models)")
    )
)]
pub async fn backtest(args: Args) -> Result<Response, ApiError> {
    let (q, name, req) = open::<BacktestQuery>(
        args,
        "backtest",
        Action::ForecastRun,
        Kind::Json,
        Access::Analyse,
    )
    .await?;
    let fits = q.params.origins.saturating_mul(q.params.models.len());
    if fits > MAX_BACKTEST_FITS {
        return Err(limit(format!(
            "origins × models = {fits} fits, more than {MAX_BACKTEST_FITS} per request: fewer origins or models, or run `streetlight backtest`"
        )));
    }
    req.answer(move |store| {
        let base = reports::selection(store, &name, &q.select).map_err(analysis_error)?;
        let out = reports::backtest::backtest(
            store,
            base,
            &q.units,
            &q.params,
            &reports::forecast::no_risk_layers,
        )
        .map_err(analysis_error)?;
        Ok(out.report.doc)
    })
    .await
}

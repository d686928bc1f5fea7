//! Admin endpoints: the accounts and the audit log, read over HTTP. Changing accounts
//! stays on the command line (`streetlight user …`) for now.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use sl_engine::accounts::{self, Context};
use sl_engine::audit;

use crate::auth::{Access, SessionUser, account_error, now_ms};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::{AppState, blocking};

/// An account as admins see it (never its password hash).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserRow {
    pub name: String,
    pub role: String,
    pub created_ms: i64,
    pub locked: bool,
    pub disabled: bool,
    pub must_change_password: bool,
}

/// Every account (admins only; the listing is audited).
#[utoipa::path(
    get,
    path = "/api/admin/users",
    responses((status = 200, body = [UserRow]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
pub async fn users(
    State(state): State<AppState>,
    session: SessionUser,
) -> Result<Json<Vec<UserRow>>, ApiError> {
    session.require(Access::Admin)?;
    blocking(&state, move |store| {
        let ctx = Context::user(&session.user, &session.source, now_ms());
        let list = accounts::list_users(store, &ctx).map_err(account_error)?;
        Ok(list
            .into_iter()
            .map(|u| UserRow {
                name: u.name,
                role: u.role.as_str().to_string(),
                created_ms: u.created_ms,
                locked: u.locked,
                disabled: u.disabled,
                must_change_password: u.must_change_password,
            })
            .collect())
    })
    .await
    .map(Json)
}

/// Query of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// The last this many records (default 100, at most 10,000).
    pub limit: Option<usize>,
}

/// Largest audit page.
pub const MAX_AUDIT_LIMIT: usize = 10_000;

/// One audit record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditRow {
    pub id: i64,
    /// UTC milliseconds since the Unix epoch.
    pub ts_ms: i64,
    pub actor: Option<String>,
    pub action: String,
    pub object: String,
    pub outcome: String,
    pub source: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The last records of the audit log, oldest first (admins only; reading it is audited).
#[utoipa::path(
    get,
    path = "/api/admin/audit",
    params(AuditQuery),
    responses((status = 200, body = [AuditRow]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn audit_log(
    State(state): State<AppState>,
    session: SessionUser,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditRow>>, ApiError> {
    session.require(Access::Admin)?;
    let limit = q.limit.unwrap_or(100);
    if limit > MAX_AUDIT_LIMIT {
        return Err(ApiError::new(
            ErrorCode::LimitExceeded,
            format!(
                "limit={limit} is more than {MAX_AUDIT_LIMIT}: use `streetlight audit list` for the whole log"
            ),
        ));
    }
    blocking(&state, move |store| {
        let ctx = Context::user(&session.user, &session.source, now_ms());
        {
            let _writes = crate::write_lock();
            audit::record(
                store,
                &ctx,
                audit::Action::DataRead,
                "audit_log",
                audit::Outcome::Ok,
            )
            .map_err(ApiError::internal)?;
        }
        let rows = audit::list(store, limit).map_err(ApiError::internal)?;
        Ok(rows
            .into_iter()
            .map(|r| AuditRow {
                id: r.id,
                ts_ms: r.ts_ms,
                actor: r.actor,
                action: r.action,
                object: r.object,
                outcome: r.outcome,
                source: r.source,
                prev_hash: r.prev_hash,
                hash: r.hash,
            })
            .collect())
    })
    .await
    .map(Json)
}

/// The result of checking the chain.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Verify {
    pub ok: bool,
    pub records: u64,
    /// `ID:HASH` of the last record: keep it elsewhere to detect a cut or rewrite later.
    pub head: Option<String>,
    /// Each record that fails: its id, the check (`sequence`, `link`, `hash`, …) and why.
    pub problems: Vec<VerifyProblem>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifyProblem {
    pub id: i64,
    pub check: String,
    pub message: String,
}

/// Checks the audit log's hash chain, as `streetlight audit verify` does (admins only).
#[utoipa::path(
    get,
    path = "/api/admin/audit/verify",
    responses((status = 200, body = Verify), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
pub async fn audit_verify(
    State(state): State<AppState>,
    session: SessionUser,
) -> Result<Json<Verify>, ApiError> {
    session.require(Access::Admin)?;
    blocking(&state, move |store| {
        let report = audit::verify(store).map_err(ApiError::internal)?;
        Ok(Verify {
            ok: report.is_ok(),
            records: report.records,
            head: report.head.as_ref().map(ToString::to_string),
            problems: report
                .problems
                .iter()
                .map(|p| VerifyProblem {
                    id: p.id,
                    check: p.check.as_str().to_string(),
                    message: p.to_string(),
                })
                .collect(),
        })
    })
    .await
    .map(Json)
}

//! Admin endpoints: accounts (list, add, change role, reset password, unlock, disable,
//! enable) and the audit log over HTTP, as `streetlight user …` and `streetlight audit …`
//! do on the command line. The first admin is created with the command line only.
//!
//! Account changes call `sl_engine::accounts`, which checks the caller is an admin and
//! audits every change and every refusal (`user.add`, `user.role`, … with `ok`,
//! `denied` or `error`); the handlers only check the session first (a temporary password
//! must be replaced before anything else).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use sl_engine::accounts::{self, Context, Role, User};
use sl_engine::audit;

use crate::auth::{Access, SessionUser, account_error, now_ms};
use crate::error::{ApiError, ErrorBody, ErrorCode, JsonBody};
use crate::{AppState, blocking};

/// The admin part of the OpenAPI document (merged into `/api/openapi.json`).
#[derive(Debug, utoipa::OpenApi)]
#[openapi(
    paths(
        users,
        add_user,
        set_role,
        reset_password,
        unlock,
        disable,
        enable,
        audit_log,
        audit_verify
    ),
    components(schemas(
        UserRow,
        NewAccount,
        WithPassword,
        RoleChange,
        AuditRow,
        Verify,
        VerifyProblem
    ))
)]
pub struct AdminDoc;

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
        Ok(list.into_iter().map(UserRow::of).collect())
    })
    .await
    .map(Json)
}

impl UserRow {
    fn of(u: User) -> Self {
        UserRow {
            name: u.name,
            role: u.role.as_str().to_string(),
            created_ms: u.created_ms,
            locked: u.locked,
            disabled: u.disabled,
            must_change_password: u.must_change_password,
        }
    }
}

/// A new account.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewAccount {
    /// 1–64 characters: letters, digits, `.`, `_`, `-` (stored in lower case).
    pub name: String,
    /// `admin`, `analyst`, `supervisor` or `viewer`.
    pub role: String,
}

/// An account with the temporary password an admin passes on: shown once, never
/// stored in clear, and good only for choosing one's own at the first sign-in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WithPassword {
    pub user: UserRow,
    pub temporary_password: String,
}

/// A role change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RoleChange {
    /// `admin`, `analyst`, `supervisor` or `viewer`.
    pub role: String,
}

/// Runs an account change on the blocking pool. A session with a temporary password is
/// refused first, and the refusal recorded as `denied` on `object` with `action`; then
/// `f` calls the engine, which refuses non-admins and audits every outcome.
///
/// Not under [`crate::write_lock`]: adding an account and resetting a password hash one
/// (Argon2id, tens of milliseconds), which must not hold up every other request's session
/// write. The engine's writes are transactions of their own (the audit append takes
/// SQLite's write lock before it reads the chain's head), so these rare writes wait in
/// SQLite's busy handler instead.
async fn change<T, F>(
    state: &AppState,
    session: SessionUser,
    action: audit::Action,
    object: String,
    f: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut sl_engine::SqliteStore, &Context<'_>) -> Result<T, ApiError> + Send + 'static,
{
    crate::analytics::require(state, &session, Access::Read, action, object).await?;
    blocking(state, move |store| {
        let ctx = Context::user(&session.user, &session.source, now_ms());
        f(store, &ctx)
    })
    .await
}

/// `user:NAME`, or `user:NAME role:ROLE`, for the audit record of a refusal made before
/// the engine is called; each text cut to 64 characters.
fn object(name: &str, role: Option<&str>) -> String {
    let cut = |t: &str| t.chars().take(64).collect::<String>();
    match role {
        Some(r) => format!("user:{} role:{}", cut(name), cut(r)),
        None => format!("user:{}", cut(name)),
    }
}

/// The role named in a request. An unknown one is refused and audited like the engine's
/// refusals: `refused` for an admin (a mistake, 400), `denied` for anyone else (403, as
/// the change itself would be).
fn role(
    store: &mut sl_engine::SqliteStore,
    ctx: &Context<'_>,
    action: audit::Action,
    object: &str,
    text: &str,
) -> Result<Role, ApiError> {
    let Err(e) = Role::parse(text) else {
        return Role::parse(text).map_err(account_error);
    };
    let admin = ctx.may_manage_accounts();
    let outcome = if admin {
        audit::Outcome::Refused
    } else {
        audit::Outcome::Denied
    };
    audit::record(store, ctx, action, object, outcome).map_err(ApiError::internal)?;
    Err(if admin {
        account_error(e)
    } else {
        account_error(accounts::AccountError::Forbidden("change accounts"))
    })
}

/// Adds an account with a generated temporary password, returned once (admins only;
/// audited as `user.add`).
#[utoipa::path(
    post,
    path = "/api/admin/users",
    request_body = NewAccount,
    responses((status = 201, body = WithPassword), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
pub async fn add_user(
    State(state): State<AppState>,
    session: SessionUser,
    JsonBody(body): JsonBody<NewAccount>,
) -> Result<(StatusCode, Json<WithPassword>), ApiError> {
    let action = audit::Action::UserAdd;
    let object = object(&body.name, Some(&body.role));
    change(
        &state,
        session,
        action,
        object.clone(),
        move |store, ctx| {
            let role = role(store, ctx, action, &object, &body.role)?;
            let password = accounts::generate_password().map_err(account_error)?;
            let user = accounts::add_user(store, ctx, &body.name, role, &password, true)
                .map_err(account_error)?;
            Ok(WithPassword {
                user: UserRow::of(user),
                temporary_password: password,
            })
        },
    )
    .await
    .map(|w| (StatusCode::CREATED, Json(w)))
}

/// Changes an account's role; the last enabled admin keeps theirs (admins only;
/// audited as `user.role`).
#[utoipa::path(
    post,
    path = "/api/admin/users/{user}/role",
    params(("user" = String, Path, description = "account name")),
    request_body = RoleChange,
    responses((status = 200, body = UserRow), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn set_role(
    State(state): State<AppState>,
    session: SessionUser,
    Path(user): Path<String>,
    JsonBody(body): JsonBody<RoleChange>,
) -> Result<Json<UserRow>, ApiError> {
    let action = audit::Action::UserRole;
    let object = object(&user, Some(&body.role));
    change(
        &state,
        session,
        action,
        object.clone(),
        move |store, ctx| {
            let role = role(store, ctx, action, &object, &body.role)?;
            accounts::set_role(store, ctx, &user, role)
                .map(UserRow::of)
                .map_err(account_error)
        },
    )
    .await
    .map(Json)
}

/// Resets an account's password to a generated temporary one, returned once, and ends
/// the account's sessions (admins only; audited as `user.password`).
#[utoipa::path(
    post,
    path = "/api/admin/users/{user}/password",
    params(("user" = String, Path, description = "account name")),
    responses((status = 200, body = WithPassword), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn reset_password(
    State(state): State<AppState>,
    session: SessionUser,
    Path(user): Path<String>,
    JsonBody(_): JsonBody<IgnoredAny>,
) -> Result<Json<WithPassword>, ApiError> {
    let action = audit::Action::UserPassword;
    change(
        &state,
        session,
        action,
        object(&user, None),
        move |store, ctx| {
            let password = accounts::generate_password().map_err(account_error)?;
            let user = accounts::set_password(store, ctx, &user, &password, true)
                .map_err(account_error)?;
            Ok(WithPassword {
                user: UserRow::of(user),
                temporary_password: password,
            })
        },
    )
    .await
    .map(Json)
}

/// An engine change to one named account that needs nothing more: unlock, disable, enable.
type Switch =
    fn(&mut sl_engine::SqliteStore, &Context<'_>, &str) -> Result<User, accounts::AccountError>;

/// Runs a [`Switch`] on `user` through [`change`], answering the account after it.
async fn switch(
    state: &AppState,
    session: SessionUser,
    user: String,
    action: audit::Action,
    op: Switch,
) -> Result<Json<UserRow>, ApiError> {
    change(
        state,
        session,
        action,
        object(&user, None),
        move |store, ctx| {
            op(store, ctx, &user)
                .map(UserRow::of)
                .map_err(account_error)
        },
    )
    .await
    .map(Json)
}

/// Unlocks an account locked by failed logins (admins only; audited as `user.unlock`).
#[utoipa::path(
    post,
    path = "/api/admin/users/{user}/unlock",
    params(("user" = String, Path, description = "account name")),
    responses((status = 200, body = UserRow), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn unlock(
    State(state): State<AppState>,
    session: SessionUser,
    Path(user): Path<String>,
    JsonBody(_): JsonBody<IgnoredAny>,
) -> Result<Json<UserRow>, ApiError> {
    switch(
        &state,
        session,
        user,
        audit::Action::UserUnlock,
        accounts::unlock,
    )
    .await
}

/// Disables an account and ends its sessions; the last enabled admin cannot be
/// disabled (admins only; audited as `user.disable`).
#[utoipa::path(
    post,
    path = "/api/admin/users/{user}/disable",
    params(("user" = String, Path, description = "account name")),
    responses((status = 200, body = UserRow), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn disable(
    State(state): State<AppState>,
    session: SessionUser,
    Path(user): Path<String>,
    JsonBody(_): JsonBody<IgnoredAny>,
) -> Result<Json<UserRow>, ApiError> {
    switch(
        &state,
        session,
        user,
        audit::Action::UserDisable,
        accounts::disable,
    )
    .await
}

/// Enables a disabled account with its old role and password (admins only; audited as
/// `user.enable`).
#[utoipa::path(
    post,
    path = "/api/admin/users/{user}/enable",
    params(("user" = String, Path, description = "account name")),
    responses((status = 200, body = UserRow), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn enable(
    State(state): State<AppState>,
    session: SessionUser,
    Path(user): Path<String>,
    JsonBody(_): JsonBody<IgnoredAny>,
) -> Result<Json<UserRow>, ApiError> {
    switch(
        &state,
        session,
        user,
        audit::Action::UserEnable,
        accounts::enable,
    )
    .await
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

//! Sessions over HTTP: login sets an HttpOnly, SameSite=Strict cookie holding the
//! session token; every protected handler takes a [`SessionUser`], which checks the
//! token with `sl_engine::accounts::authenticate` (30-minute idle and 12-hour absolute
//! expiry, enforced server-side) and the role against the endpoint's [`Access`].
//!
//! Which role may call what is one table, [`allows`]; the authorisation matrix test
//! calls every endpoint as every role and as nobody.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sl_engine::accounts::{self, AccountError, Role, User};

use crate::error::{ApiError, ErrorCode, JsonBody};
use crate::{AppState, blocking};

/// The session cookie's name.
pub const COOKIE: &str = "sl_session";

/// What an endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not (health, the error table, the OpenAPI document, login).
    Public,
    /// Any logged-in role: dashboards, the dataset registry.
    Read,
    /// Event-level records (points with their times): admins, analysts and
    /// supervisors; never viewers or the public.
    Events,
    /// Analysts and admins: long analyses (backtests), row-level quality data, exports.
    Analyse,
    /// Admins only: accounts and the audit log.
    Admin,
}

/// Whether `role` may use an endpoint that needs `access`.
pub fn allows(role: Role, access: Access) -> bool {
    match access {
        Access::Public | Access::Read => true,
        Access::Events => matches!(role, Role::Admin | Role::Analyst | Role::Supervisor),
        Access::Analyse => matches!(role, Role::Admin | Role::Analyst),
        Access::Admin => role == Role::Admin,
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn token_from(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

fn source_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string())
}

/// Account errors as API errors: the caller's mistakes keep their message.
pub fn account_error(e: AccountError) -> ApiError {
    match e {
        AccountError::BadCredentials
        | AccountError::NoSession
        | AccountError::IdleTimeout
        | AccountError::SessionExpired => ApiError::new(ErrorCode::Unauthenticated, e.to_string()),
        AccountError::Locked(_) => ApiError::new(ErrorCode::AccountLocked, e.to_string()),
        AccountError::Forbidden(_) | AccountError::LastAdmin(_) => {
            ApiError::new(ErrorCode::Forbidden, e.to_string())
        }
        AccountError::UnknownUser(_) => ApiError::not_found(e.to_string()),
        AccountError::Password(_)
        | AccountError::InvalidName(_)
        | AccountError::NameTaken(_)
        | AccountError::UnknownRole(_) => ApiError::bad_request(e.to_string()),
        other => ApiError::internal(other),
    }
}

/// The logged-in user of a request, and where it came from.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user: User,
    pub source: String,
}

impl SessionUser {
    /// Refuses the request unless the user's role allows `access`, and while the
    /// password is one an administrator set (ASVS V6.4.1: a temporary password is only
    /// good for choosing one's own).
    pub fn require(&self, access: Access) -> Result<(), ApiError> {
        if self.user.must_change_password && access != Access::Public {
            return Err(ApiError::new(
                ErrorCode::PasswordChangeRequired,
                "your password was set by an administrator: choose your own first (POST /api/auth/password with current_password and new_password)",
            ));
        }
        if allows(self.user.role, access) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                format!(
                    "the {} role may not do this: ask an administrator",
                    self.user.role
                ),
            ))
        }
    }
}

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let source = source_of(parts);
        let Some(token) = token_from(&parts.headers) else {
            return Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "not logged in: POST /api/auth/login with your name and password",
            ));
        };
        let user = blocking(state, move |store| {
            // Authenticating writes the session's last-seen time: queue with the
            // server's other writes rather than in SQLite's busy handler.
            let _writes = crate::write_lock();
            accounts::authenticate(store, &token, now_ms()).map_err(account_error)
        })
        .await?;
        Ok(SessionUser { user, source })
    }
}

/// The client's address, for audit records of requests without a session.
#[derive(Debug, Clone)]
pub struct Source(pub String);

impl FromRequestParts<AppState> for Source {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        Ok(Source(source_of(parts)))
    }
}

/// A login request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Login {
    pub name: String,
    pub password: String,
}

/// Who is logged in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub name: String,
    /// `admin`, `analyst`, `supervisor` or `viewer`.
    pub role: String,
    /// The password was set by an admin: choose your own.
    pub must_change_password: bool,
}

impl Me {
    fn of(u: &User) -> Self {
        Me {
            name: u.name.clone(),
            role: u.role.as_str().to_string(),
            must_change_password: u.must_change_password,
        }
    }
}

fn cookie(state: &AppState, value: &str, clear: bool) -> HeaderValue {
    let mut c = format!("{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/");
    if clear {
        c.push_str("; Max-Age=0");
    }
    if state.secure_cookies {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Logs in: sets the session cookie. Five failed logins within 15 minutes lock the
/// account until an admin unlocks it.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    request_body = Login,
    responses(
        (status = 200, body = Me, description = "logged in; the session cookie is set"),
        (status = 401, body = crate::error::ErrorBody, description = "wrong name or password"),
        (status = 423, body = crate::error::ErrorBody, description = "the account is locked")
    )
)]
pub async fn login(
    State(state): State<AppState>,
    Source(source): Source,
    JsonBody(body): JsonBody<Login>,
) -> Result<Response, ApiError> {
    let (token, user) = blocking(&state, move |store| {
        accounts::login(store, &body.name, &body.password, now_ms(), &source).map_err(account_error)
    })
    .await?;
    Ok(signed_in(&state, token.as_str(), &user))
}

/// The answer to a sign-in or a password change: who is signed in, with the new
/// session's cookie.
fn signed_in(state: &AppState, token: &str, user: &User) -> Response {
    let mut r = Json(Me::of(user)).into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, cookie(state, token, false));
    r
}

/// Logs out: the session ends on the server and the cookie is cleared.
#[utoipa::path(post, path = "/api/auth/logout", responses((status = 204, description = "logged out")))]
pub async fn logout(
    State(state): State<AppState>,
    Source(source): Source,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = token_from(&headers) {
        blocking(&state, move |store| {
            accounts::logout(store, &token, now_ms(), &source).map_err(account_error)
        })
        .await?;
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, cookie(&state, "", true));
    Ok(r)
}

/// A password change by the logged-in user.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// The logged-in user chooses a new password: the current one is checked (a wrong one
/// counts towards the lockout), every session of the account ends, and a new session
/// cookie is set.
#[utoipa::path(
    post,
    path = "/api/auth/password",
    request_body = PasswordChange,
    responses(
        (status = 200, body = Me, description = "changed; a new session cookie is set"),
        (status = 400, body = crate::error::ErrorBody, description = "the new password is too short, too long or common"),
        (status = 401, body = crate::error::ErrorBody, description = "no session, or the current password is wrong"),
        (status = 423, body = crate::error::ErrorBody, description = "the account is locked")
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    session: SessionUser,
    JsonBody(body): JsonBody<PasswordChange>,
) -> Result<Response, ApiError> {
    let name = session.user.name.clone();
    let source = session.source.clone();
    // Not under `write_lock`, as logins and account changes are not: the password is
    // checked and hashed with Argon2id (tens of milliseconds), which must not hold up
    // every request's session write; the engine's writes are transactions of their own.
    let (token, user) = blocking(&state, move |store| {
        accounts::change_password(
            store,
            &name,
            &body.current_password,
            &body.new_password,
            now_ms(),
            &source,
        )
        .map_err(account_error)
    })
    .await?;
    Ok(signed_in(&state, token.as_str(), &user))
}

/// The logged-in user.
#[utoipa::path(
    get,
    path = "/api/auth/me",
    responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody))
)]
pub async fn me(session: SessionUser) -> Json<Me> {
    Json(Me::of(&session.user))
}

//! The API's errors: one table of stable codes, each with its HTTP status and whether
//! it is the caller's mistake (user) or ours (internal). Clients branch on `code`,
//! never on the message; messages say what went wrong and what to do.
//!
//! Every response body for an error is `{"error": {"code": "...", "message": "..."}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Who caused an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// The request was wrong; retrying it unchanged fails again.
    User,
    /// The server failed; the request may be fine.
    Internal,
}

/// A stable error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadRequest,
    Unauthenticated,
    Forbidden,
    PasswordChangeRequired,
    AccountLocked,
    NotFound,
    LimitExceeded,
    Internal,
}

/// One row of the error table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub status: u16,
    pub kind: ErrorKind,
    pub meaning: &'static str,
}

/// Every error code the API returns. docs/API.md prints the same table (a test keeps
/// them equal).
pub const ERROR_TABLE: &[(ErrorCode, ErrorInfo)] = &[
    (
        ErrorCode::BadRequest,
        ErrorInfo {
            code: "bad_request",
            status: 400,
            kind: ErrorKind::User,
            meaning: "a parameter is missing or malformed; the message names it",
        },
    ),
    (
        ErrorCode::Unauthenticated,
        ErrorInfo {
            code: "unauthenticated",
            status: 401,
            kind: ErrorKind::User,
            meaning: "no valid session: log in (sessions end after 30 minutes idle or 12 hours)",
        },
    ),
    (
        ErrorCode::Forbidden,
        ErrorInfo {
            code: "forbidden",
            status: 403,
            kind: ErrorKind::User,
            meaning: "the session's role may not do this",
        },
    ),
    (
        ErrorCode::PasswordChangeRequired,
        ErrorInfo {
            code: "password_change_required",
            status: 403,
            kind: ErrorKind::User,
            meaning: "the password was set by an administrator: choose your own (POST /api/auth/password) before anything else",
        },
    ),
    (
        ErrorCode::AccountLocked,
        ErrorInfo {
            code: "account_locked",
            status: 423,
            kind: ErrorKind::User,
            meaning: "too many failed logins: the account stays locked until an administrator unlocks it",
        },
    ),
    (
        ErrorCode::NotFound,
        ErrorInfo {
            code: "not_found",
            status: 404,
            kind: ErrorKind::User,
            meaning: "no such endpoint, dataset or object",
        },
    ),
    (
        ErrorCode::LimitExceeded,
        ErrorInfo {
            code: "limit_exceeded",
            status: 422,
            kind: ErrorKind::User,
            meaning: "a request limit (body size, time range, page size) was exceeded; the message gives the limit",
        },
    ),
    (
        ErrorCode::Internal,
        ErrorInfo {
            code: "internal",
            status: 500,
            kind: ErrorKind::Internal,
            meaning: "the server failed; the message says where; report it with the request",
        },
    ),
];

impl ErrorCode {
    /// This code's row of [`ERROR_TABLE`].
    pub fn info(self) -> ErrorInfo {
        ERROR_TABLE
            .iter()
            .find(|(c, _)| *c == self)
            .map(|(_, i)| *i)
            .unwrap_or(ErrorInfo {
                code: "internal",
                status: 500,
                kind: ErrorKind::Internal,
                meaning: "",
            })
    }
}

/// An error as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.info().code)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::Internal, e.to_string())
    }

    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, m)
    }

    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, m)
    }
}

/// The wire form of an error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable code from the error table.
    pub code: String,
    /// What went wrong and what to do.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let info = self.code.info();
        let status = StatusCode::from_u16(info.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: ErrorDetail {
                code: info.code.to_string(),
                message: self.message,
            },
        };
        (status, Json(body)).into_response()
    }
}

/// Engine errors: invalid input is the caller's, anything else ours.
impl From<sl_engine::EngineError> for ApiError {
    fn from(e: sl_engine::EngineError) -> Self {
        match e {
            sl_engine::EngineError::Invalid(m) => ApiError::bad_request(m),
            other => ApiError::internal(other),
        }
    }
}

/// A JSON request body whose mistakes answer in the API's error shape (`bad_request`,
/// naming what is wrong) instead of axum's plain-text rejections: a missing or other
/// `Content-Type`, a body that is not JSON, a missing or mistyped field.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(body)) => Ok(JsonBody(body)),
            Err(e) => Err(ApiError::bad_request(format!(
                "the request body must be JSON sent with Content-Type: application/json ({})",
                e.body_text()
            ))),
        }
    }
}

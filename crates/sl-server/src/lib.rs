//! Streetlight's HTTP API.
//!
//! The server owns the wire types (`serde` + OpenAPI schemas) and maps every failure to
//! one stable error code ([`error`]). Work that reads the store or runs analytics goes
//! to tokio's blocking pool ([`blocking`]), never onto the async workers that serve
//! requests.
//!
//! Architecture invariant: handlers never touch SQLite or run an analytic on an async
//! worker thread; they call [`blocking`].
//! Architecture invariant: the engine's and analytics' types are not `Serialize`; the
//! wire types live here (`api`).

pub mod admin;
pub mod api;
pub mod auth;
pub mod error;
pub mod reports;
pub mod ui;
pub mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;

pub use error::{ApiError, ErrorCode};

/// Largest request body accepted, bytes (logins and small JSON queries only).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store file; each blocking task opens its own connection (SQLite in WAL mode
    /// serves many readers at once).
    pub db: Arc<PathBuf>,
    /// Mark the session cookie `Secure` (browsers then send it over HTTPS only): on
    /// when a TLS proxy sits in front; off for plain HTTP on loopback.
    pub secure_cookies: bool,
}

/// The API's routes over a store file.
pub fn router(state: AppState) -> Router {
    api::routes()
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Runs `f` on tokio's blocking pool with a fresh store connection.
pub async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut sl_engine::SqliteStore) -> Result<T, ApiError> + Send + 'static,
{
    let db = state.db.clone();
    tokio::task::spawn_blocking(move || {
        let mut store = sl_engine::SqliteStore::open(&db).map_err(ApiError::internal)?;
        f(&mut store)
    })
    .await
    .map_err(|e| ApiError::internal(format!("a worker task failed: {e}")))?
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "the store {path} does not exist: ingest data first (streetlight ingest --db {path} ...)"
    )]
    NoStore { path: String },
    #[error("cannot listen on {addr}: {source} (is another server using the port? pass --addr)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves the API on `addr` until Ctrl-C.
pub async fn serve(db: PathBuf, addr: SocketAddr, secure_cookies: bool) -> Result<(), ServeError> {
    if !db.exists() {
        return Err(ServeError::NoStore {
            path: db.display().to_string(),
        });
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let app = router(AppState {
        db: Arc::new(db),
        secure_cookies,
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

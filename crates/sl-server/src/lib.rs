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
pub mod analytics;
pub mod api;
pub mod auth;
pub mod cache;
pub mod context;
pub mod error;
pub mod query;
pub mod reports;
pub mod ui;
pub mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

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
    /// Idle store connections, reused across requests.
    pub pool: Arc<Pool>,
    /// Answers of analysis endpoints ([`cache`]).
    pub cache: Arc<cache::Cache>,
}

impl AppState {
    /// A state over the store file `db`, with an empty pool and cache.
    pub fn new(db: PathBuf, secure_cookies: bool) -> Self {
        Self {
            db: Arc::new(db),
            secure_cookies,
            pool: Arc::new(Pool::default()),
            cache: Arc::new(cache::Cache::new(CACHE_BYTES)),
        }
    }
}

/// Largest total size of cached analysis answers, bytes.
pub const CACHE_BYTES: usize = 512 * 1024 * 1024;

/// Most idle connections kept.
const POOL_IDLE: usize = 32;

/// Store connections kept open between requests (opening one runs PRAGMAs and the
/// schema check).
#[derive(Default)]
pub struct Pool {
    idle: Mutex<Vec<sl_engine::SqliteStore>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").finish_non_exhaustive()
    }
}

impl Pool {
    fn take(&self, db: &std::path::Path) -> Result<sl_engine::SqliteStore, ApiError> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match idle {
            Some(store) => Ok(store),
            None => sl_engine::SqliteStore::open(db).map_err(ApiError::internal),
        }
    }

    fn give_back(&self, store: sl_engine::SqliteStore) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < POOL_IDLE {
            idle.push(store);
        }
    }
}

/// Serialises the server's own writes (audit records, session activity). SQLite takes
/// one writer at a time; without this, concurrent writers wait in SQLite's busy
/// handler, which sleeps in steps of milliseconds, instead of queueing here in
/// microseconds.
pub fn write_lock() -> MutexGuard<'static, ()> {
    static WRITES: Mutex<()> = Mutex::new(());
    WRITES.lock().unwrap_or_else(|p| p.into_inner())
}

/// The API's routes over a store file.
pub fn router(state: AppState) -> Router {
    api::routes()
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(api_headers))
        .with_state(state)
}

/// Headers on every `/api/` answer: never cached by browsers or proxies (answers hold
/// police data and depend on the session), never sniffed, no referrer.
async fn api_headers(
    uri: axum::http::Uri,
    mut r: axum::response::Response,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    if uri.path().starts_with("/api/") {
        let h = r.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    r
}

/// Runs `f` on tokio's blocking pool with a store connection from the pool.
pub async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut sl_engine::SqliteStore) -> Result<T, ApiError> + Send + 'static,
{
    let (db, pool) = (state.db.clone(), state.pool.clone());
    tokio::task::spawn_blocking(move || {
        let mut store = pool.take(&db)?;
        let result = f(&mut store);
        pool.give_back(store);
        result
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
    let app = router(AppState::new(db, secure_cookies));
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

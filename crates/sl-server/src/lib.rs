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
pub mod compress;
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
    /// A state over the store file `db`, with an empty pool and cache. Starts the
    /// pool's checkpoint thread ([`Pool`]), which ends once the state is dropped.
    pub fn new(db: PathBuf, secure_cookies: bool) -> Self {
        let db = Arc::new(db);
        Self {
            pool: Pool::start(&db),
            db,
            secure_cookies,
            cache: Arc::new(cache::Cache::new(CACHE_BYTES)),
        }
    }
}

/// Largest total size of cached analysis answers, bytes.
pub const CACHE_BYTES: usize = 512 * 1024 * 1024;

/// Most store connections open at once, and so most store tasks running at once.
const POOL_CONNECTIONS: usize = 16;

/// How often the checkpoint thread copies the write-ahead log into the store file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);
/// Most unlocked checkpoints in one round of the checkpoint thread.
const CHECKPOINT_ROUNDS: usize = 8;
/// Log pages left after the unlocked checkpoints that the locked one may copy.
const CHECKPOINT_LOCKED_PAGES: u64 = 256;

/// Store connections kept open between requests (opening one runs PRAGMAs and the
/// schema check, which writes), and the permits that bound how many store tasks run at
/// once: a burst of requests queues for a permit instead of starting a blocking thread
/// and opening a connection each.
///
/// Every request writes (session activity, its audit record), so the write-ahead log
/// grows all the time. SQLite's default is that the commit that takes the log past a
/// size copies it into the store file, with two `fsync`s, while every other request
/// waits to write behind it. Here a thread of the pool's own does that work instead:
/// every [`CHECKPOINT_EVERY`] it copies what it can while requests go on writing
/// (`SqliteStore::checkpoint`), then, holding [`write_lock`], copies the few pages
/// written meanwhile, so that the log is all in the store file and the next commit
/// starts it again from the beginning. The pool's connections do not checkpoint at
/// commit. The short locked step keeps the log from growing without bound under
/// sustained load.
pub struct Pool {
    idle: Mutex<Vec<sl_engine::SqliteStore>>,
    permits: Arc<tokio::sync::Semaphore>,
    /// The checkpoint thread runs: connections leave checkpoints to it.
    checkpointer: bool,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool over `db` and its checkpoint thread, which ends once the pool is dropped.
    /// Should the thread not start, connections checkpoint at commit as usual.
    fn start(db: &Arc<PathBuf>) -> Arc<Self> {
        Arc::new_cyclic(|pool: &std::sync::Weak<Pool>| {
            let (db, weak) = (db.clone(), pool.clone());
            let started = std::thread::Builder::new()
                .name("sl-checkpoint".into())
                .spawn(move || checkpoints(&db, &weak))
                .is_ok();
            Pool {
                idle: Mutex::default(),
                permits: Arc::new(tokio::sync::Semaphore::new(POOL_CONNECTIONS)),
                checkpointer: started,
            }
        })
    }

    fn take(&self, db: &std::path::Path) -> Result<sl_engine::SqliteStore, ApiError> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        if let Some(store) = idle {
            return Ok(store);
        }
        let store = {
            let _writes = write_lock();
            sl_engine::SqliteStore::open(db).map_err(ApiError::internal)?
        };
        // Short reads between other connections' writes: no memory map (the long reads
        // of analyses turn it on while they run).
        store.set_memory_map(false).map_err(ApiError::internal)?;
        if self.checkpointer {
            store
                .set_wal_upkeep_at_commit(false)
                .map_err(ApiError::internal)?;
        }
        Ok(store)
    }

    fn give_back(&self, store: sl_engine::SqliteStore) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < POOL_CONNECTIONS {
            idle.push(store);
        }
    }
}

/// The checkpoint thread of a pool ([`Pool`]): runs until the pool is dropped. A
/// failure is reported and retried at the next round with a new connection.
fn checkpoints(db: &std::path::Path, pool: &std::sync::Weak<Pool>) {
    let mut store: Option<sl_engine::SqliteStore> = None;
    loop {
        std::thread::sleep(CHECKPOINT_EVERY);
        if pool.strong_count() == 0 {
            return;
        }
        if store.is_none() {
            if !db.exists() {
                continue;
            }
            let _writes = write_lock();
            store = sl_engine::SqliteStore::open(db).ok();
        }
        let Some(s) = &store else { continue };
        let round = (|| {
            // Unlocked rounds while requests write; each leaves less for the next.
            let mut left = 0;
            for _ in 0..CHECKPOINT_ROUNDS {
                let (log, copied) = s.checkpoint()?;
                left = log - copied.min(log);
                if left <= CHECKPOINT_LOCKED_PAGES {
                    break;
                }
            }
            if left > 0 {
                let _writes = write_lock();
                s.checkpoint()?;
            }
            Ok::<(), sl_engine::StoreError>(())
        })();
        if let Err(e) = round {
            eprintln!("checkpoint of {} failed, retrying: {e}", db.display());
            store = None;
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
        .layer(axum::middleware::from_fn(same_origin_writes))
        .layer(axum::middleware::map_response(api_headers))
        .with_state(state)
}

/// Refuses a request that changes something (any method but GET, HEAD and OPTIONS) when
/// the browser says a page of another origin sent it: its `Origin` header names another
/// host and port than the request's `Host`, or is `null`. The session cookie is
/// `SameSite=Strict`, which keeps other *sites* out, but not another origin of the same
/// site (a sibling subdomain, another port on this host), and a form there can POST
/// without a preflight (OWASP CSRF cheat sheet: verify the origin with standard
/// headers). Clients other than browsers send no `Origin` and are not affected; a proxy
/// in front must pass the `Host` header on.
async fn same_origin_writes(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{Method, header};
    use axum::response::IntoResponse;
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let (false, Some(origin)) = (safe, req.headers().get(header::ORIGIN)) {
        let origin = origin.to_str().unwrap_or("(not text)");
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        let from = origin.split_once("://").map(|(_, rest)| rest);
        if from.is_none() || from != host {
            return ApiError::new(
                ErrorCode::Forbidden,
                format!(
                    "a page of another origin ({origin}) may not send {} requests to this server: use the dashboard itself, or a client that sends no Origin header",
                    req.method()
                ),
            )
            .into_response();
        }
    }
    next.run(req).await
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

/// Runs `f` on tokio's blocking pool with a store connection from the pool, once one of
/// the pool's permits is free (at most `POOL_CONNECTIONS` tasks at once).
pub async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut sl_engine::SqliteStore) -> Result<T, ApiError> + Send + 'static,
{
    let permit = state
        .pool
        .permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| ApiError::internal(format!("the store pool is closed: {e}")))?;
    run_blocking(state, Some(permit), f).await
}

/// [`blocking`] without a permit: for work that mostly waits on other work (a request
/// for an analysis being computed waits for its answer), which must not keep permits
/// from short requests meanwhile. Its connection goes back to the pool.
pub async fn blocking_unbounded<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut sl_engine::SqliteStore) -> Result<T, ApiError> + Send + 'static,
{
    run_blocking(state, None, f).await
}

async fn run_blocking<T, F>(
    state: &AppState,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    f: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut sl_engine::SqliteStore) -> Result<T, ApiError> + Send + 'static,
{
    let (db, pool) = (state.db.clone(), state.pool.clone());
    tokio::task::spawn_blocking(move || {
        // Held until the task ends, even when the request is dropped before.
        let _permit = permit;
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
    let state = AppState::new(db, secure_cookies);
    // The first page of the dashboard asks for the dataset list, which takes seconds
    // to build on a large store: build it now, while the first user signs in.
    let warm = state.clone();
    tokio::spawn(async move {
        if let Err(e) = api::warm_dataset_list(&warm).await {
            eprintln!("could not prepare the dataset list ({e}); it is built at the first request");
        }
    });
    let app = router(state);
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

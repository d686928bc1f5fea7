//! sl-server integration tests: a real server on loopback (one test binary).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use sl_server::error::ERROR_TABLE;
use sl_server::{AppState, router};

/// Starts the API over `db` on a free loopback port; returns its base URL.
async fn start(db: &Path) -> String {
    // Create the store's tables, as `ingest` would.
    sl_engine::SqliteStore::open(db).expect("store");
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = router(AppState {
        db: Arc::new(db.to_path_buf()),
    });
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    format!("http://{addr}")
}

async fn get(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json body"))
}

#[tokio::test]
async fn health_errors_openapi_and_datasets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = start(&dir.path().join("s.db")).await;

    let (status, health) = get(&format!("{base}/api/health")).await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");

    // The error table, served as it is in the code.
    let (_, table) = get(&format!("{base}/api/errors")).await;
    let codes: Vec<&str> = table
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["code"].as_str().expect("code"))
        .collect();
    assert_eq!(codes.len(), ERROR_TABLE.len());
    assert!(codes.contains(&"unauthenticated") && codes.contains(&"internal"));

    // OpenAPI 3, generated from the handlers, lists every route.
    let (_, doc) = get(&format!("{base}/api/openapi.json")).await;
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    for path in [
        "/api/health",
        "/api/errors",
        "/api/datasets",
        "/api/datasets/{name}",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from OpenAPI"
        );
    }

    let (status, list) = get(&format!("{base}/api/datasets")).await;
    assert_eq!(status, 200);
    assert_eq!(list, Value::Array(vec![]));

    // Errors have one shape and a stable code.
    let (status, e) = get(&format!("{base}/api/datasets/nowhere")).await;
    assert_eq!(status, 404);
    assert_eq!(e["error"]["code"], "not_found");
    assert!(
        e["error"]["message"]
            .as_str()
            .expect("message")
            .contains("GET /api/datasets")
    );
    let (status, e) = get(&format!("{base}/api/no-such-thing")).await;
    assert_eq!(status, 404);
    assert_eq!(e["error"]["code"], "not_found");
}

/// docs/API.md prints the error table; it must match the code's.
#[test]
fn docs_list_every_error_code() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/API.md"))
        .expect("docs/API.md");
    for (_, info) in ERROR_TABLE {
        let row = format!("| `{}` | {} | {:?} |", info.code, info.status, info.kind).to_lowercase();
        assert!(
            doc.to_lowercase().contains(&row),
            "docs/API.md lacks the row starting {row}"
        );
    }
}

/// The web UI is served from the binary: `/` is index.html with the content-security
/// policy, MapLibre's module worker is JavaScript, and unknown files are JSON 404s.
/// Without a built UI `/` says how to build it.
#[tokio::test]
async fn serves_the_embedded_ui() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = start(&dir.path().join("s.db")).await;
    let r = reqwest::get(format!("{base}/")).await.expect("request");
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.expect("text");
    if sl_server::ui::is_built() {
        assert!(
            html.contains("<script") && html.contains("app.js"),
            "{html}"
        );
        let w = reqwest::get(format!("{base}/maplibre-gl-worker.mjs"))
            .await
            .expect("request");
        assert_eq!(w.status().as_u16(), 200);
        assert!(
            w.headers()["content-type"]
                .to_str()
                .expect("type")
                .starts_with("text/javascript")
        );
        let csp = w.headers()["content-security-policy"]
            .to_str()
            .expect("csp");
        assert!(csp.contains("default-src 'self'"));
    } else {
        assert!(html.contains("make ui"), "{html}");
    }
    let (status, e) = get(&format!("{base}/nothing.js")).await;
    assert_eq!(status, 404);
    assert_eq!(e["error"]["code"], "not_found");
    assert_eq!(
        sl_server::ui::content_type("x.mjs"),
        "text/javascript; charset=utf-8"
    );
}

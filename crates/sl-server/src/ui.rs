//! The web UI, embedded at build time from `web/dist` (see `build.rs`): `/` serves
//! `index.html`, other paths their file, with a content type by extension and a strict
//! content-security policy (everything from this origin; the UI needs nothing else).

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

/// The policy the UI is built to run under (web/API.md).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";

/// Content type by file extension (`.mjs` is JavaScript: MapLibre's worker is a module).
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// Whether the UI was built into this binary.
pub fn is_built() -> bool {
    !UI_ASSETS.is_empty()
}

/// Serves an embedded file, or a page saying how to build the UI when it is missing.
pub async fn serve_asset(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    if !is_built() && path == "index.html" {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!doctype html><title>Streetlight</title><p>The web UI is not built into this binary: run <code>make ui</code> (or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>) and rebuild. The API is at <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p>",
        )
            .into_response();
    }
    match UI_ASSETS.iter().find(|(p, _)| *p == path) {
        Some((p, bytes)) => {
            let mut r = (
                StatusCode::OK,
                [(header::CONTENT_TYPE, content_type(p))],
                *bytes,
            )
                .into_response();
            r.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            );
            r.headers_mut().insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            r.headers_mut().insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            r
        }
        None => crate::error::ApiError::not_found(format!("no file /{path} in the web UI"))
            .into_response(),
    }
}

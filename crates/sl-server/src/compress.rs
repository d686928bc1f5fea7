//! Compressed answers: analysis answers are kept gzip-compressed beside the plain bytes
//! (compressed once, when first asked for) and sent compressed to clients that accept
//! gzip. A map layer of a big city is megabytes of GeoJSON that compress about
//! tenfold; every browser sends `Accept-Encoding: gzip`.

use std::convert::Infallible;
use std::io::Write as _;

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::error::ApiError;

/// Answers smaller than this go out as they are (compression would gain little).
pub const MIN_BYTES: usize = 1024;

/// Whether the request accepts gzip-compressed answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptsGzip(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for AcceptsGzip {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(AcceptsGzip(accepts_gzip(&parts.headers)))
    }
}

/// Whether `Accept-Encoding` (RFC 9110, section 12.5.3) lists `gzip`, or else `*`, with
/// a weight above zero.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut star = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let q = parts
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .map_or(1.0, |(_, v)| v.trim().parse::<f32>().unwrap_or(0.0));
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                return q > 0.0;
            }
            if coding == "*" {
                star = Some(q > 0.0);
            }
        }
    }
    star.unwrap_or(false)
}

/// `bytes` gzip-compressed (default level).
pub fn gzip(bytes: &[u8]) -> Result<Bytes, ApiError> {
    let mut e = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 8),
        flate2::Compression::default(),
    );
    e.write_all(bytes)
        .and_then(|()| e.finish())
        .map(Bytes::from)
        .map_err(|e| ApiError::internal(format!("compressing an answer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accepts(values: &[&'static str]) -> bool {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::ACCEPT_ENCODING, HeaderValue::from_static(v));
        }
        accepts_gzip(&h)
    }

    #[test]
    fn accept_encoding_is_read_with_weights() {
        assert!(accepts(&["gzip, deflate, br, zstd"]));
        assert!(accepts(&["br;q=1.0, GZIP;q=0.5"]));
        assert!(accepts(&["identity", "gzip"]));
        assert!(accepts(&["*"]));
        assert!(!accepts(&[]));
        assert!(!accepts(&["identity"]));
        assert!(!accepts(&["br, deflate"]));
        assert!(!accepts(&["gzip;q=0"]));
        assert!(
            !accepts(&["gzip; q=0.000, *"]),
            "an explicit refusal wins over *"
        );
        assert!(!accepts(&["*;q=0"]));
    }

    #[test]
    fn gzip_round_trips() {
        let text = "{\"type\":\"FeatureCollection\"}".repeat(100);
        let gz = gzip(text.as_bytes()).expect("gzip");
        assert!(gz.len() < text.len() / 5);
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out)
            .expect("gunzip");
        assert_eq!(out, text);
    }
}

//! `GET /assets/{file}`: the web UI's scripts, styles and icons from `<web dir>/assets/`.
//!
//! Fingerprinted files of a built web dir (listed in `manifest.json`) are cached forever
//! (`immutable`) and sent precompressed (`.br`, `.gz`) when the browser accepts it; anything
//! else — an unbuilt checkout — is revalidated on every use (`no-cache` with ETag/304).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::site::Site;
use sofathek_codes::Code;
use sofathek_http::error::ApiError;
use sofathek_http::serve_file::{ServeError, ServeOptions, serve_file};
use sofathek_http::state::AppState;

/// Cache policy of fingerprinted assets.
pub(crate) const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache policy of everything else: always revalidate.
pub(crate) const REVALIDATE: &str = "no-cache";

/// The content type of an asset and whether it is worth compressing; `None` for a type the
/// asset route does not serve.
fn asset_type(name: &str) -> Option<(&'static str, bool)> {
    let (_, ext) = name.rsplit_once('.')?;
    Some(match ext {
        "js" | "mjs" => ("text/javascript; charset=utf-8", true),
        "css" => ("text/css; charset=utf-8", true),
        "svg" => ("image/svg+xml", true),
        "json" | "map" => ("application/json", true),
        "webmanifest" => ("application/manifest+json", true),
        "txt" => ("text/plain; charset=utf-8", true),
        "png" => ("image/png", false),
        "ico" => ("image/x-icon", false),
        "webp" => ("image/webp", false),
        "woff2" => ("font/woff2", false),
        _ => return None,
    })
}

/// A single file name of ASCII letters, digits, `.`, `-` and `_`, not starting with a dot.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Whether an `Accept-Encoding` value allows `coding` (RFC 9110 §12.5.3: `q=0` refuses, `*`
/// stands for codings not listed).
pub(crate) fn accepts_encoding(accept: &str, coding: &str) -> bool {
    let mut wildcard = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let quality = parts
            .filter_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .or_else(|| p.trim().strip_prefix("Q="))
            })
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding) {
            return quality > 0.0;
        }
        if name == "*" {
            wildcard = Some(quality > 0.0);
        }
    }
    wildcard.unwrap_or(false)
}

fn not_found(name: &str) -> Response {
    ApiError::not_found(format!("Asset '{name}' not found")).into_response()
}

/// Serves one asset.
pub(crate) async fn serve(
    State(state): State<AppState>,
    Path(name): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let Some((content_type, compressible)) = asset_type(&name).filter(|_| valid_name(&name)) else {
        return not_found(&name);
    };
    let site = Site::for_config(&state.config);
    let lookup = site.clone();
    let manifest =
        match tokio::task::spawn_blocking(move || lookup.current().manifest.clone()).await {
            Ok(manifest) => manifest,
            Err(err) => return ApiError::internal(err).into_response(),
        };
    let dir = site.web_dir.join("assets");
    let fingerprinted = manifest.is_fingerprinted(&name);
    let negotiate = fingerprinted && compressible;
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut chosen = (dir.join(&name), None);
    if negotiate {
        for (coding, suffix) in [("br", "br"), ("gzip", "gz")] {
            let candidate = dir.join(format!("{name}.{suffix}"));
            if accepts_encoding(accept, coding)
                && tokio::fs::metadata(&candidate)
                    .await
                    .is_ok_and(|m| m.is_file())
            {
                chosen = (candidate, Some(coding));
                break;
            }
        }
    }
    let (path, coding) = chosen;
    let options = ServeOptions::new(content_type).cache_control(if fingerprinted {
        IMMUTABLE
    } else {
        REVALIDATE
    });
    let mut response = match serve_file(&method, &headers, &path, options).await {
        Ok(response) => response,
        Err(ServeError::NotFound | ServeError::NotAFile | ServeError::PermissionDenied) => {
            return not_found(&name);
        }
        Err(ServeError::MalformedRange) => {
            return ApiError::bad_request("Invalid range header format")
                .with_code(Code::InvalidRange)
                .into_response();
        }
        Err(err) => return ApiError::internal(err).into_response(),
    };
    let response_headers = response.headers_mut();
    if negotiate {
        response_headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if let Some(coding) = coding {
        if matches!(
            response.status(),
            StatusCode::OK | StatusCode::PARTIAL_CONTENT
        ) {
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let check = |accept: &str, coding: &str, expected: bool| {
            assert_eq!(
                accepts_encoding(accept, coding),
                expected,
                "{accept:?} {coding}"
            );
        };
        check("gzip, deflate, br, zstd", "br", true);
        check("gzip, deflate, br, zstd", "gzip", true);
        check("gzip", "br", false);
        check("", "gzip", false);
        check("br;q=0, gzip;q=0.5", "br", false);
        check("br;q=0, gzip;q=0.5", "gzip", true);
        check("*", "br", true);
        check("*;q=0", "gzip", false);
        check("BR", "br", true);
        check("identity, *;q=0", "gzip", false);
        check("gzip;q=1.0, *;q=0", "gzip", true);
    }

    #[test]
    fn names_and_types() {
        assert!(valid_name("app-1a2b.js"));
        assert!(!valid_name(".hidden.js"));
        assert!(!valid_name("../x.js"));
        assert!(!valid_name("a/b.js"));
        assert!(!valid_name("a%2f.js"));
        assert!(asset_type("app.js").is_some_and(|(t, c)| t.starts_with("text/javascript") && c));
        assert!(asset_type("icon.png").is_some_and(|(_, c)| !c));
        assert!(asset_type("app.js.br").is_none());
        assert!(asset_type("noext").is_none());
    }
}

//! The HTTP layer: the router (every route in one place), middleware and `serve`. The state
//! every handler gets ([`AppState`]) and the authorization layer live in `sofathek-http`, below
//! the handlers and the web pages, which depend on them and not on each other.

pub mod handlers;
pub mod openapi;
pub use sofathek_http::state::{AppState, Shared};
pub use sofathek_http::{auth, json, range, serve_file};

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use sofathek_codes::Code;
use sofathek_http::serve_file::{Listener, Peer};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Time allowed to produce a response head (streaming bodies are not limited by it).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest JSON or form body.
const BODY_LIMIT: usize = 1024 * 1024;

/// Every route of the service.
pub fn router(state: AppState) -> Router {
    use axum::routing::{delete, post, put};
    use handlers::{
        categories, events, files, health, jobs, library, meta, profiles, progress, session,
        sources, tokens, upload, videos, youtube,
    };

    let api = Router::new()
        .route("/api/health", get(health::report))
        .route("/api/health/live", get(health::live))
        .route("/api/videos", get(videos::list))
        .route(
            "/api/videos/{id}",
            get(videos::show)
                .patch(videos::update)
                .delete(videos::remove),
        )
        .route("/api/stream/{filename}", get(files::stream))
        .route("/api/download/{filename}", get(files::download))
        .route("/api/thumbnails/{filename}", get(files::thumbnail))
        .route(
            "/api/categories",
            get(categories::list).post(categories::create),
        )
        .route(
            "/api/categories/{slug}",
            axum::routing::patch(categories::rename).delete(categories::remove),
        )
        .route("/api/openapi.json", get(meta::openapi))
        .route("/api/jobs", get(jobs::list).post(jobs::create))
        .route("/api/jobs/{id}", get(jobs::show).delete(jobs::cancel))
        .route("/api/jobs/{id}/retry", post(jobs::retry))
        .route(
            "/api/library/scan",
            get(library::report).post(library::start),
        )
        .route("/api/events", get(events::stream))
        .route("/api/youtube/download", post(youtube::download))
        .route("/api/youtube/download/{id}", delete(youtube::cancel))
        .route("/api/youtube/download/{id}/status", get(youtube::status))
        .route(
            "/api/youtube/queue",
            get(youtube::queue).delete(youtube::clear),
        )
        .route("/api/youtube/queue/cleanup", post(youtube::cleanup))
        .route("/api/youtube/health", get(youtube::health))
        .route("/api/profiles", get(profiles::list).post(profiles::create))
        .route(
            "/api/profiles/{id}",
            axum::routing::patch(profiles::update).delete(profiles::remove),
        )
        .route(
            "/api/session",
            get(session::show)
                .post(session::create)
                .delete(session::remove),
        )
        .route("/api/setup", post(session::first_run))
        .route("/api/password", put(session::change_password))
        .route("/api/tokens", get(tokens::list).post(tokens::create))
        .route("/api/tokens/{id}", delete(tokens::revoke))
        .route("/api/sources", get(sources::list).post(sources::create))
        .route("/api/sources/pending", get(sources::pending))
        .route("/api/sources/pending/approve", post(sources::approve))
        .route("/api/sources/pending/reject", post(sources::reject))
        .route(
            "/api/sources/pending/{id}/thumbnail",
            get(sources::thumbnail),
        )
        .route(
            "/api/sources/{id}",
            get(sources::show)
                .patch(sources::update)
                .delete(sources::delete),
        )
        .route("/api/sources/{id}/check", post(sources::check))
        .route("/api/progress", get(progress::list))
        .route(
            "/api/progress/{id}",
            get(progress::show).put(progress::record),
        );

    // Layers are grouped with ServiceBuilder: axum boxes a route once per `Router::layer` call
    // and clones every box on every request, so one call per group keeps that to a few
    // allocations per request.

    // Uploads stream for as long as they take and are limited by SOFATHEK_MAX_UPLOAD_BYTES,
    // so they are merged after the body limit and the request timeout.
    let uploads = Router::new()
        .route("/api/videos/upload", post(upload::create))
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn_with_state(state.clone(), observe))
                // Refused before a byte of the body is read.
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    auth::authorize,
                ))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        );

    Router::new()
        .route("/health", get(health::report))
        .route("/health/", get(health::report))
        .route("/metrics", get(meta::metrics))
        .merge(api)
        .merge(sofathek_web::routes())
        .fallback(meta::not_found)
        .method_not_allowed_fallback(meta::method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    REQUEST_TIMEOUT,
                ))
                .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
                .layer(middleware::from_fn_with_state(state.clone(), observe))
                // Every route: who is asking, the route policy, same-origin and CSRF (see `auth`).
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    auth::authorize,
                )),
        )
        .merge(uploads)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, RequestIds::new()))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(SetSensitiveRequestHeadersLayer::new([
                    axum::http::header::AUTHORIZATION,
                    axum::http::header::COOKIE,
                ]))
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(header("x-frame-options", "DENY"))
                .layer(header("referrer-policy", "same-origin"))
                .layer(header("x-content-type-options", "nosniff"))
                .layer(header("content-security-policy", CSP)),
        )
        .with_state(state)
}

/// The span a request's log lines carry (method, path, request id). The file routes' span is
/// at debug level: a player asks for a video in many ranges, and formatting the span's fields
/// for the JSON log was the largest single cost of a range request in user space (~9k of ~63k
/// instructions, callgrind). Their warnings name the file, so at info level (production) they
/// lose only the request id; at debug level (development, staging) they keep it.
fn request_span(req: &Request) -> tracing::Span {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let (method, path) = (req.method(), req.uri().path());
    let file_route = ["/api/stream/", "/api/thumbnails/", "/api/download/"]
        .iter()
        .any(|prefix| path.starts_with(prefix));
    if file_route {
        tracing::debug_span!("request", method = %method, uri = %path, request_id = %id)
    } else {
        tracing::info_span!("request", method = %method, uri = %path, request_id = %id)
    }
}

/// Request ids for requests without one: a random per-process prefix and a counter, unique
/// across restarts without a random-number syscall per request.
#[derive(Clone)]
struct RequestIds {
    prefix: u64,
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    fn new() -> RequestIds {
        let mut bytes = [0u8; 8];
        // Without randomness the ids are still unique within the process.
        let _ = getrandom::fill(&mut bytes);
        RequestIds {
            prefix: u64::from_le_bytes(bytes) >> 16,
            next: Arc::new(std::sync::atomic::AtomicU64::new(1)),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        HeaderValue::from_str(&format!("{:012x}-{n:08x}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

const CSP: &str = "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; \
    script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

fn header(name: &'static str, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    )
}

/// Records each request's duration and status in the metrics, and gives the API's plain-text
/// rejections (from extractors and body limits) the JSON error envelope.
///
/// Both happen in this one middleware because every middleware layer costs a boxed future and
/// a boxed service clone per request, which a 64 KiB range request notices.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let began = Instant::now();
    let method = req.method().clone();
    // MatchedPath is an Arc<str> inside: cloning it does not copy the route.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(req).await;
    if route
        .as_ref()
        .is_some_and(|r| r.as_str().starts_with("/api/"))
    {
        response = json_rejections(response).await;
    }
    if method != Method::OPTIONS {
        state.metrics.observe_request(
            method.as_str(),
            route.as_ref().map_or("unmatched", MatchedPath::as_str),
            response.status().as_u16(),
            began.elapsed(),
        );
    }
    response
}

/// Serves `router(state)` on `listener` until `shutdown` resolves, then lets in-flight
/// requests finish. The ingest workers run while it serves: they are started here (if not yet)
/// and stopped at the end (running jobs go back to the queue); event streams end at `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    state.ingest.start();
    let ingest = state.ingest.clone();
    let closing = ingest.closing();
    let purging = tokio::spawn(close_expired_files(state.clone()));
    let app = router(state);
    // The listener's connections send file bodies with sendfile (sofathek_http::serve_file).
    let result = axum::serve(
        Listener(listener),
        app.into_make_service_with_connect_info::<Peer>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        closing.cancel();
    })
    .await;
    purging.abort();
    ingest.shutdown().await;
    result
}

/// Closes the files [`Shared::files`] holds once they may no longer be used, so that a
/// deleted video's disk space is freed within a second or two even if nobody asks for a file.
async fn close_expired_files(state: AppState) {
    let mut every = tokio::time::interval(sofathek_core::memo::MAX_AGE);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        state.files.purge(state.db.generation());
    }
}

/// Rewrites a plain-text error that an extractor produced before a handler ran (a path segment
/// that is not UTF-8, a query or form that does not parse, ...) as the API's JSON envelope, so
/// that every `/api` error has the same shape. Handler errors are JSON already and pass as they
/// are; the text of a rejection is at most a few hundred bytes.
async fn json_rejections(response: Response) -> Response {
    let status = response.status();
    let plain_text = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    if !plain_text || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .unwrap_or_default();
    let message = String::from_utf8_lossy(&text).trim().to_owned();
    let message = if message.is_empty() || status.is_server_error() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        message
    };
    let code = if status == StatusCode::BAD_REQUEST {
        Code::BadRequest
    } else {
        Code::Rejected
    };
    let mut json = ApiError::new(status, message)
        .with_code(code)
        .into_response();
    parts.headers.remove(axum::http::header::CONTENT_TYPE);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    json.headers_mut().extend(parts.headers);
    json
}

/// Converts an unexpected status from a layer (timeout, body limit) into the JSON envelope.
pub fn status_error(status: StatusCode) -> Response {
    ApiError::new(status, status.canonical_reason().unwrap_or("error")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file routes' span is debug level (not built under production's info filter); every
    /// other route's is info level, with the request id either way.
    #[test]
    fn file_routes_have_a_debug_span() {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(std::io::sink)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let level = |path: &str| {
                let request = Request::builder()
                    .uri(path)
                    .header(&REQUEST_ID, "r-1")
                    .body(axum::body::Body::empty())
                    .expect("request");
                let span = request_span(&request);
                let metadata = span.metadata().expect("an enabled span");
                assert!(metadata.fields().field("request_id").is_some());
                *metadata.level()
            };
            for path in [
                "/api/stream/a.mp4",
                "/api/thumbnails/a.jpg",
                "/api/download/a.mp3",
            ] {
                assert_eq!(level(path), tracing::Level::DEBUG, "{path}");
            }
            for path in ["/api/videos", "/api/streams", "/", "/watch/x"] {
                assert_eq!(level(path), tracing::Level::INFO, "{path}");
            }
        });
    }
}

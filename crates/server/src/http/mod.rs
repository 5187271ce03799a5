//! The HTTP layer: the router (every route in one place), middleware and `serve`. The state
//! every handler gets ([`AppState`]) and the authorization layer live in `sofathek-http`, below
//! the handlers and the web pages, which depend on them and not on each other.

pub mod frame;
pub mod handlers;
pub mod openapi;
pub use sofathek_http::state::{AppState, Shared};
pub use sofathek_http::{auth, json, range, serve_file};

use std::future::Future;
use std::time::{Duration, Instant};

use axum::Router;
use axum::ServiceExt as _;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::{Layer, ServiceBuilder};

use crate::error::ApiError;
use sofathek_codes::Code;
use sofathek_http::serve_file::{Listener, Peer};

/// Time allowed to produce a response head (streaming bodies are not limited by it).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest JSON or form body.
const BODY_LIMIT: usize = 1024 * 1024;

/// Every route of the service, in its frame (request id, span, security headers: `frame`).
pub fn router(state: AppState) -> frame::Frame<Router> {
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
                // Authorized (and refused) before a byte of the body is read.
                .layer(middleware::from_fn_with_state(state.clone(), observe))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        );

    let app = Router::new()
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
                .layer(middleware::from_fn_with_state(state.clone(), observe)),
        )
        .merge(uploads)
        .with_state(state);
    // Around the router rather than through `Router::layer`, which would wrap (and box) each
    // route: the frame is one layer, once per request.
    frame::FrameLayer::default().layer(app)
}

/// Every route's middleware: authorizes the request (`auth::authorize`: who is asking, the
/// route policy, same-origin and CSRF), records its duration and status in the metrics, and
/// gives the API's plain-text rejections (from extractors and body limits) the JSON error
/// envelope.
///
/// All in this one middleware because every middleware layer costs a boxed future and a boxed
/// service clone per request, which a 64 KiB range request notices.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let began = Instant::now();
    let method = req.method().clone();
    // MatchedPath is an Arc<str> inside: cloning it does not copy the route.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let mut response = auth::authorize(State(state.clone()), req, next).await;
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

//! HTTP layer: application state, the router (every route in one place), middleware and `serve`.

pub mod auth;
pub mod handlers;
pub mod json;
pub mod openapi;
pub mod range;
pub mod serve_file;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::db::Db;
use crate::error::ApiError;
use crate::health::ToolCache;
use crate::library::Layout;
use crate::metrics::Metrics;

/// Everything a handler may use, passed explicitly.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub layout: Layout,
    pub metrics: Arc<Metrics>,
    pub tools: Arc<ToolCache>,
    pub events: crate::events::Events,
    /// The ingest pipeline (job queue and workers).
    pub ingest: crate::ingest::Ingest,
    /// Sign-in throttle and password hashing.
    pub auth: Arc<crate::auth::Auth>,
    pub started: Instant,
}

impl AppState {
    /// Opens the database in the data directory and creates the layout; applies
    /// `SOFATHEK_ADMIN_PASSWORD_FILE` when it is set.
    pub fn open(config: Config) -> anyhow::Result<AppState> {
        let layout = Layout::new(&config.data_path);
        layout.create_dirs()?;
        let db = Db::open(&layout.database)?;
        if let Some(path) = &config.admin_password_file {
            crate::auth::apply_password_file(&db, path)?;
        }
        let config = Arc::new(config);
        let metrics = Arc::new(Metrics::new());
        let events = crate::events::Events::new();
        let ingest = crate::ingest::Ingest::new(
            config.clone(),
            db.clone(),
            layout.clone(),
            events.clone(),
            metrics.clone(),
        )?;
        Ok(AppState {
            config,
            db,
            layout,
            metrics,
            tools: Arc::new(ToolCache::default()),
            events,
            ingest,
            auth: crate::auth::Auth::new(),
            started: Instant::now(),
        })
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Time allowed to produce a response head (streaming bodies are not limited by it).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest JSON or form body.
const BODY_LIMIT: usize = 1024 * 1024;

/// Every route of the service.
pub fn router(state: AppState) -> Router {
    use axum::routing::{delete, post, put};
    use handlers::{
        categories, events, files, health, jobs, meta, profiles, progress, session, tokens, upload,
        videos, youtube,
    };

    let api = Router::new()
        .route("/health", get(health::report))
        .route("/health/live", get(health::live))
        .route("/videos", get(videos::list))
        .route(
            "/videos/{id}",
            get(videos::show)
                .patch(videos::update)
                .delete(videos::remove),
        )
        .route("/stream/{filename}", get(files::stream))
        .route("/download/{filename}", get(files::download))
        .route("/thumbnails/{filename}", get(files::thumbnail))
        .route(
            "/categories",
            get(categories::list).post(categories::create),
        )
        .route(
            "/categories/{slug}",
            axum::routing::patch(categories::rename).delete(categories::remove),
        )
        .route("/openapi.json", get(meta::openapi))
        .route("/jobs", get(jobs::list).post(jobs::create))
        .route("/jobs/{id}", get(jobs::show).delete(jobs::cancel))
        .route("/jobs/{id}/retry", post(jobs::retry))
        .route("/events", get(events::stream))
        .route("/youtube/download", post(youtube::download))
        .route("/youtube/download/{id}", delete(youtube::cancel))
        .route("/youtube/download/{id}/status", get(youtube::status))
        .route("/youtube/queue", get(youtube::queue).delete(youtube::clear))
        .route("/youtube/queue/cleanup", post(youtube::cleanup))
        .route("/youtube/health", get(youtube::health))
        .route("/profiles", get(profiles::list).post(profiles::create))
        .route(
            "/profiles/{id}",
            axum::routing::patch(profiles::update).delete(profiles::remove),
        )
        .route(
            "/session",
            get(session::show)
                .post(session::create)
                .delete(session::remove),
        )
        .route("/setup", post(session::first_run))
        .route("/password", put(session::change_password))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", delete(tokens::revoke))
        .route("/progress", get(progress::list))
        .route("/progress/{id}", get(progress::show).put(progress::record))
        .layer(middleware::map_response(json_rejections));

    // Uploads stream for as long as they take and are limited by SOFATHEK_MAX_UPLOAD_BYTES,
    // so they are merged after the body limit and the request timeout.
    let uploads = Router::new()
        .route("/api/videos/upload", post(upload::create))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(middleware::map_response(json_rejections))
        // Refused before a byte of the body is read.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), observe));

    Router::new()
        .route("/health", get(health::report))
        .route("/health/", get(health::report))
        .route("/metrics", get(meta::metrics))
        .nest("/api", api)
        .merge(crate::web::routes())
        .fallback(meta::not_found)
        .method_not_allowed_fallback(meta::method_not_allowed)
        // Every route: who is asking, the route policy, same-origin and CSRF (see `auth`).
        .layer(middleware::from_fn_with_state(state.clone(), auth::authorize))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .merge(uploads)
        .layer(header("content-security-policy", CSP))
        .layer(header("x-content-type-options", "nosniff"))
        .layer(header("referrer-policy", "same-origin"))
        .layer(header("x-frame-options", "DENY"))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let id = req
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(SetSensitiveRequestHeadersLayer::new([
            axum::http::header::AUTHORIZATION,
            axum::http::header::COOKIE,
        ]))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
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

/// Records each request's duration and status in the metrics.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let began = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(req).await;
    if method != Method::OPTIONS {
        state.metrics.observe_request(
            method.as_str(),
            &route,
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
    let app = router(state);
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        closing.cancel();
    })
    .await;
    ingest.shutdown().await;
    result
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
        "BAD_REQUEST"
    } else {
        "REJECTED"
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

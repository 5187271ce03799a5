//! `/api/jobs`: the ingest queue — list, show, create (URL), cancel, retry.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::{ApiError, ErrorBody, ok, ok_with};
use crate::http::AppState;
use crate::http::json::JsonBody;
use sofathek_db::jobs::Order;
use sofathek_ingest::view::{JobList, JobView};
use sofathek_ingest::{IngestError, UrlRequest};

pub use sofathek_http::auth::ClientIp;

/// Turns an ingest refusal into a response; a rate-limit refusal carries `Retry-After`.
pub fn refusal(err: IngestError) -> Response {
    let retry_after = match &err {
        IngestError::RateLimited { retry_after } => Some(*retry_after),
        _ => None,
    };
    let mut response = ApiError::from(err).into_response();
    if let Some(seconds) = retry_after {
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Job '{id}' not found"))
}

/// Maps "no such job" to a 404 naming the id.
fn job_error(id: &str, err: IngestError) -> Response {
    match err {
        IngestError::NotFound => not_found(id).into_response(),
        IngestError::WrongState(state) => {
            ApiError::conflict(format!("Job '{id}' is {}", state.as_str())).into_response()
        }
        other => refusal(other),
    }
}

/// Lists every job, newest first, with counts per state.
#[utoipa::path(get, path = "/api/jobs", tag = "jobs",
    responses((status = 200, description = "every job, newest first, and the counts per state", body = JobList)))]
pub async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let jobs = state.ingest.list(None, Order::NewestFirst).await?;
    let counts = state.ingest.counts(None).await?;
    Ok(ok(JobList {
        jobs: jobs.iter().map(JobView::new).collect(),
        counts,
    })
    .into_response())
}

/// One job.
#[utoipa::path(get, path = "/api/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, description = "the job", body = JobView),
              (status = 404, description = "no such job", body = ErrorBody)))]
pub async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.ingest.get(&id).await {
        Ok(job) => ok(JobView::new(&job)).into_response(),
        Err(err) => job_error(&id, err),
    }
}

/// A URL to download.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewUrlJob {
    /// http(s) URL of a video or a page with one.
    #[schema(schema_with = sofathek_http::schema::url, required = true)]
    pub url: Option<String>,
    /// Category slug for the video.
    pub category: Option<String>,
    /// Title to use instead of the site's (empty: the site's).
    #[schema(schema_with = optional_title)]
    pub title: Option<String>,
    /// Also make an MP3 copy of the sound track.
    #[serde(default)]
    pub audio: bool,
}

/// A title as the pipeline accepts it: up to 300 characters, empty or `null` for the site's.
pub fn optional_title() -> utoipa::openapi::schema::Object {
    sofathek_http::schema::text(
        sofathek_ingest::MAX_TITLE_CHARS,
        sofathek_http::schema::Presence::EmptyOrNull,
    )
}

/// Queues a URL download.
#[utoipa::path(post, path = "/api/jobs", tag = "jobs", request_body = NewUrlJob,
    responses((status = 202, description = "the queued job", body = JobView),
              (status = 400, description = "missing or refused URL, unknown category", body = ErrorBody),
              (status = 422, description = "blocked by the content policy (VIDEO_BLOCKED_BY_POLICY)", body = ErrorBody),
              (status = 429, description = "rate limited (Retry-After)", body = ErrorBody),
              (status = 507, description = "not enough free disk space", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    JsonBody(body): JsonBody<NewUrlJob>,
) -> Response {
    let request = UrlRequest {
        url: body.url,
        title: body.title,
        category: body.category,
        audio: body.audio,
    };
    match state.ingest.submit_url(request, client).await {
        Ok(job) => ok_with(StatusCode::ACCEPTED, JobView::new(&job)),
        Err(err) => refusal(err),
    }
}

/// Cancels a queued or running job (its processes are killed and its staging cleaned when
/// this returns); cancelling a cancelled job is a no-op.
#[utoipa::path(delete, path = "/api/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, description = "the cancelled job", body = JobView),
              (status = 404, description = "no such job", body = ErrorBody),
              (status = 409, description = "the job already completed or failed", body = ErrorBody)))]
pub async fn cancel(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.ingest.cancel(&id).await {
        Ok(cancelled) => ok(JobView::new(&cancelled.job)).into_response(),
        Err(err) => job_error(&id, err),
    }
}

/// Queues a failed or cancelled job again.
#[utoipa::path(post, path = "/api/jobs/{id}/retry", tag = "jobs",
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, description = "the queued job", body = JobView),
              (status = 404, description = "no such job", body = ErrorBody),
              (status = 409, description = "the job is not failed or cancelled", body = ErrorBody)))]
pub async fn retry(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.ingest.retry(&id).await {
        Ok(job) => ok(JobView::new(&job)).into_response(),
        Err(err) => job_error(&id, err),
    }
}

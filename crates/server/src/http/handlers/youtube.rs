//! `/api/youtube/*`: the original download queue API (original §1.6), mapped onto URL jobs with
//! the original's shapes, messages and status codes.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ErrorBody, ok, ok_with};
use crate::http::AppState;
use crate::http::handlers::jobs::{ClientIp, refusal};
use sofathek_codes::Code;
use sofathek_db::jobs::{JobKind, JobState, Order};
use sofathek_ingest::view::{QueueItem, QueueListingItem, StatusItem};
use sofathek_ingest::{IngestError, UrlRequest};

/// Default of `maxAgeHours` for the queue clean-up.
/// `POST /api/youtube/download`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Queued {
    pub queue_item: QueueItem,
    /// `Video added to download queue`.
    pub message: &'static str,
}

/// `GET /api/youtube/queue`: the URL downloads, oldest first, and counts per original status.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueListing {
    pub total_items: u64,
    pub processing: u64,
    pub completed: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub pending: u64,
    pub items: Vec<QueueListingItem>,
    /// The newest change of an item (now, without items).
    pub last_updated: String,
}

/// `DELETE /api/youtube/download/{id}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueItemCancelled {
    pub message: &'static str,
    pub queue_item_id: String,
}

/// `POST /api/youtube/queue/cleanup`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueCleaned {
    pub message: String,
    pub cleaned_count: usize,
    /// The age asked for, as sent (24 by default).
    #[schema(value_type = f64, minimum = 0)]
    pub max_age_hours: Value,
}

/// `DELETE /api/youtube/queue`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueCleared {
    pub message: String,
    pub removed_count: usize,
    pub cancelled_processing_count: usize,
}

/// `GET /api/youtube/health`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct YoutubeHealth {
    /// `youtube-integration`.
    pub service: &'static str,
    /// `healthy`.
    pub status: &'static str,
    pub timestamp: String,
    pub queue: YoutubeQueueCounts,
}

/// The URL downloads per state, as the original's health route counted them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct YoutubeQueueCounts {
    pub total_items: u64,
    pub processing: u64,
    pub pending: u64,
}

const DEFAULT_MAX_AGE_HOURS: f64 = 24.0;
/// Largest accepted `maxAgeHours` (about 1,000 years).
const MAX_AGE_HOURS_LIMIT: f64 = 1e7;

/// Parses an optional JSON object body; an empty body is an empty object (a body of only
/// white space is not JSON, as the original's parser said too).
fn json_object(body: &Bytes) -> Result<serde_json::Map<String, Value>, ApiError> {
    if body.is_empty() {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(
            ApiError::bad_request("Invalid JSON body: expected an object")
                .with_code(Code::InvalidJson),
        ),
        Err(err) => Err(ApiError::bad_request(format!("Malformed JSON body: {err}"))
            .with_code(Code::InvalidJson)),
    }
}

/// Queues a download: `{url, title?}` → 201 `{queueItem, message}`.
#[utoipa::path(post, path = "/api/youtube/download", tag = "youtube",
    request_body(content = serde_json::Value, description = "`{url, title?}`", content_type = "application/json"),
    responses((status = 201, description = "the queue item", body = Queued),
              (status = 400, description = "Video URL is required / Invalid video URL format", body = ErrorBody),
              (status = 422, description = "blocked by the content policy", body = ErrorBody),
              (status = 429, description = "rate limited (Retry-After)", body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> Response {
    let fields = match json_object(&body) {
        Ok(fields) => fields,
        Err(err) => return err.into_response(),
    };
    let url = match fields.get("url") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        // A non-string URL is not a URL (the original's validator refused it).
        Some(_) => {
            return match state.ingest.check_rate(client) {
                Ok(()) => ApiError::bad_request("Invalid video URL format")
                    .with_code(Code::UrlMalformed)
                    .into_response(),
                Err(err) => refusal(err),
            };
        }
    };
    let title = fields
        .get("title")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let category = fields
        .get("category")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let audio = fields
        .get("audio")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let request = UrlRequest {
        url,
        title,
        category,
        audio,
    };
    match state.ingest.submit_url(request, client).await {
        Ok(job) => ok_with(
            StatusCode::CREATED,
            Queued {
                queue_item: QueueItem::new(&job),
                message: "Video added to download queue",
            },
        ),
        Err(err) => refusal(err),
    }
}

/// The queue: counts and every download in insertion order.
#[utoipa::path(get, path = "/api/youtube/queue", tag = "youtube",
    responses((status = 200, description = "the URL downloads, oldest first, with counts", body = QueueListing)))]
pub async fn queue(State(state): State<AppState>) -> Result<Response, ApiError> {
    let jobs = state
        .ingest
        .list(Some(JobKind::Url), Order::OldestFirst)
        .await?;
    let counts = state.ingest.counts(Some(JobKind::Url)).await?;
    let last_updated = jobs
        .iter()
        .map(|j| j.updated_at.as_str())
        .max()
        .map(str::to_owned)
        .unwrap_or_else(sofathek_db::now);
    Ok(ok(QueueListing {
        total_items: counts.total(),
        processing: counts.running,
        completed: counts.completed,
        failed: counts.failed,
        cancelled: counts.cancelled,
        pending: counts.queued,
        items: jobs.iter().map(QueueListingItem::new).collect(),
        last_updated,
    })
    .into_response())
}

/// One download's status (with diagnostics when it failed).
#[utoipa::path(get, path = "/api/youtube/download/{id}/status", tag = "youtube",
    params(("id" = String, Path, description = "queue item (job) id")),
    responses((status = 200, description = "the queue item", body = StatusItem),
              (status = 404, description = "Download with ID '<id>' not found", body = ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    match state.ingest.get(&id).await {
        Ok(job) if job.kind == JobKind::Url => Ok(ok(StatusItem::new(&job)).into_response()),
        Ok(_) | Err(IngestError::NotFound) => Err(ApiError::not_found(format!(
            "Download with ID '{id}' not found"
        ))),
        Err(err) => Err(err.into()),
    }
}

/// Cancels a download (its yt-dlp and ffmpeg processes are killed).
#[utoipa::path(delete, path = "/api/youtube/download/{id}", tag = "youtube",
    params(("id" = String, Path, description = "queue item (job) id")),
    responses((status = 200, description = "cancelled (or already cancelled)", body = QueueItemCancelled),
              (status = 400, description = "the download failed", body = ErrorBody),
              (status = 404, description = "not in the queue", body = ErrorBody),
              (status = 409, description = "the download already completed", body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found(format!("Download with ID '{id}' not found in queue."));
    match state.ingest.get(&id).await {
        Ok(job) if job.kind == JobKind::Url => {}
        Ok(_) | Err(IngestError::NotFound) => return Err(not_found()),
        Err(err) => return Err(err.into()),
    }
    match state.ingest.cancel(&id).await {
        Ok(cancelled) => {
            let message = if cancelled.already {
                "Download was already cancelled"
            } else {
                "Download cancelled successfully"
            };
            Ok(ok(QueueItemCancelled {
                message,
                queue_item_id: id,
            })
            .into_response())
        }
        Err(IngestError::NotFound) => Err(not_found()),
        Err(IngestError::WrongState(JobState::Completed)) => Err(ApiError::conflict(format!(
            "Cannot cancel download '{id}' - it has already completed."
        ))),
        Err(IngestError::WrongState(_)) => Err(ApiError::bad_request(format!(
            "Could not cancel download with ID '{id}': error"
        ))
        .with_code(Code::CancelFailed)),
        Err(err) => Err(err.into()),
    }
}

/// Removes finished downloads older than `maxAgeHours` (default 24; must be a number ≥ 0).
#[utoipa::path(post, path = "/api/youtube/queue/cleanup", tag = "youtube",
    request_body(content = serde_json::Value, description = "`{maxAgeHours?: number}` (default 24)", content_type = "application/json"),
    responses((status = 200, description = "how many old items were removed", body = QueueCleaned),
              (status = 400, description = "maxAgeHours is not a non-negative number", body = ErrorBody)))]
pub async fn cleanup(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let fields = json_object(&body)?;
    let hours = match fields.get("maxAgeHours") {
        None | Some(Value::Null) => DEFAULT_MAX_AGE_HOURS,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(h) if h.is_finite() && h >= 0.0 => h.min(MAX_AGE_HOURS_LIMIT),
            _ => return Err(invalid_max_age()),
        },
        Some(_) => return Err(invalid_max_age()),
    };
    let cleaned = state
        .ingest
        .cleanup(Some(JobKind::Url), Duration::from_secs_f64(hours * 3600.0))
        .await?;
    let shown = fields
        .get("maxAgeHours")
        .filter(|v| v.is_number())
        .cloned()
        .unwrap_or(json!(DEFAULT_MAX_AGE_HOURS as u64));
    Ok(ok(QueueCleaned {
        message: format!("Cleaned up {cleaned} old queue items"),
        cleaned_count: cleaned,
        max_age_hours: shown,
    })
    .into_response())
}

fn invalid_max_age() -> ApiError {
    ApiError::bad_request("maxAgeHours must be a non-negative number")
        .with_code(Code::InvalidMaxAge)
}

/// Cancels running downloads (killing their processes) and empties the queue; library files
/// stay.
#[utoipa::path(delete, path = "/api/youtube/queue", tag = "youtube",
    responses((status = 200, description = "how many items were removed and running downloads cancelled", body = QueueCleared)))]
pub async fn clear(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (removed, cancelled) = state.ingest.clear(JobKind::Url).await?;
    Ok(ok(QueueCleared {
        message: format!("Cleared {removed} queue items"),
        removed_count: removed,
        cancelled_processing_count: cancelled,
    })
    .into_response())
}

/// The original's integration health: always healthy, with queue figures.
#[utoipa::path(get, path = "/api/youtube/health", tag = "youtube",
    responses((status = 200, description = "the integration's health and queue counts", body = YoutubeHealth)))]
pub async fn health(State(state): State<AppState>) -> Result<Response, ApiError> {
    let counts = state.ingest.counts(Some(JobKind::Url)).await?;
    Ok(ok(YoutubeHealth {
        service: "youtube-integration",
        status: "healthy",
        timestamp: sofathek_db::now(),
        queue: YoutubeQueueCounts {
            total_items: counts.total(),
            processing: counts.running,
            pending: counts.queued,
        },
    })
    .into_response())
}

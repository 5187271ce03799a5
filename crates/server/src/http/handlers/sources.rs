//! `/api/sources`: channels, playlists and feeds a parent follows — list, add, show, change,
//! delete, "check now" — and the "to approve" list of their new entries (approve or reject in
//! bulk, thumbnails). Parent-only (`sofathek_http::auth::need`). The rules live in
//! `sofathek_ingest::sources`.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::jobs::refusal;
use crate::error::{ApiError, ErrorBody, ok, ok_with};
use crate::http::AppState;
use crate::http::json::JsonBody;
use sofathek_ingest::sources::SourceRequest;
use sofathek_ingest::view::{JobView, SourceEntryView, SourceView};

fn view(state: &AppState, source: &sofathek_db::sources::SourceRecord) -> SourceView {
    SourceView::new(source, state.ingest.is_checking(&source.id))
}

/// `GET /api/sources`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceList {
    pub sources: Vec<SourceView>,
}

/// `DELETE /api/sources/{id}`: the id of the source no longer followed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceDeleted {
    pub deleted: String,
}

/// `GET /api/sources/pending`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PendingList {
    pub entries: Vec<SourceEntryView>,
}

/// `POST /api/sources/pending/approve`: the entries became these download jobs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Approved {
    #[schema(minimum = 1)]
    pub approved: usize,
    pub jobs: Vec<JobView>,
}

/// `POST /api/sources/pending/reject`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Rejected {
    #[schema(minimum = 1)]
    pub rejected: usize,
}

/// Every source, by name.
#[utoipa::path(get, path = "/api/sources", tag = "sources",
    responses((status = 200, description = "every source, by name", body = SourceList)))]
pub async fn list(State(state): State<AppState>) -> Response {
    match state.ingest.sources().await {
        Ok(sources) => ok(SourceList {
            sources: sources.iter().map(|s| view(&state, s)).collect(),
        })
        .into_response(),
        Err(err) => refusal(err),
    }
}

/// Follows a channel, playlist or feed; its first check runs right away, in the background.
#[utoipa::path(post, path = "/api/sources", tag = "sources", request_body = serde_json::Value,
    responses((status = 201, description = "the source", body = SourceView),
              (status = 400, description = "missing or refused URL, invalid settings, unknown category", body = ErrorBody),
              (status = 409, description = "the URL is already followed (SOURCE_EXISTS)", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<SourceRequest>,
) -> Response {
    match state.ingest.add_source(body).await {
        Ok(source) => ok_with(StatusCode::CREATED, view(&state, &source)),
        Err(err) => refusal(err),
    }
}

/// One source.
#[utoipa::path(get, path = "/api/sources/{id}", tag = "sources",
    params(("id" = String, Path, description = "source id")),
    responses((status = 200, description = "the source", body = SourceView),
              (status = 404, description = "no such source", body = ErrorBody)))]
pub async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.ingest.source(&id).await {
        Ok(source) => ok(view(&state, &source)).into_response(),
        Err(err) => refusal(err),
    }
}

/// Changes a source's settings: absent fields stay, `null` clears or resets a field.
#[utoipa::path(patch, path = "/api/sources/{id}", tag = "sources", request_body = serde_json::Value,
    params(("id" = String, Path, description = "source id")),
    responses((status = 200, description = "the source", body = SourceView),
              (status = 400, description = "invalid settings, a new URL, unknown category", body = ErrorBody),
              (status = 404, description = "no such source", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SourceRequest>,
) -> Response {
    match state.ingest.update_source(&id, body).await {
        Ok(source) => ok(view(&state, &source)).into_response(),
        Err(err) => refusal(err),
    }
}

/// Stops following a source; its videos and jobs stay.
#[utoipa::path(delete, path = "/api/sources/{id}", tag = "sources",
    params(("id" = String, Path, description = "source id")),
    responses((status = 200, description = "the id of the source no longer followed", body = SourceDeleted),
              (status = 404, description = "no such source", body = ErrorBody)))]
pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.ingest.delete_source(&id).await {
        Ok(()) => ok(SourceDeleted { deleted: id }).into_response(),
        Err(err) => refusal(err),
    }
}

/// Checks a source now (also a paused one), in the background: poll the source until
/// `lastCheckAt` changes, or listen for the `source` event.
#[utoipa::path(post, path = "/api/sources/{id}/check", tag = "sources",
    params(("id" = String, Path, description = "source id")),
    responses((status = 202, description = "the source, `checking: true`", body = SourceView),
              (status = 404, description = "no such source", body = ErrorBody)))]
pub async fn check(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.ingest.check_source_now(&id).await {
        Ok(source) => ok_with(StatusCode::ACCEPTED, view(&state, &source)),
        Err(err) => refusal(err),
    }
}

/// Query of the "to approve" list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PendingQuery {
    /// Only the entries of this source.
    pub source: Option<String>,
}

/// New entries of `review` sources waiting for a parent, oldest first.
#[utoipa::path(get, path = "/api/sources/pending", tag = "sources", params(PendingQuery),
    responses((status = 200, description = "the entries waiting for a parent, oldest first", body = PendingList)))]
pub async fn pending(State(state): State<AppState>, Query(query): Query<PendingQuery>) -> Response {
    let source = query.source.as_deref().filter(|s| !s.is_empty());
    match state.ingest.pending_entries(source).await {
        Ok(entries) => ok(PendingList {
            entries: entries
                .iter()
                .map(|e| SourceEntryView::new(e, state.ingest.entry_thumbnail(e.id).is_some()))
                .collect(),
        })
        .into_response(),
        Err(err) => refusal(err),
    }
}

/// Entries to approve or reject.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Ids of pending entries (1 to 500).
    #[schema(schema_with = entry_ids)]
    pub ids: Vec<i64>,
}

/// What `sofathek_ingest::sources`' bulk check accepts: 1 to `MAX_BULK` ids.
fn entry_ids() -> utoipa::openapi::schema::Array {
    let id = utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Int64,
        )))
        .build();
    sofathek_http::schema::list(id, 1, sofathek_ingest::sources::MAX_BULK, false).build()
}

/// Approves pending entries: each becomes a download job. All or nothing.
#[utoipa::path(post, path = "/api/sources/pending/approve", tag = "sources", request_body = Decision,
    responses((status = 200, description = "how many were approved, and their download jobs", body = Approved),
              (status = 400, description = "no ids, or too many", body = ErrorBody),
              (status = 404, description = "an id is not a pending entry (ENTRY_NOT_FOUND); nothing changed", body = ErrorBody),
              (status = 507, description = "not enough free disk space", body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Decision>,
) -> Response {
    match state.ingest.approve(&body.ids).await {
        Ok(jobs) => ok(Approved {
            approved: jobs.len(),
            jobs: jobs.iter().map(JobView::new).collect(),
        })
        .into_response(),
        Err(err) => refusal(err),
    }
}

/// Rejects pending entries; they are remembered and never offered again. All or nothing.
#[utoipa::path(post, path = "/api/sources/pending/reject", tag = "sources", request_body = Decision,
    responses((status = 200, description = "how many were rejected", body = Rejected),
              (status = 400, description = "no ids, or too many", body = ErrorBody),
              (status = 404, description = "an id is not a pending entry (ENTRY_NOT_FOUND); nothing changed", body = ErrorBody)))]
pub async fn reject(State(state): State<AppState>, JsonBody(body): JsonBody<Decision>) -> Response {
    match state.ingest.reject(&body.ids).await {
        Ok(rejected) => ok(Rejected { rejected }).into_response(),
        Err(err) => refusal(err),
    }
}

/// The thumbnail of a pending entry (a small JPEG fetched through the egress guard).
#[utoipa::path(get, path = "/api/sources/pending/{id}/thumbnail", tag = "sources",
    params(("id" = i64, Path, description = "entry id")),
    responses((status = 200, description = "the image", content_type = "image/jpeg", body = Vec<u8>),
              (status = 404, description = "no such entry, or no picture", body = ErrorBody)))]
pub async fn thumbnail(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let missing = || ApiError::not_found(format!("No thumbnail for entry '{id}'")).into_response();
    let Some(path) = id
        .parse::<i64>()
        .ok()
        .and_then(|n| state.ingest.entry_thumbnail(n))
    else {
        return missing();
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "image/jpeg"),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            Body::from(bytes),
        )
            .into_response(),
        Err(_) => missing(),
    }
}

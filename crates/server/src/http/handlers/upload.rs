//! `POST /api/videos/upload`: a video file (multipart) streamed to the staging area and queued.

use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorBody, ok_with};
use crate::http::AppState;
use crate::http::handlers::jobs::refusal;
use futures_util::TryStreamExt;
use sofathek_codes::Code;
use sofathek_db::jobs::JobRecord;
use sofathek_ingest::IngestError;
use sofathek_ingest::upload::MULTIPART_OVERHEAD;
use sofathek_ingest::view::JobView;

/// Receives an upload: multipart field `video` (the file), optional `category`, `title` and
/// `audio` (`true` for an MP3 copy). Replies 202 with the queued job.
#[utoipa::path(post, path = "/api/videos/upload", tag = "jobs",
    request_body(content_type = "multipart/form-data", description = "`video` file, optional `category`, `title`, `audio`"),
    responses((status = 202, description = "the queued upload job", body = JobView),
              (status = 400, description = "malformed upload, unknown category", body = ErrorBody),
              (status = 413, description = "larger than SOFATHEK_MAX_UPLOAD_BYTES", body = ErrorBody),
              (status = 415, description = "not a video (decided by ffprobe)", body = ErrorBody),
              (status = 507, description = "not enough free disk space", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let limit = state.config.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit.saturating_add(MULTIPART_OVERHEAD)) {
        return refusal(IngestError::TooLarge { limit });
    }
    let multipart = match multipart {
        Ok(multipart) => multipart,
        Err(rejection) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "Expected a multipart/form-data upload: {}",
                    rejection.body_text()
                ),
            )
            .with_code(Code::BadUpload)
            .into_response();
        }
    };
    match receive(&state, multipart).await {
        Ok(job) => ok_with(StatusCode::ACCEPTED, JobView::new(&job)),
        Err(err) => refusal(err),
    }
}

/// Hands each part of the multipart body to the ingest's upload form, then submits it.
async fn receive(state: &AppState, mut multipart: Multipart) -> Result<JobRecord, IngestError> {
    let mut form = state.ingest.upload_form()?;
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        form.part(&name, file_name.as_deref(), field.map_err(malformed))
            .await?;
    }
    state.ingest.submit_upload(form).await
}

fn malformed(err: MultipartError) -> IngestError {
    IngestError::BadUpload(err.body_text())
}

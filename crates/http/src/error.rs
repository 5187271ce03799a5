//! The API's error type and response envelope (original §1.2).
//!
//! Every handler returns `Result<_, ApiError>`. Success bodies are `{status:"success",data}`;
//! errors are `{status:"error",message,code?}`. A 500 never shows its cause to the client:
//! the cause is logged instead.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sofathek_codes::Code;
use sofathek_ingest::IngestError;

/// An error with the HTTP status, the client-facing message and an optional stable code.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub code: Option<Code>,
    /// Logged, never sent.
    pub detail: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            code: None,
            detail: None,
        }
    }

    pub fn with_code(mut self, code: Code) -> Self {
        self.code = Some(code);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message).with_code(Code::BadRequest)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message).with_code(Code::NotFound)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message).with_code(Code::Forbidden)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message).with_code(Code::Conflict)
    }

    /// An unexpected failure: the client sees a generic message, the log sees `cause`.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "Something went wrong!".into(),
            code: Some(Code::Internal),
            detail: Some(cause.to_string()),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = self.status.as_u16(), code = ?self.code, detail = ?self.detail, "{}", self.message);
        } else {
            tracing::debug!(status = self.status.as_u16(), code = ?self.code, "{}", self.message);
        }
        let body = ErrorBody {
            status: "error",
            message: self.message,
            code: self.code,
        };
        (self.status, Json(body)).into_response()
    }
}

/// The error envelope every 4xx/5xx answer carries (the OpenAPI document's `ErrorBody`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Always `error`.
    #[schema(pattern = "^error$")]
    pub status: &'static str,
    /// For people: what went wrong and, where it helps, what to do.
    pub message: String,
    /// For programs: a stable code (every one the server can send is listed).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = code_schema)]
    pub code: Option<Code>,
}

/// `ErrorBody.code`: an enum of every `sofathek_codes::Code`.
fn code_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(Code::ALL.iter().map(|c| c.as_str())))
        .build()
}

/// A row that is not there is a 404 (handlers that can name the thing say so themselves:
/// "Video 'x' not found"); every other storage failure is a 500 whose cause is only logged.
impl From<sofathek_db::DbError> for ApiError {
    fn from(err: sofathek_db::DbError) -> Self {
        match err {
            sofathek_db::DbError::NotFound => ApiError::not_found("Not found"),
            other => ApiError::internal(other),
        }
    }
}

/// The success envelope `{status:"success",data}`.
#[derive(Debug, Serialize)]
pub struct Envelope<T> {
    status: &'static str,
    pub data: T,
}

/// A handler's JSON answer: `T` in the success envelope.
pub type Answer<T> = Json<Envelope<T>>;

/// `data` in the success envelope.
pub fn ok<T: Serialize>(data: T) -> Answer<T> {
    Json(Envelope {
        status: "success",
        data,
    })
}

/// The success envelope with a non-200 status (201, 202).
pub fn ok_with<T: Serialize>(status: StatusCode, data: T) -> Response {
    (status, ok(data)).into_response()
}

/// Unknown route: 404 with the original message.
pub async fn not_found(axum::extract::OriginalUri(uri): axum::extract::OriginalUri) -> ApiError {
    ApiError::not_found(format!("Route {uri} not found"))
}

/// The HTTP status of an ingest refusal.
pub fn ingest_status(err: &IngestError) -> StatusCode {
    match err {
        IngestError::UrlRequired
        | IngestError::InvalidUrl(_)
        | IngestError::InvalidSourceUrl(_)
        | IngestError::UnknownCategory(_)
        | IngestError::InvalidTitle
        | IngestError::MissingFile
        | IngestError::InvalidSource(_)
        | IngestError::BadUpload(_) => StatusCode::BAD_REQUEST,
        IngestError::Blocked(_) => StatusCode::UNPROCESSABLE_ENTITY,
        IngestError::LowDisk { .. } => StatusCode::INSUFFICIENT_STORAGE,
        IngestError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        IngestError::NotFound | IngestError::SourceNotFound | IngestError::EntryNotFound(_) => {
            StatusCode::NOT_FOUND
        }
        IngestError::WrongState(_) | IngestError::SourceGone | IngestError::SourceExists(_) => {
            StatusCode::CONFLICT
        }
        IngestError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        IngestError::NotMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        IngestError::ToolMissing(_) => StatusCode::SERVICE_UNAVAILABLE,
        IngestError::Db(_) | IngestError::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<IngestError> for ApiError {
    fn from(err: IngestError) -> Self {
        let status = ingest_status(&err);
        if status.is_server_error()
            && status != StatusCode::INSUFFICIENT_STORAGE
            && status != StatusCode::SERVICE_UNAVAILABLE
        {
            return ApiError::internal(err);
        }
        ApiError::new(status, err.client_message()).with_code(err.code())
    }
}

#[cfg(test)]
mod tests {
    use sofathek_core::urlpolicy::UrlPolicyError;
    use sofathek_db::jobs::JobState;

    use super::*;

    #[test]
    fn a_missing_row_is_a_404_and_other_storage_failures_a_500_without_cause() {
        let missing = ApiError::from(sofathek_db::DbError::NotFound);
        assert_eq!(
            (missing.status.as_u16(), missing.code.map(Code::as_str)),
            (404, Some("NOT_FOUND"))
        );
        let broken = ApiError::from(sofathek_db::DbError::Task("worker panicked".into()));
        assert_eq!(
            (broken.status.as_u16(), broken.code.map(Code::as_str)),
            (500, Some("INTERNAL"))
        );
        assert_eq!(broken.message, "Something went wrong!");
        assert_eq!(
            broken.detail.as_deref(),
            Some("database task failed: worker panicked")
        );
    }

    #[test]
    fn ingest_refusals_get_their_status_and_code() {
        let check = |err: IngestError, status: u16, code: &str| {
            let text = err.to_string();
            let api = ApiError::from(err);
            assert_eq!(
                (api.status.as_u16(), api.code.map(Code::as_str)),
                (status, Some(code)),
                "{text}"
            );
        };
        check(IngestError::UrlRequired, 400, "URL_REQUIRED");
        check(
            IngestError::InvalidUrl(UrlPolicyError::LooksLikeOption),
            400,
            "URL_LOOKS_LIKE_OPTION",
        );
        check(
            IngestError::LowDisk { free: 1, needed: 2 },
            507,
            "INSUFFICIENT_STORAGE",
        );
        check(
            IngestError::RateLimited { retry_after: 3 },
            429,
            "RATE_LIMITED",
        );
        check(IngestError::TooLarge { limit: 1 }, 413, "PAYLOAD_TOO_LARGE");
        check(IngestError::NotMedia, 415, "UNSUPPORTED_MEDIA_TYPE");
        check(IngestError::WrongState(JobState::Running), 409, "CONFLICT");
    }
}

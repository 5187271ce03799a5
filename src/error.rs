//! The API's error type and response envelope (original §1.2).
//!
//! Every handler returns `Result<_, ApiError>`. Success bodies are `{status:"success",data}`;
//! errors are `{status:"error",message,code?}`. A 500 never shows its cause to the client:
//! the cause is logged instead.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

/// An error with the HTTP status, the client-facing message and an optional stable code.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub code: Option<&'static str>,
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

    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message).with_code("BAD_REQUEST")
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message).with_code("NOT_FOUND")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message).with_code("FORBIDDEN")
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message).with_code("CONFLICT")
    }

    /// An unexpected failure: the client sees a generic message, the log sees `cause`.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "Something went wrong!".into(),
            code: Some("INTERNAL"),
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
        let mut body = json!({ "status": "error", "message": self.message });
        if let Some(code) = self.code {
            body["code"] = json!(code);
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(err: crate::db::DbError) -> Self {
        ApiError::internal(err)
    }
}

/// The success envelope `{status:"success",data}`.
pub fn ok<T: Serialize>(data: T) -> Json<serde_json::Value> {
    Json(json!({ "status": "success", "data": data }))
}

/// The success envelope with a non-200 status (201, 202).
pub fn ok_with<T: Serialize>(status: StatusCode, data: T) -> Response {
    (status, ok(data)).into_response()
}

//! Service routes: the OpenAPI document, Prometheus metrics and fallbacks.

use axum::extract::{OriginalUri, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::http::AppState;
use sofathek_codes::Code;

/// The OpenAPI document generated from the handlers.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta",
    responses((status = 200, description = "this document (OpenAPI 3.1)", body = serde_json::Value)))]
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::http::openapi::document(),
    )
        .into_response()
}

/// Prometheus metrics in the text exposition format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

pub use sofathek_http::error::not_found;

/// Known route, wrong method.
pub async fn method_not_allowed(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Method not allowed for {}", uri.path()),
    )
    .with_code(Code::MethodNotAllowed)
}

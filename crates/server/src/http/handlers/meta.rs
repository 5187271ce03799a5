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
    let mut text = state.metrics.render();
    // Counted by the connections (sofathek-http), which know nothing of the state's metrics.
    text.push_str(&format!(
        "# HELP sofathek_bytes_sendfile_total Bytes of library files the kernel sent without a copy (sendfile).\n\
         # TYPE sofathek_bytes_sendfile_total counter\n\
         sofathek_bytes_sendfile_total {}\n",
        sofathek_http::serve_file::bytes_sent()
    ));
    let content_type = "text/plain; version=0.0.4; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
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

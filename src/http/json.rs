//! A JSON body extractor whose rejections use the API's error envelope (malformed JSON is a
//! 400, not the original's 500); the body must be a JSON object.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Like `axum::Json`, but every rejection is an [`ApiError`].
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Every body of this API is an object; serde would also fill a struct from an array
        // (`[null, null]`), so the shape is checked before the fields.
        match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(value)) if !value.is_object() => Err(ApiError::bad_request(
                "Invalid JSON body: expected an object",
            )
            .with_code("INVALID_JSON")),
            Ok(axum::Json(value)) => serde_json::from_value::<T>(value)
                .map(JsonBody)
                .map_err(|err| {
                    ApiError::bad_request(format!("Invalid JSON body: {err}"))
                        .with_code("INVALID_JSON")
                }),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Expected a JSON body with Content-Type: application/json",
                )
                .with_code("UNSUPPORTED_MEDIA_TYPE"),
                JsonRejection::JsonSyntaxError(err) => {
                    ApiError::bad_request(format!("Malformed JSON body: {}", err.body_text()))
                        .with_code("INVALID_JSON")
                }
                JsonRejection::JsonDataError(err) => {
                    ApiError::bad_request(format!("Invalid JSON body: {}", err.body_text()))
                        .with_code("INVALID_JSON")
                }
                JsonRejection::BytesRejection(err) => {
                    ApiError::new(err.status(), err.body_text()).with_code("BODY_REJECTED")
                }
                other => ApiError::bad_request(other.body_text()).with_code("INVALID_JSON"),
            }),
        }
    }
}

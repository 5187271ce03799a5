//! A JSON body extractor whose rejections use the API's error envelope (malformed JSON is a
//! 400, not the original's 500).

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
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
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

//! A JSON body extractor whose rejections use the API's error envelope (malformed JSON is a
//! 400, not the original's 500); the body must be a JSON object.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use sofathek_codes::Code;

/// Like `axum::Json`, but every rejection is an [`ApiError`].
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_json_content_type(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Expected a JSON body with Content-Type: application/json",
            )
            .with_code(Code::UnsupportedMediaType));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|err| {
                ApiError::new(err.status(), err.body_text()).with_code(Code::BodyRejected)
            })?;
        // Every body of this API is an object; serde would also fill a struct from an array
        // (`[null, null]`), so the shape is checked before the fields (which are read straight
        // from the bytes, so duplicate keys are still refused).
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|b| *b != b'{') {
            return Err(
                ApiError::bad_request("Invalid JSON body: expected an object")
                    .with_code(Code::InvalidJson),
            );
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::JsonSyntaxError(err) => {
                    ApiError::bad_request(format!("Malformed JSON body: {}", err.body_text()))
                        .with_code(Code::InvalidJson)
                }
                JsonRejection::JsonDataError(err) => {
                    ApiError::bad_request(format!("Invalid JSON body: {}", err.body_text()))
                        .with_code(Code::InvalidJson)
                }
                other => ApiError::bad_request(other.body_text()).with_code(Code::InvalidJson),
            }),
        }
    }
}

/// `application/json` or any `application/*+json`, as `axum::Json` accepts.
fn has_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence
        .strip_prefix("application/")
        .is_some_and(|sub| sub == "json" || sub.ends_with("+json"))
}

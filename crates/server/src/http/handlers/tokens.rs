//! `/api/tokens`: API tokens for scripts (parents only). A token is shown once, when it is
//! created; the server keeps only its hash. `Authorization: Bearer <token>` grants parent
//! rights until the token is revoked.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ok, ok_with};
use crate::http::AppState;
use crate::http::json::JsonBody;
use sofathek_core::auth::secret;
use sofathek_db::DbError;
use sofathek_db::profiles;

/// A new token.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for (1 to 100 characters).
    pub name: String,
}

fn token_json(token: &profiles::TokenRow) -> Value {
    json!({
        "id": token.id,
        "name": token.name,
        "createdAt": token.created_at,
        "lastUsedAt": token.last_used_at,
    })
}

/// Creates a token and returns it once.
#[utoipa::path(post, path = "/api/tokens", tag = "profiles", request_body = NewToken,
    responses((status = 201, description = "`{id, name, createdAt, token}` (the token is shown only now)", body = serde_json::Value),
              (status = 400, description = "invalid name", body = serde_json::Value)))]
pub async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewToken>,
) -> Result<Response, ApiError> {
    let name = super::display_name(&body.name, "Token name", super::TOKEN_NAME_MAX)?;
    let token = secret::new_api_token().map_err(ApiError::internal)?;
    let hash = secret::hash(&token);
    let row = state
        .db
        .write(move |tx| profiles::create_token(tx, &name, &hash))
        .await?;
    tracing::info!(token = row.id, name = %row.name, "api token created");
    let mut data = token_json(&row);
    data["token"] = json!(token);
    Ok(ok_with(StatusCode::CREATED, data))
}

/// Lists the live tokens (never their secrets).
#[utoipa::path(get, path = "/api/tokens", tag = "profiles",
    responses((status = 200, description = "`{tokens: [{id, name, createdAt, lastUsedAt}]}`", body = serde_json::Value)))]
pub async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let tokens = state.db.read(profiles::list_tokens).await?;
    Ok(ok(json!({ "tokens": tokens.iter().map(token_json).collect::<Vec<_>>() })).into_response())
}

/// Revokes a token: it stops working at once.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "profiles",
    params(("id" = i64, Path, description = "token id")),
    responses((status = 200, description = "revoked", body = serde_json::Value),
              (status = 404, description = "no such live token", body = serde_json::Value)))]
pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let not_found = || ApiError::not_found(format!("Token '{id}' not found"));
    let Ok(number) = id.parse::<i64>() else {
        return Err(not_found());
    };
    match state
        .db
        .write(move |tx| profiles::revoke_token(tx, number))
        .await
    {
        Ok(()) => {
            tracing::info!(token = number, "api token revoked");
            Ok(ok(
                json!({ "message": format!("Token '{id}' revoked"), "id": number }),
            ))
        }
        Err(DbError::NotFound) => Err(not_found()),
        Err(err) => Err(err.into()),
    }
}

//! `/api/tokens`: API tokens for scripts (parents only). A token is shown once, when it is
//! created; the server keeps only its hash. `Authorization: Bearer <token>` grants parent
//! rights until the token is revoked.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::error::{Answer, ApiError, ErrorBody, ok, ok_with};
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
    #[schema(schema_with = name_rule)]
    pub name: String,
}

/// A token name as `display_name` accepts it.
fn name_rule() -> utoipa::openapi::schema::Object {
    sofathek_http::schema::text(
        sofathek_core::names::NameKind::Token.max(),
        sofathek_http::schema::Presence::Required,
    )
}

/// An API token as listed (never its secret).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl TokenView {
    fn new(token: &profiles::TokenRow) -> TokenView {
        TokenView {
            id: token.id,
            name: token.name.clone(),
            created_at: token.created_at.clone(),
            last_used_at: token.last_used_at.clone(),
        }
    }
}

/// `POST /api/tokens`: the new token with its secret, shown only this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewTokenView {
    #[serde(flatten)]
    pub view: TokenView,
    /// The bearer token (`Authorization: Bearer <token>`).
    pub token: String,
}

/// `GET /api/tokens`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
}

/// `DELETE /api/tokens/{id}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenRevoked {
    /// `Token '<id>' revoked`.
    pub message: String,
    pub id: i64,
}

/// Creates a token and returns it once.
#[utoipa::path(post, path = "/api/tokens", tag = "profiles", request_body = NewToken,
    responses((status = 201, description = "the token with its secret (shown only now)", body = NewTokenView),
              (status = 400, description = "invalid name", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewToken>,
) -> Result<Response, ApiError> {
    let name = super::display_name(sofathek_core::names::NameKind::Token, &body.name)?;
    let token = secret::new_api_token().map_err(ApiError::internal)?;
    let hash = secret::hash(&token);
    let row = state
        .db
        .write(move |tx| profiles::create_token(tx, &name, &hash))
        .await?;
    tracing::info!(token = row.id, name = %row.name, "api token created");
    let data = NewTokenView {
        view: TokenView::new(&row),
        token,
    };
    Ok(ok_with(StatusCode::CREATED, data))
}

/// Lists the live tokens (never their secrets).
#[utoipa::path(get, path = "/api/tokens", tag = "profiles",
    responses((status = 200, description = "the live tokens", body = TokenList)))]
pub async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let tokens = state.db.read(profiles::list_tokens).await?;
    Ok(ok(TokenList {
        tokens: tokens.iter().map(TokenView::new).collect(),
    })
    .into_response())
}

/// Revokes a token: it stops working at once.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "profiles",
    params(("id" = i64, Path, description = "token id")),
    responses((status = 200, description = "revoked", body = TokenRevoked),
              (status = 404, description = "no such live token", body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Answer<TokenRevoked>, ApiError> {
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
            Ok(ok(TokenRevoked {
                message: format!("Token '{id}' revoked"),
                id: number,
            }))
        }
        Err(DbError::NotFound) => Err(not_found()),
        Err(err) => Err(err.into()),
    }
}

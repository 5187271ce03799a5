//! `/api/session`, `/api/setup` and `/api/password`: picking a profile, the parent's sign-in,
//! signing out, the first-run setup and changing the password. The rules are
//! `sofathek_core::auth::session`'s; this module turns their refusals into statuses and codes
//! (once, for the API and for the sign-in pages, which call [`sign_in`], [`setup`] and
//! [`sign_out`]) and sets the cookie.

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::auth::ClientIp;
use crate::auth::{clear_cookie_header, is_https, session_cookie_header};
use crate::error::{Answer, ApiError, ErrorBody, ok, ok_with};
use crate::json::JsonBody;
use crate::state::AppState;
use sofathek_codes::Code;
use sofathek_core::auth::password::PasswordError;
use sofathek_core::auth::session::{self, SessionError};
use sofathek_core::auth::{Access, Via};
use sofathek_db::DbError;
use sofathek_db::profiles::{Profile, ProfileKind};

pub use sofathek_core::auth::session::SignedIn;

/// The `Set-Cookie` header value of a new session.
pub fn set_cookie(signed: &SignedIn, headers: &HeaderMap) -> Option<HeaderValue> {
    session_cookie_header(&signed.cookie, signed.lifetime, is_https(headers))
}

/// A profile as the API shows it (the OpenAPI document's `ProfileView`): `createdAt` and a
/// kid's `categories` only for parents.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub id: i64,
    pub name: String,
    pub kind: ProfileKind,
    pub avatar: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// A kid's allowed category slugs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
}

impl ProfileView {
    /// The view of `profile`; `full` adds what only parents see.
    pub fn new(profile: &Profile, full: bool) -> ProfileView {
        ProfileView {
            id: profile.id,
            name: profile.name.clone(),
            kind: profile.kind,
            avatar: profile.avatar.clone(),
            created_at: full.then(|| profile.created_at.clone()),
            categories: (full && profile.kind == ProfileKind::Kid)
                .then(|| profile.categories.clone()),
        }
    }
}

/// A new session (sign-in, first-run setup), and after a password change the parent's new one.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedInView {
    pub profile: ProfileView,
    pub parent: bool,
    /// Sent back in `X-CSRF-Token` by the browser on every change.
    pub csrf_token: String,
}

impl SignedInView {
    fn new(signed: &SignedIn) -> SignedInView {
        SignedInView {
            profile: ProfileView::new(&signed.profile, true),
            parent: signed.parent,
            csrf_token: signed.csrf.clone(),
        }
    }
}

/// `GET /api/session`: who is asking.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    /// A parent password exists.
    pub setup: bool,
    pub signed_in: bool,
    pub parent: bool,
    /// How the request is authenticated: `none`, `session` (cookie) or `token`.
    #[schema(pattern = "^(none|session|token)$")]
    pub via: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// `DELETE /api/session`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedOutView {
    /// A session was revoked (false without one).
    pub signed_out: bool,
}

/// `PUT /api/password`: how many sessions were signed out, and (from a browser) the new one.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChangedView {
    pub revoked_sessions: u64,
    /// A browser's new session (the request came with a session cookie).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

fn password_error(err: PasswordError) -> ApiError {
    match err {
        PasswordError::Rejected(why) => ApiError::bad_request(why).with_code(Code::WeakPassword),
        other => ApiError::internal(other),
    }
}

fn too_many(retry_after: Duration) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "Too many failed sign-in attempts. Try again in {} seconds.",
            retry_after.as_secs()
        ),
    )
    .with_code(Code::TooManyAttempts)
}

/// Adds `Retry-After` to a 429.
pub fn with_retry_after(err: ApiError, retry_after: Option<Duration>) -> Response {
    let mut response = err.into_response();
    if let Some(wait) = retry_after {
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// A refused sign-in; `retry_after` is set for 429s.
pub struct Refused {
    pub error: ApiError,
    pub retry_after: Option<Duration>,
}

impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Self {
        Refused {
            error,
            retry_after: None,
        }
    }
}

impl From<DbError> for Refused {
    fn from(err: DbError) -> Self {
        ApiError::from(err).into()
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        with_retry_after(self.error, self.retry_after)
    }
}

/// The answer to a refused sign-in, setup or password change (with `Retry-After` for 429s).
fn refused(err: SessionError) -> Refused {
    let error = match err {
        SessionError::SetupRequired => {
            ApiError::forbidden(crate::auth::SETUP_MESSAGE).with_code(Code::SetupRequired)
        }
        SessionError::AlreadySetUp => {
            ApiError::conflict("A parent password is set already: sign in as a parent to change it")
                .with_code(Code::AlreadySetUp)
        }
        SessionError::NoSuchProfile(id) => ApiError::not_found(format!("Profile '{id}' not found")),
        SessionError::Throttled(wait) => {
            return Refused {
                error: too_many(wait),
                retry_after: Some(wait),
            };
        }
        SessionError::PasswordRequired => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "The parent profile needs the parent password",
        )
        .with_code(Code::PasswordRequired),
        SessionError::WrongPassword => {
            ApiError::new(StatusCode::UNAUTHORIZED, "Wrong password").with_code(Code::WrongPassword)
        }
        SessionError::Password(err) => password_error(err),
        SessionError::Random(err) => ApiError::internal(err),
        SessionError::Db(err) => ApiError::from(err),
    };
    error.into()
}

/// Picks a profile: a kid's without a password, a parent's with it (see
/// `sofathek_core::auth::session::sign_in`).
pub async fn sign_in(
    state: &AppState,
    access: &Access,
    client: IpAddr,
    profile_id: i64,
    password: Option<String>,
) -> Result<SignedIn, Refused> {
    session::sign_in(&state.db, &state.auth, access, client, profile_id, password)
        .await
        .map_err(refused)
}

/// The first-run setup: sets the parent password while none exists and signs the parent in.
pub async fn setup(
    state: &AppState,
    access: &Access,
    password: String,
) -> Result<SignedIn, ApiError> {
    session::setup(&state.db, &state.auth, access, password)
        .await
        .map_err(|e| refused(e).error)
}

/// Revokes the request's session (server-side); true when there was one.
pub async fn sign_out(state: &AppState, access: &Access) -> Result<bool, ApiError> {
    Ok(session::sign_out(&state.db, access).await?)
}

/// Who is asking: setup state, profile, rights and the CSRF token for this session.
#[utoipa::path(get, path = "/api/session", tag = "profiles",
    responses((status = 200, description = "who is asking", body = SessionView)))]
pub async fn show(access: Access) -> Answer<SessionView> {
    let via = match access.via {
        Via::Nothing => "none",
        Via::Cookie => "session",
        Via::Token => "token",
    };
    ok(SessionView {
        setup: access.setup,
        signed_in: access.via != Via::Nothing,
        parent: access.is_parent(),
        via,
        profile: access.profile().map(|p| ProfileView::new(p, true)),
        csrf_token: access.session.as_ref().map(|s| s.csrf.clone()),
        expires_at: access.session.as_ref().map(|s| s.expires_at.clone()),
    })
}

/// A profile choice.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSession {
    pub profile_id: i64,
    /// Required for a parent profile.
    pub password: Option<String>,
}

/// Picks a profile (a kid's without password, a parent's with it): sets a new session cookie.
#[utoipa::path(post, path = "/api/session", tag = "profiles", request_body = NewSession,
    responses((status = 201, description = "the new session (and its cookie)", body = SignedInView),
              (status = 401, description = "wrong or missing password", body = ErrorBody),
              (status = 403, description = "no parent password yet, or a cross-site request", body = ErrorBody),
              (status = 404, description = "no such profile", body = ErrorBody),
              (status = 429, description = "too many failed attempts (Retry-After)", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    access: Access,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewSession>,
) -> Response {
    match sign_in(&state, &access, client, body.profile_id, body.password).await {
        Ok(signed) => created(&signed, &headers),
        Err(refused) => refused.into_response(),
    }
}

/// 201 with `{profile, parent, csrfToken}` and the session cookie: how a sign-in and the
/// first-run setup answer.
fn created(signed: &SignedIn, headers: &HeaderMap) -> Response {
    with_cookie(
        ok_with(StatusCode::CREATED, SignedInView::new(signed)),
        signed,
        headers,
    )
}

fn with_cookie(mut response: Response, signed: &SignedIn, headers: &HeaderMap) -> Response {
    match set_cookie(signed, headers) {
        Some(cookie) => {
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            response
        }
        None => ApiError::internal("session cookie is not a header value").into_response(),
    }
}

/// Signs out: the session is revoked on the server and the cookie removed.
#[utoipa::path(delete, path = "/api/session", tag = "profiles",
    responses((status = 200, description = "whether a session was revoked", body = SignedOutView),
              (status = 403, description = "missing CSRF token", body = ErrorBody)))]
pub async fn remove(State(state): State<AppState>, access: Access, headers: HeaderMap) -> Response {
    match sign_out(&state, &access).await {
        Ok(revoked) => {
            let mut response = ok(SignedOutView {
                signed_out: revoked,
            })
            .into_response();
            response
                .headers_mut()
                .insert(header::SET_COOKIE, clear_cookie_header(is_https(&headers)));
            response
        }
        Err(err) => err.into_response(),
    }
}

/// The first parent password.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// At least 8 characters.
    #[schema(schema_with = crate::schema::new_password)]
    pub password: String,
}

/// First-run setup: sets the parent password (only while none exists) and signs the parent in.
#[utoipa::path(post, path = "/api/setup", tag = "profiles", request_body = Setup,
    responses((status = 201, description = "the new session (and its cookie)", body = SignedInView),
              (status = 400, description = "password too short or otherwise refused", body = ErrorBody),
              (status = 409, description = "a password is set already", body = ErrorBody)))]
pub async fn first_run(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Setup>,
) -> Response {
    match setup(&state, &access, body.password).await {
        Ok(signed) => created(&signed, &headers),
        Err(err) => err.into_response(),
    }
}

/// A password change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    /// At least 8 characters.
    #[schema(schema_with = crate::schema::new_password)]
    pub new_password: String,
}

/// Changes the parent password: every parent session is signed out; a browser gets a new one.
#[utoipa::path(put, path = "/api/password", tag = "profiles", request_body = ChangePassword,
    responses((status = 200, description = "the sessions signed out, and a browser's new session", body = PasswordChangedView),
              (status = 400, description = "the new password is refused", body = ErrorBody),
              (status = 401, description = "wrong current password", body = ErrorBody),
              (status = 429, description = "too many failed attempts (Retry-After)", body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    access: Access,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ChangePassword>,
) -> Response {
    match change(&state, &access, client, body).await {
        Ok((revoked, Some(signed))) => {
            let session = SignedInView::new(&signed);
            let data = PasswordChangedView {
                revoked_sessions: revoked,
                profile: Some(session.profile),
                parent: Some(session.parent),
                csrf_token: Some(session.csrf_token),
            };
            with_cookie(ok(data).into_response(), &signed, &headers)
        }
        Ok((revoked, None)) => ok(PasswordChangedView {
            revoked_sessions: revoked,
            profile: None,
            parent: None,
            csrf_token: None,
        })
        .into_response(),
        Err(refused) => refused.into_response(),
    }
}

async fn change(
    state: &AppState,
    access: &Access,
    client: IpAddr,
    body: ChangePassword,
) -> Result<(u64, Option<SignedIn>), Refused> {
    session::change_password(
        &state.db,
        &state.auth,
        access,
        client,
        body.current_password,
        body.new_password,
    )
    .await
    .map_err(refused)
}

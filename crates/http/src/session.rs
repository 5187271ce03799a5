//! `/api/session`, `/api/setup` and `/api/password`: picking a profile, the parent's sign-in,
//! signing out, the first-run setup and changing the password.
//!
//! The sign-in steps are functions the web pages call too ([`sign_in`], [`setup`],
//! [`sign_out`]), so a form without JavaScript follows exactly the API's rules.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::ClientIp;
use crate::auth::{clear_cookie_header, is_https, session_cookie_header};
use crate::error::{ApiError, ok, ok_with};
use crate::json::JsonBody;
use crate::state::AppState;
use sofathek_codes::Code;
use sofathek_core::auth::password::PasswordError;
use sofathek_core::auth::secret;
use sofathek_core::auth::{self, Access, KID_SESSION, PARENT_SESSION, PasswordSet, Via, Viewer};
use sofathek_db::DbError;
use sofathek_db::profiles::{self, Profile, ProfileKind};

/// A new session: the cookie to set and what the client may know about it.
pub struct SignedIn {
    pub profile: Profile,
    pub parent: bool,
    pub cookie: String,
    pub csrf: String,
    pub lifetime: Duration,
}

impl SignedIn {
    /// The `Set-Cookie` header value.
    pub fn set_cookie(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        session_cookie_header(&self.cookie, self.lifetime, is_https(headers))
    }

    fn json(&self) -> Value {
        json!({
            "profile": profile_json(&self.profile, true),
            "parent": self.parent,
            "csrfToken": self.csrf,
        })
    }
}

/// The public view of a profile; `full` adds a kid's categories (for parents).
pub fn profile_json(profile: &Profile, full: bool) -> Value {
    let mut value = json!({
        "id": profile.id,
        "name": profile.name,
        "kind": profile.kind,
        "avatar": profile.avatar,
    });
    if full {
        value["createdAt"] = json!(profile.created_at);
        if profile.kind == ProfileKind::Kid {
            value["categories"] = json!(profile.categories);
        }
    }
    value
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

/// Opens a new session for `profile` (a fresh id, never the one presented) and revokes the
/// session the request came with.
async fn open_session(
    state: &AppState,
    profile: Profile,
    parent: bool,
    previous: Option<String>,
) -> Result<SignedIn, ApiError> {
    let cookie = secret::new_secret().map_err(ApiError::internal)?;
    let csrf = secret::new_secret().map_err(ApiError::internal)?;
    let lifetime = if parent { PARENT_SESSION } else { KID_SESSION };
    let expires_at = sofathek_db::format_time(time::OffsetDateTime::now_utc() + lifetime);
    let hash = secret::hash(&cookie);
    let profile_id = profile.id;
    let stored_csrf = csrf.clone();
    state
        .db
        .write(move |tx| {
            if let Some(previous) = previous {
                profiles::revoke_session(tx, &previous)?;
            }
            // Ended sessions older than a month are forgotten.
            let month_ago = time::OffsetDateTime::now_utc() - Duration::from_secs(30 * 24 * 3600);
            profiles::prune_sessions(tx, &sofathek_db::format_time(month_ago))?;
            profiles::create_session(tx, &hash, profile_id, parent, &stored_csrf, &expires_at)
        })
        .await?;
    Ok(SignedIn {
        profile,
        parent,
        cookie,
        csrf,
        lifetime,
    })
}

/// Picks a profile: a kid's without a password, a parent's with it. Failed parent sign-ins
/// are throttled per client address and in total.
pub async fn sign_in(
    state: &AppState,
    access: &Access,
    client: IpAddr,
    profile_id: i64,
    password: Option<String>,
) -> Result<SignedIn, Refused> {
    if !access.setup {
        return Err(ApiError::forbidden(crate::auth::SETUP_MESSAGE)
            .with_code(Code::SetupRequired)
            .into());
    }
    let profile = match state.db.read(move |c| profiles::get(c, profile_id)).await {
        Ok(profile) => profile,
        Err(DbError::NotFound) => {
            return Err(ApiError::not_found(format!("Profile '{profile_id}' not found")).into());
        }
        Err(err) => return Err(err.into()),
    };
    let previous = access.session.as_ref().map(|s| s.token_hash.clone());
    if profile.kind == ProfileKind::Kid {
        return Ok(open_session(state, profile, false, previous).await?);
    }
    if let Err(wait) = state.auth.throttle.check(client, Instant::now()) {
        return Err(Refused {
            error: too_many(wait),
            retry_after: Some(wait),
        });
    }
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "The parent profile needs the parent password",
        )
        .with_code(Code::PasswordRequired)
        .into());
    };
    let stored = state
        .db
        .read(profiles::password_hash)
        .await?
        .unwrap_or_default();
    if state.auth.verify(password, stored).await {
        state.auth.throttle.succeeded(client);
        tracing::info!(profile = profile.id, "parent signed in");
        return Ok(open_session(state, profile, true, previous).await?);
    }
    let delay = state.auth.throttle.failed(client, Instant::now());
    tracing::warn!(%client, "failed parent sign-in");
    tokio::time::sleep(delay).await;
    Err(ApiError::new(StatusCode::UNAUTHORIZED, "Wrong password")
        .with_code(Code::WrongPassword)
        .into())
}

/// The first-run setup: sets the parent password while none exists and signs the parent in.
pub async fn setup(
    state: &AppState,
    access: &Access,
    password: String,
) -> Result<SignedIn, ApiError> {
    if access.setup {
        return Err(ApiError::conflict(
            "A parent password is set already: sign in as a parent to change it",
        )
        .with_code(Code::AlreadySetUp));
    }
    let hash = state.auth.hash(password).await.map_err(password_error)?;
    let stored = state
        .db
        .write(move |tx| {
            if profiles::password_hash(tx)?.is_some() {
                return Ok(None);
            }
            auth::store_password_hash(tx, &hash)?;
            let parent = profiles::list(tx)?
                .into_iter()
                .find(|p| p.kind == ProfileKind::Parent);
            Ok(parent)
        })
        .await?;
    let Some(parent) = stored else {
        return Err(ApiError::conflict(
            "A parent password is set already: sign in as a parent to change it",
        )
        .with_code(Code::AlreadySetUp));
    };
    tracing::info!("parent password set in the first-run setup");
    let previous = access.session.as_ref().map(|s| s.token_hash.clone());
    open_session(state, parent, true, previous).await
}

/// Revokes the request's session (server-side); true when there was one.
pub async fn sign_out(state: &AppState, access: &Access) -> Result<bool, ApiError> {
    let Some(session) = access.session.clone() else {
        return Ok(false);
    };
    Ok(state
        .db
        .write(move |tx| profiles::revoke_session(tx, &session.token_hash))
        .await?)
}

/// Who is asking: setup state, profile, rights and the CSRF token for this session.
#[utoipa::path(get, path = "/api/session", tag = "profiles",
    responses((status = 200, description = "`{setup, signedIn, parent, via, profile?, csrfToken?, expiresAt?}`", body = serde_json::Value)))]
pub async fn show(access: Access) -> axum::Json<Value> {
    let via = match access.via {
        Via::Nothing => "none",
        Via::Cookie => "session",
        Via::Token => "token",
    };
    let mut data = json!({
        "setup": access.setup,
        "signedIn": access.via != Via::Nothing,
        "parent": access.is_parent(),
        "via": via,
    });
    if let Some(profile) = access.profile() {
        data["profile"] = profile_json(profile, true);
    }
    if let Some(session) = &access.session {
        data["csrfToken"] = json!(session.csrf);
        data["expiresAt"] = json!(session.expires_at);
    }
    ok(data)
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
    responses((status = 201, description = "`{profile, parent, csrfToken}` and the session cookie", body = serde_json::Value),
              (status = 401, description = "wrong or missing password", body = serde_json::Value),
              (status = 403, description = "no parent password yet, or a cross-site request", body = serde_json::Value),
              (status = 404, description = "no such profile", body = serde_json::Value),
              (status = 429, description = "too many failed attempts (Retry-After)", body = serde_json::Value)))]
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
    with_cookie(ok_with(StatusCode::CREATED, signed.json()), signed, headers)
}

fn with_cookie(mut response: Response, signed: &SignedIn, headers: &HeaderMap) -> Response {
    match signed.set_cookie(headers) {
        Some(cookie) => {
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            response
        }
        None => ApiError::internal("session cookie is not a header value").into_response(),
    }
}

/// Signs out: the session is revoked on the server and the cookie removed.
#[utoipa::path(delete, path = "/api/session", tag = "profiles",
    responses((status = 200, description = "`{signedOut}`", body = serde_json::Value),
              (status = 403, description = "missing CSRF token", body = serde_json::Value)))]
pub async fn remove(State(state): State<AppState>, access: Access, headers: HeaderMap) -> Response {
    match sign_out(&state, &access).await {
        Ok(revoked) => {
            let mut response = ok(json!({ "signedOut": revoked })).into_response();
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
    pub password: String,
}

/// First-run setup: sets the parent password (only while none exists) and signs the parent in.
#[utoipa::path(post, path = "/api/setup", tag = "profiles", request_body = Setup,
    responses((status = 201, description = "`{profile, parent, csrfToken}` and the session cookie", body = serde_json::Value),
              (status = 400, description = "password too short or otherwise refused", body = serde_json::Value),
              (status = 409, description = "a password is set already", body = serde_json::Value)))]
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
    pub new_password: String,
}

/// Changes the parent password: every parent session is signed out; a browser gets a new one.
#[utoipa::path(put, path = "/api/password", tag = "profiles", request_body = ChangePassword,
    responses((status = 200, description = "`{revokedSessions, profile?, csrfToken?}`", body = serde_json::Value),
              (status = 400, description = "the new password is refused", body = serde_json::Value),
              (status = 401, description = "wrong current password", body = serde_json::Value),
              (status = 429, description = "too many failed attempts (Retry-After)", body = serde_json::Value)))]
pub async fn change_password(
    State(state): State<AppState>,
    access: Access,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ChangePassword>,
) -> Response {
    match change(&state, &access, client, body).await {
        Ok((revoked, Some(signed))) => {
            let mut data = signed.json();
            data["revokedSessions"] = json!(revoked);
            with_cookie(ok(data).into_response(), &signed, &headers)
        }
        Ok((revoked, None)) => ok(json!({ "revokedSessions": revoked })).into_response(),
        Err(refused) => refused.into_response(),
    }
}

async fn change(
    state: &AppState,
    access: &Access,
    client: IpAddr,
    body: ChangePassword,
) -> Result<(u64, Option<SignedIn>), Refused> {
    if let Err(wait) = state.auth.throttle.check(client, Instant::now()) {
        return Err(Refused {
            error: too_many(wait),
            retry_after: Some(wait),
        });
    }
    sofathek_core::auth::password::check_new(&body.new_password).map_err(password_error)?;
    let stored = state
        .db
        .read(profiles::password_hash)
        .await?
        .unwrap_or_default();
    if !state.auth.verify(body.current_password, stored).await {
        let delay = state.auth.throttle.failed(client, Instant::now());
        tokio::time::sleep(delay).await;
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "Wrong password")
            .with_code(Code::WrongPassword)
            .into());
    }
    state.auth.throttle.succeeded(client);
    let hash = state
        .auth
        .hash(body.new_password)
        .await
        .map_err(password_error)?;
    let set = state
        .db
        .write(move |tx| auth::store_password_hash(tx, &hash))
        .await?;
    let revoked = match set {
        PasswordSet::Changed { revoked } => revoked,
        PasswordSet::First | PasswordSet::Unchanged => 0,
    };
    tracing::info!(
        revoked,
        "parent password changed; parent sessions signed out"
    );
    // A browser session stays signed in with a new session; a token needs none.
    let signed = match (&access.viewer, access.via) {
        (
            Viewer::Parent {
                profile: Some(profile),
            },
            Via::Cookie,
        ) => Some(open_session(state, profile.clone(), true, None).await?),
        _ => None,
    };
    Ok((revoked, signed))
}

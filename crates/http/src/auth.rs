//! Who may call which route: credentials (session cookie or `Authorization: Bearer` token) are
//! read once per request into an [`Access`], checked against the route policy ([`need`]), and
//! unsafe requests authenticated by cookie must be same-origin and carry the session's CSRF
//! token. Handlers take the [`Access`] to filter what a kid may see.
//!
//! The policy is deny-by-default: a route not named in [`need`] is readable by any profile
//! once a password exists and changeable only by a parent, so a new mutating route is
//! protected without anyone remembering to protect it.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;
use sofathek_codes::Code;
use sofathek_core::auth::secret;
use sofathek_core::auth::{Access, Credential, SessionInfo, TokenUse, Via, Viewer};
use sofathek_db::profiles;

/// The session cookie.
pub const COOKIE: &str = "sofathek_session";
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field carrying the CSRF token in forms that work without JavaScript.
pub const CSRF_FIELD: &str = "csrf";
/// Largest form body read to find the CSRF field.
const FORM_LIMIT: usize = 64 * 1024;
/// A token's "last used" time is written at most this often.
const TOKEN_TOUCH: Duration = Duration::from_secs(60);

/// The explanation every mutation gets before the first-run setup.
pub const SETUP_MESSAGE: &str = "No parent password is set yet, so nothing can be changed. \
    Set one in the web UI (first-run setup), with `sofathek admin set-password`, \
    or with SOFATHEK_ADMIN_PASSWORD_FILE";

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Public.
    Nothing,
    /// Signing in: public, but must come from the same origin.
    SignIn,
    /// Any profile or token once a password exists (open before).
    Viewer,
    /// A profile (kid or parent): per-profile data such as watch progress.
    Profile,
    /// Parent rights once a password exists (open before): job queue, token list.
    ParentRead,
    /// Parent rights, and a password must exist.
    Parent,
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// One API route and who may call it: what a read (GET, HEAD) needs and what a change (any
/// other method) needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutePolicy {
    /// The route template, as the router and the OpenAPI document write it.
    pub route: &'static str,
    pub read: Need,
    pub write: Need,
}

const fn rule(route: &'static str, read: Need, write: Need) -> RoutePolicy {
    RoutePolicy { route, read, write }
}

use Need::{Nothing, Parent, ParentRead, Profile, SignIn};

/// Every API route, once. The router (`sofathek_server::http::router`), this table and the
/// OpenAPI document name the same routes and methods: `tests/it/routes.rs` fails when a route
/// is added to only one of them. A route missing here would still be protected (see
/// [`need`]: any profile may read it, only a parent change it), but the test says so first.
pub const API_ROUTES: &[RoutePolicy] = &[
    rule("/api/health", Nothing, Parent),
    rule("/api/health/live", Nothing, Parent),
    rule("/api/openapi.json", Nothing, Parent),
    rule("/api/videos", Need::Viewer, Parent),
    rule("/api/videos/{id}", Need::Viewer, Parent),
    rule("/api/videos/upload", Need::Viewer, Parent),
    rule("/api/stream/{filename}", Need::Viewer, Parent),
    rule("/api/download/{filename}", Need::Viewer, Parent),
    rule("/api/thumbnails/{filename}", Need::Viewer, Parent),
    rule("/api/categories", Need::Viewer, Parent),
    rule("/api/categories/{slug}", Need::Viewer, Parent),
    rule("/api/events", Need::Viewer, Parent),
    rule("/api/jobs", ParentRead, Parent),
    rule("/api/jobs/{id}", ParentRead, Parent),
    rule("/api/jobs/{id}/retry", ParentRead, Parent),
    rule("/api/library/scan", ParentRead, Parent),
    rule("/api/youtube/download", ParentRead, Parent),
    rule("/api/youtube/download/{id}", ParentRead, Parent),
    rule("/api/youtube/download/{id}/status", ParentRead, Parent),
    rule("/api/youtube/queue", ParentRead, Parent),
    rule("/api/youtube/queue/cleanup", ParentRead, Parent),
    rule("/api/youtube/health", Nothing, Parent),
    rule("/api/profiles", Nothing, Parent),
    rule("/api/profiles/{id}", Need::Viewer, Parent),
    // Signing in is public but same-origin; signing out (DELETE) needs nothing (see `need`).
    rule("/api/session", Nothing, SignIn),
    rule("/api/setup", Need::Viewer, SignIn),
    rule("/api/password", Need::Viewer, Parent),
    rule("/api/tokens", ParentRead, Parent),
    rule("/api/tokens/{id}", ParentRead, Parent),
    rule("/api/progress", Profile, Profile),
    rule("/api/progress/{id}", Profile, Profile),
    rule("/api/sources", ParentRead, Parent),
    rule("/api/sources/{id}", ParentRead, Parent),
    rule("/api/sources/{id}/check", ParentRead, Parent),
    rule("/api/sources/pending", ParentRead, Parent),
    rule("/api/sources/pending/approve", ParentRead, Parent),
    rule("/api/sources/pending/reject", ParentRead, Parent),
    rule("/api/sources/pending/{id}/thumbnail", ParentRead, Parent),
];

/// The policy: what `method` on the route `route` (the matched template, or the raw path when
/// no route matched) requires. API routes are looked up in [`API_ROUTES`]; anything else is
/// deny-by-default: an unknown API read needs a profile, any change a parent.
pub fn need(method: &Method, route: &str) -> Need {
    let safe = is_safe(method);
    if route == "/api/session" && *method == Method::DELETE {
        return Nothing;
    }
    if let Some(rule) = API_ROUTES.iter().find(|r| r.route == route) {
        return if safe { rule.read } else { rule.write };
    }
    match route {
        "/health" | "/health/" | "/metrics" | "/assets/{file}" | "/__livereload" if safe => Nothing,
        "/signin" | "/setup" if !safe => SignIn,
        "/signout" if !safe => Nothing,
        // Pages decide for themselves (they redirect to the profile picker or sign-in).
        page if safe && !page.starts_with("/api/") => Nothing,
        _ if safe => Need::Viewer,
        _ => Parent,
    }
}

/// The value of the session cookie, if the request has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
}

fn credential(headers: &HeaderMap) -> Credential {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value.to_str().ok().and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
        return Credential::Bearer(
            token
                .filter(|t| secret::is_api_token(t))
                .map(secret::Digest::of),
        );
    }
    match session_cookie(headers) {
        Some(value) => {
            Credential::Cookie(secret::is_secret(value).then(|| secret::Digest::of(value)))
        }
        None => Credential::None,
    }
}

/// Reads the request's credentials: from [`Auth::access`](sofathek_core::auth::Auth::access) while
/// that answer is current, else with one database read.
pub async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Access, ApiError> {
    let credential = credential(headers);
    // Read before the lookup: a write committing meanwhile makes the answer stale.
    let generation = state.db.generation();
    if let Some((access, token)) = state.auth.access.get(&credential, generation) {
        let expired = access
            .session
            .as_ref()
            .is_some_and(|s| s.expires_at <= sofathek_db::now());
        if !expired {
            if let Some(token) = token {
                touch_token(state, token);
            }
            return Ok(access);
        }
    }
    let now = sofathek_db::now();
    let (access, token) = state
        .db
        .read_point(move |conn| {
            let setup = profiles::password_hash(conn)?.is_some();
            let mut access = Access::anonymous(setup);
            let mut used_token = None;
            match credential {
                Credential::None => {}
                Credential::Cookie(None) | Credential::Bearer(None) => {
                    access.rejected_credentials = true
                }
                Credential::Cookie(Some(digest)) => {
                    let hash = digest.hex();
                    match profiles::find_session(conn, &hash, &now)? {
                        Some(session) => {
                            access.via = Via::Cookie;
                            access.viewer = if session.parent {
                                Viewer::Parent {
                                    profile: Some(session.profile),
                                }
                            } else {
                                Viewer::Kid(session.profile)
                            };
                            access.session = Some(SessionInfo {
                                token_hash: hash,
                                csrf: session.csrf,
                                expires_at: session.expires_at,
                            });
                        }
                        None => access.rejected_credentials = true,
                    }
                }
                Credential::Bearer(Some(digest)) => {
                    match profiles::find_token(conn, &digest.hex())? {
                        Some(token) => {
                            access.via = Via::Token;
                            access.viewer = Viewer::Parent { profile: None };
                            used_token = Some(TokenUse::of(&token));
                        }
                        None => access.rejected_credentials = true,
                    }
                }
            }
            Ok((access, used_token))
        })
        .await?;
    if !access.rejected_credentials {
        state
            .auth
            .access
            .put(credential, generation, (access.clone(), token));
    }
    if let Some(token) = token {
        touch_token(state, token);
    }
    Ok(access)
}

/// Records a token's use, at most once a minute, without holding up the request.
fn touch_token(state: &AppState, token: TokenUse) {
    let now = time::OffsetDateTime::now_utc();
    let stale = token
        .last_used
        .is_none_or(|last| (now - last).unsigned_abs() >= TOKEN_TOUCH);
    if stale {
        let db = state.db.clone();
        let stamp = sofathek_db::format_time(now);
        tokio::spawn(async move {
            if let Err(err) = db
                .write(move |tx| profiles::touch_token(tx, token.id, &stamp))
                .await
            {
                tracing::warn!(%err, "could not record an api token's use");
            }
        });
    }
}

/// Why the policy refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// 401 (no valid credentials) or 403 (not allowed).
    pub unauthorized: bool,
    pub message: &'static str,
    pub code: Code,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        if !self.unauthorized {
            return ApiError::forbidden(self.message)
                .with_code(self.code)
                .into_response();
        }
        let mut response = ApiError::new(axum::http::StatusCode::UNAUTHORIZED, self.message)
            .with_code(self.code)
            .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"sofathek\""),
        );
        response
    }
}

const fn unauthorized(message: &'static str, code: Code) -> Refusal {
    Refusal {
        unauthorized: true,
        message,
        code,
    }
}

const fn forbidden(message: &'static str, code: Code) -> Refusal {
    Refusal {
        unauthorized: false,
        message,
        code,
    }
}

/// Checks `access` against `need`.
pub fn check(need: Need, access: &Access) -> Result<(), Refusal> {
    let anonymous = || {
        if access.rejected_credentials && access.via == Via::Nothing {
            unauthorized(
                "Invalid, expired or revoked credentials: sign in again or use a valid API token",
                Code::InvalidCredentials,
            )
        } else {
            match need {
                Need::Profile => unauthorized("Pick a profile first", Code::ProfileRequired),
                Need::Viewer => unauthorized(
                    "Authentication required: pick a profile or send an API token",
                    Code::AuthRequired,
                ),
                _ => unauthorized(
                    "Authentication required: sign in as a parent or send an API token",
                    Code::AuthRequired,
                ),
            }
        }
    };
    match (need, &access.viewer) {
        (Need::Nothing | Need::SignIn, _) => Ok(()),
        (Need::Parent, _) if !access.setup => Err(forbidden(SETUP_MESSAGE, Code::SetupRequired)),
        (Need::Viewer | Need::ParentRead, _) if !access.setup => Ok(()),
        (_, Viewer::Anonymous) => Err(anonymous()),
        (Need::Viewer | Need::Profile, _) => Ok(()),
        (Need::ParentRead | Need::Parent, Viewer::Parent { .. }) => Ok(()),
        (Need::ParentRead | Need::Parent, Viewer::Kid(_)) => {
            Err(forbidden("Only a parent can do this", Code::ParentRequired))
        }
    }
}

/// Whether the request was sent by a page of this server (or an allowed origin). Requests
/// without `Origin` (command-line clients, same-origin navigations of older browsers) pass;
/// browsers send `Origin` with every cross-origin POST, PUT, PATCH and DELETE.
pub fn same_origin(headers: &HeaderMap, authority: Option<&str>, allowed: &[String]) -> bool {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if allowed.iter().any(|a| a.trim_end_matches('/') == origin) {
        return true;
    }
    let Some(origin_authority) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(authority);
    host.is_some_and(|h| h.eq_ignore_ascii_case(origin_authority))
}

/// Whether the client reached the server over https (through a TLS-terminating proxy).
pub fn is_https(headers: &HeaderMap) -> bool {
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let forwarded = headers
        .get("forwarded")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("proto=https"));
    forwarded_proto || forwarded
}

/// The `Set-Cookie` value of a new session.
pub fn session_cookie_header(value: &str, max_age: Duration, https: bool) -> Option<HeaderValue> {
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        max_age.as_secs()
    ))
    .ok()
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie_header(https: bool) -> HeaderValue {
    if https {
        HeaderValue::from_static(
            "sofathek_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure",
        )
    } else {
        HeaderValue::from_static("sofathek_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
    }
}

/// Finds the CSRF field of a url-encoded form and puts the body back.
async fn form_csrf(request: Request) -> Result<(Request, Option<String>), Response> {
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !is_form {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_LIMIT).await.map_err(|_| {
        ApiError::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, "Form too large")
            .with_code(Code::BodyRejected)
            .into_response()
    })?;
    let csrf = url::form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == CSRF_FIELD)
        .map(|(_, value)| value.into_owned());
    Ok((Request::from_parts(parts, Body::from(bytes)), csrf))
}

fn csrf_failed() -> Response {
    ApiError::forbidden("Missing or invalid CSRF token: reload the page and try again")
        .with_code(Code::CsrfFailed)
        .into_response()
}

/// The middleware: resolves the credentials, applies the policy, the same-origin rule and the
/// CSRF rule, and hands the [`Access`] to the handler.
pub async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // MatchedPath is an Arc<str> inside: cloning it does not copy the route.
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = match &matched {
        Some(path) => std::borrow::Cow::Borrowed(path.as_str()),
        None => std::borrow::Cow::Owned(request.uri().path().to_owned()),
    };
    let method = request.method().clone();
    let need = need(&method, &route);
    // Static and health routes never look at credentials.
    if is_safe(&method) && is_static(&route) {
        return next.run(request).await;
    }
    let access = match resolve(&state, request.headers()).await {
        Ok(access) => access,
        Err(err) => return err.into_response(),
    };
    if let Err(refusal) = check(need, &access) {
        return refusal.into_response();
    }
    let mut request = request;
    if !is_safe(&method) && access.via != Via::Token {
        let authority = request.uri().authority().map(|a| a.as_str().to_owned());
        if !same_origin(
            request.headers(),
            authority.as_deref(),
            &state.config.allowed_origins,
        ) {
            return ApiError::forbidden("Cross-site request refused")
                .with_code(Code::CrossSite)
                .into_response();
        }
        if access.via == Via::Cookie && need != Need::SignIn {
            let expected = access.session.as_ref().map(|s| s.csrf.as_str());
            let header = request
                .headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let sent = match header {
                Some(sent) => Some(sent),
                None => match form_csrf(request).await {
                    Ok((rebuilt, sent)) => {
                        request = rebuilt;
                        sent
                    }
                    Err(refusal) => return refusal,
                },
            };
            let valid =
                matches!((expected, sent.as_deref()), (Some(e), Some(s)) if secret::same(e, s));
            if !valid {
                return csrf_failed();
            }
        }
    }
    let clear_stale_cookie = access.rejected_credentials
        && access.via == Via::Nothing
        && session_cookie(request.headers()).is_some();
    let https = clear_stale_cookie && is_https(request.headers());
    request.extensions_mut().insert(access);
    let mut response = next.run(request).await;
    if clear_stale_cookie && !response.headers().contains_key(header::SET_COOKIE) {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, clear_cookie_header(https));
    }
    response
}

/// Routes whose answer never depends on who asks: their reads skip reading credentials.
fn is_static(route: &str) -> bool {
    matches!(
        route,
        "/health"
            | "/health/"
            | "/metrics"
            | "/api/health"
            | "/api/health/live"
            | "/api/openapi.json"
            | "/api/youtube/health"
            | "/assets/{file}"
            | "/__livereload"
    )
}

// `Access` lives in `sofathek-core`; the orphan rule lets this crate implement axum's trait for
// it with its own state type.
impl FromRequestParts<AppState> for Access {
    type Rejection = std::convert::Infallible;

    /// The access resolved by [`authorize`]; a request it did not see gets the most limited
    /// access there is (no credentials, password set: sees nothing).
    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Access>()
            .cloned()
            .unwrap_or_else(|| Access::anonymous(true)))
    }
}

/// The client's address (the TCP peer; there is no proxy awareness).
pub struct ClientIp(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::ConnectInfo;
        let peer = parts
            .extensions
            .get::<ConnectInfo<crate::serve_file::Peer>>();
        let ip = match peer {
            Some(ConnectInfo(peer)) => peer.addr.ip(),
            None => parts
                .extensions
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map_or(
                    std::net::Ipv4Addr::UNSPECIFIED.into(),
                    |ConnectInfo(addr)| addr.ip(),
                ),
        };
        Ok(ClientIp(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        let check = |method: Method, route: &str, expected: Need| {
            assert_eq!(need(&method, route), expected, "{method} {route}");
        };
        check(Method::GET, "/api/health", Need::Nothing);
        check(Method::GET, "/metrics", Need::Nothing);
        check(Method::GET, "/assets/{file}", Need::Nothing);
        check(Method::GET, "/api/profiles", Need::Nothing);
        check(Method::POST, "/api/profiles", Need::Parent);
        check(Method::GET, "/api/videos", Need::Viewer);
        check(Method::GET, "/api/stream/{filename}", Need::Viewer);
        check(Method::GET, "/api/events", Need::Viewer);
        check(Method::PATCH, "/api/videos/{id}", Need::Parent);
        check(Method::DELETE, "/api/videos/{id}", Need::Parent);
        check(Method::POST, "/api/videos/upload", Need::Parent);
        check(Method::POST, "/api/jobs", Need::Parent);
        check(Method::GET, "/api/jobs", Need::ParentRead);
        check(Method::DELETE, "/api/youtube/queue", Need::Parent);
        check(Method::POST, "/api/youtube/queue/cleanup", Need::Parent);
        check(Method::GET, "/api/youtube/health", Need::Nothing);
        check(Method::POST, "/api/youtube/health", Need::Parent);
        check(Method::POST, "/api/session", Need::SignIn);
        check(Method::DELETE, "/api/session", Need::Nothing);
        check(Method::POST, "/api/setup", Need::SignIn);
        check(Method::PUT, "/api/progress/{id}", Need::Profile);
        check(Method::GET, "/api/tokens", Need::ParentRead);
        check(Method::POST, "/api/tokens", Need::Parent);
        check(Method::GET, "/", Need::Nothing);
        check(Method::POST, "/", Need::Parent);
        check(Method::POST, "/api/unknown", Need::Parent);
        check(Method::PUT, "/metrics", Need::Parent);
    }

    #[test]
    fn checks() {
        use sofathek_db::profiles::{Profile, ProfileKind};
        let kid = Viewer::Kid(Profile {
            id: 2,
            name: "Mia".into(),
            kind: ProfileKind::Kid,
            avatar: "red".into(),
            created_at: String::new(),
            categories: vec!["kids".into()],
        });
        let parent = Viewer::Parent { profile: None };
        let check_one = |need_: Need, viewer: &Viewer, setup: bool, expected: Option<&str>| {
            let access = Access {
                viewer: viewer.clone(),
                via: if *viewer == Viewer::Anonymous {
                    Via::Nothing
                } else {
                    Via::Cookie
                },
                setup,
                session: None,
                rejected_credentials: false,
            };
            let got = check(need_, &access).err().map(|r| r.code.as_str());
            assert_eq!(got, expected, "{need_:?} {viewer:?} setup={setup}");
        };
        let anonymous = Viewer::Anonymous;
        // Before the setup: reads open, changes refused with the explanation.
        check_one(Need::Viewer, &anonymous, false, None);
        check_one(Need::ParentRead, &anonymous, false, None);
        check_one(Need::Parent, &anonymous, false, Some("SETUP_REQUIRED"));
        check_one(Need::Parent, &parent, false, Some("SETUP_REQUIRED"));
        // After: credentials needed, kids limited.
        check_one(Need::Nothing, &anonymous, true, None);
        check_one(Need::SignIn, &anonymous, true, None);
        check_one(Need::Viewer, &anonymous, true, Some("AUTH_REQUIRED"));
        check_one(Need::Profile, &anonymous, true, Some("PROFILE_REQUIRED"));
        check_one(Need::Parent, &anonymous, true, Some("AUTH_REQUIRED"));
        check_one(Need::Viewer, &kid, true, None);
        check_one(Need::Profile, &kid, true, None);
        check_one(Need::ParentRead, &kid, true, Some("PARENT_REQUIRED"));
        check_one(Need::Parent, &kid, true, Some("PARENT_REQUIRED"));
        check_one(Need::Parent, &parent, true, None);
        check_one(Need::ParentRead, &parent, true, None);
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).expect("value"));
        }
        map
    }

    #[test]
    fn origins() {
        let check = |pairs: &[(&'static str, &str)], ok: bool| {
            let allowed = vec!["https://tv.example".to_string()];
            assert_eq!(
                same_origin(&headers(pairs), None, &allowed),
                ok,
                "{pairs:?}"
            );
        };
        check(&[("host", "nas:3001")], true);
        check(&[("host", "nas:3001"), ("origin", "http://nas:3001")], true);
        check(
            &[("host", "NAS:3001"), ("origin", "https://nas:3001")],
            true,
        );
        check(
            &[("host", "nas:3001"), ("origin", "http://evil:3001")],
            false,
        );
        check(
            &[("host", "nas:3001"), ("origin", "http://nas:3002")],
            false,
        );
        check(&[("host", "nas:3001"), ("origin", "null")], false);
        check(
            &[("host", "nas:3001"), ("origin", "https://tv.example")],
            true,
        );
        check(
            &[("host", "nas:3001"), ("sec-fetch-site", "cross-site")],
            false,
        );
        check(&[("origin", "http://nas:3001")], false);
    }

    #[test]
    fn cookies() {
        let map = headers(&[("cookie", "a=b; sofathek_session=xyz ; c=d")]);
        assert_eq!(session_cookie(&map), Some("xyz"));
        assert_eq!(session_cookie(&headers(&[("cookie", "a=b")])), None);
        let set = session_cookie_header("v", Duration::from_secs(60), false).expect("header");
        assert_eq!(
            set,
            "sofathek_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60"
        );
        let secure = session_cookie_header("v", Duration::from_secs(60), true).expect("header");
        assert!(secure.to_str().is_ok_and(|s| s.ends_with("; Secure")));
        assert!(is_https(&headers(&[("x-forwarded-proto", "https")])));
        assert!(!is_https(&headers(&[("x-forwarded-proto", "http")])));
        assert!(is_https(&headers(&[(
            "forwarded",
            "for=1.2.3.4;proto=https"
        )])));
    }
}

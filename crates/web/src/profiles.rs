//! The sign-in pages: "Who's watching?" (`/profiles`), the parent's password (`/signin`), the
//! first-run setup (`/setup`) and signing out (`POST /signout`). They are plain HTML forms
//! that work without JavaScript; the rules are those of the JSON API
//! (`sofathek_http::session`), which these handlers call.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::access::{redirect, safe_next};
use super::pages::{Chrome, page};
use super::site::Site;
use sofathek_core::auth::Access;
use sofathek_db::profiles::{self, Profile, ProfileKind};
use sofathek_http::auth::ClientIp;
use sofathek_http::auth::{clear_cookie_header, is_https};
use sofathek_http::serve_file::encode_name;
use sofathek_http::session::{self, SignedIn};
use sofathek_http::state::AppState;

/// A profile on the picker.
#[derive(Serialize)]
struct Choice {
    id: i64,
    name: String,
    initial: String,
    avatar: String,
    parent: bool,
    current: bool,
}

impl Choice {
    fn new(profile: &Profile, access: &Access) -> Choice {
        Choice {
            id: profile.id,
            name: profile.name.clone(),
            initial: profile
                .name
                .chars()
                .next()
                .map(|c| c.to_uppercase().to_string())
                .unwrap_or_default(),
            avatar: profile.avatar.clone(),
            parent: profile.kind == ProfileKind::Parent,
            current: access.profile().is_some_and(|p| p.id == profile.id),
        }
    }
}

/// `next` of the sign-in pages.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct NextParams {
    next: Option<String>,
    profile: Option<String>,
}

async fn all_profiles(state: &AppState) -> Vec<Profile> {
    match state.db.read(profiles::list).await {
        Ok(all) => all,
        Err(err) => {
            tracing::error!("cannot read the profiles: {err}");
            Vec::new()
        }
    }
}

/// `GET /profiles`: "Who's watching?".
pub(crate) async fn picker(
    State(state): State<AppState>,
    access: Access,
    Query(params): Query<NextParams>,
) -> Response {
    if !access.setup {
        return redirect("/setup");
    }
    let all = all_profiles(&state).await;
    #[derive(Serialize)]
    struct Context {
        chrome: Chrome,
        profiles: Vec<Choice>,
        next: String,
        next_param: String,
        kids: bool,
    }
    let site = Site::for_config(&state.config);
    let next = safe_next(params.next.as_deref());
    let context = Context {
        chrome: Chrome::new(&site, "profiles", "Who's watching?", &access),
        kids: all.iter().any(|p| p.kind == ProfileKind::Kid),
        profiles: all.iter().map(|p| Choice::new(p, &access)).collect(),
        next_param: encode_name(&next),
        next,
    };
    page(&state, StatusCode::OK, "profiles.html", context).await
}

/// The password page, with an error message after a failed attempt.
async fn signin_page(
    state: &AppState,
    access: &Access,
    status: StatusCode,
    next: String,
    chosen: Option<i64>,
    error: Option<String>,
) -> Response {
    let parents: Vec<Choice> = all_profiles(state)
        .await
        .iter()
        .filter(|p| p.kind == ProfileKind::Parent)
        .map(|p| Choice::new(p, access))
        .collect();
    let chosen = chosen
        .filter(|id| parents.iter().any(|p| p.id == *id))
        .or_else(|| parents.first().map(|p| p.id));
    #[derive(Serialize)]
    struct Context {
        chrome: Chrome,
        parents: Vec<Choice>,
        chosen: Option<i64>,
        next: String,
        next_param: String,
        error: Option<String>,
    }
    let site = Site::for_config(&state.config);
    let context = Context {
        chrome: Chrome::new(&site, "signin", "Parent sign-in", access),
        parents,
        chosen,
        next_param: encode_name(&next),
        next,
        error,
    };
    page(state, status, "signin.html", context).await
}

/// `GET /signin`: the parent's password.
pub(crate) async fn signin_form(
    State(state): State<AppState>,
    access: Access,
    Query(params): Query<NextParams>,
) -> Response {
    if !access.setup {
        return redirect("/setup");
    }
    let chosen = params.profile.as_deref().and_then(|p| p.parse().ok());
    let next = safe_next(params.next.as_deref());
    signin_page(&state, &access, StatusCode::OK, next, chosen, None).await
}

/// A sign-in form: a kid's profile alone, a parent's with the password.
#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    profile: i64,
    password: Option<String>,
    next: Option<String>,
}

fn signed_in_redirect(signed: &SignedIn, headers: &HeaderMap, next: &str) -> Response {
    let mut response = redirect(next);
    if let Some(cookie) = session::set_cookie(signed, headers) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// `POST /signin`: picks the profile and goes on to `next`.
pub(crate) async fn signin(
    State(state): State<AppState>,
    access: Access,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    match session::sign_in(&state, &access, client, form.profile, form.password).await {
        Ok(signed) => signed_in_redirect(&signed, &headers, &next),
        Err(refused) => {
            let status = refused.error.status;
            let mut response = signin_page(
                &state,
                &access,
                status,
                next,
                Some(form.profile),
                Some(refused.error.message.clone()),
            )
            .await;
            if let Some(wait) = refused.retry_after {
                if let Ok(value) = wait.as_secs().max(1).to_string().parse() {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
            }
            response
        }
    }
}

async fn setup_page(
    state: &AppState,
    access: &Access,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    #[derive(Serialize)]
    struct Context {
        chrome: Chrome,
        error: Option<String>,
        min_chars: usize,
    }
    let site = Site::for_config(&state.config);
    let context = Context {
        chrome: Chrome::new(&site, "setup", "Welcome", access),
        error,
        min_chars: sofathek_core::auth::password::MIN_CHARS,
    };
    page(state, status, "setup.html", context).await
}

/// `GET /setup`: the first-run setup (only while no parent password exists).
pub(crate) async fn setup_form(State(state): State<AppState>, access: Access) -> Response {
    if access.setup {
        return redirect("/profiles");
    }
    setup_page(&state, &access, StatusCode::OK, None).await
}

/// The first-run form.
#[derive(Debug, Deserialize)]
pub(crate) struct SetupForm {
    password: String,
    confirm: String,
}

/// `POST /setup`: sets the parent password, signs the parent in and opens the manage page
/// (where the kids' profiles are made).
pub(crate) async fn setup(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Response {
    if access.setup {
        return redirect("/profiles");
    }
    if form.password != form.confirm {
        return setup_page(
            &state,
            &access,
            StatusCode::BAD_REQUEST,
            Some("The two passwords differ".into()),
        )
        .await;
    }
    match session::setup(&state, &access, form.password).await {
        Ok(signed) => signed_in_redirect(&signed, &headers, "/manage#profiles"),
        Err(err) => {
            let status = err.status;
            setup_page(&state, &access, status, Some(err.message)).await
        }
    }
}

/// `POST /signout`: ends the session on the server and goes back to the picker (the CSRF
/// token comes in the form's `csrf` field, checked before this runs).
pub(crate) async fn signout(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
) -> Response {
    if let Err(err) = session::sign_out(&state, &access).await {
        return err.into_response();
    }
    let mut response = redirect("/profiles");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clear_cookie_header(is_https(&headers)));
    response
}

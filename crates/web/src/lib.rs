//! The server-rendered web UI: pages, static assets, templates and the development live reload.
//!
//! Everything the browser gets that is not JSON comes from here. Templates and assets are read
//! at run time from `SOFATHEK_WEB_DIR` (see [`site`]); a checkout works without a build step
//! (`./frontend`), a built directory (`frontend/build.sh OUT`) adds fingerprinted, precompressed
//! assets listed in `manifest.json`.
//!
//! Invariants: **pages never write SQL** (they call `sofathek_db` through `state.db.read`), **no
//! template is inlined in Rust** (a missing web dir gives a clear 500, not a fallback page),
//! and **`/__livereload` answers only in development**.

mod access;
mod assets;
mod format;
mod livereload;
mod pages;
mod profiles;
mod site;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};

use sofathek_http::state::AppState;

/// The web UI's routes, merged into the main router by `sofathek_server::http::router`.
///
/// Pages are split in three groups: [`access::family`] guards what everyone in the family may
/// see (a profile must be chosen once a parent password exists), [`access::parents`] what only
/// parents may use, and the sign-in pages are open to all.
pub fn routes() -> Router<AppState> {
    let family = Router::new()
        .route("/", get(pages::library))
        .route("/watch/{id}", get(pages::watch))
        .route_layer(middleware::from_fn(access::family));
    let parents = Router::new()
        .route("/add", get(pages::add))
        .route("/manage", get(pages::manage))
        .route_layer(middleware::from_fn(access::parents));
    let sign_in = Router::new()
        .route("/profiles", get(profiles::picker))
        .route("/signin", get(profiles::signin_form).post(profiles::signin))
        .route("/setup", get(profiles::setup_form).post(profiles::setup))
        .route("/signout", post(profiles::signout));
    Router::new()
        .merge(family)
        .merge(parents)
        .merge(sign_in)
        .route("/assets/{file}", get(assets::serve))
        .route("/__livereload", get(livereload::events))
}

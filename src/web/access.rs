//! Who may open which page: the single place where the profiles issue adds sign-in checks.
//!
//! Today SOFATHEK has no accounts, so both guards let every request through. When profiles
//! arrive, `family` will require a chosen profile (redirecting to the profile picker) and
//! `parents` will require a parent session (redirecting to sign-in); page handlers stay as
//! they are.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// Pages for everyone in the family: the library and the player.
pub(crate) async fn family(request: Request, next: Next) -> Response {
    next.run(request).await
}

/// Pages for parents: adding videos and managing the library.
pub(crate) async fn parents(request: Request, next: Next) -> Response {
    next.run(request).await
}

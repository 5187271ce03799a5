//! Route handlers, one file per resource, named by verb.

pub mod categories;
pub mod events;
pub mod files;
pub mod health;
pub mod jobs;
pub mod library;
pub mod meta;
pub mod profiles;
pub mod progress;
pub use sofathek_http::session;
pub mod sources;
pub mod tokens;
pub mod upload;
pub mod videos;
pub mod youtube;

use crate::error::ApiError;
use sofathek_core::names::{self, NameKind};

/// A name a parent gives, checked by the one rule (`sofathek_core::names`); a refusal is a 400
/// ("Category name must be 1 to 100 characters without control characters").
pub fn display_name(kind: NameKind, raw: &str) -> Result<String, ApiError> {
    names::check(kind, raw).map_err(|err| ApiError::bad_request(err.to_string()))
}

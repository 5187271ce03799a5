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

/// Longest category name (characters).
pub const CATEGORY_NAME_MAX: usize = 100;
/// Longest profile name (characters).
pub const PROFILE_NAME_MAX: usize = 40;
/// Longest API token name (characters).
pub const TOKEN_NAME_MAX: usize = 100;

/// The one rule for the names a parent gives (categories, profiles, API tokens): trimmed, 1 to
/// `max` characters, no control character. `what` starts the 400's message ("Category name must
/// be 1 to 100 characters without control characters"). The OpenAPI document states the same
/// rule from the same limits (`openapi::contract::trimmed_text`).
pub fn display_name(raw: &str, what: &str, max: usize) -> Result<String, ApiError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > max || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "{what} must be 1 to {max} characters without control characters"
        )));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(
            display_name("  Nature \n", "Category name", 100).ok(),
            Some("Nature".into())
        );
        assert_eq!(
            display_name(&"é".repeat(40), "Profile name", 40).ok(),
            Some("é".repeat(40))
        );
        let too_long = display_name(&"é".repeat(41), "Profile name", 40).expect_err("41 chars");
        assert_eq!(
            (too_long.status.as_u16(), too_long.message.as_str()),
            (
                400,
                "Profile name must be 1 to 40 characters without control characters"
            )
        );
        assert!(display_name(" \t ", "Token name", 100).is_err());
        assert!(display_name("a\u{7}b", "Token name", 100).is_err());
        assert!(display_name("a\u{85}b", "Token name", 100).is_err());
    }
}

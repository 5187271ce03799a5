//! The one rule for the names a parent gives — categories, profiles, API tokens — used by the
//! API, the pages and the command line alike: trimmed, 1 to [`NameKind::max`] characters, no
//! control character. The OpenAPI document states the same rule from the same limits
//! (`sofathek_http::schema::text`).

/// What is being named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Category,
    Profile,
    Token,
}

impl NameKind {
    /// The longest name, in characters.
    pub const fn max(self) -> usize {
        match self {
            NameKind::Category => 100,
            NameKind::Profile => 40,
            NameKind::Token => 100,
        }
    }

    /// How a message names it ("Category name").
    pub fn label(self) -> &'static str {
        match self {
            NameKind::Category => "Category name",
            NameKind::Profile => "Profile name",
            NameKind::Token => "Token name",
        }
    }
}

/// A name the rule refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameError(pub NameKind);

impl std::fmt::Display for NameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} must be 1 to {} characters without control characters",
            self.0.label(),
            self.0.max()
        )
    }
}

impl std::error::Error for NameError {}

/// The name, trimmed, if the rule accepts it.
pub fn check(kind: NameKind, raw: &str) -> Result<String, NameError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > kind.max() || name.chars().any(char::is_control) {
        return Err(NameError(kind));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(
            check(NameKind::Category, "  Nature \n").ok(),
            Some("Nature".into())
        );
        assert_eq!(
            check(NameKind::Profile, &"é".repeat(40)).ok(),
            Some("é".repeat(40))
        );
        let too_long = check(NameKind::Profile, &"é".repeat(41)).expect_err("41 chars");
        assert_eq!(
            too_long.to_string(),
            "Profile name must be 1 to 40 characters without control characters"
        );
        assert!(check(NameKind::Token, " \t ").is_err());
        assert!(check(NameKind::Token, "a\u{7}b").is_err());
        assert!(check(NameKind::Token, "a\u{85}b").is_err());
        assert!(check(NameKind::Token, &"x".repeat(100)).is_ok());
        assert!(check(NameKind::Token, &"x".repeat(101)).is_err());
    }
}

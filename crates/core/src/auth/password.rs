//! The parent password: argon2id hashes in PHC string form, and the rules a new password
//! must follow.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::secret::{RandomError, random_bytes};

/// Shortest accepted password, in characters.
pub const MIN_CHARS: usize = 8;
/// Longest accepted password, in bytes.
pub const MAX_BYTES: usize = 1024;

/// Why a password could not be hashed or used.
#[derive(Debug)]
pub enum PasswordError {
    /// The password breaks a rule; the message says which.
    Rejected(&'static str),
    Random(RandomError),
    Hash(String),
}

impl std::fmt::Display for PasswordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordError::Rejected(why) => f.write_str(why),
            PasswordError::Random(err) => err.fmt(f),
            PasswordError::Hash(err) => write!(f, "password hashing failed: {err}"),
        }
    }
}

impl std::error::Error for PasswordError {}

/// The hasher: argon2id with the RustCrypto defaults (19 MiB, 2 passes, 1 lane), which meet
/// OWASP's recommendation.
fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// Checks a new password against the rules (API messages in the original's style).
pub fn check_new(password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_CHARS {
        return Err(PasswordError::Rejected(
            "Password must be at least 8 characters",
        ));
    }
    if password.len() > MAX_BYTES {
        return Err(PasswordError::Rejected(
            "Password must be at most 1024 bytes",
        ));
    }
    if password.trim() != password {
        return Err(PasswordError::Rejected(
            "Password must not start or end with spaces",
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(PasswordError::Rejected(
            "Password must not contain control characters",
        ));
    }
    Ok(())
}

/// Hashes a new password (after [`check_new`]). Slow on purpose: call it on the blocking pool.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    check_new(password)?;
    let salt_bytes = random_bytes::<16>().map_err(PasswordError::Random)?;
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| PasswordError::Hash(e.to_string()))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the stored PHC string; a malformed hash matches nothing.
/// Slow on purpose: call it on the blocking pool.
pub fn verify(password: &str, stored: &str) -> bool {
    if password.len() > MAX_BYTES {
        return false;
    }
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(err) => {
            tracing::error!("the stored parent password hash is malformed: {err}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash("correct horse").expect("hash");
        let b = hash("correct horse").expect("hash");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b);
        assert!(verify("correct horse", &a));
        assert!(!verify("correct horsf", &a));
        assert!(!verify("correct horse", "not a hash"));
    }

    #[test]
    fn rules() {
        let check = |password: &str, ok: bool| {
            assert_eq!(check_new(password).is_ok(), ok, "{password:?}");
        };
        check("12345678", true);
        check("längeres", true);
        check("1234567", false);
        check(" leading space", false);
        check("bell\u{7}ring", false);
        check(&"x".repeat(1025), false);
    }
}

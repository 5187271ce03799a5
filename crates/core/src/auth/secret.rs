//! Random secrets (session ids, CSRF tokens, API tokens), their SHA-256 hashes and a
//! constant-time comparison.
//!
//! A secret is 32 bytes from the operating system's generator, written as unpadded base64url
//! (43 characters). Only its hash is stored, so a copy of the database opens no session.

use sha2::{Digest as _, Sha256};

/// Bytes of entropy in every secret.
pub const SECRET_BYTES: usize = 32;
/// Length of an encoded secret.
pub const SECRET_LEN: usize = 43;
/// Prefix of API tokens, so that a leaked token is easy to recognise.
pub const TOKEN_PREFIX: &str = "sft_";

/// The operating system's random generator failed.
#[derive(Debug)]
pub struct RandomError(String);

impl std::fmt::Display for RandomError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the random generator failed: {}", self.0)
    }
}

impl std::error::Error for RandomError {}

/// `N` random bytes.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| RandomError(e.to_string()))?;
    Ok(bytes)
}

/// A new random secret (session id or CSRF token).
pub fn new_secret() -> Result<String, RandomError> {
    Ok(base64url(&random_bytes::<SECRET_BYTES>()?))
}

/// A new API token: `sft_` and a random secret.
pub fn new_api_token() -> Result<String, RandomError> {
    Ok(format!("{TOKEN_PREFIX}{}", new_secret()?))
}

/// Whether `value` looks like a secret made by [`new_secret`] (checked before any lookup).
pub fn is_secret(value: &str) -> bool {
    value.len() == SECRET_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `value` looks like an API token made by [`new_api_token`].
pub fn is_api_token(value: &str) -> bool {
    value.strip_prefix(TOKEN_PREFIX).is_some_and(is_secret)
}

/// The SHA-256 of a secret, as bytes: what a request's credential is remembered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `secret`.
    pub fn of(secret: &str) -> Digest {
        Digest(Sha256::digest(secret.as_bytes()).into())
    }

    /// Lowercase hex: what the database keeps.
    pub fn hex(&self) -> String {
        hex(&self.0)
    }
}

/// The hex SHA-256 of a secret: what the database keeps.
pub fn hash(secret: &str) -> String {
    Digest::of(secret).hex()
}

/// Compares two strings in time that depends only on their lengths.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url (RFC 4648 §5).
pub fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let digits = chunk.len() + 1;
        for i in 0..digits {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(BASE64URL[index as usize]));
        }
    }
    out
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648() {
        let check = |input: &str, expected: &str| assert_eq!(base64url(input.as_bytes()), expected);
        check("", "");
        check("f", "Zg");
        check("fo", "Zm8");
        check("foo", "Zm9v");
        check("foob", "Zm9vYg");
        check("fooba", "Zm9vYmE");
        check("foobar", "Zm9vYmFy");
        assert_eq!(base64url(&[0xfb, 0xff, 0xbf]), "-_-_");
    }

    #[test]
    fn secrets_are_random_and_well_formed() {
        let a = new_secret().expect("secret");
        let b = new_secret().expect("secret");
        assert_ne!(a, b);
        assert!(is_secret(&a), "{a}");
        let token = new_api_token().expect("token");
        assert!(is_api_token(&token), "{token}");
        assert!(!is_secret("short"));
        assert!(!is_secret(&"=".repeat(SECRET_LEN)));
        assert!(!is_api_token(&a));
    }

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn comparison() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
        assert!(same("", ""));
    }
}

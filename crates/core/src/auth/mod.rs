//! Family profiles and parent rights: who is asking ([`Access`]), the secrets behind sessions
//! and API tokens, the parent password, the sign-in throttle and the sign-in rules
//! ([`session`]).
//!
//! The HTTP side (reading cookies and tokens, the route policy, CSRF) lives in
//! `sofathek_server::http::auth`; the queries in `sofathek_db::profiles`.

pub mod password;
pub mod secret;
pub mod session;
pub mod throttle;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::memo::Memo;
use sofathek_db::profiles::{self, Profile, ProfileKind};
use sofathek_db::{Db, DbError};

/// How long a session opened with the parent password lasts.
pub const PARENT_SESSION: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a kid's session lasts (a living-room device stays signed in).
pub const KID_SESSION: Duration = Duration::from_secs(180 * 24 * 3600);
/// Name of the parent profile made at first-run setup.
pub const FIRST_PARENT_NAME: &str = "Parents";
/// The avatars a profile may have (colours the web UI knows).
pub const AVATARS: &[&str] = &[
    "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink",
];

/// Who is asking, computed once per request.
#[derive(Debug, Clone, PartialEq)]
pub enum Viewer {
    /// No (valid) credentials.
    Anonymous,
    /// A kid's profile: sees only its categories, changes nothing but its own progress.
    Kid(Profile),
    /// Parent rights: a session opened with the password (with the parent's profile) or an
    /// API token (no profile).
    Parent { profile: Option<Profile> },
}

/// How the credentials came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Nothing,
    /// The session cookie (browsers: CSRF rules apply).
    Cookie,
    /// `Authorization: Bearer` with an API token.
    Token,
}

/// The session behind a cookie.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    pub token_hash: String,
    pub csrf: String,
    pub expires_at: String,
}

/// Everything the server knows about a request's rights.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    pub viewer: Viewer,
    pub via: Via,
    /// A parent password exists (before that, reads are open and nothing can be changed).
    pub setup: bool,
    pub session: Option<SessionInfo>,
    /// Credentials were sent but are not valid (unknown, expired or revoked).
    pub rejected_credentials: bool,
}

impl Access {
    /// No credentials.
    pub fn anonymous(setup: bool) -> Access {
        Access {
            viewer: Viewer::Anonymous,
            via: Via::Nothing,
            setup,
            session: None,
            rejected_credentials: false,
        }
    }

    pub fn is_parent(&self) -> bool {
        matches!(self.viewer, Viewer::Parent { .. })
    }

    /// The categories this viewer may see; `None` means every video (parents, and everyone
    /// before the first-run setup). A kid never sees uncategorised videos; once a password
    /// exists, a request without credentials sees nothing (the route policy refuses it first).
    pub fn allowed_categories(&self) -> Option<Vec<String>> {
        match &self.viewer {
            Viewer::Kid(profile) => Some(profile.categories.clone()),
            Viewer::Anonymous if self.setup => Some(Vec::new()),
            _ => None,
        }
    }

    /// Whether a video of `category` is visible to this viewer.
    pub fn can_see(&self, category: Option<&str>) -> bool {
        match &self.viewer {
            Viewer::Kid(profile) => {
                category.is_some_and(|c| profile.categories.iter().any(|a| a == c))
            }
            Viewer::Anonymous => !self.setup,
            Viewer::Parent { .. } => true,
        }
    }

    /// The profile of the viewer, if any (API tokens have none).
    pub fn profile(&self) -> Option<&Profile> {
        match &self.viewer {
            Viewer::Kid(profile) => Some(profile),
            Viewer::Parent { profile } => profile.as_ref(),
            Viewer::Anonymous => None,
        }
    }
}

/// Credentials as sent with a request, secrets already hashed (the database stores hashes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Credential {
    None,
    /// The hash of a well-formed session cookie; `None` for a malformed one.
    Cookie(Option<secret::Digest>),
    /// The hash of a well-formed API token; `None` for a malformed `Authorization` header.
    Bearer(Option<secret::Digest>),
}

/// Largest number of credentials whose access is remembered (see [`Auth::access`]).
const ACCESS_MEMO_CAPACITY: usize = 1024;

/// Shared state of the sign-in code.
#[derive(Debug)]
pub struct Auth {
    pub throttle: throttle::Throttle,
    /// Password hashing is CPU- and memory-heavy: at most this many run at once.
    pub hashing: tokio::sync::Semaphore,
    /// Recently resolved valid credentials (and "no credentials"), so that a request does not
    /// query the database to learn who is asking; see [`crate::memo`] for when an answer
    /// is reused. Rejected credentials are never remembered.
    pub access: Memo<Credential, (Access, Option<TokenUse>)>,
}

/// The API token a request used, as recording its use needs it: read once with the access it
/// gives, so that a remembered answer costs no copy of the token's row and no date parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenUse {
    pub id: i64,
    /// When the token was last recorded as used (`None`: never, or unreadable).
    pub last_used: Option<time::OffsetDateTime>,
}

impl TokenUse {
    pub fn of(token: &sofathek_db::profiles::TokenRow) -> TokenUse {
        let rfc3339 = &time::format_description::well_known::Rfc3339;
        TokenUse {
            id: token.id,
            last_used: token
                .last_used_at
                .as_deref()
                .and_then(|t| time::OffsetDateTime::parse(t, rfc3339).ok()),
        }
    }
}

impl Auth {
    pub fn new() -> Arc<Auth> {
        Arc::new(Auth {
            throttle: throttle::Throttle::default(),
            hashing: tokio::sync::Semaphore::new(2),
            access: Memo::new(ACCESS_MEMO_CAPACITY),
        })
    }

    /// Verifies a password on the blocking pool, at most two at a time.
    pub async fn verify(&self, password: String, stored: String) -> bool {
        let Ok(_permit) = self.hashing.acquire().await else {
            return false;
        };
        tokio::task::spawn_blocking(move || password::verify(&password, &stored))
            .await
            .unwrap_or(false)
    }

    /// Hashes a new password on the blocking pool.
    pub async fn hash(&self, password: String) -> Result<String, password::PasswordError> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|e| password::PasswordError::Hash(e.to_string()))?;
        tokio::task::spawn_blocking(move || password::hash(&password))
            .await
            .map_err(|e| password::PasswordError::Hash(e.to_string()))?
    }
}

/// What setting a password did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSet {
    /// The password was set for the first time (a parent profile exists now).
    First,
    /// The password was replaced; `revoked` parent sessions were signed out.
    Changed { revoked: u64 },
    /// The stored password already was this one.
    Unchanged,
}

/// Why a password could not be set.
#[derive(Debug)]
pub enum SetPasswordError {
    Password(password::PasswordError),
    Db(DbError),
}

impl std::fmt::Display for SetPasswordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetPasswordError::Password(err) => err.fmt(f),
            SetPasswordError::Db(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for SetPasswordError {}

impl From<DbError> for SetPasswordError {
    fn from(err: DbError) -> Self {
        SetPasswordError::Db(err)
    }
}

/// Stores an already hashed password in one transaction: replaces the old one (signing out
/// every parent session) or sets the first one (creating the parent profile if none exists).
pub fn store_password_hash(tx: &sofathek_db::Tx<'_>, hash: &str) -> Result<PasswordSet, DbError> {
    let had = profiles::password_hash(tx)?.is_some();
    profiles::set_password_hash(tx, hash)?;
    if profiles::count_parents(tx)? == 0 {
        profiles::create(tx, FIRST_PARENT_NAME, ProfileKind::Parent, "blue", &[])?;
    }
    if had {
        let revoked = profiles::revoke_parent_sessions(tx)?;
        Ok(PasswordSet::Changed { revoked })
    } else {
        Ok(PasswordSet::First)
    }
}

/// Sets the parent password (blocking: hashes, then writes). Used by the command line and the
/// password file; the HTTP handlers hash on the blocking pool and call [`store_password_hash`].
pub fn set_password_blocking(db: &Db, password: &str) -> Result<PasswordSet, SetPasswordError> {
    let stored = db.write_blocking(|tx| profiles::password_hash(tx))?;
    if stored
        .as_deref()
        .is_some_and(|s| password::verify(password, s))
    {
        return Ok(PasswordSet::Unchanged);
    }
    let hash = password::hash(password).map_err(SetPasswordError::Password)?;
    Ok(db.write_blocking(|tx| store_password_hash(tx, &hash))?)
}

/// Reads a password from a file: the content without one trailing line break.
pub fn read_password_file(path: &Path) -> std::io::Result<String> {
    let text = std::fs::read_to_string(path)?;
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    Ok(text.to_owned())
}

/// Applies `SOFATHEK_ADMIN_PASSWORD_FILE` at start-up: the file's password becomes the parent
/// password (replacing a different one).
pub fn apply_password_file(db: &Db, path: &Path) -> anyhow::Result<PasswordSet> {
    use anyhow::Context;
    let password = read_password_file(path).with_context(|| {
        format!(
            "cannot read SOFATHEK_ADMIN_PASSWORD_FILE {}",
            path.display()
        )
    })?;
    let set = set_password_blocking(db, &password).map_err(|err| {
        anyhow::anyhow!(
            "invalid SOFATHEK_ADMIN_PASSWORD_FILE {}: {err}",
            path.display()
        )
    })?;
    match set {
        PasswordSet::First => {
            tracing::info!("parent password set from SOFATHEK_ADMIN_PASSWORD_FILE")
        }
        PasswordSet::Changed { revoked } => tracing::info!(
            revoked,
            "parent password changed from SOFATHEK_ADMIN_PASSWORD_FILE; parent sessions signed out"
        ),
        PasswordSet::Unchanged => {}
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(kind: ProfileKind, categories: &[&str]) -> Profile {
        Profile {
            id: 1,
            name: "P".into(),
            kind,
            avatar: "red".into(),
            created_at: String::new(),
            categories: categories.iter().map(|c| (*c).into()).collect(),
        }
    }

    #[test]
    fn visibility() {
        let kid = Access {
            viewer: Viewer::Kid(profile(ProfileKind::Kid, &["kids"])),
            via: Via::Cookie,
            setup: true,
            session: None,
            rejected_credentials: false,
        };
        assert!(kid.can_see(Some("kids")));
        assert!(!kid.can_see(Some("music")));
        assert!(!kid.can_see(None));
        assert_eq!(kid.allowed_categories(), Some(vec!["kids".to_string()]));
        let parent = Access {
            viewer: Viewer::Parent { profile: None },
            ..kid.clone()
        };
        assert!(parent.can_see(None));
        assert_eq!(parent.allowed_categories(), None);
        assert!(Access::anonymous(false).can_see(Some("music")));
        assert!(!Access::anonymous(true).can_see(Some("music")));
        assert_eq!(Access::anonymous(true).allowed_categories(), Some(vec![]));
    }

    /// A token's last use is read from the stored stamp once; never used or unreadable: none.
    #[test]
    fn token_use_reads_the_stored_stamp() {
        let at = time::macros::datetime!(2026-12-06 01:02:03.456 UTC);
        let row = |last_used_at: Option<String>| sofathek_db::profiles::TokenRow {
            id: 7,
            name: "backup".into(),
            created_at: sofathek_db::format_time(at),
            last_used_at,
        };
        let used = TokenUse::of(&row(Some(sofathek_db::format_time(at))));
        assert_eq!(
            used,
            TokenUse {
                id: 7,
                last_used: Some(at)
            }
        );
        assert_eq!(TokenUse::of(&row(None)).last_used, None);
        assert_eq!(TokenUse::of(&row(Some("yesterday".into()))).last_used, None);
    }

    #[test]
    fn password_file_sets_and_changes_the_password() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(&dir.path().join("t.db")).expect("open");
        let file = dir.path().join("pw");
        std::fs::write(&file, "first password\n").expect("write");
        assert_eq!(
            apply_password_file(&db, &file).expect("apply"),
            PasswordSet::First
        );
        assert_eq!(
            apply_password_file(&db, &file).expect("apply"),
            PasswordSet::Unchanged
        );
        let parents = db
            .write_blocking(|tx| profiles::count_parents(tx))
            .expect("count");
        assert_eq!(parents, 1);
        std::fs::write(&file, "second password").expect("write");
        assert!(matches!(
            apply_password_file(&db, &file).expect("apply"),
            PasswordSet::Changed { .. }
        ));
        let stored = db
            .write_blocking(|tx| profiles::password_hash(tx))
            .expect("read")
            .expect("hash");
        assert!(password::verify("second password", &stored));
        std::fs::write(&file, "short").expect("write");
        assert!(apply_password_file(&db, &file).is_err());
        assert!(apply_password_file(&db, &dir.path().join("missing")).is_err());
    }
}

//! Queries over the parent password, profiles, kid allow-lists, sessions and API tokens.
//!
//! Secrets never reach this module: callers pass the SHA-256 hash of a session cookie or an
//! API token, and the argon2id PHC string of the password.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{DbError, DbResult};

const PASSWORD_KEY: &str = "parent_password";

/// Whether a profile is a parent's (full rights once the password is given) or a kid's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProfileKind {
    Parent,
    Kid,
}

impl ProfileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileKind::Parent => "parent",
            ProfileKind::Kid => "kid",
        }
    }

    pub fn parse(s: &str) -> Option<ProfileKind> {
        match s {
            "parent" => Some(ProfileKind::Parent),
            "kid" => Some(ProfileKind::Kid),
            _ => None,
        }
    }
}

/// A profile with its allowed categories (empty for parents, who see everything).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: i64,
    pub name: String,
    pub kind: ProfileKind,
    pub avatar: String,
    pub created_at: String,
    pub categories: Vec<String>,
}

/// A valid (not expired, not revoked) session with its profile.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub id: i64,
    pub profile: Profile,
    /// The session was opened with the parent password.
    pub parent: bool,
    pub csrf: String,
    pub expires_at: String,
}

/// An API token as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// The stored parent password hash, if one was set.
pub fn password_hash(conn: &Connection) -> DbResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [PASSWORD_KEY],
            |r| r.get(0),
        )
        .optional()?)
}

/// Stores the parent password hash, replacing any previous one.
pub fn set_password_hash(conn: &Connection, hash: &str) -> DbResult<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![PASSWORD_KEY, hash],
    )?;
    Ok(())
}

fn categories_of(conn: &Connection, profile_id: i64) -> DbResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT category FROM profile_categories WHERE profile_id = ?1 ORDER BY category",
    )?;
    let rows = stmt
        .query_map([profile_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

fn profile_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Profile> {
    let kind: String = row.get(2)?;
    Ok(Profile {
        id: row.get(0)?,
        name: row.get(1)?,
        kind: ProfileKind::parse(&kind).unwrap_or(ProfileKind::Kid),
        avatar: row.get(3)?,
        created_at: row.get(4)?,
        categories: Vec::new(),
    })
}

/// Every profile: parents first, then by name.
pub fn list(conn: &Connection) -> DbResult<Vec<Profile>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, kind, avatar, created_at FROM profiles \
         ORDER BY kind = 'kid', name COLLATE NOCASE, id",
    )?;
    let mut profiles = stmt
        .query_map([], profile_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for profile in &mut profiles {
        profile.categories = categories_of(conn, profile.id)?;
    }
    Ok(profiles)
}

/// One profile.
pub fn get(conn: &Connection, id: i64) -> DbResult<Profile> {
    let mut profile = conn.query_row(
        "SELECT id, name, kind, avatar, created_at FROM profiles WHERE id = ?1",
        [id],
        profile_from_row,
    )?;
    profile.categories = categories_of(conn, id)?;
    Ok(profile)
}

/// The number of parent profiles.
pub fn count_parents(conn: &Connection) -> DbResult<u64> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM profiles WHERE kind = 'parent'",
        [],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u64)
}

fn check_categories(conn: &Connection, categories: &[String]) -> DbResult<()> {
    for slug in categories {
        if !super::categories::exists(conn, slug)? {
            return Err(DbError::Conflict(format!("Unknown category '{slug}'")));
        }
    }
    Ok(())
}

fn set_categories(conn: &Connection, id: i64, categories: &[String]) -> DbResult<()> {
    check_categories(conn, categories)?;
    conn.execute("DELETE FROM profile_categories WHERE profile_id = ?1", [id])?;
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO profile_categories (profile_id, category) VALUES (?1, ?2)",
    )?;
    for slug in categories {
        stmt.execute(params![id, slug])?;
    }
    Ok(())
}

/// Adds a profile; a name taken by another profile (ignoring case) is a conflict.
pub fn create(
    conn: &Connection,
    name: &str,
    kind: ProfileKind,
    avatar: &str,
    categories: &[String],
) -> DbResult<Profile> {
    conn.execute(
        "INSERT INTO profiles (name, kind, avatar, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, kind.as_str(), avatar, super::now()],
    )?;
    let id = conn.last_insert_rowid();
    if kind == ProfileKind::Kid {
        set_categories(conn, id, categories)?;
    }
    get(conn, id)
}

/// What a parent may change on a profile (the kind is fixed).
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    pub name: Option<String>,
    pub avatar: Option<String>,
    /// A kid's new allow-list (replaces the old one).
    pub categories: Option<Vec<String>>,
}

/// Changes a profile and returns it.
pub fn update(conn: &Connection, id: i64, change: &ProfileChange) -> DbResult<Profile> {
    let profile = get(conn, id)?;
    if let Some(name) = &change.name {
        conn.execute(
            "UPDATE profiles SET name = ?2 WHERE id = ?1",
            params![id, name],
        )?;
    }
    if let Some(avatar) = &change.avatar {
        conn.execute(
            "UPDATE profiles SET avatar = ?2 WHERE id = ?1",
            params![id, avatar],
        )?;
    }
    if let Some(categories) = &change.categories {
        if profile.kind == ProfileKind::Parent {
            return Err(DbError::Conflict(
                "Parent profiles see every category".into(),
            ));
        }
        set_categories(conn, id, categories)?;
    }
    get(conn, id)
}

/// Deletes a profile with its sessions and watch progress; the last parent profile stays.
pub fn delete(conn: &Connection, id: i64) -> DbResult<Profile> {
    let profile = get(conn, id)?;
    if profile.kind == ProfileKind::Parent && count_parents(conn)? <= 1 {
        return Err(DbError::Conflict(
            "The last parent profile cannot be deleted".into(),
        ));
    }
    conn.execute("DELETE FROM profiles WHERE id = ?1", [id])?;
    Ok(profile)
}

/// Opens a session for a profile.
pub fn create_session(
    conn: &Connection,
    token_hash: &str,
    profile_id: i64,
    parent: bool,
    csrf: &str,
    expires_at: &str,
) -> DbResult<i64> {
    conn.execute(
        "INSERT INTO sessions (token_hash, profile_id, parent, csrf, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            token_hash,
            profile_id,
            i64::from(parent),
            csrf,
            super::now(),
            expires_at
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The live session with this cookie hash, if any (expired and revoked ones are not found).
pub fn find_session(
    conn: &Connection,
    token_hash: &str,
    now: &str,
) -> DbResult<Option<SessionRow>> {
    let found = conn
        .query_row(
            "SELECT s.id, s.parent, s.csrf, s.expires_at, s.profile_id FROM sessions s \
             WHERE s.token_hash = ?1 AND s.revoked_at IS NULL AND s.expires_at > ?2",
            params![token_hash, now],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)? != 0,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((id, parent, csrf, expires_at, profile_id)) = found else {
        return Ok(None);
    };
    let profile = match get(conn, profile_id) {
        Ok(profile) => profile,
        Err(DbError::NotFound) => return Ok(None),
        Err(err) => return Err(err),
    };
    Ok(Some(SessionRow {
        id,
        // A parent right only ever comes with a parent profile.
        parent: parent && profile.kind == ProfileKind::Parent,
        profile,
        csrf,
        expires_at,
    }))
}

/// Revokes one session by its cookie hash; true when a live session was revoked.
pub fn revoke_session(conn: &Connection, token_hash: &str) -> DbResult<bool> {
    let n = conn.execute(
        "UPDATE sessions SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
        params![token_hash, super::now()],
    )?;
    Ok(n > 0)
}

/// Revokes every session opened with the parent password; returns how many.
pub fn revoke_parent_sessions(conn: &Connection) -> DbResult<u64> {
    let n = conn.execute(
        "UPDATE sessions SET revoked_at = ?1 WHERE parent = 1 AND revoked_at IS NULL",
        [super::now()],
    )?;
    Ok(n as u64)
}

/// Forgets sessions that ended (expired or revoked) before `before`.
pub fn prune_sessions(conn: &Connection, before: &str) -> DbResult<u64> {
    let n = conn.execute(
        "DELETE FROM sessions WHERE expires_at < ?1 OR (revoked_at IS NOT NULL AND revoked_at < ?1)",
        [before],
    )?;
    Ok(n as u64)
}

/// Stores a new API token (by its hash); returns its listing.
pub fn create_token(conn: &Connection, name: &str, token_hash: &str) -> DbResult<TokenRow> {
    let created_at = super::now();
    conn.execute(
        "INSERT INTO api_tokens (name, token_hash, created_at) VALUES (?1, ?2, ?3)",
        params![name, token_hash, created_at],
    )?;
    Ok(TokenRow {
        id: conn.last_insert_rowid(),
        name: name.into(),
        created_at,
        last_used_at: None,
    })
}

/// The live (not revoked) tokens, newest first.
pub fn list_tokens(conn: &Connection) -> DbResult<Vec<TokenRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, created_at, last_used_at FROM api_tokens WHERE revoked_at IS NULL \
         ORDER BY id DESC",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(TokenRow {
                id: r.get(0)?,
                name: r.get(1)?,
                created_at: r.get(2)?,
                last_used_at: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The live token with this hash, if any.
pub fn find_token(conn: &Connection, token_hash: &str) -> DbResult<Option<TokenRow>> {
    Ok(conn
        .query_row(
            "SELECT id, name, created_at, last_used_at FROM api_tokens \
             WHERE token_hash = ?1 AND revoked_at IS NULL",
            [token_hash],
            |r| {
                Ok(TokenRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    created_at: r.get(2)?,
                    last_used_at: r.get(3)?,
                })
            },
        )
        .optional()?)
}

/// Records when a token was last used.
pub fn touch_token(conn: &Connection, id: i64, now: &str) -> DbResult<()> {
    conn.execute(
        "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// Revokes a token; revoking an unknown or revoked token is `NotFound`.
pub fn revoke_token(conn: &Connection, id: i64) -> DbResult<()> {
    match conn.execute(
        "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, super::now()],
    )? {
        0 => Err(DbError::NotFound),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, crate::Db) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::Db::open(&dir.path().join("t.db")).expect("open");
        (dir, db)
    }

    #[test]
    fn password_is_replaced() {
        let (_dir, db) = db();
        assert_eq!(
            db.write_blocking(|tx| password_hash(tx)).expect("read"),
            None
        );
        db.write_blocking(|tx| set_password_hash(tx, "one"))
            .expect("set");
        db.write_blocking(|tx| set_password_hash(tx, "two"))
            .expect("set");
        assert_eq!(
            db.write_blocking(|tx| password_hash(tx))
                .expect("read")
                .as_deref(),
            Some("two")
        );
    }

    #[test]
    fn profiles_and_allow_lists() {
        let (_dir, db) = db();
        let parent = db
            .write_blocking(|tx| create(tx, "Parents", ProfileKind::Parent, "blue", &[]))
            .expect("parent");
        let kid = db
            .write_blocking(|tx| {
                create(
                    tx,
                    "Mia",
                    ProfileKind::Kid,
                    "red",
                    &["kids".into(), "music".into()],
                )
            })
            .expect("kid");
        assert_eq!(kid.categories, ["kids", "music"]);
        assert!(matches!(
            db.write_blocking(|tx| create(tx, "mia", ProfileKind::Kid, "red", &[])),
            Err(DbError::Conflict(_))
        ));
        assert!(matches!(
            db.write_blocking(|tx| create(tx, "Ben", ProfileKind::Kid, "red", &["nope".into()])),
            Err(DbError::Conflict(_))
        ));
        // The failed insert left no profile behind.
        assert_eq!(db.write_blocking(|tx| list(tx)).expect("list").len(), 2);
        let change = ProfileChange {
            categories: Some(vec!["education".into()]),
            ..Default::default()
        };
        let kid_id = kid.id;
        let changed = db
            .write_blocking(move |tx| update(tx, kid_id, &change))
            .expect("update");
        assert_eq!(changed.categories, ["education"]);
        // Deleting a category removes it from allow-lists.
        db.write_blocking(|tx| super::super::categories::create(tx, "nature", "Nature"))
            .expect("category");
        let change = ProfileChange {
            categories: Some(vec!["nature".into()]),
            ..Default::default()
        };
        db.write_blocking(move |tx| update(tx, kid_id, &change))
            .expect("update");
        db.write_blocking(|tx| super::super::categories::delete(tx, "nature"))
            .expect("delete category");
        assert!(
            db.write_blocking(move |tx| get(tx, kid_id))
                .expect("get")
                .categories
                .is_empty()
        );
        let parent_id = parent.id;
        assert!(matches!(
            db.write_blocking(move |tx| delete(tx, parent_id)),
            Err(DbError::Conflict(_))
        ));
        db.write_blocking(move |tx| delete(tx, kid_id))
            .expect("delete kid");
    }

    #[test]
    fn sessions_expire_and_are_revoked() {
        let (_dir, db) = db();
        let kid = db
            .write_blocking(|tx| create(tx, "Mia", ProfileKind::Kid, "red", &[]))
            .expect("kid");
        let kid_id = kid.id;
        db.write_blocking(move |tx| {
            create_session(tx, "live", kid_id, true, "c1", "2999-01-01T00:00:00.000Z")?;
            create_session(tx, "old", kid_id, false, "c2", "2000-01-01T00:00:00.000Z")
        })
        .expect("sessions");
        let now = crate::now();
        let found = db
            .write_blocking({
                let now = now.clone();
                move |tx| find_session(tx, "live", &now)
            })
            .expect("find")
            .expect("live session");
        // A kid profile never gets parent rights, whatever the row says.
        assert!(!found.parent);
        let expired = db
            .write_blocking({
                let now = now.clone();
                move |tx| find_session(tx, "old", &now)
            })
            .expect("find");
        assert!(expired.is_none());
        assert!(
            db.write_blocking(|tx| revoke_session(tx, "live"))
                .expect("revoke")
        );
        let revoked = db
            .write_blocking(move |tx| find_session(tx, "live", &now))
            .expect("find");
        assert!(revoked.is_none());
    }

    #[test]
    fn tokens_are_found_by_hash_until_revoked() {
        let (_dir, db) = db();
        let token = db
            .write_blocking(|tx| create_token(tx, "backup script", "h1"))
            .expect("create");
        assert!(
            db.write_blocking(|tx| find_token(tx, "h1"))
                .expect("find")
                .is_some()
        );
        assert_eq!(
            db.write_blocking(|tx| list_tokens(tx)).expect("list").len(),
            1
        );
        let id = token.id;
        db.write_blocking(move |tx| revoke_token(tx, id))
            .expect("revoke");
        assert!(
            db.write_blocking(|tx| find_token(tx, "h1"))
                .expect("find")
                .is_none()
        );
        assert!(matches!(
            db.write_blocking(move |tx| revoke_token(tx, id)),
            Err(DbError::NotFound)
        ));
        assert!(
            db.write_blocking(|tx| list_tokens(tx))
                .expect("list")
                .is_empty()
        );
    }
}

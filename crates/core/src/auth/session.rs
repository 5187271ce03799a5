//! Signing in, the first-run setup, signing out and changing the parent password: the rules,
//! without HTTP. The API handlers (`sofathek_http::session`) and the sign-in pages
//! (`sofathek_web::profiles`) both call these and only turn a [`SessionError`] into their
//! answer, so a form without JavaScript follows exactly the API's rules.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use sofathek_db::profiles::{self, Profile, ProfileKind};
use sofathek_db::{Db, DbError};

use super::password::PasswordError;
use super::{Access, Auth, KID_SESSION, PARENT_SESSION, PasswordSet, Via, Viewer, secret};

/// A new session: the secret for the cookie and what the client may know about it.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub profile: Profile,
    pub parent: bool,
    /// The session secret (the cookie's value); only its hash is stored.
    pub cookie: String,
    pub csrf: String,
    pub lifetime: Duration,
}

/// Why a sign-in, setup or password change was refused.
#[derive(Debug)]
pub enum SessionError {
    /// No parent password yet: nothing can be changed.
    SetupRequired,
    /// A password is set already (setup runs once).
    AlreadySetUp,
    NoSuchProfile(i64),
    /// Too many failed attempts: wait this long.
    Throttled(Duration),
    /// A parent profile needs the password.
    PasswordRequired,
    WrongPassword,
    /// The new password is refused, or hashing failed.
    Password(PasswordError),
    /// No randomness for the session secret.
    Random(String),
    Db(DbError),
}

impl From<DbError> for SessionError {
    fn from(err: DbError) -> Self {
        SessionError::Db(err)
    }
}

/// Opens a new session for `profile` (a fresh secret, never the one presented) and revokes the
/// session `previous` (the request's, by hash).
pub async fn open_session(
    db: &Db,
    profile: Profile,
    parent: bool,
    previous: Option<String>,
) -> Result<SignedIn, SessionError> {
    let random = |e: secret::RandomError| SessionError::Random(e.to_string());
    let cookie = secret::new_secret().map_err(random)?;
    let csrf = secret::new_secret().map_err(random)?;
    let lifetime = if parent { PARENT_SESSION } else { KID_SESSION };
    let expires_at = sofathek_db::format_time(time::OffsetDateTime::now_utc() + lifetime);
    let hash = secret::hash(&cookie);
    let profile_id = profile.id;
    let stored_csrf = csrf.clone();
    db.write(move |tx| {
        if let Some(previous) = previous {
            profiles::revoke_session(tx, &previous)?;
        }
        // Ended sessions older than a month are forgotten.
        let month_ago = time::OffsetDateTime::now_utc() - Duration::from_secs(30 * 24 * 3600);
        profiles::prune_sessions(tx, &sofathek_db::format_time(month_ago))?;
        profiles::create_session(tx, &hash, profile_id, parent, &stored_csrf, &expires_at)
    })
    .await?;
    Ok(SignedIn {
        profile,
        parent,
        cookie,
        csrf,
        lifetime,
    })
}

/// Picks a profile: a kid's without a password, a parent's with it. Failed parent sign-ins
/// are throttled per client address and in total (a failure also waits before answering).
pub async fn sign_in(
    db: &Db,
    auth: &Auth,
    access: &Access,
    client: IpAddr,
    profile_id: i64,
    password: Option<String>,
) -> Result<SignedIn, SessionError> {
    if !access.setup {
        return Err(SessionError::SetupRequired);
    }
    let profile = match db.read(move |c| profiles::get(c, profile_id)).await {
        Ok(profile) => profile,
        Err(DbError::NotFound) => return Err(SessionError::NoSuchProfile(profile_id)),
        Err(err) => return Err(err.into()),
    };
    let previous = access.session.as_ref().map(|s| s.token_hash.clone());
    if profile.kind == ProfileKind::Kid {
        return open_session(db, profile, false, previous).await;
    }
    auth.throttle
        .check(client, Instant::now())
        .map_err(SessionError::Throttled)?;
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return Err(SessionError::PasswordRequired);
    };
    let stored = db.read(profiles::password_hash).await?.unwrap_or_default();
    if auth.verify(password, stored).await {
        auth.throttle.succeeded(client);
        tracing::info!(profile = profile.id, "parent signed in");
        return open_session(db, profile, true, previous).await;
    }
    let delay = auth.throttle.failed(client, Instant::now());
    tracing::warn!(%client, "failed parent sign-in");
    tokio::time::sleep(delay).await;
    Err(SessionError::WrongPassword)
}

/// The first-run setup: sets the parent password while none exists and signs the parent in.
pub async fn setup(
    db: &Db,
    auth: &Auth,
    access: &Access,
    password: String,
) -> Result<SignedIn, SessionError> {
    if access.setup {
        return Err(SessionError::AlreadySetUp);
    }
    let hash = auth.hash(password).await.map_err(SessionError::Password)?;
    let stored = db
        .write(move |tx| {
            if profiles::password_hash(tx)?.is_some() {
                return Ok(None);
            }
            super::store_password_hash(tx, &hash)?;
            let parent = profiles::list(tx)?
                .into_iter()
                .find(|p| p.kind == ProfileKind::Parent);
            Ok(parent)
        })
        .await?;
    let Some(parent) = stored else {
        return Err(SessionError::AlreadySetUp);
    };
    tracing::info!("parent password set in the first-run setup");
    let previous = access.session.as_ref().map(|s| s.token_hash.clone());
    open_session(db, parent, true, previous).await
}

/// Revokes the request's session (server-side); true when there was one.
pub async fn sign_out(db: &Db, access: &Access) -> Result<bool, DbError> {
    let Some(session) = access.session.clone() else {
        return Ok(false);
    };
    db.write(move |tx| profiles::revoke_session(tx, &session.token_hash))
        .await
}

/// Changes the parent password (throttled like a sign-in): every parent session is signed
/// out; a parent signed in with a browser gets a new session. Returns how many sessions were
/// revoked and the new session, if any.
pub async fn change_password(
    db: &Db,
    auth: &Auth,
    access: &Access,
    client: IpAddr,
    current: String,
    new: String,
) -> Result<(u64, Option<SignedIn>), SessionError> {
    auth.throttle
        .check(client, Instant::now())
        .map_err(SessionError::Throttled)?;
    super::password::check_new(&new).map_err(SessionError::Password)?;
    let stored = db.read(profiles::password_hash).await?.unwrap_or_default();
    if !auth.verify(current, stored).await {
        let delay = auth.throttle.failed(client, Instant::now());
        tokio::time::sleep(delay).await;
        return Err(SessionError::WrongPassword);
    }
    auth.throttle.succeeded(client);
    let hash = auth.hash(new).await.map_err(SessionError::Password)?;
    let set = db
        .write(move |tx| super::store_password_hash(tx, &hash))
        .await?;
    let revoked = match set {
        PasswordSet::Changed { revoked } => revoked,
        PasswordSet::First | PasswordSet::Unchanged => 0,
    };
    tracing::info!(
        revoked,
        "parent password changed; parent sessions signed out"
    );
    // A browser session stays signed in with a new session; a token needs none.
    let signed = match (&access.viewer, access.via) {
        (
            Viewer::Parent {
                profile: Some(profile),
            },
            Via::Cookie,
        ) => Some(open_session(db, profile.clone(), true, None).await?),
        _ => None,
    };
    Ok((revoked, signed))
}

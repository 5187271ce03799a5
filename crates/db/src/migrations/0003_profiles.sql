-- Family profiles: the parent password, profiles, kid allow-lists, sessions, API tokens and
-- watch progress. Secrets are never stored: sessions and tokens are kept as SHA-256 hashes,
-- the password as an argon2id PHC string.

CREATE TABLE settings (
    key    TEXT PRIMARY KEY NOT NULL,
    value  TEXT NOT NULL
) STRICT;

CREATE TABLE profiles (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
    kind        TEXT NOT NULL CHECK (kind IN ('parent', 'kid')),
    avatar      TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

CREATE UNIQUE INDEX profiles_name ON profiles (name COLLATE NOCASE);

-- The categories a kid profile may see; a kid sees nothing else (not even uncategorised videos).
CREATE TABLE profile_categories (
    profile_id  INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    category    TEXT NOT NULL REFERENCES categories(slug) ON UPDATE CASCADE ON DELETE CASCADE,
    PRIMARY KEY (profile_id, category)
) STRICT;

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash  TEXT NOT NULL UNIQUE,   -- hex SHA-256 of the cookie value
    profile_id  INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    parent      INTEGER NOT NULL CHECK (parent IN (0, 1)),
    csrf        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT
) STRICT;

CREATE INDEX sessions_profile ON sessions (profile_id);

CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash  TEXT NOT NULL UNIQUE,   -- hex SHA-256 of the token
    created_at  TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at  TEXT
) STRICT;

CREATE TABLE watch_progress (
    profile_id  INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    video_id    TEXT NOT NULL REFERENCES videos(id) ON UPDATE CASCADE ON DELETE CASCADE,
    position    REAL NOT NULL CHECK (position >= 0),
    duration    REAL CHECK (duration IS NULL OR duration >= 0),
    completed   INTEGER NOT NULL DEFAULT 0 CHECK (completed IN (0, 1)),
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (profile_id, video_id)
) STRICT;

-- The history and "continue watching" rows are read newest first.
CREATE INDEX watch_progress_recent ON watch_progress (profile_id, updated_at);

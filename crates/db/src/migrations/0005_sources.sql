-- Sources (issue 16): channels, playlists and feeds a parent follows. A check lists a source's
-- entries (yt-dlp, flat) and remembers every entry it has seen, so nothing is fetched twice —
-- also after a restart and after the video was deleted; new entries become URL jobs (approval
-- 'auto') or wait for a parent (approval 'review').

CREATE TABLE sources (
    id                 TEXT PRIMARY KEY NOT NULL,          -- uuid v4
    url                TEXT NOT NULL UNIQUE,
    name               TEXT CHECK (name IS NULL OR length(name) BETWEEN 1 AND 100),  -- the parent's
    title              TEXT,                               -- the listing's title (last check)
    category           TEXT REFERENCES categories(slug) ON UPDATE CASCADE ON DELETE SET NULL,
    interval_secs      INTEGER NOT NULL CHECK (interval_secs BETWEEN 3600 AND 2592000),
    start_after        TEXT,                               -- YYYY-MM-DD: only entries published after
    start_latest       INTEGER CHECK (start_latest IS NULL OR start_latest BETWEEN 1 AND 500),
    max_per_check      INTEGER NOT NULL CHECK (max_per_check BETWEEN 1 AND 50),
    include            TEXT NOT NULL DEFAULT '',           -- comma-separated words
    exclude            TEXT NOT NULL DEFAULT '',
    max_duration_secs  INTEGER CHECK (max_duration_secs IS NULL OR max_duration_secs > 0),
    approval           TEXT NOT NULL CHECK (approval IN ('auto', 'review')),
    audio              INTEGER NOT NULL DEFAULT 0,
    enabled            INTEGER NOT NULL DEFAULT 1,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    checks             INTEGER NOT NULL DEFAULT 0,         -- completed checks (0: the first is due)
    last_check_at      TEXT,
    last_success_at    TEXT,
    last_error_code    TEXT,
    last_error         TEXT,
    failures           INTEGER NOT NULL DEFAULT 0,         -- consecutive failed checks
    next_check_at      TEXT NOT NULL
) STRICT;

CREATE INDEX sources_due ON sources (enabled, next_check_at);

-- Every entry a check has seen, once per source. state: 'queued' (a job was made: job_id),
-- 'pending' (waits for a parent), 'rejected' (a parent said no), 'skipped' (reason: before the
-- start point, filtered, too long). Entries a check left for later (over the per-check
-- maximum) are not recorded: the next check sees them as new.
CREATE TABLE source_entries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a stale page cannot approve another entry
    source_id      TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    entry_id       TEXT NOT NULL,
    url            TEXT NOT NULL,
    title          TEXT,
    duration       REAL,
    published_at   TEXT,
    thumbnail_url  TEXT,
    state          TEXT NOT NULL CHECK (state IN ('queued', 'pending', 'rejected', 'skipped')),
    reason         TEXT,
    job_id         TEXT,
    seen_at        TEXT NOT NULL,
    decided_at     TEXT,
    UNIQUE (source_id, entry_id)
) STRICT;

CREATE INDEX source_entries_state ON source_entries (state, id);

-- The source a job came from (NULL: added by hand; kept when the source is deleted).
ALTER TABLE jobs ADD COLUMN source_id TEXT;

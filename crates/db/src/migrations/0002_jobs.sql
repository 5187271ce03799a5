-- The ingest queue: one row per URL download or upload, from queued to a final state.

CREATE TABLE jobs (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,  -- insertion order (FIFO)
    id                TEXT NOT NULL UNIQUE,               -- uuid v4
    kind              TEXT NOT NULL CHECK (kind IN ('url', 'upload')),
    state             TEXT NOT NULL CHECK (state IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    stage             TEXT CHECK (stage IN ('fetching', 'probing', 'converting', 'thumbnailing', 'publishing')),
    progress          REAL NOT NULL DEFAULT 0,
    bytes             INTEGER,
    total_bytes       INTEGER,
    speed             REAL,
    eta               INTEGER,
    error_code        TEXT,
    error_message     TEXT,
    error_suggestion  TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    url               TEXT,
    title             TEXT,
    category          TEXT,
    audio             INTEGER NOT NULL DEFAULT 0,
    source_name       TEXT,     -- upload: the file name the client sent
    source_file       TEXT,     -- upload: the received file inside the job's staging directory
    metadata          TEXT,     -- JSON: metadata known about the video (pre-flight, then yt-dlp's)
    request_id        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    started_at        TEXT,
    finished_at       TEXT,
    updated_at        TEXT NOT NULL,
    video_id          TEXT
) STRICT;

CREATE INDEX jobs_state ON jobs (state, seq);
CREATE INDEX jobs_finished_at ON jobs (finished_at);

-- The library folder is the family's data (issue 13): videos adopted from the folder, their
-- sidecars and kept companions, and conversions of dropped-in files as jobs.
--
-- files.kind gains 'info' (the <stem>.info.json sidecar that can rebuild the catalogue) and
-- 'extra' (a companion kept on disk that the player does not use, e.g. a .srt next to its .vtt);
-- jobs.kind gains 'import' (a file found in library/ that must be converted to play).
-- SQLite cannot change a CHECK constraint in place: both tables are rebuilt.

CREATE TABLE files_new (
    name      TEXT PRIMARY KEY NOT NULL,
    video_id  TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('video', 'thumbnail', 'audio', 'subtitle', 'original', 'info', 'extra')),
    language  TEXT,
    size      INTEGER NOT NULL
) STRICT;
INSERT INTO files_new (name, video_id, kind, language, size)
    SELECT name, video_id, kind, language, size FROM files;
DROP TABLE files;
ALTER TABLE files_new RENAME TO files;
CREATE INDEX files_video ON files (video_id);

CREATE TABLE jobs_new (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL CHECK (kind IN ('url', 'upload', 'import')),
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
    source_name       TEXT,     -- upload: the file name the client sent; import: the library file
    source_file       TEXT,     -- upload: the received file inside the job's staging directory
    metadata          TEXT,
    request_id        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    started_at        TEXT,
    finished_at       TEXT,
    updated_at        TEXT NOT NULL,
    video_id          TEXT
) STRICT;
INSERT INTO jobs_new SELECT * FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_state ON jobs (state, seq);
CREATE INDEX jobs_finished_at ON jobs (finished_at);
CREATE INDEX jobs_source_name ON jobs (kind, source_name);

-- Files of videos a parent deleted, until they are unlinked: a crash between the catalogue
-- delete and the unlink must not let a library scan adopt them again (start-up finishes the
-- delete instead).
CREATE TABLE deleted_files (
    name        TEXT PRIMARY KEY NOT NULL,
    deleted_at  TEXT NOT NULL
) STRICT;

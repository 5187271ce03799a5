-- The catalogue: categories, videos, their files and full-text search.

CREATE TABLE categories (
    slug        TEXT PRIMARY KEY NOT NULL CHECK (length(slug) BETWEEN 1 AND 64),
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    builtin     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
) STRICT;

INSERT INTO categories (slug, name, builtin, created_at) VALUES
    ('family', 'Family', 1, '1970-01-01T00:00:00Z'),
    ('kids', 'Kids', 1, '1970-01-01T00:00:00Z'),
    ('music', 'Music', 1, '1970-01-01T00:00:00Z'),
    ('education', 'Education', 1, '1970-01-01T00:00:00Z');

CREATE TABLE videos (
    id           TEXT PRIMARY KEY NOT NULL,
    title        TEXT NOT NULL,
    category     TEXT REFERENCES categories(slug) ON UPDATE CASCADE ON DELETE SET NULL,
    channel      TEXT,
    description  TEXT,
    tags         TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
    duration     REAL,
    width        INTEGER,
    height       INTEGER,
    video_codec  TEXT,
    audio_codec  TEXT,
    bitrate      INTEGER,
    format       TEXT,
    file_name    TEXT NOT NULL UNIQUE,
    size         INTEGER NOT NULL,
    modified_at  TEXT NOT NULL,
    added_at     TEXT NOT NULL,
    upload_date  TEXT,
    source_url   TEXT,
    view_count   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX videos_added_at ON videos (added_at);
CREATE INDEX videos_title ON videos (title COLLATE NOCASE);
CREATE INDEX videos_category ON videos (category);

-- Every file of a video lives in the flat library directory under a unique name.
CREATE TABLE files (
    name      TEXT PRIMARY KEY NOT NULL,
    video_id  TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('video', 'thumbnail', 'audio', 'subtitle', 'original')),
    language  TEXT,
    size      INTEGER NOT NULL
) STRICT;

CREATE INDEX files_video ON files (video_id);

CREATE VIRTUAL TABLE videos_fts USING fts5(
    title, channel, description, tags,
    content = 'videos', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER videos_fts_insert AFTER INSERT ON videos BEGIN
    INSERT INTO videos_fts (rowid, title, channel, description, tags)
    VALUES (new.rowid, new.title, new.channel, new.description, new.tags);
END;

CREATE TRIGGER videos_fts_delete AFTER DELETE ON videos BEGIN
    INSERT INTO videos_fts (videos_fts, rowid, title, channel, description, tags)
    VALUES ('delete', old.rowid, old.title, old.channel, old.description, old.tags);
END;

CREATE TRIGGER videos_fts_update AFTER UPDATE ON videos BEGIN
    INSERT INTO videos_fts (videos_fts, rowid, title, channel, description, tags)
    VALUES ('delete', old.rowid, old.title, old.channel, old.description, old.tags);
    INSERT INTO videos_fts (rowid, title, channel, description, tags)
    VALUES (new.rowid, new.title, new.channel, new.description, new.tags);
END;

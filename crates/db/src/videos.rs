//! Queries over videos, their files and the full-text index.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::{DbError, DbResult};

/// What a file of a video is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Video,
    Thumbnail,
    Audio,
    Subtitle,
    Original,
    /// `<stem>.info.json`: the sidecar from which the catalogue can be rebuilt.
    Info,
    /// A companion kept on disk that the player does not use (a `.srt` beside its `.vtt`).
    Extra,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Video => "video",
            FileKind::Thumbnail => "thumbnail",
            FileKind::Audio => "audio",
            FileKind::Subtitle => "subtitle",
            FileKind::Original => "original",
            FileKind::Info => "info",
            FileKind::Extra => "extra",
        }
    }

    fn parse(s: &str) -> FileKind {
        match s {
            "thumbnail" => FileKind::Thumbnail,
            "audio" => FileKind::Audio,
            "subtitle" => FileKind::Subtitle,
            "original" => FileKind::Original,
            "info" => FileKind::Info,
            "extra" => FileKind::Extra,
            _ => FileKind::Video,
        }
    }
}

/// One file in the library directory that belongs to a video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub name: String,
    pub kind: FileKind,
    pub language: Option<String>,
    pub size: u64,
}

/// A catalogue entry (`Default` is for tests' hand-made records: no id, no file).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VideoRecord {
    pub id: String,
    pub title: String,
    pub category: Option<String>,
    pub channel: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub duration: Option<f64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    pub bitrate: Option<i64>,
    pub format: Option<String>,
    /// Name of the main video file in the library directory.
    pub file_name: String,
    pub size: u64,
    pub modified_at: String,
    pub added_at: String,
    pub upload_date: Option<String>,
    pub source_url: Option<String>,
    pub view_count: i64,
    /// Every file of the video, including the main one.
    pub files: Vec<FileRecord>,
}

impl VideoRecord {
    /// The first file of a kind (thumbnail, audio).
    pub fn file_of(&self, kind: FileKind) -> Option<&FileRecord> {
        self.files.iter().find(|f| f.kind == kind)
    }

    pub fn subtitles(&self) -> impl Iterator<Item = &FileRecord> {
        self.files.iter().filter(|f| f.kind == FileKind::Subtitle)
    }
}

/// Sort orders of the library listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub enum Sort {
    /// By file name, byte-wise (the original's order).
    #[default]
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "title")]
    Title,
    #[serde(rename = "-title")]
    TitleDesc,
    #[serde(rename = "added")]
    Added,
    #[serde(rename = "-added")]
    AddedDesc,
    #[serde(rename = "duration")]
    Duration,
    #[serde(rename = "-duration")]
    DurationDesc,
    #[serde(rename = "size")]
    Size,
    #[serde(rename = "-size")]
    SizeDesc,
}

impl Sort {
    fn order_by(self) -> &'static str {
        match self {
            Sort::Name => "v.file_name COLLATE BINARY ASC",
            Sort::Title => "v.title COLLATE NOCASE ASC, v.id ASC",
            Sort::TitleDesc => "v.title COLLATE NOCASE DESC, v.id DESC",
            Sort::Added => "v.added_at ASC, v.id ASC",
            Sort::AddedDesc => "v.added_at DESC, v.id DESC",
            Sort::Duration => "v.duration ASC NULLS LAST, v.id ASC",
            Sort::DurationDesc => "v.duration DESC NULLS LAST, v.id DESC",
            Sort::Size => "v.size ASC, v.id ASC",
            Sort::SizeDesc => "v.size DESC, v.id DESC",
        }
    }
}

/// A listing request: filters, order and page.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub search: Option<String>,
    pub category: Option<String>,
    /// Only these categories (a kid profile's allow-list); `None` means all.
    pub allowed_categories: Option<Vec<String>>,
    pub sort: Sort,
    /// 1-based page and page size; `None` lists everything.
    pub page: Option<(u32, u32)>,
}

/// A page of videos and the totals over everything the filters matched.
#[derive(Debug, Clone)]
pub struct ListResult {
    pub videos: Vec<VideoRecord>,
    pub total_count: u64,
    pub total_size: u64,
}

const COLUMNS: &str = "v.id, v.title, v.category, v.channel, v.description, v.tags, v.duration, \
    v.width, v.height, v.video_codec, v.audio_codec, v.bitrate, v.format, v.file_name, v.size, \
    v.modified_at, v.added_at, v.upload_date, v.source_url, v.view_count";

fn from_row(row: &Row<'_>) -> rusqlite::Result<VideoRecord> {
    let tags: String = row.get(5)?;
    Ok(VideoRecord {
        id: row.get(0)?,
        title: row.get(1)?,
        category: row.get(2)?,
        channel: row.get(3)?,
        description: row.get(4)?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        duration: row.get(6)?,
        width: row.get(7)?,
        height: row.get(8)?,
        video_codec: row.get(9)?,
        audio_codec: row.get(10)?,
        bitrate: row.get(11)?,
        format: row.get(12)?,
        file_name: row.get(13)?,
        size: row.get::<_, i64>(14)?.max(0) as u64,
        modified_at: row.get(15)?,
        added_at: row.get(16)?,
        upload_date: row.get(17)?,
        source_url: row.get(18)?,
        view_count: row.get(19)?,
        files: Vec::new(),
    })
}

fn load_files(conn: &Connection, video: &mut VideoRecord) -> DbResult<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, kind, language, size FROM files WHERE video_id = ?1 ORDER BY kind, language, name",
    )?;
    video.files = stmt
        .query_map([&video.id], |row| {
            Ok(FileRecord {
                name: row.get(0)?,
                kind: FileKind::parse(&row.get::<_, String>(1)?),
                language: row.get(2)?,
                size: row.get::<_, i64>(3)?.max(0) as u64,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(())
}

/// Turns free text into an FTS5 query: every word must match as a prefix.
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// Lists videos matching `query`.
pub fn list(conn: &Connection, query: &ListQuery) -> DbResult<ListResult> {
    let mut where_sql = Vec::new();
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(fts) = query.search.as_deref().and_then(fts_query) {
        where_sql
            .push("v.rowid IN (SELECT rowid FROM videos_fts WHERE videos_fts MATCH ?)".to_string());
        args.push(fts.into());
    }
    if let Some(category) = &query.category {
        where_sql.push("v.category = ?".into());
        args.push(category.clone().into());
    }
    if let Some(allowed) = &query.allowed_categories {
        let placeholders = vec!["?"; allowed.len()].join(",");
        where_sql.push(format!("v.category IN ({placeholders})"));
        args.extend(allowed.iter().map(|c| c.clone().into()));
    }
    let where_clause = if where_sql.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", where_sql.join(" AND "))
    };
    let (total_count, total_size): (i64, i64) = conn.query_row(
        &format!("SELECT count(*), coalesce(sum(v.size), 0) FROM videos v {where_clause}"),
        rusqlite::params_from_iter(args.iter()),
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let mut sql = format!(
        "SELECT {COLUMNS} FROM videos v {where_clause} ORDER BY {}",
        query.sort.order_by()
    );
    if let Some((page, limit)) = query.page {
        let offset = u64::from(page.saturating_sub(1)) * u64::from(limit);
        sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
    }
    let mut stmt = conn.prepare(&sql)?;
    let mut videos = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for video in &mut videos {
        load_files(conn, video)?;
    }
    Ok(ListResult {
        videos,
        total_count: total_count.max(0) as u64,
        total_size: total_size.max(0) as u64,
    })
}

/// One video with its files.
pub fn get(conn: &Connection, id: &str) -> DbResult<VideoRecord> {
    let mut video = conn.query_row(
        &format!("SELECT {COLUMNS} FROM videos v WHERE v.id = ?1"),
        [id],
        from_row,
    )?;
    load_files(conn, &mut video)?;
    Ok(video)
}

/// Whether an id is taken.
pub fn exists(conn: &Connection, id: &str) -> DbResult<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM videos WHERE id = ?1", [id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The owner and kind of a library file, by its name.
pub fn find_file(conn: &Connection, name: &str) -> DbResult<(String, FileRecord)> {
    Ok(conn.query_row(
        "SELECT video_id, name, kind, language, size FROM files WHERE name = ?1",
        [name],
        |row| {
            Ok((
                row.get(0)?,
                FileRecord {
                    name: row.get(1)?,
                    kind: FileKind::parse(&row.get::<_, String>(2)?),
                    language: row.get(3)?,
                    size: row.get::<_, i64>(4)?.max(0) as u64,
                },
            ))
        },
    )?)
}

/// The category of a video (for access checks on file routes).
pub fn category_of(conn: &Connection, id: &str) -> DbResult<Option<String>> {
    Ok(
        conn.query_row("SELECT category FROM videos WHERE id = ?1", [id], |r| {
            r.get(0)
        })?,
    )
}

/// Adds a video and its files in the caller's transaction.
pub fn insert(conn: &Connection, video: &VideoRecord) -> DbResult<()> {
    conn.execute(
        "INSERT INTO videos (id, title, category, channel, description, tags, duration, width, height, \
         video_codec, audio_codec, bitrate, format, file_name, size, modified_at, added_at, upload_date, \
         source_url, view_count) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
        params![
            video.id,
            video.title,
            video.category,
            video.channel,
            video.description,
            serde_json::to_string(&video.tags).unwrap_or_else(|_| "[]".into()),
            video.duration,
            video.width,
            video.height,
            video.video_codec,
            video.audio_codec,
            video.bitrate,
            video.format,
            video.file_name,
            video.size as i64,
            video.modified_at,
            video.added_at,
            video.upload_date,
            video.source_url,
            video.view_count,
        ],
    )?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO files (name, video_id, kind, language, size) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    // A name published again is no longer a deleted file waiting to be unlinked.
    let mut undelete = conn.prepare_cached("DELETE FROM deleted_files WHERE name = ?1")?;
    for file in &video.files {
        undelete.execute([&file.name])?;
        stmt.execute(params![
            file.name,
            video.id,
            file.kind.as_str(),
            file.language,
            file.size as i64
        ])?;
    }
    Ok(())
}

/// Changes the title and/or category; returns the updated record.
pub fn update(
    conn: &Connection,
    id: &str,
    title: Option<&str>,
    category: Option<Option<&str>>,
) -> DbResult<VideoRecord> {
    if let Some(title) = title {
        let n = conn.execute(
            "UPDATE videos SET title = ?2 WHERE id = ?1",
            params![id, title],
        )?;
        if n == 0 {
            return Err(DbError::NotFound);
        }
    }
    if let Some(category) = category {
        let n = conn.execute(
            "UPDATE videos SET category = ?2 WHERE id = ?1",
            params![id, category],
        )?;
        if n == 0 {
            return Err(DbError::NotFound);
        }
    }
    get(conn, id)
}

/// Removes a video from the catalogue and returns its files (for the caller to unlink); the
/// files are remembered as deleted until [`forget_deleted`] (see [`deleted_files`]).
pub fn delete(conn: &Connection, id: &str) -> DbResult<VideoRecord> {
    let video = get(conn, id)?;
    conn.execute("DELETE FROM videos WHERE id = ?1", [id])?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO deleted_files (name, deleted_at) VALUES (?1, ?2) \
         ON CONFLICT (name) DO UPDATE SET deleted_at = excluded.deleted_at",
    )?;
    let now = super::now();
    for file in &video.files {
        stmt.execute(params![file.name, now])?;
    }
    Ok(video)
}

/// Files of deleted videos that may still be on disk (a crash came between the catalogue
/// delete and the unlink).
pub fn deleted_files(conn: &Connection) -> DbResult<std::collections::HashSet<String>> {
    let mut stmt = conn.prepare_cached("SELECT name FROM deleted_files")?;
    let names = stmt
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names)
}

/// Forgets deleted files once they are unlinked.
pub fn forget_deleted(conn: &Connection, names: &[String]) -> DbResult<()> {
    let mut stmt = conn.prepare_cached("DELETE FROM deleted_files WHERE name = ?1")?;
    for name in names {
        stmt.execute([name])?;
    }
    Ok(())
}

/// Adds a file to a video, or updates the size of one it has (a rewritten sidecar).
pub fn put_file(conn: &Connection, video_id: &str, file: &FileRecord) -> DbResult<()> {
    conn.execute(
        "INSERT INTO files (name, video_id, kind, language, size) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (name) DO UPDATE SET size = excluded.size WHERE video_id = excluded.video_id",
        params![
            file.name,
            video_id,
            file.kind.as_str(),
            file.language,
            file.size as i64
        ],
    )?;
    Ok(())
}

/// Forgets one file of a video (the dropped source of an import job).
pub fn remove_file(conn: &Connection, name: &str) -> DbResult<()> {
    conn.execute("DELETE FROM files WHERE name = ?1", [name])?;
    Ok(())
}

/// What a sidecar restores of a known video (`sofathek scan --rebuild`).
#[derive(Debug, Clone, Default)]
pub struct Restore {
    pub title: Option<String>,
    pub category: Option<String>,
    pub added_at: Option<String>,
    pub description: Option<String>,
    pub channel: Option<String>,
}

/// Applies what a sidecar says to a known video; returns whether anything changed.
pub fn restore(conn: &Connection, id: &str, restore: &Restore) -> DbResult<bool> {
    let n = conn.execute(
        "UPDATE videos SET title = coalesce(?2, title), category = coalesce(?3, category), \
         added_at = coalesce(?4, added_at), description = coalesce(?5, description), \
         channel = coalesce(?6, channel) WHERE id = ?1 AND (title IS NOT coalesce(?2, title) \
         OR category IS NOT coalesce(?3, category) OR added_at IS NOT coalesce(?4, added_at) \
         OR description IS NOT coalesce(?5, description) OR channel IS NOT coalesce(?6, channel))",
        params![
            id,
            restore.title,
            restore.category,
            restore.added_at,
            restore.description,
            restore.channel
        ],
    )?;
    Ok(n > 0)
}

/// Ids of the videos in a category.
pub fn ids_in_category(conn: &Connection, slug: &str) -> DbResult<Vec<String>> {
    let mut stmt = conn.prepare("SELECT id FROM videos WHERE category = ?1 ORDER BY id")?;
    let ids = stmt
        .query_map([slug], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// Every video's sidecar file, as (video id, file name).
pub fn sidecars(conn: &Connection) -> DbResult<Vec<(String, String)>> {
    let mut stmt =
        conn.prepare("SELECT video_id, name FROM files WHERE kind = 'info' ORDER BY name")?;
    let rows = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Every file name the catalogue knows (start-up reconciliation).
pub fn all_file_names(conn: &Connection) -> DbResult<std::collections::HashSet<String>> {
    let mut stmt = conn.prepare("SELECT name FROM files")?;
    let names = stmt
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names)
}

/// Counts videos (health report).
pub fn count(conn: &Connection) -> DbResult<u64> {
    let n: i64 = conn.query_row("SELECT count(*) FROM videos", [], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(id: &str, title: &str, channel: &str, category: Option<&str>) -> VideoRecord {
        VideoRecord {
            id: id.into(),
            title: title.into(),
            category: category.map(Into::into),
            channel: Some(channel.into()),
            description: Some(format!("about {id}")),
            tags: vec!["tag-one".into()],
            duration: Some(10.0),
            width: Some(640),
            height: Some(360),
            video_codec: Some("h264".into()),
            audio_codec: Some("aac".into()),
            format: Some("MP4".into()),
            file_name: format!("{id}.mp4"),
            size: 100,
            modified_at: "2024-01-01T00:00:00.000Z".into(),
            added_at: format!("2024-01-0{}T00:00:00.000Z", id.len() % 9 + 1),
            files: vec![
                FileRecord {
                    name: format!("{id}.mp4"),
                    kind: FileKind::Video,
                    size: 100,
                    language: None,
                },
                FileRecord {
                    name: format!("{id}.webp"),
                    kind: FileKind::Thumbnail,
                    size: 5,
                    language: None,
                },
            ],
            ..Default::default()
        }
    }

    fn db() -> (tempfile::TempDir, crate::Db) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::Db::open(&dir.path().join("t.db")).expect("open");
        (dir, db)
    }

    #[test]
    fn insert_search_update_delete() {
        let (_dir, db) = db();
        db.write_blocking(|tx| {
            insert(tx, &video("a", "Cats playing piano", "Pets", Some("music")))?;
            insert(
                tx,
                &video("bb", "Dinosaur facts", "Science Kids", Some("education")),
            )?;
            insert(tx, &video("ccc", "Über Bären", "Natur", None))?;
            Ok(())
        })
        .expect("insert");
        let list_with = |q: ListQuery| db.write_blocking(move |tx| list(tx, &q)).expect("list");

        let all = list_with(ListQuery::default());
        assert_eq!(all.total_count, 3);
        assert_eq!(all.total_size, 300);
        assert_eq!(all.videos[0].files.len(), 2);

        let check_search = |text: &str, expected: &[&str]| {
            let got = list_with(ListQuery {
                search: Some(text.into()),
                ..Default::default()
            });
            let ids: Vec<_> = got.videos.iter().map(|v| v.id.as_str()).collect();
            assert_eq!(ids, expected, "search {text:?}");
        };
        check_search("piano", &["a"]);
        check_search("pia", &["a"]);
        check_search("science", &["bb"]);
        check_search("baren", &["ccc"]);
        check_search("about dino", &["bb"]);
        check_search("tag", &["a", "bb", "ccc"]);
        check_search("\"unbalanced", &[]);
        check_search("NEAR( OR AND *", &[]);

        let music = list_with(ListQuery {
            category: Some("music".into()),
            ..Default::default()
        });
        assert_eq!(music.total_count, 1);
        let allowed = list_with(ListQuery {
            allowed_categories: Some(vec!["education".into()]),
            ..Default::default()
        });
        assert_eq!(allowed.videos.len(), 1);
        let paged = list_with(ListQuery {
            sort: Sort::TitleDesc,
            page: Some((2, 2)),
            ..Default::default()
        });
        assert_eq!(paged.total_count, 3);
        assert_eq!(paged.videos.len(), 1);
        assert_eq!(paged.videos[0].id, "a");

        let updated = db
            .write_blocking(|tx| update(tx, "a", Some("Cats on keys"), Some(Some("family"))))
            .expect("update");
        assert_eq!(updated.title, "Cats on keys");
        assert_eq!(updated.category.as_deref(), Some("family"));
        check_search("keys", &["a"]);
        check_search("piano", &[]);
        assert!(matches!(
            db.write_blocking(|tx| update(tx, "a", None, Some(Some("nope")))),
            Err(DbError::Conflict(_))
        ));
        assert!(matches!(
            db.write_blocking(|tx| update(tx, "zzz", Some("x"), None)),
            Err(DbError::NotFound)
        ));

        let (owner, file) = db
            .write_blocking(|tx| find_file(tx, "bb.webp"))
            .expect("file");
        assert_eq!((owner.as_str(), file.kind), ("bb", FileKind::Thumbnail));
        let removed = db.write_blocking(|tx| delete(tx, "bb")).expect("delete");
        assert_eq!(removed.files.len(), 2);
        assert!(matches!(
            db.write_blocking(|tx| find_file(tx, "bb.webp")),
            Err(DbError::NotFound)
        ));
        check_search("dinosaur", &[]);
        assert_eq!(
            db.write_blocking(|tx| all_file_names(tx))
                .expect("names")
                .len(),
            4
        );
    }

    #[test]
    fn duplicate_file_names_conflict() {
        let (_dir, db) = db();
        db.write_blocking(|tx| insert(tx, &video("a", "A", "x", None)))
            .expect("insert");
        let mut twin = video("b", "B", "x", None);
        twin.file_name = "a.mp4".into();
        assert!(matches!(
            db.write_blocking(|tx| insert(tx, &twin)),
            Err(DbError::Conflict(_))
        ));
        // The failed transaction left nothing behind.
        assert!(!db.write_blocking(|tx| exists(tx, "b")).expect("exists"));
    }

    #[test]
    fn fts_queries_are_quoted() {
        assert_eq!(fts_query("  "), None);
        assert_eq!(fts_query("a b").as_deref(), Some("\"a\"* \"b\"*"));
        assert_eq!(
            fts_query("say \"hi\"").as_deref(),
            Some("\"say\"* \"\"\"hi\"\"\"*")
        );
    }
}

//! Queries over watch progress: one row per profile and video, read back as "continue
//! watching" (started, not finished) and history (everything watched, newest first).

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::DbResult;
use super::videos::{self, VideoRecord};

/// Share of the duration after which a video counts as watched.
pub const COMPLETED_SHARE: f64 = 0.95;
/// Positions below this many seconds are not worth resuming.
pub const MIN_RESUME: f64 = 5.0;

/// A profile's place in one video.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub video_id: String,
    pub position: f64,
    pub duration: Option<f64>,
    pub completed: bool,
    pub updated_at: String,
}

/// Whether `position` of `duration` means the video was watched to the end.
pub fn is_completed(position: f64, duration: Option<f64>) -> bool {
    duration.is_some_and(|d| d > 0.0 && position >= d * COMPLETED_SHARE)
}

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Progress> {
    Ok(Progress {
        video_id: row.get(0)?,
        position: row.get(1)?,
        duration: row.get(2)?,
        completed: row.get::<_, i64>(3)? != 0,
        updated_at: row.get(4)?,
    })
}

/// Records a position (and the duration the player saw); `ended` marks the video watched.
pub fn record(
    conn: &Connection,
    profile_id: i64,
    video_id: &str,
    position: f64,
    duration: Option<f64>,
    ended: bool,
) -> DbResult<Progress> {
    let position = match duration {
        Some(d) if d > 0.0 => position.min(d),
        _ => position,
    };
    let completed = ended || is_completed(position, duration);
    let updated_at = super::now();
    conn.execute(
        "INSERT INTO watch_progress (profile_id, video_id, position, duration, completed, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (profile_id, video_id) DO UPDATE SET position = excluded.position, \
         duration = excluded.duration, completed = excluded.completed, updated_at = excluded.updated_at",
        params![profile_id, video_id, position, duration, i64::from(completed), updated_at],
    )?;
    Ok(Progress {
        video_id: video_id.into(),
        position,
        duration,
        completed,
        updated_at,
    })
}

/// A profile's progress in one video, if it watched it.
pub fn get(conn: &Connection, profile_id: i64, video_id: &str) -> DbResult<Option<Progress>> {
    Ok(conn
        .query_row(
            "SELECT video_id, position, duration, completed, updated_at FROM watch_progress \
             WHERE profile_id = ?1 AND video_id = ?2",
            params![profile_id, video_id],
            from_row,
        )
        .optional()?)
}

/// Which rows of a profile's progress to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shelf {
    /// Started (past [`MIN_RESUME`]) and not finished.
    ContinueWatching,
    /// Everything watched.
    History,
}

/// A profile's progress rows with their videos, newest first, limited to videos in
/// `allowed` categories when given (a kid's allow-list may have changed since).
pub fn shelf(
    conn: &Connection,
    profile_id: i64,
    shelf: Shelf,
    allowed: Option<&[String]>,
    limit: u32,
) -> DbResult<Vec<(Progress, VideoRecord)>> {
    let mut sql = String::from(
        "SELECT p.video_id, p.position, p.duration, p.completed, p.updated_at \
         FROM watch_progress p JOIN videos v ON v.id = p.video_id WHERE p.profile_id = ?",
    );
    let mut args: Vec<rusqlite::types::Value> = vec![profile_id.into()];
    if shelf == Shelf::ContinueWatching {
        sql.push_str(" AND p.completed = 0 AND p.position >= ?");
        args.push(MIN_RESUME.into());
    }
    if let Some(allowed) = allowed {
        let placeholders = vec!["?"; allowed.len()].join(",");
        sql.push_str(&format!(" AND v.category IN ({placeholders})"));
        args.extend(allowed.iter().map(|c| c.clone().into()));
    }
    sql.push_str(&format!(
        " ORDER BY p.updated_at DESC, p.video_id LIMIT {limit}"
    ));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for progress in rows {
        let video = videos::get(conn, &progress.video_id)?;
        out.push((progress, video));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::{self, ProfileKind};
    use crate::videos::{FileKind, FileRecord};

    fn video(id: &str, category: Option<&str>) -> VideoRecord {
        VideoRecord {
            id: id.into(),
            title: id.into(),
            category: category.map(Into::into),
            tags: vec![],
            duration: Some(100.0),
            file_name: format!("{id}.mp4"),
            size: 1,
            modified_at: "2024-01-01T00:00:00.000Z".into(),
            added_at: "2024-01-01T00:00:00.000Z".into(),
            files: vec![FileRecord {
                name: format!("{id}.mp4"),
                kind: FileKind::Video,
                size: 1,
                language: None,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn completion() {
        assert!(!is_completed(10.0, None));
        assert!(!is_completed(10.0, Some(100.0)));
        assert!(is_completed(95.0, Some(100.0)));
        assert!(!is_completed(0.0, Some(0.0)));
    }

    #[test]
    fn shelves_follow_progress_and_allow_lists() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::Db::open(&dir.path().join("t.db")).expect("open");
        let kid = db
            .write_blocking(|tx| {
                videos::insert(tx, &video("a", Some("kids")))?;
                videos::insert(tx, &video("b", Some("music")))?;
                videos::insert(tx, &video("c", Some("kids")))?;
                profiles::create(tx, "Mia", ProfileKind::Kid, "red", &["kids".into()])
            })
            .expect("setup");
        let id = kid.id;
        db.write_blocking(move |tx| {
            record(tx, id, "a", 30.0, Some(100.0), false)?;
            record(tx, id, "b", 40.0, Some(100.0), false)?;
            record(tx, id, "c", 99.0, Some(100.0), false)?;
            Ok(())
        })
        .expect("record");
        let read = |shelf_kind: Shelf, allowed: Option<Vec<String>>| {
            db.write_blocking(move |tx| shelf(tx, id, shelf_kind, allowed.as_deref(), 10))
                .expect("shelf")
                .into_iter()
                .map(|(p, _)| p.video_id)
                .collect::<Vec<_>>()
        };
        let mut cont = read(Shelf::ContinueWatching, None);
        cont.sort();
        assert_eq!(cont, ["a", "b"]);
        assert_eq!(
            read(Shelf::ContinueWatching, Some(vec!["kids".into()])),
            ["a"]
        );
        let mut history = read(Shelf::History, Some(vec!["kids".into()]));
        history.sort();
        assert_eq!(history, ["a", "c"]);
        let got = db
            .write_blocking(move |tx| get(tx, id, "c"))
            .expect("get")
            .expect("row");
        assert!(got.completed);
        // Deleting a video deletes its progress.
        db.write_blocking(|tx| videos::delete(tx, "a"))
            .expect("delete");
        assert_eq!(read(Shelf::ContinueWatching, None), ["b"]);
    }
}

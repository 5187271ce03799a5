//! Queries over sources (channels, playlists, feeds a parent follows) and the entries their
//! checks have seen. The rules (what is new, what a check takes in, the schedule) are
//! `sofathek_ingest::sources`'; this module only stores them.

use std::collections::HashSet;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{DbError, DbResult};

/// Whether new entries are downloaded right away or wait for a parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// Downloaded and published.
    Auto,
    /// Held in the "to approve" list.
    Review,
}

impl Approval {
    pub fn as_str(self) -> &'static str {
        match self {
            Approval::Auto => "auto",
            Approval::Review => "review",
        }
    }

    pub fn parse(value: &str) -> Option<Approval> {
        match value {
            "auto" => Some(Approval::Auto),
            "review" => Some(Approval::Review),
            _ => None,
        }
    }
}

impl FromSql for Approval {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        Approval::parse(text)
            .ok_or_else(|| FromSqlError::Other(format!("approval {text:?}").into()))
    }
}

/// What became of a seen entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryState {
    /// A job was made for it.
    Queued,
    /// Waits for a parent.
    Pending,
    /// A parent said no.
    Rejected,
    /// Not taken (before the start point, filtered out, too long).
    Skipped,
}

impl EntryState {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryState::Queued => "queued",
            EntryState::Pending => "pending",
            EntryState::Rejected => "rejected",
            EntryState::Skipped => "skipped",
        }
    }
}

impl FromSql for EntryState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Ok(match value.as_str()? {
            "queued" => EntryState::Queued,
            "pending" => EntryState::Pending,
            "rejected" => EntryState::Rejected,
            "skipped" => EntryState::Skipped,
            other => return Err(FromSqlError::Other(format!("entry state {other:?}").into())),
        })
    }
}

/// What a parent chose for a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The parent's name for it (else the listing's title is shown).
    pub name: Option<String>,
    pub category: Option<String>,
    pub interval_secs: u32,
    /// `YYYY-MM-DD`: only entries published after this day.
    pub start_after: Option<String>,
    /// At the first check, only the latest N entries.
    pub start_latest: Option<u32>,
    pub max_per_check: u32,
    /// Comma-separated words, one of which a title must contain ("" = any title).
    pub include: String,
    /// Comma-separated words none of which a title may contain.
    pub exclude: String,
    pub max_duration_secs: Option<u32>,
    pub approval: Approval,
    pub audio: bool,
    pub enabled: bool,
}

/// Why the last check failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError {
    pub code: String,
    pub message: String,
}

/// Seen entries per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntryCounts {
    pub queued: u64,
    pub pending: u64,
    pub rejected: u64,
    pub skipped: u64,
}

/// A source as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    pub id: String,
    pub url: String,
    pub settings: Settings,
    /// The listing's title (from the last successful check).
    pub title: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Completed checks (0: the first check has not succeeded yet).
    pub checks: u32,
    pub last_check_at: Option<String>,
    pub last_success_at: Option<String>,
    pub last_error: Option<CheckError>,
    /// Consecutive failed checks.
    pub failures: u32,
    pub next_check_at: String,
    pub counts: EntryCounts,
}

/// How a check ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked {
    Listed { title: Option<String> },
    Failed(CheckError),
}

/// An entry a check records.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    pub entry_id: String,
    pub url: String,
    pub title: Option<String>,
    pub duration: Option<f64>,
    pub published_at: Option<String>,
    pub thumbnail_url: Option<String>,
    pub state: EntryState,
    /// Why it was skipped.
    pub reason: Option<String>,
    pub job_id: Option<String>,
}

/// A seen entry as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRecord {
    pub id: i64,
    pub source_id: String,
    /// The source's display name.
    pub source_name: String,
    pub entry_id: String,
    pub url: String,
    pub title: Option<String>,
    pub duration: Option<f64>,
    pub published_at: Option<String>,
    pub thumbnail_url: Option<String>,
    pub state: EntryState,
    pub reason: Option<String>,
    pub job_id: Option<String>,
    pub seen_at: String,
    pub decided_at: Option<String>,
}

const COLUMNS: &str = "s.id, s.url, s.name, s.category, s.interval_secs, s.start_after, s.start_latest, \
    s.max_per_check, s.include, s.exclude, s.max_duration_secs, s.approval, s.audio, s.enabled, \
    s.title, s.created_at, s.updated_at, s.checks, s.last_check_at, s.last_success_at, \
    s.last_error_code, s.last_error, s.failures, s.next_check_at, \
    (SELECT count(*) FROM source_entries e WHERE e.source_id = s.id AND e.state = 'queued'), \
    (SELECT count(*) FROM source_entries e WHERE e.source_id = s.id AND e.state = 'pending'), \
    (SELECT count(*) FROM source_entries e WHERE e.source_id = s.id AND e.state = 'rejected'), \
    (SELECT count(*) FROM source_entries e WHERE e.source_id = s.id AND e.state = 'skipped')";

fn unsigned(row: &Row<'_>, at: usize) -> rusqlite::Result<u32> {
    Ok(row.get::<_, i64>(at)?.clamp(0, i64::from(u32::MAX)) as u32)
}

fn count(row: &Row<'_>, at: usize) -> rusqlite::Result<u64> {
    Ok(row.get::<_, i64>(at)?.max(0) as u64)
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<SourceRecord> {
    let error_code: Option<String> = row.get(20)?;
    Ok(SourceRecord {
        id: row.get(0)?,
        url: row.get(1)?,
        settings: Settings {
            name: row.get(2)?,
            category: row.get(3)?,
            interval_secs: unsigned(row, 4)?,
            start_after: row.get(5)?,
            start_latest: row.get::<_, Option<i64>>(6)?.map(|n| n.max(0) as u32),
            max_per_check: unsigned(row, 7)?,
            include: row.get(8)?,
            exclude: row.get(9)?,
            max_duration_secs: row.get::<_, Option<i64>>(10)?.map(|n| n.max(0) as u32),
            approval: row.get(11)?,
            audio: row.get::<_, i64>(12)? != 0,
            enabled: row.get::<_, i64>(13)? != 0,
        },
        title: row.get(14)?,
        created_at: row.get(15)?,
        updated_at: row.get(16)?,
        checks: unsigned(row, 17)?,
        last_check_at: row.get(18)?,
        last_success_at: row.get(19)?,
        last_error: match error_code {
            Some(code) => Some(CheckError {
                code,
                message: row.get::<_, Option<String>>(21)?.unwrap_or_default(),
            }),
            None => None,
        },
        failures: unsigned(row, 22)?,
        next_check_at: row.get(23)?,
        counts: EntryCounts {
            queued: count(row, 24)?,
            pending: count(row, 25)?,
            rejected: count(row, 26)?,
            skipped: count(row, 27)?,
        },
    })
}

/// Adds a source whose first check is due at `next_check_at`; `Conflict` when its URL is
/// already followed.
pub fn insert(
    conn: &Connection,
    id: &str,
    url: &str,
    settings: &Settings,
    next_check_at: &str,
) -> DbResult<SourceRecord> {
    let followed: Option<String> = conn
        .query_row("SELECT id FROM sources WHERE url = ?1", [url], |r| r.get(0))
        .optional()?;
    if followed.is_some() {
        return Err(DbError::Conflict(format!("{url} is already followed")));
    }
    let now = super::now();
    conn.execute(
        "INSERT INTO sources (id, url, name, category, interval_secs, start_after, start_latest, \
         max_per_check, include, exclude, max_duration_secs, approval, audio, enabled, created_at, \
         updated_at, next_check_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16)",
        params![
            id,
            url,
            settings.name,
            settings.category,
            settings.interval_secs,
            settings.start_after,
            settings.start_latest,
            settings.max_per_check,
            settings.include,
            settings.exclude,
            settings.max_duration_secs,
            settings.approval.as_str(),
            i64::from(settings.audio),
            i64::from(settings.enabled),
            now,
            next_check_at,
        ],
    )?;
    get(conn, id)
}

/// One source.
pub fn get(conn: &Connection, id: &str) -> DbResult<SourceRecord> {
    Ok(conn.query_row(
        &format!("SELECT {COLUMNS} FROM sources s WHERE s.id = ?1"),
        [id],
        from_row,
    )?)
}

/// Every source, by name.
pub fn list(conn: &Connection) -> DbResult<Vec<SourceRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM sources s \
         ORDER BY coalesce(s.name, s.title, s.url) COLLATE NOCASE, s.created_at"
    ))?;
    let rows = stmt
        .query_map([], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Replaces a source's settings and its next check time.
pub fn update(
    conn: &Connection,
    id: &str,
    settings: &Settings,
    next_check_at: &str,
) -> DbResult<SourceRecord> {
    let changed = conn.execute(
        "UPDATE sources SET name = ?2, category = ?3, interval_secs = ?4, start_after = ?5, \
         start_latest = ?6, max_per_check = ?7, include = ?8, exclude = ?9, max_duration_secs = ?10, \
         approval = ?11, audio = ?12, enabled = ?13, next_check_at = ?14, updated_at = ?15 \
         WHERE id = ?1",
        params![
            id,
            settings.name,
            settings.category,
            settings.interval_secs,
            settings.start_after,
            settings.start_latest,
            settings.max_per_check,
            settings.include,
            settings.exclude,
            settings.max_duration_secs,
            settings.approval.as_str(),
            i64::from(settings.audio),
            i64::from(settings.enabled),
            next_check_at,
            super::now(),
        ],
    )?;
    if changed == 0 {
        return Err(DbError::NotFound);
    }
    get(conn, id)
}

/// Removes a source and its seen entries (its jobs and videos stay).
pub fn delete(conn: &Connection, id: &str) -> DbResult<()> {
    match conn.execute("DELETE FROM sources WHERE id = ?1", [id])? {
        0 => Err(DbError::NotFound),
        _ => Ok(()),
    }
}

/// Moves a source's next check (e.g. to now, for "check now").
pub fn set_next_check(conn: &Connection, id: &str, at: &str) -> DbResult<()> {
    match conn.execute(
        "UPDATE sources SET next_check_at = ?2 WHERE id = ?1",
        params![id, at],
    )? {
        0 => Err(DbError::NotFound),
        _ => Ok(()),
    }
}

/// Enabled sources whose check is due at `now`, the longest-waiting first.
pub fn due(conn: &Connection, now: &str) -> DbResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM sources WHERE enabled = 1 AND next_check_at <= ?1 ORDER BY next_check_at, id",
    )?;
    let rows = stmt
        .query_map([now], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The earliest next check of an enabled source.
pub fn next_due(conn: &Connection) -> DbResult<Option<String>> {
    Ok(conn.query_row(
        "SELECT min(next_check_at) FROM sources WHERE enabled = 1",
        [],
        |r| r.get(0),
    )?)
}

/// The ids of every entry of a source that a check has recorded.
pub fn seen(conn: &Connection, source_id: &str) -> DbResult<HashSet<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT entry_id FROM source_entries WHERE source_id = ?1")?;
    let rows = stmt
        .query_map([source_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Records how a check ended at `at` and when the next one is due.
pub fn record_check(
    conn: &Connection,
    id: &str,
    checked: &Checked,
    at: &str,
    next_check_at: &str,
) -> DbResult<()> {
    let changed = match checked {
        Checked::Listed { title } => conn.execute(
            "UPDATE sources SET checks = checks + 1, last_check_at = ?2, last_success_at = ?2, \
             title = coalesce(?3, title), failures = 0, last_error_code = NULL, last_error = NULL, \
             next_check_at = ?4 WHERE id = ?1",
            params![id, at, title, next_check_at],
        )?,
        Checked::Failed(error) => conn.execute(
            "UPDATE sources SET last_check_at = ?2, failures = failures + 1, last_error_code = ?3, \
             last_error = ?4, next_check_at = ?5 WHERE id = ?1",
            params![id, at, error.code, error.message, next_check_at],
        )?,
    };
    match changed {
        0 => Err(DbError::NotFound),
        _ => Ok(()),
    }
}

/// Records a seen entry; `Conflict` when the source already has it.
pub fn insert_entry(conn: &Connection, source_id: &str, entry: &NewEntry) -> DbResult<i64> {
    let now = super::now();
    let decided = matches!(entry.state, EntryState::Queued | EntryState::Skipped).then_some(&now);
    conn.execute(
        "INSERT INTO source_entries (source_id, entry_id, url, title, duration, published_at, \
         thumbnail_url, state, reason, job_id, seen_at, decided_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            source_id,
            entry.entry_id,
            entry.url,
            entry.title,
            entry.duration,
            entry.published_at,
            entry.thumbnail_url,
            entry.state.as_str(),
            entry.reason,
            entry.job_id,
            now,
            decided,
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

const ENTRY_COLUMNS: &str = "e.id, e.source_id, coalesce(s.name, s.title, s.url), e.entry_id, e.url, \
    e.title, e.duration, e.published_at, e.thumbnail_url, e.state, e.reason, e.job_id, e.seen_at, \
    e.decided_at";

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<EntryRecord> {
    Ok(EntryRecord {
        id: row.get(0)?,
        source_id: row.get(1)?,
        source_name: row.get(2)?,
        entry_id: row.get(3)?,
        url: row.get(4)?,
        title: row.get(5)?,
        duration: row.get(6)?,
        published_at: row.get(7)?,
        thumbnail_url: row.get(8)?,
        state: row.get(9)?,
        reason: row.get(10)?,
        job_id: row.get(11)?,
        seen_at: row.get(12)?,
        decided_at: row.get(13)?,
    })
}

/// One seen entry.
pub fn entry(conn: &Connection, id: i64) -> DbResult<EntryRecord> {
    Ok(conn.query_row(
        &format!(
            "SELECT {ENTRY_COLUMNS} FROM source_entries e JOIN sources s ON s.id = e.source_id \
             WHERE e.id = ?1"
        ),
        [id],
        entry_from_row,
    )?)
}

/// Entries in a state (of one source, or of all), oldest seen first.
pub fn entries(
    conn: &Connection,
    state: EntryState,
    source_id: Option<&str>,
) -> DbResult<Vec<EntryRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENTRY_COLUMNS} FROM source_entries e JOIN sources s ON s.id = e.source_id \
         WHERE e.state = ?1 AND (?2 IS NULL OR e.source_id = ?2) ORDER BY e.id"
    ))?;
    let rows = stmt
        .query_map(params![state.as_str(), source_id], entry_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Decides a pending entry: `Queued` with its job, or `Rejected`. `NotFound` when the entry
/// does not exist or is no longer pending.
pub fn decide(conn: &Connection, id: i64, state: EntryState, job_id: Option<&str>) -> DbResult<()> {
    match conn.execute(
        "UPDATE source_entries SET state = ?2, job_id = ?3, decided_at = ?4 \
         WHERE id = ?1 AND state = 'pending'",
        params![id, state.as_str(), job_id, super::now()],
    )? {
        0 => Err(DbError::NotFound),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Db;

    fn settings() -> Settings {
        Settings {
            name: None,
            category: Some("kids".into()),
            interval_secs: 86_400,
            start_after: None,
            start_latest: Some(3),
            max_per_check: 5,
            include: String::new(),
            exclude: String::new(),
            max_duration_secs: None,
            approval: Approval::Review,
            audio: false,
            enabled: true,
        }
    }

    fn entry(id: &str, state: EntryState) -> NewEntry {
        NewEntry {
            entry_id: id.into(),
            url: format!("http://127.0.0.1/{id}.mp4"),
            title: Some(id.to_uppercase()),
            duration: Some(12.0),
            published_at: None,
            thumbnail_url: None,
            state,
            reason: None,
            job_id: None,
        }
    }

    #[test]
    fn a_source_remembers_its_entries_and_checks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(&dir.path().join("t.db")).expect("open");
        db.write_blocking(|tx| {
            let url = "http://127.0.0.1/feed.xml";
            let s = insert(tx, "s1", url, &settings(), "2026-01-01T00:00:00.000Z")?;
            assert_eq!(
                (s.checks, s.failures, s.counts),
                (0, 0, EntryCounts::default())
            );
            assert!(matches!(
                insert(tx, "s2", url, &settings(), "2026-01-01T00:00:00.000Z"),
                Err(DbError::Conflict(_))
            ));
            assert_eq!(due(tx, "2025-12-31T00:00:00.000Z")?, Vec::<String>::new());
            assert_eq!(due(tx, "2026-01-01T00:00:00.000Z")?, vec!["s1".to_owned()]);

            let pending = insert_entry(tx, "s1", &entry("a", EntryState::Pending))?;
            insert_entry(tx, "s1", &entry("b", EntryState::Skipped))?;
            assert!(matches!(
                insert_entry(tx, "s1", &entry("a", EntryState::Queued)),
                Err(DbError::Conflict(_))
            ));
            assert_eq!(seen(tx, "s1")?, HashSet::from(["a".into(), "b".into()]));
            decide(tx, pending, EntryState::Queued, Some("job-1"))?;
            assert!(matches!(
                decide(tx, pending, EntryState::Rejected, None),
                Err(DbError::NotFound)
            ));

            let failed = Checked::Failed(CheckError {
                code: "SOURCE_LIST_FAILED".into(),
                message: "404".into(),
            });
            record_check(
                tx,
                "s1",
                &failed,
                "2026-01-01T00:00:01.000Z",
                "2026-01-01T01:00:01.000Z",
            )?;
            let s = get(tx, "s1")?;
            assert_eq!((s.failures, s.checks), (1, 0));
            assert_eq!(
                s.last_error.map(|e| e.code).as_deref(),
                Some("SOURCE_LIST_FAILED")
            );
            let listed = Checked::Listed {
                title: Some("Feed".into()),
            };
            record_check(
                tx,
                "s1",
                &listed,
                "2026-01-01T01:00:01.000Z",
                "2026-01-02T01:00:01.000Z",
            )?;
            let s = get(tx, "s1")?;
            assert_eq!((s.failures, s.checks, s.last_error), (0, 1, None));
            assert_eq!(s.title.as_deref(), Some("Feed"));
            assert_eq!((s.counts.queued, s.counts.skipped), (1, 1));
            assert_eq!(next_due(tx)?.as_deref(), Some("2026-01-02T01:00:01.000Z"));

            let last = insert_entry(tx, "s1", &entry("c", EntryState::Pending))?;
            delete(tx, "s1")?;
            assert!(seen(tx, "s1")?.is_empty(), "entries go with their source");
            assert!(matches!(delete(tx, "s1"), Err(DbError::NotFound)));
            // An entry id is never reused, so a stale page cannot approve another entry.
            let other = "http://127.0.0.1/other.xml";
            insert(tx, "s3", other, &settings(), "2026-01-01T00:00:00.000Z")?;
            assert!(insert_entry(tx, "s3", &entry("a", EntryState::Pending))? > last);
            Ok(())
        })
        .expect("queries");
    }
}

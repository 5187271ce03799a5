//! Queries over the ingest queue: jobs from `queued` through `running` to a final state.
//!
//! State changes are conditional updates (`... WHERE state = 'running'`), so a cancel and a
//! worker finishing at the same moment cannot overwrite each other: whoever changes the row
//! first wins and the other sees `false`.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use rusqlite::{Connection, OptionalExtension, Params, Row, params};
use serde::{Deserialize, Serialize};

use super::{DbError, DbResult};

/// Where a job's video comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    Url,
    Upload,
    /// A file found in the library folder that must be converted to play.
    Import,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Url => "url",
            JobKind::Upload => "upload",
            JobKind::Import => "import",
        }
    }

    fn parse(s: &str) -> Option<JobKind> {
        Some(match s {
            "url" => JobKind::Url,
            "upload" => JobKind::Upload,
            "import" => JobKind::Import,
            _ => return None,
        })
    }
}

/// A stored value this version does not know (a database written by a newer version, or
/// damaged) is an error, never read as some other value: an unknown state read as `queued`
/// would run a job again.
fn known<T>(parsed: Option<T>, value: &str, what: &'static str) -> FromSqlResult<T> {
    parsed.ok_or_else(|| FromSqlError::Other(format!("unknown job {what} '{value}'").into()))
}

impl FromSql for JobKind {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        known(JobKind::parse(text), text, "kind")
    }
}

impl FromSql for JobState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        known(JobState::parse(text), text, "state")
    }
}

impl FromSql for Stage {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        known(Stage::parse(text), text, "stage")
    }
}

/// The life cycle of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Completed, failed or cancelled.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Completed | JobState::Failed | JobState::Cancelled
        )
    }

    fn parse(s: &str) -> Option<JobState> {
        Some(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "completed" => JobState::Completed,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            _ => return None,
        })
    }
}

/// What a running job is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Fetching,
    Probing,
    Converting,
    Thumbnailing,
    Publishing,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Fetching => "fetching",
            Stage::Probing => "probing",
            Stage::Converting => "converting",
            Stage::Thumbnailing => "thumbnailing",
            Stage::Publishing => "publishing",
        }
    }

    fn parse(s: &str) -> Option<Stage> {
        Some(match s {
            "fetching" => Stage::Fetching,
            "probing" => Stage::Probing,
            "converting" => Stage::Converting,
            "thumbnailing" => Stage::Thumbnailing,
            "publishing" => Stage::Publishing,
            _ => return None,
        })
    }
}

/// Why a job failed: a stable code, a message and what the user can do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobError {
    pub code: String,
    pub message: String,
    pub suggestion: String,
}

/// One job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub id: String,
    pub kind: JobKind,
    pub state: JobState,
    pub stage: Option<Stage>,
    /// Overall progress, 0 to 100.
    pub progress: f64,
    pub bytes: Option<u64>,
    pub total_bytes: Option<u64>,
    /// Bytes per second.
    pub speed: Option<f64>,
    /// Seconds left.
    pub eta: Option<u64>,
    pub error: Option<JobError>,
    pub attempts: u32,
    pub url: Option<String>,
    /// The title the user asked for (display only until publish, where it names the video).
    pub title: Option<String>,
    pub category: Option<String>,
    /// Make an MP3 copy of the sound track.
    pub audio: bool,
    /// Upload: the client's file name.
    pub source_name: Option<String>,
    /// Upload: the received file's name inside the job's staging directory.
    pub source_file: Option<String>,
    /// Metadata known about the video (pre-flight, then yt-dlp's), as JSON.
    pub metadata: Option<serde_json::Value>,
    pub request_id: String,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub updated_at: String,
    pub video_id: Option<String>,
    /// The source (channel, playlist, feed) the job came from, if any.
    pub source: Option<JobSource>,
}

/// The source a job came from: its id and display name (the name the parent gave, else the
/// listing's title, else its URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct JobSource {
    pub id: String,
    pub name: String,
}

/// A job to add.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: String,
    pub kind: JobKind,
    pub url: Option<String>,
    pub title: Option<String>,
    pub category: Option<String>,
    pub audio: bool,
    pub source_name: Option<String>,
    pub source_file: Option<String>,
    pub metadata: Option<serde_json::Value>,
    pub request_id: String,
    /// The source the job comes from (see [`JobSource`]).
    pub source_id: Option<String>,
}

/// A finished job brought in from another system's history (the original's download queue).
#[derive(Debug, Clone)]
pub struct PastJob {
    pub job: NewJob,
    /// Completed, failed or cancelled.
    pub state: JobState,
    pub error: Option<JobError>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: String,
    pub video_id: Option<String>,
}

/// Live progress of a running job.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ProgressUpdate {
    pub stage: Option<Stage>,
    pub progress: f64,
    pub bytes: Option<u64>,
    pub total_bytes: Option<u64>,
    pub speed: Option<f64>,
    pub eta: Option<u64>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Completed { video_id: String },
    Failed(JobError),
    Cancelled,
}

/// Jobs per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct JobCounts {
    pub queued: u64,
    pub running: u64,
    pub completed: u64,
    pub failed: u64,
    pub cancelled: u64,
}

impl JobCounts {
    pub fn total(&self) -> u64 {
        self.queued + self.running + self.completed + self.failed + self.cancelled
    }
}

/// Listing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    NewestFirst,
    OldestFirst,
}

const COLUMNS: &str = "id, kind, state, stage, progress, bytes, total_bytes, speed, eta, error_code, \
    error_message, error_suggestion, attempts, url, title, category, audio, source_name, source_file, \
    metadata, request_id, created_at, started_at, finished_at, updated_at, video_id, source_id, \
    (SELECT coalesce(s.name, s.title, s.url) FROM sources s WHERE s.id = jobs.source_id)";

fn count(value: Option<i64>) -> Option<u64> {
    value.map(|n| n.max(0) as u64)
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<JobRecord> {
    let error_code: Option<String> = row.get(9)?;
    let error = match error_code {
        Some(code) => Some(JobError {
            code,
            message: row.get::<_, Option<String>>(10)?.unwrap_or_default(),
            suggestion: row.get::<_, Option<String>>(11)?.unwrap_or_default(),
        }),
        None => None,
    };
    let metadata: Option<String> = row.get(19)?;
    Ok(JobRecord {
        id: row.get(0)?,
        kind: row.get(1)?,
        state: row.get(2)?,
        stage: row.get(3)?,
        progress: row.get(4)?,
        bytes: count(row.get(5)?),
        total_bytes: count(row.get(6)?),
        speed: row.get(7)?,
        eta: count(row.get(8)?),
        error,
        attempts: row.get::<_, i64>(12)?.clamp(0, i64::from(u32::MAX)) as u32,
        url: row.get(13)?,
        title: row.get(14)?,
        category: row.get(15)?,
        audio: row.get::<_, i64>(16)? != 0,
        source_name: row.get(17)?,
        source_file: row.get(18)?,
        metadata: metadata.and_then(|m| serde_json::from_str(&m).ok()),
        request_id: row.get(20)?,
        created_at: row.get(21)?,
        started_at: row.get(22)?,
        finished_at: row.get(23)?,
        updated_at: row.get(24)?,
        video_id: row.get(25)?,
        source: match row.get::<_, Option<String>>(26)? {
            Some(id) => {
                let name = row.get::<_, Option<String>>(27)?;
                Some(JobSource {
                    name: name.unwrap_or_else(|| "a deleted source".into()),
                    id,
                })
            }
            None => None,
        },
    })
}

fn to_i64(n: Option<u64>) -> Option<i64> {
    n.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

/// Adds a queued job and returns it.
pub fn insert(conn: &Connection, job: &NewJob) -> DbResult<JobRecord> {
    let now = super::now();
    let metadata = job.metadata.as_ref().map(|m| m.to_string());
    conn.execute(
        "INSERT INTO jobs (id, kind, state, progress, attempts, url, title, category, audio, source_name, \
         source_file, metadata, request_id, created_at, updated_at, source_id) \
         VALUES (?1, ?2, 'queued', 0, 0, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12)",
        params![
            job.id,
            job.kind.as_str(),
            job.url,
            job.title,
            job.category,
            i64::from(job.audio),
            job.source_name,
            job.source_file,
            metadata,
            job.request_id,
            now,
            job.source_id,
        ],
    )?;
    get(conn, &job.id)
}

/// Adds a finished job to the history; `Conflict` when its id is taken.
pub fn insert_past(conn: &Connection, past: &PastJob) -> DbResult<JobRecord> {
    if !past.state.is_final() {
        return Err(DbError::Conflict("a past job must be finished".into()));
    }
    let job = &past.job;
    let (code, message, suggestion) = match &past.error {
        Some(e) => (Some(&e.code), Some(&e.message), Some(&e.suggestion)),
        None => (None, None, None),
    };
    conn.execute(
        "INSERT INTO jobs (id, kind, state, progress, attempts, url, title, category, audio, source_name, \
         source_file, metadata, request_id, created_at, started_at, finished_at, updated_at, video_id, \
         error_code, error_message, error_suggestion) \
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16, ?17, ?18, ?19)",
        params![
            job.id,
            job.kind.as_str(),
            past.state.as_str(),
            if past.state == JobState::Completed { 100.0 } else { 0.0 },
            job.url,
            job.title,
            job.category,
            i64::from(job.audio),
            job.source_name,
            job.source_file,
            job.metadata.as_ref().map(|m| m.to_string()),
            job.request_id,
            past.created_at,
            past.started_at,
            past.finished_at,
            past.video_id,
            code,
            message,
            suggestion,
        ],
    )?;
    get(conn, &job.id)
}

/// One job.
pub fn get(conn: &Connection, id: &str) -> DbResult<JobRecord> {
    Ok(conn.query_row(
        &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
        [id],
        from_row,
    )?)
}

/// Every job (of one kind, if given).
pub fn list(conn: &Connection, kind: Option<JobKind>, order: Order) -> DbResult<Vec<JobRecord>> {
    let direction = match order {
        Order::NewestFirst => "DESC",
        Order::OldestFirst => "ASC",
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM jobs WHERE (?1 IS NULL OR kind = ?1) ORDER BY seq {direction}"
    ))?;
    let jobs = stmt
        .query_map([kind.map(JobKind::as_str)], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(jobs)
}

/// Jobs per state (of one kind, if given).
pub fn counts(conn: &Connection, kind: Option<JobKind>) -> DbResult<JobCounts> {
    let mut stmt = conn.prepare_cached(
        "SELECT state, count(*) FROM jobs WHERE (?1 IS NULL OR kind = ?1) GROUP BY state",
    )?;
    let mut counts = JobCounts::default();
    let rows = stmt.query_map([kind.map(JobKind::as_str)], |row| {
        Ok((
            row.get::<_, JobState>(0)?,
            row.get::<_, i64>(1)?.max(0) as u64,
        ))
    })?;
    for row in rows {
        let (state, n) = row?;
        match state {
            JobState::Queued => counts.queued = n,
            JobState::Running => counts.running = n,
            JobState::Completed => counts.completed = n,
            JobState::Failed => counts.failed = n,
            JobState::Cancelled => counts.cancelled = n,
        }
    }
    Ok(counts)
}

/// The oldest queued job of one of `kinds` whose id is not in `skip` (jobs already handed to
/// a worker).
pub fn next_queued(
    conn: &Connection,
    kinds: &[JobKind],
    skip: &[String],
) -> DbResult<Option<JobRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM jobs WHERE state = 'queued' AND kind IN (?1, ?2) ORDER BY seq"
    ))?;
    let first = kinds.first().map_or("", |k| k.as_str());
    let second = kinds.get(1).map_or(first, |k| k.as_str());
    let mut rows = stmt.query([first, second])?;
    while let Some(row) = rows.next()? {
        let job = from_row(row)?;
        if !skip.contains(&job.id) {
            return Ok(Some(job));
        }
    }
    Ok(None)
}

/// Library files that import jobs claim: queued or running (being converted), failed or
/// cancelled (a parent stopped it, or it cannot be converted), completed (converted; the source
/// is still there only when a crash came between the publish and its removal). A library scan
/// leaves them alone until the job is removed.
pub fn claimed_library_files(
    conn: &Connection,
) -> DbResult<std::collections::HashMap<String, (String, JobState)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT source_name, id, state FROM jobs WHERE kind = 'import' AND source_name IS NOT NULL \
         ORDER BY seq",
    )?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                (row.get::<_, String>(1)?, row.get::<_, JobState>(2)?),
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Running jobs that planned a video id (see [`plan_video`]), as (job id, video id).
pub fn running_planned(conn: &Connection) -> DbResult<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT id, video_id FROM jobs WHERE state = 'running' AND video_id IS NOT NULL ORDER BY seq",
    )?;
    let rows = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Ids and kinds of the jobs that are queued or running (start-up: their staging stays).
pub fn active(conn: &Connection) -> DbResult<Vec<(String, JobKind)>> {
    let mut stmt = conn
        .prepare("SELECT id, kind FROM jobs WHERE state IN ('queued', 'running') ORDER BY seq")?;
    let rows = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// `UPDATE jobs SET {set} WHERE id = ?1 AND state = '{from}'`: the one shape of every state
/// change, so that a change applies only while the job is still where the caller saw it (a
/// cancel and a finishing worker cannot overwrite each other). `params` start with the job id;
/// `false` when the job was not in state `from`.
fn update_if(conn: &Connection, from: JobState, set: &str, params: impl Params) -> DbResult<bool> {
    let sql = format!(
        "UPDATE jobs SET {set} WHERE id = ?1 AND state = '{}'",
        from.as_str()
    );
    Ok(conn.prepare_cached(&sql)?.execute(params)? == 1)
}

/// Moves a queued job to running at `stage`; `false` when it is no longer queued (cancelled).
pub fn start(conn: &Connection, id: &str, stage: Stage, progress: f64) -> DbResult<bool> {
    update_if(
        conn,
        JobState::Queued,
        "state = 'running', stage = ?2, progress = ?3, bytes = NULL, total_bytes = NULL, \
         speed = NULL, eta = NULL, error_code = NULL, error_message = NULL, error_suggestion = NULL, \
         attempts = attempts + 1, started_at = ?4, finished_at = NULL, updated_at = ?4, video_id = NULL",
        params![id, stage.as_str(), progress, super::now()],
    )
}

/// Records the progress of a running job; `false` when it is no longer running.
pub fn update_progress(conn: &Connection, id: &str, update: &ProgressUpdate) -> DbResult<bool> {
    update_if(
        conn,
        JobState::Running,
        "stage = ?2, progress = ?3, bytes = ?4, total_bytes = ?5, speed = ?6, eta = ?7, updated_at = ?8",
        params![
            id,
            update.stage.map(Stage::as_str),
            update.progress,
            to_i64(update.bytes),
            to_i64(update.total_bytes),
            update.speed,
            to_i64(update.eta),
            super::now(),
        ],
    )
}

/// Replaces the metadata (and the title, when the user gave none) of a job.
pub fn set_metadata(conn: &Connection, id: &str, metadata: &serde_json::Value) -> DbResult<()> {
    conn.execute(
        "UPDATE jobs SET metadata = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, metadata.to_string(), super::now()],
    )?;
    Ok(())
}

/// Ends a running job; `false` when it was not running (cancelled meanwhile).
pub fn finish(conn: &Connection, id: &str, outcome: &Outcome) -> DbResult<bool> {
    let now = super::now();
    match outcome {
        Outcome::Completed { video_id } => update_if(
            conn,
            JobState::Running,
            "state = 'completed', stage = NULL, progress = 100, speed = NULL, eta = NULL, \
             video_id = ?2, finished_at = ?3, updated_at = ?3",
            params![id, video_id, now],
        ),
        Outcome::Failed(error) => update_if(
            conn,
            JobState::Running,
            "state = 'failed', speed = NULL, eta = NULL, error_code = ?2, error_message = ?3, \
             error_suggestion = ?4, finished_at = ?5, updated_at = ?5",
            params![id, error.code, error.message, error.suggestion, now],
        ),
        Outcome::Cancelled => update_if(
            conn,
            JobState::Running,
            "state = 'cancelled', speed = NULL, eta = NULL, finished_at = ?2, updated_at = ?2",
            params![id, now],
        ),
    }
}

/// Cancels a job that no worker has started; `false` when it is not queued.
pub fn cancel_queued(conn: &Connection, id: &str) -> DbResult<bool> {
    update_if(
        conn,
        JobState::Queued,
        "state = 'cancelled', finished_at = ?2, updated_at = ?2",
        params![id, super::now()],
    )
}

/// Puts a running job back in the queue (shutdown, or a run interrupted by a crash).
pub fn requeue(conn: &Connection, id: &str) -> DbResult<bool> {
    update_if(
        conn,
        JobState::Running,
        "state = 'queued', stage = NULL, progress = 0, bytes = NULL, total_bytes = NULL, \
         speed = NULL, eta = NULL, updated_at = ?2",
        params![id, super::now()],
    )
}

/// What start-up did with the jobs a crash left running.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Put back in the queue.
    pub requeued: Vec<String>,
    /// Their video had been committed just before the crash: marked completed.
    pub completed: Vec<String>,
}

/// Start-up after a crash: a running job whose planned video (see [`plan_video`]) is in the
/// catalogue, or whose files are in the library (`on_disk`: the publish renamed them in but
/// crashed before its transaction; a library scan adopts them), is completed; every other
/// running job goes back to the queue.
pub fn recover_running(
    conn: &Connection,
    on_disk: &std::collections::HashSet<String>,
) -> DbResult<Recovered> {
    let rows: Vec<(String, Option<String>)> = {
        let mut stmt =
            conn.prepare("SELECT id, video_id FROM jobs WHERE state = 'running' ORDER BY seq")?;
        stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut recovered = Recovered::default();
    for (id, video_id) in rows {
        let published = match &video_id {
            Some(video) => on_disk.contains(video) || super::videos::exists(conn, video)?,
            None => false,
        };
        match video_id {
            Some(video_id) if published => {
                finish(conn, &id, &Outcome::Completed { video_id })?;
                recovered.completed.push(id);
            }
            _ => {
                conn.execute("UPDATE jobs SET video_id = NULL WHERE id = ?1", [&id])?;
                requeue(conn, &id)?;
                recovered.requeued.push(id);
            }
        }
    }
    Ok(recovered)
}

/// Records the id a running job is about to publish its video under, so that a crash between
/// the catalogue commit and the job's completion is recognised at start-up.
pub fn plan_video(conn: &Connection, id: &str, video_id: &str) -> DbResult<bool> {
    update_if(
        conn,
        JobState::Running,
        "video_id = ?2, updated_at = ?3",
        params![id, video_id, super::now()],
    )
}

/// Queues a failed or cancelled job again. `Conflict` when it is in another state.
pub fn retry(conn: &Connection, id: &str) -> DbResult<JobRecord> {
    let job = get(conn, id)?;
    if !matches!(job.state, JobState::Failed | JobState::Cancelled) {
        return Err(DbError::Conflict(format!("job is {}", job.state.as_str())));
    }
    conn.execute(
        "UPDATE jobs SET state = 'queued', stage = NULL, progress = 0, bytes = NULL, total_bytes = NULL, \
         speed = NULL, eta = NULL, error_code = NULL, error_message = NULL, error_suggestion = NULL, \
         started_at = NULL, finished_at = NULL, video_id = NULL, updated_at = ?2 WHERE id = ?1",
        params![id, super::now()],
    )?;
    get(conn, id)
}

/// Removes finished jobs (of one kind, if given) that finished before `cutoff` (an RFC 3339
/// time); returns them. Jobs without a finish time are kept.
pub fn delete_finished_before(
    conn: &Connection,
    kind: Option<JobKind>,
    cutoff: &str,
) -> DbResult<Vec<JobRecord>> {
    let jobs: Vec<JobRecord> = {
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM jobs WHERE state IN ('completed', 'failed', 'cancelled') \
             AND finished_at IS NOT NULL AND finished_at < ?2 AND (?1 IS NULL OR kind = ?1) ORDER BY seq"
        ))?;
        stmt.query_map(params![kind.map(JobKind::as_str), cutoff], from_row)?
            .collect::<rusqlite::Result<_>>()?
    };
    for job in &jobs {
        conn.execute("DELETE FROM jobs WHERE id = ?1", [&job.id])?;
    }
    Ok(jobs)
}

/// Removes every job (of one kind, if given); returns them.
pub fn delete_all(conn: &Connection, kind: Option<JobKind>) -> DbResult<Vec<JobRecord>> {
    let jobs = list(conn, kind, Order::OldestFirst)?;
    conn.execute(
        "DELETE FROM jobs WHERE (?1 IS NULL OR kind = ?1)",
        [kind.map(JobKind::as_str)],
    )?;
    Ok(jobs)
}

/// Whether a job exists.
pub fn exists(conn: &Connection, id: &str) -> DbResult<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM jobs WHERE id = ?1", [id], |_| Ok(()))
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, crate::Db) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::Db::open(&dir.path().join("t.db")).expect("open");
        (dir, db)
    }

    fn new_job(id: &str, kind: JobKind) -> NewJob {
        NewJob {
            id: id.into(),
            kind,
            url: Some(format!("https://example.com/{id}")),
            title: None,
            category: None,
            audio: false,
            source_name: None,
            source_file: None,
            metadata: None,
            request_id: format!("req-{id}"),
            source_id: None,
        }
    }

    #[test]
    fn stored_names_read_back_and_unknown_ones_are_errors() {
        let conn = Connection::open_in_memory().expect("open");
        fn read<T: FromSql>(conn: &Connection, text: &str) -> rusqlite::Result<T> {
            conn.query_row("SELECT ?1", [text], |row| row.get::<_, T>(0))
        }
        for state in [
            JobState::Queued,
            JobState::Running,
            JobState::Completed,
            JobState::Failed,
            JobState::Cancelled,
        ] {
            assert_eq!(read::<JobState>(&conn, state.as_str()).ok(), Some(state));
        }
        for kind in [JobKind::Url, JobKind::Upload, JobKind::Import] {
            assert_eq!(read::<JobKind>(&conn, kind.as_str()).ok(), Some(kind));
        }
        assert_eq!(
            read::<Stage>(&conn, "converting").ok(),
            Some(Stage::Converting)
        );
        // A state or kind of a newer version is not read as some other one.
        let err = read::<JobState>(&conn, "paused").expect_err("unknown state");
        assert!(
            err.to_string().contains("unknown job state 'paused'"),
            "{err}"
        );
        assert!(read::<JobKind>(&conn, "subscription").is_err());
        assert!(read::<Stage>(&conn, "uploading").is_err());
    }

    #[test]
    fn life_cycle() {
        let (_dir, db) = db();
        let job = db
            .write_blocking(|tx| insert(tx, &new_job("a", JobKind::Url)))
            .expect("insert");
        assert_eq!(
            (job.state, job.stage, job.attempts),
            (JobState::Queued, None, 0)
        );
        db.write_blocking(|tx| insert(tx, &new_job("b", JobKind::Url)))
            .expect("insert");
        db.write_blocking(|tx| insert(tx, &new_job("c", JobKind::Upload)))
            .expect("insert");

        let next = db
            .write_blocking(|tx| next_queued(tx, &[JobKind::Url], &["a".to_string()]))
            .expect("next");
        assert_eq!(next.map(|j| j.id).as_deref(), Some("b"));

        assert!(
            db.write_blocking(|tx| start(tx, "a", Stage::Fetching, 0.0))
                .expect("start")
        );
        assert!(
            !db.write_blocking(|tx| start(tx, "a", Stage::Fetching, 0.0))
                .expect("again")
        );
        let update = ProgressUpdate {
            stage: Some(Stage::Fetching),
            progress: 42.0,
            bytes: Some(10),
            total_bytes: Some(20),
            speed: Some(1.5),
            eta: Some(3),
        };
        assert!(
            db.write_blocking(|tx| update_progress(tx, "a", &update))
                .expect("progress")
        );
        let running = db.write_blocking(|tx| get(tx, "a")).expect("get");
        assert_eq!(
            (running.state, running.attempts, running.progress),
            (JobState::Running, 1, 42.0)
        );
        assert_eq!(
            (running.bytes, running.total_bytes, running.eta),
            (Some(10), Some(20), Some(3))
        );

        let all = db.write_blocking(|tx| counts(tx, None)).expect("counts");
        assert_eq!((all.queued, all.running, all.total()), (2, 1, 3));
        assert_eq!(
            db.write_blocking(|tx| counts(tx, Some(JobKind::Upload)))
                .expect("c")
                .total(),
            1
        );

        // A cancel of a queued job, and no start afterwards.
        assert!(
            db.write_blocking(|tx| cancel_queued(tx, "b"))
                .expect("cancel")
        );
        assert!(
            !db.write_blocking(|tx| start(tx, "b", Stage::Fetching, 0.0))
                .expect("start")
        );

        let failure = JobError {
            code: "X".into(),
            message: "m".into(),
            suggestion: "s".into(),
        };
        assert!(
            db.write_blocking(|tx| finish(tx, "a", &Outcome::Failed(failure.clone())))
                .expect("fail")
        );
        assert!(
            !db.write_blocking(|tx| finish(tx, "a", &Outcome::Cancelled))
                .expect("not running")
        );
        let failed = db.write_blocking(|tx| get(tx, "a")).expect("get");
        assert_eq!(
            (failed.state, failed.error),
            (JobState::Failed, Some(failure))
        );
        assert!(failed.finished_at.is_some());

        let retried = db.write_blocking(|tx| retry(tx, "a")).expect("retry");
        assert_eq!(
            (retried.state, retried.error.is_none(), retried.attempts),
            (JobState::Queued, true, 1)
        );
        assert!(matches!(
            db.write_blocking(|tx| retry(tx, "a")),
            Err(DbError::Conflict(_))
        ));
        assert!(matches!(
            db.write_blocking(|tx| retry(tx, "zz")),
            Err(DbError::NotFound)
        ));

        assert!(
            db.write_blocking(|tx| start(tx, "a", Stage::Fetching, 0.0))
                .expect("start")
        );
        assert_eq!(
            db.write_blocking(|tx| recover_running(tx, &Default::default()))
                .expect("requeue")
                .requeued,
            ["a"]
        );
        assert!(
            db.write_blocking(|tx| start(tx, "a", Stage::Fetching, 0.0))
                .expect("start")
        );
        let done = Outcome::Completed {
            video_id: "v-1".into(),
        };
        assert!(
            db.write_blocking(|tx| finish(tx, "a", &done))
                .expect("complete")
        );
        let completed = db.write_blocking(|tx| get(tx, "a")).expect("get");
        assert_eq!(
            (completed.state, completed.progress, completed.attempts),
            (JobState::Completed, 100.0, 3)
        );
        assert_eq!(completed.video_id.as_deref(), Some("v-1"));

        let newest: Vec<String> = db
            .write_blocking(|tx| list(tx, None, Order::NewestFirst))
            .expect("list")
            .into_iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(newest, ["c", "b", "a"]);
        let active_ids = db.write_blocking(|tx| active(tx)).expect("active");
        assert_eq!(active_ids, [("c".to_string(), JobKind::Upload)]);

        // Clean-up by age: everything finished before a far future cutoff, urls only.
        let removed = db
            .write_blocking(|tx| {
                delete_finished_before(tx, Some(JobKind::Url), "9999-01-01T00:00:00.000Z")
            })
            .expect("cleanup");
        assert_eq!(removed.len(), 2);
        assert!(!db.write_blocking(|tx| exists(tx, "a")).expect("exists"));
        assert_eq!(
            db.write_blocking(|tx| delete_all(tx, None))
                .expect("all")
                .len(),
            1
        );
    }

    #[test]
    fn recovery_completes_jobs_whose_video_was_committed() {
        let (_dir, db) = db();
        for id in ["published", "interrupted"] {
            db.write_blocking(|tx| insert(tx, &new_job(id, JobKind::Url)))
                .expect("insert");
            assert!(
                db.write_blocking(|tx| start(tx, id, Stage::Fetching, 0.0))
                    .expect("start")
            );
        }
        for (job, video) in [("published", "v-published"), ("interrupted", "v-never")] {
            assert!(
                db.write_blocking(|tx| plan_video(tx, job, video))
                    .expect("plan")
            );
        }
        let video = crate::videos::VideoRecord {
            id: "v-published".into(),
            title: "T".into(),
            file_name: "v-published.mp4".into(),
            size: 1,
            modified_at: crate::now(),
            added_at: crate::now(),
            ..Default::default()
        };
        db.write_blocking(|tx| crate::videos::insert(tx, &video))
            .expect("video");
        let recovered = db
            .write_blocking(|tx| recover_running(tx, &Default::default()))
            .expect("recover");
        assert_eq!(recovered.completed, ["published"]);
        assert_eq!(recovered.requeued, ["interrupted"]);
        let done = db.write_blocking(|tx| get(tx, "published")).expect("get");
        assert_eq!(
            (done.state, done.video_id.as_deref()),
            (JobState::Completed, Some("v-published"))
        );
        let again = db.write_blocking(|tx| get(tx, "interrupted")).expect("get");
        assert_eq!((again.state, again.video_id), (JobState::Queued, None));
    }

    #[test]
    fn metadata_round_trips() {
        let (_dir, db) = db();
        let mut job = new_job("m", JobKind::Upload);
        job.metadata = Some(serde_json::json!({ "title": "Hi", "tags": ["a"] }));
        job.audio = true;
        let stored = db.write_blocking(|tx| insert(tx, &job)).expect("insert");
        assert_eq!(stored.metadata, job.metadata);
        assert!(stored.audio);
        db.write_blocking(|tx| set_metadata(tx, "m", &serde_json::json!({ "title": "Other" })))
            .expect("set");
        let got = db.write_blocking(|tx| get(tx, "m")).expect("get");
        assert_eq!(got.metadata, Some(serde_json::json!({ "title": "Other" })));
    }
}

//! SQLite storage: connections, numbered migrations, and every query of the program.
//!
//! Handlers never write SQL: they call the functions of the submodules through [`Db::read`]
//! and [`Db::write`], which run them on tokio's blocking pool. One writer connection (SQLite
//! allows one writer at a time) and a few reader connections (WAL lets them read concurrently).

pub mod categories;
pub mod jobs;
pub mod profiles;
pub mod progress;
pub mod sources;
pub mod videos;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rusqlite::Connection;

/// Numbered migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_catalogue.sql"),
    include_str!("migrations/0002_jobs.sql"),
    include_str!("migrations/0003_profiles.sql"),
    include_str!("migrations/0004_library_files.sql"),
    include_str!("migrations/0005_sources.sql"),
];

const READERS: usize = 4;

/// A storage failure.
#[derive(Debug)]
pub enum DbError {
    /// The row asked for does not exist.
    NotFound,
    /// A uniqueness or foreign-key rule was broken.
    Conflict(String),
    Sqlite(rusqlite::Error),
    /// The blocking task panicked or was cancelled.
    Task(String),
    /// The database was written by a newer SOFATHEK.
    TooNew {
        found: usize,
        known: usize,
    },
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::NotFound => f.write_str("not found"),
            DbError::Conflict(what) => write!(f, "conflict: {what}"),
            DbError::Sqlite(err) => write!(f, "sqlite: {err}"),
            DbError::Task(err) => write!(f, "database task failed: {err}"),
            DbError::TooNew { found, known } => write!(
                f,
                "the database has schema version {found} but this sofathek knows only {known}: upgrade sofathek"
            ),
        }
    }
}

impl std::error::Error for DbError {}

impl From<rusqlite::Error> for DbError {
    fn from(err: rusqlite::Error) -> Self {
        match err {
            rusqlite::Error::QueryReturnedNoRows => DbError::NotFound,
            rusqlite::Error::SqliteFailure(code, ref msg)
                if code.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                DbError::Conflict(msg.clone().unwrap_or_else(|| "constraint violated".into()))
            }
            other => DbError::Sqlite(other),
        }
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// The transaction [`Db::write`] hands its closure: other crates name it through this alias
/// (they do not depend on rusqlite) and pass it on to the query functions of this crate.
pub type Tx<'c> = rusqlite::Transaction<'c>;

/// A database that could not be read and was moved aside at start-up.
#[derive(Debug, Clone)]
pub struct SetAside {
    /// Where the unreadable file now is.
    pub path: std::path::PathBuf,
    /// When it was moved.
    pub at: String,
    /// What SQLite said about it.
    pub problem: String,
}

/// Shared handle to the database.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    writer: std::sync::Mutex<Connection>,
    readers: Vec<std::sync::Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// Write transactions committed through this handle: an answer remembered at an older
    /// count may be stale (`sofathek_core::memo`).
    generation: AtomicU64,
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )
}

impl Db {
    /// Opens (creating if needed) the database and applies pending migrations.
    pub fn open(path: &Path) -> DbResult<Db> {
        let mut writer = Connection::open(path)?;
        configure(&writer)?;
        migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| {
                let conn = Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                conn.busy_timeout(std::time::Duration::from_secs(10))?;
                conn.execute_batch("PRAGMA foreign_keys = ON;")?;
                Ok(std::sync::Mutex::new(conn))
            })
            .collect::<DbResult<Vec<_>>>()?;
        Ok(Db {
            inner: Arc::new(Inner {
                writer: std::sync::Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
                generation: AtomicU64::new(0),
            }),
        })
    }

    /// Opens the database like [`Db::open`]; a file that is not a database or fails SQLite's
    /// `quick_check` is moved aside (with its `-wal` and `-shm`) as
    /// `sofathek.db.corrupt-<time>` — never deleted — and a new, empty database is created in
    /// its place. The library scan then rebuilds the catalogue from the library folder.
    pub fn open_or_set_aside(path: &Path) -> DbResult<(Db, Option<SetAside>)> {
        let problem = match Db::open(path) {
            Ok(db) => match db.quick_check() {
                Ok(()) => return Ok((db, None)),
                Err(problem) => problem,
            },
            Err(DbError::Sqlite(rusqlite::Error::SqliteFailure(code, msg)))
                if matches!(
                    code.code,
                    rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
                ) =>
            {
                msg.unwrap_or_else(|| code.to_string())
            }
            Err(err) => return Err(err),
        };
        let stamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .unwrap_or_else(|_| "unknown".into());
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "sofathek.db".into());
        let aside = path.with_file_name(format!("{file_name}.corrupt-{stamp}"));
        for suffix in ["-wal", "-shm", "-journal"] {
            let from = path.with_file_name(format!("{file_name}{suffix}"));
            let to = path.with_file_name(format!("{file_name}.corrupt-{stamp}{suffix}"));
            match std::fs::rename(&from, &to) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    return Err(DbError::Task(format!(
                        "cannot move {} aside: {err}",
                        from.display()
                    )));
                }
            }
        }
        std::fs::rename(path, &aside)
            .map_err(|err| DbError::Task(format!("cannot move {} aside: {err}", path.display())))?;
        tracing::error!(
            database = %path.display(),
            moved_to = %aside.display(),
            %problem,
            "the database could not be read: it was moved aside and a new one is created; the library scan rebuilds the catalogue from the library folder"
        );
        let db = Db::open(path)?;
        Ok((
            db,
            Some(SetAside {
                path: aside,
                at: now(),
                problem,
            }),
        ))
    }

    /// SQLite's `quick_check`; the first problem it reports.
    fn quick_check(&self) -> Result<(), String> {
        let conn = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        match conn.query_row("PRAGMA quick_check(1)", [], |row| row.get::<_, String>(0)) {
            Ok(answer) if answer == "ok" => Ok(()),
            Ok(answer) => Err(answer),
            Err(err) => Err(err.to_string()),
        }
    }

    /// Runs `f` with a read-only connection on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> DbResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let i = inner.next_reader.fetch_add(1, Ordering::Relaxed) % inner.readers.len();
            let conn = inner.readers[i].lock().unwrap_or_else(|p| p.into_inner());
            f(&conn)
        })
        .await
        .map_err(|e| DbError::Task(e.to_string()))?
    }

    /// Runs a point lookup (a primary-key or unique-index query of a few microseconds) on the
    /// calling thread when a reader connection is free, else like [`Db::read`].
    ///
    /// Hot per-request paths (session lookup, file lookup for streaming) use it to avoid a
    /// hand-off to the blocking pool per request; anything that may scan (listing, search)
    /// must use [`Db::read`].
    pub async fn read_point<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> DbResult<T> + Send + 'static,
    {
        let start = self.inner.next_reader.fetch_add(1, Ordering::Relaxed);
        for offset in 0..self.inner.readers.len() {
            let i = (start + offset) % self.inner.readers.len();
            if let Ok(conn) = self.inner.readers[i].try_lock() {
                return f(&conn);
            }
        }
        self.read(f).await
    }

    /// Number of write transactions this process has committed; a memo answer read at an older
    /// count may be stale.
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    /// Runs `f` inside one write transaction on the blocking pool; an error rolls it back.
    pub async fn write<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> DbResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            inner.generation.fetch_add(1, Ordering::AcqRel);
            Ok(value)
        })
        .await
        .map_err(|e| DbError::Task(e.to_string()))?
    }

    /// Synchronous write for start-up code that runs before the async runtime matters.
    pub fn write_blocking<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> DbResult<T>,
    ) -> DbResult<T> {
        let mut conn = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        Ok(value)
    }

    /// A cheap liveness probe for the health report.
    pub async fn ping(&self) -> DbResult<()> {
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }
}

fn migrate(conn: &mut Connection) -> DbResult<()> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > MIGRATIONS.len() {
        return Err(DbError::TooNew {
            found: current,
            known: MIGRATIONS.len(),
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "applied database migration");
    }
    Ok(())
}

/// The current time as an RFC 3339 string (the format of every timestamp column).
pub fn now() -> String {
    format_time(time::OffsetDateTime::now_utc())
}

/// Formats a time as RFC 3339 with millisecond precision in UTC, like JavaScript's `toISOString`.
pub fn format_time(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_are_recorded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        drop(Db::open(&path).expect("first open"));
        let db = Db::open(&path).expect("second open is a no-op");
        let version: usize = db
            .write_blocking(|tx| Ok(tx.query_row("PRAGMA user_version", [], |r| r.get(0))?))
            .expect("version");
        assert_eq!(version, MIGRATIONS.len());
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).expect("open");
        conn.pragma_update(None, "user_version", 999).expect("set");
        drop(conn);
        assert!(matches!(Db::open(&path), Err(DbError::TooNew { .. })));
    }

    #[test]
    fn time_format_is_iso() {
        let t = time::macros::datetime!(2024-01-02 03:04:05.678 UTC);
        assert_eq!(format_time(t), "2024-01-02T03:04:05.678Z");
    }
}

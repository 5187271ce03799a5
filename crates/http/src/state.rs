//! [`AppState`]: everything a handler or a page may use, opened once at start-up.

use std::sync::Arc;
use std::time::Instant;

use sofathek_core::config::Config;
use sofathek_core::library::Layout;
use sofathek_core::metrics::Metrics;
use sofathek_db::Db;

use crate::health::ToolCache;
use crate::serve_file;

/// Everything a handler may use, passed explicitly.
///
/// Cloned for every request by each layer and extractor that takes `State`, so it is one `Arc`:
/// a clone is a single reference-count increment, not one per field (measured: per-field clones
/// and drops were ~7 % of the CPU of a 64 KiB range request).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The fields of [`AppState`], reached through `Deref` (`state.db`, `state.config`, …).
pub struct Shared {
    pub config: Arc<Config>,
    pub db: Db,
    pub layout: Layout,
    pub metrics: Arc<Metrics>,
    pub tools: Arc<ToolCache>,
    pub events: sofathek_core::events::Events,
    /// The ingest pipeline (job queue and workers).
    pub ingest: sofathek_ingest::Ingest,
    /// Sign-in throttle and password hashing.
    pub auth: Arc<sofathek_core::auth::Auth>,
    /// Library file name → category of the video that owns it, for the file routes (see
    /// [`sofathek_db::memo`] for when an answer is reused).
    pub file_owners: sofathek_db::memo::Memo<String, Option<String>>,
    /// Library files opened by recent requests, kept open for the next ones (like nginx's
    /// `open_file_cache`): a range request then costs an `fstat` instead of an open, a stat and
    /// a close. An entry is used only while current (see [`sofathek_db::memo`]) and while the
    /// file still has a name ([`OpenedFile::reuse`](serve_file::OpenedFile::reuse)), so a
    /// deleted or replaced file is never served; the server closes expired ones every second.
    pub open_files: sofathek_db::memo::Memo<String, serve_file::OpenedFile>,
    /// The library directory, open, for [`sofathek_core::library::open_cached`] (Linux only).
    pub library_dir: Option<std::os::fd::OwnedFd>,
    pub started: Instant,
    /// The unreadable database moved aside at start-up, if any (shown in health).
    pub db_set_aside: Option<sofathek_db::SetAside>,
}

impl AppState {
    /// Opens the database in the data directory and creates the layout; applies
    /// `SOFATHEK_ADMIN_PASSWORD_FILE` when it is set.
    pub fn open(config: Config) -> anyhow::Result<AppState> {
        let layout = Layout::new(&config.data_path);
        layout.create_dirs()?;
        let (db, db_set_aside) = Db::open_or_set_aside(&layout.database)?;
        if let Some(path) = &config.admin_password_file {
            sofathek_core::auth::apply_password_file(&db, path)?;
        }
        #[cfg(target_os = "linux")]
        let library_dir = Some(sofathek_core::library::open_dir(&layout)?);
        #[cfg(not(target_os = "linux"))]
        let library_dir = None;
        let config = Arc::new(config);
        let metrics = Arc::new(Metrics::new());
        let events = sofathek_core::events::Events::new();
        let ingest = sofathek_ingest::Ingest::new(
            config.clone(),
            db.clone(),
            layout.clone(),
            events.clone(),
            metrics.clone(),
        )?;
        Ok(AppState(Arc::new(Shared {
            config,
            db,
            layout,
            metrics,
            tools: Arc::new(ToolCache::default()),
            events,
            ingest,
            auth: sofathek_core::auth::Auth::new(),
            file_owners: sofathek_db::memo::Memo::new(FILE_OWNERS_CAPACITY),
            open_files: sofathek_db::memo::Memo::new(OPEN_FILES_CAPACITY),
            library_dir,
            started: Instant::now(),
            db_set_aside,
        })))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Largest number of library files kept open between requests (file descriptors).
const OPEN_FILES_CAPACITY: usize = 64;

/// Largest number of library file names whose owner is remembered.
const FILE_OWNERS_CAPACITY: usize = 4096;

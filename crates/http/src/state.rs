//! [`AppState`]: everything a handler or a page may use, opened once at start-up.

use std::sync::Arc;
use std::time::Instant;

use sofathek_core::config::Config;
use sofathek_core::library::Layout;
use sofathek_core::metrics::Metrics;
use sofathek_db::Db;

use crate::file_cache::FileCache;
use crate::health::ToolCache;

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
    /// The file routes' hot path: library files kept open between requests (like nginx's
    /// `open_file_cache`) and the owners of file names (see [`crate::file_cache`]).
    pub files: FileCache,
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
        let files = FileCache::new(&layout)?;
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
            files,
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

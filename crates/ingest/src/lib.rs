//! The ingest pipeline: every video that enters the library, by URL (yt-dlp) or by upload,
//! goes through one persistent queue of jobs and comes out browser-playable and published.
//!
//! ```text
//! queued ──> running: fetching (url) → probing → converting → thumbnailing → publishing
//!        │                                                        └──> completed
//!        └──> cancelled                      failed / cancelled <──┘
//! ```
//!
//! - Jobs live in SQLite (`db::jobs`); [`Ingest`] owns the workers. Two dispatchers hand queued
//!   jobs to tasks in FIFO order: URL jobs when a download slot is free
//!   (`SOFATHEK_DOWNLOAD_WORKERS`), uploads when a conversion slot is free
//!   (`SOFATHEK_CONVERT_WORKERS`); a URL job takes a conversion slot after its download.
//! - Every job works in `staging/<job-id>/work/`, which is wiped when the job ends. An upload's
//!   received file waits in `staging/<job-id>/`; it is removed when the job completes, is
//!   cancelled or fails for a reason a retry would not fix, and kept after an interruption or a
//!   failure another attempt may overcome (disk full, timeout), so the job can run again.
//! - Start-up ([`Ingest::start`]) kills children left by a killed server, puts jobs that were
//!   running back in the queue with a clean work directory, and starts the dispatchers.
//! - Cancel kills the job's process group (yt-dlp and its ffmpeg) and waits until the job's
//!   task has cleaned up; shutdown puts running jobs back in the queue.

pub mod adopt;
pub(crate) mod convert;
pub mod error;
pub mod import;
pub mod limiter;
mod orphans;
mod pipeline;
mod publish;
mod reporter;
pub mod sources;
pub mod upload;
mod url_source;
pub mod view;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use sofathek_core::config::Config;
use sofathek_core::events::{Event, Events};
use sofathek_core::library::Layout;
use sofathek_core::metrics::Metrics;
use sofathek_db::jobs::{self, JobCounts, JobKind, JobRecord, JobState, NewJob, Order};
use sofathek_db::{Db, DbError};
use sofathek_ytdlp::policy::ContentPolicy;

pub use adopt::{ScanReport, Trigger};
pub use error::{Failure, IngestError};
use limiter::RateLimiter;

/// How long a cancel waits for the job's task to stop its processes and clean up.
pub const CANCEL_WAIT: Duration = Duration::from_secs(10);
/// How long shutdown waits for job tasks after their processes were killed.
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);
/// How often finished jobs are checked against `SOFATHEK_JOB_RETENTION_DAYS`.
const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);
/// Longest pre-flight metadata call inside a request (the request timeout is 30 s).
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(25);
/// Longest accepted title.
pub const MAX_TITLE_CHARS: usize = 300;

/// The pipeline's handle; cheap to clone.
#[derive(Clone)]
pub struct Ingest {
    inner: Arc<Inner>,
}

/// Shared state of the pipeline.
pub(crate) struct Inner {
    pub(crate) db: Db,
    pub(crate) layout: Layout,
    pub(crate) config: Arc<Config>,
    pub(crate) events: Events,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) policy: ContentPolicy,
    pub(crate) conversions: Arc<Semaphore>,
    downloads: Arc<Semaphore>,
    /// Jobs handed to a task, by id.
    active: Mutex<HashMap<String, Active>>,
    wake_url: Notify,
    wake_upload: Notify,
    pub(crate) shutdown: CancellationToken,
    /// Cancelled when the HTTP server begins to stop (ends event streams).
    closing: CancellationToken,
    started: AtomicBool,
    tracker: TaskTracker,
    pub(crate) limiter: RateLimiter,
    /// The library scan (see [`adopt`]).
    pub(crate) scanner: adopt::Scanner,
    /// Every connection of a download goes through it.
    pub(crate) egress: sofathek_core::egress::Guard,
    /// The source checks (see [`sources`]).
    pub(crate) scheduler: sources::Scheduler,
}

/// A job that a task owns.
struct Active {
    cancel: CancellationToken,
    done: watch::Receiver<bool>,
}

/// A URL submission.
#[derive(Debug, Clone, Default)]
pub struct UrlRequest {
    pub url: Option<String>,
    pub title: Option<String>,
    pub category: Option<String>,
    pub audio: bool,
}

/// What cancelling did.
#[derive(Debug, Clone)]
pub struct Cancelled {
    pub job: JobRecord,
    /// The job had been cancelled before.
    pub already: bool,
}

impl Ingest {
    /// The pipeline over an open database and layout; reads the content policy (an invalid
    /// settings file is an error, as in the original). Nothing runs until [`Ingest::start`].
    pub fn new(
        config: Arc<Config>,
        db: Db,
        layout: Layout,
        events: Events,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Ingest> {
        let policy = ContentPolicy::load(&config.content_policy_path())?;
        let shutdown = CancellationToken::new();
        let rules = sofathek_core::egress::Rules {
            allow_private: config.allow_private_urls,
            allowed: config.allowed_private_hosts.clone(),
            hosts: match &config.egress_hosts_file {
                Some(path) => Some(
                    sofathek_core::egress::HostsFile::read(path)
                        .map_err(|e| anyhow::anyhow!("SOFATHEK_EGRESS_HOSTS_FILE: {e}"))?,
                ),
                None => None,
            },
        };
        let egress =
            sofathek_core::egress::Guard::new(rules, metrics.clone(), shutdown.child_token())?;
        let limiter = RateLimiter::new(
            config.rate_limit_max_requests,
            Duration::from_millis(config.rate_limit_window_ms),
        );
        Ok(Ingest {
            inner: Arc::new(Inner {
                downloads: Arc::new(Semaphore::new(config.download_workers)),
                conversions: Arc::new(Semaphore::new(config.convert_workers)),
                db,
                layout,
                config,
                events,
                metrics,
                policy,
                active: Mutex::new(HashMap::new()),
                wake_url: Notify::new(),
                wake_upload: Notify::new(),
                shutdown,
                egress,
                closing: CancellationToken::new(),
                started: AtomicBool::new(false),
                tracker: TaskTracker::new(),
                limiter,
                scanner: adopt::Scanner::default(),
                scheduler: sources::Scheduler::default(),
            }),
        })
    }

    /// Ids of the jobs whose staging directories must survive start-up reconciliation.
    pub fn staging_to_keep(&self) -> Result<HashSet<String>, DbError> {
        let active = self.inner.db.write_blocking(|tx| jobs::active(tx))?;
        Ok(active.into_iter().map(|(id, _)| id).collect())
    }

    /// Starts the workers (once; later calls do nothing): kills children left by a previous
    /// run, re-queues jobs that were running, then dispatches queued jobs. Needs a runtime.
    pub fn start(&self) {
        if self.inner.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let inner = self.inner.clone();
        self.inner.tracker.spawn(async move {
            if let Err(err) = recover(&inner).await {
                tracing::error!(%err, "could not recover interrupted jobs");
            }
            inner.tracker.spawn(dispatch(inner.clone(), JobKind::Url));
            inner
                .tracker
                .spawn(dispatch(inner.clone(), JobKind::Upload));
            if inner.config.job_retention_days > 0 {
                inner.tracker.spawn(retention(inner.clone()));
            }
            adopt::start(&inner);
            inner.tracker.spawn(sources::schedule(inner.clone()));
        });
    }

    /// Stops the workers: no new job starts, running children are killed and running jobs go
    /// back to the queue for the next start.
    pub async fn shutdown(&self) {
        self.inner.closing.cancel();
        self.inner.shutdown.cancel();
        self.inner.tracker.close();
        if tokio::time::timeout(SHUTDOWN_WAIT, self.inner.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("job tasks did not stop within {SHUTDOWN_WAIT:?}");
        }
    }

    /// Cancelled when the server begins to stop: long-lived responses (event streams) end.
    pub fn closing(&self) -> CancellationToken {
        self.inner.closing.clone()
    }

    /// The egress guard every download goes through.
    pub fn egress(&self) -> &sofathek_core::egress::Guard {
        &self.inner.egress
    }

    /// The content policy in force.
    pub fn policy(&self) -> &ContentPolicy {
        &self.inner.policy
    }

    /// Refuses new work when free space is below `SOFATHEK_MIN_FREE_BYTES` (507).
    pub fn check_disk(&self) -> Result<(), IngestError> {
        check_disk(&self.inner)
    }

    /// Checks a client's rate limit (without counting the request).
    pub fn check_rate(&self, client: IpAddr) -> Result<(), IngestError> {
        self.inner
            .limiter
            .check(client)
            .map_err(|retry_after| IngestError::RateLimited { retry_after })
    }

    /// Queues a URL download: URL policy, title and category checks, disk guard, the content
    /// policy's pre-flight (only when a policy is configured), then the job. The rate limit
    /// is checked first and counts only accepted submissions.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn submit_url(
        &self,
        request: UrlRequest,
        client: IpAddr,
    ) -> Result<JobRecord, IngestError> {
        self.check_rate(client)?;
        let raw = request.url.as_deref().map(str::trim).unwrap_or_default();
        if raw.is_empty() {
            return Err(IngestError::UrlRequired);
        }
        let url = sofathek_core::urlpolicy::check(raw, self.inner.egress.rules())
            .await
            .map_err(IngestError::InvalidUrl)?;
        let title = check_title(request.title.as_deref())?;
        let category = self.check_category(request.category.as_deref()).await?;
        self.check_disk()?;
        let id = uuid::Uuid::new_v4().to_string();
        let mut metadata = None;
        if !self.inner.policy.is_empty() {
            let cancel = self.inner.shutdown.child_token();
            let ticket = self.inner.egress.ticket(
                &id,
                pipeline::egress_allowance(self.inner.config.max_download_bytes),
            )?;
            let preflight =
                url_source::metadata(&self.inner.config, &url, ticket.url(), &cancel, &id);
            let preflight = tokio::time::timeout(PREFLIGHT_TIMEOUT, preflight)
                .await
                .unwrap_or_else(|_| Err(Failure::internal("pre-flight timed out")));
            let preflight = pipeline::guard_verdict(&ticket, preflight);
            drop(ticket);
            match preflight {
                Ok(meta) => {
                    if let Some(violation) = self.inner.policy.evaluate(&meta.policy_subject()) {
                        return Err(IngestError::Blocked(violation));
                    }
                    metadata = Some(url_source::meta_json(&meta));
                }
                // As the original: queue anyway, the worker will report the problem.
                Err(failure) => tracing::info!(%failure, "pre-flight metadata failed"),
            }
        }
        let new = NewJob {
            id,
            kind: JobKind::Url,
            url: Some(url.to_string()),
            title,
            category,
            audio: request.audio,
            source_name: None,
            source_file: None,
            metadata,
            request_id: uuid::Uuid::new_v4().to_string(),
            source_id: None,
        };
        let job = self
            .inner
            .db
            .write(move |tx| jobs::insert(tx, &new))
            .await?;
        self.inner.limiter.record(client);
        tracing::info!(job = %job.id, url = %url, "queued a download");
        self.inner.emit(&job);
        self.inner.wake(JobKind::Url);
        Ok(job)
    }

    /// Checks an optional category slug against the catalogue.
    pub async fn check_category(
        &self,
        category: Option<&str>,
    ) -> Result<Option<String>, IngestError> {
        let Some(slug) = category.map(str::trim).filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        let lookup = slug.to_owned();
        if self
            .inner
            .db
            .read(move |c| sofathek_db::categories::exists(c, &lookup))
            .await?
        {
            Ok(Some(slug.to_owned()))
        } else {
            Err(IngestError::UnknownCategory(slug.to_owned()))
        }
    }

    /// One job.
    pub async fn get(&self, id: &str) -> Result<JobRecord, IngestError> {
        let id = id.to_owned();
        Ok(self.inner.db.read(move |c| jobs::get(c, &id)).await?)
    }

    /// Every job (of one kind, if given).
    pub async fn list(
        &self,
        kind: Option<JobKind>,
        order: Order,
    ) -> Result<Vec<JobRecord>, IngestError> {
        Ok(self
            .inner
            .db
            .read(move |c| jobs::list(c, kind, order))
            .await?)
    }

    /// Jobs per state (of one kind, if given).
    pub async fn counts(&self, kind: Option<JobKind>) -> Result<JobCounts, IngestError> {
        Ok(self.inner.db.read(move |c| jobs::counts(c, kind)).await?)
    }

    /// Cancels a queued or running job: a running job's processes are killed and its task has
    /// cleaned up when this returns. Completed and failed jobs are `WrongState`.
    #[tracing::instrument(skip_all, fields(job = %id), err(level = "info"))]
    pub async fn cancel(&self, id: &str) -> Result<Cancelled, IngestError> {
        let job = self.get(id).await?;
        match job.state {
            JobState::Cancelled => return Ok(Cancelled { job, already: true }),
            JobState::Completed | JobState::Failed => {
                return Err(IngestError::WrongState(job.state));
            }
            JobState::Queued | JobState::Running => {}
        }
        self.stop(id).await?;
        let job = self.get(id).await?;
        tracing::info!(state = job.state.as_str(), "cancel requested");
        Ok(Cancelled {
            job,
            already: false,
        })
    }

    /// Stops a job whatever it is doing and waits for its task; returns whether it was running.
    async fn stop(&self, id: &str) -> Result<bool, IngestError> {
        for _ in 0..3 {
            let active = self.inner.active_handle(id);
            if let Some((cancel, mut done)) = active {
                cancel.cancel();
                let finished = tokio::time::timeout(CANCEL_WAIT, done.wait_for(|d| *d))
                    .await
                    .is_ok();
                if !finished {
                    tracing::warn!(job = %id, "job task did not stop within {CANCEL_WAIT:?}");
                    let id = id.to_owned();
                    self.inner
                        .db
                        .write(move |tx| jobs::finish(tx, &id, &jobs::Outcome::Cancelled))
                        .await?;
                }
                return Ok(true);
            }
            let lookup = id.to_owned();
            if self
                .inner
                .db
                .write(move |tx| jobs::cancel_queued(tx, &lookup))
                .await?
            {
                // A queued job may have files: an upload's received file, or the partial
                // download of a run stopped by a restart.
                remove_job_dir(&self.inner.layout, id).await;
                if let Ok(job) = self.get(id).await {
                    self.inner.emit(&job);
                }
                return Ok(false);
            }
            // Neither owned by a task nor queued: a dispatcher is handing it over right now,
            // or it just ended. Look again.
            let job = self.get(id).await?;
            if job.state.is_final() {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(false)
    }

    /// Queues a failed or cancelled job again (`WrongState` otherwise).
    #[tracing::instrument(skip_all, fields(job = %id), err(level = "info"))]
    pub async fn retry(&self, id: &str) -> Result<JobRecord, IngestError> {
        let current = self.get(id).await?;
        if current.kind == JobKind::Import && current.state.is_final() {
            let present = match current.source_name.as_deref() {
                Some(name) => tokio::fs::try_exists(self.inner.layout.library.join(name))
                    .await
                    .unwrap_or(false),
                None => false,
            };
            if !present && matches!(current.state, JobState::Failed | JobState::Cancelled) {
                return Err(IngestError::SourceGone);
            }
        }
        if current.kind == JobKind::Upload && current.state.is_final() {
            let source = current
                .source_file
                .as_deref()
                .map(|f| self.inner.layout.job_dir(id).join(f));
            let present = match source {
                Some(path) => tokio::fs::try_exists(path).await.unwrap_or(false),
                None => false,
            };
            if !present && matches!(current.state, JobState::Failed | JobState::Cancelled) {
                return Err(IngestError::SourceGone);
            }
        }
        let lookup = id.to_owned();
        let job = match self
            .inner
            .db
            .write(move |tx| jobs::retry(tx, &lookup))
            .await
        {
            Ok(job) => job,
            Err(DbError::Conflict(_)) => {
                return Err(IngestError::WrongState(self.get(id).await?.state));
            }
            Err(err) => return Err(err.into()),
        };
        self.inner.emit(&job);
        self.inner.wake(job.kind);
        Ok(job)
    }

    /// Removes finished jobs (of one kind, if given) that finished more than `max_age` ago, with
    /// their staging directories; returns how many.
    pub async fn cleanup(
        &self,
        kind: Option<JobKind>,
        max_age: Duration,
    ) -> Result<usize, IngestError> {
        cleanup(&self.inner, kind, max_age).await
    }

    /// Cancels every queued and running job of `kind` (killing their processes), then removes
    /// all jobs of that kind; returns (removed, running jobs that were cancelled). Library
    /// files are not touched.
    pub async fn clear(&self, kind: JobKind) -> Result<(usize, usize), IngestError> {
        let jobs = self.list(Some(kind), Order::OldestFirst).await?;
        let stops = jobs
            .iter()
            .filter(|j| !j.state.is_final())
            .map(|j| self.stop(&j.id));
        let mut cancelled_running = 0;
        for stopped in futures_util::future::join_all(stops).await {
            if stopped? {
                cancelled_running += 1;
            }
        }
        let removed = self
            .inner
            .db
            .write(move |tx| jobs::delete_all(tx, Some(kind)))
            .await?;
        for job in &removed {
            remove_job_dir(&self.inner.layout, &job.id).await;
        }
        Ok((removed.len(), cancelled_running))
    }

    /// The shared state (for the upload receiver).
    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }
}

impl Inner {
    /// Announces a job on the event bus.
    pub(crate) fn emit(&self, job: &JobRecord) {
        self.events.publish(Event::Job {
            job: Box::new(job.clone()),
        });
    }

    /// Wakes the dispatcher of `kind`.
    pub(crate) fn wake(&self, kind: JobKind) {
        match kind {
            JobKind::Url => self.wake_url.notify_one(),
            JobKind::Upload | JobKind::Import => self.wake_upload.notify_one(),
        }
    }

    fn active_handle(&self, id: &str) -> Option<(CancellationToken, watch::Receiver<bool>)> {
        let active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        active.get(id).map(|a| (a.cancel.clone(), a.done.clone()))
    }

    fn active_ids(&self) -> Vec<String> {
        let active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        active.keys().cloned().collect()
    }

    /// Registers a job as owned by a task; returns its cancel token and the sender that
    /// announces the task's end.
    fn register(&self, id: &str) -> (CancellationToken, watch::Sender<bool>) {
        let cancel = self.shutdown.child_token();
        let (done_tx, done_rx) = watch::channel(false);
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        active.insert(
            id.to_owned(),
            Active {
                cancel: cancel.clone(),
                done: done_rx,
            },
        );
        (cancel, done_tx)
    }

    pub(crate) fn unregister(&self, id: &str) {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        active.remove(id);
    }
}

/// Checks a user-supplied title: trimmed, 1 to 300 characters; empty means none.
pub fn check_title(title: Option<&str>) -> Result<Option<String>, IngestError> {
    let Some(title) = title.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if title.chars().count() > MAX_TITLE_CHARS || title.chars().any(char::is_control) {
        return Err(IngestError::InvalidTitle);
    }
    Ok(Some(title.to_owned()))
}

fn check_disk(inner: &Inner) -> Result<(), IngestError> {
    let needed = inner.config.min_free_bytes;
    match sofathek_core::library::disk::disk_space(&inner.layout.data) {
        Some(disk) if disk.free < needed => Err(IngestError::LowDisk {
            free: disk.free,
            needed,
        }),
        _ => Ok(()),
    }
}

/// Removes a job's staging directory (nothing to do when it does not exist).
pub(crate) async fn remove_job_dir(layout: &Layout, id: &str) {
    let dir = layout.job_dir(id);
    match tokio::fs::remove_dir_all(&dir).await {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => {
            tracing::warn!(dir = %dir.display(), %err, "could not remove a job's staging directory")
        }
    }
}

/// Start-up: kill left-over children, re-queue running jobs, wipe upload work directories
/// (uploads keep their received file). URL jobs keep theirs: the next run keeps only the
/// partial download and resumes it (`pipeline::keep_partial_downloads`).
async fn recover(inner: &Arc<Inner>) -> Result<(), IngestError> {
    let staging = inner.layout.staging.clone();
    let killed = tokio::task::spawn_blocking(move || orphans::kill_in(&staging))
        .await
        .unwrap_or_default();
    if !killed.is_empty() {
        // Give the killed processes a moment to disappear before their directories are wiped.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A publish that crashed after renaming its video in left complete files: the job is done
    // and the library scan adopts them (with the sidecar, renamed in first, when it is there).
    let planned = inner.db.read(jobs::running_planned).await?;
    let library = inner.layout.library.clone();
    let on_disk: HashSet<String> = planned
        .into_iter()
        .map(|(_, stem)| stem)
        .filter(|stem| {
            let has = |suffix: &str| library.join(format!("{stem}{suffix}")).is_file();
            has(".mp4") || has(".webm")
        })
        .collect();
    let recovered = inner
        .db
        .write(move |tx| jobs::recover_running(tx, &on_disk))
        .await?;
    if !recovered.requeued.is_empty() {
        tracing::info!(jobs = ?recovered.requeued, "re-queued jobs interrupted by a restart");
    }
    if !recovered.completed.is_empty() {
        tracing::info!(jobs = ?recovered.completed, "completed jobs whose video was published just before a restart");
    }
    for id in &recovered.completed {
        remove_job_dir(&inner.layout, id).await;
    }
    let active = inner.db.read(jobs::active).await?;
    for (id, kind) in active {
        if kind != JobKind::Url {
            let work = inner.layout.job_dir(&id).join(pipeline::WORK_DIR);
            let _ = tokio::fs::remove_dir_all(&work).await;
        }
    }
    for id in recovered.requeued.into_iter().chain(recovered.completed) {
        if let Ok(job) = inner.db.read(move |c| jobs::get(c, &id)).await {
            inner.emit(&job);
        }
    }
    Ok(())
}

/// Hands queued jobs of one kind to tasks, oldest first, when a slot is free.
async fn dispatch(inner: Arc<Inner>, kind: JobKind) {
    // Uploads and imports (files found in the library folder) both need only a conversion slot.
    let (slots, wake, kinds) = match kind {
        JobKind::Url => (
            inner.downloads.clone(),
            &inner.wake_url,
            &[JobKind::Url][..],
        ),
        JobKind::Upload | JobKind::Import => (
            inner.conversions.clone(),
            &inner.wake_upload,
            &[JobKind::Upload, JobKind::Import][..],
        ),
    };
    loop {
        // Wait until there is work, then for a slot, then take the oldest job still queued.
        loop {
            let skip = inner.active_ids();
            match inner
                .db
                .read(move |c| jobs::next_queued(c, kinds, &skip))
                .await
            {
                Ok(Some(_)) => break,
                Ok(None) => {}
                Err(err) => tracing::warn!(%err, "could not read the queue"),
            }
            tokio::select! {
                () = inner.shutdown.cancelled() => return,
                () = wake.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(30)) => {}
            }
        }
        let permit = tokio::select! {
            () = inner.shutdown.cancelled() => return,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
        };
        let skip = inner.active_ids();
        let job = match inner
            .db
            .read(move |c| jobs::next_queued(c, kinds, &skip))
            .await
        {
            Ok(Some(job)) => job,
            Ok(None) => continue,
            Err(err) => {
                tracing::warn!(%err, "could not read the queue");
                continue;
            }
        };
        let (cancel, done) = inner.register(&job.id);
        inner
            .tracker
            .spawn(pipeline::run(inner.clone(), job, cancel, permit, done));
    }
}

/// Removes finished jobs older than the retention period, every hour.
async fn retention(inner: Arc<Inner>) {
    let max_age = Duration::from_secs(u64::from(inner.config.job_retention_days) * 86_400);
    loop {
        match cleanup(&inner, None, max_age).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "removed finished jobs past their retention"),
            Err(err) => tracing::warn!(%err, "job retention failed"),
        }
        tokio::select! {
            () = inner.shutdown.cancelled() => return,
            () = tokio::time::sleep(RETENTION_INTERVAL) => {}
        }
    }
}

async fn cleanup(
    inner: &Inner,
    kind: Option<JobKind>,
    max_age: Duration,
) -> Result<usize, IngestError> {
    let cutoff = time::OffsetDateTime::now_utc()
        .checked_sub(time::Duration::try_from(max_age).unwrap_or(time::Duration::MAX))
        .map(sofathek_db::format_time)
        .unwrap_or_else(|| "0000-01-01T00:00:00.000Z".into());
    let removed = inner
        .db
        .write(move |tx| jobs::delete_finished_before(tx, kind, &cutoff))
        .await?;
    for job in &removed {
        remove_job_dir(&inner.layout, &job.id).await;
    }
    Ok(removed.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles() {
        assert_eq!(check_title(None).ok(), Some(None));
        assert_eq!(check_title(Some("  ")).ok(), Some(None));
        assert_eq!(check_title(Some(" Hi ")).ok(), Some(Some("Hi".to_string())));
        assert!(check_title(Some(&"x".repeat(301))).is_err());
        assert!(check_title(Some("a\nb")).is_err());
    }
}

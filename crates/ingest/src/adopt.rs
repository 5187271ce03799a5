//! The library scan: files dropped into `library/` (while the server is stopped or running,
//! by rsync, a NAS share, a USB stick) become videos, and a lost catalogue is rebuilt from the
//! folder.
//!
//! A scan lists the library directory and compares it with the catalogue by name only (known
//! files cost nothing, not even a `stat`). Every unknown file is either
//!
//! - a video playable as it is (the ingest plan's keep rules) → catalogued in place with its
//!   companions (thumbnail, subtitles, MP3, sidecar; a thumbnail is made when there is none and
//!   a `.srt` gets a `.vtt` beside it), its title, category and date from its sidecar or its
//!   file name;
//! - a video browsers cannot play → an `import` job in the normal queue converts it; the source
//!   is replaced once the converted video is published (kept with `SOFATHEK_KEEP_ORIGINALS`);
//! - anything else → left alone and listed in the report with the reason: still being copied
//!   (changed less than `SOFATHEK_SCAN_SETTLE` seconds ago, `.part`/`.tmp`/`.crdownload`),
//!   hidden, not a video, unreadable, a companion without a new video, a folder or a link.
//!
//! Nothing here removes or rewrites a library file (publish may merge a sidecar it adopts).
//! Scans run one at a time; triggers: start-up (in the background), the folder watcher
//! (inotify, debounced), a periodic rescan (`SOFATHEK_SCAN_INTERVAL`), `sofathek scan` and
//! `POST /api/library/scan`. A scan that saw files still settling runs again once they had time.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use sofathek_core::events::Event;
use sofathek_core::library::scan::{self, Class, EntryType, Stamp};
use sofathek_core::library::sidecar::{self, Sidecar};
use sofathek_core::library::{self, LibraryLock, StagedFile};
use sofathek_db::jobs::{self, JobKind, JobState, NewJob};
use sofathek_db::videos::{self, FileKind, VideoRecord};
use sofathek_media::plan::{self, Plan};
use sofathek_process::ProcessError;

use super::error::IngestError;
use super::{Ingest, Inner, convert};

/// Quiet time after the last change event before a watcher-triggered scan runs.
const DEBOUNCE: Duration = Duration::from_millis(750);

/// What started a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    Startup,
    Watch,
    Periodic,
    Api,
    Cli,
}

/// A video a scan catalogued in place.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Adopted {
    pub file: String,
    pub id: String,
    pub title: String,
}

/// A file a scan queued for conversion.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Queued {
    pub file: String,
    pub job: String,
}

/// A file a scan left alone, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

/// What one scan found and did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanReport {
    pub trigger: Trigger,
    pub rebuild: bool,
    pub started_at: String,
    pub took_ms: u64,
    /// Entries in the library folder.
    pub files: usize,
    /// Of them, files the catalogue knows.
    pub known: usize,
    /// Unknown video files found.
    pub found: usize,
    pub adopted: Vec<Adopted>,
    pub queued: Vec<Queued>,
    /// Known videos whose title, category or date a rebuild restored from their sidecar.
    pub restored: Vec<String>,
    pub skipped: Vec<Skipped>,
    /// Files still being copied: the scan runs again when they had time to settle.
    pub settling: usize,
}

/// The scanner's state, one per pipeline.
#[derive(Default)]
pub struct Scanner {
    /// Held while a scan runs: scans never overlap.
    busy: tokio::sync::Mutex<()>,
    running: AtomicBool,
    /// Another scan was asked for while one ran.
    again: AtomicBool,
    last: Mutex<Option<ScanReport>>,
    /// Files that could not be read, with the stamp they had: not probed again until changed.
    failed: Mutex<HashMap<String, (Stamp, String)>>,
}

/// What happened to one candidate.
enum Outcome {
    Adopted(Adopted),
    Queued(Queued),
    Skipped(String),
    Settling,
}

impl Ingest {
    /// Runs a library scan now (waiting for one in progress to end first) and returns its report.
    pub async fn scan(&self, trigger: Trigger, rebuild: bool) -> Result<ScanReport, IngestError> {
        run_scan(self.inner(), trigger, rebuild).await
    }

    /// Starts a scan in the background unless one is running (then one more runs after it);
    /// returns whether a new scan started.
    pub fn request_scan(&self, trigger: Trigger) -> bool {
        request(self.inner(), trigger)
    }

    /// The report of the last finished scan.
    pub fn last_scan(&self) -> Option<ScanReport> {
        let last = self.inner().scanner.last.lock();
        last.unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether a scan is running.
    pub fn scanning(&self) -> bool {
        self.inner().scanner.running.load(Ordering::SeqCst)
    }
}

fn request(inner: &Arc<Inner>, trigger: Trigger) -> bool {
    if inner.shutdown.is_cancelled() {
        return false;
    }
    // Marked running before the task starts, so a reader never sees a gap between a request
    // and its scan.
    if inner.scanner.running.swap(true, Ordering::SeqCst) {
        inner.scanner.again.store(true, Ordering::SeqCst);
        return false;
    }
    spawn_scan(inner, trigger);
    true
}

fn spawn_scan(inner: &Arc<Inner>, trigger: Trigger) {
    let task = inner.clone();
    inner.tracker.spawn(async move {
        if let Err(err) = run_scan(&task, trigger, false).await {
            tracing::warn!(%err, "library scan failed");
        }
    });
}

/// Background triggers, started with the workers: a scan at start-up, the folder watcher and
/// the periodic rescan.
pub(crate) fn start(inner: &Arc<Inner>) {
    request(inner, Trigger::Startup);
    if inner.config.watch_library {
        let task = inner.clone();
        inner.tracker.spawn(async move {
            if let Err(err) = watch(&task).await {
                tracing::warn!(%err, "cannot watch the library folder; periodic scans still find new files");
            }
        });
    }
    if inner.config.scan_interval > 0 {
        let task = inner.clone();
        inner.tracker.spawn(async move {
            let every = Duration::from_secs(task.config.scan_interval);
            loop {
                tokio::select! {
                    () = task.shutdown.cancelled() => return,
                    () = tokio::time::sleep(every) => {}
                }
                request(&task, Trigger::Periodic);
            }
        });
    }
}

/// Watches the library directory with inotify (on a thread of its own, which polls the
/// descriptor and looks for shutdown once a second) and scans after changes settle.
#[cfg(target_os = "linux")]
async fn watch(inner: &Arc<Inner>) -> std::io::Result<()> {
    use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
    let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)?;
    inotify::add_watch(
        &fd,
        &*inner.layout.library,
        WatchFlags::CREATE
            | WatchFlags::CLOSE_WRITE
            | WatchFlags::MOVED_TO
            | WatchFlags::MODIFY
            | WatchFlags::ATTRIB,
    )?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    let stop = inner.shutdown.clone();
    std::thread::Builder::new()
        .name("library-watch".into())
        .spawn(move || watch_thread(&fd, &tx, &stop))?;
    loop {
        // Wait for the first change, then until the folder has been quiet for DEBOUNCE.
        tokio::select! {
            () = inner.shutdown.cancelled() => return Ok(()),
            got = rx.recv() => if got.is_none() { return Ok(()) },
        }
        loop {
            tokio::select! {
                () = inner.shutdown.cancelled() => return Ok(()),
                () = tokio::time::sleep(DEBOUNCE) => break,
                got = rx.recv() => if got.is_none() { return Ok(()) },
            }
        }
        tracing::debug!("library folder changed: scanning");
        request(inner, Trigger::Watch);
    }
}

/// Reads inotify events until shutdown and signals each batch (the events themselves do not
/// matter: a scan looks at the whole folder).
#[cfg(target_os = "linux")]
fn watch_thread(
    fd: &std::os::fd::OwnedFd,
    tx: &tokio::sync::mpsc::Sender<()>,
    stop: &tokio_util::sync::CancellationToken,
) {
    use rustix::event::{PollFd, PollFlags, Timespec};
    let mut buf = vec![0u8; 16 * 1024];
    let second = Timespec {
        tv_sec: 1,
        tv_nsec: 0,
    };
    while !stop.is_cancelled() && !tx.is_closed() {
        let mut fds = [PollFd::new(fd, PollFlags::IN)];
        match rustix::event::poll(&mut fds, Some(&second)) {
            Ok(0) | Err(rustix::io::Errno::INTR) => continue,
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(%err, "library watch stopped");
                return;
            }
        }
        let mut got = false;
        loop {
            match rustix::io::read(fd, &mut buf[..]) {
                Ok(0) | Err(rustix::io::Errno::AGAIN) => break,
                Ok(_) => got = true,
                Err(rustix::io::Errno::INTR) => {}
                Err(err) => {
                    tracing::warn!(%err, "library watch stopped");
                    return;
                }
            }
        }
        if got {
            // A full channel already holds a signal: nothing is lost.
            let _ = tx.try_send(());
        }
    }
}

#[cfg(not(target_os = "linux"))]
async fn watch(_inner: &Arc<Inner>) -> std::io::Result<()> {
    Err(std::io::Error::other("watching needs Linux"))
}

/// Marks the scanner busy for as long as it lives (unless `handed_on`: a follow-up scan
/// takes the mark over).
struct Running<'a> {
    scanner: &'a Scanner,
    handed_on: bool,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if !self.handed_on {
            self.scanner.running.store(false, Ordering::SeqCst);
        }
    }
}

async fn run_scan(
    inner: &Arc<Inner>,
    trigger: Trigger,
    rebuild: bool,
) -> Result<ScanReport, IngestError> {
    let _busy = inner.scanner.busy.lock().await;
    inner.scanner.running.store(true, Ordering::SeqCst);
    inner.scanner.again.store(false, Ordering::SeqCst);
    let mut running = Running {
        scanner: &inner.scanner,
        handed_on: false,
    };
    let result = scan_once(inner, trigger, rebuild).await;
    match &result {
        Ok(report) => {
            let level_info = !report.adopted.is_empty() || !report.queued.is_empty();
            if level_info {
                tracing::info!(
                    trigger = ?trigger,
                    adopted = report.adopted.len(),
                    queued = report.queued.len(),
                    skipped = report.skipped.len(),
                    took_ms = report.took_ms,
                    "library scan adopted new files"
                );
            } else {
                tracing::debug!(trigger = ?trigger, skipped = report.skipped.len(), took_ms = report.took_ms, "library scan");
            }
            inner
                .metrics
                .count_scan(report.adopted.len(), report.queued.len());
            *inner.scanner.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(report.clone());
            if report.settling > 0 {
                // Look again once the files being copied had time to settle.
                let task = inner.clone();
                let wait =
                    Duration::from_secs(inner.config.scan_settle) + Duration::from_millis(300);
                inner.tracker.spawn(async move {
                    tokio::select! {
                        () = task.shutdown.cancelled() => {}
                        () = tokio::time::sleep(wait) => { request(&task, Trigger::Watch); }
                    }
                });
            }
        }
        Err(err) => tracing::warn!(%err, "library scan failed"),
    }
    if inner.scanner.again.swap(false, Ordering::SeqCst) && !inner.shutdown.is_cancelled() {
        // Asked for while this one ran: the next one starts now and stays marked running.
        running.handed_on = true;
        spawn_scan(inner, Trigger::Watch);
    }
    drop(running);
    result
}

async fn scan_once(
    inner: &Arc<Inner>,
    trigger: Trigger,
    rebuild: bool,
) -> Result<ScanReport, IngestError> {
    let began = Instant::now();
    let started_at = sofathek_db::now();
    // Under the library lock, so that a publish in progress (files renamed in, row not yet
    // committed) is never taken for dropped-in files.
    let (entries, known, claimed) = {
        let _lock = LibraryLock::acquire(&inner.layout).await?;
        let claimed = inner.db.read(jobs::claimed_library_files).await?;
        // Files of deleted videos not unlinked yet count as known: never adopted again.
        let known = inner
            .db
            .read(|c| {
                let mut known = videos::all_file_names(c)?;
                known.extend(videos::deleted_files(c)?);
                Ok(known)
            })
            .await?;
        let dir = inner.layout.library.clone();
        let entries = tokio::task::spawn_blocking(move || scan::list(&dir))
            .await
            .map_err(|e| IngestError::Io(std::io::Error::other(e)))??;
        (entries, known, claimed)
    };
    let names: BTreeSet<String> = entries
        .iter()
        .filter(|e| e.kind == EntryType::File)
        .map(|e| e.name.clone())
        .collect();
    let mut report = ScanReport {
        trigger,
        rebuild,
        started_at,
        took_ms: 0,
        files: entries.len(),
        known: entries.iter().filter(|e| known.contains(&e.name)).count(),
        found: 0,
        adopted: Vec::new(),
        queued: Vec::new(),
        restored: Vec::new(),
        skipped: Vec::new(),
        settling: 0,
    };
    let mut skip = |file: &str, reason: &str| {
        report.skipped.push(Skipped {
            file: file.to_owned(),
            reason: reason.to_owned(),
        })
    };
    let mut candidates = Vec::new();
    let mut companions = Vec::new();
    for entry in entries.iter().filter(|e| !known.contains(&e.name)) {
        let name = entry.name.as_str();
        match entry.kind {
            EntryType::Dir => {
                skip(
                    name,
                    "a folder: only files directly in the library folder are read",
                );
                continue;
            }
            EntryType::Symlink => {
                skip(name, "a symbolic link: left alone");
                continue;
            }
            EntryType::Other => {
                skip(name, "not a regular file");
                continue;
            }
            EntryType::File => {}
        }
        match scan::classify(name) {
            Class::Hidden => skip(name, "a hidden file"),
            Class::Partial => skip(name, "still being written (a partial download or copy)"),
            Class::Other => skip(name, "not a video file"),
            Class::Companion => companions.push(name),
            Class::Video => candidates.push(name),
        }
    }
    report.found = candidates.len();
    let settle = Duration::from_secs(inner.config.scan_settle);
    let mut ready = Vec::new();
    for &name in &candidates {
        if let Some((job, state)) = claimed.get(name) {
            let reason = match state {
                JobState::Queued | JobState::Running => {
                    format!("being converted by job {job}")
                }
                JobState::Completed => format!(
                    "already converted by job {job} (this copy stayed after an interruption); remove the job to convert the file again"
                ),
                _ => format!(
                    "its conversion {} (job {job}): retry the job, or remove it to convert the file again",
                    state.as_str()
                ),
            };
            skip(name, &reason);
            continue;
        }
        let stamp = match Stamp::of(&inner.layout.library.join(name)) {
            Ok(stamp) => stamp,
            Err(err) => {
                skip(name, &format!("cannot be read: {err}"));
                continue;
            }
        };
        if changed_recently(stamp.modified, settle) {
            skip(name, "still being copied: it changed moments ago");
            report.settling += 1;
            continue;
        }
        let failed = inner
            .scanner
            .failed
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some((seen, reason)) = failed.get(name) {
            if *seen == stamp {
                skip(name, reason);
                continue;
            }
        }
        drop(failed);
        ready.push((name, stamp));
    }
    let stems: Vec<&str> = candidates
        .iter()
        .map(|n| n.rsplit_once('.').map_or(*n, |(stem, _)| stem))
        .collect();
    for &name in &companions {
        let attached = stems
            .iter()
            .any(|stem| name.starts_with(&format!("{stem}.")));
        if !attached {
            skip(
                name,
                "a companion file (picture, subtitle, audio or sidecar) without a new video of the same name",
            );
        }
    }
    for (name, stamp) in ready {
        if inner.shutdown.is_cancelled() {
            break;
        }
        match adopt(inner, name, stamp, &names).await {
            Ok(Outcome::Adopted(adopted)) => report.adopted.push(adopted),
            Ok(Outcome::Queued(queued)) => report.queued.push(queued),
            Ok(Outcome::Settling) => {
                skip(name, "still being copied: it changed while it was read");
                report.settling += 1;
            }
            Ok(Outcome::Skipped(reason)) => skip(name, &reason),
            Err(err) => skip(name, &format!("could not be adopted: {err}")),
        }
    }
    if rebuild {
        report.restored = restore_from_sidecars(inner).await?;
    }
    report.took_ms = began.elapsed().as_millis() as u64;
    Ok(report)
}

/// Whether a file changed less than `settle` ago (or claims to have changed in the future).
fn changed_recently(modified: SystemTime, settle: Duration) -> bool {
    match SystemTime::now().duration_since(modified) {
        Ok(age) => age < settle,
        Err(_) => true,
    }
}

/// Remembers that a file cannot be adopted until it changes.
fn remember_failure(inner: &Inner, name: &str, stamp: Stamp, reason: &str) -> Outcome {
    let mut failed = inner
        .scanner
        .failed
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    failed.insert(name.to_owned(), (stamp, reason.to_owned()));
    Outcome::Skipped(reason.to_owned())
}

/// Probes one settled unknown video and adopts it in place or queues its conversion.
async fn adopt(
    inner: &Arc<Inner>,
    name: &str,
    stamp: Stamp,
    names: &BTreeSet<String>,
) -> Result<Outcome, IngestError> {
    let path = inner.layout.library.join(name);
    let cancel = inner.shutdown.child_token();
    let probed = match convert::probe(&inner.config, &path, &cancel, "library-scan").await {
        Ok(probed) => probed,
        Err(ProcessError::Exited { .. }) => {
            return Ok(remember_failure(
                inner,
                name,
                stamp,
                "ffprobe cannot read it: not a video, or damaged",
            ));
        }
        Err(err @ (ProcessError::NotFound { .. } | ProcessError::PermissionDenied { .. })) => {
            return Err(IngestError::ToolMissing(err));
        }
        Err(err) => return Ok(Outcome::Skipped(format!("could not be probed: {err}"))),
    };
    if !probed.info.is_media() {
        return Ok(remember_failure(
            inner,
            name,
            stamp,
            "not a video (ffprobe found no media)",
        ));
    }
    let Some(plan) = plan::plan(&probed.info, &probed.facts) else {
        return Ok(remember_failure(
            inner,
            name,
            stamp,
            "no video stream in it",
        ));
    };
    if Stamp::of(&path).ok() != Some(stamp) {
        return Ok(Outcome::Settling);
    }
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let found = scan::companions(stem, names);
    let side = found
        .sidecar
        .as_deref()
        .and_then(|n| sidecar::read(&inner.layout.library.join(n)));
    let title = side
        .as_ref()
        .and_then(Sidecar::title)
        .unwrap_or_else(|| scan::title_from_stem(stem));
    let category = restore_category(inner, side.as_ref()).await?;
    if !matches!(plan, Plan::Keep { .. }) {
        return queue_conversion(inner, name, title, category, side.is_some()).await;
    }
    let ext = library::extension(name).unwrap_or_default();
    let id = free_id(inner, stem, &ext).await?;
    let staging = inner
        .layout
        .staging
        .join(format!("scan-{}", uuid::Uuid::new_v4()));
    tokio::fs::create_dir_all(&staging).await?;
    let result = async {
        let mut files = vec![StagedFile::in_place(
            &inner.layout,
            name,
            FileKind::Video,
            None,
        )];
        files.extend(in_place_companions(inner, &found, side.is_some()));
        for (srt, vtt, language) in
            sofathek_core::library::scan::subtitle_plan(&found.subtitles).make
        {
            if names.contains(&vtt) {
                continue;
            }
            let text = tokio::fs::read(inner.layout.library.join(&srt)).await?;
            let made = staging.join(&vtt);
            tokio::fs::write(
                &made,
                sofathek_core::library::scan::srt_to_vtt(&String::from_utf8_lossy(&text)),
            )
            .await?;
            files.push(StagedFile::staged(
                made,
                vtt,
                FileKind::Subtitle,
                Some(language),
            ));
        }
        if found.thumbnail.is_none() {
            let thumb_name = format!("{stem}.webp");
            if !names.contains(&thumb_name) {
                let output = staging.join(&thumb_name);
                if let Ok(Some(made)) = convert::thumbnail(
                    &inner.config,
                    &path,
                    None,
                    probed.info.duration,
                    &output,
                    &cancel,
                    "library-scan",
                )
                .await
                {
                    files.push(StagedFile::staged(
                        made,
                        thumb_name,
                        FileKind::Thumbnail,
                        None,
                    ));
                }
            }
        }
        let modified = sofathek_db::format_time(stamp.modified.into());
        let video = probed.info.primary_video();
        let audio = probed.info.primary_audio();
        let side = side.clone().unwrap_or_default();
        let record = VideoRecord {
            id: id.clone(),
            title: title.clone(),
            category: category.clone(),
            channel: side.channel(),
            description: side.description.clone().filter(|d| !d.trim().is_empty()),
            tags: side.tags.clone().unwrap_or_default(),
            duration: probed.info.duration.or(side.duration),
            width: video.and_then(|v| v.width).map(i64::from),
            height: video.and_then(|v| v.height).map(i64::from),
            video_codec: video.and_then(|v| v.codec_name.clone()),
            audio_codec: audio.and_then(|a| a.codec_name.clone()),
            bitrate: probed
                .info
                .bit_rate
                .map(|b| i64::try_from(b).unwrap_or(i64::MAX)),
            format: Some(ext.to_ascii_uppercase()),
            file_name: name.to_owned(),
            size: stamp.size,
            modified_at: modified.clone(),
            added_at: side.added().unwrap_or(modified),
            upload_date: side.upload_date.clone(),
            source_url: side.source_url.clone().filter(|s| !s.is_empty()),
            view_count: 0,
            files: Vec::new(),
        };
        library::publish(&inner.db, &inner.layout, record, files).await
    }
    .await;
    let _ = tokio::fs::remove_dir_all(&staging).await;
    match result {
        Ok(video) => {
            tracing::info!(file = %name, video = %video.id, "adopted a video found in the library folder");
            inner.events.publish(Event::LibraryAdded {
                id: video.id.clone(),
                category: video.category.clone(),
            });
            Ok(Outcome::Adopted(Adopted {
                file: name.to_owned(),
                id: video.id,
                title,
            }))
        }
        Err(library::LibraryError::Db(sofathek_db::DbError::Conflict(_))) => Ok(Outcome::Skipped(
            "already catalogued (adopted by another scan or import meanwhile)".into(),
        )),
        Err(err) => Err(match err {
            library::LibraryError::Io(err) => IngestError::Io(err),
            library::LibraryError::Db(err) => IngestError::Db(err),
        }),
    }
}

/// The companions of a video that are recorded where they are: its picture, MP3, sidecar
/// (only one that reads as a sidecar), and subtitles (one WebVTT per language is listed; a
/// SubRip file is kept as an extra).
pub(crate) fn in_place_companions(
    inner: &Inner,
    found: &scan::Companions,
    sidecar_readable: bool,
) -> Vec<StagedFile> {
    let layout = &inner.layout;
    let mut files = Vec::new();
    if let Some(thumb) = &found.thumbnail {
        files.push(StagedFile::in_place(
            layout,
            thumb,
            FileKind::Thumbnail,
            None,
        ));
    }
    if let Some(audio) = &found.audio {
        files.push(StagedFile::in_place(layout, audio, FileKind::Audio, None));
    }
    if let (Some(info), true) = (&found.sidecar, sidecar_readable) {
        files.push(StagedFile::in_place(layout, info, FileKind::Info, None));
    }
    let plan = sofathek_core::library::scan::subtitle_plan(&found.subtitles);
    for sub in &found.subtitles {
        let kind = if plan.listed.contains(&sub.name) {
            FileKind::Subtitle
        } else {
            FileKind::Extra
        };
        files.push(StagedFile::in_place(
            layout,
            &sub.name,
            kind,
            Some(sub.language.clone()),
        ));
    }
    files
}

/// The category a sidecar names: kept when it exists, created (with the sidecar's name for it)
/// when the catalogue was lost, dropped when it is not a valid slug.
async fn restore_category(
    inner: &Inner,
    side: Option<&Sidecar>,
) -> Result<Option<String>, IngestError> {
    let Some(side) = side else { return Ok(None) };
    let Some(slug) = side.category.clone().filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if sofathek_db::categories::slugify(&slug) != slug {
        return Ok(None);
    }
    let name = side
        .category_name
        .clone()
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty() && n.chars().count() <= 100)
        .unwrap_or_else(|| slug.clone());
    let restored = inner
        .db
        .write(move |tx| {
            if !sofathek_db::categories::exists(tx, &slug)? {
                sofathek_db::categories::create(tx, &slug, &name)?;
            }
            Ok(slug)
        })
        .await?;
    Ok(Some(restored))
}

/// A video id for an adopted file: its stem, else `<stem>-<ext>`, else `<stem>-<random>`.
async fn free_id(inner: &Inner, stem: &str, ext: &str) -> Result<String, IngestError> {
    let random = uuid::Uuid::new_v4().simple().to_string();
    let candidates = [
        stem.to_owned(),
        format!("{stem}-{ext}"),
        format!("{stem}-{}", &random[..8]),
    ];
    for id in candidates {
        let lookup = id.clone();
        if !inner.db.read(move |c| videos::exists(c, &lookup)).await? {
            return Ok(id);
        }
    }
    Ok(format!("{stem}-{random}"))
}

/// Queues an import job for a file browsers cannot play, unless a job already claims it.
async fn queue_conversion(
    inner: &Arc<Inner>,
    name: &str,
    title: String,
    category: Option<String>,
    has_sidecar: bool,
) -> Result<Outcome, IngestError> {
    let new = NewJob {
        id: uuid::Uuid::new_v4().to_string(),
        kind: JobKind::Import,
        url: None,
        title: Some(title),
        category,
        audio: false,
        source_name: Some(name.to_owned()),
        source_file: None,
        metadata: has_sidecar.then(|| serde_json::json!({ "sidecar": true })),
        request_id: uuid::Uuid::new_v4().to_string(),
        source_id: None,
    };
    let file = name.to_owned();
    let job = inner
        .db
        .write(move |tx| {
            if jobs::claimed_library_files(tx)?.contains_key(&file) {
                return Ok(None);
            }
            jobs::insert(tx, &new).map(Some)
        })
        .await?;
    let Some(job) = job else {
        return Ok(Outcome::Skipped("being converted by another job".into()));
    };
    tracing::info!(file = %name, job = %job.id, "queued the conversion of a file found in the library folder");
    inner.emit(&job);
    inner.wake(JobKind::Import);
    Ok(Outcome::Queued(Queued {
        file: name.to_owned(),
        job: job.id,
    }))
}

/// `--rebuild`: restores the title, category, date, description and channel of known videos
/// from their sidecars; returns the ids that changed.
async fn restore_from_sidecars(inner: &Inner) -> Result<Vec<String>, IngestError> {
    let sidecars = inner.db.read(videos::sidecars).await?;
    let mut restored = Vec::new();
    for (id, file) in sidecars {
        let Some(side) = sidecar::read(&inner.layout.library.join(&file)) else {
            continue;
        };
        let category = restore_category(inner, Some(&side)).await?;
        let fields = videos::Restore {
            title: side.title(),
            category,
            added_at: side.added(),
            description: side.description.clone().filter(|d| !d.trim().is_empty()),
            channel: side.channel(),
        };
        let lookup = id.clone();
        if inner
            .db
            .write(move |tx| videos::restore(tx, &lookup, &fields))
            .await?
        {
            restored.push(id);
        }
    }
    Ok(restored)
}

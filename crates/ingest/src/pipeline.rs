//! One run of one job: source (download or received upload) → probe → keep/remux/transcode →
//! thumbnail (+ MP3, subtitles) → publish, then the job's final state and clean-up.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio_util::sync::CancellationToken;

use sofathek_codes::Code;
use sofathek_core::events::Event;
use sofathek_db::jobs::{self, JobKind, JobRecord, JobState, Outcome, Stage};
use sofathek_db::videos::{FileKind, VideoRecord};
use sofathek_media::plan::{self, Plan};
use sofathek_ytdlp::info::VideoMeta;

use super::Inner;
use super::convert;
use super::error::Failure;
use super::publish::{self, Product, RecordParts};
use super::reporter::Reporter;
use super::url_source;

/// The per-run work directory inside a job's staging directory.
pub const WORK_DIR: &str = "work";

/// Runs a job that a dispatcher handed over with its slot (a download slot for URL jobs, a
/// conversion slot for uploads), records the outcome and cleans up.
#[tracing::instrument(name = "job", skip_all, fields(job = %job.id, kind = job.kind.as_str()))]
pub async fn run(
    inner: Arc<Inner>,
    job: JobRecord,
    cancel: CancellationToken,
    permit: OwnedSemaphorePermit,
    done: watch::Sender<bool>,
) {
    let id = job.id.clone();
    let kind = job.kind;
    let began = Instant::now();
    let first_stage = match kind {
        JobKind::Url => Stage::Fetching,
        JobKind::Upload | JobKind::Import => Stage::Probing,
    };
    let started = if cancel.is_cancelled() {
        let lookup = id.clone();
        let _ = inner
            .db
            .write(move |tx| jobs::cancel_queued(tx, &lookup))
            .await;
        false
    } else {
        let lookup = id.clone();
        match inner
            .db
            .write(move |tx| jobs::start(tx, &lookup, first_stage, 0.0))
            .await
        {
            Ok(started) => started,
            Err(err) => {
                tracing::error!(%err, "could not start the job");
                false
            }
        }
    };
    if !started {
        announce(&inner, &id).await;
        inner.unregister(&id);
        let _ = done.send(true);
        return;
    }
    let job = match inner
        .db
        .read({
            let id = id.clone();
            move |c| jobs::get(c, &id)
        })
        .await
    {
        Ok(job) => job,
        Err(_) => job,
    };
    tracing::info!(attempt = job.attempts, "job started");
    inner.emit(&job);
    let mut reporter = Reporter::new(inner.clone(), job);
    let result = execute(&inner, &mut reporter, &cancel, permit).await;
    let outcome = match result {
        Ok(video) => {
            tracing::info!(video = %video.id, took_ms = began.elapsed().as_millis() as u64, "job completed");
            Some(Outcome::Completed { video_id: video.id })
        }
        Err(_) if inner.shutdown.is_cancelled() => None,
        Err(Failure::Cancelled) => Some(Outcome::Cancelled),
        Err(_) if cancel.is_cancelled() => Some(Outcome::Cancelled),
        Err(Failure::Failed { error, detail }) => {
            tracing::warn!(code = %error.code, %detail, "job failed");
            Some(Outcome::Failed(error))
        }
    };
    // Clean up before the outcome becomes visible, so a cancel that returns finds nothing left.
    let keep_source = kind == JobKind::Upload && keeps_source(outcome.as_ref());
    // A download stopped by a shutdown keeps its work directory: the next run resumes the
    // partial download (see `keep_partial_downloads`).
    let keep_download = kind == JobKind::Url && outcome.is_none();
    let job_dir = inner.layout.job_dir(&id);
    if keep_source {
        let _ = tokio::fs::remove_dir_all(job_dir.join(WORK_DIR)).await;
    } else if !keep_download {
        super::remove_job_dir(&inner.layout, &id).await;
    }
    let label = match &outcome {
        Some(Outcome::Completed { .. }) => "completed",
        Some(Outcome::Failed(_)) => "failed",
        Some(Outcome::Cancelled) => "cancelled",
        None => "interrupted",
    };
    inner
        .metrics
        .observe_job(kind.as_str(), label, began.elapsed());
    let finish_id = id.clone();
    let stored = match outcome {
        Some(outcome) => {
            inner
                .db
                .write(move |tx| jobs::finish(tx, &finish_id, &outcome))
                .await
        }
        None => {
            tracing::info!("job interrupted by shutdown, back in the queue");
            inner
                .db
                .write(move |tx| jobs::requeue(tx, &finish_id))
                .await
        }
    };
    if let Err(err) = stored {
        tracing::error!(%err, "could not store the job's outcome");
    }
    announce(&inner, &id).await;
    inner.unregister(&id);
    let _ = done.send(true);
}

/// Whether an upload's received file stays for a retry: after an interruption or a failure
/// that another attempt may overcome; not after completion, cancellation or a failure that
/// would repeat (not media, blocked, conversion failed).
fn keeps_source(outcome: Option<&Outcome>) -> bool {
    match outcome {
        None => true,
        Some(Outcome::Failed(error)) => RETRYABLE.iter().any(|code| *code == error.code),
        Some(Outcome::Completed { .. } | Outcome::Cancelled) => false,
    }
}

/// Failure codes after which a retry can succeed.
const RETRYABLE: &[Code] = &[
    Code::DiskFull,
    Code::Timeout,
    Code::ToolMissing,
    Code::Internal,
];

/// Publishes the stored job (and the new video) on the event bus.
async fn announce(inner: &Inner, id: &str) {
    let lookup = id.to_owned();
    if let Ok(job) = inner.db.read(move |c| jobs::get(c, &lookup)).await {
        inner.emit(&job);
        if job.state == JobState::Completed {
            if let Some(video_id) = job.video_id {
                let lookup = video_id.clone();
                let category = inner
                    .db
                    .read(move |c| sofathek_db::videos::category_of(c, &lookup))
                    .await
                    .ok()
                    .flatten();
                inner.events.publish(Event::LibraryAdded {
                    id: video_id,
                    category,
                });
            }
        }
    }
}

/// Fails with `Cancelled` once the job was cancelled.
fn check_cancel(cancel: &CancellationToken) -> Result<(), Failure> {
    if cancel.is_cancelled() {
        Err(Failure::Cancelled)
    } else {
        Ok(())
    }
}

/// Creates an empty work directory.
async fn fresh_dir(dir: &Path) -> Result<(), Failure> {
    match tokio::fs::remove_dir_all(dir).await {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err.into()),
    }
    tokio::fs::create_dir_all(dir).await?;
    Ok(())
}

/// Empties the work directory of a URL job except what an earlier run (stopped by a crash or a
/// shutdown) had downloaded: unfinished downloads (`.part`, fragments, `.ytdl` state) and
/// finished single-format files. yt-dlp continues those (`--continue` is its default) instead
/// of fetching the video again from byte 0; everything else (metadata, thumbnails, half-made
/// conversions) is made anew.
async fn keep_partial_downloads(dir: &Path) -> Result<(), Failure> {
    use sofathek_ytdlp::outputs::{StagingFile, classify_staging_file};
    tokio::fs::create_dir_all(dir).await?;
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let file_type = entry.file_type().await?;
        let kept = file_type.is_file()
            && matches!(
                classify_staging_file(&entry.file_name().to_string_lossy()),
                StagingFile::Partial | StagingFile::FormatPart
            );
        if kept {
            tracing::info!(file = %entry.file_name().to_string_lossy(), "resuming a partial download");
            continue;
        }
        let removed = if file_type.is_dir() {
            tokio::fs::remove_dir_all(entry.path()).await
        } else {
            tokio::fs::remove_file(entry.path()).await
        };
        match removed {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(())
}

/// A file to publish from the work directory: `path` itself when it is inside `work`, else a
/// hard link named `name` (an upload's received file stays in place, so the job can run again
/// if the server dies while publishing).
async fn in_work(path: &Path, work: &Path, name: &str) -> Result<PathBuf, Failure> {
    if path.parent() == Some(work) {
        return Ok(path.to_path_buf());
    }
    let link = work.join(name);
    match tokio::fs::hard_link(path, &link).await {
        Ok(()) => Ok(link),
        Err(err) => {
            tracing::debug!(%err, "hard link failed, copying");
            tokio::fs::copy(path, &link).await?;
            Ok(link)
        }
    }
}

/// What the source step produced.
struct Source {
    /// The file to make playable.
    path: PathBuf,
    /// Extension of that file, for keeping the original.
    ext: String,
    /// yt-dlp's metadata (URL jobs).
    meta: Option<VideoMeta>,
    site_thumbnail: Option<PathBuf>,
    subtitles: Vec<(String, PathBuf)>,
    /// Where the title and file names come from when the user gave no title.
    fallback_title: String,
    /// Import jobs: companions already in the library (picture, subtitles, MP3, sidecar),
    /// recorded where they are.
    in_place: Vec<Product>,
    /// Import jobs: the sidecar beside the source.
    sidecar: Option<sofathek_core::library::sidecar::Sidecar>,
    /// Import jobs: the stem of the source, used for the video when it is free.
    preferred_stem: Option<String>,
}

async fn execute(
    inner: &Arc<Inner>,
    reporter: &mut Reporter,
    cancel: &CancellationToken,
    permit: OwnedSemaphorePermit,
) -> Result<VideoRecord, Failure> {
    let job = reporter.job().clone();
    let job_dir = inner.layout.job_dir(&job.id);
    let work = job_dir.join(WORK_DIR);
    match job.kind {
        JobKind::Url => keep_partial_downloads(&work).await?,
        JobKind::Upload | JobKind::Import => fresh_dir(&work).await?,
    }
    let config = &inner.config;

    let (source, _conversion_slot) = match job.kind {
        JobKind::Url => {
            let source = fetch(inner, reporter, cancel, &job, &work).await?;
            // The download slot is free for the next job; wait for a conversion slot.
            drop(permit);
            reporter.stage(Stage::Probing).await;
            let slot = tokio::select! {
                () = cancel.cancelled() => return Err(Failure::Cancelled),
                slot = inner.conversions.clone().acquire_owned() => slot.map_err(Failure::internal)?,
            };
            (source, slot)
        }
        JobKind::Upload => (received(&job, &job_dir).await?, permit),
        JobKind::Import => (library_source(inner, &job).await?, permit),
    };
    check_cancel(cancel)?;

    // Probe and plan.
    let probed = convert::probe_for_job(config, &source.path, cancel, &job.id).await?;
    let Some(plan) = plan::plan(&probed.info, &probed.facts) else {
        return Err(Failure::not_media("ffprobe found no video stream"));
    };
    tracing::info!(plan = plan.name(), "media plan");
    check_cancel(cancel)?;

    // Make it playable.
    reporter.stage(Stage::Converting).await;
    let ext = plan.container().ext();
    let video_path = match plan {
        Plan::Keep { .. } => in_work(&source.path, &work, &format!("keep.{ext}")).await?,
        Plan::Remux { .. } | Plan::Transcode { .. } => {
            let output = work.join(format!("playable.{ext}"));
            let duration = probed
                .info
                .duration
                .or_else(|| source.meta.as_ref().and_then(|m| m.duration));
            convert::convert(
                config,
                plan,
                &source.path,
                &output,
                duration,
                cancel,
                reporter,
            )
            .await?;
            output
        }
    };
    let final_info = if matches!(plan, Plan::Keep { .. }) {
        probed.info.clone()
    } else {
        convert::probe_for_job(config, &video_path, cancel, &job.id)
            .await?
            .info
    };
    let mut products = vec![Product {
        path: video_path.clone(),
        kind: FileKind::Video,
        language: None,
        ext: ext.into(),
        in_place: false,
    }];
    let from_library = job.kind == JobKind::Import;
    if from_library {
        // The source stays where it is and becomes the video's original; it is dropped after
        // the publish unless originals are kept (a crash in between keeps it as the original).
        products.push(Product {
            path: source.path.clone(),
            kind: FileKind::Original,
            language: None,
            ext: String::new(),
            in_place: true,
        });
        products.extend(source.in_place.iter().cloned());
    } else if config.keep_originals && !matches!(plan, Plan::Keep { .. }) {
        products.push(Product {
            path: in_work(&source.path, &work, &format!("original.{}", source.ext)).await?,
            kind: FileKind::Original,
            language: None,
            ext: format!("original.{}", source.ext),
            in_place: false,
        });
    }
    if job.audio && final_info.primary_audio().is_some() {
        let mp3 = work.join("audio.mp3");
        if let Some(path) = convert::mp3(config, &video_path, &mp3, cancel, &job.id).await? {
            products.push(Product {
                path,
                kind: FileKind::Audio,
                language: None,
                ext: "mp3".into(),
                in_place: false,
            });
        }
    }
    for (lang, path) in &source.subtitles {
        let vtt = if path.extension().is_some_and(|e| e == "vtt") {
            Some(path.clone())
        } else {
            convert::subtitle_to_vtt(
                config,
                path,
                &work.join(format!("sub.{lang}.vtt")),
                cancel,
                &job.id,
            )
            .await?
        };
        if let Some(path) = vtt {
            products.push(Product {
                path,
                kind: FileKind::Subtitle,
                language: Some(lang.clone()),
                ext: "vtt".into(),
                in_place: false,
            });
        }
    }
    check_cancel(cancel)?;

    // Thumbnail.
    reporter.stage(Stage::Thumbnailing).await;
    let thumb = work.join("thumbnail.webp");
    let has_picture = products.iter().any(|p| p.kind == FileKind::Thumbnail);
    let made = if has_picture {
        None
    } else {
        convert::thumbnail(
            config,
            &video_path,
            source.site_thumbnail.as_deref(),
            final_info.duration,
            &thumb,
            cancel,
            &job.id,
        )
        .await?
    };
    if let Some(path) = made {
        products.push(Product {
            path,
            kind: FileKind::Thumbnail,
            language: None,
            ext: "webp".into(),
            in_place: false,
        });
    }
    check_cancel(cancel)?;

    // Publish.
    reporter.stage(Stage::Publishing).await;
    let title = job
        .title
        .clone()
        .unwrap_or_else(|| source.fallback_title.clone());
    let preferred = match &source.preferred_stem {
        Some(stem) => publish::stem_if_free(&inner.db, &inner.layout, stem, ext).await?,
        None => None,
    };
    let stem = match preferred {
        Some(stem) => stem,
        None => {
            publish::choose_stem(&inner.db, &inner.layout, &source.fallback_title, &job.id).await?
        }
    };
    let mut record = publish::record(RecordParts {
        id: &stem,
        title,
        category: job.category.clone(),
        meta: source.meta.as_ref(),
        source_url: source
            .meta
            .as_ref()
            .and_then(|m| m.webpage_url.clone())
            .or_else(|| job.url.clone()),
        info: &final_info,
        container_ext: ext,
    });
    check_cancel(cancel)?;
    let planned = (job.id.clone(), stem.clone());
    let still_running = inner
        .db
        .write(move |tx| jobs::plan_video(tx, &planned.0, &planned.1))
        .await?;
    if !still_running {
        return Err(Failure::Cancelled);
    }
    if let Some(side) = &source.sidecar {
        record.channel = side.channel().or(record.channel);
        record.description = side
            .description
            .clone()
            .filter(|d| !d.trim().is_empty())
            .or(record.description);
        if let Some(tags) = side.tags.clone() {
            record.tags = tags;
        }
        record.added_at = side.added().unwrap_or(record.added_at);
        record.upload_date = side.upload_date.clone().or(record.upload_date);
        record.source_url = side
            .source_url
            .clone()
            .filter(|s| !s.is_empty())
            .or(record.source_url);
    }
    let files = publish::stage_files(&stem, &products);
    let video = publish::publish(&inner.db, &inner.layout, record, files).await?;
    if from_library && !config.keep_originals {
        if let Some(name) = job.source_name.as_deref() {
            match sofathek_core::library::drop_original(&inner.db, &inner.layout, name).await {
                Ok(()) => {
                    tracing::info!(file = %name, video = %video.id, "replaced a library file by its converted video")
                }
                Err(err) => {
                    tracing::warn!(file = %name, %err, "could not drop the converted source; it stays as the video's original")
                }
            }
        }
    }
    Ok(video)
}

/// Import jobs: a file found in the library folder, with its companions.
async fn library_source(inner: &Arc<Inner>, job: &JobRecord) -> Result<Source, Failure> {
    use sofathek_core::library::{scan, sidecar};
    let Some(name) = job.source_name.clone() else {
        return Err(Failure::source_missing("the job names no library file"));
    };
    if sofathek_core::library::check_name(&name, &[sofathek_core::library::VIDEO_EXTENSIONS])
        .is_err()
    {
        return Err(Failure::source_missing(format!(
            "{name} is not a library file name"
        )));
    }
    let path = inner.layout.library.join(&name);
    if !tokio::fs::symlink_metadata(&path)
        .await
        .is_ok_and(|m| m.is_file())
    {
        return Err(Failure::source_missing(format!(
            "{} is gone",
            path.display()
        )));
    }
    let ext = sofathek_core::library::extension(&name).unwrap_or_else(|| "bin".into());
    let stem = name[..name.len() - ext.len() - 1].to_owned();
    let library = inner.layout.library.clone();
    let entries = tokio::task::spawn_blocking(move || scan::list(&library))
        .await
        .map_err(Failure::internal)??;
    let known = inner.db.read(sofathek_db::videos::all_file_names).await?;
    let names: std::collections::BTreeSet<String> = entries
        .into_iter()
        .filter(|e| e.kind == scan::EntryType::File && !known.contains(&e.name))
        .map(|e| e.name)
        .collect();
    let found = scan::companions(&stem, &names);
    let side = found
        .sidecar
        .as_deref()
        .and_then(|n| sidecar::read(&inner.layout.library.join(n)));
    let in_place = super::adopt::in_place_companions(inner, &found, side.is_some())
        .into_iter()
        .map(|f| Product {
            path: f.source,
            kind: f.kind,
            language: f.language,
            ext: String::new(),
            in_place: true,
        })
        .collect();
    let subtitles = sofathek_core::library::scan::subtitle_plan(&found.subtitles)
        .make
        .into_iter()
        .map(|(srt, _, language)| (language, inner.layout.library.join(srt)))
        .collect();
    let fallback_title = job
        .title
        .clone()
        .unwrap_or_else(|| scan::title_from_stem(&stem));
    Ok(Source {
        path,
        ext,
        meta: None,
        site_thumbnail: None,
        subtitles,
        fallback_title,
        in_place,
        sidecar: side,
        preferred_stem: Some(stem),
    })
}

/// URL jobs: re-check the URL, guard the disk, apply the content policy, download.
async fn fetch(
    inner: &Arc<Inner>,
    reporter: &mut Reporter,
    cancel: &CancellationToken,
    job: &JobRecord,
    work: &Path,
) -> Result<Source, Failure> {
    let config = &inner.config;
    let raw = job.url.clone().unwrap_or_default();
    let url = sofathek_core::urlpolicy::check(&raw, inner.egress.rules())
        .await
        .map_err(|err| Failure::Failed {
            error: jobs::JobError {
                code: err.code().into(),
                message: "This video URL cannot be downloaded.".into(),
                suggestion: "Please check the URL and try again.".into(),
            },
            detail: err.to_string(),
        })?;
    if super::check_disk(inner).is_err() {
        return Err(Failure::disk_full(
            "free space is below SOFATHEK_MIN_FREE_BYTES",
        ));
    }
    // Every connection of this job's yt-dlp (and its ffmpeg) goes through the egress guard.
    let ticket = inner
        .egress
        .ticket(&job.id, egress_allowance(config.max_download_bytes))
        .map_err(Failure::internal)?;
    if !inner.policy.is_empty() {
        let meta = match &job.metadata {
            Some(stored) => url_source::meta_from_json(stored),
            None => guard_verdict(
                &ticket,
                url_source::metadata(config, &url, ticket.url(), cancel, &job.id).await,
            )?,
        };
        if let Some(violation) = inner.policy.evaluate(&meta.policy_subject()) {
            return Err(Failure::blocked(&violation));
        }
    }
    check_cancel(cancel)?;
    let fetched = guard_verdict(
        &ticket,
        url_source::fetch(config, &url, ticket.url(), work, cancel, reporter).await,
    )?;
    drop(ticket);
    check_cancel(cancel)?;
    if let Some(meta) = &fetched.meta {
        if let Some(violation) = inner.policy.evaluate(&meta.policy_subject()) {
            return Err(Failure::blocked(&violation));
        }
        let value = url_source::meta_json(meta);
        let id = job.id.clone();
        let stored = value.clone();
        inner
            .db
            .write(move |tx| jobs::set_metadata(tx, &id, &stored))
            .await?;
        reporter.set_metadata(value);
    }
    let ext = fetched
        .media
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "mp4".into());
    let fallback_title = fetched
        .meta
        .as_ref()
        .map(|m| m.display_title().to_owned())
        .or_else(|| job.title.clone())
        .unwrap_or_else(|| sofathek_ytdlp::info::UNKNOWN_TITLE.to_owned());
    Ok(Source {
        path: fetched.media,
        ext,
        meta: fetched.meta,
        site_thumbnail: fetched.thumbnail,
        subtitles: fetched.subtitles,
        fallback_title,
        in_place: Vec::new(),
        sidecar: None,
        preferred_stem: None,
    })
}

/// What one job may move through the egress guard: the download limit, twice (a video and its
/// separate audio, or a retry from the start), and room for pages, manifests, subtitles and
/// thumbnails.
pub(crate) fn egress_allowance(max_download_bytes: u64) -> u64 {
    max_download_bytes
        .saturating_mul(2)
        .saturating_add(256 << 20)
}

/// A yt-dlp result judged with what the egress guard saw: when the guard refused anything,
/// the job fails with the guard's reason (also when yt-dlp carried on without it, as it does
/// for a thumbnail or subtitle), so nothing that touched a private address is published.
pub(crate) fn guard_verdict<T>(
    ticket: &sofathek_core::egress::Ticket,
    result: Result<T, Failure>,
) -> Result<T, Failure> {
    let refusals = ticket.refusals();
    if refusals.is_empty() {
        return result;
    }
    if matches!(result, Err(Failure::Cancelled)) {
        return result;
    }
    let error = if refusals.iter().any(|r| r.contains("private address")) {
        jobs::JobError {
            code: Code::PrivateAddress.into(),
            message: "The video site tried to reach a private address (the home network or this server), which downloads may not do.".into(),
            suggestion: "Check the link. To download from a site on your own network, add its host:port to SOFATHEK_ALLOWED_PRIVATE_HOSTS.".into(),
        }
    } else {
        jobs::JobError {
            code: Code::EgressLimit.into(),
            message:
                "The download went over SOFATHEK's limits (too much data or too many connections)."
                    .into(),
            suggestion: "Check the link; SOFATHEK_MAX_DOWNLOAD_BYTES sets the size limit.".into(),
        }
    };
    Err(Failure::Failed {
        error,
        detail: refusals.join("; "),
    })
}

/// Upload jobs: the received file in the job's staging directory.
async fn received(job: &JobRecord, job_dir: &Path) -> Result<Source, Failure> {
    let Some(file) = job.source_file.as_deref() else {
        return Err(Failure::source_missing("the job has no received file"));
    };
    let path = job_dir.join(file);
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Err(Failure::source_missing(format!(
            "{} is gone",
            path.display()
        )));
    }
    let ext = sofathek_core::library::extension(file).unwrap_or_else(|| "bin".into());
    let fallback_title = job
        .title
        .clone()
        .or_else(|| {
            job.source_name
                .as_deref()
                .map(super::upload::title_from_name)
        })
        .unwrap_or_else(|| sofathek_ytdlp::info::UNKNOWN_TITLE.to_owned());
    Ok(Source {
        path,
        ext,
        meta: None,
        site_thumbnail: None,
        subtitles: Vec::new(),
        fallback_title,
        in_place: Vec::new(),
        sidecar: None,
        preferred_stem: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sofathek_db::jobs::JobError;

    #[test]
    fn uploads_keep_their_file_only_when_a_retry_can_help() {
        let failed = |code: &str| {
            Outcome::Failed(JobError {
                code: code.into(),
                message: String::new(),
                suggestion: String::new(),
            })
        };
        assert!(keeps_source(None));
        assert!(keeps_source(Some(&failed("DISK_FULL"))));
        assert!(!keeps_source(Some(&failed("NOT_MEDIA"))));
        assert!(!keeps_source(Some(&Outcome::Cancelled)));
        assert!(!keeps_source(Some(&Outcome::Completed {
            video_id: "v".into()
        })));
    }
}

//! `sofathek import <dir>`: brings a library written by the original SOFATHEK (original §2)
//! into the catalogue: videos with their `.info.json` sidecars, thumbnails, `.srt` subtitles
//! (also converted to WebVTT for the player) and `.mp3`/`.m4a` audio companions.
//!
//! Import is idempotent: a video whose id or files the catalogue already has is skipped.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use sofathek_codes::Code;
use sofathek_core::library::{self, StagedFile, scan, sidecar};
use sofathek_db::videos::{self, FileKind, VideoRecord};

/// Import settings.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Move files instead of copying them.
    pub move_files: bool,
    /// Category for every imported video.
    pub category: Option<String>,
    /// The original's `download-queue.json` (in its `TEMP_DIR`), read into the job history.
    pub queue: Option<PathBuf>,
}

/// What an import did.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub imported: Vec<String>,
    pub skipped: Vec<String>,
    pub failed: Vec<ImportFailure>,
    /// The download history, when a queue file was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueReport>,
}

/// What reading the original's download queue did.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueReport {
    pub file: String,
    /// Queue items now in the job history (by id).
    pub imported: Vec<String>,
    /// Items already in the history (an earlier import).
    pub skipped: Vec<String>,
    /// Items that could not be read, with the reason.
    pub failed: Vec<ImportFailure>,
}

/// A video that could not be imported.
#[derive(Debug, Serialize)]
pub struct ImportFailure {
    pub file: String,
    pub error: String,
}

/// Video extensions the original listed (`.ogg` was streamable but not listed).
const LISTED: &[&str] = &["mp4", "webm", "avi", "mkv", "mov", "wmv", "flv", "m4v"];

/// What an import needs: the catalogue, the data directory and the tools' configuration (no
/// queue, no workers: an import publishes directly).
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub db: &'a sofathek_db::Db,
    pub layout: &'a sofathek_core::library::Layout,
    pub config: &'a sofathek_core::config::Config,
}

/// Imports every video of `dir` (top level only; sub-directories are ignored as the original did).
pub async fn import_dir(
    target: Target<'_>,
    dir: &Path,
    options: &ImportOptions,
) -> anyhow::Result<ImportReport> {
    if !dir.is_dir() {
        anyhow::bail!("{} is not a directory", dir.display());
    }
    if let Some(category) = &options.category {
        let slug = category.clone();
        if !target
            .db
            .read(move |c| sofathek_db::categories::exists(c, &slug))
            .await?
        {
            anyhow::bail!("unknown category '{category}' (see GET /api/categories)");
        }
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    // Byte-wise order, like the original's listing.
    names.sort();
    let known = target.db.read(videos::all_file_names).await?;
    let mut report = ImportReport::default();
    let mut used_ids = HashSet::new();
    for name in &names {
        let Some(ext) = library::extension(name) else {
            continue;
        };
        if !LISTED.contains(&ext.as_str()) {
            continue;
        }
        let stem = &name[..name.len() - ext.len() - 1];
        let mut id = stem.to_owned();
        if !used_ids.insert(id.clone()) {
            // Two files with the same stem: the original gave them the same id; we do not.
            id = format!("{stem}-{ext}");
            used_ids.insert(id.clone());
        }
        let lookup = id.clone();
        if known.contains(name) || target.db.read(move |c| videos::exists(c, &lookup)).await? {
            report.skipped.push(name.clone());
            continue;
        }
        match import_one(target, dir, name, stem, &id, &names, &known, options).await {
            Ok(()) => report.imported.push(name.clone()),
            Err(err) => report.failed.push(ImportFailure {
                file: name.clone(),
                error: err.to_string(),
            }),
        }
    }
    if let Some(queue) = &options.queue {
        report.queue = Some(import_queue(target, queue).await?);
    }
    Ok(report)
}

/// One item of the original's `download-queue.json` (original §1.6, §2): what the history keeps.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueueItem {
    id: String,
    #[serde(default)]
    request: QueueRequest,
    status: String,
    error: Option<String>,
    error_code: Option<String>,
    queued_at: Option<String>,
    started_at: Option<String>,
    completed_at: Option<String>,
    result: Option<QueueResult>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueueRequest {
    url: Option<String>,
    title: Option<String>,
    requested_at: Option<String>,
    request_id: Option<String>,
    metadata: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueueResult {
    video_path: Option<String>,
    metadata: Option<serde_json::Value>,
}

/// Where the original kept its download queue when none is named: `$TEMP_DIR`, else `temp/`
/// beside the videos folder (the original's default layout `data/videos` + `data/temp`).
pub fn find_queue(videos: &Path, temp_dir: Option<std::ffi::OsString>) -> Option<PathBuf> {
    let candidates = temp_dir
        .map(PathBuf::from)
        .into_iter()
        .chain(videos.parent().map(|p| p.join("temp")));
    candidates
        .map(|dir| dir.join("download-queue.json"))
        .find(|file| file.is_file())
}

/// A timestamp as stored: RFC 3339, else `None`.
fn timestamp(value: Option<&str>) -> Option<String> {
    let value = value?;
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(sofathek_db::format_time)
}

/// Reads the original's download queue into the job history: finished items as completed,
/// failed or cancelled jobs (a completed one linked to its video when that file was imported);
/// items that had not finished become cancelled jobs a parent can retry. Idempotent: an item
/// whose id the history has is skipped.
pub async fn import_queue(target: Target<'_>, path: &Path) -> anyhow::Result<QueueReport> {
    use sofathek_db::jobs::{self, JobError, JobKind, JobState, NewJob, PastJob};
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("cannot read the download queue {}: {e}", path.display()))?;
    let items: Vec<serde_json::Value> = serde_json::from_slice(&bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is not the original's download queue (a JSON array): {e}",
            path.display()
        )
    })?;
    let mut report = QueueReport {
        file: path.display().to_string(),
        ..QueueReport::default()
    };
    for (index, value) in items.into_iter().enumerate() {
        let item: QueueItem = match serde_json::from_value(value) {
            Ok(item) => item,
            Err(err) => {
                report.failed.push(ImportFailure {
                    file: format!("item {index}"),
                    error: err.to_string(),
                });
                continue;
            }
        };
        let (state_now, error) = match item.status.as_str() {
            "completed" => (JobState::Completed, None),
            "failed" => (
                JobState::Failed,
                Some(JobError {
                    code: item.error_code.clone().unwrap_or_else(|| "IMPORTED".into()),
                    message: item
                        .error
                        .clone()
                        .unwrap_or_else(|| "The download failed.".into()),
                    suggestion: "Retry it, or add the video again.".into(),
                }),
            ),
            "cancelled" => (JobState::Cancelled, None),
            "pending" | "processing" => (
                JobState::Cancelled,
                Some(JobError {
                    code: Code::NotFinished.into(),
                    message:
                        "This download had not finished when the library moved to this SOFATHEK."
                            .into(),
                    suggestion: "Retry it to download the video now.".into(),
                }),
            ),
            other => {
                report.failed.push(ImportFailure {
                    file: item.id.clone(),
                    error: format!("unknown status '{other}'"),
                });
                continue;
            }
        };
        let video_file = item
            .result
            .as_ref()
            .and_then(|r| r.video_path.as_deref())
            .and_then(|p| Path::new(p).file_name())
            .map(|n| n.to_string_lossy().into_owned());
        let video_id = match video_file {
            Some(name) if state_now == JobState::Completed => {
                target
                    .db
                    .read(move |c| Ok(videos::find_file(c, &name).ok().map(|(id, _)| id)))
                    .await?
            }
            _ => None,
        };
        let created = timestamp(item.queued_at.as_deref())
            .or_else(|| timestamp(item.request.requested_at.as_deref()))
            .unwrap_or_else(sofathek_db::now);
        let finished = timestamp(item.completed_at.as_deref()).unwrap_or_else(|| created.clone());
        let metadata = item
            .result
            .as_ref()
            .and_then(|r| r.metadata.clone())
            .or(item.request.metadata.clone());
        let past = PastJob {
            job: NewJob {
                id: item.id.clone(),
                kind: JobKind::Url,
                url: item.request.url.clone(),
                title: item.request.title.clone().filter(|t| !t.trim().is_empty()),
                category: None,
                audio: false,
                source_name: None,
                source_file: None,
                metadata,
                request_id: item
                    .request
                    .request_id
                    .clone()
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
                source_id: None,
            },
            state: state_now,
            error,
            created_at: created,
            started_at: timestamp(item.started_at.as_deref()),
            finished_at: finished,
            video_id,
        };
        let id = item.id.clone();
        match target
            .db
            .write(move |tx| {
                if jobs::exists(tx, &past.job.id)? {
                    return Ok(false);
                }
                jobs::insert_past(tx, &past).map(|_| true)
            })
            .await
        {
            Ok(true) => report.imported.push(id),
            Ok(false) => report.skipped.push(id),
            Err(err) => report.failed.push(ImportFailure {
                file: id,
                error: err.to_string(),
            }),
        }
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
async fn import_one(
    target: Target<'_>,
    dir: &Path,
    name: &str,
    stem: &str,
    id: &str,
    all: &[String],
    known: &HashSet<String>,
    options: &ImportOptions,
) -> anyhow::Result<()> {
    let parsed = sidecar::read(&dir.join(format!("{stem}{}", sidecar::SUFFIX)));
    let readable = parsed.is_some();
    let sidecar = parsed.unwrap_or_default();
    let names: BTreeSet<String> = all.iter().cloned().collect();
    let mut found = scan::companions(stem, &names);
    if found.thumbnail.is_none() {
        found.thumbnail = sidecar.local_thumbnail.clone().filter(|t| {
            names.contains(t) && library::check_name(t, &[library::THUMBNAIL_EXTENSIONS]).is_ok()
        });
    }
    // Companions, found by stem as the original did: one subtitle per language (the WebVTT the
    // player uses; a SubRip file is kept on disk beside it, not listed).
    let mut companions: Vec<(String, FileKind, Option<String>)> = Vec::new();
    if let Some(thumb) = &found.thumbnail {
        companions.push((thumb.clone(), FileKind::Thumbnail, None));
    }
    if let Some(audio) = &found.audio {
        companions.push((audio.clone(), FileKind::Audio, None));
    }
    // A sidecar that does not read as one stays where it is (it is not ours to replace).
    if let (Some(info), true) = (&found.sidecar, readable) {
        companions.push((info.clone(), FileKind::Info, None));
    }
    let plan = scan::subtitle_plan(&found.subtitles);
    for sub in &found.subtitles {
        let kind = if plan.listed.contains(&sub.name) {
            FileKind::Subtitle
        } else {
            FileKind::Extra
        };
        companions.push((sub.name.clone(), kind, Some(sub.language.clone())));
    }
    if companions
        .iter()
        .map(|(n, _, _)| n)
        .chain(plan.make.iter().map(|(_, vtt, _)| vtt))
        .any(|n| known.contains(n))
    {
        anyhow::bail!("a companion file is already in the library");
    }

    // Stage copies (or moves) in a private directory, then publish atomically.
    let staging = target
        .layout
        .staging
        .join(format!("import-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&staging)?;
    let result = async {
        let mut staged = Vec::new();
        let mut take =
            |file: &str, kind: FileKind, language: Option<String>| -> anyhow::Result<PathBuf> {
                let target = staging.join(file);
                let source = dir.join(file);
                if options.move_files {
                    library::move_file(&source, &target)?;
                } else {
                    std::fs::copy(&source, &target)?;
                }
                staged.push(StagedFile::staged(
                    target.clone(),
                    file.to_owned(),
                    kind,
                    language,
                ));
                Ok(target)
            };
        let video_path = take(name, FileKind::Video, None)?;
        for (file, kind, language) in &companions {
            take(file, *kind, language.clone())?;
        }
        for (srt, vtt, language) in &plan.make {
            let text = String::from_utf8_lossy(&std::fs::read(staging.join(srt))?).into_owned();
            let vtt_path = staging.join(vtt);
            std::fs::write(&vtt_path, scan::srt_to_vtt(&text))?;
            staged.push(StagedFile::staged(
                vtt_path,
                vtt.clone(),
                FileKind::Subtitle,
                Some(language.clone()),
            ));
        }
        if found.thumbnail.is_none() {
            // The original library had no picture: make one, as a new video would get.
            let thumb_name = format!("{stem}.webp");
            if !known.contains(&thumb_name) && !names.contains(&thumb_name) {
                let output = staging.join(&thumb_name);
                let cancel = tokio_util::sync::CancellationToken::new();
                match crate::convert::thumbnail(
                    target.config,
                    &video_path,
                    None,
                    sidecar.duration,
                    &output,
                    &cancel,
                    "import",
                )
                .await
                {
                    Ok(Some(path)) => staged.push(StagedFile::staged(
                        path,
                        thumb_name,
                        FileKind::Thumbnail,
                        None,
                    )),
                    Ok(None) => tracing::warn!(file = %name, "no thumbnail could be made"),
                    Err(err) => tracing::warn!(file = %name, %err, "no thumbnail could be made"),
                }
            }
        }
        let meta =
            std::fs::metadata(dir.join(name)).or_else(|_| std::fs::metadata(staging.join(name)))?;
        let modified = meta
            .modified()
            .map(|t| sofathek_db::format_time(t.into()))
            .unwrap_or_else(|_| sofathek_db::now());
        let ext = library::extension(name).unwrap_or_default();
        let record = VideoRecord {
            id: id.to_owned(),
            title: sidecar
                .title()
                .unwrap_or_else(|| scan::title_from_stem(stem)),
            category: options.category.clone(),
            channel: sidecar.channel(),
            description: sidecar.description.clone(),
            tags: sidecar.tags.clone().unwrap_or_default(),
            duration: sidecar.duration,
            width: sidecar.width,
            height: sidecar.height,
            video_codec: sidecar.vcodec.clone(),
            audio_codec: sidecar.acodec.clone(),
            bitrate: sidecar.tbr.map(|t| t.round() as i64),
            format: sidecar
                .resolution
                .clone()
                .or_else(|| Some(ext.to_ascii_uppercase())),
            file_name: name.to_owned(),
            size: meta.len(),
            modified_at: modified.clone(),
            added_at: sidecar.added().unwrap_or(modified),
            upload_date: sidecar.upload_date.clone(),
            source_url: sidecar.source_url.clone().filter(|s| !s.is_empty()),
            view_count: 0,
            files: Vec::new(),
        };
        library::publish(target.db, target.layout, record, staged).await?;
        anyhow::Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&staging);
    result
}

//! The last step of a job: names the video (`<safe_title>-<short id>`, which is also its id and
//! the stem of its files), builds its catalogue record and hands the staged files to
//! `library::publish`, which moves them and commits the record atomically.

use std::path::PathBuf;

use sofathek_core::library::{self, Layout, StagedFile};
use sofathek_db::videos::{self, FileKind, VideoRecord};
use sofathek_db::{Db, DbError};
use sofathek_media::probe::MediaInfo;
use sofathek_ytdlp::info::{VideoMeta, safe_title};

use super::error::Failure;

/// Lengths tried for the short id, in hex digits of the job's uuid.
const SHORT_ID_LENGTHS: &[usize] = &[8, 12, 32];

/// The hex digits of a uuid, without dashes.
fn hex_digits(job_id: &str) -> String {
    job_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Candidate stems for a title and a job, shortest first.
pub fn stem_candidates(title: &str, job_id: &str) -> Vec<String> {
    let safe = safe_title(title);
    let hex = hex_digits(job_id);
    let mut stems: Vec<String> = SHORT_ID_LENGTHS
        .iter()
        .map(|len| format!("{safe}-{}", &hex[..(*len).min(hex.len())]))
        .collect();
    stems.dedup();
    stems
}

/// Picks the first stem no video and no library file uses yet.
pub async fn choose_stem(
    db: &Db,
    layout: &Layout,
    title: &str,
    job_id: &str,
) -> Result<String, Failure> {
    let candidates = stem_candidates(title, job_id);
    for stem in &candidates {
        let id = stem.clone();
        let taken = db.read(move |c| videos::exists(c, &id)).await?;
        let prefix = format!("{stem}.");
        // A sidecar alone is what a publish of this job left when it was interrupted right
        // after renaming it in: publishing under the same stem takes it over.
        let sidecar = format!("{stem}{}", sofathek_core::library::sidecar::SUFFIX);
        let file_taken = std::fs::read_dir(&layout.library)?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .any(|name| name.starts_with(&prefix) && name != sidecar);
        if !taken && !file_taken {
            return Ok(stem.clone());
        }
    }
    Err(Failure::internal(format!(
        "no free name for the video of job {job_id}"
    )))
}

/// `stem` when no video uses it and `<stem>.<ext>` and `<stem>.webp` are free (an import job
/// names its video like the file it converts, when it can).
pub async fn stem_if_free(
    db: &Db,
    layout: &Layout,
    stem: &str,
    ext: &str,
) -> Result<Option<String>, Failure> {
    let id = stem.to_owned();
    if db.read(move |c| videos::exists(c, &id)).await? {
        return Ok(None);
    }
    let free = |name: String| std::fs::symlink_metadata(layout.library.join(name)).is_err();
    Ok((free(format!("{stem}.{ext}")) && free(format!("{stem}.webp"))).then(|| stem.to_owned()))
}

/// One file the job made, before it gets its library name.
#[derive(Debug, Clone)]
pub struct Product {
    pub path: PathBuf,
    pub kind: FileKind,
    /// Subtitles: the language tag.
    pub language: Option<String>,
    /// Extension of the library name (`mp4`, `webp`, `vtt`, `mp3`, `original.mkv`).
    pub ext: String,
    /// Already in the library under `path`'s file name (an import job's source and its
    /// companions): recorded, not moved or renamed.
    pub in_place: bool,
}

/// Library file names for the products: `<stem>.<ext>`, subtitles `<stem>.<lang>.vtt`; a
/// product already in the library keeps its name.
pub fn stage_files(stem: &str, products: &[Product]) -> Vec<StagedFile> {
    products
        .iter()
        .map(|p| {
            let name = match &p.language {
                _ if p.in_place => p
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                Some(lang) => format!("{stem}.{lang}.{}", p.ext),
                None => format!("{stem}.{}", p.ext),
            };
            StagedFile {
                source: p.path.clone(),
                name,
                kind: p.kind,
                language: p.language.clone(),
                in_place: p.in_place,
            }
        })
        .collect()
}

/// What the catalogue record is made of.
pub struct RecordParts<'a> {
    pub id: &'a str,
    pub title: String,
    pub category: Option<String>,
    pub meta: Option<&'a VideoMeta>,
    pub source_url: Option<String>,
    /// ffprobe's view of the published video.
    pub info: &'a MediaInfo,
    /// The container's extension (`mp4`, `webm`).
    pub container_ext: &'a str,
}

/// The catalogue record of a new video (files and sizes are filled in by the publish).
pub fn record(parts: RecordParts<'_>) -> VideoRecord {
    let now = sofathek_db::now();
    let video = parts.info.primary_video();
    let audio = parts.info.primary_audio();
    let meta = parts.meta;
    VideoRecord {
        id: parts.id.to_owned(),
        title: parts.title,
        category: parts.category,
        channel: meta.and_then(|m| m.uploader.clone().or_else(|| m.channel.clone())),
        description: meta
            .and_then(|m| m.description.clone())
            .filter(|d| !d.trim().is_empty()),
        tags: meta.map(|m| m.tags.clone()).unwrap_or_default(),
        duration: parts
            .info
            .duration
            .or_else(|| meta.and_then(|m| m.duration)),
        width: video.and_then(|v| v.width).map(i64::from),
        height: video.and_then(|v| v.height).map(i64::from),
        video_codec: video.and_then(|v| v.codec_name.clone()),
        audio_codec: audio.and_then(|a| a.codec_name.clone()),
        bitrate: parts
            .info
            .bit_rate
            .map(|b| i64::try_from(b).unwrap_or(i64::MAX)),
        format: Some(parts.container_ext.to_ascii_uppercase()),
        file_name: format!("{}.{}", parts.id, parts.container_ext),
        size: 0,
        modified_at: now.clone(),
        added_at: now,
        upload_date: meta
            .and_then(|m| m.upload_date)
            .map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())),
        source_url: parts.source_url,
        view_count: 0,
        files: Vec::new(),
    }
}

/// Moves the files into the library and commits the record; a category deleted while the job
/// ran is dropped rather than failing the job.
pub async fn publish(
    db: &Db,
    layout: &Layout,
    mut video: VideoRecord,
    files: Vec<StagedFile>,
) -> Result<VideoRecord, Failure> {
    if let Some(slug) = video.category.clone() {
        let exists = db
            .read(move |c| sofathek_db::categories::exists(c, &slug))
            .await?;
        if !exists {
            video.category = None;
        }
    }
    match library::publish(db, layout, video, files).await {
        Ok(video) => Ok(video),
        Err(library::LibraryError::Io(err)) => Err(err.into()),
        Err(library::LibraryError::Db(DbError::Conflict(what))) => Err(Failure::internal(format!(
            "the library already has a file of this name: {what}"
        ))),
        Err(library::LibraryError::Db(err)) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems() {
        let id = "0f8e2c1a-9b3d-4e5f-8a7b-6c5d4e3f2a1b";
        assert_eq!(
            stem_candidates("My Holiday: \"Day 1\"", id),
            [
                "My_Holiday_Day_1-0f8e2c1a",
                "My_Holiday_Day_1-0f8e2c1a9b3d",
                "My_Holiday_Day_1-0f8e2c1a9b3d4e5f8a7b6c5d4e3f2a1b"
            ]
        );
        assert_eq!(stem_candidates("", id)[0], "Unknown_Title-0f8e2c1a");
        let products = [
            Product {
                path: "/s/out.mp4".into(),
                kind: FileKind::Video,
                language: None,
                ext: "mp4".into(),
                in_place: false,
            },
            Product {
                path: "/s/media.en.vtt".into(),
                kind: FileKind::Subtitle,
                language: Some("en".into()),
                ext: "vtt".into(),
                in_place: false,
            },
        ];
        let names: Vec<String> = stage_files("T-1", &products)
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(names, ["T-1.mp4", "T-1.en.vtt"]);
    }
}

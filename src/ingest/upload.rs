//! The upload source: receives `POST /api/videos/upload` (multipart: `video` file, optional
//! `category`, `title`, `audio`) straight into the staging area, checks it with ffprobe and
//! queues an upload job.
//!
//! The file is streamed through a `tempfile` in `staging/` (never held in memory) and counted
//! as it arrives: over `SOFATHEK_MAX_UPLOAD_BYTES` it is refused with 413 and the temporary
//! file is gone; a file ffprobe does not read as a video is refused with 415. An accepted file
//! is moved to `staging/<job-id>/source.<ext>` before the job row is committed.

use axum::extract::Multipart;
use axum::extract::multipart::Field;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use crate::db::jobs::{self, JobKind, JobRecord, NewJob};
use crate::process::ProcessError;

use super::convert;
use super::error::IngestError;
use super::{Ingest, check_title};

/// Write buffer of the received file.
const WRITE_BUFFER: usize = 1 << 20;
/// Largest text field (`title`, `category`, `audio`).
const MAX_TEXT_FIELD: usize = 4096;
/// After the limit is exceeded, up to this much more is read and dropped so the client gets
/// the 413 instead of a reset connection; beyond it the connection is closed.
const DRAIN_AFTER_LIMIT: u64 = 16 << 20;
/// Multipart framing allowed on top of the file when judging `Content-Length` up front.
pub const MULTIPART_OVERHEAD: u64 = 64 << 10;

/// The received file, still a temporary file.
struct Received {
    file: tempfile::NamedTempFile,
    name: Option<String>,
    size: u64,
}

/// Options sent with the file.
#[derive(Default)]
struct Options {
    title: Option<String>,
    category: Option<String>,
    audio: bool,
}

impl Ingest {
    /// Receives an upload and queues its job (202); see the module documentation.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn submit_upload(&self, mut multipart: Multipart) -> Result<JobRecord, IngestError> {
        self.check_disk()?;
        let inner = self.inner();
        let limit = inner.config.max_upload_bytes;
        let mut received: Option<Received> = None;
        let mut options = Options::default();
        while let Some(field) = next_field(&mut multipart).await? {
            match field.name().unwrap_or_default() {
                "video" | "file" => {
                    if received.is_some() {
                        return Err(IngestError::BadUpload("more than one file".into()));
                    }
                    received = Some(receive(field, &inner.layout.staging, limit).await?);
                }
                "title" => options.title = Some(text(field).await?),
                "category" => options.category = Some(text(field).await?),
                "audio" => {
                    let value = text(field).await?;
                    options.audio = match value.trim().to_ascii_lowercase().as_str() {
                        "" | "0" | "false" | "off" | "no" => false,
                        "1" | "true" | "on" | "yes" => true,
                        _ => {
                            return Err(IngestError::BadUpload(
                                "audio must be true or false".into(),
                            ));
                        }
                    };
                }
                _ => {}
            }
        }
        let received = received.ok_or(IngestError::MissingFile)?;
        if received.size == 0 {
            return Err(IngestError::NotMedia);
        }
        let title = check_title(options.title.as_deref())?;
        let category = self.check_category(options.category.as_deref()).await?;

        let id = uuid::Uuid::new_v4().to_string();
        let cancel = CancellationToken::new();
        let probed = match convert::probe(&inner.config, received.file.path(), &cancel, &id).await {
            Ok(probed) => probed,
            Err(ProcessError::Exited { .. }) => return Err(IngestError::NotMedia),
            Err(err @ (ProcessError::NotFound { .. } | ProcessError::PermissionDenied { .. })) => {
                return Err(IngestError::ToolMissing(err));
            }
            Err(err) => return Err(IngestError::Io(std::io::Error::other(err.to_string()))),
        };
        if !probed.info.is_media() {
            return Err(IngestError::NotMedia);
        }
        let ext = source_extension(received.name.as_deref(), probed.info.format_name.as_deref());
        let source_file = format!("source.{ext}");
        let job_dir = inner.layout.job_dir(&id);
        tokio::fs::create_dir_all(&job_dir).await?;
        let target = job_dir.join(&source_file);
        let persisted =
            tokio::task::spawn_blocking(move || received.file.persist(&target).map(drop))
                .await
                .map_err(|e| IngestError::Io(std::io::Error::other(e)))?;
        if let Err(err) = persisted {
            super::remove_job_dir(&inner.layout, &id).await;
            return Err(IngestError::Io(err.error));
        }
        let new = NewJob {
            id: id.clone(),
            kind: JobKind::Upload,
            url: None,
            title,
            category,
            audio: options.audio,
            source_name: received.name.clone(),
            source_file: Some(source_file),
            metadata: None,
            request_id: uuid::Uuid::new_v4().to_string(),
        };
        let job = match inner.db.write(move |tx| jobs::insert(tx, &new)).await {
            Ok(job) => job,
            Err(err) => {
                super::remove_job_dir(&inner.layout, &id).await;
                return Err(err.into());
            }
        };
        tracing::info!(job = %job.id, bytes = received.size, "queued an upload");
        inner.emit(&job);
        inner.wake(JobKind::Upload);
        Ok(job)
    }
}

async fn next_field(multipart: &mut Multipart) -> Result<Option<Field<'_>>, IngestError> {
    multipart
        .next_field()
        .await
        .map_err(|e| IngestError::BadUpload(e.body_text()))
}

/// Reads a small text field.
async fn text(mut field: Field<'_>) -> Result<String, IngestError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| IngestError::BadUpload(e.body_text()))?
    {
        if bytes.len() + chunk.len() > MAX_TEXT_FIELD {
            return Err(IngestError::BadUpload("a text field is too long".into()));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| IngestError::BadUpload("a text field is not UTF-8".into()))
}

/// Streams the file field into a temporary file in `staging`, refusing it past `limit`.
async fn receive(
    mut field: Field<'_>,
    staging: &std::path::Path,
    limit: u64,
) -> Result<Received, IngestError> {
    let name = field.file_name().map(str::to_owned);
    let dir = staging.to_path_buf();
    let file = tokio::task::spawn_blocking(move || {
        tempfile::Builder::new().prefix(".upload-").tempfile_in(dir)
    })
    .await
    .map_err(|e| IngestError::Io(std::io::Error::other(e)))??;
    let std_file = file.as_file().try_clone()?;
    let mut writer =
        tokio::io::BufWriter::with_capacity(WRITE_BUFFER, tokio::fs::File::from_std(std_file));
    let mut size: u64 = 0;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| IngestError::BadUpload(e.body_text()))?
    {
        size += chunk.len() as u64;
        if size > limit {
            drop(writer);
            drop(file);
            drain(&mut field, DRAIN_AFTER_LIMIT).await;
            return Err(IngestError::TooLarge { limit });
        }
        writer.write_all(&chunk).await.map_err(disk_error)?;
    }
    writer.flush().await.map_err(disk_error)?;
    let std_file = writer.into_inner();
    std_file.sync_data().await.map_err(disk_error)?;
    drop(std_file);
    Ok(Received { file, name, size })
}

/// Reads and drops up to `budget` more bytes of a refused field.
async fn drain(field: &mut Field<'_>, budget: u64) {
    let mut left = budget;
    while let Ok(Some(chunk)) = field.chunk().await {
        let n = chunk.len() as u64;
        if n >= left {
            return;
        }
        left -= n;
    }
}

/// A full disk while receiving is a 507, other write errors a 500.
fn disk_error(err: std::io::Error) -> IngestError {
    if err.raw_os_error() == Some(rustix::io::Errno::NOSPC.raw_os_error()) {
        IngestError::LowDisk { free: 0, needed: 0 }
    } else {
        IngestError::Io(err)
    }
}

/// The extension of the received file: the client's, when it is short and plain; else from
/// ffprobe's format name; else `bin`.
fn source_extension(name: Option<&str>, format_name: Option<&str>) -> String {
    let from_name = name
        .and_then(crate::library::extension)
        .filter(|e| (1..=8).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_alphanumeric()));
    if let Some(ext) = from_name {
        return ext;
    }
    let first = format_name
        .and_then(|f| f.split(',').next())
        .unwrap_or_default();
    match first {
        "mov" => "mp4".into(),
        "matroska" => "mkv".into(),
        f if !f.is_empty() && f.len() <= 8 && f.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            f.into()
        }
        _ => "bin".into(),
    }
}

/// A title from an uploaded file's name: the name without its extension and directories,
/// underscores as spaces.
pub fn title_from_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    };
    let title = stem.replace('_', " ");
    let title = title.trim();
    if title.is_empty() {
        crate::ytdlp::info::UNKNOWN_TITLE.into()
    } else {
        title.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions() {
        let check = |name: Option<&str>, format: Option<&str>, expected: &str| {
            assert_eq!(
                source_extension(name, format),
                expected,
                "{name:?} {format:?}"
            );
        };
        check(Some("clip.MKV"), None, "mkv");
        check(Some("clip.mp4"), Some("matroska,webm"), "mp4");
        check(Some("noext"), Some("mov,mp4,m4a,3gp,3g2,mj2"), "mp4");
        check(Some("weird.e x t"), Some("matroska,webm"), "mkv");
        check(None, Some("avi"), "avi");
        check(None, None, "bin");
    }

    #[test]
    fn titles() {
        assert_eq!(title_from_name("Family_Trip 2024.mp4"), "Family Trip 2024");
        assert_eq!(title_from_name("C:\\videos\\x.y.mkv"), "x.y");
        assert_eq!(title_from_name(".mp4"), ".mp4");
        assert_eq!(title_from_name("___.mp4"), "Unknown Title");
    }
}

//! The upload source: receives an upload form (`video` file, optional `category`, `title`,
//! `audio`) straight into the staging area, checks it with ffprobe and queues an upload job.
//! The HTTP layer reads the multipart body of `POST /api/videos/upload` and hands each part to
//! an [`UploadForm`] as a stream of bytes: nothing here knows HTTP.
//!
//! The file is streamed through a `tempfile` in `staging/` (never held in memory) and counted
//! as it arrives: over `SOFATHEK_MAX_UPLOAD_BYTES` it is refused with 413 and the temporary
//! file is gone; a file ffprobe does not read as a video is refused with 415. An accepted file
//! is moved to `staging/<job-id>/source.<ext>` before the job row is committed.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use sofathek_db::jobs::{self, JobKind, JobRecord, NewJob};
use sofathek_process::ProcessError;

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

/// An upload form being received, part by part ([`Ingest::upload_form`], then
/// [`UploadForm::part`] for each part, then [`Ingest::submit_upload`]).
pub struct UploadForm {
    staging: std::sync::Arc<std::path::Path>,
    limit: u64,
    received: Option<Received>,
    options: Options,
}

/// A part's body: chunks as they arrive; an error is the client's (a malformed body).
pub trait PartBody: Stream<Item = Result<Bytes, IngestError>> + Unpin + Send {}

impl<S: Stream<Item = Result<Bytes, IngestError>> + Unpin + Send> PartBody for S {}

impl UploadForm {
    /// Receives one part of the form: `video` (or `file`) is the file, streamed into staging
    /// and refused past `SOFATHEK_MAX_UPLOAD_BYTES`; `title`, `category` and `audio` are short
    /// texts; other parts are ignored (not read).
    pub async fn part(
        &mut self,
        name: &str,
        file_name: Option<&str>,
        body: impl PartBody,
    ) -> Result<(), IngestError> {
        match name {
            "video" | "file" => {
                if self.received.is_some() {
                    return Err(IngestError::BadUpload("more than one file".into()));
                }
                let received = receive(body, file_name, &self.staging, self.limit).await?;
                self.received = Some(received);
            }
            "title" => self.options.title = Some(text(body).await?),
            "category" => self.options.category = Some(text(body).await?),
            "audio" => {
                let value = text(body).await?;
                self.options.audio = match value.trim().to_ascii_lowercase().as_str() {
                    "" | "0" | "false" | "off" | "no" => false,
                    "1" | "true" | "on" | "yes" => true,
                    _ => {
                        return Err(IngestError::BadUpload("audio must be true or false".into()));
                    }
                };
            }
            _ => {}
        }
        Ok(())
    }
}

impl Ingest {
    /// Starts receiving an upload: refused at once when free space is low.
    pub fn upload_form(&self) -> Result<UploadForm, IngestError> {
        self.check_disk()?;
        let inner = self.inner();
        Ok(UploadForm {
            staging: inner.layout.staging.clone(),
            limit: inner.config.max_upload_bytes,
            received: None,
            options: Options::default(),
        })
    }

    /// Checks a received upload with ffprobe and queues its job (202); see the module
    /// documentation.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn submit_upload(&self, form: UploadForm) -> Result<JobRecord, IngestError> {
        let inner = self.inner();
        let UploadForm {
            received, options, ..
        } = form;
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
            source_id: None,
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

/// Reads a small text part.
async fn text(mut body: impl PartBody) -> Result<String, IngestError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await.transpose()? {
        if bytes.len() + chunk.len() > MAX_TEXT_FIELD {
            return Err(IngestError::BadUpload("a text field is too long".into()));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| IngestError::BadUpload("a text field is not UTF-8".into()))
}

/// Streams the file part into a temporary file in `staging`, refusing it past `limit`.
async fn receive(
    mut body: impl PartBody,
    name: Option<&str>,
    staging: &std::path::Path,
    limit: u64,
) -> Result<Received, IngestError> {
    let name = name.map(str::to_owned);
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
    while let Some(chunk) = body.next().await.transpose()? {
        size += chunk.len() as u64;
        if size > limit {
            drop(writer);
            drop(file);
            drain(&mut body, DRAIN_AFTER_LIMIT).await;
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

/// Reads and drops up to `budget` more bytes of a refused part.
async fn drain(body: &mut impl PartBody, budget: u64) {
    let mut left = budget;
    while let Some(Ok(chunk)) = body.next().await {
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
        .and_then(sofathek_core::library::extension)
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
        sofathek_ytdlp::info::UNKNOWN_TITLE.into()
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

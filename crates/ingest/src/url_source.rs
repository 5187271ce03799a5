//! The URL source: yt-dlp's pre-flight metadata call and the download into the job's work
//! directory, with progress from our JSON progress template.
//!
//! yt-dlp runs without a shell, in its own process group (its ffmpeg children too), with
//! `--ignore-config --no-playlist`, its options, then `--` and the URL.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use url::Url;

use sofathek_core::config::Config;
use sofathek_process::{self as process, Line, ProcessError, Spec, Tool};
use sofathek_ytdlp::args::{self, DownloadOptions, SubtitleLang};
use sofathek_ytdlp::errors::{classify, is_max_filesize_abort};
use sofathek_ytdlp::info::{VideoMeta, parse_info_json};
use sofathek_ytdlp::outputs::{StagingFile, classify_staging_file};
use sofathek_ytdlp::progress::parse_progress_line;

use super::error::{Failure, mentions_disk_full};
use super::reporter::{Counters, Reporter};

/// Longest pre-flight metadata call.
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest download.
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(6 * 3600);

/// What a download left in the work directory.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The video (`media.<ext>`).
    pub media: PathBuf,
    /// The site's thumbnail, if yt-dlp got one.
    pub thumbnail: Option<PathBuf>,
    /// Subtitles: language tag and file.
    pub subtitles: Vec<(String, PathBuf)>,
    /// yt-dlp's metadata (`media.info.json`), when readable.
    pub meta: Option<VideoMeta>,
}

/// The absolute path of a bare program name found on `PATH`, or the configured path made
/// absolute (yt-dlp reads a bare `--ffmpeg-location ffmpeg` as a file in its working directory).
fn ffmpeg_location(configured: &Path) -> Option<PathBuf> {
    if configured.components().count() > 1 {
        return std::path::absolute(configured).ok();
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(configured))
        .find(|candidate| candidate.is_file())
}

/// yt-dlp options from the configuration.
pub fn download_options(config: &Config) -> DownloadOptions {
    DownloadOptions {
        ffmpeg_location: ffmpeg_location(&config.ffmpeg),
        max_filesize: Some(config.max_download_bytes),
        subtitle_languages: config
            .subtitle_langs
            .iter()
            .filter_map(|l| SubtitleLang::new(l))
            .collect(),
        cache_dir: Some(config.data_path.join("cache").join("yt-dlp")),
        ..DownloadOptions::default()
    }
}

/// The metadata kept on the job (and shown as the original queue's `metadata`).
pub fn meta_json(meta: &VideoMeta) -> Value {
    let mut value = json!({
        "id": meta.id,
        "title": meta.title,
        "uploader": meta.uploader,
        "channel": meta.channel,
        "description": meta.description,
        "duration": meta.duration,
        "uploadDate": meta.upload_date.map(|d| format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())),
        "webpageUrl": meta.webpage_url,
        "extractor": meta.extractor,
        "thumbnailUrl": meta.thumbnail_url,
        "width": meta.width,
        "height": meta.height,
        "filesizeApprox": meta.filesize_approx,
        "tags": meta.tags,
        "categories": meta.categories,
    });
    if let Some(map) = value.as_object_mut() {
        map.retain(|_, v| !v.is_null());
    }
    value
}

/// The metadata a job stored, read back for the content policy.
pub fn meta_from_json(value: &Value) -> VideoMeta {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let list = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    VideoMeta {
        id: text("id"),
        title: text("title"),
        uploader: text("uploader"),
        channel: text("channel"),
        description: text("description"),
        tags: list("tags"),
        categories: list("categories"),
        webpage_url: text("webpageUrl"),
        extractor: text("extractor"),
        ..VideoMeta::default()
    }
}

/// yt-dlp's arguments with `--proxy` added (before the `--` that ends the options).
pub(crate) fn through(mut args: Vec<std::ffi::OsString>, proxy: &str) -> Vec<std::ffi::OsString> {
    let at = args.iter().rposition(|a| a == "--").unwrap_or(args.len());
    args.insert(at, proxy.into());
    args.insert(at, "--proxy".into());
    args
}

/// A yt-dlp run whose every connection goes through the egress guard: `--proxy` for yt-dlp
/// itself, the proxy variables for the ffmpeg it may run (HLS/DASH), no exceptions.
pub(crate) fn guarded(spec: Spec, proxy: &str) -> Spec {
    [
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ]
    .into_iter()
    .fold(spec, |spec, key| spec.env(key, proxy))
    .env("no_proxy", "")
    .env("NO_PROXY", "")
}

/// Asks yt-dlp for the video's metadata without downloading (the original's pre-flight).
pub async fn metadata(
    config: &Config,
    url: &Url,
    proxy: &str,
    cancel: &CancellationToken,
    label: &str,
) -> Result<VideoMeta, Failure> {
    let spec = Spec::new(Tool::yt_dlp(&config.ytdlp), METADATA_TIMEOUT)
        .args(through(
            args::metadata_args(&download_options(config), url),
            proxy,
        ))
        .label(label)
        .cancel_on(cancel.clone());
    let spec = guarded(spec, proxy);
    let output = process::run(spec).await.map_err(|e| {
        Failure::process(e, |e| {
            Failure::ytdlp(classify(e.stderr_tail().unwrap_or_default()), e)
        })
    })?;
    parse_info_json(&String::from_utf8_lossy(&output.stdout))
        .map_err(|e| Failure::ytdlp(sofathek_ytdlp::errors::DOWNLOAD_FAILED, e))
}

/// Downloads `url` into `work` (absolute), reporting progress.
pub async fn fetch(
    config: &Config,
    url: &Url,
    proxy: &str,
    work: &Path,
    cancel: &CancellationToken,
    reporter: &mut Reporter,
) -> Result<Fetched, Failure> {
    let args =
        args::download_args(&download_options(config), url, work).map_err(Failure::internal)?;
    let spec = Spec::new(Tool::yt_dlp(&config.ytdlp), DOWNLOAD_TIMEOUT)
        .args(through(args, proxy))
        .current_dir(work)
        .label(reporter.job().id.clone())
        .cancel_on(cancel.clone());
    let spec = guarded(spec, proxy);
    let mut running = process::spawn(spec)
        .await
        .map_err(|e| Failure::process(e, |e| Failure::ytdlp(classify(""), e)))?;
    let mut too_large = false;
    while let Some(line) = running.next_line().await {
        match line {
            Line::Stdout(text) => {
                if let Some(p) = parse_progress_line(&text) {
                    reporter
                        .progress(Counters {
                            fraction: p.percent.map(|pct| pct / 100.0),
                            bytes: p.downloaded_bytes,
                            total_bytes: p.total_bytes,
                            speed: p.speed,
                            eta: p.eta_seconds,
                        })
                        .await;
                } else if is_max_filesize_abort(&text) {
                    too_large = true;
                } else {
                    tracing::trace!(line = %text, "yt-dlp");
                }
            }
            Line::Stderr(text) => {
                if is_max_filesize_abort(&text) {
                    too_large = true;
                }
                tracing::debug!(line = %text, "yt-dlp stderr");
            }
        }
    }
    reporter.flush().await;
    let result = running.wait().await;
    if too_large {
        return Err(Failure::ytdlp(
            classify("file is larger than max-filesize"),
            "--max-filesize stopped the download",
        ));
    }
    let outputs = scan(work).await?;
    match (result, outputs) {
        (_, Some(fetched)) => Ok(fetched),
        (Ok(finished), None) => {
            let tail = finished.stderr_tail;
            if mentions_disk_full(&tail) {
                return Err(Failure::disk_full(tail));
            }
            Err(Failure::ytdlp(
                classify(&tail),
                format!("yt-dlp left no video: {tail}"),
            ))
        }
        (Err(err @ ProcessError::Exited { .. }), None) => {
            let tail = err.stderr_tail().unwrap_or_default().to_owned();
            if mentions_disk_full(&tail) {
                return Err(Failure::disk_full(err));
            }
            Err(Failure::ytdlp(classify(&tail), err))
        }
        (Err(err), None) => Err(Failure::process(err, |e| Failure::ytdlp(classify(""), e))),
    }
}

/// Finds the video and its companions in the work directory; `None` without a video.
async fn scan(work: &Path) -> Result<Option<Fetched>, Failure> {
    let mut media: Vec<(String, PathBuf)> = Vec::new();
    let mut thumbnails: Vec<(String, PathBuf)> = Vec::new();
    let mut subtitles: Vec<(String, String, PathBuf)> = Vec::new();
    let mut info_json = None;
    let mut entries = tokio::fs::read_dir(work).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if !entry.file_type().await.is_ok_and(|t| t.is_file()) {
            continue;
        }
        match classify_staging_file(&name) {
            StagingFile::Media { ext } => media.push((ext, path)),
            StagingFile::Thumbnail { ext } => thumbnails.push((ext, path)),
            StagingFile::Subtitle { lang, ext } => subtitles.push((lang, ext, path)),
            StagingFile::InfoJson => info_json = Some(path),
            StagingFile::FormatPart | StagingFile::Partial | StagingFile::Other => {}
        }
    }
    // Prefer MP4, then WebM, then anything else yt-dlp produced.
    media.sort_by_key(|(ext, _)| match ext.as_str() {
        "mp4" => 0,
        "webm" => 1,
        _ => 2,
    });
    let Some((_, media)) = media.into_iter().next() else {
        return Ok(None);
    };
    thumbnails.sort_by_key(|(ext, _)| if ext == "webp" { 0 } else { 1 });
    let meta = match info_json {
        Some(path) => match tokio::fs::read_to_string(&path).await {
            Ok(text) => parse_info_json(&text)
                .map_err(|err| tracing::warn!(%err, "could not read yt-dlp's info json"))
                .ok(),
            Err(err) => {
                tracing::warn!(%err, "could not read yt-dlp's info json");
                None
            }
        },
        None => None,
    };
    // One subtitle per language, WebVTT preferred.
    subtitles.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| (a.1 != "vtt").cmp(&(b.1 != "vtt")))
    });
    subtitles.dedup_by(|a, b| a.0 == b.0);
    Ok(Some(Fetched {
        media,
        thumbnail: thumbnails.into_iter().next().map(|(_, p)| p),
        subtitles: subtitles
            .into_iter()
            .map(|(lang, _, path)| (lang, path))
            .collect(),
        meta,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trip() {
        let meta = VideoMeta {
            id: Some("abc".into()),
            title: Some("A title".into()),
            uploader: Some("Someone".into()),
            tags: vec!["x".into()],
            categories: vec!["Music".into()],
            ..VideoMeta::default()
        };
        let value = meta_json(&meta);
        assert_eq!(value["title"], json!("A title"));
        assert!(value.get("duration").is_none());
        let back = meta_from_json(&value);
        assert_eq!(
            (back.title, back.uploader, back.tags, back.categories),
            (meta.title, meta.uploader, meta.tags, meta.categories)
        );
    }

    #[test]
    fn bare_ffmpeg_is_looked_up() {
        assert_eq!(
            ffmpeg_location(Path::new("/opt/ff/bin/ffmpeg")),
            Some(PathBuf::from("/opt/ff/bin/ffmpeg"))
        );
        assert_eq!(ffmpeg_location(Path::new("surely-not-a-program-xyz")), None);
    }
}

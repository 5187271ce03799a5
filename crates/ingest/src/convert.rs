//! The ffprobe/ffmpeg steps of a job: probe, make browser-playable (keep, remux or transcode,
//! with progress), thumbnail, MP3 copy and subtitle conversion.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use sofathek_core::config::Config;
use sofathek_media::plan::{self, Plan};
use sofathek_media::probe::{self, ContainerFacts, MediaInfo};
use sofathek_media::progress::{ProgressState, parse_ffmpeg_progress};
use sofathek_process::{self as process, Line, ProcessError, Spec, Tool};

use super::error::Failure;
use super::reporter::{Counters, Reporter};

/// Longest ffprobe run.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest conversion.
pub const CONVERT_TIMEOUT: Duration = Duration::from_secs(12 * 3600);
/// Longest thumbnail, MP3 or subtitle run.
pub const SIDE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// What probing found.
#[derive(Debug, Clone)]
pub struct Probed {
    pub info: MediaInfo,
    pub facts: ContainerFacts,
}

/// Runs ffprobe on `path` and reads the container facts.
pub async fn probe(
    config: &Config,
    path: &Path,
    cancel: &CancellationToken,
    label: &str,
) -> Result<Probed, ProcessError> {
    let spec = Spec::new(Tool::ffprobe(&config.ffprobe), PROBE_TIMEOUT)
        .args(probe::ffprobe_args(path))
        .label(label)
        .cancel_on(cancel.clone());
    let output = process::run(spec).await?;
    let text = String::from_utf8_lossy(&output.stdout);
    let info = probe::parse_ffprobe(&text).unwrap_or_default();
    let sniff_path = path.to_path_buf();
    let facts = tokio::task::spawn_blocking(move || {
        std::fs::File::open(&sniff_path).and_then(probe::sniff_container)
    })
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or_default();
    Ok(Probed { info, facts })
}

/// Probes `path` for a job; a file ffprobe cannot read at all is "not media".
pub async fn probe_for_job(
    config: &Config,
    path: &Path,
    cancel: &CancellationToken,
    label: &str,
) -> Result<Probed, Failure> {
    match probe(config, path, cancel, label).await {
        Ok(probed) => Ok(probed),
        Err(err @ ProcessError::Exited { .. }) => Err(Failure::not_media(err)),
        Err(err) => Err(Failure::process(err, Failure::internal)),
    }
}

/// Carries out a remux or transcode from `input` to `output`, reporting ffmpeg's progress.
pub async fn convert(
    config: &Config,
    plan: Plan,
    input: &Path,
    output: &Path,
    duration: Option<f64>,
    cancel: &CancellationToken,
    reporter: &mut Reporter,
) -> Result<(), Failure> {
    let Some(args) = plan::ffmpeg_args(plan, input, output, true, &config.x264_preset) else {
        return Ok(());
    };
    let spec = Spec::new(Tool::ffmpeg(&config.ffmpeg), CONVERT_TIMEOUT)
        .args(args)
        .current_dir(output.parent().unwrap_or(Path::new("/")))
        .label(reporter.job().id.clone())
        .cancel_on(cancel.clone());
    let mut running = process::spawn(spec)
        .await
        .map_err(|e| Failure::process(e, Failure::conversion))?;
    let mut state = ProgressState::new(duration);
    while let Some(line) = running.next_line().await {
        let Line::Stdout(text) = line else { continue };
        if let Some(report) = parse_ffmpeg_progress(&text, &mut state) {
            reporter
                .progress(Counters {
                    fraction: report.percent.map(|p| p / 100.0),
                    bytes: report.total_size,
                    total_bytes: None,
                    speed: None,
                    eta: report
                        .eta_seconds
                        .filter(|e| e.is_finite() && *e >= 0.0)
                        .map(|e| e.round() as u64),
                })
                .await;
        }
    }
    reporter.flush().await;
    running
        .wait()
        .await
        .map_err(|e| Failure::process(e, Failure::conversion))?;
    match tokio::fs::metadata(output).await {
        Ok(meta) if meta.len() > 0 => Ok(()),
        _ => Err(Failure::conversion("ffmpeg wrote no output")),
    }
}

/// Runs a short ffmpeg job (thumbnail, MP3, subtitle) to completion.
async fn run_side(
    config: &Config,
    args: Vec<OsString>,
    dir: &Path,
    cancel: &CancellationToken,
    label: &str,
) -> Result<(), ProcessError> {
    let spec = Spec::new(Tool::ffmpeg(&config.ffmpeg), SIDE_TIMEOUT)
        .args(args)
        .current_dir(dir)
        .label(label)
        .cancel_on(cancel.clone());
    process::run(spec).await.map(drop)
}

/// Whether a side product exists and is not empty.
async fn written(path: &Path) -> bool {
    tokio::fs::metadata(path).await.is_ok_and(|m| m.len() > 0)
}

/// Makes the WebP thumbnail: from the site's image when there is one, else from a frame at
/// ~10 % of the video. `None` (logged) when both fail; cancellation is an error.
pub async fn thumbnail(
    config: &Config,
    video: &Path,
    site_image: Option<&Path>,
    duration: Option<f64>,
    output: &Path,
    cancel: &CancellationToken,
    label: &str,
) -> Result<Option<PathBuf>, Failure> {
    let dir = output.parent().unwrap_or(Path::new("/"));
    let mut attempts: Vec<(&Path, Option<f64>)> = Vec::new();
    if let Some(image) = site_image {
        attempts.push((image, None));
    }
    attempts.push((video, duration));
    attempts.push((video, None));
    for (input, duration) in attempts {
        match run_side(
            config,
            plan::thumbnail_args(input, output, duration),
            dir,
            cancel,
            label,
        )
        .await
        {
            Ok(()) if written(output).await => return Ok(Some(output.to_path_buf())),
            Ok(()) => tracing::warn!(input = %input.display(), "ffmpeg wrote no thumbnail"),
            Err(ProcessError::Cancelled { .. }) => return Err(Failure::Cancelled),
            Err(err) => tracing::warn!(input = %input.display(), %err, "thumbnail attempt failed"),
        }
    }
    let _ = tokio::fs::remove_file(output).await;
    Ok(None)
}

/// Makes the MP3 copy of the sound track; `None` (logged) when it fails.
pub async fn mp3(
    config: &Config,
    video: &Path,
    output: &Path,
    cancel: &CancellationToken,
    label: &str,
) -> Result<Option<PathBuf>, Failure> {
    let dir = output.parent().unwrap_or(Path::new("/"));
    match run_side(config, plan::mp3_args(video, output), dir, cancel, label).await {
        Ok(()) if written(output).await => Ok(Some(output.to_path_buf())),
        Ok(()) => Ok(None),
        Err(ProcessError::Cancelled { .. }) => Err(Failure::Cancelled),
        Err(err) => {
            tracing::warn!(%err, "could not make the mp3 copy");
            let _ = tokio::fs::remove_file(output).await;
            Ok(None)
        }
    }
}

/// Converts a subtitle file to WebVTT; `None` (logged) when it fails.
pub async fn subtitle_to_vtt(
    config: &Config,
    input: &Path,
    output: &Path,
    cancel: &CancellationToken,
    label: &str,
) -> Result<Option<PathBuf>, Failure> {
    let dir = output.parent().unwrap_or(Path::new("/"));
    match run_side(
        config,
        plan::subtitle_to_vtt_args(input, output),
        dir,
        cancel,
        label,
    )
    .await
    {
        Ok(()) if written(output).await => Ok(Some(output.to_path_buf())),
        Ok(()) => Ok(None),
        Err(ProcessError::Cancelled { .. }) => Err(Failure::Cancelled),
        Err(err) => {
            tracing::warn!(%err, input = %input.display(), "could not convert a subtitle");
            Ok(None)
        }
    }
}

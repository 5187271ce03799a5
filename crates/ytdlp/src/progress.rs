//! Parses the progress lines yt-dlp prints with our `--progress-template` (one JSON object per
//! line after a fixed prefix, see [`super::args::PROGRESS_PREFIX`]).

use serde_json::{Map, Value};

use super::args::PROGRESS_PREFIX;
use super::outputs::{StagingFile, classify_staging_file};

/// yt-dlp's download status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadStatus {
    /// Bytes are arriving.
    Downloading,
    /// The file (or one format of a merge) is complete.
    Finished,
    /// The downloader reported an error.
    Error,
    /// A status this parser does not know.
    Other,
}

/// One progress report from yt-dlp.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The status.
    pub status: DownloadStatus,
    /// Percent done, 0 to 100, when it can be computed.
    pub percent: Option<f64>,
    /// Bytes downloaded so far.
    pub downloaded_bytes: Option<u64>,
    /// Total size in bytes: exact when known, else yt-dlp's estimate.
    pub total_bytes: Option<u64>,
    /// Whether `total_bytes` is only an estimate.
    pub total_is_estimate: bool,
    /// Speed in bytes per second.
    pub speed: Option<f64>,
    /// Estimated seconds left.
    pub eta_seconds: Option<u64>,
    /// Current fragment (HLS/DASH downloads).
    pub fragment_index: Option<u64>,
    /// Number of fragments (HLS/DASH downloads).
    pub fragment_count: Option<u64>,
    /// The file being written, classified: yt-dlp also reports subtitle downloads, and each
    /// format of a merge separately.
    pub file: Option<StagingFile>,
}

impl Progress {
    /// Whether this report is about the video itself (or one of its formats) rather than a
    /// subtitle or thumbnail; reports without a file name count as video.
    pub fn is_video(&self) -> bool {
        matches!(
            self.file,
            None | Some(StagingFile::Media { .. } | StagingFile::FormatPart)
        )
    }

    /// Whether this report shows a download beyond `max_bytes`: bytes already downloaded, or an
    /// exact announced total. yt-dlp's `--max-filesize` does not cover fragmented (HLS/DASH)
    /// downloads, so the pipeline checks this on every report (summing merged formats itself).
    pub fn exceeds(&self, max_bytes: u64) -> bool {
        let announced = if self.total_is_estimate {
            None
        } else {
            self.total_bytes
        };
        self.downloaded_bytes.is_some_and(|d| d > max_bytes)
            || announced.is_some_and(|t| t > max_bytes)
    }
}

/// Parses one line of yt-dlp output; `None` for any other line and for garbage.
///
/// Missing, `null`, `"NA"` or malformed fields are `None`. The percent is downloaded/total,
/// else downloaded/estimate, else fragment index/count, else 100 when finished; it is clamped
/// to 0..=100.
pub fn parse_progress_line(line: &str) -> Option<Progress> {
    let rest = line
        .trim_start_matches(['\r', ' '])
        .strip_prefix(PROGRESS_PREFIX)?;
    let Value::Object(map) = serde_json::from_str::<Value>(rest.trim()).ok()? else {
        return None;
    };
    let status = match map.get("status").and_then(Value::as_str) {
        Some("downloading") => DownloadStatus::Downloading,
        Some("finished") => DownloadStatus::Finished,
        Some("error") => DownloadStatus::Error,
        Some(_) => DownloadStatus::Other,
        None => return None,
    };
    let downloaded_bytes = count(&map, "downloaded_bytes");
    let exact_total = count(&map, "total_bytes").filter(|t| *t > 0);
    let estimate = count(&map, "total_bytes_estimate").filter(|t| *t > 0);
    let total_bytes = exact_total.or(estimate);
    let fragment_index = count(&map, "fragment_index");
    let fragment_count = count(&map, "fragment_count").filter(|c| *c > 0);
    let ratio = match (
        downloaded_bytes,
        total_bytes,
        fragment_index,
        fragment_count,
    ) {
        (Some(done), Some(total), _, _) => Some(done as f64 / total as f64),
        (_, _, Some(index), Some(count)) => Some(index as f64 / count as f64),
        _ => None,
    };
    let percent = match status {
        DownloadStatus::Finished => Some(100.0),
        _ => ratio.map(|r| (r * 100.0).clamp(0.0, 100.0)),
    };
    Some(Progress {
        status,
        percent,
        downloaded_bytes,
        total_bytes,
        total_is_estimate: exact_total.is_none() && estimate.is_some(),
        speed: number(&map, "speed").filter(|s| *s >= 0.0),
        eta_seconds: number(&map, "eta")
            .filter(|e| *e >= 0.0)
            .map(|e| e.round() as u64),
        fragment_index,
        fragment_count,
        file: map.get("filename").and_then(Value::as_str).map(|path| {
            let name = path.rsplit('/').next().unwrap_or(path);
            classify_staging_file(name)
        }),
    })
}

/// A finite number field; numbers written as strings are accepted, `NA` and the like are not.
fn number(map: &Map<String, Value>, key: &str) -> Option<f64> {
    let n = match map.get(key)? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

/// A non-negative whole-number field (fractions are rounded down).
fn count(map: &Map<String, Value>, key: &str) -> Option<u64> {
    let n = number(map, key)?;
    // `as` saturates at u64::MAX for huge values.
    (n >= 0.0).then_some(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines recorded from yt-dlp 2026.10.26 downloading from a local server (first with the
    /// template without `filename`, then with it, including the subtitle reports).
    const DIRECT_MP4: &[&str] = &[
        r#"SOFATHEK_PROGRESS {"status": "downloading", "downloaded_bytes": 1024, "total_bytes": 80823, "speed": 101394.4450057839, "eta": 0, "elapsed": 0.016137361526489258}"#,
        r#"SOFATHEK_PROGRESS {"status": "downloading", "downloaded_bytes": 31744, "total_bytes": 80823, "speed": 102104.36217819185, "eta": 0, "elapsed": 0.31693577766418457}"#,
        r#"SOFATHEK_PROGRESS {"status": "finished", "downloaded_bytes": 80823, "total_bytes": 80823, "speed": 101376.01745481166, "elapsed": 0.7972595691680908}"#,
    ];

    const WITH_SUBTITLES: &[&str] = &[
        r#"SOFATHEK_PROGRESS {"status": "downloading", "downloaded_bytes": 38, "total_bytes": 38, "filename": "/tmp/sfk/stage/media.en.vtt"}"#,
        r#"SOFATHEK_PROGRESS {"status": "finished", "downloaded_bytes": 38, "total_bytes": 38, "filename": "/tmp/sfk/stage/media.en.vtt"}"#,
        r#"SOFATHEK_PROGRESS {"status": "downloading", "downloaded_bytes": 1024, "total_bytes": 80823, "filename": "/tmp/sfk/stage/media.mp4"}"#,
        r#"SOFATHEK_PROGRESS {"status": "downloading", "downloaded_bytes": 4194304, "total_bytes": 52428800, "speed": 2097152.0, "eta": 23, "filename": "/tmp/sfk/stage/media.f137.mp4"}"#,
    ];

    fn parse(line: &str) -> Progress {
        match parse_progress_line(line) {
            Some(p) => p,
            None => panic!("not parsed: {line}"),
        }
    }

    #[test]
    fn direct_download() {
        let first = parse(DIRECT_MP4[0]);
        assert_eq!(first.status, DownloadStatus::Downloading);
        assert_eq!(first.downloaded_bytes, Some(1024));
        assert_eq!(first.total_bytes, Some(80823));
        assert!(!first.total_is_estimate);
        assert_eq!(first.eta_seconds, Some(0));
        assert!(
            first.percent.is_some_and(|p| (p - 1.2669).abs() < 0.001),
            "{first:?}"
        );
        assert!(first.speed.is_some_and(|s| (s - 101394.445).abs() < 0.01));
        let middle = parse(DIRECT_MP4[1]);
        assert!(
            middle.percent.is_some_and(|p| (p - 39.2759).abs() < 0.001),
            "{middle:?}"
        );
        let last = parse(DIRECT_MP4[2]);
        assert_eq!(last.status, DownloadStatus::Finished);
        assert_eq!(last.percent, Some(100.0));
        assert_eq!(last.eta_seconds, None);
    }

    #[test]
    fn size_limit() {
        let p = parse(DIRECT_MP4[1]);
        assert!(p.exceeds(80_000) && !p.exceeds(80_823));
        let estimate = parse(
            r#"SOFATHEK_PROGRESS {"status": "downloading", "downloaded_bytes": 10, "total_bytes_estimate": 5000}"#,
        );
        assert!(!estimate.exceeds(1000) && estimate.exceeds(9));
    }

    #[test]
    fn subtitle_reports_are_told_apart() {
        let video: Vec<bool> = WITH_SUBTITLES.iter().map(|l| parse(l).is_video()).collect();
        assert_eq!(video, [false, false, true, true]);
        assert_eq!(
            parse(WITH_SUBTITLES[0]).file,
            Some(StagingFile::Subtitle {
                lang: "en".to_owned(),
                ext: "vtt".to_owned()
            })
        );
        assert_eq!(parse(WITH_SUBTITLES[3]).file, Some(StagingFile::FormatPart));
        assert!(parse(DIRECT_MP4[0]).is_video());
    }

    #[test]
    fn estimates_fragments_and_missing_values() {
        // HLS: no exact total, an estimate, fragments.
        let hls = parse(
            r#"SOFATHEK_PROGRESS {"status": "downloading", "downloaded_bytes": 262144, "total_bytes_estimate": 1048576.0, "speed": 524288.0, "eta": 1.6, "fragment_index": 3, "fragment_count": 12}"#,
        );
        assert_eq!(hls.total_bytes, Some(1_048_576));
        assert!(hls.total_is_estimate);
        assert_eq!(hls.percent, Some(25.0));
        assert_eq!(hls.eta_seconds, Some(2));
        assert_eq!(
            (hls.fragment_index, hls.fragment_count),
            (Some(3), Some(12))
        );
        // Only fragments known.
        let frags = parse(
            r#"SOFATHEK_PROGRESS {"status": "downloading", "downloaded_bytes": 5000, "fragment_index": 6, "fragment_count": 8}"#,
        );
        assert_eq!(frags.percent, Some(75.0));
        // Start of a download: nulls everywhere.
        let start = parse(
            r#"SOFATHEK_PROGRESS {"status": "downloading", "downloaded_bytes": 0, "total_bytes": null, "speed": null, "eta": null}"#,
        );
        assert_eq!(start.percent, None);
        assert_eq!(start.speed, None);
        // The `%(progress.eta)s` style of a missing field.
        let na = parse(
            r#"SOFATHEK_PROGRESS {"status": "downloading", "downloaded_bytes": "NA", "total_bytes": "2048", "eta": "NA", "speed": "NA"}"#,
        );
        assert_eq!(
            (
                na.downloaded_bytes,
                na.total_bytes,
                na.eta_seconds,
                na.percent
            ),
            (None, Some(2048), None, None)
        );
        // A server that sends more than announced.
        let over = parse(
            r#"SOFATHEK_PROGRESS {"status": "downloading", "downloaded_bytes": 3000, "total_bytes": 2000}"#,
        );
        assert_eq!(over.percent, Some(100.0));
        // A zero total is treated as unknown.
        let zero = parse(
            r#"SOFATHEK_PROGRESS {"status": "downloading", "downloaded_bytes": 10, "total_bytes": 0}"#,
        );
        assert_eq!((zero.total_bytes, zero.percent), (None, None));
        // Negative and huge values.
        let odd = parse(
            r#"SOFATHEK_PROGRESS {"status": "downloading", "downloaded_bytes": -5, "speed": -1, "eta": 1e300, "total_bytes": 1e30}"#,
        );
        assert_eq!(
            (odd.downloaded_bytes, odd.speed, odd.eta_seconds),
            (None, None, Some(u64::MAX))
        );
        assert_eq!(odd.total_bytes, Some(u64::MAX));
        // Error status and an unknown status.
        assert_eq!(
            parse(r#"SOFATHEK_PROGRESS {"status": "error"}"#).status,
            DownloadStatus::Error
        );
        assert_eq!(
            parse("\rSOFATHEK_PROGRESS {\"status\": \"paused\"}  ").status,
            DownloadStatus::Other
        );
    }

    #[test]
    fn other_lines_and_garbage_are_none() {
        for line in [
            "",
            "[generic] Extracting URL: http://127.0.0.1:8765/h264.mp4",
            "[download] Destination: media.mp4",
            "[download]  12.5% of   78.93KiB at  100.00KiB/s ETA 00:00",
            "[download] File is larger than max-filesize (80823 bytes > 1000 bytes). Aborting.",
            "SOFATHEK_PROGRESS",
            "SOFATHEK_PROGRESS ",
            "SOFATHEK_PROGRESS NA",
            "SOFATHEK_PROGRESS {\"status\": \"downloading\"",
            "SOFATHEK_PROGRESS [1,2,3]",
            "SOFATHEK_PROGRESS {}",
            "SOFATHEK_PROGRESS {\"status\": 5}",
            "SOFATHEK_PROGRESS {\"status\": null, \"downloaded_bytes\": 1}",
            "SOFATHEK_PROGRESSX {\"status\": \"downloading\"}",
            "xSOFATHEK_PROGRESS {\"status\": \"downloading\"}",
            "\u{0}\u{1}\u{ffff}",
        ] {
            assert_eq!(parse_progress_line(line), None, "{line:?}");
        }
        let deep = format!(
            "SOFATHEK_PROGRESS {}{}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert_eq!(parse_progress_line(&deep), None);
    }
}

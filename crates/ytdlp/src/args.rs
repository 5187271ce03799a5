//! Builds yt-dlp command lines from typed options: the pre-flight metadata call and the download
//! into a per-job staging directory. The URL always comes last, after `--`.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

/// Prefix of the progress lines our template makes yt-dlp print on stdout.
pub const PROGRESS_PREFIX: &str = "SOFATHEK_PROGRESS ";

/// File stem of everything yt-dlp writes into the staging directory (`media.mp4`,
/// `media.info.json`, `media.webp`, `media.en.vtt`, ...).
pub const MEDIA_STEM: &str = "media";

/// The progress fields printed as one JSON object per line (absent fields are left out).
const PROGRESS_FIELDS: &str = "status,downloaded_bytes,total_bytes,total_bytes_estimate,speed,eta,\
fragment_index,fragment_count,filename";

/// Format preference, merged into MP4: H.264 video with M4A (AAC) audio first (plays
/// everywhere, kept as it is); then VP9, then AV1 video with the best audio (both kept in MP4,
/// where browsers play them; AV1 is decoded by ffmpeg's dav1d for thumbnails and conversions);
/// then the best single MP4 file, any best video and audio merged (converted later by the media
/// plan if needed, e.g. HEVC), and the best single file. yt-dlp names VP9 `vp09.*` (DASH codec
/// strings) or `vp9`, AV1 `av01.*`.
pub const FORMAT_PREFERENCE: &str = "bestvideo[ext=mp4][vcodec^=avc1]+bestaudio[ext=m4a]\
/bestvideo[vcodec^=vp09]+bestaudio/bestvideo[vcodec^=vp9]+bestaudio\
/bestvideo[vcodec^=av01]+bestaudio/best[ext=mp4]/bestvideo*+bestaudio/best";

/// A subtitle language code (`en`, `de`, `pt-BR`): ASCII letters, digits and inner dashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubtitleLang(String);

impl SubtitleLang {
    /// Accepts 1 to 16 ASCII letters, digits or dashes, starting with a letter or digit.
    pub fn new(code: &str) -> Option<SubtitleLang> {
        let valid = (1..=16).contains(&code.len())
            && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && code
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric());
        valid.then(|| SubtitleLang(code.to_owned()))
    }

    /// The code as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The yt-dlp `--sub-langs` pattern: the code and its regional variants (`en.*`).
    fn pattern(&self) -> String {
        format!("{}.*", self.0)
    }
}

/// Settings of a yt-dlp run that come from configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadOptions {
    /// ffmpeg binary (or its directory) for yt-dlp's merges and conversions; `None` = PATH.
    pub ffmpeg_location: Option<PathBuf>,
    /// Abort downloads whose announced size is larger than this many bytes.
    pub max_filesize: Option<u64>,
    /// Subtitle languages to fetch (manual and automatic); empty = no subtitles.
    pub subtitle_languages: Vec<SubtitleLang>,
    /// Network timeout of one request (whole seconds, at least 1).
    pub socket_timeout: Duration,
    /// Retries of a failed request and of a failed fragment.
    pub retries: u32,
    /// Where yt-dlp may cache (e.g. YouTube player code); `None` disables its cache.
    pub cache_dir: Option<PathBuf>,
    /// Shortest time between two progress lines (whole milliseconds).
    pub progress_interval: Duration,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            ffmpeg_location: None,
            max_filesize: None,
            subtitle_languages: ["en", "de", "sv"]
                .into_iter()
                .filter_map(SubtitleLang::new)
                .collect(),
            socket_timeout: Duration::from_secs(30),
            retries: 10,
            cache_dir: None,
            progress_interval: Duration::from_millis(250),
        }
    }
}

/// Why download arguments could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgsError {
    /// The staging directory is a relative path.
    StagingDirNotAbsolute {
        /// The directory given.
        dir: PathBuf,
    },
    /// The staging directory contains `$`, which yt-dlp would expand as an environment variable.
    StagingDirHasDollar {
        /// The directory given.
        dir: PathBuf,
    },
}

impl ArgsError {
    /// A stable code string for logs.
    pub fn code(&self) -> &'static str {
        match self {
            ArgsError::StagingDirNotAbsolute { .. } => "STAGING_DIR_NOT_ABSOLUTE",
            ArgsError::StagingDirHasDollar { .. } => "STAGING_DIR_HAS_DOLLAR",
        }
    }
}

impl fmt::Display for ArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgsError::StagingDirNotAbsolute { dir } => {
                write!(
                    f,
                    "staging directory {} is not an absolute path",
                    dir.display()
                )
            }
            ArgsError::StagingDirHasDollar { dir } => {
                write!(
                    f,
                    "staging directory {} contains '$', which yt-dlp would expand",
                    dir.display()
                )
            }
        }
    }
}

impl std::error::Error for ArgsError {}

/// Arguments for the pre-flight call that prints the video's metadata as one JSON document on
/// stdout without downloading (`--dump-single-json --skip-download`).
pub fn metadata_args(opts: &DownloadOptions, url: &Url) -> Vec<OsString> {
    let mut args = ArgList::default();
    common_args(&mut args, opts);
    args.push_all(["--dump-single-json", "--skip-download", "--flat-playlist"]);
    finish_with_url(args, url)
}

/// Arguments for downloading `url` into `staging_dir` (absolute, without `$`).
///
/// Everything lands in fixed names: `media.<ext>` (the video, merged into MP4 when formats are
/// merged), `media.info.json` (metadata, read after the run), `media.webp` (the site's
/// thumbnail, if any), `media.<lang>.vtt` (subtitles); `.part` files while downloading. Progress
/// comes on stdout as lines starting with [`PROGRESS_PREFIX`]. With `--ignore-errors`, a failed
/// subtitle or thumbnail does not abort the video: judge success by the presence of the
/// `media.<ext>` file (see `outputs`), not by the exit status alone.
pub fn download_args(
    opts: &DownloadOptions,
    url: &Url,
    staging_dir: &Path,
) -> Result<Vec<OsString>, ArgsError> {
    let output = output_template(staging_dir)?;
    let mut args = ArgList::default();
    common_args(&mut args, opts);
    args.push_all(["--newline", "--progress", "--progress-template"]);
    args.push(format!(
        "download:{PROGRESS_PREFIX}%(progress.{{{PROGRESS_FIELDS}}})j"
    ));
    args.push("--progress-delta");
    args.push(format!("{:.3}", opts.progress_interval.as_secs_f64()));
    args.push_all([
        "--playlist-items",
        "1",
        "--ignore-errors",
        "--abort-on-unavailable-fragments",
    ]);
    args.push("--fragment-retries");
    args.push(opts.retries.to_string());
    args.push_all([
        "--format",
        FORMAT_PREFERENCE,
        "--merge-output-format",
        "mp4",
    ]);
    args.push_all(["--write-thumbnail", "--convert-thumbnails", "webp"]);
    if !opts.subtitle_languages.is_empty() {
        let langs: Vec<String> = opts
            .subtitle_languages
            .iter()
            .map(SubtitleLang::pattern)
            .collect();
        args.push_all(["--write-subs", "--write-auto-subs", "--sub-langs"]);
        args.push(langs.join(","));
        args.push_all(["--convert-subs", "vtt"]);
    }
    if let Some(bytes) = opts.max_filesize {
        args.push("--max-filesize");
        args.push(bytes.to_string());
    }
    if let Some(ffmpeg) = &opts.ffmpeg_location {
        args.push("--ffmpeg-location");
        args.push(ffmpeg.as_os_str());
    }
    args.push_all([
        "--restrict-filenames",
        "--write-info-json",
        "--no-write-playlist-metafiles",
        "--output",
    ]);
    args.push(output);
    Ok(finish_with_url(args, url))
}

/// Arguments for listing a channel, playlist or feed without downloading anything: one JSON
/// document on stdout whose `entries` are the first `window` items as the site lists them
/// (`--flat-playlist`: yt-dlp does not visit each entry). Read it with [`crate::listing`].
pub fn listing_args(opts: &DownloadOptions, url: &Url, window: u32) -> Vec<OsString> {
    let mut args = ArgList::default();
    args.push_all(["--ignore-config", "--yes-playlist", "--color", "never"]);
    shared_args(&mut args, opts);
    args.push_all(["--dump-single-json", "--skip-download", "--flat-playlist"]);
    args.push("--playlist-end");
    args.push(window.max(1).to_string());
    finish_with_url(args, url)
}

/// Options shared by the calls about one video.
fn common_args(args: &mut ArgList, opts: &DownloadOptions) {
    args.push_all(["--ignore-config", "--no-playlist", "--color", "never"]);
    shared_args(args, opts);
}

/// Options every call shares: cache, timeouts, retries.
fn shared_args(args: &mut ArgList, opts: &DownloadOptions) {
    match &opts.cache_dir {
        Some(dir) => {
            args.push("--cache-dir");
            args.push(dir.as_os_str());
        }
        None => args.push("--no-cache-dir"),
    }
    args.push("--socket-timeout");
    args.push(opts.socket_timeout.as_secs().max(1).to_string());
    args.push("--retries");
    args.push(opts.retries.to_string());
}

/// Ends the options with `--` and appends the URL, so it can never be read as an option.
fn finish_with_url(mut args: ArgList, url: &Url) -> Vec<OsString> {
    args.push("--");
    args.push(url.as_str());
    args.0
}

/// `<staging_dir>/media.%(ext)s`, with `%` in the directory escaped for yt-dlp's template.
fn output_template(staging_dir: &Path) -> Result<OsString, ArgsError> {
    if !staging_dir.is_absolute() {
        return Err(ArgsError::StagingDirNotAbsolute {
            dir: staging_dir.to_owned(),
        });
    }
    let dir = staging_dir.as_os_str().as_bytes();
    if dir.contains(&b'$') {
        return Err(ArgsError::StagingDirHasDollar {
            dir: staging_dir.to_owned(),
        });
    }
    let mut template = Vec::with_capacity(dir.len() + 16);
    for byte in dir {
        if *byte == b'%' {
            template.push(b'%');
        }
        template.push(*byte);
    }
    if template.last() != Some(&b'/') {
        template.push(b'/');
    }
    template.extend_from_slice(MEDIA_STEM.as_bytes());
    template.extend_from_slice(b".%(ext)s");
    Ok(OsString::from_vec(template))
}

/// A growing argument vector.
#[derive(Default)]
struct ArgList(Vec<OsString>);

impl ArgList {
    /// Appends one argument.
    fn push(&mut self, arg: impl AsRef<OsStr>) {
        self.0.push(arg.as_ref().to_owned());
    }

    /// Appends several arguments.
    fn push_all<const N: usize>(&mut self, items: [&str; N]) {
        self.0.extend(items.into_iter().map(OsString::from));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(raw: &str) -> Url {
        match Url::parse(raw) {
            Ok(u) => u,
            Err(e) => panic!("{raw}: {e}"),
        }
    }

    fn strings(args: &[OsString]) -> Vec<String> {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    fn download(opts: &DownloadOptions, raw: &str, dir: &str) -> Vec<String> {
        match download_args(opts, &url(raw), Path::new(dir)) {
            Ok(args) => strings(&args),
            Err(e) => panic!("{e}"),
        }
    }

    /// The value following `flag`, if present.
    fn value_of<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
        let at = args.iter().position(|a| a == flag)?;
        args.get(at + 1).map(String::as_str)
    }

    #[test]
    fn url_is_last_after_double_dash() {
        for raw in [
            "https://www.youtube.com/watch?v=abc&t=30s",
            "http://127.0.0.1:8080/-o/tmp/x",
            "https://example.com/--exec=id",
        ] {
            let meta = strings(&metadata_args(&DownloadOptions::default(), &url(raw)));
            let dl = download(&DownloadOptions::default(), raw, "/data/staging/job-1");
            for args in [meta, dl] {
                let n = args.len();
                assert_eq!(args[n - 2], "--", "{args:?}");
                assert_eq!(args[n - 1], url(raw).as_str());
                assert_eq!(args.iter().filter(|a| *a == "--").count(), 1);
                assert_eq!(args[0], "--ignore-config");
            }
        }
    }

    #[test]
    fn format_order_prefers_h264_then_vp9_then_av1_and_always_has_a_fallback() {
        let alternatives: Vec<&str> = FORMAT_PREFERENCE.split('/').collect();
        let first = |needle: &str| {
            alternatives
                .iter()
                .position(|a| a.contains(needle))
                .unwrap_or_else(|| panic!("{needle} missing from {FORMAT_PREFERENCE}"))
        };
        let (h264, vp9, av1) = (
            first("[vcodec^=avc1]"),
            first("[vcodec^=vp09]"),
            first("[vcodec^=av01]"),
        );
        assert!(h264 < vp9 && vp9 < av1, "{alternatives:?}");
        assert_eq!(first("[vcodec^=vp9]"), vp9 + 1, "{alternatives:?}");
        // Every codec-specific choice comes before the codec-agnostic fallbacks, which end with
        // the best single file: a site without any of these codecs still gets downloaded.
        let agnostic = first("bestvideo*+bestaudio");
        assert!(av1 < agnostic, "{alternatives:?}");
        assert_eq!(alternatives.last(), Some(&"best"));
        // Nothing excludes AV1 (an older chain could only pick it by accident).
        assert!(
            !FORMAT_PREFERENCE.contains("vcodec!"),
            "{FORMAT_PREFERENCE}"
        );
        // Merged downloads need both halves.
        for alt in &alternatives[..agnostic] {
            if alt.starts_with("bestvideo") {
                assert!(alt.contains("+bestaudio"), "{alt}");
            }
        }
    }

    #[test]
    fn a_parsed_url_never_starts_with_a_dash() {
        // Only http(s) URLs reach the builder, and their text starts with the scheme.
        let args = download(&DownloadOptions::default(), "http://-o.example/x", "/s");
        assert!(args.last().is_some_and(|u| u.starts_with("http://")));
    }

    #[test]
    fn download_arguments() {
        let opts = DownloadOptions {
            ffmpeg_location: Some(PathBuf::from("/nix/store/x-ffmpeg/bin/ffmpeg")),
            max_filesize: Some(5_368_709_120),
            cache_dir: Some(PathBuf::from("/app/data/cache/yt-dlp")),
            ..DownloadOptions::default()
        };
        let args = download(&opts, "https://example.com/v", "/app/data/staging/7f0c");
        let has = |flag: &str| args.iter().any(|a| a == flag);
        for flag in [
            "--ignore-config",
            "--no-playlist",
            "--newline",
            "--progress",
            "--ignore-errors",
            "--write-thumbnail",
            "--write-subs",
            "--write-auto-subs",
            "--restrict-filenames",
            "--write-info-json",
        ] {
            assert!(has(flag), "{flag} missing: {args:?}");
        }
        assert!(!has("--no-cache-dir"));
        assert_eq!(value_of(&args, "--color"), Some("never"));
        assert_eq!(
            value_of(&args, "--progress-template"),
            Some(
                "download:SOFATHEK_PROGRESS %(progress.{status,downloaded_bytes,total_bytes,\
                 total_bytes_estimate,speed,eta,fragment_index,fragment_count,filename})j"
            )
        );
        assert_eq!(value_of(&args, "--progress-delta"), Some("0.250"));
        assert_eq!(value_of(&args, "--format"), Some(FORMAT_PREFERENCE));
        assert!(
            FORMAT_PREFERENCE.starts_with("bestvideo[ext=mp4][vcodec^=avc1]+bestaudio[ext=m4a]/")
        );
        assert_eq!(value_of(&args, "--merge-output-format"), Some("mp4"));
        assert_eq!(value_of(&args, "--convert-thumbnails"), Some("webp"));
        assert_eq!(value_of(&args, "--sub-langs"), Some("en.*,de.*,sv.*"));
        assert_eq!(value_of(&args, "--convert-subs"), Some("vtt"));
        assert_eq!(value_of(&args, "--max-filesize"), Some("5368709120"));
        assert_eq!(
            value_of(&args, "--ffmpeg-location"),
            Some("/nix/store/x-ffmpeg/bin/ffmpeg")
        );
        assert_eq!(
            value_of(&args, "--cache-dir"),
            Some("/app/data/cache/yt-dlp")
        );
        assert_eq!(value_of(&args, "--socket-timeout"), Some("30"));
        assert_eq!(value_of(&args, "--retries"), Some("10"));
        assert_eq!(value_of(&args, "--fragment-retries"), Some("10"));
        assert_eq!(value_of(&args, "--playlist-items"), Some("1"));
        assert_eq!(
            value_of(&args, "--output"),
            Some("/app/data/staging/7f0c/media.%(ext)s")
        );
    }

    #[test]
    fn optional_parts_are_left_out() {
        let opts = DownloadOptions {
            subtitle_languages: Vec::new(),
            socket_timeout: Duration::ZERO,
            ..DownloadOptions::default()
        };
        let args = download(&opts, "https://example.com/v", "/s/");
        for flag in [
            "--write-subs",
            "--sub-langs",
            "--max-filesize",
            "--ffmpeg-location",
            "--cache-dir",
        ] {
            assert!(!args.iter().any(|a| a == flag), "{flag} present: {args:?}");
        }
        assert!(args.iter().any(|a| a == "--no-cache-dir"));
        assert_eq!(value_of(&args, "--socket-timeout"), Some("1"));
        assert_eq!(value_of(&args, "--output"), Some("/s/media.%(ext)s"));
    }

    #[test]
    fn metadata_arguments() {
        let args = strings(&metadata_args(
            &DownloadOptions::default(),
            &url("https://example.com/v"),
        ));
        assert_eq!(
            args,
            [
                "--ignore-config",
                "--no-playlist",
                "--color",
                "never",
                "--no-cache-dir",
                "--socket-timeout",
                "30",
                "--retries",
                "10",
                "--dump-single-json",
                "--skip-download",
                "--flat-playlist",
                "--",
                "https://example.com/v",
            ]
        );
    }

    #[test]
    fn staging_dir_is_escaped_or_refused() {
        let opts = DownloadOptions::default();
        assert_eq!(
            value_of(
                &download(&opts, "https://e.com/", "/data/100%/job"),
                "--output"
            ),
            Some("/data/100%%/job/media.%(ext)s")
        );
        let u = url("https://e.com/");
        let relative = download_args(&opts, &u, Path::new("staging/job"));
        assert_eq!(
            relative.map_err(|e| e.code()),
            Err("STAGING_DIR_NOT_ABSOLUTE")
        );
        let dollar = download_args(&opts, &u, Path::new("/data/$HOME/job"));
        assert_eq!(dollar.map_err(|e| e.code()), Err("STAGING_DIR_HAS_DOLLAR"));
    }

    #[test]
    fn subtitle_languages() {
        for (code, ok) in [
            ("en", true),
            ("pt-BR", true),
            ("zh-Hans", true),
            ("", false),
            ("-live_chat", false),
            ("en.*", false),
            ("en,de", false),
            ("all", true),
            ("averyveryverylongcode", false),
        ] {
            assert_eq!(SubtitleLang::new(code).is_some(), ok, "{code}");
        }
        let opts = DownloadOptions {
            subtitle_languages: ["sv", "pt-BR"]
                .into_iter()
                .filter_map(SubtitleLang::new)
                .collect(),
            ..DownloadOptions::default()
        };
        assert_eq!(
            value_of(&download(&opts, "https://e.com/", "/s"), "--sub-langs"),
            Some("sv.*,pt-BR.*")
        );
    }
}

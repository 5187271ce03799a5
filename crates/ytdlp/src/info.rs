//! Reads yt-dlp's info JSON (`--dump-single-json` or `media.info.json`) into [`VideoMeta`], and
//! makes the original's file-name-safe title ([`safe_title`]).

use std::fmt;

use serde_json::{Map, Value};

use super::policy::PolicySubject;

/// The title used when a video has none (the original's fallback).
pub const UNKNOWN_TITLE: &str = "Unknown Title";

/// Longest safe title, in characters (the original's limit).
const SAFE_TITLE_MAX_CHARS: usize = 200;

/// Longest safe title, in bytes, so `<title>-<id>.<lang>.vtt` stays under 255 bytes even for
/// non-ASCII titles (ASCII titles are cut at 200 characters as in the original anyway).
const SAFE_TITLE_MAX_BYTES: usize = 200;

/// The metadata SOFATHEK keeps from yt-dlp; every field may be missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VideoMeta {
    /// yt-dlp's id of the video on its site.
    pub id: Option<String>,
    /// The title.
    pub title: Option<String>,
    /// The uploader, trimmed; falls back to the channel when missing or blank.
    pub uploader: Option<String>,
    /// The channel, trimmed.
    pub channel: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// Tags (non-string entries dropped).
    pub tags: Vec<String>,
    /// Categories (non-string entries dropped).
    pub categories: Vec<String>,
    /// Duration in seconds.
    pub duration: Option<f64>,
    /// Upload date.
    pub upload_date: Option<time::Date>,
    /// The page the video was found on.
    pub webpage_url: Option<String>,
    /// The extractor that handled the URL (`youtube`, `generic`, `html5`, ...).
    pub extractor: Option<String>,
    /// Width of the selected format in pixels.
    pub width: Option<u32>,
    /// Height of the selected format in pixels.
    pub height: Option<u32>,
    /// URL of the site's thumbnail.
    pub thumbnail_url: Option<String>,
    /// Exact or approximate size of the selected format(s) in bytes.
    pub filesize_approx: Option<u64>,
    /// Whether the video is a live stream right now (such a download would never end).
    pub is_live: Option<bool>,
    /// yt-dlp's result type (`video`, `playlist`, `url`, ...); missing means a video.
    pub result_type: Option<String>,
}

/// Why an info JSON document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InfoError {
    /// The text is empty (the original: yt-dlp returned empty stdout).
    Empty,
    /// The text is not JSON.
    InvalidJson {
        /// The parser's reason.
        reason: String,
    },
    /// The JSON is not an object.
    NotAnObject,
}

impl InfoError {
    /// A stable code string for logs.
    pub fn code(&self) -> &'static str {
        match self {
            InfoError::Empty => "INFO_JSON_EMPTY",
            InfoError::InvalidJson { .. } => "INFO_JSON_INVALID",
            InfoError::NotAnObject => "INFO_JSON_NOT_OBJECT",
        }
    }
}

impl fmt::Display for InfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InfoError::Empty => write!(f, "yt-dlp returned no metadata"),
            InfoError::InvalidJson { reason } => {
                write!(f, "yt-dlp metadata is not valid JSON: {reason}")
            }
            InfoError::NotAnObject => write!(f, "yt-dlp metadata is not a JSON object"),
        }
    }
}

impl std::error::Error for InfoError {}

/// Parses yt-dlp's info JSON. Fields of the wrong type are treated as missing.
pub fn parse_info_json(text: &str) -> Result<VideoMeta, InfoError> {
    if text.trim().is_empty() {
        return Err(InfoError::Empty);
    }
    let value: Value = serde_json::from_str(text).map_err(|e| InfoError::InvalidJson {
        reason: e.to_string(),
    })?;
    let Value::Object(map) = value else {
        return Err(InfoError::NotAnObject);
    };
    let channel = trimmed(&map, "channel");
    let uploader = trimmed(&map, "uploader").or_else(|| channel.clone());
    Ok(VideoMeta {
        id: string(&map, "id")
            .or_else(|| map.get("id").and_then(Value::as_u64).map(|n| n.to_string())),
        title: string(&map, "title"),
        uploader,
        channel,
        description: string(&map, "description"),
        tags: strings(&map, "tags"),
        categories: strings(&map, "categories"),
        duration: number(&map, "duration").filter(|d| *d >= 0.0),
        upload_date: string(&map, "upload_date")
            .as_deref()
            .and_then(parse_upload_date),
        webpage_url: string(&map, "webpage_url"),
        extractor: string(&map, "extractor"),
        width: dimension(&map, "width"),
        height: dimension(&map, "height"),
        thumbnail_url: string(&map, "thumbnail"),
        filesize_approx: number(&map, "filesize")
            .or_else(|| number(&map, "filesize_approx"))
            .filter(|n| *n >= 0.0)
            .map(|n| n as u64),
        is_live: map.get("is_live").and_then(Value::as_bool),
        result_type: string(&map, "_type"),
    })
}

impl VideoMeta {
    /// The title, or [`UNKNOWN_TITLE`] when missing or blank.
    pub fn display_title(&self) -> &str {
        self.title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .unwrap_or(UNKNOWN_TITLE)
    }

    /// Whether yt-dlp described a playlist (or another container of videos) instead of a video.
    pub fn is_playlist(&self) -> bool {
        matches!(
            self.result_type.as_deref(),
            Some("playlist" | "multi_video")
        )
    }

    /// The fields the content policy looks at.
    pub fn policy_subject(&self) -> PolicySubject<'_> {
        PolicySubject {
            title: self.title.as_deref(),
            description: self.description.as_deref(),
            uploader: self.uploader.as_deref(),
            tags: &self.tags,
            categories: &self.categories,
        }
    }
}

/// Makes a title safe as the start of a file name, following the original's rule: remove
/// `< > : " / \ | ? *`, turn each whitespace run into `_`, cut to 200 characters, trim;
/// non-ASCII is kept.
///
/// Beyond the original: other control characters (NUL, DEL, C1) are removed, the result is cut
/// to 200 bytes on a character boundary, leading `.` and `-` are removed (no hidden files, no
/// `.`/`..`, nothing an option parser could take), and an empty result becomes
/// `Unknown_Title` (the safe form of the original's fallback title).
pub fn safe_title(title: &str) -> String {
    let mut out = String::with_capacity(title.len().min(SAFE_TITLE_MAX_BYTES));
    let mut in_space = false;
    for c in title.chars() {
        if c.is_whitespace() {
            in_space = true;
            continue;
        }
        if matches!(c, '<' | '>' | ':' | '"' | '/' | '\\' | '|' | '?' | '*') || c.is_control() {
            continue;
        }
        if in_space {
            out.push('_');
            in_space = false;
        }
        out.push(c);
    }
    if in_space {
        out.push('_');
    }
    let mut cut = String::with_capacity(out.len().min(SAFE_TITLE_MAX_BYTES));
    for c in out.chars().take(SAFE_TITLE_MAX_CHARS) {
        if cut.len() + c.len_utf8() > SAFE_TITLE_MAX_BYTES {
            break;
        }
        cut.push(c);
    }
    let safe = cut.trim().trim_start_matches(['.', '-']);
    if safe.is_empty() {
        safe_title_fallback()
    } else {
        safe.to_owned()
    }
}

/// The safe form of [`UNKNOWN_TITLE`].
fn safe_title_fallback() -> String {
    UNKNOWN_TITLE.replace(' ', "_")
}

/// Parses yt-dlp's `YYYYMMDD` date.
fn parse_upload_date(text: &str) -> Option<time::Date> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = text.get(0..4)?.parse().ok()?;
    let month: u8 = text.get(4..6)?.parse().ok()?;
    let day: u8 = text.get(6..8)?.parse().ok()?;
    time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

/// A string field.
fn string(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// A string field, trimmed; blank counts as missing.
fn trimmed(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The string entries of an array field.
fn strings(map: &Map<String, Value>, key: &str) -> Vec<String> {
    match map.get(key) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// A finite number field.
fn number(map: &Map<String, Value>, key: &str) -> Option<f64> {
    map.get(key)
        .and_then(Value::as_f64)
        .filter(|n| n.is_finite())
}

/// A pixel dimension: a positive whole number that fits in `u32`.
fn dimension(map: &Map<String, Value>, key: &str) -> Option<u32> {
    let n = number(map, key)?;
    (n >= 1.0 && n <= f64::from(u32::MAX)).then_some(n as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trimmed from real `yt-dlp --dump-single-json` output (2026.10.26) for a local page with
    /// a `<video>` tag (generic extractor, html5 embed).
    const HTML5_PAGE: &str = r#"{
        "formats": [{"url": "http://127.0.0.1:8765/h264fs.mp4", "vcodec": null, "ext": "mp4",
                     "protocol": "http", "video_ext": "mp4", "audio_ext": "none", "format_id": "0"}],
        "subtitles": {}, "id": "page-1", "title": "Family Trip 2024 (1)",
        "_old_archive_ids": ["generic page"], "extractor": "html5", "extractor_key": "HTML5MediaEmbed",
        "timestamp": 1795831853, "description": "Our holiday",
        "webpage_url": "http://127.0.0.1:8765/page.html", "original_url": "http://127.0.0.1:8765/page.html",
        "playlist": null, "playlist_index": null, "display_id": "page-1",
        "fulltitle": "Family Trip 2024 (1)", "upload_date": "20261128", "release_year": null,
        "requested_subtitles": null, "_has_drm": null, "epoch": 1795831854,
        "url": "http://127.0.0.1:8765/h264fs.mp4", "ext": "mp4", "format_id": "0", "_type": "video",
        "_version": {"version": "2026.10.26", "release_git_head": null, "repository": "yt-dlp/yt-dlp"}
    }"#;

    /// The shape of a YouTube video's info JSON (values written for this test).
    const YOUTUBE: &str = r#"{
        "id": "dQw4w9WgXcQ", "title": "Peppa Pig: Muddy Puddles!", "thumbnail": "https://i.ytimg.com/vi/dQw4w9WgXcQ/maxresdefault.webp",
        "description": "Peppa loves jumping in muddy puddles.\nSubscribe!", "channel_id": "UCAOtE1V7Ots4DjM8JLlrYgg",
        "channel_url": "https://www.youtube.com/channel/UCAOtE1V7Ots4DjM8JLlrYgg", "duration": 300,
        "view_count": 123456789, "age_limit": 0, "webpage_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "categories": ["Film & Animation"], "tags": ["peppa", "peppa pig", 7, null], "playable_in_embed": true,
        "live_status": "not_live", "is_live": false, "was_live": false, "channel": "  Peppa Pig - Official Channel ",
        "channel_follower_count": 30000000, "uploader": "Peppa Pig - Official Channel", "uploader_id": "@peppapig",
        "upload_date": "20190410", "extractor": "youtube", "extractor_key": "Youtube", "width": 1920, "height": 1080,
        "fps": 25, "vcodec": "avc1.640028", "acodec": "mp4a.40.2", "filesize_approx": 73400320, "ext": "mp4",
        "format_id": "137+140", "_type": "video"
    }"#;

    fn parse(text: &str) -> VideoMeta {
        match parse_info_json(text) {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn generic_page() {
        let m = parse(HTML5_PAGE);
        assert_eq!(m.id.as_deref(), Some("page-1"));
        assert_eq!(m.title.as_deref(), Some("Family Trip 2024 (1)"));
        assert_eq!(m.uploader, None);
        assert_eq!(m.description.as_deref(), Some("Our holiday"));
        assert_eq!(m.extractor.as_deref(), Some("html5"));
        assert_eq!(
            m.upload_date,
            time::Date::from_calendar_date(2026, time::Month::November, 28).ok()
        );
        assert_eq!((m.width, m.height, m.duration), (None, None, None));
        assert!(m.tags.is_empty() && m.categories.is_empty());
        assert!(!m.is_playlist());
    }

    #[test]
    fn youtube_video() {
        let m = parse(YOUTUBE);
        assert_eq!(m.uploader.as_deref(), Some("Peppa Pig - Official Channel"));
        assert_eq!(m.channel.as_deref(), Some("Peppa Pig - Official Channel"));
        assert_eq!(m.tags, ["peppa", "peppa pig"]);
        assert_eq!(m.categories, ["Film & Animation"]);
        assert_eq!(m.duration, Some(300.0));
        assert_eq!((m.width, m.height), (Some(1920), Some(1080)));
        assert_eq!(m.filesize_approx, Some(73_400_320));
        assert_eq!(m.is_live, Some(false));
        assert_eq!(
            m.webpage_url.as_deref(),
            Some("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
        );
        let subject = m.policy_subject();
        assert_eq!(subject.title, Some("Peppa Pig: Muddy Puddles!"));
        assert_eq!(subject.tags.len(), 2);
    }

    #[test]
    fn tolerant_of_nulls_and_wrong_types() {
        let m = parse(
            r#"{"id": 12345, "title": null, "uploader": "   ", "channel": " Kids TV ", "tags": "x",
                "categories": null, "duration": "300", "upload_date": "2019-04-10", "width": -1,
                "height": 1e12, "is_live": "no", "filesize": null, "filesize_approx": 10.5}"#,
        );
        assert_eq!(m.id.as_deref(), Some("12345"));
        assert_eq!(m.title, None);
        assert_eq!(m.display_title(), "Unknown Title");
        assert_eq!(m.uploader.as_deref(), Some("Kids TV"));
        assert!(m.tags.is_empty() && m.categories.is_empty());
        assert_eq!(
            (m.duration, m.upload_date, m.width, m.height, m.is_live),
            (None, None, None, None, None)
        );
        assert_eq!(m.filesize_approx, Some(10));
        assert_eq!(parse("{}"), VideoMeta::default());
        assert!(parse(r#"{"_type": "playlist", "entries": []}"#).is_playlist());
    }

    #[test]
    fn errors() {
        for (text, code) in [
            ("", "INFO_JSON_EMPTY"),
            ("  \n", "INFO_JSON_EMPTY"),
            ("{", "INFO_JSON_INVALID"),
            ("WARNING: something", "INFO_JSON_INVALID"),
            ("[]", "INFO_JSON_NOT_OBJECT"),
            ("null", "INFO_JSON_NOT_OBJECT"),
        ] {
            assert_eq!(
                parse_info_json(text).map_err(|e| e.code()),
                Err(code),
                "{text:?}"
            );
        }
    }

    #[test]
    fn upload_dates() {
        for (text, ok) in [
            ("20190410", true),
            ("20240229", true),
            ("20230229", false),
            ("20191301", false),
            ("2019041", false),
            ("+2019041", false),
            ("２０１９０４１０", false),
        ] {
            assert_eq!(parse_upload_date(text).is_some(), ok, "{text}");
        }
    }

    #[test]
    fn safe_titles() {
        for (title, expected) in [
            (
                r#"Test Video: "Special" Characters/And\More!"#,
                "Test_Video_Special_CharactersAndMore!",
            ),
            ("Peppa Pig: Muddy Puddles!", "Peppa_Pig_Muddy_Puddles!"),
            ("  leading and trailing  ", "_leading_and_trailing_"),
            ("tabs\tand\nnew\r\nlines", "tabs_and_new_lines"),
            ("Grüße aus Köln – 東京", "Grüße_aus_Köln_–_東京"),
            ("a<b>c|d?e*f", "abcdef"),
            ("nul\0byte\u{7f}del\u{1b}c1", "nulbytedelc1"),
            ("next\u{85}line", "next_line"),
            ("", "Unknown_Title"),
            ("   ", "_"),
            ("???", "Unknown_Title"),
            (".", "Unknown_Title"),
            ("..", "Unknown_Title"),
            ("../../etc/passwd", "etcpasswd"),
            (".hidden", "hidden"),
            ("-o/tmp/x", "otmpx"),
            ("--exec=id", "exec=id"),
            ("-.-.x", "x"),
            ("Unknown Title", "Unknown_Title"),
        ] {
            assert_eq!(safe_title(title), expected, "{title:?}");
        }
    }

    #[test]
    fn safe_titles_are_cut() {
        let ascii = "a".repeat(300);
        assert_eq!(safe_title(&ascii), "a".repeat(200));
        let wide = "東".repeat(100);
        let cut = safe_title(&wide);
        assert_eq!(cut.chars().count(), 66);
        assert!(cut.len() <= 200);
        let mixed = format!("{}é", "a".repeat(199));
        assert_eq!(safe_title(&mixed), "a".repeat(199));
    }

    #[test]
    fn safe_titles_never_unsafe() {
        let samples = [
            "\u{0}",
            "/",
            "\\..",
            " . ",
            "-",
            "\u{202e}evil",
            "a/../b",
            "\u{feff}x",
            "\t-x",
        ];
        for title in samples {
            let safe = safe_title(title);
            assert!(
                !safe.is_empty() && safe != "." && safe != "..",
                "{title:?} -> {safe:?}"
            );
            assert!(!safe.starts_with(['-', '.']), "{title:?} -> {safe:?}");
            assert!(
                !safe
                    .chars()
                    .any(|c| c.is_control() || c == '/' || c == '\\'),
                "{title:?} -> {safe:?}"
            );
        }
    }
}

//! Classifies yt-dlp's error output into the original's user-facing codes, messages and
//! suggestions (original §3.7), plus `FILE_TOO_LARGE` for the `--max-filesize` abort.

use sofathek_codes::Code;
/// A classified yt-dlp failure: a stable code and the original's user-facing texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YtDlpFailure {
    /// Stable error code (`AGE_RESTRICTED`, ..., `DOWNLOAD_FAILED`).
    pub code: Code,
    /// What went wrong, for the user.
    pub message: &'static str,
    /// What the user can do about it.
    pub suggestion: &'static str,
}

impl YtDlpFailure {
    /// The text the original put into the job's `error`: message and suggestion joined by a space.
    pub fn user_text(&self) -> String {
        format!("{} {}", self.message, self.suggestion)
    }
}

/// One rule: it matches when any of its alternatives matches, and an alternative matches when
/// all of its (lower-case) substrings occur.
struct Rule {
    /// The outcome when the rule matches.
    failure: YtDlpFailure,
    /// Alternatives of substrings that must all occur.
    triggers: &'static [&'static [&'static str]],
}

/// What yt-dlp prints (on stdout, exit status 0) when `--max-filesize` stops a download.
const MAX_FILESIZE_ABORT: &str = "file is larger than max-filesize";

/// The rules in order; the first match wins.
const RULES: &[Rule] = &[
    Rule {
        failure: FILE_TOO_LARGE,
        triggers: &[&[MAX_FILESIZE_ABORT]],
    },
    Rule {
        failure: YtDlpFailure {
            code: Code::AgeRestricted,
            message: "This video is age-restricted and cannot be downloaded.",
            suggestion: "Try a different video or access it directly on YouTube.",
        },
        triggers: &[&["age-restricted"], &["age limit"]],
    },
    Rule {
        failure: YtDlpFailure {
            code: Code::RegionBlocked,
            message: "This video is not available in your region.",
            suggestion: "Try a different video that is available in your country.",
        },
        triggers: &[
            &["geographic restriction"],
            &["available in your country"],
            &["this video is not available", "country"],
        ],
    },
    Rule {
        failure: YtDlpFailure {
            code: Code::LoginRequired,
            message: "This video requires you to be signed in to YouTube.",
            suggestion: "Try a different video or make sure you are signed in.",
        },
        triggers: &[&["login required"], &["sign in to confirm"]],
    },
    Rule {
        failure: YtDlpFailure {
            code: Code::RateLimited,
            message: "The video service is temporarily rate-limiting requests.",
            suggestion: "Please wait a moment and try again.",
        },
        triggers: &[&["http error 429"], &["too many requests"]],
    },
    Rule {
        failure: YtDlpFailure {
            code: Code::NetworkError,
            message: "Could not connect to the video service.",
            suggestion: "Please check your internet connection and try again.",
        },
        triggers: &[
            &["http error 503"],
            &["http error 502"],
            &["http error 500"],
            &["connection error"],
            &["timed out"],
        ],
    },
    Rule {
        failure: YtDlpFailure {
            code: Code::VideoUnavailable,
            message: "This video is not available. It may have been deleted or made private.",
            suggestion: "Please check the video URL and try a different video.",
        },
        triggers: &[
            &["video unavailable"],
            &["is not available"],
            &["http error"],
        ],
    },
];

/// The download is bigger than the configured limit: yt-dlp's `--max-filesize` abort, or the
/// pipeline's own check of the bytes downloaded (needed for HLS/DASH, where yt-dlp checks
/// each fragment only).
pub const FILE_TOO_LARGE: YtDlpFailure = YtDlpFailure {
    code: Code::FileTooLarge,
    message: "This video is larger than the maximum allowed download size.",
    suggestion: "Try a shorter video or ask to raise the download size limit.",
};

/// The outcome when no rule matches (also for empty output).
pub const DOWNLOAD_FAILED: YtDlpFailure = YtDlpFailure {
    code: Code::DownloadFailed,
    message: "Could not download this video.",
    suggestion: "Please check the URL and try again.",
};

/// Classifies yt-dlp's output: case-insensitive substring rules, first match wins.
///
/// Pass stderr; also pass the stdout line recognised by [`is_max_filesize_abort`], because
/// yt-dlp reports that abort on stdout and still exits 0.
pub fn classify(stderr: &str) -> YtDlpFailure {
    let lower = stderr.to_lowercase();
    RULES
        .iter()
        .find(|rule| {
            rule.triggers
                .iter()
                .any(|all| all.iter().all(|needle| lower.contains(needle)))
        })
        .map_or(DOWNLOAD_FAILED, |rule| rule.failure)
}

/// Whether a line of yt-dlp output reports that `--max-filesize` stopped the download
/// (`[download] File is larger than max-filesize (N bytes > M bytes). Aborting.`).
pub fn is_max_filesize_abort(line: &str) -> bool {
    line.to_lowercase().contains(MAX_FILESIZE_ABORT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(stderr: &str, code: &str) {
        assert_eq!(classify(stderr).code, code, "{stderr:?}");
    }

    #[test]
    fn one_row_per_rule() {
        for (stderr, code) in [
            (
                "[download] File is larger than max-filesize (80823 bytes > 1000 bytes). Aborting.",
                "FILE_TOO_LARGE",
            ),
            (
                "ERROR: [youtube] abc: Sign in to confirm your age. This video may be inappropriate for some users. age-restricted",
                "AGE_RESTRICTED",
            ),
            (
                "ERROR: [youtube] abc: This video is AGE-RESTRICTED",
                "AGE_RESTRICTED",
            ),
            ("ERROR: Video exceeds the age limit", "AGE_RESTRICTED"),
            (
                "ERROR: [Vimeo] 123: This video is blocked due to a geographic restriction",
                "REGION_BLOCKED",
            ),
            (
                "ERROR: [youtube] abc: The uploader has not made this video available in your country",
                "REGION_BLOCKED",
            ),
            (
                "ERROR: This video is not available from your location (country: DE)",
                "REGION_BLOCKED",
            ),
            (
                "ERROR: [instagram] x: Login required to access this post",
                "LOGIN_REQUIRED",
            ),
            (
                "ERROR: [youtube] abc: Sign in to confirm you’re not a bot. Use --cookies-from-browser",
                "LOGIN_REQUIRED",
            ),
            (
                "ERROR: unable to download video data: HTTP Error 429: Too Many Requests",
                "RATE_LIMITED",
            ),
            ("ERROR: too many requests", "RATE_LIMITED"),
            (
                "ERROR: unable to download webpage: HTTP Error 503: Service Unavailable",
                "NETWORK_ERROR",
            ),
            ("ERROR: HTTP Error 502: Bad Gateway", "NETWORK_ERROR"),
            (
                "ERROR: HTTP Error 500: Internal Server Error",
                "NETWORK_ERROR",
            ),
            (
                "ERROR: [generic] Unable to download webpage: <urlopen error [Errno 111] Connection refused> (caused by TransportError('Connection error'))",
                "NETWORK_ERROR",
            ),
            (
                "ERROR: [generic] Unable to download webpage: The read operation timed out",
                "NETWORK_ERROR",
            ),
            (
                "ERROR: [youtube] abc: Video unavailable. This video has been removed by the uploader",
                "VIDEO_UNAVAILABLE",
            ),
            (
                "ERROR: [youtube] abc: This video is not available",
                "VIDEO_UNAVAILABLE",
            ),
            (
                "ERROR: [generic] Unable to download webpage: HTTP Error 404: Not Found (caused by <HTTPError 404: Not Found>)",
                "VIDEO_UNAVAILABLE",
            ),
            ("ERROR: HTTP Error 403: Forbidden", "VIDEO_UNAVAILABLE"),
            (
                "ERROR: Unsupported URL: https://example.com/",
                "DOWNLOAD_FAILED",
            ),
            ("", "DOWNLOAD_FAILED"),
            ("\u{0}\u{ffff} garbage", "DOWNLOAD_FAILED"),
        ] {
            check(stderr, code);
        }
    }

    #[test]
    fn first_match_wins() {
        // Age beats region; region (with "country") beats the generic "is not available".
        check("age limit; not available in your country", "AGE_RESTRICTED");
        check(
            "this video is not available in this country",
            "REGION_BLOCKED",
        );
        // 429 beats the generic HTTP error; 5xx beats it too.
        check("HTTP Error 429 ... HTTP Error 404", "RATE_LIMITED");
        check("HTTP Error 404 then HTTP Error 503", "NETWORK_ERROR");
    }

    #[test]
    fn texts_are_the_original_ones() {
        let f = classify("HTTP Error 404: Not Found");
        assert_eq!(
            f.message,
            "This video is not available. It may have been deleted or made private."
        );
        assert_eq!(
            f.suggestion,
            "Please check the video URL and try a different video."
        );
        assert_eq!(
            classify("").user_text(),
            "Could not download this video. Please check the URL and try again."
        );
    }

    #[test]
    fn max_filesize_line() {
        assert!(is_max_filesize_abort(
            "\r[download] File is larger than max-filesize (80823 bytes > 1000 bytes). Aborting."
        ));
        assert!(!is_max_filesize_abort("[download] Destination: media.mp4"));
    }
}

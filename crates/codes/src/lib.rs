//! Every stable error code SOFATHEK gives a client — in the API's error envelope
//! (`{"status":"error","message",…,"code"}`), on a failed job (`error.code`) and on a source
//! whose check failed (`lastError.code`) — as one enum, so a code is written once and the
//! OpenAPI document can list them all. The lowest crate of the workspace: the URL policy
//! (`sofathek-core`), yt-dlp's error classes (`sofathek-ytdlp`), the pipeline and the HTTP
//! layer all name their codes here.

use std::fmt;

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident => $text:literal,)*) => {
        /// A stable error code; [`Code::as_str`] is what clients see.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($(#[$doc])* $name,)*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &[Code] = &[$(Code::$name,)*];

            /// The code as clients see it (`"URL_REQUIRED"`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$name => $text,)*
                }
            }
        }
    };
}

codes! {
    /// The request is malformed.
    BadRequest => "BAD_REQUEST",
    /// No such thing (route, video, job, profile, …).
    NotFound => "NOT_FOUND",
    /// The thing's state does not allow the action.
    Conflict => "CONFLICT",
    /// Not allowed.
    Forbidden => "FORBIDDEN",
    /// Something went wrong on the server (the cause is logged, never sent).
    Internal => "INTERNAL",
    /// The route exists, the method does not.
    MethodNotAllowed => "METHOD_NOT_ALLOWED",
    /// The body is over the limit.
    PayloadTooLarge => "PAYLOAD_TOO_LARGE",
    /// Wrong content type, or an upload that is no video.
    UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
    /// Free space is below SOFATHEK_MIN_FREE_BYTES.
    InsufficientStorage => "INSUFFICIENT_STORAGE",
    /// Too many submissions (API), or the site refused (job).
    RateLimited => "RATE_LIMITED",
    /// If-Match / If-Unmodified-Since failed.
    PreconditionFailed => "PRECONDITION_FAILED",
    /// The Range lies outside the file.
    RangeNotSatisfiable => "RANGE_NOT_SATISFIABLE",
    /// The Range header is malformed.
    InvalidRange => "INVALID_RANGE",
    /// The JSON body is malformed or of the wrong shape.
    InvalidJson => "INVALID_JSON",
    /// The body could not be read.
    BodyRejected => "BODY_REJECTED",
    /// An extractor refused the request for another reason (a plain-text rejection).
    Rejected => "REJECTED",
    /// A file name leads outside the library.
    InvalidPath => "INVALID_PATH",
    /// A file name is not a single, valid component.
    InvalidFilename => "INVALID_FILENAME",
    /// A file name's extension is not allowed on this route.
    InvalidFileType => "INVALID_FILE_TYPE",
    /// No file name given.
    FilenameRequired => "FILENAME_REQUIRED",
    /// A thumbnail is over THUMBNAIL_MAX_SIZE.
    ThumbnailTooLarge => "THUMBNAIL_TOO_LARGE",
    /// The category does not exist.
    UnknownCategory => "UNKNOWN_CATEGORY",
    /// A title is empty or too long.
    InvalidTitle => "INVALID_TITLE",
    /// The clean-up age is not a number of hours ≥ 0.
    InvalidMaxAge => "INVALID_MAX_AGE",
    /// No URL given.
    UrlRequired => "URL_REQUIRED",
    /// The URL is empty.
    UrlEmpty => "URL_EMPTY",
    /// The URL is longer than 2000 characters.
    UrlTooLong => "URL_TOO_LONG",
    /// The URL contains a control character.
    UrlControlCharacter => "URL_CONTROL_CHARACTER",
    /// The URL starts with `-`.
    UrlLooksLikeOption => "URL_LOOKS_LIKE_OPTION",
    /// The URL cannot be parsed.
    UrlMalformed => "URL_MALFORMED",
    /// Only http and https.
    UrlUnsupportedScheme => "URL_UNSUPPORTED_SCHEME",
    /// The URL has no host.
    UrlMissingHost => "URL_MISSING_HOST",
    /// The URL names this machine.
    UrlLocalHost => "URL_LOCAL_HOST",
    /// The host resolves to a private address.
    UrlForbiddenAddress => "URL_FORBIDDEN_ADDRESS",
    /// The host does not resolve.
    UrlUnresolvableHost => "URL_UNRESOLVABLE_HOST",
    /// The content policy refuses the video.
    VideoBlockedByPolicy => "VIDEO_BLOCKED_BY_POLICY",
    /// The multipart upload is malformed.
    BadUpload => "BAD_UPLOAD",
    /// The upload has no `video` file.
    MissingFile => "MISSING_FILE",
    /// An upload's or import's source file is gone.
    SourceMissing => "SOURCE_MISSING",
    /// A download could not be cancelled.
    CancelFailed => "CANCEL_FAILED",
    /// No (valid) credentials.
    AuthRequired => "AUTH_REQUIRED",
    /// The credentials are not valid (any more).
    InvalidCredentials => "INVALID_CREDENTIALS",
    /// Only a parent may do this.
    ParentRequired => "PARENT_REQUIRED",
    /// A profile must be picked (API tokens have none).
    ProfileRequired => "PROFILE_REQUIRED",
    /// No parent password yet: nothing can be changed.
    SetupRequired => "SETUP_REQUIRED",
    /// A cross-site request.
    CrossSite => "CROSS_SITE",
    /// The CSRF token is missing or wrong.
    CsrfFailed => "CSRF_FAILED",
    /// The first-run setup is done already.
    AlreadySetUp => "ALREADY_SET_UP",
    /// A parent signs in with the password.
    PasswordRequired => "PASSWORD_REQUIRED",
    /// The new password is too short or malformed.
    WeakPassword => "WEAK_PASSWORD",
    /// The password is wrong.
    WrongPassword => "WRONG_PASSWORD",
    /// Too many failed sign-ins; wait.
    TooManyAttempts => "TOO_MANY_ATTEMPTS",
    /// A source's settings are not valid.
    InvalidSource => "INVALID_SOURCE",
    /// The URL is already followed.
    SourceExists => "SOURCE_EXISTS",
    /// No such source.
    SourceNotFound => "SOURCE_NOT_FOUND",
    /// An entry is not waiting for approval.
    EntryNotFound => "ENTRY_NOT_FOUND",
    /// A database error (internal).
    Database => "DATABASE",
    /// A file-system error (internal).
    Io => "IO",
    /// The video is age-restricted.
    AgeRestricted => "AGE_RESTRICTED",
    /// The video is not available in this country.
    RegionBlocked => "REGION_BLOCKED",
    /// The video needs a sign-in.
    LoginRequired => "LOGIN_REQUIRED",
    /// The site could not be reached.
    NetworkError => "NETWORK_ERROR",
    /// The video is private, removed or unavailable.
    VideoUnavailable => "VIDEO_UNAVAILABLE",
    /// yt-dlp failed for another reason.
    DownloadFailed => "DOWNLOAD_FAILED",
    /// The download is over SOFATHEK_MAX_DOWNLOAD_BYTES.
    FileTooLarge => "FILE_TOO_LARGE",
    /// The disk filled up during the job.
    DiskFull => "DISK_FULL",
    /// The file is not a video ffprobe can read.
    NotMedia => "NOT_MEDIA",
    /// ffmpeg failed.
    ConversionFailed => "CONVERSION_FAILED",
    /// A step took too long.
    Timeout => "TIMEOUT",
    /// ffmpeg, ffprobe or yt-dlp is missing.
    ToolMissing => "TOOL_MISSING",
    /// A download tried to reach a private address (egress guard).
    PrivateAddress => "PRIVATE_ADDRESS",
    /// A download went over the egress guard's limits.
    EgressLimit => "EGRESS_LIMIT",
    /// An imported queue item had not finished in the original.
    NotFinished => "NOT_FINISHED",
    /// A source's URL is a single video, not a list.
    SourceNotAList => "SOURCE_NOT_A_LIST",
    /// yt-dlp's listing of a source could not be read.
    SourceListFailed => "SOURCE_LIST_FAILED",
    /// The egress guard is not available.
    Egress => "EGRESS",
    /// The work was cancelled (the server is stopping).
    Cancelled => "CANCELLED",
}

impl Code {
    /// The code whose text is `text`, if there is one.
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == text)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Code> for String {
    fn from(code: Code) -> String {
        code.as_str().to_owned()
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Code {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Code> for String {
    fn eq(&self, other: &Code) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Code> for &str {
    fn eq(&self, other: &Code) -> bool {
        *self == other.as_str()
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_screaming_snake_case_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                    && !text.starts_with('_')
                    && !text.ends_with('_'),
                "{text}"
            );
            assert_eq!(Code::parse(text), Some(*code));
        }
        assert_eq!(Code::parse("NOPE"), None);
        assert_eq!(Code::UrlRequired, "URL_REQUIRED");
        assert_eq!(
            serde_json::to_string(&Code::DiskFull).ok().as_deref(),
            Some("\"DISK_FULL\"")
        );
    }
}

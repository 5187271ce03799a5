//! Errors of the ingest pipeline: [`IngestError`] for requests (queueing, cancelling, uploads),
//! [`Failure`] for a job run that did not complete, with the user-facing texts stored on the job.
//! The HTTP status of a refusal is decided by the server (`sofathek_server::error`), not here.

use std::fmt;

use sofathek_codes::Code;
use sofathek_core::urlpolicy::UrlPolicyError;
use sofathek_db::DbError;
use sofathek_db::jobs::{JobError, JobState};
use sofathek_process::ProcessError;
use sofathek_ytdlp::errors::YtDlpFailure;
use sofathek_ytdlp::policy::PolicyViolation;

/// Why a request to the queue was refused.
#[derive(Debug)]
pub enum IngestError {
    /// No URL in the request.
    UrlRequired,
    /// The URL policy refused the URL.
    InvalidUrl(UrlPolicyError),
    /// The URL policy refused a source's URL (worded for a channel, playlist or feed).
    InvalidSourceUrl(UrlPolicyError),
    /// The content policy refused the video (pre-flight).
    Blocked(PolicyViolation),
    /// Free space is below `SOFATHEK_MIN_FREE_BYTES`.
    LowDisk {
        free: u64,
        needed: u64,
    },
    /// Too many submissions from this client; retry after this many seconds.
    RateLimited {
        retry_after: u64,
    },
    /// The category does not exist.
    UnknownCategory(String),
    /// The title is empty or longer than 300 characters.
    InvalidTitle,
    /// No such job.
    NotFound,
    /// The job's state does not allow the action.
    WrongState(JobState),
    /// An upload job cannot be retried: its received file is gone.
    SourceGone,
    /// The upload is larger than `SOFATHEK_MAX_UPLOAD_BYTES`.
    TooLarge {
        limit: u64,
    },
    /// The upload is not a video ffprobe can read.
    NotMedia,
    /// The multipart body has no `video` file.
    MissingFile,
    /// The multipart body is malformed (or a field is not what it should be).
    BadUpload(String),
    /// A tool needed to take the request is missing.
    ToolMissing(ProcessError),
    /// A source's settings are not valid (the message says which and why).
    InvalidSource(String),
    /// The URL is already followed (by the source with this id).
    SourceExists(String),
    /// No such source.
    SourceNotFound,
    /// No such pending entry (or it was decided already).
    EntryNotFound(i64),
    Db(DbError),
    Io(std::io::Error),
}

impl IngestError {
    /// A stable code string.
    pub fn code(&self) -> Code {
        match self {
            IngestError::UrlRequired => Code::UrlRequired,
            // A missing source URL is `URL_REQUIRED`, as a missing video URL is.
            IngestError::InvalidSourceUrl(UrlPolicyError::Empty) => Code::UrlRequired,
            IngestError::InvalidUrl(err) | IngestError::InvalidSourceUrl(err) => err.code(),
            IngestError::Blocked(_) => sofathek_ytdlp::policy::VIOLATION_CODE,
            IngestError::LowDisk { .. } => Code::InsufficientStorage,
            IngestError::RateLimited { .. } => Code::RateLimited,
            IngestError::UnknownCategory(_) => Code::UnknownCategory,
            IngestError::InvalidTitle => Code::InvalidTitle,
            IngestError::NotFound => Code::NotFound,
            IngestError::WrongState(_) => Code::Conflict,
            IngestError::SourceGone => Code::SourceMissing,
            IngestError::TooLarge { .. } => Code::PayloadTooLarge,
            IngestError::NotMedia => Code::UnsupportedMediaType,
            IngestError::MissingFile => Code::MissingFile,
            IngestError::BadUpload(_) => Code::BadUpload,
            IngestError::ToolMissing(_) => Code::ToolMissing,
            IngestError::InvalidSource(_) => Code::InvalidSource,
            IngestError::SourceExists(_) => Code::SourceExists,
            IngestError::SourceNotFound => Code::SourceNotFound,
            IngestError::EntryNotFound(_) => Code::EntryNotFound,
            IngestError::Db(_) => Code::Database,
            IngestError::Io(_) => Code::Io,
        }
    }

    /// The message for the client (the original's texts where it had them).
    pub fn client_message(&self) -> String {
        match self {
            IngestError::UrlRequired => "Video URL is required".into(),
            IngestError::InvalidUrl(err) => err.api_message().into(),
            IngestError::InvalidSourceUrl(err) => err.source_message(),
            IngestError::Blocked(violation) => violation.message.clone(),
            IngestError::LowDisk { free, needed } => format!(
                "Not enough free disk space: {} MiB free, at least {} MiB needed",
                free >> 20,
                needed >> 20
            ),
            IngestError::RateLimited { retry_after } => {
                format!("Rate limit exceeded. Try again in {retry_after} seconds.")
            }
            IngestError::UnknownCategory(slug) => {
                format!("Unknown category '{slug}' (see GET /api/categories)")
            }
            IngestError::InvalidTitle => "Title must be 1 to 300 characters".into(),
            IngestError::NotFound => "Job not found".into(),
            IngestError::WrongState(state) => format!("Job is {}", state.as_str()),
            IngestError::SourceGone => {
                "The uploaded file is no longer available; upload it again".into()
            }
            IngestError::TooLarge { limit } => {
                format!("File too large: the limit is {limit} bytes (SOFATHEK_MAX_UPLOAD_BYTES)")
            }
            IngestError::NotMedia => {
                "The file is not a video or audio file that can be read".into()
            }
            IngestError::MissingFile => "Multipart field 'video' with the file is required".into(),
            IngestError::BadUpload(why) => format!("Invalid upload: {why}"),
            IngestError::ToolMissing(err) => format!("Service unavailable: {err}"),
            IngestError::InvalidSource(why) => why.clone(),
            IngestError::SourceExists(_) => "This address is already followed".into(),
            IngestError::SourceNotFound => "Source not found".into(),
            IngestError::EntryNotFound(id) => {
                format!("Entry {id} is not waiting for approval (it does not exist or was decided)")
            }
            IngestError::Db(_) | IngestError::Io(_) => "Something went wrong!".into(),
        }
    }
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IngestError::UrlRequired => f.write_str("no url given"),
            IngestError::InvalidUrl(err) => write!(f, "url refused: {err}"),
            IngestError::InvalidSourceUrl(err) => write!(f, "source url refused: {err}"),
            IngestError::Blocked(v) => write!(
                f,
                "blocked by the content policy ({} '{}')",
                v.reason.as_str(),
                v.matched
            ),
            IngestError::LowDisk { free, needed } => {
                write!(f, "low disk space: {free} bytes free, {needed} needed")
            }
            IngestError::RateLimited { retry_after } => {
                write!(f, "rate limited for {retry_after} s")
            }
            IngestError::UnknownCategory(slug) => write!(f, "unknown category '{slug}'"),
            IngestError::InvalidTitle => f.write_str("invalid title"),
            IngestError::NotFound => f.write_str("job not found"),
            IngestError::WrongState(state) => write!(f, "job is {}", state.as_str()),
            IngestError::SourceGone => f.write_str("the upload's received file is gone"),
            IngestError::TooLarge { limit } => write!(f, "upload larger than {limit} bytes"),
            IngestError::NotMedia => f.write_str("upload is not media"),
            IngestError::MissingFile => f.write_str("upload has no video field"),
            IngestError::BadUpload(why) => write!(f, "bad upload: {why}"),
            IngestError::ToolMissing(err) => write!(f, "{err}"),
            IngestError::InvalidSource(why) => write!(f, "invalid source: {why}"),
            IngestError::SourceExists(id) => write!(f, "already followed by source {id}"),
            IngestError::SourceNotFound => f.write_str("source not found"),
            IngestError::EntryNotFound(id) => write!(f, "entry {id} is not pending"),
            IngestError::Db(err) => write!(f, "{err}"),
            IngestError::Io(err) => write!(f, "i/o error: {err}"),
        }
    }
}

impl std::error::Error for IngestError {}

impl From<DbError> for IngestError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::NotFound => IngestError::NotFound,
            other => IngestError::Db(other),
        }
    }
}

impl From<std::io::Error> for IngestError {
    fn from(err: std::io::Error) -> Self {
        IngestError::Io(err)
    }
}

/// Why a job run did not complete.
#[derive(Debug)]
pub enum Failure {
    /// The user (or shutdown) cancelled it.
    Cancelled,
    /// It failed; the error is stored on the job, `detail` only logged.
    Failed { error: JobError, detail: String },
}

impl Failure {
    fn new(code: Code, message: &str, suggestion: &str, detail: impl fmt::Display) -> Failure {
        Failure::Failed {
            error: JobError {
                code: code.into(),
                message: message.into(),
                suggestion: suggestion.into(),
            },
            detail: detail.to_string(),
        }
    }

    /// A classified yt-dlp failure.
    pub fn ytdlp(failure: YtDlpFailure, detail: impl fmt::Display) -> Failure {
        Failure::new(failure.code, failure.message, failure.suggestion, detail)
    }

    /// The content policy refused the video.
    pub fn blocked(violation: &PolicyViolation) -> Failure {
        Failure::new(
            sofathek_ytdlp::policy::VIOLATION_CODE,
            &violation.message,
            "Choose a different video.",
            format!("{} '{}'", violation.reason.as_str(), violation.matched),
        )
    }

    /// The disk filled up.
    pub fn disk_full(detail: impl fmt::Display) -> Failure {
        Failure::new(
            Code::DiskFull,
            "The server ran out of disk space.",
            "Free some space (or delete videos), then retry.",
            detail,
        )
    }

    /// The input is not something ffmpeg can turn into a video.
    pub fn not_media(detail: impl fmt::Display) -> Failure {
        Failure::new(
            Code::NotMedia,
            "The file is not a video that can be played.",
            "Check the file and try a different one.",
            detail,
        )
    }

    /// ffmpeg could not convert the video.
    pub fn conversion(detail: impl fmt::Display) -> Failure {
        Failure::new(
            Code::ConversionFailed,
            "Could not make this video playable in the browser.",
            "The file may be damaged; try a different file.",
            detail,
        )
    }

    /// An uploaded file is gone (its job was re-run after it was removed).
    pub fn source_missing(detail: impl fmt::Display) -> Failure {
        Failure::new(
            Code::SourceMissing,
            "The uploaded file is no longer available.",
            "Upload the file again.",
            detail,
        )
    }

    /// Anything unexpected on the server's side.
    pub fn internal(detail: impl fmt::Display) -> Failure {
        Failure::new(
            Code::Internal,
            "Something went wrong while adding the video.",
            "Please try again.",
            detail,
        )
    }

    /// A child process failed: missing tool, timeout, cancellation, disk full; `otherwise`
    /// makes the failure for an unsuccessful exit.
    pub fn process(err: ProcessError, otherwise: impl FnOnce(ProcessError) -> Failure) -> Failure {
        match err {
            ProcessError::Cancelled { .. } => Failure::Cancelled,
            ProcessError::NotFound { .. } | ProcessError::PermissionDenied { .. } => Failure::new(
                Code::ToolMissing,
                "A tool the server needs is not available.",
                "Ask the administrator to check the health page.",
                err,
            ),
            ProcessError::Timeout { .. } => Failure::new(
                Code::Timeout,
                "Processing this video took too long.",
                "Try again later or try a shorter video.",
                err,
            ),
            ref other if other.stderr_tail().is_some_and(mentions_disk_full) => {
                Failure::disk_full(err)
            }
            other => otherwise(other),
        }
    }
}

/// Whether tool output reports a full disk.
pub fn mentions_disk_full(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("no space left on device") || lower.contains("disk quota exceeded")
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Cancelled => f.write_str("cancelled"),
            Failure::Failed { error, detail } => write!(f, "{}: {detail}", error.code),
        }
    }
}

impl From<sofathek_db::DbError> for Failure {
    fn from(err: sofathek_db::DbError) -> Self {
        Failure::internal(err)
    }
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Self {
        if err.raw_os_error() == Some(rustix::io::Errno::NOSPC.raw_os_error()) {
            Failure::disk_full(err)
        } else {
            Failure::internal(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_messages() {
        // The HTTP status of each refusal is the server's (`sofathek_server::error` tests it).
        assert_eq!(IngestError::UrlRequired.code(), "URL_REQUIRED");
        assert_eq!(
            IngestError::InvalidUrl(UrlPolicyError::LooksLikeOption).code(),
            "URL_LOOKS_LIKE_OPTION"
        );
        assert_eq!(
            IngestError::UrlRequired.client_message(),
            "Video URL is required"
        );
        assert_eq!(
            IngestError::RateLimited { retry_after: 7 }.client_message(),
            "Rate limit exceeded. Try again in 7 seconds."
        );
    }

    #[test]
    fn disk_full_is_recognised() {
        assert!(mentions_disk_full(
            "av_interleaved_write_frame(): No space left on device"
        ));
        assert!(!mentions_disk_full("HTTP Error 404"));
        let err = std::io::Error::from_raw_os_error(rustix::io::Errno::NOSPC.raw_os_error());
        assert!(
            matches!(Failure::from(err), Failure::Failed { error, .. } if error.code == "DISK_FULL")
        );
    }
}

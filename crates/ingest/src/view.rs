//! JSON representations of jobs — the job API's shape and the original download queue's item
//! shape (original §1.6), both built from a [`JobRecord`] — and of sources and their entries.

use serde_json::Value;

use serde::Serialize;
use sofathek_db::jobs::{JobCounts, JobError, JobKind, JobRecord, JobSource, JobState, Stage};
use sofathek_db::sources::{Approval, EntryRecord, SourceRecord};

/// A job as `/api/jobs` and the `job` SSE event show it (the OpenAPI document's `JobView`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    pub id: String,
    pub kind: JobKind,
    pub state: JobState,
    /// What a running job does now (`null` before it starts).
    pub stage: Option<Stage>,
    /// Overall progress in percent, one decimal.
    #[schema(minimum = 0, maximum = 100)]
    pub progress: f64,
    pub bytes: Option<u64>,
    pub total_bytes: Option<u64>,
    /// Bytes per second.
    pub speed: Option<f64>,
    /// Seconds left.
    pub eta: Option<u64>,
    pub error: Option<JobError>,
    pub attempts: u32,
    pub url: Option<String>,
    /// The title the user asked for, else the video's, else (uploads) the file name.
    pub title: Option<String>,
    pub category: Option<String>,
    /// An MP3 copy of the sound track is made.
    pub audio: bool,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub updated_at: String,
    /// The published video (completed jobs only).
    pub video_id: Option<String>,
    /// The followed channel, playlist or feed the job came from.
    pub source: Option<JobSource>,
}

impl JobView {
    pub fn new(job: &JobRecord) -> JobView {
        JobView {
            id: job.id.clone(),
            kind: job.kind,
            state: job.state,
            stage: job.stage,
            progress: round1(job.progress),
            bytes: job.bytes,
            total_bytes: job.total_bytes,
            speed: job.speed.map(f64::round),
            eta: job.eta,
            error: job.error.clone(),
            attempts: job.attempts,
            url: job.url.clone(),
            title: display_title(job),
            category: job.category.clone(),
            audio: job.audio,
            created_at: job.created_at.clone(),
            started_at: job.started_at.clone(),
            finished_at: job.finished_at.clone(),
            updated_at: job.updated_at.clone(),
            video_id: (job.state == JobState::Completed)
                .then(|| job.video_id.clone())
                .flatten(),
            source: job.source.clone(),
        }
    }
}

/// `GET /api/jobs`: the jobs and how many there are per state.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobView>,
    pub counts: JobCounts,
}

/// The name a source is shown with: the parent's, else the listing's title, else the URL's host.
pub fn source_name(source: &SourceRecord) -> String {
    source
        .settings
        .name
        .clone()
        .or_else(|| source.title.clone())
        .or_else(|| {
            url::Url::parse(&source.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
        })
        .unwrap_or_else(|| source.url.clone())
}

/// A source as `/api/sources` and the `source` SSE event show it (the OpenAPI document's
/// `SourceView` is derived from this type).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceView {
    pub id: String,
    pub url: String,
    /// The parent's name, else the listing's title, else the URL's host.
    pub name: String,
    pub category: Option<String>,
    #[schema(minimum = 1, maximum = 720)]
    pub interval_hours: u32,
    /// `YYYY-MM-DD`: only entries published from this day on.
    pub start_after: Option<String>,
    /// At the first check, only the latest N entries.
    #[schema(minimum = 1, maximum = 200)]
    pub start_latest: Option<u32>,
    #[schema(minimum = 1, maximum = 50)]
    pub max_per_check: u32,
    /// Comma-separated words; a title must contain one ("" = any).
    pub include: String,
    /// Comma-separated words; a title may contain none.
    pub exclude: String,
    #[schema(minimum = 1, maximum = 1440)]
    pub max_duration_minutes: Option<u32>,
    pub approval: ApprovalView,
    pub audio: bool,
    pub enabled: bool,
    pub created_at: String,
    pub updated_at: String,
    pub last_check_at: Option<String>,
    pub last_success_at: Option<String>,
    pub last_error: Option<CheckErrorView>,
    /// Consecutive failed checks.
    pub failures: u32,
    /// `null` while paused.
    pub next_check_at: Option<String>,
    /// A check runs or was asked for.
    pub checking: bool,
    pub counts: EntryCountsView,
}

/// `review`: new entries wait for a parent; `auto`: they are downloaded and published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalView {
    Review,
    Auto,
}

/// Why a source's last check failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CheckErrorView {
    pub code: String,
    pub message: String,
}

/// A source's seen entries per state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EntryCountsView {
    pub queued: u64,
    pub pending: u64,
    pub rejected: u64,
    pub skipped: u64,
}

impl SourceView {
    /// The view of `source`; `checking` when a check runs or was asked for.
    pub fn new(source: &SourceRecord, checking: bool) -> SourceView {
        let s = &source.settings;
        SourceView {
            id: source.id.clone(),
            url: source.url.clone(),
            name: source_name(source),
            category: s.category.clone(),
            interval_hours: s.interval_secs / 3600,
            start_after: s.start_after.clone(),
            start_latest: s.start_latest,
            max_per_check: s.max_per_check,
            include: s.include.clone(),
            exclude: s.exclude.clone(),
            max_duration_minutes: s.max_duration_secs.map(|secs| secs / 60),
            approval: match s.approval {
                Approval::Review => ApprovalView::Review,
                Approval::Auto => ApprovalView::Auto,
            },
            audio: s.audio,
            enabled: s.enabled,
            created_at: source.created_at.clone(),
            updated_at: source.updated_at.clone(),
            last_check_at: source.last_check_at.clone(),
            last_success_at: source.last_success_at.clone(),
            last_error: source.last_error.as_ref().map(|e| CheckErrorView {
                code: e.code.clone(),
                message: e.message.clone(),
            }),
            failures: source.failures,
            next_check_at: s.enabled.then(|| source.next_check_at.clone()),
            checking,
            counts: EntryCountsView {
                queued: source.counts.queued,
                pending: source.counts.pending,
                rejected: source.counts.rejected,
                skipped: source.counts.skipped,
            },
        }
    }
}

/// An entry of the "to approve" list (the OpenAPI document's `SourceEntryView`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceEntryView {
    pub id: i64,
    pub source_id: String,
    pub source_name: String,
    pub title: Option<String>,
    pub url: String,
    /// Seconds.
    #[schema(minimum = 0)]
    pub duration: Option<f64>,
    pub published_at: Option<String>,
    /// `/api/sources/pending/{id}/thumbnail` when a picture was fetched.
    #[schema(pattern = "^/api/sources/pending/[0-9]+/thumbnail$")]
    pub thumbnail: Option<String>,
    pub seen_at: String,
}

impl SourceEntryView {
    /// The view of `entry`; `thumbnail` when a picture was fetched for it.
    pub fn new(entry: &EntryRecord, thumbnail: bool) -> SourceEntryView {
        SourceEntryView {
            id: entry.id,
            source_id: entry.source_id.clone(),
            source_name: entry.source_name.clone(),
            title: entry.title.clone(),
            url: entry.url.clone(),
            duration: entry.duration,
            published_at: entry.published_at.clone(),
            thumbnail: thumbnail.then(|| format!("/api/sources/pending/{}/thumbnail", entry.id)),
            seen_at: entry.seen_at.clone(),
        }
    }
}

/// The title to show: the user's, else the video's, else (uploads) the file name.
pub fn display_title(job: &JobRecord) -> Option<String> {
    job.title
        .clone()
        .or_else(|| metadata_title(job))
        .or_else(|| match job.kind {
            JobKind::Upload | JobKind::Import => job.source_name.clone(),
            JobKind::Url => None,
        })
}

fn metadata_title(job: &JobRecord) -> Option<String> {
    job.metadata
        .as_ref()
        .and_then(|m| m.get("title"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn round1(value: f64) -> f64 {
    (value.clamp(0.0, 100.0) * 10.0).round() / 10.0
}

/// The original queue's status names.
pub fn original_status(state: JobState) -> &'static str {
    match state {
        JobState::Queued => "pending",
        JobState::Running => "processing",
        JobState::Completed => "completed",
        JobState::Failed => "failed",
        JobState::Cancelled => "cancelled",
    }
}

/// The original's `currentStep` text for a job.
pub fn current_step(job: &JobRecord) -> String {
    let percent = job.progress.clamp(0.0, 100.0).round();
    match (job.state, job.stage) {
        (JobState::Queued, _) => "Queued for processing".into(),
        (JobState::Running, Some(Stage::Fetching) | None) => {
            format!("Downloading video ({percent}%)")
        }
        (JobState::Running, Some(Stage::Probing)) => "Analysing video".into(),
        (JobState::Running, Some(Stage::Converting)) => format!("Converting video ({percent}%)"),
        (JobState::Running, Some(Stage::Thumbnailing)) => "Generating thumbnail".into(),
        (JobState::Running, Some(Stage::Publishing)) => "Adding to library".into(),
        (JobState::Completed, _) => "Download completed".into(),
        (JobState::Failed, _) => "Download failed".into(),
        (JobState::Cancelled, _) => "Cancelled by user".into(),
    }
}

/// The original's `error` text: message and suggestion joined by a space.
fn error_text(job: &JobRecord) -> Option<String> {
    match (&job.error, job.state) {
        (Some(e), _) if e.suggestion.is_empty() => Some(e.message.clone()),
        (Some(e), _) => Some(format!("{} {}", e.message, e.suggestion)),
        (None, JobState::Cancelled) => Some("Cancelled by user".into()),
        (None, _) => None,
    }
}

/// A queue item as the original stored it (`GET /api/youtube/download/:id/status` data, without
/// the diagnostics): `id, request{url, title?, requestedAt, requestId, metadata?}, status,
/// progress, currentStep, error?, errorCode?, queuedAt, startedAt?, completedAt?, result?`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueItem {
    pub id: String,
    pub request: QueueRequest,
    /// `pending`, `processing`, `completed`, `failed` or `cancelled`.
    #[schema(pattern = "^(pending|processing|completed|failed|cancelled)$")]
    pub status: &'static str,
    /// Percent, rounded.
    #[schema(minimum = 0, maximum = 100)]
    pub progress: u64,
    pub current_step: String,
    /// The message and what to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    pub queued_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// Once the download ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<QueueResult>,
}

/// What was asked for.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueRequest {
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub requested_at: String,
    pub request_id: String,
    /// What is known about the video (as yt-dlp reports it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// How a download ended.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueResult {
    /// The video's id (completed downloads).
    pub id: Option<String>,
    /// `success`, `cancelled` or `error`.
    #[schema(pattern = "^(success|cancelled|error)$")]
    pub status: &'static str,
    pub metadata: Option<Value>,
    pub error: Option<String>,
    pub completed_at: Option<String>,
    pub started_at: Option<String>,
}

impl QueueItem {
    pub fn new(job: &JobRecord) -> QueueItem {
        let finished = job.state.is_final();
        QueueItem {
            id: job.id.clone(),
            request: QueueRequest {
                url: job.url.clone(),
                title: job.title.clone(),
                requested_at: job.created_at.clone(),
                request_id: job.request_id.clone(),
                metadata: job.metadata.clone(),
            },
            status: original_status(job.state),
            progress: job.progress.clamp(0.0, 100.0).round() as u64,
            current_step: current_step(job),
            error: error_text(job),
            error_code: job.error.as_ref().map(|e| e.code.clone()),
            queued_at: job.created_at.clone(),
            started_at: job.started_at.clone(),
            completed_at: job.finished_at.clone().filter(|_| finished),
            result: finished.then(|| QueueResult {
                id: (job.state == JobState::Completed)
                    .then(|| job.video_id.clone())
                    .flatten(),
                status: match job.state {
                    JobState::Completed => "success",
                    JobState::Cancelled => "cancelled",
                    _ => "error",
                },
                metadata: job.metadata.clone(),
                error: error_text(job),
                completed_at: job.finished_at.clone(),
                started_at: job.started_at.clone(),
            }),
        }
    }
}

/// A queue item as `GET /api/youtube/queue` lists it: [`QueueItem`] plus top-level `url` and
/// `title` (the request's title, else the video's, else the URL).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueueListingItem {
    #[serde(flatten)]
    pub item: QueueItem,
    pub url: Option<String>,
    pub title: Option<String>,
}

impl QueueListingItem {
    pub fn new(job: &JobRecord) -> QueueListingItem {
        QueueListingItem {
            item: QueueItem::new(job),
            url: job.url.clone(),
            title: job
                .title
                .clone()
                .or_else(|| metadata_title(job))
                .or_else(|| job.url.clone()),
        }
    }
}

/// The status route's data: [`QueueItem`] plus, for failed jobs, `diagnostics`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StatusItem {
    #[serde(flatten)]
    pub item: QueueItem,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Diagnostics>,
}

/// Where a failed download stopped.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostics {
    pub error: Option<String>,
    pub failed_at: Option<String>,
    pub request_url: Option<String>,
    /// The stage it failed in (`queued` before any).
    pub last_known_step: &'static str,
}

impl StatusItem {
    pub fn new(job: &JobRecord) -> StatusItem {
        StatusItem {
            item: QueueItem::new(job),
            diagnostics: (job.state == JobState::Failed).then(|| Diagnostics {
                error: error_text(job),
                failed_at: job.finished_at.clone(),
                request_url: job.url.clone(),
                last_known_step: job.stage.map(Stage::as_str).unwrap_or("queued"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(state: JobState) -> JobRecord {
        JobRecord {
            id: "j1".into(),
            kind: JobKind::Url,
            state,
            stage: Some(Stage::Fetching),
            progress: 42.26,
            bytes: Some(100),
            total_bytes: Some(200),
            speed: Some(10.4),
            eta: Some(9),
            error: None,
            attempts: 1,
            url: Some("https://example.com/v".into()),
            title: None,
            category: None,
            audio: false,
            source_name: None,
            source_file: None,
            metadata: None,
            request_id: "r1".into(),
            created_at: "2026-01-01T00:00:00.000Z".into(),
            started_at: Some("2026-01-01T00:00:01.000Z".into()),
            finished_at: None,
            updated_at: "2026-01-01T00:00:02.000Z".into(),
            video_id: None,
            source: None,
        }
    }

    #[test]
    fn job_shape() {
        let value = serde_json::to_value(JobView::new(&job(JobState::Running))).unwrap_or_default();
        let keys: Vec<&str> = value
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        for key in [
            "id",
            "kind",
            "state",
            "stage",
            "progress",
            "bytes",
            "totalBytes",
            "speed",
            "eta",
            "error",
            "attempts",
            "url",
            "title",
            "category",
            "audio",
            "createdAt",
            "startedAt",
            "finishedAt",
            "updatedAt",
            "videoId",
            "source",
        ] {
            assert!(keys.contains(&key), "{key} missing");
        }
        assert_eq!(keys.len(), 21);
        assert_eq!(value["source"], Value::Null, "added by hand");
        assert_eq!(value["progress"], json!(42.3));
        assert_eq!(value["stage"], json!("fetching"));
        assert_eq!(value["error"], Value::Null);
    }

    #[test]
    fn original_item_shapes() {
        let mut failed = job(JobState::Failed);
        failed.error = Some(JobError {
            code: "VIDEO_UNAVAILABLE".into(),
            message: "Gone.".into(),
            suggestion: "Try another.".into(),
        });
        failed.finished_at = Some("2026-01-01T00:00:03.000Z".into());
        let status = serde_json::to_value(StatusItem::new(&failed)).unwrap_or_default();
        assert_eq!(status["status"], json!("failed"));
        assert_eq!(status["error"], json!("Gone. Try another."));
        assert_eq!(status["errorCode"], json!("VIDEO_UNAVAILABLE"));
        assert_eq!(status["diagnostics"]["lastKnownStep"], json!("fetching"));
        assert_eq!(status["result"]["status"], json!("error"));
        assert!(status.get("url").is_none());

        let queued =
            serde_json::to_value(QueueListingItem::new(&job(JobState::Queued))).unwrap_or_default();
        assert_eq!(queued["status"], json!("pending"));
        assert_eq!(queued["currentStep"], json!("Queued for processing"));
        assert_eq!(queued["title"], json!("https://example.com/v"));
        assert!(queued.get("result").is_none());
        assert!(queued["request"].get("title").is_none());
    }
}

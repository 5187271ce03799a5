//! Progress reporting of a running job: stage changes are stored and announced at once,
//! progress within a stage at most every [`THROTTLE`] (database row and `job` SSE event).
//!
//! Progress is overall and monotonic: each stage owns a slice of 0–100 (see [`stage_range`])
//! and reports a fraction of its slice.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sofathek_db::jobs::{self, JobKind, JobRecord, ProgressUpdate, Stage};

use super::Inner;

/// Shortest time between two progress reports of one job (about four per second).
pub const THROTTLE: Duration = Duration::from_millis(250);

/// The slice of overall progress a stage covers, by kind of job.
pub fn stage_range(kind: JobKind, stage: Stage) -> (f64, f64) {
    match (kind, stage) {
        (JobKind::Url, Stage::Fetching) => (0.0, 70.0),
        (JobKind::Url, Stage::Probing) => (70.0, 72.0),
        (JobKind::Url, Stage::Converting) => (72.0, 92.0),
        (JobKind::Url, Stage::Thumbnailing) => (92.0, 96.0),
        (JobKind::Url, Stage::Publishing) => (96.0, 100.0),
        (JobKind::Upload | JobKind::Import, Stage::Fetching | Stage::Probing) => (0.0, 5.0),
        (JobKind::Upload | JobKind::Import, Stage::Converting) => (5.0, 88.0),
        (JobKind::Upload | JobKind::Import, Stage::Thumbnailing) => (88.0, 95.0),
        (JobKind::Upload | JobKind::Import, Stage::Publishing) => (95.0, 100.0),
    }
}

/// Live counters of the current stage.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counters {
    /// Fraction of the stage done, 0 to 1.
    pub fraction: Option<f64>,
    pub bytes: Option<u64>,
    pub total_bytes: Option<u64>,
    pub speed: Option<f64>,
    pub eta: Option<u64>,
}

/// Holds the live view of one running job.
pub struct Reporter {
    inner: Arc<Inner>,
    job: JobRecord,
    last_report: Option<Instant>,
    /// Whether a throttled update is waiting to be stored.
    dirty: bool,
}

impl Reporter {
    /// A reporter for a job that was just started.
    pub fn new(inner: Arc<Inner>, job: JobRecord) -> Reporter {
        Reporter {
            inner,
            job,
            last_report: None,
            dirty: false,
        }
    }

    /// The live view of the job.
    pub fn job(&self) -> &JobRecord {
        &self.job
    }

    /// Replaces the job's metadata in the live view (already stored by the caller).
    pub fn set_metadata(&mut self, metadata: serde_json::Value) {
        self.job.metadata = Some(metadata);
    }

    /// Enters `stage` at the start of its slice; stored and announced now.
    pub async fn stage(&mut self, stage: Stage) {
        let (start, _) = stage_range(self.job.kind, stage);
        self.job.stage = Some(stage);
        self.job.progress = self.job.progress.max(start);
        self.job.bytes = None;
        self.job.total_bytes = None;
        self.job.speed = None;
        self.job.eta = None;
        self.report().await;
    }

    /// Records counters of the current stage; stored and announced at most every [`THROTTLE`].
    pub async fn progress(&mut self, counters: Counters) {
        if let Some(stage) = self.job.stage {
            let (start, end) = stage_range(self.job.kind, stage);
            if let Some(fraction) = counters.fraction {
                let overall = start + (end - start) * fraction.clamp(0.0, 1.0);
                self.job.progress = self.job.progress.max(overall);
            }
        }
        self.job.bytes = counters.bytes.or(self.job.bytes);
        self.job.total_bytes = counters.total_bytes.or(self.job.total_bytes);
        self.job.speed = counters.speed;
        self.job.eta = counters.eta;
        self.dirty = true;
        if self.last_report.is_none_or(|at| at.elapsed() >= THROTTLE) {
            self.report().await;
        }
    }

    /// Stores a throttled update that has not been stored yet.
    pub async fn flush(&mut self) {
        if self.dirty {
            self.report().await;
        }
    }

    async fn report(&mut self) {
        self.dirty = false;
        self.last_report = Some(Instant::now());
        self.job.updated_at = sofathek_db::now();
        let update = ProgressUpdate {
            stage: self.job.stage,
            progress: self.job.progress,
            bytes: self.job.bytes,
            total_bytes: self.job.total_bytes,
            speed: self.job.speed,
            eta: self.job.eta,
        };
        let id = self.job.id.clone();
        match self
            .inner
            .db
            .write(move |tx| jobs::update_progress(tx, &id, &update))
            .await
        {
            Ok(true) => self.inner.emit(&self.job),
            Ok(false) => {}
            Err(err) => tracing::warn!(%err, "could not store job progress"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_everything_in_order() {
        for kind in [JobKind::Url, JobKind::Upload, JobKind::Import] {
            let stages = [
                Stage::Probing,
                Stage::Converting,
                Stage::Thumbnailing,
                Stage::Publishing,
            ];
            let mut last_end = stage_range(kind, Stage::Probing).0;
            for stage in stages {
                let (start, end) = stage_range(kind, stage);
                assert_eq!(start, last_end, "{kind:?} {stage:?}");
                assert!(end > start);
                last_end = end;
            }
            assert_eq!(last_end, 100.0);
        }
        assert_eq!(stage_range(JobKind::Url, Stage::Fetching), (0.0, 70.0));
    }
}

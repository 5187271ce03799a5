//! `/api/library/scan`: a parent asks for a library scan (files dropped into the library folder
//! are adopted or queued for conversion) and reads the last scan's report.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use crate::error::{Answer, ok, ok_with};
use crate::http::AppState;
use sofathek_ingest::Trigger;
use sofathek_ingest::adopt::ScanReport;

/// `GET /api/library/scan`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScanStatus {
    /// A scan runs now.
    pub running: bool,
    /// The last scan's report (`null` before the first).
    pub report: Option<ScanReport>,
}

/// `POST /api/library/scan`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScanStarted {
    pub message: &'static str,
    /// Always true: a scan runs or follows.
    pub running: bool,
}

/// Whether a scan runs, and the report of the last one (`null` before the first).
#[utoipa::path(get, path = "/api/library/scan", tag = "library",
    responses((status = 200, description = "whether a scan runs, and the last scan's report", body = ScanStatus)))]
pub async fn report(State(state): State<AppState>) -> Answer<ScanStatus> {
    ok(ScanStatus {
        running: state.ingest.scanning(),
        report: state.ingest.last_scan(),
    })
}

/// Starts a library scan in the background (202); when one is running, another runs right
/// after it. Read the outcome with `GET /api/library/scan`.
#[utoipa::path(post, path = "/api/library/scan", tag = "library",
    responses((status = 202, description = "a scan started, or runs after the current one", body = ScanStarted)))]
pub async fn start(State(state): State<AppState>) -> Response {
    let started = state.ingest.request_scan(Trigger::Api);
    ok_with(
        StatusCode::ACCEPTED,
        ScanStarted {
            message: if started {
                "Library scan started"
            } else {
                "A library scan is running; another follows it"
            },
            running: true,
        },
    )
}

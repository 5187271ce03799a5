//! `GET /health`, `GET /api/health` (full report) and `GET /api/health/live` (no I/O).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::health::{self, HealthReport, Status};
use crate::http::AppState;

/// The full health report; 503 only when critical.
#[utoipa::path(get, path = "/api/health", tag = "health",
    responses((status = 200, description = "healthy or degraded", body = HealthReport),
              (status = 503, description = "critical: the same report", body = HealthReport)))]
pub async fn report(State(state): State<AppState>) -> Response {
    let (status, body) = health::report(
        &state.config,
        &state.db,
        &state.layout,
        &state.tools,
        state.started,
        state.db_set_aside.as_ref(),
    )
    .await;
    let code = if status == Status::Critical {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, Json(body)).into_response()
}

/// Liveness: the process answers; touches neither disk nor database.
#[utoipa::path(get, path = "/api/health/live", tag = "health",
    responses((status = 200, description = "the process is alive", body = Liveness)))]
pub async fn live(State(state): State<AppState>) -> Json<Liveness> {
    Json(Liveness {
        status: "alive",
        uptime: state.started.elapsed().as_secs_f64(),
    })
}

/// `GET /api/health/live`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Liveness {
    /// `alive`.
    #[schema(pattern = "^alive$")]
    pub status: &'static str,
    /// Seconds since the server started.
    #[schema(minimum = 0)]
    pub uptime: f64,
}

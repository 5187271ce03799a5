//! `/api/progress`: watch progress of the signed-in profile — record a position, read one
//! video's position, and the "continue watching" and history shelves.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::videos::VideoView;
use crate::error::{Answer, ApiError, ErrorBody, ok};
use crate::http::AppState;
use crate::http::json::JsonBody;
use sofathek_codes::Code;
use sofathek_core::auth::Access;
use sofathek_db::progress::{self, Progress, Shelf};
use sofathek_db::{DbError, videos};

/// Rows per shelf.
const SHELF_LIMIT: u32 = 24;

/// A position report from the player.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgress {
    /// Seconds from the start.
    #[schema(schema_with = seconds)]
    pub position: f64,
    /// The duration the player saw, in seconds.
    #[schema(schema_with = seconds_or_null)]
    pub duration: Option<f64>,
    /// The video played to its end.
    #[serde(default)]
    pub ended: bool,
}

/// Largest position or duration accepted, in seconds (about 115 days).
const MAX_SECONDS: f64 = 1e7;

fn seconds() -> utoipa::openapi::schema::Object {
    sofathek_http::schema::number(0.0, MAX_SECONDS, false)
}

fn seconds_or_null() -> utoipa::openapi::schema::Object {
    sofathek_http::schema::number(0.0, MAX_SECONDS, true)
}

fn profile_id(access: &Access) -> Result<i64, ApiError> {
    access.profile().map(|p| p.id).ok_or_else(|| {
        ApiError::bad_request("Watch progress is kept per profile: API tokens have none")
            .with_code(Code::ProfileRequired)
    })
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Video with id '{id}' not found"))
}

/// A profile's position in a video.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProgressView {
    pub video_id: String,
    /// Seconds from the start.
    pub position: f64,
    /// Seconds, as the player saw them.
    pub duration: Option<f64>,
    /// Watched to the end (or nearly).
    pub completed: bool,
    pub updated_at: String,
}

impl ProgressView {
    fn new(p: &Progress) -> ProgressView {
        ProgressView {
            video_id: p.video_id.clone(),
            position: p.position,
            duration: p.duration,
            completed: p.completed,
            updated_at: p.updated_at.clone(),
        }
    }
}

/// A video on a shelf, with the profile's position in it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ShelfItem {
    pub video: VideoView,
    pub progress: ProgressView,
}

/// `GET /api/progress`: the profile's shelves, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Shelves {
    /// Started, not finished.
    pub continue_watching: Vec<ShelfItem>,
    /// Everything watched.
    pub history: Vec<ShelfItem>,
}

/// The video if this viewer may see it.
async fn visible_video(state: &AppState, access: &Access, id: &str) -> Result<(), ApiError> {
    let lookup = id.to_owned();
    match state
        .db
        .read(move |conn| videos::category_of(conn, &lookup))
        .await
    {
        Ok(category) if access.can_see(category.as_deref()) => Ok(()),
        Ok(_) | Err(DbError::NotFound) => Err(not_found(id)),
        Err(err) => Err(err.into()),
    }
}

/// Records the profile's position in a video.
#[utoipa::path(put, path = "/api/progress/{id}", tag = "profiles", request_body = NewProgress,
    params(("id" = String, Path, description = "video id")),
    responses((status = 200, description = "the saved position", body = ProgressView),
              (status = 400, description = "invalid position, or no profile", body = ErrorBody),
              (status = 404, description = "no such video (or not visible to this profile)", body = ErrorBody)))]
pub async fn record(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewProgress>,
) -> Result<Answer<ProgressView>, ApiError> {
    let profile = profile_id(&access)?;
    let valid = |v: f64| v.is_finite() && (0.0..=MAX_SECONDS).contains(&v);
    if !valid(body.position) || !body.duration.is_none_or(valid) {
        return Err(ApiError::bad_request(
            "Position and duration must be seconds between 0 and 10000000",
        ));
    }
    visible_video(&state, &access, &id).await?;
    let video = id.clone();
    match state
        .db
        .write(move |tx| {
            progress::record(
                tx,
                profile,
                &video,
                body.position,
                body.duration,
                body.ended,
            )
        })
        .await
    {
        Ok(saved) => Ok(ok(ProgressView::new(&saved))),
        // The video was deleted in between.
        Err(DbError::Conflict(_)) => Err(not_found(&id)),
        Err(err) => Err(err.into()),
    }
}

/// The profile's position in one video (`null` when it has not watched it).
#[utoipa::path(get, path = "/api/progress/{id}", tag = "profiles",
    params(("id" = String, Path, description = "video id")),
    responses((status = 200, description = "the saved position, or `null`", body = Option<ProgressView>),
              (status = 404, description = "no such video (or not visible to this profile)", body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
) -> Result<Answer<Option<ProgressView>>, ApiError> {
    let profile = profile_id(&access)?;
    visible_video(&state, &access, &id).await?;
    let found = state
        .db
        .read(move |conn| progress::get(conn, profile, &id))
        .await?;
    Ok(ok(found.as_ref().map(ProgressView::new)))
}

/// "Continue watching" (started, not finished) and history (everything watched), newest first.
#[utoipa::path(get, path = "/api/progress", tag = "profiles",
    responses((status = 200, description = "continue watching and history", body = Shelves)))]
pub async fn list(State(state): State<AppState>, access: Access) -> Result<Response, ApiError> {
    let profile = profile_id(&access)?;
    let allowed = access.allowed_categories();
    let (resume, history) = state
        .db
        .read(move |conn| {
            let resume = progress::shelf(
                conn,
                profile,
                Shelf::ContinueWatching,
                allowed.as_deref(),
                SHELF_LIMIT,
            )?;
            let history = progress::shelf(
                conn,
                profile,
                Shelf::History,
                allowed.as_deref(),
                SHELF_LIMIT,
            )?;
            Ok((resume, history))
        })
        .await?;
    let rows = |rows: &[(Progress, videos::VideoRecord)]| {
        rows.iter()
            .map(|(p, v)| ShelfItem {
                video: VideoView::new(v),
                progress: ProgressView::new(p),
            })
            .collect()
    };
    Ok(ok(Shelves {
        continue_watching: rows(&resume),
        history: rows(&history),
    })
    .into_response())
}

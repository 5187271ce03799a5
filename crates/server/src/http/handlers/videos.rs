//! `/api/videos`: list (with search, category, sort and pages), show, update, remove.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{Answer, ApiError, ErrorBody, ok};
use crate::http::AppState;
use crate::http::json::JsonBody;
use sofathek_codes::Code;
use sofathek_core::auth::Access;
use sofathek_core::events::Event;
use sofathek_db::videos::{self, FileKind, ListQuery, Sort, VideoRecord};
use sofathek_db::{DbError, categories};
use sofathek_http::schema::{self, Presence};
use sofathek_ingest::MAX_TITLE_CHARS;
use utoipa::openapi::schema::Object;

/// Largest page size.
pub const MAX_LIMIT: u32 = 200;

/// Query parameters of the listing; without any of them the original response shape is kept.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Full-text search over title, channel, description and tags.
    pub q: Option<String>,
    /// Category slug.
    pub category: Option<String>,
    /// 1-based page (default 1 when `limit` is given).
    pub page: Option<u32>,
    /// Page size, 1 to 200.
    pub limit: Option<u32>,
    /// name (default), title, -title, added, -added, duration, -duration, size, -size.
    pub sort: Option<String>,
}

pub use sofathek_http::serve_file::encode_name;

/// A video as the API shows it (original §1.4 plus the new catalogue fields; the OpenAPI
/// document's `VideoView`). Unknown metadata is absent rather than `null`, as in the original.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoView {
    pub id: String,
    pub file: VideoFileView,
    pub metadata: VideoMetadataView,
    pub category: Option<String>,
    pub added_at: String,
    pub view_count: i64,
}

/// The main file of a video.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoFileView {
    /// Where it streams: `/api/stream/<encoded name>`.
    #[schema(pattern = "^/api/stream/")]
    pub path: String,
    pub name: String,
    pub size: u64,
    /// `.mp4`, `.webm`, … (`""` without one).
    pub extension: String,
    pub last_modified: String,
}

/// What is known about a video; unknown fields are absent.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoMetadataView {
    pub title: String,
    /// Seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bitrate: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_codec: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio_codec: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    pub transcripts: Vec<TranscriptView>,
    /// The thumbnail's file name (`/api/thumbnails/<name>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
    /// The MP3 copy's file name (`/api/download/<name>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<String>,
}

/// A subtitle file and its language (`unknown` when not known).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TranscriptView {
    pub language: String,
    pub file: String,
}

impl VideoView {
    pub fn new(v: &VideoRecord) -> VideoView {
        VideoView {
            id: v.id.clone(),
            file: VideoFileView {
                path: format!("/api/stream/{}", encode_name(&v.file_name)),
                name: v.file_name.clone(),
                size: v.size,
                extension: sofathek_core::library::extension(&v.file_name)
                    .map(|e| format!(".{e}"))
                    .unwrap_or_default(),
                last_modified: v.modified_at.clone(),
            },
            metadata: VideoMetadataView {
                title: v.title.clone(),
                duration: v.duration,
                width: v.width,
                height: v.height,
                format: v.format.clone(),
                bitrate: v.bitrate,
                channel: v.channel.clone(),
                description: v.description.clone(),
                tags: v.tags.clone(),
                video_codec: v.video_codec.clone(),
                audio_codec: v.audio_codec.clone(),
                upload_date: v.upload_date.clone(),
                source_url: v.source_url.clone(),
                transcripts: v
                    .subtitles()
                    .map(|f| TranscriptView {
                        language: f.language.clone().unwrap_or_else(|| "unknown".into()),
                        file: f.name.clone(),
                    })
                    .collect(),
                thumbnail: v.file_of(FileKind::Thumbnail).map(|f| f.name.clone()),
                audio: v.file_of(FileKind::Audio).map(|f| f.name.clone()),
            },
            category: v.category.clone(),
            added_at: v.added_at.clone(),
            view_count: v.view_count,
        }
    }
}

/// `GET /api/videos`: the videos and the library's totals; `page`, `limit` and `totalPages`
/// only when a page was asked for (`page` or `limit`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoList {
    pub videos: Vec<VideoView>,
    pub total_count: u64,
    pub total_size: u64,
    pub scanned_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_pages: Option<u64>,
}

/// `DELETE /api/videos/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoDeleted {
    /// `Video '<id>' deleted`.
    pub message: String,
    pub id: String,
    /// Every file of the video that was removed.
    pub removed_files: Vec<String>,
}

fn parse_sort(raw: Option<&str>) -> Result<Sort, ApiError> {
    match raw {
        None | Some("") => Ok(Sort::default()),
        Some(s) => serde_json::from_value(json!(s)).map_err(|_| {
            ApiError::bad_request(format!(
                "Invalid sort '{s}': use name, title, -title, added, -added, duration, -duration, size or -size"
            ))
        }),
    }
}

/// Lists the library.
#[utoipa::path(get, path = "/api/videos", tag = "videos", params(ListParams),
    responses((status = 200, description = "the library", body = VideoList),
              (status = 400, description = "bad parameters", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    access: Access,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let sort = parse_sort(params.sort.as_deref())?;
    let paged = params.page.is_some() || params.limit.is_some();
    let page = params.page.unwrap_or(1);
    let limit = params.limit.unwrap_or(24);
    if page == 0 {
        return Err(ApiError::bad_request("Invalid page: pages start at 1"));
    }
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::bad_request(format!(
            "Invalid limit: use 1 to {MAX_LIMIT}"
        )));
    }
    if params.q.as_ref().is_some_and(|q| q.chars().count() > 500) {
        return Err(ApiError::bad_request(
            "Search text too long (max 500 characters)",
        ));
    }
    let query = ListQuery {
        search: params.q.clone().filter(|q| !q.trim().is_empty()),
        category: params.category.clone().filter(|c| !c.is_empty()),
        allowed_categories: access.allowed_categories(),
        sort,
        page: paged.then_some((page, limit)),
    };
    let result = state
        .db
        .read(move |conn| videos::list(conn, &query))
        .await?;
    let data = VideoList {
        videos: result.videos.iter().map(VideoView::new).collect(),
        total_count: result.total_count,
        total_size: result.total_size,
        scanned_at: sofathek_db::now(),
        page: paged.then_some(page),
        limit: paged.then_some(limit),
        total_pages: paged.then(|| result.total_count.div_ceil(u64::from(limit))),
    };
    Ok(axum::response::IntoResponse::into_response(ok(data)))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Video with id '{id}' not found"))
}

/// One video.
#[utoipa::path(get, path = "/api/videos/{id}", tag = "videos",
    params(("id" = String, Path, description = "video id")),
    responses((status = 200, description = "the video", body = VideoView),
              (status = 404, description = "no such video", body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
) -> Result<Answer<VideoView>, ApiError> {
    let lookup = id.clone();
    match state.db.read(move |conn| videos::get(conn, &lookup)).await {
        // A video a kid may not see does not exist for the kid.
        Ok(video) if access.can_see(video.category.as_deref()) => Ok(ok(VideoView::new(&video))),
        Ok(_) | Err(DbError::NotFound) => Err(not_found(&id)),
        Err(err) => Err(err.into()),
    }
}

/// Fields a parent may change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateVideo {
    /// New title (1 to 300 characters); `null`: unchanged.
    #[schema(schema_with = title_or_null)]
    pub title: Option<String>,
    /// Category slug, or null to remove the category.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
}

/// `UpdateVideo.title`: what [`check_title`] accepts, or `null`.
fn title_or_null() -> Object {
    schema::text(MAX_TITLE_CHARS, Presence::OrNull)
}

fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// Checks a user-supplied title.
pub fn check_title(title: &str) -> Result<String, ApiError> {
    let trimmed = title.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_TITLE_CHARS {
        return Err(ApiError::bad_request("Title must be 1 to 300 characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "Title must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// Changes a video's title and/or category.
#[utoipa::path(patch, path = "/api/videos/{id}", tag = "videos",
    params(("id" = String, Path, description = "video id")),
    request_body = UpdateVideo,
    responses((status = 200, description = "the updated video", body = VideoView),
              (status = 400, description = "invalid fields", body = ErrorBody),
              (status = 404, description = "no such video", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateVideo>,
) -> Result<Answer<VideoView>, ApiError> {
    if body.title.is_none() && body.category.is_none() {
        return Err(ApiError::bad_request(
            "Nothing to change: give title and/or category",
        ));
    }
    let title = body.title.as_deref().map(check_title).transpose()?;
    let category = body.category.clone();
    let lookup = id.clone();
    let result = state
        .db
        .write(move |tx| {
            if let Some(Some(slug)) = &category {
                if !categories::exists(tx, slug)? {
                    return Err(DbError::Conflict(format!("Unknown category '{slug}'")));
                }
            }
            let before = videos::category_of(tx, &lookup)?;
            let video = videos::update(
                tx,
                &lookup,
                title.as_deref(),
                category.as_ref().map(|c| c.as_deref()),
            )?;
            Ok((before, video))
        })
        .await;
    match result {
        Ok((before, video)) => {
            sofathek_core::library::rewrite_sidecars(
                &state.db,
                &state.layout,
                std::slice::from_ref(&video.id),
            )
            .await;
            state.events.publish(Event::LibraryUpdated {
                id: video.id.clone(),
                categories: [before, video.category.clone()],
            });
            Ok(ok(VideoView::new(&video)))
        }
        Err(DbError::NotFound) => Err(not_found(&id)),
        Err(DbError::Conflict(msg)) => {
            Err(ApiError::bad_request(msg).with_code(Code::UnknownCategory))
        }
        Err(err) => Err(err.into()),
    }
}

/// Deletes a video and every file of it.
#[utoipa::path(delete, path = "/api/videos/{id}", tag = "videos",
    params(("id" = String, Path, description = "video id")),
    responses((status = 200, description = "deleted", body = VideoDeleted),
              (status = 404, description = "no such video", body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Answer<VideoDeleted>, ApiError> {
    match sofathek_core::library::delete(&state.db, &state.layout, &id).await {
        Ok(video) => {
            state.events.publish(Event::LibraryRemoved {
                id: id.clone(),
                category: video.category.clone(),
            });
            Ok(ok(VideoDeleted {
                message: format!("Video '{id}' deleted"),
                removed_files: video.files.iter().map(|f| f.name.clone()).collect(),
                id,
            }))
        }
        Err(sofathek_core::library::LibraryError::Db(DbError::NotFound)) => Err(not_found(&id)),
        Err(err) => Err(ApiError::internal(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_encoded_like_encode_uri_component() {
        assert_eq!(encode_name("a b.mp4"), "a%20b.mp4");
        assert_eq!(encode_name("x/y.mp4"), "x%2Fy.mp4");
        assert_eq!(encode_name("Test_Video!(1).mp4"), "Test_Video!(1).mp4");
        assert_eq!(encode_name("ü.mp4"), "%C3%BC.mp4");
    }

    #[test]
    fn titles() {
        assert_eq!(check_title("  A title ").ok().as_deref(), Some("A title"));
        assert!(check_title("").is_err());
        assert!(check_title("a\u{7}b").is_err());
        assert!(check_title(&"x".repeat(301)).is_err());
    }
}

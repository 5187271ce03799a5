//! `/api/stream`, `/api/download` and `/api/thumbnails`: library files by name.
//!
//! Only a single path component with an allowed extension is accepted; it must resolve inside
//! the library directory (a symlink leading outside is 403) and be a file the catalogue knows.
//! A file of a video the viewer may not see (a kid outside its categories) is "not found".

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::error::{ApiError, ErrorBody};
use crate::http::AppState;
use crate::http::serve_file::{OpenedFile, Sendfile, ServeError, ServeOptions, serve_opened};
use sofathek_codes::Code;
use sofathek_core::auth::Access;
use sofathek_core::library::{
    self, DOWNLOAD_EXTRA_EXTENSIONS, NameError, THUMBNAIL_EXTENSIONS, VIDEO_EXTENSIONS,
};
use sofathek_db::DbError;
use sofathek_http::file_cache::OpenError;

/// The route a file is requested through: decides allowed names and error messages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Stream,
    Download,
    Thumbnail,
}

impl Route {
    fn allowed(self) -> &'static [&'static [&'static str]] {
        match self {
            Route::Stream => &[VIDEO_EXTENSIONS],
            Route::Download => &[VIDEO_EXTENSIONS, DOWNLOAD_EXTRA_EXTENSIONS],
            Route::Thumbnail => &[THUMBNAIL_EXTENSIONS],
        }
    }

    fn not_found(self, name: &str) -> ApiError {
        ApiError::not_found(match self {
            Route::Stream => format!("Video file '{name}' not found"),
            Route::Download => format!("File '{name}' not found"),
            Route::Thumbnail => format!("Thumbnail '{name}' not found"),
        })
    }
}

fn name_error(err: NameError) -> ApiError {
    ApiError::bad_request(err.message()).with_code(match err {
        NameError::Empty => Code::FilenameRequired,
        NameError::Invalid => Code::InvalidFilename,
        NameError::BadExtension => Code::InvalidFileType,
    })
}

/// The library file `name`, open, if `access` may see the video that owns it.
async fn locate(
    state: &AppState,
    access: &Access,
    route: Route,
    name: &str,
) -> Result<OpenedFile, ApiError> {
    library::check_name(name, route.allowed()).map_err(name_error)?;
    // Read before the lookups: a write committing meanwhile makes their answers stale.
    let generation = state.db.generation();
    let opened = match state.files.open(generation, name).await {
        Err(OpenError::Outside) => {
            return Err(ApiError::forbidden("Invalid path").with_code(Code::InvalidPath));
        }
        Err(OpenError::Serve(ServeError::NotFound)) => return Err(route.not_found(name)),
        // Any other failure is told only to whom may see the file (else: not found).
        other => other,
    };
    match state.files.owner(&state.db, generation, name).await {
        Ok(category) if access.can_see(category.as_deref()) => match opened {
            Ok(opened) => Ok(opened),
            Err(OpenError::Serve(err)) => Err(serve_error(route, name, err)),
            Err(OpenError::Outside) => {
                Err(ApiError::forbidden("Invalid path").with_code(Code::InvalidPath))
            }
        },
        Ok(_) | Err(DbError::NotFound) => Err(route.not_found(name)),
        Err(err) => Err(err.into()),
    }
}

fn serve_error(route: Route, name: &str, err: ServeError) -> ApiError {
    match err {
        ServeError::NotFound => route.not_found(name),
        ServeError::NotAFile if route == Route::Thumbnail => {
            ApiError::not_found(format!("Thumbnail '{name}' is not a file"))
        }
        ServeError::NotAFile => route.not_found(name),
        ServeError::PermissionDenied if route == Route::Thumbnail => {
            ApiError::forbidden("Permission denied accessing thumbnail")
        }
        ServeError::PermissionDenied => route.not_found(name),
        ServeError::TooLarge { size, max } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Thumbnail too large: {size} bytes (max: {max})"),
        )
        .with_code(Code::ThumbnailTooLarge),
        ServeError::MalformedRange => {
            ApiError::bad_request("Invalid range header format").with_code(Code::InvalidRange)
        }
        ServeError::Io(err) if route == Route::Thumbnail => {
            ApiError::internal(format!("Unable to access thumbnail: {err}"))
        }
        ServeError::Io(err) => ApiError::internal(err),
    }
}

/// Streams a video with Range support.
#[utoipa::path(get, path = "/api/stream/{filename}", tag = "files",
    params(("filename" = String, Path, description = "file name of a library video")),
    responses((status = 200, description = "the whole file"), (status = 206, description = "a byte range"),
              (status = 304, description = "not modified"),
              (status = 400, description = "invalid name or range", body = ErrorBody),
              (status = 403, description = "outside the library", body = ErrorBody),
              (status = 404, description = "no such file", body = ErrorBody),
              (status = 416, description = "range not satisfiable", body = ErrorBody)))]
pub async fn stream(
    State(state): State<AppState>,
    access: Access,
    Path(name): Path<String>,
    // The whole request rather than `Method` and `HeaderMap`, which would clone the headers.
    request: Request,
) -> Result<Response, ApiError> {
    let located = locate(&state, &access, Route::Stream, &name).await?;
    let options = ServeOptions::new(library::mime_type(&name))
        .count_bytes(state.metrics.bytes_streamed.clone())
        .sendfile(Sendfile::of(&request));
    serve_opened(request.method(), request.headers(), located, options)
        .map_err(|e| serve_error(Route::Stream, &name, e))
}

/// Sends a video, audio copy or subtitle as an attachment.
#[utoipa::path(get, path = "/api/download/{filename}", tag = "files",
    params(("filename" = String, Path, description = "file name of a video, audio copy or subtitle")),
    responses((status = 200, description = "the file as an attachment"), (status = 206, description = "a byte range"),
              (status = 400, description = "invalid name", body = ErrorBody),
              (status = 403, description = "outside the library", body = ErrorBody),
              (status = 404, description = "no such file", body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    access: Access,
    Path(name): Path<String>,
    // The whole request rather than `Method` and `HeaderMap`, which would clone the headers.
    request: Request,
) -> Result<Response, ApiError> {
    let located = locate(&state, &access, Route::Download, &name).await?;
    let options = ServeOptions::new(library::mime_type(&name))
        .attachment(&name)
        .count_bytes(state.metrics.bytes_streamed.clone())
        .sendfile(Sendfile::of(&request));
    serve_opened(request.method(), request.headers(), located, options)
        .map_err(|e| serve_error(Route::Download, &name, e))
}

/// Sends a thumbnail image.
#[utoipa::path(get, path = "/api/thumbnails/{filename}", tag = "files",
    params(("filename" = String, Path, description = "file name of a thumbnail")),
    responses((status = 200, description = "the image"), (status = 206, description = "a byte range"),
              (status = 400, description = "invalid name", body = ErrorBody),
              (status = 403, description = "outside the library or unreadable", body = ErrorBody),
              (status = 404, description = "no such file", body = ErrorBody),
              (status = 413, description = "larger than THUMBNAIL_MAX_SIZE", body = ErrorBody)))]
pub async fn thumbnail(
    State(state): State<AppState>,
    access: Access,
    Path(name): Path<String>,
    // The whole request rather than `Method` and `HeaderMap`, which would clone the headers.
    request: Request,
) -> Result<Response, ApiError> {
    let located = locate(&state, &access, Route::Thumbnail, &name).await?;
    // Once profiles guard the library, a shared cache must not hand thumbnails to others.
    let scope = if access.setup { "private" } else { "public" };
    let cache = format!("{scope}, max-age={}", state.config.thumbnail_cache_duration);
    let options = ServeOptions::new(library::mime_type(&name))
        .cache_control(&cache)
        .max_size(state.config.thumbnail_max_size)
        .count_bytes(state.metrics.bytes_streamed.clone())
        .sendfile(Sendfile::of(&request));
    serve_opened(request.method(), request.headers(), located, options)
        .map_err(|e| serve_error(Route::Thumbnail, &name, e))
}

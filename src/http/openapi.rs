//! The OpenAPI document, generated from the handlers' annotations.

use std::sync::OnceLock;

use utoipa::OpenApi;

use crate::http::handlers::{categories, events, files, health, jobs, upload, videos, youtube};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SOFATHEK",
        description = "A self-hosted family video library."
    ),
    paths(
        health::report,
        health::live,
        videos::list,
        videos::show,
        videos::update,
        videos::remove,
        files::stream,
        files::download,
        files::thumbnail,
        categories::list,
        categories::create,
        categories::rename,
        categories::remove,
        jobs::list,
        jobs::show,
        jobs::create,
        jobs::cancel,
        jobs::retry,
        upload::create,
        events::stream,
        youtube::download,
        youtube::queue,
        youtube::status,
        youtube::cancel,
        youtube::cleanup,
        youtube::clear,
        youtube::health,
    ),
    components(schemas(
        videos::UpdateVideo,
        categories::NewCategory,
        categories::RenameCategory,
        jobs::NewUrlJob
    ))
)]
struct ApiDoc;

/// The document as JSON text (built once).
pub fn document() -> String {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .unwrap_or_else(|err| format!("{{\"error\":\"{err}\"}}"))
    })
    .clone()
}

//! `GET /add`: paste a URL, upload files, follow the queue.

use super::*;

/// `GET /add`: paste a URL, upload files, follow the queue.
pub(crate) async fn add(State(state): State<AppState>, access: Access) -> Response {
    let all = match state.db.read(categories::list).await {
        Ok(all) => all,
        Err(err) => return db_failed(&state, &access, err).await,
    };
    #[derive(Serialize)]
    struct Context {
        chrome: Chrome,
        categories: Vec<CategoryOption>,
        max_upload: String,
    }
    let site = Site::for_config(&state.config);
    let context = Context {
        chrome: Chrome::new(&site, "add", "Add videos", &access),
        categories: category_options(&all),
        max_upload: size_label(state.config.max_upload_bytes),
    };
    page(&state, StatusCode::OK, "add.html", context).await
}

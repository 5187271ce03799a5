//! `GET /add`: paste a URL, upload files, follow the queue.

use super::*;

/// The add page's view model: the template's context.
#[derive(Serialize)]
struct AddView {
    chrome: Chrome,
    categories: Vec<CategoryOption>,
    max_upload: String,
}

/// `GET /add`: paste a URL, upload files, follow the queue.
pub(crate) async fn add(State(state): State<AppState>, access: Access) -> Response {
    let all = match state.db.read(categories::list).await {
        Ok(all) => all,
        Err(err) => return db_failed(&state, &access, err).await,
    };
    let frame = Frame::new(&Site::for_config(&state.config), &access);
    let view = build(frame, &all, state.config.max_upload_bytes);
    page(&state, StatusCode::OK, "add.html", view).await
}

/// Shapes the add page (pure): the categories to choose from and the upload limit.
fn build(frame: Frame, all: &[Category], max_upload_bytes: u64) -> AddView {
    AddView {
        chrome: frame.chrome("add", "Add videos"),
        categories: category_options(all),
        max_upload: size_label(max_upload_bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn the_categories_and_the_upload_limit() {
        let all = [
            category("kids", "Kids", 1),
            category("mine", "Mine & more", 12),
        ];
        let view = build(frame(), &all, 10 * 1024 * 1024 * 1024);
        assert_eq!(view.max_upload, "10.0 GB");
        assert_eq!(
            (view.chrome.page, view.chrome.title.as_str()),
            ("add", "Add videos")
        );
        let options: Vec<_> = view
            .categories
            .iter()
            .map(|c| {
                (
                    c.slug.as_str(),
                    c.name.as_str(),
                    c.builtin,
                    c.count.as_str(),
                )
            })
            .collect();
        assert_eq!(
            options,
            [
                ("kids", "Kids", true, "1 video"),
                ("mine", "Mine & more", true, "12 videos")
            ]
        );
        assert!(build(frame(), &[], 0).categories.is_empty());
    }
}

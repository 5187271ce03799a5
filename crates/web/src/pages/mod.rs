//! The page handlers, one module per page: library (`/`), player (`/watch/{id}`), add
//! (`/add`) and manage (`/manage`). Each handler runs three steps: `read` gathers the page's
//! records through `sofathek_db` (async, the only I/O), the pure `build` shapes them with the
//! parsed parameters and the viewer's facts ([`Frame`], [`Audience`]) into the page's view model,
//! and [`page`] renders the template with it; everything a page needs without JavaScript is in
//! the HTML. This module holds what the pages share: the chrome, cards, pagers, parameters and
//! rendering.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::format::{
    count_label, date_label, duration_label, language_label, language_name, size_label,
};
use crate::site::Site;
use sofathek_core::auth::Access;
use sofathek_db::categories::{self, Category};
use sofathek_db::profiles::{self, ProfileKind};
use sofathek_db::progress::{self, Progress, Shelf};
#[cfg(test)]
use sofathek_db::videos::FileRecord;
use sofathek_db::videos::{self, FileKind, ListQuery, ListResult, Sort, VideoRecord};
use sofathek_db::{DbError, DbResult};
use sofathek_http::serve_file::encode_name;
use sofathek_http::state::AppState;

mod add;
mod library;
mod manage;
mod watch;

pub(crate) use add::add;
pub(crate) use library::library;
pub(crate) use manage::manage;
pub(crate) use watch::watch;

/// Videos per page in the grouped library view.
const BROWSE_LIMIT: u32 = 96;
/// Videos per page in a search or category grid.
const GRID_LIMIT: u32 = 48;
/// Videos per page on the manage page.
const MANAGE_LIMIT: u32 = 50;
/// Related videos under the player.
const RELATED: usize = 12;
/// Videos in the "Continue watching" row.
const CONTINUE: u32 = 12;

/// The sort orders offered on the pages, default first.
const SORTS: &[(&str, &str)] = &[
    ("-added", "Newest first"),
    ("added", "Oldest first"),
    ("title", "Title A–Z"),
    ("-title", "Title Z–A"),
    ("duration", "Shortest first"),
    ("-duration", "Longest first"),
    ("-size", "Largest first"),
    ("name", "File name"),
];

/// Everything the base template needs.
#[derive(Serialize)]
pub(crate) struct Chrome {
    /// `library`, `watch`, `add`, `manage` or `error`: the active navigation entry and the
    /// `data-page` the scripts dispatch on.
    page: &'static str,
    title: String,
    live_reload: bool,
    version: &'static str,
    viewer: ViewerChrome,
}

impl Chrome {
    pub(crate) fn new(
        site: &Site,
        page: &'static str,
        title: impl Into<String>,
        access: &Access,
    ) -> Chrome {
        Frame::new(site, access).chrome(page, title)
    }
}

/// What the chrome needs of the request (the environment and who is asking), taken before a
/// page's pure `build` runs, which then gives the chrome its page and title.
pub(crate) struct Frame {
    live_reload: bool,
    viewer: ViewerChrome,
}

impl Frame {
    pub(crate) fn new(site: &Site, access: &Access) -> Frame {
        Frame {
            live_reload: site.is_development(),
            viewer: ViewerChrome::of(access),
        }
    }

    fn chrome(self, page: &'static str, title: impl Into<String>) -> Chrome {
        Chrome {
            page,
            title: title.into(),
            live_reload: self.live_reload,
            version: env!("CARGO_PKG_VERSION"),
            viewer: self.viewer,
        }
    }
}

/// What a page's `build` may know of the viewer's rights.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Audience {
    /// [`Access::allowed_categories`]: `None` sees every category.
    allowed: Option<Vec<String>>,
    /// A parent, or anyone before the first-run setup: someone who can add videos.
    may_add: bool,
}

impl Audience {
    fn of(access: &Access) -> Audience {
        Audience {
            allowed: access.allowed_categories(),
            may_add: access.is_parent() || !access.setup,
        }
    }

    /// Whether the videos of category `slug` are visible (as [`Access::can_see`]).
    fn sees_category(&self, slug: &str) -> bool {
        self.allowed
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|a| a == slug))
    }
}

/// Who is watching, for the header: the profile menu, the parent-only links, the CSRF token
/// the scripts and the sign-out form send, and the first-run notice.
#[derive(Serialize)]
struct ViewerChrome {
    /// A parent password exists.
    setup: bool,
    /// Parent rights: the Add and Manage links.
    parent: bool,
    name: Option<String>,
    initial: Option<String>,
    avatar: Option<String>,
    csrf: Option<String>,
}

impl ViewerChrome {
    fn of(access: &Access) -> ViewerChrome {
        let profile = access.profile();
        ViewerChrome {
            setup: access.setup,
            // Before the setup the parent pages lead to it, so they are shown.
            parent: access.is_parent() || !access.setup,
            name: profile.map(|p| p.name.clone()),
            initial: profile
                .and_then(|p| p.name.chars().next())
                .map(|c| c.to_uppercase().to_string()),
            avatar: profile.map(|p| p.avatar.clone()),
            csrf: access.session.as_ref().map(|s| s.csrf.clone()),
        }
    }
}

/// A video as a card in a row or grid.
#[derive(Serialize)]
struct Card {
    id: String,
    title: String,
    href: String,
    thumbnail: Option<String>,
    duration: Option<String>,
    channel: Option<String>,
    /// Percent watched (the "Continue watching" row).
    progress: Option<u32>,
}

impl Card {
    fn new(video: &VideoRecord) -> Card {
        Card {
            id: video.id.clone(),
            title: video.title.clone(),
            href: watch_href(&video.id),
            thumbnail: thumbnail_url(video),
            duration: duration_label(video.duration),
            channel: video.channel.clone(),
            progress: None,
        }
    }
}

fn watch_href(id: &str) -> String {
    format!("/watch/{}", encode_name(id))
}

fn thumbnail_url(video: &VideoRecord) -> Option<String> {
    video
        .file_of(FileKind::Thumbnail)
        .map(|f| format!("/api/thumbnails/{}", encode_name(&f.name)))
}

/// A titled row of cards.
#[derive(Serialize)]
struct Group {
    title: String,
    /// Unique within the page, for `aria-labelledby`.
    key: String,
    count: String,
    see_all: Option<String>,
    cards: Vec<Card>,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct Link {
    label: String,
    href: String,
    active: bool,
}

#[derive(Serialize)]
struct Pager {
    page: u32,
    pages: u32,
    previous: Option<String>,
    next: Option<String>,
}

fn render_status(
    site: &Site,
    status: StatusCode,
    template: &'static str,
    context: impl Serialize,
) -> Response {
    let loaded = site.current();
    let rendered = loaded
        .templates
        .get_template(template)
        .and_then(|t| t.render(&context));
    match rendered {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            response.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-cache"),
            );
            response
        }
        Err(err) => {
            tracing::error!(template, web_dir = %site.web_dir.display(), "cannot render page: {err:#}");
            let message = format!(
                "The page could not be rendered. Check that SOFATHEK_WEB_DIR ({}) holds the web UI's templates; the server log has the details.",
                site.web_dir.display()
            );
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; charset=utf-8",
                )],
                message,
            )
                .into_response()
        }
    }
}

/// Renders on the blocking pool (templates may be read from disk).
pub(crate) async fn page(
    state: &AppState,
    status: StatusCode,
    template: &'static str,
    context: impl Serialize + Send + 'static,
) -> Response {
    let site = Site::for_config(&state.config);
    match tokio::task::spawn_blocking(move || render_status(&site, status, template, context)).await
    {
        Ok(response) => response,
        Err(err) => sofathek_http::error::ApiError::internal(err).into_response(),
    }
}

/// The HTML error page (also used for a failed database call).
async fn error_page(
    state: &AppState,
    access: &Access,
    status: StatusCode,
    heading: &str,
    message: &str,
) -> Response {
    let site = Site::for_config(&state.config);
    #[derive(Serialize)]
    struct Context {
        chrome: Chrome,
        heading: String,
        message: String,
        status: u16,
    }
    let context = Context {
        chrome: Chrome::new(&site, "error", heading, access),
        heading: heading.to_owned(),
        message: message.to_owned(),
        status: status.as_u16(),
    };
    page(state, status, "error.html", context).await
}

async fn db_failed(state: &AppState, access: &Access, err: DbError) -> Response {
    tracing::error!("page query failed: {err}");
    error_page(
        state,
        access,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The library could not be read. Try again in a moment.",
    )
    .await
}

fn parse_sort(raw: Option<&str>) -> (Sort, &'static str) {
    let wanted = raw.unwrap_or("");
    let (value, _) = SORTS
        .iter()
        .find(|(value, _)| *value == wanted)
        .unwrap_or(&SORTS[0]);
    let sort = serde_json::from_value(serde_json::Value::from(*value)).unwrap_or_default();
    (sort, value)
}

fn sort_choices(selected: &str) -> Vec<Choice> {
    SORTS
        .iter()
        .map(|(value, label)| Choice {
            value: (*value).into(),
            label: (*label).into(),
            selected: *value == selected,
        })
        .collect()
}

/// The search box of the library and manage pages: trimmed and cut to 200 characters, so
/// both pages search for the same text.
fn parse_search(raw: Option<&str>) -> String {
    raw.map(str::trim).unwrap_or("").chars().take(200).collect()
}

fn parse_page(raw: Option<&str>) -> u32 {
    raw.and_then(|p| p.trim().parse::<u32>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
}

/// Builds `/path?k=v&…` from non-empty pairs.
fn href(path: &str, pairs: &[(&str, &str)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode_name(v)))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

fn pager(page: u32, total: u64, limit: u32, link: impl Fn(u32) -> String) -> Option<Pager> {
    let pages = u32::try_from(total.div_ceil(u64::from(limit))).unwrap_or(u32::MAX);
    (pages > 1).then(|| Pager {
        page,
        pages,
        // Past the end, "previous" is the last page.
        previous: (page > 1).then(|| link((page - 1).min(pages))),
        next: (page < pages).then(|| link(page + 1)),
    })
}

#[derive(Serialize)]
pub(crate) struct CategoryOption {
    slug: String,
    name: String,
    builtin: bool,
    count: String,
}

pub(crate) fn category_options(all: &[Category]) -> Vec<CategoryOption> {
    all.iter()
        .map(|c| CategoryOption {
            slug: c.slug.clone(),
            name: c.name.clone(),
            builtin: c.builtin,
            count: count_label(c.video_count, "video", "videos"),
        })
        .collect()
}

/// Hand-made records for the builders' tests.
#[cfg(test)]
mod fixtures {
    use super::*;

    /// A video `id` titled `id`, without files.
    pub(super) fn video(id: &str) -> VideoRecord {
        VideoRecord {
            id: id.into(),
            title: id.into(),
            file_name: format!("{id}.mp4"),
            size: 1,
            ..Default::default()
        }
    }

    pub(super) fn in_category(id: &str, slug: &str) -> VideoRecord {
        VideoRecord {
            category: Some(slug.into()),
            ..video(id)
        }
    }

    pub(super) fn category(slug: &str, name: &str, video_count: u64) -> Category {
        Category {
            slug: slug.into(),
            name: name.into(),
            builtin: true,
            video_count,
        }
    }

    pub(super) fn file(name: &str, kind: FileKind, language: Option<&str>) -> FileRecord {
        FileRecord {
            name: name.into(),
            kind,
            language: language.map(Into::into),
            size: 1,
        }
    }

    /// The chrome's facts of a parent in production.
    pub(super) fn frame() -> Frame {
        Frame {
            live_reload: false,
            viewer: ViewerChrome {
                setup: true,
                parent: true,
                name: None,
                initial: None,
                avatar: None,
                csrf: None,
            },
        }
    }

    pub(super) fn parent() -> Audience {
        Audience {
            allowed: None,
            may_add: true,
        }
    }

    pub(super) fn kid(allowed: &[&str]) -> Audience {
        Audience {
            allowed: Some(allowed.iter().map(|s| (*s).to_owned()).collect()),
            may_add: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_skip_empty_values() {
        assert_eq!(href("/", &[("q", ""), ("view", "")]), "/");
        assert_eq!(
            href("/", &[("q", "cats & dogs"), ("page", "2")]),
            "/?q=cats%20%26%20dogs&page=2"
        );
    }

    #[test]
    fn sorts_default_to_newest() {
        assert_eq!(parse_sort(None), (Sort::AddedDesc, "-added"));
        assert_eq!(parse_sort(Some("title")), (Sort::Title, "title"));
        assert_eq!(parse_sort(Some("bogus")), (Sort::AddedDesc, "-added"));
    }

    #[test]
    fn every_offered_sort_is_one_the_listing_knows() {
        for (value, _) in SORTS {
            let (sort, parsed) = parse_sort(Some(value));
            assert_eq!(parsed, *value);
            assert_eq!(serde_json::to_value(sort).ok(), Some((*value).into()));
        }
        let selected: Vec<_> = sort_choices("title")
            .into_iter()
            .filter(|c| c.selected)
            .map(|c| (c.value, c.label))
            .collect();
        assert_eq!(selected, [("title".to_owned(), "Title A–Z".to_owned())]);
    }

    #[test]
    fn page_numbers_are_positive() {
        assert_eq!(parse_page(None), 1);
        assert_eq!(parse_page(Some(" 3 ")), 3);
        assert_eq!(parse_page(Some("-2")), 1);
        assert_eq!(parse_page(Some("99999999999")), 1);
        // Exactly full pages: no empty last page.
        let p = pager(1, 96, 48, |p| p.to_string()).expect("pager");
        assert_eq!(
            (p.pages, p.previous, p.next.as_deref()),
            (2, None, Some("2"))
        );
        let p = pager(2, 96, 48, |p| p.to_string()).expect("pager");
        assert_eq!((p.previous.as_deref(), p.next), (Some("1"), None));
    }

    #[test]
    fn pages() {
        assert!(pager(1, 10, 48, |p| p.to_string()).is_none());
        let p = pager(2, 100, 48, |p| p.to_string()).expect("pager");
        assert_eq!(
            (p.pages, p.previous.as_deref(), p.next.as_deref()),
            (3, Some("1"), Some("3"))
        );
        let past = pager(9, 100, 48, |p| p.to_string()).expect("pager");
        assert_eq!(
            (past.previous.as_deref(), past.next.as_deref()),
            (Some("3"), None),
            "past the end, previous is the last page"
        );
        assert_eq!(parse_page(Some("0")), 1);
        assert_eq!(parse_page(Some("x")), 1);
        assert_eq!(parse_page(Some("7")), 7);
    }

    #[test]
    fn the_audience_sees_what_access_allows() {
        use sofathek_core::auth::{Via, Viewer};
        let profile = |kind: ProfileKind, categories: &[&str]| profiles::Profile {
            id: 7,
            name: "éva".into(),
            kind,
            avatar: "red".into(),
            created_at: String::new(),
            categories: categories.iter().map(|c| (*c).into()).collect(),
        };
        let with = |viewer: Viewer| Access {
            viewer,
            via: Via::Cookie,
            ..Access::anonymous(true)
        };
        let viewers = [
            Access::anonymous(false),
            Access::anonymous(true),
            with(Viewer::Kid(profile(ProfileKind::Kid, &["kids"]))),
            with(Viewer::Kid(profile(ProfileKind::Kid, &[]))),
            with(Viewer::Parent { profile: None }),
            with(Viewer::Parent {
                profile: Some(profile(ProfileKind::Parent, &[])),
            }),
        ];
        let may_add: Vec<bool> = viewers.iter().map(|a| Audience::of(a).may_add).collect();
        assert_eq!(may_add, [true, false, false, false, true, true]);
        for access in &viewers {
            let audience = Audience::of(access);
            for slug in ["kids", "music"] {
                assert_eq!(
                    audience.sees_category(slug),
                    access.can_see(Some(slug)),
                    "{:?} {slug}",
                    access.viewer
                );
            }
        }
        let frame = Frame {
            live_reload: false,
            viewer: ViewerChrome::of(&viewers[5]),
        };
        let chrome = frame.chrome("watch", "T");
        assert_eq!(
            (
                chrome.page,
                chrome.title.as_str(),
                chrome.viewer.initial.as_deref()
            ),
            ("watch", "T", Some("É"))
        );
        assert!(chrome.viewer.parent && chrome.viewer.setup && !chrome.live_reload);
    }

    #[test]
    fn search_is_trimmed_and_bounded() {
        assert_eq!(parse_search(None), "");
        assert_eq!(parse_search(Some("  dino \n")), "dino");
        assert_eq!(parse_search(Some(&"ä".repeat(300))), "ä".repeat(200));
    }
}

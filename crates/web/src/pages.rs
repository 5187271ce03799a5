//! The page handlers: library (`/`), player (`/watch/{id}`), add (`/add`) and manage
//! (`/manage`). Each gathers its data through `sofathek_db`, shapes it into a view model and
//! renders the page's template; everything a page needs without JavaScript is in the HTML.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::format::{count_label, date_label, duration_label, language_label, size_label};
use super::site::Site;
use sofathek_core::auth::Access;
use sofathek_db::categories::{self, Category};
use sofathek_db::profiles::{self, ProfileKind};
use sofathek_db::progress::{self, Shelf};
use sofathek_db::videos::{self, FileKind, ListQuery, Sort, VideoRecord};
use sofathek_db::{DbError, DbResult};
use sofathek_http::serve_file::encode_name;
use sofathek_http::state::AppState;

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
        Chrome {
            page,
            title: title.into(),
            live_reload: site.is_development(),
            version: env!("CARGO_PKG_VERSION"),
            viewer: ViewerChrome::of(access),
        }
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
        previous: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
    })
}

/// Query parameters of the library page (all optional, unknown ones ignored).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LibraryParams {
    q: Option<String>,
    category: Option<String>,
    sort: Option<String>,
    page: Option<String>,
    view: Option<String>,
}

/// How the unfiltered library is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Category,
    Channel,
}

/// `GET /`: the library.
pub(crate) async fn library(
    State(state): State<AppState>,
    access: Access,
    Query(params): Query<LibraryParams>,
) -> Response {
    let q = parse_search(params.q.as_deref());
    let category = params.category.clone().filter(|c| !c.is_empty());
    let (sort, sort_value) = parse_sort(params.sort.as_deref());
    let view = match params.view.as_deref() {
        Some("channel") => View::Channel,
        _ => View::Category,
    };
    let page_number = parse_page(params.page.as_deref());
    let filtered = !q.is_empty() || category.is_some();
    let limit = if filtered { GRID_LIMIT } else { BROWSE_LIMIT };
    let allowed = access.allowed_categories();
    let query = ListQuery {
        search: (!q.is_empty()).then(|| q.clone()),
        category: category.clone(),
        allowed_categories: allowed.clone(),
        sort,
        page: Some((page_number, limit)),
    };
    // The profile's unfinished videos, above the rows of the unfiltered first page.
    let shelf_of = access
        .profile()
        .map(|p| p.id)
        .filter(|_| !filtered && page_number == 1);
    let fetched: DbResult<_> = state
        .db
        .read(move |conn| {
            let everything = ListQuery {
                allowed_categories: allowed.clone(),
                page: Some((1, 1)),
                ..Default::default()
            };
            let resume = match shelf_of {
                Some(profile) => progress::shelf(
                    conn,
                    profile,
                    Shelf::ContinueWatching,
                    allowed.as_deref(),
                    CONTINUE,
                )?,
                None => Vec::new(),
            };
            Ok((
                categories::list(conn)?,
                videos::list(conn, &query)?,
                videos::list(conn, &everything)?.total_count,
                resume,
            ))
        })
        .await;
    let (mut all_categories, listing, library_total, resume) = match fetched {
        Ok(data) => data,
        Err(err) => return db_failed(&state, &access, err).await,
    };
    // A kid's profile shows only its categories (and their counts are all its own videos).
    all_categories.retain(|c| access.can_see(Some(&c.slug)));
    let continue_watching: Vec<Card> = resume
        .iter()
        .map(|(saved, video)| {
            let mut card = Card::new(video);
            let total = saved.duration.or(video.duration).filter(|d| *d > 0.0);
            card.progress = total.map(|d| ((saved.position / d) * 100.0).clamp(1.0, 99.0) as u32);
            card
        })
        .collect();
    let category_name = |slug: &str| {
        all_categories
            .iter()
            .find(|c| c.slug == slug)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| slug.to_owned())
    };
    let view_value = if view == View::Channel { "channel" } else { "" };
    let sort_param = if sort_value == SORTS[0].0 {
        ""
    } else {
        sort_value
    };

    let site = Site::for_config(&state.config);
    let heading = match (&category, q.is_empty()) {
        (Some(slug), true) => category_name(slug),
        (Some(slug), false) => format!("“{q}” in {}", category_name(slug)),
        (None, false) => format!("Results for “{q}”"),
        (None, true) => "Video Library".to_owned(),
    };
    let groups = if filtered {
        Vec::new()
    } else {
        match view {
            View::Category => by_category(&listing.videos, &all_categories, sort_param),
            View::Channel => by_channel(&listing.videos),
        }
    };
    let cards = if filtered {
        listing.videos.iter().map(Card::new).collect()
    } else {
        Vec::new()
    };
    let chips = std::iter::once(Link {
        label: "All".into(),
        href: href("/", &[("view", view_value), ("sort", sort_param)]),
        active: category.is_none(),
    })
    .chain(
        all_categories
            .iter()
            .filter(|c| c.video_count > 0)
            .map(|c| Link {
                label: c.name.clone(),
                href: href("/", &[("category", &c.slug), ("sort", sort_param)]),
                active: category.as_deref() == Some(c.slug.as_str()),
            }),
    )
    .collect::<Vec<_>>();
    let views = [("", "By category"), ("channel", "By channel")]
        .iter()
        .map(|(value, label)| Link {
            label: (*label).into(),
            href: href("/", &[("view", value), ("sort", sort_param)]),
            active: *value == view_value,
        })
        .collect::<Vec<_>>();
    let q_for_links = q.clone();
    let category_for_links = category.clone().unwrap_or_default();
    let pages = pager(page_number, listing.total_count, limit, |p| {
        let p = p.to_string();
        href(
            "/",
            &[
                ("q", &q_for_links),
                ("category", &category_for_links),
                ("view", if filtered { "" } else { view_value }),
                ("sort", sort_param),
                ("page", if p == "1" { "" } else { &p }),
            ],
        )
    });
    let empty = listing.total_count == 0;
    let empty_message = match (library_total, filtered) {
        (0, _) if !access.is_parent() && access.setup => {
            "No videos here yet. Ask a parent to add some."
        }
        (0, _) => "No videos found. Add one from the Add page — paste a link or upload a file.",
        (_, true) => "No videos found. Try another word or clear the search.",
        _ => "No videos on this page.",
    };

    #[derive(Serialize)]
    struct Context {
        chrome: Chrome,
        heading: String,
        q: String,
        category: String,
        view: &'static str,
        sort: &'static str,
        sorts: Vec<Choice>,
        filtered: bool,
        groups: Vec<Group>,
        cards: Vec<Card>,
        continue_watching: Vec<Card>,
        chips: Vec<Link>,
        views: Vec<Link>,
        pager: Option<Pager>,
        empty: bool,
        empty_message: &'static str,
        count: String,
        total_size: String,
        library_count: String,
    }
    let context = Context {
        chrome: Chrome::new(
            &site,
            "library",
            if filtered {
                heading.clone()
            } else {
                "Library".into()
            },
            &access,
        ),
        heading,
        q,
        category: category.unwrap_or_default(),
        view: view_value,
        sort: sort_value,
        sorts: sort_choices(sort_value),
        filtered,
        groups,
        cards,
        continue_watching,
        chips,
        views,
        pager: pages,
        empty,
        empty_message,
        count: format!(
            "{} available",
            count_label(listing.total_count, "video", "videos")
        ),
        total_size: size_label(listing.total_size),
        library_count: count_label(library_total, "video", "videos"),
    };
    page(&state, StatusCode::OK, "library.html", context).await
}

/// One row per category in the categories' order; uncategorised videos last.
fn by_category(videos: &[VideoRecord], all: &[Category], sort_param: &str) -> Vec<Group> {
    let mut buckets: BTreeMap<usize, Vec<Card>> = BTreeMap::new();
    let position = |slug: &Option<String>| match slug {
        Some(slug) => all
            .iter()
            .position(|c| &c.slug == slug)
            .unwrap_or(all.len()),
        None => all.len() + 1,
    };
    for video in videos {
        buckets
            .entry(position(&video.category))
            .or_default()
            .push(Card::new(video));
    }
    buckets
        .into_iter()
        .map(|(index, cards)| {
            let category = all.get(index);
            let total = category.map_or(cards.len() as u64, |c| c.video_count);
            Group {
                title: category.map_or_else(|| "Uncategorised".to_owned(), |c| c.name.clone()),
                key: category
                    .map_or_else(|| "uncategorised".to_owned(), |c| format!("c-{}", c.slug)),
                count: count_label(total, "video", "videos"),
                see_all: category
                    .filter(|c| c.video_count > cards.len() as u64 || c.video_count > 4)
                    .map(|c| href("/", &[("category", &c.slug), ("sort", sort_param)])),
                cards,
            }
        })
        .collect()
}

/// One row per channel, alphabetical, videos without a channel under "Other" last (the
/// original's grouping; a real channel named "Other" stays separate).
fn by_channel(videos: &[VideoRecord]) -> Vec<Group> {
    let mut named: BTreeMap<(String, String), Vec<Card>> = BTreeMap::new();
    let mut other = Vec::new();
    for video in videos {
        match video
            .channel
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(channel) => named
                .entry((channel.to_lowercase(), channel.to_owned()))
                .or_default()
                .push(Card::new(video)),
            None => other.push(Card::new(video)),
        }
    }
    let mut groups: Vec<Group> = named
        .into_iter()
        .enumerate()
        .map(|(index, ((_, channel), cards))| Group {
            count: count_label(cards.len() as u64, "video", "videos"),
            title: channel,
            key: format!("ch-{index}"),
            see_all: None,
            cards,
        })
        .collect();
    if !other.is_empty() {
        groups.push(Group {
            title: "Other".into(),
            key: "ch-other".into(),
            count: count_label(other.len() as u64, "video", "videos"),
            see_all: None,
            cards: other,
        });
    }
    groups
}

#[derive(Serialize)]
struct Track {
    src: String,
    srclang: Option<String>,
    label: String,
}

#[derive(Serialize)]
struct Download {
    href: String,
    label: String,
    filename: String,
}

/// The `download` attribute's name: characters other than `[A-Za-z0-9._-]` become `_`,
/// runs collapse, at most 200 characters (original §7).
fn download_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            c
        } else {
            '_'
        };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    out.chars().take(200).collect()
}

/// `GET /watch/{id}`: the player.
pub(crate) async fn watch(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
) -> Response {
    let lookup = id.clone();
    let allowed = access.allowed_categories();
    let visible = access.clone();
    let profile = access.profile().map(|p| p.id);
    let fetched = state
        .db
        .read(move |conn| {
            let video = videos::get(conn, &lookup)?;
            // A video a kid may not see does not exist for the kid.
            if !visible.can_see(video.category.as_deref()) {
                return Err(DbError::NotFound);
            }
            let siblings = videos::list(
                conn,
                &ListQuery {
                    category: video.category.clone(),
                    allowed_categories: allowed,
                    sort: Sort::Title,
                    page: Some((1, 200)),
                    ..Default::default()
                },
            )?;
            let saved = match profile {
                Some(profile) => progress::get(conn, profile, &lookup)?,
                None => None,
            };
            Ok((video, siblings.videos, categories::list(conn)?, saved))
        })
        .await;
    let (video, siblings, all_categories, saved) = match fetched {
        Ok(data) => data,
        Err(DbError::NotFound) => {
            return error_page(
                &state,
                &access,
                StatusCode::NOT_FOUND,
                "Video not found",
                "This video is not in the library. It may have been deleted.",
            )
            .await;
        }
        Err(err) => return db_failed(&state, &access, err).await,
    };
    // "Up next" is the following video of the same category by title (wrapping around);
    // related videos are the ones after it.
    let position = siblings.iter().position(|v| v.id == video.id);
    let others: Vec<&VideoRecord> = match position {
        Some(index) => siblings[index + 1..]
            .iter()
            .chain(siblings[..index].iter())
            .collect(),
        None => siblings.iter().filter(|v| v.id != video.id).collect(),
    };
    let next = others.first().map(|v| Card::new(v));
    let related: Vec<Card> = others
        .iter()
        .skip(1)
        .take(RELATED)
        .map(|v| Card::new(v))
        .collect();

    let tracks: Vec<Track> = video
        .subtitles()
        .filter(|f| sofathek_core::library::extension(&f.name).as_deref() == Some("vtt"))
        .map(|f| {
            let language = f.language.clone().unwrap_or_default();
            Track {
                src: format!("/api/download/{}", encode_name(&f.name)),
                srclang: (!language.is_empty() && language != "unknown").then(|| language.clone()),
                label: language_label(&language),
            }
        })
        .collect();
    let mut downloads = vec![Download {
        href: format!("/api/download/{}", encode_name(&video.file_name)),
        label: "Download video".into(),
        filename: download_name(&video.file_name),
    }];
    if let Some(audio) = video.file_of(FileKind::Audio) {
        downloads.push(Download {
            href: format!("/api/download/{}", encode_name(&audio.name)),
            label: "Download audio".into(),
            filename: download_name(&audio.name),
        });
    }
    for subtitle in video.subtitles() {
        let language = subtitle.language.clone().unwrap_or_default();
        let ext = sofathek_core::library::extension(&subtitle.name)
            .unwrap_or_default()
            .to_uppercase();
        downloads.push(Download {
            href: format!("/api/download/{}", encode_name(&subtitle.name)),
            label: format!("Subtitles: {} ({ext})", language_label(&language)),
            filename: download_name(&subtitle.name),
        });
    }

    #[derive(Serialize)]
    struct Player {
        id: String,
        title: String,
        channel: Option<String>,
        description: Option<String>,
        category: Option<Link>,
        duration: Option<String>,
        size: String,
        resolution: Option<String>,
        added: String,
        src: String,
        mime: &'static str,
        poster: Option<String>,
        tracks: Vec<Track>,
        downloads: Vec<Download>,
        source_url: Option<String>,
    }
    /// Where the profile left off, kept on the server (`None` without a profile: the browser
    /// keeps positions itself then).
    #[derive(Serialize)]
    struct Resume {
        position: f64,
        completed: bool,
        updated_at: String,
    }
    #[derive(Serialize)]
    struct Context {
        chrome: Chrome,
        video: Player,
        progress_profile: Option<i64>,
        resume: Option<Resume>,
        next: Option<Card>,
        related: Vec<Card>,
    }
    let site = Site::for_config(&state.config);
    let category = video.category.as_ref().map(|slug| Link {
        label: all_categories
            .iter()
            .find(|c| &c.slug == slug)
            .map_or_else(|| slug.clone(), |c| c.name.clone()),
        href: href("/", &[("category", slug)]),
        active: false,
    });
    let source_url = video
        .source_url
        .clone()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
    let context = Context {
        chrome: Chrome::new(&site, "watch", video.title.clone(), &access),
        progress_profile: profile,
        resume: saved.map(|s| Resume {
            position: s.position,
            completed: s.completed,
            updated_at: s.updated_at,
        }),
        video: Player {
            id: video.id.clone(),
            title: video.title.clone(),
            channel: video.channel.clone(),
            description: video.description.clone().filter(|d| !d.trim().is_empty()),
            category,
            duration: duration_label(video.duration),
            size: size_label(video.size),
            resolution: video
                .width
                .zip(video.height)
                .map(|(w, h)| format!("{w}×{h}")),
            added: date_label(&video.added_at),
            src: format!("/api/stream/{}", encode_name(&video.file_name)),
            mime: sofathek_core::library::mime_type(&video.file_name),
            poster: thumbnail_url(&video),
            tracks,
            downloads,
            source_url,
        },
        next,
        related,
    };
    page(&state, StatusCode::OK, "watch.html", context).await
}

#[derive(Serialize)]
struct CategoryOption {
    slug: String,
    name: String,
    builtin: bool,
    count: String,
}

fn category_options(all: &[Category]) -> Vec<CategoryOption> {
    all.iter()
        .map(|c| CategoryOption {
            slug: c.slug.clone(),
            name: c.name.clone(),
            builtin: c.builtin,
            count: count_label(c.video_count, "video", "videos"),
        })
        .collect()
}

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

/// Query parameters of the manage page.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ManageParams {
    q: Option<String>,
    page: Option<String>,
}

/// `GET /manage`: edit titles and categories, delete videos, manage categories.
pub(crate) async fn manage(
    State(state): State<AppState>,
    access: Access,
    Query(params): Query<ManageParams>,
) -> Response {
    let q = parse_search(params.q.as_deref());
    let page_number = parse_page(params.page.as_deref());
    let query = ListQuery {
        search: (!q.is_empty()).then(|| q.clone()),
        sort: Sort::Title,
        page: Some((page_number, MANAGE_LIMIT)),
        ..Default::default()
    };
    let fetched = state
        .db
        .read(move |conn| {
            Ok((
                categories::list(conn)?,
                videos::list(conn, &query)?,
                profiles::list(conn)?,
                profiles::list_tokens(conn)?,
            ))
        })
        .await;
    let (all, listing, all_profiles, tokens) = match fetched {
        Ok(data) => data,
        Err(err) => return db_failed(&state, &access, err).await,
    };

    #[derive(Serialize)]
    struct Row {
        id: String,
        title: String,
        href: String,
        thumbnail: Option<String>,
        category: String,
        details: String,
    }
    #[derive(Serialize)]
    struct Context {
        chrome: Chrome,
        q: String,
        rows: Vec<Row>,
        categories: Vec<CategoryOption>,
        count: String,
        total_size: String,
        pager: Option<Pager>,
        profiles: Vec<ProfileRow>,
        tokens: Vec<TokenRow>,
        avatars: &'static [&'static str],
    }
    #[derive(Serialize)]
    struct Allowed {
        slug: String,
        name: String,
        allowed: bool,
    }
    #[derive(Serialize)]
    struct ProfileRow {
        id: i64,
        name: String,
        initial: String,
        avatar: String,
        kid: bool,
        categories: Vec<Allowed>,
        summary: String,
    }
    #[derive(Serialize)]
    struct TokenRow {
        id: i64,
        name: String,
        created: String,
        last_used: String,
    }
    let profile_rows = all_profiles
        .iter()
        .map(|p| {
            let kid = p.kind == ProfileKind::Kid;
            let names: Vec<String> = all
                .iter()
                .filter(|c| p.categories.contains(&c.slug))
                .map(|c| c.name.clone())
                .collect();
            ProfileRow {
                id: p.id,
                name: p.name.clone(),
                initial: p
                    .name
                    .chars()
                    .next()
                    .map(|c| c.to_uppercase().to_string())
                    .unwrap_or_default(),
                avatar: p.avatar.clone(),
                kid,
                categories: all
                    .iter()
                    .map(|c| Allowed {
                        slug: c.slug.clone(),
                        name: c.name.clone(),
                        allowed: p.categories.contains(&c.slug),
                    })
                    .collect(),
                summary: match (kid, names.is_empty()) {
                    (false, _) => "Parent: sees everything, needs the password".into(),
                    (true, true) => "Sees no videos yet: choose categories".into(),
                    (true, false) => format!("Sees {}", names.join(", ")),
                },
            }
        })
        .collect();
    let token_rows = tokens
        .iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name.clone(),
            created: date_label(&t.created_at),
            last_used: t
                .last_used_at
                .as_deref()
                .map(date_label)
                .unwrap_or_else(|| "never".into()),
        })
        .collect();
    let rows = listing
        .videos
        .iter()
        .map(|v| {
            let mut details = vec![
                size_label(v.size),
                format!("added {}", date_label(&v.added_at)),
            ];
            if let Some(duration) = duration_label(v.duration) {
                details.insert(0, duration);
            }
            Row {
                id: v.id.clone(),
                title: v.title.clone(),
                href: watch_href(&v.id),
                thumbnail: thumbnail_url(v),
                category: v.category.clone().unwrap_or_default(),
                details: details.join(" · "),
            }
        })
        .collect();
    let q_for_links = q.clone();
    let pages = pager(page_number, listing.total_count, MANAGE_LIMIT, |p| {
        href("/manage", &[("q", &q_for_links), ("page", &p.to_string())])
    });
    let site = Site::for_config(&state.config);
    let context = Context {
        chrome: Chrome::new(&site, "manage", "Manage library", &access),
        q,
        rows,
        categories: category_options(&all),
        count: count_label(listing.total_count, "video", "videos"),
        total_size: size_label(listing.total_size),
        pager: pages,
        profiles: profile_rows,
        tokens: token_rows,
        avatars: sofathek_core::auth::AVATARS,
    };
    page(&state, StatusCode::OK, "manage.html", context).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names() {
        let check =
            |input: &str, expected: &str| assert_eq!(download_name(input), expected, "{input}");
        check("My Video — Part 1.mp4", "My_Video_Part_1.mp4");
        check("a..b", "a..b");
        check("äöü.mp3", "_.mp3");
        assert_eq!(download_name(&"x".repeat(300)).len(), 200);
    }

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
    fn pages() {
        assert!(pager(1, 10, 48, |p| p.to_string()).is_none());
        let p = pager(2, 100, 48, |p| p.to_string()).expect("pager");
        assert_eq!(
            (p.pages, p.previous.as_deref(), p.next.as_deref()),
            (3, Some("1"), Some("3"))
        );
        assert_eq!(parse_page(Some("0")), 1);
        assert_eq!(parse_page(Some("x")), 1);
        assert_eq!(parse_page(Some("7")), 7);
    }

    #[test]
    fn search_is_trimmed_and_bounded() {
        assert_eq!(parse_search(None), "");
        assert_eq!(parse_search(Some("  dino \n")), "dino");
        assert_eq!(parse_search(Some(&"ä".repeat(300))), "ä".repeat(200));
    }

    fn record(id: &str, channel: Option<&str>, category: Option<&str>) -> VideoRecord {
        VideoRecord {
            id: id.into(),
            title: id.into(),
            category: category.map(Into::into),
            channel: channel.map(Into::into),
            description: None,
            tags: Vec::new(),
            duration: None,
            width: None,
            height: None,
            video_codec: None,
            audio_codec: None,
            bitrate: None,
            format: None,
            file_name: format!("{id}.mp4"),
            size: 1,
            modified_at: String::new(),
            added_at: String::new(),
            upload_date: None,
            source_url: None,
            view_count: 0,
            files: Vec::new(),
        }
    }

    #[test]
    fn channel_groups_are_alphabetical_with_other_last() {
        let videos = [
            record("a", Some("zoo"), None),
            record("b", None, None),
            record("c", Some("Other"), None),
            record("d", Some("apes"), None),
            record("e", Some("zoo"), None),
        ];
        let groups = by_channel(&videos);
        let titles: Vec<_> = groups
            .iter()
            .map(|g| (g.title.as_str(), g.cards.len()))
            .collect();
        assert_eq!(
            titles,
            [("apes", 1), ("Other", 1), ("zoo", 2), ("Other", 1)]
        );
        assert_eq!(groups[3].key, "ch-other");
    }

    #[test]
    fn category_groups_follow_the_category_order() {
        let all = vec![
            Category {
                slug: "kids".into(),
                name: "Kids".into(),
                builtin: true,
                video_count: 1,
            },
            Category {
                slug: "music".into(),
                name: "Music".into(),
                builtin: true,
                video_count: 9,
            },
        ];
        let videos = [
            record("a", None, Some("music")),
            record("b", None, None),
            record("c", None, Some("kids")),
        ];
        let groups = by_category(&videos, &all, "");
        let titles: Vec<_> = groups.iter().map(|g| g.title.as_str()).collect();
        assert_eq!(titles, ["Kids", "Music", "Uncategorised"]);
        assert_eq!(groups[1].see_all.as_deref(), Some("/?category=music"));
        assert_eq!(groups[0].see_all, None);
        assert_eq!(groups[1].count, "9 videos");
    }
}

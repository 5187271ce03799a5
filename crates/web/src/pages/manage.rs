//! `GET /manage`: edit titles and categories, delete videos, manage categories, profiles,
//! tokens, the library folder and sources.

use super::*;
use sofathek_db::profiles::{Profile, TokenRow};

/// Query parameters of the manage page.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ManageParams {
    q: Option<String>,
    page: Option<String>,
}

/// The manage page's parameters, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ManageRequest {
    /// The search text (empty: no search).
    q: String,
    page: u32,
}

impl ManageRequest {
    fn parse(params: &ManageParams) -> ManageRequest {
        ManageRequest {
            q: parse_search(params.q.as_deref()),
            page: parse_page(params.page.as_deref()),
        }
    }
}

/// What the manage page reads from the database.
struct ManageData {
    categories: Vec<Category>,
    /// The requested page of videos, by title.
    listing: ListResult,
    profiles: Vec<Profile>,
    tokens: Vec<TokenRow>,
}

/// A video in the table.
#[derive(Serialize)]
struct Row {
    id: String,
    title: String,
    href: String,
    thumbnail: Option<String>,
    category: String,
    details: String,
}

/// A category a kid's profile may or may not see.
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

/// An API token as listed.
#[derive(Serialize)]
struct TokenView {
    id: i64,
    name: String,
    created: String,
    last_used: String,
}

/// The manage page's view model: the template's context.
#[derive(Serialize)]
struct ManageView {
    chrome: Chrome,
    q: String,
    rows: Vec<Row>,
    categories: Vec<CategoryOption>,
    count: String,
    total_size: String,
    pager: Option<Pager>,
    profiles: Vec<ProfileRow>,
    tokens: Vec<TokenView>,
    avatars: &'static [&'static str],
}

/// `GET /manage`: edit titles and categories, delete videos, manage categories.
pub(crate) async fn manage(
    State(state): State<AppState>,
    access: Access,
    Query(params): Query<ManageParams>,
) -> Response {
    let request = ManageRequest::parse(&params);
    let data = match read(&state, &request).await {
        Ok(data) => data,
        Err(err) => return db_failed(&state, &access, err).await,
    };
    let frame = Frame::new(&Site::for_config(&state.config), &access);
    page(
        &state,
        StatusCode::OK,
        "manage.html",
        build(frame, request, data),
    )
    .await
}

/// The categories, the requested page of videos by title, the profiles and the API tokens.
async fn read(state: &AppState, request: &ManageRequest) -> DbResult<ManageData> {
    let query = ListQuery {
        search: (!request.q.is_empty()).then(|| request.q.clone()),
        sort: Sort::Title,
        page: Some((request.page, MANAGE_LIMIT)),
        ..Default::default()
    };
    state
        .db
        .read(move |conn| {
            Ok(ManageData {
                categories: categories::list(conn)?,
                listing: videos::list(conn, &query)?,
                profiles: profiles::list(conn)?,
                tokens: profiles::list_tokens(conn)?,
            })
        })
        .await
}

/// Shapes the manage page (pure).
fn build(frame: Frame, request: ManageRequest, data: ManageData) -> ManageView {
    let ManageData {
        categories: all,
        listing,
        profiles: all_profiles,
        tokens,
    } = data;
    let ManageRequest {
        q,
        page: page_number,
    } = request;
    let pages = pager(page_number, listing.total_count, MANAGE_LIMIT, |p| {
        href("/manage", &[("q", &q), ("page", &p.to_string())])
    });
    ManageView {
        chrome: frame.chrome("manage", "Manage library"),
        q,
        rows: listing.videos.iter().map(video_row).collect(),
        categories: category_options(&all),
        count: count_label(listing.total_count, "video", "videos"),
        total_size: size_label(listing.total_size),
        pager: pages,
        profiles: all_profiles.iter().map(|p| profile_row(p, &all)).collect(),
        tokens: tokens.iter().map(token_view).collect(),
        avatars: sofathek_core::auth::AVATARS,
    }
}

/// A video's row: duration (when known), size and the day it was added.
fn video_row(v: &VideoRecord) -> Row {
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
}

/// A profile with every category ticked or not, and what it sees in words.
fn profile_row(p: &Profile, all: &[Category]) -> ProfileRow {
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
}

fn token_view(t: &TokenRow) -> TokenView {
    TokenView {
        id: t.id,
        name: t.name.clone(),
        created: date_label(&t.created_at),
        last_used: t
            .last_used_at
            .as_deref()
            .map(date_label)
            .unwrap_or_else(|| "never".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    fn data() -> ManageData {
        ManageData {
            categories: vec![
                category("kids", "Kids", 1),
                category("music", "Music", 0),
                category("family", "Family", 2),
            ],
            listing: ListResult {
                videos: vec![
                    VideoRecord {
                        duration: Some(3725.0),
                        size: 2048,
                        added_at: "2024-05-01T10:00:00Z".into(),
                        files: vec![file("a b.jpg", FileKind::Thumbnail, None)],
                        ..in_category("a b", "kids")
                    },
                    VideoRecord {
                        added_at: "2024-06-02T00:00:00Z".into(),
                        ..video("c")
                    },
                ],
                total_count: 2,
                total_size: 2049,
            },
            profiles: vec![
                profile(1, "mum", ProfileKind::Parent, &[]),
                profile(2, "ölaf", ProfileKind::Kid, &["family", "kids"]),
                profile(3, "", ProfileKind::Kid, &["gone"]),
            ],
            tokens: vec![
                TokenRow {
                    id: 4,
                    name: "backup".into(),
                    created_at: "2024-01-02T03:04:05Z".into(),
                    last_used_at: Some("2024-02-03T00:00:00Z".into()),
                },
                TokenRow {
                    id: 5,
                    name: "tv".into(),
                    created_at: "2024-01-03T00:00:00Z".into(),
                    last_used_at: None,
                },
            ],
        }
    }

    fn profile(id: i64, name: &str, kind: ProfileKind, categories: &[&str]) -> Profile {
        Profile {
            id,
            name: name.into(),
            kind,
            avatar: "blue".into(),
            created_at: String::new(),
            categories: categories.iter().map(|c| (*c).into()).collect(),
        }
    }

    fn request(q: Option<&str>, page: Option<&str>) -> ManageRequest {
        ManageRequest::parse(&ManageParams {
            q: q.map(Into::into),
            page: page.map(Into::into),
        })
    }

    #[test]
    fn parameters_are_parsed() {
        assert_eq!(
            request(Some(" cats "), Some("2")),
            ManageRequest {
                q: "cats".into(),
                page: 2
            }
        );
        assert_eq!(
            request(None, Some("-1")),
            ManageRequest {
                q: String::new(),
                page: 1
            }
        );
    }

    #[test]
    fn videos_are_rows_with_their_details() {
        let view = build(frame(), request(None, None), data());
        let rows: Vec<_> = view
            .rows
            .iter()
            .map(|r| {
                (
                    r.id.as_str(),
                    r.href.as_str(),
                    r.thumbnail.as_deref(),
                    r.category.as_str(),
                    r.details.as_str(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "a b",
                    "/watch/a%20b",
                    Some("/api/thumbnails/a%20b.jpg"),
                    "kids",
                    "1:02:05 · 2.0 KB · added 2024-05-01"
                ),
                ("c", "/watch/c", None, "", "1 B · added 2024-06-02"),
            ]
        );
        assert_eq!(
            (view.count.as_str(), view.total_size.as_str()),
            ("2 videos", "2.0 KB")
        );
        assert_eq!(view.chrome.title, "Manage library");
        assert_eq!(view.chrome.page, "manage");
        assert!(view.pager.is_none());
        assert_eq!(view.avatars, sofathek_core::auth::AVATARS);
        let options: Vec<_> = view
            .categories
            .iter()
            .map(|c| (c.slug.as_str(), c.count.as_str()))
            .collect();
        assert_eq!(
            options,
            [
                ("kids", "1 video"),
                ("music", "0 videos"),
                ("family", "2 videos")
            ]
        );
    }

    #[test]
    fn profiles_say_what_they_see() {
        let view = build(frame(), request(None, None), data());
        let summaries: Vec<_> = view
            .profiles
            .iter()
            .map(|p| (p.initial.as_str(), p.kid, p.summary.as_str()))
            .collect();
        assert_eq!(
            summaries,
            [
                ("M", false, "Parent: sees everything, needs the password"),
                // In the categories' order, not the profile's.
                ("Ö", true, "Sees Kids, Family"),
                // A category that no longer exists does not count.
                ("", true, "Sees no videos yet: choose categories"),
            ]
        );
        let ticks: Vec<_> = view.profiles[1]
            .categories
            .iter()
            .map(|c| (c.slug.as_str(), c.allowed))
            .collect();
        assert_eq!(ticks, [("kids", true), ("music", false), ("family", true)]);
        assert!(view.profiles[0].categories.iter().all(|c| !c.allowed));
    }

    #[test]
    fn tokens_show_their_days() {
        let view = build(frame(), request(None, None), data());
        let tokens: Vec<_> = view
            .tokens
            .iter()
            .map(|t| (t.id, t.created.as_str(), t.last_used.as_str()))
            .collect();
        assert_eq!(
            tokens,
            [(4, "2024-01-02", "2024-02-03"), (5, "2024-01-03", "never")]
        );
    }

    #[test]
    fn pages_keep_the_search() {
        let mut data = data();
        data.listing.total_count = u64::from(MANAGE_LIMIT) * 2 + 1;
        let view = build(frame(), request(Some("a b"), Some("2")), data);
        assert_eq!(view.q, "a b");
        let pager = view.pager.expect("three pages");
        assert_eq!((pager.page, pager.pages), (2, 3));
        assert_eq!(pager.previous.as_deref(), Some("/manage?q=a%20b&page=1"));
        assert_eq!(pager.next.as_deref(), Some("/manage?q=a%20b&page=3"));
    }
}

//! `GET /`: the library — "continue watching", rows per category or channel, a search or
//! category grid, pages.

use super::*;

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

/// The library page's parameters, parsed.
#[derive(Debug, Clone, PartialEq)]
struct LibraryRequest {
    /// The search text (empty: no search).
    q: String,
    category: Option<String>,
    sort: Sort,
    /// `sort`'s value in links and the sort menu.
    sort_value: &'static str,
    view: View,
    page: u32,
}

impl LibraryRequest {
    fn parse(params: &LibraryParams) -> LibraryRequest {
        let (sort, sort_value) = parse_sort(params.sort.as_deref());
        LibraryRequest {
            q: parse_search(params.q.as_deref()),
            category: params.category.clone().filter(|c| !c.is_empty()),
            sort,
            sort_value,
            view: match params.view.as_deref() {
                Some("channel") => View::Channel,
                _ => View::Category,
            },
            page: parse_page(params.page.as_deref()),
        }
    }

    /// A search or a category: one grid instead of rows.
    fn filtered(&self) -> bool {
        !self.q.is_empty() || self.category.is_some()
    }

    fn limit(&self) -> u32 {
        if self.filtered() {
            GRID_LIMIT
        } else {
            BROWSE_LIMIT
        }
    }

    /// The profile's unfinished videos show above the rows of the unfiltered first page.
    fn shows_shelf(&self) -> bool {
        !self.filtered() && self.page == 1
    }
}

/// What the library page reads from the database.
struct LibraryData {
    /// Every category (also the ones the viewer may not see).
    categories: Vec<Category>,
    /// The requested page of videos (only visible ones).
    listing: ListResult,
    /// How many videos the viewer can see in all.
    library_total: u64,
    /// "Continue watching": the profile's saved positions with their videos.
    resume: Vec<(Progress, VideoRecord)>,
}

/// The library page's view model: the template's context.
#[derive(Serialize)]
struct LibraryView {
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

/// `GET /`: the library.
pub(crate) async fn library(
    State(state): State<AppState>,
    access: Access,
    Query(params): Query<LibraryParams>,
) -> Response {
    let request = LibraryRequest::parse(&params);
    let audience = Audience::of(&access);
    let profile = access.profile().map(|p| p.id);
    let data = match read(&state, &request, audience.allowed.clone(), profile).await {
        Ok(data) => data,
        Err(err) => return db_failed(&state, &access, err).await,
    };
    let frame = Frame::new(&Site::for_config(&state.config), &access);
    let view = build(frame, &audience, request, data);
    page(&state, StatusCode::OK, "library.html", view).await
}

/// The categories, the requested page of videos visible to `allowed`, their total and, for
/// `profile` on the shelf's page, its "continue watching" videos.
async fn read(
    state: &AppState,
    request: &LibraryRequest,
    allowed: Option<Vec<String>>,
    profile: Option<i64>,
) -> DbResult<LibraryData> {
    let query = ListQuery {
        search: (!request.q.is_empty()).then(|| request.q.clone()),
        category: request.category.clone(),
        allowed_categories: allowed.clone(),
        sort: request.sort,
        page: Some((request.page, request.limit())),
    };
    let shelf_of = profile.filter(|_| request.shows_shelf());
    state
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
            Ok(LibraryData {
                categories: categories::list(conn)?,
                listing: videos::list(conn, &query)?,
                library_total: videos::list(conn, &everything)?.total_count,
                resume,
            })
        })
        .await
}

/// Shapes the library page (pure).
fn build(
    frame: Frame,
    audience: &Audience,
    request: LibraryRequest,
    data: LibraryData,
) -> LibraryView {
    let LibraryData {
        categories: mut all_categories,
        listing,
        library_total,
        resume,
    } = data;
    let filtered = request.filtered();
    let LibraryRequest {
        q,
        category,
        sort_value,
        view,
        page: page_number,
        ..
    } = request;
    // A kid's profile shows only its categories (and their counts are all its own videos).
    all_categories.retain(|c| audience.sees_category(&c.slug));
    let continue_watching: Vec<Card> = resume
        .iter()
        .map(|(saved, video)| resume_card(saved, video))
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
    let limit = if filtered { GRID_LIMIT } else { BROWSE_LIMIT };
    let category_for_links = category.clone().unwrap_or_default();
    let pages = pager(page_number, listing.total_count, limit, |p| {
        let p = p.to_string();
        href(
            "/",
            &[
                ("q", &q),
                ("category", &category_for_links),
                ("view", if filtered { "" } else { view_value }),
                ("sort", sort_param),
                ("page", if p == "1" { "" } else { &p }),
            ],
        )
    });
    let empty = listing.total_count == 0;
    let empty_message = match (library_total, filtered) {
        (0, _) if !audience.may_add => "No videos here yet. Ask a parent to add some.",
        (0, _) => "No videos found. Add one from the Add page — paste a link or upload a file.",
        (_, true) => "No videos found. Try another word or clear the search.",
        _ => "No videos on this page.",
    };

    LibraryView {
        chrome: frame.chrome(
            "library",
            if filtered {
                heading.clone()
            } else {
                "Library".into()
            },
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
    }
}

/// A "continue watching" card: how far the profile got, 1–99 % (a started video never shows
/// as unwatched or finished); no bar without a known duration.
fn resume_card(saved: &Progress, video: &VideoRecord) -> Card {
    let mut card = Card::new(video);
    let total = saved.duration.or(video.duration).filter(|d| *d > 0.0);
    card.progress = total.map(|d| ((saved.position / d) * 100.0).clamp(1.0, 99.0) as u32);
    card
}

/// One row per category in the categories' order; uncategorised videos last.
fn by_category(videos: &[VideoRecord], all: &[Category], sort_param: &str) -> Vec<Group> {
    let mut buckets: BTreeMap<usize, Vec<Card>> = BTreeMap::new();
    // A category the list does not name goes with the uncategorised videos: one row, one key.
    let position = |slug: &Option<String>| {
        slug.as_ref()
            .and_then(|slug| all.iter().position(|c| &c.slug == slug))
            .unwrap_or(all.len())
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

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    fn request(pairs: &[(&str, &str)]) -> LibraryRequest {
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned())
        };
        LibraryRequest::parse(&LibraryParams {
            q: get("q"),
            category: get("category"),
            sort: get("sort"),
            page: get("page"),
            view: get("view"),
        })
    }

    fn listing(videos: Vec<VideoRecord>, total_count: u64) -> ListResult {
        ListResult {
            total_size: videos.iter().map(|v| v.size).sum(),
            videos,
            total_count,
        }
    }

    fn data(videos: Vec<VideoRecord>, total_count: u64) -> LibraryData {
        LibraryData {
            categories: vec![
                category("kids", "Kids", 2),
                category("music", "Music", 1),
                category("family", "Family", 0),
            ],
            library_total: total_count,
            listing: listing(videos, total_count),
            resume: Vec::new(),
        }
    }

    fn three() -> Vec<VideoRecord> {
        vec![
            in_category("k1", "kids"),
            in_category("m1", "music"),
            in_category("k2", "kids"),
        ]
    }

    fn saved(position: f64, duration: Option<f64>) -> Progress {
        Progress {
            video_id: "v".into(),
            position,
            duration,
            completed: false,
            updated_at: String::new(),
        }
    }

    fn titles(groups: &[Group]) -> Vec<(&str, Vec<&str>)> {
        groups
            .iter()
            .map(|g| {
                (
                    g.title.as_str(),
                    g.cards.iter().map(|c| c.id.as_str()).collect(),
                )
            })
            .collect()
    }

    fn labels(links: &[Link]) -> Vec<(&str, &str, bool)> {
        links
            .iter()
            .map(|l| (l.label.as_str(), l.href.as_str(), l.active))
            .collect()
    }

    #[test]
    fn parameters_are_parsed_with_defaults() {
        let r = request(&[]);
        assert_eq!(
            (
                r.q.as_str(),
                r.category.as_deref(),
                r.sort_value,
                r.view,
                r.page
            ),
            ("", None, "-added", View::Category, 1)
        );
        assert!(!r.filtered() && r.shows_shelf());
        assert_eq!(r.limit(), BROWSE_LIMIT);
        let r = request(&[
            ("q", "  dino "),
            ("category", ""),
            ("sort", "-duration"),
            ("page", "3"),
            ("view", "channel"),
        ]);
        assert_eq!(
            (r.q.as_str(), r.category.as_deref(), r.sort, r.view, r.page),
            ("dino", None, Sort::DurationDesc, View::Channel, 3)
        );
        assert!(r.filtered() && !r.shows_shelf());
        assert_eq!(r.limit(), GRID_LIMIT);
        assert_eq!(request(&[("view", "bogus")]).view, View::Category);
        assert!(request(&[("category", "kids")]).filtered());
        assert!(!request(&[("page", "2")]).shows_shelf());
    }

    #[test]
    fn browsing_groups_by_category() {
        let view = build(frame(), &parent(), request(&[]), data(three(), 3));
        assert!(!view.filtered);
        assert!(view.cards.is_empty());
        assert_eq!(
            titles(&view.groups),
            [("Kids", vec!["k1", "k2"]), ("Music", vec!["m1"])]
        );
        assert_eq!(
            (view.heading.as_str(), view.chrome.title.as_str()),
            ("Video Library", "Library")
        );
        assert_eq!(view.chrome.page, "library");
        assert_eq!(
            (view.count.as_str(), view.library_count.as_str()),
            ("3 videos available", "3 videos")
        );
        assert_eq!(view.total_size, "3 B");
        assert!(!view.empty);
        assert!(view.pager.is_none());
    }

    #[test]
    fn browsing_by_channel_keeps_the_view_in_links() {
        let mut videos = three();
        videos[0].channel = Some("Zoo".into());
        videos[2].channel = Some("apes".into());
        let view = build(
            frame(),
            &parent(),
            request(&[("view", "channel"), ("sort", "title")]),
            data(videos, 3),
        );
        assert_eq!(
            titles(&view.groups),
            [
                ("apes", vec!["k2"]),
                ("Zoo", vec!["k1"]),
                ("Other", vec!["m1"])
            ]
        );
        assert_eq!(view.view, "channel");
        assert_eq!(
            labels(&view.views),
            [
                ("By category", "/?sort=title", false),
                ("By channel", "/?view=channel&sort=title", true)
            ]
        );
        // "All" keeps the view; a category chip does not (a category is a grid).
        assert_eq!(
            labels(&view.chips),
            [
                ("All", "/?view=channel&sort=title", true),
                ("Kids", "/?category=kids&sort=title", false),
                ("Music", "/?category=music&sort=title", false)
            ]
        );
        let selected: Vec<_> = view
            .sorts
            .iter()
            .filter(|c| c.selected)
            .map(|c| c.value.as_str())
            .collect();
        assert_eq!(selected, ["title"]);
        assert_eq!(view.sorts.len(), SORTS.len());
    }

    #[test]
    fn headings_name_the_search_and_the_category() {
        let heading = |pairs: &[(&str, &str)]| {
            let view = build(frame(), &parent(), request(pairs), data(three(), 3));
            (view.heading, view.chrome.title, view.filtered)
        };
        assert_eq!(
            heading(&[("category", "kids")]),
            ("Kids".into(), "Kids".into(), true)
        );
        assert_eq!(
            heading(&[("q", "dino"), ("category", "music")]),
            ("“dino” in Music".into(), "“dino” in Music".into(), true)
        );
        assert_eq!(
            heading(&[("q", "dino")]),
            (
                "Results for “dino”".into(),
                "Results for “dino”".into(),
                true
            )
        );
        // An unknown category is named by its slug.
        assert_eq!(heading(&[("category", "gone")]).0, "gone");
    }

    #[test]
    fn a_search_is_one_grid() {
        let view = build(
            frame(),
            &parent(),
            request(&[("q", "k"), ("category", "kids")]),
            data(three(), 3),
        );
        assert!(view.groups.is_empty());
        let ids: Vec<_> = view.cards.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["k1", "m1", "k2"]);
        assert_eq!((view.q.as_str(), view.category.as_str()), ("k", "kids"));
        assert_eq!(
            labels(&view.chips)[..2],
            [("All", "/", false), ("Kids", "/?category=kids", true)]
        );
    }

    #[test]
    fn pages_link_to_their_neighbours() {
        let view = build(
            frame(),
            &parent(),
            request(&[
                ("q", "a b"),
                ("page", "2"),
                ("sort", "title"),
                ("view", "channel"),
            ]),
            data(three(), 3 * u64::from(GRID_LIMIT)),
        );
        let pager = view.pager.expect("three pages");
        assert_eq!((pager.page, pager.pages), (2, 3));
        // The first page has no `page`; a grid has no `view`.
        assert_eq!(pager.previous.as_deref(), Some("/?q=a%20b&sort=title"));
        assert_eq!(pager.next.as_deref(), Some("/?q=a%20b&sort=title&page=3"));

        let view = build(
            frame(),
            &parent(),
            request(&[("view", "channel")]),
            data(three(), u64::from(BROWSE_LIMIT) + 1),
        );
        let pager = view.pager.expect("two pages");
        assert_eq!((pager.page, pager.pages), (1, 2));
        assert_eq!(pager.previous, None);
        assert_eq!(pager.next.as_deref(), Some("/?view=channel&page=2"));
    }

    #[test]
    fn continue_watching_shows_progress_between_1_and_99_percent() {
        let mut data = data(Vec::new(), 0);
        let long = VideoRecord {
            duration: Some(200.0),
            ..video("long")
        };
        data.resume = vec![
            (saved(50.0, Some(100.0)), video("half")),
            (saved(0.1, Some(100.0)), video("barely")),
            (saved(100.0, Some(100.0)), video("done")),
            // The saved duration is unknown: the video's own.
            (saved(50.0, None), long.clone()),
            // No duration at all, or a zero one: no bar.
            (saved(50.0, None), video("unknown")),
            (saved(50.0, Some(0.0)), video("zero")),
        ];
        let view = build(frame(), &parent(), request(&[]), data);
        let progress: Vec<_> = view
            .continue_watching
            .iter()
            .map(|c| (c.id.as_str(), c.progress))
            .collect();
        assert_eq!(
            progress,
            [
                ("half", Some(50)),
                ("barely", Some(1)),
                ("done", Some(99)),
                ("long", Some(25)),
                ("unknown", None),
                ("zero", None)
            ]
        );
        assert_eq!(view.continue_watching[0].href, "/watch/half");
    }

    #[test]
    fn a_kid_sees_only_the_allowed_categories() {
        let view = build(
            frame(),
            &kid(&["music"]),
            request(&[]),
            data(vec![in_category("m1", "music")], 1),
        );
        assert_eq!(
            labels(&view.chips),
            [("All", "/", true), ("Music", "/?category=music", false)]
        );
        assert_eq!(titles(&view.groups), [("Music", vec!["m1"])]);
        // A category the kid may not see is named by its slug only.
        let view = build(
            frame(),
            &kid(&["music"]),
            request(&[("category", "kids")]),
            data(Vec::new(), 0),
        );
        assert_eq!(view.heading, "kids");
    }

    #[test]
    fn empty_messages_depend_on_the_library_and_the_viewer() {
        let message = |audience: &Audience, pairs: &[(&str, &str)], library_total: u64| {
            let mut data = data(Vec::new(), 0);
            data.library_total = library_total;
            let view = build(frame(), audience, request(pairs), data);
            assert!(view.empty);
            view.empty_message
        };
        assert_eq!(
            message(&kid(&[]), &[], 0),
            "No videos here yet. Ask a parent to add some."
        );
        assert_eq!(
            message(&parent(), &[("q", "x")], 0),
            "No videos found. Add one from the Add page — paste a link or upload a file."
        );
        assert_eq!(
            message(&parent(), &[("q", "x")], 5),
            "No videos found. Try another word or clear the search."
        );
        assert_eq!(
            message(&kid(&["kids"]), &[("page", "4")], 5),
            "No videos on this page."
        );
    }

    #[test]
    fn channel_groups_are_alphabetical_with_other_last() {
        let with_channel = |id: &str, channel: Option<&str>| VideoRecord {
            channel: channel.map(Into::into),
            ..video(id)
        };
        let videos = [
            with_channel("a", Some("zoo")),
            with_channel("b", None),
            with_channel("c", Some("Other")),
            with_channel("d", Some("apes")),
            with_channel("e", Some("zoo")),
            with_channel("f", Some("  ")),
        ];
        let groups = by_channel(&videos);
        assert_eq!(
            titles(&groups),
            [
                ("apes", vec!["d"]),
                ("Other", vec!["c"]),
                ("zoo", vec!["a", "e"]),
                ("Other", vec!["b", "f"])
            ]
        );
        let keys: Vec<_> = groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["ch-0", "ch-1", "ch-2", "ch-other"]);
        assert_eq!(groups[2].count, "2 videos");
        assert!(groups.iter().all(|g| g.see_all.is_none()));
    }

    #[test]
    fn category_groups_follow_the_category_order() {
        let all = vec![category("kids", "Kids", 1), category("music", "Music", 9)];
        let videos = [
            in_category("a", "music"),
            video("b"),
            in_category("c", "kids"),
        ];
        let groups = by_category(&videos, &all, "-title");
        assert_eq!(
            titles(&groups),
            [
                ("Kids", vec!["c"]),
                ("Music", vec!["a"]),
                ("Uncategorised", vec!["b"])
            ]
        );
        assert_eq!(
            groups[1].see_all.as_deref(),
            Some("/?category=music&sort=-title")
        );
        assert_eq!(groups[0].see_all, None);
        assert_eq!(
            (groups[0].count.as_str(), groups[1].count.as_str()),
            ("1 video", "9 videos")
        );
        assert_eq!(groups[0].key, "c-kids");
        assert_eq!(groups[2].key, "uncategorised");
    }

    #[test]
    fn a_category_the_list_does_not_name_joins_the_uncategorised_row() {
        let all = vec![category("kids", "Kids", 1)];
        let videos = [
            in_category("a", "gone"),
            video("b"),
            in_category("c", "kids"),
        ];
        let groups = by_category(&videos, &all, "");
        assert_eq!(
            titles(&groups),
            [("Kids", vec!["c"]), ("Uncategorised", vec!["a", "b"])]
        );
        let keys: Vec<&str> = groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["c-kids", "uncategorised"], "row keys are unique");
    }
}

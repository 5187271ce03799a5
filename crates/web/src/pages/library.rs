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

#[cfg(test)]
mod tests {
    use super::*;

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

//! `GET /manage`: edit titles and categories, delete videos, manage categories, profiles,
//! tokens, the library folder and sources.

use super::*;

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

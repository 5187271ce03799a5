//! `GET /watch/{id}`: the player with subtitles, downloads, progress and related videos.

use super::*;

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
}

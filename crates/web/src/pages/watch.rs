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

/// The player's facts about the video.
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

/// The watch page's view model: the template's context.
#[derive(Serialize)]
struct WatchView {
    chrome: Chrome,
    video: Player,
    progress_profile: Option<i64>,
    resume: Option<Resume>,
    next: Option<Card>,
    related: Vec<Card>,
}

/// What the watch page reads from the database.
struct WatchData {
    video: VideoRecord,
    /// The videos of the same category the viewer can see, by title (the video among them).
    siblings: Vec<VideoRecord>,
    categories: Vec<Category>,
    /// The profile's saved position in the video.
    saved: Option<Progress>,
}

/// `GET /watch/{id}`: the player.
pub(crate) async fn watch(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
) -> Response {
    let profile = access.profile().map(|p| p.id);
    let data = match read(&state, id, &access, profile).await {
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
    let frame = Frame::new(&Site::for_config(&state.config), &access);
    page(
        &state,
        StatusCode::OK,
        "watch.html",
        build(frame, profile, data),
    )
    .await
}

/// The video `id` with its siblings, the categories and `profile`'s saved position;
/// [`DbError::NotFound`] also for a video the viewer may not see.
async fn read(
    state: &AppState,
    id: String,
    access: &Access,
    profile: Option<i64>,
) -> DbResult<WatchData> {
    let allowed = access.allowed_categories();
    let visible = access.clone();
    state
        .db
        .read(move |conn| {
            let video = videos::get(conn, &id)?;
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
                Some(profile) => progress::get(conn, profile, &id)?,
                None => None,
            };
            Ok(WatchData {
                video,
                siblings: siblings.videos,
                categories: categories::list(conn)?,
                saved,
            })
        })
        .await
}

/// Shapes the watch page (pure); `profile` is the viewer's, whose progress the page saves.
fn build(frame: Frame, profile: Option<i64>, data: WatchData) -> WatchView {
    let WatchData {
        video,
        siblings,
        categories: all_categories,
        saved,
    } = data;
    let (next, related) = up_next(&video, &siblings);
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
    WatchView {
        chrome: frame.chrome("watch", video.title.clone()),
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
            tracks: tracks(&video),
            downloads: downloads(&video),
            source_url,
        },
        next,
        related,
    }
}

/// "Up next" is the following video of the same category by title (wrapping around);
/// related videos are the ones after it.
fn up_next(video: &VideoRecord, siblings: &[VideoRecord]) -> (Option<Card>, Vec<Card>) {
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
    (next, related)
}

/// The player's `<track>`s: the WebVTT subtitles (browsers play no other format).
fn tracks(video: &VideoRecord) -> Vec<Track> {
    video
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
        .collect()
}

/// The download links: the video, its audio, every subtitle file.
fn downloads(video: &VideoRecord) -> Vec<Download> {
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
            label: match language_name(&language) {
                Some(name) => format!("Subtitles: {name} ({ext})"),
                None => format!("Subtitles ({ext})"),
            },
            filename: download_name(&subtitle.name),
        });
    }
    downloads
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    fn data(video: VideoRecord, siblings: Vec<VideoRecord>) -> WatchData {
        WatchData {
            video,
            siblings,
            categories: vec![category("kids", "Kids", 3)],
            saved: None,
        }
    }

    fn ids(cards: &[Card]) -> Vec<&str> {
        cards.iter().map(|c| c.id.as_str()).collect()
    }

    /// `Clip.mp4` with a thumbnail, an audio track and subtitles in several formats.
    fn clip() -> VideoRecord {
        VideoRecord {
            title: "A <clip>".into(),
            category: Some("kids".into()),
            channel: Some("Zoo".into()),
            description: Some("About apes".into()),
            duration: Some(65.0),
            width: Some(1280),
            height: Some(720),
            size: 3 * 1024 * 1024,
            added_at: "2024-05-01T10:00:00Z".into(),
            source_url: Some("https://example.com/v?id=1".into()),
            files: vec![
                file("Clip.webp", FileKind::Thumbnail, None),
                file("Clip.en.vtt", FileKind::Subtitle, Some("en")),
                file("Clip.de-AT.vtt", FileKind::Subtitle, Some("de-AT")),
                file("Clip.vtt", FileKind::Subtitle, Some("unknown")),
                file("Clip.en.srt", FileKind::Subtitle, Some("en")),
                file("Clip.mp3", FileKind::Audio, None),
            ],
            ..video("Clip One")
        }
    }

    #[test]
    fn the_player_describes_the_video() {
        let view = build(frame(), None, data(clip(), Vec::new()));
        let player = &view.video;
        assert_eq!(view.chrome.title, "A <clip>");
        assert_eq!(view.chrome.page, "watch");
        assert_eq!(player.id, "Clip One");
        assert_eq!(player.src, "/api/stream/Clip%20One.mp4");
        assert_eq!(player.mime, "video/mp4");
        assert_eq!(player.poster.as_deref(), Some("/api/thumbnails/Clip.webp"));
        assert_eq!(player.duration.as_deref(), Some("1:05"));
        assert_eq!(player.size, "3.0 MB");
        assert_eq!(player.resolution.as_deref(), Some("1280×720"));
        assert_eq!(player.added, "2024-05-01");
        assert_eq!(player.channel.as_deref(), Some("Zoo"));
        assert_eq!(player.description.as_deref(), Some("About apes"));
        assert_eq!(
            player.source_url.as_deref(),
            Some("https://example.com/v?id=1")
        );
        let category = player.category.as_ref().expect("a category link");
        assert_eq!(
            (
                category.label.as_str(),
                category.href.as_str(),
                category.active
            ),
            ("Kids", "/?category=kids", false)
        );
    }

    #[test]
    fn missing_facts_stay_out_of_the_player() {
        let bare = VideoRecord {
            description: Some("  \n".into()),
            width: Some(640),
            source_url: Some("javascript:alert(1)".into()),
            category: Some("gone".into()),
            ..video("bare")
        };
        let view = build(frame(), None, data(bare, Vec::new()));
        let player = &view.video;
        assert_eq!(player.description, None);
        assert_eq!(player.resolution, None);
        assert_eq!(player.duration, None);
        assert_eq!(player.source_url, None);
        assert_eq!(player.poster, None);
        assert!(player.tracks.is_empty());
        // A category not in the list is named by its slug.
        assert_eq!(
            player.category.as_ref().map(|c| c.label.as_str()),
            Some("gone")
        );
        let plain = build(frame(), None, data(video("plain"), Vec::new()));
        assert!(plain.video.category.is_none());
        let http = VideoRecord {
            source_url: Some("http://example.com/".into()),
            ..video("http")
        };
        let view = build(frame(), None, data(http, Vec::new()));
        assert_eq!(
            view.video.source_url.as_deref(),
            Some("http://example.com/")
        );
    }

    #[test]
    fn subtitles_become_tracks_only_as_webvtt() {
        let tracks = tracks(&clip());
        let seen: Vec<_> = tracks
            .iter()
            .map(|t| (t.src.as_str(), t.srclang.as_deref(), t.label.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                ("/api/download/Clip.en.vtt", Some("en"), "English"),
                (
                    "/api/download/Clip.de-AT.vtt",
                    Some("de-AT"),
                    "Deutsch (de-AT)"
                ),
                ("/api/download/Clip.vtt", None, "Subtitles"),
            ]
        );
    }

    #[test]
    fn downloads_offer_the_video_the_audio_and_every_subtitle() {
        let downloads = downloads(&clip());
        let seen: Vec<_> = downloads
            .iter()
            .map(|d| (d.label.as_str(), d.href.as_str(), d.filename.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "Download video",
                    "/api/download/Clip%20One.mp4",
                    "Clip_One.mp4"
                ),
                ("Download audio", "/api/download/Clip.mp3", "Clip.mp3"),
                (
                    "Subtitles: English (VTT)",
                    "/api/download/Clip.en.vtt",
                    "Clip.en.vtt"
                ),
                (
                    "Subtitles: Deutsch (de-AT) (VTT)",
                    "/api/download/Clip.de-AT.vtt",
                    "Clip.de-AT.vtt"
                ),
                ("Subtitles (VTT)", "/api/download/Clip.vtt", "Clip.vtt"),
                (
                    "Subtitles: English (SRT)",
                    "/api/download/Clip.en.srt",
                    "Clip.en.srt"
                ),
            ]
        );
        // Without audio or subtitles, only the video.
        assert_eq!(downloads_of_plain(), ["Download video"]);
    }

    fn downloads_of_plain() -> Vec<String> {
        downloads(&video("plain"))
            .into_iter()
            .map(|d| d.label)
            .collect()
    }

    #[test]
    fn up_next_is_the_following_sibling_wrapping_around() {
        let siblings: Vec<VideoRecord> = ["a", "b", "c", "d"].into_iter().map(video).collect();
        let view = build(frame(), None, data(video("c"), siblings.clone()));
        assert_eq!(view.next.as_ref().map(|c| c.id.as_str()), Some("d"));
        assert_eq!(ids(&view.related), ["a", "b"]);
        assert_eq!(
            view.next.as_ref().map(|c| c.href.as_str()),
            Some("/watch/d")
        );

        let (next, related) = up_next(&video("d"), &siblings);
        assert_eq!(next.map(|c| c.id), Some("a".to_owned()));
        assert_eq!(ids(&related), ["b", "c"]);

        // The video alone: nothing next.
        let (next, related) = up_next(&video("a"), &siblings[..1]);
        assert!(next.is_none() && related.is_empty());
    }

    #[test]
    fn related_videos_are_bounded() {
        let siblings: Vec<VideoRecord> = (0..30).map(|i| video(&format!("v{i:02}"))).collect();
        let (next, related) = up_next(&video("v05"), &siblings);
        assert_eq!(next.map(|c| c.id), Some("v06".to_owned()));
        assert_eq!(related.len(), RELATED);
        assert_eq!(related.first().map(|c| c.id.as_str()), Some("v07"));
        assert_eq!(related.last().map(|c| c.id.as_str()), Some("v18"));
        // A video missing from its siblings (beyond their first page): they in order.
        let (next, related) = up_next(&video("zz"), &siblings[..3]);
        assert_eq!(next.map(|c| c.id), Some("v00".to_owned()));
        assert_eq!(ids(&related), ["v01", "v02"]);
    }

    #[test]
    fn the_resume_position_is_the_profiles() {
        let mut with_saved = data(clip(), Vec::new());
        with_saved.saved = Some(Progress {
            video_id: "Clip One".into(),
            position: 42.5,
            duration: Some(65.0),
            completed: true,
            updated_at: "2024-06-01T08:00:00Z".into(),
        });
        let view = build(frame(), Some(3), with_saved);
        assert_eq!(view.progress_profile, Some(3));
        let resume = view.resume.expect("a saved position");
        assert_eq!(
            (
                resume.position,
                resume.completed,
                resume.updated_at.as_str()
            ),
            (42.5, true, "2024-06-01T08:00:00Z")
        );
        let view = build(frame(), None, data(clip(), Vec::new()));
        assert!(view.progress_profile.is_none() && view.resume.is_none());
    }

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

//! Sources (issue 16) against a local "channel": an RSS feed served on 127.0.0.1 whose items
//! (`<enclosure>` clips, `pubDate`, `itunes:duration`, `itunes:image`) change between checks,
//! checked by the real yt-dlp and downloaded by the real pipeline. Covers the start point and
//! the per-check maximum, only-new-entries on later checks, no refetch after a restart or after
//! the video was deleted, review mode (approve, reject, all-or-nothing), filters and maximum
//! duration, back-off of a failing source next to a healthy one, parent-only access, and bad
//! input that changes nothing.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::support::media_server::require_ytdlp;
use crate::support::{self, TestServer, anonymous_client, client};

/// One feed item: episode `n` (published on November `n`, 2026), its title and duration.
#[derive(Clone)]
struct Item {
    n: u32,
    title: String,
    /// `itunes:duration` text.
    duration: String,
}

fn item(n: u32, title: &str, duration: &str) -> Item {
    Item {
        n,
        title: title.into(),
        duration: duration.into(),
    }
}

#[derive(Default)]
struct FeedState {
    items: Vec<Item>,
    /// Requests per path.
    hits: HashMap<String, usize>,
}

/// The local channel: `/feed.xml` (the items, newest first), `/clip/<n>.mp4` (the same short
/// clip for every episode), `/thumb/<n>.jpg`, and 404 for anything else.
struct Feed {
    addr: SocketAddr,
    state: Arc<Mutex<FeedState>>,
}

/// The clip and thumbnail every episode serves (generated once).
fn media() -> &'static (PathBuf, PathBuf) {
    static MEDIA: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    MEDIA.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("sofathek-sources-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("media dir");
        let clip = dir.join("clip.mp4");
        support::make_mp4(&clip, 1);
        let thumb = dir.join("thumb.jpg");
        support::ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=640x360:rate=1",
            "-frames:v",
            "1",
            thumb.to_str().expect("utf-8"),
        ]);
        (clip, thumb)
    })
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

impl Feed {
    async fn start(items: Vec<Item>) -> Feed {
        media();
        let state = Arc::new(Mutex::new(FeedState {
            items,
            hits: HashMap::new(),
        }));
        let app = Router::new()
            .route("/feed.xml", get(feed))
            .route("/clip/{name}", get(clip))
            .route("/thumb/{name}", get(thumb))
            .fallback(|| async { StatusCode::NOT_FOUND })
            .with_state(state.clone());
        let addr = support::serve_app(app).await;
        Feed { addr, state }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn push(&self, item: Item) {
        self.state.lock().expect("lock").items.push(item);
    }

    fn hits(&self, path: &str) -> usize {
        let state = self.state.lock().expect("lock");
        state.hits.get(path).copied().unwrap_or(0)
    }
}

fn count(state: &Mutex<FeedState>, path: String) {
    *state.lock().expect("lock").hits.entry(path).or_default() += 1;
}

async fn feed(
    State(state): State<Arc<Mutex<FeedState>>>,
    headers: axum::http::HeaderMap,
) -> Response {
    count(&state, "/feed.xml".into());
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut items = state.lock().expect("lock").items.clone();
    items.sort_by_key(|i| std::cmp::Reverse(i.n));
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
<title>Science Club</title><link>http://example.invalid/</link><description>Test feed</description>
"#,
    );
    for i in items {
        let weekday = WEEKDAYS[((i.n + 6) % 7) as usize]; // 2026-11-01 is a Sunday
        xml.push_str(&format!(
            "<item><title>{title}</title><guid>episode-{n}</guid>\
             <pubDate>{weekday}, {n:02} Nov 2026 10:00:00 GMT</pubDate>\
             <itunes:duration>{duration}</itunes:duration>\
             <itunes:image href=\"http://{host}/thumb/{n}.jpg\"/>\
             <enclosure url=\"http://{host}/clip/{n}.mp4\" type=\"video/mp4\" length=\"1000\"/></item>\n",
            title = i.title,
            n = i.n,
            duration = i.duration,
        ));
    }
    xml.push_str("</channel></rss>\n");
    ([(header::CONTENT_TYPE, "application/rss+xml")], xml).into_response()
}

async fn clip(
    State(state): State<Arc<Mutex<FeedState>>>,
    UrlPath(name): UrlPath<String>,
) -> Response {
    count(&state, format!("/clip/{name}"));
    let bytes = std::fs::read(&media().0).expect("clip");
    ([(header::CONTENT_TYPE, "video/mp4")], bytes).into_response()
}

async fn thumb(
    State(state): State<Arc<Mutex<FeedState>>>,
    UrlPath(name): UrlPath<String>,
) -> Response {
    count(&state, format!("/thumb/{name}"));
    let bytes = std::fs::read(&media().1).expect("thumb");
    ([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response()
}

/// Sends a JSON request with the parent's token; status and body.
async fn send(server: &TestServer, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = client().request(method, server.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Adds a source (201) and waits for its first check.
async fn add(server: &TestServer, body: Value) -> Value {
    let (status, created) = send(server, "POST", "/api/sources", Some(body.clone())).await;
    assert_eq!(status, 201, "{body} → {created}");
    let id = created["data"]["id"].as_str().expect("id").to_owned();
    checked(server, &id, None).await
}

/// Waits until the source's check after `before` (its `lastCheckAt`) has ended.
async fn checked(server: &TestServer, id: &str, before: Option<&str>) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = send(server, "GET", &format!("/api/sources/{id}"), None).await;
        assert_eq!(status, 200, "{body}");
        let source = body["data"].clone();
        let last = source["lastCheckAt"].as_str();
        if last.is_some() && last != before && source["checking"] == false {
            return source;
        }
        assert!(Instant::now() < deadline, "no check ended: {source}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// "Check now" and wait for it.
async fn check_now(server: &TestServer, source: &Value) -> Value {
    let id = source["id"].as_str().expect("id");
    let (status, body) = send(server, "POST", &format!("/api/sources/{id}/check"), None).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["data"]["checking"], true);
    checked(server, id, source["lastCheckAt"].as_str()).await
}

/// Every job, once none is queued or running.
async fn settled_jobs(server: &TestServer) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, body) = send(server, "GET", "/api/jobs", None).await;
        let jobs = body["data"]["jobs"].as_array().cloned().unwrap_or_default();
        if jobs.iter().all(|j| {
            matches!(
                j["state"].as_str(),
                Some("completed" | "failed" | "cancelled")
            )
        }) {
            return jobs;
        }
        assert!(Instant::now() < deadline, "jobs did not finish: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Titles of the library's videos, sorted.
async fn library_titles(server: &TestServer) -> Vec<String> {
    let (_, body) = send(server, "GET", "/api/videos?limit=200", None).await;
    let mut titles: Vec<String> = body["data"]["videos"]
        .as_array()
        .expect("videos")
        .iter()
        .map(|v| {
            v["metadata"]["title"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    titles.sort();
    titles
}

async fn pending(server: &TestServer) -> Vec<Value> {
    let (status, body) = send(server, "GET", "/api/sources/pending", None).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["entries"]
        .as_array()
        .cloned()
        .expect("entries")
}

fn titles_of(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["title"].as_str().unwrap_or_default())
        .collect()
}

fn episodes(range: std::ops::RangeInclusive<u32>) -> Vec<Item> {
    range
        .map(|n| item(n, &format!("Episode {n}"), "00:01"))
        .collect()
}

#[tokio::test]
async fn auto_sources_take_the_start_point_and_maximum_then_only_new_entries() {
    require_ytdlp();
    let feed = Feed::start(episodes(1..=5)).await;
    let server = TestServer::start_with(&["--x264-preset", "ultrafast"]).await;

    // The latest 3 (episodes 3, 4, 5), at most 2 per check, oldest first: 3 and 4.
    let source = add(
        &server,
        json!({ "url": feed.url("/feed.xml"), "category": "kids", "approval": "auto",
                "startLatest": 3, "maxPerCheck": 2 }),
    )
    .await;
    assert_eq!(source["lastError"], Value::Null, "{source}");
    assert_eq!(source["name"], "Science Club", "the feed's title names it");
    assert_eq!(
        source["counts"],
        json!({ "queued": 2, "pending": 0, "rejected": 0, "skipped": 2 })
    );
    let jobs = settled_jobs(&server).await;
    assert_eq!(jobs.len(), 2);
    for job in &jobs {
        assert_eq!(job["state"], "completed", "{job}");
        assert_eq!(job["source"]["id"], source["id"]);
        assert_eq!(job["source"]["name"], "Science Club");
        assert_eq!(job["category"], "kids");
    }
    assert_eq!(library_titles(&server).await, ["Episode 3", "Episode 4"]);

    // A new episode: the next check takes 5 (left over) and 6, nothing else.
    feed.push(item(6, "Episode 6", "00:01"));
    let source = check_now(&server, &source).await;
    assert_eq!(source["counts"]["queued"], 4, "{source}");
    settled_jobs(&server).await;
    assert_eq!(
        library_titles(&server).await,
        ["Episode 3", "Episode 4", "Episode 5", "Episode 6"]
    );
    // (yt-dlp's generic extractor asks twice per download: to sniff, then to fetch.)
    let fetched: Vec<usize> = (1..=6)
        .map(|n| feed.hits(&format!("/clip/{n}.mp4")))
        .collect();
    for (n, hits) in (1..).zip(&fetched) {
        assert_eq!(*hits > 0, n >= 3, "episode {n}: {fetched:?}");
    }

    // A restart remembers what was seen; a deleted video does not come back.
    let dir = server.stop().await;
    let server = TestServer::start_in(dir, &["--x264-preset", "ultrafast"]).await;
    let (_, videos) = send(&server, "GET", "/api/videos?limit=200", None).await;
    let four = videos["data"]["videos"]
        .as_array()
        .expect("videos")
        .iter()
        .find(|v| v["metadata"]["title"] == "Episode 4")
        .expect("episode 4")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, _) = send(&server, "DELETE", &format!("/api/videos/{four}"), None).await;
    assert_eq!(status, 200);
    let (_, body) = send(
        &server,
        "GET",
        &format!("/api/sources/{}", source["id"].as_str().expect("id")),
        None,
    )
    .await;
    let source = check_now(&server, &body["data"]).await;
    assert_eq!(source["counts"]["queued"], 4);
    assert_eq!(source["lastError"], Value::Null);
    assert_eq!(
        settled_jobs(&server).await.len(),
        4,
        "no new job after the restart"
    );
    assert_eq!(
        library_titles(&server).await,
        ["Episode 3", "Episode 5", "Episode 6"]
    );
    let again: Vec<usize> = (1..=6)
        .map(|n| feed.hits(&format!("/clip/{n}.mp4")))
        .collect();
    assert_eq!(again, fetched, "nothing was fetched again");
    assert!(feed.hits("/feed.xml") >= 3);

    let (_, metrics) = {
        let r = client()
            .get(server.url("/metrics"))
            .send()
            .await
            .expect("metrics");
        (r.status(), r.text().await.expect("text"))
    };
    assert!(
        metrics.contains("sofathek_source_checks_total 1"),
        "restarted process counted its check"
    );
}

#[tokio::test]
async fn review_sources_wait_for_a_parent_and_forget_rejected_entries() {
    require_ytdlp();
    let feed = Feed::start(episodes(1..=3)).await;
    let server = TestServer::start_with(&["--x264-preset", "ultrafast"]).await;
    let source = add(
        &server,
        json!({ "url": feed.url("/feed.xml"), "category": "kids", "startLatest": 5 }),
    )
    .await;
    assert_eq!(source["approval"], "review", "review is the default");
    assert_eq!(source["counts"]["pending"], 3);
    assert!(
        settled_jobs(&server).await.is_empty(),
        "nothing downloads before approval"
    );
    let waiting = pending(&server).await;
    assert_eq!(titles_of(&waiting), ["Episode 1", "Episode 2", "Episode 3"]);
    assert_eq!(feed.hits("/clip/1.mp4"), 0);

    // Thumbnails were fetched once, re-encoded small, and are served as JPEG.
    let thumb = waiting[0]["thumbnail"].as_str().expect("a thumbnail");
    let response = client()
        .get(server.url(thumb))
        .send()
        .await
        .expect("thumbnail");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "image/jpeg");
    let bytes = response.bytes().await.expect("bytes");
    assert_eq!(&bytes[..2], &[0xff, 0xd8], "a JPEG");
    assert_eq!(feed.hits("/thumb/1.jpg"), 1);

    // Parents only: anonymous and kids see nothing of it.
    for path in ["/api/sources", "/api/sources/pending", thumb] {
        let r = anonymous_client()
            .get(server.url(path))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 401, "{path}");
    }

    let id = |e: &Value| e["id"].as_i64().expect("entry id");
    // All or nothing: one id that is not pending refuses the whole request.
    let (status, body) = send(
        &server,
        "POST",
        "/api/sources/pending/approve",
        Some(json!({ "ids": [id(&waiting[1]), 999_999] })),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("ENTRY_NOT_FOUND")),
        "{body}"
    );
    assert_eq!(pending(&server).await.len(), 3, "nothing changed");
    let (status, body) = send(
        &server,
        "POST",
        "/api/sources/pending/approve",
        Some(json!({ "ids": [] })),
    )
    .await;
    assert_eq!(status, 400, "{body}");

    // Approve episode 2, reject episode 1.
    let (status, body) = send(
        &server,
        "POST",
        "/api/sources/pending/approve",
        Some(json!({ "ids": [id(&waiting[1])] })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["approved"], 1);
    assert_eq!(body["data"]["jobs"][0]["source"]["name"], "Science Club");
    let (status, body) = send(
        &server,
        "POST",
        "/api/sources/pending/reject",
        Some(json!({ "ids": [id(&waiting[0])] })),
    )
    .await;
    assert_eq!(
        (status, &body["data"]["rejected"]),
        (200, &json!(1)),
        "{body}"
    );
    let jobs = settled_jobs(&server).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["state"], "completed", "{:?}", jobs[0]);
    assert_eq!(library_titles(&server).await, ["Episode 2"]);
    let (status, _) = send(&server, "GET", thumb, None).await;
    assert_eq!(status, 404, "a decided entry's thumbnail is gone");

    // The next check offers neither the rejected nor the approved episode again.
    feed.push(item(4, "Episode 4", "00:01"));
    let source = check_now(&server, &source).await;
    assert_eq!(
        source["counts"],
        json!({ "queued": 1, "pending": 2, "rejected": 1, "skipped": 0 })
    );
    assert_eq!(
        titles_of(&pending(&server).await),
        ["Episode 3", "Episode 4"]
    );
    assert_eq!(
        feed.hits("/clip/1.mp4"),
        0,
        "a rejected entry is never fetched"
    );
}

#[tokio::test]
async fn filters_start_date_and_maximum_duration_decide_what_is_offered() {
    require_ytdlp();
    let feed = Feed::start(vec![
        item(2, "Magnets (old)", "05:00"),
        item(10, "Magnets for kids", "05:00"),
        item(11, "Magnets LIVE all day", "05:00"),
        item(12, "Volcanoes", "05:00"),
        item(13, "Magnets: the long version", "3:00:00"),
        item(14, "Water and magnets", "00:30"),
    ])
    .await;
    let server = TestServer::start().await;
    let source = add(
        &server,
        json!({ "url": feed.url("/feed.xml"), "startAfter": "2026-11-05", "include": "magnet",
                "exclude": "live", "maxDurationMinutes": 60, "maxPerCheck": 10 }),
    )
    .await;
    assert_eq!(source["counts"]["skipped"], 4, "{source}");
    assert_eq!(
        titles_of(&pending(&server).await),
        ["Magnets for kids", "Water and magnets"]
    );
    // Changing a filter does not revive skipped entries (they were seen).
    let id = source["id"].as_str().expect("id");
    let (status, body) = send(
        &server,
        "PATCH",
        &format!("/api/sources/{id}"),
        Some(json!({ "include": null, "exclude": "" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["include"], "");
    let source = check_now(&server, &body["data"]).await;
    assert_eq!(pending(&server).await.len(), 2, "{source}");
}

#[tokio::test]
async fn a_failing_source_backs_off_without_holding_up_others() {
    require_ytdlp();
    let feed = Feed::start(episodes(1..=2)).await;
    let server = TestServer::start().await;
    let broken = add(&server, json!({ "url": feed.url("/gone.xml") })).await;
    let single = add(&server, json!({ "url": feed.url("/clip/1.mp4") })).await;
    let healthy = add(&server, json!({ "url": feed.url("/feed.xml") })).await;

    assert_eq!(healthy["lastError"], Value::Null);
    assert_eq!(healthy["counts"]["pending"], 2);
    assert_eq!(single["lastError"]["code"], "SOURCE_NOT_A_LIST", "{single}");
    assert_eq!(broken["failures"], 1);
    assert!(broken["lastError"]["code"].is_string(), "{broken}");
    assert!(
        broken["lastError"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("channel, playlist or feed"),
        "the message speaks of the source, not of a video: {broken}"
    );

    // 1 h after the first failure, 2 h after the second: later than a retry at once, never
    // later than a week.
    // (The next check counts from the end of the check, `lastCheckAt` is its start.)
    let wait = |s: &Value| {
        let at = |key: &str| {
            let text = s[key].as_str().expect("a time");
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .expect("RFC 3339")
                .unix_timestamp()
        };
        at("nextCheckAt") - at("lastCheckAt")
    };
    assert!((3600..=3630).contains(&wait(&broken)), "{broken}");
    let broken = check_now(&server, &broken).await;
    assert_eq!(broken["failures"], 2);
    assert!((7200..=7230).contains(&wait(&broken)), "{broken}");
    let healthy_after = checked(&server, healthy["id"].as_str().expect("id"), None).await;
    assert_eq!(healthy_after["failures"], 0);

    // A fixed feed recovers at its next check.
    let (status, _) = send(
        &server,
        "DELETE",
        &format!("/api/sources/{}", broken["id"].as_str().expect("id")),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, list) = send(&server, "GET", "/api/sources", None).await;
    assert_eq!(list["data"]["sources"].as_array().map(Vec::len), Some(2));
    let metrics = client()
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("sofathek_source_check_failures_total 3"),
        "{metrics}"
    );
    assert!(metrics.contains("sofathek_source_entries_pending_total 2"));
}

#[tokio::test]
async fn bad_source_requests_are_refused_and_change_nothing() {
    let feed = Feed::start(episodes(1..=1)).await;
    let server = TestServer::start().await;
    let url = feed.url("/feed.xml");
    let cases = [
        (json!({}), 400, "URL_REQUIRED"),
        (
            json!({ "url": "ftp://example.com/feed" }),
            400,
            "URL_UNSUPPORTED_SCHEME",
        ),
        (
            json!({ "url": url, "intervalHours": 0 }),
            400,
            "INVALID_SOURCE",
        ),
        (
            json!({ "url": url, "intervalHours": 721 }),
            400,
            "INVALID_SOURCE",
        ),
        (
            json!({ "url": url, "startAfter": "yesterday" }),
            400,
            "INVALID_SOURCE",
        ),
        (
            json!({ "url": url, "startAfter": "2026-01-01", "startLatest": 3 }),
            400,
            "INVALID_SOURCE",
        ),
        (
            json!({ "url": url, "maxPerCheck": 51 }),
            400,
            "INVALID_SOURCE",
        ),
        (
            json!({ "url": url, "maxDurationMinutes": 0 }),
            400,
            "INVALID_SOURCE",
        ),
        (
            json!({ "url": url, "approval": "maybe" }),
            400,
            "INVALID_SOURCE",
        ),
        (
            json!({ "url": url, "name": "x".repeat(101) }),
            400,
            "INVALID_SOURCE",
        ),
        (
            json!({ "url": url, "include": "a\u{7}b" }),
            400,
            "INVALID_SOURCE",
        ),
        (
            json!({ "url": url, "category": "no-such-category" }),
            400,
            "UNKNOWN_CATEGORY",
        ),
        (json!({ "url": url, "colour": "red" }), 400, "INVALID_JSON"),
    ];
    let mut failures = Vec::new();
    for (body, status, code) in &cases {
        let (got, answer) = send(&server, "POST", "/api/sources", Some(body.clone())).await;
        let got_code = answer["code"].as_str().unwrap_or_default();
        if got != *status || got_code != *code {
            failures.push(format!("{body} → {got} {answer}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // A source's URL is a channel, playlist or feed, and its refusals say so.
    for (body, message) in [
        (json!({}), "A channel, playlist or feed URL is required"),
        (
            json!({ "url": "ftp://example.com/feed" }),
            "Invalid channel, playlist or feed URL: url scheme 'ftp' is not allowed (only http and https)",
        ),
    ] {
        let (_, answer) = send(&server, "POST", "/api/sources", Some(body)).await;
        assert_eq!(answer["message"], message, "{answer}");
    }
    let (_, list) = send(&server, "GET", "/api/sources", None).await;
    assert_eq!(list["data"]["sources"], json!([]), "nothing was added");

    let source = add(&server, json!({ "url": url, "name": "  Club  " })).await;
    assert_eq!(source["name"], "Club");
    let (status, body) = send(&server, "POST", "/api/sources", Some(json!({ "url": url }))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("SOURCE_EXISTS"))
    );
    let id = source["id"].as_str().expect("id");
    let path = format!("/api/sources/{id}");
    let (status, body) = send(
        &server,
        "PATCH",
        &path,
        Some(json!({ "url": feed.url("/other.xml") })),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_SOURCE"))
    );
    let (status, _) = send(
        &server,
        "PATCH",
        &path,
        Some(json!({ "maxPerCheck": 0, "name": "New" })),
    )
    .await;
    assert_eq!(status, 400);
    let (_, after) = send(&server, "GET", &path, None).await;
    assert_eq!(
        after["data"]["name"], "Club",
        "a refused change changes nothing"
    );
    assert_eq!(after["data"]["url"], url);
    let (status, _) = send(&server, "GET", "/api/sources/no-such-id", None).await;
    assert_eq!(status, 404);
    let (status, _) = send(&server, "POST", "/api/sources/no-such-id/check", None).await;
    assert_eq!(status, 404);

    // Paused: no next check; resumed: due again.
    let (status, body) = send(&server, "PATCH", &path, Some(json!({ "enabled": false }))).await;
    assert_eq!(
        (status, &body["data"]["nextCheckAt"]),
        (200, &Value::Null),
        "{body}"
    );
    let (_, body) = send(
        &server,
        "PATCH",
        &path,
        Some(json!({ "enabled": true, "intervalHours": 6 })),
    )
    .await;
    assert_eq!(body["data"]["intervalHours"], 6);
    assert!(body["data"]["nextCheckAt"].is_string());
}

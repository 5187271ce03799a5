//! Family profiles and parent rights against a real server: every mutation refused without a
//! parent (and nothing changes), kids see only their categories by every route, CSRF and
//! same-origin rules, session fixation and revocation, the sign-in throttle, API tokens, the
//! first-run setup, `sofathek admin` and `SOFATHEK_ADMIN_PASSWORD_FILE`, watch progress.

use crate::support;

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use support::{TEST_PASSWORD, TEST_TOKEN, TestServer, anonymous_client, client, original_library};

const KIDS_VIDEO: &str = "Test_Video-abc123";
const MUSIC_VIDEO: &str = "Unknown_Title-3f2504e0-4f89-11d3-9a0c-0305e82c3301";
const PLAIN_VIDEO: &str = "My_Video_File";

/// A browser's session: the cookie and the CSRF token the server gave with it.
#[derive(Clone, Debug)]
struct Session {
    cookie: String,
    csrf: String,
}

impl Session {
    /// The session of a sign-in's (or setup's) answer: its cookie and the CSRF token in it.
    fn from_answer(cookie: String, answer: &Value) -> Session {
        Session {
            cookie,
            csrf: answer["data"]["csrfToken"]
                .as_str()
                .expect("csrf token")
                .to_owned(),
        }
    }

    /// A same-origin request with the cookie and the CSRF token, like the web UI sends.
    fn request(&self, server: &TestServer, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.bare(server, method, path)
            .header("x-csrf-token", &self.csrf)
            .header("origin", format!("http://{}", server.addr))
    }

    /// The cookie alone.
    fn bare(&self, server: &TestServer, method: Method, path: &str) -> reqwest::RequestBuilder {
        anonymous_client()
            .request(method, server.url(path))
            .header("cookie", format!("sofathek_session={}", self.cookie))
    }
}

/// The `Set-Cookie` header of a response (empty if there is none).
fn set_cookie_header(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The session cookie a response sets, if any.
fn set_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("sofathek_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

async fn json_of(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn try_sign_in(
    server: &TestServer,
    profile: i64,
    password: Option<&str>,
) -> (u16, Value, Option<String>) {
    let resp = anonymous_client()
        .post(server.url("/api/session"))
        .json(&json!({ "profileId": profile, "password": password }))
        .send()
        .await
        .expect("sign in");
    let cookie = set_cookie(&resp);
    let (status, body) = json_of(resp).await;
    (status, body, cookie)
}

async fn sign_in(server: &TestServer, profile: i64, password: Option<&str>) -> Session {
    let (status, body, cookie) = try_sign_in(server, profile, password).await;
    assert_eq!(status, 201, "{body}");
    Session::from_answer(cookie.expect("session cookie"), &body)
}

async fn parent_id(server: &TestServer) -> i64 {
    let (status, body) = json_of(
        anonymous_client()
            .get(server.url("/api/profiles"))
            .send()
            .await
            .expect("profiles"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["data"]["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .find(|p| p["kind"] == "parent")
        .and_then(|p| p["id"].as_i64())
        .expect("a parent profile")
}

async fn parent(server: &TestServer) -> Session {
    let id = parent_id(server).await;
    sign_in(server, id, Some(TEST_PASSWORD)).await
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    json_of(req.send().await.expect("request")).await
}

/// Creates a kid profile (as a parent, with the test token) and returns its id.
async fn create_kid(server: &TestServer, name: &str, categories: &[&str]) -> i64 {
    let (status, body) = send(
        client()
            .post(server.url("/api/profiles"))
            .json(&json!({ "name": name, "categories": categories })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_i64().expect("id")
}

/// `PATCH /api/videos/{id}` with `body`, as a parent (the test token).
async fn patch_video(server: &TestServer, id: &str, body: Value) -> (u16, Value) {
    let path = format!("/api/videos/{id}");
    send(client().patch(server.url(&path)).json(&body)).await
}

/// `PATCH /api/profiles/{id}` with `body`, as a parent (the test token).
async fn patch_profile(server: &TestServer, id: i64, body: Value) -> (u16, Value) {
    let path = format!("/api/profiles/{id}");
    send(client().patch(server.url(&path)).json(&body)).await
}

/// The first-run setup through the API, without credentials.
async fn api_setup(server: &TestServer, password: &str) -> reqwest::Response {
    anonymous_client()
        .post(server.url("/api/setup"))
        .json(&json!({ "password": password }))
        .send()
        .await
        .expect("setup")
}

/// A server with the original test library: one video in "kids", one in "music", one without
/// a category.
async fn library_server() -> TestServer {
    let server = TestServer::start().await;
    let src = tempfile::tempdir().expect("tempdir");
    original_library(src.path());
    let report = server.import(src.path()).await;
    assert_eq!(report.imported.len(), 3, "{report:?}");
    for (id, category) in [(KIDS_VIDEO, "kids"), (MUSIC_VIDEO, "music")] {
        let (status, body) = patch_video(&server, id, json!({ "category": category })).await;
        assert_eq!(status, 200, "{body}");
    }
    server
}

/// A finished (cancelled) URL job, written straight into the database so no worker runs it.
async fn finished_job(server: &TestServer) -> String {
    use sofathek::db::jobs::{self, JobKind, NewJob};
    let id = "6f1c1a52-2a40-4c1c-9d6e-2f4d2f0b7a11".to_owned();
    let job = NewJob {
        id: id.clone(),
        kind: JobKind::Url,
        url: Some("https://example.com/watch?v=x".into()),
        title: None,
        category: None,
        audio: false,
        source_name: None,
        source_file: None,
        metadata: None,
        request_id: "test".into(),
        source_id: None,
    };
    let stored = id.clone();
    server
        .state
        .db
        .write(move |tx| {
            jobs::insert(tx, &job)?;
            jobs::cancel_queued(tx, &stored)?;
            Ok(())
        })
        .await
        .expect("job");
    id
}

/// Files under a directory with their sizes, sorted.
fn files_under(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .expect("inside")
                    .to_string_lossy()
                    .into_owned();
                out.push((name, meta.len()));
            }
        }
    }
    out.sort();
    out
}

/// Everything a refused request could have changed: catalogue, categories, profiles, jobs,
/// tokens, the library and staging directories.
async fn snapshot(server: &TestServer) -> Value {
    let mut state = json!({});
    for path in [
        "/api/videos",
        "/api/categories",
        "/api/profiles",
        "/api/jobs",
        "/api/youtube/queue",
        "/api/tokens",
    ] {
        let (status, mut body) = server.get_json(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        if let Some(data) = body["data"].as_object_mut() {
            data.remove("scannedAt");
        }
        if let Some(tokens) = body["data"]["tokens"].as_array_mut() {
            for token in tokens {
                token["lastUsedAt"] = Value::Null;
            }
        }
        state[path] = body;
    }
    state["library"] = json!(files_under(&server.library()));
    state["staging"] = json!(files_under(&server.state.layout.staging));
    state
}

/// Every mutating route of the API, with a body that a parent's request would carry.
fn mutations(job: &str, kid: i64, token: i64) -> Vec<(Method, String, Option<Value>)> {
    let video = format!("/api/videos/{KIDS_VIDEO}");
    vec![
        (
            Method::POST,
            "/api/jobs".into(),
            Some(json!({ "url": "https://example.com/v" })),
        ),
        (Method::DELETE, format!("/api/jobs/{job}"), None),
        (Method::POST, format!("/api/jobs/{job}/retry"), None),
        (
            Method::PATCH,
            video.clone(),
            Some(json!({ "title": "Changed" })),
        ),
        (Method::DELETE, video, None),
        (
            Method::POST,
            "/api/categories".into(),
            Some(json!({ "name": "Nature" })),
        ),
        (
            Method::PATCH,
            "/api/categories/kids".into(),
            Some(json!({ "name": "Little ones" })),
        ),
        (Method::DELETE, "/api/categories/kids".into(), None),
        (
            Method::POST,
            "/api/profiles".into(),
            Some(json!({ "name": "Intruder" })),
        ),
        (
            Method::PATCH,
            format!("/api/profiles/{kid}"),
            Some(json!({ "categories": ["music"] })),
        ),
        (Method::DELETE, format!("/api/profiles/{kid}"), None),
        (
            Method::POST,
            "/api/tokens".into(),
            Some(json!({ "name": "mine" })),
        ),
        (Method::DELETE, format!("/api/tokens/{token}"), None),
        (
            Method::PUT,
            "/api/password".into(),
            Some(json!({ "currentPassword": "guess", "newPassword": "a new password" })),
        ),
        (
            Method::POST,
            "/api/youtube/download".into(),
            Some(json!({ "url": "https://example.com/v" })),
        ),
        (Method::DELETE, format!("/api/youtube/download/{job}"), None),
        (
            Method::POST,
            "/api/youtube/queue/cleanup".into(),
            Some(json!({ "maxAgeHours": 0 })),
        ),
        (Method::DELETE, "/api/youtube/queue".into(), None),
    ]
}

fn upload_form() -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        "video",
        reqwest::multipart::Part::bytes(vec![0u8; 4096]).file_name("clip.mp4"),
    )
}

/// An upload of a small file without credentials.
fn anonymous_upload(server: &TestServer) -> reqwest::RequestBuilder {
    anonymous_client()
        .post(server.url("/api/videos/upload"))
        .multipart(upload_form())
}

fn with_body(req: reqwest::RequestBuilder, body: &Option<Value>) -> reqwest::RequestBuilder {
    match body {
        Some(body) => req.json(body),
        None => req,
    }
}

#[tokio::test]
async fn mutations_without_parent_rights_are_refused_and_change_nothing() {
    let server = library_server().await;
    let job = finished_job(&server).await;
    let kid = create_kid(&server, "Mia", &["kids"]).await;
    let (_, listed) = server.get_json("/api/tokens").await;
    let token = listed["data"]["tokens"][0]["id"]
        .as_i64()
        .expect("token id");
    let kid_session = sign_in(&server, kid, None).await;
    let before = snapshot(&server).await;

    let mut refused = 0;
    for (method, path, body) in mutations(&job, kid, token) {
        // No credentials: 401.
        let req = anonymous_client().request(method.clone(), server.url(&path));
        let (status, answer) = send(with_body(req, &body)).await;
        assert_eq!(status, 401, "anonymous {method} {path}: {answer}");
        assert_eq!(answer["status"], "error");
        assert_eq!(answer["code"], "AUTH_REQUIRED", "{answer}");
        // A revoked or made-up token: 401.
        let req = anonymous_client()
            .request(method.clone(), server.url(&path))
            .bearer_auth("sft_NotARealTokenNotARealTokenNotARealToken1234");
        let (status, answer) = send(with_body(req, &body)).await;
        assert_eq!(status, 401, "bad token {method} {path}: {answer}");
        // A kid, with a valid CSRF token: 403.
        let req = kid_session.request(&server, method.clone(), &path);
        let (status, answer) = send(with_body(req, &body)).await;
        assert_eq!(status, 403, "kid {method} {path}: {answer}");
        assert_eq!(answer["code"], "PARENT_REQUIRED", "{answer}");
        refused += 3;
    }
    // The upload is refused before a byte of it is stored.
    let (status, answer) = send(anonymous_upload(&server)).await;
    assert_eq!(status, 401, "{answer}");
    let (status, answer) = send(
        kid_session
            .request(&server, Method::POST, "/api/videos/upload")
            .multipart(upload_form()),
    )
    .await;
    assert_eq!(status, 403, "{answer}");
    assert!(refused > 50);

    let after = snapshot(&server).await;
    assert_eq!(before, after, "a refused request changed something");

    // The same requests with the parent token do change things (the refusals meant something).
    let (status, answer) = patch_video(&server, KIDS_VIDEO, json!({ "title": "Changed" })).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn before_setup_mutations_are_refused_with_an_explanation_and_reads_are_open() {
    let server = TestServer::start_fresh().await;
    let (status, session) = send(anonymous_client().get(server.url("/api/session"))).await;
    assert_eq!(status, 200);
    assert_eq!(session["data"]["setup"], false, "{session}");
    // Reads are open on a fresh install.
    let (status, body) = send(anonymous_client().get(server.url("/api/videos"))).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = send(anonymous_client().get(server.url("/api/jobs"))).await;
    assert_eq!(status, 200);
    // Every mutation is refused, even with a token (none can exist yet).
    for (method, path, body) in mutations("some-job", 1, 1) {
        for req in [
            anonymous_client().request(method.clone(), server.url(&path)),
            client().request(method.clone(), server.url(&path)),
        ] {
            let (status, answer) = send(with_body(req, &body)).await;
            assert_eq!(status, 403, "{method} {path}: {answer}");
            assert_eq!(answer["code"], "SETUP_REQUIRED", "{answer}");
            let message = answer["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("sofathek admin set-password")
                    && message.contains("SOFATHEK_ADMIN_PASSWORD_FILE")
                    && message.contains("web UI"),
                "{message}"
            );
        }
    }
    let (status, answer) = send(anonymous_upload(&server)).await;
    assert_eq!(status, 403, "{answer}");
    assert!(files_under(&server.state.layout.staging).is_empty());
    // Picking a profile needs a password first.
    let (status, answer, _) = try_sign_in(&server, 1, None).await;
    assert_eq!(status, 403, "{answer}");

    // The first-run setup: a short password is refused, a good one signs the parent in.
    let (status, answer) = json_of(api_setup(&server, "short").await).await;
    assert_eq!(status, 400, "{answer}");
    let resp = api_setup(&server, "our family password").await;
    let cookie = set_cookie(&resp).expect("cookie");
    let (status, answer) = json_of(resp).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["data"]["parent"], true);
    let parent = Session::from_answer(cookie, &answer);
    let (status, answer) = send(
        parent
            .request(&server, Method::POST, "/api/categories")
            .json(&json!({ "name": "Nature" })),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    // Setup happens once.
    let (status, answer) = json_of(api_setup(&server, "another password").await).await;
    assert_eq!(status, 409, "{answer}");
    // Now reads need a profile.
    let (status, answer) = send(anonymous_client().get(server.url("/api/videos"))).await;
    assert_eq!(status, 401, "{answer}");
}

#[tokio::test]
async fn reads_need_a_profile_once_a_password_exists() {
    let server = library_server().await;
    for path in [
        "/api/videos".to_string(),
        format!("/api/videos/{KIDS_VIDEO}"),
        "/api/videos?q=test".into(),
        format!("/api/stream/{KIDS_VIDEO}.mp4"),
        format!("/api/download/{KIDS_VIDEO}.mp3"),
        format!("/api/thumbnails/{KIDS_VIDEO}.webp"),
        "/api/categories".into(),
        "/api/events".into(),
        "/api/jobs".into(),
        "/api/youtube/queue".into(),
        "/api/tokens".into(),
        "/api/progress".into(),
        "/api/sources".into(),
        "/api/sources/pending".into(),
    ] {
        let (status, answer) = send(anonymous_client().get(server.url(&path))).await;
        assert_eq!(status, 401, "{path}: {answer}");
        assert_eq!(answer["status"], "error");
    }
    for path in [
        "/api/health",
        "/api/health/live",
        "/health",
        "/metrics",
        "/api/openapi.json",
        "/api/profiles",
        "/api/session",
        "/api/youtube/health",
    ] {
        let resp = anonymous_client()
            .get(server.url(path))
            .send()
            .await
            .expect("request");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
    }
    // The public profile list shows no allow-lists; a parent's does.
    create_kid(&server, "Mia", &["kids"]).await;
    let (_, public) = send(anonymous_client().get(server.url("/api/profiles"))).await;
    let kid = public["data"]["profiles"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["kind"] == "kid"))
        .cloned()
        .expect("kid");
    assert_eq!(kid["name"], "Mia");
    assert!(kid.get("categories").is_none(), "{kid}");
    let (_, full) = server.get_json("/api/profiles").await;
    assert!(
        full.to_string().contains("\"categories\":[\"kids\"]"),
        "{full}"
    );
}

#[tokio::test]
async fn a_kid_sees_only_allowed_categories_by_every_route() {
    let server = library_server().await;
    let kid = create_kid(&server, "Mia", &["kids"]).await;
    let session = sign_in(&server, kid, None).await;
    let get = |path: String| {
        let req = session.bare(&server, Method::GET, &path);
        async move { send(req).await }
    };

    let (status, list) = get("/api/videos".into()).await;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<&str> = list["data"]["videos"]
        .as_array()
        .expect("videos")
        .iter()
        .filter_map(|v| v["id"].as_str())
        .collect();
    assert_eq!(ids, [KIDS_VIDEO]);
    assert_eq!(list["data"]["totalCount"], 1);
    for query in [
        "q=Unknown",
        "q=My",
        "category=music",
        "page=1&limit=50&sort=-added",
    ] {
        let (status, found) = get(format!("/api/videos?{query}")).await;
        assert_eq!(status, 200);
        let text = found["data"]["videos"].to_string();
        assert!(
            !text.contains(MUSIC_VIDEO) && !text.contains(PLAIN_VIDEO),
            "{query}: {text}"
        );
    }
    for hidden in [MUSIC_VIDEO, PLAIN_VIDEO] {
        for path in [
            format!("/api/videos/{hidden}"),
            format!("/api/stream/{hidden}.mp4"),
            format!("/api/download/{hidden}.mp4"),
        ] {
            let (status, answer) = get(path.clone()).await;
            assert_eq!(status, 404, "{path}: {answer}");
            // The answer is the same as for a video that never existed.
            assert!(
                answer["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("not found")),
                "{answer}"
            );
        }
        let resp = session
            .bare(&server, Method::GET, &format!("/api/stream/{hidden}.mp4"))
            .header("range", "bytes=0-99")
            .send()
            .await
            .expect("range");
        assert_eq!(resp.status().as_u16(), 404);
        let (status, answer) = send(
            session
                .request(&server, Method::PUT, &format!("/api/progress/{hidden}"))
                .json(&json!({ "position": 1.0 })),
        )
        .await;
        assert_eq!(status, 404, "{answer}");
    }
    let (status, _) = get(format!("/api/thumbnails/{MUSIC_VIDEO}.JPG")).await;
    assert_eq!(status, 404);
    // The allowed video and its files are there.
    for path in [
        format!("/api/videos/{KIDS_VIDEO}"),
        format!("/api/stream/{KIDS_VIDEO}.mp4"),
        format!("/api/download/{KIDS_VIDEO}.mp3"),
        format!("/api/download/{KIDS_VIDEO}.en.srt"),
        format!("/api/thumbnails/{KIDS_VIDEO}.webp"),
    ] {
        let resp = session
            .bare(&server, Method::GET, &path)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status().as_u16(), 200, "{path}");
    }
    // Categories: only the allowed ones; the job queue is for parents.
    let (_, categories) = get("/api/categories".into()).await;
    let slugs: Vec<&str> = categories["data"]["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .filter_map(|c| c["slug"].as_str())
        .collect();
    assert_eq!(slugs, ["kids"]);
    for path in [
        "/api/jobs",
        "/api/youtube/queue",
        "/api/tokens",
        "/api/sources",
        "/api/sources/pending",
    ] {
        let (status, answer) = get(path.into()).await;
        assert_eq!(status, 403, "{path}: {answer}");
    }
    // Changing the allow-list takes effect at once, for the same session.
    let (status, _) = patch_profile(&server, kid, json!({ "categories": ["music"] })).await;
    assert_eq!(status, 200);
    let (_, list) = get("/api/videos".into()).await;
    assert_eq!(list["data"]["videos"][0]["id"], MUSIC_VIDEO, "{list}");
    let (status, _) = get(format!("/api/stream/{KIDS_VIDEO}.mp4")).await;
    assert_eq!(status, 404);
    // So does moving a video out of the allowed categories, right after it was streamed (the
    // server remembers file owners; every change it makes forgets them).
    let (status, _) = get(format!("/api/stream/{MUSIC_VIDEO}.mp4")).await;
    assert_eq!(status, 200);
    let (status, moved) = patch_video(&server, MUSIC_VIDEO, json!({ "category": "kids" })).await;
    assert_eq!(status, 200, "{moved}");
    let (status, _) = get(format!("/api/stream/{MUSIC_VIDEO}.mp4")).await;
    assert_eq!(status, 404);
}

/// Reads an SSE stream until `until` is seen or `wait` passes; returns the text.
async fn read_events(resp: reqwest::Response, until: &str, wait: Duration) -> String {
    let mut stream = resp.bytes_stream();
    let mut text = String::new();
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline && !text.contains(until) {
        match tokio::time::timeout(deadline - Instant::now(), stream.next()).await {
            Ok(Some(Ok(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
    text
}

#[tokio::test]
async fn a_kids_event_stream_carries_only_its_library_events() {
    let server = library_server().await;
    let kid = create_kid(&server, "Mia", &["kids"]).await;
    let session = sign_in(&server, kid, None).await;
    let kid_events = session
        .bare(&server, Method::GET, "/api/events")
        .send()
        .await
        .expect("events");
    assert_eq!(kid_events.status().as_u16(), 200);
    let parent_events = client()
        .get(server.url("/api/events"))
        .send()
        .await
        .expect("events");
    // A change to a hidden video, then one to the allowed video (the marker).
    for (id, title) in [(MUSIC_VIDEO, "Secret title"), (KIDS_VIDEO, "Marker title")] {
        let (status, answer) = patch_video(&server, id, json!({ "title": title })).await;
        assert_eq!(status, 200, "{answer}");
    }
    let kid_text = read_events(kid_events, KIDS_VIDEO, Duration::from_secs(10)).await;
    assert!(kid_text.contains(KIDS_VIDEO), "{kid_text}");
    assert!(!kid_text.contains(MUSIC_VIDEO), "{kid_text}");
    let parent_text = read_events(parent_events, KIDS_VIDEO, Duration::from_secs(10)).await;
    assert!(parent_text.contains(MUSIC_VIDEO), "{parent_text}");
}

/// An open event stream ends once its session is signed out, and the reconnect is refused.
#[tokio::test]
async fn an_event_stream_ends_when_its_session_is_revoked() {
    let server = library_server().await;
    let kid = create_kid(&server, "Mia", &["kids"]).await;
    let session = sign_in(&server, kid, None).await;
    let events = session
        .bare(&server, Method::GET, "/api/events")
        .send()
        .await
        .expect("events");
    assert_eq!(events.status().as_u16(), 200);
    let (status, answer) = send(session.request(&server, Method::DELETE, "/api/session")).await;
    assert_eq!(status, 200, "{answer}");
    let mut body = events.bytes_stream();
    let wait = sofathek::http::handlers::events::ACCESS_CHECK * 2 + Duration::from_secs(3);
    let ended = tokio::time::timeout(wait, async {
        while let Some(chunk) = body.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stream still runs {wait:?} after sign-out"
    );
    let (status, _) = send(session.bare(&server, Method::GET, "/api/events")).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn cookie_mutations_need_the_csrf_token() {
    let server = library_server().await;
    let parent = parent(&server).await;
    let path = format!("/api/videos/{KIDS_VIDEO}");
    let body = json!({ "title": "Changed by CSRF" });
    // No token.
    let (status, answer) = send(
        parent
            .bare(&server, Method::PATCH, &path)
            .header("origin", format!("http://{}", server.addr))
            .json(&body),
    )
    .await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(answer["code"], "CSRF_FAILED");
    // A wrong token, and another session's token.
    let other = parent_session_again(&server).await;
    for wrong in ["nope", other.csrf.as_str()] {
        let (status, answer) = send(
            parent
                .bare(&server, Method::PATCH, &path)
                .header("x-csrf-token", wrong)
                .json(&body),
        )
        .await;
        assert_eq!(status, 403, "{answer}");
    }
    let (_, video) = server.get_json(&path).await;
    assert_ne!(video["data"]["metadata"]["title"], "Changed by CSRF");
    // The right token.
    let (status, answer) = send(parent.request(&server, Method::PATCH, &path).json(&body)).await;
    assert_eq!(status, 200, "{answer}");
    // A form without JavaScript carries the token in a field.
    let (status, answer) = send(
        parent
            .bare(&server, Method::DELETE, "/api/session")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("csrf=wrong"),
    )
    .await;
    assert_eq!(status, 403, "{answer}");
    let (status, answer) = send(
        parent
            .bare(&server, Method::DELETE, "/api/session")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={}", parent.csrf)),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["signedOut"], true);
    // Bearer tokens need no CSRF token.
    let (status, _) = patch_video(&server, KIDS_VIDEO, json!({ "title": "By token" })).await;
    assert_eq!(status, 200);
}

async fn parent_session_again(server: &TestServer) -> Session {
    parent(server).await
}

#[tokio::test]
async fn cross_site_requests_are_refused() {
    let server = library_server().await;
    let parent = parent(&server).await;
    let path = format!("/api/videos/{KIDS_VIDEO}");
    for (name, value) in [
        ("origin", "http://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let (status, answer) = send(
            parent
                .bare(&server, Method::PATCH, &path)
                .header("x-csrf-token", &parent.csrf)
                .header(name, value)
                .json(&json!({ "title": "Cross-site" })),
        )
        .await;
        assert_eq!(status, 403, "{name}: {value}: {answer}");
        assert_eq!(answer["code"], "CROSS_SITE");
    }
    // Signing in from another site is refused too (login CSRF).
    let id = parent_id(&server).await;
    let (status, answer) = send(
        anonymous_client()
            .post(server.url("/api/session"))
            .header("origin", "http://evil.example")
            .json(&json!({ "profileId": id, "password": TEST_PASSWORD })),
    )
    .await;
    assert_eq!(status, 403, "{answer}");
    let (_, video) = server.get_json(&path).await;
    assert_ne!(video["data"]["metadata"]["title"], "Cross-site");
}

#[tokio::test]
async fn sessions_are_never_fixed_and_are_revoked_on_the_server() {
    let server = library_server().await;
    let kid = create_kid(&server, "Mia", &["kids"]).await;
    // A cookie value chosen by someone else is not adopted.
    let planted = "AttackerChosenSessionValueAttackerChosen123";
    assert_eq!(planted.len(), 43);
    let fake = Session {
        cookie: planted.into(),
        csrf: "x".into(),
    };
    let (status, answer) = send(fake.bare(&server, Method::GET, "/api/session")).await;
    assert_eq!(status, 200);
    assert_eq!(answer["data"]["signedIn"], false, "{answer}");
    let (status, _) = send(fake.bare(&server, Method::GET, "/api/videos")).await;
    assert_eq!(status, 401);
    // Signing in with the planted cookie gives a new id.
    let resp = fake
        .bare(&server, Method::POST, "/api/session")
        .json(&json!({ "profileId": kid }))
        .send()
        .await
        .expect("sign in");
    let header = set_cookie_header(&resp);
    assert!(header.contains("HttpOnly"), "{header}");
    assert!(header.contains("SameSite=Strict"), "{header}");
    assert!(header.contains("Path=/"), "{header}");
    assert!(
        !header.contains("Secure"),
        "plain http must not set Secure: {header}"
    );
    let kid_cookie = set_cookie(&resp).expect("cookie");
    assert_ne!(kid_cookie, planted);
    let (status, kid_answer) = json_of(resp).await;
    assert_eq!(status, 201, "{kid_answer}");
    let (_, answer) = send(fake.bare(&server, Method::GET, "/api/session")).await;
    assert_eq!(answer["data"]["signedIn"], false);
    let kid_session = Session::from_answer(kid_cookie, &kid_answer);
    // Switching to the parent replaces the kid's session: the old id stops working.
    let id = parent_id(&server).await;
    let resp = kid_session
        .bare(&server, Method::POST, "/api/session")
        .json(&json!({ "profileId": id, "password": TEST_PASSWORD }))
        .send()
        .await
        .expect("sign in");
    let parent_cookie = set_cookie(&resp).expect("cookie");
    let (status, answer) = json_of(resp).await;
    assert_eq!(status, 201, "{answer}");
    assert_ne!(parent_cookie, kid_session.cookie);
    let (status, _) = send(kid_session.bare(&server, Method::GET, "/api/videos")).await;
    assert_eq!(status, 401, "the replaced session still works");
    let parent = Session::from_answer(parent_cookie, &answer);
    // Behind an https proxy the cookie is Secure.
    let resp = anonymous_client()
        .post(server.url("/api/session"))
        .header("x-forwarded-proto", "https")
        .json(&json!({ "profileId": kid }))
        .send()
        .await
        .expect("sign in");
    let header = set_cookie_header(&resp);
    assert!(header.contains("; Secure"), "{header}");
    // Signing out revokes the session on the server: a copy of the cookie is useless.
    let (status, answer) = send(parent.request(&server, Method::DELETE, "/api/session")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["signedOut"], true);
    let (status, answer) = send(parent.bare(&server, Method::GET, "/api/videos")).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["code"], "INVALID_CREDENTIALS");
    // A cookie or a token that is not even well-formed is refused the same way.
    for (name, value) in [
        ("cookie", "sofathek_session=not-a-session"),
        ("authorization", "Bearer sft_short"),
    ] {
        let req = anonymous_client()
            .get(server.url("/api/videos"))
            .header(name, value);
        let (status, answer) = send(req).await;
        assert_eq!(status, 401, "{name}: {answer}");
        assert_eq!(answer["code"], "INVALID_CREDENTIALS", "{name}: {answer}");
    }
    let (status, _) = send(
        parent
            .request(&server, Method::PATCH, &format!("/api/videos/{KIDS_VIDEO}"))
            .json(&json!({ "title": "After sign-out" })),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn brute_force_is_slowed_and_locked_out() {
    let server = TestServer::start().await;
    let kid = create_kid(&server, "Mia", &[]).await;
    let id = parent_id(&server).await;
    let mut durations = Vec::new();
    for attempt in 0..5 {
        let began = Instant::now();
        let (status, answer, cookie) = try_sign_in(&server, id, Some("wrong password")).await;
        durations.push(began.elapsed());
        assert_eq!(status, 401, "attempt {attempt}: {answer}");
        assert_eq!(answer["code"], "WRONG_PASSWORD");
        assert!(cookie.is_none());
    }
    assert!(
        durations[4] >= Duration::from_millis(900),
        "later failures must answer later: {durations:?}"
    );
    // Locked out: even the right password is refused, with Retry-After.
    let resp = anonymous_client()
        .post(server.url("/api/session"))
        .json(&json!({ "profileId": id, "password": TEST_PASSWORD }))
        .send()
        .await
        .expect("sign in");
    assert_eq!(resp.status().as_u16(), 429);
    assert!(set_cookie(&resp).is_none());
    let retry: u64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!(retry > 60 && retry <= 900, "{retry}");
    let (_, answer) = json_of(resp).await;
    assert_eq!(answer["code"], "TOO_MANY_ATTEMPTS");
    // The password change is locked too; picking a kid's profile is not.
    let (status, _) = send(
        client()
            .put(server.url("/api/password"))
            .json(&json!({ "currentPassword": TEST_PASSWORD, "newPassword": "another password" })),
    )
    .await;
    assert_eq!(status, 429);
    let (status, answer, _) = try_sign_in(&server, kid, None).await;
    assert_eq!(status, 201, "{answer}");
    // A parent profile without a password is not a sign-in.
    let (status, answer, _) = try_sign_in(&server, id, None).await;
    assert!(status == 401 || status == 429, "{answer}");
}

#[tokio::test]
async fn api_tokens_work_are_stored_hashed_and_stop_when_revoked() {
    let server = library_server().await;
    let parent = parent(&server).await;
    let (status, created) = send(
        parent
            .request(&server, Method::POST, "/api/tokens")
            .json(&json!({ "name": "backup script" })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let token = created["data"]["token"].as_str().expect("token").to_owned();
    let token_id = created["data"]["id"].as_i64().expect("id");
    assert!(token.starts_with("sft_"));
    // The list never shows a secret.
    let (_, listed) = send(parent.request(&server, Method::GET, "/api/tokens")).await;
    let text = listed.to_string();
    assert!(text.contains("backup script"), "{text}");
    assert!(
        !text.contains(&token) && !text.contains(TEST_TOKEN),
        "{text}"
    );
    // Stored as a SHA-256 hash: the database files never contain the token.
    let hash = sofathek::auth::secret::hash(&token);
    let found = server
        .state
        .db
        .read(move |c| sofathek::db::profiles::find_token(c, &hash))
        .await
        .expect("query");
    assert!(found.is_some());
    for file in ["sofathek.db", "sofathek.db-wal"] {
        if let Ok(bytes) = std::fs::read(server.data().join(file)) {
            let raw = String::from_utf8_lossy(&bytes);
            assert!(!raw.contains(&token), "{file} holds the token in clear");
            assert!(
                !raw.contains(TEST_PASSWORD),
                "{file} holds the password in clear"
            );
        }
    }
    // The token has parent rights and needs no CSRF token.
    let bearer = |method: Method, path: &str| {
        anonymous_client()
            .request(method, server.url(path))
            .bearer_auth(&token)
    };
    let (status, answer) =
        send(bearer(Method::POST, "/api/categories").json(&json!({ "name": "Nature" }))).await;
    assert_eq!(status, 201, "{answer}");
    let (status, _) = send(bearer(Method::GET, "/api/jobs")).await;
    assert_eq!(status, 200);
    // Its use is recorded in the background, at most once a minute: the list shows when.
    let last_used = || async {
        let (_, listed) = send(parent.request(&server, Method::GET, "/api/tokens")).await;
        listed["data"]["tokens"]
            .as_array()
            .and_then(|tokens| tokens.iter().find(|t| t["id"] == token_id))
            .and_then(|t| t["lastUsedAt"].as_str().map(str::to_owned))
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let first_use = loop {
        if let Some(stamp) = last_used().await {
            break stamp;
        }
        assert!(
            Instant::now() < deadline,
            "the token's use was not recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (status, _) = send(bearer(Method::GET, "/api/videos")).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        last_used().await,
        Some(first_use),
        "touched again within the minute"
    );
    // A kid cannot make tokens.
    let kid = create_kid(&server, "Mia", &["kids"]).await;
    let kid_session = sign_in(&server, kid, None).await;
    let (status, _) = send(
        kid_session
            .request(&server, Method::POST, "/api/tokens")
            .json(&json!({ "name": "mine" })),
    )
    .await;
    assert_eq!(status, 403);
    // Revoked: refused at once.
    let (status, answer) =
        send(parent.request(&server, Method::DELETE, &format!("/api/tokens/{token_id}"))).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = send(bearer(Method::GET, "/api/videos")).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["code"], "INVALID_CREDENTIALS");
    let (status, _) = send(bearer(Method::DELETE, "/api/categories/nature")).await;
    assert_eq!(status, 401);
    let (status, _) =
        send(parent.request(&server, Method::DELETE, &format!("/api/tokens/{token_id}"))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_password_change_signs_out_every_parent_session() {
    let server = library_server().await;
    let kid = create_kid(&server, "Mia", &["kids"]).await;
    let kid_session = sign_in(&server, kid, None).await;
    let first = parent(&server).await;
    let second = parent(&server).await;
    let (status, answer) = send(
        first
            .request(&server, Method::PUT, "/api/password")
            .json(&json!({ "currentPassword": "not it", "newPassword": "new family password" })),
    )
    .await;
    assert_eq!(status, 401, "{answer}");
    let resp = first
        .request(&server, Method::PUT, "/api/password")
        .json(&json!({ "currentPassword": TEST_PASSWORD, "newPassword": "new family password" }))
        .send()
        .await
        .expect("change");
    let renewed = set_cookie(&resp).expect("the changing browser gets a new session");
    let (status, answer) = json_of(resp).await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["data"]["revokedSessions"].as_u64() >= Some(2),
        "{answer}"
    );
    for old in [&first, &second] {
        let (status, _) = send(old.bare(&server, Method::GET, "/api/videos")).await;
        assert_eq!(status, 401);
    }
    let renewed = Session::from_answer(renewed, &answer);
    let (status, _) = send(renewed.bare(&server, Method::GET, "/api/jobs")).await;
    assert_eq!(status, 200);
    // The kid's session does not depend on the password.
    let (status, _) = send(kid_session.bare(&server, Method::GET, "/api/videos")).await;
    assert_eq!(status, 200);
    let id = parent_id(&server).await;
    let (status, _, _) = try_sign_in(&server, id, Some(TEST_PASSWORD)).await;
    assert_eq!(status, 401);
    sign_in(&server, id, Some("new family password")).await;
}

#[tokio::test]
async fn profiles_can_be_managed_by_parents() {
    let server = TestServer::start().await;
    let (status, answer) = send(
        client()
            .post(server.url("/api/profiles"))
            .json(&json!({ "name": "Mia", "avatar": "green", "categories": ["kids", "kids"] })),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["data"]["categories"], json!(["kids"]));
    assert_eq!(answer["data"]["kind"], "kid");
    let id = answer["data"]["id"].as_i64().expect("id");
    for (body, expected) in [
        (json!({ "name": "mia" }), 409),
        (json!({ "name": "" }), 400),
        (json!({ "name": "Ben", "avatar": "plaid" }), 400),
        (json!({ "name": "Ben", "categories": ["nope"] }), 400),
        (json!({ "name": "Ben", "kind": "admin" }), 400),
        (
            json!({ "name": "Ben", "kind": "parent", "categories": ["kids"] }),
            400,
        ),
    ] {
        let (status, answer) = send(client().post(server.url("/api/profiles")).json(&body)).await;
        assert_eq!(status, expected, "{body}: {answer}");
    }
    let (status, answer) = patch_profile(
        &server,
        id,
        json!({ "name": "Mia B", "categories": ["music", "education"] }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["categories"], json!(["education", "music"]));
    let parent = parent_id(&server).await;
    let (status, answer) =
        send(client().delete(server.url(&format!("/api/profiles/{parent}")))).await;
    assert_eq!(status, 409, "the last parent profile stays: {answer}");
    // Deleting a profile ends its sessions.
    let session = sign_in(&server, id, None).await;
    let (status, _) = send(client().delete(server.url(&format!("/api/profiles/{id}")))).await;
    assert_eq!(status, 200);
    let (status, _) = send(session.bare(&server, Method::GET, "/api/videos")).await;
    assert_eq!(status, 401);
    let (status, _) = send(client().delete(server.url(&format!("/api/profiles/{id}")))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn watch_progress_is_kept_per_profile() {
    let server = library_server().await;
    let mia = create_kid(&server, "Mia", &["kids", "music"]).await;
    let ben = create_kid(&server, "Ben", &["kids"]).await;
    let mia = sign_in(&server, mia, None).await;
    let ben = sign_in(&server, ben, None).await;
    let put = |session: &Session, id: &str, body: Value| {
        session
            .request(&server, Method::PUT, &format!("/api/progress/{id}"))
            .json(&body)
    };
    let (status, answer) = send(put(
        &mia,
        KIDS_VIDEO,
        json!({ "position": 42.5, "duration": 120.0 }),
    ))
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["completed"], false);
    let (status, answer) = send(put(
        &mia,
        MUSIC_VIDEO,
        json!({ "position": 10.0, "duration": 10.5 }),
    ))
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["completed"], true);
    for bad in [
        json!({ "position": -1 }),
        json!({ "position": "x" }),
        json!({}),
    ] {
        let (status, _) = send(put(&mia, KIDS_VIDEO, bad.clone())).await;
        assert_eq!(status, 400, "{bad}");
    }
    let (status, shelves) = send(mia.bare(&server, Method::GET, "/api/progress")).await;
    assert_eq!(status, 200, "{shelves}");
    assert_eq!(
        shelves["data"]["continueWatching"][0]["video"]["id"],
        KIDS_VIDEO
    );
    assert_eq!(
        shelves["data"]["continueWatching"][0]["progress"]["position"],
        42.5
    );
    assert_eq!(
        shelves["data"]["continueWatching"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(shelves["data"]["history"].as_array().map(Vec::len), Some(2));
    let (_, one) =
        send(mia.bare(&server, Method::GET, &format!("/api/progress/{KIDS_VIDEO}"))).await;
    assert_eq!(one["data"]["position"], 42.5, "{one}");
    // Another profile has its own.
    let (_, shelves) = send(ben.bare(&server, Method::GET, "/api/progress")).await;
    assert_eq!(shelves["data"]["history"], json!([]), "{shelves}");
    let (_, one) =
        send(ben.bare(&server, Method::GET, &format!("/api/progress/{KIDS_VIDEO}"))).await;
    assert_eq!(one["data"], Value::Null);
    // An API token has no profile; no credentials, no progress.
    let (status, answer) = send(
        client()
            .put(server.url(&format!("/api/progress/{KIDS_VIDEO}")))
            .json(&json!({ "position": 1 })),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    let (status, _) = send(anonymous_client().get(server.url("/api/progress"))).await;
    assert_eq!(status, 401);
    // Progress needs the CSRF token like any other change.
    let (status, _) = send(
        mia.bare(&server, Method::PUT, &format!("/api/progress/{KIDS_VIDEO}"))
            .json(&json!({ "position": 3 })),
    )
    .await;
    assert_eq!(status, 403);
    // A category taken off the allow-list disappears from the shelves too.
    let (_, profiles) = server.get_json("/api/profiles").await;
    let mia_id = profiles["data"]["profiles"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "Mia"))
        .and_then(|p| p["id"].as_i64())
        .expect("mia");
    patch_profile(&server, mia_id, json!({ "categories": ["kids"] })).await;
    let (_, shelves) = send(mia.bare(&server, Method::GET, "/api/progress")).await;
    assert_eq!(shelves["data"]["history"].as_array().map(Vec::len), Some(1));
}

/// Runs the real binary with `stdin` as standard input.
#[allow(clippy::disallowed_methods)] // the test runs the real binary
fn sofathek(args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sofathek"))
        .args(args)
        .env_remove("SOFATHEK_ADMIN_PASSWORD_FILE")
        .env_remove("SOFATHEK_DATA_PATH")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run sofathek");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("output")
}

#[tokio::test]
async fn admin_set_password_and_create_token_work_on_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data_flag = data.to_str().expect("utf-8");
    // Too short: refused, nothing stored.
    let out = sofathek(
        &["admin", "set-password", "--data-path", data_flag],
        "short\n",
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at least 8"),
        "{out:?}"
    );
    let out = sofathek(
        &["admin", "set-password", "--data-path", data_flag],
        "from standard input\n",
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "parent password set"
    );
    let file = dir.path().join("new-password");
    std::fs::write(&file, "from a file\n").expect("write");
    let out = sofathek(
        &[
            "admin",
            "set-password",
            "--password-file",
            file.to_str().expect("utf-8"),
            "--data-path",
            data_flag,
        ],
        "",
    );
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("changed"),
        "{out:?}"
    );
    // The name follows the API's rule for names; a refused one creates nothing.
    let long_name = "x".repeat(101);
    let out = sofathek(
        &[
            "admin",
            "create-token",
            "--name",
            &long_name,
            "--data-path",
            data_flag,
        ],
        "",
    );
    assert!(!out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("Token name must be 1 to 100 characters without control characters"),
        "{out:?}"
    );
    let out = sofathek(
        &[
            "admin",
            "create-token",
            "--name",
            "cron",
            "--data-path",
            data_flag,
        ],
        "",
    );
    assert!(out.status.success(), "{out:?}");
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(token.starts_with("sft_"), "{token}");

    let server = TestServer::start_fresh_in(dir).await;
    let id = parent_id(&server).await;
    let (status, _, _) = try_sign_in(&server, id, Some("from standard input")).await;
    assert_eq!(status, 401);
    sign_in(&server, id, Some("from a file")).await;
    let (status, answer) = send(
        anonymous_client()
            .post(server.url("/api/categories"))
            .bearer_auth(&token)
            .json(&json!({ "name": "Nature" })),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = send(
        anonymous_client()
            .get(server.url("/api/tokens"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let names: Vec<&str> = answer["data"]["tokens"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["cron"], "the refused name created no token");
}

/// The server remembers who is asking for up to `sofathek::memo::MAX_AGE`; a change made by
/// another process (the CLI) while it runs must be seen within that time.
#[tokio::test]
async fn a_password_set_on_the_command_line_applies_to_the_running_server() {
    let server = TestServer::start_fresh().await;
    let anonymous = || anonymous_client().get(server.url("/api/videos")).send();
    // Before the setup reads are open; asking twice makes the server remember the answer.
    for _ in 0..2 {
        assert_eq!(anonymous().await.expect("list").status().as_u16(), 200);
    }
    let data = server.data();
    let out = sofathek(
        &[
            "admin",
            "set-password",
            "--data-path",
            data.to_str().expect("utf-8"),
        ],
        "set while serving\n",
    );
    assert!(out.status.success(), "{out:?}");
    let allowed = sofathek::memo::MAX_AGE + Duration::from_secs(2);
    let deadline = Instant::now() + allowed;
    loop {
        let status = anonymous().await.expect("list").status().as_u16();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            Instant::now() < deadline,
            "still open {allowed:?} after the password was set"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The new password signs a parent in.
    sign_in(&server, parent_id(&server).await, Some("set while serving")).await;
}

#[tokio::test]
async fn the_admin_password_file_sets_and_replaces_the_password() {
    let secrets = tempfile::tempdir().expect("tempdir");
    let file = secrets.path().join("parent-password");
    std::fs::write(&file, "compose secret one\n").expect("write");
    let flag = file.to_str().expect("utf-8").to_owned();
    let server = TestServer::start_fresh_with(&["--admin-password-file", &flag]).await;
    let (_, session) = send(anonymous_client().get(server.url("/api/session"))).await;
    assert_eq!(session["data"]["setup"], true, "{session}");
    let id = parent_id(&server).await;
    let old = sign_in(&server, id, Some("compose secret one")).await;
    // A changed file replaces the password at the next start and signs parents out.
    std::fs::write(&file, "compose secret two").expect("write");
    let dir = server.stop().await;
    let server = TestServer::start_fresh_in_with(dir, &["--admin-password-file", &flag]).await;
    let (status, _) = send(old.bare(&server, Method::GET, "/api/jobs")).await;
    assert_eq!(status, 401);
    let (status, _, _) = try_sign_in(&server, id, Some("compose secret one")).await;
    assert_eq!(status, 401);
    sign_in(&server, id, Some("compose secret two")).await;
    // An unreadable file stops the start with a clear error.
    let data = tempfile::tempdir().expect("tempdir");
    let missing = secrets.path().join("missing");
    let config = support::test_config(
        &data.path().join("data"),
        &["--admin-password-file", missing.to_str().expect("utf-8")],
    );
    config.prepare_data_dir().expect("data dir");
    let err = sofathek::http::AppState::open(config)
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("SOFATHEK_ADMIN_PASSWORD_FILE"), "{err}");
}

/// A GET of a page with an optional session; returns status, `Location` and body.
async fn page(server: &TestServer, session: Option<&Session>, path: &str) -> (u16, String, String) {
    let req = match session {
        Some(session) => session.bare(server, Method::GET, path),
        None => anonymous_client().get(server.url(path)),
    };
    let resp = req.send().await.expect("page");
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, location, resp.text().await.unwrap_or_default())
}

/// Posts a url-encoded form from a page of the server.
async fn post_form(
    server: &TestServer,
    session: Option<&Session>,
    path: &str,
    form: &str,
) -> reqwest::Response {
    let req = match session {
        Some(session) => session.bare(server, Method::POST, path),
        None => anonymous_client().post(server.url(path)),
    };
    req.header("origin", format!("http://{}", server.addr))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .send()
        .await
        .expect("form")
}

/// Posts the sign-in form (`/signin`) without a session.
async fn sign_in_form(server: &TestServer, form: &str) -> reqwest::Response {
    post_form(server, None, "/signin", form).await
}

/// Posts the first-run setup form (`/setup`) without a session.
async fn setup_form(server: &TestServer, password: &str, confirm: &str) -> reqwest::Response {
    let form = format!("password={password}&confirm={confirm}");
    post_form(server, None, "/setup", &form).await
}

#[tokio::test]
async fn pages_send_visitors_to_the_picker_and_kids_to_the_parent_sign_in() {
    let server = library_server().await;
    let kid = create_kid(&server, "Mia", &["kids"]).await;
    for (path, to) in [
        ("/", "/profiles?next=%2F"),
        ("/?q=x", "/profiles?next=%2F%3Fq%3Dx"),
        (
            &format!("/watch/{KIDS_VIDEO}"),
            "/profiles?next=%2Fwatch%2FTest_Video-abc123",
        ),
        ("/add", "/signin?next=%2Fadd"),
        ("/manage", "/signin?next=%2Fmanage"),
    ] {
        let (status, location, _) = page(&server, None, path).await;
        assert_eq!((status, location.as_str()), (303, to), "{path}");
    }
    let (status, _, picker) = page(&server, None, "/profiles").await;
    assert_eq!(status, 200);
    assert!(picker.contains("Who&#x27;s watching?") || picker.contains("Who's watching?"));
    assert!(picker.contains("data-profile=\"Mia\"") && picker.contains("data-profile=\"Parents\""));
    let (status, _, _) = page(&server, None, "/assets/app.js").await;
    assert_eq!(status, 200);

    let mia = sign_in(&server, kid, None).await;
    let (status, _, library) = page(&server, Some(&mia), "/").await;
    assert_eq!(status, 200);
    assert!(
        library.contains(&format!("/watch/{KIDS_VIDEO}")),
        "{library}"
    );
    assert!(
        !library.contains(MUSIC_VIDEO) && !library.contains(PLAIN_VIDEO),
        "{library}"
    );
    assert!(
        library.contains(&format!("content=\"{}\"", mia.csrf)),
        "the csrf token is on the page"
    );
    assert!(
        !library.contains("href=\"/manage\""),
        "a kid has no manage link"
    );
    assert!(library.contains("profile-menu-name\">Mia<"), "{library}");
    let (_, _, search) = page(&server, Some(&mia), "/?q=Unknown").await;
    assert!(!search.contains(MUSIC_VIDEO), "{search}");
    let (_, _, category) = page(&server, Some(&mia), "/?category=music").await;
    assert!(!category.contains(MUSIC_VIDEO), "{category}");
    let (status, _, _) = page(&server, Some(&mia), &format!("/watch/{MUSIC_VIDEO}")).await;
    assert_eq!(status, 404);
    let (status, _, _) = page(&server, Some(&mia), &format!("/watch/{PLAIN_VIDEO}")).await;
    assert_eq!(status, 404);
    let (status, _, watch) = page(&server, Some(&mia), &format!("/watch/{KIDS_VIDEO}")).await;
    assert_eq!(status, 200);
    assert!(
        !watch.contains(MUSIC_VIDEO) && !watch.contains(PLAIN_VIDEO),
        "{watch}"
    );
    for path in ["/manage", "/add"] {
        let (status, location, _) = page(&server, Some(&mia), path).await;
        assert_eq!(status, 303, "{path}");
        assert!(location.starts_with("/signin"), "{location}");
    }

    let parent = parent(&server).await;
    let (status, _, manage) = page(&server, Some(&parent), "/manage").await;
    assert_eq!(status, 200);
    assert!(manage.contains("data-name=\"Mia\""), "{manage}");
    assert!(
        manage.contains("integration tests"),
        "the token list: {manage}"
    );
    assert!(!manage.contains(TEST_TOKEN));
}

#[tokio::test]
async fn continue_watching_is_on_the_library_page() {
    let server = library_server().await;
    let kid = create_kid(&server, "Mia", &["kids"]).await;
    let mia = sign_in(&server, kid, None).await;
    let (_, _, before) = page(&server, Some(&mia), "/").await;
    assert!(!before.contains("id=\"continue-watching\""));
    let (status, _) = send(
        mia.request(&server, Method::PUT, &format!("/api/progress/{KIDS_VIDEO}"))
            .json(&json!({ "position": 60.0, "duration": 120.0 })),
    )
    .await;
    assert_eq!(status, 200);
    let (_, _, after) = page(&server, Some(&mia), "/").await;
    assert!(after.contains("id=\"continue-watching\""), "{after}");
    assert!(after.contains("watched-50"), "{after}");
    let (_, _, watch) = page(&server, Some(&mia), &format!("/watch/{KIDS_VIDEO}")).await;
    assert!(watch.contains("data-resume=\"60.0\""), "{watch}");
    assert!(
        watch.contains(&format!("data-progress-profile=\"{kid}\"")),
        "{watch}"
    );
}

#[tokio::test]
async fn sign_in_forms_work_without_javascript() {
    let server = library_server().await;
    let kid = create_kid(&server, "Mia", &["kids"]).await;
    let parent = parent_id(&server).await;
    // A kid's profile: no password.
    let resp = sign_in_form(&server, &format!("profile={kid}&next=%2F%3Fq%3Dx")).await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(resp.headers()["location"], "/?q=x");
    let cookie = set_cookie(&resp).expect("cookie");
    let mia = Session {
        cookie,
        csrf: String::new(),
    };
    let (status, _, _) = page(&server, Some(&mia), "/").await;
    assert_eq!(status, 200);
    // `next` never leaves the server.
    let resp = sign_in_form(&server, &format!("profile={kid}&next=%2F%2Fevil.example")).await;
    assert_eq!(resp.headers()["location"], "/");
    // The parent: a wrong password shows the page again with the error.
    let resp = sign_in_form(&server, &format!("profile={parent}&password=nope")).await;
    assert_eq!(resp.status().as_u16(), 401);
    assert!(set_cookie(&resp).is_none());
    assert!(resp.text().await.expect("body").contains("Wrong password"));
    let password = TEST_PASSWORD.replace(' ', "+");
    let resp = sign_in_form(
        &server,
        &format!("profile={parent}&password={password}&next=%2Fmanage"),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(resp.headers()["location"], "/manage");
    // From another site: refused.
    let resp = anonymous_client()
        .post(server.url("/signin"))
        .header("origin", "http://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("profile={kid}"))
        .send()
        .await
        .expect("form");
    assert_eq!(resp.status().as_u16(), 403);
    // Signing out needs the CSRF field.
    let session = sign_in(&server, kid, None).await;
    let resp = post_form(&server, Some(&session), "/signout", "csrf=wrong").await;
    assert_eq!(resp.status().as_u16(), 403);
    let resp = post_form(
        &server,
        Some(&session),
        "/signout",
        &format!("csrf={}", session.csrf),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(resp.headers()["location"], "/profiles");
    let (status, location, _) = page(&server, Some(&session), "/").await;
    assert_eq!((status, location.as_str()), (303, "/profiles?next=%2F"));
}

#[tokio::test]
async fn the_first_run_setup_page_sets_the_password_once() {
    let server = TestServer::start_fresh().await;
    let (status, _, library) = page(&server, None, "/").await;
    assert_eq!(status, 200, "a fresh install is open for reading");
    assert!(library.contains("id=\"setup-notice\""), "{library}");
    for path in ["/manage", "/add", "/profiles", "/signin"] {
        let (status, location, _) = page(&server, None, path).await;
        assert_eq!((status, location.as_str()), (303, "/setup"), "{path}");
    }
    let (status, _, form) = page(&server, None, "/setup").await;
    assert_eq!(status, 200);
    assert!(form.contains("id=\"setup-form\""));
    let resp = setup_form(&server, "one+long+password", "another+one").await;
    assert_eq!(resp.status().as_u16(), 400);
    assert!(
        resp.text()
            .await
            .expect("body")
            .contains("The two passwords differ")
    );
    let resp = setup_form(&server, "short", "short").await;
    assert_eq!(resp.status().as_u16(), 400);
    let resp = setup_form(&server, "one+long+password", "one+long+password").await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(resp.headers()["location"], "/manage#profiles");
    let parent = Session {
        cookie: set_cookie(&resp).expect("cookie"),
        csrf: String::new(),
    };
    let (status, _, manage) = page(&server, Some(&parent), "/manage").await;
    assert_eq!(status, 200);
    assert!(!manage.contains("id=\"setup-notice\""));
    let (status, location, _) = page(&server, None, "/setup").await;
    assert_eq!((status, location.as_str()), (303, "/profiles"));
    let resp = setup_form(&server, "attacker+password", "attacker+password").await;
    assert_eq!(resp.status().as_u16(), 303);
    assert!(
        set_cookie(&resp).is_none(),
        "a second setup must not sign anyone in"
    );
    let id = parent_id(&server).await;
    let (status, _, _) = try_sign_in(&server, id, Some("attacker password")).await;
    assert_eq!(status, 401);
}

//! Integration tests of the HTTP API against a real server on 127.0.0.1: library listing,
//! streaming, downloads, thumbnails, editing, deleting, categories, health, metrics, OpenAPI,
//! import of an original library and start-up reconciliation.

use crate::support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{TestServer, client, original_library};

const VIDEO: &str = "Test_Video-abc123.mp4";
/// The API address of [`VIDEO`]'s catalogue entry.
const VIDEO_API: &str = "/api/videos/Test_Video-abc123";

async fn library_server(extra: &[&str]) -> TestServer {
    let server = TestServer::start_with(extra).await;
    let src = tempfile::tempdir().expect("tempdir");
    original_library(src.path());
    let report = server.import(src.path()).await;
    assert_eq!(report.imported.len(), 3, "{report:?}");
    assert!(report.failed.is_empty(), "{report:?}");
    server
}

/// `method path` with the test client (parent rights) and a JSON body, if given.
async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let request = client().request(method, server.url(path));
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    request.send().await.expect("request")
}

/// `GET url` with `headers`.
async fn get_with(c: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    headers
        .iter()
        .fold(c.get(url), |request, (name, value)| {
            request.header(*name, *value)
        })
        .send()
        .await
        .expect("get")
}

/// Asserts that `GET path` answers `status` with the error `message`.
async fn assert_error(server: &TestServer, path: &str, status: u16, message: &str) {
    let (got, body) = server.get_json(path).await;
    assert_eq!(
        (got, body["message"].as_str()),
        (status, Some(message)),
        "{path}: {body}"
    );
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> &'a str {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("missing header {name}"))
}

#[tokio::test]
async fn empty_library_keeps_the_original_shape() {
    let server = TestServer::start().await;
    let (status, body) = server.get_json("/api/videos").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "success");
    assert_eq!(body["data"]["videos"], json!([]));
    assert_eq!(body["data"]["totalCount"], 0);
    assert_eq!(body["data"]["totalSize"], 0);
    assert!(
        body["data"]["scannedAt"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))
    );
    assert!(body["data"].get("page").is_none());
}

#[tokio::test]
async fn imported_library_lists_with_stream_paths_and_companions() {
    let server = library_server(&[]).await;
    let (status, body) = server.get_json("/api/videos").await;
    assert_eq!(status, 200);
    let videos = body["data"]["videos"].as_array().expect("videos");
    assert_eq!(body["data"]["totalCount"], 3);
    // Byte-wise file-name order, as the original.
    let ids: Vec<&str> = videos
        .iter()
        .map(|v| v["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        ids,
        [
            "My_Video_File",
            "Test_Video-abc123",
            "Unknown_Title-3f2504e0-4f89-11d3-9a0c-0305e82c3301"
        ]
    );
    let text = body.to_string();
    assert!(
        !text.contains(&server.data().to_string_lossy().to_string()),
        "absolute paths leaked"
    );

    let v = &videos[1];
    assert_eq!(v["file"]["path"], format!("/api/stream/{VIDEO}"));
    assert_eq!(v["file"]["name"], VIDEO);
    assert_eq!(v["file"]["extension"], ".mp4");
    assert_eq!(v["metadata"]["title"], "Test Video: \"Special\" Characters");
    assert_eq!(v["metadata"]["channel"], "Science Channel");
    assert_eq!(v["metadata"]["thumbnail"], "Test_Video-abc123.webp");
    assert_eq!(v["metadata"]["audio"], "Test_Video-abc123.mp3");
    assert_eq!(v["metadata"]["format"], "320x240");
    assert_eq!(v["metadata"]["bitrate"], 123);
    assert_eq!(v["addedAt"], "2024-05-01T10:00:00.000Z");
    assert_eq!(v["viewCount"], 0);
    let transcripts: Vec<String> = v["metadata"]["transcripts"]
        .as_array()
        .expect("transcripts")
        .iter()
        .map(|t| {
            format!(
                "{}:{}",
                t["language"].as_str().unwrap_or(""),
                t["file"].as_str().unwrap_or("")
            )
        })
        .collect();
    // One subtitle per language: the WebVTT the player uses (the SubRip files stay on disk).
    assert_eq!(
        transcripts,
        ["de:Test_Video-abc123.de.vtt", "en:Test_Video-abc123.en.vtt"]
    );
    // No sidecar: title from the file name, upper-case extension as format, case-insensitive thumbnail.
    let manual = &videos[2];
    assert_eq!(manual["metadata"]["title"], "Unknown Title");
    assert_eq!(manual["metadata"]["format"], "MP4");
    assert_eq!(
        manual["metadata"]["thumbnail"],
        "Unknown_Title-3f2504e0-4f89-11d3-9a0c-0305e82c3301.JPG"
    );
    assert_eq!(videos[0]["metadata"]["title"], "My Video File");
    // The converted subtitle is real WebVTT.
    let vtt = server.get("/api/download/Test_Video-abc123.en.vtt").await;
    assert_eq!(vtt.status(), 200);
    assert!(header(&vtt, "content-type").starts_with("text/vtt"));
    assert!(
        vtt.text()
            .await
            .expect("text")
            .starts_with("WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.500")
    );
}

#[tokio::test]
async fn import_is_idempotent() {
    let server = TestServer::start().await;
    let src = tempfile::tempdir().expect("tempdir");
    original_library(src.path());
    let first = server.import(src.path()).await;
    assert_eq!(first.imported.len(), 3);
    let second = server.import(src.path()).await;
    assert!(second.imported.is_empty(), "{second:?}");
    assert_eq!(second.skipped.len(), 3);
    let (_, body) = server.get_json("/api/videos").await;
    assert_eq!(body["data"]["totalCount"], 3);
}

#[tokio::test]
async fn search_filter_sort_and_pages() {
    let server = library_server(&[]).await;
    let check = |path: &'static str, expected: &'static [&'static str]| {
        let server = &server;
        async move {
            let (status, body) = server.get_json(path).await;
            assert_eq!(status, 200, "{path}: {body}");
            let ids: Vec<String> = body["data"]["videos"]
                .as_array()
                .expect("videos")
                .iter()
                .map(|v| v["id"].as_str().unwrap_or("").to_owned())
                .collect();
            assert_eq!(ids, expected, "{path}");
            body
        }
    };
    check("/api/videos?q=dinosaur", &["Test_Video-abc123"]).await;
    check("/api/videos?q=scien", &["Test_Video-abc123"]).await;
    check("/api/videos?q=nothing-matches", &[]).await;
    check("/api/videos?q=%22%28*", &[]).await;
    let page = check(
        "/api/videos?sort=title&limit=2&page=2",
        &["Unknown_Title-3f2504e0-4f89-11d3-9a0c-0305e82c3301"],
    )
    .await;
    assert_eq!(page["data"]["totalCount"], 3);
    assert_eq!(page["data"]["totalPages"], 2);
    assert_eq!(page["data"]["page"], 2);
    check(
        "/api/videos?sort=-title&limit=1",
        &["Unknown_Title-3f2504e0-4f89-11d3-9a0c-0305e82c3301"],
    )
    .await;
    check("/api/videos?category=kids", &[]).await;

    for bad in [
        "/api/videos?page=0",
        "/api/videos?limit=0",
        "/api/videos?limit=201",
        "/api/videos?sort=random",
        "/api/videos?page=abc",
        "/api/videos?unknown=1",
    ] {
        let (status, body) = server.get_json(bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["status"], "error");
    }
}

#[tokio::test]
async fn show_and_not_found() {
    let server = library_server(&[]).await;
    let (status, body) = server.get_json(VIDEO_API).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["file"]["name"], VIDEO);
    let (status, body) = server.get_json("/api/videos/missing").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"status": "error", "message": "Video with id 'missing' not found", "code": "NOT_FOUND"})
    );
}

#[tokio::test]
async fn streaming_ranges_and_validators() {
    let server = library_server(&[]).await;
    let size = std::fs::metadata(server.library().join(VIDEO))
        .expect("file")
        .len();
    let url = server.url(&format!("/api/stream/{VIDEO}"));
    let c = client();

    let full = c.get(&url).send().await.expect("get");
    assert_eq!(full.status(), 200);
    assert_eq!(header(&full, "content-type"), "video/mp4");
    assert_eq!(header(&full, "accept-ranges"), "bytes");
    assert_eq!(header(&full, "content-length"), size.to_string());
    let etag = header(&full, "etag").to_owned();
    let last_modified = header(&full, "last-modified").to_owned();
    assert_eq!(full.bytes().await.expect("body").len() as u64, size);

    let check_range = |range: String, start: u64, end: u64| {
        let c = c.clone();
        let url = url.clone();
        async move {
            let resp = get_with(&c, &url, &[("range", &range)]).await;
            assert_eq!(resp.status(), 206, "{range}");
            assert_eq!(
                header(&resp, "content-range"),
                format!("bytes {start}-{end}/{size}"),
                "{range}"
            );
            assert_eq!(
                resp.bytes().await.expect("body").len() as u64,
                end - start + 1,
                "{range}"
            );
        }
    };
    check_range("bytes=0-99".into(), 0, 99).await;
    check_range("bytes=100-".into(), 100, size - 1).await;
    check_range("bytes=-500".into(), size - 500, size - 1).await;
    check_range(format!("bytes=10-{}", size + 1000), 10, size - 1).await;
    check_range("bytes=0-0,5-9".into(), 0, 0).await;

    let unsat = get_with(&c, &url, &[("range", &format!("bytes={size}-"))]).await;
    assert_eq!(unsat.status(), 416);
    assert_eq!(header(&unsat, "content-range"), format!("bytes */{size}"));
    let body: Value = unsat.json().await.expect("json");
    assert_eq!(body["message"], "Range not satisfiable");

    let malformed = get_with(&c, &url, &[("range", "bytes=-")]).await;
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.expect("json");
    assert_eq!(body["message"], "Invalid range header format");

    let head = c.head(&url).send().await.expect("head");
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "content-length"), size.to_string());
    assert!(head.bytes().await.expect("body").is_empty());

    let cached = get_with(&c, &url, &[("if-none-match", &etag)]).await;
    assert_eq!(cached.status(), 304);
    let cached = get_with(&c, &url, &[("if-modified-since", &last_modified)]).await;
    assert_eq!(cached.status(), 304);
    let if_range_ok = get_with(&c, &url, &[("range", "bytes=0-9"), ("if-range", &etag)]).await;
    assert_eq!(if_range_ok.status(), 206);
    let stale = [("range", "bytes=0-9"), ("if-range", "\"stale\"")];
    let if_range_stale = get_with(&c, &url, &stale).await;
    assert_eq!(if_range_stale.status(), 200);
}

#[tokio::test]
async fn stream_refuses_bad_names_and_paths() {
    let server = library_server(&[]).await;
    // A file in the data dir but outside the library, reachable only by traversal.
    std::fs::write(server.data().join("secret.mp4"), b"secret").expect("secret");
    for path in [
        "/api/stream/..%2F..%2F..%2Fetc%2Fpasswd",
        "/api/stream/%2Fetc%2Fpasswd",
        "/api/stream/..%2Fsecret.mp4",
        "/api/stream/..%252Fsecret.mp4",
        "/api/stream/..%5Csecret.mp4",
        "/api/stream/.hidden.mp4",
        "/api/stream/a%00b.mp4",
    ] {
        assert_error(&server, path, 400, "Invalid filename").await;
    }
    for path in ["/api/stream/virus.exe", "/api/stream/noextension"] {
        assert_error(&server, path, 400, "Invalid file type").await;
    }
    let missing = "Video file 'missing.mp4' not found";
    assert_error(&server, "/api/stream/missing.mp4", 404, missing).await;

    // A symlink that leads outside the library: 403.
    std::os::unix::fs::symlink(
        server.data().join("secret.mp4"),
        server.library().join("escape.mp4"),
    )
    .expect("symlink");
    assert_error(&server, "/api/stream/escape.mp4", 403, "Invalid path").await;
    // A file in the library the catalogue does not know: not served.
    std::fs::write(server.library().join("stray.mp4"), b"stray").expect("stray");
    let stray = "Video file 'stray.mp4' not found";
    assert_error(&server, "/api/stream/stray.mp4", 404, stray).await;
}

#[tokio::test]
async fn names_with_dots_inside_words_work() {
    let server = TestServer::start().await;
    let src = tempfile::tempdir().expect("tempdir");
    support::make_mp4(&src.path().join("Part 1..3 – Finale.mp4"), 1);
    let report = server.import(src.path()).await;
    assert_eq!(report.imported.len(), 1, "{report:?}");
    let resp = server
        .get("/api/stream/Part%201..3%20%E2%80%93%20Finale.mp4")
        .await;
    assert_eq!(resp.status(), 200);
    let (_, body) = server.get_json("/api/videos").await;
    assert_eq!(
        body["data"]["videos"][0]["file"]["path"],
        "/api/stream/Part%201..3%20%E2%80%93%20Finale.mp4"
    );
}

#[tokio::test]
async fn downloads_are_attachments() {
    let server = library_server(&[]).await;
    let mp3 = server.get("/api/download/Test_Video-abc123.mp3").await;
    assert_eq!(mp3.status(), 200);
    assert_eq!(header(&mp3, "content-type"), "audio/mpeg");
    assert_eq!(
        header(&mp3, "content-disposition"),
        "attachment; filename=\"Test_Video-abc123.mp3\"; filename*=UTF-8''Test_Video-abc123.mp3"
    );
    let srt = server.get("/api/download/Test_Video-abc123.en.srt").await;
    assert_eq!(header(&srt, "content-type"), "application/x-subrip");

    // Non-ASCII names: ASCII fallback plus RFC 8187 form.
    let src = tempfile::tempdir().expect("tempdir");
    support::make_mp4(&src.path().join("Dino — Rex.mp4"), 1);
    server.import(src.path()).await;
    let dash = server.get("/api/download/Dino%20%E2%80%94%20Rex.mp4").await;
    assert_eq!(dash.status(), 200);
    assert_eq!(
        header(&dash, "content-disposition"),
        "attachment; filename=\"Dino _ Rex.mp4\"; filename*=UTF-8''Dino%20%E2%80%94%20Rex.mp4"
    );

    assert_error(&server, "/api/download/evil.sh", 400, "Invalid file type").await;
    let none = "File 'none.mp3' not found";
    assert_error(&server, "/api/download/none.mp3", 404, none).await;
    let (status, _) = server.get_json("/api/download/..%2Fsofathek.db").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn thumbnails_have_cache_headers_ranges_and_limits() {
    let server = library_server(&["--thumbnail-cache-duration", "86400"]).await;
    let resp = server.get("/api/thumbnails/Test_Video-abc123.webp").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type"), "image/webp");
    // Private once a parent password guards the library (a shared cache must not keep it).
    assert_eq!(header(&resp, "cache-control"), "private, max-age=86400");
    assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
    assert_eq!(header(&resp, "accept-ranges"), "bytes");
    let jpg = server
        .get("/api/thumbnails/Unknown_Title-3f2504e0-4f89-11d3-9a0c-0305e82c3301.JPG")
        .await;
    assert_eq!(header(&jpg, "content-type"), "image/jpeg");
    let webp = server.url("/api/thumbnails/Test_Video-abc123.webp");
    let ranged = get_with(&client(), &webp, &[("range", "bytes=0-9")]).await;
    assert_eq!(ranged.status(), 206);
    let bad = get_with(&client(), &webp, &[("range", "bytes=99999999-")]).await;
    assert_eq!(bad.status(), 416);

    // Only library files: something in the staging area is never served.
    std::fs::write(server.state.layout.staging.join("temp.jpg"), b"x").expect("write");
    let staged = "Thumbnail 'temp.jpg' not found";
    assert_error(&server, "/api/thumbnails/temp.jpg", 404, staged).await;
    assert_error(
        &server,
        "/api/thumbnails/image.gif",
        400,
        "Invalid file type",
    )
    .await;
    let (status, _) = server
        .get_json("/api/thumbnails/..%2F..%2Fetc%2Fpasswd.jpg")
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn oversized_thumbnails_are_refused() {
    let server = library_server(&["--thumbnail-max-size", "10"]).await;
    let (status, body) = server
        .get_json("/api/thumbnails/Test_Video-abc123.webp")
        .await;
    assert_eq!(status, 413);
    let message = body["message"].as_str().expect("message");
    assert!(
        message.starts_with("Thumbnail too large: ") && message.ends_with(" bytes (max: 10)"),
        "{message}"
    );
}

#[tokio::test]
async fn edit_title_and_category() {
    let server = library_server(&[]).await;
    let c = client();
    let url = server.url(VIDEO_API);
    let patch = |body: Value| call(&server, Method::PATCH, VIDEO_API, Some(body));
    let resp = patch(json!({"title": "  Dinosaurs!  ", "category": "kids"})).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["data"]["metadata"]["title"], "Dinosaurs!");
    assert_eq!(body["data"]["category"], "kids");
    let (_, listed) = server.get_json("/api/videos?category=kids").await;
    assert_eq!(listed["data"]["totalCount"], 1);
    let (_, found) = server.get_json("/api/videos?q=dinosaurs").await;
    assert_eq!(found["data"]["totalCount"], 1);

    let resp = patch(json!({"category": null})).await;
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["data"]["category"], Value::Null);

    let check = |body: &'static str, content_type: &'static str, status: u16| {
        let c = c.clone();
        let url = url.clone();
        async move {
            let resp = c
                .patch(&url)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .expect("patch");
            assert_eq!(resp.status().as_u16(), status, "{body}");
            let json: Value = resp.json().await.expect("json error body");
            assert_eq!(json["status"], "error");
        }
    };
    check("{bad json", "application/json", 400).await;
    check("{}", "application/json", 400).await;
    check("{\"title\": \"\"}", "application/json", 400).await;
    check("{\"title\": 5}", "application/json", 400).await;
    check("{\"category\": \"no-such\"}", "application/json", 400).await;
    check("{\"evil\": true}", "application/json", 400).await;
    check("{\"title\": \"x\"}", "text/plain", 415).await;
    let missing = call(
        &server,
        Method::PATCH,
        "/api/videos/missing",
        Some(json!({"title": "x"})),
    )
    .await;
    assert_eq!(missing.status(), 404);
    // Nothing above changed the video.
    let (_, body) = server.get_json(VIDEO_API).await;
    assert_eq!(body["data"]["metadata"]["title"], "Dinosaurs!");
}

#[tokio::test]
async fn delete_removes_every_file() {
    let server = library_server(&[]).await;
    let before: Vec<_> = std::fs::read_dir(server.library()).expect("dir").collect();
    let resp = call(&server, Method::DELETE, VIDEO_API, None).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    // The video, its picture, MP3, two SubRip files, the two WebVTT made from them and the
    // sidecar.
    assert_eq!(
        body["data"]["removedFiles"].as_array().map(Vec::len),
        Some(8)
    );
    let left: Vec<String> = std::fs::read_dir(server.library())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), before.len() - 8);
    assert!(
        left.iter().all(|n| !n.starts_with("Test_Video-abc123")),
        "{left:?}"
    );
    let (status, _) = server.get_json(VIDEO_API).await;
    assert_eq!(status, 404);
    let (status, _) = server.get_json(&format!("/api/stream/{VIDEO}")).await;
    assert_eq!(status, 404);
    let resp = call(&server, Method::DELETE, VIDEO_API, None).await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn categories_crud() {
    let server = TestServer::start().await;
    let (_, body) = server.get_json("/api/categories").await;
    let slugs: Vec<&str> = body["data"]["categories"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["slug"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(slugs, ["education", "family", "kids", "music"]);

    let all = "/api/categories";
    let bedtime = "/api/categories/bed-time-stories";
    let named = |name: &str| Some(json!({ "name": name }));
    let created = call(&server, Method::POST, all, named("Bed-time Stories")).await;
    assert_eq!(created.status(), 201);
    let body: Value = created.json().await.expect("json");
    assert_eq!(body["data"]["slug"], "bed-time-stories");
    for (method, path, body, status) in [
        (Method::POST, all, named("Bed-time stories"), 409),
        (Method::POST, all, named("!!!"), 400),
        (Method::PATCH, bedtime, named("Bedtime"), 200),
        // Built in: stays.
        (Method::DELETE, "/api/categories/kids", None, 409),
        (Method::DELETE, bedtime, None, 200),
        (Method::DELETE, bedtime, None, 404),
    ] {
        let resp = call(&server, method.clone(), path, body).await;
        assert_eq!(resp.status(), status, "{method} {path}");
    }
}

#[tokio::test]
async fn health_reports_probes_and_goes_critical_without_data_dir() {
    let server = TestServer::start().await;
    let (status, body) = server.get_json("/health").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["service"], "sofathek-backend");
    assert!(matches!(
        body["status"].as_str(),
        Some("healthy" | "warning")
    ));
    let names: Vec<&str> = body["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or(""))
        .collect();
    for expected in [
        "videos_directory_exists",
        "videos_directory_writable",
        "database",
        "ffmpeg",
        "ffprobe",
        "yt_dlp",
        "memory_usage",
        "response_time",
    ] {
        assert!(
            names.contains(&expected),
            "missing check {expected}: {names:?}"
        );
    }
    assert!(
        body["services"]["ffmpeg"]["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("ffmpeg version")),
        "{body}"
    );
    assert!(
        body["storage"]["videosDirectory"]["diskSpace"]["total"]
            .as_u64()
            .is_some()
    );
    let (status, api) = server.get_json("/api/health").await;
    assert_eq!(status, 200);
    assert_eq!(api["service"], body["service"]);
    let (status, live) = server.get_json("/api/health/live").await;
    assert_eq!((status, live["status"].as_str()), (200, Some("alive")));

    std::fs::remove_dir_all(server.data()).expect("remove data dir");
    let (status, body) = server.get_json("/api/health").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "critical");
}

#[tokio::test]
async fn missing_tools_degrade_health_but_do_not_fail() {
    let server = TestServer::start_with(&[
        "--ffmpeg",
        "/nonexistent/ffmpeg",
        "--ytdlp",
        "no-such-yt-dlp",
    ])
    .await;
    let (status, body) = server.get_json("/api/health").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "warning");
    let ffmpeg = body["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "ffmpeg")
        .expect("ffmpeg check")
        .clone();
    assert_eq!(ffmpeg["status"], "warn");
    assert!(
        ffmpeg["message"]
            .as_str()
            .is_some_and(|m| m.contains("SOFATHEK_FFMPEG")),
        "{ffmpeg}"
    );
}

#[tokio::test]
async fn service_routes_and_headers() {
    let server = TestServer::start().await;
    let videos = server.url("/api/videos");
    let resp = get_with(&client(), &videos, &[("x-request-id", "abc-123")]).await;
    assert_eq!(header(&resp, "x-request-id"), "abc-123");
    assert!(header(&resp, "content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
    assert_eq!(header(&resp, "referrer-policy"), "same-origin");
    let generated = server.get("/api/videos").await;
    assert!(!header(&generated, "x-request-id").is_empty());

    assert_error(&server, "/api/nope", 404, "Route /api/nope not found").await;
    let resp = call(&server, Method::PUT, "/api/videos", None).await;
    assert_eq!(resp.status(), 405);

    let (status, doc) = server.get_json("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for path in [
        "/api/videos",
        "/api/videos/{id}",
        "/api/stream/{filename}",
        "/api/health",
        "/api/categories",
    ] {
        assert!(doc["paths"].get(path).is_some(), "openapi lacks {path}");
    }

    let metrics = server.get("/metrics").await.text().await.expect("text");
    assert!(metrics.contains("sofathek_http_request_duration_seconds_count{method=\"GET\",route=\"/api/videos\",status=\"200\"}"), "{metrics}");
    assert!(metrics.contains("sofathek_bytes_streamed_total"));
    let index = server.get("/").await;
    assert_eq!(index.status(), 200);
}

#[tokio::test]
async fn streamed_bytes_are_counted() {
    let server = library_server(&[]).await;
    let url = server.url(&format!("/api/stream/{VIDEO}"));
    let resp = get_with(&client(), &url, &[("range", "bytes=0-999")]).await;
    assert_eq!(resp.bytes().await.expect("body").len(), 1000);
    let metrics = server.get("/metrics").await.text().await.expect("text");
    let line = metrics
        .lines()
        .find(|l| l.starts_with("sofathek_bytes_streamed_total "))
        .expect("counter");
    let n: u64 = line
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("number");
    assert!(n >= 1000, "{line}");
}

#[tokio::test]
async fn restart_reconciles_without_losing_catalogue_files() {
    let server = library_server(&[]).await;
    std::fs::write(server.library().join("orphan-from-crash.mp4"), b"half").expect("orphan");
    std::fs::write(server.library().join(".incoming-abc"), b"half").expect("tmp");
    std::fs::create_dir_all(server.state.layout.staging.join("dead-job")).expect("staging");
    std::fs::write(
        server.state.layout.staging.join("dead-job/media.part"),
        b"x",
    )
    .expect("part");
    let dir = server.stop().await;
    let server = TestServer::start_in(dir, &[]).await;
    let names: Vec<String> = std::fs::read_dir(server.library())
        .expect("dir")
        .map(|e| e.expect("e").file_name().to_string_lossy().into_owned())
        .collect();
    // Unknown library files are the family's: never removed (the library scan reports them).
    assert!(
        names.contains(&"orphan-from-crash.mp4".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&".incoming-abc".to_string()));
    assert_eq!(
        std::fs::read_dir(&server.state.layout.staging)
            .expect("dir")
            .count(),
        0
    );
    let (_, body) = server.get_json("/api/videos").await;
    assert_eq!(body["data"]["totalCount"], 3);
    let resp = server.get(&format!("/api/stream/{VIDEO}")).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn file_deleted_mid_stream_does_not_crash_the_server() {
    let server = TestServer::start().await;
    let src = tempfile::tempdir().expect("tempdir");
    support::make_mp4(&src.path().join("long.mp4"), 8);
    server.import(src.path()).await;
    let mut resp = client()
        .get(server.url("/api/stream/long.mp4"))
        .send()
        .await
        .expect("get");
    let first = resp.chunk().await.expect("chunk");
    assert!(first.is_some());
    std::fs::remove_file(server.library().join("long.mp4")).expect("remove");
    while let Ok(Some(_)) = resp.chunk().await {}
    let (status, _) = server.get_json("/api/health/live").await;
    assert_eq!(status, 200);
}

/// Library files stay open between requests (for speed); what is served must still always be
/// what the library holds now, and a deleted file must not stay open.
#[tokio::test]
async fn files_kept_open_are_never_served_stale() {
    let server = library_server(&[]).await;
    let path = server.library().join(VIDEO);
    let url = server.url(&format!("/api/stream/{VIDEO}"));
    let fetch = || async {
        let resp = client().get(&url).send().await.expect("get");
        let status = resp.status().as_u16();
        let length = resp.content_length();
        let body = resp.bytes().await.expect("body");
        (status, length, body)
    };
    let (status, _, original) = fetch().await;
    assert_eq!(status, 200);
    // The first use of the test's API token is recorded (a write, which makes the server
    // forget open files); ask again once that is done so that the file is held open.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (_, _, again) = fetch().await;
    assert_eq!(again, original);

    // Replaced by another file under the same name (a new inode).
    let replacement = server.library().join(".replacement");
    std::fs::write(&replacement, b"a different file").expect("write");
    std::fs::rename(&replacement, &path).expect("rename");
    let (status, length, body) = fetch().await;
    assert_eq!(status, 200);
    assert_eq!(&body[..], b"a different file");
    assert_eq!(length, Some(16));

    // Changed in place (the same inode grows): the new size is served.
    {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        file.write_all(b", longer").expect("append");
    }
    let (_, length, body) = fetch().await;
    assert_eq!(&body[..], b"a different file, longer");
    assert_eq!(length, Some(24));
    assert_ne!(body, original);

    // Deleted through the API right after being streamed: gone at once, and the server lets
    // go of the file so its disk space is freed.
    let resp = call(&server, Method::DELETE, VIDEO_API, None).await;
    assert_eq!(resp.status(), 200);
    let (status, _, _) = fetch().await;
    assert_eq!(status, 404);
    let held = || {
        std::fs::read_dir("/proc/self/fd")
            .expect("fds")
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .any(|target| {
                target
                    .to_string_lossy()
                    .starts_with(&*path.to_string_lossy())
            })
    };
    let deadline =
        std::time::Instant::now() + sofathek::memo::MAX_AGE * 2 + std::time::Duration::from_secs(2);
    while held() {
        assert!(
            std::time::Instant::now() < deadline,
            "the deleted file is still open"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

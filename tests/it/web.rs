//! Web UI integration tests: pages rendered from the real templates, asset headers with and
//! without a build manifest, template reloads and live reload (development only).

use crate::support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::StreamExt;
use sofathek::config::ConfigArgs;
use sofathek::http::AppState;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    config: ConfigArgs,
}

/// A server with a chosen environment and web dir; stops when dropped.
struct WebServer {
    addr: std::net::SocketAddr,
    state: AppState,
    _data: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl WebServer {
    async fn start(env: &str, web_dir: &Path) -> WebServer {
        let data = tempfile::tempdir().expect("tempdir");
        let data_path = data.path().join("data");
        let config = Args::try_parse_from([
            "sofathek",
            "--bind",
            "127.0.0.1:0",
            "--data-path",
            data_path.to_str().expect("utf-8"),
            "--web-dir",
            web_dir.to_str().expect("utf-8"),
            "--env",
            env,
            "--min-free-bytes",
            "0",
        ])
        .expect("flags")
        .config
        .validate()
        .expect("config");
        config.prepare_data_dir().expect("data dir");
        let state = AppState::open(config).expect("state");
        // A parent password and the test token: `support::client()` acts as a parent.
        support::provision(&state.db);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(sofathek::http::serve(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        WebServer {
            addr,
            state,
            _data: data,
            stop: Some(tx),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        support::client()
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    async fn page(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    async fn import_original_library(&self) {
        let media = tempfile::tempdir().expect("tempdir");
        support::original_library(media.path());
        let report = sofathek::import::import_dir(
            crate::support::import_target(&self.state),
            media.path(),
            &Default::default(),
        )
        .await
        .expect("import");
        assert_eq!(report.imported.len(), 3, "{report:?}");
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

fn checkout_web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("frontend")
}

/// A copy of the checkout's templates and assets in a temporary web dir.
fn copied_web_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["templates", "assets"] {
        let from = checkout_web_dir().join(sub);
        let to = dir.path().join(sub);
        std::fs::create_dir_all(&to).expect("mkdir");
        for entry in std::fs::read_dir(&from).expect("read dir") {
            let entry = entry.expect("entry");
            if entry.file_type().expect("type").is_file() {
                std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
            }
        }
    }
    dir
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn library_page_lists_groups_searches_and_escapes() {
    let server = WebServer::start("production", &checkout_web_dir()).await;
    let (status, empty) = server.page("/").await;
    assert_eq!(status, 200);
    assert!(empty.contains("No videos found"), "{empty}");
    assert!(empty.contains("href=\"/add\""));

    server.import_original_library().await;
    let response = server.get("/").await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").starts_with("text/html"));
    assert!(header(&response, "content-security-policy").contains("script-src 'self'"));
    let html = response.text().await.expect("body");
    assert!(html.contains("3 videos available"), "{html}");
    assert!(html.contains("href=\"/watch/Test_Video-abc123\""));
    assert!(html.contains("src=\"/api/thumbnails/Test_Video-abc123.webp\""));
    assert!(html.contains("loading=\"lazy\""));
    // The sidecar's title has quotes: escaped, never raw.
    assert!(
        html.contains("Test Video: &quot;Special&quot; Characters"),
        "{html}"
    );
    assert!(html.contains("Uncategorised"));
    // Production pages never load the live-reload script.
    assert!(!html.contains("livereload"), "{html}");
    assert!(html.contains("src=\"/assets/app.js\""));

    let (_, channels) = server.page("/?view=channel").await;
    assert!(channels.contains(">Science Channel <"), "{channels}");
    let science = channels.find("Science Channel").expect("channel row");
    let other = channels.find(">Other <").expect("Other row");
    assert!(science < other, "Other comes last");

    let (_, found) = server.page("/?q=dinosaur").await;
    assert!(found.contains("Results for “dinosaur”"), "{found}");
    assert!(found.contains("1 video available"));
    assert!(found.contains("/watch/Test_Video-abc123"));
    assert!(!found.contains("/watch/My_Video_File"));

    let (_, nothing) = server.page("/?q=%3Cscript%3Ezzz").await;
    assert!(nothing.contains("No videos found. Try another word"));
    assert!(nothing.contains("&lt;script&gt;zzz"));
    assert!(!nothing.contains("<script>zzz"));

    let (_, sorted) = server.page("/?sort=title&page=9&view=bogus").await;
    assert!(sorted.contains("<option value=\"title\" selected>"));
}

#[tokio::test]
async fn watch_page_has_the_player_tracks_downloads_and_next() {
    let server = WebServer::start("production", &checkout_web_dir()).await;
    server.import_original_library().await;
    let (status, html) = server.page("/watch/Test_Video-abc123").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<video id=\"player\""));
    assert!(html.contains("src=\"/api/stream/Test_Video-abc123.mp4\""));
    assert!(html.contains("poster=\"/api/thumbnails/Test_Video-abc123.webp\""));
    assert!(html.contains(
        "<track kind=\"subtitles\" src=\"/api/download/Test_Video-abc123.en.vtt\" srclang=\"en\" label=\"English\">"
    ));
    assert!(html.contains("srclang=\"de\" label=\"Deutsch\""));
    assert!(html.contains(
        "href=\"/api/download/Test_Video-abc123.mp4\" download=\"Test_Video-abc123.mp4\""
    ));
    assert!(html.contains("Download audio"));
    assert!(html.contains("Subtitles: English (SRT)") || html.contains("Subtitles: English (VTT)"));
    assert!(html.contains("Science Channel"));
    assert!(html.contains("A dinosaur documentary for kids"));
    assert!(html.contains("data-next-href=\"/watch/"), "{html}");
    assert!(html.contains("Up next"));

    // The subtitle the <track> points at is served as WebVTT.
    let vtt = server.get("/api/download/Test_Video-abc123.en.vtt").await;
    assert_eq!(vtt.status(), 200);
    assert!(header(&vtt, "content-type").starts_with("text/vtt"));
    assert!(vtt.text().await.expect("vtt").starts_with("WEBVTT"));

    let (status, missing) = server.page("/watch/no-such-video").await;
    assert_eq!(status, 404);
    assert!(missing.contains("Video not found"), "{missing}");
    assert!(missing.contains("<html"), "an HTML page, not JSON");
}

#[tokio::test]
async fn add_and_manage_pages_list_the_categories() {
    let server = WebServer::start("production", &checkout_web_dir()).await;
    server.import_original_library().await;
    let (status, add) = server.page("/add").await;
    assert_eq!(status, 200);
    for needle in [
        "id=\"url-form\"",
        "id=\"upload-form\"",
        "id=\"queue\"",
        "<option value=\"kids\">Kids</option>",
    ] {
        assert!(add.contains(needle), "{needle}: {add}");
    }
    let (status, manage) = server.page("/manage").await;
    assert_eq!(status, 200);
    assert!(
        manage.contains("data-video-id=\"Test_Video-abc123\""),
        "{manage}"
    );
    assert!(manage.contains("value=\"Test Video: &quot;Special&quot; Characters\""));
    assert!(manage.contains("data-slug=\"family\""));
    assert!(manage.contains("id=\"confirm-dialog\""));
    let (_, filtered) = server.page("/manage?q=dinosaur").await;
    assert!(filtered.contains("1 video"));
}

#[tokio::test]
async fn checkout_assets_are_revalidated() {
    let server = WebServer::start("production", &checkout_web_dir()).await;
    let response = server.get("/assets/app.js").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "no-cache");
    assert_eq!(
        header(&response, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(header(&response, "content-encoding"), "");
    let etag = header(&response, "etag").to_owned();
    assert!(!etag.is_empty());
    let css = server.get("/assets/app.css").await;
    assert_eq!(header(&css, "content-type"), "text/css; charset=utf-8");

    let again = support::client()
        .get(server.url("/assets/app.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), 304);

    for path in [
        "/assets/nope.js",
        "/assets/app.js.br",
        "/assets/..%2Fbuild.sh",
        "/assets/.hidden.js",
        "/assets/%2E%2E%2Ftemplates%2Fbase.html",
    ] {
        assert_eq!(server.get(path).await.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn built_assets_are_immutable_and_precompressed() {
    let web = copied_web_dir();
    let assets = web.path().join("assets");
    let mut manifest = serde_json::Map::new();
    for logical in [
        "app.js",
        "app.css",
        "theme-init.js",
        "icon.svg",
        "livereload.js",
    ] {
        let (base, ext) = logical.rsplit_once('.').expect("extension");
        let file = format!("{base}-0123456789ab.{ext}");
        std::fs::write(assets.join(&file), format!("/* plain {logical} */")).expect("write");
        std::fs::write(assets.join(format!("{file}.br")), b"brotli bytes").expect("write");
        std::fs::write(assets.join(format!("{file}.gz")), b"gzip bytes").expect("write");
        manifest.insert(logical.to_owned(), serde_json::json!(file));
    }
    std::fs::write(
        web.path().join("manifest.json"),
        serde_json::Value::Object(manifest).to_string(),
    )
    .expect("manifest");
    let server = WebServer::start("production", web.path()).await;

    let (status, html) = server.page("/").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("src=\"/assets/app-0123456789ab.js\""),
        "{html}"
    );
    assert!(html.contains("href=\"/assets/app-0123456789ab.css\""));
    assert!(!html.contains("/assets/app.js\""));

    let fetch = |accept: Option<&'static str>| {
        let request = support::client().get(server.url("/assets/app-0123456789ab.js"));
        let request = match accept {
            Some(value) => request.header("accept-encoding", value),
            None => request,
        };
        async move { request.send().await.expect("request") }
    };
    let check = |response: reqwest::Response, encoding: &'static str, body: &'static str| async move {
        assert_eq!(response.status(), 200);
        assert_eq!(
            header(&response, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(header(&response, "vary"), "Accept-Encoding");
        assert_eq!(header(&response, "content-encoding"), encoding);
        assert_eq!(
            header(&response, "content-type"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(response.text().await.expect("body"), body);
    };
    check(fetch(Some("gzip, deflate, br")).await, "br", "brotli bytes").await;
    check(fetch(Some("gzip")).await, "gzip", "gzip bytes").await;
    check(
        fetch(Some("br;q=0, gzip;q=0.8")).await,
        "gzip",
        "gzip bytes",
    )
    .await;
    check(fetch(None).await, "", "/* plain app.js */").await;

    // Files the manifest does not list (a leftover source file) are revalidated, not cached.
    let stray = server.get("/assets/nav.js").await;
    assert_eq!(stray.status(), 200);
    assert_eq!(header(&stray, "cache-control"), "no-cache");
}

#[tokio::test]
async fn live_reload_is_never_served_outside_development() {
    for env in ["production", "staging"] {
        let server = WebServer::start(env, &checkout_web_dir()).await;
        let response = server.get("/__livereload").await;
        assert_eq!(response.status(), 404, "{env}");
        let (_, html) = server.page("/").await;
        assert!(!html.contains("livereload"), "{env}");
    }
    let server = WebServer::start("development", &checkout_web_dir()).await;
    let (_, html) = server.page("/").await;
    assert!(html.contains("src=\"/assets/livereload.js\""), "{html}");
}

/// Reads SSE text until `event: <name>` arrives; returns its data line.
async fn next_event<S>(stream: &mut S, buffer: &mut String, name: &str) -> String
where
    S: futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin,
{
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if event.lines().any(|l| l == format!("event: {name}")) {
                return event
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .unwrap_or("")
                    .to_owned();
            }
        }
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap_or_else(|_| panic!("no `{name}` event within 5 s"))
            .expect("stream ended")
            .expect("chunk");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn development_reloads_templates_and_browsers_within_a_second() {
    let web = copied_web_dir();
    let server = WebServer::start("development", web.path()).await;

    let response = server.get("/__livereload").await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").starts_with("text/event-stream"));
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    let boot = next_event(&mut stream, &mut buffer, "hello").await;
    assert!(!boot.is_empty());
    // Let the poller take its first look before changing anything.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let library = web.path().join("templates/library.html");
    let original = std::fs::read_to_string(&library).expect("read");
    std::fs::write(
        &library,
        original.replace("{{ heading }}", "{{ heading }} (edited)"),
    )
    .expect("write");
    let changed = Instant::now();
    next_event(&mut stream, &mut buffer, "reload").await;
    let took = changed.elapsed();
    assert!(took < Duration::from_secs(1), "reload took {took:?}");
    let (_, html) = server.page("/").await;
    assert!(
        html.contains("Video Library (edited)"),
        "templates are re-read in development"
    );

    // A CSS change reloads too.
    let css = web.path().join("assets/app.css");
    std::fs::write(&css, "body { color: red; }").expect("write");
    next_event(&mut stream, &mut buffer, "reload").await;
}

#[tokio::test]
async fn live_reload_streams_end_when_the_server_stops() {
    let web = copied_web_dir();
    let mut server = WebServer::start("development", web.path()).await;
    let response = server.get("/__livereload").await;
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    next_event(&mut stream, &mut buffer, "hello").await;
    if let Some(stop) = server.stop.take() {
        let _ = stop.send(());
    }
    // An open page must not hold a restart (the dev loop) for the shutdown grace period.
    let ended = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the live-reload stream outlived the server");
}

#[tokio::test]
async fn production_reads_templates_once() {
    let web = copied_web_dir();
    let server = WebServer::start("production", web.path()).await;
    let (_, before) = server.page("/").await;
    assert!(before.contains("Video Library"));
    let library = web.path().join("templates/library.html");
    let original = std::fs::read_to_string(&library).expect("read");
    std::fs::write(
        &library,
        original.replace("{{ heading }}", "{{ heading }} (edited)"),
    )
    .expect("write");
    let (_, after) = server.page("/").await;
    assert!(
        !after.contains("(edited)"),
        "production keeps the templates it loaded"
    );
}

#[tokio::test]
async fn a_missing_web_dir_is_a_clear_error() {
    let empty = tempfile::tempdir().expect("tempdir");
    let server = WebServer::start("production", empty.path()).await;
    let response = server.get("/").await;
    assert_eq!(response.status(), 500);
    let text = response.text().await.expect("body");
    assert!(text.contains("SOFATHEK_WEB_DIR"), "{text}");
    // The API keeps working without a web UI.
    assert_eq!(server.get("/api/videos").await.status(), 200);
}

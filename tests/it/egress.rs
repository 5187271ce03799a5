//! The egress guard with the real yt-dlp: a "site" on 127.0.0.1 allowed by
//! `SOFATHEK_ALLOWED_PRIVATE_HOSTS`, and a "home network" server on another 127.0.0.1 port that
//! is not. A redirect to it, a DNS answer that changes between lookups (the hosts-file seam), an
//! HLS manifest with a segment on it and a thumbnail on it each make the job fail with the
//! guard's reason, the private server is never asked, and nothing is published; a normal
//! download from the allowed site completes through the guard.

use crate::support;
use crate::support::media_server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use media_server::{fixtures, require_ytdlp};
use serde_json::{Value, json};
use support::TestServer;

/// A tiny HTTP server on 127.0.0.1 that counts its requests.
struct Site {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct SiteState {
    hits: Arc<AtomicUsize>,
    /// Where redirects, manifests and pages point (the private server), once known.
    other: Arc<std::sync::OnceLock<SocketAddr>>,
}

async fn site_file(State(state): State<SiteState>, UrlPath(name): UrlPath<String>) -> Response {
    state.hits.fetch_add(1, Ordering::SeqCst);
    let path = if name.ends_with(".ts") {
        fixtures().path(&format!("hls/{name}"))
    } else {
        fixtures().path(&name)
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            let kind = if name.ends_with(".ts") {
                "video/mp2t"
            } else if name.ends_with(".webp") {
                "image/webp"
            } else {
                "video/mp4"
            };
            ([(header::CONTENT_TYPE, kind)], bytes).into_response()
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn site_redirect(State(state): State<SiteState>) -> Response {
    state.hits.fetch_add(1, Ordering::SeqCst);
    let other = state.other.get().copied().expect("other server");
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("http://{other}/files/h264.mp4"))],
    )
        .into_response()
}

async fn site_manifest(State(state): State<SiteState>) -> Response {
    state.hits.fetch_add(1, Ordering::SeqCst);
    let other = state.other.get().copied().expect("other server");
    let manifest = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:1.0,\nhttp://{other}/files/seg000.ts\n#EXTINF:1.0,\nhttp://{other}/files/seg001.ts\n#EXT-X-ENDLIST\n"
    );
    (
        [(header::CONTENT_TYPE, "application/vnd.apple.mpegurl")],
        manifest,
    )
        .into_response()
}

async fn site_page(State(state): State<SiteState>) -> Response {
    state.hits.fetch_add(1, Ordering::SeqCst);
    let other = state.other.get().copied().expect("other server");
    let page = format!(
        "<!doctype html><html><head><title>Poster Test</title></head><body>\
         <video src=\"/files/h264.mp4\" poster=\"http://{other}/files/poster.webp\" controls></video>\
         </body></html>"
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

impl Site {
    async fn start(other: Option<SocketAddr>) -> Site {
        let hits = Arc::new(AtomicUsize::new(0));
        let state = SiteState {
            hits: hits.clone(),
            other: Arc::new(std::sync::OnceLock::new()),
        };
        if let Some(other) = other {
            let _ = state.other.set(other);
        }
        let app = Router::new()
            .route("/files/{name}", get(site_file))
            .route("/redirect", get(site_redirect))
            .route("/stream.m3u8", get(site_manifest))
            .route("/page.html", get(site_page))
            .with_state(state);
        let addr = support::serve_app(app).await;
        Site { addr, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// A server allowed only to reach `allowed` among private targets; `hosts` is the hosts seam.
async fn start(allowed: SocketAddr, hosts: &str) -> TestServer {
    require_ytdlp();
    TestServer::start_configured(|config, data| {
        let hosts_file = data.with_file_name("hosts");
        std::fs::write(&hosts_file, hosts).expect("hosts");
        config.x264_preset = "ultrafast".to_owned();
        config.allow_private_urls = false;
        config.allowed_private_hosts =
            sofathek::egress::parse_allow_list(&allowed.to_string()).expect("allow list");
        config.egress_hosts_file = Some(hosts_file);
    })
    .await
}

/// What the egress tests ask of a server beyond [`TestServer`]'s own helpers.
trait EgressApi {
    /// Submits `url` and waits for its job to end; returns the job.
    async fn download(&self, url: &str) -> Value;
    async fn video_count(&self) -> u64;
    fn library_files(&self) -> usize;
}

impl EgressApi for TestServer {
    async fn download(&self, url: &str) -> Value {
        let (status, body) = self.post_json("/api/jobs", json!({ "url": url })).await;
        assert_eq!(status, 202, "{url}: {body}");
        let id = body["data"]["id"].as_str().expect("id").to_owned();
        self.wait_job_final(&id, Duration::from_secs(90)).await
    }

    async fn video_count(&self) -> u64 {
        let (_, body) = self.get_json("/api/videos").await;
        body["data"]["totalCount"].as_u64().expect("count")
    }

    fn library_files(&self) -> usize {
        std::fs::read_dir(&self.state.layout.library)
            .expect("library")
            .count()
    }
}

/// Asserts that a job failed because of the guard, naming `what`.
fn refused(job: &Value, what: &str) {
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "PRIVATE_ADDRESS", "{job}");
    assert!(
        job["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("private address")),
        "{job}"
    );
    let _ = what;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_reach_the_allowed_site_and_nothing_else_on_the_home_network() {
    let home = Site::start(None).await;
    let site = Site::start(Some(home.addr)).await;
    let public = "93.184.215.14";
    let hosts = format!(
        "# rebind.test answers a public address twice (the URL policy at submit and before the download), then loopback\nrebind.test {public}\nrebind.test {public}\nrebind.test 127.0.0.1\n"
    );
    let srv = start(site.addr, &hosts).await;

    // A normal download from the allowed site goes through the guard and completes.
    let ok = srv.download(&site.url("/files/h264.mp4")).await;
    assert_eq!(ok["state"], "completed", "{ok}");
    assert_eq!(srv.video_count().await, 1);
    let files_after_ok = srv.library_files();

    // A redirect from the allowed site to a private address.
    let job = srv.download(&site.url("/redirect")).await;
    refused(&job, "redirect");

    // An HLS manifest on the allowed site whose segments are on the home network.
    let job = srv.download(&site.url("/stream.m3u8")).await;
    refused(&job, "HLS segment");

    // A page whose video is fine but whose thumbnail (poster) is on the home network.
    let job = srv.download(&site.url("/page.html")).await;
    refused(&job, "thumbnail");

    assert_eq!(home.hits(), 0, "the home network server was asked");
    assert_eq!(srv.video_count().await, 1, "nothing refused was published");
    assert_eq!(srv.library_files(), files_after_ok);

    // A name whose DNS answer changes to loopback after the URL policy checked it.
    let before = site.hits();
    let job = srv
        .download(&format!(
            "http://rebind.test:{}/files/h264.mp4",
            site.addr.port()
        ))
        .await;
    refused(&job, "rebinding");
    assert_eq!(site.hits(), before, "the rebound name reached the server");

    // Submitting a private URL outright is refused at once, as before.
    let resp = support::client()
        .post(srv.url("/api/jobs"))
        .json(&json!({ "url": format!("http://{}/files/h264.mp4", home.addr) }))
        .send()
        .await
        .expect("submit");
    assert_eq!(resp.status(), 400);

    // Refusals are counted.
    let metrics = srv.get("/metrics").await.text().await.expect("text");
    let refused_total: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("sofathek_egress_refused_total "))
        .and_then(|n| n.parse().ok())
        .expect("the refusal counter");
    assert!(refused_total >= 4, "{refused_total}");
}

#[tokio::test]
async fn the_proxy_serves_only_its_tickets() {
    let site = Site::start(None).await;
    let srv = start(site.addr, "").await;
    let ticket = srv
        .state
        .ingest
        .egress()
        .ticket("probe", 1 << 30)
        .expect("ticket");
    let proxy_url = reqwest::Url::parse(ticket.url()).expect("proxy url");
    let proxy_addr = format!(
        "{}:{}",
        proxy_url.host_str().expect("host"),
        proxy_url.port().expect("port")
    );
    // Without the credential: 407, and the site is not asked.
    let anonymous = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(format!("http://{proxy_addr}")).expect("proxy"))
        .build()
        .expect("client");
    let resp = anonymous
        .get(site.url("/files/h264.mp4"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 407);
    assert_eq!(site.hits(), 0);
    // With it: the allowed site answers through the proxy.
    let with_ticket = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(ticket.url()).expect("proxy"))
        .build()
        .expect("client");
    let resp = with_ticket
        .get(site.url("/files/h264.mp4"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.expect("body");
    assert_eq!(
        body.as_ref(),
        std::fs::read(fixtures().path("h264.mp4")).expect("fixture")
    );
    // A ticket that ended no longer works.
    let url = ticket.url().to_owned();
    drop(ticket);
    let stale = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(url).expect("proxy"))
        .build()
        .expect("client");
    let resp = stale
        .get(site.url("/files/h264.mp4"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 407);
}

//! A small HTTP server on 127.0.0.1 for the ingest tests: media fixtures generated with ffmpeg
//! (H.264/AAC MP4, MP4 without faststart, VP9/Opus WebM, HEVC/AAC MKV, an HLS stream), served
//! with Range support, a slow endpoint that trickles bytes until released, an HTML page with a
//! `<video>` tag and 404s.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

/// The generated fixtures (made once per test binary).
pub struct Fixtures {
    pub dir: PathBuf,
}

impl Fixtures {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Runs ffmpeg for fixture generation; fails loudly when ffmpeg is missing (the parent module's
/// helper).
pub use super::ffmpeg;

/// Runs ffprobe and returns its JSON (format and streams).
#[allow(clippy::disallowed_methods)]
pub fn ffprobe(path: &Path) -> serde_json::Value {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(path)
        .output()
        .expect("ffprobe must be installed for the ingest tests (apt-get install ffmpeg)");
    assert!(
        out.status.success(),
        "ffprobe {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ffprobe json")
}

/// Codec names of the first video and audio streams.
pub fn codecs(path: &Path) -> (Option<String>, Option<String>) {
    let probe = ffprobe(path);
    let find = |kind: &str| {
        probe["streams"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["codec_type"] == kind))
            .and_then(|s| s["codec_name"].as_str())
            .map(str::to_owned)
    };
    (find("video"), find("audio"))
}

/// Asserts that yt-dlp is installed (the tests never skip).
#[allow(clippy::disallowed_methods)]
pub fn require_ytdlp() {
    let out = std::process::Command::new("yt-dlp")
        .arg("--version")
        .output()
        .expect("yt-dlp must be installed for the ingest tests (pip install yt-dlp)");
    assert!(out.status.success(), "yt-dlp --version failed");
}

const SOURCE: &str = "testsrc=duration=2:size=320x240:rate=25";
const SINE: &str = "sine=frequency=440:duration=2";

/// Bump when the fixture recipes change.
const FIXTURES_VERSION: &str = "v1";

/// The fixtures, generated once per build directory (test processes share them): `h264.mp4`
/// (faststart), `nofaststart.mp4`, `vp9.webm`, `hevc.mkv`, `hls/playlist.m3u8` with segments,
/// `notmedia.bin`.
pub fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let dir = root.join(format!("ingest-fixtures-{FIXTURES_VERSION}"));
        if !dir.join("complete").exists() {
            // Generate next to the final place, then rename: concurrent test processes either
            // win the rename or find the other's complete directory.
            let scratch = tempfile::Builder::new()
                .prefix(".ingest-fixtures-")
                .tempdir_in(root)
                .expect("tempdir");
            generate(scratch.path());
            std::fs::write(scratch.path().join("complete"), b"").expect("marker");
            let scratch = scratch.keep();
            if std::fs::rename(&scratch, &dir).is_err() {
                let _ = std::fs::remove_dir_all(&scratch);
            }
        }
        assert!(
            dir.join("complete").exists(),
            "fixtures missing in {}",
            dir.display()
        );
        Fixtures { dir }
    })
}

/// Writes every fixture into `dir`.
fn generate(dir: &Path) {
    let out = |name: &str| dir.join(name).to_string_lossy().into_owned();
    // The test pattern and a tone, encoded with `codec` (and `extra`) into `name`.
    let encode = |codec: &[&str], extra: &[&str], name: &str| {
        let target = out(name);
        let mut all = vec!["-f", "lavfi", "-i", SOURCE, "-f", "lavfi", "-i", SINE];
        all.extend_from_slice(codec);
        all.extend_from_slice(extra);
        all.push(&target);
        ffmpeg(&all);
    };
    let h264 = [&super::H264[..], &super::AAC].concat();
    encode(&h264, &["-movflags", "+faststart"], "h264.mp4");
    encode(&h264, &[], "nofaststart.mp4");
    encode(
        &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "200k",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "libopus",
            "-shortest",
        ],
        &[],
        "vp9.webm",
    );
    encode(
        &[
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ],
        &[],
        "hevc.mkv",
    );
    std::fs::create_dir_all(dir.join("hls")).expect("hls dir");
    ffmpeg(&[
        "-i",
        &out("h264.mp4"),
        "-c",
        "copy",
        "-f",
        "hls",
        "-hls_time",
        "1",
        "-hls_playlist_type",
        "vod",
        "-hls_segment_filename",
        &out("hls/seg%03d.ts"),
        &out("hls/playlist.m3u8"),
    ]);
    std::fs::write(
        dir.join("notmedia.bin"),
        b"this is not a video, just some text\n".repeat(100),
    )
    .expect("notmedia");
}

/// A running media server.
pub struct MediaServer {
    pub addr: SocketAddr,
    state: Arc<ServerState>,
}

struct ServerState {
    dir: PathBuf,
    /// While false, `/slow/*` trickles.
    released: AtomicBool,
    /// Requests to `/slow/*` so far.
    slow_hits: AtomicUsize,
    /// The first byte each `/slow/*` request asked for (0 without a Range header).
    slow_starts: std::sync::Mutex<Vec<u64>>,
}

impl MediaServer {
    /// Starts a server for the shared fixtures on 127.0.0.1:0.
    pub async fn start() -> MediaServer {
        let fixtures = fixtures();
        let state = Arc::new(ServerState {
            dir: fixtures.dir.clone(),
            released: AtomicBool::new(false),
            slow_hits: AtomicUsize::new(0),
            slow_starts: std::sync::Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/files/{name}", get(file))
            .route("/hls/{name}", get(hls))
            .route("/slow/{name}", get(slow))
            .route("/page.html", get(page))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        MediaServer { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Lets `/slow/*` serve at full speed from now on.
    pub fn release(&self) {
        self.state.released.store(true, Ordering::SeqCst);
    }

    pub fn slow_hits(&self) -> usize {
        self.state.slow_hits.load(Ordering::SeqCst)
    }

    /// The first byte each `/slow/*` request asked for, in order (0 without a Range header).
    pub fn slow_starts(&self) -> Vec<u64> {
        self.state.slow_starts.lock().expect("lock").clone()
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("mp4") => "video/mp4",
        Some("webm") => "video/webm",
        Some("mkv") => "video/x-matroska",
        Some("m3u8") => "application/vnd.apple.mpegurl",
        Some("ts") => "video/mp2t",
        _ => "application/octet-stream",
    }
}

/// A single `bytes=a-b` / `bytes=a-` range within `len`.
fn range(headers: &HeaderMap, len: u64) -> Option<(u64, u64)> {
    let spec = headers
        .get(header::RANGE)?
        .to_str()
        .ok()?
        .strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let start: u64 = start.parse().ok()?;
    let end: u64 = if end.is_empty() {
        len.checked_sub(1)?
    } else {
        end.parse::<u64>().ok()?.min(len.checked_sub(1)?)
    };
    (start <= end).then_some((start, end))
}

/// Serves `bytes` honouring a Range header; the body comes from `body_for(start, end)`.
fn respond(
    name: &str,
    bytes: Vec<u8>,
    headers: &HeaderMap,
    body_for: impl FnOnce(Vec<u8>) -> Body,
) -> Response {
    let len = bytes.len() as u64;
    let (status, body, content_range) = match range(headers, len) {
        Some((start, end)) => (
            StatusCode::PARTIAL_CONTENT,
            bytes[start as usize..=end as usize].to_vec(),
            Some(format!("bytes {start}-{end}/{len}")),
        ),
        None => (StatusCode::OK, bytes, None),
    };
    let length = body.len();
    let mut response = (status, body_for(body)).into_response();
    let set = response.headers_mut();
    if let Some(Ok(v)) = content_range.map(|r| HeaderValue::from_str(&r)) {
        set.insert(header::CONTENT_RANGE, v);
    }
    set.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    set.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    set.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    response
}

fn read(dir: &Path, name: &str) -> Option<Vec<u8>> {
    if name.contains('/') || name.starts_with('.') {
        return None;
    }
    std::fs::read(dir.join(name)).ok()
}

/// Serves `name` from `dir` at once, or 404.
fn serve(dir: &Path, name: &str, headers: &HeaderMap) -> Response {
    match read(dir, name) {
        Some(bytes) => respond(name, bytes, headers, Body::from),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn file(
    State(state): State<Arc<ServerState>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    serve(&state.dir, &name, &headers)
}

async fn hls(
    State(state): State<Arc<ServerState>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    serve(&state.dir.join("hls"), &name, &headers)
}

/// Trickles 2 KiB every 250 ms until released, then sends the rest at once.
async fn slow(
    State(state): State<Arc<ServerState>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    state.slow_hits.fetch_add(1, Ordering::SeqCst);
    let Some(bytes) = read(&state.dir, &name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let start = range(&headers, bytes.len() as u64).map_or(0, |(start, _)| start);
    state.slow_starts.lock().expect("lock").push(start);
    let shared = state.clone();
    respond(&name, bytes, &headers, move |body| {
        let chunks = futures_util::stream::unfold((body, 0usize), move |(body, at)| {
            let shared = shared.clone();
            async move {
                if at >= body.len() {
                    return None;
                }
                let released = shared.released.load(Ordering::SeqCst);
                let step = if released {
                    body.len() - at
                } else {
                    2048.min(body.len() - at)
                };
                if !released {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                let chunk = bytes::Bytes::copy_from_slice(&body[at..at + step]);
                Some((Ok::<_, std::io::Error>(chunk), (body, at + step)))
            }
        });
        Body::from_stream(chunks)
    })
}

async fn page(State(_state): State<Arc<ServerState>>) -> Html<&'static str> {
    Html(
        "<!DOCTYPE html><html><head><title>Family Trip</title></head><body>\
         <h1>Our trip</h1><video controls width=\"320\"><source src=\"/files/h264.mp4\" type=\"video/mp4\"></video>\
         </body></html>",
    )
}

//! AV1 through the real ingest paths, with the real ffmpeg and yt-dlp (issue 14).
//!
//! YouTube serves AV1 to many clients, and the image's ffmpeg-min decodes it only through
//! dav1d: these tests make AV1 clips with the machine's ffmpeg (libaom-av1) and prove that the
//! server probes them, makes their thumbnails (which decodes an AV1 frame) and keeps them or
//! converts them into something Chromium plays:
//!
//! - an AV1/AAC MP4 upload is kept as it is (MP4 + AV1 is browser-playable);
//! - an AV1 4:4:4 upload in MKV (not browser-playable) is transcoded to H.264/AAC MP4, which
//!   means ffmpeg decoded every AV1 frame;
//! - an AV1/Opus upload in MKV is remuxed into WebM;
//! - a DASH manifest on a local server offering only AV1 video is downloaded by yt-dlp with
//!   the server's format order, merged into MP4 and kept;
//! - the format order itself, evaluated by the real yt-dlp on offline format lists: H.264
//!   first, then VP9, then AV1, before any other codec.

use crate::support;
use crate::support::media_server;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use media_server::{codecs, ffprobe, require_ytdlp};
use serde_json::{Value, json};
use sofathek::ytdlp::args::FORMAT_PREFERENCE;
use support::TestServer;

/// Longest wait for a job to end.
const JOB_TIMEOUT: Duration = Duration::from_secs(120);

/// Video codecs Chromium plays in MP4 and WebM (docs/product.md; Debian's Chromium decodes AV1
/// with dav1d) and the audio codecs it plays with them.
const PLAYABLE_VIDEO: &[&str] = &["h264", "vp8", "vp9", "av1"];
const PLAYABLE_AUDIO: &[&str] = &["aac", "mp3", "opus", "vorbis"];

/// The AV1 encoder options: libaom at its fastest setting, tiny constant quality.
const AOM: &[&str] = &[
    "-c:v",
    "libaom-av1",
    "-cpu-used",
    "8",
    "-crf",
    "40",
    "-b:v",
    "0",
    "-row-mt",
    "1",
];

/// A server that transcodes with libx264's fastest preset.
async fn start() -> TestServer {
    require_ytdlp();
    TestServer::start_configured(|config, _| config.x264_preset = "ultrafast".to_owned()).await
}

/// What the AV1 tests ask of a server beyond [`TestServer`]'s own helpers.
trait Av1Api {
    /// Uploads a file as the `video` field and returns the job id (asserting 202).
    async fn upload_file(&self, path: &Path) -> String;
    /// Queues a URL download and returns the job id (asserting 202).
    async fn queue_url(&self, url: &str) -> String;
    /// Polls a job until it ends; asserts that it completed.
    async fn wait_completed(&self, id: &str) -> Value;
    /// Checks a completed job's video with [`TestServer::check_published`] (the library file,
    /// its codecs, a 480 px WebP thumbnail), that the codecs are ones Chromium plays and that
    /// the probed duration reached the catalogue.
    async fn check_playable(&self, job: &Value, container: &str, video: &str, audio: &str);
}

impl Av1Api for TestServer {
    async fn upload_file(&self, path: &Path) -> String {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(path).expect("clip");
        let (status, body) = self.upload(&name, bytes, &[]).await;
        assert_eq!(status, 202, "{body}");
        body["data"]["id"].as_str().expect("job id").to_owned()
    }

    async fn queue_url(&self, url: &str) -> String {
        let (status, body) = self.post_json("/api/jobs", json!({ "url": url })).await;
        assert_eq!(status, 202, "{body}");
        body["data"]["id"].as_str().expect("job id").to_owned()
    }

    async fn wait_completed(&self, id: &str) -> Value {
        self.wait_job(id, JOB_TIMEOUT, |job| match job["state"].as_str() {
            Some("failed" | "cancelled") => panic!("job {id} did not complete: {job}"),
            state => state == Some("completed"),
        })
        .await
    }

    async fn check_playable(&self, job: &Value, container: &str, video: &str, audio: &str) {
        assert!(
            PLAYABLE_VIDEO.contains(&video) && PLAYABLE_AUDIO.contains(&audio),
            "{video}/{audio} is not a codec pair Chromium plays"
        );
        // The thumbnail checked here needs a decoded AV1 frame.
        let entry = self.check_published(job, container, video, audio).await;
        // The probe reached the library entry: a duration of about two seconds.
        let duration = entry["metadata"]["duration"].as_f64().unwrap_or(0.0);
        assert!(
            (1.5..=3.0).contains(&duration),
            "duration {duration}: {entry}"
        );
    }
}

/// Encodes the test pattern and a tone (2 s, 320x240) with `args` into `path`.
fn make_clip(path: &Path, args: &[&str]) {
    let target = path.to_str().expect("utf-8 path");
    let mut all = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc=duration=2:size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=2",
    ];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-shortest", target]);
    support::ffmpeg(&all);
    let (video, _) = codecs(path);
    assert_eq!(
        video.as_deref(),
        Some("av1"),
        "the fixture is not AV1: {}",
        path.display()
    );
}

fn pix_fmt(path: &Path) -> String {
    ffprobe(path)["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["codec_type"] == "video"))
        .and_then(|s| s["pix_fmt"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn av1_aac_mp4_upload_is_probed_thumbnailed_and_kept() {
    let clips = tempfile::tempdir().expect("tempdir");
    let clip = clips.path().join("av1-aac.mp4");
    let mut args = AOM.to_vec();
    args.extend_from_slice(&[
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-movflags",
        "+faststart",
    ]);
    make_clip(&clip, &args);
    let original = std::fs::read(&clip).expect("clip");

    let srv = start().await;
    let job = srv.wait_completed(&srv.upload_file(&clip).await).await;
    srv.check_playable(&job, "mp4", "av1", "aac").await;
    // Kept: the very same bytes.
    let video_id = job["videoId"].as_str().expect("videoId");
    let kept = std::fs::read(srv.library().join(format!("{video_id}.mp4"))).expect("kept");
    assert!(
        kept == original,
        "the AV1 MP4 was rewritten instead of kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn av1_444_mkv_upload_is_decoded_and_transcoded_to_h264() {
    let clips = tempfile::tempdir().expect("tempdir");
    let clip = clips.path().join("av1-444.mkv");
    let mut args = AOM.to_vec();
    args.extend_from_slice(&["-pix_fmt", "yuv444p", "-c:a", "libopus"]);
    make_clip(&clip, &args);
    assert_eq!(pix_fmt(&clip), "yuv444p");

    let srv = start().await;
    let job = srv.wait_completed(&srv.upload_file(&clip).await).await;
    // 4:4:4 AV1 is not browser-safe: every frame was decoded and re-encoded with libx264.
    srv.check_playable(&job, "mp4", "h264", "aac").await;
    let video_id = job["videoId"].as_str().expect("videoId");
    let out = srv.library().join(format!("{video_id}.mp4"));
    assert_eq!(pix_fmt(&out), "yuv420p");
    let frames = ffprobe(&out)["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["codec_type"] == "video"))
        .and_then(|s| s["nb_frames"].as_str())
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(0);
    assert!(
        frames >= 45,
        "only {frames} frames decoded from a 2 s clip at 25 fps"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn av1_opus_mkv_upload_is_remuxed_into_webm() {
    let clips = tempfile::tempdir().expect("tempdir");
    let clip = clips.path().join("av1-opus.mkv");
    let mut args = AOM.to_vec();
    args.extend_from_slice(&["-pix_fmt", "yuv420p", "-c:a", "libopus"]);
    make_clip(&clip, &args);

    let srv = start().await;
    let job = srv.wait_completed(&srv.upload_file(&clip).await).await;
    srv.check_playable(&job, "webm", "av1", "opus").await;
}

/// Serves the files of a directory under `/dash/<name>` (whole files, no Range).
async fn serve_dir(dir: PathBuf) -> String {
    async fn file(State(dir): State<Arc<PathBuf>>, UrlPath(name): UrlPath<String>) -> Response {
        if name.contains('/') || name.starts_with('.') {
            return StatusCode::NOT_FOUND.into_response();
        }
        match tokio::fs::read(dir.join(&name)).await {
            Ok(bytes) => {
                let mime = if name.ends_with(".mpd") {
                    "application/dash+xml"
                } else {
                    "video/iso.segment"
                };
                ([(header::CONTENT_TYPE, mime)], bytes).into_response()
            }
            Err(_) => StatusCode::NOT_FOUND.into_response(),
        }
    }
    let app = Router::new()
        .route("/dash/{name}", get(file))
        .with_state(Arc::new(dir));
    let addr = support::serve_app(app).await;
    format!("http://{addr}/dash")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dash_url_offering_only_av1_video_is_downloaded_merged_and_kept() {
    // A DASH presentation with one AV1 video and one AAC audio representation, as YouTube
    // serves to clients that get AV1: yt-dlp must pick them with the server's format order.
    let dash = tempfile::tempdir().expect("tempdir");
    let manifest = dash.path().join("manifest.mpd");
    // A key frame every second: one segment per second, as the manifest announces.
    let mut args = vec!["-map", "0:v", "-map", "1:a"];
    args.extend_from_slice(AOM);
    args.extend_from_slice(&["-g", "25", "-keyint_min", "25"]);
    args.extend_from_slice(&[
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        "-f",
        "dash",
        "-seg_duration",
        "1",
        "-use_template",
        "1",
        "-use_timeline",
        "1",
        "-adaptation_sets",
        "id=0,streams=v id=1,streams=a",
    ]);
    let target = manifest.to_str().expect("utf-8 path").to_owned();
    let mut all = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc=duration=2:size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=2",
    ];
    all.extend_from_slice(&args);
    all.push(&target);
    support::ffmpeg(&all);
    let mpd = std::fs::read_to_string(&manifest).expect("manifest");
    assert!(mpd.contains("codecs=\"av01."), "{mpd}");

    let base = serve_dir(dash.path().to_path_buf()).await;
    let srv = start().await;
    let job = srv
        .wait_completed(&srv.queue_url(&format!("{base}/manifest.mpd")).await)
        .await;
    srv.check_playable(&job, "mp4", "av1", "aac").await;
}

/// The format yt-dlp selects with the server's format order from an offline format list
/// (`--load-info-json`: no network; the URLs point at a closed port).
#[allow(clippy::disallowed_methods)]
fn selected(formats: &[Value]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let info = dir.path().join("info.json");
    let doc = json!({
        "id": "fmt", "title": "format order", "extractor": "generic",
        "extractor_key": "Generic", "webpage_url": "http://127.0.0.1:9/watch",
        "formats": formats,
    });
    std::fs::write(&info, doc.to_string()).expect("info.json");
    let out = std::process::Command::new("yt-dlp")
        .args(["--ignore-config", "--no-cache-dir", "--simulate"])
        .args(["--print", "format_id", "--merge-output-format", "mp4"])
        .args(["--format", FORMAT_PREFERENCE, "--load-info-json"])
        .arg(&info)
        .output()
        .expect("yt-dlp");
    assert!(
        out.status.success(),
        "yt-dlp failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn video_format(id: &str, ext: &str, vcodec: &str, height: u32, tbr: u32) -> Value {
    json!({
        "format_id": id, "url": format!("http://127.0.0.1:9/{id}.{ext}"), "ext": ext,
        "vcodec": vcodec, "acodec": "none", "height": height, "tbr": tbr, "protocol": "http",
    })
}

fn audio_format(id: &str, ext: &str, acodec: &str, abr: u32) -> Value {
    json!({
        "format_id": id, "url": format!("http://127.0.0.1:9/{id}.{ext}"), "ext": ext,
        "vcodec": "none", "acodec": acodec, "abr": abr, "protocol": "http",
    })
}

#[test]
fn format_order_prefers_h264_then_vp9_and_accepts_av1() {
    require_ytdlp();
    let m4a = audio_format("a-m4a", "m4a", "mp4a.40.2", 128);
    let opus = audio_format("a-opus", "webm", "opus", 140);
    // Higher resolutions and bit rates for the codecs that should lose: the order decides.
    let av1 = video_format("v-av1", "mp4", "av01.0.08M.08", 2160, 4000);
    let hevc = video_format("v-hevc", "mp4", "hvc1.1.6.L120.90", 2160, 5000);
    let vp9 = video_format("v-vp9", "webm", "vp09.00.40.08", 1440, 2000);
    let vp9_plain = video_format("v-vp9plain", "webm", "vp9", 1440, 2000);
    let h264 = video_format("v-h264", "mp4", "avc1.640028", 720, 1000);

    let all = [&m4a, &opus, &av1, &hevc, &vp9, &h264].map(Value::clone);
    assert_eq!(selected(&all), "v-h264+a-m4a");
    let no_h264 = [&m4a, &opus, &av1, &hevc, &vp9].map(Value::clone);
    assert_eq!(selected(&no_h264), "v-vp9+a-opus");
    let plain_vp9 = [&m4a, &opus, &av1, &vp9_plain].map(Value::clone);
    assert_eq!(selected(&plain_vp9), "v-vp9plain+a-opus");
    // AV1 is accepted, and preferred to HEVC (which browsers do not play).
    let av1_or_hevc = [&m4a, &opus, &av1, &hevc].map(Value::clone);
    assert_eq!(selected(&av1_or_hevc), "v-av1+a-opus");
    let only_av1 = [&m4a, &av1].map(Value::clone);
    assert_eq!(selected(&only_av1), "v-av1+a-m4a");
    // Without any of the three, the codec-agnostic fallbacks still pick something.
    let only_hevc = [&m4a, &hevc].map(Value::clone);
    assert_eq!(selected(&only_hevc), "v-hevc+a-m4a");
}

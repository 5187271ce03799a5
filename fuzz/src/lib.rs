//! Shared support for the fuzz targets: a splitter that turns libFuzzer's bytes into fields, and
//! an in-process harness that sends requests through the real router on a small library.

use std::path::Path;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Reads fields from a fuzz input: fixed-size numbers from the front, text fields separated by
/// `0xFF` (a byte that never occurs in UTF-8, so the separator costs no interesting input).
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }

    /// One byte (0 when the input is used up).
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((first, rest)) => {
                self.data = rest;
                *first
            }
            None => 0,
        }
    }

    /// Eight bytes, little-endian, zero-padded.
    pub fn u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        for slot in &mut bytes {
            *slot = self.byte();
        }
        u64::from_le_bytes(bytes)
    }

    /// A size that is usually small (so ranges hit the file) and sometimes anything.
    pub fn size(&mut self) -> u64 {
        match self.byte() % 4 {
            0 => 0,
            1 => u64::from(self.byte()),
            2 => u64::from(self.byte()) << 16 | u64::from(self.byte()),
            _ => self.u64(),
        }
    }

    /// The bytes up to the next `0xFF` (or the end).
    pub fn field(&mut self) -> &'a [u8] {
        match self.data.iter().position(|b| *b == 0xFF) {
            Some(at) => {
                let (field, rest) = self.data.split_at(at);
                self.data = &rest[1..];
                field
            }
            None => std::mem::take(&mut self.data),
        }
    }

    /// The next field as text (invalid UTF-8 replaced).
    pub fn text(&mut self) -> String {
        String::from_utf8_lossy(self.field()).into_owned()
    }

    /// Everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}

/// The file names of the harness library (served by the file routes).
pub const VIDEO_FILE: &str = "clip.mp4";
pub const THUMB_FILE: &str = "clip.webp";
pub const SUBTITLE_FILE: &str = "clip.en.vtt";
pub const VIDEO_ID: &str = "clip";
/// Size of the harness video file in bytes.
pub const VIDEO_SIZE: usize = 4096;
/// The harness's `SOFATHEK_MAX_UPLOAD_BYTES`, small so the limit is reachable.
pub const MAX_UPLOAD_BYTES: u64 = 64 * 1024;

/// A server state on a temporary data directory holding one catalogued video, and a runtime to
/// drive the router. Built once per fuzzing process.
pub struct Harness {
    pub runtime: tokio::runtime::Runtime,
    pub state: sofathek::http::AppState,
    /// A parent API token (`Authorization: Bearer`); a parent password is set.
    pub token: String,
    _dir: tempfile::TempDir,
}

/// An answer: status, headers and the whole body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Harness {
    /// The process-wide harness.
    pub fn get() -> &'static Harness {
        static HARNESS: OnceLock<Harness> = OnceLock::new();
        HARNESS.get_or_init(Harness::build)
    }

    fn build() -> Harness {
        // libFuzzer ends the process without running destructors, so the directory stays:
        // keep it under fuzz/target/, where `cargo clean` finds it.
        let parent = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/harness");
        std::fs::create_dir_all(&parent).expect("harness directory");
        let dir = tempfile::tempdir_in(&parent).expect("temporary directory");
        let data = dir.path().join("data");
        let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend");
        let config = config(&data, &web);
        config.prepare_data_dir().expect("data directory");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let state = sofathek::http::AppState::open(config).expect("state");
        runtime.block_on(seed_library(&state));
        sofathek::auth::set_password_blocking(&state.db, "fuzzing parent password")
            .expect("parent password");
        let token = sofathek::auth::secret::new_api_token().expect("token");
        let hash = sofathek::auth::secret::hash(&token);
        state
            .db
            .write_blocking(|tx| sofathek::db::profiles::create_token(tx, "fuzz", &hash))
            .expect("token stored");
        Harness {
            runtime,
            state,
            token,
            _dir: dir,
        }
    }

    /// Sends one request through a fresh router and collects the answer (bodies are cut at
    /// 1 MiB: the harness files are smaller, and an endless body must not hang the fuzzer).
    pub fn send(&self, request: Request<Body>) -> Answer {
        let router = sofathek::http::router(self.state.clone());
        self.runtime.block_on(async move {
            let response = router.oneshot(request).await.expect("router is infallible");
            let (parts, body) = response.into_parts();
            let limited = http_body_util::Limited::new(body, 1 << 20);
            let body = match limited.collect().await {
                Ok(collected) => collected.to_bytes().to_vec(),
                Err(err) => panic!("response body failed: {err}"),
            };
            Answer {
                status: parts.status,
                headers: parts.headers,
                body,
            }
        })
    }
}

/// Checks what every answer must satisfy: no 5xx, and an error answer (4xx) to a request under
/// `/api/` is the JSON envelope `{status:"error",message}` (pages answer errors in HTML).
pub fn check_answer(what: &str, path: &str, answer: &Answer) {
    assert!(
        !answer.status.is_server_error(),
        "{what}: server error {} {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    );
    if path.starts_with("/api/") && answer.status.is_client_error() && !answer.body.is_empty() {
        let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_else(|err| {
            panic!(
                "{what}: {} body is not JSON ({err}): {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            )
        });
        assert_eq!(json["status"], "error", "{what}: {json}");
        assert!(json["message"].is_string(), "{what}: {json}");
    }
}

/// The configuration a test server would use: the given data and web directories, private
/// URLs allowed, no free-space floor, a small upload limit, and `/bin/false` for every tool
/// (ffprobe refuses every upload as not media; nothing slow or networked is ever started).
fn config(data: &Path, web: &Path) -> sofathek::config::Config {
    #[derive(clap::Parser)]
    struct Args {
        #[command(flatten)]
        config: sofathek::config::ConfigArgs,
    }
    let data = data.to_string_lossy().into_owned();
    let web = web.to_string_lossy().into_owned();
    let max_upload = MAX_UPLOAD_BYTES.to_string();
    let argv = [
        "sofathek",
        "--bind",
        "127.0.0.1:0",
        "--data-path",
        &data,
        "--web-dir",
        &web,
        "--allow-private-urls",
        "true",
        "--min-free-bytes",
        "0",
        "--env",
        "production",
        "--max-upload-bytes",
        &max_upload,
        "--ffmpeg",
        "/bin/false",
        "--ffprobe",
        "/bin/false",
        "--ytdlp",
        "/bin/false",
    ];
    let args = <Args as clap::Parser>::try_parse_from(argv).expect("harness flags parse");
    args.config
        .validate()
        .expect("harness configuration is valid")
}

/// Writes the harness files into the library and records them as one video.
async fn seed_library(state: &sofathek::http::AppState) {
    let library = &state.layout.library;
    let video: Vec<u8> = (0..VIDEO_SIZE).map(|i| (i % 251) as u8).collect();
    std::fs::write(library.join(VIDEO_FILE), &video).expect("video file");
    std::fs::write(library.join(THUMB_FILE), b"RIFF\x0c\0\0\0WEBPVP8 ").expect("thumbnail");
    std::fs::write(
        library.join(SUBTITLE_FILE),
        "WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n",
    )
    .expect("subtitle");
    let record = serde_json::json!({
        "id": VIDEO_ID,
        "title": "Clip",
        "category": null,
        "channel": "Fuzz Channel",
        "description": "a clip for the fuzzer",
        "tags": ["fuzz"],
        "duration": 2.0,
        "width": 320,
        "height": 240,
        "video_codec": "h264",
        "audio_codec": "aac",
        "bitrate": 1000,
        "format": "320x240",
        "file_name": VIDEO_FILE,
        "size": VIDEO_SIZE,
        "modified_at": "2024-01-01T00:00:00.000Z",
        "added_at": "2024-01-01T00:00:00.000Z",
        "upload_date": null,
        "source_url": null,
        "view_count": 0,
        "files": [
            { "name": VIDEO_FILE, "kind": "video", "language": null, "size": VIDEO_SIZE },
            { "name": THUMB_FILE, "kind": "thumbnail", "language": null, "size": 20 },
            { "name": SUBTITLE_FILE, "kind": "subtitle", "language": "en", "size": 36 },
        ],
    });
    let record: sofathek::db::videos::VideoRecord =
        serde_json::from_value(record).expect("harness record matches VideoRecord");
    state
        .db
        .write(move |tx| sofathek::db::videos::insert(tx, &record))
        .await
        .expect("harness record inserted");
}

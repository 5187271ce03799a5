//! Shared test support: a real server on 127.0.0.1:0 with a temporary data dir, an HTTP client,
//! and media generated with ffmpeg.
//!
//! Every server gets a parent password ([`TEST_PASSWORD`]) and a parent API token
//! ([`TEST_TOKEN`]) unless started with [`TestServer::start_fresh`]; [`client`] sends that token,
//! so tests act as a parent. [`anonymous_client`] sends no credentials.
//!
//! Every in-process server of the tests starts here: [`TestServer::start_with`] takes extra
//! flags, [`TestServer::start_configured`] a closure that adjusts the [`Config`] (fields no flag
//! reaches, files in the data directory), [`TestServer::start_configured_at`] also puts the data
//! directory elsewhere (a filesystem the test mounted).
//!
//! The local media server (`media_server`: clips, HLS, feeds, a yt-dlp check) and the crash and
//! fault helpers (`reliability`) are this module's children: the tests share support code one
//! way.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub mod media_server;
pub mod reliability;

use clap::Parser;
use media_server::{codecs, ffprobe};
use serde_json::Value;
use sofathek::config::{Config, ConfigArgs};
use sofathek::http::AppState;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    config: ConfigArgs,
}

/// A configuration for tests: data in `data`, private URLs allowed, extra flags applied.
pub fn test_config(data: &Path, extra: &[&str]) -> Config {
    let data_flag = data.to_string_lossy().into_owned();
    let mut argv = vec![
        "sofathek",
        "--bind",
        "127.0.0.1:0",
        "--data-path",
        &data_flag,
        "--allow-private-urls",
        "true",
        "--min-free-bytes",
        "0",
        "--env",
        "development",
    ];
    argv.extend_from_slice(extra);
    Args::try_parse_from(argv)
        .expect("test flags parse")
        .config
        .validate()
        .expect("test config is valid")
}

/// The parent password of every test server.
pub const TEST_PASSWORD: &str = "sofathek test parent password";
/// Its argon2id hash (precomputed: hashing in every test would cost time for nothing).
const TEST_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$DmY8wlq9AY0qd0txxtbwIg$BxuTyf2V+usa//3yTmnDHXSf9FH+QWdjo1mN6x9XqSE";
/// A parent API token every test server knows; [`client`] sends it.
pub const TEST_TOKEN: &str = "sft_TestTokenForTheIntegrationTests0123456789ab";

/// Gives a database the test parent password (unless it has one) and the test token.
pub fn provision(db: &sofathek::db::Db) {
    use sofathek::db::profiles;
    db.write_blocking(|tx| {
        if profiles::password_hash(tx)?.is_none() {
            sofathek::auth::store_password_hash(tx, TEST_PASSWORD_HASH)?;
        }
        let hash = sofathek::auth::secret::hash(TEST_TOKEN);
        if profiles::find_token(tx, &hash)?.is_none() {
            profiles::create_token(tx, "integration tests", &hash)?;
        }
        Ok(())
    })
    .expect("test credentials");
}

/// Gives the database of a data directory the test credentials (for tests that run the
/// `sofathek` binary on it).
pub fn provision_data_dir(data: &Path) {
    std::fs::create_dir_all(data).expect("data dir");
    let db = sofathek::db::Db::open(&data.join("sofathek.db")).expect("database");
    provision(&db);
}

/// A running server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    pub dir: tempfile::TempDir,
    /// The data directory: `dir/data` unless started with [`TestServer::start_configured_at`].
    data: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(&[]).await
    }

    pub async fn start_with(extra: &[&str]) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(dir, extra).await
    }

    /// Starts without a parent password or token: a fresh install before the first-run setup.
    pub async fn start_fresh() -> TestServer {
        Self::start_fresh_with(&[]).await
    }

    /// [`TestServer::start_fresh`] with extra flags.
    pub async fn start_fresh_with(extra: &[&str]) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::launch(dir, extra, false).await
    }

    /// Starts on an existing data dir without adding the test credentials.
    pub async fn start_fresh_in(dir: tempfile::TempDir) -> TestServer {
        Self::launch(dir, &[], false).await
    }

    /// [`TestServer::start_fresh_in`] with extra flags.
    pub async fn start_fresh_in_with(dir: tempfile::TempDir, extra: &[&str]) -> TestServer {
        Self::launch(dir, extra, false).await
    }

    /// Starts on an existing data dir (to test restarts).
    pub async fn start_in(dir: tempfile::TempDir, extra: &[&str]) -> TestServer {
        Self::launch(dir, extra, true).await
    }

    /// Starts with the test configuration changed by `adjust`, which gets the configuration and
    /// the data directory (created, still empty) before the server opens it.
    pub async fn start_configured(adjust: impl FnOnce(&mut Config, &Path)) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        Self::launch_configured(dir, data, &[], true, adjust).await
    }

    /// [`TestServer::start_configured`] with the data directory at `data` (for example on a
    /// filesystem the test mounted) instead of inside [`TestServer::dir`].
    pub async fn start_configured_at(
        data: &Path,
        adjust: impl FnOnce(&mut Config, &Path),
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::launch_configured(dir, data.to_path_buf(), &[], true, adjust).await
    }

    async fn launch(dir: tempfile::TempDir, extra: &[&str], credentials: bool) -> TestServer {
        let data = dir.path().join("data");
        Self::launch_configured(dir, data, extra, credentials, |_, _| {}).await
    }

    async fn launch_configured(
        dir: tempfile::TempDir,
        data: PathBuf,
        extra: &[&str],
        credentials: bool,
        adjust: impl FnOnce(&mut Config, &Path),
    ) -> TestServer {
        let mut config = test_config(&data, extra);
        config.prepare_data_dir().expect("data dir");
        adjust(&mut config, &data);
        let state = AppState::open(config).expect("state");
        if credentials {
            provision(&state.db);
        }
        let keep = state.ingest.staging_to_keep().expect("active jobs");
        sofathek::library::reconcile(&state.db, &state.layout, &keep).expect("reconcile");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(sofathek::http::serve(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        TestServer {
            addr,
            state,
            dir,
            data,
            stop: Some(tx),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn data(&self) -> PathBuf {
        self.data.clone()
    }

    pub fn library(&self) -> PathBuf {
        self.state.layout.library.to_path_buf()
    }

    /// The names in the staging directory, sorted (empty once every job has cleaned up).
    pub fn staging_entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.state.layout.staging)
            .expect("staging")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Stops the server and returns the data dir for a restart.
    pub async fn stop(self) -> tempfile::TempDir {
        self.shut_down(None).await
    }

    /// [`TestServer::stop`], waiting at most `limit` for the server to finish.
    pub async fn stop_within(self, limit: Duration) -> tempfile::TempDir {
        self.shut_down(Some(limit)).await
    }

    async fn shut_down(mut self, limit: Option<Duration>) -> tempfile::TempDir {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            match limit {
                Some(limit) => {
                    let _ = tokio::time::timeout(limit, task).await;
                }
                None => {
                    let _ = task.await;
                }
            }
        }
        let dir = tempfile::tempdir().expect("tempdir");
        std::mem::replace(&mut self.dir, dir)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        client().get(self.url(path)).send().await.expect("request")
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = self.get(path).await;
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("json body"))
    }

    /// Sends `method` to `path` with an optional JSON body; returns the status and the JSON
    /// answer (`Null` when the answer is not JSON).
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = client().request(method, self.url(path));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// POSTs a JSON body; see [`TestServer::send_json`].
    pub async fn post_json(&self, path: &str, body: Value) -> (u16, Value) {
        self.send_json(reqwest::Method::POST, path, Some(body))
            .await
    }

    /// DELETEs `path`; see [`TestServer::send_json`].
    pub async fn delete_json(&self, path: &str) -> (u16, Value) {
        self.send_json(reqwest::Method::DELETE, path, None).await
    }

    /// Uploads `bytes` as the `video` field (file name `name`) with extra text fields; returns
    /// the status and the JSON answer (`Null` when the answer is not JSON).
    pub async fn upload(
        &self,
        name: &str,
        bytes: Vec<u8>,
        fields: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut form = reqwest::multipart::Form::new().part(
            "video",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
        for (key, value) in fields {
            form = form.text(key.to_string(), value.to_string());
        }
        let resp = client()
            .post(self.url("/api/videos/upload"))
            .multipart(form)
            .send()
            .await
            .expect("upload");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// A job as `GET /api/jobs/{id}` shows it (asserting 200).
    pub async fn job(&self, id: &str) -> Value {
        let (status, value) = self
            .send_json(reqwest::Method::GET, &format!("/api/jobs/{id}"), None)
            .await;
        assert_eq!(status, 200, "{value}");
        value["data"].clone()
    }

    /// Polls a job every 100 ms until `done` says so; fails after `limit`.
    pub async fn wait_job(
        &self,
        id: &str,
        limit: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let began = Instant::now();
        loop {
            let job = self.job(id).await;
            if done(&job) {
                return job;
            }
            assert!(
                began.elapsed() < limit,
                "job {id} did not get there in time: {job}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls a job until it is completed, failed or cancelled; fails after `limit`.
    pub async fn wait_job_final(&self, id: &str, limit: Duration) -> Value {
        self.wait_job(id, limit, |job| {
            matches!(
                job["state"].as_str(),
                Some("completed" | "failed" | "cancelled")
            )
        })
        .await
    }

    /// Checks a completed job's video: in the catalogue and in the library as
    /// `<id>.<container>` with the given codecs (faststart when MP4), with a 480 px WebP
    /// thumbnail. Returns the catalogue entry.
    pub async fn check_published(
        &self,
        job: &Value,
        container: &str,
        video_codec: &str,
        audio_codec: &str,
    ) -> Value {
        let video_id = job["videoId"].as_str().expect("videoId");
        let (status, body) = self
            .send_json(
                reqwest::Method::GET,
                &format!("/api/videos/{video_id}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let entry = body["data"].clone();
        let file_name = entry["file"]["name"].as_str().expect("file name");
        assert_eq!(file_name, format!("{video_id}.{container}"), "{entry}");
        let path = self.library().join(file_name);
        assert_eq!(
            codecs(&path),
            (Some(video_codec.to_owned()), Some(audio_codec.to_owned())),
            "{}",
            path.display()
        );
        if container == "mp4" {
            let file = std::fs::File::open(&path).expect("open");
            assert!(
                sofathek::media::probe::mp4_is_faststart(file).expect("mp4"),
                "{file_name} is not faststart"
            );
        }
        // The thumbnail: WebP, 480 px wide (made from a decoded frame).
        let thumb = self.library().join(format!("{video_id}.webp"));
        let probe = ffprobe(&thumb);
        assert_eq!(probe["streams"][0]["codec_name"], "webp", "{probe}");
        assert_eq!(probe["streams"][0]["width"], 480, "{probe}");
        assert_eq!(entry["metadata"]["thumbnail"], format!("{video_id}.webp"));
        entry
    }

    /// Imports a folder in the original layout through the library code.
    pub async fn import(&self, dir: &Path) -> sofathek::import::ImportReport {
        sofathek::import::import_dir(import_target(&self.state), dir, &Default::default())
            .await
            .expect("import")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Serves `app` (a stand-in for a web site) on 127.0.0.1:0 for the rest of the test; returns
/// its address.
pub async fn serve_app(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// What `sofathek::import` needs of a server's state.
pub fn import_target(state: &AppState) -> sofathek::import::Target<'_> {
    sofathek::import::Target {
        db: &state.db,
        layout: &state.layout,
        config: &state.config,
    }
}

/// A client with parent rights (it sends [`TEST_TOKEN`]) that does not follow redirects or
/// decompress.
pub fn client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&format!("Bearer {TEST_TOKEN}")).expect("header"),
    );
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("client")
}

/// A client without credentials that does not follow redirects or decompress.
pub fn anonymous_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Runs ffmpeg with `args` (tests only; the service spawns through `sofathek::process`).
#[allow(clippy::disallowed_methods)]
pub fn ffmpeg(args: &[&str]) {
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg must be installed for the tests (apt-get install ffmpeg)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// ffmpeg's output options for quick browser-playable H.264 video (the test clips' codec).
pub const H264: [&str; 6] = [
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
];

/// ffmpeg's output options for AAC sound, ending with the shorter input (after [`H264`]).
pub const AAC: [&str; 3] = ["-c:a", "aac", "-shortest"];

/// A short H.264/AAC MP4 test clip.
pub fn make_mp4(path: &Path, seconds: u32) {
    let duration = format!("duration={seconds}");
    let picture = format!("testsrc={duration}:size=320x240:rate=25");
    let sound = format!("sine=frequency=440:{duration}");
    let mut args = vec!["-f", "lavfi", "-i", &picture, "-f", "lavfi", "-i", &sound];
    args.extend_from_slice(&H264);
    args.extend_from_slice(&AAC);
    args.extend_from_slice(&[
        "-movflags",
        "+faststart",
        path.to_str().expect("utf-8 path"),
    ]);
    ffmpeg(&args);
}

/// A small WebP image.
pub fn make_webp(path: &Path) {
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x90:rate=1",
        "-frames:v",
        "1",
        path.to_str().expect("utf-8 path"),
    ]);
}

/// Writes a folder in the original SOFATHEK layout (original §2) and returns the names used.
pub fn original_library(dir: &Path) {
    make_mp4(&dir.join("Test_Video-abc123.mp4"), 2);
    std::fs::write(
        dir.join("Test_Video-abc123.info.json"),
        serde_json::json!({
            "sourceUrl": "https://example.com/watch?v=abc123",
            "extractor": "youtube",
            "id": "abc123",
            "title": "Test Video: \"Special\" Characters",
            "downloadedAt": "2024-05-01T10:00:00.000Z",
            "description": "A dinosaur documentary for kids",
            "uploader": "  Science Channel  ",
            "duration": 2,
            "width": 320,
            "height": 240,
            "resolution": "320x240",
            "tbr": 123.4,
            "tags": ["dinosaurs", "science"],
            "localThumbnail": "Test_Video-abc123.webp"
        })
        .to_string(),
    )
    .expect("sidecar");
    make_webp(&dir.join("Test_Video-abc123.webp"));
    std::fs::write(dir.join("Test_Video-abc123.mp3"), b"ID3 fake mp3 payload").expect("mp3");
    std::fs::write(
        dir.join("Test_Video-abc123.en.srt"),
        "1\n00:00:00,000 --> 00:00:01,500\nHello\n",
    )
    .expect("srt");
    std::fs::write(
        dir.join("Test_Video-abc123.de.srt"),
        "1\n00:00:00,000 --> 00:00:01,500\nHallo\n",
    )
    .expect("srt");
    // A manually copied video: no sidecar, UUID in the name, a JPEG thumbnail with upper-case extension.
    std::fs::copy(
        dir.join("Test_Video-abc123.mp4"),
        dir.join("Unknown_Title-3f2504e0-4f89-11d3-9a0c-0305e82c3301.mp4"),
    )
    .expect("copy");
    std::fs::copy(
        dir.join("Test_Video-abc123.webp"),
        dir.join("Unknown_Title-3f2504e0-4f89-11d3-9a0c-0305e82c3301.JPG"),
    )
    .expect("copy");
    // Corrupt sidecar: ignored with a warning.
    std::fs::copy(
        dir.join("Test_Video-abc123.mp4"),
        dir.join("My_Video_File.mp4"),
    )
    .expect("copy");
    std::fs::write(dir.join("My_Video_File.info.json"), b"{ not json").expect("corrupt");
    // Not a video, and a sub-directory: ignored.
    std::fs::write(dir.join("notes.txt"), b"ignore me").expect("txt");
    std::fs::create_dir_all(dir.join("subdir")).expect("subdir");
    std::fs::copy(
        dir.join("Test_Video-abc123.mp4"),
        dir.join("subdir/hidden.mp4"),
    )
    .expect("copy");
}

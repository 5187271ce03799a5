//! Shared test support: a real server on 127.0.0.1:0 with a temporary data dir, an HTTP client,
//! and media generated with ffmpeg.
//!
//! Every server gets a parent password ([`TEST_PASSWORD`]) and a parent API token
//! ([`TEST_TOKEN`]) unless started with [`TestServer::start_fresh`]; [`client`] sends that token,
//! so tests act as a parent. [`anonymous_client`] sends no credentials.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Parser;
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

    async fn launch(dir: tempfile::TempDir, extra: &[&str], credentials: bool) -> TestServer {
        let config = test_config(&dir.path().join("data"), extra);
        config.prepare_data_dir().expect("data dir");
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
            stop: Some(tx),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn library(&self) -> PathBuf {
        self.state.layout.library.to_path_buf()
    }

    /// Stops the server and returns the data dir for a restart.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
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

    /// Imports a folder in the original layout through the library code.
    pub async fn import(&self, dir: &Path) -> sofathek::import::ImportReport {
        sofathek::import::import_dir(&self.state.ingest, dir, &Default::default())
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

/// A short H.264/AAC MP4 test clip.
pub fn make_mp4(path: &Path, seconds: u32) {
    let duration = format!("duration={seconds}");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc={duration}:size=320x240:rate=25"),
        "-f",
        "lavfi",
        "-i",
        &format!("sine=frequency=440:{duration}"),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        "-movflags",
        "+faststart",
        path.to_str().expect("utf-8 path"),
    ]);
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

//! Disk full: the data directory lives on a 16 MiB tmpfs (mounted by the test; CI runs as
//! root). An upload larger than the free space and a download larger than the free space must
//! fail with a clear error (507 `INSUFFICIENT_STORAGE`, a failed job with `DISK_FULL`), publish
//! nothing partial and leave no staging files; below `SOFATHEK_MIN_FREE_BYTES` new work is
//! refused up front (507); the library keeps being served throughout; once space is freed,
//! uploads work again.
//!
//! Where no filesystem can be mounted (not root, no `mount`), the test says so and checks only
//! the disk guard (SOFATHEK_MIN_FREE_BYTES) on an ordinary directory.

use crate::support;
use crate::support::media_server;
use crate::support::reliability;

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::routing::get;
use serde_json::{Value, json};
use support::TestServer;

/// Size of the test filesystem.
const FS_SIZE: &str = "16m";
/// `SOFATHEK_MIN_FREE_BYTES` of the test server.
const MIN_FREE: u64 = 1 << 20;

/// A tmpfs mounted for the test's lifetime.
struct Mount {
    path: PathBuf,
}

impl Mount {
    /// Mounts a tmpfs at `path`, or says why it cannot.
    #[allow(clippy::disallowed_methods)] // the test mounts its filesystem; the service uses `process`
    fn tmpfs(path: &Path) -> Result<Mount, String> {
        std::fs::create_dir_all(path).map_err(|e| e.to_string())?;
        let out = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={FS_SIZE},mode=0755"),
                "tmpfs",
            ])
            .arg(path)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(Mount {
                path: path.to_path_buf(),
            })
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }
}

impl Drop for Mount {
    #[allow(clippy::disallowed_methods)]
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

fn free_bytes(path: &Path) -> u64 {
    let stat = rustix::fs::statvfs(path).expect("statvfs");
    stat.f_bavail * stat.f_frsize
}

/// Writes a filler file so that about `leave` bytes stay free.
fn fill(dir: &Path, leave: u64) -> PathBuf {
    let filler = dir.join("filler");
    let _ = std::fs::remove_file(&filler);
    let size = free_bytes(dir).saturating_sub(leave);
    let file = std::fs::File::create(&filler).expect("filler");
    // tmpfs counts pages actually written, so write zeros rather than setting a length.
    let mut writer = std::io::BufWriter::new(file);
    let chunk = vec![0u8; 64 * 1024];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        std::io::Write::write_all(&mut writer, &chunk[..n]).expect("fill");
        left -= n as u64;
    }
    std::io::Write::flush(&mut writer).expect("flush");
    filler
}

/// A server on `data` that refuses new work below `min_free` free bytes.
async fn start(data: &Path, min_free: u64) -> TestServer {
    TestServer::start_configured_at(data, |config, _| {
        config.x264_preset = "ultrafast".to_owned();
        config.min_free_bytes = min_free;
    })
    .await
}

/// What the disk-full test asks of a server beyond [`TestServer`]'s own helpers.
trait DiskFullApi {
    async fn submit(&self, url: &str) -> (u16, Value);
    async fn wait_final(&self, id: &str) -> Value;
    /// The library still answers: the listing, and every listed video streams completely.
    async fn still_serving(&self, expected_videos: usize);
}

impl DiskFullApi for TestServer {
    async fn submit(&self, url: &str) -> (u16, Value) {
        self.post_json("/api/jobs", json!({ "url": url })).await
    }

    async fn wait_final(&self, id: &str) -> Value {
        self.wait_job_final(id, Duration::from_secs(90)).await
    }

    async fn still_serving(&self, expected_videos: usize) {
        let (_, listing) = self.get_json("/api/videos").await;
        let videos = listing["data"]["videos"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(videos.len(), expected_videos, "{listing}");
        for video in videos {
            let path = video["file"]["path"].as_str().expect("path");
            let resp = self.get(path).await;
            assert_eq!(resp.status().as_u16(), 200);
            let size = video["file"]["size"].as_u64().expect("size");
            assert_eq!(
                resp.bytes().await.expect("body").len() as u64,
                size,
                "{path} streamed short"
            );
        }
    }
}

/// A local server with one large "video" (`/big.mp4`, `size` bytes) for a download that cannot
/// fit.
async fn big_file_server(size: usize) -> String {
    let app = axum::Router::new().route(
        "/big.mp4",
        get(move || async move { ([("content-type", "video/mp4")], vec![0x42u8; size]) }),
    );
    let addr = support::serve_app(app).await;
    format!("http://{addr}/big.mp4")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_cleanly_and_the_library_keeps_serving() {
    media_server::require_ytdlp();
    let video = std::fs::read(media_server::fixtures().path("h264.mp4")).expect("fixture");
    let dir = tempfile::tempdir().expect("tempdir");
    let mount = match Mount::tmpfs(&dir.path().join("fs")) {
        Ok(mount) => mount,
        Err(why) => {
            println!(
                "disk_full: cannot mount a {FS_SIZE} tmpfs ({why}); checking only the disk guard \
                 (SOFATHEK_MIN_FREE_BYTES) on an ordinary directory"
            );
            guard_only(dir.path()).await;
            return;
        }
    };
    println!("disk_full: {FS_SIZE} tmpfs at {}", mount.path.display());
    let data = mount.path.join("data");
    let srv = start(&data, MIN_FREE).await;

    // One video in the library.
    let (status, body) = srv.upload("first.mp4", video.clone(), &[]).await;
    assert_eq!(status, 202, "{body}");
    let job = srv
        .wait_final(body["data"]["id"].as_str().expect("id"))
        .await;
    assert_eq!(job["state"], "completed", "{job}");
    srv.still_serving(1).await;
    let library_before = reliability::read_state(&data).library;

    // An upload larger than the free space: 507 while receiving, nothing kept.
    let filler = fill(&mount.path, 3 << 20);
    let (status, body) = srv.upload("huge.mp4", vec![7u8; 6 << 20], &[]).await;
    assert_eq!(status, 507, "an upload larger than the free space: {body}");
    assert_eq!(body["code"], "INSUFFICIENT_STORAGE", "{body}");
    assert!(
        srv.staging_entries().is_empty(),
        "a refused upload left {:?} in staging",
        srv.staging_entries()
    );
    srv.still_serving(1).await;

    // A download larger than the free space: accepted (the guard sees 3 MiB free), then the job
    // fails with a clear error and leaves nothing behind.
    let url = big_file_server(12 << 20).await;
    let (status, body) = srv.submit(&url).await;
    assert_eq!(status, 202, "{body}");
    let job = srv
        .wait_final(body["data"]["id"].as_str().expect("id"))
        .await;
    assert_eq!(
        job["state"], "failed",
        "a download larger than the disk: {job}"
    );
    println!("disk_full: download failed with {}", job["error"]);
    assert!(
        job["error"]
            .to_string()
            .to_ascii_lowercase()
            .contains("disk")
            || job["error"].to_string().contains("space"),
        "the error does not say the disk is full: {job}"
    );
    assert!(
        srv.staging_entries().is_empty(),
        "the failed download left {:?} in staging",
        srv.staging_entries()
    );
    assert_eq!(
        reliability::read_state(&data).library,
        library_before,
        "something partial was published"
    );
    srv.still_serving(1).await;

    // Below the guard: refused up front.
    let _ = std::fs::remove_file(&filler);
    let filler = fill(&mount.path, MIN_FREE / 2);
    let (status, body) = srv.upload("small.mp4", video.clone(), &[]).await;
    assert_eq!(status, 507, "{body}");
    let (status, body) = srv.submit(&url).await;
    assert_eq!(status, 507, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        srv.staging_entries().is_empty(),
        "{:?}",
        srv.staging_entries()
    );
    srv.still_serving(1).await;

    // Space again: uploads work.
    std::fs::remove_file(&filler).expect("remove filler");
    let (status, body) = srv.upload("second.mp4", video, &[]).await;
    assert_eq!(status, 202, "{body}");
    let job = srv
        .wait_final(body["data"]["id"].as_str().expect("id"))
        .await;
    assert_eq!(job["state"], "completed", "{job}");
    srv.still_serving(2).await;
    srv.stop_within(Duration::from_secs(15)).await;
    let problems = reliability::violations(&data);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    drop(mount);
}

/// Without a mountable filesystem: the guard alone refuses new work with 507 and keeps serving.
async fn guard_only(dir: &Path) {
    let data = dir.join("data");
    let srv = start(&data, u64::MAX / 2).await;
    let (status, body) = srv.upload("small.mp4", vec![0u8; 1024], &[]).await;
    assert_eq!(status, 507, "{body}");
    assert_eq!(body["code"], "INSUFFICIENT_STORAGE", "{body}");
    let (status, body) = srv.submit("http://127.0.0.1:9/video.mp4").await;
    assert_eq!(status, 507, "{body}");
    assert!(srv.staging_entries().is_empty());
    srv.still_serving(0).await;
    srv.stop_within(Duration::from_secs(15)).await;
}

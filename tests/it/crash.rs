//! Crash safety: the real `sofathek` binary is killed with SIGKILL at random moments while
//! uploads stream in, downloads (yt-dlp from a local server) and conversions (ffmpeg) run and
//! videos are deleted; it is restarted on the same data directory and the invariants are checked
//! right after every start-up: every catalogue entry has its files, staging holds nothing but
//! the directories of unfinished jobs, and no library file is ever removed except by an explicit
//! delete. At the end every job must have been resumed to an end (completed, or failed with an
//! error code), every library file is catalogued (the library scan adopted what a crash
//! mid-publish left), and no child of any killed server may still run.
//!
//! The test runs `CRASH_ITERATIONS` kills (default 6, about 30 s); `scripts/crash-loop` runs
//! the long version. `CRASH_SEED` replays a run (the seed is printed).

use crate::support::media_server;
use crate::support::reliability;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use media_server::{MediaServer, fixtures, require_ytdlp};
use reliability::{Server, start_server, violations};
use serde_json::{Value, json};

/// A small deterministic random generator (xorshift64*), so a seed replays a run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// What was going on at the moments of the kills.
#[derive(Default, Debug)]
struct Faults {
    kills: usize,
    during_upload: usize,
    during_download: usize,
    during_conversion: usize,
    during_publish: usize,
    during_delete: usize,
    idle: usize,
}

/// Requests in flight, counted by the tasks that send them.
#[derive(Default)]
struct InFlight {
    uploads: AtomicUsize,
    deletes: AtomicUsize,
}

const FIXTURES: &[&str] = &["h264.mp4", "nofaststart.mp4", "hevc.mkv", "vp9.webm"];

/// A multipart upload of `bytes` streamed in small chunks with pauses, so a kill can land in
/// the middle of it.
async fn upload(
    base: String,
    token: String,
    name: String,
    bytes: Vec<u8>,
    slow: bool,
    flight: Arc<InFlight>,
) {
    let boundary = "CrashLoopBoundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"video\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let chunk = if slow { 4 * 1024 } else { body.len().max(1) };
    let chunks: Vec<Vec<u8>> = body.chunks(chunk).map(<[u8]>::to_vec).collect();
    let stream =
        futures_util::stream::iter(chunks.into_iter().enumerate()).then(move |(i, c)| async move {
            if slow && i > 0 {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Ok::<_, std::io::Error>(c)
        });
    flight.uploads.fetch_add(1, Ordering::SeqCst);
    let _ = reliability::client(&token)
        .post(format!("{base}/api/videos/upload"))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await;
    flight.uploads.fetch_sub(1, Ordering::SeqCst);
}

use futures_util::StreamExt;

async fn jobs(client: &reqwest::Client, base: &str) -> Vec<Value> {
    match client.get(format!("{base}/api/jobs")).send().await {
        Ok(resp) => resp
            .json::<Value>()
            .await
            .ok()
            .and_then(|v| v["data"]["jobs"].as_array().cloned())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

async fn video_ids(client: &reqwest::Client, base: &str) -> Vec<String> {
    match client.get(format!("{base}/api/videos")).send().await {
        Ok(resp) => resp
            .json::<Value>()
            .await
            .ok()
            .and_then(|v| v["data"]["videos"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v["id"].as_str().map(str::to_owned))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Checks the invariants of a freshly started server, frozen with SIGSTOP while the state is
/// read (a re-queued job needs ffprobe and ffmpeg runs before it can publish anything, so the
/// state right after start-up is the reconciled one).
fn check_after_start(
    server: &Server,
    when: &str,
    seen: &mut BTreeMap<String, Option<String>>,
    deleted: &BTreeSet<String>,
) {
    let pid = rustix::process::Pid::from_raw(server.pid() as i32).expect("pid");
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::STOP);
    let mut problems = violations(&server.data);
    problems.extend(reliability::vanished_files(seen, &server.data, deleted));
    *seen = reliability::library_owners(&server.data);
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::CONT);
    assert!(
        problems.is_empty(),
        "{when}: invariants broken after start-up:\n{}\nlog:\n{}",
        problems.join("\n"),
        server.log_tail()
    );
}

/// Runs the crash loop: `iterations` kills, then a final run to the end.
async fn crash_loop(iterations: usize, seed: u64) -> Faults {
    require_ytdlp();
    let media = MediaServer::start().await;
    let fixture_bytes: BTreeMap<&str, Vec<u8>> = FIXTURES
        .iter()
        .map(|n| (*n, std::fs::read(fixtures().path(n)).expect("fixture")))
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let token = reliability::prepare_data_dir(&data);
    let client = reliability::client(&token);
    let mut rng = Rng(seed | 1);
    let mut faults = Faults::default();
    let mut deleted: BTreeSet<String> = BTreeSet::new();
    // Every library file seen at a start-up, with its owner: none may vanish without a delete.
    let mut seen: BTreeMap<String, Option<String>> = BTreeMap::new();
    let env = [
        ("SOFATHEK_DOWNLOAD_WORKERS", "2".to_owned()),
        ("SOFATHEK_CONVERT_WORKERS", "1".to_owned()),
        ("SOFATHEK_SCAN_SETTLE", "1".to_owned()),
    ];

    for iteration in 0..iterations {
        let port = reliability::free_port();
        let server = start_server(&data, port, &env);
        check_after_start(&server, &format!("start {iteration}"), &mut seen, &deleted);
        let base = server.url("");
        let flight = Arc::new(InFlight::default());
        let mut tasks = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let name = FIXTURES[rng.below(FIXTURES.len() as u64) as usize];
            match rng.below(5) {
                0 | 1 => {
                    let slow = rng.below(2) == 0;
                    tasks.push(tokio::spawn(upload(
                        base.clone(),
                        token.clone(),
                        format!("crash-{iteration}-{name}"),
                        fixture_bytes[name].clone(),
                        slow,
                        flight.clone(),
                    )));
                }
                2 | 3 => {
                    // Trickling downloads (killed mid-fetch) in the first half; then the
                    // trickle is released and they finish, so the slots free up.
                    let path = if iteration < iterations / 2 && rng.below(3) == 0 {
                        format!("/slow/{name}")
                    } else {
                        format!("/files/{name}")
                    };
                    let url = media.url(&path);
                    let client = client.clone();
                    let base = base.clone();
                    tasks.push(tokio::spawn(async move {
                        let _ = client
                            .post(format!("{base}/api/jobs"))
                            .json(&json!({ "url": url }))
                            .send()
                            .await;
                    }));
                }
                _ => {
                    let ids = video_ids(&client, &base).await;
                    if let Some(id) = ids
                        .get(rng.below(ids.len().max(1) as u64) as usize)
                        .cloned()
                    {
                        let client = client.clone();
                        let base = base.clone();
                        let flight = flight.clone();
                        deleted.insert(id.clone());
                        tasks.push(tokio::spawn(async move {
                            flight.deletes.fetch_add(1, Ordering::SeqCst);
                            let _ = client
                                .delete(format!("{base}/api/videos/{id}"))
                                .send()
                                .await;
                            flight.deletes.fetch_sub(1, Ordering::SeqCst);
                        }));
                    }
                }
            }
        }
        if iteration == iterations / 2 {
            media.release();
        }
        // When to kill: at a random moment, right after a delete was sent, or as soon as a
        // job reaches its last stages (thumbnail, publish).
        let mode = rng.below(4);
        match mode {
            0 => {
                let ids = video_ids(&client, &base).await;
                if let Some(id) = ids
                    .get(rng.below(ids.len().max(1) as u64) as usize)
                    .cloned()
                {
                    deleted.insert(id.clone());
                    let client = client.clone();
                    let base = base.clone();
                    let flight = flight.clone();
                    flight.deletes.fetch_add(1, Ordering::SeqCst);
                    tasks.push(tokio::spawn(async move {
                        let _ = client
                            .delete(format!("{base}/api/videos/{id}"))
                            .send()
                            .await;
                        flight.deletes.fetch_sub(1, Ordering::SeqCst);
                    }));
                }
                tokio::time::sleep(Duration::from_millis(rng.below(4))).await;
            }
            1 => {
                let began = Instant::now();
                while began.elapsed() < Duration::from_secs(4) {
                    let late = jobs(&client, &base).await.iter().any(|j| {
                        j["state"] == "running"
                            && matches!(j["stage"].as_str(), Some("thumbnailing" | "publishing"))
                    });
                    if late {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            _ => tokio::time::sleep(Duration::from_millis(100 + rng.below(2400))).await,
        }
        // What is going on right now (the job list is read just before the kill, except when the
        // kill must land during a delete, which takes only milliseconds).
        let running: Vec<Value> = if mode == 0 {
            Vec::new()
        } else {
            jobs(&client, &base)
                .await
                .into_iter()
                .filter(|j| j["state"] == "running")
                .collect()
        };
        let stages: Vec<&str> = running.iter().filter_map(|j| j["stage"].as_str()).collect();
        let uploads = flight.uploads.load(Ordering::SeqCst);
        let deletes = flight.deletes.load(Ordering::SeqCst);
        server.kill9();
        faults.kills += 1;
        faults.during_upload += usize::from(uploads > 0);
        faults.during_delete += usize::from(deletes > 0);
        faults.during_download += usize::from(stages.contains(&"fetching"));
        faults.during_conversion += usize::from(
            stages
                .iter()
                .any(|s| matches!(*s, "probing" | "converting" | "thumbnailing")),
        );
        faults.during_publish += usize::from(stages.contains(&"publishing"));
        if uploads == 0 && deletes == 0 && stages.is_empty() {
            faults.idle += 1;
        }
        println!(
            "kill {iteration}: uploads in flight {uploads}, deletes {deletes}, running stages {stages:?}"
        );
        for task in tasks {
            task.abort();
        }
    }

    // The last start: let every job run to its end.
    media.release();
    let server = start_server(&data, reliability::free_port(), &env);
    check_after_start(&server, "final start", &mut seen, &deleted);
    let base = server.url("");
    let began = Instant::now();
    let finished = loop {
        let all = jobs(&client, &base).await;
        if all.iter().all(|j| {
            matches!(
                j["state"].as_str(),
                Some("completed" | "failed" | "cancelled")
            )
        }) {
            break all;
        }
        assert!(
            began.elapsed() < Duration::from_secs(180),
            "jobs did not finish after the last restart: {:?}\nlog:\n{}",
            all.iter()
                .map(|j| (j["id"].clone(), j["state"].clone(), j["stage"].clone()))
                .collect::<Vec<_>>(),
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // What a crash mid-publish left is adopted by the library scan once it settled.
    let began = Instant::now();
    loop {
        let unowned = reliability::unowned_files(&data);
        if unowned.is_empty() {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "library files never adopted: {unowned:?}\nlog:\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let listed: BTreeSet<String> = video_ids(&client, &base).await.into_iter().collect();
    for job in &finished {
        match job["state"].as_str() {
            Some("completed") => {
                let video = job["videoId"].as_str().unwrap_or_default().to_owned();
                assert!(
                    listed.contains(&video) || deleted.contains(&video),
                    "job {} completed with video {video:?}, which is not in the library: {job}",
                    job["id"]
                );
            }
            Some("failed") => assert!(
                !job["error"].is_null(),
                "a failed job without an error: {job}"
            ),
            _ => {}
        }
    }
    let completed = finished
        .iter()
        .filter(|j| j["state"] == "completed")
        .count();
    let failed = finished.iter().filter(|j| j["state"] == "failed").count();
    println!(
        "crash loop (seed {seed}): {} jobs after {} kills: {completed} completed, {failed} failed; {} videos listed",
        finished.len(),
        faults.kills,
        listed.len()
    );
    let server_pid = server.pid();
    assert!(
        server.terminate(Duration::from_secs(20)).is_some(),
        "the server did not stop on SIGTERM"
    );
    let mut problems = violations(&data);
    problems.extend(reliability::vanished_files(&seen, &data, &deleted));
    problems.extend(
        reliability::unowned_files(&data)
            .into_iter()
            .map(|f| format!("library file {f} has no catalogue entry")),
    );
    assert!(
        problems.is_empty(),
        "invariants broken after the final stop:\n{}",
        problems.join("\n")
    );
    // No child of any of the servers may outlive them.
    let left: Vec<_> = reliability::processes_named(&["ffmpeg", "ffprobe", "yt-dlp"])
        .into_iter()
        .filter(|(pid, ..)| {
            std::fs::read_link(format!("/proc/{pid}/cwd"))
                .is_ok_and(|cwd| cwd.starts_with(dir.path()))
        })
        .collect();
    assert!(
        left.is_empty(),
        "children of killed servers still run (last server {server_pid}): {left:?}"
    );
    faults
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_keeps_the_library_consistent() {
    let iterations = std::env::var("CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(42)
        });
    println!("crash loop: {iterations} kills, seed {seed} (CRASH_SEED={seed} replays it)");
    let faults = crash_loop(iterations, seed).await;
    println!("faults injected: {faults:?}");
}

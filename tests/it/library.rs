//! The library folder is the family's data: files dropped into `library/` (while the server is
//! stopped or running) are adopted or converted, nothing unknown is ever deleted, a publish that
//! crashed before its transaction is adopted, and a lost or corrupted database is rebuilt from
//! the sidecars. Real ffprobe/ffmpeg, real files, the real HTTP API.

use crate::support;
use crate::support::media_server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use media_server::{codecs, fixtures};
use serde_json::{Value, json};
use support::{TestServer, anonymous_client, client, make_mp4};

/// Seconds a file must rest before a scan adopts it (the tests use the shortest).
const SETTLE: &[&str] = &["--scan-settle", "1"];
/// Longest wait for a scan or a conversion to show.
const WAIT: Duration = Duration::from_secs(60);

/// Polls `check` every 200 ms until it gives a value or `WAIT` passes.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let began = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(began.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every video of the catalogue, by id.
async fn videos(server: &TestServer) -> BTreeMap<String, Value> {
    let (status, body) = server.get_json("/api/videos?limit=100").await;
    assert_eq!(status, 200, "{body}");
    body["data"]["videos"]
        .as_array()
        .expect("videos")
        .iter()
        .map(|v| (v["id"].as_str().expect("id").to_owned(), v.clone()))
        .collect()
}

/// Waits until the catalogue has exactly the ids `ids`.
async fn wait_for_videos(server: &TestServer, ids: &[&str]) -> BTreeMap<String, Value> {
    let want: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    eventually(&format!("videos {ids:?}"), || async {
        let all = videos(server).await;
        (all.keys().cloned().collect::<Vec<_>>() == want).then_some(all)
    })
    .await
}

/// The files of the library folder with their contents.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("library")
        .map(|e| e.expect("entry"))
        .filter(|e| e.file_type().expect("type").is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect()
}

fn library_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("library")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Files that are not videos, or not ready, and must survive every scan untouched.
fn drop_strangers(library: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::write(library.join("notes.txt"), b"the family's shopping list").expect("txt");
    std::fs::write(library.join(".hidden.mp4"), b"hidden").expect("hidden");
    std::fs::write(library.join("Film.mp4.part"), b"a download in progress").expect("part");
    std::fs::write(
        library.join("holiday.mov.crdownload"),
        b"a browser download",
    )
    .expect("cr");
    std::fs::write(library.join("broken.mp4"), b"not really a video at all").expect("broken");
    std::fs::copy(
        fixtures().path("notmedia.bin"),
        library.join("renamed-text.mkv"),
    )
    .expect("notmedia");
    std::fs::create_dir_all(library.join("extras")).expect("dir");
    std::fs::write(library.join("extras/inside.mp4"), b"in a folder").expect("inside");
    [
        "notes.txt",
        ".hidden.mp4",
        "Film.mp4.part",
        "holiday.mov.crdownload",
        "broken.mp4",
        "renamed-text.mkv",
    ]
    .iter()
    .map(|n| (n.to_string(), std::fs::read(library.join(n)).expect("read")))
    .collect()
}

/// The reasons of the last scan report, by file.
async fn skipped(server: &TestServer) -> BTreeMap<String, String> {
    let (status, body) = server.get_json("/api/library/scan").await;
    assert_eq!(status, 200, "{body}");
    body["data"]["report"]["skipped"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|s| {
                    (
                        s["file"].as_str().unwrap_or_default().to_owned(),
                        s["reason"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Waits for the job of `kind` to reach a final state and returns it.
async fn final_job(server: &TestServer, kind: &str) -> Value {
    eventually(&format!("a finished {kind} job"), || async {
        let (_, body) = server.get_json("/api/jobs").await;
        body["data"]["jobs"]
            .as_array()?
            .iter()
            .find(|j| {
                j["kind"] == kind
                    && matches!(
                        j["state"].as_str(),
                        Some("completed" | "failed" | "cancelled")
                    )
            })
            .cloned()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn videos_dropped_while_stopped_are_adopted_or_converted_and_nothing_else_is_touched() {
    let server = TestServer::start_with(SETTLE).await;
    let library = server.library();
    let dir = server.stop().await;
    let library_dir = dir.path().join("data/library");
    assert_eq!(library_dir, library);

    // A playable MP4 with a SubRip subtitle, a picture and an original-style sidecar.
    std::fs::copy(fixtures().path("h264.mp4"), library.join("Our_Holiday.mp4")).expect("mp4");
    std::fs::write(
        library.join("Our_Holiday.en.srt"),
        "1\n00:00:00,000 --> 00:00:01,000\nHello\n",
    )
    .expect("srt");
    // A SOFATHEK-style name with its short id: the id is not part of the title.
    std::fs::copy(
        fixtures().path("vp9.webm"),
        library.join("Birthday_Party-0f8e2c1a.webm"),
    )
    .expect("webm");
    // Not playable in a browser: converted by an import job.
    std::fs::copy(
        fixtures().path("hevc.mkv"),
        library.join("Grandma_Visit.mkv"),
    )
    .expect("mkv");
    let strangers = drop_strangers(&library);

    let server = TestServer::start_in(dir, SETTLE).await;
    let all = wait_for_videos(
        &server,
        &["Birthday_Party-0f8e2c1a", "Grandma_Visit", "Our_Holiday"],
    )
    .await;
    let holiday = &all["Our_Holiday"];
    assert_eq!(holiday["metadata"]["title"], "Our Holiday", "{holiday}");
    assert_eq!(holiday["file"]["name"], "Our_Holiday.mp4");
    assert_eq!(holiday["metadata"]["videoCodec"], "h264");
    assert!(holiday["metadata"]["duration"].as_f64().unwrap_or(0.0) > 1.0);
    assert_eq!(
        holiday["metadata"]["thumbnail"], "Our_Holiday.webp",
        "a thumbnail is made"
    );
    assert_eq!(
        holiday["metadata"]["transcripts"],
        json!([{ "language": "en", "file": "Our_Holiday.en.vtt" }]),
        "one subtitle per language, the WebVTT made from the .srt"
    );
    let vtt = std::fs::read_to_string(library.join("Our_Holiday.en.vtt")).expect("vtt");
    assert!(
        vtt.starts_with("WEBVTT") && vtt.contains("00:00:00.000 --> 00:00:01.000"),
        "{vtt}"
    );
    assert_eq!(
        all["Birthday_Party-0f8e2c1a"]["metadata"]["title"],
        "Birthday Party"
    );

    // Every published video has a sidecar that can rebuild it.
    let sidecar: Value = serde_json::from_slice(
        &std::fs::read(library.join("Our_Holiday.info.json")).expect("sidecar"),
    )
    .expect("json");
    assert_eq!(sidecar["title"], "Our Holiday");
    assert_eq!(sidecar["id"], "Our_Holiday");

    // The HEVC file went through the queue as an import job and plays in a browser now.
    let job = final_job(&server, "import").await;
    assert_eq!(job["state"], "completed", "{job}");
    let grandma = &all["Grandma_Visit"];
    assert_eq!(grandma["file"]["name"], "Grandma_Visit.mp4", "{grandma}");
    assert_eq!(
        codecs(&library.join("Grandma_Visit.mp4")),
        (Some("h264".into()), Some("aac".into()))
    );
    assert!(
        !library.join("Grandma_Visit.mkv").exists(),
        "the source is replaced once the converted video is published"
    );
    let resp = server.get("/api/stream/Grandma_Visit.mp4").await;
    assert_eq!(resp.status(), 200);

    // Nothing unknown was removed or changed, and the report says why each was left alone.
    for (name, bytes) in &strangers {
        assert_eq!(
            std::fs::read(library.join(name)).ok().as_ref(),
            Some(bytes),
            "{name} must be left exactly as it was"
        );
    }
    assert!(library.join("extras/inside.mp4").exists());
    let reasons = eventually("a scan report naming the strangers", || async {
        let reasons = skipped(&server).await;
        reasons.contains_key("broken.mp4").then_some(reasons)
    })
    .await;
    for (file, reason) in [
        ("notes.txt", "not a video"),
        (".hidden.mp4", "hidden"),
        ("Film.mp4.part", "still being written"),
        ("holiday.mov.crdownload", "still being written"),
        ("broken.mp4", "ffprobe cannot read"),
        ("renamed-text.mkv", "ffprobe cannot read"),
        ("extras", "folder"),
    ] {
        let got = reasons
            .get(file)
            .map(String::as_str)
            .unwrap_or("(not listed)");
        assert!(
            got.contains(reason),
            "{file}: {got:?} should say {reason:?}; all: {reasons:?}"
        );
    }

    // A second start adopts nothing twice and still touches nothing.
    let before = snapshot(&library);
    let dir = server.stop().await;
    let server = TestServer::start_in(dir, SETTLE).await;
    eventually("the start-up scan", || async {
        let (_, body) = server.get_json("/api/library/scan").await;
        (body["data"]["report"]["trigger"] == "startup" && body["data"]["running"] == false)
            .then_some(())
    })
    .await;
    assert_eq!(videos(&server).await.len(), 3);
    assert_eq!(snapshot(&library), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_originals_keeps_the_converted_source_as_the_videos_original() {
    let extra = ["--scan-settle", "1", "--keep-originals", "true"];
    let server = TestServer::start_with(&extra).await;
    let library = server.library();
    let dir = server.stop().await;
    std::fs::copy(fixtures().path("hevc.mkv"), library.join("Concert.mkv")).expect("mkv");
    std::fs::copy(
        fixtures().path("nofaststart.mp4"),
        library.join("Slow_Start.mp4"),
    )
    .expect("mp4");
    let original = std::fs::read(library.join("Concert.mkv")).expect("read");
    let server = TestServer::start_in(dir, &extra).await;
    let all = eventually("two converted videos", || async {
        let all = videos(&server).await;
        (all.len() == 2).then_some(all)
    })
    .await;
    assert_eq!(all["Concert"]["file"]["name"], "Concert.mp4");
    assert_eq!(
        std::fs::read(library.join("Concert.mkv")).expect("kept"),
        original
    );
    let (_, video) = server.get_json("/api/videos/Concert").await;
    assert_eq!(video["data"]["file"]["name"], "Concert.mp4");
    // The remuxed MP4 got another name (its own name was taken by the source, which stays).
    let slow = all
        .values()
        .find(|v| v["metadata"]["title"] == "Slow Start")
        .expect("the remuxed video");
    assert_ne!(slow["file"]["name"], "Slow_Start.mp4");
    assert!(library.join("Slow_Start.mp4").exists());
    // Deleting the video removes its original too: it is the video's file now.
    let resp = client()
        .delete(server.url("/api/videos/Concert"))
        .send()
        .await
        .expect("delete");
    assert_eq!(resp.status(), 200);
    assert!(!library.join("Concert.mkv").exists());
    assert!(!library.join("Concert.mp4").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_dropped_while_running_appear_within_seconds_and_a_copy_in_progress_waits() {
    // Three seconds of rest before a file counts as copied: the copy below writes every 0.7 s.
    let server = TestServer::start_with(&["--scan-settle", "3"]).await;
    let library = server.library();
    // A file moved in at once (rename): the watcher sees it.
    let outside = tempfile::tempdir().expect("tempdir");
    make_mp4(&outside.path().join("Dropped.mp4"), 2);
    let began = Instant::now();
    std::fs::rename(
        outside.path().join("Dropped.mp4"),
        library.join("Dropped.mp4"),
    )
    .expect("rename");
    wait_for_videos(&server, &["Dropped"]).await;
    let took = began.elapsed();
    println!("a file dropped into the running server's library appeared after {took:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");

    // A file copied slowly: never adopted while it grows, adopted once complete.
    let source = std::fs::read(fixtures().path("h264.mp4")).expect("fixture");
    let target = library.join("Slow_Copy.mp4");
    let chunks: Vec<&[u8]> = source.chunks(source.len() / 6 + 1).collect();
    let mut file = std::fs::File::create(&target).expect("create");
    for chunk in &chunks {
        use std::io::Write;
        file.write_all(chunk).expect("write");
        file.flush().expect("flush");
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert!(
            !videos(&server).await.contains_key("Slow_Copy"),
            "a file still being copied was adopted"
        );
    }
    drop(file);
    let all = wait_for_videos(&server, &["Dropped", "Slow_Copy"]).await;
    assert_eq!(all["Slow_Copy"]["file"]["size"], json!(source.len()));
    let resp = server.get("/api/stream/Slow_Copy.mp4").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.bytes().await.expect("body").as_ref(),
        source.as_slice()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_that_crashed_before_its_transaction_is_adopted_and_its_job_completed() {
    let server = TestServer::start_with(SETTLE).await;
    let library = server.library();
    let dir = server.stop().await;
    // A running job that had planned its video id, as the pipeline does right before publishing.
    let job_id = uuid::Uuid::new_v4().to_string();
    let stem = "Crash_Test-0f8e2c1a";
    let db = sofathek::db::Db::open(&dir.path().join("data/sofathek.db")).expect("db");
    db.write({
        let job_id = job_id.clone();
        move |tx| {
            sofathek::db::jobs::insert(
                tx,
                &sofathek::db::jobs::NewJob {
                    id: job_id.clone(),
                    kind: sofathek::db::jobs::JobKind::Url,
                    url: Some("http://127.0.0.1:9/video.mp4".into()),
                    title: None,
                    category: None,
                    audio: false,
                    source_name: None,
                    source_file: None,
                    metadata: None,
                    request_id: "test".into(),
                    source_id: None,
                },
            )?;
            sofathek::db::jobs::start(tx, &job_id, sofathek::db::jobs::Stage::Publishing, 96.0)?;
            sofathek::db::jobs::plan_video(tx, &job_id, stem)?;
            Ok(())
        }
    })
    .await
    .expect("job");
    drop(db);
    // The crash: the files were renamed in (sidecar first), the transaction never ran.
    std::fs::write(
        library.join(format!("{stem}.info.json")),
        json!({
            "id": stem,
            "title": "Crash Test: the real title",
            "category": "kids",
            "categoryName": "Kids",
            "addedAt": "2025-01-02T03:04:05.000Z",
            "sourceUrl": "http://127.0.0.1:9/video.mp4",
        })
        .to_string(),
    )
    .expect("sidecar");
    std::fs::copy(
        fixtures().path("h264.mp4"),
        library.join(format!("{stem}.mp4")),
    )
    .expect("mp4");
    support::make_webp(&library.join(format!("{stem}.webp")));

    let server = TestServer::start_in(dir, SETTLE).await;
    let all = wait_for_videos(&server, &[stem]).await;
    let video = &all[stem];
    assert_eq!(video["metadata"]["title"], "Crash Test: the real title");
    assert_eq!(video["category"], "kids");
    assert_eq!(video["addedAt"], "2025-01-02T03:04:05.000Z");
    assert_eq!(
        video["metadata"]["sourceUrl"],
        "http://127.0.0.1:9/video.mp4"
    );
    assert_eq!(video["metadata"]["thumbnail"], format!("{stem}.webp"));
    let (_, job) = server.get_json(&format!("/api/jobs/{job_id}")).await;
    assert_eq!(job["data"]["state"], "completed", "{job}");
    assert_eq!(job["data"]["videoId"], stem);
}

/// Uploads a file with a title and category and waits for its video; returns the video id.
async fn upload(server: &TestServer, file: &Path, title: &str, category: &str) -> String {
    let form = reqwest::multipart::Form::new()
        .part(
            "video",
            reqwest::multipart::Part::bytes(std::fs::read(file).expect("read")).file_name(
                file.file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned(),
            ),
        )
        .text("title", title.to_owned())
        .text("category", category.to_owned());
    let resp = client()
        .post(server.url("/api/videos/upload"))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(resp.status(), 202);
    let body: Value = resp.json().await.expect("json");
    let id = body["data"]["id"].as_str().expect("job id").to_owned();
    eventually("the upload's video", || async {
        let (_, job) = server.get_json(&format!("/api/jobs/{id}")).await;
        assert_ne!(job["data"]["state"], "failed", "{job}");
        job["data"]["videoId"]
            .as_str()
            .filter(|_| job["data"]["state"] == "completed")
            .map(str::to_owned)
    })
    .await
}

/// The catalogue fields a rebuild must restore.
fn essentials(all: &BTreeMap<String, Value>) -> Vec<(String, Value, Value, Value, Value)> {
    all.iter()
        .map(|(id, v)| {
            (
                id.clone(),
                v["metadata"]["title"].clone(),
                v["category"].clone(),
                v["addedAt"].clone(),
                v["file"]["name"].clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_or_corrupted_database_is_rebuilt_from_the_library_folder() {
    let server = TestServer::start_with(SETTLE).await;
    let resp = client()
        .post(server.url("/api/categories"))
        .json(&json!({ "name": "Dinosaurs" }))
        .send()
        .await
        .expect("category");
    assert_eq!(resp.status(), 201);
    let first = upload(
        &server,
        &fixtures().path("h264.mp4"),
        "T-Rex facts",
        "dinosaurs",
    )
    .await;
    let second = upload(&server, &fixtures().path("vp9.webm"), "Lullaby", "music").await;
    // A parent's edit is written to the sidecar too.
    let resp = client()
        .patch(server.url(&format!("/api/videos/{second}")))
        .json(&json!({ "title": "Good-night lullaby", "category": "kids" }))
        .send()
        .await
        .expect("patch");
    assert_eq!(resp.status(), 200);
    let before = essentials(&videos(&server).await);
    assert_eq!(before.len(), 2);
    let library = server.library();
    let files_before = snapshot(&library);

    // The database is lost (a restore without it, someone "resetting" the app).
    let dir = server.stop().await;
    let data = dir.path().join("data");
    for name in ["sofathek.db", "sofathek.db-wal", "sofathek.db-shm"] {
        let _ = std::fs::remove_file(data.join(name));
    }
    let server = TestServer::start_in(dir, SETTLE).await;
    let ids = [first.as_str(), second.as_str()];
    let mut sorted = ids.to_vec();
    sorted.sort();
    let rebuilt = wait_for_videos(&server, &sorted).await;
    assert_eq!(
        essentials(&rebuilt),
        before,
        "every video back with title, category and date"
    );
    let (_, categories) = server.get_json("/api/categories").await;
    assert!(
        categories["data"]["categories"]
            .as_array()
            .expect("categories")
            .iter()
            .any(|c| c["slug"] == "dinosaurs" && c["name"] == "Dinosaurs"),
        "a custom category comes back with its name: {categories}"
    );
    assert_eq!(
        files_before.keys().collect::<Vec<_>>(),
        snapshot(&library).keys().collect::<Vec<_>>(),
        "no library file was removed"
    );

    // The database is corrupted: it is moved aside (never deleted) and rebuilt the same way.
    let dir = server.stop().await;
    let data = dir.path().join("data");
    let garbage = b"this is not an SQLite database any more".repeat(200);
    std::fs::write(data.join("sofathek.db"), &garbage).expect("corrupt");
    let _ = std::fs::remove_file(data.join("sofathek.db-wal"));
    let _ = std::fs::remove_file(data.join("sofathek.db-shm"));
    let server = TestServer::start_in(dir, SETTLE).await;
    let rebuilt = wait_for_videos(&server, &sorted).await;
    assert_eq!(essentials(&rebuilt), before);
    let aside: Vec<PathBuf> = std::fs::read_dir(&data)
        .expect("data")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("sofathek.db.corrupt-"))
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(&aside[0]).expect("aside"), garbage);
    let (status, health) = server.get_json("/api/health").await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["status"], "warning");
    let check = health["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "database_recovered")
        .cloned()
        .expect("a database_recovered check");
    assert_eq!(check["status"], "warn");
    assert!(
        health["services"]["database"]["movedAside"]["path"]
            .as_str()
            .is_some_and(|p| p.contains("sofathek.db.corrupt-")),
        "{health}"
    );

    // `sofathek scan --rebuild` restores what the sidecars say over the catalogue's fields.
    let sidecar_path = library.join(format!("{first}.info.json"));
    let mut side: Value =
        serde_json::from_slice(&std::fs::read(&sidecar_path).expect("sidecar")).expect("json");
    side["title"] = json!("T-Rex facts, restored");
    std::fs::write(&sidecar_path, side.to_string()).expect("write");
    let report = server
        .state
        .ingest
        .scan(sofathek::ingest::Trigger::Cli, true)
        .await
        .expect("scan");
    assert_eq!(report.restored, vec![first.clone()]);
    let (_, video) = server.get_json(&format!("/api/videos/{first}")).await;
    assert_eq!(video["data"]["metadata"]["title"], "T-Rex facts, restored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_delete_removes_the_files_and_the_sidecar_and_nothing_else() {
    let server = TestServer::start_with(SETTLE).await;
    let library = server.library();
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        fixtures().path("h264.mp4"),
        outside.path().join("Picnic.mp4"),
    )
    .expect("mp4");
    std::fs::write(
        outside.path().join("Picnic.de.srt"),
        "1\n00:00:00,000 --> 00:00:01,000\nHallo\n",
    )
    .expect("srt");
    std::fs::write(
        outside.path().join("Picnic.de.vtt"),
        "WEBVTT\n\n00:00.000 --> 00:01.000\nHallo\n",
    )
    .expect("vtt");
    support::make_webp(&outside.path().join("Picnic.jpg"));
    std::fs::write(library.join("Picnic notes.txt"), b"keep me").expect("notes");
    for name in ["Picnic.de.srt", "Picnic.de.vtt", "Picnic.jpg", "Picnic.mp4"] {
        std::fs::rename(outside.path().join(name), library.join(name)).expect("move in");
    }
    let all = wait_for_videos(&server, &["Picnic"]).await;
    assert_eq!(
        all["Picnic"]["metadata"]["thumbnail"], "Picnic.jpg",
        "the picture beside it is used"
    );
    assert_eq!(
        all["Picnic"]["metadata"]["transcripts"],
        json!([{ "language": "de", "file": "Picnic.de.vtt" }]),
        "the WebVTT is listed once; the SubRip stays on disk"
    );
    assert!(library.join("Picnic.info.json").exists());
    let resp = client()
        .delete(server.url("/api/videos/Picnic"))
        .send()
        .await
        .expect("delete");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        library_names(&library),
        vec!["Picnic notes.txt".to_string()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_parent_starts_a_scan_and_reads_its_report() {
    // No watcher: the scan that adopts the file is the one the parent asked for.
    let server = TestServer::start_with(&["--scan-settle", "1", "--watch-library", "false"]).await;
    // The start-up scan ends first: the file below is for the parent's scan alone.
    eventually("the start-up scan", || async {
        (!server.state.ingest.scanning() && server.state.ingest.last_scan().is_some()).then_some(())
    })
    .await;
    for resp in [
        anonymous_client()
            .post(server.url("/api/library/scan"))
            .send()
            .await
            .expect("post"),
        anonymous_client()
            .get(server.url("/api/library/scan"))
            .send()
            .await
            .expect("get"),
    ] {
        assert_eq!(resp.status(), 401);
    }
    let target = server.library().join("Api_Scan.mp4");
    std::fs::copy(fixtures().path("h264.mp4"), &target).expect("copy");
    std::fs::File::options()
        .write(true)
        .open(&target)
        .and_then(|f| f.set_modified(std::time::SystemTime::now() - Duration::from_secs(3600)))
        .expect("an old file");
    let resp = client()
        .post(server.url("/api/library/scan"))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 202);
    let report = eventually("a report that adopted the file", || async {
        let (_, body) = server.get_json("/api/library/scan").await;
        let adopted = body["data"]["report"]["adopted"].as_array()?;
        adopted
            .iter()
            .any(|a| a["file"] == "Api_Scan.mp4")
            .then(|| body["data"]["report"].clone())
    })
    .await;
    assert_eq!(report["adopted"][0]["id"], "Api_Scan");
    assert_eq!(report["adopted"][0]["title"], "Api Scan");
}

/// Writes a fake ffprobe that records each call, for proving a scan of known files runs none.
fn counting_ffprobe(dir: &Path) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let log = dir.join("ffprobe-calls");
    let script = dir.join("ffprobe");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\nexec ffprobe \"$@\"\n",
            log.display()
        ),
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (script, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_of_known_files_stats_nothing_and_runs_no_ffprobe() {
    let count: usize = std::env::var("SCAN_BENCH_FILES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let tools = tempfile::tempdir().expect("tempdir");
    let (ffprobe, log) = counting_ffprobe(tools.path());
    let ffprobe = ffprobe.to_string_lossy().into_owned();
    let extra = [
        "--scan-settle",
        "1",
        "--ffprobe",
        &ffprobe,
        "--watch-library",
        "false",
    ];
    let server = TestServer::start_with(&extra).await;
    let library = server.library();
    // Catalogue rows first, then the files: no scan ever sees them unknown.
    let records: Vec<sofathek::db::videos::VideoRecord> = (0..count)
        .map(|i| {
            let name = format!("known-{i:05}.mp4");
            sofathek::db::videos::VideoRecord {
                id: format!("known-{i:05}"),
                title: format!("Known {i}"),
                file_name: name.clone(),
                size: 1,
                modified_at: "2024-01-01T00:00:00.000Z".into(),
                added_at: "2024-01-01T00:00:00.000Z".into(),
                files: vec![sofathek::db::videos::FileRecord {
                    name,
                    kind: sofathek::db::videos::FileKind::Video,
                    size: 1,
                    language: None,
                }],
                ..Default::default()
            }
        })
        .collect();
    server
        .state
        .db
        .write(move |tx| {
            for record in &records {
                sofathek::db::videos::insert(tx, record)?;
            }
            Ok(())
        })
        .await
        .expect("catalogue");
    for i in 0..count {
        std::fs::write(library.join(format!("known-{i:05}.mp4")), b"x").expect("file");
    }
    // Wait for the start-up scan, then measure one of our own.
    eventually("the start-up scan", || async {
        (!server.state.ingest.scanning() && server.state.ingest.last_scan().is_some()).then_some(())
    })
    .await;
    let _ = std::fs::remove_file(&log);
    let report = server
        .state
        .ingest
        .scan(sofathek::ingest::Trigger::Api, false)
        .await
        .expect("scan");
    println!(
        "library scan of {count} known files: {} ms ({} entries, {} known)",
        report.took_ms, report.files, report.known
    );
    assert_eq!(report.known, count);
    assert_eq!(report.found, 0);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert!(!log.exists(), "a scan of known files ran ffprobe");
}

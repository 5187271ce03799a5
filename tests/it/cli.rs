//! Tests of the `sofathek` binary itself: version, configuration errors, healthcheck exit codes,
//! `import`, `config --json`, and graceful shutdown on SIGTERM with a request in flight.
#![allow(clippy::disallowed_methods)] // the tests spawn the binary under test directly

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sofathek");

fn sofathek(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run sofathek")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Starts `sofathek serve` and waits until it answers.
fn start(data: &std::path::Path, port: u16) -> Child {
    let child = Command::new(BIN)
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SOFATHEK_BIND", format!("127.0.0.1:{port}"))
        .env("SOFATHEK_DATA_PATH", data)
        .env("SOFATHEK_ENV", "production")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn server");
    let began = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn sigterm(child: &Child) {
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).expect("pid"),
        rustix::process::Signal::TERM,
    )
    .expect("kill");
}

#[test]
fn version_and_help() {
    let out = sofathek(&["--version"], &[]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("sofathek {}", env!("CARGO_PKG_VERSION"))
    );
    let help = sofathek(&["--help"], &[]);
    let text = String::from_utf8_lossy(&help.stdout);
    for command in ["serve", "healthcheck", "import", "config"] {
        assert!(text.contains(command), "{text}");
    }
}

#[test]
fn configuration_errors_name_the_variable() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let data = data.to_str().expect("utf-8");
    let check = |envs: &[(&str, &str)], needle: &str| {
        let out = sofathek(&["serve"], envs);
        assert!(!out.status.success(), "{envs:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{envs:?}: {err}");
    };
    check(
        &[
            ("SOFATHEK_BIND", "127.0.0.1:99999"),
            ("SOFATHEK_DATA_PATH", data),
        ],
        "SOFATHEK_BIND",
    );
    check(
        &[("SOFATHEK_BIND", "nonsense"), ("SOFATHEK_DATA_PATH", data)],
        "SOFATHEK_BIND",
    );
    check(
        &[("SOFATHEK_DATA_PATH", "/definitely/not/here/data")],
        "SOFATHEK_DATA_PATH",
    );
    let link = tmp.path().join("usb");
    std::os::unix::fs::symlink(tmp.path().join("unmounted-drive"), &link).expect("symlink");
    check(
        &[("SOFATHEK_DATA_PATH", link.to_str().expect("utf-8"))],
        "mounted",
    );
    let file = tmp.path().join("file");
    std::fs::write(&file, b"x").expect("file");
    check(
        &[("SOFATHEK_DATA_PATH", file.to_str().expect("utf-8"))],
        "not a directory",
    );
    check(
        &[("SOFATHEK_ENV", "prod"), ("SOFATHEK_DATA_PATH", data)],
        "SOFATHEK_ENV",
    );
    check(
        &[
            ("SOFATHEK_DOWNLOAD_WORKERS", "0"),
            ("SOFATHEK_DATA_PATH", data),
        ],
        "SOFATHEK_DOWNLOAD_WORKERS",
    );
}

#[test]
fn config_json_prints_the_effective_configuration() {
    let out = sofathek(
        &["config", "--json"],
        &[
            ("SOFATHEK_BIND", "0.0.0.0:3001"),
            ("SOFATHEK_DATA_PATH", "/app/data"),
            ("SOFATHEK_ENV", "production"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["bind"], "0.0.0.0:3001");
    assert_eq!(json["data_path"], "/app/data");
    assert_eq!(json["env"], "production");
    assert_eq!(json["log_level"], "info");
    let defaults = sofathek(&["config", "--json"], &[]);
    let json: serde_json::Value = serde_json::from_slice(&defaults.stdout).expect("json");
    assert_eq!(json["bind"], "127.0.0.1:3001");
    assert_eq!(json["env"], "development");
}

#[test]
fn healthcheck_exit_codes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut server = start(&tmp.path().join("data"), port);
    let ok = sofathek(
        &["healthcheck"],
        &[("SOFATHEK_BIND", &format!("0.0.0.0:{port}"))],
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let status = String::from_utf8_lossy(&ok.stdout);
    assert!(matches!(status.trim(), "healthy" | "warning"), "{status}");
    sigterm(&server);
    server.wait().expect("wait");
    let down = sofathek(
        &["healthcheck", "--bind", &format!("127.0.0.1:{port}")],
        &[],
    );
    assert_eq!(down.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&down.stderr).contains("unhealthy"));
}

#[test]
fn import_command_reports_json() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("old");
    std::fs::create_dir(&src).expect("mkdir");
    support::original_library(&src);
    let data = tmp.path().join("data");
    let out = sofathek(
        &["import", src.to_str().expect("utf-8"), "--category", "kids"],
        &[("SOFATHEK_DATA_PATH", data.to_str().expect("utf-8"))],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        report["imported"].as_array().map(Vec::len),
        Some(3),
        "{report}"
    );
    let bad = sofathek(
        &["import", src.to_str().expect("utf-8"), "--category", "nope"],
        &[("SOFATHEK_DATA_PATH", data.to_str().expect("utf-8"))],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown category"));
    // The source library is left as it was (copy, not move).
    assert!(src.join("Test_Video-abc123.mp4").exists());
    // Import fills gaps: a video without a picture gets a thumbnail; every video a sidecar (a
    // new one where the original's could not be read; that file is left in the old folder).
    let library = data.join("library");
    assert!(library.join("My_Video_File.webp").exists());
    let fresh: serde_json::Value = serde_json::from_slice(
        &std::fs::read(library.join("My_Video_File.info.json")).expect("sidecar"),
    )
    .expect("json");
    assert_eq!(fresh["title"], "My Video File");
    assert_eq!(
        std::fs::read(src.join("My_Video_File.info.json")).expect("original"),
        b"{ not json"
    );
    let merged: serde_json::Value = serde_json::from_slice(
        &std::fs::read(library.join("Test_Video-abc123.info.json")).expect("sidecar"),
    )
    .expect("json");
    assert_eq!(
        merged["extractor"], "youtube",
        "the original's fields are kept"
    );
    assert_eq!(merged["category"], "kids");
}

#[test]
fn scan_command_adopts_dropped_files_and_reports_json() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let library = data.join("library");
    std::fs::create_dir_all(&library).expect("library");
    let video = library.join("Dropped_Here.mp4");
    support::make_mp4(&video, 2);
    std::fs::File::options()
        .write(true)
        .open(&video)
        .and_then(|f| {
            f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(600))
        })
        .expect("an old file");
    std::fs::write(library.join("readme.txt"), b"hello").expect("txt");
    let env = [("SOFATHEK_DATA_PATH", data.to_str().expect("utf-8"))];
    let out = sofathek(&["scan"], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["trigger"], "cli");
    assert_eq!(report["adopted"][0]["file"], "Dropped_Here.mp4", "{report}");
    assert_eq!(report["adopted"][0]["title"], "Dropped Here");
    assert_eq!(report["skipped"][0]["file"], "readme.txt");
    assert!(library.join("Dropped_Here.webp").exists());
    assert_eq!(
        std::fs::read(library.join("readme.txt")).expect("kept"),
        b"hello"
    );
    // A second scan knows everything; --rebuild restores nothing that is already right.
    let again = sofathek(&["scan", "--rebuild"], &env);
    assert!(again.status.success());
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(report["adopted"], serde_json::json!([]));
    assert_eq!(report["restored"], serde_json::json!([]));
    assert_eq!(report["known"], 3, "video, thumbnail and sidecar: {report}");
}

#[test]
fn sigterm_lets_in_flight_requests_finish_and_exits() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("old");
    std::fs::create_dir(&src).expect("mkdir");
    support::make_mp4(&src.join("clip.mp4"), 2);
    let data = tmp.path().join("data");
    let out = sofathek(
        &["import", src.to_str().expect("utf-8")],
        &[("SOFATHEK_DATA_PATH", data.to_str().expect("utf-8"))],
    );
    assert!(out.status.success());
    let size = std::fs::metadata(src.join("clip.mp4")).expect("meta").len();

    let port = free_port();
    let mut server = start(&data, port);
    // Open a request and read only its head before the signal.
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    use std::io::{Read, Write};
    write!(
        stream,
        "GET /api/stream/clip.mp4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut first = [0u8; 64];
    let n = stream.read(&mut first).expect("read head");
    assert!(
        std::str::from_utf8(&first[..n])
            .unwrap_or("")
            .starts_with("HTTP/1.1 200")
    );

    let began = Instant::now();
    sigterm(&server);
    // The in-flight response still completes.
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).expect("read rest");
    assert!((n + rest.len()) as u64 > size, "response was cut short");
    let status = server.wait().expect("wait");
    assert!(status.success(), "exit status {status:?}");
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "shutdown took {:?}",
        began.elapsed()
    );
    let stderr = BufReader::new(server.stderr.take().expect("stderr"));
    let logs: Vec<String> = stderr.lines().map_while(Result::ok).collect();
    assert!(logs.iter().any(|l| l.contains("shutting down")), "{logs:?}");
    // Production logs are JSON lines.
    assert!(logs.iter().all(|l| l.starts_with('{')), "{logs:?}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "still listening"
    );
}

#[test]
fn the_originals_variables_are_mapped_or_named_never_silently_ignored() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let data_env = data.to_str().expect("utf-8");
    let env = [
        ("SOFATHEK_DATA_PATH", data_env),
        ("SOFATHEK_BACKEND_PORT", "3010"),
        ("NODE_ENV", "production"),
        ("VIDEOS_DIR", "/old/videos"),
        ("VIDEO_MAX_AGE_DAYS", "30"),
        ("RATE_LIMIT_MAX_REQUESTS", "5"),
    ];
    let out = sofathek(&["config", "--json"], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(config["bind"], "127.0.0.1:3010");
    assert_eq!(config["env"], "production");
    assert_eq!(config["rate_limit_max_requests"], 5);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for variable in [
        "SOFATHEK_BACKEND_PORT (mapped)",
        "NODE_ENV (mapped)",
        "VIDEOS_DIR (ignored)",
        "VIDEO_MAX_AGE_DAYS (ignored)",
        "RATE_LIMIT_MAX_REQUESTS (different)",
    ] {
        assert!(stderr.contains(variable), "{variable} in {stderr}");
    }
    assert!(stderr.contains("sofathek import /old/videos"), "{stderr}");

    let out = sofathek(&["config", "--check-legacy", "--json"], &env);
    assert!(out.status.success());
    let legacy: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let notes = legacy["notes"].as_array().expect("notes");
    assert_eq!(notes.len(), 5, "{legacy}");
    assert_eq!(notes[0]["action"], "mapped");

    // SOFATHEK's own variable wins, and the original's is named as ignored.
    let out = sofathek(
        &["config", "--check-legacy"],
        &[
            ("SOFATHEK_DATA_PATH", data_env),
            ("SOFATHEK_BIND", "127.0.0.1:4000"),
            ("SOFATHEK_BACKEND_PORT", "3010"),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("SOFATHEK_BACKEND_PORT (ignored)") && text.contains("SOFATHEK_BIND is set"),
        "{text}"
    );
    let out = sofathek(
        &["config", "--check-legacy"],
        &[("SOFATHEK_DATA_PATH", data_env)],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "no variable of the original SOFATHEK is set"
    );
}

#[test]
fn import_reads_the_originals_download_queue_into_the_job_history() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // The original's default layout: data/videos and data/temp side by side.
    let videos = tmp.path().join("old/videos");
    let temp = tmp.path().join("old/temp");
    std::fs::create_dir_all(&videos).expect("videos");
    std::fs::create_dir_all(&temp).expect("temp");
    support::original_library(&videos);
    let queue = serde_json::json!([
        {
            "id": "11111111-1111-4111-8111-111111111111",
            "request": { "url": "https://example.com/watch?v=abc123", "title": "Dinos", "requestedAt": "2024-05-01T09:59:00.000Z", "requestId": "r-1" },
            "status": "completed", "progress": 100, "currentStep": "Download completed",
            "queuedAt": "2024-05-01T09:59:00.000Z", "startedAt": "2024-05-01T09:59:01.000Z", "completedAt": "2024-05-01T10:00:00.000Z",
            "result": { "id": "x", "status": "success", "videoPath": "/home/me/.local/share/sofathek/data/videos/Test_Video-abc123.mp4", "metadata": { "title": "Test Video" } }
        },
        {
            "id": "22222222-2222-4222-8222-222222222222",
            "request": { "url": "https://example.com/watch?v=gone" },
            "status": "failed", "progress": 5, "currentStep": "Fetching video metadata",
            "error": "Video unavailable", "errorCode": "VIDEO_UNAVAILABLE",
            "queuedAt": "2024-05-02T10:00:00.000Z", "completedAt": "2024-05-02T10:00:05.000Z"
        },
        {
            "id": "33333333-3333-4333-8333-333333333333",
            "request": { "url": "https://example.com/watch?v=later" },
            "status": "pending", "progress": 0, "currentStep": "Queued for processing",
            "queuedAt": "2024-05-03T10:00:00.000Z"
        },
        { "id": "44444444-4444-4444-8444-444444444444", "status": "exploded" },
        "not an item"
    ]);
    std::fs::write(temp.join("download-queue.json"), queue.to_string()).expect("queue");
    let data = tmp.path().join("data");
    let env = [("SOFATHEK_DATA_PATH", data.to_str().expect("utf-8"))];
    let out = sofathek(&["import", videos.to_str().expect("utf-8")], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        report["queue"]["imported"].as_array().map(Vec::len),
        Some(3),
        "{report}"
    );
    assert_eq!(
        report["queue"]["failed"].as_array().map(Vec::len),
        Some(2),
        "{report}"
    );

    let db = sofathek::db::Db::open(&data.join("sofathek.db")).expect("db");
    let job = |id: &'static str| {
        db.write_blocking(move |tx| sofathek::db::jobs::get(tx, id))
            .expect("job")
    };
    let done = job("11111111-1111-4111-8111-111111111111");
    assert_eq!(done.state, sofathek::db::jobs::JobState::Completed);
    assert_eq!(
        done.video_id.as_deref(),
        Some("Test_Video-abc123"),
        "linked to its imported video"
    );
    assert_eq!(done.title.as_deref(), Some("Dinos"));
    assert_eq!(
        done.finished_at.as_deref(),
        Some("2024-05-01T10:00:00.000Z")
    );
    let failed = job("22222222-2222-4222-8222-222222222222");
    assert_eq!(failed.state, sofathek::db::jobs::JobState::Failed);
    assert_eq!(
        failed.error.as_ref().map(|e| e.code.as_str()),
        Some("VIDEO_UNAVAILABLE")
    );
    assert_eq!(
        failed.error.as_ref().map(|e| e.message.as_str()),
        Some("Video unavailable")
    );
    let pending = job("33333333-3333-4333-8333-333333333333");
    assert_eq!(pending.state, sofathek::db::jobs::JobState::Cancelled);
    assert_eq!(
        pending.error.as_ref().map(|e| e.code.as_str()),
        Some("NOT_FINISHED")
    );
    drop(db);

    // Running it again adds nothing twice.
    let again = sofathek(&["import", videos.to_str().expect("utf-8")], &env);
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(
        report["queue"]["skipped"].as_array().map(Vec::len),
        Some(3),
        "{report}"
    );
    assert_eq!(report["queue"]["imported"], serde_json::json!([]));
}

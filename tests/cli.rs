//! Tests of the `sofathek` binary itself: version, configuration errors, healthcheck exit codes,
//! `import`, `config --json`, and graceful shutdown on SIGTERM with a request in flight.
#![allow(clippy::disallowed_methods)] // the tests spawn the binary under test directly

mod common;

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
    common::original_library(&src);
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
    common::make_mp4(&video, 2);
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
    common::make_mp4(&src.join("clip.mp4"), 2);
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

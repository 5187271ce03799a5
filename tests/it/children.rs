//! Child processes end with their job: after a cancel, a timeout, a shutdown or a crash of the
//! server, no ffmpeg, ffprobe or yt-dlp it started is left running or unreaped. Checked from
//! /proc with the real tools: the real binary for cancel, SIGTERM and SIGKILL (whose orphans the
//! next start-up must kill), and `sofathek::process` with short timeouts for the timeout path
//! (the pipeline's own timeouts are minutes to hours).

use crate::support;
use crate::support::media_server;
use crate::support::reliability;

use std::path::Path;
use std::time::{Duration, Instant};

use media_server::{MediaServer, require_ytdlp};
use reliability::{Server, descendants, start_server};
use serde_json::{Value, json};

const TOOLS: &[&str] = &["ffmpeg", "ffprobe", "yt-dlp", "yt_dlp"];

/// (pid, state, command) of a process, if it exists.
fn proc_info(pid: u32) -> Option<(u32, char, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let close = stat.rfind(')')?;
    let state = stat[close + 1..]
        .split_whitespace()
        .next()?
        .chars()
        .next()?;
    let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .unwrap_or_default();
    Some((pid, state, cmd))
}

/// The job processes among the server's descendants: tools working in the staging area (jobs
/// run in their work directory; version checks for the health report do not count).
fn tool_children(server_pid: u32) -> Vec<(u32, char, String)> {
    descendants(server_pid)
        .into_iter()
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| {
                cwd.to_string_lossy()
                    .trim_end_matches(" (deleted)")
                    .contains("/staging/")
            })
        })
        .filter_map(proc_info)
        .filter(|(_, _, cmd)| TOOLS.iter().any(|t| cmd.contains(t)))
        .collect()
}

/// Waits until `pids` are gone (a zombie counts as not gone); returns the ones left.
async fn gone_within(pids: &[u32], limit: Duration) -> Vec<(u32, char, String)> {
    let began = Instant::now();
    loop {
        let left: Vec<_> = pids.iter().filter_map(|p| proc_info(*p)).collect();
        if left.is_empty() || began.elapsed() > limit {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the server runs a tool matching `what` (in its command line).
async fn wait_for_tool(server: &Server, what: &str) -> Vec<u32> {
    let began = Instant::now();
    loop {
        let found: Vec<u32> = tool_children(server.pid())
            .into_iter()
            .filter(|(_, _, cmd)| cmd.contains(what))
            .map(|(pid, ..)| pid)
            .collect();
        if !found.is_empty() {
            return found;
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "the server never ran {what}; log:\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A 60 s MPEG-4 Part 2 AVI: quick to make, and it must be transcoded (seconds of ffmpeg).
fn long_mpeg4(path: &Path) {
    support::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=duration=60:size=640x360:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=60",
        "-c:v",
        "mpeg4",
        "-q:v",
        "8",
        "-c:a",
        "mp3",
        "-shortest",
        path.to_str().expect("utf-8 path"),
    ]);
}

async fn upload(client: &reqwest::Client, server: &Server, path: &Path) -> String {
    let bytes = std::fs::read(path).expect("fixture");
    let form = reqwest::multipart::Form::new().part(
        "video",
        reqwest::multipart::Part::bytes(bytes).file_name("long.avi"),
    );
    let request = client
        .post(server.url("/api/videos/upload"))
        .multipart(form);
    job_id(request, "upload").await
}

async fn download(client: &reqwest::Client, server: &Server, url: &str) -> String {
    let request = client
        .post(server.url("/api/jobs"))
        .json(&json!({ "url": url }));
    job_id(request, "job").await
}

/// Sends a request that adds a job; returns the new job's id.
async fn job_id(request: reqwest::RequestBuilder, what: &str) -> String {
    let resp: Value = request
        .send()
        .await
        .expect(what)
        .json()
        .await
        .expect("json answer");
    resp["data"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{what} refused: {resp}"))
        .to_owned()
}

/// Cancels `job` once `tool` runs for it: the cancel succeeds and, by the time it answers, the
/// tool is gone and nothing else is left under the server.
async fn cancel_while_running(
    client: &reqwest::Client,
    server: &Server,
    job: &str,
    tool: &str,
    stage: &str,
) {
    let pids = wait_for_tool(server, tool).await;
    let resp = client
        .delete(server.url(&format!("/api/jobs/{job}")))
        .send()
        .await
        .expect("cancel");
    assert_eq!(resp.status().as_u16(), 200);
    assert_no_tools(server, &format!("after cancelling a {stage}"));
    assert!(
        gone_within(&pids, Duration::from_millis(10))
            .await
            .is_empty(),
        "{tool} outlived its cancel"
    );
}

fn assert_no_tools(server: &Server, when: &str) {
    let left = tool_children(server.pid());
    assert!(
        left.is_empty(),
        "{when}: tool processes left under the server: {left:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_shutdown_and_crash_leave_no_child_processes() {
    require_ytdlp();
    let media = MediaServer::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let avi = dir.path().join("long.avi");
    long_mpeg4(&avi);
    let data = dir.path().join("data");
    let token = reliability::prepare_data_dir(&data);
    let client = reliability::client(&token);
    let env = [("SOFATHEK_DOWNLOAD_WORKERS", "2".to_owned())];
    let slow_url = media.url("/slow/h264.mp4");

    // Cancel during a download and during a conversion.
    let server = start_server(&data, reliability::free_port(), &env);
    let job = download(&client, &server, &slow_url).await;
    cancel_while_running(&client, &server, &job, "yt-dlp", "download").await;
    let job = upload(&client, &server, &avi).await;
    cancel_while_running(&client, &server, &job, "ffmpeg", "conversion").await;
    println!("children: cancel during download and conversion: no child left");

    // Shutdown (SIGTERM) while a download and a conversion run.
    let _ = download(&client, &server, &slow_url).await;
    let _ = upload(&client, &server, &avi).await;
    let mut pids = wait_for_tool(&server, "yt-dlp").await;
    pids.extend(wait_for_tool(&server, "ffmpeg").await);
    let status = server.terminate(Duration::from_secs(20));
    assert!(status.is_some(), "the server did not exit on SIGTERM");
    let left = gone_within(&pids, Duration::from_secs(3)).await;
    assert!(
        left.is_empty(),
        "children outlived a SIGTERM shutdown: {left:?}"
    );
    println!(
        "children: SIGTERM with a download and a conversion running: all {} children gone",
        pids.len()
    );

    // Crash (SIGKILL): the children become orphans; the next start-up must kill them.
    let server = start_server(&data, reliability::free_port(), &env);
    let mut pids = wait_for_tool(&server, "yt-dlp").await;
    pids.extend(wait_for_tool(&server, "ffmpeg").await);
    server.kill9();
    let orphans: Vec<_> = pids
        .iter()
        .filter(|p| proc_info(**p).is_some_and(|(_, s, _)| s != 'Z'))
        .collect();
    println!(
        "children: after SIGKILL, {} of {} children still run as orphans",
        orphans.len(),
        pids.len()
    );
    let server = start_server(&data, reliability::free_port(), &env);
    let left = gone_within(&pids, Duration::from_secs(10)).await;
    let running: Vec<_> = left.iter().filter(|(_, s, _)| *s != 'Z').collect();
    assert!(
        running.is_empty(),
        "orphans of the killed server still run after the restart: {running:?}"
    );
    if !left.is_empty() {
        // Killed, but their new parent (PID 1 of this machine) has not reaped them; in the image
        // an init reaps them.
        println!(
            "children: {} killed orphans await reaping by PID 1: {left:?}",
            left.len()
        );
    }
    println!("children: the restart killed every orphan of the SIGKILLed server");
    // The jobs resume: new children are the new server's own, and no zombie accumulates under it.
    let _ = wait_for_tool(&server, "ffmpeg").await;
    // Any zombie under the server (a job's tool or a version check) means a child was not reaped.
    let zombies: Vec<_> = descendants(server.pid())
        .into_iter()
        .filter_map(proc_info)
        .filter(|(_, s, _)| *s == 'Z')
        .collect();
    // A child that has just exited is a zombie for a moment, until the server reaps it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let zombies: Vec<_> = zombies
        .into_iter()
        .filter(|(pid, ..)| proc_info(*pid).is_some_and(|(_, s, _)| s == 'Z'))
        .collect();
    assert!(zombies.is_empty(), "zombies under the server: {zombies:?}");
    let server_pid = server.pid();
    assert!(server.terminate(Duration::from_secs(20)).is_some());
    let left: Vec<_> = reliability::processes_named(TOOLS)
        .into_iter()
        .filter(|(pid, ..)| {
            std::fs::read_link(format!("/proc/{pid}/cwd"))
                .is_ok_and(|cwd| cwd.starts_with(dir.path()))
        })
        .filter(|(_, state, ..)| *state != 'Z')
        .collect();
    assert!(
        left.is_empty(),
        "tools still running in the data directory after server {server_pid} stopped: {left:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_kill_real_ffmpeg_and_ytdlp_with_their_groups() {
    use sofathek::process::{self, ProcessError, Spec, Tool};
    require_ytdlp();
    let media = MediaServer::start().await;
    let dir = tempfile::tempdir().expect("tempdir");

    // ffmpeg that would never end.
    let spec = Spec::new(Tool::ffmpeg("ffmpeg"), Duration::from_secs(1))
        .args([
            "-nostdin",
            "-f",
            "lavfi",
            "-i",
            "testsrc=rate=25",
            "-f",
            "null",
            "-",
        ])
        .label("endless ffmpeg");
    let running = process::spawn(spec).await.expect("spawn ffmpeg");
    let pid = running.pid();
    let result = running.wait().await;
    assert!(
        matches!(result, Err(ProcessError::Timeout { .. })),
        "{result:?}"
    );
    let left = gone_within(&[pid], Duration::from_millis(500)).await;
    assert!(left.is_empty(), "ffmpeg left after its timeout: {left:?}");

    // yt-dlp stuck on a trickling download (and whatever it started in its group).
    let spec = Spec::new(Tool::yt_dlp("yt-dlp"), Duration::from_secs(3))
        .args([
            "--no-progress",
            "-o",
            "out.%(ext)s",
            "--",
            &media.url("/slow/h264.mp4"),
        ])
        .current_dir(dir.path())
        .label("slow yt-dlp");
    let running = process::spawn(spec).await.expect("spawn yt-dlp");
    let pid = running.pid();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut group: Vec<u32> = descendants(pid);
    group.push(pid);
    let result = running.wait().await;
    assert!(
        matches!(result, Err(ProcessError::Timeout { .. })),
        "{result:?}"
    );
    let left = gone_within(&group, Duration::from_millis(500)).await;
    assert!(
        left.is_empty(),
        "yt-dlp (or a child of it) left after its timeout: {left:?}"
    );
    println!(
        "children: timeouts of ffmpeg and yt-dlp ({} processes) left nothing",
        group.len() + 1
    );
}

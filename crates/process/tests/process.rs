//! Integration tests of `sofathek_process` with real child processes (`sh -c` scripts and
//! `sleep` stand in for ffmpeg and yt-dlp); process groups and zombies are checked through /proc.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sofathek_process::{
    self as process, ChildRegistry, ExitReason, Line, ProcessError, Running, Spec, Tool,
};
use tokio::sync::{RwLock, RwLockReadGuard, Semaphore};
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;

/// `ChildRegistry::kill_all` kills every child of the test binary: that test takes the write lock,
/// every other test a read lock.
static SERIAL: RwLock<()> = RwLock::const_new(());

async fn shared() -> RwLockReadGuard<'static, ()> {
    SERIAL.read().await
}

/// A `sh -c script` run; `args` become `$1`, `$2`, ...
fn sh(script: &str, timeout: Duration, args: &[&str]) -> Spec {
    Spec::new(Tool::other("sh", "sh"), timeout)
        .arg("-c")
        .arg(script)
        .arg("sh")
        .args(args.iter().copied())
        .label("test")
}

const LONG: Duration = Duration::from_secs(60);

/// State, parent and process group of `pid` from /proc (a zombie still has an entry).
fn stat(pid: u32) -> Option<(char, u32, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = text.get(text.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, ppid, pgrp))
}

/// Every process (zombies included) whose process group is `pgid`.
fn group_members(pgid: u32) -> Vec<(u32, char)> {
    let mut members = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some((state, _, pgrp)) = stat(pid) {
            if pgrp == pgid {
                members.push((pid, state));
            }
        }
    }
    members
}

/// Waits (generously) until neither the `pids` nor any member of group `pgid` exists, not even
/// as a zombie.
async fn assert_gone(pgid: u32, pids: &[u32]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: Vec<_> = pids
            .iter()
            .filter_map(|pid| stat(*pid).map(|s| (*pid, s)))
            .collect();
        let members = group_members(pgid);
        if left.is_empty() && members.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still present: {left:?}, group {pgid} members {members:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads lines until a stdout line `ready`; returns the pids announced as `pid <n>` on stdout.
async fn until_ready(running: &mut Running) -> Vec<u32> {
    let mut pids = Vec::new();
    while let Some(line) = running.next_line().await {
        match line {
            Line::Stdout(text) if text == "ready" => return pids,
            Line::Stdout(text) => {
                if let Some(pid) = text.strip_prefix("pid ") {
                    pids.push(pid.parse().expect("pid"));
                }
            }
            Line::Stderr(_) => {}
        }
    }
    panic!("output ended before ready");
}

/// Starts a background `sleep 1000` grandchild, announces it and waits.
const WITH_GRANDCHILD: &str = "sleep 1000 & echo \"pid $!\"; echo ready; wait";

#[tokio::test]
async fn collects_stdout_and_stderr_tail() {
    let _serial = shared().await;
    let output = process::run(sh("printf 'hello\\nworld'; echo oops >&2", LONG, &[]))
        .await
        .expect("run");
    assert_eq!(output.stdout, b"hello\nworld");
    assert_eq!(output.stderr_tail, "oops");
}

#[tokio::test]
async fn passes_env_and_working_dir() {
    let _serial = shared().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = sh("pwd; echo \"$SOFATHEK_TEST_VALUE\"", LONG, &[])
        .current_dir(dir.path())
        .env("SOFATHEK_TEST_VALUE", "a b");
    let output = process::run(spec).await.expect("run");
    let expected = format!(
        "{}\na b\n",
        dir.path().canonicalize().expect("canonical").display()
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);

    let missing = dir.path().join("missing");
    let error = process::run(sh("true", LONG, &[]).current_dir(&missing))
        .await
        .expect_err("missing working dir");
    assert_eq!(error.code(), "process_io", "{error}");
}

#[tokio::test]
async fn streams_lines_as_they_are_printed() {
    let _serial = shared().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let go = dir.path().join("go");
    let go_arg = go.to_str().expect("utf-8 path");
    // The second line cannot be printed before the test has seen the first one.
    let script =
        "echo one; echo progress >&2; while [ ! -e \"$1\" ]; do sleep 0.05; done; echo two";
    let mut running = process::spawn(sh(script, LONG, &[go_arg]))
        .await
        .expect("spawn");
    let mut stderr = Vec::new();
    loop {
        match running.next_line().await.expect("a line") {
            Line::Stdout(text) => {
                assert_eq!(text, "one");
                break;
            }
            Line::Stderr(text) => stderr.push(text),
        }
    }
    assert!(stat(running.pid()).is_some(), "the child is still running");
    std::fs::write(&go, b"").expect("write go");
    let rest: Vec<Line> = running.lines().collect().await;
    for line in rest {
        match line {
            Line::Stdout(text) => assert_eq!(text, "two"),
            Line::Stderr(text) => stderr.push(text),
        }
    }
    assert_eq!(stderr, ["progress"]);
    let pid = running.pid();
    let finished = running.wait().await.expect("success");
    assert_eq!(finished.stderr_tail, "progress");
    assert_gone(pid, &[pid]).await;
}

#[tokio::test]
async fn run_with_lines_calls_back_in_order() {
    let _serial = shared().await;
    let mut lines = Vec::new();
    let script = "for i in 1 2 3; do echo \"out=$i\"; done; printf 'a\\rb\\r\\n'";
    process::run_with_lines(sh(script, LONG, &[]), |line| lines.push(line))
        .await
        .expect("run");
    let stdout: Vec<&str> = lines
        .iter()
        .filter_map(|line| match line {
            Line::Stdout(text) => Some(text.as_str()),
            Line::Stderr(_) => None,
        })
        .collect();
    assert_eq!(stdout, ["out=1", "out=2", "out=3", "a", "b"]);
}

#[tokio::test]
async fn non_zero_exit_carries_a_bounded_stderr_tail() {
    let _serial = shared().await;
    let script = "i=0; while [ $i -lt 500 ]; do echo \"line $i $(printf '%0300d' 0)\" >&2; i=$((i+1)); done; exit 3";
    let error = process::run(sh(script, LONG, &[]))
        .await
        .expect_err("exit 3");
    let ProcessError::Exited {
        reason,
        stderr_tail,
        ..
    } = &error
    else {
        panic!("unexpected {error:?}");
    };
    assert_eq!(*reason, ExitReason::Code(3));
    assert!(
        stderr_tail.len() <= process::STDERR_TAIL_BYTES,
        "{}",
        stderr_tail.len()
    );
    assert!(stderr_tail.lines().count() <= process::STDERR_TAIL_LINES);
    assert!(stderr_tail.lines().count() > 10);
    assert!(
        stderr_tail
            .lines()
            .next_back()
            .is_some_and(|line| line.starts_with("line 499 "))
    );
    assert_eq!(error.code(), "process_exited");
    assert_eq!(error.program(), "sh");
    assert!(
        error
            .to_string()
            .starts_with("sh exited with code 3: line 499 "),
        "{error}"
    );

    let error = process::run(sh("echo bye >&2; kill -9 $$", LONG, &[]))
        .await
        .expect_err("killed");
    assert!(
        matches!(&error, ProcessError::Exited { reason: ExitReason::Signal(9), stderr_tail, .. } if stderr_tail == "bye"),
        "{error:?}"
    );
}

#[tokio::test]
async fn missing_program_is_not_found_with_the_env_hint() {
    let _serial = shared().await;
    let error = process::run(Spec::new(
        Tool::ffmpeg("/nonexistent/sofathek/ffmpeg"),
        LONG,
    ))
    .await
    .expect_err("not found");
    assert!(matches!(error, ProcessError::NotFound { .. }), "{error:?}");
    assert_eq!(error.code(), "process_not_found");
    assert_eq!(
        error.to_string(),
        "ffmpeg not found at /nonexistent/sofathek/ffmpeg: make sure it is on PATH or set SOFATHEK_FFMPEG"
    );

    let error = process::version(&Tool::yt_dlp("sofathek-no-such-yt-dlp"))
        .await
        .expect_err("not found");
    assert_eq!(
        error.to_string(),
        "yt-dlp not found: make sure it is on PATH or set SOFATHEK_YTDLP"
    );
}

#[tokio::test]
async fn file_without_exec_bit_is_permission_denied() {
    let _serial = shared().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ffprobe");
    std::fs::write(&path, "#!/bin/sh\necho hi\n").expect("write");
    let error = process::run(Spec::new(Tool::ffprobe(&path), LONG))
        .await
        .expect_err("denied");
    assert!(
        matches!(error, ProcessError::PermissionDenied { .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), "process_permission_denied");
    assert!(error.to_string().contains("SOFATHEK_FFPROBE"), "{error}");
}

#[tokio::test]
async fn stdout_beyond_the_bound_is_an_error() {
    let _serial = shared().await;
    let spec = sh("yes | head -c 100000; sleep 1000", LONG, &[]).max_stdout(1024);
    let started = Instant::now();
    let error = process::run(spec).await.expect_err("too large");
    assert!(
        matches!(error, ProcessError::OutputTooLarge { limit: 1024, .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), "process_output_too_large");
    assert!(started.elapsed() < Duration::from_secs(30));

    let output = process::run(sh("printf 1234", LONG, &[]).max_stdout(4))
        .await
        .expect("at the bound");
    assert_eq!(output.stdout, b"1234");
}

#[tokio::test]
async fn timeout_kills_the_whole_group() {
    let _serial = shared().await;
    let mut running = process::spawn(sh(WITH_GRANDCHILD, Duration::from_secs(5), &[]))
        .await
        .expect("spawn");
    let pid = running.pid();
    let grandchild = until_ready(&mut running).await;
    assert_eq!(grandchild.len(), 1);
    assert!(
        group_members(pid).len() >= 2,
        "leader and grandchild share the group"
    );
    let error = running.wait().await.expect_err("timeout");
    assert!(
        matches!(error, ProcessError::Timeout { timeout, .. } if timeout == Duration::from_secs(5)),
        "{error:?}"
    );
    assert_eq!(error.code(), "process_timeout");
    assert_eq!(error.to_string(), "sh timed out after 5s");
    assert_gone(pid, &[pid, grandchild[0]]).await;
}

#[tokio::test]
async fn cancel_kills_the_whole_group_even_when_it_ignores_sigterm() {
    let _serial = shared().await;
    let token = CancellationToken::new();
    let script = format!("trap '' TERM; {WITH_GRANDCHILD}");
    let spec = sh(&script, LONG, &[]).cancel_on(token.clone());
    let mut running = process::spawn(spec).await.expect("spawn");
    let pid = running.pid();
    let grandchild = until_ready(&mut running).await;
    let cancelled_at = Instant::now();
    token.cancel();
    let error = running.wait().await.expect_err("cancelled");
    assert!(matches!(error, ProcessError::Cancelled { .. }), "{error:?}");
    assert_eq!(error.code(), "process_cancelled");
    assert_gone(pid, &[pid, grandchild[0]]).await;
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(5),
        "{:?}",
        cancelled_at.elapsed()
    );
}

#[tokio::test]
async fn a_cancelled_token_prevents_the_spawn() {
    let _serial = shared().await;
    let token = CancellationToken::new();
    token.cancel();
    let error = process::run(sh("echo never", LONG, &[]).cancel_on(token))
        .await
        .expect_err("cancelled");
    assert!(matches!(error, ProcessError::Cancelled { .. }), "{error:?}");
}

#[tokio::test]
async fn dropping_a_running_handle_kills_the_group() {
    let _serial = shared().await;
    let mut running = process::spawn(sh(WITH_GRANDCHILD, LONG, &[]))
        .await
        .expect("spawn");
    let pid = running.pid();
    let grandchild = until_ready(&mut running).await;
    drop(running);
    assert_gone(pid, &[pid, grandchild[0]]).await;
    assert!(
        ChildRegistry::global()
            .live()
            .iter()
            .all(|child| child.pid != pid)
    );
}

#[tokio::test]
async fn dropping_a_run_future_kills_the_group() {
    let _serial = shared().await;
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let mut ready_tx = Some(ready_tx);
    let mut pids = Vec::new();
    let script = "echo \"pid $$\"; sleep 1000 & echo \"pid $!\"; echo ready; wait";
    let run = process::run_with_lines(sh(script, LONG, &[]), |line| match line.text() {
        "ready" => {
            if let Some(tx) = ready_tx.take() {
                let _ = tx.send(pids.clone());
            }
        }
        text => pids.extend(
            text.strip_prefix("pid ")
                .and_then(|pid| pid.parse::<u32>().ok()),
        ),
    });
    let pids = tokio::select! {
        result = run => panic!("the run ended: {result:?}"),
        pids = ready_rx => pids.expect("ready"),
    };
    assert_eq!(pids.len(), 2);
    assert_gone(pids[0], &pids).await;
}

#[tokio::test]
async fn normal_exit_kills_stragglers() {
    let _serial = shared().await;
    let script = "sleep 1000 >/dev/null 2>&1 & echo $!; echo $$";
    let started = Instant::now();
    let output = process::run(sh(script, LONG, &[])).await.expect("run");
    assert!(started.elapsed() < Duration::from_secs(30));
    let text = String::from_utf8_lossy(&output.stdout);
    let pids: Vec<u32> = text
        .lines()
        .map(|line| line.parse().expect("pid"))
        .collect();
    assert_gone(pids[1], &pids).await;
}

#[tokio::test]
async fn kill_all_stops_every_live_child() {
    let _serial = SERIAL.write().await;
    let registry = ChildRegistry::global();
    let mut tasks = Vec::new();
    let mut groups = Vec::new();
    for script in [
        WITH_GRANDCHILD.to_owned(),
        format!("trap '' TERM; {WITH_GRANDCHILD}"),
    ] {
        let mut running = process::spawn(sh(&script, LONG, &[]).label("job-42"))
            .await
            .expect("spawn");
        let pid = running.pid();
        let mut pids = until_ready(&mut running).await;
        pids.push(pid);
        groups.push((pid, pids));
        tasks.push(tokio::spawn(running.wait()));
    }
    let live = registry.live();
    for (pid, _) in &groups {
        assert!(
            live.iter()
                .any(|child| child.pid == *pid && child.label == "job-42" && child.program == "sh")
        );
    }
    assert!(registry.kill_all() >= 2);
    for task in tasks {
        let error = task.await.expect("join").expect_err("cancelled");
        assert!(matches!(error, ProcessError::Cancelled { .. }), "{error:?}");
    }
    for (pid, pids) in &groups {
        assert_gone(*pid, pids).await;
    }
    assert!(registry.wait_idle(Duration::from_secs(10)).await);
    assert!(registry.is_empty());
}

#[tokio::test]
async fn kill_group_refuses_dangerous_ids() {
    let _serial = shared().await;
    assert!(process::kill_group(0).is_err());
    assert!(process::kill_group(1).is_err());
    let mut running = process::spawn(sh("echo ready; exec sleep 1000", LONG, &[]))
        .await
        .expect("spawn");
    let pid = running.pid();
    assert_eq!(until_ready(&mut running).await, Vec::<u32>::new());
    process::kill_group(pid).expect("kill");
    let error = running.wait().await.expect_err("killed");
    assert!(
        matches!(
            error,
            ProcessError::Exited {
                reason: ExitReason::Signal(9),
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn semaphore_blocks_the_spawn_until_a_permit_is_free() {
    let _serial = shared().await;
    let semaphore = Arc::new(Semaphore::new(2));
    let spec = || sh("echo ready; exec sleep 1000", LONG, &[]).limit(semaphore.clone());
    let first = process::spawn(spec()).await.expect("first");
    let second = process::spawn(spec()).await.expect("second");
    assert_eq!(semaphore.available_permits(), 0);
    let blocked = tokio::time::timeout(Duration::from_millis(500), process::spawn(spec())).await;
    assert!(blocked.is_err(), "a third child started with two permits");

    let token = CancellationToken::new();
    let waiting = tokio::spawn(process::spawn(spec().cancel_on(token.clone())));
    token.cancel();
    let error = waiting
        .await
        .expect("join")
        .expect_err("cancelled while waiting");
    assert!(matches!(error, ProcessError::Cancelled { .. }), "{error:?}");

    drop(first);
    let third = tokio::time::timeout(Duration::from_secs(20), process::spawn(spec()))
        .await
        .expect("a permit came back")
        .expect("third");
    drop((second, third));
}

#[tokio::test]
async fn semaphore_limits_concurrency() {
    let _serial = shared().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let markers = dir.path().join("running");
    std::fs::create_dir(&markers).expect("mkdir");
    let log = dir.path().join("counts");
    let (markers_arg, log_arg) = (
        markers.to_str().expect("utf-8"),
        log.to_str().expect("utf-8"),
    );
    // Each job records how many jobs run (marker files) when it starts and after a pause.
    let script = "touch \"$1/$$\"; ls \"$1\" | wc -l >> \"$2\"; sleep 0.3; ls \"$1\" | wc -l >> \"$2\"; rm \"$1/$$\"";
    let semaphore = Arc::new(Semaphore::new(2));
    let jobs = (0..4)
        .map(|_| process::run(sh(script, LONG, &[markers_arg, log_arg]).limit(semaphore.clone())));
    for result in futures_util::future::join_all(jobs).await {
        result.expect("job");
    }
    let counts: Vec<usize> = std::fs::read_to_string(&log)
        .expect("log")
        .lines()
        .map(|line| line.trim().parse().expect("count"))
        .collect();
    assert_eq!(counts.len(), 8);
    assert!(
        counts.iter().all(|count| (1..=2).contains(count)),
        "{counts:?}"
    );
}

#[tokio::test]
async fn version_returns_the_first_line() {
    let _serial = shared().await;
    // GNU echo stands in for the tools: it prints `-version` back for ffmpeg's flag.
    let version = process::version(&Tool::ffmpeg("/bin/echo"))
        .await
        .expect("version");
    assert_eq!(version, "-version");
    let version = process::version(&Tool::other("echo", "/bin/echo"))
        .await
        .expect("version");
    assert!(!version.is_empty());
}

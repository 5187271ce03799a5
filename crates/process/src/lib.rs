//! The only place that spawns child processes (ffmpeg, ffprobe, yt-dlp): process groups, timeouts,
//! cancellation, concurrency limits, line streaming and bounded stderr tails.
//!
//! # Invariants
//!
//! - **Nothing outside this module spawns a child** (`Command::new` is banned by `clippy.toml`).
//! - Every child runs without a shell, with stdin null and stdout/stderr piped, in **its own
//!   process group** (`process_group(0)`), so yt-dlp's own ffmpeg children share its fate.
//! - Every run has a **timeout**; there is no way to build a [`Spec`] without one.
//! - When a run ends for any reason (exit, timeout, cancellation, [`Running`] dropped, output too
//!   large) its **whole process group is killed** (SIGTERM, then SIGKILL after [`GRACE`] when the
//!   run is aborted; SIGKILL for stragglers after a normal exit) and the child is **reaped**.
//! - Every live child is listed in the [`ChildRegistry`], so shutdown can kill them all.
//!
//! # Orphans and zombies
//!
//! On the first spawn the server marks itself a *child subreaper* (Linux `PR_SET_CHILD_SUBREAPER`):
//! a grandchild whose parent dies (for example yt-dlp's ffmpeg when yt-dlp is killed) is re-parented
//! to this process instead of PID 1, and this module reaps it after killing its group. This keeps
//! the "no zombies" promise even when PID 1 does not reap orphans (no init in the container) or
//! reaps them slowly. Only members of a child's process group are reaped: a descendant that leaves
//! its group (`setsid`) is not supported (ffmpeg, ffprobe and yt-dlp do not).
//!
//! # Output
//!
//! stdout and stderr are read with `tokio-process-stream` as byte chunks and split into lines here:
//! `\n`, `\r\n` and a lone `\r` (ffmpeg and yt-dlp progress) all end a line, invalid UTF-8 is
//! replaced, and a line longer than 64 KiB is cut into pieces, so a child can never make the
//! server buffer an unbounded line. A child that keeps stdout or stderr open after its leader exited
//! (a background grandchild) keeps the run going until its timeout.
//!
//! # Layout
//!
//! `spec` (what to run: [`Tool`], [`Spec`]), `error` ([`ExitReason`], [`ProcessError`]),
//! `output` ([`Output`], [`Finished`], [`Line`]), `run` ([`run`], [`run_with_lines`],
//! [`version`]), `running` ([`spawn`] and the [`Running`] handle: streams, cancellation,
//! timeout, kill and reap), `registry` ([`ChildRegistry`]: live process groups), `lines` (the
//! bounded line splitter and stderr tail).

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::Stream;
use rustix::process::{Pid, Signal};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Sleep;
use tokio_process_stream::{Item, ProcessChunkStream};
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Time a process group gets between SIGTERM and SIGKILL when a run is aborted.
pub const GRACE: Duration = Duration::from_secs(2);
/// Default bound on the stdout collected by [`run`]; see [`Spec::max_stdout`].
pub const DEFAULT_MAX_STDOUT: usize = 16 * 1024 * 1024;
/// At most this many lines of stderr are kept for error messages.
pub const STDERR_TAIL_LINES: usize = 40;
/// At most this many bytes of stderr are kept for error messages.
pub const STDERR_TAIL_BYTES: usize = 8 * 1024;
/// Timeout of [`version`].
pub const VERSION_TIMEOUT: Duration = Duration::from_secs(15);

/// Longest line handed out by the line splitter; longer lines are cut.
const MAX_LINE_BYTES: usize = 64 * 1024;
/// How long to wait for the leader to be reaped after SIGKILL.
const REAP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for the group's other members (stragglers) to disappear after SIGKILL.
const STRAGGLER_TIMEOUT: Duration = Duration::from_secs(2);
/// Timeouts are capped so that `now + timeout` cannot overflow.
const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

mod error;
mod lines;
mod output;
mod registry;
mod run;
mod running;
mod spec;

pub use error::*;
pub(crate) use lines::*;
pub use output::*;
pub use registry::*;
pub use run::*;
pub use running::*;
pub use spec::*;

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&str]) -> Vec<String> {
        let mut splitter = LineSplitter::default();
        let mut lines = Vec::new();
        for chunk in chunks {
            splitter.push(chunk.as_bytes(), &mut |line| lines.push(line));
        }
        splitter.finish(&mut |line| lines.push(line));
        lines
    }

    #[test]
    fn splits_lines() {
        let check =
            |chunks: &[&str], expected: &[&str]| assert_eq!(split(chunks), expected, "{chunks:?}");
        check(&["a\nb\n"], &["a", "b"]);
        check(&["a\r\nb"], &["a", "b"]);
        check(&["a\r", "\nb\r", "c\n\n"], &["a", "b", "c", ""]);
        check(&["fr", "ame=1\rframe=2\r"], &["frame=1", "frame=2"]);
        check(&[""], &[]);
    }

    #[test]
    fn cuts_long_lines() {
        let long = "x".repeat(MAX_LINE_BYTES * 2 + 5);
        let lines = split(&[&long]);
        assert_eq!(
            lines.iter().map(String::len).collect::<Vec<_>>(),
            [MAX_LINE_BYTES, MAX_LINE_BYTES, 5]
        );
    }

    #[test]
    fn tail_is_bounded() {
        let mut tail = Tail::default();
        for index in 0..1000 {
            tail.push(&format!("line {index}"));
        }
        tail.push("   ");
        let text = tail.render();
        assert_eq!(text.lines().count(), STDERR_TAIL_LINES);
        assert_eq!(text.lines().next_back(), Some("line 999"));
        tail.push(&"é".repeat(STDERR_TAIL_BYTES));
        assert!(tail.render().len() <= STDERR_TAIL_BYTES);
        assert_eq!(tail.lines.len(), 1);
    }

    #[test]
    fn messages_are_lowercase_and_helpful() {
        let error = ProcessError::NotFound {
            program: "ffmpeg".into(),
            path: "ffmpeg".into(),
            env_var: Some("SOFATHEK_FFMPEG"),
        };
        assert_eq!(
            error.to_string(),
            "ffmpeg not found: make sure it is on PATH or set SOFATHEK_FFMPEG"
        );
        let error = ProcessError::Exited {
            program: "ffprobe".into(),
            reason: ExitReason::Code(1),
            stderr_tail: "first\nin.mp4: invalid data found".into(),
        };
        assert_eq!(
            error.to_string(),
            "ffprobe exited with code 1: in.mp4: invalid data found"
        );
        assert_eq!(error.code(), "process_exited");
    }
}

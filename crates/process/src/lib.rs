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

// ---------------------------------------------------------------------------------------------
// Tools and specs
// ---------------------------------------------------------------------------------------------

/// Which external program a [`Tool`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ToolKind {
    /// `ffmpeg`, overridden by `SOFATHEK_FFMPEG`.
    Ffmpeg,
    /// `ffprobe`, overridden by `SOFATHEK_FFPROBE`.
    Ffprobe,
    /// `yt-dlp`, overridden by `SOFATHEK_YTDLP`.
    YtDlp,
    /// Any other program (tests, helpers).
    Other,
}

impl ToolKind {
    /// The program name looked up on `PATH` by default (`None` for [`ToolKind::Other`]).
    pub fn default_program(self) -> Option<&'static str> {
        match self {
            ToolKind::Ffmpeg => Some("ffmpeg"),
            ToolKind::Ffprobe => Some("ffprobe"),
            ToolKind::YtDlp => Some("yt-dlp"),
            ToolKind::Other => None,
        }
    }

    /// The environment variable that overrides the tool's path (`None` for [`ToolKind::Other`]).
    pub fn env_var(self) -> Option<&'static str> {
        match self {
            ToolKind::Ffmpeg => Some("SOFATHEK_FFMPEG"),
            ToolKind::Ffprobe => Some("SOFATHEK_FFPROBE"),
            ToolKind::YtDlp => Some("SOFATHEK_YTDLP"),
            ToolKind::Other => None,
        }
    }

    /// The flag that makes the tool print its version (`-version` for ffmpeg and ffprobe).
    pub fn version_flag(self) -> &'static str {
        match self {
            ToolKind::Ffmpeg | ToolKind::Ffprobe => "-version",
            ToolKind::YtDlp | ToolKind::Other => "--version",
        }
    }
}

/// An external program: its kind, its display name (used in logs and errors) and the configured
/// path (a bare name is looked up on `PATH`). The configuration resolves the path; this module
/// never reads the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tool {
    kind: ToolKind,
    name: String,
    path: PathBuf,
    env_var: Option<&'static str>,
}

impl Tool {
    /// ffmpeg at `path` (for example `"ffmpeg"` or the value of `SOFATHEK_FFMPEG`).
    pub fn ffmpeg(path: impl Into<PathBuf>) -> Tool {
        Tool::known(ToolKind::Ffmpeg, path.into())
    }

    /// ffprobe at `path` (for example `"ffprobe"` or the value of `SOFATHEK_FFPROBE`).
    pub fn ffprobe(path: impl Into<PathBuf>) -> Tool {
        Tool::known(ToolKind::Ffprobe, path.into())
    }

    /// yt-dlp at `path` (for example `"yt-dlp"` or the value of `SOFATHEK_YTDLP`).
    pub fn yt_dlp(path: impl Into<PathBuf>) -> Tool {
        Tool::known(ToolKind::YtDlp, path.into())
    }

    /// Any other program, named `name` in logs and errors, without an overriding variable.
    pub fn other(name: impl Into<String>, path: impl Into<PathBuf>) -> Tool {
        Tool {
            kind: ToolKind::Other,
            name: name.into(),
            path: path.into(),
            env_var: None,
        }
    }

    fn known(kind: ToolKind, path: PathBuf) -> Tool {
        let name = kind.default_program().unwrap_or("tool").to_owned();
        Tool {
            kind,
            name,
            path,
            env_var: kind.env_var(),
        }
    }

    /// The kind of tool.
    pub fn kind(&self) -> ToolKind {
        self.kind
    }

    /// The display name (`ffmpeg`, `yt-dlp`, ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The configured path or bare program name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The environment variable that overrides the path, quoted in "not found" errors.
    pub fn env_var(&self) -> Option<&'static str> {
        self.env_var
    }
}

/// Everything needed to run one child: built with [`Spec::new`], which requires a timeout.
///
/// The timeout starts when the child is spawned (waiting for a [`Spec::limit`] permit does not
/// count); cancellation applies to the wait for a permit too.
#[derive(Debug)]
pub struct Spec {
    tool: Tool,
    args: Vec<OsString>,
    current_dir: Option<PathBuf>,
    timeout: Duration,
    env: Vec<(OsString, OsString)>,
    label: String,
    limit: Option<Arc<Semaphore>>,
    cancel: Option<CancellationToken>,
    max_stdout: usize,
}

impl Spec {
    /// A run of `tool` that is killed after `timeout` (capped at one year).
    pub fn new(tool: Tool, timeout: Duration) -> Spec {
        Spec {
            tool,
            args: Vec::new(),
            current_dir: None,
            timeout: timeout.min(MAX_TIMEOUT),
            env: Vec::new(),
            label: String::new(),
            limit: None,
            cancel: None,
            max_stdout: DEFAULT_MAX_STDOUT,
        }
    }

    /// Appends one argument (passed as is: there is no shell).
    pub fn arg(mut self, arg: impl Into<OsString>) -> Spec {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    pub fn args<I>(mut self, args: I) -> Spec
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Runs the child in `dir` (for example the job's staging directory).
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Spec {
        self.current_dir = Some(dir.into());
        self
    }

    /// Adds (or overrides) one environment variable; the rest of the environment is inherited.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Spec {
        self.env.push((key.into(), value.into()));
        self
    }

    /// A caller-chosen label recorded in the child's tracing span (for example the job id).
    pub fn label(mut self, label: impl Into<String>) -> Spec {
        self.label = label.into();
        self
    }

    /// Limits concurrency: a permit of `semaphore` is acquired before the spawn and held until the
    /// child and its group are gone.
    pub fn limit(mut self, semaphore: Arc<Semaphore>) -> Spec {
        self.limit = Some(semaphore);
        self
    }

    /// Aborts the run (SIGTERM, SIGKILL after [`GRACE`], reap) when `token` is cancelled; the run
    /// then fails with [`ProcessError::Cancelled`].
    pub fn cancel_on(mut self, token: CancellationToken) -> Spec {
        self.cancel = Some(token);
        self
    }

    /// Bound on the stdout collected by [`run`] (default [`DEFAULT_MAX_STDOUT`]); more is
    /// [`ProcessError::OutputTooLarge`]. Streaming runs do not collect stdout and ignore it.
    pub fn max_stdout(mut self, bytes: usize) -> Spec {
        self.max_stdout = bytes;
        self
    }

    /// The tool this spec runs.
    pub fn tool(&self) -> &Tool {
        &self.tool
    }

    /// The arguments, in order.
    pub fn arguments(&self) -> &[OsString] {
        &self.args
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// How a child that did not succeed ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// It exited with this non-zero code.
    Code(i32),
    /// It was killed by this signal.
    Signal(i32),
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Code(code) => write!(f, "exited with code {code}"),
            ExitReason::Signal(signal) => write!(f, "was killed by signal {signal}"),
        }
    }
}

/// A failed child process; every variant names the program.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProcessError {
    /// The program does not exist at the configured path or on `PATH`.
    NotFound {
        /// Display name of the program.
        program: String,
        /// Configured path or bare name.
        path: PathBuf,
        /// Variable that overrides the path.
        env_var: Option<&'static str>,
    },
    /// The program exists but may not be executed.
    PermissionDenied {
        /// Display name of the program.
        program: String,
        /// Configured path or bare name.
        path: PathBuf,
        /// Variable that overrides the path.
        env_var: Option<&'static str>,
    },
    /// The run took longer than its timeout; its group was killed.
    Timeout {
        /// Display name of the program.
        program: String,
        /// The timeout that elapsed.
        timeout: Duration,
        /// The last lines of stderr.
        stderr_tail: String,
    },
    /// The run was cancelled (token, semaphore closed or [`ChildRegistry::kill_all`]).
    Cancelled {
        /// Display name of the program.
        program: String,
    },
    /// The child exited unsuccessfully.
    Exited {
        /// Display name of the program.
        program: String,
        /// Exit code or signal.
        reason: ExitReason,
        /// The last lines of stderr.
        stderr_tail: String,
    },
    /// Spawning or waiting failed for another reason.
    Io {
        /// Display name of the program.
        program: String,
        /// What was being done, lowercase ("could not start the process").
        context: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// stdout exceeded the [`Spec::max_stdout`] bound; the group was killed.
    OutputTooLarge {
        /// Display name of the program.
        program: String,
        /// The bound in bytes.
        limit: usize,
    },
}

impl ProcessError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ProcessError::NotFound { .. } => "process_not_found",
            ProcessError::PermissionDenied { .. } => "process_permission_denied",
            ProcessError::Timeout { .. } => "process_timeout",
            ProcessError::Cancelled { .. } => "process_cancelled",
            ProcessError::Exited { .. } => "process_exited",
            ProcessError::Io { .. } => "process_io",
            ProcessError::OutputTooLarge { .. } => "process_output_too_large",
        }
    }

    /// The display name of the program.
    pub fn program(&self) -> &str {
        match self {
            ProcessError::NotFound { program, .. }
            | ProcessError::PermissionDenied { program, .. }
            | ProcessError::Timeout { program, .. }
            | ProcessError::Cancelled { program }
            | ProcessError::Exited { program, .. }
            | ProcessError::Io { program, .. }
            | ProcessError::OutputTooLarge { program, .. } => program,
        }
    }

    /// The last lines of stderr, when the child ran.
    pub fn stderr_tail(&self) -> Option<&str> {
        match self {
            ProcessError::Timeout { stderr_tail, .. }
            | ProcessError::Exited { stderr_tail, .. } => Some(stderr_tail),
            _ => None,
        }
    }
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessError::NotFound {
                program,
                path,
                env_var,
            } => {
                write!(f, "{program} not found")?;
                if path.components().count() > 1 {
                    write!(f, " at {}", path.display())?;
                }
                write!(f, ": make sure it is on PATH")?;
                if let Some(var) = env_var {
                    write!(f, " or set {var}")?;
                }
                Ok(())
            }
            ProcessError::PermissionDenied {
                program,
                path,
                env_var,
            } => {
                write!(
                    f,
                    "{program} at {} cannot be executed (permission denied)",
                    path.display()
                )?;
                if let Some(var) = env_var {
                    write!(f, ": fix its permissions or set {var}")?;
                }
                Ok(())
            }
            ProcessError::Timeout {
                program, timeout, ..
            } => {
                write!(f, "{program} timed out after {timeout:?}")
            }
            ProcessError::Cancelled { program } => write!(f, "{program} was cancelled"),
            ProcessError::Exited {
                program,
                reason,
                stderr_tail,
            } => {
                write!(f, "{program} {reason}")?;
                if let Some(last) = stderr_tail.lines().next_back() {
                    write!(f, ": {last}")?;
                }
                Ok(())
            }
            ProcessError::Io {
                program,
                context,
                source,
            } => {
                write!(f, "{program}: {context}: {source}")
            }
            ProcessError::OutputTooLarge { program, limit } => {
                write!(f, "{program} printed more than {limit} bytes on stdout")
            }
        }
    }
}

impl std::error::Error for ProcessError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProcessError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Results and lines
// ---------------------------------------------------------------------------------------------

/// What [`run`] collected from a successful child.
#[derive(Clone, Debug)]
pub struct Output {
    /// Everything the child printed on stdout (at most [`Spec::max_stdout`] bytes).
    pub stdout: Vec<u8>,
    /// The last lines of stderr (at most [`STDERR_TAIL_LINES`] lines and [`STDERR_TAIL_BYTES`]).
    pub stderr_tail: String,
    /// Time from spawn to exit.
    pub duration: Duration,
}

/// A successful streaming run ([`run_with_lines`], [`Running::wait`]).
#[derive(Clone, Debug)]
pub struct Finished {
    /// The last lines of stderr.
    pub stderr_tail: String,
    /// Time from spawn to exit.
    pub duration: Duration,
}

/// One line of output, without its terminator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// A line printed on stdout (ffmpeg `-progress pipe:1`, yt-dlp `--progress-template`).
    Stdout(String),
    /// A line printed on stderr.
    Stderr(String),
}

impl Line {
    /// The text of the line.
    pub fn text(&self) -> &str {
        match self {
            Line::Stdout(text) | Line::Stderr(text) => text,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/// Runs a short command to completion and collects its stdout (ffprobe JSON, `-version`).
///
/// Fails with [`ProcessError::Exited`] (with the stderr tail) unless the child exits with 0.
pub async fn run(spec: Spec) -> Result<Output, ProcessError> {
    let limit = spec.max_stdout;
    let mut running = spawn(spec).await?;
    let mut stdout = Vec::new();
    while let Some(chunk) = running.next_chunk().await {
        if let Chunk::Stdout(bytes) = chunk {
            if stdout.len().saturating_add(bytes.len()) > limit {
                running.abort(End::OutputTooLarge { limit }).await;
                break;
            }
            stdout.extend_from_slice(&bytes);
        }
    }
    let finished = running.wait().await?;
    Ok(Output {
        stdout,
        stderr_tail: finished.stderr_tail,
        duration: finished.duration,
    })
}

/// Runs a long command (download, conversion) and hands every stdout and stderr line to `on_line`
/// as soon as it is printed. Dropping the returned future kills the process group.
pub async fn run_with_lines<F>(spec: Spec, mut on_line: F) -> Result<Finished, ProcessError>
where
    F: FnMut(Line),
{
    let mut running = spawn(spec).await?;
    while let Some(line) = running.next_line().await {
        on_line(line);
    }
    running.wait().await
}

/// Prints `tool`'s version: runs `<tool> -version` (ffmpeg, ffprobe) or `--version` (others) with
/// [`VERSION_TIMEOUT`] and returns the first non-empty line of stdout (health checks).
pub async fn version(tool: &Tool) -> Result<String, ProcessError> {
    let spec = Spec::new(tool.clone(), VERSION_TIMEOUT)
        .arg(tool.kind().version_flag())
        .label("version")
        .max_stdout(1024 * 1024);
    let output = run(spec).await?;
    let text = String::from_utf8_lossy(&output.stdout);
    match text.lines().map(str::trim).find(|line| !line.is_empty()) {
        Some(line) => Ok(line.to_owned()),
        None => Err(ProcessError::Io {
            program: tool.name().to_owned(),
            context: "printed no version",
            source: io::Error::new(io::ErrorKind::InvalidData, "empty output"),
        }),
    }
}

/// Spawns a child and returns its handle: read lines with [`Running::next_line`] (or
/// [`Running::lines`]), then call [`Running::wait`]. Dropping the handle before `wait` returns
/// kills the process group in the background (SIGTERM, SIGKILL after [`GRACE`], reap).
///
/// Waits for a [`Spec::limit`] permit first; fails with [`ProcessError::Cancelled`] if the token
/// is cancelled meanwhile or the semaphore is closed.
pub async fn spawn(spec: Spec) -> Result<Running, ProcessError> {
    let Spec {
        tool,
        args,
        current_dir,
        timeout,
        env,
        label,
        limit,
        cancel,
        max_stdout: _,
    } = spec;
    let cancel = cancel.map_or_else(CancellationToken::new, |token| token.child_token());
    let span = tracing::info_span!(
        "process",
        program = %tool.name(),
        label = %label,
        pid = tracing::field::Empty,
    );
    if cancel.is_cancelled() {
        return Err(ProcessError::Cancelled {
            program: tool.name().to_owned(),
        });
    }
    let permit = match limit {
        Some(semaphore) => {
            let acquired = tokio::select! {
                biased;
                () = cancel.cancelled() => None,
                permit = semaphore.acquire_owned() => permit.ok(),
            };
            match acquired {
                Some(permit) => Some(permit),
                None => {
                    return Err(ProcessError::Cancelled {
                        program: tool.name().to_owned(),
                    });
                }
            }
        }
        None => None,
    };

    ensure_subreaper();
    let mut command = new_command(tool.path());
    command
        .args(&args)
        .envs(env.iter().map(|(key, value)| (key, value)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = &current_dir {
        command.current_dir(dir);
    }
    tracing::debug!(parent: &span, path = %tool.path().display(), ?args, "starting process");
    let child = command
        .spawn()
        .map_err(|error| spawn_error(&tool, current_dir.as_deref(), error))?;
    let raw_pid = child.id();
    let pgid = raw_pid
        .and_then(|id| i32::try_from(id).ok())
        .and_then(Pid::from_raw);
    let (Some(raw_pid), Some(pgid)) = (raw_pid, pgid) else {
        // The leader exited and was reaped already (cannot happen right after spawn); the child
        // is dropped with `kill_on_drop`.
        return Err(ProcessError::Io {
            program: tool.name().to_owned(),
            context: "could not read the process id",
            source: io::Error::other("child has no pid"),
        });
    };
    span.record("pid", raw_pid);
    let group = GroupGuard::register(raw_pid, pgid, &tool, &label, cancel.clone());
    tracing::info!(parent: &span, "process started");

    Ok(Running {
        program: tool.name().to_owned(),
        pid: raw_pid,
        span,
        started: Instant::now(),
        timeout,
        deadline: Box::pin(tokio::time::sleep(timeout)),
        cancel,
        child: Some(LiveChild {
            stream: ProcessChunkStream::from(child),
            group,
            _permit: permit,
        }),
        stdout_lines: LineSplitter::default(),
        stderr_lines: LineSplitter::default(),
        tail: Tail::default(),
        pending: VecDeque::new(),
        flushed: false,
        end: None,
    })
}

/// The single sanctioned call site of `Command::new` in the crate.
fn new_command(program: &Path) -> tokio::process::Command {
    #[allow(clippy::disallowed_methods)] // this module is the one place that may spawn children
    let command = tokio::process::Command::new(program);
    command
}

fn spawn_error(tool: &Tool, current_dir: Option<&Path>, error: io::Error) -> ProcessError {
    let program = tool.name().to_owned();
    let path = tool.path().to_owned();
    let env_var = tool.env_var();
    // A missing working directory also fails the spawn with ENOENT: tell the two apart.
    if let Some(dir) = current_dir {
        if !dir.is_dir() {
            return ProcessError::Io {
                program,
                context: "working directory is missing",
                source: error,
            };
        }
    }
    match error.kind() {
        io::ErrorKind::NotFound => ProcessError::NotFound {
            program,
            path,
            env_var,
        },
        io::ErrorKind::PermissionDenied => ProcessError::PermissionDenied {
            program,
            path,
            env_var,
        },
        _ => ProcessError::Io {
            program,
            context: "could not start the process",
            source: error,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// The running child
// ---------------------------------------------------------------------------------------------

/// A spawned child. Read its output with [`Running::next_line`] (or [`Running::lines`]) and finish
/// with [`Running::wait`]; dropping it earlier kills the process group.
pub struct Running {
    program: String,
    pid: u32,
    span: tracing::Span,
    started: Instant,
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
    cancel: CancellationToken,
    /// `None` once the leader is reaped and the group is gone.
    child: Option<LiveChild>,
    stdout_lines: LineSplitter,
    stderr_lines: LineSplitter,
    tail: Tail,
    pending: VecDeque<Line>,
    /// Whether the line splitters were flushed after the end.
    flushed: bool,
    end: Option<End>,
}

/// Why a run ended.
enum End {
    Status(ExitStatus),
    WaitFailed(io::Error),
    Timeout,
    Cancelled,
    OutputTooLarge { limit: usize },
}

/// What [`Running::next_chunk`] waited for.
enum Event {
    Cancelled,
    TimedOut,
    Output(Option<Item<Bytes>>),
}

/// A piece of output returned by [`Running::next_chunk`].
enum Chunk {
    Stdout(Bytes),
    Stderr(Vec<String>),
}

impl fmt::Debug for Running {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Running")
            .field("program", &self.program)
            .field("pid", &self.pid)
            .field("running", &self.child.is_some())
            .finish_non_exhaustive()
    }
}

impl Running {
    /// The process id of the child, which is also its process group id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The display name of the program.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The child's tracing span (program, label, pid), to instrument the caller's work with.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// The next line of stdout or stderr, as soon as it is printed; `None` once the child has
    /// exited (or was killed by its timeout or cancellation) and all output was read.
    pub async fn next_line(&mut self) -> Option<Line> {
        loop {
            if let Some(line) = self.pending.pop_front() {
                return Some(line);
            }
            match self.next_chunk().await {
                Some(Chunk::Stdout(bytes)) => {
                    let pending = &mut self.pending;
                    self.stdout_lines
                        .push(&bytes, &mut |text| pending.push_back(Line::Stdout(text)));
                }
                Some(Chunk::Stderr(lines)) => {
                    self.pending.extend(lines.into_iter().map(Line::Stderr));
                }
                None => {
                    let pending = &mut self.pending;
                    self.stdout_lines
                        .finish(&mut |text| pending.push_back(Line::Stdout(text)));
                    return self.pending.pop_front();
                }
            }
        }
    }

    /// The remaining lines as a (boxed, hence `Unpin`) stream; afterwards call
    /// [`Running::wait`].
    pub fn lines(&mut self) -> impl Stream<Item = Line> + Unpin + Send + '_ {
        Box::pin(futures_util::stream::unfold(self, |running| async move {
            let line = running.next_line().await?;
            Some((line, running))
        }))
    }

    /// Reads (and discards) the remaining output, waits for the exit and reports the outcome:
    /// `Ok` only for exit code 0.
    pub async fn wait(mut self) -> Result<Finished, ProcessError> {
        while self.next_chunk().await.is_some() {}
        let duration = self.started.elapsed();
        let stderr_tail = self.tail.render();
        let program = self.program.clone();
        let result = match self.end.take() {
            Some(End::Status(status)) if status.success() => Ok(Finished {
                stderr_tail,
                duration,
            }),
            Some(End::Status(status)) => {
                let reason = match (status.code(), status.signal()) {
                    (Some(code), _) => ExitReason::Code(code),
                    (None, Some(signal)) => ExitReason::Signal(signal),
                    (None, None) => ExitReason::Code(-1),
                };
                Err(ProcessError::Exited {
                    program,
                    reason,
                    stderr_tail,
                })
            }
            Some(End::WaitFailed(source)) => Err(ProcessError::Io {
                program,
                context: "could not wait for the process",
                source,
            }),
            Some(End::Timeout) => Err(ProcessError::Timeout {
                program,
                timeout: self.timeout,
                stderr_tail,
            }),
            Some(End::Cancelled) => Err(ProcessError::Cancelled { program }),
            Some(End::OutputTooLarge { limit }) => {
                Err(ProcessError::OutputTooLarge { program, limit })
            }
            None => Err(ProcessError::Io {
                program,
                context: "could not wait for the process",
                source: io::Error::other("output ended without an exit status"),
            }),
        };
        let duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        match &result {
            Ok(_) => tracing::info!(parent: &self.span, duration_ms, "process succeeded"),
            Err(error @ ProcessError::Timeout { .. }) => {
                tracing::warn!(parent: &self.span, duration_ms, code = error.code(), %error, "process timed out");
            }
            Err(error) => {
                tracing::info!(parent: &self.span, duration_ms, code = error.code(), %error, "process failed");
            }
        }
        result
    }

    /// The next chunk of stdout or the next stderr lines (already added to the tail); `None` at
    /// the end. Handles the timeout and cancellation by killing the group.
    async fn next_chunk(&mut self) -> Option<Chunk> {
        loop {
            let Some(child) = self.child.as_mut() else {
                if self.flushed {
                    return None;
                }
                self.flushed = true;
                let mut lines = Vec::new();
                self.stderr_lines.finish(&mut |text| lines.push(text));
                for line in &lines {
                    self.tail.push(line);
                }
                return if lines.is_empty() {
                    None
                } else {
                    Some(Chunk::Stderr(lines))
                };
            };
            let event = tokio::select! {
                biased;
                () = self.cancel.cancelled() => Event::Cancelled,
                () = self.deadline.as_mut() => Event::TimedOut,
                item = child.stream.next() => Event::Output(item),
            };
            let item = match event {
                Event::Cancelled => {
                    self.abort(End::Cancelled).await;
                    continue;
                }
                Event::TimedOut => {
                    self.abort(End::Timeout).await;
                    continue;
                }
                Event::Output(item) => item,
            };
            match item {
                Some(Item::Stdout(bytes)) => return Some(Chunk::Stdout(bytes)),
                Some(Item::Stderr(bytes)) => {
                    let mut lines = Vec::new();
                    self.stderr_lines.push(&bytes, &mut |text| lines.push(text));
                    for line in &lines {
                        self.tail.push(line);
                    }
                    if !lines.is_empty() {
                        return Some(Chunk::Stderr(lines));
                    }
                }
                Some(Item::Done(status)) => {
                    self.end = Some(match status {
                        Ok(status) => End::Status(status),
                        Err(error) => End::WaitFailed(error),
                    });
                    if let Some(child) = self.child.take() {
                        child
                            .clean_up_after_exit()
                            .instrument(self.span.clone())
                            .await;
                    }
                }
                None => {
                    // The stream ends only after `Done`; be defensive anyway.
                    if let Some(child) = self.child.take() {
                        let mut tail = Tail::default();
                        child
                            .terminate(&mut LineSplitter::default(), &mut tail)
                            .await;
                    }
                }
            }
        }
    }

    /// Kills the group (SIGTERM, grace, SIGKILL), reaps everything and records `end`.
    async fn abort(&mut self, end: End) {
        if let Some(child) = self.child.take() {
            let reason = match &end {
                End::Timeout => "timeout",
                End::Cancelled => "cancelled",
                End::OutputTooLarge { .. } => "stdout too large",
                End::Status(_) | End::WaitFailed(_) => "ended",
            };
            tracing::debug!(parent: &self.span, reason, "killing process group");
            child
                .terminate(&mut self.stderr_lines, &mut self.tail)
                .instrument(self.span.clone())
                .await;
        }
        if self.end.is_none() {
            self.end = Some(end);
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let Some(child) = self.child.take() else {
            return;
        };
        tracing::debug!(parent: &self.span, "handle dropped while running, killing process group");
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let span = self.span.clone();
                runtime.spawn(async move {
                    child
                        .terminate(&mut LineSplitter::default(), &mut Tail::default())
                        .instrument(span)
                        .await;
                });
            }
            // No runtime to run the graceful sequence: the guard sends SIGKILL to the group and
            // tokio's orphan queue reaps the leader.
            Err(_) => drop(child),
        }
    }
}

/// The live parts of a child: its output stream (which owns the `tokio::process::Child`), its
/// group guard and its concurrency permit, all released together once the group is gone.
struct LiveChild {
    stream: ProcessChunkStream,
    group: GroupGuard,
    _permit: Option<OwnedSemaphorePermit>,
}

impl LiveChild {
    /// SIGTERM to the group; keep reading (stderr goes to `tail`) until the leader exits or the
    /// grace period ends; SIGKILL to the group; reap the leader and the stragglers.
    async fn terminate(mut self, stderr_lines: &mut LineSplitter, tail: &mut Tail) {
        let pgid = self.group.pgid;
        signal_group(pgid, Signal::TERM);
        let grace = tokio::time::sleep(GRACE);
        tokio::pin!(grace);
        let mut leader_reaped = false;
        while !leader_reaped {
            tokio::select! {
                biased;
                () = &mut grace => break,
                item = self.stream.next() => match item {
                    Some(Item::Stderr(bytes)) => stderr_lines.push(&bytes, &mut |text| tail.push(&text)),
                    Some(Item::Stdout(_)) => {}
                    Some(Item::Done(_)) | None => leader_reaped = true,
                },
            }
        }
        signal_group(pgid, Signal::KILL);
        if !leader_reaped {
            if let Some(child) = self.stream.child_mut() {
                match tokio::time::timeout(REAP_TIMEOUT, child.wait()).await {
                    Ok(Ok(_)) => leader_reaped = true,
                    Ok(Err(error)) => tracing::warn!(%error, "could not reap the process"),
                    Err(_) => tracing::warn!("process did not die after SIGKILL"),
                }
            }
        }
        if leader_reaped {
            reap_stragglers(pgid).await;
            self.group.armed = false;
        }
        // Otherwise the guard sends SIGKILL again on drop and tokio's orphan queue reaps the
        // leader later; the pid cannot be reused while it is unreaped.
    }

    /// After the leader exited and was reaped: SIGKILL whatever is left in its group and reap it.
    async fn clean_up_after_exit(mut self) {
        let pgid = self.group.pgid;
        signal_group(pgid, Signal::KILL);
        reap_stragglers(pgid).await;
        self.group.armed = false;
    }
}

/// Reaps the members of group `pgid` that became our children (we are a subreaper), until the
/// group is empty or [`STRAGGLER_TIMEOUT`] passes. Only called after the leader was reaped, so it
/// never steals tokio's child.
async fn reap_stragglers(pgid: Pid) {
    use rustix::process::{WaitOptions, test_kill_process_group, waitpgid};
    let deadline = tokio::time::Instant::now() + STRAGGLER_TIMEOUT;
    loop {
        match waitpgid(pgid, WaitOptions::NOHANG) {
            Ok(Some(_)) => continue,
            Err(rustix::io::Errno::INTR) => continue,
            Ok(None) => {}
            Err(rustix::io::Errno::CHILD) => {
                // None of our children is left in the group; is anybody else (an orphan that is
                // still being re-parented, or one reaped by PID 1)?
                if test_kill_process_group(pgid).is_err() {
                    return;
                }
            }
            Err(error) => {
                tracing::debug!(%error, "waitpgid failed");
                return;
            }
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                pgid = pgid.as_raw_nonzero().get(),
                "process group still not empty"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Sends `signal` to group `pgid`; a group that is already gone is not an error.
fn signal_group(pgid: Pid, signal: Signal) {
    match rustix::process::kill_process_group(pgid, signal) {
        Ok(()) | Err(rustix::io::Errno::SRCH) => {}
        Err(error) => {
            tracing::warn!(%error, pgid = pgid.as_raw_nonzero().get(), "could not signal process group")
        }
    }
}

/// Sends SIGKILL to the process group `pgid` (the pid of a child spawned here) — for shutdown
/// paths. A group that no longer exists is not an error. Refuses 0, 1 and this server's own group.
///
/// Prefer [`ChildRegistry::kill_all`] or dropping the [`Running`] handle: a pid kept after its
/// child was reaped may name another process group.
pub fn kill_group(pgid: u32) -> io::Result<()> {
    let pgid = i32::try_from(pgid)
        .ok()
        .filter(|raw| *raw > 1)
        .and_then(Pid::from_raw)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "refusing to signal this process group",
            )
        })?;
    if rustix::process::getpgid(None).ok() == Some(pgid) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "refusing to kill our own process group",
        ));
    }
    match rustix::process::kill_process_group(pgid, Signal::KILL) {
        Ok(()) | Err(rustix::io::Errno::SRCH) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Makes this process the subreaper of its descendants (once; Linux only).
fn ensure_subreaper() {
    #[cfg(target_os = "linux")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            match rustix::process::set_child_subreaper(Some(rustix::process::getpid())) {
                Ok(()) => tracing::debug!("became child subreaper"),
                Err(error) => tracing::warn!(%error, "could not become child subreaper; orphaned grandchildren are left to PID 1"),
            }
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------------

/// Every live child of this server, so shutdown can stop them all.
///
/// A child is registered when it is spawned and removed once it and its group are gone. Usage at
/// shutdown:
///
/// ```no_run
/// # async fn shutdown() {
/// use std::time::Duration;
/// use sofathek_process::ChildRegistry;
/// let registry = ChildRegistry::global();
/// registry.kill_all();
/// if !registry.wait_idle(Duration::from_secs(5)).await {
///     for child in registry.live() {
///         let _ = sofathek_process::kill_group(child.pid);
///     }
/// }
/// # }
/// ```
pub struct ChildRegistry {
    /// Keyed by a run id rather than the pid, which could in theory be reused by a new child
    /// before an old entry is removed.
    children: Mutex<HashMap<u64, Entry>>,
    next_id: AtomicU64,
    count: watch::Sender<usize>,
}

/// A registered child.
struct Entry {
    pid: u32,
    pgid: Pid,
    program: String,
    label: String,
    cancel: CancellationToken,
}

/// A live child as listed by [`ChildRegistry::live`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildInfo {
    /// Process id, also the process group id.
    pub pid: u32,
    /// Display name of the program.
    pub program: String,
    /// The spec's label (job id).
    pub label: String,
}

static REGISTRY: LazyLock<ChildRegistry> = LazyLock::new(|| ChildRegistry {
    children: Mutex::new(HashMap::new()),
    next_id: AtomicU64::new(0),
    count: watch::Sender::new(0),
});

impl fmt::Debug for ChildRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildRegistry")
            .field("live", &self.len())
            .finish()
    }
}

impl ChildRegistry {
    /// The registry of this process.
    pub fn global() -> &'static ChildRegistry {
        &REGISTRY
    }

    /// The live children.
    pub fn live(&self) -> Vec<ChildInfo> {
        let children = self.lock();
        let mut live: Vec<ChildInfo> = children
            .values()
            .map(|entry| ChildInfo {
                pid: entry.pid,
                program: entry.program.clone(),
                label: entry.label.clone(),
            })
            .collect();
        live.sort_by_key(|child| child.pid);
        live
    }

    /// How many children are live.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no child is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops every live child: cancels its run (which then fails with
    /// [`ProcessError::Cancelled`], escalates to SIGKILL after [`GRACE`] and reaps) and sends
    /// SIGTERM to its group right away, in case nobody drives the run. Returns how many there
    /// were. Use [`ChildRegistry::wait_idle`] to wait for them to be gone.
    pub fn kill_all(&self) -> usize {
        let children = self.lock();
        for entry in children.values() {
            entry.cancel.cancel();
            signal_group(entry.pgid, Signal::TERM);
        }
        children.len()
    }

    /// Waits until no child is live, at most `timeout`; returns whether the registry is empty.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let mut count = self.count.subscribe();
        matches!(
            tokio::time::timeout(timeout, count.wait_for(|live| *live == 0)).await,
            Ok(Ok(_))
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.children.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn insert(&self, entry: Entry) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut children = self.lock();
        children.insert(id, entry);
        self.count.send_replace(children.len());
        id
    }

    fn remove(&self, id: u64) {
        let mut children = self.lock();
        children.remove(&id);
        self.count.send_replace(children.len());
    }
}

/// Keeps a child in the registry; on drop, unregisters it and, while `armed` (the group may still
/// have members), sends SIGKILL to the group. Disarmed once the leader and stragglers are reaped.
struct GroupGuard {
    id: u64,
    pgid: Pid,
    armed: bool,
}

impl GroupGuard {
    fn register(
        pid: u32,
        pgid: Pid,
        tool: &Tool,
        label: &str,
        cancel: CancellationToken,
    ) -> GroupGuard {
        let entry = Entry {
            pid,
            pgid,
            program: tool.name().to_owned(),
            label: label.to_owned(),
            cancel,
        };
        let id = ChildRegistry::global().insert(entry);
        GroupGuard {
            id,
            pgid,
            armed: true,
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            signal_group(self.pgid, Signal::KILL);
        }
        ChildRegistry::global().remove(self.id);
    }
}

// ---------------------------------------------------------------------------------------------
// Lines and tails
// ---------------------------------------------------------------------------------------------

/// Splits a byte stream into lines at `\n`, `\r\n` or `\r`, cutting lines at [`MAX_LINE_BYTES`].
#[derive(Default)]
struct LineSplitter {
    buffer: Vec<u8>,
    after_cr: bool,
}

impl LineSplitter {
    fn push(&mut self, bytes: &[u8], out: &mut dyn FnMut(String)) {
        for &byte in bytes {
            match byte {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    out(self.take());
                }
                _ => {
                    self.after_cr = false;
                    self.buffer.push(byte);
                    if self.buffer.len() >= MAX_LINE_BYTES {
                        out(self.take());
                    }
                }
            }
        }
    }

    fn finish(&mut self, out: &mut dyn FnMut(String)) {
        self.after_cr = false;
        if !self.buffer.is_empty() {
            out(self.take());
        }
    }

    fn take(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.buffer).into_owned();
        self.buffer.clear();
        text
    }
}

/// The last non-blank stderr lines, bounded by [`STDERR_TAIL_LINES`] and [`STDERR_TAIL_BYTES`]
/// (counting one newline per line).
#[derive(Default)]
struct Tail {
    lines: VecDeque<String>,
    bytes: usize,
}

impl Tail {
    fn push(&mut self, line: &str) {
        let line = line.trim_end();
        if line.trim_start().is_empty() {
            return;
        }
        let mut end = line.len().min(STDERR_TAIL_BYTES - 1);
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        let line = &line[..end];
        self.bytes += line.len() + 1;
        self.lines.push_back(line.to_owned());
        while self.lines.len() > STDERR_TAIL_LINES || self.bytes > STDERR_TAIL_BYTES {
            match self.lines.pop_front() {
                Some(old) => self.bytes -= old.len() + 1,
                None => break,
            }
        }
    }

    fn render(&self) -> String {
        let mut text = String::with_capacity(self.bytes);
        for (index, line) in self.lines.iter().enumerate() {
            if index > 0 {
                text.push('\n');
            }
            text.push_str(line);
        }
        text
    }
}

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

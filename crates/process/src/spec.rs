//! Tools and run specifications: what to run, with which arguments, limits and timeout.

use super::*;

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
    pub(crate) tool: Tool,
    pub(crate) args: Vec<OsString>,
    pub(crate) current_dir: Option<PathBuf>,
    pub(crate) timeout: Duration,
    pub(crate) env: Vec<(OsString, OsString)>,
    pub(crate) label: String,
    pub(crate) limit: Option<Arc<Semaphore>>,
    pub(crate) cancel: Option<CancellationToken>,
    pub(crate) max_stdout: usize,
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

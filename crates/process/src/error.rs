//! Why a run ended without success: the exit reason and the typed process error.

use super::*;

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

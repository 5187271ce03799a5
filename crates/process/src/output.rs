//! What a finished run returns and the lines a running child produces.

use super::*;

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

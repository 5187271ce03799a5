//! Spawning a child and the handle to it: its output stream, cancellation, timeout, and the
//! kill-and-reap of its process group.

use super::*;

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
pub(crate) fn new_command(program: &Path) -> tokio::process::Command {
    #[allow(clippy::disallowed_methods)] // this module is the one place that may spawn children
    let command = tokio::process::Command::new(program);
    command
}

pub(crate) fn spawn_error(
    tool: &Tool,
    current_dir: Option<&Path>,
    error: io::Error,
) -> ProcessError {
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
pub(crate) enum End {
    Status(ExitStatus),
    WaitFailed(io::Error),
    Timeout,
    Cancelled,
    OutputTooLarge { limit: usize },
}

/// What [`Running::next_chunk`] waited for.
pub(crate) enum Event {
    Cancelled,
    TimedOut,
    Output(Option<Item<Bytes>>),
}

/// A piece of output returned by [`Running::next_chunk`].
pub(crate) enum Chunk {
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
    pub(crate) async fn next_chunk(&mut self) -> Option<Chunk> {
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
    pub(crate) async fn abort(&mut self, end: End) {
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
pub(crate) struct LiveChild {
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
pub(crate) async fn reap_stragglers(pgid: Pid) {
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
pub(crate) fn signal_group(pgid: Pid, signal: Signal) {
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
pub(crate) fn ensure_subreaper() {
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

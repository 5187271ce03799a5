//! Running a child to completion: collect its output, or hand every line to a callback; tool
//! versions. (`spawn` and the handle it returns are in `running`.)

use super::*;

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

//! Finds and kills children of a previous run that outlived it (the server was killed with
//! SIGKILL while yt-dlp or ffmpeg ran): every process working inside the staging area.
//!
//! Children run with their job's work directory as working directory, so `/proc/<pid>/cwd`
//! identifies them. Called once at start-up, before any job runs again in that directory.

use std::path::Path;

/// Kills the process group of every process whose working directory is inside `staging`;
/// returns the pids found.
pub fn kill_in(staging: &Path) -> Vec<u32> {
    let Ok(root) = std::fs::canonicalize(staging) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let own_group = rustix::process::getpgid(None)
        .ok()
        .map(|p| p.as_raw_nonzero().get());
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cwd) = std::fs::read_link(entry.path().join("cwd")) else {
            continue;
        };
        // A removed directory reads as "<path> (deleted)".
        let cwd_text = cwd.to_string_lossy();
        let cwd_path = Path::new(cwd_text.trim_end_matches(" (deleted)"));
        if !cwd_path.starts_with(&root) {
            continue;
        }
        let Some(pgid) = process_group(pid) else {
            continue;
        };
        if Some(pgid as i32) == own_group {
            continue;
        }
        tracing::warn!(pid, pgid, cwd = %cwd.display(), "killing a child left over from a previous run");
        if let Err(err) = sofathek_process::kill_group(pgid) {
            tracing::warn!(pid, %err, "could not kill a left-over child");
        }
        found.push(pid);
    }
    found
}

/// The process group of `pid`, from `/proc/<pid>/stat`.
fn process_group(pid: u32) -> Option<u32> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = text.get(text.rfind(')')? + 1..)?;
    rest.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_group_is_read() {
        let me = std::process::id();
        let group = process_group(me);
        let expected = rustix::process::getpgid(None)
            .ok()
            .map(|p| p.as_raw_nonzero().get() as u32);
        assert_eq!(group, expected);
    }

    #[test]
    fn nothing_found_in_an_empty_dir() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(kill_in(dir.path()).is_empty());
    }
}

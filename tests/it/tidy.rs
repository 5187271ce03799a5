//! Tidiness rules of the source tree that no compiler checks: every Rust file says what it is
//! (opens with a `//!` comment), has no trailing whitespace, no test is ignored without a reason,
//! no production code outside `sofathek-process` names `Command::new` (clippy's
//! `disallowed-methods` catches calls; this also catches a `#[allow]`ed one), and every crate of
//! the workspace shares the workspace's lints and stays unpublished.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

fn sources() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in ["src", "crates", "tests", "examples"] {
        rust_files(&root().join(dir), &mut found);
    }
    assert!(found.len() > 50, "found only {} Rust files", found.len());
    found
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn every_rust_file_opens_with_a_module_comment() {
    let missing: Vec<String> = sources()
        .into_iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            !text.starts_with("//!")
        })
        .map(|path| relative(&path))
        .collect();
    assert!(
        missing.is_empty(),
        "these files do not open with a `//!` comment saying what they are: {missing:?}"
    );
}

#[test]
fn no_line_ends_in_whitespace() {
    let mut found = Vec::new();
    for path in sources() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            if line.ends_with([' ', '\t']) {
                found.push(format!("{}:{}", relative(&path), n + 1));
            }
        }
    }
    assert!(found.is_empty(), "trailing whitespace at {found:?}");
}

#[test]
fn only_the_process_crate_spawns_children() {
    let mut found = Vec::new();
    for path in sources() {
        let name = relative(&path);
        // The integration tests run the binary under test directly; the process crate is the
        // one place that spawns tools.
        if name.starts_with("tests/") || name.starts_with("crates/process/") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains("Command::new") {
                found.push(format!("{name}:{}", n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "Command::new outside sofathek-process at {found:?}"
    );
}

#[test]
fn no_test_is_ignored_without_a_reason() {
    let mut bare = Vec::new();
    for path in sources() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            // `#[ignore = "why"]` is fine; a bare `#[ignore]` hides a test without saying why.
            if line.starts_with("#[ignore]") {
                bare.push(format!("{}:{}", relative(&path), n + 1));
            }
        }
    }
    assert!(bare.is_empty(), "#[ignore] without a reason at {bare:?}");
}

#[test]
fn every_workspace_crate_uses_the_workspace_lints_and_is_not_published() {
    let crates = root().join("crates");
    let mut checked = 0;
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&crates).expect("crates/").flatten() {
        let manifest = entry.path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        checked += 1;
        let name = relative(&manifest);
        if !text.contains("\n[lints]\nworkspace = true") {
            problems.push(format!("{name}: no `[lints] workspace = true`"));
        }
        if !text.contains("\npublish = false") {
            problems.push(format!(
                "{name}: not `publish = false` (path dependencies carry no version)"
            ));
        }
    }
    assert!(checked >= 7, "found only {checked} crates under crates/");
    assert!(problems.is_empty(), "{problems:#?}");
}

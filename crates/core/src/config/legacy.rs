//! The original SOFATHEK's environment variables: a family switching over keeps its compose
//! file or service unit, so every original variable that is set is either **mapped** to its
//! SOFATHEK equivalent (when that equivalent was not given itself) or named in a **warning** that
//! says what to use instead. Nothing is silently ignored or silently different.
//!
//! The notes are logged once at start (`sofathek serve`), printed by `sofathek config` and
//! listed alone by `sofathek config --check-legacy`.

use std::path::Path;

use serde::Serialize;

use super::{ConfigArgs, Environment};

/// One original variable that is set, and what SOFATHEK does with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The original's variable.
    pub variable: &'static str,
    /// Its value.
    pub value: String,
    /// `mapped`, `ignored` or `different` (same name, another meaning or default).
    pub action: &'static str,
    /// What it became, or what to use instead.
    pub message: String,
}

/// Every note, mapped first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Legacy {
    pub notes: Vec<Note>,
}

impl Legacy {
    /// Notes that need the operator's attention (not applied as they are).
    pub fn warnings(&self) -> impl Iterator<Item = &Note> {
        self.notes.iter().filter(|n| n.action != "mapped")
    }

    /// Logs every note once (mapped at info, the rest as warnings).
    pub fn log(&self) {
        for note in &self.notes {
            if note.action == "mapped" {
                tracing::info!(variable = note.variable, value = %note.value, "{}", note.message);
            } else {
                tracing::warn!(variable = note.variable, value = %note.value, "{}", note.message);
            }
        }
    }

    /// `VARIABLE=value: message` lines.
    pub fn lines(&self) -> Vec<String> {
        self.notes
            .iter()
            .map(|n| {
                format!(
                    "{} ({}): {}={}: {}",
                    n.variable, n.action, n.variable, n.value, n.message
                )
            })
            .collect()
    }
}

/// A positive whole number, as the original accepted.
fn positive(value: &str) -> Option<u64> {
    value.trim().parse::<u64>().ok().filter(|n| *n > 0)
}

/// Reads the original's variables from `env` and applies those with an equivalent to `args`
/// where the equivalent was not given (`given(flag id)`: set by a flag or its own variable).
/// `cwd` is where the original looked for `.sofathek/settings.json` by default.
pub fn apply(
    args: &mut ConfigArgs,
    env: impl Fn(&str) -> Option<String>,
    given: impl Fn(&str) -> bool,
    cwd: &Path,
) -> Legacy {
    let mut legacy = Legacy::default();
    let mut note = |variable: &'static str, value: &str, action: &'static str, message: String| {
        legacy.notes.push(Note {
            variable,
            value: value.to_owned(),
            action,
            message,
        });
    };
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());

    if let Some(value) = set("SOFATHEK_BACKEND_PORT") {
        match value.trim().parse::<u16>() {
            _ if given("bind") => note(
                "SOFATHEK_BACKEND_PORT",
                &value,
                "ignored",
                format!(
                    "SOFATHEK_BIND is set ({}) and wins; remove SOFATHEK_BACKEND_PORT",
                    args.bind
                ),
            ),
            Ok(port) if port > 0 => {
                let host = args
                    .bind
                    .rsplit_once(':')
                    .map_or("127.0.0.1", |(h, _)| h)
                    .to_owned();
                args.bind = format!("{host}:{port}");
                note(
                    "SOFATHEK_BACKEND_PORT",
                    &value,
                    "mapped",
                    format!(
                        "listening on {} (SOFATHEK_BIND); the original listened on every interface: set SOFATHEK_BIND=0.0.0.0:{port} for that",
                        args.bind
                    ),
                );
            }
            _ => note(
                "SOFATHEK_BACKEND_PORT",
                &value,
                "ignored",
                "not a port number; set SOFATHEK_BIND=<ip>:<port> instead".into(),
            ),
        }
    }
    for variable in ["VIDEOS_DIR", "VIDEOS_PATH"] {
        if let Some(value) = set(variable) {
            note(
                variable,
                &value,
                "ignored",
                format!(
                    "SOFATHEK keeps its videos in {}/library (SOFATHEK_DATA_PATH sets the data root): bring the old folder in once with `sofathek import {value}`, or copy its files into the library folder, where the library scan adopts them",
                    args.data_path.display()
                ),
            );
        }
    }
    if let Some(value) = set("TEMP_DIR") {
        note(
            "TEMP_DIR",
            &value,
            "ignored",
            format!(
                "work files live in {}/staging (same filesystem as the library); the original's download history comes in with `sofathek import <VIDEOS_DIR> --queue {value}/download-queue.json`",
                args.data_path.display()
            ),
        );
    }
    if let Some(value) = set("NODE_ENV") {
        let mapped = match value.trim().to_ascii_lowercase().as_str() {
            "production" => Some(Environment::Production),
            "development" | "test" => Some(Environment::Development),
            "staging" => Some(Environment::Staging),
            _ => None,
        };
        match mapped {
            _ if given("environment") => note(
                "NODE_ENV",
                &value,
                "ignored",
                format!("SOFATHEK_ENV is set ({}) and wins; remove NODE_ENV", args.environment.as_str()),
            ),
            Some(environment) => {
                args.environment = environment;
                note(
                    "NODE_ENV",
                    &value,
                    "mapped",
                    format!("SOFATHEK_ENV={} (use SOFATHEK_ENV from now on)", environment.as_str()),
                );
            }
            None => note(
                "NODE_ENV",
                &value,
                "ignored",
                "not an environment SOFATHEK knows; set SOFATHEK_ENV=development|staging|production".into(),
            ),
        }
    }
    if let Some(value) = set("FFMPEG_PATH") {
        if given("ffmpeg") {
            note(
                "FFMPEG_PATH",
                &value,
                "ignored",
                format!(
                    "SOFATHEK_FFMPEG is set ({}) and wins; remove FFMPEG_PATH",
                    args.ffmpeg.display()
                ),
            );
        } else {
            args.ffmpeg = value.trim().into();
            note(
                "FFMPEG_PATH",
                &value,
                "mapped",
                "SOFATHEK_FFMPEG (ffprobe is SOFATHEK_FFPROBE, looked up on PATH by default)"
                    .into(),
            );
        }
    }
    if let Some(value) = set("DOWNLOAD_MAX_SIZE_BYTES") {
        match positive(&value) {
            _ if given("max_download_bytes") => note(
                "DOWNLOAD_MAX_SIZE_BYTES",
                &value,
                "ignored",
                "SOFATHEK_MAX_DOWNLOAD_BYTES is set and wins; remove DOWNLOAD_MAX_SIZE_BYTES".into(),
            ),
            Some(bytes) => {
                args.max_download_bytes = bytes;
                note(
                    "DOWNLOAD_MAX_SIZE_BYTES",
                    &value,
                    "mapped",
                    format!("SOFATHEK_MAX_DOWNLOAD_BYTES={bytes}"),
                );
            }
            None => note(
                "DOWNLOAD_MAX_SIZE_BYTES",
                &value,
                "ignored",
                "not a positive number (the original ignored it too); set SOFATHEK_MAX_DOWNLOAD_BYTES".into(),
            ),
        }
    }
    if let Some(value) = set("VIDEO_MAX_AGE_DAYS") {
        note(
            "VIDEO_MAX_AGE_DAYS",
            &value,
            "ignored",
            "SOFATHEK never deletes videos by age (the original deleted downloads this many days after they arrived); parents delete videos on Manage. SOFATHEK_JOB_RETENTION_DAYS removes finished jobs from the queue, never videos".into(),
        );
    }
    if let Some(value) = set("ALLOWED_ORIGINS") {
        if given("allowed_origins") {
            note(
                "ALLOWED_ORIGINS",
                &value,
                "ignored",
                "SOFATHEK_ALLOWED_ORIGINS is set and wins; remove ALLOWED_ORIGINS".into(),
            );
        } else {
            args.allowed_origins = value.trim().to_owned();
            note(
                "ALLOWED_ORIGINS",
                &value,
                "mapped",
                "SOFATHEK_ALLOWED_ORIGINS: pages from these origins may send changes with a session cookie (the original's CORS list; the same origin always works, also without it)".into(),
            );
        }
    }
    if let Some(value) = set("RATE_LIMIT_MAX_REQUESTS") {
        note(
            "RATE_LIMIT_MAX_REQUESTS",
            &value,
            "different",
            "applied, but it counts accepted URL submissions per client and window (the original counted every request to POST /api/youtube/download, invalid ones too); SOFATHEK's default is 30, the original's 5".into(),
        );
    }
    if let Some(value) = set("SOFATHEK_CONFIG_DIR") {
        note(
            "SOFATHEK_CONFIG_DIR",
            &value,
            "different",
            "applied: .sofathek/settings.json (the content policy) is read from this folder, as in the original; when it is not set SOFATHEK looks in the data root, not in the working directory".into(),
        );
    } else {
        let old = cwd.join(".sofathek/settings.json");
        let config_dir = args
            .config_dir
            .clone()
            .unwrap_or_else(|| args.data_path.clone());
        let new = config_dir.join(".sofathek/settings.json");
        if old.is_file() && !new.is_file() && old != new {
            note(
                "SOFATHEK_CONFIG_DIR",
                "(unset)",
                "different",
                format!(
                    "{} is where the original read the content policy from (the working directory); SOFATHEK reads {}: move the file there, or set SOFATHEK_CONFIG_DIR={}",
                    old.display(),
                    new.display(),
                    cwd.display()
                ),
            );
        }
    }
    legacy
        .notes
        .sort_by_key(|n| (n.action != "mapped", n.variable));
    legacy
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        config: ConfigArgs,
    }

    fn args() -> ConfigArgs {
        Args::try_parse_from(["sofathek", "--data-path", "/srv/sofathek"])
            .expect("parse")
            .config
    }

    fn run(vars: &[(&str, &str)], given: &[&str]) -> (ConfigArgs, Legacy) {
        let mut config = args();
        let cwd = tempfile::tempdir().expect("tempdir");
        let legacy = apply(
            &mut config,
            |name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            },
            |id| given.contains(&id),
            cwd.path(),
        );
        (config, legacy)
    }

    fn action(legacy: &Legacy, variable: &str) -> &'static str {
        legacy
            .notes
            .iter()
            .find(|n| n.variable == variable)
            .map(|n| n.action)
            .unwrap_or("(none)")
    }

    #[test]
    fn every_original_variable_is_mapped_or_warned_about() {
        let all = [
            ("SOFATHEK_BACKEND_PORT", "3010"),
            ("VIDEOS_DIR", "/old/videos"),
            ("VIDEOS_PATH", "/old/videos2"),
            ("TEMP_DIR", "/old/temp"),
            ("NODE_ENV", "production"),
            ("FFMPEG_PATH", "/opt/ffmpeg"),
            ("DOWNLOAD_MAX_SIZE_BYTES", "1000"),
            ("VIDEO_MAX_AGE_DAYS", "30"),
            ("ALLOWED_ORIGINS", "https://tv.example"),
            ("RATE_LIMIT_MAX_REQUESTS", "5"),
            ("SOFATHEK_CONFIG_DIR", "/etc/sofathek"),
        ];
        let (config, legacy) = run(&all, &[]);
        for (variable, _) in all {
            assert_ne!(action(&legacy, variable), "(none)", "{variable}");
        }
        assert_eq!(config.bind, "127.0.0.1:3010");
        assert_eq!(config.environment, Environment::Production);
        assert_eq!(config.ffmpeg, std::path::PathBuf::from("/opt/ffmpeg"));
        assert_eq!(config.max_download_bytes, 1000);
        assert_eq!(config.allowed_origins, "https://tv.example");
        for mapped in [
            "SOFATHEK_BACKEND_PORT",
            "NODE_ENV",
            "FFMPEG_PATH",
            "DOWNLOAD_MAX_SIZE_BYTES",
            "ALLOWED_ORIGINS",
        ] {
            assert_eq!(action(&legacy, mapped), "mapped", "{mapped}");
        }
        for ignored in [
            "VIDEOS_DIR",
            "VIDEOS_PATH",
            "TEMP_DIR",
            "VIDEO_MAX_AGE_DAYS",
        ] {
            assert_eq!(action(&legacy, ignored), "ignored", "{ignored}");
        }
        for different in ["RATE_LIMIT_MAX_REQUESTS", "SOFATHEK_CONFIG_DIR"] {
            assert_eq!(action(&legacy, different), "different", "{different}");
        }
        assert!(
            legacy
                .notes
                .iter()
                .any(|n| n.variable == "VIDEOS_DIR"
                    && n.message.contains("sofathek import /old/videos")),
            "{legacy:?}"
        );
        assert_eq!(legacy.warnings().count(), 6);
    }

    #[test]
    fn sofathek_variables_win_and_bad_values_are_named() {
        let (config, legacy) = run(
            &[
                ("SOFATHEK_BACKEND_PORT", "3010"),
                ("NODE_ENV", "production"),
                ("FFMPEG_PATH", "/opt/ffmpeg"),
            ],
            &["bind", "environment", "ffmpeg"],
        );
        assert_eq!(config.bind, "127.0.0.1:3001");
        assert_eq!(config.environment, Environment::Development);
        assert_eq!(config.ffmpeg, std::path::PathBuf::from("ffmpeg"));
        assert!(
            legacy.notes.iter().all(|n| n.action == "ignored"),
            "{legacy:?}"
        );
        let (_, bad) = run(
            &[
                ("SOFATHEK_BACKEND_PORT", "not-a-port"),
                ("NODE_ENV", "qa"),
                ("DOWNLOAD_MAX_SIZE_BYTES", "-1"),
            ],
            &[],
        );
        assert_eq!(bad.warnings().count(), 3, "{bad:?}");
        let (_, none) = run(&[], &[]);
        assert!(none.notes.is_empty());
    }

    #[test]
    fn a_content_policy_in_the_working_directory_is_pointed_out() {
        let mut config = args();
        let cwd = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(cwd.path().join(".sofathek")).expect("dir");
        std::fs::write(cwd.path().join(".sofathek/settings.json"), "{}").expect("policy");
        let legacy = apply(&mut config, |_| None, |_| false, cwd.path());
        assert_eq!(action(&legacy, "SOFATHEK_CONFIG_DIR"), "different");
    }
}

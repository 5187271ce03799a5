//! Configuration: every key in one place, read from defaults, then the environment, then CLI flags.
//!
//! `ConfigArgs` is what clap parses (each flag has an environment variable); `Config` is the
//! validated result the rest of the program uses. Validation errors name the variable.

pub mod legacy;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The port of the runtime contract (product.md §3).
pub const DEFAULT_PORT: u16 = 3001;
/// Where the server listens when run locally.
pub const DEFAULT_BIND: &str = "127.0.0.1:3001";
/// Data root when run locally.
pub const DEFAULT_DATA_PATH: &str = "./data";
/// Built frontend (templates and assets) when run from a checkout.
pub const DEFAULT_WEB_DIR: &str = "./frontend";
/// Free space below which new jobs are refused (1 GiB).
pub const DEFAULT_MIN_FREE_BYTES: u64 = 1 << 30;
/// Largest accepted upload (20 GiB).
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 20 << 30;
/// Largest accepted download, passed to yt-dlp's `--max-filesize` (5 GiB, as the original).
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = 5 << 30;

/// The libx264 presets, fastest first.
pub const X264_PRESETS: &[&str] = &[
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
];

/// Deployment environment (`SOFATHEK_ENV`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Staging,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Staging => "staging",
            Environment::Production => "production",
        }
    }

    /// JSON logs in staging and production, human-readable in development.
    pub fn json_logs(self) -> bool {
        self != Environment::Development
    }
}

/// Raw configuration as given by flags and environment variables (see the README table).
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// Address to listen on.
    #[arg(long, env = "SOFATHEK_BIND", default_value = DEFAULT_BIND)]
    pub bind: String,
    /// Data root: database, library files and staging area.
    #[arg(long, env = "SOFATHEK_DATA_PATH", default_value = DEFAULT_DATA_PATH)]
    pub data_path: PathBuf,
    /// Deployment environment.
    #[arg(
        long = "env",
        env = "SOFATHEK_ENV",
        value_enum,
        default_value = "development"
    )]
    pub environment: Environment,
    /// Log verbosity (error, warn, info, debug, trace); RUST_LOG takes precedence when set.
    #[arg(long, env = "LOG_LEVEL")]
    pub log_level: Option<String>,
    /// Directory of the built frontend (templates/ and assets/).
    #[arg(long, env = "SOFATHEK_WEB_DIR", default_value = DEFAULT_WEB_DIR)]
    pub web_dir: PathBuf,
    /// ffmpeg executable (name looked up on PATH, or a path).
    #[arg(long, env = "SOFATHEK_FFMPEG", default_value = "ffmpeg")]
    pub ffmpeg: PathBuf,
    /// ffprobe executable.
    #[arg(long, env = "SOFATHEK_FFPROBE", default_value = "ffprobe")]
    pub ffprobe: PathBuf,
    /// yt-dlp executable.
    #[arg(long, env = "SOFATHEK_YTDLP", default_value = "yt-dlp")]
    pub ytdlp: PathBuf,
    /// Allow URLs whose host resolves to loopback/private/link-local addresses (tests only).
    #[arg(long, env = "SOFATHEK_ALLOW_PRIVATE_URLS", default_value = "false", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub allow_private_urls: bool,
    /// Private host:port pairs downloads may reach, comma separated (a family's own media site
    /// on the home network), e.g. `nas.lan:8080,192.168.1.5:9000`.
    #[arg(long, env = "SOFATHEK_ALLOWED_PRIVATE_HOSTS", default_value = "")]
    pub allowed_private_hosts: String,
    /// Test seam: answers for host names from this file instead of DNS, for downloads and the
    /// URL policy (`name address…` per line; a name on several lines answers with each in turn).
    #[arg(long, env = "SOFATHEK_EGRESS_HOSTS_FILE", hide = true)]
    pub egress_hosts_file: Option<PathBuf>,
    /// Refuse new jobs (507) when free space in the data root is below this many bytes.
    #[arg(long, env = "SOFATHEK_MIN_FREE_BYTES", default_value_t = DEFAULT_MIN_FREE_BYTES)]
    pub min_free_bytes: u64,
    /// Largest accepted upload in bytes (413 above).
    #[arg(long, env = "SOFATHEK_MAX_UPLOAD_BYTES", default_value_t = DEFAULT_MAX_UPLOAD_BYTES)]
    pub max_upload_bytes: u64,
    /// Largest accepted URL download in bytes (yt-dlp --max-filesize).
    #[arg(long, env = "SOFATHEK_MAX_DOWNLOAD_BYTES", default_value_t = DEFAULT_MAX_DOWNLOAD_BYTES)]
    pub max_download_bytes: u64,
    /// Downloads that may run at the same time.
    #[arg(long, env = "SOFATHEK_DOWNLOAD_WORKERS", default_value_t = 2)]
    pub download_workers: usize,
    /// Conversions (ffmpeg transcodes) that may run at the same time.
    #[arg(long, env = "SOFATHEK_CONVERT_WORKERS", default_value_t = 1)]
    pub convert_workers: usize,
    /// Subtitle languages fetched with downloads, comma separated.
    #[arg(long, env = "SOFATHEK_SUBTITLE_LANGS", default_value = "en,de,sv")]
    pub subtitle_langs: String,
    /// libx264 preset of transcodes (ultrafast ... veryslow): faster presets make bigger files.
    #[arg(long, env = "SOFATHEK_X264_PRESET", default_value = "veryfast")]
    pub x264_preset: String,
    /// Keep the uploaded/downloaded original next to the browser-playable copy.
    #[arg(long, env = "SOFATHEK_KEEP_ORIGINALS", default_value = "false", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub keep_originals: bool,
    /// Remove finished jobs from the queue after this many days (0 keeps them).
    #[arg(long, env = "SOFATHEK_JOB_RETENTION_DAYS", default_value_t = 0)]
    pub job_retention_days: u32,
    /// Seconds between library scans that look for files dropped into the library folder (a
    /// fallback for network filesystems, where change events do not arrive); 0 turns them off.
    #[arg(long, env = "SOFATHEK_SCAN_INTERVAL", default_value_t = 300)]
    pub scan_interval: u64,
    /// Seconds a dropped-in file must stay unchanged before a scan adopts it (a copy still
    /// going on is left alone).
    #[arg(long, env = "SOFATHEK_SCAN_SETTLE", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub scan_settle: u64,
    /// Watch the library folder for new files (inotify) and scan when something arrives.
    #[arg(long, env = "SOFATHEK_WATCH_LIBRARY", default_value = "true", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub watch_library: bool,
    /// Largest thumbnail served, in bytes (413 above).
    #[arg(long, env = "THUMBNAIL_MAX_SIZE", default_value_t = 10 * 1024 * 1024)]
    pub thumbnail_max_size: u64,
    /// Cache-Control max-age of thumbnails, in seconds.
    #[arg(long, env = "THUMBNAIL_CACHE_DURATION", default_value_t = 86_400)]
    pub thumbnail_cache_duration: u64,
    /// URL downloads accepted per client within the rate-limit window.
    #[arg(long, env = "RATE_LIMIT_MAX_REQUESTS", default_value_t = 30)]
    pub rate_limit_max_requests: u32,
    /// Rate-limit window in milliseconds.
    #[arg(long, env = "RATE_LIMIT_WINDOW_MS", default_value_t = 3_600_000)]
    pub rate_limit_window_ms: u64,
    /// Directory holding `.sofathek/settings.json` (content policy); defaults to the data root.
    #[arg(long, env = "SOFATHEK_CONFIG_DIR")]
    pub config_dir: Option<PathBuf>,
    /// File holding the parent password (for compose secrets).
    #[arg(long, env = "SOFATHEK_ADMIN_PASSWORD_FILE")]
    pub admin_password_file: Option<PathBuf>,
    /// Extra origins whose pages may send changes with a session cookie, comma separated
    /// (same-origin always works).
    #[arg(long, env = "SOFATHEK_ALLOWED_ORIGINS", default_value = "")]
    pub allowed_origins: String,
}

/// Validated configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_path: PathBuf,
    pub env: Environment,
    pub log_level: String,
    pub web_dir: PathBuf,
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
    pub ytdlp: PathBuf,
    pub allow_private_urls: bool,
    pub allowed_private_hosts: Vec<crate::egress::HostPort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress_hosts_file: Option<PathBuf>,
    pub min_free_bytes: u64,
    pub max_upload_bytes: u64,
    pub max_download_bytes: u64,
    pub download_workers: usize,
    pub convert_workers: usize,
    pub subtitle_langs: Vec<String>,
    pub x264_preset: String,
    pub keep_originals: bool,
    pub job_retention_days: u32,
    pub scan_interval: u64,
    pub scan_settle: u64,
    pub watch_library: bool,
    pub thumbnail_max_size: u64,
    pub thumbnail_cache_duration: u64,
    pub rate_limit_max_requests: u32,
    pub rate_limit_window_ms: u64,
    pub config_dir: PathBuf,
    pub admin_password_file: Option<PathBuf>,
    pub allowed_origins: Vec<String>,
}

/// A configuration value that cannot be used; the message names the variable.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn invalid(var: &str, value: impl std::fmt::Display, why: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("invalid {var} \"{value}\": {why}"))
}

impl ConfigArgs {
    /// Checks every value without touching the filesystem; see [`Config::prepare_data_dir`].
    pub fn validate(&self) -> Result<Config, ConfigError> {
        let bind = parse_bind(&self.bind)?;
        if self.download_workers == 0 || self.download_workers > 16 {
            return Err(invalid(
                "SOFATHEK_DOWNLOAD_WORKERS",
                self.download_workers,
                "must be between 1 and 16",
            ));
        }
        if self.convert_workers == 0 || self.convert_workers > 16 {
            return Err(invalid(
                "SOFATHEK_CONVERT_WORKERS",
                self.convert_workers,
                "must be between 1 and 16",
            ));
        }
        if self.max_upload_bytes == 0 {
            return Err(invalid("SOFATHEK_MAX_UPLOAD_BYTES", 0, "must be positive"));
        }
        if self.max_download_bytes == 0 {
            return Err(invalid(
                "SOFATHEK_MAX_DOWNLOAD_BYTES",
                0,
                "must be positive",
            ));
        }
        if self.rate_limit_window_ms == 0 {
            return Err(invalid("RATE_LIMIT_WINDOW_MS", 0, "must be positive"));
        }
        let subtitle_langs = split_list(&self.subtitle_langs);
        if let Some(bad) = subtitle_langs
            .iter()
            .find(|l| l.len() > 12 || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            return Err(invalid(
                "SOFATHEK_SUBTITLE_LANGS",
                bad,
                "language codes are letters, digits and '-'",
            ));
        }
        if !X264_PRESETS.contains(&self.x264_preset.as_str()) {
            return Err(invalid(
                "SOFATHEK_X264_PRESET",
                &self.x264_preset,
                format!("expected one of {}", X264_PRESETS.join(", ")),
            ));
        }
        for (var, path) in [
            ("SOFATHEK_FFMPEG", &self.ffmpeg),
            ("SOFATHEK_FFPROBE", &self.ffprobe),
            ("SOFATHEK_YTDLP", &self.ytdlp),
        ] {
            if path.as_os_str().is_empty() {
                return Err(invalid(var, "", "must name an executable"));
            }
        }
        let log_level = self
            .log_level
            .clone()
            .unwrap_or_else(|| match self.environment {
                Environment::Production => "info".into(),
                _ => "debug".into(),
            });
        if !["error", "warn", "info", "debug", "trace"]
            .contains(&log_level.to_ascii_lowercase().as_str())
        {
            return Err(invalid(
                "LOG_LEVEL",
                &log_level,
                "expected error, warn, info, debug or trace",
            ));
        }
        if self.data_path.as_os_str().is_empty() {
            return Err(invalid("SOFATHEK_DATA_PATH", "", "must not be empty"));
        }
        let data_path = absolute(&self.data_path);
        Ok(Config {
            bind,
            config_dir: self
                .config_dir
                .as_deref()
                .map(absolute)
                .unwrap_or_else(|| data_path.clone()),
            data_path,
            env: self.environment,
            log_level: log_level.to_ascii_lowercase(),
            web_dir: absolute(&self.web_dir),
            ffmpeg: self.ffmpeg.clone(),
            ffprobe: self.ffprobe.clone(),
            ytdlp: self.ytdlp.clone(),
            allow_private_urls: self.allow_private_urls,
            allowed_private_hosts: crate::egress::parse_allow_list(&self.allowed_private_hosts)
                .map_err(|e| {
                    invalid(
                        "SOFATHEK_ALLOWED_PRIVATE_HOSTS",
                        &self.allowed_private_hosts,
                        &e,
                    )
                })?,
            egress_hosts_file: self.egress_hosts_file.clone(),
            min_free_bytes: self.min_free_bytes,
            max_upload_bytes: self.max_upload_bytes,
            max_download_bytes: self.max_download_bytes,
            download_workers: self.download_workers,
            convert_workers: self.convert_workers,
            subtitle_langs,
            x264_preset: self.x264_preset.clone(),
            keep_originals: self.keep_originals,
            job_retention_days: self.job_retention_days,
            scan_interval: self.scan_interval,
            scan_settle: self.scan_settle,
            watch_library: self.watch_library,
            thumbnail_max_size: self.thumbnail_max_size,
            thumbnail_cache_duration: self.thumbnail_cache_duration,
            rate_limit_max_requests: self.rate_limit_max_requests,
            rate_limit_window_ms: self.rate_limit_window_ms,
            admin_password_file: self.admin_password_file.clone(),
            allowed_origins: split_list(&self.allowed_origins),
        })
    }
}

impl Config {
    /// Makes sure the data root exists and is a writable directory.
    ///
    /// A missing data root is created when its parent exists; a broken symlink (an external
    /// drive that is not mounted) or a missing parent is an error, never silently created.
    pub fn prepare_data_dir(&self) -> Result<(), ConfigError> {
        check_data_dir(&self.data_path)
    }

    /// The content policy file (original §3.8).
    pub fn content_policy_path(&self) -> PathBuf {
        self.config_dir.join(".sofathek").join("settings.json")
    }

    /// The effective configuration as JSON (no secrets are held in it: the password file is a path).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

fn parse_bind(raw: &str) -> Result<SocketAddr, ConfigError> {
    let var = "SOFATHEK_BIND";
    let (host, port) = raw
        .rsplit_once(':')
        .ok_or_else(|| invalid(var, raw, "expected host:port, for example 127.0.0.1:3001"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| invalid(var, raw, "the port must be a number from 0 to 65535"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    let ip: std::net::IpAddr = host
        .parse()
        .map_err(|_| invalid(var, raw, "the host must be an IP address (or localhost)"))?;
    Ok(SocketAddr::new(ip, port))
}

fn split_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn check_data_dir(path: &Path) -> Result<(), ConfigError> {
    let var = "SOFATHEK_DATA_PATH";
    let shown = path.display();
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            if std::fs::metadata(path).is_err() {
                return Err(invalid(
                    var,
                    shown,
                    "is a broken symlink — is the external/USB drive mounted?",
                ));
            }
        }
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
            match parent {
                Some(parent) if !parent.is_dir() => {
                    return Err(invalid(
                        var,
                        shown,
                        format!("its parent directory {} does not exist", parent.display()),
                    ));
                }
                _ => {
                    std::fs::create_dir(path)
                        .map_err(|e| invalid(var, &shown, format!("cannot be created: {e}")))?;
                }
            }
        }
        Err(err) => return Err(invalid(var, shown, err)),
    }
    if !path.is_dir() {
        return Err(invalid(var, shown, "is not a directory"));
    }
    tempfile::Builder::new()
        .prefix(".write-check")
        .tempfile_in(path)
        .map(drop)
        .map_err(|e| invalid(var, shown, format!("is not writable: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ConfigArgs,
    }

    fn args(flags: &[&str]) -> ConfigArgs {
        let mut all = vec!["sofathek"];
        all.extend_from_slice(flags);
        Cli::try_parse_from(all).expect("flags parse").args
    }

    #[test]
    fn bind_addresses() {
        let check = |raw: &str, ok: Option<&str>| {
            let got = parse_bind(raw).map(|a| a.to_string()).ok();
            assert_eq!(got.as_deref(), ok, "{raw}");
        };
        check("127.0.0.1:3001", Some("127.0.0.1:3001"));
        check("0.0.0.0:3001", Some("0.0.0.0:3001"));
        check("localhost:8080", Some("127.0.0.1:8080"));
        check("[::1]:3001", Some("[::1]:3001"));
        check("127.0.0.1:99999", None);
        check("127.0.0.1:abc", None);
        check("3001", None);
        check("example.com:80", None);
    }

    #[test]
    fn bad_port_error_names_the_variable() {
        let err = args(&["--bind", "127.0.0.1:70000"]).validate().unwrap_err();
        assert!(err.0.contains("SOFATHEK_BIND"), "{err}");
        assert!(err.0.contains("70000"), "{err}");
    }

    #[test]
    fn defaults_follow_the_runtime_contract() {
        let config = args(&[]).validate().expect("defaults are valid");
        assert_eq!(config.bind.port(), DEFAULT_PORT);
        assert_eq!(config.env, Environment::Development);
        assert_eq!(config.subtitle_langs, ["en", "de", "sv"]);
        assert_eq!(config.download_workers, 2);
        assert_eq!(config.convert_workers, 1);
        assert!(!config.allow_private_urls);
        assert_eq!(config.log_level, "debug");
        let prod = args(&["--env", "production"]).validate().expect("valid");
        assert_eq!(prod.log_level, "info");
    }

    #[test]
    fn invalid_values_are_named() {
        let check = |flags: &[&str], var: &str| {
            let err = args(flags).validate().unwrap_err();
            assert!(err.0.contains(var), "{flags:?}: {err}");
        };
        check(&["--download-workers", "0"], "SOFATHEK_DOWNLOAD_WORKERS");
        check(&["--convert-workers", "100"], "SOFATHEK_CONVERT_WORKERS");
        check(&["--subtitle-langs", "en,d e"], "SOFATHEK_SUBTITLE_LANGS");
        check(&["--log-level", "loud"], "LOG_LEVEL");
        check(
            &["--allowed-private-hosts", "nas.lan"],
            "SOFATHEK_ALLOWED_PRIVATE_HOSTS",
        );
        check(&["--max-upload-bytes", "0"], "SOFATHEK_MAX_UPLOAD_BYTES");
        check(&["--x264-preset", "turbo"], "SOFATHEK_X264_PRESET");
    }

    #[test]
    fn data_dir_checks() {
        let tmp = tempfile::tempdir().expect("tempdir");
        // Missing but parent exists: created.
        let fresh = tmp.path().join("data");
        check_data_dir(&fresh).expect("created");
        assert!(fresh.is_dir());
        // Missing parent: refused.
        let err = check_data_dir(&tmp.path().join("no/such/data")).unwrap_err();
        assert!(
            err.0.contains("SOFATHEK_DATA_PATH") && err.0.contains("parent"),
            "{err}"
        );
        // A file: refused.
        let file = tmp.path().join("file");
        std::fs::write(&file, b"x").expect("write");
        assert!(
            check_data_dir(&file)
                .unwrap_err()
                .0
                .contains("not a directory")
        );
        // Broken symlink: refused with the USB hint.
        let link = tmp.path().join("usb");
        std::os::unix::fs::symlink(tmp.path().join("unmounted"), &link).expect("symlink");
        assert!(check_data_dir(&link).unwrap_err().0.contains("mounted"));
        // Valid symlink: fine.
        let good = tmp.path().join("good");
        std::os::unix::fs::symlink(&fresh, &good).expect("symlink");
        check_data_dir(&good).expect("valid symlink");
    }
}

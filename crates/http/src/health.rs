//! The health report of `GET /health` and `GET /api/health` (original §1.3 plus tool probes).
//!
//! Overall status: `critical` (HTTP 503) when the data directory is missing or not writable,
//! the database does not answer or the disk is full; `warning` (degraded, HTTP 200) when a tool
//! is missing or a check warns; otherwise `healthy`. Host memory pressure only warns (the
//! original flipped to 503 on it).

pub use sofathek_core::library::disk::{DiskSpace, disk_space, free_bytes};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use sofathek_core::config::Config;
use sofathek_core::library::Layout;
use sofathek_db::Db;

/// How long tool versions are cached (spawning three processes per health call is wasteful).
const TOOL_CACHE: Duration = Duration::from_secs(60);

/// Overall health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Healthy,
    Warning,
    Critical,
}

/// One check of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl Check {
    fn new(name: &'static str, pass: Result<String, String>) -> Check {
        match pass {
            Ok(message) => Check {
                name,
                status: "pass",
                message,
                details: None,
            },
            Err(message) => Check {
                name,
                status: "fail",
                message,
                details: None,
            },
        }
    }

    fn warn(name: &'static str, message: String) -> Check {
        Check {
            name,
            status: "warn",
            message,
            details: None,
        }
    }
}

/// A probed external tool.
#[derive(Debug, Clone, Serialize)]
pub struct ToolStatus {
    pub name: &'static str,
    pub path: PathBuf,
    pub available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Probes the tools at most once a minute. Only the very first call waits for a probe; later
/// calls answer from the cache at once and refresh a stale cache in the background, so the
/// healthcheck (3 s budget) never waits for three processes to start.
#[derive(Default)]
pub struct ToolCache {
    cached: Mutex<Option<(Instant, Vec<ToolStatus>)>>,
    refreshing: std::sync::atomic::AtomicBool,
}

impl ToolCache {
    /// Current tool statuses.
    pub async fn get(self: &Arc<Self>, config: &Arc<Config>) -> Vec<ToolStatus> {
        let mut guard = self.cached.lock().await;
        match guard.as_ref() {
            Some((at, tools)) => {
                if at.elapsed() >= TOOL_CACHE
                    && !self
                        .refreshing
                        .swap(true, std::sync::atomic::Ordering::AcqRel)
                {
                    let cache = self.clone();
                    let config = config.clone();
                    tokio::spawn(async move {
                        let tools = probe_all(&config).await;
                        *cache.cached.lock().await = Some((Instant::now(), tools));
                        cache
                            .refreshing
                            .store(false, std::sync::atomic::Ordering::Release);
                    });
                }
                tools.clone()
            }
            None => {
                let tools = probe_all(config).await;
                *guard = Some((Instant::now(), tools.clone()));
                tools
            }
        }
    }

    /// Whether a tool was available at the last probe (probing if never probed).
    pub async fn available(self: &Arc<Self>, config: &Arc<Config>, name: &str) -> bool {
        self.get(config)
            .await
            .iter()
            .any(|t| t.name == name && t.available)
    }
}

async fn probe_all(config: &Config) -> Vec<ToolStatus> {
    let (ffmpeg, ffprobe, ytdlp) = tokio::join!(
        probe_tool("ffmpeg", &config.ffmpeg),
        probe_tool("ffprobe", &config.ffprobe),
        probe_tool("yt-dlp", &config.ytdlp),
    );
    vec![ffmpeg, ffprobe, ytdlp]
}

async fn probe_tool(name: &'static str, path: &Path) -> ToolStatus {
    let tool = match name {
        "ffmpeg" => sofathek_process::Tool::ffmpeg(path),
        "ffprobe" => sofathek_process::Tool::ffprobe(path),
        _ => sofathek_process::Tool::yt_dlp(path),
    };
    match sofathek_process::version(&tool).await {
        Ok(version) => ToolStatus {
            name,
            path: path.to_path_buf(),
            available: true,
            version: Some(version),
            error: None,
        },
        Err(err) => ToolStatus {
            name,
            path: path.to_path_buf(),
            available: false,
            version: None,
            error: Some(err.to_string()),
        },
    }
}

fn dir_status(path: &Path) -> Value {
    let exists = path.is_dir();
    let writable = exists
        && tempfile::Builder::new()
            .prefix(".health-check")
            .tempfile_in(path)
            .is_ok();
    let mut value = json!({ "path": path, "exists": exists, "writable": writable });
    if let Some(disk) = disk_space(path) {
        value["diskSpace"] = json!(disk);
    }
    value
}

fn memory() -> Value {
    let mut total = 0u64;
    let mut available = 0u64;
    if let Ok(text) = std::fs::read_to_string("/proc/meminfo") {
        for line in text.lines() {
            let kib = |l: &str| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0)
                    * 1024
            };
            if line.starts_with("MemTotal:") {
                total = kib(line);
            } else if line.starts_with("MemAvailable:") {
                available = kib(line);
            }
        }
    }
    let used = total.saturating_sub(available);
    let percent = used.saturating_mul(100).checked_div(total).unwrap_or(0);
    json!({ "total": total, "free": available, "used": used, "usagePercent": percent, "processRss": process_rss() })
}

/// Resident set size of this process in bytes.
pub fn process_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse::<u64>().ok())
            })
        })
        .map(|kib| kib * 1024)
        .unwrap_or(0)
}

fn load_average() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| {
            s.split_whitespace()
                .take(3)
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Builds the report; returns the overall status and the JSON body.
pub async fn report(
    config: &Arc<Config>,
    db: &Db,
    layout: &Layout,
    tools: &Arc<ToolCache>,
    started: Instant,
    set_aside: Option<&sofathek_db::SetAside>,
) -> (Status, Value) {
    let began = Instant::now();
    let data = dir_status(&layout.data);
    let staging = dir_status(&layout.staging);
    let data_ok = data["exists"] == json!(true) && data["writable"] == json!(true);
    let disk = disk_space(&layout.data);
    let db_result = db.ping().await;
    let video_count = db
        .read(sofathek_db::videos::count)
        .await
        .map_err(|e| e.to_string());
    let tool_statuses = tools.get(config).await;
    let mem = memory();

    let mut checks = vec![
        Check::new(
            "videos_directory_exists",
            if data["exists"] == json!(true) {
                Ok("data directory exists".into())
            } else {
                Err("data directory is missing".into())
            },
        ),
        Check::new(
            "videos_directory_writable",
            if data_ok {
                Ok("data directory is writable".into())
            } else {
                Err("data directory is not writable".into())
            },
        ),
        Check::new(
            "temp_directory_exists",
            if staging["exists"] == json!(true) {
                Ok("staging directory exists".into())
            } else {
                Err("staging directory is missing".into())
            },
        ),
        Check::new(
            "database",
            db_result
                .as_ref()
                .map(|_| "database answers".to_string())
                .map_err(|e| e.to_string()),
        ),
        Check::new(
            "video_service",
            video_count
                .as_ref()
                .map(|n| format!("{n} videos in the catalogue"))
                .map_err(Clone::clone),
        ),
    ];
    if let Some(aside) = set_aside {
        checks.push(Check::warn(
            "database_recovered",
            format!(
                "the database could not be read ({}) and was moved aside to {} at {}; the catalogue is rebuilt from the library folder",
                aside.problem,
                aside.path.display(),
                aside.at
            ),
        ));
    }
    if let Some(disk) = disk {
        let check = match disk.status {
            "ok" => Check::new(
                "videos_disk_space",
                Ok(format!("{}% used", disk.usage_percent)),
            ),
            "warning" => Check::warn("videos_disk_space", format!("{}% used", disk.usage_percent)),
            _ => Check::new(
                "videos_disk_space",
                Err(format!("{}% used", disk.usage_percent)),
            ),
        };
        checks.push(check);
        if disk.free < config.min_free_bytes {
            checks.push(Check::warn(
                "free_space_for_jobs",
                format!(
                    "{} bytes free, new jobs need {}",
                    disk.free, config.min_free_bytes
                ),
            ));
        }
    }
    for tool in &tool_statuses {
        let name = match tool.name {
            "ffmpeg" => "ffmpeg",
            "ffprobe" => "ffprobe",
            _ => "yt_dlp",
        };
        checks.push(match (&tool.version, &tool.error) {
            (Some(version), _) => Check::new(name, Ok(version.clone())),
            (None, error) => {
                Check::warn(name, error.clone().unwrap_or_else(|| "unavailable".into()))
            }
        });
    }
    let mem_percent = mem["usagePercent"].as_u64().unwrap_or(0);
    checks.push(if mem_percent < 90 {
        Check::new(
            "memory_usage",
            Ok(format!("{mem_percent}% of host memory used")),
        )
    } else {
        Check::warn(
            "memory_usage",
            format!("{mem_percent}% of host memory used"),
        )
    });

    let critical =
        !data_ok || db_result.is_err() || disk.map(|d| d.status == "critical").unwrap_or(false);
    let status = if critical {
        Status::Critical
    } else if checks.iter().any(|c| c.status != "pass") {
        Status::Warning
    } else {
        Status::Healthy
    };
    let took = began.elapsed().as_millis() as u64;
    checks.push(if took < 1000 {
        Check::new("response_time", Ok(format!("{took} ms")))
    } else {
        Check::warn("response_time", format!("{took} ms"))
    });
    let mut services = json!({
        "videoService": match &video_count {
            Ok(n) => json!({ "status": "ok", "videoCount": n }),
            Err(e) => json!({ "status": "error", "error": e }),
        },
        "database": match &db_result {
            Ok(()) => json!({ "status": "ok" }),
            Err(e) => json!({ "status": "error", "error": e.to_string() }),
        },
    });
    if let Some(aside) = set_aside {
        services["database"]["movedAside"] = json!({
            "path": aside.path.display().to_string(),
            "at": aside.at,
            "problem": aside.problem,
        });
    }
    for tool in &tool_statuses {
        services[tool.name] = json!(tool);
    }
    let body = json!({
        "status": status,
        "timestamp": sofathek_db::now(),
        "service": "sofathek-backend",
        "version": env!("CARGO_PKG_VERSION"),
        "environment": config.env.as_str(),
        "uptime": started.elapsed().as_secs_f64(),
        "system": {
            "platform": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
            "memory": mem,
            "cpu": { "loadAverage": load_average() },
        },
        "storage": {
            "videosDirectory": dir_status(&layout.library),
            "tempDirectory": staging,
            "dataDirectory": data,
        },
        "services": services,
        "checks": checks,
    });
    (status, body)
}

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
use tokio::sync::Mutex;

use sofathek_core::config::Config;
use sofathek_core::library::Layout;
use sofathek_db::Db;

/// How long tool versions are cached (spawning three processes per health call is wasteful).
const TOOL_CACHE: Duration = Duration::from_secs(60);

/// Overall health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Healthy,
    Warning,
    Critical,
}

/// One check of the report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Check {
    pub name: &'static str,
    /// `pass`, `warn` or `fail`.
    #[schema(pattern = "^(pass|warn|fail)$")]
    pub status: &'static str,
    pub message: String,
}

impl Check {
    fn new(name: &'static str, pass: Result<String, String>) -> Check {
        match pass {
            Ok(message) => Check {
                name,
                status: "pass",
                message,
            },
            Err(message) => Check {
                name,
                status: "fail",
                message,
            },
        }
    }

    fn warn(name: &'static str, message: String) -> Check {
        Check {
            name,
            status: "warn",
            message,
        }
    }
}

/// A probed external tool.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ToolStatus {
    pub name: &'static str,
    #[schema(value_type = String)]
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

/// The health report (original §1.3 plus tool probes; the OpenAPI document's `HealthReport`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HealthReport {
    pub status: Status,
    pub timestamp: String,
    /// `sofathek-backend`.
    pub service: &'static str,
    pub version: &'static str,
    /// `development`, `staging` or `production`.
    pub environment: &'static str,
    /// Seconds since the server started.
    #[schema(minimum = 0)]
    pub uptime: f64,
    pub system: SystemView,
    pub storage: StorageView,
    pub services: ServicesView,
    pub checks: Vec<Check>,
}

/// The host.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SystemView {
    pub platform: &'static str,
    pub arch: &'static str,
    pub memory: MemoryView,
    pub cpu: CpuView,
}

/// Host memory in bytes (from `/proc/meminfo`) and this process's resident set.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemoryView {
    pub total: u64,
    pub free: u64,
    pub used: u64,
    pub usage_percent: u64,
    pub process_rss: u64,
}

/// The 1, 5 and 15 minute load averages.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CpuView {
    pub load_average: Vec<f64>,
}

/// The directories the server writes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StorageView {
    pub videos_directory: DirStatus,
    pub temp_directory: DirStatus,
    pub data_directory: DirStatus,
}

/// A directory: there, writable, and its file system's space.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirStatus {
    #[schema(value_type = String)]
    pub path: PathBuf,
    pub exists: bool,
    pub writable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_space: Option<DiskSpace>,
}

/// The catalogue, the database and each tool (`ffmpeg`, `ffprobe`, `yt-dlp`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServicesView {
    pub video_service: ServiceState,
    pub database: ServiceState,
    #[serde(flatten)]
    pub tools: std::collections::BTreeMap<&'static str, ToolStatus>,
}

/// `ok`, or `error` with what went wrong.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceState {
    /// `ok` or `error`.
    #[schema(pattern = "^(ok|error)$")]
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The catalogue's size (the video service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_count: Option<u64>,
    /// The database file that could not be read and was moved aside at start-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_aside: Option<MovedAside>,
}

impl ServiceState {
    fn of<T, E: std::fmt::Display>(result: &Result<T, E>) -> ServiceState {
        ServiceState {
            status: if result.is_ok() { "ok" } else { "error" },
            error: result.as_ref().err().map(ToString::to_string),
            video_count: None,
            moved_aside: None,
        }
    }
}

/// Where an unreadable database went, when, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MovedAside {
    pub path: String,
    pub at: String,
    pub problem: String,
}

fn dir_status(path: &Path) -> DirStatus {
    let exists = path.is_dir();
    let writable = exists
        && tempfile::Builder::new()
            .prefix(".health-check")
            .tempfile_in(path)
            .is_ok();
    DirStatus {
        path: path.to_path_buf(),
        exists,
        writable,
        disk_space: disk_space(path),
    }
}

fn memory() -> MemoryView {
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
    MemoryView {
        total,
        free: available,
        used,
        usage_percent: percent,
        process_rss: process_rss(),
    }
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

/// Builds the report; returns the overall status and the report.
pub async fn report(
    config: &Arc<Config>,
    db: &Db,
    layout: &Layout,
    tools: &Arc<ToolCache>,
    started: Instant,
    set_aside: Option<&sofathek_db::SetAside>,
) -> (Status, HealthReport) {
    let began = Instant::now();
    let data = dir_status(&layout.data);
    let staging = dir_status(&layout.staging);
    let data_ok = data.exists && data.writable;
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
            if data.exists {
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
            if staging.exists {
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
    let mem_percent = mem.usage_percent;
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
    let services = ServicesView {
        video_service: ServiceState {
            video_count: video_count.as_ref().ok().copied(),
            ..ServiceState::of(&video_count)
        },
        database: ServiceState {
            moved_aside: set_aside.map(|aside| MovedAside {
                path: aside.path.display().to_string(),
                at: aside.at.clone(),
                problem: aside.problem.clone(),
            }),
            ..ServiceState::of(&db_result)
        },
        tools: tool_statuses.into_iter().map(|t| (t.name, t)).collect(),
    };
    let body = HealthReport {
        status,
        timestamp: sofathek_db::now(),
        service: "sofathek-backend",
        version: env!("CARGO_PKG_VERSION"),
        environment: config.env.as_str(),
        uptime: started.elapsed().as_secs_f64(),
        system: SystemView {
            platform: std::env::consts::OS,
            arch: std::env::consts::ARCH,
            memory: mem,
            cpu: CpuView {
                load_average: load_average(),
            },
        },
        storage: StorageView {
            videos_directory: dir_status(&layout.library),
            temp_directory: staging,
            data_directory: data,
        },
        services,
        checks,
    };
    (status, body)
}

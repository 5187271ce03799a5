//! How full the filesystem holding the data directory is (statvfs): the health report shows
//! it, and ingest refuses new work below `SOFATHEK_MIN_FREE_BYTES`.

use std::path::Path;

use serde::Serialize;

/// Disk figures from statvfs (free counts blocks available to unprivileged users).
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiskSpace {
    pub total: u64,
    pub free: u64,
    pub used: u64,
    pub usage_percent: u64,
    /// `ok`, `warning` or `critical`.
    #[schema(pattern = "^(ok|warning|critical)$")]
    pub status: &'static str,
}

/// Disk space of the filesystem holding `path`.
pub fn disk_space(path: &Path) -> Option<DiskSpace> {
    let st = rustix::fs::statvfs(path).ok()?;
    let frsize = st.f_frsize.max(1);
    let total = st.f_blocks.saturating_mul(frsize);
    let free = st.f_bavail.saturating_mul(frsize);
    let used = total.saturating_sub(st.f_bfree.saturating_mul(frsize));
    let usage_percent = (used.saturating_mul(100) + total / 2)
        .checked_div(total)
        .unwrap_or(0);
    let status = match usage_percent {
        p if p >= 95 => "critical",
        p if p >= 90 => "warning",
        _ => "ok",
    };
    Some(DiskSpace {
        total,
        free,
        used,
        usage_percent,
        status,
    })
}

/// Free bytes on the filesystem holding `path` (0 when unknown).
pub fn free_bytes(path: &Path) -> u64 {
    disk_space(path).map(|d| d.free).unwrap_or(0)
}

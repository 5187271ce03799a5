//! Prometheus metrics: request durations, bytes streamed, job outcomes (text exposition format).
//!
//! A dozen counters and one histogram family do not need a metrics framework: this module keeps
//! them in atomics and a small map and renders `GET /metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the request-duration histogram, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 30.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Request histograms of one route: by method, then by status.
type ByMethod = BTreeMap<String, BTreeMap<u16, Histogram>>;

/// The process's metrics.
#[derive(Default)]
pub struct Metrics {
    /// Keyed by matched route, then method, then status: nested so that recording a request
    /// looks entries up by `&str` and allocates only the first time a key is seen.
    requests: Mutex<BTreeMap<String, ByMethod>>,
    /// Bytes of media, thumbnails and downloads sent.
    pub bytes_streamed: std::sync::Arc<AtomicU64>,
    /// Keyed by (job kind, outcome).
    jobs: Mutex<BTreeMap<(String, String), Histogram>>,
    /// Library scans run, videos they adopted in place, files they queued for conversion.
    scans: AtomicU64,
    scan_adopted: AtomicU64,
    scan_queued: AtomicU64,
    /// Connections of downloads the egress guard refused.
    egress_refused: AtomicU64,
    /// Source checks that listed their source, and those that failed.
    source_checks: AtomicU64,
    source_check_failures: AtomicU64,
    /// New entries source checks took in: queued as downloads, held for approval, skipped.
    source_queued: AtomicU64,
    source_pending: AtomicU64,
    source_skipped: AtomicU64,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Records one finished request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let mut map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        let by_method = slot(&mut map, route);
        observe(slot(by_method, method).entry(status).or_default(), took);
    }

    /// Records one finished job.
    pub fn observe_job(&self, kind: &str, outcome: &str, took: Duration) {
        let mut map = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        observe(
            map.entry((kind.to_owned(), outcome.to_owned()))
                .or_default(),
            took,
        );
    }

    /// Records one library scan.
    pub fn count_scan(&self, adopted: usize, queued: usize) {
        self.scans.fetch_add(1, Ordering::Relaxed);
        self.scan_adopted
            .fetch_add(adopted as u64, Ordering::Relaxed);
        self.scan_queued.fetch_add(queued as u64, Ordering::Relaxed);
    }

    /// Records a connection the egress guard refused.
    pub fn count_egress_refused(&self) {
        self.egress_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Records one source check: whether it listed the source, and what it did with new entries.
    pub fn count_source_check(&self, ok: bool, queued: usize, pending: usize, skipped: usize) {
        let counter = if ok {
            &self.source_checks
        } else {
            &self.source_check_failures
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.source_queued
            .fetch_add(queued as u64, Ordering::Relaxed);
        self.source_pending
            .fetch_add(pending as u64, Ordering::Relaxed);
        self.source_skipped
            .fetch_add(skipped as u64, Ordering::Relaxed);
    }

    /// Renders every metric in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP sofathek_http_request_duration_seconds Time to produce a response.\n");
        out.push_str("# TYPE sofathek_http_request_duration_seconds histogram\n");
        {
            let map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
            for (route, by_method) in map.iter() {
                for (method, by_status) in by_method {
                    for (status, h) in by_status {
                        let labels = format!(
                            "method=\"{}\",route=\"{}\",status=\"{status}\"",
                            escape(method),
                            escape(route)
                        );
                        render_histogram(
                            &mut out,
                            "sofathek_http_request_duration_seconds",
                            &labels,
                            h,
                        );
                    }
                }
            }
        }
        out.push_str(
            "# HELP sofathek_job_duration_seconds Time from start to end of an ingest job.\n",
        );
        out.push_str("# TYPE sofathek_job_duration_seconds histogram\n");
        {
            let map = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
            for ((kind, outcome), h) in map.iter() {
                let labels = format!("kind=\"{}\",outcome=\"{}\"", escape(kind), escape(outcome));
                render_histogram(&mut out, "sofathek_job_duration_seconds", &labels, h);
            }
        }
        out.push_str(
            "# HELP sofathek_bytes_streamed_total Bytes of library files sent to clients.\n",
        );
        out.push_str("# TYPE sofathek_bytes_streamed_total counter\n");
        let _ = writeln!(
            out,
            "sofathek_bytes_streamed_total {}",
            self.bytes_streamed.load(Ordering::Relaxed)
        );
        for (name, help, value) in [
            (
                "sofathek_library_scans_total",
                "Library scans run.",
                &self.scans,
            ),
            (
                "sofathek_library_scan_adopted_total",
                "Videos found in the library folder and catalogued in place.",
                &self.scan_adopted,
            ),
            (
                "sofathek_library_scan_queued_total",
                "Files found in the library folder and queued for conversion.",
                &self.scan_queued,
            ),
            (
                "sofathek_egress_refused_total",
                "Connections of downloads refused by the egress guard (private addresses, limits).",
                &self.egress_refused,
            ),
            (
                "sofathek_source_checks_total",
                "Source checks (channels, playlists, feeds) that listed their source.",
                &self.source_checks,
            ),
            (
                "sofathek_source_check_failures_total",
                "Source checks that failed (the source backs off).",
                &self.source_check_failures,
            ),
            (
                "sofathek_source_entries_queued_total",
                "New source entries queued as downloads.",
                &self.source_queued,
            ),
            (
                "sofathek_source_entries_pending_total",
                "New source entries held for a parent's approval.",
                &self.source_pending,
            ),
            (
                "sofathek_source_entries_skipped_total",
                "New source entries not taken (before the start point, filtered, too long).",
                &self.source_skipped,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        out
    }
}

/// The value under `key`, inserted (and the key allocated) only when missing.
fn slot<'a, V: Default>(map: &'a mut BTreeMap<String, V>, key: &str) -> &'a mut V {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), V::default());
    }
    map.get_mut(key).expect("inserted above")
}

fn observe(h: &mut Histogram, took: Duration) {
    let secs = took.as_secs_f64();
    for (i, bound) in BUCKETS.iter().enumerate() {
        if secs <= *bound {
            h.counts[i] += 1;
        }
    }
    h.count += 1;
    h.sum += secs;
}

fn render_histogram(out: &mut String, name: &str, labels: &str, h: &Histogram) {
    for (i, bound) in BUCKETS.iter().enumerate() {
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels},le=\"{bound}\"}} {}",
            h.counts[i]
        );
    }
    let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
    let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
    let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_histograms_and_counters() {
        let m = Metrics::new();
        m.observe_request("GET", "/api/videos", 200, Duration::from_millis(3));
        m.observe_request("GET", "/api/videos", 200, Duration::from_millis(300));
        m.observe_job("url", "completed", Duration::from_secs(2));
        m.bytes_streamed.fetch_add(42, Ordering::Relaxed);
        let text = m.render();
        assert!(text.contains(
            "sofathek_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/videos\",status=\"200\",le=\"0.005\"} 1"
        ), "{text}");
        assert!(text.contains(
            "sofathek_http_request_duration_seconds_count{method=\"GET\",route=\"/api/videos\",status=\"200\"} 2"
        ));
        assert!(
            text.contains(
                "sofathek_job_duration_seconds_count{kind=\"url\",outcome=\"completed\"} 1"
            )
        );
        assert!(text.contains("sofathek_bytes_streamed_total 42"));
    }
}

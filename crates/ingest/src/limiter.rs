//! The per-client rate limit of URL submissions (`RATE_LIMIT_MAX_REQUESTS` per
//! `RATE_LIMIT_WINDOW_MS`, fixed window from the first accepted request).
//!
//! Unlike the original (defect 5), only accepted requests count: [`RateLimiter::check`] asks
//! whether a request may proceed and [`RateLimiter::record`] counts it once it was accepted.
//! A refusal carries the seconds to wait, sent as `Retry-After`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Fixed-window counters per client address.
#[derive(Debug)]
pub struct RateLimiter {
    max: u32,
    window: Duration,
    windows: Mutex<HashMap<IpAddr, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    accepted: u32,
}

impl RateLimiter {
    /// `max` accepted requests per `window` and client; `max == 0` disables the limit.
    pub fn new(max: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            max,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok` when `client` may submit now, else the whole seconds until its window ends.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        self.check_at(client, Instant::now())
    }

    /// Counts an accepted request of `client`.
    pub fn record(&self, client: IpAddr) {
        self.record_at(client, Instant::now());
    }

    fn check_at(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        if self.max == 0 {
            return Ok(());
        }
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        windows.retain(|_, w| now.duration_since(w.started) < self.window);
        match windows.get(&client) {
            Some(w) if w.accepted >= self.max => {
                let left = self.window.saturating_sub(now.duration_since(w.started));
                Err(left.as_secs() + u64::from(left.subsec_nanos() > 0))
            }
            _ => Ok(()),
        }
    }

    fn record_at(&self, client: IpAddr, now: Instant) {
        if self.max == 0 {
            return;
        }
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let window = windows.entry(client).or_insert(Window {
            started: now,
            accepted: 0,
        });
        if now.duration_since(window.started) >= self.window {
            *window = Window {
                started: now,
                accepted: 0,
            };
        }
        window.accepted += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_recorded_requests_per_client() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let t0 = Instant::now();
        // Checks alone (refused requests) never use up the budget.
        for _ in 0..10 {
            assert_eq!(limiter.check_at(a, t0), Ok(()));
        }
        limiter.record_at(a, t0);
        limiter.record_at(a, t0 + Duration::from_secs(1));
        assert_eq!(limiter.check_at(a, t0 + Duration::from_secs(10)), Err(50));
        assert_eq!(
            limiter.check_at(a, t0 + Duration::from_millis(59_500)),
            Err(1)
        );
        assert_eq!(limiter.check_at(b, t0 + Duration::from_secs(10)), Ok(()));
        // A new window after the old one ended.
        assert_eq!(limiter.check_at(a, t0 + Duration::from_secs(60)), Ok(()));
        limiter.record_at(a, t0 + Duration::from_secs(61));
        assert_eq!(limiter.check_at(a, t0 + Duration::from_secs(62)), Ok(()));
    }

    #[test]
    fn zero_disables() {
        let limiter = RateLimiter::new(0, Duration::from_secs(60));
        let a: IpAddr = [127, 0, 0, 1].into();
        for _ in 0..100 {
            limiter.record(a);
            assert_eq!(limiter.check(a), Ok(()));
        }
    }
}

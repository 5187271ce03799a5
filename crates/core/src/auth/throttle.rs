//! The sign-in throttle: failed parent sign-ins are counted per client address and in total
//! over a sliding window; past the limit every attempt (even with the right password) is
//! refused until the window frees a slot, and each failure answers a little later than the
//! previous one.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a failure counts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures from one address within the window before it is locked out.
pub const PER_CLIENT: usize = 5;
/// Failures from all addresses within the window before every sign-in is locked out.
pub const GLOBAL: usize = 50;
/// Extra delay per earlier failure of the same address.
pub const DELAY_STEP: Duration = Duration::from_millis(250);
/// Longest delay of a failed attempt.
pub const MAX_DELAY: Duration = Duration::from_secs(2);
/// Addresses remembered at most (the oldest are forgotten first).
const MAX_CLIENTS: usize = 10_000;

/// Failure counts; cheap to share behind an `Arc`.
#[derive(Debug, Default)]
pub struct Throttle {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    clients: HashMap<IpAddr, VecDeque<Instant>>,
    all: VecDeque<Instant>,
}

fn expire(failures: &mut VecDeque<Instant>, now: Instant) {
    while failures
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
    {
        failures.pop_front();
    }
}

/// When the oldest of `failures` stops counting.
fn retry_after(failures: &VecDeque<Instant>, now: Instant) -> Duration {
    failures
        .front()
        .map(|t| WINDOW.saturating_sub(now.saturating_duration_since(*t)))
        .unwrap_or_default()
        .max(Duration::from_secs(1))
}

impl Throttle {
    /// `Err(retry_after)` when `client` may not try now.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        expire(&mut state.all, now);
        if state.all.len() >= GLOBAL {
            return Err(retry_after(&state.all, now));
        }
        if let Some(failures) = state.clients.get_mut(&client) {
            expire(failures, now);
            if failures.len() >= PER_CLIENT {
                return Err(retry_after(failures, now));
            }
        }
        Ok(())
    }

    /// Counts a failure; returns how long to wait before answering it.
    pub fn failed(&self, client: IpAddr, now: Instant) -> Duration {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        expire(&mut state.all, now);
        state.all.push_back(now);
        if state.clients.len() >= MAX_CLIENTS && !state.clients.contains_key(&client) {
            state.clients.retain(|_, failures| {
                expire(failures, now);
                !failures.is_empty()
            });
            if state.clients.len() >= MAX_CLIENTS {
                state.clients.clear();
            }
        }
        let failures = state.clients.entry(client).or_default();
        expire(failures, now);
        failures.push_back(now);
        let earlier = u32::try_from(failures.len() - 1).unwrap_or(u32::MAX);
        DELAY_STEP.saturating_mul(earlier).min(MAX_DELAY)
    }

    /// Forgets the failures of an address after a successful sign-in.
    pub fn succeeded(&self, client: IpAddr) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.clients.remove(&client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn locks_an_address_after_the_limit_and_grows_the_delay() {
        let throttle = Throttle::default();
        let start = Instant::now();
        let mut delays = Vec::new();
        for _ in 0..PER_CLIENT {
            assert!(throttle.check(A, start).is_ok());
            delays.push(throttle.failed(A, start));
        }
        assert_eq!(delays[0], Duration::ZERO);
        assert!(delays.windows(2).all(|w| w[0] < w[1]), "{delays:?}");
        let wait = throttle.check(A, start).expect_err("locked");
        assert_eq!(wait, WINDOW);
        // Another address is not affected.
        assert!(throttle.check(B, start).is_ok());
        // A success elsewhere does not unlock A; the window does.
        throttle.succeeded(B);
        assert!(
            throttle
                .check(A, start + WINDOW - Duration::from_secs(1))
                .is_err()
        );
        assert!(throttle.check(A, start + WINDOW).is_ok());
    }

    #[test]
    fn success_forgets_an_address() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for _ in 0..PER_CLIENT - 1 {
            throttle.failed(A, now);
        }
        throttle.succeeded(A);
        assert_eq!(throttle.failed(A, now), Duration::ZERO);
    }

    #[test]
    fn global_limit_locks_everyone() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for i in 0..GLOBAL {
            let ip = IpAddr::V4(Ipv4Addr::new(10, 0, (i / 250) as u8, (i % 250) as u8));
            throttle.failed(ip, now);
        }
        assert!(throttle.check(B, now).is_err());
        assert!(throttle.check(B, now + WINDOW).is_ok());
    }
}

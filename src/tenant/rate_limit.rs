//! Fixed-window request counting per API key: at most `limit` requests in each wall-clock
//! minute, a request counting once per actor it touches. Pure; the Worker keeps one
//! [`RateLimiter`] per isolate.

use crate::model::EpochMs;
use std::collections::HashMap;

/// Length of a counting window.
pub const WINDOW_MS: EpochMs = 60_000;
/// Requests per minute for keys without a `rate_limit` of their own, unless the
/// `DEFAULT_RATE_LIMIT` variable says otherwise (0 turns the default off).
pub const DEFAULT_RATE_LIMIT: u32 = 600_000;
/// Windows kept at most; older ones are dropped first (they would restart at zero anyway).
const MAX_TRACKED: usize = 50_000;

/// The answer for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Requests allowed per window.
    pub limit: u32,
    /// Requests left in this window after this one.
    pub remaining: u32,
    /// When the window ends and the count starts over.
    pub reset_at: EpochMs,
}

impl Verdict {
    /// Whole seconds until the window resets (at least 1), for `Retry-After`.
    pub fn retry_after_secs(&self, now: EpochMs) -> u64 {
        ((self.reset_at - now).max(1) as u64).div_ceil(1000)
    }
}

/// One key's count in one window (also how [`auth_throttle`](super::auth_throttle) counts).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    /// When the window began.
    pub(crate) start: EpochMs,
    /// What was counted in it so far.
    pub(crate) count: u32,
}

/// Counts requests per key in aligned one-minute windows.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: HashMap<String, Window>,
}

impl RateLimiter {
    /// Counts `cost` requests for `key` against `limit` per minute: a request weighs as much
    /// as the actors it touches. Allowed only when the whole cost fits in the window; a refused
    /// cost is not counted, so a client that backs off regains its full budget at the next
    /// window.
    pub fn admit(&mut self, key: &str, limit: u32, cost: u32, now: EpochMs) -> Verdict {
        let start = now - now.rem_euclid(WINDOW_MS);
        if self.windows.len() >= MAX_TRACKED && !self.windows.contains_key(key) {
            self.windows.retain(|_, w| w.start == start);
        }
        let window = self.windows.entry(key.to_owned()).or_insert(Window { start, count: 0 });
        if window.start != start {
            *window = Window { start, count: 0 };
        }
        let allowed = window.count.saturating_add(cost) <= limit;
        if allowed {
            window.count += cost;
        }
        // Saturating: a key whose limit was lowered may have counted more than its new limit.
        Verdict { allowed, limit, remaining: limit.saturating_sub(window.count), reset_at: start + WINDOW_MS }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_up_to_the_limit_then_refuses_until_the_window_ends() {
        let mut limiter = RateLimiter::default();
        let t0 = 10 * WINDOW_MS + 5_000;
        for i in 0..3 {
            let v = limiter.admit("k", 3, 1, t0 + i);
            assert!(v.allowed);
            assert_eq!(v.remaining, 2 - i as u32);
        }
        let refused = limiter.admit("k", 3, 1, t0 + 10);
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.reset_at, 11 * WINDOW_MS);
        assert_eq!(refused.retry_after_secs(t0 + 10), 55);
        assert!(limiter.admit("k", 3, 1, 11 * WINDOW_MS).allowed);
    }

    #[test]
    fn keys_are_counted_apart() {
        let mut limiter = RateLimiter::default();
        assert!(limiter.admit("a", 1, 1, 0).allowed);
        assert!(!limiter.admit("a", 1, 1, 1).allowed);
        assert!(limiter.admit("b", 1, 1, 2).allowed);
    }

    /// A request that fans out counts once per actor; one whose cost does not fit what is left
    /// is refused whole and counts nothing.
    #[test]
    fn a_request_weighs_as_many_as_its_actors() {
        let mut limiter = RateLimiter::default();
        assert_eq!(limiter.admit("k", 10, 1, 0).remaining, 9);
        assert_eq!(limiter.admit("k", 10, 6, 1).remaining, 3);
        let refused = limiter.admit("k", 10, 4, 2);
        assert_eq!((refused.allowed, refused.remaining), (false, 3));
        assert_eq!(limiter.admit("k", 10, 3, 3).remaining, 0);
    }

    #[test]
    fn retry_after_rounds_up_to_a_whole_second() {
        let v = Verdict { allowed: false, limit: 1, remaining: 0, reset_at: 60_000 };
        assert_eq!(v.retry_after_secs(59_999), 1);
        assert_eq!(v.retry_after_secs(58_500), 2);
        assert_eq!(v.retry_after_secs(60_000), 1);
    }
}

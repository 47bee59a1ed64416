//! Failed authentications, counted per client address and per tenant in fixed one-minute
//! windows: past a limit, the next attempt is refused (429) before any key is checked, so
//! guessing keys costs the guesser time and no actor any work. Pure; the Worker keeps one
//! [`AuthThrottle`] per isolate, like the per-key [`RateLimiter`](super::rate_limit::RateLimiter).

use super::rate_limit::{Verdict, Window, WINDOW_MS};
use crate::model::EpochMs;
use std::collections::HashMap;

/// Failed authentications a client address may make per window, unless
/// `AUTH_FAILURES_PER_ADDRESS` says otherwise.
pub const DEFAULT_PER_ADDRESS: u32 = 20;
/// Failed authentications per tenant (named by a key's tenant part) per window, unless
/// `AUTH_FAILURES_PER_TENANT` says otherwise.
pub const DEFAULT_PER_TENANT: u32 = 100;
/// Windows kept at most: past this, finished windows are dropped, then (under a flood of
/// new addresses) every count starts over, so memory stays bounded.
const MAX_TRACKED: usize = 10_000;

/// How many failures each kind of subject may have per window; 0 means no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureLimits {
    /// Per client address.
    pub per_address: u32,
    /// Per tenant.
    pub per_tenant: u32,
}

impl Default for FailureLimits {
    fn default() -> Self {
        FailureLimits { per_address: DEFAULT_PER_ADDRESS, per_tenant: DEFAULT_PER_TENANT }
    }
}

/// Whom a failed authentication counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject<'a> {
    /// The client's address (an IPv6 client by its /64, which one client usually holds whole,
    /// see `network_of`).
    Address(&'a str),
    /// The tenant a key names.
    Tenant(&'a str),
}

impl Subject<'_> {
    fn key(self) -> String {
        match self {
            Subject::Address(address) => "a:".to_owned() + network_of(address),
            Subject::Tenant(tenant) => "t:".to_owned() + tenant,
        }
    }

    fn limit(self, limits: &FailureLimits) -> u32 {
        match self {
            Subject::Address(_) => limits.per_address,
            Subject::Tenant(_) => limits.per_tenant,
        }
    }
}

/// The part of an address one client controls: an IPv6 address up to its fourth colon — its
/// /64 as usually written (when a `::` falls within the first four groups, the whole address:
/// never a wider net than the client's own) — anything else as it is. Cut by hand rather than
/// parsed with std's address parser, which costs kilobytes of wasm.
fn network_of(address: &str) -> &str {
    address.match_indices(':').nth(3).map_or(address, |(at, _)| &address[..at])
}

/// Failures per subject in the current window.
#[derive(Debug, Default)]
pub struct AuthThrottle {
    /// Failures in the current window, by subject key.
    windows: HashMap<String, Window>,
}

impl AuthThrottle {
    /// The refusal, if any of `subjects` has used up its failures in the current window (its
    /// limit, and when the window ends); `None` when the attempt may go ahead.
    pub fn refusal(&self, subjects: &[Subject], limits: &FailureLimits, now: EpochMs) -> Option<Verdict> {
        let start = window_start(now);
        subjects.iter().find_map(|subject| {
            let limit = subject.limit(limits);
            let window = self.windows.get(&subject.key())?;
            (limit > 0 && window.start == start && window.count >= limit).then_some(Verdict {
                allowed: false,
                limit,
                remaining: 0,
                reset_at: start + WINDOW_MS,
            })
        })
    }

    /// Counts one failed authentication against each of `subjects`.
    pub fn failed(&mut self, subjects: &[Subject], now: EpochMs) {
        let start = window_start(now);
        for subject in subjects {
            let key = subject.key();
            if self.windows.len() >= MAX_TRACKED && !self.windows.contains_key(&key) {
                self.windows.retain(|_, w| w.start == start);
                if self.windows.len() >= MAX_TRACKED {
                    self.windows.clear();
                }
            }
            let window = self.windows.entry(key).or_insert(Window { start, count: 0 });
            if window.start != start {
                *window = Window { start, count: 0 };
            }
            window.count += 1;
        }
    }
}

fn window_start(now: EpochMs) -> EpochMs {
    now - now.rem_euclid(WINDOW_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: FailureLimits = FailureLimits { per_address: 2, per_tenant: 3 };

    #[test]
    fn an_address_is_refused_after_its_failures_until_the_window_ends() {
        let mut throttle = AuthThrottle::default();
        let t0 = 7 * WINDOW_MS + 1_000;
        let me = [Subject::Address("203.0.113.9")];
        for i in 0..2 {
            assert_eq!(throttle.refusal(&me, &LIMITS, t0 + i), None);
            throttle.failed(&me, t0 + i);
        }
        assert_eq!(throttle.refusal(&me, &LIMITS, t0 + 5).map(|v| (v.limit, v.reset_at)), Some((2, 8 * WINDOW_MS)));
        assert_eq!(throttle.refusal(&[Subject::Address("203.0.113.10")], &LIMITS, t0 + 5), None);
        assert_eq!(throttle.refusal(&me, &LIMITS, 8 * WINDOW_MS), None);
    }

    #[test]
    fn a_tenant_is_refused_whatever_address_fails_for_it() {
        let mut throttle = AuthThrottle::default();
        for address in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
            throttle.failed(&[Subject::Address(address), Subject::Tenant("t1")], 10);
        }
        let fresh = [Subject::Address("192.0.2.4"), Subject::Tenant("t1")];
        assert_eq!(throttle.refusal(&fresh, &LIMITS, 20).map(|v| (v.limit, v.reset_at)), Some((3, WINDOW_MS)));
        assert_eq!(throttle.refusal(&[Subject::Address("192.0.2.4"), Subject::Tenant("t2")], &LIMITS, 20), None);
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_bit_prefix() {
        let mut throttle = AuthThrottle::default();
        throttle.failed(&[Subject::Address("2001:db8:1:2::1")], 0);
        throttle.failed(&[Subject::Address("2001:db8:1:2:ffff::9")], 0);
        assert_eq!(network_of("2001:db8::1"), "2001:db8::1");
        assert_eq!(network_of("192.0.2.1"), "192.0.2.1");
        assert!(throttle.refusal(&[Subject::Address("2001:db8:1:2:abcd::7")], &LIMITS, 1).is_some());
        assert!(throttle.refusal(&[Subject::Address("2001:db8:1:3::1")], &LIMITS, 1).is_none());
    }

    #[test]
    fn a_zero_limit_never_refuses() {
        let mut throttle = AuthThrottle::default();
        let me = [Subject::Address("local")];
        (0..50).for_each(|i| throttle.failed(&me, i));
        let off = FailureLimits { per_address: 0, per_tenant: 0 };
        assert_eq!(throttle.refusal(&me, &off, 60), None);
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_addresses() {
        let mut throttle = AuthThrottle::default();
        for i in 0..(MAX_TRACKED + 10) {
            throttle.failed(&[Subject::Address(&format!("10.0.{}.{}", i / 256, i % 256))], 0);
        }
        assert!(throttle.windows.len() <= MAX_TRACKED);
    }
}

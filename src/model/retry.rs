//! The retry delay curve: exponential with a cap, plus up to 10 % jitter.

use super::time::{EpochMs, SECOND_MS};
use serde::{Deserialize, Serialize};

/// Default first retry delay (Spooled's curve: 1, 2, 4 … s).
pub const DEFAULT_BACKOFF_BASE_MS: EpochMs = SECOND_MS;
/// Default longest retry delay before jitter.
pub const DEFAULT_BACKOFF_CAP_MS: EpochMs = 60 * SECOND_MS;

/// How long a failed job waits before it may run again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Delay after the first failure.
    pub base_ms: EpochMs,
    /// Upper bound of the exponential part.
    pub cap_ms: EpochMs,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { base_ms: DEFAULT_BACKOFF_BASE_MS, cap_ms: DEFAULT_BACKOFF_CAP_MS }
    }
}

impl RetryPolicy {
    /// The delay before the next attempt: `min(base * 2^failures_before, cap)` plus
    /// `jitter` (a fraction in `[0, 1)`) of 10 % of that.
    ///
    /// `failures_before` is the job's `retry_count` before this failure is counted.
    pub fn delay_ms(&self, failures_before: u32, jitter: f64) -> EpochMs {
        let doubling = 1_i64.checked_shl(failures_before.min(40)).unwrap_or(i64::MAX);
        let exponential = self.base_ms.saturating_mul(doubling).min(self.cap_ms);
        let jitter = jitter.clamp(0.0, 1.0);
        exponential + (exponential as f64 * 0.1 * jitter) as EpochMs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_spooled_curve_without_jitter() {
        let p = RetryPolicy::default();
        let delays: Vec<_> = (0..9).map(|n| p.delay_ms(n, 0.0) / 1000).collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn jitter_adds_at_most_ten_percent() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay_ms(3, 0.999_999), 8_799);
        assert_eq!(p.delay_ms(100, 0.5), 63_000);
    }

    #[test]
    fn custom_base_and_cap_apply() {
        let p = RetryPolicy { base_ms: 100, cap_ms: 250 };
        assert_eq!(p.delay_ms(0, 0.0), 100);
        assert_eq!(p.delay_ms(1, 0.0), 200);
        assert_eq!(p.delay_ms(2, 0.0), 250);
    }
}

//! When a failed delivery is tried again: exponential backoff with jitter, for more than a day.
//!
//! With the defaults the waits after attempts 1, 2, 3… are 30 s, 1, 2, 4, 8, 16, 32, 64, 128,
//! 256 minutes, then 6 hours (the cap) three times: 14 attempts spread over about 26.5 hours,
//! each wait stretched by up to 20 % of jitter so receivers recovering from an outage are not
//! hit by every sender at once. After the last attempt the delivery has failed for good.

use crate::model::EpochMs;

/// The backoff curve of one deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryRetry {
    /// The wait after the first failed attempt.
    pub base_ms: EpochMs,
    /// The longest wait.
    pub cap_ms: EpochMs,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
}

impl Default for DeliveryRetry {
    fn default() -> Self {
        DeliveryRetry { base_ms: 30_000, cap_ms: 6 * 3_600_000, max_attempts: 14 }
    }
}

impl DeliveryRetry {
    /// When to try again after failed attempt number `attempt` (1-based) at `now`, with
    /// `jitter` in 0..=1; `None` when that was the last attempt.
    pub fn next_attempt(&self, attempt: u32, now: EpochMs, jitter: f64) -> Option<EpochMs> {
        if attempt >= self.max_attempts {
            return None;
        }
        let wait = self.base_ms.saturating_mul(1 << (attempt - 1).min(40)).min(self.cap_ms);
        Some(now + wait + (wait as f64 * 0.2 * jitter.clamp(0.0, 1.0)) as EpochMs)
    }

    /// The longest time from the first attempt to the last (every jitter at its maximum).
    pub fn span_ms(&self) -> EpochMs {
        (1..self.max_attempts).map(|n| self.next_attempt(n, 0, 1.0).unwrap_or(0)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_curve_doubles_to_its_cap_and_spans_more_than_a_day() {
        let retry = DeliveryRetry::default();
        let waits: Vec<_> = (1..retry.max_attempts).map(|n| retry.next_attempt(n, 0, 0.0).unwrap()).collect();
        assert_eq!(waits[..3], [30_000, 60_000, 120_000]);
        assert_eq!(*waits.last().unwrap(), 6 * 3_600_000);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]));
        let fastest: EpochMs = waits.iter().sum();
        assert!(fastest > 24 * 3_600_000, "retries end after {fastest} ms");
        assert!(retry.span_ms() < 33 * 3_600_000);
        assert_eq!(retry.next_attempt(retry.max_attempts, 0, 0.0), None);
    }

    #[test]
    fn jitter_stretches_a_wait_by_at_most_a_fifth() {
        let retry = DeliveryRetry::default();
        assert_eq!(retry.next_attempt(1, 1_000, 1.0), Some(1_000 + 36_000));
        assert_eq!(retry.next_attempt(1, 1_000, 7.0), Some(1_000 + 36_000));
    }
}

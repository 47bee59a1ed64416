//! A queue's claim rate limit: a token bucket refilled at `rate_limit` jobs per second and
//! holding at most one second's worth. Kept in the queue actor's memory (a restarted actor
//! starts with a full bucket).

use crate::model::time::SECOND_MS;
use crate::model::EpochMs;

/// Tokens for claiming jobs; one token per job handed out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClaimThrottle {
    tokens: f64,
    refilled_at: Option<EpochMs>,
}

impl ClaimThrottle {
    /// How many jobs may be claimed at `now` under `rate` jobs per second.
    pub fn available(&mut self, rate: u32, now: EpochMs) -> u32 {
        let rate = f64::from(rate);
        self.tokens = match self.refilled_at {
            None => rate,
            Some(at) => (self.tokens + (now - at).max(0) as f64 * rate / SECOND_MS as f64).min(rate),
        };
        self.refilled_at = Some(now);
        self.tokens.floor() as u32
    }

    /// Spends one token per claimed job.
    pub fn spend(&mut self, jobs: usize) {
        self.tokens = (self.tokens - jobs as f64).max(0.0);
    }

    /// How long until the next token, in milliseconds, at `rate` jobs per second.
    pub fn wait_ms(&self, rate: u32) -> EpochMs {
        let missing = (1.0 - self.tokens.fract()).max(0.0);
        ((missing * SECOND_MS as f64) / f64::from(rate.max(1))).ceil() as EpochMs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_allows_one_second_of_jobs_then_refills() {
        let mut t = ClaimThrottle::default();
        assert_eq!(t.available(10, 0), 10);
        t.spend(10);
        assert_eq!(t.available(10, 0), 0);
        assert_eq!(t.wait_ms(10), 100);
        assert_eq!(t.available(10, 250), 2);
        assert_eq!(t.available(10, 10_000), 10, "never more than one second's worth");
    }

    #[test]
    fn unused_tokens_are_not_spent() {
        let mut t = ClaimThrottle::default();
        assert_eq!(t.available(5, 0), 5);
        t.spend(2);
        assert_eq!(t.available(5, 0), 3);
    }
}

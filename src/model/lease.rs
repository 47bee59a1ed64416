//! Lease fencing and the outcome of a failed attempt: the pure decisions behind complete,
//! fail, heartbeat and lease expiry.

use super::error::ApiError;
use super::status::JobStatus;
use super::time::EpochMs;
use serde::{Deserialize, Serialize};

/// What a worker presents to prove it holds a job's lease.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fence {
    /// The lease id returned by claim; when present it must match.
    pub lease_id: Option<String>,
    /// The worker that claimed the job; checked only when no `lease_id` is given (legacy
    /// Spooled clients fence by worker id alone).
    pub worker_id: Option<String>,
}

/// The lease-related columns of a stored job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseState {
    /// Current status.
    pub status: JobStatus,
    /// The current (or, once completed, the last) lease id.
    pub lease_id: Option<String>,
    /// The worker holding the lease.
    pub worker_id: Option<String>,
    /// When the lease ends; the lease is live while `now < lease_expires_at`.
    pub lease_expires_at: Option<EpochMs>,
}

/// What a fenced operation may do with the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FenceCheck {
    /// The caller holds the live lease.
    Live,
    /// The job was already completed under this very lease: a retried complete succeeds
    /// without changing anything.
    AlreadyCompleted,
}

impl Fence {
    /// What a worker request presents: a fence needs a `lease_id` or a `worker_id`, and one
    /// with neither is a 400 that names them, refused before any actor is reached.
    pub fn presented(lease_id: Option<String>, worker_id: Option<String>) -> Result<Fence, ApiError> {
        let fence = Fence { lease_id, worker_id };
        fence.require_present()?;
        Ok(fence)
    }

    fn require_present(&self) -> Result<(), ApiError> {
        if self.lease_id.is_none() && self.worker_id.is_none() {
            return Err(ApiError::validation("lease_id", "lease_id or worker_id is required"));
        }
        Ok(())
    }

    /// Whether a queue admits this fence at all, before any job is looked up: it needs a
    /// `lease_id` or a `worker_id`, and a queue with `require_lease_id` refuses one fenced by
    /// `worker_id` alone (anyone who can read the queue sees which worker holds a job, but
    /// only the claimer ever sees its lease id).
    pub fn admit(&self, require_lease_id: bool) -> Result<(), ApiError> {
        self.require_present()?;
        if require_lease_id && self.lease_id.is_none() {
            return Err(ApiError::validation(
                "lease_id",
                "is required: this queue sets require_lease_id, so worker_id alone does not fence its jobs",
            ));
        }
        Ok(())
    }

    /// Decides whether this fence may act on a job in `state` at `now`, on a queue that
    /// requires lease ids or not ([`Fence::admit`]).
    ///
    /// A lease is live strictly before `lease_expires_at`; at that instant it has expired,
    /// whether or not the alarm has run yet. Anything but a live, matching lease is
    /// `LEASE_EXPIRED`, so a stale worker can never change a job that moved on.
    pub fn check(&self, state: &LeaseState, now: EpochMs, require_lease_id: bool) -> Result<FenceCheck, ApiError> {
        self.admit(require_lease_id)?;
        let matches = match &self.lease_id {
            Some(lease) => state.lease_id.as_deref() == Some(lease.as_str()),
            None => state.worker_id.is_some() && state.worker_id == self.worker_id,
        };
        if state.status == JobStatus::Completed && self.lease_id.is_some() && matches {
            return Ok(FenceCheck::AlreadyCompleted);
        }
        let live = state.status == JobStatus::Processing && state.lease_expires_at.is_some_and(|end| now < end);
        if live && matches {
            Ok(FenceCheck::Live)
        } else {
            Err(ApiError::lease_expired())
        }
    }
}

/// Where a job goes after a failed attempt (an explicit fail or an expired lease).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Back to `pending` with this many failed attempts counted.
    Retry { retry_count: u32 },
    /// Out of retries: to `deadletter`, with this many failed attempts counted.
    DeadLetter { retry_count: u32 },
}

/// Counts one more failed attempt and decides retry or dead letter: a job runs at most
/// `max_retries + 1` times, so `retry_count` never exceeds `max_retries + 1`.
pub fn after_failure(retry_count: u32, max_retries: u32) -> AfterFailure {
    let counted = retry_count.saturating_add(1);
    if retry_count < max_retries {
        AfterFailure::Retry { retry_count: counted }
    } else {
        AfterFailure::DeadLetter { retry_count: counted }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leased(until: EpochMs) -> LeaseState {
        LeaseState {
            status: JobStatus::Processing,
            lease_id: Some("L1".into()),
            worker_id: Some("w1".into()),
            lease_expires_at: Some(until),
        }
    }

    fn by_lease(id: &str) -> Fence {
        Fence { lease_id: Some(id.into()), worker_id: None }
    }

    #[test]
    fn live_matching_lease_passes_until_the_last_millisecond() {
        assert_eq!(by_lease("L1").check(&leased(1_000), 999, false), Ok(FenceCheck::Live));
    }

    #[test]
    fn lease_is_expired_at_exactly_its_deadline() {
        let err = by_lease("L1").check(&leased(1_000), 1_000, false).unwrap_err();
        assert_eq!(err.kind, crate::model::ErrorKind::LeaseExpired);
    }

    #[test]
    fn wrong_lease_is_refused_even_when_live() {
        assert!(by_lease("L2").check(&leased(1_000), 10, false).is_err());
    }

    #[test]
    fn worker_id_fences_only_without_lease_id() {
        let by_worker = Fence { lease_id: None, worker_id: Some("w1".into()) };
        assert_eq!(by_worker.check(&leased(1_000), 10, false), Ok(FenceCheck::Live));
        let other = Fence { lease_id: None, worker_id: Some("w2".into()) };
        assert!(other.check(&leased(1_000), 10, false).is_err());
        let both = Fence { lease_id: Some("L9".into()), worker_id: Some("w1".into()) };
        assert!(both.check(&leased(1_000), 10, false).is_err());
    }

    #[test]
    fn an_empty_fence_is_a_validation_error() {
        let err = Fence::default().check(&leased(1_000), 10, false).unwrap_err();
        assert_eq!(err.kind, crate::model::ErrorKind::ValidationError);
    }

    #[test]
    fn jobs_that_moved_on_refuse_the_old_lease() {
        for status in [JobStatus::Pending, JobStatus::Deadletter, JobStatus::Cancelled] {
            let state = LeaseState { status, ..leased(1_000) };
            assert!(by_lease("L1").check(&state, 10, false).is_err(), "{status}");
        }
    }

    #[test]
    fn a_queue_requiring_lease_ids_refuses_worker_id_alone() {
        let by_worker = Fence { lease_id: None, worker_id: Some("w1".into()) };
        let err = by_worker.check(&leased(1_000), 10, true).unwrap_err();
        assert_eq!(err.kind, crate::model::ErrorKind::ValidationError);
        assert!(err.message.contains("require_lease_id"), "{}", err.message);
        assert_eq!(by_lease("L1").check(&leased(1_000), 10, true), Ok(FenceCheck::Live));
        let both = Fence { lease_id: Some("L1".into()), worker_id: Some("w9".into()) };
        assert_eq!(both.check(&leased(1_000), 10, true), Ok(FenceCheck::Live));
        assert!(by_worker.admit(false).is_ok());
    }

    #[test]
    fn completing_twice_with_the_same_lease_is_idempotent() {
        let done = LeaseState { status: JobStatus::Completed, lease_expires_at: None, ..leased(0) };
        assert_eq!(by_lease("L1").check(&done, 5_000, false), Ok(FenceCheck::AlreadyCompleted));
        assert!(by_lease("L2").check(&done, 5_000, false).is_err());
    }

    #[test]
    fn failures_retry_until_max_retries_then_dead_letter() {
        assert_eq!(after_failure(0, 3), AfterFailure::Retry { retry_count: 1 });
        assert_eq!(after_failure(2, 3), AfterFailure::Retry { retry_count: 3 });
        assert_eq!(after_failure(3, 3), AfterFailure::DeadLetter { retry_count: 4 });
        assert_eq!(after_failure(0, 0), AfterFailure::DeadLetter { retry_count: 1 });
    }
}

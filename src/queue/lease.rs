//! The worker loop: claim jobs under a lease, then complete, fail or heartbeat them. Every
//! operation after claim is fenced by the lease (see [`Fence::check`]).

use super::record::{ClaimedJob, CLAIMED_COLUMNS};
use super::sql::{Row, RowExt};
use super::transition::{Target, Transition, LIVE_LEASE};
use super::Queue;
use crate::model::json_text::{minified, sha256_hex};
use crate::model::lease::{after_failure, AfterFailure, Fence, FenceCheck, LeaseState};
use crate::model::spec::{clip_error, MAX_INLINE_RESULT_BYTES};
use crate::model::time::SECOND_MS;
use crate::model::wire::wire_record;
use crate::model::{ApiError, Entropy, EpochMs, ErrorKind, JobStatus};
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;
use std::sync::LazyLock;

/// A validated claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRequest {
    /// How many jobs at most (1–100).
    pub limit: u32,
    /// Lease length; `None` takes the queue's default.
    pub lease_secs: Option<u32>,
    /// Who is claiming, recorded on the job.
    pub worker_id: Option<String>,
    /// How long the request may wait for a job when none is claimable (long polling; the
    /// queue actor does the waiting). 0 answers at once.
    #[serde(default)]
    pub wait_secs: u32,
    /// Lowest priority to claim (inclusive).
    pub min_priority: i64,
    /// Highest priority to claim (inclusive).
    pub max_priority: i64,
}

wire_record! {
    /// What a failed attempt led to.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct FailOutcome {
        /// `pending` (will retry) or `deadletter`.
        pub status: JobStatus,
        /// Failed attempts counted so far.
        pub retry_count: u32,
        /// When the retry may run, for a retried job.
        pub retry_at: Option<EpochMs>,
    }
}

/// The `seq` of up to `limit` (?7) ready jobs in claim order: pending, priority in ?5..=?6,
/// due by ?4 and not expired. `INDEXED BY` keeps SQLite on the claimable index even without
/// `ANALYZE` statistics (it would otherwise pick `jobs_status` and sort every pending job).
pub const CLAIMABLE_SEQS: &str = "SELECT seq FROM jobs INDEXED BY jobs_claimable \
    WHERE status = 'pending' AND priority BETWEEN ?5 AND ?6 \
    AND (scheduled_at IS NULL OR scheduled_at <= ?4) AND (expires_at IS NULL OR expires_at > ?4) \
    ORDER BY priority DESC, seq LIMIT ?7";

/// Leases the [`CLAIMABLE_SEQS`] jobs to worker ?1 for ?2 seconds (until ?3), each with a fresh
/// random lease id, in one statement.
static CLAIM: LazyLock<String> = LazyLock::new(|| {
    Transition::Claim.statement(&Target {
        index: None,
        from: None,
        rows: &format!("seq IN ({CLAIMABLE_SEQS})"),
        returning: CLAIMED_COLUMNS,
        inputs: &[(":worker_id", "?1"), (":lease_secs", "?2"), (":lease_expires_at", "?3"), (":now", "?4")],
    })
});

/// Completes job ?1 with result ?2 at ?3 when its lease is live for the fence: lease id ?4, or
/// when that is NULL worker id ?5 ([`LIVE_LEASE`]), so the common case costs one statement;
/// anything else falls back to [`Fence::check`] to say why.
static COMPLETE_LIVE: LazyLock<String> = LazyLock::new(|| {
    Transition::Complete.statement(&Target {
        index: None,
        from: None,
        rows: &format!("jobs.id = ?1 AND {LIVE_LEASE}"),
        returning: "seq",
        inputs: &[(":result", "?2"), (":now", "?3"), (":lease_id", "?4"), (":worker_id", "?5")],
    })
});

/// Stores result ?2 of the job with `seq` ?1 in a row of its own.
const STORE_RESULT: &str = "INSERT INTO job_results (seq, result) VALUES (?1, ?2)";

/// The stored result of job ?1, from its row or its own ([`STORE_RESULT`]).
const STORED_RESULT: &str =
    "SELECT coalesce(result, (SELECT result FROM job_results WHERE job_results.seq = jobs.seq)) \
    FROM jobs WHERE id = ?1";

/// Whether a job result is too large to share the job's row (see [`MAX_INLINE_RESULT_BYTES`]).
pub fn result_needs_own_row(result: &RawValue) -> bool {
    result.get().len() > MAX_INLINE_RESULT_BYTES
}

/// A failed attempt of job ?1 at ?2: ?3 failed attempts counted, error ?4 and, for a retry,
/// the time ?5 it may run again.
const FAILED_ATTEMPT: Target<'static> = Target {
    index: None,
    from: None,
    rows: "jobs.id = ?1",
    returning: "",
    inputs: &[(":now", "?2"), (":retry_count", "?3"), (":error", "?4"), (":retry_at", "?5")],
};
static FAIL_RETRY: LazyLock<String> = LazyLock::new(|| Transition::Retry.statement(&FAILED_ATTEMPT));
static FAIL_DEAD_LETTER: LazyLock<String> = LazyLock::new(|| Transition::DeadLetter.statement(&FAILED_ATTEMPT));

/// Extends the lease of job ?1 to ?2, at ?3.
static HEARTBEAT: LazyLock<String> = LazyLock::new(|| {
    Transition::Heartbeat.statement(&Target {
        index: None,
        from: None,
        rows: "jobs.id = ?1",
        returning: "",
        inputs: &[(":lease_expires_at", "?2"), (":now", "?3")],
    })
});

const LEASE_STATE: &str = "SELECT status, lease_id, worker_id, lease_expires_at, retry_count, \
    max_retries, lease_secs FROM jobs WHERE id = ?1";

/// A job's lease columns plus what fail and heartbeat need.
struct Leased {
    state: LeaseState,
    retry_count: u32,
    max_retries: u32,
    lease_secs: Option<i64>,
}

impl Queue<'_> {
    /// Claims jobs for a worker; returns them in claim order (none when nothing is claimable).
    pub fn claim(&self, request: &ClaimRequest, now: EpochMs) -> Result<Vec<ClaimedJob>, ApiError> {
        if !self.settings.enabled {
            return Ok(Vec::new());
        }
        // Scheduled jobs that came due are claimable now, even if the alarm is running late.
        self.promote_due(now)?;
        let lease_secs = self.lease_secs(request);
        let rows = self.sql.query(
            &CLAIM,
            &[
                request.worker_id.clone().into(),
                lease_secs.into(),
                self.lease_deadline(request, now).into(),
                now.into(),
                request.min_priority.into(),
                request.max_priority.into(),
                request.limit.into(),
            ],
        )?;
        let jobs = rows.into_iter().map(ClaimedJob::read).collect::<Result<Vec<_>, _>>()?;
        // Workers expect the claim order.
        Ok(super::ordered_by(jobs, ClaimedJob::claim_order))
    }

    /// How long a claim's leases last, in seconds.
    fn lease_secs(&self, request: &ClaimRequest) -> u32 {
        request.lease_secs.unwrap_or(self.settings.default_lease_secs)
    }

    /// When the leases of a claim made at `now` end.
    pub fn lease_deadline(&self, request: &ClaimRequest, now: EpochMs) -> EpochMs {
        now + i64::from(self.lease_secs(request)) * SECOND_MS
    }

    /// Completes a leased job and stores its result. Completing again with the same lease
    /// succeeds without changing anything, so a worker may retry a lost acknowledgement.
    /// A result over [`MAX_INLINE_RESULT_BYTES`] is stored in a row of its own, a second write
    /// that the command's transaction keeps together with the first
    /// ([`result_needs_own_row`]).
    pub fn complete(&self, id: &str, fence: &Fence, result: Option<&RawValue>, now: EpochMs) -> Result<(), ApiError> {
        fence.admit(self.settings.require_lease_id)?;
        let own_row = result.filter(|r| result_needs_own_row(r));
        let params = [
            id.into(),
            result.filter(|_| own_row.is_none()).map(RawValue::get).into(),
            now.into(),
            fence.lease_id.as_deref().into(),
            fence.worker_id.as_deref().into(),
        ];
        if let Some(completed) = self.sql.query_one(&COMPLETE_LIVE, &params)? {
            if let Some(result) = own_row {
                self.sql.query(STORE_RESULT, &[completed.int(0)?.into(), result.get().into()])?;
            }
            return Ok(());
        }
        // No live lease matched: a repeated acknowledgement, or an error that says why.
        match fence.check(&self.leased(id)?.state, now, self.settings.require_lease_id)? {
            FenceCheck::AlreadyCompleted => self.same_result(id, result),
            FenceCheck::Live => Err(ApiError::internal("a live lease was not completed")),
        }
    }

    /// A repeated complete succeeds when it carries no result or the one already stored
    /// (compared minified, so layout does not matter but key order and number spelling do);
    /// with another result, which would be dropped, it is `ALREADY_COMPLETED`, carrying the
    /// stored result's SHA-256, and the first result stays.
    fn same_result(&self, id: &str, result: Option<&RawValue>) -> Result<(), ApiError> {
        let Some(result) = result else { return Ok(()) };
        let row = self.sql.query_one(STORED_RESULT, &[id.into()])?.ok_or_else(|| ApiError::not_found("job"))?;
        let stored = row.opt_text(0)?.map(minified);
        if stored.as_deref() == Some(&*minified(result.get())) {
            return Ok(());
        }
        Err(ApiError {
            kind: ErrorKind::AlreadyCompleted,
            message: "the job was already completed under this lease with another result, which is kept".into(),
            details: Some(json!({ "result_sha256": stored.map(|text| sha256_hex(text.as_bytes())) })),
        })
    }

    /// Records a failed attempt: back to `pending` after a backoff delay (or
    /// `retry_after_secs`), or to `deadletter` once retries are used up.
    pub fn fail(
        &self,
        id: &str,
        fence: &Fence,
        error: &str,
        retry_after_secs: Option<u32>,
        now: EpochMs,
        entropy: &mut dyn Entropy,
    ) -> Result<FailOutcome, ApiError> {
        let leased = self.leased(id)?;
        if fence.check(&leased.state, now, self.settings.require_lease_id)? == FenceCheck::AlreadyCompleted {
            return Err(ApiError::lease_expired());
        }
        let (statement, outcome) = match after_failure(leased.retry_count, leased.max_retries) {
            AfterFailure::Retry { retry_count } => {
                let delay = match retry_after_secs {
                    Some(secs) => i64::from(secs) * SECOND_MS,
                    None => self.settings.retry.delay_ms(leased.retry_count, entropy.fraction()),
                };
                (&*FAIL_RETRY, FailOutcome { status: JobStatus::Pending, retry_count, retry_at: Some(now + delay) })
            }
            AfterFailure::DeadLetter { retry_count } => {
                (&*FAIL_DEAD_LETTER, FailOutcome { status: JobStatus::Deadletter, retry_count, retry_at: None })
            }
        };
        let mut params = vec![id.into(), now.into(), outcome.retry_count.into(), clip_error(error).into()];
        if let Some(at) = outcome.retry_at {
            params.push(at.into());
        }
        self.sql.query(statement, &params)?;
        Ok(outcome)
    }

    /// Extends a live lease to `now + lease_secs` (default: the length it was claimed with).
    /// An expired lease is never revived. Returns the new deadline.
    pub fn heartbeat(
        &self,
        id: &str,
        fence: &Fence,
        lease_secs: Option<u32>,
        now: EpochMs,
    ) -> Result<EpochMs, ApiError> {
        let leased = self.leased(id)?;
        if fence.check(&leased.state, now, self.settings.require_lease_id)? == FenceCheck::AlreadyCompleted {
            return Err(ApiError::lease_expired());
        }
        let secs = lease_secs.map(i64::from).or(leased.lease_secs).unwrap_or(self.settings.default_lease_secs.into());
        let until = now + secs * SECOND_MS;
        self.sql.query(&HEARTBEAT, &[id.into(), until.into(), now.into()])?;
        Ok(until)
    }

    fn leased(&self, id: &str) -> Result<Leased, ApiError> {
        let row: Row = self.sql.query_one(LEASE_STATE, &[id.into()])?.ok_or_else(|| ApiError::not_found("job"))?;
        let status = JobStatus::parse(row.text(0)?).ok_or_else(|| ApiError::internal("unknown stored status"))?;
        Ok(Leased {
            state: LeaseState {
                status,
                lease_id: row.opt_text(1)?.map(str::to_owned),
                worker_id: row.opt_text(2)?.map(str::to_owned),
                lease_expires_at: row.opt_int(3)?,
            },
            retry_count: u32::try_from(row.int(4)?).unwrap_or(0),
            max_retries: u32::try_from(row.int(5)?).unwrap_or(0),
            lease_secs: row.opt_int(6)?,
        })
    }
}

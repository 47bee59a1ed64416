//! What the alarm does: promote scheduled jobs that came due, end expired leases, prune
//! finished jobs past retention, and say when it must run next. Every step only acts on rows
//! that are due at `now`, so running the sweep twice changes nothing the second time.

use super::sql::{Row, RowExt};
use super::Queue;
use crate::model::lease::{after_failure, AfterFailure};
use crate::model::{ApiError, EpochMs, JobSpec};
use serde::Serialize;

/// Most expired leases or pruned jobs handled by one sweep; the rest are due at once, so the
/// alarm comes straight back for them without one run growing unbounded.
pub const SWEEP_BATCH: u32 = 1_000;

/// The error recorded on a job whose lease ran out.
pub const LEASE_EXPIRED_ERROR: &str = "lease expired before the job was completed";

/// What one sweep changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Scheduled jobs that became pending.
    pub promoted: usize,
    /// Expired leases whose jobs went back to pending.
    pub requeued: usize,
    /// Expired leases whose jobs were out of retries.
    pub dead_lettered: usize,
    /// Finished jobs deleted after retention.
    pub pruned: usize,
    /// Jobs that reached `expires_at` before they ran, now cancelled.
    pub expired: usize,
}

/// The earliest time any job needs the alarm after ?2 (now): a scheduled job coming due, a
/// retry delay ending (so waiting claims wake), a lease ending, a job expiring unrun, or a
/// finished job's retention (?1) ending. Each part is one lookup on a partial index, named
/// with `INDEXED BY`: without `ANALYZE` statistics SQLite would otherwise scan `jobs_status`.
const NEXT_WAKE: &str = "SELECT min(t) FROM ( \
    SELECT min(scheduled_at) AS t FROM jobs INDEXED BY jobs_due WHERE status = 'scheduled' \
    UNION ALL SELECT min(scheduled_at) FROM jobs INDEXED BY jobs_retry_due \
        WHERE status = 'pending' AND scheduled_at IS NOT NULL AND scheduled_at > ?2 \
    UNION ALL SELECT min(lease_expires_at) FROM jobs INDEXED BY jobs_leases WHERE status = 'processing' \
    UNION ALL SELECT min(expires_at) FROM jobs INDEXED BY jobs_expiring \
        WHERE status IN ('pending', 'scheduled') AND expires_at IS NOT NULL \
    UNION ALL SELECT min(completed_at) + ?1 FROM jobs INDEXED BY jobs_finished \
        WHERE status IN ('completed', 'cancelled'))";

/// What a command did to the times the alarm must keep (those [`NEXT_WAKE`] looks for), so the
/// actor can keep its alarm early enough without recomputing the earliest one after every
/// command. Losing a due time needs no report: an alarm that fires early finds nothing due
/// and re-arms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DueTimes {
    /// No job gained a due time.
    Unchanged,
    /// Jobs gained due times, none earlier than this.
    Added(EpochMs),
    /// Not tracked for this command: recompute from storage.
    Unknown,
}

impl DueTimes {
    /// New jobs are due when they are scheduled to start (if later than `now`) or expire.
    pub fn of_new_jobs(specs: &[JobSpec], now: EpochMs) -> DueTimes {
        let starts = specs.iter().filter_map(|s| s.scheduled_at.filter(|&at| at > now));
        let expiries = specs.iter().filter_map(|s| s.expires_at);
        starts.chain(expiries).min().map_or(DueTimes::Unchanged, DueTimes::Added)
    }
}

/// The error recorded on a job cancelled because it reached `expires_at` while waiting to run
/// (never claimed, or waiting for a retry).
pub const EXPIRED_ERROR: &str = "expires_at passed while the job waited to run";

impl Queue<'_> {
    /// Runs every due step; safe to run at any time and any number of times.
    pub fn sweep(&self, now: EpochMs) -> Result<SweepReport, ApiError> {
        let promoted = self.promote_due(now)?;
        let (requeued, dead_lettered) = self.expire_leases(now)?;
        let expired = self.cancel_expired(now)?;
        let pruned = self.prune_finished(now)?;
        Ok(SweepReport { promoted, requeued, dead_lettered, pruned, expired })
    }

    /// When a job finished at `now` (completed or cancelled) is due to be pruned.
    pub fn finished_due(&self, now: EpochMs) -> DueTimes {
        DueTimes::Added(now + self.settings.retention_ms)
    }

    /// When the alarm must next run after `now`, or `None` when nothing is waiting on time.
    pub fn next_wake(&self, now: EpochMs) -> Result<Option<EpochMs>, ApiError> {
        let row = self.sql.query_one(NEXT_WAKE, &[self.settings.retention_ms.into(), now.into()])?;
        row.map_or(Ok(None), |r| r.opt_int(0))
    }

    /// Moves scheduled jobs whose time has come to `pending`; returns how many.
    pub fn promote_due(&self, now: EpochMs) -> Result<usize, ApiError> {
        let rows = self.sql.query(
            "UPDATE jobs INDEXED BY jobs_due SET status = 'pending', updated_at = ?1 \
             WHERE status = 'scheduled' AND scheduled_at <= ?1 RETURNING seq",
            &[now.into()],
        )?;
        Ok(rows.len())
    }

    /// Ends leases whose deadline has passed (`lease_expires_at <= now`), counting a failed
    /// attempt each: back to `pending`, or `deadletter` when no retries are left.
    fn expire_leases(&self, now: EpochMs) -> Result<(usize, usize), ApiError> {
        let expired = self.sql.query(
            "SELECT id, retry_count, max_retries FROM jobs INDEXED BY jobs_leases \
             WHERE status = 'processing' AND lease_expires_at <= ?1 ORDER BY lease_expires_at LIMIT ?2",
            &[now.into(), SWEEP_BATCH.into()],
        )?;
        let (mut requeued, mut dead_lettered) = (0, 0);
        for row in &expired {
            let (status, retry_count) = match Self::failed_attempt(row)? {
                AfterFailure::Retry { retry_count } => {
                    requeued += 1;
                    ("pending", retry_count)
                }
                AfterFailure::DeadLetter { retry_count } => {
                    dead_lettered += 1;
                    ("deadletter", retry_count)
                }
            };
            self.sql.query(
                "UPDATE jobs SET status = ?2, retry_count = ?3, last_error = ?4, updated_at = ?5, \
                 worker_id = NULL, lease_id = NULL, lease_expires_at = NULL WHERE id = ?1",
                &[row.text(0)?.into(), status.into(), retry_count.into(), LEASE_EXPIRED_ERROR.into(), now.into()],
            )?;
        }
        Ok((requeued, dead_lettered))
    }

    fn failed_attempt(row: &Row) -> Result<AfterFailure, ApiError> {
        let count = |col| row.int(col).map(|v| u32::try_from(v).unwrap_or(0));
        Ok(after_failure(count(1)?, count(2)?))
    }

    /// Cancels jobs that reached their `expires_at` before anyone claimed them, so they are
    /// pruned after retention instead of waiting forever.
    fn cancel_expired(&self, now: EpochMs) -> Result<usize, ApiError> {
        let rows = self.sql.query(
            "UPDATE jobs INDEXED BY jobs_expiring SET status = 'cancelled', completed_at = ?1, updated_at = ?1, \
             last_error = ?2 WHERE status IN ('pending', 'scheduled') AND expires_at IS NOT NULL AND expires_at <= ?1 RETURNING seq",
            &[now.into(), EXPIRED_ERROR.into()],
        )?;
        Ok(rows.len())
    }

    /// Deletes completed and cancelled jobs older than the queue's retention.
    fn prune_finished(&self, now: EpochMs) -> Result<usize, ApiError> {
        let rows = self.sql.query(
            "DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs INDEXED BY jobs_finished \
             WHERE status IN ('completed', 'cancelled') AND completed_at <= ?1 LIMIT ?2) RETURNING seq",
            &[(now - self.settings.retention_ms).into(), SWEEP_BATCH.into()],
        )?;
        Ok(rows.len())
    }
}

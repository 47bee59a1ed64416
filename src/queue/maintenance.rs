//! What the alarm does: promote scheduled jobs that came due, end expired leases, prune
//! finished jobs past retention, and say when it must run next. Every step only acts on rows
//! that are due at `now`, so running the sweep twice changes nothing the second time.

use super::sql::RowExt;
use super::transition::{Target, Transition};
use super::Queue;
use crate::model::{ApiError, EpochMs, JobSpec};
use serde::Serialize;
use std::sync::LazyLock;

/// Most expired leases (of each outcome) or pruned jobs handled by one sweep; the rest are due at once, so the
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

/// What the actor does with its alarm after a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rearm {
    /// Leave the alarm as it is.
    Keep,
    /// Make sure it fires no later than this.
    NoLaterThan(EpochMs),
    /// Read the earliest due time from storage ([`Queue::next_wake`]) and arm for that.
    Recompute,
}

/// The re-arm rule after a command: reads never move the alarm; a command that reported its
/// due times moves it only earlier; one that could not say, or an actor instance that does not
/// know its alarm yet, recomputes from storage.
pub fn rearm(due: DueTimes, writes: bool, alarm_known: bool) -> Rearm {
    match due {
        _ if !writes => Rearm::Keep,
        DueTimes::Unchanged if alarm_known => Rearm::Keep,
        DueTimes::Added(at) if alarm_known => Rearm::NoLaterThan(at),
        DueTimes::Unchanged | DueTimes::Added(_) | DueTimes::Unknown => Rearm::Recompute,
    }
}

/// Whether an alarm this actor instance knows about (`armed`: `None` unknown, `Some(None)`
/// none set, `Some(Some(t))` set for `t`) already fires no later than `wake` needs. An alarm
/// set earlier is kept: firing early costs one empty sweep that re-arms, while moving the
/// alarm on every claim and complete would cost a storage write each. A needless alarm is
/// likewise left to fire once rather than deleted.
pub fn alarm_covers(armed: Option<Option<EpochMs>>, wake: Option<EpochMs>) -> bool {
    match (armed, wake) {
        (Some(_), None) => true,
        (Some(Some(set)), Some(needed)) => set <= needed,
        (None, _) | (Some(None), Some(_)) => false,
    }
}

/// The error recorded on a job cancelled because it reached `expires_at` while waiting to run
/// (never claimed, or waiting for a retry).
pub const EXPIRED_ERROR: &str = "expires_at passed while the job waited to run";

/// Moves the scheduled jobs due at ?1 to `pending`.
static PROMOTE_DUE: LazyLock<String> = LazyLock::new(|| {
    Transition::Promote.statement(&Target {
        index: Some("jobs_due"),
        from: None,
        rows: "jobs.scheduled_at <= ?1",
        returning: "seq",
        inputs: &[(":now", "?1")],
    })
});

/// Ends up to ?2 leases expired at ?1 whose jobs have (`<`) or have not (`>=`) retries left,
/// counting a failed attempt each, with error ?3; the job may run again at once.
fn expire_leases_statement(transition: Transition, retries_left: &str) -> String {
    transition.statement(&Target {
        index: None,
        from: None,
        rows: &format!(
            "jobs.seq IN (SELECT seq FROM jobs INDEXED BY jobs_leases WHERE status = 'processing' \
             AND lease_expires_at <= ?1 AND retry_count {retries_left} max_retries ORDER BY lease_expires_at LIMIT ?2)"
        ),
        returning: "seq",
        inputs: &[(":now", "?1"), (":retry_count", "retry_count + 1"), (":error", "?3"), (":retry_at", "NULL")],
    })
}
static EXPIRE_LEASES_RETRY: LazyLock<String> = LazyLock::new(|| expire_leases_statement(Transition::Retry, "<"));
static EXPIRE_LEASES_DEAD_LETTER: LazyLock<String> =
    LazyLock::new(|| expire_leases_statement(Transition::DeadLetter, ">="));

/// Cancels the jobs whose `expires_at` passed by ?1 before they ran, with error ?2.
static EXPIRE_UNRUN: LazyLock<String> = LazyLock::new(|| {
    Transition::Expire.statement(&Target {
        index: Some("jobs_expiring"),
        from: None,
        rows: "jobs.expires_at IS NOT NULL AND jobs.expires_at <= ?1",
        returning: "seq",
        inputs: &[(":now", "?1"), (":error", "?2")],
    })
});

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
        Ok(self.sql.query(&PROMOTE_DUE, &[now.into()])?.len())
    }

    /// Ends leases whose deadline has passed (`lease_expires_at <= now`), counting a failed
    /// attempt each: back to `pending`, or `deadletter` when no retries are left.
    fn expire_leases(&self, now: EpochMs) -> Result<(usize, usize), ApiError> {
        let params = [now.into(), SWEEP_BATCH.into(), LEASE_EXPIRED_ERROR.into()];
        let dead_lettered = self.sql.query(&EXPIRE_LEASES_DEAD_LETTER, &params)?.len();
        let requeued = self.sql.query(&EXPIRE_LEASES_RETRY, &params)?.len();
        Ok((requeued, dead_lettered))
    }

    /// Cancels jobs that reached their `expires_at` before anyone claimed them, so they are
    /// pruned after retention instead of waiting forever.
    fn cancel_expired(&self, now: EpochMs) -> Result<usize, ApiError> {
        Ok(self.sql.query(&EXPIRE_UNRUN, &[now.into(), EXPIRED_ERROR.into()])?.len())
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

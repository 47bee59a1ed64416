//! The reference model: what each operation must do, encoded from the design and
//! docs/DECISIONS.md on its own (state changes are checked against `queue::transition`'s rules).

use super::*;

// ---------------------------------------------------------------------------------------------
// The reference model.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum St {
    Pending,
    Scheduled,
    Processing,
    Completed,
    Deadletter,
    Cancelled,
    /// Deleted by retention or a DLQ purge; the model keeps it so operations can still
    /// target its id.
    Deleted,
}

impl St {
    pub(crate) fn name(self) -> &'static str {
        match self {
            St::Pending => "pending",
            St::Scheduled => "scheduled",
            St::Processing => "processing",
            St::Completed => "completed",
            St::Deadletter => "deadletter",
            St::Cancelled => "cancelled",
            St::Deleted => "deleted",
        }
    }

    /// The stored state, for a job that is still stored.
    pub(crate) fn job_status(self) -> Option<JobStatus> {
        match self {
            St::Pending => Some(JobStatus::Pending),
            St::Scheduled => Some(JobStatus::Scheduled),
            St::Processing => Some(JobStatus::Processing),
            St::Completed => Some(JobStatus::Completed),
            St::Deadletter => Some(JobStatus::Deadletter),
            St::Cancelled => Some(JobStatus::Cancelled),
            St::Deleted => None,
        }
    }

    /// Whether the state machine's rule lets a job in this state take `transition`.
    pub(crate) fn allows(self, transition: Transition) -> bool {
        self.job_status().is_some_and(|s| transition.allows(s))
    }

    pub(crate) fn terminal(self) -> bool {
        matches!(self, St::Completed | St::Deadletter | St::Cancelled | St::Deleted)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Lease {
    pub(crate) id: String,
    pub(crate) deadline: EpochMs,
    pub(crate) secs: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct MJob {
    pub(crate) id: String,
    pub(crate) key: Option<String>,
    pub(crate) priority: i64,
    pub(crate) max_retries: u32,
    pub(crate) status: St,
    pub(crate) retry_count: u32,
    pub(crate) scheduled_at: Option<EpochMs>,
    /// Past this, a job that has not been claimed (pending or scheduled) is not claimable and
    /// the alarm cancels it.
    pub(crate) expires_at: Option<EpochMs>,
    /// The current lease, exactly while processing.
    pub(crate) lease: Option<Lease>,
    /// The lease a completed job was completed under (a retried complete with it succeeds).
    pub(crate) last_lease: Option<String>,
    /// When a completed or cancelled job finished (retention counts from here).
    pub(crate) completed_at: Option<EpochMs>,
    /// Replayed and not claimed since: replay cleared `scheduled_at` and `completed_at`.
    pub(crate) replayed: bool,
}

pub(crate) struct Model {
    pub(crate) now: EpochMs,
    /// Every job ever created, in enqueue order.
    pub(crate) jobs: Vec<MJob>,
    /// Every lease ever issued: (job index, lease id).
    pub(crate) issued: Vec<(usize, String)>,
}

/// What one sweep should report.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Swept {
    pub(crate) promoted: usize,
    pub(crate) requeued: usize,
    pub(crate) dead_lettered: usize,
    pub(crate) pruned: usize,
    pub(crate) expired: usize,
}

impl Model {
    pub(crate) fn key_owner(&self, key: &str) -> Option<usize> {
        self.jobs.iter().position(|j| j.status != St::Deleted && j.key.as_deref() == Some(key))
    }

    /// Pending, not waiting out a retry delay, not past `expires_at`.
    pub(crate) fn ready(&self, j: &MJob) -> bool {
        j.status == St::Pending
            && j.scheduled_at.is_none_or(|t| t <= self.now)
            && j.expires_at.is_none_or(|t| t > self.now)
    }

    /// Scheduled jobs whose time has come become pending.
    pub(crate) fn promote(&mut self) -> usize {
        let now = self.now;
        let mut n = 0;
        for j in &mut self.jobs {
            if j.status == St::Scheduled && j.scheduled_at.is_some_and(|t| t <= now) {
                j.status = St::Pending;
                n += 1;
            }
        }
        n
    }

    /// The jobs a claim of up to `limit` takes (after promotion): ready ones, priority first,
    /// then enqueue order.
    pub(crate) fn claim_order(&self, limit: u32) -> Vec<usize> {
        let mut ready: Vec<usize> = (0..self.jobs.len()).filter(|&i| self.ready(&self.jobs[i])).collect();
        ready.sort_by_key(|&i| (-self.jobs[i].priority, i));
        ready.truncate(limit as usize);
        ready
    }

    /// The lease is the job's current one and live (strictly before its deadline).
    pub(crate) fn live(&self, j: usize, lease_id: &str) -> bool {
        let job = &self.jobs[j];
        job.status == St::Processing && job.lease.as_ref().is_some_and(|l| l.id == lease_id && self.now < l.deadline)
    }

    /// Counts a failed attempt of a processing job: pending while retries are left (a job
    /// runs at most `max_retries + 1` times), otherwise deadletter. The lease ends.
    pub(crate) fn count_failure(&mut self, j: usize) -> St {
        let job = &mut self.jobs[j];
        job.lease = None;
        job.retry_count += 1;
        job.status = if job.retry_count <= job.max_retries { St::Pending } else { St::Deadletter };
        job.status
    }

    /// The alarm's work at `now`: promote due jobs, end expired leases (a lease ends at its
    /// deadline), prune finished jobs past retention.
    pub(crate) fn sweep(&mut self) -> Swept {
        let mut out = Swept { promoted: self.promote(), ..Swept::default() };
        let now = self.now;
        for j in 0..self.jobs.len() {
            let expired =
                self.jobs[j].status == St::Processing && self.jobs[j].lease.as_ref().is_some_and(|l| l.deadline <= now);
            if expired {
                match self.count_failure(j) {
                    St::Pending => out.requeued += 1,
                    _ => out.dead_lettered += 1,
                }
            }
        }
        for job in &mut self.jobs {
            let waiting = matches!(job.status, St::Pending | St::Scheduled);
            if waiting && job.expires_at.is_some_and(|t| t <= now) {
                job.status = St::Cancelled;
                job.completed_at = Some(now);
                job.replayed = false;
                out.expired += 1;
            }
        }
        for job in &mut self.jobs {
            let finished = matches!(job.status, St::Completed | St::Cancelled);
            if finished && job.completed_at.is_some_and(|t| t + RETENTION_MS <= now) {
                job.status = St::Deleted;
                out.pruned += 1;
            }
        }
        out
    }

    /// The earliest time something must happen without a request: a scheduled job coming due,
    /// a retry delay ending, a lease ending, an unrun job expiring, retention ending.
    pub(crate) fn next_deadline(&self) -> Option<EpochMs> {
        self.jobs
            .iter()
            .flat_map(|j| match j.status {
                St::Scheduled => [j.scheduled_at, j.expires_at],
                St::Pending => [j.scheduled_at.filter(|&t| t > self.now), j.expires_at],
                St::Processing => [j.lease.as_ref().map(|l| l.deadline), None],
                St::Completed | St::Cancelled => [j.completed_at.map(|t| t + RETENTION_MS), None],
                St::Deadletter | St::Deleted => [None, None],
            })
            .flatten()
            .min()
    }

    pub(crate) fn indices(&self, pred: impl Fn(&MJob) -> bool) -> Vec<usize> {
        (0..self.jobs.len()).filter(|&i| pred(&self.jobs[i])).collect()
    }

    pub(crate) fn count(&self, status: St) -> usize {
        self.jobs.iter().filter(|j| j.status == status).count()
    }
}

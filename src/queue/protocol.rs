//! The commands the Worker sends to a queue actor, and what the actor answers.
//!
//! The Worker validates every request before it builds a command, so a command is always
//! well-formed; the actor only decides what the queue's state allows. Commands and replies
//! travel as JSON (externally tagged, so raw payloads and results pass through untouched; see
//! `actors::client`).

use super::ack::{AckItem, FailItem};
use super::config::ConfigChanges;
use super::enqueue::Enqueued;
use super::events::{EventPage, Subscriber};
use super::lease::{result_needs_own_row, ClaimRequest, FailOutcome};
use super::listing::ListFilter;
use super::maintenance::DueTimes;
use super::manage::DeadLetterSelection;
use super::record::{AckOutcome, ClaimedJob, JobRecord, JobSummary, PriorityChange, QueueStats};
use super::{Queue, QueueSettings};
use crate::model::wire::wire_record;
use crate::model::{lease::Fence, ApiError, Entropy, EpochMs, JobSpec};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// One operation on one queue.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueCommand {
    /// Enqueue one job.
    Enqueue { job: JobSpec },
    /// Enqueue a batch atomically.
    EnqueueBulk { jobs: Vec<JobSpec> },
    /// Read one job.
    Get { id: String },
    /// Cancel a pending or scheduled job.
    Cancel { id: String },
    /// Replay one dead-lettered job.
    Replay { id: String },
    /// Lease ready jobs to a worker.
    Claim(ClaimRequest),
    /// Complete a leased job.
    Complete { id: String, fence: Fence, result: Option<Box<RawValue>> },
    /// Record a failed attempt of a leased job.
    Fail { id: String, fence: Fence, error: String, retry_after_secs: Option<u32> },
    /// Extend a live lease.
    Heartbeat { id: String, fence: Fence, lease_secs: Option<u32> },
    /// Replay dead letters.
    ReplayDeadLetters { selection: DeadLetterSelection },
    /// Delete dead letters.
    PurgeDeadLetters { selection: DeadLetterSelection, older_than: Option<EpochMs> },
    /// List jobs, newest first.
    ListJobs { filter: ListFilter },
    /// Status of each of these jobs that exists.
    JobStatuses { ids: Vec<String> },
    /// Counts per status and the day's figures.
    Stats,
    /// Change a waiting job's priority.
    SetPriority { id: String, priority: i64 },
    /// Read the queue's settings.
    GetConfig,
    /// Change the queue's settings.
    Configure { changes: ConfigChanges },
    /// Stop claims (enqueue keeps working).
    Pause { reason: Option<String> },
    /// Let claims through again.
    Resume,
    /// Delete a queue: refused while it has live jobs, unless `delete_jobs` says to delete
    /// those too.
    DeleteQueue { delete_jobs: bool },
    /// Complete and fail many leased jobs.
    Ack { acks: Vec<AckItem>, fails: Vec<FailItem> },
    /// Return a departing worker's leased jobs to pending.
    ReleaseWorker { worker_id: String },
    /// Replace who consumes the queue's events (pushed by the tenant; an older `version` than
    /// the one in force is ignored).
    SetSubscriptions { version: u64, consumers: Vec<Subscriber> },
    /// Read a consumer's events after `after`, acknowledging every event up to it.
    ReadEvents { consumer: String, after: i64, limit: u32 },
}

wire_record! {
    /// What travels from the Worker to a queue actor: the command and the queue it is for.
    #[derive(Clone, Debug)]
    pub struct QueueEnvelope {
        /// The tenant that owns the queue.
        pub tenant: String,
        /// The queue name.
        pub queue: String,
        /// What to do.
        pub command: QueueCommand,
    }
}

/// What a queue actor answers when a command succeeds, one variant per kind of result; a
/// failed command answers an [`ApiError`] instead. Replies carry domain records (payloads and
/// results as raw JSON text), never Spooled's wire shapes: `api::views` renders those, once,
/// at the HTTP edge, knowing the queue and tenant a reply is about.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueReply {
    /// `Enqueue`: the job's id, and whether it is new or was found by its idempotency key.
    Enqueued(Enqueued),
    /// `EnqueueBulk`: one outcome per job, in request order.
    EnqueuedBatch(Vec<Enqueued>),
    /// `Get` and `Replay`: the whole job.
    Job(JobRecord),
    /// `Claim`: the leased jobs in claim order; none when nothing was claimable.
    Claimed(Vec<ClaimedJob>),
    /// `Complete`: the job is completed (or already was, under the same lease).
    Completed,
    /// `Fail`: where the failed attempt left the job.
    Failed(FailOutcome),
    /// `Heartbeat`: when the extended lease ends.
    LeaseExtended(EpochMs),
    /// `ReplayDeadLetters`: the replayed job ids, in queue order.
    Replayed(Vec<String>),
    /// `PurgeDeadLetters`: how many dead letters were deleted.
    Purged(usize),
    /// `ListJobs`: job summaries, newest first.
    Jobs(Vec<JobSummary>),
    /// `JobStatuses`: each requested job that exists.
    Statuses(Vec<JobSummary>),
    /// `Stats`: counts and the last day's figures.
    Stats(QueueStats),
    /// `SetPriority`: the job's priority before and after.
    PriorityChanged(PriorityChange),
    /// `GetConfig` and `Configure`: the settings in force.
    Config(QueueSettings),
    /// `Pause`: the settings, now paused (since when, and why).
    Paused(QueueSettings),
    /// `Resume`: how long claims were paused, in seconds.
    Resumed(i64),
    /// `Ack`: each item's outcome, acks first, then fails.
    Acked(Vec<AckOutcome>),
    /// `ReleaseWorker`: how many leases went back to pending.
    Released(usize),
    /// `SetSubscriptions`: the subscriptions' version now in force (0: none stored).
    Subscribed(u64),
    /// `ReadEvents`: the consumer's next events.
    Events(EventPage),
    /// `Cancel` and `DeleteQueue`: done, with nothing to say.
    Done,
}

/// What running a command involves for the actor, beyond the command itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Traits {
    /// The command gives the queue jobs or settings, so the queue must be in its tenant's
    /// catalog first.
    pub creates_queue: bool,
    /// The command may change the queue (and so the alarm's due time, and what a waiting
    /// claim could find).
    pub writes: bool,
    /// The command must run in a transaction that an error rolls back: it may fail after a
    /// write that must not stand alone. Reads write nothing; enqueue, claim, complete (unless
    /// its result needs a row of its own) and heartbeat make at most one write that changes a job (claim's promotion of due
    /// scheduled jobs first is what the alarm does anyway), so SQLite's statement atomicity
    /// is enough and they skip the transaction's savepoint — about 40 µs, as much as all the
    /// rest of a small command's glue.
    pub needs_rollback: bool,
    /// The command may make a job claimable, so waiting claims should try again.
    pub may_free_jobs: bool,
    /// The command changes the queue's settings, which the actor then reloads.
    pub changes_settings: bool,
    /// The command deletes the queue, which then leaves its tenant's catalog.
    pub deletes_queue: bool,
}

/// A command that only reads.
const READS: Traits = Traits {
    creates_queue: false,
    writes: false,
    needs_rollback: false,
    may_free_jobs: false,
    changes_settings: false,
    deletes_queue: false,
};
/// A command that writes, inside a transaction; the default for writes.
const WRITES: Traits = Traits { writes: true, needs_rollback: true, ..READS };
/// A write whose one statement is atomic on its own (see [`Traits::needs_rollback`]).
const ATOMIC_WRITE: Traits = Traits { needs_rollback: false, ..WRITES };

impl QueueCommand {
    /// What running this command involves. One exhaustive match: a new command must say.
    pub fn traits(&self) -> Traits {
        match self {
            // A completion webhook is a second write.
            QueueCommand::Enqueue { job } if job.completion_webhook.is_some() => {
                Traits { creates_queue: true, may_free_jobs: true, ..WRITES }
            }
            QueueCommand::Enqueue { .. } | QueueCommand::EnqueueBulk { .. } => {
                Traits { creates_queue: true, may_free_jobs: true, ..ATOMIC_WRITE }
            }
            QueueCommand::Claim(_) | QueueCommand::Heartbeat { .. } => ATOMIC_WRITE,
            // A result in a row of its own is a second write.
            QueueCommand::Complete { result, .. } if result.as_deref().is_some_and(result_needs_own_row) => WRITES,
            QueueCommand::Complete { .. } => ATOMIC_WRITE,
            QueueCommand::Get { .. }
            | QueueCommand::ListJobs { .. }
            | QueueCommand::JobStatuses { .. }
            | QueueCommand::Stats
            | QueueCommand::GetConfig => READS,
            QueueCommand::Cancel { .. } | QueueCommand::PurgeDeadLetters { .. } => WRITES,
            QueueCommand::Replay { .. }
            | QueueCommand::ReplayDeadLetters { .. }
            | QueueCommand::Fail { .. }
            | QueueCommand::Ack { .. }
            | QueueCommand::SetPriority { .. }
            | QueueCommand::ReleaseWorker { .. } => Traits { may_free_jobs: true, ..WRITES },
            QueueCommand::Configure { .. } => {
                Traits { creates_queue: true, may_free_jobs: true, changes_settings: true, ..WRITES }
            }
            QueueCommand::Pause { .. } => Traits { creates_queue: true, changes_settings: true, ..WRITES },
            QueueCommand::Resume => Traits { may_free_jobs: true, changes_settings: true, ..WRITES },
            QueueCommand::DeleteQueue { .. } => Traits { changes_settings: true, deletes_queue: true, ..WRITES },
            QueueCommand::SetSubscriptions { .. } | QueueCommand::ReadEvents { .. } => WRITES,
        }
    }
}

impl QueueCommand {
    /// What this command answers on a queue that does not exist — one that never had a job or
    /// a setting, so it has no tables: what the queue logic answers over empty tables (the
    /// queue and its jobs are not found, lists are empty, stats zero, nothing is claimed or
    /// released), which `tests/queue_schema.rs` checks command by command. The queue actor
    /// answers this way without creating its tables, and the Worker answers reads of a queue
    /// its tenant's catalog does not list this way without calling (and so creating) the
    /// actor. `None` for the commands that create the queue. One exhaustive match.
    pub fn answer_for_missing_queue(&self) -> Option<Result<QueueReply, ApiError>> {
        let job_not_found = || Some(Err(ApiError::not_found("job")));
        match self {
            QueueCommand::Enqueue { .. }
            | QueueCommand::EnqueueBulk { .. }
            | QueueCommand::Configure { .. }
            | QueueCommand::Pause { .. } => None,
            QueueCommand::Get { .. }
            | QueueCommand::Cancel { .. }
            | QueueCommand::Replay { .. }
            | QueueCommand::Complete { .. }
            | QueueCommand::Fail { .. }
            | QueueCommand::Heartbeat { .. }
            | QueueCommand::SetPriority { .. } => job_not_found(),
            QueueCommand::GetConfig | QueueCommand::Resume | QueueCommand::DeleteQueue { .. } => {
                Some(Err(ApiError::not_found("queue")))
            }
            QueueCommand::ListJobs { .. } => Some(Ok(QueueReply::Jobs(Vec::new()))),
            QueueCommand::JobStatuses { .. } => Some(Ok(QueueReply::Statuses(Vec::new()))),
            QueueCommand::Stats => Some(Ok(QueueReply::Stats(QueueStats::default()))),
            QueueCommand::Claim(_) => Some(Ok(QueueReply::Claimed(Vec::new()))),
            QueueCommand::ReplayDeadLetters { .. } => Some(Ok(QueueReply::Replayed(Vec::new()))),
            QueueCommand::PurgeDeadLetters { .. } => Some(Ok(QueueReply::Purged(0))),
            QueueCommand::ReleaseWorker { .. } => Some(Ok(QueueReply::Released(0))),
            // Subscriptions are not data of the queue's own: a queue learns them once it exists.
            QueueCommand::SetSubscriptions { .. } => Some(Ok(QueueReply::Subscribed(0))),
            QueueCommand::ReadEvents { .. } => Some(Err(ApiError::not_found("event consumer"))),
            QueueCommand::Ack { acks, fails } => {
                let ids = acks.iter().map(|a| &a.id).chain(fails.iter().map(|f| &f.id));
                let outcome = |id: &String| AckOutcome { id: id.clone(), result: Err(ApiError::not_found("job")) };
                Some(Ok(QueueReply::Acked(ids.map(outcome).collect())))
            }
        }
    }
}

/// What a command answered, and what it did to the alarm's due times.
#[derive(Clone, Debug)]
pub struct Executed {
    /// The answer.
    pub reply: QueueReply,
    /// How the times the alarm must keep changed.
    pub due: DueTimes,
}

/// Carries out `command` on `queue` at `now`.
pub fn execute(
    queue: &Queue,
    command: QueueCommand,
    now: EpochMs,
    entropy: &mut dyn Entropy,
) -> Result<Executed, ApiError> {
    let done = |reply, due| Ok(Executed { reply, due });
    let unknown = |reply| done(reply, DueTimes::Unknown);
    match command {
        QueueCommand::Enqueue { job } => {
            let due = DueTimes::of_new_jobs(std::slice::from_ref(&job), now);
            let outcome = queue.enqueue(std::slice::from_ref(&job), now, entropy)?.remove(0);
            if let (Some(hook), true) = (&job.completion_webhook, outcome.created) {
                queue.attach_completion_hook(&outcome.id, hook)?;
            }
            done(QueueReply::Enqueued(outcome), due)
        }
        QueueCommand::EnqueueBulk { jobs } => {
            done(QueueReply::EnqueuedBatch(queue.enqueue(&jobs, now, entropy)?), DueTimes::of_new_jobs(&jobs, now))
        }
        QueueCommand::Get { id } => unknown(QueueReply::Job(queue.get_job(&id)?)),
        QueueCommand::Cancel { id } => {
            queue.cancel(&id, now)?;
            done(QueueReply::Done, queue.finished_due(now))
        }
        QueueCommand::Replay { id } => unknown(QueueReply::Job(queue.replay(&id, now)?)),
        QueueCommand::Claim(request) => {
            let jobs = queue.claim(&request, now)?;
            let due = if jobs.is_empty() {
                DueTimes::Unchanged
            } else {
                DueTimes::Added(queue.lease_deadline(&request, now))
            };
            done(QueueReply::Claimed(jobs), due)
        }
        QueueCommand::Complete { id, fence, result } => {
            queue.complete(&id, &fence, result.as_deref(), now)?;
            done(QueueReply::Completed, queue.finished_due(now))
        }
        QueueCommand::Fail { id, fence, error, retry_after_secs } => {
            let outcome = queue.fail(&id, &fence, &error, retry_after_secs, now, entropy)?;
            // A retried job is due when its delay ends, and again by its `expires_at`.
            unknown(QueueReply::Failed(outcome))
        }
        QueueCommand::Heartbeat { id, fence, lease_secs } => {
            let until = queue.heartbeat(&id, &fence, lease_secs, now)?;
            done(QueueReply::LeaseExtended(until), DueTimes::Added(until))
        }
        QueueCommand::ReplayDeadLetters { selection } => {
            unknown(QueueReply::Replayed(queue.replay_dead_letters(&selection, now)?))
        }
        QueueCommand::PurgeDeadLetters { selection, older_than } => {
            unknown(QueueReply::Purged(queue.purge_dead_letters(&selection, older_than)?))
        }
        QueueCommand::ListJobs { filter } => unknown(QueueReply::Jobs(queue.list_jobs(&filter)?)),
        QueueCommand::JobStatuses { ids } => unknown(QueueReply::Statuses(queue.job_statuses(&ids)?)),
        QueueCommand::Stats => unknown(QueueReply::Stats(queue.stats(now)?)),
        QueueCommand::SetPriority { id, priority } => {
            let old = queue.set_priority(&id, priority, now)?;
            unknown(QueueReply::PriorityChanged(PriorityChange { id, old, new: priority }))
        }
        QueueCommand::GetConfig => unknown(QueueReply::Config(queue.get_config()?)),
        QueueCommand::Configure { changes } => unknown(QueueReply::Config(queue.configure(&changes, now)?)),
        QueueCommand::Pause { reason } => unknown(QueueReply::Paused(queue.pause(reason, now)?)),
        QueueCommand::Resume => unknown(QueueReply::Resumed(queue.resume(now)?)),
        QueueCommand::DeleteQueue { delete_jobs } => {
            queue.delete_queue(delete_jobs)?;
            unknown(QueueReply::Done)
        }
        QueueCommand::Ack { acks, fails } => {
            let reply = QueueReply::Acked(queue.ack_batch(&acks, &fails, now, entropy)?);
            done(reply, if fails.is_empty() { queue.finished_due(now) } else { DueTimes::Unknown })
        }
        QueueCommand::ReleaseWorker { worker_id } => {
            unknown(QueueReply::Released(queue.release_worker(&worker_id, now)?))
        }
        QueueCommand::SetSubscriptions { version, consumers } => {
            done(QueueReply::Subscribed(queue.set_subscriptions(version, &consumers)?), DueTimes::Unchanged)
        }
        QueueCommand::ReadEvents { consumer, after, limit } => {
            done(QueueReply::Events(queue.read_events(&consumer, after, limit)?), DueTimes::Unchanged)
        }
    }
}

//! What a queue answers about its jobs, as owned records read from stored rows: the full job,
//! the summary (lists and batch status), the job a claim hands out, the queue's counts, a
//! batch acknowledgement's outcomes and a priority change. They travel from the queue actor to the Worker as they
//! are (payloads and results as raw JSON text); `api::views` renders them as Spooled's wire
//! shapes. Column lists and readers live side by side so they cannot drift apart.

use super::sql::{Columns, Row};
use crate::model::wire::wire_record;
use crate::model::{ApiError, EpochMs, JobStatus};
use serde_json::value::RawValue;

/// Columns read for a [`JobRecord`], in reader order (a large result lives in `job_results`).
pub const JOB_COLUMNS: &str = "id, status, payload, \
    coalesce(result, (SELECT result FROM job_results WHERE job_results.seq = jobs.seq)), \
    retry_count, max_retries, last_error, \
    created_at, scheduled_at, started_at, completed_at, expires_at, priority, tags, timeout_seconds, \
    worker_id, lease_expires_at, idempotency_key, updated_at, \
    (SELECT url FROM job_hooks WHERE job_hooks.job_id = jobs.id)";

/// Columns read for a [`JobSummary`], in reader order.
pub const SUMMARY_COLUMNS: &str =
    "id, status, priority, retry_count, max_retries, created_at, scheduled_at, started_at, completed_at, \
     CASE json_type(payload, '$.job_type') WHEN 'text' THEN json_extract(payload, '$.job_type') ELSE '' END, \
     last_error";

/// Columns a claim returns for a [`ClaimedJob`], in reader order.
pub const CLAIMED_COLUMNS: &str =
    "id, payload, retry_count, max_retries, timeout_seconds, lease_expires_at, lease_id, priority, seq";

wire_record! {
    /// A whole stored job (`GET /jobs/{id}`, replay).
    #[derive(Clone, Debug)]
    pub struct JobRecord {
        /// The job id.
        pub id: String,
        /// Where it is in its lifecycle.
        pub status: JobStatus,
        /// The payload, as stored.
        pub payload: Box<RawValue>,
        /// The result a completion stored.
        pub result: Option<Box<RawValue>>,
        /// Failed attempts so far.
        pub retry_count: i64,
        /// Failed attempts allowed before the job dead-letters.
        pub max_retries: i64,
        /// Why the last attempt failed.
        pub last_error: Option<String>,
        /// When it was enqueued.
        pub created_at: EpochMs,
        /// When it may run (a scheduled job, or a retry delay).
        pub scheduled_at: Option<EpochMs>,
        /// When its last attempt was claimed.
        pub started_at: Option<EpochMs>,
        /// When it completed or was cancelled.
        pub completed_at: Option<EpochMs>,
        /// When it stops being claimable.
        pub expires_at: Option<EpochMs>,
        /// −100…100, higher first.
        pub priority: i64,
        /// Free-form labels, as stored.
        pub tags: Option<Box<RawValue>>,
        /// Advisory run time limit.
        pub timeout_seconds: i64,
        /// The worker that holds (or last held) its lease.
        pub worker_id: Option<String>,
        /// When its lease ends. (Its lease id is not read: only the claimer may know it.)
        pub lease_expires_at: Option<EpochMs>,
        /// Unique within the queue while the job is kept.
        pub idempotency_key: Option<String>,
        /// When it last changed.
        pub updated_at: EpochMs,
        /// Its own completion webhook's URL.
        pub completion_webhook: Option<String>,
    }
}

impl JobRecord {
    /// Reads a row selected with [`JOB_COLUMNS`].
    pub fn read(row: Row) -> Result<Self, ApiError> {
        let mut c = Columns::new(row);
        let record = JobRecord {
            id: c.text(),
            status: c.status(),
            payload: c.json(),
            result: c.opt_json(),
            retry_count: c.int(),
            max_retries: c.int(),
            last_error: c.opt_text(),
            created_at: c.int(),
            scheduled_at: c.opt_int(),
            started_at: c.opt_int(),
            completed_at: c.opt_int(),
            expires_at: c.opt_int(),
            priority: c.int(),
            tags: c.opt_json(),
            timeout_seconds: c.int(),
            worker_id: c.opt_text(),
            lease_expires_at: c.opt_int(),
            idempotency_key: c.opt_text(),
            updated_at: c.int(),
            completion_webhook: c.opt_text(),
        };
        c.finish()?;
        Ok(record)
    }
}

wire_record! {
    /// A job in a list or a batch status lookup: its state without payload or result.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct JobSummary {
        /// The job id.
        pub id: String,
        /// Where it is in its lifecycle.
        pub status: JobStatus,
        /// −100…100, higher first.
        pub priority: i64,
        /// Failed attempts so far.
        pub retry_count: i64,
        /// Failed attempts allowed.
        pub max_retries: i64,
        /// When it was enqueued.
        pub created_at: EpochMs,
        /// When it may run.
        pub scheduled_at: Option<EpochMs>,
        /// When its last attempt was claimed.
        pub started_at: Option<EpochMs>,
        /// When it completed or was cancelled.
        pub completed_at: Option<EpochMs>,
        /// The payload's `job_type` when it is a string, else empty.
        pub job_type: String,
        /// Why the last attempt failed.
        pub last_error: Option<String>,
    }
}

impl JobSummary {
    /// Reads a row selected with [`SUMMARY_COLUMNS`].
    pub fn read(row: Row) -> Result<Self, ApiError> {
        let mut c = Columns::new(row);
        let record = JobSummary {
            id: c.text(),
            status: c.status(),
            priority: c.int(),
            retry_count: c.int(),
            max_retries: c.int(),
            created_at: c.int(),
            scheduled_at: c.opt_int(),
            started_at: c.opt_int(),
            completed_at: c.opt_int(),
            job_type: c.text(),
            last_error: c.opt_text(),
        };
        c.finish()?;
        Ok(record)
    }
}

wire_record! {
    /// A job handed to a worker by claim, with the lease that fences it.
    #[derive(Clone, Debug)]
    pub struct ClaimedJob {
        /// The job id.
        pub id: String,
        /// The payload, as stored.
        pub payload: Box<RawValue>,
        /// Failed attempts so far.
        pub retry_count: i64,
        /// Failed attempts allowed.
        pub max_retries: i64,
        /// Advisory run time limit.
        pub timeout_seconds: i64,
        /// When the lease ends.
        pub lease_expires_at: EpochMs,
        /// The lease that fences complete, fail and heartbeat.
        pub lease_id: String,
        /// −100…100, higher first.
        pub priority: i64,
        /// Enqueue order, which breaks priority ties in claim order.
        pub seq: i64,
    }
}

impl ClaimedJob {
    /// Reads a row returned with [`CLAIMED_COLUMNS`].
    pub fn read(row: Row) -> Result<Self, ApiError> {
        let mut c = Columns::new(row);
        let record = ClaimedJob {
            id: c.text(),
            payload: c.json(),
            retry_count: c.int(),
            max_retries: c.int(),
            timeout_seconds: c.int(),
            lease_expires_at: c.int(),
            lease_id: c.text(),
            priority: c.int(),
            seq: c.int(),
        };
        c.finish()?;
        Ok(record)
    }

    /// Claim order: priority descending, then enqueue order.
    pub fn claim_order(&self) -> (i64, i64) {
        (-self.priority, self.seq)
    }
}

wire_record! {
    /// How many jobs are in each status, and in all.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct StatusCounts {
        /// Jobs `pending`.
        pub pending: i64,
        /// Jobs `scheduled`.
        pub scheduled: i64,
        /// Jobs `processing`.
        pub processing: i64,
        /// Jobs `completed`.
        pub completed: i64,
        /// Jobs `failed` (nothing produces it; always 0).
        pub failed: i64,
        /// Jobs `deadletter`.
        pub deadletter: i64,
        /// Jobs `cancelled`.
        pub cancelled: i64,
        /// Every job.
        pub total: i64,
    }
}

impl StatusCounts {
    /// Counts `n` more jobs in `status`.
    pub fn add(&mut self, status: JobStatus, n: i64) {
        let count = match status {
            JobStatus::Pending => &mut self.pending,
            JobStatus::Scheduled => &mut self.scheduled,
            JobStatus::Processing => &mut self.processing,
            JobStatus::Completed => &mut self.completed,
            JobStatus::Failed => &mut self.failed,
            JobStatus::Deadletter => &mut self.deadletter,
            JobStatus::Cancelled => &mut self.cancelled,
        };
        *count += n;
        self.total += n;
    }

    /// Adds another queue's counts to these (destructured, so a new status cannot be missed).
    pub fn merge(&mut self, other: &StatusCounts) {
        let StatusCounts { pending, scheduled, processing, completed, failed, deadletter, cancelled, total } = *other;
        self.pending += pending;
        self.scheduled += scheduled;
        self.processing += processing;
        self.completed += completed;
        self.failed += failed;
        self.deadletter += deadletter;
        self.cancelled += cancelled;
        self.total += total;
    }
}

wire_record! {
    /// Every figure the stats endpoints need about one queue.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct QueueStats {
        /// Jobs per status.
        pub counts: StatusCounts,
        /// Jobs completed in the last 24 hours.
        pub completed_24h: i64,
        /// Jobs dead-lettered in the last 24 hours.
        pub deadletter_24h: i64,
        /// Mean time from claim to completion over the last 24 hours.
        pub avg_processing_time_ms: Option<f64>,
        /// Age of the oldest job waiting to run.
        pub max_job_age_seconds: Option<i64>,
        /// Workers holding leases now.
        pub active_workers: i64,
        /// Size of the queue's database.
        pub database_bytes: i64,
    }
}

wire_record! {
    /// The outcome of one item of a batch acknowledgement: the status it left the job in, or
    /// why it was refused.
    #[derive(Clone, Debug, PartialEq)]
    pub struct AckOutcome {
        /// The job.
        pub id: String,
        /// `completed`, `pending` (retried) or `deadletter`; or the item's error.
        pub result: Result<JobStatus, ApiError>,
    }
}

wire_record! {
    /// A waiting job's priority change.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct PriorityChange {
        /// The job.
        pub id: String,
        /// Its priority before.
        pub old: i64,
        /// Its priority now.
        pub new: i64,
    }
}

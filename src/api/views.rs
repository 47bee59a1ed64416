//! Spooled's wire shapes, rendered from the actors' typed replies: the one place where a
//! successful answer becomes a public JSON body (errors become theirs in `api::error`). Each
//! shape is a named struct that borrows from the reply it renders, so payloads and results
//! are copied out as the raw JSON text they were stored as.
//!
//! The views are also the document's response schemas (`api::openapi`, cargo feature
//! `openapi`): a field's `///` comment is its public description, written for API users, and so
//! is a view's own `///` comment; a view whose component has no description says what it is
//! for in a `//` comment. The `schemars(…)` attributes give bounds from `model::spec` and the
//! named components (`wire::JobId`…) a field refers to.

use crate::model::time::{format_rfc3339, SECOND_MS};
use crate::model::wire::to_json;
use crate::model::{ApiError, EpochMs, ErrorKind, JobStatus};
use crate::queue::enqueue::Enqueued;
use crate::queue::lease::FailOutcome;
use crate::queue::protocol::QueueReply;
use crate::queue::record::{AckOutcome, ClaimedJob, JobRecord, JobSummary, QueueStats, StatusCounts};
use crate::queue::QueueSettings;
use crate::tenant::key_store::KeyRecord;
use crate::tenant::protocol::TenantReply;
use crate::tenant::store::{CreatedOrganization, PLAN_TIER};
use crate::tenant::workers::{WorkerRecord, HEARTBEAT_INTERVAL_SECS};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

#[cfg(feature = "openapi")]
use crate::api::openapi::wire;
#[cfg(feature = "openapi")]
use crate::api::organizations::FIRST_KEY_NAME;
#[cfg(feature = "openapi")]
use crate::model::spec;
#[cfg(feature = "openapi")]
use crate::tenant::keys::DISPLAY_PREFIX_LEN;

/// A rendered response: HTTP status and JSON body (empty for 204).
pub type Answer = (u16, String);

/// The queue, and its tenant, that a queue reply is about: what the reply leaves out.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    /// The tenant (organization) id.
    pub tenant: &'a str,
    /// The queue name.
    pub queue: &'a str,
}

/// An epoch time on the wire: RFC 3339 UTC with milliseconds.
#[derive(Clone, Copy, Debug)]
pub struct Time(pub EpochMs);

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_rfc3339(self.0))
    }
}

fn time(ms: Option<EpochMs>) -> Option<Time> {
    ms.map(Time)
}

/// `view` as a response with `status`. Always inlined: one copy per view type would cost more
/// wasm than the call it saves.
#[inline(always)]
pub fn json(status: u16, view: &impl Serialize) -> Result<Answer, ApiError> {
    Ok((status, to_json(view)?))
}

/// Renders a queue actor's reply for the queue in `scope`.
pub fn queue_reply(reply: &QueueReply, scope: Scope) -> Result<Answer, ApiError> {
    let queue_name = scope.queue;
    match reply {
        QueueReply::Enqueued(job) => json(if job.created { 201 } else { 200 }, &EnqueuedView::new(job)),
        QueueReply::EnqueuedBatch(jobs) => json(200, &BulkView::new(jobs)),
        QueueReply::Job(job) => json(200, &JobView::new(job, scope)),
        QueueReply::Claimed(jobs) => {
            json(200, &ClaimView { jobs: jobs.iter().map(|job| ClaimedView::new(job, queue_name)).collect() })
        }
        QueueReply::Completed => json(200, &SuccessView { success: true }),
        QueueReply::Failed(outcome) => json(200, &FailView::new(outcome)),
        QueueReply::LeaseExtended(until) => json(200, &HeartbeatView { success: true, lease_expires_at: Time(*until) }),
        QueueReply::Replayed(ids) => json(200, &ReplayedView::new(ids.iter().map(String::as_str).collect())),
        QueueReply::Purged(purged_count) => json(200, &PurgedView { purged_count: *purged_count }),
        QueueReply::Jobs(jobs) => {
            json(200, &jobs.iter().map(|job| SummaryView::new(job, queue_name)).collect::<Vec<_>>())
        }
        QueueReply::Statuses(jobs) => {
            json(200, &jobs.iter().map(|job| JobStatusView::new(job, queue_name)).collect::<Vec<_>>())
        }
        QueueReply::Stats(stats) => json(200, &QueueStatsView::new(stats, queue_name)),
        QueueReply::PriorityChanged(change) => {
            json(200, &PriorityView { job_id: &change.id, old_priority: change.old, new_priority: change.new })
        }
        QueueReply::Config(settings) => json(200, &QueueConfigView::new(settings, scope)),
        QueueReply::Paused(s) => json(
            200,
            &PausedView { queue_name, paused: true, paused_at: time(s.paused_at), reason: s.paused_reason.as_deref() },
        ),
        QueueReply::Resumed(paused_secs) => {
            json(200, &ResumedView { queue_name, resumed: true, paused_duration_secs: *paused_secs })
        }
        QueueReply::Acked(outcomes) => json(200, &AckView::new(outcomes)),
        // A release answers a departing worker, whose deregistration says nothing more.
        QueueReply::Released(_) | QueueReply::Done => Ok((204, String::new())),
        // Answers to the tenant and to event consumers, which no route asks for.
        QueueReply::Subscribed(_) | QueueReply::Events(_) => {
            Err(ApiError::internal("this queue reply is not a response of its own"))
        }
    }
}

// `GET /health`: the Worker is up, and its version.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "Health"))]
pub struct HealthView {
    #[cfg_attr(feature = "openapi", schemars(extend("const" = "healthy")))]
    status: &'static str,
    /// The server's version.
    version: &'static str,
}

impl Default for HealthView {
    fn default() -> Self {
        HealthView { status: "healthy", version: env!("CARGO_PKG_VERSION") }
    }
}

// `POST /jobs`: the job's id, and whether it is new (201) or an idempotent repeat (200).
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct EnqueuedView<'a> {
    #[cfg_attr(feature = "openapi", schemars(with = "wire::JobId"))]
    id: &'a str,
    /// `false` when a job with the same `idempotency_key` already existed in the queue; `id` is
    /// then that job's id and nothing was stored.
    created: bool,
}

impl<'a> EnqueuedView<'a> {
    fn new(job: &'a Enqueued) -> Self {
        EnqueuedView { id: &job.id, created: job.created }
    }
}

// One entry of a bulk enqueue's `succeeded`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(inline))]
pub struct BulkItemView<'a> {
    /// Position of the item in the request.
    #[cfg_attr(feature = "openapi", schemars(range(max = spec::BULK_JOBS.end() - 1)))]
    index: usize,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::JobId"))]
    job_id: &'a str,
    /// `false` for an item whose idempotency key named an existing job.
    created: bool,
}

/// Spooled's bulk reply: one `succeeded` entry per item, in request order.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct BulkView<'a> {
    succeeded: Vec<BulkItemView<'a>>,
    /// Always empty: a batch is atomic, so an invalid item fails the whole request. Kept for
    /// Spooled's shape.
    #[cfg_attr(feature = "openapi", schemars(schema_with = "wire::no_failures"))]
    failed: [(); 0],
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::BULK_JOBS.start(), max = *spec::BULK_JOBS.end())))]
    total: usize,
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::BULK_JOBS.start(), max = *spec::BULK_JOBS.end())))]
    success_count: usize,
    #[cfg_attr(feature = "openapi", schemars(range(max = 0)))]
    failure_count: usize,
}

impl<'a> BulkView<'a> {
    fn new(jobs: &'a [Enqueued]) -> Self {
        let succeeded = jobs
            .iter()
            .enumerate()
            .map(|(index, j)| BulkItemView { index, job_id: &j.id, created: j.created })
            .collect();
        let total = jobs.len();
        BulkView { succeeded, failed: [], total, success_count: total, failure_count: 0 }
    }
}

/// The full job (Spooled's `Job`).
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct JobView<'a> {
    #[cfg_attr(feature = "openapi", schemars(with = "wire::JobId"))]
    id: &'a str,
    /// The tenant (organization) id.
    #[cfg_attr(feature = "openapi", schemars(pattern("^[0-9a-z]{20}$")))]
    organization_id: &'a str,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: &'a str,
    status: JobStatus,
    /// The JSON value given at enqueue (any JSON but `null`), returned as sent (minified).
    payload: &'a RawValue,
    /// The JSON value given at complete, or `null`.
    result: Option<&'a RawValue>,
    /// Failed attempts so far (fails and expired leases); at most `max_retries + 1`.
    #[cfg_attr(feature = "openapi", schemars(range(min = 0, max = spec::MAX_ATTEMPTS)))]
    retry_count: i64,
    /// The job runs at most `max_retries + 1` times.
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::MAX_RETRIES.start(), max = *spec::MAX_RETRIES.end())))]
    max_retries: i64,
    /// Error of the last failed attempt (truncated to 2048 characters).
    #[cfg_attr(feature = "openapi", schemars(length(max = spec::MAX_ERROR_LEN)))]
    last_error: Option<&'a str>,
    created_at: Time,
    /// When a scheduled or retry-delayed job may run.
    scheduled_at: Option<Time>,
    /// When the job was last claimed.
    started_at: Option<Time>,
    /// When the job completed or was cancelled.
    completed_at: Option<Time>,
    /// After this time an unclaimed job is cancelled instead of run.
    expires_at: Option<Time>,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::Priority"))]
    priority: i64,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::Tags"))]
    tags: Option<&'a RawValue>,
    /// Advisory run-time limit handed to workers (default 300 or the queue's
    /// `default_timeout`); only the lease is enforced.
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::TIMEOUT_SECS.start(), max = *spec::TIMEOUT_SECS.end())))]
    timeout_seconds: i64,
    /// Spooled field; always `null` (job dependencies are not supported).
    #[cfg_attr(feature = "openapi", schemars(with = "()"))]
    parent_job_id: Option<&'a str>,
    /// The job's own completion webhook URL (its deliveries: `GET /jobs/{id}/webhook-deliveries`).
    completion_webhook: Option<&'a str>,
    /// The `worker_id` of the claim holding the lease, when it gave one.
    assigned_worker_id: Option<&'a str>,
    /// Always `null`: only the claimer sees the lease id (`ClaimedJob.lease_id`).
    // Spooled's shape has the field, but the lease id is the claimer's secret: shown to every
    // reader it would let any of them complete or extend the lease.
    #[cfg_attr(feature = "openapi", schemars(with = "()"))]
    lease_id: Option<&'a str>,
    /// Set exactly while the job is `processing`.
    lease_expires_at: Option<Time>,
    /// As sent, or `{batch key}:{index}` for a bulk item that took its key from the batch's.
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = spec::MAX_IDEMPOTENCY_KEY_LEN)))]
    idempotency_key: Option<&'a str>,
    updated_at: Time,
    /// Spooled field; always `null` (workflows are not supported).
    #[cfg_attr(feature = "openapi", schemars(with = "()"))]
    workflow_id: Option<&'a str>,
    /// Spooled field; always `null`.
    #[cfg_attr(feature = "openapi", schemars(with = "()"))]
    dependency_mode: Option<&'a str>,
    /// Spooled field; always `null`.
    #[cfg_attr(feature = "openapi", schemars(with = "()"))]
    dependencies_met: Option<bool>,
}

impl<'a> JobView<'a> {
    /// The wire view of `job`, of the queue and tenant in `scope`.
    pub fn new(job: &'a JobRecord, scope: Scope<'a>) -> Self {
        JobView {
            id: &job.id,
            organization_id: scope.tenant,
            queue_name: scope.queue,
            status: job.status,
            payload: &job.payload,
            result: job.result.as_deref(),
            retry_count: job.retry_count,
            max_retries: job.max_retries,
            last_error: job.last_error.as_deref(),
            created_at: Time(job.created_at),
            scheduled_at: time(job.scheduled_at),
            started_at: time(job.started_at),
            completed_at: time(job.completed_at),
            expires_at: time(job.expires_at),
            priority: job.priority,
            tags: job.tags.as_deref(),
            timeout_seconds: job.timeout_seconds,
            parent_job_id: None,
            completion_webhook: job.completion_webhook.as_deref(),
            assigned_worker_id: job.worker_id.as_deref(),
            lease_id: None,
            lease_expires_at: time(job.lease_expires_at),
            idempotency_key: job.idempotency_key.as_deref(),
            updated_at: Time(job.updated_at),
            workflow_id: None,
            dependency_mode: None,
            dependencies_met: None,
        }
    }
}

/// A job in a list (Spooled's `JobSummary`); carries both `attempt` and `retry_count`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SummaryView<'a> {
    #[cfg_attr(feature = "openapi", schemars(with = "wire::JobId"))]
    id: &'a str,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: &'a str,
    status: JobStatus,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::Priority"))]
    priority: i64,
    /// Same as `retry_count` (Spooled's dashboard name).
    #[cfg_attr(feature = "openapi", schemars(range(min = 0, max = spec::MAX_ATTEMPTS)))]
    attempt: i64,
    #[cfg_attr(feature = "openapi", schemars(range(min = 0, max = spec::MAX_ATTEMPTS)))]
    retry_count: i64,
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::MAX_RETRIES.start(), max = *spec::MAX_RETRIES.end())))]
    max_retries: i64,
    created_at: Time,
    scheduled_at: Option<Time>,
    started_at: Option<Time>,
    completed_at: Option<Time>,
    /// The payload's `job_type` when it is a string, else `""`.
    job_type: &'a str,
    /// Error of the last failed attempt.
    #[cfg_attr(feature = "openapi", schemars(length(max = spec::MAX_ERROR_LEN)))]
    last_error: Option<&'a str>,
}

impl<'a> SummaryView<'a> {
    /// The list entry of `job`, of queue `queue_name`.
    pub fn new(job: &'a JobSummary, queue_name: &'a str) -> Self {
        SummaryView {
            id: &job.id,
            queue_name,
            status: job.status,
            priority: job.priority,
            attempt: job.retry_count,
            retry_count: job.retry_count,
            max_retries: job.max_retries,
            created_at: Time(job.created_at),
            scheduled_at: time(job.scheduled_at),
            started_at: time(job.started_at),
            completed_at: time(job.completed_at),
            job_type: &job.job_type,
            last_error: job.last_error.as_deref(),
        }
    }
}

// `POST /jobs/claim`: the leased jobs.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ClaimView<'a> {
    /// Claimed jobs in claim order (priority descending, then FIFO); empty when nothing is
    /// claimable, the queue is paused, or the wait ended.
    #[cfg_attr(feature = "openapi", schemars(length(max = *spec::CLAIM_LIMIT.end())))]
    jobs: Vec<ClaimedView<'a>>,
}

/// A job leased to the caller by claim, with the lease that fences complete, fail and heartbeat.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "ClaimedJob"))]
pub struct ClaimedView<'a> {
    #[cfg_attr(feature = "openapi", schemars(with = "wire::JobId"))]
    id: &'a str,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: &'a str,
    /// The job's payload (any JSON but `null`).
    payload: &'a RawValue,
    // A job with `MAX_ATTEMPTS` failures is dead-lettered, never claimed.
    #[cfg_attr(feature = "openapi", schemars(range(min = 0, max = *spec::MAX_RETRIES.end())))]
    retry_count: i64,
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::MAX_RETRIES.start(), max = *spec::MAX_RETRIES.end())))]
    max_retries: i64,
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::TIMEOUT_SECS.start(), max = *spec::TIMEOUT_SECS.end())))]
    timeout_seconds: i64,
    lease_expires_at: Time,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::LeaseId"))]
    lease_id: &'a str,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::Priority"))]
    priority: i64,
}

impl<'a> ClaimedView<'a> {
    /// The wire view of claimed `job`, of queue `queue_name`.
    pub fn new(job: &'a ClaimedJob, queue_name: &'a str) -> Self {
        ClaimedView {
            id: &job.id,
            queue_name,
            payload: &job.payload,
            retry_count: job.retry_count,
            max_retries: job.max_retries,
            timeout_seconds: job.timeout_seconds,
            lease_expires_at: Time(job.lease_expires_at),
            lease_id: &job.lease_id,
            priority: job.priority,
        }
    }
}

// `POST /jobs/{id}/complete`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SuccessView {
    #[cfg_attr(feature = "openapi", schemars(extend("const" = true)))]
    success: bool,
}

// `POST /jobs/{id}/fail`: where the failed attempt left the job.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FailView {
    #[cfg_attr(feature = "openapi", schemars(extend("const" = true)))]
    success: bool,
    /// `pending`: the job will run again at `retry_at`; `deadletter`: it was out of retries.
    #[cfg_attr(feature = "openapi", schemars(schema_with = "wire::retry_or_deadletter"))]
    status: JobStatus,
    /// Failed attempts counted, this one included.
    #[cfg_attr(feature = "openapi", schemars(range(min = 1, max = spec::MAX_ATTEMPTS)))]
    retry_count: u32,
    /// When the retry may run (`null` when dead-lettered).
    retry_at: Option<Time>,
}

impl FailView {
    fn new(outcome: &FailOutcome) -> Self {
        FailView {
            success: true,
            status: outcome.status,
            retry_count: outcome.retry_count,
            retry_at: time(outcome.retry_at),
        }
    }
}

// `POST /jobs/{id}/heartbeat`: the lease's new end.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct HeartbeatView {
    #[cfg_attr(feature = "openapi", schemars(extend("const" = true)))]
    success: bool,
    lease_expires_at: Time,
}

// `POST /jobs/dlq/retry`: the replayed jobs (of every queue the request reached).
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ReplayedView<'a> {
    retried_count: usize,
    /// Ids of the replayed jobs, now `pending`.
    #[cfg_attr(feature = "openapi", schemars(with = "Vec<wire::JobId>"))]
    retried_jobs: Vec<&'a str>,
}

impl<'a> ReplayedView<'a> {
    /// The view of these replayed job ids.
    pub fn new(ids: Vec<&'a str>) -> Self {
        ReplayedView { retried_count: ids.len(), retried_jobs: ids }
    }
}

// `POST /jobs/dlq/purge`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PurgedView {
    #[cfg_attr(feature = "openapi", schemars(range(max = *spec::PURGE_LIMIT.end())))]
    purged_count: usize,
}

// One entry of `GET /jobs/status`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct JobStatusView<'a> {
    #[cfg_attr(feature = "openapi", schemars(with = "wire::JobId"))]
    id: &'a str,
    status: JobStatus,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: &'a str,
    #[cfg_attr(feature = "openapi", schemars(range(min = 0, max = spec::MAX_ATTEMPTS)))]
    retry_count: i64,
    created_at: Time,
    completed_at: Option<Time>,
}

impl<'a> JobStatusView<'a> {
    /// The status entry of `job`, of queue `queue_name`.
    pub fn new(job: &'a JobSummary, queue_name: &'a str) -> Self {
        JobStatusView {
            id: &job.id,
            status: job.status,
            queue_name,
            retry_count: job.retry_count,
            created_at: Time(job.created_at),
            completed_at: time(job.completed_at),
        }
    }
}

/// Jobs stored per status, and in total.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct JobStatsView {
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    pending: i64,
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    scheduled: i64,
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    processing: i64,
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    completed: i64,
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    failed: i64,
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    deadletter: i64,
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    cancelled: i64,
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    total: i64,
}

impl JobStatsView {
    /// The view of `counts`.
    pub fn new(counts: &StatusCounts) -> Self {
        let StatusCounts { pending, scheduled, processing, completed, failed, deadletter, cancelled, total } = *counts;
        JobStatsView { pending, scheduled, processing, completed, failed, deadletter, cancelled, total }
    }
}

/// Spooled's queue stats. A queue that never existed has all zeros.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct QueueStatsView<'a> {
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: &'a str,
    /// `pending` plus `scheduled` jobs.
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    pending_jobs: i64,
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    processing_jobs: i64,
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    completed_jobs_24h: i64,
    /// Jobs dead-lettered in the last 24 hours.
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    failed_jobs_24h: i64,
    /// Mean `completed_at - started_at` of the last 24 hours' completions; `null` when none.
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    avg_processing_time_ms: Option<f64>,
    /// Age of the oldest waiting (`pending`/`scheduled`) job; `null` when none.
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    max_job_age_seconds: Option<i64>,
    /// Distinct workers holding leases now.
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    active_workers: i64,
    /// Jobs stored, any status (bounded by `max_jobs`).
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    total_jobs: i64,
    /// Size of the queue's SQLite database.
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    database_bytes: i64,
}

impl<'a> QueueStatsView<'a> {
    fn new(stats: &QueueStats, queue_name: &'a str) -> Self {
        QueueStatsView {
            queue_name,
            // Spooled's "pending" is everything waiting to run.
            pending_jobs: stats.counts.pending + stats.counts.scheduled,
            processing_jobs: stats.counts.processing,
            completed_jobs_24h: stats.completed_24h,
            failed_jobs_24h: stats.deadletter_24h,
            avg_processing_time_ms: stats.avg_processing_time_ms,
            max_job_age_seconds: stats.max_job_age_seconds,
            active_workers: stats.active_workers,
            total_jobs: stats.counts.total,
            database_bytes: stats.database_bytes,
        }
    }
}

// `PUT /jobs/{id}/priority`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PriorityView<'a> {
    #[cfg_attr(feature = "openapi", schemars(with = "wire::JobId"))]
    job_id: &'a str,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::Priority"))]
    old_priority: i64,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::Priority"))]
    new_priority: i64,
}

/// A queue's settings (Spooled's `QueueConfig` plus edgespool's own fields). Enqueue and
/// claim apply these defaults.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct QueueConfigView<'a> {
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    id: &'a str,
    #[cfg_attr(feature = "openapi", schemars(pattern("^[0-9a-z]{20}$")))]
    organization_id: &'a str,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: &'a str,
    /// Default `max_retries` for jobs that set none (default 3).
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::MAX_RETRIES.start(), max = *spec::MAX_RETRIES.end())))]
    max_retries: u32,
    /// Default `timeout_seconds` for jobs that set none (default 300).
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::TIMEOUT_SECS.start(), max = *spec::TIMEOUT_SECS.end())))]
    default_timeout: u32,
    /// Most jobs claimed per second, across all workers (claims beyond it get fewer or no jobs;
    /// a long-polling claim waits for the next token); `null`: unlimited (default).
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::QUEUE_RATE_LIMIT.start(), max = *spec::QUEUE_RATE_LIMIT.end())))]
    rate_limit: Option<u32>,
    /// `false` while paused: claims return no jobs; enqueue still works.
    enabled: bool,
    /// Free-form settings stored with the queue (default `{}`).
    #[cfg_attr(feature = "openapi", schemars(with = "wire::Object"))]
    settings: &'a Value,
    /// Lease of claims that set none (default 30).
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::LEASE_SECS.start(), max = *spec::LEASE_SECS.end())))]
    lease_duration_secs: u32,
    /// First retry delay after a failed attempt (default 1).
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::BACKOFF_SECS.start(), max = *spec::BACKOFF_SECS.end())))]
    backoff_base_secs: f64,
    /// Longest retry delay before jitter (default 60).
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::BACKOFF_SECS.start(), max = *spec::BACKOFF_SECS.end())))]
    backoff_cap_secs: f64,
    /// How long completed and cancelled jobs are kept (default 604800, 7 days).
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::RETENTION_SECS.start(), max = *spec::RETENTION_SECS.end())))]
    retention_secs: i64,
    /// Most jobs stored at once, any status (default 1,000,000); past it enqueue answers 429
    /// `QUEUE_FULL`.
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::MAX_JOBS.start(), max = *spec::MAX_JOBS.end())))]
    max_jobs: u32,
    /// Whether worker operations need the `lease_id`.
    require_lease_id: bool,
    paused_at: Option<Time>,
    #[cfg_attr(feature = "openapi", schemars(length(max = spec::MAX_PAUSE_REASON_LEN)))]
    paused_reason: Option<&'a str>,
    /// When the queue first had a job or a setting. A queue never configured reports its oldest
    /// stored job's enqueue time (finished jobs are pruned after retention); its first setting
    /// fixes the value.
    #[cfg_attr(feature = "openapi", schemars(with = "Time"))]
    created_at: Option<Time>,
    /// When the settings last changed; `created_at` for a queue never configured.
    #[cfg_attr(feature = "openapi", schemars(with = "Time"))]
    updated_at: Option<Time>,
}

impl<'a> QueueConfigView<'a> {
    fn new(s: &'a QueueSettings, scope: Scope<'a>) -> Self {
        let secs = |ms: EpochMs| ms as f64 / SECOND_MS as f64;
        QueueConfigView {
            id: scope.queue,
            organization_id: scope.tenant,
            queue_name: scope.queue,
            max_retries: s.default_max_retries,
            default_timeout: s.default_timeout_secs,
            rate_limit: s.rate_limit,
            enabled: s.enabled,
            settings: &s.settings,
            lease_duration_secs: s.default_lease_secs,
            backoff_base_secs: secs(s.retry.base_ms),
            backoff_cap_secs: secs(s.retry.cap_ms),
            retention_secs: s.retention_ms / SECOND_MS,
            max_jobs: s.max_jobs,
            require_lease_id: s.require_lease_id,
            paused_at: time(s.paused_at),
            paused_reason: s.paused_reason.as_deref(),
            created_at: time(s.created_at),
            updated_at: time(s.updated_at),
        }
    }
}

// One queue of `GET /queues`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct QueueSummaryView<'a> {
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: &'a str,
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::MAX_RETRIES.start(), max = *spec::MAX_RETRIES.end())))]
    max_retries: u32,
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::TIMEOUT_SECS.start(), max = *spec::TIMEOUT_SECS.end())))]
    default_timeout: u32,
    /// Most jobs claimed per second across all workers; `null`: unlimited.
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::QUEUE_RATE_LIMIT.start(), max = *spec::QUEUE_RATE_LIMIT.end())))]
    rate_limit: Option<u32>,
    /// `false` while paused.
    enabled: bool,
}

impl<'a> QueueSummaryView<'a> {
    /// The list entry of queue `queue_name` with settings `s`.
    pub fn new(s: &QueueSettings, queue_name: &'a str) -> Self {
        QueueSummaryView {
            queue_name,
            max_retries: s.default_max_retries,
            default_timeout: s.default_timeout_secs,
            rate_limit: s.rate_limit,
            enabled: s.enabled,
        }
    }
}

// `POST /queues/{name}/pause`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PausedView<'a> {
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: &'a str,
    #[cfg_attr(feature = "openapi", schemars(extend("const" = true)))]
    paused: bool,
    // A paused queue always has its pause time.
    #[cfg_attr(feature = "openapi", schemars(with = "Time"))]
    paused_at: Option<Time>,
    #[cfg_attr(feature = "openapi", schemars(length(max = spec::MAX_PAUSE_REASON_LEN)))]
    reason: Option<&'a str>,
}

// `POST /queues/{name}/resume`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ResumedView<'a> {
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: &'a str,
    #[cfg_attr(feature = "openapi", schemars(extend("const" = true)))]
    resumed: bool,
    /// How long the queue had been paused (0 when it was not).
    #[cfg_attr(feature = "openapi", schemars(range(min = 0)))]
    paused_duration_secs: i64,
}

/// Per-item outcomes of a batch ack; each item succeeds or fails on its own.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AckView<'a> {
    /// One outcome per item, acks first, then fails, each in request order.
    results: Vec<AckItemView<'a>>,
    succeeded: usize,
    failed: usize,
}

/// One item of an ack: `{id, success: true, status}` or `{id, success: false, code, message}`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "AckResult"))]
pub struct AckItemView<'a> {
    id: &'a str,
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<JobStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<ErrorKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

impl<'a> AckView<'a> {
    fn new(outcomes: &'a [AckOutcome]) -> Self {
        let results: Vec<AckItemView> = outcomes
            .iter()
            .map(|o| match &o.result {
                Ok(status) => {
                    AckItemView { id: &o.id, success: true, status: Some(*status), code: None, message: None }
                }
                Err(e) => AckItemView {
                    id: &o.id,
                    success: false,
                    status: None,
                    code: Some(e.kind),
                    message: Some(&e.message),
                },
            })
            .collect();
        let succeeded = results.iter().filter(|r| r.success).count();
        AckView { failed: results.len() - succeeded, succeeded, results }
    }
}

/// Renders a tenant actor's reply to a key or worker route.
pub fn tenant_reply(reply: &TenantReply) -> Result<Answer, ApiError> {
    match reply {
        TenantReply::Key(key) => json(200, &KeyView::new(key, None)),
        TenantReply::Keys(keys) => json(200, &keys.iter().map(|key| KeyView::new(key, None)).collect::<Vec<_>>()),
        TenantReply::Worker(worker) => json(200, &WorkerView::new(worker, true)),
        // The list leaves metadata out (`GET /workers/{id}` has it); `X-Has-More` says the rest.
        TenantReply::Workers(workers, _) => {
            json(200, &workers.iter().map(|w| WorkerView::new(w, false)).collect::<Vec<_>>())
        }
        TenantReply::HeartbeatRecorded => {
            json(200, &HeartbeatAckView { acknowledged: true, next_heartbeat_seconds: HEARTBEAT_INTERVAL_SECS })
        }
        TenantReply::Deregistered(_) | TenantReply::Done => Ok((204, String::new())),
        // These answer the Worker itself (a key check, the queue catalog) or another actor
        // (subscriptions), or need what only the Worker holds (the raw key of a new organization).
        TenantReply::Organization(_)
        | TenantReply::Principal(_)
        | TenantReply::Queues(..)
        | TenantReply::Registered(_)
        | TenantReply::Subscribed(..) => Err(ApiError::internal("this tenant reply is not a response of its own")),
    }
}

/// An API key without its secret.
// `key` (the raw key) is sent only in the response that created it.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct KeyView<'a> {
    #[cfg_attr(feature = "openapi", schemars(with = "wire::ApiKeyId"))]
    id: &'a str,
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = spec::MAX_NAME_LEN)))]
    name: &'a str,
    /// The key's first 16 characters, for recognising it.
    #[cfg_attr(feature = "openapi", schemars(length(min = DISPLAY_PREFIX_LEN, max = DISPLAY_PREFIX_LEN)))]
    key_prefix: &'a str,
    /// Queue names, or `["*"]` for every queue.
    #[cfg_attr(feature = "openapi", schemars(length(max = spec::MAX_KEY_QUEUES)))]
    queues: &'a [String],
    /// Requests per minute for this key; `null`: the server default.
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::KEY_RATE_LIMIT.start(), max = *spec::KEY_RATE_LIMIT.end())))]
    rate_limit: Option<i64>,
    is_active: bool,
    created_at: Time,
    last_used: Option<Time>,
    expires_at: Option<Time>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(with = "wire::RawApiKey"))]
    key: Option<&'a str>,
}

impl<'a> KeyView<'a> {
    /// The view of `key`, with its raw text when it was just minted.
    pub fn new(key: &'a KeyRecord, raw: Option<&'a str>) -> Self {
        KeyView {
            id: &key.id,
            name: &key.name,
            key_prefix: &key.key_prefix,
            queues: &key.queues,
            rate_limit: key.rate_limit,
            is_active: key.is_active,
            created_at: Time(key.created_at),
            last_used: time(key.last_used),
            expires_at: time(key.expires_at),
            key: raw,
        }
    }
}

/// A worker's free-form metadata: the stored object, or `{}` when it has none.
pub struct Metadata<'a>(Option<&'a RawValue>);

impl Serialize for Metadata<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(raw) => raw.serialize(serializer),
            None => serializer.serialize_map(Some(0))?.end(),
        }
    }
}

/// A registered worker. Offline workers are forgotten a day after their last heartbeat.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct WorkerView<'a> {
    #[cfg_attr(feature = "openapi", schemars(with = "wire::WorkerId"))]
    id: &'a str,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: &'a str,
    #[cfg_attr(feature = "openapi", schemars(with = "[wire::QueueName; 1]"))]
    queue_names: [&'a str; 1],
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = spec::MAX_HOSTNAME_LEN)))]
    hostname: &'a str,
    /// As last reported; `offline` once silent for 2 minutes.
    #[cfg_attr(feature = "openapi", schemars(schema_with = "wire::worker_status"))]
    status: &'a str,
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::CURRENT_JOBS.start(), max = *spec::CURRENT_JOBS.end())))]
    current_jobs: i64,
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::MAX_CONCURRENCY.start(), max = *spec::MAX_CONCURRENCY.end())))]
    max_concurrency: i64,
    last_heartbeat: Time,
    #[cfg_attr(feature = "openapi", schemars(length(max = spec::MAX_WORKER_LABEL_LEN)))]
    worker_type: Option<&'a str>,
    /// Free-form object (default `{}`); left out of `GET /workers`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schemars(with = "wire::Object"))]
    metadata: Option<Metadata<'a>>,
    #[cfg_attr(feature = "openapi", schemars(length(max = spec::MAX_WORKER_LABEL_LEN)))]
    version: Option<&'a str>,
    registered_at: Time,
    updated_at: Time,
}

impl<'a> WorkerView<'a> {
    /// The view of `w`, with its metadata or (in lists) without.
    fn new(w: &'a WorkerRecord, with_metadata: bool) -> Self {
        WorkerView {
            id: &w.id,
            queue_name: &w.queue_name,
            queue_names: [&w.queue_name],
            hostname: &w.hostname,
            status: &w.status,
            current_jobs: w.current_jobs,
            max_concurrency: w.max_concurrency,
            last_heartbeat: Time(w.last_heartbeat),
            worker_type: w.worker_type.as_deref(),
            metadata: with_metadata.then_some(Metadata(w.metadata.as_deref())),
            version: w.version.as_deref(),
            registered_at: Time(w.registered_at),
            updated_at: Time(w.updated_at),
        }
    }
}

// `POST /workers/register`: the worker's id and how it should lease and heartbeat.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RegisteredWorkerView<'a> {
    #[cfg_attr(feature = "openapi", schemars(with = "wire::WorkerId"))]
    id: &'a str,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::QueueName"))]
    queue_name: &'a str,
    /// The queue's default lease.
    #[cfg_attr(feature = "openapi", schemars(range(min = *spec::LEASE_SECS.start(), max = *spec::LEASE_SECS.end())))]
    lease_duration_secs: u32,
    /// How often to call `POST /workers/{id}/heartbeat` (10).
    #[cfg_attr(feature = "openapi", schemars(range(min = 1)))]
    heartbeat_interval_secs: u32,
}

impl<'a> RegisteredWorkerView<'a> {
    /// The registration reply for `worker`, whose queue leases for `lease_duration_secs`.
    pub fn new(worker: &'a WorkerRecord, lease_duration_secs: u32) -> Self {
        RegisteredWorkerView {
            id: &worker.id,
            queue_name: &worker.queue_name,
            lease_duration_secs,
            heartbeat_interval_secs: HEARTBEAT_INTERVAL_SECS,
        }
    }
}

// `POST /workers/{id}/heartbeat`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct HeartbeatAckView {
    #[cfg_attr(feature = "openapi", schemars(extend("const" = true)))]
    acknowledged: bool,
    #[cfg_attr(feature = "openapi", schemars(range(min = 1)))]
    next_heartbeat_seconds: u32,
}

// `POST /organizations`: the organization and its first key, raw key included (shown once).
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct OrganizationView<'a> {
    organization: OrganizationFields<'a>,
    api_key: FirstKeyView<'a>,
}

// The organization part of [`OrganizationView`].
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "Organization"))]
pub struct OrganizationFields<'a> {
    /// The tenant id (also part of every API key).
    #[cfg_attr(feature = "openapi", schemars(pattern("^[0-9a-z]{20}$")))]
    id: &'a str,
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = spec::MAX_NAME_LEN)))]
    name: &'a str,
    #[cfg_attr(feature = "openapi", schemars(pattern("^[a-z0-9-]{1,64}$")))]
    slug: &'a str,
    /// edgespool has no billing tiers.
    #[cfg_attr(feature = "openapi", schemars(extend("const" = PLAN_TIER)))]
    plan_tier: &'a str,
    created_at: Time,
    updated_at: Time,
}

/// The organization's first key (access to every queue); `key` is shown only here.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(inline))]
pub struct FirstKeyView<'a> {
    #[cfg_attr(feature = "openapi", schemars(with = "wire::ApiKeyId"))]
    id: &'a str,
    #[cfg_attr(feature = "openapi", schemars(extend("const" = FIRST_KEY_NAME)))]
    name: &'a str,
    created_at: Time,
    #[cfg_attr(feature = "openapi", schemars(with = "wire::RawApiKey"))]
    key: &'a str,
}

impl<'a> OrganizationView<'a> {
    /// The view of `created`, with the first key's `raw` text.
    pub fn new(created: &'a CreatedOrganization, raw: &'a str) -> Self {
        let org = &created.organization;
        let at = Time(created.created_at);
        OrganizationView {
            organization: OrganizationFields {
                id: &org.id,
                name: &org.name,
                slug: &org.slug,
                plan_tier: PLAN_TIER,
                created_at: at,
                updated_at: at,
            },
            api_key: FirstKeyView { id: &created.key_id, name: &created.key_name, created_at: at, key: raw },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::store::NewOrganization;
    use crate::tenant::Principal;

    fn parsed((status, body): Answer) -> (u16, Value) {
        (status, if body.is_empty() { Value::Null } else { serde_json::from_str(&body).unwrap() })
    }

    fn worker(metadata: Option<&str>) -> WorkerRecord {
        WorkerRecord {
            id: "w".into(),
            queue_name: "q".into(),
            hostname: "h".into(),
            status: "healthy".into(),
            current_jobs: 1,
            max_concurrency: 5,
            last_heartbeat: 0,
            worker_type: None,
            metadata: metadata.map(|m| RawValue::from_string(m.into()).unwrap()),
            version: None,
            registered_at: 0,
            updated_at: 1,
        }
    }

    #[test]
    fn workers_render_their_queue_twice_and_metadata_or_an_empty_object() {
        let (status, body) = parsed(tenant_reply(&TenantReply::Worker(worker(None))).unwrap());
        assert_eq!(status, 200);
        assert_eq!((&body["queue_names"], &body["metadata"]), (&serde_json::json!(["q"]), &serde_json::json!({})));
        assert_eq!(body["updated_at"], "1970-01-01T00:00:00.001Z");
        let (_, body) = parsed(tenant_reply(&TenantReply::Worker(worker(Some(r#"{"a":1.50}"#)))).unwrap());
        assert_eq!(body["metadata"], serde_json::json!({"a": 1.5}));
        let (_, listed) = parsed(tenant_reply(&TenantReply::Workers(vec![worker(Some("{}"))], false)).unwrap());
        assert!(listed[0].get("metadata").is_none(), "the list leaves metadata out");
    }

    #[test]
    fn a_key_shows_its_raw_text_only_when_minted() {
        let key = KeyRecord {
            id: "key_1".into(),
            name: "ci".into(),
            key_prefix: "sp_live_abc".into(),
            queues: vec!["a".into()],
            rate_limit: None,
            is_active: true,
            created_at: 0,
            last_used: None,
            expires_at: None,
        };
        let (_, listed) = parsed(tenant_reply(&TenantReply::Keys(vec![key.clone()])).unwrap());
        assert!(listed[0].get("key").is_none());
        assert_eq!((&listed[0]["queues"], &listed[0]["last_used"]), (&serde_json::json!(["a"]), &Value::Null));
        let minted: Value = serde_json::from_str(&to_json(&KeyView::new(&key, Some("sp_live_raw"))).unwrap()).unwrap();
        assert_eq!(minted["key"], "sp_live_raw");
    }

    #[test]
    fn a_new_organization_renders_with_its_first_key() {
        let created = CreatedOrganization {
            organization: NewOrganization { id: "t".into(), name: "Acme".into(), slug: "acme".into() },
            key_id: "key_1".into(),
            key_name: "default".into(),
            created_at: 0,
        };
        let body: Value =
            serde_json::from_str(&to_json(&OrganizationView::new(&created, "sp_live_x")).unwrap()).unwrap();
        assert_eq!(body["organization"]["plan_tier"], PLAN_TIER);
        assert_eq!(body["organization"]["updated_at"], body["organization"]["created_at"]);
        assert_eq!(
            (&body["api_key"]["id"], &body["api_key"]["key"]),
            (&serde_json::json!("key_1"), &serde_json::json!("sp_live_x"))
        );
    }

    #[test]
    fn replies_that_say_nothing_are_204_and_internal_ones_are_not_responses() {
        assert_eq!(tenant_reply(&TenantReply::Done).unwrap(), (204, String::new()));
        assert_eq!(tenant_reply(&TenantReply::Deregistered("q".into())).unwrap().0, 204);
        assert_eq!(queue_reply(&QueueReply::Done, Scope { tenant: "t", queue: "q" }).unwrap().0, 204);
        let principal =
            Principal { tenant_id: "t".into(), key_id: "k".into(), queues: vec![], rate_limit: None, expires_at: None };
        let err = tenant_reply(&TenantReply::Principal(principal)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InternalError);
    }

    #[test]
    fn queue_stats_count_scheduled_jobs_as_pending() {
        let mut counts = StatusCounts::default();
        counts.add(JobStatus::Pending, 2);
        counts.add(JobStatus::Scheduled, 1);
        counts.add(JobStatus::Completed, 4);
        let stats = QueueStats {
            counts,
            completed_24h: 4,
            deadletter_24h: 0,
            avg_processing_time_ms: Some(12.5),
            max_job_age_seconds: None,
            active_workers: 0,
            database_bytes: 4096,
        };
        let (_, body) = parsed(queue_reply(&QueueReply::Stats(stats), Scope { tenant: "t", queue: "q" }).unwrap());
        assert_eq!(
            (&body["queue_name"], &body["pending_jobs"], &body["total_jobs"]),
            (&serde_json::json!("q"), &serde_json::json!(3), &serde_json::json!(7))
        );
        assert_eq!(
            (&body["failed_jobs_24h"], &body["avg_processing_time_ms"]),
            (&serde_json::json!(0), &serde_json::json!(12.5))
        );
    }
}

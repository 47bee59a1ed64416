//! Stored rows rendered as Spooled's wire shapes: the full `Job`, the list `JobSummary` and
//! the `ClaimedJob` a worker receives. Column lists and readers live side by side so they
//! cannot drift apart.

use super::sql::{Row, RowExt};
use crate::model::{time::format_rfc3339, ApiError, EpochMs};
use serde::Serialize;
use serde_json::value::RawValue;

/// Columns read for a full [`JobView`], in reader order (a large result lives in `job_results`).
pub const JOB_COLUMNS: &str = "id, status, payload, \
    coalesce(result, (SELECT result FROM job_results WHERE job_results.seq = jobs.seq)), retry_count, max_retries, last_error, \
    created_at, scheduled_at, started_at, completed_at, expires_at, priority, tags, timeout_seconds, \
    worker_id, lease_expires_at, idempotency_key, updated_at";

/// Columns read for a [`SummaryView`], in reader order.
pub const SUMMARY_COLUMNS: &str =
    "id, status, priority, retry_count, max_retries, created_at, scheduled_at, started_at, completed_at, \
     CASE json_type(payload, '$.job_type') WHEN 'text' THEN json_extract(payload, '$.job_type') ELSE '' END, \
     last_error";

/// Columns a claim returns for a [`ClaimedView`], in reader order.
pub const CLAIMED_COLUMNS: &str =
    "id, payload, retry_count, max_retries, timeout_seconds, lease_expires_at, lease_id, priority, seq";

fn time(ms: Option<i64>) -> Option<String> {
    ms.map(format_rfc3339)
}

fn raw_json(text: Option<&str>) -> Result<Option<&RawValue>, ApiError> {
    text.map(serde_json::from_str::<&RawValue>).transpose().map_err(|_| ApiError::internal("stored JSON is corrupt"))
}

/// The full Spooled `Job` object (GET /jobs/{id}).
#[derive(Serialize)]
pub struct JobView<'r> {
    id: &'r str,
    organization_id: &'r str,
    queue_name: &'r str,
    status: &'r str,
    payload: Option<&'r RawValue>,
    result: Option<&'r RawValue>,
    retry_count: i64,
    max_retries: i64,
    last_error: Option<&'r str>,
    created_at: Option<String>,
    scheduled_at: Option<String>,
    started_at: Option<String>,
    completed_at: Option<String>,
    expires_at: Option<String>,
    priority: i64,
    tags: Option<&'r RawValue>,
    timeout_seconds: i64,
    parent_job_id: Option<&'r str>,
    completion_webhook: Option<&'r str>,
    assigned_worker_id: Option<&'r str>,
    /// Always `null`: Spooled's shape has the field, but the lease id is the claimer's secret.
    lease_id: Option<&'r str>,
    lease_expires_at: Option<String>,
    idempotency_key: Option<&'r str>,
    updated_at: Option<String>,
    workflow_id: Option<&'r str>,
    dependency_mode: Option<&'r str>,
    dependencies_met: Option<bool>,
}

impl<'r> JobView<'r> {
    /// Reads a row selected with [`JOB_COLUMNS`].
    pub fn read(row: &'r Row, tenant: &'r str, queue: &'r str) -> Result<Self, ApiError> {
        Ok(JobView {
            id: row.text(0)?,
            organization_id: tenant,
            queue_name: queue,
            status: row.text(1)?,
            payload: raw_json(Some(row.text(2)?))?,
            result: raw_json(row.opt_text(3)?)?,
            retry_count: row.int(4)?,
            max_retries: row.int(5)?,
            last_error: row.opt_text(6)?,
            created_at: time(row.opt_int(7)?),
            scheduled_at: time(row.opt_int(8)?),
            started_at: time(row.opt_int(9)?),
            completed_at: time(row.opt_int(10)?),
            expires_at: time(row.opt_int(11)?),
            priority: row.int(12)?,
            tags: raw_json(row.opt_text(13)?)?,
            timeout_seconds: row.int(14)?,
            parent_job_id: None,
            completion_webhook: None,
            assigned_worker_id: row.opt_text(15)?,
            // Only the claimer learns the lease id (in the claim reply): shown here, it would
            // let anyone who can read the queue complete, fail or extend the lease.
            lease_id: None,
            lease_expires_at: time(row.opt_int(16)?),
            idempotency_key: row.opt_text(17)?,
            updated_at: time(row.opt_int(18)?),
            workflow_id: None,
            dependency_mode: None,
            dependencies_met: None,
        })
    }
}

/// Spooled's `JobSummary` for lists; carries both `attempt` and `retry_count`, the payload's
/// `job_type` (empty when it has none) and the last error.
#[derive(Serialize)]
pub struct SummaryView<'r> {
    id: &'r str,
    queue_name: &'r str,
    status: &'r str,
    priority: i64,
    attempt: i64,
    retry_count: i64,
    max_retries: i64,
    created_at: Option<String>,
    scheduled_at: Option<String>,
    started_at: Option<String>,
    completed_at: Option<String>,
    job_type: &'r str,
    last_error: Option<&'r str>,
}

impl<'r> SummaryView<'r> {
    /// Reads a row selected with [`SUMMARY_COLUMNS`].
    pub fn read(row: &'r Row, queue: &'r str) -> Result<Self, ApiError> {
        let retry_count = row.int(3)?;
        Ok(SummaryView {
            id: row.text(0)?,
            queue_name: queue,
            status: row.text(1)?,
            priority: row.int(2)?,
            attempt: retry_count,
            retry_count,
            max_retries: row.int(4)?,
            created_at: time(row.opt_int(5)?),
            scheduled_at: time(row.opt_int(6)?),
            started_at: time(row.opt_int(7)?),
            completed_at: time(row.opt_int(8)?),
            job_type: row.text(9)?,
            last_error: row.opt_text(10)?,
        })
    }
}

/// A job handed to a worker by claim, with the lease that fences it.
#[derive(Serialize)]
pub struct ClaimedView<'r> {
    id: &'r str,
    queue_name: &'r str,
    payload: Option<&'r RawValue>,
    retry_count: i64,
    max_retries: i64,
    timeout_seconds: i64,
    lease_expires_at: Option<String>,
    lease_id: &'r str,
    priority: i64,
    #[serde(skip)]
    seq: i64,
}

impl<'r> ClaimedView<'r> {
    /// Reads a row returned with [`CLAIMED_COLUMNS`].
    pub fn read(row: &'r Row, queue: &'r str) -> Result<Self, ApiError> {
        Ok(ClaimedView {
            id: row.text(0)?,
            queue_name: queue,
            payload: raw_json(Some(row.text(1)?))?,
            retry_count: row.int(2)?,
            max_retries: row.int(3)?,
            timeout_seconds: row.int(4)?,
            lease_expires_at: time(row.opt_int(5)?),
            lease_id: row.text(6)?,
            priority: row.int(7)?,
            seq: row.int(8)?,
        })
    }

    /// Claim order: priority descending, then enqueue order.
    pub fn claim_order(&self) -> (i64, i64) {
        (-self.priority, self.seq)
    }
}

/// Serializes a view; serialization of these shapes cannot fail, but a failure would be a bug
/// reported as an internal error rather than a panic.
pub fn to_json<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| ApiError::internal(format!("rendering failed: {e}")))
}

/// Renders an epoch time for a reply.
pub fn timestamp(ms: EpochMs) -> String {
    format_rfc3339(ms)
}

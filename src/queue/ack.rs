//! Batch acknowledgement: many completions and failures in one actor request. Completions of
//! live leases, the common case, take one statement for the whole batch; every other item goes
//! through the single-job path, which decides it exactly as a lone request would.

use super::lease::result_needs_own_row;
use super::record::AckOutcome;
use super::sql::RowExt;
use super::transition::{Target, Transition, LIVE_LEASE};
use super::Queue;
use crate::model::lease::Fence;
use crate::model::{ApiError, Entropy, EpochMs, ErrorKind, JobStatus};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::HashSet;
use std::sync::LazyLock;

/// One acknowledgement in a batch ack.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(inline))]
pub struct AckItem {
    /// The job. An id that names no job of this queue, malformed ones included, fails only its
    /// item (`NOT_FOUND`).
    pub id: String,
    /// Its lease.
    pub lease_id: String,
    /// Stored as the job's result (≤ 1 MiB).
    pub result: Option<Box<RawValue>>,
}

/// One failure in a batch ack.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(inline))]
pub struct FailItem {
    /// The job. An id that names no job of this queue, malformed ones included, fails only its
    /// item (`NOT_FOUND`).
    pub id: String,
    /// Its lease.
    pub lease_id: String,
    /// Why the attempt failed.
    pub error: String,
    /// Explicit retry delay instead of the queue's backoff curve.
    #[serde(default, deserialize_with = "crate::model::wire::whole")]
    #[cfg_attr(
        feature = "openapi",
        schemars(range(min = *crate::model::spec::RETRY_AFTER_SECS.start(), max = *crate::model::spec::RETRY_AFTER_SECS.end()))
    )]
    pub retry_after_secs: Option<u32>,
}

/// Completes every job of the bound array (?1, [`AckItem`]s as JSON) whose lease is live at
/// ?2 — [`LIVE_LEASE`] with each item's lease id — and returns their ids. A JSON `null` result
/// is stored as no result, as a lone complete does. `INDEXED BY` the `id` constraint's index
/// (the table's first UNIQUE) makes SQLite walk the batch and look each job up, instead of
/// scanning every processing job once per item.
static COMPLETE_LIVE_BATCH: LazyLock<String> = LazyLock::new(|| {
    Transition::Complete.statement(&Target {
        index: Some("sqlite_autoindex_jobs_1"),
        from: Some("json_each(?1) AS acked"),
        rows: &format!("jobs.id = acked.value ->> 'id' AND {LIVE_LEASE}"),
        returning: "jobs.id",
        inputs: &[
            (":result", "nullif(acked.value -> 'result', 'null')"),
            (":now", "?2"),
            (":lease_id", "(acked.value ->> 'lease_id')"),
            (":worker_id", "NULL"),
        ],
    })
});

impl Queue<'_> {
    /// Completes and fails many leased jobs in one go; each item succeeds or fails on its
    /// own, and the outcomes come in request order (acks first, then fails).
    pub fn ack_batch(
        &self,
        acks: &[AckItem],
        fails: &[FailItem],
        now: EpochMs,
        entropy: &mut dyn Entropy,
    ) -> Result<Vec<AckOutcome>, ApiError> {
        let fence = |lease_id: &str| Fence { lease_id: Some(lease_id.to_owned()), worker_id: None };
        let completed = self.complete_live(acks, now)?;
        let mut results = Vec::with_capacity(acks.len() + fails.len());
        for item in acks {
            let outcome = if completed.contains(item.id.as_str()) {
                Ok(())
            } else {
                self.complete(&item.id, &fence(&item.lease_id), item.result.as_deref(), now)
            };
            results.push(item_outcome(&item.id, outcome.map(|()| JobStatus::Completed))?);
        }
        for item in fails {
            let outcome = self.fail(&item.id, &fence(&item.lease_id), &item.error, item.retry_after_secs, now, entropy);
            results.push(item_outcome(&item.id, outcome.map(|o| o.status))?);
        }
        Ok(results)
    }

    /// Completes the acks whose leases are live in one statement; returns their job ids. A
    /// batch naming a job twice skips this (which item would win is not defined in SQL), so
    /// each of its items is decided on its own.
    fn complete_live(&self, acks: &[AckItem], now: EpochMs) -> Result<HashSet<String>, ApiError> {
        let distinct = acks.iter().map(|a| a.id.as_str()).collect::<HashSet<_>>().len() == acks.len();
        // A result that needs a row of its own takes the single-job path.
        let batched: Vec<&AckItem> =
            acks.iter().filter(|a| !a.result.as_deref().is_some_and(result_needs_own_row)).collect();
        if batched.is_empty() || !distinct {
            return Ok(HashSet::new());
        }
        let batch = crate::model::wire::to_json(&batched)?;
        self.sql
            .query(&COMPLETE_LIVE_BATCH, &[batch.into(), now.into()])?
            .iter()
            .map(|row| row.text(0).map(str::to_owned))
            .collect()
    }
}

/// One item's outcome; client errors become part of the reply, storage errors abort the batch.
fn item_outcome(id: &str, outcome: Result<JobStatus, ApiError>) -> Result<AckOutcome, ApiError> {
    match outcome {
        Err(e) if e.kind == ErrorKind::InternalError => Err(e),
        result => Ok(AckOutcome { id: id.to_owned(), result }),
    }
}

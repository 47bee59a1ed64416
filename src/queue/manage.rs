//! Reading jobs, cancelling them, replaying dead letters and purging the dead-letter queue.

use super::record::{JobRecord, JOB_COLUMNS};
use super::sql::{RowExt, SqlValue};
use super::Queue;
use crate::model::{wire::to_json, ApiError, EpochMs, JobStatus};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// Which dead letters a replay or purge acts on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterSelection {
    /// These job ids (those not dead-lettered are skipped).
    Ids(Vec<String>),
    /// The oldest dead letters, up to a limit.
    Oldest(u32),
}

/// Reads one full job (built once: it is on the hot path of `GET /jobs/{id}`).
static GET_JOB: LazyLock<String> = LazyLock::new(|| format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"));

/// Puts a dead-lettered (or failed) job back to `pending` with a fresh set of attempts.
/// An `expires_at` already passed is cleared: replaying is a decision to run the job again,
/// which an elapsed expiry would silently defeat.
const REPLAY: &str = "UPDATE jobs SET status = 'pending', retry_count = 0, last_error = NULL, \
    scheduled_at = NULL, completed_at = NULL, updated_at = ?1, \
    expires_at = CASE WHEN expires_at <= ?1 THEN NULL ELSE expires_at END";

impl Queue<'_> {
    /// The full job, or 404.
    pub fn get_job(&self, id: &str) -> Result<JobRecord, ApiError> {
        let row = self.sql.query_one(&GET_JOB, &[id.into()])?.ok_or_else(|| ApiError::not_found("job"))?;
        JobRecord::read(row)
    }

    /// Cancels a job that has not started (pending or scheduled); anything else is a conflict.
    pub fn cancel(&self, id: &str, now: EpochMs) -> Result<(), ApiError> {
        let status = self.status_of(id)?;
        if !status.is_cancellable() {
            return Err(ApiError::conflict(format!("a {status} job cannot be cancelled")));
        }
        self.sql.query(
            "UPDATE jobs SET status = 'cancelled', completed_at = ?2, updated_at = ?2 WHERE id = ?1",
            &[id.into(), now.into()],
        )?;
        Ok(())
    }

    /// Replays one dead-lettered (or failed) job and returns it.
    pub fn replay(&self, id: &str, now: EpochMs) -> Result<JobRecord, ApiError> {
        let status = self.status_of(id)?;
        if !matches!(status, JobStatus::Deadletter | JobStatus::Failed) {
            return Err(ApiError::conflict(format!("only dead-lettered jobs can be retried; this one is {status}")));
        }
        self.sql.query(&format!("{REPLAY} WHERE id = ?2"), &[now.into(), id.into()])?;
        self.get_job(id)
    }

    /// Changes the priority of a job that has not started; returns the priority it had.
    pub fn set_priority(&self, id: &str, priority: i64, now: EpochMs) -> Result<i64, ApiError> {
        let status = self.status_of(id)?;
        if !status.is_cancellable() {
            return Err(ApiError::conflict(format!("the priority of a {status} job cannot change")));
        }
        let old = self.sql.query_one("SELECT priority FROM jobs WHERE id = ?1", &[id.into()])?;
        let old = old.ok_or_else(|| ApiError::not_found("job"))?.int(0)?;
        self.sql.query(
            "UPDATE jobs SET priority = ?2, updated_at = ?3 WHERE id = ?1",
            &[id.into(), priority.into(), now.into()],
        )?;
        Ok(old)
    }

    /// Deletes every job and the settings of a queue. A queue with live jobs (pending,
    /// scheduled or processing) is a conflict unless `delete_jobs` is set; a queue never used
    /// is not found.
    pub fn delete_queue(&self, delete_jobs: bool) -> Result<(), ApiError> {
        self.require_existing()?;
        let live = if delete_jobs {
            None
        } else {
            self.sql
                .query_one("SELECT 1 FROM jobs WHERE status IN ('pending', 'scheduled', 'processing') LIMIT 1", &[])?
        };
        if live.is_some() {
            return Err(ApiError::conflict("the queue still has pending, scheduled or processing jobs"));
        }
        self.sql.query("DELETE FROM jobs", &[])?;
        self.sql.query("DELETE FROM queue_config", &[])?;
        Ok(())
    }

    /// Returns the jobs leased to `worker_id` to `pending` without counting an attempt (the
    /// worker left cleanly); returns how many.
    pub fn release_worker(&self, worker_id: &str, now: EpochMs) -> Result<usize, ApiError> {
        let rows = self.sql.query(
            "UPDATE jobs SET status = 'pending', worker_id = NULL, lease_id = NULL, lease_expires_at = NULL, \
             updated_at = ?2 WHERE status = 'processing' AND worker_id = ?1 RETURNING seq",
            &[worker_id.into(), now.into()],
        )?;
        Ok(rows.len())
    }

    /// Replays the selected dead letters; returns the replayed ids in queue order.
    pub fn replay_dead_letters(&self, selection: &DeadLetterSelection, now: EpochMs) -> Result<Vec<String>, ApiError> {
        let (filter, param) = Self::dead_letter_filter(selection)?;
        let rows = self.sql.query(
            &format!("{REPLAY} WHERE seq IN ({filter}) RETURNING id, seq"),
            &[now.into(), param, SqlValue::Null],
        )?;
        let mut replayed =
            rows.iter().map(|r| Ok((r.int(1)?, r.text(0)?.to_owned()))).collect::<Result<Vec<_>, ApiError>>()?;
        replayed.sort();
        Ok(replayed.into_iter().map(|(_, id)| id).collect())
    }

    /// Deletes the selected dead letters (optionally only those dead-lettered before
    /// `older_than`); returns how many were deleted.
    pub fn purge_dead_letters(
        &self,
        selection: &DeadLetterSelection,
        older_than: Option<EpochMs>,
    ) -> Result<usize, ApiError> {
        let (filter, param) = Self::dead_letter_filter(selection)?;
        let rows = self.sql.query(
            &format!("DELETE FROM jobs WHERE seq IN ({filter}) RETURNING seq"),
            &[SqlValue::Null, param, older_than.into()],
        )?;
        Ok(rows.len())
    }

    /// The sub-select choosing dead letters: `?2` is the ids or the limit, `?3` an optional
    /// "dead-lettered before" time.
    fn dead_letter_filter(selection: &DeadLetterSelection) -> Result<(&'static str, SqlValue), ApiError> {
        Ok(match selection {
            DeadLetterSelection::Ids(ids) => (
                "SELECT seq FROM jobs WHERE status = 'deadletter' AND (?3 IS NULL OR updated_at < ?3) \
                 AND id IN (SELECT value FROM json_each(?2))",
                to_json(ids)?.into(),
            ),
            DeadLetterSelection::Oldest(limit) => (
                "SELECT seq FROM jobs WHERE status = 'deadletter' AND (?3 IS NULL OR updated_at < ?3) \
                 ORDER BY seq LIMIT ?2",
                (*limit).into(),
            ),
        })
    }

    fn status_of(&self, id: &str) -> Result<JobStatus, ApiError> {
        let row = self
            .sql
            .query_one("SELECT status FROM jobs WHERE id = ?1", &[id.into()])?
            .ok_or_else(|| ApiError::not_found("job"))?;
        JobStatus::parse(row.text(0)?).ok_or_else(|| ApiError::internal("unknown stored status"))
    }
}

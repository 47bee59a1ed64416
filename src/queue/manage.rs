//! Reading jobs, cancelling them, replaying dead letters and purging the dead-letter queue.

use super::record::{JobRecord, JOB_COLUMNS};
use super::sql::{RowExt, SqlValue};
use super::transition::{Target, Transition};
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

/// Cancels job ?1 at ?2, if it has not started.
static CANCEL: LazyLock<String> = LazyLock::new(|| {
    Transition::Cancel.statement(&Target {
        index: None,
        from: None,
        rows: "jobs.id = ?1",
        returning: "seq",
        inputs: &[(":now", "?2")],
    })
});

/// Replays dead letters at ?1: job ?2 by id, or the `seq`s the dead-letter filter (?2, ?3)
/// selects.
fn replay_statement(rows: &str, returning: &'static str) -> String {
    Transition::Replay.statement(&Target { index: None, from: None, rows, returning, inputs: &[(":now", "?1")] })
}
static REPLAY_ONE: LazyLock<String> = LazyLock::new(|| replay_statement("jobs.id = ?2", "seq"));
static REPLAY_IDS: LazyLock<String> =
    LazyLock::new(|| replay_statement(&format!("jobs.seq IN ({DEAD_LETTER_IDS})"), "id, seq"));
static REPLAY_OLDEST: LazyLock<String> =
    LazyLock::new(|| replay_statement(&format!("jobs.seq IN ({OLDEST_DEAD_LETTERS})"), "id, seq"));

/// The dead letters among the ids of the JSON array ?2 (dead-lettered before ?3, if set).
const DEAD_LETTER_IDS: &str = "SELECT seq FROM jobs WHERE status = 'deadletter' \
    AND (?3 IS NULL OR updated_at < ?3) AND id IN (SELECT value FROM json_each(?2))";
/// The oldest ?2 dead letters (dead-lettered before ?3, if set).
const OLDEST_DEAD_LETTERS: &str = "SELECT seq FROM jobs WHERE status = 'deadletter' \
    AND (?3 IS NULL OR updated_at < ?3) ORDER BY seq LIMIT ?2";

/// Sets the priority of job ?1 to ?2 at ?3, if it has not started.
static REPRIORITIZE: LazyLock<String> = LazyLock::new(|| {
    Transition::Reprioritize.statement(&Target {
        index: None,
        from: None,
        rows: "jobs.id = ?1",
        returning: "seq",
        inputs: &[(":priority", "?2"), (":now", "?3")],
    })
});

/// Returns the jobs leased to worker ?1 to pending at ?2.
static RELEASE: LazyLock<String> = LazyLock::new(|| {
    Transition::Release.statement(&Target {
        index: None,
        from: None,
        rows: "jobs.worker_id = ?1",
        returning: "seq",
        inputs: &[(":now", "?2")],
    })
});

impl Queue<'_> {
    /// The full job, or 404.
    pub fn get_job(&self, id: &str) -> Result<JobRecord, ApiError> {
        let row = self.sql.query_one(&GET_JOB, &[id.into()])?.ok_or_else(|| ApiError::not_found("job"))?;
        JobRecord::read(row)
    }

    /// Cancels a job that has not started (pending or scheduled); anything else is a conflict.
    pub fn cancel(&self, id: &str, now: EpochMs) -> Result<(), ApiError> {
        if self.sql.query(&CANCEL, &[id.into(), now.into()])?.is_empty() {
            let status = self.status_of(id)?;
            return Err(ApiError::conflict(format!("a {status} job cannot be cancelled")));
        }
        Ok(())
    }

    /// Replays one dead-lettered (or failed) job and returns it.
    pub fn replay(&self, id: &str, now: EpochMs) -> Result<JobRecord, ApiError> {
        if self.sql.query(&REPLAY_ONE, &[now.into(), id.into()])?.is_empty() {
            let status = self.status_of(id)?;
            return Err(ApiError::conflict(format!("only dead-lettered jobs can be retried; this one is {status}")));
        }
        self.get_job(id)
    }

    /// Changes the priority of a job that has not started; returns the priority it had.
    pub fn set_priority(&self, id: &str, priority: i64, now: EpochMs) -> Result<i64, ApiError> {
        let old = self.sql.query_one("SELECT priority FROM jobs WHERE id = ?1", &[id.into()])?;
        let old = old.ok_or_else(|| ApiError::not_found("job"))?.int(0)?;
        if self.sql.query(&REPRIORITIZE, &[id.into(), priority.into(), now.into()])?.is_empty() {
            let status = self.status_of(id)?;
            return Err(ApiError::conflict(format!("the priority of a {status} job cannot change")));
        }
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
        Ok(self.sql.query(&RELEASE, &[worker_id.into(), now.into()])?.len())
    }

    /// Replays the selected dead letters; returns the replayed ids in queue order.
    pub fn replay_dead_letters(&self, selection: &DeadLetterSelection, now: EpochMs) -> Result<Vec<String>, ApiError> {
        let (statement, param) = match selection {
            DeadLetterSelection::Ids(ids) => (&*REPLAY_IDS, to_json(ids)?.into()),
            DeadLetterSelection::Oldest(limit) => (&*REPLAY_OLDEST, (*limit).into()),
        };
        let rows = self.sql.query(statement, &[now.into(), param, SqlValue::Null])?;
        let replayed =
            rows.iter().map(|r| Ok((r.int(1)?, r.text(0)?.to_owned()))).collect::<Result<Vec<_>, ApiError>>()?;
        Ok(super::ordered_by(replayed, |(seq, _)| (*seq, 0)).into_iter().map(|(_, id)| id).collect())
    }

    /// Deletes the selected dead letters (optionally only those dead-lettered before
    /// `older_than`); returns how many were deleted.
    pub fn purge_dead_letters(
        &self,
        selection: &DeadLetterSelection,
        older_than: Option<EpochMs>,
    ) -> Result<usize, ApiError> {
        let (filter, param) = match selection {
            DeadLetterSelection::Ids(ids) => (DEAD_LETTER_IDS, to_json(ids)?.into()),
            DeadLetterSelection::Oldest(limit) => (OLDEST_DEAD_LETTERS, (*limit).into()),
        };
        let rows = self.sql.query(
            &format!("DELETE FROM jobs WHERE seq IN ({filter}) RETURNING seq"),
            &[SqlValue::Null, param, older_than.into()],
        )?;
        Ok(rows.len())
    }

    fn status_of(&self, id: &str) -> Result<JobStatus, ApiError> {
        let row = self
            .sql
            .query_one("SELECT status FROM jobs WHERE id = ?1", &[id.into()])?
            .ok_or_else(|| ApiError::not_found("job"))?;
        JobStatus::parse(row.text(0)?).ok_or_else(|| ApiError::internal("unknown stored status"))
    }
}

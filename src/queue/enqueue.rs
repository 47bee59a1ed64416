//! Enqueue: one statement inserts a whole batch from a JSON array (see [`super::insert`]),
//! and idempotency keys turn repeats into references to the job that already exists.

use super::insert::{insert_batch, NewRow};
use super::sql::RowExt;
use super::transition::Transition;
use super::Queue;
use crate::model::wire::wire_record;
use crate::model::{ApiError, Entropy, EpochMs, JobId, JobSpec};
use std::collections::{HashMap, HashSet};

wire_record! {
    /// The outcome for one enqueued job.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Enqueued {
        /// The new job's id, or the existing job's id for a duplicate idempotency key.
        pub id: String,
        /// False when an existing job with the same idempotency key was found instead.
        pub created: bool,
    }
}

/// Finds the jobs that hold any of the bound idempotency keys.
const FIND_BY_KEYS: &str =
    "SELECT idempotency_key, id FROM jobs WHERE idempotency_key IN (SELECT value FROM json_each(?1))";

impl Queue<'_> {
    /// Enqueues `specs` atomically and in order; returns one outcome per spec.
    pub fn enqueue(
        &self,
        specs: &[JobSpec],
        now: EpochMs,
        entropy: &mut dyn Entropy,
    ) -> Result<Vec<Enqueued>, ApiError> {
        let ids: Vec<JobId> = specs.iter().map(|_| JobId::generate(self.name, now, entropy)).collect();
        let rows: Vec<NewRow> = specs.iter().zip(&ids).map(|(spec, id)| self.new_row(spec, &id.text, now)).collect();
        // Without idempotency keys nothing can conflict: every job goes in, or none when the
        // queue is full. Checking room first then spares the insert returning a row per job.
        let keyless = specs.len() > 1 && specs.iter().all(|s| s.idempotency_key.is_none());
        if keyless {
            self.check_room(specs.len())?;
        }
        let (statement, params) = insert_batch(&rows, now, self.settings.max_jobs.into(), !keyless)
            .map_err(|e| ApiError::internal(format!("rendering the batch failed: {e}")))?;
        let returned = self.sql.query(&statement, &params)?;
        if keyless || returned.len() == specs.len() {
            // Every job is new: nothing to match up.
            return Ok(ids.into_iter().map(|id| Enqueued { id: id.text, created: true }).collect());
        }
        let inserted: HashSet<&str> = returned.iter().map(|row| row.text(0)).collect::<Result<_, _>>()?;
        if inserted.is_empty() {
            // A full queue, or a batch of duplicates only: only the count tells them apart.
            self.check_room(specs.len())?;
        }
        let existing = self.ids_by_key(specs)?;
        specs
            .iter()
            .zip(ids)
            .map(|(spec, id)| {
                if inserted.contains(id.text.as_str()) {
                    return Ok(Enqueued { id: id.text, created: true });
                }
                spec.idempotency_key
                    .as_ref()
                    .and_then(|key| existing.get(key))
                    .map(|found| Enqueued { id: found.clone(), created: false })
                    .ok_or_else(|| ApiError::internal("an enqueued job was neither inserted nor found"))
            })
            .collect()
    }

    /// Refuses a batch that would take the queue past `max_jobs` — before anything is stored,
    /// so a full queue answers 429 instead of failing late on storage limits. (A batch of
    /// duplicates is refused too: telling them apart would cost the lookups the bound exists
    /// to avoid.)
    fn check_room(&self, incoming: usize) -> Result<(), ApiError> {
        let stored = self.sql.query_one("SELECT n FROM job_count", &[])?.map_or(Ok(0), |r| r.int(0))?;
        let max = i64::from(self.settings.max_jobs);
        if stored + incoming as i64 > max {
            return Err(ApiError::new(
                crate::model::ErrorKind::QueueFull,
                format!("queue '{}' holds {stored} jobs and allows {max}; retry once jobs finish", self.name),
            ));
        }
        Ok(())
    }

    fn new_row<'a>(&self, spec: &'a JobSpec, id: &'a str, now: EpochMs) -> NewRow<'a> {
        let scheduled = spec.scheduled_at.is_some_and(|at| at > now);
        NewRow {
            id,
            payload: &spec.payload,
            status: Transition::for_new_job(scheduled).new_job_status(),
            priority: spec.priority,
            max_retries: spec.max_retries.unwrap_or(self.settings.default_max_retries),
            timeout_seconds: spec.timeout_seconds.unwrap_or(self.settings.default_timeout_secs),
            tags: spec.tags.as_deref(),
            idempotency_key: spec.idempotency_key.as_deref(),
            scheduled_at: spec.scheduled_at,
            expires_at: spec.expires_at,
        }
    }

    fn ids_by_key(&self, specs: &[JobSpec]) -> Result<HashMap<String, String>, ApiError> {
        let keys: Vec<&str> = specs.iter().filter_map(|s| s.idempotency_key.as_deref()).collect();
        let keys = crate::model::wire::to_json(&keys)?;
        self.sql
            .query(FIND_BY_KEYS, &[keys.into()])?
            .iter()
            .map(|row| Ok((row.text(0)?.to_owned(), row.text(1)?.to_owned())))
            .collect()
    }
}

//! Reading many jobs at once: filtered lists (newest first), batch status lookups and the
//! counts behind the stats endpoints.

use super::record::{JobSummary, QueueStats, StatusCounts, SUMMARY_COLUMNS};
use super::sql::{Columns, RowExt};
use super::Queue;
use crate::model::time::SECOND_MS;
use crate::model::wire::wire_record;
use crate::model::{wire::to_json, ApiError, EpochMs, JobStatus};
use std::sync::LazyLock;

wire_record! {
    /// Which jobs a list returns; every filter set must match.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct ListFilter {
        /// Only jobs in one of these statuses (empty: any).
        pub statuses: Vec<JobStatus>,
        /// Only jobs carrying this tag (an element of a tags array, or a key of a tags object).
        pub tag: Option<String>,
        /// Only jobs whose `payload.job_type` is exactly this.
        pub job_type: Option<String>,
        /// Search text, case-insensitive: the id starts with it, or the queue name or
        /// `payload.job_type` contains it.
        pub search: Option<String>,
        /// Only jobs created at or after this time.
        pub created_after: Option<EpochMs>,
        /// Only jobs created before this time.
        pub created_before: Option<EpochMs>,
        /// How many at most.
        pub limit: u32,
        /// How many of the newest matches to skip.
        pub offset: u32,
    }
}

/// Every filter but the statuses, newest first. `?3` is the search text in lower case (matched
/// with `substr`/`instr`, not LIKE: no pattern syntax, no length limit), `?4` whether the queue
/// name already matches the search.
const FILTERS: &str = "(?2 IS NULL OR EXISTS (SELECT 1 FROM json_each(jobs.tags) AS t WHERE \
         CASE json_type(jobs.tags) WHEN 'array' THEN t.type = 'text' AND t.value = ?2 ELSE t.key = ?2 END)) \
    AND (?5 IS NULL OR json_extract(payload, '$.job_type') = ?5) \
    AND (?3 IS NULL OR ?4 OR substr(lower(id), 1, length(?3)) = ?3 \
         OR instr(lower(json_extract(payload, '$.job_type')), ?3) > 0) \
    AND (?6 IS NULL OR created_at >= ?6) AND (?7 IS NULL OR created_at < ?7) \
    ORDER BY seq DESC LIMIT ?8 OFFSET ?9";

/// Lists any status (`?1`, always NULL here, is not read) — walks the primary key newest first.
static LIST_ANY: LazyLock<String> = LazyLock::new(|| format!("SELECT {SUMMARY_COLUMNS} FROM jobs WHERE {FILTERS}"));

/// Lists the statuses in the JSON array `?1`, over the `jobs_status` index.
static LIST_BY_STATUS: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {SUMMARY_COLUMNS} FROM jobs WHERE status IN (SELECT value FROM json_each(?1)) AND {FILTERS}")
});

/// The jobs whose ids are in the JSON array `?1`, in enqueue order.
static JOB_STATUSES: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {SUMMARY_COLUMNS} FROM jobs WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY seq")
});

/// Window for the "last 24 hours" figures of queue stats.
const DAY_MS: EpochMs = 24 * 3600 * SECOND_MS;

impl Queue<'_> {
    /// Job summaries matching `filter`, newest first.
    pub fn list_jobs(&self, filter: &ListFilter) -> Result<Vec<JobSummary>, ApiError> {
        let (statement, statuses) = match filter.statuses.as_slice() {
            [] => (&*LIST_ANY, None),
            some => (&*LIST_BY_STATUS, Some(to_json(&some)?)),
        };
        let queue_matches =
            filter.search.as_ref().is_some_and(|q| self.name.to_lowercase().contains(&q.to_lowercase()));
        let rows = self.sql.query(
            statement,
            &[
                statuses.into(),
                filter.tag.clone().into(),
                filter.search.as_deref().map(str::to_lowercase).into(),
                i64::from(queue_matches).into(),
                filter.job_type.clone().into(),
                filter.created_after.into(),
                filter.created_before.into(),
                filter.limit.into(),
                filter.offset.into(),
            ],
        )?;
        rows.into_iter().map(JobSummary::read).collect()
    }

    /// The summary (status, attempts, times) of each of `ids` that exists, in enqueue order.
    pub fn job_statuses(&self, ids: &[String]) -> Result<Vec<JobSummary>, ApiError> {
        let rows = self.sql.query(&JOB_STATUSES, &[to_json(&ids)?.into()])?;
        rows.into_iter().map(JobSummary::read).collect()
    }

    /// Every figure the stats endpoints need: a count per status (and `total`), plus the
    /// last day's completions, dead letters and average processing time, the age of the oldest
    /// waiting job, how many workers hold leases, and the database's size.
    pub fn stats(&self, now: EpochMs) -> Result<QueueStats, ApiError> {
        let mut counts = StatusCounts::default();
        for row in self.sql.query("SELECT status, count(*) FROM jobs GROUP BY status", &[])? {
            let mut c = Columns::new(row);
            let (status, n) = (c.status(), c.int());
            c.finish()?;
            counts.add(status, n);
        }
        let day = self.sql.query_one(
            "SELECT \
               (SELECT count(*) FROM jobs WHERE status = 'completed' AND completed_at > ?1), \
               (SELECT count(*) FROM jobs WHERE status = 'deadletter' AND updated_at > ?1), \
               (SELECT avg(completed_at - started_at) FROM jobs WHERE status = 'completed' AND completed_at > ?1), \
               (SELECT min(created_at) FROM jobs WHERE status IN ('pending', 'scheduled')), \
               (SELECT count(DISTINCT worker_id) FROM jobs WHERE status = 'processing')",
            &[(now - DAY_MS).into()],
        )?;
        let day = day.ok_or_else(|| ApiError::internal("stats query returned nothing"))?;
        let avg_ms = match day.get(2) {
            Some(super::SqlValue::Real(v)) => Some(*v),
            Some(super::SqlValue::Integer(v)) => Some(*v as f64),
            _ => None,
        };
        Ok(QueueStats {
            counts,
            completed_24h: day.int(0)?,
            deadletter_24h: day.int(1)?,
            avg_processing_time_ms: avg_ms,
            max_job_age_seconds: day.opt_int(3)?.map(|oldest| (now - oldest).max(0) / SECOND_MS),
            active_workers: day.int(4)?,
            database_bytes: self.sql.database_bytes()?,
        })
    }
}

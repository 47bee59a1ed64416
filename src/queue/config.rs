//! A queue's settings: defaults that enqueue and claim apply, the backoff curve, retention,
//! and whether claims are paused. Stored as one JSON row in the queue's own database.

use super::sql::RowExt;
use super::{Queue, Sql};
use crate::model::retry::RetryPolicy;
use crate::model::spec::{DEFAULT_LEASE_SECS, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_SECS};
use crate::model::time::SECOND_MS;
use crate::model::{wire::to_json, ApiError, EpochMs, EventKind};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How long completed and cancelled jobs are kept by default: 7 days.
pub const DEFAULT_RETENTION_MS: EpochMs = 7 * 24 * 3600 * SECOND_MS;

/// Most jobs a queue stores by default; past it enqueue answers 429 `QUEUE_FULL`.
pub const DEFAULT_MAX_JOBS: u32 = 1_000_000;

/// Per-queue settings that shape how jobs move. Fields missing from a stored row take their
/// defaults, so new settings need no migration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueSettings {
    /// Retry delay curve after a failed attempt.
    pub retry: RetryPolicy,
    /// How long completed and cancelled jobs are kept before the alarm deletes them.
    pub retention_ms: EpochMs,
    /// `max_retries` for jobs that do not set one.
    pub default_max_retries: u32,
    /// Lease length for claims that do not set one.
    pub default_lease_secs: u32,
    /// `timeout_seconds` for jobs that do not set one.
    pub default_timeout_secs: u32,
    /// False while the queue is paused: claims return no jobs; enqueue still works.
    pub enabled: bool,
    /// Most jobs stored at once (any status, until pruned or purged).
    pub max_jobs: u32,
    /// Most jobs claimed per second, across all workers (`None`: unlimited).
    pub rate_limit: Option<u32>,
    /// Whether complete, fail and heartbeat must present the `lease_id` (recommended): off,
    /// `worker_id` alone fences them too, as Spooled's legacy clients expect.
    pub require_lease_id: bool,
    /// When the queue was paused.
    pub paused_at: Option<EpochMs>,
    /// Why the queue was paused.
    pub paused_reason: Option<String>,
    /// Free-form settings the user stores with the queue.
    pub settings: Value,
    /// When the settings were first written: the queue's first job's time when it had jobs
    /// already, else the first setting's (`None`: never configured).
    pub created_at: Option<EpochMs>,
    /// When the settings last changed.
    pub updated_at: Option<EpochMs>,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            retry: RetryPolicy::default(),
            retention_ms: DEFAULT_RETENTION_MS,
            default_max_retries: DEFAULT_MAX_RETRIES,
            default_lease_secs: DEFAULT_LEASE_SECS,
            default_timeout_secs: DEFAULT_TIMEOUT_SECS,
            enabled: true,
            max_jobs: DEFAULT_MAX_JOBS,
            rate_limit: None,
            require_lease_id: false,
            paused_at: None,
            paused_reason: None,
            settings: json!({}),
            created_at: None,
            updated_at: None,
        }
    }
}

/// A validated change to a queue's settings; absent fields keep their value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigChanges {
    /// New default `max_retries`.
    pub max_retries: Option<u32>,
    /// New default `timeout_seconds`.
    pub default_timeout: Option<u32>,
    /// New default lease length.
    pub lease_duration_secs: Option<u32>,
    /// New first retry delay.
    pub backoff_base_ms: Option<EpochMs>,
    /// New longest retry delay.
    pub backoff_cap_ms: Option<EpochMs>,
    /// New retention of finished jobs.
    pub retention_ms: Option<EpochMs>,
    /// Pause (false) or resume (true) claims.
    pub enabled: Option<bool>,
    /// New bound on stored jobs.
    pub max_jobs: Option<u32>,
    /// New claim rate limit; `Some(None)` removes it.
    #[serde(default, deserialize_with = "crate::model::wire::present", skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Option<u32>>,
    /// Require (true) or stop requiring (false) the `lease_id` on worker operations.
    pub require_lease_id: Option<bool>,
    /// New free-form settings.
    pub settings: Option<Value>,
}

impl QueueSettings {
    /// These settings with `changes` applied. Checked whole, so a change that only conflicts
    /// with a stored value (a backoff base above the stored cap) is refused like any other
    /// invalid setting — a 400 that stores nothing.
    pub fn merged(&self, changes: &ConfigChanges, now: EpochMs) -> Result<QueueSettings, ApiError> {
        let mut s = self.clone();
        s.default_max_retries = changes.max_retries.unwrap_or(s.default_max_retries);
        s.default_timeout_secs = changes.default_timeout.unwrap_or(s.default_timeout_secs);
        s.default_lease_secs = changes.lease_duration_secs.unwrap_or(s.default_lease_secs);
        s.retry.base_ms = changes.backoff_base_ms.unwrap_or(s.retry.base_ms);
        s.retry.cap_ms = changes.backoff_cap_ms.unwrap_or(s.retry.cap_ms);
        s.retention_ms = changes.retention_ms.unwrap_or(s.retention_ms);
        s.max_jobs = changes.max_jobs.unwrap_or(s.max_jobs);
        s.rate_limit = changes.rate_limit.unwrap_or(s.rate_limit);
        s.require_lease_id = changes.require_lease_id.unwrap_or(s.require_lease_id);
        if let Some(settings) = &changes.settings {
            s.settings = settings.clone();
        }
        if let Some(enabled) = changes.enabled {
            set_paused(&mut s, !enabled, None, now);
        }
        if s.retry.base_ms > s.retry.cap_ms {
            // Rendered as the config view renders it (serde_json's float output, not `fmt`'s).
            let secs = |ms: EpochMs| json!(ms as f64 / SECOND_MS as f64);
            return Err(match changes.backoff_base_ms {
                Some(_) => ApiError::validation(
                    "backoff_base_secs",
                    &format!("must not exceed backoff_cap_secs ({} s for this queue)", secs(s.retry.cap_ms)),
                ),
                None => ApiError::validation(
                    "backoff_cap_secs",
                    &format!("must not be below backoff_base_secs ({} s for this queue)", secs(s.retry.base_ms)),
                ),
            });
        }
        Ok(s)
    }
}

/// Reads the stored settings, or the defaults when the queue was never configured.
pub fn load(sql: &dyn Sql) -> Result<QueueSettings, ApiError> {
    match sql.query_one("SELECT body FROM queue_config WHERE id = 1", &[])? {
        Some(row) => {
            serde_json::from_str(row.text(0)?).map_err(|_| ApiError::internal("stored queue settings are corrupt"))
        }
        None => Ok(QueueSettings::default()),
    }
}

impl Queue<'_> {
    /// Applies `changes` and returns the settings now in force.
    pub fn configure(&self, changes: &ConfigChanges, now: EpochMs) -> Result<QueueSettings, ApiError> {
        self.save(self.settings.merged(changes, now)?, now)
    }

    /// Pauses claims (enqueue keeps working); returns the settings, now paused.
    pub fn pause(&self, reason: Option<String>, now: EpochMs) -> Result<QueueSettings, ApiError> {
        let mut s = self.settings.clone();
        set_paused(&mut s, true, reason, now);
        self.save(s, now)
    }

    /// Resumes claims; returns how long the queue was paused, in seconds. 404 for a queue
    /// never used.
    pub fn resume(&self, now: EpochMs) -> Result<i64, ApiError> {
        self.require_existing()?;
        let paused_for = self.paused_secs(now);
        let mut s = self.settings.clone();
        set_paused(&mut s, false, None, now);
        self.save(s, now)?;
        Ok(paused_for)
    }

    /// The queue's settings; 404 for a queue that has neither settings nor jobs. A queue known
    /// only through its jobs was never configured: it reports its oldest stored job's time as
    /// both `created_at` and `updated_at` (the defaults have not changed since), so every queue
    /// that answers has real timestamps without enqueue writing anything for them.
    pub fn get_config(&self) -> Result<QueueSettings, ApiError> {
        let created_at = self.require_existing()?;
        if self.settings.created_at.is_some() {
            return Ok(self.settings.clone());
        }
        let since = Some(created_at);
        Ok(QueueSettings { created_at: since, updated_at: since, ..self.settings.clone() })
    }

    /// When the queue first appeared; 404 for a queue that has neither settings nor jobs: it
    /// has never been used (or was deleted), so reading, resuming or deleting it finds nothing.
    pub fn require_existing(&self) -> Result<EpochMs, ApiError> {
        match self.settings.created_at {
            Some(at) => Ok(at),
            None => self.oldest_job_created_at()?.ok_or_else(|| ApiError::not_found("queue")),
        }
    }

    /// The `created_at` of the oldest job still stored. `seq` is the rowid, so this reads one
    /// row whatever the queue holds.
    fn oldest_job_created_at(&self) -> Result<Option<EpochMs>, ApiError> {
        self.sql.query_one("SELECT created_at FROM jobs ORDER BY seq LIMIT 1", &[])?.map(|row| row.int(0)).transpose()
    }

    /// How long the queue has been paused at `now`, in seconds (0 when it is not).
    fn paused_secs(&self, now: EpochMs) -> i64 {
        self.settings.paused_at.map_or(0, |at| (now - at).max(0) / SECOND_MS)
    }

    fn save(&self, mut s: QueueSettings, now: EpochMs) -> Result<QueueSettings, ApiError> {
        // A queue that had jobs before its first setting was created by its first job.
        s.created_at = match s.created_at {
            Some(at) => Some(at),
            None => Some(self.oldest_job_created_at()?.unwrap_or(now)),
        };
        s.updated_at = Some(now);
        // Every path that pauses or resumes (pause, resume, `enabled` in a settings change).
        if s.enabled != self.settings.enabled {
            let (kind, data) = if s.enabled {
                (EventKind::QueueResumed, json!({ "paused_duration_secs": self.paused_secs(now) }))
            } else {
                (EventKind::QueuePaused, json!({ "reason": s.paused_reason }))
            };
            self.record_queue_event(kind, &data.to_string(), now)?;
        }
        self.sql.query(
            "INSERT INTO queue_config (id, body) VALUES (1, ?1) ON CONFLICT(id) DO UPDATE SET body = excluded.body",
            &[to_json(&s)?.into()],
        )?;
        Ok(s)
    }
}

fn set_paused(s: &mut QueueSettings, paused: bool, reason: Option<String>, now: EpochMs) {
    if paused {
        s.paused_at = s.paused_at.filter(|_| !s.enabled).or(Some(now));
        s.paused_reason = reason.or(s.paused_reason.take().filter(|_| !s.enabled));
    } else {
        s.paused_at = None;
        s.paused_reason = None;
    }
    s.enabled = !paused;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_settings_are_checked_against_the_stored_ones() {
        let stored = QueueSettings::default();
        let base = |secs: i64| ConfigChanges { backoff_base_ms: Some(secs * SECOND_MS), ..ConfigChanges::default() };
        let err = stored.merged(&base(100), 0).unwrap_err();
        assert_eq!(err.message, "backoff_base_secs: must not exceed backoff_cap_secs (60.0 s for this queue)");
        let cap = ConfigChanges { backoff_cap_ms: Some(500), ..ConfigChanges::default() };
        assert!(stored.merged(&cap, 0).unwrap_err().message.starts_with("backoff_cap_secs: must not be below"));
        assert_eq!(stored.merged(&base(60), 0).unwrap().retry.base_ms, 60 * SECOND_MS);
        let both = ConfigChanges { backoff_cap_ms: Some(200 * SECOND_MS), ..base(100) };
        assert_eq!(stored.merged(&both, 0).unwrap().retry.cap_ms, 200 * SECOND_MS);
        let strict = ConfigChanges { require_lease_id: Some(true), ..ConfigChanges::default() };
        assert!(stored.merged(&strict, 0).unwrap().require_lease_id);
    }
}

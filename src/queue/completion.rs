//! A job's own completion webhook (`completion_webhook` on `POST /jobs`): stored beside the
//! job, and fed by the outbox like any consumer. The queue subscribes a local consumer to
//! `job.completed` and `job.failed` with its first such job, so queues that never use one
//! record nothing; a read of that consumer hands over only the events of jobs that have a hook,
//! each with its target.

use super::events::{EventRecord, LAST_SEQ, MAX_EVENT_PAGE};
use super::sql::RowExt;
use super::Queue;
use crate::model::wire::wire_record;
use crate::model::{ApiError, CompletionHook, EventKind};

/// The outbox consumer of completion webhooks: local to the queue, never pushed by the tenant.
pub const COMPLETION_CONSUMER: &str = "completion";

/// The events a completion webhook fires on: the job completed, or failed for good.
pub const COMPLETION_KINDS: [EventKind; 2] = [EventKind::JobCompleted, EventKind::JobFailed];

/// The hooks, one per job that has one; a trigger drops a job's hook with the job.
pub const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS job_hooks (job_id TEXT PRIMARY KEY, url TEXT NOT NULL, secret TEXT) WITHOUT ROWID",
    "CREATE TRIGGER IF NOT EXISTS job_hooks_pruned AFTER DELETE ON jobs \
     BEGIN DELETE FROM job_hooks WHERE job_id = old.id; END",
];

wire_record! {
    /// One event for a job's own webhook, with where it goes.
    #[derive(Clone, Debug)]
    pub struct CompletionEvent {
        /// The event.
        pub event: EventRecord,
        /// The job's webhook URL.
        pub url: String,
        /// Signs the request when given.
        pub secret: Option<String>,
    }
}

wire_record! {
    /// A read of the completion consumer.
    #[derive(Clone, Debug)]
    pub struct CompletionPage {
        /// The events of jobs that have a hook.
        pub events: Vec<CompletionEvent>,
        /// The last sequence read (acknowledge after it), `None` when nothing followed.
        pub last: Option<i64>,
    }
}

impl Queue<'_> {
    /// Stores `hook` for job `job_id` and makes sure the queue records its completions.
    pub fn attach_completion_hook(&self, job_id: &str, hook: &CompletionHook) -> Result<(), ApiError> {
        self.sql.query(
            "INSERT INTO job_hooks (job_id, url, secret) VALUES (?1, ?2, ?3) \
             ON CONFLICT (job_id) DO UPDATE SET url = excluded.url, secret = excluded.secret",
            &[job_id.into(), hook.url.as_str().into(), hook.secret.clone().into()],
        )?;
        let kinds = crate::model::wire::to_json(&COMPLETION_KINDS)?;
        let added = self.sql.query(
            &format!(
                "INSERT INTO event_consumers (name, kinds, acked) VALUES (?1, ?2, ({LAST_SEQ})) \
                 ON CONFLICT (name) DO NOTHING RETURNING 1"
            ),
            &[COMPLETION_CONSUMER.into(), kinds.into()],
        )?;
        if !added.is_empty() {
            super::events::sync_triggers(self.sql)?;
        }
        Ok(())
    }

    /// The completion events after `after` of jobs with a hook (acknowledging up to `after`).
    pub fn read_completions(&self, after: i64) -> Result<CompletionPage, ApiError> {
        let page = self.read_events(COMPLETION_CONSUMER, after, MAX_EVENT_PAGE)?;
        let last = page.events.last().map(|e| e.seq);
        let mut events = Vec::new();
        for event in page.events {
            let hook = self.sql.query_one(
                "SELECT url, secret FROM job_hooks WHERE job_id = (?1 ->> '$.job_id')",
                &[event.data.get().into()],
            )?;
            if let Some(row) = hook {
                let (url, secret) = (row.text(0)?.to_owned(), row.opt_text(1)?.map(str::to_owned));
                events.push(CompletionEvent { event, url, secret });
            }
        }
        Ok(CompletionPage { events, last })
    }
}

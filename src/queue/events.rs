//! The event outbox: where a job or queue event is born, and how its consumers read it.
//!
//! A job event is written by a trigger on `jobs`, so it commits in the very statement of the
//! transition that caused it (set-based transitions included: a trigger fires per row). The
//! triggers are generated from the rules of [`super::transition`] and exist only while some
//! consumer subscribes to one of their kinds: a queue nobody listens to has no trigger and does
//! no event work at all. Queue events (`queue.paused`, `queue.resumed`) are one conditional
//! insert next to the settings write. Worker, schedule and workflow events are born in other
//! actors.
//!
//! Consumers (webhooks, realtime, workflows — named by the tenant, which pushes the whole set
//! with a version) read in commit order after their cursor; reading after a sequence
//! acknowledges everything up to it, and rows every consumer has are deleted then. A trigger
//! on `events` caps the outbox at [`OUTBOX_CAP`] rows even if a consumer never reads.

use super::sql::{Columns, RowExt, Sql};
use super::transition::Transition;
use super::Queue;
use crate::model::wire::{to_json, wire_record};
use crate::model::{ApiError, EpochMs, EventKind, JobStatus};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Most events an outbox keeps: past it the oldest are dropped (in steps of [`CAP_STEP`]) and
/// a consumer that had not read them is told it missed them ([`EventPage::missed_through`]).
pub const OUTBOX_CAP: i64 = 100_000;

/// The outbox is trimmed when a sequence number is a multiple of this, so trimming costs one
/// range delete per this many events instead of one per event.
pub const CAP_STEP: i64 = 1_000;

/// Most events one read returns.
pub const MAX_EVENT_PAGE: u32 = 1_000;

/// The outbox tables; part of the queue schema, so they come with the queue's first job or
/// setting. `seq` is `AUTOINCREMENT` so a number is never reused after pruning: it is the
/// commit order and, with the queue name, the event's id.
pub const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, \
        job_id TEXT, at INTEGER NOT NULL, data TEXT NOT NULL)",
    // Who reads the outbox, which kinds, and how far each has acknowledged.
    "CREATE TABLE IF NOT EXISTS event_consumers (name TEXT PRIMARY KEY, kinds TEXT NOT NULL, \
        acked INTEGER NOT NULL)",
    // The version of the subscriptions in force (an older push is ignored).
    "CREATE TABLE IF NOT EXISTS event_subscriptions (id INTEGER PRIMARY KEY CHECK (id = 1), \
        version INTEGER NOT NULL)",
];

/// The trigger that keeps the outbox within [`OUTBOX_CAP`] (plus at most [`CAP_STEP`]).
pub fn cap_trigger() -> String {
    format!(
        "CREATE TRIGGER IF NOT EXISTS events_capped AFTER INSERT ON events WHEN new.seq % {CAP_STEP} = 0 \
         BEGIN DELETE FROM events WHERE seq <= new.seq - {OUTBOX_CAP}; END"
    )
}

/// One consumer of a queue's events and the kinds it wants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriber {
    /// Stable name of the consumer (e.g. `webhook:<id>`, `realtime`).
    pub name: String,
    /// The kinds it receives.
    pub kinds: Vec<EventKind>,
}

wire_record! {
    /// One event as a consumer receives it.
    #[derive(Clone, Debug)]
    pub struct EventRecord {
        /// Commit order within the queue.
        pub seq: i64,
        /// Stable id, `{queue}.{seq}`: receivers dedupe by it.
        pub id: String,
        /// What happened.
        pub kind: EventKind,
        /// When, in epoch milliseconds.
        pub at: EpochMs,
        /// What a consumer needs: `job_id`, `queue_name`, `status` and the kind's own fields.
        pub data: Box<RawValue>,
    }
}

wire_record! {
    /// What a read of the outbox returns.
    #[derive(Clone, Debug)]
    pub struct EventPage {
        /// The consumer's events after the read's sequence, in commit order.
        pub events: Vec<EventRecord>,
        /// Set when events after the consumer's cursor were dropped by the outbox cap before
        /// it read them: every sequence up to this one is gone.
        pub missed_through: Option<i64>,
    }
}

/// The last sequence number the outbox handed out (0 before its first event).
pub(super) const LAST_SEQ: &str = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)";

/// Inserts queue event ?1 at ?2 with data ?3 when some consumer subscribes to it.
const QUEUE_EVENT: &str = "INSERT INTO events (kind, job_id, at, data) SELECT ?1, NULL, ?2, ?3 \
    WHERE EXISTS (SELECT 1 FROM event_consumers, json_each(event_consumers.kinds) WHERE value = ?1)";

/// The events after ?1 that consumer ?3 subscribes to, at most ?4, with the queue name ?2 and
/// the job id added to their data.
const READ: &str = "SELECT seq, ?2 || '.' || seq, kind, at, \
    CASE WHEN job_id IS NULL THEN json_set(data, '$.queue_name', ?2) \
    ELSE json_set(data, '$.job_id', job_id, '$.queue_name', ?2) END FROM events \
    WHERE seq > ?1 AND kind IN (SELECT value FROM json_each((SELECT kinds FROM event_consumers WHERE name = ?3))) \
    ORDER BY seq LIMIT ?4";

/// A result too large for the job's row is written to `job_results` after the completing
/// update, whose trigger saw no result: this gives that `job.completed` event its size.
const OWN_ROW_RESULT_SIZE: &str = "CREATE TRIGGER job_events_own_row_result AFTER INSERT ON job_results \
    BEGIN UPDATE events SET data = json_set(data, '$.result_bytes', length(new.result)) \
    WHERE seq = (SELECT max(seq) FROM events WHERE kind = 'job.completed' \
    AND job_id = (SELECT id FROM jobs WHERE jobs.seq = new.seq)); END";

/// The name of the trigger that writes `transition`'s events.
fn trigger_name(transition: Transition) -> String {
    format!("job_events_{transition:?}").to_lowercase()
}

/// The JSON a job event carries besides `job_id` and `queue_name`, over the trigger's `new`
/// and `old` rows. Results larger than 4 KiB are left out (their size is given): the outbox
/// stays compact, and a consumer that needs one reads the job.
fn data_sql(kind: EventKind) -> &'static str {
    match kind {
        EventKind::JobCreated => "json_object('status', new.status, 'priority', new.priority)",
        EventKind::JobStarted => {
            "json_object('status', new.status, 'worker_id', new.worker_id, 'attempt', new.retry_count + 1)"
        }
        EventKind::JobCompleted => {
            "json_object('status', new.status, 'result', CASE WHEN length(new.result) <= 4096 \
             THEN json(new.result) END, 'result_bytes', length(new.result))"
        }
        EventKind::JobFailed | EventKind::JobDeadlettered | EventKind::JobRetried => {
            "json_object('status', new.status, 'old_status', old.status, 'error', new.last_error, \
             'retry_count', new.retry_count, 'max_retries', new.max_retries)"
        }
        EventKind::JobCancelled => {
            "json_object('status', new.status, 'old_status', old.status, 'reason', new.last_error)"
        }
        // Not job events: born outside the jobs table.
        EventKind::QueuePaused
        | EventKind::QueueResumed
        | EventKind::WorkerRegistered
        | EventKind::WorkerDeregistered
        | EventKind::ScheduleTriggered
        | EventKind::WorkflowCompleted
        | EventKind::WorkflowFailed => "json_object()",
    }
}

/// The trigger that writes `transition`'s events of the `wanted` kinds, or `None` when it
/// emits none of them, or when an earlier transition of the same `from → to` already writes
/// them (Retry and Release, Cancel and Expire: the trigger sees states, not causes, and such
/// pairs emit the same events — `transitions_between_the_same_states_name_the_same_events` checks).
fn trigger(transition: Transition, wanted: &[EventKind]) -> Option<String> {
    let rule = transition.rule();
    let kinds: Vec<EventKind> = rule.events.iter().copied().filter(|k| wanted.contains(k)).collect();
    let same_arrow = |t: &Transition| t.rule().from == rule.from && t.rule().to == rule.to;
    let first = Transition::ALL.iter().find(|t| same_arrow(t)) == Some(&transition);
    if kinds.is_empty() || !first {
        return None;
    }
    let rows: Vec<String> =
        kinds.iter().map(|k| format!("('{k}', new.id, new.updated_at, {})", data_sql(*k))).collect();
    let insert = format!("INSERT INTO events (kind, job_id, at, data) VALUES {};", rows.join(", "));
    let name = trigger_name(transition);
    Some(match (rule.from, rule.to) {
        ([], _) => format!(
            "CREATE TRIGGER {name} AFTER INSERT ON jobs WHEN new.status = '{}' BEGIN {} END",
            transition.new_job_status(),
            insert
        ),
        (from, Some(to)) => {
            let from: Vec<String> = from.iter().map(|s: &JobStatus| format!("'{s}'")).collect();
            format!(
                "CREATE TRIGGER {name} AFTER UPDATE OF status ON jobs \
                 WHEN old.status IN ({}) AND new.status = '{to}' BEGIN {insert} END",
                from.join(", ")
            )
        }
        (_, None) => return None,
    })
}

/// Replaces the event triggers with those the stored subscriptions need: none without a
/// consumer. Run when the subscriptions change and when the actor starts (a rebuilt jobs table
/// lost its triggers, and a new version may write other data).
pub fn sync_triggers(sql: &dyn Sql) -> Result<(), ApiError> {
    let rows = sql.query("SELECT DISTINCT value FROM event_consumers, json_each(event_consumers.kinds)", &[])?;
    let wanted: Vec<EventKind> = rows
        .iter()
        .map(|r| r.text(0).map(EventKind::parse))
        .collect::<Result<Option<_>, _>>()?
        .ok_or_else(|| ApiError::internal("unknown stored event kind"))?;
    let stale = sql.query("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'job_events_%'", &[])?;
    for row in &stale {
        sql.query(&format!("DROP TRIGGER {}", row.text(0)?), &[])?;
    }
    for create in Transition::ALL.into_iter().filter_map(|t| trigger(t, &wanted)) {
        sql.query(&create, &[])?;
    }
    if wanted.contains(&EventKind::JobCompleted) {
        sql.query(OWN_ROW_RESULT_SIZE, &[])?;
    }
    Ok(())
}

/// Whether any consumer reads the outbox (a queue whose tables are not made yet has none).
pub fn has_consumers(sql: &dyn Sql) -> Result<bool, ApiError> {
    let found = sql.query_one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'event_consumers'", &[])?;
    if found.is_none() {
        return Ok(false);
    }
    Ok(sql.query_one("SELECT 1 FROM event_consumers LIMIT 1", &[])?.is_some())
}

impl Queue<'_> {
    /// Replaces the queue's consumers with `consumers`, unless `version` is not newer than the
    /// version in force; returns the version in force. A consumer that stays keeps its cursor;
    /// a new one starts after the last event (it receives what happens from now on).
    pub fn set_subscriptions(&self, version: u64, consumers: &[Subscriber]) -> Result<u64, ApiError> {
        let stored = self.sql.query_one("SELECT version FROM event_subscriptions", &[])?;
        let stored = stored.map(|r| r.int(0)).transpose()?.map_or(0, |v| v as u64);
        if version <= stored {
            return Ok(stored);
        }
        let consumers = to_json(consumers)?;
        self.sql.query(
            // The queue's own consumers are not the tenant's to remove.
            "DELETE FROM event_consumers WHERE name NOT IN (SELECT value ->> 'name' FROM json_each(?1)) AND name <> ?2",
            &[consumers.as_str().into(), super::completion::COMPLETION_CONSUMER.into()],
        )?;
        self.sql.query(
            &format!(
                "INSERT INTO event_consumers (name, kinds, acked) \
                 SELECT value ->> 'name', value -> 'kinds', ({LAST_SEQ}) FROM json_each(?1) WHERE true \
                 ON CONFLICT (name) DO UPDATE SET kinds = excluded.kinds"
            ),
            &[consumers.into()],
        )?;
        self.sql.query(
            "INSERT INTO event_subscriptions (id, version) VALUES (1, ?1) \
             ON CONFLICT (id) DO UPDATE SET version = excluded.version",
            &[(version as i64).into()],
        )?;
        self.prune_events()?;
        sync_triggers(self.sql)?;
        Ok(version)
    }

    /// The events after `after` (or after the consumer's cursor, when that is further) that
    /// `consumer` subscribes to, at most `limit`, in commit order. Reading after a sequence
    /// acknowledges every event up to it; the events every consumer has acknowledged are
    /// deleted.
    pub fn read_events(&self, consumer: &str, after: i64, limit: u32) -> Result<EventPage, ApiError> {
        let acked = self
            .sql
            .query_one(
                "UPDATE event_consumers SET acked = max(acked, ?2) WHERE name = ?1 RETURNING acked",
                &[consumer.into(), after.into()],
            )?
            .ok_or_else(|| ApiError::not_found("event consumer"))?
            .int(0)?;
        self.prune_events()?;
        // Rows are deleted only up to every consumer's cursor or by the cap, so a deleted
        // number after this consumer's cursor was dropped before it read it.
        let lowest = self
            .sql
            .query_one(&format!("SELECT coalesce((SELECT min(seq) FROM events), ({LAST_SEQ}) + 1)"), &[])?
            .map_or(Ok(1), |r| r.int(0))?;
        let missed_through = (lowest - 1 > acked).then_some(lowest - 1);
        // From the cursor, not `after`: an acknowledged event is never handed out again, and
        // a new consumer does not receive the events from before it subscribed.
        let rows = self
            .sql
            .query(READ, &[acked.into(), self.name.into(), consumer.into(), limit.min(MAX_EVENT_PAGE).into()])?;
        let events = rows.into_iter().map(read_event).collect::<Result<_, _>>()?;
        Ok(EventPage { events, missed_through })
    }

    /// Records a queue event at `now` with `data` (a JSON object) if anyone subscribes to it.
    pub fn record_queue_event(&self, kind: EventKind, data: &str, now: EpochMs) -> Result<(), ApiError> {
        self.sql.query(QUEUE_EVENT, &[kind.as_str().into(), now.into(), data.into()]).map(drop)
    }

    /// Deletes the events every consumer has acknowledged (all of them when nobody listens).
    fn prune_events(&self) -> Result<(), ApiError> {
        self.sql
            .query(
                &format!(
                    "DELETE FROM events WHERE seq <= coalesce((SELECT min(acked) FROM event_consumers), ({LAST_SEQ}))"
                ),
                &[],
            )
            .map(drop)
    }
}

fn read_event(row: super::sql::Row) -> Result<EventRecord, ApiError> {
    let mut c = Columns::new(row);
    let (seq, id, kind, at, data) = (c.int(), c.text(), c.text(), c.int(), c.json());
    c.finish()?;
    let kind = EventKind::parse(&kind).ok_or_else(|| ApiError::internal("unknown stored event kind"))?;
    Ok(EventRecord { seq, id, kind, at, data })
}

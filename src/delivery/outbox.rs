//! Stored deliveries: one per (webhook, event), attempted until a receiver answers 2xx or the
//! [retry curve](super::retry) ends. An attempt is taken like a job's lease: its delivery is
//! marked as sending for [`ATTEMPT_LEASE_MS`], so a crash mid-request only delays the retry.

use super::envelope::envelope;
use super::retry::DeliveryRetry;
use super::webhooks::{AUTO_DISABLE_AFTER, LAST_AUTO_DISABLED, LAST_FAILED, LAST_SUCCESS};
use super::Deliveries;
use crate::model::wire::{to_json, wire_record};
use crate::model::{ApiError, EpochMs};
use crate::queue::completion::CompletionEvent;
use crate::queue::events::EventRecord;
use crate::queue::sql::Columns;
use crate::queue::{Row, RowExt};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The `webhook_id` prefix of a job's own completion webhook deliveries. The SQL here finds
/// them as the range `>= 'job:' AND < 'job;'` (`;` follows `:`), which an index serves.
pub const JOB_HOOK_PREFIX: &str = "job:";

/// How long an attempt holds its delivery: longer than the request's 10 s timeout.
pub const ATTEMPT_LEASE_MS: EpochMs = 30_000;
/// Attempts of one webhook in flight at once, so a slow receiver holds a few requests, not all.
pub const PER_WEBHOOK_IN_FLIGHT: u32 = 4;
/// Attempts in flight at once in all: a Worker invocation has six connections waiting for
/// response headers, and more would wait inside the runtime with their timeouts running.
pub const MAX_IN_FLIGHT: u32 = 6;
/// How long finished deliveries stay listed.
pub const DELIVERY_RETENTION_MS: EpochMs = 7 * 24 * 3_600_000;
/// Most characters of a receiver's answer kept on the delivery.
pub const RESPONSE_EXCERPT: usize = 1_024;

/// A delivery's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or in one).
    Pending,
    /// A receiver answered 2xx.
    Success,
    /// Every attempt failed.
    Failed,
}

impl DeliveryStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Success => "success",
            DeliveryStatus::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<DeliveryStatus> {
        [DeliveryStatus::Pending, DeliveryStatus::Success, DeliveryStatus::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

wire_record! {
    /// One attempt to make: where, what, and with which secret.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Attempt {
        /// The webhook.
        pub webhook_id: String,
        /// The delivery (the event's id).
        pub id: String,
        /// The event name.
        pub event: String,
        /// The envelope, exactly as sent.
        pub body: String,
        /// This attempt's number, from 1.
        pub attempt: u32,
        /// The target.
        pub url: String,
        /// Signs the request (a job's completion webhook may have none).
        pub secret: Option<String>,
    }
}

impl Attempt {
    /// Whether this is a job's own completion webhook rather than an organization's webhook.
    pub fn is_completion(&self) -> bool {
        self.webhook_id.starts_with(JOB_HOOK_PREFIX)
    }
}

wire_record! {
    /// What an attempt got.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct AttemptOutcome {
        /// The webhook.
        pub webhook_id: String,
        /// The delivery.
        pub id: String,
        /// The attempt's number.
        pub attempt: u32,
        /// The receiver's status, `None` when no answer came.
        pub status_code: Option<u16>,
        /// The start of the receiver's answer.
        pub response_body: Option<String>,
        /// What went wrong (a non-2xx status, a timeout, a refused URL).
        pub error: Option<String>,
    }
}

impl AttemptOutcome {
    /// Whether the receiver took the delivery.
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

wire_record! {
    /// A delivery as listed.
    #[derive(Clone, Debug)]
    pub struct DeliveryRecord {
        /// The event's id (the envelope's `id`).
        pub id: String,
        /// The webhook.
        pub webhook_id: String,
        /// The event name.
        pub event: String,
        /// The envelope sent.
        pub payload: Box<RawValue>,
        /// Its state.
        pub status: DeliveryStatus,
        /// The last answer's status (0: none came).
        pub status_code: Option<i64>,
        /// The start of the last answer.
        pub response_body: Option<String>,
        /// What went wrong on the last attempt.
        pub error: Option<String>,
        /// Attempts made.
        pub attempts: i64,
        /// When the delivery was stored.
        pub created_at: EpochMs,
        /// When a receiver took it.
        pub delivered_at: Option<EpochMs>,
        /// When the last attempt was made.
        pub last_attempt_at: Option<EpochMs>,
        /// When the next attempt is due (pending only).
        pub next_attempt_at: Option<EpochMs>,
    }
}

/// Which deliveries of a webhook to list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryFilter {
    /// Only this state.
    pub status: Option<DeliveryStatus>,
    /// Page size.
    pub limit: u32,
    /// Deliveries to skip.
    pub offset: u32,
}

/// An event as the deliveries of it are stored.
#[derive(Serialize)]
struct Incoming<'a> {
    id: &'a str,
    event: &'a str,
    seq: i64,
    body: String,
}

impl<'a> Incoming<'a> {
    fn of(e: &'a EventRecord) -> Result<Self, ApiError> {
        let body = envelope(&e.id, e.kind.as_str(), e.at, &e.data)?;
        Ok(Incoming { id: &e.id, event: e.kind.as_str(), seq: e.seq, body })
    }
}

/// The attempts one dispatch has in flight, per webhook: what [`Deliveries::take_due`] may add.
/// Kept in memory by the dispatch, not stored: an attempt that was in flight when its actor died
/// holds nothing, and is made again once its [`ATTEMPT_LEASE_MS`] ends.
#[derive(Debug, Default)]
pub struct InFlight {
    by_webhook: std::collections::HashMap<String, u32>,
    total: u32,
}

impl InFlight {
    /// Counts attempts that were started.
    pub fn started(&mut self, attempts: &[Attempt]) {
        for attempt in attempts {
            *self.by_webhook.entry(attempt.webhook_id.clone()).or_default() += 1;
            self.total += 1;
        }
    }

    /// Counts an attempt of `webhook_id` that ended.
    pub fn ended(&mut self, webhook_id: &str) {
        if let Some(n) = self.by_webhook.get_mut(webhook_id) {
            *n -= 1;
            self.total -= 1;
            if *n == 0 {
                self.by_webhook.remove(webhook_id);
            }
        }
    }

    /// How many more attempts of `webhook_id` may start.
    fn room_for(&self, webhook_id: &str) -> u32 {
        PER_WEBHOOK_IN_FLIGHT.saturating_sub(self.by_webhook.get(webhook_id).copied().unwrap_or(0))
    }
}

impl Deliveries<'_> {
    /// Stores one delivery of each event for every enabled webhook that wants its kind (none
    /// twice: an event redelivered by its queue is recognised by its id), due at `now`.
    pub fn accept(&self, events: &[EventRecord], now: EpochMs) -> Result<(), ApiError> {
        if events.is_empty() || !self.exists()? {
            return Ok(());
        }
        let incoming = events.iter().map(Incoming::of).collect::<Result<Vec<_>, ApiError>>()?;
        self.sql
            .query(
                "INSERT INTO deliveries (webhook_id, id, event, seq, body, status, attempts, \
                 next_attempt_at, created_at) \
                 SELECT w.id, e.value ->> 'id', e.value ->> 'event', e.value ->> 'seq', e.value ->> 'body', \
                 'pending', 0, ?2, ?2 \
                 FROM json_each(?1) AS e JOIN webhooks AS w ON w.enabled \
                 AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = e.value ->> 'event') \
                 WHERE true ON CONFLICT DO NOTHING",
                &[to_json(&incoming)?.into(), now.into()],
            )
            .map(drop)
    }

    /// Stores one delivery of each event of a job with its own completion webhook, due at `now`.
    pub fn accept_completions(&self, events: &[CompletionEvent], now: EpochMs) -> Result<(), ApiError> {
        #[derive(Serialize)]
        struct ToJob<'a> {
            hook: String,
            #[serde(flatten)]
            event: Incoming<'a>,
            url: &'a str,
            secret: Option<&'a str>,
        }
        let incoming = events
            .iter()
            .map(|c| {
                let hook = format!("{JOB_HOOK_PREFIX}{}", job_of(&c.event)?);
                Ok(ToJob { hook, event: Incoming::of(&c.event)?, url: &c.url, secret: c.secret.as_deref() })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        self.sql
            .query(
                "INSERT INTO deliveries (webhook_id, id, event, seq, body, status, attempts, \
                 next_attempt_at, created_at, url, secret) \
                 SELECT value ->> 'hook', value ->> 'id', value ->> 'event', value ->> 'seq', value ->> 'body', \
                 'pending', 0, ?2, ?2, value ->> 'url', value ->> 'secret' \
                 FROM json_each(?1) WHERE true ON CONFLICT DO NOTHING",
                &[to_json(&incoming)?.into(), now.into()],
            )
            .map(drop)
    }

    /// Takes the attempts due at `now` that `in_flight` has room for — oldest due first, at
    /// most [`PER_WEBHOOK_IN_FLIGHT`] per webhook and [`MAX_IN_FLIGHT`] in all — holding each
    /// delivery for [`ATTEMPT_LEASE_MS`]. Each webhook's due deliveries are read from the front
    /// of its own index range, so a backlog of thousands costs no more than an empty one.
    pub fn take_due(&self, now: EpochMs, in_flight: &InFlight) -> Result<Vec<Attempt>, ApiError> {
        let room = MAX_IN_FLIGHT.saturating_sub(in_flight.total);
        if room == 0 {
            return Ok(Vec::new());
        }
        // (due, seq, webhook, delivery) of every candidate; a job's completion webhook has one or
        // two deliveries, so those are not counted per webhook.
        let mut due: Vec<(EpochMs, i64, String, String)> = Vec::new();
        let mut collect = |rows: Vec<Row>| -> Result<(), ApiError> {
            for row in rows {
                due.push((row.int(0)?, row.int(1)?, row.text(2)?.to_owned(), row.text(3)?.to_owned()));
            }
            Ok(())
        };
        for row in self.sql.query("SELECT id FROM webhooks WHERE enabled", &[])? {
            let webhook_id = row.text(0)?;
            let room = in_flight.room_for(webhook_id).min(room);
            if room > 0 {
                collect(self.sql.query(
                    "SELECT next_attempt_at, seq, webhook_id, id FROM deliveries INDEXED BY deliveries_due_per_webhook \
                     WHERE webhook_id = ?1 AND status = 'pending' AND next_attempt_at <= ?2 \
                     ORDER BY next_attempt_at, seq LIMIT ?3",
                    &[webhook_id.into(), now.into(), room.into()],
                )?)?;
            }
        }
        collect(self.sql.query(
            "SELECT next_attempt_at, seq, webhook_id, id FROM deliveries INDEXED BY deliveries_job_due \
             WHERE status = 'pending' AND webhook_id >= 'job:' AND webhook_id < 'job;' AND next_attempt_at <= ?1 \
             ORDER BY next_attempt_at, seq LIMIT ?2",
            &[now.into(), room.into()],
        )?)?;
        due.sort_unstable();
        due.into_iter().take(room as usize).map(|(_, _, webhook_id, id)| self.take(&webhook_id, &id, now)).collect()
    }

    /// Takes delivery `id` of `webhook_id` for an attempt now, whatever its due time (a manual
    /// retry); one that succeeded already is refused.
    pub fn take_now(&self, webhook_id: &str, id: &str, now: EpochMs) -> Result<Attempt, ApiError> {
        let row = self
            .sql
            .query_one(
                "SELECT status FROM deliveries WHERE webhook_id = ?1 AND id = ?2",
                &[webhook_id.into(), id.into()],
            )?
            .ok_or_else(|| ApiError::not_found("Delivery"))?;
        if row.text(0)? == DeliveryStatus::Success.as_str() {
            return Err(ApiError::validation("delivery_id", "the delivery succeeded already"));
        }
        self.take(webhook_id, id, now)
    }

    fn take(&self, webhook_id: &str, id: &str, now: EpochMs) -> Result<Attempt, ApiError> {
        let row = self
            .sql
            .query_one(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = ?3 \
                 WHERE webhook_id = ?1 AND id = ?2 \
                 RETURNING webhook_id, id, event, body, attempts + 1, \
                 coalesce(url, (SELECT url FROM webhooks WHERE id = ?1)), \
                 coalesce(secret, (SELECT secret FROM webhooks WHERE id = ?1))",
                &[webhook_id.into(), id.into(), (now + ATTEMPT_LEASE_MS).into()],
            )?
            .ok_or_else(|| ApiError::not_found("Delivery"))?;
        let mut c = Columns::new(row);
        let (webhook_id, id, event, body, attempt, url, secret) =
            (c.text(), c.text(), c.text(), c.text(), c.int(), c.text(), c.opt_text());
        c.finish()?;
        Ok(Attempt { webhook_id, id, event, body, attempt: attempt as u32, url, secret })
    }

    /// Records what an attempt got: success ends the delivery and clears the webhook's failure
    /// count; a failure schedules the next attempt on `retry` (with `jitter` in 0..=1), or ends
    /// the delivery as failed, which counts toward disabling the webhook. Returns whether the
    /// webhook was disabled by it (so the queues may stop recording its events).
    pub fn record(
        &self,
        outcome: &AttemptOutcome,
        retry: &DeliveryRetry,
        jitter: f64,
        now: EpochMs,
    ) -> Result<bool, ApiError> {
        let succeeded = outcome.succeeded();
        let next = if succeeded { None } else { retry.next_attempt(outcome.attempt, now, jitter) };
        let status = match (succeeded, next) {
            (true, _) => DeliveryStatus::Success,
            (false, Some(_)) => DeliveryStatus::Pending,
            (false, None) => DeliveryStatus::Failed,
        };
        let excerpt = outcome.response_body.as_deref().map(|b| b.chars().take(RESPONSE_EXCERPT).collect::<String>());
        let updated = self.sql.query_one(
            "UPDATE deliveries SET status = ?3, attempts = ?4, next_attempt_at = ?5, status_code = ?6, \
             response_body = ?7, error = ?8, last_attempt_at = ?9, delivered_at = CASE WHEN ?3 = 'success' THEN ?9 END \
             WHERE webhook_id = ?1 AND id = ?2 AND attempts < ?4 RETURNING 1",
            &[
                outcome.webhook_id.as_str().into(),
                outcome.id.as_str().into(),
                status.as_str().into(),
                outcome.attempt.into(),
                next.into(),
                i64::from(outcome.status_code.unwrap_or(0)).into(),
                excerpt.into(),
                outcome.error.clone().into(),
                now.into(),
            ],
        )?;
        if updated.is_none() {
            // A later attempt was recorded already (a manual retry raced the scheduled one).
            return Ok(false);
        }
        let disabled = self.sql.query_one(
            "UPDATE webhooks SET last_triggered_at = ?2, \
             failure_count = CASE WHEN ?3 = 'success' THEN 0 WHEN ?3 = 'failed' THEN failure_count + 1 ELSE failure_count END, \
             last_status = CASE WHEN ?3 = 'success' THEN ?5 ELSE ?6 END WHERE id = ?1 RETURNING failure_count >= ?4 AND enabled",
            &[
                outcome.webhook_id.as_str().into(),
                now.into(),
                status.as_str().into(),
                AUTO_DISABLE_AFTER.into(),
                LAST_SUCCESS.into(),
                LAST_FAILED.into(),
            ],
        )?;
        let disable = disabled.map(|r| r.int(0)).transpose()?.unwrap_or(0) != 0;
        if disable {
            self.sql.query(
                "UPDATE webhooks SET enabled = 0, last_status = ?2, updated_at = ?3 WHERE id = ?1",
                &[outcome.webhook_id.as_str().into(), LAST_AUTO_DISABLED.into(), now.into()],
            )?;
        }
        Ok(disable)
    }

    /// A page of `webhook_id`'s deliveries, newest first.
    pub fn list_deliveries(&self, webhook_id: &str, filter: &DeliveryFilter) -> Result<Vec<DeliveryRecord>, ApiError> {
        self.webhook(webhook_id)?;
        self.deliveries_of(webhook_id, filter)
    }

    /// The deliveries of job `job_id`'s own completion webhook, newest first.
    pub fn list_job_deliveries(&self, job_id: &str) -> Result<Vec<DeliveryRecord>, ApiError> {
        self.deliveries_of(
            &format!("{JOB_HOOK_PREFIX}{job_id}"),
            &DeliveryFilter { status: None, limit: 100, offset: 0 },
        )
    }

    fn deliveries_of(&self, webhook_id: &str, filter: &DeliveryFilter) -> Result<Vec<DeliveryRecord>, ApiError> {
        let rows = self.sql.query(
            "SELECT id, webhook_id, event, body, status, status_code, response_body, error, attempts, created_at, \
             delivered_at, last_attempt_at, CASE WHEN status = 'pending' THEN next_attempt_at END \
             FROM deliveries INDEXED BY deliveries_newest WHERE webhook_id = ?1 AND (?2 IS NULL OR status = ?2) \
             ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4",
            &[
                webhook_id.into(),
                filter.status.map(DeliveryStatus::as_str).into(),
                filter.limit.into(),
                filter.offset.into(),
            ],
        )?;
        rows.into_iter().map(read_delivery).collect()
    }

    /// When the next attempt of an enabled webhook is due (an attempt in flight counts at its
    /// lease's end, when it would be retried if its outcome never came).
    pub fn next_wake(&self) -> Result<Option<EpochMs>, ApiError> {
        if !self.exists()? {
            return Ok(None);
        }
        let row = self.sql.query_one(
            "SELECT min(due) FROM (SELECT (SELECT min(next_attempt_at) FROM deliveries INDEXED BY deliveries_due_per_webhook \
             WHERE webhook_id = w.id AND status = 'pending') AS due FROM webhooks w WHERE w.enabled \
             UNION ALL SELECT min(next_attempt_at) FROM deliveries INDEXED BY deliveries_job_due \
             WHERE status = 'pending' AND webhook_id >= 'job:' AND webhook_id < 'job;')",
            &[],
        )?;
        Ok(row.map(|r| r.opt_int(0)).transpose()?.flatten())
    }

    /// Deletes the deliveries that finished more than [`DELIVERY_RETENTION_MS`] before `now`.
    pub fn prune(&self, now: EpochMs) -> Result<(), ApiError> {
        self.sql
            .query(
                "DELETE FROM deliveries WHERE status <> 'pending' AND last_attempt_at < ?1",
                &[(now - DELIVERY_RETENTION_MS).into()],
            )
            .map(drop)
    }
}

fn read_delivery(row: Row) -> Result<DeliveryRecord, ApiError> {
    let mut c = Columns::new(row);
    let (id, webhook_id, event, payload, status) = (c.text(), c.text(), c.text(), c.json(), c.text());
    let (status_code, response_body, error, attempts) = (c.opt_int(), c.opt_text(), c.opt_text(), c.int());
    let (created_at, delivered_at, last_attempt_at, next_attempt_at) = (c.int(), c.opt_int(), c.opt_int(), c.opt_int());
    c.finish()?;
    let status = DeliveryStatus::parse(&status).ok_or_else(|| ApiError::internal("unknown delivery status"))?;
    Ok(DeliveryRecord {
        id,
        webhook_id,
        event,
        payload,
        status,
        status_code,
        response_body,
        error,
        attempts,
        created_at,
        delivered_at,
        last_attempt_at,
        next_attempt_at,
    })
}

/// The job an event is about (its `data.job_id`).
fn job_of(event: &EventRecord) -> Result<String, ApiError> {
    #[derive(serde::Deserialize)]
    struct About {
        job_id: String,
    }
    Ok(crate::model::wire::from_json::<About>(event.data.get(), "event data")?.job_id)
}

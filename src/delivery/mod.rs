//! Outgoing webhooks: the tenant's webhook definitions and their deliveries, kept by one
//! delivery actor per tenant. Pure logic over [`Sql`], like `queue` and `tenant`; the actor
//! (`actors::delivery_actor`) only sends the requests and keeps the alarm.
//!
//! Events reach it from the queues' outboxes in batches ([`outbox::Deliveries::accept`]):
//! each event becomes one stored delivery per enabled webhook that wants its kind, before the
//! queue's outbox is acknowledged, so neither a crash nor a restart loses one. A delivery is
//! attempted at once, then again on the [`retry`] curve for more than a day; its record says
//! what every attempt got.
//!
//! - [`webhooks`]: create, read, update, delete; the subscription the queues need.
//! - [`outbox`]: stored deliveries, which are due, and what an attempt's outcome changes.
//! - [`retry`]: the backoff curve between attempts.
//! - [`envelope`]: the body a receiver gets and the headers that sign it.
//! - [`protocol`]: the commands the Worker and the queue actors send.

pub mod envelope;
pub mod outbox;
pub mod protocol;
pub mod retry;
pub mod webhooks;

use crate::model::ApiError;
use crate::queue::{RowExt, Sql};

/// The name queue outboxes know the webhook consumer by.
pub const WEBHOOK_CONSUMER: &str = "webhooks";

const SCHEMA: &[&str] = &[
    // `events` is a JSON array of event names; `secret` signs every delivery, unless empty
    // (cleared by an update: unsigned).
    "CREATE TABLE IF NOT EXISTS webhooks (id TEXT PRIMARY KEY, name TEXT NOT NULL, url TEXT NOT NULL, \
        events TEXT NOT NULL, secret TEXT NOT NULL, enabled INTEGER NOT NULL, format TEXT NOT NULL, \
        failure_count INTEGER NOT NULL DEFAULT 0, last_triggered_at INTEGER, last_status TEXT, \
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)",
    // One row per (webhook, event): `id` is the event's id, the same on every attempt, so a
    // receiver dedupes by it; `seq` is its place in its queue's commit order. `body` is the
    // envelope exactly as sent. A job's own completion webhook has no webhook row: its
    // deliveries carry `url` and `secret` themselves (`webhook_id` `job:<id>`).
    "CREATE TABLE IF NOT EXISTS deliveries (webhook_id TEXT NOT NULL, id TEXT NOT NULL, \
        event TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL, \
        attempts INTEGER NOT NULL, \
        next_attempt_at INTEGER, status_code INTEGER, response_body TEXT, error TEXT, url TEXT, secret TEXT, \
        created_at INTEGER NOT NULL, delivered_at INTEGER, last_attempt_at INTEGER, \
        PRIMARY KEY (webhook_id, id)) WITHOUT ROWID",
    // What is due, per webhook, and of the jobs' own completion webhooks (one or two deliveries
    // each, so they are taken together): a dispatch reads only the front of each.
    "CREATE INDEX IF NOT EXISTS deliveries_due_per_webhook ON deliveries (webhook_id, next_attempt_at, seq) \
        WHERE status = 'pending'",
    "CREATE INDEX IF NOT EXISTS deliveries_job_due ON deliveries (next_attempt_at, seq) \
        WHERE status = 'pending' AND webhook_id >= 'job:' AND webhook_id < 'job;'",
    "CREATE INDEX IF NOT EXISTS deliveries_newest ON deliveries (webhook_id, created_at)",
    // Which tenant this actor serves, for the work its alarm does.
    "CREATE TABLE IF NOT EXISTS delivery_identity (id INTEGER PRIMARY KEY CHECK (id = 1), tenant TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS deliveries_finished ON deliveries (last_attempt_at) WHERE status <> 'pending'",
];

/// One tenant's webhooks and deliveries, over the delivery actor's storage.
#[derive(Clone, Copy)]
pub struct Deliveries<'a> {
    /// The actor's SQLite.
    pub sql: &'a dyn Sql,
}

impl Deliveries<'_> {
    /// Creates the tables (idempotent).
    pub fn migrate(&self) -> Result<(), ApiError> {
        SCHEMA.iter().try_for_each(|statement| self.sql.query(statement, &[]).map(drop))
    }

    /// Creates the tables and records the tenant they belong to (idempotent).
    pub fn migrate_for(&self, tenant: &str) -> Result<(), ApiError> {
        self.migrate()?;
        self.sql
            .query("INSERT OR IGNORE INTO delivery_identity (id, tenant) VALUES (1, ?1)", &[tenant.into()])
            .map(drop)
    }

    /// The tenant whose deliveries these are (`None` before the first webhook).
    pub fn tenant(&self) -> Result<Option<String>, ApiError> {
        if !self.exists()? {
            return Ok(None);
        }
        let row = self.sql.query_one("SELECT tenant FROM delivery_identity", &[])?;
        row.map(|r| r.text(0).map(str::to_owned)).transpose()
    }

    /// Whether the tables exist: a tenant that never made a webhook has none.
    pub fn exists(&self) -> Result<bool, ApiError> {
        let found =
            self.sql.query_one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'webhooks'", &[])?;
        Ok(found.is_some())
    }
}

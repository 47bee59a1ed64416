//! One queue's jobs and every transition between their states, over a synchronous [`Sql`]
//! connection. The queue actor owns one [`Queue`]; the native tests drive the same code over
//! rusqlite.
//!
//! Each public operation issues its statements back to back with no `await` in between, so
//! inside a Durable Object all writes of one operation commit together.
//!
//! - [`schema`]: tables and indexes.
//! - [`transition`]: the job state machine; the only writer of a job's `status`.
//! - [`config`]: the queue's settings (defaults, backoff, retention, pause), stored in its database.
//! - [`identity`]: the tenant and queue name a queue actor stores, for its alarm.
//! - [`events`]: the event outbox: job and queue events, their subscribers and cursors.
//! - [`completion`]: jobs' own completion webhooks, fed by the outbox.
//! - [`enqueue`]: single and bulk inserts with idempotency keys.
//! - [`insert`]: the batch insert statement, reading from each row only what differs.
//! - [`lease`]: the worker loop: claim, complete, fail, heartbeat.
//! - [`ack`]: batch acknowledgements (many completes and fails in one request).
//! - [`manage`]: reads, cancel, replay, priority and the dead-letter queue.
//! - [`listing`]: job lists, batch status and statistics.
//! - [`maintenance`]: what the alarm does, and when it must next run.
//! - [`protocol`]: the commands the Worker sends to a queue actor, and their replies.
//! - [`record`]: what a queue answers, as owned records read from stored rows.
//! - [`sql`]: the storage interface.
//! - [`throttle`]: the per-queue claim rate limit.

pub mod ack;
pub mod completion;
pub mod config;
pub mod enqueue;
pub mod events;
pub mod identity;
pub mod insert;
pub mod lease;
pub mod listing;
pub mod maintenance;
pub mod manage;
pub mod protocol;
pub mod record;
pub mod schema;
pub mod sql;
pub mod throttle;
pub mod transition;

pub use config::QueueSettings;
pub use sql::{Row, RowExt, Sql, SqlValue};

/// `rows` ordered by `key`, ascending. `RETURNING` promises no order, so the operations that
/// answer in one (claim, replay) reorder their rows here: every caller shares the one sort of
/// plain integer keys (each sort instance costs kilobytes of wasm).
pub fn ordered_by<T>(rows: Vec<T>, key: impl Fn(&T) -> (i64, i64)) -> Vec<T> {
    let mut keys: Vec<((i64, i64), usize)> = rows.iter().map(key).zip(0..).collect();
    sort_keys(&mut keys);
    let mut slots: Vec<Option<T>> = rows.into_iter().map(Some).collect();
    keys.iter().filter_map(|&(_, at)| slots[at].take()).collect()
}

#[inline(never)]
fn sort_keys(keys: &mut [((i64, i64), usize)]) {
    keys.sort_unstable();
}

/// One queue: its storage, its identity and its settings.
pub struct Queue<'a> {
    /// The actor's SQLite database.
    pub sql: &'a dyn Sql,
    /// The owning tenant (organization) id.
    pub tenant: &'a str,
    /// The queue name.
    pub name: &'a str,
    /// Settings in force.
    pub settings: &'a QueueSettings,
}

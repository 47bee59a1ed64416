//! One queue's jobs and every transition between their states, over a synchronous [`Sql`]
//! connection. The queue actor owns one [`Queue`]; the native tests drive the same code over
//! rusqlite.
//!
//! Each public operation issues its statements back to back with no `await` in between, so
//! inside a Durable Object all writes of one operation commit together.
//!
//! - [`schema`]: tables and indexes.
//! - [`enqueue`]: single and bulk inserts with idempotency keys.
//! - [`lease`]: the worker loop: claim, complete, fail, heartbeat.
//! - [`manage`]: reads, cancel, replay and the dead-letter queue.
//! - [`maintenance`]: what the alarm does, and when it must next run.
//! - [`protocol`]: the commands the Worker sends to a queue actor, and their replies.
//! - [`render`]: stored rows as Spooled's JSON shapes.
//! - [`sql`]: the storage interface.

pub mod enqueue;
pub mod lease;
pub mod maintenance;
pub mod manage;
pub mod protocol;
pub mod render;
pub mod schema;
pub mod sql;

pub use sql::{Row, RowExt, Sql, SqlValue};

use crate::model::{retry::RetryPolicy, spec::DEFAULT_LEASE_SECS, spec::DEFAULT_MAX_RETRIES, EpochMs};

/// How long completed and cancelled jobs are kept by default: 7 days.
pub const DEFAULT_RETENTION_MS: EpochMs = 7 * 24 * 3600 * 1000;

/// Per-queue settings that shape how jobs move.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueSettings {
    /// Retry delay curve after a failed attempt.
    pub retry: RetryPolicy,
    /// How long completed and cancelled jobs are kept before the alarm deletes them.
    pub retention_ms: EpochMs,
    /// `max_retries` for jobs that do not set one.
    pub default_max_retries: u32,
    /// Lease length for claims that do not set one.
    pub default_lease_secs: u32,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            retry: RetryPolicy::default(),
            retention_ms: DEFAULT_RETENTION_MS,
            default_max_retries: DEFAULT_MAX_RETRIES,
            default_lease_secs: DEFAULT_LEASE_SECS,
        }
    }
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

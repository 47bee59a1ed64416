//! The queue actor's tables and indexes. Every statement is idempotent, so the schema is
//! applied each time an actor starts (rebuilding the jobs table once when its definition
//! changed).

use super::sql::{RowExt, Sql};
use crate::model::spec::{MAX_RETRIES, PRIORITY};
use crate::model::ApiError;
use std::sync::LazyLock;

/// The jobs table's columns and constraints, their ranges read from `model::spec` (the one home
/// of limits). `seq` is the enqueue order (FIFO within a priority); `id` is the public job id. Times are epoch milliseconds. `scheduled_at` is when a
/// scheduled or retry-delayed job may run; `lease_*` columns are set exactly while the job is
/// processing. The status check is an `OR` chain on purpose: SQLite evaluates `status IN (…)`
/// in a CHECK by building a temporary table for every row written, which made it the costliest
/// part of inserting or moving a job (about 1 µs a row; a quarter of a 100-job insert).
static JOBS_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "(
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL CHECK (status = 'pending' OR status = 'scheduled'
            OR status = 'processing' OR status = 'completed' OR status = 'failed'
            OR status = 'deadletter' OR status = 'cancelled'),
        payload TEXT NOT NULL,
        result TEXT,
        priority INTEGER NOT NULL CHECK (priority BETWEEN {} AND {}),
        retry_count INTEGER NOT NULL DEFAULT 0,
        max_retries INTEGER NOT NULL CHECK (max_retries BETWEEN {} AND {}),
        timeout_seconds INTEGER NOT NULL,
        last_error TEXT,
        tags TEXT,
        idempotency_key TEXT UNIQUE,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        scheduled_at INTEGER,
        started_at INTEGER,
        completed_at INTEGER,
        expires_at INTEGER,
        worker_id TEXT,
        lease_id TEXT,
        lease_secs INTEGER,
        lease_expires_at INTEGER,
        CHECK ((status = 'processing') = (lease_expires_at IS NOT NULL)),
        CHECK (retry_count BETWEEN 0 AND max_retries + 1)
    )",
        PRIORITY.start(),
        PRIORITY.end(),
        MAX_RETRIES.start(),
        MAX_RETRIES.end()
    )
});

/// DDL, applied in order after the jobs table exists.
const STATEMENTS: &[&str] = &[
    // Claim walks this in order and stops after `limit` ready rows.
    "CREATE INDEX IF NOT EXISTS jobs_claimable ON jobs (priority DESC, seq) WHERE status = 'pending'",
    // The alarm promotes due scheduled jobs, wakes waiting claims when retry delays end,
    // expires leases, cancels jobs past `expires_at` and prunes finished jobs: each
    // finds its rows, and its next due time, through one of these.
    "CREATE INDEX IF NOT EXISTS jobs_due ON jobs (scheduled_at) WHERE status = 'scheduled'",
    "CREATE INDEX IF NOT EXISTS jobs_retry_due ON jobs (scheduled_at)
        WHERE status = 'pending' AND scheduled_at IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS jobs_expiring ON jobs (expires_at)
        WHERE status IN ('pending', 'scheduled') AND expires_at IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS jobs_leases ON jobs (lease_expires_at) WHERE status = 'processing'",
    "CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (completed_at)
        WHERE status IN ('completed', 'cancelled')",
    // How many jobs the queue stores, kept by triggers so enqueue can refuse a full queue
    // (`max_jobs`) without counting rows.
    "CREATE TABLE IF NOT EXISTS job_count (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)",
    "INSERT INTO job_count (id, n) SELECT 1, (SELECT count(*) FROM jobs) WHERE NOT EXISTS (SELECT 1 FROM job_count)",
    "CREATE TRIGGER IF NOT EXISTS jobs_counted_in AFTER INSERT ON jobs BEGIN UPDATE job_count SET n = n + 1; END",
    "CREATE TRIGGER IF NOT EXISTS jobs_counted_out AFTER DELETE ON jobs BEGIN UPDATE job_count SET n = n - 1; END",
    // Results over `MAX_INLINE_RESULT_BYTES`, one row each, so no job row passes the
    // production row limit; deleted with their job.
    "CREATE TABLE IF NOT EXISTS job_results (seq INTEGER PRIMARY KEY, result TEXT NOT NULL)",
    "CREATE TRIGGER IF NOT EXISTS job_results_deleted AFTER DELETE ON jobs \
        WHEN old.status = 'completed' AND old.result IS NULL \
        BEGIN DELETE FROM job_results WHERE seq = old.seq; END",
    // Which tenant and queue this database belongs to (see `identity`): one row.
    "CREATE TABLE IF NOT EXISTS queue_identity (id INTEGER PRIMARY KEY CHECK (id = 1), \
        tenant TEXT NOT NULL, name TEXT NOT NULL)",
    // The queue's settings (see `config`): one JSON row.
    "CREATE TABLE IF NOT EXISTS queue_config (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL)",
    // Listings by status (dead letters, newest first) and counts per status.
    "CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, seq)",
];

/// Whether the queue's tables exist: a queue that never had a job or a setting has none, and
/// its actor keeps it that way until one comes (a read must not create a queue).
pub fn exists(sql: &dyn Sql) -> Result<bool, ApiError> {
    Ok(sql.query_one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'", &[])?.is_some())
}

/// Creates the tables and indexes if they do not exist yet, and rebuilds a jobs table made
/// with the old `status IN (…)` check.
pub fn migrate(sql: &dyn Sql) -> Result<(), ApiError> {
    sql.query(&format!("CREATE TABLE IF NOT EXISTS jobs {}", *JOBS_COLUMNS), &[])?;
    let definition = sql.query_one("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'jobs'", &[])?;
    if definition.as_ref().map(|row| row.text(0)).transpose()?.is_some_and(|ddl| ddl.contains("status IN")) {
        rebuild_jobs(sql)?;
    }
    STATEMENTS
        .iter()
        .chain(&super::events::SCHEMA)
        .chain(&super::completion::SCHEMA)
        .try_for_each(|s| sql.query(s, &[]).map(drop))?;
    sql.query(&super::events::cap_trigger(), &[])?;
    super::events::sync_triggers(sql)
}

/// Copies the jobs into a table of the current definition and drops the old one with its
/// indexes and triggers (dropping fires no triggers, so the job count stays right); the
/// statements after it recreate them. Every write happens before the actor's first `await`,
/// so the rebuild commits whole or not at all.
fn rebuild_jobs(sql: &dyn Sql) -> Result<(), ApiError> {
    for statement in [
        format!("CREATE TABLE jobs_rebuilt {}", *JOBS_COLUMNS),
        "INSERT INTO jobs_rebuilt SELECT * FROM jobs".to_owned(),
        "DROP TABLE jobs".to_owned(),
        "ALTER TABLE jobs_rebuilt RENAME TO jobs".to_owned(),
    ] {
        sql.query(&statement, &[])?;
    }
    Ok(())
}

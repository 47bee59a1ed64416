//! The tenant's registry of workers: registration (client-chosen ids upsert on their own
//! queue), heartbeats, deregistration, a paged list, and the alarm's sweep that marks silent
//! workers offline. A tenant has at most a set number of workers.

use super::limit_reached;
use super::store::Tenant;
use crate::model::time::SECOND_MS;
use crate::model::wire::{to_json, wire_record};
use crate::model::{ApiError, EpochMs, ErrorKind};
use crate::queue::sql::Columns;
use crate::queue::{Row, RowExt};
use serde_json::value::RawValue;

/// A worker silent this long is marked `offline`.
pub const OFFLINE_AFTER_MS: EpochMs = 120 * SECOND_MS;
/// An offline worker is forgotten this long after its last heartbeat.
pub const FORGET_AFTER_MS: EpochMs = 24 * 3600 * SECOND_MS;
/// How often workers are asked to heartbeat.
pub const HEARTBEAT_INTERVAL_SECS: u32 = 10;

/// The statuses a worker may report (`offline` is also what silence makes it).
pub const WORKER_STATUSES: [&str; 4] = ["healthy", "degraded", "draining", "offline"];
/// Workers a tenant may have registered at once, unless the `WORKER_LIMIT` variable says
/// otherwise.
pub const DEFAULT_WORKER_LIMIT: u32 = 1_000;

/// One page of the worker list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerPage {
    /// Only workers of these queues (the key's scope); `None`: every queue.
    pub queues: Option<Vec<String>>,
    /// Workers per page.
    pub limit: u32,
    /// Workers skipped, in id order.
    pub offset: u32,
}

wire_record! {
    /// A worker registration, validated by the Worker.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct NewWorker {
        /// Client-chosen or minted id.
        pub id: String,
        /// The queue it works on.
        pub queue_name: String,
        /// Where it runs.
        pub hostname: String,
        /// Free-form kind (`python`, `nodejs` …).
        pub worker_type: Option<String>,
        /// Jobs it runs at once.
        pub max_concurrency: u32,
        /// Free-form JSON object, as text.
        pub metadata: Option<String>,
        /// Its software version.
        pub version: Option<String>,
    }
}

wire_record! {
    /// A heartbeat's contents.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct WorkerBeat {
        /// Jobs it is running now.
        pub current_jobs: u32,
        /// `healthy`, `degraded`, `draining` or `offline`.
        pub status: String,
        /// New metadata, as text.
        pub metadata: Option<String>,
    }
}

const COLUMNS: &str = "id, queue_name, hostname, status, current_jobs, max_concurrency, last_heartbeat, \
    worker_type, metadata, version, registered_at, updated_at";
/// [`COLUMNS`] without the metadata (up to 16 KiB a worker), which the list leaves out.
const LISTED_COLUMNS: &str = "id, queue_name, hostname, status, current_jobs, max_concurrency, last_heartbeat, \
    worker_type, NULL, version, registered_at, updated_at";

wire_record! {
    /// A registered worker.
    #[derive(Clone, Debug)]
    pub struct WorkerRecord {
        /// Worker id.
        pub id: String,
        /// The queue it works on.
        pub queue_name: String,
        /// Where it runs.
        pub hostname: String,
        /// `healthy`, `degraded`, `draining` or `offline`.
        pub status: String,
        /// Jobs it reported running.
        pub current_jobs: i64,
        /// Jobs it runs at once.
        pub max_concurrency: i64,
        /// When it last sent a heartbeat.
        pub last_heartbeat: EpochMs,
        /// Free-form kind.
        pub worker_type: Option<String>,
        /// Its free-form JSON object, raw (`None` when it has none).
        pub metadata: Option<Box<RawValue>>,
        /// Its software version.
        pub version: Option<String>,
        /// When it first registered.
        pub registered_at: EpochMs,
        /// When it last changed.
        pub updated_at: EpochMs,
    }
}

impl WorkerRecord {
    /// Reads a row selected with `COLUMNS`. Metadata that does not parse counts as none.
    fn read(row: Row) -> Result<Self, ApiError> {
        let mut c = Columns::new(row);
        let record = WorkerRecord {
            id: c.text(),
            queue_name: c.text(),
            hostname: c.text(),
            status: c.text(),
            current_jobs: c.int(),
            max_concurrency: c.int(),
            last_heartbeat: c.int(),
            worker_type: c.opt_text(),
            metadata: c.opt_text().and_then(|m| RawValue::from_string(m).ok()),
            version: c.opt_text(),
            registered_at: c.int(),
            updated_at: c.int(),
        };
        c.finish()?;
        Ok(record)
    }
}

fn worker_not_found() -> ApiError {
    ApiError::not_found("worker")
}

impl Tenant<'_> {
    /// Registers (or re-registers) a worker as `healthy`; returns it. An id already registered
    /// on another queue is refused (409, naming neither that queue nor the worker): a worker
    /// never moves, so its owner's deregistration still releases its leases. A new worker
    /// past `limit` takes the place of the longest-silent offline one, or is refused with 429
    /// `WORKER_LIMIT` when every registered worker is live.
    pub fn register_worker(&self, w: &NewWorker, limit: u32, now: EpochMs) -> Result<WorkerRecord, ApiError> {
        match self.sql.query_one("SELECT queue_name FROM workers WHERE id = ?1", &[w.id.as_str().into()])? {
            Some(row) if row.text(0)? != w.queue_name => return Err(ApiError::conflict(
                "worker_id is already registered on another queue; deregister that worker first or choose another id",
            )),
            Some(_) => {}
            None => self.make_room_for_worker(limit)?,
        }
        self.sql.query(
            "INSERT INTO workers (id, queue_name, hostname, worker_type, max_concurrency, metadata, version, \
             status, current_jobs, last_heartbeat, registered_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'healthy', 0, ?8, ?8, ?8) \
             ON CONFLICT(id) DO UPDATE SET queue_name = ?2, hostname = ?3, worker_type = ?4, max_concurrency = ?5, \
             metadata = ?6, version = ?7, status = 'healthy', last_heartbeat = ?8, updated_at = ?8",
            &[
                w.id.as_str().into(),
                w.queue_name.as_str().into(),
                w.hostname.as_str().into(),
                w.worker_type.clone().into(),
                w.max_concurrency.into(),
                w.metadata.clone().into(),
                w.version.clone().into(),
                now.into(),
            ],
        )?;
        self.get_worker(&w.id)
    }

    /// Before a new worker is stored: at `limit`, forgets the offline worker silent longest,
    /// or refuses when none is offline.
    fn make_room_for_worker(&self, limit: u32) -> Result<(), ApiError> {
        let count = self.sql.query_one("SELECT count(*) FROM workers", &[])?.map_or(Ok(0), |r| r.int(0))?;
        if count < i64::from(limit) {
            return Ok(());
        }
        let forgotten = self.sql.query(
            "DELETE FROM workers WHERE id IN (SELECT id FROM workers WHERE status = 'offline' \
             ORDER BY last_heartbeat LIMIT ?1) RETURNING id",
            &[(count - i64::from(limit) + 1).into()],
        )?;
        if forgotten.is_empty() {
            let remedy = "deregister one first";
            return Err(limit_reached(ErrorKind::WorkerLimit, "workers", count, limit, "WORKER_LIMIT", remedy));
        }
        Ok(())
    }

    /// Records a heartbeat; 404 for an unknown (or forgotten) worker.
    pub fn worker_heartbeat(&self, id: &str, beat: &WorkerBeat, now: EpochMs) -> Result<(), ApiError> {
        let rows = self.sql.query(
            "UPDATE workers SET current_jobs = ?2, status = ?3, metadata = coalesce(?4, metadata), \
             last_heartbeat = ?5, updated_at = ?5 WHERE id = ?1 RETURNING id",
            &[
                id.into(),
                beat.current_jobs.into(),
                beat.status.as_str().into(),
                beat.metadata.clone().into(),
                now.into(),
            ],
        )?;
        if rows.is_empty() {
            return Err(worker_not_found());
        }
        Ok(())
    }

    /// Removes a worker; returns the queue it worked on, so its leases can be released.
    pub fn deregister_worker(&self, id: &str) -> Result<String, ApiError> {
        let row = self.sql.query_one("DELETE FROM workers WHERE id = ?1 RETURNING queue_name", &[id.into()])?;
        Ok(row.ok_or_else(worker_not_found)?.text(0)?.to_owned())
    }

    /// One worker, or 404.
    pub fn get_worker(&self, id: &str) -> Result<WorkerRecord, ApiError> {
        let row = self.sql.query_one(&format!("SELECT {COLUMNS} FROM workers WHERE id = ?1"), &[id.into()])?;
        WorkerRecord::read(row.ok_or_else(worker_not_found)?)
    }

    /// One page of workers in id order (stable while heartbeats come in), without their
    /// metadata, and whether more follow.
    pub fn list_workers(&self, page: &WorkerPage) -> Result<(Vec<WorkerRecord>, bool), ApiError> {
        let scope = page.queues.as_ref().map(to_json).transpose()?;
        let rows = self.sql.query(
            &format!(
                "SELECT {LISTED_COLUMNS} FROM workers \
                 WHERE ?1 IS NULL OR queue_name IN (SELECT value FROM json_each(?1)) ORDER BY id LIMIT ?2 OFFSET ?3"
            ),
            &[scope.into(), (page.limit + 1).into(), page.offset.into()],
        )?;
        let has_more = rows.len() > page.limit as usize;
        let workers = rows.into_iter().take(page.limit as usize).map(WorkerRecord::read).collect::<Result<_, _>>()?;
        Ok((workers, has_more))
    }

    /// Marks workers silent for [`OFFLINE_AFTER_MS`] offline and forgets long-offline ones;
    /// returns how many went offline.
    pub fn sweep_workers(&self, now: EpochMs) -> Result<usize, ApiError> {
        let offline = self.sql.query(
            "UPDATE workers SET status = 'offline', updated_at = ?1 \
             WHERE status != 'offline' AND last_heartbeat <= ?2 RETURNING id",
            &[now.into(), (now - OFFLINE_AFTER_MS).into()],
        )?;
        self.sql.query(
            "DELETE FROM workers WHERE status = 'offline' AND last_heartbeat <= ?1",
            &[(now - FORGET_AFTER_MS).into()],
        )?;
        Ok(offline.len())
    }

    /// When the tenant's alarm must next run: the next worker to go silent or to be forgotten.
    pub fn next_worker_wake(&self) -> Result<Option<EpochMs>, ApiError> {
        let row = self.sql.query_one(
            "SELECT min(t) FROM ( \
               SELECT min(last_heartbeat) + ?1 AS t FROM workers WHERE status != 'offline' \
               UNION ALL SELECT min(last_heartbeat) + ?2 FROM workers WHERE status = 'offline')",
            &[OFFLINE_AFTER_MS.into(), FORGET_AFTER_MS.into()],
        )?;
        row.map_or(Ok(None), |r| r.opt_int(0))
    }
}

//! The tenant's registry of workers: registration (client-chosen ids upsert on their own
//! queue), heartbeats, deregistration, a paged list, and the alarm's sweep that marks silent
//! workers offline. A tenant has at most a set number of workers.

use super::store::Tenant;
use crate::model::time::{format_rfc3339, SECOND_MS};
use crate::model::{ApiError, EpochMs, ErrorKind};
use crate::queue::render::to_json;
use crate::queue::{Row, RowExt};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};

/// A worker silent this long is marked `offline`.
pub const OFFLINE_AFTER_MS: EpochMs = 120 * SECOND_MS;
/// An offline worker is forgotten this long after its last heartbeat.
pub const FORGET_AFTER_MS: EpochMs = 24 * 3600 * SECOND_MS;
/// How often workers are asked to heartbeat.
pub const HEARTBEAT_INTERVAL_SECS: u32 = 10;
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

/// A worker registration, validated by the Worker.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// A heartbeat's contents.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerBeat {
    /// Jobs it is running now.
    pub current_jobs: u32,
    /// `healthy`, `degraded`, `draining` or `offline`.
    pub status: String,
    /// New metadata, as text.
    pub metadata: Option<String>,
}

const COLUMNS: &str = "id, queue_name, hostname, status, current_jobs, max_concurrency, last_heartbeat, \
    worker_type, metadata, version, registered_at, updated_at";

/// A worker as the API shows it; the list leaves `metadata` out (up to 16 KiB per worker).
#[derive(Serialize)]
struct WorkerView<'r> {
    id: &'r str,
    queue_name: &'r str,
    queue_names: [&'r str; 1],
    hostname: &'r str,
    status: &'r str,
    current_jobs: i64,
    max_concurrency: i64,
    last_heartbeat: String,
    worker_type: Option<&'r str>,
    version: Option<&'r str>,
    registered_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'r RawValue>,
}

impl<'r> WorkerView<'r> {
    /// Reads a row selected with [`COLUMNS`]; `with_metadata` for the view of one worker.
    fn read(row: &'r Row, with_metadata: bool) -> Result<Self, ApiError> {
        // Stored metadata was checked to be a JSON object when it was written.
        let metadata = match with_metadata {
            true => Some(
                serde_json::from_str(row.opt_text(8)?.unwrap_or("{}"))
                    .map_err(|_| ApiError::internal("stored metadata is corrupt"))?,
            ),
            false => None,
        };
        Ok(WorkerView {
            id: row.text(0)?,
            queue_name: row.text(1)?,
            queue_names: [row.text(1)?],
            hostname: row.text(2)?,
            status: row.text(3)?,
            current_jobs: row.int(4)?,
            max_concurrency: row.int(5)?,
            last_heartbeat: format_rfc3339(row.int(6)?),
            worker_type: row.opt_text(7)?,
            version: row.opt_text(9)?,
            registered_at: format_rfc3339(row.int(10)?),
            updated_at: format_rfc3339(row.int(11)?),
            metadata,
        })
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
    pub fn register_worker(&self, w: &NewWorker, limit: u32, now: EpochMs) -> Result<String, ApiError> {
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
            return Err(ApiError {
                kind: ErrorKind::WorkerLimit,
                message: format!(
                    "this organization has {count} workers registered, its limit (WORKER_LIMIT); deregister one first"
                ),
                details: Some(json!({ "resource": "workers", "current": count, "limit": limit })),
            });
        }
        Ok(())
    }

    /// Records a heartbeat; 404 for an unknown (or forgotten) worker.
    pub fn worker_heartbeat(&self, id: &str, beat: &WorkerBeat, now: EpochMs) -> Result<Value, ApiError> {
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
        Ok(json!({ "acknowledged": true, "next_heartbeat_seconds": HEARTBEAT_INTERVAL_SECS }))
    }

    /// Removes a worker; returns the queue it worked on, so its leases can be released.
    pub fn deregister_worker(&self, id: &str) -> Result<String, ApiError> {
        let row = self.sql.query_one("DELETE FROM workers WHERE id = ?1 RETURNING queue_name", &[id.into()])?;
        Ok(row.ok_or_else(worker_not_found)?.text(0)?.to_owned())
    }

    /// One worker as JSON, or 404.
    pub fn get_worker(&self, id: &str) -> Result<String, ApiError> {
        let row = self.sql.query_one(&format!("SELECT {COLUMNS} FROM workers WHERE id = ?1"), &[id.into()])?;
        to_json(&WorkerView::read(&row.ok_or_else(worker_not_found)?, true)?)
    }

    /// One page of workers in id order (stable while heartbeats come in), without their
    /// metadata: `{"workers": […], "has_more": bool}`.
    pub fn list_workers(&self, page: &WorkerPage) -> Result<String, ApiError> {
        let scope = page.queues.as_ref().map(to_json).transpose()?;
        let rows = self.sql.query(
            &format!(
                "SELECT {COLUMNS} FROM workers WHERE ?1 IS NULL OR queue_name IN (SELECT value FROM json_each(?1)) \
                 ORDER BY id LIMIT ?2 OFFSET ?3"
            ),
            &[scope.into(), (page.limit + 1).into(), page.offset.into()],
        )?;
        #[derive(Serialize)]
        struct Page<'r> {
            workers: Vec<WorkerView<'r>>,
            has_more: bool,
        }
        let has_more = rows.len() > page.limit as usize;
        let workers =
            rows.iter().take(page.limit as usize).map(|r| WorkerView::read(r, false)).collect::<Result<_, _>>()?;
        to_json(&Page { workers, has_more })
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
